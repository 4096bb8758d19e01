//! Survival analyses of one endpoint by one grouping: Kaplan–Meier per level,
//! survival at landmark times, log-rank test (k − 1 df), univariable Cox.

use serde::Serialize;
use survkit::cox::{CoxFit, CoxOptions, Design};
use survkit::km::{kaplan_meier_by_group, KmFit, KmOptions};
use survkit::logrank::{logrank, LogrankOptions, LogrankResult};

/// A KM curve as plotted: every distinct time with its counts and CI.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Curve {
    /// Distinct event and censoring times.
    pub time: Vec<f64>,
    /// Number at risk at each time.
    pub n_risk: Vec<u64>,
    /// Events at each time.
    pub n_event: Vec<u64>,
    /// Censorings at each time.
    pub n_censor: Vec<u64>,
    /// Kaplan–Meier survival after each time.
    pub surv: Vec<f64>,
    /// Lower confidence limit of the survival.
    pub lower: Vec<f64>,
    /// Upper confidence limit of the survival.
    pub upper: Vec<f64>,
}

impl Curve {
    /// The fit's step-function columns, copied (same length, time order).
    pub fn from_fit(f: &KmFit) -> Curve {
        Curve {
            time: f.time.clone(),
            n_risk: f.n_risk.clone(),
            n_event: f.n_event.clone(),
            n_censor: f.n_censor.clone(),
            surv: f.surv.clone(),
            lower: f.lower.clone(),
            upper: f.upper.clone(),
        }
    }

    /// Number at risk at time t (subjects with time ≥ t): the `n_risk` of
    /// the first curve time ≥ t, 0 past the last time.
    pub fn n_at_risk(&self, t: f64) -> u64 {
        let k = self.time.partition_point(|&x| x < t);
        self.n_risk.get(k).copied().unwrap_or(0)
    }
}

/// Survival at a landmark time.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Landmark {
    /// The landmark time (the endpoint's unit; the plan's time converted when the endpoint has its own).
    pub time: f64,
    /// Number at risk at the landmark.
    pub n_risk: u64,
    /// Survival at the landmark (`None` past the last follow-up).
    pub surv: Option<f64>,
    /// Lower confidence limit of `surv`.
    pub lower: Option<f64>,
    /// Upper confidence limit of `surv`.
    pub upper: Option<f64>,
}

fn opt(x: f64) -> Option<f64> {
    if x.is_finite() {
        Some(x)
    } else {
        None
    }
}

/// One group's KM summary.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct GroupSummary {
    /// Group level as displayed.
    pub label: String,
    /// Patients in the group.
    pub n: usize,
    /// Events in the group.
    pub events: usize,
    /// Median survival in the plan's time unit; `None` = not reached.
    pub median: Option<f64>,
    /// Lower confidence limit of the median (`None` = not reached).
    pub median_lower: Option<f64>,
    /// Upper confidence limit of the median (`None` = not reached).
    pub median_upper: Option<f64>,
    /// Survival at each of the plan's landmark times.
    pub landmarks: Vec<Landmark>,
    /// The full curve (`None` for a group without patients).
    pub curve: Option<Curve>,
}

impl GroupSummary {
    /// Summarise a KM fit (or an empty group).
    ///
    /// `fit = None` gives n = 0 and no estimates. Otherwise the median and
    /// its CI, survival at each of `landmarks` (in the given order; `None`
    /// estimates for a landmark past the last follow-up time or non-finite
    /// values) and the curve. Never panics.
    pub fn new(label: &str, fit: Option<&KmFit>, landmarks: &[f64]) -> GroupSummary {
        match fit {
            None => GroupSummary {
                label: label.to_string(),
                n: 0,
                events: 0,
                median: None,
                median_lower: None,
                median_upper: None,
                landmarks: vec![],
                curve: None,
            },
            Some(f) => {
                let m = f.median();
                // a landmark past the last follow-up is not estimable
                let last = f.last_time();
                let lm = f
                    .surv_at(landmarks)
                    .into_iter()
                    .map(|a| {
                        let beyond = a.time > last;
                        Landmark {
                            time: a.time,
                            n_risk: a.n_risk,
                            surv: if beyond { None } else { opt(a.surv) },
                            lower: if beyond { None } else { opt(a.lower) },
                            upper: if beyond { None } else { opt(a.upper) },
                        }
                    })
                    .collect();
                GroupSummary {
                    label: label.to_string(),
                    n: f.n as usize,
                    events: f.n_event_total as usize,
                    median: m.estimate,
                    median_lower: m.lower,
                    median_upper: m.upper,
                    landmarks: lm,
                    curve: Some(Curve::from_fit(f)),
                }
            }
        }
    }
}

/// Log-rank test summary.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct LogrankSummary {
    /// Log-rank chi-square statistic.
    pub chisq: f64,
    /// Degrees of freedom (levels − 1).
    pub df: usize,
    /// p-value of the log-rank test.
    pub p: f64,
    /// Observed events per level.
    pub observed: Vec<f64>,
    /// Expected events per level under the null.
    pub expected: Vec<f64>,
}

/// The levels among `0..k` that occur in `level`, ascending (one pass).
fn levels_present(level: &[usize], k: usize) -> Vec<usize> {
    let mut seen = vec![false; k];
    for &l in level {
        seen[l] = true;
    }
    (0..k).filter(|&l| seen[l]).collect()
}

impl LogrankSummary {
    /// The test of the groups `present` (their positions among the `k`
    /// levels of the grouping), with observed and expected counts placed
    /// at each level (0 for a level without patients).
    fn of(r: &LogrankResult, present: &[usize], k: usize) -> Self {
        let mut observed = vec![0.0; k];
        let mut expected = vec![0.0; k];
        for (j, &l) in present.iter().enumerate() {
            observed[l] = r.observed[j];
            expected[l] = r.expected[j];
        }
        LogrankSummary {
            chisq: r.chisq,
            df: r.df,
            p: r.p,
            observed,
            expected,
        }
    }
}

/// One Cox term.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct CoxTermSummary {
    /// Design column name as R prints it (e.g. `emd_at_infusionyes`).
    pub term: String,
    /// Variable (column or grouping) and level the term belongs to.
    pub variable: String,
    /// Level of a factor term (`None` for a numeric covariate).
    pub level: Option<String>,
    /// Reference level of a factor term.
    pub reference: Option<String>,
    /// Coefficient (log hazard ratio); `None` when not estimable.
    pub coef: Option<f64>,
    /// Standard error of `coef`.
    pub se: Option<f64>,
    /// Hazard ratio exp(coef).
    pub hr: Option<f64>,
    /// Lower 95% confidence limit of `hr`.
    pub hr_lower: Option<f64>,
    /// Upper 95% confidence limit of `hr`.
    pub hr_upper: Option<f64>,
    /// Wald p-value of the term.
    pub p: Option<f64>,
    /// R's monotone-likelihood flag: the coefficient may be infinite.
    pub possibly_infinite: bool,
}

/// Cox model summary.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct CoxSummary {
    /// Patients in the fit.
    pub n: usize,
    /// Events in the fit.
    pub events: usize,
    /// One row per design column.
    pub terms: Vec<CoxTermSummary>,
    /// Likelihood-ratio test of the model.
    pub lr_test: survkit::cox::TestStat,
    /// Wald test of the model.
    pub wald_test: survkit::cox::TestStat,
    /// Score (log-rank) test of the model.
    pub score_test: survkit::cox::TestStat,
    /// Harrell's concordance (`None` when not computed).
    pub concordance: Option<f64>,
    /// Standard error of `concordance`.
    pub concordance_se: Option<f64>,
    /// Whether Newton–Raphson converged.
    pub converged: bool,
    /// Newton–Raphson iterations used.
    pub iterations: usize,
    /// Fit warnings (non-convergence, infinite coefficients).
    pub warnings: Vec<String>,
    /// Proportional-hazards test of the model (R `cox.zph`, km transform).
    pub ph_test: Option<PhTest>,
    /// Log partial likelihood at the estimate (R `fit$loglik[2]`; for the
    /// interaction tests, not written to results.json).
    #[serde(skip)]
    pub loglik: f64,
}

/// One row of a proportional-hazards test.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct PhRow {
    /// Term name, or `GLOBAL`.
    pub term: String,
    /// Score test statistic of proportional hazards.
    pub chisq: f64,
    /// Degrees of freedom.
    pub df: usize,
    /// p-value (small = evidence against proportional hazards).
    pub p: f64,
}

/// Scaled Schoenfeld residuals of a term (for terms with p < 0.05).
///
/// `time` and `beta_t` hold one value per event; `results.json` leaves them
/// out by default (they are written to `results-full.json` with
/// `--full-arrays`) and keeps the bounded summaries `bins` and `smooth`,
/// both computed from every event.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct PhResiduals {
    /// Term name (design column).
    pub term: String,
    /// Event times.
    pub time: Vec<f64>,
    /// β(t) estimates: scaled Schoenfeld residual + coefficient, per event.
    pub beta_t: Vec<f64>,
    /// The Cox coefficient of the term (the plot's reference line).
    pub coef: f64,
    /// Number of events (= length of `time` and `beta_t`).
    pub n_events: usize,
    /// β(t) summarised over consecutive events in (at most [`PH_BINS`]) bins of equal count.
    pub bins: Vec<PhBin>,
    /// R's `plot.cox.zph` smooth (`ns(df = 4)`, 40 points, ±2 SE), `None`
    /// when the spline fit is singular.
    pub smooth: Option<PhSmooth>,
}

/// Number of equal-count bins of [`PhResiduals::bins`].
pub const PH_BINS: usize = 40;

/// Scaled Schoenfeld residuals of consecutive events (sorted by time).
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct PhBin {
    /// First and last event time of the bin.
    pub time_from: f64,
    /// Last event time of the bin.
    pub time_to: f64,
    /// Number of events (NaN residuals excluded from the statistics below).
    pub n: usize,
    /// Mean β(t) of the bin.
    pub mean: f64,
    /// Quartiles of β(t) in the bin (R's type-7 quantiles).
    pub q25: f64,
    /// Median β(t) of the bin.
    pub median: f64,
    /// Upper quartile of β(t) in the bin.
    pub q75: f64,
}

/// The smooth of the residual plot (see [`survkit::smooth`]).
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct PhSmooth {
    /// Evaluation points on the transformed (Kaplan–Meier) time scale.
    pub x: Vec<f64>,
    /// The same points as times (linear interpolation of the events' (x, time), as R's axis labels).
    pub time: Vec<f64>,
    /// Smoothed β(t) at each point.
    pub fit: Vec<f64>,
    /// Lower limit of the ±2 SE band.
    pub lower: Vec<f64>,
    /// Upper limit of the ±2 SE band.
    pub upper: Vec<f64>,
}

/// Type-7 quantile of sorted finite values.
fn quantile_sorted(v: &[f64], p: f64) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    let h = (v.len() - 1) as f64 * p;
    let lo = h.floor() as usize;
    let hi = h.ceil() as usize;
    if hi == lo || v[hi] == v[lo] {
        v[lo]
    } else {
        let w = h - lo as f64;
        (1.0 - w) * v[lo] + w * v[hi]
    }
}

/// Equal-count bins of (time, β(t)), events in time order.
///
/// Contract: `time[i]` and `beta_t[i]` belong to the i-th event, sorted by
/// time; only the first `min(len)` pairs are used. Output: `min(n_bins, n)`
/// bins of consecutive events (empty for `n_bins = 0` or no events);
/// non-finite β(t) are left out of a bin's mean and quantiles (NaN when none
/// is left). Never panics.
pub fn ph_bins(time: &[f64], beta_t: &[f64], n_bins: usize) -> Vec<PhBin> {
    let n = time.len().min(beta_t.len());
    let k = n_bins.min(n);
    (0..k)
        .map(|b| {
            let (from, to) = (b * n / k, (b + 1) * n / k);
            let mut v: Vec<f64> = beta_t[from..to]
                .iter()
                .copied()
                .filter(|x| x.is_finite())
                .collect();
            // equal under total_cmp is equal in bits, so the unstable sort
            // gives the same sequence (faster on the many repeated values
            // of events in one cell)
            v.sort_unstable_by(f64::total_cmp);
            let mean = if v.is_empty() {
                f64::NAN
            } else {
                v.iter().sum::<f64>() / v.len() as f64
            };
            PhBin {
                time_from: time[from],
                time_to: time[to - 1],
                n: to - from,
                mean,
                q25: quantile_sorted(&v, 0.25),
                median: quantile_sorted(&v, 0.5),
                q75: quantile_sorted(&v, 0.75),
            }
        })
        .collect()
}

/// Times at transformed-scale points: linear interpolation of the events'
/// (x, time) at the first occurrence of each x (R `approx(xx[!duplicated(xx)], time)`).
fn x_to_time(x: &[f64], time: &[f64], at: &[f64]) -> Vec<f64> {
    let mut px: Vec<f64> = Vec::new();
    let mut pt: Vec<f64> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    let mut prev = None;
    for (&xi, &ti) in x.iter().zip(time) {
        // events of one time repeat their x: seen already, no lookup
        if prev == Some(xi.to_bits()) {
            continue;
        }
        prev = Some(xi.to_bits());
        if seen.insert(xi.to_bits()) {
            px.push(xi);
            pt.push(ti);
        }
    }
    let mut order: Vec<usize> = (0..px.len()).collect();
    order.sort_by(|&a, &b| px[a].total_cmp(&px[b]));
    let sx: Vec<f64> = order.iter().map(|&i| px[i]).collect();
    let st: Vec<f64> = order.iter().map(|&i| pt[i]).collect();
    at.iter()
        .map(|&a| {
            let j = sx.partition_point(|&v| v < a);
            if j < sx.len() && sx[j] == a {
                st[j]
            } else if j == 0 || j == sx.len() {
                f64::NAN
            } else {
                let w = (a - sx[j - 1]) / (sx[j] - sx[j - 1]);
                st[j - 1] + w * (st[j] - st[j - 1])
            }
        })
        .collect()
}

/// The residual-plot summaries of one column of a `cox.zph` result.
fn ph_summaries(
    z: &survkit::zph::ZphResult,
    time: &[f64],
    term: usize,
    beta_t: &[f64],
) -> (Vec<PhBin>, Option<PhSmooth>) {
    let bins = ph_bins(time, beta_t, PH_BINS);
    let var = z
        .var
        .get(term)
        .and_then(|r| r.get(term))
        .copied()
        .unwrap_or(f64::NAN);
    let smooth = survkit::smooth::ns_smooth(
        &z.x,
        beta_t,
        var,
        &survkit::smooth::SmoothOptions::default(),
    )
    .ok()
    .map(|s| PhSmooth {
        time: x_to_time(&z.x, time, &s.x),
        x: s.x,
        fit: s.fit,
        lower: s.lower,
        upper: s.upper,
    });
    (bins, smooth)
}

/// A term whose cox.zph test has p below this gets its residual plot.
pub const PH_FLAG_P: f64 = 0.05;

/// Proportional-hazards diagnostics of a Cox model (Grambsch & Therneau 1994;
/// R survival >= 3 `cox.zph`, transform "km").
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct PhTest {
    /// Time transform of the test (`km`, as R's default).
    pub transform: String,
    /// One test per term.
    pub terms: Vec<PhRow>,
    /// The global test over all terms.
    pub global: PhRow,
    /// Residuals of the terms flagged at p < 0.05 (empty when none are).
    pub flagged: Vec<PhResiduals>,
}

/// Terms of a design: variable name → its design columns (factors span several).
///
/// `info[j]` describes design column j; consecutive columns of the same
/// variable form one term, in column order. Never panics.
pub fn term_groups(info: &[TermInfo]) -> Vec<survkit::zph::ZphTerm> {
    let mut out: Vec<survkit::zph::ZphTerm> = vec![];
    for (j, t) in info.iter().enumerate() {
        match out.last_mut() {
            Some(last) if last.name == t.variable => last.columns.push(j),
            _ => out.push(survkit::zph::ZphTerm {
                name: t.variable.clone(),
                columns: vec![j],
            }),
        }
    }
    out
}

/// Fit a Cox model and its PH test; errors become notes.
///
/// Contract: `time`, `event` and the rows of `design` are aligned (row i =
/// one subject); `info[j]` describes design column j. Output: the model
/// summary with its `cox.zph` test (KM transform) and the residuals of terms
/// with p < 0.05; `None` when the model cannot be fitted, with
/// "`what` not fitted: …" pushed to `notes`. A PH test that fails leaves
/// `ph_test = None` with a note; a non-converged fit is kept and reported in
/// its `warnings`.
pub fn fit_with_ph(
    time: &[f64],
    event: &[bool],
    design: &Design,
    info: &[TermInfo],
    cox: &CoxOptions,
    notes: &mut Vec<String>,
    what: &str,
) -> Option<CoxSummary> {
    fit_with_ph_strata(
        time,
        event,
        design,
        None,
        info,
        cox,
        notes,
        what,
        super::EventArrays::All,
    )
}

/// [`fit_with_ph`] with strata (`strata[i]` = stratum of row i; R
/// `coxph(... + strata(s))` and `cox.zph` of that fit).
///
/// Same contract as [`fit_with_ph`]; `strata`, when given, is aligned with
/// `time`. The flagged terms' per-event arrays are kept as `arrays` says
/// (their bins and smooth always come from every event).
#[allow(clippy::too_many_arguments)]
pub fn fit_with_ph_strata(
    time: &[f64],
    event: &[bool],
    design: &Design,
    strata: Option<&[usize]>,
    info: &[TermInfo],
    cox: &CoxOptions,
    notes: &mut Vec<String>,
    what: &str,
    arrays: super::EventArrays,
) -> Option<CoxSummary> {
    let terms = term_groups(info);
    // the fit and its cox.zph share the collapse of large data into cells
    let (fit, zph) = match survkit::zph::cox_fit_and_zph(
        time,
        event,
        design,
        strata,
        cox,
        Some(&terms),
        // the per-event residuals only feed the plots of flagged terms:
        // only their columns are made
        &survkit::zph::ZphOptions {
            residuals: survkit::zph::ZphResiduals::TermsBelow(PH_FLAG_P),
            ..Default::default()
        },
    ) {
        Ok(f) => f,
        Err(e) => {
            notes.push(format!("{what} not fitted: {e}"));
            return None;
        }
    };
    let mut summary = CoxSummary::from_fit(&fit, info);
    match zph {
        Ok(mut z) => {
            let row = |t: &survkit::zph::ZphTest| PhRow {
                term: t.term.clone(),
                chisq: t.chisq,
                df: t.df,
                p: t.p,
            };
            // (term, its residual column, its first design column) of the
            // flagged terms; the residual columns are the flagged terms',
            // in term order
            let picked: Vec<(usize, usize, usize)> = z
                .terms
                .iter()
                .enumerate()
                .filter(|(_, t)| t.p < PH_FLAG_P)
                .enumerate()
                .filter_map(|(col, (k, _))| {
                    let first = terms.get(k)?.columns.first().copied()?;
                    Some((k, col, first))
                })
                .collect();
            // the per-event arrays (one per event: 10^6 at registry scale)
            // move into the last flagged term instead of being copied, and
            // a one-column residual matrix is that term's β(t) as it is
            let mut event_time = std::mem::take(&mut z.time);
            let ncol = z.y.ncol;
            let mut y = std::mem::take(&mut z.y.data);
            let last = picked.len().wrapping_sub(1);
            let flagged = picked
                .into_iter()
                .enumerate()
                .map(|(j, (k, col, first))| {
                    let beta_t: Vec<f64> = if j == last && ncol == 1 && col == 0 {
                        std::mem::take(&mut y)
                    } else {
                        y.chunks_exact(ncol.max(1))
                            .map(|r| r.get(col).copied().unwrap_or(f64::NAN))
                            .collect()
                    };
                    let (bins, smooth) = ph_summaries(&z, &event_time, k, &beta_t);
                    let t = &z.terms[k];
                    let n_events = beta_t.len();
                    // arrays the results would not keep are not held (nor
                    // copied) through the rest of the analysis
                    let keep = arrays.keeps(n_events);
                    PhResiduals {
                        term: t.term.clone(),
                        time: match (keep, j == last) {
                            (false, _) => Vec::new(),
                            (true, true) => std::mem::take(&mut event_time),
                            (true, false) => event_time.clone(),
                        },
                        n_events,
                        beta_t: if keep { beta_t } else { Vec::new() },
                        bins,
                        smooth,
                        // cox.zph collapses a multi-column (factor) term to
                        // r·β̂ + 1, so its reference level is 1
                        coef: if terms.get(k).is_some_and(|t| t.columns.len() > 1) {
                            1.0
                        } else {
                            fit.terms.get(first).map_or(f64::NAN, |c| c.coef)
                        },
                    }
                })
                .collect();
            summary.ph_test = Some(PhTest {
                transform: "km".into(),
                terms: z.terms.iter().map(row).collect(),
                global: row(&z.global),
                flagged,
            });
        }
        Err(e) => notes.push(format!(
            "{what}: proportional-hazards test not computed: {e}"
        )),
    }
    Some(summary)
}

/// What each design column means (for labels in tables and forest plots).
#[derive(Debug, Clone)]
pub struct TermInfo {
    /// Variable (column or grouping) the column comes from.
    pub variable: String,
    /// Level of a factor column (`None` for a numeric covariate).
    pub level: Option<String>,
    /// Reference level of a factor column.
    pub reference: Option<String>,
}

impl CoxSummary {
    /// Summarise a fit; `info[j]` labels the fit's term j (terms beyond
    /// `info` are dropped). Never panics.
    pub fn from_fit(fit: &CoxFit, info: &[TermInfo]) -> CoxSummary {
        CoxSummary {
            n: fit.n,
            events: fit.nevent,
            terms: fit
                .terms
                .iter()
                .zip(info)
                .map(|(t, i)| CoxTermSummary {
                    term: t.term.clone(),
                    variable: i.variable.clone(),
                    level: i.level.clone(),
                    reference: i.reference.clone(),
                    coef: opt(t.coef),
                    se: opt(t.se),
                    hr: opt(t.hr),
                    hr_lower: opt(t.hr_lower),
                    hr_upper: opt(t.hr_upper),
                    p: opt(t.p),
                    possibly_infinite: t.possibly_infinite,
                })
                .collect(),
            lr_test: fit.lr_test,
            wald_test: fit.wald_test,
            score_test: fit.score_test,
            concordance: fit.concordance,
            concordance_se: fit.concordance_se,
            converged: fit.converged,
            iterations: fit.iterations,
            warnings: fit.warnings.clone(),
            ph_test: None,
            loglik: fit.loglik,
        }
    }
}

/// Endpoint × grouping result (the `survival[]` entries of results.json).
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct SurvivalByGroup {
    /// Endpoint name (plan key).
    pub endpoint: String,
    /// Endpoint label as displayed.
    pub endpoint_label: String,
    /// Unit of the times (medians, curves, landmarks); present when the
    /// plan gives an endpoint its own unit or a duration export.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub time_unit: Option<crate::plan::TimeUnit>,
    /// Grouping name (plan key).
    pub grouping: String,
    /// Grouping label as displayed.
    pub grouping_label: String,
    /// Landmark time (the endpoint's unit) when this is a landmark analysis.
    pub landmark: Option<f64>,
    /// Patients in the endpoint population with a missing group label.
    pub n_missing_group: usize,
    /// Patients analysed: the endpoint's (landmark) population with a value
    /// of this grouping (complete cases of this analysis).
    pub n_used: usize,
    /// KM summary of each group, in level order.
    pub groups: Vec<GroupSummary>,
    /// Log-rank test across the groups (`None` with fewer than two).
    pub logrank: Option<LogrankSummary>,
    /// Cox model of the grouping (`None` when not fitted).
    pub cox: Option<CoxSummary>,
    /// Strata of `cox` (the grouping's `cox_strata`; absent when none).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub cox_strata: Vec<String>,
    /// Log-rank test stratified by `cox_strata` (absent without strata).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub logrank_stratified: Option<LogrankSummary>,
    /// Restricted mean survival time (groupings with two levels).
    pub rmst: Option<RmstSummary>,
    /// Notes on the analysis (e.g. groups left out, why a test is missing).
    pub notes: Vec<String>,
}

/// RMST per group up to τ with the difference and ratio (second level vs
/// first, e.g. yes vs no), as R `survRM2::rmst2`.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct RmstSummary {
    /// Restriction time τ (the endpoint's unit).
    pub tau: f64,
    /// RMST of each group, reference first.
    pub groups: Vec<RmstGroup>,
    /// Second level minus first (reference) level.
    pub difference: survkit::rmst::RmstContrast,
    /// Second level over first level.
    pub ratio: survkit::rmst::RmstContrast,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
/// RMST of one group up to τ.
pub struct RmstGroup {
    /// Group level as displayed.
    pub label: String,
    /// Restricted mean survival time up to τ.
    pub rmst: f64,
    /// Standard error of `rmst`.
    pub se: f64,
    /// Lower 95% confidence limit.
    pub lower: f64,
    /// Upper 95% confidence limit.
    pub upper: f64,
}

/// RMST for a grouping with exactly two levels with patients.
///
/// Contract: `input.time`, `input.event` and `input.level` are aligned per
/// row; rows without a level are left out; the first present level is arm 0.
/// Output: per-arm RMST up to `tau` with `conf_level` CIs, difference and
/// ratio. `None` (no note) unless exactly two levels have patients; `None`
/// with "RMST at tau = … not computed: …" in `notes` when survkit's RMST
/// fails.
pub fn rmst_two_groups(
    input: &GroupedInput,
    tau: f64,
    conf_level: f64,
    notes: &mut Vec<String>,
) -> Option<RmstSummary> {
    let present: Vec<usize> = match input.table {
        Some(tab) => (0..input.levels.len()).filter(|&l| tab.n[l] > 0).collect(),
        None => (0..input.levels.len())
            .filter(|&l| input.level.contains(&Some(l)))
            .collect(),
    };
    if present.len() != 2 {
        return None;
    }
    let each = KmOptions::default();
    let from_table = input.table.and_then(|tab| {
        let (f0, f1) = (
            tab.km_fit(present[0], &each)?,
            tab.km_fit(present[1], &each)?,
        );
        Some(survkit::rmst::rmst2_from_fits(&f0, &f1, tau, conf_level))
    });
    let from_rows = || {
        let mut t = vec![];
        let mut e = vec![];
        let mut arm = vec![];
        for i in 0..input.time.len() {
            if let Some(l) = input.level[i] {
                t.push(input.time[i]);
                e.push(input.event[i]);
                arm.push(usize::from(l == present[1]));
            }
        }
        survkit::rmst::rmst2(&t, &e, &arm, tau, conf_level)
    };
    match from_table.unwrap_or_else(from_rows) {
        Ok(r) => {
            let g = |a: &survkit::rmst::RmstArm, l: usize| RmstGroup {
                label: input.levels[l].clone(),
                rmst: a.rmst,
                se: a.se,
                lower: a.lower,
                upper: a.upper,
            };
            Some(RmstSummary {
                tau,
                groups: vec![g(&r.arm0, present[0]), g(&r.arm1, present[1])],
                difference: r.difference,
                ratio: r.ratio,
            })
        }
        Err(err) => {
            notes.push(format!("RMST at tau = {tau} not computed: {err}"));
            None
        }
    }
}

/// Inputs for one endpoint × grouping analysis.
pub struct GroupedInput<'a> {
    /// Follow-up time per row.
    pub time: &'a [f64],
    /// Event indicator per row.
    pub event: &'a [bool],
    /// Level index per row (`None` = missing label).
    pub level: &'a [Option<usize>],
    /// Level labels, indexed by `level`.
    pub levels: &'a [String],
    /// Cox reference level when it is not the first level.
    pub reference: Option<&'a str>,
    /// Stratum per row of the stratified Cox model and log-rank test
    /// (`None` = missing: left out of those two); `None` = unstratified.
    pub strata: Option<&'a [Option<usize>]>,
    /// The rows' counts per (time, level) ([`survkit::tabulated::GroupTable::new`]
    /// of `time`, `event`, `level`); when given, the KM curves, the
    /// unstratified log-rank test and the RMST are computed from it (the
    /// same numbers as from the rows, without sorting them again).
    pub table: Option<&'a survkit::tabulated::GroupTable>,
    /// Which per-event arrays of the Cox model's PH residual plots are kept.
    pub event_arrays: super::EventArrays,
}

/// What [`analyse_grouping`] found for one grouping.
#[derive(Debug, Clone, PartialEq)]
pub struct GroupingResult {
    /// Kaplan–Meier summary per level, in level order.
    pub groups: Vec<GroupSummary>,
    /// Log-rank test; `None` with fewer than two levels with patients.
    pub logrank: Option<LogrankSummary>,
    /// Univariable Cox model (only when asked for and estimable).
    pub cox: Option<CoxSummary>,
    /// Stratified log-rank test (only with `input.strata`).
    pub logrank_stratified: Option<LogrankSummary>,
    /// Patients of the input without a level of this grouping (left out).
    pub missing: usize,
    /// Why something was not fitted, and fit warnings, as sentences.
    pub notes: Vec<String>,
}

/// Run KM per level, log-rank and univariable Cox.
///
/// Contract: `input` holds aligned per-patient time, event and level index
/// (`None` = no level, counted in `missing` and left out). Output: one
/// [`GroupSummary`] per level of `input.levels` (KM with `km`, survival at
/// `landmarks`), the log-rank test over the levels with patients, and, when
/// `run_cox`, the univariable Cox model of `variable` with `cox`. Never
/// fails: a fit that cannot be made is `None` with a sentence in `notes`.
pub fn analyse_grouping(
    input: &GroupedInput,
    km: &KmOptions,
    cox: &CoxOptions,
    landmarks: &[f64],
    run_cox: bool,
    variable: &str,
) -> GroupingResult {
    let k = input.levels.len();
    // the rows with a level (all of them, borrowed, when none is missing)
    let missing = input.level.iter().filter(|l| l.is_none()).count();
    let with_level = |i: &usize| input.level[*i].is_some();
    let (t_all, e_all): (std::borrow::Cow<[f64]>, std::borrow::Cow<[bool]>) = if missing == 0 {
        (input.time.into(), input.event.into())
    } else {
        let rows = || (0..input.time.len()).filter(with_level);
        (
            rows().map(|i| input.time[i]).collect::<Vec<f64>>().into(),
            rows().map(|i| input.event[i]).collect::<Vec<bool>>().into(),
        )
    };
    let g_all: Vec<usize> = input.level.iter().flatten().copied().collect();
    let mut notes = vec![];
    let fits: Vec<Option<KmFit>> = match input.table {
        Some(tab) => tab.km_fits(km),
        None => match kaplan_meier_by_group(&t_all, &e_all, &g_all, k, km) {
            Ok(fits) => fits.into_iter().map(|f| f.ok()).collect(),
            Err(_) => vec![None; k],
        },
    };
    let groups: Vec<GroupSummary> = input
        .levels
        .iter()
        .zip(&fits)
        .map(|(label, fit)| GroupSummary::new(label, fit.as_ref(), landmarks))
        .collect();
    // levels with patients, in order; compact the group index for the tests
    let mut size = vec![0usize; k];
    for &l in &g_all {
        size[l] += 1;
    }
    let present: Vec<usize> = (0..k).filter(|&l| size[l] > 0).collect();
    if present.len() < 2 {
        // say which levels are empty, so a grouping left with one group
        // explains its missing log-rank p
        let empty: Vec<&str> = (0..k)
            .filter(|&l| size[l] == 0)
            .map(|l| input.levels[l].as_str())
            .collect();
        notes.push(match present.first() {
            Some(&l) if empty.is_empty() => format!(
                "all patients are in one group ({}): no log-rank test or hazard ratio",
                input.levels[l]
            ),
            Some(&l) => format!(
                "only one group has patients ({}); {} {} none, so there is no log-rank test or hazard ratio",
                input.levels[l],
                empty.join(", "),
                if empty.len() == 1 { "has" } else { "have" }
            ),
            None => "no group has patients: no log-rank test or hazard ratio".to_string(),
        });
        return GroupingResult {
            groups,
            logrank: None,
            logrank_stratified: None,
            cox: None,
            missing,
            notes,
        };
    }
    let remap: Vec<usize> = (0..k)
        .map(|l| present.iter().position(|&p| p == l).unwrap_or(0))
        .collect();
    let lr = match input.table.map_or_else(
        || {
            // (the compacted index only without a count table)
            let g: Vec<usize> = g_all.iter().map(|&l| remap[l]).collect();
            logrank(&t_all, &e_all, &g, None, &LogrankOptions::default())
        },
        |tab| tab.logrank(&present),
    ) {
        Ok(r) => Some(LogrankSummary::of(&r, &present, k)),
        Err(e) => {
            notes.push(format!("log-rank test not computed: {e}"));
            None
        }
    };
    // stratified: the rows with a stratum (stratum renumbered 0..)
    let strat: Option<(Vec<usize>, Vec<usize>)> = input.strata.map(|st| {
        let mut rows = vec![];
        let mut ids = vec![];
        let mut seen: std::collections::HashMap<usize, usize> = Default::default();
        // k: position among the rows with a level (the rows of t_all)
        let with_level = input.level.iter().zip(st).filter(|(l, _)| l.is_some());
        for (k, (_, s)) in with_level.enumerate() {
            if let Some(s) = s {
                let n = seen.len();
                rows.push(k);
                ids.push(*seen.entry(*s).or_insert(n));
            }
        }
        (rows, ids)
    });
    let logrank_stratified = strat.as_ref().and_then(|(rows, ids)| {
        let t: Vec<f64> = rows.iter().map(|&r| t_all[r]).collect();
        let e: Vec<bool> = rows.iter().map(|&r| e_all[r]).collect();
        let gl: Vec<usize> = rows.iter().map(|&r| g_all[r]).collect();
        let present = levels_present(&gl, k);
        if present.len() < 2 {
            notes.push(
                "stratified log-rank test not computed: fewer than two groups have a stratum value"
                    .into(),
            );
            return None;
        }
        let g: Vec<usize> = gl
            .iter()
            .map(|l| present.iter().position(|p| p == l).unwrap_or(0))
            .collect();
        match logrank(&t, &e, &g, Some(ids), &LogrankOptions::default()) {
            Ok(r) => Some(LogrankSummary::of(&r, &present, k)),
            Err(e) => {
                notes.push(format!("stratified log-rank test not computed: {e}"));
                None
            }
        }
    });
    if let Some((rows, _)) = &strat {
        let left = t_all.len() - rows.len();
        if left > 0 {
            notes.push(format!(
                "{left} patient(s) without a stratum value left out of the stratified Cox model and log-rank test"
            ));
        }
    }
    let cox_summary = if run_cox {
        // the stratified model sees only the rows with a stratum; the
        // plain one reads the rows as they are (no copies)
        let subset: Option<(Vec<f64>, Vec<bool>, Vec<usize>)> = strat.as_ref().map(|(rows, _)| {
            (
                rows.iter().map(|&r| t_all[r]).collect(),
                rows.iter().map(|&r| e_all[r]).collect(),
                rows.iter().map(|&r| g_all[r]).collect(),
            )
        });
        // the design from the rows' levels, which are then not held
        // through the fit (8 bytes a row)
        let (d, present, lv) = {
            let g: &[usize] = match &subset {
                Some((_, _, g)) => g,
                None => &g_all,
            };
            let present = levels_present(g, k);
            let mut lv: Vec<String> = present.iter().map(|&l| input.levels[l].clone()).collect();
            if let Some(r) = input.reference.and_then(|r| lv.iter().position(|l| l == r)) {
                let reference = lv.remove(r);
                lv.insert(0, reference);
            }
            let mut d = Design::default();
            d.add_factor_indexed(variable, g, input.levels, &lv);
            (d, present, lv)
        };
        drop(g_all);
        let subset = subset.map(|(t, e, _)| (t, e));
        let (t_all, e_all): (&[f64], &[bool]) = match &subset {
            Some((t, e)) => (t, e),
            None => (&t_all, &e_all),
        };
        let stratum = strat.as_ref().map(|(_, ids)| ids.as_slice());
        let info: Vec<TermInfo> = lv[1..]
            .iter()
            .map(|l| TermInfo {
                variable: variable.to_string(),
                level: Some(l.clone()),
                reference: Some(lv[0].clone()),
            })
            .collect();
        if present.len() < 2 {
            notes.push(
                "stratified Cox model not fitted: fewer than two groups have a stratum value"
                    .into(),
            );
            None
        } else {
            fit_with_ph_strata(
                t_all,
                e_all,
                &d,
                stratum,
                &info,
                cox,
                &mut notes,
                "Cox model",
                input.event_arrays,
            )
        }
    } else {
        None
    };
    GroupingResult {
        groups,
        logrank: lr,
        logrank_stratified,
        cox: cox_summary,
        missing,
        notes,
    }
}

#[cfg(test)]
mod ph_summary_tests {
    use super::*;

    #[test]
    fn bins_cover_every_event_in_order_with_their_statistics() {
        let time: Vec<f64> = (0..103).map(|i| i as f64).collect();
        let beta: Vec<f64> = time.iter().map(|t| t * 2.0).collect();
        let bins = ph_bins(&time, &beta, 10);
        assert_eq!(bins.len(), 10);
        assert_eq!(bins.iter().map(|b| b.n).sum::<usize>(), 103);
        assert_eq!(bins[0].time_from, 0.0);
        assert_eq!(bins[9].time_to, 102.0);
        for w in bins.windows(2) {
            assert_eq!(w[1].time_from, w[0].time_to + 1.0);
        }
        // first bin: events 0..10 (103 * 1 / 10 = 10): mean and median 9, quartiles 4.5, 13.5
        let b = &bins[0];
        assert_eq!(b.n, 10);
        assert!((b.mean - 9.0).abs() < 1e-12 && (b.median - 9.0).abs() < 1e-12);
        assert!((b.q25 - 4.5).abs() < 1e-12 && (b.q75 - 13.5).abs() < 1e-12);
        // fewer events than bins: one bin per event
        assert_eq!(ph_bins(&time[..3], &beta[..3], 40).len(), 3);
    }

    #[test]
    fn x_to_time_interpolates_between_first_occurrences() {
        let x = [0.1, 0.1, 0.3, 0.5];
        let t = [1.0, 2.0, 3.0, 5.0];
        let got = x_to_time(&x, &t, &[0.1, 0.2, 0.5, 0.4]);
        assert_eq!(got[0], 1.0);
        assert!((got[1] - 2.0).abs() < 1e-12);
        assert_eq!(got[2], 5.0);
        assert!((got[3] - 4.0).abs() < 1e-12);
    }
}
