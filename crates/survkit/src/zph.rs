//! Test of the proportional-hazards assumption of a Cox model, R survival
//! ≥ 3.0 `cox.zph(fit, transform = "km" | "identity" | "rank" | "log")`.
//!
//! **Test.** For a time transform g(t) — `Km`: `1 − S(t−)` with S the
//! Kaplan–Meier estimate of all model observations pooled (strata and
//! covariates ignored); `Identity`: t; `Rank`: average rank of t among all
//! observations; `Log`: log t — centred by its mean over the events, the
//! model `λ(t) = λ₀(t) exp(xᵀβ + g(t) xᵀγ)` is tested for γ = 0 with the
//! score test at (β̂, 0):
//!
//! `U_γ = Σ_events g(tᵢ) (xᵢ − x̄(tᵢ))`, `T = U_γᵀ [I⁻¹]_{γγ} U_γ`
//!
//! where I is the full 2p × 2p information of (β, γ) at (β̂, 0) (blocks
//! `Σ V(t)`, `Σ g V(t)`, `Σ g² V(t)` with V(t) the Efron- or
//! Breslow-weighted covariance of x over the risk set). Per term the γ
//! block is restricted to that term's columns (a factor's columns are tested
//! together, df = number of columns); GLOBAL uses all columns (df = p).
//! This is the exact score test of Therneau & Grambsch (2000, §6.2, and the
//! survival 3.0 rewrite), not the older approximation (Grambsch & Therneau
//! 1994) that assumes a constant V(t). An exact-ties fit is treated as
//! Breslow here, as R (`fit$method == "efron"` decides).
//!
//! **Residuals.** `y` = scaled Schoenfeld residuals + β̂: Schoenfeld
//! residuals (x at the event minus the (Efron-averaged) risk-set mean)
//! multiplied by `(I_ββ / d)⁻¹` — per stratum, using only the columns that
//! vary in that stratum, d counting the events in the strata where a pair of
//! columns varies — plus β̂. A multi-column term is collapsed to the
//! linear predictor of its columns (Schoenfeld residuals times β̂ of the
//! columns) and gets `+ 1` instead of β̂, as R. Rows are the events sorted
//! by stratum and time (ties in input order); `x` = g(t) (not centred).
//!
//! The model is passed as its inputs plus the [`CoxFit`] (only β̂ and the
//! ties method are used; everything else is recomputed), so any fit from
//! [`crate::cox::cox_fit`] can be tested. Coefficients that are NaN
//! (columns dropped as redundant) are left out, as R does.

use serde::Serialize;

use crate::cox::{CoxFit, Design, Ties};
use crate::dist::chisq_sf;
use crate::error::{check_len, check_times, Result, SurvError};
use crate::linalg::{ldl, ldl_inverse, ldl_solve, quad_form_inv, TOLER_CHOL};

/// Time transform g(t) of the test.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Transform {
    /// `1 − S(t−)`, pooled Kaplan–Meier (R's default `"km"`).
    #[default]
    Km,
    /// t (R `"identity"`).
    Identity,
    /// Average rank of t among all observations (R `"rank"`).
    Rank,
    /// log t (R `"log"`; needs every time > 0).
    Log,
}

impl Transform {
    /// Parse `km` / `identity` / `rank` / `log`.
    pub fn parse(s: &str) -> Option<Transform> {
        match s.trim().to_ascii_lowercase().as_str() {
            "km" => Some(Transform::Km),
            "identity" => Some(Transform::Identity),
            "rank" => Some(Transform::Rank),
            "log" => Some(Transform::Log),
            _ => None,
        }
    }
}

/// Options of [`cox_zph`].
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct ZphOptions {
    /// Time transform g(t) against which residuals are tested (R `transform`).
    pub transform: Transform,
    /// Which fits give their per-event residuals (`time`, `x`, `y`).
    pub residuals: ZphResiduals,
}

/// When [`cox_zph`] fills the per-event arrays of its result.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub enum ZphResiduals {
    /// Always (R's `cox.zph` object).
    #[default]
    All,
    /// Only when some term's test has p below this; otherwise `time`, `x`
    /// and `y` are empty (and `strata`, when given, too): the tests, `var`
    /// and the rest are the same. For callers that plot the residuals of
    /// the flagged terms only (the arrays have one row per event).
    IfAnyTermBelow(f64),
    /// Only the residual columns of the terms whose test has p below this
    /// (`y_columns` names them, in term order); with none, as
    /// `IfAnyTermBelow` with none below. The kept columns, `time`, `x` and
    /// `strata` are those `All` gives, bit for bit.
    TermsBelow(f64),
}

/// A model term: a name and the design columns it spans (e.g. all indicator
/// columns of a factor).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ZphTerm {
    /// Term name, as reported in the table.
    pub name: String,
    /// Indices of the design columns the term spans.
    pub columns: Vec<usize>,
}

/// One chi-square test of the table.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ZphTest {
    /// Term name (`GLOBAL` for [`ZphResult::global`]).
    pub term: String,
    /// Score-test chi-square statistic.
    pub chisq: f64,
    /// Degrees of freedom (columns of the term).
    pub df: usize,
    /// Upper-tail chi-square p-value.
    pub p: f64,
}

/// Result of [`cox_zph`] (R's `cox.zph` object).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ZphResult {
    /// Time transform used.
    pub transform: Transform,
    /// One test per term, in term order.
    pub terms: Vec<ZphTest>,
    /// All terms jointly (R row "GLOBAL").
    pub global: ZphTest,
    /// Event times, sorted by stratum then time.
    pub time: Vec<f64>,
    /// g(time) before centring (R `$x`).
    pub x: Vec<f64>,
    /// Names of the columns of `y` (the term names).
    pub y_columns: Vec<String>,
    /// Scaled Schoenfeld residuals + coefficient, one row per event (R `$y`);
    /// NaN for a term that is constant within the event's stratum.
    pub y: RowMatrix,
    /// Stratum id (as given in `strata`) of each event, for stratified models.
    pub strata: Option<Vec<usize>>,
    /// Inverse of the average information of the (collapsed) terms (R `$var`).
    pub var: Vec<Vec<f64>>,
}

/// Rows of equal length in one buffer (`y[i]` is row i as a slice); it
/// serialises as a list of rows. One allocation instead of one per event.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct RowMatrix {
    /// Row length.
    pub ncol: usize,
    /// The rows one after the other.
    pub data: Vec<f64>,
}

impl RowMatrix {
    /// Number of rows.
    pub fn len(&self) -> usize {
        self.data.len().checked_div(self.ncol).unwrap_or(0)
    }
    /// No rows.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// The rows in order.
    pub fn iter(&self) -> std::slice::ChunksExact<'_, f64> {
        self.data.chunks_exact(self.ncol.max(1))
    }
}

impl std::ops::Index<usize> for RowMatrix {
    type Output = [f64];
    fn index(&self, i: usize) -> &[f64] {
        &self.data[i * self.ncol..(i + 1) * self.ncol]
    }
}

impl Serialize for RowMatrix {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        use serde::ser::SerializeSeq;
        let mut seq = s.serialize_seq(Some(self.len()))?;
        for row in self.iter() {
            seq.serialize_element(row)?;
        }
        seq.end()
    }
}

use crate::sort::order_by_total as radix_order;

/// `order` (a permutation of the rows) stably re-sorted by `strata`: rows
/// sorted by stratum and, within a stratum, in the order of `order`.
fn stable_by_strata(order: Vec<usize>, strata: &[usize], nstrat: usize) -> Vec<usize> {
    if nstrat <= 1 {
        return order;
    }
    // strata are dense indices 0..nstrat
    crate::sort::scatter_by_rank(order.iter().map(|&i| (i, strata[i])), nstrat)
}

/// g(t) for every observation.
#[cfg(test)]
fn transform_times(time: &[f64], event: &[bool], tr: Transform) -> Result<Vec<f64>> {
    transform_times_ordered(time, event, tr, &radix_order(time))
}

/// g(t) for every observation; `idx` = the rows in ascending time order
/// (any order within tied times: g is the same for every member of a tie).
fn transform_times_ordered(
    time: &[f64],
    event: &[bool],
    tr: Transform,
    idx: &[usize],
) -> Result<Vec<f64>> {
    transform_units(time, event, &[], tr, idx)
}

/// The log transform needs positive times: the first that is not.
fn check_log_times(time: &[f64]) -> Result<()> {
    match time.iter().enumerate().find(|(_, t)| **t <= 0.0) {
        Some((index, &value)) => Err(SurvError::InvalidTime { index, value }),
        None => Ok(()),
    }
}

/// g(t) for every unit (a row, or a cell of `count[u]` rows with one time
/// and status; `count` empty = one row each), `idx` = the units in
/// ascending time order. Ranks and the KM are formed from row counts, so a
/// cell's g is its rows' g to the bit.
fn transform_units(
    time: &[f64],
    event: &[bool],
    count: &[u32],
    tr: Transform,
    idx: &[usize],
) -> Result<Vec<f64>> {
    let m = time.len();
    let cnt = |u: usize| count.get(u).map_or(1, |&c| c as usize);
    match tr {
        Transform::Identity => Ok(time.to_vec()),
        Transform::Log => {
            check_log_times(time)?;
            Ok(time.iter().map(|t| t.ln()).collect())
        }
        Transform::Rank | Transform::Km => {
            // rows in all, for the KM's numbers at risk
            let n: usize = if count.is_empty() {
                m
            } else {
                count.iter().map(|&c| c as usize).sum()
            };
            let mut out = vec![0.0; m];
            let mut surv = 1.0;
            // i: units before this tie, rows: rows before it
            let (mut i, mut rows) = (0, 0usize);
            while i < m {
                let t = time[idx[i]];
                let mut j = i;
                let (mut d, mut tied) = (0usize, 0usize);
                while j < m && time[idx[j]] == t {
                    let c = cnt(idx[j]);
                    if event[idx[j]] {
                        d += c;
                    }
                    tied += c;
                    j += 1;
                }
                let g = if tr == Transform::Rank {
                    (rows + 1 + rows + tied) as f64 / 2.0
                } else {
                    1.0 - surv
                };
                for &k in &idx[i..j] {
                    out[k] = g;
                }
                if tr == Transform::Km {
                    let at_risk = (n - rows) as f64;
                    surv *= 1.0 - d as f64 / at_risk;
                }
                rows += tied;
                i = j;
            }
            Ok(out)
        }
    }
}

/// Output of the one-pass computation (R's C routine `zph1`).
struct Zph1 {
    /// Score for (β, γ), length 2p.
    u: Vec<f64>,
    /// Information, 2p × 2p.
    imat: Vec<Vec<f64>>,
    /// Schoenfeld residuals, one row of p per event in sorted order
    /// (row-major, `schoen[e * p + j]`).
    schoen: Vec<f64>,
    /// used[s][j]: events in stratum s if column j varies there, else 0.
    used: Vec<Vec<usize>>,
}

#[allow(clippy::too_many_arguments)]
fn zph1(
    gt: &[f64],
    time: &[f64],
    event: &[bool],
    x: &[Vec<f64>],
    eta: &[f64],
    strata: &[usize],
    nstrat: usize,
    efron: bool,
    ord: &[usize],
    weight: &[f64],
    count: &[u32],
    start: Option<(&[f64], &[usize])>,
) -> Zph1 {
    let n = time.len();
    // the unit at sweep position k (`ord` empty: the units are in sweep
    // order already)
    let at = |k: usize| if ord.is_empty() { k } else { ord[k] };
    // rows a unit stands for (collapsed cells; empty = 1 each): a cell of c
    // deaths is c steps of an Efron tie, counts c events and weighs c
    let cnt = |i: usize| count.get(i).map_or(1, |&c| c as usize);
    let wt = |i: usize| match (weight.get(i), count.get(i)) {
        (Some(&w), _) => w,
        (None, Some(&c)) => f64::from(c),
        (None, None) => 1.0,
    };
    // (start, stop] rows: leave the risk set once start >= the time (R zph2);
    // `start.1` orders the rows by (stratum, start) ascending
    let mut ip1 = start.map_or(0, |(_, o)| o.len());
    let mut nrisk = 0usize;
    let p = x.len();
    let mut nevent = event.iter().filter(|&&e| e).count();
    // used
    let mut used = vec![vec![0usize; p]; nstrat];
    let mut k = 0;
    while k < n {
        let s = strata[at(k)];
        let mut i = k;
        let mut nd = 0;
        while i < n && strata[at(i)] == s {
            if event[at(i)] {
                nd += cnt(at(i));
            }
            i += 1;
        }
        for j in 0..p {
            let first = x[j][at(k)];
            if (k..i).any(|r| x[j][at(r)] != first) {
                used[s][j] = nd;
            }
        }
        k = i;
    }
    let mut u = vec![0.0; 2 * p];
    // lower triangles of the blocks Σ V, Σ g V, Σ g² V
    let mut b0 = vec![vec![0.0; p]; p];
    let mut b1 = vec![vec![0.0; p]; p];
    let mut b2 = vec![vec![0.0; p]; p];
    let mut schoen = vec![0.0; p * nevent];
    let mut a = vec![0.0; p];
    let mut a2 = vec![0.0; p];
    let mut cmat = vec![vec![0.0; p]; p];
    let mut cmat2 = vec![vec![0.0; p]; p];
    let mut a2_step = vec![0.0; p];
    let mut tmean = vec![0.0; p];
    let mut cmat2_step = vec![vec![0.0; p]; p];
    let mut denom = 0.0;
    let mut cstrat = usize::MAX;
    // the units in sweep order, gathered once (unless they are in that
    // order already) so that the sweep reads memory in order (same values,
    // same arithmetic, same bits)
    let s_strata = in_sweep_order(strata, ord);
    let s_time = in_sweep_order(time, ord);
    let s_gt = in_sweep_order(gt, ord);
    let s_event = in_sweep_order(event, ord);
    let s_wt: Vec<f64> = (0..n).map(|k| wt(at(k))).collect();
    let s_cnt: Vec<usize> = (0..n).map(|k| cnt(at(k))).collect();
    let s_risk: Vec<f64> = (0..n).map(|k| eta[at(k)].exp() * wt(at(k))).collect();
    let s_x: Vec<std::borrow::Cow<[f64]>> = x.iter().map(|c| in_sweep_order(c, ord)).collect();
    let mut ip = n;
    while ip > 0 {
        let k = ip - 1;
        if s_strata[k] != cstrat {
            cstrat = s_strata[k];
            denom = 0.0;
            nrisk = 0;
            a.iter_mut().for_each(|v| *v = 0.0);
            cmat.iter_mut().flatten().for_each(|v| *v = 0.0);
            if let Some((_, o1)) = start {
                // skip the start-ordered rows of later strata
                while ip1 > 0 && strata[o1[ip1 - 1]] > cstrat {
                    ip1 -= 1;
                }
            }
        }
        let dtime = s_time[k];
        let timewt = s_gt[k];
        if let Some((st, o1)) = start {
            while ip1 > 0 && strata[o1[ip1 - 1]] == cstrat && st[o1[ip1 - 1]] >= dtime {
                let r = o1[ip1 - 1];
                let risk = eta[r].exp() * wt(r);
                nrisk -= 1;
                denom -= risk;
                for i in 0..p {
                    a[i] -= risk * x[i][r];
                    for j in 0..=i {
                        cmat[i][j] -= risk * x[i][r] * x[j][r];
                    }
                }
                ip1 -= 1;
            }
            if nrisk == 0 {
                // nobody left: drop the round-off of the removals (as zph2)
                denom = 0.0;
                a.iter_mut().for_each(|v| *v = 0.0);
                cmat.iter_mut().flatten().for_each(|v| *v = 0.0);
            }
        }
        let mut ndead = 0usize;
        let mut dead_units = 0usize;
        let mut deadwt = 0.0;
        let mut denom2 = 0.0;
        while ip > 0 {
            let k = ip - 1;
            if s_time[k] != dtime || s_strata[k] != cstrat {
                break;
            }
            let risk = s_risk[k];
            nrisk += 1;
            if !s_event[k] {
                denom += risk;
                for i in 0..p {
                    a[i] += risk * s_x[i][k];
                    for j in 0..=i {
                        cmat[i][j] += risk * s_x[i][k] * s_x[j][k];
                    }
                }
            } else {
                ndead += s_cnt[k];
                dead_units += 1;
                deadwt += s_wt[k];
                denom2 += risk;
                nevent -= 1;
                for i in 0..p {
                    schoen[nevent * p + i] = s_x[i][k];
                    u[i] += s_wt[k] * s_x[i][k];
                    u[i + p] += timewt * s_wt[k] * s_x[i][k];
                    a2[i] += risk * s_x[i][k];
                    for j in 0..=i {
                        cmat2[i][j] += risk * s_x[i][k] * s_x[j][k];
                    }
                }
            }
            ip -= 1;
        }
        if ndead == 0 {
            continue;
        }
        let nd = ndead as f64;
        if !efron {
            denom += denom2;
            for i in 0..p {
                a[i] += a2[i];
                let mean = a[i] / denom;
                u[i] -= deadwt * mean;
                u[i + p] -= timewt * deadwt * mean;
                for j in 0..=i {
                    cmat[i][j] += cmat2[i][j];
                    let temp = deadwt * (cmat[i][j] - mean * a[j]) / denom;
                    b0[i][j] += temp;
                    b1[i][j] += temp * timewt;
                    b2[i][j] += temp * timewt * timewt;
                }
                for row in schoen[nevent * p..(nevent + dead_units) * p].chunks_exact_mut(p) {
                    row[i] -= mean;
                }
            }
        } else {
            let wtave = deadwt / nd;
            // each column's mean over the death steps, summed in step
            // order; the step's fraction and denominator are shared by
            // the columns (computed once per step, the same values)
            tmean.iter_mut().for_each(|v| *v = 0.0);
            for k in 0..ndead {
                let f = (k + 1) as f64 / nd;
                let den = denom + denom2 * f;
                for i in 0..p {
                    tmean[i] += (a[i] + a2[i] * f) / den;
                }
            }
            for i in 0..p {
                for row in schoen[nevent * p..(nevent + dead_units) * p].chunks_exact_mut(p) {
                    row[i] -= tmean[i] / nd;
                }
            }
            // the per-step increments are the same quotients every step:
            // divided once (the same values, so the same bits)
            let step_denom = denom2 / nd;
            for i in 0..p {
                a2_step[i] = a2[i] / nd;
                for j in 0..=i {
                    cmat2_step[i][j] = cmat2[i][j] / nd;
                }
            }
            for _ in 0..ndead {
                denom += step_denom;
                for i in 0..p {
                    a[i] += a2_step[i];
                    let mean = a[i] / denom;
                    u[i] -= wtave * mean;
                    u[i + p] -= timewt * wtave * mean;
                    for j in 0..=i {
                        cmat[i][j] += cmat2_step[i][j];
                        let temp = wtave * (cmat[i][j] - mean * a[j]) / denom;
                        b0[i][j] += temp;
                        b1[i][j] += timewt * temp;
                        b2[i][j] += timewt * timewt * temp;
                    }
                }
            }
        }
        a2.iter_mut().for_each(|v| *v = 0.0);
        cmat2.iter_mut().flatten().for_each(|v| *v = 0.0);
    }
    let mut imat = vec![vec![0.0; 2 * p]; 2 * p];
    for i in 0..p {
        for j in 0..=i {
            for (r, c, v) in [
                (i, j, b0[i][j]),
                (i, j + p, b1[i][j]),
                (i + p, j + p, b2[i][j]),
            ] {
                imat[r][c] = v;
                imat[c][r] = v;
            }
            imat[j][i + p] = b1[i][j];
            imat[i + p][j] = b1[i][j];
        }
    }
    Zph1 {
        u,
        imat,
        schoen,
        used,
    }
}

/// `v` in the order `ord` (borrowed as it is when `ord` is empty: already
/// in that order).
fn in_sweep_order<'a, T: Copy>(v: &'a [T], ord: &[usize]) -> std::borrow::Cow<'a, [T]> {
    if ord.is_empty() {
        std::borrow::Cow::Borrowed(v)
    } else {
        std::borrow::Cow::Owned(ord.iter().map(|&r| v[r]).collect())
    }
}

/// `uᵀ A⁻¹ u` as R's `solve(imat, u) %*% u`, made scale-free: A is first
/// brought to correlation form `D^{-1/2} A D^{-1/2}` (D = diag A), so the
/// pivot tolerance of the LDLᵀ no longer depends on the units of time and
/// covariates (the γ block of a covariate in 0–5000 with follow-up to 7000
/// days is ~10¹⁴ times the β block of a 0/1 column, and a pivot tolerance
/// relative to the largest diagonal then zeroed the small pivots). The
/// statistic is invariant to rescaling g(t) or x, as R's is.
fn scaled_quad_form(a: &[Vec<f64>], u: &[f64]) -> f64 {
    let m = a.len();
    let d: Vec<f64> = (0..m)
        .map(|i| {
            if a[i][i] > 0.0 {
                1.0 / a[i][i].sqrt()
            } else {
                0.0
            }
        })
        .collect();
    let c: Vec<Vec<f64>> = (0..m)
        .map(|i| (0..m).map(|j| a[i][j] * d[i] * d[j]).collect())
        .collect();
    let v: Vec<f64> = (0..m).map(|i| u[i] * d[i]).collect();
    quad_form_inv(&c, &v)
}

/// Proportional-hazards test of a fitted Cox model (R `cox.zph`, survival ≥ 3.0).
///
/// `time`, `event`, `design`, `strata` must be the inputs `fit` was computed
/// from. `terms` groups design columns into terms (every column in exactly
/// one term); `None` = one term per column named after the column.
pub fn cox_zph(
    time: &[f64],
    event: &[bool],
    design: &Design,
    strata: Option<&[usize]>,
    fit: &CoxFit,
    terms: Option<&[ZphTerm]>,
    opts: &ZphOptions,
) -> Result<ZphResult> {
    cox_zph_rows(
        time,
        event,
        design,
        strata,
        &crate::cox::CoxRows::default(),
        fit,
        terms,
        opts,
    )
}

/// [`cox_zph`] of a fit on weighted and/or (start, stop] rows
/// ([`crate::cox::cox_fit_rows`]), as R's `cox.zph` (C `zph1` / `zph2`): the
/// weights enter the risk-set sums, the score and the information (the
/// Schoenfeld residuals themselves are unweighted); with start times a row
/// is at risk on (start, stop]. The `km` transform uses the *unweighted*
/// Kaplan–Meier of the rows (with delayed entry), as R does
/// (`survfitKM(..., y)` without weights); `identity` uses the stop times.
/// Rows with weight 0 are dropped first, as in the fit.
#[allow(clippy::too_many_arguments)]
pub fn cox_zph_rows(
    time: &[f64],
    event: &[bool],
    design: &Design,
    strata: Option<&[usize]>,
    rows: &crate::cox::CoxRows,
    fit: &CoxFit,
    terms: Option<&[ZphTerm]>,
    opts: &ZphOptions,
) -> Result<ZphResult> {
    zph_rows_cells(
        time,
        event,
        design,
        strata,
        rows,
        fit,
        terms,
        opts,
        crate::cox::FitHandoff::default(),
    )
}

/// [`cox_fit`](crate::cox::cox_fit) and [`cox_zph`] of that fit on the same
/// rows: the same two results as the two calls, with the collapse of large
/// data into cells (see `cox/cells.rs`) done once for both. The outer error
/// is the fit's; the zph's is inside.
pub fn cox_fit_and_zph(
    time: &[f64],
    event: &[bool],
    design: &Design,
    strata: Option<&[usize]>,
    cox: &crate::cox::CoxOptions,
    terms: Option<&[ZphTerm]>,
    opts: &ZphOptions,
) -> Result<(CoxFit, Result<ZphResult>)> {
    let rows = crate::cox::CoxRows::default();
    let mut handoff = crate::cox::FitHandoff::default();
    let fit = crate::cox::cox_fit_rows_cells(
        time,
        event,
        design,
        strata,
        None,
        &rows,
        cox,
        Some(&mut handoff),
    )?;
    let zph = zph_rows_cells(
        time, event, design, strata, &rows, &fit, terms, opts, handoff,
    );
    Ok((fit, zph))
}

/// [`cox_zph_rows`]; `pre` is what the fit of these rows handed over (the
/// collapse into cells and the fixed times, when it made them).
#[allow(clippy::too_many_arguments)]
fn zph_rows_cells(
    time: &[f64],
    event: &[bool],
    design: &Design,
    strata: Option<&[usize]>,
    rows: &crate::cox::CoxRows,
    fit: &CoxFit,
    terms: Option<&[ZphTerm]>,
    opts: &ZphOptions,
    pre: crate::cox::FitHandoff,
) -> Result<ZphResult> {
    let n = time.len();
    if let Some(w) = rows.weight {
        check_len("weights", w.len(), n)?;
        if w.contains(&0.0) {
            let keep: Vec<usize> = (0..n).filter(|&i| w[i] > 0.0).collect();
            let pick = |v: &[f64]| keep.iter().map(|&i| v[i]).collect::<Vec<f64>>();
            check_len("event", event.len(), n)?;
            let ev: Vec<bool> = keep.iter().map(|&i| event[i]).collect();
            let mut d2 = Design::default();
            for (nm, c) in design.names.iter().zip(&design.columns) {
                check_len("covariate", c.len(), n)?;
                d2.add_numeric(nm, pick(c));
            }
            let st: Option<Vec<usize>> = strata.map(|s| keep.iter().map(|&i| s[i]).collect());
            let sa = rows.start.map(pick);
            let ww = pick(w);
            return cox_zph_rows(
                &pick(time),
                &ev,
                &d2,
                st.as_deref(),
                &crate::cox::CoxRows {
                    start: sa.as_deref(),
                    weight: Some(&ww),
                },
                fit,
                terms,
                opts,
            );
        }
    }
    if let Some(s) = rows.start {
        check_len("start", s.len(), n)?;
    }
    check_len("event", event.len(), n)?;
    if let Some(s) = strata {
        check_len("strata", s.len(), n)?;
    }
    if rows.start.is_none() {
        check_times(time)?;
    }
    if n == 0 {
        return Err(SurvError::Empty);
    }
    // the fit's times, tied as the fit tied them (R's fit$y; start and stop
    // together for counting data)
    let (fixed_start, time): (_, std::borrow::Cow<[f64]>) = match pre.time {
        Some(crate::cox::FitTimes::AsGiven) if rows.start.is_none() => (None, time.into()),
        Some(crate::cox::FitTimes::Fixed(t)) if rows.start.is_none() && t.len() == n => {
            (None, t.into())
        }
        _ => crate::wkm::timefix_rows(rows.start, time, fit.timefix),
    };
    let time: &[f64] = &time;
    let ncol = design.columns.len();
    if fit.terms.len() != ncol || fit.n != n {
        return Err(SurvError::InvalidOption {
            name: "fit",
            message: format!(
                "the fit has {} coefficients and {} observations, the data {} columns and {} rows",
                fit.terms.len(),
                fit.n,
                ncol,
                n
            ),
        });
    }
    for (name, col) in design.names.iter().zip(&design.columns) {
        check_len("covariate", col.len(), n)?;
        if let Some((index, &value)) = col.iter().enumerate().find(|(_, v)| !v.is_finite()) {
            return Err(SurvError::InvalidValue {
                what: name.clone(),
                index,
                value,
            });
        }
    }
    // term grouping, validated as a partition of the columns
    let default_terms: Vec<ZphTerm>;
    let terms: &[ZphTerm] = match terms {
        Some(t) => t,
        None => {
            default_terms = design
                .names
                .iter()
                .enumerate()
                .map(|(j, name)| ZphTerm {
                    name: name.clone(),
                    columns: vec![j],
                })
                .collect();
            &default_terms
        }
    };
    let mut seen = vec![false; ncol];
    for t in terms {
        for &c in &t.columns {
            if c >= ncol || seen[c] {
                return Err(SurvError::InvalidOption {
                    name: "terms",
                    message: format!("term {} names column {c} twice or out of range", t.name),
                });
            }
            seen[c] = true;
        }
    }
    if seen.iter().any(|s| !s) {
        return Err(SurvError::InvalidOption {
            name: "terms",
            message: "every design column must belong to a term".into(),
        });
    }
    // drop non-estimated coefficients (R: NA coefficients)
    let keep: Vec<usize> = (0..ncol)
        .filter(|&j| fit.terms[j].coef.is_finite())
        .collect();
    let newpos = |c: usize| keep.iter().position(|&k| k == c);
    let asgn: Vec<(String, Vec<usize>)> = terms
        .iter()
        .map(|t| {
            (
                t.name.clone(),
                t.columns
                    .iter()
                    .filter_map(|&c| newpos(c))
                    .collect::<Vec<_>>(),
            )
        })
        .filter(|(_, c)| !c.is_empty())
        .collect();
    let p = keep.len();
    if p == 0 {
        return Err(SurvError::Degenerate {
            what: "cox.zph",
            message: "the model has no estimated coefficients".into(),
        });
    }
    let nevent = event.iter().filter(|&&e| e).count();
    if nevent == 0 {
        return Err(SurvError::Degenerate {
            what: "cox.zph",
            message: "no events".into(),
        });
    }
    let beta: Vec<f64> = keep.iter().map(|&j| fit.terms[j].coef).collect();
    // large right-censored data with few covariate patterns: the sweep runs
    // over (stratum, time, status, pattern) cells, each weighted by its row
    // count (see `cox/cells.rs`); the residuals are given back per event
    let collapsible = rows.start.is_none() && rows.weight.is_none();
    let collapsed = match pre.cells {
        // the fit's own collapse of these rows, which this one would repeat
        Some(cells) if collapsible => cells,
        _ => collapsible
            .then(|| {
                crate::cox::cells::collapse(
                    Some(time),
                    None,
                    event,
                    &design.columns,
                    strata,
                    crate::cox::cells::max_cells(n),
                )
            })
            .flatten(),
    };
    // strata as dense indices 0..nstrat (in the order of the given ids)
    let (st, nstrat): (Vec<usize>, usize) = match strata {
        Some(s) => {
            let mut ids = s.to_vec();
            ids.sort_unstable();
            ids.dedup();
            let dense = s
                .iter()
                .map(|v| ids.binary_search(v).unwrap_or(0))
                .collect();
            (dense, ids.len())
        }
        // one stratum: cells need no per-row stratum (see `u_st`)
        None if collapsed.is_some() => (Vec::new(), 1),
        None => (vec![0; n], 1),
    };

    // rows in time order (stable radix sort: ties in input order), shared by
    // the time transform and the sweep's (stratum, time) order; collapsed
    // data sort their cells instead (g(t) of a cell is its rows' g(t))
    let tord: Option<Vec<usize>> = collapsed.is_none().then(|| radix_order(time));
    let cell_time: Option<(Vec<f64>, Vec<usize>)> = collapsed.as_ref().map(|c| {
        let t = c.pick(time);
        let o = radix_order(&t);
        (t, o)
    });
    // g(t) of every unit (row or cell)
    let g_unit: Vec<f64> = match (&fixed_start, opts.transform, &collapsed, &cell_time) {
        (Some(sa), Transform::Km, _, _) => {
            // 1 − S(t−) of the unweighted KM with delayed entry
            let km = crate::wkm::kaplan_meier_rows(
                &crate::wkm::SurvRows {
                    start: Some(sa),
                    ..crate::wkm::SurvRows::new(time, event)
                },
                crate::wkm::KmVariance::Greenwood,
                &crate::km::KmOptions {
                    timefix: crate::timefix::TimeFix::Exact,
                    ..Default::default()
                },
            )?;
            time.iter()
                .map(|&t| {
                    let k = km.time.partition_point(|&x| x < t);
                    1.0 - if k == 0 { 1.0 } else { km.surv[k - 1] }
                })
                .collect()
        }
        (_, tr, Some(c), Some((ct, cord))) => {
            if tr == Transform::Log {
                // the error names a row, as the row path does
                check_log_times(time)?;
            }
            transform_units(ct, &c.pick(event), &c.count, tr, cord)?
        }
        (_, tr, _, _) => {
            transform_times_ordered(time, event, tr, tord.as_deref().unwrap_or_default())?
        }
    };
    let g_row = |i: usize| match &collapsed {
        Some(c) => g_unit[c.row_cell[i] as usize],
        None => g_unit[i],
    };
    let gmean = (0..n).filter(|&i| event[i]).map(g_row).sum::<f64>() / nevent as f64;
    // = a stable sort by (stratum, time)
    let ord: Vec<usize> = tord.map_or_else(Vec::new, |t| stable_by_strata(t, &st, nstrat));

    let efron = fit.ties == Ties::Efron;
    let ord1: Vec<usize> = match &fixed_start {
        Some(sa) => stable_by_strata(radix_order(sa), &st, nstrat),
        None => vec![],
    };
    // the units' times, events, strata, counts and centred g(t). Cells are
    // laid out in sweep order (position k holds cell `cell_of[k]`), so that
    // the sweep reads them in place; rows stay in input order and the sweep
    // reads them through `ord` (a cell's weight is its count: zph1 reads it
    // from `count`)
    let (u_time, u_event, u_st, u_count, u_gtime, cell_of) = match (&collapsed, cell_time) {
        (Some(c), Some((t, cord))) => {
            // (one stratum: no per-cell strata to sort by)
            let s = strata.map(|_| c.pick(&st));
            let o = stable_by_strata(cord, s.as_deref().unwrap_or_default(), nstrat);
            let u_st: Vec<usize> = match &s {
                Some(s) => o.iter().map(|&u| s[u]).collect(),
                None => vec![0; c.len()],
            };
            (
                std::borrow::Cow::Owned(o.iter().map(|&u| t[u]).collect()),
                std::borrow::Cow::Owned(o.iter().map(|&u| event[c.rep[u]]).collect()),
                std::borrow::Cow::Owned(u_st),
                o.iter().map(|&u| c.count[u]).collect(),
                o.iter().map(|&u| g_unit[u] - gmean).collect::<Vec<f64>>(),
                Some(o),
            )
        }
        _ => (
            std::borrow::Cow::Borrowed(time),
            std::borrow::Cow::Borrowed(event),
            std::borrow::Cow::Borrowed(&st[..]),
            vec![],
            g_unit.iter().map(|g| g - gmean).collect(),
            None,
        ),
    };
    let sweep: &[usize] = if cell_of.is_some() { &[] } else { &ord };
    // centred covariates (column-major, unit by unit as above) and linear
    // predictor
    let x: Vec<Vec<f64>> = keep
        .iter()
        .map(|&j| {
            let col = &design.columns[j];
            let m = col.iter().sum::<f64>() / n as f64;
            match (&collapsed, &cell_of) {
                (Some(c), Some(o)) => o.iter().map(|&u| col[c.rep[u]] - m).collect(),
                _ => col.iter().map(|v| v - m).collect(),
            }
        })
        .collect();
    let nu = u_time.len();
    let eta: Vec<f64> = (0..nu)
        .map(|i| (0..p).map(|j| x[j][i] * beta[j]).sum())
        .collect();
    let u_weight: &[f64] = rows.weight.unwrap_or(&[]);
    let z = zph1(
        &u_gtime,
        &u_time,
        &u_event,
        &x,
        &eta,
        &u_st,
        nstrat,
        efron,
        sweep,
        u_weight,
        &u_count,
        fixed_start.as_deref().map(|s| (s, &ord1[..])),
    );
    // (the sweep's inputs are not needed after it)
    drop(u_gtime);
    drop(x);
    drop(eta);

    // score tests
    let test = |name: String, cols: &[usize]| -> ZphTest {
        let kk: Vec<usize> = (0..p).chain(cols.iter().map(|c| c + p)).collect();
        let sub: Vec<Vec<f64>> = kk
            .iter()
            .map(|&r| kk.iter().map(|&c| z.imat[r][c]).collect())
            .collect();
        let uu: Vec<f64> = (0..p)
            .map(|_| 0.0)
            .chain(cols.iter().map(|c| z.u[c + p]))
            .collect();
        let chisq = scaled_quad_form(&sub, &uu);
        let df = cols.len();
        ZphTest {
            term: name,
            chisq,
            df,
            p: chisq_sf(chisq, df as f64),
        }
    };
    let term_tests: Vec<ZphTest> = asgn.iter().map(|(nm, c)| test(nm.clone(), c)).collect();
    let all: Vec<usize> = (0..p).collect();
    let global = test("GLOBAL".into(), &all);

    // scaled Schoenfeld residuals
    let mut used = z.used.clone();
    for (_, cols) in &asgn {
        if cols.len() > 1 {
            for row in used.iter_mut() {
                if cols.iter().any(|&c| row[c] == 0) {
                    let mx = cols.iter().map(|&c| row[c]).max().unwrap_or(0);
                    for &c in cols {
                        row[c] = mx;
                    }
                }
            }
        }
    }
    let mut vmean = vec![vec![0.0; p]; p];
    for j in 0..p {
        for l in 0..p {
            let w: usize = used.iter().map(|row| row[j].min(row[l])).sum();
            vmean[j][l] = z.imat[j][l] / if w == 0 { 1.0 } else { w as f64 };
        }
    }
    let nterm = asgn.len();
    // collapse matrix p × nterm
    let mut tmat = vec![vec![0.0; nterm]; p];
    for (i, (_, cols)) in asgn.iter().enumerate() {
        if cols.len() == 1 {
            tmat[cols[0]][i] = 1.0;
        } else {
            for &c in cols {
                tmat[c][i] = beta[c];
            }
        }
    }
    let vm: Vec<Vec<f64>> = (0..nterm)
        .map(|a| {
            (0..nterm)
                .map(|b| {
                    (0..p)
                        .map(|j| {
                            (0..p)
                                .map(|l| tmat[j][a] * vmean[j][l] * tmat[l][b])
                                .sum::<f64>()
                        })
                        .sum()
                })
                .collect()
        })
        .collect();
    let var = {
        let mut f = vm.clone();
        ldl(&mut f, TOLER_CHOL);
        ldl_inverse(&f)
    };
    // the residual columns the result keeps (terms by index)
    let out_cols: Vec<usize> = match opts.residuals {
        ZphResiduals::All => (0..nterm).collect(),
        ZphResiduals::IfAnyTermBelow(alpha) if term_tests.iter().any(|t| t.p < alpha) => {
            (0..nterm).collect()
        }
        ZphResiduals::IfAnyTermBelow(_) => vec![],
        ZphResiduals::TermsBelow(alpha) => {
            (0..nterm).filter(|&i| term_tests[i].p < alpha).collect()
        }
    };
    let y_columns: Vec<String> = match opts.residuals {
        ZphResiduals::TermsBelow(_) => out_cols.iter().map(|&i| asgn[i].0.clone()).collect(),
        _ => asgn.iter().map(|(nm, _)| nm.clone()).collect(),
    };
    let ncol_out = y_columns.len();
    // the result, with the per-event arrays (in (stratum, time) order):
    // times, g(time), strata and the kept residual columns, row-major
    let finish = |time: Vec<f64>, x: Vec<f64>, st: Option<Vec<usize>>, y: Vec<f64>| ZphResult {
        transform: opts.transform,
        terms: term_tests,
        global,
        time,
        x,
        y_columns,
        y: RowMatrix {
            ncol: ncol_out,
            data: y,
        },
        strata: st,
        var,
    };
    if out_cols.is_empty() {
        return Ok(finish(vec![], vec![], strata.map(|_| vec![]), vec![]));
    }
    // collapsed residuals, row-major (`sresid[e * nterm + i]`)
    let sresid: Vec<f64> = z
        .schoen
        .chunks_exact(p)
        .flat_map(|r| (0..nterm).map(|i| (0..p).map(|j| r[j] * tmat[j][i]).sum::<f64>()))
        .collect();
    let tused: Vec<Vec<usize>> = used
        .iter()
        .map(|row| asgn.iter().map(|(_, c)| row[c[0]]).collect())
        .collect();
    drop(z);
    // event units in sorted order
    // (rows: their numbers; cells: their positions in sweep order)
    let ev: Vec<usize> = match &cell_of {
        Some(_) => (0..u_event.len()).filter(|&k| u_event[k]).collect(),
        None => sweep.iter().copied().filter(|&i| u_event[i]).collect(),
    };
    let mut y = vec![f64::NAN; nterm * ev.len()];
    let mut r0 = 0;
    while r0 < ev.len() {
        let s = u_st[ev[r0]];
        let mut r1 = r0;
        while r1 < ev.len() && u_st[ev[r1]] == s {
            r1 += 1;
        }
        let k: Vec<usize> = (0..nterm).filter(|&i| tused[s][i] > 0).collect();
        if !k.is_empty() {
            let sub: Vec<Vec<f64>> = k
                .iter()
                .map(|&a| k.iter().map(|&b| vm[a][b]).collect())
                .collect();
            // one factorisation per stratum, solved for each of its events
            let mut f = sub;
            ldl(&mut f, TOLER_CHOL);
            let mut rhs = vec![0.0; k.len()];
            for r in r0..r1 {
                for (v, &i) in rhs.iter_mut().zip(&k) {
                    *v = sresid[r * nterm + i];
                }
                ldl_solve(&f, &mut rhs);
                for (&i, &v) in k.iter().zip(&rhs) {
                    y[r * nterm + i] = v;
                }
            }
        }
        r0 = r1;
    }
    drop(sresid);
    for (i, (_, cols)) in asgn.iter().enumerate() {
        let add = if cols.len() == 1 { beta[cols[0]] } else { 1.0 };
        for row in y.chunks_exact_mut(nterm) {
            row[i] += add;
        }
    }
    // per event row: the residuals of its cell
    let (time_ev, x_ev, strata_ev, y) = match &collapsed {
        Some(c) => {
            // per cell: the rank of its (stratum, time) among the cells
            // (ranks are dense) and its row of residuals (events only)
            let mut key = vec![(0u32, 0u32); c.len()];
            let cell_of = cell_of.as_deref().unwrap_or_default();
            for (r, &k) in ev.iter().enumerate() {
                key[cell_of[k]].1 = r as u32;
            }
            // each (stratum, time) group's number, its first cell (in
            // sweep order) and its event rows (its event cells' counts)
            let mut ngroups = 0u32;
            let mut prev = None;
            let mut first: Vec<usize> = vec![];
            let mut next = vec![0usize];
            for (k, &u) in cell_of.iter().enumerate() {
                let here = (u_st[k], u_time[k].to_bits());
                if prev != Some(here) {
                    prev = Some(here);
                    ngroups += 1;
                    first.push(u);
                    next.push(0);
                }
                key[u].0 = ngroups - 1;
                if u_event[k] {
                    next[ngroups as usize] += u_count[k] as usize;
                }
            }
            for g in 1..next.len() {
                next[g] += next[g - 1];
            }
            // the event rows in (stratum, time) order, ties in input order
            // (= the row path's `ord` filtered to events). The rows of a
            // group share its time, g(time) and stratum (a cell's rows have
            // its time to the bit but at ±0, whose rows are then written
            // one by one), so those are written group by group; each row's
            // residuals (its cell's) by a stable counting sort by group,
            // straight into the output: no index of the rows is kept
            let m = next[ngroups as usize];
            let k = out_cols.len();
            let mut t_ev = vec![0.0; m];
            let mut x_ev = vec![0.0; m];
            let mut s_ev = strata.map(|_| vec![0usize; m]);
            for (g, &u) in first.iter().enumerate() {
                let rows = next[g]..next[g + 1];
                t_ev[rows.clone()].fill(time[c.rep[u]]);
                x_ev[rows.clone()].fill(g_unit[u]);
                if let (Some(o), Some(s)) = (&mut s_ev, strata) {
                    o[rows].fill(s[c.rep[u]]);
                }
            }
            let zero_time = first.iter().any(|&u| time[c.rep[u]] == 0.0);
            let mut yy = vec![0.0; m * k];
            for i in (0..n).filter(|&i| event[i]) {
                let (g, r) = key[c.row_cell[i] as usize];
                let at = &mut next[g as usize];
                if zero_time {
                    t_ev[*at] = time[i];
                }
                let r = &y[r as usize * nterm..(r as usize + 1) * nterm];
                for (o, &j) in yy[*at * k..(*at + 1) * k].iter_mut().zip(&out_cols) {
                    *o = r[j];
                }
                *at += 1;
            }
            (t_ev, x_ev, s_ev, yy)
        }
        None => {
            let y = if out_cols.len() == nterm {
                y
            } else {
                y.chunks_exact(nterm)
                    .flat_map(|r| out_cols.iter().map(|&j| r[j]))
                    .collect()
            };
            (
                ev.iter().map(|&i| time[i]).collect(),
                ev.iter().map(|&i| g_row(i)).collect(),
                strata.map(|s| ev.iter().map(|&i| s[i]).collect()),
                y,
            )
        }
    };
    Ok(finish(time_ev, x_ev, strata_ev, y))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cox::{cox_fit, CoxOptions};

    #[test]
    fn collapsed_event_arrays_are_the_rows_and_keep_each_rows_zero() {
        // enough rows to collapse. Events at +0 and at -0 share cells (the
        // cell key takes t + 0.0): each event keeps its own row's zero (the
        // rows path puts -0 first among them, the cells input order, so
        // there only the values and the zeros' counts are compared)
        let n = 30_000;
        let x: Vec<f64> = (0..n).map(|i| f64::from(u8::from(i % 3 == 0))).collect();
        let event: Vec<bool> = (0..n).map(|i| i % 5 != 4).collect();
        let strata: Vec<usize> = (0..n).map(|i| 10 + i % 2).collect();
        let mut d = Design::default();
        d.add_numeric("x", x.clone());
        let bits = |v: &[f64]| v.iter().map(|t| t.to_bits()).collect::<Vec<u64>>();
        for zeros in [false, true] {
            let time: Vec<f64> = (0..n)
                .map(|i| match i % 101 {
                    0 if zeros => 0.0,
                    1 if zeros => -0.0,
                    _ => (1 + (i * 37) % 400 + usize::from(x[i] > 0.0) * (i % 7)) as f64,
                })
                .collect();
            for st in [None, Some(&strata[..])] {
                let tag = format!("zeros {zeros}, strata {}", st.is_some());
                let fit = cox_fit(&time, &event, &d, st, &CoxOptions::default()).unwrap();
                let o = ZphOptions {
                    residuals: ZphResiduals::All,
                    ..Default::default()
                };
                let cells = cox_zph(&time, &event, &d, st, &fit, None, &o).unwrap();
                let rows = crate::cox::cells::rows_only(|| {
                    cox_zph(&time, &event, &d, st, &fit, None, &o).unwrap()
                });
                assert_eq!(cells.time, rows.time, "{tag}");
                if zeros {
                    let mut a = bits(&cells.time);
                    let mut b = bits(&rows.time);
                    a.sort_unstable();
                    b.sort_unstable();
                    assert_eq!(a, b, "{tag}: each row's own zero");
                    assert!(a.contains(&(-0.0f64).to_bits()), "{tag}");
                } else {
                    assert_eq!(bits(&cells.time), bits(&rows.time), "{tag}");
                    assert_eq!(bits(&cells.x), bits(&rows.x), "{tag}");
                }
                assert_eq!(cells.x, rows.x, "{tag}");
                assert_eq!(cells.strata, rows.strata, "{tag}");
                assert_eq!(cells.y.data.len(), rows.y.data.len());
                // (one column: a residual per event; at time 0 the two
                // paths order the rows differently)
                for ((a, b), t) in cells.y.data.iter().zip(&rows.y.data).zip(&rows.time) {
                    if *t != 0.0 {
                        assert!((a - b).abs() < 1e-9 * (1.0 + b.abs()), "{tag}: {a} vs {b}");
                    }
                }
            }
        }
    }

    #[test]
    fn residuals_only_when_a_term_is_below_the_level() {
        // deterministic data: a covariate whose effect fades with time
        let n = 80;
        let x: Vec<f64> = (0..n).map(|i| f64::from(u8::from(i % 3 == 0))).collect();
        let time: Vec<f64> = (0..n)
            .map(|i| {
                let base = 1.0 + ((i * 37) % 23) as f64;
                if x[i] > 0.0 && i % 2 == 0 {
                    base * 0.3
                } else {
                    base
                }
            })
            .collect();
        let event: Vec<bool> = (0..n).map(|i| i % 5 != 4).collect();
        let mut d = Design::default();
        d.add_numeric("x", x);
        d.add_numeric("z", (0..n).map(|i| ((i * 7) % 11) as f64).collect());
        let fit = cox_fit(&time, &event, &d, None, &CoxOptions::default()).unwrap();
        let all = cox_zph(&time, &event, &d, None, &fit, None, &ZphOptions::default()).unwrap();
        assert_eq!(all.time.len(), event.iter().filter(|&&e| e).count());
        let pmin = all.terms.iter().map(|t| t.p).fold(f64::INFINITY, f64::min);
        assert!(pmin > 0.0 && pmin < 1.0);
        let with = |alpha: f64| {
            let o = ZphOptions {
                residuals: ZphResiduals::IfAnyTermBelow(alpha),
                ..Default::default()
            };
            cox_zph(&time, &event, &d, None, &fit, None, &o).unwrap()
        };
        // a term below: the whole result, as with All
        assert_eq!(format!("{:?}", with(pmin * 1.01)), format!("{all:?}"));
        // none below: the same tests and var, no per-event arrays
        let none = with(pmin * 0.99);
        assert!(none.time.is_empty() && none.x.is_empty() && none.y.data.is_empty());
        assert_eq!(none.y.ncol, all.y.ncol);
        assert_eq!(format!("{:?}", none.terms), format!("{:?}", all.terms));
        assert_eq!(format!("{:?}", none.global), format!("{:?}", all.global));
        assert_eq!(none.var, all.var);
        assert_eq!(none.y_columns, all.y_columns);
        // TermsBelow: the columns of the terms below only, as All gives them
        let only = |alpha: f64| {
            let o = ZphOptions {
                residuals: ZphResiduals::TermsBelow(alpha),
                ..Default::default()
            };
            cox_zph(&time, &event, &d, None, &fit, None, &o).unwrap()
        };
        let pmax = all.terms.iter().map(|t| t.p).fold(0.0, f64::max);
        assert!(pmin < pmax, "the test needs two terms with different p");
        let alpha = (pmin + pmax) / 2.0;
        let some = only(alpha);
        let kept: Vec<usize> = (0..all.terms.len())
            .filter(|&i| all.terms[i].p < alpha)
            .collect();
        assert_eq!(kept.len(), 1);
        assert_eq!(some.y_columns, vec![all.y_columns[kept[0]].clone()]);
        assert_eq!(some.y.ncol, 1);
        assert_eq!(
            (&some.time, &some.x, &some.var),
            (&all.time, &all.x, &all.var)
        );
        let col: Vec<f64> = all
            .y
            .data
            .chunks_exact(all.y.ncol)
            .map(|r| r[kept[0]])
            .collect();
        assert_eq!(some.y.data, col);
        assert_eq!(format!("{:?}", only(pmax * 1.01).y), format!("{:?}", all.y));
        let empty = only(pmin * 0.99);
        assert!(empty.time.is_empty() && empty.y.data.is_empty() && empty.y_columns.is_empty());
    }

    #[test]
    fn km_transform_is_left_continuous() {
        let t = [1.0, 2.0, 2.0, 3.0];
        let e = [true, true, false, true];
        let g = transform_times(&t, &e, Transform::Km).unwrap();
        assert_eq!(g[0], 0.0);
        assert!((g[1] - 0.25).abs() < 1e-15 && g[1] == g[2]);
        // S after t=2: 0.75 * (1 - 1/3) = 0.5
        assert!((g[3] - 0.5).abs() < 1e-15);
        let r = transform_times(&t, &e, Transform::Rank).unwrap();
        assert_eq!(r, vec![1.0, 2.5, 2.5, 4.0]);
        assert!(transform_times(&[0.0], &[true], Transform::Log).is_err());
    }

    #[test]
    fn rejects_mismatched_fit_and_bad_terms() {
        let t = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0];
        let e = [true, true, false, true, true, true];
        let d = Design::from_numeric(vec![("g".into(), vec![1.0, 0.0, 1.0, 1.0, 0.0, 0.0])]);
        let fit = cox_fit(&t, &e, &d, None, &CoxOptions::default()).unwrap();
        let o = ZphOptions::default();
        assert!(cox_zph(&t[..5], &e[..5], &d, None, &fit, None, &o).is_err());
        let bad = [ZphTerm {
            name: "g".into(),
            columns: vec![3],
        }];
        assert!(cox_zph(&t, &e, &d, None, &fit, Some(&bad), &o).is_err());
        let z = cox_zph(&t, &e, &d, None, &fit, None, &o).unwrap();
        assert_eq!(z.y.len(), 5);
        assert!(z.global.chisq.is_finite() && z.global.chisq >= 0.0);
    }
}
