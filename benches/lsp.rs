//! Editor-feature benchmarks on a 10,000-request file, on the protocol-free `ide` layer
//! (plus the resolver's dry run, as diagnostics do): lenses, edit -> diagnostics,
//! symbols, folding. Targets: lenses < 5 ms, edit -> diagnostics < 10 ms (median).

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use httplens::env::{ResolveContext, Workspace};
use httplens::ide::{Analysis, diagnostics, folding, lenses, symbols};

fn big_file(n: usize) -> String {
    let mut s = String::from("@host = http://127.0.0.1:9\n\n");
    for i in 0..n {
        s.push_str(&format!(
            "### request {i}\n# @name r{i}\nPOST {{{{host}}}}/items/{i}?q={{{{$guid}}}}\nContent-Type: application/json\nAccept: application/json\n\n{{\"id\": {i}, \"name\": \"item {i}\"}}\n\n"
        ));
    }
    s
}

fn resolve_all(ws: &Workspace, a: &Analysis) -> Vec<httplens::syntax::Diagnostic> {
    let ctx = ResolveContext::dry_run(ws);
    let file = a.file();
    let mut out = Vec::new();
    for (i, b) in file.blocks.iter().enumerate() {
        if b.request.is_some() {
            out.extend(httplens::request::build(file, &a.text, i, &ctx).1);
        }
    }
    out
}

fn benches(c: &mut Criterion) {
    let text = big_file(10_000);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("big.http");
    std::fs::write(&path, &text).unwrap();
    let ws = Workspace::load(&path, &[], None).unwrap();
    let a = Analysis::new(text.clone());
    let mut g = c.benchmark_group("10k requests");
    g.sample_size(20);
    g.bench_function("lenses", |b| {
        b.iter(|| {
            black_box(lenses::request_lenses(
                &a,
                Some("dev"),
                &|_| Default::default(),
                0,
            ))
        })
    });
    g.bench_function("parse (every edit)", |b| {
        b.iter(|| black_box(Analysis::new(text.clone())))
    });
    g.bench_function("edit -> diagnostics (parse + syntax/hints)", |b| {
        b.iter(|| {
            let a = Analysis::new(text.clone());
            black_box(diagnostics::diagnostics(&a, &[]))
        })
    });
    g.bench_function("symbols", |b| b.iter(|| black_box(symbols::symbols(&a))));
    g.bench_function("folding", |b| {
        b.iter(|| black_box(folding::folding_ranges(&a)))
    });
    // The resolver's dry run over every block (linear since blocks know their first
    // line): what the server pays when nothing is cached (first open, env change); an
    // edit re-resolves only the blocks whose text changed.
    g.sample_size(10);
    g.bench_function("resolver dry run of every block (uncached)", |b| {
        b.iter(|| black_box(resolve_all(&ws, &a)))
    });
    g.finish();
}

criterion_group!(lsp, benches);
criterion_main!(lsp);
