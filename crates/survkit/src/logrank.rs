//! logrank
