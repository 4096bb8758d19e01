//! The patient flow: how many rows were read, which patients were excluded
//! and why, and how many were analysed. Field names are a contract
//! (results.json).

use serde::Serialize;

/// Patient flow through validation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Default)]
pub struct Flow {
    /// Data rows read from the input (blank rows are not counted; the table
    /// lists their lines separately).
    pub rows_read: usize,
    /// Rows excluded (only with `ExcludePolicy::ExcludeInvalid`), one entry
    /// per row, in file order.
    pub excluded: Vec<Excluded>,
    /// Patients kept for analysis (`rows_read - excluded.len()`).
    pub analysed: usize,
    /// The plan's filters of the analysed population, in order, with the
    /// patients each left out (they are also listed in `excluded`).
    pub filters: Vec<FilterStep>,
    /// What the reader of the results must know about the input, in words:
    /// columns absent by the plan's choice (`presence = "may_be_absent"`)
    /// and what was skipped because of them, endpoints without events.
    /// Also printed on stderr by `survstudy run`.
    pub notes: Vec<String>,
}

/// One excluded row and every reason it was excluded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Excluded {
    /// Line in the input file (header = line 1).
    pub line: u64,
    /// Patient id as written in the file; `None` when the cell is blank.
    pub patient_id: Option<String>,
    /// All problems of the row, `; `-separated.
    pub reason: String,
}

/// One filter of the analysed population and its count.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FilterStep {
    pub description: String,
    pub column: String,
    /// Patients left out by this filter (after the previous ones).
    pub excluded: usize,
    /// Patients remaining after it.
    pub remaining: usize,
}
