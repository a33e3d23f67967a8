//! Wiring auth to the environment resolver: the selected environment's merged
//! `Security.Auth` becomes profiles (with `{{variables}}` in values resolved from the
//! environment, `.env` and the process), and an [`AuthSession`] for a front end.

use std::path::Path;
use std::sync::Arc;

use super::profile::{ProfileIssue, parse_profiles};
use super::{AuthSession, Profile, TokenStore};
use crate::env::{ResolveContext, Resolver, Workspace};

/// Expand `{{variables}}` in an auth value with the resolver's own rules (environment,
/// `$shared`, `.env`, process and system variables, `%` indirection); an unknown or
/// looping variable is an error sentence naming it.
pub fn resolve_value(ws: &Workspace, text: &str) -> Result<String, String> {
    Resolver::expand_standalone(&ResolveContext::dry_run(ws), text)
}

/// The profiles of the workspace's selected environment.
pub fn profiles(ws: &Workspace) -> (Vec<Profile>, Vec<ProfileIssue>) {
    match &ws.env.auth {
        None => (Vec::new(), Vec::new()),
        Some(a) => parse_profiles(&a.profiles, &|s| resolve_value(ws, s)),
    }
}

/// A session over the workspace's profiles, with the chosen store.
pub fn session(
    ws: &Workspace,
    store: Arc<dyn TokenStore>,
    config_dir: &Path,
) -> (AuthSession, Vec<ProfileIssue>) {
    let (p, issues) = profiles(ws);
    (AuthSession::new(p, store, config_dir.to_path_buf()), issues)
}

/// Can this process open a browser for a sign-in? `HTTPLENS_BROWSER`, or a desktop
/// session (macOS and Windows always; elsewhere a display).
pub fn browser_available() -> bool {
    if std::env::var_os("HTTPLENS_BROWSER").is_some_and(|v| !v.is_empty()) {
        return true;
    }
    if cfg!(any(target_os = "macos", target_os = "windows")) {
        return true;
    }
    ["DISPLAY", "WAYLAND_DISPLAY"]
        .iter()
        .any(|v| std::env::var_os(v).is_some_and(|x| !x.is_empty()))
}
