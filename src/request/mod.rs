//! From a parsed block plus variables to a [`RequestSpec`] (a pure step), and the curl
//! rendering of a spec.
//!
//! # The API the engine, the language server and auth use
//!
//! Resolving is two-phase, so that the pure step never waits on the network:
//!
//! 1. **Collect.** Load the surroundings once with
//!    [`Workspace::load`](crate::env::Workspace::load) (workspace root, env files, the
//!    selected environment, `.env`; env-file problems are in `workspace.diagnostics`,
//!    each naming its own file). Then ask what a block needs:
//!    - [`dependencies`]: the `# @name`s it reads responses from (transitively, in send
//!      order); the engine sends those first and records them as
//!      [`RecordedExchange`](crate::env::RecordedExchange)s (an
//!      [`ExchangeLookup`](crate::env::ExchangeLookup), e.g. a
//!      `HashMap<String, RecordedExchange>`).
//!    - [`auth_profiles`]: the `(profile, TokenKind)` pairs it uses through
//!      `$auth.token("id")` / `$auth.idToken("id")`; the engine obtains the tokens
//!      (signing in if needed) and hands them over as a
//!      [`TokenLookup`](crate::env::TokenLookup) (e.g. a
//!      `HashMap<(String, TokenKind), Secret>`). The profiles' configuration is
//!      `workspace.env.auth` ([`AuthConfig`](crate::env::AuthConfig): the merged
//!      `Security.Auth` object, its source files and the private values as secrets).
//!    - [`prompts`]: `@prompt` variables not answered by the overrides.
//! 2. **Build.** [`build`]`(file, text, block, &ctx)` with a
//!    [`ResolveContext`](crate::env::ResolveContext) (workspace, `--var` overrides,
//!    exchanges, tokens, `dry_run`) gives `(Option<RequestSpec>, Vec<Diagnostic>)`.
//!    With `dry_run: false`, do not send when a diagnostic is an error. A dry run
//!    ([`ResolveContext::dry_run`](crate::env::ResolveContext::dry_run)) leaves missing
//!    responses, tokens and prompt answers as written without diagnostics: that is
//!    what `httplens show` and editor previews use.
//!
//! Helpers: [`find_request`] (block by `# @name`), [`block_at_line`] (block by 0-based
//! line), [`curl::to_curl`] and [`code::to_code`] (copy as curl, Python `requests` or
//! JavaScript `fetch`, masked unless `reveal`),
//! [`mask_header_value`] / [`is_secret_header`] (which headers are credentials and how
//! they are masked, as `docs/cli.md` says for `show`), and
//! `RequestSpec::secrets` (every secret that went into the request, for masking
//! responses and history).

pub mod build;
pub mod code;
pub mod curl;
pub mod spec;

pub use build::{
    Prompt, absolute_url, auth_profiles, block_at_line, build, dependencies, find_request,
    is_secret_header, mask_header_value, prompts, prompts_to_ask,
};
pub use spec::*;
