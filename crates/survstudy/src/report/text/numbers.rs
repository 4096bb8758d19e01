//! Journal-style numbers: p-values, significant figures, hazard ratios with
//! their confidence interval, small-cell suppression, and the number
//! formatter of the report's prose.

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

/// Formats a number of the prose and the tables: at most 2 decimals, no
/// trailing zeros. Unlike the SVG coordinate formatter, a missing value is
/// never disguised as a number: NaN prints as `NA` and infinities as `Inf`
/// and `-Inf` (as R prints them).
pub(crate) fn num_text(v: f64) -> String {
    if v.is_nan() {
        return "NA".to_string();
    }
    if v.is_infinite() {
        return if v > 0.0 { "Inf" } else { "-Inf" }.to_string();
    }
    let s = format!("{v:.2}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s == "-0" || s.is_empty() {
        "0".to_string()
    } else {
        s.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prose_numbers_never_print_nan_as_zero() {
        assert_eq!(num_text(f64::NAN), "NA");
        assert_eq!(num_text(f64::INFINITY), "Inf");
        assert_eq!(num_text(f64::NEG_INFINITY), "-Inf");
        assert_eq!(num_text(0.0), "0");
        assert_eq!(num_text(-0.001), "0");
        assert_eq!(num_text(30.4375), "30.44");
        assert_eq!(num_text(12.0), "12");
    }
}
