//! `.env` files for `{{$dotenv NAME}}`: the nearest one from the request file's folder
//! up to the workspace root, parsed with `dotenvy` (without touching the process
//! environment).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::text::TextRange;

use super::files::EnvDiagnostic;
use super::root::folders_up_to;

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
        let original = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) => {
                let message = format!("cannot read the .env file: {e}");
                return (env, Some(EnvDiagnostic::whole_file(&path, "", message)));
            }
        };
        let diag = |message: String| EnvDiagnostic::whole_file(&path, &original, message);
        let text = lenient(&original);
        let iter = dotenvy::from_read_iter(text.as_bytes());
        for item in iter {
            match item {
                Ok((k, v)) => {
                    env.vars.insert(k, v);
                }
                Err(dotenvy::Error::LineParse(line, index)) => {
                    let mut d = diag(format!(
                        "cannot parse this .env line (at character {})",
                        index + 1
                    ));
                    let at = line_start_of(&original, &line).map_or(0, |start| {
                        // dotenvy's index is a byte offset into the line.
                        let mut at = (start + index).min(original.len());
                        while !original.is_char_boundary(at) {
                            at -= 1;
                        }
                        at
                    });
                    d.range = TextRange::empty(at);
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

/// dotenvy reports the offending line's text, not where it is: the byte offset where
/// that line starts in `text`.
fn line_start_of(text: &str, line_text: &str) -> Option<usize> {
    let mut start = 0;
    for line in text.split_inclusive('\n') {
        if line.trim_end() == line_text.trim_end() {
            return Some(start);
        }
        start += line.len();
    }
    None
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

    #[test]
    fn a_bad_line_is_reported_where_it_is() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path();
        std::fs::write(root.join(".env"), "A=1\r\nÉ=x\nB=\"open\n").unwrap();
        let (_, err) = DotEnv::load(&root.join("x.http"), root);
        let d = err.expect("a diagnostic");
        let shown = d.to_string();
        let path = root.join(".env");
        assert!(
            shown.starts_with(&format!(
                "{}:2:1: error: cannot parse this .env line",
                path.display()
            )),
            "{shown}"
        );
    }
}
