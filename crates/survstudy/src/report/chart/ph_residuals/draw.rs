//! The parts of the β(t) figure: legend, reference lines, smooth band,
//! points or bins, and the smooth.

use std::fmt::Write as _;

use super::{PhData, PhFrame, PhResidualPlot};
use crate::report::chart::svg::{num, Stroke, SvgDoc, TextStyle};
use crate::report::text::truncate_to_width;
use crate::report::OKABE_ITO;

const POINT_COL: &str = OKABE_ITO[0];
const SMOOTH_COL: &str = OKABE_ITO[1];
const SAMPLE_W: f64 = 30.0;
/// Radius of a point mark.
const R: f64 = 2.4;

const SMOOTH_STROKE: Stroke<'static> = Stroke {
    color: SMOOTH_COL,
    width: 2.2,
    dash: None,
    class: None,
};
const REFERENCE_STROKE: Stroke<'static> = Stroke {
    color: "#000",
    width: 1.3,
    dash: Some("7 4"),
    class: None,
};
const ZERO_STROKE: Stroke<'static> = Stroke {
    color: "#777",
    width: 1.0,
    dash: Some("1.5 3"),
    class: None,
};
const POINT_STROKE: Stroke<'static> = Stroke {
    color: POINT_COL,
    width: 1.4,
    dash: None,
    class: None,
};

fn with_class<'a>(s: &Stroke<'a>, class: &'a str) -> Stroke<'a> {
    Stroke {
        class: Some(class),
        ..s.clone()
    }
}

fn circle(d: &mut String, cx: f64, cy: f64) {
    let _ = write!(
        d,
        "M{} {}a{R} {R} 0 1 0 {} 0a{R} {R} 0 1 0 -{} 0Z",
        num(cx - R),
        num(cy),
        num(2.0 * R),
        num(2.0 * R)
    );
}

/// Appends `M`/`L` commands through the points to `d`.
fn polyline(d: &mut String, pts: impl Iterator<Item = (f64, f64)>, first: char) {
    for (i, (x, y)) in pts.enumerate() {
        let cmd = if i == 0 { first } else { 'L' };
        let _ = write!(d, "{cmd}{} {}", num(x), num(y));
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Points,
    Smooth,
    Reference,
    Zero,
}

/// The legend: two columns of two entries.
pub(super) fn legend(doc: &mut SvgDoc, plot: &PhResidualPlot, data: &PhData, fr: &PhFrame) {
    let fs = fr.fs;
    let col2 = fr.left + (fr.right - fr.left) / 2.0;
    let (row1, row2) = (fr.legend_top + fs, fr.legend_top + fs + fr.row_h);
    let mut entries: Vec<(f64, f64, Kind, String)> = vec![(
        fr.left,
        row1,
        Kind::Points,
        if data.binned {
            format!("\u{3b2}(t) median, IQR: {} bins", plot.bins.len())
        } else {
            "\u{3b2}(t) at each event".to_string()
        },
    )];
    if !data.smooth.is_empty() {
        let text = if data.has_band {
            "Spline smooth \u{b1} 2 SE"
        } else {
            "Spline smooth"
        };
        entries.push((col2, row1, Kind::Smooth, text.to_string()));
    }
    if data.reference.is_some() {
        entries.push((fr.left, row2, Kind::Reference, plot.reference_label.clone()));
    }
    entries.push((col2, row2, Kind::Zero, "0 (no effect)".to_string()));
    let st = TextStyle {
        size: fs,
        class: Some("legend-text"),
        ..TextStyle::default()
    };
    doc.open_group("legend");
    for (x0, ry, kind, text) in &entries {
        sample(doc, data, (*x0, ry - fs * 0.35), *kind);
        let max_w = if *x0 < col2 {
            col2 - x0 - SAMPLE_W - 20.0
        } else {
            fr.right - x0 - SAMPLE_W - 8.0
        };
        doc.text(
            x0 + SAMPLE_W + 8.0,
            *ry,
            &truncate_to_width(text, fs, false, max_w.max(40.0)),
            &st,
        );
    }
    doc.close_group();
}

/// The sample mark of a legend entry, at `(x0, ly)`.
fn sample(doc: &mut SvgDoc, data: &PhData, (x0, ly): (f64, f64), kind: Kind) {
    let line = |doc: &mut SvgDoc, s: &Stroke| {
        doc.line(x0, ly, x0 + SAMPLE_W, ly, &with_class(s, "legend-line"));
    };
    match kind {
        Kind::Points if data.binned => {
            let s = with_class(&POINT_STROKE, "legend-line");
            doc.line(x0 + 15.0, ly - 6.0, x0 + 15.0, ly + 6.0, &s);
            let mut d = String::new();
            circle(&mut d, x0 + 15.0, ly);
            doc.fill_path(&d, POINT_COL, 0.9, "legend-point");
        }
        Kind::Points => {
            let mut d = String::new();
            for k in 0..3 {
                circle(&mut d, x0 + 5.0 + 10.0 * k as f64, ly);
            }
            doc.fill_path(&d, POINT_COL, 0.55, "legend-point");
        }
        Kind::Smooth => {
            if data.has_band {
                let d = format!(
                    "M{} {}H{}V{}H{}Z",
                    num(x0),
                    num(ly - 5.0),
                    num(x0 + SAMPLE_W),
                    num(ly + 5.0),
                    num(x0)
                );
                doc.fill_path(&d, SMOOTH_COL, 0.2, "legend-band");
            }
            line(doc, &SMOOTH_STROKE);
        }
        Kind::Reference => line(doc, &REFERENCE_STROKE),
        Kind::Zero => line(doc, &ZERO_STROKE),
    }
}

/// Zero (when inside the y range) and the Cox coefficient.
pub(super) fn reference_lines(doc: &mut SvgDoc, data: &PhData, fr: &PhFrame) {
    doc.open_group("reference-lines");
    if fr.y0 < 0.0 && fr.y1 > 0.0 {
        let y = fr.ys.map(0.0);
        doc.line(
            fr.left,
            y,
            fr.right,
            y,
            &with_class(&ZERO_STROKE, "zero-line"),
        );
    }
    if let Some(c) = data.reference {
        let y = fr.ys.map(c);
        let s = with_class(&REFERENCE_STROKE, "coef-line");
        doc.line(fr.left, y, fr.right, y, &s);
    }
    doc.close_group();
}

/// The smooth's ±2 SE band (under the points).
pub(super) fn band(doc: &mut SvgDoc, data: &PhData, fr: &PhFrame) {
    if !data.has_band {
        return;
    }
    let seg: Vec<&(f64, f64, f64, f64)> = data
        .smooth
        .iter()
        .filter(|p| p.2.is_finite() && p.3.is_finite())
        .collect();
    let at = |t: f64, v: f64| (fr.xs.map(t), fr.ys.map(v.clamp(fr.y0, fr.y1)));
    let mut d = String::new();
    polyline(&mut d, seg.iter().map(|p| at(p.0, p.3)), 'M');
    polyline(&mut d, seg.iter().rev().map(|p| at(p.0, p.2)), 'L');
    d.push('Z');
    doc.fill_path(&d, SMOOTH_COL, 0.2, "smooth-band");
}

/// The points at each event, or the bins' medians and IQR whiskers.
pub(super) fn marks(doc: &mut SvgDoc, data: &PhData, fr: &PhFrame) {
    let mut d = String::new();
    for &(t, b) in &data.pts {
        circle(&mut d, fr.xs.map(t), fr.ys.map(b));
    }
    if !d.is_empty() {
        doc.fill_path(&d, POINT_COL, 0.55, "residual");
    }
    if data.bins.is_empty() {
        return;
    }
    let mut w = String::new();
    let mut d = String::new();
    for &(t, q25, med, q75) in &data.bins {
        let x = fr.xs.map(t);
        let _ = write!(
            w,
            "M{} {}V{}",
            num(x),
            num(fr.ys.map(q25)),
            num(fr.ys.map(q75))
        );
        circle(&mut d, x, fr.ys.map(med));
    }
    doc.path(&w, &with_class(&POINT_STROKE, "bin-iqr"));
    doc.fill_path(&d, POINT_COL, 0.9, "bin-median");
}

/// The smooth line.
pub(super) fn smooth(doc: &mut SvgDoc, data: &PhData, fr: &PhFrame) {
    let mut d = String::new();
    let at = |p: &(f64, f64, f64, f64)| (fr.xs.map(p.0), fr.ys.map(p.1.clamp(fr.y0, fr.y1)));
    polyline(&mut d, data.smooth.iter().map(at), 'M');
    if !d.is_empty() {
        doc.path(&d, &with_class(&SMOOTH_STROKE, "smooth"));
    }
}
