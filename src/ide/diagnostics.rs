//! Diagnostics of a request file: the parser's, the resolver's, and the hints the
//! editor adds itself (a body on GET), merged and sorted.

use super::Analysis;
use crate::syntax::ast::{Diagnostic, Severity};
use crate::text::TextRange;

/// Code of the "body on GET" hint.
pub const BODY_ON_GET: &str = "body-on-get";

/// `resolver` holds what the resolver found (unknown variables, profiles, missing
/// keys); the parse errors and editor hints are added here.
pub fn diagnostics(a: &Analysis, resolver: &[Diagnostic]) -> Vec<Diagnostic> {
    let mut out: Vec<Diagnostic> = a.parse.errors.clone();
    out.extend(resolver.iter().cloned());
    if !resolver.iter().any(|d| d.code == BODY_ON_GET) {
        for block in &a.file().blocks {
            let Some(req) = &block.request else { continue };
            if let Some(body) = &req.body
                && req.method_name().eq_ignore_ascii_case("GET")
                && !body.range.is_empty()
            {
                let first_line = a.index.line_of(body.range.start as usize);
                let r = a.index.line_range(first_line, &a.text);
                out.push(Diagnostic {
                    range: TextRange::new(r.start as usize, r.end as usize),
                    severity: Severity::Hint,
                    message: "This GET request has a body, which many servers ignore; use POST or PUT to send data.".into(),
                    code: BODY_ON_GET,
                });
            }
        }
    }
    out.sort_by_key(|d| (d.range.start, d.severity));
    out.dedup();
    out
}
