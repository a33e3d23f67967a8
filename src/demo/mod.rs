//! `httplens demo`: everything a new user needs to see sign-in and a signed request
//! work with no account anywhere. [`ims`] is a local IMS-like OAuth provider (with a
//! one-click login page), [`api`] a small Commerce-like API that accepts only its
//! tokens, [`scaffold`] writes a ready `.http` workspace pointing at both, and
//! [`robot`] signs in as the demo user when no browser can be opened. The CLI front
//! end (`cli/demo.rs`) puts them together with the same engine as `httplens run`.

pub mod api;
pub mod ims;
pub mod robot;
pub mod scaffold;

use crate::process;

/// Default port of the provider (a free one is used when it is taken).
pub const PROVIDER_PORT: u16 = 8787;
/// Default port of the API.
pub const API_PORT: u16 = 8788;

/// The two running servers.
pub struct DemoServers {
    pub ims: ims::ImsHandle,
    pub api: api::ApiHandle,
}

impl DemoServers {
    pub fn provider_url(&self) -> &str {
        &self.ims.base_url
    }
    pub fn api_url(&self) -> &str {
        &self.api.base_url
    }
    /// Stop both (the API first: it asks the provider about tokens).
    pub async fn shutdown(self) {
        self.api.shutdown().await;
        self.ims.shutdown().await;
    }
}

/// Start the provider and the API on 127.0.0.1, on the given ports or, when one is
/// taken (or 0), a free one.
pub async fn start_servers(provider_port: u16, api_port: u16) -> std::io::Result<DemoServers> {
    // The API's HTTP client needs the process-wide TLS provider (tests call this too).
    process::install_crypto_provider();
    let cfg = |port| ims::ImsConfig {
        port,
        // The demo's redirect is http on loopback (no certificate warning).
        allow_http_loopback: true,
        ..ims::ImsConfig::default()
    };
    let ims = match ims::start(cfg(provider_port)).await {
        Ok(h) => h,
        Err(_) if provider_port != 0 => ims::start(cfg(0)).await?,
        Err(e) => return Err(e),
    };
    let listener = match tokio::net::TcpListener::bind(("127.0.0.1", api_port)).await {
        Ok(l) => l,
        Err(_) if api_port != 0 => tokio::net::TcpListener::bind(("127.0.0.1", 0)).await?,
        Err(e) => return Err(e),
    };
    let api = api::serve(
        listener,
        api::ApiConfig {
            port: api_port,
            provider: ims.base_url.clone(),
            api_keys: ims::ImsConfig::default()
                .clients
                .iter()
                .map(|c| c.client_id.clone())
                .collect(),
        },
    )?;
    Ok(DemoServers { ims, api })
}
