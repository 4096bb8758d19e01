//! Figures of the competing-risks and proportional-hazards sections:
//!
//! * cumulative incidence ([`render_cif_svg`]): step curves rising from 0,
//!   one per group, in the Okabe–Ito palette with a different line style per
//!   group, optional stepped 95% bands, a legend with N, events and the
//!   cumulative incidence at a chosen time, Gray's test on the plot, the same
//!   month ticks as the Kaplan–Meier figures and a 0–100% y axis;
//! * scaled Schoenfeld residuals of a Cox term over time
//!   ([`render_ph_residuals_svg`](super::ph_residuals::render_ph_residuals_svg)): β(t) at each event (or equal-count
//!   bins), R's `plot.cox.zph` spline smooth with ±2 SE, the Cox
//!   coefficient and zero as reference lines.
//!
//! Both take plain structs and never fail: non-finite or negative points
//! are skipped. Every string is escaped by the SVG writer.

use super::axes::draw_axes;
use super::frame::{curve_ticks, unit_yticks, Direction, Frame, FrameSpec};
use super::legend::{draw_legend, LegendEntry, LegendHeaders};
use super::steps::{collect_points, draw_step_curves, StepCurve, StepPoint};
use super::style::{PlotStyle, TickSpec};
use super::svg::SvgDoc;

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

fn unit_or_nan(v: Option<&f64>) -> f64 {
    match v {
        Some(x) if x.is_finite() => x.clamp(0.0, 1.0),
        _ => f64::NAN,
    }
}

fn clean_cif(s: &CifSteps, x_max: Option<f64>) -> StepCurve {
    let raw = collect_points(&s.time, &s.est, &s.lower, &s.upper, unit_or_nan);
    // at a repeated time the last point wins (the sort is stable)
    let mut pts: Vec<StepPoint> = Vec::with_capacity(raw.len());
    for p in raw {
        match pts.last_mut() {
            Some(l) if l.0 == p.0 => *l = p,
            _ => pts.push(p),
        }
    }
    StepCurve::new(pts, 0.0, 0.0, x_max)
}

fn cif_layout(plot: &CifPlot, style: &PlotStyle) -> (Frame, Vec<StepCurve>) {
    let curves: Vec<StepCurve> = plot
        .groups
        .iter()
        .map(|g| clean_cif(&g.steps, plot.x_max))
        .collect();
    let ticks = curve_ticks(&plot.x_ticks, style, &curves, plot.x_max);
    let spec = FrameSpec {
        title: &plot.title,
        legend_rows: plot.groups.len(),
        pvalue: plot.pvalue_text.as_deref(),
        show_ci: plot.show_ci,
        direction: Direction::Rising,
        min_left: 0.0,
        note: false,
    };
    let fr = Frame::new(&spec, style, &curves, ticks);
    (fr, curves)
}

/// Renders a cumulative-incidence figure as a standalone SVG document.
///
/// Layout (top to bottom): title, legend table (line sample, group, N,
/// events, `at_header` column), optional line for the test result (when it
/// cannot sit inside the plot), the plot, the x-axis label. The test result
/// goes top-left inside the plot when no curve or band reaches there (the
/// curves rise from 0), else bottom-right, else under the legend
/// ([`PValuePlacement`](super::style::PValuePlacement) overrides this).
/// Long curves are drawn merged at half a pixel (bounded paths at any n).
pub fn render_cif_svg(plot: &CifPlot, style: &PlotStyle) -> String {
    let (fr, curves) = cif_layout(plot, style);
    let mut doc = SvgDoc::new(fr.width, fr.height.ceil(), &plot.title);
    fr.draw_title(&mut doc, &plot.title);
    let entries: Vec<LegendEntry> = plot
        .groups
        .iter()
        .map(|g| LegendEntry {
            label: &g.label,
            n: g.n,
            events: g.events,
            last: &g.at_text,
        })
        .collect();
    let headers = LegendHeaders {
        events: &plot.events_header,
        last: &plot.at_header,
    };
    draw_legend(&mut doc, style, &fr, &headers, &entries);
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
        &curves,
        (&fr.x, &fr.y),
        plot.show_ci,
        "cif-curve",
    );
    fr.draw_pvalue(&mut doc, plot.pvalue_text.as_deref(), plot.groups.len());
    doc.finish()
}

#[cfg(test)]
mod tests {
    use super::super::frame::Corner;
    use super::super::svg::num;
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
        let (fr, curves) = cif_layout(&plot, &PlotStyle::default());
        let c = &curves[0];
        let d = super::super::steps::step_path(&c.pts, c.end, &fr.x, &fr.y);
        assert!(d.starts_with(&format!("M{} {}", num(fr.left), num(fr.bottom))));
        assert_eq!(fr.place, Some(Corner::TopLeft));
        let svg = render_cif_svg(&plot, &PlotStyle::default());
        assert!(svg.contains("Gray&#39;s test p = 0.48"));
        assert!(svg.contains(">100%<"));
    }

    #[test]
    fn a_curve_of_100000_points_gives_a_bounded_figure() {
        let pts = super::super::steps::tests::big_curve(100_000, true);
        let plot = CifPlot {
            groups: vec![CifPlotGroup {
                label: "a".into(),
                n: 100_000,
                events: 80_000,
                at_text: "40%".into(),
                steps: CifSteps {
                    time: pts.iter().map(|p| p.0).collect(),
                    est: pts.iter().map(|p| p.1).collect(),
                    lower: pts.iter().map(|p| p.2).collect(),
                    upper: pts.iter().map(|p| p.3).collect(),
                },
            }],
            show_ci: true,
            ..CifPlot::default()
        };
        let svg = render_cif_svg(&plot, &PlotStyle::default());
        assert!(svg.len() < 200_000, "{} bytes", svg.len());
        let (fr, curves) = cif_layout(&plot, &PlotStyle::default());
        let d = super::super::steps::step_path(&curves[0].pts, curves[0].end, &fr.x, &fr.y);
        assert!(svg.contains(&d));
        super::super::steps::tests::assert_within_px(&d, &curves[0].pts, &fr.x, &fr.y, 0.51);
    }
}
