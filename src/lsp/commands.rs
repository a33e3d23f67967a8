//! `workspace/executeCommand`: one JSON object argument per command, read as the command's
//! struct in `ext.rs` (`docs/lsp-extensions.md`); one that names a document `version`
//! other than the open one is refused (the lens it came from is stale). Long
//! work reports `$/progress` and stops on `$/cancelRequest` (the request future is
//! dropped) or `window/workDoneProgress/cancel` (the job's cancellation token). Failures
//! are shown with `window/showMessage` as one sentence and returned as the error.

use std::future::Future;

use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use tokio::sync::mpsc::{UnboundedReceiver, unbounded_channel};
use tower_lsp_server::jsonrpc::{Error, ErrorCode, Result};
use tower_lsp_server::ls_types::*;

use super::server::Server;
use super::session::{self, path_to_uri, uri_to_path};
use super::{env_state, ext, responses};
use crate::exec::history;
use crate::request::code::Language;

/// A command's failure: one sentence for the user.
pub type CmdResult<T> = std::result::Result<T, String>;

pub async fn execute(server: &Server, params: ExecuteCommandParams) -> Result<Option<Value>> {
    let arg = params.arguments.into_iter().next().unwrap_or(Value::Null);
    let token = params.work_done_progress_params.work_done_token;
    let command = params.command.as_str();
    if command == "httplens.debugPanic" && std::env::var_os("HTTPLENS_LSP_TEST_HOOKS").is_some() {
        // Test hook (only with HTTPLENS_LSP_TEST_HOOKS set): proves that a panicking
        // handler fails one request and leaves the server running.
        panic!("debugPanic test hook")
    }
    if !ext::COMMANDS.contains(&command) {
        return Err(Error::invalid_params(format!(
            "Unknown command {command}; this server knows {}.",
            ext::COMMANDS.join(", ")
        )));
    }
    // One arm per command: its argument read as the command's own struct (`ext.rs`).
    let result: CmdResult<Value> = async {
        match command {
            ext::SEND => send(server, args(arg)?, token).await,
            ext::SEND_ALL => send_all(server, args(arg)?, token).await,
            ext::SIGN_IN => sign_in(server, args(arg)?, token).await,
            ext::SIGN_OUT => sign_out(server, args(arg)?).await,
            ext::COMPLETE_SIGN_IN => complete_sign_in(server, args(arg)?).await,
            ext::COPY_AS_CURL => copy_as_curl(server, args(arg)?).await,
            ext::COPY_AS_CODE => copy_as_code(server, args(arg)?).await,
            ext::SELECT_ENVIRONMENT => select_environment(server, args(arg)?).await,
            ext::OPEN_REQUEST => open_request(server, args(arg)?).await,
            ext::COMPARE_WITH_PREVIOUS => compare_with_previous(args(arg)?),
            _ => Err(format!("The command {command} has no handler.")),
        }
    }
    .await;
    // A send may have fetched or refreshed tokens: read the sign-in states again.
    env_state::forget_profile_states(server);
    match result {
        Ok(v) => Ok(Some(v)),
        Err(msg) => {
            server.client.show_message(MessageType::ERROR, &msg).await;
            Err(Error {
                code: ErrorCode::ServerError(-32803),
                message: msg.into(),
                data: None,
            })
        }
    }
}

fn args<T: DeserializeOwned>(v: Value) -> CmdResult<T> {
    serde_json::from_value(v)
        .map_err(|e| format!("The command's argument is not what it expects ({e})."))
}

/// Runs `work` with progress under `title` (when the client gave a token or supports
/// creating one), stopping it when the client cancels the progress.
pub async fn with_progress<T>(
    server: &Server,
    token: Option<ProgressToken>,
    title: &str,
    message: Option<String>,
    work: impl Future<Output = CmdResult<T>>,
) -> CmdResult<T> {
    with_progress_reports(server, token, title, message, None, work).await
}

/// [`with_progress`], also forwarding the messages sent on `reports` as progress
/// reports ("2/5: create (line 8)").
pub async fn with_progress_reports<T>(
    server: &Server,
    token: Option<ProgressToken>,
    title: &str,
    message: Option<String>,
    mut reports: Option<UnboundedReceiver<String>>,
    work: impl Future<Output = CmdResult<T>>,
) -> CmdResult<T> {
    let token = match token {
        Some(t) => Some(t),
        None if session::read(&server.session.flags).work_done_progress => {
            let t = NumberOrString::String(format!("httplens-{}", uuid::Uuid::new_v4()));
            match server.client.create_work_done_progress(t.clone()).await {
                Ok(()) => Some(t),
                Err(e) => {
                    tracing::debug!("window/workDoneProgress/create failed: {e}");
                    None
                }
            }
        }
        None => None,
    };
    let Some(token) = token else {
        return work.await;
    };
    let job = server.jobs.start(&token);
    let mut progress = server.client.progress(token, title).with_cancel_button();
    if let Some(m) = message {
        progress = progress.with_message(m);
    }
    let ongoing = progress.begin().await;
    tokio::pin!(work);
    let result = loop {
        let next_report = async {
            match reports.as_mut() {
                Some(r) => r.recv().await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            r = &mut work => break r,
            () = job.cancel.cancelled() => break Err(format!("{title} was cancelled.")),
            m = next_report => match m {
                Some(m) => ongoing.report_with_message(m, None).await,
                // The sender is gone: the work is about to finish.
                None => reports = None,
            },
        }
    };
    let end = match &result {
        Ok(_) => "done".to_string(),
        Err(e) => e.clone(),
    };
    ongoing.finish_with_message(end).await;
    result
}

/// What a command made for another version of its document is refused with.
const STALE: &str = "The file changed since this lens was made; try again.";

/// The open document `uri`, as of `version` when the command names one: a command made
/// for another version of the text (a lens's line may point elsewhere now) is refused.
fn document(
    server: &Server,
    uri: &Uri,
    version: Option<i32>,
) -> CmdResult<std::sync::Arc<session::Document>> {
    let doc = server.session.get(uri).ok_or_else(|| {
        format!(
            "{} is not open in the editor; open it and try again.",
            uri.as_str()
        )
    })?;
    match version {
        Some(v) if v != doc.version => {
            tracing::debug!(
                "refused a command for version {v} of {}, now {}",
                uri.as_str(),
                doc.version
            );
            Err(STALE.into())
        }
        _ => Ok(doc),
    }
}

async fn send(
    server: &Server,
    a: ext::SendArgs<'_>,
    token: Option<ProgressToken>,
) -> CmdResult<Value> {
    let doc = document(server, &a.uri, a.version)?;
    let block = doc
        .analysis
        .request_block_at_line(a.line)
        .ok_or_else(|| format!("There is no request at line {} of this file.", a.line + 1))?;
    let title = match block.name() {
        Some(n) => format!("Sending {n}"),
        None => "Sending request".to_string(),
    };
    let (tx, rx) = unbounded_channel();
    let work = super::send::send(server, &doc, Some(a.line), tx);
    let mut r = with_progress_reports(server, token, &title, None, Some(rx), work).await?;
    let last = r.pop().ok_or("There is no request here to send.")?;
    Ok(serde_json::to_value(last).unwrap_or(Value::Null))
}

async fn send_all(
    server: &Server,
    a: ext::SendAllArgs<'_>,
    token: Option<ProgressToken>,
) -> CmdResult<Value> {
    let doc = document(server, &a.uri, a.version)?;
    if !doc
        .analysis
        .file()
        .blocks
        .iter()
        .any(|b| b.request.is_some())
    {
        return Err("This file has no requests to send.".into());
    }
    let (tx, rx) = unbounded_channel();
    let work = super::send::send(server, &doc, None, tx);
    let r =
        with_progress_reports(server, token, "Sending all requests", None, Some(rx), work).await?;
    Ok(serde_json::to_value(r).unwrap_or(Value::Null))
}

async fn sign_in(
    server: &Server,
    a: ext::SignInArgs<'_>,
    token: Option<ProgressToken>,
) -> CmdResult<Value> {
    let r = super::signin::sign_in(server, a, token).await;
    // Also after a failed or cancelled one: the profile is no longer "signing in".
    server.state_changed_all().await;
    r
}

async fn sign_out(server: &Server, a: ext::SignOutArgs<'_>) -> CmdResult<Value> {
    super::signin::sign_out(server, a).await?;
    server.state_changed_all().await;
    Ok(Value::Null)
}

async fn complete_sign_in(server: &Server, a: ext::CompleteSignInArgs) -> CmdResult<Value> {
    let r = super::signin::complete(server, a).await?;
    server.state_changed_all().await;
    Ok(r)
}

async fn copy_as_curl(server: &Server, a: ext::CopyAsCurlArgs<'_>) -> CmdResult<Value> {
    let doc = document(server, &a.uri, a.version)?;
    let s = super::send::code(server, &doc, a.line, a.reveal, Language::Curl).await?;
    Ok(Value::String(s))
}

async fn copy_as_code(server: &Server, a: ext::CopyAsCodeArgs<'_>) -> CmdResult<Value> {
    let doc = document(server, &a.uri, a.version)?;
    let s = super::send::code(server, &doc, a.line, a.reveal, a.language).await?;
    Ok(Value::String(s))
}

async fn select_environment(
    server: &Server,
    a: ext::SelectEnvironmentArgs<'_>,
) -> CmdResult<Value> {
    let doc = document(server, &a.uri, None)?;
    let view = env_state::env_view(server, &doc);
    let root = env_state::root_of(server, &doc)
        .ok_or("This document has no folder on disk, so there is no workspace to select an environment for.")?;
    let name = match a.name {
        Some(n) => n,
        None => {
            if view.environments.is_empty() {
                return Err("No environments are defined: add http-client.env.json next to the request file or above it.".into());
            }
            let actions = view
                .environments
                .iter()
                .map(|e| MessageActionItem {
                    title: e.clone(),
                    properties: Default::default(),
                })
                .collect();
            let picked = server
                .client
                .show_message_request(
                    MessageType::INFO,
                    "Select the httplens environment",
                    Some(actions),
                )
                .await
                .map_err(|e| format!("The environment picker failed ({e})."))?;
            match picked {
                Some(item) => item.title,
                None => return Ok(Value::Null),
            }
        }
    };
    if !view.environments.is_empty() && !view.environments.contains(&name) {
        return Err(format!(
            "There is no environment \"{name}\"; the env files define {}.",
            view.environments.join(", ")
        ));
    }
    env_state::remember(&root, Some(&name))?;
    server.state_changed_all().await;
    Ok(json!({ "environment": name }))
}

async fn open_request(server: &Server, a: ext::OpenRequestArgs<'_>) -> CmdResult<Value> {
    let doc = server.session.get(&a.response_uri);
    let origin = match doc {
        Some(d) => responses::origin_of(server, &d),
        // Not open: read the history record straight from disk.
        None => uri_to_path(&a.response_uri)
            .and_then(|p| history::document_origin(&p))
            .and_then(|o| Some((path_to_uri(&o.file)?, o.line.saturating_sub(1)))),
    }
    .ok_or("httplens does not know which request this response came from.")?;
    let (uri, line) = origin;
    let shown = server
        .client
        .show_document(ShowDocumentParams {
            uri: uri.clone(),
            external: None,
            take_focus: Some(true),
            selection: Some(Range::new(Position::new(line, 0), Position::new(line, 0))),
        })
        .await
        .unwrap_or(false);
    Ok(json!({ "uri": uri, "line": line, "shown": shown }))
}

fn compare_with_previous(a: ext::CompareWithPreviousArgs<'_>) -> CmdResult<Value> {
    let path = uri_to_path(&a.response_uri).ok_or("This response is not a file on disk.")?;
    let prev = responses::previous_of(&path)
        .ok_or("There is no earlier response to this request to compare with.")?;
    // A plain path, as `docs/lsp-extensions.md` documents (both clients open a diff from it).
    Ok(Value::String(prev.to_string_lossy().into_owned()))
}
