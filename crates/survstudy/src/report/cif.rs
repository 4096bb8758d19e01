//! Compatibility path of the cumulative-incidence and PH-residual figures,
//! which now live in [`crate::report::chart::cif`] and
//! [`crate::report::chart::ph_residuals`].

pub use super::chart::cif::*;
pub use super::chart::ph_residuals::*;
