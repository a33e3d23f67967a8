//! Push diagnostics, tagged with the document version they were computed for. Response
//! documents get none.

use std::sync::Arc;

use tower_lsp_server::ls_types::{Diagnostic, DiagnosticSeverity, NumberOrString};

use crate::ide::{self, Analysis};
use crate::lsp::server::Server;
use crate::lsp::session::Document;
use crate::lsp::{convert, workspace};
use crate::syntax::ast::Severity;

pub fn compute(server: &Server, doc: &Document) -> Vec<Diagnostic> {
    if doc.is_response {
        return Vec::new();
    }
    let enc = server.session.encoding();
    let resolver = resolver_diagnostics(server, doc);
    let a = &doc.analysis;
    ide::diagnostics::diagnostics(a, &resolver)
        .into_iter()
        .map(|d| to_proto(a, d, enc))
        .collect()
}

fn to_proto(
    a: &Analysis,
    d: crate::syntax::ast::Diagnostic,
    enc: crate::text::PositionEncoding,
) -> Diagnostic {
    Diagnostic {
        range: convert::range(a, d.range, enc),
        severity: Some(match d.severity {
            Severity::Error => DiagnosticSeverity::ERROR,
            Severity::Warning => DiagnosticSeverity::WARNING,
            Severity::Information => DiagnosticSeverity::INFORMATION,
            Severity::Hint => DiagnosticSeverity::HINT,
        }),
        code: Some(NumberOrString::String(d.code.to_string())),
        source: Some("httplens".into()),
        message: d.message,
        ..Default::default()
    }
}

/// What the resolver finds: unknown variables, unknown profiles, missing keys.
fn resolver_diagnostics(server: &Server, doc: &Document) -> Vec<crate::syntax::ast::Diagnostic> {
    let Some(ws) = workspace::load(server, doc) else {
        return Vec::new();
    };
    resolve_all(&ws, &doc.analysis)
}

/// A dry run of every request block: unknown variables and profiles, missing files,
/// bad metadata.
pub fn resolve_all(
    ws: &crate::env::Workspace,
    a: &Analysis,
) -> Vec<crate::syntax::ast::Diagnostic> {
    let ctx = crate::env::ResolveContext::dry_run(ws);
    let file = a.file();
    let mut out = Vec::new();
    for (i, b) in file.blocks.iter().enumerate() {
        if b.request.is_some() {
            out.extend(crate::request::build(file, &a.text, i, &ctx).1);
        }
    }
    out
}

/// Computes and publishes, unless a newer version has arrived meanwhile (its own
/// publish will follow).
pub async fn publish(server: &Server, doc: &Arc<Document>) {
    let diags = compute(server, doc);
    let current = server.session.get(&doc.uri).map(|d| d.version);
    if current.is_some_and(|v| v != doc.version) {
        return;
    }
    server
        .client
        .publish_diagnostics(doc.uri.clone(), diags, Some(doc.version))
        .await;
}
