//! The pure step: a parsed request block plus variables -> [`RequestSpec`]. Reads only
//! the files the request names (`< file`, `<@ file`); sends nothing.
//!
//! Choices (what REST Client and the JetBrains client do, written down):
//! - A target with a scheme is used as is. A target without a host (`/path`, `?q`)
//!   takes the `Host` header: `https://` when the host ends in `:443`, else `http://`
//!   (REST Client); without a `Host` header, the variable `host` is the base URL
//!   (httpyac). A target with a host but no scheme (`example.com/x`,
//!   `localhost:8080/x`) gets `http://`, as both clients do.
//! - `Authorization: Basic user pass` and `Basic user:pass` are base64-encoded; a single
//!   word after `Basic` is taken as already encoded. `Authorization: Digest user pass`
//!   becomes [`RequestSpec::digest`] and the header is dropped (the engine answers the
//!   challenge).
//! - `multipart/form-data` text is sent with CRLF line ends (REST Client), whatever the
//!   file uses; embedded `< ./file` parts are read in as bytes.
//! - `application/x-www-form-urlencoded` bodies: lines are joined without separator,
//!   so continuation lines start with `&`; spaces around `=` and `&` are dropped.
//! - GraphQL (`X-Request-Type: GraphQL`, consumed, method `GRAPHQL`, sent as POST, or
//!   httpyac's detection: a POST body opening with `query`/`mutation`/`subscription`/
//!   `fragment`): the body up to the first blank line is the query, the rest (if any)
//!   the variables JSON; sent as `{"query", "operationName", "variables"}` with
//!   `Content-Type: application/json` unless the file sets one. Fragments spread by
//!   the query (`...Name`, defined before a request line of this file or above) are
//!   appended; `gql NAME < file` reads a query or fragment from a file.
//! - Repeated `Cookie` headers become one; a body file without `Content-Type` gets one
//!   from its extension; the query is percent-encoded per RFC 3986 ([`wire_url`]).
//! - `@timeout` / `@connection-timeout` take `ms`, `s` or `m`; a bare number is
//!   milliseconds (JetBrains, httpyac).
//! - `<@latin1 file` decodes the file as ISO-8859-1; the substituted text is sent as
//!   UTF-8.

use std::path::{Path, PathBuf};
use std::time::Duration;

use base64::Engine as _;

use crate::env::resolve::{ResolveContext, Resolver};
use crate::env::{self, NoExchanges, NoTokens, ScriptVars, Workspace};
use crate::secret::{MASK, SecretSet};
use crate::syntax::ast::{
    Block, BodyPart, Diagnostic, GqlFragment, HttpFile, OutputRedirect, Request, Severity,
    TokenKind,
};
use crate::syntax::parse_foreign_template;
use crate::text::{LineIndex, TextRange};

use super::spec::{
    BodySpec, DigestCredentials, OutputTarget, RequestOptions, RequestSpec, ResolvedAssertion,
};

/// Resolve block `block` of `file` (parsed from `text`) into a [`RequestSpec`].
///
/// `None` when the block has no request (a shared block) or does not exist. In a dry
/// run ([`ResolveContext::dry_run`]) the spec is always produced when there is a
/// request, with unresolved parts left as written; otherwise the caller should not
/// send when any diagnostic is an error.
pub fn build(
    file: &HttpFile,
    text: &str,
    block: usize,
    ctx: &ResolveContext<'_>,
) -> (Option<RequestSpec>, Vec<Diagnostic>) {
    let Some(b) = file.blocks.get(block) else {
        return (None, Vec::new());
    };
    let Some(req) = &b.request else {
        return (None, Vec::new());
    };
    let mut r = Resolver::new(file, block, ctx);
    let mut extra: Vec<Diagnostic> = Vec::new();
    for (name, range) in b.refs() {
        // httpyac: `@ref` may name a block of variables only (`# @name vars` over
        // `@x = ...` lines); its variables apply to the whole file here already.
        let shared = || {
            file.blocks
                .iter()
                .any(|s| s.request.is_none() && s.explicit_name() == Some(name))
        };
        if find_request(file, name).is_none() && !shared() {
            extra.push(Diagnostic::error(
                range,
                "unknown-request",
                format!("there is no request named `{name}` in this file (name one with `# @name {name}`)"),
            ));
        }
    }
    // Only a GraphQL request walks the earlier blocks for fragments: building every
    // request of a big file stays linear.
    let fragments = || gql_fragments(file, block);
    let spec = build_spec(b, req, text, ctx, &mut r, &mut extra, &fragments);
    let mut diags = r.diagnostics;
    diags.extend(extra);
    diags.sort_by_key(|d| (d.range.start, d.range.end));
    (Some(spec), diags)
}

fn build_spec<'a>(
    b: &Block,
    req: &Request,
    text: &str,
    ctx: &ResolveContext<'_>,
    r: &mut Resolver<'_>,
    diags: &mut Vec<Diagnostic>,
    fragments: &dyn Fn() -> Vec<&'a GqlFragment>,
) -> RequestSpec {
    // Lines counted within the block only: building every request of a big file
    // stays linear in its size.
    let line_of = |range: TextRange| b.line_number(text, range.start as usize);
    let dir = ctx.workspace.file_dir().to_path_buf();

    let mut method = req.method_name().to_string();
    let mut graphql = false;
    if method.eq_ignore_ascii_case("GRAPHQL") {
        method = "POST".into();
        graphql = true;
    }

    let mut headers: Vec<(String, String)> = Vec::new();
    let mut digest = None;
    let mut header_secrets = SecretSet::new();
    for h in &req.headers {
        let name = h.name.value.to_string();
        let value = r.expand(&h.value).trim().to_string();
        if name.eq_ignore_ascii_case("X-Request-Type") && value.eq_ignore_ascii_case("GraphQL") {
            graphql = true;
            continue;
        }
        if name.eq_ignore_ascii_case("Authorization") {
            if let Some(d) = digest_credentials(&value) {
                header_secrets.add(&d.password);
                digest = Some(d);
                continue;
            }
            let value = basic_shorthand(&value);
            header_secrets.add(credential(&value));
            headers.push((name, value));
            continue;
        }
        if is_secret_header(&name) {
            header_secrets.add(credential(&value));
        }
        headers.push((name, value));
    }

    // kulala's `$kulalaDefaultHeaders` from the env file: added unless the request
    // sets the header itself.
    for (name, value) in &ctx.workspace.env.default_headers {
        if !headers.iter().any(|(n, _)| n.eq_ignore_ascii_case(name)) {
            let t = parse_foreign_template(value);
            let value = r.expand_foreign(&t, req.line_range).trim().to_string();
            if is_secret_header(name) {
                header_secrets.add(credential(&value));
            }
            headers.push((name.clone(), value));
        }
    }

    let target = r.expand(&req.target);
    let host = headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case("Host"))
        .map(|(_, v)| v.as_str());
    // `OPTIONS * HTTP/1.1` with a Host header: the URL names the server only, and the
    // request target on the wire is `*`.
    let asterisk_form = target.trim() == "*";
    let mut url = if asterisk_form {
        absolute_url("/", host)
    } else {
        absolute_url(target.trim(), host)
    };
    // httpyac: a target without host takes the variable `host` as its base URL.
    if (url.starts_with('/') || url.is_empty())
        && let Some(base) = r.lookup_optional("host", req.target.range.start as usize)
    {
        url = absolute_url(&format!("{}{url}", base.trim().trim_end_matches('/')), None);
    }
    if !url.contains("://") && !url.starts_with("{{") {
        diags.push(Diagnostic::error(
            req.target.range,
            "no-host",
            format!("the target `{url}` has no host: write the full URL or add a Host header"),
        ));
    }

    let content_type = headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case("Content-Type"))
        .map(|(_, v)| v.to_ascii_lowercase())
        .unwrap_or_default();
    let mut body = match &req.body {
        None => BodySpec::None,
        Some(body) => build_body(&body.parts, &content_type, &dir, r, diags),
    };
    // httpyac: a POST whose body opens with a GraphQL keyword is a GraphQL request,
    // unless the file says the body is something else.
    if !graphql
        && method.eq_ignore_ascii_case("POST")
        && (content_type.is_empty() || content_type.starts_with("application/json"))
        && let BodySpec::Bytes(bytes) = &body
        && looks_like_graphql(&String::from_utf8_lossy(bytes))
    {
        graphql = true;
    }
    // httpyac: `gql NAME < ./file.gql` as the body reads the query from a file.
    let range = req.body.as_ref().map(|b| b.range).unwrap_or(req.line_range);
    if let BodySpec::Bytes(bytes) = &body
        && let Some((query, rest)) = gql_file_body(&String::from_utf8_lossy(bytes), &dir)
    {
        match query {
            Ok(q) => body = BodySpec::Bytes(format!("{q}\n\n{rest}").into_bytes()),
            Err(e) => diags.push(Diagnostic::error(range, "missing-file", e)),
        }
        graphql = true;
    }
    if graphql && let BodySpec::Bytes(bytes) = &body {
        let mut query_text = String::from_utf8_lossy(bytes).into_owned();
        append_fragments(&mut query_text, &fragments(), text, &dir, diags);
        body = BodySpec::Bytes(graphql_body(&query_text, range, diags).into_bytes());
        if !headers
            .iter()
            .any(|(n, _)| n.eq_ignore_ascii_case("Content-Type"))
        {
            headers.push(("Content-Type".into(), "application/json".into()));
        }
    }

    // A body file without a Content-Type gets one from its extension; an explicit
    // header always wins.
    if content_type.is_empty()
        && let Some(ct) = body_file(req).and_then(content_type_for)
    {
        headers.push(("Content-Type".into(), ct.into()));
    }
    merge_cookie_headers(&mut headers);
    if !(ctx.dry_run && url.contains("{{")) {
        url = wire_url(&url);
    }

    let mut options = options(b, diags);
    options.asterisk_form = asterisk_form;
    let assertions = req
        .assertions
        .iter()
        .map(|a| ResolvedAssertion {
            line: line_of(a.range),
            text: a.range.slice(text).trim().to_string(),
            target: a.target.clone(),
            op: a.op,
            expected: a.expected.as_ref().map(|t| r.expand(t)),
        })
        .collect();
    let output = req
        .output
        .as_deref()
        .and_then(|o| output_target(o, ctx, r, &dir, diags));

    let mut secrets = r.secrets.clone();
    secrets.extend(&header_secrets);
    RequestSpec {
        name: b.name().map(str::to_string),
        line: line_of(req.line_range),
        method,
        url,
        headers,
        body,
        options,
        digest,
        secrets,
        assertions,
        output,
    }
}

/// The body file of a request whose body is one `< file` / `<@ file` line.
fn body_file(req: &Request) -> Option<&str> {
    match &req.body.as_ref()?.parts[..] {
        [BodyPart::File(f)] => Some(f.path.text()),
        _ => None,
    }
}

/// The Content-Type a body file's extension stands for (JSON, XML, form, text).
fn content_type_for(path: &str) -> Option<&'static str> {
    let ext = Path::new(path.trim())
        .extension()?
        .to_str()?
        .to_ascii_lowercase();
    Some(match ext.as_str() {
        "json" => "application/json",
        "xml" => "application/xml",
        "form" | "urlencoded" => "application/x-www-form-urlencoded",
        "txt" | "text" => "text/plain",
        "html" | "htm" => "text/html",
        "csv" => "text/csv",
        "graphql" | "gql" => "application/graphql",
        "yaml" | "yml" => "application/yaml",
        _ => return None,
    })
}

/// Repeated `Cookie` lines become one header, values joined with `; ` (RFC 6265
/// allows one Cookie header; REST Client, httpyac and kulala merge them too).
fn merge_cookie_headers(headers: &mut Vec<(String, String)>) {
    let mut first: Option<usize> = None;
    let mut i = 0;
    while i < headers.len() {
        if headers[i].0.eq_ignore_ascii_case("Cookie") {
            if let Some(f) = first {
                let (_, v) = headers.remove(i);
                let merged = format!("{}; {}", headers[f].1.trim_end_matches(';'), v);
                headers[f].1 = merged;
                continue;
            }
            first = Some(i);
        }
        i += 1;
    }
}

/// Characters RFC 3986 does not allow in a query (besides `%`, kept so that escapes
/// written in the file stay as they are); non-ASCII is always encoded.
const QUERY_ESCAPE: &percent_encoding::AsciiSet = &percent_encoding::CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'<')
    .add(b'>')
    .add(b'\\')
    .add(b'^')
    .add(b'`')
    .add(b'{')
    .add(b'|')
    .add(b'}')
    .add(b'[')
    .add(b']');

/// The URL as it goes on the wire: the query percent-encoded per RFC 3986, then
/// normalised as the HTTP client does (so `show` prints what `run` sends). A URL that
/// does not parse stays as written (the send reports it).
pub fn wire_url(url: &str) -> String {
    let (before, fragment) = match url.find('#') {
        Some(i) => url.split_at(i),
        None => (url, ""),
    };
    let encoded = match before.split_once('?') {
        Some((base, query)) => format!(
            "{base}?{}{fragment}",
            percent_encoding::utf8_percent_encode(query, QUERY_ESCAPE)
        ),
        None => url.to_string(),
    };
    match url::Url::parse(&encoded) {
        Ok(u) => u.to_string(),
        Err(_) => encoded,
    }
}

/// The GraphQL fragments a request of block `block` can spread: those of its own
/// block and of the blocks above (httpyac keeps them per file, in order).
fn gql_fragments(file: &HttpFile, block: usize) -> Vec<&GqlFragment> {
    file.blocks
        .iter()
        .take(block + 1)
        .flat_map(|b| b.fragments.iter())
        .collect()
}

/// A body that is `gql [NAME] < ./file.gql` (then optionally a blank line and the
/// variables JSON): the query read from the file, and the rest of the body.
fn gql_file_body(body: &str, dir: &Path) -> Option<(Result<String, String>, String)> {
    let body = body.trim_start();
    let (first, rest) = body.split_once('\n').unwrap_or((body, ""));
    let after = first.trim().strip_prefix("gql")?;
    if !after.starts_with(char::is_whitespace) {
        return None;
    }
    let (_, path) = after.split_once('<')?;
    let path = resolve_path(dir, path.trim());
    let query = std::fs::read_to_string(&path)
        .map(|q| q.trim().to_string())
        .map_err(|e| format!("cannot read the GraphQL file {}: {e}", path.display()));
    Some((query, rest.trim().to_string()))
}

/// Appends to the query (before its variables) every fragment it spreads
/// (`...NAME`), and the fragments those spread, each once.
fn append_fragments(
    body: &mut String,
    fragments: &[&GqlFragment],
    text: &str,
    dir: &Path,
    diags: &mut Vec<Diagnostic>,
) {
    if fragments.is_empty() {
        return;
    }
    let normalized = body.replace("\r\n", "\n");
    let (query, vars) = match normalized.find("\n\n") {
        Some(i) => (normalized[..i].to_string(), normalized[i..].to_string()),
        None => (normalized.clone(), String::new()),
    };
    let mut query = query.trim_end().to_string();
    let mut added: Vec<&str> = Vec::new();
    loop {
        let spread = fragments
            .iter()
            .rev()
            .find(|f| !added.contains(&f.name.as_str()) && spreads(&query, f.name.as_str()));
        let Some(f) = spread else { break };
        added.push(f.name.as_str());
        let fragment = if f.file {
            let path = resolve_path(dir, f.text.as_str());
            match std::fs::read_to_string(&path) {
                Ok(s) => s.trim().to_string(),
                Err(e) => {
                    diags.push(Diagnostic::error(
                        f.range,
                        "missing-file",
                        format!(
                            "cannot read the GraphQL fragment file {}: {e}",
                            path.display()
                        ),
                    ));
                    continue;
                }
            }
        } else {
            f.range.slice(text).trim().to_string()
        };
        query.push('\n');
        query.push_str(&fragment);
    }
    *body = format!("{query}{vars}");
}

/// Does `query` spread the fragment `name` (`...name`, not `...names`)?
fn spreads(query: &str, name: &str) -> bool {
    let needle = format!("...{name}");
    query.match_indices(&needle).any(|(i, _)| {
        !query[i + needle.len()..].starts_with(|c: char| c.is_ascii_alphanumeric() || c == '_')
    })
}

/// httpyac's GraphQL detection: the body opens with an operation or fragment keyword.
fn looks_like_graphql(body: &str) -> bool {
    let first = body
        .trim_start()
        .split(|c: char| !c.is_ascii_alphanumeric())
        .next();
    matches!(
        first,
        Some("query" | "mutation" | "subscription" | "fragment")
    )
}

/// The name of the operation a GraphQL query runs: the first named `query`,
/// `mutation` or `subscription` (fragments are not operations).
fn operation_name(query: &str) -> Option<String> {
    static OP: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
        regex::Regex::new(r"\b(?:query|mutation|subscription)\b\s*([A-Za-z_][A-Za-z0-9_]*)?")
            .expect("a valid regex")
    });
    Some(OP.captures(query)?.get(1)?.as_str().to_string())
}

/// The absolute URL for a target (see the module docs for the rules).
pub fn absolute_url(target: &str, host: Option<&str>) -> String {
    // A target that starts with an unresolved `{{var}}` (a dry run) stays as written:
    // the variable may well hold the scheme.
    if target.contains("://") || target.starts_with("{{") {
        return target.to_string();
    }
    if target.is_empty() || target.starts_with('/') || target.starts_with('?') {
        return match host {
            Some(h) if h.contains("://") => format!("{}{target}", h.trim_end_matches('/')),
            Some(h) if h.ends_with(":443") => format!("https://{h}{target}"),
            Some(h) => format!("http://{h}{target}"),
            None => target.to_string(),
        };
    }
    format!("http://{target}")
}

/// `Basic user pass` / `Basic user:pass` -> `Basic base64(user:pass)`.
fn basic_shorthand(value: &str) -> String {
    let Some((scheme, rest)) = value.split_once(char::is_whitespace) else {
        return value.to_string();
    };
    if !scheme.eq_ignore_ascii_case("Basic") {
        return value.to_string();
    }
    let rest = rest.trim();
    let pair = if rest.contains(':') {
        rest.to_string()
    } else if let Some((user, pass)) = rest.split_once(char::is_whitespace) {
        format!("{}:{}", user, pass.trim())
    } else {
        return value.to_string();
    };
    format!(
        "{scheme} {}",
        base64::engine::general_purpose::STANDARD.encode(pair)
    )
}

/// `Digest user pass` -> credentials; anything else (a full digest header) -> `None`.
fn digest_credentials(value: &str) -> Option<DigestCredentials> {
    let (scheme, rest) = value.split_once(char::is_whitespace)?;
    if !scheme.eq_ignore_ascii_case("Digest") {
        return None;
    }
    let rest = rest.trim();
    if rest.contains('=') {
        return None;
    }
    let (user, pass) = rest
        .split_once(char::is_whitespace)
        .or_else(|| rest.split_once(':'))?;
    Some(DigestCredentials {
        user: user.to_string(),
        password: pass.trim().to_string(),
    })
}

/// Headers whose values are credentials (`docs/cli.md`, what `show` prints): Authorization, Cookie,
/// `*-Key`, `*Token*`, `*Secret*` (case-insensitive).
pub fn is_secret_header(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    n == "authorization"
        || n == "proxy-authorization"
        || n == "cookie"
        || n.ends_with("-key")
        || n.contains("token")
        || n.contains("secret")
}

/// The credential part of a header value: after an auth scheme word (`Bearer x`),
/// else the whole value.
pub fn credential(value: &str) -> &str {
    match value.split_once(' ') {
        Some((scheme, rest))
            if !scheme.is_empty()
                && scheme
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') =>
        {
            rest.trim()
        }
        _ => value,
    }
}

/// A header value with its credential masked: `Bearer ***`, or `***`.
pub fn mask_header_value(value: &str) -> String {
    let cred = credential(value);
    if cred.len() == value.len() {
        MASK.to_string()
    } else {
        format!("{} {}", &value[..value.len() - cred.len()].trim_end(), MASK)
    }
}

fn build_body(
    parts: &[BodyPart],
    content_type: &str,
    dir: &Path,
    r: &mut Resolver<'_>,
    diags: &mut Vec<Diagnostic>,
) -> BodySpec {
    let multipart = content_type.starts_with("multipart/");
    if let [BodyPart::File(f)] = parts
        && !f.templated
        && !multipart
    {
        let path = resolve_path(dir, &r.expand(&f.path));
        if !path.is_file() {
            diags.push(Diagnostic::error(
                f.range,
                "missing-file",
                format!("the body file {} does not exist", path.display()),
            ));
        }
        return BodySpec::File(path);
    }
    let mut out: Vec<u8> = Vec::new();
    for part in parts {
        match part {
            BodyPart::Text(t) => {
                let s = r.expand(t);
                if multipart {
                    out.extend_from_slice(crlf(&s).as_bytes());
                } else {
                    out.extend_from_slice(s.as_bytes());
                }
            }
            BodyPart::File(f) => {
                let path = resolve_path(dir, &r.expand(&f.path));
                let bytes = match std::fs::read(&path) {
                    Ok(b) => b,
                    Err(e) => {
                        diags.push(Diagnostic::error(
                            f.range,
                            "missing-file",
                            format!("cannot read the body file {}: {e}", path.display()),
                        ));
                        continue;
                    }
                };
                if f.templated {
                    let latin1 = f.encoding.as_deref().is_some_and(|e| {
                        e.eq_ignore_ascii_case("latin1") || e.eq_ignore_ascii_case("iso-8859-1")
                    });
                    let content: String = if latin1 {
                        bytes.iter().map(|&b| b as char).collect()
                    } else {
                        String::from_utf8_lossy(&bytes).into_owned()
                    };
                    let t = parse_foreign_template(&content);
                    out.extend_from_slice(r.expand_foreign(&t, f.range).as_bytes());
                } else {
                    out.extend_from_slice(&bytes);
                }
            }
        }
    }
    if content_type.starts_with("application/x-www-form-urlencoded") {
        out = form_body(&String::from_utf8_lossy(&out)).into_bytes();
    }
    BodySpec::Bytes(out)
}

/// A form body as sent: lines joined, and the spaces written around `=` and `&`
/// dropped (`foo = a &` / `bar = b` -> `foo=a&bar=b`, as httpyac and kulala send it).
fn form_body(text: &str) -> String {
    let joined: String = text.lines().map(str::trim).collect();
    joined
        .split('&')
        .map(|pair| match pair.split_once('=') {
            Some((k, v)) => format!("{}={}", k.trim(), v.trim()),
            None => pair.trim().to_string(),
        })
        .collect::<Vec<_>>()
        .join("&")
}

fn crlf(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 16);
    let mut prev = '\0';
    for c in s.chars() {
        if c == '\n' && prev != '\r' {
            out.push('\r');
        }
        out.push(c);
        prev = c;
    }
    out
}

fn resolve_path(dir: &Path, p: &str) -> PathBuf {
    let p = p.trim();
    let expanded = match p.strip_prefix("~/") {
        Some(rest) => dirs::home_dir().map(|h| h.join(rest)),
        None => None,
    };
    expanded.unwrap_or_else(|| dir.join(p))
}

fn graphql_body(text: &str, range: TextRange, diags: &mut Vec<Diagnostic>) -> String {
    let normalized = text.replace("\r\n", "\n");
    let (query, vars) = match normalized.find("\n\n") {
        Some(i) => (&normalized[..i], normalized[i..].trim()),
        None => (normalized.as_str(), ""),
    };
    let mut obj = serde_json::Map::new();
    obj.insert(
        "query".into(),
        serde_json::Value::String(query.trim().to_string()),
    );
    if let Some(name) = operation_name(query) {
        obj.insert("operationName".into(), serde_json::Value::String(name));
    }
    if !vars.is_empty() {
        match serde_json::from_str::<serde_json::Value>(vars) {
            Ok(v) => {
                obj.insert("variables".into(), v);
            }
            Err(e) => diags.push(Diagnostic::error(
                range,
                "graphql",
                format!("the GraphQL variables after the blank line are not valid JSON: {e}"),
            )),
        }
    }
    serde_json::Value::Object(obj).to_string()
}

fn options(b: &Block, diags: &mut Vec<Diagnostic>) -> RequestOptions {
    let mut o = RequestOptions::default();
    for m in &b.metadata {
        let value = m.value.as_ref().map(|v| v.value.trim()).unwrap_or("");
        match m.key.value.to_ascii_lowercase().as_str() {
            "timeout" | "connection-timeout" => match parse_duration(value) {
                Some(d) if m.key.value.eq_ignore_ascii_case("timeout") => o.timeout = Some(d),
                Some(d) => o.connect_timeout = Some(d),
                None => diags.push(Diagnostic::warning(
                    m.range,
                    "invalid-metadata",
                    format!(
                        "`@{} {value}` is not a duration: write a number with ms, s or m, like `5 s`",
                        m.key.value
                    ),
                )),
            },
            "no-redirect" => o.follow_redirects = false,
            "no-cookie-jar" => o.cookie_jar = false,
            "no-log" => o.no_log = true,
            "note" => o.confirm = Some(value.to_string()),
            _ => {}
        }
    }
    o
}

/// `5 s`, `500 ms`, `2m`, `600`. A bare number is seconds, as the JetBrains client
/// reads `# @timeout 600` (httpyac reads milliseconds there; of the two readings a
/// longer limit never fails a request that the other would send).
pub fn parse_duration(s: &str) -> Option<Duration> {
    let s = s.trim();
    let split = s
        .find(|c: char| !c.is_ascii_digit() && c != '.')
        .unwrap_or(s.len());
    let (num, unit) = s.split_at(split);
    let n: f64 = num.parse().ok()?;
    let ms = match unit.trim().to_ascii_lowercase().as_str() {
        "ms" => n,
        "" | "s" | "sec" | "seconds" => n * 1000.0,
        "m" | "min" | "minutes" => n * 60_000.0,
        _ => return None,
    };
    if !ms.is_finite() || !(0.0..=1e12).contains(&ms) {
        return None;
    }
    Some(Duration::from_millis(ms as u64))
}

/// The `# @name`s block `block` depends on, transitively (through variables, env
/// values and the requests those name), in the order they should be sent: every
/// dependency before the requests that use it. Never contains `block`'s own name;
/// unknown names and cycles are left out (the build reports them).
pub fn dependencies(
    file: &HttpFile,
    text: &str,
    block: usize,
    ctx: &ResolveContext<'_>,
) -> Vec<String> {
    let mut order = Vec::new();
    let mut visiting = Vec::new();
    visit_deps(file, text, block, ctx, &mut visiting, &mut order);
    let own = file.blocks.get(block).and_then(|b| b.request_name());
    order.retain(|n| Some(n.as_str()) != own);
    order
}

fn visit_deps(
    file: &HttpFile,
    text: &str,
    block: usize,
    ctx: &ResolveContext<'_>,
    visiting: &mut Vec<usize>,
    order: &mut Vec<String>,
) {
    if visiting.contains(&block) {
        return;
    }
    visiting.push(block);
    // `# @ref NAME` first (httpyac: sent before, whether or not a value is read from
    // it), then the requests whose responses the block reads.
    let refs = file
        .blocks
        .get(block)
        .into_iter()
        .flat_map(|b| b.refs().map(|(n, _)| n.to_string()));
    let names: Vec<String> = refs.chain(uses(file, text, block, ctx).0).collect();
    for name in names {
        if let Some(dep) = find_request(file, &name)
            && !visiting.contains(&dep)
        {
            visit_deps(file, text, dep, ctx, visiting, order);
            if !order.contains(&name) {
                order.push(name);
            }
        }
    }
    visiting.pop();
}

/// The auth profiles (and token kinds) block `block` uses through `$auth.token(...)` /
/// `$auth.idToken(...)`, directly or through variables, in first-use order.
pub fn auth_profiles(
    file: &HttpFile,
    text: &str,
    block: usize,
    ctx: &ResolveContext<'_>,
) -> Vec<(String, TokenKind)> {
    uses(file, text, block, ctx).1
}

/// `@prompt` variables of a block that `--var` does not answer: `(name, description)`.
pub fn prompts(file: &HttpFile, block: usize, ctx: &ResolveContext<'_>) -> Vec<(String, String)> {
    let Some(b) = file.blocks.get(block) else {
        return Vec::new();
    };
    b.prompts()
        .filter(|(name, _)| !ctx.overrides.contains_key(*name))
        .map(|(name, desc)| (name.to_string(), desc.to_string()))
        .collect()
}

/// One `@prompt` variable to ask for before sending.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Prompt {
    pub name: String,
    /// The words after the name (may be empty).
    pub description: String,
    /// Asked without echo and masked wherever the value would show
    /// ([`crate::env::is_secret_prompt`]).
    pub secret: bool,
}

/// The `@prompt` variables a send asks for, each once, in order: those of block
/// `target` and of the requests it depends on (`{{name.response...}}`), or of every
/// block when `target` is `None`; the ones `overrides` already answers are left out.
pub fn prompts_to_ask(
    file: &HttpFile,
    text: &str,
    workspace: &Workspace,
    target: Option<usize>,
    overrides: &std::collections::BTreeMap<String, String>,
) -> Vec<Prompt> {
    let ctx = ResolveContext {
        workspace,
        overrides,
        exchanges: &NoExchanges,
        tokens: &NoTokens,
        script: ScriptVars::none(),
        dry_run: true,
    };
    let blocks: Vec<usize> = match target {
        Some(b) => {
            let mut v: Vec<usize> = dependencies(file, text, b, &ctx)
                .iter()
                .filter_map(|n| find_request(file, n))
                .collect();
            v.push(b);
            v
        }
        None => (0..file.blocks.len()).collect(),
    };
    let mut out: Vec<Prompt> = Vec::new();
    for b in blocks {
        for (name, description) in prompts(file, b, &ctx) {
            if !out.iter().any(|p| p.name == name) {
                out.push(Prompt {
                    secret: env::is_secret_prompt(&name),
                    name,
                    description,
                });
            }
        }
    }
    out
}

/// Index of the request block named `name` (`# @name`).
pub fn find_request(file: &HttpFile, name: &str) -> Option<usize> {
    // A `# @name` wins over a `### Title` of the same name.
    let named = |explicit: bool| {
        file.blocks.iter().position(|b| {
            b.request.is_some()
                && if explicit {
                    b.explicit_name() == Some(name)
                } else {
                    b.request_name() == Some(name)
                }
        })
    };
    named(true).or_else(|| named(false))
}

/// Index of the request block holding 0-based `line` (from its separator to its last
/// line), for `--line` and the editor.
pub fn block_at_line(file: &HttpFile, text: &str, line: u32) -> Option<usize> {
    let idx = LineIndex::new(text);
    let offset = idx.line_start(line);
    file.blocks.iter().position(|b| {
        b.request.is_some()
            && (b.range.contains(offset)
                || (b.range.end as usize == offset && offset == text.len()))
    })
}

/// Request names and auth profiles met while resolving a block as a dry run.
fn uses(
    file: &HttpFile,
    text: &str,
    block: usize,
    ctx: &ResolveContext<'_>,
) -> (Vec<String>, Vec<(String, TokenKind)>) {
    let Some(b) = file.blocks.get(block) else {
        return (Vec::new(), Vec::new());
    };
    let Some(req) = &b.request else {
        return (Vec::new(), Vec::new());
    };
    // Resolve as a dry run without exchanges or tokens: every reference is visited,
    // none needs to be available.
    let dry = ResolveContext {
        workspace: ctx.workspace,
        overrides: ctx.overrides,
        exchanges: &NoExchanges,
        tokens: &NoTokens,
        script: ScriptVars::none(),
        dry_run: true,
    };
    let mut r = Resolver::new(file, block, &dry);
    let mut scratch = Vec::new();
    let _ = build_spec(b, req, text, &dry, &mut r, &mut scratch, &Vec::new);
    (r.requests, r.auth)
}

/// Where `>> path` may write: a file inside the workspace root, named by the file
/// itself. The path is resolved on its own: a value that came from a response (a
/// request variable, directly or through other variables) or from a script could
/// point anywhere, so it is refused; so is a path that leaves the workspace root
/// (absolute or through `..`). Each refusal is an error at the `>>` line. The write
/// itself (`exec::history::write_output`) checks symbolic links again.
fn output_target(
    o: &OutputRedirect,
    ctx: &ResolveContext<'_>,
    r: &Resolver<'_>,
    dir: &std::path::Path,
    diags: &mut Vec<Diagnostic>,
) -> Option<OutputTarget> {
    let mut pr = r.fresh();
    let written = pr.expand(&o.path);
    let found = std::mem::take(&mut pr.diagnostics);
    let failed = found.iter().any(|d| d.severity == Severity::Error);
    diags.extend(found);
    if !pr.requests.is_empty() || pr.script_values {
        diags.push(Diagnostic::error(
            o.range,
            "output-path",
            "a `>>` path may not use values from a response or a script (they could name any file): write the file name here",
        ));
        return None;
    }
    if failed || pr.incomplete {
        return None;
    }
    let root = &ctx.workspace.root;
    match confine(root, &dir.join(written.trim())) {
        Some(path) => Some(OutputTarget {
            path,
            overwrite: o.overwrite,
        }),
        None => {
            diags.push(Diagnostic::error(
                o.range,
                "output-path",
                format!(
                    "`>>` writes only inside the workspace ({}): `{}` is outside it",
                    root.display(),
                    written.trim()
                ),
            ));
            None
        }
    }
}

/// `path` with `.` and `..` worked out, if it stays inside `root` (both absolute).
pub fn confine(root: &std::path::Path, path: &std::path::Path) -> Option<PathBuf> {
    use std::path::Component;
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::ParentDir => {
                if !out.pop() {
                    return None;
                }
            }
            Component::CurDir => {}
            other => out.push(other.as_os_str()),
        }
    }
    (out.starts_with(root) && out != root).then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_as_the_jetbrains_client_reads_them() {
        let d = |s: &str| parse_duration(s).map(|d| d.as_millis());
        assert_eq!(d("600"), Some(600_000));
        assert_eq!(d("1.5"), Some(1_500));
        assert_eq!(d("500 ms"), Some(500));
        assert_eq!(d("5 s"), Some(5_000));
        assert_eq!(d("2m"), Some(120_000));
        assert_eq!(d("soon"), None);
        assert_eq!(d("-1"), None);
    }
}
