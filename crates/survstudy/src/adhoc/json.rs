//! The `--json` documents of the ad-hoc commands as `Serialize` structs
//! (one per command), so the JSON contract is a type rather than literals.
//!
//! Field names are the documented ones. The documents are turned into a
//! [`serde_json::Value`] before printing ([`to_value`]), whose object keys
//! are sorted, so the printed bytes do not depend on the field order here.

use serde::Serialize;
use serde_json::Value;

/// A JSON number as the oracle writes it: NaN → `null`, ±∞ → `"Inf"` /
/// `"-Inf"`, else the number.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct JsonNum(pub f64);

impl Serialize for JsonNum {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let x = self.0;
        if x.is_nan() {
            s.serialize_none()
        } else if x == f64::INFINITY {
            s.serialize_str("Inf")
        } else if x == f64::NEG_INFINITY {
            s.serialize_str("-Inf")
        } else {
            s.serialize_f64(x)
        }
    }
}

/// Every value of `v` as a [`JsonNum`].
pub fn json_nums(v: &[f64]) -> Vec<JsonNum> {
    v.iter().copied().map(JsonNum).collect()
}

/// The document as a JSON value (object keys sorted). The documents hold
/// only strings, numbers and string-keyed maps, so this cannot fail; a
/// failure would give `null` rather than a panic.
pub fn to_value<T: Serialize>(doc: &T) -> Value {
    serde_json::to_value(doc).unwrap_or(Value::Null)
}

/// `survstudy zph --json`.
#[derive(Debug, Clone, Serialize)]
pub struct ZphJson<'a> {
    /// Always `"zph"`.
    pub command: &'static str,
    /// The conventions used.
    pub conventions: ZphConventions<'a>,
    /// Rows read.
    pub n_read: usize,
    /// Rows dropped (missing values).
    pub n_dropped: usize,
    /// One test per term, then `GLOBAL`.
    pub tests: Vec<ZphTestJson<'a>>,
    /// Transformed event times.
    pub time: Vec<JsonNum>,
    /// Transformed time at each event (R's `x`).
    pub x: Vec<JsonNum>,
    /// Names of the columns of `y`.
    pub y_columns: &'a [String],
    /// Scaled Schoenfeld residuals, one row per event.
    pub y: Vec<Vec<JsonNum>>,
}

/// Conventions of `zph`.
#[derive(Debug, Clone, Serialize)]
pub struct ZphConventions<'a> {
    /// Time transform, lower case (`km`, `rank`, `identity`, `log`).
    pub transform: String,
    /// Ties of the Cox fit.
    pub ties: &'a str,
    /// What the test is.
    pub test: &'static str,
}

/// One row of the zph test table.
#[derive(Debug, Clone, Serialize)]
pub struct ZphTestJson<'a> {
    /// Term name or `GLOBAL`.
    pub term: &'a str,
    /// Score statistic.
    pub chisq: JsonNum,
    /// Degrees of freedom.
    pub df: usize,
    /// p-value.
    pub p: JsonNum,
}

impl<'a> ZphTestJson<'a> {
    /// The row of one test, under the name `term`.
    pub fn new(t: &survkit::zph::ZphTest, term: &'a str) -> Self {
        ZphTestJson {
            term,
            chisq: JsonNum(t.chisq),
            df: t.df,
            p: JsonNum(t.p),
        }
    }
}

/// `survstudy logrank --json`.
#[derive(Debug, Clone, Serialize)]
pub struct LogrankJson<'a> {
    /// Always `"logrank"`.
    pub command: &'static str,
    /// The conventions used.
    pub conventions: LogrankConventions,
    /// Rows read.
    pub n_read: usize,
    /// Rows dropped (missing values).
    pub n_dropped: usize,
    /// `column=level` per group.
    pub groups: Vec<String>,
    /// Subjects per group.
    pub n: &'a [u64],
    /// Observed events per group.
    pub observed: Vec<JsonNum>,
    /// Expected events per group.
    pub expected: Vec<JsonNum>,
    /// Observed minus expected.
    pub o_minus_e: Vec<JsonNum>,
    /// Variance matrix of O − E.
    pub var: Vec<Vec<JsonNum>>,
    /// Test statistic.
    pub chisq: JsonNum,
    /// Degrees of freedom.
    pub df: usize,
    /// p-value.
    pub p: JsonNum,
    /// The ρ of the G(ρ) family.
    pub rho: f64,
    /// Strata levels (null without strata).
    pub strata: &'a Option<Vec<String>>,
    /// Input warnings.
    pub warnings: &'a [String],
}

/// Conventions of `logrank`.
#[derive(Debug, Clone, Serialize)]
pub struct LogrankConventions {
    /// Preset note (R and SAS agree).
    pub preset: &'static str,
    /// The ρ of the G(ρ) family.
    pub rho: f64,
    /// Which test.
    pub test: &'static str,
    /// How the statistic is formed.
    pub chisq: &'static str,
}

/// `survstudy km --json`.
#[derive(Debug, Clone, Serialize)]
pub struct KmJson<'a> {
    /// Always `"km"`.
    pub command: &'static str,
    /// The conventions used.
    pub conventions: KmConventions,
    /// Rows read.
    pub n_read: usize,
    /// Rows dropped (missing values).
    pub n_dropped: usize,
    /// One curve per group.
    pub groups: Vec<KmGroupJson<'a>>,
    /// Input warnings.
    pub warnings: &'a [String],
}

/// Conventions of `km`.
#[derive(Debug, Clone, Serialize)]
pub struct KmConventions {
    /// The preset chosen (`r`, `sas` or `custom`).
    pub preset: &'static str,
    /// Confidence-interval type.
    pub conf_type: &'static str,
    /// Confidence level.
    pub conf_level: f64,
    /// What `std_err` is.
    pub std_err: &'static str,
    /// The median rule.
    pub median: &'static str,
    /// The restricted mean's bound.
    pub rmean: &'static str,
}

/// One group's curve, summaries and values at the `--at` times.
#[derive(Debug, Clone, Serialize)]
pub struct KmGroupJson<'a> {
    /// `group` as documented for `km --json` in the README.
    pub group: &'a str,
    /// `strata` as documented for `km --json` in the README.
    pub strata: &'a str,
    /// `n` as documented for `km --json` in the README.
    pub n: u64,
    /// `events` as documented for `km --json` in the README.
    pub events: u64,
    /// `time` as documented for `km --json` in the README.
    pub time: Vec<JsonNum>,
    /// `n_risk` as documented for `km --json` in the README.
    pub n_risk: &'a [u64],
    /// `n_event` as documented for `km --json` in the README.
    pub n_event: &'a [u64],
    /// `n_censor` as documented for `km --json` in the README.
    pub n_censor: &'a [u64],
    /// `surv` as documented for `km --json` in the README.
    pub surv: Vec<JsonNum>,
    /// `std_err` as documented for `km --json` in the README.
    pub std_err: Vec<JsonNum>,
    /// `lower` as documented for `km --json` in the README.
    pub lower: Vec<JsonNum>,
    /// `upper` as documented for `km --json` in the README.
    pub upper: Vec<JsonNum>,
    /// `cumhaz` as documented for `km --json` in the README.
    pub cumhaz: Vec<JsonNum>,
    /// `std_chaz` as documented for `km --json` in the README.
    pub std_chaz: Vec<JsonNum>,
    /// `median` as documented for `km --json` in the README.
    pub median: Option<JsonNum>,
    /// `median_lower` as documented for `km --json` in the README.
    pub median_lower: Option<JsonNum>,
    /// `median_upper` as documented for `km --json` in the README.
    pub median_upper: Option<JsonNum>,
    /// `rmean` as documented for `km --json` in the README.
    pub rmean: JsonNum,
    /// `rmean_se` as documented for `km --json` in the README.
    pub rmean_se: JsonNum,
    /// `rmean_end` as documented for `km --json` in the README.
    pub rmean_end: JsonNum,
    /// `follow_up_median` as documented for `km --json` in the README.
    pub follow_up_median: Option<JsonNum>,
    /// `follow_up_lower` as documented for `km --json` in the README.
    pub follow_up_lower: Option<JsonNum>,
    /// `follow_up_upper` as documented for `km --json` in the README.
    pub follow_up_upper: Option<JsonNum>,
    /// `at` as documented for `km --json` in the README.
    pub at: Vec<KmAtJson>,
}

/// The curve at one `--at` time.
#[derive(Debug, Clone, Serialize)]
pub struct KmAtJson {
    /// `time` as documented for `km --json` in the README.
    pub time: JsonNum,
    /// `n_risk` as documented for `km --json` in the README.
    pub n_risk: u64,
    /// `n_event` as documented for `km --json` in the README.
    pub n_event: u64,
    /// `n_censor` as documented for `km --json` in the README.
    pub n_censor: u64,
    /// `surv` as documented for `km --json` in the README.
    pub surv: JsonNum,
    /// `std_err` as documented for `km --json` in the README.
    pub std_err: JsonNum,
    /// `lower` as documented for `km --json` in the README.
    pub lower: JsonNum,
    /// `upper` as documented for `km --json` in the README.
    pub upper: JsonNum,
}

impl From<&survkit::km::SurvAt> for KmAtJson {
    fn from(a: &survkit::km::SurvAt) -> Self {
        KmAtJson {
            time: JsonNum(a.time),
            n_risk: a.n_risk,
            n_event: a.n_event,
            n_censor: a.n_censor,
            surv: JsonNum(a.surv),
            std_err: JsonNum(a.std_err),
            lower: JsonNum(a.lower),
            upper: JsonNum(a.upper),
        }
    }
}

/// `survstudy cox --json`.
#[derive(Debug, Clone, Serialize)]
pub struct CoxJson<'a> {
    /// Always `"cox"`.
    pub command: &'static str,
    /// The conventions used.
    pub conventions: CoxConventions,
    /// Rows read.
    pub n_read: usize,
    /// Rows dropped (missing values).
    pub n_dropped: usize,
    /// Observations used.
    pub n: usize,
    /// Events.
    pub nevent: usize,
    /// One row per design column.
    pub terms: Vec<CoxTermJson<'a>>,
    /// Reference level of each factor.
    pub references: Vec<CoxReferenceJson<'a>>,
    /// Stratification column (null without strata).
    pub strata: &'a Option<String>,
    /// Log partial likelihood at β = 0.
    pub loglik_null: JsonNum,
    /// Log partial likelihood at β̂.
    pub loglik: JsonNum,
    /// Likelihood-ratio test.
    pub lr_test: TestJson,
    /// Wald test.
    pub wald_test: TestJson,
    /// Model-based score test.
    pub score_test: TestJson,
    /// Harrell's C (null when skipped).
    pub concordance: Option<JsonNum>,
    /// Standard error of `concordance`.
    pub concordance_se: Option<JsonNum>,
    /// Newton–Raphson iterations.
    pub iterations: usize,
    /// Whether the iteration converged.
    pub converged: bool,
    /// Input warnings, then the fit's.
    pub warnings: &'a [String],
    /// Robust score test (null unless robust).
    pub robust_score_test: Option<TestJson>,
    /// Clusters of a clustered robust fit (null otherwise).
    pub n_clusters: Option<usize>,
    /// Whether the variance is the robust sandwich.
    pub robust: bool,
    /// Why the fit is robust (null when it is not, or not said).
    pub robust_reason: Option<&'static str>,
}

/// Conventions of `cox`.
#[derive(Debug, Clone, Serialize)]
pub struct CoxConventions {
    /// The preset chosen (`r`, `sas` or `custom`).
    pub preset: &'static str,
    /// Tie method.
    pub ties: &'static str,
    /// Confidence level of the hazard-ratio intervals.
    pub conf_level: f64,
    /// Which variance z, p and the CIs use.
    pub variance: String,
    /// How factors are coded.
    pub factor_coding: &'static str,
    /// The convergence rule.
    pub convergence: &'static str,
}

/// One coefficient of the Cox fit.
#[derive(Debug, Clone, Serialize)]
pub struct CoxTermJson<'a> {
    /// Design column name.
    pub term: &'a str,
    /// Coefficient (log hazard ratio).
    pub coef: JsonNum,
    /// Model-based standard error.
    pub se: JsonNum,
    /// Wald z (robust SE when `robust_se` is present).
    pub z: JsonNum,
    /// p-value of `z`.
    pub p: JsonNum,
    /// Hazard ratio.
    pub hr: JsonNum,
    /// Lower limit of `hr`.
    pub hr_lower: JsonNum,
    /// Upper limit of `hr`.
    pub hr_upper: JsonNum,
    /// R's monotone-likelihood flag.
    pub possibly_infinite: bool,
    /// Robust SE: present only in robust/cluster fits.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub robust_se: Option<JsonNum>,
}

impl<'a> From<&'a survkit::cox::CoxTerm> for CoxTermJson<'a> {
    fn from(t: &'a survkit::cox::CoxTerm) -> Self {
        CoxTermJson {
            term: &t.term,
            coef: JsonNum(t.coef),
            se: JsonNum(t.se),
            z: JsonNum(t.z),
            p: JsonNum(t.p),
            hr: JsonNum(t.hr),
            hr_lower: JsonNum(t.hr_lower),
            hr_upper: JsonNum(t.hr_upper),
            possibly_infinite: t.possibly_infinite,
            robust_se: t.robust_se.map(JsonNum),
        }
    }
}

/// Reference level of one factor.
#[derive(Debug, Clone, Serialize)]
pub struct CoxReferenceJson<'a> {
    /// Factor column.
    pub factor: &'a str,
    /// Its reference level.
    pub reference: &'a str,
}

/// A global test statistic.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct TestJson {
    /// Chi-square statistic.
    pub stat: JsonNum,
    /// Degrees of freedom.
    pub df: usize,
    /// p-value.
    pub p: JsonNum,
}

impl From<&survkit::cox::TestStat> for TestJson {
    fn from(t: &survkit::cox::TestStat) -> Self {
        TestJson {
            stat: JsonNum(t.stat),
            df: t.df,
            p: JsonNum(t.p),
        }
    }
}

/// `survstudy rmst --json`.
#[derive(Debug, Clone, Serialize)]
pub struct RmstJson<'a> {
    /// Always `"rmst"`.
    pub command: &'static str,
    /// Horizon τ.
    pub tau: f64,
    /// Confidence level.
    pub conf_level: f64,
    /// Input warnings.
    pub warnings: &'a [String],
    /// Rows read.
    pub n_read: usize,
    /// Rows dropped (missing values).
    pub n_dropped: usize,
    /// The conventions used.
    pub conventions: RmstConventions,
    /// The two arms, first sorted level first.
    pub groups: [RmstArmJson<'a>; 2],
    /// RMST difference (arm 1 − arm 0).
    pub difference: RmstContrastJson,
    /// RMST ratio (arm 1 / arm 0).
    pub ratio: RmstContrastJson,
    /// Ratio of the restricted mean times lost.
    pub rmtl_ratio: RmstContrastJson,
}

/// Conventions of `rmst`.
#[derive(Debug, Clone, Serialize)]
pub struct RmstConventions {
    /// The variance used.
    pub variance: &'static str,
    /// `"<arm 1> vs <arm 0>"`.
    pub contrast: String,
}

/// One arm of `rmst`.
#[derive(Debug, Clone, Serialize)]
pub struct RmstArmJson<'a> {
    /// Group level.
    pub group: &'a str,
    /// Subjects.
    pub n: u64,
    /// Events.
    pub events: u64,
    /// Restricted mean survival time.
    pub rmst: JsonNum,
    /// Its standard error.
    pub se: JsonNum,
    /// Lower confidence limit.
    pub lower: JsonNum,
    /// Upper confidence limit.
    pub upper: JsonNum,
    /// Restricted mean time lost.
    pub rmtl: JsonNum,
}

impl<'a> RmstArmJson<'a> {
    /// The arm `a`, labelled `group`.
    pub fn new(a: &survkit::rmst::RmstArm, group: &'a str) -> Self {
        RmstArmJson {
            group,
            n: a.n,
            events: a.n_event,
            rmst: JsonNum(a.rmst),
            se: JsonNum(a.se),
            lower: JsonNum(a.lower),
            upper: JsonNum(a.upper),
            rmtl: JsonNum(a.rmtl),
        }
    }
}

/// A contrast between the two arms of `rmst`.
#[derive(Debug, Clone, Serialize)]
pub struct RmstContrastJson {
    /// Point estimate.
    pub estimate: JsonNum,
    /// Standard error (of the log for ratios).
    pub se: JsonNum,
    /// Lower confidence limit.
    pub lower: JsonNum,
    /// Upper confidence limit.
    pub upper: JsonNum,
    /// p-value.
    pub p: JsonNum,
}

impl From<&survkit::rmst::RmstContrast> for RmstContrastJson {
    fn from(c: &survkit::rmst::RmstContrast) -> Self {
        RmstContrastJson {
            estimate: JsonNum(c.estimate),
            se: JsonNum(c.se),
            lower: JsonNum(c.lower),
            upper: JsonNum(c.upper),
            p: JsonNum(c.p),
        }
    }
}

/// `survstudy cif --json`.
#[derive(Debug, Clone, Serialize)]
pub struct CifJson<'a> {
    /// Always `"cif"`.
    pub command: &'static str,
    /// The conventions used.
    pub conventions: CifConventions,
    /// Rows read.
    pub n_read: usize,
    /// Rows dropped (missing values).
    pub n_dropped: usize,
    /// Cause of interest.
    pub event_code: u32,
    /// Causes present.
    pub causes: &'a [u32],
    /// One curve per group, for the cause of interest.
    pub curves: Vec<CifCurveJson>,
    /// Gray's test for the cause of interest (null without groups).
    pub gray_test: Option<TestJson>,
    /// Gray's test for every cause.
    pub gray_tests: Vec<GrayTestJson>,
}

/// Conventions of `cif`.
#[derive(Debug, Clone, Serialize)]
pub struct CifConventions {
    /// The estimator.
    pub estimator: &'static str,
    /// The variance.
    pub variance: &'static str,
    /// Confidence-interval transform and level.
    pub ci: String,
    /// The group test.
    pub test: &'static str,
}

/// One cumulative-incidence curve.
#[derive(Debug, Clone, Serialize)]
pub struct CifCurveJson {
    /// Group level (`all` without groups).
    pub group: String,
    /// `column=level`, or `all`.
    pub strata: String,
    /// Cause.
    pub cause: u32,
    /// Subjects.
    pub n: usize,
    /// Events of this cause.
    pub events: usize,
    /// Jump times.
    pub time: Vec<JsonNum>,
    /// Cumulative incidence.
    pub est: Vec<JsonNum>,
    /// Its variance.
    pub var: Vec<JsonNum>,
    /// Lower confidence limit.
    pub lower: Vec<JsonNum>,
    /// Upper confidence limit.
    pub upper: Vec<JsonNum>,
    /// Values at the `--at` times.
    pub at: Vec<CifAtJson>,
}

/// A curve at one `--at` time; the values are null past follow-up (and,
/// as before, for a non-finite value: plain `Option<f64>`, not [`JsonNum`]).
#[derive(Debug, Clone, Serialize)]
pub struct CifAtJson {
    /// The time asked for.
    pub time: JsonNum,
    /// Cumulative incidence.
    pub est: Option<f64>,
    /// Its variance.
    pub var: Option<f64>,
    /// Lower confidence limit.
    pub lower: Option<f64>,
    /// Upper confidence limit.
    pub upper: Option<f64>,
}

impl From<&survkit::cif::CifAt> for CifAtJson {
    fn from(a: &survkit::cif::CifAt) -> Self {
        CifAtJson {
            time: JsonNum(a.time),
            est: a.est,
            var: a.var,
            lower: a.lower,
            upper: a.upper,
        }
    }
}

/// Gray's test for one cause.
#[derive(Debug, Clone, Serialize)]
pub struct GrayTestJson {
    /// Cause.
    pub cause: u32,
    /// Statistic.
    pub stat: JsonNum,
    /// Degrees of freedom.
    pub df: usize,
    /// p-value.
    pub p: JsonNum,
}

impl From<&survkit::cif::GrayTest> for GrayTestJson {
    fn from(g: &survkit::cif::GrayTest) -> Self {
        GrayTestJson {
            cause: g.cause,
            stat: JsonNum(g.stat),
            df: g.df,
            p: JsonNum(g.p),
        }
    }
}

impl From<&survkit::cif::GrayTest> for TestJson {
    fn from(g: &survkit::cif::GrayTest) -> Self {
        TestJson {
            stat: JsonNum(g.stat),
            df: g.df,
            p: JsonNum(g.p),
        }
    }
}

/// Names of the levels of each factor, keyed by factor column (`iptw` and
/// `finegray`'s `factor_levels`).
pub type FactorLevelsJson<'a> = std::collections::BTreeMap<&'a str, &'a [String]>;

/// The factor levels of a model as [`FactorLevelsJson`].
pub fn factor_levels(levels: &[(String, Vec<String>)]) -> FactorLevelsJson<'_> {
    levels
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_slice()))
        .collect()
}

/// `survstudy km --json` with `--weights`, `--start`, `--id` or `--robust`
/// (and the `km` part of `iptw`): the fields of the plain `km` (counts are
/// floats) plus `std_err_surv`, `robust` and `robust_reason`.
#[derive(Debug, Clone, Serialize)]
pub struct WkmJson<'a> {
    /// `"km"`, or `"km (weighted, robust)"` inside `iptw`.
    pub command: &'static str,
    /// The conventions used.
    pub conventions: WkmConventions<'a>,
    /// Whether the SEs are the infinitesimal-jackknife (robust) ones.
    pub robust: bool,
    /// Why the fit is robust (null when it is not).
    pub robust_reason: Option<&'static str>,
    /// Rows read.
    pub n_read: usize,
    /// Rows dropped (missing values).
    pub n_dropped: usize,
    /// One curve per group.
    pub groups: Vec<WkmGroupJson<'a>>,
    /// Input warnings.
    pub warnings: &'a [String],
}

/// Conventions of the weighted / counting-process `km`.
#[derive(Debug, Clone, Serialize)]
pub struct WkmConventions<'a> {
    /// Confidence-interval type.
    pub conf_type: &'static str,
    /// Confidence level.
    pub conf_level: f64,
    /// What `std_err` and `std_err_surv` are.
    pub std_err: &'static str,
    /// The `--weights` column (null without it).
    pub weights: &'a Option<String>,
    /// The `--start` column (null without it).
    pub start: &'a Option<String>,
    /// The `--id` column (null without it).
    pub id: &'a Option<String>,
    /// The median rule.
    pub median: &'static str,
    /// The restricted mean's bound.
    pub rmean: &'static str,
}

/// One weighted curve, its summaries and its values at the `--at` times.
#[derive(Debug, Clone, Serialize)]
pub struct WkmGroupJson<'a> {
    /// Group level (`all` without `--group`).
    pub group: &'a str,
    /// `column=level`, or `all`.
    pub strata: &'a str,
    /// Rows in the group.
    pub n: u64,
    /// Weighted number of events (same as `n_event_total`).
    pub events: f64,
    /// Weighted number of events.
    pub n_event_total: f64,
    /// Distinct times.
    pub time: Vec<JsonNum>,
    /// Weighted number at risk at each time.
    pub n_risk: Vec<JsonNum>,
    /// Weighted events at each time.
    pub n_event: Vec<JsonNum>,
    /// Weighted censorings at each time.
    pub n_censor: Vec<JsonNum>,
    /// Survival S(t).
    pub surv: Vec<JsonNum>,
    /// SE of −log S (robust: IJ SE of S divided by S), as R's `std.err`.
    pub std_err: Vec<JsonNum>,
    /// SE of S.
    pub std_err_surv: Vec<JsonNum>,
    /// Lower confidence limit of S.
    pub lower: Vec<JsonNum>,
    /// Upper confidence limit of S.
    pub upper: Vec<JsonNum>,
    /// Nelson–Aalen cumulative hazard.
    pub cumhaz: Vec<JsonNum>,
    /// Its standard error.
    pub std_chaz: Vec<JsonNum>,
    /// Median survival (null when not reached).
    pub median: Option<JsonNum>,
    /// Lower confidence limit of the median.
    pub median_lower: Option<JsonNum>,
    /// Upper confidence limit of the median.
    pub median_upper: Option<JsonNum>,
    /// Restricted mean survival to `rmean_end`.
    pub rmean: JsonNum,
    /// Its standard error (null for a robust curve).
    pub rmean_se: JsonNum,
    /// The bound of the restricted mean.
    pub rmean_end: JsonNum,
    /// The curve at each `--at` time.
    pub at: Vec<WkmAtJson>,
}

/// A weighted curve at one `--at` time.
#[derive(Debug, Clone, Serialize)]
pub struct WkmAtJson {
    /// The time asked for.
    pub time: JsonNum,
    /// Weighted number at risk at the first time ≥ `time`.
    pub n_risk: f64,
    /// S at the last time ≤ `time`.
    pub surv: JsonNum,
    /// SE of S.
    pub std_err: JsonNum,
    /// Lower confidence limit.
    pub lower: JsonNum,
    /// Upper confidence limit.
    pub upper: JsonNum,
}

impl From<&survkit::wkm::WeightedSurvAt> for WkmAtJson {
    fn from(p: &survkit::wkm::WeightedSurvAt) -> Self {
        WkmAtJson {
            time: JsonNum(p.time),
            n_risk: p.n_risk,
            surv: JsonNum(p.surv),
            std_err: JsonNum(p.std_err_surv),
            lower: JsonNum(p.lower),
            upper: JsonNum(p.upper),
        }
    }
}

/// `survstudy iptw --json`.
#[derive(Debug, Clone, Serialize)]
pub struct IptwJson<'a> {
    /// Always `"iptw"`.
    pub command: &'static str,
    /// `ate`, `att` or `ato`.
    pub estimand: &'static str,
    /// Whether the weights are stabilized.
    pub stabilized: bool,
    /// The `--trim` quantile (null without it).
    pub trim: Option<f64>,
    /// Rows read.
    pub n_read: usize,
    /// Rows dropped (missing values).
    pub n_dropped: usize,
    /// Rows analysed (after trimming).
    pub n_analysed: usize,
    /// Rows the propensity model was fitted on.
    pub n_fitted: usize,
    /// Rows trimmed.
    pub n_trimmed: usize,
    /// Proportion treated among the retained rows (p̂ of the stabilization).
    pub marginal_treated_proportion: JsonNum,
    /// The propensity-score model.
    pub ps_model: PsModelJson<'a>,
    /// How the weights are formed.
    pub weights_formula: String,
    /// Weight summaries per group.
    pub weights: Vec<WeightSummaryJson<'a>>,
    /// How the standardized mean differences are formed.
    pub balance_formula: &'static str,
    /// Balance before and after weighting, one row per term.
    pub balance: Vec<BalanceJson<'a>>,
    /// The weighted Kaplan–Meier document (command `km (weighted, robust)`).
    pub km: WkmJson<'a>,
    /// The weighted Cox document (command `cox (weighted, robust)`).
    pub cox: CoxJson<'a>,
    /// Positivity, extreme-weight and imbalance flags.
    pub warnings: &'a [String],
}

/// The propensity-score logistic regression of `iptw`.
#[derive(Debug, Clone, Serialize)]
pub struct PsModelJson<'a> {
    /// The equivalent R call.
    pub call: String,
    /// Rows fitted.
    pub n: usize,
    /// One row per design column.
    pub terms: Vec<LogisticTermJson<'a>>,
    /// Residual deviance.
    pub deviance: JsonNum,
    /// Null deviance.
    pub null_deviance: JsonNum,
    /// Akaike information criterion.
    pub aic: JsonNum,
    /// IRLS iterations.
    pub iterations: usize,
    /// Whether IRLS converged.
    pub converged: bool,
    /// Levels of each factor.
    pub factor_levels: FactorLevelsJson<'a>,
    /// The convergence rule.
    pub convergence: &'static str,
    /// 1-based data row of every fitted row.
    pub row: &'a [usize],
    /// Propensity score of every fitted row.
    pub ps: Vec<JsonNum>,
}

/// One coefficient of the propensity model.
#[derive(Debug, Clone, Serialize)]
pub struct LogisticTermJson<'a> {
    /// Design column name.
    pub term: &'a str,
    /// Coefficient (log odds ratio).
    pub coef: JsonNum,
    /// Standard error.
    pub se: JsonNum,
    /// Wald z.
    pub z: JsonNum,
    /// p-value of `z`.
    pub p: JsonNum,
}

impl<'a> From<&'a survkit::logistic::LogisticTerm> for LogisticTermJson<'a> {
    fn from(t: &'a survkit::logistic::LogisticTerm) -> Self {
        LogisticTermJson {
            term: &t.term,
            coef: JsonNum(t.coef),
            se: JsonNum(t.se),
            z: JsonNum(t.z),
            p: JsonNum(t.p),
        }
    }
}

/// The weights of one group of `iptw`.
#[derive(Debug, Clone, Serialize)]
pub struct WeightSummaryJson<'a> {
    /// Group (treatment level).
    pub group: &'a str,
    /// Rows.
    pub n: usize,
    /// Sum of the weights.
    pub sum: JsonNum,
    /// Smallest weight.
    pub min: JsonNum,
    /// Largest weight.
    pub max: JsonNum,
    /// Mean weight.
    pub mean: JsonNum,
    /// Kish's effective sample size (Σw)²/Σw².
    pub ess: JsonNum,
}

/// Balance of one term before and after weighting.
#[derive(Debug, Clone, Serialize)]
pub struct BalanceJson<'a> {
    /// Term (a factor level as `factor=level`).
    pub term: &'a str,
    /// Unweighted mean among the treated.
    pub mean_treated_before: JsonNum,
    /// Unweighted mean among the controls.
    pub mean_control_before: JsonNum,
    /// Weighted mean among the treated.
    pub mean_treated_after: JsonNum,
    /// Weighted mean among the controls.
    pub mean_control_after: JsonNum,
    /// Unweighted variance among the treated.
    pub var_treated: JsonNum,
    /// Unweighted variance among the controls.
    pub var_control: JsonNum,
    /// sqrt((var_treated + var_control) / 2).
    pub sd_pooled: JsonNum,
    /// Standardized mean difference before weighting.
    pub smd_before: JsonNum,
    /// Standardized mean difference after weighting.
    pub smd_after: JsonNum,
}

/// `survstudy finegray --json`.
#[derive(Debug, Clone, Serialize)]
pub struct FineGrayJson<'a> {
    /// Always `"finegray"`.
    pub command: &'static str,
    /// The conventions used.
    pub conventions: FineGrayConventions,
    /// Cause of interest.
    pub event_code: u32,
    /// Rows read.
    pub n_read: usize,
    /// Rows dropped (missing values).
    pub n_dropped: usize,
    /// Rows analysed.
    pub n: usize,
    /// Events of the cause of interest.
    pub n_event: usize,
    /// Events of competing causes.
    pub n_competing: usize,
    /// Censored rows.
    pub n_censored: usize,
    /// One row per design column.
    pub terms: Vec<FineGrayTermJson<'a>>,
    /// Levels of each factor.
    pub factor_levels: FactorLevelsJson<'a>,
    /// Log pseudo-likelihood at β̂.
    pub loglik: JsonNum,
    /// Log pseudo-likelihood at β = 0.
    pub loglik_null: JsonNum,
    /// Whether Newton–Raphson converged.
    pub converged: bool,
    /// Newton–Raphson iterations.
    pub iterations: usize,
    /// Sandwich variance matrix of β̂.
    pub var: &'a [Vec<f64>],
}

/// Conventions of `finegray`.
#[derive(Debug, Clone, Serialize)]
pub struct FineGrayConventions {
    /// The estimator.
    pub estimator: &'static str,
    /// The variance.
    pub variance: &'static str,
    /// How p-values are formed.
    pub p: &'static str,
    /// Confidence level of the hazard-ratio intervals.
    pub conf_level: f64,
    /// How factors are coded.
    pub factor_coding: &'static str,
}

/// One coefficient of the Fine–Gray model.
#[derive(Debug, Clone, Serialize)]
pub struct FineGrayTermJson<'a> {
    /// Design column name.
    pub term: &'a str,
    /// Coefficient (log subdistribution hazard ratio).
    pub coef: JsonNum,
    /// Sandwich standard error.
    pub se: JsonNum,
    /// Wald z.
    pub z: JsonNum,
    /// p-value of `z`.
    pub p: JsonNum,
    /// Subdistribution hazard ratio.
    pub hr: JsonNum,
    /// Lower limit of `hr`.
    pub hr_lower: JsonNum,
    /// Upper limit of `hr`.
    pub hr_upper: JsonNum,
}

impl<'a> From<&'a survkit::finegray::FineGrayTerm> for FineGrayTermJson<'a> {
    fn from(t: &'a survkit::finegray::FineGrayTerm) -> Self {
        FineGrayTermJson {
            term: &t.term,
            coef: JsonNum(t.coef),
            se: JsonNum(t.se),
            z: JsonNum(t.z),
            p: JsonNum(t.p),
            hr: JsonNum(t.hr),
            hr_lower: JsonNum(t.hr_lower),
            hr_upper: JsonNum(t.hr_upper),
        }
    }
}

/// `survstudy adjusted --json`.
#[derive(Debug, Clone, Serialize)]
pub struct AdjustedJson<'a> {
    /// Always `"adjusted"`.
    pub command: &'static str,
    /// How the adjusted curves are formed.
    pub method: &'static str,
    /// How standard errors are computed.
    pub se_method: &'static str,
    /// How the confidence intervals and p-values are formed.
    pub ci_method: &'static str,
    /// Confidence level of `lower`/`upper`.
    pub conf_level: f64,
    /// Input warnings, then the Cox fit's.
    pub warnings: &'a [String],
    /// Rows read.
    pub n_read: usize,
    /// Rows dropped (missing values).
    pub n_dropped: usize,
    /// Rows analysed.
    pub n: usize,
    /// Treatment column.
    pub treatment: &'a str,
    /// Treatment levels, reference first.
    pub levels: &'a [String],
    /// The `--at` times.
    pub at: Vec<JsonNum>,
    /// Adjusted survival per level at `at`.
    pub survival: Vec<AdjustedCurveJson<'a>>,
    /// Differences from the reference level at `at`.
    pub difference: Vec<AdjustedDifferenceJson<'a>>,
    /// What `difference` is.
    pub difference_definition: &'static str,
    /// The Cox model the curves come from.
    pub cox: AdjustedCoxJson<'a>,
}

/// Adjusted survival of one treatment level.
#[derive(Debug, Clone, Serialize)]
pub struct AdjustedCurveJson<'a> {
    /// Treatment level.
    pub level: &'a str,
    /// Ŝ(t | level) at each `at` time.
    pub surv: Vec<JsonNum>,
    /// Influence-function standard error of `surv`.
    pub se: Vec<JsonNum>,
    /// Lower confidence limit of `surv`.
    pub lower: Vec<JsonNum>,
    /// Upper confidence limit of `surv`.
    pub upper: Vec<JsonNum>,
}

/// Adjusted survival difference of one level from the reference.
#[derive(Debug, Clone, Serialize)]
pub struct AdjustedDifferenceJson<'a> {
    /// Treatment level.
    pub level: &'a str,
    /// Reference level.
    pub reference: &'a str,
    /// Ŝ(t | level) − Ŝ(t | reference) at each `at` time.
    pub estimate: Vec<JsonNum>,
    /// Influence-function standard error of `estimate`.
    pub se: Vec<JsonNum>,
    /// Lower confidence limit of `estimate`.
    pub lower: Vec<JsonNum>,
    /// Upper confidence limit of `estimate`.
    pub upper: Vec<JsonNum>,
    /// Two-sided Wald p-value of no difference.
    pub p: Vec<JsonNum>,
}

/// The Cox fit of `adjusted`, in brief.
#[derive(Debug, Clone, Serialize)]
pub struct AdjustedCoxJson<'a> {
    /// Coefficients.
    pub terms: Vec<AdjustedCoxTermJson<'a>>,
    /// Log partial likelihood at β̂.
    pub loglik: JsonNum,
    /// Log partial likelihood at β = 0.
    pub loglik_null: JsonNum,
    /// Newton–Raphson iterations.
    pub iterations: usize,
    /// Observations used.
    pub n: usize,
    /// Events.
    pub nevent: usize,
}

/// One coefficient of the Cox fit of `adjusted`.
#[derive(Debug, Clone, Serialize)]
pub struct AdjustedCoxTermJson<'a> {
    /// Design column name.
    pub term: &'a str,
    /// Coefficient (log hazard ratio).
    pub coef: JsonNum,
    /// Model-based standard error.
    pub se: JsonNum,
}
