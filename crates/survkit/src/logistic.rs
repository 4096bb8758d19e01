//! Logistic regression by iteratively reweighted least squares, exactly as
//! R's `glm(y ~ x, family = binomial)` (`glm.fit`, `glm.control(epsilon =
//! 1e-8, maxit = 25)`), used for propensity scores.
//!
//! Model: logit P(y = 1 | x) = xᵀβ (x includes the intercept column).
//! IRLS (McCullagh & Nelder, *Generalized Linear Models*, 2nd ed., §2.5):
//! start from μ₀ = (y + ½)/2, η₀ = logit μ₀; at each iteration, with
//! μ' = max(e^{−|η|}/(1 + e^{−|η|})², ε_mach) (R's `binomial()$mu.eta`),
//! working response z = η + (y − μ)/μ', working weight w = μ'²/(μ(1 − μ)),
//! β = (XᵀWX)⁻¹XᵀWz, η = Xβ, μ = plogis(η) (η clamped to ±(−log ε_mach) as
//! R's `linkinv`); converged when |dev − dev_old|/(|dev| + 0.1) < ε with the
//! deviance dev = 2 Σ [y log(y/μ) + (1 − y) log((1 − y)/(1 − μ))].
//! `iterations` is R's `fit$iter`. Data of ≥ 20 000 rows with at most n/4
//! distinct (covariates, y) patterns run IRLS on one unit per pattern
//! weighted by its row count: the same sums in another order. Standard errors are sqrt(diag((XᵀWX)⁻¹))
//! with the working weights of the last IRLS solve (R's `summary.glm` uses
//! that solve's QR), z = β/se, p = 2Φ(−|z|) (dispersion 1).
//!
//! Separation (R only warns "fitted probabilities numerically 0 or 1
//! occurred" and returns a huge coefficient): [`LogisticFit::separation`]
//! is set when IRLS did not converge, when a fitted μ is within 10·ε_mach of
//! 0 or 1 (R's warning), or when IRLS needed ≥ 12 iterations and a fitted μ
//! is within 1e-8 of 0 or 1 (a separated fit can "converge" on a deviance
//! near 0 with μ ≈ 1e-12, which R accepts silently; ordinary fits converge
//! in 4–8 iterations). Callers must refuse or flag such fits rather than
//! print the coefficient.

use crate::dist::two_sided_p;
use crate::error::{check_len, Result, SurvError};
use crate::linalg::{ldl, ldl_inverse, ldl_solve, TOLER_CHOL};

/// Options of [`logistic_fit`] (R `glm.control`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LogisticOptions {
    /// Relative deviance change for convergence (R `epsilon`, 1e-8).
    pub epsilon: f64,
    /// Maximum IRLS iterations (R `maxit`, 25).
    pub max_iter: usize,
}

impl Default for LogisticOptions {
    fn default() -> Self {
        LogisticOptions {
            epsilon: 1e-8,
            max_iter: 25,
        }
    }
}

/// One coefficient.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct LogisticTerm {
    /// Term name (`(Intercept)` or a design column).
    pub term: String,
    /// Estimated coefficient on the log-odds scale.
    pub coef: f64,
    /// Standard error of `coef`.
    pub se: f64,
    /// Wald statistic `coef / se`.
    pub z: f64,
    /// Two-sided p-value of `z`.
    pub p: f64,
}

/// Signs of (quasi-)complete separation.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Separation {
    /// Rows whose fitted probability is within 10·ε_mach of 0 or 1.
    pub n_fitted_0_or_1: usize,
    /// Rows whose fitted probability is within 1e-8 of 0 or 1.
    pub n_fitted_near_0_or_1: usize,
    /// IRLS did not converge within `max_iter`.
    pub not_converged: bool,
}

/// A fitted logistic regression.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct LogisticFit {
    /// `(Intercept)` first, then the design columns.
    pub terms: Vec<LogisticTerm>,
    /// Fitted probabilities, one per row.
    pub fitted: Vec<f64>,
    /// Residual deviance (R `deviance(fit)`).
    pub deviance: f64,
    /// Deviance of the intercept-only model (R `fit$null.deviance`).
    pub null_deviance: f64,
    /// deviance + 2·(number of coefficients) (0/1 response).
    pub aic: f64,
    /// IRLS iterations used (R `fit$iter`).
    pub iterations: usize,
    /// Whether IRLS converged within `max_iter`.
    pub converged: bool,
    /// Unscaled covariance matrix (XᵀWX)⁻¹.
    pub var: Vec<Vec<f64>>,
    /// Present when the fit shows separation (see the module docs).
    pub separation: Option<Separation>,
}

fn dev_resid(y: f64, mu: f64) -> f64 {
    let a = if y > 0.0 { y * (y / mu).ln() } else { 0.0 };
    let b = if y < 1.0 {
        (1.0 - y) * ((1.0 - y) / (1.0 - mu)).ln()
    } else {
        0.0
    };
    2.0 * (a + b)
}

fn linkinv(eta: f64) -> f64 {
    let thresh = -f64::EPSILON.ln();
    let e = eta.clamp(-thresh, thresh);
    let ex = e.exp();
    ex / (1.0 + ex)
}

fn mu_eta(eta: f64) -> f64 {
    let ex = (-eta.abs()).exp();
    (ex / ((1.0 + ex) * (1.0 + ex))).max(f64::EPSILON)
}

/// Fit `glm(y ~ columns, family = binomial)` with an intercept. `columns`
/// are named numeric design columns (factor indicators already expanded).
pub fn logistic_fit(
    y: &[bool],
    columns: &[(String, Vec<f64>)],
    opts: &LogisticOptions,
) -> Result<LogisticFit> {
    let n = y.len();
    if n == 0 {
        return Err(SurvError::Empty);
    }
    for (_, c) in columns {
        check_len("covariate", c.len(), n)?;
        if let Some(index) = c.iter().position(|v| !v.is_finite()) {
            return Err(SurvError::InvalidValue {
                what: "covariate".into(),
                index,
                value: c[index],
            });
        }
    }
    let p = columns.len() + 1;
    // Large data with few covariate patterns: rows of one (pattern, y) have
    // the same η and μ at every iteration, so IRLS runs on one unit per
    // (pattern, y) weighted by its row count (every sum is the rows' sum in
    // another order); small data, or data with many patterns, row by row.
    let cols: Vec<&[f64]> = columns.iter().map(|(_, c)| c.as_slice()).collect();
    let units = crate::cox::cells::collapse(None, None, y, &cols, None, n / 4);
    let picked: Vec<Vec<f64>> = units
        .as_ref()
        .map_or_else(Vec::new, |u| cols.iter().map(|c| u.pick(c)).collect());
    // the columns IRLS runs over: the units', or the rows'
    let ucols: Vec<&[f64]> = match &units {
        Some(_) => picked.iter().map(Vec::as_slice).collect(),
        None => cols,
    };
    let x = |i: usize, j: usize| if j == 0 { 1.0 } else { ucols[j - 1][i] };
    let (yv, m): (Vec<f64>, Vec<f64>) = match &units {
        Some(u) => (
            u.rep
                .iter()
                .map(|&i| if y[i] { 1.0 } else { 0.0 })
                .collect(),
            u.count.iter().map(|&c| f64::from(c)).collect(),
        ),
        None => (
            y.iter().map(|&b| if b { 1.0 } else { 0.0 }).collect(),
            vec![],
        ),
    };
    // row count of unit i (1 for rows: m · v is then v exactly)
    let m = |i: usize| m.get(i).copied().unwrap_or(1.0);
    let nu = yv.len();
    let mut mu: Vec<f64> = yv.iter().map(|&v| (v + 0.5) / 2.0).collect();
    let mut eta: Vec<f64> = mu.iter().map(|&m| (m / (1.0 - m)).ln()).collect();
    let mut devold: f64 = (0..nu).map(|i| m(i) * dev_resid(yv[i], mu[i])).sum();
    let mut beta = vec![0.0; p];
    let mut info_f: Vec<Vec<f64>> = vec![vec![0.0; p]; p];
    let mut converged = false;
    let mut iterations = 0;
    let mut dev = devold;
    for iter in 1..=opts.max_iter {
        iterations = iter;
        let mut a = vec![vec![0.0; p]; p];
        let mut b = vec![0.0; p];
        for i in 0..nu {
            let me = mu_eta(eta[i]);
            let var = mu[i] * (1.0 - mu[i]);
            let z = eta[i] + (yv[i] - mu[i]) / me;
            let w = m(i) * (me * me / var);
            for j in 0..p {
                let xj = x(i, j);
                b[j] += w * xj * z;
                for k in j..p {
                    a[j][k] += w * xj * x(i, k);
                }
            }
        }
        let rank = ldl(&mut a, TOLER_CHOL);
        if rank < p as i64 {
            return Err(SurvError::Degenerate {
                what: "logistic regression",
                message: "the design matrix is singular (a covariate is constant or collinear with others)".into(),
            });
        }
        ldl_solve(&a, &mut b);
        beta = b;
        info_f = a;
        for i in 0..nu {
            eta[i] = (0..p).map(|j| x(i, j) * beta[j]).sum();
            mu[i] = linkinv(eta[i]);
        }
        dev = (0..nu).map(|i| m(i) * dev_resid(yv[i], mu[i])).sum();
        if !dev.is_finite() {
            return Err(SurvError::Degenerate {
                what: "logistic regression",
                message: "the deviance is not finite".into(),
            });
        }
        if (dev - devold).abs() / (dev.abs() + 0.1) < opts.epsilon {
            converged = true;
            break;
        }
        devold = dev;
    }
    let var = ldl_inverse(&info_f);
    let mut names = vec!["(Intercept)".to_string()];
    names.extend(columns.iter().map(|(n, _)| n.clone()));
    let terms = names
        .into_iter()
        .enumerate()
        .map(|(j, term)| {
            let se = var[j][j].sqrt();
            let z = beta[j] / se;
            LogisticTerm {
                term,
                coef: beta[j],
                se,
                z,
                p: two_sided_p(z),
            }
        })
        .collect();
    let ybar = (0..nu).map(|i| m(i) * yv[i]).sum::<f64>() / n as f64;
    let null_deviance = (0..nu).map(|i| m(i) * dev_resid(yv[i], ybar)).sum();
    let eps10 = 10.0 * f64::EPSILON;
    // rows (not units) whose fitted value satisfies `f`
    let rows_where = |f: &dyn Fn(f64) -> bool| -> usize {
        (0..nu).filter(|&i| f(mu[i])).map(|i| m(i) as usize).sum()
    };
    let n01 = rows_where(&|v| v < eps10 || v > 1.0 - eps10);
    let near = rows_where(&|v| !(1e-8..=1.0 - 1e-8).contains(&v));
    // fitted values per row
    let mu = match &units {
        Some(u) => u.row_cell.iter().map(|&c| mu[c as usize]).collect(),
        None => mu,
    };
    let separation = if n01 > 0 || !converged || (iterations >= 12 && near > 0) {
        Some(Separation {
            n_fitted_0_or_1: n01,
            n_fitted_near_0_or_1: near,
            not_converged: !converged,
        })
    } else {
        None
    };
    Ok(LogisticFit {
        terms,
        fitted: mu,
        deviance: dev,
        null_deviance,
        aic: dev + 2.0 * p as f64,
        iterations,
        converged,
        var,
        separation,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grouped_units_equal_the_rows() {
        // ≥ 20 000 rows with few covariate patterns (an integer age, a
        // yes/no, a three-level factor) are fitted on (pattern, y) units:
        // the rows' coefficients, SEs, deviances and fitted values
        use rand::{Rng, SeedableRng};
        let mut rng = rand::rngs::StdRng::seed_from_u64(3);
        let n = 30_000;
        let age: Vec<f64> = (0..n)
            .map(|_| f64::from(rng.random_range(40..80u32)))
            .collect();
        let sex: Vec<f64> = (0..n)
            .map(|_| f64::from(u8::from(rng.random_bool(0.4))))
            .collect();
        let g: Vec<u32> = (0..n).map(|_| rng.random_range(0..3u32)).collect();
        let y: Vec<bool> = (0..n)
            .map(|i| {
                let eta = -2.0 + 0.03 * age[i] + 0.5 * sex[i] - 0.4 * f64::from(g[i]);
                rng.random::<f64>() < 1.0 / (1.0 + (-eta).exp())
            })
            .collect();
        let cols = vec![
            ("age".to_string(), age),
            ("sexF".to_string(), sex),
            (
                "g1".to_string(),
                g.iter().map(|&v| f64::from(u8::from(v == 1))).collect(),
            ),
            (
                "g2".to_string(),
                g.iter().map(|&v| f64::from(u8::from(v == 2))).collect(),
            ),
        ];
        let o = LogisticOptions::default();
        let units = logistic_fit(&y, &cols, &o).unwrap();
        let rows = crate::cox::cells::rows_only(|| logistic_fit(&y, &cols, &o)).unwrap();
        let close = |a: f64, b: f64, what: &str| {
            let r = (a - b).abs() / a.abs().max(b.abs()).max(1e-300);
            assert!(a == b || r < 1e-9, "{what}: {a} vs {b}");
        };
        assert_eq!(units.iterations, rows.iterations);
        assert_eq!(units.converged, rows.converged);
        for (a, b) in units.terms.iter().zip(&rows.terms) {
            close(a.coef, b.coef, &a.term);
            close(a.se, b.se, &a.term);
        }
        close(units.deviance, rows.deviance, "deviance");
        close(units.null_deviance, rows.null_deviance, "null deviance");
        close(units.aic, rows.aic, "aic");
        assert_eq!(units.fitted.len(), n);
        for (a, b) in units.fitted.iter().zip(&rows.fitted) {
            close(*a, *b, "fitted");
        }
        assert_eq!(units.separation, rows.separation);
    }

    #[test]
    fn intercept_only_is_the_logit_of_the_mean() {
        let y = [true, false, false, true, true, false, true, true];
        let f = logistic_fit(&y, &[], &LogisticOptions::default()).unwrap();
        let pbar: f64 = 5.0 / 8.0;
        assert!((f.terms[0].coef - (pbar / (1.0 - pbar)).ln()).abs() < 1e-10);
        // se of the logit of a proportion: 1/sqrt(n p (1-p))
        let se = 1.0 / (8.0 * pbar * (1.0 - pbar)).sqrt();
        // R's se uses the working weights of the last solve (the previous
        // iterate's mu), so it agrees with the closed form only to ~1e-4
        assert!((f.terms[0].se - se).abs() < 1e-4 * se);
        assert!((f.deviance - f.null_deviance).abs() < 1e-10);
        assert!(f.separation.is_none());
    }

    #[test]
    fn complete_separation_is_reported() {
        let y = [false, false, false, true, true, true];
        let x = vec![("x".to_string(), vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0])];
        let f = logistic_fit(&y, &x, &LogisticOptions::default()).unwrap();
        assert!(f.separation.is_some());
    }
}
