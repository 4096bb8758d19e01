//! Every analysis of a study plan on a derived cohort, collected in one
//! serialisable [`Results`] (written as `results.json`; the report and the
//! CSV tables read it).
//!
//! * patient flow and yes/no counts;
//! * progression patterns (flags, baseline × progression EMD cross-table,
//!   time from infusion to progression);
//! * next-line therapy by category, overall and by baseline EMD;
//! * per endpoint: overall KM, median follow-up (reverse KM), and per
//!   grouping KM medians with CIs, landmark survival, log-rank (k − 1 df) and
//!   univariable Cox; a multivariable Cox model;
//! * Table 1 by the plan's `table1_by` grouping.

pub mod adjustment;
pub mod competing;
pub mod conventions;
pub mod subgroups;
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
    pub conventions: Conventions,
}

/// Counts of yes/no flags (`counts` in results.json: number of "yes").
pub type Counts = std::collections::BTreeMap<String, usize>;

/// One progression-pattern row.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct PatternRow {
    pub name: String,
    pub label: String,
    pub n: usize,
    pub denominator: usize,
    pub pct: Option<f64>,
}

/// Baseline × progression EMD cross-table.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct CrossTable {
    pub rows: String,
    pub cols: String,
    pub row_levels: Vec<String>,
    pub col_levels: Vec<String>,
    pub counts: Vec<Vec<usize>>,
}

/// Days (and plan units) from infusion to progression.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct IntervalSummary {
    pub name: String,
    pub label: String,
    pub n: usize,
    pub median_days: Option<f64>,
    pub min_days: Option<f64>,
    pub max_days: Option<f64>,
    pub median: Option<f64>,
    pub min: Option<f64>,
    pub max: Option<f64>,
    pub unit: String,
    /// Row label of the report's intervals table, which gives the interval
    /// in the study unit and in days: the plan's label with a leading
    /// "Days from " said as "Time from " (not in results.json).
    #[serde(skip)]
    pub time_label: String,
}

/// Progression patterns block.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Patterns {
    pub rows: Vec<PatternRow>,
    pub cross_table: Option<CrossTable>,
    pub intervals: Vec<IntervalSummary>,
    /// Caption of the patterns table in the report (not in results.json).
    #[serde(skip)]
    pub title: String,
    /// Caption of the intervals table in the report (not in results.json).
    #[serde(skip)]
    pub intervals_title: String,
}

/// Next-line therapy categories.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct NextLine {
    /// Caption of the next-line table in the report, without the
    /// "overall and by" part (not in results.json).
    #[serde(skip)]
    pub title: String,
    pub by: Option<String>,
    pub by_levels: Vec<String>,
    pub rows: Vec<NextLineRow>,
    pub n: usize,
    pub n_by: Vec<usize>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct NextLineRow {
    pub category: String,
    pub n: usize,
    pub pct: Option<f64>,
    pub by: Vec<(usize, Option<f64>)>,
}

/// Overall KM and follow-up of one endpoint.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct EndpointOverall {
    pub endpoint: String,
    pub endpoint_label: String,
    pub overall: GroupSummary,
    pub follow_up_median: Option<f64>,
    pub follow_up_lower: Option<f64>,
    pub follow_up_upper: Option<f64>,
}

/// Multivariable Cox model of one endpoint.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Multivariable {
    pub endpoint: String,
    pub covariates: Vec<String>,
    pub n_complete: usize,
    pub n_dropped_missing: usize,
    pub cox: Option<CoxSummary>,
    pub notes: Vec<String>,
    /// Groupings stratifying the model (the endpoint's `strata`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub strata: Vec<String>,
}

/// Everything `survstudy run` computes.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Results {
    pub survstudy_version: String,
    pub study: String,
    pub conventions: ConventionsUsed,
    pub flow: Flow,
    pub n: usize,
    pub counts: Counts,
    pub patterns: Patterns,
    pub next_line: Option<NextLine>,
    pub endpoints: Vec<EndpointOverall>,
    pub survival: Vec<SurvivalByGroup>,
    pub multivariable: Vec<Multivariable>,
    pub table1: Option<Table1>,
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

    // progression patterns
    let pattern_names = [
        "prog_biochemical",
        "prog_emd",
        "prog_pmd",
        "prog_emd_or_pmd",
    ];
    let rows: Vec<PatternRow> = pattern_names
        .iter()
        .filter_map(|&name| {
            let f = cohort.flag_count(name)?;
            let label = cohort
                .grouping(name)
                .map(|g| g.label.clone())
                .unwrap_or_else(|| name.to_string());
            Some(PatternRow {
                name: name.to_string(),
                label,
                n: f.yes,
                denominator: f.yes + f.no,
                pct: pct(f.yes, f.yes + f.no),
            })
        })
        .collect();
    let cross_table = match (
        cohort.grouping("emd_at_infusion"),
        cohort.grouping("prog_emd"),
    ) {
        (Some(a), Some(b)) => {
            let ra: Vec<String> = a.levels.iter().rev().cloned().collect();
            let cb: Vec<String> = b.levels.iter().rev().cloned().collect();
            let mut counts = vec![vec![0usize; cb.len()]; ra.len()];
            for (x, y) in a.labels.iter().zip(&b.labels) {
                if let (Some(x), Some(y)) = (x, y) {
                    if let (Some(i), Some(j)) = (
                        ra.iter().position(|l| l == x),
                        cb.iter().position(|l| l == y),
                    ) {
                        counts[i][j] += 1;
                    }
                }
            }
            Some(CrossTable {
                rows: a.name.clone(),
                cols: b.name.clone(),
                row_levels: ra,
                col_levels: cb,
                counts,
            })
        }
        _ => None,
    };
    let dpu = plan.study.days_per_unit();
    let intervals = cohort
        .intervals
        .iter()
        .map(|iv| {
            let d: Vec<f64> = iv.days.iter().flatten().map(|&x| x as f64).collect();
            let s = table1::num_summary(&d);
            IntervalSummary {
                name: iv.name.clone(),
                label: iv.label.clone(),
                n: s.n,
                median_days: s.median,
                min_days: s.min,
                max_days: s.max,
                median: s.median.map(|x| x / dpu),
                min: s.min.map(|x| x / dpu),
                max: s.max.map(|x| x / dpu),
                unit: plan.study.time_unit.name().to_string(),
                time_label: match iv.label.strip_prefix("Days from ") {
                    Some(rest) => format!("Time from {rest}"),
                    None => iv.label.clone(),
                },
            }
        })
        .collect();
    let patterns = Patterns {
        rows,
        cross_table,
        intervals,
        title: "Patterns of progression after CAR-T.".into(),
        intervals_title: "Time from CAR-T infusion to progression.".into(),
    };

    // next-line therapy
    let has_next_line = !cohort.patients.is_empty()
        && cohort
            .present_columns
            .iter()
            .any(|c| c == "next_line_category");
    let next_line = has_next_line.then(|| {
        let by = cohort.grouping("emd_at_infusion");
        let by_levels: Vec<String> = by
            .map(|g| g.levels.iter().rev().cloned().collect())
            .unwrap_or_default();
        let cats: Vec<String> = cohort
            .patients
            .iter()
            .map(|p| {
                p.category("next_line_category")
                    .unwrap_or("none recorded")
                    .to_string()
            })
            .collect();
        let mut levels: Vec<String> = cats.clone();
        levels.sort();
        levels.dedup();
        // "none recorded" last
        levels.sort_by_key(|l| l == "none recorded");
        let bi: Vec<Option<usize>> = match by {
            Some(g) => g
                .labels
                .iter()
                .map(|l| {
                    l.as_ref()
                        .and_then(|l| by_levels.iter().position(|x| x == l))
                })
                .collect(),
            None => vec![None; n],
        };
        let n_by: Vec<usize> = (0..by_levels.len())
            .map(|b| bi.iter().filter(|&&x| x == Some(b)).count())
            .collect();
        let rows = levels
            .iter()
            .map(|l| {
                let k = cats.iter().filter(|c| *c == l).count();
                NextLineRow {
                    category: l.clone(),
                    n: k,
                    pct: pct(k, n),
                    by: (0..by_levels.len())
                        .map(|b| {
                            let kb = (0..n)
                                .filter(|&i| bi[i] == Some(b) && &cats[i] == l)
                                .count();
                            (kb, pct(kb, n_by[b]))
                        })
                        .collect(),
                }
            })
            .collect();
        NextLine {
            title: "First next-line therapy after progression".into(),
            by: by.map(|g| g.name.clone()),
            by_levels,
            rows,
            n,
            n_by,
        }
    });

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
