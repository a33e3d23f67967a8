//! OpenAPI benchmarks: path completion after the method on a spec of 1,000 operations
//! (target < 5 ms), and reading a spec of about 5 MB (target < 150 ms), JSON and YAML.

use std::fmt::Write as _;
use std::hint::black_box;
use std::sync::Arc;

use criterion::{Criterion, criterion_group, criterion_main};
use httplens::ide::{Analysis, EnvView, completion::complete};

/// A spec of `n` paths (one GET each, every fourth also a POST with a body), each with
/// a path parameter, two query parameters, a header, responses with schemas, and
/// `pad` bytes of description per operation (to reach a size).
fn spec_json(n: usize, pad: usize) -> String {
    let filler = "x".repeat(pad);
    let mut s = String::from(
        r#"{"openapi": "3.0.3", "info": {"title": "Big", "version": "1"}, "servers": [{"url": "https://api.example.com/v1"}], "paths": {"#,
    );
    for i in 0..n {
        if i > 0 {
            s.push(',');
        }
        let post = if i % 4 == 0 {
            r##", "post": {"summary": "create", "requestBody": {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Item"}}}}, "responses": {"201": {"description": "created"}}}"##
        } else {
            ""
        };
        let _ = write!(
            s,
            r##""/resource{i}/{{id}}/items": {{"get": {{"operationId": "get{i}", "summary": "Get resource {i}", "description": "{filler}", "parameters": [{{"name": "id", "in": "path", "required": true, "schema": {{"type": "integer"}}}}, {{"name": "limit", "in": "query", "schema": {{"type": "integer"}}}}, {{"name": "q", "in": "query", "required": true, "schema": {{"type": "string"}}}}, {{"name": "X-Trace", "in": "header", "schema": {{"type": "string"}}}}], "responses": {{"200": {{"description": "ok", "content": {{"application/json": {{"schema": {{"$ref": "#/components/schemas/Item"}}}}}}}}, "404": {{"description": "missing"}}}}}}{post}}}"##
        );
    }
    s.push_str(r#"}, "components": {"schemas": {"Item": {"type": "object", "required": ["id"], "properties": {"id": {"type": "integer"}, "name": {"type": "string"}}}}}}"#);
    s
}

fn benches(c: &mut Criterion) {
    let spec = httplens::openapi::parse(&spec_json(1_000, 0)).expect("the generated spec");
    assert_eq!(spec.operations.len(), 1_250);
    let env = EnvView {
        specs: vec![Arc::new(spec)],
        ..Default::default()
    };
    let text = "GET {{host}}/resource5".to_string();
    let at = text.len();
    let a = Analysis::new(text);
    c.bench_function("openapi/complete paths, 1,000 operations", |b| {
        b.iter(|| {
            let items = complete(black_box(&a), at, &env);
            assert_eq!(items.len(), 1_000);
            items
        })
    });
    let q = "GET {{host}}/resource999/7/items?".to_string();
    let qa = Analysis::new(q.clone());
    c.bench_function("openapi/complete query, 1,000 operations", |b| {
        b.iter(|| complete(black_box(&qa), q.len(), &env))
    });

    // About 5 MB: 4,000 operations with 1 KiB of description each.
    let big = spec_json(4_000, 1_000);
    assert!(big.len() > 4_500_000, "{}", big.len());
    let mut g = c.benchmark_group("openapi");
    g.sample_size(10);
    g.bench_function("load 5 MB spec (JSON)", |b| {
        b.iter(|| httplens::openapi::parse(black_box(&big)).map(|s| s.operations.len()))
    });
    // The same document as YAML (flow style: JSON is YAML), through serde_norway.
    let yaml = format!("# yaml\n{big}");
    g.bench_function("load 5 MB spec (YAML)", |b| {
        b.iter(|| httplens::openapi::parse(black_box(&yaml)).map(|s| s.operations.len()))
    });
    g.finish();
}

criterion_group!(group, benches);
criterion_main!(group);
