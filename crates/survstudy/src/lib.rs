//! placeholder
pub mod adhoc;
pub mod analysis;
pub mod report;
pub mod derive;
pub mod error;
pub mod flow;
pub mod ingest;
pub mod plan;
pub mod synth;
// pub mod pipeline; (enabled once report::study lands)
pub mod tables;
