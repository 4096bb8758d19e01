//! Scaled Schoenfeld residuals of a Cox term over time
//! ([`render_ph_residuals_svg`]): β(t) at each event (or, past
//! [`MAX_EVENT_POINTS`] events, the median and interquartile range of
//! equal-count bins), a given smooth with its ±2 SE band (the study passes
//! R's `plot.cox.zph` natural-spline smooth), the Cox coefficient and zero
//! as reference lines. Drawing is O(events + bins + smooth points).
//!
//! Takes a plain struct and never fails: non-finite points are skipped.
//! Every string is escaped by the SVG writer.

mod draw;

use super::axes::{axis_ticks, draw_axes};
use super::frame::{draw_title, x_extent, PAD};
use super::scale::{nice_step, LinearScale};
use super::style::{fig_width, font_size, plot_height, PlotStyle, TickSpec};
use super::svg::{num, SvgDoc, TextStyle};
use crate::report::text::text_width;

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
    /// Number of events when `time`/`beta_t` are left out (binned plots
    /// need only the bins); the plot counts `max(n_events, time.len())`.
    pub n_events: usize,
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
            n_events: 0,
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
        let n = self.n_events.max(self.time.len().min(self.beta_t.len()));
        !self.bins.is_empty() && n > self.max_event_points
    }
}

/// A leading `-` becomes a true minus sign.
fn minus(s: &str) -> String {
    match s.strip_prefix('-') {
        Some(rest) => format!("\u{2212}{rest}"),
        None => s.to_string(),
    }
}

/// The plot's data, cleaned: what is drawn and the ranges it spans.
struct PhData {
    /// (time, β(t)) at each event (empty when binned).
    pts: Vec<(f64, f64)>,
    binned: bool,
    /// Bins: (midpoint time, q25, median, q75), all finite.
    bins: Vec<(f64, f64, f64, f64)>,
    /// Smooth: (time, fit, lower, upper), band limits NaN when absent.
    smooth: Vec<(f64, f64, f64, f64)>,
    has_band: bool,
    reference: Option<f64>,
    max_t: f64,
}

impl PhData {
    fn new(plot: &PhResidualPlot) -> PhData {
        let n = plot.time.len().min(plot.beta_t.len());
        let binned = plot.binned();
        let pts: Vec<(f64, f64)> = if binned {
            vec![]
        } else {
            (0..n)
                .map(|i| (plot.time[i], plot.beta_t[i]))
                .filter(|(t, b)| t.is_finite() && *t >= 0.0 && b.is_finite())
                .collect()
        };
        let bins: Vec<(f64, f64, f64, f64)> = if binned {
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
        let smooth = plot.smooth.as_ref().map_or(vec![], clean_smooth);
        PhData {
            has_band: smooth.iter().any(|p| p.2.is_finite() && p.3.is_finite()),
            pts,
            binned,
            bins,
            smooth,
            reference: plot.reference.filter(|r| r.is_finite()),
            max_t: if max_t.is_finite() && max_t > 0.0 {
                max_t
            } else {
                1.0
            },
        }
    }

    /// The y range: the points (or the bins' quartiles), the smooth and its
    /// band (as R's plot.cox.zph), the reference and zero.
    fn y_range(&self) -> (f64, f64) {
        let (mut lo, mut hi) = (0.0f64, 0.0f64);
        for v in self
            .pts
            .iter()
            .map(|p| p.1)
            .chain(self.bins.iter().flat_map(|b| [b.1, b.3]))
            .chain(self.smooth.iter().flat_map(|s| [s.1, s.2, s.3]))
            .chain(self.reference)
            .filter(|v| v.is_finite())
        {
            lo = lo.min(v);
            hi = hi.max(v);
        }
        if hi - lo <= 0.0 {
            lo -= 1.0;
            hi += 1.0;
        }
        (lo, hi)
    }
}

fn clean_smooth(sm: &PhSmoothLine) -> Vec<(f64, f64, f64, f64)> {
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
}

/// Nice y ticks over `(lo, hi)` and the ends of the axis.
fn y_ticks((lo, hi): (f64, f64)) -> (Vec<(f64, String)>, f64, f64) {
    let step = nice_step(hi - lo, 6);
    let y0 = (lo / step - 1e-9).floor() * step;
    let y1 = (hi / step + 1e-9).ceil() * step;
    let k = (((y1 - y0) / step).round() as usize).min(100);
    let ticks = (0..=k)
        .map(|i| {
            let v = y0 + i as f64 * step;
            let v = if v.abs() < step * 1e-9 { 0.0 } else { v };
            (v, minus(&num(v)))
        })
        .collect();
    (ticks, y0, y1)
}

/// Positions of the parts of the figure.
struct PhFrame {
    fs: f64,
    row_h: f64,
    width: f64,
    height: f64,
    title_y: f64,
    subtitle_y: f64,
    legend_top: f64,
    left: f64,
    right: f64,
    top: f64,
    bottom: f64,
    x_label_y: f64,
    ticks: Vec<f64>,
    y_ticks: Vec<(f64, String)>,
    /// Ends of the y axis.
    y0: f64,
    y1: f64,
    xs: LinearScale,
    ys: LinearScale,
}

impl PhFrame {
    fn new(plot: &PhResidualPlot, style: &PlotStyle, data: &PhData) -> PhFrame {
        let fs = font_size(style);
        let width = fig_width(style);
        let row_h = (fs * 1.5).round();
        let ticks = axis_ticks(&plot.x_ticks, data.max_t, style.x_tick_target);
        let (y_ticks, y0, y1) = y_ticks(data.y_range());
        let ytick_w = y_ticks
            .iter()
            .map(|(_, l)| text_width(l, fs, false))
            .fold(0.0, f64::max);
        let (left, right) = x_extent(fs, width, ytick_w, 0.0, &ticks);
        let mut y = PAD;
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
        let bottom = top + plot_height(style);
        let x_label_y = bottom + 9.0 + fs + 6.0 + fs;
        PhFrame {
            fs,
            row_h,
            width,
            height: (x_label_y + PAD).ceil(),
            title_y,
            subtitle_y,
            legend_top,
            left,
            right,
            top,
            bottom,
            x_label_y,
            xs: LinearScale {
                d0: ticks.first().copied().unwrap_or(0.0).min(0.0),
                d1: ticks.last().copied().unwrap_or(1.0),
                r0: left,
                r1: right,
            },
            ys: LinearScale {
                d0: y0,
                d1: y1,
                r0: bottom,
                r1: top,
            },
            ticks,
            y_ticks,
            y0,
            y1,
        }
    }
}

/// Renders a β(t) residual plot as a standalone SVG document: a legend of
/// the marks above the plot, points at each event (or the bins' medians
/// with q25–q75 whiskers, see [`PhResidualPlot::binned`]), the smooth
/// (solid) over its shaded ±2 SE band, the reference coefficient (dashed)
/// and zero (dotted grey).
pub fn render_ph_residuals_svg(plot: &PhResidualPlot, style: &PlotStyle) -> String {
    let data = PhData::new(plot);
    let fr = PhFrame::new(plot, style, &data);
    let mut doc = SvgDoc::new(fr.width, fr.height, &plot.title);
    draw_title(&mut doc, (fr.left, fr.title_y), &plot.title, fr.fs);
    if !plot.subtitle.trim().is_empty() {
        doc.text(
            fr.left,
            fr.subtitle_y,
            &plot.subtitle,
            &TextStyle {
                size: fr.fs,
                class: Some("pvalue"),
                ..TextStyle::default()
            },
        );
    }
    draw::legend(&mut doc, plot, &data, &fr);
    draw_axes(
        &mut doc,
        style,
        &fr.ticks,
        &fr.xs,
        &fr.y_ticks,
        &fr.ys,
        (fr.left, fr.right, fr.top, fr.bottom),
        (&plot.x_label, &plot.y_label, fr.x_label_y),
    );
    draw::reference_lines(&mut doc, &data, &fr);
    draw::band(&mut doc, &data, &fr);
    draw::marks(&mut doc, &data, &fr);
    draw::smooth(&mut doc, &data, &fr);
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
