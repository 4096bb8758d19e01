//! Newton–Raphson maximisation of the partial likelihood, as R's `coxfit6`.
//!
//! Start at β = 0 (whose log-likelihood is the null one and whose score gives
//! the score test). Each step solves `I δ = U` by LDLᵀ (redundant columns are
//! dropped by R's pivot tolerance); a step that lowers the log-likelihood (or
//! overflows) is pulled back towards the last accepted β (the k-th
//! consecutive halving takes `(β_new + k β)/(k + 1)`, as R 3.5-3's
//! `coxfit6`). Converged when `|1 − ℓ_old/ℓ_new| ≤ eps` with finite ℓ, U, I;
//! at most `max_iter` iterations (R: `eps = 1e-9`, `iter.max = 20`); running
//! out reports what R reports (see the end of [`fit`]).

use super::likelihood::{CoxData, LikEval};
use super::Ties;
use crate::linalg::{ldl, ldl_inverse, ldl_solve, Mat};

pub(crate) struct NewtonResult {
    pub beta: Vec<f64>,
    pub loglik_null: f64,
    pub loglik: f64,
    /// Score test statistic at β = 0.
    pub score_test: f64,
    /// Generalised inverse of the information at the final β.
    pub var: Mat,
    /// Score at the final β.
    pub score: Vec<f64>,
    pub iterations: usize,
    pub converged: bool,
}

fn finite(e: &LikEval) -> bool {
    e.loglik.is_finite()
        && e.score.iter().all(|v| v.is_finite())
        && e.imat.iter().flatten().all(|v| v.is_finite())
}

pub(crate) fn fit(
    data: &CoxData,
    ties: Ties,
    eps: f64,
    max_iter: usize,
    toler: f64,
) -> NewtonResult {
    let p = data.p;
    let mut beta = vec![0.0; p];
    let e0 = data.evaluate(&beta, ties);
    let loglik_null = e0.loglik;
    // score test and first step
    let mut f = e0.imat.clone();
    ldl(&mut f, toler);
    let mut step = e0.score.clone();
    ldl_solve(&f, &mut step);
    let score_test: f64 = step.iter().zip(&e0.score).map(|(a, b)| a * b).sum();
    if max_iter == 0 {
        return NewtonResult {
            var: ldl_inverse(&f),
            beta,
            loglik_null,
            loglik: loglik_null,
            score_test,
            score: e0.score.clone(),
            iterations: 0,
            converged: true,
        };
    }
    let mut newbeta: Vec<f64> = beta.iter().zip(&step).map(|(b, s)| b + s).collect();
    let mut loglik = loglik_null;
    let mut halving = 0usize;
    // the last evaluation, factored (R's imat after cholesky2)
    let mut last_f: Mat = f;
    let mut last_score = e0.score.clone();
    for iter in 1..=max_iter {
        let e = data.evaluate(&newbeta, ties);
        let ok = finite(&e);
        let mut fe = e.imat.clone();
        ldl(&mut fe, toler);
        if ok && (1.0 - loglik / e.loglik).abs() <= eps {
            return NewtonResult {
                var: ldl_inverse(&fe),
                beta: newbeta,
                loglik_null,
                loglik: e.loglik,
                score_test,
                score: e.score,
                iterations: iter,
                converged: true,
            };
        }
        if !ok || e.loglik < loglik {
            // R 3.5-3: each further halving moves closer to the last good β
            halving += 1;
            let h = halving as f64;
            for k in 0..p {
                newbeta[k] = (newbeta[k] + h * beta[k]) / (h + 1.0);
            }
        } else {
            halving = 0;
            loglik = e.loglik;
            let mut s = e.score.clone();
            ldl_solve(&fe, &mut s);
            beta.clone_from(&newbeta);
            for k in 0..p {
                newbeta[k] += s[k];
            }
        }
        last_f = fe;
        last_score = e.score;
    }
    // Out of iterations (R coxfit6): the last accepted β, iter = cap + 1.
    // With cap > 1 R re-evaluates ℓ, U and I at that β and applies chinv2 to
    // the *unfactored* I, which reads only its (zeroed) upper triangle: the
    // variance R reports is diag(1/I_kk) (0 where I_kk ≤ 0). With cap = 1 it
    // is the proper inverse at the evaluated point. We report R's numbers.
    if max_iter > 1 {
        let e = data.evaluate(&beta, ties);
        let var: Mat = (0..p)
            .map(|i| {
                (0..p)
                    .map(|j| {
                        if i == j && e.imat[i][i] > 0.0 {
                            1.0 / e.imat[i][i]
                        } else {
                            0.0
                        }
                    })
                    .collect()
            })
            .collect();
        NewtonResult {
            var,
            beta,
            loglik_null,
            loglik: e.loglik,
            score_test,
            score: e.score,
            iterations: max_iter + 1,
            converged: false,
        }
    } else {
        NewtonResult {
            var: ldl_inverse(&last_f),
            beta,
            loglik_null,
            loglik,
            score_test,
            score: last_score,
            iterations: max_iter + 1,
            converged: false,
        }
    }
}
