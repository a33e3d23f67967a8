//! Environment files: JetBrains `http-client.env.json` / `http-client.private.env.json`
//! and REST Client's `rest-client.environmentVariables` in `.vscode/settings.json`,
//! found, parsed (with diagnostics that name the file, line and column), merged and
//! selected.
//!
//! Layering, lowest first (a later layer wins a clash; objects merge key by key, so a
//! private `Security.Auth.shop."Client Secret"` completes the public profile):
//! `.vscode/settings.json` `$shared`, public `$shared`, private `$shared`, then the
//! selected environment in the same three files. That is the documented precedence
//! "private, then public, then `$shared`"; REST Client's settings sit below the
//! JetBrains files because they are the editor-wide fallback, not the project's own.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde_json::{Map, Value};

use crate::secret::SecretSet;
use crate::syntax::SourceFile;
use crate::syntax::ast::Severity;
use crate::text::{TextRange, offset_of_line_byte_col};

use super::root::folders_up_to;

pub const PUBLIC_ENV_FILE: &str = "http-client.env.json";
pub const PRIVATE_ENV_FILE: &str = "http-client.private.env.json";
pub const SHARED_ENV: &str = "$shared";
/// kulala's name for a second shared section (variables and default headers).
pub const KULALA_SHARED_ENV: &str = "$kulalaShared";
/// kulala's default headers, under a shared section or an environment.
pub const DEFAULT_HEADERS_KEY: &str = "$kulalaDefaultHeaders";
const VSCODE_SETTINGS_KEY: &str = "rest-client.environmentVariables";

/// A problem in an env file: reported against that file, never stopping anything else.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnvDiagnostic {
    pub path: PathBuf,
    /// The file's text as read (empty when it could not be read): `range` points
    /// into it, and printing the diagnostic turns that into `line:col`.
    pub text: Arc<str>,
    /// Byte range in `text` (empty at 0 for a problem of the whole file).
    pub range: TextRange,
    pub severity: Severity,
    /// One sentence, no closing period.
    pub message: String,
}

impl EnvDiagnostic {
    /// A problem of the whole file (it cannot be read, it is not an object).
    pub fn whole_file(path: &Path, text: &str, message: String) -> Self {
        EnvDiagnostic {
            path: path.to_path_buf(),
            text: Arc::from(text),
            range: TextRange::empty(0),
            severity: Severity::Error,
            message,
        }
    }
}

/// `path:line:col: severity: message`, as every front end prints it.
impl fmt::Display for EnvDiagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let source = SourceFile::new(&self.path, &self.text);
        f.write_str(&source.render(self.range, self.severity, &self.message))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EnvFileKind {
    /// `.vscode/settings.json`, `rest-client.environmentVariables`.
    VsCodeSettings,
    /// `http-client.env.json`.
    Public,
    /// `http-client.private.env.json`: every value from here is a secret.
    Private,
}

/// One env file that was found and read (possibly with errors: then `envs` holds what
/// could be read, usually nothing).
#[derive(Debug, Clone)]
pub struct EnvFile {
    pub path: PathBuf,
    pub kind: EnvFileKind,
    pub text: String,
    /// Environment name -> its object.
    pub envs: Map<String, Value>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EnvError {
    #[error("there is no environment named `{name}`{}", available_list(.available))]
    UnknownEnvironment {
        name: String,
        available: Vec<String>,
    },
}

fn available_list(names: &[String]) -> String {
    if names.is_empty() {
        " (no environment is defined: add an http-client.env.json)".to_string()
    } else {
        format!(" (available: {})", names.join(", "))
    }
}

/// All environments visible from one request file.
#[derive(Debug, Clone, Default)]
pub struct Environments {
    /// Lowest precedence first: settings, public, private.
    pub files: Vec<EnvFile>,
    pub diagnostics: Vec<EnvDiagnostic>,
}

/// One variable of the selected environment as the env files give it: the winning
/// value after layering and the file it came from (the resolver reads these; the
/// editor's view of a variable is `ide::EnvVarView`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnvFileVar {
    /// The value as text (numbers and booleans converted, objects as JSON); may
    /// reference other variables (`{{host}}`).
    pub value: String,
    /// True when the winning value came from the private file.
    pub secret: bool,
    /// The file the winning value came from.
    pub source: PathBuf,
}

/// The merged `Security.Auth` object of the selected environment, for `auth`.
#[derive(Debug, Clone)]
pub struct AuthConfig {
    /// `{"<profile id>": {"Type": "OAuth2", ...}, ...}` exactly as merged from the files.
    pub profiles: Value,
    /// The files that contributed to it (public first), for diagnostics.
    pub sources: Vec<PathBuf>,
    /// Every string that came from the private file (client secrets, passwords).
    pub secrets: SecretSet,
}

/// The selected environment (or none: then only `$shared` applies), merged.
#[derive(Debug, Clone, Default)]
pub struct Environment {
    pub name: Option<String>,
    pub vars: BTreeMap<String, EnvFileVar>,
    /// `$shared` alone (for REST Client's `{{$shared name}}`).
    pub shared: BTreeMap<String, EnvFileVar>,
    pub auth: Option<AuthConfig>,
    /// Every string value from the private file that applies to this selection.
    pub secrets: SecretSet,
    /// kulala's `$kulalaDefaultHeaders` (name, value template) for every request that
    /// does not set the header itself.
    pub default_headers: Vec<(String, String)>,
    /// Variable name -> environments (other than the selected one) defining it, for
    /// the "select an environment" hint.
    pub defined_elsewhere: BTreeMap<String, Vec<String>>,
}

impl Environment {
    /// No environment files at all.
    pub fn empty() -> Self {
        Environment::default()
    }
    pub fn get(&self, name: &str) -> Option<&EnvFileVar> {
        self.vars.get(name)
    }

    /// The variables one layer writes: its keys, and the dotted paths below its objects
    /// (`{{deep.nested.var}}`, httpyac and kulala), each leaf from the layer that wrote
    /// it. `Security` holds auth profiles, not variables; kulala's default headers are
    /// not variables either.
    fn add_layer_vars(&mut self, file: &EnvFile, value: &Value, shared: bool) {
        let Value::Object(map) = value else { return };
        let mut flat = Vec::new();
        for (k, v) in map {
            if k == DEFAULT_HEADERS_KEY {
                continue;
            }
            flat.push((k.clone(), v));
            if k != "Security" {
                nested_paths(k, v, 0, &mut flat);
            }
        }
        let secret = file.kind == EnvFileKind::Private;
        for (k, v) in flat {
            let var = EnvFileVar {
                value: value_text(v),
                secret,
                source: file.path.clone(),
            };
            if shared {
                self.shared.insert(k.clone(), var.clone());
            }
            self.vars.insert(k, var);
        }
    }

    /// Objects are merged deeply: the text of an object variable is the merged object,
    /// not the last layer's part of it.
    fn use_merged_objects(&mut self, merged: &Value) {
        let Value::Object(map) = merged else { return };
        let mut all: Vec<(String, &Value)> = Vec::new();
        for (k, v) in map {
            all.push((k.clone(), v));
            if k != "Security" {
                nested_paths(k, v, 0, &mut all);
            }
        }
        for (k, v) in all {
            if v.is_object()
                && let Some(var) = self.vars.get_mut(&k)
            {
                var.value = value_text(v);
            }
        }
    }
}

impl Environments {
    /// Find and read the env files for `request_file`, from its folder up to `root`
    /// (the nearest file of each kind wins), plus `<root>/.vscode/settings.json`.
    pub fn load(request_file: &Path, root: &Path) -> Environments {
        let dir = request_file.parent().unwrap_or(Path::new("."));
        let folders = folders_up_to(dir, root);
        let mut envs = Environments::default();
        let settings = root.join(".vscode").join("settings.json");
        if settings.is_file() {
            envs.read_file(&settings, EnvFileKind::VsCodeSettings);
        }
        for (name, kind) in [
            (PUBLIC_ENV_FILE, EnvFileKind::Public),
            (PRIVATE_ENV_FILE, EnvFileKind::Private),
        ] {
            if let Some(path) = folders.iter().map(|f| f.join(name)).find(|p| p.is_file()) {
                envs.read_file(&path, kind);
            }
        }
        envs
    }

    /// Parse env file text as if read from `path` (tests, unsaved editor buffers).
    pub fn add_text(&mut self, path: &Path, kind: EnvFileKind, text: String) {
        let parsed = match kind {
            EnvFileKind::VsCodeSettings => parse_settings_file(path, &text),
            EnvFileKind::Public | EnvFileKind::Private => parse_env_file(path, &text),
        };
        let envs = match parsed {
            Ok(map) => self.keep_environments(path, &text, map),
            Err(d) => {
                self.diagnostics.push(d);
                Map::new()
            }
        };
        self.files.push(EnvFile {
            path: path.to_path_buf(),
            kind,
            text,
            envs,
        });
        // Keep the layering order whatever order files were added in.
        self.files.sort_by_key(|f| match f.kind {
            EnvFileKind::VsCodeSettings => 0,
            EnvFileKind::Public => 1,
            EnvFileKind::Private => 2,
        });
    }

    /// The environments of a file's top-level object: every object value, except the
    /// `"$schema"` key; any other value is reported and left out.
    fn keep_environments(
        &mut self,
        path: &Path,
        text: &str,
        map: Map<String, Value>,
    ) -> Map<String, Value> {
        let mut envs = Map::new();
        for (name, value) in map {
            // kulala's template and editors' JSON schemas put `"$schema"` at the top: it
            // names the file's schema, not an environment.
            if name == "$schema" {
                continue;
            }
            if value.is_object() {
                envs.insert(name, value);
            } else {
                self.diagnostics.push(diag_at_key(
                    path,
                    text,
                    &name,
                    format!("environment `{name}` must be a JSON object of variables"),
                ));
            }
        }
        envs
    }

    fn read_file(&mut self, path: &Path, kind: EnvFileKind) {
        match std::fs::read_to_string(path) {
            Ok(text) => self.add_text(path, kind, text),
            Err(e) => self.diagnostics.push(EnvDiagnostic::whole_file(
                path,
                "",
                format!("cannot read the env file: {e}"),
            )),
        }
    }

    /// Environment names in file order, without `$shared`.
    pub fn names(&self) -> Vec<String> {
        let mut names: Vec<String> = Vec::new();
        // Public first so the order follows the committed file.
        let mut files: Vec<&EnvFile> = self.files.iter().collect();
        files.sort_by_key(|f| match f.kind {
            EnvFileKind::Public => 0,
            EnvFileKind::Private => 1,
            EnvFileKind::VsCodeSettings => 2,
        });
        for f in files {
            for name in f.envs.keys() {
                if name != SHARED_ENV && name != KULALA_SHARED_ENV && !names.contains(name) {
                    names.push(name.clone());
                }
            }
        }
        names
    }

    pub fn has_any_file(&self) -> bool {
        !self.files.is_empty()
    }

    /// Merge the selected environment (`None`: only `$shared`). Naming an environment
    /// that no file defines is an error.
    pub fn select(&self, name: Option<&str>) -> Result<Environment, EnvError> {
        let names = self.names();
        if let Some(n) = name
            && !names.iter().any(|x| x == n)
        {
            return Err(EnvError::UnknownEnvironment {
                name: n.to_string(),
                available: names,
            });
        }
        let (layers, shared_count) = self.layers(name);
        let mut env = Environment {
            name: name.map(str::to_string),
            ..Environment::default()
        };
        let mut merged = Value::Object(Map::new());
        let mut auth_sources: Vec<PathBuf> = Vec::new();
        for (i, (file, value)) in layers.iter().enumerate() {
            if file.kind == EnvFileKind::Private {
                collect_strings(value, &mut env.secrets);
            }
            if value.get("Security").and_then(|s| s.get("Auth")).is_some()
                && !auth_sources.contains(&file.path)
            {
                auth_sources.push(file.path.clone());
            }
            env.add_layer_vars(file, value, i < shared_count);
            deep_merge(&mut merged, value);
        }
        env.use_merged_objects(&merged);
        // kulala's default headers: the shared sections' first, the environment's over
        // them (merged by name); a request's own header wins over both (build.rs).
        if let Some(Value::Object(h)) = merged.get(DEFAULT_HEADERS_KEY) {
            env.default_headers = h.iter().map(|(k, v)| (k.clone(), value_text(v))).collect();
        }
        if let Some(auth) = merged.get("Security").and_then(|s| s.get("Auth")) {
            env.auth = Some(AuthConfig {
                profiles: auth.clone(),
                sources: auth_sources,
                secrets: env.secrets.clone(),
            });
        }
        env.defined_elsewhere = self.defined_elsewhere(&names, name);
        Ok(env)
    }

    /// The objects to merge, lowest precedence first, and how many of them are shared
    /// sections (`$shared`, `$kulalaShared` of every file, then the named environment of
    /// every file).
    fn layers(&self, name: Option<&str>) -> (Vec<(&EnvFile, &Value)>, usize) {
        let mut layers: Vec<(&EnvFile, &Value)> = Vec::new();
        for f in &self.files {
            for shared in [SHARED_ENV, KULALA_SHARED_ENV] {
                if let Some(v) = f.envs.get(shared) {
                    layers.push((f, v));
                }
            }
        }
        let shared_count = layers.len();
        if let Some(n) = name {
            for f in &self.files {
                if let Some(v) = f.envs.get(n) {
                    layers.push((f, v));
                }
            }
        }
        (layers, shared_count)
    }

    /// Variable name -> the environments other than `selected` that define it.
    fn defined_elsewhere(
        &self,
        names: &[String],
        selected: Option<&str>,
    ) -> BTreeMap<String, Vec<String>> {
        let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for other in names {
            if Some(other.as_str()) == selected {
                continue;
            }
            for f in &self.files {
                if let Some(Value::Object(map)) = f.envs.get(other) {
                    for k in map.keys() {
                        let list = out.entry(k.clone()).or_default();
                        if !list.contains(other) {
                            list.push(other.clone());
                        }
                    }
                }
            }
        }
        out
    }

    /// Where `key` is first written in the env file at `path` (the byte range of
    /// `"key"`), for diagnostics about a profile or a variable.
    pub fn locate(&self, path: &Path, key: &str) -> Option<TextRange> {
        let f = self.files.iter().find(|f| f.path == path)?;
        locate_key(&f.text, key)
    }
}

/// `.vscode/settings.json`: its `rest-client.environmentVariables` object (none: no
/// environments). Comments and trailing commas are allowed.
fn parse_settings_file(path: &Path, text: &str) -> Result<Map<String, Value>, EnvDiagnostic> {
    match serde_json::from_str::<Value>(&strip_jsonc(text)) {
        Ok(Value::Object(mut settings)) => match settings.remove(VSCODE_SETTINGS_KEY) {
            None => Ok(Map::new()),
            Some(Value::Object(m)) => Ok(m),
            Some(_) => Err(diag_at_key(
                path,
                text,
                VSCODE_SETTINGS_KEY,
                format!("`{VSCODE_SETTINGS_KEY}` must be an object of environments"),
            )),
        },
        Ok(_) => Err(EnvDiagnostic::whole_file(
            path,
            text,
            "the settings file must hold a JSON object".into(),
        )),
        Err(e) => Err(json_error(path, text, &e)),
    }
}

/// A JetBrains env file: one object of environments. JetBrains and Visual Studio accept
/// comments in env files (JSONC): a file that is not plain JSON is read again without
/// them. When neither reads, the plain parse's position is reported.
fn parse_env_file(path: &Path, text: &str) -> Result<Map<String, Value>, EnvDiagnostic> {
    let value = serde_json::from_str::<Value>(text)
        .or_else(|plain| serde_json::from_str::<Value>(&strip_jsonc(text)).map_err(|_| plain));
    match value {
        Ok(Value::Object(m)) => Ok(m),
        Ok(_) => Err(EnvDiagnostic::whole_file(
            path,
            text,
            "an env file must hold a JSON object of environments \
             (`{\"dev\": {\"host\": \"...\"}}`)"
                .into(),
        )),
        Err(e) => Err(json_error(path, text, &e)),
    }
}

/// A problem at the first place `key` is written as a key (the whole file when it is not
/// found).
fn diag_at_key(path: &Path, text: &str, key: &str, message: String) -> EnvDiagnostic {
    EnvDiagnostic {
        range: locate_key(text, key).unwrap_or_default(),
        ..EnvDiagnostic::whole_file(path, text, message)
    }
}

/// The dotted paths below an object value (`deep.nested`, `deep.nested.var`), at most
/// 16 levels deep.
fn nested_paths<'v>(prefix: &str, v: &'v Value, depth: usize, out: &mut Vec<(String, &'v Value)>) {
    let Value::Object(map) = v else { return };
    if depth >= 16 {
        return;
    }
    for (k, child) in map {
        let path = format!("{prefix}.{k}");
        nested_paths(&path, child, depth + 1, out);
        out.push((path, child));
    }
}

/// Text of an env value: strings as they are, numbers and booleans converted, `null`
/// empty, objects and arrays as compact JSON.
pub fn value_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        other => other.to_string(),
    }
}

fn collect_strings(v: &Value, out: &mut SecretSet) {
    match v {
        Value::String(s) => out.add(s),
        Value::Number(n) => out.add(&n.to_string()),
        Value::Array(a) => a.iter().for_each(|x| collect_strings(x, out)),
        Value::Object(m) => m.values().for_each(|x| collect_strings(x, out)),
        _ => {}
    }
}

/// Merge `over` into `base`: objects key by key, anything else replaced.
pub fn deep_merge(base: &mut Value, over: &Value) {
    match (base, over) {
        (Value::Object(b), Value::Object(o)) => {
            for (k, v) in o {
                match b.get_mut(k) {
                    Some(existing) if existing.is_object() && v.is_object() => {
                        deep_merge(existing, v)
                    }
                    _ => {
                        b.insert(k.clone(), v.clone());
                    }
                }
            }
        }
        (b, o) => *b = o.clone(),
    }
}

fn json_error(path: &Path, text: &str, e: &serde_json::Error) -> EnvDiagnostic {
    // serde_json appends " at line L column C" to its message; the position is given
    // separately, so drop it from the sentence.
    let msg = e.to_string();
    let msg = msg
        .rsplit_once(" at line ")
        .map(|(m, _)| m.to_string())
        .unwrap_or(msg);
    // serde_json's column counts bytes (JSONC stripping keeps every byte in place).
    let at = offset_of_line_byte_col(text, e.line(), e.column());
    EnvDiagnostic {
        range: TextRange::empty(at),
        ..EnvDiagnostic::whole_file(path, text, format!("invalid JSON in the env file: {msg}"))
    }
}

/// The byte range of the first `"key"` in `text` that is followed by `:` (a key, not a
/// value).
pub fn locate_key(text: &str, key: &str) -> Option<TextRange> {
    let needle = serde_json::to_string(key).ok()?;
    let mut from = 0;
    while let Some(i) = text[from..].find(&needle) {
        let at = from + i;
        let after = text[at + needle.len()..].trim_start();
        if after.starts_with(':') {
            return Some(TextRange::new(at, at + needle.len()));
        }
        from = at + needle.len();
    }
    None
}

/// JSON with comments (VS Code settings) to JSON: comments and trailing commas become
/// spaces, so serde_json's line and column still point into the original text.
pub fn strip_jsonc(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = bytes.to_vec();
    let mut i = 0;
    let mut in_string = false;
    while i < bytes.len() {
        let b = bytes[i];
        if in_string {
            if b == b'\\' {
                i += 2;
                continue;
            }
            if b == b'"' {
                in_string = false;
            }
            i += 1;
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'/' if bytes.get(i + 1) == Some(&b'/') => {
                while i < bytes.len() && bytes[i] != b'\n' {
                    out[i] = b' ';
                    i += 1;
                }
                continue;
            }
            b'/' if bytes.get(i + 1) == Some(&b'*') => {
                let start = i;
                i += 2;
                while i < bytes.len() && !(bytes[i] == b'*' && bytes.get(i + 1) == Some(&b'/')) {
                    i += 1;
                }
                let end = (i + 2).min(bytes.len());
                for o in &mut out[start..end] {
                    if *o != b'\n' && *o != b'\r' {
                        *o = b' ';
                    }
                }
                i = end;
                continue;
            }
            b',' => {
                let rest = &out[i + 1..];
                let next = rest.iter().find(|c| !c.is_ascii_whitespace());
                if matches!(next, Some(b'}') | Some(b']')) {
                    out[i] = b' ';
                }
            }
            _ => {}
        }
        i += 1;
    }
    // Only ASCII bytes outside strings were replaced by ASCII spaces, and multi-byte
    // characters inside comments were blanked byte by byte: both stay valid UTF-8.
    String::from_utf8(out).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn envs(public: &str, private: Option<&str>) -> Environments {
        let mut e = Environments::default();
        e.add_text(
            Path::new("/w/http-client.env.json"),
            EnvFileKind::Public,
            public.into(),
        );
        if let Some(p) = private {
            e.add_text(
                Path::new("/w/http-client.private.env.json"),
                EnvFileKind::Private,
                p.into(),
            );
        }
        e
    }

    #[test]
    fn merge_private_shared_and_auth() {
        let e = envs(
            r#"{"$shared": {"v": 1, "host": "shared"}, "dev": {"host": "dev.local", "flag": true,
                "Security": {"Auth": {"shop": {"Type": "OAuth2", "Client ID": "id"}}}}, "prod": {"only": "p"}}"#,
            Some(
                r#"{"dev": {"pw": "hunter22", "Security": {"Auth": {"shop": {"Client Secret": "s3cret"}}}}}"#,
            ),
        );
        assert!(e.diagnostics.is_empty(), "{:?}", e.diagnostics);
        assert_eq!(e.names(), vec!["dev", "prod"]);
        let dev = e.select(Some("dev")).unwrap();
        assert_eq!(dev.get("host").unwrap().value, "dev.local");
        assert_eq!(dev.get("v").unwrap().value, "1");
        assert_eq!(dev.get("flag").unwrap().value, "true");
        assert!(dev.get("pw").unwrap().secret);
        assert!(!dev.get("host").unwrap().secret);
        let auth = dev.auth.unwrap();
        assert_eq!(auth.profiles["shop"]["Client ID"], "id");
        assert_eq!(auth.profiles["shop"]["Client Secret"], "s3cret");
        assert_eq!(auth.sources.len(), 2);
        assert!(auth.secrets.leaks_into("x s3cret"));
        assert_eq!(dev.defined_elsewhere["only"], vec!["prod".to_string()]);
        let none = e.select(None).unwrap();
        assert_eq!(none.get("host").unwrap().value, "shared");
        assert!(none.get("pw").is_none());
        let err = e.select(Some("stage")).unwrap_err().to_string();
        assert_eq!(
            err,
            "there is no environment named `stage` (available: dev, prod)"
        );
    }

    #[test]
    fn keys_are_found_as_keys() {
        let t = "{\n  \"é\": {\"a\": \"a\", \"b\": {\"a\" : 1}}\n}";
        let r = locate_key(t, "a").unwrap();
        assert_eq!(r.slice(t), "\"a\"");
        assert_eq!(r.start as usize, t.find("\"a\"").unwrap());
        let r = locate_key(t, "é").unwrap();
        assert_eq!(r.start, 4);
        assert_eq!(locate_key(t, "x"), None);
        assert_eq!(locate_key("{\"v\": \"k\"}", "k"), None);
    }

    #[test]
    fn malformed_files_give_positions() {
        let e = envs("{\n  \"dev\": {\n    \"a\": 1,,\n  }\n}", Some("[1]"));
        assert_eq!(e.diagnostics.len(), 2);
        let d = &e.diagnostics[0];
        assert_eq!(d.range.slice(&d.text), "");
        assert_eq!(&d.text[d.range.start as usize..][..2], ",\n");
        assert!(
            d.to_string()
                .starts_with("/w/http-client.env.json:3:12: error: invalid JSON in the env file: "),
            "{d}"
        );
        assert!(d.message.starts_with("invalid JSON"), "{}", d.message);
        assert!(!d.message.contains(" at line "));
        assert!(e.diagnostics[1].path.ends_with(PRIVATE_ENV_FILE));
        let e = envs("{\"dev\": {},\n \"x\": 3}", None);
        assert_eq!(e.diagnostics.len(), 1);
        let d = &e.diagnostics[0];
        assert_eq!(d.range.slice(&d.text), "\"x\"");
        assert_eq!(
            d.to_string(),
            "/w/http-client.env.json:2:2: error: environment `x` must be a JSON object of variables"
        );

        assert_eq!(e.names(), vec!["dev"]);
        // Columns are characters even where serde_json counts bytes.
        let e = envs("{\"é\": {\"ü\": 1,,}}", None);
        assert!(
            e.diagnostics[0]
                .to_string()
                .starts_with("/w/http-client.env.json:1:15: error: "),
            "{}",
            e.diagnostics[0]
        );
    }

    #[test]
    fn vscode_settings_with_comments() {
        let mut e = Environments::default();
        e.add_text(
            Path::new("/w/.vscode/settings.json"),
            EnvFileKind::VsCodeSettings,
            r#"{
  // REST Client environments
  "editor.tabSize": 2, /* inline */
  "rest-client.environmentVariables": {
    "$shared": {"version": "v1",},
    "local": {"host": "localhost:8080", "url": "http://{{host}}/{{$shared version}}"},
  },
}"#
            .into(),
        );
        assert!(e.diagnostics.is_empty(), "{:?}", e.diagnostics);
        assert_eq!(e.names(), vec!["local"]);
        let local = e.select(Some("local")).unwrap();
        assert_eq!(local.get("host").unwrap().value, "localhost:8080");
        assert_eq!(local.shared["version"].value, "v1");
    }
}
