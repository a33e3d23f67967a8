//! Recognising the server's own response documents: a file under
//! `<cache>/responses/`, or a text whose first line starts with `HTTP/`. They get no
//! request lenses and no request diagnostics.

use std::path::Path;

/// Is this document a response document?
pub fn is_response_document(path: Option<&Path>, cache_dir: Option<&Path>, text: &str) -> bool {
    if let (Some(p), Some(cache)) = (path, cache_dir)
        && p.starts_with(cache.join("responses"))
    {
        return true;
    }
    text.trim_start_matches('\u{feff}').starts_with("HTTP/")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn by_folder_or_status_line() {
        let cache = Path::new("/c");
        assert!(is_response_document(
            Some(Path::new("/c/responses/a-1/x/1-200.http")),
            Some(cache),
            "anything"
        ));
        assert!(is_response_document(None, None, "HTTP/1.1 200 OK\n"));
        assert!(!is_response_document(
            Some(Path::new("/w/api.http")),
            Some(cache),
            "GET http://x\n"
        ));
    }
}
