//! OpenAPI benchmarks: path completion after the method on a spec of 1,000 operations
//! (target < 5 ms), reading a spec of about 5 MB (target < 150 ms), JSON and YAML, and
//! checking JSON against the spec's schemas (a response of 20 products, a request body in
//! the editor, what a sent request pays for its `schema:` line).

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
    // As people write YAML: block style (indented mappings and lists, no braces).
    let block =
        serde_norway::to_string(&serde_json::from_str::<serde_json::Value>(&big).unwrap()).unwrap();
    assert!(!block.trim_start().starts_with('{'));
    g.bench_function(
        format!(
            "load 5 MB spec (YAML, block style, {} MB)",
            block.len() / 1_000_000
        ),
        |b| b.iter(|| httplens::openapi::parse(black_box(&block)).map(|s| s.operations.len())),
    );
    g.finish();
}

/// The Adobe Commerce example spec, a product list of 20 items as its demo API sends it.
fn schema_benches(c: &mut Criterion) {
    use httplens::exec::{Response, ResponseBody, Timings};
    use httplens::openapi::validate::{self, Direction, ResponseSchema};
    let text = include_str!("../examples/adobe-commerce/commerce.openapi.yaml");
    let spec = Arc::new(httplens::openapi::parse(text).expect("the example spec"));
    let list = spec
        .operations
        .iter()
        .find(|o| o.method == "GET" && o.path == "/products")
        .expect("GET /products");
    let raw = &spec.root["paths"]["/products"]["get"]["responses"]["200"]["content"]["application/json"]
        ["schema"];
    let mut body = httplens::openapi::example::from_schema_in(&spec.root, raw, 8);
    let item = body["items"][0].clone();
    body["items"] = serde_json::Value::Array(
        (0..20)
            .map(|i| {
                let mut it = item.clone();
                it["sku"] = format!("SKU-{i}").into();
                it
            })
            .collect(),
    );
    let bytes = serde_json::to_vec(&body).unwrap();
    let ResponseSchema::Json { validator, .. } =
        spec.response_schema(list, 200, Some("application/json"))
    else {
        panic!("GET /products 200 has a JSON schema")
    };
    assert!(validator.is_valid(&body));
    let mut g = c.benchmark_group("openapi schema");
    g.bench_function("compile the GET /products 200 schema", |b| {
        b.iter(|| validate::compile(&spec.root, black_box(raw), Direction::Response))
    });
    g.bench_function(
        format!("validate a response of 20 products ({} B)", bytes.len()),
        |b| b.iter(|| validator.is_valid(black_box(&body))),
    );
    let bad = serde_json::to_vec(&serde_json::json!({"items": [{"sku": 1}], "total_count": "x"}))
        .unwrap();
    let bad_value: serde_json::Value = serde_json::from_slice(&bad).unwrap();
    g.bench_function("differences of a response that does not match", |b| {
        b.iter(|| validator.differences(black_box(&bad_value), 3))
    });
    // What `run` adds to one request: find the operation, parse the body, validate
    // (the validator is compiled once per spec and kept).
    let resp = Response {
        method: "GET".into(),
        url: "http://127.0.0.1:8080/V1/products?pageSize=20".into(),
        status: 200,
        reason: "OK".into(),
        version: "HTTP/1.1".into(),
        headers: vec![("content-type".into(), "application/json".into())],
        body: ResponseBody::InMemory(bytes.clone()),
        timings: Timings::default(),
    };
    let specs = vec![spec.clone()];
    g.bench_function("run: the schema line of one response (20 products)", |b| {
        b.iter(|| {
            httplens::exec::schema::check(
                &specs,
                "GET",
                "{{api}}/products?pageSize=20",
                &resp.url,
                black_box(&resp),
            )
        })
    });
    // The same with one body assertion (`?? body $.total_count exists`): before, the
    // assertions parsed the body again; now the two share one parse.
    let assertions = vec![httplens::request::ResolvedAssertion {
        line: 3,
        text: "?? body $.total_count exists".into(),
        target: httplens::syntax::ast::AssertTarget::Body(Some("$.total_count".into())),
        op: httplens::syntax::ast::AssertOp::Exists,
        expected: None,
    }];
    g.bench_function(
        "run: schema line and a body assertion, body parsed twice (before)",
        |b| {
            b.iter(|| {
                let v = httplens::exec::schema::check(
                    &specs,
                    "GET",
                    "{{api}}/products?pageSize=20",
                    &resp.url,
                    black_box(&resp),
                );
                httplens::exec::assert::check_all_with_schema(&assertions, &resp, &v)
            })
        },
    );
    g.bench_function(
        "run: schema line and a body assertion, body parsed once (now)",
        |b| {
            b.iter(|| {
                let json = httplens::exec::JsonBody::new(black_box(&resp));
                let v = httplens::exec::schema::check_with_body(
                    &specs,
                    "GET",
                    "{{api}}/products?pageSize=20",
                    &resp.url,
                    &resp,
                    &json,
                );
                httplens::exec::assert::check_all_with_body(&assertions, &resp, &v, &json)
            })
        },
    );
    // The editor: a request body with a variable and one wrong value, on every change.
    let comment = spec
        .operations
        .iter()
        .find(|o| o.path == "/orders/{id}/comments")
        .expect("POST /orders/{id}/comments");
    let v = spec.request_validator(comment).expect("a request schema");
    let body_text = "{\n  \"statusHistory\": {\n    \"comment\": \"{{note}}\",\n    \"is_customer_notified\": 2,\n    \"is_visible_on_front\": {{visible}}\n  }\n}\n";
    assert_eq!(validate::body_problems(&v, body_text).len(), 1);
    g.bench_function("editor: warnings of a templated request body", |b| {
        b.iter(|| validate::body_problems(&v, black_box(body_text)))
    });
    g.finish();
}

criterion_group!(group, benches, schema_benches);
criterion_main!(group);
