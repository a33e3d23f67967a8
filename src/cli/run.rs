//! `httplens run`: send one request (`--name` / `--line`, with what it depends on) or
//! all of them in order, print the response documents (text) or one JSON array, write
//! a JUnit report if asked, and exit 0 (every request answered, every assertion held),
//! 1 (otherwise) or 2 (usage or file error).

use std::collections::BTreeMap;
use std::io::{BufRead, IsTerminal, Write};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use futures_util::future::BoxFuture;
use tokio_util::sync::CancellationToken;

use super::style::{self, Print, sgr};
use super::{EXIT_USAGE, Format, RunArgs, error_line};
use crate::auth::profile::IssueSeverity;
use crate::auth::{self, SignInObserver, env_profiles, fsutil};
use crate::env::Workspace;
use crate::exec::{
    Engine, EngineConfig, FileInput, NoTokenSource, Observer, Outcome, Progress, Sent, TokenSource,
    engine,
};
use crate::request;
use crate::syntax::ast::{HttpFile, Severity};
use crate::syntax::{self, Parse, SourceFile};

/// The token source for the selected environment of this workspace: the same store as
/// `httplens login` and the editor. A profile that needs an interactive sign-in is
/// signed in only when a browser can be opened (`HTTPLENS_BROWSER` or a desktop
/// session); otherwise the token request fails at once, saying to run `httplens login`
/// or to use a client-credentials profile.
fn token_source_for(workspace: &Workspace) -> Arc<dyn TokenSource> {
    let config = fsutil::config_dir();
    let store = match auth::open_store(None, &config) {
        Ok(s) => s,
        Err(m) => return Arc::new(NoTokenSource(m)),
    };
    let (session, issues) = env_profiles::session(workspace, store, &config);
    for i in issues {
        if i.severity == IssueSeverity::Warning {
            error_line(format!("warning: {}", i.message));
        }
    }
    Arc::new(
        session
            .interactive(env_profiles::browser_available())
            .observer(Arc::new(SignInNotes)),
    )
}

/// What a sign-in started by `run` tells the user (on stderr: stdout is the output).
struct SignInNotes;

impl SignInObserver for SignInNotes {
    fn authorize_url(&self, profile: &str, url: &str, browser_error: Option<&str>) {
        if let Some(err) = browser_error {
            error_line(err);
        }
        eprintln!(
            "Waiting for the browser to finish signing in to `{profile}` (Ctrl-C cancels). If no browser opened, visit:\n\n  {url}\n"
        );
    }
    fn device_code(&self, profile: &str, verification_uri: &str, user_code: &str) {
        eprintln!(
            "To sign in to `{profile}`, visit {verification_uri} and enter the code {user_code}"
        );
    }
    fn notice(&self, message: &str) {
        error_line(message);
    }
}

pub fn run(args: RunArgs) -> u8 {
    let Some(rt) = super::runtime() else {
        return 1;
    };
    rt.block_on(run_async(args))
}

fn parse_vars(vars: &[String]) -> Result<BTreeMap<String, String>, String> {
    let mut out = BTreeMap::new();
    for v in vars {
        match v.split_once('=') {
            Some((n, val)) if !n.trim().is_empty() => {
                out.insert(n.trim().to_string(), val.to_string());
            }
            _ => return Err(format!("--var `{v}` is not NAME=VALUE")),
        }
    }
    Ok(out)
}

/// An exit code, returned once the reason is printed.
type Exit = u8;

async fn run_async(args: RunArgs) -> u8 {
    let text = match read_request_file(&args.file) {
        Ok(t) => t,
        Err(code) => return code,
    };
    let mut overrides = match parse_vars(&args.vars) {
        Ok(v) => v,
        Err(e) => {
            error_line(e);
            return EXIT_USAGE;
        }
    };
    let parsed = parse_reporting_errors(&args.file, &text);
    let file = &parsed.file;
    let workspace = match load_workspace(&args) {
        Ok(w) => w,
        Err(code) => return code,
    };
    let target = match target_block(&args, file, &text) {
        Ok(t) => t,
        Err(code) => return code,
    };
    if !file.blocks.iter().any(|b| b.request.is_some()) {
        error_line(format!(
            "{}: the file holds no request",
            args.file.display()
        ));
        return EXIT_USAGE;
    }
    ask_prompts(file, &text, &workspace, target, &mut overrides);
    let engine = engine_for(&args, &workspace);
    let input = FileInput {
        workspace: &workspace,
        file,
        text: &text,
        overrides: &overrides,
    };
    let outcomes = send(&engine, &input, target).await;
    print_script_logs(&outcomes);
    report(&args, &outcomes, target.is_some())
}

fn read_request_file(path: &Path) -> Result<String, Exit> {
    std::fs::read_to_string(path).map_err(|e| {
        error_line(format!("{}: cannot read the file: {e}", path.display()));
        EXIT_USAGE
    })
}

/// Parse the file and print its syntax errors (the requests they leave alone still run).
fn parse_reporting_errors(path: &Path, text: &str) -> Parse {
    let parsed = syntax::parse_path(path, text);
    let source = SourceFile::new(path, text);
    for d in parsed
        .errors
        .iter()
        .filter(|d| d.severity == Severity::Error)
    {
        eprintln!("{}", source.render_diagnostic(d));
    }
    parsed
}

/// The workspace of the file with `--env` selected; its env-file errors are printed.
fn load_workspace(args: &RunArgs) -> Result<Workspace, Exit> {
    let workspace = Workspace::load(&args.file, &[], args.env.as_deref()).map_err(|e| {
        error_line(e);
        EXIT_USAGE
    })?;
    for d in workspace
        .diagnostics
        .iter()
        .filter(|d| d.severity == Severity::Error)
    {
        eprintln!("{d}");
    }
    Ok(workspace)
}

/// The block `--name` or `--line` asks for; `None` sends every request.
fn target_block(args: &RunArgs, file: &HttpFile, text: &str) -> Result<Option<usize>, Exit> {
    if let Some(name) = &args.name {
        return match request::find_request(file, name) {
            Some(b) => Ok(Some(b)),
            None => {
                error_line(format!(
                    "{}: no request is named `{name}` (# @name)",
                    args.file.display()
                ));
                Err(EXIT_USAGE)
            }
        };
    }
    let Some(line) = args.line else {
        return Ok(None);
    };
    match line
        .checked_sub(1)
        .and_then(|l| request::block_at_line(file, text, l))
    {
        Some(b) => Ok(Some(b)),
        None => {
            error_line(format!(
                "{}:{line}: no request holds this line",
                args.file.display()
            ));
            Err(EXIT_USAGE)
        }
    }
}

fn engine_for(args: &RunArgs, workspace: &Workspace) -> Engine {
    let mut config = EngineConfig::new(workspace.root.clone());
    config.history = !args.no_history;
    config.insecure = args.insecure;
    config.default_timeout = engine::timeout_from_seconds(args.timeout);
    config.fail_fast = args.fail_fast;
    Engine::new(config, token_source_for(workspace))
}

/// Send the target block (with what it depends on) or every request, with the progress
/// line on stderr. Ctrl-C stops what is in flight; the outcome says "cancelled".
async fn send(engine: &Engine, input: &FileInput<'_>, target: Option<usize>) -> Vec<Outcome> {
    let cancel = CancellationToken::new();
    {
        let cancel = cancel.clone();
        tokio::spawn(async move {
            if tokio::signal::ctrl_c().await.is_ok() {
                cancel.cancel();
            }
        });
    }
    let observer = Terminal::new(std::io::stdin().is_terminal());
    let outcomes = match target {
        Some(b) => engine.send_block(input, b, &cancel, &observer).await,
        None => engine.send_all(input, &cancel, &observer).await,
    };
    observer.clear();
    outcomes
}

/// `client.log` lines of the scripts (masked like everything else) go to stderr.
fn print_script_logs(outcomes: &[Outcome]) {
    for o in outcomes {
        if let Ok(sent) = &o.result {
            for l in &sent.logs {
                eprintln!("{}: {l}", o.label());
            }
        }
    }
}

/// Print the responses and the summary, write the JUnit report if asked: the exit code.
/// With a target (`--name`, `--line`) its dependencies are not printed; they only count.
fn report(args: &RunArgs, outcomes: &[Outcome], targeted: bool) -> u8 {
    let all_passed = outcomes.iter().all(Outcome::passed);
    let shown: Vec<&Outcome> = outcomes
        .iter()
        .filter(|o| !targeted || !o.dependency)
        .collect();
    if let Err(e) = write_output(args, &shown, &summary(outcomes), all_passed) {
        error_line(format!("cannot write the output: {e}"));
        return 1;
    }
    if let Some(path) = &args.junit
        && let Err(e) = write_junit(path, &args.file, outcomes)
    {
        error_line(format!(
            "cannot write the JUnit report {}: {e}",
            path.display()
        ));
        return 1;
    }
    if all_passed { 0 } else { 1 }
}

/// The shown outcomes on stdout (text or JSON), then the summary: after them on stdout
/// when the text output prints the rest (`--print m`), else on stderr.
fn write_output(
    args: &RunArgs,
    shown: &[&Outcome],
    summary: &str,
    all_passed: bool,
) -> std::io::Result<()> {
    let mut out = std::io::stdout().lock();
    let color = args.color.enabled();
    let written = match args.format {
        Format::Json => write_json(&mut out, shown),
        Format::Text => write_text(&mut out, shown, args.print, color),
    };
    let _ = match args.format {
        Format::Text if args.print.meta => {
            let code = if all_passed { sgr::GREEN } else { sgr::RED };
            writeln!(out, "{}", style::paint(color, code, summary))
        }
        _ => {
            eprintln!("{summary}");
            Ok(())
        }
    };
    written
}

/// `@prompt` variables of the requests to send: asked on the terminal when there is
/// one (a secret one without echo); otherwise the engine reports them as missing
/// `--var`s.
fn ask_prompts(
    file: &HttpFile,
    text: &str,
    workspace: &Workspace,
    target: Option<usize>,
    overrides: &mut BTreeMap<String, String>,
) {
    if !std::io::stdin().is_terminal() {
        return;
    }
    for p in request::prompts_to_ask(file, text, workspace, target, overrides) {
        let label = if p.description.is_empty() {
            p.name.clone()
        } else {
            p.description
        };
        eprint!("{label}: ");
        let _ = std::io::stderr().flush();
        let echo = !p.secret || !hide_input();
        let mut line = String::new();
        let read = std::io::stdin().lock().read_line(&mut line);
        if !echo {
            show_input();
            eprintln!();
        }
        if read.is_ok() {
            overrides.insert(p.name, line.trim_end_matches(['\r', '\n']).to_string());
        }
    }
}

/// Stops the terminal echoing what is typed (a secret `@prompt`); false if it cannot.
#[cfg(unix)]
fn hide_input() -> bool {
    use rustix::termios::{LocalModes, OptionalActions, tcgetattr, tcsetattr};
    let stdin = std::io::stdin();
    let Ok(mut t) = tcgetattr(&stdin) else {
        return false;
    };
    t.local_modes.remove(LocalModes::ECHO);
    tcsetattr(&stdin, OptionalActions::Now, &t).is_ok()
}

#[cfg(unix)]
fn show_input() {
    use rustix::termios::{LocalModes, OptionalActions, tcgetattr, tcsetattr};
    let stdin = std::io::stdin();
    if let Ok(mut t) = tcgetattr(&stdin) {
        t.local_modes.insert(LocalModes::ECHO);
        let _ = tcsetattr(&stdin, OptionalActions::Now, &t);
    }
}

#[cfg(not(unix))]
fn hide_input() -> bool {
    false
}

#[cfg(not(unix))]
fn show_input() {}

/// The progress line on stderr while requests are sent: how many of how many, the one
/// in flight and how many failed so far (indicatif, drawn only when stderr is a
/// terminal, so never in a CI log or a redirected file), cleared before the output;
/// and `@note` confirmations.
struct Terminal {
    bar: indicatif::ProgressBar,
    failed: AtomicUsize,
    interactive: bool,
}

impl Terminal {
    fn new(interactive: bool) -> Terminal {
        let target = if std::io::stderr().is_terminal() {
            indicatif::ProgressDrawTarget::stderr()
        } else {
            indicatif::ProgressDrawTarget::hidden()
        };
        let bar = indicatif::ProgressBar::with_draw_target(None, target);
        if let Ok(s) =
            indicatif::ProgressStyle::with_template("{spinner} [{pos}/{len}] {elapsed} {msg}")
        {
            bar.set_style(s);
        }
        Terminal {
            bar,
            failed: AtomicUsize::new(0),
            interactive,
        }
    }

    fn clear(&self) {
        self.bar.finish_and_clear();
    }

    fn failures(&self) -> String {
        match self.failed.load(Ordering::Relaxed) {
            0 => String::new(),
            n => format!(", {n} failed"),
        }
    }
}

impl Observer for Terminal {
    fn progress(&self, event: Progress) {
        match event {
            Progress::Sending {
                index,
                total,
                label,
            } => {
                self.bar.set_length(total as u64);
                self.bar.set_position(index.saturating_sub(1) as u64);
                self.bar
                    .set_message(format!("sending {label}{}", self.failures()));
                self.bar
                    .enable_steady_tick(std::time::Duration::from_millis(100));
            }
            Progress::Done {
                index,
                total,
                label,
                status,
                passed,
                ..
            } => {
                if !passed {
                    self.failed.fetch_add(1, Ordering::Relaxed);
                }
                self.bar.set_length(total as u64);
                self.bar.set_position(index as u64);
                let what = status.map_or("no response".to_string(), |s| s.to_string());
                self.bar
                    .set_message(format!("{label}: {what}{}", self.failures()));
            }
        }
    }

    fn confirm<'a>(&'a self, request: &'a str, note: &'a str) -> BoxFuture<'a, bool> {
        Box::pin(async move {
            if !self.interactive {
                self.bar.suspend(|| {
                    eprintln!(
                        "httplens: note for {request}: {note} (sent without asking: no terminal)"
                    )
                });
                return true;
            }
            let note = if note.is_empty() { "send it?" } else { note };
            self.bar.suspend(|| {
                eprint!("{request}: {note} [y/N] ");
                let _ = std::io::stderr().flush();
                let mut line = String::new();
                let _ = std::io::stdin().lock().read_line(&mut line);
                matches!(line.trim(), "y" | "Y" | "yes")
            })
        })
    }
}

/// The response documents, or the parts of them that `--print` asks for, coloured
/// when `color`. With the default `--print hbm` every line of each document is written
/// as it is (painting only adds escape codes), so the text without colour is the same
/// as before `--print` existed.
fn write_text(
    out: &mut impl Write,
    shown: &[&Outcome],
    print: Print,
    color: bool,
) -> std::io::Result<()> {
    let mut first = true;
    for o in shown {
        let sent = match &o.result {
            Ok(sent) => sent,
            Err(e) => {
                let line = style::paint(color, sgr::RED, &format!("error: {e}"));
                if print.meta {
                    if !first {
                        writeln!(out)?;
                    }
                    first = false;
                    let title = format!("### {}: {} {}", o.label(), o.method, o.url);
                    writeln!(out, "{}", style::paint(color, sgr::BOLD, &title))?;
                    writeln!(out, "{line}")?;
                } else {
                    // Without `m` stdout holds only the parts asked for: the error goes
                    // to stderr, uncoloured.
                    eprintln!("{}: error: {e}", o.label());
                }
                continue;
            }
        };
        let mut text = String::new();
        if print.meta {
            let title = format!("### {}: {} {}", o.label(), o.method, o.url);
            text.push_str(&style::paint(color, sgr::BOLD, &title));
            text.push('\n');
        }
        request_parts(&mut text, sent, print, color);
        response_parts(&mut text, sent, print, color);
        if print.meta
            && let Some(saved) = &sent.saved
        {
            let line = format!("# saved to {}", saved.document.display());
            text.push_str(&style::paint(color, sgr::DIM, &line));
            text.push('\n');
        }
        if text.is_empty() {
            continue;
        }
        if !first {
            writeln!(out)?;
        }
        first = false;
        out.write_all(text.as_bytes())?;
    }
    Ok(())
}

/// `H` and `B`: the request as it went on the wire (secrets masked as `show` masks
/// them), then a blank line before the response's parts.
fn request_parts(text: &mut String, sent: &Sent, print: Print, color: bool) {
    if !(print.request_head || print.request_body) {
        return;
    }
    let (url, headers, body) = super::show::shown_parts(&sent.request, false);
    let body = body.filter(|b| print.request_body && !b.is_empty());
    let start = text.len();
    if print.request_head {
        let line = format!("{} {url}", sent.request.method);
        text.push_str(&style::paint(color, sgr::BOLD, &line));
        text.push('\n');
        for (n, v) in &headers {
            text.push_str(&style::header_line(color, &format!("{n}: {v}")));
            text.push('\n');
        }
    }
    if let Some(b) = body {
        if text.len() > start {
            text.push('\n');
        }
        let json = sent
            .request
            .headers
            .iter()
            .any(|(n, v)| n.eq_ignore_ascii_case("content-type") && v.contains("json"));
        text.push_str(&style::body(color, &b, json));
        if !b.ends_with('\n') {
            text.push('\n');
        }
    }
    if text.len() > start && (print.response_head || print.response_body || print.meta) {
        text.push('\n');
    }
}

/// `h`, `b` and `m` of the response document, line by line.
fn response_parts(text: &mut String, sent: &Sent, print: Print, color: bool) {
    use crate::exec::render::{BodyKind, body_kind, pretty_body};
    let doc = &sent.document;
    let pretty =
        (!sent.response.body.is_spilled()).then(|| sent.secrets.mask(&pretty_body(&sent.response)));
    let (head, body, _) = style::split_document(doc, pretty.as_deref());
    let head_lines = head.lines().count();
    let body_lines = body.lines().count();
    let json = body_kind(&sent.response) == BodyKind::Json;
    // Between the head and what follows: the document's own blank line.
    let separator = print.response_head && ((print.response_body && body_lines > 0) || print.meta);
    let mut trailer_started = print.response_body;
    for (i, line) in doc.lines().enumerate() {
        let painted = if i < head_lines {
            if !print.response_head {
                continue;
            }
            if i == 0 {
                style::paint(color, style::status_color(sent.response.status), line)
            } else {
                style::header_line(color, line)
            }
        } else if i == head_lines {
            if !separator {
                continue;
            }
            String::new()
        } else if i <= head_lines + body_lines {
            if !print.response_body {
                continue;
            }
            style::body(color, line, json)
        } else {
            if !print.meta {
                continue;
            }
            // Without the body, the trailer's leading blank lines would only pile up.
            if !trailer_started && line.is_empty() {
                continue;
            }
            trailer_started = true;
            style::comment(color, line)
        };
        text.push_str(&painted);
        text.push('\n');
    }
}

/// `2 requests: 1 passed, 1 failed; assertions: 3 passed, 1 failed`.
fn summary(outcomes: &[Outcome]) -> String {
    let passed = outcomes.iter().filter(|o| o.passed()).count();
    let failed = outcomes.len() - passed;
    let (mut ap, mut af) = (0, 0);
    for o in outcomes {
        if let Ok(s) = &o.result {
            for a in &s.assertions {
                if a.passed {
                    ap += 1;
                } else {
                    af += 1;
                }
            }
        }
    }
    let mut s = format!(
        "{} request{}: {passed} passed, {failed} failed",
        outcomes.len(),
        if outcomes.len() == 1 { "" } else { "s" }
    );
    if ap + af > 0 {
        s.push_str(&format!("; assertions: {ap} passed, {af} failed"));
    }
    s
}

/// The first failed assertion as the JSON `error` (the `--format json` object of
/// `docs/cli.md` has no other place for it), or the send error.
fn outcome_error(o: &Outcome) -> Option<String> {
    match &o.result {
        Err(e) => Some(e.clone()),
        Ok(s) => s.assertions.iter().find(|a| !a.passed).map(|a| {
            format!(
                "assertion failed (line {}): {}: {}",
                a.line,
                a.text,
                a.reason.as_deref().unwrap_or("")
            )
        }),
    }
}

fn write_json(out: &mut impl Write, shown: &[&Outcome]) -> std::io::Result<()> {
    let items: Vec<serde_json::Value> = shown
        .iter()
        .map(|o| {
            let (status, headers, body, elapsed) = match &o.result {
                Ok(s) => (
                    Some(s.response.status),
                    s.response
                        .headers
                        .iter()
                        .map(|(n, v)| vec![n.clone(), s.secrets.mask(v)])
                        .collect::<Vec<_>>(),
                    s.secrets.mask(&s.response.body.text_lossy()),
                    s.response.timings.total.as_millis() as u64,
                ),
                Err(_) => (None, Vec::new(), String::new(), 0),
            };
            serde_json::json!({
                "name": o.name,
                "line": o.line,
                "method": o.method,
                "url": o.url,
                "status": status,
                "headers": headers,
                "body": body,
                "elapsed_ms": elapsed,
                "error": outcome_error(o),
            })
        })
        .collect();
    serde_json::to_writer_pretty(&mut *out, &items)?;
    writeln!(out)
}

fn xml_escape(s: &str) -> String {
    s.chars()
        .filter(|c| !c.is_control() || matches!(c, '\n' | '\t'))
        .map(|c| match c {
            '&' => "&amp;".to_string(),
            '<' => "&lt;".to_string(),
            '>' => "&gt;".to_string(),
            '"' => "&quot;".to_string(),
            '\'' => "&apos;".to_string(),
            c => c.to_string(),
        })
        .collect()
}

/// JUnit XML: one testsuite for the file, one testcase per request sent; failed
/// assertions are `<failure>`s, requests without a response `<error>`s.
fn write_junit(path: &Path, file: &Path, outcomes: &[Outcome]) -> std::io::Result<()> {
    let suite = file
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let failures = outcomes
        .iter()
        .filter(|o| matches!(&o.result, Ok(s) if s.assertions.iter().any(|a| !a.passed)))
        .count();
    let errors = outcomes.iter().filter(|o| o.result.is_err()).count();
    let time: f64 = outcomes
        .iter()
        .filter_map(|o| o.result.as_ref().ok())
        .map(|s| s.response.timings.total.as_secs_f64())
        .sum();
    let mut x = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    x.push_str(&format!(
        "<testsuites tests=\"{}\" failures=\"{failures}\" errors=\"{errors}\" time=\"{time:.3}\">\n",
        outcomes.len()
    ));
    x.push_str(&format!(
        "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{failures}\" errors=\"{errors}\" time=\"{time:.3}\">\n",
        xml_escape(&suite),
        outcomes.len()
    ));
    for o in outcomes {
        let t = o
            .result
            .as_ref()
            .map(|s| s.response.timings.total.as_secs_f64())
            .unwrap_or(0.0);
        x.push_str(&format!(
            "    <testcase classname=\"{}\" name=\"{}\" time=\"{t:.3}\">\n",
            xml_escape(&suite),
            xml_escape(&format!("{}: {} {}", o.label(), o.method, o.url))
        ));
        match &o.result {
            Err(e) => x.push_str(&format!("      <error message=\"{}\"/>\n", xml_escape(e))),
            Ok(s) => {
                for a in s.assertions.iter().filter(|a| !a.passed) {
                    let msg = format!(
                        "line {}: {}: {}",
                        a.line,
                        a.text,
                        a.reason.as_deref().unwrap_or("")
                    );
                    x.push_str(&format!(
                        "      <failure message=\"{}\">{}</failure>\n",
                        xml_escape(&msg),
                        xml_escape(&msg)
                    ));
                }
                x.push_str(&format!(
                    "      <system-out>{}</system-out>\n",
                    xml_escape(&s.document)
                ));
            }
        }
        x.push_str("    </testcase>\n");
    }
    x.push_str("  </testsuite>\n</testsuites>\n");
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::write(path, x)
}
