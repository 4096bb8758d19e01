//! `survstudy run`: plan + data → validated cohort → analyses → files.
//!
//! Writes into the output directory: `adsl.csv`, `adtte.csv` (CDISC-style
//! derived data), `results.json` (every number; shape documented in the
//! README), CSV tables (`tables/*.csv`) and the HTML report with its figures.
//! On a validation failure nothing is written.

use std::path::{Path, PathBuf};

use serde::Serialize;
use sha2::{Digest, Sha256};
use thiserror::Error;

use crate::analysis::survival::PhResiduals;
use crate::analysis::{analyse, AnalysisOptions, Conventions, EventArrays, Results};
use crate::derive::{
    derive_input, write_adsl, write_adtte, DeriveError, DeriveOptions, ExcludePolicy,
    ValidationReport,
};
use crate::error::{IngestError, PlanError, WriteError};
use crate::ingest::{read_table, Delimited, Input, InputFormat, ParquetSource};
use crate::plan::Plan;
use crate::report::study::Identifiers;

/// Name under which the embedded demo cohort is reported.
pub const DEMO_NAME: &str = "demo_cohort.csv (embedded synthetic cohort)";

/// Options of `survstudy run`.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// Study plan file; `None` = the built-in plan.
    pub plan: Option<PathBuf>,
    /// Input file; `None` = the embedded synthetic demo cohort.
    pub data: Option<PathBuf>,
    /// Sheet of an Excel input; `None` = the first sheet.
    pub sheet: Option<String>,
    /// Output directory (created if needed).
    pub out: PathBuf,
    /// What to do with invalid rows (`--exclude-invalid`).
    pub exclude: ExcludePolicy,
    /// Overrides the plan's date format when set.
    pub date_format: Option<String>,
    /// Statistical conventions preset (R or SAS).
    pub conventions: Conventions,
    /// Report options (identifiers, small-cell suppression, figures).
    pub report: crate::report::study::ReportOptions,
    /// Run date printed in the report (ISO); `None` = today (UTC).
    pub run_date: Option<String>,
    /// Whether per-event arrays are also written (to `results-full.json`).
    pub arrays: ArrayOutput,
}

/// Which per-event arrays a run writes. `results.json` never carries them
/// (its size is bounded at any n: curves at their distinct times, PH
/// residuals as bins plus the smooth).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ArrayOutput {
    /// `results.json` only.
    #[default]
    Bounded,
    /// Also `results-full.json`: the same document with every per-event
    /// array (the scaled Schoenfeld residuals of flagged terms).
    Full,
}

/// The stages of a run, in order, as reported to the observer of
/// [`run_study_observed`] (for a progress bar or timing log).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// Reading the input file.
    Read,
    /// Validating rows and deriving the analysis data.
    Validate,
    /// The analyses.
    Analyse,
    /// results.json, ADaM-style data sets and tables.
    Write,
    /// The HTML report and its figures.
    Render,
    /// Finished.
    Done,
}

impl Stage {
    /// Every stage before `Done`, in order.
    pub const ALL: [Stage; 5] = [
        Stage::Read,
        Stage::Validate,
        Stage::Analyse,
        Stage::Write,
        Stage::Render,
    ];

    /// Lower-case name (`reading`, `validating`, ...).
    pub fn name(self) -> &'static str {
        match self {
            Stage::Read => "reading",
            Stage::Validate => "validating",
            Stage::Analyse => "analysing",
            Stage::Write => "writing",
            Stage::Render => "rendering",
            Stage::Done => "done",
        }
    }
}

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions {
            plan: None,
            data: None,
            sheet: None,
            out: PathBuf::from("survstudy-report"),
            exclude: ExcludePolicy::Stop,
            date_format: None,
            conventions: Conventions::R,
            report: Default::default(),
            run_date: None,
            arrays: ArrayOutput::Bounded,
        }
    }
}

/// Errors of a run. `exit_code` maps them to the CLI's codes.
#[derive(Debug, Error)]
pub enum RunError {
    #[error(transparent)]
    /// The plan cannot be read or is inconsistent (exit 2).
    Plan(#[from] PlanError),
    #[error(transparent)]
    /// The data file cannot be read (exit 2).
    Ingest(#[from] IngestError),
    #[error("{0}")]
    /// The data have problems; every one is listed (exit 2).
    Validation(ValidationReport),
    /// Every row was excluded (exit 2).
    #[error("{file}: no patients left to analyse ({rows} rows read, all excluded)")]
    NoPatients {
        /// The data file.
        file: String,
        /// Rows read.
        rows: usize,
    },
    /// A grouping the plan analyses has implausibly many levels (free text
    /// or an identifier in a category column): one curve, one coefficient
    /// per level would be meaningless, and the work grows cubically.
    #[error("{file}: grouping {grouping}: {message}; declare the column's levels in the plan, or leave the grouping out of the analysis")]
    TooManyLevels {
        /// The data file.
        file: String,
        /// The grouping (plan name).
        grouping: String,
        /// How many levels it has, and the limit.
        message: String,
    },
    #[error(transparent)]
    /// A derived data set could not be written (exit 1).
    Write(#[from] WriteError),
    /// An output file could not be written (exit 1).
    #[error("cannot write {path}: {message}")]
    Output {
        /// The output file.
        path: String,
        /// Why.
        message: String,
    },
    #[error("report: {0}")]
    /// The report could not be built (exit 1).
    Report(#[from] crate::report::ReportError),
}

impl RunError {
    /// 2 = bad input (plan, data, validation), 1 = analysis or output problem.
    pub fn exit_code(&self) -> i32 {
        match self {
            RunError::Plan(_)
            | RunError::Ingest(_)
            | RunError::Validation(_)
            | RunError::NoPatients { .. }
            | RunError::TooManyLevels { .. } => 2,
            _ => 1,
        }
    }
}

/// Provenance of a run, stored in results.json as `meta`.
#[derive(Debug, Clone, Serialize)]
pub struct RunMeta {
    /// The data file's name (or the embedded demo cohort).
    pub data_source: String,
    /// SHA-256 of the data file's bytes.
    pub sha256: String,
    /// Whether the data are the synthetic demo cohort.
    pub synthetic: bool,
    /// Run date (ISO).
    pub run_date: String,
    /// The plan's name (file name, or `built-in`).
    pub plan: String,
    /// Version of survstudy that made the run.
    pub survstudy_version: String,
}

/// What a run produced.
#[derive(Debug)]
pub struct RunOutput {
    /// The output directory.
    pub out_dir: PathBuf,
    /// Provenance of the run.
    pub meta: RunMeta,
    /// Everything the run computed.
    pub results: Results,
    /// Every file written, under `out_dir`.
    pub files: Vec<PathBuf>,
}

fn io_err(path: &Path, e: impl std::fmt::Display) -> RunError {
    RunError::Output {
        path: path.display().to_string(),
        message: e.to_string(),
    }
}

fn today() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0);
    chrono::DateTime::from_timestamp(secs, 0)
        .map(|d| d.date_naive().to_string())
        .unwrap_or_default()
}

/// Whether a table is a survstudy synthetic cohort (the generator writes a
/// `data_source` column saying so in every row).
fn is_synthetic(input: &Input) -> Result<bool, IngestError> {
    let Some(j) = input
        .headers()
        .iter()
        .position(|h| h.trim().eq_ignore_ascii_case("data_source"))
    else {
        return Ok(false);
    };
    let mut all = true;
    let walk = input.for_each_row(&mut |_, cells| {
        all &= cells
            .get(j)
            .is_some_and(|c| c.to_ascii_lowercase().contains("synthetic"));
    })?;
    Ok(walk.rows > 0 && all)
}

/// Refuse analysed groupings with more levels than
/// [`crate::analysis::table1::MAX_LEVELS`] (or one per patient).
fn check_grouping_levels(
    plan: &Plan,
    cohort: &crate::derive::Cohort,
    file: &str,
) -> Result<(), RunError> {
    let a = &plan.analysis;
    let used = a
        .km_by
        .iter()
        .chain(&a.cox_univariable)
        .chain(a.table1_by.iter())
        .chain(plan.competing_risks.iter().filter_map(|c| c.by.as_ref()));
    let mut seen = std::collections::HashSet::new();
    for name in used {
        let Some(g) = cohort.grouping(name) else {
            continue;
        };
        if !seen.insert(g.name.as_str()) {
            continue;
        }
        let n = g.labels.iter().flatten().count();
        if let Some(w) =
            crate::analysis::table1::free_text_warning(&g.name, g.labels.table().len() - 1, n)
        {
            return Err(RunError::TooManyLevels {
                file: file.to_string(),
                grouping: crate::ingest::clip(&g.name),
                message: w,
            });
        }
    }
    Ok(())
}

/// Run the study and write every output.
pub fn run_study(opts: &RunOptions) -> Result<RunOutput, RunError> {
    run_study_observed(opts, &mut |_| {})
}

/// Files at least this large are mapped rather than read.
const MAP_MIN: u64 = 1 << 20;

/// The bytes of the input file: a large regular file is mapped into memory
/// read-only (its page-cache pages, no copy: reading a 1 GB export took
/// seconds of copying and fresh-page faults), anything else is read. The
/// file must not be changed while a run reads it (as for any input).
fn input_bytes(p: &Path) -> Result<bytes::Bytes, IngestError> {
    let io = |source| IngestError::Io {
        file: p.display().to_string(),
        source,
    };
    let file = std::fs::File::open(p).map_err(io)?;
    let meta = file.metadata().map_err(io)?;
    if meta.is_file() && meta.len() >= MAP_MIN {
        // SAFETY: a private read-only mapping of a regular file, kept alive
        // by the returned `Bytes`; the only hazard is the file being
        // truncated by another process during the run (documented above)
        if let Ok(m) = unsafe { memmap2::MmapOptions::new().populate().map(&file) } {
            return Ok(bytes::Bytes::from_owner(m));
        }
    }
    std::fs::read(p).map(bytes::Bytes::from).map_err(io)
}

/// [`run_study`], telling `observe` when each [`Stage`] starts (and `Done`).
pub fn run_study_observed(
    opts: &RunOptions,
    observe: &mut dyn FnMut(Stage),
) -> Result<RunOutput, RunError> {
    observe(Stage::Read);
    let plan = match &opts.plan {
        Some(p) => Plan::from_file(p)?,
        None => Plan::builtin(),
    };
    let plan_name = opts
        .plan
        .as_ref()
        .map(|p| file_name(p))
        .unwrap_or_else(|| "built-in post-CAR-T plan".into());
    // CSV/TSV are validated straight from the file's bytes (one typed
    // column per plan column, no table of strings), Parquet from its
    // decoded column batches; workbooks are read into a table first
    // (bounded by MAX_SHEET_CELLS).
    let demo = opts.data.is_none();
    let (bytes, source) = match &opts.data {
        Some(p) => (input_bytes(p)?, file_name(p)),
        None => (
            bytes::Bytes::from_static(crate::synth::demo_csv().as_bytes()),
            DEMO_NAME.to_string(),
        ),
    };
    // the file's hash, on its own thread while the rows are validated
    let hashing = {
        let bytes = bytes.clone();
        std::thread::spawn(move || Sha256::digest(&bytes))
    };
    let table;
    let input = match &opts.data {
        None => Input::Delimited(Delimited::new(DEMO_NAME, &bytes, b',')?),
        Some(p) => match InputFormat::from_path(p)? {
            InputFormat::Csv => {
                Input::Delimited(Delimited::new(&p.display().to_string(), &bytes, b',')?)
            }
            InputFormat::Tsv => {
                Input::Delimited(Delimited::new(&p.display().to_string(), &bytes, b'\t')?)
            }
            InputFormat::Workbook => {
                table = read_table(p, opts.sheet.as_deref())?;
                Input::Table(&table)
            }
            // decoded batch by batch on each walk (no table of strings)
            InputFormat::Parquet => {
                Input::Parquet(ParquetSource::new(&p.display().to_string(), bytes.clone())?)
            }
        },
    };
    let synthetic = demo || is_synthetic(&input)?;
    observe(Stage::Validate);
    let cohort = derive_input(
        &plan,
        &input,
        &DeriveOptions {
            exclude: opts.exclude,
            date_format: opts.date_format.clone(),
        },
    )
    .map_err(|e| match e {
        DeriveError::Ingest(e) => RunError::Ingest(e),
        DeriveError::Validation(r) => RunError::Validation(r),
    })?;
    if cohort.patients.is_empty() {
        return Err(RunError::NoPatients {
            file: source,
            rows: cohort.flow.rows_read,
        });
    }
    check_grouping_levels(&plan, &cohort, &source)?;
    let sha = hashing
        .join()
        .unwrap_or_else(|e| std::panic::resume_unwind(e));
    let sha256: String = sha.iter().map(|b| format!("{b:02x}")).collect();
    drop(input);
    drop(bytes);
    observe(Stage::Analyse);
    let mut results = analyse(
        &plan,
        &cohort,
        &AnalysisOptions {
            conventions: opts.conventions,
            // without --full-arrays only what the report draws point by point
            event_arrays: match opts.arrays {
                ArrayOutput::Full => EventArrays::All,
                ArrayOutput::Bounded => {
                    EventArrays::UpTo(crate::report::chart::ph_residuals::MAX_EVENT_POINTS)
                }
            },
        },
    );
    let meta = RunMeta {
        data_source: source,
        sha256,
        synthetic,
        run_date: opts.run_date.clone().unwrap_or_else(today),
        plan: plan_name,
        survstudy_version: env!("CARGO_PKG_VERSION").to_string(),
    };

    // outputs
    observe(Stage::Write);
    let out = &opts.out;
    std::fs::create_dir_all(out).map_err(|e| io_err(out, e))?;
    let report_meta = crate::report::study::ReportMeta {
        title: plan.study.name.clone(),
        data_source: meta.data_source.clone(),
        sha256: meta.sha256.clone(),
        run_date: meta.run_date.clone(),
        version: meta.survstudy_version.clone(),
        synthetic,
    };
    // adsl.csv and adtte.csv (per-patient files, the bulk of the bytes) are
    // written on their own threads while results.json and the tables are
    // built and then the report is rendered (it reads the results only);
    // each file's bytes are what a sequential run writes, and the error
    // returned is the one a sequential run meets first (the report may be
    // written by then: it is not rendered when results.json fails)
    let (adsl, adtte, rest, report) = std::thread::scope(|scope| {
        let adsl = scope.spawn(|| write_adsl(&cohort, out));
        let adtte = scope.spawn(|| write_adtte(&cohort, out));
        let rest = write_results(&mut results, &meta, opts, out);
        let report = rest.is_ok().then(|| {
            observe(Stage::Render);
            crate::report::study::build_report(&results, &report_meta, &opts.report)
                .and_then(|r| crate::report::study::write_report(out, &r, 300.0))
        });
        let join = |h: std::thread::ScopedJoinHandle<'_, _>| {
            h.join().unwrap_or_else(|e| std::panic::resume_unwind(e))
        };
        (join(adsl), join(adtte), rest, report)
    });
    let mut files = vec![adsl?, adtte?];
    files.extend(rest?);
    if let Some(r) = report {
        r?;
    }
    files.push(out.join("index.html"));
    observe(Stage::Done);
    Ok(RunOutput {
        out_dir: out.clone(),
        meta,
        results,
        files,
    })
}

/// Writes results.json (and results-full.json with `--full-arrays`) and the
/// tables; returns their paths in that order.
fn write_results(
    results: &mut Results,
    meta: &RunMeta,
    opts: &RunOptions,
    out: &Path,
) -> Result<Vec<PathBuf>, RunError> {
    let mut files = vec![];
    let mut doc = if opts.arrays == ArrayOutput::Full {
        let doc = results_json_with(results, meta, opts.report.show_identifiers);
        let full_path = out.join("results-full.json");
        write_json(&full_path, &doc)?;
        files.push(full_path);
        doc
    } else {
        // the per-event arrays are stripped below anyway: leave them out of
        // the JSON tree (at 10^6 patients ~10^7 numbers, 0.6 GB as
        // serde_json values) and put them back for the report
        let saved = take_per_event_arrays(results);
        let doc = results_json_with(results, meta, opts.report.show_identifiers);
        restore_per_event_arrays(results, saved);
        doc
    };
    strip_per_event_arrays(&mut doc);
    let json_path = out.join("results.json");
    write_json(&json_path, &doc)?;
    files.push(json_path);
    files.extend(
        crate::tables::write_tables_with(
            results,
            &out.join("tables"),
            opts.report.show_identifiers,
        )
        .map_err(|e| io_err(out, e))?,
    );
    Ok(files)
}

/// results.json: the results plus a `meta` block, with patient
/// identifiers hidden (as [`results_json_with`] with
/// [`Identifiers::Hidden`]).
pub fn results_json(results: &Results, meta: &RunMeta) -> serde_json::Value {
    results_json_with(results, meta, Identifiers::Hidden)
}

/// results.json: the results plus a `meta` block. With identifiers hidden,
/// the excluded rows of `flow` carry their line and value-free causes only
/// (`patient_id` is null, `reason` has no cell value), as in the HTML
/// report; [`Identifiers::Shown`] keeps the ids and the raw reasons.
pub fn results_json_with(
    results: &Results,
    meta: &RunMeta,
    identifiers: Identifiers,
) -> serde_json::Value {
    let mut v = serde_json::to_value(results).unwrap_or(serde_json::Value::Null);
    if let serde_json::Value::Object(m) = &mut v {
        if identifiers == Identifiers::Hidden {
            m.insert(
                "flow".into(),
                serde_json::to_value(results.flow.without_identifiers())
                    .unwrap_or(serde_json::Value::Null),
            );
        }
        bound_excluded(m, &results.flow);
        m.insert(
            "meta".into(),
            serde_json::to_value(meta).unwrap_or(serde_json::Value::Null),
        );
    }
    v
}

/// Past [`crate::flow::EXCLUDED_LISTED`] excluded rows, `flow.excluded`
/// keeps the first ones (in file order) and `flow` gains
/// `excluded_total` and `excluded_by_reason` (every row counted once); a
/// run with fewer excluded rows is written as before.
fn bound_excluded(m: &mut serde_json::Map<String, serde_json::Value>, flow: &crate::flow::Flow) {
    let max = crate::flow::EXCLUDED_LISTED;
    if flow.excluded.len() <= max {
        return;
    }
    let Some(serde_json::Value::Object(f)) = m.get_mut("flow") else {
        return;
    };
    if let Some(serde_json::Value::Array(a)) = f.get_mut("excluded") {
        a.truncate(max);
    }
    f.insert("excluded_listed".into(), max.into());
    f.insert("excluded_total".into(), flow.excluded.len().into());
    f.insert(
        "excluded_by_reason".into(),
        serde_json::to_value(flow.reason_counts()).unwrap_or_default(),
    );
}

fn write_json(path: &Path, doc: &serde_json::Value) -> Result<(), RunError> {
    use std::io::Write;
    let file = std::fs::File::create(path).map_err(|e| io_err(path, e))?;
    let mut w = std::io::BufWriter::new(file);
    write_pretty(&mut w, doc, 0)
        .and_then(|_| w.write_all(b"\n"))
        .and_then(|_| w.flush())
        .map_err(|e| io_err(path, e))
}

/// Pretty JSON (two-space indent, as `serde_json::to_string_pretty`) except
/// that an array of numbers, strings, booleans or nulls is written on one
/// line: a curve of 3,000 points takes 3,000 values, not 3,000 lines of
/// indentation. Scalars are formatted by serde_json, so they parse back to
/// the same values.
pub fn write_pretty(
    w: &mut impl std::io::Write,
    v: &serde_json::Value,
    indent: usize,
) -> std::io::Result<()> {
    use serde_json::Value;
    let pad = |w: &mut dyn std::io::Write, n: usize| -> std::io::Result<()> {
        for _ in 0..n {
            w.write_all(b"  ")?;
        }
        Ok(())
    };
    match v {
        Value::Array(a) if a.is_empty() => w.write_all(b"[]"),
        Value::Object(o) if o.is_empty() => w.write_all(b"{}"),
        Value::Array(a) if a.iter().all(|x| !x.is_array() && !x.is_object()) => {
            w.write_all(b"[")?;
            for (i, x) in a.iter().enumerate() {
                if i > 0 {
                    w.write_all(b", ")?;
                }
                serde_json::to_writer(&mut *w, x)?;
            }
            w.write_all(b"]")
        }
        Value::Array(a) => {
            w.write_all(b"[\n")?;
            for (i, x) in a.iter().enumerate() {
                pad(w, indent + 1)?;
                write_pretty(w, x, indent + 1)?;
                w.write_all(if i + 1 < a.len() { b",\n" } else { b"\n" })?;
            }
            pad(w, indent)?;
            w.write_all(b"]")
        }
        Value::Object(o) => {
            w.write_all(b"{\n")?;
            for (i, (k, x)) in o.iter().enumerate() {
                pad(w, indent + 1)?;
                serde_json::to_writer(&mut *w, k)?;
                w.write_all(b": ")?;
                write_pretty(w, x, indent + 1)?;
                w.write_all(if i + 1 < o.len() { b",\n" } else { b"\n" })?;
            }
            pad(w, indent)?;
            w.write_all(b"}")
        }
        scalar => serde_json::to_writer(&mut *w, scalar).map_err(std::io::Error::from),
    }
}

/// Remove the per-event arrays from a results document (in place): `time`
/// and `beta_t` of every `ph_test.flagged[]` entry (of `survival[]` and
/// `multivariable[]`). Their bounded summaries (`n_events`, `bins`,
/// `smooth`) stay.
pub fn strip_per_event_arrays(doc: &mut serde_json::Value) {
    for section in ["survival", "multivariable"] {
        let Some(items) = doc.get_mut(section).and_then(|v| v.as_array_mut()) else {
            continue;
        };
        for item in items {
            let Some(flagged) = item
                .pointer_mut("/cox/ph_test/flagged")
                .and_then(|v| v.as_array_mut())
            else {
                continue;
            };
            for f in flagged.iter_mut().filter_map(|f| f.as_object_mut()) {
                f.remove("time");
                f.remove("beta_t");
            }
        }
    }
}

/// The `ph_test.flagged[]` entries whose per-event arrays
/// [`strip_per_event_arrays`] removes (`survival[]`, `multivariable[]`).
fn flagged_residuals(results: &mut Results) -> impl Iterator<Item = &mut PhResiduals> {
    let survival = results.survival.iter_mut().map(|s| &mut s.cox);
    let multivariable = results.multivariable.iter_mut().map(|m| &mut m.cox);
    survival
        .chain(multivariable)
        .filter_map(|c| c.as_mut())
        .filter_map(|c| c.ph_test.as_mut())
        .flat_map(|p| p.flagged.iter_mut())
}

/// Moves out `time` and `beta_t` of every entry [`strip_per_event_arrays`]
/// strips (in a fixed order), leaving them empty.
fn take_per_event_arrays(results: &mut Results) -> Vec<(Vec<f64>, Vec<f64>)> {
    flagged_residuals(results)
        .map(|f| (std::mem::take(&mut f.time), std::mem::take(&mut f.beta_t)))
        .collect()
}

/// Puts back what [`take_per_event_arrays`] took.
fn restore_per_event_arrays(results: &mut Results, saved: Vec<(Vec<f64>, Vec<f64>)>) {
    for (f, (time, beta_t)) in flagged_residuals(results).zip(saved) {
        f.time = time;
        f.beta_t = beta_t;
    }
}

fn file_name(p: &Path) -> String {
    p.file_name()
        .map(|f| f.to_string_lossy().into_owned())
        .unwrap_or_else(|| p.display().to_string())
}

fn fmt_opt(x: Option<f64>) -> String {
    x.map_or("NR".into(), |v| format!("{v:.1}"))
}

fn fmt_p(p: f64) -> String {
    crate::report::format_p(p, 0.0001)
}

/// The short summary `survstudy run` prints.
pub fn summary_text(out: &RunOutput) -> String {
    use std::fmt::Write;
    let r = &out.results;
    let mut s = String::new();
    let _ = writeln!(s, "{}", r.study);
    if out.meta.synthetic {
        let _ = writeln!(
            s,
            "*** SYNTHETIC DATA: results do not describe real patients ***"
        );
    }
    let _ = writeln!(
        s,
        "data: {} (sha256 {}…); conventions: {}",
        out.meta.data_source,
        &out.meta.sha256[..12.min(out.meta.sha256.len())],
        r.conventions.preset.as_str()
    );
    let _ = writeln!(
        s,
        "patients: {} read, {} excluded, {} analysed",
        r.flow.rows_read,
        r.flow.excluded.len(),
        r.flow.analysed
    );
    let counts: Vec<String> = r.counts.iter().map(|(k, v)| format!("{k} {v}")).collect();
    let _ = writeln!(s, "yes counts: {}", counts.join(", "));
    let _ = writeln!(
        s,
        "\n{:<6} {:<28} {:<18} {:>4} {:>6} {:>20} {:>9}",
        "", "grouping", "group", "n", "events", "median (95% CI)", "log-rank p"
    );
    for e in &r.endpoints {
        let o = &e.overall;
        let _ = writeln!(
            s,
            "{:<6} {:<28} {:<18} {:>4} {:>6} {:>20} {:>9}",
            e.endpoint,
            "overall",
            "all",
            o.n,
            o.events,
            format!(
                "{} ({}-{})",
                fmt_opt(o.median),
                fmt_opt(o.median_lower),
                fmt_opt(o.median_upper)
            ),
            ""
        );
    }
    for sv in &r.survival {
        for (i, g) in sv.groups.iter().enumerate() {
            let p = if i == 0 {
                sv.logrank.as_ref().map_or(String::new(), |l| fmt_p(l.p))
            } else {
                String::new()
            };
            let _ = writeln!(
                s,
                "{:<6} {:<28} {:<18} {:>4} {:>6} {:>20} {:>9}",
                if i == 0 { sv.endpoint.as_str() } else { "" },
                if i == 0 { sv.grouping.as_str() } else { "" },
                g.label,
                g.n,
                g.events,
                format!(
                    "{} ({}-{})",
                    fmt_opt(g.median),
                    fmt_opt(g.median_lower),
                    fmt_opt(g.median_upper)
                ),
                p
            );
        }
    }
    // endpoints with their own unit are named (OS in years, RFS in months)
    let own: Vec<String> = r
        .endpoints
        .iter()
        .filter_map(|e| {
            e.time_unit
                .map(|u| format!("{} in {}", e.endpoint, u.name()))
        })
        .collect();
    let _ = writeln!(
        s,
        "\nmedians in {}; NR = not reached",
        if own.is_empty() {
            r.conventions.time_unit.name().to_string()
        } else {
            own.join(", ")
        }
    );
    let _ = writeln!(s, "report: {}", out.out_dir.join("index.html").display());
    let _ = writeln!(s, "results: {}", out.out_dir.join("results.json").display());
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn pretty_writer_parses_back_and_keeps_scalar_arrays_on_one_line() {
        let doc = json!({
            "a": [1.5, 2.0, null, "x", true],
            "b": {"c": [], "d": {}, "e": [{"f": 0.1}, [1, 2]]},
            "g": 1e-300,
            "h": "quote \" and \\ and \n"
        });
        let mut out = Vec::new();
        write_pretty(&mut out, &doc, 0).unwrap();
        let text = String::from_utf8(out).unwrap();
        let back: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(back, doc);
        assert!(text.contains("\"a\": [1.5, 2.0, null, \"x\", true]"));
        assert!(text.contains("\n    \"c\": [],\n"));
        // same as serde_json's pretty printer once arrays of scalars are joined
        let reference = serde_json::to_string_pretty(&json!({"k": {"v": 1}})).unwrap();
        let mut mine = Vec::new();
        write_pretty(&mut mine, &json!({"k": {"v": 1}}), 0).unwrap();
        assert_eq!(String::from_utf8(mine).unwrap(), reference);
    }

    #[test]
    fn strip_removes_only_per_event_arrays() {
        let flagged = json!([{"term": "x", "time": [1.0, 2.0], "beta_t": [0.1, 0.2],
                              "n_events": 2, "bins": [{"n": 2}], "smooth": null, "coef": 0.3}]);
        let mut doc = json!({
            "survival": [{"cox": {"ph_test": {"flagged": flagged.clone()}},
                          "groups": [{"curve": {"time": [1.0]}}]}],
            "multivariable": [{"cox": {"ph_test": {"flagged": flagged}}}, {"cox": null}]
        });
        strip_per_event_arrays(&mut doc);
        for p in [
            "/survival/0/cox/ph_test/flagged/0",
            "/multivariable/0/cox/ph_test/flagged/0",
        ] {
            let f = doc.pointer(p).unwrap().as_object().unwrap();
            assert!(!f.contains_key("time") && !f.contains_key("beta_t"), "{p}");
            for k in ["term", "n_events", "bins", "smooth", "coef"] {
                assert!(f.contains_key(k), "{p} {k}");
            }
        }
        // KM curves at their distinct times stay
        assert!(doc.pointer("/survival/0/groups/0/curve/time").is_some());
    }
}
