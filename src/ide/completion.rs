//! Completion: methods, header names and common values, variables inside `{{ }}` (file,
//! environment, system, request names), profile ids inside `$auth.token("")`, and `# @`
//! metadata keys. Context comes from the text around the cursor, so completion works
//! while the line is still half-typed.

use super::{Analysis, EnvView};
use crate::text::TextRange;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ItemKind {
    Method,
    Header,
    Value,
    Variable,
    SystemVariable,
    RequestVariable,
    Profile,
    Metadata,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompletionItem {
    pub label: String,
    pub kind: ItemKind,
    pub detail: Option<String>,
    /// Replaces `replace` (the partial word before the cursor).
    pub insert: String,
    pub replace: TextRange,
}

pub const METHODS: &[&str] = &[
    "GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "TRACE", "CONNECT", "GRAPHQL",
];

pub use crate::syntax::METADATA_KEYS;

pub const SYSTEM_VARIABLES: &[(&str, &str)] = &[
    ("$guid", "a random UUID v4"),
    ("$uuid", "a random UUID v4"),
    ("$randomInt", "$randomInt MIN MAX: a random integer"),
    (
        "$timestamp",
        "Unix seconds, optionally offset: $timestamp -1 d",
    ),
    ("$isoTimestamp", "the current time in ISO 8601"),
    (
        "$datetime",
        "$datetime rfc1123|iso8601|\"format\" [offset unit]",
    ),
    ("$localDatetime", "like $datetime, in local time"),
    (
        "$processEnv",
        "$processEnv NAME: a process environment variable",
    ),
    ("$dotenv", "$dotenv NAME: a variable from .env"),
    ("$env.", "$env.NAME: a process environment variable"),
];

const HEADERS: &[(&str, &[&str])] = &[
    (
        "Accept",
        &[
            "application/json",
            "*/*",
            "text/html",
            "application/xml",
            "text/plain",
        ],
    ),
    (
        "Accept-Encoding",
        &["gzip, deflate, br", "gzip", "identity"],
    ),
    ("Accept-Language", &["en-US,en;q=0.9", "en"]),
    ("Authorization", &["Bearer ", "Basic ", "Digest "]),
    ("Cache-Control", &["no-cache", "no-store", "max-age=0"]),
    ("Connection", &["keep-alive", "close"]),
    (
        "Content-Type",
        &[
            "application/json",
            "application/x-www-form-urlencoded",
            "multipart/form-data; boundary=boundary",
            "text/plain",
            "application/xml",
            "application/graphql",
        ],
    ),
    ("Cookie", &[]),
    ("Host", &[]),
    ("If-Match", &[]),
    ("If-Modified-Since", &[]),
    ("If-None-Match", &[]),
    ("Origin", &[]),
    ("Referer", &[]),
    ("User-Agent", &["httplens"]),
    ("X-API-Key", &[]),
    ("X-Request-Type", &["GraphQL"]),
    ("X-Requested-With", &["XMLHttpRequest"]),
];

pub fn complete(a: &Analysis, offset: usize, env: &EnvView) -> Vec<CompletionItem> {
    let text = &a.text;
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let line = a.index.line_of(offset);
    let line_start = a.index.line_start(line);
    let prefix = &text[line_start..offset];

    // Inside `{{ ... }}`?
    if let Some(open) = prefix.rfind("{{")
        && !prefix[open..].contains("}}")
    {
        let inner_start = line_start + open + 2;
        return complete_in_braces(a, &text[inner_start..offset], inner_start, env);
    }

    // `# @key` / `// @key`.
    let trimmed = prefix.trim_start();
    if (trimmed.starts_with('#') || trimmed.starts_with("//"))
        && let Some(at) = prefix.rfind('@')
        && !prefix[at..].contains(char::is_whitespace)
        && prefix[..at]
            .trim_start_matches([' ', '\t', '#', '/'])
            .is_empty()
    {
        let start = line_start + at + 1;
        return METADATA_KEYS
            .iter()
            .map(|(k, d)| CompletionItem {
                label: k.to_string(),
                kind: ItemKind::Metadata,
                detail: Some(d.to_string()),
                insert: k.to_string(),
                replace: TextRange::new(start, offset),
            })
            .collect();
    }
    if trimmed.starts_with('#') || trimmed.starts_with("//") {
        return Vec::new();
    }

    match line_role(a, line) {
        LineRole::Header => {
            if let Some(colon) = prefix.find(':') {
                let name = prefix[..colon].trim();
                let after = &prefix[colon + 1..];
                let start = line_start + colon + 1 + (after.len() - after.trim_start().len());
                HEADERS
                    .iter()
                    .filter(|(h, _)| h.eq_ignore_ascii_case(name))
                    .flat_map(|(_, vals)| vals.iter())
                    .map(|v| CompletionItem {
                        label: v.to_string(),
                        kind: ItemKind::Value,
                        detail: None,
                        insert: v.to_string(),
                        replace: TextRange::new(start, offset),
                    })
                    .collect()
            } else {
                let start = line_start + (prefix.len() - prefix.trim_start().len());
                HEADERS
                    .iter()
                    .map(|(h, _)| CompletionItem {
                        label: h.to_string(),
                        kind: ItemKind::Header,
                        detail: None,
                        insert: format!("{h}: "),
                        replace: TextRange::new(start, offset),
                    })
                    .collect()
            }
        }
        LineRole::RequestStart if !prefix.contains(char::is_whitespace) => METHODS
            .iter()
            .map(|m| CompletionItem {
                label: m.to_string(),
                kind: ItemKind::Method,
                detail: None,
                insert: format!("{m} "),
                replace: TextRange::new(line_start, offset),
            })
            .collect(),
        _ => Vec::new(),
    }
}

enum LineRole {
    /// Where a request line could start (no request yet in the block, or its line).
    RequestStart,
    /// Between the request line and the first blank line.
    Header,
    Other,
}

fn line_role(a: &Analysis, line: u32) -> LineRole {
    let offset = a.index.line_start(line);
    let Some(block) = a.block_at(offset) else {
        return LineRole::RequestStart;
    };
    let Some(req) = &block.request else {
        return LineRole::RequestStart;
    };
    let req_line = a.index.line_of(req.line_range.start as usize);
    if line == req_line {
        return LineRole::RequestStart;
    }
    if line < req_line {
        return LineRole::Other;
    }
    // Headers run from the line after the request line to the first blank line.
    for l in req_line + 1..=line {
        let r = a.index.line_range(l, &a.text);
        if l < line && r.slice(&a.text).trim().is_empty() {
            return LineRole::Other;
        }
    }
    LineRole::Header
}

fn complete_in_braces(
    a: &Analysis,
    inner: &str,
    inner_start: usize,
    env: &EnvView,
) -> Vec<CompletionItem> {
    let end = inner_start + inner.len();
    // `$auth.token("pa` -> profile ids.
    for call in ["$auth.token(\"", "$auth.idToken(\""] {
        if let Some(pos) = inner.find(call) {
            let after = &inner[pos + call.len()..];
            if after.contains('"') {
                return Vec::new();
            }
            let start = inner_start + pos + call.len();
            return env
                .profiles
                .iter()
                .map(|p| CompletionItem {
                    label: p.id.clone(),
                    kind: ItemKind::Profile,
                    detail: p.grant.clone(),
                    insert: p.id.clone(),
                    replace: TextRange::new(start, end),
                })
                .collect();
        }
    }
    let lead = inner.len() - inner.trim_start_matches([' ', '\t', '%']).len();
    let start = inner_start + lead;
    let replace = TextRange::new(start, end);
    let mut items: Vec<CompletionItem> = Vec::new();
    let mut push = |label: String, kind: ItemKind, detail: Option<String>, insert: String| {
        if !items.iter().any(|i| i.label == label) {
            items.push(CompletionItem {
                label,
                kind,
                detail,
                insert,
                replace,
            });
        }
    };
    for block in &a.file().blocks {
        for v in &block.variables {
            push(
                v.name.value.to_string(),
                ItemKind::Variable,
                Some("file variable".into()),
                v.name.value.to_string(),
            );
        }
    }
    if let Some(block) = a.block_at(inner_start) {
        for (name, _) in block.prompts() {
            push(
                name.to_string(),
                ItemKind::Variable,
                Some("asked for before sending (# @prompt)".into()),
                name.to_string(),
            );
        }
    }
    for v in &env.variables {
        let detail = match &env.selected {
            Some(e) => format!("environment \"{e}\""),
            None => "environment".to_string(),
        };
        push(
            v.name.clone(),
            ItemKind::Variable,
            Some(detail),
            v.name.clone(),
        );
    }
    for (name, doc) in SYSTEM_VARIABLES {
        push(
            name.to_string(),
            ItemKind::SystemVariable,
            Some(doc.to_string()),
            name.to_string(),
        );
    }
    for call in ["$auth.token", "$auth.idToken"] {
        push(
            format!("{call}(\"\")"),
            ItemKind::SystemVariable,
            Some("a token of an auth profile (signs in if needed)".into()),
            format!("{call}(\""),
        );
    }
    for block in &a.file().blocks {
        if let Some(name) = block.request_name() {
            for (suffix, what) in [
                ("response.body.$", "JSONPath into the response body"),
                ("response.headers.", "a response header"),
            ] {
                let label = format!("{name}.{suffix}");
                push(
                    label.clone(),
                    ItemKind::RequestVariable,
                    Some(what.into()),
                    label,
                );
            }
        }
    }
    items
}
