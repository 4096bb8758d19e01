//! Kruskal–Wallis rank-sum test — R `kruskal.test(x, g)`.
//!
//! With midranks `R_ij` over the pooled sample of size N, group rank sums
//! `R_j` and sizes `n_j` (Kruskal & Wallis 1952):
//!
//! `H = [12 / (N(N + 1)) · Σ_j R_j² / n_j − 3(N + 1)] / [1 − Σ(t³ − t)/(N³ − N)]`
//!
//! (t = sizes of tie groups), referred to chi-square on `k − 1` degrees of
//! freedom, k = number of non-empty groups. Groups with no observations are
//! ignored (R's `factor()` would not create such a level).

use serde::Serialize;

use super::{check_finite, midranks};
use crate::dist::chisq_sf;
use crate::error::{Result, SurvError};

/// Result of the Kruskal–Wallis test (R's `htest` fields).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct KruskalResult {
    /// Tie-corrected Kruskal–Wallis chi-squared.
    pub statistic: f64,
    /// Degrees of freedom, number of non-empty groups − 1.
    pub df: f64,
    /// Upper-tail chi-square p-value.
    pub p_value: f64,
    /// Group sizes as given (empty groups included as 0).
    pub n: Vec<usize>,
}

/// Kruskal–Wallis test of the values in `groups` (one slice per group).
/// Values must be finite (drop missing values first).
pub fn kruskal_test(groups: &[&[f64]]) -> Result<KruskalResult> {
    for g in groups {
        check_finite("kruskal value", g)?;
    }
    let k = groups.iter().filter(|g| !g.is_empty()).count();
    if k < 2 {
        return Err(SurvError::TooFewGroups(k));
    }
    let pooled: Vec<f64> = groups.iter().flat_map(|g| g.iter().copied()).collect();
    let (ranks, ties) = midranks(&pooled);
    let n = pooled.len() as f64;
    let mut sum = 0.0;
    let mut start = 0;
    for g in groups {
        if g.is_empty() {
            continue;
        }
        let rs: f64 = ranks[start..start + g.len()].iter().sum();
        sum += rs * rs / g.len() as f64;
        start += g.len();
    }
    let tie_sum: f64 = ties
        .iter()
        .map(|&t| {
            let t = t as f64;
            t * t * t - t
        })
        .sum();
    let denom = 1.0 - tie_sum / (n * n * n - n);
    if denom.is_nan() || denom <= 0.0 {
        return Err(SurvError::Degenerate {
            what: "kruskal_test",
            message: "all observations are tied".into(),
        });
    }
    let statistic = (12.0 * sum / (n * (n + 1.0)) - 3.0 * (n + 1.0)) / denom;
    let df = (k - 1) as f64;
    Ok(KruskalResult {
        statistic,
        df,
        p_value: chisq_sf(statistic, df),
        n: groups.iter().map(|g| g.len()).collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn by_hand_without_ties() {
        // ranks 1,2,3 | 4,5,6: R1 = 6, R2 = 15; H = 12/42 (36/3 + 225/3) - 21 = 27/7
        let r = kruskal_test(&[&[1.0, 2.0, 3.0], &[4.0, 5.0, 6.0]]).unwrap();
        assert!((r.statistic - 27.0 / 7.0).abs() < 1e-12);
        assert_eq!(r.df, 1.0);
        assert!((r.p_value - chisq_sf(27.0 / 7.0, 1.0)).abs() < 1e-15);
    }

    #[test]
    fn invariant_to_group_order_and_empty_groups() {
        let a: &[f64] = &[2.0, 7.0, 7.0, 1.5];
        let b: &[f64] = &[3.0, 9.0];
        let c: &[f64] = &[7.0, 0.5, 4.0];
        let r1 = kruskal_test(&[a, b, c]).unwrap();
        let r2 = kruskal_test(&[c, &[], a, b]).unwrap();
        assert!((r1.statistic - r2.statistic).abs() < 1e-12);
        assert_eq!(r1.df, 2.0);
        assert_eq!(r2.df, 2.0);
        assert!(r1.statistic >= 0.0 && (0.0..=1.0).contains(&r1.p_value));
    }

    #[test]
    fn errors() {
        assert!(matches!(
            kruskal_test(&[&[1.0, 2.0], &[]]),
            Err(SurvError::TooFewGroups(1))
        ));
        assert!(kruskal_test(&[&[1.0], &[f64::INFINITY]]).is_err());
        assert!(kruskal_test(&[&[1.0, 1.0], &[1.0]]).is_err());
    }
}
