//! The plan's `[adjustment]`: a two-level grouping (the exposure) compared
//! with propensity-score weighting on baseline covariates, as `survstudy
//! iptw` does on a CSV (the same functions: [`ps_weights`],
//! [`weight_summary`], [`balance_row`]).
//!
//! 1. Patients with the exposure and every covariate known (complete cases,
//!    R `na.omit`); the second level of the grouping is the exposed group
//!    ("treated", 1), the first the reference (0).
//! 2. Propensity score e(x) = P(exposed | x) by `glm(exposure ~ covariates,
//!    family = binomial)` ([`survkit::logistic`]); categories and yes/no
//!    columns enter as indicators of every level but the first (plan level
//!    order). Separation stops the analysis with a message.
//! 3. `trim = Q`: patients with e < Q or e > 1 − Q are dropped (no refit).
//! 4. Weights: ATE 1/e and 1/(1 − e); ATT 1 and e/(1 − e); ATO 1 − e and e;
//!    `stabilized` multiplies them by p̂ (exposed) and 1 − p̂ (reference),
//!    p̂ the retained proportion exposed (R WeightIt `weightit(method =
//!    "glm", estimand =, stabilize =)`).
//! 5. Per arm n, Σw, min, max, mean and Kish's ESS = (Σw)²/Σw².
//! 6. Balance (Austin 2009; cobalt's `bal.tab(s.d.denom = "pooled")`):
//!    SMD = (m₁ − m₀)/sqrt((s₁² + s₀²)/2), unweighted group variances
//!    (n − 1) of the retained patients before and after; means unweighted
//!    before and Σwx/Σw after; categories per level (0/1 indicators).
//! 7. Per endpoint: weighted Kaplan–Meier per arm with infinitesimal-
//!    jackknife SE (R `survfit(Surv ~ exposure, weights = w, robust =
//!    TRUE)`); weighted Cox HR with robust SE and robust score test (R
//!    `coxph(Surv ~ exposure, weights = w, robust = TRUE)`); g-formula
//!    adjusted survival (R riskRegression `ate(estimator = "GFORMULA")`,
//!    with its influence-function SEs and Wald CIs, [`survkit::gformula`]):
//!    the Efron fit `coxph(Surv ~ exposure + covariates)`
//!    on the complete cases (untrimmed, unweighted), every patient's
//!    predicted curve with the exposure set to each level (R
//!    `survfit(fit, newdata)`), averaged.
//!
//! Every problem is a flag in `warnings` (positivity: e outside
//! [0.01, 0.99]; extreme weights: a weight above 10 × its arm's mean; ESS
//! below half an arm; |SMD| > 0.1 after weighting; a covariate with one
//! value, left out) or, when no analysis is possible (exposure not two
//! levels, an empty arm, separation), `error` with nothing computed.

use serde::Serialize;
use survkit::cox::{cox_fit_rows, CoxFit, CoxOptions, CoxRows, Design, Variance};
use survkit::km::KmOptions;
use survkit::logistic::{logistic_fit, LogisticOptions};
use survkit::wkm::{kaplan_meier_rows_by_group, KmVariance, SurvRows, WeightedKmFit};

use crate::adhoc::iptw::Estimand;
use crate::adhoc::iptw::{balance_row, ps_weights, weight_summary, Arm, BalanceRow, WeightSummary};
use crate::derive::{Cohort, EndpointData, Value};
use crate::plan::{AdjustmentSpec, ColumnType, EstimandSpec, Plan};

/// Propensity scores outside this range are flagged (positivity).
pub const PS_FLAG: f64 = 0.01;
/// A weight above this multiple of its arm's mean is flagged.
pub const EXTREME_WEIGHT: f64 = 10.0;
/// |SMD| above this after weighting is flagged.
pub const SMD_FLAG: f64 = 0.1;

/// One propensity-model coefficient (R `summary(glm)`).
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct PsTerm {
    /// Design column name as R prints it.
    pub term: String,
    /// Coefficient (log odds of exposure).
    pub coef: f64,
    /// Standard error of `coef`.
    pub se: f64,
    /// Wald z statistic.
    pub z: f64,
    /// Two-sided p-value of `z`.
    pub p: f64,
}

/// The propensity model.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct PsModel {
    /// The matching R call.
    pub call: String,
    /// Patients the model was fitted on (complete cases).
    pub n: usize,
    /// One row per design column, intercept first.
    pub terms: Vec<PsTerm>,
    /// Residual deviance.
    pub deviance: f64,
    /// Null deviance (intercept only).
    pub null_deviance: f64,
    /// Akaike information criterion.
    pub aic: f64,
    /// IRLS iterations used.
    pub iterations: usize,
    /// Whether IRLS converged.
    pub converged: bool,
    /// Range of the propensity score per arm.
    pub ps_range: Vec<PsRange>,
}

/// Range of the propensity score in one arm; serialised as the triple
/// `[level, min, max]` (results.json's shape).
#[derive(Debug, Clone, PartialEq)]
pub struct PsRange {
    /// Treatment level.
    pub level: String,
    /// Smallest propensity score in the arm.
    pub min: f64,
    /// Largest propensity score in the arm.
    pub max: f64,
}

impl Serialize for PsRange {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        (&self.level, self.min, self.max).serialize(s)
    }
}

/// Balance of one covariate or category level.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct BalanceEntry {
    /// Covariate (plan name).
    pub variable: String,
    /// Covariate label as displayed.
    pub label: String,
    /// Category level (every level of a category, reference included).
    pub level: Option<String>,
    #[serde(flatten)]
    /// Means, variances and SMDs before and after weighting.
    pub row: BalanceRow,
}

/// One step of a weighted curve.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct WeightedCurve {
    /// Distinct event and censoring times.
    pub time: Vec<f64>,
    /// Weighted number at risk (sum of weights).
    pub n_risk: Vec<f64>,
    /// Weighted events at each time.
    pub n_event: Vec<f64>,
    /// Weighted censorings at each time.
    pub n_censor: Vec<f64>,
    /// Weighted Kaplan–Meier survival after each time.
    pub surv: Vec<f64>,
    /// Infinitesimal-jackknife SE of S.
    pub std_err: Vec<f64>,
    /// Lower confidence limit of `surv`.
    pub lower: Vec<f64>,
    /// Upper confidence limit of `surv`.
    pub upper: Vec<f64>,
}

/// The weighted estimate at one time.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct AtTime {
    /// The time asked for (the endpoint's unit).
    pub time: f64,
    /// Weighted survival at `time`.
    pub surv: f64,
    /// Infinitesimal-jackknife SE of `surv`.
    pub std_err: f64,
    /// Lower confidence limit of `surv`.
    pub lower: f64,
    /// Upper confidence limit of `surv`.
    pub upper: f64,
    /// Weighted number at risk just before `time`.
    pub n_risk: f64,
}

/// Weighted Kaplan–Meier of one arm.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct WeightedArm {
    /// Exposure level of the arm.
    pub level: String,
    /// Patients in the arm.
    pub n: usize,
    /// Events in the arm (unweighted).
    pub events: usize,
    /// Sum of the weights of the arm's events.
    pub weighted_events: f64,
    /// Weighted median survival (`None` = not reached).
    pub median: Option<f64>,
    /// Lower confidence limit of the median.
    pub median_lower: Option<f64>,
    /// Upper confidence limit of the median.
    pub median_upper: Option<f64>,
    /// The weighted estimate at each of the adjustment's times.
    pub at: Vec<AtTime>,
    /// The weighted curve.
    pub curve: WeightedCurve,
}

/// The weighted Cox model of the exposure.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct WeightedCox {
    /// Design column of the exposure (e.g. `emd_at_infusionyes`).
    pub term: String,
    /// Coefficient (log hazard ratio).
    pub coef: f64,
    /// Robust (sandwich) SE: z, p and the CI use it.
    pub robust_se: f64,
    /// Model-based SE of the weighted fit (not valid for inference).
    pub naive_se: f64,
    /// Wald z with the robust SE.
    pub z: f64,
    /// p-value of `z`.
    pub p: f64,
    /// Hazard ratio exp(coef).
    pub hr: f64,
    /// Lower 95% confidence limit of `hr` (robust SE).
    pub hr_lower: f64,
    /// Upper 95% confidence limit of `hr` (robust SE).
    pub hr_upper: f64,
    /// Robust score test (R `fit$rscore`).
    pub robust_score_stat: Option<f64>,
    /// p-value of the robust score test.
    pub robust_score_p: Option<f64>,
    /// Fit warnings (non-convergence, infinite coefficient).
    pub warnings: Vec<String>,
}

/// g-formula adjusted survival at the adjustment's times.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct GFormula {
    /// Patients in the outcome model.
    pub n: usize,
    /// Events in the outcome model.
    pub events: usize,
    /// Exposure coefficient of the outcome model (log HR, Efron).
    pub exposure_coef: f64,
    /// Times the curves are evaluated at (the endpoint's unit).
    pub times: Vec<f64>,
    /// Ŝ(t | reference level) and Ŝ(t | exposed level).
    pub surv_reference: Vec<f64>,
    /// Ŝ(t | exposed level) at `times`.
    pub surv_exposed: Vec<f64>,
    /// Exposed minus reference.
    pub difference: Vec<f64>,
    /// How standard errors are (not) obtained.
    pub se_method: String,
    /// Influence-function SE of `surv_reference` (riskRegression `ate`).
    pub se_reference: Vec<f64>,
    /// Lower Wald limit of `surv_reference` (clipped to [0, 1]).
    pub lower_reference: Vec<f64>,
    /// Upper Wald limit (see `lower_reference`).
    pub upper_reference: Vec<f64>,
    /// Influence-function SE of `surv_exposed`.
    pub se_exposed: Vec<f64>,
    /// Lower Wald limit of `surv_exposed` (clipped to [0, 1]).
    pub lower_exposed: Vec<f64>,
    /// Upper Wald limit (see `lower_exposed`).
    pub upper_exposed: Vec<f64>,
    /// Influence-function SE of `difference`.
    pub difference_se: Vec<f64>,
    /// Lower Wald limit of `difference` (clipped to [−1, 1]).
    pub difference_lower: Vec<f64>,
    /// Upper Wald limit (see `difference_lower`).
    pub difference_upper: Vec<f64>,
    /// Two-sided Wald p-value of no difference.
    pub difference_p: Vec<f64>,
    /// How the intervals are formed.
    pub ci_method: String,
    /// Warnings of the outcome model.
    pub warnings: Vec<String>,
}

/// `se_method` of [`GFormula`].
pub const GFORMULA_SE_METHOD: &str = "influence functions as riskRegression::ate(estimator = \"GFORMULA\"): averaging over the patients' covariates plus the Cox fit's coefficients and baseline hazard (iidCox)";
/// `ci_method` of [`GFormula`] at confidence level `level` (the plan's
/// `confidence_level`; ate's default is 0.95, z = 1.96).
pub fn gformula_ci_method(level: f64) -> String {
    format!(
        "Wald, estimate +/- {:.2} SE (ate's default, untransformed), clipped to [0, 1] (differences [-1, 1])",
        survkit::dist::z_for_level(level)
    )
}

/// The adjusted analyses of one endpoint.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct AdjustedEndpoint {
    /// Endpoint name (plan key).
    pub endpoint: String,
    /// Endpoint label as displayed.
    pub endpoint_label: String,
    /// Weighted patients in the endpoint's population.
    pub n: usize,
    /// Events in the endpoint's population.
    pub events: usize,
    /// Reference arm first.
    pub arms: Vec<WeightedArm>,
    /// Weighted Cox model (`None` when it cannot be fitted).
    pub cox: Option<WeightedCox>,
    /// g-formula adjusted survival (`None` when it cannot be fitted).
    pub adjusted: Option<GFormula>,
    /// Notes on the endpoint's analyses.
    pub notes: Vec<String>,
}

/// `adjustment` in results.json.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct AdjustmentResult {
    /// Exposure grouping (plan name).
    pub exposure: String,
    /// Exposure label as displayed.
    pub exposure_label: String,
    /// Reference (unexposed) level.
    pub reference_level: String,
    /// Exposed level.
    pub exposed_level: String,
    /// Target population of the weights (ATE, ATT, ATO).
    pub estimand: EstimandSpec,
    /// Whether the weights are stabilized by the marginal exposure proportion.
    pub stabilized: bool,
    /// Propensity-score trimming quantile, if any.
    pub trim: Option<f64>,
    /// How the weights are formed, in words.
    pub weights_formula: String,
    /// How the standardized mean differences are formed, in words.
    pub balance_formula: String,
    /// Covariates in the propensity model (plan names).
    pub covariates: Vec<String>,
    /// Covariates left out: absent from the file, or one value only.
    pub covariates_left_out: Vec<String>,
    /// Patients with the exposure known.
    pub n_exposure: usize,
    /// Patients with the exposure and every covariate known.
    pub n_complete: usize,
    /// Patients dropped for a missing covariate.
    pub n_dropped_missing: usize,
    /// Patients removed by trimming.
    pub n_trimmed: usize,
    /// Patients in the weighted analyses.
    pub n_analysed: usize,
    /// Proportion exposed among the analysed patients (stabilization factor).
    pub marginal_exposed_proportion: Option<f64>,
    /// The propensity-score model (`None` when it could not be fitted).
    pub ps_model: Option<PsModel>,
    /// Reference arm first.
    pub weights: Vec<WeightSummary>,
    /// Balance of each covariate (and category level) before and after weighting.
    pub balance: Vec<BalanceEntry>,
    /// Times the weighted and adjusted estimates are reported at (the study's unit, as the plan gives them; converted to each endpoint's unit in its results).
    pub times: Vec<f64>,
    /// The weighted and adjusted analyses of each endpoint.
    pub endpoints: Vec<AdjustedEndpoint>,
    /// Why nothing was estimated (exposure not two levels, separation, …).
    pub error: Option<String>,
    /// Flags: positivity, extreme weights, low ESS, imbalance, covariates
    /// left out.
    pub warnings: Vec<String>,
}

impl EstimandSpec {
    fn iptw(self) -> Estimand {
        match self {
            EstimandSpec::Ate => Estimand::Ate,
            EstimandSpec::Att => Estimand::Att,
            EstimandSpec::Ato => Estimand::Ato,
        }
    }
    /// `ate` / `att` / `ato`: the spelling in the plan and results.json.
    pub fn as_str(self) -> &'static str {
        self.iptw().as_str()
    }
}

/// One covariate's design columns on the complete cases.
enum Cov {
    Number(Vec<f64>),
    Levels(Vec<String>, Vec<usize>),
}

fn categorical_levels(plan: &Plan, col: &str, kind: ColumnType, seen: &[String]) -> Vec<String> {
    let declared: Vec<String> = match kind {
        ColumnType::YesNo => vec!["no".into(), "yes".into()],
        _ => plan
            .column(col)
            .map(|c| c.levels.clone())
            .unwrap_or_default(),
    };
    let mut lv: Vec<String> = declared.into_iter().filter(|l| seen.contains(l)).collect();
    let mut rest: Vec<String> = seen.iter().filter(|s| !lv.contains(s)).cloned().collect();
    rest.sort();
    rest.dedup();
    lv.extend(rest);
    lv
}

fn value_text(v: &Value) -> Option<String> {
    match v {
        Value::Missing => None,
        Value::YesNo(b) => Some(crate::derive::yes_no_label(*b).to_string()),
        Value::Category(s) | Value::Text(s) => Some(s.clone()),
        Value::Number(x) => Some(crate::derive::Value::Number(*x).to_text()),
        Value::Date(_) => Some(v.to_text()),
    }
}

/// A categorical covariate from its distinct texts (in order of
/// appearance) and each patient's index into them: its levels and each
/// patient's level.
fn levels_of(plan: &Plan, v: &str, kind: ColumnType, seen: Vec<String>, raw: &[usize]) -> Cov {
    let lv = categorical_levels(plan, v, kind, &seen);
    let remap: Vec<usize> = seen
        .iter()
        .map(|x| lv.iter().position(|l| l == x).unwrap_or(0))
        .collect();
    let code = raw.iter().map(|&k| remap[k]).collect();
    Cov::Levels(lv, code)
}

/// As `value_text(&p.value(v))` without allocating for yes/no, category and
/// text cells (`kind` is the column's plan type).
fn cell_text<'a>(
    p: &'a crate::derive::PatientRecord,
    v: &str,
    kind: ColumnType,
) -> Option<std::borrow::Cow<'a, str>> {
    use std::borrow::Cow;
    match kind {
        ColumnType::YesNo => {
            if let Some(b) = p.flag(v) {
                return Some(Cow::Borrowed(crate::derive::yes_no_label(b)));
            }
        }
        ColumnType::Category | ColumnType::Text => {
            if let Some(s) = p.category(v) {
                return Some(Cow::Borrowed(s));
            }
        }
        _ => {}
    }
    value_text(&p.value(v)).map(Cow::Owned)
}

/// Run the plan's adjustment.
///
/// Contract: `spec.exposure` names a grouping of `cohort` with exactly two
/// levels (first = reference, second = exposed); `spec.covariates` name plan
/// columns, read per patient from `cohort`; `km` and `cox` are the run's
/// options for the weighted curves and models. Patients without a known
/// exposure or with a missing covariate are left out (complete cases,
/// counted in `n_dropped_missing`). Output: the propensity model, weights,
/// balance and per-endpoint weighted results at `spec.times` (the plan's
/// landmarks when empty). Never panics on user data: a result that cannot be
/// computed at all (exposure absent or not two levels, one arm empty, no
/// covariate left, propensity model failing or separated) is reported in
/// `error` with the fields computed so far; dropped covariates, positivity
/// and other problems are flagged in `warnings`, per-endpoint fit failures
/// in that endpoint's `notes`.
pub fn analyse_adjustment(
    plan: &Plan,
    cohort: &Cohort,
    spec: &AdjustmentSpec,
    km: &KmOptions,
    cox: &CoxOptions,
) -> AdjustmentResult {
    let estimand = spec.estimand.iptw();
    let times = if spec.times.is_empty() {
        plan.analysis.landmarks.clone()
    } else {
        spec.times.clone()
    };
    let mut res = AdjustmentResult {
        exposure: spec.exposure.clone(),
        exposure_label: spec.exposure.clone(),
        reference_level: String::new(),
        exposed_level: String::new(),
        estimand: spec.estimand,
        stabilized: spec.stabilized,
        trim: spec.trim,
        weights_formula: format!(
            "{}{}",
            match estimand {
                Estimand::Ate => "ATE: exposed 1/ps, reference 1/(1 - ps)",
                Estimand::Att => "ATT: exposed 1, reference ps/(1 - ps)",
                Estimand::Ato => "ATO (overlap): exposed 1 - ps, reference ps",
            },
            if spec.stabilized {
                "; stabilized: exposed x p, reference x (1 - p), p = marginal_exposed_proportion"
            } else {
                ""
            }
        ),
        balance_formula: "SMD = (mean_exposed - mean_reference) / sqrt((var_exposed + var_reference) / 2); unweighted group variances (n - 1) of the retained patients before and after; means unweighted before, sum(w x)/sum(w) after; categories per level (0/1 indicators)".into(),
        covariates: vec![],
        covariates_left_out: vec![],
        n_exposure: 0,
        n_complete: 0,
        n_dropped_missing: 0,
        n_trimmed: 0,
        n_analysed: 0,
        marginal_exposed_proportion: None,
        ps_model: None,
        weights: vec![],
        balance: vec![],
        times: times.clone(),
        endpoints: vec![],
        error: None,
        warnings: vec![],
    };
    let Some(g) = cohort.grouping(&spec.exposure) else {
        res.error = Some(format!(
            "exposure grouping '{}' could not be formed from the data (a column it needs is absent)",
            spec.exposure
        ));
        return res;
    };
    res.exposure_label = g.label.clone();
    if g.levels.len() != 2 {
        res.error = Some(format!(
            "exposure '{}' has {} levels in the data ({}); propensity-score weighting compares exactly two",
            g.label,
            g.levels.len(),
            g.levels.join(", ")
        ));
        return res;
    }
    res.reference_level = g.levels[0].clone();
    res.exposed_level = g.levels[1].clone();
    let li = g.levels_by_patient();
    let exposure_known = |i: &usize| li.get(*i).is_some();
    res.n_exposure = (0..cohort.patients.len()).filter(exposure_known).count();

    // covariates present in the file
    let mut vars: Vec<(String, String, ColumnType)> = vec![];
    for c in &spec.covariates {
        let Some(col) = plan.column(c) else { continue };
        if cohort.absent_columns.iter().any(|a| a == &col.name) {
            res.covariates_left_out.push(col.name.clone());
            res.warnings.push(format!(
                "covariate '{}' is not in the data file; left out of the propensity model",
                col.name
            ));
            continue;
        }
        vars.push((col.name.clone(), col.display_label().to_string(), col.kind));
    }
    // yes/no and category covariates read by their codes
    let coded: Vec<Option<crate::derive::CodedColumn>> = vars
        .iter()
        .map(|(v, _, k)| match k {
            ColumnType::YesNo | ColumnType::Category => cohort.coded_column(v),
            _ => None,
        })
        .collect();
    // (u32: a cohort has at most MAX_ROWS patients)
    let complete: Vec<u32> = (0..cohort.patients.len())
        .filter(exposure_known)
        .filter(|&i| {
            let p = &cohort.patients[i];
            vars.iter().zip(&coded).all(|((v, _, k), c)| match (k, c) {
                (ColumnType::Number, _) => p.number(v).is_some(),
                (_, Some(c)) => c.code(p) != 0,
                _ => cell_text(p, v, *k).is_some(),
            })
        })
        .map(|i| u32::try_from(i).expect("a cohort has at most MAX_ROWS patients"))
        .collect();
    let complete_rows = || complete.iter().map(|&i| i as usize);
    res.n_complete = complete.len();
    res.n_dropped_missing = res.n_exposure - complete.len();
    if res.n_dropped_missing > 0 {
        res.warnings.push(format!(
            "{} of {} patients with a known exposure lack a covariate value and are left out (complete cases)",
            res.n_dropped_missing, res.n_exposure
        ));
    }
    let treat: Vec<bool> = complete_rows().map(|i| li.get(i) == Some(1)).collect();
    let n1 = treat.iter().filter(|&&t| t).count();
    if n1 == 0 || n1 == treat.len() {
        res.error = Some(format!(
            "exposure '{}': {} complete cases, all '{}'; weighting needs patients in both arms",
            g.label,
            treat.len(),
            if n1 == 0 { &g.levels[0] } else { &g.levels[1] }
        ));
        return res;
    }

    // design
    let mut design: Vec<(String, Vec<f64>)> = vec![];
    // balance columns: (variable, label, level, values); the values are a
    // design column's where there is one (no second copy per patient)
    let mut bal_cols: Vec<(String, String, Option<String>, BalValues)> = vec![];
    for ((v, label, kind), coded) in vars.iter().zip(&coded) {
        let c = match (kind, coded) {
            (ColumnType::Number, _) => Cov::Number(
                complete_rows()
                    .map(|i| cohort.patients[i].number(v).unwrap_or(f64::NAN))
                    .collect(),
            ),
            (_, Some(c)) => {
                // distinct values in order of appearance and each patient's
                // index into them, by code
                let mut seen: Vec<String> = vec![];
                let mut index: Vec<Option<usize>> = vec![None; c.codes()];
                let raw: Vec<usize> = complete_rows()
                    .map(|i| {
                        let code = c.code(&cohort.patients[i]);
                        *index[code as usize].get_or_insert_with(|| {
                            seen.push(c.text(code).to_string());
                            seen.len() - 1
                        })
                    })
                    .collect();
                levels_of(plan, v, *kind, seen, &raw)
            }
            _ => {
                // distinct values in order of appearance and each patient's
                // index into them (no per-row allocation)
                let mut seen: Vec<String> = vec![];
                let mut index: std::collections::HashMap<String, usize> = Default::default();
                let raw: Vec<usize> = complete_rows()
                    .map(|i| {
                        let t = cell_text(&cohort.patients[i], v, *kind).unwrap_or_default();
                        match index.get(&*t) {
                            Some(&k) => k,
                            None => {
                                let t = t.into_owned();
                                index.insert(t.clone(), seen.len());
                                seen.push(t);
                                seen.len() - 1
                            }
                        }
                    })
                    .collect();
                levels_of(plan, v, *kind, seen, &raw)
            }
        };
        match c {
            Cov::Number(x) => {
                let first = x.first().copied().unwrap_or(0.0);
                if x.iter().all(|&a| a == first) {
                    res.covariates_left_out.push(v.clone());
                    res.warnings.push(format!(
                        "covariate '{v}' has one value ({first}) among the complete cases; left out of the propensity model"
                    ));
                    continue;
                }
                design.push((v.clone(), x));
                let col = BalValues::Design(design.len() - 1);
                bal_cols.push((v.clone(), label.clone(), None, col));
            }
            Cov::Levels(lv, code) => {
                if lv.len() < 2 {
                    res.covariates_left_out.push(v.clone());
                    res.warnings.push(format!(
                        "covariate '{v}' has one level ({}) among the complete cases; left out of the propensity model",
                        lv.first().map_or("none", |s| s.as_str())
                    ));
                    continue;
                }
                for (k, l) in lv.iter().enumerate() {
                    let ind: Vec<f64> = code
                        .iter()
                        .map(|&c| if c == k { 1.0 } else { 0.0 })
                        .collect();
                    let col = if k > 0 {
                        design.push((format!("{v}{l}"), ind));
                        BalValues::Design(design.len() - 1)
                    } else {
                        BalValues::Own(ind)
                    };
                    bal_cols.push((v.clone(), label.clone(), Some(l.clone()), col));
                }
            }
        }
        res.covariates.push(v.clone());
    }
    if design.is_empty() {
        res.error = Some("no covariate is left for the propensity model".into());
        return res;
    }
    let mut fit = match logistic_fit(&treat, &design, &LogisticOptions::default()) {
        Ok(f) => f,
        Err(e) => {
            res.error = Some(format!("the propensity model could not be fitted: {e}"));
            return res;
        }
    };
    if let Some(s) = &fit.separation {
        let mut big: Vec<&survkit::logistic::LogisticTerm> = fit.terms.iter().skip(1).collect();
        big.sort_by(|a, b| b.coef.abs().total_cmp(&a.coef.abs()));
        res.error = Some(format!(
            "the propensity model shows separation ({} patients with fitted probability within 1e-8 of 0 or 1 after {} IRLS iterations{}): the exposure is (almost) perfectly predicted, so coefficients and weights would be meaningless; largest coefficients: {}. Remove or coarsen a covariate, or restrict the cohort to where both arms occur",
            s.n_fitted_near_0_or_1,
            fit.iterations,
            if s.not_converged { "; IRLS did not converge" } else { "" },
            big.iter().take(3).map(|t| format!("{} = {:.4} (se {:.4})", t.term, t.coef, t.se)).collect::<Vec<_>>().join(", ")
        ));
        return res;
    }
    let ps_all = std::mem::take(&mut fit.fitted);
    let range = |want: bool| {
        let v: Vec<f64> = (0..treat.len())
            .filter(|&i| treat[i] == want)
            .map(|i| ps_all[i])
            .collect();
        (
            v.iter().copied().fold(f64::INFINITY, f64::min),
            v.iter().copied().fold(f64::NEG_INFINITY, f64::max),
        )
    };
    let (r0, r1) = (range(false), range(true));
    res.ps_model = Some(PsModel {
        call: format!(
            "glm({} ~ {}, family = binomial)",
            spec.exposure,
            res.covariates.join(" + ")
        ),
        n: treat.len(),
        terms: fit
            .terms
            .iter()
            .map(|t| PsTerm {
                term: t.term.clone(),
                coef: t.coef,
                se: t.se,
                z: t.z,
                p: t.p,
            })
            .collect(),
        deviance: fit.deviance,
        null_deviance: fit.null_deviance,
        aic: fit.aic,
        iterations: fit.iterations,
        converged: fit.converged,
        ps_range: vec![
            PsRange {
                level: g.levels[0].clone(),
                min: r0.0,
                max: r0.1,
            },
            PsRange {
                level: g.levels[1].clone(),
                min: r1.0,
                max: r1.1,
            },
        ],
    });
    // the complete cases kept by the trim (`None`: all of them, and no
    // index of them is made)
    let trimmed: Option<Vec<usize>> = spec
        .trim
        .map(|q| {
            (0..treat.len())
                .filter(|&i| ps_all[i] >= q && ps_all[i] <= 1.0 - q)
                .collect::<Vec<_>>()
        })
        .filter(|k| k.len() < treat.len());
    let keep = trimmed.as_deref();
    res.n_analysed = keep.map_or(treat.len(), <[usize]>::len);
    res.n_trimmed = treat.len() - res.n_analysed;
    let tr: Vec<bool> = kept(treat.clone(), keep);
    let ps: Vec<f64> = kept(ps_all, keep);
    let n1 = tr.iter().filter(|&&t| t).count();
    if n1 == 0 || n1 == tr.len() {
        res.error = Some(format!(
            "trim = {}: no '{}' patients are left after trimming",
            spec.trim.unwrap_or(0.0),
            if n1 == 0 { &g.levels[1] } else { &g.levels[0] }
        ));
        return res;
    }
    let (w, pbar) = ps_weights(&tr, &ps, estimand, spec.stabilized);
    res.marginal_exposed_proportion = Some(pbar);
    for (lvl, arm) in [(&g.levels[0], false), (&g.levels[1], true)] {
        let s = weight_summary(lvl, &w, Arm { treated: &tr, arm });
        if s.max > EXTREME_WEIGHT * s.mean {
            res.warnings.push(format!(
                "extreme weights: the largest weight in arm '{lvl}' is {:.3}, more than {EXTREME_WEIGHT} times the arm's mean {:.3}; consider trim or estimand = \"ato\"",
                s.max, s.mean
            ));
        }
        if s.ess < 0.5 * s.n as f64 {
            res.warnings.push(format!(
                "arm '{lvl}': effective sample size {:.1} is less than half of its {} patients (highly variable weights)",
                s.ess, s.n
            ));
        }
        res.weights.push(s);
    }
    let n_extreme = ps
        .iter()
        .filter(|&&e| !(PS_FLAG..=1.0 - PS_FLAG).contains(&e))
        .count();
    if n_extreme > 0 {
        res.warnings.push(format!(
            "positivity: {n_extreme} patients have a propensity score below {PS_FLAG} or above {} (min {:.3e}, max {:.4}); consider trim",
            1.0 - PS_FLAG,
            ps.iter().copied().fold(f64::INFINITY, f64::min),
            ps.iter().copied().fold(f64::NEG_INFINITY, f64::max)
        ));
    }
    for (v, label, level, x) in &bal_cols {
        let x: &[f64] = match x {
            BalValues::Design(j) => &design[*j].1,
            BalValues::Own(x) => x,
        };
        let xk: std::borrow::Cow<[f64]> = match keep {
            Some(k) => k.iter().map(|&i| x[i]).collect(),
            None => x.into(),
        };
        let term = match level {
            Some(l) => format!("{v}{l}"),
            None => v.clone(),
        };
        let row = balance_row(&term, &xk, &w, &tr);
        if row.smd_after.abs() > SMD_FLAG {
            res.warnings.push(format!(
                "imbalance after weighting: |SMD| of {term} is {:.3} (> {SMD_FLAG})",
                row.smd_after.abs()
            ));
        }
        res.balance.push(BalanceEntry {
            variable: v.clone(),
            label: label.clone(),
            level: level.clone(),
            row,
        });
    }

    // per endpoint
    let codes = if spec.endpoints.is_empty() {
        &plan.analysis.endpoints
    } else {
        &spec.endpoints
    };
    // the patient of the k-th kept complete case
    let patient_of_kept = |k: usize| complete[keep.map_or(k, |v| v[k])] as usize;
    // the row-level buffers of the propensity model and the balance table
    // are not needed by the endpoints' analyses: free them first
    drop((ps, bal_cols, fit));
    // per endpoint (in plan order): the weighted analyses, with the
    // endpoint and its times for the g-formula below
    let per_endpoint = |code: &String| -> Option<(&EndpointData, Vec<f64>, AdjustedEndpoint)> {
        let ep = cohort.endpoint(code)?;
        // the adjustment's times are in the study's unit; the endpoint's may differ
        let scale = |t: f64| {
            plan.endpoint(code)
                .map_or(t, |e| plan.to_endpoint_unit(e, t))
        };
        let times: Vec<f64> = times.iter().map(|&t| scale(t)).collect();
        // the rows of kept patients with a record, as the four columns the
        // weighted analyses read (no list of row tuples: 24 bytes a row
        // held at the adjustment's peak)
        let m = (0..tr.len())
            .filter(|&k| ep.records[patient_of_kept(k)].is_some())
            .count();
        let (mut time, mut event, mut wt, mut gi) = (
            Vec::with_capacity(m),
            Vec::with_capacity(m),
            Vec::with_capacity(m),
            Vec::with_capacity(m),
        );
        for k in 0..tr.len() {
            let i = patient_of_kept(k);
            if let Some(r) = &ep.records[i] {
                time.push(ep.time_of(i, r));
                event.push(r.event);
                wt.push(w[k]);
                gi.push(usize::from(tr[k]));
            }
        }
        let mut out = AdjustedEndpoint {
            endpoint: ep.code.clone(),
            endpoint_label: ep.label.clone(),
            n: time.len(),
            events: event.iter().filter(|&&e| e).count(),
            arms: vec![],
            cox: None,
            adjusted: None,
            notes: vec![],
        };
        let sr = SurvRows {
            stop: &time,
            event: &event,
            start: None,
            weight: Some(&wt),
            id: None,
        };
        match kaplan_meier_rows_by_group(&sr, &gi, 2, KmVariance::Robust, km) {
            Ok(fits) => {
                for (a, f) in fits.into_iter().enumerate() {
                    let lvl = &g.levels[a];
                    match f {
                        Ok(f) => out.arms.push(weighted_arm(lvl, &f, &gi, &event, a, &times)),
                        Err(e) => out
                            .notes
                            .push(format!("weighted Kaplan-Meier of arm '{lvl}': {e}")),
                    }
                }
            }
            Err(e) => out.notes.push(format!("weighted Kaplan-Meier: {e}")),
        }
        let mut d = Design::default();
        d.add_numeric(
            &format!("{}{}", spec.exposure, g.levels[1]),
            gi.iter().map(|&x| x as f64).collect(),
        );
        // the weighted Cox result reports no concordance: not computed
        let copts = CoxOptions {
            variance: Variance::Robust,
            concordance: survkit::cox::ConcordanceChoice::Skip,
            ..*cox
        };
        match cox_fit_rows(
            &time,
            &event,
            &d,
            None,
            None,
            &CoxRows {
                start: None,
                weight: Some(&wt),
            },
            &copts,
        ) {
            Ok(f) => out.cox = weighted_cox(&f),
            Err(e) => out.notes.push(format!("weighted Cox model: {e}")),
        }
        Some((ep, times, out))
    };
    // one endpoint after the other: this whole analysis is one job of the
    // study's job list, which already keeps both cores busy (in parallel the
    // two endpoints' row-level buffers were held at once); every weighted
    // analysis first, so that the weights (and, with a trim, the index of
    // the kept cases) are freed before the g-formulas
    let mut weighted: Vec<_> = codes.iter().filter_map(per_endpoint).collect();
    drop((w, tr, trimmed));
    for (ep, times, out) in &mut weighted {
        // g-formula on the complete cases (untrimmed, unweighted)
        // (complete case, time, event) as three columns: the row list is
        // dropped once the design is built, before the fit
        let m = complete_rows().filter(|&i| ep.records[i].is_some()).count();
        let (mut gk, mut gtime, mut gevent) = (
            Vec::with_capacity(m),
            Vec::with_capacity(m),
            Vec::with_capacity(m),
        );
        for (k, i) in complete_rows().enumerate() {
            if let Some(r) = &ep.records[i] {
                gk.push(k);
                gtime.push(ep.time_of(i, r));
                gevent.push(r.event);
            }
        }
        let rows = GRows {
            case: gk,
            time: gtime,
            event: gevent,
        };
        out.adjusted = gformula(rows, &treat, &mut design, &spec.exposure, cox, times)
            .map_err(|e| out.notes.push(format!("g-formula adjusted survival: {e}")))
            .ok();
    }
    res.endpoints = weighted.into_iter().map(|(_, _, out)| out).collect();
    res
}

/// `v` at the rows `keep`, or all of `v` (not copied) when `keep` is `None`.
fn kept<T: Copy>(v: Vec<T>, keep: Option<&[usize]>) -> Vec<T> {
    match keep {
        None => v,
        Some(k) => k.iter().map(|&i| v[i]).collect(),
    }
}

/// The values of a balance-table column.
enum BalValues {
    /// Those of design column `.0`.
    Design(usize),
    /// Its own (a category's reference level, not in the design).
    Own(Vec<f64>),
}

fn weighted_arm(
    level: &str,
    f: &WeightedKmFit,
    gi: &[usize],
    event: &[bool],
    a: usize,
    times: &[f64],
) -> WeightedArm {
    let m = f.median();
    let at = times
        .iter()
        .map(|&t| {
            let p = f.at(t);
            AtTime {
                time: t,
                surv: p.surv,
                std_err: p.std_err_surv,
                lower: p.lower,
                upper: p.upper,
                n_risk: p.n_risk,
            }
        })
        .collect();
    WeightedArm {
        level: level.to_string(),
        n: gi.iter().filter(|&&x| x == a).count(),
        events: gi.iter().zip(event).filter(|(&x, &e)| x == a && e).count(),
        weighted_events: f.n_event_total,
        median: m.estimate,
        median_lower: m.lower,
        median_upper: m.upper,
        at,
        curve: WeightedCurve {
            time: f.time.clone(),
            n_risk: f.n_risk.clone(),
            n_event: f.n_event.clone(),
            n_censor: f.n_censor.clone(),
            surv: f.surv.clone(),
            std_err: f.std_err_surv.clone(),
            lower: f.lower.clone(),
            upper: f.upper.clone(),
        },
    }
}

fn weighted_cox(f: &CoxFit) -> Option<WeightedCox> {
    let t = f.terms.first()?;
    Some(WeightedCox {
        term: t.term.clone(),
        coef: t.coef,
        robust_se: t.robust_se.unwrap_or(t.se),
        naive_se: f
            .var
            .first()
            .and_then(|r| r.first())
            .map_or(f64::NAN, |v| v.sqrt()),
        z: t.z,
        p: t.p,
        hr: t.hr,
        hr_lower: t.hr_lower,
        hr_upper: t.hr_upper,
        robust_score_stat: f.robust_score_test.map(|s| s.stat),
        robust_score_p: f.robust_score_test.map(|s| s.p),
        warnings: f.warnings.clone(),
    })
}

/// The g-formula's rows: each one's complete case (index into the
/// treatment and covariates), time and event.
struct GRows {
    case: Vec<usize>,
    time: Vec<f64>,
    event: Vec<bool>,
}

/// g-formula adjusted survival (module docs, step 7) on `rows`. When the
/// rows are every complete case in order (an endpoint every patient has),
/// the covariate columns move into the outcome model's design and back
/// instead of being copied; `cov` is as it was either way.
fn gformula(
    rows: GRows,
    treat: &[bool],
    cov: &mut [(String, Vec<f64>)],
    exposure: &str,
    cox: &CoxOptions,
    times: &[f64],
) -> Result<GFormula, String> {
    let GRows { case, time, event } = rows;
    let n = case.len();
    let mut d = Design::default();
    d.add_numeric(
        exposure,
        case.iter()
            .map(|&k| if treat[k] { 1.0 } else { 0.0 })
            .collect(),
    );
    let every_case = case.iter().enumerate().all(|(i, &k)| i == k)
        && cov.iter().all(|(_, c)| c.len() == case.len());
    for (name, c) in cov.iter_mut() {
        let column = if every_case {
            std::mem::take(c)
        } else {
            case.iter().map(|&k| c[k]).collect()
        };
        d.add_numeric(name, column);
    }
    drop(case);
    // only the coefficients and their variance are used
    let opts = CoxOptions {
        ties: survkit::cox::Ties::Efron,
        variance: Variance::ModelBased,
        concordance: survkit::cox::ConcordanceChoice::Skip,
        ..*cox
    };
    // the fit and the g-formula share one collapse of the rows into cells
    let fitted =
        survkit::gformula::cox_fit_and_gformula(&time, &event, &d, 1, &opts, times, cox.conf_level);
    if every_case {
        // the columns back to the adjustment's design (column 0 is the exposure)
        for ((_, c), column) in cov.iter_mut().zip(d.columns.drain(1..)) {
            *c = column;
        }
    }
    let (fit, g) = fitted.map_err(|e| e.to_string())?;
    if fit.terms.iter().any(|t| !t.coef.is_finite()) {
        return Err("the outcome model has a non-finite coefficient".into());
    }
    let g = g.map_err(|e| e.to_string())?;
    let (c0, c1, dd) = (&g.curves[0], &g.curves[1], &g.differences[0]);
    Ok(GFormula {
        n,
        events: event.iter().filter(|&&e| e).count(),
        exposure_coef: fit.terms[0].coef,
        times: times.to_vec(),
        difference: dd.estimate.clone(),
        surv_reference: c0.surv.clone(),
        surv_exposed: c1.surv.clone(),
        se_method: GFORMULA_SE_METHOD.into(),
        se_reference: c0.se.clone(),
        lower_reference: c0.lower.clone(),
        upper_reference: c0.upper.clone(),
        se_exposed: c1.se.clone(),
        lower_exposed: c1.lower.clone(),
        upper_exposed: c1.upper.clone(),
        difference_se: dd.se.clone(),
        difference_lower: dd.lower.clone(),
        difference_upper: dd.upper.clone(),
        difference_p: dd.p.clone(),
        ci_method: gformula_ci_method(cox.conf_level),
        warnings: fit.warnings.clone(),
    })
}
