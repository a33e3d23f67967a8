//! Fuzz target: the response renderer. An arbitrary response (content type, status and
//! body from the input) is rendered as a response document for a request that carried a
//! secret. Checks: no panic, and the secret never appears in the document, even when the
//! server echoes it back in the body (secrets are masked everywhere: `docs/cli.md`).
#![no_main]

use std::hint::black_box;
use std::time::Duration;

use httplens::exec::render::{DocumentExtras, pretty_body, render_document};
use httplens::exec::response::{Response, ResponseBody, Timings};
use httplens::request::{BodySpec, RequestOptions, RequestSpec};
use httplens::secret::SecretSet;
use libfuzzer_sys::fuzz_target;

const SECRET: &str = "Zq7fuzzTokenValue";

const TYPES: &[&str] = &[
    "application/json",
    "application/json; charset=utf-8",
    "application/problem+json",
    "application/xml",
    "text/xml; charset=iso-8859-1",
    "text/html",
    "text/plain; charset=utf-16",
    "application/x-www-form-urlencoded",
    "application/octet-stream",
    "image/png",
    "",
];

fuzz_target!(|data: &[u8]| {
    let Some((&pick, rest)) = data.split_first() else {
        return;
    };
    let Some((&status, body)) = rest.split_first() else {
        return;
    };
    let mut secrets = SecretSet::new();
    secrets.add(SECRET);
    let spec = RequestSpec {
        name: Some("fuzz".into()),
        line: 1,
        method: "GET".into(),
        url: "http://127.0.0.1:8080/echo".into(),
        headers: vec![("Authorization".into(), format!("Bearer {SECRET}"))],
        body: BodySpec::None,
        options: RequestOptions::default(),
        digest: None,
        secrets,
        assertions: Vec::new(),
        output: None,
    };
    let ct = TYPES[pick as usize % TYPES.len()];
    let mut headers = vec![("x-echo".to_string(), format!("Bearer {SECRET}"))];
    if !ct.is_empty() {
        headers.push(("content-type".into(), ct.into()));
    }
    let resp = Response {
        method: "GET".into(),
        url: "http://127.0.0.1:8080/echo".into(),
        status: 100 + u16::from(status) * 2,
        reason: String::new(),
        version: "HTTP/1.1".into(),
        headers,
        body: ResponseBody::InMemory(body.to_vec()),
        timings: Timings {
            first_byte: Duration::from_millis(3),
            total: Duration::from_millis(5),
        },
    };
    let doc = render_document(&spec, &resp, DocumentExtras::default());
    assert!(
        !doc.contains(SECRET),
        "the response document shows a secret:\n{doc}"
    );
    black_box(pretty_body(&resp));
});
