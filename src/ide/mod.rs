//! Editor features without LSP: lenses, completion, hover, symbols, folding,
//! diagnostics and go-to-definition over a parsed document. Everything here speaks byte
//! ranges and plain structs; `lsp/` converts them to protocol types.

pub mod actions;
pub mod completion;
pub mod definition;
pub mod diagnostics;
pub mod folding;
pub mod hover;
pub mod lenses;
pub mod openapi;
pub mod response_doc;
pub mod symbols;

#[cfg(test)]
mod check;

use crate::auth::StoredSignIn;
use crate::openapi::Spec;
use crate::syntax::ast::{Block, BodyPart, HttpFile, Template, TokenKind, VarExpr, VarRef};
use crate::syntax::{self, Parse};
use crate::text::{LineIndex, TextRange};

/// One open document as the editor features see it: the text, its line index and its
/// tree, always consistent with each other.
#[derive(Debug, Clone)]
pub struct Analysis {
    pub text: String,
    pub index: LineIndex,
    pub parse: Parse,
}

impl Analysis {
    pub fn new(text: String) -> Self {
        let index = LineIndex::new(&text);
        let parse = syntax::parse(&text);
        Analysis { text, index, parse }
    }

    /// Parse by file name (Markdown reads only ```http fences).
    pub fn for_path(path: Option<&std::path::Path>, text: String) -> Self {
        let index = LineIndex::new(&text);
        let parse = match path {
            Some(p) => syntax::parse_path(p, &text),
            None => syntax::parse(&text),
        };
        Analysis { text, index, parse }
    }

    /// The text and its line index only (response documents): an empty tree.
    pub fn without_tree(text: String) -> Self {
        let index = LineIndex::new(&text);
        let parse = Parse {
            file: HttpFile {
                blocks: Vec::new(),
                range: TextRange::new(0, text.len()),
                definitions: Default::default(),
            },
            errors: Vec::new(),
        };
        Analysis { text, index, parse }
    }

    pub fn file(&self) -> &HttpFile {
        &self.parse.file
    }

    /// The block whose range holds `offset` (the last block for the end of the text).
    pub fn block_at(&self, offset: usize) -> Option<&Block> {
        block_at(&self.parse.file, offset)
    }

    /// The request block that holds the 0-based `line` (from its separator to its last
    /// line), if that block has a request.
    pub fn request_block_at_line(&self, line: u32) -> Option<&Block> {
        let offset = self.index.line_start(line);
        self.block_at(offset).filter(|b| b.request.is_some())
    }
}

pub(crate) fn block_at(file: &HttpFile, offset: usize) -> Option<&Block> {
    let i = file
        .blocks
        .partition_point(|b| (b.range.start as usize) <= offset);
    let b = file.blocks.get(i.checked_sub(1)?)?;
    (b.range.contains_inclusive(offset)).then_some(b)
}

/// Every template of a block (variable values, target, headers, body text, file paths,
/// assertion values, output path), in source order.
pub fn block_templates(block: &Block) -> Vec<&Template> {
    let mut out: Vec<&Template> = block.variables.iter().map(|v| &v.value).collect();
    if let Some(req) = &block.request {
        out.push(&req.target);
        out.extend(req.headers.iter().map(|h| &h.value));
        if let Some(body) = &req.body {
            for part in &body.parts {
                match part {
                    BodyPart::Text(t) => out.push(t),
                    BodyPart::File(f) => out.push(&f.path),
                }
            }
        }
        out.extend(req.assertions.iter().filter_map(|a| a.expected.as_ref()));
        if let Some(o) = &req.output {
            out.push(&o.path);
        }
    }
    out.sort_by_key(|t| t.range.start);
    out
}

/// Every `{{ }}` reference of a block, in source order.
pub fn block_var_refs(block: &Block) -> Vec<VarRef> {
    let mut refs: Vec<VarRef> = block_templates(block)
        .into_iter()
        .flat_map(|t| t.vars())
        .collect();
    refs.sort_by_key(|r| r.range.start);
    refs
}

/// The `{{ }}` reference under `offset`, if any.
pub fn var_ref_at(file: &HttpFile, offset: usize) -> Option<VarRef> {
    let block = block_at(file, offset)?;
    block_var_refs(block)
        .into_iter()
        .find(|r| r.range.contains_inclusive(offset))
}

/// The auth profiles a request block uses through `$auth.token("p")` /
/// `$auth.idToken("p")`, first use first, each once.
pub fn profiles_used(block: &Block) -> Vec<(String, TokenKind, TextRange)> {
    let mut out: Vec<(String, TokenKind, TextRange)> = Vec::new();
    // Only a template that says `$auth.` can use a profile (`{{$` and the name are
    // never apart): most blocks have none, and are answered without splitting any.
    let mut refs: Vec<VarRef> = block_templates(block)
        .into_iter()
        .filter(|t| memchr::memmem::find(t.text().as_bytes(), b"$auth.").is_some())
        .flat_map(|t| t.vars())
        .collect();
    refs.sort_by_key(|r| r.range.start);
    for r in refs {
        if let VarExpr::Auth { kind, profile } = &r.expr
            && !out.iter().any(|(p, _, _)| p == profile)
        {
            out.push((profile.to_string(), *kind, r.range));
        }
    }
    out
}

/// What the editor knows about the environments of a document's workspace, filled by
/// the front end from the resolver. Values of private variables stay out of anything
/// shown: `secret` marks them.
#[derive(Debug, Clone, Default)]
pub struct EnvView {
    pub environments: Vec<String>,
    pub selected: Option<String>,
    /// The selected environment's variables (private merged over public, `$shared`).
    pub variables: Vec<EnvVarView>,
    pub profiles: Vec<SignInView>,
    /// The OpenAPI specs of the document (`# @openapi`, the environment's `"openapi"`),
    /// those that could be read.
    pub specs: Vec<std::sync::Arc<Spec>>,
}

impl EnvView {
    pub fn variable(&self, name: &str) -> Option<&EnvVarView> {
        self.variables.iter().find(|v| v.name == name)
    }
    pub fn profile(&self, id: &str) -> SignInView {
        self.profiles
            .iter()
            .find(|p| p.id == id)
            .cloned()
            .unwrap_or_else(|| SignInView {
                id: id.to_string(),
                ..Default::default()
            })
    }
}

/// The editor's view of one variable of the selected environment (from the env files
/// or `.env`): what hover, completion and go-to-definition show of it, with where it
/// is defined (built by the front end from `env::EnvFileVar` and `.env`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnvVarView {
    pub name: String,
    pub value: String,
    /// From the private env file (or otherwise secret): shown masked.
    pub secret: bool,
    /// Where it is defined, for hover and go-to-definition.
    pub location: Option<SourceLocation>,
    /// Human words for the origin, e.g. `environment "dev" (http-client.env.json)`.
    pub origin: String,
}

/// A place in another file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceLocation {
    pub path: std::path::PathBuf,
    pub range: TextRange,
}

/// What the editor knows about an auth profile's sign-in, as shown in lenses and hovers:
/// the token store's `auth::StoredSignIn` plus what only the server knows (a sign-in
/// waiting for the browser, a store that cannot be read). Never a token.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SignInView {
    pub id: String,
    pub grant: Option<String>,
    pub signed_in: bool,
    pub account: Option<String>,
    pub scopes: Vec<String>,
    /// Unix seconds.
    pub expires_at: Option<i64>,
    /// `Some(true)` when the ID token's signature and claims were checked,
    /// `Some(false)` when they could not be (`id_token_note` says why), `None` without an
    /// ID token.
    pub id_token_verified: Option<bool>,
    pub id_token_note: Option<String>,
    /// A refresh token is kept: an expired access token is refreshed at the next send.
    pub refreshable: bool,
    /// A sign-in of this server is waiting for the browser (or a pasted redirect).
    pub signing_in: bool,
    /// Why the sign-in state could not be read (the token store is unavailable), one
    /// sentence without a final period.
    pub unavailable: Option<String>,
}

impl SignInView {
    /// A profile's sign-in as the token store has it (`AuthSession::status`): what the
    /// server's `httplens/state` and the CLI's `status` both start from.
    pub fn from_stored(s: &StoredSignIn) -> SignInView {
        SignInView {
            id: s.profile.clone(),
            grant: Some(s.grant.as_str().to_string()),
            signed_in: s.signed_in,
            account: s.account.clone(),
            scopes: s.scopes.clone(),
            expires_at: s.expires_at,
            id_token_verified: s.id_token.as_ref().map(|t| t.is_verified()),
            id_token_note: s.id_token.as_ref().map(|t| t.describe()),
            refreshable: s.refreshable,
            ..Default::default()
        }
    }

    /// The sign-in state in words, without the profile's id: what every editor shows
    /// (`httplens/state`'s `summary`), so no client words or times it itself:
    /// `signed in as jane@example.com, 52 min left`, `signed in as jane@example.com,
    /// expired (refreshed at the next request)`, `signing in`,
    /// `not signed in`, `state unknown: no keychain is available (...)`.
    pub fn status(&self, now_unix: i64) -> String {
        if self.signing_in {
            return "signing in".to_string();
        }
        if let Some(why) = &self.unavailable {
            return format!("state unknown: {why}");
        }
        if !self.signed_in {
            return "not signed in".to_string();
        }
        let mut s = "signed in".to_string();
        if let Some(a) = &self.account {
            s.push_str(" as ");
            s.push_str(a);
        }
        if let Some(exp) = self.expires_at {
            s.push_str(", ");
            s.push_str(&remaining(exp - now_unix));
            if exp <= now_unix && self.refreshable {
                s.push_str(" (refreshed at the next request)");
            } else if exp <= now_unix {
                s.push_str(" (sign in again)");
            }
        }
        s
    }

    /// `p: signed in as jane@example.com, 52 min left` / `p: sign in`.
    pub fn summary(&self, now_unix: i64) -> String {
        if !self.signed_in {
            return format!("{}: sign in", self.id);
        }
        let mut s = format!("{}: signed in", self.id);
        if let Some(a) = &self.account {
            s.push_str(" as ");
            s.push_str(a);
        }
        if let Some(exp) = self.expires_at {
            s.push_str(", ");
            s.push_str(&remaining(exp - now_unix));
        }
        s
    }
}

/// `52 min left`, `3 h left`, `expired`.
pub fn remaining(secs: i64) -> String {
    if secs <= 0 {
        "expired".to_string()
    } else if secs < 60 {
        format!("{secs} s left")
    } else if secs < 2 * 3600 {
        format!("{} min left", secs / 60)
    } else if secs < 2 * 86400 {
        format!("{} h left", secs / 3600)
    } else {
        format!("{} days left", secs / 86400)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remaining_reads_naturally() {
        assert_eq!(remaining(-5), "expired");
        assert_eq!(remaining(52 * 60 + 10), "52 min left");
        assert_eq!(remaining(5 * 3600), "5 h left");
        let p = SignInView {
            id: "p".into(),
            signed_in: true,
            account: Some("jane@example.com".into()),
            expires_at: Some(1000 + 52 * 60),
            ..Default::default()
        };
        assert_eq!(
            p.summary(1000),
            "p: signed in as jane@example.com, 52 min left"
        );
        let q = SignInView {
            id: "q".into(),
            ..Default::default()
        };
        assert_eq!(q.summary(0), "q: sign in");
    }

    /// The words every editor shows for a profile (`httplens/state`'s `summary`), one
    /// per state a profile can be in.
    #[test]
    fn status_words_each_sign_in_state() {
        let now = 1_000_000;
        let signed_in = SignInView {
            id: "shop".into(),
            signed_in: true,
            account: Some("jane@example.com".into()),
            expires_at: Some(now + 12 * 60 + 30),
            ..Default::default()
        };
        assert_eq!(
            signed_in.status(now),
            "signed in as jane@example.com, 12 min left"
        );
        let no_account = SignInView {
            account: None,
            expires_at: None,
            ..signed_in.clone()
        };
        assert_eq!(no_account.status(now), "signed in");
        let expired = SignInView {
            expires_at: Some(now - 5),
            ..signed_in.clone()
        };
        assert_eq!(
            expired.status(now),
            "signed in as jane@example.com, expired (sign in again)"
        );
        let refreshing = SignInView {
            refreshable: true,
            ..expired.clone()
        };
        assert_eq!(
            refreshing.status(now),
            "signed in as jane@example.com, expired (refreshed at the next request)"
        );
        // A refresh token changes nothing while the access token is still good.
        let valid_refreshable = SignInView {
            refreshable: true,
            ..signed_in.clone()
        };
        assert_eq!(valid_refreshable.status(now), signed_in.status(now));
        let not_signed_in = SignInView {
            id: "shop".into(),
            ..Default::default()
        };
        assert_eq!(not_signed_in.status(now), "not signed in");
        let waiting = SignInView {
            signing_in: true,
            ..not_signed_in.clone()
        };
        assert_eq!(waiting.status(now), "signing in");
        let no_keychain = SignInView {
            unavailable: Some("the keychain is unavailable (no Secret Service)".into()),
            ..not_signed_in.clone()
        };
        assert_eq!(
            no_keychain.status(now),
            "state unknown: the keychain is unavailable (no Secret Service)"
        );
    }
}
