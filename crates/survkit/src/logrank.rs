//! k-sample log-rank and Fleming–Harrington G(ρ) tests (R: `survdiff(Surv ~ group, rho = ρ)`).
//!
//! At each distinct event time t within a stratum, with n at risk (n_g in group
//! g), d events (d_g) and weight w = S(t−)^ρ (S the pooled Kaplan–Meier within
//! the stratum, just before t; ρ = 0 is the log-rank test of Mantel 1966,
//! ρ = 1 the Peto & Peto 1972 / Prentice modification):
//!
//! * `O_g = Σ w d_g`, `E_g = Σ w d n_g / n`,
//! * `V_gh = Σ w² d (n − d)/(n − 1) · (n_g/n)(δ_gh − n_h/n)`.
//!
//! O, E, V are summed over strata. The statistic is `(O−E)ᵀ V⁻ (O−E)` over the
//! groups with E > 0, leaving out the first of them; `df` = (number of groups
//! with E > 0) − 1 — exactly R's `survdiff`.

use serde::Serialize;

use crate::dist::chisq_sf;
use crate::error::{check_len, check_times, Result, SurvError};
use crate::km::time_key;
use crate::linalg::quad_form_inv;

/// Largest number of groups a test accepts (the variance matrix is k×k).
pub const MAX_GROUPS: usize = 2000;

/// Options of the log-rank family.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LogrankOptions {
    /// Fleming–Harrington ρ: 0 = log-rank (default), 1 = Peto–Peto.
    pub rho: f64,
}

impl Default for LogrankOptions {
    fn default() -> Self {
        LogrankOptions { rho: 0.0 }
    }
}

/// Per-stratum observed and expected (group × stratum).
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ByStratum {
    /// Subjects per stratum.
    pub n: Vec<u64>,
    /// `observed[g][s]`
    pub observed: Vec<Vec<f64>>,
    /// `expected[g][s]`
    pub expected: Vec<Vec<f64>>,
}

/// Result of a (stratified) k-sample test.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct LogrankResult {
    /// Fleming–Harrington ρ used.
    pub rho: f64,
    /// Subjects per group.
    pub n: Vec<u64>,
    /// Observed events per group (summed over strata).
    pub observed: Vec<f64>,
    /// Expected events per group under the null.
    pub expected: Vec<f64>,
    /// `observed − expected` per group.
    pub o_minus_e: Vec<f64>,
    /// k×k variance matrix of O − E.
    pub var: Vec<Vec<f64>>,
    /// Chi-square statistic (R `survdiff()$chisq`).
    pub chisq: f64,
    /// Degrees of freedom (groups with expected events > 0, minus 1).
    pub df: usize,
    /// Upper-tail chi-square p-value.
    pub p: f64,
    /// Present for stratified tests.
    pub by_stratum: Option<ByStratum>,
}

/// Run the test. `group[i]` in `0..k` (k = max + 1); `strata[i]` in `0..s` if given.
pub fn logrank(
    time: &[f64],
    event: &[bool],
    group: &[usize],
    strata: Option<&[usize]>,
    opts: &LogrankOptions,
) -> Result<LogrankResult> {
    let n = time.len();
    check_len("event", event.len(), n)?;
    check_len("group", group.len(), n)?;
    if let Some(s) = strata {
        check_len("strata", s.len(), n)?;
    }
    check_times(time)?;
    if n == 0 {
        return Err(SurvError::Empty);
    }
    // nearly equal times tie, as R's survdiff(timefix = TRUE)
    let time = crate::timefix::aeq_times(time);
    let time: &[f64] = &time;
    if !opts.rho.is_finite() {
        return Err(SurvError::InvalidOption {
            name: "rho",
            message: format!("{} is not finite", opts.rho),
        });
    }
    let k = group.iter().max().map_or(0, |m| m + 1);
    // the k×k variance matrix must stay small; thousands of groups are a mistake
    if k > MAX_GROUPS {
        return Err(SurvError::TooLarge {
            what: "number of log-rank groups",
            limit: MAX_GROUPS as u64,
        });
    }
    let ns = strata.map_or(1, |s| s.iter().max().map_or(0, |m| m + 1));

    // rows sorted by (stratum, time); events first within a time is irrelevant
    let mut rows: Vec<(u64, u64)> = Vec::with_capacity(n);
    for i in 0..n {
        let s = strata.map_or(0, |s| s[i]) as u64;
        rows.push((
            time_key(time[i]),
            (s << 33) | ((group[i] as u64) << 1) | event[i] as u64,
        ));
    }
    // stable radix sort by time, then by stratum
    crate::sort::radix_sort_by_key(&mut rows, |r| r.0);
    if ns > 1 {
        crate::sort::radix_sort_by_key(&mut rows, |r| r.1 >> 33);
    }

    let mut n_group = vec![0u64; k];
    for &g in group {
        n_group[g] += 1;
    }
    let mut obs = vec![vec![0.0; ns]; k];
    let mut exp = vec![vec![0.0; ns]; k];
    let mut n_strat = vec![0u64; ns];
    let mut var = vec![vec![0.0; k]; k];
    let mut at_risk = vec![0f64; k];
    let mut d_g = vec![0f64; k];
    let mut rem_g = vec![0f64; k];

    let mut start = 0;
    while start < n {
        let s = (rows[start].1 >> 33) as usize;
        let mut end = start;
        while end < n && (rows[end].1 >> 33) as usize == s {
            end += 1;
        }
        n_strat[s] = (end - start) as u64;
        at_risk.iter_mut().for_each(|x| *x = 0.0);
        for r in &rows[start..end] {
            at_risk[((r.1 >> 1) & 0xFFFF_FFFF) as usize] += 1.0;
        }
        let mut km = 1.0f64;
        let mut i = start;
        while i < end {
            let t = rows[i].0;
            let mut j = i;
            d_g.iter_mut().for_each(|x| *x = 0.0);
            rem_g.iter_mut().for_each(|x| *x = 0.0);
            while j < end && rows[j].0 == t {
                let g = ((rows[j].1 >> 1) & 0xFFFF_FFFF) as usize;
                if rows[j].1 & 1 == 1 {
                    d_g[g] += 1.0;
                }
                rem_g[g] += 1.0;
                j += 1;
            }
            let nr: f64 = at_risk.iter().sum();
            let d: f64 = d_g.iter().sum();
            if d > 0.0 {
                let w = if opts.rho == 0.0 {
                    1.0
                } else {
                    km.powf(opts.rho)
                };
                for g in 0..k {
                    obs[g][s] += w * d_g[g];
                    exp[g][s] += w * d * at_risk[g] / nr;
                }
                add_variance(&mut var, &at_risk, nr, d, w);
                km *= (nr - d) / nr;
            }
            for g in 0..k {
                at_risk[g] -= rem_g[g];
            }
            i = j;
        }
        start = end;
    }

    let observed: Vec<f64> = obs.iter().map(|r| r.iter().sum()).collect();
    let expected: Vec<f64> = exp.iter().map(|r| r.iter().sum()).collect();
    let by_stratum = strata.map(|_| ByStratum {
        n: n_strat,
        observed: obs,
        expected: exp,
    });
    finish(opts.rho, n_group, observed, expected, var, by_stratum)
}

/// The test from the accumulated observed and expected counts and variance
/// (shared with [`crate::tabulated`]).
pub(crate) fn finish(
    rho: f64,
    n_group: Vec<u64>,
    observed: Vec<f64>,
    expected: Vec<f64>,
    var: Vec<Vec<f64>>,
    by_stratum: Option<ByStratum>,
) -> Result<LogrankResult> {
    let k = observed.len();
    let o_minus_e: Vec<f64> = observed.iter().zip(&expected).map(|(o, e)| o - e).collect();
    let keep: Vec<usize> = (0..k).filter(|&g| expected[g] > 0.0).collect();
    if keep.len() < 2 {
        return Err(SurvError::TooFewGroups(keep.len()));
    }
    let sub: Vec<usize> = keep[1..].to_vec();
    let v: Vec<Vec<f64>> = sub
        .iter()
        .map(|&a| sub.iter().map(|&b| var[a][b]).collect())
        .collect();
    let x: Vec<f64> = sub.iter().map(|&a| o_minus_e[a]).collect();
    let chisq = quad_form_inv(&v, &x);
    let df = keep.len() - 1;
    Ok(LogrankResult {
        rho,
        n: n_group,
        observed,
        expected,
        o_minus_e,
        var,
        chisq,
        df,
        p: chisq_sf(chisq, df as f64),
        by_stratum,
    })
}

/// One event time's term of the log-rank variance (Mantel 1966): with `d`
/// deaths among `nr` at risk (`at_risk` per group) and weight `w`,
/// `V_gh += w² d (nr − d) / (nr (nr − 1)) · n_g (δ_gh − n_h / nr)`.
/// Shared by [`logrank`] and the count-table path (`crate::tabulated`).
pub(crate) fn add_variance(var: &mut [Vec<f64>], at_risk: &[f64], nr: f64, d: f64, w: f64) {
    if nr <= 1.0 {
        return;
    }
    let k = at_risk.len();
    let kk = w * w * d * (nr - d) / (nr * (nr - 1.0));
    for g in 0..k {
        let pg = at_risk[g] / nr;
        var[g][g] += kk * at_risk[g] * (1.0 - pg);
        for h in (g + 1)..k {
            let v = kk * at_risk[g] * at_risk[h] / nr;
            var[g][h] -= v;
            var[h][g] -= v;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hand_computed_two_groups() {
        // group 0: 1, 3+ ; group 1: 2, 4
        let t = [1.0, 3.0, 2.0, 4.0];
        let e = [true, false, true, true];
        let g = [0, 0, 1, 1];
        let r = logrank(&t, &e, &g, None, &LogrankOptions::default()).unwrap();
        // t=1: n=4 (2,2) d=1 -> E0 = .5, V = 1*3/(4*3)*2*2/4... = .25
        // t=2: n=3 (1,2) d=1 -> E0 = 1/3, V = (1*2/(3*2)) * 1 * (2/3) = 2/9
        // t=4: n=1 (0,1) d=1 -> E0 = 0
        assert_eq!(r.observed, vec![1.0, 2.0]);
        assert!((r.expected[0] - (0.5 + 1.0 / 3.0)).abs() < 1e-15);
        assert!((r.var[0][0] - (0.25 + 2.0 / 9.0)).abs() < 1e-15);
        let oe = 1.0 - (0.5 + 1.0 / 3.0);
        assert!((r.chisq - oe * oe / (0.25 + 2.0 / 9.0)).abs() < 1e-14);
        assert!((r.o_minus_e.iter().sum::<f64>()).abs() < 1e-14);
        assert_eq!(r.df, 1);
    }
}
