//! `survstudy km | cox | zph` with `--weights`, `--start`, `--id`, `--robust`:
//! every case of the oracle's observational references
//! (`../survkit/tests/data/obs/{lung_weighted,heart_counting}.json`, and
//! `counting_strata.json` written by `gen/counting_strata.R` there) run
//! through its own `cli` line and compared as the oracle README says:
//! KM 1e-6 (abs 1e-9); Cox / zph downstream of the iteration 1e-5 (abs
//! 1e-8, p abs 1e-12); log-likelihoods 1e-9; counts, df, iterations exactly.
//! Also the row errors and refusals (exit 2).

use serde_json::Value;
use std::path::PathBuf;
use std::process::Command;

fn obs(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../survkit/tests/data/obs")
        .join(rel)
}

fn run_case(cli: &Value) -> Value {
    let mut args: Vec<String> = cli
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect();
    let k = args.iter().position(|a| a == "--data").unwrap();
    let file = args[k + 1].rsplit('/').next().unwrap().to_string();
    args[k + 1] = obs(&file).display().to_string();
    let out = Command::new(env!("CARGO_BIN_EXE_survstudy"))
        .args(&args)
        .arg("--json")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn close(a: &Value, b: &Value, tol: f64, abs: f64) -> bool {
    match (a, b) {
        (Value::Null, Value::Null) => true,
        (Value::Number(x), Value::Number(y)) => {
            let (x, y) = (x.as_f64().unwrap(), y.as_f64().unwrap());
            (x - y).abs() <= abs || (x - y).abs() <= tol * y.abs()
        }
        (Value::String(x), Value::String(y)) => x == y,
        (Value::String(x), Value::Null) | (Value::Null, Value::String(x)) => x == "Inf",
        _ => false,
    }
}

fn check(tag: &str, a: &Value, b: &Value, tol: f64, abs: f64) {
    match (a, b) {
        (Value::Array(x), Value::Array(y)) => {
            assert_eq!(x.len(), y.len(), "{tag}: length");
            for (i, (u, v)) in x.iter().zip(y).enumerate() {
                check(&format!("{tag}[{i}]"), u, v, tol, abs);
            }
        }
        _ => assert!(close(a, b, tol, abs), "{tag}: got {a}, R has {b}"),
    }
}

fn cases(file: &str) -> Vec<Value> {
    let v: Value = serde_json::from_str(&std::fs::read_to_string(obs(file)).unwrap()).unwrap();
    v["cases"].as_array().unwrap().clone()
}

fn run_all(file: &str) -> (usize, usize, usize) {
    let (mut nk, mut nc, mut nz) = (0, 0, 0);
    for case in cases(file) {
        let id = case["id"].as_str().unwrap().to_string();
        let got = run_case(&case["cli"]);
        match case["kind"].as_str().unwrap() {
            "km" => {
                assert_eq!(got["robust"], case["robust"], "{id} robust");
                let rg = case["groups"].as_array().unwrap();
                let gg = got["groups"].as_array().unwrap();
                assert_eq!(rg.len(), gg.len(), "{id} groups");
                for (g, r) in gg.iter().zip(rg) {
                    for k in [
                        "time",
                        "n_risk",
                        "n_event",
                        "n_censor",
                        "surv",
                        "std_err",
                        "std_err_surv",
                        "lower",
                        "upper",
                        "median",
                        "median_lower",
                        "median_upper",
                        "n_event_total",
                    ] {
                        check(
                            &format!("{id} {} {k}", r["strata"]),
                            &g[k],
                            &r[k],
                            1e-6,
                            1e-9,
                        );
                    }
                    assert_eq!(g["n"], r["n"]);
                }
                nk += 1;
            }
            "cox" => {
                assert_eq!(got["robust"], case["robust"], "{id} robust");
                for k in ["n", "nevent", "iterations"] {
                    assert_eq!(got[k].as_f64(), case[k].as_f64(), "{id} {k}");
                }
                let gt = got["terms"].as_array().unwrap();
                for (t, r) in gt.iter().zip(case["terms"].as_array().unwrap()) {
                    for k in ["coef", "se", "robust_se", "z", "hr", "hr_lower", "hr_upper"] {
                        if !r[k].is_null() || !t[k].is_null() {
                            check(&format!("{id} {} {k}", r["term"]), &t[k], &r[k], 1e-5, 1e-8);
                        }
                    }
                    check(
                        &format!("{id} {} p", r["term"]),
                        &t["p"],
                        &r["p"],
                        1e-5,
                        1e-12,
                    );
                }
                for k in ["loglik_null", "loglik"] {
                    check(&format!("{id} {k}"), &got[k], &case[k], 1e-9, 0.0);
                }
                for k in ["lr_test", "wald_test", "score_test", "robust_score_test"] {
                    if case[k].is_null() {
                        assert!(got[k].is_null(), "{id} {k}");
                        continue;
                    }
                    check(
                        &format!("{id} {k}"),
                        &got[k]["stat"],
                        &case[k]["stat"],
                        1e-5,
                        1e-8,
                    );
                    check(
                        &format!("{id} {k} p"),
                        &got[k]["p"],
                        &case[k]["p"],
                        1e-5,
                        1e-12,
                    );
                    assert_eq!(got[k]["df"], case[k]["df"]);
                }
                for k in ["concordance", "concordance_se"] {
                    check(&format!("{id} {k}"), &got[k], &case[k], 1e-6, 1e-9);
                }
                nc += 1;
            }
            "zph" => {
                let gt = got["tests"].as_array().unwrap();
                let rt = case["tests"].as_array().unwrap();
                assert_eq!(gt.len(), rt.len());
                for (t, r) in gt.iter().zip(rt) {
                    assert_eq!(t["term"], r["term"]);
                    assert_eq!(t["df"], r["df"]);
                    check(
                        &format!("{id} {} chisq", r["term"]),
                        &t["chisq"],
                        &r["chisq"],
                        1e-5,
                        1e-8,
                    );
                    check(
                        &format!("{id} {} p", r["term"]),
                        &t["p"],
                        &r["p"],
                        1e-5,
                        1e-12,
                    );
                }
                nz += 1;
            }
            other => panic!("unexpected kind {other}"),
        }
    }
    (nk, nc, nz)
}

#[test]
fn weighted_cases_match_r() {
    assert_eq!(run_all("lung_weighted.json"), (7, 7, 4));
}

#[test]
fn counting_process_cases_match_r() {
    assert_eq!(run_all("heart_counting.json"), (6, 6, 4));
}

/// Stratified (start, stop] Cox and its cox.zph (heart by surgery, plain and
/// id-robust; cgd by hospital category with several events per id, robust
/// by R's default): `counting_strata.json` from `gen/counting_strata.R`.
#[test]
fn stratified_counting_process_cases_match_r() {
    assert_eq!(run_all("counting_strata.json"), (0, 6, 4));
}

fn fails(args: &[&str], csv: &str) -> String {
    let dir = std::env::temp_dir().join(format!("survstudy-obs-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let f = dir.join(format!("t{}.csv", csv.len()));
    std::fs::write(&f, csv).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_survstudy"))
        .arg(args[0])
        .arg("--data")
        .arg(&f)
        .args(&args[1..])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{args:?}");
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn bad_rows_and_refusals_exit_2_with_line_column_value() {
    let base = ["--time", "t", "--event", "e"];
    let with = |extra: &[&'static str]| -> Vec<&'static str> {
        let mut v = vec!["km"];
        v.extend(base);
        v.extend(extra);
        v
    };
    let e = fails(
        &with(&["--weights", "w"]),
        "t,e,w\n1,1,1\n2,0,-0.5\n3,1,2\n",
    );
    assert!(
        e.contains("line 3") && e.contains("'w'") && e.contains("-0.5"),
        "{e}"
    );
    let e = fails(&with(&["--weights", "w"]), "t,e,w\n1,1,1\n2,0,NA\n3,1,2\n");
    assert!(e.contains("line 3") && e.contains("missing"), "{e}");
    let e = fails(&with(&["--start", "s"]), "t,e,s\n1,1,0\n2,0,2\n3,1,1\n");
    assert!(
        e.contains("line 3") && e.contains("'s'") && e.contains("value '2'"),
        "{e}"
    );
    let e = fails(
        &with(&["--start", "s", "--id", "i"]),
        "t,e,s,i\n5,0,0,a\n9,1,4,a\n3,1,0,b\n",
    );
    assert!(e.contains("line 3") && e.contains("overlaps"), "{e}");
    let e = fails(
        &[
            "logrank",
            "--time",
            "t",
            "--event",
            "e",
            "--group",
            "g",
            "--weights",
            "w",
        ],
        "t,e,g,w\n1,1,a,1\n2,0,b,1\n",
    );
    assert!(e.contains("survdiff") && e.contains("cox"), "{e}");
    let e = fails(
        &[
            "logrank", "--time", "t", "--event", "e", "--group", "g", "--start", "s",
        ],
        "t,e,g,s\n1,1,a,0\n2,0,b,0\n",
    );
    assert!(e.contains("--start"), "{e}");
}

#[test]
fn id_column_may_hold_more_values_than_the_factor_cap() {
    // 2500 subjects, two rows each: an id is not a group or a factor
    let dir = std::env::temp_dir().join(format!("survstudy-obs-ids-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let f = dir.join("ids.csv");
    let mut csv = String::from("id,s,t,e,x\n");
    for i in 0..2500 {
        let t = 2 + i % 37;
        csv += &format!("p{i},0,1,0,{}\np{i},1,{t},{},{}\n", i % 5, i % 2, i % 5);
    }
    std::fs::write(&f, csv).unwrap();
    for cmd in [vec!["km"], vec!["cox", "--covariates", "x"]] {
        let out = Command::new(env!("CARGO_BIN_EXE_survstudy"))
            .arg(cmd[0])
            .arg("--data")
            .arg(&f)
            .args(["--start", "s", "--time", "t", "--event", "e", "--id", "id"])
            .args(&cmd[1..])
            .output()
            .unwrap();
        assert_eq!(
            out.status.code(),
            Some(0),
            "{cmd:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}
