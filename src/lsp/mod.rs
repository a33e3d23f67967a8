//! The language server (`httplens lsp`): JSON-RPC over stdio with `tower-lsp-server`.
//! Only this module knows about LSP; the features live in `ide/`, the work in the core.
//! Stdout belongs to the protocol: nothing here prints, logs go through `tracing` to
//! stderr.

#![deny(clippy::print_stdout, clippy::dbg_macro)]

mod commands;
mod convert;
mod env_state;
mod ext;
mod guard;
mod handlers;
mod jobs;
mod memory;
mod responses;
mod send;
mod server;
mod session;
mod settings;
mod signin;
mod stdio;

use std::sync::LazyLock;
use std::time::Duration;

use crate::process;
use tokio_util::sync::CancellationToken;
use tower_lsp_server::{ClientSocket, LspService};

/// Cancelled by `shutdown`. tower-lsp keeps serving until every in-flight handler is
/// done, and a handler waiting for a client answer that never comes would keep the
/// process alive after `exit`: so stop at the latest a few seconds after `shutdown`.
static SHUTDOWN: LazyLock<CancellationToken> = LazyLock::new(CancellationToken::new);

/// tower-lsp's service around a new server, its socket, and the same server for the
/// requests the transport answers itself.
fn service() -> (LspService<server::Server>, ClientSocket, server::Server) {
    let mut shared = None;
    let (service, socket) = LspService::build(|client| {
        let server = server::Server::new(client);
        shared = Some(server.clone());
        server
    })
    .custom_method("httplens/state", server::Server::state)
    .custom_method(
        "window/workDoneProgress/cancel",
        server::Server::progress_cancel,
    )
    .finish();
    let server = shared.expect("LspService::build calls its init function");
    (service, socket, server)
}

/// Runs the server on stdin/stdout until the client exits; the process exit code.
pub fn run_stdio() -> u8 {
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            process::error_line(format!("cannot start the language server's runtime: {e}"));
            return 1;
        }
    };
    rt.block_on(async {
        let (service, socket, server) = service();
        // Our own transport (see `stdio.rs`): checked frames in, the lenses answered
        // from `server` directly, everything else through tower-lsp's service.
        let (output, writing) = stdio::write_output(tokio::io::stdout());
        let writing = tokio::spawn(writing);
        let stdin_closed = CancellationToken::new();
        tokio::spawn(memory::collect_when_idle());
        let serve = stdio::serve(
            tokio::io::stdin(),
            output,
            service,
            socket,
            &server,
            stdin_closed.clone(),
        );
        tokio::select! {
            () = serve => {}
            () = async {
                SHUTDOWN.cancelled().await;
                tokio::time::sleep(Duration::from_secs(3)).await;
            } => tracing::info!("stopping 3 s after shutdown"),
            // The client is gone: nobody will read the results of work in flight.
            () = async {
                stdin_closed.cancelled().await;
                tokio::time::sleep(Duration::from_millis(500)).await;
            } => tracing::info!("stopping: the client closed stdin"),
        }
        // Let the last frames (the `shutdown` answer) reach stdout.
        let _ = tokio::time::timeout(Duration::from_millis(500), writing).await;
    });
    // The stdin reader sits in a blocking read: do not wait for it after `exit`.
    rt.shutdown_background();
    0
}
