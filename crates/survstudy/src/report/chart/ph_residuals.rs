//! Scaled Schoenfeld residuals of a Cox term over time
//! ([`render_ph_residuals_svg`]): β(t) at each event, a LOWESS smooth
//! ([`lowess`]), the Cox coefficient and zero as reference lines.
//!
//! Takes a plain struct and never fails: non-finite points are skipped.
//! Every string is escaped by the SVG writer.

use std::fmt::Write as _;

use super::axes::{axis_ticks, draw_axes};
use super::scale::{nice_step, LinearScale};
use super::style::{fig_width, font_size, plot_height, PlotStyle, TickSpec};
use super::svg::{num, Stroke, SvgDoc, TextStyle};
use crate::report::text::{text_width, truncate_to_width};
use crate::report::OKABE_ITO;

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
