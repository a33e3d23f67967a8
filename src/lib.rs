//! httplens: send requests from `.http` files, with real OAuth sign-in.
//!
//! The pipeline, one module per step: [`syntax`] parses (total, lossless, ranges),
//! [`env`] finds environments and resolves variables, [`request`] turns a block plus
//! variables into a [`request::RequestSpec`] (pure), [`auth`] signs in and keeps tokens,
//! [`exec`] sends and renders responses. [`ide`] answers editor questions without
//! knowing LSP; [`lsp`] and [`cli`] are thin front ends over the same core.

pub mod auth;
pub mod cli;
pub mod demo;
pub mod env;
pub mod exec;
pub mod ide;
pub mod lsp;
pub mod request;
pub mod secret;
pub mod syntax;
pub mod text;
