//! Competing risks: cumulative incidence functions and Gray's K-sample test
//! (R: `cmprsk::cuminc(ftime, fstatus, group, strata, rho = 0, cencode = 0)`
//! and `cmprsk::timepoints()`, cmprsk 2.2-11).
//!
//! # Estimator
//!
//! Within a group, at each distinct time `t_i` with `n_i` subjects at risk
//! (time ≥ t_i), `d_i1` failures from the cause of interest and `d_i2` failures
//! from any other cause (`d_i = d_i1 + d_i2`), with `S` the all-cause
//! Kaplan–Meier estimate:
//!
//! * `F(t) = Σ_{t_i ≤ t} S(t_i−) · d_i1 / n_i` — the Aalen–Johansen /
//!   Kalbfleisch–Prentice (1980, pp. 168–9) cumulative incidence; equal to the
//!   `pstate` of `survfit(Surv(t, factor(cause)) ~ g)`.
//! * Variance: the asymptotic variance of Aalen (1978) as cmprsk computes it.
//!   With `w_i(d) = S(t_i−)² · c_i(d) · d / n_i²`, the tie factor
//!   `c_i(d) = 1 − (d − 1)/(n_i − 1)` (1 when d = 1), and `F_i = F(t_i)`:
//!   other-cause failures add `w_i(d_i2) · (F_i/S(t_i) − F(t)/S(t_i))²`
//!   (only while `S(t_i) > 0`), failures from the cause add
//!   `w_i(d_i1) · (1 + F_i/S(t_i) − F(t)/S(t_i))²` (the `1/S(t_i)` terms taken
//!   as 0 once `S(t_i) = 0`), i.e. `Var F(t) = V1 + F(t)² V3 − 2 F(t) V2` with
//!   running sums V1, V2, V3. As in cmprsk the variance is *reported* only at
//!   jumps of `F` and carried forward in between.
//!
//! Curves use cmprsk's step-function representation ([`CifCurve`]): the first
//! point is (0, 0), every jump time appears twice (value before, value after),
//! and the last point repeats the final value at the group's largest follow-up
//! time. [`CifCurve::value_at`] reproduces `timepoints()`: the value at the last
//! jump ≤ t, `None` (R `NA`) for t beyond the largest follow-up time or t < 0.
//!
//! Pointwise confidence limits (not part of `cuminc`): by default the
//! log(−log) transform recommended for cumulative incidence (Choudhury 2002;
//! Pintilie 2006, *Competing Risks: A Practical Perspective*, used by
//! tidycmprsk): `F^exp(±z·sd/(F·log F))`, `sd = sqrt(var)`; undefined (NaN /
//! `None`) where F is 0 or 1. [`CifConfType::Plain`] gives `F ± z·sd` clipped
//! to [0, 1].
//!
//! # Gray's test
//!
//! Gray (1988), "A class of K-sample tests for comparing the cumulative
//! incidence of a competing risk", *Ann. Statist.* 16:1141–1154, with the
//! weight `(1 − F̂(t−))^ρ` (`F̂` the pooled estimate of the paper), score for
//! groups 1..K−1, its variance (including the same tie corrections as cmprsk),
//! summed over strata; statistic `sᵀ V⁻¹ s` on K − 1 df. One test per cause
//! (`cuminc(...)$Tests`). Where R's QR finds V singular it reports stat = −1
//! (p = 1); here the statistic and p-value are NaN instead.
//!
//! Times are compared exactly (cmprsk has no `timefix`). Status codes: 0 = censored, any other value `k` = failure from cause `k`.
//! Causes and groups are reported in increasing order (R's factor / table
//! order for numeric codes); curves are ordered cause-major, as R names them
//! (`"F 1"`, `"M 1"`, `"F 2"`, `"M 2"`).

use serde::Serialize;

use crate::dist::{chisq_sf, z_for_level};
use crate::error::{check_len, check_times, Result, SurvError};
use crate::linalg::{ldl, ldl_solve, Mat, TOLER_CHOL};

/// Transform for pointwise confidence limits of a cumulative incidence.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum CifConfType {
    /// `F^exp(±z·sd/(F·log F))` (log(−log) of F) — the usual choice.
    #[default]
    LogLog,
    /// `F ± z·sd`, clipped to [0, 1].
    Plain,
    /// No confidence limits (NaN).
    None,
}

/// Options of [`cuminc`].
#[derive(Debug, Clone, PartialEq)]
pub struct CifOptions {
    /// Power ρ of the weight `(1 − F(t−))^ρ` in Gray's test (R `rho`, default 0).
    pub rho: f64,
    /// Confidence-limit transform (default log(−log)).
    pub conf_type: CifConfType,
    /// Confidence level in (0, 1) (default 0.95).
    pub conf_level: f64,
    /// Times at which to report each curve (R `timepoints(fit, times)`), in
    /// the given order (R sorts and de-duplicates them). Must not be NaN.
    pub times: Vec<f64>,
}

impl Default for CifOptions {
    fn default() -> Self {
        CifOptions {
            rho: 0.0,
            conf_type: CifConfType::LogLog,
            conf_level: 0.95,
            times: Vec::new(),
        }
    }
}

impl CifOptions {
    fn validate(&self) -> Result<()> {
        if !(self.conf_level > 0.0 && self.conf_level < 1.0) {
            return Err(SurvError::InvalidOption {
                name: "conf_level",
                message: format!("{} is not in (0, 1)", self.conf_level),
            });
        }
        if !self.rho.is_finite() {
            return Err(SurvError::InvalidOption {
                name: "rho",
                message: format!("{} is not finite", self.rho),
            });
        }
        if let Some(t) = self.times.iter().find(|t| t.is_nan()) {
            return Err(SurvError::InvalidOption {
                name: "times",
                message: format!("{t} is not a time"),
            });
        }
        Ok(())
    }
}

/// Value of one curve at a requested time (R `timepoints()`); `None` = `NA`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct CifAt {
    /// Requested time.
    pub time: f64,
    /// Cumulative incidence at `time`.
    pub est: Option<f64>,
    /// Variance of `est` (cmprsk, Aalen 1978).
    pub var: Option<f64>,
    /// Lower confidence limit.
    pub lower: Option<f64>,
    /// Upper confidence limit.
    pub upper: Option<f64>,
}

/// Cumulative incidence of one cause in one group, in cmprsk's step
/// representation (see the module docs): `time[0] = 0`, each jump time twice.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CifCurve {
    /// Group label (the value passed in `group`; 0 when no groups were given).
    pub group: usize,
    /// Cause code.
    pub cause: u32,
    /// Subjects in the group.
    pub n: usize,
    /// Failures from this cause in the group.
    pub n_event: usize,
    /// Step-representation times, aligned with `est`, `var`, `lower`, `upper`.
    pub time: Vec<f64>,
    /// Cumulative incidence F(t) at each point of `time` (R `cuminc(...)$est`).
    pub est: Vec<f64>,
    /// cmprsk's (Aalen 1978) variance of `est`.
    pub var: Vec<f64>,
    /// Pointwise limits (NaN where undefined).
    pub lower: Vec<f64>,
    /// Pointwise upper limits (NaN where undefined).
    pub upper: Vec<f64>,
    /// Values at [`CifOptions::times`].
    pub at_times: Vec<CifAt>,
}

impl CifCurve {
    /// Index of the step-representation point that `timepoints()` reports for
    /// time `t`: the value at the last jump ≤ t; `None` beyond the largest
    /// follow-up time, for t < 0 and for NaN.
    fn index_at(&self, t: f64) -> Option<usize> {
        let n = self.time.len();
        let last = *self.time.last()?;
        if t.is_nan() || t > last {
            return None;
        }
        if t == last {
            return Some(n - 1);
        }
        // points 0..n-1 (the final point excluded): the last one <= t, then
        // the next point, which carries the value after that jump
        let p = self.time[..n - 1].partition_point(|&x| x <= t);
        if p == 0 {
            None
        } else {
            Some(p)
        }
    }

    /// `(est, var)` at time t as R's `timepoints()`; `None` = `NA`.
    pub fn value_at(&self, t: f64) -> Option<(f64, f64)> {
        self.index_at(t).map(|k| (self.est[k], self.var[k]))
    }

    /// The curve only at its jumps: `(time, est after the jump, var)`.
    pub fn jumps(&self) -> Vec<(f64, f64, f64)> {
        (2..self.time.len().saturating_sub(1))
            .step_by(2)
            .map(|k| (self.time[k], self.est[k], self.var[k]))
            .collect()
    }
}

/// Gray's K-sample test for one cause (a row of `cuminc(...)$Tests`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GrayTest {
    /// Cause code tested.
    pub cause: u32,
    /// `sᵀ V⁻¹ s` (NaN if V is singular; R reports −1).
    pub stat: f64,
    /// Number of groups − 1.
    pub df: usize,
    /// `pchisq(stat, df, lower.tail = FALSE)`.
    pub p: f64,
    /// Scores of the first K − 1 groups (summed over strata).
    pub score: Vec<f64>,
    /// Their (K − 1)×(K − 1) variance matrix.
    pub var: Vec<Vec<f64>>,
}

/// Result of [`cuminc`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CifResult {
    /// Distinct group labels, increasing.
    pub groups: Vec<usize>,
    /// Distinct cause codes with at least one failure, increasing.
    pub causes: Vec<u32>,
    /// One curve per (cause, group), cause-major.
    pub curves: Vec<CifCurve>,
    /// One test per cause; empty with a single group.
    pub gray_test: Vec<GrayTest>,
    /// Power ρ of Gray's test weight, as given in [`CifOptions::rho`].
    pub rho: f64,
    /// Confidence-limit transform used for the curves.
    pub conf_type: CifConfType,
    /// Confidence level of the pointwise limits.
    pub conf_level: f64,
}

impl CifResult {
    /// The curve of `cause` in `group`.
    pub fn curve(&self, group: usize, cause: u32) -> Option<&CifCurve> {
        self.curves
            .iter()
            .find(|c| c.group == group && c.cause == cause)
    }
}

/// Cumulative incidence per cause and group with Gray's test
/// (`cmprsk::cuminc(time, status, group, cencode = 0, rho = opts.rho)`).
///
/// `status[i]`: 0 = censored, k ≥ 1 = failure from cause k. `group`: any
/// labels (`None` = one group, no tests).
pub fn cuminc(
    time: &[f64],
    status: &[u32],
    group: Option<&[usize]>,
    opts: &CifOptions,
) -> Result<CifResult> {
    cuminc_stratified(time, status, group, None, opts)
}

/// [`cuminc`] with Gray's test stratified on `strata` (R's `strata`
/// argument: the scores and variances are summed over strata; the curves do
/// not depend on the strata).
pub fn cuminc_stratified(
    time: &[f64],
    status: &[u32],
    group: Option<&[usize]>,
    strata: Option<&[usize]>,
    opts: &CifOptions,
) -> Result<CifResult> {
    let n = time.len();
    check_len("status", status.len(), n)?;
    if let Some(g) = group {
        check_len("group", g.len(), n)?;
    }
    if let Some(s) = strata {
        check_len("strata", s.len(), n)?;
    }
    check_times(time)?;
    opts.validate()?;
    if n == 0 {
        return Err(SurvError::Empty);
    }

    // sort by time (order within ties is irrelevant: only counts are used)
    let order = crate::sort::order_by_total(time);
    let t: Vec<f64> = order.iter().map(|&i| time[i]).collect();
    let st: Vec<u32> = order.iter().map(|&i| status[i]).collect();
    let glab: Vec<usize> = order.iter().map(|&i| group.map_or(0, |g| g[i])).collect();
    let slab: Vec<usize> = order.iter().map(|&i| strata.map_or(0, |s| s[i])).collect();
    drop(order);

    let groups = distinct(&glab);
    let gidx: Vec<usize> = glab
        .iter()
        .map(|g| groups.binary_search(g).unwrap_or(0))
        .collect();
    drop(glab);
    let causes: Vec<u32> = distinct(&st).into_iter().filter(|&s| s != 0).collect();
    let ng = groups.len();
    let z = z_for_level(opts.conf_level);

    let mut curves = Vec::with_capacity(causes.len() * ng);
    for &cause in &causes {
        for (k, &g) in groups.iter().enumerate() {
            let (tg, sg): (Vec<f64>, Vec<u32>) = (0..n)
                .filter(|&i| gidx[i] == k)
                .map(|i| (t[i], st[i]))
                .unzip();
            let (ct, est, var) = cif_steps(&tg, &sg, cause);
            let (lower, upper): (Vec<f64>, Vec<f64>) = est
                .iter()
                .zip(&var)
                .map(|(&f, &v)| cif_limits(f, v, opts.conf_type, z))
                .unzip();
            let mut curve = CifCurve {
                group: g,
                cause,
                n: tg.len(),
                n_event: sg.iter().filter(|&&s| s == cause).count(),
                time: ct,
                est,
                var,
                lower,
                upper,
                at_times: Vec::new(),
            };
            curve.at_times = opts
                .times
                .iter()
                .map(|&tp| match curve.index_at(tp) {
                    Some(i) => CifAt {
                        time: tp,
                        est: Some(curve.est[i]),
                        var: Some(curve.var[i]),
                        lower: finite(curve.lower[i]),
                        upper: finite(curve.upper[i]),
                    },
                    None => CifAt {
                        time: tp,
                        est: None,
                        var: None,
                        lower: None,
                        upper: None,
                    },
                })
                .collect();
            curves.push(curve);
        }
    }

    let mut gray_test = Vec::new();
    if ng > 1 {
        let strata_labels = distinct(&slab);
        for &cause in &causes {
            // 1 = cause of interest, 2 = other cause, 0 = censored
            let m: Vec<u8> = st
                .iter()
                .map(|&s| match s {
                    0 => 0,
                    s if s == cause => 1,
                    _ => 2,
                })
                .collect();
            let mut score = vec![0.0; ng - 1];
            let mut var: Mat = vec![vec![0.0; ng - 1]; ng - 1];
            if strata_labels.len() == 1 {
                // one stratum: its rows are all the rows (no copies)
                gray_stratum(&t, &m, &gidx, ng, opts.rho, &mut score, &mut var);
            } else {
                for &s in &strata_labels {
                    let idx: Vec<usize> = (0..n).filter(|&i| slab[i] == s).collect();
                    let ts: Vec<f64> = idx.iter().map(|&i| t[i]).collect();
                    let ms: Vec<u8> = idx.iter().map(|&i| m[i]).collect();
                    let gs: Vec<usize> = idx.iter().map(|&i| gidx[i]).collect();
                    gray_stratum(&ts, &ms, &gs, ng, opts.rho, &mut score, &mut var);
                }
            }
            let stat = quad_form_full_rank(&var, &score);
            let df = ng - 1;
            gray_test.push(GrayTest {
                cause,
                stat,
                df,
                p: chisq_sf(stat, df as f64),
                score,
                var,
            });
        }
    }

    Ok(CifResult {
        groups,
        causes,
        curves,
        gray_test,
        rho: opts.rho,
        conf_type: opts.conf_type,
        conf_level: opts.conf_level,
    })
}

fn finite(x: f64) -> Option<f64> {
    if x.is_nan() {
        None
    } else {
        Some(x)
    }
}

/// The distinct values of `v`, ascending (few in practice: groups, strata,
/// causes; no copy or sort of all of `v`).
fn distinct<T: Copy + Ord>(v: &[T]) -> Vec<T> {
    let mut d = std::collections::BTreeSet::new();
    let mut last = None;
    for &x in v {
        if last != Some(x) {
            d.insert(x);
            last = Some(x);
        }
    }
    d.into_iter().collect()
}

/// Confidence limits of one cumulative incidence value.
pub fn cif_limits(est: f64, var: f64, conf_type: CifConfType, z: f64) -> (f64, f64) {
    let nan = f64::NAN;
    let sd = var.max(0.0).sqrt();
    match conf_type {
        CifConfType::None => (nan, nan),
        CifConfType::Plain => (
            (est - z * sd).clamp(0.0, 1.0),
            (est + z * sd).clamp(0.0, 1.0),
        ),
        CifConfType::LogLog => {
            if !(est > 0.0 && est < 1.0 && sd.is_finite()) {
                return (nan, nan);
            }
            let k = z * sd / (est * est.ln());
            // log est < 0, so exp(+k) < 1 gives the upper limit
            let a = est.powf(k.exp());
            let b = est.powf((-k).exp());
            (a.min(b), a.max(b))
        }
    }
}

/// Tie factor `1 − (d − 1)/(n − 1)` used by cmprsk's variances.
fn tie_factor(d: f64, n: f64) -> f64 {
    if d > 1.0 {
        1.0 - (d - 1.0) / (n - 1.0)
    } else {
        1.0
    }
}

/// Cumulative incidence of `cause` with cmprsk's variance for one group;
/// `t` sorted ascending. Returns the step representation (time, est, var).
fn cif_steps(t: &[f64], st: &[u32], cause: u32) -> (Vec<f64>, Vec<f64>, Vec<f64>) {
    let n = t.len();
    let mut time = vec![0.0];
    let mut est = vec![0.0];
    let mut var = vec![0.0];
    let mut s_before = 1.0f64; // all-cause KM just before the current time
    let mut f = 0.0f64; // cumulative incidence after the current time
    let (mut v1, mut v2, mut v3) = (0.0f64, 0.0f64, 0.0f64);
    let mut i = 0;
    while i < n {
        let ti = t[i];
        let mut j = i;
        let (mut d1, mut d2) = (0usize, 0usize);
        while j < n && t[j] == ti {
            if st[j] == cause {
                d1 += 1;
            } else if st[j] != 0 {
                d2 += 1;
            }
            j += 1;
        }
        let r = (n - i) as f64;
        if d1 + d2 > 0 {
            let (d1f, d2f) = (d1 as f64, d2 as f64);
            let s_after = s_before * (r - d1f - d2f) / r;
            if d1 > 0 {
                let f_new = f + s_before * d1f / r;
                time.extend([ti, ti]);
                est.extend([f, f_new]);
                f = f_new;
            }
            if d2 > 0 && s_after > 0.0 {
                let w = s_before * s_before * tie_factor(d2f, r) * d2f / (r * r);
                let a = 1.0 / s_after;
                let b = f / s_after;
                v1 += b * b * w;
                v2 += a * b * w;
                v3 += a * a * w;
            }
            if d1 > 0 {
                let w = s_before * s_before * tie_factor(d1f, r) * d1f / (r * r);
                let a = if s_after > 0.0 { 1.0 / s_after } else { 0.0 };
                let b = 1.0 + a * f;
                v1 += b * b * w;
                v2 += a * b * w;
                v3 += a * a * w;
                let prev = *var.last().unwrap_or(&0.0);
                var.extend([prev, v1 + f * f * v3 - 2.0 * f * v2]);
            }
            s_before = s_after;
        }
        i = j;
    }
    time.push(t[n - 1]);
    est.push(f);
    let last = *var.last().unwrap_or(&0.0);
    var.push(last);
    (time, est, var)
}

/// Add one stratum's Gray score (groups 0..ng−1, first ng−1 reported) and its
/// variance to `score` / `var`. `t` sorted ascending; `m`: 0 censored,
/// 1 cause of interest, 2 other cause; `g` in 0..ng.
fn gray_stratum(
    t: &[f64],
    m: &[u8],
    g: &[usize],
    ng: usize,
    rho: f64,
    score: &mut [f64],
    var: &mut Mat,
) {
    let n = t.len();
    let k1 = ng - 1;
    let mut at_risk = vec![0usize; ng];
    for &gi in g {
        at_risk[gi] += 1;
    }
    // per group: all-cause KM and CIF, just before (…_b) and at (…_a) the time
    let mut s_b = vec![1.0f64; ng];
    let mut s_a = vec![1.0f64; ng];
    let mut f_b = vec![0.0f64; ng];
    let mut f_a = vec![0.0f64; ng];
    let mut v3 = vec![0.0f64; ng];
    let mut v2: Mat = vec![vec![0.0; ng]; k1];
    let mut c: Mat = vec![vec![0.0; ng]; ng];
    let mut a: Mat = vec![vec![0.0; ng]; ng];
    let mut v: Mat = vec![vec![0.0; k1]; k1];
    let mut d = vec![[0usize; 3]; ng];
    // pooled CIF of the paper, before / at the current time
    let (mut fp_b, mut fp_a) = (0.0f64, 0.0f64);
    let mut i = 0;
    while i < n {
        let ti = t[i];
        for x in d.iter_mut() {
            *x = [0; 3];
        }
        let mut j = i;
        while j < n && t[j] == ti {
            d[g[j]][m[j] as usize] += 1;
            j += 1;
        }
        let nd1: usize = d.iter().map(|x| x[1]).sum();
        let nd2: usize = d.iter().map(|x| x[2]).sum();
        if nd1 + nd2 > 0 {
            let nd1f = nd1 as f64;
            let (mut tr, mut tq) = (0.0f64, 0.0f64);
            for k in 0..ng {
                if at_risk[k] == 0 {
                    continue;
                }
                let r = at_risk[k] as f64;
                let td = (d[k][1] + d[k][2]) as f64;
                s_a[k] = s_b[k] * (r - td) / r;
                f_a[k] = f_b[k] + s_b[k] * d[k][1] as f64 / r;
                tr += r / s_b[k];
                tq += r * (1.0 - f_b[k]) / s_b[k];
            }
            fp_a = fp_b + nd1f / tr;
            let fb = (1.0 - fp_b).powf(rho);
            let cscale = nd1f / (tr * (1.0 - fp_b));
            for k in 0..ng {
                for l in k..ng {
                    a[k][l] = 0.0;
                }
                if at_risk[k] == 0 {
                    continue;
                }
                let hk = at_risk[k] as f64 / s_b[k];
                a[k][k] = fb * hk * (1.0 - hk / tr);
                c[k][k] += a[k][k] * cscale;
                for l in (k + 1)..ng {
                    if at_risk[l] == 0 {
                        continue;
                    }
                    a[k][l] = -fb * hk * at_risk[l] as f64 / (s_b[l] * tr);
                    c[k][l] += a[k][l] * cscale;
                }
            }
            for k in 1..ng {
                for l in 0..k {
                    a[k][l] = a[l][k];
                    c[k][l] = c[l][k];
                }
            }
            for k in 0..k1 {
                if at_risk[k] == 0 {
                    continue;
                }
                let r = at_risk[k] as f64;
                score[k] += fb * (d[k][1] as f64 - nd1f * r * (1.0 - f_b[k]) / (s_b[k] * tq));
            }
            if nd1 > 0 {
                for k in 0..ng {
                    if at_risk[k] == 0 {
                        continue;
                    }
                    let r = at_risk[k] as f64;
                    let u = if s_a[k] > 0.0 {
                        1.0 - (1.0 - fp_a) / s_a[k]
                    } else {
                        1.0
                    };
                    let tie = if nd1 > 1 {
                        1.0 - (nd1f - 1.0) / (tr * s_b[k] - 1.0)
                    } else {
                        1.0
                    };
                    let w = tie * s_b[k] * nd1f / (tr * r);
                    v3[k] += u * u * w;
                    for p in 0..k1 {
                        let bp = a[p][k] - u * c[p][k];
                        v2[p][k] += bp * u * w;
                        for q in 0..=p {
                            let bq = a[q][k] - u * c[q][k];
                            v[p][q] += bp * bq * w;
                        }
                    }
                }
            }
            if nd2 > 0 {
                for k in 0..ng {
                    if s_a[k] <= 0.0 || d[k][2] == 0 {
                        continue;
                    }
                    let r = at_risk[k] as f64;
                    let d2 = d[k][2] as f64;
                    let u = (1.0 - fp_a) / s_a[k];
                    let w = tie_factor(d2, r) * (s_b[k] * s_b[k] * d2) / (r * r);
                    v3[k] += u * u * w;
                    for p in 0..k1 {
                        let bp = u * c[p][k];
                        v2[p][k] -= bp * u * w;
                        for q in 0..=p {
                            let bq = u * c[q][k];
                            v[p][q] += bp * bq * w;
                        }
                    }
                }
            }
        }
        for &gi in &g[i..j] {
            at_risk[gi] -= 1;
        }
        fp_b = fp_a;
        f_b.copy_from_slice(&f_a);
        s_b.copy_from_slice(&s_a);
        i = j;
    }
    for p in 0..k1 {
        for q in 0..=p {
            let mut x = v[p][q];
            for k in 0..ng {
                x += c[p][k] * c[q][k] * v3[k] + c[p][k] * v2[q][k] + c[q][k] * v2[p][k];
            }
            var[p][q] += x;
            if p != q {
                var[q][p] += x;
            }
        }
    }
}

/// `sᵀ V⁻¹ s`, NaN unless V has full rank.
fn quad_form_full_rank(v: &Mat, s: &[f64]) -> f64 {
    let mut f = v.clone();
    let rank = ldl(&mut f, TOLER_CHOL);
    if rank != s.len() as i64 || s.iter().any(|x| !x.is_finite()) {
        return f64::NAN;
    }
    let mut x = s.to_vec();
    ldl_solve(&f, &mut x);
    x.iter().zip(s).map(|(a, b)| a * b).sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_competing_events_is_one_minus_km() {
        // single cause: F = 1 − KM
        let t = [1.0, 2.0, 2.0, 3.0, 4.0, 5.0];
        let s = [1, 1, 0, 1, 0, 1];
        let r = cuminc(&t, &s, None, &CifOptions::default()).unwrap();
        assert_eq!(r.causes, vec![1]);
        assert!(r.gray_test.is_empty());
        let c = &r.curves[0];
        let km = [
            5.0 / 6.0,
            5.0 / 6.0 * 4.0 / 5.0,
            5.0 / 6.0 * 4.0 / 5.0 * 2.0 / 3.0,
        ];
        let j = c.jumps();
        assert_eq!(j.len(), 4);
        for (k, &s) in km.iter().enumerate() {
            assert!((j[k].1 - (1.0 - s)).abs() < 1e-15);
        }
        assert!((j[3].1 - 1.0).abs() < 1e-15);
        assert_eq!(c.time[0], 0.0);
        assert_eq!(*c.time.last().unwrap(), 5.0);
        assert_eq!(c.value_at(-1.0), None);
        assert_eq!(c.value_at(0.5).unwrap().0, 0.0);
        assert!((c.value_at(2.5).unwrap().0 - (1.0 - km[0] * 0.8)).abs() < 1e-15);
        assert!((c.value_at(5.0).unwrap().0 - 1.0).abs() < 1e-15);
        assert_eq!(c.value_at(5.5), None);
    }

    #[test]
    fn hand_computed_two_causes() {
        // times 1 (cause 1), 2 (cause 2), 3 (censored), 4 (cause 1)
        let t = [1.0, 2.0, 3.0, 4.0];
        let s = [1, 2, 0, 1];
        let r = cuminc(&t, &s, None, &CifOptions::default()).unwrap();
        let c1 = r.curve(0, 1).unwrap();
        assert_eq!(c1.time, vec![0.0, 1.0, 1.0, 4.0, 4.0, 4.0]);
        // F1: 1/4 at t=1; S(4−) = 3/4 · 2/3 = 1/2, n = 1 -> + 1/2
        assert_eq!(c1.est, vec![0.0, 0.0, 0.25, 0.25, 0.75, 0.75]);
        // var at t=1: w = 1/16, a = 1/S = 4/3, b = 1 + a·F = 4/3; (b − F a)² = 1
        assert!((c1.var[2] - 1.0 / 16.0).abs() < 1e-15);
        let c2 = r.curve(0, 2).unwrap();
        assert_eq!(c2.est, vec![0.0, 0.0, 0.25, 0.25]);
        assert!(c1.lower[2] < 0.25 && c1.upper[2] > 0.25);
        assert!(c1.lower[0].is_nan());
    }

    #[test]
    fn gray_test_is_symmetric_in_group_labels() {
        let t = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 2.0, 3.0];
        let s = [1, 2, 1, 0, 1, 2, 1, 0, 2, 1];
        let g = [0, 1, 0, 1, 0, 1, 0, 1, 1, 0];
        let g2: Vec<usize> = g.iter().map(|x| 1 - x).collect();
        let a = cuminc(&t, &s, Some(&g), &CifOptions::default()).unwrap();
        let b = cuminc(&t, &s, Some(&g2), &CifOptions::default()).unwrap();
        for (x, y) in a.gray_test.iter().zip(&b.gray_test) {
            assert!((x.stat - y.stat).abs() < 1e-12 * (1.0 + x.stat));
            assert!((x.score[0] + y.score[0]).abs() < 1e-12);
        }
        // one stratum = unstratified
        let st = vec![7usize; t.len()];
        let c = cuminc_stratified(&t, &s, Some(&g), Some(&st), &CifOptions::default()).unwrap();
        assert_eq!(a.gray_test, c.gray_test);
    }

    #[test]
    fn three_group_test_is_invariant_to_labels_and_strata_add_up() {
        // deterministic pseudo-random data with ties, 3 groups, 2 causes
        let n = 90;
        let mut x: u64 = 12345;
        let mut next = || {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (x >> 33) as usize
        };
        let (mut t, mut s, mut g) = (vec![], vec![], vec![]);
        for _ in 0..n {
            t.push((next() % 40) as f64);
            s.push((next() % 3) as u32);
            g.push(next() % 3);
        }
        let o = CifOptions::default();
        let a = cuminc(&t, &s, Some(&g), &o).unwrap();
        let perm = [2usize, 0, 1];
        let gp: Vec<usize> = g.iter().map(|&k| perm[k]).collect();
        let b = cuminc(&t, &s, Some(&gp), &o).unwrap();
        assert_eq!(a.gray_test.len(), 2);
        for (x, y) in a.gray_test.iter().zip(&b.gray_test) {
            assert_eq!(x.df, 2);
            assert!(x.stat.is_finite() && x.stat > 0.0);
            assert!(
                (x.stat - y.stat).abs() < 1e-10 * x.stat,
                "{} vs {}",
                x.stat,
                y.stat
            );
        }
        // the same data twice as two strata: scores and variances double
        let t2: Vec<f64> = t.iter().chain(&t).copied().collect();
        let s2: Vec<u32> = s.iter().chain(&s).copied().collect();
        let g2: Vec<usize> = g.iter().chain(&g).copied().collect();
        let st: Vec<usize> = (0..2 * n).map(|i| i / n).collect();
        let c = cuminc_stratified(&t2, &s2, Some(&g2), Some(&st), &o).unwrap();
        for (x, y) in a.gray_test.iter().zip(&c.gray_test) {
            assert!((2.0 * x.stat - y.stat).abs() < 1e-10 * y.stat);
            assert!((2.0 * x.score[1] - y.score[1]).abs() < 1e-10);
        }
        // rho = 1 runs and differs
        let r1 = cuminc(
            &t,
            &s,
            Some(&g),
            &CifOptions {
                rho: 1.0,
                ..o.clone()
            },
        )
        .unwrap();
        assert!(r1.gray_test[0].stat != a.gray_test[0].stat);
    }

    #[test]
    fn rejects_bad_input() {
        let o = CifOptions::default();
        assert!(matches!(cuminc(&[], &[], None, &o), Err(SurvError::Empty)));
        assert!(cuminc(&[1.0], &[1, 0], None, &o).is_err());
        assert!(cuminc(&[f64::NAN], &[1], None, &o).is_err());
        assert!(cuminc(&[1.0], &[1], Some(&[0, 1]), &o).is_err());
        let bad = CifOptions {
            conf_level: 1.0,
            ..CifOptions::default()
        };
        assert!(cuminc(&[1.0], &[1], None, &bad).is_err());
        // all censored: no causes, no curves, no panic
        let r = cuminc(&[1.0, 2.0], &[0, 0], Some(&[0, 1]), &o).unwrap();
        assert!(r.curves.is_empty() && r.gray_test.is_empty());
    }
}
