//! Process wiring shared by every front end: the TLS crypto provider, logging, the
//! async runtime of a command, and the one-sentence error line on stderr. Neutral:
//! it imports nothing of the crate, so any layer may call it.

/// rustls needs a process-wide crypto provider before any client is built.
pub fn install_crypto_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// Logs go to stderr only (stdout belongs to the protocol or the output), filtered by
/// `HTTPLENS_LOG`: `LEVEL` or `TARGET=LEVEL` directives separated by commas
/// (`httplens=debug,warn`), default `warn`. A value that does not read as directives is
/// said once on stderr and the default applies. (`Targets`, not `EnvFilter`: the span
/// and field filters were never needed, and `EnvFilter` brings a second regex engine.)
pub fn init_logging() {
    use tracing_subscriber::layer::SubscriberExt as _;
    use tracing_subscriber::util::SubscriberInitExt as _;
    let filter = log_filter(std::env::var("HTTPLENS_LOG").ok().as_deref());
    let _ = tracing_subscriber::registry()
        .with(
            tracing_subscriber::fmt::layer()
                .with_writer(std::io::stderr)
                .with_ansi(false),
        )
        .with(filter)
        .try_init();
}

fn log_filter(value: Option<&str>) -> tracing_subscriber::filter::Targets {
    let default = || tracing_subscriber::filter::Targets::new().with_default(tracing::Level::WARN);
    match value.map(str::trim).filter(|v| !v.is_empty()) {
        None => default(),
        Some(v) => v.parse().unwrap_or_else(|e| {
            eprintln!(
                "httplens: HTTPLENS_LOG={v:?} is not a log filter ({e}); logging warnings only"
            );
            default()
        }),
    }
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

#[cfg(test)]
mod tests {
    use super::log_filter;
    use tracing::Level;

    #[test]
    fn the_log_filter_reads_levels_and_targets() {
        let f = log_filter(None);
        assert!(f.would_enable("httplens::lsp", &Level::WARN));
        assert!(!f.would_enable("httplens::lsp", &Level::INFO));
        let f = log_filter(Some("httplens=debug,warn"));
        assert!(f.would_enable("httplens::lsp::send", &Level::DEBUG));
        assert!(!f.would_enable("hyper::client", &Level::DEBUG));
        assert!(f.would_enable("hyper::client", &Level::WARN));
        let f = log_filter(Some("trace"));
        assert!(f.would_enable("anything", &Level::TRACE));
        // Not directives: the default, not a silent "log nothing".
        let f = log_filter(Some("httplens=loud"));
        assert!(f.would_enable("httplens", &Level::WARN));
        assert!(!f.would_enable("httplens", &Level::INFO));
    }
}
