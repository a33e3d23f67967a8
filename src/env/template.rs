//! `{{ }}` templates in text that does not come from the `.http` file itself: env
//! values, `<@ file` contents. Expressions are classified by the syntax module's
//! [`parse_var_expr`](crate::syntax::parse_var_expr), so they mean the same everywhere.

use crate::syntax;
use crate::syntax::ast::Template;

/// Split `text` into literal parts and `{{ }}` references (as the parser splits values
/// in the `.http` file). Ranges are offsets into `text` plus `base`. An unclosed `{{`
/// is literal text.
pub fn parse_template(text: &str, base: usize) -> Template {
    let mut t = syntax::parse_template(text);
    t.shift(base);
    t
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::text::TextRange;

    #[test]
    fn splits_and_keeps_ranges() {
        let t = parse_template("a {{ host }}/{{%q}} {{ open", 10);
        assert_eq!(t.parts().count(), 5);
        let vars: Vec<_> = t.vars().collect();
        assert_eq!(vars[0].source, "host");
        assert_eq!(vars[0].range, TextRange::new(12, 22));
        assert_eq!(vars[0].expr_range, TextRange::new(15, 19));
        assert!(vars[1].encode);
        assert_eq!(vars[1].source, "q");
        assert_eq!(t.as_written(), "a {{host}}/{{q}} {{ open");
    }
}
