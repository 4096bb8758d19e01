//! What a column of unreadable dates looks like: the date format its cells
//! follow, so that one summary line per column can say which
//! `--date-format` to use instead of one line per cell.

use chrono::{Datelike, NaiveDate};

/// Formats tried, most common first. Day/month order is never guessed: when
/// both orders read every cell, both are offered.
const CANDIDATES: &[&str] = &[
    "%d/%m/%Y", "%m/%d/%Y", "%d.%m.%Y", "%d-%m-%Y", "%m-%d-%Y", "%Y/%m/%d", "%Y.%m.%d", "%d/%m/%y",
    "%m/%d/%y", "%d-%b-%Y", "%d %b %Y", "%b %d %Y", "%d%b%Y", "%Y%m%d", "%d-%b-%y",
];

fn reads(cell: &str, fmt: &str) -> bool {
    NaiveDate::parse_from_str(cell.trim(), fmt).is_ok_and(|d| (1900..=2100).contains(&d.year()))
}

/// One sentence about the bad date cells of a column: the format(s) that
/// read all of them, or that none was recognised.
pub(crate) fn format_summary(column: &str, bad: &[&str], current: &str) -> String {
    let fits: Vec<&str> = CANDIDATES
        .iter()
        .copied()
        .filter(|f| *f != current && bad.iter().all(|c| reads(c, f)))
        .collect();
    let example = crate::ingest::clip(bad.first().copied().unwrap_or_default());
    let column = crate::ingest::clip(column);
    let head = format!(
        "column {column}: {} date(s) are not in the format {current} (nor YYYY-MM-DD), e.g. '{example}'",
        bad.len()
    );
    let dm = fits.contains(&"%d/%m/%Y") && fits.contains(&"%m/%d/%Y");
    let partial = bad
        .iter()
        .filter(|c| crate::ingest::parse_partial_date(c).is_some())
        .count();
    if partial > 0 && fits.is_empty() {
        return format!(
            "{head}; {partial} of them are partial dates (month and year, or year only): to impute them set partial_dates = \"first\" or \"middle\" in the plan's [study] (or on the column)"
        );
    }
    match fits.as_slice() {
        [] => format!("{head}; no common date format reads them all: check the column"),
        _ if dm => format!(
            "{head}; they look like day/month/year or month/day/year and these cells cannot tell which: use --date-format %d/%m/%Y or --date-format %m/%d/%Y (or date_format in the plan)"
        ),
        [f, ..] => format!(
            "{head}; they look like {f}: use --date-format {f} (or date_format = \"{f}\" in the plan's [study])"
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_day_first_and_ambiguity() {
        let s = format_summary("d", &["23/04/1987", "01/02/1990"], "%Y-%m-%d");
        assert!(
            s.contains("--date-format %d/%m/%Y") && !s.contains("%m/%d/%Y"),
            "{s}"
        );
        let s = format_summary("d", &["03/04/1987"], "%Y-%m-%d");
        assert!(s.contains("%d/%m/%Y") && s.contains("%m/%d/%Y"), "{s}");
        let s = format_summary("d", &["12/31/1987"], "%Y-%m-%d");
        assert!(s.contains("look like %m/%d/%Y"), "{s}");
        let s = format_summary("d", &["05-Mar-2001"], "%Y-%m-%d");
        assert!(s.contains("%d-%b-%Y"), "{s}");
        let s = format_summary("d", &["soon"], "%Y-%m-%d");
        assert!(s.contains("no common date format"), "{s}");
    }
}
