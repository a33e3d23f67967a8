//! Sign-in against real, strict authorization servers run as child processes on
//! 127.0.0.1 (oidc-provider, django-oauth-toolkit, oauth2-mock-server for faults) and
//! against the real Secret Service. Every test needs the peers that
//! `tests/peers/setup.sh` installs and a D-Bus session with gnome-keyring, so they are
//! ignored in a plain `cargo test`; `scripts/test-all.sh` runs them and they fail
//! loudly when a peer is missing.

#[path = "support/peers.rs"]
mod peers;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use httplens::auth::store::{KeychainStore, MemoryStore, StoreKind, TokenStore};
use httplens::auth::{AuthSession, Profile, SignInObserver, StoredToken, parse_profiles};
use serde_json::json;

/// A browser with a cookie jar that follows the provider's redirects (oidc-provider's
/// interaction pages set cookies) back to the loopback listener.
struct CookieBrowser {
    opened: AtomicUsize,
}

impl SignInObserver for CookieBrowser {
    fn authorize_url(&self, _profile: &str, url: &str, _err: Option<&str>) {
        self.opened.fetch_add(1, Ordering::SeqCst);
        let url = url.to_string();
        tokio::spawn(async move {
            let c = reqwest::Client::builder()
                .cookie_store(true)
                .no_proxy()
                .timeout(Duration::from_secs(15))
                .build()
                .unwrap();
            let _ = c.get(url).send().await;
        });
    }
}

fn profile(id: &str, v: serde_json::Value) -> Profile {
    let (mut p, issues) = parse_profiles(&json!({ id: v }), &|s: &str| Ok(s.to_string()));
    assert!(!p.is_empty(), "{issues:?}");
    p.remove(0)
}

fn session(
    profiles: Vec<Profile>,
    store: Arc<dyn TokenStore>,
    dir: &std::path::Path,
) -> (AuthSession, Arc<CookieBrowser>) {
    httplens::process::install_crypto_provider();
    let b = Arc::new(CookieBrowser {
        opened: AtomicUsize::new(0),
    });
    let s = AuthSession::new(profiles, store, dir.to_path_buf())
        .interactive(true)
        .open_browser(false)
        .timeout(Duration::from_secs(30))
        .observer(b.clone());
    (s, b)
}

fn client() -> reqwest::Client {
    httplens::process::install_crypto_provider();
    reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(15))
        .build()
        .unwrap()
}

fn oidc_profile(peer: &peers::Peer) -> Profile {
    profile(
        "oidc",
        json!({"Type": "OAuth2", "Grant Type": "Authorization Code",
            "Issuer": peer.base, "Client ID": "httplens-native",
            "Scope": "openid email profile offline_access",
            // oidc-provider grants offline_access only with an explicit consent prompt.
            "Custom Request Parameters": {"prompt": {"Value": "consent", "Use": "In Auth Request"}}}),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs peers: run scripts/test-all.sh"]
async fn oidc_provider_strict_flow_with_rotation() {
    // Access tokens live 30 s (< the 60 s skew), so every use refreshes and rotates.
    let peer = peers::oidc_provider(30);
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(MemoryStore::new());
    let (s, b) = session(vec![oidc_profile(&peer)], store.clone(), dir.path());
    let t1 = s.tokens("oidc").await.unwrap();
    assert_eq!(t1.account.as_deref(), Some("jane@example.test"));
    assert_eq!(t1.issuer.as_deref(), Some(peer.base.as_str()));
    let t2 = s.tokens("oidc").await.unwrap();
    let t3 = s.tokens("oidc").await.unwrap();
    assert_ne!(t1.refresh_token, t2.refresh_token, "rotated");
    assert_ne!(
        t2.refresh_token, t3.refresh_token,
        "rotated again: the grant is alive"
    );
    assert_eq!(b.opened.load(Ordering::SeqCst), 1);
    let me = client()
        .get(format!("{}/me", peer.base))
        .bearer_auth(&t3.access_token)
        .send()
        .await
        .unwrap();
    assert_eq!(me.status().as_u16(), 200, "{}", peer.log());
    // Sign-out revokes through the discovered revocation endpoint.
    let r = s.sign_out("oidc").await.unwrap();
    assert_eq!(r.revoked, Some(Ok(())));
    let me = client()
        .get(format!("{}/me", peer.base))
        .bearer_auth(&t3.access_token)
        .send()
        .await
        .unwrap();
    assert_eq!(me.status().as_u16(), 401);
}

/// The child's part of `two_processes_refresh_at_once_keep_the_grant` (the same test
/// binary started again with `HTTPLENS_TEST_CHILD_ISSUER` set, running that test):
/// refreshes the profile described by the environment, from the shared file store.
/// Not a test of its own, so it can never pass without a parent.
async fn child_refresh(issuer: String) {
    let config = std::path::PathBuf::from(std::env::var("HTTPLENS_CONFIG_DIR").unwrap());
    let p = profile(
        "oidc",
        json!({"Type": "OAuth2", "Grant Type": "Authorization Code", "Issuer": issuer,
            "Client ID": "httplens-native", "Scope": "openid email profile offline_access"}),
    );
    let store: Arc<dyn TokenStore> = Arc::new(httplens::auth::store::FileStore::new(&config));
    httplens::process::install_crypto_provider();
    // Not interactive: a refresh failure must show as an error, not as a new sign-in.
    let s = AuthSession::new(vec![p], store, config.clone());
    // Start together with the other child: say ready, wait for the parent's go.
    std::fs::write(config.join(format!("ready-{}", std::process::id())), "").unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while !config.join("go").exists() {
        assert!(
            std::time::Instant::now() < deadline,
            "no go from the parent"
        );
        std::thread::sleep(Duration::from_millis(1));
    }
    let t = s
        .tokens("oidc")
        .await
        .expect("the refresh works in the child");
    assert!(!t.access_token.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs peers: run scripts/test-all.sh"]
async fn two_processes_refresh_at_once_keep_the_grant() {
    if let Ok(issuer) = std::env::var("HTTPLENS_TEST_CHILD_ISSUER") {
        return child_refresh(issuer).await;
    }
    let peer = peers::oidc_provider(30);
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(httplens::auth::store::FileStore::new(dir.path()));
    let mut p = oidc_profile(&peer);
    // The child parses the profile without the custom parameter: same store account.
    let (s, _) = session(vec![p.clone()], store.clone(), dir.path());
    s.tokens("oidc").await.unwrap();
    p.custom_params.clear();
    let before =
        StoredToken::from_json(&store.get(&p.store_account()).await.unwrap().unwrap()).unwrap();
    // Two processes refresh the same entry at once. Without the cross-process lock
    // both would present the same refresh token, and reuse detection would revoke
    // the whole grant.
    let exe = std::env::current_exe().unwrap();
    let spawn = || {
        tokio::process::Command::new(&exe)
            .args([
                "two_processes_refresh_at_once_keep_the_grant",
                "--exact",
                "--include-ignored",
                "--nocapture",
            ])
            .env("HTTPLENS_TEST_CHILD_ISSUER", &peer.base)
            .env("HTTPLENS_CONFIG_DIR", dir.path())
            .kill_on_drop(true)
            .output()
    };
    let go = async {
        let deadline = std::time::Instant::now() + Duration::from_secs(60);
        loop {
            let ready = std::fs::read_dir(dir.path())
                .unwrap()
                .flatten()
                .filter(|e| e.file_name().to_string_lossy().starts_with("ready-"))
                .count();
            if ready == 2 {
                std::fs::write(dir.path().join("go"), "").unwrap();
                return;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "the children did not start"
            );
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    };
    let (a, b, ()) = tokio::join!(spawn(), spawn(), go);
    let (a, b) = (a.unwrap(), b.unwrap());
    assert!(a.status.success(), "{}", String::from_utf8_lossy(&a.stdout));
    assert!(b.status.success(), "{}", String::from_utf8_lossy(&b.stdout));
    for o in [&a, &b] {
        assert!(
            String::from_utf8_lossy(&o.stdout).contains("1 passed"),
            "the child ran the helper"
        );
    }
    let after =
        StoredToken::from_json(&store.get(&p.store_account()).await.unwrap().unwrap()).unwrap();
    assert_ne!(before.refresh_token, after.refresh_token);
    // The grant is still alive: one more refresh works.
    let (s2, _) = session(vec![p], store.clone(), dir.path());
    let t = s2.tokens("oidc").await.unwrap();
    assert_ne!(t.refresh_token, after.refresh_token);
    assert!(!peer.log().contains("grant.revoked"), "{}", peer.log());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs peers: run scripts/test-all.sh"]
async fn django_confidential_basic_client_credentials_and_revocation() {
    let peer = peers::django(3600);
    let dir = tempfile::tempdir().unwrap();
    let web = profile(
        "web",
        json!({"Type": "OAuth2", "Grant Type": "Authorization Code", "Issuer": peer.base,
            "Client ID": "httplens-web", "Client Secret": "web-secret-123",
            "Client Credentials": "basic", "Scope": "openid email read",
            "Revoke URL": format!("{}/revoke_token/", peer.base)}),
    );
    let robot = profile(
        "robot",
        json!({"Type": "OAuth2", "Grant Type": "Client Credentials",
            "Token URL": format!("{}/token/", peer.base),
            "Revoke URL": format!("{}/revoke_token/", peer.base),
            "Client ID": "httplens-robot", "Client Secret": "robot-secret-123", "Scope": "read"}),
    );
    let (s, _) = session(vec![web, robot], Arc::new(MemoryStore::new()), dir.path());
    let t = s.tokens("web").await.unwrap();
    assert_eq!(t.account.as_deref(), Some("jane@example.test"));
    let userinfo = format!("{}/userinfo/", peer.base);
    let r = client()
        .get(&userinfo)
        .bearer_auth(&t.access_token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200, "{}", peer.log());
    let out = s.sign_out("web").await.unwrap();
    assert_eq!(out.revoked, Some(Ok(())), "{}", peer.log());
    let r = client()
        .get(&userinfo)
        .bearer_auth(&t.access_token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 401);
    let www = r.headers()["www-authenticate"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(www.contains("invalid_token"), "{www}");

    let rt = s.tokens("robot").await.unwrap();
    let again = s.tokens("robot").await.unwrap();
    assert_eq!(rt.access_token, again.access_token, "cached");
    assert_eq!(s.sign_out("robot").await.unwrap().revoked, Some(Ok(())));

    // A wrong secret: one clear sentence naming the provider's error.
    let bad = profile(
        "bad",
        json!({"Type": "OAuth2", "Grant Type": "Client Credentials",
            "Token URL": format!("{}/token/", peer.base),
            "Client ID": "httplens-robot", "Client Secret": "not-the-secret"}),
    );
    let (s, _) = session(vec![bad], Arc::new(MemoryStore::new()), dir.path());
    let e = s.tokens("bad").await.err().unwrap().to_string();
    assert!(
        e.contains("invalid_client") && !e.contains("not-the-secret"),
        "{e}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs peers: run scripts/test-all.sh"]
async fn mock_server_faults_are_clear_and_store_nothing() {
    let dir = tempfile::tempdir().unwrap();
    for (fault, want) in [
        ("access_denied", "access_denied"),
        ("no_state", "no `state`"),
        ("wrong_state", "does not belong to this sign-in"),
        ("wrong_iss", "names the issuer"),
        ("server_error", "HTTP 503"),
    ] {
        let peer = peers::mock_server(fault);
        let p = profile(
            "m",
            json!({"Type": "OAuth2", "Grant Type": "Authorization Code", "Issuer": peer.base,
                "Client ID": "any", "Scope": "openid offline_access"}),
        );
        let store = Arc::new(MemoryStore::new());
        let account = p.store_account();
        let (s, b) = session(vec![p], store.clone(), dir.path());
        let e = match s.tokens("m").await {
            Ok(_) => panic!("{fault}: the sign-in should have failed"),
            Err(e) => e.to_string(),
        };
        assert!(e.contains(want), "{fault}: {e}");
        assert!(!e.contains('\n'), "{e}");
        assert_eq!(
            store.get(&account).await.unwrap(),
            None,
            "{fault}: nothing stored"
        );
        assert_eq!(b.opened.load(Ordering::SeqCst), 1, "{fault}: no retry");
    }

    // invalid_grant on refresh: the entry is cleared and the user is asked to sign in.
    let peer = peers::mock_server("invalid_grant_refresh");
    let p = profile(
        "m",
        json!({"Type": "OAuth2", "Grant Type": "Authorization Code", "Issuer": peer.base,
            "Client ID": "any", "Scope": "openid offline_access"}),
    );
    let store = Arc::new(MemoryStore::new());
    let account = p.store_account();
    let (s, _) = session(vec![p.clone()], store.clone(), dir.path());
    let mut t = s.tokens("m").await.unwrap();
    assert!(t.refresh_token.is_some());
    t.expires_at = Some(0);
    store.set(&account, &t.to_json()).await.unwrap();
    let ci = AuthSession::new(vec![p], store.clone(), dir.path().to_path_buf());
    let e = ci.tokens("m").await.err().unwrap().to_string();
    assert!(e.contains("httplens login m"), "{e}");
    assert_eq!(store.get(&account).await.unwrap(), None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs peers: run scripts/test-all.sh"]
async fn secret_service_keychain_roundtrip_and_sign_in() {
    assert!(
        std::env::var_os("DBUS_SESSION_BUS_ADDRESS").is_some(),
        "no D-Bus session: run under scripts/test-all.sh (dbus-run-session + gnome-keyring)"
    );
    let store = Arc::new(KeychainStore::new());
    let account = format!("test|{}|c|s", uuid::Uuid::new_v4());
    store
        .set(&account, "{\"version\":1,\"access_token\":\"kc-sentinel\"}")
        .await
        .unwrap();
    assert_eq!(store.kind(), StoreKind::SecretService);
    assert_eq!(
        store.get(&account).await.unwrap().as_deref(),
        Some("{\"version\":1,\"access_token\":\"kc-sentinel\"}")
    );
    let listed = std::process::Command::new("secret-tool")
        .args(["search", "--all", "service", "httplens"])
        .output()
        .expect("secret-tool (libsecret-tools) is installed");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&listed.stdout),
        String::from_utf8_lossy(&listed.stderr)
    );
    assert!(text.contains(&account), "{text}");
    store.delete(&account).await.unwrap();
    assert_eq!(store.get(&account).await.unwrap(), None);

    // A whole sign-in through the IMS double, kept in the keychain.
    let ims = httplens::demo::ims::start(httplens::demo::ims::ImsConfig {
        auto_approve: true,
        ..Default::default()
    })
    .await
    .unwrap();
    let p = profile(
        "ims",
        json!({"Preset": "adobe-ims", "Grant Type": "Authorization Code", "Issuer": ims.base_url,
            "Client ID": "demo-native", "Redirect URL": "http://127.0.0.1/callback",
            "Scope": "openid,AdobeID,email,offline_access"}),
    );
    let dir = tempfile::tempdir().unwrap();
    let (s, _) = session(vec![p], store.clone(), dir.path());
    s.tokens("ims").await.unwrap();
    assert!(s.status("ims").await.unwrap().signed_in);
    s.sign_out("ims").await.unwrap();
    assert!(!s.status("ims").await.unwrap().signed_in);
    ims.shutdown().await;
}

#[test]
#[ignore = "needs peers: run scripts/test-all.sh"]
fn keyutils_fallback_without_a_secret_service() {
    // No session bus: the kernel keyring, with the one-time notice. The CLI runs
    // `login` for a client-credentials profile of the IMS double started here.
    let rt = tokio::runtime::Runtime::new().unwrap();
    let ims = rt
        .block_on(httplens::demo::ims::start(Default::default()))
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("http-client.env.json"),
        json!({"dev": {"Security": {"Auth": {"robot": {"Preset": "adobe-ims",
            "Grant Type": "Client Credentials", "Issuer": ims.base_url,
            "Client ID": "demo-web", "Client Secret": "demo-web-secret", "Scope": "AdobeID"}}}}})
        .to_string(),
    )
    .unwrap();
    std::fs::write(dir.path().join("api.http"), "GET http://127.0.0.1/\n").unwrap();
    let run = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_httplens"))
            .args(args)
            .arg("--file")
            .arg(dir.path().join("api.http"))
            .env_remove("DBUS_SESSION_BUS_ADDRESS")
            .env("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent/bus")
            .env("HTTPLENS_TOKEN_STORE", "keychain")
            .env("HTTPLENS_CONFIG_DIR", dir.path().join("config"))
            .output()
            .unwrap()
    };
    let o = run(&["login", "robot", "--env", "dev"]);
    let err = String::from_utf8_lossy(&o.stderr);
    let out = String::from_utf8_lossy(&o.stdout);
    assert_eq!(o.status.code(), Some(0), "{out}{err}");
    assert!(
        err.contains("kernel keyring") && err.contains("reboot"),
        "{err}"
    );
    assert!(out.contains("keyutils"), "{out}");
    let o = run(&["logout", "robot", "--env", "dev"]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    rt.block_on(ims.shutdown());
}

#[test]
#[ignore = "needs peers: run scripts/test-all.sh"]
fn real_browser_chromium_signs_in_through_the_https_listener() {
    // Headless Chromium is the browser: it opens the authorize URL, follows the IMS
    // double's redirect to the https loopback listener (self-signed certificate) and
    // dumps the page it lands on, which must be the success page without the code.
    let chromium = ["/usr/bin/chromium", "/usr/bin/chromium-browser"]
        .into_iter()
        .find(|p| std::path::Path::new(p).exists())
        .expect("chromium is installed (scripts/apt-packages.txt)");
    let rt = tokio::runtime::Runtime::new().unwrap();
    let ims = rt
        .block_on(httplens::demo::ims::start(httplens::demo::ims::ImsConfig {
            auto_approve: true,
            allow_http_loopback: false,
            ..Default::default()
        }))
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(
        d.join("http-client.env.json"),
        json!({"dev": {"Security": {"Auth": {"ims": {"Preset": "adobe-ims",
            "Grant Type": "Authorization Code", "Issuer": ims.base_url,
            "Client ID": "demo-web", "Scope": "openid,AdobeID,email"}}}}})
        .to_string(),
    )
    .unwrap();
    std::fs::write(
        d.join("http-client.private.env.json"),
        json!({"dev": {"Security": {"Auth": {"ims": {"Client Secret": "demo-web-secret"}}}}})
            .to_string(),
    )
    .unwrap();
    std::fs::write(d.join("api.http"), "GET http://127.0.0.1/\n").unwrap();
    let script = d.join("browser.sh");
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\nexec timeout 60 {chromium} --headless --no-sandbox --disable-gpu --disable-quic --no-first-run --disable-background-networking --disable-component-update --disable-sync --ignore-certificate-errors --user-data-dir='{ud}' --dump-dom \"$1\" > '{page}' 2>/dev/null\n",
            ud = d.join("ud").display(),
            page = d.join("page.html").display()
        ),
    )
    .unwrap();
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_httplens"))
        .args(["login", "ims", "--env", "dev", "--timeout", "60", "--file"])
        .arg(d.join("api.http"))
        .env("HTTPLENS_BROWSER", &script)
        .env("HTTPLENS_TOKEN_STORE", "file")
        .env("HTTPLENS_CONFIG_DIR", d.join("config"))
        .output()
        .unwrap();
    let out = String::from_utf8_lossy(&o.stdout);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{out}{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(out.contains("as demo.user@example.test"), "{out}");
    // Chromium writes the page when it has rendered it; wait for that.
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    let page = loop {
        let p = std::fs::read_to_string(d.join("page.html")).unwrap_or_default();
        if p.contains("</html>") {
            break p;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "chromium wrote no page"
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(page.contains("httplens received the sign-in"), "{page}");
    assert!(!page.contains("ims-code-"), "the page shows no code");
    rt.block_on(ims.shutdown());
}
