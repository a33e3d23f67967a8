//! Parser benchmark: generated `.http` files of 100, 1,000 and 10,000 requests (about
//! 255 bytes each: titles, metadata, headers with templates, JSON bodies with request
//! references, assertions).

use std::fmt::Write as _;
use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use httplens::syntax::{parse, parse_markdown};

/// A realistic file of `n` requests.
fn big_file(n: usize) -> String {
    let mut s = String::from("@host = https://api.example.com\n@token = secret-token\n\n");
    for i in 0..n {
        let _ = write!(
            s,
            "### Create item {i}\n\
             # @name create{i}\n\
             POST {{{{host}}}}/v1/items?page={i} HTTP/1.1\n\
             Content-Type: application/json\n\
             Authorization: Bearer {{{{token}}}}\n\
             \n\
             {{\n  \"id\": {i},\n  \"name\": \"item {i}\",\n  \"owner\": \"{{{{create{prev}.response.body.$.owner}}}}\"\n}}\n\
             \n\
             ?? status == 201\n\
             \n",
            prev = i.saturating_sub(1)
        );
    }
    s
}

/// An empty workspace (no env files) in a temp folder of its own.
fn workspace() -> httplens::env::Workspace {
    let dir = std::env::temp_dir().join(format!("httplens-bench-parse-{}", std::process::id()));
    std::fs::create_dir_all(dir.join(".git")).expect("temp folder");
    httplens::env::Workspace::load(&dir.join("api.http"), &[], None).expect("no env files")
}

fn benches(c: &mut Criterion) {
    // Files people write (100 and 1,000 requests) first; 10,000 is the stress case
    // that guards against blow-ups.
    for n in [100, 1_000, 10_000] {
        let text = big_file(n);
        let mut g = c.benchmark_group("parse");
        g.throughput(Throughput::Bytes(text.len() as u64));
        // Building the tree is the figure; freeing it is measured apart.
        g.bench_function(format!("{n} requests: build the tree"), |b| {
            b.iter_with_large_drop(|| parse(black_box(&text)))
        });
        g.bench_function(format!("{n} requests: build and free the tree"), |b| {
            b.iter(|| black_box(parse(black_box(&text))))
        });
        // Resolving every request (what `show` and the diagnostics do): linear in the
        // file, so a request never walks the blocks before it (a GraphQL fragment
        // lookup once did, and 10,000 requests took 2.9 times as long).
        let ws = workspace();
        let ctx = httplens::env::ResolveContext::dry_run(&ws);
        let parsed = parse(&text);
        g.bench_function(format!("{n} requests: resolve every request"), |b| {
            b.iter(|| {
                for i in 0..parsed.file.blocks.len() {
                    black_box(httplens::request::build(&parsed.file, &text, i, &ctx));
                }
            })
        });
        if n == 10_000 {
            let md = format!("# Docs\n\n```http\n{text}\n```\n");
            g.bench_function("10000 requests in markdown", |b| {
                b.iter(|| black_box(parse_markdown(black_box(&md))))
            });
        }
        g.finish();
    }
    // The real files of `../shared/corpus/http` (95 files from public repositories),
    // each parsed once per iteration: files people write, as they write them.
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus/http");
    let mut corpus = Vec::new();
    for sub in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
        for f in std::fs::read_dir(sub.path())
            .into_iter()
            .flatten()
            .flatten()
        {
            let p = f.path();
            if p.extension().is_some_and(|e| e == "http" || e == "rest")
                && let Ok(t) = std::fs::read_to_string(&p)
            {
                corpus.push(t);
            }
        }
    }
    if corpus.is_empty() {
        eprintln!(
            "no corpus at {}: the corpus benchmark is not run",
            dir.display()
        );
        return;
    }
    let bytes: usize = corpus.iter().map(String::len).sum();
    let mut g = c.benchmark_group("parse");
    g.throughput(Throughput::Bytes(bytes as u64));
    g.bench_function(format!("corpus: {} real files", corpus.len()), |b| {
        b.iter(|| {
            for t in &corpus {
                black_box(parse(black_box(t)));
            }
        })
    });
    g.finish();
}

criterion_group!(parse_benches, benches);
criterion_main!(parse_benches);
