//! Numbers in the study report's tables and prose: counts with suppression,
//! percentages, p-values, medians, survival at landmarks, contrasts.

#[allow(unused_imports)]
use super::*;

pub(crate) struct Fmt<'a> {
    pub(crate) opts: &'a ReportOptions,
    pub(crate) pf: PFormat,
}

impl Fmt<'_> {
    pub(crate) fn count(&self, n: usize) -> String {
        suppress(n as u64, self.opts.suppress_below)
    }

    pub(crate) fn is_suppressed(&self, n: usize) -> bool {
        matches!(self.opts.suppress_below, Some(b) if n > 0 && (n as u64) < b)
    }

    /// `31 (57%)`, or `<5` when suppressed.
    pub(crate) fn n_pct(&self, n: usize, pct: Option<f64>) -> String {
        if self.is_suppressed(n) {
            return self.count(n);
        }
        match pct {
            Some(p) if p.is_finite() => format!("{n} ({})", pct_text(p)),
            _ => n.to_string(),
        }
    }

    pub(crate) fn p(&self, p: Option<f64>) -> String {
        match p {
            Some(p) => format_p_with(p, &self.pf),
            None => "\u{2014}".to_string(),
        }
    }

    /// `p = 0.0076` / `p < 0.001`.
    pub(crate) fn p_eq(&self, p: f64) -> String {
        let s = format_p_with(p, &self.pf);
        if let Some(rest) = s.strip_prefix('<') {
            format!("p < {rest}")
        } else if let Some(rest) = s.strip_prefix('>') {
            format!("p > {rest}")
        } else {
            format!("p = {s}")
        }
    }
}

pub(crate) fn pct_text(p: f64) -> String {
    if p > 0.0 && p < 1.0 {
        "<1%".to_string()
    } else if p < 100.0 && p > 99.0 {
        ">99%".to_string()
    } else {
        format!("{p:.0}%")
    }
}

/// Times (months, days …) with one decimal.
pub(crate) fn t1(x: f64) -> String {
    if x.is_finite() {
        format!("{x:.1}")
    } else {
        "NE".to_string()
    }
}

/// Summary statistics gtsummary-style: two significant figures but never
/// fewer than the integer digits (63, 57, 4.5, 0.87).
pub(crate) fn stat(x: f64) -> String {
    if !x.is_finite() {
        return "NE".to_string();
    }
    if x.abs() >= 10.0 {
        format!("{x:.0}")
    } else if x == 0.0 {
        "0".to_string()
    } else {
        format_sig(x, 2)
    }
}

/// Median with CI: `4.8 (3.1–7.0)`; a median or upper limit that is not
/// reached is `NR`, an unestimable lower limit `NE`.
pub fn format_median(median: Option<f64>, lower: Option<f64>, upper: Option<f64>) -> String {
    let lo = lower.map_or_else(|| "NE".to_string(), t1);
    let hi = upper.map_or_else(|| "NR".to_string(), t1);
    match median {
        Some(m) => format!("{} ({lo}\u{2013}{hi})", t1(m)),
        None if lower.is_some() => format!("NR ({lo}\u{2013}{hi})"),
        None => "NR".to_string(),
    }
}

/// `20.9 months (95% CI 13.2–21.2)`, `not reached (95% CI 13.2–NR)`.
pub(crate) fn median_sentence(
    median: Option<f64>,
    lower: Option<f64>,
    upper: Option<f64>,
    unit: &str,
) -> String {
    let lo = lower.map_or_else(|| "NE".to_string(), t1);
    let hi = upper.map_or_else(|| "NR".to_string(), t1);
    match median {
        Some(m) => format!("{} {unit} (95% CI {lo}\u{2013}{hi})", t1(m)),
        None => format!("not reached (95% CI {lo}\u{2013}{hi})"),
    }
}

/// Survival at a landmark: `83% (75–92)`, `NE` when not estimable.
pub(crate) fn landmark_text(surv: Option<f64>, lower: Option<f64>, upper: Option<f64>) -> String {
    match surv {
        Some(s) if s.is_finite() => {
            let ci = match (lower, upper) {
                (Some(l), Some(u)) if l.is_finite() && u.is_finite() => {
                    format!(" ({:.0}\u{2013}{:.0})", 100.0 * l, 100.0 * u)
                }
                _ => String::new(),
            };
            format!("{:.0}%{ci}", 100.0 * s)
        }
        _ => "NE".to_string(),
    }
}

pub(crate) fn hr_text(t: &CoxTermSummary) -> String {
    format_hr_ci(
        t.hr.unwrap_or(f64::NAN),
        t.hr_lower.unwrap_or(f64::NAN),
        t.hr_upper.unwrap_or(f64::NAN),
        2,
    )
}

/// A proportional-hazards test row is flagged below this p-value: the
/// analysis's level, at which it keeps the term's residuals.
pub(crate) use crate::analysis::survival::PH_FLAG_P;

pub(crate) fn ph_flagged(row: &PhRow) -> bool {
    row.p.is_finite() && row.p < PH_FLAG_P
}

/// Signed number with a true minus sign: `−1.7`.
pub(crate) fn signed(x: f64, decimals: usize) -> String {
    if !x.is_finite() {
        return "NE".to_string();
    }
    let s = format!("{x:.decimals$}");
    if s.starts_with('-') && s[1..].chars().any(|c| c.is_ascii_digit() && c != '0') {
        format!("\u{2212}{}", &s[1..])
    } else {
        s.trim_start_matches('-').to_string()
    }
}

/// `8.9 (8.1–9.7)`.
pub(crate) fn rmst_text(est: f64, lower: f64, upper: f64) -> String {
    format!("{} ({}\u{2013}{})", t1(est), t1(lower), t1(upper))
}

/// `−1.7 (−3.1 to −0.3)`: " to " because the limits can be negative.
pub(crate) fn contrast_text(est: f64, lower: f64, upper: f64, decimals: usize) -> String {
    format!(
        "{} ({} to {})",
        signed(est, decimals),
        signed(lower, decimals),
        signed(upper, decimals)
    )
}
