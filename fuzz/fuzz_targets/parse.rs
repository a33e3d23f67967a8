//! Fuzz target: the `.http` parser. Any bytes (as lossy UTF-8) must give a tree plus
//! diagnostics, never a panic, with every line and range inside the input.
#![no_main]

use std::hint::black_box;

use httplens::syntax::{parse, parse_markdown, parse_var_expr};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let p = parse(&text);
    // Lines tile the input in order; ranges lie on character boundaries.
    let mut at = 0usize;
    for b in &p.file.blocks {
        for l in &b.lines {
            let (s, e) = (l.range.start as usize, l.range.end as usize);
            assert!(
                s >= at && e <= text.len() && text.is_char_boundary(s) && text.is_char_boundary(e)
            );
            at = e;
        }
    }
    for d in &p.errors {
        assert!(
            text.get(d.range.as_range()).is_some(),
            "diagnostic outside the text"
        );
    }
    black_box(p);
    black_box(parse_markdown(&text));
    // The expression classifier on its own, as the editor calls it on partial input.
    if text.len() < 256 {
        black_box(parse_var_expr(&text));
    }
});
