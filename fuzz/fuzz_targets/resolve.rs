//! Fuzz target: the variable resolver. Arbitrary `.http` text is parsed and every block
//! resolved against a fixed environment (public and private values, `$shared`, values
//! that reference each other, an auth profile), both as a dry run and as a send would.
//! Checks: no panic; a dry run always yields a spec for a block with a request (as
//! `request::build` documents); a masked curl line never shows the private value
//! unless the file itself spells it out.
#![no_main]

use std::collections::BTreeMap;
use std::hint::black_box;
use std::path::{Path, PathBuf};

use httplens::env::NoTokens;
use httplens::env::{DotEnv, EnvFileKind, Environments, NoExchanges, ResolveContext, Workspace};
use httplens::request;
use httplens::syntax::BodyPart;
use libfuzzer_sys::fuzz_target;

const SECRET: &str = "Zq7fuzzPrivateValue";

fn workspace() -> Workspace {
    let mut environments = Environments::default();
    environments.add_text(
        Path::new("/ws/http-client.env.json"),
        EnvFileKind::Public,
        r#"{
          "$shared": {"scheme": "http", "loop": "{{loop}}", "a": "{{b}}", "b": "{{a}}"},
          "dev": {"host": "127.0.0.1:{{port}}", "port": "8080", "user": "jane", "base": "{{scheme}}://{{host}}",
                  "Security": {"Auth": {"p": {"Type": "OAuth2", "Grant Type": "Authorization Code",
                     "Client ID": "c", "Auth URL": "http://127.0.0.1/a", "Token URL": "http://127.0.0.1/t",
                     "Redirect URL": "http://127.0.0.1/callback"}}}},
          "prod": {"host": "example.invalid"}
        }"#
        .to_string(),
    );
    environments.add_text(
        Path::new("/ws/http-client.private.env.json"),
        EnvFileKind::Private,
        format!(r#"{{"dev": {{"password": "{SECRET}", "Security": {{"Auth": {{"p": {{"Client Secret": "{SECRET}"}}}}}}}}}}"#),
    );
    let env = environments
        .select(Some("dev"))
        .expect("dev is defined above");
    let mut dotenv = DotEnv::default();
    dotenv.vars.insert("API_KEY".into(), "from-dotenv".into());
    Workspace {
        file: PathBuf::from("/ws/api.http"),
        root: PathBuf::from("/ws"),
        diagnostics: environments.diagnostics.clone(),
        environments,
        env,
        dotenv,
        // Never the real process environment: the fuzzer must be deterministic.
        process_env: Some(BTreeMap::from([("HOME".into(), "/home/fuzz".into())])),
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let ws = workspace();
    let parsed = httplens::syntax::parse(text);
    let overrides = BTreeMap::from([("answer".to_string(), "42".to_string())]);
    let dry = ResolveContext::dry_run(&ws);
    let send = ResolveContext {
        workspace: &ws,
        overrides: &overrides,
        exchanges: &NoExchanges,
        tokens: &NoTokens,
        script: httplens::env::ScriptVars::none(),
        dry_run: false,
    };
    for (i, block) in parsed.file.blocks.iter().enumerate() {
        // Body file parts (`< path`) are read from disk: a generated `< /dev/zero` or
        // `< /dev/stdin` would measure the machine, not the resolver. Skip those blocks.
        let reads_files = block
            .request
            .as_ref()
            .and_then(|r| r.body.as_ref())
            .is_some_and(|b| b.parts.iter().any(|p| matches!(p, BodyPart::File(_))));
        if reads_files {
            continue;
        }
        let (spec, diags) = request::build(&parsed.file, text, i, &dry);
        assert_eq!(
            spec.is_some(),
            block.request.is_some(),
            "a dry run yields a spec exactly for blocks with a request"
        );
        black_box(diags);
        if let Some(spec) = &spec {
            assert!(spec.line >= 1, "request lines are 1-based");
            let curl = request::curl::to_curl(spec, false);
            // A leak is the private value reaching the output through a variable; text
            // the file spells out itself is the author's to show.
            assert!(
                text.contains(SECRET) || !curl.contains(SECRET),
                "the masked curl line shows a private value: {curl}"
            );
            black_box(request::curl::to_curl(spec, true));
        }
        black_box(request::build(&parsed.file, text, i, &send));
        black_box(request::dependencies(&parsed.file, text, i, &send));
        black_box(request::auth_profiles(&parsed.file, text, i, &send));
        black_box(request::prompts(&parsed.file, i, &send));
    }
});
