//! Pearson's chi-square test of independence — R `chisq.test(table, correct = )`.
//!
//! Expected counts `E_ij = r_i c_j / n`; statistic
//! `X² = Σ (|O_ij − E_ij| − Y)² / E_ij` on `(r − 1)(c − 1)` degrees of
//! freedom, p-value `pchisq(X², df, lower.tail = FALSE)` (Pearson 1900).
//! Yates' (1934) continuity correction applies to 2×2 tables only, and as R
//! computes it: `Y = min(0.5, min |O_ij − E_ij|)`; when `Y = 0` (observed =
//! expected) the method string does not mention the correction. Larger
//! tables use `Y = 0` whatever the option. R warns "Chi-squared
//! approximation may be incorrect" when any expected count is below 5; the
//! same text is returned in [`ChisqResult::warning`].

use serde::Serialize;

use super::table_margins;
use crate::dist::chisq_sf;
use crate::error::{Result, SurvError};

/// Continuity correction of a chi-square / normal approximation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub enum ContinuityCorrection {
    /// Apply the correction (R's default `correct = TRUE`): Yates' for 2×2
    /// chi-square tables, ±0.5 for the Wilcoxon normal approximation.
    #[default]
    Corrected,
    /// No correction (R's `correct = FALSE`).
    Uncorrected,
}

/// Options for [`chisq_test`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ChisqOptions {
    /// Yates' correction for 2×2 tables (ignored for larger tables, as in R).
    pub correction: ContinuityCorrection,
}

/// Result of Pearson's chi-square test (R's `htest` fields).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ChisqResult {
    /// X-squared.
    pub statistic: f64,
    /// Degrees of freedom `(r - 1)(c - 1)`.
    pub df: f64,
    /// Upper-tail chi-square p-value.
    pub p_value: f64,
    /// Expected counts under independence, `expected[i][j]`.
    pub expected: Vec<Vec<f64>>,
    /// Whether Yates' correction was actually applied (2×2, requested, and `Y > 0`).
    pub correction: bool,
    /// R's method string.
    pub method: String,
    /// R's warning when any expected count is < 5.
    pub warning: Option<String>,
}

/// Text of R's small-expected-count warning.
pub const SMALL_EXPECTED_WARNING: &str = "Chi-squared approximation may be incorrect";

/// Pearson's chi-square test on a contingency table `table[i][j]`.
///
/// Errors: ragged or smaller than 2×2 table, all-zero table, or a row or
/// column whose total is zero (R would return `NaN`).
pub fn chisq_test(table: &[Vec<u64>], opts: &ChisqOptions) -> Result<ChisqResult> {
    let (rs, cs, total) = table_margins(table)?;
    if let Some(i) = rs.iter().position(|&r| r == 0) {
        return Err(SurvError::InvalidTable {
            message: format!("row {i} has total 0 (expected counts would be 0)"),
        });
    }
    if let Some(j) = cs.iter().position(|&c| c == 0) {
        return Err(SurvError::InvalidTable {
            message: format!("column {j} has total 0 (expected counts would be 0)"),
        });
    }
    let n = total as f64;
    let expected: Vec<Vec<f64>> = rs
        .iter()
        .map(|&r| cs.iter().map(|&c| (r as f64 * c as f64) / n).collect())
        .collect();
    let is22 = rs.len() == 2 && cs.len() == 2;
    let mut method = "Pearson's Chi-squared test".to_string();
    let mut yates = 0.0;
    if is22 && opts.correction == ContinuityCorrection::Corrected {
        yates = 0.5f64;
        for (row, erow) in table.iter().zip(&expected) {
            for (&o, &e) in row.iter().zip(erow) {
                yates = yates.min((o as f64 - e).abs());
            }
        }
        if yates > 0.0 {
            method.push_str(" with Yates' continuity correction");
        }
    }
    // R sums column-major; keep its order.
    let mut statistic = 0.0;
    for j in 0..cs.len() {
        for (row, erow) in table.iter().zip(&expected) {
            let d = (row[j] as f64 - erow[j]).abs() - yates;
            statistic += d * d / erow[j];
        }
    }
    let df = ((rs.len() - 1) * (cs.len() - 1)) as f64;
    let warning = expected
        .iter()
        .flatten()
        .any(|&e| e < 5.0)
        .then(|| SMALL_EXPECTED_WARNING.to_string());
    Ok(ChisqResult {
        statistic,
        df,
        p_value: chisq_sf(statistic, df),
        expected,
        correction: yates > 0.0,
        method,
        warning,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_by_two_by_hand() {
        // [[10, 20], [30, 40]]: n = 100, E = [[12, 18], [28, 42]], |O - E| = 2
        let t = vec![vec![10, 20], vec![30, 40]];
        let e = [[12.0, 18.0], [28.0, 42.0]];
        let un = chisq_test(
            &t,
            &ChisqOptions {
                correction: ContinuityCorrection::Uncorrected,
            },
        )
        .unwrap();
        let x2: f64 = e.iter().flatten().map(|&v| 4.0 / v).sum();
        assert!((un.statistic - x2).abs() < 1e-12);
        assert_eq!(un.df, 1.0);
        assert!(!un.correction && un.warning.is_none());
        assert_eq!(un.method, "Pearson's Chi-squared test");
        let co = chisq_test(&t, &ChisqOptions::default()).unwrap();
        let x2c: f64 = e.iter().flatten().map(|&v| 1.5 * 1.5 / v).sum();
        assert!((co.statistic - x2c).abs() < 1e-12);
        assert!(co.correction && co.p_value > un.p_value);
        assert!((co.p_value - chisq_sf(x2c, 1.0)).abs() < 1e-15);
    }

    #[test]
    fn yates_is_capped_by_smallest_deviation_and_warns_on_small_expected() {
        // O = E exactly: Y = 0, statistic 0, no mention of the correction
        let r = chisq_test(&[vec![2, 2], vec![2, 2]], &ChisqOptions::default()).unwrap();
        assert_eq!(r.statistic, 0.0);
        assert_eq!(r.p_value, 1.0);
        assert!(!r.correction);
        assert_eq!(r.warning.as_deref(), Some(SMALL_EXPECTED_WARNING));
    }

    #[test]
    fn rxc_ignores_correction_and_rejects_empty_margins() {
        let t = vec![vec![10, 20, 30], vec![30, 20, 10]];
        let a = chisq_test(&t, &ChisqOptions::default()).unwrap();
        let b = chisq_test(
            &t,
            &ChisqOptions {
                correction: ContinuityCorrection::Uncorrected,
            },
        )
        .unwrap();
        assert_eq!(a, b);
        assert_eq!(a.df, 2.0);
        // E = 20 everywhere: X2 = (100 + 0 + 100) * 2 / 20 = 20
        assert!((a.statistic - 20.0).abs() < 1e-12);
        assert!(chisq_test(&[vec![0, 0], vec![1, 2]], &ChisqOptions::default()).is_err());
    }
}
