//! The syntax tree of a `.http` file: plain structs, every node with its byte range.
//!
//! The tree is lossless in the sense that every line of the input belongs to exactly
//! one [`Line`] of exactly one [`Block`], in order, so the source can always be
//! reconstructed from the ranges; the structured view (request, headers, body, ...)
//! points into the same text.

use super::parser;
use crate::text::{LineCol, TextRange, line_col_from, newlines};

pub use super::str::Str;

/// A value together with the range of the text it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Spanned<T> {
    pub value: T,
    pub range: TextRange,
}

impl<T> Spanned<T> {
    pub fn new(value: T, range: TextRange) -> Self {
        Spanned { value, range }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    Error,
    Warning,
    Information,
    Hint,
}

/// A problem found while parsing (or, elsewhere, resolving): data, not an exception.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub range: TextRange,
    pub severity: Severity,
    /// What went wrong and, where it helps, what to do about it. One sentence.
    pub message: String,
    /// A stable short code, e.g. `syntax`, `unknown-variable`, `unknown-metadata`.
    pub code: &'static str,
}

impl Diagnostic {
    pub fn error(range: TextRange, code: &'static str, message: impl Into<String>) -> Self {
        Diagnostic {
            range,
            severity: Severity::Error,
            message: message.into(),
            code,
        }
    }
    pub fn warning(range: TextRange, code: &'static str, message: impl Into<String>) -> Self {
        Diagnostic {
            range,
            severity: Severity::Warning,
            message: message.into(),
            code,
        }
    }
    pub fn hint(range: TextRange, code: &'static str, message: impl Into<String>) -> Self {
        Diagnostic {
            range,
            severity: Severity::Hint,
            message: message.into(),
            code,
        }
    }
}

/// Result of parsing: always a tree, plus whatever was wrong with the input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Parse {
    pub file: HttpFile,
    pub errors: Vec<Diagnostic>,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct HttpFile {
    /// Blocks in file order. For a plain `.http` file they tile the whole text.
    /// For Markdown, only the insides of ```` ```http ```` fences become blocks.
    pub blocks: Vec<Block>,
    pub range: TextRange,
    /// `@name = value` definitions by name, built on first use.
    pub definitions: DefinitionIndex,
}

impl HttpFile {
    /// The first inline script (pre-request or response handler) that sets `name`
    /// with a string literal (`client.global.set("name", …)`,
    /// `request.variables.set("name", …)`), as `(block index, handler)`. Scans only
    /// when asked (for a name nothing else defines).
    pub fn script_setting(&self, name: &str) -> Option<(usize, &Handler)> {
        self.blocks.iter().enumerate().find_map(|(b, block)| {
            let req = block.request.as_ref()?;
            req.handlers.iter().find_map(|h| match &h.kind {
                HandlerKind::Script(code) if script_set_names(code).any(|n| n == name) => {
                    Some((b, h))
                }
                _ => None,
            })
        })
    }

    /// Every `@name = value` definition of `name` in file order, as
    /// `(block index, index in that block's variables)`. The index is built once per
    /// tree, so resolving every request of a big file stays linear.
    pub fn definitions_of(&self, name: &str) -> &[(usize, usize)] {
        let index = self.definitions.0.get_or_init(|| {
            let mut m: std::collections::HashMap<Str, Vec<(usize, usize)>> =
                std::collections::HashMap::new();
            for (b, block) in self.blocks.iter().enumerate() {
                for (i, d) in block.variables.iter().enumerate() {
                    m.entry(d.name.value.clone()).or_default().push((b, i));
                }
            }
            m
        });
        index.get(name).map(Vec::as_slice).unwrap_or(&[])
    }
}

/// A lazily built index of variable definitions; it compares equal to any other (it is
/// derived data) and is reset by nothing: build a new tree after changing one.
#[derive(Debug, Clone, Default)]
pub struct DefinitionIndex(
    std::sync::OnceLock<std::collections::HashMap<Str, Vec<(usize, usize)>>>,
);

impl PartialEq for DefinitionIndex {
    fn eq(&self, _other: &Self) -> bool {
        true
    }
}

impl Eq for DefinitionIndex {}

/// One request block: from a `###` separator (or the file start) up to the next one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Block {
    pub range: TextRange,
    /// 0-based line number of the block's first line (blocks tile the text, so this
    /// is the number of lines in the blocks before it).
    pub first_line: u32,
    pub separator: Option<Separator>,
    /// Every line of the block, in order, classified.
    pub lines: Box<[Line]>,
    /// `@name = value` lines in this block outside any body. In a block without a
    /// request these are file-level (shared) variables; in a request block they are
    /// the request's own variables (highest precedence).
    pub variables: Box<[VarDef]>,
    /// `# @key value` / `// @key value` lines (metadata for the request below).
    pub metadata: Box<[Meta]>,
    /// httpyac GraphQL fragments before the request line (or in a block of their
    /// own): appended to any GraphQL query of the file that spreads them.
    pub fragments: Box<[GqlFragment]>,
    pub request: Option<Request>,
}

/// An httpyac GraphQL fragment: `fragment NAME on Type { ... }` up to the next blank
/// line, or `gql NAME < ./file.gql` (the fragment read from a file at send).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GqlFragment {
    pub range: TextRange,
    pub name: Str,
    /// The file path when `file` is true; empty for an inline fragment, whose text
    /// is `range` of the file.
    pub text: Str,
    pub file: bool,
}

impl Block {
    /// 0-based line number of `offset`, which must lie inside this block. Counts only
    /// within the block, so asking for every request of a file stays linear.
    pub fn line_of(&self, text: &str, offset: usize) -> u32 {
        let start = (self.range.start as usize).min(text.len());
        let end = offset.clamp(start, text.len());
        self.first_line + newlines(&text[start..end]) as u32
    }
    /// One-based line of `offset` (inside this block) for messages (`line 12: ...`).
    pub fn line_number(&self, text: &str, offset: usize) -> u32 {
        self.line_of(text, offset) + 1
    }
    /// One-based `line:col` of `offset`, which must lie inside this block, counted
    /// from the block's first line (see [`Block::line_of`]).
    pub fn line_col(&self, text: &str, offset: usize) -> LineCol {
        line_col_from(text, self.range.start as usize, self.first_line, offset)
    }
    /// 0-based line number of the block's last line.
    pub fn last_line(&self) -> u32 {
        self.first_line + (self.lines.len() as u32).saturating_sub(1)
    }
    /// `# @name`, else the separator title.
    pub fn name(&self) -> Option<&str> {
        self.meta("name")
            .and_then(|m| m.value.as_ref())
            .map(|v| v.value.as_str())
            .filter(|v| !v.is_empty())
            .or_else(|| self.title())
    }
    /// The text after `###`, trimmed, if any.
    pub fn title(&self) -> Option<&str> {
        self.separator
            .as_ref()
            .and_then(|s| s.title.as_ref())
            .map(|t| t.value.as_str())
            .filter(|t| !t.is_empty())
    }
    /// The name request variables refer to: `# @name`, else a `### Title` that is one
    /// word (letters, digits, `_`, `-`), as kulala documents.
    pub fn request_name(&self) -> Option<&str> {
        self.explicit_name().or_else(|| {
            self.title().filter(|t| {
                t.chars()
                    .all(|c| c.is_alphanumeric() || c == '_' || c == '-')
            })
        })
    }
    /// The `# @name` value only.
    pub fn explicit_name(&self) -> Option<&str> {
        self.meta("name")
            .and_then(|m| m.value.as_ref())
            .map(|v| v.value.as_str())
            .filter(|v| !v.is_empty())
    }
    /// The `# @prompt NAME [description]` lines: `(NAME, description)`, in order.
    pub fn prompts(&self) -> impl Iterator<Item = (&str, &str)> {
        self.metadata
            .iter()
            .filter(|m| m.key.value.eq_ignore_ascii_case("prompt"))
            .filter_map(|m| {
                let v = m.value.as_ref()?.value.trim();
                let (name, description) = v.split_once(char::is_whitespace).unwrap_or((v, ""));
                (!name.is_empty()).then_some((name, description.trim()))
            })
    }
    /// The requests named by `# @ref NAME...` (httpyac: send those first), each with
    /// its range.
    pub fn refs(&self) -> impl Iterator<Item = (&str, TextRange)> {
        self.metadata
            .iter()
            .filter(|m| m.key.value.eq_ignore_ascii_case("ref"))
            .filter_map(|m| m.value.as_ref())
            .flat_map(|v| {
                let text = v.value.as_str();
                let base = text.as_ptr() as usize;
                let start = v.range.start as usize;
                text.split_whitespace().map(move |w| {
                    let at = start + (w.as_ptr() as usize - base);
                    (w, TextRange::new(at, at + w.len()))
                })
            })
    }
    pub fn meta(&self, key: &str) -> Option<&Meta> {
        self.metadata
            .iter()
            .find(|m| m.key.value.eq_ignore_ascii_case(key))
    }
    pub fn has_meta(&self, key: &str) -> bool {
        self.meta(key).is_some()
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Separator {
    pub range: TextRange,
    pub title: Option<Spanned<Str>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LineKind {
    Separator,
    Comment,
    Metadata,
    Variable,
    Blank,
    RequestLine,
    /// A continuation of the request target (indented, or starting with `?` / `&`).
    TargetContinuation,
    Header,
    Body,
    /// `< ./file` or `<@ ./file` inside a body.
    BodyFile,
    Handler,
    Assertion,
    OutputRedirect,
    /// Text outside any ```http fence in Markdown.
    Markdown,
    /// A line the parser could not place; a diagnostic points at it.
    Error,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Line {
    /// The line without its terminator.
    pub range: TextRange,
    pub kind: LineKind,
}

/// `@name = value` (also `@name value` as JetBrains allows? no: `=` is required).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VarDef {
    pub range: TextRange,
    pub name: Spanned<Str>,
    pub value: Template,
}

/// `# @key value`, `# @key = value`, `// @key value`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Meta {
    pub range: TextRange,
    pub key: Spanned<Str>,
    pub value: Option<Spanned<Str>>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// From the request line to the end of its last part (body, handlers, ...).
    pub range: TextRange,
    /// The request line's first line (for lenses and `--line`).
    pub line_range: TextRange,
    /// `None` when the request line has no method (GET is implied).
    pub method: Option<Spanned<Str>>,
    /// The target, with continuation lines joined (no separator between them).
    pub target: Template,
    pub version: Option<Spanned<Str>>,
    pub headers: Box<[Header]>,
    pub body: Option<Body>,
    pub handlers: Box<[Handler]>,
    pub assertions: Box<[Assertion]>,
    /// Boxed: rare, and big beside the rest.
    pub output: Option<Box<OutputRedirect>>,
    /// Written as a `curl` command (REST Client): the method and header names are read
    /// from its options, so their ranges are the words they came from, not slices
    /// equal to their values.
    pub curl: bool,
}

impl Request {
    pub fn method_name(&self) -> &str {
        self.method
            .as_ref()
            .map(|m| m.value.as_str())
            .unwrap_or("GET")
    }
    pub fn header(&self, name: &str) -> Option<&Header> {
        self.headers
            .iter()
            .find(|h| h.name.value.eq_ignore_ascii_case(name))
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    pub range: TextRange,
    pub name: Spanned<Str>,
    pub value: Template,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Body {
    /// From the first body line to the last non-blank body line.
    pub range: TextRange,
    pub parts: Box<[BodyPart]>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BodyPart {
    /// Literal text (may contain `{{variables}}`), line terminators included between
    /// lines as written (`\n` or `\r\n`), no trailing line terminator on the last part.
    Text(Template),
    /// `< path` (sent as is) or `<@[encoding] path` (variables substituted).
    File(FileRef),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileRef {
    pub range: TextRange,
    pub path: Template,
    /// `<@`: substitute variables in the file's content.
    pub templated: bool,
    /// `<@latin1 path`: the named encoding.
    pub encoding: Option<Str>,
}

/// A JetBrains script: a response handler (`> {% script %}`, `> ./handler.js`) after
/// the request, or a pre-request script (`< {% script %}`, `< ./pre.js`) before its
/// request line. Run in the sandbox of `crate::script`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Handler {
    pub range: TextRange,
    pub kind: HandlerKind,
    /// A pre-request script (run before the request is resolved).
    pub pre: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HandlerKind {
    Script(Str),
    File(Str),
}

/// The names a script sets with a string literal: `client.global.set("x", …)`,
/// `client.variables.global.set('x', …)`, `request.variables.set("x", …)`.
pub fn script_set_names(code: &str) -> impl Iterator<Item = &str> {
    let mut rest = code;
    std::iter::from_fn(move || {
        loop {
            let at = rest.find(".set(")?;
            let before = rest[..at].trim_end();
            let after = rest[at + ".set(".len()..].trim_start();
            rest = &rest[at + ".set(".len()..];
            if !(before.ends_with("global") || before.ends_with("variables")) {
                continue;
            }
            let Some(q) = after
                .chars()
                .next()
                .filter(|c| matches!(c, '"' | '\'' | '`'))
            else {
                continue;
            };
            let Some(end) = after[1..].find(q) else {
                continue;
            };
            let name = &after[1..1 + end];
            if !name.is_empty() && !name.contains(['\\', '\n', '$']) {
                return Some(name);
            }
        }
    })
}

/// `?? status == 200`, `?? header content-type includes json`, `?? body $.id exists`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assertion {
    pub range: TextRange,
    pub target: AssertTarget,
    pub op: AssertOp,
    /// The right-hand side, if the operator takes one.
    pub expected: Option<Template>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AssertTarget {
    Status,
    /// Response time in milliseconds.
    Duration,
    Header(Str),
    /// `body` alone (the whole body) or `body $.json.path`.
    Body(Option<Str>),
    /// `?? schema`: the response matches the schema its OpenAPI spec gives for its
    /// status (the operator is always `Conforms`).
    Schema,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AssertOp {
    Eq,
    Ne,
    Gt,
    Ge,
    Lt,
    Le,
    Includes,
    NotIncludes,
    StartsWith,
    EndsWith,
    Matches,
    Exists,
    NotExists,
    IsTrue,
    IsFalse,
    IsNumber,
    IsString,
    IsBoolean,
    IsArray,
    IsNull,
    /// `?? schema` (written without an operator).
    Conforms,
}

/// `>> ./out.json` (new file) or `>>! ./out.json` (overwrite).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutputRedirect {
    pub range: TextRange,
    pub path: Template,
    pub overwrite: bool,
}

/// Text with `{{ }}` interpolations. The tree keeps only the text as written; its
/// parts (literal text and references) are found again on each use by
/// [`Template::parts`], which costs about what storing them would, and keeps a big
/// file's tree small (docs/performance.md).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Template {
    /// Where the text is in its source: for a request target continued over several
    /// lines, from the first piece to the last.
    pub range: TextRange,
    text: Str,
    /// For text joined from pieces (a target continued on more lines): for every piece
    /// after the first, `(offset in text, offset in the source)`. (A thin box: rare.)
    #[allow(clippy::box_collection)] // one word instead of three: most templates have none
    joins: Option<Box<Vec<(u32, u32)>>>,
}

impl Template {
    /// The template of `text`, which starts at offset `start` of its source.
    pub fn new(text: &str, start: usize) -> Self {
        Template {
            range: TextRange::new(start, start + text.len()),
            text: Str::new(text),
            joins: None,
        }
    }
    /// The template of `text` whose byte `i` comes from source offset `offsets[i]`
    /// (text read through quotes and escapes: a curl word). Each run of consecutive
    /// offsets is one piece.
    pub(crate) fn mapped(text: &str, offsets: &[u32]) -> Self {
        debug_assert_eq!(text.len(), offsets.len());
        let Some(&first) = offsets.first() else {
            return Template::default();
        };
        let mut joins = Vec::new();
        let mut range = TextRange::new(first as usize, first as usize);
        for (i, &o) in offsets.iter().enumerate() {
            // A new piece where the text jumps in the source. Text httplens added is
            // placed, character by character, on one ASCII word (the `curl` of a curl
            // command): each such character is a piece of its own.
            if i > 0 && o != offsets[i - 1] + 1 && text.is_char_boundary(i) {
                joins.push((i as u32, o));
            }
            range = range.cover(TextRange::new(o as usize, o as usize + 1));
        }
        // The first piece starts at `range.start`: when the text starts elsewhere (text
        // httplens added sits before it in the source), an empty first piece there.
        if range.start != first {
            joins.insert(0, (0, first));
        }
        Template {
            range,
            text: Str::new(text),
            joins: (!joins.is_empty()).then(|| Box::new(joins)),
        }
    }
    /// The template of the text at `range` of `source`, sharing `source`.
    pub(crate) fn slice(source: &super::str::Source, range: TextRange) -> Self {
        Template {
            range,
            text: source.str(range.start as usize, range.end as usize),
            joins: None,
        }
    }
    /// A template of several pieces of one source, joined without separator (each
    /// piece is split on its own: a reference never spans two pieces).
    pub(crate) fn joined(source: &super::str::Source, pieces: &[TextRange]) -> Self {
        let Some((first, rest)) = pieces.split_first() else {
            return Template::default();
        };
        if rest.is_empty() {
            return Template::slice(source, *first);
        }
        let mut text = String::from(source.get(first.start as usize, first.end as usize));
        let mut joins = Vec::with_capacity(rest.len());
        let mut range = *first;
        for p in rest {
            joins.push((text.len() as u32, p.start));
            text.push_str(source.get(p.start as usize, p.end as usize));
            range = range.cover(*p);
        }
        Template {
            range,
            text: Str::from(text),
            joins: Some(Box::new(joins)),
        }
    }
    /// The text as written (the pieces of a continued target joined).
    pub fn text(&self) -> &str {
        &self.text
    }
    /// Moves every range `by` bytes on (a template of a value that sits inside a
    /// bigger text).
    pub fn shift(&mut self, by: usize) {
        self.range = self.range.shift(by);
        for j in self.joins.iter_mut().flat_map(|j| j.iter_mut()) {
            j.1 += by as u32;
        }
    }
    /// The pieces: `(text, offset of its start in the source)`.
    pub(crate) fn pieces(&self) -> impl Iterator<Item = (&str, usize)> {
        let joins: &[(u32, u32)] = self.joins.as_deref().map_or(&[], |j| j.as_slice());
        let n = joins.len();
        (0..=n).map(move |k| {
            let from = if k == 0 { 0 } else { joins[k - 1].0 as usize };
            let to = if k == n {
                self.text.len()
            } else {
                joins[k].0 as usize
            };
            let at = if k == 0 {
                self.range.start as usize
            } else {
                joins[k - 1].1 as usize
            };
            (&self.text[from..to], at)
        })
    }
    /// Literal text and `{{ }}` references, in order. A `{{` with no `}}` later on its
    /// line is literal text.
    pub fn parts(&self) -> impl Iterator<Item = TemplatePart<'_>> {
        self.pieces()
            .flat_map(|(text, at)| parser::template_parts(text, at))
    }
    /// The literal text with every variable written back as `{{expr}}`.
    pub fn as_written(&self) -> String {
        let mut s = String::with_capacity(self.text.len());
        for p in self.parts() {
            match p {
                TemplatePart::Text(t) => s.push_str(t.value),
                TemplatePart::Var(v) => {
                    s.push_str("{{");
                    s.push_str(&v.source);
                    s.push_str("}}");
                }
            }
        }
        s
    }
    pub fn vars(&self) -> impl Iterator<Item = VarRef> + '_ {
        self.parts().filter_map(|p| match p {
            TemplatePart::Var(v) => Some(v),
            TemplatePart::Text(_) => None,
        })
    }
    pub fn is_literal(&self) -> bool {
        !self.text.contains("{{") || self.vars().next().is_none()
    }
}

/// A piece of a [`Template`]: literal text (borrowed from the template) or a reference.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TemplatePart<'t> {
    Text(Spanned<&'t str>),
    Var(VarRef),
}

/// A `{{ ... }}` reference.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VarRef {
    /// The whole `{{ ... }}`.
    pub range: TextRange,
    /// The trimmed expression inside the braces (after a leading `%`).
    pub expr_range: TextRange,
    /// The expression as written (trimmed, without the `%`).
    pub source: Str,
    /// `{{%name}}`: percent-encode the value.
    pub encode: bool,
    pub expr: VarExpr,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VarExpr {
    /// A file, request, environment or prompt variable.
    Name(Str),
    /// `$guid`, `$randomInt 1 10`, `$datetime iso8601 1 d`, `$dotenv %NAME`, `$env.NAME`...
    /// `name` keeps the `$` (`"$randomInt"`); `$env.NAME` is `name: "$env", args: ["NAME"]`.
    /// Quoted arguments are unquoted.
    System { name: Str, args: Vec<Str> },
    /// `login.response.body.$.token`, `login.response.headers.Location`,
    /// `login.request.body.*`.
    RequestRef {
        request: Str,
        source: RefSource,
        part: RefPart,
        /// JSONPath (`$.token`), XPath, `*` for the whole body, or a header name.
        path: Str,
    },
    /// `$auth.token("id")` / `$auth.idToken("id")`.
    Auth { kind: TokenKind, profile: Str },
    /// httpyac's `{{ expression }}`: JavaScript, evaluated in the script sandbox with
    /// the variables in scope (`{{ Date.now() }}`, `{{ page * 2 }}`).
    Script(Str),
    /// Something that is not any of the above; the message says why.
    Invalid(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RefSource {
    Request,
    Response,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RefPart {
    Body,
    Headers,
    /// `response.cookies.NAME[.value|.path|...]` (kulala): from `Set-Cookie` (or the
    /// request's `Cookie` header).
    Cookies,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum TokenKind {
    Access,
    Id,
}
