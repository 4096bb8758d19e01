//! # survstudy — a clinical survival study, end to end
//!
//! Data flow one way, one module per stage:
//!
//! | module | stage |
//! |---|---|
//! | [`ingest`] | read a chart-review export (CSV, Excel) into raw rows with line numbers |
//! | [`plan`] | the study plan (TOML): columns, checks, endpoints, groupings, analyses; the built-in post-CAR-T plan |
//! | [`derive`](mod@derive) | validate every row (all problems reported), derive ADaM-style endpoints and groupings |
//! | [`flow`] | the patient flow (rows read, excluded with reasons, analysed) |
//! | [`analysis`] | every analysis of the plan, collected in one serialisable `Results` |
//! | [`report`] | the self-contained HTML report, SVG/PNG figures |
//! | [`tables`] | CSV versions of the result tables |
//! | [`pipeline`] | `survstudy run`: plan + data → outputs |
//! | [`synth`] | the calibrated synthetic demo cohort |
//! | [`adhoc`] | `survstudy km/logrank/cox/zph/cif/rmst` on a CSV file |
//!
//! The statistics live in the `survkit` crate.

#![deny(missing_docs)]

pub mod adhoc;
pub mod analysis;
pub mod derive;
pub mod error;
pub mod flow;
pub mod ingest;
pub mod pipeline;
pub mod plan;
pub mod report;
pub mod synth;
pub mod tables;
