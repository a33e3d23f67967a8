//! The user docs stay true: every fenced shell block marked runnable (info string
//! `sh runnable` or `bash runnable`) in `docs/*.md` and `README.md` is run, in a fresh
//! temporary folder, against the built `httplens` binary, and must exit 0. Blocks are
//! self-contained (they write the files they need) and reach nothing but 127.0.0.1.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_httplens");

/// One runnable block: where it is and its text.
struct Block {
    file: PathBuf,
    line: usize,
    shell: &'static str,
    code: String,
}

/// Fenced blocks whose info string is `sh runnable` / `bash runnable` (other words after
/// the language are allowed, `runnable` must be one of them).
fn runnable_blocks(file: &Path, text: &str) -> Vec<Block> {
    let mut out = Vec::new();
    let mut lines = text.lines().enumerate();
    while let Some((i, line)) = lines.next() {
        let t = line.trim_start();
        let Some(info) = t.strip_prefix("```") else {
            continue;
        };
        let mut words = info.split_whitespace();
        let lang = words.next().unwrap_or("");
        let runnable = words.any(|w| w == "runnable");
        let mut code = String::new();
        for (_, l) in lines.by_ref() {
            if l.trim_start().starts_with("```") {
                break;
            }
            code.push_str(l);
            code.push('\n');
        }
        let shell = match lang {
            "sh" => "sh",
            "bash" => "bash",
            _ => continue,
        };
        if runnable {
            out.push(Block {
                file: file.to_path_buf(),
                line: i + 1,
                shell,
                code,
            });
        }
    }
    out
}

fn doc_files() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files: Vec<PathBuf> = std::fs::read_dir(root.join("docs"))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "md"))
        .collect();
    files.sort();
    files.push(root.join("README.md"));
    files
}

/// Run one block with `-eu` in its own temp folder; `Err` describes the failure.
fn run_block(b: &Block) -> Result<Duration, String> {
    let tmp = tempfile::tempdir().unwrap();
    let bin_dir = Path::new(BIN).parent().unwrap();
    let path = std::env::join_paths(std::iter::once(bin_dir.to_path_buf()).chain(
        std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default()),
    ))
    .unwrap();
    let start = Instant::now();
    let mut child = Command::new(b.shell)
        .arg("-eu")
        .arg("-c")
        .arg(&b.code)
        .current_dir(tmp.path())
        .env("PATH", path)
        .env("HOME", tmp.path())
        .env("XDG_CONFIG_HOME", tmp.path().join(".config"))
        .env("XDG_CACHE_HOME", tmp.path().join(".cache"))
        .env("XDG_DATA_HOME", tmp.path().join(".local/share"))
        .env("HTTPLENS_CONFIG_DIR", tmp.path().join(".config/httplens"))
        .env("HTTPLENS_CACHE_DIR", tmp.path().join(".cache/httplens"))
        // Never the developer's keychain from a docs test.
        .env("HTTPLENS_TOKEN_STORE", "memory")
        .env("NO_COLOR", "1")
        .env_remove("DISPLAY")
        .env_remove("WAYLAND_DISPLAY")
        .env_remove("HTTPLENS_BROWSER")
        .env_remove("HTTPLENS_LOG")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot start {}: {e}", b.shell))?;
    let limit = Duration::from_secs(120);
    loop {
        if child.try_wait().map_err(|e| e.to_string())?.is_some() {
            break;
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            return Err(format!("did not finish within {limit:?}"));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let out = child.wait_with_output().map_err(|e| e.to_string())?;
    if out.status.success() {
        Ok(start.elapsed())
    } else {
        Err(format!(
            "exit {:?}\n--- block ---\n{}--- stdout ---\n{}\n--- stderr ---\n{}",
            out.status.code(),
            b.code,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}

#[test]
fn runnable_shell_blocks_in_the_docs_succeed() {
    let mut blocks = Vec::new();
    for f in doc_files() {
        let Ok(text) = std::fs::read_to_string(&f) else {
            continue;
        };
        blocks.extend(runnable_blocks(&f, &text));
    }
    // The sign-in, editors, migration and CI pages each carry at least one.
    for page in ["signin.md", "editors.md", "migration.md", "ci.md"] {
        assert!(
            blocks.iter().any(|b| b.file.ends_with(page)),
            "docs/{page} has no runnable block"
        );
    }
    let mut failures = Vec::new();
    for b in &blocks {
        if let Err(e) = run_block(b) {
            failures.push(format!("{}:{}: {e}", b.file.display(), b.line));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} runnable blocks failed:\n{}",
        failures.len(),
        blocks.len(),
        failures.join("\n\n")
    );
}

#[test]
fn block_extraction_reads_only_marked_shell_blocks() {
    let md = "text\n```sh runnable\necho one\n```\n```sh\necho two\n```\n```json runnable\n{}\n```\n```bash runnable extra\necho three\n```\n";
    let b = runnable_blocks(Path::new("x.md"), md);
    let codes: Vec<&str> = b.iter().map(|b| b.code.as_str()).collect();
    assert_eq!(codes, vec!["echo one\n", "echo three\n"]);
    assert_eq!(b[0].line, 2);
    assert_eq!(b[1].shell, "bash");
}
