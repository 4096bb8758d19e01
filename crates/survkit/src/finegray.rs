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
//! O(n log n + n p²) per iteration (crr's Fortran `crrvv` is O(n²) or worse),
//! holding O(n p) numbers. Large data with few covariate patterns (20 000
//! rows or more, at most half as many distinct (time, status, covariates)
//! rows: see `cox/cells.rs`) are fitted on those cells, each with its row
//! count as a weight in every sum: the same estimates up to summation order,
//! O(cells·p²) per iteration.

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

/// The data sorted by time: one unit per row, or per cell of identical rows
/// (same time, status and covariates) with its row count as a weight.
struct Sorted {
    /// 0 censored, 1 cause of interest, 2 competing.
    s: Vec<u8>,
    /// covariates, row-major (`x[u * p + k]`)
    x: Vec<f64>,
    /// rows in each unit
    w: Vec<f64>,
    /// G(T−) of each tie group
    g: Vec<f64>,
    /// tie groups: units `bounds[j]..bounds[j + 1]`
    bounds: Vec<usize>,
    /// rows at or after each tie group (the number at risk)
    at_risk: Vec<f64>,
    /// censored rows in each tie group
    censored: Vec<f64>,
    /// the tie groups with a failure of the cause, in order
    fail_groups: Vec<usize>,
}

impl Sorted {
    fn groups(&self) -> usize {
        self.bounds.len() - 1
    }

    fn units(&self, j: usize) -> std::ops::Range<usize> {
        self.bounds[j]..self.bounds[j + 1]
    }

    /// exp(xβ) of every unit.
    fn risk(&self, beta: &[f64]) -> Vec<f64> {
        (0..self.s.len()).map(|u| self.eta(u, beta).exp()).collect()
    }

    fn eta(&self, u: usize, beta: &[f64]) -> f64 {
        let p = beta.len();
        (0..p).map(|k| self.x[u * p + k] * beta[k]).sum()
    }
}

struct Eval {
    ll: f64,
    score: Vec<f64>,
    info: Vec<Vec<f64>>,
    /// S0 and S1 of each failure unit, in order (S1 row-major, `s1[f * p + k]`)
    s0: Vec<f64>,
    s1: Vec<f64>,
}

/// Adds `c·(1, x, x⊗x)` (the last only with `info`) to `acc`.
fn accumulate(acc: &mut [f64], c: f64, x: &[f64], info: bool) {
    let p = x.len();
    acc[0] += c;
    for a in 0..p {
        acc[1 + a] += c * x[a];
        if info {
            for b in 0..p {
                acc[1 + p + a * p + b] += c * x[a] * x[b];
            }
        }
    }
}

fn eval(d: &Sorted, beta: &[f64], need_info: bool) -> Eval {
    // S0, S1 (and S2 with `need_info`) of a failure at T: the suffix sums
    // over T_l >= T (kept at the start of each tie group with a failure, from
    // one backward pass) plus G(T−) times the prefix sums of the competing
    // rows with T_l < T (one forward pass): O(units·p²) time, O(groups·p²)
    // memory
    let p = beta.len();
    let width = 1 + p + if need_info { p * p } else { 0 };
    let r = d.risk(beta);
    let x = |u: usize| &d.x[u * p..(u + 1) * p];
    let mut suf = vec![0.0; d.fail_groups.len() * width];
    let mut acc = vec![0.0; width];
    let mut slot = d.fail_groups.len();
    for j in (0..d.groups()).rev() {
        for u in d.units(j).rev() {
            accumulate(&mut acc, d.w[u] * r[u], x(u), need_info);
        }
        if slot > 0 && d.fail_groups[slot - 1] == j {
            slot -= 1;
            suf[slot * width..(slot + 1) * width].copy_from_slice(&acc);
        }
    }
    let mut pre = vec![0.0; width];
    let mut ll = 0.0;
    let mut score = vec![0.0; p];
    let mut info = vec![vec![0.0; p]; p];
    let mut s0v = vec![];
    let mut s1v = vec![];
    let mut s1 = vec![0.0; p];
    let mut slot = 0;
    for j in 0..d.groups() {
        if d.fail_groups.get(slot) == Some(&j) {
            let sf = &suf[slot * width..(slot + 1) * width];
            slot += 1;
            let gj = d.g[j];
            let s0 = sf[0] + gj * pre[0];
            for (a, v) in s1.iter_mut().enumerate() {
                *v = sf[1 + a] + gj * pre[1 + a];
            }
            for u in d.units(j).filter(|&u| d.s[u] == 1) {
                let wu = d.w[u];
                ll += wu * (d.eta(u, beta) - s0.ln());
                for a in 0..p {
                    score[a] += wu * (x(u)[a] - s1[a] / s0);
                    if need_info {
                        for b in 0..p {
                            let s2 = sf[1 + p + a * p + b] + gj * pre[1 + p + a * p + b];
                            info[a][b] += wu * (s2 / s0 - s1[a] * s1[b] / (s0 * s0));
                        }
                    }
                }
                s0v.push(s0);
                s1v.extend_from_slice(&s1);
            }
        }
        for u in d.units(j).filter(|&u| d.s[u] == 2) {
            accumulate(&mut pre, d.w[u] * r[u] / d.g[j], x(u), need_info);
        }
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
    let s3: Vec<u8> = status
        .iter()
        .map(|&st| match st {
            0 => 0,
            c if c == code => 1,
            _ => 2,
        })
        .collect();
    let d = sort_units(time, &s3, columns);
    drop(s3);
    let count = |v: u8| -> usize {
        (0..d.s.len())
            .filter(|&u| d.s[u] == v)
            .map(|u| d.w[u] as usize)
            .sum()
    };
    let n_event = count(1);
    if n_event == 0 {
        return Err(SurvError::Degenerate {
            what: "Fine-Gray regression",
            message: format!("no failures of cause {code}"),
        });
    }
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
        n_competing: count(2),
        n_censored: count(0),
    })
}

/// The units (rows, or cells of identical rows when large data collapse:
/// see `cox/cells.rs`) sorted by time, their tie groups and the censoring
/// Kaplan–Meier left limits G(T−).
fn sort_units(time: &[f64], s3: &[u8], columns: &[(String, Vec<f64>)]) -> Sorted {
    use crate::cox::cells;
    let n = time.len();
    let p = columns.len();
    let cols: Vec<&[f64]> = columns.iter().map(|(_, c)| c.as_slice()).collect();
    let strata: Vec<usize> = s3.iter().map(|&v| usize::from(v)).collect();
    let event: Vec<bool> = s3.iter().map(|&v| v == 1).collect();
    let collapsed = cells::collapse(
        Some(time),
        None,
        &event,
        &cols,
        Some(&strata),
        cells::max_cells(n),
    );
    drop((strata, event));
    let (rep, w): (Vec<usize>, Vec<f64>) = match collapsed {
        Some(c) => (c.rep, c.count.iter().map(|&k| f64::from(k)).collect()),
        None => ((0..n).collect(), vec![1.0; n]),
    };
    // stable radix sort by time (−0 and +0 tie, as `==` below ties them)
    let mut keyed: Vec<(u64, u32)> = rep
        .iter()
        .enumerate()
        .map(|(u, &i)| (crate::sort::f64_key(time[i]), u as u32))
        .collect();
    crate::sort::radix_sort_pairs(&mut keyed);
    let ord: Vec<usize> = keyed.iter().map(|k| rep[k.1 as usize]).collect();
    let w: Vec<f64> = keyed.iter().map(|k| w[k.1 as usize]).collect();
    drop(keyed);
    let t: Vec<f64> = ord.iter().map(|&i| time[i]).collect();
    let s: Vec<u8> = ord.iter().map(|&i| s3[i]).collect();
    let x: Vec<f64> = ord
        .iter()
        .flat_map(|&i| cols.iter().map(move |c| c[i]))
        .collect();
    let m = ord.len();
    let mut bounds = vec![0];
    let (mut g, mut at_risk, mut censored, mut fail_groups) = (vec![], vec![], vec![], vec![]);
    // censoring KM, left limits
    let mut cur = 1.0;
    let mut before = 0.0;
    let mut u = 0;
    while u < m {
        let mut e = u + 1;
        while e < m && t[e] == t[u] {
            e += 1;
        }
        let y = n as f64 - before;
        let dc: f64 = (u..e).filter(|&k| s[k] == 0).map(|k| w[k]).sum();
        if (u..e).any(|k| s[k] == 1) {
            fail_groups.push(g.len());
        }
        g.push(cur);
        at_risk.push(y);
        censored.push(dc);
        cur *= 1.0 - dc / y;
        before += (u..e).map(|k| w[k]).sum::<f64>();
        bounds.push(e);
        u = e;
    }
    debug_assert_eq!(x.len(), m * p);
    Sorted {
        s,
        x,
        w,
        g,
        bounds,
        at_risk,
        censored,
        fail_groups,
    }
}

/// crr's sandwich variance (see the module docs).
fn sandwich(d: &Sorted, beta: &[f64], e: &Eval) -> Vec<Vec<f64>> {
    // prefix and suffix sums over the failures and the competing rows,
    // kept per tie group where a later pass needs them (the sums in the same
    // order as over the rows)
    let p = beta.len();
    let ng = d.groups();
    let x = |u: usize| &d.x[u * p..(u + 1) * p];
    let r = d.risk(beta);
    // suffix over failures with T_j >= the start of each tie group, and
    // past its end: Σ G/S0, Σ G S1/S0²
    let mut a = vec![0.0; (ng + 1) * (1 + p)];
    let mut k_fail = e.s0.len();
    for j in (0..ng).rev() {
        let (lo, hi) = a.split_at_mut((j + 1) * (1 + p));
        let acc = &mut lo[j * (1 + p)..];
        acc.copy_from_slice(&hi[..1 + p]);
        for u in d.units(j).rev().filter(|&u| d.s[u] == 1) {
            k_fail -= 1;
            let s0 = e.s0[k_fail];
            let wg = d.w[u] * d.g[j];
            acc[0] += wg / s0;
            for k in 0..p {
                acc[1 + k] += wg * e.s1[k_fail * p + k] / (s0 * s0);
            }
        }
    }
    // prefix over failures with T_j <= the end of the group: Σ 1/S0, Σ S1/S0²
    let mut p0 = 0.0;
    let mut p1 = vec![0.0; p];
    // competing prefix (C0, C1) over T_l before the group
    let mut c = vec![0.0; 1 + p];
    let mut v2 = vec![vec![0.0; p]; p];
    let mut psi_cum = vec![0.0; p];
    let mut q = vec![0.0; p];
    let mut st = vec![0.0; p];
    let mut k_fail = 0;
    for j in 0..ng {
        let units = d.units(j);
        let k_first = k_fail;
        for u in units.clone().filter(|&u| d.s[u] == 1) {
            let s0 = e.s0[k_fail];
            p0 += d.w[u] / s0;
            for k in 0..p {
                p1[k] += d.w[u] * e.s1[k_fail * p + k] / (s0 * s0);
            }
            k_fail += 1;
        }
        let (af, aend) = (&a[j * (1 + p)..(j + 1) * (1 + p)], &a[(j + 1) * (1 + p)..]);
        let y = d.at_risk[j];
        let nc = d.censored[j];
        for k in 0..p {
            q[k] = if nc > 0.0 {
                c[1 + k] * af[0] - c[0] * af[1 + k]
            } else {
                0.0
            };
        }
        for k in 0..p {
            psi_cum[k] -= q[k] * nc / (y * y);
        }
        let mut k_row = k_first;
        for u in units.clone() {
            st.fill(0.0);
            let xi = x(u);
            // dΛ part: failures with T_j <= T_i
            for k in 0..p {
                st[k] -= r[u] * (xi[k] * p0 - p1[k]);
            }
            // competing: failures with T_j > T_i, weighted G(T_j-)/G(T_i-)
            if d.s[u] == 2 {
                for k in 0..p {
                    st[k] -= r[u] / d.g[j] * (xi[k] * aend[0] - aend[1 + k]);
                }
            }
            if d.s[u] == 1 {
                for k in 0..p {
                    st[k] += xi[k] - e.s1[k_row * p + k] / e.s0[k_row];
                }
                k_row += 1;
            }
            for k in 0..p {
                st[k] += psi_cum[k];
                if d.s[u] == 0 {
                    st[k] += q[k] / y;
                }
            }
            for (a, row) in v2.iter_mut().enumerate() {
                for (b, v) in row.iter_mut().enumerate() {
                    *v += d.w[u] * (st[a] * st[b]);
                }
            }
        }
        for u in units.filter(|&u| d.s[u] == 2) {
            accumulate(&mut c, d.w[u] * r[u] / d.g[j], x(u), false);
        }
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

    /// Large data with few covariate patterns are fitted on cells of
    /// identical (time, status, covariates) rows with their counts as
    /// weights: the same fit as row by row (up to summation order), with
    /// ties, all three statuses, a two-level and an integer covariate.
    #[test]
    fn cells_match_the_rows() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand::rngs::StdRng::seed_from_u64(7);
        let n = 30_000;
        let (mut time, mut status, mut x1, mut x2) = (vec![], vec![], vec![], vec![]);
        for _ in 0..n {
            let a = f64::from(u8::from(rng.random_bool(0.4)));
            let b = f64::from(rng.random_range(0..4u32));
            let h1 = 0.02 * (0.5 * a + 0.1 * b).exp();
            let h2 = 0.01 * (-0.3 * a).exp();
            let t1 = -rng.random::<f64>().ln() / h1;
            let t2 = -rng.random::<f64>().ln() / h2;
            let c = rng.random_range(5.0..120.0);
            let t = t1.min(t2).min(c);
            time.push(t.ceil());
            status.push(if t == c {
                0
            } else if t == t1 {
                1
            } else {
                2
            });
            x1.push(a);
            x2.push(b);
        }
        let cols = vec![("a".to_string(), x1), ("b".to_string(), x2)];
        let opts = FineGrayOptions::default();
        // the cell path is taken: far fewer units than rows (and the row
        // path keeps every row)
        let s3: Vec<u8> = status.iter().map(|&v| v as u8).collect();
        let units = sort_units(&time, &s3, &cols).s.len();
        assert!(units < n / 2, "{units} units for {n} rows");
        let unit_rows = crate::cox::cells::rows_only(|| sort_units(&time, &s3, &cols).s.len());
        assert_eq!(unit_rows, n);
        for code in [1, 2] {
            let cells = fine_gray(&time, &status, code, &cols, &opts).unwrap();
            let rows = crate::cox::cells::rows_only(|| {
                fine_gray(&time, &status, code, &cols, &opts).unwrap()
            });
            let close = |a: f64, b: f64, what: &str| {
                let r = (a - b).abs() / a.abs().max(b.abs());
                assert!(r < 1e-9, "cause {code} {what}: {a} vs {b}");
            };
            close(cells.loglik, rows.loglik, "loglik");
            close(cells.loglik_null, rows.loglik_null, "loglik_null");
            for (c, r) in cells.terms.iter().zip(&rows.terms) {
                close(c.coef, r.coef, "coef");
                close(c.se, r.se, "se");
            }
            close(cells.var[0][1], rows.var[0][1], "covariance");
            assert_eq!(
                (cells.n, cells.n_event, cells.n_competing, cells.n_censored),
                (rows.n, rows.n_event, rows.n_competing, rows.n_censored)
            );
            assert_eq!(cells.n_event + cells.n_competing + cells.n_censored, n);
            assert!(cells.converged && rows.converged);
        }
    }
}
