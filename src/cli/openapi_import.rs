//! `httplens import openapi SPEC [--tag T] [-o DIR]`: writes the `.http` files and the
//! env file that `openapi::import` makes from a spec. An existing file is not
//! overwritten (the command says which and exits 1). Exit 0, 1 when the spec cannot be
//! read or nothing was written, 2 for a usage error.

use std::path::Path;

use super::error_line;
use crate::env::files::{PRIVATE_ENV_FILE, PUBLIC_ENV_FILE};
use crate::openapi::{self, import};

pub fn run(spec_path: &Path, tag: Option<&str>, out: &Path) -> u8 {
    let text = match std::fs::read_to_string(spec_path) {
        Ok(t) => t,
        Err(e) => {
            error_line(format!("cannot read {}: {e}", spec_path.display()));
            return super::EXIT_USAGE;
        }
    };
    let spec = match openapi::parse(&text) {
        Ok(s) => s,
        Err(e) => {
            error_line(format!("{}: {e}", spec_path.display()));
            return 1;
        }
    };
    let files = import::http_files(&spec, tag);
    if files.is_empty() {
        error_line(match tag {
            Some(t) => format!("the spec has no operation tagged {t:?}"),
            None => "the spec has no operations".to_string(),
        });
        return 1;
    }
    if let Err(e) = std::fs::create_dir_all(out) {
        error_line(format!("cannot create {}: {e}", out.display()));
        return 1;
    }
    let env = import::env_file(&spec);
    let env_text = serde_json::to_string_pretty(&env).unwrap_or_else(|_| "{}".into()) + "\n";
    let mut all: Vec<(String, String)> = files;
    all.push((PUBLIC_ENV_FILE.to_string(), env_text));
    if let Some(private) = import::private_env_file(&env) {
        all.push((
            PRIVATE_ENV_FILE.to_string(),
            serde_json::to_string_pretty(&private).unwrap_or_else(|_| "{}".into()) + "\n",
        ));
    }
    for (name, _) in &all {
        let p = out.join(name);
        if p.exists() {
            error_line(format!(
                "{} exists already; choose another folder with -o (nothing was written)",
                p.display()
            ));
            return 1;
        }
    }
    for (name, text) in &all {
        let p = out.join(name);
        if let Err(e) = std::fs::write(&p, text) {
            error_line(format!("cannot write {}: {e}", p.display()));
            return 1;
        }
        eprintln!("wrote {}", p.display());
    }
    0
}
