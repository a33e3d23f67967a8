//! Sign-in and sign-out from the editor: progress "waiting for the browser", the
//! authorize URL in `window/showMessage`, the browser opened with
//! `window/showDocument {external: true}` when the client can (else `HTTPLENS_BROWSER`
//! or the system browser, through `auth`), and paste completion.

use std::collections::HashMap;
use std::sync::{Arc, Weak};

use serde_json::{Value, json};
use tower_lsp_server::Client;
use tower_lsp_server::ls_types::{MessageType, ProgressToken, ShowDocumentParams, Uri};

use super::commands::{CmdResult, with_progress};
use super::server::Server;
use super::{env_state, ext, session};
use crate::auth::{AuthSession, SignInObserver, env_profiles, fsutil};

/// Sign-ins waiting for the browser, by profile id: whatever started them (a sign-in
/// command or a send), "Complete sign-in" finds them here.
pub type PendingSignIns = Arc<std::sync::Mutex<HashMap<String, Weak<AuthSession>>>>;

/// Shows the authorize URL and opens it through the client.
struct LspObserver {
    client: Client,
    open_via_client: bool,
    /// The session this observer belongs to, registered when one of its sign-ins
    /// waits for a redirect.
    session: Weak<AuthSession>,
    pending: PendingSignIns,
}

impl SignInObserver for LspObserver {
    fn waiting(&self, profile: &str) {
        self.pending
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(profile.to_string(), self.session.clone());
    }

    fn authorize_url(&self, profile: &str, url: &str, browser_error: Option<&str>) {
        let client = self.client.clone();
        let mut msg = format!(
            "Sign in to \"{profile}\" in your browser: {url} (if the browser cannot come back here, run \"Complete sign-in\" and paste the address it ends on)."
        );
        if let Some(e) = browser_error {
            msg.push_str(&format!(" The browser did not open: {e}."));
        }
        let open = self.open_via_client;
        let url = url.to_string();
        tokio::spawn(async move {
            client.show_message(MessageType::INFO, msg).await;
            if open && let Ok(uri) = url.parse::<Uri>() {
                let _ = client
                    .show_document(ShowDocumentParams {
                        uri,
                        external: Some(true),
                        take_focus: Some(true),
                        selection: None,
                    })
                    .await;
            }
        });
    }

    fn device_code(&self, profile: &str, verification_uri: &str, user_code: &str) {
        let client = self.client.clone();
        let msg = format!(
            "Sign in to \"{profile}\": open {verification_uri} and enter the code {user_code}."
        );
        tokio::spawn(async move { client.show_message(MessageType::INFO, msg).await });
    }

    fn notice(&self, message: &str) {
        let client = self.client.clone();
        let msg = message.to_string();
        tokio::spawn(async move { client.show_message(MessageType::WARNING, msg).await });
    }
}

pub async fn auth_session(
    server: &Server,
    uri: &Uri,
    interactive: bool,
) -> CmdResult<Arc<AuthSession>> {
    let doc = server.session.get(uri).ok_or_else(|| {
        format!(
            "{} is not open in the editor; open it and try again.",
            uri.as_str()
        )
    })?;
    let ws = env_state::load(server, &doc)
        .ok_or("This document is not a file on disk, so it has no auth profiles.")?;
    let (profiles, _) = env_profiles::profiles(&ws);
    let store = env_state::token_store(server)?;
    let via_client = session::read(&server.session.flags).show_document
        && std::env::var_os("HTTPLENS_BROWSER").is_none_or(|v| v.is_empty());
    let pending = server.pending_sign_ins.clone();
    Ok(Arc::new_cyclic(|me| {
        AuthSession::new(profiles, store, fsutil::config_dir())
            .interactive(interactive)
            .open_browser(!via_client)
            .observer(Arc::new(LspObserver {
                client: server.client.clone(),
                open_via_client: via_client,
                session: me.clone(),
                pending,
            }))
    }))
}

pub async fn sign_in(
    server: &Server,
    a: ext::SignInArgs<'_>,
    token: Option<ProgressToken>,
) -> CmdResult<Value> {
    let auth = auth_session(server, &a.uri, true).await?;
    auth.profile(&a.profile).map_err(|e| e.to_string())?;
    server
        .pending_sign_ins
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .insert(a.profile.to_string(), Arc::downgrade(&auth));
    // `httplens/state` now says "signing in" for the profile.
    server.notify_state_changed().await;
    let title = format!("Signing in to {}", a.profile);
    let result = with_progress(
        server,
        token,
        &title,
        Some("waiting for the browser".into()),
        async { auth.sign_in(&a.profile).await.map_err(|e| e.to_string()) },
    )
    .await;
    server
        .pending_sign_ins
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .remove(a.profile.as_ref());
    if result.is_err() {
        auth.cancel_sign_in(&a.profile);
    }
    let t = result?;
    Ok(json!({ "account": t.account, "expiresAt": t.expires_at }))
}

pub async fn sign_out(server: &Server, a: ext::SignOutArgs<'_>) -> CmdResult<()> {
    let auth = auth_session(server, &a.uri, false).await?;
    let report = auth.sign_out(&a.profile).await.map_err(|e| e.to_string())?;
    if let Some(Err(e)) = report.revoked {
        server
            .client
            .show_message(
                MessageType::WARNING,
                format!(
                    "Signed out of \"{}\", but revoking the token failed: {e}.",
                    a.profile
                ),
            )
            .await;
    }
    Ok(())
}

pub async fn complete(server: &Server, a: ext::CompleteSignInArgs) -> CmdResult<Value> {
    let auth = server
        .pending_sign_ins
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .get(&a.profile)
        .and_then(Weak::upgrade)
        .ok_or_else(|| {
            format!(
                "No sign-in to \"{}\" is waiting; start one with Sign in (or send a request that needs it) first.",
                a.profile
            )
        })?;
    auth.complete_sign_in(&a.profile, &a.redirect_url)
        .map_err(|e| e.to_string())?;
    Ok(json!({ "profile": a.profile }))
}
