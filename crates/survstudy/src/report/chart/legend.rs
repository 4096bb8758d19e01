//! The legend table above a step-curve figure: line sample, group label,
//! right-aligned N and events (small-cell suppressed), and one free
//! left-aligned column (the KM median, the CIF value at a time).

use super::frame::Frame;
use super::style::{colour, dash, PlotStyle};
use super::svg::{Anchor, Stroke, SvgDoc, TextStyle};
use crate::report::text::{suppress, text_width, truncate_to_width};

/// One legend row.
pub(crate) struct LegendEntry<'a> {
    pub label: &'a str,
    pub n: u64,
    pub events: u64,
    /// Text of the free last column.
    pub last: &'a str,
}

/// Headers of the events column and of the free last column.
pub(crate) struct LegendHeaders<'a> {
    pub events: &'a str,
    pub last: &'a str,
}

const SAMPLE_W: f64 = 30.0;
const GAP: f64 = 14.0;

/// Draws the legend in the frame's legend band, one row per entry in
/// palette order.
pub(crate) fn draw_legend(
    doc: &mut SvgDoc,
    style: &PlotStyle,
    fr: &Frame,
    headers: &LegendHeaders,
    entries: &[LegendEntry],
) {
    let fs = fr.fs;
    let n_strs: Vec<String> = entries
        .iter()
        .map(|g| suppress(g.n, style.suppress_below))
        .collect();
    let e_strs: Vec<String> = entries
        .iter()
        .map(|g| suppress(g.events, style.suppress_below))
        .collect();
    let col_w = |hdr: &str, vals: &mut dyn Iterator<Item = &str>| {
        vals.map(|v| text_width(v, fs, false))
            .fold(text_width(hdr, fs, true), f64::max)
    };
    let w_n = col_w("N", &mut n_strs.iter().map(String::as_str));
    let w_e = col_w(headers.events, &mut e_strs.iter().map(String::as_str));
    let w_a = col_w(headers.last, &mut entries.iter().map(|g| g.last));
    let avail = (fr.right - fr.left) - SAMPLE_W - 8.0 - 3.0 * GAP - w_n - w_e - w_a;
    let label_w = entries
        .iter()
        .map(|g| text_width(g.label, fs, false))
        .fold(0.0, f64::max)
        .min(avail.max(40.0));
    let x_label_col = fr.left + SAMPLE_W + 8.0;
    let x_n = x_label_col + label_w + GAP + w_n; // right-aligned
    let x_e = x_n + GAP + w_e; // right-aligned
    let x_a = x_e + GAP; // left-aligned
    let hdr_y = fr.legend_header_y();
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
    doc.text(x_e, hdr_y, headers.events, &right_hdr);
    doc.text(x_a, hdr_y, headers.last, &hdr);
    let st = TextStyle {
        size: fs,
        class: Some("legend-text"),
        ..TextStyle::default()
    };
    let right_st = TextStyle {
        anchor: Anchor::End,
        ..st.clone()
    };
    for (i, g) in entries.iter().enumerate() {
        let col = colour(style, i);
        let ry = hdr_y + fr.row_h * (i as f64 + 1.0);
        doc.line(
            fr.left,
            ry - fs * 0.35,
            fr.left + SAMPLE_W,
            ry - fs * 0.35,
            &Stroke {
                color: &col,
                width: style.line_width.clamp(0.5, 5.0),
                dash: dash(style, i),
                class: Some("legend-line"),
            },
        );
        doc.text(
            x_label_col,
            ry,
            &truncate_to_width(g.label, fs, false, label_w + 0.5),
            &st,
        );
        doc.text(x_n, ry, &n_strs[i], &right_st);
        doc.text(x_e, ry, &e_strs[i], &right_st);
        doc.text(x_a, ry, g.last, &st);
    }
    doc.close_group();
}
