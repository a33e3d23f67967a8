//! Specs read once and kept, keyed by path; read again when the file's modification
//! time or size changes. Shared by every front end in the process.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::SystemTime;

use super::Spec;

/// A spec, or the one sentence saying why it cannot be read.
pub type Loaded = Arc<Result<Arc<Spec>, String>>;

type Stamp = Option<(SystemTime, u64)>;

fn cache() -> &'static Mutex<HashMap<PathBuf, (Stamp, Loaded)>> {
    static CACHE: OnceLock<Mutex<HashMap<PathBuf, (Stamp, Loaded)>>> = OnceLock::new();
    CACHE.get_or_init(Default::default)
}

fn stamp(path: &Path) -> Stamp {
    let m = std::fs::metadata(path).ok()?;
    Some((m.modified().unwrap_or(SystemTime::UNIX_EPOCH), m.len()))
}

/// The spec at `path`, from the cache when the file has not changed since it was read.
pub fn load(path: &Path) -> Loaded {
    let now = stamp(path);
    if let Some((s, l)) = cache().lock().unwrap_or_else(|e| e.into_inner()).get(path)
        && *s == now
    {
        return l.clone();
    }
    let loaded: Loaded = Arc::new(match std::fs::read_to_string(path) {
        Ok(text) => super::parse(&text).map(Arc::new),
        Err(e) => Err(format!("cannot read the spec {}: {e}", path.display())),
    });
    cache()
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .insert(path.to_path_buf(), (now, loaded.clone()));
    loaded
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_changed_file_is_read_again() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("spec.yaml");
        std::fs::write(&p, "openapi: 3.0.0\npaths: {}\n").unwrap();
        let first = load(&p);
        assert!(first.as_ref().as_ref().unwrap().operations.is_empty());
        // Unchanged: the same value.
        assert!(Arc::ptr_eq(&first, &load(&p)));
        // A different size is a change even within one mtime tick.
        std::fs::write(&p, "openapi: 3.0.0\npaths:\n  /a: {get: {responses: {}}}\n").unwrap();
        let second = load(&p);
        assert_eq!(second.as_ref().as_ref().unwrap().operations.len(), 1);
        std::fs::remove_file(&p).unwrap();
        assert!(
            load(&p)
                .as_ref()
                .as_ref()
                .unwrap_err()
                .contains("cannot read the spec")
        );
    }
}
