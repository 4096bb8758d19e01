//! `survstudy plan --init --data FILE`: a starter plan guessed from a file.
//!
//! Every column of the file is typed from its cells (missing = blank, `NA`,
//! `N/A`, `.`): yes/no when every filled cell reads as yes/no (`yes`, `n`,
//! `true`, `0`, …), number when every one is a number, date when every one
//! parses in one date format (ISO, `%d/%m/%Y`, `%m/%d/%Y`, …), category when
//! it has few distinct values, text otherwise. The id is the column (named
//! like an id when possible) that is filled and distinct in every row. Time
//! zero and the endpoints come from the date columns' names: `rand`, `diag`,
//! `index`, `start`, … → time zero; `death`, `dod`, … → overall survival;
//! `progr`, `recur`, `relapse` → progression/recurrence-free survival;
//! `last`, `fu`, `follow`, `contact` → censoring. A date column dated
//! before time zero in some row is left out of the endpoints (it would make
//! the run fail) and the plan says so.
//!
//! Each guess is written as a `# guessed: …` comment next to it. The text
//! always parses as a valid [`Plan`]; [`init_plan`] then derives the file
//! with it and reports, as comments and in [`InitPlan::problems`], any row
//! the run would reject. A file without any date column gets an
//! [`InitError::NoDates`]: a plan measures time between dates, and a
//! duration export (time + status columns) is analysed with the ad-hoc
//! commands (`survstudy km --time … --event …`).

use std::collections::{BTreeMap, BTreeSet};

use chrono::NaiveDate;

use super::Plan;
use crate::derive::{derive, DeriveOptions};
use crate::ingest::{clip, parse_date, parse_number, parse_yes_no, DateFormat, RawTable};

/// Options of [`init_plan`].
#[derive(Debug, Clone, PartialEq)]
pub struct InitOptions {
    /// A text column with at most this many distinct values is a category.
    pub max_levels: usize,
    /// At most this many groupings are put in `km_by` / `cox_univariable`.
    pub max_groupings: usize,
}

impl Default for InitOptions {
    fn default() -> Self {
        InitOptions {
            max_levels: 12,
            max_groupings: 12,
        }
    }
}

/// Why no starter plan could be written.
#[derive(Debug, thiserror::Error)]
pub enum InitError {
    /// The file has a header but no data rows.
    #[error(
        "{file}: no data rows below the header; plan --init guesses column types from the cells"
    )]
    NoRows {
        /// The data file.
        file: String,
    },
    /// No column looks like dates.
    #[error("{file}: no date column found (columns: {columns}). `plan --init` guesses endpoints from dates. An export with durations (time + status columns) goes through a plan whose endpoints are durations: [[endpoints]] with duration = {{ column = \"TIME_COLUMN\", unit = \"months\" }} and event_status = {{ column = \"STATUS_COLUMN\", values = [\"1\"] }} (no date or time zero needed; see the README's plan section), or through the ad-hoc commands, e.g. survstudy km --data FILE --time TIME_COLUMN --event STATUS_COLUMN")]
    NoDates {
        /// The data file.
        file: String,
        /// The file's columns, comma-separated.
        columns: String,
    },
    /// No column can be the patient id.
    #[error("{file}: no column is filled and distinct in every row, nor named like an id (id, MRN, patient, subject), so none can be the patient id (a plan needs one); add an id column")]
    NoId {
        /// The data file.
        file: String,
    },
    /// The guessed plan failed its own validation (a bug).
    #[error("{file}: the starter plan did not validate ({message}); please report this")]
    Internal {
        /// The data file.
        file: String,
        /// The validation message.
        message: String,
    },
}

/// A starter plan: TOML text with comments, plus what the run would reject.
#[derive(Debug, Clone, PartialEq)]
pub struct InitPlan {
    /// The plan, commented; parses as a valid [`Plan`].
    pub toml: String,
    /// Problems the file has under this plan (empty: `run` would accept every
    /// row); also written as comments at the top of [`InitPlan::toml`].
    pub problems: Vec<String>,
}

/// Candidate date formats, tried in this order (ISO is always accepted).
const DATE_FORMATS: &[&str] = &[
    "%Y-%m-%d", "%d/%m/%Y", "%m/%d/%Y", "%d.%m.%Y", "%Y/%m/%d", "%d-%m-%Y", "%m-%d-%Y", "%d-%b-%Y",
    "%d %b %Y", "%b %d %Y", "%Y%m%d",
];

const MISSING: &[&str] = &["", "na", "n/a", "."];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Text,
    Date,
    YesNo,
    Category,
    Number,
}

impl Kind {
    fn toml(self) -> &'static str {
        match self {
            Kind::Text => "text",
            Kind::Date => "date",
            Kind::YesNo => "yes_no",
            Kind::Category => "category",
            Kind::Number => "number",
        }
    }
}

struct Col {
    idx: usize,
    name: String,
    kind: Kind,
    filled: usize,
    missing: usize,
    /// Distinct filled values (trimmed, lower-case) → first spelling.
    levels: BTreeMap<String, String>,
    distinct_exact: usize,
    /// Formats under which every filled cell is a date.
    formats: Vec<&'static str>,
    comments: Vec<String>,
}

/// TOML string literal.
fn q(s: &str) -> String {
    toml::Value::String(s.to_string()).to_string()
}

/// One-line text for a comment.
fn c(s: &str) -> String {
    clip(s)
}

fn is_missing(cell: &str) -> bool {
    MISSING.contains(&cell.trim().to_lowercase().as_str())
}

fn tokens(name: &str) -> Vec<String> {
    name.to_lowercase()
        .split(|ch: char| !ch.is_alphanumeric())
        .filter(|t| !t.is_empty())
        .map(str::to_string)
        .collect()
}

/// Whether a name matches a keyword: short keywords (≤ 3 characters) as a
/// whole word, longer ones anywhere in the name.
fn has(name: &str, kw: &str) -> bool {
    if kw.len() <= 3 {
        tokens(name).iter().any(|t| t == kw)
    } else {
        name.to_lowercase().contains(kw)
    }
}

fn first_kw<'a>(name: &str, kws: &[&'a str]) -> Option<&'a str> {
    kws.iter().copied().find(|k| has(name, k))
}

const ZERO_KW: &[&str] = &[
    "rand",
    "diag",
    "dx",
    "index",
    "enrol",
    "enroll",
    "entry",
    "registr",
    "inclusion",
    "baseline",
    "start",
    "surg",
    "infusion",
    "transplant",
    "treat",
];
const DEATH_KW: &[&str] = &["death", "dead", "dod", "died", "deceas", "mort"];
const PROG_KW: &[&str] = &["progr", "pd"];
const RECUR_KW: &[&str] = &["recur", "relapse", "rfs"];
const CENSOR_KW: &[&str] = &["last", "fu", "lfu", "follow", "contact", "visit", "censor"];
const ID_KW: &[&str] = &[
    "id", "mrn", "usubjid", "subjid", "patient", "subject", "record",
];
const ARM_KW: &[&str] = &["trt", "treat", "arm", "rx", "group", "cohort"];
const DEAD_LEVELS: &[&str] = &["dead", "deceased", "died", "death", "expired"];

/// A readable label from a column name: words split at `_`, `.`, `-`,
/// `dt`/`date` dropped, a few abbreviations expanded.
fn humanise(name: &str) -> String {
    let words: Vec<String> = name
        .split(|ch: char| !ch.is_alphanumeric())
        .filter(|t| !t.is_empty())
        .filter(|t| !matches!(t.to_lowercase().as_str(), "dt" | "date" | "dte" | "dat"))
        .map(|orig| {
            let t = orig.to_lowercase();
            match t.as_str() {
                "fu" | "lfu" => "follow-up",
                "dx" | "diag" => "diagnosis",
                "rand" => "randomisation",
                "dod" => "death",
                "trt" | "rx" => "treatment",
                "pt" => "patient",
                // an acronym keeps its case (MRN, ECOG)
                _ if orig.chars().all(|ch| ch.is_uppercase() || ch.is_numeric()) => orig,
                _ => t.as_str(),
            }
            .to_string()
        })
        .collect();
    let s = if words.is_empty() {
        name.trim().to_string()
    } else {
        words.join(" ")
    };
    let mut ch = s.chars();
    match ch.next() {
        Some(f) => f.to_uppercase().chain(ch).collect(),
        None => s,
    }
}

fn type_column(table: &RawTable, idx: usize, name: &str, opts: &InitOptions) -> Col {
    let cells: Vec<&str> = table
        .rows
        .iter()
        .map(|r| r.cells.get(idx).map(String::as_str).unwrap_or(""))
        .collect();
    let filled: Vec<&str> = cells
        .iter()
        .copied()
        .filter(|s| !is_missing(s))
        .map(str::trim)
        .collect();
    let mut levels = BTreeMap::new();
    for v in &filled {
        levels
            .entry(v.to_lowercase())
            .or_insert_with(|| v.to_string());
    }
    let distinct_exact = filled.iter().collect::<BTreeSet<_>>().len();
    let mut col = Col {
        idx,
        name: name.to_string(),
        kind: Kind::Text,
        filled: filled.len(),
        missing: cells.len() - filled.len(),
        levels,
        distinct_exact,
        formats: Vec::new(),
        comments: Vec::new(),
    };
    if filled.is_empty() {
        col.comments
            .push("guessed: text (every cell is blank or NA in this file)".into());
        return col;
    }
    if filled.iter().all(|s| parse_yes_no(s).is_ok()) {
        col.kind = Kind::YesNo;
        col.comments.push(
            "guessed: yes/no (every filled cell reads as yes/no, y/n, true/false or 1/0)".into(),
        );
        return col;
    }
    if filled.iter().all(|s| parse_number(s).is_ok()) {
        col.kind = Kind::Number;
        col.comments
            .push("guessed: number (every filled cell is a number)".into());
        return col;
    }
    for f in DATE_FORMATS {
        let Ok(fmt) = DateFormat::new(f) else {
            continue;
        };
        if filled
            .iter()
            .all(|s| matches!(parse_date(s, &fmt), Ok(Some(_))))
        {
            col.formats.push(f);
        }
    }
    if !col.formats.is_empty() {
        col.kind = Kind::Date;
        return col;
    }
    let n = col.levels.len();
    if n <= opts.max_levels && n < filled.len() {
        col.kind = Kind::Category;
        col.comments.push(format!(
            "guessed: category ({n} distinct values; levels sorted, edit the order: the first is the Cox reference)"
        ));
    } else {
        col.comments.push(format!(
            "guessed: text ({n} distinct values, too many for a category)"
        ));
    }
    col
}

fn dates_of(table: &RawTable, col: &Col, fmt: &DateFormat) -> Vec<Option<NaiveDate>> {
    table
        .rows
        .iter()
        .map(|r| {
            let s = r.cells.get(col.idx).map(String::as_str).unwrap_or("");
            if is_missing(s) {
                None
            } else {
                parse_date(s, fmt).ok().flatten()
            }
        })
        .collect()
}

fn median_date(d: &[Option<NaiveDate>]) -> Option<NaiveDate> {
    let mut v: Vec<NaiveDate> = d.iter().flatten().copied().collect();
    v.sort();
    v.get(v.len() / 2).copied()
}

/// Rows where `d` is before `zero` (both filled).
fn rows_before(d: &[Option<NaiveDate>], zero: &[Option<NaiveDate>]) -> usize {
    d.iter()
        .zip(zero)
        .filter(|(a, z)| matches!((a, z), (Some(a), Some(z)) if a < z))
        .count()
}

/// Write a starter plan for `table`.
pub fn init_plan(table: &RawTable, opts: &InitOptions) -> Result<InitPlan, InitError> {
    let file = table.file.clone();
    if table.rows.is_empty() {
        return Err(InitError::NoRows { file });
    }
    // columns, skipping unusable headers
    let mut skipped: Vec<String> = Vec::new();
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    for h in &table.headers {
        *seen.entry(h.trim().to_lowercase()).or_default() += 1;
    }
    let mut cols: Vec<Col> = Vec::new();
    for (i, h) in table.headers.iter().enumerate() {
        let name = h.trim();
        if name.is_empty() {
            skipped.push(format!(
                "column {} has an empty header and is left out",
                i + 1
            ));
            continue;
        }
        if seen.get(&name.to_lowercase()).copied().unwrap_or(0) > 1 {
            skipped.push(format!(
                "header '{}' appears more than once and is left out (rename one copy to use it)",
                c(name)
            ));
            continue;
        }
        cols.push(type_column(table, i, name, opts));
    }

    // one study date format for all date columns
    let date_idx: Vec<usize> = (0..cols.len())
        .filter(|&i| cols[i].kind == Kind::Date)
        .collect();
    if date_idx.is_empty() {
        return Err(InitError::NoDates {
            file,
            columns: crate::ingest::clip_list(&table.headers, 20),
        });
    }
    let mut votes: Vec<(&str, usize)> = DATE_FORMATS
        .iter()
        .map(|f| {
            (
                *f,
                date_idx
                    .iter()
                    .filter(|&&i| cols[i].formats.contains(f))
                    .count(),
            )
        })
        .collect();
    // most columns first; among equals, the candidate order (ISO first)
    votes.sort_by_key(|v| std::cmp::Reverse(v.1));
    let study_format = votes[0].0;
    let iso_only = date_idx
        .iter()
        .filter(|&&i| cols[i].formats.contains(&study_format))
        .all(|&i| cols[i].formats.len() == DATE_FORMATS.len());
    let mut format_comment = if iso_only {
        "guessed: every date is written YYYY-MM-DD".to_string()
    } else {
        format!("guessed: the dates read as {study_format}")
    };
    if !iso_only
        && study_format == "%d/%m/%Y"
        && date_idx
            .iter()
            .filter(|&&i| cols[i].formats.contains(&study_format))
            .all(|&i| cols[i].formats.contains(&"%m/%d/%Y"))
    {
        format_comment.push_str(
            "; CHECK: no day is above 12, so these dates could as well be month/day/year (%m/%d/%Y)",
        );
    }
    for &i in &date_idx {
        if cols[i].formats.contains(&study_format) {
            cols[i]
                .comments
                .push("guessed: date (every filled cell is a date)".into());
        } else {
            let f = cols[i].formats[0];
            cols[i].kind = Kind::Text;
            cols[i].comments.push(format!(
                "guessed: text, although its cells look like dates in {f}: one date format serves the whole file ({study_format})"
            ));
        }
    }
    let fmt = DateFormat::new(study_format).map_err(|m| InitError::Internal {
        file: file.clone(),
        message: m,
    })?;

    // the id
    let unique_complete = |c: &Col| c.missing == 0 && c.distinct_exact == table.rows.len();
    let id_rank = |c: &Col| {
        first_kw(&c.name, ID_KW)
            .map(|k| ID_KW.iter().position(|x| *x == k).unwrap_or(0))
            .unwrap_or(ID_KW.len())
    };
    let unique = (0..cols.len())
        .filter(|&i| unique_complete(&cols[i]) && cols[i].kind != Kind::Date)
        .min_by_key(|&i| (id_rank(&cols[i]), i));
    // no distinct column: the one named like an id (the run then lists the
    // repeated or blank ids), so that the plan is still a start
    let id = match unique {
        Some(i) => i,
        None => (0..cols.len())
            .filter(|&i| cols[i].kind != Kind::Date && id_rank(&cols[i]) < ID_KW.len())
            .min_by_key(|&i| (id_rank(&cols[i]), i))
            .ok_or_else(|| InitError::NoId { file: file.clone() })?,
    };
    let id_named = first_kw(&cols[id].name, ID_KW).is_some();
    cols[id].kind = Kind::Text;
    cols[id].comments = vec![if unique.is_some() {
        format!(
            "guessed: the patient id ({}filled and distinct in every row)",
            if id_named { "named like an id, " } else { "" }
        )
    } else {
        "guessed: the patient id (named like an id); CHECK: it is blank or repeated in some rows, which the run reports".to_string()
    }];

    // dates, by role
    let dates: BTreeMap<usize, Vec<Option<NaiveDate>>> = (0..cols.len())
        .filter(|&i| cols[i].kind == Kind::Date)
        .map(|i| (i, dates_of(table, &cols[i], &fmt)))
        .collect();
    let names: Vec<String> = cols.iter().map(|c| c.name.clone()).collect();
    let role = |i: usize| -> &'static str {
        let n = &names[i];
        if first_kw(n, DEATH_KW).is_some() {
            "death"
        } else if first_kw(n, PROG_KW).is_some() || first_kw(n, RECUR_KW).is_some() {
            "progression"
        } else if first_kw(n, CENSOR_KW).is_some() {
            "censor"
        } else {
            "other"
        }
    };
    let zero_rank = |i: usize| {
        first_kw(&names[i], ZERO_KW).map(|k| ZERO_KW.iter().position(|x| *x == k).unwrap_or(0))
    };
    let missing: Vec<usize> = cols.iter().map(|c| c.missing).collect();
    let date_cols: Vec<usize> = dates.keys().copied().collect();
    // time zero: a date named like a start (complete ones first), else the
    // complete date column with the earliest median date
    let by_name = date_cols
        .iter()
        .copied()
        .filter(|&i| role(i) == "other" && zero_rank(i).is_some())
        .min_by_key(|&i| (missing[i] > 0, zero_rank(i), i));
    let earliest = date_cols
        .iter()
        .copied()
        .filter(|&i| role(i) != "death")
        .min_by_key(|&i| (missing[i], median_date(&dates[&i]), i));
    let zero = match by_name {
        Some(i) if cols[i].missing == 0 || earliest.is_none_or(|e| cols[e].missing > 0) => {
            cols[i].comments.push(format!(
                "guessed: time zero (the name contains '{}')",
                first_kw(&names[i], ZERO_KW).unwrap_or("")
            ));
            i
        }
        _ => {
            let i = earliest.unwrap_or(date_cols[0]);
            cols[i].comments.push(
                "guessed: time zero (no date named like a start date that is filled in every row; this is the most complete date column with the earliest dates)".into(),
            );
            i
        }
    };
    let zd = dates[&zero].clone();
    // a date column usable as an endpoint date: never before time zero
    let usable = |i: usize, cols: &mut Vec<Col>| -> bool {
        let n = rows_before(&dates[&i], &zd);
        if n > 0 {
            cols[i].comments.push(format!(
                "not used in an endpoint: {n} row(s) have it before time zero"
            ));
        }
        n == 0
    };
    let deaths: Vec<usize> = date_cols
        .iter()
        .copied()
        .filter(|&i| i != zero && role(i) == "death")
        .filter(|&i| usable(i, &mut cols))
        .collect();
    let progs: Vec<usize> = date_cols
        .iter()
        .copied()
        .filter(|&i| i != zero && role(i) == "progression")
        .filter(|&i| usable(i, &mut cols))
        .collect();
    let censor_by_name = date_cols
        .iter()
        .copied()
        .filter(|&i| i != zero && role(i) == "censor")
        .filter(|&i| usable(i, &mut cols))
        .min_by_key(|&i| (missing[i], i));
    let censor = match censor_by_name {
        Some(i) => {
            cols[i].comments.push(format!(
                "guessed: censoring date of the endpoints (the name contains '{}')",
                first_kw(&names[i], CENSOR_KW).unwrap_or("")
            ));
            Some(i)
        }
        None => {
            let i = date_cols
                .iter()
                .copied()
                .filter(|&i| i != zero && role(i) == "other" && rows_before(&dates[&i], &zd) == 0)
                .min_by_key(|&i| (missing[i], std::cmp::Reverse(median_date(&dates[&i])), i));
            if let Some(i) = i {
                cols[i].comments.push(
                    "guessed: censoring date of the endpoints (no date named like a last follow-up; this is the most complete date column with the latest dates)".into(),
                );
            }
            i
        }
    };
    for &i in &deaths {
        cols[i]
            .comments
            .push("guessed: death, the event of overall survival".into());
    }
    for &i in &progs {
        cols[i]
            .comments
            .push("guessed: an event of progression/recurrence-free survival".into());
    }
    // a vital status column (a category with a dead-like level)
    let status = (0..cols.len()).find(|&i| {
        cols[i].kind == Kind::Category
            && cols[i]
                .levels
                .keys()
                .any(|l| DEAD_LEVELS.contains(&l.as_str()))
    });

    // groupings
    let mut groupings: Vec<usize> = (0..cols.len())
        .filter(|&i| {
            i != id
                && (cols[i].kind == Kind::YesNo
                    || (cols[i].kind == Kind::Category && cols[i].levels.len() >= 2))
                && Some(i) != status
        })
        .collect();
    // treatment-like groupings first
    groupings.sort_by_key(|&i| (first_kw(&cols[i].name, ARM_KW).is_none(), i));
    let arm = groupings
        .first()
        .copied()
        .filter(|&i| first_kw(&cols[i].name, ARM_KW).is_some());

    // ---- write ----
    let mut out = String::new();
    let w = |out: &mut String, s: &str| {
        out.push_str(s);
        out.push('\n');
    };
    w(
        &mut out,
        &format!(
            "# survstudy starter plan for {}{}, written by `survstudy plan --init`.",
            c(&table.file),
            table
                .sheet
                .as_deref()
                .map(|s| format!(" (sheet {})", c(s)))
                .unwrap_or_default()
        ),
    );
    w(
        &mut out,
        "# Every `# guessed:` comment is a guess from the column names and cells:",
    );
    w(
        &mut out,
        "# check each one, then run `survstudy plan --check` and `survstudy run --plan`.",
    );
    w(
        &mut out,
        "# `survstudy plan --print` shows the built-in plan with every option explained.",
    );
    for s in &skipped {
        w(&mut out, &format!("# NOTE: {s}"));
    }
    // problems block filled in below (placeholder)
    let problems_at = out.len();

    let mut endpoints: Vec<String> = Vec::new();
    let mut ep_text = String::new();
    let months = |i: usize| -> f64 {
        dates[&i]
            .iter()
            .zip(&zd)
            .filter_map(|(a, z)| Some((*a)? - (*z)?))
            .map(|d| d.num_days() as f64 / 30.4375)
            .fold(0.0, f64::max)
    };
    let mut max_months: f64 = 0.0;
    if let Some(cz) = censor {
        max_months = max_months.max(months(cz));
        let cname = &cols[cz].name;
        if !deaths.is_empty() || status.is_some() {
            endpoints.push("OS".into());
            ep_text.push_str("\n[[endpoints]]\ncode = \"OS\"\nlabel = \"Overall survival\"\n");
            if deaths.is_empty() {
                let s = &cols[status.unwrap_or(0)];
                let dead: Vec<String> = s
                    .levels
                    .iter()
                    .filter(|(k, _)| DEAD_LEVELS.contains(&k.as_str()))
                    .map(|(_, v)| q(v))
                    .collect();
                ep_text.push_str(&format!(
                    "# guessed: no death date, so the status column {} decides the event, dated by {}\nevents = [{}]\nevent_status = {{ column = {}, values = [{}] }}\n",
                    c(&s.name),
                    c(cname),
                    q(cname),
                    q(&s.name),
                    dead.join(", ")
                ));
            } else {
                ep_text.push_str(&format!(
                    "events = [{}]\n",
                    deaths
                        .iter()
                        .map(|&i| q(&cols[i].name))
                        .collect::<Vec<_>>()
                        .join(", ")
                ));
                if let Some(s) = status {
                    ep_text.push_str(&format!(
                        "# {} looks like a vital status: to let it decide the event (a death date then\n# needs the status, and the reverse), add\n#   event_status = {{ column = {}, values = [\"{}\"] }}\n",
                        c(&cols[s].name),
                        q(&cols[s].name),
                        cols[s]
                            .levels
                            .iter()
                            .find(|(k, _)| DEAD_LEVELS.contains(&k.as_str()))
                            .map(|(_, v)| c(v))
                            .unwrap_or_default()
                    ));
                }
            }
            ep_text.push_str(&format!("censor = {}\n", q(cname)));
        }
        if !progs.is_empty() {
            let prog = progs
                .iter()
                .any(|&i| first_kw(&cols[i].name, PROG_KW).is_some());
            let (code, label) = if prog {
                ("PFS", "Progression-free survival")
            } else {
                ("RFS", "Recurrence-free survival")
            };
            endpoints.push(code.into());
            let events: Vec<String> = progs
                .iter()
                .chain(&deaths)
                .map(|&i| q(&cols[i].name))
                .collect();
            ep_text.push_str(&format!(
                "\n[[endpoints]]\ncode = \"{code}\"\nlabel = \"{label}\"\n# guessed: the earliest of {} (death counts as an event)\nevents = [{}]\ncensor = {}\n",
                if prog { "progression and death" } else { "recurrence and death" },
                events.join(", "),
                q(cname)
            ));
        }
        for &i in deaths.iter().chain(&progs) {
            max_months = max_months.max(months(i));
        }
    }
    let mut fill_in: Vec<String> = Vec::new();
    if censor.is_none() {
        fill_in.push("no date column could serve as the censoring (last follow-up) date".into());
    }
    if endpoints.is_empty() {
        fill_in.push(
            "no endpoint was guessed: add [[endpoints]] entries (code, label, events = [event date columns], censor = last follow-up column) and list them in analysis.endpoints".into(),
        );
    }

    if endpoints.is_empty() {
        w(&mut out, "");
        for f in &fill_in {
            w(&mut out, &format!("# FILL IN: {f}"));
        }
        w(&mut out, "endpoints = []");
    }

    w(&mut out, "\n[study]");
    w(
        &mut out,
        &format!(
            "name = {}",
            q(&format!(
                "Study of {}",
                std::path::Path::new(&table.file)
                    .file_name()
                    .map(|f| f.to_string_lossy().to_string())
                    .unwrap_or_else(|| table.file.clone())
            ))
        ),
    );
    w(&mut out, &format!("id_column = {}", q(&cols[id].name)));
    w(&mut out, &format!("# {format_comment}"));
    w(&mut out, &format!("date_format = {}", q(study_format)));
    w(&mut out, &format!("time_zero = {}", q(&cols[zero].name)));
    w(
        &mut out,
        "# analysis times in months of 30.4375 days (or \"days\", \"weeks\", \"years\")",
    );
    w(&mut out, "time_unit = \"months\"");
    w(&mut out, "missing_values = [\"NA\", \"N/A\", \".\"]");

    for (i, col) in cols.iter().enumerate() {
        w(&mut out, "\n[[columns]]");
        for cm in &col.comments {
            w(&mut out, &format!("# {}", cm.replace(['\n', '\r'], " ")));
        }
        w(&mut out, &format!("name = {}", q(&col.name)));
        w(&mut out, &format!("type = \"{}\"", col.kind.toml()));
        let presence = if i == id || (i == zero && col.missing == 0) {
            "required"
        } else {
            "optional"
        };
        w(&mut out, &format!("presence = \"{presence}\""));
        w(&mut out, &format!("label = {}", q(&humanise(&col.name))));
        if col.kind == Kind::Category {
            let mut lv: Vec<&String> = col.levels.values().collect();
            lv.sort_by_key(|s| s.to_lowercase());
            w(
                &mut out,
                &format!(
                    "levels = [{}]",
                    lv.iter().map(|s| q(s)).collect::<Vec<_>>().join(", ")
                ),
            );
        }
    }

    out.push_str(&ep_text);

    for &i in &groupings {
        let col = &cols[i];
        w(&mut out, "\n[[groupings]]");
        if Some(i) == arm {
            w(
                &mut out,
                "# guessed: the treatment/exposure (named like an arm); first in the analyses and the columns of Table 1",
            );
        }
        w(&mut out, &format!("name = {}", q(&col.name)));
        w(&mut out, &format!("label = {}", q(&humanise(&col.name))));
        if col.kind == Kind::YesNo {
            w(&mut out, "kind = \"yes_no\"");
            w(&mut out, &format!("columns = [{}]", q(&col.name)));
            w(
                &mut out,
                "# the first level is the Cox reference: hazard ratios are yes vs no",
            );
            w(&mut out, "levels = [\"no\", \"yes\"]");
        } else {
            let mut lv: Vec<&String> = col.levels.values().collect();
            lv.sort_by_key(|s| s.to_lowercase());
            w(&mut out, "kind = \"category\"");
            w(&mut out, &format!("columns = [{}]", q(&col.name)));
            w(&mut out, "# the first level is the Cox reference");
            w(
                &mut out,
                &format!(
                    "levels = [{}]",
                    lv.iter().map(|s| q(s)).collect::<Vec<_>>().join(", ")
                ),
            );
        }
    }

    let table1: Vec<usize> = (0..cols.len())
        .filter(|&i| {
            i != id
                && matches!(cols[i].kind, Kind::YesNo | Kind::Category | Kind::Number)
                && cols[i].filled > 0
        })
        .collect();
    for &i in &table1 {
        w(&mut out, "\n[[table1]]");
        w(&mut out, &format!("variable = {}", q(&cols[i].name)));
        w(
            &mut out,
            &format!(
                "kind = \"{}\"",
                if cols[i].kind == Kind::Number {
                    "continuous"
                } else {
                    "categorical"
                }
            ),
        );
    }

    w(&mut out, "\n[analysis]");
    if !fill_in.is_empty() && !endpoints.is_empty() {
        for f in &fill_in {
            w(&mut out, &format!("# FILL IN: {f}"));
        }
    }
    w(
        &mut out,
        &format!(
            "endpoints = [{}]",
            endpoints
                .iter()
                .map(|e| q(e))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    );
    let gl: Vec<String> = groupings
        .iter()
        .take(opts.max_groupings)
        .map(|&i| q(&cols[i].name))
        .collect();
    w(
        &mut out,
        "# guessed: Kaplan-Meier, log-rank and univariable Cox by every yes/no and category column",
    );
    w(&mut out, &format!("km_by = [{}]", gl.join(", ")));
    w(&mut out, &format!("cox_univariable = [{}]", gl.join(", ")));
    w(
        &mut out,
        "# FILL IN: the multivariable Cox model's covariates (columns or groupings), e.g. the arm and known prognostic factors",
    );
    w(&mut out, "cox_covariates = []");
    if let Some(a) = arm {
        w(&mut out, &format!("table1_by = {}", q(&cols[a].name)));
    } else {
        w(
            &mut out,
            "# FILL IN: table1_by = \"GROUPING\" to split Table 1 by a grouping",
        );
    }
    let landmarks: Vec<String> = [6.0, 12.0, 24.0, 36.0, 60.0, 120.0]
        .iter()
        .filter(|&&t| t < max_months)
        .take(4)
        .map(|t| format!("{t:.1}"))
        .collect();
    w(
        &mut out,
        "# guessed: survival at these times (months), within the longest follow-up of the file",
    );
    w(&mut out, &format!("landmarks = [{}]", landmarks.join(", ")));

    // check: valid, and what the run would say about the rows
    let plan = Plan::from_toml_str(&out).map_err(|e| InitError::Internal {
        file: file.clone(),
        message: e.to_string(),
    })?;
    let mut problems = Vec::new();
    if let Err(report) = derive(&plan, table, &DeriveOptions::default()) {
        let n = report.problems.len();
        problems.extend(report.problems.iter().take(10).map(|p| {
            let at = p.line.map(|l| format!("line {l}: ")).unwrap_or_default();
            format!("{at}{}", p.reason()).replace(['\n', '\r'], " ")
        }));
        if n > 10 {
            problems.push(format!("… and {} more", n - 10));
        }
    }
    if !problems.is_empty() {
        let mut block = String::from(
            "#\n# PROBLEMS: `survstudy run` with this plan stops on these rows; fix the data or\n# the plan, or run with --exclude-invalid to leave these patients out:\n",
        );
        for p in &problems {
            block.push_str(&format!("#   {p}\n"));
        }
        out.insert_str(problems_at, &block);
    }
    Ok(InitPlan {
        toml: out,
        problems,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingest::parse_csv;

    #[test]
    fn labels_are_readable() {
        assert_eq!(humanise("rand_dt"), "Randomisation");
        assert_eq!(humanise("last_fu_dt"), "Last follow-up");
        assert_eq!(humanise("dt"), "Dt");
        assert_eq!(humanise("MRN"), "MRN");
    }

    #[test]
    fn short_keywords_match_whole_words() {
        assert!(has("last_fu_dt", "fu"));
        assert!(!has("refusal_date", "fu"));
        assert!(has("date_of_death", "death"));
    }

    #[test]
    fn dd_mm_yyyy_is_detected_and_ambiguity_flagged() {
        let csv = "id,start,death,last_contact\n1,01/02/2000,,03/04/2001\n2,02/02/2000,05/06/2000,05/06/2000\n";
        let t = parse_csv("x.csv", csv.as_bytes()).unwrap();
        let p = init_plan(&t, &InitOptions::default()).unwrap();
        assert!(p.toml.contains("date_format = \"%d/%m/%Y\""), "{}", p.toml);
        assert!(p.toml.contains("could as well be month/day/year"));
        let plan = Plan::from_toml_str(&p.toml).unwrap();
        assert_eq!(plan.study.time_zero, "start");
        assert_eq!(plan.endpoints[0].events, ["death"]);
        assert_eq!(plan.endpoints[0].censor, "last_contact");
        assert!(p.problems.is_empty(), "{:?}", p.problems);
    }

    #[test]
    fn an_event_before_time_zero_is_left_out() {
        let csv = "id,diag_date,death_date,progression_date,last_fu\n\
                   a,2000-01-01,,1999-06-01,2001-01-01\n\
                   b,2000-01-01,2000-06-01,,2000-06-01\n";
        let t = parse_csv("x.csv", csv.as_bytes()).unwrap();
        let p = init_plan(&t, &InitOptions::default()).unwrap();
        let plan = Plan::from_toml_str(&p.toml).unwrap();
        assert_eq!(plan.endpoints.len(), 1, "{}", p.toml);
        assert!(p.toml.contains("not used in an endpoint: 1 row(s)"));
        assert!(p.problems.is_empty(), "{:?}", p.problems);
    }

    #[test]
    fn no_dates_is_a_clear_error() {
        let csv = "id,time,status\n1,5,1\n2,7,0\n";
        let t = parse_csv("d.csv", csv.as_bytes()).unwrap();
        let e = init_plan(&t, &InitOptions::default()).unwrap_err();
        assert!(matches!(e, InitError::NoDates { .. }));
        assert!(e.to_string().contains("survstudy km"), "{e}");
        assert!(e.to_string().contains("duration = { column"), "{e}");
    }
}
