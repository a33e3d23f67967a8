//! `{{ }}` templates in text that does not come from the `.http` file itself: env
//! values, `<@ file` contents. Expressions are classified by the syntax module's
//! [`parse_var_expr`](crate::syntax::parse_var_expr), so they mean the same everywhere.

use crate::syntax::ast::{Spanned, Template, TemplatePart, VarRef};
use crate::text::TextRange;

/// Split `text` into literal parts and `{{ }}` references. Ranges are offsets into
/// `text` plus `base`. An unclosed `{{` is literal text.
pub fn parse_template(text: &str, base: usize) -> Template {
    let mut parts = Vec::new();
    let mut lit_start = 0;
    let mut pos = 0;
    while let Some(i) = text[pos..].find("{{") {
        let open = pos + i;
        let Some(j) = text[open + 2..].find("}}") else {
            break;
        };
        let close = open + 2 + j;
        if open > lit_start {
            parts.push(TemplatePart::Text(Spanned::new(
                text[lit_start..open].to_string(),
                TextRange::new(base + lit_start, base + open),
            )));
        }
        let inner = &text[open + 2..close];
        let lead = inner.len() - inner.trim_start().len();
        let mut expr = inner.trim();
        let mut expr_start = open + 2 + lead;
        let encode = expr.starts_with('%');
        if encode {
            expr = expr[1..].trim_start();
            // The expression follows the `%` (and any spaces after it).
            expr_start = close - (inner.len() - inner.trim_end().len()) - expr.len();
        }
        parts.push(TemplatePart::Var(VarRef {
            range: TextRange::new(base + open, base + close + 2),
            expr_range: TextRange::new(base + expr_start, base + expr_start + expr.len()),
            source: expr.to_string(),
            encode,
            expr: crate::syntax::parse_var_expr(expr),
        }));
        pos = close + 2;
        lit_start = pos;
    }
    if lit_start < text.len() {
        parts.push(TemplatePart::Text(Spanned::new(
            text[lit_start..].to_string(),
            TextRange::new(base + lit_start, base + text.len()),
        )));
    }
    Template {
        range: TextRange::new(base, base + text.len()),
        parts,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_and_keeps_ranges() {
        let t = parse_template("a {{ host }}/{{%q}} {{ open", 10);
        assert_eq!(t.parts.len(), 5);
        let vars: Vec<_> = t.vars().collect();
        assert_eq!(vars[0].source, "host");
        assert_eq!(vars[0].range, TextRange::new(12, 22));
        assert_eq!(vars[0].expr_range, TextRange::new(15, 19));
        assert!(vars[1].encode);
        assert_eq!(vars[1].source, "q");
        assert_eq!(t.as_written(), "a {{host}}/{{q}} {{ open");
    }
}
