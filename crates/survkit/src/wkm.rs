//! Kaplan–Meier with case weights, delayed entry / (start, stop] rows and the
//! infinitesimal-jackknife (robust) variance — R:
//! `survfit(Surv(start, stop, event) ~ 1, weights = w, id = id, robust = TRUE)`.
//!
//! Rows are `(start, stop]` intervals (`start` absent = 0 / right-censored
//! data) with a non-negative weight `w` (absent = 1). At each distinct stop
//! time `t_k`:
//!
//! * `n_k = Σ w_i Y_i(t_k)` with `Y_i(t) = 1` when `start_i < t ≤ stop_i`;
//!   `d_k = Σ w_i dN_i(t_k)` (weighted events at `t_k`); `S = Π (1 − d_k/n_k)`;
//! * weighted Greenwood `std_err = sqrt(Σ d_k/(n_k(n_k − d_k)))` (SE of −log S);
//!   Nelson–Aalen `Σ d/n`, `sqrt(Σ d/n²)`. With integer weights this is the
//!   KM of the rows replicated w times.
//! * robust (Efron 1982 infinitesimal jackknife; R `robust = TRUE`): with
//!   `A_i(t) = −Σ_{t_k ≤ t, d_k > 0} (dN_i(t_k) − Y_i(t_k) d_k/n_k)/(n_k − d_k)`,
//!   the SE of S is `S(t) sqrt(Σ_c (Σ_{i∈c} w_i A_i(t))²)` over clusters c (the
//!   `id`, else one per row). `std_err` then is that SE divided by S (what R
//!   uses for the CIs; 0 where the SE is 0).
//!
//! The IJ sums are kept per cluster lazily — each cluster stores its value at
//! the last change of its at-risk weight and the running Σ d/(n(n−d)) since —
//! so the whole curve costs O(n log n) (sorting) plus O(n) updates.
//!
//! `n_censor` counts rows that end without an event; with `id`, a row whose
//! stop equals the start of the same id's next row is a covariate change, not
//! a censoring (R's `survflag`). Zero weights keep their rows (their times
//! appear with zero counts), as `survfit` does. Times are tied as R's
//! `aeqSurv` does, start and stop together ([`crate::timefix`]).
//!
//! R's default for `robust` ([`robust_default`]): TRUE when the weights are
//! not all integers or an id has more than one event.

use std::borrow::Cow;

use serde::Serialize;

use crate::dist::z_for_level;
use crate::error::{check_len, Result, SurvError};
use crate::km::{conf_limits, ConfType, KmOptions, Quantile};

/// Survival rows: `(start, stop]`, event flag, optional weight and subject id.
#[derive(Debug, Clone, Copy)]
pub struct SurvRows<'a> {
    /// Exit (stop) time of each row.
    pub stop: &'a [f64],
    /// Event flag at `stop`, aligned with `stop`.
    pub event: &'a [bool],
    /// Entry times (`None` = every row starts at time 0 — right-censored data).
    pub start: Option<&'a [f64]>,
    /// Case weights ≥ 0 (`None` = 1).
    pub weight: Option<&'a [f64]>,
    /// Subject (cluster) id of each row, any labels.
    pub id: Option<&'a [usize]>,
}

impl<'a> SurvRows<'a> {
    /// Right-censored, unweighted rows.
    pub fn new(stop: &'a [f64], event: &'a [bool]) -> Self {
        SurvRows {
            stop,
            event,
            start: None,
            weight: None,
            id: None,
        }
    }

    /// Number of rows.
    pub fn len(&self) -> usize {
        self.stop.len()
    }

    /// True when there are no rows.
    pub fn is_empty(&self) -> bool {
        self.stop.is_empty()
    }

    fn w(&self, i: usize) -> f64 {
        self.weight.map_or(1.0, |w| w[i])
    }

    /// Check lengths, times, weights, `start < stop` and, with an id, that the
    /// intervals of one id do not overlap.
    pub fn validate(&self) -> Result<()> {
        let n = self.len();
        check_len("event", self.event.len(), n)?;
        if let Some(s) = self.start {
            check_len("start", s.len(), n)?;
        }
        if let Some(w) = self.weight {
            check_len("weights", w.len(), n)?;
        }
        if let Some(c) = self.id {
            check_len("id", c.len(), n)?;
        }
        for (index, &value) in self.stop.iter().enumerate() {
            let ok = value.is_finite() && (self.start.is_some() || value >= 0.0);
            if !ok {
                return Err(SurvError::InvalidTime { index, value });
            }
        }
        if let Some(w) = self.weight {
            if let Some(index) = w.iter().position(|v| !(v.is_finite() && *v >= 0.0)) {
                return Err(SurvError::InvalidValue {
                    what: "weight (weights must be finite and >= 0)".into(),
                    index,
                    value: w[index],
                });
            }
        }
        if let Some(s) = self.start {
            for i in 0..n {
                if !s[i].is_finite() || s[i] >= self.stop[i] {
                    return Err(SurvError::InvalidValue {
                        what: format!("start (must be finite and < stop = {})", self.stop[i]),
                        index: i,
                        value: s[i],
                    });
                }
            }
            if let Some(id) = self.id {
                let mut ord: Vec<usize> = (0..n).collect();
                ord.sort_by(|&a, &b| id[a].cmp(&id[b]).then(s[a].total_cmp(&s[b])));
                for w in ord.windows(2) {
                    let (a, b) = (w[0], w[1]);
                    if id[a] == id[b] && s[b] < self.stop[a] {
                        return Err(SurvError::InvalidValue {
                            what: format!(
                                "start (overlaps the interval ({}, {}] of the same id at observation {a})",
                                s[a], self.stop[a]
                            ),
                            index: b,
                            value: s[b],
                        });
                    }
                }
            }
        }
        Ok(())
    }
}

/// Why a fit is robust (R's default rule, or asked for).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RobustReason {
    /// `robust = TRUE` given.
    Requested,
    /// R default: the weights are not all integers.
    NonIntegerWeights,
    /// R default: an id has more than one event.
    RepeatedEvents,
    /// A cluster was given (Cox `cluster()`).
    Cluster,
}

impl RobustReason {
    /// Human-readable reason, as printed in reports.
    pub fn describe(self) -> &'static str {
        match self {
            RobustReason::Requested => "robust = TRUE requested",
            RobustReason::NonIntegerWeights => {
                "R default: robust = TRUE because of non-integer case weights"
            }
            RobustReason::RepeatedEvents => {
                "R default: robust = TRUE because an id has more than one event"
            }
            RobustReason::Cluster => "robust = TRUE because of the cluster",
        }
    }
}

/// R survival 3.5's default `robust` (the same in `survfit` and `coxph`):
/// robust when the weights are not all integers (`any(w != floor(w))`) or an
/// id has more than one event. Rows with weight 0 count like the others.
pub fn robust_default(
    event: &[bool],
    weight: Option<&[f64]>,
    id: Option<&[usize]>,
) -> Option<RobustReason> {
    if let Some(w) = weight {
        if w.iter().any(|v| v.floor() != *v) {
            return Some(RobustReason::NonIntegerWeights);
        }
    }
    if let Some(id) = id {
        let mut ev: Vec<usize> = id
            .iter()
            .zip(event)
            .filter(|(_, &e)| e)
            .map(|(&i, _)| i)
            .collect();
        ev.sort_unstable();
        if ev.windows(2).any(|p| p[0] == p[1]) {
            return Some(RobustReason::RepeatedEvents);
        }
    }
    None
}

/// Variance of a general Kaplan–Meier curve.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum KmVariance {
    /// (Weighted) Greenwood.
    #[default]
    Greenwood,
    /// Infinitesimal jackknife, clustered on the id when given.
    Robust,
}

/// A Kaplan–Meier curve with weighted (float) counts; fields as [`crate::km::KmFit`].
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct WeightedKmFit {
    /// Number of rows.
    pub n: u64,
    /// Σ w over events.
    pub n_event_total: f64,
    /// Distinct times, ascending.
    pub time: Vec<f64>,
    /// Weighted number at risk just before each time.
    pub n_risk: Vec<f64>,
    /// Weighted events at each time.
    pub n_event: Vec<f64>,
    /// Weighted censorings at each time.
    pub n_censor: Vec<f64>,
    /// S(t) just after each time.
    pub surv: Vec<f64>,
    /// SE of −log S (Greenwood), or the robust SE of S divided by S.
    pub std_err: Vec<f64>,
    /// SE of S itself.
    pub std_err_surv: Vec<f64>,
    /// Pointwise lower confidence limit (NaN where undefined).
    pub lower: Vec<f64>,
    /// Pointwise upper confidence limit (NaN where undefined).
    pub upper: Vec<f64>,
    /// Nelson–Aalen cumulative hazard (weighted).
    pub cumhaz: Vec<f64>,
    /// Standard error of `cumhaz`.
    pub std_chaz: Vec<f64>,
    /// Transform used for the confidence limits.
    pub conf_type: ConfType,
    /// Confidence level of the pointwise limits.
    pub conf_level: f64,
    /// Variance estimator behind `std_err` and the limits.
    pub variance: KmVariance,
}

impl WeightedKmFit {
    /// Median with CI, as `summary(fit)$table`.
    pub fn median(&self) -> Quantile {
        Quantile {
            prob: 0.5,
            estimate: crate::km::summary_median(&self.surv, &self.time),
            lower: crate::km::summary_median(&self.lower, &self.time),
            upper: crate::km::summary_median(&self.upper, &self.time),
        }
    }

    /// Restricted mean survival time to `end_time` as R survival 3.5-3's
    /// `print(fit, rmean = end_time)` / `summary(fit, rmean =)$table`
    /// (`survmean`): the area under S from min(0, first time), the curve
    /// extended flat past its last time, and
    /// se² = Σ_{t_i ≤ end} A_i² d_i / (n_i (n_i − d_i)), A_i = ∫_{t_i}^{end} S,
    /// with the *weighted* n_i at risk and d_i events (a term with
    /// n_i = d_i counts 0). R uses this same formula for robust
    /// (infinitesimal-jackknife) curves, so `se` does not depend on
    /// [`WeightedKmFit::variance`]; it treats the weights as fixed.
    pub fn rmean(&self, end_time: f64) -> crate::km::Rmean {
        let keep = self.time.partition_point(|&x| x <= end_time);
        let mut tt: Vec<f64> = self.time[..keep].to_vec();
        tt.push(end_time);
        let start = 0.0f64.min(self.time.first().copied().unwrap_or(0.0));
        let mut prev = start;
        let mut rect = Vec::with_capacity(tt.len());
        for (k, &t) in tt.iter().enumerate() {
            let s = if k == 0 { 1.0 } else { self.surv[k - 1] };
            rect.push((t - prev) * s);
            prev = t;
        }
        let rmean = rect.iter().sum::<f64>() + start;
        let (mut var, mut tail) = (0.0, 0.0);
        for i in (0..tt.len().saturating_sub(1)).rev() {
            tail += rect[i + 1];
            let (n, d) = (self.n_risk[i], self.n_event[i]);
            if n - d != 0.0 {
                var += tail * tail * d / (n * (n - d));
            }
        }
        crate::km::Rmean {
            end_time,
            rmean,
            se: var.sqrt(),
        }
    }

    /// Survival at t (right-continuous).
    pub fn surv_value(&self, t: f64) -> f64 {
        self.at(t).surv
    }

    /// The curve at time `t`, as `summary(fit, times = t, extend = TRUE)`:
    /// the step at the last time ≤ t (S = 1, SE 0, limits 1 before the
    /// first), and the weighted number at risk at the first time ≥ t (0
    /// past the last).
    pub fn at(&self, t: f64) -> WeightedSurvAt {
        let k = self.time.partition_point(|&x| x <= t);
        let first_ge = self.time.partition_point(|&x| x < t);
        let (surv, std_err_surv, lower, upper) = match k.checked_sub(1) {
            None => (1.0, 0.0, 1.0, 1.0),
            Some(j) => (
                self.surv[j],
                self.std_err_surv[j],
                self.lower[j],
                self.upper[j],
            ),
        };
        WeightedSurvAt {
            time: t,
            n_risk: self.n_risk.get(first_ge).copied().unwrap_or(0.0),
            surv,
            std_err_surv,
            lower,
            upper,
        }
    }
}

/// A weighted curve read at one time ([`WeightedKmFit::at`]).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct WeightedSurvAt {
    /// The requested time.
    pub time: f64,
    /// Weighted number at risk at the first curve time ≥ `time`.
    pub n_risk: f64,
    /// Survival.
    pub surv: f64,
    /// Standard error of the survival (not of its log).
    pub std_err_surv: f64,
    /// Lower confidence limit.
    pub lower: f64,
    /// Upper confidence limit.
    pub upper: f64,
}

/// Start and stop tied together as R's `aeqSurv` (one pass over both);
/// borrowed when the fix changes nothing (the common case: no copy).
pub fn timefix_rows<'a>(
    start: Option<&'a [f64]>,
    stop: &'a [f64],
    fix: crate::timefix::TimeFix,
) -> (Option<Cow<'a, [f64]>>, Cow<'a, [f64]>) {
    match (fix, start) {
        (crate::timefix::TimeFix::Exact, s) => (s.map(Cow::Borrowed), Cow::Borrowed(stop)),
        (_, None) => (None, crate::timefix::aeq_times(stop)),
        (_, Some(s)) => match crate::timefix::aeq_times_pair(s, stop) {
            None => (Some(Cow::Borrowed(s)), Cow::Borrowed(stop)),
            Some((a, b)) => (Some(Cow::Owned(a)), Cow::Owned(b)),
        },
    }
}

/// Fit a general Kaplan–Meier curve (see the module docs).
pub fn kaplan_meier_rows(
    rows: &SurvRows,
    variance: KmVariance,
    opts: &KmOptions,
) -> Result<WeightedKmFit> {
    rows.validate()?;
    if rows.is_empty() {
        return Err(SurvError::Empty);
    }
    opts_validate(opts)?;
    let (start, stop) = timefix_rows(rows.start, rows.stop, opts.timefix);
    if let Some(s) = &start {
        if let Some(i) = (0..stop.len()).find(|&i| s[i] >= stop[i]) {
            return Err(SurvError::InvalidValue {
                what: format!("start (ties with stop = {} after timefix)", stop[i]),
                index: i,
                value: s[i],
            });
        }
    }
    let fixed = SurvRows {
        stop: &stop,
        start: start.as_deref(),
        ..*rows
    };
    fit_fixed(&fixed, &continuations(&fixed), variance, opts, None)
}

/// [`kaplan_meier_rows`] by group (`group[i]` in `0..n_groups`), times tied
/// over all rows first, as `survfit(Surv ~ g)`.
pub fn kaplan_meier_rows_by_group(
    rows: &SurvRows,
    group: &[usize],
    n_groups: usize,
    variance: KmVariance,
    opts: &KmOptions,
) -> Result<Vec<Result<WeightedKmFit>>> {
    rows.validate()?;
    check_len("group", group.len(), rows.len())?;
    if let Some((index, &g)) = group.iter().enumerate().find(|(_, &g)| g >= n_groups) {
        return Err(SurvError::InvalidValue {
            what: "group".to_string(),
            index,
            value: g as f64,
        });
    }
    opts_validate(opts)?;
    let (start, stop) = timefix_rows(rows.start, rows.stop, opts.timefix);
    if let Some(s) = &start {
        if let Some(i) = (0..stop.len()).find(|&i| s[i] >= stop[i]) {
            return Err(SurvError::InvalidValue {
                what: format!("start (ties with stop = {} after timefix)", stop[i]),
                index: i,
                value: s[i],
            });
        }
    }
    // R 3.5-3 (survfitKM) computes survflag's positions on the whole data and
    // hands that full-length vector to each curve's C call, which reads it by
    // the row's index *within the curve*: the k-th row of a curve uses the
    // k-th data row's flag. This only changes `n_censor` of grouped curves
    // with an id (survival 3.6 passes the group to survflag instead); we
    // reproduce 3.5-3, the reference version.
    let whole = continuations(&SurvRows {
        stop: &stop,
        start: start.as_deref(),
        ..*rows
    });
    // large right-censored data without ids: (group, time, status) cells
    if start.is_none() && rows.id.is_none() {
        let cells = crate::cox::cells::collapse::<&[f64]>(
            Some(&stop),
            None,
            rows.event,
            &[],
            Some(group),
            rows.len() / 4,
        );
        if let Some(c) = cells {
            return Ok(fit_cells(rows, &stop, group, n_groups, &c, variance, opts));
        }
    }
    let mut out = Vec::with_capacity(n_groups);
    for g in 0..n_groups {
        let idx: Vec<usize> = (0..rows.len()).filter(|&i| group[i] == g).collect();
        let pick = |v: &[f64]| idx.iter().map(|&i| v[i]).collect::<Vec<f64>>();
        let st = pick(&stop);
        let ev: Vec<bool> = idx.iter().map(|&i| rows.event[i]).collect();
        let sa = start.as_deref().map(pick);
        let w = rows.weight.map(pick);
        let id: Option<Vec<usize>> = rows.id.map(|d| idx.iter().map(|&i| d[i]).collect());
        let sub = SurvRows {
            stop: &st,
            event: &ev,
            start: sa.as_deref(),
            weight: w.as_deref(),
            id: id.as_deref(),
        };
        out.push(if idx.is_empty() {
            Err(SurvError::Empty)
        } else {
            fit_fixed(&sub, &whole[..idx.len()], variance, opts, None)
        });
    }
    Ok(out)
}

/// [`kaplan_meier_rows_by_group`] of right-censored rows without ids (times
/// already fixed) on their (group, time, status) cells `c`: the rows of a
/// cell enter every sum alike — counts by their total weight W, and the
/// robust (infinitesimal-jackknife) variance, Σ over rows of (w_i · u)² with
/// u the same per-unit influence for every row of the cell, by W2 = Σ w_i²
/// (the cell is one unit of variance weight sqrt(W2) in [`fit_fixed`]). The
/// same curves as the rows up to floating-point summation order.
fn fit_cells(
    rows: &SurvRows,
    stop: &[f64],
    group: &[usize],
    n_groups: usize,
    c: &crate::cox::cells::Cells,
    variance: KmVariance,
    opts: &KmOptions,
) -> Vec<Result<WeightedKmFit>> {
    let (w, w2) = c.weight_sums(rows.weight);
    let mut n_rows = vec![0u64; n_groups];
    for &g in group {
        n_rows[g] += 1;
    }
    (0..n_groups)
        .map(|g| {
            if n_rows[g] == 0 {
                return Err(SurvError::Empty);
            }
            let mine: Vec<usize> = (0..c.len()).filter(|&k| group[c.rep[k]] == g).collect();
            let pick = |v: &[f64]| mine.iter().map(|&k| v[k]).collect::<Vec<f64>>();
            let t: Vec<f64> = mine.iter().map(|&k| stop[c.rep[k]]).collect();
            let e: Vec<bool> = mine.iter().map(|&k| rows.event[c.rep[k]]).collect();
            let wg = pick(&w);
            let vw: Vec<f64> = pick(&w2).iter().map(|v| v.sqrt()).collect();
            let sub = SurvRows {
                weight: Some(&wg),
                ..SurvRows::new(&t, &e)
            };
            let mut fit = fit_fixed(&sub, &vec![false; t.len()], variance, opts, Some(&vw))?;
            fit.n = n_rows[g];
            Ok(fit)
        })
        .collect()
}

/// Per-cluster lazy IJ state: `b` = Σ w A at the time of the last change,
/// `y` = at-risk weight since, `g` = the running Greenwood sum then.
#[derive(Clone, Copy, Default)]
struct Cl {
    b: f64,
    y: f64,
    g: f64,
}

/// Rows that continue into the same id's next row (R's `survflag`: stop
/// equals the start of another row of the id) — neither censorings nor entries.
fn continuations(rows: &SurvRows) -> Vec<bool> {
    let n = rows.len();
    match (rows.start, rows.id) {
        (Some(s), Some(id)) => {
            let mut keys: Vec<(usize, u64)> = (0..n)
                .map(|i| (id[i], crate::sort::f64_key(s[i])))
                .collect();
            keys.sort_unstable();
            (0..n)
                .map(|i| {
                    keys.binary_search(&(id[i], crate::sort::f64_key(rows.stop[i])))
                        .is_ok()
                })
                .collect()
        }
        _ => vec![false; n],
    }
}

/// The curve of rows with times already fixed. `vw`: each row's weight in
/// the robust variance when it is not its case weight (a cell of rows:
/// sqrt of their Σw², see [`fit_cells`]).
fn fit_fixed(
    rows: &SurvRows,
    continues: &[bool],
    variance: KmVariance,
    opts: &KmOptions,
    vw: Option<&[f64]>,
) -> Result<WeightedKmFit> {
    let vw = |i: usize| vw.map_or_else(|| rows.w(i), |v| v[i]);
    let n = rows.len();
    let stop = rows.stop;
    // order by stop (ascending) and by start (ascending)
    // (stable, as sort_by(total_cmp))
    let by_stop: Vec<usize> = crate::sort::order_by_total(stop);
    let by_start: Vec<usize> = match rows.start {
        Some(s) => crate::sort::order_by_total(s),
        None => vec![],
    };
    // cluster index of each row
    let (cl_of, ncl): (Vec<usize>, usize) = match rows.id {
        Some(id) => {
            let mut ids = id.to_vec();
            ids.sort_unstable();
            ids.dedup();
            (
                id.iter()
                    .map(|v| ids.binary_search(v).unwrap_or(0))
                    .collect(),
                ids.len(),
            )
        }
        None => ((0..n).collect(), n),
    };
    let robust = variance == KmVariance::Robust;
    let mut cl = if robust {
        vec![Cl::default(); ncl]
    } else {
        vec![]
    };
    // running sums: q2 = Σ_c y_c², p = Σ_c B_c y_c, v = Σ_c B_c²
    let (mut q2, mut pp, mut vv, mut gsum) = (0.0f64, 0.0f64, 0.0f64, 0.0f64);
    let z = z_for_level(opts.conf_level);
    let mut out = WeightedKmFit {
        n: n as u64,
        n_event_total: 0.0,
        time: vec![],
        n_risk: vec![],
        n_event: vec![],
        n_censor: vec![],
        surv: vec![],
        std_err: vec![],
        std_err_surv: vec![],
        lower: vec![],
        upper: vec![],
        cumhaz: vec![],
        std_chaz: vec![],
        conf_type: opts.conf_type,
        conf_level: opts.conf_level,
        variance,
    };
    let mut risk = 0.0f64; // Σ w at risk
    let mut nrisk_rows = 0usize; // rows at risk (exact zero detection)
    let (mut s, mut g, mut h, mut vh) = (1.0f64, 0.0f64, 0.0f64, 0.0f64);
    let (mut ia, mut ib) = (0usize, 0usize); // next row to enter (by start), next row by stop
                                             // changes the at-risk weight of cluster c by dw (materialising its B)
    let change = |cl: &mut Vec<Cl>, c: usize, dw: f64, gsum: f64, q2: &mut f64, pp: &mut f64| {
        let e = &mut cl[c];
        e.b += e.y * (gsum - e.g);
        e.g = gsum;
        *pp += e.b * dw;
        *q2 += (e.y + dw) * (e.y + dw) - e.y * e.y;
        e.y += dw;
    };
    let mut ev_cl: Vec<(usize, f64)> = vec![];
    while ib < n {
        let t = stop[by_stop[ib]];
        // entries: rows with start < t (all rows when there is no start)
        match rows.start {
            Some(sa) => {
                while ia < n && sa[by_start[ia]] < t {
                    let i = by_start[ia];
                    risk += rows.w(i);
                    nrisk_rows += 1;
                    if robust {
                        change(&mut cl, cl_of[i], vw(i), gsum, &mut q2, &mut pp);
                    }
                    ia += 1;
                }
            }
            None => {
                if ia == 0 {
                    for i in 0..n {
                        risk += rows.w(i);
                        if robust {
                            change(&mut cl, cl_of[i], vw(i), gsum, &mut q2, &mut pp);
                        }
                    }
                    nrisk_rows = n;
                    ia = n;
                }
            }
        }
        let lo = ib;
        while ib < n && stop[by_stop[ib]] == t {
            ib += 1;
        }
        let (mut d, mut c) = (0.0f64, 0.0f64);
        ev_cl.clear();
        for &i in &by_stop[lo..ib] {
            if rows.event[i] {
                d += rows.w(i);
                if robust {
                    ev_cl.push((cl_of[i], vw(i)));
                }
            } else if !continues[i] {
                c += rows.w(i);
            }
        }
        let nr = if nrisk_rows == 0 { 0.0 } else { risk };
        if d > 0.0 {
            let nd = nr - d;
            s *= 1.0 - d / nr;
            g += if nd > 0.0 {
                d / (nr * nd)
            } else {
                f64::INFINITY
            };
            h += d / nr;
            vh += d / (nr * nr);
            if robust && nd > 0.0 {
                // δ_c = (−dN_c + Y_c·hk)/(n − d), hk = d/n
                ev_cl.sort_unstable_by_key(|e| e.0);
                let hk = d / nr;
                let (mut bd, mut dd, mut dy) = (0.0f64, 0.0f64, 0.0f64);
                let mut k = 0;
                while k < ev_cl.len() {
                    let c0 = ev_cl[k].0;
                    let mut dn = 0.0;
                    while k < ev_cl.len() && ev_cl[k].0 == c0 {
                        dn += ev_cl[k].1;
                        k += 1;
                    }
                    let e = &mut cl[c0];
                    e.b += e.y * (gsum - e.g);
                    e.g = gsum;
                    bd += e.b * dn;
                    dd += dn * dn;
                    dy += dn * e.y;
                    e.b -= dn / nd;
                }
                let sum_bdelta = (-bd + hk * pp) / nd;
                let sum_d2 = (dd - 2.0 * hk * dy + hk * hk * q2) / (nd * nd);
                vv += 2.0 * sum_bdelta + sum_d2;
                pp += (-dy + hk * q2) / nd;
                gsum += hk / nd;
            }
        }
        let (se, se_s) = if robust {
            let se_s = if g.is_infinite() {
                0.0
            } else {
                s * vv.max(0.0).sqrt()
            };
            let se = if se_s == 0.0 {
                if g.is_infinite() {
                    f64::INFINITY
                } else {
                    0.0
                }
            } else {
                se_s / s
            };
            (se, se_s)
        } else {
            let se = g.sqrt();
            (se, s * se)
        };
        let (lo_ci, hi_ci) = conf_limits(s, se, opts.conf_type, z);
        out.time.push(t);
        out.n_risk.push(nr);
        out.n_event.push(d);
        out.n_censor.push(c);
        out.n_event_total += d;
        out.surv.push(s);
        out.std_err.push(se);
        out.std_err_surv.push(se_s);
        out.lower.push(lo_ci);
        out.upper.push(hi_ci);
        out.cumhaz.push(h);
        out.std_chaz.push(vh.sqrt());
        // exits
        for &i in &by_stop[lo..ib] {
            risk -= rows.w(i);
            nrisk_rows -= 1;
            if robust {
                change(&mut cl, cl_of[i], -vw(i), gsum, &mut q2, &mut pp);
            }
        }
    }
    Ok(out)
}

fn opts_validate(opts: &KmOptions) -> Result<()> {
    if !(opts.conf_level > 0.0 && opts.conf_level < 1.0) {
        return Err(SurvError::InvalidOption {
            name: "conf_level",
            message: format!("{} is not in (0, 1)", opts.conf_level),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::km::kaplan_meier;

    #[test]
    fn unweighted_rows_equal_the_plain_km() {
        let t = [1., 2., 2., 3., 3., 4., 6., 6.];
        let e = [true, false, true, true, false, false, true, false];
        let a = kaplan_meier(&t, &e, &KmOptions::default()).unwrap();
        let b = kaplan_meier_rows(
            &SurvRows::new(&t, &e),
            KmVariance::Greenwood,
            &KmOptions::default(),
        )
        .unwrap();
        assert_eq!(a.time, b.time);
        assert_eq!(a.surv, b.surv);
        assert_eq!(a.std_err, b.std_err);
        let nr: Vec<f64> = a.n_risk.iter().map(|&x| x as f64).collect();
        assert_eq!(nr, b.n_risk);
    }

    #[test]
    fn cells_of_large_right_censored_data_equal_the_rows() {
        // ≥ 20 000 rows, integer times with heavy ties, continuous
        // weights, three groups: each group's curve from its cells equals the
        // row-by-row curve of its rows (counts, survival, both variances)
        use rand::{Rng, SeedableRng};
        let mut rng = rand::rngs::StdRng::seed_from_u64(11);
        let n = 45_000;
        let t: Vec<f64> = (0..n)
            .map(|_| f64::from(rng.random_range(1..400u32)))
            .collect();
        let e: Vec<bool> = (0..n).map(|_| rng.random_bool(0.6)).collect();
        let w: Vec<f64> = (0..n).map(|_| 0.2 + 3.0 * rng.random::<f64>()).collect();
        let g: Vec<usize> = (0..n).map(|_| rng.random_range(0..3usize)).collect();
        let rows = SurvRows {
            weight: Some(&w),
            ..SurvRows::new(&t, &e)
        };
        let close = |a: &[f64], b: &[f64], what: &str| {
            assert_eq!(a.len(), b.len(), "{what}");
            for (x, y) in a.iter().zip(b) {
                let r = (x - y).abs() / x.abs().max(y.abs()).max(1e-300);
                assert!(x == y || r < 1e-9, "{what}: {x} vs {y}");
            }
        };
        // the fit under test does run on cells
        let c = crate::cox::cells::collapse::<&[f64]>(Some(&t), None, &e, &[], Some(&g), n);
        assert!(c.is_some_and(|c| c.len() < n / 10));
        for variance in [KmVariance::Robust, KmVariance::Greenwood] {
            let opts = KmOptions::default();
            let cells = kaplan_meier_rows_by_group(&rows, &g, 3, variance, &opts).unwrap();
            for (k, fit) in cells.into_iter().enumerate() {
                let fit = fit.unwrap();
                let idx: Vec<usize> = (0..n).filter(|&i| g[i] == k).collect();
                let (tk, ek, wk): (Vec<f64>, Vec<bool>, Vec<f64>) = (
                    idx.iter().map(|&i| t[i]).collect(),
                    idx.iter().map(|&i| e[i]).collect(),
                    idx.iter().map(|&i| w[i]).collect(),
                );
                let sub = SurvRows {
                    weight: Some(&wk),
                    ..SurvRows::new(&tk, &ek)
                };
                let r = crate::cox::cells::rows_only(|| {
                    kaplan_meier_rows_by_group(&sub, &vec![0; sub.len()], 1, variance, &opts)
                });
                let r = r.unwrap().remove(0).unwrap();
                assert_eq!(fit.n, r.n);
                assert_eq!(fit.time, r.time);
                close(&fit.n_risk, &r.n_risk, "n_risk");
                close(&fit.n_event, &r.n_event, "n_event");
                close(&fit.n_censor, &r.n_censor, "n_censor");
                close(&fit.surv, &r.surv, "surv");
                close(&fit.std_err, &r.std_err, "std_err");
                close(&fit.std_err_surv, &r.std_err_surv, "std_err_surv");
                close(&fit.lower, &r.lower, "lower");
                close(&fit.cumhaz, &r.cumhaz, "cumhaz");
            }
        }
    }

    #[test]
    fn integer_weights_equal_replicated_rows() {
        let t = [1., 2., 2., 3., 5., 6.];
        let e = [true, false, true, true, false, true];
        let w = [2., 1., 3., 1., 2., 1.];
        let (mut tr, mut er) = (vec![], vec![]);
        for i in 0..t.len() {
            for _ in 0..w[i] as usize {
                tr.push(t[i]);
                er.push(e[i]);
            }
        }
        let a = kaplan_meier(&tr, &er, &KmOptions::default()).unwrap();
        let rows = SurvRows {
            weight: Some(&w),
            ..SurvRows::new(&t, &e)
        };
        let b = kaplan_meier_rows(&rows, KmVariance::Greenwood, &KmOptions::default()).unwrap();
        for k in 0..a.time.len() {
            assert!((a.surv[k] - b.surv[k]).abs() < 1e-13);
            let (x, y) = (a.std_err[k], b.std_err[k]);
            assert!(x == y || (x - y).abs() < 1e-13, "{x} vs {y}");
        }
    }

    #[test]
    fn robust_se_equals_a_naive_jackknife_derivative() {
        // the IJ SE is the L2 norm of dS/dw_i·w_i: check it by finite differences
        let t = [1., 2., 2., 3., 4., 5., 5., 7., 8., 9.];
        let st = [0., 0., 1., 1., 2., 0., 3., 1., 0., 4.];
        let e = [
            true, false, true, true, false, true, true, false, true, false,
        ];
        let w = [1.5, 0.7, 2.0, 1.1, 0.4, 1.3, 0.9, 2.2, 1.0, 0.6];
        let id = [0usize, 1, 2, 0, 3, 4, 1, 5, 6, 7];
        let rows = SurvRows {
            start: Some(&st),
            weight: Some(&w),
            id: Some(&id),
            ..SurvRows::new(&t, &e)
        };
        let o = KmOptions::default();
        let fit = kaplan_meier_rows(&rows, KmVariance::Robust, &o).unwrap();
        let eps = 1e-7;
        for k in 0..fit.time.len() {
            let mut per_cluster = [0.0f64; 8];
            for i in 0..t.len() {
                let mut w2 = w;
                w2[i] *= 1.0 + eps;
                let r2 = SurvRows {
                    weight: Some(&w2),
                    ..rows
                };
                let f2 = kaplan_meier_rows(&r2, KmVariance::Greenwood, &o).unwrap();
                per_cluster[id[i]] += (f2.surv[k] - fit.surv[k]) / eps;
            }
            let want = per_cluster.iter().map(|v| v * v).sum::<f64>().sqrt();
            assert!(
                (fit.std_err_surv[k] - want).abs() < 1e-6,
                "t = {}: {} vs {want}",
                fit.time[k],
                fit.std_err_surv[k]
            );
        }
    }

    #[test]
    fn bad_rows_are_errors_naming_the_row() {
        let t = [2., 3.];
        let e = [true, false];
        let bad_w = [1.0, -1.0];
        let r = SurvRows {
            weight: Some(&bad_w),
            ..SurvRows::new(&t, &e)
        };
        assert!(matches!(
            r.validate(),
            Err(SurvError::InvalidValue { index: 1, .. })
        ));
        let st = [2.0, 0.0];
        let r = SurvRows {
            start: Some(&st),
            ..SurvRows::new(&t, &e)
        };
        assert!(matches!(
            r.validate(),
            Err(SurvError::InvalidValue { index: 0, .. })
        ));
        let st = [0.0, 1.0];
        let id = [7usize, 7];
        let r = SurvRows {
            start: Some(&st),
            id: Some(&id),
            ..SurvRows::new(&t, &e)
        };
        assert!(matches!(
            r.validate(),
            Err(SurvError::InvalidValue { index: 1, .. })
        ));
    }
}
