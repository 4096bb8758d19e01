//! The frame shared by the step-curve figures (Kaplan–Meier and cumulative
//! incidence): x ticks, the vertical bands (title, legend, optional p-value
//! line, plot area, x label, optional note), the horizontal extent of the
//! plot, the one p-value placement rule, and the drawing of the title, the
//! p-value and the note.

use super::axes::axis_ticks;
use super::scale::LinearScale;
use super::steps::StepCurve;
use super::style::{
    fig_width, font_size, plot_height, PValuePlacement, PlotStyle, TickSpec, YScale,
};
use super::svg::{num, Anchor, SvgDoc, TextStyle};
use crate::report::text::text_width;

/// Outer padding of a figure, in pixels.
pub(crate) const PAD: f64 = 12.0;

/// Offset of the p-value baseline from the plot edge, in pixels.
pub(crate) const PV_INSET: f64 = 10.0;

/// Where the p-value is drawn (resolved; never "auto").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Corner {
    TopLeft,
    TopRight,
    BottomLeft,
    BottomRight,
    /// On a line of its own under the legend.
    Legend,
}

/// Which way the curves run: decides the corners tried for the p-value
/// (the corners a falling curve leaves free first).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Direction {
    /// Survival: from 1 down (bottom-left, then top-right).
    Falling,
    /// Incidence: from 0 up (top-left, then bottom-right).
    Rising,
}

/// X ticks over the curves (or up to a usable `x_max`).
pub(crate) fn curve_ticks(
    spec: &TickSpec,
    style: &PlotStyle,
    curves: &[StepCurve],
    x_max: Option<f64>,
) -> Vec<f64> {
    let max_t = match x_max.filter(|v| v.is_finite() && *v > 0.0) {
        Some(xm) => xm,
        None => curves.iter().map(|c| c.end).fold(0.0, f64::max),
    };
    axis_ticks(spec, max_t, style.x_tick_target)
}

/// Width of the widest y tick label of a 0–1 axis.
pub(crate) fn unit_ytick_width(style: &PlotStyle, fs: f64) -> f64 {
    match style.y_scale {
        YScale::Percent => text_width("100%", fs, false),
        YScale::Proportion => text_width("0.0", fs, false),
    }
}

/// The six ticks of a 0–1 y axis with their labels.
pub(crate) fn unit_yticks(style: &PlotStyle) -> Vec<(f64, String)> {
    (0..=5)
        .map(|k| {
            let v = k as f64 / 5.0;
            let label = match style.y_scale {
                YScale::Percent => format!("{}%", k * 20),
                YScale::Proportion => format!("{v:.1}"),
            };
            (v, label)
        })
        .collect()
}

/// Left and right edges of the plot area: room for the y label, the y tick
/// labels (`ytick_w` wide) and at least `min_left`; on the right, half the
/// last x tick label.
pub(crate) fn x_extent(
    fs: f64,
    width: f64,
    ytick_w: f64,
    min_left: f64,
    ticks: &[f64],
) -> (f64, f64) {
    let y_axis_need = PAD + fs * 1.3 + 8.0 + ytick_w + 9.0;
    let left = y_axis_need.max(min_left).ceil();
    let last_label_half = ticks
        .last()
        .map_or(0.0, |t| text_width(&num(*t), fs, false) / 2.0);
    let right = (width - PAD - last_label_half.max(6.0)).floor();
    (left, right)
}

/// Draws a figure title (nothing when blank) with its baseline at `at`.
pub(crate) fn draw_title(doc: &mut SvgDoc, at: (f64, f64), title: &str, fs: f64) {
    if title.trim().is_empty() {
        return;
    }
    doc.text(
        at.0,
        at.1,
        title,
        &TextStyle {
            size: fs * 1.15,
            bold: true,
            class: Some("title"),
            ..TextStyle::default()
        },
    );
}

/// What a figure asks of its frame.
pub(crate) struct FrameSpec<'a> {
    pub title: &'a str,
    /// Rows of the legend (groups; the header comes on top).
    pub legend_rows: usize,
    pub pvalue: Option<&'a str>,
    pub show_ci: bool,
    pub direction: Direction,
    /// Room the plot needs on its left beyond the y axis (e.g. risk-table
    /// labels).
    pub min_left: f64,
    /// A note line under the x label.
    pub note: bool,
}

/// Positions computed once and shared by every part of the figure (so the
/// axis, the curves and the tables cannot disagree).
pub(crate) struct Frame {
    pub fs: f64,
    pub row_h: f64,
    pub width: f64,
    pub height: f64,
    pub title_y: f64,
    pub legend_top: f64,
    pub left: f64,
    pub right: f64,
    pub top: f64,
    pub bottom: f64,
    pub x_label_y: f64,
    /// Baseline of the note line (when asked for).
    pub note_y: f64,
    pub ticks: Vec<f64>,
    pub x: LinearScale,
    pub y: LinearScale,
    pub place: Option<Corner>,
}

impl Frame {
    /// Lays the figure out around `ticks` and `curves`.
    pub(crate) fn new(
        spec: &FrameSpec,
        style: &PlotStyle,
        curves: &[StepCurve],
        ticks: Vec<f64>,
    ) -> Frame {
        let fs = font_size(style);
        let width = fig_width(style);
        let plot_h = plot_height(style);
        let row_h = (fs * 1.5).round();
        let (left, right) = x_extent(
            fs,
            width,
            unit_ytick_width(style, fs),
            spec.min_left,
            &ticks,
        );
        let d0 = ticks.first().copied().unwrap_or(0.0).min(0.0);
        let d1 = ticks.last().copied().unwrap_or(1.0);
        let geometry = Geometry {
            fs,
            plot_h,
            left,
            right,
            d0,
            d1,
        };
        let place = spec
            .pvalue
            .filter(|p| !p.trim().is_empty())
            .map(|p| place_pvalue(p, spec, style, curves, &geometry));

        let mut y = PAD;
        let title_y = y + fs * 1.25;
        if !spec.title.trim().is_empty() {
            y += fs * 1.3 + 10.0;
        }
        let legend_top = y;
        y += row_h * (spec.legend_rows as f64 + 1.0) + 12.0;
        if place == Some(Corner::Legend) {
            y += row_h;
        }
        let top = y.round();
        let bottom = top + plot_h;
        let x_label_y = bottom + 9.0 + fs + 6.0 + fs;
        let note_y = x_label_y + row_h;
        let text_bottom = if spec.note { note_y } else { x_label_y };
        Frame {
            fs,
            row_h,
            width,
            height: text_bottom + PAD,
            title_y,
            legend_top,
            left,
            right,
            top,
            bottom,
            x_label_y,
            note_y,
            ticks,
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
            place,
        }
    }

    /// Baseline of the legend header.
    pub(crate) fn legend_header_y(&self) -> f64 {
        self.legend_top + self.fs
    }

    /// Lowest point used so far (the x label or the note line).
    pub(crate) fn text_bottom(&self) -> f64 {
        self.height - PAD
    }

    /// Draws the title (if any) above the legend.
    pub(crate) fn draw_title(&self, doc: &mut SvgDoc, title: &str) {
        draw_title(doc, (self.left, self.title_y), title, self.fs);
    }

    /// Draws the p-value where [`Frame::place`] says (`legend_rows` as in the
    /// spec).
    pub(crate) fn draw_pvalue(&self, doc: &mut SvgDoc, text: Option<&str>, legend_rows: usize) {
        let (Some(p), Some(place)) = (text, self.place) else {
            return;
        };
        let fs = self.fs;
        let (x, y, anchor) = match place {
            Corner::TopLeft => (
                self.left + PV_INSET,
                self.top + PV_INSET + fs,
                Anchor::Start,
            ),
            Corner::TopRight => (self.right - PV_INSET, self.top + PV_INSET + fs, Anchor::End),
            Corner::BottomLeft => (self.left + PV_INSET, self.bottom - PV_INSET, Anchor::Start),
            Corner::BottomRight => (self.right - PV_INSET, self.bottom - PV_INSET, Anchor::End),
            Corner::Legend => (
                self.right,
                self.legend_header_y() + self.row_h * (legend_rows as f64 + 1.0),
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

    /// Draws a note line (class `note`) under the plot.
    pub(crate) fn draw_note(&self, doc: &mut SvgDoc, note: &str) {
        doc.text(
            self.left,
            self.note_y,
            note,
            &TextStyle {
                size: self.fs * 0.9,
                fill: "#444",
                class: Some("note"),
                ..TextStyle::default()
            },
        );
    }
}

struct Geometry {
    fs: f64,
    plot_h: f64,
    left: f64,
    right: f64,
    d0: f64,
    d1: f64,
}

/// The p-value goes in the first corner (for falling curves bottom-left,
/// then top-right; for rising ones top-left, then bottom-right) that no
/// curve, band or censor mark enters, else under the legend; a fixed
/// [`PValuePlacement`] wins.
fn place_pvalue(
    p: &str,
    spec: &FrameSpec,
    style: &PlotStyle,
    curves: &[StepCurve],
    g: &Geometry,
) -> Corner {
    match style.pvalue_placement {
        PValuePlacement::BottomLeft => return Corner::BottomLeft,
        PValuePlacement::TopRight => return Corner::TopRight,
        PValuePlacement::Legend => return Corner::Legend,
        PValuePlacement::Auto => {}
    }
    let w = text_width(p, g.fs, false) + 6.0;
    let span = (g.d1 - g.d0).max(1e-9);
    let plot_w = (g.right - g.left).max(1.0);
    // height of the text box in value units, and the censor mark size
    let box_h = (PV_INSET + g.fs + 4.0) / g.plot_h;
    let mark = style.censor_size.clamp(1.0, 10.0) / g.plot_h;
    let t_left = g.d0 + (PV_INSET + w) / plot_w * span;
    let t_right = g.d1 - (PV_INSET + w) / plot_w * span;
    let ci = spec.show_ci;
    let free = |corner: Corner| {
        curves.iter().all(|c| {
            let marks = |keep: &dyn Fn(f64) -> bool, ok: &dyn Fn(f64) -> bool| {
                c.censors
                    .iter()
                    .filter(|(t, _)| keep(*t))
                    .all(|(_, s)| ok(*s))
            };
            match corner {
                Corner::BottomLeft => {
                    c.low_to(t_left, ci) > box_h && marks(&|t| t <= t_left, &|s| s - mark > box_h)
                }
                Corner::TopLeft => {
                    c.high_to(t_left, ci) < 1.0 - box_h
                        && marks(&|t| t <= t_left, &|s| s + mark < 1.0 - box_h)
                }
                Corner::BottomRight => {
                    c.low_from(t_right, ci) > box_h
                        && marks(&|t| t >= t_right, &|s| s - mark > box_h)
                }
                Corner::TopRight => {
                    c.high_from(t_right, ci) < 1.0 - box_h
                        && marks(&|t| t >= t_right, &|s| s + mark < 1.0 - box_h)
                }
                Corner::Legend => true,
            }
        })
    };
    let candidates = match spec.direction {
        Direction::Falling => [Corner::BottomLeft, Corner::TopRight],
        Direction::Rising => [Corner::TopLeft, Corner::BottomRight],
    };
    candidates
        .into_iter()
        .find(|&c| free(c))
        .unwrap_or(Corner::Legend)
}
