//! `httplens demo`: a local IMS-like OAuth provider and a small API (being written).

pub mod ims;
