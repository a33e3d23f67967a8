//! Files that hold credentials: the config folder, private (0600/0700) files, and the
//! per-entry advisory locks that coordinate sign-in and refresh across processes.

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

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
///
/// Waits at most `wait` (the sign-in timeout: a holder is at most that long in a
/// sign-in), then fails with a sentence naming who holds it: the holder writes its
/// process id and command into the lock file.
pub async fn lock_entry(
    config_dir: &Path,
    account: &str,
    wait: Duration,
) -> Result<EntryLock, String> {
    let deadline = tokio::time::Instant::now() + wait;
    let m = {
        let mut map = process_locks().lock().unwrap_or_else(|e| e.into_inner());
        map.entry(account.to_string()).or_default().clone()
    };
    let Ok(guard) = tokio::time::timeout_at(deadline, m.lock_owned()).await else {
        return Err(format!(
            "another sign-in or refresh of this profile in this process did not finish within {} s",
            wait.as_secs_f64()
        ));
    };
    let hash = Sha256::digest(account.as_bytes());
    let name: String = hash.iter().take(12).map(|b| format!("{b:02x}")).collect();
    let dir = config_dir.join("locks");
    let path = dir.join(format!("{name}.lock"));
    let opened = {
        let (dir, path) = (dir.clone(), path.clone());
        tokio::task::spawn_blocking(move || -> std::io::Result<std::fs::File> {
            create_private_dir(&dir)?;
            std::fs::OpenOptions::new()
                .create(true)
                .truncate(false)
                .read(true)
                .write(true)
                .open(&path)
        })
        .await
    };
    let mut file = match opened {
        Ok(Ok(f)) => f,
        Ok(Err(e)) => {
            tracing::warn!("cannot take the sign-in lock file: {e}");
            return Ok(EntryLock {
                _file: None,
                _guard: guard,
            });
        }
        Err(_) => {
            return Ok(EntryLock {
                _file: None,
                _guard: guard,
            });
        }
    };
    let mut pause = Duration::from_millis(10);
    loop {
        match file.try_lock() {
            Ok(()) => break,
            Err(std::fs::TryLockError::WouldBlock) => {
                if tokio::time::Instant::now() >= deadline {
                    let holder = std::fs::read_to_string(&path).unwrap_or_default();
                    let holder = holder.trim();
                    let who = if holder.is_empty() {
                        "another process".to_string()
                    } else {
                        format!("another process ({holder})")
                    };
                    return Err(format!(
                        "{who} is signing in to or refreshing this profile and did not finish within {} s; wait for it or end it, then try again (lock file {})",
                        wait.as_secs_f64(),
                        path.display()
                    ));
                }
                tokio::time::sleep(pause.min(deadline - tokio::time::Instant::now())).await;
                pause = (pause * 2).min(Duration::from_millis(250));
            }
            Err(std::fs::TryLockError::Error(e)) => {
                tracing::warn!("cannot take the sign-in lock file: {e}");
                return Ok(EntryLock {
                    _file: None,
                    _guard: guard,
                });
            }
        }
    }
    // Who holds it, for a process that waits too long (never a secret: the pid and
    // the subcommand only).
    let command = std::env::args().nth(1).unwrap_or_default();
    let _ = file.set_len(0);
    let _ = std::io::Write::write_all(
        &mut file,
        format!("pid {} (httplens {command})", std::process::id()).as_bytes(),
    );
    Ok(EntryLock {
        _file: Some(file),
        _guard: guard,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lock_path(dir: &Path, account: &str) -> PathBuf {
        let hash = Sha256::digest(account.as_bytes());
        let name: String = hash.iter().take(12).map(|b| format!("{b:02x}")).collect();
        dir.join("locks").join(format!("{name}.lock"))
    }

    /// Another process holds the entry (its own open file with the lock, and its line
    /// in the file): the wait ends at the bound with a sentence naming the holder.
    #[tokio::test]
    async fn a_held_lock_is_waited_for_at_most_the_bound_and_names_its_holder() {
        let dir = tempfile::tempdir().unwrap();
        // Held and released: the holder's line is this process's.
        drop(
            lock_entry(dir.path(), "acct", Duration::from_secs(5))
                .await
                .unwrap(),
        );
        let path = lock_path(dir.path(), "acct");
        let mine = std::fs::read_to_string(&path).unwrap();
        assert!(
            mine.starts_with(&format!("pid {} (httplens ", std::process::id())),
            "{mine}"
        );

        let other = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
        other.lock().unwrap();
        std::fs::write(&path, "pid 4242 (httplens login)").unwrap();
        let t = std::time::Instant::now();
        let e = match lock_entry(dir.path(), "acct", Duration::from_millis(300)).await {
            Err(e) => e,
            Ok(_) => panic!("took a lock another process holds"),
        };
        assert!(
            t.elapsed() >= Duration::from_millis(300),
            "{:?}",
            t.elapsed()
        );
        assert!(t.elapsed() < Duration::from_secs(5), "{:?}", t.elapsed());
        assert!(
            e.contains("pid 4242 (httplens login)") && e.contains("0.3 s"),
            "{e}"
        );
        // Released by the holder: taken at once.
        drop(other);
        lock_entry(dir.path(), "acct", Duration::from_millis(300))
            .await
            .unwrap();
    }

    #[tokio::test]
    async fn a_second_waiter_in_this_process_is_bounded_too() {
        let dir = tempfile::tempdir().unwrap();
        let held = lock_entry(dir.path(), "b", Duration::from_secs(5))
            .await
            .unwrap();
        let e = match lock_entry(dir.path(), "b", Duration::from_millis(200)).await {
            Err(e) => e,
            Ok(_) => panic!("two holders"),
        };
        assert!(e.contains("in this process"), "{e}");
        drop(held);
        lock_entry(dir.path(), "b", Duration::from_millis(200))
            .await
            .unwrap();
    }
}
