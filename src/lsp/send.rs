//! Sending from the editor: resolve the request under a line (sending the requests it
//! depends on first, once per session), send it, write the response document into the
//! history, show it with `window/showDocument`, and the curl copy.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio_util::sync::CancellationToken;
use tower_lsp_server::ls_types::{ShowDocumentParams, Uri};

use super::commands::CmdResult;
use super::ext::SendResult;
use super::server::Server;
use super::session::{self, Document, path_to_uri};
use super::workspace;
use crate::env::{ResolveContext, Workspace};
use crate::exec::history::{self, History, RequestOrigin};
use crate::exec::{Client, ClientConfig, SendOptions};
use crate::request::{self, NoTokens, RecordedExchange};
use crate::secret::Secret;
use crate::syntax::ast::{Severity, TokenKind};

/// What sending keeps between commands: one HTTP client (connections, cookie jar) per
/// workspace root, and the exchanges of named requests per request file.
#[derive(Default)]
pub struct SendState {
    clients: Mutex<HashMap<PathBuf, Arc<Client>>>,
    exchanges: Mutex<HashMap<PathBuf, HashMap<String, RecordedExchange>>>,
}

fn client_for(server: &Server, ws: &Workspace) -> Arc<Client> {
    let mut clients = server
        .send_state
        .clients
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    clients
        .entry(ws.root.clone())
        .or_insert_with(|| {
            let timeout = session::read(&server.session.settings).timeout_seconds;
            Arc::new(Client::new(ClientConfig {
                cookie_file: Some(history::cookie_file(&history::cache_dir(), &ws.root)),
                insecure: false,
                default_timeout: timeout.map(Duration::from_secs),
            }))
        })
        .clone()
}

fn exchanges_of(server: &Server, file: &Path) -> HashMap<String, RecordedExchange> {
    server
        .send_state
        .exchanges
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .get(file)
        .cloned()
        .unwrap_or_default()
}

fn record(server: &Server, file: &Path, name: &str, ex: RecordedExchange) {
    server
        .send_state
        .exchanges
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .entry(file.to_path_buf())
        .or_default()
        .insert(name.to_string(), ex);
}

fn load(server: &Server, doc: &Document) -> CmdResult<Workspace> {
    if doc.path.is_none() {
        return Err("Save this file first: requests are sent from files on disk (relative paths and env files are found from there).".into());
    }
    workspace::load(server, doc)
        .ok_or_else(|| "The env files of this workspace could not be read.".into())
}

pub async fn send_one(server: &Server, doc: &Document, line: u32) -> CmdResult<SendResult> {
    let ws = load(server, doc)?;
    let a = &doc.analysis;
    let file = a.file();
    let block = request::block_at_line(file, &a.text, line)
        .ok_or_else(|| format!("There is no request at line {} of this file.", line + 1))?;
    // The requests this one reads responses from, once per session.
    let deps = {
        let ctx = ResolveContext::dry_run(&ws);
        request::dependencies(file, &a.text, block, &ctx)
    };
    for name in deps {
        if exchanges_of(server, &ws.file).contains_key(&name) {
            continue;
        }
        if let Some(dep) = request::find_request(file, &name) {
            send_block(server, doc, &ws, dep, false).await?;
        }
    }
    send_block(server, doc, &ws, block, true).await
}

async fn send_block(
    server: &Server,
    doc: &Document,
    ws: &Workspace,
    block: usize,
    show: bool,
) -> CmdResult<SendResult> {
    let a = &doc.analysis;
    let file = a.file();
    let profiles = {
        let ctx = ResolveContext::dry_run(ws);
        request::auth_profiles(file, &a.text, block, &ctx)
    };
    // Tokens first (refreshing or signing in as needed), then the pure resolve step.
    let mut tokens: HashMap<(String, TokenKind), Secret> = HashMap::new();
    if !profiles.is_empty() {
        let auth = super::signin::auth_session(server, Some(&doc.uri), true).await?;
        for (p, kind) in &profiles {
            let t = auth.tokens(p).await.map_err(|e| e.to_string())?;
            let value = match kind {
                TokenKind::Access => Some(t.access_token.clone()),
                TokenKind::Id => t.id_token.clone(),
            }
            .ok_or_else(|| {
                format!("The profile \"{p}\" has no ID token; sign in again with the openid scope.")
            })?;
            tokens.insert((p.clone(), *kind), Secret::new(value));
        }
    }
    // The resolve context is not `Send`: keep it out of the awaits below.
    let (spec, diags) = {
        let exchanges = exchanges_of(server, &ws.file);
        let overrides = Default::default();
        let ctx = ResolveContext {
            workspace: ws,
            overrides: &overrides,
            exchanges: &exchanges,
            tokens: &tokens,
            dry_run: false,
        };
        request::build(file, &a.text, block, &ctx)
    };
    if let Some(d) = diags.iter().find(|d| d.severity == Severity::Error) {
        let line = a.index.line_of(d.range.start as usize) + 1;
        return Err(format!("Not sent: line {line}: {}", d.message));
    }
    let spec = spec.ok_or("There is no request here to send.")?;
    let client = client_for(server, ws);
    let cache = history::cache_dir();
    let opts = SendOptions {
        cancel: CancellationToken::new(),
        spill_dir: history::spill_dir(&cache),
        carries_token: !profiles.is_empty(),
        base_dir: Some(ws.file_dir().to_path_buf()),
    };
    // Dropping this future ($/cancelRequest, progress cancel) drops the exchange.
    let mut resp = client
        .send(&spec, &opts)
        .await
        .map_err(|e| e.masked(&spec.secrets).to_string())
        .map_err(|e| sentence(&e))?;
    let elapsed_ms = resp.timings.total.as_millis() as u64;
    if let Some(name) = file.blocks[block].request_name() {
        record(server, &ws.file, name, resp.to_recorded(&spec));
    }
    let mut response_uri: Option<Uri> = None;
    if !spec.options.no_log {
        let mut hist = History::new(cache);
        if let Some(n) = session::read(&server.session.settings).history_size {
            hist.keep = n.max(1);
        }
        let origin = RequestOrigin {
            file: ws.file.clone(),
            name: spec.name.clone(),
            line: spec.line,
        };
        let results = crate::exec::assert::check_all(&spec.assertions, &resp);
        let saved = hist
            .save(&origin, &mut resp, |r, body_file| {
                crate::exec::render::render_document(
                    &spec,
                    r,
                    crate::exec::render::DocumentExtras {
                        assertions: &results,
                        body_file,
                    },
                )
            })
            .map_err(|e| {
                format!("The response arrived but could not be saved in the cache folder ({e}).")
            })?;
        response_uri = path_to_uri(&saved.document);
    }
    if show && let Some(uri) = &response_uri {
        let shown = server
            .client
            .show_document(ShowDocumentParams {
                uri: uri.clone(),
                external: Some(false),
                take_focus: Some(false),
                selection: None,
            })
            .await;
        if let Err(e) = shown {
            tracing::warn!("window/showDocument failed: {e}");
        }
    }
    Ok(SendResult {
        status: Some(resp.status),
        elapsed_ms,
        response_uri,
    })
}

/// Errors from below are sentences without the capital and the stop.
fn sentence(s: &str) -> String {
    let mut c = s.chars();
    let mut out: String = match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => return "The request failed.".into(),
    };
    if !out.ends_with('.') {
        out.push('.');
    }
    out
}

pub async fn curl(server: &Server, doc: &Document, line: u32, reveal: bool) -> CmdResult<String> {
    let ws = load(server, doc)?;
    let a = &doc.analysis;
    let file = a.file();
    let block = request::block_at_line(file, &a.text, line)
        .ok_or_else(|| format!("There is no request at line {} of this file.", line + 1))?;
    let exchanges = exchanges_of(server, &ws.file);
    let overrides = Default::default();
    let ctx = ResolveContext {
        workspace: &ws,
        overrides: &overrides,
        exchanges: &exchanges,
        tokens: &NoTokens,
        dry_run: true,
    };
    let (spec, _) = request::build(file, &a.text, block, &ctx);
    let spec = spec.ok_or("There is no request here to copy.")?;
    Ok(request::curl::to_curl(&spec, reveal))
}
