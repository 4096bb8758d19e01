//! Typed errors of the input side: reading tables, loading plans and
//! writing derived data sets. Every error carries enough context (file,
//! line, column, value) for a user to find the problem.
//!
//! Data problems found while validating a cohort are not errors of this
//! module: they are collected, all of them, in a
//! [`ValidationReport`](crate::derive::ValidationReport).

use std::path::PathBuf;

/// Failure to read an input table (CSV or Excel).
#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    /// The file could not be opened or read.
    #[error("{file}: cannot read file: {source}")]
    Io {
        /// The file.
        file: String,
        /// The operating system's error.
        #[source]
        source: std::io::Error,
    },
    /// The file extension is not one survstudy reads.
    #[error("{file}: unsupported file type '{extension}' (expected .csv, .tsv, .txt, .xlsx, .xlsm, .xls, .xlsb, .ods or .parquet)")]
    UnsupportedFormat {
        /// The file.
        file: String,
        /// Its extension.
        extension: String,
    },
    /// A CSV record could not be parsed.
    #[error("{file}: line {line}: malformed CSV: {message}")]
    Csv {
        /// The file.
        file: String,
        /// 1-based line of the record.
        line: u64,
        /// The CSV reader's message.
        message: String,
    },
    /// A CSV record is not valid UTF-8.
    #[error("{file}: line {line}: text is not valid UTF-8 (save the file as UTF-8)")]
    NotUtf8 {
        /// The file.
        file: String,
        /// 1-based line of the record.
        line: u64,
    },
    /// A data row has more non-blank cells than the header has columns.
    #[error("{file}: line {line}: row has {found} cells but the header has {expected} columns; cell {column} is '{value}'")]
    RaggedRow {
        /// The file.
        file: String,
        /// 1-based line of the row.
        line: u64,
        /// Columns of the header.
        expected: usize,
        /// Cells of the row.
        found: usize,
        /// 1-based position of the first non-blank cell past the header.
        column: usize,
        /// That cell's text (cut to 80 characters).
        value: String,
    },
    /// The workbook could not be opened or a sheet could not be read.
    #[error("{file}: cannot read workbook: {message}")]
    Excel {
        /// The workbook.
        file: String,
        /// The workbook reader's message.
        message: String,
    },
    /// A Parquet file could not be read (not Parquet, corrupt, a nested
    /// column, a cell that is not UTF-8 text); the message names the row
    /// and column when there is one.
    #[error("{file}: {message}")]
    Parquet {
        /// The Parquet file.
        file: String,
        /// What is wrong, with the row and column when there is one.
        message: String,
    },
    /// The requested sheet does not exist.
    #[error("{file}: sheet '{sheet}' not found; sheets are: {available}")]
    SheetNotFound {
        /// The workbook.
        file: String,
        /// The sheet asked for.
        sheet: String,
        /// The workbook's sheets, comma-separated.
        available: String,
    },
    /// The file (or sheet) has no header row.
    #[error("{file}: no header row (the file or sheet is empty)")]
    Empty {
        /// The file.
        file: String,
    },
    /// The file has more data rows than a study can hold
    /// ([`crate::derive::MAX_ROWS`]).
    #[error("{file}: {rows} data rows; a study reads at most {limit} (split the file)")]
    TooManyRows {
        /// The file.
        file: String,
        /// Its data rows.
        rows: usize,
        /// The most rows a study reads.
        limit: usize,
    },
}

/// Failure to load or validate a study plan.
#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    /// The TOML text is malformed or does not match the plan schema.
    #[error("{source_name}: invalid plan TOML: {message}")]
    Toml {
        /// The plan file (or `built-in plan`).
        source_name: String,
        /// The TOML parser's message.
        message: String,
    },
    /// The plan parsed but is inconsistent (unknown column, bad level list, ...).
    #[error("{source_name}: plan {section}: {message}")]
    Invalid {
        /// The plan file (or `built-in plan`).
        source_name: String,
        /// Where in the plan, e.g. `groupings[emd_at_infusion]`.
        section: String,
        /// What is wrong.
        message: String,
    },
    /// Several problems in the plan; every one is listed.
    #[error("{source_name}: {} problems in the plan:\n{}", problems.len(), problems.iter().map(|p| format!("  {}: {}", p.section, p.message)).collect::<Vec<_>>().join("\n"))]
    InvalidMany {
        /// The plan file (or `built-in plan`).
        source_name: String,
        /// Every problem, in plan order.
        problems: Vec<crate::plan::PlanProblem>,
    },
    /// The plan file could not be read.
    #[error("{path}: cannot read plan: {source}")]
    Io {
        /// The plan file.
        path: PathBuf,
        /// The operating system's error.
        #[source]
        source: std::io::Error,
    },
    /// The plan could not be turned into TOML text.
    #[error("cannot write plan as TOML: {message}")]
    Serialize {
        /// The TOML writer's message.
        message: String,
    },
}

/// Failure to write a derived data set.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    /// The file could not be created or written.
    #[error("{path}: cannot write: {source}")]
    Io {
        /// The output file.
        path: PathBuf,
        /// The operating system's error.
        #[source]
        source: std::io::Error,
    },
    /// A CSV record could not be written.
    #[error("{path}: cannot write CSV: {message}")]
    Csv {
        /// The output file.
        path: PathBuf,
        /// The CSV writer's message.
        message: String,
    },
}
