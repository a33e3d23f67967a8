//! `httplens show FILE [--env E] [--format text|json] [--reveal]`: resolve every request
//! without sending (a dry run) and print what would go on the wire. Diagnostics go to
//! stderr as `path:line:col: severity: message` (1-based, column in characters); exit
//! 0 without errors, 1 with error diagnostics (requests still printed, unresolved
//! parts as written), 2 for a usage or file error.

use std::io::Write;
use std::path::Path;

use serde_json::{Value, json};

use crate::auth::env_profiles;
use crate::env::{ResolveContext, Workspace};
use crate::ide::{Analysis, diagnostics};
use crate::request::{self, BodySpec, RequestSpec, is_secret_header, mask_header_value};
use crate::secret::MASK;
use crate::syntax::SourceFile;
use crate::syntax::ast::{Diagnostic, Severity};

use super::style::{self, sgr};
use super::{EXIT_USAGE, Format, ShowArgs, error_line};

pub fn run(args: ShowArgs) -> u8 {
    let text = match std::fs::read_to_string(&args.file) {
        Ok(t) => t,
        Err(e) => {
            error_line(format!("cannot read {}: {e}", args.file.display()));
            return EXIT_USAGE;
        }
    };
    let ws = match Workspace::load(&args.file, &[], args.env.as_deref()) {
        Ok(ws) => ws,
        Err(e) => {
            error_line(e);
            return EXIT_USAGE;
        }
    };
    let color = args.format == Format::Text && args.color.enabled();
    let out = show(&args.file, &text, &ws, args.format, args.reveal, color);
    let mut stderr = std::io::stderr().lock();
    for line in &out.diagnostics {
        let _ = writeln!(stderr, "{line}");
    }
    let mut stdout = std::io::stdout().lock();
    let _ = stdout.write_all(out.stdout.as_bytes());
    let _ = stdout.flush();
    if out.has_errors { 1 } else { 0 }
}

/// What `show` prints, computed without touching stdout/stderr (for tests and the
/// editor).
pub struct ShowOutput {
    pub stdout: String,
    /// `path:line:col: severity: message` lines, env-file problems first.
    pub diagnostics: Vec<String>,
    pub has_errors: bool,
}

pub fn show(
    path: &Path,
    text: &str,
    ws: &Workspace,
    format: Format,
    reveal: bool,
    color: bool,
) -> ShowOutput {
    let analysis = Analysis::for_path(Some(path), text.to_string());
    let parse = &analysis.parse;
    let ctx = ResolveContext::dry_run(ws);
    let mut resolver: Vec<Diagnostic> = Vec::new();
    let mut specs = Vec::new();
    for i in 0..parse.file.blocks.len() {
        let (spec, d) = request::build(&parse.file, text, i, &ctx);
        resolver.extend(d);
        specs.extend(spec);
    }
    // Auth profiles that cannot be used, at each use (as the editor shows them).
    let (_, issues) = env_profiles::profiles(ws);
    resolver.extend(diagnostics::profile_use_diagnostics(&parse.file, &issues));
    // The same list the editor shows: parse errors, resolver findings, editor hints.
    let mut diags = diagnostics::diagnostics(&analysis, &resolver);
    diags.sort_by_key(|d| (d.range.start, d.range.end));
    diags.dedup_by(|a, b| a.range == b.range && a.message == b.message);

    let mut has_errors = false;
    let mut lines = Vec::new();
    for d in &ws.diagnostics {
        has_errors |= d.severity == Severity::Error;
        lines.push(d.to_string());
    }
    let source = SourceFile::new(path, text);
    for d in &diags {
        has_errors |= d.severity == Severity::Error;
        lines.push(source.render_diagnostic(d));
    }

    let stdout = match format {
        Format::Json => {
            let arr: Vec<Value> = specs.iter().map(|s| spec_json(s, reveal)).collect();
            let mut s = serde_json::to_string_pretty(&Value::Array(arr)).unwrap_or_default();
            s.push('\n');
            s
        }
        Format::Text => specs
            .iter()
            .map(|s| spec_text(s, reveal, color))
            .collect::<Vec<_>>()
            .join("\n"),
    };
    ShowOutput {
        stdout,
        diagnostics: lines,
        has_errors,
    }
}

/// Headers, URL and body as `show` prints them: masked unless `reveal`.
pub fn shown_parts(
    spec: &RequestSpec,
    reveal: bool,
) -> (String, Vec<(String, String)>, Option<String>) {
    let hide = |s: &str| {
        if reveal {
            s.to_string()
        } else {
            spec.secrets.mask(s)
        }
    };
    let headers = spec
        .headers
        .iter()
        .map(|(n, v)| {
            let v = if !reveal && is_secret_header(n) {
                mask_header_value(v)
            } else {
                hide(v)
            };
            (n.clone(), v)
        })
        .collect();
    let body = match &spec.body {
        BodySpec::None => None,
        BodySpec::Bytes(b) => Some(hide(&String::from_utf8_lossy(b))),
        BodySpec::File(p) => Some(match std::fs::read(p) {
            Ok(bytes) => match String::from_utf8(bytes) {
                Ok(s) => hide(&s),
                Err(e) => format!(
                    "<{} bytes of binary data from {}>",
                    e.as_bytes().len(),
                    p.display()
                ),
            },
            Err(_) => format!("< {}", p.display()),
        }),
    };
    let url = if spec.options.asterisk_form {
        "*".to_string()
    } else {
        hide(&spec.url)
    };
    (url, headers, body)
}

fn spec_json(spec: &RequestSpec, reveal: bool) -> Value {
    let (url, headers, body) = shown_parts(spec, reveal);
    json!({
        "name": spec.name,
        "line": spec.line,
        "method": spec.method,
        "url": url,
        "headers": headers.iter().map(|(n, v)| json!([n, v])).collect::<Vec<_>>(),
        "body": body,
    })
}

/// One request as text; `color` paints it as `run` paints a response (painting only
/// adds escape codes: without it the text is the same).
fn spec_text(spec: &RequestSpec, reveal: bool, color: bool) -> String {
    let (url, headers, body) = shown_parts(spec, reveal);
    let title = match &spec.name {
        Some(n) => format!("### {n} (line {})", spec.line),
        None => format!("### line {}", spec.line),
    };
    let mut s = style::paint(color, sgr::BOLD, &title);
    s.push('\n');
    s.push_str(&style::paint(
        color,
        sgr::BOLD,
        &format!("{} {url}", spec.method),
    ));
    s.push('\n');
    let mut json = false;
    for (n, v) in headers {
        json |= n.eq_ignore_ascii_case("content-type") && v.contains("json");
        s.push_str(&style::header_line(color, &format!("{n}: {v}")));
        s.push('\n');
    }
    if let Some(d) = &spec.digest {
        let pass = if reveal { d.password.as_str() } else { MASK };
        let line = format!("# digest auth as {}:{pass}", d.user);
        s.push_str(&style::comment(color, &line));
        s.push('\n');
    }
    if let Some(b) = body {
        s.push('\n');
        s.push_str(&style::body(color, &b, json));
        if !b.ends_with('\n') {
            s.push('\n');
        }
    }
    s
}
