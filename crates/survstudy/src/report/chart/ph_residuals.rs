//! Scaled Schoenfeld residuals of a Cox term over time
//! ([`render_ph_residuals_svg`]): β(t) at each event (or, past
//! [`MAX_EVENT_POINTS`] events, the median and interquartile range of
//! equal-count bins), a given smooth with its ±2 SE band (the study passes
//! R's `plot.cox.zph` natural-spline smooth), the Cox coefficient and zero
//! as reference lines. Drawing is O(events + bins + smooth points).
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

/// A trend line of β(t) computed elsewhere (the study passes R's
/// `plot.cox.zph` smooth: a natural-spline regression `ns(df = 4)` of β(t)
/// on the Kaplan–Meier-transformed time, evaluated at 40 points, with
/// ±2 standard errors). `lower`/`upper` may be empty (no band); the
/// vectors are cut to the shortest, non-finite points skipped.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PhSmoothLine {
    /// Evaluation points as times (x-axis unit).
    pub time: Vec<f64>,
    /// Smoothed β(t).
    pub fit: Vec<f64>,
    /// Lower band limit (fit − 2 SE).
    pub lower: Vec<f64>,
    /// Upper band limit (fit + 2 SE).
    pub upper: Vec<f64>,
}

/// β(t) of consecutive events summarised in one bin (drawn at the midpoint
/// of its time range: a median marker and a q25–q75 whisker).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct PhResidualBin {
    /// First event time of the bin.
    pub time_from: f64,
    /// Last event time of the bin.
    pub time_to: f64,
    /// First quartile of β(t).
    pub q25: f64,
    /// Median of β(t).
    pub median: f64,
    /// Third quartile of β(t).
    pub q75: f64,
}

/// Default of [`PhResidualPlot::max_event_points`] (the study's limit).
pub const MAX_EVENT_POINTS: usize = 2000;

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
    /// Equal-count bins of β(t), drawn instead of the events when there are
    /// more than [`Self::max_event_points`] events (empty: the events are
    /// always drawn).
    pub bins: Vec<PhResidualBin>,
    /// Most events drawn one by one; beyond it the [`Self::bins`] are drawn.
    pub max_event_points: usize,
    /// Trend line (`None`: not drawn).
    pub smooth: Option<PhSmoothLine>,
    /// Horizontal reference at the fitted coefficient (`None`: not drawn).
    pub reference: Option<f64>,
    /// Legend text of the reference line.
    pub reference_label: String,
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
            bins: Vec::new(),
            max_event_points: MAX_EVENT_POINTS,
            smooth: None,
            reference: None,
            reference_label: "Cox coefficient".to_string(),
            x_ticks: TickSpec::Months,
        }
    }
}

impl PhResidualPlot {
    /// Whether the bins are drawn instead of the events.
    pub fn binned(&self) -> bool {
        !self.bins.is_empty() && self.time.len().min(self.beta_t.len()) > self.max_event_points
    }
}

/// A leading `-` becomes a true minus sign.
fn minus(s: &str) -> String {
    match s.strip_prefix('-') {
        Some(rest) => format!("\u{2212}{rest}"),
        None => s.to_string(),
    }
}

/// Renders a β(t) residual plot as a standalone SVG document: a legend of
/// the marks above the plot, points at each event (or the bins' medians
/// with q25–q75 whiskers, see [`PhResidualPlot::binned`]), the smooth
/// (solid) over its shaded ±2 SE band, the reference coefficient (dashed)
/// and zero (dotted grey).
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
    let binned = plot.binned();
    // bins: (midpoint time, q25, median, q75), all finite
    let bins: Vec<(f64, f64, f64, f64)> = if binned {
        pts.clear();
        plot.bins
            .iter()
            .map(|b| ((b.time_from + b.time_to) / 2.0, b.q25, b.median, b.q75))
            .filter(|(t, a, m, c)| {
                t.is_finite() && *t >= 0.0 && a.is_finite() && m.is_finite() && c.is_finite()
            })
            .collect()
    } else {
        vec![]
    };
    let max_t = if binned {
        plot.bins
            .iter()
            .map(|b| b.time_to)
            .filter(|t| t.is_finite())
            .fold(f64::NEG_INFINITY, f64::max)
    } else {
        pts.iter().map(|p| p.0).fold(f64::NEG_INFINITY, f64::max)
    };
    let max_t = if max_t.is_finite() && max_t > 0.0 {
        max_t
    } else {
        1.0
    };
    // smooth: (time, fit, lower, upper), band limits NaN when absent
    let smooth: Vec<(f64, f64, f64, f64)> = plot.smooth.as_ref().map_or(vec![], |sm| {
        let m = sm.time.len().min(sm.fit.len());
        (0..m)
            .map(|i| {
                (
                    sm.time[i],
                    sm.fit[i],
                    sm.lower.get(i).copied().unwrap_or(f64::NAN),
                    sm.upper.get(i).copied().unwrap_or(f64::NAN),
                )
            })
            .filter(|(t, f, _, _)| t.is_finite() && *t >= 0.0 && f.is_finite())
            .collect()
    });
    let has_band = smooth.iter().any(|p| p.2.is_finite() && p.3.is_finite());
    let reference = plot.reference.filter(|r| r.is_finite());
    let ticks = axis_ticks(&plot.x_ticks, max_t, style.x_tick_target);
    // y range: the points (or the bins' quartiles), the smooth and its band
    // (as R's plot.cox.zph), the reference and zero
    let (mut lo, mut hi) = (0.0f64, 0.0f64);
    for v in pts
        .iter()
        .map(|p| p.1)
        .chain(bins.iter().flat_map(|b| [b.1, b.3]))
        .chain(smooth.iter().flat_map(|s| [s.1, s.2, s.3]))
        .chain(reference)
        .filter(|v| v.is_finite())
    {
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
            if binned {
                format!("\u{3b2}(t) median, IQR: {} bins", plot.bins.len())
            } else {
                "\u{3b2}(t) at each event".to_string()
            },
        )];
        if !smooth.is_empty() {
            e.push((
                col2,
                legend_top + fs,
                "smooth",
                if has_band {
                    "Spline smooth \u{b1} 2 SE".to_string()
                } else {
                    "Spline smooth".to_string()
                },
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
            "points" if binned => {
                doc.line(
                    x0 + 15.0,
                    ly - 6.0,
                    x0 + 15.0,
                    ly + 6.0,
                    &Stroke {
                        color: point_col,
                        width: 1.4,
                        dash: None,
                        class: Some("legend-line"),
                    },
                );
                let mut d = String::new();
                circle(&mut d, x0 + 15.0, ly);
                doc.fill_path(&d, point_col, 0.9, "legend-point");
            }
            "points" => {
                let mut d = String::new();
                for k in 0..3 {
                    circle(&mut d, x0 + 5.0 + 10.0 * k as f64, ly);
                }
                doc.fill_path(&d, point_col, 0.55, "legend-point");
            }
            "smooth" => {
                if has_band {
                    let d = format!(
                        "M{} {}H{}V{}H{}Z",
                        num(*x0),
                        num(ly - 5.0),
                        num(x0 + sample_w),
                        num(ly + 5.0),
                        num(*x0)
                    );
                    doc.fill_path(&d, smooth_col, 0.2, "legend-band");
                }
                doc.line(
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
                );
            }
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

    // ---- smooth band (under the points) ----
    if has_band {
        let seg: Vec<&(f64, f64, f64, f64)> = smooth
            .iter()
            .filter(|p| p.2.is_finite() && p.3.is_finite())
            .collect();
        let mut d = String::new();
        for (i, p) in seg.iter().enumerate() {
            let cmd = if i == 0 { 'M' } else { 'L' };
            let _ = write!(
                d,
                "{cmd}{} {}",
                num(xs.map(p.0)),
                num(ys.map(p.3.clamp(y0, y1)))
            );
        }
        for p in seg.iter().rev() {
            let _ = write!(
                d,
                "L{} {}",
                num(xs.map(p.0)),
                num(ys.map(p.2.clamp(y0, y1)))
            );
        }
        d.push('Z');
        doc.fill_path(&d, smooth_col, 0.2, "smooth-band");
    }

    // ---- points, or the bins ----
    let mut d = String::new();
    for &(t, b) in &pts {
        circle(&mut d, xs.map(t), ys.map(b));
    }
    if !d.is_empty() {
        doc.fill_path(&d, point_col, 0.55, "residual");
    }
    if !bins.is_empty() {
        let mut w = String::new();
        let mut d = String::new();
        for &(t, q25, med, q75) in &bins {
            let x = xs.map(t);
            let _ = write!(w, "M{} {}V{}", num(x), num(ys.map(q25)), num(ys.map(q75)));
            circle(&mut d, x, ys.map(med));
        }
        doc.path(
            &w,
            &Stroke {
                color: point_col,
                width: 1.4,
                dash: None,
                class: Some("bin-iqr"),
            },
        );
        doc.fill_path(&d, point_col, 0.9, "bin-median");
    }

    // ---- smooth ----
    let mut d = String::new();
    for (i, p) in smooth.iter().enumerate() {
        let cmd = if i == 0 { 'M' } else { 'L' };
        let _ = write!(
            d,
            "{cmd}{} {}",
            num(xs.map(p.0)),
            num(ys.map(p.1.clamp(y0, y1)))
        );
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
    doc.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The `d` attribute of the path of `class`.
    fn path_of<'a>(svg: &'a str, class: &str) -> &'a str {
        let before = svg
            .split(&format!("class=\"{class}\""))
            .next()
            .expect("class present");
        assert!(svg.contains(&format!("class=\"{class}\"")), "{class}");
        before
            .rsplit("<path d=\"")
            .next()
            .unwrap()
            .split('"')
            .next()
            .unwrap()
    }

    fn smooth_line(n: usize, t_max: f64) -> PhSmoothLine {
        let time: Vec<f64> = (0..n).map(|i| t_max * i as f64 / (n - 1) as f64).collect();
        let fit: Vec<f64> = time.iter().map(|t| 0.5 - 0.02 * t).collect();
        PhSmoothLine {
            lower: fit.iter().map(|f| f - 0.3).collect(),
            upper: fit.iter().map(|f| f + 0.3).collect(),
            time,
            fit,
        }
    }

    #[test]
    fn draws_the_given_smooth_and_band_over_every_event() {
        let time: Vec<f64> = (1..=50).map(|k| k as f64 * 0.5).collect();
        let beta_t: Vec<f64> = time
            .iter()
            .enumerate()
            .map(|(k, t)| 0.5 - 0.02 * t + if k % 2 == 0 { 0.6 } else { -0.6 })
            .collect();
        let plot = PhResidualPlot {
            time,
            beta_t,
            smooth: Some(smooth_line(40, 25.0)),
            reference: Some(0.2),
            ..PhResidualPlot::default()
        };
        assert!(!plot.binned());
        let svg = render_ph_residuals_svg(&plot, &PlotStyle::default());
        assert_eq!(path_of(&svg, "residual").matches('Z').count(), 50);
        // 40 smooth points: one M and 39 L
        let d = path_of(&svg, "smooth");
        assert_eq!(d.matches('M').count(), 1);
        assert_eq!(d.matches('L').count(), 39);
        // band: 40 upper + 40 lower vertices, closed
        let band = path_of(&svg, "smooth-band");
        assert_eq!(band.matches(['M', 'L']).count(), 80);
        assert!(band.ends_with('Z'));
        assert!(svg.contains("Spline smooth \u{b1} 2 SE"));
        assert!(!svg.contains("bin-median"));
        assert!(!svg.contains("LOWESS"));
    }

    #[test]
    fn many_events_draw_bins_and_stay_small() {
        let n = 100_000;
        let time: Vec<f64> = (1..=n).map(|k| k as f64 * 60.0 / n as f64).collect();
        let beta_t: Vec<f64> = (0..n)
            .map(|k| if k % 2 == 0 { 1.0 } else { -1.0 })
            .collect();
        let bins: Vec<PhResidualBin> = (0..40)
            .map(|b| PhResidualBin {
                time_from: time[b * n / 40],
                time_to: time[(b + 1) * n / 40 - 1],
                q25: -1.0,
                median: 0.0,
                q75: 1.0,
            })
            .collect();
        let plot = PhResidualPlot {
            time,
            beta_t,
            bins,
            smooth: Some(smooth_line(40, 60.0)),
            ..PhResidualPlot::default()
        };
        assert!(plot.binned());
        let svg = render_ph_residuals_svg(&plot, &PlotStyle::default());
        assert!(!svg.contains("class=\"residual\""));
        assert_eq!(path_of(&svg, "bin-median").matches('Z').count(), 40);
        let iqr = path_of(&svg, "bin-iqr");
        assert_eq!(iqr.matches('M').count(), 40);
        assert_eq!(iqr.matches('V').count(), 40);
        assert!(svg.contains("median, IQR: 40 bins"));
        assert!(svg.len() < 40_000, "{} bytes", svg.len());

        // the same events without bins are drawn one by one
        let plain = PhResidualPlot {
            bins: vec![],
            time: plot.time[..3000].to_vec(),
            beta_t: plot.beta_t[..3000].to_vec(),
            ..plot.clone()
        };
        assert!(!plain.binned());
        let svg = render_ph_residuals_svg(&plain, &PlotStyle::default());
        assert_eq!(path_of(&svg, "residual").matches('Z').count(), 3000);
    }

    #[test]
    fn no_smooth_no_line_and_empty_input_renders() {
        let svg = render_ph_residuals_svg(&PhResidualPlot::default(), &PlotStyle::default());
        assert!(svg.starts_with("<svg"));
        assert!(!svg.contains("class=\"smooth\""));
        assert!(!svg.contains("smooth-band"));
    }
}
