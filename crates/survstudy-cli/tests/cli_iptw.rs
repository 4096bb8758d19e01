//! `survstudy iptw`: every case of the oracle's `ref/public/colon/iptw.json`
//! (copied to `../survkit/tests/data/obs/colon_iptw.json`) run through its own
//! `cli` line and compared as the oracle README says: glm, weights, weighted
//! SMDs, weighted KM and Cox 1e-5 relative (abs 1e-8; p abs 1e-12), unweighted
//! SMDs 1e-6, n exactly. Also the bad-input refusals (exit 2) and `--out`.

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
    args.push("--json".into());
    let out = run(&args);
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

fn find<'a>(arr: &'a Value, key: &str, val: &Value) -> &'a Value {
    arr.as_array()
        .unwrap()
        .iter()
        .find(|x| &x[key] == val)
        .unwrap_or_else(|| panic!("no {key} = {val}"))
}

#[test]
fn iptw_cases_match_r() {
    let v: Value =
        serde_json::from_str(&std::fs::read_to_string(obs("colon_iptw.json")).unwrap()).unwrap();
    let cases = v["cases"].as_array().unwrap();
    assert_eq!(cases.len(), 5);
    for case in cases {
        let id = case["id"].as_str().unwrap();
        let got = run_case(&case["cli"]);
        for k in ["n_analysed", "n_trimmed", "n_dropped"] {
            assert_eq!(got[k], case[k], "{id} {k}");
        }
        check(
            &format!("{id} p"),
            &got["marginal_treated_proportion"],
            &case["marginal_treated_proportion"],
            1e-12,
            0.0,
        );
        // propensity model
        let rp = &case["ps_model"];
        let gp = &got["ps_model"];
        assert_eq!(gp["iterations"], rp["iterations"], "{id} iterations");
        for r in rp["terms"].as_array().unwrap() {
            let t = find(&gp["terms"], "term", &r["term"]);
            for k in ["coef", "se", "z"] {
                check(
                    &format!("{id} ps {} {k}", r["term"]),
                    &t[k],
                    &r[k],
                    1e-5,
                    1e-8,
                );
            }
            check(
                &format!("{id} ps {} p", r["term"]),
                &t["p"],
                &r["p"],
                1e-5,
                1e-12,
            );
        }
        for k in ["deviance", "null_deviance", "aic"] {
            check(&format!("{id} {k}"), &gp[k], &rp[k], 1e-9, 0.0);
        }
        check(&format!("{id} row"), &gp["row"], &rp["row"], 0.0, 0.0);
        check(&format!("{id} ps"), &gp["ps"], &rp["ps"], 1e-5, 1e-8);
        // weights
        for r in case["weights"].as_array().unwrap() {
            let g = find(&got["weights"], "group", &r["group"]);
            assert_eq!(g["n"], r["n"], "{id} weights n");
            for k in ["sum", "min", "max", "mean", "ess"] {
                check(
                    &format!("{id} w{} {k}", r["group"]),
                    &g[k],
                    &r[k],
                    1e-5,
                    1e-8,
                );
            }
        }
        // balance
        let rb = case["balance"].as_array().unwrap();
        assert_eq!(got["balance"].as_array().unwrap().len(), rb.len());
        for r in rb {
            let g = find(&got["balance"], "term", &r["term"]);
            check(
                &format!("{id} {} before", r["term"]),
                &g["smd_before"],
                &r["smd_before"],
                1e-6,
                1e-9,
            );
            // ATO balances exactly: R's smd_after are ~1e-14, compare absolutely
            check(
                &format!("{id} {} after", r["term"]),
                &g["smd_after"],
                &r["smd_after"],
                1e-5,
                1e-8,
            );
        }
        // weighted KM
        let rg = case["km"]["groups"].as_array().unwrap();
        assert_eq!(got["km"]["groups"].as_array().unwrap().len(), rg.len());
        for r in rg {
            let g = find(&got["km"]["groups"], "group", &r["group"]);
            assert_eq!(g["n"], r["n"]);
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
                    &format!("{id} km {} {k}", r["group"]),
                    &g[k],
                    &r[k],
                    1e-5,
                    1e-8,
                );
            }
        }
        // weighted Cox
        let rc = &case["cox"];
        let gc = &got["cox"];
        for k in ["n", "nevent", "iterations"] {
            assert_eq!(gc[k].as_f64(), rc[k].as_f64(), "{id} cox {k}");
        }
        let t = &gc["terms"][0];
        let r = &rc["terms"][0];
        for k in ["coef", "se", "robust_se", "z", "hr", "hr_lower", "hr_upper"] {
            check(&format!("{id} cox {k}"), &t[k], &r[k], 1e-5, 1e-8);
        }
        check(&format!("{id} cox p"), &t["p"], &r["p"], 1e-5, 1e-12);
        for k in ["loglik", "loglik_null"] {
            check(&format!("{id} cox {k}"), &gc[k], &rc[k], 1e-9, 0.0);
        }
        for k in ["lr_test", "wald_test", "score_test", "robust_score_test"] {
            check(
                &format!("{id} {k}"),
                &gc[k]["stat"],
                &rc[k]["stat"],
                1e-5,
                1e-8,
            );
            check(
                &format!("{id} {k} p"),
                &gc[k]["p"],
                &rc[k]["p"],
                1e-5,
                1e-12,
            );
        }
        for k in ["concordance", "concordance_se"] {
            check(&format!("{id} cox {k}"), &gc[k], &rc[k], 1e-5, 1e-8);
        }
    }
}

fn base(data: &str) -> Vec<String> {
    [
        "iptw",
        "--data",
        data,
        "--time",
        "time",
        "--event",
        "status",
        "--treatment",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect()
}

fn tmp(name: &str, text: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("survstudy-iptw-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    let p = d.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

#[test]
fn out_writes_rows_with_ps_and_weight() {
    let data = obs("colon_iptw.csv").display().to_string();
    let dir = std::env::temp_dir().join(format!("survstudy-iptw-out-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let out = dir.join("w.csv");
    let mut a = base(&data);
    for s in [
        "treat",
        "--covariates",
        "age,sex,obstruct,nodes,extent",
        "--factor",
        "extent",
        "--trim",
        "0.35",
        "--json",
        "--out",
    ] {
        a.push(s.into());
    }
    a.push(out.display().to_string());
    let o = run(&a);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let doc: Value = serde_json::from_slice(&o.stdout).unwrap();
    let text = std::fs::read_to_string(&out).unwrap();
    let input = std::fs::read_to_string(obs("colon_iptw.csv")).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let in_lines: Vec<&str> = input.lines().collect();
    assert_eq!(lines.len(), in_lines.len());
    assert!(lines[0].ends_with(",ps,weight"));
    for (l, i) in lines.iter().zip(&in_lines).skip(1) {
        assert!(l.starts_with(&i.replace('"', "")[..5]));
    }
    let mut n_ps = 0;
    let mut n_w = 0;
    let mut sum_w = 0.0;
    for l in &lines[1..] {
        let f: Vec<&str> = l.rsplitn(3, ',').collect();
        if f[1] != "NA" {
            n_ps += 1;
        }
        if f[0] != "NA" {
            n_w += 1;
            sum_w += f[0].parse::<f64>().unwrap();
        }
    }
    assert_eq!(n_ps, doc["n_fitted"].as_u64().unwrap() as usize);
    assert_eq!(n_w, doc["n_analysed"].as_u64().unwrap() as usize);
    assert_eq!(n_ps - n_w, doc["n_trimmed"].as_u64().unwrap() as usize);
    let total: f64 = doc["weights"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["sum"].as_f64().unwrap())
        .sum();
    assert!((sum_w - total).abs() < 1e-9 * total);
}

#[test]
fn bad_input_is_refused_with_exit_2() {
    let data = obs("colon_iptw.csv").display().to_string();
    // treatment with more than two levels
    let mut a = base(&data);
    for s in ["extent", "--covariates", "age,sex"] {
        a.push(s.into());
    }
    let o = run(&a);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("must be 0/1"));
    // separation: a covariate that equals the treatment
    let mut rows = String::from("time,status,treat,x,z\n");
    for i in 0..40 {
        let t = i % 2;
        rows.push_str(&format!(
            "{},{},{t},{},{}\n",
            10 + i,
            i % 3 % 2,
            t as f64 * 5.0 + (i % 4) as f64 * 0.1,
            i % 5
        ));
    }
    let p = tmp("sep.csv", &rows);
    let mut a = base(&p.display().to_string());
    for s in ["treat", "--covariates", "x,z"] {
        a.push(s.into());
    }
    let o = run(&a);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("separation"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    // a covariate with one level
    let mut rows = String::from("time,status,treat,x,g\n");
    for i in 0..30 {
        rows.push_str(&format!(
            "{},{},{},{},a\n",
            10 + i,
            i % 2,
            i % 3 % 2,
            i as f64 * 0.7 % 5.0
        ));
    }
    let p = tmp("one.csv", &rows);
    let mut a = base(&p.display().to_string());
    for s in ["treat", "--covariates", "x,g", "--factor", "g"] {
        a.push(s.into());
    }
    let o = run(&a);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("one level"));
}

#[test]
fn extreme_scores_are_flagged() {
    // x nearly separates the arms: large weights, positivity warning
    let mut rows = String::from("time,status,treat,x\n");
    for i in 0..200 {
        let x = (i % 100) as f64 / 10.0;
        let t = if (i % 100) >= 50 {
            i % 37 != 0
        } else {
            i % 41 == 0
        };
        rows.push_str(&format!("{},{},{},{x}\n", 5 + i, i % 2, u8::from(t)));
    }
    let p = tmp("extreme.csv", &rows);
    let mut a = base(&p.display().to_string());
    for s in ["treat", "--covariates", "x", "--json"] {
        a.push(s.into());
    }
    let o = run(&a);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let doc: Value = serde_json::from_slice(&o.stdout).unwrap();
    let w: Vec<String> = doc["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_str().unwrap().to_string())
        .collect();
    assert!(w.iter().any(|s| s.starts_with("positivity")), "{w:?}");
    assert!(w.iter().any(|s| s.starts_with("extreme weights")), "{w:?}");
    assert!(String::from_utf8_lossy(&o.stderr).contains("warning: positivity"));
}
