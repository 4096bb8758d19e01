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
    /// The patient is outside the analysed population (a plan filter).
    OutsidePopulation,
}

/// One problem in the input, with its location and offending value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Problem {
    /// The input file.
    pub file: String,
    /// Line in the file (header = line 1); for a Parquet file the data row
    /// (first row = 1). `None` when the problem is not tied to a line (e.g.
    /// a bad date format option, a column missing from a Parquet file).
    pub line: Option<u64>,
    /// The row's patient identifier (`None` when not known or hidden).
    pub patient_id: Option<String>,
    /// Plan column name (canonical spelling).
    pub column: Option<String>,
    /// The offending cell text as written.
    pub value: Option<String>,
    /// What kind of problem it is.
    pub kind: ProblemKind,
    /// The problem in words.
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

    /// The problem without any cell value: `column: message`, with the
    /// message's parenthesised details (dates, values, levels) and a
    /// trailing `: also on line N` left out. Safe to show when patient
    /// identifiers are hidden; the cell value is never part of it.
    pub fn summary(&self) -> String {
        let mut depth = 0usize;
        let mut kept = String::with_capacity(self.message.len());
        for c in self.message.chars() {
            match c {
                '(' => depth += 1,
                ')' if depth > 0 => depth -= 1,
                c if depth == 0 => kept.push(c),
                _ => {}
            }
        }
        let mut msg = kept.split_whitespace().collect::<Vec<_>>().join(" ");
        if let Some(i) = msg
            .find(": also on line")
            .or_else(|| msg.find(": also on row"))
        {
            msg.truncate(i);
        }
        match &self.column {
            Some(c) => format!("{c}: {}", msg.trim()),
            None => msg.trim().to_string(),
        }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file)?;
        if let Some(l) = self.line {
            write!(f, ": {} {l}", crate::ingest::location_word(&self.file))?;
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
    /// The input file.
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
    /// The per-column summaries (e.g. the date format a column looks like),
    /// then one line per problem, at most `PROBLEMS_SHOWN_PER_COLUMN` per
    /// column (problems without a column count as one column), then one line
    /// per column saying how many more it has and the total.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut shown: std::collections::BTreeMap<Option<&str>, usize> = Default::default();
        let mut first = true;
        for s in &self.summaries {
            if !first {
                writeln!(f)?;
            }
            first = false;
            write!(f, "{}: {s}", self.file)?;
        }
        for p in &self.problems {
            let n = shown.entry(p.column.as_deref()).or_default();
            *n += 1;
            if *n > PROBLEMS_SHOWN_PER_COLUMN {
                continue;
            }
            if !first {
                writeln!(f)?;
            }
            first = false;
            write!(f, "{p}")?;
        }
        let mut hidden = 0;
        for (column, &n) in &shown {
            if n > PROBLEMS_SHOWN_PER_COLUMN {
                let more = n - PROBLEMS_SHOWN_PER_COLUMN;
                hidden += more;
                let what =
                    column.map_or("without a column".to_string(), |c| format!("in column {c}"));
                write!(f, "\n{}: {more} more problems {what} not shown", self.file)?;
            }
        }
        if hidden > 0 {
            write!(
                f,
                "\n{}: {} problems in total ({} rows read)",
                self.file,
                self.problems.len(),
                self.rows_read
            )?;
        }
        Ok(())
    }
}

impl std::error::Error for ValidationReport {}

#[cfg(test)]
mod cap_tests {
    use super::*;

    fn problem(line: u64, column: &str) -> Problem {
        Problem {
            file: "f.csv".into(),
            line: Some(line),
            patient_id: None,
            column: Some(column.into()),
            value: Some("x".into()),
            kind: ProblemKind::BadDate,
            message: "not a date".into(),
        }
    }

    #[test]
    fn display_caps_problems_per_column_and_counts_the_rest() {
        let mut problems: Vec<Problem> = (2..1002).map(|l| problem(l, "death_date")).collect();
        problems.extend((2..5).map(|l| problem(l, "sex")));
        let r = ValidationReport {
            file: "f.csv".into(),
            rows_read: 1000,
            problems,
            summaries: vec![],
        };
        let text = r.to_string();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), PROBLEMS_SHOWN_PER_COLUMN + 3 + 2);
        assert_eq!(lines.iter().filter(|l| l.contains("line 21:")).count(), 1);
        assert!(!text.contains("line 22: column death_date"));
        assert!(text.contains("980 more problems in column death_date not shown"));
        assert!(text.contains("1003 problems in total (1000 rows read)"));
        // few problems: every one, no summary
        let small = ValidationReport {
            file: "f.csv".into(),
            rows_read: 3,
            problems: vec![problem(2, "sex"), problem(3, "sex")],
            summaries: vec![],
        };
        assert_eq!(small.to_string().lines().count(), 2);
    }
}

#[cfg(test)]
mod summary_tests {
    use super::*;

    fn problem(
        column: Option<&str>,
        value: Option<&str>,
        kind: ProblemKind,
        message: &str,
    ) -> Problem {
        Problem {
            file: "f.csv".into(),
            line: Some(4),
            patient_id: Some("P-007".into()),
            column: column.map(str::to_string),
            value: value.map(str::to_string),
            kind,
            message: message.into(),
        }
    }

    #[test]
    fn summaries_never_carry_the_cell_value() {
        let cases = [
            (
                problem(
                    Some("progression_date"),
                    Some("2021-13-01"),
                    ProblemKind::BadDate,
                    "not a valid date",
                ),
                "progression_date: not a valid date",
            ),
            (
                problem(
                    Some("progression_date"),
                    Some("2020-01-01"),
                    ProblemKind::DateOrder,
                    "progression before infusion (CAR-T infusion is 2020-02-01)",
                ),
                "progression_date: progression before infusion",
            ),
            (
                problem(
                    Some("patient_id"),
                    Some("P-007"),
                    ProblemKind::DuplicateId,
                    "duplicate patient_id: also on line 4",
                ),
                "patient_id: duplicate patient_id",
            ),
            (
                problem(
                    None,
                    None,
                    ProblemKind::MissingValue,
                    "required value is missing (Sex)",
                ),
                "required value is missing",
            ),
            (
                problem(
                    Some("emd_at_infusion"),
                    None,
                    ProblemKind::UncoveredCombination,
                    "values (yes, maybe) of emd_at_infusion, prog_emd match no level of grouping g",
                ),
                "emd_at_infusion: values of emd_at_infusion, prog_emd match no level of grouping g",
            ),
            // separators and quotes inside the value cannot confuse anything:
            // the value is not an input of the summary
            (
                problem(
                    Some("sex"),
                    Some("SECRET; x': y"),
                    ProblemKind::BadCategory,
                    "not one of: F, M",
                ),
                "sex: not one of: F, M",
            ),
        ];
        for (p, want) in cases {
            assert_eq!(p.summary(), want);
            assert!(p.reason().contains(p.value.as_deref().unwrap_or("")));
        }
    }
}
