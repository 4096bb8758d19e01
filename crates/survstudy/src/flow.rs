//! The patient flow: how many rows were read, which patients were excluded
//! and why, and how many were analysed. Field names are a contract
//! (results.json).

use serde::Serialize;

use crate::derive::{Problem, ProblemKind};

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
    /// Partial dates (`1987-03`, `1987`) imputed under the plan's
    /// `partial_dates` rule, per date column (absent when none was).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub partial_dates: Vec<PartialDateCount>,
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
    /// All problems of the row, `; `-separated, with the offending cell
    /// values (see [`Flow::without_identifiers`] for the shareable form).
    pub reason: String,
    /// Every problem of the row, structured and without cell values.
    pub causes: Vec<ExclusionCause>,
}

/// One reason a row was excluded, without any cell value by construction.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ExclusionCause {
    /// Plan column of the problem, if it is about one column.
    pub column: Option<String>,
    /// What kind of problem it is.
    pub kind: ProblemKind,
    /// `column: message` without the cell value or details
    /// ([`Problem::summary`]).
    pub summary: String,
}

impl ExclusionCause {
    /// The cause of one validation problem.
    pub fn of(p: &Problem) -> ExclusionCause {
        ExclusionCause {
            column: p.column.clone(),
            kind: p.kind,
            summary: p.summary(),
        }
    }
}

impl Excluded {
    /// The excluded row of `line` with these problems.
    pub fn from_problems(line: u64, patient_id: Option<String>, problems: &[Problem]) -> Excluded {
        Excluded {
            line,
            patient_id,
            reason: problems
                .iter()
                .map(Problem::reason)
                .collect::<Vec<_>>()
                .join("; "),
            causes: problems.iter().map(ExclusionCause::of).collect(),
        }
    }

    /// The distinct cause summaries of the row, in order (no cell values).
    pub fn summaries(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for c in &self.causes {
            if !c.summary.is_empty() && !out.contains(&c.summary) {
                out.push(c.summary.clone());
            }
        }
        out
    }

    /// The row as it may be shared: line and causes only; the patient id is
    /// dropped and the reason is rebuilt from the value-free summaries.
    pub fn without_identifiers(&self) -> Excluded {
        Excluded {
            line: self.line,
            patient_id: None,
            reason: self.summaries().join("; "),
            causes: self.causes.clone(),
        }
    }
}

/// Most excluded rows listed one by one in results.json and the report;
/// past it, the first ones are listed and every row is still counted by
/// reason ([`Flow::reason_counts`]), so the outputs stay bounded at any n.
/// `tables/flow.csv` (the audit trail, one line per row like `adsl.csv`)
/// lists them all.
pub const EXCLUDED_LISTED: usize = 1000;

/// How many excluded rows share one reason ([`Flow::reason_counts`]; in
/// `results.json` as `flow.excluded_by_reason[]`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReasonCount {
    /// The value-free reason.
    pub reason: String,
    /// Excluded rows with that reason.
    pub n: usize,
}

impl Flow {
    /// Excluded rows per reason, one reason per row (its only value-free
    /// problem summary, or "more than one problem" when it has several),
    /// most frequent first; the counts add up to `excluded.len()`.
    pub fn reason_counts(&self) -> Vec<ReasonCount> {
        let mut by: std::collections::BTreeMap<String, usize> = Default::default();
        for e in &self.excluded {
            let mut seen = e.summaries();
            let key = match seen.len() {
                0 => "unspecified problem".to_string(),
                1 => seen.swap_remove(0),
                _ => "more than one problem (see the table)".to_string(),
            };
            *by.entry(key).or_insert(0) += 1;
        }
        let mut v: Vec<ReasonCount> = by
            .into_iter()
            .map(|(reason, n)| ReasonCount { reason, n })
            .collect();
        v.sort_by(|a, b| b.n.cmp(&a.n).then(a.reason.cmp(&b.reason)));
        v
    }

    /// The flow as it may be shared when identifiers are hidden: every
    /// excluded row keeps its line and value-free causes only.
    pub fn without_identifiers(&self) -> Flow {
        Flow {
            rows_read: self.rows_read,
            excluded: self
                .excluded
                .iter()
                .map(Excluded::without_identifiers)
                .collect(),
            analysed: self.analysed,
            filters: self.filters.clone(),
            partial_dates: self.partial_dates.clone(),
            notes: self.notes.clone(),
        }
    }
}

/// Partial dates imputed in one date column.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PartialDateCount {
    /// Plan column.
    pub column: String,
    /// Imputation rule (`first` or `middle`).
    pub rule: String,
    /// Cells imputed over every row read.
    pub imputed: usize,
    /// Of them, in rows of analysed patients.
    pub imputed_analysed: usize,
}

/// One filter of the analysed population and its count.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FilterStep {
    /// The filter in words (`filters[].description`).
    pub description: String,
    /// Column the filter reads.
    pub column: String,
    /// Patients left out by this filter (after the previous ones).
    pub excluded: usize,
    /// Patients remaining after it.
    pub remaining: usize,
}
