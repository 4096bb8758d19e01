//! Patient-flow (CONSORT-style) diagram: a column of stage boxes with the
//! exclusions between two stages listed in a box on the right.

use super::style::{at_least, usable_font_size};
use super::svg::{num, Anchor, Stroke, SvgDoc, TextStyle};
use crate::report::text::{suppress, text_width, wrap_text};

/// One exclusion reason with its count.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FlowExclusion {
    /// Reason (escaped on output).
    pub reason: String,
    /// Number excluded for this reason.
    pub n: u64,
}

/// One box of the main column.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FlowStage {
    /// Box text, e.g. "Rows read from export".
    pub label: String,
    /// Count shown as "n = …".
    pub n: u64,
    /// Exclusions applied after this stage, leading to the next one (shown
    /// in a side box; ignored on the last stage).
    pub excluded: Vec<FlowExclusion>,
}

/// A patient-flow diagram.
#[derive(Debug, Clone, PartialEq)]
pub struct FlowDiagram {
    /// Title (may be empty).
    pub title: String,
    /// Stages from top (e.g. rows read) to bottom (analysed).
    pub stages: Vec<FlowStage>,
    /// Small-cell suppression for the counts (see [`suppress`]).
    pub suppress_below: Option<u64>,
    /// Total width in CSS pixels.
    pub width: f64,
    /// Font size.
    pub font_size: f64,
}

impl Default for FlowDiagram {
    fn default() -> Self {
        FlowDiagram {
            title: String::new(),
            stages: Vec::new(),
            suppress_below: None,
            width: 640.0,
            font_size: 11.0,
        }
    }
}

fn arrow_down(doc: &mut SvgDoc, x: f64, y0: f64, y1: f64) {
    doc.line(x, y0, x, y1 - 6.0, &Stroke::default());
    let d = format!(
        "M{} {}L{} {}L{} {}Z",
        num(x),
        num(y1),
        num(x - 4.0),
        num(y1 - 7.0),
        num(x + 4.0),
        num(y1 - 7.0)
    );
    doc.fill_path(&d, "#000", 1.0, "arrow");
}

fn arrow_right(doc: &mut SvgDoc, x0: f64, x1: f64, y: f64) {
    doc.line(x0, y, x1 - 6.0, y, &Stroke::default());
    let d = format!(
        "M{} {}L{} {}L{} {}Z",
        num(x1),
        num(y),
        num(x1 - 7.0),
        num(y - 4.0),
        num(x1 - 7.0),
        num(y + 4.0)
    );
    doc.fill_path(&d, "#000", 1.0, "arrow");
}

/// Renders the flow diagram as a standalone SVG document.
pub fn render_flow_svg(flow: &FlowDiagram) -> String {
    let fs = usable_font_size(flow.font_size);
    let width = at_least(flow.width, 320.0, 640.0);
    let pad = 12.0;
    let line_h = (fs * 1.35).round();
    let main_w = (width * 0.42).round();
    let main_x = pad;
    let cx = main_x + main_w / 2.0;
    let side_x = main_x + main_w + 40.0;
    let side_w = width - pad - side_x;
    let inner = 10.0;
    let sup = flow.suppress_below;

    // text lines of each main box and each side box
    let main_lines: Vec<Vec<String>> = flow
        .stages
        .iter()
        .map(|s| {
            let mut l = wrap_text(&s.label, fs, true, main_w - 2.0 * inner);
            l.push(format!("n = {}", suppress(s.n, sup)));
            l
        })
        .collect();
    let bullet_w = text_width("\u{2022} ", fs, false);
    let side_lines: Vec<Vec<(String, bool, f64)>> = flow
        .stages
        .iter()
        .enumerate()
        .map(|(i, s)| {
            if i + 1 >= flow.stages.len() || s.excluded.is_empty() {
                return Vec::new();
            }
            let total: u64 = s.excluded.iter().map(|e| e.n).sum();
            let mut l = vec![(
                format!("Excluded (n = {})", suppress(total, sup)),
                true,
                0.0,
            )];
            for e in &s.excluded {
                let text = format!("{} (n = {})", e.reason, suppress(e.n, sup));
                for (k, w) in wrap_text(&text, fs, false, side_w - 2.0 * inner - bullet_w)
                    .into_iter()
                    .enumerate()
                {
                    if k == 0 {
                        l.push((format!("\u{2022} {w}"), false, 0.0));
                    } else {
                        l.push((w, false, bullet_w));
                    }
                }
            }
            l
        })
        .collect();

    let title_h = if flow.title.trim().is_empty() {
        0.0
    } else {
        fs * 1.3 + 12.0
    };
    // vertical positions
    let mut y = pad + title_h;
    let mut boxes = Vec::new(); // (top, height)
    let mut gaps = Vec::new(); // side box (top, height) between stage i and i+1
    for (i, lines) in main_lines.iter().enumerate() {
        let h = lines.len() as f64 * line_h + 2.0 * inner - (line_h - fs);
        boxes.push((y, h));
        y += h;
        if i + 1 < main_lines.len() {
            let sl = &side_lines[i];
            let sh = if sl.is_empty() {
                0.0
            } else {
                sl.len() as f64 * line_h + 2.0 * inner - (line_h - fs)
            };
            let gap = (sh + 24.0).max(34.0);
            gaps.push((y + (gap - sh) / 2.0, sh));
            y += gap;
        }
    }
    let height = (y + pad).ceil();
    let mut doc = SvgDoc::new(width, height, &flow.title);
    if !flow.title.trim().is_empty() {
        doc.text(
            pad,
            pad + fs * 1.25,
            &flow.title,
            &TextStyle {
                size: fs * 1.15,
                bold: true,
                class: Some("title"),
                ..TextStyle::default()
            },
        );
    }
    let frame = Stroke {
        color: "#000",
        width: 1.0,
        ..Stroke::default()
    };
    for (i, lines) in main_lines.iter().enumerate() {
        let (top, h) = boxes[i];
        doc.rect(main_x, top, main_w, h, "#fff", Some(&frame), "stage");
        for (k, l) in lines.iter().enumerate() {
            let last = k + 1 == lines.len();
            doc.text(
                cx,
                top + inner + fs * 0.85 + k as f64 * line_h,
                l,
                &TextStyle {
                    size: fs,
                    anchor: Anchor::Middle,
                    bold: !last,
                    class: Some(if last { "stage-n" } else { "stage-label" }),
                    ..TextStyle::default()
                },
            );
        }
        if i + 1 < main_lines.len() {
            let y0 = top + h;
            let y1 = boxes[i + 1].0;
            arrow_down(&mut doc, cx, y0, y1);
            let (st, sh) = gaps[i];
            if sh > 0.0 {
                doc.rect(side_x, st, side_w, sh, "#fff", Some(&frame), "excluded");
                arrow_right(&mut doc, cx, side_x, st + sh / 2.0);
                for (k, (l, bold, indent)) in side_lines[i].iter().enumerate() {
                    doc.text(
                        side_x + inner + indent,
                        st + inner + fs * 0.85 + k as f64 * line_h,
                        l,
                        &TextStyle {
                            size: fs,
                            bold: *bold,
                            class: Some("excluded-text"),
                            ..TextStyle::default()
                        },
                    );
                }
            }
        }
    }
    doc.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn boxes_arrows_and_counts() {
        let flow = FlowDiagram {
            stages: vec![
                FlowStage {
                    label: "Rows read".into(),
                    n: 250,
                    excluded: vec![
                        FlowExclusion {
                            reason: "Missing progression date".into(),
                            n: 12,
                        },
                        FlowExclusion {
                            reason: "Duplicate patient".into(),
                            n: 3,
                        },
                    ],
                },
                FlowStage {
                    label: "Eligible".into(),
                    n: 235,
                    excluded: vec![],
                },
                FlowStage {
                    label: "Analysed".into(),
                    n: 235,
                    excluded: vec![],
                },
            ],
            suppress_below: Some(5),
            ..FlowDiagram::default()
        };
        let svg = render_flow_svg(&flow);
        assert_eq!(svg.matches("class=\"stage\"").count(), 3);
        assert_eq!(svg.matches("class=\"excluded\"").count(), 1);
        assert_eq!(svg.matches("class=\"arrow\"").count(), 3);
        assert!(svg.contains("n = 250"));
        assert!(svg.contains("Excluded (n = 15)"));
        assert!(svg.contains("Duplicate patient (n = &lt;5)"));
    }
}
