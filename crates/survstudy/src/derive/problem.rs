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
                s.push_str(&format!(" '{}'", crate::ingest::clip(v)));
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
        // quoted user data is clipped (a 3 MB cell gives a short line)
        if let Some(p) = &self.patient_id {
            write!(f, ": patient {}", crate::ingest::clip(p))?;
        }
        if let Some(c) = &self.column {
            write!(f, ": column {}", crate::ingest::clip(c))?;
        }
        if let Some(v) = &self.value {
            write!(f, ": value '{}'", crate::ingest::clip(v))?;
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
}

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
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, p) in self.problems.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{p}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ValidationReport {}
