//! Push diagnostics, tagged with the document version they were computed for. Response
//! documents get none.

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

/// Resolver diagnostics of each request block, in order, relative to the block's
/// start, with a hash of what they depend on: the block's text, every variable
/// definition of the file, the request names, the env files, `.env` and the selected
/// environment.
/// An edit re-resolves only the blocks it touched. `None`: not cacheable (a diagnostic
/// outside its block).
#[derive(Debug, Default)]
pub struct BlockCache(Vec<(u64, Option<Vec<crate::syntax::ast::Diagnostic>>)>);

impl BlockCache {
    /// The entry for the `k`-th of `n` request blocks with this key. Looked up by
    /// position, not in a map: an edit keeps the blocks before it at the same index
    /// and those after it at the same distance from the end, and a map lookup per
    /// block (a cache miss each, 10,000 per edit) cost more than the hashing.
    fn get(&self, k: usize, n: usize, key: u64) -> Option<&Vec<crate::syntax::ast::Diagnostic>> {
        let old = &self.0;
        let from_end = (k + old.len()).checked_sub(n);
        [Some(k), from_end]
            .into_iter()
            .flatten()
            .filter_map(|i| old.get(i))
            .find(|(have, _)| *have == key)
            .and_then(|(_, d)| d.as_ref())
    }
}

/// A 64-bit content hash (foldhash's quality variant): every block of the file is
/// hashed on every edit, so this is the one place where SipHash's cost showed.
fn hash_of(seed: u64, parts: &[&[u8]]) -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = foldhash::quality::FixedState::with_seed(seed).build_hasher();
    for p in parts {
        h.write(p);
        h.write_usize(p.len());
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
                // A request block's `@name = value` lines are seen by the blocks below
                // as file variables above their use.
                for v in &b.variables {
                    shared.push_str(v.range.slice(&a.text));
                    shared.push('\n');
                }
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
    let shared_hash = hash_of(0, &[shared.as_bytes()]);
    let mut out = Vec::new();
    let n = file.blocks.iter().filter(|b| b.request.is_some()).count();
    let mut new = BlockCache(Vec::with_capacity(n));
    for (i, b) in file.blocks.iter().enumerate() {
        if b.request.is_none() {
            continue;
        }
        let start = b.range.start as usize;
        let key = hash_of(shared_hash, &[b.range.slice(&a.text).as_bytes()]);
        let rel = match old.get(new.0.len(), n, key) {
            Some(r) => r.clone(),
            None => {
                let diags = crate::request::build(file, &a.text, i, &ctx).1;
                if diags.iter().any(|d| (d.range.start as usize) < start) {
                    // Points outside its block: not cacheable, use as is.
                    out.extend(diags);
                    new.0.push((key, None));
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
        new.0.push((key, Some(rel)));
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

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};

    /// The cache never changes the answer: after each of many random edits, the
    /// diagnostics from the previous edit's cache equal those computed from scratch.
    #[test]
    fn cached_resolver_diagnostics_equal_a_fresh_run_over_random_edits() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("r.http");
        std::fs::write(
            dir.path().join("http-client.env.json"),
            r#"{"dev": {"host": "http://127.0.0.1:9"}}"#,
        )
        .unwrap();
        let mut text = String::from("@base = {{host}}/v1\n\n");
        for i in 0..30usize {
            text.push_str(&format!(
                "### r{i}\n# @name r{i}\nGET {{{{base}}}}/{i}?x={{{{unknown{}}}}}\nX-Prev: {{{{r{}.response.body.id}}}}\n\n",
                i % 4,
                i.saturating_sub(1)
            ));
        }
        std::fs::write(&path, &text).unwrap();
        let ws = crate::env::Workspace::load(&path, &[], Some("dev")).unwrap();
        let pieces = [
            "x",
            "{{nope}}",
            "{{host}}",
            "### t\n",
            "\n",
            "# @name r3\n",
            "@v = 1\n",
            "{{v}}",
            "GET http://h/{{r2.response.body.id}}\n",
            "",
            "é",
        ];
        let mut rng = rand::rngs::StdRng::seed_from_u64(7);
        let mut cache = BlockCache::default();
        let mut seen_diags = 0;
        for _ in 0..1500 {
            let bounds: Vec<usize> = text
                .char_indices()
                .map(|(i, _)| i)
                .chain([text.len()])
                .collect();
            let a = bounds[rng.random_range(0..bounds.len())];
            let b = bounds
                .iter()
                .copied()
                .filter(|&x| x >= a)
                .nth(rng.random_range(0..12))
                .unwrap_or(a);
            text.replace_range(a..b, pieces[rng.random_range(0..pieces.len())]);
            let analysis = Analysis::new(text.clone());
            let (cached, next) = resolve_all_cached(&ws, &analysis, &cache);
            let (fresh, _) = resolve_all_cached(&ws, &analysis, &BlockCache::default());
            assert_eq!(cached, fresh, "after an edit at {a}..{b}:\n{text}");
            seen_diags += fresh.len();
            cache = next;
        }
        assert!(seen_diags > 1500, "the edits keep producing diagnostics");
    }
}
