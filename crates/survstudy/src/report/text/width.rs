//! Text widths from the metrics of the embedded font (DejaVu Sans), and
//! truncation and wrapping to a width, for figure layout.

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
