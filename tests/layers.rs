//! The layers of the crate depend one way: parse -> resolve -> send -> sign in -> editor
//! features -> front ends. This test reads every file under `src/` and fails on an
//! import that points up the stack (or on a module missing from the table below), so
//! a new arrow up is caught when it is written, not when a cycle has grown around it.
//! It also fails on lines or columns counted outside `src/text.rs`, the one position
//! module, and on a test-only hook (`TEST_HOOKS`) that the shipped library would contain.

use std::collections::BTreeSet;
use std::path::Path;

/// Each top-level module of `src/` with its rank: a module may use only modules of a
/// lower rank. Modules of the same rank may not use each other.
const LAYERS: &[(&str, u8)] = &[
    // Leaves: ranges and line counting, the secret type, process wiring.
    ("text", 0),
    ("secret", 0),
    ("process", 0),
    ("net", 0),
    // The script sandbox: it knows nothing of the crate (data in, data out).
    ("script", 0),
    // parse
    ("syntax", 1),
    // resolve: values, then the pure step to a RequestSpec
    ("env", 2),
    ("request", 3),
    // OpenAPI specs: read with the file's metadata and the environment, beside request
    ("openapi", 3),
    // send
    ("exec", 4),
    // sign in (implements exec's TokenSource)
    ("auth", 5),
    // editor features (protocol-free) and the demo's local provider and API
    ("ide", 6),
    ("demo", 6),
    // front ends
    ("lsp", 7),
    ("cli", 8),
];

fn rank(module: &str) -> Option<u8> {
    LAYERS.iter().find(|(m, _)| *m == module).map(|&(_, r)| r)
}

/// The top-level modules a source text names through `crate::` paths (`use
/// crate::{a::X, b}` groups included), comments left out.
fn crate_modules_used(text: &str) -> BTreeSet<String> {
    let code: String = text
        .lines()
        .map(|l| l.split_once("//").map_or(l, |(code, _)| code))
        .collect::<Vec<_>>()
        .join("\n");
    let mut used = BTreeSet::new();
    let mut rest = code.as_str();
    while let Some(at) = rest.find("crate::") {
        // `httplens::crate::` cannot happen; a path such as `$crate::` is a macro's.
        let before = rest[..at].chars().next_back();
        rest = &rest[at + "crate::".len()..];
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '$') {
            continue;
        }
        if let Some(group) = rest.strip_prefix('{') {
            let mut depth = 1;
            let mut name = String::new();
            let mut at_name = true;
            for c in group.chars() {
                match c {
                    '{' => depth += 1,
                    '}' => depth -= 1,
                    _ => {}
                }
                if depth == 0 {
                    break;
                }
                if depth == 1 && c == ',' {
                    at_name = true;
                    continue;
                }
                if at_name {
                    if c.is_alphanumeric() || c == '_' {
                        name.push(c);
                    } else if !name.is_empty() {
                        used.insert(std::mem::take(&mut name));
                        at_name = false;
                    }
                }
            }
            if !name.is_empty() {
                used.insert(name);
            }
        } else {
            let name: String = rest
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            if !name.is_empty() {
                used.insert(name);
            }
        }
    }
    used
}

fn rust_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("read src/") {
        let path = entry.expect("dir entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn every_import_points_down_the_stack() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    files.sort();
    let mut wrong = Vec::new();
    for file in &files {
        let rel = file.strip_prefix(&src).expect("under src");
        let top = rel
            .components()
            .next()
            .and_then(|c| c.as_os_str().to_str())
            .map(|s| s.trim_end_matches(".rs").to_owned())
            .expect("a file name");
        if top == "lib" || top == "main" {
            continue;
        }
        let Some(own) = rank(&top) else {
            wrong.push(format!(
                "src/{top}: a module missing from the layer table in tests/layers.rs (add it where it belongs)"
            ));
            continue;
        };
        let text = std::fs::read_to_string(file).expect("read a source file");
        for used in crate_modules_used(&text) {
            if used == top {
                continue;
            }
            match rank(&used) {
                Some(r) if r < own => {}
                Some(_) => wrong.push(format!(
                    "{}: `{top}` uses `{used}`, which is not below it",
                    rel.display()
                )),
                // `crate::SomeItem` re-exported at the root, or a macro: not a module.
                None => {}
            }
        }
    }
    wrong.sort();
    wrong.dedup();
    assert!(
        wrong.is_empty(),
        "imports up the stack:\n{}",
        wrong.join("\n")
    );
}

#[test]
fn the_scanner_reads_groups_and_skips_comments() {
    let text = "use crate::{env::{A, B}, request::C};\n// crate::lsp in a comment\nlet x = crate::exec::send();\nmacro_rules! m { () => { $crate::text::X } }\n";
    let used: Vec<String> = crate_modules_used(text).into_iter().collect();
    assert_eq!(used, ["env", "exec", "request"]);
}

/// Ways of counting lines and columns by hand that have crept in before: each front end
/// counted `\n`s and characters its own way (and disagreed on multi-byte text, CRLF
/// and byte order marks). Matched with all whitespace removed.
const COUNTING: &[(&str, &str)] = &[
    ("'\\n').count()", "counts newlines"),
    (".chars().count()asu32+1", "counts a one-based column"),
    (".chars().count()+1", "counts a one-based column"),
    (".lines().position(", "searches for a line number"),
    ("rfind('\\n')", "finds a line start"),
    ("encode_utf16", "counts UTF-16 code units"),
];

/// The counting patterns a source text uses (comments left out).
fn counting_in(text: &str) -> Vec<&'static str> {
    let code: String = text
        .lines()
        .map(|l| l.split_once("//").map_or(l, |(code, _)| code))
        .flat_map(|l| l.chars().filter(|c| !c.is_whitespace()))
        .collect();
    COUNTING
        .iter()
        .filter(|(p, _)| code.contains(p))
        .map(|&(_, what)| what)
        .collect()
}

#[test]
fn only_text_rs_counts_lines_and_columns() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    files.sort();
    let mut wrong = Vec::new();
    for file in &files {
        let rel = file.strip_prefix(&src).expect("under src");
        if rel == Path::new("text.rs") {
            continue;
        }
        let text = std::fs::read_to_string(file).expect("read a source file");
        for what in counting_in(&text) {
            wrong.push(format!(
                "src/{}: {what}; use text::LineIndex::line_col (or Block::line_col) instead",
                rel.display()
            ));
        }
    }
    assert!(
        wrong.is_empty(),
        "lines or columns counted by hand:\n{}",
        wrong.join("\n")
    );
}

#[test]
fn the_counting_scanner_finds_what_it_looks_for() {
    let text = "let line = text[..at].matches('\\n').count() as u32 + 1;\nlet col = s.chars().count() as u32\n    + 1;\n// rfind('\\n') in a comment\nlet n = s.chars().count();\nlet start = t[..at].rfind('\\n');\n";
    assert_eq!(
        counting_in(text),
        [
            "counts newlines",
            "counts a one-based column",
            "finds a line start"
        ]
    );
    assert!(counting_in("let l = idx.line_of(x);\nlet c = a.line_col(t, x).line + 1;").is_empty());
}

/// Items only tests and fuzz targets use. They sit behind `#[cfg(feature = "test-hooks")]`
/// (or `#[cfg(test)]`), so `cargo build`, `cargo install` and releases leave them out;
/// the integration tests turn the feature on through the crate's dev-dependency on
/// itself, the fuzz crate through `fuzz/Cargo.toml`.
const TEST_HOOKS: &[&str] = &[
    "TokenFault",
    "inject_token_fault",
    "fault_response",
    "fuzz_callback",
    "sign_id_tokens_with_another_key",
];

/// The attributes that keep an item out of the shipped library.
fn is_test_gate(line: &str) -> bool {
    let l: String = line.chars().filter(|c| !c.is_whitespace()).collect();
    l == "#[cfg(feature=\"test-hooks\")]" || l == "#[cfg(test)]"
}

/// The braces of a line of code, string and character literals left out.
fn brace_delta(code: &str) -> (i32, bool) {
    let mut depth = 0;
    let mut opened = false;
    let mut in_str = false;
    let mut chars = code.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' if in_str => {
                chars.next();
            }
            '"' => in_str = !in_str,
            '\'' if !in_str => {
                // `'{'`: skip a character literal (a lifetime has no closing quote).
                let mut ahead = chars.clone();
                let first = ahead.next();
                if first == Some('\\') {
                    ahead.next();
                }
                if ahead.next() == Some('\'') {
                    chars = ahead;
                }
            }
            '{' if !in_str => {
                depth += 1;
                opened = true;
            }
            '}' if !in_str => depth -= 1,
            _ => {}
        }
    }
    (depth, opened)
}

/// For each line of a source text: is it inside an item gated by [`is_test_gate`]
/// (the item's attributes, doc comments and whole body)?
fn gated_lines(text: &str) -> Vec<bool> {
    let lines: Vec<&str> = text.lines().collect();
    let mut gated = vec![false; lines.len()];
    let mut i = 0;
    while i < lines.len() {
        if !is_test_gate(lines[i]) {
            i += 1;
            continue;
        }
        gated[i] = true;
        i += 1;
        // Further attributes and doc comments of the same item.
        while i < lines.len() {
            let t = lines[i].trim_start();
            if t.starts_with("#[") || t.starts_with("//") {
                gated[i] = true;
                i += 1;
            } else {
                break;
            }
        }
        // The item itself: up to its closing brace, or a `;`/`,` before any brace.
        let mut depth = 0;
        let mut opened = false;
        while i < lines.len() {
            gated[i] = true;
            let code = lines[i].split_once("//").map_or(lines[i], |(code, _)| code);
            let (d, o) = brace_delta(code);
            depth += d;
            opened |= o;
            i += 1;
            let end = code.trim_end();
            if (opened && depth <= 0) || (!opened && (end.ends_with(';') || end.ends_with(','))) {
                break;
            }
        }
    }
    gated
}

/// The lines of a source text that name a test hook outside a gated item (comments left
/// out), with the hook they name.
fn ungated_hook_uses(text: &str) -> Vec<(usize, &'static str)> {
    let gated = gated_lines(text);
    let mut out = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let code = line.split_once("//").map_or(line, |(code, _)| code);
        for hook in TEST_HOOKS {
            let named = code.match_indices(hook).any(|(at, _)| {
                let before = code[..at].chars().next_back();
                let after = code[at + hook.len()..].chars().next();
                !before.is_some_and(|c| c.is_alphanumeric() || c == '_')
                    && !after.is_some_and(|c| c.is_alphanumeric() || c == '_')
            });
            if named && !gated[n] {
                out.push((n + 1, *hook));
            }
        }
    }
    out
}

#[test]
fn test_hooks_stay_out_of_the_shipped_library() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let src = root.join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    files.sort();
    let mut wrong = Vec::new();
    let mut defined = BTreeSet::new();
    for file in &files {
        let text = std::fs::read_to_string(file).expect("read a source file");
        for hook in TEST_HOOKS {
            if text.contains(&format!("fn {hook}(")) || text.contains(&format!("enum {hook} ")) {
                defined.insert(*hook);
            }
        }
        for (line, hook) in ungated_hook_uses(&text) {
            wrong.push(format!(
                "src/{}:{line}: `{hook}` outside #[cfg(feature = \"test-hooks\")]",
                file.strip_prefix(&src).expect("under src").display()
            ));
        }
    }
    assert!(
        wrong.is_empty(),
        "test hooks in the shipped library:\n{}",
        wrong.join("\n")
    );
    // Not vacuous: every hook is still there (renamed hooks belong in TEST_HOOKS).
    let missing: Vec<_> = TEST_HOOKS
        .iter()
        .filter(|h| !defined.contains(*h))
        .collect();
    assert!(missing.is_empty(), "hooks no longer defined: {missing:?}");

    // Off by default; on for tests (the dev-dependency on the crate itself) and fuzzing.
    let manifest = std::fs::read_to_string(root.join("Cargo.toml")).expect("Cargo.toml");
    let default = manifest
        .lines()
        .find(|l| l.trim_start().starts_with("default ="))
        .unwrap_or("");
    assert!(
        !default.contains("test-hooks"),
        "test-hooks is a default feature: {default}"
    );
    assert!(manifest.contains("\ntest-hooks = []\n"));
    assert!(manifest.contains(r#"httplens = { path = ".", features = ["test-hooks"] }"#));
    let fuzz = std::fs::read_to_string(root.join("fuzz/Cargo.toml")).expect("fuzz/Cargo.toml");
    assert!(fuzz.contains(r#"httplens = { path = "..", features = ["test-hooks"] }"#));
}

#[test]
fn the_hook_scanner_sees_gated_items_only() {
    let text = r#"/// Doc.
#[cfg(feature = "test-hooks")]
#[derive(Debug)]
pub enum TokenFault {
    A,
}
struct Inner {
    #[cfg(feature = "test-hooks")]
    faults: Vec<TokenFault>,
    other: u8,
}
#[cfg(feature = "test-hooks")]
fn fault_response(f: TokenFault) -> String {
    match f {
        TokenFault::A => "{".to_string(),
    }
}
fn token() {
    #[cfg(feature = "test-hooks")]
    {
        let _ = fault_response(TokenFault::A);
    }
    let _ = fuzz_callback("", ""); // TokenFault in a comment
}
pub fn inject_token_fault(f: TokenFault) {}
"#;
    assert_eq!(
        ungated_hook_uses(text),
        [
            (23, "fuzz_callback"),
            (25, "TokenFault"),
            (25, "inject_token_fault")
        ]
    );
}
