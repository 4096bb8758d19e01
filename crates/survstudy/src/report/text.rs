//! Text helpers: escaping, journal-style number formatting, small-cell
//! suppression and text-width estimation for layout.

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

/// Options for [`format_p_with`].
#[derive(Debug, Clone, PartialEq)]
pub struct PFormat {
    /// Values below this are shown as `<floor` (e.g. `<0.001`). Values that
    /// round to below it are shown the same way.
    pub floor: f64,
    /// Significant figures for values at or above the floor.
    pub sig_digits: u32,
    /// Values above this are shown as `>ceiling` (e.g. `>0.99`); `None`
    /// shows them rounded.
    pub ceiling: Option<f64>,
    /// Text for a missing / non-finite / out-of-range p-value.
    pub missing: String,
}

impl Default for PFormat {
    fn default() -> Self {
        PFormat {
            floor: 0.001,
            sig_digits: 2,
            ceiling: Some(0.99),
            missing: "NA".to_string(),
        }
    }
}

/// Journal-style p-value: two significant figures, values below `floor`
/// shown as `<floor` (e.g. `format_p(0.0076, 0.001) == "0.0076"`,
/// `format_p(0.00086, 0.001) == "<0.001"`, `format_p(0.999, 0.001) == ">0.99"`).
pub fn format_p(p: f64, floor: f64) -> String {
    format_p_with(
        p,
        &PFormat {
            floor,
            ..PFormat::default()
        },
    )
}

/// [`format_p`] with all options.
pub fn format_p_with(p: f64, opts: &PFormat) -> String {
    if !p.is_finite() || !(0.0..=1.0).contains(&p) {
        return opts.missing.clone();
    }
    let floor_ok = opts.floor.is_finite() && opts.floor > 0.0;
    if floor_ok && p < opts.floor {
        return format!("<{}", opts.floor);
    }
    if let Some(c) = opts.ceiling {
        if c.is_finite() && p > c {
            return format!(">{c}");
        }
    }
    if p == 0.0 {
        return "0".to_string();
    }
    format_sig(p, opts.sig_digits.clamp(1, 6))
}

/// Formats a positive finite number with `sig` significant figures in plain
/// decimal notation (never scientific).
pub(crate) fn format_sig(v: f64, sig: u32) -> String {
    if v == 0.0 || !v.is_finite() {
        return format!("{v}");
    }
    let mut e = v.abs().log10().floor() as i32;
    let scale = 10f64.powi(e - sig as i32 + 1);
    let rounded = (v / scale).round() * scale;
    if rounded.abs() >= 10f64.powi(e + 1) {
        e += 1;
    }
    let decimals = (sig as i32 - 1 - e).max(0) as usize;
    format!("{rounded:.decimals$}")
}

/// Formats a number with a fixed number of decimals, mapping non-finite
/// values to `NE` (not estimable).
pub(crate) fn fmt_fixed(v: f64, decimals: usize) -> String {
    if v.is_finite() {
        let s = format!("{v:.decimals$}");
        // avoid "-0.00"
        if s.starts_with('-') && s[1..].chars().all(|c| c == '0' || c == '.') {
            s[1..].to_string()
        } else {
            s
        }
    } else {
        "NE".to_string()
    }
}

/// `"0.62 (0.41–0.93)"`; `"not estimable"` when the point estimate is not a
/// finite positive number; unestimable bounds are written `NE`.
pub fn format_hr_ci(hr: f64, lower: f64, upper: f64, decimals: usize) -> String {
    if !hr.is_finite() || hr <= 0.0 {
        return "not estimable".to_string();
    }
    format!(
        "{} ({}\u{2013}{})",
        fmt_fixed(hr, decimals),
        fmt_fixed(lower, decimals),
        fmt_fixed(upper, decimals)
    )
}

/// Small-cell suppression: counts `1..below` are shown as `"<below"`; zero
/// and counts at or above the threshold are shown as they are. `None`
/// disables suppression.
pub fn suppress(count: u64, below: Option<u64>) -> String {
    match below {
        Some(b) if count > 0 && count < b => format!("<{b}"),
        _ => count.to_string(),
    }
}

/// Advance widths of DejaVu Sans for U+0020..=U+007E, in em.
const DEJAVU_REGULAR: [f32; 95] = [
    0.3179, 0.4009, 0.4600, 0.8379, 0.6362, 0.9502, 0.7798, 0.2749, 0.3901, 0.3901, 0.5000, 0.8379,
    0.3179, 0.3608, 0.3179, 0.3369, 0.6362, 0.6362, 0.6362, 0.6362, 0.6362, 0.6362, 0.6362, 0.6362,
    0.6362, 0.6362, 0.3369, 0.3369, 0.8379, 0.8379, 0.8379, 0.5308, 1.0000, 0.6841, 0.6860, 0.6982,
    0.7700, 0.6318, 0.5752, 0.7749, 0.7520, 0.2949, 0.2949, 0.6558, 0.5571, 0.8628, 0.7480, 0.7871,
    0.6030, 0.7871, 0.6948, 0.6348, 0.6108, 0.7319, 0.6841, 0.9888, 0.6851, 0.6108, 0.6851, 0.3901,
    0.3369, 0.3901, 0.8379, 0.5000, 0.5000, 0.6128, 0.6348, 0.5498, 0.6348, 0.6152, 0.3521, 0.6348,
    0.6338, 0.2778, 0.2778, 0.5791, 0.2778, 0.9741, 0.6338, 0.6118, 0.6348, 0.6348, 0.4111, 0.5210,
    0.3921, 0.6338, 0.5918, 0.8179, 0.5918, 0.5918, 0.5249, 0.6362, 0.3369, 0.6362, 0.8379,
];

/// Advance widths of DejaVu Sans Bold for U+0020..=U+007E, in em.
const DEJAVU_BOLD: [f32; 95] = [
    0.3481, 0.4561, 0.5210, 0.8379, 0.6958, 1.0020, 0.8721, 0.3062, 0.4570, 0.4570, 0.5229, 0.8379,
    0.3799, 0.4150, 0.3799, 0.3652, 0.6958, 0.6958, 0.6958, 0.6958, 0.6958, 0.6958, 0.6958, 0.6958,
    0.6958, 0.6958, 0.3999, 0.3999, 0.8379, 0.8379, 0.8379, 0.5801, 1.0000, 0.7739, 0.7622, 0.7339,
    0.8301, 0.6831, 0.6831, 0.8208, 0.8369, 0.3721, 0.3721, 0.7749, 0.6372, 0.9951, 0.8369, 0.8501,
    0.7329, 0.8501, 0.7700, 0.7202, 0.6821, 0.8120, 0.7739, 1.1030, 0.7710, 0.7241, 0.7251, 0.4570,
    0.3652, 0.4570, 0.8379, 0.5000, 0.5000, 0.6748, 0.7158, 0.5928, 0.7158, 0.6782, 0.4351, 0.7158,
    0.7119, 0.3428, 0.3428, 0.6650, 0.3428, 1.0420, 0.7119, 0.6870, 0.7158, 0.7158, 0.4932, 0.5952,
    0.4780, 0.7119, 0.6519, 0.9238, 0.6450, 0.6519, 0.5820, 0.7119, 0.3652, 0.7119, 0.8379,
];

/// Width in user units of `s` set in DejaVu Sans at `size` (taken from the
/// font's advance widths; characters outside ASCII use a typical width).
/// Used for layout only; kerning is ignored.
pub fn text_width(s: &str, size: f64, bold: bool) -> f64 {
    let table = if bold { &DEJAVU_BOLD } else { &DEJAVU_REGULAR };
    let em: f32 = s
        .chars()
        .map(|c| match c as u32 {
            0x20..=0x7e => table[(c as u32 - 0x20) as usize],
            0x2013 => 0.5,
            0x2014 | 0x2026 => 1.0,
            0x00a0 => table[0],
            0x2264 | 0x2265 | 0x00b1 | 0x00d7 | 0x2212 => 0.8379,
            _ => 0.7,
        })
        .sum();
    f64::from(em) * size
}

/// Shortens `s` with an ellipsis so that it fits in `max_width`.
pub(crate) fn truncate_to_width(s: &str, size: f64, bold: bool, max_width: f64) -> String {
    if text_width(s, size, bold) <= max_width {
        return s.to_string();
    }
    let mut out = String::new();
    for c in s.chars() {
        let mut trial = out.clone();
        trial.push(c);
        trial.push('\u{2026}');
        if text_width(&trial, size, bold) > max_width {
            break;
        }
        out.push(c);
    }
    out.push('\u{2026}');
    out
}

/// Greedy word wrap by measured width. Words longer than a line are kept
/// whole on their own line (then truncated).
pub(crate) fn wrap_text(s: &str, size: f64, bold: bool, max_width: f64) -> Vec<String> {
    let mut lines = Vec::new();
    let mut cur = String::new();
    for word in s.split_whitespace() {
        let trial = if cur.is_empty() {
            word.to_string()
        } else {
            format!("{cur} {word}")
        };
        if text_width(&trial, size, bold) <= max_width || cur.is_empty() {
            cur = trial;
        } else {
            lines.push(std::mem::take(&mut cur));
            cur = word.to_string();
        }
    }
    if !cur.is_empty() || lines.is_empty() {
        lines.push(cur);
    }
    lines
        .into_iter()
        .map(|l| truncate_to_width(&l, size, bold, max_width))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn p_values_journal_style() {
        assert_eq!(format_p(0.0076, 0.001), "0.0076");
        assert_eq!(format_p(0.00086, 0.001), "<0.001");
        assert_eq!(format_p(0.00086, 0.0001), "0.00086");
        assert_eq!(format_p(0.43, 0.001), "0.43");
        assert_eq!(format_p(0.05, 0.001), "0.050");
        assert_eq!(format_p(0.0996, 0.001), "0.10");
        assert_eq!(format_p(0.04999, 0.001), "0.050");
        assert_eq!(format_p(0.001, 0.001), "0.0010");
        assert_eq!(format_p(0.12345, 0.001), "0.12");
        assert_eq!(format_p(0.999, 0.001), ">0.99");
        assert_eq!(format_p(0.0, 0.001), "<0.001");
        assert_eq!(format_p(f64::NAN, 0.001), "NA");
        assert_eq!(format_p(1.5, 0.001), "NA");
        assert_eq!(format_p(-0.1, 0.001), "NA");
        let opts = PFormat {
            ceiling: None,
            sig_digits: 3,
            ..PFormat::default()
        };
        assert_eq!(format_p_with(0.999, &opts), "0.999");
        assert_eq!(format_p_with(1.0, &opts), "1.00");
    }

    #[test]
    fn escaping_covers_markup_quotes_controls_and_urls() {
        assert_eq!(
            escape_html("<script>alert(1)</script>"),
            "&lt;script&gt;alert(1)&lt;/script&gt;"
        );
        assert_eq!(
            escape_html(r#"a&b "c" 'd'"#),
            "a&amp;b &quot;c&quot; &#39;d&#39;"
        );
        assert_eq!(escape_html("x\u{1}y"), "x\u{fffd}y");
        assert_eq!(escape_html("see http://x.org"), "see http&#58;//x.org");
        assert_eq!(escape_html("ratio 1:2"), "ratio 1:2");
        assert_eq!(escape_html("Ünïcode – ok"), "Ünïcode – ok");
    }

    #[test]
    fn suppression() {
        assert_eq!(suppress(3, Some(5)), "<5");
        assert_eq!(suppress(0, Some(5)), "0");
        assert_eq!(suppress(5, Some(5)), "5");
        assert_eq!(suppress(3, None), "3");
    }

    #[test]
    fn hr_formatting() {
        assert_eq!(
            format_hr_ci(0.6234, 0.41, 0.93, 2),
            "0.62 (0.41\u{2013}0.93)"
        );
        assert_eq!(format_hr_ci(f64::INFINITY, 1.0, 2.0, 2), "not estimable");
        assert_eq!(format_hr_ci(f64::NAN, 1.0, 2.0, 2), "not estimable");
        assert_eq!(
            format_hr_ci(2.0, 0.5, f64::INFINITY, 2),
            "2.00 (0.50\u{2013}NE)"
        );
    }

    #[test]
    fn widths_and_wrapping() {
        assert!((text_width("0", 10.0, false) - 6.362).abs() < 1e-3);
        assert!(text_width("W", 10.0, true) > text_width("W", 10.0, false));
        let t = truncate_to_width("a very long label indeed", 10.0, false, 60.0);
        assert!(t.ends_with('\u{2026}'));
        assert!(text_width(&t, 10.0, false) <= 60.0);
        let lines = wrap_text("Excluded because baseline date missing", 10.0, false, 100.0);
        assert!(lines.len() >= 2);
        assert!(lines.iter().all(|l| text_width(l, 10.0, false) <= 100.0));
    }
}
