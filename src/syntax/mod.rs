//! Parsing `.http` / `.rest` files (and ```` ```http ```` fences in Markdown) into a
//! lossless tree with byte ranges. The parser is total: any input gives a tree plus
//! diagnostics, never a panic.

pub mod ast;
pub mod curl;
mod parser;
pub mod report;
mod str;

pub use ast::*;
#[cfg(not(feature = "system-alloc"))]
pub(crate) use parser::run_on_parse_thread;
pub use parser::{
    METADATA_KEYS, parse, parse_foreign_template, parse_markdown, parse_one_pass, parse_var_expr,
};
pub use report::SourceFile;

/// Parse by file name: Markdown (`.md`, `.markdown`) reads only ```http fences.
pub fn parse_path(path: &std::path::Path, text: &str) -> Parse {
    match path.extension().and_then(|e| e.to_str()) {
        Some(e) if e.eq_ignore_ascii_case("md") || e.eq_ignore_ascii_case("markdown") => {
            parse_markdown(text)
        }
        _ => parse(text),
    }
}
