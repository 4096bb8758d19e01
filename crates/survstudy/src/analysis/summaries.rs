//! The plan's `[[summaries]]`: descriptive tables of the analysed cohort.
//!
//! * flags: n "yes" / (n "yes" + n "no") per yes/no column or `any_yes`
//!   grouping (patients with a missing value are not in the denominator);
//! * cross-table: patients with a value of both groupings, by level pair;
//! * intervals: median and range of days between two dates (R's
//!   `median()`, `range()` on the non-missing values), also divided by the
//!   plan's days per time unit;
//! * breakdown: n (%) of each value of a category column, overall and by a
//!   grouping (percentages of the patients in the column; patients without
//!   a value are a row of their own, `missing_label`, last).
//!
//! The first summary of each kind fills the `patterns` (flags, cross-table,
//! intervals) and `next_line` (breakdown) keys of results.json; any further
//! ones are listed in `summaries`, each tagged with its `kind` and `title`.

use serde::Serialize;

use super::{pct, table1};
use crate::derive::Cohort;
use crate::plan::{Plan, SummaryKind, SummarySpec};

/// One flag row.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct PatternRow {
    /// Flag column or grouping (plan name).
    pub name: String,
    /// Label as displayed.
    pub label: String,
    /// Patients with the flag set (`yes`).
    pub n: usize,
    /// Patients with the flag known.
    pub denominator: usize,
    /// Percent of `denominator` (`None` when it is 0).
    pub pct: Option<f64>,
}

/// Patient counts of one grouping by another.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct CrossTable {
    /// Grouping of the rows (plan name).
    pub rows: String,
    /// Grouping of the columns (plan name).
    pub cols: String,
    /// Levels of `rows`, in level order.
    pub row_levels: Vec<String>,
    /// Levels of `cols`, in level order.
    pub col_levels: Vec<String>,
    /// Patients per row level (outer) and column level (inner).
    pub counts: Vec<Vec<usize>>,
    /// Labels of the two groupings (report only).
    #[serde(skip)]
    pub rows_label: String,
    #[serde(skip)]
    /// Label of the column grouping (report only).
    pub cols_label: String,
}

/// Days (and plan units) between two dates.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct IntervalSummary {
    /// Interval name (plan key).
    pub name: String,
    /// Label as displayed.
    pub label: String,
    /// Patients with both dates.
    pub n: usize,
    /// Median interval in days.
    pub median_days: Option<f64>,
    /// Shortest interval in days.
    pub min_days: Option<f64>,
    /// Longest interval in days.
    pub max_days: Option<f64>,
    /// Median interval in the plan's unit.
    pub median: Option<f64>,
    /// Shortest interval in the plan's unit.
    pub min: Option<f64>,
    /// Longest interval in the plan's unit.
    pub max: Option<f64>,
    /// The plan's time unit (e.g. `months`).
    pub unit: String,
    /// Row label of the report's intervals table, which gives the interval
    /// in the study unit and in days: the plan's label with a leading
    /// "Days from " said as "Time from " (not in results.json).
    #[serde(skip)]
    pub time_label: String,
}

/// `patterns` of results.json: the first flags, cross-table and intervals
/// summaries of the plan.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct Patterns {
    /// The first flags summary.
    pub rows: Vec<PatternRow>,
    /// The first cross-table summary.
    pub cross_table: Option<CrossTable>,
    /// The first intervals summary.
    pub intervals: Vec<IntervalSummary>,
}

/// A breakdown of a category overall and by a grouping (`next_line` of
/// results.json for the first one).
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct NextLine {
    /// Label of the `by` grouping (report only).
    #[serde(skip)]
    pub by_label: String,
    /// The `by` grouping (plan name), if any.
    pub by: Option<String>,
    /// Levels of `by`, in level order.
    pub by_levels: Vec<String>,
    /// One row per category value.
    pub rows: Vec<NextLineRow>,
    /// Patients with a value of the category.
    pub n: usize,
    /// Patients per `by` level.
    pub n_by: Vec<usize>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
/// One category value of a breakdown.
pub struct NextLineRow {
    /// The category value.
    pub category: String,
    /// Patients with the value.
    pub n: usize,
    /// Percent of the patients with a value.
    pub pct: Option<f64>,
    /// Per `by` level, in level order.
    pub by: Vec<super::table1::GroupCount>,
}

/// A summary beyond the first of its kind (`summaries` of results.json).
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ExtraSummary {
    /// Yes/no flags counted over the population.
    Flags {
        /// Title of the table.
        title: String,
        /// One row per flag.
        rows: Vec<PatternRow>,
    },
    /// Patient counts of one grouping by another.
    CrossTable {
        /// Title of the table.
        title: String,
        /// The counts.
        table: CrossTable,
    },
    /// Days between pairs of dates.
    Intervals {
        /// Title of the table.
        title: String,
        /// One row per interval.
        intervals: Vec<IntervalSummary>,
    },
    /// A category overall and by a grouping.
    Breakdown {
        /// Title of the table.
        title: String,
        /// The counts.
        table: NextLine,
    },
}

/// Where the table of one summary is in [`super::Results`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SummaryPlace {
    /// `Patterns::rows`.
    PatternRows,
    /// `Patterns::cross_table`.
    PatternCrossTable,
    /// `Patterns::intervals`.
    PatternIntervals,
    /// `Results::next_line`.
    NextLine,
    /// Index into `Results::summaries`.
    Extra(usize),
}

/// How the report shows one summary, in plan order (not in results.json).
#[derive(Debug, Clone, PartialEq)]
pub struct SummaryLayout {
    /// Which kind of summary it is.
    pub kind: SummaryKind,
    /// Starts a new report section with this heading.
    pub heading: Option<String>,
    /// Title of the table.
    pub title: String,
    /// Header of the table's first column.
    pub row_header: String,
    /// Footnote under the table.
    pub footnote: Option<String>,
    /// Where the summary's numbers are in the results.
    pub place: SummaryPlace,
}

/// Everything the summaries give [`super::Results`].
#[derive(Debug, Clone, Default)]
pub struct SummaryResults {
    /// The first flags, cross-table and intervals summaries.
    pub patterns: Patterns,
    /// The first breakdown summary.
    pub next_line: Option<NextLine>,
    /// Every further summary, in plan order.
    pub extra: Vec<ExtraSummary>,
    /// How the report shows each summary, in plan order.
    pub layout: Vec<SummaryLayout>,
}

/// Default footnote of a flags table.
const FLAGS_FOOTNOTE: &str = "The rows are not mutually exclusive: a patient can be counted in \
                              more than one, so the percentages do not add up to 100%.";

/// Compute the plan's summaries. Without an intervals summary, the plan's
/// `[[intervals]]` (if any) are summarised after the others.
///
/// Contract: `plan.summaries` (and `plan.intervals`) name columns of
/// `cohort`, read per patient. Output: the first summary of each kind in its
/// standard place (`patterns`, `next_line`), later ones in `extra`, and
/// `layout` giving the plan order. Counts and percentages only, with no
/// failure path: missing values are counted, not errors.
pub fn analyse_summaries(plan: &Plan, cohort: &Cohort) -> SummaryResults {
    let mut out = SummaryResults::default();
    let mut specs: Vec<SummarySpec> = plan.summaries.clone();
    if !plan.intervals.is_empty() && !specs.iter().any(|s| s.kind == SummaryKind::Intervals) {
        specs.push(SummarySpec {
            kind: SummaryKind::Intervals,
            heading: Some("Intervals between dates".into()),
            title: None,
            row_header: None,
            footnote: None,
            flags: vec![],
            rows: None,
            cols: None,
            row_levels: vec![],
            col_levels: vec![],
            intervals: vec![],
            column: None,
            by: None,
            by_levels: vec![],
            missing_label: None,
        });
    }
    let (mut rows_done, mut cross_done, mut iv_done, mut nl_done) = (false, false, false, false);
    for s in &specs {
        let column_label = |name: &str| {
            plan.column(name)
                .map(|c| c.display_label().to_string())
                .unwrap_or_else(|| name.to_string())
        };
        let (title, row_header, footnote, place) = match s.kind {
            SummaryKind::Flags => {
                let rows = flags(plan, cohort, &s.flags);
                let title = s
                    .title
                    .clone()
                    .unwrap_or_else(|| "Yes/no characteristics".into());
                let place = if rows_done {
                    out.extra.push(ExtraSummary::Flags {
                        title: title.clone(),
                        rows,
                    });
                    SummaryPlace::Extra(out.extra.len() - 1)
                } else {
                    rows_done = true;
                    out.patterns.rows = rows;
                    SummaryPlace::PatternRows
                };
                let footnote = s.footnote.clone().unwrap_or_else(|| FLAGS_FOOTNOTE.into());
                (title, s.row_header.clone(), Some(footnote), place)
            }
            SummaryKind::CrossTable => {
                let (Some(r), Some(c)) = (&s.rows, &s.cols) else {
                    continue;
                };
                let Some(t) = cross_table(cohort, r, c, &s.row_levels, &s.col_levels) else {
                    continue;
                };
                let title = s.title.clone().unwrap_or_else(|| {
                    format!("{} by {} (number of patients)", t.rows_label, t.cols_label)
                });
                let place = if cross_done {
                    out.extra.push(ExtraSummary::CrossTable {
                        title: title.clone(),
                        table: t,
                    });
                    SummaryPlace::Extra(out.extra.len() - 1)
                } else {
                    cross_done = true;
                    out.patterns.cross_table = Some(t);
                    SummaryPlace::PatternCrossTable
                };
                (title, None, None, place)
            }
            SummaryKind::Intervals => {
                let ivs = intervals(plan, cohort, &s.intervals);
                let title = s
                    .title
                    .clone()
                    .unwrap_or_else(|| "Intervals between dates".into());
                let place = if iv_done {
                    out.extra.push(ExtraSummary::Intervals {
                        title: title.clone(),
                        intervals: ivs,
                    });
                    SummaryPlace::Extra(out.extra.len() - 1)
                } else {
                    iv_done = true;
                    out.patterns.intervals = ivs;
                    SummaryPlace::PatternIntervals
                };
                (title, None, None, place)
            }
            SummaryKind::Breakdown => {
                let Some(col) = &s.column else { continue };
                let missing = s.missing_label.as_deref().unwrap_or("missing");
                let Some(t) = breakdown(cohort, col, s.by.as_deref(), &s.by_levels, missing) else {
                    continue;
                };
                let title = s.title.clone().unwrap_or_else(|| column_label(col));
                let place = if nl_done {
                    out.extra.push(ExtraSummary::Breakdown {
                        title: title.clone(),
                        table: t,
                    });
                    SummaryPlace::Extra(out.extra.len() - 1)
                } else {
                    nl_done = true;
                    out.next_line = Some(t);
                    SummaryPlace::NextLine
                };
                let header = s.row_header.clone().or_else(|| Some(column_label(col)));
                (title, header, None, place)
            }
        };
        out.layout.push(SummaryLayout {
            kind: s.kind,
            heading: s.heading.clone(),
            row_header: row_header.unwrap_or_else(|| match s.kind {
                SummaryKind::Intervals => "Interval".into(),
                _ => "Characteristic".into(),
            }),
            title,
            footnote,
            place,
        });
    }
    out
}

fn flags(plan: &Plan, cohort: &Cohort, names: &[String]) -> Vec<PatternRow> {
    names
        .iter()
        .filter_map(|name| {
            let f = cohort.flag_count(name)?;
            let label = cohort
                .grouping(name)
                .map(|g| g.label.clone())
                .or_else(|| plan.column(name).map(|c| c.display_label().to_string()))
                .unwrap_or_else(|| name.clone());
            Some(PatternRow {
                name: name.clone(),
                label,
                n: f.yes,
                denominator: f.yes + f.no,
                pct: pct(f.yes, f.yes + f.no),
            })
        })
        .collect()
}

/// `order` if given, else all `levels`.
fn ordered(levels: &[String], order: &[String]) -> Vec<String> {
    if order.is_empty() {
        levels.to_vec()
    } else {
        order.to_vec()
    }
}

fn cross_table(
    cohort: &Cohort,
    rows: &str,
    cols: &str,
    row_order: &[String],
    col_order: &[String],
) -> Option<CrossTable> {
    let a = cohort.grouping(rows)?;
    let b = cohort.grouping(cols)?;
    let ra = ordered(&a.levels, row_order);
    let cb = ordered(&b.levels, col_order);
    let mut counts = vec![vec![0usize; cb.len()]; ra.len()];
    // level of each distinct label, then one pass over the codes
    let (ia, ib) = (a.labels.table_index(&ra), b.labels.table_index(&cb));
    for (x, y) in a.labels.codes().iter().zip(b.labels.codes()) {
        if let (Some(i), Some(j)) = (ia[x as usize], ib[y as usize]) {
            counts[i][j] += 1;
        }
    }
    Some(CrossTable {
        rows: a.name.clone(),
        cols: b.name.clone(),
        row_levels: ra,
        col_levels: cb,
        counts,
        rows_label: a.label.clone(),
        cols_label: b.label.clone(),
    })
}

fn intervals(plan: &Plan, cohort: &Cohort, names: &[String]) -> Vec<IntervalSummary> {
    let dpu = plan.study.days_per_unit();
    cohort
        .intervals
        .iter()
        .filter(|iv| names.is_empty() || names.contains(&iv.name))
        .map(|iv| {
            let d: Vec<f64> = iv.days.iter().flatten().map(|&x| x as f64).collect();
            let s = table1::num_summary(&d);
            IntervalSummary {
                name: iv.name.clone(),
                label: iv.label.clone(),
                n: s.n,
                median_days: s.median,
                min_days: s.min,
                max_days: s.max,
                median: s.median.map(|x| x / dpu),
                min: s.min.map(|x| x / dpu),
                max: s.max.map(|x| x / dpu),
                unit: plan.study.time_unit.name().to_string(),
                time_label: match iv.label.strip_prefix("Days from ") {
                    Some(rest) => format!("Time from {rest}"),
                    None => iv.label.clone(),
                },
            }
        })
        .collect()
}

/// None when the column is not in the file or nobody is analysed.
fn breakdown(
    cohort: &Cohort,
    column: &str,
    by: Option<&str>,
    by_order: &[String],
    missing: &str,
) -> Option<NextLine> {
    let n = cohort.patients.len();
    if n == 0 || !cohort.present_columns.iter().any(|c| c == column) {
        return None;
    }
    let by = by.and_then(|b| cohort.grouping(b));
    let by_levels: Vec<String> = by.map(|g| ordered(&g.levels, by_order)).unwrap_or_default();
    // one pass: each patient's category as a code into the distinct values
    // (no String per patient), counted per level of `by`
    let mut code_of: std::collections::HashMap<&str, usize> = std::collections::HashMap::new();
    let mut distinct: Vec<&str> = Vec::new();
    let cats: Vec<usize> = cohort
        .patients
        .iter()
        .map(|p| {
            let c = p.category(column).unwrap_or(missing);
            *code_of.entry(c).or_insert_with(|| {
                distinct.push(c);
                distinct.len() - 1
            })
        })
        .collect();
    let mut levels: Vec<&str> = distinct.clone();
    levels.sort_unstable();
    // the patients without a value last
    levels.sort_by_key(|l| *l == missing);
    let bi: Vec<Option<usize>> = match by {
        Some(g) => {
            let idx = g.labels.table_index(&by_levels);
            g.labels.codes().iter().map(|c| idx[c as usize]).collect()
        }
        None => vec![None; n],
    };
    let nb = by_levels.len();
    let mut n_by = vec![0usize; nb];
    // counts[code][b]: column nb is the total
    let mut counts = vec![vec![0usize; nb + 1]; distinct.len()];
    for (&c, b) in cats.iter().zip(&bi) {
        counts[c][nb] += 1;
        if let Some(b) = *b {
            counts[c][b] += 1;
            n_by[b] += 1;
        }
    }
    let rows = levels
        .iter()
        .map(|l| {
            let cnt = &counts[code_of[l]];
            let k = cnt[nb];
            NextLineRow {
                category: l.to_string(),
                n: k,
                pct: pct(k, n),
                by: (0..nb)
                    .map(|b| super::table1::GroupCount {
                        n: cnt[b],
                        pct: pct(cnt[b], n_by[b]),
                    })
                    .collect(),
            }
        })
        .collect();
    Some(NextLine {
        by_label: by.map(|g| g.label.clone()).unwrap_or_default(),
        by: by.map(|g| g.name.clone()),
        by_levels,
        rows,
        n,
        n_by,
    })
}
