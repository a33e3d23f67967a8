//! The variable resolver: expands `{{ }}` references in a request block following the
//! documented precedence, with recursion (values may reference variables), cycle
//! detection, system variables, request variables (through [`ExchangeLookup`]) and
//! `$auth` tokens (through [`TokenLookup`]). Problems become [`Diagnostic`]s at the
//! range of the reference in the `.http` file; nothing here panics or does I/O other
//! than reading the process environment.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Utc};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

use super::lookup::{ExchangeLookup, NoTokens, RecordedExchange, ScriptVars, TokenLookup};
use crate::script::{self, Limits};
use crate::secret::SecretSet;
use crate::syntax::Str;
use crate::syntax::ast::{
    Diagnostic, HttpFile, RefPart, RefSource, Severity, Template, TemplatePart, TokenKind, VarExpr,
    VarRef,
};
use crate::syntax::parse_foreign_template;
use crate::text::TextRange;

use super::Workspace;

/// No recorded exchanges (a dry run before anything was sent).
pub struct NoExchanges;

impl ExchangeLookup for NoExchanges {
    fn exchange(&self, _request_name: &str) -> Option<&RecordedExchange> {
        None
    }
}

static NO_EXCHANGES: NoExchanges = NoExchanges;
static NO_TOKENS: NoTokens = NoTokens;
static NO_OVERRIDES: BTreeMap<String, String> = BTreeMap::new();

/// Everything the pure resolve step reads besides the parsed file.
pub struct ResolveContext<'a> {
    pub workspace: &'a Workspace,
    /// `--var NAME=VALUE`: highest precedence, literal (not expanded), answers `@prompt`.
    pub overrides: &'a BTreeMap<String, String>,
    /// Earlier responses by `# @name`.
    pub exchanges: &'a dyn ExchangeLookup,
    /// Tokens the engine obtained beforehand.
    pub tokens: &'a dyn TokenLookup,
    /// Variables scripts have set (`client.global`, `request.variables`).
    pub script: &'a ScriptVars,
    /// A dry run (`show`, editor previews): missing responses, tokens and prompt
    /// answers are left as written without a diagnostic.
    pub dry_run: bool,
}

impl<'a> ResolveContext<'a> {
    /// A dry run: no overrides, no exchanges, no tokens.
    pub fn dry_run(workspace: &'a Workspace) -> Self {
        ResolveContext {
            workspace,
            overrides: &NO_OVERRIDES,
            exchanges: &NO_EXCHANGES,
            tokens: &NO_TOKENS,
            script: ScriptVars::none(),
            dry_run: true,
        }
    }
}

/// URL component encoding for `{{%name}}`: everything but RFC 3986 unreserved.
const COMPONENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// How many variables may be in the middle of resolving at once.
const MAX_DEPTH: usize = 64;

/// Where a value comes from, as identity for cycle detection and caching.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Source {
    /// `blocks[b].variables[i]`.
    Def(usize, usize),
    Env(String),
    Shared(String),
    /// `request.variables.set` in a pre-request script.
    ScriptRequest(String),
    /// `client.global.set` in a script.
    ScriptGlobal(String),
    /// A value of the nearest `.env` file (httpyac, kulala).
    DotEnv(String),
    /// The process environment: the fallback for a name defined nowhere else
    /// (rest.nvim, kulala).
    ProcessEnv(String),
}

/// The site a template is expanded for.
#[derive(Debug, Clone, Copy)]
struct Site {
    /// Byte offset in the `.http` file that decides which file variables are "above".
    offset: usize,
    /// Report problems here instead of at the reference's own range (the reference is
    /// in text that is not the `.http` file: an env value, a `<@` file).
    report: Option<TextRange>,
}

/// The value of an XPath 1.0 expression on an XML body (REST Client): a node set gives
/// its first node's string value, other results their text. No match, or a body that
/// is not XML, is an error (a sentence).
fn xpath_value(body: &str, path: &str) -> Result<String, String> {
    let package =
        sxd_document::parser::parse(body).map_err(|e| format!("the body is not XML ({e:?})"))?;
    let doc = package.as_document();
    let xpath = sxd_xpath::Factory::new()
        .build(path)
        .map_err(|e| format!("invalid XPath ({e})"))?
        .ok_or_else(|| "empty XPath".to_string())?;
    let ctx = sxd_xpath::Context::new();
    let value = xpath
        .evaluate(&ctx, doc.root())
        .map_err(|e| format!("cannot evaluate it ({e})"))?;
    match value {
        sxd_xpath::Value::Nodeset(nodes) => nodes
            .document_order_first()
            .map(|n| n.string_value())
            .ok_or_else(|| "it matched nothing".to_string()),
        sxd_xpath::Value::String(s) => Ok(s),
        sxd_xpath::Value::Number(n) if n.is_finite() && n.fract() == 0.0 => {
            Ok(format!("{}", n as i64))
        }
        sxd_xpath::Value::Number(n) => Ok(n.to_string()),
        sxd_xpath::Value::Boolean(b) => Ok(b.to_string()),
    }
}

/// `Name[2]` -> (`Name`, Some(2)); anything else -> (path, None).
fn split_index(path: &str) -> (&str, Option<usize>) {
    if let Some(open) = path.rfind('[')
        && let Some(inner) = path[open + 1..].strip_suffix(']')
        && let Ok(i) = inner.trim().parse::<usize>()
    {
        return (&path[..open], Some(i));
    }
    (path, None)
}

/// The attribute `attr` (`value`, or `path`, `domain`, `expires`, ...; case-insensitive)
/// of the cookie `name` in one `Set-Cookie` value; a flag attribute (`HttpOnly`) is
/// `true`.
fn set_cookie_attr(set_cookie: &str, name: &str, attr: &str) -> Option<String> {
    let mut parts = set_cookie.split(';');
    let (n, v) = parts.next()?.split_once('=')?;
    if n.trim() != name {
        return None;
    }
    if attr.eq_ignore_ascii_case("value") {
        return Some(v.trim().trim_matches('"').to_string());
    }
    parts.find_map(|p| {
        let (k, v) = p.split_once('=').unwrap_or((p, "true"));
        k.trim()
            .eq_ignore_ascii_case(attr)
            .then(|| v.trim().to_string())
    })
}

/// A name the process environment can hold: letters, digits and `_`, not starting
/// with a digit (so `{{login.token}}` and friends never reach it).
fn is_env_name(n: &str) -> bool {
    !n.is_empty()
        && !n.starts_with(|c: char| c.is_ascii_digit())
        && n.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Is the `@prompt` variable `name` a secret: asked without echo, and its value masked
/// wherever a request is shown (like a private env value)? REST Client's rule
/// (`password`, `passwd`, `pass`) plus any name that says password, secret or token.
pub fn is_secret_prompt(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    n == "pass"
        || ["password", "passwd", "secret", "token"]
            .iter()
            .any(|w| n.contains(w))
}

/// Resolves the references of one request block. Collects diagnostics, secrets, the
/// request names and auth profiles met on the way.
pub struct Resolver<'a> {
    file: &'a HttpFile,
    block: usize,
    ctx: &'a ResolveContext<'a>,
    now: DateTime<Utc>,
    stack: Vec<(Source, String)>,
    cache: HashMap<Source, Option<String>>,
    /// Every secret value substituted (private env values, tokens).
    pub secrets: SecretSet,
    pub diagnostics: Vec<Diagnostic>,
    /// `# @name`s whose exchanges were referenced, in first-use order.
    pub requests: Vec<String>,
    /// Auth profiles referenced, in first-use order.
    pub auth: Vec<(String, TokenKind)>,
    /// Something was left as written (unresolved).
    pub incomplete: bool,
    /// A value set by a script (or computed by a `{{ expression }}`) went in.
    pub script_values: bool,
}

impl<'a> Resolver<'a> {
    pub fn new(file: &'a HttpFile, block: usize, ctx: &'a ResolveContext<'a>) -> Self {
        Resolver {
            file,
            block,
            ctx,
            now: Utc::now(),
            stack: Vec::new(),
            cache: HashMap::new(),
            secrets: SecretSet::new(),
            diagnostics: Vec::new(),
            requests: Vec::new(),
            auth: Vec::new(),
            incomplete: false,
            script_values: false,
        }
    }

    /// A resolver for the same block and context with nothing resolved yet (to see
    /// what one template alone draws on: `requests`, `script_values`).
    pub fn fresh(&self) -> Resolver<'a> {
        Resolver::new(self.file, self.block, self.ctx)
    }

    /// Expand `text` that is not part of any `.http` file (an auth profile's value in
    /// an env file) with the same rules as a request's values: environment, `.env`,
    /// process and system variables. The first problem is the error sentence.
    pub fn expand_standalone(ctx: &ResolveContext<'_>, text: &str) -> Result<String, String> {
        let file = HttpFile::default();
        let mut r = Resolver::new(&file, 0, ctx);
        let t = parse_foreign_template(text);
        let out = r.expand_foreign(&t, TextRange::default());
        match r.diagnostics.iter().find(|d| d.severity == Severity::Error) {
            Some(d) => Err(d.message.clone()),
            None => Ok(out),
        }
    }

    /// Expand a template from the `.http` file (its ranges are file offsets).
    pub fn expand(&mut self, t: &Template) -> String {
        self.expand_at(
            t,
            Site {
                offset: t.range.start as usize,
                report: None,
            },
        )
    }

    /// Expand a template from other text (a `<@` file), reporting problems at `report`
    /// in the `.http` file.
    pub fn expand_foreign(&mut self, t: &Template, report: TextRange) -> String {
        self.expand_at(
            t,
            Site {
                offset: report.start as usize,
                report: Some(report),
            },
        )
    }

    /// The value of one reference in the `.http` file, `None` when it stays unresolved.
    pub fn resolve_ref(&mut self, v: &VarRef) -> Option<String> {
        self.var(
            v,
            Site {
                offset: v.range.start as usize,
                report: None,
            },
        )
    }

    /// The value of variable `name` as seen at `offset`, or `None` when nothing defines
    /// it; no diagnostic for a missing definition (for optional conventions such as
    /// httpyac's `host` base URL).
    pub fn lookup_optional(&mut self, name: &str, offset: usize) -> Option<String> {
        if !self.ctx.overrides.contains_key(name) && self.candidates(name, offset).is_empty() {
            return None;
        }
        let site = Site {
            offset,
            report: None,
        };
        self.name(name, TextRange::empty(offset), site)
    }

    fn expand_at(&mut self, t: &Template, site: Site) -> String {
        let mut out = String::new();
        for part in t.parts() {
            match part {
                TemplatePart::Text(s) => push_unescaped(&mut out, s.value),
                TemplatePart::Var(v) => match self.var(&v, site_for(&v, site)) {
                    Some(value) if v.encode => {
                        out.extend(utf8_percent_encode(&value, COMPONENT));
                    }
                    Some(value) => out.push_str(&value),
                    None => {
                        self.incomplete = true;
                        out.push_str(&written(&v));
                    }
                },
            }
        }
        out
    }

    fn error(&mut self, range: TextRange, code: &'static str, msg: String) {
        if !self
            .diagnostics
            .iter()
            .any(|d| d.range == range && d.message == msg)
        {
            self.diagnostics.push(Diagnostic::error(range, code, msg));
        }
    }

    fn var(&mut self, v: &VarRef, site: Site) -> Option<String> {
        let range = site.report.unwrap_or(v.range);
        match &v.expr {
            VarExpr::Name(n) => self.name(n, range, site),
            VarExpr::System { name, args } => self.system(name, args, range, site),
            VarExpr::RequestRef {
                request,
                source,
                part,
                path,
            } => self.request_ref(request, *source, *part, path, range),
            VarExpr::Auth { kind, profile } => self.auth_token(profile, *kind, range),
            VarExpr::Script(code) => self.script_expr(code, range, site),
            VarExpr::Invalid(msg) => {
                self.error(range, "invalid-variable", msg.clone());
                None
            }
        }
    }

    /// httpyac's `{{ expression }}`: JavaScript in the script sandbox, with the
    /// variables it names in scope. A value built from a secret is a secret. In a dry
    /// run an expression that fails as it runs (a name a script sets later, say) is
    /// left as written; one that is not JavaScript is always an error.
    fn script_expr(&mut self, code: &str, range: TextRange, site: Site) -> Option<String> {
        self.script_values = true;
        let mut vars = BTreeMap::new();
        let mut from_secret = false;
        for word in js_identifiers(code) {
            let defined = self.ctx.overrides.contains_key(word)
                || !self.candidates(word, site.offset).is_empty();
            if !defined || vars.contains_key(word) {
                continue;
            }
            if let Some(v) = self.name(word, range, site) {
                from_secret |= self.secrets.leaks_into(&v);
                vars.insert(word.to_string(), v);
            }
        }
        match script::eval_expression(code, &vars, Limits::default()) {
            Ok(v) => {
                if from_secret && !v.is_empty() {
                    self.secrets.add(&v);
                }
                Some(v)
            }
            Err(e) if e.syntax || !self.ctx.dry_run => {
                self.error(
                    range,
                    "script-expression",
                    format!("the expression `{code}` failed: {}", e.message),
                );
                None
            }
            Err(_) => {
                self.incomplete = true;
                None
            }
        }
    }

    /// Candidate sources of `n` for a use at `offset`, highest precedence first.
    fn candidates(&self, n: &str, offset: usize) -> Vec<Source> {
        let mut out = Vec::new();
        if self.ctx.script.request.contains_key(n) {
            out.push(Source::ScriptRequest(n.to_string()));
        }
        if let Some(own) = self.file.blocks.get(self.block)
            && own.request.is_some()
            && let Some(i) = own
                .variables
                .iter()
                .rposition(|d| d.name.value == n && (d.range.start as usize) < offset)
        {
            out.push(Source::Def(self.block, i));
        }
        if self.ctx.workspace.env.get(n).is_some() {
            out.push(Source::Env(n.to_string()));
        }
        if self.ctx.workspace.dotenv.get(n).is_some() {
            out.push(Source::DotEnv(n.to_string()));
        }
        if self.ctx.script.global.contains_key(n) {
            out.push(Source::ScriptGlobal(n.to_string()));
        }
        let mut above = Vec::new();
        let mut below = Vec::new();
        // The file's index of definitions: a lookup costs the definitions of one name,
        // not a walk over every block (resolving every request stays linear).
        for &(b, i) in self.file.definitions_of(n) {
            let d = &self.file.blocks[b].variables[i];
            if (d.range.start as usize) < offset {
                above.push(Source::Def(b, i));
            } else {
                below.push(Source::Def(b, i));
            }
        }
        out.extend(above.into_iter().rev());
        out.extend(below);
        if out.is_empty() && is_env_name(n) && self.ctx.workspace.process_var(n).is_some() {
            out.push(Source::ProcessEnv(n.to_string()));
        }
        out
    }

    fn is_prompt(&self, n: &str) -> bool {
        self.file
            .blocks
            .get(self.block)
            .is_some_and(|own| own.prompts().any(|(name, _)| name == n))
    }

    fn name(&mut self, n: &str, range: TextRange, site: Site) -> Option<String> {
        if let Some(v) = self.ctx.overrides.get(n) {
            if is_secret_prompt(n) && self.is_prompt(n) {
                self.secrets.add(v);
            }
            return Some(v.clone());
        }
        if self.is_prompt(n) {
            if !self.ctx.dry_run {
                self.error(
                    range,
                    "prompt",
                    format!("`{n}` is a @prompt variable: give its value with --var {n}=VALUE"),
                );
            }
            return None;
        }
        let candidates = self.candidates(n, site.offset);
        let chosen = candidates
            .iter()
            .find(|c| !self.stack.iter().any(|(s, _)| s == *c))
            .cloned();
        // Bound the recursion: a chain of hundreds of variables is a mistake (or a
        // fuzzer), and must not exhaust the stack.
        if self.stack.len() >= MAX_DEPTH {
            self.error(
                range,
                "variable-depth",
                format!("variable `{n}` is nested more than {MAX_DEPTH} levels deep"),
            );
            return None;
        }
        let Some(source) = chosen else {
            if candidates.is_empty() {
                // httpyac: a named request's response body is a variable of that name:
                // `{{login.token}}` for `{{login.response.body.$.token}}`, when nothing
                // else defines the name. (Only dotted names: the editor's diagnostics
                // cache counts on that, `has_response_ref`.)
                if let Some((request, field)) = n.split_once('.')
                    && !field.is_empty()
                    && self.is_request_name(request)
                {
                    let path = format!("$.{field}");
                    return self.request_ref(
                        request,
                        RefSource::Response,
                        RefPart::Body,
                        &path,
                        range,
                    );
                }
                if let Some((b, _)) = self.file.script_setting(n) {
                    self.script_values = true;
                    // Set by a script that has not run yet (in this session): a dry run
                    // leaves it as written, like a response not fetched yet.
                    if !self.ctx.dry_run {
                        let block = &self.file.blocks[b];
                        let which = match block.name() {
                            Some(name) => format!("the request `{name}`"),
                            None => format!("the block at line {}", block.first_line + 1),
                        };
                        self.error(
                            range,
                            "script-variable",
                            format!(
                                "`{n}` is set by a script of {which}, which has not run yet in this session: send that request first"
                            ),
                        );
                    }
                    self.incomplete = true;
                    return None;
                }
                let msg = self.unknown_message(n);
                self.error(range, "unknown-variable", msg);
            } else {
                let mut chain: Vec<String> = self.stack.iter().map(|(_, n)| n.clone()).collect();
                chain.push(n.to_string());
                self.error(
                    range,
                    "variable-cycle",
                    format!("variable `{n}` refers to itself ({})", chain.join(" -> ")),
                );
            }
            return None;
        };
        self.eval_source(source, n, range, site)
    }

    fn unknown_message(&self, n: &str) -> String {
        let env = &self.ctx.workspace.env;
        let elsewhere = env.defined_elsewhere.get(n);
        match (&env.name, elsewhere) {
            (None, Some(list)) => format!(
                "unknown variable `{n}`: only the environment{} {} define{} it; select an environment",
                if list.len() == 1 { "" } else { "s" },
                list.join(", "),
                if list.len() == 1 { "s" } else { "" },
            ),
            (Some(sel), Some(list)) => format!(
                "unknown variable `{n}`: the environment `{sel}` does not define it (only {} do{}), nor does any file variable above its use",
                list.join(", "),
                if list.len() == 1 { "es" } else { "" },
            ),
            (Some(sel), None) => format!(
                "unknown variable `{n}`: not set by --var, the request, the environment `{sel}` or a file variable above its use"
            ),
            (None, None) => format!(
                "unknown variable `{n}`: not set by --var, the request, an environment or a file variable above its use"
            ),
        }
    }

    fn eval_source(
        &mut self,
        source: Source,
        n: &str,
        range: TextRange,
        site: Site,
    ) -> Option<String> {
        if let Some(v) = self.cache.get(&source) {
            if v.is_none() {
                self.incomplete = true;
            }
            return v.clone();
        }
        let file = self.file;
        self.stack.push((source.clone(), n.to_string()));
        let incomplete_before = std::mem::replace(&mut self.incomplete, false);
        let value = match &source {
            Source::Def(b, i) => {
                let def = &file.blocks[*b].variables[*i];
                let s = self.expand_at(
                    &def.value,
                    Site {
                        offset: def.range.start as usize,
                        report: None,
                    },
                );
                Some(s)
            }
            Source::Env(name) | Source::Shared(name) => {
                let env = &self.ctx.workspace.env;
                let var = match &source {
                    Source::Env(_) => env.vars.get(name),
                    _ => env.shared.get(name),
                };
                var.cloned().map(|var| {
                    let t = parse_foreign_template(&var.value);
                    let s = self.expand_at(
                        &t,
                        Site {
                            offset: site.offset,
                            report: Some(range),
                        },
                    );
                    if var.secret {
                        self.secrets.add(&s);
                    }
                    s
                })
            }
            Source::ScriptRequest(name) => {
                self.script_values = true;
                self.ctx.script.request.get(name).cloned()
            }
            Source::ScriptGlobal(name) => {
                self.script_values = true;
                self.ctx.script.global.get(name).cloned()
            }
            // Taken as they are (no `{{ }}` inside), and masked like private env values.
            Source::DotEnv(name) => {
                let v = self.ctx.workspace.dotenv.get(name).map(str::to_string);
                if let Some(v) = &v {
                    self.secrets.add(v);
                }
                v
            }
            Source::ProcessEnv(name) => {
                let v = self.ctx.workspace.process_var(name);
                if let Some(v) = &v {
                    self.secrets.add(v);
                }
                v
            }
        };
        self.stack.pop();
        let incomplete = self.incomplete;
        self.incomplete = incomplete_before || incomplete;
        // A value with unresolved parts is used as far as it goes (left partly as
        // written), and remembered so a second use gives the same text.
        self.cache.insert(source, value.clone());
        value
    }

    fn system(&mut self, name: &str, args: &[Str], range: TextRange, site: Site) -> Option<String> {
        let ws = self.ctx.workspace;
        match name {
            "$processEnv" | "$env" | "$dotenv" => {
                let Some(arg) = args.first() else {
                    self.error(
                        range,
                        "invalid-variable",
                        format!("`{name}` needs a variable name, like `{{{{{name} HOME}}}}`"),
                    );
                    return None;
                };
                // `%NAME`: NAME is looked up in the environment first, and its value
                // names the process or .env variable (REST Client).
                let key = if let Some(indirect) = arg.strip_prefix('%') {
                    self.name(indirect, range, site)?
                } else {
                    arg.to_string()
                };
                let value = if name == "$dotenv" {
                    ws.dotenv.get(&key).map(str::to_string)
                } else {
                    ws.process_var(&key)
                };
                if value.is_none() {
                    let msg = if name == "$dotenv" {
                        match &ws.dotenv.path {
                            Some(p) => format!("`{key}` is not set in {}", p.display()),
                            None => format!(
                                "`$dotenv {key}`: no .env file was found from the request file's folder up to the workspace root"
                            ),
                        }
                    } else {
                        format!("the process environment variable `{key}` is not set")
                    };
                    self.error(range, "unknown-variable", msg);
                }
                // `.env` files and the process environment hold credentials as often
                // as not: masked like private env values.
                if let Some(v) = &value {
                    self.secrets.add(v);
                }
                value
            }
            "$shared" => {
                let Some(n) = args.first() else {
                    self.error(
                        range,
                        "invalid-variable",
                        "`$shared` needs a variable name, like `{{$shared host}}`".into(),
                    );
                    return None;
                };
                if ws.env.shared.contains_key(n.as_str()) {
                    let source = Source::Shared(n.to_string());
                    if self.stack.iter().any(|(s, _)| *s == source) {
                        self.error(
                            range,
                            "variable-cycle",
                            format!("`$shared {n}` refers to itself"),
                        );
                        return None;
                    }
                    self.eval_source(source, n, range, site)
                } else {
                    self.error(
                        range,
                        "unknown-variable",
                        format!("unknown variable `$shared {n}`: the `$shared` environment does not define `{n}`"),
                    );
                    None
                }
            }
            // httpyac's global script variables (`$global.token = ...` in its scripts):
            // the `client.global` values of this session.
            _ if let Some(key) = name.strip_prefix("$global.") => {
                if let Some(v) = self.ctx.overrides.get(key) {
                    return Some(v.clone());
                }
                if self.ctx.script.global.contains_key(key) {
                    return self.eval_source(
                        Source::ScriptGlobal(key.to_string()),
                        key,
                        range,
                        site,
                    );
                }
                self.script_values = true;
                // Like a value a script sets before the request: a dry run leaves it
                // as written.
                if !self.ctx.dry_run {
                    self.error(
                        range,
                        "script-variable",
                        format!(
                            "`{name}` (httpyac's global variable) is not set in this session: set it from a handler with `client.global.set(\"{key}\", ...)` or with `--var {key}=...` (httpyac's `{{{{ }}}}` script blocks are not run)"
                        ),
                    );
                }
                self.incomplete = true;
                None
            }
            _ => match super::system::eval(name, args, self.now) {
                Some(Ok(v)) => Some(v),
                Some(Err(msg)) => {
                    self.error(range, "invalid-variable", msg);
                    None
                }
                None => {
                    let message = match name {
                        // REST Client's Azure AD tokens: the same sign-in, as a profile.
                        "$aadToken" | "$aadV2Token" => format!(
                            "`{name}` (REST Client's Azure AD token) is not supported: add an auth profile with `Issuer: https://login.microsoftonline.com/<tenant>/v2.0` and write `{{{{$auth.token(\"<profile>\")}}}}`"
                        ),
                        "$input" | "$password" | "$pick" | "$multipick" => format!(
                            "`{name}` (httpyac asks for a value) is not supported: declare `# @prompt NAME description` above the request and write `{{{{NAME}}}}` (asked in the editor and the terminal, or given with `--var NAME=...`)"
                        ),
                        _ => format!("unknown system variable `{name}`"),
                    };
                    self.error(range, "unknown-variable", message);
                    None
                }
            },
        }
    }

    fn is_request_name(&self, name: &str) -> bool {
        self.file
            .blocks
            .iter()
            .any(|b| b.request.is_some() && b.request_name() == Some(name))
    }

    fn request_ref(
        &mut self,
        request: &str,
        source: RefSource,
        part: RefPart,
        path: &str,
        range: TextRange,
    ) -> Option<String> {
        if !self.requests.iter().any(|r| r == request) {
            self.requests.push(request.to_string());
        }
        let Some(ex) = self.ctx.exchanges.exchange(request) else {
            if !self.is_request_name(request) {
                self.error(
                    range,
                    "unknown-request",
                    format!(
                        "there is no request named `{request}` in this file (name one with `# @name {request}`)"
                    ),
                );
            } else if !self.ctx.dry_run {
                self.error(
                    range,
                    "missing-response",
                    format!("the response of `{request}` is not available: send `{request}` first"),
                );
            }
            return None;
        };
        let (headers, body, what) = match source {
            RefSource::Response => (
                &ex.response_headers,
                Some(ex.response_body.as_str()),
                "response",
            ),
            RefSource::Request => (&ex.request_headers, ex.request_body.as_deref(), "request"),
        };
        match part {
            RefPart::Headers => {
                // `NAME[i]`: one value of a repeated header (0-based); `NAME`: all of
                // them joined with `, `.
                let (name, index) = split_index(path);
                let values: Vec<&str> = headers
                    .iter()
                    .filter(|(k, _)| k.eq_ignore_ascii_case(name))
                    .map(|(_, v)| v.as_str())
                    .collect();
                if values.is_empty() {
                    self.error(
                        range,
                        "missing-value",
                        format!("the {what} of `{request}` has no header `{name}`"),
                    );
                    return None;
                }
                match index {
                    None => Some(values.join(", ")),
                    Some(i) => match values.get(i) {
                        Some(v) => Some(v.to_string()),
                        None => {
                            self.error(
                                range,
                                "missing-value",
                                format!(
                                    "the {what} of `{request}` has {} `{name}` header{}, so there is no `[{i}]` (counted from 0)",
                                    values.len(),
                                    if values.len() == 1 { "" } else { "s" }
                                ),
                            );
                            None
                        }
                    },
                }
            }
            RefPart::Cookies => {
                let (cookie, attr) = path.split_once('.').unwrap_or((path, "value"));
                let found = match source {
                    RefSource::Response => headers
                        .iter()
                        .filter(|(k, _)| k.eq_ignore_ascii_case("set-cookie"))
                        .find_map(|(_, v)| set_cookie_attr(v, cookie, attr)),
                    RefSource::Request => headers
                        .iter()
                        .filter(|(k, _)| k.eq_ignore_ascii_case("cookie"))
                        .flat_map(|(_, v)| v.split(';'))
                        .filter_map(|pair| pair.trim().split_once('='))
                        .find(|(n, _)| n.trim() == cookie && attr.eq_ignore_ascii_case("value"))
                        .map(|(_, v)| v.trim().to_string()),
                };
                if found.is_none() {
                    self.error(
                        range,
                        "missing-value",
                        format!(
                            "the {what} of `{request}` sets no cookie `{cookie}` with `{attr}`"
                        ),
                    );
                }
                found
            }
            RefPart::Body => {
                let body = body.unwrap_or("");
                if path == "*" || path.is_empty() {
                    return Some(body.to_string());
                }
                // Not JSONPath: XPath (REST Client), `//reply[1]/@id`, `count(//reply)`.
                if !path.starts_with('$') {
                    return match xpath_value(body, path) {
                        Ok(v) => Some(v),
                        Err(e) => {
                            self.error(
                                range,
                                "missing-value",
                                format!(
                                    "the XPath `{path}` on the {what} body of `{request}`: {e}"
                                ),
                            );
                            None
                        }
                    };
                }
                let json: serde_json::Value = match serde_json::from_str(body) {
                    Ok(j) => j,
                    Err(_) => {
                        self.error(
                            range,
                            "missing-value",
                            format!("the {what} body of `{request}` is not JSON, so `{path}` cannot be read"),
                        );
                        return None;
                    }
                };
                let jp = match serde_json_path::JsonPath::parse(path) {
                    Ok(p) => p,
                    Err(e) => {
                        self.error(
                            range,
                            "invalid-variable",
                            format!("invalid JSONPath `{path}`: {e}"),
                        );
                        return None;
                    }
                };
                match jp.query(&json).first() {
                    Some(serde_json::Value::String(s)) => Some(s.clone()),
                    Some(v) => Some(v.to_string()),
                    None => {
                        self.error(
                            range,
                            "missing-value",
                            format!("`{path}` matched nothing in the {what} body of `{request}`"),
                        );
                        None
                    }
                }
            }
        }
    }

    fn auth_token(&mut self, profile: &str, kind: TokenKind, range: TextRange) -> Option<String> {
        if !self.auth.iter().any(|(p, k)| p == profile && *k == kind) {
            self.auth.push((profile.to_string(), kind));
        }
        let env = &self.ctx.workspace.env;
        let known = env
            .auth
            .as_ref()
            .is_some_and(|a| a.profiles.get(profile).is_some());
        if !known {
            let msg = match &env.name {
                None => format!(
                    "unknown auth profile `{profile}`: no environment is selected; select one whose Security.Auth defines it"
                ),
                Some(e) => format!(
                    "unknown auth profile `{profile}`: the environment `{e}` has no Security.Auth.{profile}"
                ),
            };
            self.error(range, "unknown-profile", msg);
            return None;
        }
        match self.ctx.tokens.token(profile, kind) {
            Some(tok) => {
                self.secrets.add_secret(&tok);
                Some(tok.expose().to_string())
            }
            None => {
                if !self.ctx.dry_run {
                    self.error(
                        range,
                        "not-signed-in",
                        format!("no token for the auth profile `{profile}`: sign in with `httplens login {profile}`"),
                    );
                }
                None
            }
        }
    }
}

/// Inside foreign text, keep reporting at the outer site; in the `.http` file, at the
/// reference itself.
fn site_for(v: &VarRef, site: Site) -> Site {
    match site.report {
        Some(_) => site,
        None => Site {
            offset: v.range.start as usize,
            report: None,
        },
    }
}

/// A reference left as written (with its `%`).
pub fn written(v: &VarRef) -> String {
    format!("{{{{{}{}}}}}", if v.encode { "%" } else { "" }, v.source)
}

/// The identifiers a JavaScript expression names at the top level (not property names
/// after a `.`, not inside string literals, but inside a template literal's `${ }`):
/// the variables to put in its scope.
fn js_identifiers(code: &str) -> impl Iterator<Item = &str> {
    let b = code.as_bytes();
    let mut i = 0;
    let mut quote: Option<u8> = None;
    // One entry per open `${` of a template literal: the `{` nesting inside it.
    let mut templates: Vec<u32> = Vec::new();
    std::iter::from_fn(move || {
        while i < b.len() {
            let c = b[i];
            if let Some(q) = quote {
                if c == b'\\' {
                    i += 2;
                    continue;
                }
                if q == b'`' && c == b'$' && b.get(i + 1) == Some(&b'{') {
                    templates.push(0);
                    quote = None;
                    i += 2;
                    continue;
                }
                if c == q {
                    quote = None;
                }
                i += 1;
                continue;
            }
            if matches!(c, b'"' | b'\'' | b'`') {
                quote = Some(c);
                i += 1;
                continue;
            }
            if let Some(depth) = templates.last_mut() {
                if c == b'{' {
                    *depth += 1;
                } else if c == b'}' {
                    if *depth == 0 {
                        templates.pop();
                        quote = Some(b'`');
                    } else {
                        *depth -= 1;
                    }
                }
            }
            let ident_start = |c: u8| c.is_ascii_alphabetic() || c == b'_' || c == b'$';
            if ident_start(c) {
                let start = i;
                while i < b.len() && (ident_start(b[i]) || b[i].is_ascii_digit()) {
                    i += 1;
                }
                let after_dot = code[..start].trim_end().ends_with('.');
                if !after_dot {
                    return Some(&code[start..i]);
                }
                continue;
            }
            i += 1;
        }
        None
    })
}

/// Literal text of a template: `\{\{` and `\}\}` stand for literal `{{` and `}}`
/// (kulala, httpyac), so a file can send braces that are no variable.
fn push_unescaped(out: &mut String, text: &str) {
    if !text.contains("\\{\\{") && !text.contains("\\}\\}") {
        out.push_str(text);
        return;
    }
    out.push_str(&text.replace("\\{\\{", "{{").replace("\\}\\}", "}}"));
}
