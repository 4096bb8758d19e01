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
    match aeq_groups(&[time]) {
        None => Cow::Borrowed(time),
        Some(g) => Cow::Owned(g.map(time)),
    }
}

/// [`aeq_times`] of two vectors taken as one (R's `aeqSurv` of counting
/// data ties start and stop times together): the same result as
/// [`aeq_times`] of `a` followed by `b`, split back, without the joined
/// copy. `None` when nothing changes (the common case: no copy at all).
pub fn aeq_times_pair(a: &[f64], b: &[f64]) -> Option<(Vec<f64>, Vec<f64>)> {
    let g = aeq_groups(&[a, b])?;
    Some((g.map(a), g.map(b)))
}

/// The distinct finite times of a set (as sort keys) and the representative
/// of each ([`aeq_times`]).
struct AeqGroups {
    keys: Vec<u64>,
    rep: Vec<f64>,
}

impl AeqGroups {
    /// Each time replaced by its group's representative.
    fn map(&self, time: &[f64]) -> Vec<f64> {
        time.iter()
            .map(|&t| {
                if t.is_finite() {
                    let i = self
                        .keys
                        .binary_search(&f64_key(t))
                        .expect("every finite time is a key");
                    self.rep[i]
                } else {
                    t
                }
            })
            .collect()
    }
}

/// The groups of nearly equal times among all of `parts` together, `None`
/// when no two distinct times tie.
fn aeq_groups(parts: &[&[f64]]) -> Option<AeqGroups> {
    const LIMIT: f64 = 67_108_864.0; // 2^26 = 1 / R_TOLERANCE
    if parts
        .iter()
        .all(|p| p.iter().all(|&t| t.fract() == 0.0 && t.abs() < LIMIT))
    {
        return None;
    }
    let keys = crate::sort::sorted_distinct_of(
        parts.iter().map(|p| p.len()).sum(),
        parts
            .iter()
            .flat_map(|p| p.iter())
            .filter(|t| t.is_finite())
            .map(|&t| f64_key(t)),
    );
    let y: Vec<f64> = keys.iter().map(|&k| f64_from_key(k)).collect();
    if y.len() < 2 {
        return None;
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
    any.then_some(AeqGroups { keys, rep })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pair_is_fixed_as_the_two_joined() {
        let a = 0.1 + 0.2; // 0.30000000000000004
        let cases: [(Vec<f64>, Vec<f64>); 5] = [
            // a start ties with a stop only across the two
            (vec![0.0, 0.3, 1.0], vec![a, 2.0, 3.0]),
            // nothing ties: no copy
            (vec![0.0, 0.25, 1.0], vec![0.5, 2.0, 3.0]),
            // whole days: no work
            (vec![0.0, 3.0], vec![3.0, 7.0]),
            // non-finite values stay, ties within each part join
            (
                vec![f64::NEG_INFINITY, 1.0, 1.0 + 1e-12],
                vec![a, 0.3, f64::NAN],
            ),
            (vec![], vec![1.0, 1.0 + 1e-10]),
        ];
        for (s, t) in cases {
            let joined: Vec<f64> = s.iter().chain(&t).copied().collect();
            let want = aeq_times(&joined);
            match aeq_times_pair(&s, &t) {
                None => assert!(matches!(want, Cow::Borrowed(_)), "{s:?} {t:?}"),
                Some((fs, ft)) => {
                    assert!(matches!(want, Cow::Owned(_)), "{s:?} {t:?}");
                    let got: Vec<f64> = fs.iter().chain(&ft).copied().collect();
                    let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
                    assert_eq!(bits(&got), bits(&want), "{s:?} {t:?}");
                }
            }
        }
        // the first case really ties across the parts
        let (fs, ft) = aeq_times_pair(&[0.0, 0.3], &[a, 2.0]).expect("a tie");
        assert_eq!((fs, ft), (vec![0.0, 0.3], vec![0.3, 2.0]));
    }

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
