//! Subgroup analyses: the hazard ratio of an exposure (treatment) within
//! each level of each subgroup grouping, with the test of interaction.
//!
//! For an exposure grouping `E` (reference = its first level, or the
//! grouping's `reference`) and a subgroup grouping `S`, on the endpoint's
//! patients with both known:
//!
//! * within each level `s` of `S`: a Cox model of `E` alone on the patients
//!   with `S = s` — R `coxph(Surv(time, status) ~ E, data, subset = S == s)`;
//! * the interaction test: the likelihood-ratio test of the model with the
//!   exposure × subgroup product terms against the model with both main
//!   effects, `2 (l_full − l_main)` on `(k_E − 1)(k_S − 1)` df (product
//!   columns that are zero for every patient — an empty exposure × subgroup
//!   cell — are left out and do not count) — R
//!   `anova(coxph(Surv(time, status) ~ E + S), coxph(Surv(time, status) ~ E * S))`.
//!
//! Ties are handled by the run's convention (Efron by default).

use serde::Serialize;
use survkit::cox::{cox_fit, CoxOptions, Design};

use super::survival::{CoxSummary, CoxTermSummary, TermInfo};
use crate::derive::Cohort;
use crate::plan::{Plan, SubgroupSpec};

/// The likelihood-ratio test of interaction.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct InteractionTest {
    /// Likelihood-ratio statistic (model with vs without the interaction).
    pub chisq: f64,
    /// Degrees of freedom.
    pub df: usize,
    /// p-value of the test.
    pub p: f64,
}

/// The exposure's hazard ratio(s) within one level of a subgroup.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct SubgroupLevel {
    /// The subgroup level (or `all`).
    pub level: String,
    /// Patients in this level with a known exposure, and their events.
    pub n: usize,
    /// Events in this level.
    pub events: usize,
    /// One term per non-reference exposure level (empty when not fitted).
    pub terms: Vec<CoxTermSummary>,
    #[serde(skip_serializing_if = "Option::is_none")]
    /// Why no hazard ratio was estimated, if it was not.
    pub note: Option<String>,
}

/// One subgroup grouping.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct SubgroupBy {
    /// Subgroup grouping (plan name).
    pub grouping: String,
    /// Label of the grouping as displayed.
    pub grouping_label: String,
    /// The exposure's hazard ratio in each level.
    pub levels: Vec<SubgroupLevel>,
    /// Test of the exposure × subgroup interaction (`None` when not estimable).
    pub interaction: Option<InteractionTest>,
    /// Patients left out for a missing exposure or subgroup value.
    pub n_missing: usize,
    /// Notes on the subgroup.
    pub notes: Vec<String>,
}

/// A subgroup analysis of one endpoint.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct SubgroupResult {
    /// Endpoint name (plan key).
    pub endpoint: String,
    /// Endpoint label as displayed.
    pub endpoint_label: String,
    /// Exposure grouping (plan name).
    pub exposure: String,
    /// Exposure label as displayed.
    pub exposure_label: String,
    /// Reference level of the exposure.
    pub reference: String,
    /// The exposure's HR in all patients with a known exposure.
    pub overall: Option<SubgroupLevel>,
    /// One entry per subgroup grouping.
    pub by: Vec<SubgroupBy>,
}

/// Exposure levels in model order (reference first) among `rows`.
fn exposure_levels(levels: &[String], reference: Option<&str>, present: &[bool]) -> Vec<String> {
    let mut lv: Vec<String> = levels
        .iter()
        .zip(present)
        .filter(|(_, p)| **p)
        .map(|(l, _)| l.clone())
        .collect();
    if let Some(r) = reference.and_then(|r| lv.iter().position(|l| l == r)) {
        let x = lv.remove(r);
        lv.insert(0, x);
    }
    lv
}

/// Cox model of the exposure alone on `rows` (indices into time/event/e).
#[allow(clippy::too_many_arguments)]
fn fit_within(
    label: &str,
    rows: &[usize],
    time: &[f64],
    event: &[bool],
    e: &[Option<usize>],
    levels: &[String],
    reference: Option<&str>,
    exposure: &str,
    cox: &CoxOptions,
) -> SubgroupLevel {
    let events = rows.iter().filter(|&&r| event[r]).count();
    let mut present = vec![false; levels.len()];
    for &r in rows {
        if let Some(l) = e[r] {
            present[l] = true;
        }
    }
    let lv = exposure_levels(levels, reference, &present);
    let mut out = SubgroupLevel {
        level: label.to_string(),
        n: rows.len(),
        events,
        terms: vec![],
        note: None,
    };
    if lv.len() < 2 {
        out.note = Some(format!(
            "{} exposure level(s) among these patients: no hazard ratio",
            lv.len()
        ));
        return out;
    }
    if events == 0 {
        out.note = Some("no events: no hazard ratio".into());
        return out;
    }
    let labels: Vec<&str> = rows
        .iter()
        .map(|&r| e[r].map_or("", |l| levels[l].as_str()))
        .collect();
    let t: Vec<f64> = rows.iter().map(|&r| time[r]).collect();
    let d: Vec<bool> = rows.iter().map(|&r| event[r]).collect();
    let mut design = Design::default();
    design.add_factor(exposure, &labels, Some(&lv));
    let info: Vec<TermInfo> = lv[1..]
        .iter()
        .map(|l| TermInfo {
            variable: exposure.to_string(),
            level: Some(l.clone()),
            reference: Some(lv[0].clone()),
        })
        .collect();
    match cox_fit(&t, &d, &design, None, cox) {
        Ok(fit) => out.terms = CoxSummary::from_fit(&fit, &info).terms,
        Err(err) => out.note = Some(format!("Cox model not fitted: {err}")),
    }
    out
}

/// Likelihood-ratio test of E × S on `rows`.
#[allow(clippy::too_many_arguments)]
fn interaction(
    rows: &[usize],
    time: &[f64],
    event: &[bool],
    e: &[Option<usize>],
    s: &[Option<usize>],
    e_levels: &[String],
    s_levels: &[String],
    cox: &CoxOptions,
) -> Result<InteractionTest, String> {
    let t: Vec<f64> = rows.iter().map(|&r| time[r]).collect();
    let d: Vec<bool> = rows.iter().map(|&r| event[r]).collect();
    // dummy columns, reference = first level present
    let dummies = |x: &[Option<usize>], k: usize| -> Vec<Vec<f64>> {
        let mut present = vec![false; k];
        for &r in rows {
            if let Some(l) = x[r] {
                present[l] = true;
            }
        }
        let lv: Vec<usize> = (0..k).filter(|&l| present[l]).collect();
        lv.iter()
            .skip(1)
            .map(|&l| {
                rows.iter()
                    .map(|&r| if x[r] == Some(l) { 1.0 } else { 0.0 })
                    .collect()
            })
            .collect()
    };
    let de = dummies(e, e_levels.len());
    let ds = dummies(s, s_levels.len());
    if de.is_empty() || ds.is_empty() {
        return Err("fewer than two exposure or subgroup levels".into());
    }
    let mut main = Design::default();
    for (j, c) in de.iter().enumerate() {
        main.add_numeric(&format!("e{j}"), c.clone());
    }
    for (j, c) in ds.iter().enumerate() {
        main.add_numeric(&format!("s{j}"), c.clone());
    }
    let mut full = main.clone();
    let mut df = 0;
    for (a, ca) in de.iter().enumerate() {
        for (b, cb) in ds.iter().enumerate() {
            let prod: Vec<f64> = ca.iter().zip(cb).map(|(x, y)| x * y).collect();
            if prod.iter().any(|&v| v != 0.0) {
                full.add_numeric(&format!("e{a}:s{b}"), prod);
                df += 1;
            }
        }
    }
    if df == 0 {
        return Err("no patient in any exposure × subgroup cell beyond the reference".into());
    }
    let f0 = cox_fit(&t, &d, &main, None, cox).map_err(|e| e.to_string())?;
    let f1 = cox_fit(&t, &d, &full, None, cox).map_err(|e| e.to_string())?;
    let chisq = (2.0 * (f1.loglik - f0.loglik)).max(0.0);
    Ok(InteractionTest {
        chisq,
        df,
        p: survkit::dist::chisq_sf(chisq, df as f64),
    })
}

/// Every subgroup analysis of the plan.
///
/// Contract: each `plan.subgroups` entry names an endpoint and an exposure
/// grouping of `cohort` and subgroup groupings `by`; rows are the endpoint's
/// analysis rows with a known exposure (and, per subgroup, a known subgroup
/// level; the rest are counted in `n_missing`). `cox` sets ties and the
/// confidence level. Output: one [`SubgroupResult`] per entry whose endpoint
/// and exposure could be formed (others are left out), with the overall and
/// per-level hazard ratios and the interaction test. Never panics on user
/// data: a model that cannot be fitted is reported in its `note`, an
/// interaction test that cannot be computed in `notes`.
pub fn subgroup_analyses(plan: &Plan, cohort: &Cohort, cox: &CoxOptions) -> Vec<SubgroupResult> {
    // the forest plot and the interaction test use no concordance
    let cox = &CoxOptions {
        concordance: survkit::cox::ConcordanceChoice::Skip,
        ..*cox
    };
    plan.subgroups
        .iter()
        .filter_map(|spec| one(plan, cohort, spec, cox))
        .collect()
}

fn one(
    plan: &Plan,
    cohort: &Cohort,
    spec: &SubgroupSpec,
    cox: &CoxOptions,
) -> Option<SubgroupResult> {
    let ep = cohort.endpoint(&spec.endpoint)?;
    let g = cohort.grouping(&spec.exposure)?;
    let reference = plan
        .grouping(&spec.exposure)
        .and_then(|s| s.reference.clone())
        .or_else(|| g.levels.first().cloned())?;
    let (idx, time, event) = ep.analysis_rows();
    let gi = g.level_index();
    let e: Vec<Option<usize>> = idx.iter().map(|&i| gi[i as usize]).collect();
    let known: Vec<usize> = (0..idx.len()).filter(|&r| e[r].is_some()).collect();
    let overall = fit_within(
        "All patients",
        &known,
        &time,
        &event,
        &e,
        &g.levels,
        Some(&reference),
        &g.name,
        cox,
    );
    let mut by = vec![];
    for name in &spec.by {
        let Some(sg) = cohort.grouping(name) else {
            continue;
        };
        let si = sg.level_index();
        let s: Vec<Option<usize>> = idx.iter().map(|&i| si[i as usize]).collect();
        let rows: Vec<usize> = known.iter().copied().filter(|&r| s[r].is_some()).collect();
        let levels = sg
            .levels
            .iter()
            .enumerate()
            .map(|(l, label)| {
                let in_level: Vec<usize> =
                    rows.iter().copied().filter(|&r| s[r] == Some(l)).collect();
                fit_within(
                    label,
                    &in_level,
                    &time,
                    &event,
                    &e,
                    &g.levels,
                    Some(&reference),
                    &g.name,
                    cox,
                )
            })
            .collect();
        let mut notes = vec![];
        let inter = match interaction(&rows, &time, &event, &e, &s, &g.levels, &sg.levels, cox) {
            Ok(t) => Some(t),
            Err(m) => {
                notes.push(format!("interaction test not computed: {m}"));
                None
            }
        };
        by.push(SubgroupBy {
            grouping: sg.name.clone(),
            grouping_label: sg.label.clone(),
            levels,
            interaction: inter,
            n_missing: known.len() - rows.len(),
            notes,
        });
    }
    Some(SubgroupResult {
        endpoint: ep.code.clone(),
        endpoint_label: ep.label.clone(),
        exposure: g.name.clone(),
        exposure_label: g.label.clone(),
        reference,
        overall: Some(overall),
        by,
    })
}
