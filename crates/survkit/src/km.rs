//! Kaplan–Meier estimator with Greenwood variance (R: `survfit(Surv(time, status) ~ 1)`).
//!
//! At each distinct time `t_i` (event or censoring) with `n_i` subjects at risk
//! (time ≥ t_i) and `d_i` events,
//!
//! * survival `S(t) = Π_{t_i ≤ t} (1 − d_i/n_i)` (Kaplan & Meier 1958);
//! * `std_err(t) = sqrt(Σ_{t_i ≤ t} d_i / (n_i (n_i − d_i)))`, Greenwood's (1926)
//!   formula for the standard error of −log S (R's `fit$std.err`; infinite once S = 0);
//! * Nelson–Aalen `cumhaz = Σ d_i/n_i`, `std_chaz = sqrt(Σ d_i/n_i²)`.
//!
//! Pointwise confidence intervals ([`ConfType`]) follow R's `survfit`
//! (`conf.type = "log"` by default): log `exp(log S ± z·se)` (upper clipped at 1),
//! log-log `exp(−exp(log(−log S) ∓ z·se/log S))`, plain `S ± z·se·S` clipped to
//! [0, 1], logit and arcsin as in R; undefined limits (S = 0, or S = 1 for log-log)
//! are NaN (R's `NA`).
//!
//! Medians follow `summary(fit)$table` (first time with S < 0.5 + √ε, midpoint
//! rule on a flat at exactly 0.5; the CI applies the same rule to the CI curves —
//! Brookmeyer & Crowley 1982 as R implements it); general quantiles follow
//! `quantile.survfit`. The restricted mean and its standard error follow R's
//! `print(fit, rmean=)` (Miller 1981 variance, no n/(n−1) factor).

use serde::Serialize;

use crate::dist::z_for_level;
use crate::error::{check_len, check_times, Result, SurvError};

/// Tolerance R uses when comparing survival values with a probability
/// (`sqrt(.Machine$double.eps)`).
pub const R_TOLERANCE: f64 = 1.490_116_119_384_765_6e-8;

/// Transformation used for pointwise confidence intervals (R `conf.type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ConfType {
    /// `exp(log S ± z·se)` — R's default.
    #[default]
    Log,
    /// `S^exp(±z·se/log S)` — SAS PROC LIFETEST's default, lifelines' default.
    LogLog,
    /// Linear `S ± z·se·S`.
    Plain,
    /// Logit transform.
    Logit,
    /// Arcsine-square-root transform.
    Arcsin,
    /// No confidence intervals.
    None,
}

impl ConfType {
    /// Parse R's spelling (`log`, `log-log`, `plain`, `logit`, `arcsin`, `none`).
    pub fn parse(s: &str) -> Option<ConfType> {
        Some(match s.trim().to_ascii_lowercase().as_str() {
            "log" => ConfType::Log,
            "log-log" | "loglog" | "log_log" => ConfType::LogLog,
            "plain" | "linear" => ConfType::Plain,
            "logit" => ConfType::Logit,
            "arcsin" | "asin" => ConfType::Arcsin,
            "none" => ConfType::None,
            _ => return None,
        })
    }

    /// R's name of the transform.
    pub fn as_str(self) -> &'static str {
        match self {
            ConfType::Log => "log",
            ConfType::LogLog => "log-log",
            ConfType::Plain => "plain",
            ConfType::Logit => "logit",
            ConfType::Arcsin => "arcsin",
            ConfType::None => "none",
        }
    }
}

/// Options of the Kaplan–Meier fit.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct KmOptions {
    /// CI transform (default log, as R).
    pub conf_type: ConfType,
    /// Confidence level in (0, 1) (default 0.95).
    pub conf_level: f64,
    /// Tie nearly equal times first (default R's `timefix = TRUE`).
    pub timefix: crate::timefix::TimeFix,
}

impl Default for KmOptions {
    fn default() -> Self {
        KmOptions {
            conf_type: ConfType::Log,
            conf_level: 0.95,
            timefix: crate::timefix::TimeFix::R,
        }
    }
}

impl KmOptions {
    fn validate(&self) -> Result<()> {
        if !(self.conf_level > 0.0 && self.conf_level < 1.0) {
            return Err(SurvError::InvalidOption {
                name: "conf_level",
                message: format!("{} is not in (0, 1)", self.conf_level),
            });
        }
        Ok(())
    }
}

/// One row per distinct time of a survival table: `n_risk` at risk just before
/// `time`, `n_event` events and `n_censor` censorings at `time`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TimeTable {
    /// Distinct times, ascending.
    pub time: Vec<f64>,
    /// Number at risk just before each time.
    pub n_risk: Vec<u64>,
    /// Events at each time.
    pub n_event: Vec<u64>,
    /// Censorings at each time.
    pub n_censor: Vec<u64>,
}

/// Order-preserving map from a non-negative finite f64 to u64.
#[inline]
pub(crate) fn time_key(t: f64) -> u64 {
    // for t >= 0 (and +0.0), the IEEE bit pattern is monotone in the value
    (t + 0.0).to_bits()
}

impl TimeTable {
    /// Tabulate (time, event) pairs. Times must be finite and ≥ 0 (checked by callers).
    ///
    /// Event and censoring times are sorted separately and merged, which is
    /// O(n log n) and allocation-light. Times are grouped exactly: callers
    /// first tie nearly equal times as R does ([`crate::timefix`]).
    pub fn from_pairs(time: &[f64], event: &[bool]) -> TimeTable {
        let mut ev: Vec<u64> = Vec::new();
        let mut ce: Vec<u64> = Vec::new();
        for (&t, &e) in time.iter().zip(event) {
            if e {
                ev.push(time_key(t));
            } else {
                ce.push(time_key(t));
            }
        }
        crate::sort::radix_sort_by_key(&mut ev, |&k| k);
        crate::sort::radix_sort_by_key(&mut ce, |&k| k);
        Self::from_sorted_keys(&ev, &ce)
    }

    /// Tabulate from sorted keys ([`time_key`]) of event and censoring times.
    pub(crate) fn from_sorted_keys(ev: &[u64], ce: &[u64]) -> TimeTable {
        let n = ev.len() + ce.len();
        let mut out = TimeTable::default();
        let (mut i, mut j) = (0usize, 0usize);
        let mut at_risk = n as u64;
        while i < ev.len() || j < ce.len() {
            let k = match (ev.get(i), ce.get(j)) {
                (Some(&a), Some(&b)) => a.min(b),
                (Some(&a), None) => a,
                (None, Some(&b)) => b,
                (None, None) => unreachable!(),
            };
            let t = f64::from_bits(k);
            let mut d = 0u64;
            while i < ev.len() && ev[i] == k {
                d += 1;
                i += 1;
            }
            let mut c = 0u64;
            while j < ce.len() && ce[j] == k {
                c += 1;
                j += 1;
            }
            out.time.push(t);
            out.n_risk.push(at_risk);
            out.n_event.push(d);
            out.n_censor.push(c);
            at_risk -= d + c;
        }
        out
    }

    /// Number of subjects.
    pub fn n(&self) -> u64 {
        self.n_risk.first().copied().unwrap_or(0)
    }
}

/// A fitted Kaplan–Meier curve (field names follow R's `survfit` object).
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct KmFit {
    /// Number of subjects.
    pub n: u64,
    /// Total number of events.
    pub n_event_total: u64,
    /// Distinct times (events and censorings), ascending.
    pub time: Vec<f64>,
    /// Number at risk just before each time, aligned with `time`.
    pub n_risk: Vec<u64>,
    /// Events at each time, aligned with `time`.
    pub n_event: Vec<u64>,
    /// Censorings at each time, aligned with `time`.
    pub n_censor: Vec<u64>,
    /// S(t) just after each time.
    pub surv: Vec<f64>,
    /// Standard error of −log S (R `std.err`); +∞ once S = 0.
    pub std_err: Vec<f64>,
    /// Pointwise lower confidence limit (NaN where undefined).
    pub lower: Vec<f64>,
    /// Pointwise upper confidence limit (NaN where undefined).
    pub upper: Vec<f64>,
    /// Nelson–Aalen cumulative hazard.
    pub cumhaz: Vec<f64>,
    /// Standard error of the Nelson–Aalen estimate.
    pub std_chaz: Vec<f64>,
    /// Transform used for the confidence limits.
    pub conf_type: ConfType,
    /// Confidence level of the pointwise limits.
    pub conf_level: f64,
}

/// A quantile (e.g. the median) with its confidence limits; `None` = not reached (R `NA`).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Default)]
pub struct Quantile {
    /// Probability of the quantile (0.5 = median).
    pub prob: f64,
    /// Time where 1 − S(t) reaches `prob`.
    pub estimate: Option<f64>,
    /// Lower confidence limit of the quantile time.
    pub lower: Option<f64>,
    /// Upper confidence limit of the quantile time.
    pub upper: Option<f64>,
}

/// Survival at a requested time (R `summary(fit, times = ..., extend = TRUE)`).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct SurvAt {
    /// Requested time.
    pub time: f64,
    /// Number at risk at `time` (0 beyond the last follow-up).
    pub n_risk: u64,
    /// Events in (previous requested time, time].
    pub n_event: u64,
    /// Censorings in (previous requested time, time].
    pub n_censor: u64,
    /// S(t) at `time`.
    pub surv: f64,
    /// Standard error of S itself (`S · std_err`), as `summary()` prints.
    pub std_err: f64,
    /// Lower confidence limit of S.
    pub lower: f64,
    /// Upper confidence limit of S.
    pub upper: f64,
    /// Nelson–Aalen cumulative hazard at `time`.
    pub cumhaz: f64,
    /// Standard error of `cumhaz`.
    pub std_chaz: f64,
}

/// Restricted mean survival time up to `end_time` (R `print(fit, rmean = ...)`).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Rmean {
    /// Upper limit of integration (same time unit as the data).
    pub end_time: f64,
    /// Area under S(t) from 0 to `end_time` (R `*rmean`).
    pub rmean: f64,
    /// Standard error of `rmean` (R `*se(rmean)`).
    pub se: f64,
}

/// Fit a Kaplan–Meier curve. `event[i]` is true for an event, false for a censoring.
pub fn kaplan_meier(time: &[f64], event: &[bool], opts: &KmOptions) -> Result<KmFit> {
    check_len("event", event.len(), time.len())?;
    check_times(time)?;
    opts.validate()?;
    if time.is_empty() {
        return Err(SurvError::Empty);
    }
    let time = opts.timefix.apply(time);
    Ok(KmFit::from_table(TimeTable::from_pairs(&time, event), opts))
}

/// Kaplan–Meier curves by group, as R's `survfit(Surv(time, event) ~ group)`:
/// nearly equal times are tied across all groups first (`opts.timefix`),
/// then each group is fitted. `group[i]` is in `0..n_groups`; a group with no
/// rows gets [`SurvError::Empty`]. The groups are fitted on two cores (the two
/// halves of the group list; each fit is the same as on one core).
pub fn kaplan_meier_by_group(
    time: &[f64],
    event: &[bool],
    group: &[usize],
    n_groups: usize,
    opts: &KmOptions,
) -> Result<Vec<Result<KmFit>>> {
    check_len("event", event.len(), time.len())?;
    check_len("group", group.len(), time.len())?;
    check_times(time)?;
    opts.validate()?;
    if let Some((index, &g)) = group.iter().enumerate().find(|(_, &g)| g >= n_groups) {
        return Err(SurvError::InvalidValue {
            what: "group".to_string(),
            index,
            value: g as f64,
        });
    }
    let time = opts.timefix.apply(time);
    let mut parts: Vec<(Vec<f64>, Vec<bool>)> = vec![(vec![], vec![]); n_groups];
    for ((&t, &e), &g) in time.iter().zip(event).zip(group) {
        parts[g].0.push(t);
        parts[g].1.push(e);
    }
    let each = KmOptions {
        timefix: crate::timefix::TimeFix::Exact,
        ..*opts
    };
    let fit_all = |ps: &[(Vec<f64>, Vec<bool>)]| -> Vec<Result<KmFit>> {
        ps.iter().map(|(t, e)| kaplan_meier(t, e, &each)).collect()
    };
    let (first, second) = parts.split_at(n_groups.div_ceil(2));
    let (mut fits, rest) = crate::par::join(
        time.len() >= crate::par::MIN_PAR && n_groups > 1,
        || fit_all(first),
        || fit_all(second),
    );
    fits.extend(rest);
    Ok(fits)
}

/// Confidence limits for one survival value (R's `survfit_confint`).
pub fn conf_limits(surv: f64, se: f64, conf_type: ConfType, z: f64) -> (f64, f64) {
    let nan = f64::NAN;
    match conf_type {
        ConfType::None => (nan, nan),
        ConfType::Plain => {
            let w = z * se * surv;
            if w.is_nan() {
                // R: pmax(NaN, 0) is NaN (S = 0 with infinite se)
                return (nan, nan);
            }
            ((surv - w).max(0.0), (surv + w).min(1.0))
        }
        ConfType::Log => {
            if surv == 0.0 {
                return (nan, nan);
            }
            let l = surv.ln();
            ((l - z * se).exp(), (l + z * se).exp().min(1.0))
        }
        ConfType::LogLog => {
            if surv == 0.0 || surv == 1.0 {
                return (nan, nan);
            }
            let ll = (-surv.ln()).ln();
            let w = z * se / surv.ln();
            ((-(ll - w).exp()).exp(), (-(ll + w).exp()).exp())
        }
        ConfType::Logit => {
            if surv == 0.0 {
                return (nan, nan);
            }
            let w = z * se * (1.0 + surv / (1.0 - surv));
            let lg = (surv / (1.0 - surv)).ln();
            (
                1.0 - 1.0 / (1.0 + (lg - w).exp()),
                1.0 - 1.0 / (1.0 + (lg + w).exp()),
            )
        }
        ConfType::Arcsin => {
            if surv == 0.0 {
                return (nan, nan);
            }
            let w = 0.5 * z * se * (surv / (1.0 - surv)).sqrt();
            if w.is_nan() {
                // R: pmax(0, NaN) is NaN (S = 1 with se = 0)
                return (nan, nan);
            }
            let a = surv.sqrt().asin();
            (
                (a - w).max(0.0).sin().powi(2),
                (a + w).min(std::f64::consts::FRAC_PI_2).sin().powi(2),
            )
        }
    }
}

/// R's `minmin`: first x whose y < 0.5 + tol (NaN skipped), midpoint rule on a flat at 0.5.
pub(crate) fn summary_median(y: &[f64], x: &[f64]) -> Option<f64> {
    let mut kept = y
        .iter()
        .zip(x)
        .filter(|(v, _)| !v.is_nan() && **v < 0.5 + R_TOLERANCE);
    let (&y1, &x1) = kept.next()?;
    if (y1 - 0.5).abs() < R_TOLERANCE {
        if let Some((_, &x2)) = kept.find(|(v, _)| **v < y1) {
            return Some((x1 + x2) / 2.0);
        }
    }
    Some(x1)
}

/// R's `findq` (quantile.survfit): quantile p of the CDF `1 − y`, with the
/// midpoint rule on flats and the end-of-curve rule.
fn find_quantile(time: &[f64], surv: &[f64], p: f64) -> Option<f64> {
    // x = c(0, time), y = c(0, 1 - surv); duplicated y dropped (first kept, NA == NA)
    let xmax = *time.last().unwrap_or(&0.0);
    let mut xs: Vec<f64> = Vec::with_capacity(time.len() + 1);
    let mut ys: Vec<f64> = Vec::with_capacity(time.len() + 1);
    let mut max_y = f64::NEG_INFINITY;
    let mut seen = std::collections::HashSet::new();
    for (x, y) in
        std::iter::once((0.0, 0.0)).chain(time.iter().zip(surv).map(|(&t, &s)| (t, 1.0 - s)))
    {
        if !y.is_nan() {
            max_y = max_y.max(y);
        }
        let key = if y.is_nan() {
            u64::MAX
        } else {
            (y + 0.0).to_bits()
        };
        if seen.insert(key) {
            xs.push(x);
            ys.push(y);
        }
    }
    if max_y < p {
        return None;
    }
    if p == 0.0 {
        return xs.first().copied();
    }
    // approx(y ± tol, 1:n, p, "constant", f = 1) drops NA and orders the points by y
    let mut pts: Vec<(f64, usize)> = ys
        .iter()
        .enumerate()
        .filter(|(_, y)| !y.is_nan())
        .map(|(i, &y)| (y, i))
        .collect();
    pts.sort_by(|a, b| a.0.total_cmp(&b.0));
    let first_at_least = |shift: f64| -> Option<usize> {
        let lo = pts.first()?.0 + shift;
        let hi = pts.last()?.0 + shift;
        if p < lo || p > hi {
            return None;
        }
        pts.iter().find(|(v, _)| v + shift >= p).map(|&(_, i)| i)
    };
    let i1 = first_at_least(R_TOLERANCE);
    let i2 = first_at_least(-R_TOLERANCE);
    let yn = *ys.last()?;
    if !yn.is_nan() && (p - yn).abs() < R_TOLERANCE {
        return i1.map(|i| (xs[i] + xmax) / 2.0);
    }
    match (i1, i2) {
        (Some(a), Some(b)) => Some((xs[a] + xs[b]) / 2.0),
        _ => None,
    }
}

impl KmFit {
    /// Build the curve from a tabulated survival table.
    pub fn from_table(tab: TimeTable, opts: &KmOptions) -> KmFit {
        let m = tab.time.len();
        let z = z_for_level(opts.conf_level);
        let mut surv = Vec::with_capacity(m);
        let mut std_err = Vec::with_capacity(m);
        let mut lower = Vec::with_capacity(m);
        let mut upper = Vec::with_capacity(m);
        let mut cumhaz = Vec::with_capacity(m);
        let mut std_chaz = Vec::with_capacity(m);
        let (mut s, mut g, mut h, mut vh) = (1.0f64, 0.0f64, 0.0f64, 0.0f64);
        for k in 0..m {
            let n = tab.n_risk[k] as f64;
            let d = tab.n_event[k] as f64;
            if d > 0.0 {
                s *= 1.0 - d / n;
                g += if n > d {
                    d / (n * (n - d))
                } else {
                    f64::INFINITY
                };
                h += d / n;
                vh += d / (n * n);
            }
            let se = g.sqrt();
            let (lo, hi) = conf_limits(s, se, opts.conf_type, z);
            surv.push(s);
            std_err.push(se);
            lower.push(lo);
            upper.push(hi);
            cumhaz.push(h);
            std_chaz.push(vh.sqrt());
        }
        KmFit {
            n: tab.n(),
            n_event_total: tab.n_event.iter().sum(),
            time: tab.time,
            n_risk: tab.n_risk,
            n_event: tab.n_event,
            n_censor: tab.n_censor,
            surv,
            std_err,
            lower,
            upper,
            cumhaz,
            std_chaz,
            conf_type: opts.conf_type,
            conf_level: opts.conf_level,
        }
    }

    /// Median survival with CI as in `summary(fit)$table` (`median`, `0.95LCL`, `0.95UCL`).
    pub fn median(&self) -> Quantile {
        Quantile {
            prob: 0.5,
            estimate: summary_median(&self.surv, &self.time),
            lower: summary_median(&self.lower, &self.time),
            upper: summary_median(&self.upper, &self.time),
        }
    }

    /// Quantile `p` of the event-time distribution (time where 1 − S reaches p),
    /// as `quantile(fit, probs = p)`.
    pub fn quantile(&self, p: f64) -> Quantile {
        Quantile {
            prob: p,
            estimate: find_quantile(&self.time, &self.surv, p),
            lower: find_quantile(&self.time, &self.lower, p),
            upper: find_quantile(&self.time, &self.upper, p),
        }
    }

    /// Index of the last time ≤ t, if any.
    fn index_at(&self, t: f64) -> Option<usize> {
        let k = self.time.partition_point(|&x| x <= t);
        k.checked_sub(1)
    }

    /// Survival at each requested time (ascending or not), as
    /// `summary(fit, times = times, extend = TRUE)`; intervals for counts start at 0.
    pub fn surv_at(&self, times: &[f64]) -> Vec<SurvAt> {
        let mut order: Vec<usize> = (0..times.len()).collect();
        order.sort_by(|&a, &b| times[a].total_cmp(&times[b]));
        let mut out: Vec<Option<SurvAt>> = vec![None; times.len()];
        let mut prev_idx: usize = 0; // number of table rows already counted
        for &oi in &order {
            let t = times[oi];
            let end = self.time.partition_point(|&x| x <= t);
            let (mut d, mut c) = (0u64, 0u64);
            for k in prev_idx.min(end)..end {
                d += self.n_event[k];
                c += self.n_censor[k];
            }
            prev_idx = prev_idx.max(end);
            let first_ge = self.time.partition_point(|&x| x < t);
            let n_risk = if first_ge < self.time.len() {
                self.n_risk[first_ge]
            } else {
                0
            };
            let (s, se_log, ch, sch) = match self.index_at(t) {
                Some(k) => (
                    self.surv[k],
                    self.std_err[k],
                    self.cumhaz[k],
                    self.std_chaz[k],
                ),
                None => (1.0, 0.0, 0.0, 0.0),
            };
            let (lo, hi) = match self.index_at(t) {
                Some(k) => (self.lower[k], self.upper[k]),
                // before the first time R's summary() uses the curve's start (1, 1)
                None if self.conf_type == ConfType::None => (f64::NAN, f64::NAN),
                None => (1.0, 1.0),
            };
            out[oi] = Some(SurvAt {
                time: t,
                n_risk,
                n_event: d,
                n_censor: c,
                surv: s,
                std_err: s * se_log,
                lower: lo,
                upper: hi,
                cumhaz: ch,
                std_chaz: sch,
            });
        }
        out.into_iter().flatten().collect()
    }

    /// Survival probability at time t (right-continuous step function).
    pub fn surv_value(&self, t: f64) -> f64 {
        self.index_at(t).map_or(1.0, |k| self.surv[k])
    }

    /// Last observed time (events or censorings).
    pub fn last_time(&self) -> f64 {
        self.time.last().copied().unwrap_or(0.0)
    }

    /// Restricted mean survival time from 0 to `end_time` with its standard error.
    pub fn rmean(&self, end_time: f64) -> Rmean {
        // rectangles under the step function from 0 to end_time
        let keep = self.time.partition_point(|&x| x <= end_time);
        let mut temptime: Vec<f64> = self.time[..keep].to_vec();
        temptime.push(end_time);
        let mut hh: Vec<f64> = (0..keep)
            .map(|k| {
                let n = self.n_risk[k] as f64;
                let d = self.n_event[k] as f64;
                if n - d == 0.0 {
                    0.0
                } else {
                    d / (n * (n - d))
                }
            })
            .collect();
        hh.push(0.0);
        let m = temptime.len();
        let mut rect = Vec::with_capacity(m);
        let mut prev_t = 0.0f64.min(self.time.first().copied().unwrap_or(0.0));
        let start = prev_t;
        for k in 0..m {
            let s_before = if k == 0 { 1.0 } else { self.surv[k - 1] };
            rect.push((temptime[k] - prev_t) * s_before);
            prev_t = temptime[k];
        }
        let mean: f64 = rect.iter().sum::<f64>() + start;
        // varmean = sum_i A_i^2 hh_i, A_i = sum_{k>i} rect_k
        let mut var = 0.0;
        let mut tail = 0.0;
        for i in (0..m.saturating_sub(1)).rev() {
            tail += rect[i + 1];
            var += tail * tail * hh[i];
        }
        Rmean {
            end_time,
            rmean: mean,
            se: var.sqrt(),
        }
    }
}

/// Reverse Kaplan–Meier of a fitted curve's data (censorings become the
/// events), with the same CI options — no need to go back to the raw data.
pub fn reverse_from(fit: &KmFit) -> KmFit {
    let tab = TimeTable {
        time: fit.time.clone(),
        n_risk: fit.n_risk.clone(),
        n_event: fit.n_censor.clone(),
        n_censor: fit.n_event.clone(),
    };
    KmFit::from_table(
        tab,
        &KmOptions {
            conf_type: fit.conf_type,
            conf_level: fit.conf_level,
            ..Default::default()
        },
    )
}

/// Reverse Kaplan–Meier (censoring as the event): the usual median follow-up
/// estimate (Schemper & Smith 1996), R `survfit(Surv(time, 1 - status) ~ 1)`.
pub fn reverse_km(time: &[f64], event: &[bool], opts: &KmOptions) -> Result<KmFit> {
    let flipped: Vec<bool> = event.iter().map(|e| !e).collect();
    kaplan_meier(time, &flipped, opts)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fit(t: &[f64], e: &[u8]) -> KmFit {
        let ev: Vec<bool> = e.iter().map(|&x| x == 1).collect();
        kaplan_meier(t, &ev, &KmOptions::default()).unwrap()
    }

    #[test]
    fn by_group_fits_each_group_and_flags_empty_ones() {
        // 40 000 rows (the two-core path), integer times, 3 groups + 1 empty
        let n = 40_000;
        let time: Vec<f64> = (0..n).map(|i| ((i * 7919) % 365) as f64).collect();
        let event: Vec<bool> = (0..n).map(|i| i % 3 != 0).collect();
        let group: Vec<usize> = (0..n).map(|i| [0, 1, 3][i % 3]).collect();
        let o = KmOptions::default();
        let fits = kaplan_meier_by_group(&time, &event, &group, 4, &o).unwrap();
        assert_eq!(fits.len(), 4);
        for g in [0, 1, 3] {
            let (t, e): (Vec<f64>, Vec<bool>) = (0..n)
                .filter(|&i| group[i] == g)
                .map(|i| (time[i], event[i]))
                .unzip();
            // compared as printed (the last CI limits are NaN, never == NaN)
            let want = kaplan_meier(&t, &e, &o).unwrap();
            assert_eq!(
                format!("{:?}", fits[g].as_ref().unwrap()),
                format!("{want:?}")
            );
        }
        assert!(matches!(fits[2], Err(SurvError::Empty)));
        assert!(kaplan_meier_by_group(&time, &event, &group, 3, &o).is_err());
        // round-off ties are judged over all groups: 0.1 + 0.2 joins 0.3
        let fits = kaplan_meier_by_group(
            &[0.3, 0.1 + 0.2, 0.5, 0.7],
            &[true, true, false, true],
            &[0, 1, 0, 1],
            2,
            &o,
        )
        .unwrap();
        assert_eq!(fits[1].as_ref().unwrap().time, vec![0.3, 0.7]);
    }

    #[test]
    fn hand_computed_with_ties_and_censoring() {
        // times 1,2,2,3+,3,4+: at 3 a death and a censoring
        let f = fit(&[1., 2., 2., 3., 3., 4.], &[1, 1, 1, 0, 1, 0]);
        assert_eq!(f.time, vec![1., 2., 3., 4.]);
        assert_eq!(f.n_risk, vec![6, 5, 3, 1]);
        assert_eq!(f.n_event, vec![1, 2, 1, 0]);
        assert_eq!(f.n_censor, vec![0, 0, 1, 1]);
        let s1 = 5.0 / 6.0;
        let s2 = s1 * 3.0 / 5.0;
        let s3 = s2 * 2.0 / 3.0;
        assert!((f.surv[0] - s1).abs() < 1e-15);
        assert!((f.surv[1] - s2).abs() < 1e-15);
        assert!((f.surv[2] - s3).abs() < 1e-15);
        let g: f64 = 1.0 / 30.0 + 2.0 / 15.0 + 1.0 / 6.0;
        assert!((f.std_err[2] - g.sqrt()).abs() < 1e-15);
        // S = 0.5 at t=2 exactly: flat at 0.5 until 3 -> median midpoint 2.5
        assert_eq!(f.median().estimate, Some(2.5));
    }

    #[test]
    fn all_censored_and_single_subject() {
        let f = fit(&[3., 5.], &[0, 0]);
        assert_eq!(f.surv, vec![1.0, 1.0]);
        assert_eq!(f.median().estimate, None);
        let one = fit(&[4.0], &[1]);
        assert_eq!(one.surv, vec![0.0]);
        assert!(one.std_err[0].is_infinite());
        assert!(one.lower[0].is_nan());
        assert_eq!(one.median().estimate, Some(4.0));
    }

    #[test]
    fn median_rules_differ_at_end_flat() {
        // Surv(c(1,2,3,4), c(1,1,0,0)): summary median 2, quantile 3
        let f = fit(&[1., 2., 3., 4.], &[1, 1, 0, 0]);
        assert_eq!(f.median().estimate, Some(2.0));
        assert_eq!(f.quantile(0.5).estimate, Some(3.0));
        // all deaths 1..4 -> 2.5 both ways
        let g = fit(&[1., 2., 3., 4.], &[1, 1, 1, 1]);
        assert_eq!(g.median().estimate, Some(2.5));
        assert_eq!(g.quantile(0.5).estimate, Some(2.5));
    }

    #[test]
    fn log_log_bands_and_median_ci_by_hand() {
        // SAS PROC LIFETEST's default (CONFTYPE=LOGLOG): deaths at 1..6.
        // Band: S^exp(±z·se/log S), se = sqrt(Σ d/(n(n−d))).
        let f = kaplan_meier(
            &[1., 2., 3., 4., 5., 6.],
            &[true; 6],
            &KmOptions {
                conf_type: ConfType::LogLog,
                conf_level: 0.95,
                ..Default::default()
            },
        )
        .unwrap();
        let expect = [
            (0.27312284992835584, 0.9747124266908935),
            (0.19461663680623478, 0.9044341643225163),
            (0.11094826035143798, 0.8037092368500567),
            (0.04608224341204507, 0.6755643579693009),
            (0.007723104040172134, 0.5168017818449097),
        ];
        for (k, (lo, hi)) in expect.iter().enumerate() {
            assert!((f.lower[k] - lo).abs() < 1e-12, "lower[{k}]");
            assert!((f.upper[k] - hi).abs() < 1e-12, "upper[{k}]");
        }
        assert!(f.lower[5].is_nan() && f.upper[5].is_nan());
        // median: S = 0.5 on [3, 4) -> 3.5; the lower band reaches 0.5 at
        // t = 1; the upper band never falls below 0.5 -> no upper limit
        let m = f.median();
        assert_eq!((m.estimate, m.lower, m.upper), (Some(3.5), Some(1.0), None));
    }

    #[test]
    fn reverse_from_a_fit_equals_reverse_from_data() {
        let t = [1., 2., 2., 3., 3., 4., 6., 6.];
        let e = [true, false, true, true, false, false, true, false];
        let f = kaplan_meier(&t, &e, &KmOptions::default()).unwrap();
        let a = reverse_from(&f);
        let b = reverse_km(&t, &e, &KmOptions::default()).unwrap();
        assert_eq!(a, b);
    }

    #[test]
    fn logit_and_arcsin_bands_by_hand() {
        // deaths at 1..4 (n = 4): S(1) = 0.75, se = sqrt(1/12)
        let ev = [true; 4];
        let t = [1., 2., 3., 4.];
        let z = crate::dist::z_for_level(0.95);
        let (s, se) = (0.75f64, (1.0f64 / 12.0).sqrt());
        let lg = kaplan_meier(
            &t,
            &ev,
            &KmOptions {
                conf_type: ConfType::Logit,
                conf_level: 0.95,
                ..Default::default()
            },
        )
        .unwrap();
        let w = z * se * (1.0 + s / (1.0 - s));
        let l = (s / (1.0 - s)).ln();
        assert!((lg.lower[0] - (1.0 - 1.0 / (1.0 + (l - w).exp()))).abs() < 1e-14);
        assert!((lg.upper[0] - (1.0 - 1.0 / (1.0 + (l + w).exp()))).abs() < 1e-14);
        let asn = kaplan_meier(
            &t,
            &ev,
            &KmOptions {
                conf_type: ConfType::Arcsin,
                conf_level: 0.95,
                ..Default::default()
            },
        )
        .unwrap();
        let w = 0.5 * z * se * (s / (1.0 - s)).sqrt();
        let a = s.sqrt().asin();
        assert!((asn.lower[0] - (a - w).max(0.0).sin().powi(2)).abs() < 1e-14);
        assert!(
            (asn.upper[0] - (a + w).min(std::f64::consts::FRAC_PI_2).sin().powi(2)).abs() < 1e-14
        );
        // S = 0 at the end: undefined limits, as R's NA
        assert!(asn.lower[3].is_nan() && lg.upper[3].is_nan());
        // S = 1 with se = 0 (a censoring before any death): NA in R for both
        let c = kaplan_meier(
            &[1., 2.],
            &[false, true],
            &KmOptions {
                conf_type: ConfType::Arcsin,
                conf_level: 0.95,
                ..Default::default()
            },
        )
        .unwrap();
        assert!(c.lower[0].is_nan() && c.upper[0].is_nan());
    }

    #[test]
    fn rejects_bad_input() {
        assert!(matches!(
            kaplan_meier(&[1.0, -2.0], &[true, false], &KmOptions::default()),
            Err(SurvError::InvalidTime { index: 1, .. })
        ));
        assert!(kaplan_meier(&[], &[], &KmOptions::default()).is_err());
        assert!(kaplan_meier(&[1.0], &[true, false], &KmOptions::default()).is_err());
    }
}
