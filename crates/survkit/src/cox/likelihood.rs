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
    /// Stratum id per row (rows of a stratum are contiguous).
    pub strata: Vec<usize>,
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
    pub fn n(&self) -> usize {
        self.time.len()
    }

    fn row(&self, i: usize) -> &[f64] {
        &self.x[i * self.p..(i + 1) * self.p]
    }

    /// Linear predictor x_iᵀβ for every row.
    pub fn eta(&self, beta: &[f64]) -> Vec<f64> {
        (0..self.n())
            .map(|i| self.row(i).iter().zip(beta).map(|(a, b)| a * b).sum())
            .collect()
    }

    /// Evaluate ℓ(β), U(β), I(β).
    pub fn evaluate(&self, beta: &[f64], ties: Ties) -> LikEval {
        let p = self.p;
        let n = self.n();
        let eta = self.eta(beta);
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
        let mut a = vec![0.0; p];
        let mut i = 0;
        while i < n {
            if i == 0 || self.strata[i] != self.strata[i - 1] {
                s0 = 0.0;
                s1.iter_mut().for_each(|v| *v = 0.0);
                s2.iter_mut().for_each(|v| *v = 0.0);
            }
            // all rows at this time (within stratum) enter the risk set
            let t = self.time[i];
            let st = self.strata[i];
            let mut j = i;
            d0 = 0.0;
            d1.iter_mut().for_each(|v| *v = 0.0);
            d2.iter_mut().for_each(|v| *v = 0.0);
            let mut ndead = 0usize;
            let mut sum_eta_dead = 0.0;
            while j < n && self.time[j] == t && self.strata[j] == st {
                let r = eta[j].exp();
                let x = self.row(j);
                s0 += r;
                for k in 0..p {
                    s1[k] += r * x[k];
                    for l in 0..=k {
                        s2[k * p + l] += r * x[k] * x[l];
                    }
                }
                if self.event[j] {
                    ndead += 1;
                    sum_eta_dead += eta[j];
                    d0 += r;
                    for k in 0..p {
                        d1[k] += r * x[k];
                        u[k] += x[k];
                        for l in 0..=k {
                            d2[k * p + l] += r * x[k] * x[l];
                        }
                    }
                }
                j += 1;
            }
            if ndead > 0 {
                loglik += sum_eta_dead;
                let dd = ndead as f64;
                let nsteps = match ties {
                    Ties::Breslow => 1,
                    Ties::Efron => ndead,
                };
                for step in 0..nsteps {
                    let (frac, mult) = match ties {
                        Ties::Breslow => (0.0, dd),
                        Ties::Efron => (step as f64 / dd, 1.0),
                    };
                    let den = s0 - frac * d0;
                    loglik -= mult * den.ln();
                    for k in 0..p {
                        a[k] = (s1[k] - frac * d1[k]) / den;
                        u[k] -= mult * a[k];
                    }
                    for k in 0..p {
                        for l in 0..=k {
                            let b = (s2[k * p + l] - frac * d2[k * p + l]) / den;
                            imat[k][l] += mult * (b - a[k] * a[l]);
                        }
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
}
