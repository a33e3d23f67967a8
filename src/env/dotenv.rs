//! `.env` files for `{{$dotenv NAME}}`: the nearest one from the request file's folder
//! up to the workspace root, parsed with `dotenvy` (without touching the process
//! environment).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::syntax::ast::Severity;

use super::files::EnvDiagnostic;
use super::workspace::folders_up_to;

#[derive(Debug, Clone, Default)]
pub struct DotEnv {
    /// The file the values came from, if one was found.
    pub path: Option<PathBuf>,
    pub vars: BTreeMap<String, String>,
}

impl DotEnv {
    /// The nearest `.env` from `request_file`'s folder up to `root`; a malformed file
    /// gives a diagnostic and whatever lines came before the error.
    pub fn load(request_file: &Path, root: &Path) -> (DotEnv, Option<EnvDiagnostic>) {
        let dir = request_file.parent().unwrap_or(Path::new("."));
        let Some(path) = folders_up_to(dir, root)
            .into_iter()
            .map(|f| f.join(".env"))
            .find(|p| p.is_file())
        else {
            return (DotEnv::default(), None);
        };
        let mut env = DotEnv {
            path: Some(path.clone()),
            vars: BTreeMap::new(),
        };
        let diag = |message: String| EnvDiagnostic {
            path: path.clone(),
            line: 1,
            column: 1,
            severity: Severity::Error,
            message,
        };
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) => return (env, Some(diag(format!("cannot read the .env file: {e}")))),
        };
        let text = lenient(&text);
        let iter = dotenvy::from_read_iter(text.as_bytes());
        for item in iter {
            match item {
                Ok((k, v)) => {
                    env.vars.insert(k, v);
                }
                Err(dotenvy::Error::LineParse(line, index)) => {
                    let line_no = line_of(&path, &line);
                    let mut d = diag(format!(
                        "cannot parse this .env line (at character {})",
                        index + 1
                    ));
                    d.line = line_no;
                    d.column = index as u32 + 1;
                    return (env, Some(d));
                }
                Err(e) => return (env, Some(diag(format!("cannot read the .env file: {e}")))),
            }
        }
        (env, None)
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.vars.get(name).map(String::as_str)
    }
}

/// dotenvy is stricter than Node's dotenv (which REST Client uses): `KEY=two words`
/// is fine there. Quote such unquoted values (an inline ` # comment` dropped) before
/// dotenvy reads the text.
fn lenient(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 16);
    for line in text.split_inclusive('\n') {
        let body = line.trim_end_matches(['\n', '\r']);
        let ending = &line[body.len()..];
        let fixed = body.split_once('=').and_then(|(k, v)| {
            let key = k.trim().strip_prefix("export ").unwrap_or(k.trim());
            let simple_key = !key.is_empty()
                && key
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.');
            let v = v.trim();
            let v = v.split_once(" #").map(|(x, _)| x.trim_end()).unwrap_or(v);
            let needs = simple_key
                && !k.trim_start().starts_with('#')
                && v.contains(char::is_whitespace)
                && !v.contains(['"', '\'', '\\', '$']);
            needs.then(|| format!("{k}='{v}'"))
        });
        out.push_str(fixed.as_deref().unwrap_or(body));
        out.push_str(ending);
    }
    out
}

/// dotenvy reports the offending line's text, not its number: find it again.
fn line_of(path: &Path, line_text: &str) -> u32 {
    std::fs::read_to_string(path)
        .ok()
        .and_then(|t| {
            t.lines()
                .position(|l| l.trim_end() == line_text.trim_end())
                .map(|i| i as u32 + 1)
        })
        .unwrap_or(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_dotenv_wins() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path();
        std::fs::create_dir_all(root.join("sub")).unwrap();
        std::fs::write(
            root.join(".env"),
            "A=root\nB=\"quoted value\"\nC=two words\nD=x\n",
        )
        .unwrap();
        let (d, err) = DotEnv::load(&root.join("sub/x.http"), root);
        assert!(err.is_none());
        assert_eq!(d.get("A"), Some("root"));
        assert_eq!(d.get("B"), Some("quoted value"));
        assert_eq!(d.get("C"), Some("two words"));
        assert_eq!(d.get("D"), Some("x"));
        std::fs::write(root.join("sub/.env"), "A=sub\n").unwrap();
        let (d, _) = DotEnv::load(&root.join("sub/x.http"), root);
        assert_eq!(d.get("A"), Some("sub"));
        assert_eq!(d.get("B"), None);
    }
}
