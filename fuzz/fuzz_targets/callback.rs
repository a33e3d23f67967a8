//! Fuzz target: the OAuth loopback listener's answer to one request line (method, path,
//! query as a browser or an attacker sends them). Checks: no panic; a code is accepted
//! only with the expected `state`; the page never shows the code and reflects nothing
//! unescaped.
#![no_main]

use std::hint::black_box;

use libfuzzer_sys::fuzz_target;

const STATE: &str = "st8Zq7fuzz";

fuzz_target!(|data: &[u8]| {
    let line = String::from_utf8_lossy(data);
    // Half the inputs carry the right state, so the accepting path is explored too.
    let line = if data.first().is_some_and(|b| b % 2 == 0) {
        format!("GET /callback?state={STATE}&{line}")
    } else {
        line.into_owned()
    };
    let (status, page, code) = black_box(httplens::auth::flow::fuzz_callback(&line, STATE));
    if code.is_some() {
        assert_eq!(status, 200, "a code was accepted with status {status}");
        // The success page reflects nothing of the request (so never the code).
        let (_, expected, _) = httplens::auth::flow::fuzz_callback(
            &format!("GET /callback?state={STATE}&code=c"),
            STATE,
        );
        assert_eq!(page, expected, "the success page changed with the input");
    }
    if status == 200 {
        assert!(code.is_some(), "success page without a code");
    }
    assert!(!page.contains("<script"), "unescaped markup in the page");
});
