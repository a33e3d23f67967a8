//! Wiring auth to the environment resolver: the selected environment's merged
//! `Security.Auth` becomes profiles (with `{{variables}}` in values resolved from the
//! environment, `.env` and the process), and an [`AuthSession`] for a front end.

use std::path::Path;
use std::sync::Arc;

use super::profile::{ProfileIssue, parse_profiles};
use super::{AuthSession, Profile, TokenStore};
use crate::env::Workspace;

/// Expand `{{name}}`, `{{$dotenv NAME}}`, `{{$processEnv NAME}}` in an auth value.
/// Variables may refer to other variables (a few levels deep); an unknown one is an
/// error sentence naming it.
pub fn resolve_value(ws: &Workspace, text: &str) -> Result<String, String> {
    expand(ws, text, 0)
}

fn expand(ws: &Workspace, text: &str, depth: u32) -> Result<String, String> {
    if depth > 8 {
        return Err("variables refer to each other in a loop".into());
    }
    let mut out = String::new();
    let mut rest = text;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let Some(end) = after.find("}}") else {
            out.push_str(&rest[start..]);
            return Ok(out);
        };
        let inner = after[..end].trim();
        let value = lookup(ws, inner, depth)?;
        out.push_str(&value);
        rest = &after[end + 2..];
    }
    out.push_str(rest);
    Ok(out)
}

fn lookup(ws: &Workspace, inner: &str, depth: u32) -> Result<String, String> {
    let mut parts = inner.split_whitespace();
    let head = parts.next().unwrap_or("");
    match head {
        "$dotenv" => {
            let name = parts.next().unwrap_or("");
            ws.dotenv
                .vars
                .get(name)
                .cloned()
                .ok_or_else(|| format!("`{name}` is not in the .env file"))
        }
        "$processEnv" => {
            let name = parts.next().unwrap_or("");
            ws.process_var(name)
                .ok_or_else(|| format!("the process environment has no `{name}`"))
        }
        name if name.starts_with("$env.") => {
            let n = &name[5..];
            ws.process_var(n)
                .ok_or_else(|| format!("the process environment has no `{n}`"))
        }
        name => match ws.env.get(name) {
            Some(v) => expand(ws, &v.value, depth + 1),
            None if ws.env.name.is_none() && ws.environments.has_any_file() => Err(format!(
                "the variable `{name}` is not defined: select an environment"
            )),
            None => Err(format!("the variable `{name}` is not defined")),
        },
    }
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
