//! What the resolver reads from outside the text: earlier exchanges (request
//! variables) and tokens (`$auth.token`). The engine fills them in before the pure
//! resolve step; defined here, below `request` and `exec`, so that the resolver never
//! reaches up the stack for them.

use std::collections::{BTreeMap, HashMap};

use crate::secret::Secret;
use crate::syntax::ast::TokenKind;

/// A request that was sent and its response, as request variables
/// (`{{login.response.body.$.token}}`) read them. Recorded by the engine (`exec`), read by
/// the resolver through [`ExchangeLookup`].
#[derive(Debug, Clone, Default)]
pub struct RecordedExchange {
    pub request_headers: Vec<(String, String)>,
    /// The request body as text (lossy UTF-8), if any.
    pub request_body: Option<String>,
    pub status: u16,
    pub response_headers: Vec<(String, String)>,
    /// The response body as text (lossy UTF-8; bounded in size by `exec`).
    pub response_body: String,
}

/// Where the resolver finds earlier exchanges by `# @name`.
pub trait ExchangeLookup {
    fn exchange(&self, request_name: &str) -> Option<&RecordedExchange>;
}

impl ExchangeLookup for HashMap<String, RecordedExchange> {
    fn exchange(&self, request_name: &str) -> Option<&RecordedExchange> {
        self.get(request_name)
    }
}

/// Where the resolver finds tokens for `$auth.token("id")` / `$auth.idToken("id")`.
/// The engine obtains them (signing in if needed) *before* the pure resolve step and
/// hands them over through this trait; `None` means "not available" (a dry run shows
/// the reference masked, a send reports that the profile is not signed in).
pub trait TokenLookup {
    fn token(&self, profile: &str, kind: TokenKind) -> Option<Secret>;
}

/// No tokens at all (dry runs).
pub struct NoTokens;

impl TokenLookup for NoTokens {
    fn token(&self, _profile: &str, _kind: TokenKind) -> Option<Secret> {
        None
    }
}

impl TokenLookup for HashMap<(String, TokenKind), Secret> {
    fn token(&self, profile: &str, kind: TokenKind) -> Option<Secret> {
        self.get(&(profile.to_string(), kind)).cloned()
    }
}

/// Variables set by JetBrains scripts: `client.global` (for the session: an editor
/// session, one `run`) and `request.variables` (set by a pre-request script for the
/// request about to be sent). Values are used as they are, not expanded.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ScriptVars {
    pub global: BTreeMap<String, String>,
    pub request: BTreeMap<String, String>,
}

static NO_SCRIPT_VARS: ScriptVars = ScriptVars::new();

impl ScriptVars {
    pub const fn new() -> ScriptVars {
        ScriptVars {
            global: BTreeMap::new(),
            request: BTreeMap::new(),
        }
    }
    /// No script has set anything.
    pub fn none() -> &'static ScriptVars {
        &NO_SCRIPT_VARS
    }
}
