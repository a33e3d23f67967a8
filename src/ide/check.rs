//! Editor features tested as data: a fixture (the file, `$0` at the cursor, and the
//! environment the editor would load) and the expected answer written out as text.
//! Adding a case is one `check_*` call. `tests/lsp.rs` keeps the wiring checks only
//! (that the server routes a request here and converts the answer).

use super::completion::complete;
use super::definition::{Target, definition};
use super::diagnostics::diagnostics;
use super::folding::folding_ranges;
use super::hover::hover;
use super::lenses::request_lenses;
use super::symbols::symbols;
use super::{Analysis, EnvVar, EnvView, ProfileState};
use crate::text::TextRange;

/// 2026-12-05 12:00 UTC: the clock of every fixture ("52 min left").
const NOW: i64 = 1_796_472_000;

/// A fixture: `$0` marks the cursor (removed from the text).
fn fixture(text: &str) -> (Analysis, usize) {
    let at = text.find("$0").unwrap_or(0);
    (Analysis::new(text.replacen("$0", "", 1)), at)
}

/// The environment `dev` with `vars` (`name=value`; a name starting with `!` is a
/// private value) and the signed-in profile `shop`.
fn env(vars: &[&str]) -> EnvView {
    EnvView {
        environments: vec!["dev".into(), "prod".into()],
        selected: Some("dev".into()),
        variables: vars
            .iter()
            .map(|v| {
                let (name, value) = v.split_once('=').unwrap();
                let secret = name.starts_with('!');
                EnvVar {
                    name: name.trim_start_matches('!').into(),
                    value: value.into(),
                    secret,
                    location: None,
                    origin: "environment \"dev\" (http-client.env.json)".into(),
                }
            })
            .collect(),
        profiles: vec![ProfileState {
            id: "shop".into(),
            grant: Some("Authorization Code".into()),
            signed_in: true,
            account: Some("jane@example.com".into()),
            scopes: vec!["openid".into()],
            expires_at: Some(NOW + 52 * 60),
            ..Default::default()
        }],
    }
}

/// `line:col` (1-based) of `offset`.
fn pos(a: &Analysis, offset: u32) -> String {
    let line = a.index.line_of(offset as usize);
    let col = a.text[a.index.line_start(line)..offset as usize]
        .chars()
        .count();
    format!("{}:{}", line + 1, col + 1)
}

fn span(a: &Analysis, r: TextRange) -> String {
    format!("{}-{}", pos(a, r.start), pos(a, r.end))
}

fn assert_text(actual: String, expected: &str) {
    let expected = expected.trim_start_matches('\n');
    assert_eq!(
        actual, expected,
        "\n--- actual ---\n{actual}\n--------------"
    );
}

fn check_completion(text: &str, vars: &[&str], expected: &str) {
    let (a, at) = fixture(text);
    let items = complete(&a, at, &env(vars));
    let out: Vec<String> = items
        .iter()
        .map(|i| match &i.detail {
            Some(d) => format!("{} ({d})\n", i.label),
            None => format!("{}\n", i.label),
        })
        .collect();
    assert_text(out.concat(), expected);
}

fn check_hover(text: &str, vars: &[&str], expected: &str) {
    let (a, at) = fixture(text);
    let out = match hover(&a, &env(vars), at, NOW) {
        Some(h) => format!("{}\n{}\n", span(&a, h.range), h.markdown),
        None => "none\n".into(),
    };
    assert_text(out, expected);
}

fn check_definition(text: &str, expected: &str) {
    let (a, at) = fixture(text);
    let out = match definition(&a, &env(&[]), at) {
        Some(Target::Here(r)) => format!("{} `{}`\n", span(&a, r), r.slice(&a.text)),
        Some(Target::Elsewhere(l)) => format!("{}\n", l.path.display()),
        None => "none\n".into(),
    };
    assert_text(out, expected);
}

fn check_folding(text: &str, expected: &str) {
    let (a, _) = fixture(text);
    let out: String = folding_ranges(&a)
        .iter()
        .map(|f| format!("{} {:?}\n", span(&a, f.range), f.kind))
        .collect();
    assert_text(out, expected);
}

fn check_symbols(text: &str, expected: &str) {
    let (a, _) = fixture(text);
    let out: String = symbols(&a)
        .iter()
        .map(|s| {
            format!(
                "{:?} {} {}{}\n",
                s.kind,
                span(&a, s.selection),
                s.name,
                s.detail
                    .as_ref()
                    .map(|d| format!(" ({d})"))
                    .unwrap_or_default()
            )
        })
        .collect();
    assert_text(out, expected);
}

fn check_lenses(text: &str, expected: &str) {
    let (a, _) = fixture(text);
    let e = env(&[]);
    let out: String = request_lenses(&a, Some("dev"), &|id| e.profile(id), NOW)
        .iter()
        .map(|l| format!("{} {}\n", pos(&a, l.range.start), l.title))
        .collect();
    assert_text(out, expected);
}

fn check_diagnostics(text: &str, expected: &str) {
    let (a, _) = fixture(text);
    // Everything the editor shows that the file alone decides (the resolver's, which
    // need the workspace, are tested in tests/resolve.rs).
    let mut all = diagnostics(&a, &[]);
    all.sort_by_key(|d| (d.range.start, d.range.end));
    let out: String = all
        .iter()
        .map(|d| {
            format!(
                "{} {:?} {}: {}\n",
                span(&a, d.range),
                d.severity,
                d.code,
                d.message
            )
        })
        .collect();
    assert_text(out, expected);
}

#[test]
fn completion_offers_env_values_then_system_variables() {
    check_completion(
        "GET {{ho$0}}/a\n",
        &["host=http://127.0.0.1", "!token=t0k"],
        r#"
host (environment "dev")
token (environment "dev")
$guid (a random UUID v4)
$uuid (a random UUID v4)
$randomInt ($randomInt MIN MAX: a random integer)
$timestamp (Unix seconds, optionally offset: $timestamp -1 d)
$isoTimestamp (the current time in ISO 8601)
$date (today's local date, YYYY-MM-DD (kulala))
$datetime ($datetime rfc1123|iso8601|"format" [offset unit])
$localDatetime (like $datetime, in local time)
$processEnv ($processEnv NAME: a process environment variable)
$dotenv ($dotenv NAME: a variable from .env)
$env. ($env.NAME: a process environment variable)
$auth.token("") (a token of an auth profile (signs in if needed))
$auth.idToken("") (a token of an auth profile (signs in if needed))
"#,
    );
}

#[test]
fn hover_shows_the_value_its_origin_and_the_precedence() {
    check_hover(
        "GET {{ho$0st}}/a\n",
        &["host=http://127.0.0.1"],
        r#"
1:5-1:13
`host` = `http://127.0.0.1`

environment "dev" (http-client.env.json)

Precedence, highest first: `--var`, pre-request script, the request's own block, the environment (private, public, `$shared`), `.env`, `client.global`, file variables, the process environment.
"#,
    );
}

#[test]
fn hover_masks_a_private_value() {
    check_hover(
        "GET http://h/{{tok$0en}}\n",
        &["!token=t0k-secret"],
        r#"
1:14-1:23
`token` = `***`

environment "dev" (http-client.env.json)

Precedence, highest first: `--var`, pre-request script, the request's own block, the environment (private, public, `$shared`), `.env`, `client.global`, file variables, the process environment.
"#,
    );
}

#[test]
fn definition_goes_to_the_file_variable() {
    check_definition(
        "@host = http://127.0.0.1\n\n###\nGET {{ho$0st}}/a\n",
        "1:2-1:6 `host`\n",
    );
}

#[test]
fn folding_folds_each_request_block() {
    check_folding(
        "### one\nGET http://h/a\nX: 1\n\n{\"a\": 1}\n\n### two\nGET http://h/b\n",
        "1:1-5:9 Region\n7:1-8:15 Region\n",
    );
}

#[test]
fn symbols_name_variables_and_requests() {
    check_symbols(
        "@host = http://h\n\n### one\n# @name first\nGET {{host}}/a\n\n### two\nPOST {{host}}/b\n",
        r#"
Variable 1:2-1:6 host (http://h)
Request 5:1-5:15 first (GET {{host}}/a)
Request 8:1-8:16 two (POST {{host}}/b)
"#,
    );
}

#[test]
fn lenses_send_and_show_the_profile_state() {
    check_lenses(
        "### one\nGET http://h/a\nAuthorization: Bearer {{$auth.token(\"shop\")}}\n\n###\nGET http://h/b\n",
        r#"
1:1 env: dev
2:1 Send request
2:1 shop: signed in as jane@example.com, 52 min left
6:1 Send request
"#,
    );
}

#[test]
fn diagnostics_of_the_file_alone() {
    check_diagnostics(
        "GET http://h/a\n# @nope 1\n\n> {%\n  client.global.set(\"a\",\n%}\n",
        r#"
2:4-2:8 Hint unknown-metadata: `@nope` is not metadata httplens knows; it is kept and ignored.
6:1-6:1 Error script-syntax: script: unexpected token in expression: '}'
"#,
    );
}
