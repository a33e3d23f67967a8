//! httplens: send requests from `.http` files, with real OAuth sign-in.
//!
//! The pipeline, one module per step: [`syntax`] parses (total, lossless, ranges),
//! [`env`] finds environments and resolves variables, [`request`] turns a block plus
//! variables into a [`request::RequestSpec`] (pure), [`auth`] signs in and keeps tokens,
//! [`exec`] sends and renders responses. [`ide`] answers editor questions without
//! knowing LSP; [`lsp`] and [`cli`] are thin front ends over the same core.

/// Every binary that links this crate (httplens, tests, benches, fuzz targets) uses
/// mimalloc: the syntax tree is many small allocations, and the system allocator made
/// parsing a 10,000-request file about 3x slower.
#[cfg(not(feature = "system-alloc"))]
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

pub mod auth;
pub mod cli;
pub mod demo;
pub mod env;
pub mod exec;
pub mod ide;
pub mod lsp;
pub mod net;
pub mod openapi;
pub mod process;
pub mod request;
pub mod script;
pub mod secret;
pub mod syntax;
pub mod text;
