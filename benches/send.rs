//! Sending cost: N requests from `exec::Client` to an in-process server on 127.0.0.1
//! (keep-alive, no history), and rendering a JSON response document.

#[path = "../tests/support/server.rs"]
mod server;

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use httplens::exec::render::{DocumentExtras, render_document};
use httplens::exec::{Client, ClientConfig, SendOptions};
use httplens::request::{BodySpec, RequestOptions, RequestSpec};
use httplens::secret::SecretSet;

const N: usize = 100;

fn spec(url: String) -> RequestSpec {
    RequestSpec {
        name: None,
        line: 1,
        method: "GET".into(),
        url,
        headers: vec![("Accept".into(), "application/json".into())],
        body: BodySpec::None,
        options: RequestOptions::default(),
        digest: None,
        secrets: SecretSet::new(),
        assertions: vec![],
        output: None,
    }
}

fn send(c: &mut Criterion) {
    httplens::process::install_crypto_provider();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let srv = rt.block_on(server::start());
    let tmp = tempfile::tempdir().unwrap();
    let client = Client::new(ClientConfig::default());
    let opts = SendOptions {
        spill_dir: tmp.path().to_path_buf(),
        ..Default::default()
    };
    let sp = spec(srv.url("/echo"));
    c.bench_function(&format!("send {N} requests (keep-alive)"), |b| {
        b.iter(|| {
            rt.block_on(async {
                for _ in 0..N {
                    let r = client.send(&sp, &opts).await.unwrap();
                    black_box(r.status);
                }
            })
        })
    });
    let resp = rt.block_on(client.send(&sp, &opts)).unwrap();
    c.bench_function("render a JSON response document", |b| {
        b.iter(|| black_box(render_document(&sp, &resp, DocumentExtras::default())))
    });
}

criterion_group!(benches, send);
criterion_main!(benches);
