//! Patient-flow (CONSORT-style) diagram: a column of stage boxes with the
//! exclusions between two stages listed in a box on the right.

use super::frame::draw_title;
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

const PAD: f64 = 12.0;
/// Inner margin of a box.
const INNER: f64 = 10.0;

/// Horizontal geometry of the diagram.
struct Columns {
    fs: f64,
    width: f64,
    line_h: f64,
    main_x: f64,
    main_w: f64,
    side_x: f64,
    side_w: f64,
}

impl Columns {
    fn new(flow: &FlowDiagram) -> Columns {
        let fs = usable_font_size(flow.font_size);
        let width = at_least(flow.width, 320.0, 640.0);
        let main_w = (width * 0.42).round();
        let side_x = PAD + main_w + 40.0;
        Columns {
            fs,
            width,
            line_h: (fs * 1.35).round(),
            main_x: PAD,
            main_w,
            side_x,
            side_w: width - PAD - side_x,
        }
    }

    /// Height of a box with `lines` lines.
    fn box_h(&self, lines: usize) -> f64 {
        lines as f64 * self.line_h + 2.0 * INNER - (self.line_h - self.fs)
    }
}

/// Lines of the excluded box after stage `i`: (text, bold, indent).
fn side_lines(flow: &FlowDiagram, i: usize, c: &Columns) -> Vec<(String, bool, f64)> {
    let s = &flow.stages[i];
    if i + 1 >= flow.stages.len() || s.excluded.is_empty() {
        return Vec::new();
    }
    let (fs, sup) = (c.fs, flow.suppress_below);
    let bullet_w = text_width("\u{2022} ", fs, false);
    let total: u64 = s.excluded.iter().map(|e| e.n).sum();
    let mut l = vec![(
        format!("Excluded (n = {})", suppress(total, sup)),
        true,
        0.0,
    )];
    for e in &s.excluded {
        let text = format!("{} (n = {})", e.reason, suppress(e.n, sup));
        let wrapped = wrap_text(&text, fs, false, c.side_w - 2.0 * INNER - bullet_w);
        for (k, w) in wrapped.into_iter().enumerate() {
            if k == 0 {
                l.push((format!("\u{2022} {w}"), false, 0.0));
            } else {
                l.push((w, false, bullet_w));
            }
        }
    }
    l
}

/// Renders the flow diagram as a standalone SVG document.
pub fn render_flow_svg(flow: &FlowDiagram) -> String {
    let c = Columns::new(flow);
    let fs = c.fs;
    // text lines of each main box and each side box
    let main_lines: Vec<Vec<String>> = flow
        .stages
        .iter()
        .map(|s| {
            let mut l = wrap_text(&s.label, fs, true, c.main_w - 2.0 * INNER);
            l.push(format!("n = {}", suppress(s.n, flow.suppress_below)));
            l
        })
        .collect();
    let side: Vec<Vec<(String, bool, f64)>> = (0..flow.stages.len())
        .map(|i| side_lines(flow, i, &c))
        .collect();
    let title_h = if flow.title.trim().is_empty() {
        0.0
    } else {
        fs * 1.3 + 12.0
    };
    // vertical positions
    let mut y = PAD + title_h;
    let mut boxes = Vec::new(); // (top, height)
    let mut gaps = Vec::new(); // side box (top, height) between stage i and i+1
    for (i, lines) in main_lines.iter().enumerate() {
        let h = c.box_h(lines.len());
        boxes.push((y, h));
        y += h;
        if i + 1 < main_lines.len() {
            let sh = if side[i].is_empty() {
                0.0
            } else {
                c.box_h(side[i].len())
            };
            let gap = (sh + 24.0).max(34.0);
            gaps.push((y + (gap - sh) / 2.0, sh));
            y += gap;
        }
    }
    let mut doc = SvgDoc::new(c.width, (y + PAD).ceil(), &flow.title);
    draw_title(&mut doc, (PAD, PAD + fs * 1.25), &flow.title, fs);
    for (i, lines) in main_lines.iter().enumerate() {
        draw_stage(&mut doc, &c, boxes[i], lines);
        if i + 1 < main_lines.len() {
            let cx = c.main_x + c.main_w / 2.0;
            arrow_down(&mut doc, cx, boxes[i].0 + boxes[i].1, boxes[i + 1].0);
            draw_side_box(&mut doc, &c, gaps[i], &side[i]);
        }
    }
    doc.finish()
}

/// A main box: the stage's label lines (bold) and its count.
fn draw_stage(doc: &mut SvgDoc, c: &Columns, (top, h): (f64, f64), lines: &[String]) {
    let fs = c.fs;
    let cx = c.main_x + c.main_w / 2.0;
    doc.rect(
        c.main_x,
        top,
        c.main_w,
        h,
        "#fff",
        Some(&Stroke::default()),
        "stage",
    );
    for (k, l) in lines.iter().enumerate() {
        let last = k + 1 == lines.len();
        doc.text(
            cx,
            top + INNER + fs * 0.85 + k as f64 * c.line_h,
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
}

/// The excluded box beside the arrow between two stages (if any).
fn draw_side_box(
    doc: &mut SvgDoc,
    c: &Columns,
    (st, sh): (f64, f64),
    lines: &[(String, bool, f64)],
) {
    if sh <= 0.0 {
        return;
    }
    let fs = c.fs;
    let frame = Stroke::default();
    doc.rect(c.side_x, st, c.side_w, sh, "#fff", Some(&frame), "excluded");
    arrow_right(doc, c.main_x + c.main_w / 2.0, c.side_x, st + sh / 2.0);
    for (k, (l, bold, indent)) in lines.iter().enumerate() {
        doc.text(
            c.side_x + INNER + indent,
            st + INNER + fs * 0.85 + k as f64 * c.line_h,
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
