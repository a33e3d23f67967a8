//! Where responses live: the cache folder, response documents (0600, the last N kept
//! per request), bodies saved beside them, the request a document came from (for
//! "Open request") and the previous response (for "Compare with previous"), the
//! cookie jar's file, and `>> path` output files.

use std::io::Write;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use super::client::open_private;
use super::response::{Response, ResponseBody};
use crate::request::OutputTarget;

/// Default number of response documents kept per request (`httplens.historySize`).
pub const DEFAULT_KEEP: usize = 20;

/// Name of the sidecar that records which request a folder's documents belong to.
const ORIGIN_FILE: &str = ".request.json";

/// `HTTPLENS_CACHE_DIR`, else the platform cache folder + `httplens`.
pub fn cache_dir() -> PathBuf {
    if let Some(d) = std::env::var_os("HTTPLENS_CACHE_DIR").filter(|d| !d.is_empty()) {
        return PathBuf::from(d);
    }
    dirs::cache_dir()
        .unwrap_or_else(std::env::temp_dir)
        .join("httplens")
}

fn hex_of(text: &str, len: usize) -> String {
    let digest = Sha256::digest(text.as_bytes());
    digest
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect::<String>()
        .chars()
        .take(len)
        .collect()
}

fn absolute(p: &Path) -> PathBuf {
    std::fs::canonicalize(p)
        .or_else(|_| std::path::absolute(p))
        .unwrap_or_else(|_| p.to_path_buf())
}

/// `<cache>/cookies/<hash of the workspace root>.json`.
pub fn cookie_file(cache: &Path, workspace_root: &Path) -> PathBuf {
    let root = absolute(workspace_root);
    cache
        .join("cookies")
        .join(format!("{}.json", hex_of(&root.to_string_lossy(), 16)))
}

/// Where a body too large to keep in memory is written while it streams in (on the
/// cache's file system, so that saving it beside its document is a rename).
pub fn spill_dir(cache: &Path) -> PathBuf {
    cache.join("spill")
}

/// The request a response document came from.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct RequestOrigin {
    /// The request file (absolute).
    pub file: PathBuf,
    pub name: Option<String>,
    /// 1-based request line when the response was taken.
    pub line: u32,
}

/// A written response document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SavedDocument {
    pub document: PathBuf,
    /// The body's own file, when it is binary or too large for the document.
    pub body_file: Option<PathBuf>,
}

#[derive(Debug, Clone)]
pub struct History {
    pub cache: PathBuf,
    /// Documents kept per request.
    pub keep: usize,
}

impl History {
    pub fn new(cache: PathBuf) -> History {
        History {
            cache,
            keep: DEFAULT_KEEP,
        }
    }

    pub fn responses_root(&self) -> PathBuf {
        self.cache.join("responses")
    }

    /// `<cache>/responses/<file stem>-<8 hex of the path>/<name or line-N>/`.
    pub fn request_dir(&self, file: &Path, name: Option<&str>, line: u32) -> PathBuf {
        let abs = absolute(file);
        let stem = abs
            .file_stem()
            .map(|s| sanitize(&s.to_string_lossy()))
            .unwrap_or_else(|| "requests".into());
        let key = match name.map(sanitize).filter(|n| !n.is_empty()) {
            Some(n) => n,
            None => format!("line-{line}"),
        };
        self.responses_root()
            .join(format!("{stem}-{}", hex_of(&abs.to_string_lossy(), 8)))
            .join(key)
    }

    /// Reserves a document path for a response: `<YYYYMMDDTHHMMSS>-<status>.http`
    /// (with `-2`, `-3`... when several land within one second).
    fn new_document_path(&self, dir: &Path, status: u16) -> PathBuf {
        let stamp = chrono::Local::now().format("%Y%m%dT%H%M%S").to_string();
        // The sequence number keeps documents of one second in order, whatever their
        // status and even after older ones were pruned.
        let last = list_documents(dir)
            .iter()
            .filter_map(|d| doc_key(d))
            .filter(|(s, _)| *s == stamp)
            .map(|(_, n)| n)
            .max();
        match last {
            None => dir.join(format!("{stamp}-{status}.http")),
            Some(n) => dir.join(format!("{stamp}-{status}-{}.http", n + 1)),
        }
    }

    /// Saves a response: first places the body file (if the body needs one; a spilled
    /// body is moved), then asks `render` for the document text given that body
    /// file, writes it (0600), records the origin and prunes old documents.
    pub fn save(
        &self,
        origin: &RequestOrigin,
        resp: &mut Response,
        render: impl FnOnce(&Response, Option<&Path>) -> String,
    ) -> std::io::Result<SavedDocument> {
        let dir = self.request_dir(&origin.file, origin.name.as_deref(), origin.line);
        std::fs::create_dir_all(&dir)?;
        let document = self.new_document_path(&dir, resp.status);
        let body_file = if super::render::needs_body_file(resp) {
            let path =
                document.with_extension(format!("body.{}", super::render::body_extension(resp)));
            match &mut resp.body {
                ResponseBody::Spilled { path: spilled, .. } => {
                    if std::fs::rename(&*spilled, &path).is_err() {
                        std::fs::copy(&*spilled, &path)?;
                        let _ = std::fs::remove_file(&*spilled);
                    }
                    *spilled = path.clone();
                }
                ResponseBody::InMemory(bytes) => {
                    let mut f = open_private(&path)?;
                    f.write_all(bytes)?;
                }
            }
            Some(path)
        } else {
            None
        };
        let text = render(resp, body_file.as_deref());
        let mut f = open_private(&document)?;
        f.write_all(text.as_bytes())?;
        drop(f);
        let sidecar = serde_json::to_vec_pretty(origin).unwrap_or_default();
        let mut f = open_private(&dir.join(ORIGIN_FILE))?;
        f.write_all(&sidecar)?;
        self.prune(&dir);
        Ok(SavedDocument {
            document,
            body_file,
        })
    }

    /// Keeps the newest `keep` documents (and their body files) in `dir`.
    pub fn prune(&self, dir: &Path) {
        let docs = list_documents(dir);
        if docs.len() <= self.keep {
            return;
        }
        let excess = docs.len() - self.keep;
        for doc in &docs[..excess] {
            let _ = std::fs::remove_file(doc);
            let stem = doc
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default();
            if let Ok(entries) = std::fs::read_dir(dir) {
                for e in entries.flatten() {
                    let name = e.file_name().to_string_lossy().into_owned();
                    if name.starts_with(&format!("{stem}.body.")) {
                        let _ = std::fs::remove_file(e.path());
                    }
                }
            }
        }
    }

    /// Is this path one of our response documents (under `<cache>/responses`)?
    pub fn is_response_document(&self, path: &Path) -> bool {
        let root = absolute(&self.responses_root());
        absolute(path).starts_with(root)
    }
}

/// Sort key of a document name: (timestamp, sequence within the second).
fn doc_key(path: &Path) -> Option<(String, u32)> {
    let stem = path.file_stem()?.to_str()?;
    if path.extension()? != "http" {
        return None;
    }
    let mut parts = stem.split('-');
    let stamp = parts.next()?.to_string();
    let _status = parts.next()?;
    let seq = parts.next().and_then(|s| s.parse().ok()).unwrap_or(1);
    (stamp.len() == 15 && stamp.as_bytes()[8] == b'T').then_some((stamp, seq))
}

/// The response documents of one request folder, oldest first.
pub fn list_documents(dir: &Path) -> Vec<PathBuf> {
    let mut docs: Vec<((String, u32), PathBuf)> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.flatten()
                .map(|e| e.path())
                .filter_map(|p| doc_key(&p).map(|k| (k, p)))
                .collect()
        })
        .unwrap_or_default();
    docs.sort();
    docs.into_iter().map(|(_, p)| p).collect()
}

/// The response to the same request just before this one ("Compare with previous").
pub fn previous_document(doc: &Path) -> Option<PathBuf> {
    let docs = list_documents(doc.parent()?);
    let name = doc.file_name()?;
    let i = docs.iter().position(|d| d.file_name() == Some(name))?;
    i.checked_sub(1).map(|j| docs[j].clone())
}

/// The request a response document came from ("Open request").
pub fn document_origin(doc: &Path) -> Option<RequestOrigin> {
    let text = std::fs::read(doc.parent()?.join(ORIGIN_FILE)).ok()?;
    serde_json::from_slice(&text).ok()
}

/// A folder or file name from a request name: no separators, no surprises.
fn sanitize(name: &str) -> String {
    let s: String = name
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || matches!(c, '-' | '_' | '.') {
                c
            } else {
                '_'
            }
        })
        .take(80)
        .collect();
    s.trim_matches('.').to_string()
}

/// Writes a response body for `>> path` (`>>!`: overwrite; else a free name beside
/// it, `out-1.json`). Only inside `root` (the workspace root): the request builder
/// already refused paths that leave it; here the folders on the way are checked
/// after symbolic links are followed, the file itself is never a symbolic link, and
/// it is created readable by its owner only (0600).
pub fn write_output(
    target: &OutputTarget,
    base_dir: &Path,
    root: &Path,
    body: &ResponseBody,
) -> std::io::Result<PathBuf> {
    let path = if target.path.is_relative() {
        base_dir.join(&target.path)
    } else {
        target.path.clone()
    };
    let outside = || {
        std::io::Error::new(
            std::io::ErrorKind::PermissionDenied,
            format!(
                "{} is outside the workspace {}",
                path.display(),
                root.display()
            ),
        )
    };
    let root = root.canonicalize()?;
    let dir = path.parent().ok_or_else(outside)?;
    // Create the missing folders one by one, each checked once it exists: a link
    // inside the workspace must not lead the next step outside.
    let mut at = PathBuf::new();
    for c in dir.components() {
        at.push(c);
        if !at.exists() {
            std::fs::create_dir(&at)?;
        }
        let real = at.canonicalize()?;
        if real.starts_with(&root) || root.starts_with(&real) {
            continue;
        }
        return Err(outside());
    }
    let real_dir = dir.canonicalize()?;
    if !real_dir.starts_with(&root) {
        return Err(outside());
    }
    let file_name = path.file_name().ok_or_else(outside)?;
    let path = real_dir.join(file_name);
    let path = if target.overwrite || std::fs::symlink_metadata(&path).is_err() {
        path
    } else {
        let stem = path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        let ext = path
            .extension()
            .map(|e| format!(".{}", e.to_string_lossy()))
            .unwrap_or_default();
        let mut n = 1;
        loop {
            let candidate = path.with_file_name(format!("{stem}-{n}{ext}"));
            if std::fs::symlink_metadata(&candidate).is_err() {
                break candidate;
            }
            n += 1;
        }
    };
    let mut file = open_output(&path, target.overwrite)?;
    #[cfg(unix)]
    {
        // `>>!` over an existing file: it becomes private too.
        use std::os::unix::fs::PermissionsExt;
        file.set_permissions(std::fs::Permissions::from_mode(0o600))?;
    }
    match body {
        ResponseBody::InMemory(b) => std::io::Write::write_all(&mut file, b)?,
        ResponseBody::Spilled { path: from, .. } => {
            std::io::copy(&mut std::fs::File::open(from)?, &mut file)?;
        }
    }
    Ok(path)
}

/// Opens `path` for writing, 0600 when created, never through a symbolic link.
fn open_output(path: &Path, overwrite: bool) -> std::io::Result<std::fs::File> {
    let mut o = std::fs::OpenOptions::new();
    o.write(true);
    if overwrite {
        o.create(true).truncate(true);
    } else {
        o.create_new(true);
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        o.mode(0o600)
            .custom_flags(rustix::fs::OFlags::NOFOLLOW.bits() as i32);
    }
    o.open(path)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exec::response::Timings;

    fn resp(status: u16, body: &[u8], ct: &str) -> Response {
        Response {
            method: "GET".into(),
            url: "http://127.0.0.1/".into(),
            status,
            reason: String::new(),
            version: "HTTP/1.1".into(),
            headers: vec![("content-type".into(), ct.into())],
            body: ResponseBody::InMemory(body.to_vec()),
            timings: Timings::default(),
        }
    }

    #[test]
    fn save_list_prune_origin_previous() {
        let tmp = tempfile::tempdir().unwrap();
        let file = tmp.path().join("api.http");
        std::fs::write(&file, "GET http://x\n").unwrap();
        let mut h = History::new(tmp.path().join("cache"));
        h.keep = 3;
        let origin = RequestOrigin {
            file: absolute(&file),
            name: Some("get me".into()),
            line: 1,
        };
        let mut saved = Vec::new();
        for i in 0..5 {
            let mut r = resp(200 + i, b"{}", "application/json");
            saved.push(
                h.save(&origin, &mut r, |_, _| "HTTP/1.1 200\n".into())
                    .unwrap(),
            );
        }
        let dir = saved[0].document.parent().unwrap().to_path_buf();
        assert!(dir.ends_with("get_me"), "{}", dir.display());
        let parent = dir
            .parent()
            .unwrap()
            .file_name()
            .unwrap()
            .to_string_lossy()
            .into_owned();
        assert!(
            parent.starts_with("api-") && parent.len() == "api-".len() + 8,
            "{parent}"
        );
        let docs = list_documents(&dir);
        assert_eq!(docs.len(), 3);
        assert_eq!(
            docs,
            saved[2..]
                .iter()
                .map(|s| s.document.clone())
                .collect::<Vec<_>>()
        );
        assert_eq!(previous_document(&docs[2]).as_ref(), Some(&docs[1]));
        assert_eq!(previous_document(&docs[0]), None);
        assert_eq!(document_origin(&docs[0]).unwrap(), origin);
        assert!(h.is_response_document(&docs[0]));
        assert!(!h.is_response_document(&file));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&docs[0]).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        // A binary body gets a file of its own, pruned with its document.
        let mut r = resp(200, &[0, 1, 2, 3], "image/png");
        let s = h.save(&origin, &mut r, |_, _| String::new()).unwrap();
        let body = s.body_file.unwrap();
        assert_eq!(std::fs::read(&body).unwrap(), vec![0, 1, 2, 3]);
        assert!(body.to_string_lossy().ends_with(".body.png"));
        for _ in 0..3 {
            let mut r = resp(200, b"{}", "application/json");
            h.save(&origin, &mut r, |_, _| String::new()).unwrap();
        }
        assert!(!body.exists(), "pruned with its document");
    }

    #[test]
    fn output_new_name_or_overwrite() {
        let tmp = tempfile::tempdir().unwrap();
        let body = ResponseBody::InMemory(b"one".to_vec());
        let t = OutputTarget {
            path: "out/x.json".into(),
            overwrite: false,
        };
        let a = write_output(&t, tmp.path(), tmp.path(), &body).unwrap();
        let b = write_output(
            &t,
            tmp.path(),
            tmp.path(),
            &ResponseBody::InMemory(b"two".to_vec()),
        )
        .unwrap();
        assert_eq!(a, tmp.path().join("out/x.json"));
        assert_eq!(b, tmp.path().join("out/x-1.json"));
        assert_eq!(std::fs::read_to_string(&a).unwrap(), "one");
        let t = OutputTarget {
            overwrite: true,
            ..t
        };
        let c = write_output(
            &t,
            tmp.path(),
            tmp.path(),
            &ResponseBody::InMemory(b"three".to_vec()),
        )
        .unwrap();
        assert_eq!(c, a);
        assert_eq!(std::fs::read_to_string(&a).unwrap(), "three");
    }

    #[cfg(unix)]
    #[test]
    fn output_is_private_and_never_leaves_the_root_through_a_link() {
        use std::os::unix::fs::PermissionsExt;
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().join("ws");
        let outside = tmp.path().join("outside");
        std::fs::create_dir_all(&root).unwrap();
        std::fs::create_dir_all(&outside).unwrap();
        let body = ResponseBody::InMemory(b"x".to_vec());
        let t = OutputTarget {
            path: "a/b/out.json".into(),
            overwrite: false,
        };
        let p = write_output(&t, &root, &root, &body).unwrap();
        let mode = std::fs::metadata(&p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        // `>>!` over a world-readable file makes it private.
        let t = OutputTarget {
            overwrite: true,
            ..t
        };
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o644)).unwrap();
        write_output(&t, &root, &root, &body).unwrap();
        let mode = std::fs::metadata(&p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        // A folder link inside the workspace that points outside it.
        std::os::unix::fs::symlink(&outside, root.join("link")).unwrap();
        let t = OutputTarget {
            path: "link/out.json".into(),
            overwrite: true,
        };
        let e = write_output(&t, &root, &root, &body).unwrap_err();
        assert!(e.to_string().contains("outside the workspace"), "{e}");
        assert!(!outside.join("out.json").exists());
        // The file itself a link (to a file outside): never written through.
        let target = outside.join("victim");
        std::fs::write(&target, "keep").unwrap();
        std::os::unix::fs::symlink(&target, root.join("out.json")).unwrap();
        let t = OutputTarget {
            path: "out.json".into(),
            overwrite: true,
        };
        assert!(write_output(&t, &root, &root, &body).is_err());
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "keep");
    }
}
