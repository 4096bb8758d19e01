//! `survstudy finegray`: Fine–Gray subdistribution-hazards regression,
//! exactly as `cmprsk::crr(time, status, cov1 = model.matrix(~ covariates)[, -1],
//! failcode = K, cencode = 0)` ([`survkit::finegray`]). Complete cases of
//! time, status and covariates; status 0 = censored, other non-negative
//! integers = causes.

use std::path::PathBuf;

use serde_json::Value;
use survkit::finegray::{fine_gray, FineGrayFit, FineGrayOptions};

use super::iptw::{covariates, model_vars, var_requests};
use super::table::{read_columns, ColKind, Column, Request, TableError};
use super::AdhocError;

/// Options of `survstudy finegray`.
#[derive(Debug, Clone)]
pub struct FineGrayArgs {
    /// The data file.
    pub data: PathBuf,
    /// Follow-up time column.
    pub time: String,
    /// Status column: 0 = censored, other integers = causes.
    pub status: String,
    /// `--event-code`: the cause of interest.
    pub event_code: u32,
    /// `--covariates`: model columns.
    pub covariates: Vec<String>,
    /// `--factor`: covariates read as categories.
    pub factors: Vec<String>,
}

/// Result of `survstudy finegray`.
#[derive(Debug, Clone)]
pub struct FineGrayReport {
    /// The options the command ran with.
    pub args: FineGrayArgs,
    /// Rows read.
    pub n_read: usize,
    /// Rows dropped for missing values.
    pub n_dropped: usize,
    /// The Fine–Gray fit.
    pub fit: FineGrayFit,
    /// Levels of each factor covariate, by column.
    pub factor_levels: Vec<(String, Vec<String>)>,
}

/// Run `survstudy finegray`.
pub fn finegray_cmd(args: &FineGrayArgs) -> Result<FineGrayReport, AdhocError> {
    let file = args.data.display().to_string();
    let vars = model_vars(&args.covariates, &args.factors);
    if vars.is_empty() {
        return Err(AdhocError::Usage(
            "--covariates needs at least one column".into(),
        ));
    }
    if args.event_code == 0 {
        return Err(AdhocError::Usage(
            "--event-code 0 is the censoring code; name a cause (1, 2, ...)".into(),
        ));
    }
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
    req.extend(
        var_requests(&vars, &args.factors)
            .into_iter()
            .map(|(name, kind)| Request { name, kind }),
    );
    let mut tab = read_columns(&args.data, &req).map_err(|source| {
        super::iptw::not_number_hint(
            AdhocError::Table {
                file: file.clone(),
                source,
            },
            &args.time,
        )
    })?;
    if tab.n_rows == 0 {
        return Err(AdhocError::Table {
            file,
            source: TableError::NoRows,
        });
    }
    let cols = std::mem::take(&mut tab.columns);
    for (c, v) in cols.iter().skip(2).zip(&vars) {
        super::check_levels(&args.data, v, c)?;
    }
    let n_read = tab.n_rows;
    let keep: Vec<usize> = (0..n_read)
        .filter(|&i| !cols.iter().any(|c| c.is_missing(i)))
        .collect();
    let Column::Number(time) = &cols[0] else {
        unreachable!()
    };
    let Column::Number(st) = &cols[1] else {
        unreachable!()
    };
    let mut status = Vec::with_capacity(keep.len());
    for &i in &keep {
        let bad = |col: usize, v: f64, m: &str| AdhocError::Value {
            file: file.clone(),
            line: tab.line_of(i),
            column: tab.names[col].clone(),
            value: v.to_string(),
            message: m.into(),
        };
        if !(time[i].is_finite() && time[i] >= 0.0) {
            return Err(bad(0, time[i], "time must be a finite number >= 0"));
        }
        let s = st[i];
        if !(s >= 0.0 && s.fract() == 0.0 && s < u32::MAX as f64) {
            return Err(bad(
                1,
                s,
                "status must be an integer >= 0 (0 = censored, other values = causes)",
            ));
        }
        status.push(s as u32);
    }
    if !status.contains(&args.event_code) {
        return Err(AdhocError::Usage(format!(
            "{file}: no row has {} = {} (the --event-code) among the analysed rows",
            args.status, args.event_code
        )));
    }
    let t: Vec<f64> = keep.iter().map(|&i| time[i]).collect();
    let picked: Vec<Column> = cols
        .into_iter()
        .skip(2)
        .map(|c| match c {
            Column::Number(v) => Column::Number(keep.iter().map(|&i| v[i]).collect()),
            Column::Text { codes, levels } => Column::Text {
                codes: keep.iter().map(|&i| codes[i]).collect(),
                levels,
            },
        })
        .collect();
    let cov = covariates(&file, &vars, picked)?;
    let fit = fine_gray(
        &t,
        &status,
        args.event_code,
        &cov.design,
        &FineGrayOptions::default(),
    )?;
    Ok(FineGrayReport {
        args: args.clone(),
        n_read,
        n_dropped: n_read - keep.len(),
        fit,
        factor_levels: cov.factor_levels,
    })
}

impl FineGrayReport {
    /// The `--json` document.
    pub fn to_json(&self) -> Value {
        use super::json::{self, JsonNum};
        let f = &self.fit;
        json::to_value(&json::FineGrayJson {
            command: "finegray",
            conventions: json::FineGrayConventions {
                estimator: "cmprsk::crr: censoring KM weights G(t-)/G(T_i-) for competing-risk subjects, Breslow ties, Newton-Raphson from 0, gtol 1e-6, max 10 iterations",
                variance: "crr sandwich I^-1 (sum_i (eta_i + psi_i)(eta_i + psi_i)') I^-1, including the term for estimating the censoring distribution",
                p: "2 * pnorm(-|z|)",
                conf_level: 0.95,
                factor_coding: "treatment contrasts, reference = first level in sorted order",
            },
            event_code: self.args.event_code,
            n_read: self.n_read,
            n_dropped: self.n_dropped,
            n: f.n,
            n_event: f.n_event,
            n_competing: f.n_competing,
            n_censored: f.n_censored,
            terms: f.terms.iter().map(Into::into).collect(),
            factor_levels: json::factor_levels(&self.factor_levels),
            loglik: JsonNum(f.loglik),
            loglik_null: JsonNum(f.loglik_null),
            converged: f.converged,
            iterations: f.iterations,
            var: &f.var,
        })
    }
}

impl std::fmt::Display for FineGrayReport {
    fn fmt(&self, out: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let g = |x: f64| super::format::sig(x, 4);
        let f = &self.fit;
        writeln!(
            out,
            "Fine-Gray competing-risks regression (cmprsk::crr), failure type {}: n = {} ({} events, {} competing, {} censored){}",
            self.args.event_code,
            f.n,
            f.n_event,
            f.n_competing,
            f.n_censored,
            if self.n_dropped > 0 {
                format!(", {} rows dropped for missing values", self.n_dropped)
            } else {
                String::new()
            }
        )?;
        writeln!(
            out,
            "{:>12} {:>10} {:>10} {:>10} {:>8} {:>10} {:>10} {:>10}",
            "", "coef", "exp(coef)", "se(coef)", "z", "p-value", "2.5%", "97.5%"
        )?;
        for t in &f.terms {
            writeln!(
                out,
                "{:>12} {:>10} {:>10} {:>10} {:>8} {:>10} {:>10} {:>10}",
                t.term,
                g(t.coef),
                g(t.hr),
                g(t.se),
                g(t.z),
                g(t.p),
                g(t.hr_lower),
                g(t.hr_upper)
            )?;
        }
        writeln!(
            out,
            "Pseudo log-likelihood = {}, null = {}{}",
            g(f.loglik),
            g(f.loglik_null),
            if f.converged {
                String::new()
            } else {
                format!(" -- NOT CONVERGED after {} iterations", f.iterations)
            }
        )
    }
}
