//! Diagnostics of a request file: the parser's, the resolver's, and the hints the
//! editor adds itself (a body on GET), merged and sorted.

use super::Analysis;
use crate::auth::profile::ProfileIssue;
use crate::env::Workspace;
use crate::env::files::locate_key;
use crate::script::{self, ScriptError};
use crate::syntax::ast::{Diagnostic, HttpFile, Severity};
use crate::text::{LineCol, TextRange, offset_of_line_col};

/// Code of the "body on GET" hint.
pub const BODY_ON_GET: &str = "body-on-get";

/// `resolver` holds what the resolver found (unknown variables, profiles, missing
/// keys); the parse errors and editor hints are added here.
pub fn diagnostics(a: &Analysis, resolver: &[Diagnostic]) -> Vec<Diagnostic> {
    let mut out: Vec<Diagnostic> = a.parse.errors.clone();
    out.extend(resolver.iter().cloned());
    out.extend(script_diagnostics(a));
    if !resolver.iter().any(|d| d.code == BODY_ON_GET) {
        for block in &a.file().blocks {
            let Some(req) = &block.request else { continue };
            if let Some(body) = &req.body
                && req.method_name().eq_ignore_ascii_case("GET")
                && !body.range.is_empty()
            {
                let first_line = a.index.line_of(body.range.start as usize);
                let r = a.index.line_range(first_line, &a.text);
                out.push(Diagnostic {
                    range: TextRange::new(r.start as usize, r.end as usize),
                    severity: Severity::Hint,
                    message: "This GET request has a body, which many servers ignore; use POST or PUT to send data".into(),
                    code: BODY_ON_GET,
                });
            }
        }
    }
    out.sort_by_key(|d| (d.range.start, d.severity));
    out.dedup();
    out
}

/// Code of a syntax error in a script block.
pub const SCRIPT_SYNTAX: &str = "script-syntax";

/// Syntax errors of the inline scripts (`> {% %}`, `< {% %}`), at their exact range.
/// Checked by the script engine itself (compiled, never run); each distinct script
/// text is checked once per process, so an edit elsewhere costs a lookup.
pub fn script_diagnostics(a: &Analysis) -> Vec<Diagnostic> {
    use crate::syntax::ast::HandlerKind;
    use std::collections::HashMap;
    use std::sync::Mutex;
    static CHECKED: Mutex<Option<HashMap<u64, Option<ScriptError>>>> = Mutex::new(None);
    let mut out = Vec::new();
    for block in &a.file().blocks {
        let Some(req) = &block.request else { continue };
        for h in req.handlers.iter() {
            let HandlerKind::Script(code) = &h.kind else {
                continue;
            };
            let key = {
                use std::hash::BuildHasher;
                foldhash::quality::FixedState::with_seed(0).hash_one(code.as_str())
            };
            let cached = CHECKED
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .get_or_insert_with(HashMap::new)
                .get(&key)
                .cloned();
            let found = match cached {
                Some(found) => found,
                None => {
                    let found = script::check_syntax(code);
                    let mut guard = CHECKED.lock().unwrap_or_else(|e| e.into_inner());
                    let map = guard.get_or_insert_with(HashMap::new);
                    if map.len() > 4096 {
                        map.clear();
                    }
                    map.insert(key, found.clone());
                    found
                }
            };
            let Some(e) = found else { continue };
            let Some(open) = h.range.slice(&a.text).find("{%") else {
                continue;
            };
            let code_start = h.range.start as usize + open + 2;
            let (start, end) = script_position(code, e.line, e.column);
            out.push(Diagnostic {
                range: TextRange::new(code_start + start, code_start + end),
                severity: Severity::Error,
                message: format!("script: {}", e.message),
                code: SCRIPT_SYNTAX,
            });
        }
    }
    out
}

/// Byte range in `code` from the engine's one-based `line`:`column` (characters) to
/// the end of that line (at least one character where there is one).
fn script_position(code: &str, line: u32, column: u32) -> (usize, usize) {
    let start = offset_of_line_col(code, LineCol { line, col: column });
    let line_end = code[start..].find('\n').map_or(code.len(), |i| start + i);
    let end = if start < line_end {
        line_end
    } else {
        code[start..]
            .chars()
            .next()
            .map_or(start, |c| start + c.len_utf8())
    };
    (start, end.max(start))
}

/// Code of an auth profile that cannot be used (a required key missing, a bad value).
pub const AUTH_PROFILE: &str = "auth-profile";
/// Code of a problem in an env file (malformed JSON, a bad profile).
pub const ENV_FILE: &str = "env-file";

/// The auth profiles of the workspace's selected environment that cannot be used: an
/// error at every `$auth.token("id")` / `$auth.idToken("id")` of such a profile.
/// (An unknown profile is the resolver's finding.)
pub fn profile_use_diagnostics(file: &HttpFile, issues: &[ProfileIssue]) -> Vec<Diagnostic> {
    use crate::auth::profile::IssueSeverity;
    use crate::syntax::ast::VarExpr;
    let mut out = Vec::new();
    if !issues.iter().any(|i| i.severity == IssueSeverity::Error) {
        return out;
    }
    for block in &file.blocks {
        for r in super::block_var_refs(block) {
            let VarExpr::Auth { profile, .. } = &r.expr else {
                continue;
            };
            for i in issues
                .iter()
                .filter(|i| &i.profile == profile && i.severity == IssueSeverity::Error)
            {
                out.push(Diagnostic {
                    range: r.range,
                    severity: Severity::Error,
                    message: i.message.clone(),
                    code: AUTH_PROFILE,
                });
            }
        }
    }
    out
}

/// A diagnostic in an env file (`http-client.env.json` and friends): byte range in
/// `text`, the file's text as read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnvFileDiagnostics {
    pub path: std::path::PathBuf,
    pub text: String,
    pub diagnostics: Vec<Diagnostic>,
}

/// The problems of every env file the workspace read (malformed JSON, unknown keys:
/// from `env`) and of the selected environment's auth profiles (at the profile's key in
/// the file that defines it), one entry per env file, also those without problems (so
/// a client's old diagnostics are cleared).
pub fn env_file_diagnostics(ws: &Workspace, issues: &[ProfileIssue]) -> Vec<EnvFileDiagnostics> {
    use crate::auth::profile::IssueSeverity;
    let mut out: Vec<EnvFileDiagnostics> = ws
        .environments
        .files
        .iter()
        .map(|f| EnvFileDiagnostics {
            path: f.path.clone(),
            text: f.text.clone(),
            diagnostics: Vec::new(),
        })
        .collect();
    for d in &ws.diagnostics {
        let i = match out.iter().position(|e| e.path == d.path) {
            Some(i) => i,
            None => {
                // `.env`, or a file that could not be read: not among the loaded ones.
                out.push(EnvFileDiagnostics {
                    path: d.path.clone(),
                    text: d.text.to_string(),
                    diagnostics: Vec::new(),
                });
                out.len() - 1
            }
        };
        let e = &mut out[i];
        // From the problem's start to the end of its line.
        let mut at = (d.range.start as usize).min(e.text.len());
        while !e.text.is_char_boundary(at) {
            at -= 1;
        }
        let end = e.text[at..].find('\n').map_or(e.text.len(), |n| at + n);
        e.diagnostics.push(Diagnostic {
            range: TextRange::new(at, end.max(d.range.end as usize).min(e.text.len())),
            severity: d.severity,
            message: d.message.clone(),
            code: ENV_FILE,
        });
    }
    let sources: Vec<std::path::PathBuf> = ws
        .env
        .auth
        .as_ref()
        .map(|a| a.sources.clone())
        .unwrap_or_default();
    for issue in issues {
        let severity = match issue.severity {
            IssueSeverity::Error => Severity::Error,
            IssueSeverity::Warning => Severity::Warning,
            IssueSeverity::Hint => Severity::Hint,
        };
        let profile_key = serde_json::to_string(&issue.profile).unwrap_or_default();
        // The file that defines the profile (the public file first), else the first
        // that contributed to the auth section.
        let target = sources
            .iter()
            .filter_map(|s| out.iter().position(|e| &e.path == s))
            .find(|&i| out[i].text.contains(&profile_key))
            .or_else(|| {
                sources
                    .iter()
                    .find_map(|s| out.iter().position(|e| &e.path == s))
            });
        let Some(i) = target else { continue };
        let e = &mut out[i];
        let key = issue
            .key
            .as_deref()
            .and_then(|k| locate_key(&e.text, k))
            .or_else(|| locate_key(&e.text, &issue.profile))
            .unwrap_or(TextRange::empty(0));
        e.diagnostics.push(Diagnostic {
            range: key,
            severity,
            message: issue.message.clone(),
            code: AUTH_PROFILE,
        });
    }
    for e in &mut out {
        e.diagnostics.sort_by_key(|d| (d.range.start, d.severity));
        e.diagnostics.dedup();
    }
    out
}

#[cfg(test)]
mod script_tests {
    use super::*;

    fn script_errors(text: &str) -> Vec<(String, String)> {
        let a = Analysis::new(text.to_string());
        script_diagnostics(&a)
            .into_iter()
            .map(|d| (d.range.slice(text).to_string(), d.message))
            .collect()
    }

    #[test]
    fn a_script_syntax_error_is_reported_at_its_range() {
        let text = "GET http://h/\n\n> {%\n  client.log(1);\n  let x = ;\n%}\n";
        let errs = script_errors(text);
        assert_eq!(errs.len(), 1, "{errs:?}");
        assert_eq!(errs[0].0, ";");
        assert!(
            errs[0].1.starts_with("script: unexpected token"),
            "{errs:?}"
        );
        // A pre-request script on one line, an error in its first line.
        let text = "< {% request.variables.set('a' 'b') %}\nGET http://h/\n";
        let errs = script_errors(text);
        assert_eq!(errs.len(), 1, "{errs:?}");
        assert_eq!(errs[0].0, "'b') ", "{errs:?}");
        // Valid scripts (and a runaway loop, which is never run here) are quiet.
        assert!(script_errors("GET http://h/\n\n> {% while (true) {} %}\n").is_empty());
    }
}
