//! `>> path` (write the response body to a file) is confined: inside the workspace
//! root only, never a path built from a response or a script, created 0600. Each rule
//! is an error at the `>>` line before anything is sent.

#[path = "support/server.rs"]
mod server;

use httplens::env::{ResolveContext, Workspace};

fn errors_for(output_line: &str) -> Vec<(String, String)> {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("ws");
    std::fs::create_dir_all(dir.join(".git")).unwrap();
    let text = format!(
        "@name = report\n\n### login\n# @name login\nPOST http://127.0.0.1:9/login\n\n> {{% client.global.set(\"g\", \"../../x\") %}}\n\n### get\nGET http://127.0.0.1:9/x\n\n{output_line}\n"
    );
    let file = dir.join("api.http");
    std::fs::write(&file, &text).unwrap();
    let parsed = httplens::syntax::parse(&text);
    let ws = Workspace::load(&file, &[], None).unwrap();
    let ctx = ResolveContext::dry_run(&ws);
    let block = parsed.file.blocks.len() - 1;
    let (_, diags) = httplens::request::build(&parsed.file, &text, block, &ctx);
    diags
        .into_iter()
        .filter(|d| d.code == "output-path")
        .map(|d| (d.range.slice(&text).to_string(), d.message))
        .collect()
}

#[test]
fn paths_that_leave_the_workspace_are_errors_at_the_line() {
    for line in [
        ">> /tmp/httplens-evil.json",
        ">> ../escape.json",
        ">>! ./a/../../b.json",
    ] {
        let e = errors_for(line);
        assert_eq!(e.len(), 1, "{line}: {e:?}");
        assert_eq!(e[0].0, line, "{e:?}");
        assert!(e[0].1.contains("only inside the workspace"), "{e:?}");
    }
    assert!(errors_for(">> ./out/{{name}}.json").is_empty());
    assert!(errors_for(">> ./a/../b.json").is_empty());
}

#[test]
fn paths_built_from_responses_or_scripts_are_errors() {
    for line in [
        ">> ./{{login.response.body.$.file}}",
        ">> ./{{g}}.json",
        ">> ./{{ 'x' + 1 }}.json",
    ] {
        let e = errors_for(line);
        assert_eq!(e.len(), 1, "{line}: {e:?}");
        assert!(
            e[0].1
                .contains("may not use values from a response or a script"),
            "{e:?}"
        );
    }
}

/// `run` writes inside the workspace with 0600, and refuses (sends nothing, writes
/// nothing) a path outside it.
#[cfg(unix)]
#[tokio::test]
async fn run_writes_private_files_inside_the_workspace_only() {
    use std::os::unix::fs::PermissionsExt;
    let s = server::start().await;
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("ws");
    std::fs::create_dir_all(dir.join(".git")).unwrap();
    let evil = tmp.path().join("evil.json");
    let text = format!(
        "### ok\nGET {}\n\n>> ./out/body.json\n\n### outside\nGET {}\n\n>> {}\n",
        s.url("/echo"),
        s.url("/count"),
        evil.display()
    );
    std::fs::write(dir.join("api.http"), &text).unwrap();
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_httplens"))
        .args(["run", "api.http", "--no-history"])
        .current_dir(&dir)
        .env("HTTPLENS_CACHE_DIR", tmp.path().join("cache"))
        .output()
        .await
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    let written = dir.join("out/body.json");
    let mode = std::fs::metadata(&written).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    assert!(!evil.exists());
    assert!(stdout.contains("only inside the workspace"), "{stdout}");
    assert_eq!(
        s.counters.count.load(std::sync::atomic::Ordering::SeqCst),
        0,
        "the refused request was not sent"
    );
}
