//! httplens's own protocol messages (documented in `docs/lsp-extensions.md`): the
//! `httplens/state` request and the `httplens/stateChanged` notification, plus the
//! command names and their arguments.

use std::borrow::Cow;

use crate::request::code::Language;
use serde::{Deserialize, Serialize};
use tower_lsp_server::ls_types::Uri;
use tower_lsp_server::ls_types::notification::Notification;

pub const SEND: &str = "httplens.send";
pub const SEND_ALL: &str = "httplens.sendAll";
pub const SIGN_IN: &str = "httplens.signIn";
pub const SIGN_OUT: &str = "httplens.signOut";
pub const COMPLETE_SIGN_IN: &str = "httplens.completeSignIn";
pub const COPY_AS_CURL: &str = "httplens.copyAsCurl";
pub const COPY_AS_CODE: &str = "httplens.copyAsCode";
pub const SELECT_ENVIRONMENT: &str = "httplens.selectEnvironment";
pub const OPEN_REQUEST: &str = "httplens.openRequest";
pub const COMPARE_WITH_PREVIOUS: &str = "httplens.compareWithPrevious";

pub const COMMANDS: &[&str] = &[
    SEND,
    SEND_ALL,
    SIGN_IN,
    SIGN_OUT,
    COMPLETE_SIGN_IN,
    COPY_AS_CURL,
    COPY_AS_CODE,
    SELECT_ENVIRONMENT,
    OPEN_REQUEST,
    COMPARE_WITH_PREVIOUS,
];

#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct StateParams {
    pub uri: Uri,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct StateResult {
    /// The server's version.
    pub version: String,
    pub environments: Vec<String>,
    pub environment: Option<String>,
    pub profiles: Vec<StateProfile>,
    pub token_store: String,
    /// The asked document is one of the server's response documents (clients offer
    /// `Open request` and `Compare with previous` for it, and open it in their response
    /// split); the rest of the answer is then its request file's.
    pub is_response: bool,
    /// The folder response documents are written to (`<cache>/responses`), for a client
    /// that must place a document the server shows before it is open.
    pub responses_dir: String,
}

/// One auth profile in the answer to `httplens/state` (the wire form of
/// [`crate::ide::SignInView`]). Never a token.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct StateProfile {
    pub id: String,
    pub grant: Option<String>,
    pub signed_in: bool,
    pub account: Option<String>,
    pub scopes: Vec<String>,
    /// Unix seconds.
    pub expires_at: Option<i64>,
    /// The sign-in state in words, without the id (`signed in as jane@example.com, 52
    /// min left`, `not signed in`, ...): what clients show, so none words it itself.
    pub summary: String,
    /// `true`: the ID token's signature and claims were checked; `false`: they could
    /// not be (`idTokenNote` says why; the sign-in still holds); absent: no ID token.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id_token_verified: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id_token_note: Option<String>,
}

pub enum StateChanged {}

#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct StateChangedParams {
    pub uri: Uri,
}

impl Notification for StateChanged {
    type Params = StateChangedParams;
    const METHOD: &'static str = "httplens/stateChanged";
}

/// `httplens/prompt`, server to client: asks the user for the value of a `# @prompt`
/// variable before a send. Sent only to a client that announced
/// `capabilities.experimental.httplensPrompt: true`; `null` means the user declined.
pub enum Prompt {}

#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct PromptParams {
    /// The variable.
    pub name: String,
    /// The words after the name in `# @prompt name words` (may be empty).
    pub description: String,
    /// Ask without showing what is typed (a password, secret or token).
    pub secret: bool,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct PromptAnswer {
    pub value: String,
}

impl tower_lsp_server::ls_types::request::Request for Prompt {
    type Params = PromptParams;
    type Result = Option<PromptAnswer>;
    const METHOD: &'static str = "httplens/prompt";
}

/// The experimental client capability that says a client answers [`Prompt`].
pub const PROMPT_CAPABILITY: &str = "httplensPrompt";

// The commands' arguments: one struct per command, used to write them (lenses, tests,
// the shapes in `docs/lsp-extensions.md`, which a test checks against these) and to read
// them (`commands.rs`). A command that acts on a document's text carries the document
// `version` it was made for (lenses always write it); a command made for an older
// version is refused, one without a version (a generic client sending only `{uri, line}`,
// as `docs/lsp-extensions.md` allows) acts on the document as it is. URIs are `Cow`s so that lenses write
// them without a copy per lens.

fn is_false(b: &bool) -> bool {
    !*b
}

/// `httplens.send`: `{uri, line, version?}`; `line` is 0-based, any line of the request's
/// block.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct SendArgs<'a> {
    pub uri: Cow<'a, Uri>,
    pub line: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<i32>,
}

/// `httplens.sendAll`: `{uri, version?}`.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct SendAllArgs<'a> {
    pub uri: Cow<'a, Uri>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<i32>,
}

/// `httplens.signIn` and `httplens.signOut`: `{profile, uri}`, the request file whose
/// environment defines the profile.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct ProfileArgs<'a> {
    pub profile: Cow<'a, str>,
    pub uri: Cow<'a, Uri>,
}

/// `httplens.signIn`.
pub type SignInArgs<'a> = ProfileArgs<'a>;
/// `httplens.signOut`.
pub type SignOutArgs<'a> = ProfileArgs<'a>;

/// `httplens.completeSignIn`: `{profile, redirectUrl}`.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CompleteSignInArgs {
    pub profile: String,
    pub redirect_url: String,
}

/// `httplens.copyAsCurl`: `{uri, line, version?, reveal?}`.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct CopyAsCurlArgs<'a> {
    pub uri: Cow<'a, Uri>,
    pub line: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<i32>,
    /// Secrets as they are instead of `***`.
    #[serde(default, skip_serializing_if = "is_false")]
    pub reveal: bool,
}

/// `httplens.copyAsCode`: `{uri, line, language, version?, reveal?}`; `language` is
/// `curl`, `python` (requests) or `javascript` (fetch).
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct CopyAsCodeArgs<'a> {
    pub uri: Cow<'a, Uri>,
    pub line: u32,
    pub language: Language,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<i32>,
    #[serde(default, skip_serializing_if = "is_false")]
    pub reveal: bool,
}

/// `httplens.selectEnvironment`: `{uri, name?}`; without `name` the server asks. It acts
/// on the document's workspace, not its text: no version.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct SelectEnvironmentArgs<'a> {
    pub uri: Cow<'a, Uri>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

/// `httplens.openRequest` and `httplens.compareWithPrevious`: `{responseUri}`.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ResponseArgs<'a> {
    pub response_uri: Cow<'a, Uri>,
}

/// `httplens.openRequest`.
pub type OpenRequestArgs<'a> = ResponseArgs<'a>;
/// `httplens.compareWithPrevious`.
pub type CompareWithPreviousArgs<'a> = ResponseArgs<'a>;

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SendResult {
    /// The request: its `# @name` (or `###` title) and 1-based line, e.g. `login (line 3)`,
    /// or `line 9`; what clients list in their Send All pickers.
    pub label: String,
    pub status: Option<u16>,
    pub elapsed_ms: u64,
    pub response_uri: Option<Uri>,
    /// `sendAll` only: why this request got no response (one sentence).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::de::DeserializeOwned;
    use serde_json::Value;

    /// The members of a command's argument as its struct writes them (every optional one
    /// given), each with whether the struct reads the argument without it.
    fn members<T: Serialize + DeserializeOwned>(full: T) -> Vec<(String, bool)> {
        let Value::Object(full) = serde_json::to_value(full).unwrap() else {
            panic!("an argument is a JSON object");
        };
        full.keys()
            .map(|k| {
                let mut without = full.clone();
                without.remove(k);
                let optional = serde_json::from_value::<T>(Value::Object(without)).is_ok();
                (k.clone(), optional)
            })
            .collect()
    }

    /// Every command's struct, written in full.
    fn shapes() -> Vec<(&'static str, Vec<(String, bool)>)> {
        let uri = || Cow::Owned("file:///w/api.http".parse::<Uri>().unwrap());
        let profile = || ProfileArgs {
            profile: "p".into(),
            uri: uri(),
        };
        let response = || ResponseArgs {
            response_uri: uri(),
        };
        vec![
            (
                SEND,
                members(SendArgs {
                    uri: uri(),
                    line: 1,
                    version: Some(2),
                }),
            ),
            (
                SEND_ALL,
                members(SendAllArgs {
                    uri: uri(),
                    version: Some(2),
                }),
            ),
            (SIGN_IN, members::<SignInArgs<'_>>(profile())),
            (SIGN_OUT, members::<SignOutArgs<'_>>(profile())),
            (
                COMPLETE_SIGN_IN,
                members(CompleteSignInArgs {
                    profile: "p".into(),
                    redirect_url: "http://127.0.0.1:1/cb?code=c".into(),
                }),
            ),
            (
                COPY_AS_CURL,
                members(CopyAsCurlArgs {
                    uri: uri(),
                    line: 1,
                    version: Some(2),
                    reveal: true,
                }),
            ),
            (
                COPY_AS_CODE,
                members(CopyAsCodeArgs {
                    uri: uri(),
                    line: 1,
                    language: Language::Python,
                    version: Some(2),
                    reveal: true,
                }),
            ),
            (
                SELECT_ENVIRONMENT,
                members(SelectEnvironmentArgs {
                    uri: uri(),
                    name: Some("dev".into()),
                }),
            ),
            (OPEN_REQUEST, members::<OpenRequestArgs<'_>>(response())),
            (
                COMPARE_WITH_PREVIOUS,
                members::<CompareWithPreviousArgs<'_>>(response()),
            ),
        ]
    }

    /// The command table of `docs/lsp-extensions.md` lists exactly the commands the
    /// server knows, each argument with the members its struct here reads and writes
    /// (`name?`: optional), and the custom methods it documents are the ones defined here.
    #[test]
    fn the_documented_commands_and_methods_are_the_ones_defined() {
        let doc = include_str!("../../docs/lsp-extensions.md");
        // `| `httplens.send` | `{uri, line, version?}` ... |`
        let mut documented: Vec<(&str, Vec<(String, bool)>)> = doc
            .lines()
            .filter_map(|l| l.strip_prefix("| `httplens."))
            .map(|rest| {
                let (name, rest) = rest.split_once('`').unwrap();
                let shape = rest.split('`').nth(1).unwrap_or_default();
                let inner = shape.strip_prefix('{').and_then(|s| s.strip_suffix('}'));
                let inner = inner.unwrap_or_else(|| panic!("{name}: no `{{...}}` argument"));
                let mut members: Vec<(String, bool)> = inner
                    .split(',')
                    .map(|m| m.trim())
                    .map(|m| match m.strip_suffix('?') {
                        Some(m) => (m.to_string(), true),
                        None => (m.to_string(), false),
                    })
                    .collect();
                members.sort();
                (name, members)
            })
            .collect();
        documented.sort();
        let mut known: Vec<(&str, Vec<(String, bool)>)> = shapes()
            .into_iter()
            .map(|(c, mut m)| {
                m.sort();
                (c.strip_prefix("httplens.").unwrap(), m)
            })
            .collect();
        known.sort();
        assert_eq!(documented, known, "docs/lsp-extensions.md vs ext.rs");
        let mut commands: Vec<&str> = COMMANDS.to_vec();
        commands.sort_unstable();
        let mut shaped: Vec<&str> = shapes().into_iter().map(|(c, _)| c).collect();
        shaped.sort_unstable();
        assert_eq!(commands, shaped, "a command without its argument struct");
        for method in [
            <StateChanged as tower_lsp_server::ls_types::notification::Notification>::METHOD,
            <Prompt as tower_lsp_server::ls_types::request::Request>::METHOD,
            "httplens/state",
        ] {
            assert!(
                doc.contains(&format!("`{method}`")),
                "{method} is not documented"
            );
        }
    }
}
