//! Kaplan–Meier figure: step curves, censor marks, optional stepped 95% CI
//! bands, legend with n / events / median, log-rank p and a number-at-risk
//! table aligned with the x-axis ticks.

use std::fmt::Write as _;

use super::axes::axis_ticks;
use super::scale::LinearScale;
use super::steps::{step_bands, step_path};
use super::style::{
    colour, dash, fig_width, font_size, plot_height, PValuePlacement, PlotStyle, TickSpec, YScale,
};
use super::svg::{num, Anchor, Stroke, SvgDoc, TextStyle};
use crate::report::text::{suppress, text_width, truncate_to_width};

/// Right-continuous Kaplan–Meier steps: at `time[i]` the estimate becomes
/// `surv[i]`, with pointwise confidence limits `lower[i]`/`upper[i]`. The
/// first point is normally `(0, 1)`; if the first time is after 0 a
/// `(0, 1)` point is assumed. Vectors are used up to the shortest length of
/// `time`/`surv`; non-finite points are skipped. `lower`/`upper` may be
/// empty (no band) and non-finite limits leave a gap in the band.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct KmSteps {
    /// Step times (same unit as the x axis), non-decreasing.
    pub time: Vec<f64>,
    /// Survival probability in `[0, 1]` from each time on.
    pub surv: Vec<f64>,
    /// Lower confidence limit from each time on.
    pub lower: Vec<f64>,
    /// Upper confidence limit from each time on.
    pub upper: Vec<f64>,
}

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

/// One curve of a Kaplan–Meier figure.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct KmPlotGroup {
    /// Group label (from data or plan; escaped on output).
    pub label: String,
    /// Number of subjects.
    pub n: u64,
    /// Number of events.
    pub events: u64,
    /// Median with CI, already formatted, e.g. `"4.8 (3.1–7.0)"` or `"NR"`.
    pub median_text: String,
    /// The estimate.
    pub steps: KmSteps,
    /// Censoring times (drawn as `+`).
    pub censor_times: Vec<f64>,
    /// Survival at each censoring time; when its length differs from
    /// `censor_times` the value is read off the curve instead.
    pub censor_surv: Vec<f64>,
    /// Number-at-risk source for the table under the plot.
    pub at_risk: AtRisk,
}

/// A Kaplan–Meier figure.
#[derive(Debug, Clone, PartialEq)]
pub struct KmPlot {
    /// Figure title (may be empty).
    pub title: String,
    /// X-axis label, e.g. "Months since progression".
    pub x_label: String,
    /// Y-axis label, e.g. "Overall survival".
    pub y_label: String,
    /// Header of the legend's median column.
    pub median_header: String,
    /// The curves, drawn in palette order.
    pub groups: Vec<KmPlotGroup>,
    /// Text shown on the plot, e.g. "Log-rank p = 0.0076".
    pub pvalue_text: Option<String>,
    /// Draw the stepped 95% CI bands.
    pub show_ci: bool,
    /// Draw the number-at-risk table (groups with [`AtRisk::None`] get no row).
    pub show_risk_table: bool,
    /// X ticks (also the columns of the number-at-risk table).
    pub x_ticks: TickSpec,
    /// Truncate the x axis (and the curves) at this time.
    pub x_max: Option<f64>,
}

impl Default for KmPlot {
    fn default() -> Self {
        KmPlot {
            title: String::new(),
            x_label: "Months".to_string(),
            y_label: "Survival probability".to_string(),
            median_header: "Median (95% CI)".to_string(),
            groups: Vec::new(),
            pvalue_text: None,
            show_ci: false,
            show_risk_table: true,
            x_ticks: TickSpec::Months,
            x_max: None,
        }
    }
}

/// Cleaned curve of one group.
struct Curve {
    /// (time, surv, lower, upper) from t = 0, within the x domain.
    pts: Vec<(f64, f64, f64, f64)>,
    /// Time where the drawn curve ends.
    end: f64,
    censors: Vec<(f64, f64)>,
}

fn clean_curve(g: &KmPlotGroup, x_max: Option<f64>) -> Curve {
    let s = &g.steps;
    let len = s.time.len().min(s.surv.len());
    let mut pts: Vec<(f64, f64, f64, f64)> = (0..len)
        .filter_map(|i| {
            let (t, v) = (s.time[i], s.surv[i]);
            if !t.is_finite() || !v.is_finite() || t < 0.0 {
                return None;
            }
            let lo = s.lower.get(i).copied().unwrap_or(f64::NAN);
            let hi = s.upper.get(i).copied().unwrap_or(f64::NAN);
            Some((t, v.clamp(0.0, 1.0), lo.clamp(0.0, 1.0), hi.clamp(0.0, 1.0)))
        })
        .collect();
    pts.sort_by(|a, b| a.0.total_cmp(&b.0));
    if pts.first().is_none_or(|p| p.0 > 0.0) {
        pts.insert(0, (0.0, 1.0, 1.0, 1.0));
    }
    let last_censor = g
        .censor_times
        .iter()
        .copied()
        .filter(|t| t.is_finite())
        .fold(f64::NEG_INFINITY, f64::max);
    let mut end = pts.last().map_or(0.0, |p| p.0).max(last_censor);
    if let Some(xm) = x_max.filter(|v| v.is_finite() && *v > 0.0) {
        pts.retain(|p| p.0 <= xm);
        end = end.min(xm);
    }
    let matched = g.censor_surv.len() == g.censor_times.len();
    let censors = g
        .censor_times
        .iter()
        .enumerate()
        .filter(|(_, t)| t.is_finite() && **t >= 0.0 && **t <= end)
        .map(|(i, &t)| {
            let y = if matched && g.censor_surv[i].is_finite() {
                g.censor_surv[i].clamp(0.0, 1.0)
            } else {
                surv_at(&pts, t)
            };
            (t, y)
        })
        .collect();
    Curve { pts, end, censors }
}

/// Right-continuous lookup of the step function.
fn surv_at(pts: &[(f64, f64, f64, f64)], t: f64) -> f64 {
    pts.iter()
        .take_while(|p| p.0 <= t)
        .last()
        .map_or(1.0, |p| p.1)
}

/// Lowest value (estimate or, with bands, lower limit) on `[0, t]`.
fn min_on(curve: &Curve, t: f64, with_ci: bool) -> f64 {
    curve
        .pts
        .iter()
        .filter(|p| p.0 <= t && p.0 <= curve.end)
        .map(|p| {
            if with_ci && p.2.is_finite() {
                p.1.min(p.2)
            } else {
                p.1
            }
        })
        .fold(1.0, f64::min)
}

fn x_ticks(plot: &KmPlot, style: &PlotStyle, max_t: f64) -> Vec<f64> {
    let max_t = match plot.x_max.filter(|v| v.is_finite() && *v > 0.0) {
        Some(xm) => xm,
        None => max_t,
    };
    axis_ticks(&plot.x_ticks, max_t, style.x_tick_target)
}

/// Positions computed once and shared by the axis, the curves and the
/// number-at-risk table (so they cannot disagree).
pub(crate) struct Layout {
    pub x: LinearScale,
    pub y: LinearScale,
    pub ticks: Vec<f64>,
    pub plot_left: f64,
    pub plot_right: f64,
    pub plot_top: f64,
    pub plot_bottom: f64,
}

/// Geometry of a rendered KM figure (for callers and tests). In the SVG the
/// tick labels carry `class="xtick"` and the number-at-risk figures
/// `class="risk"`; both use these x coordinates.
#[derive(Debug, Clone, PartialEq)]
pub struct KmLayout {
    /// X coordinates of the ticks (equal to those of the risk-table columns).
    pub tick_x: Vec<f64>,
    /// Tick values.
    pub ticks: Vec<f64>,
}

impl KmLayout {
    /// Geometry that [`render_km_svg`] will use for this plot and style.
    pub fn of(plot: &KmPlot, style: &PlotStyle) -> KmLayout {
        let (lay, _) = compute(plot, style);
        KmLayout {
            tick_x: lay.ticks.iter().map(|&t| lay.x.map(t)).collect(),
            ticks: lay.ticks,
        }
    }
}

struct Extra {
    /// Resolved p-value position (never `Auto`), if there is a p-value.
    pvalue: Option<PValuePlacement>,
    curves: Vec<Curve>,
    risk_rows: Vec<(usize, Vec<Option<u64>>)>,
    risk_label_w: f64,
    fs: f64,
    row_h: f64,
    legend_top: f64,
    title_y: f64,
    x_label_y: f64,
    risk_top: f64,
    width: f64,
    height: f64,
}

/// Highest value (estimate or, with bands, upper limit) on `[t, end]`.
fn max_from(curve: &Curve, t: f64, with_ci: bool) -> f64 {
    if t > curve.end {
        return f64::NEG_INFINITY;
    }
    let at = |p: &(f64, f64, f64, f64)| {
        if with_ci && p.3.is_finite() {
            p.1.max(p.3)
        } else {
            p.1
        }
    };
    // the value in force at t, then everything after it
    let start = curve
        .pts
        .iter()
        .take_while(|p| p.0 <= t)
        .last()
        .map_or(1.0, at);
    curve
        .pts
        .iter()
        .filter(|p| p.0 > t && p.0 <= curve.end)
        .map(at)
        .fold(start, f64::max)
}

/// Offset of the p-value baseline from the plot edge, in pixels.
const PV_INSET: f64 = 10.0;

#[allow(clippy::too_many_arguments)]
fn resolve_pvalue(
    plot: &KmPlot,
    style: &PlotStyle,
    curves: &[Curve],
    ticks: &[f64],
    plot_left: f64,
    plot_right: f64,
    plot_h: f64,
    fs: f64,
) -> Option<PValuePlacement> {
    let p = plot
        .pvalue_text
        .as_deref()
        .filter(|p| !p.trim().is_empty())?;
    if style.pvalue_placement != PValuePlacement::Auto {
        return Some(style.pvalue_placement);
    }
    let w = text_width(p, fs, false) + 6.0;
    let plot_w = (plot_right - plot_left).max(1.0);
    let d1 = ticks.last().copied().unwrap_or(1.0);
    let d0 = ticks.first().copied().unwrap_or(0.0).min(0.0);
    let span = d1 - d0;
    // height of the text box in survival units (plus the censor mark size)
    let box_h = (PV_INSET + fs + 4.0) / plot_h;
    let mark = style.censor_size.clamp(1.0, 10.0) / plot_h;
    let t_end = d0 + (PV_INSET + w) / plot_w * span;
    let bottom_free = curves.iter().all(|c| {
        min_on(c, t_end, plot.show_ci) > box_h
            && c.censors
                .iter()
                .filter(|(t, _)| *t <= t_end)
                .all(|(_, s)| *s - mark > box_h)
    });
    if bottom_free {
        return Some(PValuePlacement::BottomLeft);
    }
    let t_start = d1 - (PV_INSET + w) / plot_w * span;
    let top_free = curves.iter().all(|c| {
        max_from(c, t_start, plot.show_ci) < 1.0 - box_h
            && c.censors
                .iter()
                .filter(|(t, _)| *t >= t_start)
                .all(|(_, s)| *s + mark < 1.0 - box_h)
    });
    if top_free {
        return Some(PValuePlacement::TopRight);
    }
    Some(PValuePlacement::Legend)
}

fn compute(plot: &KmPlot, style: &PlotStyle) -> (Layout, Extra) {
    let fs = font_size(style);
    let width = fig_width(style);
    let plot_h = plot_height(style);
    let pad = 12.0;
    let row_h = (fs * 1.5).round();
    let curves: Vec<Curve> = plot
        .groups
        .iter()
        .map(|g| clean_curve(g, plot.x_max))
        .collect();
    let max_t = curves.iter().map(|c| c.end).fold(0.0, f64::max);
    let ticks = x_ticks(plot, style, max_t);

    // number-at-risk rows
    let risk_rows: Vec<(usize, Vec<Option<u64>>)> = if plot.show_risk_table {
        plot.groups
            .iter()
            .enumerate()
            .filter_map(|(i, g)| match &g.at_risk {
                AtRisk::None => None,
                AtRisk::Table(tab) => {
                    Some((i, ticks.iter().map(|&t| Some(n_at_risk(tab, t))).collect()))
                }
                AtRisk::AtTicks(v) => {
                    Some((i, (0..ticks.len()).map(|k| v.get(k).copied()).collect()))
                }
            })
            .collect()
    } else {
        Vec::new()
    };
    let first_num_half = risk_rows
        .iter()
        .filter_map(|(_, v)| v.first().copied().flatten())
        .map(|n| text_width(&suppress(n, style.suppress_below), fs, false) / 2.0)
        .fold(0.0, f64::max);
    let risk_label_w = risk_rows
        .iter()
        .map(|(i, _)| text_width(&plot.groups[*i].label, fs, true).min(170.0))
        .fold(0.0, f64::max);

    let ytick_w = match style.y_scale {
        YScale::Percent => text_width("100%", fs, false),
        YScale::Proportion => text_width("0.0", fs, false),
    };
    let y_axis_need = pad + fs * 1.3 + 8.0 + ytick_w + 9.0;
    let risk_need = if risk_rows.is_empty() {
        0.0
    } else {
        pad + risk_label_w + 10.0 + first_num_half
    };
    let plot_left = y_axis_need.max(risk_need).ceil();
    let last_label_half = ticks
        .last()
        .map_or(0.0, |t| text_width(&fmt_tick(*t), fs, false) / 2.0);
    let plot_right = (width - pad - last_label_half.max(6.0)).floor();

    let mut y = pad;
    let title_y = y + fs * 1.25;
    if !plot.title.trim().is_empty() {
        y += fs * 1.3 + 10.0;
    }
    let legend_top = y;
    y += row_h * (plot.groups.len() as f64 + 1.0) + 12.0;
    let pvalue = resolve_pvalue(
        plot, style, &curves, &ticks, plot_left, plot_right, plot_h, fs,
    );
    if pvalue == Some(PValuePlacement::Legend) {
        y += row_h;
    }
    let plot_top = y.round();
    let plot_bottom = plot_top + plot_h;
    let x_label_y = plot_bottom + 9.0 + fs + 6.0 + fs;
    let risk_top = x_label_y + 10.0;
    let mut height = x_label_y + pad;
    if !risk_rows.is_empty() {
        height = risk_top + row_h * (risk_rows.len() as f64 + 1.0) + pad;
    }

    let d1 = ticks.last().copied().unwrap_or(1.0);
    let x = LinearScale {
        d0: ticks.first().copied().unwrap_or(0.0).min(0.0),
        d1,
        r0: plot_left,
        r1: plot_right,
    };
    let y_scale = LinearScale {
        d0: 0.0,
        d1: 1.0,
        r0: plot_bottom,
        r1: plot_top,
    };
    (
        Layout {
            x,
            y: y_scale,
            ticks,
            plot_left,
            plot_right,
            plot_top,
            plot_bottom,
        },
        Extra {
            curves,
            risk_rows,
            risk_label_w,
            fs,
            row_h,
            legend_top,
            pvalue,
            title_y,
            x_label_y,
            risk_top,
            width,
            height: height.ceil(),
        },
    )
}

/// Tick label: integers without decimals, otherwise up to 2 decimals.
fn fmt_tick(t: f64) -> String {
    num(t)
}

fn curve_path(c: &Curve, lay: &Layout) -> String {
    step_path(&c.pts, c.end, &lay.x, &lay.y)
}

fn band_paths(c: &Curve, lay: &Layout) -> Vec<String> {
    step_bands(&c.pts, c.end, &lay.x, &lay.y)
}

/// Renders the figure as a standalone SVG document.
///
/// Rendering never fails: malformed points (non-finite, negative times,
/// mismatched vector lengths) are skipped as documented on [`KmSteps`].
pub fn render_km_svg(plot: &KmPlot, style: &PlotStyle) -> String {
    let (lay, ex) = compute(plot, style);
    let fs = ex.fs;
    let mut doc = SvgDoc::new(ex.width, ex.height, &plot.title);
    let axis = Stroke {
        color: "#000",
        width: 1.0,
        ..Stroke::default()
    };

    if !plot.title.trim().is_empty() {
        doc.text(
            lay.plot_left,
            ex.title_y,
            &plot.title,
            &TextStyle {
                size: fs * 1.15,
                bold: true,
                class: Some("title"),
                ..TextStyle::default()
            },
        );
    }

    // ---- legend (a small table above the plot) ----
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
    let sample_w = 30.0;
    let gap = 14.0;
    let max_w = |hdr: &str, vals: &[String], bold: bool| {
        vals.iter()
            .map(|v| text_width(v, fs, false))
            .fold(text_width(hdr, fs, bold), f64::max)
    };
    let w_n = max_w("N", &n_strs, true);
    let w_e = max_w("Events", &e_strs, true);
    let med: Vec<String> = plot.groups.iter().map(|g| g.median_text.clone()).collect();
    let w_m = max_w(&plot.median_header, &med, true);
    let avail_label =
        (lay.plot_right - lay.plot_left) - sample_w - 8.0 - 3.0 * gap - w_n - w_e - w_m;
    let label_w = plot
        .groups
        .iter()
        .map(|g| text_width(&g.label, fs, false))
        .fold(0.0, f64::max)
        .min(avail_label.max(40.0));
    let x_label_col = lay.plot_left + sample_w + 8.0;
    let x_n = x_label_col + label_w + gap + w_n; // right-aligned
    let x_e = x_n + gap + w_e; // right-aligned
    let x_m = x_e + gap; // left-aligned
    let hdr_y = ex.legend_top + fs;
    let hdr = TextStyle {
        size: fs,
        bold: true,
        class: Some("legend-header"),
        ..TextStyle::default()
    };
    doc.open_group("legend");
    doc.text(
        x_n,
        hdr_y,
        "N",
        &TextStyle {
            anchor: Anchor::End,
            ..hdr.clone()
        },
    );
    doc.text(
        x_e,
        hdr_y,
        "Events",
        &TextStyle {
            anchor: Anchor::End,
            ..hdr.clone()
        },
    );
    doc.text(x_m, hdr_y, &plot.median_header, &hdr);
    for (i, g) in plot.groups.iter().enumerate() {
        let col = colour(style, i);
        let ry = hdr_y + ex.row_h * (i as f64 + 1.0);
        doc.line(
            lay.plot_left,
            ry - fs * 0.35,
            lay.plot_left + sample_w,
            ry - fs * 0.35,
            &Stroke {
                color: &col,
                width: style.line_width.clamp(0.5, 5.0),
                dash: dash(style, i),
                class: Some("legend-line"),
            },
        );
        let st = TextStyle {
            size: fs,
            class: Some("legend-text"),
            ..TextStyle::default()
        };
        doc.text(
            x_label_col,
            ry,
            &truncate_to_width(&g.label, fs, false, label_w + 0.5),
            &st,
        );
        doc.text(
            x_n,
            ry,
            &n_strs[i],
            &TextStyle {
                anchor: Anchor::End,
                ..st.clone()
            },
        );
        doc.text(
            x_e,
            ry,
            &e_strs[i],
            &TextStyle {
                anchor: Anchor::End,
                ..st.clone()
            },
        );
        doc.text(x_m, ry, &g.median_text, &st);
    }
    doc.close_group();

    // ---- axes ----
    doc.open_group("axes");
    doc.line(
        lay.plot_left,
        lay.plot_bottom,
        lay.plot_right,
        lay.plot_bottom,
        &axis,
    );
    doc.line(
        lay.plot_left,
        lay.plot_top,
        lay.plot_left,
        lay.plot_bottom,
        &axis,
    );
    let tick_label_y = lay.plot_bottom + 9.0 + fs;
    for &t in &lay.ticks {
        let x = lay.x.map(t);
        doc.line(x, lay.plot_bottom, x, lay.plot_bottom + 5.0, &axis);
        doc.text(
            x,
            tick_label_y,
            &fmt_tick(t),
            &TextStyle {
                size: fs,
                anchor: Anchor::Middle,
                class: Some("xtick"),
                ..TextStyle::default()
            },
        );
    }
    for k in 0..=5 {
        let v = k as f64 / 5.0;
        let y = lay.y.map(v);
        doc.line(lay.plot_left - 5.0, y, lay.plot_left, y, &axis);
        let label = match style.y_scale {
            YScale::Percent => format!("{}%", k * 20),
            YScale::Proportion => format!("{v:.1}"),
        };
        doc.text(
            lay.plot_left - 8.0,
            y + fs * 0.35,
            &label,
            &TextStyle {
                size: fs,
                anchor: Anchor::End,
                class: Some("ytick"),
                ..TextStyle::default()
            },
        );
    }
    doc.text(
        (lay.plot_left + lay.plot_right) / 2.0,
        ex.x_label_y,
        &plot.x_label,
        &TextStyle {
            size: fs,
            anchor: Anchor::Middle,
            class: Some("xlabel"),
            ..TextStyle::default()
        },
    );
    let ytick_w = match style.y_scale {
        YScale::Percent => text_width("100%", fs, false),
        YScale::Proportion => text_width("0.0", fs, false),
    };
    let ylab_x = lay.plot_left - 8.0 - ytick_w - 10.0;
    doc.text(
        ylab_x,
        (lay.plot_top + lay.plot_bottom) / 2.0,
        &plot.y_label,
        &TextStyle {
            size: fs,
            anchor: Anchor::Middle,
            class: Some("ylabel"),
            rotate: Some(-90.0),
            ..TextStyle::default()
        },
    );
    doc.close_group();

    // ---- bands, curves, censor marks ----
    if plot.show_ci {
        doc.open_group("ci-bands");
        for (i, c) in ex.curves.iter().enumerate() {
            let col = colour(style, i);
            for d in band_paths(c, &lay) {
                doc.fill_path(&d, &col, style.ci_opacity.clamp(0.0, 1.0), "ci-band");
            }
        }
        doc.close_group();
    }
    doc.open_group("curves");
    for (i, c) in ex.curves.iter().enumerate() {
        let col = colour(style, i);
        doc.path(
            &curve_path(c, &lay),
            &Stroke {
                color: &col,
                width: style.line_width.clamp(0.5, 5.0),
                dash: dash(style, i),
                class: Some("km-curve"),
            },
        );
    }
    doc.close_group();
    doc.open_group("censor-marks");
    let h = style.censor_size.clamp(1.0, 10.0);
    for (i, c) in ex.curves.iter().enumerate() {
        if c.censors.is_empty() {
            continue;
        }
        let col = colour(style, i);
        let mut d = String::new();
        for &(t, s) in &c.censors {
            let (x, y) = (lay.x.map(t), lay.y.map(s));
            let _ = write!(
                d,
                "M{} {}H{}M{} {}V{}",
                num(x - h),
                num(y),
                num(x + h),
                num(x),
                num(y - h),
                num(y + h)
            );
        }
        doc.path(
            &d,
            &Stroke {
                color: &col,
                width: 1.1,
                dash: None,
                class: Some("censor"),
            },
        );
    }
    doc.close_group();

    // ---- p-value ----
    if let (Some(p), Some(place)) = (plot.pvalue_text.as_deref(), ex.pvalue) {
        let st = TextStyle {
            size: fs,
            class: Some("pvalue"),
            ..TextStyle::default()
        };
        let (x, y, anchor) = match place {
            PValuePlacement::TopRight => (
                lay.plot_right - PV_INSET,
                lay.plot_top + PV_INSET + fs,
                Anchor::End,
            ),
            PValuePlacement::Legend => (
                lay.plot_right,
                hdr_y + ex.row_h * (plot.groups.len() as f64 + 1.0),
                Anchor::End,
            ),
            _ => (
                lay.plot_left + PV_INSET,
                lay.plot_bottom - PV_INSET,
                Anchor::Start,
            ),
        };
        doc.text(x, y, p, &TextStyle { anchor, ..st });
    }

    // ---- number-at-risk table ----
    if !ex.risk_rows.is_empty() {
        doc.open_group("risk-table");
        doc.text(
            12.0,
            ex.risk_top + fs,
            &style.risk_table_title,
            &TextStyle {
                size: fs,
                bold: true,
                class: Some("risk-title"),
                ..TextStyle::default()
            },
        );
        let first_half = ex
            .risk_rows
            .iter()
            .filter_map(|(_, v)| v.first().copied().flatten())
            .map(|n| text_width(&suppress(n, style.suppress_below), fs, false) / 2.0)
            .fold(0.0, f64::max);
        for (r, (gi, nums)) in ex.risk_rows.iter().enumerate() {
            let col = colour(style, *gi);
            let ry = ex.risk_top + fs + ex.row_h * (r as f64 + 1.0);
            doc.text(
                lay.plot_left - first_half - 10.0,
                ry,
                &truncate_to_width(&plot.groups[*gi].label, fs, true, ex.risk_label_w + 0.5),
                &TextStyle {
                    size: fs,
                    anchor: Anchor::End,
                    bold: true,
                    fill: &col,
                    class: Some("risk-label"),
                    ..TextStyle::default()
                },
            );
            for (k, &t) in lay.ticks.iter().enumerate() {
                if let Some(Some(n)) = nums.get(k) {
                    doc.text(
                        lay.x.map(t),
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
    doc.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn group(label: &str) -> KmPlotGroup {
        KmPlotGroup {
            label: label.to_string(),
            n: 5,
            events: 3,
            median_text: "4.0 (2.0\u{2013}NR)".to_string(),
            steps: KmSteps {
                time: vec![0.0, 2.0, 4.0, 7.0],
                surv: vec![1.0, 0.8, 0.6, 0.3],
                lower: vec![1.0, 0.5, 0.3, f64::NAN],
                upper: vec![1.0, 0.95, 0.85, f64::NAN],
            },
            censor_times: vec![3.0, 9.0],
            censor_surv: vec![],
            at_risk: AtRisk::Table(vec![
                RiskPoint {
                    time: 2.0,
                    n_risk: 5,
                },
                RiskPoint {
                    time: 3.0,
                    n_risk: 4,
                },
                RiskPoint {
                    time: 4.0,
                    n_risk: 3,
                },
                RiskPoint {
                    time: 7.0,
                    n_risk: 2,
                },
                RiskPoint {
                    time: 9.0,
                    n_risk: 1,
                },
            ]),
        }
    }

    #[test]
    fn n_at_risk_reads_first_row_at_or_after_t() {
        let AtRisk::Table(tab) = group("a").at_risk else {
            unreachable!()
        };
        assert_eq!(n_at_risk(&tab, 0.0), 5);
        assert_eq!(n_at_risk(&tab, 2.0), 5);
        assert_eq!(n_at_risk(&tab, 2.5), 4);
        assert_eq!(n_at_risk(&tab, 9.0), 1);
        assert_eq!(n_at_risk(&tab, 9.5), 0);
        assert_eq!(n_at_risk(&[], 1.0), 0);
    }

    #[test]
    fn curve_extends_to_last_censoring_and_censor_y_read_off_curve() {
        let c = clean_curve(&group("a"), None);
        assert_eq!(c.end, 9.0);
        assert_eq!(c.censors, vec![(3.0, 0.8), (9.0, 0.3)]);
        let c = clean_curve(&group("a"), Some(5.0));
        assert_eq!(c.end, 5.0);
        assert_eq!(c.censors, vec![(3.0, 0.8)]);
        assert_eq!(c.pts.len(), 3);
    }

    #[test]
    fn curve_without_origin_gets_one_and_garbage_is_skipped() {
        let mut g = group("a");
        g.steps.time = vec![1.0, f64::NAN, 3.0];
        g.steps.surv = vec![0.9, 0.5, 2.0];
        let c = clean_curve(&g, None);
        assert_eq!(c.pts[0].0, 0.0);
        assert_eq!(c.pts[0].1, 1.0);
        assert_eq!(c.pts.len(), 3);
        assert_eq!(c.pts[2].1, 1.0); // clamped
    }

    #[test]
    fn layout_ticks_and_risk_columns_share_one_mapping() {
        let plot = KmPlot {
            groups: vec![group("a"), group("b")],
            ..KmPlot::default()
        };
        let style = PlotStyle::default();
        let l = KmLayout::of(&plot, &style);
        assert_eq!(l.ticks, vec![0.0, 2.0, 4.0, 6.0, 8.0, 10.0]);
        let (lay, ex) = compute(&plot, &style);
        assert_eq!(l.tick_x[0], lay.plot_left);
        assert_eq!(*l.tick_x.last().unwrap(), lay.plot_right);
        assert_eq!(
            ex.risk_rows[0].1,
            vec![Some(5), Some(5), Some(3), Some(2), Some(1), Some(0)]
        );
    }

    #[test]
    fn band_has_gap_for_missing_limits() {
        let plot = KmPlot {
            groups: vec![group("a")],
            ..KmPlot::default()
        };
        let (lay, ex) = compute(&plot, &PlotStyle::default());
        let bands = band_paths(&ex.curves[0], &lay);
        assert_eq!(bands.len(), 1);
        assert!(bands[0].ends_with('Z'));
    }

    fn falling(label: &str, by: f64) -> KmPlotGroup {
        // drops to `by` survival within the first month, then flat to 24
        KmPlotGroup {
            label: label.into(),
            steps: KmSteps {
                time: vec![0.0, 0.5],
                surv: vec![1.0, by],
                ..KmSteps::default()
            },
            censor_times: vec![24.0],
            ..KmPlotGroup::default()
        }
    }

    #[test]
    fn pvalue_goes_where_no_curve_passes() {
        let style = PlotStyle::default();
        let mut plot = KmPlot {
            groups: vec![falling("a", 0.6)],
            pvalue_text: Some("Log-rank p = 0.01".into()),
            ..KmPlot::default()
        };
        let place = |plot: &KmPlot| compute(plot, &style).1.pvalue;
        assert_eq!(place(&plot), Some(PValuePlacement::BottomLeft));
        plot.groups.push(falling("b", 0.01)); // bottom-left blocked
        assert_eq!(place(&plot), Some(PValuePlacement::TopRight));
        plot.groups.push(falling("c", 0.99)); // top-right blocked too
        assert_eq!(place(&plot), Some(PValuePlacement::Legend));
        // a legend line makes the figure taller
        let h_legend = compute(&plot, &style).1.height;
        plot.pvalue_text = None;
        assert_eq!(place(&plot), None);
        assert!(compute(&plot, &style).1.height < h_legend);
        let svg = render_km_svg(&plot, &style);
        assert!(!svg.contains("pvalue"));
    }
}
