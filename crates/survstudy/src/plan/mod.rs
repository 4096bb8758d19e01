//! The study plan: input columns and their types, the date format, time
//! zero, endpoints, time unit, groupings, covariates, Table 1 and analyses.
//!
//! Plans are TOML files. The built-in plan (the post-CAR-T progression
//! study) is [`BUILTIN_TOML`], shipped verbatim with its comments so users
//! can print, copy and edit it.

use std::collections::BTreeSet;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::PlanError;
use crate::ingest::DateFormat;

/// The built-in plan, commented.
pub const BUILTIN_TOML: &str = include_str!("builtin.toml");

/// A complete study plan.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Plan {
    pub study: Study,
    pub columns: Vec<ColumnSpec>,
    #[serde(default)]
    pub checks: Vec<DateCheck>,
    pub endpoints: Vec<EndpointSpec>,
    #[serde(default)]
    pub groupings: Vec<GroupingSpec>,
    #[serde(default)]
    pub intervals: Vec<IntervalSpec>,
    #[serde(default)]
    pub table1: Vec<Table1Spec>,
    #[serde(default)]
    pub analysis: AnalysisSpec,
    /// Competing-risks analyses (cumulative incidence, Gray's test).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub competing_risks: Vec<CompetingRiskSpec>,
}

/// One cause of a competing-risks endpoint.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CauseSpec {
    pub label: String,
    /// Date columns of this cause; the earliest present date over all causes
    /// decides which cause happened (ties: the cause listed first).
    pub columns: Vec<String>,
}

/// A competing-risks analysis: cumulative incidence of each cause by a grouping.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CompetingRiskSpec {
    pub code: String,
    pub label: String,
    /// Start date column; defaults to `study.time_zero`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start: Option<String>,
    /// Causes, numbered 1, 2, … in this order; cause 1 is the one of interest.
    pub causes: Vec<CauseSpec>,
    /// Censoring date for patients with none of the causes.
    pub censor: String,
    /// Grouping for curves and Gray's test.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub by: Option<String>,
    /// Cumulative incidence reported at these times (plan unit).
    #[serde(default)]
    pub times: Vec<f64>,
}

/// Study-wide settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Study {
    pub name: String,
    /// Column holding the (unique) patient identifier.
    pub id_column: String,
    /// strftime-style date format for text dates; ISO is always accepted.
    #[serde(default = "default_date_format")]
    pub date_format: String,
    /// Start column of endpoints that do not name their own.
    pub time_zero: String,
    #[serde(default)]
    pub time_unit: TimeUnit,
    #[serde(default = "default_days_per_month")]
    pub days_per_month: f64,
    #[serde(default = "default_days_per_year")]
    pub days_per_year: f64,
}

fn default_date_format() -> String {
    crate::ingest::ISO_DATE_FORMAT.to_string()
}
fn default_days_per_month() -> f64 {
    30.4375
}
fn default_days_per_year() -> f64 {
    365.25
}

/// Unit of analysis times.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum TimeUnit {
    Days,
    Weeks,
    #[default]
    Months,
    Years,
}

impl TimeUnit {
    /// Lower-case name (`months`).
    pub fn name(self) -> &'static str {
        match self {
            TimeUnit::Days => "days",
            TimeUnit::Weeks => "weeks",
            TimeUnit::Months => "months",
            TimeUnit::Years => "years",
        }
    }

    /// CDISC-style AVALU text (`MONTHS`).
    pub fn avalu(self) -> &'static str {
        match self {
            TimeUnit::Days => "DAYS",
            TimeUnit::Weeks => "WEEKS",
            TimeUnit::Months => "MONTHS",
            TimeUnit::Years => "YEARS",
        }
    }
}

impl Study {
    /// Number of days in one time unit.
    pub fn days_per_unit(&self) -> f64 {
        match self.time_unit {
            TimeUnit::Days => 1.0,
            TimeUnit::Weeks => 7.0,
            TimeUnit::Months => self.days_per_month,
            TimeUnit::Years => self.days_per_year,
        }
    }
}

/// Type of an input column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ColumnType {
    Text,
    Date,
    YesNo,
    Category,
    Number,
}

/// Whether a column (and each of its cells) must be present.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Presence {
    Required,
    #[default]
    Optional,
}

/// One input column.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ColumnSpec {
    pub name: String,
    #[serde(rename = "type")]
    pub kind: ColumnType,
    #[serde(default)]
    pub presence: Presence,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    /// Allowed values of a category column (empty = free text).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub levels: Vec<String>,
    /// Other accepted header names.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub aliases: Vec<String>,
}

impl ColumnSpec {
    /// Label, or the name when no label is given.
    pub fn display_label(&self) -> &str {
        self.label.as_deref().unwrap_or(&self.name)
    }
}

/// Order relation of a date check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DateRelation {
    /// `column` must be on or after `other`.
    NotBefore,
    /// `column` must be on or before `other`.
    NotAfter,
}

/// A date-order check between two date columns, applied when both are
/// present. The problem is reported on `column`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DateCheck {
    pub column: String,
    pub relation: DateRelation,
    pub other: String,
    pub description: String,
}

/// A time-to-event endpoint.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EndpointSpec {
    /// PARAMCD, e.g. `OS`.
    pub code: String,
    /// PARAM, e.g. `Overall survival`.
    pub label: String,
    /// Start date column; defaults to `study.time_zero`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start: Option<String>,
    /// Event date columns; the earliest present one is the event.
    pub events: Vec<String>,
    /// Censoring date column for event-free patients.
    pub censor: String,
    /// Date columns that, for an event-free patient, end follow-up with
    /// censoring at the earliest present one instead of `censor`.
    #[serde(default)]
    pub censor_if_present: Vec<String>,
    /// Patients missing any of these columns are outside the endpoint's
    /// analysis population.
    #[serde(default)]
    pub require_present: Vec<String>,
}

/// How a grouping is formed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GroupingKind {
    /// One yes/no column; levels `yes`/`no`.
    YesNo,
    /// One category (or text) column.
    Category,
    /// `yes` if any yes/no column is yes, `no` if all are no.
    AnyYes,
    /// A combination of columns mapped to levels by `combinations`.
    Cross,
}

/// One entry of a cross grouping.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Combination {
    pub level: String,
    /// One value per column of the grouping (yes/no columns: `yes`/`no`).
    pub values: Vec<String>,
}

/// A grouping of patients (for KM, log-rank, Cox, Table 1 columns).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GroupingSpec {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    pub kind: GroupingKind,
    pub columns: Vec<String>,
    /// Level order; the first level is the reference level.
    pub levels: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub combinations: Vec<Combination>,
    /// Landmark analysis for groupings fixed after time zero: only patients
    /// still at risk at this time (in the plan's unit) are analysed, with the
    /// clock restarted there.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub landmark: Option<f64>,
    /// Reference level of Cox models when it is not the first level (the
    /// level order stays the display order).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
}

impl GroupingSpec {
    /// Label, or the name when no label is given.
    pub fn display_label(&self) -> &str {
        self.label.as_deref().unwrap_or(&self.name)
    }
}

/// A per-patient interval in days.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IntervalSpec {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    pub from: String,
    pub to: String,
}

/// Kind of a Table-1 variable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VariableKind {
    Categorical,
    Continuous,
}

/// A Table-1 row: a column or a grouping.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Table1Spec {
    pub variable: String,
    pub kind: VariableKind,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
}

/// Which analyses to run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AnalysisSpec {
    #[serde(default)]
    pub endpoints: Vec<String>,
    #[serde(default)]
    pub km_by: Vec<String>,
    #[serde(default)]
    pub cox_univariable: Vec<String>,
    #[serde(default)]
    pub cox_covariates: Vec<String>,
    #[serde(default)]
    pub cox_optional_covariates: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub table1_by: Option<String>,
    #[serde(default)]
    pub landmarks: Vec<f64>,
    #[serde(default = "default_confidence")]
    pub confidence_level: f64,
    /// Horizon of the restricted mean survival time (plan unit) for groupings
    /// with two levels; none when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rmst_tau: Option<f64>,
}

fn default_confidence() -> f64 {
    0.95
}

impl Default for AnalysisSpec {
    fn default() -> Self {
        AnalysisSpec {
            endpoints: Vec::new(),
            km_by: Vec::new(),
            cox_univariable: Vec::new(),
            cox_covariates: Vec::new(),
            cox_optional_covariates: Vec::new(),
            table1_by: None,
            landmarks: Vec::new(),
            confidence_level: default_confidence(),
            rmst_tau: None,
        }
    }
}

/// Something a variable name (Table 1, Cox covariate) resolves to.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum VariableRef<'a> {
    Column(&'a ColumnSpec),
    Grouping(&'a GroupingSpec),
}

impl Plan {
    /// The built-in plan.
    pub fn builtin() -> Plan {
        // The built-in plan is fixed text, checked by tests.
        Plan::from_toml_str(BUILTIN_TOML)
            .unwrap_or_else(|e| unreachable!("built-in plan is invalid: {e}"))
    }

    /// The built-in plan as commented TOML text.
    pub fn builtin_toml() -> &'static str {
        BUILTIN_TOML
    }

    /// Parse and validate a plan.
    pub fn from_toml_str(text: &str) -> Result<Plan, PlanError> {
        Self::from_toml_named(text, "plan")
    }

    /// Parse and validate a plan; `source_name` names it in messages.
    pub fn from_toml_named(text: &str, source_name: &str) -> Result<Plan, PlanError> {
        let plan: Plan = toml::from_str(text).map_err(|e| PlanError::Toml {
            source_name: source_name.to_string(),
            message: e.to_string(),
        })?;
        plan.validate(source_name)?;
        Ok(plan)
    }

    /// Read, parse and validate a plan file.
    pub fn from_file(path: &Path) -> Result<Plan, PlanError> {
        let text = std::fs::read_to_string(path).map_err(|source| PlanError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        Self::from_toml_named(&text, &path.display().to_string())
    }

    /// The plan as TOML (without comments); parses back to an equal plan.
    pub fn to_toml_string(&self) -> Result<String, PlanError> {
        toml::to_string_pretty(self).map_err(|e| PlanError::Serialize {
            message: e.to_string(),
        })
    }

    /// Column spec by name (case-insensitive).
    pub fn column(&self, name: &str) -> Option<&ColumnSpec> {
        let want = name.trim();
        // called per row by the derivation: no allocation for ASCII names
        let same = |c: &str| {
            let c = c.trim();
            if c.is_ascii() && want.is_ascii() {
                c.eq_ignore_ascii_case(want)
            } else {
                c.to_lowercase() == want.to_lowercase()
            }
        };
        self.columns.iter().find(|c| same(&c.name))
    }

    /// Grouping by name (exact).
    pub fn grouping(&self, name: &str) -> Option<&GroupingSpec> {
        self.groupings.iter().find(|g| g.name == name)
    }

    /// Endpoint by code (exact).
    pub fn endpoint(&self, code: &str) -> Option<&EndpointSpec> {
        self.endpoints.iter().find(|e| e.code == code)
    }

    /// Start column of an endpoint.
    pub fn endpoint_start<'a>(&'a self, e: &'a EndpointSpec) -> &'a str {
        e.start.as_deref().unwrap_or(&self.study.time_zero)
    }

    /// Sizes and duplicates: every list of the plan is bounded (a plan
    /// with 10^5 landmarks or groupings would exhaust memory or run for
    /// minutes) and the analysis lists name each entry once (a repeated
    /// `km_by` entry would be analysed, and reported, twice). Returns the
    /// section and the message of the first problem.
    pub fn check_sizes(&self) -> Result<(), (String, String)> {
        use crate::ingest::clip;
        let too_many = |section: &str, n: usize, max: usize| -> Result<(), (String, String)> {
            if n > max {
                return Err((
                    section.to_string(),
                    format!("{n} entries; at most {max} are allowed (is the plan generated by mistake?)"),
                ));
            }
            Ok(())
        };
        too_many("columns", self.columns.len(), plan_limits::COLUMNS)?;
        too_many("checks", self.checks.len(), plan_limits::LIST)?;
        too_many("endpoints", self.endpoints.len(), plan_limits::ENDPOINTS)?;
        too_many("groupings", self.groupings.len(), plan_limits::LIST)?;
        too_many("intervals", self.intervals.len(), plan_limits::LIST)?;
        too_many("table1", self.table1.len(), plan_limits::LIST)?;
        too_many(
            "competing_risks",
            self.competing_risks.len(),
            plan_limits::ENDPOINTS,
        )?;
        for g in &self.groupings {
            let s = format!("groupings[{}]", clip(&g.name));
            too_many(&s, g.levels.len(), plan_limits::LEVELS)?;
            too_many(&s, g.combinations.len(), plan_limits::LEVELS)?;
            too_many(&s, g.columns.len(), plan_limits::LEVELS)?;
        }
        for c in &self.columns {
            too_many(
                &format!("columns[{}]", clip(&c.name)),
                c.levels.len(),
                plan_limits::LEVELS,
            )?;
        }
        for c in &self.competing_risks {
            let s = format!("competing_risks[{}]", clip(&c.code));
            too_many(&s, c.times.len(), plan_limits::TIMES)?;
            too_many(&s, c.causes.len(), plan_limits::LEVELS)?;
        }
        let a = &self.analysis;
        too_many("analysis.landmarks", a.landmarks.len(), plan_limits::TIMES)?;
        for (section, list) in [
            ("analysis.endpoints", &a.endpoints),
            ("analysis.km_by", &a.km_by),
            ("analysis.cox_univariable", &a.cox_univariable),
            ("analysis.cox_covariates", &a.cox_covariates),
            (
                "analysis.cox_optional_covariates",
                &a.cox_optional_covariates,
            ),
        ] {
            too_many(section, list.len(), plan_limits::LIST)?;
            let mut seen = BTreeSet::new();
            for x in list {
                if !seen.insert(x.trim()) {
                    return Err((
                        section.to_string(),
                        format!(
                            "'{}' is listed twice (each entry is analysed once)",
                            clip(x)
                        ),
                    ));
                }
            }
        }
        let mut seen = BTreeSet::new();
        for t in &self.table1 {
            if !seen.insert(t.variable.trim()) {
                return Err((
                    "table1".to_string(),
                    format!("variable '{}' is listed twice", clip(&t.variable)),
                ));
            }
        }
        for (section, times) in std::iter::once(("analysis.landmarks".to_string(), &a.landmarks))
            .chain(self.competing_risks.iter().map(|c| {
                (
                    format!("competing_risks[{}].times", clip(&c.code)),
                    &c.times,
                )
            }))
        {
            let mut v: Vec<f64> = times.clone();
            v.sort_by(f64::total_cmp);
            if let Some(w) = v.windows(2).find(|w| w[0] == w[1]) {
                return Err((section, format!("time {} is listed twice", w[0])));
            }
        }
        Ok(())
    }

    /// Resolve a variable name: a column first, then a grouping.
    pub fn variable(&self, name: &str) -> Option<VariableRef<'_>> {
        self.column(name)
            .map(VariableRef::Column)
            .or_else(|| self.grouping(name).map(VariableRef::Grouping))
    }

    /// Check internal consistency.
    pub fn validate(&self, source_name: &str) -> Result<(), PlanError> {
        let err = |section: String, message: String| PlanError::Invalid {
            source_name: source_name.to_string(),
            section,
            message,
        };
        self.check_sizes().map_err(|(s, m)| err(s, m))?;
        // Columns: unique names and aliases.
        let mut seen = BTreeSet::new();
        for c in &self.columns {
            if c.name.trim().is_empty() {
                return Err(err("columns".into(), "a column has an empty name".into()));
            }
            for n in std::iter::once(&c.name).chain(&c.aliases) {
                if !seen.insert(n.trim().to_lowercase()) {
                    return Err(err(
                        format!("columns[{}]", c.name),
                        format!("name or alias '{n}' is used twice"),
                    ));
                }
            }
            if !c.levels.is_empty() && c.kind != ColumnType::Category {
                return Err(err(
                    format!("columns[{}]", c.name),
                    "levels are only allowed for category columns".into(),
                ));
            }
            let mut lv = BTreeSet::new();
            for l in &c.levels {
                if !lv.insert(l.trim().to_lowercase()) {
                    return Err(err(
                        format!("columns[{}]", c.name),
                        format!("level '{l}' is listed twice"),
                    ));
                }
            }
        }
        let col_of_type = |section: &str, name: &str, types: &[ColumnType]| match self.column(name)
        {
            None => Err(err(section.to_string(), format!("unknown column '{name}'"))),
            Some(c) if !types.contains(&c.kind) => Err(err(
                section.to_string(),
                format!(
                    "column '{name}' has type {:?}, expected one of {:?}",
                    c.kind, types
                ),
            )),
            Some(c) => Ok(c),
        };
        let date = [ColumnType::Date];
        let id = col_of_type(
            "study.id_column",
            &self.study.id_column,
            &[ColumnType::Text],
        )?;
        if id.presence != Presence::Required {
            return Err(err(
                "study.id_column".into(),
                format!("id column '{}' must be required", id.name),
            ));
        }
        col_of_type("study.time_zero", &self.study.time_zero, &date)?;
        DateFormat::new(&self.study.date_format).map_err(|m| err("study.date_format".into(), m))?;
        for (what, v) in [
            ("days_per_month", self.study.days_per_month),
            ("days_per_year", self.study.days_per_year),
        ] {
            if !(v.is_finite() && v > 0.0) {
                return Err(err(
                    format!("study.{what}"),
                    format!("must be a positive number, got {v}"),
                ));
            }
        }
        for c in &self.checks {
            let s = format!("checks[{}]", c.description);
            col_of_type(&s, &c.column, &date)?;
            col_of_type(&s, &c.other, &date)?;
        }
        // Endpoints.
        let mut codes = BTreeSet::new();
        for e in &self.endpoints {
            let s = format!("endpoints[{}]", e.code);
            if e.code.trim().is_empty() || !codes.insert(e.code.clone()) {
                return Err(err(s, "endpoint code is empty or used twice".into()));
            }
            if e.events.is_empty() {
                return Err(err(s, "an endpoint needs at least one event column".into()));
            }
            col_of_type(&s, self.endpoint_start(e), &date)?;
            col_of_type(&s, &e.censor, &date)?;
            for c in e.events.iter().chain(&e.censor_if_present) {
                col_of_type(&s, c, &date)?;
            }
            for c in &e.require_present {
                if self.column(c).is_none() {
                    return Err(err(s, format!("unknown column '{c}'")));
                }
            }
        }
        // Competing risks.
        for c in &self.competing_risks {
            let sec = format!("competing_risks[{}]", c.code);
            if c.causes.len() < 2 {
                return Err(err(sec, "needs at least two causes".into()));
            }
            if let Some(st) = &c.start {
                col_of_type(&sec, st, &date)?;
            }
            col_of_type(&sec, &c.censor, &date)?;
            for cause in &c.causes {
                if cause.columns.is_empty() {
                    return Err(err(
                        sec,
                        format!("cause '{}' lists no date column", cause.label),
                    ));
                }
                for col in &cause.columns {
                    col_of_type(&sec, col, &date)?;
                }
            }
            if let Some(by) = &c.by {
                if !self.groupings.iter().any(|g| &g.name == by) {
                    return Err(err(sec, format!("unknown grouping '{by}'")));
                }
            }
        }
        if let Some(t) = self.analysis.rmst_tau {
            if !(t.is_finite() && t > 0.0) {
                return Err(err(
                    "analysis.rmst_tau".into(),
                    format!("{t} must be a positive time"),
                ));
            }
        }
        // Groupings.
        let mut names = BTreeSet::new();
        for g in &self.groupings {
            let s = format!("groupings[{}]", g.name);
            if g.name.trim().is_empty() || !names.insert(g.name.clone()) {
                return Err(err(s, "grouping name is empty or used twice".into()));
            }
            let mut lv = BTreeSet::new();
            // a category grouping may leave levels out: the observed values, sorted
            let may_omit = g.kind == GroupingKind::Category && g.levels.is_empty();
            if (!may_omit && g.levels.is_empty()) || !g.levels.iter().all(|l| lv.insert(l.clone()))
            {
                return Err(err(s, "levels must be listed, each once".into()));
            }
            if let Some(r) = &g.reference {
                if !g.levels.is_empty() && !g.levels.contains(r) {
                    return Err(err(s, format!("reference '{r}' is not one of the levels")));
                }
            }
            if let Some(l) = g.landmark {
                if !(l.is_finite() && l > 0.0) {
                    return Err(err(s, format!("landmark {l} must be a positive time")));
                }
            }
            let yes_no_levels = || {
                let mut l = g.levels.clone();
                l.sort();
                if l == ["no", "yes"] {
                    Ok(())
                } else {
                    Err(err(
                        s.clone(),
                        "levels of a yes/no grouping must be \"no\" and \"yes\"".into(),
                    ))
                }
            };
            match g.kind {
                GroupingKind::YesNo | GroupingKind::Category if g.columns.len() != 1 => {
                    return Err(err(s, "needs exactly one column".into()));
                }
                GroupingKind::YesNo => {
                    col_of_type(&s, &g.columns[0], &[ColumnType::YesNo])?;
                    yes_no_levels()?;
                }
                GroupingKind::Category => {
                    let c =
                        col_of_type(&s, &g.columns[0], &[ColumnType::Category, ColumnType::Text])?;
                    if !c.levels.is_empty() && !g.levels.is_empty() {
                        let cl: BTreeSet<String> =
                            c.levels.iter().map(|l| l.trim().to_lowercase()).collect();
                        let gl: BTreeSet<String> =
                            g.levels.iter().map(|l| l.trim().to_lowercase()).collect();
                        if cl != gl {
                            return Err(err(
                                s,
                                format!(
                                    "levels must be the levels of column '{}': {:?}",
                                    c.name, c.levels
                                ),
                            ));
                        }
                    }
                }
                GroupingKind::AnyYes => {
                    if g.columns.is_empty() {
                        return Err(err(s, "needs at least one column".into()));
                    }
                    for c in &g.columns {
                        col_of_type(&s, c, &[ColumnType::YesNo])?;
                    }
                    yes_no_levels()?;
                }
                GroupingKind::Cross => {
                    if g.columns.is_empty() || g.combinations.is_empty() {
                        return Err(err(s, "needs columns and combinations".into()));
                    }
                    for c in &g.columns {
                        col_of_type(
                            &s,
                            c,
                            &[ColumnType::YesNo, ColumnType::Category, ColumnType::Text],
                        )?;
                    }
                    let mut keys = BTreeSet::new();
                    for comb in &g.combinations {
                        if !g.levels.contains(&comb.level) {
                            return Err(err(
                                s,
                                format!("combination level '{}' is not in levels", comb.level),
                            ));
                        }
                        if comb.values.len() != g.columns.len() {
                            return Err(err(
                                s,
                                format!(
                                    "combination for '{}' has {} values for {} columns",
                                    comb.level,
                                    comb.values.len(),
                                    g.columns.len()
                                ),
                            ));
                        }
                        let key: Vec<String> = comb
                            .values
                            .iter()
                            .map(|v| v.trim().to_lowercase())
                            .collect();
                        if !keys.insert(key) {
                            return Err(err(
                                s,
                                format!("combination {:?} is listed twice", comb.values),
                            ));
                        }
                    }
                    for l in &g.levels {
                        if !g.combinations.iter().any(|c| &c.level == l) {
                            return Err(err(s, format!("level '{l}' has no combination")));
                        }
                    }
                }
            }
            if g.kind != GroupingKind::Cross && !g.combinations.is_empty() {
                return Err(err(s, "combinations are only for cross groupings".into()));
            }
        }
        for i in &self.intervals {
            let s = format!("intervals[{}]", i.name);
            col_of_type(&s, &i.from, &date)?;
            col_of_type(&s, &i.to, &date)?;
        }
        for t in &self.table1 {
            let s = format!("table1[{}]", t.variable);
            match self.variable(&t.variable) {
                None => return Err(err(s, "unknown column or grouping".into())),
                Some(VariableRef::Column(c)) => {
                    if t.kind == VariableKind::Continuous && c.kind != ColumnType::Number {
                        return Err(err(s, "continuous variables need a number column".into()));
                    }
                    if c.kind == ColumnType::Date {
                        return Err(err(s, "date columns cannot be Table-1 variables".into()));
                    }
                }
                Some(VariableRef::Grouping(_)) => {
                    if t.kind == VariableKind::Continuous {
                        return Err(err(s, "a grouping is categorical".into()));
                    }
                }
            }
        }
        let a = &self.analysis;
        for e in &a.endpoints {
            if self.endpoint(e).is_none() {
                return Err(err(
                    "analysis.endpoints".into(),
                    format!("unknown endpoint '{e}'"),
                ));
            }
        }
        for (section, list) in [
            ("analysis.km_by", &a.km_by),
            ("analysis.cox_univariable", &a.cox_univariable),
        ] {
            for g in list {
                if self.grouping(g).is_none() {
                    return Err(err(section.into(), format!("unknown grouping '{g}'")));
                }
            }
        }
        if let Some(g) = &a.table1_by {
            if self.grouping(g).is_none() {
                return Err(err(
                    "analysis.table1_by".into(),
                    format!("unknown grouping '{g}'"),
                ));
            }
        }
        for (section, list) in [
            ("analysis.cox_covariates", &a.cox_covariates),
            (
                "analysis.cox_optional_covariates",
                &a.cox_optional_covariates,
            ),
        ] {
            for v in list {
                match self.variable(v) {
                    None => {
                        return Err(err(
                            section.into(),
                            format!("unknown column or grouping '{v}'"),
                        ))
                    }
                    Some(VariableRef::Column(c))
                        if matches!(c.kind, ColumnType::Date | ColumnType::Text) =>
                    {
                        return Err(err(
                            section.into(),
                            format!(
                                "'{v}' is a {:?} column; covariates are yes/no, category or number",
                                c.kind
                            ),
                        ))
                    }
                    _ => {}
                }
            }
        }
        if !(a.confidence_level > 0.0 && a.confidence_level < 1.0) {
            return Err(err(
                "analysis.confidence_level".into(),
                format!("must be between 0 and 1, got {}", a.confidence_level),
            ));
        }
        if a.landmarks.iter().any(|t| !(t.is_finite() && *t >= 0.0)) {
            return Err(err(
                "analysis.landmarks".into(),
                "landmark times must be non-negative numbers".into(),
            ));
        }
        Ok(())
    }
}

/// Largest sizes [`Plan::check_sizes`] accepts (far above any real study).
pub mod plan_limits {
    /// Columns of the input.
    pub const COLUMNS: usize = 2000;
    /// Endpoints, competing-risks analyses.
    pub const ENDPOINTS: usize = 50;
    /// Groupings, checks, intervals, Table-1 rows and each analysis list.
    pub const LIST: usize = 200;
    /// Levels, combinations or columns of one grouping; causes.
    pub const LEVELS: usize = 100;
    /// Landmark times, competing-risks times.
    pub const TIMES: usize = 100;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_parses_and_round_trips() {
        let p = Plan::builtin();
        assert_eq!(p.study.time_unit, TimeUnit::Months);
        assert_eq!(p.study.days_per_unit(), 30.4375);
        let text = p.to_toml_string().unwrap();
        let back = Plan::from_toml_str(&text).unwrap();
        assert_eq!(p, back);
    }

    #[test]
    fn unknown_column_in_endpoint_is_rejected() {
        let text = BUILTIN_TOML.replace("events = [\"death_date\"]", "events = [\"dead_date\"]");
        let e = Plan::from_toml_str(&text).unwrap_err();
        assert!(e.to_string().contains("dead_date"), "{e}");
        assert!(e.to_string().contains("endpoints[OS]"), "{e}");
    }

    #[test]
    fn unknown_field_is_rejected() {
        let text = BUILTIN_TOML.replace("[study]\n", "[study]\nbogus = 1\n");
        assert!(matches!(
            Plan::from_toml_str(&text),
            Err(PlanError::Toml { .. })
        ));
    }

    #[test]
    fn bad_yes_no_levels_rejected() {
        let text = BUILTIN_TOML.replacen(
            "columns = [\"emd_at_infusion\"]\nlevels = [\"no\", \"yes\"]",
            "columns = [\"emd_at_infusion\"]\nlevels = [\"n\", \"y\"]",
            1,
        );
        assert_ne!(text, BUILTIN_TOML);
        let e = Plan::from_toml_str(&text).unwrap_err();
        assert!(e.to_string().contains("groupings[emd_at_infusion]"), "{e}");
    }
}
