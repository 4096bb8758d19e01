//! Validation and derivation: from a [`RawTable`] and a [`Plan`] to an
//! analysable [`Cohort`] (typed patient records, endpoints, groupings,
//! Table-1 variables, Cox covariates, patient flow), or a
//! [`ValidationReport`] listing every problem found.
//!
//! Endpoint rule (stated once, applied to every endpoint): the event is the
//! earliest present date among the endpoint's event columns, even when it
//! falls after the censoring date; a patient without an event is censored at
//! the earliest present `censor_if_present` date (e.g. death, when death is
//! not an event), otherwise at the `censor` date (last follow-up). An event
//! or censoring date before the start date is a validation problem.

mod columns;
mod dates;
mod problem;
mod write;

pub use problem::{Problem, ProblemKind, ValidationReport};
pub use write::{write_adsl, write_adtte, ADSL_FILE, ADTTE_FILE};

use std::collections::{BTreeMap, BTreeSet};

use chrono::NaiveDate;
use serde::{Serialize, Serializer};

use crate::flow::{Excluded, FilterStep, Flow};
use crate::ingest::{
    format_number, parse_date, parse_number, parse_yes_no, DateFormat, RawTable, ValueError,
};
use crate::plan::{
    ColumnSpec, ColumnType, EndpointSpec, GroupingKind, GroupingSpec, Plan, Presence, TimeUnit,
    VariableKind, VariableRef,
};

/// What to do with patients whose rows have problems.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ExcludePolicy {
    /// Any problem stops the run (the default).
    #[default]
    Stop,
    /// Leave out rows with problems and list them in the flow. Problems of
    /// the table itself (missing column, bad date format) still stop.
    ExcludeInvalid,
}

/// Options of [`derive()`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeriveOptions {
    pub exclude: ExcludePolicy,
    /// Overrides the plan's date format when set.
    pub date_format: Option<String>,
}

/// A typed cell value.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Missing,
    Text(String),
    Date(NaiveDate),
    YesNo(bool),
    /// Category value, spelled as the plan's level when levels are declared.
    Category(String),
    Number(f64),
}

impl Value {
    /// Text form: ISO dates, `yes`/`no`, numbers without trailing `.0`,
    /// empty for missing.
    pub fn to_text(&self) -> String {
        match self {
            Value::Missing => String::new(),
            Value::Text(s) | Value::Category(s) => s.clone(),
            Value::Date(d) => iso(*d),
            Value::YesNo(b) => yes_no_label(*b).to_string(),
            Value::Number(v) => format_number(*v),
        }
    }
}

impl Serialize for Value {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Value::Missing => s.serialize_none(),
            Value::Number(v) => s.serialize_f64(*v),
            other => s.serialize_str(&other.to_text()),
        }
    }
}

/// `yes` / `no`.
pub fn yes_no_label(b: bool) -> &'static str {
    if b {
        "yes"
    } else {
        "no"
    }
}

fn iso(d: NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

fn ser_date<S: Serializer>(d: &NaiveDate, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&iso(*d))
}

/// One analysed patient.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PatientRecord {
    pub id: String,
    /// Line in the input file.
    pub line: u64,
    /// Typed values of the plan's columns (canonical names); optional
    /// columns absent from the file are not listed.
    pub values: BTreeMap<String, Value>,
    /// Columns not in the plan, by header as written, kept for reference.
    pub extra: BTreeMap<String, String>,
}

impl PatientRecord {
    pub fn value(&self, column: &str) -> &Value {
        self.values.get(column).unwrap_or(&Value::Missing)
    }
    pub fn date(&self, column: &str) -> Option<NaiveDate> {
        match self.value(column) {
            Value::Date(d) => Some(*d),
            _ => None,
        }
    }
    pub fn flag(&self, column: &str) -> Option<bool> {
        match self.value(column) {
            Value::YesNo(b) => Some(*b),
            _ => None,
        }
    }
    pub fn number(&self, column: &str) -> Option<f64> {
        match self.value(column) {
            Value::Number(v) => Some(*v),
            _ => None,
        }
    }
    pub fn category(&self, column: &str) -> Option<&str> {
        match self.value(column) {
            Value::Category(s) | Value::Text(s) => Some(s),
            _ => None,
        }
    }
}

/// One patient's time-to-event record for an endpoint.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TteRecord {
    #[serde(serialize_with = "ser_date")]
    pub start: NaiveDate,
    /// Event or censoring date.
    #[serde(serialize_with = "ser_date")]
    pub end: NaiveDate,
    pub days: i64,
    /// Time in the plan's unit (`days / days_per_unit`).
    pub time: f64,
    pub event: bool,
    /// Column that supplied `end`.
    pub end_column: String,
    /// Label of the event (when `event`) or of the censoring date.
    pub description: String,
}

/// An endpoint's records, aligned with [`Cohort::patients`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EndpointData {
    pub code: String,
    pub label: String,
    pub unit: TimeUnit,
    pub days_per_unit: f64,
    /// `None`: the patient is outside this endpoint's population
    /// (`require_present`).
    pub records: Vec<Option<TteRecord>>,
}

impl EndpointData {
    /// Patients in the population: (patient index, time, event).
    pub fn analysis_rows(&self) -> (Vec<usize>, Vec<f64>, Vec<bool>) {
        let mut idx = Vec::new();
        let mut time = Vec::new();
        let mut event = Vec::new();
        for (i, r) in self.records.iter().enumerate() {
            if let Some(r) = r {
                idx.push(i);
                time.push(r.time);
                event.push(r.event);
            }
        }
        (idx, time, event)
    }
    /// Number of patients in the population.
    pub fn n(&self) -> usize {
        self.records.iter().flatten().count()
    }
    /// Number of events.
    pub fn events(&self) -> usize {
        self.records.iter().flatten().filter(|r| r.event).count()
    }
}

/// A grouping's per-patient labels, aligned with [`Cohort::patients`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GroupingData {
    pub name: String,
    pub label: String,
    pub kind: GroupingKind,
    /// Level order; the first is the reference level.
    pub levels: Vec<String>,
    /// `None` = missing.
    pub labels: Vec<Option<String>>,
}

impl GroupingData {
    /// Number of patients per level, in level order.
    pub fn counts(&self) -> Vec<(String, usize)> {
        self.levels
            .iter()
            .map(|l| {
                let n = self
                    .labels
                    .iter()
                    .filter(|x| x.as_deref() == Some(l))
                    .count();
                (l.clone(), n)
            })
            .collect()
    }
    /// Number of patients with a missing label.
    pub fn missing(&self) -> usize {
        self.labels.iter().filter(|l| l.is_none()).count()
    }
    /// Level index per patient (0 = reference).
    pub fn level_index(&self) -> Vec<Option<usize>> {
        self.labels
            .iter()
            .map(|l| {
                l.as_ref()
                    .and_then(|l| self.levels.iter().position(|x| x == l))
            })
            .collect()
    }
}

/// Values of a Table-1 variable or Cox covariate, aligned with patients.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum VariableValues {
    Categorical {
        /// Level order (declared, or observed values sorted); first = reference.
        levels: Vec<String>,
        values: Vec<Option<String>>,
    },
    Continuous {
        values: Vec<Option<f64>>,
    },
}

/// A Table-1 variable or Cox covariate.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct VariableData {
    pub name: String,
    pub label: String,
    pub values: VariableValues,
}

impl VariableData {
    pub fn kind(&self) -> VariableKind {
        match self.values {
            VariableValues::Categorical { .. } => VariableKind::Categorical,
            VariableValues::Continuous { .. } => VariableKind::Continuous,
        }
    }
}

/// Yes/no count of a flag (yes/no column or any-yes grouping).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FlagCount {
    pub name: String,
    pub yes: usize,
    pub no: usize,
    pub missing: usize,
}

/// Per-patient interval in days, aligned with patients.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct IntervalData {
    pub name: String,
    pub label: String,
    pub days: Vec<Option<i64>>,
}

/// The validated, derived analysis cohort.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Cohort {
    pub file: String,
    pub study_name: String,
    pub date_format: String,
    pub flow: Flow,
    /// Lines of blank rows skipped while reading.
    pub blank_lines: Vec<u64>,
    /// Plan columns found in the input (canonical names, plan order).
    pub present_columns: Vec<String>,
    /// Optional plan columns not in the input.
    pub absent_columns: Vec<String>,
    /// Input columns not in the plan (headers as written).
    pub extra_columns: Vec<String>,
    pub patients: Vec<PatientRecord>,
    pub endpoints: Vec<EndpointData>,
    pub groupings: Vec<GroupingData>,
    /// Table-1 variables whose columns are present, in plan order.
    pub table1: Vec<VariableData>,
    /// Multivariable Cox covariates: `cox_covariates` plus the optional ones
    /// whose columns are present.
    pub cox_covariates: Vec<VariableData>,
    pub flag_counts: Vec<FlagCount>,
    pub intervals: Vec<IntervalData>,
}

impl Cohort {
    pub fn endpoint(&self, code: &str) -> Option<&EndpointData> {
        self.endpoints.iter().find(|e| e.code == code)
    }
    pub fn grouping(&self, name: &str) -> Option<&GroupingData> {
        self.groupings.iter().find(|g| g.name == name)
    }
    pub fn flag_count(&self, name: &str) -> Option<&FlagCount> {
        self.flag_counts.iter().find(|f| f.name == name)
    }
    pub fn interval(&self, name: &str) -> Option<&IntervalData> {
        self.intervals.iter().find(|i| i.name == name)
    }
    /// Days from CAR-T infusion to progression (built-in interval
    /// `infusion_to_progression`).
    pub fn days_infusion_to_progression(&self) -> Option<&[Option<i64>]> {
        self.interval("infusion_to_progression")
            .map(|i| i.days.as_slice())
    }
}

/// Per-row working state.
struct Row {
    line: u64,
    id: Option<String>,
    values: BTreeMap<String, Value>,
    raw: BTreeMap<String, String>,
    extra: BTreeMap<String, String>,
    problems: Vec<Problem>,
    /// Columns that already have a problem (no follow-up problems on them).
    bad: BTreeSet<String>,
    endpoints: Vec<Option<TteRecord>>,
    groupings: Vec<Option<String>>,
}

impl Row {
    fn problem(&mut self, file: &str, column: &str, kind: ProblemKind, message: String) {
        self.bad.insert(column.to_string());
        self.problems.push(Problem {
            file: file.to_string(),
            line: Some(self.line),
            patient_id: self.id.clone(),
            column: Some(column.to_string()),
            value: self.raw.get(column).cloned(),
            kind,
            message,
        });
    }
    fn date(&self, c: &str) -> Option<NaiveDate> {
        match self.values.get(c) {
            Some(Value::Date(d)) => Some(*d),
            _ => None,
        }
    }
}

/// Validate `table` against `plan` and derive the analysis cohort.
pub fn derive(
    plan: &Plan,
    table: &RawTable,
    opts: &DeriveOptions,
) -> Result<Cohort, ValidationReport> {
    let file = table.file.as_str();
    let report = |problems: Vec<Problem>| ValidationReport {
        file: file.to_string(),
        rows_read: table.rows.len(),
        summaries: date_summaries(plan, &problems, fmt_text_of(plan, opts).as_str()),
        problems,
    };
    let table_problem =
        |line: Option<u64>, column: Option<&str>, value: Option<String>, kind, message| Problem {
            file: file.to_string(),
            line,
            patient_id: None,
            column: column.map(str::to_string),
            value,
            kind,
            message,
        };

    // Table-level checks: date format and header.
    let mut fatal = Vec::new();
    let fmt_text = fmt_text_of(plan, opts);
    let format = match DateFormat::new(&fmt_text) {
        Ok(f) => Some(f),
        Err(m) => {
            fatal.push(table_problem(
                None,
                None,
                Some(fmt_text.clone()),
                ProblemKind::BadDateFormat,
                m,
            ));
            None
        }
    };
    let mut col_index: Vec<(&ColumnSpec, usize)> = Vec::new();
    let mut absent = Vec::new();
    let mut used = BTreeSet::new();
    for spec in &plan.columns {
        let mut found: Vec<usize> = Vec::new();
        for n in std::iter::once(&spec.name).chain(&spec.aliases) {
            for i in table.find_columns(n) {
                if !found.contains(&i) {
                    found.push(i);
                }
            }
        }
        match found.as_slice() {
            [] if spec.presence == Presence::MayBeAbsent => absent.push(spec.name.clone()),
            [] => fatal.push(table_problem(
                Some(table.header_line),
                Some(&spec.name),
                None,
                ProblemKind::MissingColumn,
                columns::missing_column_message(plan, spec, table),
            )),
            [i] => {
                used.insert(*i);
                col_index.push((spec, *i));
            }
            many => fatal.push(table_problem(
                Some(table.header_line),
                Some(&spec.name),
                Some(
                    many.iter()
                        .map(|i| table.headers[*i].clone())
                        .collect::<Vec<_>>()
                        .join(" | "),
                ),
                ProblemKind::DuplicateColumn,
                format!(
                    "{} header cells match column '{}' (columns {})",
                    many.len(),
                    spec.name,
                    many.iter()
                        .map(|i| (i + 1).to_string())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            )),
        }
    }
    let format = match format {
        Some(f) if fatal.is_empty() => f,
        _ => return Err(report(fatal)),
    };
    let extra_idx: Vec<usize> = (0..table.headers.len())
        .filter(|i| !used.contains(i))
        .collect();
    let present: BTreeSet<&str> = col_index.iter().map(|(c, _)| c.name.as_str()).collect();

    // Rows: parse cells.
    let missing_sets: Vec<BTreeSet<String>> = col_index
        .iter()
        .map(|(spec, _)| plan.missing_values_of(spec).into_iter().collect())
        .collect();
    let id_col = plan
        .column(&plan.study.id_column)
        .map(|c| c.name.clone())
        .unwrap_or_default();
    let mut rows: Vec<Row> = Vec::with_capacity(table.rows.len());
    for raw_row in &table.rows {
        let mut row = Row {
            line: raw_row.line,
            id: None,
            values: BTreeMap::new(),
            raw: BTreeMap::new(),
            extra: BTreeMap::new(),
            problems: Vec::new(),
            bad: BTreeSet::new(),
            endpoints: Vec::new(),
            groupings: Vec::new(),
        };
        for (spec, i) in &col_index {
            row.raw.insert(spec.name.clone(), raw_row.cells[*i].clone());
        }
        for &i in &extra_idx {
            row.extra
                .insert(table.headers[i].clone(), raw_row.cells[i].clone());
        }
        let id = row.raw.get(&id_col).map(|s| s.trim().to_string());
        row.id = id.filter(|s| !s.is_empty());
        for (k, (spec, _)) in col_index.iter().enumerate() {
            let cell = row.raw[&spec.name].clone();
            let value = parse_cell(spec, &cell, &format, &missing_sets[k]);
            match value {
                Ok(Value::Missing) if spec.presence == Presence::Required => {
                    row.problem(
                        file,
                        &spec.name,
                        ProblemKind::MissingValue,
                        format!("required value is missing ({})", spec.display_label()),
                    );
                }
                Ok(v) => {
                    row.values.insert(spec.name.clone(), v);
                }
                Err((kind, message)) => row.problem(file, &spec.name, kind, message),
            }
        }
        rows.push(row);
    }

    // Duplicate ids: every occurrence is reported.
    let mut by_id: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    for (i, r) in rows.iter().enumerate() {
        if let Some(id) = &r.id {
            by_id.entry(id.clone()).or_default().push(i);
        }
    }
    for idxs in by_id.values().filter(|v| v.len() > 1) {
        for &i in idxs {
            let others: Vec<String> = idxs
                .iter()
                .filter(|&&j| j != i)
                .map(|&j| rows[j].line.to_string())
                .collect();
            // at most 10 other lines listed (10^5 copies of one id would
            // otherwise give 10^5 lines of 10^5 numbers each)
            let msg = format!(
                "duplicate {}: also on line {}",
                id_col,
                crate::ingest::clip_list(&others, 10)
            );
            rows[i].problem(file, &id_col, ProblemKind::DuplicateId, msg);
        }
    }

    // Cross-field checks (skipped when a column is absent: said in the notes).
    for row in rows.iter_mut() {
        for chk in &plan.checks {
            let (col, other) = (canon(plan, &chk.column), canon(plan, &chk.other));
            if !present.contains(col.as_str()) || !present.contains(other.as_str()) {
                continue;
            }
            if row.bad.contains(&col) || row.bad.contains(&other) {
                continue;
            }
            if let Some(msg) = check_row(chk, row, &col, &other) {
                row.problem(file, &col, ProblemKind::DateOrder, msg);
            }
        }
    }

    // Groupings and endpoints per row.
    for row in rows.iter_mut() {
        for g in &plan.groupings {
            let label = grouping_label(plan, g, row, file);
            row.groupings.push(label);
        }
        for e in &plan.endpoints {
            let rec = endpoint_record(plan, e, row, file, &present);
            row.endpoints.push(rec);
        }
    }

    // Exclusion.
    let mut problems: Vec<Problem> = Vec::new();
    let mut excluded = Vec::new();
    let mut kept: Vec<Row> = Vec::new();
    for row in rows {
        if row.problems.is_empty() {
            kept.push(row);
            continue;
        }
        excluded.push(Excluded::from_problems(
            row.line,
            row.id.clone(),
            &row.problems,
        ));
        problems.extend(row.problems);
    }
    if !problems.is_empty() && opts.exclude == ExcludePolicy::Stop {
        return Err(report(problems));
    }
    let filters = apply_filters(plan, &mut kept, &mut excluded);

    let mut cohort = build_cohort(
        plan, table, fmt_text, kept, excluded, absent, extra_idx, &present,
    );
    cohort.flow.filters = filters;
    Ok(cohort)
}

fn fmt_text_of(plan: &Plan, opts: &DeriveOptions) -> String {
    opts.date_format
        .clone()
        .unwrap_or_else(|| plan.study.date_format.clone())
}

/// One summary per date column with unreadable cells: the format they look
/// like and the `--date-format` to use.
fn date_summaries(plan: &Plan, problems: &[Problem], current: &str) -> Vec<String> {
    let mut by_col: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for p in problems.iter().filter(|p| p.kind == ProblemKind::BadDate) {
        if let (Some(c), Some(v)) = (&p.column, &p.value) {
            by_col.entry(c.as_str()).or_default().push(v.as_str());
        }
    }
    plan.columns
        .iter()
        .filter_map(|c| {
            by_col
                .get(c.name.as_str())
                .map(|bad| dates::format_summary(&c.name, bad, current))
        })
        .collect()
}

/// A failed cross-field check's message, `None` when the row passes.
fn check_row(chk: &crate::plan::Check, row: &Row, col: &str, other: &str) -> Option<String> {
    use crate::plan::DateRelation as R;
    let filled = |c: &str| !matches!(row.values.get(c), None | Some(Value::Missing));
    let other_text = row
        .values
        .get(other)
        .map(Value::to_text)
        .unwrap_or_default();
    let other_matches = || {
        if chk.values.is_empty() {
            filled(other)
        } else {
            chk.values
                .iter()
                .any(|v| v.trim().eq_ignore_ascii_case(other_text.trim()))
        }
    };
    let shown = |c: &str| {
        let t = row.values.get(c).map(Value::to_text).unwrap_or_default();
        if t.is_empty() {
            format!("{c} is blank")
        } else {
            format!("{c} is {t}")
        }
    };
    match chk.relation {
        R::NotBefore | R::NotAfter => {
            let (a, b) = (row.date(col)?, row.date(other)?);
            let ok = if chk.relation == R::NotBefore {
                a >= b
            } else {
                a <= b
            };
            (!ok).then(|| format!("{} ({} is {})", chk.description, other, iso(b)))
        }
        R::PresentWhen => (other_matches() && !filled(col))
            .then(|| format!("{} ({})", chk.description, shown(other))),
        R::BlankUnless => (filled(col) && !other_matches())
            .then(|| format!("{} ({})", chk.description, shown(other))),
    }
}

/// Canonical plan spelling of a column name.
fn canon(plan: &Plan, name: &str) -> String {
    plan.column(name)
        .map(|c| c.name.clone())
        .unwrap_or_else(|| name.to_string())
}

fn parse_cell(
    spec: &ColumnSpec,
    cell: &str,
    format: &DateFormat,
    missing: &BTreeSet<String>,
) -> Result<Value, (ProblemKind, String)> {
    let value_err = |kind, e: ValueError| (kind, e.to_string());
    let trimmed = cell.trim();
    if trimmed.is_empty() || missing.contains(&trimmed.to_lowercase()) {
        return Ok(Value::Missing);
    }
    Ok(match spec.kind {
        ColumnType::Text if trimmed.is_empty() => Value::Missing,
        ColumnType::Text => Value::Text(trimmed.to_string()),
        ColumnType::Date => match parse_date(cell, format) {
            Ok(Some(d)) => Value::Date(d),
            Ok(None) => Value::Missing,
            Err(e) => return Err(value_err(ProblemKind::BadDate, e)),
        },
        ColumnType::YesNo => match parse_yes_no(cell) {
            Ok(Some(b)) => Value::YesNo(b),
            Ok(None) => Value::Missing,
            Err(e) => return Err(value_err(ProblemKind::BadYesNo, e)),
        },
        ColumnType::Number => match parse_number(cell) {
            Ok(Some(v)) => Value::Number(v),
            Ok(None) => Value::Missing,
            Err(e) => return Err(value_err(ProblemKind::BadNumber, e)),
        },
        ColumnType::Category if trimmed.is_empty() => Value::Missing,
        ColumnType::Category if spec.levels.is_empty() => Value::Category(trimmed.to_string()),
        ColumnType::Category => match match_level(&spec.levels, trimmed) {
            Some(l) => Value::Category(l),
            None => {
                return Err((
                    ProblemKind::BadCategory,
                    format!("not one of: {}", spec.levels.join(", ")),
                ))
            }
        },
    })
}

/// The level spelled as declared, matching case-insensitively after trimming.
fn match_level(levels: &[String], value: &str) -> Option<String> {
    let v = value.trim().to_lowercase();
    levels
        .iter()
        .find(|l| l.trim().to_lowercase() == v)
        .cloned()
}

/// Text of a column for groupings: `yes`/`no` or the category.
fn group_text(row: &Row, column: &str) -> Option<String> {
    match row.values.get(column)? {
        Value::YesNo(b) => Some(yes_no_label(*b).to_string()),
        Value::Category(s) | Value::Text(s) => Some(s.clone()),
        _ => None,
    }
}

fn grouping_label(plan: &Plan, g: &GroupingSpec, row: &mut Row, file: &str) -> Option<String> {
    let cols: Vec<String> = g.columns.iter().map(|c| canon(plan, c)).collect();
    match g.kind {
        GroupingKind::Cut => {
            let x = match row.values.get(&cols[0]) {
                Some(Value::Number(x)) => *x,
                _ => return None,
            };
            let k = g.cuts.iter().filter(|c| x >= **c).count();
            g.levels.get(k).cloned()
        }
        // needs every patient's value: filled in by `quantile_labels`
        GroupingKind::Quantiles => None,
        GroupingKind::YesNo => group_text(row, &cols[0]),
        GroupingKind::Category if g.levels.is_empty() => group_text(row, &cols[0]),
        GroupingKind::Category => {
            let v = group_text(row, &cols[0])?;
            match match_level(&g.levels, &v) {
                Some(l) => Some(l),
                None => {
                    if !row.bad.contains(&cols[0]) {
                        row.problem(
                            file,
                            &cols[0],
                            ProblemKind::BadCategory,
                            format!(
                                "not a level of grouping {} ({})",
                                g.name,
                                g.levels.join(", ")
                            ),
                        );
                    }
                    None
                }
            }
        }
        GroupingKind::AnyYes => {
            let vals: Vec<Option<bool>> = cols
                .iter()
                .map(|c| match row.values.get(c) {
                    Some(Value::YesNo(b)) => Some(*b),
                    _ => None,
                })
                .collect();
            if vals.contains(&Some(true)) {
                Some("yes".into())
            } else if vals.iter().all(|v| *v == Some(false)) {
                Some("no".into())
            } else {
                None
            }
        }
        GroupingKind::Cross => {
            let vals: Option<Vec<String>> = cols.iter().map(|c| group_text(row, c)).collect();
            let vals = vals?;
            let found = g.combinations.iter().find(|comb| {
                comb.values
                    .iter()
                    .zip(&vals)
                    .all(|(a, b)| a.trim().eq_ignore_ascii_case(b.trim()))
            });
            match found {
                Some(c) => Some(c.level.clone()),
                None => {
                    if !cols.iter().any(|c| row.bad.contains(c)) {
                        row.problem(
                            file,
                            &cols[0],
                            ProblemKind::UncoveredCombination,
                            format!(
                                "values ({}) of {} match no level of grouping {}",
                                crate::ingest::clip_list(&vals, 20),
                                cols.join(", "),
                                g.name
                            ),
                        );
                    }
                    None
                }
            }
        }
    }
}

fn endpoint_record(
    plan: &Plan,
    e: &EndpointSpec,
    row: &mut Row,
    file: &str,
    present: &BTreeSet<&str>,
) -> Option<TteRecord> {
    let start_col = canon(plan, plan.endpoint_start(e));
    let censor_col = canon(plan, &e.censor);
    let events: Vec<String> = e.events.iter().map(|c| canon(plan, c)).collect();
    let censor_if: Vec<String> = e.censor_if_present.iter().map(|c| canon(plan, c)).collect();
    let all = std::iter::once(&start_col)
        .chain(std::iter::once(&censor_col))
        .chain(&events)
        .chain(&censor_if);
    // Columns with problems already reported: nothing more to say here.
    if all.clone().any(|c| row.bad.contains(c)) {
        return None;
    }
    for c in &e.require_present {
        let c = canon(plan, c);
        let has = present.contains(c.as_str())
            && !matches!(row.values.get(&c), None | Some(Value::Missing));
        if !has {
            return None;
        }
    }
    let Some(start) = row.date(&start_col) else {
        row.problem(
            file,
            &start_col,
            ProblemKind::MissingValue,
            format!("start date of endpoint {} is missing", e.code),
        );
        return None;
    };
    let label = |c: &str| {
        plan.column(c)
            .map(|s| s.display_label().to_string())
            .unwrap_or_else(|| c.to_string())
    };
    let earliest = |cols: &[String]| {
        cols.iter()
            .filter_map(|c| row.date(c).map(|d| (d, c.clone())))
            .min_by_key(|(d, _)| *d)
    };
    let status_col = e.event_status.as_ref().map(|st| canon(plan, &st.column));
    if status_col.as_ref().is_some_and(|c| row.bad.contains(c)) {
        return None;
    }
    let status_event = match (&e.event_status, &status_col) {
        (Some(st), Some(col)) => {
            let text = row.values.get(col).map(Value::to_text).unwrap_or_default();
            if text.is_empty() {
                row.problem(
                    file,
                    col,
                    ProblemKind::MissingValue,
                    format!("event status of endpoint {} is missing", e.code),
                );
                return None;
            }
            let ev = st
                .values
                .iter()
                .any(|v| v.trim().eq_ignore_ascii_case(text.trim()));
            let date = earliest(&events);
            match (ev, &date) {
                (true, None) => {
                    let msg = format!(
                        "{col} is {text} (an event of endpoint {}) but {} has no date",
                        e.code,
                        events.join(", ")
                    );
                    row.problem(file, &events[0], ProblemKind::StatusConflict, msg);
                    return None;
                }
                (false, Some((_, c))) => {
                    let msg = format!(
                        "{c} has a date but {col} is {text} (not an event of endpoint {})",
                        e.code
                    );
                    let c = c.clone();
                    row.problem(file, &c, ProblemKind::StatusConflict, msg);
                    return None;
                }
                _ => {}
            }
            Some(ev)
        }
        _ => None,
    };
    let event_date = match status_event {
        Some(false) => None,
        _ => earliest(&events),
    };
    let (end, end_column, event) = if let Some((d, c)) = event_date {
        (d, c, true)
    } else if let Some((d, c)) = earliest(&censor_if) {
        (d, c, false)
    } else if let Some(d) = row.date(&censor_col) {
        (d, censor_col.clone(), false)
    } else {
        row.problem(
            file,
            &censor_col,
            ProblemKind::MissingValue,
            format!("censoring date of endpoint {} is missing", e.code),
        );
        return None;
    };
    if end < start {
        row.problem(
            file,
            &end_column,
            ProblemKind::BeforeStart,
            format!(
                "{} date of endpoint {} is before its start {} ({})",
                if event { "event" } else { "censoring" },
                e.code,
                start_col,
                iso(start)
            ),
        );
        return None;
    }
    let days = (end - start).num_days();
    Some(TteRecord {
        start,
        end,
        days,
        time: days as f64 / plan.study.days_per_unit(),
        event,
        description: if event {
            label(&end_column)
        } else {
            format!("Censored at {}", label(&end_column).to_lowercase())
        },
        end_column,
    })
}

#[allow(clippy::too_many_arguments)]
fn build_cohort(
    plan: &Plan,
    table: &RawTable,
    date_format: String,
    kept: Vec<Row>,
    excluded: Vec<Excluded>,
    absent: Vec<String>,
    extra_idx: Vec<usize>,
    present: &BTreeSet<&str>,
) -> Cohort {
    let n = kept.len();
    let endpoints: Vec<EndpointData> = plan
        .endpoints
        .iter()
        .enumerate()
        .map(|(k, e)| EndpointData {
            code: e.code.clone(),
            label: e.label.clone(),
            unit: plan.study.time_unit,
            days_per_unit: plan.study.days_per_unit(),
            records: kept.iter().map(|r| r.endpoints[k].clone()).collect(),
        })
        .collect();
    let mut kept = kept;
    for (k, g) in plan.groupings.iter().enumerate() {
        if g.kind == GroupingKind::Quantiles {
            let col = canon(plan, &g.columns[0]);
            let x: Vec<Option<f64>> = kept
                .iter()
                .map(|r| match r.values.get(&col) {
                    Some(Value::Number(v)) => Some(*v),
                    _ => None,
                })
                .collect();
            for (r, l) in kept.iter_mut().zip(quantile_labels(&x, &g.levels)) {
                r.groupings[k] = l;
            }
        }
    }
    let groupings: Vec<GroupingData> = plan
        .groupings
        .iter()
        .enumerate()
        .map(|(k, g)| GroupingData {
            name: g.name.clone(),
            label: g.display_label().to_string(),
            kind: g.kind,
            levels: if g.levels.is_empty() {
                // free-text category grouping: the observed values, sorted
                let mut lv: Vec<String> =
                    kept.iter().filter_map(|r| r.groupings[k].clone()).collect();
                lv.sort();
                lv.dedup();
                lv
            } else {
                g.levels.clone()
            },
            labels: kept.iter().map(|r| r.groupings[k].clone()).collect(),
        })
        .collect();
    let patients: Vec<PatientRecord> = kept
        .into_iter()
        .map(|r| PatientRecord {
            id: r.id.unwrap_or_default(),
            line: r.line,
            values: r.values,
            extra: r.extra,
        })
        .collect();

    let grouping_present = |g: &GroupingSpec| {
        g.columns
            .iter()
            .all(|c| present.contains(canon(plan, c).as_str()))
    };
    let variable = |name: &str, kind: Option<VariableKind>, label: Option<&str>| {
        let vr = plan.variable(name)?;
        let (label0, values) = match vr {
            VariableRef::Column(c) => {
                if !present.contains(c.name.as_str()) {
                    return None;
                }
                let kind = kind.unwrap_or(if c.kind == ColumnType::Number {
                    VariableKind::Continuous
                } else {
                    VariableKind::Categorical
                });
                let values = match kind {
                    VariableKind::Continuous => VariableValues::Continuous {
                        values: patients.iter().map(|p| p.number(&c.name)).collect(),
                    },
                    VariableKind::Categorical => {
                        let values: Vec<Option<String>> = patients
                            .iter()
                            .map(|p| match p.value(&c.name) {
                                Value::Missing => None,
                                v => Some(v.to_text()),
                            })
                            .collect();
                        let levels = match c.kind {
                            ColumnType::YesNo => vec!["no".to_string(), "yes".to_string()],
                            ColumnType::Category if !c.levels.is_empty() => c.levels.clone(),
                            _ => observed_levels(&values),
                        };
                        VariableValues::Categorical { levels, values }
                    }
                };
                (c.display_label().to_string(), values)
            }
            VariableRef::Grouping(g) => {
                if !grouping_present(g) {
                    return None;
                }
                let gd = groupings.iter().find(|x| x.name == g.name)?;
                (
                    gd.label.clone(),
                    VariableValues::Categorical {
                        levels: gd.levels.clone(),
                        values: gd.labels.clone(),
                    },
                )
            }
        };
        Some(VariableData {
            name: name.to_string(),
            label: label.map(str::to_string).unwrap_or(label0),
            values,
        })
    };
    let table1 = plan
        .table1
        .iter()
        .filter_map(|t| variable(&t.variable, Some(t.kind), t.label.as_deref()))
        .collect();
    let cox_covariates = plan
        .analysis
        .cox_covariates
        .iter()
        .chain(&plan.analysis.cox_optional_covariates)
        .filter_map(|v| variable(v, None, None))
        .collect();

    let mut flag_counts = Vec::new();
    for c in plan.columns.iter().filter(|c| c.kind == ColumnType::YesNo) {
        if !present.contains(c.name.as_str()) {
            continue;
        }
        let f: Vec<Option<bool>> = patients.iter().map(|p| p.flag(&c.name)).collect();
        flag_counts.push(FlagCount {
            name: c.name.clone(),
            yes: f.iter().filter(|x| **x == Some(true)).count(),
            no: f.iter().filter(|x| **x == Some(false)).count(),
            missing: f.iter().filter(|x| x.is_none()).count(),
        });
    }
    for g in groupings.iter().filter(|g| g.kind == GroupingKind::AnyYes) {
        if flag_counts.iter().any(|f| f.name == g.name) {
            continue;
        }
        flag_counts.push(FlagCount {
            name: g.name.clone(),
            yes: g
                .labels
                .iter()
                .filter(|x| x.as_deref() == Some("yes"))
                .count(),
            no: g
                .labels
                .iter()
                .filter(|x| x.as_deref() == Some("no"))
                .count(),
            missing: g.missing(),
        });
    }
    let intervals = plan
        .intervals
        .iter()
        .map(|iv| {
            let from = canon(plan, &iv.from);
            let to = canon(plan, &iv.to);
            IntervalData {
                name: iv.name.clone(),
                label: iv.label.clone().unwrap_or_else(|| iv.name.clone()),
                days: patients
                    .iter()
                    .map(|p| Some((p.date(&to)? - p.date(&from)?).num_days()))
                    .collect(),
            }
        })
        .collect();

    let notes = run_notes(plan, &absent, &endpoints, n);
    Cohort {
        file: table.file.clone(),
        study_name: plan.study.name.clone(),
        date_format,
        flow: Flow {
            rows_read: table.rows.len(),
            analysed: n,
            excluded,
            filters: Vec::new(),
            notes,
        },
        blank_lines: table.blank_lines.clone(),
        present_columns: plan
            .columns
            .iter()
            .filter(|c| present.contains(c.name.as_str()))
            .map(|c| c.name.clone())
            .collect(),
        absent_columns: absent,
        extra_columns: extra_idx
            .iter()
            .map(|&i| table.headers[i].clone())
            .collect(),
        patients,
        endpoints,
        groupings,
        table1,
        cox_covariates,
        flag_counts,
        intervals,
    }
}

/// Apply the plan's population filters in order: the rows left out join
/// `excluded` (in file order) with the filter as their reason.
fn apply_filters(
    plan: &Plan,
    kept: &mut Vec<Row>,
    excluded: &mut Vec<Excluded>,
) -> Vec<FilterStep> {
    let mut steps = Vec::new();
    for f in &plan.filters {
        let col = canon(plan, &f.column);
        let before = kept.len();
        let (keep, out): (Vec<Row>, Vec<Row>) =
            std::mem::take(kept)
                .into_iter()
                .partition(|r| match r.values.get(&col) {
                    Some(Value::Number(x)) if f.values.is_empty() => {
                        f.min.is_none_or(|m| *x >= m) && f.max.is_none_or(|m| *x <= m)
                    }
                    None | Some(Value::Missing) => false,
                    Some(v) => {
                        let t = v.to_text();
                        f.values
                            .iter()
                            .any(|w| w.trim().eq_ignore_ascii_case(t.trim()))
                    }
                });
        *kept = keep;
        for r in &out {
            let shown = r.values.get(&col).map(Value::to_text).unwrap_or_default();
            excluded.push(Excluded {
                line: r.line,
                patient_id: r.id.clone(),
                reason: format!(
                    "outside the analysed population: {} ({col} is {})",
                    f.description,
                    if shown.is_empty() {
                        "missing".to_string()
                    } else {
                        shown
                    }
                ),
                causes: vec![crate::flow::ExclusionCause {
                    column: Some(col.clone()),
                    kind: ProblemKind::OutsidePopulation,
                    summary: format!("outside the analysed population: {}", f.description),
                }],
            });
        }
        steps.push(FilterStep {
            description: f.description.clone(),
            column: col,
            excluded: before - kept.len(),
            remaining: kept.len(),
        });
    }
    excluded.sort_by_key(|e| e.line);
    steps
}

/// R's type-7 quantile of sorted values at probability `p`.
fn quantile7(sorted: &[f64], p: f64) -> f64 {
    let h = (sorted.len() - 1) as f64 * p;
    let lo = h.floor() as usize;
    let hi = (lo + 1).min(sorted.len() - 1);
    sorted[lo] + (h - lo as f64) * (sorted[hi] - sorted[lo])
}

/// Labels of `cut(x, quantile(x, 0:q/q), include.lowest = TRUE)` with
/// q = `levels.len()`: group i holds (b[i], b[i+1]], the first [b0, b1].
fn quantile_labels(x: &[Option<f64>], levels: &[String]) -> Vec<Option<String>> {
    let mut v: Vec<f64> = x.iter().flatten().copied().collect();
    if v.is_empty() || levels.is_empty() {
        return vec![None; x.len()];
    }
    v.sort_by(f64::total_cmp);
    let q = levels.len();
    let b: Vec<f64> = (0..=q)
        .map(|i| quantile7(&v, i as f64 / q as f64))
        .collect();
    x.iter()
        .map(|xi| {
            let xi = (*xi)?;
            let k = (0..q).find(|&i| xi <= b[i + 1]).unwrap_or(q - 1);
            Some(levels[k].clone())
        })
        .collect()
}

/// Notes of a run: absent columns (by plan choice) and what they leave
/// out, endpoints without patients or without events.
fn run_notes(plan: &Plan, absent: &[String], endpoints: &[EndpointData], n: usize) -> Vec<String> {
    let mut notes = Vec::new();
    for c in absent {
        let uses = plan.column_uses(c);
        notes.push(if uses.is_empty() {
            format!("column '{c}' is not in the file (the plan allows it: presence = \"may_be_absent\")")
        } else {
            format!(
                "column '{c}' is not in the file (the plan allows it: presence = \"may_be_absent\"); left out: {}",
                uses.join(", ")
            )
        });
    }
    for (e, spec) in endpoints.iter().zip(&plan.endpoints) {
        let np = e.n();
        if n > 0 && np == 0 {
            notes.push(format!(
                "endpoint {} ({}) has no patients: every patient lacks one of require_present ({})",
                e.code,
                e.label,
                spec.require_present.join(", ")
            ));
        } else if np > 0 && e.events() == 0 {
            notes.push(format!(
                "endpoint {} ({}) has no events among its {} patients: no date in {}; every patient is censored, so survival stays at 100% and no median, hazard ratio or log-rank test can be estimated",
                e.code,
                e.label,
                np,
                spec.events.join(", ")
            ));
        }
    }
    notes
}

/// Distinct observed values, sorted numerically when all are numbers,
/// otherwise alphabetically.
fn observed_levels(values: &[Option<String>]) -> Vec<String> {
    let set: BTreeSet<&String> = values.iter().flatten().collect();
    let mut levels: Vec<String> = set.into_iter().cloned().collect();
    let nums: Option<Vec<f64>> = levels.iter().map(|l| l.parse::<f64>().ok()).collect();
    if let Some(nums) = nums {
        let mut pairs: Vec<(f64, String)> = nums.into_iter().zip(levels).collect();
        pairs.sort_by(|a, b| a.0.total_cmp(&b.0));
        levels = pairs.into_iter().map(|p| p.1).collect();
    }
    levels
}
