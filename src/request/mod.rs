//! From a parsed block plus variables to a [`RequestSpec`] (a pure step), and the curl
//! rendering of a spec.

pub mod spec;

pub use spec::*;
