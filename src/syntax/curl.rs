//! `curl` command lines: split as a POSIX shell would (keeping where each word is in
//! the text), then read as the request curl would send. Used for REST Client's `curl`
//! request lines, `httplens import curl` and the editor's "convert to request".
//!
//! Only what people paste is understood: `-X`, `-H`, `-d` and its `--data-*` forms,
//! `--json`, `-F`, `-u`, `--oauth2-bearer`, `-b`, `-A`, `-e`, `-G`, `-I`, `--url`;
//! `--compressed`, `-k`, `-L` and output-only options are accepted and change nothing,
//! and so do a pipe or list after the command (`| jq .`) and its redirections. Anything
//! else, and URL globbing, is an error that names it: a request is never sent
//! half-understood.

use crate::text::TextRange;

/// One shell word: its text after quotes and escapes are removed, and where it is.
/// `start` is where its text begins in the source (after an opening quote);
/// `offsets[i]` is where byte `i` of the text comes from (escapes and quotes make the
/// text and the source differ), so every position in the text maps onto the source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Word {
    pub text: String,
    pub range: TextRange,
    pub start: usize,
    pub offsets: Vec<u32>,
}

impl Word {
    /// Appends `c`, which comes from source offset `at`.
    fn push(&mut self, c: char, at: usize) {
        for k in 0..c.len_utf8() {
            self.offsets.push((at + k) as u32);
        }
        self.text.push(c);
    }
}

/// What went wrong, and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CurlError {
    pub range: TextRange,
    pub message: String,
}

/// The request a curl command describes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CurlRequest {
    /// `-X`, else from the data options (`POST`), `-I` (`HEAD`), or `GET`.
    pub method: String,
    /// The word that named the method (`-X`'s value), if one did.
    pub method_word: Option<Word>,
    pub url: Option<Word>,
    /// `(name, value)`, with `-u`, `-b`, `-A`, `-e`, `--json` and `-F` as the headers
    /// they become; `name_word` is the `-H` word where there is one.
    pub headers: Vec<CurlHeader>,
    pub body: Option<CurlBody>,
    /// Accepted options that change nothing here (`-k`, `-L`, `--compressed`, ...).
    pub ignored: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CurlHeader {
    pub name: String,
    pub value: String,
    /// Where each byte of `value` comes from (text httplens adds, like `Basic `, is
    /// placed on the `curl` word).
    pub offsets: Vec<u32>,
    /// The word it came from, else the `curl` word.
    pub range: TextRange,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CurlBody {
    /// `-d`/`--data*`/`--json` values, joined with `&` as curl does (each byte mapped
    /// onto the source).
    Text(Word),
    /// `-d @file` / `--data-binary @file`.
    File(Word),
    /// `-F`: multipart parts, in order.
    Form(Vec<FormPart>),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FormPart {
    pub name: String,
    /// `name=value`, or `name=@path` (a file, with its `;type=` if given).
    pub value: FormValue,
    pub content_type: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FormValue {
    Text(Word),
    File(Word),
}

/// Splits `cmd` (which starts at offset `base` of its source) into words: `'...'`,
/// `"..."` (with `\"`, `\\`, `\$`, `` \` `` escapes), `$'...'` (C escapes), backslash
/// escapes and `\` line continuations outside quotes. `#` starts a comment at the start
/// of a word.
pub fn split(cmd: &str, base: usize) -> Result<Vec<Word>, CurlError> {
    let b = cmd.as_bytes();
    let mut words = Vec::new();
    let mut i = 0;
    while i < b.len() {
        // Blanks and line continuations between words.
        match b[i] {
            b' ' | b'\t' | b'\r' | b'\n' => {
                i += 1;
                continue;
            }
            b'\\' if matches!(b.get(i + 1), Some(b'\n')) => {
                i += 2;
                continue;
            }
            b'\\' if b.get(i + 1) == Some(&b'\r') && b.get(i + 2) == Some(&b'\n') => {
                i += 3;
                continue;
            }
            b'#' => {
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
                continue;
            }
            _ => {}
        }
        let word_start = i;
        let mut w = Word {
            text: String::new(),
            range: TextRange::default(),
            start: base + i,
            offsets: Vec::new(),
        };
        let mut start = None;
        while i < b.len() && !matches!(b[i], b' ' | b'\t' | b'\r' | b'\n') {
            match b[i] {
                b'\'' => {
                    let close = cmd[i + 1..].find('\'').ok_or_else(|| CurlError {
                        range: TextRange::new(base + i, base + cmd.len()),
                        message: "a single quote is never closed".into(),
                    })?;
                    start.get_or_insert(i + 1);
                    for (k, c) in cmd[i + 1..i + 1 + close].char_indices() {
                        w.push(c, base + i + 1 + k);
                    }
                    i += close + 2;
                }
                b'$' if b.get(i + 1) == Some(&b'\'') => {
                    start.get_or_insert(i + 2);
                    i = ansi_c(cmd, i + 2, base, &mut w).ok_or_else(|| CurlError {
                        range: TextRange::new(base + i, base + cmd.len()),
                        message: "a $'...' string is never closed".into(),
                    })?;
                }
                b'"' => {
                    start.get_or_insert(i + 1);
                    let open = i;
                    i += 1;
                    loop {
                        match b.get(i) {
                            None => {
                                return Err(CurlError {
                                    range: TextRange::new(base + open, base + cmd.len()),
                                    message: "a double quote is never closed".into(),
                                });
                            }
                            Some(b'"') => {
                                i += 1;
                                break;
                            }
                            Some(b'\\')
                                if matches!(b.get(i + 1), Some(b'"' | b'\\' | b'$' | b'`')) =>
                            {
                                w.push(b[i + 1] as char, base + i + 1);
                                i += 2;
                            }
                            Some(b'\\') if b.get(i + 1) == Some(&b'\n') => i += 2,
                            Some(_) => {
                                let c = cmd[i..].chars().next().unwrap_or('\u{fffd}');
                                w.push(c, base + i);
                                i += c.len_utf8();
                            }
                        }
                    }
                }
                b'\\' => {
                    start.get_or_insert(i);
                    match cmd[i + 1..].chars().next() {
                        Some('\n') => i += 2,
                        Some(c) => {
                            w.push(c, base + i + 1);
                            i += 1 + c.len_utf8();
                        }
                        None => i += 1,
                    }
                }
                _ => {
                    start.get_or_insert(i);
                    let c = cmd[i..].chars().next().unwrap_or('\u{fffd}');
                    w.push(c, base + i);
                    i += c.len_utf8();
                }
            }
        }
        w.range = TextRange::new(base + word_start, base + i);
        w.start = base + start.unwrap_or(word_start);
        words.push(w);
    }
    Ok(words)
}

/// Reads a `$'...'` body from `i` (after the quote) into `out`; the offset after the
/// closing quote.
fn ansi_c(cmd: &str, mut i: usize, base: usize, out: &mut Word) -> Option<usize> {
    let b = cmd.as_bytes();
    loop {
        match *b.get(i)? {
            b'\'' => return Some(i + 1),
            b'\\' => {
                let e = *b.get(i + 1)?;
                match e {
                    b'n' => out.push('\n', base + i),
                    b't' => out.push('\t', base + i),
                    b'r' => out.push('\r', base + i),
                    b'0' => out.push('\0', base + i),
                    b'\\' | b'\'' | b'"' => out.push(e as char, base + i + 1),
                    _ => {
                        // Kept as written (the next character may be multi-byte).
                        out.push('\\', base + i);
                        i += 1;
                        continue;
                    }
                }
                i += 2;
            }
            _ => {
                let c = cmd[i..].chars().next()?;
                out.push(c, base + i);
                i += c.len_utf8();
            }
        }
    }
}

/// The words of the command itself: a pasted command often goes on into a pipe or a
/// list (`| jq .`, `; echo`, `&& ...`), which ends it, and its output redirections
/// (`> out.json`, `2>/dev/null`) change nothing about the request. Only unquoted words
/// are shell syntax (`'|'` is an argument).
fn command_words(words: Vec<Word>) -> Vec<Word> {
    let mut out = Vec::with_capacity(words.len());
    let mut it = words.into_iter();
    while let Some(mut w) = it.next() {
        // `... -d '{}';`: an unquoted `;` at the end of a word (its last byte comes
        // from the word's last source byte) ends the command after that word.
        let ends = w.text.len() > 1
            && w.text.ends_with(';')
            && w.offsets.last().map(|&o| o as usize + 1) == Some(w.range.end as usize);
        if ends {
            w.text.pop();
            w.offsets.pop();
            w.range = TextRange::new(w.range.start as usize, w.range.end as usize - 1);
        }
        let unquoted = w.range.len() == w.text.len();
        let t = w.text.as_str();
        if unquoted && matches!(t, "|" | "||" | "&&" | ";" | "&" | "|&") {
            break;
        }
        // `>`, `>>`, `2>`, `&>` alone take the next word as the file; `>out`,
        // `2>&1` carry it.
        let redirect = t.trim_start_matches(|c: char| c.is_ascii_digit() || c == '&');
        if unquoted && redirect.starts_with('>') {
            if !ends && redirect.trim_start_matches('>').is_empty() {
                let file = it.next();
                if file.is_some_and(|f| f.text.len() > 1 && f.text.ends_with(';')) {
                    break;
                }
            }
        } else {
            out.push(w);
        }
        if ends {
            break;
        }
    }
    out
}

/// Options that take a value and change nothing here.
const IGNORED_WITH_VALUE: &[&str] = &[
    "-o",
    "--output",
    "-m",
    "--max-time",
    "--connect-timeout",
    "-w",
    "--write-out",
    "--retry",
    "--retry-delay",
    "--retry-max-time",
    "-D",
    "--dump-header",
    "--trace",
    "--trace-ascii",
    "--stderr",
    "--max-redirs",
    "--limit-rate",
];

/// Options without a value that change nothing here.
const IGNORED_FLAGS: &[&str] = &[
    "-s",
    "--silent",
    "-S",
    "--show-error",
    "-v",
    "--verbose",
    "-i",
    "--include",
    "-f",
    "--fail",
    "--fail-with-body",
    "-#",
    "--progress-bar",
    "--compressed",
    "-k",
    "--insecure",
    "-L",
    "--location",
    "--location-trusted",
    "--http1.1",
    "--http2",
    "--http2-prior-knowledge",
    "-N",
    "--no-buffer",
    "--no-progress-meter",
    "-O",
    "--remote-name",
    "-J",
    "--remote-header-name",
    "-g",
    "--globoff",
    "-4",
    "--ipv4",
    "-6",
    "--ipv6",
    "--tr-encoding",
    "--path-as-is",
];

/// Reads the curl command `cmd` (starting at offset `base`; the first word must be
/// `curl`).
pub fn parse(cmd: &str, base: usize) -> Result<CurlRequest, CurlError> {
    let words = split(cmd, base)?;
    let whole = TextRange::new(base, base + cmd.len());
    let mut it = command_words(words).into_iter();
    let (curl_at, curl_range) = match it.next() {
        Some(w) if w.text == "curl" => (w.range.start, w.range),
        Some(w) => {
            return Err(CurlError {
                range: w.range,
                message: format!("a curl command starts with `curl`, not `{}`", w.text),
            });
        }
        None => {
            return Err(CurlError {
                range: whole,
                message: "the curl command is empty".into(),
            });
        }
    };
    let mut r = CurlRequest::default();
    let mut data: Vec<(Word, DataKind)> = Vec::new();
    let mut form = Vec::new();
    let mut get = false;
    let mut head = false;
    let mut globoff = false;
    let mut json = false;
    let words: Vec<Word> = it.collect();
    let mut i = 0;
    while i < words.len() {
        let w = &words[i];
        i += 1;
        let arg = w.text.as_str();
        if !arg.starts_with('-') || arg == "-" {
            if r.url.is_none() {
                r.url = Some(w.clone());
                continue;
            }
            return Err(CurlError {
                range: w.range,
                message: format!(
                    "a second URL `{arg}`: one curl command is one request here; write one request per URL"
                ),
            });
        }
        // `--opt=value` and `-Xvalue` forms.
        let (name, inline): (String, Option<Word>) = if let Some(rest) = arg.strip_prefix("--") {
            match rest.split_once('=') {
                Some((n, v)) if takes_value(&format!("--{n}")) => {
                    let off = 2 + n.len() + 1;
                    (format!("--{n}"), Some(sub_word(w, off, v)))
                }
                _ => (arg.to_string(), None),
            }
        } else if let (Some(short), Some(rest)) = (arg.get(..2), arg.get(2..))
            && !rest.is_empty()
            && takes_value(short)
        {
            (short.to_string(), Some(sub_word(w, 2, rest)))
        } else if arg.len() > 2 && arg[1..].bytes().all(|c| c.is_ascii_alphabetic()) {
            // Bundled flags: `-sSL`.
            let mut all_known = true;
            for c in arg[1..].chars() {
                let f = format!("-{c}");
                match f.as_str() {
                    "-I" => head = true,
                    "-G" => get = true,
                    "-g" => globoff = true,
                    _ if IGNORED_FLAGS.contains(&f.as_str()) => r.ignored.push(f),
                    _ => all_known = false,
                }
            }
            if all_known {
                continue;
            }
            return Err(unknown(w));
        } else {
            (arg.to_string(), None)
        };
        let value = |i: &mut usize| -> Result<Word, CurlError> {
            if let Some(v) = &inline {
                return Ok(v.clone());
            }
            let v = words.get(*i).cloned().ok_or_else(|| CurlError {
                range: w.range,
                message: format!("`{name}` needs a value"),
            })?;
            *i += 1;
            Ok(v)
        };
        match name.as_str() {
            "-X" | "--request" => {
                let v = value(&mut i)?;
                r.method = v.text.to_ascii_uppercase();
                r.method_word = Some(v);
            }
            "--url" => {
                let v = value(&mut i)?;
                r.url = Some(v);
            }
            "-H" | "--header" => {
                let v = value(&mut i)?;
                if let Some(n) = v.text.strip_suffix(';')
                    && !n.contains(':')
                    && !n.trim().is_empty()
                {
                    // curl's way to send a header with an empty value.
                    r.headers.push(CurlHeader {
                        name: n.trim().to_string(),
                        value: String::new(),
                        offsets: Vec::new(),
                        range: v.range,
                    });
                    continue;
                }
                let Some((n, val)) = v.text.split_once(':') else {
                    return Err(CurlError {
                        range: v.range,
                        message: format!("the header `{}` has no `:`", v.text),
                    });
                };
                let name = n.trim().to_string();
                let lead = val.len() - val.trim_start().len();
                let value_at = n.len() + 1 + lead;
                let value = val.trim().to_string();
                r.headers.push(CurlHeader {
                    name,
                    offsets: v.offsets[value_at..value_at + value.len()].to_vec(),
                    value,
                    range: v.range,
                });
            }
            "-d" | "--data" | "--data-ascii" => data.push((value(&mut i)?, DataKind::Data)),
            "--data-binary" => data.push((value(&mut i)?, DataKind::Binary)),
            "--data-raw" => data.push((value(&mut i)?, DataKind::Raw)),
            "--data-urlencode" => data.push((value(&mut i)?, DataKind::UrlEncode)),
            "--json" => {
                json = true;
                data.push((value(&mut i)?, DataKind::Binary));
            }
            "-F" | "--form" | "--form-string" => {
                let v = value(&mut i)?;
                form.push(form_part(&v, name == "--form-string")?);
            }
            "-u" | "--user" => {
                let v = value(&mut i)?;
                let mut offsets = vec![curl_at; "Basic ".len()];
                offsets.extend_from_slice(&v.offsets);
                r.headers.push(CurlHeader {
                    name: "Authorization".into(),
                    value: format!("Basic {}", v.text),
                    offsets,
                    range: v.range,
                });
            }
            "--oauth2-bearer" => {
                let v = value(&mut i)?;
                let mut offsets = vec![curl_at; "Bearer ".len()];
                offsets.extend_from_slice(&v.offsets);
                r.headers.push(CurlHeader {
                    name: "Authorization".into(),
                    value: format!("Bearer {}", v.text),
                    offsets,
                    range: v.range,
                });
            }
            "-b" | "--cookie" => {
                let v = value(&mut i)?;
                if !v.text.contains('=') {
                    return Err(CurlError {
                        range: v.range,
                        message: format!(
                            "`{name} {}` reads cookies from a file; write the cookie as `name=value`",
                            v.text
                        ),
                    });
                }
                r.headers.push(header_from(&v, "Cookie"));
            }
            "-A" | "--user-agent" => {
                let v = value(&mut i)?;
                r.headers.push(header_from(&v, "User-Agent"));
            }
            "-e" | "--referer" => {
                let v = value(&mut i)?;
                r.headers.push(header_from(&v, "Referer"));
            }
            "-G" | "--get" => get = true,
            "-I" | "--head" => head = true,
            "-g" | "--globoff" => {
                globoff = true;
                r.ignored.push(name.clone());
            }
            n if IGNORED_FLAGS.contains(&n) => r.ignored.push(name.clone()),
            n if IGNORED_WITH_VALUE.contains(&n) => {
                value(&mut i)?;
                r.ignored.push(name.clone());
            }
            _ => return Err(unknown(w)),
        }
    }
    let Some(url) = r.url.clone() else {
        return Err(CurlError {
            range: whole,
            message: "the curl command has no URL".into(),
        });
    };
    if !globoff && let Some(g) = glob(&url.text) {
        return Err(CurlError {
            range: url.range,
            message: format!(
                "curl would expand `{g}` into several URLs (URL globbing): write one request per URL, or add -g if the brackets are literal"
            ),
        });
    }
    if !data.is_empty() && !form.is_empty() {
        return Err(CurlError {
            range: whole,
            message: "`-d` and `-F` cannot be used together (curl refuses it too)".into(),
        });
    }
    let has_header =
        |r: &CurlRequest, n: &str| r.headers.iter().any(|h| h.name.eq_ignore_ascii_case(n));
    if json {
        for (n, v) in [
            ("Content-Type", "application/json"),
            ("Accept", "application/json"),
        ] {
            if !has_header(&r, n) {
                r.headers.push(synthetic(n, v, curl_at, curl_range));
            }
        }
    }
    let mut url = url;
    if get && !data.is_empty() {
        // `-G`: the data goes to the query string.
        for (w, k) in &data {
            let sep = if url.text.contains('?') { '&' } else { '?' };
            join(&mut url, sep, &derived(w, data_text(w, *k), curl_at));
        }
        r.url = Some(url);
        data.clear();
    }
    let default_method = if head {
        "HEAD"
    } else if !data.is_empty() || !form.is_empty() {
        "POST"
    } else {
        "GET"
    };
    if r.method.is_empty() {
        r.method = default_method.into();
    }
    for (w, k) in &data {
        let file = match k {
            DataKind::Data | DataKind::Binary => w.text.strip_prefix('@'),
            // curl reads `name@file` / `@file` when the `@` comes before any `=`.
            DataKind::UrlEncode => w
                .text
                .find(['@', '='])
                .filter(|&at| w.text.as_bytes()[at] == b'@')
                .map(|at| &w.text[at + 1..]),
            DataKind::Raw => None,
        };
        match file {
            Some("-") => return Err(stdin_error(w)),
            Some(_) if *k == DataKind::UrlEncode => {
                return Err(CurlError {
                    range: w.range,
                    message: format!(
                        "`--data-urlencode {}` encodes a file's content, which httplens cannot do: put the content in its place (`name=content`)",
                        w.text
                    ),
                });
            }
            _ => {}
        }
    }
    if let [(w, DataKind::Data | DataKind::Binary)] = data.as_slice()
        && let Some(path) = w.text.strip_prefix('@')
    {
        // curl sends a file's data as a form too, whatever its extension says.
        if !json && !has_header(&r, "Content-Type") {
            r.headers.push(synthetic(
                "Content-Type",
                "application/x-www-form-urlencoded",
                curl_at,
                curl_range,
            ));
        }
        r.body = Some(CurlBody::File(sub_word(w, 1, path)));
    } else if !data.is_empty() {
        for (w, k) in &data {
            if matches!(k, DataKind::Data | DataKind::Binary | DataKind::UrlEncode)
                && w.text.starts_with('@')
            {
                return Err(CurlError {
                    range: w.range,
                    message: "a file (`@path`) can only be the whole body: use one `-d @path`"
                        .into(),
                });
            }
        }
        let mut body: Option<Word> = None;
        for (w, k) in &data {
            let part = derived(w, data_text(w, *k), curl_at);
            match &mut body {
                None => body = Some(part),
                Some(b) => join(b, '&', &part),
            }
        }
        if !json && !has_header(&r, "Content-Type") {
            r.headers.push(synthetic(
                "Content-Type",
                "application/x-www-form-urlencoded",
                curl_at,
                curl_range,
            ));
        }
        r.body = body.map(CurlBody::Text);
    } else if !form.is_empty() {
        r.body = Some(CurlBody::Form(form));
    }
    Ok(r)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum DataKind {
    /// `-d` (curl strips newlines only from a file's content, which `@path` sends as
    /// a file of its own).
    Data,
    Binary,
    Raw,
    UrlEncode,
}

fn data_text(w: &Word, kind: DataKind) -> String {
    match kind {
        DataKind::Data | DataKind::Binary | DataKind::Raw => w.text.clone(),
        DataKind::UrlEncode => {
            // `name=value` encodes the value; `=value` and `value` encode it all.
            let enc = |s: &str| {
                if s.contains("{{") {
                    // Variables are substituted later; leave them readable.
                    s.to_string()
                } else {
                    url_encode(s)
                }
            };
            match w.text.split_once('=') {
                Some(("", v)) => enc(v),
                Some((n, v)) => format!("{n}={}", enc(v)),
                None => enc(&w.text),
            }
        }
    }
}

fn url_encode(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC)
        .to_string()
        .replace("%2D", "-")
        .replace("%2E", ".")
        .replace("%5F", "_")
        .replace("%7E", "~")
}

fn takes_value(opt: &str) -> bool {
    matches!(
        opt,
        "-X" | "--request"
            | "--url"
            | "-H"
            | "--header"
            | "-d"
            | "--data"
            | "--data-ascii"
            | "--data-binary"
            | "--data-raw"
            | "--data-urlencode"
            | "--json"
            | "-F"
            | "--form"
            | "--form-string"
            | "-u"
            | "--user"
            | "--oauth2-bearer"
            | "-b"
            | "--cookie"
            | "-A"
            | "--user-agent"
            | "-e"
            | "--referer"
    ) || IGNORED_WITH_VALUE.contains(&opt)
}

/// The part of `w` from byte `off` of its text, as a word of its own.
fn sub_word(w: &Word, off: usize, text: &str) -> Word {
    Word {
        text: text.to_string(),
        range: w.range,
        start: w.offsets.get(off).map_or(w.start, |&o| o as usize),
        offsets: w.offsets[off..off + text.len()].to_vec(),
    }
}

/// `text` derived from `w` (encoded, say): every byte placed on the `curl` word at
/// `at` (ASCII, so any character placed there starts and ends on character bounds).
fn derived(w: &Word, text: String, at: u32) -> Word {
    if text == w.text {
        return w.clone();
    }
    Word {
        offsets: vec![at; text.len()],
        text,
        range: w.range,
        start: w.range.start as usize,
    }
}

/// `a` and `b` joined by `sep` (placed on the blank before `b`).
fn join(a: &mut Word, sep: char, b: &Word) {
    a.push(sep, (b.range.start as usize).saturating_sub(1));
    a.text.push_str(&b.text);
    a.offsets.extend_from_slice(&b.offsets);
    a.range = a.range.cover(b.range);
}

fn header_from(v: &Word, name: &str) -> CurlHeader {
    CurlHeader {
        name: name.into(),
        value: v.text.clone(),
        offsets: v.offsets.clone(),
        range: v.range,
    }
}

/// A header httplens adds (`--json`'s, a form's Content-Type), placed on the `curl` word.
fn synthetic(name: &str, value: &str, at: u32, range: TextRange) -> CurlHeader {
    CurlHeader {
        name: name.into(),
        value: value.into(),
        offsets: vec![at; value.len()],
        range,
    }
}

fn unknown(w: &Word) -> CurlError {
    CurlError {
        range: w.range,
        message: format!(
            "the curl option `{}` is not supported here (supported: -X, -H, -d/--data*, --json, -F, -u, --oauth2-bearer, -b, -A, -e, -G, -I, --url)",
            w.text
        ),
    }
}

/// `@-`: the body comes from curl's standard input, which a request file cannot give.
fn stdin_error(w: &Word) -> CurlError {
    CurlError {
        range: w.range,
        message: format!(
            "`{}` reads the body from standard input: paste the body in its place, or name a file with `@path`",
            w.text
        ),
    }
}

fn form_part(v: &Word, literal: bool) -> Result<FormPart, CurlError> {
    let Some((name, value)) = v.text.split_once('=') else {
        return Err(CurlError {
            range: v.range,
            message: format!("the form field `{}` has no `=`", v.text),
        });
    };
    let (value, content_type) = match value.split_once(";type=") {
        Some((v, t)) if !literal => (v, Some(t.to_string())),
        _ => (value, None),
    };
    let at = name.len() + 1;
    let value = match value.strip_prefix('@').or_else(|| value.strip_prefix('<')) {
        Some("-") if !literal => return Err(stdin_error(v)),
        Some(path) if !literal => FormValue::File(sub_word(v, at + 1, path)),
        _ => FormValue::Text(sub_word(v, at, value)),
    };
    Ok(FormPart {
        name: name.to_string(),
        value,
        content_type,
    })
}

/// The first URL glob in `url` (`[1-3]`, `{a,b}`), if any; `{{variables}}` are not
/// globs.
fn glob(url: &str) -> Option<&str> {
    let b = url.as_bytes();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'{' if b.get(i + 1) == Some(&b'{') => {
                // A variable: skip to its end.
                i = url[i..].find("}}").map_or(b.len(), |e| i + e + 2);
                continue;
            }
            b'{' => {
                if let Some(e) = url[i..].find('}') {
                    let inner = &url[i + 1..i + e];
                    if inner.contains(',') {
                        return Some(&url[i..i + e + 1]);
                    }
                }
            }
            b'[' => {
                if let Some(e) = url[i..].find(']') {
                    let inner = &url[i + 1..i + e];
                    let range = inner.split(':').next().unwrap_or("");
                    if let Some((a, z)) = range.split_once('-')
                        && !a.is_empty()
                        && !z.is_empty()
                        && a.bytes().all(|c| c.is_ascii_alphanumeric())
                        && z.bytes().all(|c| c.is_ascii_alphanumeric())
                    {
                        return Some(&url[i..i + e + 1]);
                    }
                }
            }
            _ => {}
        }
        i += 1;
    }
    None
}

/// The boundary of multipart bodies made from `-F` options.
pub const FORM_BOUNDARY: &str = "----httplens-curl-form";

/// The request as `.http` text: the request line, headers, and the body.
pub fn to_http(r: &CurlRequest) -> String {
    let mut out = String::new();
    let url = r.url.as_ref().map_or("", |u| u.text.as_str());
    out.push_str(&format!("{} {url}\n", r.method));
    for h in &r.headers {
        out.push_str(&format!("{}: {}\n", h.name, h.value));
    }
    match &r.body {
        None => {}
        Some(CurlBody::Text(w)) => {
            out.push('\n');
            out.push_str(&pretty_if_json(&w.text, &r.headers));
            out.push('\n');
        }
        Some(CurlBody::File(w)) => {
            out.push_str(&format!("\n< {}\n", relative(&w.text)));
        }
        Some(CurlBody::Form(parts)) => {
            out.push_str(&format!(
                "Content-Type: multipart/form-data; boundary={FORM_BOUNDARY}\n\n"
            ));
            for p in parts {
                out.push_str(&format!("--{FORM_BOUNDARY}\n"));
                match &p.value {
                    FormValue::Text(Word { text: v, .. }) => {
                        out.push_str(&format!(
                            "Content-Disposition: form-data; name=\"{}\"\n",
                            p.name
                        ));
                        if let Some(t) = &p.content_type {
                            out.push_str(&format!("Content-Type: {t}\n"));
                        }
                        out.push_str(&format!("\n{v}\n"));
                    }
                    FormValue::File(Word { text: path, .. }) => {
                        let file = path.rsplit('/').next().unwrap_or(path);
                        out.push_str(&format!(
                            "Content-Disposition: form-data; name=\"{}\"; filename=\"{file}\"\n",
                            p.name
                        ));
                        if let Some(t) = &p.content_type {
                            out.push_str(&format!("Content-Type: {t}\n"));
                        }
                        out.push_str(&format!("\n< {}\n", relative(path)));
                    }
                }
            }
            out.push_str(&format!("--{FORM_BOUNDARY}--\n"));
        }
    }
    out
}

/// `< path` reads relative paths from the request file's folder; a bare name gets `./`.
fn relative(path: &str) -> String {
    if path.starts_with('/') || path.starts_with("./") || path.starts_with("../") {
        path.to_string()
    } else {
        format!("./{path}")
    }
}

fn pretty_if_json(text: &str, headers: &[CurlHeader]) -> String {
    let json = headers.iter().any(|h| {
        h.name.eq_ignore_ascii_case("content-type") && h.value.to_ascii_lowercase().contains("json")
    });
    if json
        && !text.contains("{{")
        && let Ok(v) = serde_json::from_str::<serde_json::Value>(text)
        && let Ok(p) = serde_json::to_string_pretty(&v)
    {
        return p;
    }
    text.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(cmd: &str) -> Vec<String> {
        split(cmd, 0).unwrap().into_iter().map(|w| w.text).collect()
    }

    #[test]
    fn words_split_as_a_shell_does() {
        assert_eq!(
            words("curl -H 'A: b c' \"x\\\"y\" a\\ b $'l1\\nl2' \\\n  --url u # note"),
            [
                "curl", "-H", "A: b c", "x\"y", "a b", "l1\nl2", "--url", "u"
            ]
        );
        let w = split("curl 'https://h/p'", 10).unwrap();
        assert_eq!(w[1].start, 16);
        assert_eq!(w[1].range, TextRange::new(15, 28));
        assert!(
            split("curl 'open", 0)
                .unwrap_err()
                .message
                .contains("never closed")
        );
    }

    #[test]
    fn requests_read_as_curl_would_send_them() {
        let r = parse(
            "curl -X put https://h/a -H 'Content-Type: application/json' -d '{\"a\":1}'",
            0,
        )
        .unwrap();
        assert_eq!(r.method, "PUT");
        assert_eq!(r.url.unwrap().text, "https://h/a");
        assert!(matches!(r.body, Some(CurlBody::Text(ref w)) if w.text == "{\"a\":1}"));
        let r = parse("curl https://h -d a=1 -d b=2", 0).unwrap();
        assert_eq!(r.method, "POST");
        assert_eq!(
            to_http(&r),
            "POST https://h\nContent-Type: application/x-www-form-urlencoded\n\na=1&b=2\n"
        );
        let r = parse("curl -G https://h/s?x=1 -d q=a --data-urlencode 'n=b c'", 0).unwrap();
        assert_eq!(r.method, "GET");
        assert_eq!(r.url.unwrap().text, "https://h/s?x=1&q=a&n=b%20c");
        let r = parse(
            "curl -sSL --compressed -u me:pw -b 'a=1' -A ua https://h",
            0,
        )
        .unwrap();
        assert_eq!(
            to_http(&r),
            "GET https://h\nAuthorization: Basic me:pw\nCookie: a=1\nUser-Agent: ua\n"
        );
        let r = parse("curl --json '{\"a\":1}' https://h", 0).unwrap();
        assert_eq!(
            to_http(&r),
            "POST https://h\nContent-Type: application/json\nAccept: application/json\n\n{\n  \"a\": 1\n}\n"
        );
        assert_eq!(parse("curl -I https://h", 0).unwrap().method, "HEAD");
        assert_eq!(
            to_http(&parse("curl https://h --data-binary @body.json", 0).unwrap()),
            "POST https://h\nContent-Type: application/x-www-form-urlencoded\n\n< ./body.json\n"
        );
        assert_eq!(
            to_http(&parse("curl https://h --json @body.json", 0).unwrap()),
            "POST https://h\nContent-Type: application/json\nAccept: application/json\n\n< ./body.json\n"
        );
        let form =
            to_http(&parse("curl https://h -F a=1 -F 'f=@x.png;type=image/png'", 0).unwrap());
        assert!(
            form.contains("name=\"f\"; filename=\"x.png\"\nContent-Type: image/png\n\n< ./x.png\n"),
            "{form}"
        );
    }

    #[test]
    fn what_is_not_understood_is_an_error_that_names_it() {
        let e = parse("curl --proxy p https://h", 0).unwrap_err();
        assert!(e.message.contains("`--proxy`"), "{e:?}");
        assert_eq!(e.range, TextRange::new(5, 12));
        let e = parse("curl 'https://h/[1-3].json'", 0).unwrap_err();
        assert!(e.message.contains("`[1-3]`"), "{e:?}");
        assert!(parse("curl -g 'https://h/[1-3]'", 0).is_ok());
        assert!(
            parse("curl 'https://h/{a,b}'", 0)
                .unwrap_err()
                .message
                .contains("globbing")
        );
        assert!(parse("curl 'https://[::1]:8080/{{id}}'", 0).is_ok());
        assert!(
            parse("curl https://h -X", 0)
                .unwrap_err()
                .message
                .contains("needs a value")
        );
        assert!(
            parse("curl -X POST", 0)
                .unwrap_err()
                .message
                .contains("no URL")
        );
        assert!(
            parse("curl -b cookies.txt https://h", 0)
                .unwrap_err()
                .message
                .contains("file")
        );
        // Non-ASCII right after the dash (found by the property test: a slice inside `Σ`).
        assert!(
            parse("curl -Σ https://h", 0)
                .unwrap_err()
                .message
                .contains("`-Σ`")
        );
        assert!(parse("curl -XΣ https://h", 0).is_ok());
        // Standard input cannot be a request's body.
        for cmd in [
            "curl -d @- https://h",
            "curl --data-binary @- https://h",
            "curl -F f=@- https://h",
            "curl --data-urlencode q@- https://h",
        ] {
            let e = parse(cmd, 0).unwrap_err();
            assert!(e.message.contains("standard input"), "{cmd}: {e:?}");
        }
        // `name@file` encodes a file (the `@` before any `=`); `name=a@b` does not.
        let e = parse("curl --data-urlencode q@x.txt https://h", 0).unwrap_err();
        assert!(e.message.contains("file's content"), "{e:?}");
        assert!(parse("curl --data-urlencode e=a@b https://h", 0).is_ok());
    }

    #[test]
    fn pipes_lists_and_redirections_are_not_the_request() {
        for cmd in [
            "curl -s https://h/x | jq .",
            "curl -s https://h/x 2>&1 | jq '.items[]'",
            "curl -s https://h/x > out.json",
            "curl -s https://h/x -o out.json 2>/dev/null >>log; echo done",
            "curl -s https://h/x && echo ok || echo failed",
            "curl -s https://h/x; echo",
        ] {
            let r = parse(cmd, 0).unwrap_or_else(|e| panic!("{cmd}: {e:?}"));
            assert_eq!(to_http(&r), "GET https://h/x\n", "{cmd}");
        }
        // The `;` that ends the command is not part of its last word.
        let r = parse("curl https://h/x -d 'a=1';", 0).unwrap();
        assert!(matches!(r.body, Some(CurlBody::Text(ref w)) if w.text == "a=1"));
        // Quoted or escaped, they are arguments.
        let r = parse("curl 'https://h/x;' -d '|' -d \\>", 0).unwrap();
        assert_eq!(r.url.unwrap().text, "https://h/x;");
        assert!(matches!(r.body, Some(CurlBody::Text(ref w)) if w.text == "|&>"));
    }

    #[test]
    fn bearer_tokens_and_empty_headers() {
        let r = parse("curl --oauth2-bearer t0k -H 'X-Empty;' https://h", 0).unwrap();
        assert_eq!(
            to_http(&r),
            "GET https://h\nAuthorization: Bearer t0k\nX-Empty: \n"
        );
        // The token maps onto its word (for variables inside it).
        let cmd = "curl --oauth2-bearer {{t}} https://h";
        let r = parse(cmd, 0).unwrap();
        let h = &r.headers[0];
        assert_eq!(h.offsets.len(), h.value.len());
        assert_eq!(
            h.offsets["Bearer ".len()] as usize,
            cmd.find("{{t}}").unwrap()
        );
    }
}
