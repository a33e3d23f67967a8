//! The demo's provider (the Adobe IMS double) and its API, on 127.0.0.1, for tests
//! that need a real sign-in without the demo command.

/// Starts the provider (auto-approving sign-ins) and the API on free ports; they run
/// until the returned runtime is dropped. Returns `(runtime, provider URL, API URL)`.
pub fn start_ims_and_api() -> (tokio::runtime::Runtime, String, String) {
    use httplens::demo::{api, ims};
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let (provider, api_url) = rt.block_on(async {
        httplens::process::install_crypto_provider();
        let ims = ims::start(ims::ImsConfig {
            auto_approve: true,
            ..Default::default()
        })
        .await
        .unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let api = api::serve(
            listener,
            api::ApiConfig {
                port: 0,
                provider: ims.base_url.clone(),
                api_keys: vec!["demo-web".into()],
            },
        )
        .unwrap();
        let urls = (ims.base_url.clone(), api.base_url.clone());
        // Kept running until the runtime is dropped.
        std::mem::forget(ims);
        std::mem::forget(api);
        urls
    });
    (rt, provider, api_url)
}
