//! Kaplan–Meier figure: step curves, censor marks, optional stepped 95% CI
//! bands, legend with n / events / median, log-rank p and a number-at-risk
//! table aligned with the x-axis ticks.

use std::fmt::Write as _;

use super::axes::draw_axes;
use super::frame::{curve_ticks, unit_yticks, Direction, Frame, FrameSpec};
use super::legend::{draw_legend, LegendEntry, LegendHeaders};
use super::risk_table::RiskTable;
pub use super::risk_table::{n_at_risk, AtRisk, RiskPoint};
use super::steps::{collect_points, draw_step_curves, StepCurve};
use super::style::{colour, font_size, PlotStyle, TickSpec};
use super::svg::{num, Stroke, SvgDoc};

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

/// Groups with more censorings than this get thinned censor marks: at most
/// one mark per [`CENSOR_BIN_PX`]-pixel interval of the x axis that has any
/// censoring (the figure then says so in a note under the axis).
pub const MAX_CENSOR_MARKS: usize = 500;

/// Width (pixels) of the x intervals of thinned censor marks.
pub const CENSOR_BIN_PX: f64 = 4.0;

/// Text of the note under a figure with thinned censor marks.
pub fn censor_note() -> String {
    format!(
        "+ censoring: groups with more than {MAX_CENSOR_MARKS} censored show one mark per \
         {} px interval with any censoring.",
        num(CENSOR_BIN_PX)
    )
}

fn clean_curve(g: &KmPlotGroup, x_max: Option<f64>) -> StepCurve {
    let s = &g.steps;
    let pts = collect_points(&s.time, &s.surv, &s.lower, &s.upper, |v| {
        v.copied().unwrap_or(f64::NAN).clamp(0.0, 1.0)
    });
    let last_censor = g
        .censor_times
        .iter()
        .copied()
        .filter(|t| t.is_finite())
        .fold(f64::NEG_INFINITY, f64::max);
    let mut c = StepCurve::new(pts, 1.0, last_censor, x_max);
    let matched = g.censor_surv.len() == g.censor_times.len();
    let end = c.end;
    c.censors = g
        .censor_times
        .iter()
        .enumerate()
        .filter(|(_, t)| t.is_finite() && **t >= 0.0 && **t <= end)
        .map(|(i, &t)| {
            let y = if matched && g.censor_surv[i].is_finite() {
                g.censor_surv[i].clamp(0.0, 1.0)
            } else {
                c.value_at(t)
            };
            (t, y)
        })
        .collect();
    c
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
        let k = compute(plot, style);
        KmLayout {
            tick_x: k.fr.ticks.iter().map(|&t| k.fr.x.map(t)).collect(),
            ticks: k.fr.ticks,
        }
    }
}

/// Everything the drawing needs, computed once.
struct Computed {
    fr: Frame,
    curves: Vec<StepCurve>,
    risk: RiskTable,
    thinned: bool,
    height: f64,
}

fn compute(plot: &KmPlot, style: &PlotStyle) -> Computed {
    let fs = font_size(style);
    let curves: Vec<StepCurve> = plot
        .groups
        .iter()
        .map(|g| clean_curve(g, plot.x_max))
        .collect();
    let ticks = curve_ticks(&plot.x_ticks, style, &curves, plot.x_max);
    let risk = if plot.show_risk_table {
        RiskTable::new(
            plot.groups.iter().map(|g| (g.label.as_str(), &g.at_risk)),
            &ticks,
            style,
            fs,
        )
    } else {
        RiskTable::new(std::iter::empty(), &ticks, style, fs)
    };
    let thinned = curves.iter().any(|c| c.censors.len() > MAX_CENSOR_MARKS);
    let spec = FrameSpec {
        title: &plot.title,
        legend_rows: plot.groups.len(),
        pvalue: plot.pvalue_text.as_deref(),
        show_ci: plot.show_ci,
        direction: Direction::Falling,
        min_left: risk.left_need(),
        note: thinned,
    };
    let fr = Frame::new(&spec, style, &curves, ticks);
    let height = risk.height(&fr).ceil();
    Computed {
        fr,
        curves,
        risk,
        thinned,
        height,
    }
}

/// Censor marks to draw: all of them, or for a group with more than
/// [`MAX_CENSOR_MARKS`] the first of each [`CENSOR_BIN_PX`] interval.
fn drawn_censors(c: &StepCurve, fr: &Frame) -> Vec<(f64, f64)> {
    if c.censors.len() <= MAX_CENSOR_MARKS {
        return c.censors.clone();
    }
    let mut marks: Vec<(f64, f64)> = c.censors.clone();
    marks.sort_by(|a, b| a.0.total_cmp(&b.0));
    let mut last_bin = f64::NAN;
    marks.retain(|&(t, _)| {
        let bin = ((fr.x.map(t) - fr.left) / CENSOR_BIN_PX).floor();
        let keep = bin != last_bin;
        last_bin = bin;
        keep
    });
    marks
}

fn draw_censor_marks(doc: &mut SvgDoc, style: &PlotStyle, k: &Computed) {
    doc.open_group("censor-marks");
    let h = style.censor_size.clamp(1.0, 10.0);
    for (i, c) in k.curves.iter().enumerate() {
        if c.censors.is_empty() {
            continue;
        }
        let col = colour(style, i);
        let mut d = String::new();
        for (t, s) in drawn_censors(c, &k.fr) {
            let (x, y) = (k.fr.x.map(t), k.fr.y.map(s));
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
}

/// Renders the figure as a standalone SVG document.
///
/// Rendering never fails: malformed points (non-finite, negative times,
/// mismatched vector lengths) are skipped as documented on [`KmSteps`].
/// Paths stay bounded at any n (long curves are merged at half a pixel, and
/// past [`MAX_CENSOR_MARKS`] censorings a group's marks are thinned, which
/// a note under the axis says).
pub fn render_km_svg(plot: &KmPlot, style: &PlotStyle) -> String {
    let k = compute(plot, style);
    let fr = &k.fr;
    let mut doc = SvgDoc::new(fr.width, k.height, &plot.title);
    fr.draw_title(&mut doc, &plot.title);
    let entries: Vec<LegendEntry> = plot
        .groups
        .iter()
        .map(|g| LegendEntry {
            label: &g.label,
            n: g.n,
            events: g.events,
            last: &g.median_text,
        })
        .collect();
    let headers = LegendHeaders {
        events: "Events",
        last: &plot.median_header,
    };
    draw_legend(&mut doc, style, fr, &headers, &entries);
    draw_axes(
        &mut doc,
        style,
        &fr.ticks,
        &fr.x,
        &unit_yticks(style),
        &fr.y,
        (fr.left, fr.right, fr.top, fr.bottom),
        (&plot.x_label, &plot.y_label, fr.x_label_y),
    );
    draw_step_curves(
        &mut doc,
        style,
        &k.curves,
        (&fr.x, &fr.y),
        plot.show_ci,
        "km-curve",
    );
    draw_censor_marks(&mut doc, style, &k);
    fr.draw_pvalue(&mut doc, plot.pvalue_text.as_deref(), plot.groups.len());
    if k.thinned {
        fr.draw_note(&mut doc, &censor_note());
    }
    let labels: Vec<&str> = plot.groups.iter().map(|g| g.label.as_str()).collect();
    k.risk.draw(&mut doc, style, fr, &labels);
    doc.finish()
}

#[cfg(test)]
mod tests {
    use super::super::frame::Corner;
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
        let k = compute(&plot, &style);
        assert_eq!(l.tick_x[0], k.fr.left);
        assert_eq!(*l.tick_x.last().unwrap(), k.fr.right);
        assert_eq!(
            k.risk.rows[0].1,
            vec![Some(5), Some(5), Some(3), Some(2), Some(1), Some(0)]
        );
    }

    #[test]
    fn band_has_gap_for_missing_limits() {
        let plot = KmPlot {
            groups: vec![group("a")],
            ..KmPlot::default()
        };
        let k = compute(&plot, &PlotStyle::default());
        let c = &k.curves[0];
        let bands = super::super::steps::step_bands(&c.pts, c.end, &k.fr.x, &k.fr.y);
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
        let place = |plot: &KmPlot| compute(plot, &style).fr.place;
        assert_eq!(place(&plot), Some(Corner::BottomLeft));
        plot.groups.push(falling("b", 0.01)); // bottom-left blocked
        assert_eq!(place(&plot), Some(Corner::TopRight));
        plot.groups.push(falling("c", 0.99)); // top-right blocked too
        assert_eq!(place(&plot), Some(Corner::Legend));
        // a legend line makes the figure taller
        let h_legend = compute(&plot, &style).height;
        plot.pvalue_text = None;
        assert_eq!(place(&plot), None);
        assert!(compute(&plot, &style).height < h_legend);
        let svg = render_km_svg(&plot, &style);
        assert!(!svg.contains("pvalue"));
    }

    fn big_group(n: usize) -> KmPlotGroup {
        let pts = super::super::steps::tests::big_curve(n, false);
        KmPlotGroup {
            label: "all".into(),
            n: n as u64,
            events: n as u64 / 2,
            median_text: "30 (29\u{2013}31)".into(),
            steps: KmSteps {
                time: pts.iter().map(|p| p.0).collect(),
                surv: pts.iter().map(|p| p.1).collect(),
                lower: pts.iter().map(|p| p.2).collect(),
                upper: pts.iter().map(|p| p.3).collect(),
            },
            censor_times: pts.iter().step_by(2).map(|p| p.0 + 1e-3).collect(),
            censor_surv: vec![],
            at_risk: AtRisk::AtTicks(vec![n as u64; 8]),
        }
    }

    #[test]
    fn a_curve_of_100000_points_gives_a_bounded_figure_that_says_marks_are_thinned() {
        let plot = KmPlot {
            groups: vec![big_group(100_000), big_group(50_000)],
            show_ci: true,
            pvalue_text: Some("Log-rank p = 0.5".into()),
            ..KmPlot::default()
        };
        let style = PlotStyle::default();
        let svg = render_km_svg(&plot, &style);
        assert!(svg.len() < 200_000, "{} bytes", svg.len());
        assert!(svg.contains("class=\"note\""));
        assert!(svg.contains(&crate::report::text::escape_html(&censor_note())));
        let k = compute(&plot, &style);
        let d = svg
            .split("class=\"km-curve\"")
            .next()
            .unwrap()
            .rsplit("<path d=\"")
            .next()
            .unwrap()
            .split('"')
            .next()
            .unwrap();
        super::super::steps::tests::assert_within_px(d, &k.curves[0].pts, &k.fr.x, &k.fr.y, 0.51);
        // thinned marks: at most one per interval
        let marks = drawn_censors(&k.curves[0], &k.fr);
        assert!(marks.len() <= ((k.fr.right - k.fr.left) / CENSOR_BIN_PX) as usize + 2);
        // a demo-sized figure has every mark and no note
        let small = KmPlot {
            groups: vec![group("a")],
            ..KmPlot::default()
        };
        assert!(!render_km_svg(&small, &style).contains("class=\"note\""));
        let k = compute(&small, &style);
        assert_eq!(drawn_censors(&k.curves[0], &k.fr), k.curves[0].censors);
    }
}
