//! Sending from the editor through the same engine as `httplens run` (`exec::Engine`):
//! dependencies sent first once per session, tokens from the sign-in session (refresh
//! once on 401), `>>` outputs, `# @note` confirmations (asked with
//! `window/showMessageRequest`), the history; then the response document is shown with
//! `window/showDocument`. Also the copies as curl, Python and JavaScript.

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use futures_util::future::BoxFuture;
use tokio::sync::mpsc::UnboundedSender;
use tokio_util::sync::CancellationToken;
use tower_lsp_server::Client as LspClient;
use tower_lsp_server::ls_types::{MessageActionItem, MessageType, ShowDocumentParams, Uri};

use super::commands::CmdResult;
use super::env_state;
use super::ext::SendResult;
use super::server::Server;
use super::session::{self, Document, path_to_uri};
use crate::env::{NoTokens, ResolveContext, ScriptVars, Workspace};
use crate::exec::{
    Engine, EngineConfig, FileInput, NoTokenSource, Observer, Outcome, Progress, TokenSource,
    engine,
};
use crate::request;
use crate::request::code::Language;

/// One engine per workspace root (the cookie jar and the session's named responses are
/// per root), rebuilt when the settings it was made with change.
#[derive(Default)]
pub struct SendState {
    engines: Mutex<HashMap<PathBuf, EngineSlot>>,
}

struct EngineSlot {
    engine: Arc<Engine>,
    timeout: Option<u64>,
    history_size: Option<usize>,
}

/// The workspace root's engine. Its own token source is never used: each send hands
/// the engine the sign-in session of the environment selected when the send started
/// (`send_block_with`), kept to the send's last request.
fn engine_for(server: &Server, ws: &Workspace) -> Arc<Engine> {
    let settings = session::read(&server.session.settings);
    let mut engines = server
        .send_state
        .engines
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    if let Some(s) = engines.get(&ws.root)
        && s.timeout == settings.timeout_seconds
        && s.history_size == settings.history_size
    {
        return s.engine.clone();
    }
    let mut config = EngineConfig::new(ws.root.clone());
    if let Some(seconds) = settings.timeout_seconds {
        config.default_timeout = engine::timeout_from_seconds(seconds);
    }
    if let Some(n) = settings.history_size {
        config.history_size = n.max(1);
    }
    let engine = Arc::new(Engine::new(
        config,
        Arc::new(NoTokenSource(
            "no sign-in session was given for this send".into(),
        )),
    ));
    engines.insert(
        ws.root.clone(),
        EngineSlot {
            engine: engine.clone(),
            timeout: settings.timeout_seconds,
            history_size: settings.history_size,
        },
    );
    engine
}

/// What the engine reports while sending: progress messages (shown in `$/progress`
/// by `commands::with_progress_reports`) and `# @note` confirmations.
struct EditorObserver {
    client: LspClient,
    reports: UnboundedSender<String>,
}

impl Observer for EditorObserver {
    fn progress(&self, event: Progress) {
        let msg = match event {
            Progress::Sending {
                index,
                total,
                label,
            } if total > 1 => format!("{index}/{total}: {label}"),
            Progress::Sending { label, .. } => label,
            Progress::Done { .. } => return,
        };
        let _ = self.reports.send(msg);
    }

    fn confirm<'a>(&'a self, request: &'a str, note: &'a str) -> BoxFuture<'a, bool> {
        Box::pin(async move {
            let actions = vec![
                MessageActionItem {
                    title: "Send".into(),
                    properties: Default::default(),
                },
                MessageActionItem {
                    title: "Cancel".into(),
                    properties: Default::default(),
                },
            ];
            let picked = self
                .client
                .show_message_request(
                    MessageType::WARNING,
                    format!("{request}: {note}"),
                    Some(actions),
                )
                .await;
            matches!(picked, Ok(Some(item)) if item.title == "Send")
        })
    }
}

/// Asks the client for the value of each `# @prompt` variable (`httplens/prompt`).
/// Nothing is sent when one is declined, or when the client cannot ask.
async fn ask_prompts(
    server: &Server,
    asks: Vec<request::Prompt>,
    overrides: &mut BTreeMap<String, String>,
) -> CmdResult<()> {
    let Some(first) = asks.first() else {
        return Ok(());
    };
    if !super::session::read(&server.session.flags).prompt {
        return Err(format!(
            "This request asks for `{0}` (# @prompt), and this editor cannot ask for a value: send it from VS Code or Neovim with the httplens client, or run `httplens run FILE --var {0}=VALUE`.",
            first.name
        ));
    }
    for p in asks {
        let answer = server
            .client
            .send_request::<super::ext::Prompt>(super::ext::PromptParams {
                name: p.name.clone(),
                description: p.description,
                secret: p.secret,
            })
            .await
            .map_err(|e| {
                format!(
                    "The editor did not answer the prompt for `{}`: {}.",
                    p.name, e.message
                )
            })?;
        match answer {
            Some(a) => {
                overrides.insert(p.name, a.value);
            }
            None => return Err(format!("Not sent: no value was given for `{}`.", p.name)),
        }
    }
    Ok(())
}

fn load(server: &Server, doc: &Document) -> CmdResult<Workspace> {
    if doc.path.is_none() {
        return Err("Save this file first: requests are sent from files on disk (relative paths and env files are found from there).".into());
    }
    env_state::load(server, doc)
        .ok_or_else(|| "The env files of this workspace could not be read.".into())
}

/// Sends the request at `line` (with its dependencies), or every request of the file
/// (`line: None`), and shows the response documents of the requests asked for.
pub async fn send(
    server: &Server,
    doc: &Document,
    line: Option<u32>,
    reports: UnboundedSender<String>,
) -> CmdResult<Vec<SendResult>> {
    let ws = load(server, doc)?;
    let a = &doc.analysis;
    let file = a.file();
    let block = match line {
        Some(l) => Some(
            request::block_at_line(file, &a.text, l)
                .ok_or_else(|| format!("There is no request at line {} of this file.", l + 1))?,
        ),
        None => None,
    };
    let engine = engine_for(server, &ws);
    // The profiles of the environment selected now, for this whole send (the engine
    // asks only for the profiles a request uses; a store that cannot open fails those
    // requests alone). Another send, in another environment, has its own.
    let tokens: Arc<dyn TokenSource> =
        match super::signin::auth_session(server, &doc.uri, true).await {
            Ok(s) => s,
            Err(e) => Arc::new(NoTokenSource(e)),
        };
    let observer = EditorObserver {
        client: server.client.clone(),
        reports,
    };
    let mut overrides = BTreeMap::new();
    let asks = request::prompts_to_ask(file, &a.text, &ws, block, &overrides);
    ask_prompts(server, asks, &mut overrides).await?;
    let input = FileInput {
        workspace: &ws,
        file,
        text: &a.text,
        overrides: &overrides,
    };
    // Dropping this future ($/cancelRequest, progress cancel) drops the exchange.
    let cancel = CancellationToken::new();
    let outcomes = match block {
        Some(b) => {
            engine
                .send_block_with(&input, b, &cancel, &observer, tokens)
                .await
        }
        None => {
            engine
                .send_all_with(&input, &cancel, &observer, tokens)
                .await
        }
    };
    let asked: Vec<&Outcome> = outcomes.iter().filter(|o| !o.dependency).collect();
    let mut results = Vec::new();
    // Beside `results`, for the summary of Send All.
    let mut details: Vec<Detail> = Vec::new();
    for o in &asked {
        match &o.result {
            Ok(sent) => {
                let document = sent.saved.as_ref().map(|s| s.document.clone());
                results.push(SendResult {
                    label: o.label(),
                    status: Some(sent.response.status),
                    elapsed_ms: sent.response.timings.total.as_millis() as u64,
                    response_uri: document.as_deref().and_then(path_to_uri),
                    error: None,
                });
                details.push(Detail {
                    document,
                    failure: None,
                });
            }
            // One request asked for: its failure is the command's failure.
            Err(e) if block.is_some() => return Err(sentence(e)),
            Err(e) => {
                results.push(SendResult {
                    label: o.label(),
                    status: None,
                    elapsed_ms: 0,
                    response_uri: None,
                    error: Some(format!("{}: {}", o.label(), sentence(e))),
                });
                details.push(Detail {
                    document: None,
                    failure: Some(e.clone()),
                });
            }
        }
    }
    if block.is_none() {
        // One line about every request, then one per request naming its response
        // document: the result array alone is not shown by every client, a failure among
        // many responses would go unseen, and the documents before the last one (the
        // one shown) would be hard to find.
        let (kind, summary) = send_all_summary(&results, &details);
        server.client.show_message(kind, summary).await;
    }
    // Show the response of the request asked for (the last one for "send all").
    if let Some(uri) = results.iter().rev().find_map(|r| r.response_uri.clone()) {
        show(server, uri).await;
        // VS Code (code-server 1.100) opens the shown document as `http` and syncs it,
        // but did not always ask for its lenses ("Send again", "Open request"); a
        // refresh makes every client ask again for the documents it shows.
        if session::read(&server.session.flags).code_lens_refresh
            && let Err(e) = server.client.code_lens_refresh().await
        {
            tracing::debug!("workspace/codeLens/refresh failed: {e}");
        }
    }
    Ok(results)
}

/// What the summary of Send All says about a request besides its result: the response
/// document on disk, or why there was no response (the engine's words, a fragment).
#[derive(Debug, Clone, Default)]
struct Detail {
    document: Option<PathBuf>,
    failure: Option<String>,
}

/// "Sent 4 requests: 3 answered (200 ×2, 404), 1 not (b (line 9): ...)." and how loud to
/// say it: an error when one got no response, a warning for a 4xx/5xx status. Then one
/// line per request, in file order: its label, status, time and response document, or
/// why it got no response (`details`, beside `results`).
fn send_all_summary(results: &[SendResult], details: &[Detail]) -> (MessageType, String) {
    let mut statuses: Vec<(u16, usize)> = Vec::new();
    for s in results.iter().filter_map(|r| r.status) {
        match statuses.iter_mut().find(|(c, _)| *c == s) {
            Some((_, n)) => *n += 1,
            None => statuses.push((s, 1)),
        }
    }
    let failed: Vec<(&str, &str)> = results
        .iter()
        .zip(details)
        .filter_map(|(r, d)| Some((r.label.as_str(), d.failure.as_deref()?)))
        .collect();
    let answered: usize = statuses.iter().map(|(_, n)| n).sum();
    let plural = |n: usize| if n == 1 { "" } else { "s" };
    let mut text = format!("Sent {} request{}", results.len(), plural(results.len()));
    if answered > 0 {
        let codes: Vec<String> = statuses
            .iter()
            .map(|&(c, n)| {
                if n == 1 {
                    c.to_string()
                } else {
                    format!("{c} ×{n}")
                }
            })
            .collect();
        text += &format!(": {answered} answered ({})", codes.join(", "));
    } else {
        text += ": none answered";
    }
    if let Some((label, reason)) = failed.first() {
        let more = match failed.len() {
            1 => String::new(),
            n => format!(", and {} more", n - 1),
        };
        text += &format!(
            ", {} not ({label}: {}{more})",
            failed.len(),
            capitalized(reason)
        );
    }
    text.push('.');
    for (r, d) in results.iter().zip(details) {
        text.push_str("\n- ");
        match (r.status, &d.failure) {
            (Some(status), _) => {
                text += &format!("{}: {status} in {} ms, ", r.label, r.elapsed_ms);
                match &d.document {
                    Some(path) => text += &path.display().to_string(),
                    None => text += "no response document (# @no-log)",
                }
            }
            (None, Some(reason)) => {
                text += &format!("{}: no response ({})", r.label, capitalized(reason))
            }
            (None, None) => text += &format!("{}: no response", r.label),
        }
    }
    let kind = if !failed.is_empty() {
        MessageType::ERROR
    } else if statuses.iter().any(|(c, _)| *c >= 400) {
        MessageType::WARNING
    } else {
        MessageType::INFO
    };
    (kind, text)
}

async fn show(server: &Server, uri: Uri) {
    let shown = server
        .client
        .show_document(ShowDocumentParams {
            uri,
            external: Some(false),
            take_focus: Some(false),
            selection: None,
        })
        .await;
    if let Err(e) = shown {
        tracing::warn!("window/showDocument failed: {e}");
    }
}

/// Errors from below are fragments (no capital, no stop): a window message or a
/// command error presents one as a sentence. A fragment can end in words httplens
/// quotes (a provider's `error_description`), which may end a sentence already.
fn sentence(s: &str) -> String {
    if s.is_empty() {
        return "The request failed.".into();
    }
    let mut out = capitalized(s);
    if !out.ends_with(['.', '!', '?']) {
        out.push('.');
    }
    out
}

/// A fragment with its first letter capitalized, as it reads inside a sentence's
/// parentheses.
fn capitalized(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

/// The request at `line` as code to copy (curl, Python, JavaScript), masked unless
/// `reveal`.
pub async fn code(
    server: &Server,
    doc: &Document,
    line: u32,
    reveal: bool,
    lang: Language,
) -> CmdResult<String> {
    let ws = load(server, doc)?;
    let a = &doc.analysis;
    let file = a.file();
    let block = request::block_at_line(file, &a.text, line)
        .ok_or_else(|| format!("There is no request at line {} of this file.", line + 1))?;
    let exchanges = engine_for(server, &ws).exchanges();
    let overrides = Default::default();
    let ctx = ResolveContext {
        workspace: &ws,
        overrides: &overrides,
        exchanges: &*exchanges,
        tokens: &NoTokens,
        script: ScriptVars::none(),
        dry_run: true,
    };
    let (spec, _) = request::build(file, &a.text, block, &ctx);
    let spec = spec.ok_or("There is no request here to copy.")?;
    Ok(request::code::to_code(&spec, reveal, lang))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A request's result as `send` makes it, and the detail beside it; `failure` is the
    /// engine's error (a fragment).
    fn result(label: &str, status: Option<u16>, failure: Option<&str>) -> (SendResult, Detail) {
        let result = SendResult {
            label: label.into(),
            status,
            elapsed_ms: 1,
            response_uri: None,
            error: failure.map(|f| format!("{label}: {}", sentence(f))),
        };
        let detail = Detail {
            document: None,
            failure: failure.map(str::to_string),
        };
        (result, detail)
    }

    fn summary(rows: &[(SendResult, Detail)]) -> (MessageType, String) {
        let (results, details): (Vec<SendResult>, Vec<Detail>) = rows.iter().cloned().unzip();
        send_all_summary(&results, &details)
    }

    /// The first line of the summary (the count), and its kind.
    fn head(rows: &[(SendResult, Detail)]) -> (MessageType, String) {
        let (kind, text) = summary(rows);
        (kind, text.lines().next().unwrap().to_string())
    }

    #[test]
    fn the_send_all_summary_counts_statuses_and_says_failures_loudest() {
        let all_ok = [result("a", Some(200), None), result("b", Some(204), None)];
        assert_eq!(
            head(&all_ok),
            (
                MessageType::INFO,
                "Sent 2 requests: 2 answered (200, 204).".into()
            )
        );
        let mixed = [
            result("a", Some(200), None),
            result("b", Some(404), None),
            result("c", Some(200), None),
        ];
        assert_eq!(
            head(&mixed),
            (
                MessageType::WARNING,
                "Sent 3 requests: 3 answered (200 ×2, 404).".into()
            )
        );
        let failed = [
            result("a (line 1)", None, Some("connection refused")),
            result("b (line 5)", None, Some("timed out")),
        ];
        assert_eq!(
            head(&failed),
            (
                MessageType::ERROR,
                "Sent 2 requests: none answered, 2 not (a (line 1): Connection refused, and 1 more)."
                    .into()
            )
        );
        assert_eq!(
            head(&[result("a", Some(500), None)]).1,
            "Sent 1 request: 1 answered (500)."
        );
    }

    #[test]
    fn the_send_all_summary_names_every_response_document() {
        let mut rows = [
            result("login (line 3)", Some(200), None),
            result("line 8", Some(404), None),
            result("quiet (line 12)", Some(204), None),
            result("gone (line 15)", None, Some("connection refused")),
        ];
        assert_eq!(
            rows[3].0.error.as_deref(),
            Some("gone (line 15): Connection refused.")
        );
        rows[0].1.document = Some(PathBuf::from(
            "/cache/responses/api-0a1b2c3d/login/20261205T101010-200.http",
        ));
        rows[1].1.document = Some(PathBuf::from(
            "/cache/responses/api-0a1b2c3d/line-8/20261205T101011-404.http",
        ));
        let (kind, text) = summary(&rows);
        assert_eq!(kind, MessageType::ERROR);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines,
            [
                "Sent 4 requests: 3 answered (200, 404, 204), 1 not (gone (line 15): Connection refused).",
                "- login (line 3): 200 in 1 ms, /cache/responses/api-0a1b2c3d/login/20261205T101010-200.http",
                "- line 8: 404 in 1 ms, /cache/responses/api-0a1b2c3d/line-8/20261205T101011-404.http",
                "- quiet (line 12): 204 in 1 ms, no response document (# @no-log)",
                "- gone (line 15): no response (Connection refused)",
            ]
        );
    }
}
