//! What the editor knows from the OpenAPI specs of a document: path completion after the
//! method (path parameters as snippet placeholders), query parameters after `?`, the
//! headers an operation declares, in a JSON body a skeleton of the request schema
//! (snippet), property names and `enum` values, hover on a request line, and
//! diagnostics (warnings only: the spec may be stale) for an unknown path or method, a
//! missing required query parameter or header, and a JSON body that does not fit the
//! request schema (`openapi::validate`). The specs are loaded by the front end
//! (`EnvView::specs`).

use std::sync::Arc;

use super::Analysis;
use super::completion::{CompletionItem, ItemKind};
use super::hover::HoverInfo;
use crate::openapi::schema_walk::{self, Seg};
use crate::openapi::sources::NamedAt;
use crate::openapi::{
    Loaded, Match, Operation, ParamIn, Spec, SpecSource, find_in, split_target, validate,
};
use crate::syntax::ast::{Block, Diagnostic, Request};
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
                    "The spec has no path `{}`; check the path (or the spec may be out of date)",
                    t.path
                ),
            )),
            Match::WrongMethod(methods) => out.push(Diagnostic::warning(
                req.method.as_ref().map_or(req.target.range, |m| m.range),
                UNKNOWN_METHOD,
                format!(
                    "The spec has no {} on this path, only {}",
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
                                "The spec requires the query parameter `{}`{}; add `{}=` to the URL",
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
                                "The spec requires the header `{}`{}; add a `{}: ` line",
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
    req: &Request,
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
        None => op
            .body
            .as_ref()
            .is_some_and(|b| b.content_type.contains("json")),
    };
    let text = t.range.slice(&a.text);
    if !json || text.len() != t.text().len() {
        return Vec::new();
    }
    let Some(validator) = validate::spec_of(specs, op).and_then(|s| s.request_validator(op)) else {
        return Vec::new();
    };
    let base = t.range.start as usize;
    validate::body_problems(&validator, text)
        .into_iter()
        .map(|p| {
            Diagnostic::warning(
                TextRange::new(base + p.start, base + p.end),
                BODY_SCHEMA,
                format!("The body does not fit the spec's schema: {}", p.message),
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
pub fn source_diagnostics(sources: &[(SpecSource, Loaded)]) -> Vec<Diagnostic> {
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
pub fn env_file_problems(sources: &[(SpecSource, Loaded)]) -> Vec<(std::path::PathBuf, String)> {
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

// ---------------------------------------------------------------------------------------
// Completion inside a JSON body: a skeleton of the request schema on an empty body,
// property names inside an object, enum values after `"key": `.

/// Completion in a request's body (the lines after the first blank line): on an empty
/// body, a JSON skeleton of the operation's request schema (a snippet); inside a JSON
/// body, the names an object of known schema may still have, or the `enum` values of
/// the value being typed.
pub fn complete_body(a: &Analysis, offset: usize, specs: &[Arc<Spec>]) -> Vec<CompletionItem> {
    body_items(a, offset, specs).unwrap_or_default()
}

fn body_items(a: &Analysis, offset: usize, specs: &[Arc<Spec>]) -> Option<Vec<CompletionItem>> {
    if specs.is_empty() {
        return None;
    }
    let block = a.block_at(offset)?;
    let req = block.request.as_ref()?;
    let (start, end) = body_region(a, block, req)?;
    if offset < start || offset > end {
        return None;
    }
    let op = operation_of(block, specs)?;
    let body = op.body.as_ref()?;
    if !body.content_type.contains("json") {
        return None;
    }
    let spec = specs
        .iter()
        .find(|s| s.operations.iter().any(|o| std::ptr::eq(o, op)))?;
    let root = &spec.root;
    // The schema as the spec writes it (`$ref`s followed on demand, cycles guarded
    // here).
    let schema = body.schema.as_ref()?;
    let text = &a.text[start..end];
    let at = offset - start;
    if text.trim().is_empty() {
        // An empty body: the skeleton, from the start of the cursor's line.
        let line_start = a.index.line_start(a.index.line_of(offset));
        let line = a.index.line_range(a.index.line_of(offset), &a.text);
        if !line.slice(&a.text).trim().is_empty() {
            return None;
        }
        let props = schema_walk::properties(root, schema);
        let required: Vec<&str> = props
            .iter()
            .filter(|p| p.required)
            .map(|p| p.name)
            .collect();
        return Some(vec![CompletionItem {
            label: "JSON body".into(),
            kind: ItemKind::Snippet,
            detail: Some(if required.is_empty() {
                format!("the request schema of {} {}", op.method, op.path)
            } else {
                format!("required first: {}", required.join(", "))
            }),
            insert: skeleton(root, schema),
            replace: TextRange::new(line_start.max(start), offset),
        }]);
    }
    let ctx = json_at(text, at)?;
    let after = &text[at..];
    // Inside a string: its closing quote (typed, or added by the editor) is replaced too.
    let close = usize::from(ctx.in_string && after.starts_with('"'));
    let replace = TextRange::new(start + ctx.word_start, offset + close);
    match ctx.expect {
        Expect::Key => {
            let object = schema_walk::at_path(root, schema, &ctx.path)?;
            // `"name": ` unless the colon is already there.
            let colon_follows = close == 1 && after[1..].trim_start().starts_with(':');
            let items = schema_walk::properties(root, object)
                .into_iter()
                .filter(|p| !ctx.keys.iter().any(|k| k == p.name))
                .map(|p| {
                    let quoted = serde_json::to_string(p.name).unwrap_or_default();
                    let insert = match (ctx.in_string, colon_follows) {
                        (true, true) => format!("{}\"", &quoted[1..quoted.len() - 1]),
                        (true, false) => format!("{}: ", &quoted[1..]),
                        (false, _) => format!("{quoted}: "),
                    };
                    CompletionItem {
                        label: p.name.to_string(),
                        kind: ItemKind::Property,
                        detail: Some(param_detail(
                            &schema_walk::type_name(root, p.schema),
                            p.required,
                        )),
                        insert,
                        replace,
                    }
                })
                .collect();
            Some(items)
        }
        Expect::Value => {
            let mut path = ctx.path.clone();
            path.push(match &ctx.key {
                Some(k) => Seg::Key(k.clone()),
                None => Seg::Index(ctx.index),
            });
            let value = schema_walk::at_path(root, schema, &path)?;
            let what = match &ctx.key {
                Some(k) => format!("`{k}`"),
                None => "the item".into(),
            };
            let ty = schema_walk::type_name(root, value);
            // Right after the colon: a space first.
            let space = if !ctx.in_string
                && ctx.word_start > 0
                && text.as_bytes()[ctx.word_start - 1] == b':'
            {
                " "
            } else {
                ""
            };
            let items = schema_walk::enum_values(root, value)
                .into_iter()
                .filter(|v| !ctx.in_string || v.is_string())
                .map(|v| {
                    let json = serde_json::to_string(v).unwrap_or_default();
                    let label = v.as_str().map_or_else(|| json.clone(), str::to_string);
                    let insert = if ctx.in_string {
                        json[1..].to_string()
                    } else {
                        format!("{space}{json}")
                    };
                    CompletionItem {
                        label,
                        kind: ItemKind::Value,
                        detail: Some(if ty.is_empty() {
                            format!("enum of {what}")
                        } else {
                            format!("{ty} enum of {what}")
                        }),
                        insert,
                        replace,
                    }
                })
                .collect();
            Some(items)
        }
        _ => None,
    }
}

/// Where a request's body may be: from the line after the first blank line below the
/// request line and headers, to the first handler, assertion or output redirect after
/// it (else the block's end). `None` while there is no blank line yet.
fn body_region(a: &Analysis, block: &Block, req: &Request) -> Option<(usize, usize)> {
    let head_end = req
        .headers
        .iter()
        .map(|h| h.range.end as usize)
        .chain([req.target.range.end as usize, req.line_range.end as usize])
        .max()
        .unwrap_or(0);
    let block_end = (block.range.end as usize).min(a.text.len());
    let count = a.index.line_count() as u32;
    let mut line = a.index.line_of(head_end) + 1;
    let start = loop {
        if line >= count || a.index.line_start(line) > block_end {
            return None;
        }
        if a.index
            .line_range(line, &a.text)
            .slice(&a.text)
            .trim()
            .is_empty()
        {
            break a.index.line_start(line + 1).min(block_end);
        }
        line += 1;
    };
    let end = req
        .handlers
        .iter()
        .filter(|h| !h.pre)
        .map(|h| h.range.start as usize)
        .chain(req.assertions.iter().map(|x| x.range.start as usize))
        .chain(req.output.iter().map(|o| o.range.start as usize))
        .filter(|&s| s >= start)
        .min()
        .unwrap_or(block_end)
        .min(a.text.len());
    (start <= end).then_some((start, end))
}

/// A JSON skeleton of `schema` as a snippet: required properties first, then the
/// optional ones (not `readOnly`); each value a tab stop with a placeholder of its type
/// (`""`, `0`, `false`, `[]`, `{}`, the enum's first value); required nested objects
/// written out, to a bounded depth and [`SKELETON_STOPS`] tab stops (a cycle of
/// references ends as `{}`).
pub fn skeleton(root: &serde_json::Value, schema: &serde_json::Value) -> String {
    let mut out = String::new();
    let mut n = 0;
    let top = schema_walk::deref(root, schema);
    if schema_walk::json_type(root, top) == "array"
        && let Some(items) = schema_walk::child(root, top, &Seg::Index(usize::MAX))
        && schema_walk::json_type(root, items) == "object"
    {
        out.push_str("[\n  ");
        write_skeleton(
            root,
            items,
            1,
            SKELETON_DEPTH,
            true,
            &mut n,
            &mut out,
            &mut Vec::new(),
        );
        out.push_str("\n]");
    } else {
        write_skeleton(
            root,
            schema,
            0,
            SKELETON_DEPTH,
            true,
            &mut n,
            &mut out,
            &mut Vec::new(),
        );
    }
    out
}

const SKELETON_DEPTH: usize = 6;
/// The most tab stops one skeleton writes before it stops expanding objects.
const SKELETON_STOPS: usize = 1_000;

#[allow(clippy::too_many_arguments)]
fn write_skeleton<'a>(
    root: &'a serde_json::Value,
    schema: &'a serde_json::Value,
    indent: usize,
    depth: usize,
    mut expand: bool,
    n: &mut usize,
    out: &mut String,
    seen: &mut Vec<&'a str>,
) {
    // A schema already being written further up (a cycle of `$ref`s): not again.
    let reference = schema.get("$ref").and_then(serde_json::Value::as_str);
    if let Some(r) = reference {
        if seen.contains(&r) {
            expand = false;
        }
        seen.push(r);
    }
    write_skeleton_value(root, schema, indent, depth, expand, n, out, seen);
    if reference.is_some() {
        seen.pop();
    }
}

#[allow(clippy::too_many_arguments)]
fn write_skeleton_value<'a>(
    root: &'a serde_json::Value,
    schema: &'a serde_json::Value,
    indent: usize,
    depth: usize,
    expand: bool,
    n: &mut usize,
    out: &mut String,
    seen: &mut Vec<&'a str>,
) {
    let schema = schema_walk::deref(root, schema);
    *n += 1;
    let stop = *n;
    if let Some(first) = schema_walk::enum_values(root, schema).first() {
        match first.as_str() {
            Some(s) => {
                let json = serde_json::to_string(s).unwrap_or_default();
                out.push_str(&format!(
                    "\"${{{stop}:{}}}\"",
                    escape_snippet(&json[1..json.len() - 1])
                ));
            }
            None => out.push_str(&format!(
                "${{{stop}:{}}}",
                escape_snippet(&first.to_string())
            )),
        }
        return;
    }
    match schema_walk::json_type(root, schema) {
        "object" => {
            let props = schema_walk::properties(root, schema);
            // Past `SKELETON_STOPS` tab stops (a spec whose schemas reference each
            // other densely), objects are left for the user to fill.
            if !expand || depth == 0 || props.is_empty() || *n > SKELETON_STOPS {
                out.push_str(&format!("{{${stop}}}"));
                return;
            }
            // The object itself is no tab stop: its values are.
            *n -= 1;
            let pad = "  ".repeat(indent + 1);
            out.push_str("{\n");
            for (i, p) in props.iter().enumerate() {
                let name = serde_json::to_string(p.name).unwrap_or_default();
                out.push_str(&format!("{pad}{}: ", escape_snippet(&name)));
                write_skeleton(
                    root,
                    p.schema,
                    indent + 1,
                    depth - 1,
                    p.required,
                    n,
                    out,
                    seen,
                );
                out.push_str(if i + 1 < props.len() { ",\n" } else { "\n" });
            }
            out.push_str(&"  ".repeat(indent));
            out.push('}');
        }
        "array" => out.push_str(&format!("[${stop}]")),
        "string" => out.push_str(&format!("\"${stop}\"")),
        "integer" | "number" => out.push_str(&format!("${{{stop}:0}}")),
        "boolean" => out.push_str(&format!("${{{stop}:false}}")),
        _ => out.push_str(&format!("${{{stop}:null}}")),
    }
}

/// What a JSON container expects next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expect {
    Key,
    Colon,
    Value,
    Comma,
}

#[derive(Debug)]
struct Frame {
    object: bool,
    /// The key whose value is being read (objects).
    key: Option<String>,
    /// The element being read (arrays).
    index: usize,
    expect: Expect,
    keys: Vec<String>,
}

/// Where the cursor is in a (possibly incomplete) JSON text.
#[derive(Debug)]
struct JsonAt {
    /// From the top to the innermost container holding the cursor.
    path: Vec<Seg>,
    expect: Expect,
    /// The key whose value is at the cursor (in an object).
    key: Option<String>,
    /// The element at the cursor (in an array).
    index: usize,
    /// Where the word under the cursor starts (after its opening quote in a string).
    word_start: usize,
    in_string: bool,
    /// The keys the innermost object has, before and after the cursor (not the one
    /// being typed).
    keys: Vec<String>,
}

/// Reads `text` (a JSON body being typed: unfinished, with `{{variables}}` as values)
/// and says where `cursor` is. `None` when the text is not JSON-shaped there.
fn json_at(text: &str, cursor: usize) -> Option<JsonAt> {
    let b = text.as_bytes();
    let first = text.trim_start().as_bytes().first()?;
    if *first != b'{' && *first != b'[' {
        return None;
    }
    let mut stack: Vec<Frame> = Vec::new();
    let mut snap: Option<JsonAt> = None;
    let mut snap_depth = 0;
    let take = |stack: &[Frame], word_start: usize, in_string: bool| -> Option<JsonAt> {
        let top = stack.last()?;
        let mut path = Vec::new();
        for f in &stack[..stack.len() - 1] {
            path.push(if f.object {
                Seg::Key(f.key.clone()?)
            } else {
                Seg::Index(f.index)
            });
        }
        Some(JsonAt {
            path,
            expect: top.expect,
            key: top.key.clone(),
            index: top.index,
            word_start,
            in_string,
            keys: top.keys.clone(),
        })
    };
    let mut i = 0;
    // A string or word value just read: the container moves on.
    fn value_done(stack: &mut [Frame]) {
        if let Some(top) = stack.last_mut()
            && top.expect == Expect::Value
        {
            top.expect = Expect::Comma;
        }
    }
    loop {
        if snap.is_none() && i >= cursor {
            snap = take(&stack, cursor, false);
            snap.as_ref()?;
            snap_depth = stack.len();
        }
        if i >= b.len() {
            break;
        }
        match b[i] {
            b'"' => {
                let start = i + 1;
                let mut j = start;
                while j < b.len() && b[j] != b'"' && b[j] != b'\n' {
                    j += if b[j] == b'\\' { 2 } else { 1 };
                }
                let j = j.min(b.len());
                let mut typing = false;
                if snap.is_none() && cursor >= start && cursor <= j {
                    snap = take(&stack, start, true);
                    snap.as_ref()?;
                    snap_depth = stack.len();
                    typing = true;
                }
                let s = text.get(start..j).unwrap_or("");
                if let Some(top) = stack.last_mut() {
                    // In an object, a string where no value is expected is a key (a
                    // missing comma is forgiven: a line typed above an existing one).
                    if top.object && top.expect != Expect::Value {
                        if !typing {
                            top.keys.push(s.to_string());
                        }
                        top.key = Some(s.to_string());
                        top.expect = Expect::Colon;
                    } else {
                        value_done(&mut stack);
                    }
                }
                i = if j < b.len() && b[j] == b'"' {
                    j + 1
                } else {
                    j
                };
            }
            b'{' if b.get(i + 1) == Some(&b'{') => {
                let end = text[i..].find("}}").map_or(b.len(), |e| i + e + 2);
                if snap.is_none() && cursor > i && cursor < end {
                    return None;
                }
                value_done(&mut stack);
                i = end;
            }
            c @ (b'{' | b'[') => {
                stack.push(Frame {
                    object: c == b'{',
                    key: None,
                    index: 0,
                    expect: if c == b'{' {
                        Expect::Key
                    } else {
                        Expect::Value
                    },
                    keys: Vec::new(),
                });
                i += 1;
            }
            b'}' | b']' => {
                if snap.is_some() && stack.len() == snap_depth {
                    break;
                }
                stack.pop();
                if stack.is_empty() && snap.is_none() {
                    // The text's value ended before the cursor.
                    return None;
                }
                value_done(&mut stack);
                i += 1;
            }
            b':' => {
                if let Some(top) = stack.last_mut()
                    && top.object
                {
                    top.expect = Expect::Value;
                }
                i += 1;
            }
            b',' => {
                if let Some(top) = stack.last_mut() {
                    if top.object {
                        top.expect = Expect::Key;
                        top.key = None;
                    } else {
                        top.index += 1;
                        top.expect = Expect::Value;
                    }
                }
                i += 1;
            }
            c if c.is_ascii_whitespace() => i += 1,
            _ => {
                // A number, `true`, a half-typed word.
                let mut j = i;
                while j < b.len()
                    && !matches!(b[j], b'"' | b'{' | b'}' | b'[' | b']' | b':' | b',')
                    && !b[j].is_ascii_whitespace()
                {
                    j += 1;
                }
                if snap.is_none() && cursor > i && cursor <= j {
                    snap = take(&stack, i, false);
                    snap.as_ref()?;
                    snap_depth = stack.len();
                }
                if stack.last().is_some_and(|t| t.expect == Expect::Value) {
                    value_done(&mut stack);
                }
                i = j;
            }
        }
    }
    let mut snap = snap?;
    // The keys after the cursor count too (the object may be read to its end).
    if let Some(f) = stack.get(snap_depth.checked_sub(1)?) {
        for k in &f.keys {
            if !snap.keys.contains(k) {
                snap.keys.push(k.clone());
            }
        }
    }
    Some(snap)
}
