//! What `httplens run` prints, as a process against a server on 127.0.0.1: the default
//! text is the response document as saved (byte for byte), `--print` picks the parts
//! (HTTPie's letters), `--color` decides colour when stdout is not a terminal; and the
//! generated `completions` and `man` output.

#[path = "support/server.rs"]
mod server;

use std::path::PathBuf;
use std::process::Command;

struct Ws {
    _tmp: tempfile::TempDir,
    dir: PathBuf,
    cache: PathBuf,
}

fn ws(text: &str) -> Ws {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("ws");
    std::fs::create_dir_all(dir.join(".git")).unwrap();
    std::fs::write(dir.join("api.http"), text).unwrap();
    Ws {
        cache: tmp.path().join("cache"),
        dir,
        _tmp: tmp,
    }
}

/// `httplens ARGS` in the workspace, stdout and stderr piped, no `NO_COLOR`.
fn httplens(w: &Ws, args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_httplens"))
        .args(args)
        .current_dir(&w.dir)
        .env("HTTPLENS_CACHE_DIR", &w.cache)
        .env("HTTPLENS_CONFIG_DIR", w.dir.join("config"))
        .env("HTTPLENS_TOKEN_STORE", "memory")
        .env_remove("NO_COLOR")
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8(out.stdout).expect("UTF-8 on stdout"),
        String::from_utf8(out.stderr).expect("UTF-8 on stderr"),
    )
}

fn post_file(s: &server::TestServer) -> String {
    format!(
        "### post\n# @name post\nPOST {}\nContent-Type: application/json\nX-Trace: t-1\n\n{{\"k\": [1, true]}}\n\n?? status == 200\n",
        s.url("/echo/p")
    )
}

#[test]
fn the_default_text_is_the_saved_document_byte_for_byte() {
    let s = server::start_in_background();
    let w = ws(&post_file(&s));
    let (code, stdout, stderr) = httplens(&w, &["run", "api.http"]);
    assert_eq!(code, 0, "{stderr}");
    let saved_line = stdout
        .lines()
        .find(|l| l.starts_with("# saved to "))
        .expect("a saved-to line");
    let path = PathBuf::from(saved_line.trim_start_matches("# saved to "));
    let document = std::fs::read_to_string(&path).unwrap();
    let expected = format!(
        "### post (line 3): POST {}\n{document}{saved_line}\n1 request: 1 passed, 0 failed; assertions: 1 passed, 0 failed\n",
        s.url("/echo/p")
    );
    assert_eq!(stdout, expected);
    assert!(!stdout.contains('\x1b'), "no colour through a pipe");
    // The same with every letter spelled out.
    let (_, spelled, _) = httplens(&w, &["run", "api.http", "--no-history", "--print", "mhb"]);
    let (_, default, _) = httplens(&w, &["run", "api.http", "--no-history"]);
    let no_time = |t: &str| {
        t.lines()
            .filter(|l| !l.starts_with("# 200") && !l.starts_with("date:"))
            .collect::<Vec<_>>()
            .join("\n")
    };
    assert_eq!(no_time(&spelled), no_time(&default));
}

#[test]
fn print_letters_choose_the_parts() {
    let s = server::start_in_background();
    let w = ws(&post_file(&s));
    let url = s.url("/echo/p");

    // b: the response body alone, pretty JSON; the summary goes to stderr.
    let (code, out, err) = httplens(&w, &["run", "api.http", "--no-history", "--print", "b"]);
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).expect("only the JSON body");
    assert_eq!(v["method"], "POST");
    assert!(out.starts_with("{\n  \""), "pretty-printed: {out}");
    assert!(err.contains("1 request: 1 passed"), "{err}");

    // h: status line and headers, nothing else.
    let (_, out, _) = httplens(&w, &["run", "api.http", "--no-history", "-p", "h"]);
    assert!(out.starts_with("HTTP/1.1 200 OK\n"), "{out}");
    assert!(out.contains("\ncontent-type: application/json\n"), "{out}");
    assert!(
        !out.contains("\"method\"") && !out.contains("###") && !out.contains("# 200"),
        "{out}"
    );

    // HB: the request as sent (masked as `show` masks), no response.
    let (_, out, _) = httplens(&w, &["run", "api.http", "--no-history", "-p", "HB"]);
    assert_eq!(
        out,
        format!(
            "POST {url}\nContent-Type: application/json\nX-Trace: t-1\n\n{{\"k\": [1, true]}}\n"
        )
    );

    // Hh: request headers, a blank line, response head.
    let (_, out, _) = httplens(&w, &["run", "api.http", "--no-history", "-p", "Hh"]);
    assert!(
        out.starts_with(&format!(
            "POST {url}\nContent-Type: application/json\nX-Trace: t-1\n\nHTTP/1.1 200 OK\n"
        )),
        "{out}"
    );
    assert!(!out.contains("{\"k\""), "no request body without B: {out}");

    // m: which request, assertions, timing, summary; no head, no body.
    let (_, out, _) = httplens(&w, &["run", "api.http", "--no-history", "-p", "m"]);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[0], format!("### post (line 3): POST {url}"));
    assert_eq!(lines[1], "# passed (line 9): ?? status == 200");
    assert_eq!(lines[2], "");
    assert!(lines[3].starts_with("# 200 OK · POST "), "{out}");
    assert_eq!(
        lines[4],
        "1 request: 1 passed, 0 failed; assertions: 1 passed, 0 failed"
    );
    assert_eq!(lines.len(), 5, "{out}");

    // A send error without m goes to stderr: stdout keeps only what was asked for.
    let w2 = ws("### down\nGET http://127.0.0.1:9/x\n");
    let (code, out, err) = httplens(&w2, &["run", "api.http", "--no-history", "-p", "b"]);
    assert_eq!(code, 1);
    assert_eq!(out, "");
    assert!(
        err.contains("down (line 2): error: ") && err.contains("127.0.0.1:9"),
        "{err}"
    );

    // Not a letter: a usage error naming it.
    let (code, _, err) = httplens(&w, &["run", "api.http", "-p", "hx"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("`x` is not a part"), "{err}");
}

#[test]
fn color_always_paints_a_pipe_and_never_is_the_plain_text() {
    let s = server::start_in_background();
    let w = ws(&post_file(&s));
    let (_, always, _) = httplens(
        &w,
        &["run", "api.http", "--no-history", "--color", "always"],
    );
    assert!(
        always.contains("\x1b[32mHTTP/1.1 200 OK\x1b[0m"),
        "{always:?}"
    );
    assert!(
        always.contains("\x1b[36mcontent-type\x1b[0m: "),
        "{always:?}"
    );
    assert!(
        always.contains("\x1b[34m\"method\"\x1b[0m: \x1b[32m\"POST\"\x1b[0m"),
        "{always:?}"
    );
    let (_, never, _) = httplens(&w, &["run", "api.http", "--no-history", "--color", "never"]);
    assert!(!never.contains('\x1b'));
    let strip = |t: &str| {
        let mut out = String::new();
        let mut esc = false;
        for c in t.chars() {
            match (esc, c) {
                (false, '\x1b') => esc = true,
                (true, 'm') => esc = false,
                (true, _) => {}
                (false, c) => out.push(c),
            }
        }
        out.lines()
            .filter(|l| !l.starts_with("# 200") && !l.starts_with("date:"))
            .collect::<Vec<_>>()
            .join("\n")
    };
    assert_eq!(
        strip(&always),
        strip(&never),
        "colour only adds escape codes"
    );

    let (_, show, _) = httplens(&w, &["show", "api.http", "--color", "always"]);
    assert!(show.contains("\x1b[36mX-Trace\x1b[0m: t-1"), "{show:?}");
    assert!(show.contains("\x1b[34m\"k\"\x1b[0m"), "{show:?}");
    let (_, plain, _) = httplens(&w, &["show", "api.http"]);
    assert!(
        plain.contains("X-Trace: t-1") && !plain.contains('\x1b'),
        "{plain:?}"
    );
}

#[test]
fn completions_and_man_page_come_from_the_flags() {
    let w = ws("GET http://127.0.0.1:9/\n");
    let (code, bash, _) = httplens(&w, &["completions", "bash"]);
    assert_eq!(code, 0);
    for word in [
        "httplens",
        "run",
        "show",
        "--fail-fast",
        "--print",
        "--color",
        "completions",
    ] {
        assert!(bash.contains(word), "bash completion lacks {word}");
    }
    assert!(bash.contains("complete -F"), "a bash completion script");
    let (_, zsh, _) = httplens(&w, &["completions", "zsh"]);
    assert!(
        zsh.starts_with("#compdef httplens"),
        "{}",
        &zsh[..zsh.len().min(80)]
    );
    assert!(zsh.contains("--fail-fast"));
    let (_, fish, _) = httplens(&w, &["completions", "fish"]);
    assert!(fish.contains("complete -c httplens") && fish.contains("fail-fast"));
    let (_, ps, _) = httplens(&w, &["completions", "powershell"]);
    assert!(ps.contains("Register-ArgumentCompleter") && ps.contains("--fail-fast"));
    let (code, _, err) = httplens(&w, &["completions", "tcsh"]);
    assert_eq!(code, 2, "{err}");

    let (code, man, _) = httplens(&w, &["man"]);
    assert_eq!(code, 0);
    assert!(man.contains(".TH httplens 1"), "section 1");
    assert!(
        man.contains("completions") && man.contains("show"),
        "lists the commands"
    );
    // One command's page: every flag of it.
    let (code, run, _) = httplens(&w, &["man", "run"]);
    assert_eq!(code, 0);
    assert!(
        run.contains(".TH httplens-run 1"),
        "{}",
        &run[..run.len().min(200)]
    );
    for flag in ["fail\\-fast", "print", "color", "timeout"] {
        assert!(
            run.contains(&format!("\\fB\\-\\-{flag}\\fR")),
            "httplens-run(1) lacks --{flag}"
        );
    }
    let (code, _, err) = httplens(&w, &["man", "nope"]);
    assert_eq!(code, 2);
    assert!(err.contains("no command `nope`"), "{err}");
}
