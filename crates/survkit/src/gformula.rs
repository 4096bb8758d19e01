//! Covariate-adjusted (standardized, g-formula) survival from a Cox model,
//! with influence-function standard errors (Robins 1986; Makuch 1982
//! "direct adjusted survival"; Ozenne, Scheike, Stærk, Gerds 2020,
//! *Biometrical Journal* 62:751, and Ozenne et al. 2017, *R Journal* 9:440,
//! for the influence functions). Matches R riskRegression's
//! `ate(fit, data, treatment, times, estimator = "GFORMULA")` (version
//! 2022.11.28) on a `coxph(Surv(time, event) ~ A + covariates, x = TRUE,
//! y = TRUE)` fit: point estimates, `se`, Wald CIs and the p-value of the
//! difference.
//!
//! **Estimate.** With β̂ and the baseline hazard Λ̂₀ (Efron-corrected jumps
//! λ̂_k as `survfit.coxph`, or Breslow d_k/S⁽⁰⁾_k), for treatment level a
//! every analysed row i is given A = a, x_i(a), and
//! Ŝ_i(t | a) = exp(−Λ̂₀(t)·exp(x_i(a)ᵀβ̂)), θ̂(t, a) = (1/n) Σ_i Ŝ_i(t | a)
//! (step function at the last event time ≤ t).
//!
//! **Influence function** (scaled as riskRegression's `iid`, i.e. IF/n, so
//! SE = sqrt(Σ_i φ_i²)). With S⁽⁰⁾_k = Σ_{T_j ≥ t_k} e^{η_j},
//! E_k = S⁽¹⁾_k/S⁽⁰⁾_k at the distinct event times t_k and V = the fit's
//! model-based variance:
//! - β: φᵝ_i = V·[δ_i (x_i − E(T_i)) − e^{η_i} Σ_{t_k ≤ T_i} (x_i − E_k)/S⁽⁰⁾_k].
//!   As riskRegression's `iidCox` (and unlike R's `dfbeta` residuals when
//!   event times are tied) the compensator counts each *distinct* event
//!   time once (1/S⁽⁰⁾_k rather than d_k/S⁽⁰⁾_k); without ties both agree.
//! - Λ₀(τ): φᴸ_i(τ) = −φᵝ_iᵀ Σ_{t_k ≤ τ} E_k λ̂_k − e^{η_i} Σ_{t_k ≤ min(τ, T_i)} λ̂_k/S⁽⁰⁾_k
//!   + 1{T_i ≤ τ} δ_i/S⁽⁰⁾(T_i).
//! - θ(τ, a): φ_i = (Ŝ_i(τ | a) − θ̂)/n + ḡ φᴸ_i(τ) + Λ̂₀(τ) φᵝ_iᵀ Ḡ, with
//!   g_j = −Ŝ_j(τ | a) e^{η_j(a)}, ḡ = mean_j g_j, Ḡ = mean_j g_j x_j(a) (the
//!   first term is the uncertainty of averaging over the sample's
//!   covariates, the others that of the Cox fit).
//! - difference θ(τ, a) − θ(τ, ref): φ_i(a) − φ_i(ref).
//!
//! Everything is computed with centred covariates (x − x̄, the fit's means;
//! the result does not depend on the centring) in O((n + K)·p) per time.
//! **Intervals**: plain Wald, estimate ± z·SE, on the risk scale as `ate`'s
//! default (`meanRisk.transform = "none"`), which for survival = 1 − risk
//! is the same symmetric interval, clipped to [0, 1] (differences to
//! [−1, 1]) as `ate` clips; p-value of a difference 2·(1 − Φ(|est/SE|)).
//! SEs at a time after the last follow-up time are `NaN` (R: `NA`).
//!
//! **Large data** (≥ 20 000 rows) with few covariate patterns run over the
//! (time, status, covariate values) cells of `cox/cells.rs`, each sum
//! weighted by its cell's row count: rows of one cell have the same Ŝ_i and
//! influence terms, so this is the same estimate and SE in another
//! summation order (asserted against the rows in this module's tests).

use serde::Serialize;

use crate::cox::{CoxFit, Design, Ties};
use crate::dist::{two_sided_p, z_for_level};
use crate::error::{check_len, check_times, Result, SurvError};

/// Adjusted survival of one treatment level at the requested times.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct AdjustedCurve {
    /// θ̂(t | level) at each requested time.
    pub surv: Vec<f64>,
    /// Influence-function standard error (`ate`'s `se`).
    pub se: Vec<f64>,
    /// Lower Wald limit, clipped at 0.
    pub lower: Vec<f64>,
    /// Upper Wald limit, clipped at 1.
    pub upper: Vec<f64>,
}

/// A difference θ̂(t | level) − θ̂(t | reference) at the requested times.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct AdjustedDifference {
    /// Index of the level (into [`GFormula::curves`]); the reference is 0.
    pub level: usize,
    /// The difference in survival (level minus reference).
    pub estimate: Vec<f64>,
    /// Influence-function standard error.
    pub se: Vec<f64>,
    /// Lower Wald limit, clipped at −1.
    pub lower: Vec<f64>,
    /// Upper Wald limit, clipped at 1.
    pub upper: Vec<f64>,
    /// Two-sided Wald p-value of no difference.
    pub p: Vec<f64>,
}

/// Result of [`gformula`].
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct GFormula {
    /// The requested times.
    pub at: Vec<f64>,
    /// Confidence level of the intervals.
    pub conf_level: f64,
    /// One curve per treatment level: index 0 is the reference (every
    /// treatment indicator 0), index a ≥ 1 sets indicator a − 1 to 1.
    pub curves: Vec<AdjustedCurve>,
    /// Each level a ≥ 1 against the reference.
    pub differences: Vec<AdjustedDifference>,
}

/// g-formula adjusted survival (module docs) from a fitted Cox model `fit`
/// of `time`/`event` on `design`, whose first `n_trt` columns are the
/// treatment's indicator columns (treatment coding, reference = all 0); the
/// other columns are the adjustment covariates. The fit must be
/// unweighted, unstratified, right-censored, with Efron or Breslow ties,
/// on exactly these rows. `at`: the times; `conf_level`: e.g. 0.95.
pub fn gformula(
    time: &[f64],
    event: &[bool],
    design: &Design,
    n_trt: usize,
    fit: &CoxFit,
    at: &[f64],
    conf_level: f64,
) -> Result<GFormula> {
    gformula_cells(time, event, design, n_trt, fit, at, conf_level, None)
}

/// [`cox_fit`](crate::cox::cox_fit) with `cox` and [`gformula`] of that fit
/// on the same rows: the same two results as the two calls, with the
/// collapse of large data into cells done once for both (when the time fix
/// leaves the times as they are; else the g-formula collapses its own).
/// The outer error is the fit's; the g-formula's is inside.
pub fn cox_fit_and_gformula(
    time: &[f64],
    event: &[bool],
    design: &Design,
    n_trt: usize,
    cox: &crate::cox::CoxOptions,
    at: &[f64],
    conf_level: f64,
) -> Result<(CoxFit, Result<GFormula>)> {
    let mut handoff = crate::cox::FitHandoff::default();
    let fit = crate::cox::cox_fit_rows_cells(
        time,
        event,
        design,
        None,
        None,
        &crate::cox::CoxRows::default(),
        cox,
        Some(&mut handoff),
    )?;
    let cells = match (handoff.cells, handoff.time) {
        (Some(cells), Some(crate::cox::FitTimes::AsGiven)) => Some(cells),
        (Some(cells), Some(crate::cox::FitTimes::Fixed(fixed))) if fixed == time => Some(cells),
        _ => None,
    };
    let g = gformula_cells(time, event, design, n_trt, &fit, at, conf_level, cells);
    Ok((fit, g))
}

/// [`gformula`]; `pre`: the collapse of these rows when the fit made it.
#[allow(clippy::too_many_arguments)]
fn gformula_cells(
    time: &[f64],
    event: &[bool],
    design: &Design,
    n_trt: usize,
    fit: &CoxFit,
    at: &[f64],
    conf_level: f64,
    pre: Option<Option<crate::cox::cells::Cells>>,
) -> Result<GFormula> {
    let n = time.len();
    check_len("event", event.len(), n)?;
    check_times(time)?;
    if n == 0 {
        return Err(SurvError::Empty);
    }
    let p = design.len();
    for c in &design.columns {
        check_len("covariate", c.len(), n)?;
    }
    if n_trt == 0 || n_trt > p || fit.terms.len() != p || fit.means.len() != p {
        return Err(SurvError::InvalidOption {
            name: "n_trt",
            message: format!(
                "the fit has {} terms for {p} design columns, {n_trt} of them treatment indicators",
                fit.terms.len()
            ),
        });
    }
    if fit.ties == Ties::Exact {
        return Err(SurvError::InvalidOption {
            name: "ties",
            message: "g-formula standard errors need an Efron or Breslow fit".into(),
        });
    }
    if !(conf_level > 0.0 && conf_level < 1.0) {
        return Err(SurvError::InvalidOption {
            name: "conf_level",
            message: format!("{conf_level} is not in (0, 1)"),
        });
    }
    if let Some(t) = fit.terms.iter().find(|t| !t.coef.is_finite()) {
        return Err(SurvError::InvalidOption {
            name: "fit",
            message: format!("coefficient of {} is not finite", t.term),
        });
    }
    let beta: Vec<f64> = fit.terms.iter().map(|t| t.coef).collect();
    // large data with few covariate patterns: rows with the same time,
    // status and covariates have the same estimate and influence terms, so
    // the sums run over (time, status, pattern) cells weighted by their row
    // counts (see `cox/cells.rs`); the same sums in another order (the
    // same cells as the fit's, when it collapsed these rows)
    let cells = pre.unwrap_or_else(|| {
        crate::cox::cells::collapse(
            Some(time),
            None,
            event,
            &design.columns,
            None,
            crate::cox::cells::max_cells(n),
        )
    });
    // each cell's time, status and covariates (at its first row)
    let picked = cells.as_ref().map(|c| {
        let cols: Vec<Vec<f64>> = design.columns.iter().map(|v| c.pick(v)).collect();
        (c.pick(time), c.pick(event), cols)
    });
    let (t, e, cols) = match &picked {
        Some((t, e, cols)) => (&t[..], &e[..], cols),
        None => (time, event, &design.columns),
    };
    let cols: Vec<&[f64]> = cols.iter().map(Vec::as_slice).collect();
    let units = Units {
        time: t,
        event: e,
        cols: &cols,
        count: cells.as_ref().map(|c| &c.count[..]),
    };
    Ok(gformula_units(&units, n, n_trt, fit, &beta, at, conf_level))
}

/// The rows of a g-formula, or their cells (`count` rows each).
struct Units<'a> {
    time: &'a [f64],
    event: &'a [bool],
    /// Covariate columns, treatment indicators first.
    cols: &'a [&'a [f64]],
    count: Option<&'a [u32]>,
}

/// [`gformula`] over validated units; `n_rows` is the number of rows they
/// stand for (the θ̂ and influence-function scale).
fn gformula_units(
    u: &Units,
    n_rows: usize,
    n_trt: usize,
    fit: &CoxFit,
    beta: &[f64],
    at: &[f64],
    conf_level: f64,
) -> GFormula {
    let (time, event) = (u.time, u.event);
    let n = time.len();
    let p = u.cols.len();
    // rows per unit (1.0 for rows: the products below are then exact)
    let w = |i: usize| u.count.map_or(1.0, |c| f64::from(c[i]));
    let m = |i: usize| u.count.map_or(1, |c| c[i] as usize);
    let xbar = &fit.means;
    let xc = |i: usize, j: usize| u.cols[j][i] - xbar[j];
    let r: Vec<f64> = (0..n)
        .map(|i| (0..p).map(|j| xc(i, j) * beta[j]).sum::<f64>().exp())
        .collect();

    // distinct event times, S0, E, baseline jumps (descending sweep)
    // (stable, as sort_by(total_cmp))
    let ord: Vec<usize> = crate::sort::order_by_total(time);
    let (mut ut, mut s0, mut e, mut lam) = (vec![], vec![], vec![], vec![]);
    let mut acc0 = 0.0;
    let mut acc1 = vec![0.0; p];
    let mut hi = n;
    while hi > 0 {
        let t = time[ord[hi - 1]];
        let mut lo = hi;
        while lo > 0 && time[ord[lo - 1]] == t {
            lo -= 1;
        }
        let (mut d, mut dr) = (0usize, 0.0);
        for &i in &ord[lo..hi] {
            let wr = w(i) * r[i];
            acc0 += wr;
            for j in 0..p {
                acc1[j] += wr * xc(i, j);
            }
            if event[i] {
                d += m(i);
                dr += wr;
            }
        }
        if d > 0 {
            let dd = d as f64;
            lam.push(match fit.ties {
                Ties::Breslow => dd / acc0,
                _ => (0..d).map(|m| 1.0 / (acc0 - m as f64 / dd * dr)).sum(),
            });
            ut.push(t);
            s0.push(acc0);
            e.push(acc1.iter().map(|v| v / acc0).collect::<Vec<f64>>());
        }
        hi = lo;
    }
    ut.reverse();
    s0.reverse();
    e.reverse();
    lam.reverse();
    let k_n = ut.len();
    // prefix sums: A_m = Σ_{k<m} 1/S0, B_m = Σ_{k<m} E/S0, L_m = Σ λ/S0,
    // H_m = Σ λ, C_m = Σ E λ
    let mut a_cum = vec![0.0; k_n + 1];
    let mut l_cum = vec![0.0; k_n + 1];
    let mut h_cum = vec![0.0; k_n + 1];
    let mut b_cum = vec![vec![0.0; p]; k_n + 1];
    let mut c_cum = vec![vec![0.0; p]; k_n + 1];
    for k in 0..k_n {
        a_cum[k + 1] = a_cum[k] + 1.0 / s0[k];
        l_cum[k + 1] = l_cum[k] + lam[k] / s0[k];
        h_cum[k + 1] = h_cum[k] + lam[k];
        for j in 0..p {
            b_cum[k + 1][j] = b_cum[k][j] + e[k][j] / s0[k];
            c_cum[k + 1][j] = c_cum[k][j] + e[k][j] * lam[k];
        }
    }
    let n_le = |t: f64| ut.partition_point(|&x| x <= t);

    // influence of β of unit i (IF/n scale: V is the inverse information),
    // into `out` (`score`: scratch); worked out where it is used, at each
    // time, rather than held for every unit (n × p values: 18 MB of a
    // 10^6-patient study's peak)
    let v = &fit.var;
    let ki: Vec<usize> = time.iter().map(|&t| n_le(t)).collect();
    let ifb_row = |i: usize, score: &mut [f64], out: &mut [f64]| {
        let m = ki[i];
        for j in 0..p {
            let x = xc(i, j);
            let mut s = -r[i] * (x * a_cum[m] - b_cum[m][j]);
            if event[i] {
                s += x - e[m - 1][j];
            }
            score[j] = s;
        }
        for j in 0..p {
            out[j] = (0..p).map(|l| v[j][l] * score[l]).sum();
        }
    };
    let (mut score, mut ifb) = (vec![0.0; p], vec![0.0; p]);

    let last = time.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let n_f = n_rows as f64;
    let levels = n_trt + 1;
    let z = z_for_level(conf_level);
    let mut curves: Vec<AdjustedCurve> = (0..levels)
        .map(|_| AdjustedCurve {
            surv: vec![],
            se: vec![],
            lower: vec![],
            upper: vec![],
        })
        .collect();
    let mut differences: Vec<AdjustedDifference> = (1..levels)
        .map(|a| AdjustedDifference {
            level: a,
            estimate: vec![],
            se: vec![],
            lower: vec![],
            upper: vec![],
            p: vec![],
        })
        .collect();
    // linear predictor without the treatment columns (centred), and the
    // centred treatment part of each level
    let base: Vec<f64> = (0..n)
        .map(|i| (n_trt..p).map(|j| xc(i, j) * beta[j]).sum::<f64>())
        .collect();
    let trt_x = |a: usize, j: usize| -> f64 {
        let ind = if a >= 1 && j == a - 1 { 1.0 } else { 0.0 };
        ind - xbar[j]
    };
    // exp(η_i(a)) of every row and level (the same at every time)
    let risk_a: Vec<Vec<f64>> = (0..levels)
        .map(|a| {
            let shift: f64 = (0..n_trt).map(|j| trt_x(a, j) * beta[j]).sum();
            base.iter().map(|&b| (b + shift).exp()).collect()
        })
        .collect();
    drop(base);
    let mut phi = vec![vec![0.0; n]; levels];
    for &tau in at {
        let kt = n_le(tau);
        let big_l = h_cum[kt];
        let with_se = tau <= last;
        // per level: S_i(a), θ(a) and, for the SE, ḡ(a) and g(a)
        let per_level: Vec<(Vec<f64>, f64, f64, Vec<f64>)> = risk_a
            .iter()
            .enumerate()
            .map(|(a, ra)| {
                let s_i: Vec<f64> = ra.iter().map(|&r| (-big_l * r).exp()).collect();
                let theta = (0..n).map(|i| w(i) * s_i[i]).sum::<f64>() / n_f;
                let mut gbar = 0.0;
                let mut gvec = vec![0.0; p];
                if with_se {
                    for i in 0..n {
                        let g = -s_i[i] * ra[i] * w(i);
                        gbar += g;
                        for j in 0..p {
                            let x = if j < n_trt { trt_x(a, j) } else { xc(i, j) };
                            gvec[j] += g * x;
                        }
                    }
                    gbar /= n_f;
                    for g in &mut gvec {
                        *g /= n_f;
                    }
                }
                (s_i, theta, gbar, gvec)
            })
            .collect();
        // each unit's influence: its β row once for this time and every
        // level (in unit order, as each level's sum of squares adds them)
        let mut ss = vec![0.0; levels];
        if with_se {
            for i in 0..n {
                ifb_row(i, &mut score, &mut ifb);
                let c: f64 = (0..p).map(|j| ifb[j] * c_cum[kt][j]).sum();
                let mut iflam = -c - r[i] * l_cum[kt.min(ki[i])];
                if event[i] && time[i] <= tau {
                    iflam += 1.0 / s0[ki[i] - 1];
                }
                for (a, (s_i, theta, gbar, gvec)) in per_level.iter().enumerate() {
                    let bterm: f64 = (0..p).map(|j| ifb[j] * gvec[j]).sum();
                    let f = (s_i[i] - theta) / n_f + gbar * iflam + big_l * bterm;
                    phi[a][i] = f;
                    ss[a] += w(i) * f * f;
                }
            }
        }
        for (a, (_, theta, _, _)) in per_level.iter().enumerate() {
            let theta = *theta;
            let c = &mut curves[a];
            c.surv.push(theta);
            if !with_se {
                c.se.push(f64::NAN);
                c.lower.push(f64::NAN);
                c.upper.push(f64::NAN);
                continue;
            }
            let se = ss[a].sqrt();
            c.se.push(se);
            c.lower.push((theta - z * se).max(0.0));
            c.upper.push((theta + z * se).min(1.0));
        }
        for d in &mut differences {
            let a = d.level;
            let est = curves[a].surv.last().copied().unwrap_or(f64::NAN)
                - curves[0].surv.last().copied().unwrap_or(f64::NAN);
            d.estimate.push(est);
            if !with_se {
                d.se.push(f64::NAN);
                d.lower.push(f64::NAN);
                d.upper.push(f64::NAN);
                d.p.push(f64::NAN);
                continue;
            }
            let se = phi[a]
                .iter()
                .zip(&phi[0])
                .enumerate()
                .map(|(i, (x, y))| w(i) * (x - y) * (x - y))
                .sum::<f64>()
                .sqrt();
            d.se.push(se);
            d.lower.push((est - z * se).max(-1.0));
            d.upper.push((est + z * se).min(1.0));
            d.p.push(if se > 0.0 {
                two_sided_p(est / se)
            } else {
                f64::NAN
            });
        }
    }
    GFormula {
        at: at.to_vec(),
        conf_level,
        curves,
        differences,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cox::{cox_fit, CoxOptions};
    use rand::{Rng, SeedableRng};

    /// Large data with few covariate patterns run over cells; the same data
    /// row by row (the collapse switched off on this thread) must give the
    /// same curves, standard errors and differences, up to summation order.
    #[test]
    fn cells_equal_rows() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(11);
        let n = 40_000;
        let (mut time, mut event, mut trt, mut sex, mut age) =
            (vec![], vec![], vec![], vec![], vec![]);
        for _ in 0..n {
            let a = rng.random_bool(0.35);
            let s = rng.random_bool(0.5);
            let years = f64::from(rng.random_range(50..60u32));
            let risk = 0.03
                * (0.6 * f64::from(u8::from(a)) - 0.2 * f64::from(u8::from(s))
                    + 0.03 * (years - 55.0))
                    .exp();
            let t = (-rng.random::<f64>().ln() / risk).ceil().min(120.0);
            let c = f64::from(rng.random_range(5..150u32));
            time.push(t.min(c));
            event.push(t <= c);
            trt.push(f64::from(u8::from(a)));
            sex.push(f64::from(u8::from(s)));
            age.push(years);
        }
        let mut d = Design::default();
        d.add_numeric("trt", trt);
        d.add_numeric("sex", sex);
        d.add_numeric("age", age);
        let fit = cox_fit(&time, &event, &d, None, &CoxOptions::default()).unwrap();
        let at = [6.0, 24.0, 60.0, 500.0];
        let cells = crate::cox::cells::collapse(
            Some(&time),
            None,
            &event,
            &d.columns,
            None,
            crate::cox::cells::max_cells(n),
        )
        .expect("the data collapse");
        assert!(cells.len() < n / 4, "{} cells", cells.len());
        let g = gformula(&time, &event, &d, 1, &fit, &at, 0.95).unwrap();
        let rows = crate::cox::cells::rows_only(|| gformula(&time, &event, &d, 1, &fit, &at, 0.95))
            .unwrap();
        let close = |a: &[f64], b: &[f64], what: &str| {
            assert_eq!(a.len(), b.len());
            for (x, y) in a.iter().zip(b) {
                let r = (x - y).abs() / x.abs().max(y.abs()).max(1e-300);
                assert!(
                    (x.is_nan() && y.is_nan()) || x == y || r < 1e-10,
                    "{what}: {x} vs {y} ({r:.1e})"
                );
            }
        };
        for (a, b) in g.curves.iter().zip(&rows.curves) {
            close(&a.surv, &b.surv, "surv");
            close(&a.se, &b.se, "se");
            close(&a.lower, &b.lower, "lower");
            close(&a.upper, &b.upper, "upper");
        }
        let (a, b) = (&g.differences[0], &rows.differences[0]);
        close(&a.estimate, &b.estimate, "difference");
        close(&a.se, &b.se, "difference se");
        close(&a.p, &b.p, "difference p");
        // the last time is after every follow-up: no SE on either path
        assert!(g.curves[0].se[3].is_nan() && rows.curves[0].se[3].is_nan());
        assert!(g.curves[1].surv[0] < g.curves[0].surv[0]);
        // the fit and the g-formula together (one collapse): the same two
        // results to the bit, on collapsing and on small data
        let opts = CoxOptions::default();
        let (fit2, g2) = cox_fit_and_gformula(&time, &event, &d, 1, &opts, &at, 0.95).unwrap();
        assert_eq!(format!("{fit:?}"), format!("{fit2:?}"));
        assert_eq!(format!("{g:?}"), format!("{:?}", g2.unwrap()));
        let small = 3_000;
        let mut ds = Design::default();
        for (name, c) in d.names.iter().zip(&d.columns) {
            ds.add_numeric(name, c[..small].to_vec());
        }
        let (t, e) = (&time[..small], &event[..small]);
        let fit = cox_fit(t, e, &ds, None, &opts).unwrap();
        let g = gformula(t, e, &ds, 1, &fit, &at, 0.95).unwrap();
        let (fit2, g2) = cox_fit_and_gformula(t, e, &ds, 1, &opts, &at, 0.95).unwrap();
        assert_eq!(format!("{fit:?}"), format!("{fit2:?}"));
        assert_eq!(format!("{g:?}"), format!("{:?}", g2.unwrap()));
        // errors of the g-formula stay inside
        let (_, bad) = cox_fit_and_gformula(t, e, &ds, 1, &opts, &at, 1.5).unwrap();
        assert!(bad.is_err());
    }
}
