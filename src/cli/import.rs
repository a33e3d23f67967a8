//! `httplens import curl [WORD]...`: a curl command (its words as arguments, or the
//! whole command on stdin) printed as the `.http` request it describes. Exit 0, 1 when
//! the command cannot be read (one sentence on stderr), 2 for a usage error.
//! `httplens import openapi SPEC [--tag T] [-o DIR]`: `.http` files from a spec
//! (`openapi_import.rs`).

use std::io::{Read, Write};

use crate::request::curl::quote;
use crate::syntax::curl;

use super::{EXIT_USAGE, ImportArgs, ImportKind, error_line};

pub fn run(args: ImportArgs) -> u8 {
    match args.kind {
        ImportKind::Curl { words } => curl_command(&words),
        ImportKind::Openapi { spec, tag, out } => {
            super::openapi_import::run(&spec, tag.as_deref(), &out)
        }
    }
}

fn curl_command(words: &[String]) -> u8 {
    let command = if words.is_empty() {
        let mut text = String::new();
        if let Err(e) = std::io::stdin().read_to_string(&mut text) {
            error_line(format!("cannot read the curl command from stdin: {e}"));
            return EXIT_USAGE;
        }
        text
    } else {
        // The shell has split the words already: quote them back into one command.
        let mut all: Vec<String> = words.iter().map(|w| quote(w)).collect();
        if words[0] != "curl" {
            all.insert(0, "curl".into());
        }
        all.join(" ")
    };
    let command = command.trim();
    let command = if command.starts_with("curl") {
        command.to_string()
    } else {
        format!("curl {command}")
    };
    match curl::parse(&command, 0) {
        Ok(r) => {
            let mut out = std::io::stdout().lock();
            let _ = out.write_all(curl::to_http(&r).as_bytes());
            let _ = out.flush();
            0
        }
        Err(e) => {
            error_line(format!("cannot read the curl command: {}", e.message));
            1
        }
    }
}
