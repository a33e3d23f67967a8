//! [`Str`], the syntax tree's string: what the tree of a big file is mostly made of, so
//! it decides how fast a file parses and how much memory its tree takes
//! (docs/performance.md). Short strings (names, header names, most values) live inline;
//! a longer one is a range of the parsed text, shared by the whole tree (one reference
//! count per string, no copy); text that is in no source (joined pieces, values built
//! elsewhere) is copied once. 24 bytes, like a `String`.

use std::borrow::Borrow;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::ops::Deref;
use std::sync::Arc;

/// The longest string kept inline (what fits beside the length and tag in 24 bytes).
const INLINE: usize = 22;

#[derive(Clone)]
pub struct Str(Repr);

#[derive(Clone)]
enum Repr {
    Inline {
        len: u8,
        buf: [u8; INLINE],
    },
    /// `source[start..end]` (an `Arc<String>` is one word: the variant stays small).
    Shared {
        source: Arc<String>,
        start: u32,
        end: u32,
    },
    Heap(Box<str>),
}

impl Str {
    /// A copy of `s` (inline when short).
    pub fn new(s: &str) -> Str {
        Str::inline(s).unwrap_or_else(|| Str(Repr::Heap(Box::from(s))))
    }

    /// `source[start..end]`, sharing `source` when the text is too long to keep inline.
    /// The range must lie on char boundaries of `source` (the parser's ranges do).
    pub fn slice(source: &Arc<String>, start: usize, end: usize) -> Str {
        let s = &source[start..end];
        Str::inline(s).unwrap_or_else(|| {
            Str(Repr::Shared {
                source: Arc::clone(source),
                start: start as u32,
                end: end as u32,
            })
        })
    }

    fn inline(s: &str) -> Option<Str> {
        (s.len() <= INLINE).then(|| {
            let mut buf = [0u8; INLINE];
            buf[..s.len()].copy_from_slice(s.as_bytes());
            Str(Repr::Inline {
                len: s.len() as u8,
                buf,
            })
        })
    }

    pub fn as_str(&self) -> &str {
        match &self.0 {
            Repr::Inline { len, buf } => {
                // SAFETY: `buf[..len]` is a copy of a whole `&str` (see `inline`).
                unsafe { std::str::from_utf8_unchecked(&buf[..*len as usize]) }
            }
            Repr::Shared { source, start, end } => &source[*start as usize..*end as usize],
            Repr::Heap(s) => s,
        }
    }
}

/// A piece of a parsed text that the tree's long strings share: `source[base..]` of
/// the whole text. Each thread parsing a part of a file has its own, so that no
/// reference count is shared between threads.
#[derive(Clone)]
pub struct Source {
    text: Arc<String>,
    base: usize,
}

impl Source {
    /// `whole[start..end]`.
    pub fn new(whole: &str, start: usize, end: usize) -> Source {
        Source {
            text: Arc::new(whole[start..end].to_owned()),
            base: start,
        }
    }
    /// The text at `start..end`, offsets into the whole text.
    pub fn get(&self, start: usize, end: usize) -> &str {
        &self.text[start - self.base..end - self.base]
    }
    /// The same as a [`Str`] (inline, or sharing this source).
    pub fn str(&self, start: usize, end: usize) -> Str {
        Str::slice(&self.text, start - self.base, end - self.base)
    }
}

impl Default for Str {
    fn default() -> Str {
        Str(Repr::Inline {
            len: 0,
            buf: [0; INLINE],
        })
    }
}

impl Deref for Str {
    type Target = str;
    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl AsRef<str> for Str {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

impl Borrow<str> for Str {
    fn borrow(&self) -> &str {
        self.as_str()
    }
}

impl From<&str> for Str {
    fn from(s: &str) -> Str {
        Str::new(s)
    }
}

impl From<String> for Str {
    fn from(s: String) -> Str {
        Str::new(&s)
    }
}

impl From<Str> for String {
    fn from(s: Str) -> String {
        s.as_str().to_owned()
    }
}

impl PartialEq for Str {
    fn eq(&self, other: &Str) -> bool {
        self.as_str() == other.as_str()
    }
}

impl Eq for Str {}

impl PartialEq<str> for Str {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for Str {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl PartialEq<String> for Str {
    fn eq(&self, other: &String) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<Str> for str {
    fn eq(&self, other: &Str) -> bool {
        self == other.as_str()
    }
}

impl PartialEq<Str> for &str {
    fn eq(&self, other: &Str) -> bool {
        *self == other.as_str()
    }
}

impl PartialEq<Str> for String {
    fn eq(&self, other: &Str) -> bool {
        self == other.as_str()
    }
}

impl PartialOrd for Str {
    fn partial_cmp(&self, other: &Str) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Str {
    fn cmp(&self, other: &Str) -> std::cmp::Ordering {
        self.as_str().cmp(other.as_str())
    }
}

impl Hash for Str {
    fn hash<H: Hasher>(&self, h: &mut H) {
        self.as_str().hash(h)
    }
}

impl fmt::Debug for Str {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl fmt::Display for Str {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self.as_str(), f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_long_and_shared_strings_read_back() {
        let source = Arc::new(String::from(
            "héllo, a string well over thirty bytes long ✓",
        ));
        for (a, b) in [(0, 0), (0, 6), (0, source.len()), (7, source.len())] {
            let s = Str::slice(&source, a, b);
            assert_eq!(s, &source[a..b]);
            assert_eq!(s.len(), b - a);
        }
        assert_eq!(Str::new("x".repeat(22).as_str()).as_str(), "x".repeat(22));
        assert_eq!(Str::new("y".repeat(23).as_str()).as_str(), "y".repeat(23));
        assert_eq!(Str::new("y".repeat(23).as_str()).clone(), "y".repeat(23));
        assert_eq!(Str::default(), "");
        assert_eq!(std::mem::size_of::<Str>(), 24);
        // Equal text is equal whatever the representation.
        let long = &source[7..];
        assert_eq!(Str::slice(&source, 7, source.len()), Str::new(long));
        assert_eq!(format!("{:?}", Str::new("a\"b")), "\"a\\\"b\"");
    }
}
