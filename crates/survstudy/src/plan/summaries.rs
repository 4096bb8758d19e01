//! `[[summaries]]`: descriptive tables any study can ask for (plan section
//! and its validation).
//!
//! * `kind = "flags"`: the number and percentage of "yes" of yes/no columns
//!   (or `any_yes` groupings), one row each;
//! * `kind = "cross_table"`: patient counts of one grouping (`rows`) by
//!   another (`cols`), with totals;
//! * `kind = "intervals"`: median (range) of `[[intervals]]` (days between
//!   two dates), in days and in the plan's time unit;
//! * `kind = "breakdown"`: the values of a category `column`, n (%) overall
//!   and by the levels of a grouping `by`.
//!
//! In the report, a summary with a `heading` starts a new section; one
//! without joins the section before it.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use super::validate::PlanProblem;
use super::{ColumnType, GroupingKind, Plan};

/// What a `[[summaries]]` entry tabulates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SummaryKind {
    /// Counts of yes/no flags.
    Flags,
    /// Patient counts of one grouping by another.
    CrossTable,
    /// Days between pairs of dates.
    Intervals,
    /// A category overall and by a grouping.
    Breakdown,
}

impl SummaryKind {
    /// The kind as written in the plan (`flags`, `cross_table`, …).
    pub fn name(self) -> &'static str {
        match self {
            SummaryKind::Flags => "flags",
            SummaryKind::CrossTable => "cross_table",
            SummaryKind::Intervals => "intervals",
            SummaryKind::Breakdown => "breakdown",
        }
    }
}

/// One `[[summaries]]` entry. Which fields apply depends on `kind`
/// (validation names any field that does not).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SummarySpec {
    /// What the entry tabulates.
    pub kind: SummaryKind,
    /// Report section heading; without it the table joins the section of
    /// the summary before it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub heading: Option<String>,
    /// Table caption.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// Header of the first column (flags, breakdown).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub row_header: Option<String>,
    /// Note under the table (flags).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub footnote: Option<String>,
    /// flags: yes/no columns or `any_yes` groupings.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub flags: Vec<String>,
    /// cross_table: grouping of the rows.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rows: Option<String>,
    /// cross_table: grouping of the columns.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cols: Option<String>,
    /// cross_table: order of the row levels (default: the grouping's).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub row_levels: Vec<String>,
    /// cross_table: order of the column levels (default: the grouping's).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub col_levels: Vec<String>,
    /// intervals: names of `[[intervals]]` (default: all).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub intervals: Vec<String>,
    /// breakdown: the category (or text) column broken down.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub column: Option<String>,
    /// breakdown: grouping of the columns after "Overall".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub by: Option<String>,
    /// breakdown: order of the `by` levels (default: the grouping's).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub by_levels: Vec<String>,
    /// breakdown: row of the patients without a value (default "missing").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub missing_label: Option<String>,
}

impl SummarySpec {
    /// Fields given that `kind` does not use.
    fn foreign_fields(&self) -> Vec<&'static str> {
        use SummaryKind::*;
        let given = [
            (
                "row_header",
                self.row_header.is_some(),
                &[Flags, Breakdown][..],
            ),
            ("footnote", self.footnote.is_some(), &[Flags][..]),
            ("flags", !self.flags.is_empty(), &[Flags][..]),
            ("rows", self.rows.is_some(), &[CrossTable][..]),
            ("cols", self.cols.is_some(), &[CrossTable][..]),
            ("row_levels", !self.row_levels.is_empty(), &[CrossTable][..]),
            ("col_levels", !self.col_levels.is_empty(), &[CrossTable][..]),
            ("intervals", !self.intervals.is_empty(), &[Intervals][..]),
            ("column", self.column.is_some(), &[Breakdown][..]),
            ("by", self.by.is_some(), &[Breakdown][..]),
            ("by_levels", !self.by_levels.is_empty(), &[Breakdown][..]),
            (
                "missing_label",
                self.missing_label.is_some(),
                &[Breakdown][..],
            ),
        ];
        given
            .iter()
            .filter(|(_, on, kinds)| *on && !kinds.contains(&self.kind))
            .map(|(f, _, _)| *f)
            .collect()
    }
}

/// Every problem of the plan's `[[summaries]]`.
pub(super) fn problems(plan: &Plan) -> Vec<PlanProblem> {
    let mut out = Vec::new();
    if plan.summaries.len() > super::plan_limits::LIST {
        out.push(PlanProblem {
            section: "summaries".into(),
            message: format!(
                "{} summaries; at most {} are allowed",
                plan.summaries.len(),
                super::plan_limits::LIST
            ),
        });
        return out;
    }
    for (i, s) in plan.summaries.iter().enumerate() {
        let section = format!("summaries[{}] ({})", i + 1, s.kind.name());
        let mut push = |message: String| {
            out.push(PlanProblem {
                section: section.clone(),
                message,
            })
        };
        let foreign = s.foreign_fields();
        if !foreign.is_empty() {
            push(format!(
                "field(s) {} are not used by kind = \"{}\"",
                foreign.join(", "),
                s.kind.name()
            ));
        }
        for (f, v) in [
            ("heading", &s.heading),
            ("title", &s.title),
            ("row_header", &s.row_header),
            ("missing_label", &s.missing_label),
        ] {
            if v.as_deref().is_some_and(|t| t.trim().is_empty()) {
                push(format!("{f} is empty"));
            }
        }
        match s.kind {
            SummaryKind::Flags => {
                if s.flags.is_empty() {
                    push("flags is empty: list yes/no columns or any_yes groupings".into());
                }
                for f in &s.flags {
                    let column = plan.column(f).is_some_and(|c| c.kind == ColumnType::YesNo);
                    let any_yes = plan
                        .grouping(f)
                        .is_some_and(|g| g.kind == GroupingKind::AnyYes);
                    if !column && !any_yes {
                        push(format!(
                            "flags: '{f}' is neither a yes_no column nor an any_yes grouping"
                        ));
                    }
                }
            }
            SummaryKind::CrossTable => {
                for (f, g, levels) in [
                    ("rows", &s.rows, &s.row_levels),
                    ("cols", &s.cols, &s.col_levels),
                ] {
                    let Some(name) = g else {
                        push(format!("{f} is missing: name a grouping"));
                        continue;
                    };
                    grouping_levels(plan, f, name, levels, &mut push);
                }
            }
            SummaryKind::Intervals => {
                for iv in &s.intervals {
                    if !plan.intervals.iter().any(|x| &x.name == iv) {
                        push(format!("intervals: unknown interval '{iv}'"));
                    }
                }
            }
            SummaryKind::Breakdown => {
                match s.column.as_deref().map(|c| (c, plan.column(c))) {
                    None => push("column is missing: name a category column".into()),
                    Some((c, None)) => push(format!("column: unknown column '{c}'")),
                    Some((c, Some(spec)))
                        if !matches!(spec.kind, ColumnType::Category | ColumnType::Text) =>
                    {
                        push(format!(
                            "column '{c}' has type {:?}, expected a category or text column",
                            spec.kind
                        ))
                    }
                    _ => {}
                }
                match &s.by {
                    Some(by) => grouping_levels(plan, "by", by, &s.by_levels, &mut push),
                    None if !s.by_levels.is_empty() => push("by_levels given without by".into()),
                    None => {}
                }
            }
        }
    }
    out
}

/// `name` must be a grouping and `levels` (an order) some of its levels.
fn grouping_levels(
    plan: &Plan,
    field: &str,
    name: &str,
    levels: &[String],
    push: &mut impl FnMut(String),
) {
    let Some(g) = plan.grouping(name) else {
        push(format!("{field}: unknown grouping '{name}'"));
        return;
    };
    let mut seen = BTreeSet::new();
    for l in levels {
        if !seen.insert(l) {
            push(format!("{field}: level '{l}' is listed twice"));
        }
        if !g.levels.is_empty() && !g.levels.contains(l) {
            push(format!(
                "{field}: '{l}' is not a level of grouping '{name}' (levels: {})",
                g.levels.join(", ")
            ));
        }
    }
}
