//! Golden tests of the Table-1 hypothesis tests against R 4.2.2 `stats`
//! (`fisher.test`, `chisq.test`, `wilcox.test`, `kruskal.test`), using the
//! oracle's `tests.json` for every public data set (see
//! `/work/shared/oracle/README.md`, section "tests.json", and
//! `gen/common.R::table_tests / wilcox_tests / kruskal_test`).
//!
//! Tables are taken from the JSON (`observed`); Wilcoxon and Kruskal–Wallis
//! are recomputed from the raw data CSVs (`tests/data/<ds>/<ds>.csv`), with
//! rows missing the variable or the group dropped, as R's generator does.

use std::collections::HashMap;
use std::path::PathBuf;

use serde_json::Value;
use survkit::hypothesis::{
    chisq_test, fisher_test, kruskal_test, wilcoxon_test, ChisqOptions, ContinuityCorrection,
    WilcoxonMethod, WilcoxonOptions,
};

const DATASETS: [&str; 6] = ["aml", "colon", "lung", "mgus2", "ovarian", "veteran"];
const REL_TOL: f64 = 1e-6;

fn data_dir(ds: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests")
        .join("data")
        .join(ds)
}

fn load_json(ds: &str) -> Value {
    let path = data_dir(ds).join("tests.json");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path:?}: {e}"));
    serde_json::from_str(&text).unwrap()
}

/// Minimal CSV reader for the oracle's files: header row, comma separated,
/// optional double quotes around fields (no embedded commas or quotes).
struct Csv {
    columns: HashMap<String, usize>,
    rows: Vec<Vec<String>>,
}

impl Csv {
    fn load(ds: &str) -> Csv {
        let path = data_dir(ds).join(format!("{ds}.csv"));
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path:?}: {e}"));
        let split = |line: &str| -> Vec<String> {
            line.split(',')
                .map(|f| f.trim().trim_matches('"').to_string())
                .collect()
        };
        let mut lines = text.lines().filter(|l| !l.trim().is_empty());
        let header = split(lines.next().unwrap());
        let columns = header
            .into_iter()
            .enumerate()
            .map(|(i, h)| (h, i))
            .collect();
        let rows = lines.map(split).collect();
        let mut csv = Csv { columns, rows };
        // the data-set `prepare` step of gen/specs.R
        if ds == "colon" {
            let e = csv.columns["etype"];
            csv.rows.retain(|r| r[e] == "2");
        }
        csv
    }

    /// Values of `var` split by the levels of `group` (in the given order),
    /// dropping rows where either is NA.
    fn split_by(&self, var: &str, group: &str, levels: &[String]) -> Vec<Vec<f64>> {
        let (v, g) = (self.columns[var], self.columns[group]);
        let mut out = vec![Vec::new(); levels.len()];
        for row in &self.rows {
            if row[v] == "NA" || row[g] == "NA" {
                continue;
            }
            let value: f64 = row[v].parse().unwrap();
            let level = levels
                .iter()
                .position(|l| l == &row[g])
                .unwrap_or_else(|| panic!("{group} value {} not in {levels:?}", row[g]));
            out[level].push(value);
        }
        out
    }
}

fn f(v: &Value) -> f64 {
    match v {
        Value::Number(n) => n.as_f64().unwrap(),
        Value::String(s) if s == "Inf" => f64::INFINITY,
        Value::String(s) if s == "-Inf" => f64::NEG_INFINITY,
        other => panic!("not a number: {other}"),
    }
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap().to_string())
        .collect()
}

/// Relative comparison; tracks the largest relative error seen.
fn close(what: &str, got: f64, want: f64, worst: &mut f64) {
    if got == want {
        return;
    }
    let rel = (got - want).abs() / want.abs().max(1e-300);
    *worst = worst.max(rel);
    assert!(
        rel <= REL_TOL,
        "{what}: got {got:e}, R {want:e} (rel err {rel:e})"
    );
}

fn has_warning(v: &Value, text: &str) -> bool {
    v.as_array().is_some_and(|a| {
        a.iter()
            .any(|w| w.as_str().is_some_and(|s| s.contains(text)))
    })
}

#[test]
fn contingency_tables_match_r() {
    let mut worst = 0.0f64;
    let mut checked = 0;
    for ds in DATASETS {
        let json = load_json(ds);
        for t in json["tables"].as_array().unwrap() {
            let id = format!("{ds} {} x {}", t["row_var"], t["col_var"]);
            let table: Vec<Vec<u64>> = t["observed"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| {
                    r.as_array()
                        .unwrap()
                        .iter()
                        .map(|v| v.as_u64().unwrap())
                        .collect()
                })
                .collect();
            let is22 = table.len() == 2 && table[0].len() == 2;
            let variants: Vec<(&str, ContinuityCorrection)> = if is22 {
                vec![
                    ("chisq_corrected", ContinuityCorrection::Corrected),
                    ("chisq_uncorrected", ContinuityCorrection::Uncorrected),
                ]
            } else {
                vec![("chisq", ContinuityCorrection::Uncorrected)]
            };
            for (key, correction) in variants {
                let want = &t[key];
                let got = chisq_test(&table, &ChisqOptions { correction }).unwrap();
                let id = format!("{id} {key}");
                close(
                    &format!("{id} statistic"),
                    got.statistic,
                    f(&want["statistic"]),
                    &mut worst,
                );
                assert_eq!(got.df, f(&want["df"]), "{id} df");
                close(&format!("{id} p"), got.p_value, f(&want["p"]), &mut worst);
                assert_eq!(got.method, want["method"].as_str().unwrap(), "{id} method");
                for (i, row) in want["expected"].as_array().unwrap().iter().enumerate() {
                    for (j, e) in row.as_array().unwrap().iter().enumerate() {
                        close(
                            &format!("{id} E[{i}][{j}]"),
                            got.expected[i][j],
                            f(e),
                            &mut worst,
                        );
                    }
                }
                let r_warns = has_warning(
                    &want["warnings"],
                    "Chi-squared approximation may be incorrect",
                );
                assert_eq!(got.warning.is_some(), r_warns, "{id} warning");
                checked += 1;
            }
            let want = &t["fisher"];
            if want.get("skipped").is_some() {
                continue;
            }
            let got = fisher_test(&table).unwrap();
            let id = format!("{id} fisher");
            close(&format!("{id} p"), got.p_value, f(&want["p"]), &mut worst);
            assert_eq!(got.method, want["method"].as_str().unwrap());
            assert!((0.0..=1.0).contains(&got.p_value));
            if is22 {
                close(
                    &format!("{id} odds ratio"),
                    got.odds_ratio.unwrap(),
                    f(&want["odds_ratio"]),
                    &mut worst,
                );
                let ci = want["conf_int"].as_array().unwrap();
                let (lo, hi) = got.conf_int.unwrap();
                close(&format!("{id} ci lower"), lo, f(&ci[0]), &mut worst);
                close(&format!("{id} ci upper"), hi, f(&ci[1]), &mut worst);
            } else {
                assert!(got.odds_ratio.is_none() && got.conf_int.is_none());
            }
            // Fisher's p-value does not depend on the orientation of the table
            let transposed: Vec<Vec<u64>> = (0..table[0].len())
                .map(|j| table.iter().map(|r| r[j]).collect())
                .collect();
            let tp = fisher_test(&transposed).unwrap().p_value;
            assert!(
                (tp - got.p_value).abs() <= 1e-12,
                "{id} transpose {tp} vs {}",
                got.p_value
            );
            checked += 1;
        }
    }
    assert!(checked >= 20, "only {checked} table checks");
    eprintln!("contingency tables: {checked} checks, worst relative error {worst:e}");
}

#[test]
fn wilcoxon_matches_r() {
    let mut worst = 0.0f64;
    let mut checked = 0;
    for ds in DATASETS {
        let json = load_json(ds);
        let csv = Csv::load(ds);
        for w in json["wilcoxon"].as_array().unwrap() {
            let (var, group) = (w["var"].as_str().unwrap(), w["group"].as_str().unwrap());
            let levels = strings(&w["levels"]);
            let split = csv.split_by(var, group, &levels);
            let (x, y) = (&split[0], &split[1]);
            let n: Vec<usize> = w["n"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_u64().unwrap() as usize)
                .collect();
            assert_eq!(
                vec![x.len(), y.len()],
                n,
                "{ds} {var} by {group}: group sizes"
            );
            let variants = [
                (
                    "default",
                    WilcoxonMethod::Auto,
                    ContinuityCorrection::Corrected,
                ),
                (
                    "exact",
                    WilcoxonMethod::Exact,
                    ContinuityCorrection::Corrected,
                ),
                (
                    "normal_cc",
                    WilcoxonMethod::Normal,
                    ContinuityCorrection::Corrected,
                ),
                (
                    "normal_nocc",
                    WilcoxonMethod::Normal,
                    ContinuityCorrection::Uncorrected,
                ),
            ];
            for (key, method, correction) in variants {
                let want = &w[key];
                if want.get("skipped").is_some() {
                    continue;
                }
                let id = format!("{ds} {var} by {group} {key}");
                let opts = WilcoxonOptions {
                    method,
                    correction,
                    ..Default::default()
                };
                let got = wilcoxon_test(x, y, &opts).unwrap();
                close(&format!("{id} W"), got.w, f(&want["W"]), &mut worst);
                close(&format!("{id} p"), got.p_value, f(&want["p"]), &mut worst);
                assert_eq!(got.method, want["method"].as_str().unwrap(), "{id} method");
                assert_eq!(got.has_ties, w["has_ties"].as_bool().unwrap(), "{id} ties");
                let r_warn =
                    has_warning(&want["warnings"], "cannot compute exact p-value with ties");
                assert_eq!(got.warning.is_some(), r_warn, "{id} warning");
                // W + W' = n_x n_y and the two-sided p is symmetric
                let swapped = wilcoxon_test(y, x, &opts).unwrap();
                assert_eq!(got.w + swapped.w, (x.len() * y.len()) as f64, "{id} W + W'");
                assert!((swapped.p_value - got.p_value).abs() <= 1e-12 * got.p_value.max(1e-300));
                checked += 1;
            }
        }
    }
    assert!(checked >= 40, "only {checked} wilcoxon checks");
    eprintln!("wilcoxon: {checked} checks, worst relative error {worst:e}");
}

#[test]
fn kruskal_matches_r() {
    let mut worst = 0.0f64;
    let mut checked = 0;
    for ds in DATASETS {
        let json = load_json(ds);
        let csv = Csv::load(ds);
        for k in json["kruskal"].as_array().unwrap() {
            let (var, group) = (k["var"].as_str().unwrap(), k["group"].as_str().unwrap());
            let levels = strings(&k["levels"]);
            let split = csv.split_by(var, group, &levels);
            let groups: Vec<&[f64]> = split.iter().map(|g| g.as_slice()).collect();
            let id = format!("{ds} {var} by {group}");
            let got = kruskal_test(&groups).unwrap();
            let n: Vec<usize> = k["n"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_u64().unwrap() as usize)
                .collect();
            assert_eq!(got.n, n, "{id} n");
            close(
                &format!("{id} statistic"),
                got.statistic,
                f(&k["statistic"]),
                &mut worst,
            );
            assert_eq!(got.df, f(&k["df"]), "{id} df");
            close(&format!("{id} p"), got.p_value, f(&k["p"]), &mut worst);
            // invariant: reversing the group order changes nothing
            let rev: Vec<&[f64]> = groups.iter().rev().copied().collect();
            let r2 = kruskal_test(&rev).unwrap();
            assert!((r2.statistic - got.statistic).abs() <= 1e-12 * got.statistic);
            checked += 1;
        }
    }
    assert!(checked >= 8, "only {checked} kruskal checks");
    eprintln!("kruskal: {checked} checks, worst relative error {worst:e}");
}

/// For two groups Kruskal–Wallis equals the squared uncorrected normal
/// Wilcoxon z (mgus2 note in gen/specs.R), an identity between two
/// independently coded statistics.
#[test]
fn kruskal_two_groups_equals_wilcoxon_z_squared() {
    let csv = Csv::load("mgus2");
    let levels = vec!["F".to_string(), "M".to_string()];
    let split = csv.split_by("age", "sex", &levels);
    let k = kruskal_test(&[&split[0], &split[1]]).unwrap();
    let opts = WilcoxonOptions {
        method: WilcoxonMethod::Normal,
        correction: ContinuityCorrection::Uncorrected,
        ..Default::default()
    };
    let w = wilcoxon_test(&split[0], &split[1], &opts).unwrap();
    let z = w.z.unwrap();
    assert!((k.statistic - z * z).abs() <= 1e-10 * k.statistic);
    assert!((k.p_value - w.p_value).abs() <= 1e-10 * k.p_value);
}
