//! Axis ticks from a [`TickSpec`] and the axes of the step-curve figures.

use super::scale::{month_ticks, nice_ticks, ticks_with_step, LinearScale};
use super::style::{font_size, PlotStyle, TickSpec};
use super::svg::{num, Anchor, Stroke, SvgDoc, TextStyle};
use crate::report::text::text_width;

pub(crate) fn axis_ticks(spec: &TickSpec, max_t: f64, target: usize) -> Vec<f64> {
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

/// Tick marks under an x axis at `axis_y` and their labels (class `xtick`).
pub(crate) fn draw_x_ticks(
    doc: &mut SvgDoc,
    ticks: &[f64],
    map: impl Fn(f64) -> f64,
    axis_y: f64,
    fs: f64,
) {
    for &t in ticks {
        let px = map(t);
        doc.line(px, axis_y, px, axis_y + 5.0, &Stroke::default());
        doc.text(
            px,
            axis_y + 9.0 + fs,
            &num(t),
            &TextStyle {
                size: fs,
                anchor: Anchor::Middle,
                class: Some("xtick"),
                ..TextStyle::default()
            },
        );
    }
}

/// The x and y axes of a figure: lines, ticks, tick labels and axis labels.
#[allow(clippy::too_many_arguments)]
pub(crate) fn draw_axes(
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
    draw_x_ticks(doc, ticks, |t| x.map(t), bottom, fs);
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
