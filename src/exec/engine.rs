//! Orchestration, shared by the CLI and the language server: for a parsed file, a
//! loaded workspace and a [`TokenSource`], send one request (with the requests it
//! depends on, once per session) or all of them in order; obtain tokens before the
//! pure resolve step, resend once after a 401 with a refreshed token, check
//! assertions, write `>>` outputs and history documents, and report progress.

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::future::BoxFuture;
use tokio_util::sync::CancellationToken;

use super::TokenSource;
use super::assert::{AssertionResult, check_all};
use super::client::{Client, ClientConfig, SendOptions};
use super::history::{self, History, RequestOrigin, SavedDocument};
use super::render::{DocumentExtras, render_document_with_notes};
use super::response::{Response, ResponseBody};
use crate::env::{NoTokens, RecordedExchange, ResolveContext, TokenLookup, Workspace};
use crate::request::{self, RequestSpec};
use crate::secret::{Secret, SecretSet};
use crate::syntax::ast::{HttpFile, Severity, TokenKind};
use crate::text::LineIndex;

/// How an engine is set up (one per workspace root: the cookie jar is per workspace).
#[derive(Debug, Clone)]
pub struct EngineConfig {
    /// `<cache>`: responses, spilled bodies, the cookie jar.
    pub cache: PathBuf,
    /// The workspace root (locates the cookie jar).
    pub workspace_root: PathBuf,
    /// Write response documents to the history (`--no-history` turns it off).
    pub history: bool,
    /// Documents kept per request.
    pub history_size: usize,
    pub insecure: bool,
    /// Used when a request has no `@timeout` (`None`: no limit).
    pub default_timeout: Option<Duration>,
    /// `send_all` stops at the first request that fails (no response, or an assertion
    /// that does not hold): `run --fail-fast`.
    pub fail_fast: bool,
}

/// The time limit of a request without `# @timeout`, in every front end: `run`'s
/// `--timeout` and the editor's `httplens.timeoutSeconds` change it.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// The default time limit from a setting in seconds: unset is [`DEFAULT_TIMEOUT`], `0`
/// is no limit.
pub fn default_timeout(seconds: Option<u64>) -> Option<Duration> {
    match seconds {
        None => Some(DEFAULT_TIMEOUT),
        Some(0) => None,
        Some(s) => Some(Duration::from_secs(s)),
    }
}

impl EngineConfig {
    pub fn new(workspace_root: PathBuf) -> EngineConfig {
        EngineConfig {
            cache: history::cache_dir(),
            workspace_root,
            history: true,
            history_size: history::DEFAULT_KEEP,
            insecure: false,
            default_timeout: Some(DEFAULT_TIMEOUT),
            fail_fast: false,
        }
    }
}

/// What a front end hears while requests are in flight, and how it answers `@note`.
pub trait Observer: Send + Sync {
    fn progress(&self, _event: Progress) {}
    /// `# @note`: may the request be sent? (Default: yes.)
    fn confirm<'a>(&'a self, _request: &'a str, _note: &'a str) -> BoxFuture<'a, bool> {
        Box::pin(async { true })
    }
}

/// An observer that hears nothing and confirms everything.
pub struct Silent;
impl Observer for Silent {}

#[derive(Debug, Clone)]
pub enum Progress {
    /// Request `index` of `total` (1-based) is being sent.
    Sending {
        index: usize,
        total: usize,
        label: String,
    },
    /// It has an answer (`status`) or failed (`None`).
    Done {
        index: usize,
        total: usize,
        label: String,
        status: Option<u16>,
        elapsed: Duration,
    },
}

/// The file being run: its text, tree, surroundings and `--var` overrides.
pub struct FileInput<'a> {
    pub workspace: &'a Workspace,
    pub file: &'a HttpFile,
    pub text: &'a str,
    pub overrides: &'a BTreeMap<String, String>,
}

/// One request that was (or could not be) sent.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// Index of the block in the file.
    pub block: usize,
    pub name: Option<String>,
    /// 1-based request line.
    pub line: u32,
    pub method: String,
    /// The URL, secrets masked.
    pub url: String,
    /// Sent as a dependency of the request asked for (not asked for itself).
    pub dependency: bool,
    pub result: Result<Sent, String>,
}

#[derive(Debug, Clone)]
pub struct Sent {
    pub response: Response,
    pub assertions: Vec<AssertionResult>,
    /// The response document (secrets masked).
    pub document: String,
    /// Where it was written, unless history is off for it.
    pub saved: Option<SavedDocument>,
    /// Where `>> path` wrote the body.
    pub output: Option<PathBuf>,
    /// Notes shown in the document (skipped handlers are there too).
    pub notes: Vec<String>,
    /// The secrets of the request, to mask anything else shown from the response.
    pub secrets: SecretSet,
    /// The request as it was sent (unmasked: mask it before showing it, as `show` does).
    pub request: RequestSpec,
}

impl Outcome {
    /// Got a response and every assertion held.
    pub fn passed(&self) -> bool {
        matches!(&self.result, Ok(s) if s.assertions.iter().all(|a| a.passed))
    }
    pub fn label(&self) -> String {
        label(self.name.as_deref(), self.line)
    }
}

fn label(name: Option<&str>, line: u32) -> String {
    match name {
        Some(n) => format!("{n} (line {line})"),
        None => format!("line {line}"),
    }
}

pub struct Engine {
    config: EngineConfig,
    client: Client,
    tokens: Arc<dyn TokenSource>,
    /// Responses of named requests, by `# @name`, for this session.
    exchanges: Mutex<HashMap<String, RecordedExchange>>,
}

impl Engine {
    pub fn new(config: EngineConfig, tokens: Arc<dyn TokenSource>) -> Engine {
        let client = Client::new(ClientConfig {
            cookie_file: Some(history::cookie_file(&config.cache, &config.workspace_root)),
            insecure: config.insecure,
            default_timeout: config.default_timeout,
        });
        Engine {
            config,
            client,
            tokens,
            exchanges: Mutex::new(HashMap::new()),
        }
    }

    pub fn config(&self) -> &EngineConfig {
        &self.config
    }

    pub fn history(&self) -> History {
        let mut h = History::new(self.config.cache.clone());
        h.keep = self.config.history_size;
        h
    }

    /// The session's recorded exchanges (for previews that read request variables).
    pub fn exchanges(&self) -> HashMap<String, RecordedExchange> {
        self.exchanges
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Forget the session's responses (the next send of a dependent request sends its
    /// dependencies again).
    pub fn clear_exchanges(&self) {
        self.exchanges
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clear();
    }

    /// Sends block `block`, first sending the requests it depends on that this session
    /// has no response for yet. Returns the outcomes in send order (dependencies
    /// first, marked as such; the asked-for request last).
    pub async fn send_block(
        &self,
        input: &FileInput<'_>,
        block: usize,
        cancel: &CancellationToken,
        observer: &dyn Observer,
    ) -> Vec<Outcome> {
        let deps: Vec<usize> = {
            let exchanges = self.exchanges();
            let ctx = self.context(input, &exchanges, &NoTokens, true);
            request::dependencies(input.file, input.text, block, &ctx)
                .into_iter()
                .filter(|n| !exchanges.contains_key(n))
                .filter_map(|n| request::find_request(input.file, &n))
                .collect()
        };
        let total = deps.len() + 1;
        let mut outcomes = Vec::new();
        for (i, dep) in deps.iter().enumerate() {
            let mut o = self
                .send_one(input, *dep, cancel, observer, i + 1, total)
                .await;
            o.dependency = true;
            let failed = o.result.is_err();
            let lbl = o.label();
            outcomes.push(o);
            if failed {
                let mut target = self.blank_outcome(input, block);
                target.result = Err(format!("the request {lbl} it depends on failed"));
                outcomes.push(target);
                return outcomes;
            }
        }
        outcomes.push(
            self.send_one(input, block, cancel, observer, total, total)
                .await,
        );
        outcomes
    }

    /// Sends every request of the file in order (a request's dependencies first when
    /// they come later in the file and have not been sent in this session).
    pub async fn send_all(
        &self,
        input: &FileInput<'_>,
        cancel: &CancellationToken,
        observer: &dyn Observer,
    ) -> Vec<Outcome> {
        let blocks: Vec<usize> = (0..input.file.blocks.len())
            .filter(|&b| input.file.blocks[b].request.is_some())
            .collect();
        let total = blocks.len();
        let mut outcomes = Vec::new();
        for (i, &b) in blocks.iter().enumerate() {
            if cancel.is_cancelled() {
                let mut o = self.blank_outcome(input, b);
                o.result = Err(super::SendError::Cancelled.to_string());
                outcomes.push(o);
                continue;
            }
            let start = outcomes.len();
            // Dependencies that come later in the file are sent first, once.
            let deps: Vec<usize> = {
                let exchanges = self.exchanges();
                let ctx = self.context(input, &exchanges, &NoTokens, true);
                request::dependencies(input.file, input.text, b, &ctx)
                    .into_iter()
                    .filter(|n| !exchanges.contains_key(n))
                    .filter_map(|n| request::find_request(input.file, &n))
                    .collect()
            };
            for d in deps {
                let mut o = self
                    .send_one(input, d, cancel, observer, i + 1, total)
                    .await;
                o.dependency = true;
                outcomes.push(o);
            }
            outcomes.push(
                self.send_one(input, b, cancel, observer, i + 1, total)
                    .await,
            );
            if self.config.fail_fast && outcomes[start..].iter().any(|o| !o.passed()) {
                break;
            }
        }
        outcomes
    }

    fn context<'a>(
        &self,
        input: &'a FileInput<'a>,
        exchanges: &'a HashMap<String, RecordedExchange>,
        tokens: &'a dyn TokenLookup,
        dry_run: bool,
    ) -> ResolveContext<'a> {
        ResolveContext {
            workspace: input.workspace,
            overrides: input.overrides,
            exchanges,
            tokens,
            dry_run,
        }
    }

    /// An outcome for a block that was not sent (its URL as written).
    fn blank_outcome(&self, input: &FileInput<'_>, block: usize) -> Outcome {
        let b = &input.file.blocks[block];
        let req = b.request.as_ref();
        // Counted within the block: run-all of a big file stays linear.
        let line = req
            .map(|r| b.line_of(input.text, r.line_range.start as usize) + 1)
            .unwrap_or(b.first_line + 1);
        Outcome {
            block,
            name: b.name().map(str::to_string),
            line,
            method: req.map(|r| r.method_name().to_string()).unwrap_or_default(),
            url: req.map(|r| r.target.as_written()).unwrap_or_default(),
            dependency: false,
            result: Err(String::new()),
        }
    }

    /// Resolve (with tokens) and build the spec for a block; errors as one sentence.
    async fn prepare(
        &self,
        input: &FileInput<'_>,
        block: usize,
        cancel: &CancellationToken,
        refreshed: Option<&HashMap<(String, TokenKind), Secret>>,
    ) -> Result<(RequestSpec, HashMap<(String, TokenKind), Secret>), String> {
        let exchanges = self.exchanges();
        let profiles = {
            let ctx = self.context(input, &exchanges, &NoTokens, true);
            request::auth_profiles(input.file, input.text, block, &ctx)
        };
        let mut tokens: HashMap<(String, TokenKind), Secret> = HashMap::new();
        for (profile, kind) in profiles {
            if let Some(t) = refreshed.and_then(|r| r.get(&(profile.clone(), kind))) {
                tokens.insert((profile, kind), t.clone());
                continue;
            }
            let got = tokio::select! {
                biased;
                _ = cancel.cancelled() => return Err(super::SendError::Cancelled.to_string()),
                t = self.tokens.token(&profile, kind) => t,
            };
            match got {
                Ok(t) => {
                    tokens.insert((profile, kind), t);
                }
                Err(e) => {
                    return Err(format!(
                        "cannot get a token for the auth profile `{profile}`: {e}"
                    ));
                }
            }
        }
        let prompts = {
            let ctx = self.context(input, &exchanges, &NoTokens, true);
            request::prompts(input.file, block, &ctx)
        };
        if let Some((name, _)) = prompts.first() {
            return Err(format!(
                "the request asks for `{name}` (# @prompt): pass --var {name}=VALUE"
            ));
        }
        let ctx = self.context(input, &exchanges, &tokens, false);
        let (spec, diags) = request::build(input.file, input.text, block, &ctx);
        if let Some(d) = diags.iter().find(|d| d.severity == Severity::Error) {
            let b = &input.file.blocks[block];
            let line = if b.range.contains_inclusive(d.range.start as usize) {
                b.line_of(input.text, d.range.start as usize) + 1
            } else {
                LineIndex::new(input.text).line_of(d.range.start as usize) + 1
            };
            return Err(format!("line {line}: {}", d.message));
        }
        let spec = spec.ok_or_else(|| "this block has no request to send".to_string())?;
        Ok((spec, tokens))
    }

    async fn send_one(
        &self,
        input: &FileInput<'_>,
        block: usize,
        cancel: &CancellationToken,
        observer: &dyn Observer,
        index: usize,
        total: usize,
    ) -> Outcome {
        let mut outcome = self.blank_outcome(input, block);
        let lbl = outcome.label();
        observer.progress(Progress::Sending {
            index,
            total,
            label: lbl.clone(),
        });
        let started = std::time::Instant::now();
        outcome.result = self
            .exchange(input, block, cancel, observer, &mut outcome)
            .await;
        observer.progress(Progress::Done {
            index,
            total,
            label: lbl,
            status: outcome.result.as_ref().ok().map(|s| s.response.status),
            elapsed: started.elapsed(),
        });
        outcome
    }

    async fn exchange(
        &self,
        input: &FileInput<'_>,
        block: usize,
        cancel: &CancellationToken,
        observer: &dyn Observer,
        outcome: &mut Outcome,
    ) -> Result<Sent, String> {
        let (mut spec, tokens) = self.prepare(input, block, cancel, None).await?;
        outcome.name = spec.name.clone();
        outcome.line = spec.line;
        outcome.method = spec.method.clone();
        outcome.url = spec.secrets.mask(&spec.url);
        if let Some(note) = &spec.options.confirm {
            let what = outcome.label();
            if !observer.confirm(&what, note).await {
                return Err(
                    "not sent: the request asks for confirmation (# @note) and it was declined"
                        .into(),
                );
            }
        }
        let opts = SendOptions {
            cancel: cancel.clone(),
            spill_dir: history::spill_dir(&self.config.cache),
            carries_token: !tokens.is_empty(),
            base_dir: Some(input.workspace.file_dir().to_path_buf()),
        };
        let mut notes = Vec::new();
        let mut response = self
            .client
            .send(&spec, &opts)
            .await
            .map_err(|e| e.to_string())?;
        if response.status == 401 && !tokens.is_empty() {
            // Refresh each token once and resend once; a second 401 is shown as is.
            let mut refreshed = HashMap::new();
            let mut refresh_error = None;
            for ((profile, kind), old) in &tokens {
                match self.tokens.refresh_after_401(profile, *kind, old).await {
                    Ok(t) => {
                        refreshed.insert((profile.clone(), *kind), t);
                    }
                    Err(e) => {
                        refresh_error = Some(format!(
                            "the server answered 401 and the token of `{profile}` could not be refreshed: {e}"
                        ));
                        break;
                    }
                }
            }
            match refresh_error {
                Some(e) => notes.push(e),
                None => {
                    let (again, _) = self.prepare(input, block, cancel, Some(&refreshed)).await?;
                    let mut secrets = again.secrets.clone();
                    secrets.extend(&spec.secrets);
                    spec = again;
                    spec.secrets = secrets;
                    discard_spill(&response);
                    response = self
                        .client
                        .send(&spec, &opts)
                        .await
                        .map_err(|e| e.to_string())?;
                    notes.push("the server answered 401: the token was refreshed and the request sent again".into());
                }
            }
        }
        if let Some(name) = input.file.blocks[block].request_name() {
            self.exchanges
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .insert(name.to_string(), response.to_recorded(&spec));
        }
        let assertions: Vec<AssertionResult> = check_all(&spec.assertions, &response)
            .into_iter()
            .map(|mut a| {
                a.reason = a.reason.map(|r| spec.secrets.mask(&r));
                a
            })
            .collect();
        let mut output = None;
        if let Some(target) = &spec.output {
            match history::write_output(target, input.workspace.file_dir(), &response.body) {
                Ok(p) => {
                    notes.push(format!("body written to {}", p.display()));
                    output = Some(p);
                }
                Err(e) => notes.push(format!(
                    "could not write the body to {}: {e}",
                    target.path.display()
                )),
            }
        }
        let keep = self.config.history && !spec.options.no_log;
        let render = |resp: &Response, body_file: Option<&std::path::Path>| {
            render_document_with_notes(
                &spec,
                resp,
                DocumentExtras {
                    assertions: &assertions,
                    body_file,
                },
                &notes,
            )
        };
        let (document, saved) = if keep {
            let origin = RequestOrigin {
                file: input.workspace.file.clone(),
                name: spec.name.clone(),
                line: spec.line,
            };
            let mut doc = String::new();
            let saved = self
                .history()
                .save(&origin, &mut response, |r, b| {
                    doc = render(r, b);
                    doc.clone()
                })
                .map_err(|e| format!("cannot write the response document: {e}"))?;
            (doc, Some(saved))
        } else {
            let doc = render(&response, None);
            // Nobody will look for a spilled body: do not leave 100 MB behind.
            discard_spill(&response);
            (doc, None)
        };
        Ok(Sent {
            response,
            assertions,
            document,
            saved,
            output,
            notes,
            secrets: spec.secrets.clone(),
            request: spec,
        })
    }
}

fn discard_spill(resp: &Response) {
    if let ResponseBody::Spilled { path, .. } = &resp.body {
        let _ = std::fs::remove_file(path);
    }
}
