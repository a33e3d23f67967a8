//! `httplens run` and `show` in a real terminal: tmux runs the binary in a pane and
//! `capture-pane -e -p` reads the screen with its colours as escape codes. Colour
//! appears on a terminal only (not through `| cat`, not with `NO_COLOR`), and the
//! progress line shows while several requests are in flight and is gone at the end.
//! Needs `tmux` (in `scripts/apt-packages.txt`; CI installs it before the tests).

#[path = "support/server.rs"]
mod server;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

/// A tmux server of our own (its own socket, no user config), killed on drop.
struct Tmux {
    socket: PathBuf,
}

impl Tmux {
    fn new(dir: &Path) -> Tmux {
        let ok = Command::new("tmux")
            .arg("-V")
            .output()
            .is_ok_and(|o| o.status.success());
        assert!(
            ok,
            "tmux is missing: install it (it is in scripts/apt-packages.txt; scripts/test-all.sh does)"
        );
        Tmux {
            socket: dir.join("tmux.sock"),
        }
    }

    fn tmux(&self, args: &[&str]) -> std::process::Output {
        Command::new("tmux")
            .arg("-S")
            .arg(&self.socket)
            .arg("-f")
            .arg("/dev/null")
            .args(args)
            .output()
            .expect("tmux runs")
    }

    /// Runs `shell` (sh syntax) in a new 160x50 window named `name`; a line
    /// `__DONE__ <exit code>` follows its output.
    fn start(&self, name: &str, shell: &str) {
        let cmd = format!("{shell}; echo __DONE__ $?; sleep 600");
        let out = if self.tmux(&["has-session"]).status.success() {
            self.tmux(&["new-window", "-d", "-n", name, &cmd])
        } else {
            self.tmux(&[
                "new-session",
                "-d",
                "-x",
                "160",
                "-y",
                "50",
                "-n",
                name,
                &cmd,
            ])
        };
        assert!(out.status.success(), "{out:?}");
    }

    /// The screen of window `name`, with colours as escape codes.
    fn capture(&self, name: &str) -> String {
        let target = format!(":={name}");
        let out = self.tmux(&["capture-pane", "-e", "-p", "-J", "-t", &target]);
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Polls the screen until `pred` holds (at most 60 s); the last screen.
    fn wait_for(&self, name: &str, what: &str, pred: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let screen = self.capture(name);
            if pred(&screen) {
                return screen;
            }
            assert!(
                Instant::now() < deadline,
                "waited 60 s for {what}; the screen:\n{screen}"
            );
            std::thread::sleep(Duration::from_millis(30));
        }
    }

    /// Runs `shell` to the end; its screen.
    fn run(&self, name: &str, shell: &str) -> String {
        self.start(name, shell);
        self.wait_for(name, "__DONE__", |s| s.contains("__DONE__"))
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = self.tmux(&["kill-server"]);
    }
}

struct Ws {
    tmp: tempfile::TempDir,
}

impl Ws {
    fn new(text: &str) -> Ws {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("ws");
        std::fs::create_dir_all(dir.join(".git")).unwrap();
        std::fs::write(dir.join("api.http"), text).unwrap();
        Ws { tmp }
    }

    /// `httplens ARGS` in the workspace with a clean environment of our own; `env`
    /// goes first (e.g. `NO_COLOR=1`).
    fn cmd(&self, env: &str, args: &str) -> String {
        let root = self.tmp.path();
        format!(
            "cd '{ws}' && env -u NO_COLOR -u CI HTTPLENS_CACHE_DIR='{cache}' HTTPLENS_CONFIG_DIR='{config}' HTTPLENS_TOKEN_STORE=memory {env} '{bin}' {args}",
            ws = root.join("ws").display(),
            cache = root.join("cache").display(),
            config = root.join("config").display(),
            bin = env!("CARGO_BIN_EXE_httplens"),
        )
    }
}

/// The screen line that contains `needle`.
fn line_with<'a>(screen: &'a str, needle: &str) -> &'a str {
    screen
        .lines()
        .find(|l| l.contains(needle))
        .unwrap_or_else(|| panic!("no line with {needle:?} in:\n{screen}"))
}

/// Whether `needle` is drawn in the colour of SGR `code` (`32` green...): on its line,
/// the code comes before it with no reset in between. tmux writes the codes its own
/// way (`\x1b[39m` resets, a `\x1b[49m` may follow a code), so no byte match.
fn painted(screen: &str, needle: &str, code: &str) -> bool {
    let line = line_with(screen, needle);
    let before = &line[..line.find(needle).unwrap()];
    let set = format!("\x1b[{code}m");
    let Some(at) = before.rfind(&set) else {
        return false;
    };
    let reset = ["\x1b[0m", "\x1b[39m", "\x1b[m"]
        .iter()
        .filter_map(|r| before.rfind(r))
        .max();
    reset.is_none_or(|r| r < at)
}

#[test]
fn colours_on_a_terminal_and_none_through_a_pipe_or_with_no_color() {
    let s = server::start_in_background();
    let ws = Ws::new(&format!(
        "### ok\nPOST {echo}\nContent-Type: application/json\n\n{{\"k\": 1}}\n\n### moved\nGET {moved}\n\n### gone\nGET {gone}\n",
        echo = s.url("/echo/x"),
        moved = s.url("/status/304"),
        gone = s.url("/status/404"),
    ));
    let tmux = Tmux::new(ws.tmp.path());

    let tty = tmux.run("tty", &ws.cmd("", "run api.http --no-history"));
    assert!(
        tty.contains("__DONE__ 0"),
        "a 404 without assertions passes: {tty}"
    );
    // Status: 2xx green, 3xx yellow, 4xx red.
    assert!(painted(&tty, "HTTP/1.1 200 OK", "32"), "{tty:?}");
    assert!(painted(&tty, "HTTP/1.1 304", "33"), "{tty:?}");
    assert!(painted(&tty, "HTTP/1.1 404", "31"), "{tty:?}");
    // Header names cyan, JSON keys blue, JSON strings green.
    assert!(painted(&tty, "content-type", "36"), "{tty:?}");
    assert!(painted(&tty, "\"method\"", "34"), "{tty:?}");
    assert!(painted(&tty, "\"POST\"", "32"), "{tty:?}");

    let piped = tmux.run(
        "pipe",
        &format!("{} | cat", ws.cmd("", "run api.http --no-history")),
    );
    assert!(piped.contains("HTTP/1.1 200 OK"), "{piped}");
    assert!(
        !piped.contains('\x1b'),
        "no escape codes through a pipe: {piped:?}"
    );

    let no_color = tmux.run(
        "nocolor",
        &ws.cmd("NO_COLOR=1", "run api.http --no-history"),
    );
    assert!(no_color.contains("HTTP/1.1 200 OK"), "{no_color}");
    assert!(!no_color.contains('\x1b'), "NO_COLOR=1: {no_color:?}");

    let never = tmux.run(
        "never",
        &ws.cmd("", "run api.http --no-history --color never"),
    );
    assert!(never.contains("HTTP/1.1 200 OK"), "{never}");
    assert!(!never.contains('\x1b'), "--color never: {never:?}");

    // An empty NO_COLOR is not set (no-color.org): colours stay.
    let empty = tmux.run("empty", &ws.cmd("NO_COLOR=", "run api.http --no-history"));
    assert!(painted(&empty, "HTTP/1.1 200 OK", "32"), "{empty:?}");

    // `--color always` colours a pipe too.
    let always = tmux.run(
        "always",
        &format!(
            "{} | cat",
            ws.cmd("", "run api.http --no-history --color always")
        ),
    );
    assert!(painted(&always, "HTTP/1.1 200 OK", "32"), "{always:?}");

    // `show`: the same rules.
    let show = tmux.run("show", &ws.cmd("", "show api.http"));
    assert!(painted(&show, "Content-Type", "36"), "{show:?}");
    assert!(painted(&show, "\"k\"", "34"), "{show:?}");
    let show_piped = tmux.run(
        "showpipe",
        &format!("{} | cat", ws.cmd("", "show api.http")),
    );
    assert!(
        show_piped.contains("Content-Type: application/json"),
        "{show_piped}"
    );
    assert!(!show_piped.contains('\x1b'), "{show_piped:?}");
}

#[test]
fn the_progress_line_shows_count_request_and_failures_then_is_cleared() {
    let s = server::start_in_background();
    let mut text = format!(
        "### broken\nGET {}\n\n?? status == 200\n",
        s.url("/status/500")
    );
    for i in 1..=4 {
        text.push_str(&format!(
            "\n### slow{i}\n# @name slow{i}\nGET {}\n",
            s.url("/delay/700")
        ));
    }
    let ws = Ws::new(&text);
    let tmux = Tmux::new(ws.tmp.path());
    // stdout to a file, so that the screen holds only what goes to stderr.
    let out_file = ws.tmp.path().join("out.txt");
    tmux.start(
        "progress",
        &format!(
            "{} > '{}'",
            ws.cmd("", "run api.http --no-history"),
            out_file.display()
        ),
    );
    let seen = tmux.wait_for("progress", "the progress line", |s| {
        s.contains("/5]") && s.contains("sending slow") && s.contains("1 failed")
    });
    let line = line_with(&seen, "sending slow");
    assert!(line.contains("1 failed"), "{line}");
    let done = tmux.wait_for("progress", "the end", |s| s.contains("__DONE__"));
    assert!(done.contains("__DONE__ 1"), "the 500 fails the run: {done}");
    assert!(
        !done.contains("sending"),
        "the line is cleared at the end: {done:?}"
    );
    assert!(!done.contains("/5]"), "{done:?}");
    let out = std::fs::read_to_string(&out_file).unwrap();
    assert!(out.contains("5 requests: 4 passed, 1 failed"), "{out}");
    assert!(!out.contains("sending"), "never on stdout: {out}");

    // stderr into a file (a CI log): no progress line in it at all.
    let err_file = ws.tmp.path().join("err.txt");
    let screen = tmux.run(
        "log",
        &format!(
            "{} 2> '{}'",
            ws.cmd("", "run api.http --no-history --print m"),
            err_file.display()
        ),
    );
    assert!(
        screen.contains("5 requests: 4 passed, 1 failed"),
        "{screen}"
    );
    let err = std::fs::read_to_string(&err_file).unwrap();
    assert!(
        !err.contains("sending") && !err.contains('\r') && !err.contains('\x1b'),
        "{err:?}"
    );
}
