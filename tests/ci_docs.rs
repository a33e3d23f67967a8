//! The CI recipes of `docs/ci.md` work as written: the shell steps of its GitHub
//! Actions workflow and of its GitLab CI job run here (all but the steps that install
//! httplens: the binary this test suite built is put on `PATH` instead), in a
//! workspace whose `ci` environment signs in with client credentials to the demo's
//! provider on 127.0.0.1 and calls the demo API. The secret comes from the
//! environment, as a CI system passes it, and must never be printed.

#[path = "support/demo_stack.rs"]
mod demo_stack;

use std::path::Path;
use std::process::Command;

use serde_json::json;

/// The fenced block of `lang` that follows the heading `heading` in `text`.
fn block_after<'t>(text: &'t str, heading: &str, lang: &str) -> &'t str {
    let at = text
        .find(heading)
        .unwrap_or_else(|| panic!("docs/ci.md has no `{heading}`"));
    let fence = format!("```{lang}\n");
    let start = text[at..].find(&fence).expect("a fenced block") + at + fence.len();
    let end = text[start..].find("```").unwrap() + start;
    &text[start..end]
}

/// What a workflow step installs; the test provides the binary instead.
fn installs(cmd: &str) -> bool {
    cmd.contains("cargo install") || cmd.contains("GITHUB_PATH") || cmd.contains("export PATH")
}

/// The `run:` commands of the GitHub Actions workflow, with the step's `env:` values.
fn github_steps(yaml: &str) -> Vec<(String, Vec<(String, String)>)> {
    let mut steps: Vec<(String, Vec<(String, String)>)> = Vec::new();
    let mut pending_env: Vec<(String, String)> = Vec::new();
    let mut in_step_env = false;
    for line in yaml.lines() {
        let t = line.trim();
        if t.starts_with("- ") {
            pending_env.clear();
            in_step_env = false;
        }
        let t = t.trim_start_matches("- ");
        if t == "env:" && line.starts_with("        ") {
            in_step_env = true;
            continue;
        }
        if let Some(cmd) = t.strip_prefix("run: ") {
            steps.push((cmd.to_string(), pending_env.clone()));
            in_step_env = false;
            continue;
        }
        if in_step_env && let Some((k, v)) = t.split_once(": ") {
            pending_env.push((k.to_string(), v.to_string()));
        }
    }
    steps
}

/// The `script:` lines of the GitLab job.
fn gitlab_script(yaml: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut in_script = false;
    for line in yaml.lines() {
        let t = line.trim();
        if t == "script:" {
            in_script = true;
            continue;
        }
        if in_script {
            match t.strip_prefix("- ") {
                Some(cmd) if line.starts_with("    ") => out.push(cmd.to_string()),
                _ if t.starts_with('#') => {}
                _ => in_script = false,
            }
        }
    }
    out
}

fn workspace(dir: &Path, provider: &str, api: &str) {
    std::fs::create_dir_all(dir.join(".git")).unwrap();
    std::fs::create_dir_all(dir.join("api")).unwrap();
    std::fs::write(
        dir.join("api/orders.http"),
        "### Store views\nGET {{baseUrl}}/V1/store/storeViews\nAuthorization: Bearer {{$auth.token(\"api\")}}\nx-api-key: {{clientId}}\n\n?? status == 200\n\n\
         ### Without a token the API refuses\nGET {{baseUrl}}/V1/products\n\n?? status == 401\n",
    )
    .unwrap();
    let env = json!({
        "ci": {
            "baseUrl": api,
            "imsUrl": provider,
            "clientId": httplens::demo::scaffold::CLIENT_ID,
            "Security": {"Auth": {"api": {
                "Type": "OAuth2",
                "Grant Type": "Client Credentials",
                "Preset": "adobe-ims",
                "Issuer": "{{imsUrl}}",
                "Client ID": "{{clientId}}",
                "Client Secret": "{{$processEnv API_CLIENT_SECRET}}",
                "Scope": "AdobeID,openid,commerce.accs"
            }}}
        }
    });
    std::fs::write(dir.join("http-client.env.json"), env.to_string()).unwrap();
}

/// Runs one step as the CI runner would (bash, fail on error); (exit code, output).
fn step(dir: &Path, cmd: &str, env: &[(String, String)]) -> (i32, String) {
    let bin = Path::new(env!("CARGO_BIN_EXE_httplens")).parent().unwrap();
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let out = Command::new("bash")
        .args(["-eo", "pipefail", "-c", cmd])
        .current_dir(dir)
        .env("PATH", path)
        .env("HTTPLENS_CONFIG_DIR", dir.join(".config"))
        .env("HOME", dir)
        .env_remove("HTTP_PROXY")
        .env_remove("HTTPS_PROXY")
        .env_remove("http_proxy")
        .env_remove("https_proxy")
        .env("NO_PROXY", "127.0.0.1,localhost")
        .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .output()
        .unwrap();
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    (out.status.code().unwrap_or(-1), text)
}

fn check_report(dir: &Path, output: &str) {
    let report = std::fs::read_to_string(dir.join("reports/api.xml"))
        .unwrap_or_else(|e| panic!("no JUnit report ({e}):\n{output}"));
    assert_eq!(report.matches("<testcase").count(), 2, "{report}");
    assert!(!report.contains("<failure"), "{report}");
    let secret = httplens::demo::scaffold::CLIENT_SECRET;
    assert!(
        !output.contains(secret) && !report.contains(secret),
        "the secret was printed"
    );
}

#[test]
fn the_github_actions_workflow_runs_here() {
    let doc =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/ci.md")).unwrap();
    let yaml = block_after(&doc, "## GitHub Actions", "yaml");
    let (_rt, provider, api) = demo_stack::start_ims_and_api();
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    workspace(dir, &provider, &api);
    // The job's `env:`, with the secret the runner takes from the repository secrets.
    let job_env = vec![
        ("HTTPLENS_TOKEN_STORE".to_string(), "memory".to_string()),
        (
            "HTTPLENS_CACHE_DIR".to_string(),
            dir.join("cache").display().to_string(),
        ),
        ("NO_COLOR".to_string(), "1".to_string()),
        (
            "API_CLIENT_SECRET".to_string(),
            httplens::demo::scaffold::CLIENT_SECRET.to_string(),
        ),
    ];
    for line in [
        "HTTPLENS_TOKEN_STORE: memory",
        "API_CLIENT_SECRET: ${{ secrets.API_CLIENT_SECRET }}",
    ] {
        assert!(yaml.contains(line), "the job's env lacks `{line}`: {yaml}");
    }
    let steps = github_steps(yaml);
    let run: Vec<_> = steps.iter().filter(|(c, _)| !installs(c)).collect();
    assert!(run.len() >= 2, "{steps:?}");
    let mut output = String::new();
    for (cmd, step_env) in run {
        let mut env = job_env.clone();
        for (k, v) in step_env {
            let v = if v.contains("secrets.API_CLIENT_SECRET") {
                httplens::demo::scaffold::CLIENT_SECRET.to_string()
            } else {
                v.clone()
            };
            env.push((k.clone(), v));
        }
        let (code, out) = step(dir, cmd, &env);
        output.push_str(&out);
        assert_eq!(code, 0, "`{cmd}` failed:\n{out}");
    }
    check_report(dir, &output);
}

#[test]
fn the_gitlab_ci_job_runs_here() {
    let doc =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/ci.md")).unwrap();
    let yaml = block_after(&doc, "## GitLab CI", "yaml");
    let (_rt, provider, api) = demo_stack::start_ims_and_api();
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    workspace(dir, &provider, &api);
    let script = gitlab_script(yaml);
    let run: Vec<_> = script.iter().filter(|c| !installs(c)).collect();
    assert!(run.len() >= 2, "{script:?}");
    // The job's `variables:`, and the masked CI/CD variable.
    let env = vec![
        ("HTTPLENS_TOKEN_STORE".to_string(), "memory".to_string()),
        ("NO_COLOR".to_string(), "1".to_string()),
        (
            "HTTPLENS_CACHE_DIR".to_string(),
            dir.join("cache").display().to_string(),
        ),
        (
            "API_CLIENT_SECRET".to_string(),
            httplens::demo::scaffold::CLIENT_SECRET.to_string(),
        ),
    ];
    let mut output = String::new();
    for cmd in run {
        let (code, out) = step(dir, cmd, &env);
        output.push_str(&out);
        assert_eq!(code, 0, "`{cmd}` failed:\n{out}");
    }
    check_report(dir, &output);
}
