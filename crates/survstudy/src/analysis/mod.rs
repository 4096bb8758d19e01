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
    /// Which per-event arrays the results keep.
    pub event_arrays: EventArrays,
}

/// Which per-event arrays (`time` and `beta_t` of the flagged PH residual
/// plots, `ph_test.flagged[]`) the results keep. Their bounded summaries
/// (`n_events`, `bins`, `smooth`, computed from every event) are always kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum EventArrays {
    /// Every plot's arrays (for `results-full.json`).
    #[default]
    All,
    /// Only plots with at most this many events (the report draws those
    /// event by event; larger ones are drawn from their bins): at 10^6
    /// patients the arrays of every flagged term are ~10^7 numbers held to
    /// the end of the run.
    UpTo(usize),
}

impl EventArrays {
    /// Whether the arrays of a plot of `n_events` events are kept.
    pub fn keeps(self, n_events: usize) -> bool {
        match self {
            EventArrays::All => true,
            EventArrays::UpTo(max) => n_events <= max,
        }
    }
    /// Empty the arrays of `cox`'s flagged PH residuals that this choice
    /// does not keep.
    fn bound(self, cox: Option<&mut CoxSummary>) {
        let flagged = cox
            .and_then(|c| c.ph_test.as_mut())
            .map(|p| p.flagged.iter_mut());
        for f in flagged.into_iter().flatten() {
            if !self.keeps(f.n_events) {
                f.time = Vec::new();
                f.beta_t = Vec::new();
            }
        }
    }
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
    /// Unit of this endpoint's times; present when the plan gives an
    /// endpoint its own unit or a duration export (otherwise
    /// `conventions.time_unit` holds for every endpoint).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub time_unit: Option<crate::plan::TimeUnit>,
    /// Days per unit of this endpoint (with `time_unit`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub days_per_unit: Option<f64>,
    /// How a duration endpoint's times were read (absent for date
    /// endpoints).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub duration: Option<DurationUsed>,
    /// Kaplan–Meier summary of the whole population.
    pub overall: GroupSummary,
    /// Median follow-up (reverse Kaplan–Meier; `None` = not reached).
    pub follow_up_median: Option<f64>,
    /// Lower confidence limit of the median follow-up.
    pub follow_up_lower: Option<f64>,
    /// Upper confidence limit of the median follow-up.
    pub follow_up_upper: Option<f64>,
}

/// The time of a duration endpoint: its column, the unit of its numbers
/// and what it is measured from.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct DurationUsed {
    /// Number column holding the time.
    pub column: String,
    /// Unit of the numbers in `column`.
    pub unit: crate::plan::TimeUnit,
    /// What the time is measured from (the plan's `duration.from`, else
    /// the time-zero label, else "start of follow-up").
    pub from: String,
    /// Status column deciding the event, and its event values.
    pub status_column: String,
    /// Values of `status_column` meaning an event.
    pub event_values: Vec<String>,
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
    /// The model's interaction terms (`analysis.cox_interactions`), each
    /// with its likelihood-ratio test.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub interactions: Vec<InteractionTest>,
}

/// One interaction of a multivariable Cox model and the likelihood-ratio
/// test of the model with it against the model without it (R
/// `anova(fit_without, fit_with)`), on the same complete cases.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct InteractionTest {
    /// R's term label: the two variables in model order joined by `:`.
    pub term: String,
    /// The two covariates, in model order.
    pub variables: Vec<String>,
    /// Names of the design columns of the interaction (`sexmale:rxLev`).
    pub columns: Vec<String>,
    /// 2 × (log-likelihood with − without).
    pub chisq: f64,
    /// Number of interaction columns estimated (empty cells left out).
    pub df: usize,
    /// Chi-square p-value on `df`.
    pub p: f64,
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
    par_map_apart(items, |_| false, f)
}

/// [`par_map`], where no two items with `heavy(item)` run at the same time
/// (the jobs that hold a copy of the data several times its size: running
/// them one after the other bounds the peak memory, not the results). A
/// core that would take a heavy item while another runs takes the next
/// light one instead, or waits when only heavy ones are left.
pub(crate) fn par_map_apart<T: Sync, R: Send>(
    items: &[T],
    heavy: impl Fn(&T) -> bool + Sync,
    f: impl Fn(&T) -> R + Sync,
) -> Vec<R> {
    use std::sync::{Condvar, Mutex};
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(items.len());
    if threads <= 1 {
        return items.iter().map(f).collect();
    }
    // (taken, a heavy item is running)
    let state = Mutex::new((vec![false; items.len()], false));
    let freed = Condvar::new();
    let heavy: Vec<bool> = items.iter().map(&heavy).collect();
    let next = || -> Option<usize> {
        let mut st = state.lock().unwrap_or_else(|e| e.into_inner());
        loop {
            let (taken, busy) = &mut *st;
            // free, and not a second heavy one
            let pick = (0..items.len()).find(|&i| !(taken[i] || (heavy[i] && *busy)));
            match pick {
                Some(i) => {
                    taken[i] = true;
                    *busy |= heavy[i];
                    return Some(i);
                }
                None if taken.iter().all(|&t| t) => return None,
                // only heavy items are left and one is running
                None => st = freed.wait(st).unwrap_or_else(|e| e.into_inner()),
            }
        }
    };
    let mut parts: Vec<(usize, R)> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                scope.spawn(|| {
                    let mut done = Vec::new();
                    while let Some(i) = next() {
                        // the items keep the cores busy: the engine's own
                        // fork-joins stay on this thread (same results)
                        done.push((i, survkit::par::sequential(|| f(&items[i]))));
                        if heavy[i] {
                            state.lock().unwrap_or_else(|e| e.into_inner()).1 = false;
                            freed.notify_all();
                        }
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

    // Every section below is independent of the others: they run as one
    // list of jobs on all cores (longest first, handed out one at a time)
    // and are collected in plan order, so the results are bit-identical to
    // a sequential run.
    // each endpoint's rows and time index, the endpoints on all cores
    let endpoint_data: Vec<&crate::derive::EndpointData> = plan
        .analysis
        .endpoints
        .iter()
        .filter_map(|code| cohort.endpoint(code))
        .collect();
    let eps: Vec<EndpointRows> = par_map(&endpoint_data, |&ep| {
        let (idx, time, event) = ep.analysis_rows();
        let index = survkit::tabulated::TimeIndex::new(&time);
        let untied = index
            .as_ref()
            .is_some_and(survkit::tabulated::TimeIndex::untied_in_every_subset);
        EndpointRows {
            ep,
            index,
            untied,
            idx,
            time,
            event,
        }
    });
    let mut jobs: Vec<Job> = vec![Job::Adjustment];
    jobs.extend((0..plan.competing_risks.len()).map(Job::Competing));
    jobs.extend((0..plan.time_dependent.len()).map(Job::TimeDependent));
    jobs.extend((0..eps.len()).map(Job::Multivariable));
    for e in 0..eps.len() {
        jobs.extend(
            plan.analysis
                .km_by
                .iter()
                .map(|g| Job::Grouping(e, g.as_str())),
        );
    }
    jobs.push(Job::Subgroups);
    jobs.push(Job::Summaries);
    jobs.push(Job::Table1);
    jobs.extend((0..eps.len()).map(Job::Overall));
    let run = |job: &Job| -> Done {
        match *job {
            Job::Overall(e) => Done::Overall(endpoint_overall(plan, &eps[e], &km, landmarks)),
            Job::Grouping(e, gname) => Done::Grouping(
                e,
                analyse_one_grouping(plan, cohort, &eps[e], gname, &km, &cox, opts.event_arrays)
                    .map(Box::new),
            ),
            Job::Multivariable(e) => {
                let r = &eps[e];
                let code = r.ep.code.as_str();
                let strata: Vec<&crate::derive::GroupingData> = plan
                    .endpoint(code)
                    .map(|e| e.strata.iter().filter_map(|g| cohort.grouping(g)).collect())
                    .unwrap_or_default();
                Done::Multivariable(fit_multivariable(
                    cohort,
                    code,
                    (&r.idx, &r.time, &r.event),
                    &r.cox_of_subsets(&cox),
                    &strata,
                    &plan.analysis.cox_interactions,
                    opts.event_arrays,
                ))
            }
            Job::Table1 => Done::Table1(analyse_table1(plan, cohort)),
            Job::Summaries => Done::Summaries(Box::new(summaries::analyse_summaries(plan, cohort))),
            Job::Competing(c) => Done::Competing(competing::analyse_competing(
                plan,
                cohort,
                &plan.competing_risks[c],
            )),
            Job::Adjustment => Done::Adjustment(
                plan.adjustment
                    .as_ref()
                    .map(|a| adjustment::analyse_adjustment(plan, cohort, a, &km, &cox)),
            ),
            Job::TimeDependent(t) => Done::TimeDependent(timedep::analyse_time_dependent(
                plan,
                cohort,
                &plan.time_dependent[t],
                &cox,
            )),
            Job::Subgroups => Done::Subgroups(subgroups::subgroup_analyses(plan, cohort, &cox)),
        }
    };
    // each job's per-event arrays are bounded as it finishes (not held
    // until the end of the run)
    let run = |job: &Job| -> Done {
        let mut done = run(job);
        match &mut done {
            Done::Grouping(_, Some(g)) => opts.event_arrays.bound(g.cox.as_mut()),
            Done::Multivariable(m) => opts.event_arrays.bound(m.cox.as_mut()),
            _ => {}
        }
        done
    };
    // the propensity weighting and the multivariable models are the
    // largest jobs (at 10^6 peaks of ~100 and ~108 bytes per patient, the
    // rest at most ~70): never two of them at once. (Keeping the
    // competing-risks and (start, stop] jobs apart from the propensity job
    // instead, as when they held ~135 and ~160, let the two largest
    // overlap: the 10^6 run peaked ~35 MB higher and its analyses were no
    // faster; bench/RESULTS.md.)
    let heavy = |j: &Job| matches!(j, Job::Adjustment | Job::Multivariable(_));
    let done = par_map_apart(&jobs, heavy, run);

    // collect in plan order
    let mut endpoints = vec![];
    let mut by_endpoint: Vec<Vec<SurvivalByGroup>> = vec![vec![]; eps.len()];
    let mut multivariable = vec![];
    let mut table1 = None;
    let mut summary_results = None;
    let mut competing_risks = vec![];
    let mut adjustment = None;
    let mut time_dependent = vec![];
    let mut subgroups = vec![];
    // jobs of one kind are in plan order in `jobs`, so pushing in job order
    // keeps plan order within every section
    for d in done {
        match d {
            Done::Overall(o) => endpoints.push(o),
            Done::Grouping(e, g) => by_endpoint[e].extend(g.map(|g| *g)),
            Done::Multivariable(m) => multivariable.push(m),
            Done::Table1(t) => table1 = t,
            Done::Summaries(s) => summary_results = Some(*s),
            Done::Competing(c) => competing_risks.push(c),
            Done::Adjustment(a) => adjustment = a,
            Done::TimeDependent(t) => time_dependent.extend(t),
            Done::Subgroups(s) => subgroups = s,
        }
    }
    let survival: Vec<SurvivalByGroup> = by_endpoint.into_iter().flatten().collect();
    let summaries::SummaryResults {
        patterns,
        next_line,
        extra: summaries,
        layout: summary_layout,
    } = summary_results.expect("the Summaries job is always in the list");

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
        competing_risks,
        adjustment,
        time_dependent,
        subgroups,
        summaries,
        summary_layout,
    }
}

/// One endpoint's analysis rows (patients with a time, in cohort order).
struct EndpointRows<'a> {
    ep: &'a crate::derive::EndpointData,
    /// the times' ranks, shared by the groupings' count tables
    index: Option<survkit::tabulated::TimeIndex>,
    /// R's time fix ties nothing in any subset of the times
    untied: bool,
    idx: Vec<u32>,
    time: Vec<f64>,
    event: Vec<bool>,
}

impl EndpointRows<'_> {
    /// `cox` for fits of a subset of these rows with their times as they
    /// are: when R's time fix would tie nothing in any subset (the usual
    /// case, times whole days apart), the times are compared exactly
    /// instead of each fit sorting them again: the same times, so the same
    /// results. (Shifted times, as a landmark's, keep `cox`.)
    fn cox_of_subsets(&self, cox: &CoxOptions) -> CoxOptions {
        CoxOptions {
            timefix: if self.untied {
                survkit::timefix::TimeFix::Exact
            } else {
                cox.timefix
            },
            ..*cox
        }
    }
}

/// One independent piece of [`analyse`] (indices into the plan's lists).
enum Job<'a> {
    Overall(usize),
    Grouping(usize, &'a str),
    Multivariable(usize),
    Table1,
    Summaries,
    Competing(usize),
    Adjustment,
    TimeDependent(usize),
    Subgroups,
}

/// The result of a [`Job`].
enum Done {
    Overall(EndpointOverall),
    Grouping(usize, Option<Box<SurvivalByGroup>>),
    Multivariable(Multivariable),
    Table1(Option<Table1>),
    Summaries(Box<summaries::SummaryResults>),
    Competing(competing::CompetingResult),
    Adjustment(Option<adjustment::AdjustmentResult>),
    TimeDependent(Vec<timedep::TimeDependentResult>),
    Subgroups(Vec<subgroups::SubgroupResult>),
}

/// Overall KM and median follow-up of one endpoint.
fn endpoint_overall(
    plan: &Plan,
    r: &EndpointRows,
    km: &KmOptions,
    landmarks: &[f64],
) -> EndpointOverall {
    let (ep, time, event) = (r.ep, &r.time, &r.event);
    let spec_ep = plan.endpoint(&ep.code);
    // the plan's times are in the study's unit; this endpoint's may differ
    let landmarks: Vec<f64> = landmarks
        .iter()
        .map(|&t| spec_ep.map_or(t, |e| plan.to_endpoint_unit(e, t)))
        .collect();
    let landmarks = &landmarks;
    let unit_stated = plan.has_endpoint_units().then_some(ep.unit);
    let overall_fit = if time.is_empty() {
        None
    } else {
        kaplan_meier(time, event, km).ok()
    };
    let fu = if time.is_empty() {
        None
    } else {
        reverse_km(time, event, km).ok().map(|f| f.median())
    };
    EndpointOverall {
        endpoint: ep.code.clone(),
        endpoint_label: ep.label.clone(),
        time_unit: unit_stated,
        days_per_unit: unit_stated.map(|_| ep.days_per_unit),
        duration: spec_ep.and_then(|e| {
            let d = e.duration.as_ref()?;
            let st = e.event_status.as_ref()?;
            Some(DurationUsed {
                column: d.column.clone(),
                unit: d.unit,
                from: d.from.clone().unwrap_or_else(|| {
                    plan.column(&plan.study.time_zero)
                        .map(|c| c.display_label().to_string())
                        .unwrap_or_else(|| "start of follow-up".to_string())
                }),
                status_column: st.column.clone(),
                event_values: st.values.clone(),
            })
        }),
        overall: GroupSummary::new("all", overall_fit.as_ref(), landmarks),
        follow_up_median: fu.and_then(|m| m.estimate),
        follow_up_lower: fu.and_then(|m| m.lower),
        follow_up_upper: fu.and_then(|m| m.upper),
    }
}

/// KM by group, log-rank, univariable Cox and RMST of one (endpoint,
/// grouping); `None` if the cohort has no such grouping.
fn analyse_one_grouping(
    plan: &Plan,
    cohort: &Cohort,
    r: &EndpointRows,
    gname: &str,
    km: &KmOptions,
    cox: &CoxOptions,
    event_arrays: EventArrays,
) -> Option<SurvivalByGroup> {
    let (ep, idx, time, event) = (r.ep, &r.idx, &r.time, &r.event);
    let spec_ep = plan.endpoint(&ep.code);
    // the plan's times are in the study's unit; this endpoint's may differ
    let scale = |t: f64| spec_ep.map_or(t, |e| plan.to_endpoint_unit(e, t));
    let landmarks: Vec<f64> = plan.analysis.landmarks.iter().map(|&t| scale(t)).collect();
    let landmarks = &landmarks;
    let unit_stated = plan.has_endpoint_units().then_some(ep.unit);
    let g = cohort.grouping(gname)?;
    // each patient's level through the label table (no per-patient copy)
    let (codes, level_of) = (g.labels.codes(), g.labels.table_index(&g.levels));
    let spec = plan.groupings.iter().find(|s| s.name == g.name);
    let landmark = spec.and_then(|s| s.landmark).map(scale);
    let reference = spec.and_then(|s| s.reference.as_deref());
    // landmark: patients still at risk at L (time >= L), clock restarted at L
    // without a landmark every row, as it is (no copies of the times)
    let rows: Option<Vec<usize>> =
        landmark.map(|l| (0..idx.len()).filter(|&r| time[r] >= l).collect());
    let n_rows = rows.as_ref().map_or(idx.len(), Vec::len);
    let row = |k: usize| rows.as_ref().map_or(k, |r| r[k]);
    let shift = landmark.unwrap_or(0.0);
    let (lt, le): (std::borrow::Cow<[f64]>, std::borrow::Cow<[bool]>) = match &rows {
        None => (time.into(), event.into()),
        Some(rows) => (
            rows.iter()
                .map(|&r| time[r] - shift)
                .collect::<Vec<f64>>()
                .into(),
            rows.iter().map(|&r| event[r]).collect::<Vec<bool>>().into(),
        ),
    };
    let level: Vec<Option<usize>> = (0..n_rows)
        .map(|k| level_of[codes.get(idx[row(k)] as usize) as usize])
        .collect();
    let cox_strata: Vec<String> = spec.map(|s| s.cox_strata.clone()).unwrap_or_default();
    let stratum: Option<Vec<Option<usize>>> = (!cox_strata.is_empty()).then(|| {
        let per_patient = strata_of(plan, cohort, &cox_strata);
        (0..n_rows)
            .map(|k| per_patient[idx[row(k)] as usize])
            .collect()
    });
    let cox = &match landmark {
        None => r.cox_of_subsets(cox),
        Some(_) => *cox,
    };
    // one count table per (endpoint, grouping) for the KM, log-rank and RMST
    let table = match (&r.index, landmark) {
        (Some(index), None) => {
            survkit::tabulated::GroupTable::with_index(index, &le, &level, g.levels.len())
        }
        _ => survkit::tabulated::GroupTable::new(&lt, &le, &level, g.levels.len()),
    };
    let input = GroupedInput {
        time: &lt,
        event: &le,
        level: &level,
        levels: &g.levels,
        reference,
        strata: stratum.as_deref(),
        table: table.as_ref(),
        event_arrays,
    };
    let run_cox = plan.analysis.cox_univariable.iter().any(|c| c == gname);
    let survival::GroupingResult {
        groups,
        logrank,
        cox: cox_s,
        logrank_stratified,
        missing,
        mut notes,
    } = analyse_grouping(&input, km, cox, landmarks, run_cox, gname);
    let rmst = plan.analysis.rmst_tau.and_then(|tau| {
        let tau = scale(tau);
        survival::rmst_two_groups(&input, tau, plan.analysis.confidence_level, &mut notes)
    });
    if let Some(l) = landmark {
        notes.push(format!(
            "landmark analysis: {} of {} patients still at risk at {} {} ({} of them without a value of this grouping); times from the landmark",
            n_rows,
            idx.len(),
            l,
            ep.unit.name(),
            missing
        ));
    }
    Some(SurvivalByGroup {
        endpoint: ep.code.clone(),
        landmark,
        endpoint_label: ep.label.clone(),
        time_unit: unit_stated,
        grouping: g.name.clone(),
        grouping_label: g.label.clone(),
        n_missing_group: missing,
        n_used: n_rows - missing,
        groups,
        logrank,
        cox: cox_s,
        cox_strata,
        logrank_stratified,
        rmst,
        notes,
    })
}

/// Table 1 by the plan's `table1_by` grouping.
fn analyse_table1(plan: &Plan, cohort: &Cohort) -> Option<Table1> {
    let by = plan.analysis.table1_by.as_ref()?;
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
    let idx = g.labels.table_index(&levels);
    let bi: Vec<Option<usize>> = g.labels.codes().iter().map(|c| idx[c as usize]).collect();
    Some(table1::table1(
        &cohort.table1,
        &g.name,
        &g.label,
        &levels,
        &bi,
    ))
}

/// The combination of levels of each row in `rows` (`levels[s][row]`:
/// stratum s's level index, below `width[s]`; `None` reads as 0), numbered
/// in order of first appearance. One stratum at a time: (number of the
/// combination so far, this stratum's level) → number, each dense table in
/// order of first appearance, so the last numbers the full combinations in
/// order of first appearance; no key per row.
fn number_combinations(
    levels: &[Vec<Option<usize>>],
    width: &[usize],
    rows: &[usize],
) -> Vec<usize> {
    let mut ids: Vec<(Vec<usize>, usize)> = vec![(vec![], 0); levels.len()];
    rows.iter()
        .map(|&r| {
            levels
                .iter()
                .zip(width)
                .zip(&mut ids)
                .fold(0, |k, ((li, &w), (table, n))| {
                    let w = w.max(1);
                    let at = k * w + li[r].unwrap_or(0);
                    if at >= table.len() {
                        table.resize((k + 1) * w, usize::MAX);
                    }
                    if table[at] == usize::MAX {
                        table[at] = *n;
                        *n += 1;
                    }
                    table[at]
                })
        })
        .collect()
}

fn fit_multivariable(
    cohort: &Cohort,
    code: &str,
    (idx, time, event): (&[u32], &[f64], &[bool]),
    cox: &CoxOptions,
    strata: &[&crate::derive::GroupingData],
    interactions: &[Vec<String>],
    arrays: EventArrays,
) -> Multivariable {
    let vars = &cohort.cox_covariates;
    let strata_li: Vec<Vec<Option<usize>>> = strata.iter().map(|g| g.level_index()).collect();
    let complete: Vec<usize> = (0..idx.len())
        .filter(|&r| {
            let i = idx[r] as usize;
            vars.iter().all(|v| match &v.values {
                VariableValues::Categorical { values, .. } => values[i].is_some(),
                VariableValues::Continuous { values } => values.get(i).is_some(),
            }) && strata_li.iter().all(|li| li[i].is_some())
        })
        .collect();
    // stratum of each complete row: the combination of the strata levels,
    // numbered in order of first appearance
    let stratum: Option<Vec<usize>> = (!strata.is_empty()).then(|| {
        let width: Vec<usize> = strata.iter().map(|g| g.levels.len()).collect();
        let rows: Vec<usize> = complete.iter().map(|&r| idx[r] as usize).collect();
        number_combinations(&strata_li, &width, &rows)
    });
    let mut d = Design::default();
    let mut info = vec![];
    let mut notes = vec![];
    for v in vars {
        match &v.values {
            VariableValues::Categorical { levels, values } => {
                // the rows' codes into the column's label table (entry 0,
                // missing, reads as ""): no text per row
                let text: Vec<String> = values
                    .table()
                    .iter()
                    .map(|l| l.as_deref().unwrap_or("").to_string())
                    .collect();
                let codes = values.codes();
                let index: Vec<usize> = complete
                    .iter()
                    .map(|&r| codes.get(idx[r] as usize) as usize)
                    .collect();
                let mut used = vec![false; text.len()];
                for &k in &index {
                    used[k] = true;
                }
                // the texts the complete rows have (linear in the table,
                // however many levels a free-text column brings)
                let seen: std::collections::HashSet<&str> = text
                    .iter()
                    .zip(&used)
                    .filter(|(_, &u)| u)
                    .map(|(t, _)| t.as_str())
                    .collect();
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
                d.add_factor_indexed(&v.name, &index, &text, &present);
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
                        .map(|&r| values.get(idx[r] as usize).unwrap_or(f64::NAN))
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
    // (not held through the fits)
    let n_complete = complete.len();
    drop(complete);
    let added = add_interactions(&mut d, &mut info, interactions, &mut notes);
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
            arrays,
        )
    };
    let tests = match &fit {
        Some(full) => interaction_tests(
            &t,
            &e,
            &d,
            stratum.as_deref(),
            cox,
            full,
            &added,
            &mut notes,
        ),
        None => vec![],
    };
    Multivariable {
        interactions: tests,
        endpoint: code.to_string(),
        covariates: vars.iter().map(|v| v.name.clone()).collect(),
        n_complete,
        n_dropped_missing: idx.len() - n_complete,
        cox: fit,
        notes,
        strata: strata.iter().map(|g| g.name.clone()).collect(),
    }
}

/// An interaction added to a design: its label, variables and columns.
struct AddedInteraction {
    term: String,
    variables: Vec<String>,
    columns: std::ops::Range<usize>,
}

/// Append the product columns of each interaction (both variables in the
/// model, ordered as in the model: R's term label `a:b`, column names
/// `<column of a>:<column of b>`). A product column with no patient
/// (an empty cell of two factors) is left out, as R reports it `NA`.
fn add_interactions(
    d: &mut Design,
    info: &mut Vec<TermInfo>,
    interactions: &[Vec<String>],
    notes: &mut Vec<String>,
) -> Vec<AddedInteraction> {
    let main = info.len();
    let main_vars: Vec<String> = info.iter().map(|t| t.variable.clone()).collect();
    let position = |v: &str| main_vars.iter().position(|t| t == v);
    let mut out = vec![];
    for pair in interactions {
        let [a, b] = pair.as_slice() else { continue };
        let (Some(pa), Some(pb)) = (position(a), position(b)) else {
            notes.push(format!(
                "interaction {a}:{b} left out: {} is not in the model",
                if position(a).is_none() { a } else { b }
            ));
            continue;
        };
        let (a, b) = if pa <= pb { (a, b) } else { (b, a) };
        let cols = |v: &str| -> Vec<usize> { (0..main).filter(|&j| main_vars[j] == v).collect() };
        let start = d.len();
        let mut empty = vec![];
        for ja in cols(a) {
            for jb in cols(b) {
                let name = format!("{}:{}", d.names[ja], d.names[jb]);
                let x: Vec<f64> = d.columns[ja]
                    .iter()
                    .zip(&d.columns[jb])
                    .map(|(p, q)| p * q)
                    .collect();
                if x.iter().all(|&v| v == x[0]) {
                    empty.push(name);
                    continue;
                }
                let level = match (&info[ja].level, &info[jb].level) {
                    (Some(p), Some(q)) => Some(format!("{p}:{q}")),
                    (Some(p), None) | (None, Some(p)) => Some(p.clone()),
                    (None, None) => None,
                };
                d.add_numeric(&name, x);
                info.push(TermInfo {
                    variable: format!("{a}:{b}"),
                    level,
                    reference: None,
                });
            }
        }
        if !empty.is_empty() {
            notes.push(format!(
                "interaction {a}:{b}: {} left out (no patient in that combination, or constant; R gives NA)",
                empty.join(", ")
            ));
        }
        if d.len() > start {
            out.push(AddedInteraction {
                term: format!("{a}:{b}"),
                variables: vec![a.clone(), b.clone()],
                columns: start..d.len(),
            });
        }
    }
    out
}

/// Likelihood-ratio test of each interaction: the full model against the
/// model without that interaction's columns, on the same rows and strata.
#[allow(clippy::too_many_arguments)]
fn interaction_tests(
    t: &[f64],
    e: &[bool],
    d: &Design,
    strata: Option<&[usize]>,
    cox: &CoxOptions,
    full: &survival::CoxSummary,
    added: &[AddedInteraction],
    notes: &mut Vec<String>,
) -> Vec<InteractionTest> {
    let ll_full = full.loglik;
    let opts = CoxOptions {
        concordance: survkit::cox::ConcordanceChoice::Skip,
        ..*cox
    };
    let mut out = vec![];
    for a in added {
        let mut reduced = Design::default();
        for (j, (n, c)) in d.names.iter().zip(&d.columns).enumerate() {
            if !a.columns.contains(&j) {
                reduced.add_numeric(n, c.clone());
            }
        }
        match survkit::cox::cox_fit(t, e, &reduced, strata, &opts) {
            Ok(f0) => {
                let chisq = (2.0 * (ll_full - f0.loglik)).max(0.0);
                let df = a.columns.len();
                out.push(InteractionTest {
                    term: a.term.clone(),
                    variables: a.variables.clone(),
                    columns: d.names[a.columns.clone()].to_vec(),
                    chisq,
                    df,
                    p: survkit::dist::chisq_sf(chisq, df as f64),
                });
            }
            Err(err) => notes.push(format!(
                "interaction {}: likelihood-ratio test not computed: {err}",
                a.term
            )),
        }
    }
    out
}

/// Stratum of each patient for `names` (groupings, or yes/no or category
/// columns): the combination of their values, numbered in order of first
/// appearance; `None` when any is missing.
fn strata_of(plan: &Plan, cohort: &Cohort, names: &[String]) -> Vec<Option<usize>> {
    let per: Vec<Vec<Option<String>>> = names
        .iter()
        .map(|n| match cohort.grouping(n) {
            Some(g) => g
                .labels
                .iter()
                .map(|l| l.as_ref().map(|l| l.to_string()))
                .collect(),
            None => {
                let col = plan.column(n).map(|c| c.name.clone()).unwrap_or_default();
                cohort
                    .patients
                    .iter()
                    .map(|p| {
                        let t = p.value(&col).to_text();
                        (!t.is_empty()).then_some(t)
                    })
                    .collect()
            }
        })
        .collect();
    let mut ids: std::collections::HashMap<Vec<String>, usize> = Default::default();
    (0..cohort.patients.len())
        .map(|i| {
            let key: Option<Vec<String>> = per.iter().map(|v| v[i].clone()).collect();
            let key = key?;
            let n = ids.len();
            Some(*ids.entry(key).or_insert(n))
        })
        .collect()
}

#[cfg(test)]
mod par_tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[test]
    fn heavy_items_never_overlap_and_results_keep_their_order() {
        let items: Vec<usize> = (0..40).collect();
        let running = AtomicUsize::new(0);
        let most = AtomicUsize::new(0);
        let heavy = |i: &usize| i.is_multiple_of(4);
        let out = par_map_apart(&items, heavy, |&i| {
            if heavy(&i) {
                let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                most.fetch_max(now, Ordering::SeqCst);
                std::thread::sleep(std::time::Duration::from_millis(3));
                running.fetch_sub(1, Ordering::SeqCst);
            }
            i * i
        });
        assert_eq!(out, items.iter().map(|i| i * i).collect::<Vec<_>>());
        assert_eq!(most.load(Ordering::SeqCst), 1);
        // every item heavy: still all done, one at a time
        let all = par_map_apart(&items, |_| true, |&i| i + 1);
        assert_eq!(all, (1..41).collect::<Vec<_>>());
        assert!(par_map_apart(&[] as &[usize], |_| true, |&i| i).is_empty());
    }
}

#[cfg(test)]
mod strata_tests {
    use super::number_combinations;
    use rand::{Rng, SeedableRng};

    /// The stratum numbers are those of a map from the whole combination
    /// (as a vector) to its order of first appearance, with one, two and
    /// three strata, missing levels read as 0, and rows picked out of order.
    #[test]
    fn combinations_are_numbered_in_order_of_first_appearance() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(11);
        for k in 1..=3 {
            let n = 500;
            let width: Vec<usize> = (0..k).map(|_| rng.random_range(2..5)).collect();
            let levels: Vec<Vec<Option<usize>>> = width
                .iter()
                .map(|&w| {
                    (0..n)
                        .map(|_| rng.random_bool(0.9).then(|| rng.random_range(0..w)))
                        .collect()
                })
                .collect();
            let rows: Vec<usize> = (0..300).map(|_| rng.random_range(0..n)).collect();
            let got = number_combinations(&levels, &width, &rows);
            let mut seen: std::collections::HashMap<Vec<usize>, usize> = Default::default();
            let want: Vec<usize> = rows
                .iter()
                .map(|&r| {
                    let key: Vec<usize> = levels.iter().map(|l| l[r].unwrap_or(0)).collect();
                    let m = seen.len();
                    *seen.entry(key).or_insert(m)
                })
                .collect();
            assert_eq!(got, want, "{k} strata");
            assert!(seen.len() > 1);
        }
    }
}
