//! Every analysis of a study plan on a derived cohort, collected in one
//! serialisable [`Results`] (written as `results.json`; the report and the
//! CSV tables read it).
//!
//! * patient flow and yes/no counts;
//! * the plan's `[[summaries]]` (yes/no flags, cross-tables, intervals,
//!   breakdowns of a category; [`summaries`]);
//! * per endpoint: overall KM, median follow-up (reverse KM), and per
//!   grouping KM medians with CIs, landmark survival, log-rank (k − 1 df) and
//!   univariable Cox; a multivariable Cox model;
//! * Table 1 by the plan's `table1_by` grouping.

pub mod adjustment;
pub mod competing;
pub mod conventions;
pub mod subgroups;
pub mod summaries;
pub mod survival;
pub mod table1;
pub mod timedep;

use serde::Serialize;
use survkit::cox::{CoxOptions, Design};
use survkit::km::{kaplan_meier, reverse_km, KmOptions};

use crate::derive::{Cohort, VariableValues};
use crate::flow::Flow;
use crate::plan::Plan;
use survival::{
    analyse_grouping, CoxSummary, GroupSummary, GroupedInput, SurvivalByGroup, TermInfo,
};
use table1::Table1;

use conventions::conventions_used;
pub use conventions::{Conventions, ConventionsUsed};

/// Options of [`analyse`].
#[derive(Debug, Clone, Default)]
pub struct AnalysisOptions {
    /// Statistical conventions preset (R or SAS).
    pub conventions: Conventions,
}

/// Counts of yes/no flags (`counts` in results.json: number of "yes").
pub type Counts = std::collections::BTreeMap<String, usize>;

pub use summaries::{
    CrossTable, ExtraSummary, IntervalSummary, NextLine, NextLineRow, PatternRow, Patterns,
    SummaryLayout, SummaryPlace,
};

/// Overall KM and follow-up of one endpoint.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct EndpointOverall {
    /// Endpoint name (plan key).
    pub endpoint: String,
    /// Endpoint label as displayed.
    pub endpoint_label: String,
    /// Kaplan–Meier summary of the whole population.
    pub overall: GroupSummary,
    /// Median follow-up (reverse Kaplan–Meier; `None` = not reached).
    pub follow_up_median: Option<f64>,
    /// Lower confidence limit of the median follow-up.
    pub follow_up_lower: Option<f64>,
    /// Upper confidence limit of the median follow-up.
    pub follow_up_upper: Option<f64>,
}

/// Multivariable Cox model of one endpoint.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Multivariable {
    /// Endpoint name (plan key).
    pub endpoint: String,
    /// Covariates of the model (plan names), in plan order.
    pub covariates: Vec<String>,
    /// Patients with every covariate known.
    pub n_complete: usize,
    /// Patients dropped for a missing covariate.
    pub n_dropped_missing: usize,
    /// The fit (`None` when it cannot be fitted).
    pub cox: Option<CoxSummary>,
    /// Notes on the model (covariates left out, why no fit).
    pub notes: Vec<String>,
    /// Groupings stratifying the model (the endpoint's `strata`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub strata: Vec<String>,
}

/// Everything `survstudy run` computes.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Results {
    /// Version of survstudy that computed the results.
    pub survstudy_version: String,
    /// The study's name.
    pub study: String,
    /// The conventions the estimates follow.
    pub conventions: ConventionsUsed,
    /// Rows read, rows excluded and why.
    pub flow: Flow,
    /// Patients analysed.
    pub n: usize,
    /// Number of `yes` per flag.
    pub counts: Counts,
    /// The first flags, cross-table and intervals summaries.
    pub patterns: Patterns,
    /// The first category breakdown.
    pub next_line: Option<NextLine>,
    /// Overall Kaplan–Meier and follow-up of each endpoint.
    pub endpoints: Vec<EndpointOverall>,
    /// Kaplan–Meier, log-rank and Cox of each endpoint × grouping.
    pub survival: Vec<SurvivalByGroup>,
    /// Multivariable Cox model of each endpoint.
    pub multivariable: Vec<Multivariable>,
    /// Table 1 (`None` when the plan has none).
    pub table1: Option<Table1>,
    /// The competing-risks analyses.
    pub competing_risks: Vec<competing::CompetingResult>,
    /// The plan's `[adjustment]` (propensity-score weighting).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub adjustment: Option<adjustment::AdjustmentResult>,
    /// The plan's `[[time_dependent]]` exposures: Cox models on (start,
    /// stop] rows, one per exposure and endpoint.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub time_dependent: Vec<timedep::TimeDependentResult>,
    /// Subgroup analyses (`[[subgroups]]` of the plan).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub subgroups: Vec<subgroups::SubgroupResult>,
    /// The plan's summaries beyond the first of each kind (the first fill
    /// `patterns` and `next_line`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub summaries: Vec<ExtraSummary>,
    /// How the report shows the summaries, in plan order (not in
    /// results.json).
    #[serde(skip)]
    pub summary_layout: Vec<SummaryLayout>,
}

fn pct(a: usize, b: usize) -> Option<f64> {
    if b == 0 {
        None
    } else {
        Some(100.0 * a as f64 / b as f64)
    }
}

/// `f` over `items` on every available core (work handed out one item at a
/// time), results in the order of `items`.
pub(crate) fn par_map<T: Sync, R: Send>(items: &[T], f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    use std::sync::atomic::{AtomicUsize, Ordering};
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(items.len());
    if threads <= 1 {
        return items.iter().map(f).collect();
    }
    let next = AtomicUsize::new(0);
    let mut parts: Vec<(usize, R)> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                scope.spawn(|| {
                    let mut done = Vec::new();
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some(item) = items.get(i) else { break };
                        done.push((i, f(item)));
                    }
                    done
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|w| w.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
            .collect()
    });
    parts.sort_by_key(|(i, _)| *i);
    parts.into_iter().map(|(_, r)| r).collect()
}

/// Run all analyses of the plan.
///
/// Contract: `cohort` is the derived cohort of `plan` (its patients, endpoints
/// and groupings are looked up by the plan's names); `opts` picks the R or SAS
/// conventions (CI transform, ties), the confidence level comes from the plan.
/// Output: every section of [`Results`] in plan order; endpoints or groupings
/// the cohort could not form are skipped. Never panics on user data and never
/// fails as a whole: a fit that cannot be made is `None`/absent with a
/// sentence in the section's `notes`, `warnings` or `error`.
pub fn analyse(plan: &Plan, cohort: &Cohort, opts: &AnalysisOptions) -> Results {
    let conv = opts.conventions;
    let level = plan.analysis.confidence_level;
    let km = KmOptions {
        conf_type: conv.conf_type(),
        conf_level: level,
        ..Default::default()
    };
    let cox = CoxOptions {
        ties: conv.ties(),
        conf_level: level,
        ..Default::default()
    };
    let n = cohort.patients.len();
    let landmarks = &plan.analysis.landmarks;

    // counts
    let mut counts = Counts::new();
    for f in &cohort.flag_counts {
        counts.insert(f.name.clone(), f.yes);
    }

    let summaries::SummaryResults {
        patterns,
        next_line,
        extra: summaries,
        layout: summary_layout,
    } = summaries::analyse_summaries(plan, cohort);

    // survival
    let mut endpoints = vec![];
    let mut survival = vec![];
    let mut multivariable = vec![];
    for code in &plan.analysis.endpoints {
        let Some(ep) = cohort.endpoint(code) else {
            continue;
        };
        let (idx, time, event) = ep.analysis_rows();
        let overall_fit = if time.is_empty() {
            None
        } else {
            kaplan_meier(&time, &event, &km).ok()
        };
        let fu = if time.is_empty() {
            None
        } else {
            reverse_km(&time, &event, &km).ok().map(|f| f.median())
        };
        endpoints.push(EndpointOverall {
            endpoint: ep.code.clone(),
            endpoint_label: ep.label.clone(),
            overall: GroupSummary::new("all", overall_fit.as_ref(), landmarks),
            follow_up_median: fu.and_then(|m| m.estimate),
            follow_up_lower: fu.and_then(|m| m.lower),
            follow_up_upper: fu.and_then(|m| m.upper),
        });
        // each (endpoint, grouping) is independent: computed on all cores,
        // collected in plan order (bit-identical to a sequential run)
        let one = |gname: &String| {
            let g = cohort.grouping(gname)?;
            let li = g.level_index();
            let spec = plan.groupings.iter().find(|s| s.name == g.name);
            let landmark = spec.and_then(|s| s.landmark);
            let reference = spec.and_then(|s| s.reference.as_deref());
            // landmark: patients still at risk at L (time >= L), clock restarted at L
            let rows: Vec<usize> = (0..idx.len())
                .filter(|&r| landmark.is_none_or(|l| time[r] >= l))
                .collect();
            let shift = landmark.unwrap_or(0.0);
            let lt: Vec<f64> = rows.iter().map(|&r| time[r] - shift).collect();
            let le: Vec<bool> = rows.iter().map(|&r| event[r]).collect();
            let level: Vec<Option<usize>> = rows.iter().map(|&r| li[idx[r]]).collect();
            let input = GroupedInput {
                time: &lt,
                event: &le,
                level: &level,
                levels: &g.levels,
                reference,
            };
            let run_cox = plan.analysis.cox_univariable.contains(gname);
            let survival::GroupingResult {
                groups,
                logrank,
                cox: cox_s,
                missing,
                mut notes,
            } = analyse_grouping(&input, &km, &cox, landmarks, run_cox, gname);
            let rmst = plan.analysis.rmst_tau.and_then(|tau| {
                survival::rmst_two_groups(&input, tau, plan.analysis.confidence_level, &mut notes)
            });
            if let Some(l) = landmark {
                notes.push(format!(
                    "landmark analysis: {} of {} patients still at risk at {} {} ({} of them without a value of this grouping); times from the landmark",
                    rows.len(),
                    idx.len(),
                    l,
                    plan.study.time_unit.name(),
                    missing
                ));
            }
            Some(SurvivalByGroup {
                endpoint: ep.code.clone(),
                landmark,
                endpoint_label: ep.label.clone(),
                grouping: g.name.clone(),
                grouping_label: g.label.clone(),
                n_missing_group: missing,
                n_used: rows.len() - missing,
                groups,
                logrank,
                cox: cox_s,
                rmst,
                notes,
            })
        };
        survival.extend(par_map(&plan.analysis.km_by, one).into_iter().flatten());
        let strata: Vec<&crate::derive::GroupingData> = plan
            .endpoint(code)
            .map(|e| e.strata.iter().filter_map(|g| cohort.grouping(g)).collect())
            .unwrap_or_default();
        multivariable.push(fit_multivariable(
            cohort, code, &idx, &time, &event, &cox, &strata,
        ));
    }

    // Table 1
    let table1 = plan.analysis.table1_by.as_ref().and_then(|by| {
        let g = cohort.grouping(by)?;
        // the plan's level order, except that yes/no groupings (levels
        // no, yes) read naturally with "yes" first (EMD yes | no)
        let yes_no = plan.grouping(by).is_some_and(|s| {
            matches!(
                s.kind,
                crate::plan::GroupingKind::YesNo | crate::plan::GroupingKind::AnyYes
            )
        });
        let levels: Vec<String> = if yes_no {
            g.levels.iter().rev().cloned().collect()
        } else {
            g.levels.clone()
        };
        let bi: Vec<Option<usize>> = g
            .labels
            .iter()
            .map(|l| l.as_ref().and_then(|l| levels.iter().position(|x| x == l)))
            .collect();
        Some(table1::table1(
            &cohort.table1,
            &g.name,
            &g.label,
            &levels,
            &bi,
        ))
    });

    Results {
        survstudy_version: env!("CARGO_PKG_VERSION").to_string(),
        study: cohort.study_name.clone(),
        conventions: conventions_used(plan, conv, level),
        flow: cohort.flow.clone(),
        n,
        counts,
        patterns,
        next_line,
        endpoints,
        survival,
        multivariable,
        table1,
        competing_risks: plan
            .competing_risks
            .iter()
            .map(|c| competing::analyse_competing(plan, cohort, c))
            .collect(),
        adjustment: plan
            .adjustment
            .as_ref()
            .map(|a| adjustment::analyse_adjustment(plan, cohort, a, &km, &cox)),
        time_dependent: plan
            .time_dependent
            .iter()
            .flat_map(|t| timedep::analyse_time_dependent(plan, cohort, t, &cox))
            .collect(),
        subgroups: subgroups::subgroup_analyses(plan, cohort, &cox),
        summaries,
        summary_layout,
    }
}

fn fit_multivariable(
    cohort: &Cohort,
    code: &str,
    idx: &[usize],
    time: &[f64],
    event: &[bool],
    cox: &CoxOptions,
    strata: &[&crate::derive::GroupingData],
) -> Multivariable {
    let vars = &cohort.cox_covariates;
    let strata_li: Vec<Vec<Option<usize>>> = strata.iter().map(|g| g.level_index()).collect();
    let complete: Vec<usize> = (0..idx.len())
        .filter(|&r| {
            let i = idx[r];
            vars.iter().all(|v| match &v.values {
                VariableValues::Categorical { values, .. } => values[i].is_some(),
                VariableValues::Continuous { values } => values[i].is_some(),
            }) && strata_li.iter().all(|li| li[i].is_some())
        })
        .collect();
    // stratum of each complete row: the combination of the strata levels,
    // numbered in order of first appearance
    let stratum: Option<Vec<usize>> = (!strata.is_empty()).then(|| {
        let mut ids: std::collections::HashMap<Vec<usize>, usize> = Default::default();
        complete
            .iter()
            .map(|&r| {
                let key: Vec<usize> = strata_li.iter().map(|li| li[idx[r]].unwrap_or(0)).collect();
                let n = ids.len();
                *ids.entry(key).or_insert(n)
            })
            .collect()
    });
    let mut d = Design::default();
    let mut info = vec![];
    let mut notes = vec![];
    for v in vars {
        match &v.values {
            VariableValues::Categorical { levels, values } => {
                let labels: Vec<&str> = complete
                    .iter()
                    .map(|&r| values[idx[r]].as_deref().unwrap_or(""))
                    .collect();
                let seen: std::collections::HashSet<&str> = labels.iter().copied().collect();
                let present: Vec<String> = levels
                    .iter()
                    .filter(|l| seen.contains(l.as_str()))
                    .cloned()
                    .collect();
                if present.len() < 2 {
                    notes.push(format!(
                        "{} has fewer than two levels among complete cases; left out",
                        v.name
                    ));
                    continue;
                }
                if let Some(w) = table1::free_text_warning(&v.name, present.len(), complete.len()) {
                    // one coefficient per level: meaningless, and cubic in the levels
                    notes.push(format!("{w}; left out of the model"));
                    continue;
                }
                d.add_factor(&v.name, &labels, Some(&present));
                for l in &present[1..] {
                    info.push(TermInfo {
                        variable: v.name.clone(),
                        level: Some(l.clone()),
                        reference: Some(present[0].clone()),
                    });
                }
            }
            VariableValues::Continuous { values } => {
                d.add_numeric(
                    &v.name,
                    complete
                        .iter()
                        .map(|&r| values[idx[r]].unwrap_or(f64::NAN))
                        .collect(),
                );
                info.push(TermInfo {
                    variable: v.name.clone(),
                    level: None,
                    reference: None,
                });
            }
        }
    }
    let t: Vec<f64> = complete.iter().map(|&r| time[r]).collect();
    let e: Vec<bool> = complete.iter().map(|&r| event[r]).collect();
    let fit = if d.is_empty() || t.is_empty() {
        None
    } else {
        survival::fit_with_ph_strata(
            &t,
            &e,
            &d,
            stratum.as_deref(),
            &info,
            cox,
            &mut notes,
            "multivariable Cox model",
        )
    };
    Multivariable {
        endpoint: code.to_string(),
        covariates: vars.iter().map(|v| v.name.clone()).collect(),
        n_complete: complete.len(),
        n_dropped_missing: idx.len() - complete.len(),
        cox: fit,
        notes,
        strata: strata.iter().map(|g| g.name.clone()).collect(),
    }
}
