//! Forest plot of hazard ratios on a log axis.

mod draw;

use super::frame::draw_title;
use super::scale::{log_ticks, LogScale};
use super::style::{at_least, usable_font_size};
use super::svg::{num, Stroke, SvgDoc, TextStyle};
use crate::report::text::{format_hr_ci, text_width};
use draw::{draw_axis, draw_row};

/// What a forest-plot row shows.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum ForestRowKind {
    /// A hazard ratio with CI (square + whisker + text).
    #[default]
    Estimate,
    /// A bold heading row (e.g. a categorical variable), no marker.
    Header,
    /// The reference level: text "Reference", no marker.
    Reference,
}

/// One row of a forest plot.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ForestRow {
    /// Row label (escaped on output).
    pub label: String,
    /// Indentation level of the label (0 = flush left).
    pub indent: u8,
    /// Row kind.
    pub kind: ForestRowKind,
    /// Hazard ratio; a non-finite or non-positive value is "not estimable".
    pub hr: f64,
    /// Lower 95% limit (non-finite or <= 0: open-ended, drawn with an arrow).
    pub lower: f64,
    /// Upper 95% limit (non-finite: open-ended, drawn with an arrow).
    pub upper: f64,
    /// Formatted p-value (may be empty).
    pub p_text: String,
}

impl ForestRow {
    /// An estimate row.
    pub fn estimate(label: &str, hr: f64, lower: f64, upper: f64, p_text: &str) -> Self {
        ForestRow {
            label: label.to_string(),
            indent: 1,
            kind: ForestRowKind::Estimate,
            hr,
            lower,
            upper,
            p_text: p_text.to_string(),
        }
    }

    /// A heading row.
    pub fn header(label: &str) -> Self {
        ForestRow {
            label: label.to_string(),
            kind: ForestRowKind::Header,
            hr: f64::NAN,
            lower: f64::NAN,
            upper: f64::NAN,
            ..ForestRow::default()
        }
    }

    /// A reference-level row.
    pub fn reference(label: &str) -> Self {
        ForestRow {
            label: label.to_string(),
            indent: 1,
            kind: ForestRowKind::Reference,
            hr: 1.0,
            lower: f64::NAN,
            upper: f64::NAN,
            ..ForestRow::default()
        }
    }

    fn estimable(&self) -> bool {
        self.kind == ForestRowKind::Estimate && self.hr.is_finite() && self.hr > 0.0
    }
}

/// A forest plot.
#[derive(Debug, Clone, PartialEq)]
pub struct ForestPlot {
    /// Figure title (may be empty).
    pub title: String,
    /// Rows from top to bottom.
    pub rows: Vec<ForestRow>,
    /// Header of the label column.
    pub label_header: String,
    /// Header of the estimate column.
    pub estimate_header: String,
    /// Header of the p column.
    pub p_header: String,
    /// Axis label.
    pub x_label: String,
    /// Optional "favours" text left of 1 (e.g. "Favours treatment").
    pub left_note: Option<String>,
    /// Optional "favours" text right of 1.
    pub right_note: Option<String>,
    /// Total width in CSS pixels.
    pub width: f64,
    /// Base font size.
    pub font_size: f64,
    /// Decimals of the HR text.
    pub decimals: usize,
}

impl Default for ForestPlot {
    fn default() -> Self {
        ForestPlot {
            title: String::new(),
            rows: Vec::new(),
            label_header: String::new(),
            estimate_header: "HR (95% CI)".to_string(),
            p_header: "p".to_string(),
            x_label: "Hazard ratio (log scale)".to_string(),
            left_note: None,
            right_note: None,
            width: 720.0,
            font_size: 11.0,
            decimals: 2,
        }
    }
}

pub(crate) struct ForestLayout {
    pub x: LogScale,
    pub ticks: Vec<f64>,
}

fn domain(plot: &ForestPlot) -> (f64, f64, Vec<f64>) {
    let mut lo = f64::INFINITY;
    let mut hi = f64::NEG_INFINITY;
    for r in plot.rows.iter().filter(|r| r.estimable()) {
        for v in [r.hr, r.lower, r.upper] {
            if v.is_finite() && v > 0.0 {
                lo = lo.min(v);
                hi = hi.max(v);
            }
        }
    }
    log_ticks(lo, hi)
}

fn estimate_text(r: &ForestRow, decimals: usize) -> String {
    match r.kind {
        ForestRowKind::Header => String::new(),
        ForestRowKind::Reference => "Reference".to_string(),
        ForestRowKind::Estimate => format_hr_ci(r.hr, r.lower, r.upper, decimals),
    }
}

fn arrow_head(doc: &mut SvgDoc, x: f64, y: f64, dir: f64) {
    // a small filled triangle pointing left (dir < 0) or right (dir > 0)
    let d = format!(
        "M{} {}L{} {}L{} {}Z",
        num(x),
        num(y),
        num(x - dir * 6.0),
        num(y - 3.5),
        num(x - dir * 6.0),
        num(y + 3.5)
    );
    doc.fill_path(&d, "#000", 1.0, "ci-arrow");
}

/// Geometry of the log axis that [`render_forest_svg`] uses.
pub(crate) fn layout(plot: &ForestPlot) -> (ForestLayout, f64, f64) {
    let (fs, width) = sizes(plot);
    let label_w = label_col_width(plot, fs).min(width * 0.34);
    let est_w = est_col_width(plot, fs);
    let p_w = p_col_width(plot, fs);
    let plot_left = PAD + label_w + GAP;
    let plot_right = (width - PAD - p_w - GAP - est_w - GAP).max(plot_left + 80.0);
    let (d0, d1, ticks) = domain(plot);
    (
        ForestLayout {
            x: LogScale {
                d0,
                d1,
                r0: plot_left,
                r1: plot_right,
            },
            ticks,
        },
        label_w,
        est_w,
    )
}

fn sizes(plot: &ForestPlot) -> (f64, f64) {
    (
        usable_font_size(plot.font_size),
        at_least(plot.width, 300.0, 720.0),
    )
}

fn label_col_width(plot: &ForestPlot, fs: f64) -> f64 {
    plot.rows
        .iter()
        .map(|r| {
            f64::from(r.indent) * 12.0 + text_width(&r.label, fs, r.kind == ForestRowKind::Header)
        })
        .fold(text_width(&plot.label_header, fs, true), f64::max)
}

fn est_col_width(plot: &ForestPlot, fs: f64) -> f64 {
    plot.rows
        .iter()
        .map(|r| text_width(&estimate_text(r, plot.decimals), fs, false))
        .fold(text_width(&plot.estimate_header, fs, true), f64::max)
}

fn p_col_width(plot: &ForestPlot, fs: f64) -> f64 {
    plot.rows
        .iter()
        .map(|r| text_width(&r.p_text, fs, false))
        .fold(text_width(&plot.p_header, fs, true), f64::max)
        .min(120.0)
}

/// Vertical positions of the forest plot.
struct Rows {
    fs: f64,
    width: f64,
    row_h: f64,
    header_y: f64,
    rule_y: f64,
    first_row_y: f64,
    axis_y: f64,
    x_label_y: f64,
    height: f64,
    /// Left edges of the estimate and p columns.
    x_est: f64,
    x_p: f64,
    label_w: f64,
}

const PAD: f64 = 12.0;
const GAP: f64 = 16.0;

fn rows_layout(plot: &ForestPlot, lay: &ForestLayout, label_w: f64, est_w: f64) -> Rows {
    let (fs, width) = sizes(plot);
    let row_h = (fs * 1.75).round();
    let title_h = if plot.title.trim().is_empty() {
        0.0
    } else {
        fs * 1.3 + 10.0
    };
    let header_y = PAD + title_h + fs;
    let rule_y = header_y + 6.0;
    let axis_y = rule_y + row_h * plot.rows.len() as f64 + 8.0;
    let x_label_y = axis_y + 9.0 + fs + fs + 6.0;
    let notes = plot.left_note.is_some() || plot.right_note.is_some();
    let height = if notes {
        x_label_y + fs + 8.0 + PAD
    } else {
        x_label_y + PAD
    }
    .ceil();
    let x_est = lay.x.r1 + GAP;
    Rows {
        fs,
        width,
        row_h,
        header_y,
        rule_y,
        first_row_y: rule_y + row_h * 0.5,
        axis_y,
        x_label_y,
        height,
        x_est,
        x_p: x_est + est_w + GAP,
        label_w,
    }
}

/// Renders the forest plot as a standalone SVG document. Rows whose HR is
/// not a finite positive number get no marker and the text "not
/// estimable"; open-ended CIs are drawn to the axis end with an arrow.
pub fn render_forest_svg(plot: &ForestPlot) -> String {
    let (lay, label_w, est_w) = layout(plot);
    let rw = rows_layout(plot, &lay, label_w, est_w);
    let fs = rw.fs;
    let mut doc = SvgDoc::new(rw.width, rw.height, &plot.title);
    draw_title(&mut doc, (PAD, PAD + fs * 1.25), &plot.title, fs);
    let hdr = TextStyle {
        size: fs,
        bold: true,
        class: Some("col-header"),
        ..TextStyle::default()
    };
    doc.text(PAD, rw.header_y, &plot.label_header, &hdr);
    doc.text(rw.x_est, rw.header_y, &plot.estimate_header, &hdr);
    doc.text(rw.x_p, rw.header_y, &plot.p_header, &hdr);
    doc.line(
        PAD,
        rw.rule_y,
        rw.width - PAD,
        rw.rule_y,
        &Stroke {
            color: "#000",
            width: 0.8,
            ..Stroke::default()
        },
    );
    // reference line at HR = 1
    let x1 = lay.x.map(1.0);
    doc.line(
        x1,
        rw.rule_y + 2.0,
        x1,
        rw.axis_y,
        &Stroke {
            color: "#777",
            width: 1.0,
            dash: Some("4 3"),
            class: Some("ref-line"),
        },
    );
    for (i, r) in plot.rows.iter().enumerate() {
        draw_row(&mut doc, plot, &lay, &rw, i, r);
    }
    draw_axis(&mut doc, plot, &lay, &rw);
    doc.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> ForestPlot {
        ForestPlot {
            rows: vec![
                ForestRow::header("Treatment"),
                ForestRow::reference("Chemo"),
                ForestRow::estimate("Immuno", 0.62, 0.41, 0.93, "0.021"),
                ForestRow::estimate("Age per 10 y", 1.1, 0.9, 1.35, "0.35"),
                ForestRow::estimate("Rare subtype", f64::INFINITY, f64::NAN, f64::NAN, ""),
                ForestRow::estimate("Wide", 2.0, 0.0, f64::INFINITY, "0.50"),
            ],
            ..ForestPlot::default()
        }
    }

    #[test]
    fn log_axis_domain_covers_finite_cis() {
        let (lay, _, _) = layout(&sample());
        assert_eq!(lay.ticks, vec![0.25, 0.5, 1.0, 2.0]);
        let mid = (lay.x.r0 + lay.x.r1) / 2.0;
        // 0.25..2: 1 sits 2/3 of the way in log space
        let x1 = lay.x.map(1.0);
        assert!(x1 > mid);
        assert!(
            (lay.x.map(0.5) - lay.x.map(0.25) - (lay.x.map(2.0) - lay.x.map(1.0))).abs() < 1e-9
        );
    }

    #[test]
    fn markers_only_for_estimable_rows() {
        let svg = render_forest_svg(&sample());
        assert_eq!(svg.matches("class=\"hr-marker\"").count(), 3);
        assert_eq!(svg.matches("class=\"whisker\"").count(), 3);
        assert!(svg.contains("not estimable"));
        assert!(svg.contains("Reference"));
        // open-ended CI of "Wide" gets two arrows
        assert_eq!(svg.matches("class=\"ci-arrow\"").count(), 2);
    }
}
