//! Realism check of a cohort's event times (issue 13): does the cohort have
//! event clusters or empty stretches that smooth survival data would rarely show?
//!
//! For each endpoint (OS, PFS), a Weibull is fitted by maximum likelihood
//! (right-censored, [`weibull_mle`]) to the cohort's own integer-day times and
//! events in each baseline-EMD group. Event times are then redrawn from those
//! fits `redraws` times (default 400, seeded), keeping every patient's censoring
//! at last follow-up: a redrawn time T (rounded to whole days, at least 1) is
//! observed as min(T, C) with event T <= C, where C = last follow-up − progression
//! date ([`RedrawCensoring::LastFollowUp`], the default and the wording;
//! [`RedrawCensoring::DataCutoff`] censors every patient at the cut-off instead,
//! the follow-up a patient who died would have had). Two statistics are computed for the cohort and every redraw, on the
//! pooled cohort:
//!
//! * **cluster**: the most events in any 14-day window (days t .. t + 13);
//! * **gap**: the longest stretch (days) without events while at least 15
//!   patients are at risk (from time 0, between consecutive event days, and up
//!   to the last time with >= 15 at risk; at risk at t = observed time >= t).
//!
//! A cohort statistic above the redraws' 97.5th percentile (type-7 quantile, as
//! R's `quantile`) is a **fault**. Weibull fit: the right-censored likelihood
//! Π f(t)^d S(t)^(1−d) with S(t) = exp(−(t/λ)^k), as R's
//! `survreg(Surv(t, d) ~ 1, dist = "weibull")` (shape k = 1 / scale, λ =
//! exp(intercept)). The generator uses the same redraws, with a stricter
//! quantile, as its search aim and gate (see the `synth` module docs).

use super::model::MONTH_DAYS;
use super::rng::Rng;
use super::SynthPatient;

/// Options of the realism check.
#[derive(Debug, Clone, PartialEq)]
pub struct RealismOptions {
    /// Redraws from the Weibull fits.
    pub redraws: usize,
    /// Seed of the redraw stream.
    pub seed: u64,
    /// Width of the cluster window (days).
    pub window_days: i32,
    /// Patients at risk for a stretch without events to count.
    pub min_at_risk: usize,
    /// Quantile of the redraws above which a statistic is a fault.
    pub quantile: f64,
    /// Where a redrawn event time is censored.
    pub censoring: RedrawCensoring,
}

/// Censoring of the redrawn event times.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RedrawCensoring {
    /// At the patient's last follow-up (the wording; for a patient who
    /// died this is the death date).
    #[default]
    LastFollowUp,
    /// At the data cut-off (the latest last follow-up), for every patient: the
    /// administrative censoring a patient who died would have had.
    DataCutoff,
}

impl Default for RealismOptions {
    fn default() -> Self {
        RealismOptions {
            redraws: 400,
            seed: 13,
            window_days: 14,
            min_at_risk: 15,
            quantile: 0.975,
            censoring: RedrawCensoring::LastFollowUp,
        }
    }
}

/// A Weibull fit: S(t) = exp(-(t / scale)^shape), `scale` in days.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct WeibullFit {
    /// Shape parameter.
    pub shape: f64,
    /// Scale parameter (days).
    pub scale: f64,
}

impl WeibullFit {
    /// Median (days).
    pub fn median(&self) -> f64 {
        self.scale * std::f64::consts::LN_2.powf(1.0 / self.shape)
    }
}

/// Right-censored Weibull maximum likelihood. The scale is profiled out
/// (scale^shape = Σ t^shape / d) and the profile score in the shape,
/// d / k + Σ_events ln t − d Σ t^k ln t / Σ t^k (strictly decreasing in k), is
/// solved by bisection on ln k in [-6, 6]. Times are divided by their maximum
/// first, so no power overflows. `None` without events or positive times.
pub fn weibull_mle(time: &[f64], event: &[bool]) -> Option<WeibullFit> {
    let d = event.iter().filter(|&&e| e).count() as f64;
    let tmax = time.iter().copied().fold(0.0f64, f64::max);
    if d == 0.0 || tmax <= 0.0 || time.iter().any(|&t| t <= 0.0) {
        return None;
    }
    let x: Vec<f64> = time.iter().map(|&t| t / tmax).collect();
    let lx: Vec<f64> = x.iter().map(|v| v.ln()).collect();
    let sum_ev_log: f64 = lx
        .iter()
        .zip(event)
        .filter(|(_, &e)| e)
        .map(|(l, _)| l)
        .sum();
    let score = |k: f64| {
        let mut s = 0.0;
        let mut sl = 0.0;
        for &l in &lx {
            let p = (k * l).exp();
            s += p;
            sl += p * l;
        }
        d / k + sum_ev_log - d * sl / s
    };
    let (mut lo, mut hi) = (-6.0f64, 6.0f64);
    for _ in 0..80 {
        let mid = 0.5 * (lo + hi);
        if score(mid.exp()) > 0.0 {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    let k = (0.5 * (lo + hi)).exp();
    let s: f64 = lx.iter().map(|&l| (k * l).exp()).sum();
    Some(WeibullFit {
        shape: k,
        scale: tmax * (s / d).powf(1.0 / k),
    })
}

/// Most events in any window of `window` days (days t .. t + window − 1).
pub fn max_events_in_window(time: &[i32], event: &[bool], window: i32) -> usize {
    shape_of(time, event, window, 0).0
}

/// Longest stretch (days) without events while at least `min_at_risk` patients
/// are at risk (observed time >= t), starting at time 0.
pub fn longest_gap_at_risk(time: &[i32], event: &[bool], min_at_risk: usize) -> i32 {
    shape_of(time, event, 1, min_at_risk).1
}

/// Both statistics after one sort: (cluster, gap); gap 0 when `min_at_risk`
/// is 0 or exceeds n.
fn shape_of(time: &[i32], event: &[bool], window: i32, min_at_risk: usize) -> (usize, i32) {
    let mut obs: Vec<(i32, bool)> = time.iter().copied().zip(event.iter().copied()).collect();
    obs.sort_unstable();
    let ev: Vec<i32> = obs.iter().filter(|o| o.1).map(|o| o.0).collect();
    let mut cluster = 0;
    let mut lo = 0;
    for hi in 0..ev.len() {
        while ev[hi] - ev[lo] >= window {
            lo += 1;
        }
        cluster = cluster.max(hi - lo + 1);
    }
    if obs.len() < min_at_risk || min_at_risk == 0 {
        return (cluster, 0);
    }
    // risk(t) >= min_at_risk exactly for t <= the min_at_risk-th largest time
    let tau = obs[obs.len() - min_at_risk].0;
    let mut prev = 0;
    let mut gap = 0;
    for &e in &ev {
        if prev >= tau {
            break;
        }
        gap = gap.max(e.min(tau) - prev);
        prev = e;
    }
    if prev < tau {
        gap = gap.max(tau - prev);
    }
    (cluster, gap)
}

/// One statistic: the cohort's value and the redraws' quantile.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RealismStat {
    /// The cohort's value.
    pub cohort: f64,
    /// The redraws' `quantile` (97.5th percentile by default).
    pub threshold: f64,
    /// Share of redraws with a value >= the cohort's.
    pub p_upper: f64,
}

impl RealismStat {
    /// The cohort value is above the threshold.
    pub fn fault(&self) -> bool {
        self.cohort > self.threshold
    }
}

/// Realism of one endpoint.
#[derive(Debug, Clone, PartialEq)]
pub struct EndpointRealism {
    /// `OS` or `PFS`.
    pub endpoint: &'static str,
    /// Weibull fits: [no baseline EMD, baseline EMD].
    pub fits: [WeibullFit; 2],
    /// Most events in any 14-day window.
    pub cluster: RealismStat,
    /// Longest stretch without events while >= 15 at risk (days).
    pub gap: RealismStat,
}

/// Realism of a cohort: OS then PFS.
#[derive(Debug, Clone, PartialEq)]
pub struct RealismReport {
    /// One entry per endpoint: OS, then PFS.
    pub endpoints: Vec<EndpointRealism>,
}

impl RealismReport {
    /// Number of statistics above their threshold (0..=4).
    pub fn faults(&self) -> usize {
        self.endpoints
            .iter()
            .map(|e| usize::from(e.cluster.fault()) + usize::from(e.gap.fault()))
            .sum()
    }

    /// One line per endpoint, e.g. for test messages.
    pub fn describe(&self) -> String {
        self.endpoints
            .iter()
            .map(|e| {
                format!(
                    "{}: cluster {} (limit {:.1}){}, gap {} d = {:.1} months (limit {:.1} d){}",
                    e.endpoint,
                    e.cluster.cohort,
                    e.cluster.threshold,
                    if e.cluster.fault() { " FAULT" } else { "" },
                    e.gap.cohort,
                    e.gap.cohort / MONTH_DAYS,
                    e.gap.threshold,
                    if e.gap.fault() { " FAULT" } else { "" },
                )
            })
            .collect::<Vec<_>>()
            .join("; ")
    }
}

/// Type-7 quantile of sorted values.
fn quantile_sorted(v: &[f64], q: f64) -> f64 {
    let h = (v.len() - 1) as f64 * q;
    let lo = h.floor() as usize;
    let hi = (lo + 1).min(v.len() - 1);
    v[lo] + (h - lo as f64) * (v[hi] - v[lo])
}

/// One endpoint in integer days: observed time, event, censoring day (last
/// follow-up) and baseline-EMD group of every patient.
#[derive(Debug, Clone)]
pub(crate) struct DayEndpoint<'a> {
    pub time: &'a [i32],
    pub event: &'a [bool],
    pub censor: &'a [i32],
    pub baseline: &'a [bool],
}

/// The redraw statistics of one endpoint: (fits, sorted cluster values,
/// sorted gap values).
pub(crate) fn redraw_stats(
    ep: &DayEndpoint,
    opts: &RealismOptions,
    rng: &mut Rng,
) -> Option<([WeibullFit; 2], Vec<f64>, Vec<f64>)> {
    let n = ep.time.len();
    let mut fits = [WeibullFit {
        shape: 1.0,
        scale: 1.0,
    }; 2];
    for (g, fit) in fits.iter_mut().enumerate() {
        let (t, e): (Vec<f64>, Vec<bool>) = (0..n)
            .filter(|&i| usize::from(ep.baseline[i]) == g)
            .map(|i| (f64::from(ep.time[i]), ep.event[i]))
            .unzip();
        *fit = weibull_mle(&t, &e)?;
    }
    let mut clusters = Vec::with_capacity(opts.redraws);
    let mut gaps = Vec::with_capacity(opts.redraws);
    let mut t = vec![0i32; n];
    let mut e = vec![false; n];
    for _ in 0..opts.redraws {
        for i in 0..n {
            let f = fits[usize::from(ep.baseline[i])];
            let x = f.scale * rng.exp1().powf(1.0 / f.shape);
            let day = if x > 1e7 {
                10_000_000
            } else {
                (x.round() as i32).max(1)
            };
            t[i] = day.min(ep.censor[i]);
            e[i] = day <= ep.censor[i];
        }
        let (c, g) = shape_of(&t, &e, opts.window_days, opts.min_at_risk);
        clusters.push(c as f64);
        gaps.push(f64::from(g));
    }
    clusters.sort_by(f64::total_cmp);
    gaps.sort_by(f64::total_cmp);
    Some((fits, clusters, gaps))
}

fn stat(cohort: f64, sorted: &[f64], q: f64) -> RealismStat {
    RealismStat {
        cohort,
        threshold: quantile_sorted(sorted, q),
        p_upper: sorted.iter().filter(|&&v| v >= cohort).count() as f64 / sorted.len() as f64,
    }
}

pub(crate) fn endpoint_realism(
    name: &'static str,
    ep: &DayEndpoint,
    opts: &RealismOptions,
    rng: &mut Rng,
) -> Option<EndpointRealism> {
    let (fits, clusters, gaps) = redraw_stats(ep, opts, rng)?;
    let c = max_events_in_window(ep.time, ep.event, opts.window_days) as f64;
    let g = f64::from(longest_gap_at_risk(ep.time, ep.event, opts.min_at_risk));
    Some(EndpointRealism {
        endpoint: name,
        fits,
        cluster: stat(c, &clusters, opts.quantile),
        gap: stat(g, &gaps, opts.quantile),
    })
}

/// Integer-day OS and PFS of the patients (time, event) plus the censoring day
/// (last follow-up) and baseline EMD.
pub(crate) struct PatientDays {
    pub os: (Vec<i32>, Vec<bool>),
    pub pfs: (Vec<i32>, Vec<bool>),
    pub censor: Vec<i32>,
    pub baseline: Vec<bool>,
}

pub(crate) fn patient_days(patients: &[SynthPatient], censoring: RedrawCensoring) -> PatientDays {
    let days = |a: chrono::NaiveDate, b: chrono::NaiveDate| (b - a).num_days() as i32;
    let mut out = PatientDays {
        os: (Vec::new(), Vec::new()),
        pfs: (Vec::new(), Vec::new()),
        censor: Vec::new(),
        baseline: Vec::new(),
    };
    let cutoff = patients
        .iter()
        .map(|p| p.last_followup_date)
        .max()
        .unwrap_or_default();
    for p in patients {
        let t0 = p.progression_date;
        out.os
            .0
            .push(days(t0, p.death_date.unwrap_or(p.last_followup_date)));
        out.os.1.push(p.death_date.is_some());
        let first = [p.next_line_progression_date, p.death_date]
            .into_iter()
            .flatten()
            .min();
        out.pfs
            .0
            .push(days(t0, first.unwrap_or(p.last_followup_date)));
        out.pfs.1.push(first.is_some());
        out.censor.push(days(
            t0,
            match censoring {
                RedrawCensoring::LastFollowUp => p.last_followup_date,
                RedrawCensoring::DataCutoff => cutoff,
            },
        ));
        out.baseline.push(p.emd_at_infusion);
    }
    out
}

/// The realism check of a cohort (module docs). `None` when an endpoint group
/// has no event (no Weibull fit).
pub fn realism(patients: &[SynthPatient], opts: &RealismOptions) -> Option<RealismReport> {
    let d = patient_days(patients, opts.censoring);
    let mut rng = Rng::new(opts.seed);
    let mut endpoints = Vec::with_capacity(2);
    for (name, (t, e)) in [("OS", &d.os), ("PFS", &d.pfs)] {
        let ep = DayEndpoint {
            time: t,
            event: e,
            censor: &d.censor,
            baseline: &d.baseline,
        };
        endpoints.push(endpoint_realism(name, &ep, opts, &mut rng)?);
    }
    Some(RealismReport { endpoints })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Right-censored Weibull log-likelihood, written out directly.
    fn loglik(t: &[f64], e: &[bool], k: f64, lambda: f64) -> f64 {
        t.iter()
            .zip(e)
            .map(|(&t, &e)| {
                let z = (t / lambda).powf(k);
                let dens = if e {
                    k.ln() - lambda.ln() + (k - 1.0) * (t / lambda).ln()
                } else {
                    0.0
                };
                dens - z
            })
            .sum()
    }

    #[test]
    fn weibull_mle_maximises_the_likelihood_and_recovers_parameters() {
        let mut rng = Rng::new(5);
        let (k0, l0) = (1.6, 300.0);
        let mut t = Vec::new();
        let mut e = Vec::new();
        for _ in 0..20_000 {
            let x = l0 * rng.exp1().powf(1.0 / k0);
            let c = 50.0 + 600.0 * rng.uniform();
            t.push(x.min(c));
            e.push(x <= c);
        }
        let f = weibull_mle(&t, &e).unwrap();
        assert!((f.shape / k0 - 1.0).abs() < 0.03, "{f:?}");
        assert!((f.scale / l0 - 1.0).abs() < 0.03, "{f:?}");
        // no point of a fine grid around the estimate does better
        let best = loglik(&t, &e, f.shape, f.scale);
        for a in -5..=5 {
            for b in -5..=5 {
                let k = f.shape * (1.0 + 0.002 * a as f64);
                let l = f.scale * (1.0 + 0.002 * b as f64);
                assert!(loglik(&t, &e, k, l) <= best + 1e-9, "({k}, {l})");
            }
        }
        assert!(weibull_mle(&[3.0, 4.0], &[false, false]).is_none());
    }

    #[test]
    fn cluster_and_gap_by_hand() {
        // events on days 10, 12, 23, 24 (window 14: 10..23 holds 10, 12, 23)
        let t = [10, 12, 23, 24, 30, 100];
        let e = [true, true, true, true, false, false];
        assert_eq!(max_events_in_window(&t, &e, 14), 3);
        assert_eq!(max_events_in_window(&t, &e, 15), 4);
        // at least 2 at risk up to day 30 (second largest time): stretches
        // 0-10, 10-12, 12-23, 23-24, 24-30 -> 11 days
        assert_eq!(longest_gap_at_risk(&t, &e, 2), 11);
        // at least 1 at risk up to day 100: 24-100
        assert_eq!(longest_gap_at_risk(&t, &e, 1), 76);
        // at least 6 at risk only up to day 10: 0-10
        assert_eq!(longest_gap_at_risk(&t, &e, 6), 10);
        assert_eq!(longest_gap_at_risk(&t, &e, 7), 0);
    }

    #[test]
    fn quantile_is_type_7() {
        let v = [1.0, 2.0, 3.0, 4.0, 5.0];
        assert_eq!(quantile_sorted(&v, 0.5), 3.0);
        assert!((quantile_sorted(&v, 0.975) - 4.9).abs() < 1e-12);
    }
}
