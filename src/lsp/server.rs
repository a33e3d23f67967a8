//! The `LanguageServer` implementation: it negotiates, keeps documents in sync, and
//! delegates every feature to `handlers/` and every command to `commands`
//! (`textDocument/codeLens` does not come here: the transport answers it, see `stdio`). Each handler
//! body runs inside `guard`, so a panic fails one request, never the server.

use std::path::PathBuf;
use std::sync::Arc;

use tower_lsp_server::jsonrpc::Result;
use tower_lsp_server::ls_types::*;
use tower_lsp_server::{Client, LanguageServer};

use super::jobs::Jobs;
use super::session::{self, ClientFlags, Session};
use super::settings::Settings;
use super::{commands, ext, guard, handlers};
use crate::auth::TokenStore;
use crate::text::PositionEncoding;

/// The server: cheap to clone, every clone the same server. tower-lsp's service holds
/// one; the transport another, for the requests it answers itself (`stdio`'s routing:
/// the lenses).
#[derive(Clone)]
pub struct Server(Arc<Shared>);

impl std::ops::Deref for Server {
    type Target = Shared;
    fn deref(&self) -> &Shared {
        &self.0
    }
}

/// What every clone of a [`Server`] shares.
pub struct Shared {
    pub client: Client,
    pub session: Arc<Session>,
    pub jobs: Arc<Jobs>,
    pub send_state: super::send::SendState,
    pub store: std::sync::Mutex<Option<Arc<dyn TokenStore>>>,
    /// Resolver diagnostics per document and block (see `handlers::diagnostics`).
    pub diag_cache:
        std::sync::Mutex<std::collections::HashMap<String, handlers::diagnostics::BlockCache>>,
    /// Sign-ins waiting for the browser, by profile id (for `completeSignIn`): those of
    /// `httplens.signIn` and those a send started. Weak: a finished send's session goes.
    pub pending_sign_ins: super::signin::PendingSignIns,
    /// The env-file diagnostics last published, by file (published again on change only).
    pub env_diagnostics: std::sync::Mutex<std::collections::HashMap<PathBuf, Vec<Diagnostic>>>,
    /// Loaded workspaces by document folder, checked against the files' mtimes on use
    /// and dropped on every `stateChanged` cause (see `env_state::cached`).
    pub ws_cache: super::env_state::WsCache,
    /// The last lenses answered per document (see `handlers::lenses`).
    pub lens_cache: handlers::lenses::LensCache,
    /// The user was told that tokens fell back to the kernel keyring (once a session).
    pub keyutils_told: std::sync::atomic::AtomicBool,
}

/// The client's `httplens` settings (`workspace/configuration`), when it offers them.
async fn fetch_settings(client: &Client, session: &Session) -> Option<serde_json::Value> {
    if !session::read(&session.flags).configuration {
        return None;
    }
    let items = vec![ConfigurationItem {
        scope_uri: None,
        section: Some("httplens".into()),
    }];
    match client.configuration(items).await {
        Ok(values) => values.into_iter().next(),
        Err(e) => {
            tracing::warn!("workspace/configuration failed: {e}");
            None
        }
    }
}

/// Reads and keeps the settings `v`; whether they changed. Bad settings are one warning
/// message and change nothing.
async fn store_settings(client: &Client, session: &Session, v: &serde_json::Value) -> bool {
    match Settings::from_value(v) {
        Ok(s) => {
            let changed = session::read(&session.settings) != s;
            session::write(&session.settings, s);
            changed
        }
        Err(msg) => {
            client.show_message(MessageType::WARNING, msg).await;
            false
        }
    }
}

impl Server {
    pub fn new(client: Client) -> Self {
        Server(Arc::new(Shared {
            client,
            session: Arc::new(Session::default()),
            jobs: Arc::new(Jobs::default()),
            send_state: Default::default(),
            store: Default::default(),
            pending_sign_ins: Default::default(),
            diag_cache: Default::default(),
            env_diagnostics: Default::default(),
            ws_cache: Default::default(),
            lens_cache: Default::default(),
            keyutils_told: Default::default(),
        }))
    }

    /// `httplens/state`.
    pub async fn state(&self, params: ext::StateParams) -> Result<ext::StateResult> {
        guard::request("httplens/state", handlers::state::state(self, params)).await
    }

    /// `window/workDoneProgress/cancel`: stop the work behind that token.
    pub async fn progress_cancel(&self, params: WorkDoneProgressCancelParams) {
        self.jobs.cancel(&params.token);
    }

    /// Reads `workspace/configuration` when the client has it.
    async fn pull_settings(&self) {
        if let Some(v) = fetch_settings(&self.client, &self.session).await {
            self.apply_settings(&v).await;
        }
    }

    async fn apply_settings(&self, v: &serde_json::Value) {
        if store_settings(&self.client, &self.session, v).await {
            self.state_changed_all().await;
        }
    }

    /// Something the lenses and `httplens/state` show changed: refresh lenses,
    /// re-publish diagnostics, and tell the client.
    pub async fn state_changed_all(&self) {
        super::env_state::forget_all(self);
        let docs = self.session.all();
        for doc in &docs {
            handlers::diagnostics::publish(self, doc).await;
        }
        if session::read(&self.session.flags).code_lens_refresh {
            let _ = self.client.code_lens_refresh().await;
        }
        self.notify_state_changed().await;
    }

    /// Only tells the client that `httplens/state` changed (a sign-in began: nothing the
    /// caches, lenses or diagnostics hold is different).
    pub async fn notify_state_changed(&self) {
        for doc in self.session.all() {
            self.client
                .send_notification::<ext::StateChanged>(ext::StateChangedParams {
                    uri: doc.uri.clone(),
                })
                .await;
        }
    }
}

fn client_flags(caps: &ClientCapabilities) -> ClientFlags {
    let window = caps.window.as_ref();
    let ws = caps.workspace.as_ref();
    ClientFlags {
        show_document: window
            .and_then(|w| w.show_document.as_ref())
            .is_some_and(|s| s.support),
        work_done_progress: window.and_then(|w| w.work_done_progress).unwrap_or(false),
        code_lens_refresh: ws
            .and_then(|w| w.code_lens.as_ref())
            .and_then(|c| c.refresh_support)
            .unwrap_or(false),
        configuration: ws.and_then(|w| w.configuration).unwrap_or(false),
        prompt: caps
            .experimental
            .as_ref()
            .and_then(|e| e.get(super::ext::PROMPT_CAPABILITY))
            .and_then(|v| v.as_bool())
            .unwrap_or(false),
    }
}

/// UTF-8 when the client offers it (no conversion at all), else UTF-16, the default
/// every client must support.
fn negotiate_encoding(caps: &ClientCapabilities) -> PositionEncoding {
    let offered = caps
        .general
        .as_ref()
        .and_then(|g| g.position_encodings.as_ref());
    match offered {
        Some(list) if list.contains(&PositionEncodingKind::UTF8) => PositionEncoding::Utf8,
        _ => PositionEncoding::Utf16,
    }
}

impl LanguageServer for Server {
    async fn initialize(&self, params: InitializeParams) -> Result<InitializeResult> {
        guard::request("initialize", async {
            let enc = negotiate_encoding(&params.capabilities);
            session::write(&self.session.encoding, enc);
            session::write(&self.session.flags, client_flags(&params.capabilities));
            let mut folders: Vec<PathBuf> = params
                .workspace_folders
                .iter()
                .flatten()
                .filter_map(|f| session::uri_to_path(&f.uri))
                .collect();
            #[allow(deprecated)]
            if folders.is_empty()
                && let Some(root) = params.root_uri.as_ref().and_then(session::uri_to_path)
            {
                folders.push(root);
            }
            session::write(&self.session.folders, folders);
            if let Some(opts) = &params.initialization_options {
                match Settings::from_value(opts) {
                    Ok(s) => session::write(&self.session.settings, s),
                    Err(msg) => tracing::warn!("{msg}"),
                }
            }
            session::write(&self.session.lifecycle, session::Lifecycle::Running);
            Ok(InitializeResult {
                capabilities: capabilities(enc),
                server_info: Some(ServerInfo {
                    name: "httplens".into(),
                    version: Some(env!("CARGO_PKG_VERSION").into()),
                }),
                offset_encoding: None,
            })
        })
        .await
    }

    async fn initialized(&self, _: InitializedParams) {
        tracing::info!("httplens language server ready");
        // Detached: a handler still waiting for the client's answer when `exit` comes
        // would keep the server from stopping. Settings that changed refresh whatever
        // was opened meanwhile, like any later change.
        let server = self.clone();
        tokio::spawn(guard::notification("workspace/configuration", async move {
            server.pull_settings().await
        }));
    }

    async fn shutdown(&self) -> Result<()> {
        session::write(&self.session.lifecycle, session::Lifecycle::ShutDown);
        self.jobs.cancel_all();
        super::SHUTDOWN.cancel();
        Ok(())
    }

    async fn did_open(&self, params: DidOpenTextDocumentParams) {
        guard::notification("textDocument/didOpen", async {
            let d = params.text_document;
            let doc = self.session.open(d.uri, d.version, d.text);
            handlers::diagnostics::publish(self, &doc).await;
            super::memory::touched();
        })
        .await
    }

    async fn did_change(&self, params: DidChangeTextDocumentParams) {
        guard::notification("textDocument/didChange", async {
            // Applied synchronously, before the first `.await`.
            let doc = self.session.change(
                &params.text_document.uri,
                params.text_document.version,
                params.content_changes,
            );
            match doc {
                Some((doc, old)) => {
                    // Lenses kept for the old version cannot be asked for again (2 MB
                    // for 10,000 requests): let them go now, not at the next ask.
                    self.lens_cache
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .remove(params.text_document.uri.as_str());
                    handlers::diagnostics::publish(self, &doc).await;
                    // Usually freed already, before the new tree was built (see
                    // `Session::change`). If a request still held it, it is let go here,
                    // after the diagnostics are out, on the thread that parsed: freeing
                    // on another thread cost more CPU per edit and RSS.
                    drop(old);
                    super::memory::touched();
                }
                None => tracing::warn!(
                    "didChange for a document that is not open: {}",
                    params.text_document.uri.as_str()
                ),
            }
        })
        .await
    }

    async fn did_save(&self, params: DidSaveTextDocumentParams) {
        guard::notification("textDocument/didSave", async {
            // An env file saved in the editor changes variables, profiles, diagnostics.
            let name = params.text_document.uri.path().as_str().to_string();
            if name.ends_with(".env.json")
                || name.ends_with("/.env")
                || name.ends_with("settings.json")
            {
                self.state_changed_all().await;
            }
        })
        .await
    }

    async fn did_close(&self, params: DidCloseTextDocumentParams) {
        guard::notification("textDocument/didClose", async {
            self.session.close(&params.text_document.uri);
            self.diag_cache
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .remove(params.text_document.uri.as_str());
            self.lens_cache
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .remove(params.text_document.uri.as_str());
            self.client
                .publish_diagnostics(params.text_document.uri, Vec::new(), None)
                .await;
        })
        .await
    }

    async fn did_change_configuration(&self, params: DidChangeConfigurationParams) {
        guard::notification("workspace/didChangeConfiguration", async {
            if session::read(&self.session.flags).configuration {
                self.pull_settings().await;
            } else {
                self.apply_settings(&params.settings).await;
            }
        })
        .await
    }

    async fn did_change_workspace_folders(&self, params: DidChangeWorkspaceFoldersParams) {
        guard::notification("workspace/didChangeWorkspaceFolders", async {
            let mut folders = session::read(&self.session.folders);
            let removed: Vec<PathBuf> = params
                .event
                .removed
                .iter()
                .filter_map(|f| session::uri_to_path(&f.uri))
                .collect();
            folders.retain(|f| !removed.contains(f));
            folders.extend(
                params
                    .event
                    .added
                    .iter()
                    .filter_map(|f| session::uri_to_path(&f.uri)),
            );
            session::write(&self.session.folders, folders);
        })
        .await
    }

    async fn did_change_watched_files(&self, _: DidChangeWatchedFilesParams) {
        guard::notification("workspace/didChangeWatchedFiles", self.state_changed_all()).await
    }

    async fn completion(&self, params: CompletionParams) -> Result<Option<CompletionResponse>> {
        guard::request("textDocument/completion", async {
            Ok(handlers::completion::completion(self, params.text_document_position).await)
        })
        .await
    }

    async fn code_action(&self, params: CodeActionParams) -> Result<Option<CodeActionResponse>> {
        guard::request("textDocument/codeAction", async {
            Ok(handlers::actions::code_action(self, &params))
        })
        .await
    }

    async fn hover(&self, params: HoverParams) -> Result<Option<Hover>> {
        guard::request("textDocument/hover", async {
            Ok(handlers::hover::hover(self, params.text_document_position_params).await)
        })
        .await
    }

    async fn document_symbol(
        &self,
        params: DocumentSymbolParams,
    ) -> Result<Option<DocumentSymbolResponse>> {
        guard::request("textDocument/documentSymbol", async {
            Ok(handlers::symbols::document_symbol(
                self,
                &params.text_document.uri,
            ))
        })
        .await
    }

    async fn folding_range(&self, params: FoldingRangeParams) -> Result<Option<Vec<FoldingRange>>> {
        guard::request("textDocument/foldingRange", async {
            Ok(handlers::folding::folding_range(
                self,
                &params.text_document.uri,
            ))
        })
        .await
    }

    async fn goto_definition(
        &self,
        params: GotoDefinitionParams,
    ) -> Result<Option<GotoDefinitionResponse>> {
        guard::request("textDocument/definition", async {
            Ok(handlers::definition::definition(
                self,
                params.text_document_position_params,
            ))
        })
        .await
    }

    async fn execute_command(&self, params: ExecuteCommandParams) -> Result<Option<LSPAny>> {
        let what = format!("the command {}", params.command);
        guard::request(&what, commands::execute(self, params)).await
    }
}

fn capabilities(enc: PositionEncoding) -> ServerCapabilities {
    ServerCapabilities {
        position_encoding: Some(match enc {
            PositionEncoding::Utf8 => PositionEncodingKind::UTF8,
            PositionEncoding::Utf16 => PositionEncodingKind::UTF16,
        }),
        text_document_sync: Some(TextDocumentSyncCapability::Options(
            TextDocumentSyncOptions {
                open_close: Some(true),
                change: Some(TextDocumentSyncKind::INCREMENTAL),
                save: Some(TextDocumentSyncSaveOptions::Supported(true)),
                ..Default::default()
            },
        )),
        code_lens_provider: Some(CodeLensOptions {
            resolve_provider: Some(false),
        }),
        execute_command_provider: Some(ExecuteCommandOptions {
            commands: ext::COMMANDS.iter().map(|c| c.to_string()).collect(),
            work_done_progress_options: WorkDoneProgressOptions {
                work_done_progress: Some(true),
            },
        }),
        completion_provider: Some(CompletionOptions {
            trigger_characters: Some(
                ["{", "$", "@", "\"", ":", "."]
                    .iter()
                    .map(|s| s.to_string())
                    .collect(),
            ),
            ..Default::default()
        }),
        hover_provider: Some(HoverProviderCapability::Simple(true)),
        code_action_provider: Some(CodeActionProviderCapability::Options(CodeActionOptions {
            code_action_kinds: Some(vec![CodeActionKind::REFACTOR_REWRITE]),
            ..Default::default()
        })),
        document_symbol_provider: Some(OneOf::Left(true)),
        folding_range_provider: Some(FoldingRangeProviderCapability::Simple(true)),
        definition_provider: Some(OneOf::Left(true)),
        workspace: Some(WorkspaceServerCapabilities {
            workspace_folders: Some(WorkspaceFoldersServerCapabilities {
                supported: Some(true),
                change_notifications: Some(OneOf::Left(true)),
            }),
            file_operations: None,
        }),
        ..Default::default()
    }
}
