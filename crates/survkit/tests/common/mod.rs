//! Shared helpers for the golden tests: load an oracle data set as R would
//! (with the spec's row subset, event expression and NA handling).
#![allow(dead_code)]

use serde_json::Value;
use std::path::PathBuf;

pub const DATASETS: [&str; 6] = ["aml", "colon", "lung", "mgus2", "ovarian", "veteran"];

pub fn data_dir(ds: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(ds)
}

pub fn load_json(ds: &str, file: &str) -> Value {
    let text = std::fs::read_to_string(data_dir(ds).join(file)).unwrap();
    serde_json::from_str(&text).unwrap()
}

/// A data frame of string cells; `None` = NA.
pub struct Frame {
    pub header: Vec<String>,
    pub rows: Vec<Vec<Option<String>>>,
}

fn split_csv_line(line: &str) -> Vec<String> {
    let mut out = vec![];
    let mut cur = String::new();
    let mut q = false;
    for ch in line.chars() {
        match ch {
            '"' => q = !q,
            ',' if !q => out.push(std::mem::take(&mut cur)),
            c => cur.push(c),
        }
    }
    out.push(cur);
    out
}

impl Frame {
    pub fn load(ds: &str) -> Frame {
        let text = std::fs::read_to_string(data_dir(ds).join(format!("{ds}.csv"))).unwrap();
        let mut lines = text.lines();
        let header = split_csv_line(lines.next().unwrap());
        let mut rows: Vec<Vec<Option<String>>> = lines
            .filter(|l| !l.is_empty())
            .map(|l| {
                split_csv_line(l)
                    .into_iter()
                    .map(|c| if c == "NA" { None } else { Some(c) })
                    .collect()
            })
            .collect();
        if ds == "colon" {
            let et = header.iter().position(|h| h == "etype").unwrap();
            rows.retain(|r| r[et].as_deref() == Some("2"));
        }
        Frame { header, rows }
    }
    pub fn col(&self, name: &str) -> Vec<Option<String>> {
        let j = self
            .header
            .iter()
            .position(|h| h == name)
            .unwrap_or_else(|| panic!("no column {name}"));
        self.rows.iter().map(|r| r[j].clone()).collect()
    }
    pub fn num(&self, name: &str) -> Vec<Option<f64>> {
        self.col(name)
            .into_iter()
            .map(|c| c.map(|s| s.parse::<f64>().unwrap()))
            .collect()
    }
}

/// (time column, event column, event value) per data set, from spec.json.
pub fn outcome(ds: &str) -> (&'static str, &'static str, f64) {
    match ds {
        "aml" => ("time", "status", 1.0),
        "colon" => ("time", "status", 1.0),
        "lung" => ("time", "status", 2.0),
        "mgus2" => ("futime", "death", 1.0),
        "ovarian" => ("futime", "fustat", 1.0),
        "veteran" => ("time", "status", 1.0),
        _ => unreachable!(),
    }
}

/// Time and event vectors (no missing values in these outcomes).
pub fn surv_data(f: &Frame, ds: &str) -> (Vec<f64>, Vec<bool>) {
    let (t, e, v) = outcome(ds);
    let time = f.num(t).into_iter().map(|x| x.unwrap()).collect();
    let event = f.num(e).into_iter().map(|x| x.unwrap() == v).collect();
    (time, event)
}

/// Relative-or-absolute closeness: |a-b| <= tol * max(1, |b|)... with NaN/Inf rules.
pub fn close(a: f64, b: &Value, tol: f64) -> bool {
    match b {
        Value::Null => a.is_nan(),
        Value::String(s) if s == "Inf" => a == f64::INFINITY,
        Value::String(s) if s == "-Inf" => a == f64::NEG_INFINITY,
        Value::Number(n) => {
            let b = n.as_f64().unwrap();
            if b == 0.0 {
                a.abs() <= tol
            } else {
                ((a - b) / b).abs() <= tol || (a - b).abs() <= 1e-14
            }
        }
        _ => false,
    }
}

pub fn assert_close(what: &str, a: f64, b: &Value, tol: f64) {
    assert!(close(a, b, tol), "{what}: got {a}, R has {b}");
}

pub fn assert_vec(what: &str, a: &[f64], b: &Value, tol: f64) {
    let arr = match b {
        Value::Array(v) => v.clone(),
        other => vec![other.clone()],
    };
    assert_eq!(
        a.len(),
        arr.len(),
        "{what}: length {} vs R {}",
        a.len(),
        arr.len()
    );
    for (i, (x, y)) in a.iter().zip(&arr).enumerate() {
        assert!(close(*x, y, tol), "{what}[{i}]: got {x}, R has {y}");
    }
}

pub fn opt(x: Option<f64>) -> f64 {
    x.unwrap_or(f64::NAN)
}

/// R factor levels of a data-set column (first = reference), if it is a factor.
pub fn factor_levels(ds: &str, var: &str) -> Option<Vec<String>> {
    let meta = serde_json::from_str::<Value>(
        &std::fs::read_to_string(data_dir("").join("datasets.json")).unwrap(),
    )
    .unwrap();
    let c = &meta["datasets"][ds]["columns"][var];
    if c["type"] == "factor" {
        Some(
            c["levels"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_str().unwrap().to_string())
                .collect(),
        )
    } else {
        None
    }
}

/// (time, event, design, strata) of a model formula, rows with NA dropped.
pub type ModelData = (
    Vec<f64>,
    Vec<bool>,
    survkit::cox::Design,
    Option<Vec<usize>>,
);

/// Build (time, event, design, strata) for a model formula, dropping rows with NA.
pub fn model_data(ds: &str, formula: &str) -> ModelData {
    model_data_terms(ds, formula).0
}

/// [`model_data`] plus the model terms as (R term label, design columns);
/// strata are numbered in R's factor-level order.
pub fn model_data_terms(ds: &str, formula: &str) -> (ModelData, Vec<(String, Vec<usize>)>) {
    use survkit::cox::Design;
    let f = Frame::load(ds);
    let (time, event) = surv_data(&f, ds);
    let rhs = formula.split('~').nth(1).unwrap();
    let tokens: Vec<&str> = rhs.split('+').map(str::trim).collect();
    let inner = |t: &str, fun: &str| {
        t.strip_prefix(&format!("{fun}("))
            .and_then(|s| s.strip_suffix(')'))
            .map(str::to_string)
    };
    let mut used: Vec<String> = vec![];
    for t in &tokens {
        let v = inner(t, "strata")
            .or_else(|| inner(t, "factor"))
            .or_else(|| inner(t, "log"))
            .unwrap_or(t.to_string());
        used.push(v);
    }
    let keep: Vec<usize> = (0..time.len())
        .filter(|&i| used.iter().all(|v| f.col(v)[i].is_some()))
        .collect();
    let mut d = Design::default();
    let mut strata = None;
    let mut terms = vec![];
    for t in &tokens {
        let before = d.len();
        if let Some(v) = inner(t, "strata") {
            let col = f.col(&v);
            let labels: Vec<String> = keep.iter().map(|&i| col[i].clone().unwrap()).collect();
            let lv = factor_levels(ds, &v).unwrap_or_else(|| {
                survkit::cox::design::sorted_levels(labels.iter().map(String::as_str))
            });
            strata = Some(
                labels
                    .iter()
                    .map(|l| lv.iter().position(|x| x == l).unwrap())
                    .collect(),
            );
            continue;
        } else if let Some(v) = inner(t, "factor") {
            let col = f.col(&v);
            let labels: Vec<String> = keep.iter().map(|&i| col[i].clone().unwrap()).collect();
            let refs: Vec<&str> = labels.iter().map(String::as_str).collect();
            d.add_factor(t, &refs, None);
        } else if let Some(v) = inner(t, "log") {
            let col = f.num(&v);
            d.add_numeric(t, keep.iter().map(|&i| col[i].unwrap().ln()).collect());
        } else if let Some(levels) = factor_levels(ds, t) {
            let col = f.col(t);
            let labels: Vec<String> = keep.iter().map(|&i| col[i].clone().unwrap()).collect();
            let refs: Vec<&str> = labels.iter().map(String::as_str).collect();
            d.add_factor(t, &refs, Some(&levels));
        } else {
            let col = f.num(t);
            d.add_numeric(t, keep.iter().map(|&i| col[i].unwrap()).collect());
        }
        terms.push((t.to_string(), (before..d.len()).collect()));
    }
    (
        (
            keep.iter().map(|&i| time[i]).collect(),
            keep.iter().map(|&i| event[i]).collect(),
            d,
            strata,
        ),
        terms,
    )
}
