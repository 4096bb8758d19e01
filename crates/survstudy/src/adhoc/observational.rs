//! Case weights, (start, stop] rows and subject ids for the ad-hoc `km`, `cox`
//! and `zph` commands (`--weights COL`, `--start COL`, `--id COL`,
//! `km --robust`), with R survival 3.5-3's defaults: a fit is robust when
//! asked, when the weights are not all integers, or when an id has more than
//! one event (`survkit::wkm::robust_default`); the robust variance clusters
//! on the id (else one cluster per row).
//!
//! Row checks (exit 2, naming line, column and value): a missing, negative
//! or non-finite weight; start ≥ stop; two intervals of one id that overlap.

use serde_json::Value;
use survkit::km::{ConfType, KmOptions};
use survkit::wkm::{
    kaplan_meier_rows, kaplan_meier_rows_by_group, robust_default, KmVariance, RobustReason,
    SurvRows, WeightedKmFit,
};

use super::json::{self, json_nums, JsonNum};
use super::table::{ColKind, Column};
use super::{file_name, group_index, AdhocError, SurvSpec};

/// The observational-data flags of a command.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RowSpec {
    /// Case-weight column (R `weights =`).
    pub weights: Option<String>,
    /// Entry-time column: each row covers (start, time] (R `Surv(start, stop, event)`).
    pub start: Option<String>,
    /// Subject id column for multi-row subjects (R `id =`).
    pub id: Option<String>,
}

impl RowSpec {
    /// Whether none of `--weights`, `--start`, `--id` was given.
    pub fn is_empty(&self) -> bool {
        self.weights.is_none() && self.start.is_none() && self.id.is_none()
    }

    /// Extra columns to load, in the order [`split_rows`] takes them back.
    pub(crate) fn requests(&self) -> Vec<(String, ColKind)> {
        let mut v = vec![];
        if let Some(s) = &self.start {
            v.push((s.clone(), ColKind::Number));
        }
        if let Some(w) = &self.weights {
            v.push((w.clone(), ColKind::Number));
        }
        if let Some(i) = &self.id {
            v.push((i.clone(), ColKind::Text));
        }
        v
    }
}

/// The observational columns of the analysed rows.
#[derive(Debug, Clone, Default)]
pub struct RowData {
    /// Entry time of each row (`--start`).
    pub start: Option<Vec<f64>>,
    /// Case weight of each row (`--weights`).
    pub weight: Option<Vec<f64>>,
    /// Subject index of each row (`--id`).
    pub id: Option<Vec<usize>>,
}

/// Take the [`RowSpec::requests`] columns off the end of `extra`.
pub(crate) fn split_rows(spec: &RowSpec, extra: &mut Vec<Column>) -> RowData {
    let mut out = RowData::default();
    if spec.id.is_some() {
        out.id = extra.pop().map(|c| group_index(c).1);
    }
    if spec.weights.is_some() {
        out.weight = match extra.pop() {
            Some(Column::Number(v)) => Some(v),
            _ => None,
        };
    }
    if spec.start.is_some() {
        out.start = match extra.pop() {
            Some(Column::Number(v)) => Some(v),
            _ => None,
        };
    }
    out
}

/// Check the rows before the analysis (see the module docs): every row of
/// the file, before rows with missing values are dropped. `tab` is the
/// analysis' table as read (time in column 0), with the [`RowSpec::requests`]
/// columns from column `first` on; no second read of the file.
pub(crate) fn check_table(
    file: &str,
    tab: &super::table::Table,
    spec: &RowSpec,
    first: usize,
) -> Result<(), AdhocError> {
    let file = file.to_string();
    let num_col = |k: usize| match &tab.columns[k] {
        Column::Number(v) => v.as_slice(),
        _ => &[],
    };
    let time = num_col(0);
    let mut k = first;
    let start = spec.start.as_ref().map(|_| {
        k += 1;
        num_col(k - 1)
    });
    let weight = spec.weights.as_ref().map(|_| {
        k += 1;
        num_col(k - 1)
    });
    let id: Option<&[u32]> = spec.id.as_ref().map(|_| match &tab.columns[k] {
        Column::Text { codes, .. } => codes.as_slice(),
        _ => &[],
    });
    let scol = first;
    let bad = |row: usize, col: usize, value: f64, message: String| AdhocError::Value {
        file: file.clone(),
        line: tab.line_of(row),
        column: tab.names[col].clone(),
        value: if value.is_nan() {
            "NA".into()
        } else {
            format!("{value}")
        },
        message,
    };
    let wcol = first + usize::from(spec.start.is_some());
    if let Some(w) = weight {
        for (i, &v) in w.iter().enumerate() {
            if v.is_nan() {
                return Err(bad(
                    i,
                    wcol,
                    v,
                    "case weight is missing (every row needs a weight)".into(),
                ));
            }
            if !(v.is_finite() && v >= 0.0) {
                return Err(bad(
                    i,
                    wcol,
                    v,
                    "case weight must be a finite number >= 0".into(),
                ));
            }
        }
    }
    if let Some(s) = start {
        for i in 0..time.len() {
            if !s[i].is_nan() && !time[i].is_nan() && s[i] >= time[i] {
                return Err(bad(
                    i,
                    scol,
                    s[i],
                    format!(
                        "start must be < stop ('{}' = {} on this line)",
                        tab.names[0], time[i]
                    ),
                ));
            }
        }
        if let Some(id) = id {
            let mut ord: Vec<usize> = (0..time.len())
                .filter(|&i| !s[i].is_nan() && !time[i].is_nan() && id[i] != super::MISSING)
                .collect();
            ord.sort_by(|&a, &b| id[a].cmp(&id[b]).then(s[a].total_cmp(&s[b])));
            for p in ord.windows(2) {
                let (a, b) = (p[0], p[1]);
                if id[a] == id[b] && s[b] < time[a] {
                    return Err(bad(
                        b,
                        scol,
                        s[b],
                        format!(
                            "interval ({}, {}] overlaps ({}, {}] of the same id on {} {}",
                            s[b],
                            time[b],
                            s[a],
                            time[a],
                            crate::ingest::location_word(&file),
                            tab.line_of(a)
                        ),
                    ));
                }
            }
        }
    }
    Ok(())
}

/// R's robust choice for a fit: asked, or R's default rule.
pub fn robust_choice(asked: bool, event: &[bool], rows: &RowData) -> (bool, Option<RobustReason>) {
    if asked {
        return (true, Some(RobustReason::Requested));
    }
    match robust_default(event, rows.weight.as_deref(), rows.id.as_deref()) {
        Some(r) => (true, Some(r)),
        None => (false, None),
    }
}

// ---------------------------------------------------------------- km

/// One weighted / counting-process curve.
#[derive(Debug, Clone)]
pub struct WkmGroup {
    /// Group level (`all` without `--group`).
    pub label: String,
    /// `column=level`, or `all`.
    pub strata: String,
    /// The weighted Kaplan–Meier fit of the group.
    pub fit: WeightedKmFit,
}

/// Result of `survstudy km` with `--weights`, `--start`, `--id` or `--robust`.
#[derive(Debug, Clone)]
pub struct WkmReport {
    /// Rows dropped for missing values.
    pub n_dropped: usize,
    /// Rows read.
    pub n_read: usize,
    /// One curve per group, in level order.
    pub groups: Vec<WkmGroup>,
    /// Whether the SEs are the robust (infinitesimal-jackknife) ones.
    pub robust: bool,
    /// Why the fit is robust (asked, non-integer weights, repeated ids).
    pub robust_reason: Option<RobustReason>,
    /// `--at` times.
    pub at: Vec<f64>,
    /// The `--weights`, `--start` and `--id` columns.
    pub rows: RowSpec,
    /// Warnings about the input (e.g. an event value that matches no row).
    pub warnings: Vec<String>,
}

/// Run `survstudy km` on weighted and/or (start, stop] rows.
pub fn km_rows(
    surv: &SurvSpec,
    group: Option<&str>,
    km: &KmOptions,
    at: &[f64],
    rows: &RowSpec,
    robust: bool,
) -> Result<WkmReport, AdhocError> {
    let mut extra: Vec<(String, ColKind)> = group
        .iter()
        .map(|g| (g.to_string(), ColKind::Text))
        .collect();
    extra.extend(rows.requests());
    let mut d = super::load_rows(surv, &extra, Some(rows))?;
    if d.time.is_empty() {
        return Err(AdhocError::Usage(format!(
            "{}: no rows left after dropping {} with missing values",
            file_name(&surv.data),
            d.n_dropped
        )));
    }
    let rd = split_rows(rows, &mut d.extra);
    let (robust, robust_reason) = robust_choice(robust, &d.event, &rd);
    if robust && rd.start.is_some() && rd.id.is_none() {
        return Err(AdhocError::Usage(
            "a robust variance on (start, stop] data needs --id (R: \"id or cluster option required\")"
                .into(),
        ));
    }
    let var = if robust {
        KmVariance::Robust
    } else {
        KmVariance::Greenwood
    };
    let sr = SurvRows {
        stop: &d.time,
        event: &d.event,
        start: rd.start.as_deref(),
        weight: rd.weight.as_deref(),
        id: rd.id.as_deref(),
    };
    let mut groups = vec![];
    match (group, d.extra.into_iter().next()) {
        (Some(gname), Some(col)) => {
            let (labels, gi) = group_index(col);
            let fits = kaplan_meier_rows_by_group(&sr, &gi, labels.len(), var, km)?;
            for (label, fit) in labels.into_iter().zip(fits) {
                groups.push(WkmGroup {
                    strata: format!("{gname}={label}"),
                    label,
                    fit: fit?,
                });
            }
        }
        _ => groups.push(WkmGroup {
            label: "all".into(),
            strata: "all".into(),
            fit: kaplan_meier_rows(&sr, var, km)?,
        }),
    }
    Ok(WkmReport {
        n_dropped: d.n_dropped,
        n_read: d.n_read,
        groups,
        robust,
        robust_reason,
        at: at.to_vec(),
        rows: rows.clone(),
        warnings: d.warnings,
    })
}

impl WkmReport {
    /// The `--json` document: the fields of the plain `km` (counts are
    /// floats) plus `std_err_surv`, `robust` and `robust_reason`.
    pub fn to_json(&self) -> Value {
        json::to_value(&self.json_doc())
    }

    /// The `--json` document as its [`json::WkmJson`] struct (`iptw` embeds
    /// it under another `command`).
    pub fn json_doc(&self) -> json::WkmJson<'_> {
        let end = self
            .groups
            .iter()
            .map(|g| g.fit.time.last().copied().unwrap_or(0.0))
            .fold(0.0, f64::max);
        let opt = |x: Option<f64>| x.map(JsonNum);
        let groups = self
            .groups
            .iter()
            .map(|g| {
                let f = &g.fit;
                let m = f.median();
                let r = f.rmean(end);
                let (rm, rse) = (r.rmean, r.se);
                json::WkmGroupJson {
                    group: &g.label,
                    strata: &g.strata,
                    n: f.n,
                    events: f.n_event_total,
                    n_event_total: f.n_event_total,
                    time: json_nums(&f.time),
                    n_risk: json_nums(&f.n_risk),
                    n_event: json_nums(&f.n_event),
                    n_censor: json_nums(&f.n_censor),
                    surv: json_nums(&f.surv),
                    std_err: json_nums(&f.std_err),
                    std_err_surv: json_nums(&f.std_err_surv),
                    lower: json_nums(&f.lower),
                    upper: json_nums(&f.upper),
                    cumhaz: json_nums(&f.cumhaz),
                    std_chaz: json_nums(&f.std_chaz),
                    median: opt(m.estimate),
                    median_lower: opt(m.lower),
                    median_upper: opt(m.upper),
                    rmean: JsonNum(rm),
                    rmean_se: JsonNum(rse),
                    rmean_end: JsonNum(end),
                    at: self.at.iter().map(|&t| (&f.at(t)).into()).collect(),
                }
            })
            .collect();
        let (ct, cl) = self.groups.first().map_or((ConfType::Log, 0.95), |g| {
            (g.fit.conf_type, g.fit.conf_level)
        });
        json::WkmJson {
            command: "km",
            conventions: json::WkmConventions {
                conf_type: ct.as_str(),
                conf_level: cl,
                std_err: if self.robust {
                    "infinitesimal-jackknife SE of S divided by S (R survfit robust = TRUE; the CI uses it); std_err_surv is the SE of S"
                } else {
                    "weighted Greenwood SE of -log S, as R survfit std.err; std_err_surv is the SE of S"
                },
                weights: &self.rows.weights,
                start: &self.rows.start,
                id: &self.rows.id,
                median: "R summary(survfit) rule (first time S <= 0.5; midpoint on an exact 0.5 flat)",
                rmean: "area under S to the largest observed time over all groups (R print rmean='common')",
            },
            robust: self.robust,
            robust_reason: self.robust_reason.map(RobustReason::describe),
            n_read: self.n_read,
            n_dropped: self.n_dropped,
            groups,
            warnings: &self.warnings,
        }
    }
}

impl std::fmt::Display for WkmReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let g4 = |x: f64| super::format::sig(x, 4);
        let (ct, cl) = self.groups.first().map_or(("log", 0.95), |g| {
            (g.fit.conf_type.as_str(), g.fit.conf_level)
        });
        writeln!(
            f,
            "Kaplan-Meier estimate ({ct} CI, level {cl}){}{}",
            if self.rows.weights.is_some() {
                ", weighted"
            } else {
                ""
            },
            if self.robust {
                ", robust (infinitesimal-jackknife) SE"
            } else {
                ""
            }
        )?;
        if let Some(r) = self.robust_reason {
            writeln!(f, "  {}", r.describe())?;
        }
        for g in &self.groups {
            let m = g.fit.median();
            let o = |x: Option<f64>| x.map_or("NA".to_string(), g4);
            writeln!(
                f,
                "{}: n = {}, events = {}, median = {} ({} to {})",
                g.strata,
                g.fit.n,
                g4(g.fit.n_event_total),
                o(m.estimate),
                o(m.lower),
                o(m.upper)
            )?;
            writeln!(
                f,
                "{:>10} {:>10} {:>10} {:>10} {:>10} {:>10} {:>10}",
                "time", "n.risk", "n.event", "surv", "std.err", "lower", "upper"
            )?;
            for k in 0..g.fit.time.len() {
                if g.fit.n_event[k] == 0.0 {
                    continue;
                }
                writeln!(
                    f,
                    "{:>10} {:>10} {:>10} {:>10} {:>10} {:>10} {:>10}",
                    g4(g.fit.time[k]),
                    g4(g.fit.n_risk[k]),
                    g4(g.fit.n_event[k]),
                    g4(g.fit.surv[k]),
                    g4(g.fit.std_err_surv[k]),
                    g4(g.fit.lower[k]),
                    g4(g.fit.upper[k])
                )?;
            }
        }
        if self.n_dropped > 0 {
            writeln!(f, "({} rows dropped for missing values)", self.n_dropped)?;
        }
        Ok(())
    }
}

/// Refusal of `logrank` / `rmst` with observational flags (R's `survdiff`
/// refuses both weights and (start, stop] data).
pub fn refuse(command: &str, rows: &RowSpec) -> Result<(), AdhocError> {
    if rows.is_empty() {
        return Ok(());
    }
    let what: Vec<&str> = [
        rows.weights.as_ref().map(|_| "--weights"),
        rows.start.as_ref().map(|_| "--start"),
        rows.id.as_ref().map(|_| "--id"),
    ]
    .into_iter()
    .flatten()
    .collect();
    let hint = match command {
        "logrank" => "R's survdiff accepts neither case weights nor (start, stop] data; use `survstudy cox` with the group as the covariate (and the same flags): its score test is the log-rank analogue, and its robust score test (robust_score_test) the one to use with weights",
        _ => "use `survstudy km` with the same flags",
    };
    Err(AdhocError::Usage(format!(
        "survstudy {command} does not take {}: {hint}",
        what.join(", ")
    )))
}
