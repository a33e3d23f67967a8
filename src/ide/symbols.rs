//! Document symbols: one per request (by `# @name`, else `###` title, else
//! `METHOD target`), and file-level variables.

use super::Analysis;
use crate::text::TextRange;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SymbolKind {
    Request,
    Variable,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Symbol {
    pub name: String,
    /// `GET https://...` for requests, the value as written for variables.
    pub detail: Option<String>,
    pub kind: SymbolKind,
    /// The whole block (or definition line).
    pub range: TextRange,
    /// The request line (or the variable's name).
    pub selection: TextRange,
}

/// Long targets are cut for the outline, at a character boundary.
fn short(s: &str, max: usize) -> String {
    if s.len() <= max {
        return s.to_string();
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &s[..end])
}

pub fn symbols(a: &Analysis) -> Vec<Symbol> {
    let mut out = Vec::new();
    for block in &a.file().blocks {
        match &block.request {
            Some(req) => {
                let line = format!("{} {}", req.method_name(), req.target.as_written());
                let detail = short(line.trim(), 120);
                let name = block
                    .name()
                    .map(str::to_string)
                    .unwrap_or_else(|| detail.clone());
                let range = block.range.cover(req.range);
                out.push(Symbol {
                    name,
                    detail: Some(detail),
                    kind: SymbolKind::Request,
                    range: trim_range(a, range),
                    selection: req.line_range,
                });
            }
            None => {
                for v in &block.variables {
                    out.push(Symbol {
                        name: v.name.value.to_string(),
                        detail: Some(short(&v.value.as_written(), 80)),
                        kind: SymbolKind::Variable,
                        range: v.range,
                        selection: v.name.range,
                    });
                }
            }
        }
    }
    out
}

/// The range without trailing whitespace, so that a symbol ends on its last real line
/// (the selection range must lie inside it).
fn trim_range(a: &Analysis, r: TextRange) -> TextRange {
    let text = r.slice(&a.text);
    let trimmed = text.trim_end().len();
    TextRange::new(r.start as usize, r.start as usize + trimmed)
}
