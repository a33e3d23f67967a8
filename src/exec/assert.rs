//! Assertions (`?? status == 200`, `?? header content-type includes json`,
//! `?? body $.id exists`, `?? duration < 500`): evaluated against a response, each
//! passed or failed with its line and a readable reason.

use serde_json::Value;

use super::response::{JsonBody, Response};
use crate::request::ResolvedAssertion;
use crate::syntax::ast::{AssertOp, AssertTarget};

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct AssertionResult {
    /// 1-based line of the assertion.
    pub line: u32,
    /// The assertion as written.
    pub text: String,
    pub passed: bool,
    /// Why it failed (None when it passed).
    pub reason: Option<String>,
}

/// What the left-hand side evaluated to.
#[derive(Debug, Clone, PartialEq)]
enum Actual {
    Missing,
    Value(Value),
}

/// Evaluates every assertion against the response (`?? schema` fails: no spec given).
pub fn check_all(assertions: &[ResolvedAssertion], resp: &Response) -> Vec<AssertionResult> {
    check_all_with_schema(assertions, resp, &super::schema::Verdict::NoSpec)
}

/// Evaluates every assertion against the response; `?? schema` by `schema`, the
/// verdict of the request's spec on it.
pub fn check_all_with_schema(
    assertions: &[ResolvedAssertion],
    resp: &Response,
    schema: &super::schema::Verdict,
) -> Vec<AssertionResult> {
    check_all_with_body(assertions, resp, schema, &JsonBody::new(resp))
}

/// [`check_all_with_schema`] with the body read as JSON by the caller (once, shared
/// with the schema check); it is parsed only if an assertion reads it.
pub fn check_all_with_body(
    assertions: &[ResolvedAssertion],
    resp: &Response,
    schema: &super::schema::Verdict,
    body: &JsonBody,
) -> Vec<AssertionResult> {
    assertions
        .iter()
        .map(|a| {
            let outcome = if a.target == AssertTarget::Schema {
                schema.assertion()
            } else {
                actual(a, resp, body).and_then(|v| evaluate(a, &v))
            };
            AssertionResult {
                line: a.line,
                text: a.text.clone(),
                passed: outcome.is_ok(),
                reason: outcome.err(),
            }
        })
        .collect()
}

fn actual(a: &ResolvedAssertion, resp: &Response, body: &JsonBody) -> Result<Actual, String> {
    // Status, headers and duration never need the body parsed.
    let json = match &a.target {
        AssertTarget::Body(_) => body.get(),
        _ => None,
    };
    Ok(match &a.target {
        AssertTarget::Status => Actual::Value(Value::from(resp.status)),
        AssertTarget::Duration => Actual::Value(Value::from(resp.timings.total.as_millis() as u64)),
        AssertTarget::Header(name) => match resp.header_joined(name) {
            Some(v) => Actual::Value(Value::String(v)),
            None => Actual::Missing,
        },
        AssertTarget::Body(None) => match json {
            Some(v) => Actual::Value(v.clone()),
            None => Actual::Value(Value::String(resp.body.text_lossy())),
        },
        // Evaluated by `check_all_with_schema` before it gets here.
        AssertTarget::Schema => return Err("no OpenAPI spec to check against".into()),
        AssertTarget::Body(Some(path)) => {
            let Some(doc) = json else {
                return Err(format!(
                    "the body is not JSON, so the path `{path}` cannot be read"
                ));
            };
            let p = path.trim();
            let p = if p.starts_with('$') {
                p.to_string()
            } else {
                format!("$.{p}")
            };
            let query = serde_json_path::JsonPath::parse(&p)
                .map_err(|e| format!("`{path}` is not a valid JSONPath ({e})"))?;
            let nodes = query.query(doc).all();
            match nodes.len() {
                0 => Actual::Missing,
                1 => Actual::Value(nodes[0].clone()),
                _ => Actual::Value(Value::Array(nodes.into_iter().cloned().collect())),
            }
        }
    })
}

/// The value as a user reads it: strings without quotes, the rest as compact JSON.
fn show(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn show_actual(a: &Actual) -> String {
    match a {
        Actual::Missing => "nothing (not present)".into(),
        Actual::Value(v) => {
            let s = show(v);
            let s = if s.chars().count() > 200 {
                format!("{}...", s.chars().take(200).collect::<String>())
            } else {
                s
            };
            format!("`{s}`")
        }
    }
}

fn as_number(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// The expected value with surrounding quotes removed (`"abc"` and `'abc'`).
fn unquote(s: &str) -> &str {
    let t = s.trim();
    for q in ['"', '\''] {
        if t.len() >= 2 && t.starts_with(q) && t.ends_with(q) {
            return &t[1..t.len() - 1];
        }
    }
    t
}

fn equal(actual: &Value, expected: &str) -> bool {
    let exp = unquote(expected);
    if let (Some(a), Ok(e)) = (as_number(actual), exp.parse::<f64>())
        && expected.trim() == exp
    {
        return a == e;
    }
    match actual {
        Value::String(s) => s == exp,
        Value::Bool(b) => exp == if *b { "true" } else { "false" },
        Value::Null => exp == "null",
        other => {
            // Compare JSON structurally when the expectation is JSON itself.
            match serde_json::from_str::<Value>(expected.trim()) {
                Ok(e) => &e == other,
                Err(_) => {
                    let compact = serde_json::to_string(other).unwrap_or_default();
                    compact == exp
                }
            }
        }
    }
}

fn evaluate(a: &ResolvedAssertion, actual: &Actual) -> Result<(), String> {
    let expected = a.expected.as_deref().unwrap_or("");
    let fail = |what: &str| Err(format!("expected {what}, got {}", show_actual(actual)));
    let value = match actual {
        Actual::Value(v) => Some(v),
        Actual::Missing => None,
    };
    match a.op {
        AssertOp::Exists => match value {
            Some(_) => Ok(()),
            None => fail("a value"),
        },
        AssertOp::NotExists => match value {
            None => Ok(()),
            Some(_) => fail("no value"),
        },
        _ if value.is_none() => fail(&describe(a.op, expected)),
        _ => {
            let v = value.unwrap_or(&Value::Null);
            let ok = match a.op {
                AssertOp::Eq => equal(v, expected),
                AssertOp::Ne => !equal(v, expected),
                AssertOp::Gt | AssertOp::Ge | AssertOp::Lt | AssertOp::Le => {
                    let (Some(x), Ok(y)) = (as_number(v), unquote(expected).parse::<f64>()) else {
                        return Err(format!(
                            "`{}` needs two numbers, got {} and `{expected}`",
                            op_text(a.op),
                            show_actual(actual)
                        ));
                    };
                    match a.op {
                        AssertOp::Gt => x > y,
                        AssertOp::Ge => x >= y,
                        AssertOp::Lt => x < y,
                        _ => x <= y,
                    }
                }
                AssertOp::Includes | AssertOp::NotIncludes => {
                    let exp = unquote(expected);
                    let has = match v {
                        Value::Array(items) => items.iter().any(|i| equal(i, expected)),
                        other => show(other).contains(exp),
                    };
                    has == (a.op == AssertOp::Includes)
                }
                AssertOp::StartsWith => show(v).starts_with(unquote(expected)),
                AssertOp::EndsWith => show(v).ends_with(unquote(expected)),
                AssertOp::Matches => {
                    let pat = unquote(expected);
                    // httpyac also accepts `/pattern/`.
                    let pat = pat
                        .strip_prefix('/')
                        .and_then(|p| p.strip_suffix('/'))
                        .unwrap_or(pat);
                    let re = regex::Regex::new(pat)
                        .map_err(|e| format!("`{pat}` is not a valid regular expression ({e})"))?;
                    re.is_match(&show(v))
                }
                AssertOp::IsTrue => matches!(v, Value::Bool(true)) || show(v) == "true",
                AssertOp::IsFalse => matches!(v, Value::Bool(false)) || show(v) == "false",
                AssertOp::IsNumber => as_number(v).is_some(),
                AssertOp::IsString => v.is_string(),
                AssertOp::IsBoolean => v.is_boolean(),
                AssertOp::IsArray => v.is_array(),
                AssertOp::IsNull => v.is_null(),
                AssertOp::Exists | AssertOp::NotExists | AssertOp::Conforms => true,
            };
            if ok {
                Ok(())
            } else {
                fail(&describe(a.op, expected))
            }
        }
    }
}

fn op_text(op: AssertOp) -> &'static str {
    match op {
        AssertOp::Eq => "==",
        AssertOp::Ne => "!=",
        AssertOp::Gt => ">",
        AssertOp::Ge => ">=",
        AssertOp::Lt => "<",
        AssertOp::Le => "<=",
        AssertOp::Includes => "includes",
        AssertOp::NotIncludes => "not includes",
        AssertOp::StartsWith => "startsWith",
        AssertOp::EndsWith => "endsWith",
        AssertOp::Matches => "matches",
        AssertOp::Exists => "exists",
        AssertOp::NotExists => "not exists",
        AssertOp::IsTrue => "isTrue",
        AssertOp::IsFalse => "isFalse",
        AssertOp::IsNumber => "isNumber",
        AssertOp::IsString => "isString",
        AssertOp::IsBoolean => "isBoolean",
        AssertOp::IsArray => "isArray",
        AssertOp::IsNull => "isNull",
        AssertOp::Conforms => "matches the spec",
    }
}

fn describe(op: AssertOp, expected: &str) -> String {
    match op {
        AssertOp::Eq => format!("`{}`", unquote(expected)),
        AssertOp::Ne => format!("anything but `{}`", unquote(expected)),
        AssertOp::Gt => format!("more than {expected}"),
        AssertOp::Ge => format!("at least {expected}"),
        AssertOp::Lt => format!("less than {expected}"),
        AssertOp::Le => format!("at most {expected}"),
        AssertOp::Includes => format!("something including `{}`", unquote(expected)),
        AssertOp::NotIncludes => format!("something without `{}`", unquote(expected)),
        AssertOp::StartsWith => format!("something starting with `{}`", unquote(expected)),
        AssertOp::EndsWith => format!("something ending with `{}`", unquote(expected)),
        AssertOp::Matches => format!("a match for `{}`", unquote(expected)),
        AssertOp::Exists => "a value".into(),
        AssertOp::NotExists => "no value".into(),
        AssertOp::IsTrue => "true".into(),
        AssertOp::IsFalse => "false".into(),
        AssertOp::IsNumber => "a number".into(),
        AssertOp::IsString => "a string".into(),
        AssertOp::IsBoolean => "a boolean".into(),
        AssertOp::IsArray => "an array".into(),
        AssertOp::IsNull => "null".into(),
        AssertOp::Conforms => "a body that matches the spec".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exec::response::{ResponseBody, Timings};
    use std::time::Duration;

    fn resp(body: &str) -> Response {
        Response {
            method: "GET".into(),
            url: "http://127.0.0.1/".into(),
            status: 201,
            reason: "Created".into(),
            version: "HTTP/1.1".into(),
            headers: vec![(
                "content-type".into(),
                "application/json; charset=utf-8".into(),
            )],
            body: ResponseBody::InMemory(body.as_bytes().to_vec()),
            timings: Timings {
                first_byte: Duration::from_millis(3),
                total: Duration::from_millis(5),
            },
        }
    }

    fn a(target: AssertTarget, op: AssertOp, expected: Option<&str>) -> ResolvedAssertion {
        ResolvedAssertion {
            line: 7,
            text: "t".into(),
            target,
            op,
            expected: expected.map(str::to_string),
        }
    }

    #[test]
    fn operators_pass_and_fail_with_reasons() {
        let r = resp(r#"{"id": 42, "name": "Ada", "tags": ["x", "y"], "ok": true, "n": null}"#);
        let body = |p: &str| AssertTarget::Body(Some(p.into()));
        let cases = vec![
            (a(AssertTarget::Status, AssertOp::Eq, Some("201")), true),
            (a(AssertTarget::Status, AssertOp::Eq, Some("200")), false),
            (a(AssertTarget::Status, AssertOp::Lt, Some("300")), true),
            (a(AssertTarget::Duration, AssertOp::Lt, Some("1000")), true),
            (
                a(
                    AssertTarget::Header("Content-Type".into()),
                    AssertOp::Includes,
                    Some("json"),
                ),
                true,
            ),
            (
                a(
                    AssertTarget::Header("X-Missing".into()),
                    AssertOp::NotExists,
                    None,
                ),
                true,
            ),
            (
                a(
                    AssertTarget::Header("X-Missing".into()),
                    AssertOp::Eq,
                    Some("a"),
                ),
                false,
            ),
            (a(body("$.id"), AssertOp::Eq, Some("42")), true),
            (a(body("$.id"), AssertOp::IsNumber, None), true),
            (a(body("$.name"), AssertOp::Eq, Some("\"Ada\"")), true),
            (a(body("$.name"), AssertOp::StartsWith, Some("A")), true),
            (a(body("$.name"), AssertOp::Matches, Some("^A.a$")), true),
            (a(body("$.tags"), AssertOp::Includes, Some("y")), true),
            (a(body("$.tags"), AssertOp::IsArray, None), true),
            (a(body("$.ok"), AssertOp::IsTrue, None), true),
            (a(body("$.n"), AssertOp::IsNull, None), true),
            (a(body("$.n"), AssertOp::Exists, None), true),
            (a(body("$.nope"), AssertOp::Exists, None), false),
            (
                a(AssertTarget::Body(None), AssertOp::Includes, Some("Ada")),
                true,
            ),
            (
                a(AssertTarget::Body(None), AssertOp::Includes, Some("Bob")),
                false,
            ),
        ];
        for (assertion, pass) in cases {
            let res = &check_all(std::slice::from_ref(&assertion), &r)[0];
            assert_eq!(res.passed, pass, "{assertion:?}: {:?}", res.reason);
            assert_eq!(res.line, 7);
            if !pass {
                assert!(res.reason.as_deref().unwrap_or("").starts_with("expected"));
            }
        }
        let res = &check_all(&[a(AssertTarget::Status, AssertOp::Eq, Some("200"))], &r)[0];
        assert_eq!(res.reason.as_deref(), Some("expected `200`, got `201`"));
    }

    #[test]
    fn whole_body_text_and_non_json_paths() {
        let mut r = resp("plain text here");
        r.headers.clear();
        let res = check_all(
            &[
                a(AssertTarget::Body(None), AssertOp::Includes, Some("text")),
                a(
                    AssertTarget::Body(Some("$.x".into())),
                    AssertOp::Exists,
                    None,
                ),
                a(AssertTarget::Status, AssertOp::Gt, Some("abc")),
            ],
            &r,
        );
        assert!(res[0].passed);
        assert!(!res[1].passed && res[1].reason.as_deref().unwrap().contains("not JSON"));
        assert!(!res[2].passed && res[2].reason.as_deref().unwrap().contains("two numbers"));
    }
}
