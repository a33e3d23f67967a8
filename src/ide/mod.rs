//! ide (being written)
