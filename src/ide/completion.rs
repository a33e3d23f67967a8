//! Completion: methods, header names and common values, variables inside `{{ }}` (file,
//! environment, system, request names), profile ids inside `$auth.token("")`, and `# @`
//! metadata keys; what an OpenAPI spec knows (`openapi.rs`: paths, query parameters,
//! headers, JSON bodies). Context comes from the text around the cursor, so completion works
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
    /// A member of the script API (`client.global`, `response.body`, ...).
    ScriptMember,
    /// A path of an OpenAPI spec: `insert` is a snippet (`/pets/${1:id}`).
    Path,
    /// A query parameter of an OpenAPI operation.
    Parameter,
    /// A JSON body skeleton of an operation's request schema: `insert` is a snippet.
    Snippet,
    /// A property name inside a JSON body of known schema.
    Property,
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
use crate::syntax::ast::HandlerKind;

pub const SYSTEM_VARIABLES: &[(&str, &str)] = &[
    ("$guid", "a random UUID v4"),
    ("$uuid", "a random UUID v4"),
    ("$randomInt", "$randomInt MIN MAX: a random integer"),
    (
        "$timestamp",
        "Unix seconds, optionally offset: $timestamp -1 d",
    ),
    ("$isoTimestamp", "the current time in ISO 8601"),
    ("$date", "today's local date, YYYY-MM-DD (kulala)"),
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
    ("Accept-Encoding", &["gzip, deflate", "gzip", "identity"]),
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

    // Inside a script block: the JetBrains API's members after `client.` and friends.
    if in_script(a, offset) {
        return complete_script_member(text, offset);
    }

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
                // The operation's own headers first, then the common ones.
                let mut items = super::openapi::complete_header_names(a, offset, start, &env.specs);
                items.extend(
                    HEADERS
                        .iter()
                        .filter(|(h, _)| !items.iter().any(|i| i.label.eq_ignore_ascii_case(h)))
                        .map(|(h, _)| CompletionItem {
                            label: h.to_string(),
                            kind: ItemKind::Header,
                            detail: None,
                            insert: format!("{h}: "),
                            replace: TextRange::new(start, offset),
                        })
                        .collect::<Vec<_>>(),
                );
                items
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
        // After the method: the specs' paths, or query parameters after `?`.
        LineRole::RequestStart => {
            super::openapi::complete_request_line(text, line_start, offset, &env.specs)
        }
        // In a body: the request schema's skeleton, property names, enum values.
        LineRole::Other => super::openapi::complete_body(a, offset, &env.specs),
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

/// The JetBrains script API, member by member: (object path, member, what it is).
pub const SCRIPT_API: &[(&str, &str, &str)] = &[
    (
        "client",
        "global",
        "variables kept for the session (`set`, `get`, `isEmpty`, `clear`, `clearAll`)",
    ),
    (
        "client",
        "test",
        "client.test(name, fn): a named test, shown with the assertions",
    ),
    (
        "client",
        "assert",
        "client.assert(condition, message): fails the test it is in",
    ),
    (
        "client",
        "log",
        "client.log(...values): a line in the response document and on stderr",
    ),
    ("client", "exit", "client.exit(): ends the script"),
    (
        "client",
        "variables",
        "every variable scope (`global`, `environment`, `request`)",
    ),
    ("client.global", "set", "client.global.set(name, value)"),
    ("client.global", "get", "client.global.get(name)"),
    ("client.global", "isEmpty", "client.global.isEmpty()"),
    ("client.global", "clear", "client.global.clear(name)"),
    ("client.global", "clearAll", "client.global.clearAll()"),
    (
        "response",
        "body",
        "the body: parsed JSON for a JSON response, else text",
    ),
    ("response", "headers", "`valueOf(name)`, `valuesOf(name)`"),
    ("response", "status", "the status code"),
    ("response", "contentType", "`mimeType`, `charset`"),
    (
        "response.headers",
        "valueOf",
        "response.headers.valueOf(name): the first value, or null",
    ),
    (
        "response.headers",
        "valuesOf",
        "response.headers.valuesOf(name): every value",
    ),
    (
        "response.contentType",
        "mimeType",
        "the media type, e.g. application/json",
    ),
    (
        "response.contentType",
        "charset",
        "the charset, utf-8 when none is given",
    ),
    (
        "request",
        "variables",
        "variables for this request (`set`, `get`)",
    ),
    ("request", "environment", "the selected environment (`get`)"),
    ("request", "url", "`getRaw()`, `tryGetSubstituted()`"),
    ("request", "method", "the method"),
    ("request", "headers", "`all()`, `findByName(name)`"),
    ("request", "body", "`getRaw()`, `tryGetSubstituted()`"),
    (
        "request.variables",
        "set",
        "request.variables.set(name, value): for this request",
    ),
    ("request.variables", "get", "request.variables.get(name)"),
    (
        "request.environment",
        "get",
        "request.environment.get(name)",
    ),
    (
        "request.headers",
        "all",
        "every header: `name`, `getRawValue()`, `tryGetSubstitutedValue()`",
    ),
    (
        "request.headers",
        "findByName",
        "the header of that name, or null",
    ),
    (
        "crypto",
        "sha256",
        "crypto.sha256().updateWithText(s).digest().toHex()",
    ),
    ("crypto", "sha1", "crypto.sha1()"),
    ("crypto", "sha512", "crypto.sha512()"),
    (
        "crypto",
        "hmac",
        "crypto.hmac.sha256().withTextSecret(key)...",
    ),
    ("$random", "uuid", "a random UUID"),
    ("$random", "integer", "$random.integer(from, to)"),
    ("$random", "alphabetic", "$random.alphabetic(length)"),
    ("$random", "alphanumeric", "$random.alphanumeric(length)"),
    ("$random", "hexadecimal", "$random.hexadecimal(length)"),
    ("$random", "email", "a random e-mail address"),
];

/// Is `offset` inside the text of a `{% %}` script (a handler or a pre-request script)?
fn in_script(a: &Analysis, offset: usize) -> bool {
    let Some(block) = a.block_at(offset) else {
        return false;
    };
    block
        .request
        .iter()
        .flat_map(|r| r.handlers.iter())
        .any(|h| {
            h.range.start as usize <= offset
                && offset <= h.range.end as usize
                && matches!(h.kind, HandlerKind::Script(_))
                && h.range
                    .slice(&a.text)
                    .find("{%")
                    .is_some_and(|i| h.range.start as usize + i + 2 <= offset)
        })
}

/// Members of the object path before the cursor (`client.glo|` -> `client`'s members
/// starting with `glo`).
fn complete_script_member(text: &str, offset: usize) -> Vec<CompletionItem> {
    let before = &text[..offset];
    let word_start = before
        .rfind(|c: char| !(c.is_alphanumeric() || c == '_' || c == '$'))
        .map_or(0, |i| i + 1);
    let partial = &before[word_start..];
    let Some(path_end) = before[..word_start].strip_suffix('.').map(str::len) else {
        return Vec::new();
    };
    let path_start = before[..path_end]
        .rfind(|c: char| !(c.is_alphanumeric() || c == '_' || c == '$' || c == '.'))
        .map_or(0, |i| i + 1);
    let path = &before[path_start..path_end];
    let path = path
        .strip_prefix("client.variables.")
        .map_or(path.to_string(), |p| {
            if p == "global" {
                "client.global".into()
            } else {
                format!("request.{p}")
            }
        });
    SCRIPT_API
        .iter()
        .filter(|(object, member, _)| *object == path && member.starts_with(partial))
        .map(|(_, member, detail)| CompletionItem {
            label: member.to_string(),
            kind: ItemKind::ScriptMember,
            detail: Some(detail.to_string()),
            insert: member.to_string(),
            replace: TextRange::new(word_start, offset),
        })
        .collect()
}

#[cfg(test)]
mod script_completion_tests {
    use super::*;

    fn labels(text_with_cursor: &str) -> Vec<String> {
        let offset = text_with_cursor.find('|').unwrap();
        let text = text_with_cursor.replace('|', "");
        let a = Analysis::new(text);
        let env = EnvView::default();
        complete(&a, offset, &env)
            .into_iter()
            .map(|i| i.label)
            .collect()
    }

    #[test]
    fn members_of_the_script_api_inside_script_blocks() {
        assert_eq!(
            labels("GET http://h/\n\n> {%\n  client.global.s|\n%}\n"),
            ["set"]
        );
        let response = labels("GET http://h/\n\n> {% response.| %}\n");
        assert_eq!(response, ["body", "headers", "status", "contentType"]);
        assert_eq!(
            labels("< {% request.variables.| %}\nGET http://h/\n"),
            ["set", "get"]
        );
        // Outside a script, `client.` is just text.
        assert!(labels("GET http://h/\n\n{\"a\": \"client.|\"}\n").is_empty());
    }
}
