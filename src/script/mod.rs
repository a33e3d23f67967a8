//! JetBrains-style scripts (response handlers `> {% %}` and pre-request scripts
//! `< {% %}`) run in a sandbox: an embedded QuickJS engine (`rquickjs`), no Node.
//!
//! Each script runs in a fresh runtime and context of its own, with a CPU-time limit
//! (the engine's interrupt handler) and a memory limit, and with nothing but the
//! JetBrains API (`prelude.js`): no `require`, modules, files, network, processes or
//! timers. What a script may read is handed in as data ([`Input`]): never a token
//! (the engine masks `$auth.token` values before they get here). What it does comes
//! back as data ([`Outcome`]): variables, test results, log lines, an error.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use base64::Engine as _;
use rquickjs::context::EvalOptions;
use rquickjs::{CatchResultExt, CaughtError, Context, Ctx, Function, Runtime};
use serde::{Deserialize, Serialize};

/// How much a script may use.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// CPU time of one script (default 2 s).
    pub time: Duration,
    /// Memory of one script's engine (default 64 MB).
    pub memory: usize,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            time: Duration::from_secs(2),
            memory: 64 << 20,
        }
    }
}

/// The request as a script sees it. `*_substituted` are the values with variables
/// expanded as far as they can be before sending (secrets masked), `None` when the
/// same as the raw text.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RequestData {
    pub method: String,
    pub url: String,
    pub url_substituted: Option<String>,
    /// `(name, raw value, substituted value)`.
    pub headers: Vec<(String, String, Option<String>)>,
    pub body: Option<String>,
    pub body_substituted: Option<String>,
}

/// The response a handler sees.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ResponseData {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub content_type: Option<String>,
    /// The body as text (lossy UTF-8); parsed as JSON by the prelude when the content
    /// type says JSON and a script first reads it. Handed to the engine as a string of
    /// its own, not inside the JSON of the rest.
    #[serde(skip)]
    pub body: String,
}

/// Everything a script can read.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Input {
    pub request: RequestData,
    pub response: Option<ResponseData>,
    /// The selected environment's variables (`request.environment.get`).
    pub environment: BTreeMap<String, String>,
    /// `client.global` as it stands.
    pub globals: BTreeMap<String, String>,
    /// `request.variables` as they stand (for the request about to be sent).
    pub request_vars: BTreeMap<String, String>,
}

/// One `client.test` (or a failed `client.assert` outside a test).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct TestResult {
    pub name: String,
    pub passed: bool,
    pub message: Option<String>,
}

/// Where a script went wrong: 1-based line and column inside the script, and what.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScriptError {
    pub line: u32,
    pub column: u32,
    pub message: String,
    /// The text is not JavaScript (a `SyntaxError`), as opposed to failing as it ran.
    pub syntax: bool,
    /// A limit (CPU time, memory) stopped it.
    pub stopped: bool,
}

/// What a script did. When it failed part-way, what it did before the error counts.
#[derive(Debug, Clone, Default)]
pub struct Outcome {
    pub globals: BTreeMap<String, String>,
    pub request_vars: BTreeMap<String, String>,
    pub tests: Vec<TestResult>,
    pub logs: Vec<String>,
    pub error: Option<ScriptError>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Effects {
    globals: BTreeMap<String, String>,
    request_vars: BTreeMap<String, String>,
    tests: Vec<TestResult>,
    logs: Vec<String>,
}

const PRELUDE: &str = include_str!("prelude.js");
/// The file name QuickJS reports for the user's script in stack traces.
const SCRIPT_NAME: &str = "httplens-script";
const EXIT_SENTINEL: &str = "__httplens_exit__";

/// Runs `code` against `input` within `limits`, in an engine of its own.
pub fn run(code: &str, input: &Input, limits: Limits) -> Outcome {
    match Js::new() {
        Ok(js) => js.run(code, input, limits).0,
        Err(message) => failed(input, message),
    }
}

fn failed(input: &Input, message: String) -> Outcome {
    Outcome {
        globals: input.globals.clone(),
        request_vars: input.request_vars.clone(),
        error: Some(ScriptError {
            line: 1,
            column: 1,
            message,
            syntax: false,
            stopped: false,
        }),
        ..Outcome::default()
    }
}

/// The sandbox of one file run: one engine (a QuickJS runtime and context with the
/// API loaded), started at the first script and ended when the sandbox is dropped.
/// The scripts of a run share it (loading the API once is most of an engine's start);
/// no two runs do. After a script is stopped by a limit the engine is replaced, so the
/// next script starts clean.
///
/// A script runs on the thread that asks for it: handing each one to a thread of its
/// own cost two thread wake-ups, more than a small handler takes. On a multi-threaded
/// runtime the worker is handed over for the script's time (`block_in_place`), so a
/// script stopped only by its time limit never holds up other tasks.
pub struct Sandbox {
    js: std::sync::Mutex<Option<Js>>,
}

impl Default for Sandbox {
    fn default() -> Sandbox {
        Sandbox::new()
    }
}

impl Sandbox {
    pub fn new() -> Sandbox {
        Sandbox {
            js: std::sync::Mutex::new(None),
        }
    }

    /// Runs `code` in the sandbox's engine.
    pub async fn run(&self, code: String, input: Input, limits: Limits) -> Outcome {
        let job = || self.run_here(&code, &input, limits);
        match tokio::runtime::Handle::try_current().map(|h| h.runtime_flavor()) {
            Ok(tokio::runtime::RuntimeFlavor::MultiThread) => tokio::task::block_in_place(job),
            _ => job(),
        }
    }

    fn run_here(&self, code: &str, input: &Input, limits: Limits) -> Outcome {
        let mut js = self.js.lock().unwrap_or_else(|e| e.into_inner());
        if js.is_none() {
            *js = Js::new().ok();
        }
        let Some(engine) = js.as_ref() else {
            return failed(input, "the script engine could not start".into());
        };
        let (out, spent) = engine.run(code, input, limits);
        if spent {
            *js = None;
        }
        out
    }
}

/// One QuickJS runtime and context with the API loaded.
struct Js {
    rt: Runtime,
    cx: Context,
    /// When the running script must stop (nanoseconds after `epoch`).
    deadline: std::sync::Arc<std::sync::atomic::AtomicU64>,
    epoch: Instant,
}

impl Js {
    fn new() -> Result<Js, String> {
        let rt = Runtime::new().map_err(|_| "the script engine could not start".to_string())?;
        rt.set_max_stack_size(1 << 20);
        let epoch = Instant::now();
        let deadline = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(u64::MAX));
        let d = deadline.clone();
        rt.set_interrupt_handler(Some(Box::new(move || {
            epoch.elapsed().as_nanos() as u64 > d.load(std::sync::atomic::Ordering::Relaxed)
        })));
        let cx = Context::full(&rt).map_err(|_| "the script engine could not start".to_string())?;
        cx.with(|ctx| install(&ctx))
            .map_err(|e| format!("the script API could not be set up: {e}"))?;
        Ok(Js {
            rt,
            cx,
            deadline,
            epoch,
        })
    }

    fn arm(&self, limits: Limits) {
        self.rt.set_memory_limit(limits.memory);
        let until = self.epoch.elapsed() + limits.time;
        self.deadline.store(
            until.as_nanos() as u64,
            std::sync::atomic::Ordering::Relaxed,
        );
    }

    fn disarm(&self) {
        self.deadline
            .store(u64::MAX, std::sync::atomic::Ordering::Relaxed);
        self.rt.set_memory_limit(0);
    }

    /// What the script did, and whether a limit stopped it (the engine is then spent).
    fn run(&self, code: &str, input: &Input, limits: Limits) -> (Outcome, bool) {
        let mut out = Outcome {
            globals: input.globals.clone(),
            request_vars: input.request_vars.clone(),
            ..Outcome::default()
        };
        let input_json = match serde_json::to_string(input) {
            Ok(j) => j,
            Err(e) => {
                return (
                    failed(input, format!("cannot hand the request to the script: {e}")),
                    false,
                );
            }
        };
        let mut spent = false;
        // Armed outside `with`: the runtime's settings cannot change while it runs.
        self.arm(limits);
        self.cx.with(|ctx| {
            let begin: rquickjs::Result<Function> = ctx.globals().get("__begin");
            let body = input.response.as_ref().map_or("", |r| r.body.as_str());
            if let Err(e) = begin.and_then(|f| f.call::<_, ()>((input_json, body))) {
                out.error = Some(ScriptError {
                    line: 1,
                    column: 1,
                    message: format!("the script API could not be set up: {e}"),
                    syntax: false,
                    stopped: false,
                });
                spent = true;
                return;
            }
            if let Some(lua) = lua_marked(code) {
                out.error = Some(lua);
                return;
            }
            let mut opts = EvalOptions::default();
            opts.global = true;
            opts.strict = false;
            opts.filename = Some(SCRIPT_NAME.into());
            let ran = ctx.eval_with_options::<(), _>(code, opts).catch(&ctx);
            if let Err(e) = ran {
                out.error = script_error(&e, limits).map(|e| lua_instead(code, e));
                spent = out.error.as_ref().is_some_and(|e| e.stopped);
            }
            // Read back what the script did, even after an error or `client.exit()`.
            let effects: Option<Effects> = ctx
                .globals()
                .get::<_, Function>("__out")
                .and_then(|f| f.call::<_, String>(()))
                .ok()
                .and_then(|s| serde_json::from_str(&s).ok());
            if let Some(e) = effects {
                out.globals = e.globals;
                out.request_vars = e.request_vars;
                out.tests = e.tests;
                out.logs = e.logs;
            }
        });
        self.disarm();
        (out, spent)
    }
}

/// httpyac's `{{ expression }}`: the value of a JavaScript expression, with `vars`
/// as global variables (strings) and the same API and limits as a script. `null`
/// and `undefined` give an empty text, objects their JSON.
pub fn eval_expression(
    expr: &str,
    vars: &BTreeMap<String, String>,
    limits: Limits,
) -> Result<String, ScriptError> {
    let fail = |message: String| ScriptError {
        line: 1,
        column: 1,
        message,
        syntax: false,
        stopped: false,
    };
    let js = Js::new().map_err(fail)?;
    let input = serde_json::to_string(&Input::default()).map_err(|e| fail(e.to_string()))?;
    js.arm(limits);
    let r = js.cx.with(|ctx| {
        let begin: Function = ctx.globals().get("__begin").map_err(|e| fail(e.to_string()))?;
        begin
            .call::<_, ()>((input,))
            .map_err(|e| fail(e.to_string()))?;
        let g = ctx.globals();
        for (name, value) in vars {
            g.set(name.as_str(), value.as_str())
                .map_err(|e| fail(e.to_string()))?;
        }
        let mut opts = EvalOptions::default();
        opts.global = true;
        opts.strict = false;
        opts.filename = Some(SCRIPT_NAME.into());
        // Parenthesised, so that an object literal is an expression; the value is
        // turned into text here.
        let code = format!(
            "(function (v) {{ if (v === undefined || v === null) return ''; if (typeof v === 'object') return JSON.stringify(v); return String(v); }})(({expr}\n))"
        );
        let r = ctx.eval_with_options::<String, _>(code, opts).catch(&ctx);
        r.map_err(|e| {
            script_error(&e, limits)
                .unwrap_or_else(|| fail("the expression called client.exit()".into()))
        })
    });
    js.disarm();
    r
}

/// A syntax error in `code`, without running it (for the editor's diagnostics).
pub fn check_syntax(code: &str) -> Option<ScriptError> {
    if let Some(lua) = lua_marked(code) {
        return Some(lua);
    }
    check_js_syntax(code).map(|e| lua_instead(code, e))
}

const LUA: &str = "this is a Lua script (kulala.nvim and rest.nvim run Lua): httplens runs JavaScript scripts only (the JetBrains API), so it is not run";

/// kulala.nvim marks a Lua script with a first line `-- lua`.
fn lua_marked(code: &str) -> Option<ScriptError> {
    let first = code.lines().map(str::trim).find(|l| !l.is_empty())?;
    let marked = first
        .strip_prefix("--")
        .is_some_and(|rest| rest.trim().eq_ignore_ascii_case("lua"));
    marked.then(|| ScriptError {
        line: 1,
        column: 1,
        message: LUA.into(),
        syntax: true,
        stopped: false,
    })
}

/// A syntax error in a script that reads as Lua (rest.nvim's scripts carry no
/// marker) says so, instead of pointing at a token JavaScript did not expect.
fn lua_instead(code: &str, e: ScriptError) -> ScriptError {
    let lua_ish = code.lines().map(str::trim).any(|l| {
        l.starts_with("local ") || l.starts_with("-- ") || l.contains("vim.") || l == "end"
    });
    if e.syntax && lua_ish {
        ScriptError {
            line: 1,
            column: 1,
            message: LUA.into(),
            ..e
        }
    } else {
        e
    }
}

fn check_js_syntax(code: &str) -> Option<ScriptError> {
    let rt = Runtime::new().ok()?;
    rt.set_memory_limit(16 << 20);
    let deadline = Instant::now() + Duration::from_millis(500);
    rt.set_interrupt_handler(Some(Box::new(move || Instant::now() > deadline)));
    let cx = Context::full(&rt).ok()?;
    cx.with(|ctx| {
        // `new Function(code)` compiles the text as a function body without running it.
        let f: Function = ctx.globals().get("Function").ok()?;
        let r = f.call::<_, rquickjs::Value>((code,)).catch(&ctx);
        let e = r.err()?;
        // The body is compiled as `(function anonymous(\n) {\n<code>\n})`: two lines
        // before the code.
        let mut err = script_error(&e, Limits::default())?;
        let (line, column) = position_in(&e, "<input>")
            .or_else(|| position_in(&e, "anonymous"))
            .unwrap_or((3, 1));
        err.line = line.saturating_sub(2).max(1);
        err.column = column;
        Some(err)
    })
}

fn install(ctx: &Ctx<'_>) -> rquickjs::Result<()> {
    let g = ctx.globals();
    g.set(
        "__digest",
        Function::new(
            ctx.clone(),
            |alg: String, spec: String| -> rquickjs::Result<String> {
                digest(&alg, &spec)
                    .map_err(|m| rquickjs::Error::new_from_js_message("digest", "hex", m))
            },
        )?,
    )?;
    g.set(
        "__b64",
        Function::new(ctx.clone(), |hex: String, url_safe: bool| -> String {
            let bytes = decode_hex(&hex).unwrap_or_default();
            if url_safe {
                base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
            } else {
                base64::engine::general_purpose::STANDARD.encode(bytes)
            }
        })?,
    )?;
    let mut opts = EvalOptions::default();
    opts.global = true;
    opts.strict = true;
    opts.filename = Some("httplens-prelude".into());
    ctx.eval_with_options::<(), _>(PRELUDE, opts)
}

/// The error of a script that threw, with its position in the script; `None` for
/// `client.exit()`.
fn script_error(e: &CaughtError<'_>, limits: Limits) -> Option<ScriptError> {
    let syntax = match e {
        CaughtError::Exception(ex) => ex
            .get::<_, String>("name")
            .is_ok_and(|n| n == "SyntaxError"),
        _ => false,
    };
    let (message, stack) = match e {
        CaughtError::Exception(ex) => (
            ex.message().unwrap_or_else(|| "error".into()),
            ex.stack().unwrap_or_default(),
        ),
        CaughtError::Value(v) => (
            format!(
                "the script threw {}",
                v.as_string()
                    .and_then(|s| s.to_string().ok())
                    .unwrap_or_else(|| format!("{:?}", v.type_of()))
            ),
            String::new(),
        ),
        CaughtError::Error(err) => (err.to_string(), String::new()),
    };
    if message == EXIT_SENTINEL {
        return None;
    }
    let stopped = matches!(message.as_str(), "interrupted" | "out of memory");
    let message = match message.as_str() {
        "interrupted" => format!(
            "the script ran longer than {} s and was stopped",
            limits.time.as_secs_f64()
        ),
        "out of memory" => format!(
            "the script used more than {} MB of memory and was stopped",
            limits.memory >> 20
        ),
        _ => message,
    };
    let (line, column) = stack_position(&stack, SCRIPT_NAME).unwrap_or((1, 1));
    Some(ScriptError {
        line,
        column,
        message,
        syntax,
        stopped,
    })
}

fn position_in(e: &CaughtError<'_>, file: &str) -> Option<(u32, u32)> {
    match e {
        CaughtError::Exception(ex) => stack_position(&ex.stack()?, file),
        _ => None,
    }
}

/// The first `FILE:LINE:COL` in a QuickJS stack trace.
fn stack_position(stack: &str, file: &str) -> Option<(u32, u32)> {
    let needle = format!("{file}:");
    let mut rest = stack;
    while let Some(i) = rest.find(&needle) {
        let after = &rest[i + needle.len()..];
        let mut nums = after.splitn(3, |c: char| !c.is_ascii_digit());
        if let (Some(l), Some(c)) = (nums.next(), nums.next())
            && let (Ok(l), Ok(c)) = (l.parse(), c.parse())
        {
            return Some((l, c));
        }
        rest = after;
    }
    None
}

#[derive(Deserialize)]
struct DigestSpec {
    key: Option<(String, String)>,
    parts: Vec<(String, String)>,
}

fn decode_part(kind: &str, value: &str) -> Result<Vec<u8>, String> {
    match kind {
        "hex" => decode_hex(value).ok_or_else(|| format!("`{value}` is not hexadecimal")),
        "base64" => base64::engine::general_purpose::STANDARD
            .decode(value.trim())
            .or_else(|_| base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(value.trim()))
            .map_err(|_| "not valid base64".to_string()),
        _ => Ok(value.as_bytes().to_vec()),
    }
}

fn decode_hex(s: &str) -> Option<Vec<u8>> {
    let s = s.trim();
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

/// `crypto.*` and `crypto.hmac.*`: the hex digest of the parts.
fn digest(alg: &str, spec: &str) -> Result<String, String> {
    use ring::{digest as d, hmac};
    let spec: DigestSpec = serde_json::from_str(spec).map_err(|e| e.to_string())?;
    let mut data = Vec::new();
    for (kind, value) in &spec.parts {
        data.extend(decode_part(kind, value)?);
    }
    let bytes: Vec<u8> = match spec.key {
        None => {
            let a = match alg {
                "sha1" => &d::SHA1_FOR_LEGACY_USE_ONLY,
                "sha256" => &d::SHA256,
                "sha384" => &d::SHA384,
                "sha512" => &d::SHA512,
                _ => return Err(format!("unknown digest `{alg}`")),
            };
            d::digest(a, &data).as_ref().to_vec()
        }
        Some((kind, key)) => {
            let a = match alg {
                "sha1" => hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY,
                "sha256" => hmac::HMAC_SHA256,
                "sha384" => hmac::HMAC_SHA384,
                "sha512" => hmac::HMAC_SHA512,
                _ => return Err(format!("unknown HMAC `{alg}`")),
            };
            let key = hmac::Key::new(a, &decode_part(&kind, &key)?);
            hmac::sign(&key, &data).as_ref().to_vec()
        }
    };
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn json_response(body: &str) -> Input {
        Input {
            response: Some(ResponseData {
                status: 200,
                headers: vec![("Content-Type".into(), "application/json".into())],
                content_type: Some("application/json; charset=utf-8".into()),
                body: body.into(),
            }),
            ..Input::default()
        }
    }

    #[test]
    fn a_handler_sets_a_global_from_the_json_body() {
        let out = run(
            r#"client.global.set("auth_token", response.body.token);
               client.test("ok", function () { client.assert(response.status === 200, "status"); });
               client.log("got", response.body.token.length, {a: 1});"#,
            &json_response(r#"{"token":"abc"}"#),
            Limits::default(),
        );
        assert_eq!(out.error, None);
        assert_eq!(
            out.globals.get("auth_token").map(String::as_str),
            Some("abc")
        );
        assert_eq!(
            out.tests,
            [TestResult {
                name: "ok".into(),
                passed: true,
                message: None
            }]
        );
        assert_eq!(out.logs, ["got 3 {\"a\":1}"]);
    }

    #[test]
    fn errors_name_their_line_and_column_in_the_script() {
        let out = run(
            "let a = 1;\nlet b = a.x.y;\n",
            &Input::default(),
            Limits::default(),
        );
        let e = out.error.expect("an error");
        assert_eq!((e.line, e.column), (2, 9), "{e:?}");
        assert!(e.message.contains("undefined"), "{e:?}");
    }

    #[test]
    fn a_runaway_loop_and_a_huge_allocation_are_stopped() {
        let limits = Limits {
            time: Duration::from_millis(200),
            memory: 16 << 20,
        };
        let e = run("while (true) {}", &Input::default(), limits)
            .error
            .unwrap();
        assert!(e.message.contains("ran longer than 0.2 s"), "{e:?}");
        let e = run(
            "let a = []; for (;;) a.push(new Array(1e6).fill(1));",
            &Input::default(),
            limits,
        )
        .error
        .unwrap();
        assert!(e.message.contains("more than 16 MB"), "{e:?}");
    }

    /// Endless recursion ends with an error at the script, on the thread that runs it
    /// (a runtime worker, whose stack is smaller than a main thread's), and the
    /// sandbox goes on.
    #[test]
    fn endless_recursion_is_an_error_on_a_runtime_worker() {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let sandbox = Sandbox::new();
        let (deep, next) = rt.block_on(async {
            tokio::spawn(async move {
                let deep = sandbox
                    .run(
                        "function f(n) { return f(n + 1) + 1; } f(0);".into(),
                        Input::default(),
                        Limits::default(),
                    )
                    .await;
                let next = sandbox
                    .run(
                        "client.global.set('a', 'b')".into(),
                        Input::default(),
                        Limits::default(),
                    )
                    .await;
                (deep, next)
            })
            .await
            .unwrap()
        });
        let e = deep.error.expect("stopped");
        assert!(e.message.contains("call stack size exceeded"), "{e:?}");
        assert_eq!(next.error, None);
        assert_eq!(next.globals.get("a").map(String::as_str), Some("b"));
    }

    #[test]
    fn require_and_timers_are_refused_clearly() {
        for code in [
            "require('fs')",
            "setTimeout(function(){}, 1)",
            "fetch('http://127.0.0.1/')",
        ] {
            let e = run(code, &Input::default(), Limits::default())
                .error
                .unwrap();
            assert!(e.message.contains("sandbox"), "{code}: {e:?}");
        }
        let out = run(
            "typeof std + typeof os + typeof process",
            &Input::default(),
            Limits::default(),
        );
        assert_eq!(out.error, None);
    }

    #[test]
    fn exit_ends_the_script_quietly() {
        let out = run(
            "client.global.set('a', 1); client.exit(); client.global.set('b', 2);",
            &Input::default(),
            Limits::default(),
        );
        assert_eq!(out.error, None);
        assert_eq!(out.globals.keys().collect::<Vec<_>>(), ["a"]);
    }

    #[test]
    fn crypto_digests_and_hmacs_match_known_values() {
        let out = run(
            r#"client.global.set("s", crypto.sha256().updateWithText("abc").digest().toHex());
               client.global.set("h", crypto.hmac.sha256().withTextSecret("key").updateWithText("The quick brown fox jumps over the lazy dog").digest().toHex());
               client.global.set("b", crypto.sha1().updateWithText("abc").digest().toBase64());"#,
            &Input::default(),
            Limits::default(),
        );
        assert_eq!(out.error, None);
        assert_eq!(
            out.globals["s"],
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(
            out.globals["h"],
            "f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8"
        );
        assert_eq!(out.globals["b"], "qZk+NkcGgWq6PiVxeFDCbJzQ2J0=");
    }

    #[test]
    fn expressions_see_the_variables_and_give_text() {
        let vars = BTreeMap::from([("page".to_string(), "4".to_string())]);
        let eval = |e: &str| eval_expression(e, &vars, Limits::default());
        assert_eq!(eval("page * 2").unwrap(), "8");
        assert_eq!(eval("'a-' + page").unwrap(), "a-4");
        assert_eq!(eval("{ a: [1, 2] }").unwrap(), r#"{"a":[1,2]}"#);
        assert_eq!(eval("undefined").unwrap(), "");
        assert_eq!(eval("$random.uuid").unwrap().len(), 36);
        let e = eval("nope + 1").unwrap_err();
        assert!(e.message.contains("nope is not defined"), "{e:?}");
        assert!(!e.syntax);
        let e = eval("page +").unwrap_err();
        assert!(e.message.contains("unexpected") && e.syntax, "{e:?}");
    }

    #[test]
    fn syntax_errors_are_found_without_running() {
        assert_eq!(check_syntax("client.log(1);\nwhile (true) {}"), None);
        // Lua (kulala's `-- lua` marker, or rest.nvim's unmarked scripts) says so.
        for lua in [
            "-- lua\nclient.global.set('a', 1)",
            "local body = vim.json.decode(response.body)\nclient.global.set(\"id\", body.id)",
        ] {
            let e = check_syntax(lua).expect("a Lua script is not JavaScript");
            assert!(e.message.contains("Lua"), "{e:?}");
            let out = run(lua, &Input::default(), Limits::default());
            assert!(out.error.unwrap().message.contains("Lua script"), "{lua}");
        }
        // A JavaScript syntax error with a `--` decrement is not called Lua.
        assert!(
            !check_syntax("x--;\nlet b = ;")
                .unwrap()
                .message
                .contains("Lua")
        );
        let e = check_syntax("let a = 1;\nlet b = ;\n").expect("a syntax error");
        assert_eq!(e.line, 2, "{e:?}");
    }
}
