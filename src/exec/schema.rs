//! A response checked against the OpenAPI spec of its request file: the operation the
//! request matches, the schema the spec gives for the response's status, and the
//! differences. The response document ends with the verdict (`schema: matches ...`);
//! `?? schema` asserts it. The checking itself is `openapi::validate`.

use std::sync::Arc;

use super::response::{JsonBody, Response};
use crate::env::Workspace;
use crate::openapi::validate::{self, Difference, ResponseSchema};
use crate::openapi::{self, Match, Operation, Spec, find_in};
use crate::syntax::ast::HttpFile;

/// How many differences a line or a failure shows.
pub const SHOWN: usize = 3;

/// What the spec says about one response.
#[derive(Debug, Clone, PartialEq)]
pub enum Verdict {
    /// The request file names no spec that could be read.
    NoSpec,
    /// No operation of the specs matches the request.
    NoOperation {
        request: String,
    },
    /// The operation does not list this status (nor a range or `default`).
    Undocumented {
        operation: String,
        status: u16,
        codes: Vec<String>,
    },
    /// The status is documented without a JSON schema: nothing to check.
    NoJsonSchema {
        label: String,
    },
    /// Too big to hold in memory, so not read whole.
    TooBig {
        label: String,
    },
    NotJson {
        label: String,
    },
    Matches {
        label: String,
    },
    Differs {
        label: String,
        first: Vec<Difference>,
        total: usize,
    },
}

impl Verdict {
    /// The line at the end of the response document (without `# `), when the status
    /// has a JSON schema.
    pub fn document_line(&self) -> Option<String> {
        match self {
            Verdict::Matches { label } => Some(format!("schema: matches {label}")),
            Verdict::Differs {
                label,
                first,
                total,
            } => Some(format!(
                "schema: does not match {label}: {}",
                listed(first, *total)
            )),
            Verdict::NotJson { label } => Some(format!(
                "schema: does not match {label}: the body is not JSON"
            )),
            Verdict::TooBig { label } => Some(format!(
                "schema: not checked against {label}: the body is over 1 MiB"
            )),
            _ => None,
        }
    }

    /// The outcome of `?? schema`.
    pub fn assertion(&self) -> Result<(), String> {
        match self {
            Verdict::Matches { .. } | Verdict::NoJsonSchema { .. } => Ok(()),
            Verdict::NoSpec => Err(
                "no OpenAPI spec to check against: name one with `# @openapi ./spec.yaml` or `\"openapi\"` in the environment".into(),
            ),
            Verdict::NoOperation { request } => {
                Err(format!("the spec has no operation for {request}"))
            }
            Verdict::Undocumented {
                operation,
                status,
                codes,
            } => Err(format!(
                "the spec lists no {status} response for {operation}{}",
                if codes.is_empty() {
                    String::new()
                } else {
                    format!(" (only {})", codes.join(", "))
                }
            )),
            Verdict::TooBig { label } => Err(format!(
                "the body is over 1 MiB, too big to check against {label}"
            )),
            Verdict::NotJson { label } => {
                Err(format!("the body is not JSON, but {label} has a JSON schema"))
            }
            Verdict::Differs { label, first, total } => Err(format!(
                "the body does not match {label}: {}",
                listed(first, *total)
            )),
        }
    }
}

fn listed(first: &[Difference], total: usize) -> String {
    let mut s = first
        .iter()
        .map(Difference::to_string)
        .collect::<Vec<_>>()
        .join("; ");
    if total > first.len() {
        s.push_str(&format!(" (and {} more)", total - first.len()));
    }
    s
}

/// The operation a sent request matches: by its target as written (`{{api}}/products`),
/// else by the URL it went to (a spec's server), else by that URL's path alone (a local
/// server that is not among the spec's servers).
fn operation<'s>(
    specs: &'s [Arc<Spec>],
    method: &str,
    written: &str,
    url: &str,
) -> Option<&'s Operation> {
    if let Match::Operation(op) = find_in(specs, method, written) {
        return Some(op);
    }
    if let Match::Operation(op) = find_in(specs, method, url) {
        return Some(op);
    }
    let path = url::Url::parse(url).ok()?.path().to_string();
    match find_in(specs, method, &format!("{{{{url}}}}{path}")) {
        Match::Operation(op) => Some(op),
        _ => None,
    }
}

/// The verdict on `resp` to a request sent as `method url`, written as `written`.
pub fn check(
    specs: &[Arc<Spec>],
    method: &str,
    written: &str,
    url: &str,
    resp: &Response,
) -> Verdict {
    check_with_body(specs, method, written, url, resp, &JsonBody::new(resp))
}

/// [`check`] with the body read as JSON by the caller (once, shared with the
/// assertions); it is parsed only when the status has a JSON schema.
pub fn check_with_body(
    specs: &[Arc<Spec>],
    method: &str,
    written: &str,
    url: &str,
    resp: &Response,
    json: &JsonBody,
) -> Verdict {
    if specs.is_empty() {
        return Verdict::NoSpec;
    }
    let Some(op) = operation(specs, method, written, url) else {
        let path = url::Url::parse(url)
            .map(|u| u.path().to_string())
            .unwrap_or_else(|_| url.to_string());
        return Verdict::NoOperation {
            request: format!("{method} {path}"),
        };
    };
    let Some(spec) = validate::spec_of(specs, op) else {
        return Verdict::NoSpec;
    };
    let operation = format!("{} {}", op.method, op.path);
    let content_type = resp.header_joined("content-type");
    match spec.response_schema(op, resp.status, content_type.as_deref()) {
        ResponseSchema::Undocumented { codes } => Verdict::Undocumented {
            operation,
            status: resp.status,
            codes,
        },
        ResponseSchema::NoJsonSchema { code } => Verdict::NoJsonSchema {
            label: format!("{operation} {code}"),
        },
        ResponseSchema::Json { code, validator } => {
            let label = format!("{operation} {code}");
            if resp.body.is_spilled() {
                return Verdict::TooBig { label };
            }
            let Some(body) = json.get() else {
                return Verdict::NotJson { label };
            };
            // The quick yes/no first: collecting differences costs more.
            if validator.is_valid(body) {
                return Verdict::Matches { label };
            }
            let (first, total) = validator.differences(body, SHOWN);
            if total == 0 {
                Verdict::Matches { label }
            } else {
                Verdict::Differs {
                    label,
                    first,
                    total,
                }
            }
        }
    }
}

/// The specs a request file names (`# @openapi`, the environment's `"openapi"`) that
/// could be read; one that cannot is the editor's warning, not the engine's concern.
pub fn specs_of(workspace: &Workspace, file: &HttpFile) -> Vec<Arc<Spec>> {
    openapi::spec_sources(file, workspace.file_dir(), Some(&workspace.env))
        .iter()
        .filter_map(|s| openapi::load(&s.path).as_ref().as_ref().ok().cloned())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exec::{ResponseBody, Timings, assert};
    use crate::request::ResolvedAssertion;
    use crate::syntax::ast::{AssertOp, AssertTarget};

    const SPEC: &str = r##"
openapi: 3.0.3
info: {title: T, version: "1"}
paths:
  /items:
    get:
      responses:
        "200":
          description: ok
          content: {application/json: {schema: {type: object, required: [id], properties: {id: {type: integer}}}}}
        "204": {description: nothing}
"##;

    fn response(status: u16, body: &str) -> Response {
        Response {
            method: "GET".into(),
            url: "http://127.0.0.1:9/items".into(),
            status,
            reason: String::new(),
            version: "HTTP/1.1".into(),
            headers: vec![("content-type".into(), "application/json".into())],
            body: ResponseBody::InMemory(body.as_bytes().to_vec()),
            timings: Timings::default(),
        }
    }

    fn assertion(target: AssertTarget) -> ResolvedAssertion {
        ResolvedAssertion {
            line: 1,
            text: String::new(),
            target,
            op: AssertOp::Exists,
            expected: None,
        }
    }

    /// The body is read as JSON once, by whichever needs it first, and not at all when
    /// nothing does.
    #[test]
    fn the_body_is_parsed_once_and_only_when_needed() {
        let specs = vec![Arc::new(openapi::parse(SPEC).unwrap())];
        let status = [assertion(AssertTarget::Status)];
        let body = [assertion(AssertTarget::Body(Some("$.id".into())))];
        // A status without a schema, a status assertion: nothing parses the body.
        let r = response(204, "{\"id\": 1}");
        let json = JsonBody::new(&r);
        let v = check_with_body(&specs, "GET", "{{u}}/items", &r.url, &r, &json);
        assert!(matches!(v, Verdict::NoJsonSchema { .. }));
        let a = assert::check_all_with_body(&status, &r, &v, &json);
        assert!(a[0].passed);
        assert!(!json.is_parsed());
        // The schema check parses it; the body assertion reads the same value.
        let r = response(200, "{\"id\": 1}");
        let json = JsonBody::new(&r);
        let v = check_with_body(&specs, "GET", "{{u}}/items", &r.url, &r, &json);
        assert!(matches!(v, Verdict::Matches { .. }), "{v:?}");
        assert!(json.is_parsed());
        let first = json.get().unwrap() as *const serde_json::Value;
        let a = assert::check_all_with_body(&body, &r, &v, &json);
        assert!(a[0].passed, "{:?}", a[0]);
        assert_eq!(json.get().unwrap() as *const serde_json::Value, first);
        // Not JSON: the same verdict as before.
        let r = response(200, "nope");
        assert!(matches!(
            check(&specs, "GET", "{{u}}/items", &r.url, &r),
            Verdict::NotJson { .. }
        ));
    }
}
