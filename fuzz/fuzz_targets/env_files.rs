//! Fuzz target: the env-file reader. Arbitrary text as `http-client.env.json`,
//! `http-client.private.env.json` or `.vscode/settings.json`, then every environment
//! selected, its auth profiles parsed. Env files are user-written JSON(C): any text must
//! give environments plus diagnostics, never a panic.
#![no_main]

use std::hint::black_box;
use std::path::Path;

use httplens::auth::parse_profiles;
use httplens::env::files::{locate_key, strip_jsonc};
use httplens::env::{EnvFileKind, Environments};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // The first byte picks the kind of file, the rest is its text.
    let Some((&pick, rest)) = data.split_first() else {
        return;
    };
    let text = String::from_utf8_lossy(rest).into_owned();
    let (name, kind) = match pick % 3 {
        0 => ("/ws/http-client.env.json", EnvFileKind::Public),
        1 => ("/ws/http-client.private.env.json", EnvFileKind::Private),
        _ => ("/ws/.vscode/settings.json", EnvFileKind::VsCodeSettings),
    };
    let mut envs = Environments::default();
    // A committed public file beside the fuzzed one, so merging has two layers.
    envs.add_text(
        Path::new("/ws/http-client.env.json"),
        EnvFileKind::Public,
        r#"{"$shared": {"host": "127.0.0.1"}, "dev": {"port": 8080, "Security": {"Auth": {"p": {"Type": "OAuth2", "Grant Type": "Client Credentials", "Client ID": "c", "Token URL": "http://127.0.0.1/token"}}}}}"#.to_string(),
    );
    envs.add_text(Path::new(name), kind, text.clone());
    for d in &envs.diagnostics {
        assert!(
            d.range.end as usize <= d.text.len()
                && d.text.is_char_boundary(d.range.start as usize)
                && d.text.is_char_boundary(d.range.end as usize),
            "a diagnostic's range lies in its text: {d:?}"
        );
        let shown = d.to_string();
        assert!(
            shown.starts_with(&format!("{}:", d.path.display())) && !shown.contains(":0:"),
            "diagnostics print as path:line:col, one-based: {shown}"
        );
    }
    let names = envs.names();
    for n in names.iter().map(|n| Some(n.as_str())).chain([None]) {
        let env = match envs.select(n) {
            Ok(env) => env,
            Err(e) => panic!("selecting the listed environment {n:?} failed: {e}"),
        };
        for (k, v) in &env.vars {
            black_box(envs.locate(&v.source, k));
        }
        if let Some(auth) = &env.auth {
            let (profiles, issues) = parse_profiles(&auth.profiles, &|s| Ok(s.to_string()));
            black_box((profiles.len(), issues.len()));
        }
    }
    black_box(strip_jsonc(&text));
    black_box(locate_key(&text, "dev"));
});
