//! The language server (`httplens lsp`): JSON-RPC over stdio with `tower-lsp-server`.
//! Only this module knows about LSP; the features live in `ide/`, the work in the core.
//! Stdout belongs to the protocol: nothing here prints, logs go through `tracing` to
//! stderr.

#![deny(clippy::print_stdout, clippy::dbg_macro)]

mod commands;
mod convert;
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
mod workspace;

use std::sync::LazyLock;
use std::time::Duration;

use tokio_util::sync::CancellationToken;
use tower_lsp_server::{LspService, Server as Transport};

/// Cancelled by `shutdown`. tower-lsp keeps serving until every in-flight handler is
/// done, and a handler waiting for a client answer that never comes would keep the
/// process alive after `exit`: so stop at the latest a few seconds after `shutdown`.
static SHUTDOWN: LazyLock<CancellationToken> = LazyLock::new(CancellationToken::new);

/// Runs the server on stdin/stdout until the client exits; the process exit code.
pub fn run_stdio() -> u8 {
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            crate::cli::error_line(format!("cannot start the language server's runtime: {e}"));
            return 1;
        }
    };
    rt.block_on(async {
        // Big answers kept as JSON go to stdout without tower-lsp's `Value` round trip.
        let splices = std::sync::Arc::new(stdio::Splices::default());
        let for_server = splices.clone();
        let (service, socket) =
            LspService::build(move |client| server::Server::new(client, for_server.clone()))
                .custom_method("httplens/state", server::Server::state)
                .custom_method(
                    "window/workDoneProgress/cancel",
                    server::Server::progress_cancel,
                )
                .finish();
        // Frames pass a checker first (see `stdio.rs`); tower-lsp reads the checked
        // stream from a pipe.
        let (to_server, from_filter) = tokio::io::duplex(1 << 20);
        let (server_out, to_stdout) = tokio::io::duplex(1 << 20);
        let (answers_tx, answers_rx) = tokio::sync::mpsc::unbounded_channel();
        let stdin_closed = CancellationToken::new();
        tokio::spawn(stdio::filter_frames(
            tokio::io::stdin(),
            to_server,
            answers_tx,
            stdin_closed.clone(),
        ));
        let output = tokio::spawn(stdio::merge_output(
            to_stdout,
            answers_rx,
            tokio::io::stdout(),
            splices,
        ));
        tokio::spawn(memory::collect_when_idle());
        // Sends wait on the network: allow many at once, so that a few hanging ones
        // never hold up lenses, hovers or the `$/cancelRequest` that would stop them.
        let serve = Transport::new(from_filter, server_out, socket)
            .concurrency_level(64)
            .serve(service);
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
        let _ = tokio::time::timeout(Duration::from_millis(500), output).await;
    });
    // The stdin reader sits in a blocking read: do not wait for it after `exit`.
    rt.shutdown_background();
    0
}
