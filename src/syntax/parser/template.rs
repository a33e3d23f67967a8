//! `{{ }}` templates: splitting a value into literal text and variable references, and
//! classifying the expression inside the braces ([`parse_var_expr`]).

use crate::syntax::ast::*;
use crate::syntax::str::Source;
use crate::text::TextRange;

/// The template of `text[range]` for the tree, with its syntax diagnostics: a `{{`
/// with no `}}` later on the same line (one per line, so that a line full of `{{` is
/// still scanned in linear time) and references that are no variable.
pub(crate) fn template(src: &Source, range: TextRange, errors: &mut Vec<Diagnostic>) -> Template {
    check(
        src.get(range.start as usize, range.end as usize),
        range.start as usize,
        errors,
    );
    Template::slice(src, range)
}

/// Reports what [`template_parts`] silently turns into literal text or `Invalid`.
pub(crate) fn check(s: &str, base: usize, errors: &mut Vec<Diagnostic>) {
    let mut braces = Braces::default();
    while let Some(found) = braces.next(s.as_bytes()) {
        let (open, close_end) = match found {
            Brace::Unclosed(open) => {
                errors.push(Diagnostic::error(
                    TextRange::new(base + open, base + open + 2),
                    "syntax",
                    "This `{{` has no closing `}}` on its line, so it is sent as literal text",
                ));
                continue;
            }
            Brace::Ref(open, close_end) => (open, close_end),
        };
        let (es, ee, _) = expr_bounds(s, open, close_end);
        let expr = &s[es..ee];
        // Most references are plain names: valid without building anything.
        let plain = !expr.is_empty()
            && !expr.as_bytes().windows(3).any(|w| w == b".re")
            && expr
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'));
        if !plain && let VarExpr::Invalid(msg) = parse_var_expr(expr) {
            errors.push(Diagnostic::error(
                TextRange::new(base + open, base + close_end),
                "invalid-variable",
                msg,
            ));
        }
    }
}

/// What [`Braces`] finds next.
enum Brace {
    /// `{{ ... }}` from `.0` to `.1` (after the `}}`).
    Ref(usize, usize),
    /// A `{{` with no `}}` later on its line (literal text).
    Unclosed(usize),
}

/// The `{{ }}` scan shared by [`check`] and [`Parts`]: one pass, linear in the text
/// even for a line full of `{{` (an unclosed one skips the rest of its line).
#[derive(Default)]
struct Braces {
    /// Where to look for the next `{{`.
    i: usize,
    /// End of the line holding the current `{{`, cached so that a long line with many
    /// references is scanned once.
    line_end: usize,
}

impl Braces {
    fn next(&mut self, bytes: &[u8]) -> Option<Brace> {
        let open = find2(bytes, self.i, b'{', b'{')?;
        if open >= self.line_end {
            self.line_end = memchr(b'\n', bytes, open).unwrap_or(bytes.len());
        }
        match find2(&bytes[..self.line_end], open + 2, b'}', b'}') {
            Some(close) => {
                self.i = close + 2;
                Some(Brace::Ref(open, close + 2))
            }
            None => {
                self.i = self.line_end;
                Some(Brace::Unclosed(open))
            }
        }
    }
}

/// The parts of one piece of template text that starts at `base` in its source.
pub(crate) fn template_parts(s: &str, base: usize) -> Parts<'_> {
    Parts {
        s,
        base,
        braces: Braces::default(),
        lit: 0,
        pending: None,
        done: false,
    }
}

/// Iterator behind [`Template::parts`].
pub(crate) struct Parts<'t> {
    s: &'t str,
    base: usize,
    braces: Braces,
    /// Start of the literal text not yet given out.
    lit: usize,
    /// A reference found after literal text: given out next.
    pending: Option<VarRef>,
    done: bool,
}

impl<'t> Iterator for Parts<'t> {
    type Item = TemplatePart<'t>;

    fn next(&mut self) -> Option<TemplatePart<'t>> {
        if let Some(v) = self.pending.take() {
            return Some(TemplatePart::Var(v));
        }
        let bytes = self.s.as_bytes();
        loop {
            if self.done {
                return None;
            }
            let (open, close_end) = match self.braces.next(bytes) {
                None => {
                    self.done = true;
                    if self.lit < bytes.len() {
                        return Some(self.text(self.lit, bytes.len()));
                    }
                    return None;
                }
                Some(Brace::Unclosed(_)) => continue,
                Some(Brace::Ref(open, close_end)) => (open, close_end),
            };
            let var = var_ref(self.s, self.base, open, close_end);
            let lit = std::mem::replace(&mut self.lit, close_end);
            if open > lit {
                self.pending = Some(var);
                return Some(self.text(lit, open));
            }
            return Some(TemplatePart::Var(var));
        }
    }
}

impl<'t> Parts<'t> {
    fn text(&self, from: usize, to: usize) -> TemplatePart<'t> {
        TemplatePart::Text(Spanned::new(
            &self.s[from..to],
            TextRange::new(self.base + from, self.base + to),
        ))
    }
}

/// The reference for `s[open..close_end]`, which starts with `{{` and ends with `}}`;
/// `s` starts at `base` in its source.
fn var_ref(s: &str, base: usize, open: usize, close_end: usize) -> VarRef {
    let (expr_start, expr_end, encode) = expr_bounds(s, open, close_end);
    let source = &s[expr_start..expr_end];
    VarRef {
        range: TextRange::new(base + open, base + close_end),
        expr_range: TextRange::new(base + expr_start, base + expr_end),
        source: Str::new(source),
        encode,
        expr: parse_var_expr(source),
    }
}

/// Where the expression of `s[open..close_end]` (`{{ ... }}`) is, trimmed and after
/// a leading `%`, and whether there was a `%`.
fn expr_bounds(s: &str, open: usize, close_end: usize) -> (usize, usize, bool) {
    let inner_start = open + 2;
    let inner_end = close_end - 2;
    let inner = &s[inner_start..inner_end];
    let lead = inner.len() - inner.trim_start().len();
    let mut expr_start = inner_start + lead;
    let expr_end = inner_start + inner.trim_end().len().max(lead);
    let mut encode = false;
    if s.as_bytes().get(expr_start) == Some(&b'%') && expr_start < expr_end {
        encode = true;
        expr_start += 1;
        let rest = &s[expr_start..expr_end];
        expr_start += rest.len() - rest.trim_start().len();
    }
    (expr_start, expr_end, encode)
}

fn memchr(needle: u8, hay: &[u8], from: usize) -> Option<usize> {
    memchr::memchr(needle, hay.get(from..)?).map(|p| p + from)
}

/// First index `>= from` where `hay[i] == a && hay[i + 1] == b`.
fn find2(hay: &[u8], from: usize, a: u8, b: u8) -> Option<usize> {
    let mut i = from;
    while let Some(p) = memchr(a, hay, i) {
        if hay.get(p + 1) == Some(&b) {
            return Some(p);
        }
        i = p + 1;
    }
    None
}

/// Classify the expression inside `{{ }}` (already trimmed, without a leading `%`).
pub fn parse_var_expr(expr: &str) -> VarExpr {
    let expr = expr.trim();
    if expr.is_empty() {
        return VarExpr::Invalid(
            "This `{{}}` is empty: write a variable name inside the braces".into(),
        );
    }
    if let Some(rest) = expr.strip_prefix('$') {
        return system_var(expr, rest);
    }
    if let Some(r) = request_ref(expr) {
        return r;
    }
    if !expr.chars().all(is_name_char) {
        if expr.contains("{{") || expr.contains("}}") {
            // Braces inside braces: a template typed over, not an expression.
            return VarExpr::Invalid(format!(
                "`{expr}` is not a variable name (use letters, digits, `_`, `-` and `.`)"
            ));
        }
        // httpyac: anything else inside `{{ }}` is a JavaScript expression, evaluated
        // in the script sandbox with the variables in scope.
        return VarExpr::Script(Str::new(expr));
    }
    VarExpr::Name(Str::new(expr))
}

fn is_name_char(c: char) -> bool {
    c.is_alphanumeric() || matches!(c, '_' | '-' | '.')
}

/// `name.response.body.$.x`, `name.request.headers.X`: `None` when `expr` does not
/// have the `.response.` / `.request.` shape at all.
fn request_ref(expr: &str) -> Option<VarExpr> {
    // Cheap pre-check: most names have no `.request` / `.response` at all.
    if !expr.as_bytes().windows(3).any(|w| w == b".re") {
        return None;
    }
    let (request, source, rest) = [
        (".response", RefSource::Response),
        (".request", RefSource::Request),
    ]
    .iter()
    .find_map(|&(pat, source)| {
        let at = expr.find(pat)?;
        let after = &expr[at + pat.len()..];
        if !(after.is_empty() || after.starts_with('.') || after.starts_with('[')) {
            return None;
        }
        Some((
            &expr[..at],
            source,
            after.strip_prefix('.').unwrap_or(after),
        ))
    })?;
    if request.is_empty() || !request.chars().all(is_name_char) {
        return Some(VarExpr::Invalid(format!(
            "`{expr}` does not start with a request name (`# @name`)"
        )));
    }
    let (part, path) = if let Some(p) = rest.strip_prefix("body") {
        (RefPart::Body, p)
    } else if let Some(p) = rest.strip_prefix("headers") {
        (RefPart::Headers, p)
    } else if let Some(p) = rest.strip_prefix("cookies") {
        (RefPart::Cookies, p)
    } else {
        return Some(VarExpr::Invalid(format!(
            "`{expr}` must continue with `.body.`, `.headers.` or `.cookies.` after `.{}`",
            if source == RefSource::Response {
                "response"
            } else {
                "request"
            }
        )));
    };
    // kulala writes `headers['Date']` / `headers["Date"]`.
    let bracketed = path
        .strip_prefix('[')
        .and_then(|p| p.strip_suffix(']'))
        .map(|p| unquote(p.trim()))
        .filter(|p| part == RefPart::Headers && !p.is_empty());
    let path = match path.strip_prefix('.').or(bracketed) {
        Some(p) if !p.is_empty() => p,
        _ => {
            let hint = if part == RefPart::Body {
                "a JSONPath like `$.id`, an XPath, or `*` for the whole body"
            } else if part == RefPart::Cookies {
                "a cookie name"
            } else {
                "a header name"
            };
            return Some(VarExpr::Invalid(format!(
                "`{expr}` needs {hint} at the end"
            )));
        }
    };
    Some(VarExpr::RequestRef {
        request: Str::new(request),
        source,
        part,
        path: Str::new(path),
    })
}

/// `$name args...`, `$env.NAME`, `$auth.token("id")`, `$random.integer(1, 9)`.
fn system_var(expr: &str, rest: &str) -> VarExpr {
    if let Some(call) = rest.strip_prefix("auth.") {
        return auth_call(expr, call);
    }
    if let Some(name) = rest.strip_prefix("env.") {
        let name = name.trim();
        if name.is_empty() || name.chars().any(char::is_whitespace) {
            return VarExpr::Invalid(format!(
                "`{expr}` needs one environment variable name after `$env.`"
            ));
        }
        return VarExpr::System {
            name: "$env".into(),
            args: vec![Str::new(name)],
        };
    }
    let name_len = rest
        .find(|c: char| !(c.is_alphanumeric() || c == '_' || c == '.'))
        .unwrap_or(rest.len());
    let name = &rest[..name_len];
    let tail = &rest[name_len..];
    if name.is_empty() || name.starts_with('.') || name.ends_with('.') {
        return VarExpr::Invalid(format!("`{expr}` is not a system variable name"));
    }
    let full = Str::from(format!("${name}"));
    // JetBrains style `$random.integer(1, 10)`.
    if let Some(inner) = tail.strip_prefix('(') {
        let Some(inner) = inner.trim_end().strip_suffix(')') else {
            return VarExpr::Invalid(format!("`{expr}` has no closing `)`"));
        };
        let args = if inner.trim().is_empty() {
            Vec::new()
        } else {
            inner
                .split(',')
                .map(|a| Str::new(unquote(a.trim())))
                .collect()
        };
        return VarExpr::System { name: full, args };
    }
    if !tail.is_empty() && !tail.starts_with(char::is_whitespace) {
        return VarExpr::Invalid(format!(
            "`{expr}` is not a system variable (unexpected `{}` after `{full}`)",
            tail.chars().next().unwrap_or(' ')
        ));
    }
    match split_args(tail) {
        Ok(args) => VarExpr::System { name: full, args },
        Err(msg) => VarExpr::Invalid(format!("`{expr}`: {msg}")),
    }
}

fn unquote(s: &str) -> &str {
    for q in ['"', '\''] {
        if s.len() >= 2 && s.starts_with(q) && s.ends_with(q) {
            return &s[1..s.len() - 1];
        }
    }
    s
}

/// Whitespace-separated arguments; `"..."` and `'...'` group and are unquoted.
fn split_args(s: &str) -> Result<Vec<Str>, String> {
    let mut args = Vec::new();
    let mut chars = s.char_indices().peekable();
    while let Some(&(_, c)) = chars.peek() {
        if c.is_whitespace() {
            chars.next();
            continue;
        }
        let mut arg = String::new();
        while let Some(&(_, c)) = chars.peek() {
            if c.is_whitespace() {
                break;
            }
            chars.next();
            if c == '"' || c == '\'' {
                let mut closed = false;
                for (_, d) in chars.by_ref() {
                    if d == c {
                        closed = true;
                        break;
                    }
                    arg.push(d);
                }
                if !closed {
                    return Err(format!("the quote {c} is never closed"));
                }
            } else {
                arg.push(c);
            }
        }
        args.push(Str::from(arg));
    }
    Ok(args)
}

/// `token("id")` / `idToken('id')` after `$auth.`.
fn auth_call(expr: &str, call: &str) -> VarExpr {
    let bad = || {
        VarExpr::Invalid(format!(
            "`{expr}` is not an auth token reference: write `$auth.token(\"profile\")` or `$auth.idToken(\"profile\")`"
        ))
    };
    let Some(open) = call.find('(') else {
        return bad();
    };
    let kind = match call[..open].trim() {
        "token" => TokenKind::Access,
        "idToken" => TokenKind::Id,
        _ => return bad(),
    };
    let Some(inner) = call[open + 1..].trim_end().strip_suffix(')') else {
        return bad();
    };
    let inner = inner.trim();
    let unq = unquote(inner);
    if unq.len() + 2 != inner.len() || unq.is_empty() {
        return bad();
    }
    VarExpr::Auth {
        kind,
        profile: Str::new(unq),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sys(name: &str, args: &[&str]) -> VarExpr {
        VarExpr::System {
            name: name.into(),
            args: args.iter().map(|s| Str::new(s)).collect(),
        }
    }

    #[test]
    fn foreign_text_splits_and_keeps_ranges() {
        let t = crate::syntax::parse_foreign_template("a {{ host }}/{{%q}} {{ open");
        assert_eq!(t.parts().count(), 5);
        let vars: Vec<_> = t.vars().collect();
        assert_eq!(vars[0].source, "host");
        assert_eq!(vars[0].range, TextRange::new(2, 12));
        assert_eq!(vars[0].expr_range, TextRange::new(5, 9));
        assert!(vars[1].encode);
        assert_eq!(vars[1].source, "q");
        assert_eq!(t.as_written(), "a {{host}}/{{q}} {{ open");
    }

    #[test]
    fn names_and_system_variables() {
        assert_eq!(parse_var_expr("host"), VarExpr::Name("host".into()));
        assert_eq!(
            parse_var_expr("Catalog.API_HostAddress"),
            VarExpr::Name("Catalog.API_HostAddress".into())
        );
        assert_eq!(parse_var_expr("$guid"), sys("$guid", &[]));
        assert_eq!(
            parse_var_expr("$randomInt 1 10"),
            sys("$randomInt", &["1", "10"])
        );
        assert_eq!(
            parse_var_expr("$datetime \"DD-MM-YYYY\" 1 d"),
            sys("$datetime", &["DD-MM-YYYY", "1", "d"])
        );
        assert_eq!(
            parse_var_expr("$datetime 'YYYY MM' -1 h"),
            sys("$datetime", &["YYYY MM", "-1", "h"])
        );
        assert_eq!(parse_var_expr("$env.HOME"), sys("$env", &["HOME"]));
        assert_eq!(
            parse_var_expr("$processEnv %KEY"),
            sys("$processEnv", &["%KEY"])
        );
        assert_eq!(parse_var_expr("$dotenv KEY"), sys("$dotenv", &["KEY"]));
        assert_eq!(
            parse_var_expr("$random.integer(1, 10)"),
            sys("$random.integer", &["1", "10"])
        );
        assert_eq!(parse_var_expr("$random.uuid"), sys("$random.uuid", &[]));
    }

    #[test]
    fn request_references() {
        assert_eq!(
            parse_var_expr("login.response.body.$.token"),
            VarExpr::RequestRef {
                request: "login".into(),
                source: RefSource::Response,
                part: RefPart::Body,
                path: "$.token".into()
            }
        );
        assert_eq!(
            parse_var_expr("login.response.headers.X-Trace-Id"),
            VarExpr::RequestRef {
                request: "login".into(),
                source: RefSource::Response,
                part: RefPart::Headers,
                path: "X-Trace-Id".into()
            }
        );
        assert_eq!(
            parse_var_expr("create.request.body.*"),
            VarExpr::RequestRef {
                request: "create".into(),
                source: RefSource::Request,
                part: RefPart::Body,
                path: "*".into()
            }
        );
        assert_eq!(
            parse_var_expr("r.response.headers['Content-Type']"),
            VarExpr::RequestRef {
                request: "r".into(),
                source: RefSource::Response,
                part: RefPart::Headers,
                path: "Content-Type".into()
            }
        );
        assert_eq!(
            parse_var_expr("r.response.body.$.items[?(@.a == 'x')]"),
            VarExpr::RequestRef {
                request: "r".into(),
                source: RefSource::Response,
                part: RefPart::Body,
                path: "$.items[?(@.a == 'x')]".into()
            }
        );
        assert!(matches!(
            parse_var_expr("login.response.body"),
            VarExpr::Invalid(_)
        ));
        assert!(matches!(
            parse_var_expr("login.response.status"),
            VarExpr::Invalid(_)
        ));
    }

    #[test]
    fn auth_tokens() {
        assert_eq!(
            parse_var_expr("$auth.token(\"kc\")"),
            VarExpr::Auth {
                kind: TokenKind::Access,
                profile: "kc".into()
            }
        );
        assert_eq!(
            parse_var_expr("$auth.idToken( 'my id' )"),
            VarExpr::Auth {
                kind: TokenKind::Id,
                profile: "my id".into()
            }
        );
        for bad in [
            "$auth.token(kc)",
            "$auth.token(\"kc\"",
            "$auth.secret(\"kc\")",
            "$auth.token(\"\")",
        ] {
            assert!(matches!(parse_var_expr(bad), VarExpr::Invalid(_)), "{bad}");
        }
    }

    #[test]
    fn javascript_expressions_are_scripts() {
        for js in ["a b", "JSON.stringify(x)", "page * 2", "'x'.toUpperCase()"] {
            assert!(matches!(parse_var_expr(js), VarExpr::Script(_)), "{js:?}");
        }
    }

    #[test]
    fn invalid_expressions() {
        for bad in ["", "a{{b", "$timestamp]", "$datetime \"x"] {
            assert!(
                matches!(parse_var_expr(bad), VarExpr::Invalid(_)),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn template_parts_and_ranges() {
        let text = "a{{ host }}/{{%q}}b{{x";
        let mut errs = Vec::new();
        let t = template(
            &Source::new(text, 0, text.len()),
            TextRange::new(0, text.len()),
            &mut errs,
        );
        assert_eq!(t.parts().count(), 5);
        assert_eq!(t.as_written(), "a{{host}}/{{q}}b{{x");
        let vars: Vec<_> = t.vars().collect();
        assert_eq!(vars.len(), 2);
        assert_eq!(vars[0].range.slice(text), "{{ host }}");
        assert_eq!(vars[0].expr_range.slice(text), "host");
        assert!(vars[1].encode);
        assert_eq!(vars[1].expr_range.slice(text), "q");
        assert_eq!(errs.len(), 1);
        assert_eq!(errs[0].range.slice(text), "{{");
    }
}
