//! What `run` and `show` print and how: `--print` (which parts of each exchange, as
//! HTTPie's `--print`), `--color` (xh-like colours: by default only on a terminal and
//! never with a non-empty `NO_COLOR`; `--color always|never` decides alone), and the
//! small JSON colouriser they share. Painting only adds escape codes around text, so
//! output without colour is the same text.
//!
//! The JSON colouriser is hand-written (about sixty lines over text that is already
//! pretty-printed) rather than a highlighter crate: syntect and its grammars would add
//! megabytes to a binary that must stay small, for one language.

use std::io::IsTerminal;

use clap::ValueEnum;

/// `--color`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum ColorChoice {
    /// Colours when stdout is a terminal and `NO_COLOR` is not set.
    #[default]
    Auto,
    Always,
    Never,
}

impl ColorChoice {
    /// Whether to colour what goes to stdout.
    pub fn enabled(self) -> bool {
        match self {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => {
                std::io::stdout().is_terminal()
                    && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
            }
        }
    }
}

/// `--print WHAT`: the letters of HTTPie's `--print`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Print {
    /// `H`: the request line and headers.
    pub request_head: bool,
    /// `B`: the request body.
    pub request_body: bool,
    /// `h`: the status line and response headers.
    pub response_head: bool,
    /// `b`: the response body.
    pub response_body: bool,
    /// `m`: the rest: which request, assertion results, timing and size, where the
    /// document was saved, and the summary line (on stderr without `m`).
    pub meta: bool,
}

impl Print {
    /// `HBhbm` letters in any order; anything else is an error naming the letter.
    pub fn parse(s: &str) -> Result<Print, String> {
        let mut p = Print {
            request_head: false,
            request_body: false,
            response_head: false,
            response_body: false,
            meta: false,
        };
        if s.is_empty() {
            return Err("use one or more of H (request headers), B (request body), h (response headers), b (response body), m (timing, assertions)".into());
        }
        for c in s.chars() {
            match c {
                'H' => p.request_head = true,
                'B' => p.request_body = true,
                'h' => p.response_head = true,
                'b' => p.response_body = true,
                'm' => p.meta = true,
                other => {
                    return Err(format!(
                        "`{other}` is not a part: use H (request headers), B (request body), h (response headers), b (response body), m (timing, assertions)"
                    ));
                }
            }
        }
        Ok(p)
    }
}

/// SGR codes, xh-like: status green / yellow / red, header names cyan, JSON keys blue,
/// strings green, numbers and literals magenta, comments dim.
pub mod sgr {
    pub const BOLD: &str = "1";
    pub const DIM: &str = "2";
    pub const RED: &str = "31";
    pub const GREEN: &str = "32";
    pub const YELLOW: &str = "33";
    pub const BLUE: &str = "34";
    pub const MAGENTA: &str = "35";
    pub const CYAN: &str = "36";
}

pub fn paint(on: bool, code: &str, text: &str) -> String {
    if on && !text.is_empty() {
        format!("\x1b[{code}m{text}\x1b[0m")
    } else {
        text.to_string()
    }
}

/// The colour of a status code: 2xx green, 3xx yellow, anything else red.
pub fn status_color(status: u16) -> &'static str {
    match status {
        100..=299 => sgr::GREEN,
        300..=399 => sgr::YELLOW,
        _ => sgr::RED,
    }
}

/// A `Name: value` line with the name coloured (anything else as is).
pub fn header_line(on: bool, line: &str) -> String {
    match line.split_once(':') {
        Some((name, value)) if on && !name.is_empty() => {
            format!("{}:{value}", paint(on, sgr::CYAN, name))
        }
        _ => line.to_string(),
    }
}

/// A body: JSON coloured when `json` (or when it looks like JSON), else as is.
pub fn body(on: bool, text: &str, json: bool) -> String {
    let t = text.trim_start();
    if on && (json || ((t.starts_with('{') || t.starts_with('[')) && looks_like_json(t))) {
        json_text(text)
    } else {
        text.to_string()
    }
}

fn looks_like_json(t: &str) -> bool {
    serde_json::from_str::<serde::de::IgnoredAny>(t).is_ok()
}

/// Colours JSON text token by token, keeping every byte (also when it is not valid
/// JSON: a token the scanner does not know is copied as is).
pub fn json_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len() * 2);
    let b = text.as_bytes();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if c == b'"' {
            let start = i;
            i += 1;
            while i < b.len() && b[i] != b'"' {
                i += if b[i] == b'\\' { 2 } else { 1 };
            }
            i = (i + 1).min(b.len());
            let s = &text[start..i];
            // A key is a string followed (after blanks) by a colon.
            let rest = text[i..].trim_start_matches([' ', '\t', '\r', '\n']);
            let code = if rest.starts_with(':') {
                sgr::BLUE
            } else {
                sgr::GREEN
            };
            out.push_str(&paint(true, code, s));
        } else if c == b'-' || c.is_ascii_digit() {
            let start = i;
            while i < b.len() && matches!(b[i], b'0'..=b'9' | b'-' | b'+' | b'.' | b'e' | b'E') {
                i += 1;
            }
            out.push_str(&paint(true, sgr::MAGENTA, &text[start..i]));
        } else if c.is_ascii_alphabetic() {
            let start = i;
            while i < b.len() && b[i].is_ascii_alphabetic() {
                i += 1;
            }
            let word = &text[start..i];
            match word {
                "true" | "false" | "null" => out.push_str(&paint(true, sgr::MAGENTA, word)),
                _ => out.push_str(word),
            }
        } else {
            // One character (possibly multi-byte) as is.
            let ch = text[i..].chars().next().unwrap_or(' ');
            out.push(ch);
            i += ch.len_utf8();
        }
    }
    out
}

/// A trailing comment line of a response document: failed red, passed green, others
/// dim.
pub fn comment(on: bool, line: &str) -> String {
    if line.starts_with("# FAILED") {
        paint(on, sgr::RED, line)
    } else if line.starts_with("# passed") {
        paint(on, sgr::GREEN, line)
    } else if line.starts_with('#') {
        paint(on, sgr::DIM, line)
    } else {
        line.to_string()
    }
}

/// The three parts of a response document: the status line and headers, the body,
/// and the comment lines after it (assertions, notes, timing). `body` is the body as
/// rendered, when known, to find the boundary exactly; otherwise the trailing comment
/// and blank lines are the third part.
pub fn split_document<'a>(doc: &'a str, body: Option<&str>) -> (&'a str, &'a str, &'a str) {
    let (head, rest) = match doc.find("\n\n") {
        Some(i) => (&doc[..i + 1], &doc[i + 2..]),
        None => (doc, ""),
    };
    if let Some(b) = body.filter(|b| !b.is_empty())
        && rest.starts_with(b)
    {
        let mut end = b.len();
        if !b.ends_with('\n') && rest[end..].starts_with('\n') {
            end += 1;
        }
        return (head, &rest[..end], &rest[end..]);
    }
    // Walk back over trailing comment and blank lines.
    let mut cut = rest.len();
    for line in rest.lines().rev() {
        let t = line.trim_end_matches('\r');
        if t.is_empty() || t.starts_with('#') {
            cut -= line.len() + 1;
        } else {
            break;
        }
    }
    let cut = cut.min(rest.len());
    // Keep the body's own last newline with the body.
    let cut = if rest[..cut].ends_with('\n') || cut == 0 {
        cut
    } else {
        (cut + 1).min(rest.len())
    };
    (head, &rest[..cut], &rest[cut..])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strip(s: &str) -> String {
        let mut out = String::new();
        let mut in_esc = false;
        for c in s.chars() {
            match (in_esc, c) {
                (false, '\x1b') => in_esc = true,
                (true, 'm') => in_esc = false,
                (true, _) => {}
                (false, c) => out.push(c),
            }
        }
        out
    }

    #[test]
    fn json_colours_keys_strings_numbers_and_keeps_every_byte() {
        let text = "{\n  \"name\": \"a \\\"b\\\" é\",\n  \"n\": -1.5e3,\n  \"ok\": true,\n  \"x\": null\n}";
        let c = json_text(text);
        assert_eq!(strip(&c), text);
        assert!(c.contains("\x1b[34m\"name\"\x1b[0m"), "{c}");
        assert!(c.contains("\x1b[32m\"a \\\"b\\\" é\"\x1b[0m"), "{c}");
        assert!(c.contains("\x1b[35m-1.5e3\x1b[0m"), "{c}");
        assert!(c.contains("\x1b[35mtrue\x1b[0m"), "{c}");
        // Not JSON: still every byte, no panic.
        for bad in ["{\"open", "\"", "{\"a\": tru", "é\u{1F600}\\", ""] {
            assert_eq!(strip(&json_text(bad)), bad);
        }
    }

    #[test]
    fn print_letters() {
        let p = Print::parse("Hb").unwrap();
        assert!(p.request_head && p.response_body && !p.response_head && !p.meta);
        assert!(Print::parse("x").unwrap_err().contains("`x`"));
        assert!(Print::parse("").is_err());
        assert_eq!(Print::parse("hbm"), Print::parse("bmh"));
    }

    #[test]
    fn a_document_splits_into_head_body_and_trailer() {
        let doc = "HTTP/1.1 200 OK\nA: 1\n\n{\n  \"a\": 1\n}\n\n# passed (line 3): status == 200\n\n# 200 OK · GET http://x · 3 ms\n";
        let (h, b, m) = split_document(doc, Some("{\n  \"a\": 1\n}"));
        assert_eq!(h, "HTTP/1.1 200 OK\nA: 1\n");
        assert_eq!(b, "{\n  \"a\": 1\n}\n");
        assert!(
            m.starts_with("\n# passed") && m.ends_with("3 ms\n"),
            "{m:?}"
        );
        let (h2, b2, m2) = split_document(doc, None);
        assert_eq!((h2, b2, m2), (h, b, m));
        let empty = "HTTP/1.1 204 No Content\n\n\n# 204 · 1 ms\n";
        let (h, b, m) = split_document(empty, None);
        assert_eq!(h, "HTTP/1.1 204 No Content\n");
        assert_eq!(b, "");
        assert_eq!(m, "\n# 204 · 1 ms\n");
    }
}
