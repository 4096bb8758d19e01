//! Minimal SVG writer used by the figure renderers. All text goes through
//! [`escape_html`]; all numbers through [`num`].

use std::fmt::Write as _;

use crate::report::text::escape_html;

/// Font stack written on every figure. DejaVu Sans comes first so that
/// resvg (which only knows the embedded font) and browsers that have it
/// agree; other sans-serif fonts are fallbacks for browsers.
pub(crate) const FONT_STACK: &str = "DejaVu Sans, Verdana, Arial, Helvetica, sans-serif";

/// Formats a coordinate: at most 2 decimals, no trailing zeros, never
/// `NaN`/`inf` (those become 0 so the SVG stays valid).
pub(crate) fn num(v: f64) -> String {
    if !v.is_finite() {
        return "0".to_string();
    }
    let s = format!("{v:.2}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s == "-0" || s.is_empty() {
        "0".to_string()
    } else {
        s.to_string()
    }
}

/// Horizontal anchor of a text element.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Anchor {
    Start,
    Middle,
    End,
}

impl Anchor {
    fn as_str(self) -> &'static str {
        match self {
            Anchor::Start => "start",
            Anchor::Middle => "middle",
            Anchor::End => "end",
        }
    }
}

/// Style of one text element.
#[derive(Debug, Clone)]
pub(crate) struct TextStyle<'a> {
    pub size: f64,
    pub anchor: Anchor,
    pub bold: bool,
    pub fill: &'a str,
    pub class: Option<&'a str>,
    /// Rotation in degrees around (x, y).
    pub rotate: Option<f64>,
}

impl Default for TextStyle<'_> {
    fn default() -> Self {
        TextStyle {
            size: 11.0,
            anchor: Anchor::Start,
            bold: false,
            fill: "#000",
            class: None,
            rotate: None,
        }
    }
}

/// Stroke style of a line or path.
#[derive(Debug, Clone)]
pub(crate) struct Stroke<'a> {
    pub color: &'a str,
    pub width: f64,
    pub dash: Option<&'a str>,
    pub class: Option<&'a str>,
}

impl Default for Stroke<'_> {
    fn default() -> Self {
        Stroke {
            color: "#000",
            width: 1.0,
            dash: None,
            class: None,
        }
    }
}

pub(crate) struct SvgDoc {
    buf: String,
}

impl SvgDoc {
    /// Opens a standalone SVG document of `width` x `height` user units
    /// (CSS pixels, 96 per inch) with a white background.
    pub(crate) fn new(width: f64, height: f64, title: &str) -> Self {
        let mut buf = String::with_capacity(16 * 1024);
        let _ = write!(
            buf,
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{h}\" \
             viewBox=\"0 0 {w} {h}\" font-family=\"{FONT_STACK}\" font-size=\"11\" \
             role=\"img\">",
            w = num(width),
            h = num(height)
        );
        if !title.is_empty() {
            let _ = write!(buf, "<title>{}</title>", escape_html(title));
        }
        let _ = write!(
            buf,
            "<rect x=\"0\" y=\"0\" width=\"{}\" height=\"{}\" fill=\"#fff\"/>",
            num(width),
            num(height)
        );
        SvgDoc { buf }
    }

    pub(crate) fn finish(mut self) -> String {
        self.buf.push_str("</svg>\n");
        self.buf
    }

    pub(crate) fn open_group(&mut self, class: &str) {
        let _ = write!(self.buf, "<g class=\"{}\">", escape_html(class));
    }

    pub(crate) fn close_group(&mut self) {
        self.buf.push_str("</g>");
    }

    fn stroke_attrs(&mut self, s: &Stroke) {
        let _ = write!(
            self.buf,
            " stroke=\"{}\" stroke-width=\"{}\"",
            s.color,
            num(s.width)
        );
        if let Some(d) = s.dash {
            let _ = write!(self.buf, " stroke-dasharray=\"{d}\"");
        }
        if let Some(c) = s.class {
            let _ = write!(self.buf, " class=\"{}\"", escape_html(c));
        }
    }

    pub(crate) fn line(&mut self, x1: f64, y1: f64, x2: f64, y2: f64, s: &Stroke) {
        let _ = write!(
            self.buf,
            "<line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\"",
            num(x1),
            num(y1),
            num(x2),
            num(y2)
        );
        self.stroke_attrs(s);
        self.buf.push_str("/>");
    }

    /// A stroked, unfilled path with round joins.
    pub(crate) fn path(&mut self, d: &str, s: &Stroke) {
        let _ = write!(
            self.buf,
            "<path d=\"{d}\" fill=\"none\" stroke-linejoin=\"round\""
        );
        self.stroke_attrs(s);
        self.buf.push_str("/>");
    }

    /// A filled path without stroke.
    pub(crate) fn fill_path(&mut self, d: &str, fill: &str, opacity: f64, class: &str) {
        let _ = write!(
            self.buf,
            "<path d=\"{d}\" fill=\"{fill}\" fill-opacity=\"{}\" stroke=\"none\" class=\"{}\"/>",
            num(opacity),
            escape_html(class)
        );
    }

    #[allow(clippy::too_many_arguments)]
    pub(crate) fn rect(
        &mut self,
        x: f64,
        y: f64,
        w: f64,
        h: f64,
        fill: &str,
        stroke: Option<&Stroke>,
        class: &str,
    ) {
        let _ = write!(
            self.buf,
            "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"{fill}\" class=\"{}\"",
            num(x),
            num(y),
            num(w.max(0.0)),
            num(h.max(0.0)),
            escape_html(class)
        );
        if let Some(s) = stroke {
            let _ = write!(
                self.buf,
                " stroke=\"{}\" stroke-width=\"{}\"",
                s.color,
                num(s.width)
            );
        }
        self.buf.push_str("/>");
    }

    /// A text element; `content` is escaped here.
    pub(crate) fn text(&mut self, x: f64, y: f64, content: &str, st: &TextStyle) {
        let _ = write!(self.buf, "<text x=\"{}\" y=\"{}\"", num(x), num(y));
        if st.anchor != Anchor::Start {
            let _ = write!(self.buf, " text-anchor=\"{}\"", st.anchor.as_str());
        }
        if (st.size - 11.0).abs() > 1e-9 {
            let _ = write!(self.buf, " font-size=\"{}\"", num(st.size));
        }
        if st.bold {
            self.buf.push_str(" font-weight=\"bold\"");
        }
        if st.fill != "#000" {
            let _ = write!(self.buf, " fill=\"{}\"", st.fill);
        }
        if let Some(c) = st.class {
            let _ = write!(self.buf, " class=\"{}\"", escape_html(c));
        }
        if let Some(r) = st.rotate {
            let _ = write!(
                self.buf,
                " transform=\"rotate({} {} {})\"",
                num(r),
                num(x),
                num(y)
            );
        }
        let _ = write!(self.buf, ">{}</text>", escape_html(content));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_compact_and_finite() {
        assert_eq!(num(1.0), "1");
        assert_eq!(num(1.256), "1.26");
        assert_eq!(num(-0.001), "0");
        assert_eq!(num(f64::NAN), "0");
        assert_eq!(num(120.5), "120.5");
    }

    #[test]
    fn text_is_escaped() {
        let mut d = SvgDoc::new(10.0, 10.0, "<t>");
        d.text(1.0, 2.0, "<script>", &TextStyle::default());
        let s = d.finish();
        assert!(s.contains("&lt;script&gt;"));
        assert!(!s.contains("<script"));
        assert!(s.contains("<title>&lt;t&gt;</title>"));
    }
}
