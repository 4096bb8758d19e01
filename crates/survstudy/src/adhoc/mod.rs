//! Ad-hoc analyses of a CSV file: `survstudy km`, `logrank`, `cox`.
//!
//! Each command reads only the columns it uses ([`table`]), drops rows with a
//! missing value in any of them (R's `na.omit`; counted as `n_dropped`),
//! validates the rest (a negative time or an event value that is not 0/1 is a
//! clear error naming the line, column and value), and returns a plain result
//! that prints either as R-like text or as one JSON document.

pub mod adjusted;
pub mod competing;
pub mod finegray;
pub mod format;
pub mod iptw;
pub mod json;
pub mod observational;
pub mod table;

use std::path::{Path, PathBuf};

use serde_json::Value;
use survkit::cox::{CoxFit, CoxOptions, Design, Ties};
use survkit::km::{kaplan_meier, kaplan_meier_by_group, ConfType, KmFit, KmOptions};
use survkit::logrank::{logrank, LogrankOptions, LogrankResult};
use thiserror::Error;

use crate::analysis::Conventions;

use table::{read_columns, ColKind, Column, Request, TableError, MISSING};

/// Errors of the ad-hoc commands. `Input` errors are the user's data or flags
/// (exit 2); `Analysis` errors come from the statistics (exit 1).
#[derive(Debug, Error)]
pub enum AdhocError {
    /// The file cannot be read as a table (exit 2).
    #[error("{file}: {source}")]
    Table {
        /// The data file.
        file: String,
        /// What is wrong with it.
        source: TableError,
    },
    /// A cell that cannot be used (exit 2).
    #[error("{file}: {} {line}, column '{column}': {message} (value '{value}')", crate::ingest::location_word(.file))]
    Value {
        /// The data file.
        file: String,
        /// 1-based line of the file.
        line: usize,
        /// Column header.
        column: String,
        /// The cell's text (cut to 80 characters).
        value: String,
        /// Why it cannot be used.
        message: String,
    },
    #[error("{0}")]
    /// Bad flags or a file the command cannot run on (exit 2).
    Usage(String),
    #[error("analysis failed: {0}")]
    /// The statistics failed (exit 1).
    Analysis(#[from] survkit::SurvError),
}

impl AdhocError {
    /// Process exit code: 2 for bad input or usage, 1 for analysis problems.
    pub fn exit_code(&self) -> i32 {
        match self {
            AdhocError::Analysis(_) => 1,
            _ => 2,
        }
    }
}

/// `COL` or `COL=VALUE`.
#[derive(Debug, Clone, PartialEq)]
pub struct EventSpec {
    /// Event column.
    pub column: String,
    /// Event when the cell equals this value; `None` = 1/true/yes is an event, 0/false/no censored.
    pub value: Option<String>,
}

impl EventSpec {
    /// Parse `COL` or `COL=VALUE`; an empty column or value, or a second
    /// `=`, is a usage error (it would otherwise match no row and censor
    /// everyone silently).
    pub fn parse(s: &str) -> Result<EventSpec, AdhocError> {
        let bad = |why: &str| {
            AdhocError::Usage(format!(
                "--event '{}': {why} (use COL, or COL=VALUE such as status=2)",
                crate::ingest::clip(s)
            ))
        };
        let spec = match s.split_once('=') {
            Some((c, v)) => {
                if v.contains('=') {
                    return Err(bad("more than one '='"));
                }
                if v.trim().is_empty() {
                    return Err(bad("no event value after '='"));
                }
                EventSpec {
                    column: c.trim().to_string(),
                    value: Some(v.trim().to_string()),
                }
            }
            None => EventSpec {
                column: s.trim().to_string(),
                value: None,
            },
        };
        if spec.column.is_empty() {
            return Err(bad("no column name"));
        }
        Ok(spec)
    }
}

/// Common inputs: data file, time and event columns.
#[derive(Debug, Clone)]
pub struct SurvSpec {
    /// The data file (CSV, TSV or Excel).
    pub data: PathBuf,
    /// Follow-up time column.
    pub time: String,
    /// Event column, with the value that means an event.
    pub event: EventSpec,
}

fn file_name(p: &Path) -> String {
    p.display().to_string()
}

fn truthy(label: &str) -> Option<bool> {
    let l = label.trim().to_ascii_lowercase();
    match l.as_str() {
        "1" | "true" | "yes" | "y" | "t" => Some(true),
        "0" | "false" | "no" | "n" | "f" => Some(false),
        _ => {
            let v = l.parse::<f64>().ok()?;
            if v == 1.0 {
                Some(true)
            } else if v == 0.0 {
                Some(false)
            } else {
                None
            }
        }
    }
}

fn same_value(a: &str, b: &str) -> bool {
    let (a, b) = (a.trim(), b.trim());
    if a == b {
        return true;
    }
    match (a.parse::<f64>(), b.parse::<f64>()) {
        (Ok(x), Ok(y)) => x == y,
        _ => false,
    }
}

/// Extra columns an analysis needs besides time and event.
pub(crate) struct Loaded {
    pub(crate) time: Vec<f64>,
    pub(crate) event: Vec<bool>,
    /// Extra columns, rows already filtered.
    pub(crate) extra: Vec<Column>,
    pub(crate) n_dropped: usize,
    pub(crate) n_read: usize,
    /// Warnings about the input (e.g. an event value that matches no row).
    pub(crate) warnings: Vec<String>,
    /// 0-based data-row index (in the file) of each kept row.
    pub(crate) kept: Vec<usize>,
}

pub(crate) fn load(spec: &SurvSpec, extra: &[(String, ColKind)]) -> Result<Loaded, AdhocError> {
    load_rows(spec, extra, None)
}

/// [`load`] whose `extra` ends with the [`observational::RowSpec::requests`]
/// columns of `rows`: their row checks run on the table as read, and the
/// `--id` column may hold any number of distinct values (the level cap is
/// for groups and factors).
pub(crate) fn load_rows(
    spec: &SurvSpec,
    extra: &[(String, ColKind)],
    rows: Option<&observational::RowSpec>,
) -> Result<Loaded, AdhocError> {
    let id = rows.and_then(|r| r.id.as_deref());
    let file = file_name(&spec.data);
    let mut req = vec![
        Request {
            name: spec.time.clone(),
            kind: ColKind::Number,
        },
        Request {
            name: spec.event.column.clone(),
            kind: ColKind::Text,
        },
    ];
    req.extend(extra.iter().map(|(n, k)| Request {
        name: n.clone(),
        kind: *k,
    }));
    let mut tab = read_columns(&spec.data, &req).map_err(|source| AdhocError::Table {
        file: file.clone(),
        source,
    })?;
    if tab.n_rows == 0 {
        return Err(AdhocError::Table {
            file,
            source: TableError::NoRows,
        });
    }
    if let Some(r) = rows.filter(|r| !r.is_empty()) {
        let first = tab.columns.len() - r.requests().len();
        observational::check_table(&file, &tab, r, first)?;
    }
    let mut cols = std::mem::take(&mut tab.columns).into_iter();
    let time = match cols.next() {
        Some(Column::Number(v)) => v,
        _ => unreachable!(),
    };
    let (ecodes, elevels) = match cols.next() {
        Some(Column::Text { codes, levels }) => (codes, levels),
        _ => unreachable!(),
    };
    // event value of each level
    let mut level_event: Vec<Option<bool>> = Vec::with_capacity(elevels.len());
    for l in &elevels {
        level_event.push(match &spec.event.value {
            Some(v) => Some(same_value(l, v)),
            None => truthy(l),
        });
    }
    let mut warnings = vec![];
    if let Some(v) = &spec.event.value {
        if !level_event.contains(&Some(true)) {
            warnings.push(format!(
                "--event {}={}: no row has that value, so every row is censored; column '{}' has the values: {}",
                crate::ingest::clip(&spec.event.column),
                crate::ingest::clip(v),
                tab.names[1],
                if elevels.is_empty() {
                    "(none: every cell is blank or NA)".to_string()
                } else {
                    crate::ingest::clip_list(&elevels, 20)
                }
            ));
        }
    }
    let extra_cols: Vec<Column> = cols.collect();
    for (c, (name, _)) in extra_cols.iter().zip(extra) {
        if Some(name.as_str()) != id {
            check_levels(&spec.data, name, c)?;
        }
    }
    let n = time.len();
    let mut keep = Vec::with_capacity(n);
    for i in 0..n {
        let t = time[i];
        let missing =
            t.is_nan() || ecodes[i] == MISSING || extra_cols.iter().any(|c| c.is_missing(i));
        if missing {
            continue;
        }
        if !(t.is_finite() && t >= 0.0) {
            return Err(AdhocError::Value {
                file,
                line: tab.line_of(i),
                column: tab.names[0].clone(),
                value: format!("{t}"),
                message: "time must be a finite number >= 0".into(),
            });
        }
        if level_event[ecodes[i] as usize].is_none() {
            return Err(AdhocError::Value {
                file,
                line: tab.line_of(i),
                column: tab.names[1].clone(),
                value: crate::ingest::clip(&elevels[ecodes[i] as usize]),
                message: "event value is not 0/1 (or yes/no, true/false); use --event COL=VALUE to name the event value".into(),
            });
        }
        keep.push(i);
    }
    let all = keep.len() == n;
    let pick_f = |v: Vec<f64>| -> Vec<f64> {
        if all {
            v
        } else {
            keep.iter().map(|&i| v[i]).collect()
        }
    };
    let event: Vec<bool> = keep
        .iter()
        .map(|&i| level_event[ecodes[i] as usize] == Some(true))
        .collect();
    let extra: Vec<Column> = extra_cols
        .into_iter()
        .map(|c| match c {
            Column::Number(v) => Column::Number(pick_f(v)),
            Column::Text { codes, levels } => Column::Text {
                codes: if all {
                    codes
                } else {
                    keep.iter().map(|&i| codes[i]).collect()
                },
                levels,
            },
        })
        .collect();
    Ok(Loaded {
        time: pick_f(time),
        event,
        extra,
        n_dropped: n - keep.len(),
        n_read: n,
        warnings,
        kept: keep,
    })
}

/// Ordered group labels and per-row group index (levels sorted as R's `factor()`).
pub(crate) fn group_index(col: Column) -> (Vec<String>, Vec<usize>) {
    match col {
        Column::Text { codes, levels } => {
            let used: Vec<bool> = {
                let mut u = vec![false; levels.len()];
                for &c in &codes {
                    u[c as usize] = true;
                }
                u
            };
            // interned labels are distinct: sort their indices (no string
            // copies or hashing; an id column can hold 10^6 labels)
            let present: Vec<usize> = (0..levels.len()).filter(|&k| used[k]).collect();
            let names: Vec<&str> = present.iter().map(|&k| levels[k].as_str()).collect();
            let order = survkit::cox::design::sorted_order(&names);
            let mut pos = vec![usize::MAX; levels.len()];
            for (rank, &j) in order.iter().enumerate() {
                pos[present[j]] = rank;
            }
            let sorted = order.iter().map(|&j| names[j].to_string()).collect();
            (sorted, codes.iter().map(|&c| pos[c as usize]).collect())
        }
        Column::Number(_) => unreachable!("groups are read as text"),
    }
}

/// Most distinct values a group, strata or factor column may have.
pub const MAX_LEVELS: usize = 2000;

/// A clear error when a categorical column has implausibly many values.
pub(crate) fn check_levels(file: &Path, column: &str, col: &Column) -> Result<(), AdhocError> {
    if let Column::Text { levels, .. } = col {
        if levels.len() > MAX_LEVELS {
            return Err(AdhocError::Usage(format!(
                "{}: column '{column}' has {} distinct values (more than {MAX_LEVELS}); is it the right column for a group, stratum or factor?",
                file.display(),
                levels.len()
            )));
        }
    }
    Ok(())
}

/// JSON number: NaN → null, ±∞ → "Inf"/"-Inf" (the oracle's convention).
pub fn num(x: f64) -> Value {
    if x.is_nan() {
        Value::Null
    } else if x == f64::INFINITY {
        Value::String("Inf".into())
    } else if x == f64::NEG_INFINITY {
        Value::String("-Inf".into())
    } else {
        Value::from(x)
    }
}

// ---------------------------------------------------------------- km

/// Options of `survstudy km`.
#[derive(Debug, Clone)]
pub struct KmArgs {
    /// The data file, time and event columns.
    pub surv: SurvSpec,
    /// `--group`: one curve per level of this column.
    pub group: Option<String>,
    /// Confidence interval and variance options.
    pub km: KmOptions,
    /// `--at`: times at which the curves are read.
    pub at: Vec<f64>,
    /// `--weights`, `--start`, `--id` (then [`observational::km_rows`] runs).
    pub rows: observational::RowSpec,
    /// `--robust` (R `survfit(robust = TRUE)`).
    pub robust: bool,
    /// The conventions preset the options come from; `None` when flags
    /// override it (reported as `"custom"`).
    pub preset: Option<Conventions>,
}

/// One curve of `survstudy km`.
#[derive(Debug, Clone)]
pub struct KmGroup {
    /// Group level (`all` without `--group`).
    pub label: String,
    /// `column=level`, or `all`.
    pub strata: String,
    /// The Kaplan–Meier fit of the group.
    pub fit: KmFit,
}

/// Result of `survstudy km`.
#[derive(Debug, Clone)]
pub struct KmReport {
    /// Warnings about the input, printed on stderr and listed in the JSON.
    pub warnings: Vec<String>,
    /// Rows dropped for missing values.
    pub n_dropped: usize,
    /// Rows read.
    pub n_read: usize,
    /// One curve per group, in level order.
    pub groups: Vec<KmGroup>,
    /// Bound of the restricted mean (the largest time over all groups).
    pub rmean_end: f64,
    /// `--at` times.
    pub at: Vec<f64>,
    /// Preset of the options (`None` = custom), as in [`KmArgs::preset`].
    pub preset: Option<Conventions>,
}

/// Run `survstudy km`.
pub fn km(args: &KmArgs) -> Result<KmReport, AdhocError> {
    let extra: Vec<(String, ColKind)> = args
        .group
        .iter()
        .map(|g| (g.clone(), ColKind::Text))
        .collect();
    let d = load(&args.surv, &extra)?;
    if d.time.is_empty() {
        return Err(AdhocError::Usage(format!(
            "{}: no rows left after dropping {} with missing values",
            file_name(&args.surv.data),
            d.n_dropped
        )));
    }
    let mut groups = vec![];
    match (&args.group, d.extra.into_iter().next()) {
        (Some(gname), Some(col)) => {
            let (labels, gi) = group_index(col);
            let fits = kaplan_meier_by_group(&d.time, &d.event, &gi, labels.len(), &args.km)?;
            for (label, fit) in labels.into_iter().zip(fits) {
                groups.push(KmGroup {
                    strata: format!("{gname}={label}"),
                    label,
                    fit: fit?,
                });
            }
        }
        _ => groups.push(KmGroup {
            label: "all".into(),
            strata: "all".into(),
            fit: kaplan_meier(&d.time, &d.event, &args.km)?,
        }),
    }
    let rmean_end = groups.iter().map(|g| g.fit.last_time()).fold(0.0, f64::max);
    Ok(KmReport {
        warnings: d.warnings,
        n_dropped: d.n_dropped,
        n_read: d.n_read,
        groups,
        rmean_end,
        at: args.at.clone(),
        preset: args.preset,
    })
}

impl KmReport {
    /// The `--json` document.
    pub fn to_json(&self) -> Value {
        use json::{json_nums, JsonNum};
        let opt = |x: Option<f64>| x.map(JsonNum);
        let groups: Vec<json::KmGroupJson> = self
            .groups
            .iter()
            .map(|g| {
                let f = &g.fit;
                let m = f.median();
                let r = f.rmean(self.rmean_end);
                // median follow-up: reverse Kaplan–Meier (censoring as the event)
                let fu = survkit::km::reverse_from(f).median();
                json::KmGroupJson {
                    group: &g.label,
                    strata: &g.strata,
                    n: f.n,
                    events: f.n_event_total,
                    time: json_nums(&f.time),
                    n_risk: &f.n_risk,
                    n_event: &f.n_event,
                    n_censor: &f.n_censor,
                    surv: json_nums(&f.surv),
                    std_err: json_nums(&f.std_err),
                    lower: json_nums(&f.lower),
                    upper: json_nums(&f.upper),
                    cumhaz: json_nums(&f.cumhaz),
                    std_chaz: json_nums(&f.std_chaz),
                    median: opt(m.estimate),
                    median_lower: opt(m.lower),
                    median_upper: opt(m.upper),
                    rmean: JsonNum(r.rmean),
                    rmean_se: JsonNum(r.se),
                    rmean_end: JsonNum(r.end_time),
                    follow_up_median: opt(fu.estimate),
                    follow_up_lower: opt(fu.lower),
                    follow_up_upper: opt(fu.upper),
                    at: f.surv_at(&self.at).iter().map(Into::into).collect(),
                }
            })
            .collect();
        let (ct, cl) = self.groups.first().map_or((ConfType::Log, 0.95), |g| {
            (g.fit.conf_type, g.fit.conf_level)
        });
        json::to_value(&json::KmJson {
            command: "km",
            conventions: json::KmConventions {
                preset: preset_name(self.preset),
                conf_type: ct.as_str(),
                conf_level: cl,
                std_err: "standard error of -log S (Greenwood), as R survfit std.err; at[].std_err is the SE of S",
                median: "R summary(survfit) rule (first time S <= 0.5; midpoint on an exact 0.5 flat)",
                rmean: "area under S to the largest observed time over all groups (R print rmean='common')",
            },
            n_read: self.n_read,
            n_dropped: self.n_dropped,
            groups,
            warnings: &self.warnings,
        })
    }
}

// ---------------------------------------------------------------- logrank

/// Options of `survstudy logrank`.
#[derive(Debug, Clone)]
pub struct LogrankArgs {
    /// The data file, time and event columns.
    pub surv: SurvSpec,
    /// `--group`: the column whose curves are compared.
    pub group: String,
    /// `--strata`: stratify the test by this column.
    pub strata: Option<String>,
    /// ρ of the Harrington–Fleming G(ρ) family (0 = log-rank).
    pub rho: f64,
}

/// Result of `survstudy logrank`.
#[derive(Debug, Clone)]
pub struct LogrankReport {
    /// Warnings about the input, printed on stderr and listed in the JSON.
    pub warnings: Vec<String>,
    /// Rows dropped for missing values.
    pub n_dropped: usize,
    /// Rows read.
    pub n_read: usize,
    /// Group column.
    pub group: String,
    /// Group levels, in sorted order.
    pub labels: Vec<String>,
    /// Strata levels (`None` without `--strata`).
    pub strata_labels: Option<Vec<String>>,
    /// The test.
    pub result: LogrankResult,
}

/// Run `survstudy logrank`.
pub fn logrank_cmd(args: &LogrankArgs) -> Result<LogrankReport, AdhocError> {
    let mut extra = vec![(args.group.clone(), ColKind::Text)];
    if let Some(s) = &args.strata {
        extra.push((s.clone(), ColKind::Text));
    }
    let d = load(&args.surv, &extra)?;
    let mut cols = d.extra.into_iter();
    let (labels, gi) = group_index(cols.next().expect("group column"));
    let strata = cols.next().map(group_index);
    let result = logrank(
        &d.time,
        &d.event,
        &gi,
        strata.as_ref().map(|s| s.1.as_slice()),
        &LogrankOptions { rho: args.rho },
    )?;
    Ok(LogrankReport {
        warnings: d.warnings,
        n_dropped: d.n_dropped,
        n_read: d.n_read,
        group: args.group.clone(),
        labels,
        strata_labels: strata.map(|s| s.0),
        result,
    })
}

impl LogrankReport {
    /// The `--json` document.
    pub fn to_json(&self) -> Value {
        let r = &self.result;
        let groups: Vec<String> = self
            .labels
            .iter()
            .map(|l| format!("{}={}", self.group, l))
            .collect();
        json::to_value(&json::LogrankJson {
            command: "logrank",
            conventions: json::LogrankConventions {
                preset: "r and sas agree (no choice involved)",
                rho: r.rho,
                test: if r.rho == 0.0 {
                    "log-rank (Mantel-Haenszel)"
                } else {
                    "Fleming-Harrington G(rho), weights S(t-)^rho"
                },
                chisq: "(O-E)' V^- (O-E) over groups with E > 0, first left out, as R survdiff",
            },
            n_read: self.n_read,
            n_dropped: self.n_dropped,
            groups,
            n: &r.n,
            observed: json::json_nums(&r.observed),
            expected: json::json_nums(&r.expected),
            o_minus_e: json::json_nums(&r.o_minus_e),
            var: r.var.iter().map(|row| json::json_nums(row)).collect(),
            chisq: json::JsonNum(r.chisq),
            df: r.df,
            p: json::JsonNum(r.p),
            rho: r.rho,
            strata: &self.strata_labels,
            warnings: &self.warnings,
        })
    }
}

// ---------------------------------------------------------------- cox

/// Options of `survstudy cox`.
#[derive(Debug, Clone)]
pub struct CoxArgs {
    /// The data file, time and event columns.
    pub surv: SurvSpec,
    /// `--covariates`: model columns.
    pub covariates: Vec<String>,
    /// `--factor`: covariates read as categories (treatment contrasts).
    pub factors: Vec<String>,
    /// `--strata`: stratify the baseline hazard by this column.
    pub strata: Option<String>,
    /// Cluster column for robust (sandwich) standard errors (R `cluster()`).
    pub cluster: Option<String>,
    /// Ties, variance and iteration options.
    pub cox: CoxOptions,
    /// Most levels a `--factor` column may have ([`MAX_FACTOR_LEVELS`] by
    /// default; `--max-levels N` raises it).
    pub max_factor_levels: usize,
    /// `--weights`, `--start`, `--id`.
    pub rows: observational::RowSpec,
    /// The conventions preset the options come from; `None` when flags
    /// override it (reported as `"custom"`).
    pub preset: Option<Conventions>,
}

/// Default most levels of a `--factor` column: each level is a design
/// column, and the fit's work grows with the square of their number, so a
/// continuous column listed by mistake (hundreds of values) would run for
/// minutes to give meaningless hazard ratios.
pub const MAX_FACTOR_LEVELS: usize = 50;

/// Result of `survstudy cox`.
#[derive(Debug, Clone)]
pub struct CoxReport {
    /// Rows dropped for missing values.
    pub n_dropped: usize,
    /// Rows read.
    pub n_read: usize,
    /// The Cox fit.
    pub fit: CoxFit,
    /// Data as fitted (for `zph`).
    pub time: Vec<f64>,
    /// Event indicator per fitted row.
    pub event: Vec<bool>,
    /// Design matrix as fitted.
    pub design: Design,
    /// Stratum index per fitted row (`None` without strata).
    pub strata_index: Option<Vec<usize>>,
    /// Design columns of each model term (a factor spans several).
    pub term_columns: Vec<(String, Vec<usize>)>,
    /// `--cluster` column of the robust variance, if any.
    pub cluster: Option<String>,
    /// `--strata` column, if any.
    pub strata: Option<String>,
    /// Reference level of each factor.
    pub references: Vec<(String, String)>,
    /// Weights / start / id of the fitted rows.
    pub rows: observational::RowData,
    /// Why the fit is robust (R's rule), when it is.
    pub robust_reason: Option<survkit::wkm::RobustReason>,
    /// Preset of the options (`None` = custom), as in [`CoxArgs::preset`].
    pub preset: Option<Conventions>,
}

/// Run `survstudy cox`.
pub fn cox_cmd(args: &CoxArgs) -> Result<CoxReport, AdhocError> {
    let mut vars: Vec<String> = args.covariates.clone();
    for f in &args.factors {
        if !vars.contains(f) {
            vars.push(f.clone());
        }
    }
    if vars.is_empty() {
        return Err(AdhocError::Usage(
            "--covariates needs at least one column".into(),
        ));
    }
    let mut extra: Vec<(String, ColKind)> = vars
        .iter()
        .map(|v| {
            let k = if args.factors.contains(v) {
                ColKind::Text
            } else {
                ColKind::Number
            };
            (v.clone(), k)
        })
        .collect();
    if let Some(s) = &args.strata {
        extra.push((s.clone(), ColKind::Text));
    }
    if let Some(c) = &args.cluster {
        extra.push((c.clone(), ColKind::Text));
    }
    extra.extend(args.rows.requests());
    let d = load_rows(&args.surv, &extra, Some(&args.rows)).map_err(|e| match e {
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
            column: column.clone(),
            value,
            message: if column == args.surv.time {
                "time is not a number".to_string()
            } else {
                format!("not a number (list it in --factor {column} to treat it as categorical)")
            },
        },
        other => other,
    })?;
    let mut design = Design::default();
    let mut references = vec![];
    let mut term_columns = vec![];
    let mut extra_cols = d.extra;
    let rows = observational::split_rows(&args.rows, &mut extra_cols);
    let mut cols = extra_cols.into_iter();
    for v in &vars {
        let start = design.len();
        match cols.next().expect("covariate column") {
            Column::Number(x) => design.add_numeric(v, x),
            Column::Text { codes, levels } => {
                let mut used = vec![false; levels.len()];
                for &c in &codes {
                    used[c as usize] = true;
                }
                let n_levels = used.iter().filter(|&&u| u).count();
                if n_levels > args.max_factor_levels {
                    return Err(AdhocError::Usage(format!(
                        "{}: --factor {}: {n_levels} distinct values (more than {}); a factor gets one coefficient per level, so this is probably a continuous column (list it in --covariates only) or an identifier; use --max-levels N to allow more",
                        file_name(&args.surv.data),
                        crate::ingest::clip(v),
                        args.max_factor_levels
                    )));
                }
                let labels: Vec<&str> =
                    codes.iter().map(|&c| levels[c as usize].as_str()).collect();
                let lv = design.add_factor(v, &labels, None);
                if let Some(r) = lv.first() {
                    references.push((v.clone(), r.clone()));
                }
            }
        }
        term_columns.push((v.clone(), (start..design.len()).collect()));
    }
    let strata = if args.strata.is_some() {
        cols.next().map(|c| group_index(c).1)
    } else {
        None
    };
    let cluster = if args.cluster.is_some() {
        cols.next().map(|c| group_index(c).1)
    } else {
        None
    };
    // R's robust rule (asked, a cluster, non-integer weights, an id with
    // more than one event); the robust variance clusters on the id
    let asked = args.cox.variance == survkit::cox::Variance::Robust && cluster.is_none();
    let (robust, mut robust_reason) = observational::robust_choice(asked, &d.event, &rows);
    if cluster.is_some() {
        robust_reason = Some(survkit::wkm::RobustReason::Cluster);
    }
    let cluster = match cluster {
        Some(c) => Some(c),
        None if robust => rows.id.clone(),
        None => None,
    };
    if (robust || cluster.is_some()) && rows.start.is_some() && cluster.is_none() {
        return Err(AdhocError::Usage(
            "a robust variance on (start, stop] data needs --id or --cluster (R: \"one of cluster or id is needed\")".into(),
        ));
    }
    let cox_opts = CoxOptions {
        variance: if robust {
            survkit::cox::Variance::Robust
        } else {
            args.cox.variance
        },
        ..args.cox
    };
    let mut fit = survkit::cox::cox_fit_rows(
        &d.time,
        &d.event,
        &design,
        strata.as_deref(),
        cluster.as_deref(),
        &survkit::cox::CoxRows {
            start: rows.start.as_deref(),
            weight: rows.weight.as_deref(),
        },
        &cox_opts,
    )?;
    // input warnings first, then the fit's (stderr and JSON `warnings`)
    fit.warnings.splice(0..0, d.warnings);
    Ok(CoxReport {
        n_dropped: d.n_dropped,
        n_read: d.n_read,
        fit,
        time: d.time,
        event: d.event,
        design,
        strata_index: strata,
        term_columns,
        cluster: args.cluster.clone(),
        strata: args.strata.clone(),
        references,
        rows,
        robust_reason: robust_reason.filter(|_| robust || args.cluster.is_some()),
        preset: args.preset,
    })
}

/// `conventions.preset` of the JSON: the preset chosen, or `"custom"`.
fn preset_name(p: Option<Conventions>) -> &'static str {
    p.map_or("custom", Conventions::as_str)
}

impl CoxReport {
    /// The `--json` document.
    pub fn to_json(&self) -> Value {
        json::to_value(&self.json_doc())
    }

    /// The `--json` document as its [`json::CoxJson`] struct (`iptw` embeds
    /// it under another `command`).
    pub fn json_doc(&self) -> json::CoxJson<'_> {
        let f = &self.fit;
        json::CoxJson {
            command: "cox",
            conventions: json::CoxConventions {
                preset: preset_name(self.preset),
                ties: f.ties.as_str(),
                conf_level: 0.95,
                variance: match (f.robust_var.is_some(), &self.cluster) {
                    (true, Some(c)) => format!("robust sandwich clustered on {c} (z, p, CI and Wald test use it; score test model-based)"),
                    (true, None) => "robust sandwich (z, p, CI and Wald test use it; score test model-based)".to_string(),
                    _ => "model-based (inverse information)".to_string(),
                },
                factor_coding: "treatment contrasts, reference = first level in sorted order",
                convergence: "Newton-Raphson from 0, |1 - loglik_old/loglik_new| <= 1e-9, max 20 iterations (R coxph)",
            },
            n_read: self.n_read,
            n_dropped: self.n_dropped,
            n: f.n,
            nevent: f.nevent,
            terms: f.terms.iter().map(json::CoxTermJson::from).collect(),
            references: self
                .references
                .iter()
                .map(|(v, r)| json::CoxReferenceJson {
                    factor: v,
                    reference: r,
                })
                .collect(),
            strata: &self.strata,
            loglik_null: json::JsonNum(f.loglik_null),
            loglik: json::JsonNum(f.loglik),
            lr_test: (&f.lr_test).into(),
            wald_test: (&f.wald_test).into(),
            score_test: (&f.score_test).into(),
            concordance: f.concordance.map(json::JsonNum),
            concordance_se: f.concordance_se.map(json::JsonNum),
            iterations: f.iterations,
            converged: f.converged,
            warnings: &f.warnings,
            robust_score_test: f.robust_score_test.as_ref().map(json::TestJson::from),
            n_clusters: f.n_clusters,
            robust: f.robust_var.is_some(),
            robust_reason: self.robust_reason.map(survkit::wkm::RobustReason::describe),
        }
    }
}

/// Parse `--ties`.
pub fn parse_ties(s: &str) -> Result<Ties, AdhocError> {
    Ties::parse(s)
        .ok_or_else(|| AdhocError::Usage(format!("unknown --ties '{s}' (efron or breslow)")))
}

/// Parse `--conf-type`.
pub fn parse_conf_type(s: &str) -> Result<ConfType, AdhocError> {
    ConfType::parse(s).ok_or_else(|| {
        AdhocError::Usage(format!(
            "unknown --conf-type '{s}' (log, log-log, plain, logit, arcsin)"
        ))
    })
}

// ---------------------------------------------------------------- zph

/// Run `survstudy zph`: fit the Cox model, then R's `cox.zph` on it.
pub fn zph_cmd(
    args: &CoxArgs,
    transform: survkit::zph::Transform,
) -> Result<(CoxReport, survkit::zph::ZphResult), AdhocError> {
    let rep = cox_cmd(args)?;
    let terms: Vec<survkit::zph::ZphTerm> = rep
        .term_columns
        .iter()
        .map(|(n, c)| survkit::zph::ZphTerm {
            name: n.clone(),
            columns: c.clone(),
        })
        .collect();
    let z = survkit::zph::cox_zph_rows(
        &rep.time,
        &rep.event,
        &rep.design,
        rep.strata_index.as_deref(),
        &survkit::cox::CoxRows {
            start: rep.rows.start.as_deref(),
            weight: rep.rows.weight.as_deref(),
        },
        &rep.fit,
        Some(&terms),
        &survkit::zph::ZphOptions {
            transform,
            ..Default::default()
        },
    )?;
    Ok((rep, z))
}

/// JSON of `survstudy zph`: one entry per term and one for GLOBAL.
pub fn zph_json(rep: &CoxReport, z: &survkit::zph::ZphResult) -> Value {
    use json::{json_nums, ZphTestJson};
    let mut tests: Vec<ZphTestJson> = z
        .terms
        .iter()
        .map(|t| ZphTestJson::new(t, &t.term))
        .collect();
    tests.push(ZphTestJson::new(&z.global, "GLOBAL"));
    json::to_value(&json::ZphJson {
        command: "zph",
        conventions: json::ZphConventions {
            transform: format!("{:?}", z.transform).to_lowercase(),
            ties: rep.fit.ties.as_str(),
            test: "score test for adding g(t)*x per term (R survival >= 3.0 cox.zph)",
        },
        n_read: rep.n_read,
        n_dropped: rep.n_dropped,
        tests,
        time: json_nums(&z.time),
        x: json_nums(&z.x),
        y_columns: &z.y_columns,
        y: z.y.iter().map(json_nums).collect(),
    })
}

/// Text of `survstudy zph`, like R's print of cox.zph.
pub fn zph_text(z: &survkit::zph::ZphResult) -> String {
    let mut s = format!(
        "Proportional-hazards test (cox.zph, transform = {:?})\n",
        z.transform
    );
    s.push_str(&format!(
        "{:<16} {:>10} {:>4} {:>10}\n",
        "", "chisq", "df", "p"
    ));
    for t in z.terms.iter().chain(std::iter::once(&z.global)) {
        s.push_str(&format!(
            "{:<16} {:>10} {:>4} {:>10}\n",
            t.term,
            format::sig(t.chisq, 4),
            t.df,
            format::pval(t.p)
        ));
    }
    s
}
