//! `httplens/state`: what the clients' status bar, pickers and health check show.

use tower_lsp_server::jsonrpc::{Error, Result};

use crate::auth::StoreKind;
use crate::auth::store::KEYUTILS_NOTICE_TEXT;
use crate::exec::history::{History, cache_dir};
use crate::ide::SignInView;
use crate::lsp::ext::{StateParams, StateProfile, StateResult};
use crate::lsp::server::Server;
use crate::lsp::{env_state, responses};

pub async fn state(server: &Server, params: StateParams) -> Result<StateResult> {
    let doc = server.session.get(&params.uri).ok_or_else(|| {
        Error::invalid_params(format!(
            "{} is not open; open it before asking for its state.",
            params.uri.as_str()
        ))
    })?;
    let is_response = doc.is_response;
    // A response document has no environment of its own: answer for the request file
    // it came from (when that is open), so a status bar or picker that asks while a
    // response is focused shows the request's environments, not an empty list.
    let doc = if is_response {
        responses::origin_of(server, &doc)
            .and_then(|(uri, _)| server.session.get(&uri))
            .unwrap_or(doc)
    } else {
        doc
    };
    let view = env_state::env_view_with_profiles(server, &doc).await;
    let token_store = env_state::token_store_name(server);
    // The keychain fell back to the kernel keyring: the CLI says so on stderr, which an
    // editor only logs; tell the user once.
    if token_store == StoreKind::Keyutils.as_str()
        && !server
            .keyutils_told
            .swap(true, std::sync::atomic::Ordering::Relaxed)
    {
        server
            .client
            .show_message(
                tower_lsp_server::ls_types::MessageType::WARNING,
                format!("httplens: {KEYUTILS_NOTICE_TEXT}"),
            )
            .await;
    }
    let signing_in: Vec<String> = server
        .pending_sign_ins
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .iter()
        .filter(|(_, session)| session.strong_count() > 0)
        .map(|(id, _)| id.clone())
        .collect();
    let now = chrono::Utc::now().timestamp();
    Ok(StateResult {
        version: env!("CARGO_PKG_VERSION").to_string(),
        environments: view.environments.clone(),
        environment: view.selected.clone(),
        profiles: view
            .profiles
            .iter()
            .map(|p| state_profile(p, signing_in.contains(&p.id), now))
            .collect(),
        token_store,
        is_response,
        responses_dir: History::new(cache_dir())
            .responses_root()
            .to_string_lossy()
            .into_owned(),
    })
}

/// One profile as `httplens/state` reports it; `signing_in`: a sign-in of this server
/// is waiting for the browser.
fn state_profile(p: &SignInView, signing_in: bool, now_unix: i64) -> StateProfile {
    let p = SignInView {
        signing_in: p.signing_in || signing_in,
        ..p.clone()
    };
    StateProfile {
        summary: p.status(now_unix),
        id: p.id,
        grant: p.grant,
        signed_in: p.signed_in,
        account: p.account,
        scopes: p.scopes,
        expires_at: p.expires_at,
        id_token_verified: p.id_token_verified,
        id_token_note: p.id_token_note,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The editor clients take these answers from the server: none of them finds the
    /// responses folder, tests a status line or counts the minutes of a token itself
    /// (issue 17: the copies drifted from the server's rules).
    #[test]
    fn the_editor_clients_do_not_derive_what_the_server_says() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("editors");
        let mut files = Vec::new();
        for dir in ["vscode/src", "nvim/lua/httplens", "nvim/plugin"] {
            for entry in std::fs::read_dir(root.join(dir)).unwrap() {
                files.push(entry.unwrap().path());
            }
        }
        assert!(files.len() >= 8, "client sources not found: {files:?}");
        let derived = [
            ("XDG_CACHE_HOME", "the cache folder"),
            ("HTTPLENS_CACHE_DIR", "the cache folder"),
            ("\"responses\"", "the responses folder"),
            ("'responses'", "the responses folder"),
            ("HTTP/", "the response-document test (status line)"),
            ("Date.now()", "expiry arithmetic"),
            ("os.time(", "expiry arithmetic"),
            ("expiresAt *", "expiry arithmetic"),
            ("expiresAt -", "expiry arithmetic"),
        ];
        for file in files {
            let text = std::fs::read_to_string(&file).unwrap();
            for (needle, what) in derived {
                assert!(
                    !text.contains(needle),
                    "{} contains `{needle}`: {what} comes from httplens/state",
                    file.display()
                );
            }
        }
    }

    /// The summary travels with the profile, worded by the server for each state.
    #[test]
    fn a_profile_carries_its_summary() {
        let now = 1_000_000;
        let signed_in = SignInView {
            id: "shop".into(),
            grant: Some("Authorization Code".into()),
            signed_in: true,
            account: Some("jane@example.com".into()),
            expires_at: Some(now + 12 * 60),
            ..Default::default()
        };
        let info = state_profile(&signed_in, false, now);
        assert_eq!(info.summary, "signed in as jane@example.com, 12 min left");
        assert_eq!(info.id, "shop");
        assert_eq!(info.expires_at, Some(now + 12 * 60));
        let json = serde_json::to_value(&info).unwrap();
        assert_eq!(
            json["summary"],
            "signed in as jane@example.com, 12 min left"
        );
        let waiting = state_profile(
            &SignInView {
                id: "shop".into(),
                ..Default::default()
            },
            true,
            now,
        );
        assert_eq!(waiting.summary, "signing in");
        assert!(!waiting.signed_in);
        let expired = state_profile(
            &SignInView {
                expires_at: Some(now - 1),
                refreshable: true,
                ..signed_in.clone()
            },
            false,
            now,
        );
        assert_eq!(
            expired.summary,
            "signed in as jane@example.com, expired (refreshed at the next request)"
        );
    }
}
