//! The token store behind one trait: `memory` (tests), `file` (one 0600 JSON file in the
//! config folder, only when chosen) and `keychain` (the OS store through keyring-core:
//! Secret Service on Linux, falling back to the kernel keyring for the session).
//! Entries are keyed by the account string of `docs/environments.md` ("Where tokens are kept"); the secret is the
//! `{"version": 1, ...}` JSON of [`StoredToken`].

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::auth::fsutil;
use crate::auth::idtoken::IdTokenStatus;
use futures_util::future::BoxFuture;
use serde::{Deserialize, Serialize};

/// Keychain service name of every entry.
pub const SERVICE: &str = "httplens";

/// How long a keychain call may take before it counts as a hang (a locked keyring
/// waiting on a prompt nobody sees, a dead bus).
const KEYCHAIN_TIMEOUT: Duration = Duration::from_secs(20);

/// One stored token set, the JSON `docs/environments.md` describes.
#[derive(Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct StoredToken {
    pub version: u32,
    pub access_token: String,
    #[serde(default)]
    pub refresh_token: Option<String>,
    #[serde(default)]
    pub id_token: Option<String>,
    #[serde(default)]
    pub token_type: Option<String>,
    /// Unix seconds; `None` when the provider gave no lifetime.
    #[serde(default)]
    pub expires_at: Option<i64>,
    #[serde(default)]
    pub scopes: Vec<String>,
    #[serde(default)]
    pub account: Option<String>,
    #[serde(default)]
    pub issuer: Option<String>,
    /// What the ID token check found (absent in entries written before it existed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id_token_status: Option<IdTokenStatus>,
}

impl std::fmt::Debug for StoredToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoredToken")
            .field("expires_at", &self.expires_at)
            .field("scopes", &self.scopes)
            .field("account", &self.account)
            .field("refresh_token", &self.refresh_token.as_ref().map(|_| "***"))
            .finish_non_exhaustive()
    }
}

impl StoredToken {
    /// Still usable `skew_secs` from now?
    pub fn valid_for(&self, now: i64, skew_secs: i64) -> bool {
        match self.expires_at {
            Some(at) => at > now + skew_secs,
            None => true,
        }
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    /// Parse a stored secret; an error says the entry is corrupted (never quotes it).
    pub fn from_json(s: &str) -> Result<Self, StoreError> {
        let t: StoredToken = serde_json::from_str(s).map_err(|_| StoreError::Corrupted)?;
        if t.version != 1 {
            return Err(StoreError::Corrupted);
        }
        Ok(t)
    }
}

#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum StoreError {
    #[error("the stored sign-in is corrupted and was discarded; sign in again")]
    Corrupted,
    #[error("the keyring is locked or access was refused ({0}); unlock it and try again")]
    Locked(String),
    #[error(
        "the keychain did not answer within {0} seconds (a locked keyring waiting for a prompt?); unlock it or set HTTPLENS_TOKEN_STORE=file"
    )]
    Timeout(u64),
    #[error(
        "no keychain is available ({0}); set HTTPLENS_TOKEN_STORE=file to keep tokens in a 0600 file"
    )]
    Unavailable(String),
    #[error("the token file {path} cannot be used: {reason}")]
    File { path: String, reason: String },
}

/// Which store is in use (the `tokenStore` of `httplens/state`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoreKind {
    SecretService,
    Keychain,
    CredentialManager,
    Keyutils,
    File,
    Memory,
    Unavailable,
}

impl StoreKind {
    pub fn as_str(self) -> &'static str {
        match self {
            StoreKind::SecretService => "secret-service",
            StoreKind::Keychain => "keychain",
            StoreKind::CredentialManager => "credential-manager",
            StoreKind::Keyutils => "keyutils",
            StoreKind::File => "file",
            StoreKind::Memory => "memory",
            StoreKind::Unavailable => "unavailable",
        }
    }
}

/// A place for raw entry secrets. Implementations never block an async thread.
pub trait TokenStore: Send + Sync {
    /// What backs the store now (decided on first use for the keychain).
    fn kind(&self) -> StoreKind;
    fn get<'a>(&'a self, account: &'a str) -> BoxFuture<'a, Result<Option<String>, StoreError>>;
    fn set<'a>(
        &'a self,
        account: &'a str,
        secret: &'a str,
    ) -> BoxFuture<'a, Result<(), StoreError>>;
    fn delete<'a>(&'a self, account: &'a str) -> BoxFuture<'a, Result<(), StoreError>>;
}

/// In-memory store (tests, and `HTTPLENS_TOKEN_STORE=memory`).
#[derive(Default)]
pub struct MemoryStore {
    map: Mutex<HashMap<String, String>>,
}

impl MemoryStore {
    pub fn new() -> Self {
        Self::default()
    }
}

impl TokenStore for MemoryStore {
    fn kind(&self) -> StoreKind {
        StoreKind::Memory
    }
    fn get<'a>(&'a self, account: &'a str) -> BoxFuture<'a, Result<Option<String>, StoreError>> {
        let v = self
            .map
            .lock()
            .map(|m| m.get(account).cloned())
            .unwrap_or(None);
        Box::pin(async move { Ok(v) })
    }
    fn set<'a>(
        &'a self,
        account: &'a str,
        secret: &'a str,
    ) -> BoxFuture<'a, Result<(), StoreError>> {
        if let Ok(mut m) = self.map.lock() {
            m.insert(account.to_string(), secret.to_string());
        }
        Box::pin(async { Ok(()) })
    }
    fn delete<'a>(&'a self, account: &'a str) -> BoxFuture<'a, Result<(), StoreError>> {
        if let Ok(mut m) = self.map.lock() {
            m.remove(account);
        }
        Box::pin(async { Ok(()) })
    }
}

/// One 0600 JSON file `{account: secret}` in the config folder. Read-modify-write holds
/// an exclusive lock on a sibling lock file, so two processes never lose each other's
/// entries; the file is replaced atomically (write a temp file, rename).
pub struct FileStore {
    path: PathBuf,
}

impl FileStore {
    pub fn new(config_dir: &Path) -> Self {
        FileStore {
            path: config_dir.join("tokens.json"),
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn err(&self, reason: impl std::fmt::Display) -> StoreError {
        StoreError::File {
            path: self.path.display().to_string(),
            reason: reason.to_string(),
        }
    }

    fn read_map(&self) -> Result<serde_json::Map<String, serde_json::Value>, StoreError> {
        // A file made by hand or by an older version may be readable by others.
        #[cfg(unix)]
        if let Ok(meta) = std::fs::metadata(&self.path) {
            use std::os::unix::fs::PermissionsExt;
            if meta.permissions().mode() & 0o077 != 0 {
                std::fs::set_permissions(&self.path, std::fs::Permissions::from_mode(0o600))
                    .map_err(|e| self.err(e))?;
            }
        }
        match std::fs::read_to_string(&self.path) {
            Ok(s) if s.trim().is_empty() => Ok(Default::default()),
            Ok(s) => match serde_json::from_str::<serde_json::Value>(&s) {
                Ok(serde_json::Value::Object(m)) => Ok(m),
                // A damaged file: kept aside (never silently emptied: it may hold
                // sign-ins someone wants back), and a new one started.
                _ => {
                    let aside = self.path.with_extension(format!(
                        "json.corrupt-{}",
                        chrono::Utc::now().format("%Y%m%dT%H%M%S")
                    ));
                    std::fs::rename(&self.path, &aside).map_err(|e| self.err(e))?;
                    tracing::warn!(
                        "the token file {} is corrupted; it was kept as {} and a new one started",
                        self.path.display(),
                        aside.display()
                    );
                    Ok(Default::default())
                }
            },
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Default::default()),
            Err(e) => Err(self.err(e)),
        }
    }

    fn write_map(
        &self,
        map: &serde_json::Map<String, serde_json::Value>,
    ) -> Result<(), StoreError> {
        let dir = self.path.parent().unwrap_or(Path::new("."));
        fsutil::create_private_dir(dir).map_err(|e| self.err(e))?;
        let tmp = self
            .path
            .with_extension(format!("json.tmp{}", std::process::id()));
        let text = serde_json::to_string_pretty(map).map_err(|e| self.err(e))?;
        fsutil::write_private(&tmp, text.as_bytes()).map_err(|e| self.err(e))?;
        std::fs::rename(&tmp, &self.path).map_err(|e| self.err(e))
    }

    fn with_lock<T>(&self, f: impl FnOnce() -> Result<T, StoreError>) -> Result<T, StoreError> {
        let dir = self.path.parent().unwrap_or(Path::new("."));
        fsutil::create_private_dir(dir).map_err(|e| self.err(e))?;
        let lock_path = self.path.with_extension("json.lock");
        let lock = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(|e| self.err(e))?;
        lock.lock().map_err(|e| self.err(e))?;
        let r = f();
        let _ = lock.unlock();
        r
    }

    fn get_sync(&self, account: &str) -> Result<Option<String>, StoreError> {
        self.with_lock(|| {
            let m = self.read_map()?;
            Ok(m.get(account).map(|v| match v {
                serde_json::Value::String(s) => s.clone(),
                other => other.to_string(),
            }))
        })
    }

    fn update_sync(&self, account: &str, secret: Option<&str>) -> Result<(), StoreError> {
        self.with_lock(|| {
            let mut m = self.read_map()?;
            match secret {
                Some(s) => {
                    // Stored as an object (readable), parsed back with `to_string`.
                    let v = serde_json::from_str(s)
                        .unwrap_or_else(|_| serde_json::Value::String(s.to_string()));
                    m.insert(account.to_string(), v);
                }
                None => {
                    if m.remove(account).is_none() {
                        return Ok(());
                    }
                }
            }
            self.write_map(&m)
        })
    }
}

impl TokenStore for FileStore {
    fn kind(&self) -> StoreKind {
        StoreKind::File
    }
    fn get<'a>(&'a self, account: &'a str) -> BoxFuture<'a, Result<Option<String>, StoreError>> {
        Box::pin(async move { blocking(move || self.get_sync(account)).await })
    }
    fn set<'a>(
        &'a self,
        account: &'a str,
        secret: &'a str,
    ) -> BoxFuture<'a, Result<(), StoreError>> {
        Box::pin(async move { blocking(move || self.update_sync(account, Some(secret))).await })
    }
    fn delete<'a>(&'a self, account: &'a str) -> BoxFuture<'a, Result<(), StoreError>> {
        Box::pin(async move { blocking(move || self.update_sync(account, None)).await })
    }
}

/// Run short blocking file work; `block_in_place` keeps borrowed arguments usable and
/// works on the multi-threaded runtime; on a current-thread runtime it just runs.
async fn blocking<T>(f: impl FnOnce() -> T) -> T {
    match tokio::runtime::Handle::try_current() {
        Ok(h) if h.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread => {
            tokio::task::block_in_place(f)
        }
        _ => f(),
    }
}

/// The OS keychain through keyring-core. Which backend answers is decided on first use:
/// a locked keyring constructs fine and fails only when touched.
pub struct KeychainStore {
    state: tokio::sync::Mutex<Option<KeychainBackend>>,
    kind: Mutex<StoreKind>,
}

#[derive(Clone)]
struct KeychainBackend {
    store: Arc<keyring_core::CredentialStore>,
    kind: StoreKind,
}

impl Default for KeychainStore {
    fn default() -> Self {
        Self::new()
    }
}

impl KeychainStore {
    pub fn new() -> Self {
        KeychainStore {
            state: tokio::sync::Mutex::new(None),
            kind: Mutex::new(default_keychain_kind()),
        }
    }

    async fn backend(&self) -> Result<KeychainBackend, StoreError> {
        let mut guard = self.state.lock().await;
        if let Some(b) = guard.as_ref() {
            return Ok(b.clone());
        }
        let b = choose_backend().await?;
        if let Ok(mut k) = self.kind.lock() {
            *k = b.kind;
        }
        *guard = Some(b.clone());
        Ok(b)
    }

    async fn call<T: Send + 'static>(
        &self,
        account: &str,
        op: impl FnOnce(keyring_core::Entry) -> Result<T, keyring_core::Error> + Send + 'static,
    ) -> Result<T, StoreError> {
        let b = self.backend().await?;
        let account = account.to_string();
        run_keychain(move || {
            let entry = keyring_core::Entry::new_in_store(&b.store, SERVICE, &account)?;
            op(entry)
        })
        .await
    }
}

async fn run_keychain<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, keyring_core::Error> + Send + 'static,
) -> Result<T, StoreError> {
    match tokio::time::timeout(KEYCHAIN_TIMEOUT, tokio::task::spawn_blocking(f)).await {
        Err(_) => Err(StoreError::Timeout(KEYCHAIN_TIMEOUT.as_secs())),
        Ok(Err(_)) => Err(StoreError::Unavailable("the keychain call failed".into())),
        Ok(Ok(r)) => r.map_err(keyring_error),
    }
}

fn keyring_error(e: keyring_core::Error) -> StoreError {
    use keyring_core::Error as E;
    match e {
        E::NoStorageAccess(inner) => StoreError::Locked(one_line(&inner.to_string())),
        E::PlatformFailure(inner) => StoreError::Unavailable(one_line(&inner.to_string())),
        E::BadEncoding(_) | E::BadDataFormat(..) => StoreError::Corrupted,
        other => StoreError::Unavailable(one_line(&other.to_string())),
    }
}

fn one_line(s: &str) -> String {
    s.lines()
        .next()
        .unwrap_or("")
        .trim()
        .chars()
        .take(200)
        .collect()
}

#[cfg(target_os = "linux")]
fn default_keychain_kind() -> StoreKind {
    StoreKind::SecretService
}
#[cfg(target_os = "macos")]
fn default_keychain_kind() -> StoreKind {
    StoreKind::Keychain
}
#[cfg(target_os = "windows")]
fn default_keychain_kind() -> StoreKind {
    StoreKind::CredentialManager
}
#[cfg(not(any(target_os = "linux", target_os = "macos", target_os = "windows")))]
fn default_keychain_kind() -> StoreKind {
    StoreKind::Unavailable
}

static KEYUTILS_NOTICE: std::sync::Once = std::sync::Once::new();

/// What a user is told once when tokens fall back to the kernel keyring (stderr for the
/// CLI; `window/showMessage` in the editor, where stderr is only a log).
pub const KEYUTILS_NOTICE_TEXT: &str = "no Secret Service here, so tokens are kept in the kernel keyring for this session; they will not survive a reboot (HTTPLENS_TOKEN_STORE=file keeps them in a 0600 file)";

/// Linux: the Secret Service when a probe read answers (a missing entry is an answer);
/// else the kernel keyring with a one-time notice. A locked keyring is an error, not a
/// reason to fall back (the user has a keychain and should unlock it).
#[cfg(target_os = "linux")]
async fn choose_backend() -> Result<KeychainBackend, StoreError> {
    let ss = run_keychain(|| {
        let store: Arc<keyring_core::CredentialStore> =
            zbus_secret_service_keyring_store::Store::new()?;
        let entry = keyring_core::Entry::new_in_store(&store, SERVICE, "httplens-probe")?;
        match entry.get_password() {
            Ok(_) | Err(keyring_core::Error::NoEntry) => Ok(store),
            Err(e) => Err(e),
        }
    })
    .await;
    match ss {
        Ok(store) => Ok(KeychainBackend {
            store,
            kind: StoreKind::SecretService,
        }),
        Err(StoreError::Locked(m)) => Err(StoreError::Locked(m)),
        Err(ss_err) => {
            let ku = run_keychain(|| {
                let store: Arc<keyring_core::CredentialStore> =
                    linux_keyutils_keyring_store::Store::new()?;
                let entry = keyring_core::Entry::new_in_store(&store, SERVICE, "httplens-probe")?;
                match entry.get_password() {
                    Ok(_) | Err(keyring_core::Error::NoEntry) => Ok(store),
                    Err(e) => Err(e),
                }
            })
            .await;
            match ku {
                Ok(store) => {
                    KEYUTILS_NOTICE.call_once(|| {
                        tracing::warn!(
                            "no Secret Service: tokens are kept in the kernel keyring for this session and will not survive a reboot"
                        );
                        eprintln!("httplens: {KEYUTILS_NOTICE_TEXT}");
                    });
                    Ok(KeychainBackend {
                        store,
                        kind: StoreKind::Keyutils,
                    })
                }
                Err(_) => Err(StoreError::Unavailable(match ss_err {
                    StoreError::Unavailable(m) => m,
                    other => other.to_string(),
                })),
            }
        }
    }
}

#[cfg(target_os = "macos")]
async fn choose_backend() -> Result<KeychainBackend, StoreError> {
    let store = run_keychain(|| {
        let s: Arc<keyring_core::CredentialStore> =
            apple_native_keyring_store::keychain::Store::new()?;
        Ok(s)
    })
    .await?;
    Ok(KeychainBackend {
        store,
        kind: StoreKind::Keychain,
    })
}

#[cfg(target_os = "windows")]
async fn choose_backend() -> Result<KeychainBackend, StoreError> {
    let store = run_keychain(|| {
        let s: Arc<keyring_core::CredentialStore> = windows_native_keyring_store::Store::new()?;
        Ok(s)
    })
    .await?;
    Ok(KeychainBackend {
        store,
        kind: StoreKind::CredentialManager,
    })
}

#[cfg(not(any(target_os = "linux", target_os = "macos", target_os = "windows")))]
async fn choose_backend() -> Result<KeychainBackend, StoreError> {
    Err(StoreError::Unavailable(
        "this platform has no supported keychain".into(),
    ))
}

impl TokenStore for KeychainStore {
    fn kind(&self) -> StoreKind {
        self.kind
            .lock()
            .map(|k| *k)
            .unwrap_or(StoreKind::Unavailable)
    }
    fn get<'a>(&'a self, account: &'a str) -> BoxFuture<'a, Result<Option<String>, StoreError>> {
        Box::pin(async move {
            self.call(account, |e| match e.get_password() {
                Ok(s) => Ok(Some(s)),
                Err(keyring_core::Error::NoEntry) => Ok(None),
                Err(e) => Err(e),
            })
            .await
        })
    }
    fn set<'a>(
        &'a self,
        account: &'a str,
        secret: &'a str,
    ) -> BoxFuture<'a, Result<(), StoreError>> {
        let secret = secret.to_string();
        Box::pin(async move { self.call(account, move |e| e.set_password(&secret)).await })
    }
    fn delete<'a>(&'a self, account: &'a str) -> BoxFuture<'a, Result<(), StoreError>> {
        Box::pin(async move {
            self.call(account, |e| match e.delete_credential() {
                Ok(()) | Err(keyring_core::Error::NoEntry) => Ok(()),
                Err(e) => Err(e),
            })
            .await
        })
    }
}

/// The store a front end asked for (`Some`) or `HTTPLENS_TOKEN_STORE`, else the keychain.
pub fn open_store(choice: Option<&str>, config_dir: &Path) -> Result<Arc<dyn TokenStore>, String> {
    let env = std::env::var("HTTPLENS_TOKEN_STORE").ok();
    let choice = choice
        .map(str::to_string)
        .or(env)
        .filter(|s| !s.trim().is_empty())
        .unwrap_or_else(|| "keychain".into());
    match choice.trim().to_ascii_lowercase().as_str() {
        "keychain" => Ok(Arc::new(KeychainStore::new())),
        "file" => Ok(Arc::new(FileStore::new(config_dir))),
        "memory" => Ok(Arc::new(MemoryStore::new())),
        other => Err(format!(
            "unknown token store `{other}`: use keychain, file or memory"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn token() -> StoredToken {
        StoredToken {
            version: 1,
            access_token: "at".into(),
            refresh_token: Some("rt".into()),
            id_token: None,
            token_type: Some("Bearer".into()),
            expires_at: Some(100),
            scopes: vec!["openid".into()],
            account: Some("jane".into()),
            issuer: None,
            id_token_status: None,
        }
    }

    #[test]
    fn json_shape() {
        let v: serde_json::Value = serde_json::from_str(&token().to_json()).unwrap();
        for k in [
            "version",
            "access_token",
            "refresh_token",
            "id_token",
            "token_type",
            "expires_at",
            "scopes",
            "account",
            "issuer",
        ] {
            assert!(v.get(k).is_some(), "{k}");
        }
        assert_eq!(StoredToken::from_json(&token().to_json()).unwrap(), token());
        assert_eq!(
            StoredToken::from_json("{nope").unwrap_err(),
            StoreError::Corrupted
        );
        assert_eq!(
            StoredToken::from_json(r#"{"version":2,"access_token":"x"}"#).unwrap_err(),
            StoreError::Corrupted
        );
        assert!(!format!("{:?}", token()).contains("rt\""));
    }

    #[test]
    fn validity_with_skew() {
        let t = token();
        assert!(t.valid_for(0, 60));
        assert!(!t.valid_for(41, 60));
    }

    #[tokio::test]
    async fn file_store_roundtrip_and_mode() {
        let dir = tempfile::tempdir().unwrap();
        let s = FileStore::new(dir.path());
        assert_eq!(s.get("a").await.unwrap(), None);
        s.set("a", &token().to_json()).await.unwrap();
        s.set("b", "garbage").await.unwrap();
        assert_eq!(
            StoredToken::from_json(&s.get("a").await.unwrap().unwrap()).unwrap(),
            token()
        );
        assert_eq!(s.get("b").await.unwrap().as_deref(), Some("garbage"));
        s.delete("b").await.unwrap();
        assert_eq!(s.get("b").await.unwrap(), None);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(s.path()).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }

    #[cfg(unix)]
    #[test]
    fn a_corrupt_token_file_is_kept_aside_and_an_open_one_made_private() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("tokens.json");
        std::fs::write(&path, "{not json").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        let store = FileStore::new(dir.path());
        assert!(store.read_map().unwrap().is_empty());
        let aside: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.starts_with("tokens.json.corrupt-"))
            .collect();
        assert_eq!(aside.len(), 1, "{aside:?}");
        assert_eq!(
            std::fs::read_to_string(dir.path().join(&aside[0])).unwrap(),
            "{not json"
        );
        std::fs::write(&path, "{}").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        store.read_map().unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }
}
