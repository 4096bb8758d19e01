//! Loading the observational-study oracle files (`tests/data/obs/`): the CSVs
//! and the cases of `lung_weighted.json` / `heart_counting.json`, and parsing
//! a case's survstudy command line into the columns it names.
#![allow(dead_code)]

use serde_json::Value;
use std::path::PathBuf;

pub fn obs_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/obs")
}

pub fn load_cases(file: &str) -> Vec<Value> {
    let text = std::fs::read_to_string(obs_dir().join(file)).unwrap();
    let v: Value = serde_json::from_str(&text).unwrap();
    v["cases"].as_array().unwrap().clone()
}

/// CSV with `NA` as missing; all columns numeric.
pub struct Csv {
    pub header: Vec<String>,
    pub rows: Vec<Vec<Option<f64>>>,
}

impl Csv {
    pub fn load(file: &str) -> Csv {
        let text = std::fs::read_to_string(obs_dir().join(file)).unwrap();
        let mut lines = text.lines();
        let header: Vec<String> = lines
            .next()
            .unwrap()
            .split(',')
            .map(|s| s.trim_matches('"').to_string())
            .collect();
        let rows = lines
            .filter(|l| !l.is_empty())
            .map(|l| {
                l.split(',')
                    .map(|c| {
                        if c == "NA" {
                            None
                        } else {
                            Some(c.parse().unwrap())
                        }
                    })
                    .collect()
            })
            .collect();
        Csv { header, rows }
    }
    pub fn col(&self, name: &str) -> Vec<Option<f64>> {
        let j = self.header.iter().position(|h| h == name).unwrap();
        self.rows.iter().map(|r| r[j]).collect()
    }
}

/// Value of `--flag` in a case's cli, if present.
pub fn flag(cli: &Value, name: &str) -> Option<String> {
    let a: Vec<&str> = cli
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    let k = a.iter().position(|s| *s == name)?;
    match a.get(k + 1) {
        Some(v) if !v.starts_with("--") => Some(v.to_string()),
        _ => Some(String::new()),
    }
}

/// The columns a case uses, complete cases only (R's na.omit).
pub struct CaseData {
    pub stop: Vec<f64>,
    pub event: Vec<bool>,
    pub start: Option<Vec<f64>>,
    pub weight: Option<Vec<f64>>,
    pub id: Option<Vec<usize>>,
    pub group: Option<Vec<f64>>,
    pub covariates: Vec<(String, Vec<f64>)>,
}

pub fn case_data(case: &Value) -> CaseData {
    let cli = &case["cli"];
    let file = flag(cli, "--data").unwrap();
    let csv = Csv::load(file.rsplit('/').next().unwrap());
    let time = flag(cli, "--time").unwrap();
    let ev = flag(cli, "--event").unwrap();
    let (ecol, evalue) = match ev.split_once('=') {
        Some((c, v)) => (c.to_string(), v.parse::<f64>().unwrap()),
        None => (ev.clone(), 1.0),
    };
    let mut used = vec![time.clone(), ecol.clone()];
    let opt_cols = ["--start", "--weights", "--id", "--group"];
    for f in opt_cols {
        if let Some(c) = flag(cli, f) {
            used.push(c);
        }
    }
    let covs: Vec<String> = flag(cli, "--covariates")
        .map(|s| s.split(',').map(str::to_string).collect())
        .unwrap_or_default();
    used.extend(covs.iter().cloned());
    let cols: Vec<Vec<Option<f64>>> = used.iter().map(|c| csv.col(c)).collect();
    let keep: Vec<usize> = (0..csv.rows.len())
        .filter(|&i| cols.iter().all(|c| c[i].is_some()))
        .collect();
    let get = |name: &str| -> Vec<f64> {
        let c = csv.col(name);
        keep.iter().map(|&i| c[i].unwrap()).collect()
    };
    CaseData {
        stop: get(&time),
        event: get(&ecol).iter().map(|&v| v == evalue).collect(),
        start: flag(cli, "--start").map(|c| get(&c)),
        weight: flag(cli, "--weights").map(|c| get(&c)),
        id: flag(cli, "--id").map(|c| get(&c).iter().map(|&v| v as usize).collect()),
        group: flag(cli, "--group").map(|c| get(&c)),
        covariates: covs.iter().map(|c| (c.clone(), get(c))).collect(),
    }
}

pub fn close(a: f64, b: &Value, tol: f64, abs: f64) -> bool {
    match b {
        Value::Null => a.is_nan(),
        Value::String(s) if s == "Inf" => a == f64::INFINITY,
        Value::Number(n) => {
            let b = n.as_f64().unwrap();
            (a - b).abs() <= abs || ((a - b) / b).abs() <= tol
        }
        _ => false,
    }
}

pub fn check(what: &str, a: f64, b: &Value, tol: f64, abs: f64) {
    assert!(close(a, b, tol, abs), "{what}: got {a}, R has {b}");
}

pub fn check_vec(what: &str, a: &[f64], b: &Value, tol: f64, abs: f64) {
    let arr = b.as_array().unwrap();
    assert_eq!(a.len(), arr.len(), "{what}: length");
    for (i, (x, y)) in a.iter().zip(arr).enumerate() {
        assert!(close(*x, y, tol, abs), "{what}[{i}]: got {x}, R has {y}");
    }
}
