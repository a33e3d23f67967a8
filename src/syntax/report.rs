//! How every front end prints a problem in a file: `path:line:col: severity: message`,
//! one-based, the column counted in characters (as compilers and editors print it).
//! The position comes from the byte range through `text::LineIndex`; the message is
//! printed as it is (diagnostics are written without a closing period).

use std::path::Path;

use super::ast::{Diagnostic, Severity};
use crate::text::{LineIndex, TextRange};

impl Severity {
    /// The word printed before the message: `error`, `warning`, `info`, `hint`.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Information => "info",
            Severity::Hint => "hint",
        }
    }
}

/// A file's text and where it came from, ready to print problems found in it. Build it
/// once per file: the line index is made here.
pub struct SourceFile<'a> {
    path: &'a Path,
    text: &'a str,
    index: LineIndex,
}

impl<'a> SourceFile<'a> {
    pub fn new(path: &'a Path, text: &'a str) -> Self {
        SourceFile {
            path,
            text,
            index: LineIndex::new(text),
        }
    }

    /// `path:line:col: severity: message` for a problem that starts at `range.start`.
    pub fn render(&self, range: TextRange, severity: Severity, message: &str) -> String {
        let at = self.index.line_col(self.text, range.start as usize);
        format!(
            "{}:{at}: {}: {message}",
            self.path.display(),
            severity.as_str()
        )
    }

    pub fn render_diagnostic(&self, d: &Diagnostic) -> String {
        self.render(d.range, d.severity, &d.message)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn render(text: &str, at: usize) -> String {
        SourceFile::new(Path::new("dir/a.http"), text).render(
            TextRange::empty(at),
            Severity::Error,
            "unknown variable `x`",
        )
    }

    #[test]
    fn one_line_per_problem_with_one_based_character_columns() {
        let text = "\u{feff}GET /é/{{x}}\r\nHost: 😀{{x}}\n{{x}}";
        let first = text.find("{{").unwrap();
        assert_eq!(
            render(text, first),
            "dir/a.http:1:8: error: unknown variable `x`"
        );
        let second = text.find("😀{{").unwrap() + "😀".len();
        assert_eq!(
            render(text, second),
            "dir/a.http:2:8: error: unknown variable `x`"
        );
        // The last line has no newline; past the end clamps to it.
        assert_eq!(
            render(text, text.rfind("{{").unwrap()),
            "dir/a.http:3:1: error: unknown variable `x`"
        );
        assert_eq!(
            render(text, text.len() + 5),
            "dir/a.http:3:6: error: unknown variable `x`"
        );
        let hint = SourceFile::new(Path::new("e.json"), "").render(
            TextRange::empty(0),
            Severity::Hint,
            "h",
        );
        assert_eq!(hint, "e.json:1:1: hint: h");
    }
}
