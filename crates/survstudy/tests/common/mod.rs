//! Helpers shared by the integration tests of `survstudy`.

pub mod tol;
