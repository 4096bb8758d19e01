//! The number-at-risk table under a Kaplan–Meier figure: one row per group,
//! one column per x tick (the same x coordinates as the tick labels).

use super::frame::{Frame, PAD};
use super::style::{colour, PlotStyle};
use super::svg::{Anchor, SvgDoc, TextStyle};
use crate::report::text::{suppress, text_width, truncate_to_width};

/// One row of a survival table: `n_risk` subjects were at risk just before
/// `time` (i.e. had follow-up `>= time`).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct RiskPoint {
    /// Time of an event or a censoring.
    pub time: f64,
    /// Number at risk at that time.
    pub n_risk: u64,
}

/// Where the number-at-risk figures of a group come from.
#[derive(Debug, Clone, Default, PartialEq)]
pub enum AtRisk {
    /// No row in the number-at-risk table for this group.
    #[default]
    None,
    /// A survival table with a row for **every** distinct event or
    /// censoring time; numbers at the ticks are derived with [`n_at_risk`].
    Table(Vec<RiskPoint>),
    /// Numbers already computed by the caller, one per x tick (missing
    /// entries are left blank).
    AtTicks(Vec<u64>),
}

/// Number at risk at `t` from a survival table that lists every distinct
/// event/censoring time: the `n_risk` of the first row at or after `t`, or
/// 0 past the last row. Rows need not be sorted; non-finite times are
/// ignored.
pub fn n_at_risk(table: &[RiskPoint], t: f64) -> u64 {
    table
        .iter()
        .filter(|r| r.time.is_finite() && r.time >= t)
        .min_by(|a, b| a.time.total_cmp(&b.time))
        .map_or(0, |r| r.n_risk)
}

/// The rows of the table: (group index, number at each tick).
pub(crate) struct RiskTable {
    pub rows: Vec<(usize, Vec<Option<u64>>)>,
    label_w: f64,
    first_half: f64,
}

impl RiskTable {
    /// Rows for the groups (label, source) that have a source, at `ticks`.
    pub(crate) fn new<'a>(
        groups: impl Iterator<Item = (&'a str, &'a AtRisk)>,
        ticks: &[f64],
        style: &PlotStyle,
        fs: f64,
    ) -> RiskTable {
        let mut label_w: f64 = 0.0;
        let rows: Vec<(usize, Vec<Option<u64>>)> = groups
            .enumerate()
            .filter_map(|(i, (label, at_risk))| {
                let nums = match at_risk {
                    AtRisk::None => return None,
                    AtRisk::Table(tab) => ticks.iter().map(|&t| Some(n_at_risk(tab, t))).collect(),
                    AtRisk::AtTicks(v) => (0..ticks.len()).map(|k| v.get(k).copied()).collect(),
                };
                label_w = label_w.max(text_width(label, fs, true).min(170.0));
                Some((i, nums))
            })
            .collect();
        let first_half = rows
            .iter()
            .filter_map(|(_, v)| v.first().copied().flatten())
            .map(|n| text_width(&suppress(n, style.suppress_below), fs, false) / 2.0)
            .fold(0.0, f64::max);
        RiskTable {
            rows,
            label_w,
            first_half,
        }
    }

    /// Room the row labels need left of the plot (0 without rows).
    pub(crate) fn left_need(&self) -> f64 {
        if self.rows.is_empty() {
            0.0
        } else {
            PAD + self.label_w + 10.0 + self.first_half
        }
    }

    fn top(fr: &Frame) -> f64 {
        fr.text_bottom() + 10.0
    }

    /// Figure height with the table under the frame.
    pub(crate) fn height(&self, fr: &Frame) -> f64 {
        if self.rows.is_empty() {
            fr.height
        } else {
            Self::top(fr) + fr.row_h * (self.rows.len() as f64 + 1.0) + PAD
        }
    }

    /// Draws the table (nothing without rows); `labels[i]` is group i's.
    pub(crate) fn draw(&self, doc: &mut SvgDoc, style: &PlotStyle, fr: &Frame, labels: &[&str]) {
        if self.rows.is_empty() {
            return;
        }
        let fs = fr.fs;
        let top = Self::top(fr);
        doc.open_group("risk-table");
        doc.text(
            PAD,
            top + fs,
            &style.risk_table_title,
            &TextStyle {
                size: fs,
                bold: true,
                class: Some("risk-title"),
                ..TextStyle::default()
            },
        );
        for (r, (gi, nums)) in self.rows.iter().enumerate() {
            let col = colour(style, *gi);
            let ry = top + fs + fr.row_h * (r as f64 + 1.0);
            doc.text(
                fr.left - self.first_half - 10.0,
                ry,
                &truncate_to_width(labels[*gi], fs, true, self.label_w + 0.5),
                &TextStyle {
                    size: fs,
                    anchor: Anchor::End,
                    bold: true,
                    fill: &col,
                    class: Some("risk-label"),
                    ..TextStyle::default()
                },
            );
            for (k, &t) in fr.ticks.iter().enumerate() {
                if let Some(Some(n)) = nums.get(k) {
                    doc.text(
                        fr.x.map(t),
                        ry,
                        &suppress(*n, style.suppress_below),
                        &TextStyle {
                            size: fs,
                            anchor: Anchor::Middle,
                            class: Some("risk"),
                            ..TextStyle::default()
                        },
                    );
                }
            }
        }
        doc.close_group();
    }
}
