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
use super::assert::{AssertionResult, check_all_with_body};
use super::client::{Client, ClientConfig, SendOptions};
use super::history::{self, History, RequestOrigin, SavedDocument};
use super::render::{DocumentExtras, render_document_with_notes};
use super::response::{Response, ResponseBody};
use super::schema;
use crate::env::{NoTokens, RecordedExchange, ResolveContext, ScriptVars, TokenLookup, Workspace};
use crate::request::{self, BodySpec, RequestSpec};
use crate::script;
use crate::secret::{Secret, SecretSet};
use crate::syntax::ast::{AssertTarget, Handler, HandlerKind, HttpFile, Severity, TokenKind};
use crate::text::{LineCol, LineIndex};

/// How long a request may take when neither `# @timeout` nor the front end's setting
/// (`run --timeout`, `httplens.timeoutSeconds`) says otherwise.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// A timeout setting in seconds: 0 means no limit.
pub fn timeout_from_seconds(seconds: u64) -> Option<Duration> {
    (seconds > 0).then(|| Duration::from_secs(seconds))
}

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
    /// Used when a request has no `@timeout` (`None`: wait as long as it takes).
    pub default_timeout: Option<Duration>,
    /// What one script may use (CPU time, memory).
    pub script_limits: script::Limits,
    /// `send_all` stops at the first request that fails or whose assertions do not
    /// hold; the rest are reported as not sent.
    pub fail_fast: bool,
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
            script_limits: script::Limits::default(),
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
    /// It has an answer (`status`) or failed (`None`); `passed` as in
    /// [`Outcome::passed`] (an answer and every assertion held).
    Done {
        index: usize,
        total: usize,
        label: String,
        status: Option<u16>,
        passed: bool,
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
    /// Notes shown in the document (script logs and errors are there too).
    pub notes: Vec<String>,
    /// `client.log` lines of the request's scripts, secrets masked.
    pub logs: Vec<String>,
    /// The secrets of the request, to mask anything else shown from the response.
    pub secrets: SecretSet,
    /// The request as it was sent (unmasked: mask it before showing it, as `show`
    /// does); `run --print HB` prints it.
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
    /// Responses of named requests, by `# @name`, for this session. Readers take a
    /// snapshot (an `Arc` clone); a new response copies the map only while an older
    /// snapshot is still alive, so sending n named requests stays linear.
    exchanges: Mutex<Arc<HashMap<String, RecordedExchange>>>,
    /// `client.global` variables scripts set, for this session.
    globals: Mutex<BTreeMap<String, String>>,
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
            exchanges: Mutex::new(Arc::new(HashMap::new())),
            globals: Mutex::new(BTreeMap::new()),
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
    pub fn exchanges(&self) -> Arc<HashMap<String, RecordedExchange>> {
        self.exchanges
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// The `client.global` variables scripts have set in this session.
    pub fn globals(&self) -> BTreeMap<String, String> {
        self.globals
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Forget the session's responses (the next send of a dependent request sends its
    /// dependencies again).
    pub fn clear_exchanges(&self) {
        *self.exchanges.lock().unwrap_or_else(|e| e.into_inner()) = Arc::new(HashMap::new());
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
        self.send_block_with(input, block, cancel, observer, self.tokens.clone())
            .await
    }

    /// [`Engine::send_block`] with the tokens of `tokens` (the sign-in session of the
    /// environment this send started in) from its first request to its last, whatever
    /// other sends do meanwhile.
    pub async fn send_block_with(
        &self,
        input: &FileInput<'_>,
        block: usize,
        cancel: &CancellationToken,
        observer: &dyn Observer,
        tokens: Arc<dyn TokenSource>,
    ) -> Vec<Outcome> {
        let run = RunCtx::new(tokens);
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
                .send_one(input, *dep, cancel, observer, i + 1, total, &run)
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
            self.send_one(input, block, cancel, observer, total, total, &run)
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
        self.send_all_with(input, cancel, observer, self.tokens.clone())
            .await
    }

    /// [`Engine::send_all`] with the tokens of `tokens` for every request of the run.
    pub async fn send_all_with(
        &self,
        input: &FileInput<'_>,
        cancel: &CancellationToken,
        observer: &dyn Observer,
        tokens: Arc<dyn TokenSource>,
    ) -> Vec<Outcome> {
        let blocks: Vec<usize> = (0..input.file.blocks.len())
            .filter(|&b| input.file.blocks[b].request.is_some())
            .collect();
        let total = blocks.len();
        let mut outcomes = Vec::new();
        let run = RunCtx::new(tokens);
        for (i, &b) in blocks.iter().enumerate() {
            if cancel.is_cancelled() {
                let mut o = self.blank_outcome(input, b);
                o.result = Err(super::SendError::Cancelled.to_string());
                outcomes.push(o);
                continue;
            }
            if self.config.fail_fast && outcomes.iter().any(|o: &Outcome| !o.passed()) {
                let mut o = self.blank_outcome(input, b);
                o.result = Err("not sent: an earlier request failed (--fail-fast)".into());
                outcomes.push(o);
                continue;
            }
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
                    .send_one(input, d, cancel, observer, i + 1, total, &run)
                    .await;
                o.dependency = true;
                outcomes.push(o);
            }
            outcomes.push(
                self.send_one(input, b, cancel, observer, i + 1, total, &run)
                    .await,
            );
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
        self.context_with(input, exchanges, tokens, ScriptVars::none(), dry_run)
    }

    fn context_with<'a>(
        &self,
        input: &'a FileInput<'a>,
        exchanges: &'a HashMap<String, RecordedExchange>,
        tokens: &'a dyn TokenLookup,
        script: &'a ScriptVars,
        dry_run: bool,
    ) -> ResolveContext<'a> {
        ResolveContext {
            workspace: input.workspace,
            overrides: input.overrides,
            exchanges,
            tokens,
            script,
            dry_run,
        }
    }

    /// An outcome for a block that was not sent (its URL as written).
    fn blank_outcome(&self, input: &FileInput<'_>, block: usize) -> Outcome {
        let b = &input.file.blocks[block];
        let req = b.request.as_ref();
        // Counted within the block: run-all of a big file stays linear.
        let line = req
            .map(|r| b.line_number(input.text, r.line_range.start as usize))
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
        vars: &ScriptVars,
        source: &dyn TokenSource,
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
                t = source.token(&profile, kind) => t,
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
        let ctx = self.context_with(input, &exchanges, &tokens, vars, false);
        let (spec, diags) = request::build(input.file, input.text, block, &ctx);
        if let Some(d) = diags.iter().find(|d| d.severity == Severity::Error) {
            let b = &input.file.blocks[block];
            let at = d.range.start as usize;
            let line = if b.range.contains_inclusive(at) {
                b.line_number(input.text, at)
            } else {
                LineIndex::new(input.text).line_col(input.text, at).line
            };
            return Err(format!("line {line}: {}", d.message));
        }
        let spec = spec.ok_or_else(|| "this block has no request to send".to_string())?;
        Ok((spec, tokens))
    }

    #[allow(clippy::too_many_arguments)]
    async fn send_one(
        &self,
        input: &FileInput<'_>,
        block: usize,
        cancel: &CancellationToken,
        observer: &dyn Observer,
        index: usize,
        total: usize,
        run: &RunCtx,
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
            .exchange(input, block, cancel, observer, &mut outcome, run)
            .await;
        observer.progress(Progress::Done {
            index,
            total,
            label: lbl,
            status: outcome.result.as_ref().ok().map(|s| s.response.status),
            passed: outcome.passed(),
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
        run: &RunCtx,
    ) -> Result<Sent, String> {
        let handlers: Vec<&Handler> = input.file.blocks[block]
            .request
            .as_ref()
            .map(|r| r.handlers.iter().collect())
            .unwrap_or_default();
        let mut vars = ScriptVars {
            global: self.globals(),
            request: BTreeMap::new(),
        };
        let mut scripts = ScriptResults::default();
        for h in handlers.iter().filter(|h| h.pre) {
            let data = self.pre_request_data(input, block, &vars);
            let run = self
                .run_script(input, block, h, data, None, &vars, &run.sandbox)
                .await;
            vars.global = run.outcome.globals.clone();
            vars.request = run.outcome.request_vars.clone();
            scripts.add(run);
        }
        self.set_globals(&vars.global);
        let (mut spec, tokens) = match self
            .prepare(input, block, cancel, None, &vars, run.tokens.as_ref())
            .await
        {
            Ok(prepared) => prepared,
            // A pre-request script that failed is most often why the request cannot be
            // built (the variable it should have set is missing): say both, script first.
            Err(e) => return Err(scripts.with_script_errors(e)),
        };
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
                match run.tokens.refresh_after_401(profile, *kind, old).await {
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
                    let (again, _) = self
                        .prepare(
                            input,
                            block,
                            cancel,
                            Some(&refreshed),
                            &vars,
                            run.tokens.as_ref(),
                        )
                        .await?;
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
        let recorded = response.to_recorded(&spec);
        if let Some(name) = input.file.blocks[block].request_name() {
            let mut all = self.exchanges.lock().unwrap_or_else(|e| e.into_inner());
            Arc::make_mut(&mut all).insert(name.to_string(), recorded.clone());
        }
        for h in handlers.iter().filter(|h| !h.pre) {
            let data = sent_request_data(&spec, &recorded);
            vars.global = self.globals();
            let run = self
                .run_script(
                    input,
                    block,
                    h,
                    data,
                    Some(response_data(&spec, &recorded)),
                    &vars,
                    &run.sandbox,
                )
                .await;
            self.set_globals(&run.outcome.globals);
            scripts.add(run);
        }
        // The body read as JSON once, if the assertions or the schema check need it.
        let json_body = super::response::JsonBody::new(&response);
        // The spec's verdict on the response: the document's last note and `?? schema`.
        let verdict = {
            let asks = spec
                .assertions
                .iter()
                .any(|a| a.target == AssertTarget::Schema);
            let specs = schema::specs_of(input.workspace, input.file);
            if specs.is_empty() && !asks {
                None
            } else {
                let written = input.file.blocks[block]
                    .request
                    .as_ref()
                    .map(|r| r.target.text().to_string())
                    .unwrap_or_default();
                Some(schema::check_with_body(
                    &specs,
                    &spec.method,
                    &written,
                    &spec.url,
                    &response,
                    &json_body,
                ))
            }
        };
        let mut assertions: Vec<AssertionResult> = check_all_with_body(
            &spec.assertions,
            &response,
            verdict.as_ref().unwrap_or(&schema::Verdict::NoSpec),
            &json_body,
        );
        drop(json_body);
        assertions.extend(scripts.assertions);
        for a in &mut assertions {
            a.reason = a.reason.take().map(|r| spec.secrets.mask(&r));
            a.text = spec.secrets.mask(&a.text);
        }
        let logs: Vec<String> = scripts.logs.iter().map(|l| spec.secrets.mask(l)).collect();
        notes.extend(logs.iter().map(|l| format!("log: {l}")));
        let mut output = None;
        if let Some(target) = &spec.output {
            match history::write_output(
                target,
                input.workspace.file_dir(),
                &input.workspace.root,
                &response.body,
            ) {
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
        if let Some(line) = verdict.as_ref().and_then(schema::Verdict::document_line) {
            notes.push(spec.secrets.mask(&line));
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
            logs,
            secrets: spec.secrets.clone(),
            request: spec,
        })
    }

    fn set_globals(&self, globals: &BTreeMap<String, String>) {
        *self.globals.lock().unwrap_or_else(|e| e.into_inner()) = globals.clone();
    }

    /// The request as a pre-request script sees it: as written, and substituted as far
    /// as a dry run goes with the variables set so far (no tokens: a dry run has none).
    fn pre_request_data(
        &self,
        input: &FileInput<'_>,
        block: usize,
        vars: &ScriptVars,
    ) -> script::RequestData {
        let Some(req) = input.file.blocks[block].request.as_ref() else {
            return script::RequestData::default();
        };
        let exchanges = self.exchanges();
        let ctx = self.context_with(input, &exchanges, &NoTokens, vars, true);
        let (spec, _) = request::build(input.file, input.text, block, &ctx);
        let body = req
            .body
            .as_ref()
            .map(|b| b.range.slice(input.text).to_string());
        let mut data = script::RequestData {
            method: req.method_name().to_string(),
            url: req.target.as_written(),
            url_substituted: None,
            headers: req
                .headers
                .iter()
                .map(|h| (h.name.value.to_string(), h.value.as_written(), None))
                .collect(),
            body_substituted: None,
            body,
        };
        if let Some(spec) = spec {
            data.url_substituted = Some(spec.url.clone());
            for (h, (_, v)) in data.headers.iter_mut().zip(spec.headers.iter()) {
                h.2 = Some(v.clone());
            }
            if let BodySpec::Bytes(b) = &spec.body {
                data.body_substituted = Some(String::from_utf8_lossy(b).into_owned());
            }
        }
        data
    }

    /// Runs one script in the file run's sandbox, off the async threads (it may take
    /// its whole CPU budget).
    #[allow(clippy::too_many_arguments)]
    async fn run_script(
        &self,
        input: &FileInput<'_>,
        block: usize,
        h: &Handler,
        request: script::RequestData,
        response: Option<script::ResponseData>,
        vars: &ScriptVars,
        sandbox: &script::Sandbox,
    ) -> ScriptRun {
        let b = &input.file.blocks[block];
        let file_name = input
            .workspace
            .file
            .file_name()
            .map(|f| f.to_string_lossy().into_owned())
            .unwrap_or_default();
        let handler_line = b.line_number(input.text, h.range.start as usize);
        let (code, origin, start) = match &h.kind {
            HandlerKind::Script(code) => {
                // The code starts right after `{%`.
                let at = h.range.slice(input.text).find("{%").map_or(0, |i| i + 2);
                let start = b.line_col(input.text, h.range.start as usize + at);
                (code.to_string(), file_name, Some(start))
            }
            HandlerKind::File(path) => {
                let full = input.workspace.file_dir().join(path.as_str());
                match std::fs::read_to_string(&full) {
                    Ok(code) => (code, path.to_string(), Some(LineCol { line: 1, col: 1 })),
                    Err(e) => {
                        return ScriptRun::failed(
                            handler_line,
                            format!("cannot read the script {path}: {e}"),
                            vars,
                        );
                    }
                }
            }
        };
        let data = script::Input {
            request,
            response,
            environment: input
                .workspace
                .env
                .vars
                .iter()
                .map(|(k, v)| (k.clone(), v.value.clone()))
                .collect(),
            globals: vars.global.clone(),
            request_vars: vars.request.clone(),
        };
        let limits = self.config.script_limits;
        let outcome = sandbox.run(code, data, limits).await;
        ScriptRun {
            outcome,
            handler_line,
            origin,
            start,
        }
    }
}

/// What one run (a `send_block` or `send_all`) keeps from its start to its end: the
/// token source it started with, and its script sandbox (its scripts share an engine,
/// no other run does).
struct RunCtx {
    tokens: Arc<dyn TokenSource>,
    sandbox: script::Sandbox,
}

impl RunCtx {
    fn new(tokens: Arc<dyn TokenSource>) -> RunCtx {
        RunCtx {
            tokens,
            sandbox: script::Sandbox::new(),
        }
    }
}

/// One script's run and where its text starts, for messages.
struct ScriptRun {
    outcome: script::Outcome,
    /// 1-based line of the `>` / `<` line in the request file.
    handler_line: u32,
    /// The request file's name (inline scripts) or the script file's path.
    origin: String,
    /// Where the script's first character is in `origin` (`None`: no script ran).
    start: Option<LineCol>,
}

impl ScriptRun {
    fn failed(handler_line: u32, message: String, vars: &ScriptVars) -> ScriptRun {
        ScriptRun {
            outcome: script::Outcome {
                globals: vars.global.clone(),
                request_vars: vars.request.clone(),
                error: Some(script::ScriptError {
                    line: 1,
                    column: 1,
                    message,
                    syntax: false,
                    stopped: false,
                }),
                ..script::Outcome::default()
            },
            handler_line,
            origin: String::new(),
            start: None,
        }
    }
}

/// What the scripts of one request added: `client.test` results (as assertions, so
/// they count like `??` lines), script errors (failed), and `client.log` lines.
#[derive(Default)]
struct ScriptResults {
    assertions: Vec<AssertionResult>,
    logs: Vec<String>,
}

impl ScriptResults {
    /// `error`, preceded by the errors of the scripts that ran before it.
    fn with_script_errors(&self, error: String) -> String {
        let mut lines: Vec<String> = self
            .assertions
            .iter()
            .filter(|a| a.text == "script" && !a.passed)
            .filter_map(|a| a.reason.as_ref().map(|r| format!("script: {r}")))
            .collect();
        lines.push(error);
        lines.join("\n")
    }

    fn add(&mut self, run: ScriptRun) {
        for t in run.outcome.tests {
            self.assertions.push(AssertionResult {
                line: run.handler_line,
                text: format!("client.test {:?}", t.name),
                passed: t.passed,
                reason: if t.passed {
                    None
                } else {
                    Some(t.message.unwrap_or_else(|| "failed".into()))
                },
            });
        }
        self.logs.extend(run.outcome.logs);
        if let Some(e) = run.outcome.error {
            let reason = match run.start {
                None => e.message,
                Some(start) => {
                    // Inline scripts: lines and columns of the request file.
                    let at = start.nested(LineCol {
                        line: e.line,
                        col: e.column,
                    });
                    format!("{}:{at}: {}", run.origin, e.message)
                }
            };
            self.assertions.push(AssertionResult {
                line: run.handler_line,
                text: "script".into(),
                passed: false,
                reason: Some(reason),
            });
        }
    }
}

/// The sent request as a response handler sees it, secrets masked.
fn sent_request_data(spec: &RequestSpec, recorded: &RecordedExchange) -> script::RequestData {
    let mask = |s: &str| spec.secrets.mask(s);
    script::RequestData {
        method: spec.method.clone(),
        url: mask(&spec.url),
        url_substituted: None,
        headers: recorded
            .request_headers
            .iter()
            .map(|(n, v)| (n.clone(), mask(v), None))
            .collect(),
        body: recorded.request_body.as_deref().map(mask),
        body_substituted: None,
    }
}

/// The response as a handler sees it, with the request's secrets masked (a server
/// that echoes a token back does not hand it to the script).
fn response_data(spec: &RequestSpec, recorded: &RecordedExchange) -> script::ResponseData {
    let mask = |s: &str| spec.secrets.mask(s);
    script::ResponseData {
        status: recorded.status,
        content_type: recorded
            .response_headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case("content-type"))
            .map(|(_, v)| v.clone()),
        headers: recorded
            .response_headers
            .iter()
            .map(|(n, v)| (n.clone(), mask(v)))
            .collect(),
        body: mask(&recorded.response_body),
    }
}

fn discard_spill(resp: &Response) {
    if let ResponseBody::Spilled { path, .. } = &resp.body {
        let _ = std::fs::remove_file(path);
    }
}
