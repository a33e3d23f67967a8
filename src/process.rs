//! Process wiring shared by every front end: the TLS crypto provider, logging, the
//! async runtime of a command, and the one-sentence error line on stderr. Neutral:
//! it imports nothing of the crate, so any layer may call it.

/// rustls needs a process-wide crypto provider before any client is built.
pub fn install_crypto_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// Logs go to stderr only (stdout belongs to the protocol or the output), filtered by
/// `HTTPLENS_LOG` (`tracing` syntax), default `warn`.
pub fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("HTTPLENS_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(false)
        .try_init();
}

/// The async runtime of a CLI command (two workers: the machine may have two cores);
/// `None` after saying why it could not start.
pub fn runtime() -> Option<tokio::runtime::Runtime> {
    match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => Some(rt),
        Err(e) => {
            error_line(format!("cannot start the async runtime: {e}"));
            None
        }
    }
}

/// Print one clear sentence to stderr (the error channel of every command).
pub fn error_line(msg: impl std::fmt::Display) {
    eprintln!("httplens: {msg}");
}
