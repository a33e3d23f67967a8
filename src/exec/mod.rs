//! Sending requests: the engine behind `httplens run` and "Send request": the HTTP
//! client, the response model, response documents and their history, assertions, and
//! the orchestration that sends a request together with what it depends on.

pub mod assert;
pub mod client;
pub mod engine;
pub mod history;
pub mod render;
pub mod response;
pub mod schema;

pub use client::{Client, ClientConfig, SendError, SendOptions};
pub use engine::{Engine, EngineConfig, FileInput, Observer, Outcome, Progress, Sent, Silent};
pub use response::{JsonBody, Response, ResponseBody, Timings};

use futures_util::future::BoxFuture;

use crate::secret::Secret;
use crate::syntax::ast::TokenKind;

/// Where the engine gets tokens for `$auth.token("id")` / `$auth.idToken("id")`.
/// Implemented by `auth` for the profiles of one selected environment; the engine asks
/// before the pure resolve step, and once more after a 401.
pub trait TokenSource: Send + Sync {
    /// A valid token for the profile, refreshing or signing in as the profile and the
    /// front end allow. The error is one clear sentence that never contains a secret.
    fn token<'a>(
        &'a self,
        profile: &'a str,
        kind: TokenKind,
    ) -> BoxFuture<'a, Result<Secret, String>>;

    /// The server answered 401 to a request that carried `rejected`: refresh once and
    /// return the new token (an error when no refresh is possible; never a loop).
    fn refresh_after_401<'a>(
        &'a self,
        profile: &'a str,
        kind: TokenKind,
        rejected: &'a Secret,
    ) -> BoxFuture<'a, Result<Secret, String>>;
}

/// No sign-in available: every token request fails with the given sentence.
pub struct NoTokenSource(pub String);

impl TokenSource for NoTokenSource {
    fn token<'a>(
        &'a self,
        _profile: &'a str,
        _kind: TokenKind,
    ) -> BoxFuture<'a, Result<Secret, String>> {
        Box::pin(async move { Err(self.0.clone()) })
    }
    fn refresh_after_401<'a>(
        &'a self,
        _profile: &'a str,
        _kind: TokenKind,
        _rejected: &'a Secret,
    ) -> BoxFuture<'a, Result<Secret, String>> {
        Box::pin(async move { Err(self.0.clone()) })
    }
}
