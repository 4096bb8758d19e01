//! Inlining of the crate's own SVG figures into HTML5, refusing anything
//! active or external.

/// Removes the XML prolog and namespace declarations so the SVG can be
/// inlined in HTML5 without any URL; returns `None` if the SVG is not one of
/// ours (scripts, event handlers, links, external references, entities).
pub(super) fn inline_svg(svg: &str) -> Option<String> {
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
