//! Tests of the `.http` parser: fixture snapshots, tricky cases, properties (never
//! panics, ranges inside the input, lines tile the blocks), the real-world corpus, and
//! hostile input (random bytes, huge files, huge lines).

use httplens::syntax::*;
use httplens::text::{LineIndex, TextRange};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

// ---------------------------------------------------------------------------------
// A compact, readable rendering of the tree for snapshots.

fn render(text: &str, p: &Parse) -> String {
    let idx = LineIndex::new(text);
    let pos = |r: TextRange| {
        let a = idx.position(
            text,
            r.start as usize,
            httplens::text::PositionEncoding::Utf8,
        );
        let b = idx.position(text, r.end as usize, httplens::text::PositionEncoding::Utf8);
        format!(
            "{}:{}-{}:{}",
            a.line + 1,
            a.character,
            b.line + 1,
            b.character
        )
    };
    let mut o = String::new();
    for (i, b) in p.file.blocks.iter().enumerate() {
        let _ = write!(o, "block {i} [{}]", pos(b.range));
        if let Some(s) = &b.separator {
            let _ = write!(o, " ### {:?}", s.title.as_ref().map(|t| t.value.as_str()));
        }
        o.push('\n');
        for l in &b.lines {
            let _ = writeln!(
                o,
                "  {:>3} {:<18} {:?}",
                idx.line_of(l.range.start as usize) + 1,
                format!("{:?}", l.kind),
                l.range.slice(text)
            );
        }
        for m in &b.metadata {
            let _ = writeln!(
                o,
                "  meta @{} = {:?}",
                m.key.value,
                m.value.as_ref().map(|v| v.value.as_str())
            );
        }
        for v in &b.variables {
            let _ = writeln!(o, "  var @{} = {}", v.name.value, tpl(&v.value));
        }
        if let Some(r) = &b.request {
            let _ = writeln!(
                o,
                "  request [{}] method={:?} target={} version={:?}",
                pos(r.range),
                r.method.as_ref().map(|m| m.value.as_str()),
                tpl(&r.target),
                r.version.as_ref().map(|v| v.value.as_str())
            );
            for h in &r.headers {
                let _ = writeln!(o, "    header {:?}: {}", h.name.value, tpl(&h.value));
            }
            if let Some(body) = &r.body {
                let _ = writeln!(o, "    body [{}]", pos(body.range));
                for part in &body.parts {
                    match part {
                        BodyPart::Text(t) => {
                            let _ = writeln!(o, "      text {}", tpl(t));
                        }
                        BodyPart::File(f) => {
                            let _ = writeln!(
                                o,
                                "      file {} templated={} encoding={:?}",
                                tpl(&f.path),
                                f.templated,
                                f.encoding
                            );
                        }
                    }
                }
            }
            for h in &r.handlers {
                let _ = writeln!(o, "    handler {:?}", h.kind);
            }
            for a in &r.assertions {
                let _ = writeln!(
                    o,
                    "    assert {:?} {:?} {}",
                    a.target,
                    a.op,
                    a.expected.as_ref().map(tpl).unwrap_or_default()
                );
            }
            if let Some(out) = &r.output {
                let _ = writeln!(
                    o,
                    "    output {} overwrite={}",
                    tpl(&out.path),
                    out.overwrite
                );
            }
        }
    }
    for d in &p.errors {
        let _ = writeln!(
            o,
            "{:?} {} [{}] {:?}: {}",
            d.severity,
            d.code,
            pos(d.range),
            d.range.slice(text),
            d.message
        );
    }
    o
}

/// A template as `"text" {{var: Expr}}` pieces.
fn tpl(t: &Template) -> String {
    let mut s = String::new();
    for p in t.parts() {
        match p {
            TemplatePart::Text(x) => {
                let _ = write!(s, "{:?}", x.value);
            }
            TemplatePart::Var(v) => {
                let _ = write!(
                    s,
                    "{{{{{}{}: {:?}}}}}",
                    if v.encode { "%" } else { "" },
                    v.source,
                    v.expr
                );
            }
        }
    }
    if s.is_empty() { "\"\"".into() } else { s }
}

// ---------------------------------------------------------------------------------
// Invariants every parse must satisfy.

fn check_invariants(text: &str, p: &Parse) {
    let ok = |r: TextRange, what: &str| {
        assert!(
            r.start <= r.end
                && (r.end as usize) <= text.len()
                && text.is_char_boundary(r.start as usize)
                && text.is_char_boundary(r.end as usize),
            "{what} range {r:?} is not inside the text (len {}) on char boundaries",
            text.len()
        );
    };
    // `verbatim`: text parts are slices of the text (not so for a curl command's words,
    // read through quotes and escapes; their ranges still lie on the text's bounds).
    let tpl_ok = |t: &Template, what: &str, verbatim: bool| {
        ok(t.range, what);
        for part in t.parts() {
            match part {
                TemplatePart::Text(x) => {
                    ok(x.range, what);
                    if verbatim {
                        assert_eq!(x.range.slice(text), x.value, "{what} text part");
                    }
                }
                TemplatePart::Var(v) => {
                    ok(v.range, what);
                    ok(v.expr_range, what);
                    assert!(v.range.start <= v.expr_range.start && v.expr_range.end <= v.range.end);
                    if let VarExpr::Invalid(m) = &v.expr {
                        fragment(m);
                    }
                }
            }
        }
    };
    assert_eq!(p.file.range, TextRange::new(0, text.len()));
    let mut prev_line_end: Option<usize> = None;
    let mut prev_block_end = 0usize;
    for b in &p.file.blocks {
        ok(b.range, "block");
        assert!(
            b.range.start as usize >= prev_block_end,
            "blocks overlap or go back"
        );
        prev_block_end = b.range.end as usize;
        assert!(!b.lines.is_empty(), "a block without lines");
        for l in &b.lines {
            ok(l.range, "line");
            assert!(
                b.range.start <= l.range.start && l.range.end <= b.range.end,
                "line outside its block"
            );
            let s = l.range.slice(text);
            assert!(!s.contains('\n'), "a line holds a newline");
            if let Some(e) = prev_line_end {
                // Lines are consecutive: only a terminator between them.
                let gap = &text[e..l.range.start as usize];
                assert!(gap == "\n" || gap == "\r\n", "gap {gap:?} between lines");
            } else {
                assert_eq!(l.range.start, 0, "the first line starts the text");
            }
            prev_line_end = Some(l.range.end as usize);
        }
        for m in &b.metadata {
            ok(m.range, "meta");
            ok(m.key.range, "meta key");
            assert_eq!(m.key.range.slice(text), m.key.value);
            if let Some(v) = &m.value {
                ok(v.range, "meta value");
                assert_eq!(v.range.slice(text), v.value);
            }
        }
        for v in &b.variables {
            ok(v.range, "var");
            assert_eq!(v.name.range.slice(text), v.name.value);
            tpl_ok(&v.value, "var value", true);
        }
        if let Some(r) = &b.request {
            ok(r.range, "request");
            ok(r.line_range, "request line");
            // A curl command's method and header names come from its options.
            if let Some(m) = &r.method
                && !r.curl
            {
                assert_eq!(m.range.slice(text), m.value);
            }
            if let Some(v) = &r.version {
                assert_eq!(v.range.slice(text), v.value);
            }
            tpl_ok(&r.target, "target", !r.curl);
            for h in &r.headers {
                ok(h.range, "header");
                ok(h.name.range, "header name");
                if !r.curl {
                    assert_eq!(h.name.range.slice(text), h.name.value);
                }
                tpl_ok(&h.value, "header value", !r.curl);
            }
            if let Some(body) = &r.body {
                ok(body.range, "body");
                for part in &body.parts {
                    match part {
                        BodyPart::Text(t) => tpl_ok(t, "body text", !r.curl),
                        BodyPart::File(f) => {
                            ok(f.range, "file");
                            tpl_ok(&f.path, "file path", !r.curl);
                        }
                    }
                }
            }
            for h in &r.handlers {
                ok(h.range, "handler");
            }
            for a in &r.assertions {
                ok(a.range, "assertion");
                if let Some(e) = &a.expected {
                    tpl_ok(e, "assertion value", true);
                }
            }
            if let Some(out) = &r.output {
                ok(out.range, "output");
                tpl_ok(&out.path, "output path", true);
            }
        }
    }
    for d in &p.errors {
        ok(d.range, "diagnostic");
        fragment(&d.message);
    }
}

/// A message is a fragment: not empty, no closing period (the renderer and the front
/// ends present it; nobody strips a period later).
fn fragment(message: &str) {
    assert!(
        !message.is_empty() && !message.ends_with('.') && message.trim_end() == message,
        "{message:?}"
    );
}

/// For `.http` input the lines are exactly the editor's lines and the blocks tile the text.
/// Words a pasted curl command is made of: options, quoted values with escapes,
/// `$'...'` strings, `{{variables}}`, non-ASCII text.
fn curl_word() -> impl proptest::strategy::Strategy<Value = String> {
    use proptest::strategy::Just;
    proptest::prop_oneof![
        Just("-X".to_string()),
        Just("-H".to_string()),
        Just("-d".to_string()),
        Just("-F".to_string()),
        Just("-u".to_string()),
        Just("-G".to_string()),
        Just("--json".to_string()),
        Just("--data-urlencode".to_string()),
        Just("https://h/{{id}}".to_string()),
        "'[^']{0,8}'",
        "\"([^\"\\\\]|\\\\[\"\\\\$n]){0,8}\"",
        "\\$'([^'\\\\]|\\\\[nt'\\\\é]){0,6}'",
        "[a-zé=@:\\{\\}]{1,8}",
        Just("\"X-é: {{v}}\"".to_string()),
        // Shell syntax a pasted command goes on with, and what it ends.
        Just("|".to_string()),
        Just("2>".to_string()),
        Just("--oauth2-bearer".to_string()),
        "[a-z>]{1,4};",
    ]
}

fn check_http_invariants(text: &str, p: &Parse) {
    check_invariants(text, p);
    let idx = LineIndex::new(text);
    let n: usize = p.file.blocks.iter().map(|b| b.lines.len()).sum();
    assert_eq!(n, idx.line_count(), "every line in exactly one Line");
    let mut at = 0usize;
    for b in &p.file.blocks {
        assert_eq!(b.range.start as usize, at, "blocks tile the text");
        at = b.range.end as usize;
    }
    assert_eq!(at, text.len(), "the last block ends the text");
}

fn parse_checked(text: &str) -> Parse {
    let p = parse(text);
    check_http_invariants(text, &p);
    p
}

// ---------------------------------------------------------------------------------
// Fixture snapshots.

fn fixtures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/syntax")
}

#[test]
fn fixtures() {
    let dir = fixtures_dir();
    let mut names: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
        .map(|e| e.expect("dir entry").path())
        .filter(|p| matches!(p.extension().and_then(|e| e.to_str()), Some("http" | "md")))
        .collect();
    names.sort();
    assert!(names.len() >= 8, "fixtures missing in {}", dir.display());
    for path in names {
        let text = std::fs::read_to_string(&path).expect("fixture is UTF-8");
        let p = parse_path(&path, &text);
        if path.extension().is_some_and(|e| e == "md") {
            check_invariants(&text, &p);
        } else {
            check_http_invariants(&text, &p);
        }
        let name = path.file_stem().unwrap().to_string_lossy().to_string();
        let mut settings = insta::Settings::clone_current();
        settings.set_snapshot_path("snapshots");
        settings.set_prepend_module_to_snapshot(false);
        settings.set_input_file(&path);
        settings.bind(|| insta::assert_snapshot!(name, render(&text, &p)));
    }
}

// ---------------------------------------------------------------------------------
// Tricky cases.

fn only_request(text: &str) -> Request {
    let p = parse_checked(text);
    let reqs: Vec<_> = p
        .file
        .blocks
        .iter()
        .filter_map(|b| b.request.clone())
        .collect();
    assert_eq!(reqs.len(), 1, "one request in {text:?}");
    reqs.into_iter().next().unwrap()
}

fn kinds(p: &Parse) -> Vec<LineKind> {
    p.file
        .blocks
        .iter()
        .flat_map(|b| b.lines.iter().map(|l| l.kind))
        .collect()
}

fn errors(p: &Parse) -> Vec<&Diagnostic> {
    p.errors
        .iter()
        .filter(|d| d.severity == Severity::Error)
        .collect()
}

fn body_text(r: &Request) -> String {
    r.body
        .as_ref()
        .map(|b| {
            b.parts
                .iter()
                .map(|p| match p {
                    BodyPart::Text(t) => t.as_written(),
                    BodyPart::File(f) => format!("<FILE {}>", f.path.as_written()),
                })
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn method_less_targets() {
    for (line, target) in [
        ("https://example.com/a/b", "https://example.com/a/b"),
        ("/path?x=1", "/path?x=1"),
        ("{{host}}/path", "{{host}}/path"),
        ("localhost:8080/x HTTP/1.1", "localhost:8080/x"),
        ("{{baseUrl}}", "{{baseUrl}}"),
    ] {
        let r = only_request(line);
        assert!(r.method.is_none(), "{line}");
        assert_eq!(r.method_name(), "GET");
        assert_eq!(r.target.as_written(), target, "{line}");
    }
}

#[test]
fn any_token_is_a_method() {
    for m in [
        "GRAPHQL",
        "PROPFIND",
        "MKCOL",
        "VERSION-CONTROL",
        "QUERY",
        "patch",
    ] {
        let r = only_request(&format!("{m} /x HTTP/2\nA: b"));
        assert_eq!(r.method.as_ref().unwrap().value, m);
        assert_eq!(r.target.as_written(), "/x");
        assert_eq!(r.version.as_ref().unwrap().value, "HTTP/2");
        assert_eq!(r.headers.len(), 1);
    }
    // Two spaces between method and target, trailing space after the target.
    let r = only_request("DELETE  http://x/1 ");
    assert_eq!(r.method.unwrap().value, "DELETE");
    assert_eq!(r.target.as_written(), "http://x/1");
}

#[test]
fn crlf_line_ranges_and_body_terminators() {
    let text =
        "POST /a\r\nContent-Type: text/plain\r\n\r\nline1\r\nline2\r\n\r\n\r\n###\r\nGET /b\r\n";
    let p = parse_checked(text);
    for b in &p.file.blocks {
        for l in &b.lines {
            assert!(
                !l.range.slice(text).contains('\r'),
                "{:?}",
                l.range.slice(text)
            );
        }
    }
    let r = p.file.blocks[0].request.clone().unwrap();
    assert_eq!(
        r.header("content-type").unwrap().value.as_written(),
        "text/plain"
    );
    assert_eq!(body_text(&r), "line1\r\nline2");
    assert_eq!(
        p.file.blocks[1]
            .request
            .as_ref()
            .unwrap()
            .target
            .as_written(),
        "/b"
    );
    assert!(errors(&p).is_empty());
}

#[test]
fn non_ascii_text() {
    let text = "### 注文 😀\nPOST /café?q=中文\nX-Name: Ünïcødé 😀\n\n{\"名前\": \"{{ name }}\", \"e\": \"😀\"}\n";
    let p = parse_checked(text);
    let b = &p.file.blocks[0];
    assert_eq!(b.title(), Some("注文 😀"));
    let r = b.request.as_ref().unwrap();
    assert_eq!(r.target.as_written(), "/café?q=中文");
    assert_eq!(r.headers[0].value.as_written(), "Ünïcødé 😀");
    assert_eq!(body_text(r), "{\"名前\": \"{{name}}\", \"e\": \"😀\"}");
    let v = r.body.as_ref().unwrap().parts.iter().find_map(|p| match p {
        BodyPart::Text(t) => t.vars().next(),
        _ => None,
    });
    assert_eq!(v.unwrap().range.slice(text), "{{ name }}");
}

#[test]
fn separators_at_start_and_end() {
    let text = "###\n\n### first\nGET /a\n\n###\n###";
    let p = parse_checked(text);
    assert_eq!(p.file.blocks.len(), 4);
    assert!(p.file.blocks[0].separator.is_some());
    assert_eq!(p.file.blocks[1].title(), Some("first"));
    assert!(p.file.blocks[1].request.is_some());
    assert!(p.file.blocks[2].request.is_none());
    assert!(p.file.blocks[3].request.is_none());
    // No separator at all, and the empty file.
    assert_eq!(parse_checked("GET /x").file.blocks.len(), 1);
    let empty = parse_checked("");
    assert_eq!(empty.file.blocks.len(), 1);
    assert!(empty.file.blocks[0].request.is_none());
    // `###title` without a space, and banner lines of many #.
    let p = parse_checked("###mutation\nGRAPHQL /g\n\n########## banner ####\n");
    assert_eq!(p.file.blocks[0].title(), Some("mutation"));
    assert_eq!(p.file.blocks[1].title(), Some("banner ####"));
}

#[test]
fn body_lines_that_look_like_other_syntax() {
    let text = "POST /a\n\n@notavar = 1\n# not a comment\n// nor this\n  indented\n\n\n###\nGET /b";
    let p = parse_checked(text);
    let b = &p.file.blocks[0];
    assert!(b.variables.is_empty());
    assert!(b.metadata.is_empty());
    let r = b.request.as_ref().unwrap();
    assert_eq!(
        body_text(r),
        "@notavar = 1\n# not a comment\n// nor this\n  indented"
    );
    // Trailing blank lines are trimmed and classified Blank.
    assert_eq!(b.lines[b.lines.len() - 1].kind, LineKind::Blank);
    assert_eq!(b.lines[b.lines.len() - 2].kind, LineKind::Blank);
}

#[test]
fn shared_block_and_request_variables() {
    let text = "@host = example.com\n@port=8080\n# @name ignored-here\n\n###\n# @name login\n@user = {{ name }}\nPOST https://{{host}}:{{port}}/login\n@after = x\nAccept: */*\n";
    let p = parse_checked(text);
    let shared = &p.file.blocks[0];
    assert!(shared.request.is_none());
    let names: Vec<_> = shared
        .variables
        .iter()
        .map(|v| v.name.value.as_str())
        .collect();
    assert_eq!(names, ["host", "port"]);
    assert_eq!(shared.variables[1].value.as_written(), "8080");
    let b = &p.file.blocks[1];
    assert_eq!(b.request_name(), Some("login"));
    let names: Vec<_> = b.variables.iter().map(|v| v.name.value.as_str()).collect();
    assert_eq!(names, ["user", "after"]);
    assert_eq!(b.request.as_ref().unwrap().headers.len(), 1);
}

#[test]
fn metadata_forms() {
    let text = "# @name  first\n// @no-log\n# @timeout = 5 s\n#@prompt password Your password\n# @ref other\n# @sleep 5\nGET /x\n";
    let p = parse_checked(text);
    let b = &p.file.blocks[0];
    let m: Vec<_> = b
        .metadata
        .iter()
        .map(|m| {
            (
                m.key.value.as_str(),
                m.value.as_ref().map(|v| v.value.as_str()),
            )
        })
        .collect();
    assert_eq!(
        m,
        [
            ("name", Some("first")),
            ("no-log", None),
            ("timeout", Some("5 s")),
            ("prompt", Some("password Your password")),
            ("ref", Some("other")),
            ("sleep", Some("5"))
        ]
    );
    let hints: Vec<_> = p
        .errors
        .iter()
        .filter(|d| d.code == "unknown-metadata")
        .collect();
    assert_eq!(hints.len(), 1);
    assert_eq!(hints[0].severity, Severity::Hint);
    assert_eq!(hints[0].range.slice(text), "sleep");
    let refs: Vec<(&str, &str)> = b.refs().map(|(n, r)| (n, r.slice(text))).collect();
    assert_eq!(refs, [("other", "other")]);
}

#[test]
fn multipart_with_file_parts() {
    let text = "POST /upload\nContent-Type: multipart/form-data; boundary=B\n\n--B\nContent-Disposition: form-data; name=\"f\"; filename=\"a.png\"\n\n< ./a.png\n--B\nContent-Disposition: form-data; name=\"t\"\n\n<@latin1 ./{{name}}.txt\n<@./raw.txt\n--B--\n";
    let r = only_request(text);
    let body = r.body.as_ref().unwrap();
    let files: Vec<_> = body
        .parts
        .iter()
        .filter_map(|p| match p {
            BodyPart::File(f) => Some(f),
            _ => None,
        })
        .collect();
    assert_eq!(files.len(), 3);
    assert!(!files[0].templated);
    assert_eq!(files[0].path.as_written(), "./a.png");
    assert!(files[1].templated);
    assert_eq!(files[1].encoding.as_deref(), Some("latin1"));
    assert_eq!(files[1].path.vars().count(), 1);
    assert_eq!(files[2].path.as_written(), "./raw.txt");
    assert_eq!(files[2].encoding, None);
    // Parts concatenated with the files in place give the body as written.
    assert_eq!(
        body_text(&r),
        "--B\nContent-Disposition: form-data; name=\"f\"; filename=\"a.png\"\n\n<FILE ./a.png>\n--B\nContent-Disposition: form-data; name=\"t\"\n\n<FILE ./{{name}}.txt>\n<FILE ./raw.txt>\n--B--"
    );
    // An XML body line is not a file reference.
    let r = only_request("POST /soap\n\n<?xml version=\"1.0\"?>\n<root/>");
    assert_eq!(body_text(&r), "<?xml version=\"1.0\"?>\n<root/>");
}

#[test]
fn form_body_and_query_continuations() {
    let text = "POST https://x/token\n    ?a=1\n    &b={{b}}\nContent-Type: application/x-www-form-urlencoded\n\nuser=a\n&password={{pw}}\n&grant_type=password\n";
    let r = only_request(text);
    assert_eq!(r.target.as_written(), "https://x/token?a=1&b={{b}}");
    assert_eq!(r.headers.len(), 1);
    assert_eq!(
        body_text(&r),
        "user=a\n&password={{pw}}\n&grant_type=password"
    );
    let r = only_request("GET /search\n?q=rust\n&page=2\n");
    assert_eq!(r.target.as_written(), "/search?q=rust&page=2");
}

#[test]
fn handlers_assertions_output() {
    let text = "GET /x\n\n> {% client.global.set(\"a\", 1); %}\n> {%\n  client.test(\"ok\", () => {});\n%}\n> ./check.js\n?? status == 200\n?? header content-type includes json\n?? body $.id exists\n?? body contains hello world\n?? duration < 500\n?? js response.parsedBody.x == 1\n>>! ./out/{{name}}.json\n";
    let p = parse_checked(text);
    let r = p.file.blocks[0].request.as_ref().unwrap();
    assert!(r.body.is_none());
    assert_eq!(r.handlers.len(), 3);
    assert_eq!(
        r.handlers[0].kind,
        HandlerKind::Script(" client.global.set(\"a\", 1); ".into())
    );
    assert_eq!(
        r.handlers[1].kind,
        HandlerKind::Script("\n  client.test(\"ok\", () => {});\n".into())
    );
    assert_eq!(r.handlers[2].kind, HandlerKind::File("./check.js".into()));
    let a: Vec<_> = r
        .assertions
        .iter()
        .map(|a| {
            (
                a.target.clone(),
                a.op,
                a.expected.as_ref().map(|e| e.as_written()),
            )
        })
        .collect();
    assert_eq!(
        a,
        [
            (AssertTarget::Status, AssertOp::Eq, Some("200".into())),
            (
                AssertTarget::Header("content-type".into()),
                AssertOp::Includes,
                Some("json".into())
            ),
            (
                AssertTarget::Body(Some("$.id".into())),
                AssertOp::Exists,
                None
            ),
            (
                AssertTarget::Body(None),
                AssertOp::Includes,
                Some("hello world".into())
            ),
            (AssertTarget::Duration, AssertOp::Lt, Some("500".into())),
        ]
    );
    let out = r.output.as_ref().unwrap();
    assert!(out.overwrite);
    assert_eq!(out.path.as_written(), "./out/{{name}}.json");
    assert!(errors(&p).is_empty(), "{:?}", p.errors);
    assert!(p.errors.iter().any(|d| d.code == "unsupported-assertion"));
    // The request ends with its last item.
    assert!(r.range.slice(text).ends_with(".json"));
}

#[test]
fn bad_assertions_are_errors_at_their_range() {
    for bad in [
        "?? status",
        "?? status ~= 3",
        "?? header",
        "?? colour == red",
        "?? body $.a exists 3",
        "?? schema == 1",
        "??",
    ] {
        let text = format!("GET /x\n{bad}\n");
        let p = parse_checked(&text);
        let e = errors(&p);
        assert_eq!(e.len(), 1, "{bad}: {:?}", p.errors);
        assert_eq!(e[0].range.slice(&text), bad);
    }
}

#[test]
fn schema_assertion_takes_no_operator() {
    let text = "GET /x\n\n??  Schema \n";
    let p = parse_checked(text);
    assert!(errors(&p).is_empty(), "{:?}", p.errors);
    let r = p.file.blocks[0].request.as_ref().unwrap();
    assert_eq!(r.assertions.len(), 1);
    assert_eq!(r.assertions[0].target, AssertTarget::Schema);
    assert_eq!(r.assertions[0].op, AssertOp::Conforms);
    assert!(r.assertions[0].expected.is_none());
}

#[test]
fn unterminated_and_invalid_templates() {
    let text = "GET /a/{{id\nX: {{ }}\nY: {{$auth.token(kc)}}\n";
    let p = parse_checked(text);
    let e = errors(&p);
    assert_eq!(e.len(), 3, "{:?}", p.errors);
    assert_eq!(e[0].range.slice(text), "{{");
    assert_eq!(e[1].range.slice(text), "{{ }}");
    assert_eq!(e[2].range.slice(text), "{{$auth.token(kc)}}");
    let r = p.file.blocks[0].request.as_ref().unwrap();
    assert_eq!(r.target.as_written(), "/a/{{id");
    assert!(r.target.is_literal());
}

#[test]
fn unterminated_script_is_an_error() {
    let text = "GET /x\n\n> {%\n client.log(1)\n###\nGET /y\n";
    let p = parse_checked(text);
    assert_eq!(errors(&p).len(), 1);
    assert!(p.file.blocks[1].request.is_some());
}

#[test]
fn jetbrains_pre_request_scripts_and_response_references() {
    let text = "###\n< {%\n  request.variables.set(\"a\", \"1\")\n%}\nGET /x\n\n> {% client.test(\"t\", () => {}) %}\n<> 2024-01-01T000000.200.json\n";
    let p = parse_checked(text);
    assert!(errors(&p).is_empty(), "{:?}", p.errors);
    let r = p.file.blocks[0].request.as_ref().unwrap();
    assert_eq!(r.target.as_written(), "/x");
    // The pre-request script joins the request's handlers, marked as such.
    assert_eq!(r.handlers.len(), 2);
    assert!(r.handlers[0].pre && !r.handlers[1].pre);
    assert!(
        matches!(&r.handlers[0].kind, HandlerKind::Script(s) if s.contains("request.variables.set"))
    );
    assert_eq!(
        kinds(&p),
        [
            LineKind::Separator,
            LineKind::Handler,
            LineKind::Handler,
            LineKind::Handler,
            LineKind::RequestLine,
            LineKind::Blank,
            LineKind::Handler,
            LineKind::Comment,
            LineKind::Blank
        ]
    );
}

#[test]
fn requests_without_separator_after_assertions() {
    let text = "GET http://x/a\n?? status == 200\n\n# next\nPOST http://x/b\n\n{}";
    let p = parse_checked(text);
    let reqs: Vec<_> = p
        .file
        .blocks
        .iter()
        .filter_map(|b| b.request.as_ref())
        .collect();
    assert_eq!(reqs.len(), 2);
    assert_eq!(body_text(reqs[1]), "{}");
}

#[test]
fn json_body_right_after_headers() {
    let r = only_request("POST /x\nContent-Type: application/json\n{\n  \"a\": 1\n}\n###\n");
    assert_eq!(r.headers.len(), 1);
    assert_eq!(body_text(&r), "{\n  \"a\": 1\n}");
}

#[test]
fn markdown_fences() {
    let text = "# API\n\nSome text GET /not-a-request\n\n```http\nGET https://x/a\n```\n\n```json\n{\"GET\": 1}\n```\n\n~~~rest\n@v = 1\n###\nPOST /b\n\nbody\n~~~\ntail\n";
    let p = parse_markdown(text);
    check_invariants(text, &p);
    let reqs: Vec<_> = p
        .file
        .blocks
        .iter()
        .filter_map(|b| b.request.as_ref())
        .collect();
    assert_eq!(reqs.len(), 2);
    assert_eq!(reqs[0].target.as_written(), "https://x/a");
    assert_eq!(body_text(reqs[1]), "body");
    assert!(p.file.blocks.iter().any(|b| b.variables.len() == 1));
    // Offsets are the document's.
    assert_eq!(reqs[0].line_range.slice(text), "GET https://x/a");
    for b in &p.file.blocks {
        let md = b.lines.iter().all(|l| l.kind == LineKind::Markdown);
        let http = b.lines.iter().all(|l| l.kind != LineKind::Markdown);
        assert!(md || http, "a block mixes Markdown and http lines");
    }
    // An unterminated fence runs to the end.
    let p = parse_markdown("```http\nGET /x");
    assert_eq!(
        p.file.blocks.iter().filter(|b| b.request.is_some()).count(),
        1
    );
    assert!(
        parse_path(Path::new("README.md"), "GET /x")
            .file
            .blocks
            .iter()
            .all(|b| b.request.is_none())
    );
}

#[test]
fn bom_is_skipped() {
    let text = "\u{feff}### t\nGET /x";
    let p = parse_checked(text);
    assert_eq!(p.file.blocks[0].title(), Some("t"));
}

// ---------------------------------------------------------------------------------
// Properties.

mod props {
    use super::*;
    use proptest::prelude::*;

    /// Strings built from `.http` fragments, so the parser's interesting paths are hit.
    fn http_like() -> impl Strategy<Value = String> {
        let piece = prop_oneof![
            Just("###".to_string()),
            Just("### t".to_string()),
            Just("GET /x".to_string()),
            Just("POST {{host}}/a HTTP/1.1".to_string()),
            Just("A: b".to_string()),
            Just("".to_string()),
            Just("\r".to_string()),
            Just("# @name n".to_string()),
            Just("@v = {{x}}".to_string()),
            Just("> {%".to_string()),
            Just("%}".to_string()),
            Just("< ./f".to_string()),
            Just("<@enc ./f".to_string()),
            Just("?? status == 2".to_string()),
            Just("?? body".to_string()),
            Just(">>! o".to_string()),
            Just("  &q=1".to_string()),
            Just("{{".to_string()),
            Just("}}".to_string()),
            Just("{{$auth.token(\"a\")}}".to_string()),
            Just("```http".to_string()),
            Just("```".to_string()),
            Just("é😀".to_string()),
            "\\PC{0,12}",
        ];
        prop::collection::vec((piece, prop::bool::ANY), 0..40).prop_map(|v| {
            let mut s = String::new();
            for (p, nl) in v {
                s.push_str(&p);
                if nl {
                    s.push('\n');
                }
            }
            s
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        #[test]
        fn arbitrary_strings(s in "\\PC*") {
            let p = parse(&s);
            check_http_invariants(&s, &p);
            check_invariants(&s, &parse_markdown(&s));
        }

        #[test]
        fn http_like_strings(s in http_like()) {
            let p = parse(&s);
            check_http_invariants(&s, &p);
            check_invariants(&s, &parse_markdown(&s));
        }

        /// curl request lines of quoted, escaped and non-ASCII words: the tree keeps
        /// its invariants (every template and diagnostic range on the text's character
        /// boundaries) however the words map onto the source.
        #[test]
        fn curl_request_lines(words in prop::collection::vec(curl_word(), 0..8), tail in "\\PC{0,6}") {
            let s = format!("### c\ncurl {} \\\n  {tail}\n\n?? status == 200\n", words.join(" "));
            let p = parse(&s);
            check_http_invariants(&s, &p);
        }

        #[test]
        fn mutated_corpus_files(file in 0usize..1000, ops in prop::collection::vec((0usize..100_000, 0u8..4, "\\PC{0,4}"), 1..8)) {
            let files = corpus_files();
            let path = &files[file % files.len()];
            let mut s = std::fs::read_to_string(path).unwrap_or_default();
            for (at, op, ins) in ops {
                let mut at = at % (s.len() + 1);
                while !s.is_char_boundary(at) { at -= 1; }
                match op {
                    0 => s.insert_str(at, &ins),
                    1 => { let end = s[at..].char_indices().nth(3).map(|(i, _)| at + i).unwrap_or(s.len()); s.replace_range(at..end, ""); }
                    2 => s.insert(at, '\n'),
                    _ => s.insert_str(at, "\r\n###\r\n"),
                }
            }
            let p = parse(&s);
            check_http_invariants(&s, &p);
        }
    }
}

// ---------------------------------------------------------------------------------
// The real-world corpus.

/// `../shared/corpus/http` beside the repository, as the rest of the suite finds it.
fn corpus_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus/http")
}

fn corpus_files() -> Vec<PathBuf> {
    let dir = corpus_dir();
    let mut out = Vec::new();
    let rd = std::fs::read_dir(&dir).unwrap_or_else(|e| {
        panic!(
            "the corpus folder {} is missing ({e}); it is needed for these tests",
            dir.display()
        )
    });
    for e in rd {
        let p = e.expect("dir entry").path();
        if p.is_dir() {
            for f in std::fs::read_dir(&p).expect("corpus subfolder") {
                let f = f.expect("dir entry").path();
                if matches!(
                    f.extension().and_then(|e| e.to_str()),
                    Some("http" | "rest")
                ) {
                    out.push(f);
                }
            }
        }
    }
    out.sort();
    assert!(out.len() >= 50, "only {} corpus files found", out.len());
    out
}

/// Files that use syntax outside `docs/syntax.md`, with the reason; their Error
/// diagnostics are expected.
const CORPUS_EXCEPTIONS: &[(&str, &str)] = &[
    (
        "003-astorDev-yac/spacex.http",
        "httpyac JavaScript expression `{{ doc.cores[0].core }}` (with @loop)",
    ),
    (
        "008-S-alireza-alavi-JWTAuthentication-HTTPYacTests/JWT.http",
        "`---` divider lines after assertions instead of `###`",
    ),
    (
        "015-AnWeber-httpyac/restClient.http",
        "a deliberately malformed `{{$timestamp]}}` in httpyac's own test file",
    ),
    (
        "040-mistweaverco-kulala-core/shared.http",
        "kulala array expansion `{{users[*].name}}`",
    ),
];

#[test]
fn corpus_parses_without_syntax_errors() {
    let mut failures = Vec::new();
    for path in corpus_files() {
        let text = std::fs::read_to_string(&path).expect("corpus file is UTF-8");
        // (How long it takes is a benchmark: `cargo bench --bench parse`, "corpus".)
        let p = parse(&text);
        check_http_invariants(&text, &p);
        let rel = path
            .strip_prefix(corpus_dir())
            .unwrap()
            .to_string_lossy()
            .to_string();
        if CORPUS_EXCEPTIONS.iter().any(|(f, _)| *f == rel) {
            continue;
        }
        let idx = LineIndex::new(&text);
        for d in p.errors.iter().filter(|d| d.severity == Severity::Error) {
            failures.push(format!(
                "{rel}:{}: {} ({:?})",
                idx.line_of(d.range.start as usize) + 1,
                d.message,
                d.range.slice(&text)
            ));
        }
        assert!(
            p.file.blocks.iter().any(|b| b.request.is_some()) || rel.starts_with("065-"),
            "{rel}: no request found"
        );
    }
    assert!(
        failures.is_empty(),
        "syntax errors in the corpus:\n{}",
        failures.join("\n")
    );
}

// ---------------------------------------------------------------------------------
// Hostile input.

#[test]
fn random_bytes_lossy() {
    let mut state = 0x2545_f491_4f6c_dd1du64;
    for round in 0..200 {
        let len = (round * 37) % 4000;
        let bytes: Vec<u8> = (0..len)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                // Bias towards the bytes the parser cares about.
                let b = (state >> 24) as u8;
                match b % 8 {
                    0 => b'\n',
                    1 => b"#{}%<>?@ \r"[(b as usize / 8) % 10],
                    _ => b,
                }
            })
            .collect();
        let s = String::from_utf8_lossy(&bytes);
        check_http_invariants(&s, &parse(&s));
        check_invariants(&s, &parse_markdown(&s));
    }
}

/// Requests with headers, variables and JSON bodies of `body_lines` lines each.
fn generated_file(target_len: usize, body_lines: usize) -> String {
    let mut s = String::with_capacity(target_len + 1024);
    let mut i = 0;
    while s.len() < target_len {
        let _ = write!(
            s,
            "### request {i}\n# @name r{i}\n@id = {i}\nPOST https://{{{{host}}}}/items/{{{{id}}}}?page={i}\nContent-Type: application/json\nAuthorization: Bearer {{{{token}}}}\n\n{{\n  \"id\": {i},\n"
        );
        for j in 0..body_lines {
            let _ = writeln!(s, "  \"field{j}\": \"value {j} and some text\",");
        }
        s.push_str("  \"tags\": [\"a\", \"b\"]\n}\n\n?? status == 200\n\n");
        i += 1;
    }
    s
}

#[test]
fn fifty_megabytes_in_linear_time() {
    // Big bodies keep the tree (and the memory it needs) modest.
    let small = generated_file(5_000_000, 200);
    let big = generated_file(50_000_000, 200);
    // The best of a few runs: the machine is shared, timings are noisy.
    let t_small = (0..3)
        .map(|_| {
            let t0 = Instant::now();
            let p = parse(&small);
            let took = t0.elapsed();
            assert!(p.errors.is_empty());
            took
        })
        .min()
        .unwrap();
    let t0 = Instant::now();
    let p = parse(&big);
    let t_big = t0.elapsed();
    let n = p.file.blocks.iter().filter(|b| b.request.is_some()).count();
    assert!(n > 4_000, "{n} requests");
    // 10x the input: linear is ~10x the time, quadratic ~100x. Allow noise, not that.
    let ratio = t_big.as_secs_f64() / t_small.as_secs_f64().max(1e-4);
    assert!(
        ratio < 40.0,
        "5 MB: {t_small:?}, 50 MB: {t_big:?} (ratio {ratio:.0})"
    );
}

#[test]
fn two_megabyte_single_lines() {
    let cases = [
        "a".repeat(2_000_000),
        "{{".repeat(1_000_000),
        format!("GET /{}", "{{x}}".repeat(400_000)),
        format!("POST /x\n\n{}", "{".repeat(2_000_000)),
        "#".repeat(2_000_000),
        format!("?? body {}", "x ".repeat(1_000_000)),
        format!("GET /x\n\n> {{%{}", " ".repeat(2_000_000)),
    ];
    for s in &cases {
        let t0 = Instant::now();
        let p = parse(s);
        let took = t0.elapsed();
        check_http_invariants(s, &p);
        assert!(
            took < Duration::from_secs(10),
            "took {took:?} for {:?}...",
            &s[..20]
        );
        assert!(p.errors.len() < 10, "{} diagnostics", p.errors.len());
    }
}

/// A big file is parsed in two halves at once (`syntax::parse`): the joined result must
/// be exactly the one-pass tree, wherever the split falls (in bodies, scripts left
/// open, CRLF files, Markdown-free corpus files of every client).
#[test]
fn parsing_in_two_halves_gives_the_one_pass_tree() {
    let mut base = String::new();
    for f in corpus_files() {
        base.push_str(&std::fs::read_to_string(&f).unwrap_or_default());
        base.push('\n');
    }
    // States that could leak over a split: an open script, a body, CRLF lines.
    base.push_str("### open\nPOST /x\n> {%\n  client.log(1)\n");
    base.push_str("### crlf\r\nPOST /y\r\nA: b\r\n\r\n{\"a\": \"{{x}}\"}\r\n");
    let mut big = String::new();
    while big.len() < 600 * 1024 {
        big.push_str(&base);
    }
    for pad in 0..12 {
        let text = format!("{}{big}", "# pad\n".repeat(pad * 997));
        let two = parse(&text);
        let one = httplens::syntax::parse_one_pass(&text);
        assert_eq!(two.file.blocks.len(), one.file.blocks.len(), "pad {pad}");
        assert!(two == one, "pad {pad}: the two-half tree differs");
        check_invariants(&text, &two);
    }
}

#[test]
fn a_prompt_without_a_name_is_a_warning_at_the_key() {
    let text = "### a\n# @prompt\n# @prompt who the user\nGET http://127.0.0.1/{{who}}\n";
    let p = httplens::syntax::parse(text);
    let d: Vec<(&str, &str)> = p
        .errors
        .iter()
        .map(|d| (d.code, d.range.slice(text)))
        .collect();
    assert_eq!(d, [("prompt-without-name", "prompt")]);
    let prompts: Vec<(&str, &str)> = p.file.blocks[0].prompts().collect();
    assert_eq!(prompts, [("who", "the user")]);
}

#[test]
fn jetbrains_response_references_end_the_body_and_are_kept_as_comments() {
    let text = "POST http://h/x\nContent-Type: application/json\n\n{\"a\":1}\n\n<> 2020-12-10T113429.200.json\n<> 2020-12-10T113000.200.json\n\n###\nGET http://h/y\n\n<> 2020-12-10T113324.200.json\n";
    let p = parse_checked(text);
    let reqs: Vec<&Request> = p
        .file
        .blocks
        .iter()
        .filter_map(|b| b.request.as_ref())
        .collect();
    let parts = &reqs[0].body.as_ref().expect("the POST body").parts;
    let [BodyPart::Text(t)] = &parts[..] else {
        panic!("{parts:?}")
    };
    assert_eq!(t.text(), "{\"a\":1}");
    assert!(reqs[1].body.is_none(), "the GET has no body");
    let refs = p
        .file
        .blocks
        .iter()
        .flat_map(|b| b.lines.iter())
        .filter(|l| l.kind == LineKind::Comment && l.range.slice(text).starts_with("<>"))
        .count();
    assert_eq!(refs, 3);
    assert!(p.errors.is_empty(), "{:?}", p.errors);
}

#[test]
fn a_request_line_with_spaces_inside_braces_starts_a_new_request_after_a_blank_line() {
    // httpyac's examples put requests one blank line apart, without `###`.
    let text = "GET /a?q={{$randomInt 1 9}}\n\nGET /b?q={{$datetime \"DD.MM.YYYY\" 2 d}} HTTP/1.1\n\nPOST /c\n\nGET a coffee\nGET /d e\n";
    let p = parse_checked(text);
    let targets: Vec<&str> = p
        .file
        .blocks
        .iter()
        .filter_map(|b| b.request.as_ref())
        .map(|r| r.target.text())
        .collect();
    assert_eq!(
        targets,
        [
            "/a?q={{$randomInt 1 9}}",
            "/b?q={{$datetime \"DD.MM.YYYY\" 2 d}}",
            "/c"
        ]
    );
    // Not request lines: the body of `POST /c`.
    let body = p.file.blocks[2].request.as_ref().unwrap().body.as_ref();
    let Some([BodyPart::Text(t)]) = body.map(|b| &b.parts[..]) else {
        panic!("{body:?}")
    };
    assert_eq!(t.text(), "GET a coffee\nGET /d e");
}
