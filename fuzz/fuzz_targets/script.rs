//! Fuzz target: the script sandbox. The input is split into a script and a response
//! body; the script runs as a response handler (with short limits) and its syntax is
//! checked as the editor does. Checks: no panic, no hang past the limits, and what the
//! script did comes back as data whatever it threw.
#![no_main]

use std::hint::black_box;
use std::time::Duration;

use httplens::script::{self, Input, Limits, ResponseData};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let (code, body) = text
        .split_once('\u{0}')
        .unwrap_or((&text, "{\"token\":\"t\"}"));
    let input = Input {
        response: Some(ResponseData {
            status: 200,
            headers: vec![("Content-Type".into(), "application/json".into())],
            content_type: Some("application/json".into()),
            body: body.to_string(),
        }),
        ..Input::default()
    };
    let limits = Limits {
        time: Duration::from_millis(100),
        memory: 16 << 20,
    };
    let out = script::run(code, &input, limits);
    black_box(&out);
    black_box(script::check_syntax(code));
    black_box(script::eval_expression(code, &input.globals, limits).ok());
});
