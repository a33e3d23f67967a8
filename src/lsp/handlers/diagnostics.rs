//! Push diagnostics, tagged with the document version they were computed for. Response
//! documents get none.

use std::sync::Arc;

use tower_lsp_server::ls_types::{Diagnostic, DiagnosticSeverity, NumberOrString};

use crate::env::{ResolveContext, Workspace};
use crate::ide::diagnostics::EnvFileDiagnostics;
use crate::ide::{self, Analysis};
use crate::lsp::server::Server;
use crate::lsp::session::{self, Document};
use crate::lsp::{convert, env_state};
use crate::openapi::sources::META_KEY;
use crate::request;
use crate::syntax::ast::{self, HandlerKind, Severity, VarRef};
use crate::text::{PositionEncoding, TextRange};

/// The document's diagnostics, and those of the env files of its workspace.
fn compute_all(server: &Server, doc: &Document) -> (Vec<Diagnostic>, Vec<EnvFileDiagnostics>) {
    if doc.is_response {
        return (Vec::new(), Vec::new());
    }
    let enc = server.session.encoding();
    let (mut resolver, mut env_files) = resolver_diagnostics(server, doc);
    let a = &doc.analysis;
    // The OpenAPI specs: a broken one where it is named, then the requests checked
    // against those that could be read.
    let c = env_state::cached(server, doc);
    let sources = env_state::spec_sources(doc, c.as_deref().map(|c| &c.ws));
    resolver.extend(ide::openapi::source_diagnostics(&sources));
    resolver.extend(ide::openapi::diagnostics(a, &env_state::specs_of(&sources)));
    for (path, message) in ide::openapi::env_file_problems(&sources) {
        if let Some(f) = env_files.iter_mut().find(|f| f.path == path) {
            let range = ide::openapi::key_range_in(&f.text, META_KEY);
            f.diagnostics.push(ast::Diagnostic::warning(
                range,
                ide::openapi::BROKEN_SPEC,
                message,
            ));
        }
    }
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
        let Some(uri) = session::path_to_uri(&f.path) else {
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

fn to_proto(a: &Analysis, d: ast::Diagnostic, enc: PositionEncoding) -> Diagnostic {
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
) -> (Vec<ast::Diagnostic>, Vec<EnvFileDiagnostics>) {
    let Some(c) = env_state::cached(server, doc) else {
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
/// definition of the file, env files, `.env`, the environment and, when the block
/// can reach a response reference (`{{name.response...}}`), the request names.
/// An edit re-resolves only the blocks it touched. `None`: not cacheable (a
/// diagnostic outside its block).
#[derive(Debug, Default)]
pub struct BlockCache(Vec<Entry>);

#[derive(Debug)]
struct Entry {
    key: u64,
    /// The key includes the request names.
    names: bool,
    diags: Option<Vec<ast::Diagnostic>>,
}

impl BlockCache {
    /// The entry for the `k`-th of `n` request blocks, if its key matches (`lite`:
    /// the key without the request names, `full`: with them). Looked up by position,
    /// not in a map: an edit keeps the blocks before it at the same index and those
    /// after it at the same distance from the end, and a map lookup per block (a
    /// cache miss each, 10,000 per edit) cost more than the hashing.
    fn get(&self, k: usize, n: usize, lite: u64, full: u64) -> Option<&Entry> {
        let old = &self.0;
        let from_end = (k + old.len()).checked_sub(n);
        [Some(k), from_end]
            .into_iter()
            .flatten()
            .filter_map(|i| old.get(i))
            // An entry without diagnostics kept (some pointed outside the block) is
            // never reused: reusing it published none of them.
            .find(|e| e.diags.is_some() && e.key == if e.names { full } else { lite })
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

/// Can one of these references read a response (`{{a.response...}}`, or httpyac's
/// `{{a.field}}`: any dotted name), so that what it resolves to depends on the names of
/// the requests?
fn has_response_ref(mut refs: impl Iterator<Item = VarRef>) -> bool {
    use crate::syntax::ast::VarExpr;
    refs.any(|r| match &r.expr {
        VarExpr::RequestRef { .. } => true,
        VarExpr::Name(n) => n.contains('.'),
        _ => false,
    })
}

pub fn resolve_all_cached(
    ws: &Workspace,
    a: &Analysis,
    old: &BlockCache,
) -> (Vec<ast::Diagnostic>, BlockCache) {
    let ctx = ResolveContext::dry_run(ws);
    let file = a.file();
    // What every block's resolution may read besides its own text: the variables
    // (file-level blocks whole, a request block's `@name = value` lines, which the
    // blocks below see as file variables above their use), the env files, `.env`,
    // the environment.
    let mut vars = String::new();
    // The request names, read only through response references. Kept apart so that
    // renaming or removing a request (or a separator: blocks merge) does not
    // re-resolve the 10,000 blocks that reference no response.
    let mut names = String::new();
    // A variable or env value with a template may reach a response reference from any
    // block: then every block depends on the names. (A function of `vars`' text, so a
    // change of it changes every key anyway.)
    let mut names_everywhere = false;
    for b in &file.blocks {
        match &b.request {
            None => vars.push_str(b.range.slice(&a.text)),
            Some(_) => {
                names.push_str(b.request_name().unwrap_or(""));
                names.push('\n');
                for v in &b.variables {
                    vars.push_str(v.range.slice(&a.text));
                    vars.push('\n');
                }
            }
        }
        names_everywhere |= b.variables.iter().any(|v| has_response_ref(v.value.vars()));
        // Names set by scripts: a use of one that nothing else defines is not unknown.
        for h in b.request.iter().flat_map(|r| r.handlers.iter()) {
            if let HandlerKind::Script(code) = &h.kind {
                for n in ast::script_set_names(code) {
                    vars.push_str("script sets ");
                    vars.push_str(n);
                    vars.push('\n');
                }
            }
        }
    }
    for f in &ws.environments.files {
        vars.push_str(&f.text);
        names_everywhere |= f.text.contains("{{");
    }
    for (k, v) in &ws.dotenv.vars {
        vars.push_str(k);
        vars.push('=');
        vars.push_str(v);
        vars.push('\n');
        names_everywhere |= v.contains("{{");
    }
    vars.push_str(ws.env.name.as_deref().unwrap_or(""));
    let vars_hash = hash_of(0, &[vars.as_bytes()]);
    let names_hash = hash_of(0, &[names.as_bytes()]);
    let mut out = Vec::new();
    let n = file.blocks.iter().filter(|b| b.request.is_some()).count();
    let mut new = BlockCache(Vec::with_capacity(n));
    for (i, b) in file.blocks.iter().enumerate() {
        if b.request.is_none() {
            continue;
        }
        let start = b.range.start as usize;
        let lite = hash_of(vars_hash, &[b.range.slice(&a.text).as_bytes()]);
        let full = hash_of(names_hash, &[&lite.to_le_bytes()]);
        if let Some(e) = old.get(new.0.len(), n, lite, full) {
            if let Some(rel) = &e.diags {
                out.extend(rel.iter().cloned().map(|mut d| {
                    d.range = d.range.shift(start);
                    d
                }));
            }
            new.0.push(Entry {
                key: e.key,
                names: e.names,
                diags: e.diags.clone(),
            });
            continue;
        }
        let uses_names = names_everywhere
            || b.refs().next().is_some()
            || has_response_ref(ide::block_var_refs(b).into_iter());
        let key = if uses_names { full } else { lite };
        let diags = request::build(file, &a.text, i, &ctx).1;
        let end = b.range.end as usize;
        if diags
            .iter()
            .any(|d| (d.range.start as usize) < start || (d.range.end as usize) > end)
        {
            // Points outside its block (into a definition elsewhere, which may move or
            // change without this block's key changing): not cacheable, use as is.
            out.extend(diags);
            new.0.push(Entry {
                key,
                names: uses_names,
                diags: None,
            });
            continue;
        }
        let rel: Vec<_> = diags
            .into_iter()
            .map(|mut d| {
                d.range =
                    TextRange::new(d.range.start as usize - start, d.range.end as usize - start);
                d
            })
            .collect();
        out.extend(rel.iter().cloned().map(|mut d| {
            d.range = d.range.shift(start);
            d
        }));
        new.0.push(Entry {
            key,
            names: uses_names,
            diags: Some(rel),
        });
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
    /// Several seeds: seeds 1 and 7 each found a different cache bug (a diagnostic
    /// pointing below its block kept stale; an entry stored without its diagnostics
    /// reused as none).
    #[test]
    fn cached_resolver_diagnostics_equal_a_fresh_run_over_random_edits() {
        for seed in [7, 1, 4, 9] {
            random_edits(seed);
        }
    }

    fn random_edits(seed: u64) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("r.http");
        std::fs::write(
            dir.path().join("http-client.env.json"),
            r#"{"dev": {"host": "http://127.0.0.1:9"}}"#,
        )
        .unwrap();
        let mut text = String::from("@base = {{host}}/v1\n\n");
        for i in 0..30usize {
            // Every third block reads no response (its cache key has no names), and
            // some of them name a request with `# @ref`.
            let prev = if i % 3 == 0 {
                format!("# @ref r{}\n", (i + 4) % 30)
            } else {
                format!(
                    "X-Prev: {{{{r{}.response.body.id}}}}\n",
                    i.saturating_sub(1)
                )
            };
            let (meta, header) = if i % 3 == 0 {
                (prev, String::new())
            } else {
                (String::new(), prev)
            };
            text.push_str(&format!(
                "### r{i}\n# @name r{i}\n{meta}GET {{{{base}}}}/{i}?x={{{{unknown{}}}}}\n{header}\n",
                i % 4,
            ));
        }
        std::fs::write(&path, &text).unwrap();
        let ws = Workspace::load(&path, &[], Some("dev")).unwrap();
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
            "@w = {{r1.response.body.id}}\n",
            "{{w}}",
            "# @name r1\n",
            "x-{{r7.response.headers.Location}}",
            "# @ref r5\n",
            "# @ref zz r2\n",
            "{{r4.id}}",
            "\n> {% client.global.set(\"g\", 1) %}\n",
            "{{g}}",
        ];
        let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
        let mut cache = BlockCache::default();
        let mut seen_diags = 0;
        for _ in 0..1000 {
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
            assert_eq!(
                cached, fresh,
                "seed {seed}, after an edit at {a}..{b}:\n{text}"
            );
            seen_diags += fresh.len();
            cache = next;
        }
        assert!(seen_diags > 1000, "the edits keep producing diagnostics");
    }
}
