//! Sign-in costs: a complete authorization code sign-in against the IMS double with the
//! browser step done in-process (target < 50 ms), and reading a cached token from the
//! file store, lock included (target < 5 ms).

use std::sync::Arc;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use httplens::auth::store::{FileStore, MemoryStore};
use httplens::auth::{AuthSession, SignInObserver, parse_profiles};
use httplens::demo::ims::{self, ImsConfig};

/// The browser: one GET that follows the double's auto-approve redirect to the listener.
struct InProcessBrowser(reqwest::Client);

impl SignInObserver for InProcessBrowser {
    fn authorize_url(&self, _profile: &str, url: &str, _err: Option<&str>) {
        let c = self.0.clone();
        let url = url.to_string();
        tokio::spawn(async move {
            let _ = c.get(url).send().await;
        });
    }
}

fn bench(c: &mut Criterion) {
    httplens::process::install_crypto_provider();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let server = rt
        .block_on(ims::start(ImsConfig {
            auto_approve: true,
            ..ImsConfig::default()
        }))
        .unwrap();
    let auth = serde_json::json!({"ims": {
        "Preset": "adobe-ims", "Grant Type": "Authorization Code", "Issuer": server.base_url,
        "Client ID": "demo-native", "Redirect URL": "http://127.0.0.1/callback",
        "Scope": "openid,AdobeID,email,offline_access"}});
    let (profiles, _) = parse_profiles(&auth, &|s: &str| Ok(s.to_string()));
    let dir = tempfile::tempdir().unwrap();
    let browser = Arc::new(InProcessBrowser(
        reqwest::Client::builder().no_proxy().build().unwrap(),
    ));

    let signin = AuthSession::new(
        profiles.clone(),
        Arc::new(MemoryStore::new()),
        dir.path().to_path_buf(),
    )
    .interactive(true)
    .open_browser(false)
    .timeout(Duration::from_secs(10))
    .observer(browser.clone());
    c.bench_function("sign-in (authorization code, IMS double)", |b| {
        b.iter(|| rt.block_on(signin.sign_in("ims")).unwrap())
    });

    let cached = AuthSession::new(
        profiles,
        Arc::new(FileStore::new(dir.path())),
        dir.path().to_path_buf(),
    )
    .interactive(true)
    .open_browser(false)
    .observer(browser);
    rt.block_on(cached.tokens("ims")).unwrap();
    c.bench_function("cached token from the file store", |b| {
        b.iter(|| rt.block_on(cached.tokens("ims")).unwrap())
    });
    rt.block_on(server.shutdown());
}

criterion_group! {
    name = benches;
    // Each sign-in binds a fresh listener port: keep the iteration count modest.
    config = Criterion::default().sample_size(20).measurement_time(Duration::from_secs(5));
    targets = bench
}
criterion_main!(benches);
