//! What the editor knows from the OpenAPI specs of a document: path completion after the
//! method (path parameters as snippet placeholders), query parameters after `?`, the
//! headers an operation declares, hover on a request line, and diagnostics (warnings
//! only: the spec may be stale) for an unknown path or method and a missing required
//! query parameter or header. The specs are loaded by the front end (`EnvView::specs`).

use std::sync::Arc;

use super::Analysis;
use super::completion::{CompletionItem, ItemKind};
use super::hover::HoverInfo;
use crate::openapi::sources::NamedAt;
use crate::openapi::{Match, Operation, ParamIn, Spec, SpecSource, find_in, split_target};
use crate::syntax::ast::{Block, Diagnostic};
use crate::text::TextRange;

pub const UNKNOWN_PATH: &str = "openapi-unknown-path";
pub const UNKNOWN_METHOD: &str = "openapi-unknown-method";
pub const MISSING_PARAMETER: &str = "openapi-missing-parameter";
pub const BROKEN_SPEC: &str = "openapi-spec";
pub const BODY_SCHEMA: &str = "openapi-body";

/// A path template as a snippet: `/pets/{id}` -> `/pets/${1:id}`.
pub fn path_snippet(template: &str) -> String {
    let mut out = String::new();
    let mut n = 0;
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        let Some(close) = rest[open..].find('}').map(|c| open + c) else {
            break;
        };
        out.push_str(&escape_snippet(&rest[..open]));
        n += 1;
        out.push_str(&format!(
            "${{{n}:{}}}",
            escape_snippet(&rest[open + 1..close])
        ));
        rest = &rest[close + 1..];
    }
    out.push_str(&escape_snippet(rest));
    out
}

fn escape_snippet(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('$', "\\$")
        .replace('}', "\\}")
}

/// Completion on a request line after the method: paths, or query parameters after `?`.
/// `line_start..offset` is the text before the cursor.
pub fn complete_request_line(
    text: &str,
    line_start: usize,
    offset: usize,
    specs: &[Arc<Spec>],
) -> Vec<CompletionItem> {
    let prefix = &text[line_start..offset];
    let Some(ws) = prefix.find(char::is_whitespace) else {
        return Vec::new();
    };
    let method = &prefix[..ws];
    let target = prefix[ws..].trim_start();
    let target_start = offset - target.len();
    if target.contains(char::is_whitespace) {
        return Vec::new();
    }
    if let Some(q) = target.find('?') {
        return complete_query(method, target, target_start + q + 1, offset, specs);
    }
    let t = split_target(target);
    let mut items: Vec<CompletionItem> = Vec::new();
    let mut seen: std::collections::HashSet<&str> = std::collections::HashSet::new();
    for spec in specs {
        // Typed past a server's base path (`https://api/v1/pe`): complete after it.
        let typed: Vec<&str> = t.path.split('/').collect();
        let mut skip = 0;
        for s in &spec.servers {
            let base = s.base_path_segments();
            if !base.is_empty()
                && typed.len() > base.len() + 1
                && typed[1..=base.len()]
                    .iter()
                    .zip(&base)
                    .all(|(a, b)| a == b || b.contains('{'))
            {
                let len: usize = typed[1..=base.len()].iter().map(|x| x.len() + 1).sum();
                skip = skip.max(len);
            }
        }
        let replace = TextRange::new(target_start + t.path_start + skip, offset);
        for op in spec
            .operations
            .iter()
            .filter(|o| o.method.eq_ignore_ascii_case(method))
        {
            // A path with several methods, or in several specs, once.
            if !seen.insert(op.path.as_str()) {
                continue;
            }
            items.push(CompletionItem {
                label: op.path.clone(),
                kind: ItemKind::Path,
                detail: Some(op_title(op)),
                insert: path_snippet(&op.path),
                replace,
            });
        }
    }
    items
}

fn op_title(op: &Operation) -> String {
    op.summary
        .clone()
        .or_else(|| op.operation_id.clone())
        .unwrap_or_else(|| format!("{} {}", op.method, op.path))
}

/// The names a query string already has (`a=1&b[x]=2` -> `a`, `b[x]`).
fn query_names(query: &str) -> Vec<&str> {
    query
        .split('&')
        .map(|p| p.split('=').next().unwrap_or(p))
        .filter(|n| !n.is_empty())
        .collect()
}

/// A query string sets `name` (also as `name[...]` or `name.x`: deep objects).
fn has_query_param(names: &[&str], name: &str) -> bool {
    names.iter().any(|n| {
        *n == name
            || n.strip_prefix(name)
                .is_some_and(|rest| rest.starts_with('[') || rest.starts_with('.'))
    })
}

fn complete_query(
    method: &str,
    target: &str,
    query_start: usize,
    offset: usize,
    specs: &[Arc<Spec>],
) -> Vec<CompletionItem> {
    let Match::Operation(op) = find_in(specs, method, target) else {
        return Vec::new();
    };
    let query = &target[target.find('?').map_or(0, |q| q + 1)..];
    let word_start = query.rfind('&').map_or(0, |i| i + 1);
    let word = &query[word_start..];
    if let Some(eq) = word.find('=') {
        // A value: the parameter's enum.
        let name = &word[..eq];
        let Some(p) = op.params(ParamIn::Query).find(|p| p.name == name) else {
            return Vec::new();
        };
        let start = query_start + word_start + eq + 1;
        return p
            .enum_values
            .iter()
            .map(|v| {
                let s = v.as_str().map_or_else(|| v.to_string(), str::to_string);
                CompletionItem {
                    label: s.clone(),
                    kind: ItemKind::Value,
                    detail: Some(format!("{} of `{name}`", p.type_name)),
                    insert: s,
                    replace: TextRange::new(start, offset),
                }
            })
            .collect();
    }
    let present = query_names(&query[..word_start]);
    let start = query_start + word_start;
    let mut params: Vec<_> = op
        .params(ParamIn::Query)
        .filter(|p| !has_query_param(&present, &p.name))
        .collect();
    params.sort_by_key(|p| !p.required);
    params
        .into_iter()
        .map(|p| CompletionItem {
            label: p.name.clone(),
            kind: ItemKind::Parameter,
            detail: Some(param_detail(&p.type_name, p.required)),
            insert: format!("{}=", p.name),
            replace: TextRange::new(start, offset),
        })
        .collect()
}

fn param_detail(type_name: &str, required: bool) -> String {
    match (type_name.is_empty(), required) {
        (true, true) => "required".into(),
        (true, false) => "optional".into(),
        (false, true) => format!("{type_name}, required"),
        (false, false) => type_name.to_string(),
    }
}

/// The operation a request block sends, if a spec knows it.
pub fn operation_of<'s>(block: &Block, specs: &'s [Arc<Spec>]) -> Option<&'s Operation> {
    let req = block.request.as_ref()?;
    match find_in(specs, req.method_name(), req.target.text()) {
        Match::Operation(op) => Some(op),
        _ => None,
    }
}

/// The header names the block's operation declares, for header-name completion
/// (`start..offset` is replaced).
pub fn complete_header_names(
    a: &Analysis,
    offset: usize,
    start: usize,
    specs: &[Arc<Spec>],
) -> Vec<CompletionItem> {
    let Some(op) = a.block_at(offset).and_then(|b| operation_of(b, specs)) else {
        return Vec::new();
    };
    op.params(ParamIn::Header)
        .map(|p| CompletionItem {
            label: p.name.clone(),
            kind: ItemKind::Header,
            detail: Some(format!(
                "declared by the spec: {}",
                param_detail(&p.type_name, p.required)
            )),
            insert: format!("{}: ", p.name),
            replace: TextRange::new(start, offset),
        })
        .collect()
}

/// Hover on a request line: the operation's summary, parameters and responses.
pub fn hover(a: &Analysis, specs: &[Arc<Spec>], offset: usize) -> Option<HoverInfo> {
    let block = a.block_at(offset)?;
    let req = block.request.as_ref()?;
    let line = a.index.line_of(req.line_range.start as usize);
    if a.index.line_of(offset) != line {
        return None;
    }
    let op = operation_of(block, specs)?;
    let mut md = format!("**{}** `{}`", op.method, op.path);
    if let Some(s) = &op.summary {
        md.push_str(&format!(": {s}"));
    }
    md.push('\n');
    if let Some(d) = &op.description {
        md.push_str(&format!("\n{}\n", d.trim()));
    }
    if !op.parameters.is_empty() {
        md.push_str("\nParameters:\n");
        for p in &op.parameters {
            let mut what = vec![p.location.as_str().to_string()];
            if !p.type_name.is_empty() {
                what.push(p.type_name.clone());
            }
            if p.required {
                what.push("required".into());
            }
            md.push_str(&format!("- `{}` ({})", p.name, what.join(", ")));
            if let Some(d) = &p.description {
                md.push_str(&format!(": {}", first_line(d)));
            }
            md.push('\n');
        }
    }
    if let Some(b) = &op.body {
        md.push_str(&format!(
            "\nBody: `{}`{}\n",
            b.content_type,
            if b.required { ", required" } else { "" }
        ));
    }
    if !op.responses.is_empty() {
        md.push_str("\nResponses:\n");
        for (code, d) in &op.responses {
            md.push_str(&format!("- `{code}`: {}\n", first_line(d)));
        }
    }
    Some(HoverInfo {
        range: req.line_range,
        markdown: md,
    })
}

fn first_line(s: &str) -> &str {
    s.trim().lines().next().unwrap_or("")
}

/// Request diagnostics from the specs: warnings, never errors.
pub fn diagnostics(a: &Analysis, specs: &[Arc<Spec>]) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    if specs.is_empty() {
        return out;
    }
    for block in &a.file().blocks {
        let Some(req) = &block.request else { continue };
        if req.curl {
            continue;
        }
        let target = req.target.text();
        let t = split_target(target);
        match find_in(specs, req.method_name(), target) {
            Match::NotThisSpec => {}
            Match::UnknownPath => out.push(Diagnostic::warning(
                req.target.range,
                UNKNOWN_PATH,
                format!(
                    "The spec has no path `{}`; check the path (or the spec may be out of date).",
                    t.path
                ),
            )),
            Match::WrongMethod(methods) => out.push(Diagnostic::warning(
                req.method.as_ref().map_or(req.target.range, |m| m.range),
                UNKNOWN_METHOD,
                format!(
                    "The spec has no {} on this path, only {}.",
                    req.method_name(),
                    methods.join(", ")
                ),
            )),
            Match::Operation(op) => {
                out.extend(body_diagnostics(a, req, op, specs));
                let present = query_names(t.query.unwrap_or(""));
                for p in op.params(ParamIn::Query).filter(|p| p.required) {
                    if !has_query_param(&present, &p.name) {
                        out.push(Diagnostic::warning(
                            req.target.range,
                            MISSING_PARAMETER,
                            format!(
                                "The spec requires the query parameter `{}`{}; add `{}=` to the URL.",
                                p.name,
                                type_suffix(&p.type_name),
                                p.name
                            ),
                        ));
                    }
                }
                for p in op.params(ParamIn::Header).filter(|p| p.required) {
                    // The spec ignores these as parameters (OpenAPI 3, "in: header").
                    if ["accept", "content-type", "authorization"]
                        .contains(&p.name.to_ascii_lowercase().as_str())
                    {
                        continue;
                    }
                    if req.header(&p.name).is_none() {
                        out.push(Diagnostic::warning(
                            req.line_range,
                            MISSING_PARAMETER,
                            format!(
                                "The spec requires the header `{}`{}; add a `{}: ` line.",
                                p.name,
                                type_suffix(&p.type_name),
                                p.name
                            ),
                        ));
                    }
                }
            }
        }
    }
    out
}

/// A JSON body that does not fit the operation's request schema: a warning at each
/// offending value (`openapi::validate::body_problems`; templated values are not judged).
fn body_diagnostics(
    a: &Analysis,
    req: &crate::syntax::ast::Request,
    op: &Operation,
    specs: &[Arc<Spec>],
) -> Vec<Diagnostic> {
    use crate::syntax::ast::BodyPart;
    let Some(body) = &req.body else {
        return Vec::new();
    };
    let [BodyPart::Text(t)] = &body.parts[..] else {
        return Vec::new();
    };
    // JSON by its Content-Type, or by the spec's when the request names none.
    let json = match req.header("content-type") {
        Some(h) => h.value.text().to_ascii_lowercase().contains("json"),
        None => op.body.as_ref().is_some_and(|b| b.content_type.contains("json")),
    };
    let text = t.range.slice(&a.text);
    if !json || text.len() != t.text().len() {
        return Vec::new();
    }
    let Some(validator) =
        crate::openapi::validate::spec_of(specs, op).and_then(|s| s.request_validator(op))
    else {
        return Vec::new();
    };
    let base = t.range.start as usize;
    crate::openapi::validate::body_problems(&validator, text)
        .into_iter()
        .map(|p| {
            Diagnostic::warning(
                TextRange::new(base + p.start, base + p.end),
                BODY_SCHEMA,
                format!("The body does not fit the spec's schema: {}.", p.message),
            )
        })
        .collect()
}

fn type_suffix(t: &str) -> String {
    if t.is_empty() {
        String::new()
    } else {
        format!(" ({t})")
    }
}

/// A spec named by a `# @openapi` line that cannot be read: one warning on that line's
/// value. Specs named by an env file are reported on the env file ([`env_file_problems`]).
pub fn source_diagnostics(sources: &[(SpecSource, crate::openapi::Loaded)]) -> Vec<Diagnostic> {
    sources
        .iter()
        .filter_map(|(s, loaded)| match (&s.named_at, loaded.as_ref()) {
            (NamedAt::File(range), Err(e)) => Some(Diagnostic::warning(
                *range,
                BROKEN_SPEC,
                format!("{}: {e}", s.path.display()),
            )),
            _ => None,
        })
        .collect()
}

/// Specs named by an env file's `"openapi"` that cannot be read: `(env file, message)`.
pub fn env_file_problems(
    sources: &[(SpecSource, crate::openapi::Loaded)],
) -> Vec<(std::path::PathBuf, String)> {
    sources
        .iter()
        .filter_map(|(s, loaded)| match (&s.named_at, loaded.as_ref()) {
            (NamedAt::EnvFile(f), Err(e)) => {
                Some((f.clone(), format!("{}: {e}", s.path.display())))
            }
            _ => None,
        })
        .collect()
}

/// The range of `"key"` in an env file's text (its first occurrence as a key), else the
/// start of the file.
pub fn key_range_in(text: &str, key: &str) -> TextRange {
    let needle = format!("\"{key}\"");
    let mut from = 0;
    while let Some(i) = text[from..].find(&needle) {
        let at = from + i;
        let after = text[at + needle.len()..].trim_start();
        if after.starts_with(':') {
            return TextRange::new(at, at + needle.len());
        }
        from = at + needle.len();
    }
    TextRange::new(0, 0)
}
