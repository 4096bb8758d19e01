//! The rows and the axis of the forest plot.

use super::{
    arrow_head, estimate_text, ForestLayout, ForestPlot, ForestRow, ForestRowKind, Rows, PAD,
};
use crate::report::chart::axes::draw_x_ticks;
use crate::report::chart::svg::{Anchor, Stroke, SvgDoc, TextStyle};
use crate::report::text::truncate_to_width;

/// Label, estimate and p texts of row `i`, and its whisker and marker.
pub(super) fn draw_row(
    doc: &mut SvgDoc,
    plot: &ForestPlot,
    lay: &ForestLayout,
    rw: &Rows,
    i: usize,
    r: &ForestRow,
) {
    let fs = rw.fs;
    let cy = rw.first_row_y + rw.row_h * i as f64;
    let base = cy + fs * 0.35;
    let is_header = r.kind == ForestRowKind::Header;
    let indent = f64::from(r.indent) * 12.0;
    let text = |class| TextStyle {
        size: fs,
        class: Some(class),
        ..TextStyle::default()
    };
    doc.text(
        PAD + indent,
        base,
        &truncate_to_width(&r.label, fs, is_header, (rw.label_w - indent).max(20.0)),
        &TextStyle {
            bold: is_header,
            ..text("row-label")
        },
    );
    let est = estimate_text(r, plot.decimals);
    if !est.is_empty() {
        doc.text(rw.x_est, base, &est, &text("estimate"));
    }
    if !r.p_text.is_empty() {
        doc.text(rw.x_p, base, &r.p_text, &text("p"));
    }
    if !r.estimable() {
        return;
    }
    let (d_lo, d_hi) = (lay.x.d0, lay.x.d1);
    let lo_open = !(r.lower.is_finite() && r.lower > 0.0) || r.lower < d_lo;
    let hi_open = !r.upper.is_finite() || r.upper > d_hi;
    let xl = if lo_open {
        lay.x.r0
    } else {
        lay.x.map(r.lower)
    };
    let xh = if hi_open {
        lay.x.r1
    } else {
        lay.x.map(r.upper)
    };
    let whisker = Stroke {
        color: "#000",
        width: 1.3,
        dash: None,
        class: Some("whisker"),
    };
    doc.line(xl, cy, xh, cy, &whisker);
    if lo_open {
        arrow_head(doc, xl, cy, -1.0);
    }
    if hi_open {
        arrow_head(doc, xh, cy, 1.0);
    }
    let s = (fs * 0.75).round();
    if r.hr >= d_lo && r.hr <= d_hi {
        let x = lay.x.map(r.hr) - s / 2.0;
        doc.rect(x, cy - s / 2.0, s, s, "#000", None, "hr-marker");
    }
}

/// The log axis with its ticks, label and "favours" notes.
pub(super) fn draw_axis(doc: &mut SvgDoc, plot: &ForestPlot, lay: &ForestLayout, rw: &Rows) {
    let fs = rw.fs;
    let axis_y = rw.axis_y;
    doc.open_group("axes");
    doc.line(lay.x.r0, axis_y, lay.x.r1, axis_y, &Stroke::default());
    draw_x_ticks(doc, &lay.ticks, |t| lay.x.map(t), axis_y, fs);
    doc.text(
        (lay.x.r0 + lay.x.r1) / 2.0,
        rw.x_label_y,
        &plot.x_label,
        &TextStyle {
            size: fs,
            anchor: Anchor::Middle,
            class: Some("xlabel"),
            ..TextStyle::default()
        },
    );
    let x1 = lay.x.map(1.0);
    let note_y = rw.x_label_y + fs + 6.0;
    let note = TextStyle {
        size: fs * 0.95,
        fill: "#333",
        class: Some("favours"),
        ..TextStyle::default()
    };
    if let Some(l) = &plot.left_note {
        let st = TextStyle {
            anchor: Anchor::End,
            ..note.clone()
        };
        doc.text(x1 - 6.0, note_y, &format!("\u{2190} {l}"), &st);
    }
    if let Some(r) = &plot.right_note {
        doc.text(x1 + 6.0, note_y, &format!("{r} \u{2192}"), &note);
    }
    doc.close_group();
}
