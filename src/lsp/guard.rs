//! Panic safety: a panic inside a handler fails that one request (or notification),
//! logs why, and leaves the server running.

use std::future::Future;
use std::panic::AssertUnwindSafe;

use futures_util::FutureExt;
use tower_lsp_server::jsonrpc::{Error, ErrorCode, Result};

fn payload_text(p: &(dyn std::any::Any + Send)) -> &str {
    p.downcast_ref::<&str>()
        .copied()
        .or_else(|| p.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("a panic")
}

/// Runs a request handler; a panic becomes an internal error for this request only.
pub async fn request<T>(what: &str, fut: impl Future<Output = Result<T>>) -> Result<T> {
    match AssertUnwindSafe(fut).catch_unwind().await {
        Ok(r) => r,
        Err(p) => {
            tracing::error!("{what} failed: {}", payload_text(&*p));
            Err(Error {
                code: ErrorCode::InternalError,
                message: format!("httplens failed while answering {what}; the server keeps running (details in its log).").into(),
                data: None,
            })
        }
    }
}

/// Runs a notification handler; a panic is logged and swallowed.
pub async fn notification(what: &str, fut: impl Future<Output = ()>) {
    if let Err(p) = AssertUnwindSafe(fut).catch_unwind().await {
        tracing::error!("{what} failed: {}", payload_text(&*p));
    }
}
