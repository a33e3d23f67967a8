//! Scripts: starting the sandbox, a small response handler, and `send_all` of 300
//! requests with and without a handler each (engine, in-process server on 127.0.0.1,
//! no history). Targets: start < 5 ms, a small handler < 0.5 ms, 300 requests with
//! handlers within 1.5x of the same without.

#[path = "../tests/support/server.rs"]
mod server;

use std::collections::BTreeMap;
use std::hint::black_box;
use std::sync::Arc;

use criterion::{Criterion, criterion_group, criterion_main};
use httplens::env::Workspace;
use httplens::exec::{Engine, EngineConfig, FileInput, Silent};
use httplens::script::{self, Input, Limits, ResponseData};
use tokio_util::sync::CancellationToken;

const N: usize = 300;

fn input() -> Input {
    Input {
        response: Some(ResponseData {
            status: 200,
            headers: vec![("Content-Type".into(), "application/json".into())],
            content_type: Some("application/json".into()),
            body: r#"{"token":"abc","user":{"id":7,"name":"jane"}}"#.into(),
        }),
        ..Input::default()
    }
}

fn file(n: usize, handler: bool) -> String {
    let mut s = String::new();
    for i in 0..n {
        s.push_str(&format!("### r{i}\nGET {{{{base}}}}/echo?i={i}\n"));
        if handler {
            s.push_str("\n> {%\n  client.global.set(\"last\", response.body.path);\n  client.test(\"ok\", function () { client.assert(response.status === 200); });\n%}\n");
        }
        s.push('\n');
    }
    s
}

fn bench(c: &mut Criterion) {
    c.bench_function(
        "script: start the sandbox (empty script, target < 5 ms)",
        |b| {
            let i = Input::default();
            b.iter(|| black_box(script::run("", &i, Limits::default())))
        },
    );
    httplens::process::install_crypto_provider();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    // A handler in a file run's sandbox (the engine started once per run, as `run`
    // and the editor do).
    let sandbox = script::Sandbox::new();
    c.bench_function("script: a small handler (target < 0.5 ms)", |b| {
        b.iter(|| {
            black_box(rt.block_on(sandbox.run(
                "client.global.set('t', response.body.token); client.test('ok', function () { client.assert(response.status === 200); });".into(),
                input(),
                Limits::default(),
            )))
        })
    });

    c.bench_function("script: an empty script in the run's sandbox", |b| {
        b.iter(|| black_box(rt.block_on(sandbox.run(String::new(), input(), Limits::default()))))
    });
    let srv = rt.block_on(server::start());
    let tmp = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(tmp.path().join(".git")).unwrap();
    let overrides = BTreeMap::from([("base".to_string(), srv.url(""))]);
    let mut g = c.benchmark_group("script: send_all of 300 requests");
    g.sample_size(10);
    for handler in [false, true] {
        let path = tmp.path().join(format!("f{handler}.http"));
        let text = file(N, handler);
        std::fs::write(&path, &text).unwrap();
        let parsed = httplens::syntax::parse(&text);
        let ws = Workspace::load(&path, &[], None).unwrap();
        let mut config = EngineConfig::new(tmp.path().to_path_buf());
        config.cache = tmp.path().join("cache");
        config.history = false;
        let engine = Engine::new(
            config,
            Arc::new(httplens::exec::NoTokenSource("no sign-in".into())),
        );
        let label = if handler {
            "with a handler each"
        } else {
            "without handlers"
        };
        g.bench_function(label, |b| {
            b.iter(|| {
                let input = FileInput {
                    workspace: &ws,
                    file: &parsed.file,
                    text: &text,
                    overrides: &overrides,
                };
                let out = rt.block_on(engine.send_all(&input, &CancellationToken::new(), &Silent));
                assert!(out.iter().all(|o| o.passed()));
                black_box(out.len())
            })
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
