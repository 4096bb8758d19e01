//! The statistical conventions of a run: the preset chosen ([`Conventions`])
//! and the `conventions` block of results.json ([`ConventionsUsed`]).
//!
//! The choices are kept as enums and serialised to the strings of the JSON
//! contract (`"r"`, `"log-log"`, `"efron"`, `"months"`); the prose fields
//! are produced by the functions of this module, which the report calls
//! too, so that wording is written once.

use serde::{Serialize, Serializer};
use survkit::cox::Ties;
use survkit::km::ConfType;

use crate::plan::{Plan, TimeUnit};

/// Statistical conventions of a run (stated in every output).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Conventions {
    /// R survival defaults: log CI, Efron ties.
    #[default]
    R,
    /// SAS PROC LIFETEST / PHREG defaults: log-log CI, Breslow ties.
    Sas,
}

impl Conventions {
    /// `"r"` or `"sas"` (case-insensitive, surrounding spaces ignored);
    /// `None` for anything else.
    pub fn parse(s: &str) -> Option<Conventions> {
        match s.trim().to_ascii_lowercase().as_str() {
            "r" => Some(Conventions::R),
            "sas" => Some(Conventions::Sas),
            _ => None,
        }
    }
    /// `"r"` / `"sas"`: the spelling [`Conventions::parse`] accepts.
    pub fn as_str(self) -> &'static str {
        match self {
            Conventions::R => "r",
            Conventions::Sas => "sas",
        }
    }
    /// Kaplan–Meier CI transform: log for R, log-log for SAS.
    pub fn conf_type(self) -> ConfType {
        match self {
            Conventions::R => ConfType::Log,
            Conventions::Sas => ConfType::LogLog,
        }
    }
    /// Cox tie handling: Efron for R, Breslow for SAS.
    pub fn ties(self) -> Ties {
        match self {
            Conventions::R => Ties::Efron,
            Conventions::Sas => Ties::Breslow,
        }
    }
}

/// A value written into results.json under its contract name.
trait ContractName: Copy {
    fn contract_name(self) -> &'static str;
}

impl ContractName for Conventions {
    fn contract_name(self) -> &'static str {
        self.as_str()
    }
}

impl ContractName for ConfType {
    fn contract_name(self) -> &'static str {
        self.as_str()
    }
}

impl ContractName for Ties {
    fn contract_name(self) -> &'static str {
        self.as_str()
    }
}

impl ContractName for TimeUnit {
    fn contract_name(self) -> &'static str {
        self.name()
    }
}

fn as_str<T: ContractName, S: Serializer>(v: &T, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(v.contract_name())
}

/// The conventions block of results.json. Field names and the strings the
/// enums serialise to are a contract.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ConventionsUsed {
    /// Preset of the run (`"r"` or `"sas"`).
    #[serde(serialize_with = "as_str")]
    pub preset: Conventions,
    /// Plan column of time zero.
    pub time_zero: String,
    /// Label of the time-zero column (axes and methods use it), when the
    /// plan gives one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub time_zero_label: Option<String>,
    /// Censoring date of each analysed endpoint, for the methods.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub censor_dates: Vec<CensorDate>,
    /// Unit of analysis times (`"months"` …).
    #[serde(serialize_with = "as_str")]
    pub time_unit: TimeUnit,
    /// Days per time unit.
    pub days_per_unit: f64,
    /// Kaplan–Meier confidence-interval transform (`"log"`, `"log-log"` …).
    #[serde(serialize_with = "as_str")]
    pub km_conf_type: ConfType,
    /// Confidence level of every interval.
    pub conf_level: f64,
    /// Rule of the median's confidence interval ([`median_ci_text`]).
    pub median_ci: String,
    /// Test comparing survival between groups ([`LOGRANK_TEXT`]).
    pub logrank: String,
    /// Handling of tied event times in Cox models (`"efron"`, `"breslow"`).
    #[serde(serialize_with = "as_str")]
    pub cox_ties: Ties,
    /// Cox confidence intervals.
    pub cox_ci: String,
    /// Median follow-up method.
    pub follow_up: String,
    /// Tests of Table 1.
    pub table1_tests: String,
    /// Software and version.
    pub software: String,
}

/// The censoring date of an endpoint: its column and the column's label.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct CensorDate {
    /// Endpoint name (plan key).
    pub endpoint: String,
    /// Date column the endpoint censors at.
    pub column: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    /// Label of that column, if the plan gives one.
    pub label: Option<String>,
}

/// Name of the median CI method, the prefix of `median_ci`.
pub const MEDIAN_CI_METHOD: &str = "Brookmeyer-Crowley";

/// The median CI rule for a CI transform, without the method name.
pub fn median_ci_rule(conf_type: ConfType) -> String {
    format!(
        "the times where the {} pointwise confidence limits of S cross 0.5 (R survfit rule)",
        conf_type.as_str()
    )
}

/// `median_ci` of results.json: method and rule.
pub fn median_ci_text(conf_type: ConfType) -> String {
    format!("{MEDIAN_CI_METHOD}: {}", median_ci_rule(conf_type))
}

/// Name of the group comparison, the prefix of `logrank`.
pub const LOGRANK_METHOD: &str = "log-rank (Mantel-Haenszel)";

/// Degrees of freedom of the group comparison.
pub const LOGRANK_DF: &str = "chi-square on k-1 df for k groups with patients";

/// `logrank` of results.json.
pub const LOGRANK_TEXT: &str =
    "log-rank (Mantel-Haenszel), chi-square on k-1 df for k groups with patients";

pub(crate) fn conventions_used(plan: &Plan, conv: Conventions, level: f64) -> ConventionsUsed {
    ConventionsUsed {
        preset: conv,
        time_zero: plan.study.time_zero.clone(),
        time_zero_label: plan
            .column(&plan.study.time_zero)
            .and_then(|c| c.label.clone()),
        censor_dates: plan
            .analysis
            .endpoints
            .iter()
            .filter_map(|code| plan.endpoint(code))
            .filter(|e| e.duration.is_none())
            .map(|e| CensorDate {
                endpoint: e.code.clone(),
                column: e.censor.clone(),
                label: plan.column(&e.censor).and_then(|c| c.label.clone()),
            })
            .collect(),
        time_unit: plan.study.time_unit,
        days_per_unit: plan.study.days_per_unit(),
        km_conf_type: conv.conf_type(),
        conf_level: level,
        median_ci: median_ci_text(conv.conf_type()),
        logrank: LOGRANK_TEXT.into(),
        cox_ties: conv.ties(),
        cox_ci: "Wald intervals exp(coef +/- z*se), model-based variance".into(),
        follow_up: "median follow-up by the reverse Kaplan-Meier method (censoring as the event)".into(),
        table1_tests: "categorical: Fisher's exact test when any expected count < 5, else Pearson's chi-square (Yates-corrected for 2x2); continuous: Wilcoxon rank-sum (2 groups) or Kruskal-Wallis".into(),
        software: format!("survstudy {} (statistics engine survkit, validated against R survival 3.5-3)", env!("CARGO_PKG_VERSION")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prose_pieces_compose_the_json_strings() {
        assert_eq!(format!("{LOGRANK_METHOD}, {LOGRANK_DF}"), LOGRANK_TEXT);
        assert!(median_ci_text(ConfType::LogLog)
            .starts_with("Brookmeyer-Crowley: the times where the log-log"));
    }

    #[test]
    fn enums_serialise_to_the_contract_strings() {
        let plan = Plan::builtin();
        let c = conventions_used(&plan, Conventions::Sas, 0.95);
        let v = serde_json::to_value(&c).unwrap();
        assert_eq!(v["preset"], "sas");
        assert_eq!(v["km_conf_type"], "log-log");
        assert_eq!(v["cox_ties"], "breslow");
        assert_eq!(v["time_unit"], "months");
    }
}
