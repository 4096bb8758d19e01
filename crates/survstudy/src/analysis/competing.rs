//! Competing-risks analyses of the plan (`[[competing_risks]]`): cumulative
//! incidence of each cause by Aalen–Johansen with cmprsk's variance and a
//! log(−log) CI, by a grouping, with Gray's test (R `cmprsk::cuminc`), and
//! the Fine–Gray subdistribution-hazards regression of each cause on the
//! grouping (R `cmprsk::crr(ftime, fstatus, cov1 = indicators of every
//! level but the first, failcode = k, cencode = 0)`, [`survkit::finegray`]).

use serde::Serialize;
use survkit::cif::{cuminc, CifOptions};
use survkit::finegray::{fine_gray, FineGrayOptions};

use crate::derive::Cohort;
use crate::plan::{CompetingRiskSpec, Plan};

/// Cumulative incidence at a requested time.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct CifAtTime {
    /// The time asked for (plan unit).
    pub time: f64,
    /// Cumulative incidence at `time` (`None` past the curve's end).
    pub est: Option<f64>,
    /// Lower 95% confidence limit.
    pub lower: Option<f64>,
    /// Upper 95% confidence limit.
    pub upper: Option<f64>,
}

/// One cumulative-incidence curve (cmprsk's step representation: first point
/// (0, 0), each jump time twice).
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct CifCurveSummary {
    /// Group level (`all` without a grouping).
    pub group: String,
    /// Cause number (1 = the cause of interest).
    pub cause: u32,
    /// Cause label as displayed.
    pub cause_label: String,
    /// Patients in the group.
    pub n: usize,
    /// Events of this cause in the group.
    pub events: usize,
    /// Step times (each jump time twice).
    pub time: Vec<f64>,
    /// Cumulative incidence at each step point.
    pub est: Vec<f64>,
    /// Lower confidence limit at each step point.
    pub lower: Vec<f64>,
    /// Upper confidence limit at each step point.
    pub upper: Vec<f64>,
    /// The curve at each of the analysis' times.
    pub at: Vec<CifAtTime>,
}

/// Gray's test for one cause.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct GraySummary {
    /// Cause number.
    pub cause: u32,
    /// Cause label as displayed.
    pub cause_label: String,
    /// Gray's test statistic.
    pub stat: f64,
    /// Degrees of freedom (levels − 1).
    pub df: usize,
    /// p-value of the test.
    pub p: f64,
}

/// One Fine–Gray coefficient: a level of the grouping against the first.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct FineGrayTermSummary {
    /// Design column name.
    pub term: String,
    /// Level of the grouping the term compares.
    pub level: String,
    /// Reference level (the first).
    pub reference: String,
    /// Coefficient (log subdistribution hazard ratio).
    pub coef: f64,
    /// Sandwich standard error of `coef`.
    pub se: f64,
    /// Wald z statistic.
    pub z: f64,
    /// p-value of `z`.
    pub p: f64,
    /// Subdistribution hazard ratio and its Wald CI.
    pub hr: f64,
    /// Lower 95% confidence limit of `hr`.
    pub hr_lower: f64,
    /// Upper 95% confidence limit of `hr`.
    pub hr_upper: f64,
}

/// Fine–Gray model of one cause on the grouping.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct FineGraySummary {
    /// Cause number.
    pub cause: u32,
    /// Cause label as displayed.
    pub cause_label: String,
    /// Patients in the model.
    pub n: usize,
    /// Events of this cause.
    pub n_event: usize,
    /// Events of the competing causes.
    pub n_competing: usize,
    /// Whether Newton–Raphson converged.
    pub converged: bool,
    /// Newton–Raphson iterations used.
    pub iterations: usize,
    /// One row per design column.
    pub terms: Vec<FineGrayTermSummary>,
}

/// Result of one competing-risks analysis.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct CompetingResult {
    /// Analysis name (plan key).
    pub code: String,
    /// Label as displayed.
    pub label: String,
    /// Grouping of the curves (plan name), if any.
    pub by: Option<String>,
    /// Label of the grouping, if any.
    pub by_label: Option<String>,
    /// Levels of the grouping, in level order.
    pub by_levels: Vec<String>,
    /// Cause labels, cause 1 first.
    pub causes: Vec<String>,
    /// Patients analysed.
    pub n: usize,
    /// Patients left out (missing start/censor date or group).
    pub n_missing: usize,
    /// One curve per group and cause.
    pub curves: Vec<CifCurveSummary>,
    /// Gray's test for each cause (analyses with a grouping).
    pub gray_test: Vec<GraySummary>,
    /// Fine–Gray regression of each cause on the grouping (analyses with a
    /// `by` grouping of two or more levels).
    pub fine_gray: Vec<FineGraySummary>,
    /// Notes on the analysis.
    pub notes: Vec<String>,
}

fn opt(x: Option<f64>) -> Option<f64> {
    x.filter(|v| v.is_finite())
}

/// Run one competing-risks analysis.
///
/// Contract: per patient of `cohort`, time runs from `spec.start` (the plan's
/// time zero when unset) to the earliest date of any cause's columns (ties go
/// to the cause listed first; status = cause number) or else to `spec.censor`
/// (status 0), in the study's time unit; `spec.by` optionally names a grouping
/// (an unknown grouping is treated as none: one group "all"). Patients with a
/// missing start, end or group, or an end before the start, are left out and
/// counted in `n_missing`. Output: cumulative incidence curves per cause and
/// group, Gray's test per cause across the groups (when grouped), and with a
/// `by` grouping of two or more levels a Fine–Gray model per cause. Never panics on user data: with no patients, or when a fit
/// fails, the result carries a sentence in `notes` (a non-converged Fine–Gray
/// fit is kept with `converged = false` and a note).
pub fn analyse_competing(
    plan: &Plan,
    cohort: &Cohort,
    spec: &CompetingRiskSpec,
) -> CompetingResult {
    let dpu = plan.study.days_per_unit();
    let start_col = spec
        .start
        .clone()
        .unwrap_or_else(|| plan.study.time_zero.clone());
    let grouping = spec.by.as_ref().and_then(|b| cohort.grouping(b));
    let levels: Vec<String> = grouping
        .map(|g| g.levels.clone())
        .unwrap_or_else(|| vec!["all".into()]);
    let level_index = grouping.map(|g| g.levels_by_patient());
    let n = cohort.patients.len();
    let mut time = Vec::with_capacity(n);
    let mut status = Vec::with_capacity(n);
    let mut group = Vec::with_capacity(n);
    let mut missing = 0;
    let mut notes = vec![];
    for (i, p) in cohort.patients.iter().enumerate() {
        let Some(start) = p.date(&start_col) else {
            missing += 1;
            continue;
        };
        let g = match &level_index {
            Some(li) => match li.get(i) {
                Some(g) => g,
                None => {
                    missing += 1;
                    continue;
                }
            },
            None => 0,
        };
        // earliest date over all causes; ties go to the cause listed first
        let mut best: Option<(chrono::NaiveDate, u32)> = None;
        for (k, c) in spec.causes.iter().enumerate() {
            for col in &c.columns {
                if let Some(d) = p.date(col) {
                    if best.is_none_or(|(bd, _)| d < bd) {
                        best = Some((d, k as u32 + 1));
                    }
                }
            }
        }
        let (end, st) = match best {
            Some((d, k)) => (d, k),
            None => match p.date(&spec.censor) {
                Some(d) => (d, 0),
                None => {
                    missing += 1;
                    continue;
                }
            },
        };
        let days = (end - start).num_days();
        if days < 0 {
            notes.push(format!(
                "patient on line {} left out: end date before the start date",
                p.line()
            ));
            missing += 1;
            continue;
        }
        time.push(days as f64 / dpu);
        status.push(st);
        group.push(g);
    }
    let cause_labels: Vec<String> = spec.causes.iter().map(|c| c.label.clone()).collect();
    let mut out = CompetingResult {
        code: spec.code.clone(),
        label: spec.label.clone(),
        by: spec.by.clone(),
        by_label: grouping.map(|g| g.label.clone()),
        by_levels: levels.clone(),
        causes: cause_labels.clone(),
        n: time.len(),
        n_missing: missing,
        curves: vec![],
        gray_test: vec![],
        fine_gray: vec![],
        notes,
    };
    if time.is_empty() {
        out.notes.push("no patients to analyse".into());
        return out;
    }
    let opts = CifOptions {
        times: spec.times.clone(),
        conf_level: plan.analysis.confidence_level,
        ..Default::default()
    };
    let res = match cuminc(&time, &status, grouping.map(|_| group.as_slice()), &opts) {
        Ok(r) => r,
        Err(e) => {
            out.notes
                .push(format!("cumulative incidence not computed: {e}"));
            return out;
        }
    };
    let label_of = |c: u32| {
        cause_labels
            .get(c as usize - 1)
            .cloned()
            .unwrap_or_else(|| format!("cause {c}"))
    };
    out.curves = res
        .curves
        .iter()
        .map(|c| CifCurveSummary {
            group: levels.get(c.group).cloned().unwrap_or_default(),
            cause: c.cause,
            cause_label: label_of(c.cause),
            n: c.n,
            events: c.n_event,
            time: c.time.clone(),
            est: c.est.clone(),
            lower: c.lower.clone(),
            upper: c.upper.clone(),
            at: c
                .at_times
                .iter()
                .map(|a| CifAtTime {
                    time: a.time,
                    est: opt(a.est),
                    lower: opt(a.lower),
                    upper: opt(a.upper),
                })
                .collect(),
        })
        .collect();
    out.gray_test = res
        .gray_test
        .iter()
        .map(|g| GraySummary {
            cause: g.cause,
            cause_label: label_of(g.cause),
            stat: g.stat,
            df: g.df,
            p: g.p,
        })
        .collect();
    if grouping.is_some() && levels.len() >= 2 {
        let cols: Vec<(String, Vec<f64>)> = (1..levels.len())
            .filter(|&l| group.contains(&l))
            .map(|l| {
                (
                    format!("{}{}", spec.by.as_deref().unwrap_or(""), levels[l]),
                    group.iter().map(|&g| f64::from(u8::from(g == l))).collect(),
                )
            })
            .collect();
        let used: Vec<usize> = (1..levels.len()).filter(|&l| group.contains(&l)).collect();
        let fopts = FineGrayOptions {
            conf_level: plan.analysis.confidence_level,
            ..Default::default()
        };
        for k in 1..=spec.causes.len() as u32 {
            if cols.is_empty() || !group.contains(&0) {
                break;
            }
            if !status.contains(&k) {
                out.notes.push(format!(
                    "Fine-Gray model of {} not fitted: no events of this cause",
                    label_of(k)
                ));
                continue;
            }
            match fine_gray(&time, &status, k, &cols, &fopts) {
                Ok(f) => {
                    if !f.converged {
                        out.notes.push(format!(
                            "Fine-Gray model of {}: did not converge in {} iterations",
                            label_of(k),
                            f.iterations
                        ));
                    }
                    out.fine_gray.push(FineGraySummary {
                        cause: k,
                        cause_label: label_of(k),
                        n: f.n,
                        n_event: f.n_event,
                        n_competing: f.n_competing,
                        converged: f.converged,
                        iterations: f.iterations,
                        terms: f
                            .terms
                            .iter()
                            .zip(&used)
                            .map(|(t, &l)| FineGrayTermSummary {
                                term: t.term.clone(),
                                level: levels[l].clone(),
                                reference: levels[0].clone(),
                                coef: t.coef,
                                se: t.se,
                                z: t.z,
                                p: t.p,
                                hr: t.hr,
                                hr_lower: t.hr_lower,
                                hr_upper: t.hr_upper,
                            })
                            .collect(),
                    })
                }
                Err(e) => out.notes.push(format!(
                    "Fine-Gray model of {} not fitted: {e}",
                    label_of(k)
                )),
            }
        }
    }
    out
}
