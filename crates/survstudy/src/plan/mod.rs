//! The study plan: input columns and their types, the date format, time
//! zero, endpoints, time unit, groupings, covariates, Table 1 and analyses.
//!
//! Plans are TOML files. The built-in plan (the post-CAR-T progression
//! study) is [`BUILTIN_TOML`], shipped verbatim with its comments so users
//! can print, copy and edit it.

pub mod init;
mod summaries;
mod usage;
mod validate;

pub use summaries::{SummaryKind, SummarySpec};

pub use validate::PlanProblem;

use std::collections::BTreeSet;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::PlanError;

/// The built-in plan, commented.
pub const BUILTIN_TOML: &str = include_str!("builtin.toml");

/// A complete study plan.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Plan {
    /// Study-wide settings (`[study]`).
    pub study: Study,
    /// The input columns and their types (`[[columns]]`).
    pub columns: Vec<ColumnSpec>,
    #[serde(default)]
    /// Cross-field checks between columns (`[[checks]]`).
    pub checks: Vec<DateCheck>,
    /// Filters defining the analysed population, applied in order after
    /// validation; each is counted in the patient flow.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub filters: Vec<FilterSpec>,
    /// The time-to-event endpoints (`[[endpoints]]`).
    pub endpoints: Vec<EndpointSpec>,
    #[serde(default)]
    /// Groupings of patients for curves, tests and models (`[[groupings]]`).
    pub groupings: Vec<GroupingSpec>,
    #[serde(default)]
    /// Per-patient intervals in days (`[[intervals]]`).
    pub intervals: Vec<IntervalSpec>,
    #[serde(default)]
    /// The rows of Table 1 (`[[table1]]`).
    pub table1: Vec<Table1Spec>,
    #[serde(default)]
    /// Which analyses to run (`[analysis]`).
    pub analysis: AnalysisSpec,
    /// Competing-risks analyses (cumulative incidence, Gray's test).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub competing_risks: Vec<CompetingRiskSpec>,
    /// Subgroup analyses: the exposure's HR within each subgroup level,
    /// with the interaction test (a subgroup forest plot).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub subgroups: Vec<SubgroupSpec>,
    /// Confounding adjustment of one two-level comparison (propensity-score
    /// weighting, weighted and g-formula adjusted survival).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub adjustment: Option<AdjustmentSpec>,
    /// Exposures that switch on at a date after time zero, analysed with a
    /// Cox model on (start, stop] rows.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub time_dependent: Vec<TimeDependentSpec>,
    /// Descriptive tables: yes/no flags, cross-tables, intervals and
    /// breakdowns of a category (see [`SummarySpec`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub summaries: Vec<SummarySpec>,
}

// ---- observational-study plan sections (issue 16) ----

/// Target population of propensity-score weights.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum EstimandSpec {
    /// Whole population: treated 1/ps, control 1/(1 − ps).
    #[default]
    Ate,
    /// The exposed: treated 1, control ps/(1 − ps).
    Att,
    /// Overlap population: treated 1 − ps, control ps.
    Ato,
}

/// `[adjustment]`: a two-level grouping compared with propensity-score
/// weighting on baseline covariates.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AdjustmentSpec {
    /// A grouping with two levels; its second level is the exposed group.
    pub exposure: String,
    /// Columns (number, category or yes/no) of the propensity model;
    /// `may_be_absent` columns missing from the file are left out (and the
    /// report says so).
    pub covariates: Vec<String>,
    #[serde(default)]
    /// Target population of the weights (`ate`, `att` or `ato`).
    pub estimand: EstimandSpec,
    /// Multiply the weights by the marginal proportion of the arm.
    #[serde(default)]
    pub stabilized: bool,
    /// Drop patients with ps outside [trim, 1 − trim].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trim: Option<f64>,
    /// Endpoints analysed; default: `analysis.endpoints`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub endpoints: Vec<String>,
    /// Times (plan unit) of the weighted and adjusted survival estimates;
    /// default: `analysis.landmarks`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub times: Vec<f64>,
}

/// `[[time_dependent]]`: a yes/no exposure that is 0 from time zero and 1
/// from `date` on (e.g. started next-line therapy).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TimeDependentSpec {
    /// Name of the covariate in the model.
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// Label of the covariate as displayed; default: `name`.
    pub label: Option<String>,
    /// Date column at which the exposure switches on (blank: never).
    pub date: String,
    /// Endpoints analysed; default: `analysis.endpoints`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub endpoints: Vec<String>,
}

/// A subgroup analysis: the hazard ratio of `exposure` (a grouping; its
/// first level is the reference) within each level of
/// each grouping in `by`, on `endpoint`, with the likelihood-ratio test of
/// the exposure × subgroup interaction.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SubgroupSpec {
    /// Endpoint analysed (plan name).
    pub endpoint: String,
    /// Grouping whose hazard ratio is estimated (first level = reference).
    pub exposure: String,
    /// Groupings defining the subgroups.
    pub by: Vec<String>,
}

/// One cause of a competing-risks endpoint.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CauseSpec {
    /// Label of the cause as displayed.
    pub label: String,
    /// Date columns of this cause; the earliest present date over all causes
    /// decides which cause happened (ties: the cause listed first).
    pub columns: Vec<String>,
}

/// A competing-risks analysis: cumulative incidence of each cause by a grouping.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CompetingRiskSpec {
    /// Short name of the analysis (file names, results.json).
    pub code: String,
    /// Label of the analysis as displayed.
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
    /// Study title, shown on the report.
    pub name: String,
    /// Column holding the (unique) patient identifier.
    pub id_column: String,
    /// strftime-style date format for text dates; ISO is always accepted.
    #[serde(default = "default_date_format")]
    pub date_format: String,
    /// Start column of endpoints that do not name their own. May be left
    /// out (empty) when nothing needs it: every endpoint is a duration
    /// export and no other section measures time from a date.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub time_zero: String,
    #[serde(default)]
    /// Unit of analysis times (default months).
    pub time_unit: TimeUnit,
    #[serde(default = "default_days_per_month")]
    /// Days per month when `time_unit` is months (default 30.4375).
    pub days_per_month: f64,
    #[serde(default = "default_days_per_year")]
    /// Days per year when `time_unit` is years (default 365.25).
    pub days_per_year: f64,
    /// Cell texts read as missing in every column (trimmed, any case);
    /// a blank cell is always missing. A column's own `missing_values`
    /// adds to this list for that column.
    #[serde(default = "default_missing_values")]
    pub missing_values: Vec<String>,
    /// What to do with a date cell giving only a month and year (`1987-03`)
    /// or a year (`1987`): refuse it (the default), or impute it. A
    /// column's own `partial_dates` overrides this.
    #[serde(default, skip_serializing_if = "PartialDates::is_refuse")]
    pub partial_dates: PartialDates,
}

/// Imputation rule for partial dates (`1987-03`, `1987`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum PartialDates {
    /// A partial date is a problem of its row (as any unreadable date).
    #[default]
    Refuse,
    /// The first day: the 1st of the month, 1 January of the year.
    First,
    /// The middle: the 15th of the month, 1 July of the year.
    Middle,
}

impl PartialDates {
    /// Whether this is the default rule (refuse).
    pub fn is_refuse(&self) -> bool {
        *self == PartialDates::Refuse
    }

    /// Lower-case name (`first`).
    pub fn name(self) -> &'static str {
        match self {
            PartialDates::Refuse => "refuse",
            PartialDates::First => "first",
            PartialDates::Middle => "middle",
        }
    }

    /// The rule in words, for the methods.
    pub fn description(self) -> &'static str {
        match self {
            PartialDates::Refuse => "partial dates refused",
            PartialDates::First => {
                "imputed to the first day (the 1st of the month; 1 January when only the year is known)"
            }
            PartialDates::Middle => {
                "imputed to the middle (the 15th of the month; 1 July when only the year is known)"
            }
        }
    }
}

/// Default missing-value strings: `NA`, `N/A`, `.` (blank is always missing).
pub fn default_missing_values() -> Vec<String> {
    ["NA", "N/A", "."].iter().map(|s| s.to_string()).collect()
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
    /// Time in days.
    Days,
    /// Time in weeks (7 days).
    Weeks,
    #[default]
    /// Time in months (`days_per_month` days).
    Months,
    /// Time in years (`days_per_year` days).
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
        self.days_in(self.time_unit)
    }

    /// Number of days in one `unit` (weeks 7, months `days_per_month`,
    /// years `days_per_year`).
    pub fn days_in(&self, unit: TimeUnit) -> f64 {
        match unit {
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
    /// Free text (identifiers, notes).
    Text,
    /// A date (ISO, the study's `date_format`, or an Excel serial).
    Date,
    /// A yes/no flag.
    YesNo,
    /// One of a set of values (`values`, or any text when empty).
    Category,
    /// A number.
    Number,
}

/// Whether a column must be in the file, and whether its cells may be blank.
///
/// Every column the plan names must be in the file unless the plan says
/// `may_be_absent`: a renamed column never silently turns into "no values".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Presence {
    /// The column must be in the file and every cell filled.
    Required,
    /// The column must be in the file; cells may be blank (missing).
    #[default]
    Optional,
    /// The column may be absent from the file (the run then says so and
    /// skips what uses it); when present, cells may be blank.
    MayBeAbsent,
}

/// One input column.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ColumnSpec {
    /// Column header in the file.
    pub name: String,
    #[serde(rename = "type")]
    /// Type of the column's cells.
    pub kind: ColumnType,
    #[serde(default)]
    /// Whether the column must be in the file and its cells filled.
    pub presence: Presence,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// Label as displayed; default: `name`.
    pub label: Option<String>,
    /// Allowed values of a category column (empty = free text).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub levels: Vec<String>,
    /// Other accepted header names.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub aliases: Vec<String>,
    /// Cell texts read as missing in this column, in addition to
    /// `study.missing_values` (blank is always missing).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub missing_values: Option<Vec<String>>,
    /// Partial-date rule of this date column (default: the study's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub partial_dates: Option<PartialDates>,
}

impl ColumnSpec {
    /// Label, or the name when no label is given.
    pub fn display_label(&self) -> &str {
        self.label.as_deref().unwrap_or(&self.name)
    }
}

/// Relation of a cross-field check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DateRelation {
    /// Dates: `column` must be on or after `other` (when both are filled).
    NotBefore,
    /// Dates: `column` must be on or before `other` (when both are filled).
    NotAfter,
    /// `column` must be filled when `other` has one of `values` (any case),
    /// or, with `values` empty, whenever `other` is filled. E.g. a death
    /// date when the vital status says dead.
    PresentWhen,
    /// `column` must be blank unless `other` has one of `values` (or, with
    /// `values` empty, unless `other` is filled). E.g. no death date when the
    /// vital status says alive.
    BlankUnless,
}

/// A cross-field check between two columns. The problem is reported on
/// `column`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DateCheck {
    /// Date column the check is about (the problem is reported on it).
    pub column: String,
    /// How `column` must relate to `other`.
    pub relation: DateRelation,
    /// The other column of the check.
    pub other: String,
    /// Values of `other` for `present_when` / `blank_unless`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub values: Vec<String>,
    /// The rule in words, quoted in the problem message.
    pub description: String,
}

/// A filter of the analysed population: keep the patients whose `column`
/// has one of `values` (any case), or, for a number column, lies within
/// `min`..=`max`. Patients with a missing value are left out too.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FilterSpec {
    /// The filter in words, shown in the patient flow.
    pub description: String,
    /// Column the filter reads.
    pub column: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    /// Values kept (any case) for a text, category or yes/no column.
    pub values: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// Smallest value kept for a number column.
    pub min: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// Largest value kept for a number column.
    pub max: Option<f64>,
}

/// A cross-field check (the same type as [`DateCheck`]).
pub type Check = DateCheck;

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
    /// Event date columns; the earliest present one is the event (date
    /// endpoints; empty for a [`duration`](Self::duration) endpoint).
    #[serde(default)]
    pub events: Vec<String>,
    /// Censoring date column for event-free patients (date endpoints;
    /// empty for a [`duration`](Self::duration) endpoint).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub censor: String,
    /// Date columns that, for an event-free patient, end follow-up with
    /// censoring at the earliest present one instead of `censor`.
    #[serde(default)]
    pub censor_if_present: Vec<String>,
    /// Patients missing any of these columns are outside the endpoint's
    /// analysis population.
    #[serde(default)]
    pub require_present: Vec<String>,
    /// The event is decided by a status column rather than by the presence
    /// of a date: an event when `column` has one of `values`, at the
    /// earliest `events` date (which must then be filled); otherwise
    /// censored (and an event date is then a contradiction).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_status: Option<EventStatus>,
    /// Groupings stratifying the endpoint's multivariable Cox model
    /// (separate baseline hazards; R `+ strata(a, b)`); patients with a
    /// missing stratum are left out of that model.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub strata: Vec<String>,
    /// Unit of this endpoint's times (medians, curves, tables, ADTTE);
    /// default `study.time_unit`. The plan's other times (`landmarks`,
    /// `rmst_tau`, a grouping's `landmark`, `adjustment.times`) stay in
    /// the study's unit and are converted to this one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_unit: Option<TimeUnit>,
    /// A duration export: the time comes from a number column (in a stated
    /// unit) and the event from `event_status`, instead of dates; `start`,
    /// `events`, `censor` and `censor_if_present` are then not used.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration: Option<DurationSpec>,
}

/// The time of a duration endpoint, e.g.
/// `duration = { column = "os_days", unit = "days", from = "diagnosis" }`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DurationSpec {
    /// Number column holding the time from the origin to the event or
    /// censoring (non-negative).
    pub column: String,
    /// Unit of the numbers in `column` (weeks = 7 days, months =
    /// `days_per_month`, years = `days_per_year`).
    pub unit: TimeUnit,
    /// What the time is measured from, for axes and methods ("Months from
    /// diagnosis"); default: the label of `study.time_zero` when the plan
    /// has one, else "start of follow-up".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
}

/// A status column deciding an endpoint's event, e.g.
/// `{ column = "vital_status", values = ["Dead"] }`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EventStatus {
    /// Status column.
    pub column: String,
    /// Values (any case) meaning "the event happened"; yes/no columns: `yes`.
    pub values: Vec<String>,
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
    /// A number column cut at `cuts` (ascending): `levels[0]` below
    /// `cuts[0]`, `levels[i]` from `cuts[i-1]` (included) to `cuts[i]`
    /// (excluded), the last level from the last cut up (so `cuts = [65]`,
    /// `levels = ["<65", ">=65"]` is age ≥ 65).
    Cut,
    /// A number column in `quantiles` groups of the analysed patients, as
    /// R's `cut(x, quantile(x, 0:q/q), include.lowest = TRUE)` (type-7
    /// quantiles, right-closed intervals); `levels` labels them.
    Quantiles,
}

/// One entry of a cross grouping.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Combination {
    /// Level assigned to the combination.
    pub level: String,
    /// One value per column of the grouping (yes/no columns: `yes`/`no`).
    pub values: Vec<String>,
}

/// A grouping of patients (for KM, log-rank, Cox, Table 1 columns).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GroupingSpec {
    /// Name of the grouping (used in other plan sections and file names).
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// Label as displayed; default: `name`.
    pub label: Option<String>,
    /// How the levels are formed.
    pub kind: GroupingKind,
    /// Columns the grouping reads.
    pub columns: Vec<String>,
    /// Level order; the first level is the reference level.
    pub levels: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    /// Column-value combinations of a `cross` grouping.
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
    /// Cut points of a `cut` grouping (ascending).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cuts: Vec<f64>,
    /// Number of groups of a `quantiles` grouping (2 = halves, 3 = tertiles).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quantiles: Option<usize>,
    /// Strata of this grouping's univariable Cox model and of a stratified
    /// log-rank test (groupings, or yes/no or category columns): R
    /// `coxph(Surv(t, d) ~ g + strata(s))`, `survdiff(... ~ g + strata(s))`.
    /// Patients with a missing stratum are left out of those two only.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cox_strata: Vec<String>,
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
    /// Name of the interval (Table 1, results.json).
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// Label as displayed; default: `name`.
    pub label: Option<String>,
    /// Date column the interval starts at.
    pub from: String,
    /// Date column the interval ends at.
    pub to: String,
}

/// Kind of a Table-1 variable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VariableKind {
    /// Counts and percentages per level.
    Categorical,
    /// Median, quartiles and range.
    Continuous,
}

/// A Table-1 row: a column or a grouping.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Table1Spec {
    /// Column or grouping shown in the row.
    pub variable: String,
    /// Whether it is summarised as categories or numbers.
    pub kind: VariableKind,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// Label as displayed; default: the variable's label.
    pub label: Option<String>,
}

/// Which analyses to run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AnalysisSpec {
    #[serde(default)]
    /// Endpoints analysed (default: all).
    pub endpoints: Vec<String>,
    #[serde(default)]
    /// Groupings with Kaplan–Meier curves, log-rank tests and univariable Cox models.
    pub km_by: Vec<String>,
    #[serde(default)]
    /// Variables with a univariable Cox model per endpoint.
    pub cox_univariable: Vec<String>,
    #[serde(default)]
    /// Covariates of the multivariable Cox model.
    pub cox_covariates: Vec<String>,
    #[serde(default)]
    /// Covariates added to the multivariable model only when present in the file.
    pub cox_optional_covariates: Vec<String>,
    /// Two-way interactions of the multivariable Cox model, each a pair of
    /// its covariates (`[["rx", "sex"]]`, R `+ rx:sex`), with the
    /// likelihood-ratio test of each against the model without it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cox_interactions: Vec<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// Grouping whose levels are Table 1's columns.
    pub table1_by: Option<String>,
    #[serde(default)]
    /// Landmark times (plan unit) of the survival estimates.
    pub landmarks: Vec<f64>,
    #[serde(default = "default_confidence")]
    /// Confidence level of every interval (default 0.95).
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
            cox_interactions: Vec::new(),
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
    /// A plan column.
    Column(&'a ColumnSpec),
    /// A plan grouping.
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

    /// Time unit of an endpoint: its own, else the study's.
    pub fn endpoint_unit(&self, e: &EndpointSpec) -> TimeUnit {
        e.time_unit.unwrap_or(self.study.time_unit)
    }

    /// Days per time unit of an endpoint.
    pub fn endpoint_days_per_unit(&self, e: &EndpointSpec) -> f64 {
        self.study.days_in(self.endpoint_unit(e))
    }

    /// A time in the study's unit (landmarks, `rmst_tau`) in the endpoint's
    /// unit: `t × days per study unit / days per endpoint unit` (through
    /// days, as the endpoint's own times are, so a landmark on an event day
    /// lands exactly on it); `t` itself when the units are the same.
    pub fn to_endpoint_unit(&self, e: &EndpointSpec, t: f64) -> f64 {
        if self.endpoint_unit(e) == self.study.time_unit {
            t
        } else {
            t * self.study.days_per_unit() / self.endpoint_days_per_unit(e)
        }
    }

    /// Whether some endpoint has its own time unit or is a duration export
    /// (results.json then states the unit of each endpoint).
    pub fn has_endpoint_units(&self) -> bool {
        self.endpoints
            .iter()
            .any(|e| e.time_unit.is_some() || e.duration.is_some())
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
        too_many("subgroups", self.subgroups.len(), plan_limits::ENDPOINTS)?;
        for sg in &self.subgroups {
            too_many("subgroups.by", sg.by.len(), plan_limits::LEVELS)?;
        }
        for g in &self.groupings {
            let s = format!("groupings[{}]", clip(&g.name));
            too_many(&s, g.levels.len(), plan_limits::LEVELS)?;
            too_many(&s, g.combinations.len(), plan_limits::LEVELS)?;
            too_many(&s, g.columns.len(), plan_limits::LEVELS)?;
        }
        // (this also keeps an endpoint's end columns within a record's
        // 16-bit `end_index`)
        for e in &self.endpoints {
            let s = format!("endpoints[{}]", clip(&e.code));
            too_many(&format!("{s}.events"), e.events.len(), plan_limits::LIST)?;
            too_many(
                &format!("{s}.censor_if_present"),
                e.censor_if_present.len(),
                plan_limits::LIST,
            )?;
            too_many(
                &format!("{s}.require_present"),
                e.require_present.len(),
                plan_limits::LIST,
            )?;
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

    /// Check internal consistency; every problem is reported at once.
    pub fn validate(&self, source_name: &str) -> Result<(), PlanError> {
        self.check_sizes()
            .map_err(|(section, message)| PlanError::Invalid {
                source_name: source_name.to_string(),
                section,
                message,
            })?;
        let problems = validate::problems(self);
        match problems.len() {
            0 => Ok(()),
            1 => {
                let p = problems.into_iter().next().unwrap_or_default();
                Err(PlanError::Invalid {
                    source_name: source_name.to_string(),
                    section: p.section,
                    message: p.message,
                })
            }
            _ => Err(PlanError::InvalidMany {
                source_name: source_name.to_string(),
                problems,
            }),
        }
    }

    /// Where the plan uses a column (for messages): `endpoints[OS].events`,
    /// `groupings[x]`, ... Empty when only declared.
    pub fn column_uses(&self, name: &str) -> Vec<String> {
        usage::column_uses(self, name)
    }

    /// Partial-date rule of a column: its own, else the study's.
    pub fn partial_dates_of(&self, c: &ColumnSpec) -> PartialDates {
        c.partial_dates.unwrap_or(self.study.partial_dates)
    }

    /// Missing-value strings of a column (lower-case, trimmed): the
    /// study's list plus the column's own; blank is always missing as well.
    pub fn missing_values_of(&self, c: &ColumnSpec) -> Vec<String> {
        self.study
            .missing_values
            .iter()
            .chain(c.missing_values.iter().flatten())
            .map(|v| v.trim().to_lowercase())
            .collect()
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

    /// An endpoint's column lists are bounded like the plan's other lists
    /// (which keeps its end columns within a record's 16-bit index).
    #[test]
    fn endpoint_column_lists_are_bounded() {
        let mut p = Plan::builtin();
        let many: Vec<String> = (0..=plan_limits::LIST).map(|i| format!("c{i}")).collect();
        p.endpoints[0].events = many.clone();
        match p.validate("p.toml") {
            Err(PlanError::Invalid {
                section, message, ..
            }) => {
                assert_eq!(
                    section,
                    format!("endpoints[{}].events", p.endpoints[0].code)
                );
                assert!(message.contains("at most 200"), "{message}");
            }
            other => panic!("{other:?}"),
        }
        let mut p = Plan::builtin();
        p.endpoints[1].censor_if_present = many;
        assert!(
            matches!(p.validate("p.toml"), Err(PlanError::Invalid { section, .. }) if section.ends_with(".censor_if_present"))
        );
    }

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
