//! `httplens demo [--dir D] [--no-browser]`: start the local provider and API, write a
//! ready workspace, sign in (the browser; or, with no browser, as the demo user by
//! walking the same redirects; or with `--no-browser`, from a pasted URL), send the
//! workspace's requests through the same engine as `httplens run`, print the
//! responses, and keep serving until Ctrl-C so an editor can use the same folder.
//! `HTTPLENS_DEMO_EXIT_AFTER_SEND=1` stops right after sending (tests, scripts).

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::{DemoArgs, EXIT_USAGE, error_line};
use crate::auth::{self, AuthError, AuthSession, SignInObserver, StoreKind, TokenStore};
use crate::demo::{self, scaffold as dws};
use crate::env::Workspace;
use crate::exec::{Engine, EngineConfig, FileInput, Outcome, Silent, TokenSource};
use crate::syntax;

/// The switch that makes the demo stop after its requests instead of serving.
pub const EXIT_AFTER_SEND_ENV: &str = "HTTPLENS_DEMO_EXIT_AFTER_SEND";

fn out(text: &str) {
    let mut o = std::io::stdout().lock();
    let _ = o.write_all(text.as_bytes());
    let _ = o.flush();
}

pub fn run(args: DemoArgs) -> u8 {
    let Some(rt) = super::runtime() else {
        return 1;
    };
    rt.block_on(run_async(args))
}

/// How the sign-in reaches the provider's login page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// `HTTPLENS_BROWSER` or the desktop's browser; the user clicks "Continue".
    Browser,
    /// No browser can be opened: walk the redirects as the demo user.
    Robot,
    /// `--no-browser`: print the URL, read the redirected URL from stdin.
    Paste,
}

/// Hands the authorize URL (and why no browser opened) to the demo's driver.
struct DemoObserver {
    tx: mpsc::UnboundedSender<(String, Option<String>)>,
}

impl SignInObserver for DemoObserver {
    fn authorize_url(&self, _profile: &str, url: &str, browser_error: Option<&str>) {
        let _ = self
            .tx
            .send((url.to_string(), browser_error.map(str::to_string)));
    }
    fn notice(&self, message: &str) {
        error_line(message);
    }
}

/// Ctrl-C or (on Unix) SIGTERM, listened for from the moment this is called (before
/// the demo says it is serving): a signal sent right after that message must stop it,
/// and a listener made only at the `await` could miss one.
fn stop_signal() -> impl std::future::Future<Output = ()> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let term = signal(SignalKind::terminate()).ok();
        let int = signal(SignalKind::interrupt()).ok();
        async move {
            match (term, int) {
                (Some(mut term), Some(mut int)) => {
                    tokio::select! {
                        _ = term.recv() => {}
                        _ = int.recv() => {}
                    }
                }
                (Some(mut term), None) => {
                    term.recv().await;
                }
                (None, Some(mut int)) => {
                    int.recv().await;
                }
                (None, None) => {
                    let _ = tokio::signal::ctrl_c().await;
                }
            }
        }
    }
    #[cfg(not(unix))]
    {
        async {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}

/// Where the token went, in words.
fn store_words(kind: StoreKind, config: &Path) -> String {
    match kind {
        StoreKind::SecretService => "the Secret Service keyring (service `httplens`)".into(),
        StoreKind::Keychain => "the system keychain (service `httplens`)".into(),
        StoreKind::CredentialManager => "the Windows Credential Manager (`httplens`)".into(),
        StoreKind::Keyutils => {
            "the kernel keyring of this login session (no keychain here; it is gone after a reboot)"
                .into()
        }
        StoreKind::File => format!(
            "the file token store in {} (0600, chosen with HTTPLENS_TOKEN_STORE=file)",
            config.display()
        ),
        StoreKind::Memory => {
            "memory only (HTTPLENS_TOKEN_STORE=memory); it is gone when the demo stops".into()
        }
        StoreKind::Unavailable => "no store (none is available)".into(),
    }
}

/// The store to use: the configured one when it works, else memory with a message
/// (the demo must end with a signed request even on a machine without a keychain).
async fn usable_store(
    config: &Path,
    probe_account: &str,
) -> Result<(Arc<dyn TokenStore>, Option<String>), String> {
    let store = auth::open_store(None, config)?;
    match store.get(probe_account).await {
        Ok(_) => Ok((store, None)),
        Err(e) => Ok((
            Arc::new(auth::store::MemoryStore::new()),
            Some(format!(
                "the token store cannot be used here ({e}); the demo keeps its token in memory only, so an editor will sign in on its own"
            )),
        )),
    }
}

async fn run_async(args: DemoArgs) -> u8 {
    let servers = match demo::start_servers(demo::PROVIDER_PORT, demo::API_PORT).await {
        Ok(s) => s,
        Err(e) => {
            error_line(format!("cannot start the demo servers on 127.0.0.1: {e}"));
            return 1;
        }
    };
    let code = demo_with(&args, &servers).await;
    match tokio::time::timeout(Duration::from_secs(5), servers.shutdown()).await {
        Ok(()) => {}
        Err(_) => tracing::warn!("the demo servers did not stop within 5 s"),
    }
    code
}

async fn demo_with(args: &DemoArgs, servers: &demo::DemoServers) -> u8 {
    let written = match dws::write_workspace(&args.dir, servers.provider_url(), servers.api_url()) {
        Ok(w) => w,
        Err(e) => {
            error_line(e);
            return EXIT_USAGE;
        }
    };
    out(&format!(
        "httplens demo\n\
         \x20 sign-in provider (IMS-like)  {}\n\
         \x20 API (Commerce-like)          {}\n\
         \x20 workspace                    {}\n\n",
        servers.provider_url(),
        servers.api_url(),
        written.dir.display()
    ));
    let ws = match Workspace::load(&written.request_file, &[], Some(dws::ENV_NAME)) {
        Ok(w) => w,
        Err(e) => {
            error_line(e);
            return 1;
        }
    };
    let config = auth::fsutil::config_dir();
    let (profiles, store) = match profiles_and_store(&ws, &config).await {
        Ok(p) => p,
        Err(code) => return code,
    };
    let mode = sign_in_mode(args);
    let (tx, rx) = mpsc::unbounded_channel();
    let session = Arc::new(
        AuthSession::new(profiles, store, config.clone())
            .interactive(true)
            .open_browser(mode == Mode::Browser)
            .timeout(auth::flow::DEFAULT_TIMEOUT)
            .observer(Arc::new(DemoObserver { tx })),
    );
    let token = match sign_in(&session, mode, rx).await {
        Ok(t) => t,
        Err(e) => {
            error_line(e);
            return 1;
        }
    };
    out(&format!(
        "Signed in as {} (profile `{}`); the token is kept in {}.\n\n",
        token.account.as_deref().unwrap_or("the demo user"),
        dws::USER_PROFILE,
        store_words(session.store_kind(), &config)
    ));
    // Send the workspace's requests through the engine behind `httplens run`.
    let (outcomes, stopped) = match send_requests(&written.request_file, &ws, session.clone()).await
    {
        Ok(o) => o,
        Err(m) => {
            error_line(m);
            return 1;
        }
    };
    print_outcomes(&outcomes);
    if stopped {
        // Ctrl-C while sending: the sends were cancelled, and the demo ends too.
        out("Stopped: the requests in flight were cancelled. Stopping the demo servers.\n");
        forget_tokens(&session).await;
        return 1;
    }
    let all_passed = !outcomes.is_empty() && outcomes.iter().all(Outcome::passed);
    print_editor_hint(&written.dir);
    serve_until_stopped(&session).await;
    if all_passed { 0 } else { 1 }
}

/// The workspace's auth profiles (an error in them stops the demo) and the token store
/// to keep the demo user's token in.
async fn profiles_and_store(
    ws: &Workspace,
    config: &Path,
) -> Result<(Vec<auth::Profile>, Arc<dyn TokenStore>), u8> {
    let (profiles, issues) = auth::env_profiles::profiles(ws);
    if let Some(i) = issues
        .iter()
        .find(|i| i.severity == auth::profile::IssueSeverity::Error)
    {
        error_line(&i.message);
        return Err(1);
    }
    let probe = profiles
        .iter()
        .find(|p| p.id == dws::USER_PROFILE)
        .map(|p| p.store_account())
        .unwrap_or_default();
    let (store, store_note) = match usable_store(config, &probe).await {
        Ok(s) => s,
        Err(m) => {
            error_line(m);
            return Err(EXIT_USAGE);
        }
    };
    if let Some(n) = store_note {
        error_line(n);
    }
    Ok((profiles, store))
}

/// How the login page is reached, said on stdout when no browser can be opened.
fn sign_in_mode(args: &DemoArgs) -> Mode {
    if args.no_browser {
        Mode::Paste
    } else if auth::env_profiles::browser_available() {
        Mode::Browser
    } else {
        out(
            "No browser can be opened here (no desktop session and no HTTPLENS_BROWSER), so the\n\
             demo signs in as the demo user itself, following the same redirects a browser would.\n\n",
        );
        Mode::Robot
    }
}

/// Sign the demo user in, driving the login page the way `mode` says; Ctrl-C (or
/// SIGTERM) cancels.
async fn sign_in(
    session: &Arc<AuthSession>,
    mode: Mode,
    mut rx: mpsc::UnboundedReceiver<(String, Option<String>)>,
) -> Result<auth::StoredToken, AuthError> {
    let s2 = session.clone();
    let mut sign_in = tokio::spawn(async move { s2.sign_in(dws::USER_PROFILE).await });
    let driver = {
        let s3 = session.clone();
        async move {
            let Some((url, browser_error)) = rx.recv().await else {
                return std::future::pending::<()>().await;
            };
            drive(mode, &s3, &url, browser_error).await;
            std::future::pending::<()>().await
        }
    };
    tokio::select! {
        r = &mut sign_in => r.unwrap_or(Err(AuthError::Cancelled)),
        _ = driver => unreachable!("the driver never ends on its own"),
        _ = stop_signal() => {
            session.cancel_sign_in(dws::USER_PROFILE);
            match tokio::time::timeout(Duration::from_secs(5), sign_in).await {
                Ok(Ok(r)) => r,
                _ => Err(AuthError::Cancelled),
            }
        }
    }
}

/// How to use the same folder from an editor or the CLI while the demo runs.
fn print_editor_hint(dir: &Path) {
    let rel = relative_display(dir);
    out(&format!(
        "\nThe same folder works in an editor while the demo runs:\n\
         \x20 VS Code   code {rel}   (with the httplens extension: open demo.http, click \"Send request\")\n\
         \x20 Neovim    nvim {rel}/demo.http   (with require(\"httplens\").setup())\n\
         \x20 CLI       httplens run {rel}/demo.http --env demo\n\
         The editor signs in through the same provider (a login page with the demo user filled in).\n",
    ));
}

/// Keep the servers up until Ctrl-C (or stop at once with [`EXIT_AFTER_SEND_ENV`]),
/// then forget the demo's tokens.
async fn serve_until_stopped(session: &AuthSession) {
    if std::env::var(EXIT_AFTER_SEND_ENV).is_ok_and(|v| !v.is_empty() && v != "0") {
        forget_tokens(session).await;
        return;
    }
    let stop = stop_signal();
    out("\nServing until Ctrl-C.\n");
    stop.await;
    out("Stopping the demo servers.\n");
    forget_tokens(session).await;
}

/// The tokens die with the demo's provider: drop their store entries so no stale
/// entry is left in the keychain.
async fn forget_tokens(session: &AuthSession) {
    for p in [dws::USER_PROFILE, dws::SERVICE_PROFILE] {
        let _ = tokio::time::timeout(Duration::from_secs(5), session.sign_out(p)).await;
    }
}

/// Make the login page happen: the browser already opened (or could not), the robot
/// walks it, or the user pastes the redirect.
async fn drive(mode: Mode, session: &AuthSession, url: &str, browser_error: Option<String>) {
    match (mode, browser_error) {
        (Mode::Browser, None) => out(&format!(
            "Your browser shows the demo provider's login page: click \"Continue as Demo User\".\n\
             If no browser opened, visit:\n\n  {url}\n\n"
        )),
        (Mode::Browser, Some(err)) => {
            out(&format!(
                "{err}; the demo signs in as the demo user itself, following the same redirects.\n\n"
            ));
            robot(session, url).await;
        }
        (Mode::Robot, _) => robot(session, url).await,
        (Mode::Paste, _) => paste(session, url).await,
    }
}

async fn robot(session: &AuthSession, url: &str) {
    if let Err(e) = demo::robot::sign_in_as_demo_user(url).await {
        error_line(e);
        session.cancel_sign_in(dws::USER_PROFILE);
    }
}

async fn paste(session: &AuthSession, url: &str) {
    out(&format!(
        "Open this URL in a browser and click \"Continue as Demo User\":\n\n  {url}\n\n\
         then paste the address the browser was redirected to (it starts with http://127.0.0.1)\n\
         and press Enter:\n"
    ));
    loop {
        let line = super::read_stdin_line().await;
        let Some(line) = line else {
            error_line("no redirect URL on stdin; sign-in cancelled");
            session.cancel_sign_in(dws::USER_PROFILE);
            return;
        };
        if line.trim().is_empty() {
            continue;
        }
        match session.complete_sign_in(dws::USER_PROFILE, line.trim()) {
            Ok(()) => return,
            Err(e) => error_line(format!("{e}; paste the whole redirected URL")),
        }
    }
}

async fn send_requests(
    file: &Path,
    ws: &Workspace,
    tokens: Arc<dyn TokenSource>,
) -> Result<(Vec<Outcome>, bool), String> {
    let text = std::fs::read_to_string(file)
        .map_err(|e| format!("{}: cannot read the file: {e}", file.display()))?;
    let parsed = syntax::parse_path(file, &text);
    let engine = Engine::new(EngineConfig::new(ws.root.clone()), tokens);
    let overrides = BTreeMap::new();
    let input = FileInput {
        workspace: ws,
        file: &parsed.file,
        text: &text,
        overrides: &overrides,
    };
    let cancel = CancellationToken::new();
    let stopper = {
        let cancel = cancel.clone();
        tokio::spawn(async move {
            stop_signal().await;
            cancel.cancel();
        })
    };
    let outcomes = engine.send_all(&input, &cancel, &Silent).await;
    stopper.abort();
    Ok((outcomes, cancel.is_cancelled()))
}

fn print_outcomes(outcomes: &[Outcome]) {
    let mut text = String::new();
    for o in outcomes {
        text.push_str(&format!("### {}: {} {}\n", o.label(), o.method, o.url));
        match &o.result {
            Err(e) => text.push_str(&format!("error: {e}\n")),
            Ok(sent) => {
                text.push_str(sent.document.trim_end());
                text.push('\n');
            }
        }
        text.push('\n');
    }
    let passed = outcomes.iter().filter(|o| o.passed()).count();
    text.push_str(&format!(
        "{} requests: {passed} passed, {} failed\n",
        outcomes.len(),
        outcomes.len() - passed
    ));
    out(&text);
}

/// The folder as the user would type it: relative to the current folder when inside.
fn relative_display(dir: &Path) -> String {
    let cwd = std::env::current_dir().ok();
    let shown = cwd
        .as_deref()
        .and_then(|c| dir.strip_prefix(c).ok())
        .filter(|r| !r.as_os_str().is_empty())
        .unwrap_or(dir);
    let s = shown.display().to_string();
    if s.contains(' ') {
        format!("\"{s}\"")
    } else {
        s
    }
}
