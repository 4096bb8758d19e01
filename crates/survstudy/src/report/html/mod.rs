//! Self-contained HTML page: inline CSS, inline SVG, no script, no font or
//! resource from anywhere else, print stylesheet with a page break before
//! every section.

use crate::report::chart::flow::FlowDiagram;

mod css;
mod render;
mod sanitize;

pub use css::REPORT_CSS;
pub use render::render_html;

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
    pub(super) fn class(self) -> &'static str {
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
    /// A patient-flow diagram, rendered with
    /// [`render_flow_svg`](crate::report::chart::flow::render_flow_svg) and
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

#[cfg(test)]
mod tests {
    use super::sanitize::inline_svg;
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
