//! The total, line-oriented parser. (Being written: see issue 2.)

use super::ast::*;
use crate::text::TextRange;

pub fn parse(text: &str) -> Parse {
    Parse {
        file: HttpFile {
            blocks: Vec::new(),
            range: TextRange::new(0, text.len()),
        },
        errors: Vec::new(),
    }
}

pub fn parse_markdown(text: &str) -> Parse {
    parse(text)
}

/// Classify the expression inside `{{ }}` (already trimmed, without a leading `%`).
pub fn parse_var_expr(expr: &str) -> VarExpr {
    VarExpr::Name(expr.to_string())
}
