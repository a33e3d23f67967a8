//! httplens's own protocol messages (documented in `docs/lsp-extensions.md`): the
//! `httplens/state` request and the `httplens/stateChanged` notification, plus the
//! command names and their arguments.

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
    pub profiles: Vec<ProfileInfo>,
    pub token_store: String,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct ProfileInfo {
    pub id: String,
    pub grant: Option<String>,
    pub signed_in: bool,
    pub account: Option<String>,
    pub scopes: Vec<String>,
    /// Unix seconds.
    pub expires_at: Option<i64>,
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

/// `{uri, line}` of `httplens.send` and `httplens.copyAsCurl`.
#[derive(Debug, Clone, Deserialize)]
pub struct UriLine {
    pub uri: Uri,
    pub line: u32,
    #[serde(default)]
    pub reveal: bool,
}

/// `{uri, line, language, reveal?}` of `httplens.copyAsCode`; `language` is `curl`,
/// `python` (requests) or `javascript` (fetch).
#[derive(Debug, Clone, Deserialize)]
pub struct CopyAsCodeArgs {
    pub uri: Uri,
    pub line: u32,
    pub language: crate::request::code::Language,
    #[serde(default)]
    pub reveal: bool,
}

#[derive(Debug, Clone, Deserialize)]
pub struct UriOnly {
    pub uri: Uri,
}

#[derive(Debug, Clone, Deserialize)]
pub struct ProfileArgs {
    pub profile: String,
    pub uri: Option<Uri>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CompleteSignInArgs {
    pub profile: String,
    pub redirect_url: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct SelectEnvironmentArgs {
    pub uri: Uri,
    pub name: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ResponseArgs {
    pub response_uri: Uri,
}

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
    /// The command table of `docs/lsp-extensions.md` lists exactly the commands the
    /// server knows, and the custom methods it documents are the ones defined here.
    #[test]
    fn the_documented_commands_and_methods_are_the_ones_defined() {
        let doc = include_str!("../../docs/lsp-extensions.md");
        let mut documented: Vec<&str> = doc
            .lines()
            .filter_map(|l| l.strip_prefix("| `httplens."))
            .filter_map(|rest| rest.split('`').next())
            .collect();
        documented.sort_unstable();
        let mut known: Vec<&str> = super::COMMANDS
            .iter()
            .map(|c| c.strip_prefix("httplens.").unwrap())
            .collect();
        known.sort_unstable();
        assert_eq!(documented, known, "docs/lsp-extensions.md vs ext::COMMANDS");
        for method in [
            <super::StateChanged as tower_lsp_server::ls_types::notification::Notification>::METHOD,
            <super::Prompt as tower_lsp_server::ls_types::request::Request>::METHOD,
            "httplens/state",
        ] {
            assert!(
                doc.contains(&format!("`{method}`")),
                "{method} is not documented"
            );
        }
    }
}
