//! The `httplens` binary: flags, logging, dispatch to the CLI or the language server.

fn main() -> std::process::ExitCode {
    httplens::cli::main()
}
