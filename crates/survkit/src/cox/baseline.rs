//! Baseline cumulative hazard of a fitted Cox model with the Efron
//! correction for tied deaths, as R's `survfit(coxph(..., ties = "efron"))`
//! computes it (Therneau & Grambsch 2000, §10.2):
//!
//! H₀(t) = Σ_{event times s ≤ t} Σ_{m=0}^{d_s−1} 1 / (R(s) − (m/d_s)·D(s)),
//!
//! where R(s) is the sum of the risk scores exp(x·β − x̄·β) of the rows at
//! risk at s (time ≥ s), D(s) the sum over the d_s rows that die at s.
//! Right-censored, unweighted, unstratified data; the risk scores are
//! centred as R centres them, so S_i(t) = exp(−H₀(t)·r_i).

/// The baseline cumulative hazard as a step function: `times[k]` are the
/// distinct event times (ascending), `cumhaz[k]` the value from `times[k]`
/// on (0 before the first event time).
#[derive(Debug, Clone, PartialEq)]
pub struct BaselineHazard {
    /// Distinct event times, ascending.
    pub times: Vec<f64>,
    /// Cumulative hazard at each of `times` (right-continuous step).
    pub cumhaz: Vec<f64>,
}

impl BaselineHazard {
    /// H₀(t): the value at the last event time ≤ `t` (0 before the first).
    pub fn at(&self, t: f64) -> f64 {
        let m = self.times.partition_point(|&x| x <= t);
        if m == 0 {
            0.0
        } else {
            self.cumhaz[m - 1]
        }
    }
}

/// Efron-corrected baseline cumulative hazard from the rows' follow-up
/// `time`, `event` indicator and centred risk scores `risk` (all aligned,
/// one entry per row; `risk[i]` = exp of row i's centred linear predictor).
/// O(n log n). Times must be finite (the caller's fit has checked them).
pub fn efron_baseline(time: &[f64], event: &[bool], risk: &[f64]) -> BaselineHazard {
    let n = time.len();
    let ord = crate::sort::order_by_total(time);
    let mut suffix = vec![0.0; n + 1];
    for k in (0..n).rev() {
        suffix[k] = suffix[k + 1] + risk[ord[k]];
    }
    let (mut times, mut cumhaz) = (vec![], vec![]);
    let mut cum = 0.0;
    let mut k = 0;
    while k < n {
        let t = time[ord[k]];
        let mut e = k;
        while e < n && time[ord[e]] == t {
            e += 1;
        }
        let deaths: Vec<usize> = (k..e).map(|j| ord[j]).filter(|&i| event[i]).collect();
        if !deaths.is_empty() {
            let dd = deaths.len() as f64;
            let sd: f64 = deaths.iter().map(|&i| risk[i]).sum();
            let sr = suffix[k];
            cum += (0..deaths.len())
                .map(|m| 1.0 / (sr - m as f64 / dd * sd))
                .sum::<f64>();
            times.push(t);
            cumhaz.push(cum);
        }
        k = e;
    }
    BaselineHazard { times, cumhaz }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hand_computed_with_a_tie() {
        // times 1,2,2,3; deaths at 1 and both at 2; risk scores 1,2,3,4
        let b = efron_baseline(
            &[1.0, 2.0, 2.0, 3.0],
            &[true, true, true, false],
            &[1.0, 2.0, 3.0, 4.0],
        );
        assert_eq!(b.times, vec![1.0, 2.0]);
        let h1 = 1.0 / 10.0;
        let h2 = h1 + 1.0 / 9.0 + 1.0 / (9.0 - 0.5 * 5.0);
        assert!((b.cumhaz[0] - h1).abs() < 1e-15);
        assert!((b.cumhaz[1] - h2).abs() < 1e-15);
        assert_eq!(b.at(0.5), 0.0);
        assert_eq!(b.at(2.5), b.cumhaz[1]);
        assert_eq!(b.at(1.0), h1);
    }
}
