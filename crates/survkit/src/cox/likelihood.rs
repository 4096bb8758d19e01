//! Cox partial log-likelihood, score vector and information matrix.
//!
//! For subjects sorted by stratum and time, with risk score `r_i = exp(x_iᵀβ)`,
//! at each distinct event time with `d` deaths (set D), risk-set sums
//! `S0 = Σ_{R} r`, `S1 = Σ_{R} r x`, `S2 = Σ_{R} r x xᵀ` and death sums
//! `S0ᴰ, S1ᴰ, S2ᴰ` over D:
//!
//! * **Breslow** (1974): `ℓ += Σ_D x ᵀβ − d·log S0`, `U += Σ_D x − d·S1/S0`,
//!   `I += d·(S2/S0 − S1 S1ᵀ/S0²)`.
//! * **Efron** (1977): for k = 0..d−1 use `S0ₖ = S0 − (k/d)·S0ᴰ` (likewise S1ₖ, S2ₖ)
//!   in place of S0 for the k-th death — R's default (`ties = "efron"`).
//! * **Exact** (Kalbfleisch & Prentice 1973, 2002 §4.2; Cox's discrete
//!   logistic model with exact partial likelihood, R `ties = "exact"`):
//!   `ℓ += Σ_D x ᵀβ − log Q`, `Q = Σ_{S ⊂ R, |S| = d} Π_{i∈S} r_i` summed over
//!   every d-subset of the risk set, `U += Σ_D x − ∂Q/Q`,
//!   `I += ∂²Q/Q − (∂Q/Q)(∂Q/Q)ᵀ`. Q and its derivatives follow the recursion
//!   of Gail, Lubin & Rubinstein (1981) used by R's `coxexact.c`:
//!   `Q(d, m) = Q(d, m−1) + r_m Q(d−1, m−1)` over the first m members of the
//!   risk set, `Q(0, ·) = 1` — O(d · |R| · p²) per tied event time. With a
//!   single death it reduces to the Breslow/Efron term.
//!
//! This is R's `coxfit6` computed from the largest time downwards, so each
//! evaluation is O(n p²) after one O(n log n) sort. Covariates are centred at
//! their means first, as R does (the likelihood is unchanged, the arithmetic
//! is better conditioned).

use super::Ties;

/// Sorted, centred model data (one stratum after another, times descending within stratum).
#[derive(Debug, Clone)]
pub(crate) struct CoxData {
    /// n×p covariates, row-major, centred.
    pub x: Vec<f64>,
    pub p: usize,
    pub time: Vec<f64>,
    pub event: Vec<bool>,
    /// Stratum id per row (rows of a stratum are contiguous); empty when the
    /// model has no strata.
    pub strata: Vec<usize>,
    /// Case weight per row; empty = all 1 (the unweighted kernel).
    pub weight: Vec<f64>,
    /// Entry time per row of (start, stop] data; empty = right-censored.
    pub start: Vec<f64>,
    /// Rows ordered by stratum, then start descending (counting data only):
    /// the order in which rows leave the risk set as time decreases.
    pub start_order: Vec<usize>,
    /// Rows each row stands for (collapsed cells, `cells.rs`): its weight
    /// in every sum ([`Self::w`]), and a cell of c deaths is c steps of an
    /// Efron tie. Empty = 1 per row.
    pub count: Vec<u32>,
}

/// Log-likelihood, score and information at β.
#[derive(Debug, Clone)]
pub(crate) struct LikEval {
    pub loglik: f64,
    pub score: Vec<f64>,
    /// p×p information matrix (row-major as Vec<Vec>).
    pub imat: Vec<Vec<f64>>,
}

impl CoxData {
    /// Stratum of row i (`strata` is empty for an unstratified model).
    #[inline]
    pub fn stratum(&self, i: usize) -> usize {
        if self.strata.is_empty() {
            0
        } else {
            self.strata[i]
        }
    }

    pub fn n(&self) -> usize {
        self.time.len()
    }

    fn row(&self, i: usize) -> &[f64] {
        &self.x[i * self.p..(i + 1) * self.p]
    }

    #[inline(always)]
    fn row_p(&self, i: usize, p: usize) -> &[f64] {
        &self.x[i * p..(i + 1) * p]
    }

    /// Linear predictor x_iᵀβ for every row.
    pub fn eta(&self, beta: &[f64]) -> Vec<f64> {
        (0..self.n())
            .map(|i| self.row(i).iter().zip(beta).map(|(a, b)| a * b).sum())
            .collect()
    }

    /// Work of one exact-likelihood evaluation: Σ over event times with d > 1
    /// tied deaths of `d · |risk set| · (p(p+1)/2 + p + 1)` (R's `coxexact` memory).
    pub fn exact_work(&self) -> u64 {
        let p = self.p as u64;
        let per = p * (p + 1) / 2 + p + 1;
        let n = self.n();
        let mut work = 0u64;
        let mut nrisk = 0u64;
        let mut i = 0;
        while i < n {
            if i == 0 || self.stratum(i) != self.stratum(i - 1) {
                nrisk = 0;
            }
            let (t, st) = (self.time[i], self.stratum(i));
            let mut d = 0u64;
            while i < n && self.time[i] == t && self.stratum(i) == st {
                nrisk += 1;
                d += u64::from(self.event[i]);
                i += 1;
            }
            if d > 1 {
                work = work.saturating_add(d.saturating_mul(nrisk).saturating_mul(per));
            }
        }
        work
    }

    /// Weight of row i: its case weight, or a collapsed cell's row count,
    /// or 1.
    #[inline]
    pub fn w(&self, i: usize) -> f64 {
        match (self.weight.get(i), self.count.get(i)) {
            (Some(&w), _) => w,
            (None, Some(&c)) => f64::from(c),
            (None, None) => 1.0,
        }
    }

    /// True when the data need the general (weighted / counting) kernel:
    /// case weights, (start, stop] rows or collapsed cells.
    pub fn is_general(&self) -> bool {
        !self.weight.is_empty() || !self.start.is_empty() || !self.count.is_empty()
    }

    /// Evaluate ℓ(β), U(β), I(β).
    pub fn evaluate(&self, beta: &[f64], ties: Ties) -> LikEval {
        if self.is_general() {
            return self.evaluate_general(beta, ties);
        }
        if ties == Ties::Exact {
            return self.evaluate_exact(beta);
        }
        match self.p {
            1 => self.evaluate_sums::<1>(beta, ties),
            2 => self.evaluate_sums::<2>(beta, ties),
            3 => self.evaluate_sums::<3>(beta, ties),
            4 => self.evaluate_sums::<4>(beta, ties),
            5 => self.evaluate_sums::<5>(beta, ties),
            6 => self.evaluate_sums::<6>(beta, ties),
            7 => self.evaluate_sums::<7>(beta, ties),
            8 => self.evaluate_sums::<8>(beta, ties),
            _ => self.evaluate_sums::<0>(beta, ties),
        }
    }

    /// Breslow/Efron evaluation; `P > 0` fixes the number of covariates at
    /// compile time (loops unrolled, no bounds checks: about 30% faster for
    /// the usual handful of covariates), `P = 0` reads it from the data.
    /// Every sum is formed in the same order either way, so results are
    /// bit-identical.
    fn evaluate_sums<const P: usize>(&self, beta: &[f64], ties: Ties) -> LikEval {
        let p = if P == 0 { self.p } else { P };
        let n = self.n();
        let mut loglik = 0.0;
        let mut u = vec![0.0; p];
        let mut imat = vec![vec![0.0; p]; p];
        // risk-set accumulators
        let mut s0 = 0.0;
        let mut s1 = vec![0.0; p];
        let mut s2 = vec![0.0; p * p];
        // death accumulators at the current time
        let mut d0;
        let mut d1 = vec![0.0; p];
        let mut d2 = vec![0.0; p * p];
        let mut i = 0;
        while i < n {
            if i == 0 || self.stratum(i) != self.stratum(i - 1) {
                s0 = 0.0;
                s1.iter_mut().for_each(|v| *v = 0.0);
                s2.iter_mut().for_each(|v| *v = 0.0);
            }
            // all rows at this time (within stratum) enter the risk set
            let t = self.time[i];
            let st = self.stratum(i);
            let mut j = i;
            d0 = 0.0;
            d1.iter_mut().for_each(|v| *v = 0.0);
            d2.iter_mut().for_each(|v| *v = 0.0);
            let mut ndead = 0usize;
            let mut sum_eta_dead = 0.0;
            while j < n && self.time[j] == t && self.stratum(j) == st {
                let x = self.row_p(j, p);
                // linear predictor fused into the pass (no separate η vector)
                let eta_j: f64 = x.iter().zip(beta).map(|(a, b)| a * b).sum();
                let r = eta_j.exp();
                s0 += r;
                // full p×p products with fixed-length rows vectorise well;
                // only the lower triangle is read below
                for (k, (s1k, s2row)) in s1.iter_mut().zip(s2.chunks_exact_mut(p)).enumerate() {
                    let rx = r * x[k];
                    *s1k += rx;
                    for (s, xl) in s2row.iter_mut().zip(x) {
                        *s += rx * xl;
                    }
                }
                if self.event[j] {
                    ndead += 1;
                    sum_eta_dead += eta_j;
                    d0 += r;
                    for (k, (d1k, d2row)) in d1.iter_mut().zip(d2.chunks_exact_mut(p)).enumerate() {
                        let rx = r * x[k];
                        *d1k += rx;
                        u[k] += x[k];
                        for (s, xl) in d2row.iter_mut().zip(x) {
                            *s += rx * xl;
                        }
                    }
                }
                j += 1;
            }
            if ndead > 0 {
                loglik += sum_eta_dead;
                // Sums over the tied deaths of the Efron (or Breslow) terms,
                // with f_k = k/d (Efron) or 0 with multiplicity d (Breslow):
                //   A = Σ 1/den_k, B = Σ f_k/den_k, C = Σ 1/den_k², E = Σ f_k/den_k²,
                //   F = Σ f_k²/den_k², den_k = S0 − f_k·S0ᴰ.
                // Then U −= A·S1 − B·S1ᴰ and
                //   I += A·S2 − B·S2ᴰ − (C·S1S1ᵀ − E·(S1S1ᴰᵀ + S1ᴰS1ᵀ) + F·S1ᴰS1ᴰᵀ),
                // which is the per-death sum written in O(d + p²) instead of O(d·p²).
                let dd = ndead as f64;
                let (mut sa, mut sb, mut sc, mut se, mut sf) = (0.0, 0.0, 0.0, 0.0, 0.0);
                match ties {
                    Ties::Breslow | Ties::Exact => {
                        loglik -= dd * s0.ln();
                        sa = dd / s0;
                        sc = dd / (s0 * s0);
                    }
                    Ties::Efron => {
                        let logs = efron_steps(s0, d0, ndead, |f, inv| {
                            let inv2 = inv * inv;
                            sa += inv;
                            sb += f * inv;
                            sc += inv2;
                            se += f * inv2;
                            sf += f * f * inv2;
                        });
                        loglik -= logs;
                    }
                }
                for k in 0..p {
                    u[k] -= sa * s1[k] - sb * d1[k];
                }
                for k in 0..p {
                    for l in 0..=k {
                        imat[k][l] += sa * s2[k * p + l]
                            - sb * d2[k * p + l]
                            - (sc * s1[k] * s1[l] - se * (s1[k] * d1[l] + d1[k] * s1[l])
                                + sf * d1[k] * d1[l]);
                    }
                }
            }
            i = j;
        }
        for k in 0..p {
            for l in 0..k {
                imat[l][k] = imat[k][l];
            }
        }
        LikEval {
            loglik,
            score: u,
            imat,
        }
    }

    /// Breslow/Efron with case weights and/or (start, stop] rows — R's
    /// `coxfit6` with weights and `agfit4`. Rows enter the risk set at their
    /// stop time (walking time downwards) and leave once their start is ≥ the
    /// current event time (S0 and S1 are downdated, and zeroed whenever the
    /// risk set is empty, as agfit4 does). At a time with d tied death rows,
    /// `S0 = Σ_R w r`, `S0ᴰ = Σ_D w r` and the death weight `W = Σ_D w`:
    /// Breslow `ℓ += Σ_D w η − W log S0`; Efron
    /// `ℓ += Σ_D w η − (W/d) Σ_k log(S0 − (k/d) S0ᴰ)` (R's weighted Efron:
    /// d counts rows, not weights), and likewise for U and I.
    ///
    /// The risk-set second moment is never formed. The information's
    /// `Σ_t A_t S2(t) − B_t S2ᴰ(t)` (A, B the Efron sums below) is
    /// `Σ_i w_i r_i x_i x_iᵀ c_i` with `c_i = Σ_{t: start_i < t ≤ stop_i} A_t
    /// − [δ_i] B_{stop_i}`, and `c_i` is a difference of the running sum of A
    /// between the row's entry and its exit; so each row costs one p² product
    /// instead of an update and a downdate (plus one for a death), which puts
    /// (start, stop] data at the cost of right-censored data. This is the same
    /// sum in another order (agreement with agfit4 to rounding), and it has no
    /// downdating cancellation in S2.
    fn evaluate_general(&self, beta: &[f64], ties: Ties) -> LikEval {
        match self.p {
            1 => self.evaluate_general_sums::<1>(beta, ties),
            2 => self.evaluate_general_sums::<2>(beta, ties),
            3 => self.evaluate_general_sums::<3>(beta, ties),
            4 => self.evaluate_general_sums::<4>(beta, ties),
            5 => self.evaluate_general_sums::<5>(beta, ties),
            6 => self.evaluate_general_sums::<6>(beta, ties),
            7 => self.evaluate_general_sums::<7>(beta, ties),
            8 => self.evaluate_general_sums::<8>(beta, ties),
            _ => self.evaluate_general_sums::<0>(beta, ties),
        }
    }

    /// [`Self::evaluate_general`] with the number of covariates fixed at
    /// compile time when `P > 0` (as [`Self::evaluate_sums`]).
    fn evaluate_general_sums<const P: usize>(&self, beta: &[f64], ties: Ties) -> LikEval {
        let p = if P == 0 { self.p } else { P };
        let n = self.n();
        let counting = !self.start.is_empty();
        let mut loglik = 0.0;
        let mut u = vec![0.0; p];
        // the per-time outer-product terms of I (lower triangle)
        let mut outer = vec![0.0; p * p];
        // w·exp(η) of each row, set when it enters the risk set
        let mut wr = vec![0.0; n];
        // c_i: the running sum of A at entry (plus B for a death), replaced
        // by (running sum at exit) − that when the row leaves
        let mut coef = vec![0.0; n];
        let mut cum = 0.0;
        let mut s0 = 0.0;
        let mut s1 = vec![0.0; p];
        let mut d1 = vec![0.0; p];
        let mut in_risk = 0usize;
        let mut q = 0usize; // next row (in start_order) to leave
        let mut lo = 0usize; // first row of the current stratum
        let mut i = 0;
        // rows of the stratum that are still at risk at its earliest time
        // leave with the final running sum
        let finish = |lo: usize, hi: usize, q: &mut usize, cum: f64, coef: &mut [f64]| {
            if counting {
                let st = self.stratum(lo);
                while *q < n && self.stratum(self.start_order[*q]) == st {
                    let r = self.start_order[*q];
                    coef[r] = cum - coef[r];
                    *q += 1;
                }
            } else {
                for c in &mut coef[lo..hi] {
                    *c = cum - *c;
                }
            }
        };
        while i < n {
            let st = self.stratum(i);
            if i > 0 && st != self.stratum(i - 1) {
                finish(lo, i, &mut q, cum, &mut coef);
                lo = i;
                s0 = 0.0;
                s1.iter_mut().for_each(|v| *v = 0.0);
                in_risk = 0;
                cum = 0.0;
            }
            let t = self.time[i];
            let mut j = i;
            let mut d0 = 0.0;
            d1.iter_mut().for_each(|v| *v = 0.0);
            let mut ndead = 0usize;
            let mut wdead = 0.0;
            while j < n && self.time[j] == t && self.stratum(j) == st {
                let x = self.row_p(j, p);
                let eta: f64 = x.iter().zip(beta).map(|(a, b)| a * b).sum();
                let w = self.w(j);
                let r = w * eta.exp();
                wr[j] = r;
                coef[j] = cum;
                s0 += r;
                in_risk += 1;
                for (s, xk) in s1.iter_mut().zip(x) {
                    *s += r * xk;
                }
                if self.event[j] {
                    ndead += self.count.get(j).map_or(1, |&c| c as usize);
                    wdead += w;
                    loglik += w * eta;
                    d0 += r;
                    for k in 0..p {
                        u[k] += w * x[k];
                        d1[k] += r * x[k];
                    }
                }
                j += 1;
            }
            // rows whose start is >= t are not at risk at t
            while counting
                && q < n
                && self.stratum(self.start_order[q]) == st
                && self.start[self.start_order[q]] >= t
            {
                let r = self.start_order[q];
                let x = self.row_p(r, p);
                let v = wr[r];
                s0 -= v;
                in_risk -= 1;
                for (s, xk) in s1.iter_mut().zip(x) {
                    *s -= v * xk;
                }
                coef[r] = cum - coef[r];
                q += 1;
            }
            if in_risk == 0 {
                s0 = 0.0;
                s1.iter_mut().for_each(|v| *v = 0.0);
            }
            if ndead > 0 {
                let dd = ndead as f64;
                let (mut sa, mut sb, mut sc, mut se, mut sf) = (0.0, 0.0, 0.0, 0.0, 0.0);
                if ties == Ties::Efron && ndead > 1 {
                    let mw = wdead / dd;
                    // (the divider bounds this loop: it runs once per
                    // death and Newton step)
                    let logs = efron_steps(s0, d0, ndead, |f, rden| {
                        let inv = mw * rden;
                        let inv2 = inv * rden;
                        sa += inv;
                        sb += f * inv;
                        sc += inv2;
                        se += f * inv2;
                        sf += f * f * inv2;
                    });
                    loglik -= mw * logs;
                } else {
                    loglik -= wdead * s0.ln();
                    sa = wdead / s0;
                    sc = wdead / (s0 * s0);
                }
                cum += sa;
                if sb != 0.0 {
                    for r in i..j {
                        if self.event[r] {
                            coef[r] += sb;
                        }
                    }
                }
                for k in 0..p {
                    u[k] -= sa * s1[k] - sb * d1[k];
                }
                for k in 0..p {
                    for l in 0..=k {
                        outer[k * p + l] -= sc * s1[k] * s1[l]
                            - se * (s1[k] * d1[l] + d1[k] * s1[l])
                            + sf * d1[k] * d1[l];
                    }
                }
            }
            i = j;
        }
        if n > 0 {
            finish(lo, n, &mut q, cum, &mut coef);
        }
        // Σ_i c_i w_i r_i x_i x_iᵀ, full p×p rows (they vectorise), the two
        // halves of the rows summed separately (on two cores when large;
        // the split is the same either way, so the bits are too)
        let moment = |rows: std::ops::Range<usize>| {
            let mut acc = vec![0.0; p * p];
            for r in rows {
                let c = coef[r] * wr[r];
                if c == 0.0 {
                    continue;
                }
                let x = self.row_p(r, p);
                for (k, arow) in acc.chunks_exact_mut(p).enumerate() {
                    let cx = c * x[k];
                    for (a, xl) in arow.iter_mut().zip(x) {
                        *a += cx * xl;
                    }
                }
            }
            acc
        };
        let h = n / 2;
        let (acc_a, acc_b) =
            crate::par::join(n >= crate::par::MIN_PAR, || moment(0..h), || moment(h..n));
        let mut imat = vec![vec![0.0; p]; p];
        for k in 0..p {
            for l in 0..=k {
                let v = (acc_a[k * p + l] + acc_b[k * p + l]) + outer[k * p + l];
                imat[k][l] = v;
                imat[l][k] = v;
            }
        }
        LikEval {
            loglik,
            score: u,
            imat,
        }
    }

    /// Exact discrete partial likelihood (see the module docs). Rows of a
    /// stratum are in descending time, so the risk set at an event time is the
    /// stratum's first rows up to the last row at that time.
    fn evaluate_exact(&self, beta: &[f64]) -> LikEval {
        let p = self.p;
        let n = self.n();
        let eta = self.eta(beta);
        let risk: Vec<f64> = eta.iter().map(|e| e.exp()).collect();
        let mut loglik = 0.0;
        let mut u = vec![0.0; p];
        let mut imat = vec![vec![0.0; p]; p];
        // single-death accumulators (as Breslow with d = 1)
        let mut s0 = 0.0;
        let mut s1 = vec![0.0; p];
        let mut s2 = vec![0.0; p * p];
        // recursion tables indexed by subset size: q0[k], q1[k*p+j], q2[(k*p+j)*p+l]
        let mut q0: Vec<f64> = vec![];
        let mut q1: Vec<f64> = vec![];
        let mut q2: Vec<f64> = vec![];
        let mut start = 0;
        let mut i = 0;
        while i < n {
            if i == 0 || self.stratum(i) != self.stratum(i - 1) {
                start = i;
                s0 = 0.0;
                s1.iter_mut().for_each(|v| *v = 0.0);
                s2.iter_mut().for_each(|v| *v = 0.0);
            }
            let (t, st) = (self.time[i], self.stratum(i));
            let mut ndead = 0usize;
            while i < n && self.time[i] == t && self.stratum(i) == st {
                let r = risk[i];
                let x = self.row(i);
                s0 += r;
                for k in 0..p {
                    s1[k] += r * x[k];
                    for l in 0..=k {
                        s2[k * p + l] += r * x[k] * x[l];
                    }
                }
                if self.event[i] {
                    ndead += 1;
                    loglik += eta[i];
                    for k in 0..p {
                        u[k] += x[k];
                    }
                }
                i += 1;
            }
            if ndead == 0 {
                continue;
            }
            if ndead == 1 {
                loglik -= s0.ln();
                for k in 0..p {
                    u[k] -= s1[k] / s0;
                    for l in 0..=k {
                        imat[k][l] += s2[k * p + l] / s0 - s1[k] * s1[l] / (s0 * s0);
                    }
                }
                continue;
            }
            // Gail et al. recursion over the risk set rows start..i
            let d = ndead;
            q0.clear();
            q0.resize(d + 1, 0.0);
            q1.clear();
            q1.resize((d + 1) * p, 0.0);
            q2.clear();
            q2.resize((d + 1) * p * p, 0.0);
            q0[0] = 1.0;
            for (m, row) in (start..i).enumerate() {
                let r = risk[row];
                let x = self.row(row);
                let top = d.min(m + 1);
                for k in (1..=top).rev() {
                    let (b0, b1) = ((k - 1) * p, k * p);
                    let q0prev = q0[k - 1];
                    for j in 0..p {
                        for l in 0..=j {
                            let v = x[j] * x[l] * q0prev
                                + q2[(b0 + j) * p + l]
                                + x[j] * q1[b0 + l]
                                + x[l] * q1[b0 + j];
                            q2[(b1 + j) * p + l] += r * v;
                        }
                    }
                    for j in 0..p {
                        q1[b1 + j] += r * (x[j] * q0prev + q1[b0 + j]);
                    }
                    q0[k] += r * q0prev;
                }
            }
            let den = q0[d];
            loglik -= den.ln();
            let b = d * p;
            for j in 0..p {
                let a = q1[b + j] / den;
                u[j] -= a;
                for l in 0..=j {
                    imat[j][l] += q2[(b + j) * p + l] / den - a * q1[b + l] / den;
                }
            }
        }
        for k in 0..p {
            for l in 0..k {
                imat[l][k] = imat[k][l];
            }
        }
        LikEval {
            loglik,
            score: u,
            imat,
        }
    }
}

/// The steps of a set of `ndead` tied deaths under Efron's approximation,
/// `f_k = k/d` and `den_k = S0 − f_k·S0ᴰ` for k = 0..d: calls
/// `each(f_k, 1/den_k)` in step order and returns `Σ_k log den_k` (as
/// `efron_log_sum`, the tests' reference: one logarithm per 8 steps, the
/// same bits).
///
/// The steps' divisions are independent of each other, so they are made a
/// block at a time into small arrays (the compiler vectorises them: two or
/// more divisions per instruction instead of three scalar ones per step);
/// the caller's sums are then formed one step at a time in step order, so
/// every bit is as in the one-loop form.
#[inline(always)]
fn efron_steps(s0: f64, d0: f64, ndead: usize, mut each: impl FnMut(f64, f64)) -> f64 {
    const LOG_BLOCK: usize = 8;
    const BLOCK: usize = 8 * LOG_BLOCK;
    // k as f64 for k in 0..BLOCK: (base + k) is exact, so f_k has the bits
    // of (step as f64) / d
    const OFFSETS: [f64; BLOCK] = {
        let mut o = [0.0; BLOCK];
        let mut k = 0;
        while k < BLOCK {
            o[k] = k as f64;
            k += 1;
        }
        o
    };
    let dd = ndead as f64;
    let mut f = [0.0; BLOCK];
    let mut den = [0.0; BLOCK];
    let mut inv = [0.0; BLOCK];
    let mut total = 0.0;
    let mut step = 0;
    while step < ndead {
        let m = (ndead - step).min(BLOCK);
        let base = step as f64;
        for k in 0..m {
            f[k] = (base + OFFSETS[k]) / dd;
            den[k] = s0 - f[k] * d0;
            inv[k] = 1.0 / den[k];
        }
        for d in den[..m].chunks(LOG_BLOCK) {
            let prod: f64 = d.iter().product();
            if prod.is_finite() && prod >= f64::MIN_POSITIVE {
                total += prod.ln();
            } else {
                total += d.iter().map(|v| v.ln()).sum::<f64>();
            }
        }
        for k in 0..m {
            each(f[k], inv[k]);
        }
        step += m;
    }
    total
}

/// Σ_{k<d} ln(S0 − (k/d)·S0ᴰ), the log terms of a tied death set of size
/// `d` under Efron's approximation, as the log of products of 8 terms at a
/// time (one logarithm per 8 deaths instead of one per death: a set of 10^3
/// tied deaths is common at 10^6 rows); a block whose product is not a
/// positive normal number (overflow, underflow, a non-positive term) is
/// summed term by term. Written one step at a time: the tests' reference
/// for [`efron_steps`].
#[cfg(test)]
fn efron_log_sum(s0: f64, d0: f64, ndead: usize) -> f64 {
    const BLOCK: usize = 8;
    let dd = ndead as f64;
    let den = |step: usize| s0 - (step as f64 / dd) * d0;
    let mut total = 0.0;
    let mut step = 0;
    while step < ndead {
        let end = (step + BLOCK).min(ndead);
        let prod: f64 = (step..end).map(den).product();
        if prod.is_finite() && prod >= f64::MIN_POSITIVE {
            total += prod.ln();
        } else {
            total += (step..end).map(|k| den(k).ln()).sum::<f64>();
        }
        step = end;
    }
    total
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Tied death sets (S0, S0ᴰ, d): sizes at the blocks' edges (1, 8, 9,
    /// 63, 64, 65, 129), large sets, and sets whose log blocks overflow or
    /// underflow (summed term by term).
    const EFRON_SETS: &[(f64, f64, usize)] = &[
        (10.0, 3.0, 1),
        (10.0, 3.0, 2),
        (10.0, 9.999, 7),
        (1234.5, 80.25, 8),
        (1234.5, 80.25, 9),
        (1234.5, 80.25, 63),
        (1234.5, 80.25, 64),
        (1234.5, 80.25, 65),
        (1234.5, 1234.0, 129),
        (5.0e5, 2.0e3, 1000),
        (1.0e300, 1.0e299, 20),
        (1.0e-300, 1.0e-301, 20),
        (1.0e-300, 1.0e-301, 100),
    ];

    #[test]
    fn efron_steps_are_the_steps_one_at_a_time() {
        // every bit as the one-loop form, also where a term is not
        // positive (NaN and infinite logarithms and reciprocals)
        let degenerate: &[(f64, f64, usize)] = &[(1.0, 4.0, 4), (1.0, 2.0, 2), (0.0, 0.0, 1)];
        for &(s0, d0, d) in EFRON_SETS.iter().chain(degenerate) {
            let mut got = Vec::new();
            let logs = efron_steps(s0, d0, d, |f, inv| got.push((f, inv)));
            let want: Vec<(f64, f64)> = (0..d)
                .map(|step| {
                    let f = step as f64 / d as f64;
                    (f, 1.0 / (s0 - f * d0))
                })
                .collect();
            assert_eq!(got.len(), d);
            for (k, (a, b)) in got.iter().zip(&want).enumerate() {
                assert_eq!(a.0.to_bits(), b.0.to_bits(), "f, {s0} {d0} {d} step {k}");
                assert_eq!(
                    a.1.to_bits(),
                    b.1.to_bits(),
                    "1/den, {s0} {d0} {d} step {k}"
                );
            }
            assert_eq!(
                logs.to_bits(),
                efron_log_sum(s0, d0, d).to_bits(),
                "{s0} {d0} {d}"
            );
        }
    }

    #[test]
    fn efron_log_sum_is_the_sum_of_the_logs() {
        let naive = |s0: f64, d0: f64, d: usize| -> f64 {
            (0..d).map(|k| (s0 - (k as f64 / d as f64) * d0).ln()).sum()
        };
        for &(s0, d0, d) in EFRON_SETS {
            let (a, b) = (efron_log_sum(s0, d0, d), naive(s0, d0, d));
            assert!(
                (a - b).abs() <= 1e-13 * b.abs().max(1.0),
                "s0 {s0} d0 {d0} d {d}: {a} vs {b}"
            );
        }
        // a non-positive term gives what its logarithm gives
        assert!(efron_log_sum(1.0, 4.0, 4).is_nan());
        assert_eq!(efron_log_sum(1.0, 2.0, 2), f64::NEG_INFINITY);
    }

    /// Weighted (start, stop] rows with strata and heavy ties, sorted as
    /// `cox_fit_rows` sorts them.
    fn counting_data(seed: u64, n: usize, p: usize, counting: bool) -> CoxData {
        let mut s = seed;
        let mut rnd = || {
            s = s
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (s >> 11) as f64 / (1u64 << 53) as f64
        };
        let mut rows: Vec<(usize, f64, f64, bool, f64, Vec<f64>)> = (0..n)
            .map(|_| {
                let st = (rnd() * 3.0) as usize;
                let a = (rnd() * 6.0).floor();
                let b = a + 1.0 + (rnd() * 5.0).floor();
                let x: Vec<f64> = (0..p).map(|_| rnd() * 2.0 - 1.0).collect();
                (
                    st,
                    if counting { a } else { 0.0 },
                    b,
                    rnd() < 0.6,
                    0.2 + 2.0 * rnd(),
                    x,
                )
            })
            .collect();
        rows.sort_by(|a, b| a.0.cmp(&b.0).then(b.2.total_cmp(&a.2)));
        let mut d = CoxData {
            x: rows.iter().flat_map(|r| r.5.clone()).collect(),
            p,
            time: rows.iter().map(|r| r.2).collect(),
            event: rows.iter().map(|r| r.3).collect(),
            strata: rows.iter().map(|r| r.0).collect(),
            weight: rows.iter().map(|r| r.4).collect(),
            start: if counting {
                rows.iter().map(|r| r.1).collect()
            } else {
                vec![]
            },
            start_order: vec![],
            count: vec![],
        };
        if counting {
            let mut so: Vec<usize> = (0..n).collect();
            so.sort_by(|&a, &b| {
                d.strata[a]
                    .cmp(&d.strata[b])
                    .then(d.start[b].total_cmp(&d.start[a]))
            });
            d.start_order = so;
        }
        d
    }

    /// ℓ, U, I by the definition: at every event time the risk set and its
    /// sums formed from scratch (O(n²)).
    fn naive(d: &CoxData, beta: &[f64], ties: Ties) -> LikEval {
        let (n, p) = (d.n(), d.p);
        let eta = d.eta(beta);
        let mut times: Vec<(usize, f64)> = (0..n)
            .filter(|&i| d.event[i])
            .map(|i| (d.strata[i], d.time[i]))
            .collect();
        times.sort_by(|a, b| a.0.cmp(&b.0).then(a.1.total_cmp(&b.1)));
        times.dedup();
        let (mut ll, mut u, mut im) = (0.0, vec![0.0; p], vec![vec![0.0; p]; p]);
        for (st, t) in times {
            let at_risk = |i: usize| {
                d.strata[i] == st && d.time[i] >= t && (d.start.is_empty() || d.start[i] < t)
            };
            let dead: Vec<usize> = (0..n)
                .filter(|&i| at_risk(i) && d.event[i] && d.time[i] == t)
                .collect();
            let risk: Vec<usize> = (0..n).filter(|&i| at_risk(i)).collect();
            let m = dead.len() as f64;
            let wd: f64 = dead.iter().map(|&i| d.w(i)).sum();
            let steps = if ties == Ties::Efron { dead.len() } else { 1 };
            for k in 0..steps {
                let f = if ties == Ties::Efron {
                    k as f64 / m
                } else {
                    0.0
                };
                let wt = if ties == Ties::Efron { wd / m } else { wd };
                let (mut s0, mut s1, mut s2) = (0.0, vec![0.0; p], vec![vec![0.0; p]; p]);
                for &i in &risk {
                    let dn = if dead.contains(&i) { 1.0 - f } else { 1.0 };
                    let r = d.w(i) * eta[i].exp() * dn;
                    let x = d.row(i);
                    s0 += r;
                    for a in 0..p {
                        s1[a] += r * x[a];
                        for b in 0..p {
                            s2[a][b] += r * x[a] * x[b];
                        }
                    }
                }
                ll -= wt * s0.ln();
                for a in 0..p {
                    u[a] -= wt * s1[a] / s0;
                    for b in 0..p {
                        im[a][b] += wt * (s2[a][b] / s0 - s1[a] * s1[b] / (s0 * s0));
                    }
                }
            }
            for &i in &dead {
                ll += d.w(i) * eta[i];
                for a in 0..p {
                    u[a] += d.w(i) * d.row(i)[a];
                }
            }
        }
        LikEval {
            loglik: ll,
            score: u,
            imat: im,
        }
    }

    #[test]
    fn general_kernel_matches_the_definition() {
        for (seed, p, counting) in [
            (1, 1, true),
            (2, 3, true),
            (3, 5, false),
            (4, 9, true),
            (5, 2, false),
        ] {
            let d = counting_data(seed, 150, p, counting);
            let beta: Vec<f64> = (0..p).map(|k| 0.3 - 0.2 * k as f64).collect();
            for ties in [Ties::Efron, Ties::Breslow] {
                let got = d.evaluate(&beta, ties);
                let want = naive(&d, &beta, ties);
                let close = |a: f64, b: f64| (a - b).abs() <= 1e-11 * b.abs().max(1.0);
                assert!(
                    close(got.loglik, want.loglik),
                    "{seed} {ties:?} {} {}",
                    got.loglik,
                    want.loglik
                );
                for a in 0..p {
                    assert!(close(got.score[a], want.score[a]), "{seed} {ties:?} U{a}");
                    for b in 0..p {
                        assert!(
                            close(got.imat[a][b], want.imat[a][b]),
                            "{seed} {ties:?} I{a}{b} {} {}",
                            got.imat[a][b],
                            want.imat[a][b]
                        );
                    }
                }
            }
        }
    }
}
