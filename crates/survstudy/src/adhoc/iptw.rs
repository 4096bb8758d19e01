//! `survstudy iptw`: propensity-score weighting with balance diagnostics and
//! weighted survival analyses.
//!
//! 1. Complete cases of time, event, treatment and covariates (R `na.omit`).
//! 2. Propensity score e(x) = P(treat = 1 | x) by `glm(treat ~ covariates,
//!    family = binomial)` ([`survkit::logistic`]); separation is refused.
//! 3. `--trim Q`: rows with e < Q or e > 1 − Q are dropped (not refitted).
//! 4. Weights (Rosenbaum & Rubin 1983; Li, Morgan & Zaslavsky 2018 for
//!    overlap): ATE 1/e and 1/(1 − e); ATT 1 and e/(1 − e); ATO 1 − e and e;
//!    `--stabilized` multiplies treated weights by p̂ and control weights by
//!    1 − p̂, p̂ = mean(treat) of the retained rows.
//! 5. Per group n, Σw, min, max, mean and Kish's ESS = (Σw)²/Σw².
//! 6. Balance (Austin 2009): SMD = (m₁ − m₀)/sqrt((s₁² + s₀²)/2) with the
//!    unweighted group variances (denominator n_g − 1) of the retained rows,
//!    before (unweighted means) and after (Σwx/Σw); factors per level as 0/1
//!    indicators.
//! 7. Weighted KM per arm with infinitesimal-jackknife SE (R `survfit(Surv ~
//!    treat, weights = w, robust = TRUE)`) and weighted Cox with robust SE and
//!    robust score test (R `coxph(Surv ~ treat, weights = w, robust = TRUE)`).

use std::path::PathBuf;

use serde_json::Value;
use survkit::cox::{CoxOptions, CoxRows, Design, Variance};
use survkit::km::KmOptions;
use survkit::logistic::{logistic_fit, LogisticFit, LogisticOptions};
use survkit::wkm::{kaplan_meier_rows_by_group, KmVariance, RobustReason, SurvRows};

use super::observational::{RowData, RowSpec, WkmGroup, WkmReport};
use super::table::{ColKind, Column, TableError};
use super::{file_name, load, AdhocError, CoxReport, SurvSpec};

/// Target population of the weights.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Estimand {
    /// Average treatment effect (whole population): 1/e, 1/(1 − e).
    #[default]
    Ate,
    /// Average effect on the treated: 1, e/(1 − e).
    Att,
    /// Overlap population: 1 − e, e.
    Ato,
}

impl Estimand {
    /// Parse `--estimand` (`ate`, `att` or `ato`, any case).
    pub fn parse(s: &str) -> Result<Estimand, AdhocError> {
        match s.to_ascii_lowercase().as_str() {
            "ate" => Ok(Estimand::Ate),
            "att" => Ok(Estimand::Att),
            "ato" | "overlap" => Ok(Estimand::Ato),
            other => Err(AdhocError::Usage(format!(
                "unknown --estimand '{other}' (ate, att or ato)"
            ))),
        }
    }
    /// The estimand as written in the JSON (`ate`, `att`, `ato`).
    pub fn as_str(self) -> &'static str {
        match self {
            Estimand::Ate => "ate",
            Estimand::Att => "att",
            Estimand::Ato => "ato",
        }
    }
    fn formula(self) -> &'static str {
        match self {
            Estimand::Ate => "ATE: treated 1/ps, control 1/(1 - ps)",
            Estimand::Att => "ATT: treated 1, control ps/(1 - ps)",
            Estimand::Ato => "ATO (overlap): treated 1 - ps, control ps",
        }
    }
}

/// Options of `survstudy iptw`.
#[derive(Debug, Clone)]
pub struct IptwArgs {
    /// The data file, time and event columns.
    pub surv: SurvSpec,
    /// `--treatment`: the 0/1 treatment column.
    pub treatment: String,
    /// `--covariates`: propensity-model columns.
    pub covariates: Vec<String>,
    /// `--factor`: covariates read as categories.
    pub factors: Vec<String>,
    /// `--estimand`: target population of the weights.
    pub estimand: Estimand,
    /// `--stabilized`: multiply the weights by the marginal proportions.
    pub stabilized: bool,
    /// `--trim Q`: drop rows with ps outside [Q, 1 − Q].
    pub trim: Option<f64>,
    /// `--out FILE`: copy of the input with `ps` and `weight` columns.
    pub out: Option<PathBuf>,
}

/// Weight summary of one arm.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct WeightSummary {
    /// Treatment level.
    pub group: String,
    /// Rows in the group.
    pub n: usize,
    /// Sum of the weights.
    pub sum: f64,
    /// Smallest weight.
    pub min: f64,
    /// Largest weight.
    pub max: f64,
    /// Mean weight.
    pub mean: f64,
    /// Kish's effective sample size (Σw)²/Σw².
    pub ess: f64,
}

/// Balance of one covariate (or factor level).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct BalanceRow {
    /// Design term (a factor level as its indicator).
    pub term: String,
    /// Unweighted mean among the treated.
    pub mean_treated_before: f64,
    /// Unweighted mean among the controls.
    pub mean_control_before: f64,
    /// Weighted mean among the treated.
    pub mean_treated_after: f64,
    /// Weighted mean among the controls.
    pub mean_control_after: f64,
    /// Unweighted variance among the treated (denominator n − 1).
    pub var_treated: f64,
    /// Unweighted variance among the controls (denominator n − 1).
    pub var_control: f64,
    /// sqrt((var_treated + var_control) / 2).
    pub sd_pooled: f64,
    /// Standardized mean difference before weighting.
    pub smd_before: f64,
    /// Standardized mean difference after weighting.
    pub smd_after: f64,
}

/// Result of `survstudy iptw`.
#[derive(Debug, Clone)]
pub struct IptwReport {
    /// The options the command ran with.
    pub args: IptwArgs,
    /// Rows read.
    pub n_read: usize,
    /// Rows dropped for missing values.
    pub n_dropped: usize,
    /// Rows analysed after trimming.
    pub n_analysed: usize,
    /// Rows the propensity model was fitted on (complete cases).
    pub n_fitted: usize,
    /// Rows removed by `--trim`.
    pub n_trimmed: usize,
    /// Proportion treated among the retained rows.
    pub marginal_treated_proportion: f64,
    /// The propensity-score logistic regression.
    pub ps_model: LogisticFit,
    /// Levels of each factor covariate, by column.
    pub factor_levels: Vec<(String, Vec<String>)>,
    /// 1-based data row and ps of every analysed row (before trimming).
    pub rows: Vec<usize>,
    /// Weight summaries per treatment group.
    pub weights: Vec<WeightSummary>,
    /// Balance of each term before and after weighting.
    pub balance: Vec<BalanceRow>,
    /// Weighted Kaplan–Meier per arm (robust SE).
    pub km: WkmReport,
    /// Weighted Cox model of the treatment (robust SE).
    pub cox: CoxReport,
    /// Flags: positivity, extreme weights, imbalance after weighting.
    pub warnings: Vec<String>,
}

/// Covariates of a model: design columns (factor indicators expanded, first
/// sorted level = reference), plus every factor level's indicator for balance.
pub(crate) struct Covariates {
    pub design: Vec<(String, Vec<f64>)>,
    pub balance_cols: Vec<(String, Vec<f64>)>,
    pub factor_levels: Vec<(String, Vec<String>)>,
}

/// Build [`Covariates`] from loaded columns (in `vars` order). A covariate
/// with one distinct value is an error (it cannot be estimated).
pub(crate) fn covariates(
    file: &str,
    vars: &[String],
    cols: Vec<Column>,
) -> Result<Covariates, AdhocError> {
    let mut out = Covariates {
        design: vec![],
        balance_cols: vec![],
        factor_levels: vec![],
    };
    for (v, c) in vars.iter().zip(cols) {
        match c {
            Column::Number(x) => {
                let first = x.first().copied().unwrap_or(0.0);
                if x.iter().all(|&a| a == first) {
                    return Err(AdhocError::Usage(format!(
                        "{file}: covariate '{v}' has one value ({first}) in the analysed rows; drop it from --covariates"
                    )));
                }
                out.design.push((v.clone(), x.clone()));
                out.balance_cols.push((v.clone(), x));
            }
            Column::Text { codes, levels } => {
                let labels: Vec<&str> =
                    codes.iter().map(|&k| levels[k as usize].as_str()).collect();
                let mut d = Design::default();
                let lv = d.add_factor(v, &labels, None);
                if lv.len() < 2 {
                    return Err(AdhocError::Usage(format!(
                        "{file}: factor '{v}' has one level ({}) in the analysed rows; drop it from --covariates",
                        lv.first().map_or("none", |s| s.as_str())
                    )));
                }
                for l in &lv {
                    out.balance_cols.push((
                        format!("{v}{l}"),
                        labels
                            .iter()
                            .map(|x| if x == l { 1.0 } else { 0.0 })
                            .collect(),
                    ));
                }
                for (n, col) in d.names.into_iter().zip(d.columns) {
                    out.design.push((n, col));
                }
                out.factor_levels.push((v.clone(), lv));
            }
        }
    }
    Ok(out)
}

/// The column kinds of `vars` (factors as text).
pub(crate) fn var_requests(vars: &[String], factors: &[String]) -> Vec<(String, ColKind)> {
    vars.iter()
        .map(|v| {
            let k = if factors.contains(v) {
                ColKind::Text
            } else {
                ColKind::Number
            };
            (v.clone(), k)
        })
        .collect()
}

/// Model columns: `--covariates` then any `--factor` not already listed.
pub(crate) fn model_vars(covariates: &[String], factors: &[String]) -> Vec<String> {
    let mut vars = covariates.to_vec();
    for f in factors {
        if !vars.contains(f) {
            vars.push(f.clone());
        }
    }
    vars
}

/// Map `load`'s "not a number" error to one that suggests `--factor`.
pub(crate) fn not_number_hint(e: AdhocError, time: &str) -> AdhocError {
    match e {
        AdhocError::Table {
            file,
            source:
                TableError::NotNumber {
                    line,
                    column,
                    value,
                },
        } => AdhocError::Value {
            file,
            line,
            message: if column == time {
                "time is not a number".to_string()
            } else {
                format!("not a number (list it in --factor {column} to treat it as categorical)")
            },
            column,
            value,
        },
        other => other,
    }
}

/// The 0/1 treatment of each row; anything else is an error naming the values.
pub(crate) fn binary_treatment(
    file: &str,
    name: &str,
    col: Column,
) -> Result<Vec<bool>, AdhocError> {
    let Column::Text { codes, levels } = col else {
        unreachable!("treatment is read as text")
    };
    let mut used = vec![false; levels.len()];
    for &c in &codes {
        used[c as usize] = true;
    }
    let present: Vec<&String> = levels
        .iter()
        .zip(&used)
        .filter(|(_, u)| **u)
        .map(|(l, _)| l)
        .collect();
    let val: Vec<Option<bool>> = levels.iter().map(|l| super::truthy(l)).collect();
    if let Some(bad) = present.iter().find(|l| super::truthy(l.as_str()).is_none()) {
        return Err(AdhocError::Usage(format!(
            "{file}: treatment column '{name}' must be 0/1 (1 = treated); found value '{bad}' among {} distinct values ({})",
            present.len(),
            present.iter().take(6).map(|s| s.as_str()).collect::<Vec<_>>().join(", ")
        )));
    }
    let t: Vec<bool> = codes
        .iter()
        .map(|&c| val[c as usize] == Some(true))
        .collect();
    let n1 = t.iter().filter(|&&x| x).count();
    if n1 == 0 || n1 == t.len() {
        return Err(AdhocError::Usage(format!(
            "{file}: treatment column '{name}' has one level in the analysed rows ({} rows, all {}); weighting needs treated and control rows",
            t.len(),
            if n1 == 0 { "0" } else { "1" }
        )));
    }
    Ok(t)
}

/// `K` sums over the rows of each arm (`[control, treated]`): `f(i, arm)`
/// of every row added to its arm's sums in row order, from −0.0, as
/// `Iterator::sum` adds them (the same bits as summing over an index of
/// each arm's rows), in one pass with no branch on the arm.
fn arm_sums<const K: usize>(
    treated: &[bool],
    f: impl Fn(usize, usize) -> [f64; K],
) -> [[f64; K]; 2] {
    let mut s = [[-0.0f64; K]; 2];
    for (i, &t) in treated.iter().enumerate() {
        let a = usize::from(t);
        let v = f(i, a);
        for k in 0..K {
            s[a][k] += v[k];
        }
    }
    s
}

/// The rows of one arm: those whose `treated` flag equals `arm`, in row
/// order (read where they are needed: no index of the rows is kept).
#[derive(Clone, Copy)]
pub struct Arm<'a> {
    /// Each row's treated flag.
    pub treated: &'a [bool],
    /// The flag of this arm's rows.
    pub arm: bool,
}

/// Propensity-score weights of each row (see the module docs, step 4) and
/// the marginal treated proportion p̂ used by the stabilisation.
pub fn ps_weights(
    treated: &[bool],
    ps: &[f64],
    estimand: Estimand,
    stabilized: bool,
) -> (Vec<f64>, f64) {
    let n1 = treated.iter().filter(|&&x| x).count();
    let pbar = n1 as f64 / treated.len() as f64;
    let w = treated
        .iter()
        .zip(ps)
        .map(|(&t, &e)| {
            let raw = match (estimand, t) {
                (Estimand::Ate, true) => 1.0 / e,
                (Estimand::Ate, false) => 1.0 / (1.0 - e),
                (Estimand::Att, true) => 1.0,
                (Estimand::Att, false) => e / (1.0 - e),
                (Estimand::Ato, true) => 1.0 - e,
                (Estimand::Ato, false) => e,
            };
            if stabilized {
                raw * if t { pbar } else { 1.0 - pbar }
            } else {
                raw
            }
        })
        .collect();
    (w, pbar)
}

/// Σw, min, max, mean and Kish's ESS (Σw)²/Σw² of the weights of the rows of `arm`.
pub fn weight_summary(group: &str, w: &[f64], arm: Arm) -> WeightSummary {
    let [sums0, sums1] = arm_sums(arm.treated, |i, _| [w[i], w[i] * w[i]]);
    let [sum, ss] = if arm.arm { sums1 } else { sums0 };
    let (mut n, mut min, mut max) = (0, f64::INFINITY, f64::NEG_INFINITY);
    for (&x, _) in w.iter().zip(arm.treated).filter(|(_, &t)| t == arm.arm) {
        n += 1;
        min = min.min(x);
        max = max.max(x);
    }
    WeightSummary {
        group: group.into(),
        n,
        sum,
        min,
        max,
        mean: sum / n as f64,
        ess: sum * sum / ss,
    }
}

/// Balance of one covariate column `x` between the rows whose `treated`
/// flag is set and the others (module docs, step 6; NaN SMDs when both group
/// variances are 0).
pub fn balance_row(term: &str, x: &[f64], w: &[f64], treated: &[bool]) -> BalanceRow {
    // per arm: n, Σx, Σw, Σwx; then Σ(x − mean)²
    let s = arm_sums(treated, |i, _| [1.0, x[i], w[i], w[i] * x[i]]);
    let mean = s.map(|[n, sx, _, _]| sx / n);
    let ss = arm_sums(treated, |i, a| [(x[i] - mean[a]).powi(2)]);
    let var = [0, 1].map(|a| ss[a][0] / (s[a][0] - 1.0));
    let after = s.map(|[_, _, sw, swx]| swx / sw);
    let ((m1, v1), (m0, v0)) = ((mean[1], var[1]), (mean[0], var[0]));
    let (a1, a0) = (after[1], after[0]);
    let sd = ((v1 + v0) / 2.0).sqrt();
    let (sb, sa) = if sd > 0.0 {
        ((m1 - m0) / sd, (a1 - a0) / sd)
    } else {
        (f64::NAN, f64::NAN)
    };
    BalanceRow {
        term: term.to_string(),
        mean_treated_before: m1,
        mean_control_before: m0,
        mean_treated_after: a1,
        mean_control_after: a0,
        var_treated: v1,
        var_control: v0,
        sd_pooled: sd,
        smd_before: sb,
        smd_after: sa,
    }
}

/// Run `survstudy iptw`.
pub fn iptw_cmd(args: &IptwArgs) -> Result<IptwReport, AdhocError> {
    let file = file_name(&args.surv.data);
    let vars = model_vars(&args.covariates, &args.factors);
    if vars.is_empty() {
        return Err(AdhocError::Usage(
            "--covariates needs at least one column".into(),
        ));
    }
    if vars.contains(&args.treatment) {
        return Err(AdhocError::Usage(format!(
            "the treatment '{}' cannot also be a covariate",
            args.treatment
        )));
    }
    if let Some(q) = args.trim {
        if !(q > 0.0 && q < 0.5) {
            return Err(AdhocError::Usage(format!(
                "--trim {q}: must be in (0, 0.5) (rows with ps outside [Q, 1 - Q] are dropped)"
            )));
        }
    }
    let mut extra = vec![(args.treatment.clone(), ColKind::Text)];
    extra.extend(var_requests(&vars, &args.factors));
    let d = load(&args.surv, &extra).map_err(|e| not_number_hint(e, &args.surv.time))?;
    if d.time.is_empty() {
        return Err(AdhocError::Usage(format!(
            "{file}: no rows left after dropping {} with missing values",
            d.n_dropped
        )));
    }
    let mut cols = d.extra.into_iter();
    let treat = binary_treatment(&file, &args.treatment, cols.next().expect("treatment"))?;
    let cov = covariates(&file, &vars, cols.collect())?;
    let fit = logistic_fit(&treat, &cov.design, &LogisticOptions::default())?;
    if let Some(s) = &fit.separation {
        let mut big: Vec<&survkit::logistic::LogisticTerm> = fit.terms.iter().skip(1).collect();
        big.sort_by(|a, b| b.coef.abs().total_cmp(&a.coef.abs()));
        return Err(AdhocError::Usage(format!(
            "{file}: the propensity model shows separation ({} rows with fitted probability within 1e-8 of 0 or 1 after {} IRLS iterations{}): the treatment is (almost) perfectly predicted, so the coefficients and weights are meaningless; largest coefficients: {}. Remove or coarsen the covariate, or restrict the cohort to where both treatments occur",
            s.n_fitted_near_0_or_1,
            fit.iterations,
            if s.not_converged { "; IRLS did not converge in 25 iterations" } else { "" },
            big.iter().take(3).map(|t| format!("{} = {:.4} (se {:.4})", t.term, t.coef, t.se)).collect::<Vec<_>>().join(", ")
        )));
    }
    let ps_all = fit.fitted.clone();
    let n_analysed = treat.len();
    let keep: Vec<usize> = match args.trim {
        Some(q) => (0..n_analysed)
            .filter(|&i| ps_all[i] >= q && ps_all[i] <= 1.0 - q)
            .collect(),
        None => (0..n_analysed).collect(),
    };
    let n_trimmed = n_analysed - keep.len();
    let pick = |v: &[f64]| keep.iter().map(|&i| v[i]).collect::<Vec<f64>>();
    let tr: Vec<bool> = keep.iter().map(|&i| treat[i]).collect();
    let ps = pick(&ps_all);
    let n1 = tr.iter().filter(|&&x| x).count();
    if n1 == 0 || n1 == tr.len() {
        return Err(AdhocError::Usage(format!(
            "--trim {}: no {} rows are left after trimming",
            args.trim.unwrap_or(0.0),
            if n1 == 0 { "treated" } else { "control" }
        )));
    }
    let (w, pbar) = ps_weights(&tr, &ps, args.estimand, args.stabilized);
    // input warnings first (e.g. an event value that matches no row)
    let mut warnings = d.warnings.clone();
    let mut weights = vec![];
    for (g, arm) in [("1", true), ("0", false)] {
        let s = weight_summary(g, &w, Arm { treated: &tr, arm });
        if s.max > 10.0 * s.mean {
            warnings.push(format!(
                "extreme weights: the largest weight in group {g} is {:.3}, more than 10 times the group mean {:.3}; consider --trim or --estimand ato",
                s.max, s.mean
            ));
        }
        if s.ess < 0.5 * s.n as f64 {
            warnings.push(format!(
                "group {g}: effective sample size {:.1} is less than half of its {} rows (highly variable weights)",
                s.ess, s.n
            ));
        }
        weights.push(s);
    }
    let n_extreme = ps.iter().filter(|&&e| !(0.01..=0.99).contains(&e)).count();
    if n_extreme > 0 {
        warnings.push(format!(
            "positivity: {n_extreme} rows have a propensity score below 0.01 or above 0.99 (min {:.3e}, max {:.4}); consider --trim",
            ps.iter().copied().fold(f64::INFINITY, f64::min),
            ps.iter().copied().fold(f64::NEG_INFINITY, f64::max)
        ));
    }
    let mut balance = vec![];
    for (term, x) in &cov.balance_cols {
        let b = balance_row(term, &pick(x), &w, &tr);
        if b.smd_after.abs() > 0.1 {
            warnings.push(format!(
                "imbalance after weighting: |SMD| of {term} is {:.3} (> 0.1)",
                b.smd_after.abs()
            ));
        }
        balance.push(b);
    }
    // weighted analyses
    let time = pick(&d.time);
    let event: Vec<bool> = keep.iter().map(|&i| d.event[i]).collect();
    let gi: Vec<usize> = tr.iter().map(|&t| usize::from(t)).collect();
    let sr = SurvRows {
        stop: &time,
        event: &event,
        start: None,
        weight: Some(&w),
        id: None,
    };
    let fits = kaplan_meier_rows_by_group(&sr, &gi, 2, KmVariance::Robust, &KmOptions::default())?;
    let mut groups = vec![];
    for (label, f) in ["0", "1"].into_iter().zip(fits) {
        groups.push(WkmGroup {
            label: label.into(),
            strata: format!("{}={label}", args.treatment),
            fit: f?,
        });
    }
    let km = WkmReport {
        n_dropped: d.n_dropped,
        n_read: d.n_read,
        groups,
        robust: true,
        robust_reason: Some(RobustReason::Requested),
        at: vec![],
        rows: RowSpec {
            weights: Some("iptw weight".into()),
            start: None,
            id: None,
        },
        // the input warnings are the iptw report's own
        warnings: vec![],
    };
    let mut design = Design::default();
    design.add_numeric(
        &args.treatment,
        tr.iter().map(|&t| if t { 1.0 } else { 0.0 }).collect(),
    );
    let cox_fit = survkit::cox::cox_fit_rows(
        &time,
        &event,
        &design,
        None,
        None,
        &CoxRows {
            start: None,
            weight: Some(&w),
        },
        &CoxOptions {
            variance: Variance::Robust,
            ..Default::default()
        },
    )?;
    let cox = CoxReport {
        n_dropped: d.n_dropped,
        n_read: d.n_read,
        fit: cox_fit,
        time,
        event,
        design,
        strata_index: None,
        term_columns: vec![(args.treatment.clone(), vec![0])],
        cluster: None,
        strata: None,
        references: vec![],
        rows: RowData {
            start: None,
            weight: Some(w.clone()),
            id: None,
        },
        robust_reason: Some(RobustReason::Requested),
        // Efron ties with the default options: R's preset
        preset: Some(crate::analysis::Conventions::R),
    };
    if let Some(out) = &args.out {
        let mut psw: Vec<Option<(f64, Option<f64>)>> = vec![None; d.n_read];
        for i in 0..n_analysed {
            psw[d.kept[i]] = Some((ps_all[i], None));
        }
        for (k, &i) in keep.iter().enumerate() {
            psw[d.kept[i]] = Some((ps_all[i], Some(w[k])));
        }
        write_out(&args.surv.data, out, &psw)?;
    }
    Ok(IptwReport {
        args: args.clone(),
        n_read: d.n_read,
        n_dropped: d.n_dropped,
        n_analysed: keep.len(),
        n_fitted: n_analysed,
        n_trimmed,
        marginal_treated_proportion: pbar,
        ps_model: fit,
        factor_levels: cov.factor_levels,
        rows: d.kept.iter().map(|&i| i + 1).collect(),
        weights,
        balance,
        km,
        cox,
        warnings,
    })
}

/// Copy the input CSV adding `ps` and `weight` (NA for rows not analysed;
/// `weight` NA for trimmed rows).
fn write_out(
    input: &std::path::Path,
    out: &std::path::Path,
    psw: &[Option<(f64, Option<f64>)>],
) -> Result<(), AdhocError> {
    let io = |e: String| AdhocError::Usage(format!("--out {}: {e}", out.display()));
    let mut rdr = csv::ReaderBuilder::new()
        .flexible(true)
        .from_path(input)
        .map_err(|e| io(e.to_string()))?;
    let mut wtr = csv::Writer::from_path(out).map_err(|e| io(e.to_string()))?;
    let mut header: Vec<String> = rdr
        .headers()
        .map_err(|e| io(e.to_string()))?
        .iter()
        .map(String::from)
        .collect();
    header.push("ps".into());
    header.push("weight".into());
    wtr.write_record(&header).map_err(|e| io(e.to_string()))?;
    for (i, rec) in rdr.records().enumerate() {
        let rec = rec.map_err(|e| io(e.to_string()))?;
        let mut row: Vec<String> = rec.iter().map(String::from).collect();
        let (p, w) = match psw.get(i).copied().flatten() {
            Some((p, w)) => (
                format!("{p}"),
                w.map_or("NA".to_string(), |w| format!("{w}")),
            ),
            None => ("NA".into(), "NA".into()),
        };
        row.push(p);
        row.push(w);
        wtr.write_record(&row).map_err(|e| io(e.to_string()))?;
    }
    wtr.flush().map_err(|e| io(e.to_string()))?;
    Ok(())
}

impl IptwReport {
    /// The `--json` document.
    pub fn to_json(&self) -> Value {
        use super::json::{self, json_nums, JsonNum};
        let f = &self.ps_model;
        let mut cox = self.cox.json_doc();
        cox.command = "cox (weighted, robust)";
        let mut km = self.km.json_doc();
        km.command = "km (weighted, robust)";
        json::to_value(&json::IptwJson {
            command: "iptw",
            estimand: self.args.estimand.as_str(),
            stabilized: self.args.stabilized,
            trim: self.args.trim,
            n_read: self.n_read,
            n_dropped: self.n_dropped,
            n_analysed: self.n_analysed,
            n_fitted: self.n_fitted,
            n_trimmed: self.n_trimmed,
            marginal_treated_proportion: JsonNum(self.marginal_treated_proportion),
            ps_model: json::PsModelJson {
                call: format!(
                    "glm({} ~ {}, family = binomial)",
                    self.args.treatment,
                    model_vars(&self.args.covariates, &self.args.factors).join(" + ")
                ),
                n: self.n_fitted,
                terms: f.terms.iter().map(Into::into).collect(),
                deviance: JsonNum(f.deviance),
                null_deviance: JsonNum(f.null_deviance),
                aic: JsonNum(f.aic),
                iterations: f.iterations,
                converged: f.converged,
                factor_levels: json::factor_levels(&self.factor_levels),
                convergence: "IRLS as glm.fit: |dev - dev_old|/(|dev| + 0.1) < 1e-8, max 25 iterations",
                row: &self.rows,
                ps: json_nums(&f.fitted),
            },
            weights_formula: format!(
                "{}{}",
                self.args.estimand.formula(),
                if self.args.stabilized {
                    "; stabilized: treated x p, control x (1 - p), p = marginal_treated_proportion"
                } else {
                    ""
                }
            ),
            weights: self
                .weights
                .iter()
                .map(|s| json::WeightSummaryJson {
                    group: &s.group,
                    n: s.n,
                    sum: JsonNum(s.sum),
                    min: JsonNum(s.min),
                    max: JsonNum(s.max),
                    mean: JsonNum(s.mean),
                    ess: JsonNum(s.ess),
                })
                .collect(),
            balance_formula: "SMD = (mean_treated - mean_control) / sqrt((var_treated + var_control) / 2); unweighted group variances (n - 1) of the retained rows before and after; means unweighted before, sum(w x)/sum(w) after; factors per level (0/1 indicators)",
            balance: self
                .balance
                .iter()
                .map(|b| json::BalanceJson {
                    term: &b.term,
                    mean_treated_before: JsonNum(b.mean_treated_before),
                    mean_control_before: JsonNum(b.mean_control_before),
                    mean_treated_after: JsonNum(b.mean_treated_after),
                    mean_control_after: JsonNum(b.mean_control_after),
                    var_treated: JsonNum(b.var_treated),
                    var_control: JsonNum(b.var_control),
                    sd_pooled: JsonNum(b.sd_pooled),
                    smd_before: JsonNum(b.smd_before),
                    smd_after: JsonNum(b.smd_after),
                })
                .collect(),
            km,
            cox,
            warnings: &self.warnings,
        })
    }
}

impl std::fmt::Display for IptwReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let g = |x: f64| super::format::sig(x, 4);
        writeln!(
            f,
            "Propensity score: glm({} ~ {}, family = binomial), n = {}{}",
            self.args.treatment,
            model_vars(&self.args.covariates, &self.args.factors).join(" + "),
            self.n_fitted,
            if self.n_dropped > 0 {
                format!(" ({} rows dropped for missing values)", self.n_dropped)
            } else {
                String::new()
            }
        )?;
        writeln!(
            f,
            "{:>14} {:>10} {:>10} {:>8} {:>10}",
            "", "Estimate", "Std. Error", "z value", "Pr(>|z|)"
        )?;
        for t in &self.ps_model.terms {
            writeln!(
                f,
                "{:>14} {:>10} {:>10} {:>8} {:>10}",
                t.term,
                g(t.coef),
                g(t.se),
                g(t.z),
                g(t.p)
            )?;
        }
        writeln!(
            f,
            "Null deviance {} , residual deviance {} , AIC {} , {} IRLS iterations",
            g(self.ps_model.null_deviance),
            g(self.ps_model.deviance),
            g(self.ps_model.aic),
            self.ps_model.iterations
        )?;
        writeln!(
            f,
            "\nWeights: {}{}{}",
            self.args.estimand.formula(),
            if self.args.stabilized {
                format!(", stabilized (p = {})", g(self.marginal_treated_proportion))
            } else {
                String::new()
            },
            match self.args.trim {
                Some(q) => format!(
                    ", trimmed ps outside [{q}, {}]: {} rows dropped",
                    1.0 - q,
                    self.n_trimmed
                ),
                None => String::new(),
            }
        )?;
        writeln!(
            f,
            "{:>6} {:>6} {:>10} {:>10} {:>10} {:>10} {:>10}",
            "group", "n", "sum", "min", "max", "mean", "ESS"
        )?;
        for s in &self.weights {
            writeln!(
                f,
                "{:>6} {:>6} {:>10} {:>10} {:>10} {:>10} {:>10}",
                s.group,
                s.n,
                g(s.sum),
                g(s.min),
                g(s.max),
                g(s.mean),
                g(s.ess)
            )?;
        }
        writeln!(
            f,
            "\nBalance (SMD = mean difference / sqrt((var_treated + var_control)/2), unweighted variances)"
        )?;
        writeln!(f, "{:>14} {:>12} {:>12}", "term", "SMD before", "SMD after")?;
        for b in &self.balance {
            writeln!(
                f,
                "{:>14} {:>12} {:>12}",
                b.term,
                g(b.smd_before),
                g(b.smd_after)
            )?;
        }
        writeln!(
            f,
            "\nWeighted (pseudo-population) Kaplan-Meier; n.risk and n.event are weighted sums"
        )?;
        write!(f, "{}", self.km)?;
        writeln!(f, "\nWeighted Cox model, robust SE")?;
        write!(f, "{}", self.cox)?;
        for w in &self.warnings {
            writeln!(f, "warning: {w}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The one-pass per-arm sums are, bit for bit, sums over an index of
    /// each arm's rows, and the balance row and weight summary are those
    /// of the arms' own rows.
    #[test]
    fn arm_sums_are_the_sums_over_each_arms_rows() {
        let mut rng = crate::synth::rng::Rng::new(7);
        let mut rnd = || rng.uniform();
        let n = 1001;
        let treated: Vec<bool> = (0..n).map(|_| rnd() < 0.4).collect();
        let x: Vec<f64> = (0..n).map(|_| rnd() * 1e3 - 300.0).collect();
        let w: Vec<f64> = (0..n).map(|_| 0.1 + rnd() * 5.0).collect();
        let s = arm_sums(&treated, |i, _| [x[i], w[i] * x[i]]);
        for arm in [false, true] {
            let idx: Vec<usize> = (0..n).filter(|&i| treated[i] == arm).collect();
            let a = usize::from(arm);
            let sx: f64 = idx.iter().map(|&i| x[i]).sum();
            let swx: f64 = idx.iter().map(|&i| w[i] * x[i]).sum();
            assert_eq!(s[a][0].to_bits(), sx.to_bits());
            assert_eq!(s[a][1].to_bits(), swx.to_bits());
            let m = sx / idx.len() as f64;
            let v = idx.iter().map(|&i| (x[i] - m).powi(2)).sum::<f64>() / (idx.len() as f64 - 1.0);
            let sw: f64 = idx.iter().map(|&i| w[i]).sum();
            let b = balance_row("x", &x, &w, &treated);
            let (bm, bv, ba) = if arm {
                (b.mean_treated_before, b.var_treated, b.mean_treated_after)
            } else {
                (b.mean_control_before, b.var_control, b.mean_control_after)
            };
            assert_eq!((bm, bv, ba), (m, v, swx / sw));
            let ws = weight_summary(
                "g",
                &w,
                Arm {
                    treated: &treated,
                    arm,
                },
            );
            let ss: f64 = idx.iter().map(|&i| w[i] * w[i]).sum();
            assert_eq!((ws.n, ws.sum, ws.ess), (idx.len(), sw, sw * sw / ss));
            let lo = idx.iter().map(|&i| w[i]).fold(f64::INFINITY, f64::min);
            assert_eq!(ws.min, lo);
        }
        // an empty arm gives NaN means, not a panic
        let none = vec![false; n];
        assert!(balance_row("x", &x, &w, &none).mean_treated_before.is_nan());
    }
}
