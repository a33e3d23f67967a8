//! Where a request file's specs come from: `# @openapi ./spec.yaml` lines in the file
//! (relative to it), and `"openapi"` in the selected environment (relative to the env
//! file that sets it; a string, or a JSON array of strings).

use std::path::{Path, PathBuf};

use crate::env::files::Environment;
use crate::syntax::ast::HttpFile;
use crate::text::TextRange;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpecSource {
    pub path: PathBuf,
    pub named_at: NamedAt,
}

/// The place that names a spec, where a broken spec is reported.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NamedAt {
    /// The `# @openapi` line's value in the request file.
    File(TextRange),
    /// The `"openapi"` key of this env file.
    EnvFile(PathBuf),
}

/// The metadata key that names a spec.
pub const META_KEY: &str = "openapi";

pub fn spec_sources(file: &HttpFile, doc_dir: &Path, env: Option<&Environment>) -> Vec<SpecSource> {
    let mut out: Vec<SpecSource> = Vec::new();
    for block in &file.blocks {
        for m in block.metadata.iter() {
            if !m.key.value.eq_ignore_ascii_case(META_KEY) {
                continue;
            }
            let Some(v) = &m.value else { continue };
            let value = v.value.trim();
            if value.is_empty() {
                continue;
            }
            push(&mut out, doc_dir.join(value), NamedAt::File(v.range));
        }
    }
    if let Some(env) = env
        && let Some(v) = env.vars.get(META_KEY).or_else(|| env.shared.get(META_KEY))
    {
        let dir = v.source.parent().unwrap_or(Path::new("."));
        let names: Vec<String> = match serde_json::from_str::<Vec<String>>(&v.value) {
            Ok(list) => list,
            Err(_) => vec![v.value.clone()],
        };
        for n in names {
            push(
                &mut out,
                dir.join(n.trim()),
                NamedAt::EnvFile(v.source.clone()),
            );
        }
    }
    out
}

fn push(out: &mut Vec<SpecSource>, path: PathBuf, named_at: NamedAt) {
    let path = normalize(&path);
    if !out.iter().any(|s| s.path == path) {
        out.push(SpecSource { path, named_at });
    }
}

/// `a/./b/../c` -> `a/c`, without touching the file system (the file may not exist).
fn normalize(p: &Path) -> PathBuf {
    use std::path::Component;
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                if !out.pop() {
                    out.push("..");
                }
            }
            other => out.push(other),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::syntax;

    #[test]
    fn file_metadata_names_specs_relative_to_the_file() {
        let text = "# @openapi ./api/spec.yaml\n\n###\n# @openapi ../other.json\nGET http://h/a\n";
        let p = syntax::parse(text);
        let s = spec_sources(&p.file, Path::new("/w/req"), None);
        assert_eq!(s.len(), 2);
        assert_eq!(s[0].path, Path::new("/w/req/api/spec.yaml"));
        assert_eq!(s[1].path, Path::new("/w/other.json"));
        let NamedAt::File(r) = &s[0].named_at else {
            panic!("{s:?}")
        };
        assert_eq!(r.slice(text), "./api/spec.yaml");
    }
}
