//! The demo's protected REST API: a small orders/products store in the spirit of
//! Adobe Commerce (`/V1/products`, `/V1/orders`, `/V1/customers/me`, store views
//! chosen with the `Store` header), served on 127.0.0.1. Every call needs a Bearer
//! token issued by the demo provider and an `x-api-key`; the API checks the token the
//! way a real resource server does, by asking the provider's userinfo endpoint.
//!
//! Test hook: `HTTPLENS_DEMO_API_DELAY_MS` delays every protected call by that many
//! milliseconds (tests that need requests in flight, such as Ctrl-C during the sends).

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{Value, json};

/// How the API is set up.
#[derive(Debug, Clone)]
pub struct ApiConfig {
    /// 0: an ephemeral port.
    pub port: u16,
    /// `http://127.0.0.1:PORT` of the provider (its userinfo endpoint checks tokens).
    pub provider: String,
    /// The `x-api-key` values accepted (the client IDs of the demo credentials).
    pub api_keys: Vec<String>,
}

struct Shared {
    cfg: ApiConfig,
    http: reqwest::Client,
    /// Calls that carried a valid token (tests and the demo's summary read it).
    authorized: AtomicU32,
    rejected: AtomicU32,
}

type St = Arc<Shared>;

/// A running API. Call [`ApiHandle::shutdown`] to stop it.
pub struct ApiHandle {
    /// `http://127.0.0.1:PORT`.
    pub base_url: String,
    pub addr: SocketAddr,
    shared: St,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<()>,
}

impl ApiHandle {
    /// Calls answered with data (a valid token) and calls refused (401/403).
    pub fn counts(&self) -> (u32, u32) {
        (
            self.shared.authorized.load(Ordering::Relaxed),
            self.shared.rejected.load(Ordering::Relaxed),
        )
    }

    pub async fn shutdown(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        let _ = (&mut self.task).await;
    }
}

/// Serve the API on an already bound listener (the caller picks the port).
/// What the demo API answers: `(method, path)`, the paths of the Adobe Commerce REST
/// API as `examples/adobe-commerce/commerce.openapi.yaml` describes them (under `/V1`).
pub const ROUTES: [(&str, &str); 6] = [
    ("GET", "/V1/products"),
    ("GET", "/V1/products/{sku}"),
    ("GET", "/V1/orders"),
    ("GET", "/V1/orders/{id}"),
    ("GET", "/V1/customers/me"),
    ("GET", "/V1/store/storeViews"),
];

pub fn serve(listener: tokio::net::TcpListener, cfg: ApiConfig) -> std::io::Result<ApiHandle> {
    let addr = listener.local_addr()?;
    let http = reqwest::Client::builder()
        // Only the loopback provider is ever asked; a proxy must not get in the way.
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(std::time::Duration::from_secs(10))
        .build()
        .unwrap_or_default();
    let shared = Arc::new(Shared {
        cfg,
        http,
        authorized: AtomicU32::new(0),
        rejected: AtomicU32::new(0),
    });
    // The paths of ROUTES, each with its handler (a test checks ROUTES against the
    // example's spec).
    let app = Router::new()
        .route("/", get(index))
        .route(ROUTES[0].1, get(products))
        .route(ROUTES[1].1, get(product))
        .route(ROUTES[2].1, get(orders))
        .route(ROUTES[3].1, get(order))
        .route(ROUTES[4].1, get(me))
        .route(ROUTES[5].1, get(store_views))
        .with_state(shared.clone());
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        let _ = axum::serve(listener, app)
            .with_graceful_shutdown(async {
                let _ = rx.await;
            })
            .await;
    });
    Ok(ApiHandle {
        base_url: format!("http://127.0.0.1:{}", addr.port()),
        addr,
        shared,
        shutdown: Some(tx),
        task,
    })
}

/// Commerce-style error body: `{"message": ...}`.
fn error(status: StatusCode, message: &str) -> Response {
    let mut r = (status, Json(json!({ "message": message }))).into_response();
    if status == StatusCode::UNAUTHORIZED {
        r.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Bearer realm=\"httplens-demo\", error=\"invalid_token\""),
        );
    }
    r
}

/// Who the caller is: the provider's userinfo for the Bearer token.
struct Caller {
    /// `None` for a service (client credentials) token.
    email: Option<String>,
    name: Option<String>,
    sub: String,
}

/// Check `Authorization: Bearer` with the provider and `x-api-key`; the error is the
/// response to send (a large `Err` is fine: it is built at most once per request).
#[allow(clippy::result_large_err)]
async fn authorize(st: &Shared, headers: &HeaderMap) -> Result<Caller, Response> {
    if let Some(ms) = std::env::var("HTTPLENS_DEMO_API_DELAY_MS")
        .ok()
        .and_then(|v| v.parse::<u64>().ok())
    {
        tokio::time::sleep(std::time::Duration::from_millis(ms)).await;
    }
    let reject = |status, msg: &str| {
        st.rejected.fetch_add(1, Ordering::Relaxed);
        Err(error(status, msg))
    };
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|h| {
            let (scheme, rest) = h.split_once(' ')?;
            scheme.eq_ignore_ascii_case("bearer").then(|| rest.trim())
        })
        .filter(|t| !t.is_empty());
    let Some(token) = token else {
        return reject(
            StatusCode::UNAUTHORIZED,
            "The consumer isn't authorized to access this resource: send `Authorization: Bearer {{$auth.token(\"demo\")}}`.",
        );
    };
    let resp = st
        .http
        .get(format!("{}/ims/userinfo/v2", st.cfg.provider))
        .bearer_auth(token)
        .send()
        .await;
    let info: Value = match resp {
        Ok(r) if r.status().is_success() => r.json().await.unwrap_or_default(),
        Ok(_) => {
            return reject(
                StatusCode::UNAUTHORIZED,
                "The access token is invalid or expired.",
            );
        }
        Err(_) => {
            return reject(
                StatusCode::SERVICE_UNAVAILABLE,
                "The sign-in provider cannot be reached to check the token.",
            );
        }
    };
    let key = headers.get("x-api-key").and_then(|v| v.to_str().ok());
    match key {
        None => {
            return reject(
                StatusCode::FORBIDDEN,
                "Missing `x-api-key` header: send your credential's Client ID.",
            );
        }
        Some(k) if !st.cfg.api_keys.iter().any(|a| a == k) => {
            return reject(
                StatusCode::FORBIDDEN,
                "The `x-api-key` is not a Client ID this API knows.",
            );
        }
        Some(_) => {}
    }
    st.authorized.fetch_add(1, Ordering::Relaxed);
    let s = |k: &str| info.get(k).and_then(Value::as_str).map(str::to_string);
    Ok(Caller {
        email: s("email"),
        name: s("name"),
        sub: s("sub").unwrap_or_default(),
    })
}

/// The store view from the `Store` header (`default` when absent).
#[allow(clippy::result_large_err)]
fn store_view(headers: &HeaderMap) -> Result<&'static str, Response> {
    match headers
        .get("store")
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
    {
        None | Some("") | Some("default") => Ok("default"),
        Some("fr") => Ok("fr"),
        Some("de") => Ok("de"),
        Some(_) => Err(error(
            StatusCode::BAD_REQUEST,
            "Unknown store view in the `Store` header (known: default, fr, de).",
        )),
    }
}

const PRODUCTS: &[(&str, &str, &str, &str, f64, u32)] = &[
    // sku, name (default), name (fr), name (de), price, qty
    (
        "MH01",
        "Chaz Kangeroo Hoodie",
        "Sweat Chaz Kangourou",
        "Chaz Kapuzenpulli",
        52.0,
        120,
    ),
    (
        "MJ01",
        "Beaumont Summit Kit",
        "Veste Beaumont Summit",
        "Beaumont-Gipfeljacke",
        42.0,
        35,
    ),
    (
        "WT09",
        "Breathe-Easy Tank",
        "Débardeur Respire",
        "Atmungsaktives Top",
        34.0,
        80,
    ),
    (
        "24-MB01",
        "Joust Duffle Bag",
        "Sac Joust",
        "Joust-Reisetasche",
        34.0,
        12,
    ),
    (
        "24-UG06",
        "Affirm Water Bottle",
        "Gourde Affirm",
        "Affirm-Trinkflasche",
        7.0,
        300,
    ),
];

fn product_json(p: &(&str, &str, &str, &str, f64, u32), view: &str) -> Value {
    let name = match view {
        "fr" => p.2,
        "de" => p.3,
        _ => p.1,
    };
    json!({
        "sku": p.0, "name": name, "price": p.4, "status": 1, "type_id": "simple",
        "extension_attributes": {"stock_item": {"qty": p.5, "is_in_stock": p.5 > 0}},
        "store_view": view,
    })
}

async fn index() -> Json<Value> {
    Json(json!({
        "name": "httplens demo API",
        "endpoints": ["/V1/products", "/V1/products/{sku}", "/V1/orders", "/V1/orders/{id}",
                      "/V1/customers/me", "/V1/store/storeViews"],
        "auth": "Authorization: Bearer <token from the demo provider>, x-api-key: <client id>",
    }))
}

async fn products(
    State(st): State<St>,
    headers: HeaderMap,
    Query(q): Query<std::collections::HashMap<String, String>>,
) -> Response {
    if let Err(r) = authorize(&st, &headers).await {
        return r;
    }
    let view = match store_view(&headers) {
        Ok(v) => v,
        Err(r) => return r,
    };
    let size = q
        .get("searchCriteria[pageSize]")
        .or_else(|| q.get("pageSize"))
        .and_then(|s| s.parse::<usize>().ok())
        .unwrap_or(PRODUCTS.len());
    let items: Vec<Value> = PRODUCTS
        .iter()
        .take(size)
        .map(|p| product_json(p, view))
        .collect();
    Json(json!({"items": items, "total_count": PRODUCTS.len()})).into_response()
}

async fn product(State(st): State<St>, headers: HeaderMap, Path(sku): Path<String>) -> Response {
    if let Err(r) = authorize(&st, &headers).await {
        return r;
    }
    let view = match store_view(&headers) {
        Ok(v) => v,
        Err(r) => return r,
    };
    match PRODUCTS.iter().find(|p| p.0.eq_ignore_ascii_case(&sku)) {
        Some(p) => Json(product_json(p, view)).into_response(),
        None => error(
            StatusCode::NOT_FOUND,
            "The product that was requested doesn't exist. Verify the product and try again.",
        ),
    }
}

fn order_json(id: u32, email: &str) -> Option<Value> {
    let (status, lines): (&str, &[(&str, u32)]) = match id {
        1001 => ("complete", &[("MH01", 1), ("24-UG06", 2)]),
        1002 => ("processing", &[("MJ01", 1)]),
        1003 => ("pending", &[("WT09", 2), ("24-MB01", 1)]),
        _ => return None,
    };
    let items: Vec<Value> = lines
        .iter()
        .filter_map(|(sku, qty)| {
            let p = PRODUCTS.iter().find(|p| p.0 == *sku)?;
            Some(
                json!({"sku": sku, "name": p.1, "qty_ordered": qty, "price": p.4,
                        "row_total": p.4 * f64::from(*qty)}),
            )
        })
        .collect();
    let total: f64 = items.iter().filter_map(|i| i["row_total"].as_f64()).sum();
    Some(json!({
        "entity_id": id, "increment_id": format!("00000{id}"), "status": status,
        "customer_email": email, "grand_total": total, "order_currency_code": "USD",
        "items": items,
    }))
}

async fn orders(State(st): State<St>, headers: HeaderMap) -> Response {
    let caller = match authorize(&st, &headers).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    let email = caller.email.as_deref().unwrap_or("guest@example.test");
    let items: Vec<Value> = [1001, 1002, 1003]
        .iter()
        .filter_map(|id| order_json(*id, email))
        .collect();
    Json(json!({"items": items, "total_count": items.len()})).into_response()
}

async fn order(State(st): State<St>, headers: HeaderMap, Path(id): Path<String>) -> Response {
    let caller = match authorize(&st, &headers).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    let email = caller.email.as_deref().unwrap_or("guest@example.test");
    match id.parse::<u32>().ok().and_then(|i| order_json(i, email)) {
        Some(o) => Json(o).into_response(),
        None => error(
            StatusCode::NOT_FOUND,
            "The entity that was requested doesn't exist. Verify the entity and try again.",
        ),
    }
}

async fn me(State(st): State<St>, headers: HeaderMap) -> Response {
    let caller = match authorize(&st, &headers).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    let Some(email) = caller.email else {
        // A client-credentials token stands for the integration, not a person.
        return error(
            StatusCode::BAD_REQUEST,
            "`customers/me` needs a user's token; this one was issued to a service (client credentials).",
        );
    };
    let name = caller.name.unwrap_or_default();
    let (first, last) = name.split_once(' ').unwrap_or((name.as_str(), ""));
    Json(json!({
        "id": 42, "email": email, "firstname": first, "lastname": last,
        "store_id": 1, "website_id": 1, "ims_sub": caller.sub,
    }))
    .into_response()
}

async fn store_views(State(st): State<St>, headers: HeaderMap) -> Response {
    if let Err(r) = authorize(&st, &headers).await {
        return r;
    }
    Json(json!([
        {"id": 1, "code": "default", "name": "Default Store View", "website_id": 1},
        {"id": 2, "code": "fr", "name": "French Store View", "website_id": 1},
        {"id": 3, "code": "de", "name": "German Store View", "website_id": 1},
    ]))
    .into_response()
}
