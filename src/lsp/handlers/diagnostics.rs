//! Push diagnostics, tagged with the document version they were computed for. Response
//! documents get none.

use std::collections::HashMap;
use std::sync::Arc;

use tower_lsp_server::ls_types::{Diagnostic, DiagnosticSeverity, NumberOrString};

use crate::ide::diagnostics::EnvFileDiagnostics;
use crate::ide::{self, Analysis};
use crate::lsp::server::Server;
use crate::lsp::session::Document;
use crate::lsp::{convert, workspace};
use crate::syntax::ast::Severity;

/// The document's diagnostics, and those of the env files of its workspace.
fn compute_all(server: &Server, doc: &Document) -> (Vec<Diagnostic>, Vec<EnvFileDiagnostics>) {
    if doc.is_response {
        return (Vec::new(), Vec::new());
    }
    let enc = server.session.encoding();
    let (resolver, env_files) = resolver_diagnostics(server, doc);
    let a = &doc.analysis;
    let diags = ide::diagnostics::diagnostics(a, &resolver)
        .into_iter()
        .map(|d| to_proto(a, d, enc))
        .collect();
    (diags, env_files)
}

/// Publishes the env files' diagnostics on their own URIs, when they changed since the
/// last time (an edit in a request file must not re-send them on every keystroke).
async fn publish_env_files(server: &Server, files: Vec<EnvFileDiagnostics>) {
    let enc = server.session.encoding();
    for f in files {
        let Some(uri) = crate::lsp::session::path_to_uri(&f.path) else {
            continue;
        };
        let a = Analysis::without_tree(f.text);
        let diags: Vec<Diagnostic> = f
            .diagnostics
            .into_iter()
            .map(|d| to_proto(&a, d, enc))
            .collect();
        {
            let mut last = server
                .env_diagnostics
                .lock()
                .unwrap_or_else(|e| e.into_inner());
            if last.get(&f.path) == Some(&diags) {
                continue;
            }
            last.insert(f.path.clone(), diags.clone());
        }
        server.client.publish_diagnostics(uri, diags, None).await;
    }
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
/// Also the auth profiles' problems at each use, and the env files' own diagnostics.
fn resolver_diagnostics(
    server: &Server,
    doc: &Document,
) -> (Vec<crate::syntax::ast::Diagnostic>, Vec<EnvFileDiagnostics>) {
    let Some(c) = workspace::cached(server, doc) else {
        return (Vec::new(), Vec::new());
    };
    let ws = &c.ws;
    let mut diags = {
        let mut cache = server.diag_cache.lock().unwrap_or_else(|e| e.into_inner());
        let old = cache.remove(doc.uri.as_str()).unwrap_or_default();
        let (diags, new) = resolve_all_cached(ws, &doc.analysis, &old);
        cache.insert(doc.uri.as_str().to_string(), new);
        diags
    };
    diags.extend(ide::diagnostics::profile_use_diagnostics(
        doc.analysis.file(),
        &c.issues,
    ));
    // The env files' diagnostics change only with a new load of the workspace.
    let env_files = if c
        .env_files_published
        .swap(true, std::sync::atomic::Ordering::Relaxed)
    {
        Vec::new()
    } else {
        ide::diagnostics::env_file_diagnostics(ws, &c.issues)
    };
    (diags, env_files)
}

/// Resolver diagnostics of one block, relative to the block's start, by a hash of what
/// they depend on: the block's text, the file-level variables, the request names, the
/// env files, `.env` and the selected environment. An edit re-resolves only the blocks it touched.
pub type BlockCache = HashMap<u64, Vec<crate::syntax::ast::Diagnostic>>;

fn hash_of(parts: &[&str]) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    for p in parts {
        p.hash(&mut h);
    }
    h.finish()
}

pub fn resolve_all_cached(
    ws: &crate::env::Workspace,
    a: &Analysis,
    old: &BlockCache,
) -> (Vec<crate::syntax::ast::Diagnostic>, BlockCache) {
    let ctx = crate::env::ResolveContext::dry_run(ws);
    let file = a.file();
    // What every block's resolution may read besides its own text.
    let mut shared = String::new();
    for b in &file.blocks {
        match &b.request {
            None => shared.push_str(b.range.slice(&a.text)),
            Some(_) => {
                shared.push_str(b.request_name().unwrap_or(""));
                shared.push('\n');
            }
        }
    }
    for f in &ws.environments.files {
        shared.push_str(&f.text);
    }
    for (k, v) in &ws.dotenv.vars {
        shared.push_str(k);
        shared.push('=');
        shared.push_str(v);
        shared.push('\n');
    }
    shared.push_str(ws.env.name.as_deref().unwrap_or(""));
    let shared_hash = hash_of(&[&shared]);
    let mut out = Vec::new();
    let mut new = BlockCache::new();
    for (i, b) in file.blocks.iter().enumerate() {
        if b.request.is_none() {
            continue;
        }
        let start = b.range.start as usize;
        let key = hash_of(&[b.range.slice(&a.text), &shared_hash.to_string()]);
        let rel = match old.get(&key).or_else(|| new.get(&key)) {
            Some(r) => r.clone(),
            None => {
                let diags = crate::request::build(file, &a.text, i, &ctx).1;
                if diags.iter().any(|d| (d.range.start as usize) < start) {
                    // Points outside its block: not cacheable, use as is.
                    out.extend(diags);
                    continue;
                }
                diags
                    .into_iter()
                    .map(|mut d| {
                        d.range = crate::text::TextRange::new(
                            d.range.start as usize - start,
                            d.range.end as usize - start,
                        );
                        d
                    })
                    .collect()
            }
        };
        out.extend(rel.iter().cloned().map(|mut d| {
            d.range = d.range.shift(start);
            d
        }));
        new.insert(key, rel);
    }
    (out, new)
}

/// Computes and publishes, unless a newer version has arrived meanwhile (its own
/// publish will follow).
pub async fn publish(server: &Server, doc: &Arc<Document>) {
    let (diags, env_files) = compute_all(server, doc);
    publish_env_files(server, env_files).await;
    let current = server.session.get(&doc.uri).map(|d| d.version);
    if current.is_some_and(|v| v != doc.version) {
        return;
    }
    server
        .client
        .publish_diagnostics(doc.uri.clone(), diags, Some(doc.version))
        .await;
}
