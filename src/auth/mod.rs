//! Sign-in: auth profiles, the OAuth 2.0 flows (authorization code with PKCE on a
//! loopback listener, client credentials, device authorization), the token store
//! (keychain, file, memory) and the [`crate::exec::TokenSource`] the engine asks.
//!
//! [`AuthSession`] is the one entry point front ends use: it owns the profiles of one
//! environment, the store, and the coalescing (one refresh, one browser per entry,
//! across threads through an async mutex and across processes through a file lock).

pub mod env_profiles;
pub mod flow;
pub mod fsutil;
pub mod idtoken;
mod jwt_ring;
pub mod oauth;
pub mod profile;
pub mod store;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::future::BoxFuture;

use crate::exec::TokenSource;
use crate::secret::{Secret, SecretSet};
use crate::syntax::ast::TokenKind;
pub use flow::{PendingSignIn, SignInHandle, SignInOptions};
pub use oauth::Endpoints;
pub use profile::{Grant, Profile, ProfileIssue, parse_profiles};
pub use store::{StoreError, StoreKind, StoredToken, TokenStore, open_store};

/// Refresh this long before expiry.
pub const EXPIRY_SKEW_SECS: i64 = 60;

/// Every failure of sign-in, as one sentence that never holds a secret.
#[derive(Debug, Clone, thiserror::Error)]
pub enum AuthError {
    #[error("{0}")]
    Config(String),
    #[error("{0}")]
    Provider(String),
    #[error("{0}")]
    Network(String),
    #[error("the sign-in has expired or was revoked ({0}); sign in again")]
    InvalidGrant(String),
    #[error("sign-in failed: {0}")]
    Denied(String),
    #[error("no redirect from the browser within {0} seconds; the sign-in listener is closed")]
    Timeout(u64),
    #[error("the sign-in was cancelled; the listener is closed")]
    Cancelled,
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(
        "auth profile `{profile}` is not signed in{reason}: run `httplens login {profile}`, or use a Client Credentials profile"
    )]
    NotSignedIn { profile: String, reason: String },
    #[error("there is no auth profile `{0}` in the selected environment")]
    UnknownProfile(String),
}

/// What the front end is told while a sign-in waits for the user.
pub trait SignInObserver: Send + Sync {
    /// A sign-in of `profile` now waits for its redirect (`complete_sign_in` can finish
    /// it); called before the browser opens.
    fn waiting(&self, _profile: &str) {}
    /// The authorize URL (always show it; `browser_error` says why no browser opened).
    fn authorize_url(&self, profile: &str, url: &str, browser_error: Option<&str>);
    /// Device flow: where to go and which code to type.
    fn device_code(&self, _profile: &str, _verification_uri: &str, _user_code: &str) {}
    /// A one-time notice (a corrupted entry was discarded, ...).
    fn notice(&self, _message: &str) {}
}

/// Observer that logs only (for tests and non-interactive use).
pub struct LogObserver;

impl SignInObserver for LogObserver {
    fn authorize_url(&self, profile: &str, _url: &str, browser_error: Option<&str>) {
        tracing::info!(profile, browser_error, "waiting for the browser");
    }
    fn notice(&self, message: &str) {
        tracing::warn!("{message}");
    }
}

/// A profile's sign-in as the token store holds it, read by [`AuthSession::status`]
/// (never a token). The editor shows it as an `ide::SignInView`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredSignIn {
    pub profile: String,
    pub grant: Grant,
    pub signed_in: bool,
    pub account: Option<String>,
    pub scopes: Vec<String>,
    pub expires_at: Option<i64>,
    /// Whether the stored ID token's signature and claims were checked.
    pub id_token: Option<idtoken::IdTokenStatus>,
    /// A refresh token is kept (an expired access token is refreshed, not signed in again).
    pub refreshable: bool,
}

/// Outcome of a sign-out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignOutReport {
    pub had_entry: bool,
    /// `None`: no revocation endpoint; `Some(Err)`: revocation failed (entry deleted anyway).
    pub revoked: Option<Result<(), String>>,
}

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

/// Sign-in for the profiles of one selected environment.
pub struct AuthSession {
    profiles: HashMap<String, Profile>,
    store: Arc<dyn TokenStore>,
    config_dir: PathBuf,
    http: reqwest::Client,
    interactive: bool,
    open_browser: bool,
    timeout: Duration,
    observer: Arc<dyn SignInObserver>,
    endpoints: tokio::sync::Mutex<HashMap<String, Endpoints>>,
    pending: Mutex<HashMap<String, SignInHandle>>,
}

impl AuthSession {
    /// A session over `profiles`, keeping tokens in `store`; not interactive until
    /// [`AuthSession::interactive`] says so.
    pub fn new(profiles: Vec<Profile>, store: Arc<dyn TokenStore>, config_dir: PathBuf) -> Self {
        AuthSession {
            profiles: profiles.into_iter().map(|p| (p.id.clone(), p)).collect(),
            store,
            config_dir,
            http: oauth::http_client(),
            interactive: false,
            open_browser: true,
            timeout: flow::DEFAULT_TIMEOUT,
            observer: Arc::new(LogObserver),
            endpoints: Default::default(),
            pending: Default::default(),
        }
    }

    /// May a token request sign in with a browser (profiles with `Acquire
    /// Automatically`)? True for an editor and a CLI that can open a browser.
    pub fn interactive(mut self, yes: bool) -> Self {
        self.interactive = yes;
        self
    }

    /// Launch a browser for sign-ins (false: the observer shows the URL and the user
    /// pastes the redirect).
    pub fn open_browser(mut self, yes: bool) -> Self {
        self.open_browser = yes;
        self
    }

    pub fn timeout(mut self, t: Duration) -> Self {
        self.timeout = t;
        self
    }

    pub fn observer(mut self, o: Arc<dyn SignInObserver>) -> Self {
        self.observer = o;
        self
    }

    pub fn store_kind(&self) -> StoreKind {
        self.store.kind()
    }

    pub fn profile(&self, id: &str) -> Result<&Profile, AuthError> {
        self.profiles
            .get(id)
            .ok_or_else(|| AuthError::UnknownProfile(id.to_string()))
    }

    /// Profiles in name order.
    pub fn profiles(&self) -> Vec<&Profile> {
        let mut v: Vec<&Profile> = self.profiles.values().collect();
        v.sort_by(|a, b| a.id.cmp(&b.id));
        v
    }

    async fn endpoints_for(&self, p: &Profile) -> Result<Endpoints, AuthError> {
        let mut cache = self.endpoints.lock().await;
        if let Some(e) = cache.get(&p.id) {
            return Ok(e.clone());
        }
        let e = oauth::endpoints(&self.http, p).await?;
        cache.insert(p.id.clone(), e.clone());
        Ok(e)
    }

    /// Read an entry; a corrupted one is deleted with a notice and counts as absent.
    async fn read_entry(&self, account: &str) -> Result<Option<StoredToken>, AuthError> {
        match self.store.get(account).await? {
            None => Ok(None),
            Some(s) => match StoredToken::from_json(&s) {
                Ok(t) => Ok(Some(t)),
                Err(e) => {
                    self.observer.notice(&e.to_string());
                    let _ = self.store.delete(account).await;
                    Ok(None)
                }
            },
        }
    }

    /// The state of one profile (reads the store; never signs in).
    pub async fn status(&self, id: &str) -> Result<StoredSignIn, AuthError> {
        let p = self.profile(id)?;
        let t = self.read_entry(&p.store_account()).await?;
        Ok(StoredSignIn {
            profile: p.id.clone(),
            grant: p.grant,
            signed_in: t.is_some(),
            account: t.as_ref().and_then(|t| t.account.clone()),
            scopes: t.as_ref().map(|t| t.scopes.clone()).unwrap_or_default(),
            expires_at: t.as_ref().and_then(|t| t.expires_at),
            id_token: t.as_ref().and_then(|t| t.id_token_status.clone()),
            refreshable: t.as_ref().is_some_and(|t| t.refresh_token.is_some()),
        })
    }

    /// The cross-process lock of one store entry, waiting at most the sign-in timeout.
    async fn lock(&self, account: &str) -> Result<fsutil::EntryLock, AuthError> {
        fsutil::lock_entry(&self.config_dir, account, self.timeout)
            .await
            .map_err(AuthError::Config)
    }

    /// A valid token set for the profile: stored, refreshed, fetched (client
    /// credentials) or, when allowed, signed in.
    pub async fn tokens(&self, id: &str) -> Result<StoredToken, AuthError> {
        let p = self.profile(id)?.clone();
        let account = p.store_account();
        let _lock = self.lock(&account).await?;
        let stored = self.read_entry(&account).await?;
        let mut reason = String::new();
        if let Some(t) = stored {
            if t.valid_for(now(), EXPIRY_SKEW_SECS) {
                return Ok(t);
            }
            if t.refresh_token.is_some() {
                match self.refresh_locked(&p, &account, &t).await {
                    Ok(t) => return Ok(t),
                    Err(AuthError::InvalidGrant(m)) => {
                        self.observer.notice(&format!(
                            "the refresh token of `{}` was refused ({m}); signing in again",
                            p.id
                        ));
                        reason = " (the sign-in expired or was revoked)".into();
                    }
                    Err(e) => return Err(e),
                }
            } else {
                reason = " (the token expired)".into();
            }
        }
        self.acquire_locked(&p, &account, reason, false).await
    }

    /// Sign in now, whatever is stored (`httplens login`, `httplens.signIn`).
    pub async fn sign_in(&self, id: &str) -> Result<StoredToken, AuthError> {
        let p = self.profile(id)?.clone();
        let account = p.store_account();
        let _lock = self.lock(&account).await?;
        self.acquire_locked(&p, &account, String::new(), true).await
    }

    async fn acquire_locked(
        &self,
        p: &Profile,
        account: &str,
        reason: String,
        forced: bool,
    ) -> Result<StoredToken, AuthError> {
        let token = match p.grant {
            Grant::ClientCredentials => self.client_credentials(p).await?,
            Grant::AuthorizationCode | Grant::DeviceAuthorization => {
                let allowed = forced || (self.interactive && p.acquire_automatically);
                if !allowed {
                    return Err(AuthError::NotSignedIn {
                        profile: p.id.clone(),
                        reason,
                    });
                }
                if p.grant == Grant::DeviceAuthorization {
                    self.device_flow(p).await?
                } else {
                    self.browser_flow(p).await?
                }
            }
        };
        self.store.set(account, &token.to_json()).await?;
        Ok(token)
    }

    fn to_stored(
        &self,
        p: &Profile,
        t: oauth::TokenResponse,
        account: Option<String>,
        issuer: Option<String>,
        previous_refresh: Option<String>,
    ) -> StoredToken {
        let scopes = match &t.scope {
            Some(s) => s
                .split(|c: char| c == ',' || c.is_whitespace())
                .filter(|s| !s.is_empty())
                .map(str::to_string)
                .collect(),
            None => p.scopes.clone(),
        };
        StoredToken {
            version: 1,
            access_token: t.access_token.expose().to_string(),
            refresh_token: t
                .refresh_token
                .map(|r| r.expose().to_string())
                .or(previous_refresh),
            id_token: t.id_token.map(|r| r.expose().to_string()),
            token_type: t.token_type,
            expires_at: t.expires_in.map(|s| now() + s),
            scopes,
            account,
            issuer,
            id_token_status: None,
        }
    }

    async fn browser_flow(&self, p: &Profile) -> Result<StoredToken, AuthError> {
        let e = self.endpoints_for(p).await?;
        // The browser is opened here, after the sign-in is registered as waiting: a
        // redirect pasted the moment the browser lands finds it.
        let opts = SignInOptions {
            timeout: self.timeout,
            open_browser: false,
            config_dir: self.config_dir.clone(),
        };
        let mut pending = flow::start(&self.http, p, &e, &opts).await?;
        if let Ok(mut m) = self.pending.lock() {
            m.insert(p.id.clone(), pending.handle.clone());
        }
        self.observer.waiting(&p.id);
        if self.open_browser {
            pending.browser_error = flow::open_browser(pending.authorize_url.as_str())
                .await
                .err();
        }
        self.observer.authorize_url(
            &p.id,
            pending.authorize_url.as_str(),
            pending.browser_error.as_deref(),
        );
        let r = pending.wait().await;
        if let Ok(mut m) = self.pending.lock() {
            m.remove(&p.id);
        }
        let r = r?;
        let mut t = self.to_stored(p, r.tokens, r.account, e.issuer.clone(), None);
        t.id_token_status = r.id_token;
        Ok(t)
    }

    /// Finish a waiting sign-in from a pasted redirect URL (`httplens.completeSignIn`).
    pub fn complete_sign_in(&self, id: &str, redirect_url: &str) -> Result<(), AuthError> {
        let h = self
            .pending
            .lock()
            .ok()
            .and_then(|m| m.get(id).cloned())
            .ok_or_else(|| {
                AuthError::Config(format!("no sign-in to `{id}` is waiting for a redirect"))
            })?;
        h.complete_with_url(redirect_url)
    }

    /// Cancel a waiting sign-in (closes its listener). False when none was waiting.
    pub fn cancel_sign_in(&self, id: &str) -> bool {
        match self.pending.lock().ok().and_then(|m| m.get(id).cloned()) {
            Some(h) => {
                h.cancel();
                true
            }
            None => false,
        }
    }

    /// Is a sign-in of this profile waiting for its redirect?
    pub fn sign_in_pending(&self, id: &str) -> bool {
        self.pending
            .lock()
            .map(|m| m.contains_key(id))
            .unwrap_or(false)
    }

    fn secrets_of(p: &Profile, extra: &[&str]) -> SecretSet {
        let mut s = SecretSet::new();
        if let Some(c) = &p.client_secret {
            s.add_secret(c);
        }
        for x in extra {
            s.add(x);
        }
        s
    }

    async fn token_url(&self, p: &Profile) -> Result<(Endpoints, url::Url), AuthError> {
        let e = self.endpoints_for(p).await?;
        let u = e.token_url.clone().ok_or_else(|| {
            AuthError::Config(format!("auth profile `{}` has no `Token URL`", p.id))
        })?;
        Ok((e, u))
    }

    async fn client_credentials(&self, p: &Profile) -> Result<StoredToken, AuthError> {
        let (e, url) = self.token_url(p).await?;
        let t = oauth::client_credentials(&self.http, p, &url, &Self::secrets_of(p, &[])).await?;
        Ok(self.to_stored(p, t, Some(p.client_id.clone()), e.issuer.clone(), None))
    }

    /// Refresh with the entry lock held; the rotated token is stored before it is
    /// returned for use. `invalid_grant` deletes the entry.
    async fn refresh_locked(
        &self,
        p: &Profile,
        account: &str,
        t: &StoredToken,
    ) -> Result<StoredToken, AuthError> {
        let Some(rt) = t.refresh_token.clone() else {
            return Err(AuthError::NotSignedIn {
                profile: p.id.clone(),
                reason: " (no refresh token)".into(),
            });
        };
        let (e, url) = self.token_url(p).await?;
        let r = oauth::refresh(&self.http, p, &url, &rt, &Self::secrets_of(p, &[&rt])).await;
        match r {
            Ok(resp) => {
                // A refreshed ID token is checked like the first one (no nonce: no
                // authorization request was made).
                let checked =
                    idtoken::check_response(&self.http, p, &e, resp.id_token.as_ref(), None).await;
                let id_token_new = resp.id_token.is_some();
                let mut nt = self.to_stored(
                    p,
                    resp,
                    t.account.clone(),
                    e.issuer.clone().or(t.issuer.clone()),
                    Some(rt),
                );
                match &checked {
                    Ok(status) if id_token_new => nt.id_token_status = status.clone(),
                    // A refused ID token is not kept, but the rotated refresh token
                    // and the access token are: the old refresh token is spent.
                    Err(_) => {
                        nt.id_token = None;
                        nt.id_token_status = None;
                    }
                    Ok(_) => {
                        nt.id_token = t.id_token.clone();
                        nt.id_token_status = t.id_token_status.clone();
                    }
                }
                self.store.set(account, &nt.to_json()).await?;
                checked?;
                Ok(nt)
            }
            Err(AuthError::InvalidGrant(m)) => {
                self.store.delete(account).await?;
                Err(AuthError::InvalidGrant(m))
            }
            Err(e) => Err(e),
        }
    }

    /// The server rejected `rejected`: refresh once (or, when another caller already
    /// refreshed, hand out the newer token). Never loops: a second 401 is the caller's.
    pub async fn refresh_after_401(
        &self,
        id: &str,
        kind: TokenKind,
        rejected: &Secret,
    ) -> Result<StoredToken, AuthError> {
        let p = self.profile(id)?.clone();
        let account = p.store_account();
        let _lock = self.lock(&account).await?;
        let stored = self.read_entry(&account).await?;
        let Some(t) = stored else {
            return self
                .acquire_locked(
                    &p,
                    &account,
                    " (the server rejected the token)".into(),
                    false,
                )
                .await;
        };
        let current = match kind {
            TokenKind::Access => Some(t.access_token.as_str()),
            TokenKind::Id => t.id_token.as_deref(),
        };
        if current.is_some_and(|c| c != rejected.expose()) && t.valid_for(now(), 0) {
            return Ok(t);
        }
        if t.refresh_token.is_some() {
            return match self.refresh_locked(&p, &account, &t).await {
                Err(AuthError::InvalidGrant(_)) => {
                    self.acquire_locked(&p, &account, " (the sign-in was revoked)".into(), false)
                        .await
                }
                r => r,
            };
        }
        self.store.delete(&account).await?;
        self.acquire_locked(
            &p,
            &account,
            " (the server rejected the token)".into(),
            false,
        )
        .await
    }

    /// Forget the profile's tokens, revoking them where the provider can.
    pub async fn sign_out(&self, id: &str) -> Result<SignOutReport, AuthError> {
        let p = self.profile(id)?.clone();
        let account = p.store_account();
        let _lock = self.lock(&account).await?;
        let t = self.read_entry(&account).await?;
        self.store.delete(&account).await?;
        let Some(t) = t else {
            return Ok(SignOutReport {
                had_entry: false,
                revoked: None,
            });
        };
        let revoke_url = match self.endpoints_for(&p).await {
            Ok(e) => e.revoke_url,
            Err(_) => p.revoke_url.clone(),
        };
        let revoked = match revoke_url {
            None => None,
            Some(u) => {
                // The refresh token first: revoking it ends the grant at most providers.
                let r = match &t.refresh_token {
                    Some(rt) => {
                        oauth::revoke(&self.http, &p, &u, rt, oauth::Revocable::Refresh).await
                    }
                    None => Ok(()),
                };
                let r2 = oauth::revoke(
                    &self.http,
                    &p,
                    &u,
                    &t.access_token,
                    oauth::Revocable::Access,
                )
                .await;
                Some(r.and(r2).map_err(|e| e.to_string()))
            }
        };
        Ok(SignOutReport {
            had_entry: true,
            revoked,
        })
    }

    /// RFC 8628 device authorization: show the code, poll the token endpoint.
    async fn device_flow(&self, p: &Profile) -> Result<StoredToken, AuthError> {
        let (e, token_url) = self.token_url(p).await?;
        let dev_url = e.device_auth_url.clone().ok_or_else(|| {
            AuthError::Config(format!("auth profile `{}` has no `Device Auth URL`", p.id))
        })?;
        let secrets = Self::secrets_of(p, &[]);
        let details = oauth::device_authorize(&self.http, p, &dev_url, &secrets).await?;
        let verification = details
            .verification_uri_complete()
            .map(|u| u.secret().to_string())
            .unwrap_or_else(|| details.verification_uri().to_string());
        let user_code = details.user_code().secret().to_string();
        self.observer.device_code(&p.id, &verification, &user_code);
        if self.open_browser && !verification.is_empty() {
            let _ = flow::open_browser(&verification).await;
        }
        let secrets = Self::secrets_of(p, &[details.device_code().secret()]);
        let t =
            oauth::device_poll(&self.http, p, &token_url, &details, self.timeout, &secrets).await?;
        let checked = idtoken::check_response(&self.http, p, &e, t.id_token.as_ref(), None).await?;
        let account = oauth::account_name(
            &self.http,
            t.id_token.as_ref(),
            e.userinfo_url.as_ref(),
            &t.access_token,
        )
        .await;
        let mut t = self.to_stored(p, t, account, e.issuer.clone(), None);
        t.id_token_status = checked;
        Ok(t)
    }
}

fn pick(t: &StoredToken, kind: TokenKind, profile: &str) -> Result<Secret, String> {
    match kind {
        TokenKind::Access => Ok(Secret::new(t.access_token.clone())),
        TokenKind::Id => t.id_token.clone().map(Secret::new).ok_or_else(|| {
            format!("auth profile `{profile}` has no ID token (add the `openid` scope)")
        }),
    }
}

impl AuthSession {
    /// `Use ID Token` makes `$auth.token` hand out the ID token.
    fn effective_kind(&self, profile: &str, kind: TokenKind) -> TokenKind {
        match self.profiles.get(profile) {
            Some(p) if p.use_id_token && kind == TokenKind::Access => TokenKind::Id,
            _ => kind,
        }
    }
}

impl TokenSource for AuthSession {
    fn token<'a>(
        &'a self,
        profile: &'a str,
        kind: TokenKind,
    ) -> BoxFuture<'a, Result<Secret, String>> {
        Box::pin(async move {
            let kind = self.effective_kind(profile, kind);
            let t = self.tokens(profile).await.map_err(|e| e.to_string())?;
            pick(&t, kind, profile)
        })
    }

    fn refresh_after_401<'a>(
        &'a self,
        profile: &'a str,
        kind: TokenKind,
        rejected: &'a Secret,
    ) -> BoxFuture<'a, Result<Secret, String>> {
        Box::pin(async move {
            let kind = self.effective_kind(profile, kind);
            let t = AuthSession::refresh_after_401(self, profile, kind, rejected)
                .await
                .map_err(|e| e.to_string())?;
            pick(&t, kind, profile)
        })
    }
}
