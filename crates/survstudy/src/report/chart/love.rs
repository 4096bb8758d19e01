//! Love plot (covariate balance): one row per covariate or category level,
//! its standardized mean difference before weighting (open circle) and
//! after (filled circle), with reference lines at 0 and ± a threshold
//! (cobalt's `love.plot(stats = "mean.diffs", thresholds = 0.1, abs =
//! FALSE)` layout).

use super::scale::{nice_ticks, LinearScale};
use super::svg::{num, Anchor, Stroke, SvgDoc, TextStyle};
use crate::report::text::{text_width, truncate_to_width};

/// One row of a Love plot.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LoveRow {
    /// Covariate (and level) label; escaped on output.
    pub label: String,
    /// SMD before weighting (NaN: not estimable, no marker).
    pub before: f64,
    /// SMD after weighting (NaN: not estimable, no marker).
    pub after: f64,
}

/// A Love plot.
#[derive(Debug, Clone, PartialEq)]
pub struct LovePlot {
    /// Figure title.
    pub title: String,
    /// One row per covariate (or category level), top to bottom.
    pub rows: Vec<LoveRow>,
    /// Dashed reference lines at ± this value (0.1); none when not positive.
    pub threshold: f64,
    /// Label of the x axis.
    pub x_label: String,
    /// Legend label of the before-weighting points.
    pub before_label: String,
    /// Legend label of the after-weighting points.
    pub after_label: String,
    /// Total width in CSS pixels.
    pub width: f64,
    /// Font size in CSS pixels.
    pub font_size: f64,
}

impl Default for LovePlot {
    fn default() -> Self {
        LovePlot {
            title: String::new(),
            rows: vec![],
            threshold: 0.1,
            x_label: "Standardized mean difference".into(),
            before_label: "Before weighting".into(),
            after_label: "After weighting".into(),
            width: 672.0,
            font_size: 11.0,
        }
    }
}

const BEFORE: &str = "#D55E00";
const AFTER: &str = "#0072B2";

fn circle(x: f64, y: f64, r: f64) -> String {
    format!(
        "M{} {}a{} {} 0 1 0 {} 0a{} {} 0 1 0 {} 0Z",
        num(x - r),
        num(y),
        num(r),
        num(r),
        num(2.0 * r),
        num(r),
        num(r),
        num(-2.0 * r)
    )
}

/// Renders the Love plot as a standalone SVG document. Rows keep their
/// order (top to bottom); the x axis is symmetric around 0 and covers
/// every finite SMD and the threshold.
pub fn render_love_svg(plot: &LovePlot) -> String {
    let g = LoveLayout::new(plot);
    let mut doc = SvgDoc::new(g.width, g.height, &plot.title);
    if !plot.title.trim().is_empty() {
        doc.text(
            PAD,
            PAD + g.fs * 1.25,
            &plot.title,
            &TextStyle {
                size: g.fs * 1.15,
                bold: true,
                class: Some("title"),
                ..TextStyle::default()
            },
        );
    }
    draw_love_legend(&mut doc, plot, &g);
    draw_reference_lines(&mut doc, &g);
    draw_love_rows(&mut doc, plot, &g);
    draw_smd_axis(&mut doc, plot, &g);
    doc.finish()
}

/// Outer padding in CSS pixels.
const PAD: f64 = 12.0;
/// Gap between the labels and the plot, and between legend entries.
const GAP: f64 = 16.0;

/// Sizes and positions of a Love plot.
struct LoveLayout {
    fs: f64,
    width: f64,
    height: f64,
    /// Widest row label drawn (longer ones are cut).
    max_label: f64,
    legend_y: f64,
    row_h: f64,
    /// Top of the first row.
    top: f64,
    axis_y: f64,
    tick_label_y: f64,
    x_label_y: f64,
    /// The reference threshold (0 = none).
    thr: f64,
    /// Non-negative ticks; the axis mirrors them.
    ticks: Vec<f64>,
    x: LinearScale,
    /// Marker radius.
    r: f64,
}

impl LoveLayout {
    fn new(plot: &LovePlot) -> Self {
        let fs = if plot.font_size.is_finite() && plot.font_size > 4.0 {
            plot.font_size
        } else {
            11.0
        };
        let width = if plot.width.is_finite() && plot.width >= 300.0 {
            plot.width
        } else {
            672.0
        };
        let max_label = width * 0.4;
        let label_w = plot
            .rows
            .iter()
            .map(|r| text_width(&r.label, fs, false))
            .fold(0.0, f64::max)
            .min(max_label);
        let title_h = if plot.title.trim().is_empty() {
            0.0
        } else {
            fs * 1.3 + 10.0
        };
        let legend_y = PAD + title_h + fs;
        let row_h = (fs * 1.6).round();
        let top = legend_y + fs;
        let n = plot.rows.len().max(1) as f64;
        let axis_y = top + row_h * n;
        let tick_label_y = axis_y + 9.0 + fs;
        let x_label_y = tick_label_y + fs + 6.0;
        let finite = plot
            .rows
            .iter()
            .flat_map(|r| [r.before, r.after])
            .filter(|v| v.is_finite())
            .map(f64::abs)
            .fold(0.0, f64::max);
        let thr = if plot.threshold.is_finite() && plot.threshold > 0.0 {
            plot.threshold
        } else {
            0.0
        };
        let ticks = nice_ticks(finite.max(thr).max(0.05), 3);
        let xmax = ticks.last().copied().unwrap_or(1.0);
        LoveLayout {
            fs,
            width,
            height: (x_label_y + PAD).ceil(),
            max_label,
            legend_y,
            row_h,
            top,
            axis_y,
            tick_label_y,
            x_label_y,
            thr,
            ticks,
            x: LinearScale {
                d0: -xmax,
                d1: xmax,
                r0: PAD + label_w + GAP,
                r1: width - PAD - 6.0,
            },
            r: fs * 0.36,
        }
    }
}

/// The legend: open circle before weighting, filled circle after.
fn draw_love_legend(doc: &mut SvgDoc, plot: &LovePlot, g: &LoveLayout) {
    let (fs, r, legend_y) = (g.fs, g.r, g.legend_y);
    doc.open_group("legend");
    let mut lx = g.x.r0;
    doc.path(
        &circle(lx + r, legend_y - fs * 0.35, r),
        &Stroke {
            color: BEFORE,
            width: 1.5,
            ..Stroke::default()
        },
    );
    lx += 2.0 * r + 5.0;
    doc.text(lx, legend_y, &plot.before_label, &TextStyle::default());
    lx += text_width(&plot.before_label, fs, false) + GAP;
    doc.fill_path(
        &circle(lx + r, legend_y - fs * 0.35, r),
        AFTER,
        1.0,
        "after",
    );
    lx += 2.0 * r + 5.0;
    doc.text(lx, legend_y, &plot.after_label, &TextStyle::default());
    doc.close_group();
}

/// The zero line and the dashed lines at ± the threshold.
fn draw_reference_lines(doc: &mut SvgDoc, g: &LoveLayout) {
    let grey = Stroke {
        color: "#777",
        width: 1.0,
        dash: None,
        class: Some("zero-line"),
    };
    doc.line(g.x.map(0.0), g.top, g.x.map(0.0), g.axis_y, &grey);
    if g.thr > 0.0 {
        for s in [-g.thr, g.thr] {
            doc.line(
                g.x.map(s),
                g.top,
                g.x.map(s),
                g.axis_y,
                &Stroke {
                    color: "#999",
                    width: 1.0,
                    dash: Some("4 3"),
                    class: Some("threshold"),
                },
            );
        }
    }
}

/// One line per row: banded background, label, guide line, the two markers
/// (or "not estimable").
fn draw_love_rows(doc: &mut SvgDoc, plot: &LovePlot, g: &LoveLayout) {
    let (fs, r, x) = (g.fs, g.r, &g.x);
    doc.open_group("rows");
    for (i, row) in plot.rows.iter().enumerate() {
        let y = g.top + g.row_h * (i as f64 + 0.5);
        if i % 2 == 1 {
            doc.rect(
                PAD,
                y - g.row_h / 2.0,
                g.width - 2.0 * PAD,
                g.row_h,
                "#f3f3f3",
                None,
                "band",
            );
        }
        let label = truncate_to_width(&row.label, fs, false, g.max_label);
        doc.text(PAD, y + fs * 0.35, &label, &TextStyle::default());
        doc.line(
            x.r0,
            y,
            x.r1,
            y,
            &Stroke {
                color: "#ddd",
                width: 0.6,
                ..Stroke::default()
            },
        );
        if row.before.is_finite() {
            doc.path(
                &circle(x.map(row.before), y, r),
                &Stroke {
                    color: BEFORE,
                    width: 1.5,
                    class: Some("before"),
                    ..Stroke::default()
                },
            );
        }
        if row.after.is_finite() {
            doc.fill_path(&circle(x.map(row.after), y, r), AFTER, 1.0, "after");
        }
        if !row.before.is_finite() && !row.after.is_finite() {
            doc.text(
                x.map(0.0) + 4.0,
                y + fs * 0.35,
                "not estimable",
                &TextStyle {
                    fill: "#555",
                    ..TextStyle::default()
                },
            );
        }
    }
    doc.close_group();
}

/// The x axis: symmetric ticks with labels, and the axis label.
fn draw_smd_axis(doc: &mut SvgDoc, plot: &LovePlot, g: &LoveLayout) {
    let (x, axis_y) = (&g.x, g.axis_y);
    let black = Stroke::default();
    doc.line(x.r0, axis_y, x.r1, axis_y, &black);
    let mut all: Vec<f64> = g.ticks.iter().rev().map(|t| -t).collect();
    all.extend(g.ticks.iter().skip(1));
    for t in all {
        let px = x.map(t);
        doc.line(px, axis_y, px, axis_y + 5.0, &black);
        doc.text(
            px,
            g.tick_label_y,
            &crate::report::text::num_text(t),
            &TextStyle {
                anchor: Anchor::Middle,
                ..TextStyle::default()
            },
        );
    }
    doc.text(
        (x.r0 + x.r1) / 2.0,
        g.x_label_y,
        &plot.x_label,
        &TextStyle {
            anchor: Anchor::Middle,
            ..TextStyle::default()
        },
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markers_labels_and_escaping() {
        let plot = LovePlot {
            title: "Balance <b>".into(),
            rows: vec![
                LoveRow {
                    label: "Age".into(),
                    before: 0.4,
                    after: -0.02,
                },
                LoveRow {
                    label: "Sex <F>".into(),
                    before: f64::NAN,
                    after: f64::NAN,
                },
            ],
            ..LovePlot::default()
        };
        let svg = render_love_svg(&plot);
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>\n"));
        assert!(svg.contains("Sex &lt;F&gt;") && !svg.contains("<F>"));
        assert!(svg.contains("not estimable"));
        assert_eq!(svg.matches("class=\"threshold\"").count(), 2);
        // one open and one filled marker for the finite row, plus the legend
        assert_eq!(svg.matches("class=\"after\"").count(), 2);
        assert_eq!(svg.matches("class=\"before\"").count(), 1);
        assert!(svg.contains(">0.4<") && svg.contains(">-0.4<"));
    }
}
