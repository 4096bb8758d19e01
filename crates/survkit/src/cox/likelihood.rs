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

    /// Weight of row i (1 when unweighted).
    #[inline]
    pub fn w(&self, i: usize) -> f64 {
        if self.weight.is_empty() {
            1.0
        } else {
            self.weight[i]
        }
    }

    /// True when the data need the general (weighted / counting) kernel.
    pub fn is_general(&self) -> bool {
        !self.weight.is_empty() || !self.start.is_empty()
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
                        for step in 0..ndead {
                            let f = step as f64 / dd;
                            let den = s0 - f * d0;
                            loglik -= den.ln();
                            let inv = 1.0 / den;
                            let inv2 = inv * inv;
                            sa += inv;
                            sb += f * inv;
                            sc += inv2;
                            se += f * inv2;
                            sf += f * f * inv2;
                        }
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
    /// current event time (sums are downdated, and zeroed whenever the risk
    /// set is empty, as agfit4 does). At a time with d tied death rows,
    /// `S0 = Σ_R w r`, `S0ᴰ = Σ_D w r` and the death weight `W = Σ_D w`:
    /// Breslow `ℓ += Σ_D w η − W log S0`; Efron
    /// `ℓ += Σ_D w η − (W/d) Σ_k log(S0 − (k/d) S0ᴰ)` (R's weighted Efron:
    /// d counts rows, not weights), and likewise for U and I.
    fn evaluate_general(&self, beta: &[f64], ties: Ties) -> LikEval {
        let p = self.p;
        let n = self.n();
        let counting = !self.start.is_empty();
        let mut loglik = 0.0;
        let mut u = vec![0.0; p];
        let mut imat = vec![vec![0.0; p]; p];
        let eta = self.eta(beta);
        let risk: Vec<f64> = eta.iter().map(|e| e.exp()).collect();
        let mut s0 = 0.0;
        let mut s1 = vec![0.0; p];
        let mut s2 = vec![0.0; p * p];
        let mut d1 = vec![0.0; p];
        let mut d2 = vec![0.0; p * p];
        let mut in_risk = 0usize;
        let mut q = 0usize; // next row (in start_order) to leave
        let mut i = 0;
        while i < n {
            if i == 0 || self.stratum(i) != self.stratum(i - 1) {
                s0 = 0.0;
                s1.iter_mut().for_each(|v| *v = 0.0);
                s2.iter_mut().for_each(|v| *v = 0.0);
                in_risk = 0;
                // skip leavers of earlier strata
                while counting && q < n && self.stratum(self.start_order[q]) < self.stratum(i) {
                    q += 1;
                }
            }
            let (t, st) = (self.time[i], self.stratum(i));
            let mut j = i;
            let mut d0 = 0.0;
            d1.iter_mut().for_each(|v| *v = 0.0);
            d2.iter_mut().for_each(|v| *v = 0.0);
            let mut ndead = 0usize;
            let mut wdead = 0.0;
            while j < n && self.time[j] == t && self.stratum(j) == st {
                let x = self.row(j);
                let wr = self.w(j) * risk[j];
                s0 += wr;
                in_risk += 1;
                for k in 0..p {
                    s1[k] += wr * x[k];
                    for l in 0..=k {
                        s2[k * p + l] += wr * x[k] * x[l];
                    }
                }
                if self.event[j] {
                    let w = self.w(j);
                    ndead += 1;
                    wdead += w;
                    loglik += w * eta[j];
                    d0 += wr;
                    for k in 0..p {
                        u[k] += w * x[k];
                        d1[k] += wr * x[k];
                        for l in 0..=k {
                            d2[k * p + l] += wr * x[k] * x[l];
                        }
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
                let x = self.row(r);
                let wr = self.w(r) * risk[r];
                s0 -= wr;
                in_risk -= 1;
                for k in 0..p {
                    s1[k] -= wr * x[k];
                    for l in 0..=k {
                        s2[k * p + l] -= wr * x[k] * x[l];
                    }
                }
                q += 1;
            }
            if in_risk == 0 {
                s0 = 0.0;
                s1.iter_mut().for_each(|v| *v = 0.0);
                s2.iter_mut().for_each(|v| *v = 0.0);
            }
            if ndead > 0 {
                let dd = ndead as f64;
                let (mut sa, mut sb, mut sc, mut se, mut sf) = (0.0, 0.0, 0.0, 0.0, 0.0);
                if ties == Ties::Efron && ndead > 1 {
                    let mw = wdead / dd;
                    for step in 0..ndead {
                        let f = step as f64 / dd;
                        let den = s0 - f * d0;
                        loglik -= mw * den.ln();
                        let inv = mw / den;
                        let inv2 = inv / den;
                        sa += inv;
                        sb += f * inv;
                        sc += inv2;
                        se += f * inv2;
                        sf += f * f * inv2;
                    }
                } else {
                    loglik -= wdead * s0.ln();
                    sa = wdead / s0;
                    sc = wdead / (s0 * s0);
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
