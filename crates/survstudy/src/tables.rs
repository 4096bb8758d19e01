//! CSV versions of the result tables (`DIR/tables/*.csv`), for pasting into
//! manuscripts or checking in other software. All read [`Results`].

use std::path::{Path, PathBuf};

use crate::analysis::Results;
use crate::report::study::sections::table1 as t1csv;
use crate::report::study::Identifiers;

fn f(x: Option<f64>) -> String {
    x.map_or(String::new(), |v| format!("{v}"))
}

fn write(path: &Path, header: &[&str], rows: Vec<Vec<String>>) -> std::io::Result<PathBuf> {
    let mut w = csv::Writer::from_path(path).map_err(std::io::Error::other)?;
    w.write_record(header).map_err(std::io::Error::other)?;
    for r in rows {
        w.write_record(&r).map_err(std::io::Error::other)?;
    }
    w.flush()?;
    Ok(path.to_path_buf())
}

/// Write survival.csv, cox.csv, table1.csv, flow.csv, patterns.csv, with
/// patient identifiers hidden (as [`write_tables_with`] with
/// [`Identifiers::Hidden`]).
pub fn write_tables(r: &Results, dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    write_tables_with(r, dir, Identifiers::Hidden)
}

/// Write survival.csv, cox.csv, table1.csv, flow.csv, patterns.csv. With
/// identifiers hidden, `flow.csv` lists excluded rows by line and
/// value-free reason only (the same rule as the HTML report); with
/// [`Identifiers::Shown`] the reasons keep the offending cell values.
pub fn write_tables_with(
    r: &Results,
    dir: &Path,
    identifiers: Identifiers,
) -> std::io::Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir)?;
    let mut out = vec![];
    // survival: one row per endpoint x grouping x group (overall rows too)
    let mut rows = vec![];
    let lm_times: Vec<f64> = r
        .endpoints
        .first()
        .map(|e| e.overall.landmarks.iter().map(|l| l.time).collect())
        .unwrap_or_default();
    let mut header: Vec<String> = [
        "endpoint",
        "grouping",
        "group",
        "n",
        "events",
        "median",
        "median_lower",
        "median_upper",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    for t in &lm_times {
        header.push(format!("surv_{t}"));
        header.push(format!("surv_{t}_lower"));
        header.push(format!("surv_{t}_upper"));
    }
    header.extend(["logrank_chisq", "logrank_df", "logrank_p"].map(String::from));
    let mut push = |ep: &str,
                    grouping: &str,
                    g: &crate::analysis::survival::GroupSummary,
                    lr: Option<&crate::analysis::survival::LogrankSummary>| {
        let mut row = vec![
            ep.to_string(),
            grouping.to_string(),
            g.label.clone(),
            g.n.to_string(),
            g.events.to_string(),
            f(g.median),
            f(g.median_lower),
            f(g.median_upper),
        ];
        for t in &lm_times {
            let l = g.landmarks.iter().find(|l| l.time == *t);
            row.push(f(l.and_then(|l| l.surv)));
            row.push(f(l.and_then(|l| l.lower)));
            row.push(f(l.and_then(|l| l.upper)));
        }
        row.push(f(lr.map(|l| l.chisq)));
        row.push(lr.map_or(String::new(), |l| l.df.to_string()));
        row.push(f(lr.map(|l| l.p)));
        rows.push(row);
    };
    for e in &r.endpoints {
        push(&e.endpoint, "overall", &e.overall, None);
    }
    for s in &r.survival {
        for g in &s.groups {
            push(&s.endpoint, &s.grouping, g, s.logrank.as_ref());
        }
    }
    let hdr: Vec<&str> = header.iter().map(String::as_str).collect();
    out.push(write(&dir.join("survival.csv"), &hdr, rows)?);

    // cox: univariable and multivariable terms
    let mut rows = vec![];
    let term_row = |model: &str, ep: &str, t: &crate::analysis::survival::CoxTermSummary| {
        vec![
            model.to_string(),
            ep.to_string(),
            t.variable.clone(),
            t.level.clone().unwrap_or_default(),
            t.reference.clone().unwrap_or_default(),
            t.term.clone(),
            f(t.coef),
            f(t.se),
            f(t.hr),
            f(t.hr_lower),
            f(t.hr_upper),
            f(t.p),
            t.possibly_infinite.to_string(),
        ]
    };
    for s in &r.survival {
        if let Some(c) = &s.cox {
            for t in &c.terms {
                rows.push(term_row("univariable", &s.endpoint, t));
            }
        }
    }
    for m in &r.multivariable {
        if let Some(c) = &m.cox {
            for t in &c.terms {
                rows.push(term_row("multivariable", &m.endpoint, t));
            }
        }
    }
    out.push(write(
        &dir.join("cox.csv"),
        &[
            "model",
            "endpoint",
            "variable",
            "level",
            "reference",
            "term",
            "coef",
            "se",
            "hr",
            "hr_lower",
            "hr_upper",
            "p",
            "possibly_infinite",
        ],
        rows,
    )?);

    // Table 1 (long format)
    if let Some(t1) = &r.table1 {
        let mut header = vec![
            "variable".to_string(),
            "level".into(),
            "statistic".into(),
            "overall".into(),
        ];
        header.extend(t1.by_levels.iter().map(|l| format!("{}={}", t1.by, l)));
        header.extend(["test".to_string(), "p".into()]);
        let mut rows = vec![];
        for row in &t1.rows {
            let test = row.test.as_ref();
            for l in &row.levels {
                let mut v = vec![
                    row.variable.clone(),
                    l.level.clone(),
                    "n (%)".into(),
                    t1csv::csv_n_pct(l.n, l.pct),
                ];
                v.extend(l.by.iter().map(|c| t1csv::csv_n_pct(c.n, c.pct)));
                v.push(test.map_or(String::new(), |t| t.method.clone()));
                v.push(f(test.and_then(|t| t.p)));
                rows.push(v);
            }
            // formatted as the HTML Table 1: median (IQR), then range
            if let Some(s) = &row.summary {
                for (stat, overall, by) in t1csv::csv_continuous(s, &row.summary_by) {
                    let mut v = vec![row.variable.clone(), String::new(), stat, overall];
                    v.extend(by);
                    v.push(test.map_or(String::new(), |t| t.method.clone()));
                    v.push(f(test.and_then(|t| t.p)));
                    rows.push(v);
                }
            }
        }
        let hdr: Vec<&str> = header.iter().map(String::as_str).collect();
        out.push(write(&dir.join("table1.csv"), &hdr, rows)?);
    }

    // flow (no patient identifiers: line numbers and reasons only)
    let mut rows = vec![vec![
        "rows_read".to_string(),
        String::new(),
        r.flow.rows_read.to_string(),
    ]];
    let flow = match identifiers {
        Identifiers::Shown => r.flow.clone(),
        Identifiers::Hidden => r.flow.without_identifiers(),
    };
    for e in &flow.excluded {
        rows.push(vec![
            "excluded".into(),
            format!("line {}: {}", e.line, e.reason),
            "1".into(),
        ]);
    }
    rows.push(vec![
        "analysed".into(),
        String::new(),
        r.flow.analysed.to_string(),
    ]);
    out.push(write(
        &dir.join("flow.csv"),
        &["stage", "detail", "n"],
        rows,
    )?);

    // progression patterns
    let rows = r
        .patterns
        .rows
        .iter()
        .map(|p| {
            vec![
                p.name.clone(),
                p.label.clone(),
                p.n.to_string(),
                p.denominator.to_string(),
                f(p.pct),
            ]
        })
        .collect();
    out.push(write(
        &dir.join("patterns.csv"),
        &["flag", "label", "n", "denominator", "pct"],
        rows,
    )?);
    Ok(out)
}
