//! The response model: status, headers, a body kept in memory up to a limit and spilled
//! to a file beyond it, timings and size, as the engine hands it to rendering,
//! assertions, history and request variables.

use std::path::PathBuf;
use std::time::Duration;

use crate::env::RecordedExchange;
use crate::request::{BodySpec, RequestSpec};

/// Bodies larger than this are written to a file instead of being kept in memory.
pub const SPILL_THRESHOLD: usize = 1024 * 1024;
/// How much of a spilled body is kept in memory (and shown in the document).
pub const SHOWN_HEAD: usize = 64 * 1024;

#[derive(Debug, Clone)]
pub struct Response {
    /// The method and URL of the request that produced this response (after
    /// redirects, the final URL).
    pub method: String,
    pub url: String,
    pub status: u16,
    /// The canonical reason phrase for the status (HTTP/2 has none on the wire).
    pub reason: String,
    /// `HTTP/1.1`, `HTTP/2`, ...
    pub version: String,
    pub headers: Vec<(String, String)>,
    pub body: ResponseBody,
    pub timings: Timings,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Timings {
    /// From the start of the exchange until the response head arrived (includes DNS,
    /// connect, TLS and the server's think time; digest auth counts both rounds).
    pub first_byte: Duration,
    /// Until the last byte of the body.
    pub total: Duration,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ResponseBody {
    InMemory(Vec<u8>),
    /// Too large to keep: the whole body is in `path`, the first [`SHOWN_HEAD`] bytes
    /// are in `head`.
    Spilled {
        path: PathBuf,
        size: u64,
        head: Vec<u8>,
    },
}

impl ResponseBody {
    pub fn size(&self) -> u64 {
        match self {
            ResponseBody::InMemory(b) => b.len() as u64,
            ResponseBody::Spilled { size, .. } => *size,
        }
    }
    /// The bytes at hand: the whole body, or the head of a spilled one.
    pub fn bytes(&self) -> &[u8] {
        match self {
            ResponseBody::InMemory(b) => b,
            ResponseBody::Spilled { head, .. } => head,
        }
    }
    pub fn is_spilled(&self) -> bool {
        matches!(self, ResponseBody::Spilled { .. })
    }
    /// The body as text (lossy UTF-8); for a spilled body only its head.
    pub fn text_lossy(&self) -> String {
        String::from_utf8_lossy(self.bytes()).into_owned()
    }
}

/// A response's body read as JSON at most once, when first asked: the assertions
/// (`?? body $.id exists`) and the schema check (`schema:`, `?? schema`) share it.
pub struct JsonBody<'a> {
    bytes: &'a [u8],
    parsed: std::cell::OnceCell<Option<serde_json::Value>>,
}

impl<'a> JsonBody<'a> {
    pub fn new(resp: &'a Response) -> Self {
        JsonBody {
            bytes: resp.body.bytes(),
            parsed: std::cell::OnceCell::new(),
        }
    }

    /// The body as JSON, `None` when it is not JSON.
    pub fn get(&self) -> Option<&serde_json::Value> {
        self.parsed
            .get_or_init(|| serde_json::from_slice(self.bytes).ok())
            .as_ref()
    }

    /// Has the body been parsed yet? (For tests.)
    pub fn is_parsed(&self) -> bool {
        self.parsed.get().is_some()
    }
}

impl Response {
    /// The first header of that name (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
    /// Every value of a header, joined with `, ` as HTTP allows for most headers.
    pub fn header_joined(&self, name: &str) -> Option<String> {
        let values: Vec<&str> = self
            .headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
            .collect();
        (!values.is_empty()).then(|| values.join(", "))
    }
    /// The media type without parameters, lower-cased (`application/json`).
    pub fn media_type(&self) -> Option<String> {
        self.header("content-type").map(|ct| {
            ct.split(';')
                .next()
                .unwrap_or_default()
                .trim()
                .to_ascii_lowercase()
        })
    }
    /// What request variables (`{{login.response...}}`) read of this exchange.
    pub fn to_recorded(&self, spec: &RequestSpec) -> RecordedExchange {
        RecordedExchange {
            request_headers: spec.headers.clone(),
            request_body: match &spec.body {
                BodySpec::Bytes(b) => Some(String::from_utf8_lossy(b).into_owned()),
                BodySpec::File(_) | BodySpec::None => None,
            },
            status: self.status,
            response_headers: self.headers.clone(),
            response_body: self.body.text_lossy(),
        }
    }
}

/// `1.2 KiB`, `100.0 MiB`, `12 B`.
pub fn human_size(bytes: u64) -> String {
    const UNITS: [&str; 4] = ["KiB", "MiB", "GiB", "TiB"];
    if bytes < 1024 {
        return format!("{bytes} B");
    }
    let mut v = bytes as f64 / 1024.0;
    let mut unit = 0;
    while v >= 1024.0 && unit + 1 < UNITS.len() {
        v /= 1024.0;
        unit += 1;
    }
    format!("{v:.1} {}", UNITS[unit])
}

/// `12 ms`, `1.25 s`.
pub fn human_duration(d: Duration) -> String {
    let ms = d.as_secs_f64() * 1000.0;
    if ms < 1000.0 {
        format!("{} ms", ms.round() as u64)
    } else {
        format!("{:.2} s", ms / 1000.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_and_durations_read_well() {
        assert_eq!(human_size(12), "12 B");
        assert_eq!(human_size(1536), "1.5 KiB");
        assert_eq!(human_size(100 * 1024 * 1024), "100.0 MiB");
        assert_eq!(human_duration(Duration::from_millis(12)), "12 ms");
        assert_eq!(human_duration(Duration::from_millis(1250)), "1.25 s");
    }
}
