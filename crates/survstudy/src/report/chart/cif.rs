//! Figures of the competing-risks and proportional-hazards sections:
//!
//! * cumulative incidence ([`render_cif_svg`]): step curves rising from 0,
//!   one per group, in the Okabe–Ito palette with a different line style per
//!   group, optional stepped 95% bands, a legend with N, events and the
//!   cumulative incidence at a chosen time, Gray's test on the plot, the same
//!   month ticks as the Kaplan–Meier figures and a 0–100% y axis;
//! * scaled Schoenfeld residuals of a Cox term over time
//!   ([`render_ph_residuals_svg`]): β(t) at each event (or equal-count
//!   bins), R's `plot.cox.zph` spline smooth with ±2 SE, the Cox
//!   coefficient and zero as reference lines.
//!
//! Both take plain structs and never fail: non-finite or negative points
//! are skipped. Every string is escaped by the SVG writer.

use super::axes::{axis_ticks, draw_axes};
use super::scale::LinearScale;
use super::steps::{step_bands, step_path};
use super::style::{
    colour, dash, fig_width, font_size, plot_height, PValuePlacement, PlotStyle, TickSpec, YScale,
};
use super::svg::{num, Anchor, Stroke, SvgDoc, TextStyle};
use crate::report::text::{suppress, text_width, truncate_to_width};

/// A cumulative-incidence curve. Points may be given in cmprsk's step
/// representation (first point `(0, 0)`, each jump time twice: the value
/// before and after the jump) or as right-continuous steps (one point per
/// time); at a repeated time the last point wins. A curve that does not
/// start at 0 gets a `(0, 0)` point. `lower`/`upper` may be empty (no
/// band); non-finite limits leave a gap in the band.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CifSteps {
    /// Times (x-axis unit), non-decreasing.
    pub time: Vec<f64>,
    /// Cumulative incidence in `[0, 1]` from each time on.
    pub est: Vec<f64>,
    /// Lower confidence limit.
    pub lower: Vec<f64>,
    /// Upper confidence limit.
    pub upper: Vec<f64>,
}

/// One curve (group) of a cumulative-incidence figure.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CifPlotGroup {
    /// Group label (escaped on output).
    pub label: String,
    /// Patients in the group.
    pub n: u64,
    /// Events of the plotted cause.
    pub events: u64,
    /// Legend text of the last column, e.g. `"75% (62–84)"`.
    pub at_text: String,
    /// The estimate.
    pub steps: CifSteps,
}

/// A cumulative-incidence figure.
#[derive(Debug, Clone, PartialEq)]
pub struct CifPlot {
    /// Title above the legend (may be empty).
    pub title: String,
    /// X-axis label.
    pub x_label: String,
    /// Y-axis label.
    pub y_label: String,
    /// Legend header of the events column.
    pub events_header: String,
    /// Legend header of the last column (e.g. "At 12 months (95% CI)").
    pub at_header: String,
    /// Curves, drawn in palette order.
    pub groups: Vec<CifPlotGroup>,
    /// Test result shown on the plot, e.g. "Gray's test p = 0.48".
    pub pvalue_text: Option<String>,
    /// Stepped confidence bands.
    pub show_ci: bool,
    /// X ticks.
    pub x_ticks: TickSpec,
    /// Truncate the axis and curves at this time.
    pub x_max: Option<f64>,
}

impl Default for CifPlot {
    fn default() -> Self {
        CifPlot {
            title: String::new(),
            x_label: "Months".to_string(),
            y_label: "Cumulative incidence".to_string(),
            events_header: "Events".to_string(),
            at_header: String::new(),
            groups: Vec::new(),
            pvalue_text: None,
            show_ci: false,
            x_ticks: TickSpec::Months,
            x_max: None,
        }
    }
}

/// (time, est, lower, upper), right-continuous, from t = 0.
struct CifCurve {
    pts: Vec<(f64, f64, f64, f64)>,
    end: f64,
}

fn unit_or_nan(v: Option<&f64>) -> f64 {
    match v {
        Some(x) if x.is_finite() => x.clamp(0.0, 1.0),
        _ => f64::NAN,
    }
}

fn clean_cif(s: &CifSteps, x_max: Option<f64>) -> CifCurve {
    let len = s.time.len().min(s.est.len());
    let mut raw: Vec<(f64, f64, f64, f64)> = (0..len)
        .filter_map(|i| {
            let (t, e) = (s.time[i], s.est[i]);
            if !t.is_finite() || !e.is_finite() || t < 0.0 {
                return None;
            }
            Some((
                t,
                e.clamp(0.0, 1.0),
                unit_or_nan(s.lower.get(i)),
                unit_or_nan(s.upper.get(i)),
            ))
        })
        .collect();
    // stable: the order of points at a repeated time is kept
    raw.sort_by(|a, b| a.0.total_cmp(&b.0));
    let mut pts: Vec<(f64, f64, f64, f64)> = Vec::with_capacity(raw.len());
    for p in raw {
        match pts.last_mut() {
            Some(l) if l.0 == p.0 => *l = p,
            _ => pts.push(p),
        }
    }
    if pts.first().is_none_or(|p| p.0 > 0.0) {
        pts.insert(0, (0.0, 0.0, 0.0, 0.0));
    }
    let mut end = pts.last().map_or(0.0, |p| p.0);
    if let Some(xm) = x_max.filter(|v| v.is_finite() && *v > 0.0) {
        pts.retain(|p| p.0 <= xm);
        end = end.min(xm);
    }
    CifCurve { pts, end }
}

/// Highest value (estimate or, with bands, upper limit) on `[0, t]`.
fn cif_max_to(c: &CifCurve, t: f64, with_ci: bool) -> f64 {
    c.pts
        .iter()
        .filter(|p| p.0 <= t)
        .map(|p| {
            if with_ci && p.3.is_finite() {
                p.1.max(p.3)
            } else {
                p.1
            }
        })
        .fold(0.0, f64::max)
}

/// Lowest value (estimate or, with bands, lower limit) on `[t, end]`;
/// `+inf` when the curve ends before `t`.
fn cif_min_from(c: &CifCurve, t: f64, with_ci: bool) -> f64 {
    if t > c.end {
        return f64::INFINITY;
    }
    let at = |p: &(f64, f64, f64, f64)| {
        if with_ci && p.2.is_finite() {
            p.1.min(p.2)
        } else {
            p.1
        }
    };
    let start = c.pts.iter().take_while(|p| p.0 <= t).last().map_or(0.0, at);
    c.pts
        .iter()
        .filter(|p| p.0 > t)
        .map(at)
        .fold(start, f64::min)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Place {
    TopLeft,
    TopRight,
    BottomLeft,
    BottomRight,
    Legend,
}

const INSET: f64 = 10.0;

struct CifLayout {
    x: LinearScale,
    y: LinearScale,
    ticks: Vec<f64>,
    left: f64,
    right: f64,
    top: f64,
    bottom: f64,
    fs: f64,
    row_h: f64,
    title_y: f64,
    legend_top: f64,
    x_label_y: f64,
    width: f64,
    height: f64,
    place: Option<Place>,
    curves: Vec<CifCurve>,
}

fn cif_layout(plot: &CifPlot, style: &PlotStyle) -> CifLayout {
    let fs = font_size(style);
    let width = fig_width(style);
    let plot_h = plot_height(style);
    let pad = 12.0;
    let row_h = (fs * 1.5).round();
    let curves: Vec<CifCurve> = plot
        .groups
        .iter()
        .map(|g| clean_cif(&g.steps, plot.x_max))
        .collect();
    let max_t = match plot.x_max.filter(|v| v.is_finite() && *v > 0.0) {
        Some(xm) => xm,
        None => curves.iter().map(|c| c.end).fold(0.0, f64::max),
    };
    let ticks = axis_ticks(&plot.x_ticks, max_t, style.x_tick_target);
    let ytick_w = match style.y_scale {
        YScale::Percent => text_width("100%", fs, false),
        YScale::Proportion => text_width("0.0", fs, false),
    };
    let left = (pad + fs * 1.3 + 8.0 + ytick_w + 9.0).ceil();
    let last_half = ticks
        .last()
        .map_or(0.0, |t| text_width(&num(*t), fs, false) / 2.0);
    let right = (width - pad - last_half.max(6.0)).floor();
    let d0 = ticks.first().copied().unwrap_or(0.0).min(0.0);
    let d1 = ticks.last().copied().unwrap_or(1.0);

    // where the test result goes
    let place = plot
        .pvalue_text
        .as_deref()
        .filter(|p| !p.trim().is_empty())
        .map(|p| {
            let w = text_width(p, fs, false) + 6.0;
            let span = (d1 - d0).max(1e-9);
            let plot_w = (right - left).max(1.0);
            let box_h = (INSET + fs + 4.0) / plot_h;
            let t_left = d0 + (INSET + w) / plot_w * span;
            let t_right = d1 - (INSET + w) / plot_w * span;
            let top_left = || {
                curves
                    .iter()
                    .all(|c| cif_max_to(c, t_left, plot.show_ci) < 1.0 - box_h)
            };
            let bottom_right = || {
                curves
                    .iter()
                    .all(|c| cif_min_from(c, t_right, plot.show_ci) > box_h)
            };
            match style.pvalue_placement {
                PValuePlacement::BottomLeft => Place::BottomLeft,
                PValuePlacement::TopRight => Place::TopRight,
                PValuePlacement::Legend => Place::Legend,
                PValuePlacement::Auto if top_left() => Place::TopLeft,
                PValuePlacement::Auto if bottom_right() => Place::BottomRight,
                PValuePlacement::Auto => Place::Legend,
            }
        });

    let mut y = pad;
    let title_y = y + fs * 1.25;
    if !plot.title.trim().is_empty() {
        y += fs * 1.3 + 10.0;
    }
    let legend_top = y;
    y += row_h * (plot.groups.len() as f64 + 1.0) + 12.0;
    if place == Some(Place::Legend) {
        y += row_h;
    }
    let top = y.round();
    let bottom = top + plot_h;
    let x_label_y = bottom + 9.0 + fs + 6.0 + fs;
    let height = (x_label_y + pad).ceil();
    CifLayout {
        x: LinearScale {
            d0,
            d1,
            r0: left,
            r1: right,
        },
        y: LinearScale {
            d0: 0.0,
            d1: 1.0,
            r0: bottom,
            r1: top,
        },
        ticks,
        left,
        right,
        top,
        bottom,
        fs,
        row_h,
        title_y,
        legend_top,
        x_label_y,
        width,
        height,
        place,
        curves,
    }
}

fn cif_path(c: &CifCurve, lay: &CifLayout) -> String {
    step_path(&c.pts, c.end, &lay.x, &lay.y)
}

/// Stepped band polygons, one per run of finite limits.
fn cif_bands(c: &CifCurve, lay: &CifLayout) -> Vec<String> {
    step_bands(&c.pts, c.end, &lay.x, &lay.y)
}

/// Renders a cumulative-incidence figure as a standalone SVG document.
///
/// Layout (top to bottom): title, legend table (line sample, group, N,
/// events, `at_header` column), optional line for the test result (when it
/// cannot sit inside the plot), the plot, the x-axis label. The test result
/// goes top-left inside the plot when no curve or band reaches there (the
/// curves rise from 0), else bottom-right, else under the legend
/// ([`PValuePlacement`] overrides this).
pub fn render_cif_svg(plot: &CifPlot, style: &PlotStyle) -> String {
    let lay = cif_layout(plot, style);
    let fs = lay.fs;
    let mut doc = SvgDoc::new(lay.width, lay.height, &plot.title);
    if !plot.title.trim().is_empty() {
        doc.text(
            lay.left,
            lay.title_y,
            &plot.title,
            &TextStyle {
                size: fs * 1.15,
                bold: true,
                class: Some("title"),
                ..TextStyle::default()
            },
        );
    }

    // ---- legend ----
    let n_strs: Vec<String> = plot
        .groups
        .iter()
        .map(|g| suppress(g.n, style.suppress_below))
        .collect();
    let e_strs: Vec<String> = plot
        .groups
        .iter()
        .map(|g| suppress(g.events, style.suppress_below))
        .collect();
    let at_strs: Vec<String> = plot.groups.iter().map(|g| g.at_text.clone()).collect();
    let col_w = |hdr: &str, vals: &[String]| {
        vals.iter()
            .map(|v| text_width(v, fs, false))
            .fold(text_width(hdr, fs, true), f64::max)
    };
    let sample_w = 30.0;
    let gap = 14.0;
    let w_n = col_w("N", &n_strs);
    let w_e = col_w(&plot.events_header, &e_strs);
    let w_a = col_w(&plot.at_header, &at_strs);
    let avail = (lay.right - lay.left) - sample_w - 8.0 - 3.0 * gap - w_n - w_e - w_a;
    let label_w = plot
        .groups
        .iter()
        .map(|g| text_width(&g.label, fs, false))
        .fold(0.0, f64::max)
        .min(avail.max(40.0));
    let x_label_col = lay.left + sample_w + 8.0;
    let x_n = x_label_col + label_w + gap + w_n;
    let x_e = x_n + gap + w_e;
    let x_a = x_e + gap;
    let hdr_y = lay.legend_top + fs;
    let hdr = TextStyle {
        size: fs,
        bold: true,
        class: Some("legend-header"),
        ..TextStyle::default()
    };
    let right_hdr = TextStyle {
        anchor: Anchor::End,
        ..hdr.clone()
    };
    doc.open_group("legend");
    doc.text(x_n, hdr_y, "N", &right_hdr);
    doc.text(x_e, hdr_y, &plot.events_header, &right_hdr);
    doc.text(x_a, hdr_y, &plot.at_header, &hdr);
    let lw = style.line_width.clamp(0.5, 5.0);
    for (i, g) in plot.groups.iter().enumerate() {
        let col = colour(style, i);
        let ry = hdr_y + lay.row_h * (i as f64 + 1.0);
        doc.line(
            lay.left,
            ry - fs * 0.35,
            lay.left + sample_w,
            ry - fs * 0.35,
            &Stroke {
                color: &col,
                width: lw,
                dash: dash(style, i),
                class: Some("legend-line"),
            },
        );
        let st = TextStyle {
            size: fs,
            class: Some("legend-text"),
            ..TextStyle::default()
        };
        let right_st = TextStyle {
            anchor: Anchor::End,
            ..st.clone()
        };
        doc.text(
            x_label_col,
            ry,
            &truncate_to_width(&g.label, fs, false, label_w + 0.5),
            &st,
        );
        doc.text(x_n, ry, &n_strs[i], &right_st);
        doc.text(x_e, ry, &e_strs[i], &right_st);
        doc.text(x_a, ry, &at_strs[i], &st);
    }
    doc.close_group();

    // ---- axes ----
    let y_ticks: Vec<(f64, String)> = (0..=5)
        .map(|k| {
            let v = k as f64 / 5.0;
            let label = match style.y_scale {
                YScale::Percent => format!("{}%", k * 20),
                YScale::Proportion => format!("{v:.1}"),
            };
            (v, label)
        })
        .collect();
    draw_axes(
        &mut doc,
        style,
        &lay.ticks,
        &lay.x,
        &y_ticks,
        &lay.y,
        (lay.left, lay.right, lay.top, lay.bottom),
        (&plot.x_label, &plot.y_label, lay.x_label_y),
    );

    // ---- bands and curves ----
    if plot.show_ci {
        doc.open_group("ci-bands");
        for (i, c) in lay.curves.iter().enumerate() {
            let col = colour(style, i);
            for d in cif_bands(c, &lay) {
                doc.fill_path(&d, &col, style.ci_opacity.clamp(0.0, 1.0), "ci-band");
            }
        }
        doc.close_group();
    }
    doc.open_group("curves");
    for (i, c) in lay.curves.iter().enumerate() {
        let col = colour(style, i);
        doc.path(
            &cif_path(c, &lay),
            &Stroke {
                color: &col,
                width: lw,
                dash: dash(style, i),
                class: Some("cif-curve"),
            },
        );
    }
    doc.close_group();

    // ---- test result ----
    if let (Some(p), Some(place)) = (plot.pvalue_text.as_deref(), lay.place) {
        let (x, y, anchor) = match place {
            Place::TopLeft => (lay.left + INSET, lay.top + INSET + fs, Anchor::Start),
            Place::TopRight => (lay.right - INSET, lay.top + INSET + fs, Anchor::End),
            Place::BottomLeft => (lay.left + INSET, lay.bottom - INSET, Anchor::Start),
            Place::BottomRight => (lay.right - INSET, lay.bottom - INSET, Anchor::End),
            Place::Legend => (
                lay.right,
                hdr_y + lay.row_h * (plot.groups.len() as f64 + 1.0),
                Anchor::End,
            ),
        };
        doc.text(
            x,
            y,
            p,
            &TextStyle {
                size: fs,
                anchor,
                class: Some("pvalue"),
                ..TextStyle::default()
            },
        );
    }
    doc.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cmprsk_steps_collapse_to_right_continuous_points() {
        let s = CifSteps {
            time: vec![0.0, 1.0, 1.0, 3.0, 3.0],
            est: vec![0.0, 0.0, 0.2, 0.2, 0.5],
            lower: vec![],
            upper: vec![],
        };
        let c = clean_cif(&s, None);
        let v: Vec<(f64, f64)> = c.pts.iter().map(|p| (p.0, p.1)).collect();
        assert_eq!(v, vec![(0.0, 0.0), (1.0, 0.2), (3.0, 0.5)]);
        assert_eq!(c.end, 3.0);
        // no origin: one is added; garbage skipped
        let s = CifSteps {
            time: vec![2.0, f64::NAN, 4.0],
            est: vec![0.1, 0.3, 1.5],
            ..CifSteps::default()
        };
        let c = clean_cif(&s, None);
        assert_eq!(c.pts[0], (0.0, 0.0, 0.0, 0.0));
        assert_eq!(c.pts.len(), 3);
        assert_eq!(c.pts[2].1, 1.0);
    }

    #[test]
    fn curve_path_rises_from_zero() {
        let plot = CifPlot {
            groups: vec![CifPlotGroup {
                label: "a".into(),
                n: 10,
                events: 3,
                at_text: "30%".into(),
                steps: CifSteps {
                    time: vec![0.0, 2.0, 2.0, 5.0, 5.0],
                    est: vec![0.0, 0.0, 0.1, 0.1, 0.3],
                    ..CifSteps::default()
                },
            }],
            pvalue_text: Some("Gray's test p = 0.48".into()),
            ..CifPlot::default()
        };
        let lay = cif_layout(&plot, &PlotStyle::default());
        let d = cif_path(&lay.curves[0], &lay);
        assert!(d.starts_with(&format!("M{} {}", num(lay.left), num(lay.bottom))));
        assert_eq!(lay.place, Some(Place::TopLeft));
        let svg = render_cif_svg(&plot, &PlotStyle::default());
        assert!(svg.contains("Gray&#39;s test p = 0.48"));
        assert!(svg.contains(">100%<"));
    }
}
