//! Restricted mean survival time (RMST) and two-arm contrasts
//! (R: `survRM2::rmst2(time, status, arm, tau, alpha = 1 − conf_level)`,
//! unadjusted analysis, survRM2 1.0-x).
//!
//! Per arm, with the Kaplan–Meier curve S and its distinct times `t_i ≤ τ`
//! (`n_i` at risk, `d_i` events):
//!
//! * `RMST(τ) = ∫_0^τ S(t) dt` (area under the KM step function);
//! * `Var = Σ_{t_i ≤ τ} A_i² · d_i / (n_i (n_i − d_i))` with `A_i = ∫_{t_i}^τ S`
//!   (Greenwood plug-in; a term with `n_i = d_i` counts as 0; no n/(n−1)
//!   factor) — identical to R survival's `print(survfit(...), rmean = τ)`, so
//!   this module reuses [`KmFit::rmean`]; CI `RMST ± z·se`;
//! * RMTL (restricted mean time lost) `τ − RMST`, same se, CI `τ − (upper, lower)`.
//!
//! Contrasts arm 1 vs arm 0 (Uno et al. 2014, *J Clin Oncol* 32:2380–2385):
//!
//! * difference `R1 − R0`, se `sqrt(V1 + V0)`, CI `± z·se`, p `2Φ(−|est|/se)`
//!   (evaluated as the χ²₁ upper tail of `(est/se)²`, which is the same number);
//! * ratio `R1/R0` on the log scale: se `sqrt(V1/R1² + V0/R0²)`, CI
//!   `exp(log ratio ± z·se)`, p from the log ratio;
//! * RMTL ratio `L1/L0`, likewise with `L = τ − R`.
//!
//! τ must not exceed survRM2's limit ([`rmst2_max_tau`]): the larger of the
//! two arms' largest follow-up times if the arm with the *smaller* largest
//! time ends in an event (all observations at that time are events, so its KM
//! is defined up to any τ), otherwise the smaller of the two largest times.
//! [`rmst2_default_tau`] is survRM2's default (`tau = NULL`), that same limit.
//! Undefined quantities (a log of 0, 0/0) are NaN (serialised as null).

use serde::Serialize;

use crate::dist::{two_sided_p, z_for_level};
use crate::error::{check_len, check_times, Result, SurvError};
use crate::km::{kaplan_meier, KmFit, KmOptions};

/// RMST of one arm (a row pair of survRM2's `RMST.arm*$result`).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct RmstArm {
    /// Arm label (0 or 1).
    pub arm: usize,
    /// Subjects in the arm.
    pub n: u64,
    /// Events in the arm.
    pub n_event: u64,
    /// Truncation time τ (same time unit as the data).
    pub tau: f64,
    /// Restricted mean survival time up to τ.
    pub rmst: f64,
    /// Standard error of `rmst`.
    pub se: f64,
    /// `se²` (survRM2's `rmst.var`).
    pub var: f64,
    /// Lower confidence limit of `rmst`.
    pub lower: f64,
    /// Upper confidence limit of `rmst`.
    pub upper: f64,
    /// Restricted mean time lost `τ − rmst`.
    pub rmtl: f64,
    /// Lower confidence limit of `rmtl` (`τ − upper`).
    pub rmtl_lower: f64,
    /// Upper confidence limit of `rmtl` (`τ − lower`).
    pub rmtl_upper: f64,
}

/// A between-arm contrast (a row of survRM2's `unadjusted.result`).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct RmstContrast {
    /// Difference, or ratio on the natural scale.
    pub estimate: f64,
    /// SE of the difference, or of the log ratio.
    pub se: f64,
    /// Lower confidence limit (natural scale for the ratio).
    pub lower: f64,
    /// Upper confidence limit (natural scale for the ratio).
    pub upper: f64,
    /// Two-sided p-value `2·pnorm(−|z|)`, computed as `pchisq(z², 1, lower =
    /// FALSE)` (the same number; statrs' normal CDF is only ~1e-10 accurate).
    pub p: f64,
}

/// Result of [`rmst2`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Rmst2Result {
    /// Truncation time τ used.
    pub tau: f64,
    /// Confidence level of the intervals.
    pub conf_level: f64,
    /// Arm 0 (reference).
    pub arm0: RmstArm,
    /// Arm 1.
    pub arm1: RmstArm,
    /// RMST (arm 1) − (arm 0).
    pub difference: RmstContrast,
    /// RMST (arm 1) / (arm 0).
    pub ratio: RmstContrast,
    /// RMTL (arm 1) / (arm 0).
    pub rmtl_ratio: RmstContrast,
}

fn check_conf_level(conf_level: f64) -> Result<()> {
    if !(conf_level > 0.0 && conf_level < 1.0) {
        return Err(SurvError::InvalidOption {
            name: "conf_level",
            message: format!("{conf_level} is not in (0, 1)"),
        });
    }
    Ok(())
}

fn check_tau(tau: f64) -> Result<()> {
    if !(tau.is_finite() && tau > 0.0) {
        return Err(SurvError::InvalidOption {
            name: "tau",
            message: format!("{tau} is not a positive finite time"),
        });
    }
    Ok(())
}

fn arm_from_fit(arm: usize, fit: &KmFit, tau: f64, z: f64) -> RmstArm {
    let r = fit.rmean(tau);
    let (rmst, se) = (r.rmean, r.se);
    let (lower, upper) = (rmst - z * se, rmst + z * se);
    RmstArm {
        arm,
        n: fit.n,
        n_event: fit.n_event_total,
        tau,
        rmst,
        se,
        var: se * se,
        lower,
        upper,
        rmtl: tau - rmst,
        rmtl_lower: tau - upper,
        rmtl_upper: tau - lower,
    }
}

/// RMST of a single sample up to `tau` (survRM2's internal `rmst1`). For τ
/// beyond the last time the curve is extended flat (as survRM2 does).
pub fn rmst1(time: &[f64], event: &[bool], tau: f64, conf_level: f64) -> Result<RmstArm> {
    check_tau(tau)?;
    check_conf_level(conf_level)?;
    let fit = kaplan_meier(time, event, &KmOptions::default())?;
    Ok(arm_from_fit(0, &fit, tau, z_for_level(conf_level)))
}

/// Split into the two arms, validating `arm` ∈ {0, 1} and both non-empty.
type ArmData = (Vec<f64>, Vec<bool>);
fn split_arms(time: &[f64], event: &[bool], arm: &[usize]) -> Result<[ArmData; 2]> {
    check_len("event", event.len(), time.len())?;
    check_len("arm", arm.len(), time.len())?;
    check_times(time)?;
    if time.is_empty() {
        return Err(SurvError::Empty);
    }
    let mut out: [ArmData; 2] = [(vec![], vec![]), (vec![], vec![])];
    for (i, &a) in arm.iter().enumerate() {
        if a > 1 {
            return Err(SurvError::InvalidValue {
                what: "arm (must be 0 or 1)".to_string(),
                index: i,
                value: a as f64,
            });
        }
        out[a].0.push(time[i]);
        out[a].1.push(event[i]);
    }
    let present = out.iter().filter(|(t, _)| !t.is_empty()).count();
    if present < 2 {
        return Err(SurvError::TooFewGroups(present));
    }
    Ok(out)
}

/// Largest follow-up time of an arm and whether every observation at it is an event.
fn last_obs(time: &[f64], event: &[bool]) -> (f64, bool) {
    let tmax = time.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let all_events = time
        .iter()
        .zip(event)
        .filter(|(&t, _)| t == tmax)
        .all(|(_, &e)| e);
    (tmax, all_events)
}

fn max_tau_of(arms: &[ArmData; 2]) -> f64 {
    let (t0, e0) = last_obs(&arms[0].0, &arms[0].1);
    let (t1, e1) = last_obs(&arms[1].0, &arms[1].1);
    // the arm whose follow-up ends first decides (ties: either, limits coincide)
    let shorter_ends_in_event = if t0 < t1 { e0 } else { e1 };
    if shorter_ends_in_event {
        t0.max(t1)
    } else {
        t0.min(t1)
    }
}

/// The largest τ survRM2's `rmst2` accepts for these data (see module docs).
pub fn rmst2_max_tau(time: &[f64], event: &[bool], arm: &[usize]) -> Result<f64> {
    Ok(max_tau_of(&split_arms(time, event, arm)?))
}

/// survRM2's default τ (`tau = NULL`): equal to [`rmst2_max_tau`].
pub fn rmst2_default_tau(time: &[f64], event: &[bool], arm: &[usize]) -> Result<f64> {
    rmst2_max_tau(time, event, arm)
}

fn contrast(estimate: f64, se: f64, z: f64) -> RmstContrast {
    RmstContrast {
        estimate,
        se,
        lower: estimate - z * se,
        upper: estimate + z * se,
        p: two_sided_p(estimate / se),
    }
}

fn log_ratio_contrast(num: f64, den: f64, var_num: f64, var_den: f64, z: f64) -> RmstContrast {
    let lr = num.ln() - den.ln();
    let se = (var_num / (num * num) + var_den / (den * den)).sqrt();
    RmstContrast {
        estimate: lr.exp(),
        se,
        lower: (lr - z * se).exp(),
        upper: (lr + z * se).exp(),
        p: two_sided_p(lr / se),
    }
}

/// Two-arm RMST comparison up to `tau`, as `survRM2::rmst2(time, status, arm,
/// tau, alpha = 1 - conf_level)` without covariates. `arm[i]` ∈ {0, 1};
/// contrasts are arm 1 vs arm 0.
pub fn rmst2(
    time: &[f64],
    event: &[bool],
    arm: &[usize],
    tau: f64,
    conf_level: f64,
) -> Result<Rmst2Result> {
    check_conf_level(conf_level)?;
    let arms = split_arms(time, event, arm)?;
    check_tau(tau)?;
    let limit = max_tau_of(&arms);
    if tau > limit {
        return Err(SurvError::InvalidOption {
            name: "tau",
            message: format!(
                "{tau} exceeds {limit}, the largest truncation time the data support (survRM2's rule)"
            ),
        });
    }
    let each = KmOptions::default();
    let f0 = kaplan_meier(&arms[0].0, &arms[0].1, &each)?;
    let f1 = kaplan_meier(&arms[1].0, &arms[1].1, &each)?;
    Ok(contrasts(&f0, &f1, tau, conf_level))
}

/// [`rmst2`] from the two arms' Kaplan–Meier curves (arm 0, arm 1), e.g.
/// from [`crate::tabulated::GroupTable::km_fit`]: the same checks and
/// results as [`rmst2`] on the rows the curves were fitted to (each arm's
/// largest follow-up and whether it ends in events read from its curve).
pub fn rmst2_from_fits(f0: &KmFit, f1: &KmFit, tau: f64, conf_level: f64) -> Result<Rmst2Result> {
    check_conf_level(conf_level)?;
    let last = |f: &KmFit| match (f.time.last(), f.n_censor.last()) {
        (Some(&t), Some(&c)) => Ok((t, c == 0)),
        _ => Err(SurvError::TooFewGroups(1)),
    };
    let ((t0, e0), (t1, e1)) = (last(f0)?, last(f1)?);
    check_tau(tau)?;
    let shorter_ends_in_event = if t0 < t1 { e0 } else { e1 };
    let limit = if shorter_ends_in_event {
        t0.max(t1)
    } else {
        t0.min(t1)
    };
    if tau > limit {
        return Err(SurvError::InvalidOption {
            name: "tau",
            message: format!(
                "{tau} exceeds {limit}, the largest truncation time the data support (survRM2's rule)"
            ),
        });
    }
    Ok(contrasts(f0, f1, tau, conf_level))
}

/// Arms and contrasts of [`rmst2`] from the two arms' curves (τ checked).
fn contrasts(f0: &KmFit, f1: &KmFit, tau: f64, conf_level: f64) -> Rmst2Result {
    let z = z_for_level(conf_level);
    let a0 = arm_from_fit(0, f0, tau, z);
    let a1 = arm_from_fit(1, f1, tau, z);
    Rmst2Result {
        tau,
        conf_level,
        arm0: a0,
        arm1: a1,
        difference: contrast(a1.rmst - a0.rmst, (a1.var + a0.var).sqrt(), z),
        ratio: log_ratio_contrast(a1.rmst, a0.rmst, a1.var, a0.var, z),
        rmtl_ratio: log_ratio_contrast(a1.rmtl, a0.rmtl, a1.var, a0.var, z),
    }
}

/// [`rmst2`] on weighted and/or (start, stop] rows, with its weighted
/// counts per arm.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Rmst2Rows {
    /// The arms and contrasts; `n` / `n_event` of an arm are its rows and
    /// unweighted events.
    pub result: Rmst2Result,
    /// Σ w of each arm's rows (arm 0, arm 1).
    pub weighted_n: [f64; 2],
    /// Σ w of each arm's events.
    pub weighted_events: [f64; 2],
}

/// Two-arm RMST up to `tau` from general Kaplan–Meier curves (case weights,
/// delayed entry, multi-row ids; [`crate::wkm::kaplan_meier_rows_by_group`],
/// times tied over all rows as `survfit(Surv ~ arm)`). Per arm RMST and SE
/// are R's `summary(survfit(Surv(start, stop, event) ~ arm, weights = w,
/// id = id), rmean = tau)$table` ([`crate::wkm::WeightedKmFit::rmean`]: the
/// weighted Greenwood-type SE R 3.5-3 reports for weighted and robust
/// curves alike); the contrasts combine them as [`rmst2`] does. τ must not
/// exceed survRM2's limit computed on the rows with a positive weight.
pub fn rmst2_rows(
    rows: &crate::wkm::SurvRows,
    arm: &[usize],
    tau: f64,
    conf_level: f64,
) -> Result<Rmst2Rows> {
    check_conf_level(conf_level)?;
    rows.validate()?;
    check_len("arm", arm.len(), rows.len())?;
    check_tau(tau)?;
    let pos: Vec<usize> = (0..rows.len())
        .filter(|&i| rows.weight.is_none_or(|w| w[i] > 0.0))
        .collect();
    let arms = split_arms(
        &pos.iter()
            .map(|&i| rows.stop[i].max(0.0))
            .collect::<Vec<f64>>(),
        &pos.iter().map(|&i| rows.event[i]).collect::<Vec<bool>>(),
        &pos.iter().map(|&i| arm[i]).collect::<Vec<usize>>(),
    )?;
    let limit = max_tau_of(&arms);
    if tau > limit {
        return Err(SurvError::InvalidOption {
            name: "tau",
            message: format!(
                "{tau} exceeds {limit}, the largest truncation time the data support (survRM2's rule)"
            ),
        });
    }
    let fits = crate::wkm::kaplan_meier_rows_by_group(
        rows,
        arm,
        2,
        crate::wkm::KmVariance::Greenwood,
        &KmOptions::default(),
    )?;
    let z = z_for_level(conf_level);
    let mut out = [None, None];
    let mut weighted_n = [0.0; 2];
    let mut weighted_events = [0.0; 2];
    for (k, f) in fits.into_iter().enumerate() {
        let f = f?;
        let r = f.rmean(tau);
        let (rmst, se) = (r.rmean, r.se);
        let idx = (0..rows.len()).filter(|&i| arm[i] == k);
        let (mut n, mut ne) = (0u64, 0u64);
        for i in idx {
            let w = rows.weight.map_or(1.0, |w| w[i]);
            n += 1;
            weighted_n[k] += w;
            if rows.event[i] {
                ne += 1;
                weighted_events[k] += w;
            }
        }
        out[k] = Some(RmstArm {
            arm: k,
            n,
            n_event: ne,
            tau,
            rmst,
            se,
            var: se * se,
            lower: rmst - z * se,
            upper: rmst + z * se,
            rmtl: tau - rmst,
            rmtl_lower: tau - (rmst + z * se),
            rmtl_upper: tau - (rmst - z * se),
        });
    }
    let (a0, a1) = match out {
        [Some(a0), Some(a1)] => (a0, a1),
        _ => return Err(SurvError::TooFewGroups(0)),
    };
    Ok(Rmst2Rows {
        result: Rmst2Result {
            tau,
            conf_level,
            arm0: a0,
            arm1: a1,
            difference: contrast(a1.rmst - a0.rmst, (a1.var + a0.var).sqrt(), z),
            ratio: log_ratio_contrast(a1.rmst, a0.rmst, a1.var, a0.var, z),
            rmtl_ratio: log_ratio_contrast(a1.rmtl, a0.rmtl, a1.var, a0.var, z),
        },
        weighted_n,
        weighted_events,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tau_limit_follows_survrm2_cases() {
        // arm 0 ends with an event at 5, arm 1 censored at 8: limit 8 (case 2)
        let t = [2.0, 5.0, 3.0, 8.0];
        let e = [true, true, true, false];
        let a = [0, 0, 1, 1];
        assert_eq!(rmst2_max_tau(&t, &e, &a).unwrap(), 8.0);
        // arm 0 ends censored at 5, arm 1 event at 8: limit 5 (case 3)
        let e2 = [true, false, true, true];
        assert_eq!(rmst2_max_tau(&t, &e2, &a).unwrap(), 5.0);
        assert!(rmst2(&t, &e2, &a, 6.0, 0.95).is_err());
        assert!(rmst2(&t, &e2, &a, 5.0, 0.95).is_ok());
        // both censored: min (case 4); both events: max (case 1)
        assert_eq!(
            rmst2_max_tau(&t, &[true, false, true, false], &a).unwrap(),
            5.0
        );
        assert_eq!(rmst2_max_tau(&t, &[true; 4], &a).unwrap(), 8.0);
    }

    #[test]
    fn rejects_bad_input() {
        let t = [1.0, 2.0];
        let e = [true, true];
        assert!(matches!(
            rmst2(&t, &e, &[0, 0], 1.0, 0.95),
            Err(SurvError::TooFewGroups(1))
        ));
        assert!(matches!(
            rmst2(&t, &e, &[0, 2], 1.0, 0.95),
            Err(SurvError::InvalidValue { index: 1, .. })
        ));
        assert!(rmst2(&t, &e, &[0, 1], f64::NAN, 0.95).is_err());
        assert!(rmst2(&t, &e, &[0, 1], 0.0, 0.95).is_err());
        assert!(rmst2(&t, &e, &[0, 1], 1.0, 1.5).is_err());
        assert!(rmst2(&[], &[], &[], 1.0, 0.95).is_err());
        assert!(rmst2(&t, &e, &[0], 1.0, 0.95).is_err());
    }
}
