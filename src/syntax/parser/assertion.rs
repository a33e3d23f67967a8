//! httpyac-style `?? target [path] op [expected]` assertion lines.

use super::template::template;
use crate::syntax::ast::*;
use crate::syntax::str::Source;
use crate::text::TextRange;

/// What an assertion line turned out to be.
pub(crate) enum Parsed {
    Ok(Assertion),
    /// Valid httpyac syntax that httplens does not evaluate (e.g. `?? js ...`).
    Unsupported(String),
    Invalid(String),
}

/// `range` is the whole line without leading whitespace; it starts with `??`.
pub(crate) fn assertion(src: &Source, range: TextRange, errors: &mut Vec<Diagnostic>) -> Parsed {
    let base = range.start as usize + 2;
    let line = src.get(base, range.end as usize);
    let mut words = Words { s: line, pos: 0 };
    let Some((_, kind)) = words.next() else {
        return Parsed::Invalid("This assertion is empty: write e.g. `?? status == 200`".into());
    };
    let target = match kind.to_ascii_lowercase().as_str() {
        "status" => AssertTarget::Status,
        "duration" => AssertTarget::Duration,
        "header" => match words.next() {
            Some((_, name)) => AssertTarget::Header(Str::new(name)),
            None => return Parsed::Invalid("`?? header` needs a header name".into()),
        },
        "body" => {
            let save = words.pos;
            match words.next() {
                Some((_, w)) if op(w).is_none() => AssertTarget::Body(Some(Str::new(w))),
                _ => {
                    words.pos = save;
                    AssertTarget::Body(None)
                }
            }
        }
        "schema" => {
            return match words.next() {
                None => Parsed::Ok(Assertion {
                    range,
                    target: AssertTarget::Schema,
                    op: AssertOp::Conforms,
                    expected: None,
                }),
                Some((_, w)) => Parsed::Invalid(format!(
                    "`?? schema` takes nothing after it, but `{w}` follows it (it checks the response against the OpenAPI spec)"
                )),
            };
        }
        "js" | "xpath" => {
            return Parsed::Unsupported(format!(
                "`?? {kind}` assertions are not evaluated by httplens (it supports status, duration, header, body and schema)"
            ));
        }
        other => {
            return Parsed::Invalid(format!(
                "`{other}` is not something an assertion can check: use status, duration, header, body or schema"
            ));
        }
    };
    let Some((_, op_word)) = words.next() else {
        return Parsed::Invalid("This assertion has no operator, e.g. `==` or `exists`".into());
    };
    let Some(op) = op(op_word) else {
        return Parsed::Invalid(format!(
            "`{op_word}` is not an assertion operator (==, !=, <, >, includes, startsWith, exists, isTrue, ...)"
        ));
    };
    let rest_start = words.rest_start();
    let rest = &line[rest_start..];
    let rest_trimmed = rest.trim_end();
    let takes_value = !matches!(
        op,
        AssertOp::Exists
            | AssertOp::NotExists
            | AssertOp::IsTrue
            | AssertOp::IsFalse
            | AssertOp::IsNumber
            | AssertOp::IsString
            | AssertOp::IsBoolean
            | AssertOp::IsArray
            | AssertOp::IsNull
    );
    let expected = if takes_value {
        if rest_trimmed.is_empty() {
            return Parsed::Invalid(format!("`{op_word}` needs a value to compare with"));
        }
        let r = TextRange::new(base + rest_start, base + rest_start + rest_trimmed.len());
        Some(template(src, r, errors))
    } else {
        if !rest_trimmed.is_empty() {
            return Parsed::Invalid(format!(
                "`{op_word}` takes no value, but `{rest_trimmed}` follows it"
            ));
        }
        None
    };
    Parsed::Ok(Assertion {
        range,
        target,
        op,
        expected,
    })
}

fn op(w: &str) -> Option<AssertOp> {
    Some(match w {
        "==" => AssertOp::Eq,
        "!=" => AssertOp::Ne,
        ">" => AssertOp::Gt,
        ">=" => AssertOp::Ge,
        "<" => AssertOp::Lt,
        "<=" => AssertOp::Le,
        _ => match w.to_ascii_lowercase().as_str() {
            "includes" | "contains" => AssertOp::Includes,
            "!includes" | "!contains" | "notincludes" | "notcontains" => AssertOp::NotIncludes,
            "startswith" => AssertOp::StartsWith,
            "endswith" => AssertOp::EndsWith,
            "matches" => AssertOp::Matches,
            "exists" => AssertOp::Exists,
            "!exists" | "notexists" => AssertOp::NotExists,
            "istrue" => AssertOp::IsTrue,
            "isfalse" => AssertOp::IsFalse,
            "isnumber" => AssertOp::IsNumber,
            "isstring" => AssertOp::IsString,
            "isboolean" => AssertOp::IsBoolean,
            "isarray" => AssertOp::IsArray,
            "isnull" => AssertOp::IsNull,
            _ => return None,
        },
    })
}

/// Whitespace-separated words with their offsets.
struct Words<'a> {
    s: &'a str,
    pos: usize,
}

impl<'a> Words<'a> {
    fn next(&mut self) -> Option<(usize, &'a str)> {
        let rest = &self.s[self.pos..];
        let lead = rest.len() - rest.trim_start().len();
        let start = self.pos + lead;
        if start >= self.s.len() {
            self.pos = self.s.len();
            return None;
        }
        let len = self.s[start..]
            .find(char::is_whitespace)
            .unwrap_or(self.s.len() - start);
        self.pos = start + len;
        Some((start, &self.s[start..start + len]))
    }
    /// Offset of the next non-blank character (or the end).
    fn rest_start(&self) -> usize {
        let rest = &self.s[self.pos..];
        self.pos + (rest.len() - rest.trim_start().len())
    }
}
