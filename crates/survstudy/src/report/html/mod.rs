//! Self-contained HTML page: inline CSS, inline SVG, no script, no font or
//! resource from anywhere else, print stylesheet with a page break before
//! every section.

use std::fmt::Write as _;

use crate::report::chart::flow::{render_flow_svg, FlowDiagram};
use crate::report::text::escape_html;

mod css;
mod sanitize;

pub use css::REPORT_CSS;
use sanitize::inline_svg;

/// One key fact in the page header (data file, SHA-256, run date, version,
/// counts …).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Fact {
    /// Label, e.g. "Data file".
    pub label: String,
    /// Value, e.g. "export_2024-05-01.xlsx".
    pub value: String,
}

impl Fact {
    /// Convenience constructor.
    pub fn new(label: impl Into<String>, value: impl Into<String>) -> Self {
        Fact {
            label: label.into(),
            value: value.into(),
        }
    }
}

/// Horizontal alignment of a table column.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Align {
    /// Left (text).
    #[default]
    Left,
    /// Centre.
    Center,
    /// Right (numbers).
    Right,
}

impl Align {
    fn class(self) -> &'static str {
        match self {
            Align::Left => "l",
            Align::Center => "c",
            Align::Right => "r",
        }
    }
}

/// One table cell.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Cell {
    /// Text (escaped on output).
    pub text: String,
    /// Number of columns spanned (0 is treated as 1).
    pub colspan: u32,
    /// Indentation level (Table-1 style levels under a variable).
    pub indent: u8,
    /// Bold text.
    pub bold: bool,
}

impl Cell {
    /// A bold cell.
    pub fn bold(text: impl Into<String>) -> Self {
        Cell {
            text: text.into(),
            bold: true,
            ..Cell::default()
        }
    }

    /// An indented cell.
    pub fn indented(text: impl Into<String>, indent: u8) -> Self {
        Cell {
            text: text.into(),
            indent,
            ..Cell::default()
        }
    }

    /// A cell spanning `colspan` columns.
    pub fn spanning(text: impl Into<String>, colspan: u32) -> Self {
        Cell {
            text: text.into(),
            colspan,
            ..Cell::default()
        }
    }
}

impl From<&str> for Cell {
    fn from(s: &str) -> Self {
        Cell {
            text: s.to_string(),
            ..Cell::default()
        }
    }
}

impl From<String> for Cell {
    fn from(s: String) -> Self {
        Cell {
            text: s,
            ..Cell::default()
        }
    }
}

/// A table, numbered automatically ("Table 1. caption").
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Table {
    /// Caption (without the "Table N." prefix).
    pub caption: String,
    /// Header rows.
    pub header: Vec<Vec<Cell>>,
    /// Body rows.
    pub body: Vec<Vec<Cell>>,
    /// Footnote under the table.
    pub footnote: Option<String>,
    /// Per-column alignment; missing columns: first left, others right.
    pub align: Vec<Align>,
}

/// A figure, numbered automatically ("Figure 1. caption").
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Figure {
    /// SVG document produced by one of this module's renderers. It is
    /// inlined after removing the XML prolog and namespace declarations; an
    /// SVG with scripts, event handlers, links or external references is
    /// replaced by a notice.
    pub svg: String,
    /// Caption (without the "Figure N." prefix).
    pub caption: String,
}

/// A content block of a section.
#[derive(Debug, Clone, PartialEq)]
pub enum Block {
    /// A paragraph; single newlines become line breaks.
    Paragraph(String),
    /// A bulleted list.
    Bullets(Vec<String>),
    /// A highlighted note (warnings, deviations from the plan).
    Notice(String),
    /// Monospace text (e.g. the plan as read).
    Preformatted(String),
    /// A table.
    Table(Table),
    /// A figure.
    Figure(Figure),
    /// A patient-flow diagram, rendered with [`render_flow_svg`] and
    /// numbered as a figure with the diagram's title as caption.
    FlowDiagram(FlowDiagram),
}

/// A section of the report (starts on a new page when printed).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Section {
    /// Heading.
    pub heading: String,
    /// Content.
    pub blocks: Vec<Block>,
}

/// The whole report page.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ReportPage {
    /// Report title.
    pub title: String,
    /// Subtitle (may be empty).
    pub subtitle: String,
    /// Data are synthetic: shows a prominent banner (top, bottom and on
    /// every printed page) and prefixes the document title.
    pub synthetic: bool,
    /// Key facts shown under the title.
    pub facts: Vec<Fact>,
    /// Show a table of contents.
    pub toc: bool,
    /// Sections in order.
    pub sections: Vec<Section>,
    /// Footer text (may be empty).
    pub footer: String,
}

fn push_text_with_breaks(out: &mut String, s: &str) {
    let mut first = true;
    for line in s.split('\n') {
        if !first {
            out.push_str("<br>");
        }
        out.push_str(&escape_html(line));
        first = false;
    }
}

fn render_table(out: &mut String, t: &Table, number: usize) {
    out.push_str("<table>");
    let _ = write!(
        out,
        "<caption><span class=\"tab-no\">Table {number}.</span> {}</caption>",
        escape_html(&t.caption)
    );
    let align = |col: usize| -> Align {
        t.align
            .get(col)
            .copied()
            .unwrap_or(if col == 0 { Align::Left } else { Align::Right })
    };
    let row = |out: &mut String, cells: &[Cell], tag: &str| {
        out.push_str("<tr>");
        let mut col = 0usize;
        for c in cells {
            let span = c.colspan.max(1);
            let a = if span > 1 { Align::Center } else { align(col) };
            let _ = write!(out, "<{tag} class=\"{}\"", a.class());
            if span > 1 {
                let _ = write!(out, " colspan=\"{span}\"");
            }
            if c.indent > 0 {
                let _ = write!(
                    out,
                    " style=\"padding-left:{:.1}em\"",
                    0.7 + 1.2 * f64::from(c.indent)
                );
            }
            out.push('>');
            if c.bold && tag == "td" {
                let _ = write!(out, "<strong>{}</strong>", escape_html(&c.text));
            } else {
                out.push_str(&escape_html(&c.text));
            }
            let _ = write!(out, "</{tag}>");
            col += span as usize;
        }
        out.push_str("</tr>");
    };
    if !t.header.is_empty() {
        out.push_str("<thead>");
        for r in &t.header {
            row(out, r, "th");
        }
        out.push_str("</thead>");
    }
    out.push_str("<tbody>");
    for r in &t.body {
        row(out, r, "td");
    }
    out.push_str("</tbody></table>");
    if let Some(f) = &t.footnote {
        out.push_str("<p class=\"footnote\">");
        push_text_with_breaks(out, f);
        out.push_str("</p>");
    }
    out.push('\n');
}

fn render_figure(out: &mut String, svg: &str, caption: &str, number: usize) {
    out.push_str("<figure>");
    match inline_svg(svg) {
        Some(s) => out.push_str(&s),
        None => out.push_str(
            "<p class=\"notice\">Figure omitted: its SVG contained content that is not \
             allowed in a self-contained report.</p>",
        ),
    }
    let _ = writeln!(
        out,
        "<figcaption><span class=\"fig-no\">Figure {number}.</span> {}</figcaption></figure>",
        escape_html(caption)
    );
}

const SYNTHETIC_TEXT: &str = "This report was generated from simulated (synthetic) patients. \
It describes no real person and supports no clinical or scientific conclusion.";

/// Renders the page as one self-contained HTML5 document.
pub fn render_html(page: &ReportPage) -> String {
    let mut out = String::with_capacity(64 * 1024);
    let title = if page.synthetic {
        format!("[SYNTHETIC DATA] {}", page.title)
    } else {
        page.title.clone()
    };
    out.push_str("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
    out.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
    let _ = writeln!(out, "<title>{}</title>", escape_html(&title));
    let _ = writeln!(out, "<style>{REPORT_CSS}</style>\n</head>\n<body>");
    if page.synthetic {
        out.push_str("<div class=\"synthetic-mark\">SYNTHETIC DATA</div>\n");
        let _ = writeln!(
            out,
            "<div class=\"synthetic-banner\" role=\"alert\"><strong>SYNTHETIC DATA</strong> \u{2014} {SYNTHETIC_TEXT}</div>"
        );
    }
    out.push_str("<header>\n");
    let _ = writeln!(out, "<h1>{}</h1>", escape_html(&page.title));
    if !page.subtitle.trim().is_empty() {
        let _ = writeln!(
            out,
            "<p class=\"subtitle\">{}</p>",
            escape_html(&page.subtitle)
        );
    }
    if !page.facts.is_empty() {
        out.push_str("<dl class=\"facts\">");
        for f in &page.facts {
            let _ = write!(
                out,
                "<dt>{}</dt><dd>{}</dd>",
                escape_html(&f.label),
                escape_html(&f.value)
            );
        }
        out.push_str("</dl>\n");
    }
    out.push_str("</header>\n");
    if page.toc && !page.sections.is_empty() {
        out.push_str("<nav class=\"toc\"><strong>Contents</strong><ol>");
        for (i, s) in page.sections.iter().enumerate() {
            let _ = write!(
                out,
                "<li><a href=\"#sec-{}\">{}</a></li>",
                i + 1,
                escape_html(&s.heading)
            );
        }
        out.push_str("</ol></nav>\n");
    }
    let (mut fig_no, mut tab_no) = (0usize, 0usize);
    out.push_str("<main>\n");
    for (i, s) in page.sections.iter().enumerate() {
        let _ = writeln!(
            out,
            "<section id=\"sec-{}\">\n<h2>{}</h2>",
            i + 1,
            escape_html(&s.heading)
        );
        for b in &s.blocks {
            match b {
                Block::Paragraph(p) => {
                    out.push_str("<p>");
                    push_text_with_breaks(&mut out, p);
                    out.push_str("</p>\n");
                }
                Block::Bullets(items) => {
                    out.push_str("<ul>");
                    for it in items {
                        let _ = write!(out, "<li>{}</li>", escape_html(it));
                    }
                    out.push_str("</ul>\n");
                }
                Block::Notice(n) => {
                    out.push_str("<div class=\"notice\">");
                    push_text_with_breaks(&mut out, n);
                    out.push_str("</div>\n");
                }
                Block::Preformatted(t) => {
                    let _ = writeln!(out, "<pre>{}</pre>", escape_html(t));
                }
                Block::Table(t) => {
                    tab_no += 1;
                    render_table(&mut out, t, tab_no);
                }
                Block::Figure(f) => {
                    fig_no += 1;
                    render_figure(&mut out, &f.svg, &f.caption, fig_no);
                }
                Block::FlowDiagram(fd) => {
                    fig_no += 1;
                    let caption = if fd.title.trim().is_empty() {
                        "Patient flow".to_string()
                    } else {
                        fd.title.clone()
                    };
                    let svg = render_flow_svg(&FlowDiagram {
                        title: String::new(),
                        ..fd.clone()
                    });
                    render_figure(&mut out, &svg, &caption, fig_no);
                }
            }
        }
        out.push_str("</section>\n");
    }
    out.push_str("</main>\n");
    if page.synthetic {
        let _ = writeln!(
            out,
            "<div class=\"synthetic-banner\"><strong>SYNTHETIC DATA</strong> \u{2014} {SYNTHETIC_TEXT}</div>"
        );
    }
    if !page.footer.trim().is_empty() {
        out.push_str("<footer>");
        push_text_with_breaks(&mut out, &page.footer);
        out.push_str("</footer>\n");
    }
    out.push_str("</body>\n</html>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inline_svg_strips_namespace_and_rejects_active_content() {
        let s = inline_svg(
            "<?xml version=\"1.0\"?>\n<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"1\"><rect/></svg>",
        )
        .unwrap();
        assert_eq!(s, "<svg width=\"1\"><rect/></svg>");
        assert!(inline_svg("<svg><script>x</script></svg>").is_none());
        assert!(inline_svg("<svg onload=\"x()\"></svg>").is_none());
        assert!(inline_svg("<svg><a href=\"#x\">t</a></svg>").is_none());
        assert!(inline_svg("<svg><image xlink:href = \"a.png\"/></svg>").is_none());
        assert!(inline_svg("<svg><rect style=\"fill:url(x)\"/></svg>").is_none());
        assert!(inline_svg("<div></div>").is_none());
        // text that merely mentions the words is fine
        assert!(inline_svg("<svg><text>on = href =</text></svg>").is_some());
    }

    #[test]
    fn numbering_and_alignment() {
        let page = ReportPage {
            title: "T".into(),
            sections: vec![Section {
                heading: "S".into(),
                blocks: vec![
                    Block::Table(Table {
                        caption: "first".into(),
                        header: vec![vec!["".into(), Cell::spanning("Arm", 2)]],
                        body: vec![vec![Cell::indented("Male", 1), "3".into(), "4".into()]],
                        ..Table::default()
                    }),
                    Block::Table(Table::default()),
                ],
            }],
            ..ReportPage::default()
        };
        let h = render_html(&page);
        assert!(h.contains("Table 1.</span> first"));
        assert!(h.contains("Table 2.</span>"));
        assert!(h.contains("<th class=\"c\" colspan=\"2\">Arm</th>"));
        assert!(h.contains("<td class=\"l\" style=\"padding-left:1.9em\">Male</td>"));
        assert!(h.contains("<td class=\"r\">3</td>"));
    }
}
