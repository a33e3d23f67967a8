//! Files that hold credentials: the config folder, private (0600/0700) files, and the
//! per-entry advisory locks that coordinate sign-in and refresh across processes.

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

use sha2::{Digest, Sha256};

/// `HTTPLENS_CONFIG_DIR`, else the platform config folder + `httplens`.
pub fn config_dir() -> PathBuf {
    if let Some(d) = std::env::var_os("HTTPLENS_CONFIG_DIR").filter(|d| !d.is_empty()) {
        return PathBuf::from(d);
    }
    dirs::config_dir()
        .unwrap_or_else(std::env::temp_dir)
        .join("httplens")
}

/// Create a folder (and parents) readable by the user only.
pub fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    if dir.is_dir() {
        return Ok(());
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
    }
    #[cfg(not(unix))]
    {
        std::fs::create_dir_all(dir)
    }
}

/// Write a file only the user can read (created 0600, never widened).
pub fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut opts = std::fs::OpenOptions::new();
    opts.create(true).write(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts.open(path)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        f.set_permissions(std::fs::Permissions::from_mode(0o600))?;
    }
    f.write_all(bytes)?;
    f.sync_all()
}

/// A held entry lock: the in-process mutex guard plus the OS file lock. Dropping it
/// releases both (and a dead process's file lock is released by the OS).
pub struct EntryLock {
    _file: Option<std::fs::File>,
    _guard: tokio::sync::OwnedMutexGuard<()>,
}

fn process_locks() -> &'static Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>> {
    static LOCKS: OnceLock<Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>> = OnceLock::new();
    LOCKS.get_or_init(Default::default)
}

/// Take the lock of one store entry: first the in-process async mutex (coalesces
/// parallel requests of this process), then `<config>/locks/<hash>.lock` with an
/// exclusive advisory lock (coalesces editors and CLIs). Callers read the store again
/// after this returns. When the lock folder cannot be created, only the in-process
/// lock is held (a read-only config folder must not block every request).
pub async fn lock_entry(config_dir: &Path, account: &str) -> EntryLock {
    let m = {
        let mut map = process_locks().lock().unwrap_or_else(|e| e.into_inner());
        map.entry(account.to_string()).or_default().clone()
    };
    let guard = m.lock_owned().await;
    let hash = Sha256::digest(account.as_bytes());
    let name: String = hash.iter().take(12).map(|b| format!("{b:02x}")).collect();
    let dir = config_dir.join("locks");
    let path = dir.join(format!("{name}.lock"));
    let file = tokio::task::spawn_blocking(move || -> std::io::Result<std::fs::File> {
        create_private_dir(&dir)?;
        let f = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)?;
        f.lock()?;
        Ok(f)
    })
    .await;
    let file = match file {
        Ok(Ok(f)) => Some(f),
        Ok(Err(e)) => {
            tracing::warn!("cannot take the sign-in lock file: {e}");
            None
        }
        Err(_) => None,
    };
    EntryLock {
        _file: file,
        _guard: guard,
    }
}
