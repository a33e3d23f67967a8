//! `RequestSpec`: a request fully resolved and ready to send, the hand-off between the
//! pure resolve step (`request::build`) and the sending engine (`exec`).

use std::path::PathBuf;
use std::time::Duration;

use crate::secret::SecretSet;
use crate::syntax::ast::{AssertOp, AssertTarget};

#[derive(Debug, Clone)]
pub struct RequestSpec {
    /// `# @name`, else the `###` title.
    pub name: Option<String>,
    /// 1-based line of the request line.
    pub line: u32,
    pub method: String,
    /// Absolute URL (a target with no scheme gets `http://` from the `Host` header
    /// or as written).
    pub url: String,
    /// Headers the file gives, in order, after shorthands (Basic encoded, GraphQL's
    /// `X-Request-Type` consumed). Values may hold secrets: mask with `secrets`.
    pub headers: Vec<(String, String)>,
    pub body: BodySpec,
    pub options: RequestOptions,
    /// `Authorization: Digest user pass`: the exchange performs digest auth.
    pub digest: Option<DigestCredentials>,
    /// Every secret value that went into this request.
    pub secrets: SecretSet,
    pub assertions: Vec<ResolvedAssertion>,
    pub output: Option<OutputTarget>,
}

impl RequestSpec {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BodySpec {
    None,
    Bytes(Vec<u8>),
    /// `< ./file` alone as the body: streamed from disk as is.
    File(PathBuf),
}

impl BodySpec {
    pub fn is_none(&self) -> bool {
        matches!(self, BodySpec::None)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestOptions {
    /// `@timeout`: the whole exchange.
    pub timeout: Option<Duration>,
    /// `@connection-timeout`.
    pub connect_timeout: Option<Duration>,
    /// False with `@no-redirect`.
    pub follow_redirects: bool,
    /// False with `@no-cookie-jar`.
    pub cookie_jar: bool,
    /// `@no-log`: keep no response history for this request.
    pub no_log: bool,
    /// `@note`: ask before sending (the text, if any).
    pub confirm: Option<String>,
    /// `OPTIONS * HTTP/1.1`: the asterisk form; the URL names only the server.
    pub asterisk_form: bool,
}

impl Default for RequestOptions {
    fn default() -> Self {
        RequestOptions {
            timeout: None,
            connect_timeout: None,
            follow_redirects: true,
            cookie_jar: true,
            no_log: false,
            confirm: None,
            asterisk_form: false,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DigestCredentials {
    pub user: String,
    pub password: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolvedAssertion {
    /// 1-based line the assertion stands on.
    pub line: u32,
    /// The assertion as written, for reports.
    pub text: String,
    pub target: AssertTarget,
    pub op: AssertOp,
    pub expected: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutputTarget {
    pub path: PathBuf,
    pub overwrite: bool,
}

#[cfg(test)]
impl RequestSpec {
    /// A request for renderer tests: the secret `tok-123` known, a 1.5 s timeout.
    pub(crate) fn for_test(url: &str, headers: &[(&str, &str)], body: &[u8]) -> RequestSpec {
        let mut secrets = SecretSet::new();
        secrets.add("tok-123");
        RequestSpec {
            name: None,
            line: 1,
            method: "POST".into(),
            url: url.into(),
            headers: headers
                .iter()
                .map(|(n, v)| (n.to_string(), v.to_string()))
                .collect(),
            body: BodySpec::Bytes(body.to_vec()),
            options: RequestOptions {
                timeout: Some(std::time::Duration::from_millis(1500)),
                ..RequestOptions::default()
            },
            digest: None,
            secrets,
            assertions: vec![],
            output: None,
        }
    }
}
