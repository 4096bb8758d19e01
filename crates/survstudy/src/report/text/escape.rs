//! Escaping of every string written into HTML or SVG.

/// Escapes a string for use in HTML or SVG text content *and* in quoted
/// attribute values.
///
/// * `& < > " '` become entities;
/// * characters that are not allowed in XML 1.0 (C0 controls other than tab,
///   LF and CR, lone surrogates cannot occur in `&str`, U+FFFE/U+FFFF) become
///   U+FFFD so that the SVG always parses;
/// * the `:` of `://` becomes `&#58;` so the output never contains a literal
///   URL scheme such as `http://` (it renders identically).
pub fn escape_html(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            ':' if chars.peek() == Some(&'/') => out.push_str("&#58;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if (c as u32) < 0x20 || c == '\u{7f}' || c == '\u{fffe}' || c == '\u{ffff}' => {
                out.push('\u{fffd}')
            }
            c => out.push(c),
        }
    }
    out
}
