//! Figures of the competing-risks and proportional-hazards sections:
//!
//! * cumulative incidence ([`render_cif_svg`]): step curves rising from 0,
//!   one per group, in the Okabe–Ito palette with a different line style per
//!   group, optional stepped 95% bands, a legend with N, events and the
//!   cumulative incidence at a chosen time, Gray's test on the plot, the same
//!   month ticks as the Kaplan–Meier figures and a 0–100% y axis;
//! * scaled Schoenfeld residuals of a Cox term over time
//!   ([`render_ph_residuals_svg`]): β(t) at each event, a LOWESS smooth
//!   ([`lowess`]), the Cox coefficient and zero as reference lines.
//!
//! Both take plain structs and never fail: non-finite or negative points
//! are skipped. Every string is escaped by the SVG writer.

use std::fmt::Write as _;

use super::km::{PValuePlacement, PlotStyle, TickSpec, YScale};
use super::scale::{month_ticks, nice_step, nice_ticks, ticks_with_step, LinearScale};
use super::svg::{num, Anchor, Stroke, SvgDoc, TextStyle};
use super::text::{suppress, text_width, truncate_to_width};
use super::{LINE_DASHES, OKABE_ITO};

// ---------------------------------------------------------------------------
// shared helpers
// ---------------------------------------------------------------------------

fn font_size(style: &PlotStyle) -> f64 {
    if style.font_size.is_finite() && style.font_size > 4.0 {
        style.font_size
    } else {
        11.0
    }
}

fn fig_width(style: &PlotStyle) -> f64 {
    if style.width.is_finite() && style.width >= 200.0 {
        style.width
    } else {
        672.0
    }
}

fn plot_height(style: &PlotStyle) -> f64 {
    if style.plot_height.is_finite() && style.plot_height >= 60.0 {
        style.plot_height
    } else {
        320.0
    }
}

fn colour(style: &PlotStyle, i: usize) -> String {
    match style.palette.get(i % style.palette.len().max(1)) {
        Some(c)
            if !c.is_empty()
                && c.chars()
                    .all(|ch| ch.is_ascii_alphanumeric() || "#(),. %".contains(ch)) =>
        {
            c.clone()
        }
        _ => OKABE_ITO[i % OKABE_ITO.len()].to_string(),
    }
}

fn dash(style: &PlotStyle, i: usize) -> Option<&'static str> {
    if style.vary_line_styles {
        LINE_DASHES[i % LINE_DASHES.len()]
    } else {
        None
    }
}

fn axis_ticks(spec: &TickSpec, max_t: f64, target: usize) -> Vec<f64> {
    let target = target.max(2);
    let mut t = match spec {
        TickSpec::Months => month_ticks(max_t, target),
        TickSpec::Nice => nice_ticks(max_t, target),
        TickSpec::Step(s) => ticks_with_step(max_t, *s),
        TickSpec::Fixed(v) => {
            let mut v: Vec<f64> = v
                .iter()
                .copied()
                .filter(|x| x.is_finite() && *x >= 0.0)
                .collect();
            v.sort_by(f64::total_cmp);
            v.dedup();
            v
        }
    };
    if t.len() < 2 {
        t = nice_ticks(max_t, target);
    }
    t
}

// ---------------------------------------------------------------------------
// cumulative incidence
// ---------------------------------------------------------------------------

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
    super::km::step_path(&c.pts, c.end, &lay.x, &lay.y)
}

/// Stepped band polygons, one per run of finite limits.
fn cif_bands(c: &CifCurve, lay: &CifLayout) -> Vec<String> {
    super::km::step_bands(&c.pts, c.end, &lay.x, &lay.y)
}

#[allow(clippy::too_many_arguments)]
fn draw_axes(
    doc: &mut SvgDoc,
    style: &PlotStyle,
    ticks: &[f64],
    x: &LinearScale,
    y_ticks: &[(f64, String)],
    y: &LinearScale,
    frame: (f64, f64, f64, f64),
    labels: (&str, &str, f64),
) {
    let fs = font_size(style);
    let (left, right, top, bottom) = frame;
    let (x_label, y_label, x_label_y) = labels;
    let axis = Stroke::default();
    doc.open_group("axes");
    doc.line(left, bottom, right, bottom, &axis);
    doc.line(left, top, left, bottom, &axis);
    for &t in ticks {
        let px = x.map(t);
        doc.line(px, bottom, px, bottom + 5.0, &axis);
        doc.text(
            px,
            bottom + 9.0 + fs,
            &num(t),
            &TextStyle {
                size: fs,
                anchor: Anchor::Middle,
                class: Some("xtick"),
                ..TextStyle::default()
            },
        );
    }
    let mut ytick_w: f64 = 0.0;
    for (v, label) in y_ticks {
        let py = y.map(*v);
        doc.line(left - 5.0, py, left, py, &axis);
        ytick_w = ytick_w.max(text_width(label, fs, false));
        doc.text(
            left - 8.0,
            py + fs * 0.35,
            label,
            &TextStyle {
                size: fs,
                anchor: Anchor::End,
                class: Some("ytick"),
                ..TextStyle::default()
            },
        );
    }
    doc.text(
        (left + right) / 2.0,
        x_label_y,
        x_label,
        &TextStyle {
            size: fs,
            anchor: Anchor::Middle,
            class: Some("xlabel"),
            ..TextStyle::default()
        },
    );
    doc.text(
        left - 8.0 - ytick_w - 10.0,
        (top + bottom) / 2.0,
        y_label,
        &TextStyle {
            size: fs,
            anchor: Anchor::Middle,
            class: Some("ylabel"),
            rotate: Some(-90.0),
            ..TextStyle::default()
        },
    );
    doc.close_group();
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

// ---------------------------------------------------------------------------
// scaled Schoenfeld residuals
// ---------------------------------------------------------------------------

/// Smoother of a residual plot.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Smoother {
    /// LOWESS: local linear fits with tricube weights over the nearest
    /// `span` fraction of the points, with bisquare robustness weights
    /// (see [`lowess`]).
    #[default]
    Lowess,
    /// No trend line.
    None,
}

/// A plot of β(t) (scaled Schoenfeld residual + coefficient) at each event
/// time of one Cox term.
#[derive(Debug, Clone, PartialEq)]
pub struct PhResidualPlot {
    /// Title (may be empty).
    pub title: String,
    /// Line under the title, e.g. the PH test result (may be empty).
    pub subtitle: String,
    /// X-axis label.
    pub x_label: String,
    /// Y-axis label.
    pub y_label: String,
    /// Event times.
    pub time: Vec<f64>,
    /// β(t) at each event time (same length as `time`; extra values are
    /// ignored, non-finite pairs skipped).
    pub beta_t: Vec<f64>,
    /// Horizontal reference at the fitted coefficient (`None`: not drawn).
    pub reference: Option<f64>,
    /// Legend text of the reference line.
    pub reference_label: String,
    /// Trend line.
    pub smoother: Smoother,
    /// LOWESS span in `(0, 1]` (fraction of points in each local fit).
    pub span: f64,
    /// X ticks.
    pub x_ticks: TickSpec,
}

impl Default for PhResidualPlot {
    fn default() -> Self {
        PhResidualPlot {
            title: String::new(),
            subtitle: String::new(),
            x_label: "Months".to_string(),
            y_label: "\u{3b2}(t)".to_string(),
            time: Vec::new(),
            beta_t: Vec::new(),
            reference: None,
            reference_label: "Cox coefficient".to_string(),
            smoother: Smoother::Lowess,
            span: 2.0 / 3.0,
            x_ticks: TickSpec::Months,
        }
    }
}

/// `2/3` for the usual span, else the number.
fn span_text(span: f64) -> String {
    if (span - 2.0 / 3.0).abs() < 1e-9 {
        "2/3".to_string()
    } else {
        num(span)
    }
}

/// A leading `-` becomes a true minus sign.
fn minus(s: &str) -> String {
    match s.strip_prefix('-') {
        Some(rest) => format!("\u{2212}{rest}"),
        None => s.to_string(),
    }
}

/// Robustness iterations of [`lowess`] after the first fit (R's `lowess`
/// default `iter = 3`).
pub const LOWESS_ITERATIONS: usize = 3;

/// LOWESS smooth of `y` on `x` (Cleveland 1979) evaluated at every `x`:
/// for each point a weighted linear fit over the nearest `ceil(span·n)`
/// points with tricube weights, followed by [`LOWESS_ITERATIONS`] bisquare
/// robustness iterations (residuals scaled by 6 × their median absolute
/// value). `x` must be sorted ascending; pairs with a non-finite value get
/// NaN. A span outside `(0, 1]` is taken as 2/3. Ties in `x` share one
/// neighbourhood; a neighbourhood of one distinct `x` gives the weighted
/// mean.
pub fn lowess(x: &[f64], y: &[f64], span: f64) -> Vec<f64> {
    let n = x.len().min(y.len());
    let idx: Vec<usize> = (0..n)
        .filter(|&i| x[i].is_finite() && y[i].is_finite())
        .collect();
    let mut out = vec![f64::NAN; x.len()];
    let m = idx.len();
    if m == 0 {
        return out;
    }
    let xs: Vec<f64> = idx.iter().map(|&i| x[i]).collect();
    let ys: Vec<f64> = idx.iter().map(|&i| y[i]).collect();
    let span = if span.is_finite() && span > 0.0 && span <= 1.0 {
        span
    } else {
        2.0 / 3.0
    };
    let k = ((span * m as f64).ceil() as usize).clamp(1, m);
    let mut robust = vec![1.0; m];
    let mut fit = vec![0.0; m];
    for iter in 0..=LOWESS_ITERATIONS {
        let mut lo = 0usize;
        for i in 0..m {
            // window of k nearest points (x sorted): slide right while the
            // right neighbour is nearer than the leftmost point
            while lo + k < m && xs[lo + k] - xs[i] < xs[i] - xs[lo] {
                lo += 1;
            }
            let hi = lo + k - 1;
            let h = (xs[i] - xs[lo]).max(xs[hi] - xs[i]);
            let (mut sw, mut sx, mut sy) = (0.0, 0.0, 0.0);
            let mut wts = Vec::with_capacity(k);
            // include ties beyond the window edges
            let (mut a, mut b) = (lo, hi);
            while a > 0 && xs[a - 1] == xs[lo] {
                a -= 1;
            }
            while b + 1 < m && xs[b + 1] == xs[hi] {
                b += 1;
            }
            for j in a..=b {
                let d = (xs[j] - xs[i]).abs();
                let w = if h > 0.0 {
                    let u = (d / (h * 1.000_001)).min(1.0);
                    (1.0 - u * u * u).powi(3)
                } else {
                    1.0
                } * robust[j];
                wts.push((j, w));
                sw += w;
                sx += w * xs[j];
                sy += w * ys[j];
            }
            if sw <= 0.0 {
                fit[i] = ys[i];
                continue;
            }
            let (mx, my) = (sx / sw, sy / sw);
            let (mut sxx, mut sxy) = (0.0, 0.0);
            for &(j, w) in &wts {
                sxx += w * (xs[j] - mx) * (xs[j] - mx);
                sxy += w * (xs[j] - mx) * (ys[j] - my);
            }
            let range = xs[m - 1] - xs[0];
            fit[i] = if sxx > 1e-12 * (range * range).max(1e-300) {
                my + sxy / sxx * (xs[i] - mx)
            } else {
                my
            };
        }
        if iter == LOWESS_ITERATIONS {
            break;
        }
        let mut res: Vec<f64> = (0..m).map(|i| (ys[i] - fit[i]).abs()).collect();
        let mut sorted = res.clone();
        sorted.sort_by(f64::total_cmp);
        let mad = if m % 2 == 1 {
            sorted[m / 2]
        } else {
            (sorted[m / 2 - 1] + sorted[m / 2]) / 2.0
        };
        if mad <= 1e-12 * sorted[m - 1].max(1e-300) {
            break;
        }
        for (r, w) in res.iter_mut().zip(robust.iter_mut()) {
            let u = (*r / (6.0 * mad)).min(1.0);
            *w = (1.0 - u * u).powi(2);
        }
    }
    for (p, &i) in idx.iter().enumerate() {
        out[i] = fit[p];
    }
    out
}

/// Renders a β(t) residual plot as a standalone SVG document: a legend of
/// the marks above the plot, points at each event, the smooth (solid), the
/// reference coefficient (dashed) and zero (dotted grey).
pub fn render_ph_residuals_svg(plot: &PhResidualPlot, style: &PlotStyle) -> String {
    let fs = font_size(style);
    let width = fig_width(style);
    let plot_h = plot_height(style);
    let pad = 12.0;
    let row_h = (fs * 1.5).round();
    let n = plot.time.len().min(plot.beta_t.len());
    let mut pts: Vec<(f64, f64)> = (0..n)
        .map(|i| (plot.time[i], plot.beta_t[i]))
        .filter(|(t, b)| t.is_finite() && *t >= 0.0 && b.is_finite())
        .collect();
    pts.sort_by(|a, b| a.0.total_cmp(&b.0));
    let reference = plot.reference.filter(|r| r.is_finite());
    let max_t = pts.last().map_or(1.0, |p| p.0);
    let ticks = axis_ticks(&plot.x_ticks, max_t, style.x_tick_target);
    // y range: the points, the reference and zero
    let (mut lo, mut hi) = (0.0f64, 0.0f64);
    for v in pts.iter().map(|p| p.1).chain(reference) {
        lo = lo.min(v);
        hi = hi.max(v);
    }
    if hi - lo <= 0.0 {
        lo -= 1.0;
        hi += 1.0;
    }
    let step = nice_step(hi - lo, 6);
    let y0 = (lo / step - 1e-9).floor() * step;
    let y1 = (hi / step + 1e-9).ceil() * step;
    let y_ticks: Vec<(f64, String)> = {
        let k = (((y1 - y0) / step).round() as usize).min(100);
        (0..=k)
            .map(|i| {
                let v = y0 + i as f64 * step;
                let v = if v.abs() < step * 1e-9 { 0.0 } else { v };
                (v, minus(&num(v)))
            })
            .collect()
    };
    let ytick_w = y_ticks
        .iter()
        .map(|(_, l)| text_width(l, fs, false))
        .fold(0.0, f64::max);
    let left = (pad + fs * 1.3 + 8.0 + ytick_w + 9.0).ceil();
    let last_half = ticks
        .last()
        .map_or(0.0, |t| text_width(&num(*t), fs, false) / 2.0);
    let right = (width - pad - last_half.max(6.0)).floor();

    let mut y = pad;
    let title_y = y + fs * 1.25;
    if !plot.title.trim().is_empty() {
        y += fs * 1.3 + 10.0;
    }
    let subtitle_y = y + fs;
    if !plot.subtitle.trim().is_empty() {
        y += row_h + 4.0;
    }
    // legend: two columns of two entries
    let legend_top = y;
    y += row_h * 2.0 + 10.0;
    let top = y.round();
    let bottom = top + plot_h;
    let x_label_y = bottom + 9.0 + fs + 6.0 + fs;
    let height = (x_label_y + pad).ceil();
    let xs = LinearScale {
        d0: ticks.first().copied().unwrap_or(0.0).min(0.0),
        d1: ticks.last().copied().unwrap_or(1.0),
        r0: left,
        r1: right,
    };
    let ys = LinearScale {
        d0: y0,
        d1: y1,
        r0: bottom,
        r1: top,
    };

    let mut doc = SvgDoc::new(width, height, &plot.title);
    if !plot.title.trim().is_empty() {
        doc.text(
            left,
            title_y,
            &plot.title,
            &TextStyle {
                size: fs * 1.15,
                bold: true,
                class: Some("title"),
                ..TextStyle::default()
            },
        );
    }
    if !plot.subtitle.trim().is_empty() {
        doc.text(
            left,
            subtitle_y,
            &plot.subtitle,
            &TextStyle {
                size: fs,
                class: Some("pvalue"),
                ..TextStyle::default()
            },
        );
    }

    let point_col = OKABE_ITO[0];
    let smooth_col = OKABE_ITO[1];
    let r = 2.4;
    let circle = |d: &mut String, cx: f64, cy: f64| {
        let _ = write!(
            d,
            "M{} {}a{r} {r} 0 1 0 {} 0a{r} {r} 0 1 0 -{} 0Z",
            num(cx - r),
            num(cy),
            num(2.0 * r),
            num(2.0 * r)
        );
    };

    // ---- legend ----
    doc.open_group("legend");
    let st = TextStyle {
        size: fs,
        class: Some("legend-text"),
        ..TextStyle::default()
    };
    let col2 = left + (right - left) / 2.0;
    let sample_w = 30.0;
    let entries: Vec<(f64, f64, &str, String)> = {
        let mut e = vec![(
            left,
            legend_top + fs,
            "points",
            "\u{3b2}(t) at each event".to_string(),
        )];
        if plot.smoother == Smoother::Lowess {
            e.push((
                col2,
                legend_top + fs,
                "smooth",
                format!("LOWESS smooth (span {})", span_text(plot.span)),
            ));
        }
        if reference.is_some() {
            e.push((
                left,
                legend_top + fs + row_h,
                "reference",
                plot.reference_label.clone(),
            ));
        }
        e.push((
            col2,
            legend_top + fs + row_h,
            "zero",
            "0 (no effect)".to_string(),
        ));
        e
    };
    for (x0, ry, kind, text) in &entries {
        let ly = ry - fs * 0.35;
        match *kind {
            "points" => {
                let mut d = String::new();
                for k in 0..3 {
                    circle(&mut d, x0 + 5.0 + 10.0 * k as f64, ly);
                }
                doc.fill_path(&d, point_col, 0.55, "legend-point");
            }
            "smooth" => doc.line(
                *x0,
                ly,
                x0 + sample_w,
                ly,
                &Stroke {
                    color: smooth_col,
                    width: 2.2,
                    dash: None,
                    class: Some("legend-line"),
                },
            ),
            "reference" => doc.line(
                *x0,
                ly,
                x0 + sample_w,
                ly,
                &Stroke {
                    color: "#000",
                    width: 1.3,
                    dash: Some("7 4"),
                    class: Some("legend-line"),
                },
            ),
            _ => doc.line(
                *x0,
                ly,
                x0 + sample_w,
                ly,
                &Stroke {
                    color: "#777",
                    width: 1.0,
                    dash: Some("1.5 3"),
                    class: Some("legend-line"),
                },
            ),
        }
        let max_w = if *x0 < col2 {
            col2 - x0 - sample_w - 20.0
        } else {
            right - x0 - sample_w - 8.0
        };
        doc.text(
            x0 + sample_w + 8.0,
            *ry,
            &truncate_to_width(text, fs, false, max_w.max(40.0)),
            &st,
        );
    }
    doc.close_group();

    draw_axes(
        &mut doc,
        style,
        &ticks,
        &xs,
        &y_ticks,
        &ys,
        (left, right, top, bottom),
        (&plot.x_label, &plot.y_label, x_label_y),
    );

    // ---- reference lines ----
    doc.open_group("reference-lines");
    if y0 < 0.0 && y1 > 0.0 {
        doc.line(
            left,
            ys.map(0.0),
            right,
            ys.map(0.0),
            &Stroke {
                color: "#777",
                width: 1.0,
                dash: Some("1.5 3"),
                class: Some("zero-line"),
            },
        );
    }
    if let Some(c) = reference {
        doc.line(
            left,
            ys.map(c),
            right,
            ys.map(c),
            &Stroke {
                color: "#000",
                width: 1.3,
                dash: Some("7 4"),
                class: Some("coef-line"),
            },
        );
    }
    doc.close_group();

    // ---- points ----
    let mut d = String::new();
    for &(t, b) in &pts {
        circle(&mut d, xs.map(t), ys.map(b));
    }
    if !d.is_empty() {
        doc.fill_path(&d, point_col, 0.55, "residual");
    }

    // ---- smooth ----
    if plot.smoother == Smoother::Lowess && pts.len() >= 3 {
        let tx: Vec<f64> = pts.iter().map(|p| p.0).collect();
        let by: Vec<f64> = pts.iter().map(|p| p.1).collect();
        let fit = lowess(&tx, &by, plot.span);
        let mut d = String::new();
        let mut last_x = f64::NAN;
        for (t, f) in tx.iter().zip(&fit) {
            if !f.is_finite() || *t == last_x {
                continue;
            }
            let cmd = if d.is_empty() { 'M' } else { 'L' };
            let f = f.clamp(y0, y1);
            let _ = write!(d, "{cmd}{} {}", num(xs.map(*t)), num(ys.map(f)));
            last_x = *t;
        }
        if !d.is_empty() {
            doc.path(
                &d,
                &Stroke {
                    color: smooth_col,
                    width: 2.2,
                    dash: None,
                    class: Some("smooth"),
                },
            );
        }
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

    #[test]
    fn lowess_fits_a_line_exactly_and_resists_outliers() {
        let x: Vec<f64> = (0..30).map(f64::from).collect();
        let y: Vec<f64> = x.iter().map(|v| 2.0 + 0.5 * v).collect();
        let f = lowess(&x, &y, 2.0 / 3.0);
        for (a, b) in f.iter().zip(&y) {
            assert!((a - b).abs() < 1e-9, "{a} vs {b}");
        }
        // noisy flat data with one gross outlier: the robustness weights
        // keep the smooth near 1 (with no noise the median residual is 0
        // and, as in R's lowess, no robustness step is taken)
        let mut y2: Vec<f64> = (0..30)
            .map(|i| if i % 2 == 0 { 1.1 } else { 0.9 })
            .collect();
        y2[15] = 100.0;
        let f = lowess(&x, &y2, 0.5);
        assert!((f[15] - 1.0).abs() < 0.5, "{}", f[15]);
        assert!(lowess(&[], &[], 0.5).is_empty());
        let f = lowess(&[1.0, 1.0, 1.0], &[1.0, 2.0, 3.0], 0.5);
        assert!(f.iter().all(|v| (v - 2.0).abs() < 1e-9), "{f:?}");
    }
}
