//! The language server (being written). Only this module knows about LSP.

pub fn run_stdio() -> u8 {
    crate::cli::error_line("`lsp` is not implemented yet");
    1
}
