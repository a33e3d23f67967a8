//! Rendering a response as a document that reads like an HTTP message: status line,
//! headers, a blank line, the body pretty-printed by content type, then comment lines
//! for assertions, script results and notes and, last, timing and size. Every secret value
//! that went into the request is masked everywhere in it.

use std::path::Path;

use super::assert::AssertionResult;
use super::response::{Response, SHOWN_HEAD, human_duration, human_size};
use crate::request::RequestSpec;

/// How a body is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyKind {
    Json,
    Xml,
    Html,
    Form,
    Text,
    /// Images, archives, anything that is not text: summarised and saved beside.
    Binary,
}

/// The `Content-Encoding` a body still has: the client decodes gzip and deflate (and
/// then drops the header); anything else (`br`, `zstd`) arrives as the server sent it.
pub fn undecoded_encoding(resp: &Response) -> Option<&str> {
    resp.header("content-encoding")
        .map(str::trim)
        .filter(|e| !e.is_empty() && !e.eq_ignore_ascii_case("identity"))
}

/// Classifies by media type, falling back to sniffing UTF-8. A body in an encoding the
/// client does not decode is binary, whatever its type says.
pub fn body_kind(resp: &Response) -> BodyKind {
    if undecoded_encoding(resp).is_some() {
        return BodyKind::Binary;
    }
    let mt = resp.media_type().unwrap_or_default();
    let bytes = resp.body.bytes();
    if mt == "application/json" || mt.ends_with("+json") || mt.ends_with("/json") {
        return BodyKind::Json;
    }
    if mt.ends_with("/xml") || mt.ends_with("+xml") {
        return BodyKind::Xml;
    }
    if mt == "text/html" {
        return BodyKind::Html;
    }
    if mt == "application/x-www-form-urlencoded" {
        return BodyKind::Form;
    }
    if mt.starts_with("text/") || mt == "application/javascript" || mt == "application/graphql" {
        return BodyKind::Text;
    }
    let binary_type = ["image/", "audio/", "video/", "font/"]
        .iter()
        .any(|p| mt.starts_with(p))
        || matches!(
            mt.as_str(),
            "application/octet-stream"
                | "application/pdf"
                | "application/zip"
                | "application/gzip"
                | "application/wasm"
                | "application/x-tar"
        );
    if binary_type || !looks_like_text(bytes) {
        return BodyKind::Binary;
    }
    // Unlabelled text: JSON if it parses as JSON.
    if mt.is_empty() && serde_json::from_slice::<serde_json::Value>(bytes).is_ok() {
        return BodyKind::Json;
    }
    BodyKind::Text
}

/// UTF-8 (allowing a character cut at the end of a truncated head) without NUL bytes.
fn looks_like_text(bytes: &[u8]) -> bool {
    let valid = match std::str::from_utf8(bytes) {
        Ok(_) => true,
        Err(e) => e.error_len().is_none() && bytes.len() - e.valid_up_to() < 4,
    };
    valid && !bytes.contains(&0)
}

/// A file extension for a body saved beside the document.
pub fn body_extension(resp: &Response) -> &'static str {
    let mt = resp.media_type().unwrap_or_default();
    match mt.as_str() {
        "image/png" => "png",
        "image/jpeg" => "jpg",
        "image/gif" => "gif",
        "image/webp" => "webp",
        "image/svg+xml" => "svg",
        "application/pdf" => "pdf",
        "application/zip" => "zip",
        "application/gzip" => "gz",
        _ => match body_kind(resp) {
            BodyKind::Json => "json",
            BodyKind::Xml => "xml",
            BodyKind::Html => "html",
            BodyKind::Text | BodyKind::Form => "txt",
            BodyKind::Binary => "bin",
        },
    }
}

/// Does this response's body belong in a file of its own beside the document?
pub fn needs_body_file(resp: &Response) -> bool {
    resp.body.is_spilled() || (resp.body.size() > 0 && body_kind(resp) == BodyKind::Binary)
}

/// The body pretty-printed, or as is when it does not parse.
pub fn pretty_body(resp: &Response) -> String {
    let bytes = resp.body.bytes();
    let text = String::from_utf8_lossy(bytes);
    match body_kind(resp) {
        BodyKind::Json if !resp.body.is_spilled() => {
            serde_json::from_slice::<serde_json::Value>(bytes)
                .ok()
                .and_then(|v| serde_json::to_string_pretty(&v).ok())
                .unwrap_or_else(|| text.into_owned())
        }
        BodyKind::Xml if !resp.body.is_spilled() => {
            pretty_xml(&text).unwrap_or_else(|| text.into_owned())
        }
        BodyKind::Form if !resp.body.is_spilled() => url::form_urlencoded::parse(bytes)
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("\n"),
        _ => text.into_owned(),
    }
}

fn pretty_xml(text: &str) -> Option<String> {
    use quick_xml::events::Event;
    let mut reader = quick_xml::Reader::from_str(text);
    reader.config_mut().trim_text(true);
    let mut writer = quick_xml::Writer::new_with_indent(Vec::new(), b' ', 2);
    loop {
        match reader.read_event().ok()? {
            Event::Eof => break,
            e => writer.write_event(e).ok()?,
        }
    }
    String::from_utf8(writer.into_inner()).ok()
}

/// Everything the document shows besides the response itself.
#[derive(Debug, Clone, Copy, Default)]
pub struct DocumentExtras<'a> {
    pub assertions: &'a [AssertionResult],
    /// Where the body was saved when it has a file of its own.
    pub body_file: Option<&'a Path>,
}

/// The response document, secrets masked.
pub fn render_document(spec: &RequestSpec, resp: &Response, extras: DocumentExtras<'_>) -> String {
    render_document_with_notes(spec, resp, extras, &[])
}

/// [`render_document`] plus comment lines the engine adds (a refreshed token, where
/// `>>` wrote the body...).
pub fn render_document_with_notes(
    spec: &RequestSpec,
    resp: &Response,
    extras: DocumentExtras<'_>,
    notes: &[String],
) -> String {
    let mut doc = String::new();
    doc.push_str(&format!("{} {}", resp.version, resp.status));
    if !resp.reason.is_empty() {
        doc.push(' ');
        doc.push_str(&resp.reason);
    }
    doc.push('\n');
    for (n, v) in &resp.headers {
        doc.push_str(&format!("{n}: {v}\n"));
    }
    doc.push('\n');
    let size = resp.body.size();
    let kind = body_kind(resp);
    if kind == BodyKind::Binary {
        let mut mt = resp.media_type().unwrap_or_else(|| "unknown type".into());
        if let Some(e) = undecoded_encoding(resp) {
            // Only when the request asked for it itself (`Accept-Encoding: br`): what the
            // client asks for on its own, it decodes.
            mt = format!("{mt} compressed with `{e}`, which httplens does not decode");
        }
        match extras.body_file {
            Some(p) => doc.push_str(&format!(
                "# binary body: {}, {mt}, saved to {}\n",
                human_size(size),
                p.display()
            )),
            None if size == 0 => {}
            None => doc.push_str(&format!(
                "# binary body: {}, {mt} (not saved: history is off)\n",
                human_size(size)
            )),
        }
    } else if resp.body.is_spilled() {
        let place = extras
            .body_file
            .map(|p| format!("saved to {}", p.display()))
            .unwrap_or_else(|| "not saved".into());
        doc.push_str(&format!(
            "# body: {}, {place}; the first {} follow\n",
            human_size(size),
            human_size(SHOWN_HEAD as u64)
        ));
        doc.push_str(&pretty_body(resp));
        doc.push_str("\n# ... (truncated)\n");
    } else if size > 0 {
        let body = pretty_body(resp);
        doc.push_str(&body);
        if !body.ends_with('\n') {
            doc.push('\n');
        }
    }
    if !extras.assertions.is_empty() || !notes.is_empty() {
        doc.push('\n');
    }
    for a in extras.assertions {
        match (&a.passed, &a.reason) {
            (true, _) => doc.push_str(&format!("# passed (line {}): {}\n", a.line, a.text)),
            (false, reason) => doc.push_str(&format!(
                "# FAILED (line {}): {}: {}\n",
                a.line,
                a.text,
                reason.as_deref().unwrap_or("")
            )),
        }
    }
    for n in notes {
        doc.push_str(&format!("# {n}\n"));
    }
    doc.push_str(&format!(
        "\n# {} {} · {} {} · {} (first byte {}) · {}\n",
        resp.status,
        resp.reason,
        resp.method,
        resp.url,
        human_duration(resp.timings.total),
        human_duration(resp.timings.first_byte),
        human_size(size)
    ));
    spec.secrets.mask(&doc)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exec::response::{ResponseBody, Timings};
    use crate::request::{BodySpec, RequestOptions};
    use crate::secret::SecretSet;

    fn spec() -> RequestSpec {
        let mut secrets = SecretSet::new();
        secrets.add("tok-SECRET-123");
        RequestSpec {
            name: Some("me".into()),
            line: 3,
            method: "GET".into(),
            url: "http://127.0.0.1:1/me".into(),
            headers: vec![("Authorization".into(), "Bearer tok-SECRET-123".into())],
            body: BodySpec::None,
            options: RequestOptions::default(),
            digest: None,
            secrets,
            assertions: vec![],
            output: None,
        }
    }

    fn resp(ct: &str, body: &[u8]) -> Response {
        Response {
            method: "GET".into(),
            url: "http://127.0.0.1:1/me".into(),
            status: 200,
            reason: "OK".into(),
            version: "HTTP/1.1".into(),
            headers: vec![("content-type".into(), ct.into())],
            body: ResponseBody::InMemory(body.to_vec()),
            timings: Timings::default(),
        }
    }

    #[test]
    fn json_is_pretty_and_secrets_masked() {
        let doc = render_document(
            &spec(),
            &resp("application/json", br#"{"echo":"tok-SECRET-123","n":1}"#),
            DocumentExtras::default(),
        );
        assert!(
            doc.starts_with(
                "HTTP/1.1 200 OK\ncontent-type: application/json\n\n{\n  \"echo\": \"***\",\n"
            ),
            "{doc}"
        );
        assert!(!doc.contains("tok-SECRET-123"));
        let last = doc.trim_end().lines().last().unwrap();
        assert!(
            last.starts_with("# 200 OK · GET http://127.0.0.1:1/me ·") && last.ends_with("B"),
            "{last}"
        );
    }

    #[test]
    fn xml_form_and_binary() {
        let d = render_document(
            &spec(),
            &resp("application/xml", b"<a><b>1</b></a>"),
            DocumentExtras::default(),
        );
        assert!(d.contains("<a>\n  <b>1</b>\n</a>"), "{d}");
        let d = render_document(
            &spec(),
            &resp("application/x-www-form-urlencoded", b"a=1&b=two+words"),
            DocumentExtras::default(),
        );
        assert!(d.contains("\na=1\nb=two words\n"), "{d}");
        let png = resp("image/png", &[0x89, b'P', b'N', b'G', 0, 0, 1]);
        assert!(needs_body_file(&png));
        assert_eq!(body_extension(&png), "png");
        let d = render_document(
            &spec(),
            &png,
            DocumentExtras {
                body_file: Some(Path::new("/tmp/x.png")),
                ..Default::default()
            },
        );
        assert!(
            d.contains("# binary body: 7 B, image/png, saved to /tmp/x.png"),
            "{d}"
        );
    }
}
