//! The figure kit: analysis-agnostic SVG renderers that take plain input
//! structs. Shared pieces ([`style`], [`scale`] and the crate-internal
//! `axes`, `steps`, `svg`) and one file per figure kind ([`km`], [`cif`],
//! [`ph_residuals`], [`forest`], [`flow`]); [`png`] rasterises any of them.
//! Nothing here imports `crate::analysis`.

pub(crate) mod axes;
pub mod cif;
pub mod flow;
pub mod forest;
pub(crate) mod frame;
pub mod km;
pub(crate) mod legend;
pub mod love;
pub mod ph_residuals;
pub mod png;
pub(crate) mod risk_table;
pub mod scale;
pub(crate) mod steps;
pub mod style;
pub(crate) mod svg;
