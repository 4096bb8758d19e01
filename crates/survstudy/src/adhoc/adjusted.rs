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
//! Standard errors: influence functions, Wald CIs, exactly as
//! riskRegression `ate(estimator = "GFORMULA")`; see [`survkit::gformula`].

use serde_json::Value;
use survkit::cox::{cox_fit, CoxFit, CoxOptions, Design, Ties};
use survkit::gformula::{gformula, GFormula};

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
    /// The g-formula estimates with influence-function SEs and Wald CIs.
    pub gformula: GFormula,
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
    let g = gformula(&d.time, &d.event, &design, n_trt, &fit, &args.at, 0.95)?;
    let warnings = d.warnings.iter().chain(&fit.warnings).cloned().collect();
    Ok(AdjustedReport {
        warnings,
        args: args.clone(),
        n_read: d.n_read,
        n_dropped: d.n_dropped,
        n,
        levels: lv,
        gformula: g,
        fit,
    })
}

const SE_METHOD: &str = "influence functions as riskRegression::ate(estimator = \"GFORMULA\"): the averaging over the sample's covariates plus the Cox fit's coefficients and baseline hazard (riskRegression iidCox); SE = sqrt(sum of squared influence values)";
const CI_METHOD: &str = "Wald, estimate +/- 1.96 SE (ate's default, no transform: on the risk scale 1 - S, the same symmetric interval), clipped to [0, 1] for survival and [-1, 1] for differences; p: two-sided Wald test of no difference";

impl AdjustedReport {
    /// The `--json` document.
    pub fn to_json(&self) -> Value {
        use super::json::{self, json_nums, JsonNum};
        let reference = &self.levels[0];
        let g = &self.gformula;
        json::to_value(&json::AdjustedJson {
            command: "adjusted",
            method: "g-formula (standardization): mean over all analysed rows of survfit(coxph(Surv ~ treatment + covariates, ties = \"efron\"), newdata with the treatment set to each level)",
            se_method: SE_METHOD,
            ci_method: CI_METHOD,
            conf_level: g.conf_level,
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
                .zip(&g.curves)
                .map(|(l, c)| json::AdjustedCurveJson {
                    level: l,
                    surv: json_nums(&c.surv),
                    se: json_nums(&c.se),
                    lower: json_nums(&c.lower),
                    upper: json_nums(&c.upper),
                })
                .collect(),
            difference: g
                .differences
                .iter()
                .map(|d| json::AdjustedDifferenceJson {
                    level: &self.levels[d.level],
                    reference,
                    estimate: json_nums(&d.estimate),
                    se: json_nums(&d.se),
                    lower: json_nums(&d.lower),
                    upper: json_nums(&d.upper),
                    p: json_nums(&d.p),
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
        let gf = &self.gformula;
        let ci = |lo: f64, hi: f64| {
            if lo.is_nan() {
                "-".to_string()
            } else {
                format!("({}, {})", g(lo), g(hi))
            }
        };
        writeln!(
            f,
            "{:>10} {:>10} {:>10} {:>10} {:>22}",
            "time", "level", "S(t)", "SE", "95% CI"
        )?;
        for (k, &t) in self.args.at.iter().enumerate() {
            for (l, c) in self.levels.iter().zip(&gf.curves) {
                writeln!(
                    f,
                    "{:>10} {:>10} {:>10} {:>10} {:>22}",
                    g(t),
                    l,
                    g(c.surv[k]),
                    g(c.se[k]),
                    ci(c.lower[k], c.upper[k])
                )?;
            }
        }
        writeln!(f, "Difference S(t | level) - S(t | {}):", self.levels[0])?;
        writeln!(
            f,
            "{:>10} {:>10} {:>10} {:>10} {:>22} {:>10}",
            "time", "level", "diff", "SE", "95% CI", "p"
        )?;
        for (k, &t) in self.args.at.iter().enumerate() {
            for d in &gf.differences {
                writeln!(
                    f,
                    "{:>10} {:>10} {:>10} {:>10} {:>22} {:>10}",
                    g(t),
                    self.levels[d.level],
                    g(d.estimate[k]),
                    g(d.se[k]),
                    ci(d.lower[k], d.upper[k]),
                    super::format::pval(d.p[k])
                )?;
            }
        }
        writeln!(f, "Standard errors: {SE_METHOD}")?;
        writeln!(f, "Confidence intervals: {CI_METHOD}")
    }
}
