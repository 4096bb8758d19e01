//! Table-1 hypothesis tests, matching R's `stats` package number for number.
//!
//! | module | test | R call reproduced |
//! |---|---|---|
//! | [`fisher`] | Fisher's exact test (2×2 with conditional MLE odds ratio and exact CI; r×c exact p) | `fisher.test(table)` |
//! | [`chisq`] | Pearson chi-square, Yates' correction for 2×2 | `chisq.test(table, correct = TRUE/FALSE)` |
//! | [`wilcoxon`] | Wilcoxon rank-sum / Mann–Whitney (exact or normal approximation) | `wilcox.test(x, y, exact =, correct =)` |
//! | [`kruskal`] | Kruskal–Wallis with tie correction | `kruskal.test(x, g)` |
//!
//! Shared helpers live here: log-factorials, contingency-table validation,
//! midranks with tie counts, and a port of R's `uniroot` (Brent's `zeroin`,
//! `R_zeroin2` in `src/library/stats/src/zeroin.c`) so that quantities R finds
//! by root-finding with its default tolerance (`.Machine$double.eps^0.25`) are
//! reproduced with the same iterates, not merely to the same precision.

pub mod chisq;
pub mod fisher;
pub mod kruskal;
pub mod wilcoxon;

pub use chisq::{chisq_test, ChisqOptions, ChisqResult, ContinuityCorrection};
pub use fisher::{fisher_test, fisher_test_with, FisherOptions, FisherResult};
pub use kruskal::{kruskal_test, KruskalResult};
pub use wilcoxon::{wilcoxon_test, WilcoxonMethod, WilcoxonOptions, WilcoxonResult};

use crate::error::{Result, SurvError};

/// `ln(k!)` for `k = 0..=n` (via `ln Γ(k + 1)`).
pub(crate) fn ln_factorials(n: u64) -> Vec<f64> {
    (0..=n)
        .map(|k| statrs::function::gamma::ln_gamma(k as f64 + 1.0))
        .collect()
}

/// Validate a contingency table: rectangular, at least 2×2, and return
/// `(row sums, column sums, total)`.
pub(crate) fn table_margins(table: &[Vec<u64>]) -> Result<(Vec<u64>, Vec<u64>, u64)> {
    let nr = table.len();
    if nr < 2 {
        return Err(SurvError::InvalidTable {
            message: format!("need at least 2 rows, found {nr}"),
        });
    }
    let nc = table[0].len();
    for (i, row) in table.iter().enumerate() {
        if row.len() != nc {
            return Err(SurvError::InvalidTable {
                message: format!("row {i} has {} columns, row 0 has {nc}", row.len()),
            });
        }
    }
    if nc < 2 {
        return Err(SurvError::InvalidTable {
            message: format!("need at least 2 columns, found {nc}"),
        });
    }
    let mut rs = vec![0u64; nr];
    let mut cs = vec![0u64; nc];
    let mut total: u64 = 0;
    for (i, row) in table.iter().enumerate() {
        for (j, &v) in row.iter().enumerate() {
            rs[i] = rs[i].checked_add(v).ok_or_else(overflow)?;
            cs[j] = cs[j].checked_add(v).ok_or_else(overflow)?;
            total = total.checked_add(v).ok_or_else(overflow)?;
        }
    }
    if total == 0 {
        return Err(SurvError::InvalidTable {
            message: "all counts are zero".into(),
        });
    }
    Ok((rs, cs, total))
}

fn overflow() -> SurvError {
    SurvError::InvalidTable {
        message: "counts overflow u64".into(),
    }
}

/// Midranks of `values` (R's `rank(ties.method = "average")`) and the sizes
/// of the groups of tied values (R's `table(x)`), in ascending value order.
/// All values must be finite (checked by the callers).
pub(crate) fn midranks(values: &[f64]) -> (Vec<f64>, Vec<usize>) {
    let n = values.len();
    // the stable comparison sort's permutation, by radix (no cache-missing
    // comparisons of scattered values at 10^7)
    let order = crate::sort::order_by_total(values);
    let mut ranks = vec![0.0; n];
    let mut ties = Vec::new();
    let mut i = 0;
    while i < n {
        let mut j = i + 1;
        // exact equality, as R's rank(); -0.0 == 0.0
        while j < n && values[order[j]] == values[order[i]] {
            j += 1;
        }
        // positions i..j (0-based) hold ranks i+1..=j; their mean is (i+1+j)/2
        let r = (i + 1 + j) as f64 / 2.0;
        for &k in &order[i..j] {
            ranks[k] = r;
        }
        ties.push(j - i);
        i = j;
    }
    (ranks, ties)
}

/// Check that every value is finite.
pub(crate) fn check_finite(what: &str, values: &[f64]) -> Result<()> {
    for (index, &value) in values.iter().enumerate() {
        if !value.is_finite() {
            return Err(SurvError::InvalidValue {
                what: what.to_string(),
                index,
                value,
            });
        }
    }
    Ok(())
}

/// R's default `uniroot` tolerance, `.Machine$double.eps^0.25`.
pub(crate) const UNIROOT_TOL: f64 = 1.220_703_125e-4;

/// Port of R's `uniroot(f, c(lower, upper))` with the default `tol` and
/// `maxiter = 1000`: evaluates `f(lower)`, `f(upper)`, then Brent's
/// `zeroin` exactly as `R_zeroin2` does. Returns `None` when the end points
/// do not bracket a root (R stops with an error there).
pub(crate) fn uniroot<F: FnMut(f64) -> f64>(mut f: F, lower: f64, upper: f64) -> Option<f64> {
    let fa = f(lower);
    let fb = f(upper);
    if fa.is_nan() || fb.is_nan() || fa * fb > 0.0 {
        return None;
    }
    Some(zeroin2(&mut f, lower, upper, fa, fb, UNIROOT_TOL, 1000))
}

/// `R_zeroin2` (R `src/library/stats/src/zeroin.c`), line for line.
fn zeroin2<F: FnMut(f64) -> f64>(
    f: &mut F,
    ax: f64,
    bx: f64,
    fa0: f64,
    fb0: f64,
    tol: f64,
    maxiter: i32,
) -> f64 {
    let (mut a, mut b) = (ax, bx);
    let (mut fa, mut fb) = (fa0, fb0);
    let mut c = a;
    let mut fc = fa;
    if fa == 0.0 {
        return a;
    }
    if fb == 0.0 {
        return b;
    }
    let mut maxit = maxiter + 1;
    while maxit > 0 {
        maxit -= 1;
        let prev_step = b - a;
        if fc.abs() < fb.abs() {
            a = b;
            b = c;
            c = a;
            fa = fb;
            fb = fc;
            fc = fa;
        }
        let tol_act = 2.0 * f64::EPSILON * b.abs() + tol / 2.0;
        let mut new_step = (c - b) / 2.0;
        if new_step.abs() <= tol_act || fb == 0.0 {
            return b;
        }
        if prev_step.abs() >= tol_act && fa.abs() > fb.abs() {
            let cb = c - b;
            let (mut p, mut q);
            if a == c {
                let t1 = fb / fa;
                p = cb * t1;
                q = 1.0 - t1;
            } else {
                q = fa / fc;
                let t1 = fb / fc;
                let t2 = fb / fa;
                p = t2 * (cb * q * (q - t1) - (b - a) * (t1 - 1.0));
                q = (q - 1.0) * (t1 - 1.0) * (t2 - 1.0);
            }
            if p > 0.0 {
                q = -q;
            } else {
                p = -p;
            }
            if p < (0.75 * cb * q - (tol_act * q).abs() / 2.0) && p < (prev_step * q / 2.0).abs() {
                new_step = p / q;
            }
        }
        if new_step.abs() < tol_act {
            new_step = if new_step > 0.0 { tol_act } else { -tol_act };
        }
        a = b;
        fa = fb;
        b += new_step;
        fb = f(b);
        if (fb > 0.0 && fc > 0.0) || (fb < 0.0 && fc < 0.0) {
            c = a;
            fc = fa;
        }
    }
    b
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn midranks_average_ties() {
        let (r, t) = midranks(&[3.0, 1.0, 3.0, 2.0, 3.0]);
        assert_eq!(r, vec![4.0, 1.0, 4.0, 2.0, 4.0]);
        assert_eq!(t, vec![1, 1, 3]);
    }

    #[test]
    fn uniroot_finds_sqrt2_within_r_tolerance() {
        let r = uniroot(|x| x * x - 2.0, 0.0, 2.0).unwrap();
        assert!((r - 2f64.sqrt()).abs() < UNIROOT_TOL);
        assert!(uniroot(|x| x * x + 1.0, 0.0, 2.0).is_none());
    }

    #[test]
    fn margins_reject_bad_tables() {
        assert!(table_margins(&[vec![1, 2]]).is_err());
        assert!(table_margins(&[vec![1, 2], vec![3]]).is_err());
        assert!(table_margins(&[vec![0, 0], vec![0, 0]]).is_err());
        let (r, c, n) = table_margins(&[vec![1, 2], vec![3, 4]]).unwrap();
        assert_eq!((r, c, n), (vec![3, 7], vec![4, 6], 10));
    }
}
