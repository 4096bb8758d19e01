//! Validation problems and the report that lists all of them.

use std::fmt;

use serde::Serialize;

/// What kind of problem was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ProblemKind {
    /// The date format (plan or `--date-format`) is unusable.
    BadDateFormat,
    /// A required column is not in the header.
    MissingColumn,
    /// Several headers match one plan column.
    DuplicateColumn,
    /// A required cell is blank.
    MissingValue,
    /// A date cell could not be parsed.
    BadDate,
    /// A yes/no cell could not be parsed.
    BadYesNo,
    /// A number cell could not be parsed.
    BadNumber,
    /// A category cell is not one of the allowed levels.
    BadCategory,
    /// The patient id occurs on more than one row.
    DuplicateId,
    /// A date-order check of the plan failed.
    DateOrder,
    /// An endpoint's event or censoring date is before its start date.
    BeforeStart,
    /// A cross grouping has no level for this combination of values.
    UncoveredCombination,
    /// An endpoint's status column and its event date disagree (status says
    /// event without a date, or a date without the status).
    StatusConflict,
}

/// One problem in the input, with its location and offending value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Problem {
    pub file: String,
    /// Line in the file (header = line 1); `None` when the problem is not
    /// tied to a line (e.g. a bad date format option).
    pub line: Option<u64>,
    pub patient_id: Option<String>,
    /// Plan column name (canonical spelling).
    pub column: Option<String>,
    /// The offending cell text as written.
    pub value: Option<String>,
    pub kind: ProblemKind,
    pub message: String,
}

impl Problem {
    /// Short form used as an exclusion reason: `column 'value': message`.
    pub fn reason(&self) -> String {
        let mut s = String::new();
        if let Some(c) = &self.column {
            s.push_str(c);
            if let Some(v) = &self.value {
                s.push_str(&format!(" '{v}'"));
            }
            s.push_str(": ");
        }
        s.push_str(&self.message);
        s
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file)?;
        if let Some(l) = self.line {
            write!(f, ": line {l}")?;
        }
        if let Some(p) = &self.patient_id {
            write!(f, ": patient {p}")?;
        }
        if let Some(c) = &self.column {
            write!(f, ": column {c}")?;
        }
        if let Some(v) = &self.value {
            write!(f, ": value '{v}'")?;
        }
        write!(f, ": {}", self.message)
    }
}

/// Every problem found in an input table. Its `Display` prints one line per
/// problem.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ValidationReport {
    pub file: String,
    /// Data rows read.
    pub rows_read: usize,
    /// Problems in file order (table-level problems first).
    pub problems: Vec<Problem>,
    /// One line per column with many problems of one kind, e.g. the date
    /// format a column's cells look like and the `--date-format` to use.
    pub summaries: Vec<String>,
}

/// Problems printed per column before the rest are only counted.
pub const PROBLEMS_SHOWN_PER_COLUMN: usize = 20;

impl ValidationReport {
    /// Problems on a given line.
    pub fn on_line(&self, line: u64) -> impl Iterator<Item = &Problem> {
        self.problems.iter().filter(move |p| p.line == Some(line))
    }

    /// Whether some problem is about `(line, column)`.
    pub fn has(&self, line: u64, column: &str) -> bool {
        self.on_line(line)
            .any(|p| p.column.as_deref() == Some(column))
    }
}

impl fmt::Display for ValidationReport {
    /// The summaries, then every problem, at most
    /// [`PROBLEMS_SHOWN_PER_COLUMN`] per column followed by a count of the
    /// others.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut lines: Vec<String> = self
            .summaries
            .iter()
            .map(|s| format!("{}: {s}", self.file))
            .collect();
        let mut shown: std::collections::BTreeMap<Option<&str>, usize> = Default::default();
        for p in &self.problems {
            let k = shown.entry(p.column.as_deref()).or_default();
            *k += 1;
            if *k <= PROBLEMS_SHOWN_PER_COLUMN || p.column.is_none() {
                lines.push(p.to_string());
            }
        }
        for (c, n) in shown {
            if let (Some(c), true) = (c, n > PROBLEMS_SHOWN_PER_COLUMN) {
                lines.push(format!(
                    "{}: column {c}: ... and {} more problem(s) in this column (not shown)",
                    self.file,
                    n - PROBLEMS_SHOWN_PER_COLUMN
                ));
            }
        }
        write!(f, "{}", lines.join("\n"))
    }
}

impl std::error::Error for ValidationReport {}
