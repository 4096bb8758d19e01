//! `survstudy adjusted` against the oracle's `ref/public/{lung,colon}/adjusted.json`
//! (copied to `../survkit/tests/data/obs/*_adjusted.json`): each case's `cli`
//! line; `levels`, `at` exactly, `survival[].surv` and `difference[].estimate`
//! at 1e-5 relative (abs 1e-8), the Cox fit's coefficients too, and the
//! influence-function SEs, Wald CIs and difference p-values against the
//! recorded riskRegression `ate(estimator = "GFORMULA")` (1e-5: everything
//! is downstream of the iterated Cox fit). Plus
//! invariants: a 4-level treatment gives 4 averaged curves and 3
//! differences, each curve non-increasing in t and within [0, 1]; the
//! treatment also listed as a covariate exits 2.

use serde_json::Value;
use std::path::PathBuf;
use std::process::Command;

fn obs(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../survkit/tests/data/obs")
        .join(rel)
}

fn run(args: &[String]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_survstudy"))
        .args(args)
        .output()
        .unwrap()
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-8 || (a - b).abs() <= 1e-5 * b.abs()
}

fn vals(v: &Value) -> Vec<f64> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap())
        .collect()
}

#[test]
fn adjusted_cases_match_r() {
    for f in ["lung_adjusted.json", "colon_adjusted.json"] {
        let v: Value = serde_json::from_str(&std::fs::read_to_string(obs(f)).unwrap()).unwrap();
        for case in v["cases"].as_array().unwrap() {
            let id = case["id"].as_str().unwrap();
            let mut args: Vec<String> = case["cli"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_str().unwrap().to_string())
                .collect();
            let k = args.iter().position(|a| a == "--data").unwrap();
            let file = args[k + 1].rsplit('/').next().unwrap().to_string();
            args[k + 1] = obs(&file).display().to_string();
            args.push("--json".into());
            let out = run(&args);
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
            let got: Value = serde_json::from_slice(&out.stdout).unwrap();
            assert_eq!(got["levels"], case["levels"], "{id} levels");
            assert_eq!(got["n"], case["n"], "{id} n");
            assert_eq!(vals(&got["at"]), vals(&case["at"]));
            for (g, r) in got["survival"]
                .as_array()
                .unwrap()
                .iter()
                .zip(case["survival"].as_array().unwrap())
            {
                assert_eq!(g["level"], r["level"]);
                for (a, b) in vals(&g["surv"]).into_iter().zip(vals(&r["surv"])) {
                    assert!(close(a, b), "{id} {} surv: got {a}, R has {b}", r["level"]);
                }
            }
            let gd = got["difference"].as_array().unwrap();
            let rd = case["difference"].as_array().unwrap();
            assert_eq!(gd.len(), rd.len());
            for (g, r) in gd.iter().zip(rd) {
                assert_eq!(g["level"], r["level"]);
                assert_eq!(g["reference"], r["reference"]);
                for (a, b) in vals(&g["estimate"]).into_iter().zip(vals(&r["estimate"])) {
                    assert!(close(a, b), "{id} difference: got {a}, R has {b}");
                }
            }
            for r in case["cox"]["terms"].as_array().unwrap() {
                let g = got["cox"]["terms"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .find(|t| t["term"] == r["term"])
                    .unwrap_or_else(|| panic!("{id}: no term {}", r["term"]));
                assert!(close(
                    g["coef"].as_f64().unwrap(),
                    r["coef"].as_f64().unwrap()
                ));
            }
            assert!(got["se_method"]
                .as_str()
                .unwrap()
                .starts_with("influence functions"));
            // riskRegression::ate(estimator = "GFORMULA"): SE, Wald CI on the
            // survival scale (surv = 1 - risk) and the difference's p-value
            let rr = case["riskRegression"]["estimators"]
                .as_array()
                .unwrap()
                .iter()
                .find(|e| e["estimator"] == "GFORMULA")
                .unwrap();
            assert_eq!(
                got["survival"].as_array().unwrap().len(),
                rr["levels"].as_array().unwrap().len()
            );
            assert_eq!(gd.len(), rr["difference"].as_array().unwrap().len());
            for (g, r) in got["survival"]
                .as_array()
                .unwrap()
                .iter()
                .zip(rr["levels"].as_array().unwrap())
            {
                assert_eq!(g["level"], r["level"]);
                for (field, rfield) in [
                    ("surv", "surv"),
                    ("se", "surv_se"),
                    ("lower", "surv_lower"),
                    ("upper", "surv_upper"),
                ] {
                    assert_eq!(
                        vals(&g[field]).len(),
                        vals(&r[rfield]).len(),
                        "{id} {field}"
                    );
                    for (a, b) in vals(&g[field]).into_iter().zip(vals(&r[rfield])) {
                        assert!(
                            close(a, b),
                            "{id} {} {field}: got {a}, ate has {b}",
                            r["level"]
                        );
                    }
                }
            }
            for (g, r) in gd.iter().zip(rr["difference"].as_array().unwrap()) {
                assert_eq!(g["level"], r["level"]);
                for (field, rfield) in [
                    ("estimate", "surv_diff"),
                    ("se", "risk_diff_se"),
                    ("lower", "surv_diff_lower"),
                    ("upper", "surv_diff_upper"),
                    ("p", "risk_diff_p"),
                ] {
                    assert_eq!(
                        vals(&g[field]).len(),
                        vals(&r[rfield]).len(),
                        "{id} {field}"
                    );
                    for (a, b) in vals(&g[field]).into_iter().zip(vals(&r[rfield])) {
                        assert!(close(a, b), "{id} difference {field}: got {a}, ate has {b}");
                    }
                }
            }
        }
    }
}

#[test]
fn curves_are_monotone_and_bad_input_exits_2() {
    let data = obs("colon_iptw.csv").display().to_string();
    let mut a: Vec<String> = [
        "adjusted",
        "--data",
        &data,
        "--time",
        "time",
        "--event",
        "status",
        "--treatment",
        "extent",
        "--covariates",
        "age,nodes",
        "--at",
        "100,365,730,1000,1826,2500",
        "--json",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let o = run(&a);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let got: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(got["levels"].as_array().unwrap().len(), 4);
    assert_eq!(got["difference"].as_array().unwrap().len(), 3);
    for s in got["survival"].as_array().unwrap() {
        let v = vals(&s["surv"]);
        assert!(v.windows(2).all(|w| w[1] <= w[0]) && v.iter().all(|&x| (0.0..=1.0).contains(&x)));
    }
    // the treatment as a covariate too
    a[12] = "age,extent".into();
    let o = run(&a);
    assert_eq!(o.status.code(), Some(2));
}
