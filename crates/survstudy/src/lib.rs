//! placeholder
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
