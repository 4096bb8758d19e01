//! HTML rendering of the page model.

use std::fmt::Write as _;

use super::sanitize::inline_svg;
use super::{Align, Block, Cell, ReportPage, Table, REPORT_CSS};
use crate::report::chart::flow::{render_flow_svg, FlowDiagram};
use crate::report::text::escape_html;

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
    render_head(&mut out, page);
    let mut numbers = Numbers::default();
    out.push_str("<main>\n");
    for (i, s) in page.sections.iter().enumerate() {
        let _ = writeln!(
            out,
            "<section id=\"sec-{}\">\n<h2>{}</h2>",
            i + 1,
            escape_html(&s.heading)
        );
        for b in &s.blocks {
            render_block(&mut out, b, &mut numbers);
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

/// Running numbers of the tables and figures.
#[derive(Default)]
struct Numbers {
    tables: usize,
    figures: usize,
}

/// One block of a section.
fn render_block(out: &mut String, b: &Block, numbers: &mut Numbers) {
    match b {
        Block::Paragraph(p) => {
            out.push_str("<p>");
            push_text_with_breaks(out, p);
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
            push_text_with_breaks(out, n);
            out.push_str("</div>\n");
        }
        Block::Preformatted(t) => {
            let _ = writeln!(out, "<pre>{}</pre>", escape_html(t));
        }
        Block::Table(t) => {
            numbers.tables += 1;
            render_table(out, t, numbers.tables);
        }
        Block::Figure(f) => {
            numbers.figures += 1;
            render_figure(out, &f.svg, &f.caption, numbers.figures);
        }
        Block::FlowDiagram(fd) => {
            numbers.figures += 1;
            let caption = if fd.title.trim().is_empty() {
                "Patient flow".to_string()
            } else {
                fd.title.clone()
            };
            let svg = render_flow_svg(&FlowDiagram {
                title: String::new(),
                ..fd.clone()
            });
            render_figure(out, &svg, &caption, numbers.figures);
        }
    }
}

/// The document head, the synthetic-data banner, the page header with its
/// facts, and the table of contents.
fn render_head(out: &mut String, page: &ReportPage) {
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
}
