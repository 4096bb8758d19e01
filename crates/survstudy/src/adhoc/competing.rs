//! `survstudy cif` (competing risks, R `cmprsk::cuminc`) and `survstudy rmst`
//! (restricted mean survival time, R `survRM2::rmst2`).

use std::path::PathBuf;

use serde_json::Value;
use survkit::cif::{cuminc, CifOptions};
use survkit::rmst::rmst2;

use super::table::{read_columns, ColKind, Column, Request, TableError, MISSING};
use super::{group_index, json, AdhocError, SurvSpec};

/// Options of `survstudy cif`.
#[derive(Debug, Clone)]
pub struct CifArgs {
    /// The data file.
    pub data: PathBuf,
    /// Follow-up time column.
    pub time: String,
    /// Status column: 0 = censored, other integers = causes.
    pub status: String,
    /// Cause of interest.
    pub event_code: u32,
    /// `--group`: one curve per level of this column.
    pub group: Option<String>,
    /// `--at`: times at which the curves are read.
    pub times: Vec<f64>,
}

/// Run `survstudy cif`; returns the JSON document and a text rendering.
pub fn cif_cmd(args: &CifArgs) -> Result<(Value, String), AdhocError> {
    let file = args.data.display().to_string();
    let mut req = vec![
        Request {
            name: args.time.clone(),
            kind: ColKind::Number,
        },
        Request {
            name: args.status.clone(),
            kind: ColKind::Number,
        },
    ];
    if let Some(g) = &args.group {
        req.push(Request {
            name: g.clone(),
            kind: ColKind::Text,
        });
    }
    let mut tab = read_columns(&args.data, &req).map_err(|source| AdhocError::Table {
        file: file.clone(),
        source,
    })?;
    if tab.n_rows == 0 {
        return Err(AdhocError::Table {
            file,
            source: TableError::NoRows,
        });
    }
    let mut cols = std::mem::take(&mut tab.columns).into_iter();
    let Some(Column::Number(time)) = cols.next() else {
        unreachable!()
    };
    let Some(Column::Number(status)) = cols.next() else {
        unreachable!()
    };
    let gcol = cols.next();
    if let (Some(c), Some(name)) = (&gcol, &args.group) {
        super::check_levels(&args.data, name, c)?;
    }
    let mut keep = vec![];
    for i in 0..time.len() {
        let gmiss = match &gcol {
            Some(Column::Text { codes, .. }) => codes[i] == MISSING,
            _ => false,
        };
        if time[i].is_nan() || status[i].is_nan() || gmiss {
            continue;
        }
        if time[i] < 0.0 || !time[i].is_finite() {
            return Err(AdhocError::Value {
                file,
                line: tab.line_of(i),
                column: tab.names[0].clone(),
                value: time[i].to_string(),
                message: "time must be a finite number >= 0".into(),
            });
        }
        let s = status[i];
        if s < 0.0 || s.fract() != 0.0 || s > u32::MAX as f64 {
            return Err(AdhocError::Value {
                file,
                line: tab.line_of(i),
                column: tab.names[1].clone(),
                value: s.to_string(),
                message: "status must be 0 (censored) or a positive integer cause code".into(),
            });
        }
        keep.push(i);
    }
    let n_dropped = time.len() - keep.len();
    let t: Vec<f64> = keep.iter().map(|&i| time[i]).collect();
    let st: Vec<u32> = keep.iter().map(|&i| status[i] as u32).collect();
    let (labels, gi) = match gcol {
        Some(Column::Text { codes, levels }) => {
            let c: Vec<u32> = keep.iter().map(|&i| codes[i]).collect();
            let (l, g) = group_index(Column::Text { codes: c, levels });
            (l, Some(g))
        }
        _ => (vec!["all".to_string()], None),
    };
    let res = cuminc(
        &t,
        &st,
        gi.as_deref(),
        &CifOptions {
            times: args.times.clone(),
            ..Default::default()
        },
    )?;
    if !res.causes.contains(&args.event_code) {
        return Err(AdhocError::Usage(format!(
            "--event-code {}: no failures of that cause in column '{}' (causes present: {:?})",
            args.event_code, args.status, res.causes
        )));
    }
    let gname = args.group.clone().unwrap_or_default();
    let curves: Vec<json::CifCurveJson> = res
        .curves
        .iter()
        .filter(|c| c.cause == args.event_code)
        .map(|c| {
            let label = labels.get(c.group).cloned().unwrap_or_default();
            json::CifCurveJson {
                strata: if gname.is_empty() {
                    "all".to_string()
                } else {
                    format!("{gname}={label}")
                },
                group: label,
                cause: c.cause,
                n: c.n,
                events: c.n_event,
                time: json::json_nums(&c.time),
                est: json::json_nums(&c.est),
                var: json::json_nums(&c.var),
                lower: json::json_nums(&c.lower),
                upper: json::json_nums(&c.upper),
                at: c.at_times.iter().map(json::CifAtJson::from).collect(),
            }
        })
        .collect();
    let gray = res.gray_test.iter().find(|g| g.cause == args.event_code);
    let doc = json::to_value(&json::CifJson {
        command: "cif",
        conventions: json::CifConventions {
            estimator: "Aalen-Johansen cumulative incidence (cmprsk::cuminc)",
            variance: "cmprsk (Aalen 1978)",
            ci: format!("log(-log) transform, level {}", res.conf_level),
            test: "Gray's K-sample test, rho = 0",
        },
        n_read: time.len(),
        n_dropped,
        event_code: args.event_code,
        causes: &res.causes,
        curves,
        gray_test: gray.map(json::TestJson::from),
        gray_tests: res.gray_test.iter().map(json::GrayTestJson::from).collect(),
    });
    let mut text = format!(
        "Cumulative incidence of cause {} (Aalen-Johansen; competing causes {:?})\n",
        args.event_code,
        res.causes
            .iter()
            .filter(|&&c| c != args.event_code)
            .collect::<Vec<_>>()
    );
    for c in res.curves.iter().filter(|c| c.cause == args.event_code) {
        let label = labels.get(c.group).cloned().unwrap_or_default();
        let last = c.est.last().copied().unwrap_or(0.0);
        text.push_str(&format!(
            "  {label}: n = {}, events = {}, cumulative incidence at end of follow-up = {:.4}\n",
            c.n, c.n_event, last
        ));
        for a in &c.at_times {
            text.push_str(&format!(
                "    t = {}: {}\n",
                a.time,
                a.est.map_or("NA".into(), |e| format!("{e:.4}"))
            ));
        }
    }
    if let Some(g) = gray {
        text.push_str(&format!(
            "Gray's test: stat = {:.4} on {} df, p = {}\n",
            g.stat,
            g.df,
            super::format::pval(g.p)
        ));
    }
    Ok((doc, text))
}

/// `conventions.variance` of `rmst` with `--weights`/`--start`/`--id`.
const RMST_ROWS_VARIANCE: &str = "R survfit(..., weights =, id =) then summary(fit, rmean = tau) (survival 3.5-3 survmean): Greenwood-type with the weighted numbers at risk and events, the same for robust curves; the weights are treated as fixed";

/// Options of `survstudy rmst`.
#[derive(Debug, Clone)]
pub struct RmstArgs {
    /// The data file, time and event columns.
    pub surv: SurvSpec,
    /// Two-level group column (first level in sorted order = arm 0).
    pub group: String,
    /// `--tau`: the restriction time τ.
    pub tau: f64,
    /// Confidence level of the intervals.
    pub conf_level: f64,
    /// `--weights`, `--start`, `--id`: RMST of the general (weighted,
    /// delayed-entry) Kaplan–Meier curves, R `survfit(..., weights =, id =)`
    /// with `rmean = tau`.
    pub rows: super::observational::RowSpec,
}

/// Run `survstudy rmst`; returns the JSON document and a text rendering.
pub fn rmst_cmd(args: &RmstArgs) -> Result<(Value, String), AdhocError> {
    let mut extra = vec![(args.group.clone(), ColKind::Text)];
    extra.extend(args.rows.requests());
    let mut d = super::load_rows(&args.surv, &extra, Some(&args.rows))?;
    let rd = super::observational::split_rows(&args.rows, &mut d.extra);
    let (labels, gi) = group_index(d.extra.into_iter().next().expect("group column"));
    if labels.len() != 2 {
        return Err(AdhocError::Usage(format!(
            "--group {} must have exactly two levels for RMST contrasts (found {}: {})",
            args.group,
            labels.len(),
            crate::ingest::clip_list(&labels, 20)
        )));
    }
    let general = !args.rows.is_empty();
    let (r, weighted) = if general {
        let sr = survkit::wkm::SurvRows {
            stop: &d.time,
            event: &d.event,
            start: rd.start.as_deref(),
            weight: rd.weight.as_deref(),
            id: rd.id.as_deref(),
        };
        let w = survkit::rmst::rmst2_rows(&sr, &gi, args.tau, args.conf_level)?;
        (w.result, Some(w))
    } else {
        (
            rmst2(&d.time, &d.event, &gi, args.tau, args.conf_level)?,
            None,
        )
    };
    let mut doc = json::to_value(&json::RmstJson {
        command: "rmst",
        tau: r.tau,
        conf_level: r.conf_level,
        warnings: &d.warnings,
        n_read: d.n_read,
        n_dropped: d.n_dropped,
        conventions: json::RmstConventions {
            variance: "Greenwood-type, as survRM2::rmst2 and R survfit rmean",
            contrast: format!("{} vs {}", labels[1], labels[0]),
        },
        groups: [
            json::RmstArmJson::new(&r.arm0, &labels[0]),
            json::RmstArmJson::new(&r.arm1, &labels[1]),
        ],
        difference: (&r.difference).into(),
        ratio: (&r.ratio).into(),
        rmtl_ratio: (&r.rmtl_ratio).into(),
    });
    if let Some(w) = &weighted {
        doc["conventions"]["variance"] = serde_json::json!(RMST_ROWS_VARIANCE);
        doc["conventions"]["weights"] = serde_json::json!(args.rows.weights);
        doc["conventions"]["start"] = serde_json::json!(args.rows.start);
        doc["conventions"]["id"] = serde_json::json!(args.rows.id);
        for k in 0..2 {
            doc["groups"][k]["weighted_n"] = super::num(w.weighted_n[k]);
            doc["groups"][k]["weighted_events"] = super::num(w.weighted_events[k]);
        }
    }
    let f = |x: f64| format!("{x:.4}");
    let mut text = format!("Restricted mean survival time up to tau = {}\n", r.tau);
    if general {
        text.push_str(&format!(
            "  from the general Kaplan-Meier curves; se: {RMST_ROWS_VARIANCE}\n"
        ));
    }
    for (a, l) in [(&r.arm0, &labels[0]), (&r.arm1, &labels[1])] {
        text.push_str(&format!(
            "  {l}: n = {}, RMST = {} (se {}; {}% CI {} to {})\n",
            a.n,
            f(a.rmst),
            f(a.se),
            r.conf_level * 100.0,
            f(a.lower),
            f(a.upper)
        ));
    }
    text.push_str(&format!(
        "Difference ({} - {}): {} ({} to {}), p = {}\nRatio ({} / {}): {} ({} to {}), p = {}\n",
        labels[1],
        labels[0],
        f(r.difference.estimate),
        f(r.difference.lower),
        f(r.difference.upper),
        super::format::pval(r.difference.p),
        labels[1],
        labels[0],
        f(r.ratio.estimate),
        f(r.ratio.lower),
        f(r.ratio.upper),
        super::format::pval(r.ratio.p)
    ));
    Ok((doc, text))
}
