//! cox
