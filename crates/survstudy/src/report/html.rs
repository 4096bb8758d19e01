//! Self-contained HTML page: inline CSS, inline SVG, no script, no font or
//! resource from anywhere else, print stylesheet with a page break before
//! every section.

use std::fmt::Write as _;

use super::flow::{render_flow_svg, FlowDiagram};
use super::text::escape_html;

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

/// The stylesheet embedded in every report.
pub const REPORT_CSS: &str = r#"
:root { color-scheme: light; }
* { box-sizing: border-box; }
body { margin: 0 auto; max-width: 60rem; padding: 1.5rem 1.5rem 3rem;
  font-family: "DejaVu Sans", Verdana, "Segoe UI", Arial, Helvetica, sans-serif;
  font-size: 15px; line-height: 1.45; color: #111; background: #fff; }
h1 { font-size: 1.7rem; margin: 0.4rem 0 0.2rem; }
h2 { font-size: 1.3rem; margin: 2.2rem 0 0.8rem; padding-bottom: 0.25rem;
  border-bottom: 1px solid #bbb; }
.subtitle { color: #444; margin: 0 0 1rem; font-size: 1.05rem; }
.synthetic-banner { border: 3px solid #b00020; background: #fde8eb; color: #7a0014;
  padding: 0.7rem 1rem; margin: 0.5rem 0 1rem; font-size: 1.05rem;
  -webkit-print-color-adjust: exact; print-color-adjust: exact; }
.synthetic-banner strong { letter-spacing: 0.06em; }
.synthetic-mark { display: none; }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: 0.15rem 1rem;
  margin: 0.8rem 0 1.2rem; font-size: 0.9rem; }
dl.facts dt { font-weight: bold; color: #333; }
dl.facts dd { margin: 0; overflow-wrap: anywhere; font-family: "DejaVu Sans Mono", Menlo, Consolas, monospace; }
nav.toc { font-size: 0.95rem; border: 1px solid #ddd; padding: 0.4rem 1rem; margin: 1rem 0; }
nav.toc ol { margin: 0.3rem 0; }
nav.toc a { color: #0b4f8a; text-decoration: none; }
figure { margin: 1.2rem 0; }
figure svg { display: block; max-width: 100%; height: auto; }
figcaption, caption { font-size: 0.92rem; color: #222; text-align: left; }
figcaption { margin-top: 0.4rem; }
caption { caption-side: top; padding-bottom: 0.4rem; }
.fig-no, .tab-no { font-weight: bold; }
table { border-collapse: collapse; margin: 1rem 0 0.3rem; font-size: 0.9rem;
  border-top: 2px solid #000; border-bottom: 2px solid #000; }
thead tr:last-child th { border-bottom: 1px solid #000; }
th, td { padding: 0.22rem 0.7rem; vertical-align: top; }
th { font-weight: bold; }
td.l, th.l { text-align: left; } td.c, th.c { text-align: center; }
td.r, th.r { text-align: right; font-variant-numeric: tabular-nums; }
td.r, td.c { white-space: nowrap; }
tbody tr:nth-child(even) { background: #f6f6f6; }
.footnote { font-size: 0.82rem; color: #333; margin: 0.2rem 0 1rem; }
.notice { border-left: 4px solid #d55e00; background: #fff4ec; padding: 0.5rem 0.8rem; margin: 0.8rem 0; }
pre { background: #f6f6f6; padding: 0.6rem; overflow-x: auto; font-size: 0.82rem; }
footer { margin-top: 3rem; font-size: 0.8rem; color: #555; border-top: 1px solid #ccc; padding-top: 0.5rem; }
@page { size: A4; margin: 16mm 14mm; }
@media print {
  body { max-width: none; padding: 0; font-size: 10.5pt; }
  nav.toc { display: none; }
  section { break-before: page; page-break-before: always; }
  h2 { break-after: avoid; page-break-after: avoid; }
  figure, table, .notice { break-inside: avoid; page-break-inside: avoid; }
  tbody tr:nth-child(even) { background: none; }
  .synthetic-mark { display: block; position: fixed; top: 0; right: 0; font-size: 8pt;
    font-weight: bold; color: #b00020; border: 1px solid #b00020; padding: 1px 4px; }
}
"#;

/// Removes the XML prolog and namespace declarations so the SVG can be
/// inlined in HTML5 without any URL; returns `None` if the SVG is not one of
/// ours (scripts, event handlers, links, external references, entities).
fn inline_svg(svg: &str) -> Option<String> {
    let mut s = svg.trim().to_string();
    if s.starts_with("<?xml") {
        let end = s.find("?>")?;
        s = s[end + 2..].trim_start().to_string();
    }
    for ns in [
        " xmlns=\"http://www.w3.org/2000/svg\"",
        " xmlns:xlink=\"http://www.w3.org/1999/xlink\"",
    ] {
        s = s.replace(ns, "");
    }
    if !s.starts_with("<svg") {
        return None;
    }
    let lower = s.to_ascii_lowercase();
    let forbidden = [
        "<script",
        "javascript:",
        "http://",
        "https://",
        "<foreignobject",
        "<!entity",
        "<!doctype",
        "<iframe",
        "url(",
        "@import",
    ];
    if forbidden.iter().any(|f| lower.contains(f)) {
        return None;
    }
    // attributes: no href of any kind, no event handlers
    for tag in lower.split('<').skip(1) {
        let tag = tag.split('>').next().unwrap_or("");
        let mut prev_ws = false;
        for (i, c) in tag.char_indices() {
            if prev_ws
                && (tag[i..].starts_with("on")
                    || tag[i..].starts_with("href")
                    || tag[i..].starts_with("xlink:href")
                    || tag[i..].starts_with("src"))
            {
                let name: String = tag[i..]
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == ':' || *c == '-')
                    .collect();
                let rest = tag[i + name.len()..].trim_start();
                if rest.starts_with('=') {
                    return None;
                }
            }
            prev_ws = c.is_whitespace();
        }
    }
    Some(s)
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
