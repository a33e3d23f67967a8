//! "Copy as code": a [`RequestSpec`] as a Python `requests` call or a JavaScript
//! `fetch` call (and as curl, in `curl.rs`). Secrets are masked as in every copy unless
//! `reveal`: headers named like credentials keep their scheme (`Bearer ***`), and every
//! value in `RequestSpec::secrets` becomes `***` wherever it appears.

use super::build::{is_secret_header, mask_header_value};
use super::spec::{BodySpec, RequestSpec};
use crate::secret::MASK;

/// What to copy a request as.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Language {
    Curl,
    Python,
    #[serde(alias = "fetch", alias = "js")]
    JavaScript,
}

pub fn to_code(spec: &RequestSpec, reveal: bool, lang: Language) -> String {
    match lang {
        Language::Curl => super::curl::to_curl(spec, reveal),
        Language::Python => to_python(spec, reveal),
        Language::JavaScript => to_fetch(spec, reveal),
    }
}

/// `s` with the request's secrets masked, unless `reveal`.
pub(crate) fn shown(spec: &RequestSpec, reveal: bool, s: &str) -> String {
    if reveal {
        s.to_string()
    } else {
        spec.secrets.mask(s)
    }
}

/// The headers as a copy shows them.
pub(crate) fn shown_headers(spec: &RequestSpec, reveal: bool) -> Vec<(String, String)> {
    spec.headers
        .iter()
        .map(|(name, value)| {
            let value = if !reveal && is_secret_header(name) {
                mask_header_value(value)
            } else {
                shown(spec, reveal, value)
            };
            (name.clone(), value)
        })
        .collect()
}

/// A string literal valid in Python and JavaScript alike (JSON's escapes).
fn lit(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| "\"\"".into())
}

fn password(reveal: bool, p: &str) -> String {
    if reveal {
        p.to_string()
    } else {
        MASK.to_string()
    }
}

pub fn to_python(spec: &RequestSpec, reveal: bool) -> String {
    let mut args = vec![lit(&spec.method), lit(&shown(spec, reveal, &spec.url))];
    let headers = shown_headers(spec, reveal);
    if !headers.is_empty() {
        let mut h = String::from("headers={\n");
        for (n, v) in &headers {
            h.push_str(&format!("        {}: {},\n", lit(n), lit(v)));
        }
        h.push_str("    }");
        args.push(h);
    }
    let mut open = None;
    match &spec.body {
        BodySpec::None => {}
        BodySpec::Bytes(b) => {
            let text = String::from_utf8_lossy(b);
            args.push(format!(
                "data={}.encode()",
                lit(&shown(spec, reveal, &text))
            ));
        }
        BodySpec::File(p) => {
            open = Some(p.display().to_string());
            args.push("data=body".into());
        }
    }
    if let Some(d) = &spec.digest {
        args.push(format!(
            "auth=HTTPDigestAuth({}, {})",
            lit(&shown(spec, reveal, &d.user)),
            lit(&password(reveal, &d.password))
        ));
    }
    if let Some(t) = spec.options.timeout {
        args.push(format!("timeout={}", t.as_secs_f64()));
    }
    if !spec.options.follow_redirects {
        args.push("allow_redirects=False".into());
    }
    let mut out = String::from("import requests\n");
    if spec.digest.is_some() {
        out.push_str("from requests.auth import HTTPDigestAuth\n");
    }
    out.push('\n');
    let call = format!(
        "response = requests.request(\n{})\n",
        args.iter()
            .map(|a| format!("    {a},\n"))
            .collect::<String>()
    );
    match open {
        Some(path) => {
            out.push_str(&format!("with open({}, \"rb\") as body:\n", lit(&path)));
            for l in call.lines() {
                out.push_str(&format!("    {l}\n"));
            }
        }
        None => out.push_str(&call),
    }
    out.push_str("print(response.status_code)\nprint(response.text)\n");
    out
}

pub fn to_fetch(spec: &RequestSpec, reveal: bool) -> String {
    let mut out = String::new();
    if let BodySpec::File(_) = spec.body {
        out.push_str("import { readFileSync } from \"node:fs\";\n\n");
    }
    out.push_str(&format!(
        "const response = await fetch({}, {{\n  method: {},\n",
        lit(&shown(spec, reveal, &spec.url)),
        lit(&spec.method)
    ));
    let headers = shown_headers(spec, reveal);
    if !headers.is_empty() {
        out.push_str("  headers: {\n");
        for (n, v) in &headers {
            out.push_str(&format!("    {}: {},\n", lit(n), lit(v)));
        }
        out.push_str("  },\n");
    }
    match &spec.body {
        BodySpec::None => {}
        BodySpec::Bytes(b) => {
            let text = String::from_utf8_lossy(b);
            out.push_str(&format!("  body: {},\n", lit(&shown(spec, reveal, &text))));
        }
        BodySpec::File(p) => {
            out.push_str(&format!(
                "  body: readFileSync({}),\n",
                lit(&p.display().to_string())
            ));
        }
    }
    if !spec.options.follow_redirects {
        out.push_str("  redirect: \"manual\",\n");
    }
    if let Some(t) = spec.options.timeout {
        out.push_str(&format!(
            "  signal: AbortSignal.timeout({}),\n",
            t.as_millis()
        ));
    }
    out.push_str("});\n");
    if spec.digest.is_some() {
        out.push_str("// fetch has no Digest authentication: the server will answer 401.\n");
    }
    out.push_str("console.log(response.status, await response.text());\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec() -> RequestSpec {
        let mut s = RequestSpec::for_test(
            "http://127.0.0.1:8080/a?k=tok-123",
            &[
                ("Authorization", "Bearer tok-123"),
                ("Content-Type", "application/json"),
            ],
            b"{\"a\": \"say \\\"tok-123\\\"\"}",
        );
        s.options.follow_redirects = false;
        s
    }

    #[test]
    fn python_and_fetch_mask_secrets_unless_revealed() {
        let s = spec();
        let py = to_python(&s, false);
        assert_eq!(
            py,
            "import requests\n\nresponse = requests.request(\n    \"POST\",\n    \"http://127.0.0.1:8080/a?k=***\",\n    headers={\n        \"Authorization\": \"Bearer ***\",\n        \"Content-Type\": \"application/json\",\n    },\n    data=\"{\\\"a\\\": \\\"say \\\\\\\"***\\\\\\\"\\\"}\".encode(),\n    timeout=1.5,\n    allow_redirects=False,\n)\nprint(response.status_code)\nprint(response.text)\n"
        );
        let js = to_fetch(&s, false);
        assert!(!js.contains("tok-123"), "{js}");
        assert!(js.starts_with("const response = await fetch(\"http://127.0.0.1:8080/a?k=***\", {\n  method: \"POST\",\n  headers: {\n    \"Authorization\": \"Bearer ***\",\n"), "{js}");
        assert!(
            js.contains("  redirect: \"manual\",\n  signal: AbortSignal.timeout(1500),\n});\n"),
            "{js}"
        );
        for code in [to_python(&s, true), to_fetch(&s, true)] {
            assert!(
                code.contains("Bearer tok-123") && code.contains("k=tok-123"),
                "{code}"
            );
        }
    }

    #[test]
    fn a_body_file_is_read_where_the_code_runs() {
        let mut s = spec();
        s.body = BodySpec::File("/w/body.bin".into());
        assert!(to_python(&s, false).contains(
            "with open(\"/w/body.bin\", \"rb\") as body:\n    response = requests.request(\n"
        ));
        let js = to_fetch(&s, false);
        assert!(
            js.starts_with("import { readFileSync } from \"node:fs\";\n"),
            "{js}"
        );
        assert!(
            js.contains("  body: readFileSync(\"/w/body.bin\"),\n"),
            "{js}"
        );
    }
}
