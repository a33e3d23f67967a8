//! `httplens/state`: what the clients' status bar, pickers and health check show.

use tower_lsp_server::jsonrpc::{Error, Result};

use crate::lsp::ext::{ProfileInfo, StateParams, StateResult};
use crate::lsp::server::Server;
use crate::lsp::workspace;

pub async fn state(server: &Server, params: StateParams) -> Result<StateResult> {
    let doc = server.session.get(&params.uri).ok_or_else(|| {
        Error::invalid_params(format!(
            "{} is not open; open it before asking for its state.",
            params.uri.as_str()
        ))
    })?;
    // A response document has no environment of its own: answer for the request file
    // it came from (when that is open), so a status bar or picker that asks while a
    // response is focused shows the request's environments, not an empty list.
    let doc = if doc.is_response {
        crate::lsp::responses::origin_of(server, &doc)
            .and_then(|(uri, _)| server.session.get(&uri))
            .unwrap_or(doc)
    } else {
        doc
    };
    let view = workspace::env_view_with_profiles(server, &doc).await;
    let token_store = workspace::token_store_name(server);
    // The keychain fell back to the kernel keyring: the CLI says so on stderr, which an
    // editor only logs; tell the user once.
    if token_store == crate::auth::StoreKind::Keyutils.as_str()
        && !server
            .keyutils_told
            .swap(true, std::sync::atomic::Ordering::Relaxed)
    {
        server
            .client
            .show_message(
                tower_lsp_server::ls_types::MessageType::WARNING,
                format!("httplens: {}.", crate::auth::store::KEYUTILS_NOTICE_TEXT),
            )
            .await;
    }
    Ok(StateResult {
        version: env!("CARGO_PKG_VERSION").to_string(),
        environments: view.environments.clone(),
        environment: view.selected.clone(),
        profiles: view
            .profiles
            .iter()
            .map(|p| ProfileInfo {
                id: p.id.clone(),
                grant: p.grant.clone(),
                signed_in: p.signed_in,
                account: p.account.clone(),
                scopes: p.scopes.clone(),
                expires_at: p.expires_at,
                id_token_verified: p.id_token_verified,
                id_token_note: p.id_token_note.clone(),
            })
            .collect(),
        token_store,
    })
}
