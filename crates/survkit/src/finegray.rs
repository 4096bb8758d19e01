//! Fine–Gray proportional subdistribution-hazards regression, exactly as
//! `cmprsk::crr(ftime, fstatus, cov1 = X, failcode = K, cencode = 0)`
//! (Fine & Gray 1999, *JASA* 94:496–509).
//!
//! With G the Kaplan–Meier estimate of the censoring distribution (status 0
//! as the event, all rows) and G(x−) its left limit, the log
//! pseudo-likelihood (tied failures Breslow-style) is
//!
//! ll(β) = Σ_{i: status K} [η_i − log S0(T_i)],
//! S0(t) = Σ_{l: T_l ≥ t} e^{η_l} + Σ_{l: T_l < t, status_l ∉ {0, K}} e^{η_l}·G(t−)/G(T_l−).
//!
//! Newton–Raphson from β = 0, stopping when max|U|·max(|β|, 1) <
//! max(|ll|, 1)·gtol (gtol = 1e-6), at most 10 iterations, halving a step
//! that lowers ll. The variance is crr's sandwich I⁻¹ (Σ_i (η_i + ψ_i)(η_i +
//! ψ_i)ᵀ) I⁻¹, where η_i is subject i's score-process residual (its dN part
//! minus its share of every failure's dΛ̂, competing-risk subjects staying
//! in later risk sets with weight G(t−)/G(T_i−)) and ψ_i the term for
//! estimating G (Fine & Gray 1999, §4): with Y(u) the number at risk and
//! q(u) = Σ_{failures j: T_j ≥ u} G(T_j−)/S0_j·(C1(u) − x̄_j C0(u)),
//! C_r(u) = Σ_{competing l: T_l < u} e^{η_l} x_l^{⊗r}/G(T_l−),
//! ψ_i = −Σ_{censoring times u ≤ T_i} q(u)·dN^c(u)/Y(u)² + [i censored] q(T_i)/Y(T_i).
//! Every sum is a prefix or suffix sum over the sorted times, so the fit is
//! O(n log n + n p²) per iteration (crr's Fortran `crrvv` is O(n²) or worse).

use crate::dist::{two_sided_p, z_for_level};
use crate::error::{check_len, check_times, Result, SurvError};
use crate::linalg::{ldl, ldl_inverse, ldl_solve, TOLER_CHOL};

/// Options of [`fine_gray`] (crr's `gtol`, `maxiter`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FineGrayOptions {
    /// Convergence tolerance: stop when max|U|·max(|β|, 1) < max(|ll|, 1)·gtol (crr `gtol`, 1e-6).
    pub gtol: f64,
    /// Maximum number of Newton–Raphson iterations (crr `maxiter`, 10).
    pub max_iter: usize,
    /// Confidence level of the subdistribution hazard-ratio intervals (0.95).
    pub conf_level: f64,
}

impl Default for FineGrayOptions {
    fn default() -> Self {
        FineGrayOptions {
            gtol: 1e-6,
            max_iter: 10,
            conf_level: 0.95,
        }
    }
}

/// One coefficient.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct FineGrayTerm {
    /// Term (design column) name.
    pub term: String,
    /// Estimated coefficient β (log subdistribution hazard ratio).
    pub coef: f64,
    /// Standard error of `coef` from the sandwich variance.
    pub se: f64,
    /// Wald statistic `coef / se`.
    pub z: f64,
    /// Two-sided p-value of `z`.
    pub p: f64,
    /// Subdistribution hazard ratio `exp(coef)`.
    pub hr: f64,
    /// Lower confidence limit of `hr`.
    pub hr_lower: f64,
    /// Upper confidence limit of `hr`.
    pub hr_upper: f64,
}

/// A fitted Fine–Gray model.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct FineGrayFit {
    /// One entry per design column, in input order.
    pub terms: Vec<FineGrayTerm>,
    /// Log pseudo-likelihood at β̂ (crr `loglik`).
    pub loglik: f64,
    /// Log pseudo-likelihood at β = 0 (crr `loglik.null`).
    pub loglik_null: f64,
    /// Whether the iteration converged within `max_iter`.
    pub converged: bool,
    /// Newton–Raphson iterations used.
    pub iterations: usize,
    /// Sandwich variance (crr's `var`).
    pub var: Vec<Vec<f64>>,
    /// Number of observations.
    pub n: usize,
    /// Failures from the cause of interest.
    pub n_event: usize,
    /// Failures from competing causes.
    pub n_competing: usize,
    /// Censored observations.
    pub n_censored: usize,
}

struct Sorted {
    t: Vec<f64>,
    /// 0 censored, 1 cause of interest, 2 competing.
    s: Vec<u8>,
    /// covariates, row-major (`x[i * p + k]`)
    x: Vec<f64>,
    /// G(T_i−).
    g: Vec<f64>,
    /// first index of each row's tie group, and one past its last
    first: Vec<usize>,
    last: Vec<usize>,
}

struct Eval {
    ll: f64,
    score: Vec<f64>,
    info: Vec<Vec<f64>>,
    /// per failure row: S0, S1 (the others are 0; S1 row-major, `s1[i * p + k]`)
    s0: Vec<f64>,
    s1: Vec<f64>,
}

fn eval(d: &Sorted, beta: &[f64], need_info: bool) -> Eval {
    // flat row-major buffers (`v[i * p + a]`, `v[(i * p + a) * p + b]`):
    // the same sums in the same order as per-row vectors, one allocation each
    let n = d.t.len();
    let p = beta.len();
    let pp = p * p;
    let eta: Vec<f64> = (0..n)
        .map(|i| (0..p).map(|k| d.x[i * p + k] * beta[k]).sum())
        .collect();
    let r: Vec<f64> = eta.iter().map(|e| e.exp()).collect();
    // suffix sums over T_l >= t (by tie group) and prefix sums of competing T_l < t
    let mut suf0 = vec![0.0; n + 1];
    let mut suf1 = vec![0.0; (n + 1) * p];
    let mut suf2 = vec![0.0; if need_info { (n + 1) * pp } else { 0 }];
    for i in (0..n).rev() {
        suf0[i] = suf0[i + 1] + r[i];
        let x = &d.x[i * p..(i + 1) * p];
        for a in 0..p {
            suf1[i * p + a] = suf1[(i + 1) * p + a] + r[i] * x[a];
            if need_info {
                for b in 0..p {
                    suf2[(i * p + a) * p + b] =
                        suf2[((i + 1) * p + a) * p + b] + r[i] * x[a] * x[b];
                }
            }
        }
    }
    let mut pre0 = vec![0.0; n + 1];
    let mut pre1 = vec![0.0; (n + 1) * p];
    let mut pre2 = vec![0.0; if need_info { (n + 1) * pp } else { 0 }];
    for i in 0..n {
        let c = if d.s[i] == 2 { r[i] / d.g[i] } else { 0.0 };
        pre0[i + 1] = pre0[i] + c;
        let x = &d.x[i * p..(i + 1) * p];
        for a in 0..p {
            pre1[(i + 1) * p + a] = pre1[i * p + a] + c * x[a];
            if need_info {
                for b in 0..p {
                    pre2[((i + 1) * p + a) * p + b] = pre2[(i * p + a) * p + b] + c * x[a] * x[b];
                }
            }
        }
    }
    let mut ll = 0.0;
    let mut score = vec![0.0; p];
    let mut info = vec![vec![0.0; p]; p];
    let mut s0v = vec![0.0; n];
    let mut s1v = vec![0.0; n * p];
    for i in 0..n {
        if d.s[i] != 1 {
            continue;
        }
        let (f, gi) = (d.first[i], d.g[i]);
        let s0 = suf0[f] + gi * pre0[f];
        let s1 = &mut s1v[i * p..(i + 1) * p];
        for (a, v) in s1.iter_mut().enumerate() {
            *v = suf1[f * p + a] + gi * pre1[f * p + a];
        }
        ll += eta[i] - s0.ln();
        for a in 0..p {
            score[a] += d.x[i * p + a] - s1[a] / s0;
            if need_info {
                for b in 0..p {
                    let s2 = suf2[(f * p + a) * p + b] + gi * pre2[(f * p + a) * p + b];
                    info[a][b] += s2 / s0 - s1[a] * s1[b] / (s0 * s0);
                }
            }
        }
        s0v[i] = s0;
    }
    Eval {
        ll,
        score,
        info,
        s0: s0v,
        s1: s1v,
    }
}

/// Fit the Fine–Gray model for cause `code`. `status[i]`: 0 censored, any
/// other value a cause; `columns` are named numeric design columns.
pub fn fine_gray(
    time: &[f64],
    status: &[u32],
    code: u32,
    columns: &[(String, Vec<f64>)],
    opts: &FineGrayOptions,
) -> Result<FineGrayFit> {
    let n = time.len();
    check_len("status", status.len(), n)?;
    check_times(time)?;
    if n == 0 {
        return Err(SurvError::Empty);
    }
    let p = columns.len();
    if p == 0 {
        return Err(SurvError::InvalidOption {
            name: "covariates",
            message: "Fine-Gray regression needs at least one covariate".into(),
        });
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
    // stable radix sort by time (−0 and +0 tie, as `==` below ties them)
    let mut keyed: Vec<(u64, u32)> = (0..n)
        .map(|i| (crate::sort::f64_key(time[i]), i as u32))
        .collect();
    crate::sort::radix_sort_pairs(&mut keyed);
    let ord: Vec<usize> = keyed.iter().map(|k| k.1 as usize).collect();
    drop(keyed);
    let t: Vec<f64> = ord.iter().map(|&i| time[i]).collect();
    let s: Vec<u8> = ord
        .iter()
        .map(|&i| match status[i] {
            0 => 0,
            c if c == code => 1,
            _ => 2,
        })
        .collect();
    let x: Vec<f64> = ord
        .iter()
        .flat_map(|&i| columns.iter().map(move |(_, c)| c[i]))
        .collect();
    let mut first = vec![0; n];
    let mut last = vec![0; n];
    let mut i = 0;
    while i < n {
        let mut j = i;
        while j + 1 < n && t[j + 1] == t[i] {
            j += 1;
        }
        for k in i..=j {
            first[k] = i;
            last[k] = j + 1;
        }
        i = j + 1;
    }
    // censoring KM, left limits
    let mut g = vec![1.0; n];
    let mut cur = 1.0;
    let mut i = 0;
    while i < n {
        let e = last[i];
        for k in i..e {
            g[k] = cur;
        }
        let dc = (i..e).filter(|&k| s[k] == 0).count() as f64;
        cur *= 1.0 - dc / (n - i) as f64;
        i = e;
    }
    let n_event = s.iter().filter(|&&v| v == 1).count();
    if n_event == 0 {
        return Err(SurvError::Degenerate {
            what: "Fine-Gray regression",
            message: format!("no failures of cause {code}"),
        });
    }
    let d = Sorted {
        t,
        s,
        x,
        g,
        first,
        last,
    };
    let mut beta = vec![0.0; p];
    let mut e = eval(&d, &beta, true);
    let loglik_null = e.ll;
    let mut converged = false;
    let mut iterations = 0;
    for it in 0..=opts.max_iter {
        let smax = (0..p)
            .map(|k| e.score[k].abs() * beta[k].abs().max(1.0))
            .fold(0.0, f64::max);
        if smax < e.ll.abs().max(1.0) * opts.gtol {
            converged = true;
            iterations = it;
            break;
        }
        if it == opts.max_iter {
            iterations = it;
            break;
        }
        let mut f = e.info.clone();
        ldl(&mut f, TOLER_CHOL);
        let mut h = e.score.clone();
        ldl_solve(&f, &mut h);
        let mut step = 1.0;
        let mut accepted = false;
        for _ in 0..30 {
            let bn: Vec<f64> = (0..p).map(|k| beta[k] + step * h[k]).collect();
            let en = eval(&d, &bn, false);
            if en.ll.is_finite() && en.ll >= e.ll - 1e-12 * e.ll.abs() {
                beta = bn;
                accepted = true;
                break;
            }
            step /= 2.0;
        }
        if !accepted {
            iterations = it + 1;
            break;
        }
        e = eval(&d, &beta, true);
    }
    let var = sandwich(&d, &beta, &e);
    let z0 = z_for_level(opts.conf_level);
    let terms = columns
        .iter()
        .enumerate()
        .map(|(k, (name, _))| {
            let se = var[k][k].sqrt();
            let z = beta[k] / se;
            FineGrayTerm {
                term: name.clone(),
                coef: beta[k],
                se,
                z,
                p: two_sided_p(z),
                hr: beta[k].exp(),
                hr_lower: (beta[k] - z0 * se).exp(),
                hr_upper: (beta[k] + z0 * se).exp(),
            }
        })
        .collect();
    Ok(FineGrayFit {
        terms,
        loglik: e.ll,
        loglik_null,
        converged,
        iterations,
        var,
        n,
        n_event,
        n_competing: d.s.iter().filter(|&&v| v == 2).count(),
        n_censored: d.s.iter().filter(|&&v| v == 0).count(),
    })
}

/// crr's sandwich variance (see the module docs).
fn sandwich(d: &Sorted, beta: &[f64], e: &Eval) -> Vec<Vec<f64>> {
    // flat prefix/suffix buffers (`v[j * p + k]`) and one reused row buffer:
    // the same sums in the same order as per-row vectors
    let n = d.t.len();
    let p = beta.len();
    let x = |i: usize| &d.x[i * p..(i + 1) * p];
    let r: Vec<f64> = (0..n)
        .map(|i| (0..p).map(|k| d.x[i * p + k] * beta[k]).sum::<f64>().exp())
        .collect();
    // prefix over failure rows with T_j <= t (by tie group end): Σ 1/S0, Σ S1/S0²
    let mut p0 = vec![0.0; n + 1];
    let mut p1 = vec![0.0; (n + 1) * p];
    // suffix over failure rows: Σ G/S0, Σ G S1/S0²
    let mut a0 = vec![0.0; n + 1];
    let mut a1 = vec![0.0; (n + 1) * p];
    for j in 0..n {
        p0[j + 1] = p0[j];
        p1.copy_within(j * p..(j + 1) * p, (j + 1) * p);
        if d.s[j] == 1 {
            let s0 = e.s0[j];
            p0[j + 1] += 1.0 / s0;
            for k in 0..p {
                p1[(j + 1) * p + k] += e.s1[j * p + k] / (s0 * s0);
            }
        }
    }
    for j in (0..n).rev() {
        a0[j] = a0[j + 1];
        a1.copy_within((j + 1) * p..(j + 2) * p, j * p);
        if d.s[j] == 1 {
            let s0 = e.s0[j];
            a0[j] += d.g[j] / s0;
            for k in 0..p {
                a1[j * p + k] += d.g[j] * e.s1[j * p + k] / (s0 * s0);
            }
        }
    }
    // competing prefix C0, C1 over T_l < t
    let mut c0 = vec![0.0; n + 1];
    let mut c1 = vec![0.0; (n + 1) * p];
    for l in 0..n {
        c0[l + 1] = c0[l];
        c1.copy_within(l * p..(l + 1) * p, (l + 1) * p);
        if d.s[l] == 2 {
            let w = r[l] / d.g[l];
            c0[l + 1] += w;
            for k in 0..p {
                c1[(l + 1) * p + k] += w * x(l)[k];
            }
        }
    }
    let mut v2 = vec![vec![0.0; p]; p];
    let mut psi_cum = vec![0.0; p];
    let mut q = vec![0.0; p];
    let mut st = vec![0.0; p];
    let mut i = 0;
    while i < n {
        let (f, end) = (d.first[i], d.last[i]);
        let y = (n - f) as f64;
        let nc = (f..end).filter(|&k| d.s[k] == 0).count();
        for k in 0..p {
            q[k] = if nc > 0 {
                c1[f * p + k] * a0[f] - c0[f] * a1[f * p + k]
            } else {
                0.0
            };
        }
        for k in 0..p {
            psi_cum[k] -= q[k] * nc as f64 / (y * y);
        }
        for ii in f..end {
            st.fill(0.0);
            let xi = x(ii);
            // dΛ part: failures with T_j <= T_i
            for k in 0..p {
                st[k] -= r[ii] * (xi[k] * p0[end] - p1[end * p + k]);
            }
            // competing: failures with T_j > T_i, weighted G(T_j-)/G(T_i-)
            if d.s[ii] == 2 {
                for k in 0..p {
                    st[k] -= r[ii] / d.g[ii] * (xi[k] * a0[end] - a1[end * p + k]);
                }
            }
            if d.s[ii] == 1 {
                for k in 0..p {
                    st[k] += xi[k] - e.s1[ii * p + k] / e.s0[ii];
                }
            }
            for k in 0..p {
                st[k] += psi_cum[k];
                if d.s[ii] == 0 {
                    st[k] += q[k] / y;
                }
            }
            for a in 0..p {
                for b in 0..p {
                    v2[a][b] += st[a] * st[b];
                }
            }
        }
        i = end;
    }
    let mut f = e.info.clone();
    ldl(&mut f, TOLER_CHOL);
    let h = ldl_inverse(&f);
    let mut out = vec![vec![0.0; p]; p];
    for a in 0..p {
        for b in 0..p {
            let mut s = 0.0;
            for c in 0..p {
                for dd in 0..p {
                    s += h[a][c] * v2[c][dd] * h[dd][b];
                }
            }
            out[a][b] = s;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The pseudo-log-likelihood by its definition, O(n²), on ties and all
    /// three statuses, against the prefix/suffix-sum version, and the score
    /// against a central difference of it.
    #[test]
    fn loglik_and_score_match_the_naive_definition() {
        let n = 80;
        let time: Vec<f64> = (0..n).map(|i| ((i * 17) % 23) as f64 + 1.0).collect();
        let status: Vec<u32> = (0..n).map(|i| ((i * 7) % 5 % 3) as u32).collect();
        let x1: Vec<f64> = (0..n).map(|i| ((i * 13) % 9) as f64 / 4.0).collect();
        let x2: Vec<f64> = (0..n).map(|i| (i % 2) as f64).collect();
        // censoring KM left limits, naive
        let gm = |t: f64| -> f64 {
            let mut ts: Vec<f64> = time.clone();
            ts.sort_by(f64::total_cmp);
            ts.dedup();
            let mut g = 1.0;
            for &u in ts.iter().filter(|&&u| u < t) {
                let y = time.iter().filter(|&&v| v >= u).count() as f64;
                let d = (0..n).filter(|&i| time[i] == u && status[i] == 0).count() as f64;
                g *= 1.0 - d / y;
            }
            g
        };
        let naive = |b: &[f64]| -> f64 {
            let eta = |i: usize| b[0] * x1[i] + b[1] * x2[i];
            let mut ll = 0.0;
            for i in (0..n).filter(|&i| status[i] == 1) {
                let mut s0 = 0.0;
                for l in 0..n {
                    if time[l] >= time[i] {
                        s0 += eta(l).exp();
                    } else if status[l] == 2 {
                        s0 += eta(l).exp() * gm(time[i]) / gm(time[l]);
                    }
                }
                ll += eta(i) - s0.ln();
            }
            ll
        };
        let cols = vec![
            ("x1".to_string(), x1.clone()),
            ("x2".to_string(), x2.clone()),
        ];
        let fit = fine_gray(&time, &status, 1, &cols, &FineGrayOptions::default()).unwrap();
        assert!((fit.loglik_null - naive(&[0.0, 0.0])).abs() < 1e-10 * fit.loglik_null.abs());
        let b: Vec<f64> = fit.terms.iter().map(|t| t.coef).collect();
        assert!((fit.loglik - naive(&b)).abs() < 1e-10 * fit.loglik.abs());
        // at the maximiser the naive score is ~0 and the naive ll is not higher nearby
        for k in 0..2 {
            let h = 1e-5;
            let mut bp = b.clone();
            bp[k] += h;
            let mut bm = b.clone();
            bm[k] -= h;
            let g = (naive(&bp) - naive(&bm)) / (2.0 * h);
            assert!(g.abs() < 1e-3, "score {k} = {g}");
        }
        assert!(fit.converged && fit.var[0][0] > 0.0 && fit.var[1][1] > 0.0);
    }
}
