//! Helpers for the hardening tests (`tests/faults.rs`, `tests/lsp_soak.rs`): a temp
//! workspace with private cache/config folders, process sampling from /proc (peak RSS,
//! open descriptors), running `httplens run` under a time bound, and a raw LSP client
//! that can write malformed bytes, close stdin and report the server's pid (which the
//! shared `lsp_client.rs` does not expose).

#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError, channel};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

/// A temp workspace (with `.git`, so it is its own root) and its private folders.
pub struct Ws {
    pub dir: tempfile::TempDir,
}

impl Ws {
    pub fn new() -> Ws {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("proj/.git")).unwrap();
        Ws { dir }
    }
    pub fn root(&self) -> PathBuf {
        self.dir.path().join("proj")
    }
    pub fn cache(&self) -> PathBuf {
        self.dir.path().join("cache")
    }
    pub fn write(&self, rel: &str, text: &str) -> PathBuf {
        let p = self.root().join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, text).unwrap();
        p
    }
    /// Every folder the binary could write to points into the temp dir; no proxy can
    /// divert the 127.0.0.1 traffic.
    pub fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_httplens"));
        cmd.args(args)
            .current_dir(self.root())
            .env("HTTPLENS_CACHE_DIR", self.cache())
            .env("HTTPLENS_CONFIG_DIR", self.dir.path().join("config"))
            .env("HTTPLENS_TOKEN_STORE", "memory")
            .env("HOME", self.dir.path())
            .env("XDG_CACHE_HOME", self.dir.path().join("xdg-cache"))
            .env("XDG_CONFIG_HOME", self.dir.path().join("xdg-config"))
            .env("XDG_DATA_HOME", self.dir.path().join("xdg-data"))
            .env("NO_PROXY", "127.0.0.1,localhost,::1")
            .env("NO_COLOR", "1");
        for v in [
            "HTTP_PROXY",
            "HTTPS_PROXY",
            "ALL_PROXY",
            "http_proxy",
            "https_proxy",
            "all_proxy",
            "HTTPLENS_LOG",
        ] {
            cmd.env_remove(v);
        }
        cmd
    }
    /// Files under the cache's spill folder (partial downloads left behind).
    pub fn spill_files(&self) -> Vec<PathBuf> {
        std::fs::read_dir(self.cache().join("spill"))
            .map(|d| d.filter_map(|e| e.ok()).map(|e| e.path()).collect())
            .unwrap_or_default()
    }
}

/// One look at a live process.
#[derive(Debug, Clone, Copy, Default)]
pub struct Sample {
    pub at: Duration,
    /// Peak resident set so far (VmHWM), KiB.
    pub hwm_kb: u64,
    /// Resident set now (VmRSS), KiB.
    pub rss_kb: u64,
    /// Open descriptors now.
    pub fds: usize,
}

/// Reads /proc/<pid>; None once the process is gone (or a zombie without memory).
/// Bytes process `pid` has read so far (`rchar` of `/proc/PID/io`): a test waits for
/// its input to be read instead of sleeping.
pub fn chars_read(pid: u32) -> Option<u64> {
    let io = std::fs::read_to_string(format!("/proc/{pid}/io")).ok()?;
    io.lines()
        .find_map(|l| l.strip_prefix("rchar:"))
        .and_then(|v| v.trim().parse().ok())
}

/// Polls `cond` until it holds or `limit` passes; whether it held.
pub fn wait_until(limit: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let deadline = std::time::Instant::now() + limit;
    loop {
        if cond() {
            return true;
        }
        if std::time::Instant::now() > deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

pub fn sample(pid: u32, at: Duration) -> Option<Sample> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse::<u64>().ok())
    };
    let hwm_kb = field("VmHWM:")?;
    let rss_kb = field("VmRSS:")?;
    let fds = std::fs::read_dir(format!("/proc/{pid}/fd")).ok()?.count();
    Some(Sample {
        at,
        hwm_kb,
        rss_kb,
        fds,
    })
}

/// What a bounded run of the binary did.
#[derive(Debug)]
pub struct Ran {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
    pub elapsed: Duration,
    pub samples: Vec<Sample>,
    /// True when the run hit the limit and was killed.
    pub killed: bool,
}

impl Ran {
    pub fn peak_rss_kb(&self) -> u64 {
        self.samples.iter().map(|s| s.hwm_kb).max().unwrap_or(0)
    }
    /// The `--format json` array.
    pub fn json(&self) -> Vec<Value> {
        serde_json::from_str::<Value>(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e}): {}", self.stdout))
            .as_array()
            .cloned()
            .unwrap()
    }
}

fn drain(mut r: impl Read + Send + 'static) -> std::thread::JoinHandle<String> {
    std::thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = r.read_to_end(&mut buf);
        String::from_utf8_lossy(&buf).into_owned()
    })
}

/// Runs the command, sampling it every 20 ms; `tick` sees each sample with the pid (to
/// send a signal, say). Killed after `limit` (then `killed` is true).
pub fn run_bounded(mut cmd: Command, limit: Duration, mut tick: impl FnMut(u32, &Sample)) -> Ran {
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let start = Instant::now();
    let mut child = cmd.spawn().expect("start httplens");
    let pid = child.id();
    let out = drain(child.stdout.take().unwrap());
    let err = drain(child.stderr.take().unwrap());
    let mut samples = Vec::new();
    let mut killed = false;
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if let Some(s) = sample(pid, start.elapsed()) {
            tick(pid, &s);
            samples.push(s);
        }
        if start.elapsed() > limit {
            killed = true;
            let _ = child.kill();
            break child.wait().unwrap();
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let elapsed = start.elapsed();
    Ran {
        code: status.code(),
        stdout: out.join().unwrap(),
        stderr: err.join().unwrap(),
        elapsed,
        samples,
        killed,
    }
}

/// Sends a signal with the system's `kill` (no libc dependency for one call).
pub fn signal(pid: u32, sig: &str) {
    let ok = Command::new("kill")
        .args([&format!("-{sig}"), &pid.to_string()])
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    assert!(ok, "kill -{sig} {pid} failed");
}

pub fn file_uri(p: &Path) -> String {
    let mut out = String::from("file://");
    for b in p.to_string_lossy().bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'/' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// Raw LSP over the real binary's stdio: frames are written as given (so a test can
/// send broken ones), server requests are answered like an editor would, and every
/// server message arrives on a channel.
pub struct RawLsp {
    pub child: Child,
    stdin: Option<Arc<Mutex<ChildStdin>>>,
    rx: Receiver<Value>,
    backlog: Vec<Value>,
    next_id: i64,
    pub started: Instant,
}

pub fn frame(body: &[u8]) -> Vec<u8> {
    let mut v = format!("Content-Length: {}\r\n\r\n", body.len()).into_bytes();
    v.extend_from_slice(body);
    v
}

fn read_frame(r: &mut impl BufRead) -> Option<Vec<u8>> {
    let mut len = None;
    loop {
        let mut line = String::new();
        if r.read_line(&mut line).ok()? == 0 {
            return None;
        }
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some(v) = line.strip_prefix("Content-Length:") {
            len = v.trim().parse::<usize>().ok();
        }
    }
    let mut buf = vec![0; len?];
    r.read_exact(&mut buf).ok()?;
    Some(buf)
}

impl RawLsp {
    pub fn spawn(ws: &Ws) -> RawLsp {
        let mut cmd = ws.command(&["lsp"]);
        cmd.env("HTTPLENS_LSP_TEST_HOOKS", "1")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null());
        let mut child = cmd.spawn().expect("start httplens lsp");
        let stdin = Arc::new(Mutex::new(child.stdin.take().unwrap()));
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = channel();
        // Weak: closing stdin (dropping the test's handle) must really close the pipe.
        let writer = Arc::downgrade(&stdin);
        std::thread::spawn(move || {
            let mut r = BufReader::new(stdout);
            while let Some(bytes) = read_frame(&mut r) {
                let Ok(v) = serde_json::from_slice::<Value>(&bytes) else {
                    continue;
                };
                if v.get("method").is_some() && v.get("id").is_some() {
                    let result = match v["method"].as_str().unwrap_or("") {
                        "workspace/configuration" => {
                            let n = v["params"]["items"].as_array().map_or(1, |a| a.len());
                            Value::Array(vec![json!({}); n])
                        }
                        "window/showDocument" => json!({"success": true}),
                        _ => Value::Null,
                    };
                    let reply = json!({"jsonrpc": "2.0", "id": v["id"], "result": result});
                    let body = serde_json::to_vec(&reply).unwrap();
                    if let Some(w) = writer.upgrade()
                        && let Ok(mut w) = w.lock()
                    {
                        let _ = w.write_all(&frame(&body));
                        let _ = w.flush();
                    }
                }
                if tx.send(v).is_err() {
                    break;
                }
            }
        });
        RawLsp {
            child,
            stdin: Some(stdin),
            rx,
            backlog: Vec::new(),
            next_id: 1,
            started: Instant::now(),
        }
    }

    /// Spawns and initializes (utf-16 or utf-8 positions) with `root` as workspace.
    pub fn start(ws: &Ws, utf8: bool) -> RawLsp {
        let mut c = RawLsp::spawn(ws);
        let enc = if utf8 {
            json!(["utf-8", "utf-16"])
        } else {
            json!(["utf-16"])
        };
        let init = c.request(
            "initialize",
            json!({
                "processId": std::process::id(),
                "capabilities": {
                    "general": {"positionEncodings": enc},
                    "window": {"workDoneProgress": false, "showDocument": {"support": true}},
                    "workspace": {"configuration": true}
                },
                "workspaceFolders": [{"uri": file_uri(&ws.root()), "name": "root"}],
            }),
        );
        assert!(init.get("result").is_some(), "initialize failed: {init}");
        c.notify("initialized", json!({}));
        c
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn write_raw(&self, bytes: &[u8]) {
        let stdin = self.stdin.as_ref().expect("stdin is closed");
        let mut w = stdin.lock().unwrap();
        w.write_all(bytes).unwrap();
        w.flush().unwrap();
    }

    pub fn send(&self, v: &Value) {
        self.write_raw(&frame(&serde_json::to_vec(v).unwrap()));
    }

    pub fn notify(&self, method: &str, params: Value) {
        self.send(&json!({"jsonrpc": "2.0", "method": method, "params": params}));
    }

    pub fn request_async(&mut self, method: &str, params: Value) -> i64 {
        let id = self.next_id;
        self.next_id += 1;
        self.send(&json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}));
        id
    }

    /// The whole response (`result` or `error`) to request `id`.
    pub fn response(&mut self, id: i64, timeout: Duration) -> Value {
        self.wait_for(
            |m| m.get("id") == Some(&json!(id)) && m.get("method").is_none(),
            timeout,
        )
        .unwrap_or_else(|| panic!("no response to request {id} within {timeout:?}"))
    }

    pub fn request(&mut self, method: &str, params: Value) -> Value {
        let id = self.request_async(method, params);
        self.response(id, Duration::from_secs(30))
    }

    pub fn wait_for(&mut self, pred: impl Fn(&Value) -> bool, timeout: Duration) -> Option<Value> {
        if let Some(i) = self.backlog.iter().position(&pred) {
            return Some(self.backlog.remove(i));
        }
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.rx.recv_timeout(left) {
                Ok(m) if pred(&m) => return Some(m),
                Ok(m) => {
                    // Keep what may be waited for later; drop the steady stream of
                    // diagnostics and logs so a soak does not grow the test's memory.
                    let method = m["method"].as_str().unwrap_or("");
                    if method != "window/logMessage" && method != "$/progress" {
                        self.backlog.push(m);
                    }
                    if self.backlog.len() > 10_000 {
                        self.backlog.drain(..5_000);
                    }
                }
                Err(RecvTimeoutError::Timeout) => return None,
                Err(RecvTimeoutError::Disconnected) => return None,
            }
        }
    }

    /// The diagnostics published for `uri` at `version`.
    pub fn diagnostics(&mut self, uri: &str, version: i64, timeout: Duration) -> Option<Value> {
        self.wait_for(
            |m| {
                m["method"] == "textDocument/publishDiagnostics"
                    && m["params"]["uri"] == uri
                    && m["params"]["version"] == version
            },
            timeout,
        )
    }

    /// Drops everything received so far.
    pub fn clear_backlog(&mut self) {
        self.backlog.clear();
        while self.rx.try_recv().is_ok() {}
    }

    /// Closes the server's stdin, as a client that disappears does.
    pub fn close_stdin(&mut self) {
        self.stdin = None;
    }

    /// Waits for the process to exit; None if it is still running after `timeout`.
    pub fn wait_exit(&mut self, timeout: Duration) -> Option<std::process::ExitStatus> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(s) = self.child.try_wait().unwrap() {
                return Some(s);
            }
            if Instant::now() > deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    /// shutdown + exit; the exit status.
    pub fn shutdown(mut self) -> std::process::ExitStatus {
        let r = self.request("shutdown", Value::Null);
        assert!(r.get("error").is_none(), "shutdown failed: {r}");
        self.notify("exit", Value::Null);
        self.wait_exit(Duration::from_secs(10))
            .expect("the server did not exit after shutdown/exit")
    }
}

impl Drop for RawLsp {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
