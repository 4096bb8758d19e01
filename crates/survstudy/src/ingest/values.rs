//! Parsing of single cells: dates, yes/no, numbers.

use chrono::format::{Item, StrftimeItems};
use chrono::NaiveDate;

/// The default (and always accepted) date format.
pub const ISO_DATE_FORMAT: &str = "%Y-%m-%d";

/// Earliest and latest plausible years; dates outside are reported (they are
/// almost always typos or two-digit years read as year 0021).
const MIN_YEAR: i32 = 1900;
const MAX_YEAR: i32 = 2100;

/// Why a cell could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ValueError {
    #[error("not a date in format {format}")]
    BadDate { format: String },
    #[error("implausible year {year} (expected {MIN_YEAR}-{MAX_YEAR})")]
    ImplausibleYear { year: i32 },
    #[error("not a yes/no value (expected yes/no, y/n, true/false or 1/0)")]
    BadYesNo,
    #[error("not a number")]
    BadNumber,
}

/// A validated chrono date format. ISO `YYYY-MM-DD` is always accepted as
/// well (it is unambiguous, and real Excel date cells arrive in that form);
/// no other format is ever guessed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DateFormat {
    format: String,
}

impl Default for DateFormat {
    fn default() -> Self {
        DateFormat {
            format: ISO_DATE_FORMAT.to_string(),
        }
    }
}

impl DateFormat {
    /// Check a strftime-style format: it must be well formed and must
    /// round-trip a full date (so it has a year, a month and a day).
    pub fn new(format: &str) -> Result<Self, String> {
        if StrftimeItems::new(format).any(|i| matches!(i, Item::Error)) {
            return Err(format!(
                "date format '{format}' is not a valid strftime format"
            ));
        }
        let probe = NaiveDate::from_ymd_opt(2001, 2, 13).unwrap_or_default();
        let text = probe.format(format).to_string();
        match NaiveDate::parse_from_str(&text, format) {
            Ok(d) if d == probe => Ok(DateFormat {
                format: format.to_string(),
            }),
            _ => Err(format!(
                "date format '{format}' does not identify a full date (it needs a year, a month and a day)"
            )),
        }
    }

    /// The format string.
    pub fn as_str(&self) -> &str {
        &self.format
    }
}

/// Parse a date cell. Blank (after trimming) is `Ok(None)`. ISO dates with a
/// midnight time part (`2021-03-04 00:00:00`, `2021-03-04T00:00:00`) are
/// accepted; any other time of day is an error.
/// A strict `YYYY-MM-DD` (four, two and two ASCII digits) as a date, if valid.
fn iso_ymd(s: &str) -> Option<NaiveDate> {
    let b = s.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let num = |r: std::ops::Range<usize>| {
        b[r].iter().try_fold(0u32, |acc, &c| {
            c.is_ascii_digit().then(|| acc * 10 + u32::from(c - b'0'))
        })
    };
    NaiveDate::from_ymd_opt(num(0..4)? as i32, num(5..7)?, num(8..10)?)
}

pub fn parse_date(cell: &str, format: &DateFormat) -> Result<Option<NaiveDate>, ValueError> {
    let s = cell.trim();
    if s.is_empty() {
        return Ok(None);
    }
    let iso = s
        .strip_suffix(" 00:00:00")
        .or_else(|| s.strip_suffix("T00:00:00"))
        .unwrap_or(s);
    // fast path for the common strict `YYYY-MM-DD` (chrono re-parses the
    // format string on every call); anything else goes through chrono
    let parsed = match iso_ymd(iso) {
        Some(d) if format.format == ISO_DATE_FORMAT => Ok(d),
        _ => NaiveDate::parse_from_str(s, &format.format)
            .or_else(|_| NaiveDate::parse_from_str(iso, ISO_DATE_FORMAT)),
    };
    match parsed {
        Ok(d) => {
            use chrono::Datelike;
            if (MIN_YEAR..=MAX_YEAR).contains(&d.year()) {
                Ok(Some(d))
            } else {
                Err(ValueError::ImplausibleYear { year: d.year() })
            }
        }
        Err(_) => Err(ValueError::BadDate {
            format: if format.format == ISO_DATE_FORMAT {
                "YYYY-MM-DD".to_string()
            } else {
                format!("{} (or YYYY-MM-DD)", format.format)
            },
        }),
    }
}

/// Parse a yes/no cell: yes/no, y/n, true/false, 1/0 in any case with
/// surrounding spaces; blank is `Ok(None)`.
pub fn parse_yes_no(cell: &str) -> Result<Option<bool>, ValueError> {
    match cell.trim().to_lowercase().as_str() {
        "" => Ok(None),
        "yes" | "y" | "true" | "1" => Ok(Some(true)),
        "no" | "n" | "false" | "0" => Ok(Some(false)),
        _ => Err(ValueError::BadYesNo),
    }
}

/// Parse a finite number; blank is `Ok(None)`.
pub fn parse_number(cell: &str) -> Result<Option<f64>, ValueError> {
    let s = cell.trim();
    if s.is_empty() {
        return Ok(None);
    }
    match s.parse::<f64>() {
        Ok(v) if v.is_finite() => Ok(Some(v)),
        _ => Err(ValueError::BadNumber),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn yes_no_variants() {
        for s in ["yes", " YES ", "y", "Y", "true", "TRUE", "1", " 1"] {
            assert_eq!(parse_yes_no(s), Ok(Some(true)), "{s}");
        }
        for s in ["no", "No", "n", "false", "False ", "0"] {
            assert_eq!(parse_yes_no(s), Ok(Some(false)), "{s}");
        }
        assert_eq!(parse_yes_no("  "), Ok(None));
        assert_eq!(parse_yes_no("maybe"), Err(ValueError::BadYesNo));
        assert_eq!(parse_yes_no("2"), Err(ValueError::BadYesNo));
    }

    #[test]
    fn iso_dates() {
        let f = DateFormat::default();
        assert_eq!(parse_date(" 2021-03-04 ", &f), Ok(Some(d(2021, 3, 4))));
        assert_eq!(
            parse_date("2021-03-04 00:00:00", &f),
            Ok(Some(d(2021, 3, 4)))
        );
        assert_eq!(parse_date("", &f), Ok(None));
        assert!(parse_date("03/04/2021", &f).is_err());
        assert!(parse_date("2021-02-30", &f).is_err());
        assert!(parse_date("2021-03-04 12:00:00", &f).is_err());
        assert_eq!(
            parse_date("0021-03-04", &f),
            Err(ValueError::ImplausibleYear { year: 21 })
        );
    }

    #[test]
    fn custom_format_never_guesses_order() {
        let us = DateFormat::new("%m/%d/%Y").unwrap();
        assert_eq!(parse_date("03/04/2021", &us), Ok(Some(d(2021, 3, 4))));
        assert!(parse_date("13/04/2021", &us).is_err());
        let eu = DateFormat::new("%d/%m/%Y").unwrap();
        assert_eq!(parse_date("03/04/2021", &eu), Ok(Some(d(2021, 4, 3))));
        // ISO is always accepted.
        assert_eq!(parse_date("2021-04-03", &eu), Ok(Some(d(2021, 4, 3))));
    }

    #[test]
    fn bad_formats_are_rejected_not_panicking() {
        assert!(DateFormat::new("%Q").is_err());
        assert!(DateFormat::new("%m/%Y").is_err());
        assert!(DateFormat::new("%d.%m.%Y").is_ok());
    }

    #[test]
    fn numbers() {
        assert_eq!(parse_number(" 61.5 "), Ok(Some(61.5)));
        assert_eq!(parse_number(""), Ok(None));
        assert_eq!(parse_number("abc"), Err(ValueError::BadNumber));
        assert_eq!(parse_number("inf"), Err(ValueError::BadNumber));
    }
}
