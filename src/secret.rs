//! Secrets as a type: a [`Secret`] prints `***` in `Debug` and `Display`, so a token
//! cannot reach a log line, an error message or panic text by accident; a
//! [`SecretSet`] masks every secret value that went into a request wherever it appears
//! in text that is shown or written (response documents, curl copies, echoes).

use std::fmt;

pub const MASK: &str = "***";

/// A secret string. Read it only with [`Secret::expose`], at the point of use.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(MASK)
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(MASK)
    }
}

impl From<String> for Secret {
    fn from(s: String) -> Self {
        Secret(s)
    }
}

impl From<&str> for Secret {
    fn from(s: &str) -> Self {
        Secret(s.to_string())
    }
}

/// The secret values that went into one request (tokens, client secrets, private
/// environment values), to be masked in everything shown.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct SecretSet {
    values: Vec<String>,
}

impl fmt::Debug for SecretSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SecretSet({} values)", self.values.len())
    }
}

/// Values shorter than this are not masked: masking `"1"` everywhere would garble
/// every response without protecting anything.
const MIN_MASKED_LEN: usize = 3;

impl SecretSet {
    pub fn new() -> Self {
        Self::default()
    }
    /// Adds `value` and every form it can take on the way out: percent-encoded (as
    /// `{{%name}}`, a query or a form body writes it), `+` for spaces (forms),
    /// JSON-escaped (a JSON body or a pretty-printed response echoing it), and
    /// Base64 (a Basic credential made from it).
    pub fn add(&mut self, value: &str) {
        if value.len() < MIN_MASKED_LEN || self.values.iter().any(|v| v == value) {
            return;
        }
        for form in encoded_forms(value) {
            if form.len() >= MIN_MASKED_LEN && !self.values.contains(&form) {
                self.values.push(form);
            }
        }
        // Longest first, so that a secret containing another is masked whole.
        self.values.sort_by_key(|v| std::cmp::Reverse(v.len()));
    }
    pub fn add_secret(&mut self, secret: &Secret) {
        self.add(secret.expose());
    }
    pub fn extend(&mut self, other: &SecretSet) {
        for v in &other.values {
            self.add(v);
        }
    }
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }
    /// Does `text` contain any of the secrets?
    pub fn leaks_into(&self, text: &str) -> bool {
        self.values.iter().any(|v| text.contains(v.as_str()))
    }
    /// `text` with every secret value replaced by `***`.
    pub fn mask(&self, text: &str) -> String {
        let mut out = text.to_string();
        for v in &self.values {
            if out.contains(v.as_str()) {
                out = out.replace(v.as_str(), MASK);
            }
        }
        out
    }
}

/// `value` as written and as each encoding on the way out writes it.
fn encoded_forms(value: &str) -> Vec<String> {
    use base64::Engine as _;
    use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};
    const COMPONENT: &percent_encoding::AsciiSet = &NON_ALPHANUMERIC
        .remove(b'-')
        .remove(b'_')
        .remove(b'.')
        .remove(b'~');
    let mut forms = vec![value.to_string()];
    let percent = utf8_percent_encode(value, COMPONENT).to_string();
    forms.push(percent.replace("%20", "+"));
    forms.push(lowercase_escapes(&percent));
    forms.push(percent);
    if let Ok(json) = serde_json::to_string(value) {
        forms.push(json[1..json.len() - 1].to_string());
    }
    forms.push(base64::engine::general_purpose::STANDARD.encode(value));
    forms.dedup();
    forms
}

/// `%2F` as `%2f`: some encoders write lowercase hex.
fn lowercase_escapes(percent: &str) -> String {
    let mut out = String::with_capacity(percent.len());
    let mut chars = percent.chars();
    while let Some(c) = chars.next() {
        out.push(c);
        if c == '%' {
            for h in chars.by_ref().take(2) {
                out.push(h.to_ascii_lowercase());
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_never_prints() {
        let s = Secret::new("tok-123456");
        assert_eq!(format!("{s} {s:?}"), "*** ***");
        assert_eq!(s.expose(), "tok-123456");
    }

    #[test]
    fn mask_longest_first() {
        let mut set = SecretSet::new();
        set.add("abc");
        set.add("abcdef");
        set.add("x");
        assert_eq!(set.mask("1 abcdef 2 abc 3 x"), "1 *** 2 *** 3 x");
        assert!(set.leaks_into("..abc.."));
    }

    #[test]
    fn encoded_forms_are_masked_too() {
        let mut set = SecretSet::new();
        set.add("p@ss w/\"rd\"");
        for shown in [
            "p@ss w/\"rd\"",
            "p%40ss%20w%2F%22rd%22",
            "p%40ss+w%2F%22rd%22",
            "p%40ss%20w%2f%22rd%22",
            "p@ss w/\\\"rd\\\"",
        ] {
            assert_eq!(set.mask(&format!("<{shown}>")), "<***>", "{shown}");
        }
        let b64 = {
            use base64::Engine as _;
            base64::engine::general_purpose::STANDARD.encode("p@ss w/\"rd\"")
        };
        assert_eq!(set.mask(&b64), "***");
    }
}
