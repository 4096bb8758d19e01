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

mod codes;
mod columns;
mod dates;
mod numbers;
mod problem;
mod store;
mod write;

pub use codes::{Codes, CodesIter};
pub use numbers::Numbers;
pub use problem::{Problem, ProblemKind, ValidationReport};
pub use store::{Columns, Label, LabelColumn};
pub use write::{write_adsl, write_adtte, ADSL_FILE, ADTTE_FILE};

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

use chrono::NaiveDate;
use serde::{Serialize, Serializer};

use crate::error::IngestError;
use crate::flow::{Excluded, FilterStep, Flow};
use crate::ingest::trim_cell;
use crate::ingest::{
    format_number, parse_date, parse_number, parse_partial_date, parse_yes_no, DateFormat, Input,
    RawTable, ValueError,
};
use crate::plan::{
    ColumnSpec, ColumnType, EndpointSpec, GroupingKind, GroupingSpec, PartialDates, Plan, Presence,
    TimeUnit, VariableKind, VariableRef,
};
use store::{Cell, ColData, Ids, NA, NO, YES};

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
    /// What to do with invalid rows: stop, or exclude them and go on.
    pub exclude: ExcludePolicy,
    /// Overrides the plan's date format when set.
    pub date_format: Option<String>,
}

/// A typed cell value.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// A blank cell, a missing-value text, or a column absent from the file.
    Missing,
    /// A text cell.
    Text(String),
    /// A date.
    Date(NaiveDate),
    /// A yes/no flag.
    YesNo(bool),
    /// Category value, spelled as the plan's level when levels are declared.
    Category(String),
    /// A number.
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

/// ISO `YYYY-MM-DD`, written by hand (chrono's `format` parses the
/// format string on every call, a fifth of writing adsl/adtte at 10^6).
fn iso(d: NaiveDate) -> String {
    let mut s = String::with_capacity(10);
    push_iso(&mut s, d);
    s
}

/// Appends `d` as ISO `YYYY-MM-DD` (chrono's form outside years 0–9999).
fn push_iso(out: &mut String, d: NaiveDate) {
    use chrono::Datelike;
    let (y, m, day) = (d.year(), d.month(), d.day());
    if (0..=9999).contains(&y) {
        let y = y as u32;
        for v in [y / 1000, y / 100 % 10, y / 10 % 10, y % 10] {
            out.push(char::from(b'0' + v as u8));
        }
        out.push('-');
        out.push(char::from(b'0' + (m / 10) as u8));
        out.push(char::from(b'0' + (m % 10) as u8));
        out.push('-');
        out.push(char::from(b'0' + (day / 10) as u8));
        out.push(char::from(b'0' + (day % 10) as u8));
    } else {
        out.push_str(&d.format("%Y-%m-%d").to_string());
    }
}

fn ser_opt_date<S: Serializer>(d: &Option<NaiveDate>, s: S) -> Result<S::Ok, S::Error> {
    match d {
        Some(d) => s.serialize_str(&iso(*d)),
        None => s.serialize_none(),
    }
}

/// One analysed patient. Its typed values live in the cohort's shared
/// columnar store ([`Columns`]); the accessors read them from there.
#[derive(Clone)]
pub struct PatientRecord {
    /// Row of this patient in the store (rows read, excluded ones included).
    row: usize,
    /// What every patient of the cohort shares (16 bytes a patient in all).
    store: Arc<PatientStore>,
}

/// The typed columns, identifiers and extra columns of every row read,
/// shared by the cohort's patients.
struct PatientStore {
    columns: Arc<Columns>,
    ids: Arc<Ids>,
    /// Columns not in the plan, by header as written, of the analysed rows
    /// that have any (by row, increasing).
    extras: Vec<(usize, BTreeMap<String, String>)>,
    /// The input line of every row.
    lines: LineMap,
}

/// The input line of every row read, held as the rows where a row's line
/// is not the line after the previous row's (the first row, and rows after
/// a blank line or a cell spanning lines), not one number per row. Files
/// where most rows are such a row keep every line.
enum LineMap {
    /// (row, its line), by row: row r is on the line of the last entry
    /// at or before it plus the rows between.
    Steps(Vec<(usize, u64)>),
    /// Every row's line.
    Every(Vec<u64>),
}

impl LineMap {
    fn new(lines: &[u64]) -> LineMap {
        let mut steps = vec![];
        for (r, &l) in lines.iter().enumerate() {
            if r == 0 || lines[r - 1].checked_add(1) != Some(l) {
                steps.push((r, l));
                // (16 bytes a step against 8 a row)
                if steps.len() > lines.len() / 2 {
                    return LineMap::Every(lines.to_vec());
                }
            }
        }
        steps.shrink_to_fit();
        LineMap::Steps(steps)
    }
    /// Row `r`'s line (`r` is a row read).
    fn line(&self, r: usize) -> u64 {
        match self {
            LineMap::Every(v) => v[r],
            LineMap::Steps(s) => {
                let k = s.partition_point(|&(b, _)| b <= r);
                // row 0 is a step, so k ≥ 1 for every row read
                let (b, l) = s[k.saturating_sub(1)];
                l + (r - b) as u64
            }
        }
    }
}

impl PartialEq for PatientRecord {
    fn eq(&self, o: &PatientRecord) -> bool {
        self.id() == o.id()
            && self.line() == o.line()
            && self.extra() == o.extra()
            && self.values() == o.values()
    }
}

impl std::fmt::Debug for PatientRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PatientRecord")
            .field("id", &self.id())
            .field("line", &self.line())
            .field("values", &self.values())
            .field("extra", self.extra())
            .finish()
    }
}

impl PatientRecord {
    /// Line in the input file.
    pub fn line(&self) -> u64 {
        self.store.lines.line(self.row)
    }
    /// Columns not in the plan, by header as written, kept for reference
    /// (empty when the file has none).
    pub fn extra(&self) -> &BTreeMap<String, String> {
        static NONE: BTreeMap<String, String> = BTreeMap::new();
        let extras = &self.store.extras;
        extras
            .binary_search_by_key(&self.row, |(r, _)| *r)
            .map_or(&NONE, |k| &extras[k].1)
    }
    /// The patient identifier (empty when the file has none for the row).
    pub fn id(&self) -> &str {
        self.store.ids.get(self.row).unwrap_or_default()
    }
    /// The cohort's columnar store.
    fn columns(&self) -> &Columns {
        &self.store.columns
    }
    /// Typed value of a plan column (canonical name); `Missing` for a
    /// missing cell or a column absent from the file.
    pub fn value(&self, column: &str) -> Value {
        self.columns().value(column, self.row)
    }
    /// Typed values of every plan column present in the input (canonical
    /// names).
    pub fn values(&self) -> BTreeMap<String, Value> {
        self.columns()
            .names
            .iter()
            .map(|n| (n.clone(), self.value(n)))
            .collect()
    }
    /// The date of a date column (`None` when missing or not a date column).
    pub fn date(&self, column: &str) -> Option<NaiveDate> {
        match self.columns().get(column, self.row) {
            Cell::Date(d) => Some(d),
            _ => None,
        }
    }
    /// The value of a yes/no column (`None` when missing or not a yes/no column).
    pub fn flag(&self, column: &str) -> Option<bool> {
        match self.columns().get(column, self.row) {
            Cell::YesNo(b) => Some(b),
            _ => None,
        }
    }
    /// The value of a number column (`None` when missing or not a number column).
    pub fn number(&self, column: &str) -> Option<f64> {
        match self.columns().get(column, self.row) {
            Cell::Number(v) => Some(v),
            _ => None,
        }
    }
    /// The value of a category or text column (`None` when missing).
    pub fn category(&self, column: &str) -> Option<&str> {
        self.columns().get(column, self.row).as_str()
    }
}

impl Serialize for PatientRecord {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut st = s.serialize_struct("PatientRecord", 4)?;
        st.serialize_field("id", self.id())?;
        st.serialize_field("line", &self.line())?;
        st.serialize_field("values", &self.values())?;
        st.serialize_field("extra", self.extra())?;
        st.end()
    }
}

/// One patient's time-to-event record for an endpoint: 12 bytes, no
/// pointer (the texts of its end column are the endpoint's, in
/// [`EndpointData::ends`]; its end date is its start plus its days), so a
/// million patients' records of two endpoints take 24 MB and copying one
/// is a plain copy. Its time in the endpoint's unit is
/// [`EndpointData::time_of`]: `days / days_per_unit` for dates, the exact
/// duration (held by the endpoint) for a duration endpoint.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TteRecord {
    /// Start date; `None` for a duration endpoint (no dates).
    pub start: Option<NaiveDate>,
    /// Days from start to the event or censoring date
    /// ([`TteRecord::end`]); for a duration endpoint, the duration in days
    /// rounded to a whole day (the time is exact; saturating at ±2³¹ − 1
    /// days, about 5.9 million years).
    pub days: i32,
    /// Whether `end` is the event (else a censoring).
    pub event: bool,
    /// The end column's place in [`EndpointData::ends`].
    pub end_index: u16,
}

impl TteRecord {
    /// Event or censoring date: `start + days` (exact: any two dates chrono
    /// holds are fewer than 2³¹ days apart); `None` for a duration endpoint.
    pub fn end(&self) -> Option<NaiveDate> {
        self.start
            .and_then(|s| s.checked_add_signed(chrono::TimeDelta::days(i64::from(self.days))))
    }
}

/// A column that can end an endpoint's follow-up, with the descriptions
/// of an event and of a censoring there (ADTTE's `EVNTDESC`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EndColumn {
    /// Column name (canonical; ADTTE's `CNSDTDSC` for a censoring).
    pub column: String,
    /// Description of an event on this column.
    pub event: String,
    /// Description of a censoring on this column.
    pub censored: String,
}

/// An endpoint's records, aligned with [`Cohort::patients`].
#[derive(Debug, Clone, PartialEq)]
pub struct EndpointData {
    /// Endpoint name (plan key).
    pub code: String,
    /// Label as displayed.
    pub label: String,
    /// The plan's time unit.
    pub unit: TimeUnit,
    /// Days per unit of `time` (1 for days, 7 for weeks, …).
    pub days_per_unit: f64,
    /// The columns a record can end on ([`TteRecord::end_index`]).
    pub ends: Vec<EndColumn>,
    /// `None`: the patient is outside this endpoint's population
    /// (`require_present`).
    pub records: Vec<Option<TteRecord>>,
    /// A duration endpoint's exact time per patient, in the endpoint's
    /// unit (the duration converted from its stated unit); empty for an
    /// endpoint of dates, whose times are `days / days_per_unit`.
    durations: Vec<f64>,
}

/// Serialized with each record's end column and description written out
/// (as the records held them as texts).
impl Serialize for EndpointData {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        #[derive(Serialize)]
        struct Rec<'a> {
            #[serde(serialize_with = "ser_opt_date")]
            start: Option<NaiveDate>,
            #[serde(serialize_with = "ser_opt_date")]
            end: Option<NaiveDate>,
            days: i32,
            time: f64,
            event: bool,
            end_column: &'a str,
            description: &'a str,
        }
        struct Records<'a>(&'a EndpointData);
        impl Serialize for Records<'_> {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                let e = self.0;
                s.collect_seq(e.records.iter().enumerate().map(|(i, r)| {
                    r.as_ref().map(|r| Rec {
                        start: r.start,
                        end: r.end(),
                        days: r.days,
                        time: e.time_of(i, r),
                        event: r.event,
                        end_column: e.end_column(r),
                        description: e.description(r),
                    })
                }))
            }
        }
        let mut st = s.serialize_struct("EndpointData", 5)?;
        st.serialize_field("code", &self.code)?;
        st.serialize_field("label", &self.label)?;
        st.serialize_field("unit", &self.unit)?;
        st.serialize_field("days_per_unit", &self.days_per_unit)?;
        st.serialize_field("records", &Records(self))?;
        st.end()
    }
}

impl EndpointData {
    /// Patient `i`'s time in the endpoint's unit, `r` being its record:
    /// `days / days_per_unit` (as the days were counted, the same value
    /// whenever it is asked for), or the duration endpoint's exact time.
    #[inline]
    pub fn time_of(&self, i: usize, r: &TteRecord) -> f64 {
        match self.durations.get(i) {
            Some(&t) => t,
            None => f64::from(r.days) / self.days_per_unit,
        }
    }
    /// Patient `i`'s time in the endpoint's unit (`None`: outside the
    /// endpoint's population).
    pub fn time(&self, i: usize) -> Option<f64> {
        self.records[i].as_ref().map(|r| self.time_of(i, r))
    }
    /// The column record `r` ends on.
    pub fn end_column(&self, r: &TteRecord) -> &str {
        self.ends
            .get(usize::from(r.end_index))
            .map_or("", |e| e.column.as_str())
    }
    /// The description of record `r`'s event or censoring.
    pub fn description(&self, r: &TteRecord) -> &str {
        self.ends.get(usize::from(r.end_index)).map_or("", |e| {
            if r.event {
                &e.event
            } else {
                &e.censored
            }
        })
    }
    /// Patients in the population: (patient index, time, event). The
    /// indexes fit `u32`: a cohort has at most [`MAX_ROWS`] patients.
    pub fn analysis_rows(&self) -> (Vec<u32>, Vec<f64>, Vec<bool>) {
        // allocated at their size (held through the whole analysis)
        let n = self.n();
        let mut idx = Vec::with_capacity(n);
        let mut time = Vec::with_capacity(n);
        let mut event = Vec::with_capacity(n);
        for (i, r) in self.records.iter().enumerate() {
            if let Some(r) = r {
                idx.push(u32::try_from(i).expect("a cohort has at most MAX_ROWS patients"));
                time.push(self.time_of(i, r));
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
    /// Grouping name (plan key).
    pub name: String,
    /// Label as displayed.
    pub label: String,
    /// How the levels are formed.
    pub kind: GroupingKind,
    /// Level order; the first is the reference level.
    pub levels: Vec<String>,
    /// `None` = missing.
    pub labels: LabelColumn,
}

impl GroupingData {
    /// Number of patients per level, in level order.
    pub fn counts(&self) -> Vec<(String, usize)> {
        let idx = self.labels.table_index(&self.levels);
        let mut n = vec![0usize; self.levels.len()];
        for c in self.labels.codes() {
            if let Some(k) = idx[c as usize] {
                n[k] += 1;
            }
        }
        self.levels.iter().cloned().zip(n).collect()
    }
    /// Number of patients with a missing label.
    pub fn missing(&self) -> usize {
        self.labels.codes().iter().filter(|&c| c == 0).count()
    }
    /// Level index per patient (0 = reference), read patient by patient
    /// from the codes (no per-patient vector: 16 bytes a patient).
    pub fn levels_by_patient(&self) -> LevelIndex<'_> {
        LevelIndex {
            table: self.labels.table_index(&self.levels),
            codes: self.labels.codes(),
        }
    }
    /// Level index per patient (0 = reference).
    pub fn level_index(&self) -> Vec<Option<usize>> {
        let l = self.levels_by_patient();
        (0..l.codes.len()).map(|i| l.get(i)).collect()
    }
}

/// A grouping's level index per patient ([`GroupingData::levels_by_patient`]).
pub struct LevelIndex<'a> {
    /// Level of each label code.
    table: Vec<Option<usize>>,
    /// Label code of each patient.
    codes: &'a Codes,
}

impl LevelIndex<'_> {
    /// Level of patient `i` (`None` = missing); `i` must be a patient.
    pub fn get(&self, i: usize) -> Option<usize> {
        self.table[self.codes.get(i) as usize]
    }
}

/// Values of a Table-1 variable or Cox covariate, aligned with patients.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum VariableValues {
    /// Categories (counts and percentages).
    Categorical {
        /// Level order (declared, or observed values sorted); first = reference.
        levels: Vec<String>,
        /// Level per patient (`None` = missing).
        values: LabelColumn,
    },
    /// Numbers (median, quartiles, range).
    Continuous {
        /// Value per patient (`None` = missing); shared with the typed
        /// column (and between Table 1 and the Cox covariates) when every
        /// row read is analysed.
        #[serde(serialize_with = "ser_shared_numbers")]
        values: Arc<Numbers>,
    },
}

fn ser_shared_numbers<S: serde::Serializer>(v: &Arc<Numbers>, s: S) -> Result<S::Ok, S::Error> {
    serde::Serialize::serialize(&**v, s)
}

/// A Table-1 variable or Cox covariate.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct VariableData {
    /// Variable name (plan key).
    pub name: String,
    /// Label as displayed.
    pub label: String,
    /// The values, per patient.
    pub values: VariableValues,
}

impl VariableData {
    /// Categorical or continuous.
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
    /// Flag name (plan key).
    pub name: String,
    /// Patients with `yes`.
    pub yes: usize,
    /// Patients with `no`.
    pub no: usize,
    /// Patients with the flag missing.
    pub missing: usize,
}

/// Per-patient interval in days, aligned with patients.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct IntervalData {
    /// Interval name (plan key).
    pub name: String,
    /// Label as displayed.
    pub label: String,
    /// Days per patient (`None` when a date is missing). Two dates are at
    /// most ~1.9 × 10^8 days apart (chrono's date range), so `i32` holds
    /// every interval.
    pub days: Vec<Option<i32>>,
}

/// The validated, derived analysis cohort.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Cohort {
    /// The input file's name.
    pub file: String,
    /// The study's name (`study.name`).
    pub study_name: String,
    /// Date format used to read text dates.
    pub date_format: String,
    /// Rows read, rows excluded and why.
    pub flow: Flow,
    /// Lines of blank rows skipped while reading.
    pub blank_lines: Vec<u64>,
    /// Plan columns found in the input (canonical names, plan order).
    pub present_columns: Vec<String>,
    /// Optional plan columns not in the input.
    pub absent_columns: Vec<String>,
    /// Input columns not in the plan (headers as written).
    pub extra_columns: Vec<String>,
    /// The analysed patients, in file order.
    pub patients: Vec<PatientRecord>,
    /// Time-to-event records of each endpoint.
    pub endpoints: Vec<EndpointData>,
    /// Per-patient labels of each grouping.
    pub groupings: Vec<GroupingData>,
    /// Table-1 variables whose columns are present, in plan order.
    pub table1: Vec<VariableData>,
    /// Multivariable Cox covariates: `cox_covariates` plus the optional ones
    /// whose columns are present.
    pub cox_covariates: Vec<VariableData>,
    /// Yes/no counts of each flag.
    pub flag_counts: Vec<FlagCount>,
    /// Per-patient intervals in days.
    pub intervals: Vec<IntervalData>,
}

/// A yes/no or category column of the cohort's store, read patient by
/// patient: each cell's code (0 = missing) and the text of every code, with
/// no name looked up and no text made per patient.
pub(crate) struct CodedColumn<'a> {
    cells: CodedCells<'a>,
    texts: Vec<&'a str>,
}

/// The cells of a yes/no or category column as codes below a bound: 0 =
/// missing; yes/no 1 = no, 2 = yes; a category's own code (its level + 1).
#[derive(Clone, Copy)]
enum CodedCells<'a> {
    YesNo(&'a [u8]),
    Codes(&'a Codes),
}

impl<'a> CodedCells<'a> {
    /// The column's cells and how many codes they take (`None`: not a
    /// yes/no or category column).
    fn of(data: &'a ColData) -> Option<(CodedCells<'a>, u32)> {
        match data {
            ColData::YesNo(v) => Some((CodedCells::YesNo(v), 3)),
            ColData::Codes { codes, levels } => Some((
                CodedCells::Codes(codes),
                u32::try_from(levels.len()).ok()?.checked_add(1)?,
            )),
            _ => None,
        }
    }
    /// Row `r`'s code.
    #[inline]
    fn at(self, r: usize) -> u32 {
        match self {
            CodedCells::YesNo(v) => match v[r] {
                store::NO => 1,
                store::YES => 2,
                _ => 0,
            },
            CodedCells::Codes(c) => c.get(r),
        }
    }
}

impl CodedColumn<'_> {
    /// The code of patient `p`'s cell (0 = missing); `p` is one of the
    /// patients of the cohort the column is from.
    pub(crate) fn code(&self, p: &PatientRecord) -> u32 {
        self.cells.at(p.row)
    }
    /// The text of a code: `yes`/`no` or the category, as
    /// [`PatientRecord::flag`] and [`PatientRecord::category`] give it
    /// (empty for 0, missing).
    pub(crate) fn text(&self, code: u32) -> &str {
        self.texts[code as usize]
    }
    /// How many codes there are (missing included).
    pub(crate) fn codes(&self) -> usize {
        self.texts.len()
    }
}

impl Cohort {
    /// The column `column` as codes when it is a yes/no or category column
    /// of the input (`None` for any other, an absent one, no patients, or
    /// patients of more than one store: a cohort put together by hand).
    pub(crate) fn coded_column(&self, column: &str) -> Option<CodedColumn<'_>> {
        let first = self.patients.first()?;
        if !self
            .patients
            .iter()
            .all(|p| Arc::ptr_eq(&p.store, &first.store))
        {
            return None;
        }
        let cols = first.columns();
        let data = &cols.data[cols.slot_of(column)?];
        let (cells, _) = CodedCells::of(data)?;
        let texts = match data {
            ColData::Codes { levels, .. } => std::iter::once("")
                .chain(levels.iter().map(Label::as_str))
                .collect(),
            _ => vec!["", yes_no_label(false), yes_no_label(true)],
        };
        Some(CodedColumn { cells, texts })
    }
    /// The endpoint named `code`.
    pub fn endpoint(&self, code: &str) -> Option<&EndpointData> {
        self.endpoints.iter().find(|e| e.code == code)
    }
    /// The grouping named `name`.
    pub fn grouping(&self, name: &str) -> Option<&GroupingData> {
        self.groupings.iter().find(|g| g.name == name)
    }
    /// The flag count named `name`.
    pub fn flag_count(&self, name: &str) -> Option<&FlagCount> {
        self.flag_counts.iter().find(|f| f.name == name)
    }
    /// The interval named `name`.
    pub fn interval(&self, name: &str) -> Option<&IntervalData> {
        self.intervals.iter().find(|i| i.name == name)
    }
    /// Days from CAR-T infusion to progression (built-in interval
    /// `infusion_to_progression`).
    pub fn days_infusion_to_progression(&self) -> Option<&[Option<i32>]> {
        self.interval("infusion_to_progression")
            .map(|i| i.days.as_slice())
    }
}

/// Why [`derive_input`] stopped: the input could not be read (a streamed
/// CSV's ragged row, bad UTF-8, …), or it was read and has problems.
#[derive(Debug)]
pub enum DeriveError {
    /// The input could not be read.
    Ingest(IngestError),
    /// The input was read and has problems (every one listed).
    Validation(ValidationReport),
}

/// Problems of one row, kept only for rows that have any.
#[derive(Debug, Default)]
struct RowIssues {
    problems: Vec<Problem>,
    /// (problem index, slot) whose cell text is fetched by a second walk.
    pending: Vec<(usize, usize)>,
    /// Columns that already have a problem (no follow-up problems on them).
    bad: Vec<String>,
}

/// Row bookkeeping shared by the validation passes.
struct Rows<'a> {
    file: &'a str,
    lines: std::borrow::Cow<'a, [u64]>,
    ids: Arc<Ids>,
    issues: IssueMap,
}

/// Problems by row (looked up for every row and check: a cheap hasher).
type IssueMap = HashMap<usize, RowIssues, std::hash::BuildHasherDefault<store::Fnv1a>>;

/// Files of at least this many rows are checked on both cores.
const PAR_ROWS: usize = 50_000;

impl Rows<'_> {
    fn is_bad(&self, r: usize, column: &str) -> bool {
        !self.issues.is_empty()
            && self
                .issues
                .get(&r)
                .is_some_and(|i| i.bad.iter().any(|b| b == column))
    }
    /// Whether row `r` has a problem so far (no hashing while no row has).
    fn has_issues(&self, r: usize) -> bool {
        !self.issues.is_empty() && self.issues.contains_key(&r)
    }
    /// A problem whose cell text is known (`value`) or, when `slot` is given,
    /// fetched later.
    fn problem(
        &mut self,
        r: usize,
        column: &str,
        value: Option<String>,
        slot: Option<usize>,
        kind: ProblemKind,
        message: String,
    ) {
        let p = Problem {
            file: self.file.to_string(),
            line: Some(self.lines[r]),
            patient_id: self.ids.owned(r),
            column: Some(column.to_string()),
            value,
            kind,
            message,
        };
        let iss = self.issues.entry(r).or_default();
        if !iss.bad.iter().any(|b| b == column) {
            iss.bad.push(column.to_string());
        }
        if let Some(k) = slot {
            iss.pending.push((iss.problems.len(), k));
        }
        iss.problems.push(p);
    }
}

/// FNV-1a of an identifier, 44 bits (four radix passes in [`duplicate_rows`]).
fn id_hash(id: &str) -> u64 {
    let mut h = store::Fnv1a::default();
    std::hash::Hasher::write(&mut h, id.as_bytes());
    std::hash::Hasher::finish(&h) >> 20
}

/// Rows of every identifier that occurs more than once (rows ascending, one
/// list per identifier, lists in no particular order): the identifiers'
/// hashes sorted by a stable radix sort (rows stay in order), equal hashes
/// split by their text (collisions) — no hash table over every patient.
fn duplicate_rows(ids: &store::Ids, hash: fn(&str) -> u64) -> Vec<Vec<usize>> {
    let mut keyed: Vec<(u64, usize)> = (0..ids.len())
        .filter_map(|i| ids.get(i).map(|id| (hash(id), i)))
        .collect();
    survkit::sort::radix_sort_by_key(&mut keyed, |p| p.0);
    let mut out: Vec<Vec<usize>> = Vec::new();
    let mut a = 0;
    while a < keyed.len() {
        let mut b = a + 1;
        while b < keyed.len() && keyed[b].0 == keyed[a].0 {
            b += 1;
        }
        if b - a > 1 {
            // one list per distinct text, in order of first row
            let mut groups: Vec<(&str, Vec<usize>)> = Vec::new();
            for &(_, i) in &keyed[a..b] {
                let id = ids.get(i).unwrap_or_default();
                match groups.iter_mut().find(|(t, _)| *t == id) {
                    Some((_, v)) => v.push(i),
                    None => groups.push((id, vec![i])),
                }
            }
            out.extend(
                groups
                    .into_iter()
                    .filter(|(_, v)| v.len() > 1)
                    .map(|(_, v)| v),
            );
        }
        a = b;
    }
    out
}

/// Distinct texts of a category column up to which a cell is matched by a
/// scan of the coded texts (no hashing).
const HOT_TEXTS: usize = 8;

/// A column being filled during the first walk.
enum Builder {
    /// Dates, the partial-date rule, and the rows whose date was imputed.
    Date(Vec<Option<NaiveDate>>, PartialDates, Vec<usize>),
    YesNo(Vec<u8>),
    Number(Numbers),
    /// Category: interned by trimmed text, the parse result cached.
    Category {
        codes: Vec<u32>,
        levels: Vec<Label>,
        seen: HashMap<String, Result<u32, (ProblemKind, String)>, FnvBuild>,
        /// The texts coded so far with their codes while there are at most
        /// [`HOT_TEXTS`] texts seen: compared before any hashing (a column
        /// of a few categories is a short scan per cell).
        hot: Vec<(Box<str>, u32)>,
    },
    /// Free text (identifiers): every value in one buffer, not interned.
    Text(Ids),
}

impl Builder {
    fn new(spec: &ColumnSpec, n: usize, partial: PartialDates) -> Builder {
        match spec.kind {
            ColumnType::Date => Builder::Date(Vec::with_capacity(n), partial, Vec::new()),
            ColumnType::YesNo => Builder::YesNo(Vec::with_capacity(n)),
            ColumnType::Number => Builder::Number(Numbers::with_capacity(n)),
            ColumnType::Category => Builder::Category {
                codes: Vec::with_capacity(n),
                levels: spec.levels.iter().map(|l| Label::new(l)).collect(),
                seen: HashMap::default(),
                hot: Vec::new(),
            },
            ColumnType::Text => Builder::Text(Ids::default()),
        }
    }
    fn push_missing(&mut self) {
        match self {
            Builder::Date(v, ..) => v.push(None),
            Builder::YesNo(v) => v.push(NA),
            Builder::Number(v) => v.push(None),
            Builder::Category { codes, .. } => codes.push(0),
            Builder::Text(ids) => ids.push(None),
        }
    }
    /// Parse `cell` (not a missing token) into the column: `Ok(filled)`
    /// (false when the cell parses as missing), `Err` = a problem, and the
    /// cell is stored as missing.
    fn push(
        &mut self,
        spec: &ColumnSpec,
        cell: &str,
        format: &DateFormat,
    ) -> Result<bool, (ProblemKind, String)> {
        let value_err = |kind, e: ValueError| (kind, e.to_string());
        let trimmed = trim_cell(cell);
        let res = match self {
            Builder::Date(v, partial, imputed) => match parse_date(cell, format) {
                Ok(d) => {
                    v.push(d);
                    return Ok(d.is_some());
                }
                Err(e) => match (parse_partial_date(cell), *partial) {
                    (Some(p), PartialDates::First | PartialDates::Middle) => {
                        let d = p.impute(*partial == PartialDates::Middle);
                        if d.is_some() {
                            imputed.push(v.len());
                        }
                        v.push(d);
                        return Ok(d.is_some());
                    }
                    (Some(p), PartialDates::Refuse) => Err((
                        ProblemKind::BadDate,
                        format!(
                            "partial date ({} only); the plan refuses partial dates: set study.partial_dates (or the column's partial_dates) to \"first\" or \"middle\" to impute them",
                            if p.month.is_some() { "month and year" } else { "year" }
                        ),
                    )),
                    (None, _) => Err(value_err(ProblemKind::BadDate, e)),
                },
            },
            Builder::YesNo(v) => match parse_yes_no(cell) {
                Ok(b) => {
                    v.push(match b {
                        Some(true) => YES,
                        Some(false) => NO,
                        None => NA,
                    });
                    return Ok(b.is_some());
                }
                Err(e) => Err(value_err(ProblemKind::BadYesNo, e)),
            },
            Builder::Number(v) => match parse_number(cell) {
                Ok(x) => {
                    v.push(x);
                    return Ok(x.is_some());
                }
                Err(e) => Err(value_err(ProblemKind::BadNumber, e)),
            },
            Builder::Text(ids) => {
                ids.push(Some(trimmed));
                return Ok(true);
            }
            Builder::Category {
                codes,
                levels,
                seen,
                hot,
            } => {
                if seen.len() <= HOT_TEXTS {
                    if let Some(&(_, c)) = hot.iter().find(|(t, _)| **t == *trimmed) {
                        codes.push(c);
                        return Ok(true);
                    }
                }
                let code = match seen.get(trimmed) {
                    Some(c) => c.clone(),
                    None => {
                        let c = if spec.levels.is_empty() {
                            levels.push(Label::new(trimmed));
                            Ok(levels.len() as u32)
                        } else {
                            match spec
                                .levels
                                .iter()
                                .position(|l| l.trim().to_lowercase() == trimmed.to_lowercase())
                            {
                                Some(i) => Ok(i as u32 + 1),
                                None => Err((
                                    ProblemKind::BadCategory,
                                    format!("not one of: {}", spec.levels.join(", ")),
                                )),
                            }
                        };
                        seen.insert(trimmed.to_string(), c.clone());
                        if let (Ok(code), true) = (&c, seen.len() <= HOT_TEXTS) {
                            hot.push((trimmed.into(), *code));
                        }
                        c
                    }
                };
                match code {
                    Ok(c) => {
                        codes.push(c);
                        return Ok(true);
                    }
                    Err(e) => Err(e),
                }
            }
        };
        self.push_missing();
        res
    }
    /// Append the column of the rows after this one's (`other`, whose row
    /// 0 is row `offset` here), as if its cells had been pushed here:
    /// category levels first seen in `other` get the next codes.
    fn append(&mut self, other: Builder, offset: usize) {
        match (self, other) {
            (Builder::Date(v, _, imputed), Builder::Date(v2, _, imputed2)) => {
                v.extend(v2);
                imputed.extend(imputed2.into_iter().map(|r| r + offset));
            }
            (Builder::YesNo(v), Builder::YesNo(v2)) => v.extend(v2),
            (Builder::Number(v), Builder::Number(v2)) => v.extend(v2),
            (Builder::Text(ids), Builder::Text(ids2)) => ids.append(&ids2),
            (
                Builder::Category {
                    codes,
                    levels,
                    seen,
                    ..
                },
                Builder::Category {
                    codes: c2,
                    levels: l2,
                    seen: seen2,
                    ..
                },
            ) => {
                // plan levels (the same list in both, never extended): the
                // codes are the plan's; levels from the data: `other`'s
                // level k + 1 becomes this column's code of the same text
                let fixed =
                    levels.len() == l2.len() && levels.iter().zip(&l2).all(|(a, b)| **a == **b);
                let remap: Vec<u32> = if fixed {
                    (0..=l2.len() as u32).collect()
                } else {
                    let mut m = vec![0u32];
                    for l in &l2 {
                        let code = match seen.get(&**l) {
                            Some(Ok(c)) => *c,
                            _ => {
                                levels.push(l.clone());
                                let c = levels.len() as u32;
                                seen.insert(l.to_string(), Ok(c));
                                c
                            }
                        };
                        m.push(code);
                    }
                    m
                };
                codes.extend(c2.into_iter().map(|c| remap[c as usize]));
                for (k, v) in seen2 {
                    seen.entry(k).or_insert(v);
                }
            }
            _ => unreachable!("both parts build the same column kinds"),
        }
    }
    /// The column, without the room its growth left over (grown one row
    /// at a time and joined from two parts, a column can hold up to twice
    /// its size: at 10^7 rows a third of the cohort's memory).
    fn finish(self) -> ColData {
        fn fit<T>(mut v: Vec<T>) -> Vec<T> {
            v.shrink_to_fit();
            v
        }
        match self {
            Builder::Date(v, ..) => ColData::Date(fit(v)),
            Builder::YesNo(v) => ColData::YesNo(fit(v)),
            Builder::Number(mut v) => {
                v.shrink_to_fit();
                ColData::Number(Arc::new(v))
            }
            Builder::Category { codes, levels, .. } => {
                let mut codes: Codes = codes.into();
                codes.shrink_to_fit();
                ColData::Codes { codes, levels }
            }
            Builder::Text(mut ids) => {
                ids.shrink_to_fit();
                ColData::Text(Arc::new(ids))
            }
        }
    }
}

/// A column's missing-value tokens, with the byte lengths (below 64) of
/// its ASCII ones: most cells have no token's length and are told apart
/// without a comparison.
struct MissingSet {
    tokens: Vec<String>,
    ascii_lengths: u64,
}

impl MissingSet {
    fn new(tokens: Vec<String>) -> MissingSet {
        let ascii_lengths = tokens
            .iter()
            .filter(|t| t.is_ascii() && t.len() < 64)
            .fold(0, |m, t| m | 1u64 << t.len());
        MissingSet {
            tokens,
            ascii_lengths,
        }
    }
}

/// Whether a trimmed cell is one of the missing-value tokens (lowercase).
fn is_missing_token(trimmed: &str, set: &MissingSet) -> bool {
    let tokens = &set.tokens;
    if trimmed.is_empty() {
        return true;
    }
    if tokens.is_empty() {
        return false;
    }
    if trimmed.is_ascii() {
        // an ASCII match has the token's length
        let n = trimmed.len();
        if n < 64 && set.ascii_lengths & (1u64 << n) == 0 {
            return false;
        }
        tokens
            .iter()
            .any(|t| t.eq_ignore_ascii_case(trimmed) && t.is_ascii())
    } else {
        let lower = trimmed.to_lowercase();
        tokens.contains(&lower)
    }
}

/// Validate `table` against `plan` and derive the analysis cohort.
pub fn derive(
    plan: &Plan,
    table: &RawTable,
    opts: &DeriveOptions,
) -> Result<Cohort, ValidationReport> {
    derive_input(plan, &Input::Table(table), opts).map_err(|e| match e {
        DeriveError::Validation(r) => r,
        // a table in memory is never re-read, so this cannot happen; kept
        // as a problem rather than a panic
        DeriveError::Ingest(e) => ValidationReport {
            file: table.file.clone(),
            rows_read: table.rows.len(),
            summaries: Vec::new(),
            problems: vec![Problem {
                file: table.file.clone(),
                line: None,
                patient_id: None,
                column: None,
                value: None,
                kind: ProblemKind::MissingValue,
                message: e.to_string(),
            }],
        },
    })
}

/// Validate `input` against `plan` and derive the analysis cohort, walking
/// the input's rows without keeping them as text: each cell is parsed
/// once into its typed column; a second walk fetches the text of the few
/// cells that a later problem (date order, endpoint, duplicate id) quotes.
pub fn derive_input(
    plan: &Plan,
    input: &Input,
    opts: &DeriveOptions,
) -> Result<Cohort, DeriveError> {
    derive_input_split(plan, input, opts, SPLIT_MIN_BYTES)
}

/// The most data rows a study reads (2^32 − 1): the analyses number the
/// patients of an endpoint with `u32`.
pub const MAX_ROWS: usize = u32::MAX as usize;

/// [`IngestError::TooManyRows`] when `rows` is past [`MAX_ROWS`].
fn check_row_count(file: &str, rows: usize) -> Result<(), IngestError> {
    if rows > MAX_ROWS {
        return Err(IngestError::TooManyRows {
            file: file.to_string(),
            rows,
            limit: MAX_ROWS,
        });
    }
    Ok(())
}

/// Delimited files of at least this many bytes are read on both cores.
const SPLIT_MIN_BYTES: usize = 4 << 20;

/// [`derive_input`], reading a delimited file of at least `split_min_bytes`
/// in two parts on two cores (tests lower it to compare the two ways).
fn derive_input_split(
    plan: &Plan,
    input: &Input,
    opts: &DeriveOptions,
    split_min_bytes: usize,
) -> Result<Cohort, DeriveError> {
    let file = input.file();
    let fmt_text = fmt_text_of(plan, opts);
    let report = |problems: Vec<Problem>, rows_read: usize| ValidationReport {
        file: file.to_string(),
        rows_read,
        summaries: date_summaries(plan, &problems, fmt_text.as_str()),
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
    let headers = input.headers();
    let mut col_index: Vec<(&ColumnSpec, usize)> = Vec::new();
    let mut absent = Vec::new();
    let mut used = BTreeSet::new();
    for spec in &plan.columns {
        let mut found: Vec<usize> = Vec::new();
        for n in std::iter::once(&spec.name).chain(&spec.aliases) {
            for i in input.find_columns(n) {
                if !found.contains(&i) {
                    found.push(i);
                }
            }
        }
        match found.as_slice() {
            [] if spec.presence == Presence::MayBeAbsent => absent.push(spec.name.clone()),
            [] => fatal.push(table_problem(
                input.header_location(),
                Some(&spec.name),
                None,
                ProblemKind::MissingColumn,
                columns::missing_column_message(plan, spec, input),
            )),
            [i] => {
                used.insert(*i);
                col_index.push((spec, *i));
            }
            many => fatal.push(table_problem(
                input.header_location(),
                Some(&spec.name),
                Some(
                    many.iter()
                        .map(|i| headers[*i].clone())
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
        _ => {
            // read errors of the file come first, as when it was read whole
            let walk = input
                .for_each_row(&mut |_, _| {})
                .map_err(DeriveError::Ingest)?;
            return Err(DeriveError::Validation(report(fatal, walk.rows)));
        }
    };
    let extra_idx: Vec<usize> = (0..headers.len()).filter(|i| !used.contains(i)).collect();
    let present: BTreeSet<&str> = col_index.iter().map(|(c, _)| c.name.as_str()).collect();
    let slot: store::SlotMap = col_index
        .iter()
        .enumerate()
        .map(|(k, (c, _))| (c.name.clone(), k))
        .collect();

    // First walk: every cell into its typed column.
    let missing_sets: Vec<MissingSet> = col_index
        .iter()
        .map(|(spec, _)| {
            let mut m = plan.missing_values_of(spec);
            m.sort();
            m.dedup();
            MissingSet::new(m)
        })
        .collect();
    let id_col = plan
        .column(&plan.study.id_column)
        .map(|c| c.name.clone())
        .unwrap_or_default();
    let id_idx = col_index
        .iter()
        .find(|(c, _)| c.name == id_col)
        .map(|(_, i)| *i);
    let new_builders = || -> Vec<Builder> {
        col_index
            .iter()
            .map(|(c, _)| Builder::new(c, 0, plan.partial_dates_of(c)))
            .collect()
    };
    // one part of the file into its own rows, extras and columns
    let fill = |part: &Input, builders: &mut Vec<Builder>| {
        let mut rows = Rows {
            file,
            lines: std::borrow::Cow::Owned(Vec::new()),
            ids: Arc::default(),
            issues: IssueMap::default(),
        };
        let mut extras: Vec<BTreeMap<String, String>> = Vec::new();
        let walk = part.for_each_row(&mut |line, cells| {
            let r = rows.lines.len();
            rows.lines.to_mut().push(line);
            let id = id_idx
                .map(|i| trim_cell(cells[i]))
                .filter(|s| !s.is_empty());
            Arc::make_mut(&mut rows.ids).push(id);
            if !extra_idx.is_empty() {
                extras.push(
                    extra_idx
                        .iter()
                        .map(|&i| (headers[i].clone(), cells[i].to_string()))
                        .collect(),
                );
            }
            for (k, (spec, i)) in col_index.iter().enumerate() {
                let cell = cells[*i];
                let b = &mut builders[k];
                // trimmed once: the parsers' own trims are then no-ops
                let trimmed = trim_cell(cell);
                let filled = if is_missing_token(trimmed, &missing_sets[k]) {
                    b.push_missing();
                    false
                } else {
                    match b.push(spec, trimmed, &format) {
                        Ok(filled) => filled,
                        Err((kind, message)) => {
                            rows.problem(
                                r,
                                &spec.name,
                                Some(cell.to_string()),
                                None,
                                kind,
                                message,
                            );
                            continue;
                        }
                    }
                };
                if !filled && spec.presence == Presence::Required {
                    rows.problem(
                        r,
                        &spec.name,
                        Some(cell.to_string()),
                        None,
                        ProblemKind::MissingValue,
                        format!("required value is missing ({})", spec.display_label()),
                    );
                }
            }
        });
        (walk, rows, extras)
    };
    let mut builders = new_builders();
    // a large CSV is walked in two parts on the two cores, joined in row
    // order (the same columns, problems and errors as one walk)
    let (walk, mut rows, extras) = match input.halves(split_min_bytes) {
        Some([first, second]) => {
            let mut builders2 = new_builders();
            let (a, b) = std::thread::scope(|sc| {
                let h = sc.spawn(|| fill(&second, &mut builders2));
                let a = fill(&first, &mut builders);
                (a, h.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
            });
            let ((walk_a, mut rows, mut extras), (walk_b, rows_b, extras_b)) = (a, b);
            let mut walk = walk_a.map_err(DeriveError::Ingest)?;
            let walk_b = walk_b.map_err(DeriveError::Ingest)?;
            let offset = rows.lines.len();
            walk.rows += walk_b.rows;
            walk.blank_lines.extend(walk_b.blank_lines);
            rows.lines.to_mut().extend_from_slice(&rows_b.lines);
            Arc::make_mut(&mut rows.ids).append(&rows_b.ids);
            rows.issues
                .extend(rows_b.issues.into_iter().map(|(r, i)| (r + offset, i)));
            extras.extend(extras_b);
            for (a, b) in builders.iter_mut().zip(builders2) {
                a.append(b, offset);
            }
            (walk, rows, extras)
        }
        None => {
            let (walk, rows, extras) = fill(input, &mut builders);
            (walk.map_err(DeriveError::Ingest)?, rows, extras)
        }
    };
    let n_rows = rows.lines.len();
    check_row_count(file, n_rows).map_err(DeriveError::Ingest)?;
    if let std::borrow::Cow::Owned(lines) = &mut rows.lines {
        lines.shrink_to_fit();
    }
    if let Some(ids) = Arc::get_mut(&mut rows.ids) {
        ids.shrink_to_fit();
    }
    // rows whose date was imputed, per date column (counted over the
    // analysed patients once they are known)
    let imputed: Vec<(String, PartialDates, Vec<usize>)> = col_index
        .iter()
        .zip(builders.iter_mut())
        .filter_map(|((c, _), b)| match b {
            Builder::Date(_, p, rows) if !rows.is_empty() => {
                Some((c.name.clone(), *p, std::mem::take(rows)))
            }
            _ => None,
        })
        .collect();
    let mut cols = Columns {
        names: col_index.iter().map(|(c, _)| c.name.clone()).collect(),
        kinds: col_index.iter().map(|(c, _)| c.kind).collect(),
        data: builders.into_iter().map(Builder::finish).collect(),
        slot,
    };
    let id_slot = cols.slot_of(&id_col);
    // the identifier column as text is the rows' identifiers (they differ
    // only where a cell is a missing-value token): one copy, shared
    if let Some(ColData::Text(text)) = id_slot.map(|s| &mut cols.data[s]) {
        if **text == *rows.ids {
            *text = Arc::clone(&rows.ids);
        }
    }

    // Duplicate ids: every occurrence is reported.
    {
        let by_id = duplicate_rows(&rows.ids, id_hash);
        let mut dups: Vec<(usize, String)> = Vec::new();
        for idxs in &by_id {
            for &i in idxs {
                let others: Vec<String> = idxs
                    .iter()
                    .filter(|&&j| j != i)
                    .map(|&j| rows.lines[j].to_string())
                    .collect();
                // at most 10 other lines listed (10^5 copies of one id would
                // otherwise give 10^5 lines of 10^5 numbers each)
                let msg = format!(
                    "duplicate {}: also on {} {}",
                    id_col,
                    crate::ingest::location_word(file),
                    crate::ingest::clip_list(&others, 10)
                );
                dups.push((i, msg));
            }
        }
        for (i, msg) in dups {
            rows.problem(i, &id_col, None, id_slot, ProblemKind::DuplicateId, msg);
        }
    }

    // Cross-field checks (skipped when a column is absent: said in the notes).
    let checks: Vec<(&crate::plan::Check, String, String, (usize, usize))> = plan
        .checks
        .iter()
        .map(|chk| (chk, canon(plan, &chk.column), canon(plan, &chk.other)))
        .filter_map(|(chk, c, o)| {
            let slots = (cols.slot_of(&c)?, cols.slot_of(&o)?);
            Some((chk, c, o, slots))
        })
        .collect();
    // each grouping's columns by name and by slot (looked up once, not
    // per patient)
    type GroupingCols<'p> = (&'p GroupingSpec, Vec<String>, Vec<Option<usize>>);
    let groupings: Vec<GroupingCols> = plan
        .groupings
        .iter()
        .map(|g| {
            let names: Vec<String> = g.columns.iter().map(|c| canon(plan, c)).collect();
            let slots = names.iter().map(|c| cols.slot_of(c)).collect();
            (g, names, slots)
        })
        .collect();
    let endpoint_cols: Vec<EndpointCols> = plan
        .endpoints
        .iter()
        .map(|e| EndpointCols::new(plan, e, &cols))
        .collect();
    let yes_no = [Label::new("no"), Label::new("yes")];
    // Per row: cross-field checks, grouping labels, endpoint records. Rows
    // are independent, so a large file's two halves go to the two cores,
    // each with its own problem map (the rows' earlier problems included)
    // and level cache; the halves are joined in row order, so everything
    // is as a single pass makes it.
    type Part = (IssueMap, Vec<LabelColumn>, Vec<Records>);
    let lines: &[u64] = &rows.lines;
    let ids: &Arc<Ids> = &rows.ids;
    let per_rows = |range: std::ops::Range<usize>, issues: IssueMap| -> Part {
        let mut part = Rows {
            file,
            lines: std::borrow::Cow::Borrowed(lines),
            ids: Arc::clone(ids),
            issues,
        };
        let len = range.len();
        // each grouping's table, its codes gathered apart (no shared
        // counter checked per patient)
        let mut group_tables: Vec<LabelColumn> = (0..groupings.len())
            .map(|_| LabelColumn::with_capacity(0))
            .collect();
        // (each its own capacity: a cloned Vec does not keep it)
        let mut group_codes: Vec<Codes> = (0..groupings.len())
            .map(|_| Codes::with_capacity(len))
            .collect();
        let mut coded: Vec<Option<CodedGrouping>> = groupings
            .iter()
            .map(|(g, _, gslots)| CodedGrouping::new(g, gslots, &cols))
            .collect();
        let mut records: Vec<Records> = endpoint_cols
            .iter()
            .map(|ec| Records::with_capacity(len, ec.duration.is_some()))
            .collect();
        let mut level_cache: Vec<LevelCache> = vec![LevelCache::default(); groupings.len()];
        let level_labels: Vec<LevelLabels> =
            groupings.iter().map(|(g, ..)| LevelLabels::of(g)).collect();
        for r in range {
            for (chk, col, other, slots) in &checks {
                // the check first (it only reads cells), the columns'
                // earlier problems only when it fails
                if let Some(msg) = check_row(chk, &cols, r, other, *slots) {
                    if !part.is_bad(r, col) && !part.is_bad(r, other) {
                        part.problem(r, col, None, Some(slots.0), ProblemKind::DateOrder, msg);
                    }
                }
            }
            for (k, (g, gcols, gslots)) in groupings.iter().enumerate() {
                // a coded grouping's label by its cells' codes, worked out
                // at the first patient with those codes
                let key = match coded[k].as_ref().map(|c| c.label(r)) {
                    Some(Ok(code)) => {
                        group_codes[k].push(code);
                        continue;
                    }
                    Some(Err(key)) => Some(key),
                    None => None,
                };
                let label = grouping_label(
                    g,
                    (gcols, gslots),
                    &cols,
                    r,
                    &mut part,
                    (&mut level_cache[k], &level_labels[k]),
                    &yes_no,
                );
                let code = group_tables[k].code_of(label.as_deref());
                if let (Some(c), Some(key)) = (coded[k].as_mut(), key) {
                    c.learn(key, label.is_some().then_some(code));
                }
                group_codes[k].push(code);
            }
            for (k, e) in plan.endpoints.iter().enumerate() {
                let rec = endpoint_record(e, &endpoint_cols[k], &cols, r, &mut part, &present);
                records[k].push(rec);
            }
        }
        let group_labels: Vec<LabelColumn> = group_tables
            .into_iter()
            .zip(group_codes)
            .map(|(t, c)| t.with_codes(c))
            .collect();
        (part.issues, group_labels, records)
    };
    let issues = std::mem::take(&mut rows.issues);
    let (first, second) = if n_rows >= PAR_ROWS {
        let mid = n_rows / 2;
        let (later, issues): (IssueMap, IssueMap) =
            issues.into_iter().partition(|(r, _)| *r >= mid);
        let (a, b) = std::thread::scope(|sc| {
            let h = sc.spawn(|| per_rows(mid..n_rows, later));
            let a = per_rows(0..mid, issues);
            (a, h.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
        });
        (a, Some(b))
    } else {
        (per_rows(0..n_rows, issues), None)
    };
    let (mut issues, mut group_labels, mut records) = first;
    if let Some((i2, g2, r2)) = second {
        issues.extend(i2);
        // the labels and the records are joined on the two cores (each a
        // copy of tens of MB into fresh pages at 10^6 rows)
        std::thread::scope(|sc| {
            let h = sc.spawn(|| {
                for (a, b) in group_labels.iter_mut().zip(g2) {
                    a.extend_from(&b);
                }
            });
            for (a, b) in records.iter_mut().zip(r2) {
                a.append(b);
            }
            h.join().unwrap_or_else(|e| std::panic::resume_unwind(e));
        });
    }
    rows.issues = issues;

    // Second walk, only when a problem quotes a cell not kept as text.
    let mut wanted: Vec<usize> = rows
        .issues
        .iter()
        .filter(|(_, i)| !i.pending.is_empty())
        .map(|(r, _)| *r)
        .collect();
    if !wanted.is_empty() {
        wanted.sort_unstable();
        let mut next = 0;
        let mut r = 0;
        input
            .for_each_row(&mut |_, cells| {
                if next < wanted.len() && wanted[next] == r {
                    if let Some(iss) = rows.issues.get_mut(&r) {
                        for &(p, k) in &iss.pending {
                            iss.problems[p].value = Some(cells[col_index[k].1].to_string());
                        }
                        iss.pending.clear();
                    }
                    next += 1;
                }
                r += 1;
            })
            .map_err(DeriveError::Ingest)?;
    }

    // Exclusion.
    let mut problems: Vec<Problem> = Vec::new();
    let mut excluded = Vec::new();
    let mut with_issues: Vec<usize> = rows
        .issues
        .iter()
        .filter(|(_, i)| !i.problems.is_empty())
        .map(|(r, _)| *r)
        .collect();
    with_issues.sort_unstable();
    for &r in &with_issues {
        let Some(iss) = rows.issues.remove(&r) else {
            continue;
        };
        excluded.push(Excluded::from_problems(
            rows.lines[r],
            rows.ids.owned(r),
            &iss.problems,
        ));
        problems.extend(iss.problems);
    }
    if !problems.is_empty() && opts.exclude == ExcludePolicy::Stop {
        return Err(DeriveError::Validation(report(problems, walk.rows)));
    }
    let mut kept: Vec<usize> = Vec::with_capacity(n_rows - with_issues.len());
    let mut bad_iter = with_issues.iter().peekable();
    for r in 0..n_rows {
        if bad_iter.peek() == Some(&&r) {
            bad_iter.next();
            continue;
        }
        kept.push(r);
    }
    let cols = Arc::new(cols);
    let filters = apply_filters(plan, &cols, &rows, &mut kept, &mut excluded);
    let kept_set: std::collections::HashSet<usize> = if imputed.is_empty() {
        Default::default()
    } else {
        kept.iter().copied().collect()
    };

    let mut cohort = build_cohort(
        plan,
        Built {
            input,
            walk,
            date_format: fmt_text.clone(),
            cols,
            rows,
            extras,
            kept,
            excluded,
            absent,
            extra_idx,
            group_labels,
            records,
            ends: endpoint_cols.into_iter().map(|e| e.ends).collect(),
            yes_no,
        },
        &present,
    );
    cohort.flow.filters = filters;
    cohort.flow.partial_dates = imputed
        .into_iter()
        .map(|(column, rule, rows)| {
            let analysed = rows.iter().filter(|r| kept_set.contains(r)).count();
            crate::flow::PartialDateCount {
                column,
                rule: rule.name().to_string(),
                imputed: rows.len(),
                imputed_analysed: analysed,
            }
        })
        .collect();
    for p in &cohort.flow.partial_dates {
        let rule = plan
            .column(&p.column)
            .map(|c| plan.partial_dates_of(c))
            .unwrap_or_default();
        cohort.flow.notes.push(format!(
            "column '{}': {} partial date(s) {} (plan: partial_dates = \"{}\"); {} of them in analysed patients",
            p.column,
            p.imputed,
            rule.description(),
            p.rule,
            p.imputed_analysed
        ));
    }
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
/// One cross-field check of row `r`; `slots` are the columns' slots in
/// `cols` (looked up once per file, not per row).
fn check_row(
    chk: &crate::plan::Check,
    cols: &Columns,
    r: usize,
    other: &str,
    (col_slot, other_slot): (usize, usize),
) -> Option<String> {
    use crate::plan::DateRelation as R;
    let filled = |k: usize| !cols.cell(k, r).is_missing();
    let other_matches = || {
        if chk.values.is_empty() {
            filled(other_slot)
        } else {
            let other_text = cols.cell(other_slot, r).text();
            let other_text = trim_cell(&other_text);
            chk.values
                .iter()
                .any(|v| trim_cell(v).eq_ignore_ascii_case(other_text))
        }
    };
    let shown = |c: &str| {
        let t = cols.get(c, r).to_text();
        if t.is_empty() {
            format!("{c} is blank")
        } else {
            format!("{c} is {t}")
        }
    };
    match chk.relation {
        R::NotBefore | R::NotAfter => {
            let (a, b) = (
                cols.date(Some(col_slot), r)?,
                cols.date(Some(other_slot), r)?,
            );
            let ok = if chk.relation == R::NotBefore {
                a >= b
            } else {
                a <= b
            };
            (!ok).then(|| format!("{} ({} is {})", chk.description, other, iso(b)))
        }
        R::PresentWhen => (other_matches() && !filled(col_slot))
            .then(|| format!("{} ({})", chk.description, shown(other))),
        R::BlankUnless => (filled(col_slot) && !other_matches())
            .then(|| format!("{} ({})", chk.description, shown(other))),
    }
}

/// Canonical plan spelling of a column name.
fn canon(plan: &Plan, name: &str) -> String {
    plan.column(name)
        .map(|c| c.name.clone())
        .unwrap_or_else(|| name.to_string())
}

/// Position of the level `value` names (trimmed, any case) in `levels`.
fn match_level(levels: &[String], value: &str) -> Option<usize> {
    let v = value.trim().to_lowercase();
    levels.iter().position(|l| l.trim().to_lowercase() == v)
}

/// Text of a cell for groupings: `yes`/`no` or the category.
fn group_text(cols: &Columns, slot: Option<usize>, r: usize) -> Option<&str> {
    match cols.cell_at(slot, r) {
        Cell::YesNo(b) => Some(yes_no_label(b)),
        other => other.as_str(),
    }
}

/// A grouping label as an interned label: `yes`/`no` shared, a category's
/// value as stored; a free-text value (not interned) as a new label.
fn group_label<'a>(
    cols: &'a Columns,
    slot: Option<usize>,
    r: usize,
    yes_no: &'a [Label; 2],
) -> Option<Cow<'a, Label>> {
    match cols.cell_at(slot, r) {
        Cell::YesNo(b) => Some(Cow::Borrowed(&yes_no[usize::from(b)])),
        Cell::Text(s) => Some(Cow::Borrowed(s)),
        Cell::Str(s) => Some(Cow::Owned(Label::new(s))),
        _ => None,
    }
}

/// Category text → position of its grouping level (`None`: not a level),
/// per grouping; FNV-hashed (short, trusted keys looked up once per patient).
/// Also by code, for a category column (`by_code[code]`: `None` = not
/// looked up yet): no text hashed per patient.
#[derive(Clone, Default)]
struct LevelCache {
    by_text: HashMap<String, Option<usize>, FnvBuild>,
    by_code: Vec<Option<Option<usize>>>,
}

impl LevelCache {
    /// The level of `v` (the text of code `code` when the cell is a
    /// category's), matched once per distinct text or code.
    fn level(&mut self, levels: &[String], v: &str, code: Option<u32>) -> Option<usize> {
        if let Some(c) = code {
            let c = c as usize;
            if let Some(Some(k)) = self.by_code.get(c) {
                return *k;
            }
            let k = self.level(levels, v, None);
            if self.by_code.len() <= c {
                self.by_code.resize(c + 1, None);
            }
            self.by_code[c] = Some(k);
            return k;
        }
        match self.by_text.get(v) {
            Some(&k) => k,
            None => {
                let k = match_level(levels, v);
                self.by_text.insert(v.to_string(), k);
                k
            }
        }
    }
}

/// FNV-1a hashing for short trusted keys (category texts).
type FnvBuild = std::hash::BuildHasherDefault<store::Fnv1a>;

/// The label of row `r` in grouping `g`, borrowed from the shared labels
/// (no reference count touched per patient: the two halves of a large file
/// would contend for the same few counters).
fn grouping_label<'a>(
    g: &GroupingSpec,
    (gcols, gslots): (&[String], &[Option<usize>]),
    cols: &'a Columns,
    r: usize,
    rows: &mut Rows,
    (cache, labels): (&mut LevelCache, &'a LevelLabels),
    yes_no: &'a [Label; 2],
) -> Option<Cow<'a, Label>> {
    match g.kind {
        GroupingKind::Cut => {
            let x = match cols.cell_at(gslots[0], r) {
                Cell::Number(x) => x,
                _ => return None,
            };
            let k = g.cuts.iter().filter(|c| x >= **c).count();
            labels.levels.get(k).map(Cow::Borrowed)
        }
        // needs every patient's value: filled in by `quantile_labels`
        GroupingKind::Quantiles => None,
        GroupingKind::YesNo => group_label(cols, gslots[0], r, yes_no),
        GroupingKind::Category if g.levels.is_empty() => group_label(cols, gslots[0], r, yes_no),
        GroupingKind::Category => {
            let v = group_text(cols, gslots[0], r)?;
            // one lookup per patient; a new text or code is matched once
            let level = cache.level(&g.levels, v, cols.code_at(gslots[0], r));
            match level.and_then(|k| labels.levels.get(k)) {
                Some(l) => Some(Cow::Borrowed(l)),
                None => {
                    if !rows.is_bad(r, &gcols[0]) {
                        rows.problem(
                            r,
                            &gcols[0],
                            None,
                            gslots[0],
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
            let mut any_yes = false;
            let mut all_no = true;
            for &slot in gslots {
                match cols.cell_at(slot, r) {
                    Cell::YesNo(true) => any_yes = true,
                    Cell::YesNo(false) => {}
                    _ => all_no = false,
                }
            }
            if any_yes {
                Some(Cow::Borrowed(&yes_no[1]))
            } else if all_no {
                Some(Cow::Borrowed(&yes_no[0]))
            } else {
                None
            }
        }
        GroupingKind::Cross => {
            let vals: Option<Vec<&str>> = gslots.iter().map(|&s| group_text(cols, s, r)).collect();
            let vals = vals?;
            let found = g.combinations.iter().position(|comb| {
                comb.values
                    .iter()
                    .zip(&vals)
                    .all(|(a, b)| trim_cell(a).eq_ignore_ascii_case(trim_cell(b)))
            });
            match found {
                Some(c) => Some(Cow::Borrowed(&labels.combinations[c])),
                None => {
                    if !gcols.iter().any(|c| rows.is_bad(r, c)) {
                        let msg = format!(
                            "values ({}) of {} match no level of grouping {}",
                            crate::ingest::clip_list(&vals, 20),
                            gcols.join(", "),
                            g.name
                        );
                        rows.problem(
                            r,
                            &gcols[0],
                            None,
                            gslots[0],
                            ProblemKind::UncoveredCombination,
                            msg,
                        );
                    }
                    None
                }
            }
        }
    }
}

/// A grouping whose label depends only on the codes of its cells (every
/// column yes/no or category): the label's code in the grouping's table
/// per combination of codes, learnt from the first patient with it, so the
/// others are a lookup. A combination whose first patient had no label in a
/// grouping that reports unmatched values (a category with levels, a
/// cross) is never learnt: every such patient takes the full path, which
/// says why.
struct CodedGrouping<'a> {
    /// Each column's codes and its stride in the combined key.
    columns: Vec<(CodedCells<'a>, u32)>,
    /// Per key: [`Self::UNSEEN`] or the label's code.
    codes: Vec<u32>,
    /// Whether a patient without a label may be a problem to report.
    reports_unmatched: bool,
}

impl<'a> CodedGrouping<'a> {
    const UNSEEN: u32 = u32::MAX;
    /// Largest key space kept (combinations of codes).
    const MAX_KEYS: u32 = 1 << 16;

    fn new(g: &GroupingSpec, slots: &[Option<usize>], cols: &'a Columns) -> Option<Self> {
        let reports_unmatched = match g.kind {
            GroupingKind::YesNo | GroupingKind::AnyYes => false,
            GroupingKind::Category => !g.levels.is_empty(),
            GroupingKind::Cross => true,
            GroupingKind::Cut | GroupingKind::Quantiles => return None,
        };
        let mut columns = Vec::with_capacity(slots.len());
        let mut size: u32 = 1;
        for slot in slots {
            let (col, radix) = CodedCells::of(&cols.data[(*slot)?])?;
            columns.push((col, size));
            size = size.checked_mul(radix).filter(|s| *s <= Self::MAX_KEYS)?;
        }
        Some(CodedGrouping {
            columns,
            codes: vec![Self::UNSEEN; size as usize],
            reports_unmatched,
        })
    }

    /// Row `r`'s label code when its combination of codes is learnt, else
    /// the combination (to learn).
    fn label(&self, r: usize) -> Result<u32, u32> {
        let key: u32 = self.columns.iter().map(|&(c, s)| s * c.at(r)).sum();
        match self.codes[key as usize] {
            Self::UNSEEN => Err(key),
            code => Ok(code),
        }
    }

    /// The label code found for `key`'s first patient (`None`: no label).
    fn learn(&mut self, key: u32, code: Option<u32>) {
        match code {
            Some(c) => self.codes[key as usize] = c,
            None if !self.reports_unmatched => self.codes[key as usize] = 0,
            None => {}
        }
    }
}

/// A grouping's declared levels and its combinations' levels as shared
/// labels, made once (not looked up per patient).
struct LevelLabels {
    levels: Vec<Label>,
    combinations: Vec<Label>,
}

impl LevelLabels {
    fn of(g: &GroupingSpec) -> LevelLabels {
        LevelLabels {
            levels: g.levels.iter().map(|l| Label::new(l)).collect(),
            combinations: g
                .combinations
                .iter()
                .map(|c| Label::new(&c.level))
                .collect(),
        }
    }
}

/// An endpoint's columns (canonical names) and the labels of its records.
#[derive(Clone)]
struct EndpointCols {
    start: String,
    censor: String,
    events: Vec<String>,
    censor_if: Vec<String>,
    require: Vec<String>,
    status: Option<String>,
    /// Duration export: the number column (canonical) and the days in one
    /// of its units.
    duration: Option<(String, f64)>,
    /// Days in one unit of the endpoint's times.
    days_per_unit: f64,
    /// The possible end columns: `censor`, then `events`, then
    /// `censor_if`, then the duration column (a record's `end_index`).
    ends: Vec<EndColumn>,
    /// The store's slots of `start`, `censor`, `events` and `censor_if`
    /// (looked up once, not per row).
    start_slot: Option<usize>,
    censor_slot: Option<usize>,
    event_slots: Vec<Option<usize>>,
    censor_if_slots: Vec<Option<usize>>,
}

impl EndpointCols {
    fn new(plan: &Plan, e: &EndpointSpec, cols: &Columns) -> EndpointCols {
        let label = |c: &str| {
            plan.column(c)
                .map(|s| s.display_label().to_string())
                .unwrap_or_else(|| c.to_string())
        };
        let start = canon(plan, plan.endpoint_start(e));
        let censor = canon(plan, &e.censor);
        let events: Vec<String> = e.events.iter().map(|c| canon(plan, c)).collect();
        let censor_if: Vec<String> = e.censor_if_present.iter().map(|c| canon(plan, c)).collect();
        let duration = e
            .duration
            .as_ref()
            .map(|d| (canon(plan, &d.column), plan.study.days_in(d.unit)));
        let mut ends: Vec<EndColumn> = std::iter::once(&censor)
            .chain(&events)
            .chain(&censor_if)
            .map(|c| EndColumn {
                column: c.clone(),
                event: label(c),
                censored: format!("Censored at {}", label(c).to_lowercase()),
            })
            .collect();
        if let (Some((c, _)), Some(st)) = (&duration, &e.event_status) {
            let status = label(&st.column);
            ends.push(EndColumn {
                column: c.clone(),
                event: format!("Event ({status}: {})", st.values.join(" / ")),
                censored: format!("Censored ({status})"),
            });
        }
        let slots = |cs: &[String]| cs.iter().map(|c| cols.slot_of(c)).collect();
        EndpointCols {
            start_slot: cols.slot_of(&start),
            censor_slot: cols.slot_of(&censor),
            event_slots: slots(&events),
            censor_if_slots: slots(&censor_if),
            duration,
            days_per_unit: plan.endpoint_days_per_unit(e),
            start,
            censor,
            events,
            censor_if,
            require: e.require_present.iter().map(|c| canon(plan, c)).collect(),
            status: e.event_status.as_ref().map(|st| canon(plan, &st.column)),
            ends,
        }
    }
}

fn endpoint_record(
    e: &EndpointSpec,
    ec: &EndpointCols,
    cols: &Columns,
    r: usize,
    rows: &mut Rows,
    present: &BTreeSet<&str>,
) -> Option<(TteRecord, Option<f64>)> {
    let all = std::iter::once(&ec.start)
        .chain(std::iter::once(&ec.censor))
        .chain(&ec.events)
        .chain(&ec.censor_if);
    // Columns with problems already reported: nothing more to say here.
    if rows.has_issues(r) && all.clone().any(|c| rows.is_bad(r, c)) {
        return None;
    }
    for c in &ec.require {
        let has = present.contains(c.as_str()) && !cols.get(c, r).is_missing();
        if !has {
            return None;
        }
    }
    if ec.duration.is_some() {
        return duration_record(e, ec, cols, r, rows).map(|(rec, t)| (rec, Some(t)));
    }
    let Some(start) = cols.date(ec.start_slot, r) else {
        rows.problem(
            r,
            &ec.start,
            None,
            ec.start_slot,
            ProblemKind::MissingValue,
            format!("start date of endpoint {} is missing", e.code),
        );
        return None;
    };
    let earliest = |slots: &'_ [Option<usize>]| -> Option<(NaiveDate, usize)> {
        slots
            .iter()
            .enumerate()
            .filter_map(|(i, &c)| cols.date(c, r).map(|d| (d, i)))
            .min_by_key(|(d, _)| *d)
    };
    if ec.status.as_ref().is_some_and(|c| rows.is_bad(r, c)) {
        return None;
    }
    let status_event = match (&e.event_status, &ec.status) {
        (Some(st), Some(col)) => {
            let text = cols.get(col, r).to_text();
            if text.is_empty() {
                rows.problem(
                    r,
                    col,
                    None,
                    cols.slot_of(col),
                    ProblemKind::MissingValue,
                    format!("event status of endpoint {} is missing", e.code),
                );
                return None;
            }
            let ev = st
                .values
                .iter()
                .any(|v| trim_cell(v).eq_ignore_ascii_case(trim_cell(&text)));
            let found = earliest(&ec.event_slots);
            match (ev, found) {
                (true, None) => {
                    let msg = format!(
                        "{col} is {text} (an event of endpoint {}) but {} has no date",
                        e.code,
                        ec.events.join(", ")
                    );
                    let c0 = &ec.events[0];
                    rows.problem(
                        r,
                        c0,
                        None,
                        cols.slot_of(c0),
                        ProblemKind::StatusConflict,
                        msg,
                    );
                    return None;
                }
                (false, Some((_, i))) => {
                    let c = &ec.events[i];
                    let msg = format!(
                        "{c} has a date but {col} is {text} (not an event of endpoint {})",
                        e.code
                    );
                    rows.problem(
                        r,
                        c,
                        None,
                        cols.slot_of(c),
                        ProblemKind::StatusConflict,
                        msg,
                    );
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
        _ => earliest(&ec.event_slots),
    };
    // the end column, and its place in `ec.ends` (censor, events, censor_if)
    let (end, (end_column, end_index), event) = if let Some((d, i)) = event_date {
        (d, (&ec.events[i], 1 + i), true)
    } else if let Some((d, i)) = earliest(&ec.censor_if_slots) {
        (d, (&ec.censor_if[i], 1 + ec.events.len() + i), false)
    } else if let Some(d) = cols.date(ec.censor_slot, r) {
        (d, (&ec.censor, 0), false)
    } else {
        rows.problem(
            r,
            &ec.censor,
            None,
            ec.censor_slot,
            ProblemKind::MissingValue,
            format!("censoring date of endpoint {} is missing", e.code),
        );
        return None;
    };
    if end < start {
        rows.problem(
            r,
            end_column,
            None,
            cols.slot_of(end_column),
            ProblemKind::BeforeStart,
            format!(
                "{} date of endpoint {} is before its start {} ({})",
                if event { "event" } else { "censoring" },
                e.code,
                ec.start,
                iso(start)
            ),
        );
        return None;
    }
    let days = (end - start).num_days();
    // (the time, days / days_per_unit, is worked out from the days when
    // asked for: `EndpointData::time_of`)
    let record = TteRecord {
        start: Some(start),
        days: saturate_days(days),
        event,
        // at most 1 + 200 + 200 places (the plan's lists are bounded)
        end_index: u16::try_from(end_index).ok()?,
    };
    Some((record, None))
}

/// The record of a duration endpoint: the time from its number column
/// (converted from its stated unit), the event from its status column.
fn duration_record(
    e: &EndpointSpec,
    ec: &EndpointCols,
    cols: &Columns,
    r: usize,
    rows: &mut Rows,
) -> Option<(TteRecord, f64)> {
    let (dcol, src_days) = ec.duration.as_ref()?;
    let (st, scol) = (e.event_status.as_ref()?, ec.status.as_ref()?);
    if rows.is_bad(r, dcol) || rows.is_bad(r, scol) {
        return None;
    }
    let text = cols.get(scol, r).to_text();
    if text.is_empty() {
        rows.problem(
            r,
            scol,
            None,
            cols.slot_of(scol),
            ProblemKind::MissingValue,
            format!("event status of endpoint {} is missing", e.code),
        );
        return None;
    }
    let event = st
        .values
        .iter()
        .any(|v| trim_cell(v).eq_ignore_ascii_case(trim_cell(&text)));
    let Cell::Number(x) = cols.get(dcol, r) else {
        rows.problem(
            r,
            dcol,
            None,
            cols.slot_of(dcol),
            ProblemKind::MissingValue,
            format!("duration of endpoint {} is missing", e.code),
        );
        return None;
    };
    if !(x.is_finite() && x >= 0.0) {
        rows.problem(
            r,
            dcol,
            None,
            cols.slot_of(dcol),
            ProblemKind::BeforeStart,
            format!(
                "duration of endpoint {} is negative (a time to {} cannot be below 0)",
                e.code,
                if event { "the event" } else { "censoring" }
            ),
        );
        return None;
    }
    let days_f = x * src_days;
    let record = TteRecord {
        start: None,
        // (`as` saturates a duration past i64's range)
        days: saturate_days(days_f.round() as i64),
        event,
        // the duration column: the last of `ec.ends`
        end_index: u16::try_from(ec.ends.len() - 1).ok()?,
    };
    // the same unit: the number as written (no round trip through days)
    let time = if *src_days == ec.days_per_unit {
        x
    } else {
        days_f / ec.days_per_unit
    };
    Some((record, time))
}

/// One endpoint's records as the derivation makes them, row by row: each
/// row's record and, for a duration endpoint, its exact time (`NaN`
/// without a record; nothing for an endpoint of dates).
struct Records {
    records: Vec<Option<TteRecord>>,
    durations: Vec<f64>,
    duration: bool,
}

impl Records {
    fn with_capacity(n: usize, duration: bool) -> Records {
        Records {
            records: Vec::with_capacity(n),
            durations: Vec::with_capacity(if duration { n } else { 0 }),
            duration,
        }
    }
    fn push(&mut self, rec: Option<(TteRecord, Option<f64>)>) {
        if self.duration {
            self.durations
                .push(rec.and_then(|(_, t)| t).unwrap_or(f64::NAN));
        }
        self.records.push(rec.map(|(r, _)| r));
    }
    /// Append the records of the rows after these.
    fn append(&mut self, other: Records) {
        self.records.extend(other.records);
        self.durations.extend(other.durations);
    }
}

/// `v`'s entries at the rows `kept` (increasing), compacted in place: row
/// r >= its new position k, so nothing is copied when every row is kept.
fn keep_rows<T>(v: &mut Vec<T>, kept: &[usize]) {
    for (k, &r) in kept.iter().enumerate() {
        v.swap(k, r);
    }
    v.truncate(kept.len());
    v.shrink_to_fit();
}

/// A whole number of days as a record's `days`, saturating at i32's range.
fn saturate_days(days: i64) -> i32 {
    days.clamp(i32::MIN.into(), i32::MAX.into()) as i32
}

/// Everything the validation passes produced, for [`build_cohort`].
struct Built<'a, 'b> {
    input: &'b Input<'a>,
    walk: crate::ingest::Walk,
    date_format: String,
    cols: Arc<Columns>,
    rows: Rows<'b>,
    extras: Vec<BTreeMap<String, String>>,
    kept: Vec<usize>,
    excluded: Vec<Excluded>,
    absent: Vec<String>,
    extra_idx: Vec<usize>,
    group_labels: Vec<LabelColumn>,
    records: Vec<Records>,
    /// Each endpoint's end columns.
    ends: Vec<Vec<EndColumn>>,
    yes_no: [Label; 2],
}

fn build_cohort(plan: &Plan, b: Built, present: &BTreeSet<&str>) -> Cohort {
    let Built {
        input,
        walk,
        date_format,
        cols,
        rows,
        mut extras,
        kept,
        excluded,
        absent,
        extra_idx,
        group_labels,
        records,
        ends,
        yes_no,
    } = b;
    let n = kept.len();
    let endpoints: Vec<EndpointData> = plan
        .endpoints
        .iter()
        .zip(records.into_iter().zip(ends))
        .map(|(e, (recs, ends))| {
            let Records {
                records: mut recs,
                mut durations,
                ..
            } = recs;
            keep_rows(&mut recs, &kept);
            if !durations.is_empty() {
                keep_rows(&mut durations, &kept);
            }
            EndpointData {
                code: e.code.clone(),
                label: e.label.clone(),
                unit: plan.endpoint_unit(e),
                days_per_unit: plan.endpoint_days_per_unit(e),
                ends,
                records: recs,
                durations,
            }
        })
        .collect();
    // every row kept (the usual case): the columns move, else the kept rows
    let all_kept = kept.len() == rows.lines.len();
    let mut labels: Vec<LabelColumn> = group_labels
        .into_iter()
        .map(|mut all| {
            if all_kept {
                all.shrink_to_fit();
                all
            } else {
                all.pick(&kept)
            }
        })
        .collect();
    for (k, g) in plan.groupings.iter().enumerate() {
        if g.kind == GroupingKind::Quantiles {
            let col = canon(plan, &g.columns[0]);
            let x: Vec<Option<f64>> = kept
                .iter()
                .map(|&r| match cols.get(&col, r) {
                    Cell::Number(v) => Some(v),
                    _ => None,
                })
                .collect();
            labels[k] = quantile_labels(&x, &g.levels).into_iter().collect();
        }
    }
    let groupings: Vec<GroupingData> = plan
        .groupings
        .iter()
        .zip(labels)
        .map(|(g, labels)| GroupingData {
            name: g.name.clone(),
            label: g.display_label().to_string(),
            kind: g.kind,
            levels: if g.levels.is_empty() {
                // free-text category grouping: the observed values, sorted
                let set: BTreeSet<&str> =
                    labels.table().iter().flatten().map(Label::as_str).collect();
                set.into_iter().map(str::to_string).collect()
            } else {
                g.levels.clone()
            },
            labels,
        })
        .collect();
    let store = Arc::new(PatientStore {
        columns: Arc::clone(&cols),
        ids: Arc::clone(&rows.ids),
        // `kept` increases: the rows stay in order
        extras: kept
            .iter()
            .filter_map(|&r| {
                let m = extras.get_mut(r).map(std::mem::take)?;
                (!m.is_empty()).then_some((r, m))
            })
            .collect(),
        lines: LineMap::new(&rows.lines),
    });
    drop(extras);

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
                let slot = cols.slot_of(&c.name)?;
                let values = match kind {
                    VariableKind::Continuous => VariableValues::Continuous {
                        values: match &cols.data[slot] {
                            // every row analysed: the column itself
                            ColData::Number(v) if kept.len() == v.len() => Arc::clone(v),
                            _ => Arc::new(
                                kept.iter()
                                    .map(|&r| match cols.cell(slot, r) {
                                        Cell::Number(v) => Some(v),
                                        _ => None,
                                    })
                                    .collect(),
                            ),
                        },
                    },
                    VariableKind::Categorical => {
                        let mut cache: HashMap<String, Label> = HashMap::new();
                        // a category or yes/no column: its codes, no label per patient
                        let values: LabelColumn = match &cols.data[slot] {
                            ColData::Codes { codes, levels } if c.kind == ColumnType::Category => {
                                let picked = kept.iter().map(|&r| codes.get(r)).collect();
                                LabelColumn::from_codes(picked, levels)
                            }
                            ColData::YesNo(v) => {
                                let code = |b: u8| match b {
                                    NO => 1,
                                    YES => 2,
                                    _ => 0,
                                };
                                let picked = kept.iter().map(|&r| code(v[r])).collect();
                                LabelColumn::from_codes(picked, &yes_no)
                            }
                            _ => kept
                                .iter()
                                .map(|&r| match cols.cell(slot, r) {
                                    Cell::Missing => None,
                                    Cell::Text(s) => Some(s.clone()),
                                    Cell::YesNo(b) => Some(yes_no[usize::from(b)].clone()),
                                    other => {
                                        let t = other.to_text();
                                        Some(
                                            cache
                                                .entry(t)
                                                .or_insert_with_key(|t| Label::new(t))
                                                .clone(),
                                        )
                                    }
                                })
                                .collect(),
                        };
                        // a grouping of this column with the same label per
                        // patient (a yes/no or category grouping of it): its
                        // codes are shared, not held twice
                        let values = plan
                            .groupings
                            .iter()
                            .zip(&groupings)
                            .filter(|(g, _)| {
                                matches!(g.kind, GroupingKind::YesNo | GroupingKind::Category)
                                    && g.columns.len() == 1
                                    && canon(plan, &g.columns[0]) == c.name
                            })
                            .find(|(_, gd)| gd.labels.same_labels(&values))
                            .map_or(values, |(_, gd)| gd.labels.clone());
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
    // the Table-1 and Cox variables on a second core while the patients,
    // the yes/no counts and the intervals are made here (independent parts,
    // the same values either way)
    let (table1, cox_covariates, patients, flag_counts, intervals) = std::thread::scope(|sc| {
        let vars = sc.spawn(|| {
            let table1: Vec<VariableData> = plan
                .table1
                .iter()
                .filter_map(|t| variable(&t.variable, Some(t.kind), t.label.as_deref()))
                .collect();
            let cox_covariates: Vec<VariableData> = plan
                .analysis
                .cox_covariates
                .iter()
                .chain(&plan.analysis.cox_optional_covariates)
                .filter_map(|v| variable(v, None, None))
                .collect();
            (table1, cox_covariates)
        });
        let patients: Vec<PatientRecord> = kept
            .iter()
            .map(|&r| PatientRecord {
                row: r,
                store: Arc::clone(&store),
            })
            .collect();
        let mut flag_counts = Vec::new();
        for c in plan.columns.iter().filter(|c| c.kind == ColumnType::YesNo) {
            let Some(slot) = cols.slot_of(&c.name) else {
                continue;
            };
            // a histogram of the column's codes over the analysed rows
            let mut by_code = [0usize; 256];
            match &cols.data[slot] {
                ColData::YesNo(v) if kept.len() == v.len() => {
                    v.iter().for_each(|&c| by_code[c as usize] += 1)
                }
                ColData::YesNo(v) => kept.iter().for_each(|&r| by_code[v[r] as usize] += 1),
                _ => by_code[NA as usize] = kept.len(),
            }
            let (yes, no) = (by_code[YES as usize], by_code[NO as usize]);
            let missing = kept.len() - yes - no;
            flag_counts.push(FlagCount {
                name: c.name.clone(),
                yes,
                no,
                missing,
            });
        }
        for g in groupings.iter().filter(|g| g.kind == GroupingKind::AnyYes) {
            if flag_counts.iter().any(|f| f.name == g.name) {
                continue;
            }
            // per level by code (the plan makes an any-yes grouping's
            // levels "no" and "yes")
            let counts = g.counts();
            let count = |level: &str| {
                counts
                    .iter()
                    .find(|(l, _)| l == level)
                    .map_or(0, |(_, n)| *n)
            };
            flag_counts.push(FlagCount {
                name: g.name.clone(),
                yes: count("yes"),
                no: count("no"),
                missing: g.missing(),
            });
        }
        let intervals: Vec<IntervalData> = plan
            .intervals
            .iter()
            .map(|iv| {
                let from = cols.slot_of(&canon(plan, &iv.from));
                let to = cols.slot_of(&canon(plan, &iv.to));
                IntervalData {
                    name: iv.name.clone(),
                    label: iv.label.clone().unwrap_or_else(|| iv.name.clone()),
                    days: kept
                        .iter()
                        .map(|&r| {
                            let d = (cols.date(to, r)? - cols.date(from, r)?).num_days();
                            // exact: chrono's dates are within i32 days of each other
                            Some(saturate_days(d))
                        })
                        .collect(),
                }
            })
            .collect();

        let (table1, cox_covariates) = vars.join().unwrap_or_else(|e| std::panic::resume_unwind(e));
        (table1, cox_covariates, patients, flag_counts, intervals)
    });

    let notes = run_notes(plan, &absent, &endpoints, n);
    let headers = input.headers();
    Cohort {
        file: input.file().to_string(),
        study_name: plan.study.name.clone(),
        date_format,
        flow: Flow {
            rows_read: walk.rows,
            analysed: n,
            excluded,
            filters: Vec::new(),
            partial_dates: Vec::new(),
            notes,
        },
        blank_lines: walk.blank_lines,
        present_columns: plan
            .columns
            .iter()
            .filter(|c| present.contains(c.name.as_str()))
            .map(|c| c.name.clone())
            .collect(),
        absent_columns: absent,
        extra_columns: extra_idx.iter().map(|&i| headers[i].clone()).collect(),
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
    cols: &Columns,
    rows: &Rows,
    kept: &mut Vec<usize>,
    excluded: &mut Vec<Excluded>,
) -> Vec<FilterStep> {
    let mut steps = Vec::new();
    for f in &plan.filters {
        let col = canon(plan, &f.column);
        let before = kept.len();
        let (keep, out): (Vec<usize>, Vec<usize>) =
            std::mem::take(kept)
                .into_iter()
                .partition(|&r| match cols.get(&col, r) {
                    Cell::Number(x) if f.values.is_empty() => {
                        f.min.is_none_or(|m| x >= m) && f.max.is_none_or(|m| x <= m)
                    }
                    Cell::Missing => false,
                    v => {
                        let t = v.to_text();
                        f.values
                            .iter()
                            .any(|w| trim_cell(w).eq_ignore_ascii_case(trim_cell(&t)))
                    }
                });
        *kept = keep;
        for &r in &out {
            let shown = cols.get(&col, r).to_text();
            excluded.push(Excluded {
                line: rows.lines[r],
                patient_id: rows.ids.owned(r),
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
fn quantile_labels(x: &[Option<f64>], levels: &[String]) -> Vec<Option<Label>> {
    let mut v: Vec<f64> = x.iter().flatten().copied().collect();
    if v.is_empty() || levels.is_empty() {
        return vec![None; x.len()];
    }
    v.sort_by(f64::total_cmp);
    let q = levels.len();
    let b: Vec<f64> = (0..=q)
        .map(|i| quantile7(&v, i as f64 / q as f64))
        .collect();
    let labels: Vec<Label> = levels.iter().map(|l| Label::new(l)).collect();
    x.iter()
        .map(|xi| {
            let xi = (*xi)?;
            let k = (0..q).find(|&i| xi <= b[i + 1]).unwrap_or(q - 1);
            Some(labels[k].clone())
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
fn observed_levels(values: &LabelColumn) -> Vec<String> {
    // the table holds the distinct values (each at least once among the patients)
    let set: BTreeSet<&str> = values.table().iter().flatten().map(Label::as_str).collect();
    let mut levels: Vec<String> = set.into_iter().map(str::to_string).collect();
    let nums: Option<Vec<f64>> = levels.iter().map(|l| l.parse::<f64>().ok()).collect();
    if let Some(nums) = nums {
        let mut pairs: Vec<(f64, String)> = nums.into_iter().zip(levels).collect();
        pairs.sort_by(|a, b| a.0.total_cmp(&b.0));
        levels = pairs.into_iter().map(|p| p.1).collect();
    }
    levels
}

#[cfg(test)]
mod split_tests {
    // A large CSV is read in two parts on two cores (`Delimited::halves`);
    // the cohort, every problem (rows, lines, ids, values) and every read
    // error must be those of one sequential walk.
    use super::*;
    use crate::ingest::Delimited;

    /// The demo export without its quoted `data_source` column.
    fn demo_lines() -> Vec<String> {
        crate::synth::demo_csv()
            .lines()
            .map(|l| match l.split_once(",\"") {
                Some((a, _)) => a.to_string(),
                None => l.rsplit_once(',').map_or(l, |(a, _)| a).to_string(),
            })
            .collect()
    }

    fn both(csv: &str) -> (String, String) {
        let plan = Plan::builtin();
        let d = Delimited::new("t.csv", csv.as_bytes(), b',').unwrap();
        assert!(d.halves(0).is_some(), "the test file is split");
        let input = Input::Delimited(d);
        let opts = DeriveOptions::default();
        let one = derive_input_split(&plan, &input, &opts, usize::MAX);
        let two = derive_input_split(&plan, &input, &opts, 0);
        (format!("{one:#?}"), format!("{two:#?}"))
    }

    #[test]
    fn more_rows_than_a_study_holds_is_an_input_error() {
        assert!(check_row_count("big.csv", MAX_ROWS).is_ok());
        let e = check_row_count("big.csv", MAX_ROWS + 1).unwrap_err();
        assert!(matches!(
            e,
            IngestError::TooManyRows { rows, limit, .. } if rows == MAX_ROWS + 1 && limit == MAX_ROWS
        ));
        let text = e.to_string();
        assert!(text.starts_with("big.csv: 4294967296 data rows"), "{text}");
        assert!(text.contains("at most 4294967295"), "{text}");
    }

    #[test]
    fn numeric_variables_share_their_column_unless_rows_are_left_out() {
        let plan = Plan::builtin();
        let numbers = |c: &Cohort, name: &str| -> Vec<Arc<Numbers>> {
            c.table1
                .iter()
                .chain(&c.cox_covariates)
                .filter(|v| v.name == name)
                .filter_map(|v| match &v.values {
                    VariableValues::Continuous { values } => Some(Arc::clone(values)),
                    _ => None,
                })
                .collect()
        };
        let lines = demo_lines();
        let csv = lines.join("\n");
        let d = Delimited::new("t.csv", csv.as_bytes(), b',').unwrap();
        let all = derive_input(&plan, &Input::Delimited(d), &DeriveOptions::default()).unwrap();
        let age = numbers(&all, "age_at_infusion");
        assert_eq!(age.len(), 2, "in Table 1 and the Cox covariates");
        assert!(Arc::ptr_eq(&age[0], &age[1]));
        let want: Vec<Option<f64>> = all
            .patients
            .iter()
            .map(|p| p.number("age_at_infusion"))
            .collect();
        assert_eq!(age[0].iter().collect::<Vec<_>>(), want);
        // a row left out: the values of the analysed patients only
        let mut bad = lines.clone();
        let col = lines[0]
            .split(',')
            .position(|h| h == "progression_date")
            .expect("the demo has a progression date");
        let mut cells: Vec<&str> = lines[1].split(',').collect();
        cells[col] = "not a date";
        bad[1] = cells.join(",");
        let csv = bad.join("\n");
        let d = Delimited::new("t.csv", csv.as_bytes(), b',').unwrap();
        let opts = DeriveOptions {
            exclude: ExcludePolicy::ExcludeInvalid,
            ..Default::default()
        };
        let some = derive_input(&plan, &Input::Delimited(d), &opts).unwrap();
        assert_eq!(some.patients.len(), all.patients.len() - 1);
        let age = numbers(&some, "age_at_infusion");
        assert_eq!(age[0].iter().collect::<Vec<_>>(), want[1..].to_vec());
        assert_eq!(age[1].iter().collect::<Vec<_>>(), want[1..].to_vec());
    }

    #[test]
    fn coded_groupings_report_every_unmatched_patient() {
        // a category grouping with levels the column does not limit, and a
        // cross missing one combination: every patient outside them is
        // reported (the labels of the others are looked up by code)
        let replace = |text: &str, from: &str, to: &str| {
            assert_eq!(text.matches(from).count(), 1, "{from}");
            text.replace(from, to)
        };
        let toml = replace(
            crate::plan::BUILTIN_TOML,
            "levels = []\nlandmark = 3.0",
            "levels = [\"clinical trial\", \"bispecific\"]\nlandmark = 3.0",
        );
        let toml = replace(
            &toml,
            "levels = [\"both\", \"baseline only\", \"progression only\", \"neither\"]",
            "levels = [\"baseline only\", \"progression only\", \"neither\"]",
        );
        let toml = replace(
            &toml,
            "    { level = \"both\", values = [\"yes\", \"yes\"] },\n",
            "",
        );
        let plan = Plan::from_toml_str(&toml).unwrap();
        let lines = demo_lines();
        let header: Vec<&str> = lines[0].split(',').collect();
        let at = |name: &str| header.iter().position(|h| *h == name).unwrap();
        let (next, emd0, emd1) = (
            at("next_line_category"),
            at("emd_at_infusion"),
            at("prog_emd"),
        );
        let mut want: Vec<(u64, ProblemKind)> = Vec::new();
        for (i, l) in lines.iter().enumerate().skip(1) {
            let cells: Vec<&str> = l.split(',').collect();
            let line = i as u64 + 1;
            if cells[emd0] == "yes" && cells[emd1] == "yes" {
                want.push((line, ProblemKind::UncoveredCombination));
            }
            let c = cells[next].trim();
            if !c.is_empty() && c != "clinical trial" && c != "bispecific" {
                want.push((line, ProblemKind::BadCategory));
            }
        }
        for kind in [ProblemKind::BadCategory, ProblemKind::UncoveredCombination] {
            let planted = want.iter().filter(|w| w.1 == kind).count();
            assert!(planted > 2, "{kind:?}: {planted}");
        }
        let csv = lines.join("\n");
        let d = Delimited::new("t.csv", csv.as_bytes(), b',').unwrap();
        assert!(d.halves(0).is_some(), "the test file is split");
        let input = Input::Delimited(d);
        let opts = DeriveOptions {
            exclude: ExcludePolicy::ExcludeInvalid,
            ..Default::default()
        };
        let one = derive_input_split(&plan, &input, &opts, usize::MAX).unwrap();
        let two = derive_input_split(&plan, &input, &opts, 0).unwrap();
        assert_eq!(format!("{one:#?}"), format!("{two:#?}"));
        let got: Vec<(u64, ProblemKind)> = one
            .flow
            .excluded
            .iter()
            .flat_map(|x| x.causes.iter().map(move |c| (x.line, c.kind)))
            .collect();
        assert_eq!(got, want);
        let x = &one.flow.excluded;
        assert!(x
            .iter()
            .all(|x| x.causes.iter().all(|c| c.column.is_some())));
        assert!(x
            .iter()
            .flat_map(|x| &x.causes)
            .filter(|c| c.kind == ProblemKind::BadCategory)
            .all(|c| c
                .summary
                .contains("not a level of grouping next_line_category")));
        assert_eq!(one.patients.len() + x.len(), lines.len() - 1);
    }

    #[test]
    fn category_texts_keep_their_codes_past_the_scanned_few() {
        // more distinct texts than are matched by a scan, coming back after
        // the scan stops (the hash map takes over), and blanks: every
        // patient keeps the text of its cell
        let lines = demo_lines();
        let header: Vec<&str> = lines[0].split(',').collect();
        let at = header
            .iter()
            .position(|h| *h == "next_line_category")
            .unwrap();
        let text = |i: usize| match i % 13 {
            12 => String::new(),
            k => format!("therapy {}", k % (HOT_TEXTS + 3)),
        };
        let mut rows = vec![lines[0].clone()];
        for (i, l) in lines.iter().enumerate().skip(1) {
            let mut cells: Vec<String> = l.split(',').map(str::to_string).collect();
            cells[at] = text(i);
            rows.push(cells.join(","));
        }
        let csv = rows.join("\n");
        let d = Delimited::new("t.csv", csv.as_bytes(), b',').unwrap();
        let input = Input::Delimited(d);
        let opts = DeriveOptions::default();
        let plan = Plan::builtin();
        let one = derive_input_split(&plan, &input, &opts, usize::MAX).unwrap();
        let two = derive_input_split(&plan, &input, &opts, 0).unwrap();
        assert_eq!(format!("{one:#?}"), format!("{two:#?}"));
        assert_eq!(one.patients.len(), lines.len() - 1);
        for (k, p) in one.patients.iter().enumerate() {
            let want = text(k + 1);
            let got = p.value("next_line_category");
            if want.is_empty() {
                assert_eq!(got, Value::Missing, "patient {k}");
            } else {
                assert_eq!(got, Value::Category(want), "patient {k}");
            }
        }
    }

    #[test]
    fn coded_columns_read_as_the_patients_accessors() {
        let c = demo_cohort();
        let plan = Plan::builtin();
        let mut seen = 0;
        for col in &plan.columns {
            let coded = c.coded_column(&col.name);
            match col.kind {
                ColumnType::YesNo | ColumnType::Category => {}
                _ => {
                    assert!(coded.is_none(), "{}", col.name);
                    continue;
                }
            }
            let Some(coded) = coded else {
                assert!(c.absent_columns.contains(&col.name), "{}", col.name);
                continue;
            };
            seen += 1;
            for p in &c.patients {
                let want = match col.kind {
                    ColumnType::YesNo => p.flag(&col.name).map(yes_no_label),
                    _ => p.category(&col.name),
                };
                let code = coded.code(p);
                assert!((code as usize) < coded.codes());
                assert_eq!((code != 0).then(|| coded.text(code)), want, "{}", col.name);
            }
        }
        assert!(seen >= 8, "yes/no and category columns checked: {seen}");
        // patients of two derivations (a cohort put together by hand): no
        // codes, the callers read cell by cell
        let mut mixed = demo_cohort();
        assert!(mixed.coded_column("prog_emd").is_some());
        mixed.patients.push(c.patients[0].clone());
        assert!(mixed.coded_column("prog_emd").is_none());
    }

    /// The demo cohort under the built-in plan.
    fn demo_cohort() -> Cohort {
        let csv = demo_lines().join("\n");
        let d = Delimited::new("t.csv", csv.as_bytes(), b',').unwrap();
        derive_input(
            &Plan::builtin(),
            &Input::Delimited(d),
            &DeriveOptions::default(),
        )
        .unwrap()
    }

    /// A categorical Table-1 variable of a column that a grouping groups
    /// by, with the same label per patient, shares the grouping's codes;
    /// its labels are the column's either way.
    #[test]
    fn categorical_variables_share_their_grouping_codes() {
        let c = demo_cohort();
        for name in ["emd_at_infusion", "prog_emd", "cart_product"] {
            let g = c.grouping(name).expect("a grouping of the column");
            let v = c
                .table1
                .iter()
                .find(|v| v.name == name)
                .expect("in Table 1");
            let VariableValues::Categorical { values, .. } = &v.values else {
                panic!("{name} is categorical");
            };
            assert!(values.codes().same_buffer(g.labels.codes()), "{name}");
            for (k, p) in c.patients.iter().enumerate() {
                let want = match p.value(name) {
                    Value::Missing => None,
                    Value::YesNo(b) => Some(yes_no_label(b).to_string()),
                    other => Some(other.to_text()),
                };
                assert_eq!(
                    values.get(k).map(|l| l.as_str().to_string()),
                    want,
                    "{name} {k}"
                );
            }
        }
    }

    /// The identifier column's texts are the rows' identifiers: held once.
    #[test]
    fn the_identifier_column_shares_the_row_identifiers() {
        let c = demo_cohort();
        let store = &c.patients[0].store;
        let slot = store.columns.slot_of("patient_id").expect("an id column");
        let ColData::Text(text) = &store.columns.data[slot] else {
            panic!("the id column is text");
        };
        assert!(Arc::ptr_eq(text, &store.ids));
        for p in &c.patients {
            assert_eq!(p.category("patient_id"), Some(p.id()));
        }
    }

    #[test]
    fn same_labels_compares_texts_not_codes() {
        let (a, b, c) = (Label::new("a"), Label::new("b"), Label::new("c"));
        let mut x = LabelColumn::default();
        let mut y = LabelColumn::default();
        // the same texts, first seen in another order: other codes
        for l in [Some(&a), Some(&b), None, Some(&a)] {
            x.push(l);
        }
        for l in [Some(&b), Some(&a)] {
            y.push(l);
        }
        let mut y2 = LabelColumn::default();
        for l in [Some(&a), Some(&b), None, Some(&a)] {
            y2.push(l);
        }
        let mut z = LabelColumn::default();
        z.push(Some(&a));
        z.push(Some(&b));
        z.push(Some(&c));
        z.push(Some(&a));
        assert!(!x.same_labels(&y), "lengths differ");
        assert!(x.same_labels(&y2) && y2.same_labels(&x));
        assert!(
            !x.same_labels(&z) && !z.same_labels(&x),
            "a missing label is not c"
        );
        let mut w = LabelColumn::default();
        for l in [Some(&b), Some(&a), None, Some(&b)] {
            w.push(l);
        }
        assert!(!x.same_labels(&w));
        // equal per patient though the codes differ
        let mut v = LabelColumn::default();
        v.push(Some(&b));
        for l in [Some(&a), Some(&b), None, Some(&a)] {
            v.push(l);
        }
        let v = v.pick(&[1, 2, 3, 4]);
        assert_ne!(x.codes(), v.codes(), "the case is for other codes");
        assert!(x.same_labels(&v));
    }

    #[test]
    fn clean_file_in_two_parts_is_the_same_cohort() {
        let csv = demo_lines().join("\n");
        let (one, two) = both(&csv);
        assert!(one.starts_with("Ok("), "{}", &one[..200.min(one.len())]);
        assert_eq!(one, two);
        // Windows line ends and a trailing line end
        let csv = demo_lines().join("\r\n") + "\r\n";
        let (one, two) = both(&csv);
        assert!(one.starts_with("Ok("));
        assert_eq!(one, two);
    }

    #[test]
    fn problems_in_both_parts_are_those_of_one_walk() {
        let mut lines = demo_lines();
        let header: Vec<String> = lines[0].split(',').map(str::to_string).collect();
        let col = |name: &str| header.iter().position(|h| h == name).unwrap();
        let set = |lines: &mut Vec<String>, r: usize, c: usize, v: &str| {
            let mut cells: Vec<String> = lines[r].split(',').map(str::to_string).collect();
            cells[c] = v.to_string();
            lines[r] = cells.join(",");
        };
        let n = lines.len();
        // bad values on both sides of the middle, a duplicate id across the
        // cut, a category level seen only after the cut and one before it
        set(&mut lines, 3, col("death_date"), "2021-02-30");
        set(&mut lines, n - 5, col("next_line_start_date"), "soon");
        set(&mut lines, n - 4, col("cart_product"), "other-cel");
        let id = lines[2].split(',').next().unwrap().to_string();
        set(&mut lines, n - 3, col("patient_id"), &id);
        set(&mut lines, n - 2, col("next_line_category"), "trial agent");
        set(&mut lines, 5, col("next_line_category"), "radiotherapy");
        // blank lines before and after the cut
        lines.insert(7, String::new());
        lines.insert(n - 6, " , ,".into());
        let csv = lines.join("\n");
        let (one, two) = both(&csv);
        assert!(one.starts_with("Err(\n    Validation("), "{}", &one[..300]);
        for want in ["2021-02-30", "soon", "other-cel", "DuplicateId"] {
            assert!(one.contains(want), "{want} reported");
        }
        assert_eq!(one, two);
        // the same file with only category changes derives a cohort whose
        // levels are in order of first appearance
        let mut lines = demo_lines();
        let m = lines.len() - 2;
        set(&mut lines, m, col("next_line_category"), "trial agent");
        set(&mut lines, 4, col("next_line_category"), "radiotherapy");
        let (one, two) = both(&lines.join("\n"));
        assert!(one.starts_with("Ok(") && one.contains("trial agent"));
        assert_eq!(one, two);
    }

    #[test]
    fn read_errors_are_those_of_one_walk() {
        // data beyond the header: after the cut, and on both sides (the
        // first one wins)
        let mut lines = demo_lines();
        let n = lines.len();
        lines[n - 3].push_str(",extra");
        let (one, two) = both(&lines.join("\n"));
        assert!(
            one.starts_with("Err(\n    Ingest(\n        RaggedRow"),
            "{one}"
        );
        assert_eq!(one, two);
        lines[4].push_str(",early");
        let (one, two) = both(&lines.join("\n"));
        assert!(one.contains("early"), "{one}");
        assert_eq!(one, two);
    }

    #[test]
    fn duplicate_ids_by_sorted_hashes_split_collisions() {
        let mut ids = store::Ids::default();
        for id in ["a", "b", "a", "", "c", "b", "a", "d"] {
            ids.push((!id.is_empty()).then_some(id));
        }
        let sorted = |mut v: Vec<Vec<usize>>| {
            v.sort();
            v
        };
        let want = vec![vec![0, 2, 6], vec![1, 5]];
        assert_eq!(sorted(duplicate_rows(&ids, id_hash)), want);
        // every id colliding: the texts still decide
        assert_eq!(sorted(duplicate_rows(&ids, |_| 7)), want);
        assert!(duplicate_rows(&store::Ids::default(), id_hash).is_empty());
    }

    #[test]
    fn quoted_or_small_files_are_not_split() {
        let d = Delimited::new("t.csv", b"a,b\n1,\"2\"\n3,4\n", b',').unwrap();
        assert!(d.halves(0).is_none());
        let d = Delimited::new("t.csv", b"a,b\n1,2\n3,4\n", b',').unwrap();
        assert!(d.halves(1 << 20).is_none());
        let [a, b] = d.halves(0).unwrap();
        let mut seen = vec![];
        for part in [a, b] {
            part.for_each_row(&mut |line, cells| seen.push((line, cells.join("|"))))
                .unwrap();
        }
        assert_eq!(seen, vec![(2, "1|2".to_string()), (3, "3|4".to_string())]);
    }
}

#[cfg(test)]
mod missing_token_tests {
    use super::*;

    /// The length filter never changes the answer: every token matches
    /// whatever its case, cells of other lengths and near misses do not,
    /// non-ASCII tokens and cells take the lowercase comparison.
    #[test]
    fn length_filter_keeps_the_comparison() {
        let set = MissingSet::new(vec![
            "n/a".into(),
            "na".into(),
            "unknown".into(),
            "ñ".into(),
        ]);
        for yes in ["", "NA", "na", "nA", "N/A", "Unknown", "UNKNOWN", "Ñ", "ñ"] {
            assert!(is_missing_token(yes, &set), "{yes:?}");
        }
        for no in ["n", "nan", "n/a/", "unknow", "2023-01-14", "no", "ño"] {
            assert!(!is_missing_token(no, &set), "{no:?}");
        }
        let long = "x".repeat(70);
        let set = MissingSet::new(vec![long.clone()]);
        assert!(is_missing_token(&long.to_uppercase(), &set));
        assert!(!is_missing_token(&"x".repeat(69), &set));
        let none = MissingSet::new(vec![]);
        assert!(is_missing_token("", &none) && !is_missing_token("na", &none));
    }
}

#[cfg(test)]
mod line_map_tests {
    use super::LineMap;

    /// Every row's line comes back, whether the rows run on from line to
    /// line (steps only where they do not) or mostly do not (every line).
    #[test]
    fn each_row_has_its_line() {
        for lines in [
            vec![2u64, 3, 4, 5, 6],
            // a blank line after row 1, a cell spanning lines in row 3
            vec![2, 3, 5, 6, 8, 9, 10],
            vec![7, 9, 11, 13, 15, 17],
            vec![2],
            vec![],
        ] {
            let m = LineMap::new(&lines);
            let got: Vec<u64> = (0..lines.len()).map(|r| m.line(r)).collect();
            assert_eq!(got, lines);
        }
        assert!(matches!(LineMap::new(&[2, 3, 4, 5, 6]), LineMap::Steps(s) if s.len() == 1));
        assert!(matches!(LineMap::new(&[2, 3, 5, 6, 8, 9, 10]), LineMap::Steps(s) if s.len() == 3));
        assert!(matches!(
            LineMap::new(&[7, 9, 11, 13, 15, 17]),
            LineMap::Every(_)
        ));
    }
}
