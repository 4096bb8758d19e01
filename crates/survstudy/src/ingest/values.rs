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
    /// Not a date in the expected format.
    #[error("not a date in format {format}")]
    BadDate {
        /// The format expected (strftime style).
        format: String,
    },
    /// A date whose year is outside the plausible range.
    #[error("implausible year {year} (expected {MIN_YEAR}-{MAX_YEAR})")]
    ImplausibleYear {
        /// The year read.
        year: i32,
    },
    /// Not a yes/no value.
    #[error("not a yes/no value (expected yes/no, y/n, true/false or 1/0)")]
    BadYesNo,
    /// Not a number.
    #[error("not a number")]
    BadNumber,
}

/// A validated chrono date format. ISO `YYYY-MM-DD` is always accepted as
/// well (it is unambiguous, and real Excel date cells arrive in that form);
/// no other format is ever guessed.
///
/// A format may carry a time of day (`%H %M %S %I %p %.3f`, `%T`, …): cells
/// are then read as date-times and the date part is kept (follow-up is
/// counted in days). Time-zone fields (`%z %Z %:z`, `%+`) and Unix
/// timestamps (`%s`) are refused: the calendar date of such a value depends
/// on a time zone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DateFormat {
    format: String,
    /// The format has time-of-day fields (cells are parsed as date-times).
    with_time: bool,
}

impl Default for DateFormat {
    fn default() -> Self {
        DateFormat {
            format: ISO_DATE_FORMAT.to_string(),
            with_time: false,
        }
    }
}

impl DateFormat {
    /// Check a strftime-style format: it must be well formed, have no
    /// time-zone or timestamp field, and round-trip a full date (so it has a
    /// year, a month and a day). Never panics: the format is inspected item
    /// by item, and formatting errors are caught, not displayed.
    pub fn new(format: &str) -> Result<Self, String> {
        use chrono::format::{Fixed, Numeric};
        let shown = crate::ingest::clip(format);
        let items: Vec<Item> = StrftimeItems::new(format).collect();
        if items.iter().any(|i| matches!(i, Item::Error)) {
            return Err(format!(
                "date format '{shown}' is not a valid strftime format"
            ));
        }
        let zoned = items.iter().any(|i| {
            matches!(
                i,
                Item::Numeric(Numeric::Timestamp | Numeric::Internal(_), _)
                    | Item::Fixed(
                        Fixed::TimezoneName
                            | Fixed::TimezoneOffset
                            | Fixed::TimezoneOffsetColon
                            | Fixed::TimezoneOffsetDoubleColon
                            | Fixed::TimezoneOffsetTripleColon
                            | Fixed::TimezoneOffsetColonZ
                            | Fixed::TimezoneOffsetZ
                            | Fixed::RFC2822
                            | Fixed::RFC3339
                            | Fixed::Internal(_)
                    )
            )
        });
        if zoned {
            return Err(format!(
                "date format '{shown}' has a time-zone or Unix-timestamp field (%z, %Z, %:z, %+ or %s); the calendar date of such a value depends on a time zone, so it is not accepted (use the local date, e.g. %Y-%m-%d, or a local date-time such as %Y-%m-%d %H:%M)"
            ));
        }
        let with_time = items.iter().any(|i| {
            matches!(
                i,
                Item::Numeric(
                    Numeric::Hour
                        | Numeric::Hour12
                        | Numeric::Minute
                        | Numeric::Second
                        | Numeric::Nanosecond,
                    _
                ) | Item::Fixed(
                    Fixed::LowerAmPm
                        | Fixed::UpperAmPm
                        | Fixed::Nanosecond
                        | Fixed::Nanosecond3
                        | Fixed::Nanosecond6
                        | Fixed::Nanosecond9
                )
            )
        });
        let probe = NaiveDate::from_ymd_opt(2001, 2, 13)
            .and_then(|d| d.and_hms_milli_opt(14, 35, 27, 123))
            .unwrap_or_default();
        let mut text = String::new();
        let formatted = {
            use std::fmt::Write;
            write!(text, "{}", probe.format_with_items(items.iter()))
        };
        let back = if with_time {
            chrono::NaiveDateTime::parse_from_str(&text, format).map(|dt| dt.date())
        } else {
            NaiveDate::parse_from_str(&text, format)
        };
        match (formatted, back) {
            (Ok(()), Ok(d)) if d == probe.date() => Ok(DateFormat {
                format: format.to_string(),
                with_time,
            }),
            _ if with_time => Err(format!(
                "date format '{shown}' does not identify a full date and time (it needs a year, a month and a day, and a time needs at least hours and minutes)"
            )),
            _ => Err(format!(
                "date format '{shown}' does not identify a full date (it needs a year, a month and a day)"
            )),
        }
    }

    /// The format string.
    pub fn as_str(&self) -> &str {
        &self.format
    }

    /// Whether cells are read as date-times (the date part is kept).
    pub fn has_time(&self) -> bool {
        self.with_time
    }
}

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

/// `cell.trim()`, without decoding a character when the cell starts and
/// ends with a visible ASCII byte (every whitespace character is either at
/// most 0x20 or not ASCII), as almost every cell does.
#[inline]
pub(crate) fn trim_cell(cell: &str) -> &str {
    match cell.as_bytes() {
        [a, .., b] if (0x21..0x80).contains(a) && (0x21..0x80).contains(b) => cell,
        [a] if (0x21..0x80).contains(a) => cell,
        _ => cell.trim(),
    }
}

/// Parse a date cell. Blank (after trimming) is `Ok(None)`. ISO dates with a
/// midnight time part (`2021-03-04 00:00:00`, `2021-03-04T00:00:00`) are
/// accepted; any other time of day is an error unless the format has
/// time fields (then the date part of the date-time is taken).
pub fn parse_date(cell: &str, format: &DateFormat) -> Result<Option<NaiveDate>, ValueError> {
    let s = trim_cell(cell);
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
        _ => if format.with_time {
            chrono::NaiveDateTime::parse_from_str(s, &format.format).map(|dt| dt.date())
        } else {
            NaiveDate::parse_from_str(s, &format.format)
        }
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
                format!("{} (or YYYY-MM-DD)", crate::ingest::clip(&format.format))
            },
        }),
    }
}

/// A date written with its year only (`1987`) or its month and year
/// (`1987-03`, `1987/03`, `03/1987`, `03-1987`, `03.1987`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PartialDate {
    /// Year (within the plausible range).
    pub year: i32,
    /// Month 1–12, `None` when only the year is known.
    pub month: Option<u32>,
}

impl PartialDate {
    /// The full date under an imputation rule: `first` = the 1st of the
    /// month (1 January for a year), `middle` = the 15th of the month
    /// (1 July for a year).
    pub fn impute(self, middle: bool) -> Option<NaiveDate> {
        let (m, d) = match (self.month, middle) {
            (Some(m), false) => (m, 1),
            (Some(m), true) => (m, 15),
            (None, false) => (1, 1),
            (None, true) => (7, 1),
        };
        NaiveDate::from_ymd_opt(self.year, m, d)
    }
}

/// Recognise a partial date: four-digit year alone, or with a one- or
/// two-digit month before or after it (separator `-`, `/` or `.`). Any
/// other text is `None` (a full date is never partial).
pub fn parse_partial_date(cell: &str) -> Option<PartialDate> {
    let s = cell.trim();
    let year = |t: &str| -> Option<i32> {
        let y: i32 =
            (t.len() == 4 && t.bytes().all(|b| b.is_ascii_digit())).then(|| t.parse().ok())??;
        (MIN_YEAR..=MAX_YEAR).contains(&y).then_some(y)
    };
    let month = |t: &str| -> Option<u32> {
        let m: u32 = ((1..=2).contains(&t.len()) && t.bytes().all(|b| b.is_ascii_digit()))
            .then(|| t.parse().ok())??;
        (1..=12).contains(&m).then_some(m)
    };
    if let Some(y) = year(s) {
        return Some(PartialDate {
            year: y,
            month: None,
        });
    }
    let parts: Vec<&str> = s.split(['-', '/', '.']).collect();
    match parts.as_slice() {
        [a, b] => match (year(a), month(b), month(a), year(b)) {
            (Some(y), Some(m), _, _) | (_, _, Some(m), Some(y)) => Some(PartialDate {
                year: y,
                month: Some(m),
            }),
            _ => None,
        },
        _ => None,
    }
}

/// Parse a yes/no cell: yes/no, y/n, true/false, 1/0 in any case with
/// surrounding spaces; blank is `Ok(None)`.
pub fn parse_yes_no(cell: &str) -> Result<Option<bool>, ValueError> {
    // the tokens are ASCII and no other text lowercases to one (the only
    // non-ASCII character with an ASCII lowercase is the Kelvin sign, "k"),
    // so an ASCII case-insensitive comparison accepts exactly what
    // lowercasing the cell did, without a copy per cell
    let s = trim_cell(cell);
    let any = |tokens: &[&str]| tokens.iter().any(|t| s.eq_ignore_ascii_case(t));
    if s.is_empty() {
        Ok(None)
    } else if any(&["yes", "y", "true", "1"]) {
        Ok(Some(true))
    } else if any(&["no", "n", "false", "0"]) {
        Ok(Some(false))
    } else {
        Err(ValueError::BadYesNo)
    }
}

/// Parse a finite number; blank is `Ok(None)`.
pub fn parse_number(cell: &str) -> Result<Option<f64>, ValueError> {
    let s = trim_cell(cell);
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
    fn yes_no_tokens_in_any_case() {
        // the former definition: the lowercased cell against the tokens
        let by_lowercasing = |cell: &str| match cell.trim().to_lowercase().as_str() {
            "" => Ok(None),
            "yes" | "y" | "true" | "1" => Ok(Some(true)),
            "no" | "n" | "false" | "0" => Ok(Some(false)),
            _ => Err(ValueError::BadYesNo),
        };
        for (cell, want) in [
            (" YES ", Some(true)),
            ("y", Some(true)),
            ("True", Some(true)),
            ("1", Some(true)),
            ("nO", Some(false)),
            ("N", Some(false)),
            ("FALSE", Some(false)),
            ("0", Some(false)),
            ("  ", None),
        ] {
            assert_eq!(parse_yes_no(cell), Ok(want), "{cell:?}");
            // the allocating path agrees on every token
            assert_eq!(by_lowercasing(cell), Ok(want));
        }
        for cell in ["yess", "2", "ja", "n/a", "y\u{e9}s", "\u{212a}"] {
            assert_eq!(parse_yes_no(cell), Err(ValueError::BadYesNo), "{cell:?}");
        }
        // Unicode case folding as before: full-width or accented letters are not tokens
        assert_eq!(parse_yes_no("Ｙｅｓ"), Err(ValueError::BadYesNo));
        // and every cell, ASCII or not, is read as lowercasing read it
        for cell in [
            "Yes",
            "\u{212a}",
            "YEſ",
            "\u{130}",
            "NO\u{a0}",
            "\u{3000}yes",
            "ＮＯ",
            "tRuE",
            "nope",
            "",
        ] {
            assert_eq!(parse_yes_no(cell), by_lowercasing(cell), "{cell:?}");
        }
    }

    #[test]
    fn partial_dates_are_recognised_and_imputed() {
        let p = |s: &str| parse_partial_date(s);
        assert_eq!(
            p("1987"),
            Some(PartialDate {
                year: 1987,
                month: None
            })
        );
        for s in ["1987-03", "1987/3", "03/1987", "3-1987", "03.1987"] {
            assert_eq!(
                p(s),
                Some(PartialDate {
                    year: 1987,
                    month: Some(3)
                }),
                "{s}"
            );
        }
        for s in [
            "1987-13",
            "87",
            "1987-03-01",
            "03/04",
            "abcd",
            "1987-",
            "0999",
        ] {
            assert_eq!(p(s), None, "{s}");
        }
        let d = |y, m, d| NaiveDate::from_ymd_opt(y, m, d);
        assert_eq!(p("1987-03").unwrap().impute(false), d(1987, 3, 1));
        assert_eq!(p("1987-03").unwrap().impute(true), d(1987, 3, 15));
        assert_eq!(p("1987").unwrap().impute(false), d(1987, 1, 1));
        assert_eq!(p("1987").unwrap().impute(true), d(1987, 7, 1));
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
    fn time_and_zone_fields_never_panic() {
        // time-of-day fields: accepted, the date part is kept
        for f in [
            "%Y-%m-%d %H:%M",
            "%Y-%m-%d %H:%M:%S",
            "%Y-%m-%dT%H:%M:%S%.3f",
            "%d/%m/%Y %I:%M %p",
            "%Y-%m-%d %T",
        ] {
            let df = DateFormat::new(f).unwrap_or_else(|e| panic!("{f}: {e}"));
            assert!(df.has_time(), "{f}");
        }
        let df = DateFormat::new("%Y-%m-%d %H:%M").unwrap();
        assert_eq!(parse_date("2021-04-03 23:59", &df), Ok(Some(d(2021, 4, 3))));
        assert_eq!(parse_date("2021-04-03", &df), Ok(Some(d(2021, 4, 3))));
        assert!(parse_date("2021-04-03 25:00", &df).is_err());
        let df = DateFormat::new("%d/%m/%Y %I:%M %p").unwrap();
        assert_eq!(
            parse_date("03/04/2021 11:30 PM", &df),
            Ok(Some(d(2021, 4, 3)))
        );
        // zones and timestamps: refused with a reason
        for f in [
            "%s",
            "%Y-%m-%d %z",
            "%Y-%m-%d %Z",
            "%Y-%m-%d %:z",
            "%+",
            "%Y-%m-%d %H:%M %#z",
        ] {
            let e = DateFormat::new(f).unwrap_err();
            assert!(
                e.contains("time-zone") || e.contains("not a valid"),
                "{f}: {e}"
            );
        }
        // time without a date, or an hour without minutes
        for f in ["%H:%M", "%S", "%.3f", "%Y-%m-%d %H", "%M"] {
            assert!(DateFormat::new(f).is_err(), "{f}");
        }
        // a long bad format is quoted clipped
        let long = format!("%Q{}", "x".repeat(10_000));
        assert!(DateFormat::new(&long).unwrap_err().len() < 300);
    }

    #[test]
    fn numbers() {
        assert_eq!(parse_number(" 61.5 "), Ok(Some(61.5)));
        assert_eq!(parse_number(""), Ok(None));
        assert_eq!(parse_number("abc"), Err(ValueError::BadNumber));
        assert_eq!(parse_number("inf"), Err(ValueError::BadNumber));
    }
}

#[cfg(test)]
mod trim_tests {
    use super::trim_cell;

    /// The shortcut trims exactly as `str::trim`: ASCII and Unicode
    /// whitespace at either end, one-byte cells, DEL and multi-byte text.
    #[test]
    fn trim_cell_is_str_trim() {
        for s in [
            "",
            " ",
            "a",
            "ab",
            " a",
            "a ",
            "\ta\r\n",
            "\u{a0}a",
            "a\u{a0}",
            "\u{85}",
            "\u{3000}x\u{3000}",
            "é",
            "aé",
            "éa",
            "\x7f",
            "!",
            " ! ",
            "2023-01-14",
            "\x0b5\x0c",
        ] {
            assert_eq!(trim_cell(s), s.trim(), "{s:?}");
        }
    }
}
