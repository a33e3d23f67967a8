//! One file per LSP feature: each converts protocol types at the edge and asks `ide/`.

pub mod actions;
pub mod completion;
pub mod definition;
pub mod diagnostics;
pub mod folding;
pub mod hover;
pub mod lenses;
pub mod state;
pub mod symbols;
