//! Nearly equal times treated as ties, as R does before every survival fit
//! (`timefix = TRUE`, the default of `survfit`, `survdiff` and `coxph`;
//! R survival's `aeqSurv`, see its vignette "Roundoff error and tied times").
//!
//! With y the sorted distinct finite times and `tol = √ε ≈ 1.49e-8`, the gap
//! `dy = y[i] − y[i−1]` is a tie when `dy ≤ tol` **or** `dy / mean(|y|) ≤ tol`
//! (relative to the mean of the distinct times, not to the values
//! themselves). A run of such gaps forms one group, and every time in the
//! group becomes the group's smallest value. Times computed in floating point
//! (for example `0.1 + 0.2` against `0.3`, or months derived two ways) then
//! tie as the data's author meant; times that differ in any realistic way are
//! left alone.
//!
//! Integer-valued times below 2^26 (days, the usual case) can never tie this
//! way — their gaps are at least 1 and their mean is below 1/tol — so they are
//! recognised in one pass and returned untouched without sorting.

use std::borrow::Cow;

use serde::Serialize;

use crate::km::R_TOLERANCE;
use crate::sort::{f64_from_key, f64_key};

/// Whether nearly equal times are tied before a fit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub enum TimeFix {
    /// R's default (`timefix = TRUE`): [`aeq_times`].
    #[default]
    R,
    /// Compare times exactly (R `timefix = FALSE`) — also for callers that
    /// already tied the times of the whole data set before splitting it, as
    /// R's `survfit(Surv(t, e) ~ g)` does.
    Exact,
}

impl TimeFix {
    /// The times a fit uses.
    pub fn apply(self, time: &[f64]) -> Cow<'_, [f64]> {
        match self {
            TimeFix::R => aeq_times(time),
            TimeFix::Exact => Cow::Borrowed(time),
        }
    }
}

/// Whether R's time fix ([`aeq_times`]) leaves every subset of a set of
/// times unchanged, `distinct` being the set's distinct finite times in
/// ascending order. Two distinct times of a subset tie when their gap is at
/// most 2^-26, or at most 2^-26 times the mean of the subset's distinct
/// |t|; a subset's gaps are never smaller than the set's smallest gap and
/// its mean never larger than the set's largest |t|, so no subset ties when
/// the smallest gap exceeds 2^-26 and 2^-26 times the largest |t| (with a
/// margin for the rounding of the mean). Fits of subsets of such times can
/// then compare them exactly ([`TimeFix::Exact`]) with the same result.
pub fn untied_in_every_subset(distinct: &[f64]) -> bool {
    if distinct.iter().any(|t| !t.is_finite()) {
        return false;
    }
    let (Some(first), Some(last)) = (distinct.first(), distinct.last()) else {
        return true;
    };
    let max_abs = first.abs().max(last.abs());
    // (one time or none: no gap, nothing to tie)
    let mut min_gap = f64::INFINITY;
    for w in distinct.windows(2) {
        let gap = w[1] - w[0];
        if gap <= 0.0 {
            // not ascending and distinct: no claim
            return false;
        }
        min_gap = min_gap.min(gap);
    }
    min_gap > R_TOLERANCE && min_gap > R_TOLERANCE * (max_abs * (1.0 + 1e-9))
}

/// Mean as R's `mean()` computes it: the sum divided by n, refined by the
/// mean of the residuals (R accumulates in extended precision; compensated
/// summation stands in for it here).
fn r_mean(v: &[f64]) -> f64 {
    let n = v.len() as f64;
    let neumaier = |it: &mut dyn Iterator<Item = f64>| {
        let (mut s, mut c) = (0.0f64, 0.0f64);
        for x in it {
            let t = s + x;
            c += if s.abs() >= x.abs() {
                (s - t) + x
            } else {
                (x - t) + s
            };
            s = t;
        }
        s + c
    };
    let m = neumaier(&mut v.iter().copied()) / n;
    m + neumaier(&mut v.iter().map(|x| x - m)) / n
}

/// R's `aeqSurv` on a vector of times: each time replaced by the smallest
/// member of its group of nearly equal times (see the module docs). Borrowed
/// when nothing changes; non-finite values are left as they are.
pub fn aeq_times(time: &[f64]) -> Cow<'_, [f64]> {
    const LIMIT: f64 = 67_108_864.0; // 2^26 = 1 / R_TOLERANCE
    if time.iter().all(|&t| t.fract() == 0.0 && t.abs() < LIMIT) {
        return Cow::Borrowed(time);
    }
    let keys = crate::sort::sorted_distinct_of(
        time.len(),
        time.iter().filter(|t| t.is_finite()).map(|&t| f64_key(t)),
    );
    let y: Vec<f64> = keys.iter().map(|&k| f64_from_key(k)).collect();
    if y.len() < 2 {
        return Cow::Borrowed(time);
    }
    let abs: Vec<f64> = y.iter().map(|v| v.abs()).collect();
    let mean = r_mean(&abs);
    // representative (smallest member of the group) of each distinct time
    let mut rep = y.clone();
    let mut any = false;
    for i in 1..y.len() {
        let dy = y[i] - y[i - 1];
        if dy <= R_TOLERANCE || dy / mean <= R_TOLERANCE {
            rep[i] = rep[i - 1];
            any = true;
        }
    }
    if !any {
        return Cow::Borrowed(time);
    }
    Cow::Owned(
        time.iter()
            .map(|&t| {
                if t.is_finite() {
                    let i = keys
                        .binary_search(&f64_key(t))
                        .expect("every finite time is a key");
                    rep[i]
                } else {
                    t
                }
            })
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integer_days_are_untouched_without_work() {
        let t = [0.0, 1.0, 1.0, 365.0, 10_000.0];
        assert!(matches!(aeq_times(&t), Cow::Borrowed(_)));
    }

    #[test]
    fn roundoff_ties_join_the_smaller_value() {
        let a = 0.1 + 0.2; // 0.30000000000000004
        let t = [0.3, a, 0.5, 1.5, 0.3];
        let f = aeq_times(&t);
        assert!(matches!(f, Cow::Owned(_)));
        assert_eq!(&*f, &[0.3, 0.3, 0.5, 1.5, 0.3]);
        // distinct decimal times stay distinct
        let t = [0.3, 0.30001, 1.25, 2.5];
        assert!(matches!(aeq_times(&t), Cow::Borrowed(_)));
    }

    #[test]
    fn gaps_chain_and_are_judged_against_the_mean() {
        // a chain of gaps each below tolerance: all join the first value
        let base = 10.0;
        let step = 0.9 * R_TOLERANCE * 5.0; // relative to mean ≈ 5.5
        let t = [base, base + step, base + 2.0 * step, 1.0];
        let f = aeq_times(&t);
        assert_eq!(&*f, &[base, base, base, 1.0]);
        // the relative test uses the mean of the distinct times: a gap of
        // 0.01 ties when the times average ~1.5e6 (as R does)
        let t = [1.0, 1.01, 2e6, 4e6];
        assert_eq!(&*aeq_times(&t), &[1.0, 1.0, 2e6, 4e6]);
        // ...and an absolute gap below tolerance always ties
        let t = [1e-9, 2e-9, 3.5];
        assert_eq!(&*aeq_times(&t), &[1e-9, 1e-9, 3.5]);
    }
}
