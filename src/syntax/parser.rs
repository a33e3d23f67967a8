//! The total, line-oriented parser: one pass over the lines of a `.http` file (or over
//! the ```` ```http ```` fences of a Markdown file) that classifies every line and
//! builds the tree of [`super::ast`]. Any input gives a tree; problems become
//! diagnostics.
//!
//! Choices worth knowing (see `docs/syntax.md` for the syntax itself):
//! - A block's lines run from its `###` separator (or the file start) up to the next
//!   separator; a file ending in `\n` has a last, empty line, as in an editor.
//! - Inside a body, `#`, `//` and `@x = y` lines are body text (VS Code REST Client);
//!   only a `###` separator ends a body.
//! - The body's parts are slices of the source: concatenating them, with each file's
//!   content in place of its `< path` line, gives the body exactly as written. So a
//!   text part before a file line ends with that line's terminator and the text part
//!   after it starts with the file line's terminator (what REST Client sends for
//!   multipart bodies).
//! - httpyac allows a new request without `###` after a request's body or assertions;
//!   a line `METHOD /path` (a standard method and a URL-like target) in those places
//!   starts a new block without separator.
//! - JetBrains pre-request scripts (`< {% %}` / `< ./pre.js` before the request line),
//!   httpyac `{{ }}` script blocks and `<> previous-response.json` lines are kept as
//!   `Handler` / `Comment` lines; httplens does not run them. A `<>` line ends a body
//!   (JetBrains appends them after the requests it ran).

mod assertion;
mod template;
mod worker;

use super::ast::*;
use super::curl;
use super::str::Source;
use crate::text::TextRange;
pub use template::parse_var_expr;
#[cfg(not(feature = "system-alloc"))]
pub(crate) use worker::run_on_parse_thread;

/// The `{{ }}` template of foreign text, text that does not come from the `.http` file
/// itself (env values, `<@` file contents), split exactly as the parser splits values
/// and with expressions classified by [`parse_var_expr`], so they mean the same
/// everywhere. Ranges are offsets into `text`; an unclosed `{{` stays literal text. The
/// resolver expands it with `Resolver::expand_foreign`.
pub fn parse_foreign_template(text: &str) -> Template {
    Template::new(text, 0)
}
use template::template;
pub(crate) use template::template_parts;

/// Parse a `.http` / `.rest` file.
///
/// A big file is parsed in two halves at once, split at a `###` line: such a line
/// always starts a block, and nothing the parser keeps crosses a block, so the two
/// trees joined are the tree of the whole (tested against one pass in
/// `tests/syntax.rs`). The second half is parsed on the kept parse thread over its own
/// copy of the text (a `'static` job: it borrows nothing of the caller's), which it
/// drops when done; its tree keeps only its own copy of its half (`Source`).
pub fn parse(text: &str) -> Parse {
    if text.len() >= PARALLEL_FROM
        && let Some(mid) = split_point(text)
    {
        let copy: Box<str> = text.into();
        let second = worker::start(move || {
            let text = &*copy;
            parse_part(text, mid, text.len(), blocks_in(text, mid, text.len()))
        });
        let first = parse_part(text, 0, mid, blocks_in(text, 0, text.len()));
        // A panic in the parser is a bug; should one happen on the parse thread,
        // parsing in one pass gives the caller what it would have had without it.
        if let Ok(second) = second.recv() {
            return join(first, second, text.len());
        }
    }
    parse_one_pass(text)
}

/// [`parse`] in one pass on this thread (what the two halves must add up to).
#[doc(hidden)]
pub fn parse_one_pass(text: &str) -> Parse {
    let p = parse_part(text, 0, text.len(), blocks_in(text, 0, text.len()));
    join(p, Parsed::default(), text.len())
}

/// Below this size a second thread costs more than it saves.
const PARALLEL_FROM: usize = 256 * 1024;

/// Where a line starting with `###` begins, near the middle of `text`.
fn split_point(text: &str) -> Option<usize> {
    let b = text.as_bytes();
    let mut from = text.len() / 2;
    while let Some(i) = b.get(from..)?.iter().position(|&c| c == b'\n') {
        let at = from + i + 1;
        if b.get(at..at + 3) == Some(b"###") {
            return Some(at);
        }
        from = at;
    }
    None
}

/// The blocks and diagnostics of `text[start..end]`, where `start` begins a line.
#[derive(Default)]
struct Parsed {
    blocks: Vec<Block>,
    errors: Vec<Diagnostic>,
    lines: u32,
}

/// About one block per `###` line in `text[start..end]` (SIMD search): room for them
/// up front, since growing a big vector of blocks by doubling would copy it and leave
/// up to half of it unused. A request line after a body also starts a block (a `###`
/// typed over keeps the count of blocks but not of `###` lines): 1/64 more for those.
fn blocks_in(text: &str, start: usize, end: usize) -> usize {
    let n = memchr::memmem::find_iter(&text.as_bytes()[start..end], b"\n###").count();
    n + n / 64 + 2
}

/// `room`: how many blocks to make room for (the second half's too, for the first).
fn parse_part(text: &str, start: usize, end: usize, room: usize) -> Parsed {
    let mut p = Parser::new(text, Source::new(text, start, end), room);
    let mut first = true;
    for l in lines(text, start) {
        if end < text.len() && l.start >= end {
            break;
        }
        if first {
            p.begin_block(l.start, None);
            first = false;
        }
        p.line(l);
    }
    p.end_block(end);
    Parsed {
        blocks: p.blocks,
        errors: p.errors,
        lines: p.lines_so_far,
    }
}

fn join(mut a: Parsed, b: Parsed, len: usize) -> Parse {
    // The room counted up front is a guess (a request line can start a block without
    // `###`): grow to exactly what is needed, never by doubling, and give back what a
    // guess too high left unused. The tree lives as long as the document is open.
    a.blocks.reserve_exact(b.blocks.len());
    a.blocks.extend(b.blocks.into_iter().map(|mut block| {
        block.first_line += a.lines;
        block
    }));
    if a.blocks.capacity() - a.blocks.len() > a.blocks.len() / 16 + 2 {
        a.blocks.shrink_to_fit();
    }
    a.errors.extend(b.errors);
    Parse {
        file: HttpFile {
            blocks: a.blocks,
            range: TextRange::new(0, len),
            definitions: Default::default(),
        },
        errors: a.errors,
    }
}

/// Parse a Markdown file: only the insides of ```` ```http ```` / ```` ```rest ````
/// fences hold requests. Text outside the fences (fence lines included) forms blocks
/// of [`LineKind::Markdown`] lines with no request, variables or metadata.
pub fn parse_markdown(text: &str) -> Parse {
    let mut p = Parser::new(text, Source::new(text, 0, text.len()), 16);
    // (fence char, fence length, is an http fence) of the open fence.
    let mut fence: Option<(u8, usize, bool)> = None;
    let mut in_http = false;
    let mut open_block = false;
    for l in lines(text, 0) {
        let s = &text[l.start..l.end];
        let t = s.trim_start();
        let fence_len = |c: u8| t.bytes().take_while(|&b| b == c).count();
        match fence {
            Some((c, n, http)) => {
                let k = fence_len(c);
                if k >= n && t[k..].trim().is_empty() {
                    fence = None;
                    if http {
                        in_http = false;
                        p.end_block(l.start);
                        p.begin_block(l.start, None);
                        open_block = true;
                        p.markdown_line(l);
                        continue;
                    }
                }
            }
            None => {
                for c in [b'`', b'~'] {
                    let k = fence_len(c);
                    if k >= 3 {
                        let info = t[k..].trim();
                        let lang = info.split_whitespace().next().unwrap_or("");
                        let http =
                            lang.eq_ignore_ascii_case("http") || lang.eq_ignore_ascii_case("rest");
                        fence = Some((c, k, http));
                        if http {
                            if !open_block {
                                p.begin_block(l.start, None);
                            }
                            p.markdown_line(l);
                            p.end_block(l.next);
                            p.begin_block(l.next, None);
                            open_block = true;
                            in_http = true;
                            break;
                        }
                    }
                }
                if in_http {
                    continue;
                }
            }
        }
        if !open_block {
            p.begin_block(l.start, None);
            open_block = true;
        }
        if in_http {
            p.line(l);
        } else {
            p.markdown_line(l);
        }
    }
    let mut parse = p.finish();
    // An empty fence gives an empty block: drop it (it has no lines to tile).
    parse.file.blocks.retain(|b| !b.lines.is_empty());
    parse
}

/// One line of the input: `[start, end)` without its terminator, `next` where the
/// following line starts (the text end for the last line).
#[derive(Clone, Copy, Debug)]
struct RawLine {
    start: usize,
    end: usize,
    next: usize,
}

/// The lines of `text` from `from` on, as `LineIndex` sees them (a text ending in `\n`
/// has a last, empty line).
fn lines(text: &str, from: usize) -> impl Iterator<Item = RawLine> + '_ {
    let bytes = text.as_bytes();
    let mut pos = Some(from);
    std::iter::from_fn(move || {
        let start = pos?;
        match memchr::memchr(b'\n', &bytes[start..]) {
            Some(i) => {
                let nl = start + i;
                let end = if nl > start && bytes[nl - 1] == b'\r' {
                    nl - 1
                } else {
                    nl
                };
                pos = Some(nl + 1);
                Some(RawLine {
                    start,
                    end,
                    next: nl + 1,
                })
            }
            None => {
                pos = None;
                Some(RawLine {
                    start,
                    end: bytes.len(),
                    next: bytes.len(),
                })
            }
        }
    })
}

/// Where in a block the parser is.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Phase {
    /// Before the request line: comments, metadata, variables.
    Preamble,
    /// Right after the request line: continuation lines may follow.
    Target,
    Headers,
    /// After the blank line that ends the headers, before any body text.
    PreBody,
    Body,
    /// After a handler, assertion or output redirect.
    After,
    /// Inside a REST Client `curl ...` request, which runs to a blank line (outside
    /// quotes) or to a handler, assertion or comment line.
    Curl,
}

/// A multi-line script still open (`> {%` without `%}` yet, or httpyac `{{`).
struct OpenScript {
    /// Where the `>` / `<` / `{{` is.
    start: usize,
    /// Where the script text starts (after `{%` / `{{`).
    content_start: usize,
    /// A response handler (kept in the request) rather than a pre-request or httpyac script.
    response: bool,
    /// `%}` for JetBrains scripts, `}}` for httpyac blocks.
    close: &'static str,
}

struct BodyEntry {
    line_idx: usize,
    range: TextRange,
    file: Option<FileRef>,
}

struct ReqBuilder {
    line_range: TextRange,
    method: Option<Spanned<Str>>,
    version: Option<Spanned<Str>>,
    /// The target's pieces: the request line's, then each continuation line's.
    target: Vec<TextRange>,
    headers: Vec<Header>,
    built_body: Option<Body>,
    handlers: Vec<Handler>,
    assertions: Vec<Assertion>,
    output: Option<OutputRedirect>,
    /// A target that is not a slice of the source (a `curl` request's URL).
    built_target: Option<Template>,
    /// A `curl` request: where its command text is (until it is read).
    curl: Option<TextRange>,
    /// The request was read from a `curl` command.
    curl_read: bool,
}

struct BlockBuilder {
    start: usize,
    separator: Option<Separator>,
    lines: Vec<Line>,
    variables: Vec<VarDef>,
    metadata: Vec<Meta>,
    req: Option<ReqBuilder>,
    phase: Phase,
    script: Option<OpenScript>,
    /// Pre-request scripts met before the request line; they join its handlers.
    pre_scripts: Vec<Handler>,
    /// A header came before any request line (a commented-out request line): the
    /// lines after it are that request's, not requests of their own.
    orphan: bool,
    /// httpyac GraphQL fragments; the last one is still open (up to a blank line)
    /// when `fragment_open`.
    fragments: Vec<GqlFragment>,
    fragment_open: bool,
}

struct Parser<'t> {
    text: &'t str,
    /// The same text, shared by the tree's long strings.
    src: Source,
    blocks: Vec<Block>,
    errors: Vec<Diagnostic>,
    cur: Option<BlockBuilder>,
    /// The body lines of the open block's request, reused between blocks.
    body: Vec<BodyEntry>,
    /// Lines in the blocks pushed so far (the next block's `first_line`).
    lines_so_far: u32,
    /// Buffers a block is built in, kept between blocks: the tree gets copies of
    /// exactly the right size (a big file's tree is half the size it would be with
    /// the slack of growing vectors, and faster to build).
    spare: Spare,
}

#[derive(Default)]
struct Spare {
    lines: Vec<Line>,
    variables: Vec<VarDef>,
    metadata: Vec<Meta>,
    target: Vec<TextRange>,
    headers: Vec<Header>,
    handlers: Vec<Handler>,
    assertions: Vec<Assertion>,
    parts: Vec<BodyPart>,
}

/// The items of `v` in a slice of exactly their number; `v` is left empty, with its
/// capacity, for the next block.
fn exact<T>(v: &mut Vec<T>) -> Box<[T]> {
    let mut e = Vec::with_capacity(v.len());
    e.append(v);
    e.into_boxed_slice()
}

/// The `# @key` metadata httplens knows, with what each does (completion shows these).
pub const METADATA_KEYS: &[(&str, &str)] = &[
    ("name", "name the request, for request variables and --name"),
    ("no-redirect", "do not follow redirects"),
    ("no-cookie-jar", "do not use the cookie jar"),
    ("no-log", "keep no response history"),
    ("timeout", "time limit for the whole exchange, e.g. 5 s"),
    ("connection-timeout", "time limit for connecting"),
    ("prompt", "ask for a variable's value before sending"),
    ("note", "ask for confirmation before sending"),
    ("ref", "send the named request first (once per session)"),
    (
        "openapi",
        "an OpenAPI spec for this file's requests (path relative to the file)",
    ),
];

const STANDARD_METHODS: &[&str] = &[
    "GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "TRACE", "CONNECT",
];

fn is_blank(s: &str) -> bool {
    trim(s).is_empty()
}

/// Whether a line end needs no trimming: a visible ASCII character (most lines), or
/// nothing at all. Anything else takes `str`'s Unicode-aware trim.
#[inline]
fn nothing_to_trim(b: Option<&u8>) -> bool {
    b.is_none_or(|&b| b > b' ' && b < 0x80)
}

/// `str::trim_start`, quick when there is nothing to trim.
#[inline]
fn ltrim(s: &str) -> &str {
    if nothing_to_trim(s.as_bytes().first()) {
        s
    } else {
        s.trim_start()
    }
}

/// `str::trim_end`, quick when there is nothing to trim.
#[inline]
fn rtrim(s: &str) -> &str {
    if nothing_to_trim(s.as_bytes().last()) {
        s
    } else {
        s.trim_end()
    }
}

#[inline]
fn trim(s: &str) -> &str {
    rtrim(ltrim(s))
}

fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

/// `Name:` at the start of `t` (an HTTP token then a colon): the name's length.
fn header_name_len(t: &str) -> Option<usize> {
    let n = t.bytes().take_while(|&b| is_tchar(b)).count();
    (n > 0 && t.as_bytes().get(n) == Some(&b':')).then_some(n)
}

fn trim_range(text: &str, start: usize, end: usize) -> (usize, usize) {
    let s = &text[start..end];
    let lead = s.len() - ltrim(s).len();
    let trimmed = trim(s);
    (start + lead, start + lead + trimmed.len())
}

/// `METHOD /path` with a standard method: a request line even where text could
/// otherwise continue (used to start a request without `###`, as httpyac does).
fn looks_like_request_line(t: &str) -> bool {
    let Some((m, rest)) = t.trim_end().split_once([' ', '\t']) else {
        return false;
    };
    if !STANDARD_METHODS.contains(&m) {
        return false;
    }
    let rest = rest.trim_start();
    let target = match rest.rsplit_once([' ', '\t']) {
        Some((target, version)) if version.starts_with("HTTP/") => target.trim_end(),
        _ => rest,
    };
    // One target: no space but inside `{{ }}` (`{{$randomInt 1 9}}`).
    let mut tail = target;
    let spaced = |t: &str| t.contains([' ', '\t']);
    while let Some(open) = tail.find("{{") {
        if spaced(&tail[..open]) {
            return false;
        }
        match tail[open..].find("}}") {
            Some(close) => tail = &tail[open + close + 2..],
            None => break,
        }
    }
    (target.starts_with('/')
        || target.starts_with("http://")
        || target.starts_with("https://")
        || target.starts_with("{{"))
        && !spaced(tail)
}

impl<'t> Parser<'t> {
    /// A parser for the part of `text` that `src` holds, with room for `blocks` blocks.
    fn new(text: &'t str, src: Source, blocks: usize) -> Self {
        Parser {
            text,
            src,
            blocks: Vec::with_capacity(blocks),
            errors: Vec::new(),
            cur: None,
            body: Vec::new(),
            lines_so_far: 0,
            spare: Spare::default(),
        }
    }

    fn finish(mut self) -> Parse {
        let end = self.text.len();
        self.end_block(end);
        if self.blocks.is_empty() {
            // Only reachable for Markdown without lines; `parse` always has one line.
        }
        Parse {
            file: HttpFile {
                blocks: self.blocks,
                range: TextRange::new(0, self.text.len()),
                definitions: Default::default(),
            },
            errors: self.errors,
        }
    }

    fn begin_block(&mut self, start: usize, separator: Option<Separator>) {
        self.end_block(start);
        self.cur = Some(BlockBuilder {
            start,
            separator,
            lines: std::mem::take(&mut self.spare.lines),
            variables: std::mem::take(&mut self.spare.variables),
            metadata: std::mem::take(&mut self.spare.metadata),
            req: None,
            phase: Phase::Preamble,
            script: None,
            pre_scripts: Vec::new(),
            orphan: false,
            fragments: Vec::new(),
            fragment_open: false,
        });
    }

    fn block(&mut self) -> &mut BlockBuilder {
        if self.cur.is_none() {
            self.begin_block(0, None);
        }
        self.cur.as_mut().expect("a block was just begun")
    }

    fn push_line(&mut self, range: TextRange, kind: LineKind) -> usize {
        let b = self.block();
        b.lines.push(Line { range, kind });
        b.lines.len() - 1
    }

    fn markdown_line(&mut self, l: RawLine) {
        self.push_line(TextRange::new(l.start, l.end), LineKind::Markdown);
    }

    /// Close the current block at `end` (where the next one starts).
    fn end_block(&mut self, end: usize) {
        let Some(mut b) = self.cur.take() else {
            return;
        };
        if b.lines.is_empty() {
            // A block begun where another one immediately begins (a separator on the
            // first line): nothing to keep.
            self.spare.lines = b.lines;
            self.spare.variables = b.variables;
            self.spare.metadata = b.metadata;
            return;
        }
        if let Some(s) = b.script.take() {
            self.unterminated_script(&s, &b);
        }
        if b.phase == Phase::Curl {
            self.finish_curl(&mut b);
        }
        self.finish_body(&mut b);
        let request = b.req.take().map(|mut r| {
            let line_start = r.line_range.start;
            let last = b
                .lines
                .iter()
                .rev()
                .find(|l| {
                    l.range.start >= line_start
                        && matches!(
                            l.kind,
                            LineKind::RequestLine
                                | LineKind::TargetContinuation
                                | LineKind::Header
                                | LineKind::Body
                                | LineKind::BodyFile
                                | LineKind::Handler
                                | LineKind::Assertion
                                | LineKind::OutputRedirect
                        )
                })
                .map(|l| l.range.end as usize)
                .unwrap_or(r.line_range.end as usize);
            let curl = r.curl_read;
            let request = Request {
                range: TextRange::new(line_start as usize, last.max(line_start as usize)),
                line_range: r.line_range,
                method: r.method,
                target: r
                    .built_target
                    .take()
                    .unwrap_or_else(|| Template::joined(&self.src, &r.target)),
                version: r.version,
                headers: exact(&mut r.headers),
                body: r.built_body,
                handlers: exact(&mut r.handlers),
                assertions: exact(&mut r.assertions),
                output: r.output.map(Box::new),
                curl,
            };
            r.target.clear();
            self.spare.target = r.target;
            self.spare.headers = r.headers;
            self.spare.handlers = r.handlers;
            self.spare.assertions = r.assertions;
            request
        });
        let end = end.max(b.start);
        let first_line = self.lines_so_far;
        self.lines_so_far += b.lines.len() as u32;
        self.blocks.push(Block {
            range: TextRange::new(b.start, end),
            first_line,
            separator: b.separator,
            lines: exact(&mut b.lines),
            variables: exact(&mut b.variables),
            metadata: exact(&mut b.metadata),
            fragments: exact(&mut b.fragments),
            request,
        });
        self.spare.lines = b.lines;
        self.spare.variables = b.variables;
        self.spare.metadata = b.metadata;
    }

    fn unterminated_script(&mut self, s: &OpenScript, b: &BlockBuilder) {
        let line_end = b
            .lines
            .iter()
            .find(|l| l.range.contains_inclusive(s.start))
            .map(|l| l.range.end as usize)
            .unwrap_or(s.start);
        self.errors.push(Diagnostic::error(
            TextRange::new(s.start, line_end.max(s.start)),
            "syntax",
            format!(
                "This script is never closed: end it with `{}` before the next `###`",
                s.close
            ),
        ));
    }

    /// Trim trailing blank lines off the body and build its parts.
    fn finish_body(&mut self, b: &mut BlockBuilder) {
        let Parser {
            text,
            src,
            body,
            spare,
            errors,
            ..
        } = self;
        finish_body(text, src, body, &mut spare.parts, errors, b);
    }

    fn error_line(&mut self, range: TextRange, msg: impl Into<String>) {
        self.push_line(range, LineKind::Error);
        self.errors.push(Diagnostic::error(range, "syntax", msg));
    }

    /// Classify one line of an http region.
    fn line(&mut self, l: RawLine) {
        let text = self.text;
        // A byte order mark is not part of the first line's content.
        let cs = if l.start == 0 && text.starts_with('\u{feff}') {
            3.min(l.end)
        } else {
            l.start
        };
        let s = &text[cs..l.end];
        let range = TextRange::new(l.start, l.end);
        let t = ltrim(s);
        let ts = l.end - t.len();

        // A separator may be indented like the rest of a uniformly indented file,
        // but not inside a script.
        if s.starts_with("###") || (t.starts_with("###") && self.block().script.is_none()) {
            self.separator(l, ts);
            return;
        }
        if self.block().script.is_some() {
            self.script_line(l, range);
            return;
        }
        let phase = self.block().phase;
        if phase == Phase::Curl {
            if self.curl_line(range, t, is_blank(s)) {
                return;
            }
            let mut b = self.cur.take().expect("a block is open");
            self.finish_curl(&mut b);
            self.cur = Some(b);
        }
        let phase = self.block().phase;
        if is_blank(s) {
            match phase {
                Phase::Target | Phase::Headers => self.block().phase = Phase::PreBody,
                Phase::Body => {
                    self.body_line(range, None);
                    return;
                }
                _ => {}
            }
            self.block().fragment_open = false;
            self.push_line(range, LineKind::Blank);
            return;
        }
        match phase {
            Phase::Preamble => self.preamble_line(l, range, t, ts),
            Phase::Target | Phase::Headers => self.header_line(l, range, t, ts, phase),
            Phase::PreBody | Phase::Body => self.body_or_after(l, range, t, ts, phase),
            Phase::After | Phase::Curl => self.after_line(l, range, t, ts),
        }
    }

    fn separator(&mut self, l: RawLine, cs: usize) {
        let hashes = self.text[cs..l.end]
            .bytes()
            .take_while(|&b| b == b'#')
            .count();
        let (ts, te) = trim_range(self.text, cs + hashes, l.end);
        let title = (te > ts).then(|| Spanned::new(self.src.str(ts, te), TextRange::new(ts, te)));
        let range = TextRange::new(l.start, l.end);
        self.begin_block(l.start, Some(Separator { range, title }));
        self.push_line(range, LineKind::Separator);
    }

    fn preamble_line(&mut self, l: RawLine, range: TextRange, t: &str, ts: usize) {
        if self.gql_fragment_line(range, t, ts) {
            return;
        }
        if t.starts_with('#') || t.starts_with("//") {
            self.comment_or_meta(range, t, ts, true);
        } else if t.starts_with('@') {
            self.variable(range, t, ts);
        } else if let Some(after) = t.strip_prefix('<')
            && !after.starts_with('>')
        {
            // JetBrains pre-request script: kept, not run.
            let after_trim = ltrim(after);
            if after_trim.starts_with("{%") {
                let content_start = ts + 1 + (after.len() - after_trim.len()) + 2;
                self.open_script(l, range, ts, content_start, false, "%}");
            } else {
                let (ps, pe) = trim_range(self.text, ts + 1, l.end);
                if pe > ps {
                    let h = Handler {
                        range: TextRange::new(ts, pe),
                        kind: HandlerKind::File(self.src.str(ps, pe)),
                        pre: true,
                    };
                    self.block().pre_scripts.push(h);
                }
                self.push_line(range, LineKind::Handler);
            }
        } else if t.starts_with("{{") && !t.contains("}}") {
            self.open_script(l, range, ts, ts + 2, false, "}}");
        } else if t.starts_with('>') || t.starts_with("??") {
            self.error_line(
                range,
                "A response handler, assertion or output file must follow a request line",
            );
        } else if header_name_len(t)
            .is_some_and(|n| t[n + 1..].starts_with([' ', '\t']) || t.len() == n + 1)
        {
            // `Name: value` with no request line above it: most likely the request line
            // is commented out. Never guessed into a request like `GET http://Name: ...`.
            self.block().orphan = true;
            self.error_line(
                range,
                "This header has no request line above it (is the request line commented out?); it is not sent",
            );
        } else if self.block().orphan && !looks_like_request_line(t) {
            self.error_line(
                range,
                "This line belongs to a request whose request line is missing or commented out; it is not sent",
            );
        } else {
            self.request_line(l, range, ts);
        }
    }

    /// httpyac GraphQL fragments before a request line: `fragment NAME on Type {`
    /// opens one that runs to the next blank line; `gql NAME < ./file.gql` names one
    /// kept in a file. Returns false when the line is neither (nor inside one).
    fn gql_fragment_line(&mut self, range: TextRange, t: &str, ts: usize) -> bool {
        let end = trim_range(self.text, ts, range.end as usize).1;
        if self.block().fragment_open {
            let b = self.block();
            if let Some(f) = b.fragments.last_mut() {
                f.range = TextRange::new(f.range.start as usize, end);
            }
            self.push_line(range, LineKind::Body);
            return true;
        }
        let mut words = t.split_ascii_whitespace();
        let (first, name, third) = (words.next(), words.next(), words.next());
        let fragment = match (first, name, third) {
            (Some("fragment"), Some(name), Some("on")) => GqlFragment {
                range: TextRange::new(ts, end),
                name: Str::new(name),
                text: Str::new(""),
                file: false,
            },
            (Some("gql"), Some(name), Some("<")) => {
                let lt = t.find('<').unwrap_or(0);
                let (ps, pe) = trim_range(self.text, ts + lt + 1, end);
                if pe <= ps {
                    return false;
                }
                GqlFragment {
                    range: TextRange::new(ts, end),
                    name: Str::new(name),
                    text: self.src.str(ps, pe),
                    file: true,
                }
            }
            _ => return false,
        };
        let b = self.block();
        b.fragment_open = !fragment.file;
        b.fragments.push(fragment);
        self.push_line(range, LineKind::Body);
        true
    }

    fn comment_or_meta(&mut self, range: TextRange, t: &str, ts: usize, allow_meta: bool) {
        if allow_meta && self.metadata(range, t, ts) {
            return;
        }
        self.push_line(range, LineKind::Comment);
    }

    /// `# @key value`: returns false when the comment is not metadata.
    fn metadata(&mut self, range: TextRange, t: &str, ts: usize) -> bool {
        let marker = if t.starts_with("//") { 2 } else { 1 };
        let after = &t[marker..];
        let after_t = ltrim(after);
        let Some(key_etc) = after_t.strip_prefix('@') else {
            return false;
        };
        if !key_etc.starts_with(|c: char| c.is_ascii_alphabetic()) {
            return false;
        }
        let key_start = ts + marker + (after.len() - after_t.len()) + 1;
        let key_len = key_etc
            .find(|c: char| c.is_whitespace() || c == '=')
            .unwrap_or(key_etc.len());
        let key = &key_etc[..key_len];
        let mut rest = ltrim(&key_etc[key_len..]);
        if let Some(r) = rest.strip_prefix('=') {
            rest = r;
        }
        let line_end = range.end as usize;
        let (vs, ve) = trim_range(self.text, line_end - rest.len(), line_end);
        let key_range = TextRange::new(key_start, key_start + key_len);
        let value = (ve > vs).then(|| Spanned::new(self.src.str(vs, ve), TextRange::new(vs, ve)));
        if !METADATA_KEYS
            .iter()
            .any(|(k, _)| k.eq_ignore_ascii_case(key))
        {
            self.errors.push(Diagnostic::hint(
                key_range,
                "unknown-metadata",
                format!("`@{key}` is not metadata httplens knows; it is kept and ignored"),
            ));
        }
        if value.is_none() && key.eq_ignore_ascii_case("prompt") {
            self.errors.push(Diagnostic::warning(
                key_range,
                "prompt-without-name",
                "`@prompt` asks for nothing without a name: write `# @prompt NAME [description]`",
            ));
        }
        let meta_range = TextRange::new(ts, trim_range(self.text, ts, line_end).1);
        self.block().metadata.push(Meta {
            range: meta_range,
            key: Spanned::new(Str::new(key), key_range),
            value,
        });
        self.push_line(range, LineKind::Metadata);
        true
    }

    /// `@name = value`.
    fn variable(&mut self, range: TextRange, t: &str, ts: usize) {
        let rest = &t[1..];
        let name_len = rest
            .find(|c: char| c.is_whitespace() || c == '=')
            .unwrap_or(rest.len());
        let name = &rest[..name_len];
        let after = ltrim(&rest[name_len..]);
        let line_end = range.end as usize;
        let valid_name = !name.is_empty()
            && name
                .chars()
                .all(|c| c.is_alphanumeric() || matches!(c, '_' | '-' | '.' | '$'));
        let Some(value) = after.strip_prefix('=').filter(|_| valid_name) else {
            self.error_line(
                range,
                "A variable line needs a name and `=`, as in `@host = example.com`",
            );
            return;
        };
        let (vs, ve) = trim_range(self.text, line_end - value.len(), line_end);
        let value = template(&self.src, TextRange::new(vs, ve), &mut self.errors);
        let name_range = TextRange::new(ts + 1, ts + 1 + name_len);
        let def = VarDef {
            range: TextRange::new(ts, trim_range(self.text, ts, line_end).1),
            name: Spanned::new(Str::new(name), name_range),
            value,
        };
        self.block().variables.push(def);
        self.push_line(range, LineKind::Variable);
    }

    fn request_line(&mut self, l: RawLine, range: TextRange, ts: usize) {
        let text = self.text;
        let (ts, mut te) = trim_range(text, ts, l.end);
        let t = &text[ts..te];
        // `HTTP/x.y` as the last of at least two words.
        let mut version = None;
        if let Some(sp) = t.rfind(char::is_whitespace) {
            let sp_len = t[sp..].chars().next().map_or(1, char::len_utf8);
            let last = &t[sp + sp_len..];
            if let Some(v) = last.strip_prefix("HTTP/")
                && !v.is_empty()
                && v.bytes().all(|b| b.is_ascii_digit() || b == b'.')
            {
                let vs = ts + sp + sp_len;
                version = Some(Spanned::new(Str::new(last), TextRange::new(vs, te)));
                te = trim_range(text, ts, ts + sp).1;
            }
        }
        let t = &text[ts..te];
        let mut method = None;
        let mut target_start = ts;
        if let Some(sp) = t.find(char::is_whitespace) {
            let m = &t[..sp];
            if m.bytes()
                .all(|b| b.is_ascii_alphabetic() || b == b'-' || b == b'_')
            {
                method = Some(Spanned::new(Str::new(m), TextRange::new(ts, ts + sp)));
                target_start = trim_range(text, ts + sp, te).0;
            }
        }
        let target_range = TextRange::new(target_start, te);
        template::check(target_range.slice(text), target_start, &mut self.errors);
        let mut target = std::mem::take(&mut self.spare.target);
        target.push(target_range);
        let req = ReqBuilder {
            line_range: range,
            method,
            version,
            target,
            headers: std::mem::take(&mut self.spare.headers),
            built_body: None,
            handlers: std::mem::take(&mut self.spare.handlers),
            assertions: std::mem::take(&mut self.spare.assertions),
            output: None,
            built_target: None,
            curl: None,
            curl_read: false,
        };
        let curl = req
            .method
            .as_ref()
            .is_some_and(|m| m.value.as_str() == "curl");
        let b = self.block();
        let mut req = req;
        req.handlers.append(&mut b.pre_scripts);
        if curl {
            // REST Client: `curl ...` describes the request (read when it ends).
            req.curl = Some(TextRange::new(ts, l.end));
            b.phase = Phase::Curl;
        } else {
            b.phase = Phase::Target;
        }
        b.req = Some(req);
        if curl {
            self.push_line(range, LineKind::RequestLine);
            return;
        }
        self.push_line(range, LineKind::RequestLine);
    }

    /// A line after a `curl` request line: part of the command (true), or the end of
    /// it (false: the line is then read as a line after a request).
    fn curl_line(&mut self, range: TextRange, t: &str, blank: bool) -> bool {
        let text = self.text;
        let b = self.cur.as_mut().expect("a block is open");
        let Some(req) = b.req.as_mut() else {
            return false;
        };
        let Some(cmd) = req.curl else { return false };
        // Inside an open quote everything is the command's, blank lines included.
        let open_quote = matches!(
            curl::split(cmd.slice(text), 0),
            Err(e) if e.message.contains("never closed")
        ) && cmd.len() < 1 << 20;
        let ends = blank
            || t.starts_with("??")
            || t.starts_with('>')
            || t.starts_with('#')
            || t.starts_with("//");
        if ends && !open_quote {
            return false;
        }
        req.curl = Some(TextRange::new(cmd.start as usize, range.end as usize));
        self.push_line(range, LineKind::TargetContinuation);
        true
    }

    /// Reads the open block's `curl` command into its request; an error at its range
    /// (and no request) when it cannot be read.
    fn finish_curl(&mut self, b: &mut BlockBuilder) {
        b.phase = Phase::After;
        let Some(req) = b.req.as_mut() else { return };
        let Some(cmd) = req.curl.take() else { return };
        req.curl_read = true;
        let parsed = curl::parse(cmd.slice(self.text), cmd.start as usize);
        let r = match parsed {
            Ok(r) => r,
            Err(e) => {
                self.errors.push(Diagnostic::error(
                    e.range,
                    "syntax",
                    format!("This curl command cannot be read: {}", e.message),
                ));
                b.req = None;
                return;
            }
        };
        let at = cmd.start as usize;
        let curl_word = TextRange::new(at, at + 4);
        req.method = Some(Spanned::new(
            Str::new(&r.method),
            r.method_word.as_ref().map_or(curl_word, |w| w.range),
        ));
        if let Some(url) = &r.url {
            let t = Template::mapped(&url.text, &url.offsets);
            self.check_pieces(&t);
            req.built_target = Some(t);
        }
        let mut headers = Vec::with_capacity(r.headers.len() + 1);
        for h in &r.headers {
            let value = Template::mapped(&h.value, &h.offsets);
            self.check_pieces(&value);
            headers.push(Header {
                range: h.range,
                // The name as a whole: where its word (or the `curl` word) is.
                name: Spanned::new(Str::new(&h.name), h.range),
                value,
            });
        }
        let file = |w: &curl::Word| FileRef {
            range: w.range,
            path: Template::mapped(&w.text, &w.offsets),
            templated: false,
            encoding: None,
        };
        req.built_body = match &r.body {
            None => None,
            Some(curl::CurlBody::Text(w)) => {
                let t = Template::mapped(&w.text, &w.offsets);
                self.check_pieces(&t);
                Some(Body {
                    range: w.range,
                    parts: vec![BodyPart::Text(t)].into(),
                })
            }
            Some(curl::CurlBody::File(w)) => Some(Body {
                range: w.range,
                parts: vec![BodyPart::File(file(w))].into(),
            }),
            Some(curl::CurlBody::Form(parts)) => {
                let boundary = curl::FORM_BOUNDARY;
                let content_type = format!("multipart/form-data; boundary={boundary}");
                headers.push(Header {
                    range: curl_word,
                    name: Spanned::new(Str::new("Content-Type"), curl_word),
                    value: Template::mapped(&content_type, &vec![at as u32; content_type.len()]),
                });
                // The multipart text: what httplens writes is placed on the `curl` word,
                // the values on their words.
                let mut out = Vec::new();
                let mut text = String::new();
                let mut offsets: Vec<u32> = Vec::new();
                let add = |text: &mut String, offsets: &mut Vec<u32>, s: &str| {
                    text.push_str(s);
                    offsets.extend(std::iter::repeat_n(at as u32, s.len()));
                };
                for p in parts {
                    add(&mut text, &mut offsets, &format!("--{boundary}\r\n"));
                    let disposition = match &p.value {
                        curl::FormValue::Text(_) => {
                            format!("Content-Disposition: form-data; name=\"{}\"", p.name)
                        }
                        curl::FormValue::File(path) => format!(
                            "Content-Disposition: form-data; name=\"{}\"; filename=\"{}\"",
                            p.name,
                            path.text.rsplit('/').next().unwrap_or(&path.text)
                        ),
                    };
                    add(&mut text, &mut offsets, &(disposition + "\r\n"));
                    if let Some(t) = &p.content_type {
                        add(&mut text, &mut offsets, &format!("Content-Type: {t}\r\n"));
                    }
                    add(&mut text, &mut offsets, "\r\n");
                    match &p.value {
                        curl::FormValue::Text(v) => {
                            text.push_str(&v.text);
                            offsets.extend_from_slice(&v.offsets);
                        }
                        curl::FormValue::File(path) => {
                            let t = Template::mapped(&text, &offsets);
                            self.check_pieces(&t);
                            out.push(BodyPart::Text(t));
                            text.clear();
                            offsets.clear();
                            out.push(BodyPart::File(file(path)));
                        }
                    }
                    add(&mut text, &mut offsets, "\r\n");
                }
                add(&mut text, &mut offsets, &format!("--{boundary}--\r\n"));
                let t = Template::mapped(&text, &offsets);
                self.check_pieces(&t);
                out.push(BodyPart::Text(t));
                Some(Body {
                    range: cmd,
                    parts: out.into(),
                })
            }
        };
        req.headers = headers;
    }

    /// `template::check` over each piece of a template read through quotes.
    fn check_pieces(&mut self, t: &Template) {
        for (text, at) in t.pieces() {
            template::check(text, at, &mut self.errors);
        }
    }

    fn header_line(&mut self, l: RawLine, range: TextRange, t: &str, ts: usize, phase: Phase) {
        let indented = ts > l.start;
        // Indented means more than the request line (a file may indent every line);
        // an assertion or another request line never continues the target.
        let req_indent = self.block().req.as_ref().map_or(0, |r| {
            let first = r.method.as_ref().map_or_else(
                || r.target.first().map_or(r.line_range.start, |t| t.start),
                |m| m.range.start,
            );
            (first - r.line_range.start) as usize
        });
        let indented = indented && ts - l.start > req_indent;
        if phase == Phase::Target
            && ((t.starts_with('?') && !t.starts_with("??"))
                || t.starts_with('&')
                || (indented
                    && header_name_len(t).is_none()
                    && !t.starts_with('#')
                    && !t.starts_with("??")
                    && !looks_like_request_line(t)))
        {
            let (s, e) = trim_range(self.text, ts, l.end);
            template::check(&self.text[s..e], s, &mut self.errors);
            let r = self
                .block()
                .req
                .as_mut()
                .expect("a request in Target phase");
            r.target.push(TextRange::new(s, e));
            self.push_line(range, LineKind::TargetContinuation);
            return;
        }
        self.block().phase = Phase::Headers;
        if t.starts_with('#') || t.starts_with("//") {
            self.comment_or_meta(range, t, ts, true);
            return;
        }
        if t.starts_with('@') {
            self.variable(range, t, ts);
            return;
        }
        if let Some(n) = header_name_len(t) {
            let line_end = l.end;
            let (vs, ve) = trim_range(self.text, ts + n + 1, line_end);
            let value = template(&self.src, TextRange::new(vs, ve), &mut self.errors);
            let header = Header {
                range: TextRange::new(ts, trim_range(self.text, ts, line_end).1),
                name: Spanned::new(Str::new(&t[..n]), TextRange::new(ts, ts + n)),
                value,
            };
            self.block()
                .req
                .as_mut()
                .expect("a request in Headers phase")
                .headers
                .push(header);
            self.push_line(range, LineKind::Header);
            return;
        }
        // Not a header: the body starts without a blank line (REST Client allows it),
        // unless the line is a handler, assertion or output redirect.
        self.body_or_after(l, range, t, ts, Phase::PreBody);
    }

    /// A line in the body, or one that ends it (handler, assertion, `>>`, a new request).
    fn body_or_after(&mut self, l: RawLine, range: TextRange, t: &str, ts: usize, phase: Phase) {
        if self.after_item(l, range, t, ts, phase == Phase::Body) {
            return;
        }
        // httpyac: a request line after a blank line starts the next request even
        // inside a body (files that never write `###`).
        let text = self.text;
        let after_blank = phase == Phase::Body
            && self
                .block()
                .lines
                .last()
                .is_some_and(|p| is_blank(p.range.slice(text)));
        if after_blank && looks_like_request_line(t) {
            self.begin_block(l.start, None);
            self.request_line(l, range, ts);
            return;
        }
        if phase == Phase::PreBody {
            if looks_like_request_line(t) {
                self.begin_block(l.start, None);
                self.request_line(l, range, ts);
                return;
            }
            if t.starts_with("{{") && !t.contains("}}") {
                self.open_script(l, range, ts, ts + 2, false, "}}");
                return;
            }
        }
        if let Some(file) = self.file_ref(t, ts, l.end) {
            self.body_line(range, Some(file));
        } else {
            self.body_line(range, None);
        }
    }

    fn body_line(&mut self, range: TextRange, file: Option<FileRef>) {
        let kind = if file.is_some() {
            LineKind::BodyFile
        } else {
            LineKind::Body
        };
        let idx = self.push_line(range, kind);
        let b = self.block();
        b.phase = Phase::Body;
        if b.req.is_some() {
            self.body.push(BodyEntry {
                line_idx: idx,
                range,
                file,
            });
        }
    }

    /// `< path`, `<@ path`, `<@latin1 path`.
    fn file_ref(&mut self, t: &str, ts: usize, end: usize) -> Option<FileRef> {
        let rest = t.strip_prefix('<')?;
        let (templated, rest, off) = if let Some(r) = rest.strip_prefix('@') {
            (true, r, 2)
        } else if rest.starts_with([' ', '\t']) {
            (false, rest, 1)
        } else {
            return None;
        };
        let mut encoding = None;
        let mut path_start = ts + off;
        if templated && !rest.starts_with([' ', '\t']) {
            let w = rest.find([' ', '\t']).unwrap_or(rest.len());
            if !rest[w..].trim().is_empty() {
                encoding = Some(Str::new(&rest[..w]));
                path_start += w;
            }
        }
        let (ps, pe) = trim_range(self.text, path_start, end);
        if ps == pe {
            return None;
        }
        let path = template(&self.src, TextRange::new(ps, pe), &mut self.errors);
        Some(FileRef {
            range: TextRange::new(ts, pe),
            path,
            templated,
            encoding,
        })
    }

    /// Handler, assertion or output redirect: true when the line was one (and is done).
    fn after_item(
        &mut self,
        l: RawLine,
        range: TextRange,
        t: &str,
        ts: usize,
        in_body: bool,
    ) -> bool {
        let is_output = t.starts_with(">>");
        let is_handler = !is_output
            && t.strip_prefix('>').is_some_and(|a| {
                let a = trim(a);
                !a.is_empty()
                    && (!in_body
                        || a.starts_with("{%")
                        || (!a.contains(char::is_whitespace)
                            && (a.starts_with("./")
                                || a.starts_with("../")
                                || [".js", ".mjs", ".cjs", ".ts"]
                                    .iter()
                                    .any(|x| a.ends_with(x)))))
            });
        let is_assert = t.starts_with("??");
        if t.strip_prefix("<>")
            .is_some_and(|r| r.starts_with([' ', '\t']))
        {
            // A JetBrains response reference (`<> 2024-01-01T000000.200.json`, which the
            // IDE appends after a request it ran): never part of the body.
            self.end_body_phase();
            self.push_line(range, LineKind::Comment);
            return true;
        }
        if t.starts_with("{{") && rtrim(t) == "{{" {
            // An httpyac script block (`{{` alone on its line, up to a line starting
            // with `}}`): kept, not run.
            self.end_body_phase();
            self.open_script(l, range, ts, ts + 2, false, "}}");
            return true;
        }
        if !(is_output || is_handler || is_assert) {
            return false;
        }
        self.end_body_phase();
        if is_output {
            self.output(range, t, ts, l.end);
        } else if is_handler {
            self.handler(l, range, t, ts);
        } else {
            self.assertion(range, ts, l.end);
        }
        true
    }

    /// The body (if any) is over: later lines cannot add to it.
    fn end_body_phase(&mut self) {
        let Parser {
            text,
            src,
            body,
            spare,
            errors,
            cur,
            ..
        } = self;
        let b = cur.as_mut().expect("a block is open");
        if b.phase != Phase::After {
            finish_body(text, src, body, &mut spare.parts, errors, b);
            b.phase = Phase::After;
        }
    }

    fn after_line(&mut self, l: RawLine, range: TextRange, t: &str, ts: usize) {
        if self.after_item(l, range, t, ts, false) {
            return;
        }
        // A line of dashes between requests (a Markdown-style rule, which collections
        // written for httpyac use between sections) separates nothing and sends nothing.
        let rule = t.len() >= 3 && t.bytes().all(|b| b == b'-');
        if t.starts_with('#') || t.starts_with("//") || t.starts_with("<>") || rule {
            self.push_line(range, LineKind::Comment);
        } else if t.starts_with('@') {
            self.variable(range, t, ts);
        } else if looks_like_request_line(t) {
            self.begin_block(l.start, None);
            self.request_line(l, range, ts);
        } else if t.starts_with("{{") && !t.contains("}}") {
            self.open_script(l, range, ts, ts + 2, false, "}}");
        } else {
            self.error_line(
                range,
                "Only handlers (`>`), assertions (`??`), `>>` files, comments and variables may follow a response handler; start a new request with `###`",
            );
        }
    }

    fn output(&mut self, range: TextRange, t: &str, ts: usize, end: usize) {
        let overwrite = t.starts_with(">>!");
        let off = if overwrite { 3 } else { 2 };
        let (ps, pe) = trim_range(self.text, ts + off, end);
        if ps == pe {
            self.error_line(range, "`>>` needs a file to write the response body to");
            return;
        }
        let path = template(&self.src, TextRange::new(ps, pe), &mut self.errors);
        let out = OutputRedirect {
            range: TextRange::new(ts, pe),
            path,
            overwrite,
        };
        let had = self.block().req.as_mut().map(|r| r.output.replace(out));
        if let Some(Some(_)) = had {
            self.errors.push(Diagnostic::warning(
                range,
                "syntax",
                "A request writes its response to one file: this `>>` replaces the one above",
            ));
        }
        self.push_line(range, LineKind::OutputRedirect);
    }

    fn handler(&mut self, l: RawLine, range: TextRange, t: &str, ts: usize) {
        let after = &t[1..];
        let a = ltrim(after);
        if a.starts_with("{%") {
            let content_start = ts + 1 + (after.len() - a.len()) + 2;
            self.open_script(l, range, ts, content_start, true, "%}");
        } else {
            let (ps, pe) = trim_range(self.text, ts + 1, l.end);
            let h = Handler {
                range: TextRange::new(ts, pe),
                kind: HandlerKind::File(self.src.str(ps, pe)),
                pre: false,
            };
            if let Some(r) = self.block().req.as_mut() {
                r.handlers.push(h);
            }
            self.push_line(range, LineKind::Handler);
        }
    }

    fn open_script(
        &mut self,
        l: RawLine,
        range: TextRange,
        start: usize,
        content_start: usize,
        response: bool,
        close: &'static str,
    ) {
        self.push_line(range, LineKind::Handler);
        let s = OpenScript {
            start,
            content_start,
            response,
            close,
        };
        // The script may close on its first line.
        if let Some(p) = self.text[content_start.min(l.end)..l.end].find(close) {
            self.close_script(s, content_start + p);
        } else {
            self.block().script = Some(s);
        }
    }

    fn script_line(&mut self, l: RawLine, range: TextRange) {
        self.push_line(range, LineKind::Handler);
        let s = self.block().script.take().expect("an open script");
        let close_at = if s.close == "}}" {
            // httpyac blocks end at a line starting with `}}`.
            let t = self.text[l.start..l.end].trim_start();
            t.starts_with("}}").then(|| l.end - t.len())
        } else {
            self.text[l.start..l.end].find(s.close).map(|p| l.start + p)
        };
        match close_at {
            Some(p) => self.close_script(s, p),
            None => self.block().script = Some(s),
        }
    }

    fn close_script(&mut self, s: OpenScript, close_at: usize) {
        // httpyac `{{ }}` blocks are not JetBrains scripts: kept as lines, not run.
        if s.close != "%}" {
            return;
        }
        let script = self.src.str(s.content_start, close_at);
        let h = Handler {
            range: TextRange::new(s.start, close_at + s.close.len()),
            kind: HandlerKind::Script(script),
            pre: !s.response,
        };
        let b = self.block();
        if !s.response {
            b.pre_scripts.push(h);
        } else if let Some(r) = b.req.as_mut() {
            r.handlers.push(h);
        }
    }

    fn assertion(&mut self, range: TextRange, ts: usize, end: usize) {
        let (_, te) = trim_range(self.text, ts, end);
        let arange = TextRange::new(ts, te);
        match assertion::assertion(&self.src, arange, &mut self.errors) {
            assertion::Parsed::Ok(a) => {
                if let Some(r) = self.block().req.as_mut() {
                    r.assertions.push(a);
                }
                self.push_line(range, LineKind::Assertion);
            }
            assertion::Parsed::Unsupported(msg) => {
                self.errors
                    .push(Diagnostic::warning(arange, "unsupported-assertion", msg));
                self.push_line(range, LineKind::Assertion);
            }
            assertion::Parsed::Invalid(msg) => {
                self.errors.push(Diagnostic::error(arange, "syntax", msg));
                self.push_line(range, LineKind::Assertion);
            }
        }
    }
}

/// Trims trailing blank lines off the body of `b`'s request and builds its parts (a
/// function of the parser's fields, so that the open block needs no move).
fn finish_body(
    text: &str,
    src: &Source,
    body: &mut Vec<BodyEntry>,
    spare_parts: &mut Vec<BodyPart>,
    errors: &mut Vec<Diagnostic>,
    b: &mut BlockBuilder,
) {
    {
        let Some(r) = b.req.as_mut() else {
            body.clear();
            return;
        };
        while let Some(last) = body.last() {
            if last.file.is_none() && is_blank(last.range.slice(text)) {
                b.lines[last.line_idx].kind = LineKind::Blank;
                body.pop();
            } else {
                break;
            }
        }
        let mut entries = std::mem::take(body);
        let (Some(first), Some(last)) = (entries.first(), entries.last()) else {
            *body = entries;
            return;
        };
        let start = first.range.start as usize;
        let end = last.range.end as usize;
        let mut parts = std::mem::take(spare_parts);
        let mut cursor = start;
        for e in entries.drain(..) {
            if let Some(f) = e.file {
                if cursor < e.range.start as usize {
                    let t = template(src, TextRange::new(cursor, e.range.start as usize), errors);
                    parts.push(BodyPart::Text(t));
                }
                parts.push(BodyPart::File(f));
                cursor = e.range.end as usize;
            }
        }
        if cursor < end {
            parts.push(BodyPart::Text(template(
                src,
                TextRange::new(cursor, end),
                errors,
            )));
        }
        r.built_body = Some(Body {
            range: TextRange::new(start, end),
            parts: exact(&mut parts),
        });
        *spare_parts = parts;
        // Keep the buffer (now empty) for the next body.
        *body = entries;
    }
}
