//! Two-sample Wilcoxon rank-sum (Mann–Whitney) test — R
//! `wilcox.test(x, y, exact = NULL|TRUE|FALSE, correct = TRUE|FALSE)`,
//! two-sided, `mu = 0`.
//!
//! `W = Σ_{i∈x} rank_i − n_x(n_x + 1)/2` with midranks over the pooled
//! sample (Wilcoxon 1945; Mann & Whitney 1947).
//!
//! * **Exact** (R's default when both `n_x < 50` and `n_y < 50`; never with
//!   ties): the null distribution of W counts the arrangements,
//!   `c(k; m, n) = c(k − n; m − 1, n) + c(k; m, n − 1)` (R's `cwilcox`);
//!   `p = min(1, 2 · P(W ≤ w))` if `w ≤ m n / 2`, else `min(1, 2 · P(W ≥ w))`.
//! * **Normal approximation**: `z = (W − m n/2 − CORR) / σ` with
//!   `σ² = m n/12 · ((m + n + 1) − Σ(t³ − t)/((m + n)(m + n − 1)))` (t = sizes
//!   of tie groups) and `CORR = sign(W − m n/2) · 0.5` when corrected
//!   (R's `correct = TRUE`, the default); `p = 2 · min(Φ(z), 1 − Φ(z))`.
//!   With ties and an exact request R falls back to this and warns "cannot
//!   compute exact p-value with ties"; we return the same text in
//!   [`WilcoxonResult::warning`].

use serde::Serialize;

use super::{check_finite, midranks, ContinuityCorrection};
use crate::dist::{norm_cdf, norm_sf};
use crate::error::{Result, SurvError};

/// How the p-value is computed (R's `exact` argument).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub enum WilcoxonMethod {
    /// R's default (`exact = NULL`): exact when both groups have fewer than
    /// 50 observations and there are no ties, else the normal approximation.
    #[default]
    Auto,
    /// Exact distribution (`exact = TRUE`); ties force the normal approximation with a warning.
    Exact,
    /// Normal approximation (`exact = FALSE`).
    Normal,
}

/// Options for [`wilcoxon_test`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WilcoxonOptions {
    /// Exact vs normal approximation.
    pub method: WilcoxonMethod,
    /// Continuity correction of the normal approximation (R's `correct`, default on).
    pub correction: ContinuityCorrection,
    /// Largest `m² n² / 4` (work of the exact counting recursion) allowed
    /// before an explicit [`WilcoxonMethod::Exact`] request fails with
    /// [`SurvError::TooLarge`].
    pub exact_work_limit: u64,
}

impl Default for WilcoxonOptions {
    fn default() -> Self {
        WilcoxonOptions {
            method: WilcoxonMethod::Auto,
            correction: ContinuityCorrection::Corrected,
            exact_work_limit: 300_000_000,
        }
    }
}

/// Result of the rank-sum test (R's `htest` fields).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WilcoxonResult {
    /// W statistic (Mann–Whitney U of the first sample).
    pub w: f64,
    /// Two-sided p-value.
    pub p_value: f64,
    /// Whether the exact distribution was used.
    pub exact: bool,
    /// The standardised statistic of the normal approximation (None when exact).
    pub z: Option<f64>,
    /// Group sizes `(n_x, n_y)`.
    pub n: (usize, usize),
    /// Whether the pooled sample has tied values.
    pub has_ties: bool,
    /// R's method string, e.g. "Wilcoxon rank sum exact test".
    pub method: String,
    /// R's warning, "cannot compute exact p-value with ties", when applicable.
    pub warning: Option<String>,
}

/// Wilcoxon rank-sum test of `x` vs `y` (two-sided). Values must be finite
/// (drop missing values first, as R's `wilcox.test` does).
pub fn wilcoxon_test(x: &[f64], y: &[f64], opts: &WilcoxonOptions) -> Result<WilcoxonResult> {
    check_finite("wilcoxon x", x)?;
    check_finite("wilcoxon y", y)?;
    if x.is_empty() {
        return Err(SurvError::Degenerate {
            what: "wilcoxon_test",
            message: "not enough (non-missing) 'x' observations".into(),
        });
    }
    if y.is_empty() {
        return Err(SurvError::Degenerate {
            what: "wilcoxon_test",
            message: "not enough 'y' observations".into(),
        });
    }
    let pooled: Vec<f64> = x.iter().chain(y).copied().collect();
    let (ranks, ties) = midranks(&pooled);
    let nx = x.len() as f64;
    let ny = y.len() as f64;
    let w = ranks[..x.len()].iter().sum::<f64>() - nx * (nx + 1.0) / 2.0;
    let has_ties = ties.iter().any(|&t| t > 1);
    let want_exact = match opts.method {
        WilcoxonMethod::Auto => x.len() < 50 && y.len() < 50,
        WilcoxonMethod::Exact => true,
        WilcoxonMethod::Normal => false,
    };
    let n = (x.len(), y.len());
    if want_exact && !has_ties {
        let (m, nn) = (x.len() as u64, y.len() as u64);
        let work = (m * m).saturating_mul(nn * nn) / 4;
        if work > opts.exact_work_limit {
            return Err(SurvError::TooLarge {
                what: "wilcoxon_test (exact distribution)",
                limit: opts.exact_work_limit,
            });
        }
        let counts = wilcox_counts(x.len(), y.len());
        let total: f64 = counts.iter().sum();
        // W is an integer without ties
        let wi = w as usize;
        let p_one = if w > nx * ny / 2.0 {
            counts[wi..].iter().sum::<f64>() / total
        } else {
            counts[..=wi].iter().sum::<f64>() / total
        };
        return Ok(WilcoxonResult {
            w,
            p_value: (2.0 * p_one).min(1.0),
            exact: true,
            z: None,
            n,
            has_ties,
            method: "Wilcoxon rank sum exact test".into(),
            warning: None,
        });
    }
    let n_all = nx + ny;
    let tie_sum: f64 = ties
        .iter()
        .map(|&t| {
            let t = t as f64;
            t * t * t - t
        })
        .sum();
    let sigma = ((nx * ny / 12.0) * ((n_all + 1.0) - tie_sum / (n_all * (n_all - 1.0)))).sqrt();
    if sigma.is_nan() || sigma <= 0.0 {
        return Err(SurvError::Degenerate {
            what: "wilcoxon_test",
            message: "all observations are tied: the rank-sum variance is zero".into(),
        });
    }
    let mut z = w - nx * ny / 2.0;
    let mut method = "Wilcoxon rank sum test".to_string();
    if opts.correction == ContinuityCorrection::Corrected {
        let corr = if z > 0.0 {
            0.5
        } else if z < 0.0 {
            -0.5
        } else {
            0.0
        };
        z -= corr;
        method.push_str(" with continuity correction");
    }
    let z = z / sigma;
    let p_value = 2.0 * norm_cdf(z).min(norm_sf(z));
    Ok(WilcoxonResult {
        w,
        p_value,
        exact: false,
        z: Some(z),
        n,
        has_ties,
        method,
        warning: (want_exact && has_ties)
            .then(|| "cannot compute exact p-value with ties".to_string()),
    })
}

/// Frequencies `c(k; m, n)`, k = 0..=m n, of the Mann–Whitney statistic
/// (number of the `C(m + n, m)` arrangements giving W = k), by R's
/// `cwilcox` recursion `c(k; i, j) = c(k − j; i − 1, j) + c(k; i, j − 1)`,
/// built row by row in i. Additions only, so the counts are exact while
/// below 2^53 and correctly rounded-ish beyond (as R's doubles).
fn wilcox_counts(m: usize, n: usize) -> Vec<f64> {
    // prev[j] = distribution for (i - 1, j), j = 0..=n
    let mut prev: Vec<Vec<f64>> = (0..=n).map(|_| vec![1.0]).collect();
    for i in 1..=m {
        let mut cur: Vec<Vec<f64>> = Vec::with_capacity(n + 1);
        cur.push(vec![1.0]); // (i, 0): W = 0 only
        for j in 1..=n {
            let mut v = vec![0.0; i * j + 1];
            // c(k - j; i - 1, j): the largest value belongs to x, beating all j y's
            for (k, &c) in prev[j].iter().enumerate() {
                v[k + j] += c;
            }
            // c(k; i, j - 1): the largest value belongs to y
            for (k, &c) in cur[j - 1].iter().enumerate() {
                v[k] += c;
            }
            cur.push(v);
        }
        prev = cur;
    }
    prev.swap_remove(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_are_the_gaussian_binomial() {
        // m = 2, n = 2: W in 0..=4 with counts 1,1,2,1,1 (C(4,2) = 6)
        assert_eq!(wilcox_counts(2, 2), vec![1.0, 1.0, 2.0, 1.0, 1.0]);
        // symmetric, total C(m+n, m)
        let c = wilcox_counts(5, 7);
        assert_eq!(c.iter().sum::<f64>(), 792.0);
        for k in 0..c.len() {
            assert_eq!(c[k], c[c.len() - 1 - k]);
        }
        assert_eq!(wilcox_counts(3, 0), vec![1.0]);
    }

    #[test]
    fn exact_by_hand() {
        // x all below y: W = 0, p = 2 / C(6,3) = 0.1
        let r = wilcoxon_test(
            &[1.0, 2.0, 3.0],
            &[4.0, 5.0, 6.0],
            &WilcoxonOptions::default(),
        )
        .unwrap();
        assert_eq!(r.w, 0.0);
        assert!(r.exact);
        assert!((r.p_value - 0.1).abs() < 1e-15);
        assert_eq!(r.method, "Wilcoxon rank sum exact test");
        // swapping samples: W' = n1 n2 - W, same two-sided p
        let s = wilcoxon_test(
            &[4.0, 5.0, 6.0],
            &[1.0, 2.0, 3.0],
            &WilcoxonOptions::default(),
        )
        .unwrap();
        assert_eq!(s.w + r.w, 9.0);
        assert_eq!(s.p_value, r.p_value);
    }

    #[test]
    fn ties_force_normal_with_warning() {
        let x = [1.0, 2.0, 2.0, 3.0];
        let y = [2.0, 4.0, 5.0];
        let r = wilcoxon_test(&x, &y, &WilcoxonOptions::default()).unwrap();
        assert!(!r.exact && r.has_ties);
        assert_eq!(
            r.warning.as_deref(),
            Some("cannot compute exact p-value with ties")
        );
        // ranks: 1, 3, 3, 5 | 3, 6, 7 -> W = 12 - 10 = 2
        assert_eq!(r.w, 2.0);
        // sigma^2 = 12/12 * (8 - (27 - 3)/(7*6)) ; z = (2 - 6 + 0.5)/sigma
        let sigma = (8.0f64 - 24.0 / 42.0).sqrt();
        let z = (2.0 - 6.0 + 0.5) / sigma;
        assert!((r.z.unwrap() - z).abs() < 1e-14);
        assert!((r.p_value - 2.0 * norm_cdf(z)).abs() < 1e-14);
        let normal = WilcoxonOptions {
            method: WilcoxonMethod::Normal,
            ..Default::default()
        };
        assert!(wilcoxon_test(&x, &y, &normal).unwrap().warning.is_none());
    }

    #[test]
    fn degenerate_inputs_are_errors() {
        let o = WilcoxonOptions::default();
        assert!(wilcoxon_test(&[], &[1.0], &o).is_err());
        assert!(wilcoxon_test(&[f64::NAN], &[1.0], &o).is_err());
        let normal = WilcoxonOptions {
            method: WilcoxonMethod::Normal,
            ..Default::default()
        };
        assert!(matches!(
            wilcoxon_test(&[1.0, 1.0], &[1.0], &normal),
            Err(SurvError::Degenerate { .. })
        ));
    }
}
