//! The server's state: open documents (text, line index, tree, version), the negotiated
//! position encoding, client capabilities, settings and workspace folders. Locks here
//! are plain `std` mutexes held only for short synchronous sections, never across an
//! `.await`.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, RwLock};

use tower_lsp_server::ls_types::{TextDocumentContentChangeEvent, Uri};

use super::convert;
use super::settings::Settings;
use crate::exec::history;
use crate::ide::{Analysis, response_doc};
use crate::text::{LineIndex, PositionEncoding};

/// One open document. Immutable once built: an edit makes a new one, so handlers can
/// keep an `Arc` to a consistent snapshot while later edits come in.
#[derive(Debug)]
pub struct Document {
    pub uri: Uri,
    pub version: i32,
    pub path: Option<PathBuf>,
    pub analysis: Analysis,
    /// One of the server's own response documents.
    pub is_response: bool,
}

/// What the client said it can do, read once at `initialize`.
#[derive(Debug, Clone, Copy, Default)]
pub struct ClientFlags {
    pub show_document: bool,
    pub work_done_progress: bool,
    pub code_lens_refresh: bool,
    pub configuration: bool,
    /// Answers `httplens/prompt` (`ext::PROMPT_CAPABILITY`).
    pub prompt: bool,
}

/// Where the session is in LSP's lifecycle. tower-lsp keeps its own for the messages it
/// routes; the transport reads this one for the requests it answers itself.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Lifecycle {
    /// No successful `initialize` yet: requests are answered `ServerNotInitialized`.
    #[default]
    Starting,
    Running,
    /// After `shutdown`: requests are answered `InvalidRequest`.
    ShutDown,
}

#[derive(Debug, Default)]
pub struct Session {
    docs: Mutex<HashMap<String, Arc<Document>>>,
    pub lifecycle: RwLock<Lifecycle>,
    pub encoding: RwLock<PositionEncoding>,
    pub flags: RwLock<ClientFlags>,
    pub settings: RwLock<Settings>,
    pub folders: RwLock<Vec<PathBuf>>,
}

/// A poisoned lock only means a handler panicked while holding it; the data (a map of
/// immutable snapshots) is still whole, so keep going.
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

pub fn read<T: Clone>(l: &RwLock<T>) -> T {
    l.read().unwrap_or_else(|e| e.into_inner()).clone()
}

pub fn write<T>(l: &RwLock<T>, value: T) {
    *l.write().unwrap_or_else(|e| e.into_inner()) = value;
}

impl Session {
    pub fn encoding(&self) -> PositionEncoding {
        read(&self.encoding)
    }

    pub fn get(&self, uri: &Uri) -> Option<Arc<Document>> {
        lock(&self.docs).get(uri.as_str()).cloned()
    }

    pub fn all(&self) -> Vec<Arc<Document>> {
        lock(&self.docs).values().cloned().collect()
    }

    pub fn open(&self, uri: Uri, version: i32, text: String) -> Arc<Document> {
        let doc = Arc::new(make_doc(uri.clone(), version, text));
        lock(&self.docs).insert(uri.as_str().to_string(), doc.clone());
        doc
    }

    pub fn close(&self, uri: &Uri) {
        lock(&self.docs).remove(uri.as_str());
    }

    /// Applies the changes in order and stores the new snapshot, all under the lock and
    /// before the caller awaits anything, so edits can never be reordered. Returns the
    /// new snapshot and, when a request still held the one it replaced, that one, for
    /// the caller to let go once the edit's diagnostics are out.
    pub fn change(
        &self,
        uri: &Uri,
        version: i32,
        changes: Vec<TextDocumentContentChangeEvent>,
    ) -> Option<(Arc<Document>, Option<Arc<Document>>)> {
        let enc = self.encoding();
        let mut docs = lock(&self.docs);
        let old = docs.get(uri.as_str())?.clone();
        // Room for every inserted piece up front: a document's text is kept while it is
        // open, and growing it by doubling would keep up to twice its size.
        let inserted: usize = changes.iter().map(|c| c.text.len()).sum();
        let mut text = String::with_capacity(old.analysis.text.len() + inserted);
        text.push_str(&old.analysis.text);
        // The old snapshot's index is right for the text until the first change.
        let mut index: Option<std::borrow::Cow<'_, LineIndex>> =
            Some(std::borrow::Cow::Borrowed(&old.analysis.index));
        for change in changes {
            match change.range {
                None => {
                    text = change.text;
                    index = None;
                }
                Some(range) => {
                    let idx = index
                        .take()
                        .unwrap_or_else(|| std::borrow::Cow::Owned(LineIndex::new(&text)));
                    let start = convert::offset(&idx, &text, range.start, enc);
                    let end = convert::offset(&idx, &text, range.end, enc).max(start);
                    text.replace_range(start..end, &change.text);
                }
            }
        }
        drop(index);
        // The old snapshot is freed before the new one is built when no request holds
        // it: the new tree then fills the old one's pages, instead of fresh pages that
        // stay resident with a few survivors each (docs/performance.md).
        let key = uri.as_str().to_string();
        docs.remove(&key);
        let old = Arc::try_unwrap(old).err();
        let doc = Arc::new(make_doc(uri.clone(), version, text));
        docs.insert(key, doc.clone());
        drop(docs);
        Some((doc, old))
    }
}

fn make_doc(uri: Uri, version: i32, text: String) -> Document {
    let path = uri_to_path(&uri);
    let cache = cache_dir();
    let is_response = response_doc::is_response_document(path.as_deref(), cache.as_deref(), &text);
    let analysis = if is_response {
        // Response documents are not request files: no tree, no request features.
        Analysis::without_tree(text)
    } else {
        Analysis::for_path(path.as_deref(), text)
    };
    Document {
        uri,
        version,
        path,
        analysis,
        is_response,
    }
}

pub fn uri_to_path(uri: &Uri) -> Option<PathBuf> {
    if uri.scheme().as_str() != "file" {
        return None;
    }
    uri.to_file_path().map(|p| p.into_owned())
}

pub fn path_to_uri(path: &Path) -> Option<Uri> {
    Uri::from_file_path(path)
}

/// The cache folder (`HTTPLENS_CACHE_DIR` or the platform's), as the history uses.
pub fn cache_dir() -> Option<PathBuf> {
    Some(history::cache_dir())
}
