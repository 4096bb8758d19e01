//! `survstudy adjusted`: covariate-adjusted (standardized, g-formula)
//! survival per treatment level (Robins 1986; Makuch 1982 "direct adjusted
//! survival"). With the Efron Cox fit `coxph(Surv ~ A + covariates)`, for
//! each level a every analysed row is given A = a and its predicted curve
//! Ŝ_i(t | a) = exp(−Ĥ₀(t)·exp((x_i(a) − x̄)ᵀβ̂)) (R `survfit(fit, newdata)`:
//! Efron-corrected baseline, Ĥ₀ increments Σ_{k<d} 1/(S_R − (k/d) S_D) at
//! each event time with centred risk scores), then
//! Ŝ(t | a) = (1/n) Σ_i Ŝ_i(t | a), evaluated as the step function at the
//! last event time ≤ t; differences Ŝ(t | a) − Ŝ(t | reference). Equals
//! riskRegression's `ate(..., estimator = "GFORMULA")` point estimates.
//!
//! Standard errors and confidence intervals are **not computed** (neither
//! ate's influence functions nor a bootstrap is implemented yet): the
//! output says so in `se_method` and carries no SE fields.

use serde_json::Value;
use survkit::cox::{cox_fit, CoxFit, CoxOptions, Design, Ties};

use super::iptw::{covariates, model_vars, not_number_hint, var_requests};
use super::table::{ColKind, Column};
use super::{file_name, load, AdhocError, SurvSpec};

/// Options of `survstudy adjusted`.
#[derive(Debug, Clone)]
pub struct AdjustedArgs {
    /// The data file, time and event columns.
    pub surv: SurvSpec,
    /// `--treatment`: the column whose levels are compared (first sorted level = reference).
    pub treatment: String,
    /// `--covariates`: adjustment columns of the Cox model.
    pub covariates: Vec<String>,
    /// `--factor`: covariates read as categories.
    pub factors: Vec<String>,
    /// `--at`: times of the adjusted survival.
    pub at: Vec<f64>,
}

/// Result of `survstudy adjusted`.
#[derive(Debug, Clone)]
pub struct AdjustedReport {
    /// The options the command ran with.
    pub args: AdjustedArgs,
    /// Rows read.
    pub n_read: usize,
    /// Rows dropped for missing values.
    pub n_dropped: usize,
    /// Rows analysed.
    pub n: usize,
    /// Treatment levels in sorted order (the first is the reference).
    pub levels: Vec<String>,
    /// Ŝ(t | level) at `at`, one vector per level.
    pub surv: Vec<Vec<f64>>,
    /// The Cox outcome model `Surv ~ treatment + covariates` (Efron).
    pub fit: CoxFit,
    /// Input warnings (e.g. an event value that matches no row), then the
    /// Cox fit's (non-convergence, infinite coefficients).
    pub warnings: Vec<String>,
}

/// Run `survstudy adjusted`.
pub fn adjusted_cmd(args: &AdjustedArgs) -> Result<AdjustedReport, AdhocError> {
    let file = file_name(&args.surv.data);
    let vars = model_vars(&args.covariates, &args.factors);
    if vars.contains(&args.treatment) {
        return Err(AdhocError::Usage(format!(
            "the treatment '{}' cannot also be a covariate",
            args.treatment
        )));
    }
    if args.at.is_empty() {
        return Err(AdhocError::Usage(
            "--at needs at least one time, e.g. --at 365,730".into(),
        ));
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
    let n = d.time.len();
    let mut cols = d.extra.into_iter();
    let Some(Column::Text { codes, levels }) = cols.next() else {
        unreachable!("treatment is read as text")
    };
    let labels: Vec<&str> = codes.iter().map(|&c| levels[c as usize].as_str()).collect();
    let mut design = Design::default();
    let lv = design.add_factor(&args.treatment, &labels, None);
    if lv.len() < 2 {
        return Err(AdhocError::Usage(format!(
            "{file}: treatment '{}' has one level in the analysed rows; adjusted curves compare levels",
            args.treatment
        )));
    }
    let n_trt = lv.len() - 1;
    let cov = covariates(&file, &vars, cols.collect())?;
    for (name, c) in cov.design {
        design.add_numeric(&name, c);
    }
    let fit = cox_fit(
        &d.time,
        &d.event,
        &design,
        None,
        &CoxOptions {
            ties: Ties::Efron,
            ..Default::default()
        },
    )?;
    let beta: Vec<f64> = fit.terms.iter().map(|t| t.coef).collect();
    let p = beta.len();
    // centred risk scores for the Efron baseline cumulative hazard
    let r: Vec<f64> = (0..n)
        .map(|i| {
            (0..p)
                .map(|j| (design.columns[j][i] - fit.means[j]) * beta[j])
                .sum::<f64>()
                .exp()
        })
        .collect();
    let bh = survkit::cox::baseline::efron_baseline(&d.time, &d.event, &r);
    let h_at: Vec<f64> = args.at.iter().map(|&t| bh.at(t)).collect();
    // linear predictor without the treatment columns, then set A = a
    let base: Vec<f64> = (0..n)
        .map(|i| {
            (n_trt..p)
                .map(|j| (design.columns[j][i] - fit.means[j]) * beta[j])
                .sum::<f64>()
                - (0..n_trt).map(|j| fit.means[j] * beta[j]).sum::<f64>()
        })
        .collect();
    let mut surv = vec![];
    for a in 0..lv.len() {
        let shift = if a == 0 { 0.0 } else { beta[a - 1] };
        let s: Vec<f64> = h_at
            .iter()
            .map(|&h| {
                base.iter()
                    .map(|&b| (-h * (b + shift).exp()).exp())
                    .sum::<f64>()
                    / n as f64
            })
            .collect();
        surv.push(s);
    }
    let warnings = d.warnings.iter().chain(&fit.warnings).cloned().collect();
    Ok(AdjustedReport {
        warnings,
        args: args.clone(),
        n_read: d.n_read,
        n_dropped: d.n_dropped,
        n,
        levels: lv,
        surv,
        fit,
    })
}

const SE_METHOD: &str = "not computed: point estimates only (no influence-function or bootstrap standard errors in this version)";

impl AdjustedReport {
    /// The `--json` document.
    pub fn to_json(&self) -> Value {
        use super::json::{self, json_nums, JsonNum};
        let reference = &self.levels[0];
        json::to_value(&json::AdjustedJson {
            command: "adjusted",
            method: "g-formula (standardization): mean over all analysed rows of survfit(coxph(Surv ~ treatment + covariates, ties = \"efron\"), newdata with the treatment set to each level)",
            se_method: SE_METHOD,
            warnings: &self.warnings,
            n_read: self.n_read,
            n_dropped: self.n_dropped,
            n: self.n,
            treatment: &self.args.treatment,
            levels: &self.levels,
            at: json_nums(&self.args.at),
            survival: self
                .levels
                .iter()
                .zip(&self.surv)
                .map(|(l, s)| json::AdjustedCurveJson {
                    level: l,
                    surv: json_nums(s),
                })
                .collect(),
            difference: self
                .levels
                .iter()
                .zip(&self.surv)
                .skip(1)
                .map(|(l, s)| json::AdjustedDifferenceJson {
                    level: l,
                    reference,
                    estimate: s.iter().zip(&self.surv[0]).map(|(a, b)| JsonNum(a - b)).collect(),
                })
                .collect(),
            difference_definition: "S(t | level) - S(t | reference)",
            cox: json::AdjustedCoxJson {
                terms: self
                    .fit
                    .terms
                    .iter()
                    .map(|t| json::AdjustedCoxTermJson {
                        term: &t.term,
                        coef: JsonNum(t.coef),
                        se: JsonNum(t.se),
                    })
                    .collect(),
                loglik: JsonNum(self.fit.loglik),
                loglik_null: JsonNum(self.fit.loglik_null),
                iterations: self.fit.iterations,
                n: self.fit.n,
                nevent: self.fit.nevent,
            },
        })
    }
}

impl std::fmt::Display for AdjustedReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let g = |x: f64| super::format::sig(x, 4);
        writeln!(
            f,
            "Adjusted (g-formula) survival by {}: Cox model Surv ~ {} + {}, Efron, n = {}, {} events{}",
            self.args.treatment,
            self.args.treatment,
            model_vars(&self.args.covariates, &self.args.factors).join(" + "),
            self.n,
            self.fit.nevent,
            if self.n_dropped > 0 {
                format!(" ({} rows dropped for missing values)", self.n_dropped)
            } else {
                String::new()
            }
        )?;
        write!(f, "{:>10}", "time")?;
        for l in &self.levels {
            write!(f, " {:>12}", format!("S({l})"))?;
        }
        for l in self.levels.iter().skip(1) {
            write!(f, " {:>14}", format!("{l} - {}", self.levels[0]))?;
        }
        writeln!(f)?;
        for (k, &t) in self.args.at.iter().enumerate() {
            write!(f, "{:>10}", g(t))?;
            for s in &self.surv {
                write!(f, " {:>12}", g(s[k]))?;
            }
            for s in self.surv.iter().skip(1) {
                write!(f, " {:>14}", g(s[k] - self.surv[0][k]))?;
            }
            writeln!(f)?;
        }
        writeln!(f, "Standard errors: {SE_METHOD}")
    }
}
