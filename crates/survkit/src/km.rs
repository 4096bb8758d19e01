//! km
