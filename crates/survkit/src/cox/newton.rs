//! Newton–Raphson maximisation of the partial likelihood, as R's `coxfit6`.
//!
//! Start at β = 0 (whose log-likelihood is the null one and whose score gives
//! the score test). Each step solves `I δ = U` by LDLᵀ (redundant columns are
//! dropped by R's pivot tolerance); a step that lowers the log-likelihood (or
//! overflows) is halved towards the previous β. Converged when
//! `|1 − ℓ_old/ℓ_new| ≤ eps` on a step that was not a halving; at most
//! `max_iter` iterations (R: `eps = 1e-9`, `iter.max = 20`).

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
    let mut halving = false;
    let mut iter = 1;
    let mut last = e0;
    loop {
        let e = data.evaluate(&newbeta, ties);
        let ok = finite(&e);
        if ok && (1.0 - loglik / e.loglik).abs() <= eps && !halving {
            let mut f = e.imat.clone();
            ldl(&mut f, toler);
            return NewtonResult {
                var: ldl_inverse(&f),
                beta: newbeta,
                loglik_null,
                loglik: e.loglik,
                score_test,
                score: e.score.clone(),
                iterations: iter,
                converged: true,
            };
        }
        if iter >= max_iter {
            let fe = if ok { e } else { last };
            let mut f = fe.imat.clone();
            ldl(&mut f, toler);
            return NewtonResult {
                var: ldl_inverse(&f),
                beta: newbeta,
                loglik_null,
                loglik: fe.loglik,
                score_test,
                score: fe.score.clone(),
                iterations: iter,
                converged: false,
            };
        }
        if !ok || e.loglik < loglik {
            halving = true;
            for k in 0..p {
                newbeta[k] = (newbeta[k] + beta[k]) / 2.0;
            }
        } else {
            halving = false;
            loglik = e.loglik;
            let mut f = e.imat.clone();
            ldl(&mut f, toler);
            let mut s = e.score.clone();
            ldl_solve(&f, &mut s);
            beta.clone_from(&newbeta);
            for k in 0..p {
                newbeta[k] += s[k];
            }
            last = e;
        }
        iter += 1;
    }
}
