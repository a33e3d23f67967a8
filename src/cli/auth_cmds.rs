//! `httplens login`, `logout`, `status`: sign in to an auth profile, forget it, list
//! profiles. They use the same store as the editor, so signing in once works everywhere.
//! Tokens are never printed.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use crate::auth::profile::IssueSeverity;
use crate::auth::{self, AuthSession, ProfileIssue, SignInObserver};
use crate::env::Workspace;
use crate::ide::{self, SignInView};

use super::{EXIT_USAGE, Format, LoginArgs, LogoutArgs, StatusArgs, error_line};

fn out(text: &str) {
    let mut o = std::io::stdout().lock();
    let _ = o.write_all(text.as_bytes());
    let _ = o.flush();
}

/// The file whose folder locates the env files: `--file`, else a name in the current
/// folder (the env lookup starts at its folder).
fn anchor(file: Option<&Path>) -> Result<PathBuf, String> {
    match file {
        Some(f) if !f.exists() => Err(format!("{}: no such file", f.display())),
        Some(f) => Ok(f.to_path_buf()),
        None => Ok(std::env::current_dir()
            .map_err(|e| format!("the current folder cannot be read: {e}"))?
            .join("requests.http")),
    }
}

/// Load the workspace and a session; `Err(exit code)` after printing why.
fn load(
    file: Option<&Path>,
    env: Option<&str>,
) -> Result<(AuthSession, Vec<ProfileIssue>, Workspace), u8> {
    let anchor = anchor(file).map_err(|m| {
        error_line(m);
        EXIT_USAGE
    })?;
    let ws = Workspace::load(&anchor, &[], env).map_err(|e| {
        error_line(e);
        EXIT_USAGE
    })?;
    let config = auth::fsutil::config_dir();
    let store = auth::open_store(None, &config).map_err(|m| {
        error_line(m);
        EXIT_USAGE
    })?;
    let (s, issues) = auth::env_profiles::session(&ws, store, &config);
    Ok((s, issues, ws))
}

/// The profile must exist and have no errors; print its issues otherwise.
fn check_profile(
    s: &AuthSession,
    issues: &[ProfileIssue],
    id: &str,
    ws: &Workspace,
) -> Result<(), u8> {
    let mine: Vec<&ProfileIssue> = issues.iter().filter(|i| i.profile == id).collect();
    for i in &mine {
        if i.severity == IssueSeverity::Warning {
            error_line(format!("warning: {}", i.message));
        }
    }
    if s.profile(id).is_ok() {
        return Ok(());
    }
    let errors: Vec<&&ProfileIssue> = mine
        .iter()
        .filter(|i| i.severity == IssueSeverity::Error)
        .collect();
    if errors.is_empty() {
        let env = ws
            .env
            .name
            .as_deref()
            .map(|n| format!("environment `{n}`"))
            .unwrap_or_else(|| "no environment selected (use --env)".into());
        let known: Vec<String> = s.profiles().iter().map(|p| p.id.clone()).collect();
        let known = if known.is_empty() {
            String::new()
        } else {
            format!("; known: {}", known.join(", "))
        };
        error_line(format!("there is no auth profile `{id}` ({env}){known}"));
    } else {
        for e in errors {
            error_line(&e.message);
        }
    }
    Err(EXIT_USAGE)
}

/// Tells the user where to go; with `--no-browser`, hands the URL to the paste loop.
struct CliObserver {
    no_browser: bool,
    url_tx: std::sync::Mutex<Option<tokio::sync::oneshot::Sender<()>>>,
}

impl SignInObserver for CliObserver {
    fn authorize_url(&self, profile: &str, url: &str, browser_error: Option<&str>) {
        let mut e = std::io::stderr().lock();
        if self.no_browser {
            let _ = writeln!(
                e,
                "Open this URL in a browser to sign in to `{profile}`:\n\n  {url}\n\nthen paste the address the browser was redirected to (it starts with the Redirect URL) and press Enter:"
            );
        } else {
            if let Some(err) = browser_error {
                let _ = writeln!(e, "httplens: {err}");
            }
            let _ = writeln!(
                e,
                "Waiting for the browser to finish signing in to `{profile}` (Ctrl-C cancels). If no browser opened, visit:\n\n  {url}\n"
            );
        }
        if let Some(tx) = self.url_tx.lock().ok().and_then(|mut t| t.take()) {
            let _ = tx.send(());
        }
    }
    fn device_code(&self, profile: &str, verification_uri: &str, user_code: &str) {
        let _ = writeln!(
            std::io::stderr(),
            "To sign in to `{profile}`, visit {verification_uri} and enter the code {user_code}"
        );
    }
    fn notice(&self, message: &str) {
        error_line(message);
    }
}

/// `, 52 min left` after a sign-in: the time words of the editor's state
/// ([`ide::remaining`]).
fn time_left(expires_at: Option<i64>, now_unix: i64) -> String {
    expires_at
        .map(|at| format!(", {}", ide::remaining(at - now_unix)))
        .unwrap_or_default()
}

/// One line of `status`: the profile (and environment), then the state in the words
/// the server gives every editor (`httplens/state`'s `summary`,
/// [`SignInView::status`]), then what only the CLI adds: the scopes and
/// the ID token's check when signed in, the grant when not.
fn status_line(env: Option<&str>, st: &auth::StoredSignIn, now_unix: i64) -> String {
    let env = env.map(|e| format!(" [{e}]")).unwrap_or_default();
    let words = SignInView::from_stored(st).status(now_unix);
    let extra = if st.signed_in {
        let scopes = if st.scopes.is_empty() {
            String::new()
        } else {
            format!(", scopes: {}", st.scopes.join(" "))
        };
        let id = st
            .id_token
            .as_ref()
            .map(|s| format!("; {}", s.describe()))
            .unwrap_or_default();
        format!("{scopes}{id}")
    } else {
        format!(" ({})", st.grant.as_str())
    };
    format!("{}{env}: {words}{extra}\n", st.profile)
}

pub fn login(args: LoginArgs) -> u8 {
    let (session, issues, ws) = match load(args.file.as_deref(), args.env.as_deref()) {
        Ok(x) => x,
        Err(c) => return c,
    };
    if let Err(c) = check_profile(&session, &issues, &args.profile, &ws) {
        return c;
    }
    let Some(rt) = super::runtime() else { return 1 };
    let (url_tx, url_rx) = tokio::sync::oneshot::channel();
    let observer = Arc::new(CliObserver {
        no_browser: args.no_browser,
        url_tx: std::sync::Mutex::new(Some(url_tx)),
    });
    let session = Arc::new(
        session
            .interactive(true)
            .open_browser(!args.no_browser)
            .timeout(Duration::from_secs(args.timeout.max(1)))
            .observer(observer),
    );
    let profile = args.profile.clone();
    let result = rt.block_on(async {
        let s2 = session.clone();
        let p2 = profile.clone();
        let mut sign_in = tokio::spawn(async move { s2.sign_in(&p2).await });
        if args.no_browser {
            let s3 = session.clone();
            let p3 = profile.clone();
            tokio::spawn(async move {
                if url_rx.await.is_err() {
                    return;
                }
                // Read pasted lines until one completes the sign-in.
                loop {
                    let line = super::read_stdin_line().await;
                    let Some(line) = line else {
                        error_line("no redirect URL on stdin; sign-in cancelled");
                        s3.cancel_sign_in(&p3);
                        return;
                    };
                    if line.trim().is_empty() {
                        continue;
                    }
                    match s3.complete_sign_in(&p3, line.trim()) {
                        Ok(()) => return,
                        Err(e) => error_line(format!("{e}; paste the whole redirected URL")),
                    }
                }
            });
        }
        tokio::select! {
            r = &mut sign_in => r.unwrap_or(Err(auth::AuthError::Cancelled)),
            _ = tokio::signal::ctrl_c() => {
                session.cancel_sign_in(&profile);
                match tokio::time::timeout(Duration::from_secs(5), sign_in).await {
                    Ok(Ok(r)) => r,
                    _ => Err(auth::AuthError::Cancelled),
                }
            }
        }
    });
    match result {
        Ok(t) => {
            let who = t
                .account
                .as_deref()
                .map(|a| format!(" as {a}"))
                .unwrap_or_default();
            out(&format!(
                "Signed in to `{}`{who}{} (tokens kept in the {} store).\n",
                args.profile,
                time_left(t.expires_at, chrono::Utc::now().timestamp()),
                session.store_kind().as_str()
            ));
            0
        }
        Err(e) => {
            error_line(e);
            1
        }
    }
}

pub fn logout(args: LogoutArgs) -> u8 {
    let (session, issues, ws) = match load(args.file.as_deref(), args.env.as_deref()) {
        Ok(x) => x,
        Err(c) => return c,
    };
    if let Err(c) = check_profile(&session, &issues, &args.profile, &ws) {
        return c;
    }
    let Some(rt) = super::runtime() else { return 1 };
    match rt.block_on(session.sign_out(&args.profile)) {
        Ok(r) if !r.had_entry => {
            out(&format!("`{}` was not signed in.\n", args.profile));
            0
        }
        Ok(r) => match r.revoked {
            Some(Err(e)) => {
                error_line(format!(
                    "the tokens of `{}` were deleted here, but revoking them at the provider failed: {e}",
                    args.profile
                ));
                1
            }
            Some(Ok(())) => {
                out(&format!(
                    "Signed out of `{}` (tokens deleted and revoked).\n",
                    args.profile
                ));
                0
            }
            None => {
                out(&format!(
                    "Signed out of `{}` (tokens deleted; the provider has no revocation endpoint).\n",
                    args.profile
                ));
                0
            }
        },
        Err(e) => {
            error_line(e);
            1
        }
    }
}

pub fn status(args: StatusArgs) -> u8 {
    let anchor = match anchor(args.file.as_deref()) {
        Ok(a) => a,
        Err(m) => {
            error_line(m);
            return EXIT_USAGE;
        }
    };
    let mut ws = match Workspace::load(&anchor, &[], args.env.as_deref()) {
        Ok(ws) => ws,
        Err(e) => {
            error_line(e);
            return EXIT_USAGE;
        }
    };
    let envs: Vec<Option<String>> = match &args.env {
        Some(e) => vec![Some(e.clone())],
        None => {
            let names = ws.environments.names();
            if names.is_empty() {
                vec![None]
            } else {
                names.into_iter().map(Some).collect()
            }
        }
    };
    let config = auth::fsutil::config_dir();
    let store = match auth::open_store(None, &config) {
        Ok(s) => s,
        Err(m) => {
            error_line(m);
            return EXIT_USAGE;
        }
    };
    let Some(rt) = super::runtime() else { return 1 };
    let mut rows = Vec::new();
    let mut failed = false;
    for env in envs {
        if ws.select(env.as_deref()).is_err() {
            continue;
        }
        let (session, issues) = auth::env_profiles::session(&ws, store.clone(), &config);
        for i in issues.iter().filter(|i| i.severity == IssueSeverity::Error) {
            error_line(format!(
                "{}{}",
                env.as_deref()
                    .map(|e| format!("[{e}] "))
                    .unwrap_or_default(),
                i.message
            ));
        }
        for p in session.profiles() {
            match rt.block_on(session.status(&p.id)) {
                Ok(st) => rows.push((env.clone(), st)),
                Err(e) => {
                    error_line(format!("`{}`: {e}", p.id));
                    failed = true;
                }
            }
        }
    }
    match args.format {
        Format::Json => {
            let now = chrono::Utc::now().timestamp();
            let arr: Vec<serde_json::Value> = rows
                .iter()
                .map(|(env, st)| {
                    serde_json::json!({
                        "profile": st.profile,
                        "env": env,
                        "signedIn": st.signed_in,
                        "account": st.account,
                        "scopes": st.scopes,
                        "expiresAt": st.expires_at,
                        "idToken": st.id_token,
                        "summary": SignInView::from_stored(st).status(now),
                    })
                })
                .collect();
            out(&format!(
                "{}\n",
                serde_json::to_string_pretty(&serde_json::Value::Array(arr)).unwrap_or_default()
            ));
        }
        Format::Text => {
            if rows.is_empty() {
                out(
                    "No auth profiles (add `Security.Auth` to an environment in http-client.env.json).\n",
                );
            }
            let now = chrono::Utc::now().timestamp();
            let text: String = rows
                .iter()
                .map(|(env, st)| status_line(env.as_deref(), st, now))
                .collect();
            out(&text);
        }
    }
    if failed { 1 } else { 0 }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::idtoken::IdTokenStatus;
    use crate::auth::{Grant, StoredSignIn};

    const NOW: i64 = 1_000_000;

    fn signed_in(expires_in: i64, refreshable: bool) -> StoredSignIn {
        StoredSignIn {
            profile: "shop".into(),
            grant: Grant::AuthorizationCode,
            signed_in: true,
            account: Some("jane@example.com".into()),
            scopes: vec!["openid".into(), "orders.read".into()],
            expires_at: Some(NOW + expires_in),
            id_token: Some(IdTokenStatus::Verified {
                alg: "RS256".into(),
            }),
            refreshable,
        }
    }

    /// The CLI words a profile's state as the server words it for every editor
    /// (`httplens/state`'s `summary`): one function, so the two cannot drift. The
    /// cases are where the CLI's own wording differed (90 s, days, an expired token
    /// that a refresh token will renew or that needs a new sign-in).
    #[test]
    fn status_words_are_the_servers() {
        let cases = [
            (
                signed_in(52 * 60 + 10, false),
                "signed in as jane@example.com, 52 min left",
            ),
            (
                signed_in(90, false),
                "signed in as jane@example.com, 1 min left",
            ),
            (
                signed_in(3 * 86_400 + 60, false),
                "signed in as jane@example.com, 3 days left",
            ),
            (
                signed_in(-5, true),
                "signed in as jane@example.com, expired (refreshed at the next request)",
            ),
            (
                signed_in(-5, false),
                "signed in as jane@example.com, expired (sign in again)",
            ),
        ];
        for (st, words) in cases {
            // The server's summary, from the same store answer.
            assert_eq!(SignInView::from_stored(&st).status(NOW), words);
            assert_eq!(
                status_line(Some("dev"), &st, NOW),
                format!(
                    "shop [dev]: {words}, scopes: openid orders.read; ID token verified (RS256)\n"
                )
            );
        }
        let not = StoredSignIn {
            profile: "shop".into(),
            grant: Grant::ClientCredentials,
            signed_in: false,
            account: None,
            scopes: vec![],
            expires_at: None,
            id_token: None,
            refreshable: false,
        };
        assert_eq!(SignInView::from_stored(&not).status(NOW), "not signed in");
        assert_eq!(
            status_line(None, &not, NOW),
            "shop: not signed in (Client Credentials)\n"
        );
        assert_eq!(time_left(Some(NOW + 52 * 60), NOW), ", 52 min left");
        assert_eq!(time_left(None, NOW), "");
    }
}
