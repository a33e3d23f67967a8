//! A small LSP client for tests: starts the real `httplens lsp` binary over stdio,
//! speaks JSON-RPC (Content-Length framing), answers the server's own requests
//! (`window/showDocument`, `workspace/configuration`, `window/workDoneProgress/create`,
//! `workspace/codeLens/refresh`, `window/showMessageRequest`, `httplens/prompt`) and
//! records every message the server sent, for assertions and the secret-leak check.

#![allow(dead_code)]

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender, channel};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

pub const TIMEOUT: Duration = Duration::from_secs(20);

/// How the fake editor answers `window/showMessageRequest`: the title to pick (None:
/// dismiss).
pub type Picker = Arc<Mutex<Option<String>>>;

/// How the fake editor answers `httplens/prompt`: the value typed for each variable
/// (a variable not in the map: the user dismissed the input box).
pub type Prompter = Arc<Mutex<std::collections::HashMap<String, String>>>;

pub struct LspClient {
    child: Child,
    /// Messages to the server go through one writer thread ([`writer`]).
    stdin: Sender<Vec<u8>>,
    rx: Receiver<Value>,
    /// Every message from the server, raw text, in order.
    pub transcript: Arc<Mutex<Vec<String>>>,
    /// Server -> client requests seen, by method.
    pub server_requests: Arc<Mutex<Vec<Value>>>,
    pub picker: Picker,
    pub prompter: Prompter,
    next_id: i64,
    /// Messages received while waiting for something else.
    backlog: Vec<Value>,
}

fn frame(v: &Value) -> Vec<u8> {
    let body = serde_json::to_string(v).unwrap();
    format!("Content-Length: {}\r\n\r\n{}", body.len(), body).into_bytes()
}

/// Writes what is sent to the returned channel to the server's stdin, in order. Neither
/// the test nor the thread that answers the server's requests writes itself: either
/// could block on a full pipe (the server stops reading while its answers wait to be
/// read) while the other waits for it, and the thread that reads the server's output
/// must never wait. (Both wrote under one lock once, and a burst of edits with a
/// `workspace/configuration` answer in the middle hung under load.)
fn writer(mut stdin: ChildStdin) -> Sender<Vec<u8>> {
    let (tx, rx) = channel::<Vec<u8>>();
    std::thread::spawn(move || {
        for bytes in rx {
            if stdin
                .write_all(&bytes)
                .and_then(|()| stdin.flush())
                .is_err()
            {
                break;
            }
        }
    });
    tx
}

fn read_msg(r: &mut impl BufRead) -> Option<String> {
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
    String::from_utf8(buf).ok()
}

pub struct Options<'a> {
    pub utf8: bool,
    pub init_options: Value,
    /// What `workspace/configuration` answers (the `httplens` section).
    pub configuration: Value,
    pub work_done_progress: bool,
    pub show_document: bool,
    pub root: Option<&'a Path>,
    pub env: Vec<(String, String)>,
    /// Extra arguments after `lsp` (clients pass `--stdio`).
    pub args: Vec<String>,
    /// Announce `experimental.httplensPrompt` (answer `httplens/prompt`).
    pub prompt: bool,
}

impl Default for Options<'_> {
    fn default() -> Self {
        Options {
            utf8: false,
            init_options: Value::Null,
            configuration: json!({}),
            work_done_progress: true,
            show_document: true,
            root: None,
            env: Vec::new(),
            args: Vec::new(),
            prompt: false,
        }
    }
}

impl LspClient {
    /// Starts the server (not yet initialized).
    pub fn spawn(opts: &Options) -> LspClient {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_httplens"));
        cmd.arg("lsp")
            .args(&opts.args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .env("HTTPLENS_TOKEN_STORE", "memory");
        for (k, v) in &opts.env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().expect("start httplens lsp");
        let stdin = writer(child.stdin.take().unwrap());
        let stdout = child.stdout.take().unwrap();
        let (tx, rx): (Sender<Value>, Receiver<Value>) = channel();
        let transcript = Arc::new(Mutex::new(Vec::new()));
        let server_requests = Arc::new(Mutex::new(Vec::new()));
        let picker: Picker = Arc::new(Mutex::new(None));
        let prompter: Prompter = Arc::default();
        {
            let prompter = prompter.clone();
            let transcript = transcript.clone();
            let server_requests = server_requests.clone();
            let stdin = stdin.clone();
            let configuration = opts.configuration.clone();
            let picker = picker.clone();
            std::thread::spawn(move || {
                let mut r = BufReader::new(stdout);
                while let Some(text) = read_msg(&mut r) {
                    transcript.lock().unwrap().push(text.clone());
                    let Ok(v) = serde_json::from_str::<Value>(&text) else {
                        continue;
                    };
                    // A request from the server: answer it here, like an editor.
                    if v.get("method").is_some() && v.get("id").is_some() {
                        server_requests.lock().unwrap().push(v.clone());
                        let method = v["method"].as_str().unwrap_or("");
                        let result = match method {
                            "workspace/configuration" => {
                                let n = v["params"]["items"].as_array().map_or(1, |a| a.len());
                                Value::Array(vec![configuration.clone(); n])
                            }
                            "window/showDocument" => json!({"success": true}),
                            "window/showMessageRequest" => match picker.lock().unwrap().clone() {
                                Some(t) => json!({"title": t}),
                                None => Value::Null,
                            },
                            "httplens/prompt" => {
                                let name = v["params"]["name"].as_str().unwrap_or("");
                                match prompter.lock().unwrap().get(name) {
                                    Some(value) => json!({"value": value}),
                                    None => Value::Null,
                                }
                            }
                            _ => Value::Null,
                        };
                        let reply = json!({"jsonrpc": "2.0", "id": v["id"], "result": result});
                        let _ = stdin.send(frame(&reply));
                    }
                    if tx.send(v).is_err() {
                        break;
                    }
                }
            });
        }
        LspClient {
            child,
            stdin,
            rx,
            transcript,
            server_requests,
            picker,
            prompter,
            next_id: 1,
            backlog: Vec::new(),
        }
    }

    /// Starts and initializes; returns the client and the initialize result.
    pub fn start(opts: &Options) -> (LspClient, Value) {
        let mut c = LspClient::spawn(opts);
        let mut caps = json!({
            "window": {
                "workDoneProgress": opts.work_done_progress,
                "showDocument": {"support": opts.show_document},
                "showMessage": {"messageActionItem": {"additionalPropertiesSupport": false}}
            },
            "workspace": {"configuration": true, "codeLens": {"refreshSupport": true}, "workspaceFolders": true},
            "textDocument": {"synchronization": {"dynamicRegistration": false}}
        });
        if opts.prompt {
            caps["experimental"] = json!({"httplensPrompt": true});
        }
        caps["general"] = if opts.utf8 {
            json!({"positionEncodings": ["utf-8", "utf-16"]})
        } else {
            json!({"positionEncodings": ["utf-16"]})
        };
        let folders = opts
            .root
            .map(|r| json!([{"uri": file_uri(r), "name": "root"}]));
        let init = c.request(
            "initialize",
            json!({
                "processId": std::process::id(),
                "capabilities": caps,
                "initializationOptions": opts.init_options,
                "workspaceFolders": folders,
            }),
        );
        c.notify("initialized", json!({}));
        (c, init)
    }

    pub fn send_raw(&self, v: &Value) {
        let _ = self.stdin.send(frame(v));
    }

    pub fn notify(&self, method: &str, params: Value) {
        self.send_raw(&json!({"jsonrpc": "2.0", "method": method, "params": params}));
    }

    /// Sends a request without waiting; returns its id.
    pub fn request_async(&mut self, method: &str, params: Value) -> i64 {
        let id = self.next_id;
        self.next_id += 1;
        self.send_raw(&json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}));
        id
    }

    /// The whole response object (`result` or `error`) of request `id`.
    pub fn response(&mut self, id: i64) -> Value {
        self.wait_for(|m| m.get("id") == Some(&json!(id)) && m.get("method").is_none())
    }

    /// Sends a request and returns its `result`; panics on an error response.
    pub fn request(&mut self, method: &str, params: Value) -> Value {
        let id = self.request_async(method, params);
        let r = self.response(id);
        if let Some(e) = r.get("error") {
            panic!("{method} failed: {e}");
        }
        r["result"].clone()
    }

    /// The next message (from the backlog first) that satisfies `pred`; others are
    /// kept for later waits.
    pub fn wait_for(&mut self, pred: impl Fn(&Value) -> bool) -> Value {
        self.try_wait_for(&pred, TIMEOUT)
            .unwrap_or_else(|| panic!("timed out waiting for a message from the server"))
    }

    pub fn try_wait_for(
        &mut self,
        pred: &impl Fn(&Value) -> bool,
        timeout: Duration,
    ) -> Option<Value> {
        if let Some(i) = self.backlog.iter().position(pred) {
            return Some(self.backlog.remove(i));
        }
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.rx.recv_timeout(left) {
                Ok(m) if pred(&m) => return Some(m),
                Ok(m) => self.backlog.push(m),
                Err(RecvTimeoutError::Timeout) => return None,
                Err(RecvTimeoutError::Disconnected) => panic!("the server closed its output"),
            }
        }
    }

    /// Diagnostics published for `uri` with exactly `version`.
    pub fn diagnostics(&mut self, uri: &str, version: i64) -> Vec<Value> {
        let m = self.wait_for(|m| {
            m["method"] == "textDocument/publishDiagnostics"
                && m["params"]["uri"] == uri
                && m["params"]["version"] == version
        });
        m["params"]["diagnostics"]
            .as_array()
            .cloned()
            .unwrap_or_default()
    }

    pub fn open(&self, uri: &str, text: &str) {
        self.notify(
            "textDocument/didOpen",
            json!({"textDocument": {"uri": uri, "languageId": "http", "version": 1, "text": text}}),
        );
    }

    pub fn execute(&mut self, command: &str, arg: Value) -> Value {
        let id = self.request_async(
            "workspace/executeCommand",
            json!({"command": command, "arguments": [arg]}),
        );
        self.response(id)
    }

    /// Everything the server has sent so far, as one string.
    pub fn all_output(&self) -> String {
        self.transcript.lock().unwrap().join("\n")
    }

    pub fn shutdown(mut self) -> std::process::ExitStatus {
        let _ = self.request("shutdown", Value::Null);
        self.notify("exit", Value::Null);
        let deadline = Instant::now() + TIMEOUT;
        loop {
            if let Some(s) = self.child.try_wait().unwrap() {
                return s;
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                panic!("the server did not exit after shutdown/exit");
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

impl Drop for LspClient {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn file_uri(p: &Path) -> String {
    let s = p.to_string_lossy();
    let mut out = String::from("file://");
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'/' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}
