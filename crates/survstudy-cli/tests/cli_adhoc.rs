//! End-to-end tests of `survstudy km | logrank | cox`: JSON against R's
//! reference outputs, exit codes and one-line error messages on bad input.

use serde_json::Value;
use std::path::PathBuf;
use std::process::Command;

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_survstudy"))
}

fn data(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../survkit/tests/data")
        .join(rel)
}

fn oracle(ds: &str, file: &str) -> Value {
    serde_json::from_str(&std::fs::read_to_string(data(&format!("{ds}/{file}"))).unwrap()).unwrap()
}

fn run_json(args: &[&str]) -> Value {
    let out = bin().args(args).arg("--json").output().unwrap();
    assert!(
        out.status.success(),
        "{:?}: {}",
        args,
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn rel_close(a: &Value, b: &Value, tol: f64) -> bool {
    match (a, b) {
        (Value::Null, Value::Null) => true,
        (Value::Number(x), Value::Number(y)) => {
            let (x, y) = (x.as_f64().unwrap(), y.as_f64().unwrap());
            (x - y).abs() <= tol * y.abs().max(1e-300) || (x - y).abs() < 1e-14
        }
        (Value::String(x), Value::String(y)) => x == y,
        _ => false,
    }
}

fn tmpfile(name: &str, content: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("survstudy-cli-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join(name);
    std::fs::write(&p, content).unwrap();
    p
}

#[test]
fn km_json_matches_r_by_group() {
    let lung = data("lung/lung.csv");
    let j = run_json(&[
        "km",
        "--data",
        lung.to_str().unwrap(),
        "--time",
        "time",
        "--event",
        "status=2",
        "--group",
        "sex",
        "--at",
        "90,180,365,730",
    ]);
    let r = oracle("lung", "km.json");
    let curves = r["by_group"]["sex"]["curves"].as_array().unwrap();
    let rev = oracle("lung", "reverse_km.json");
    let fu = rev["by_group"]["sex"]["curves"].as_array().unwrap();
    assert_eq!(j["n_dropped"], 0);
    for (k, (g, c)) in j["groups"]
        .as_array()
        .unwrap()
        .iter()
        .zip(curves)
        .enumerate()
    {
        assert!(rel_close(&g["follow_up_median"], &fu[k]["median"], 1e-12));
        assert!(rel_close(&g["follow_up_lower"], &fu[k]["lower"], 1e-12));
        assert!(rel_close(&g["follow_up_upper"], &fu[k]["upper"], 1e-12));
        assert_eq!(g["strata"], c["strata"]);
        for key in ["time", "n_risk", "n_event", "n_censor", "surv", "std_err"] {
            let (a, b) = (g[key].as_array().unwrap(), c[key].as_array().unwrap());
            assert_eq!(a.len(), b.len());
            assert!(a.iter().zip(b).all(|(x, y)| rel_close(x, y, 1e-9)), "{key}");
        }
        for (k, rk) in [("lower", "lower"), ("upper", "upper")] {
            let (a, b) = (
                g[k].as_array().unwrap(),
                c["ci"]["log"][rk].as_array().unwrap(),
            );
            assert!(a.iter().zip(b).all(|(x, y)| rel_close(x, y, 1e-9)), "{k}");
        }
        assert!(rel_close(
            &g["median"],
            &c["median"]["log"]["median"],
            1e-12
        ));
        assert!(rel_close(
            &g["median_lower"],
            &c["median"]["log"]["lower"],
            1e-12
        ));
        assert!(rel_close(
            &g["median_upper"],
            &c["median"]["log"]["upper"],
            1e-12
        ));
        assert!(rel_close(&g["rmean"], &c["rmean"]["common"]["rmean"], 1e-9));
        assert!(rel_close(&g["rmean_se"], &c["rmean"]["common"]["se"], 1e-9));
        let at = g["at"].as_array().unwrap();
        for (i, a) in at.iter().enumerate() {
            assert!(rel_close(&a["surv"], &c["landmarks"]["surv"][i], 1e-9));
            assert!(rel_close(
                &a["std_err"],
                &c["landmarks"]["std_err_surv"][i],
                1e-9
            ));
            assert_eq!(a["n_risk"], c["landmarks"]["n_risk"][i]);
        }
    }
}

#[test]
fn km_conf_type_log_log() {
    let aml = data("aml/aml.csv");
    let j = run_json(&[
        "km",
        "--data",
        aml.to_str().unwrap(),
        "--time",
        "time",
        "--event",
        "status",
        "--conf-type",
        "log-log",
    ]);
    let r = oracle("aml", "km.json");
    let c = &r["overall"]["curves"][0];
    let g = &j["groups"][0];
    assert!(rel_close(
        &g["median_lower"],
        &c["median"]["log_log"]["lower"],
        1e-12
    ));
    assert!(g["lower"]
        .as_array()
        .unwrap()
        .iter()
        .zip(c["ci"]["log_log"]["lower"].as_array().unwrap())
        .all(|(x, y)| rel_close(x, y, 1e-9)));
    assert_eq!(j["conventions"]["conf_type"], "log-log");
    // --conf-type overrides the default r preset: the options are custom
    // (before issue 10 this said "sas", re-derived from the CI type)
    assert_eq!(j["conventions"]["preset"], "custom");
}

#[test]
fn logrank_json_matches_r() {
    let lung = data("lung/lung.csv");
    let r = oracle("lung", "logrank.json");
    for t in r["tests"].as_array().unwrap() {
        let id = t["id"].as_str().unwrap();
        let rho = t["rho"].as_f64().unwrap().to_string();
        let mut args = vec![
            "logrank",
            "--data",
            lung.to_str().unwrap(),
            "--time",
            "time",
            "--event",
            "status=2",
            "--rho",
            &rho,
        ];
        let var = t["groups"][0]
            .as_str()
            .unwrap()
            .split('=')
            .next()
            .unwrap()
            .to_string();
        args.extend(["--group", &var]);
        if id.starts_with("stratified") {
            args.extend(["--strata", "ph.ecog"]);
        }
        let j = run_json(&args);
        assert!(rel_close(&j["chisq"], &t["chisq"], 1e-9), "{id}");
        assert!(rel_close(&j["p"], &t["p"], 1e-9), "{id}");
        assert_eq!(j["df"], t["df"]);
        assert_eq!(j["groups"], t["groups"]);
        for k in ["observed", "expected"] {
            assert!(
                j[k].as_array()
                    .unwrap()
                    .iter()
                    .zip(t[k].as_array().unwrap())
                    .all(|(x, y)| rel_close(x, y, 1e-9)),
                "{id} {k}"
            );
        }
    }
}

#[test]
fn cox_json_matches_r_with_factor_and_strata() {
    let lung = data("lung/lung.csv");
    let r = oracle("lung", "cox.json");
    let find = |id: &str| {
        r["models"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["id"] == id)
            .unwrap()
            .clone()
    };
    let j = run_json(&[
        "cox",
        "--data",
        lung.to_str().unwrap(),
        "--time",
        "time",
        "--event",
        "status=2",
        "--covariates",
        "age,sex,ph.ecog",
        "--factor",
        "ph.ecog",
    ]);
    let m = find("factor:efron");
    let terms = j["terms"].as_array().unwrap();
    assert_eq!(terms.len(), 5);
    for (i, t) in terms.iter().enumerate() {
        assert!(rel_close(&t["coef"], &m["coef"][i], 1e-6));
        assert!(rel_close(&t["se"], &m["se"][i], 1e-6));
        assert!(rel_close(&t["hr_upper"], &m["upper95"][i], 1e-6));
        assert!(rel_close(&t["p"], &m["p"][i], 1e-6));
    }
    assert_eq!(terms[2]["term"], "ph.ecog1");
    assert!(rel_close(&j["loglik"], &m["loglik"], 1e-10));
    assert!(rel_close(
        &j["score_test"]["stat"],
        &m["score_test"]["stat"],
        1e-6
    ));
    assert!(rel_close(&j["concordance"], &m["concordance"]["c"], 1e-9));
    assert_eq!(j["iterations"], m["iter"]);
    assert_eq!(j["converged"], true);
    assert_eq!(j["n_dropped"], 1);
    let j = run_json(&[
        "cox",
        "--data",
        lung.to_str().unwrap(),
        "--time",
        "time",
        "--event",
        "status=2",
        "--covariates",
        "age,ph.ecog",
        "--strata",
        "sex",
        "--ties",
        "breslow",
    ]);
    let m = find("strata:breslow");
    for (i, t) in j["terms"].as_array().unwrap().iter().enumerate() {
        assert!(rel_close(&t["coef"], &m["coef"][i], 1e-6));
    }
}

#[test]
fn cox_monotone_likelihood_warns() {
    let f = tmpfile(
        "mono.csv",
        "t,e,g\n1,1,1\n2,1,1\n3,1,1\n4,0,0\n5,0,0\n6,0,0\n7,1,0\n",
    );
    let out = bin()
        .args([
            "cox",
            "--data",
            f.to_str().unwrap(),
            "--time",
            "t",
            "--event",
            "e",
            "--covariates",
            "g",
            "--json",
        ])
        .output()
        .unwrap();
    assert!(out.status.success());
    let j: Value = serde_json::from_slice(&out.stdout).unwrap();
    let flagged = j["terms"][0]["possibly_infinite"] == true || j["converged"] == false;
    assert!(flagged, "{j}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("warning"));
}

fn expect_error(args: &[&str], needles: &[&str]) {
    let out = bin().args(args).output().unwrap();
    assert_eq!(out.status.code(), Some(2), "{args:?}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.trim().lines().count(), 1, "one-line message: {err}");
    for n in needles {
        assert!(err.contains(n), "{err} should mention {n}");
    }
}

#[test]
fn bad_input_exits_2_with_a_clear_message() {
    let good = tmpfile("good.csv", "t,e,g\n1,1,a\n2,0,b\n");
    let g = good.to_str().unwrap();
    expect_error(
        &["km", "--data", g, "--time", "nope", "--event", "e"],
        &["nope", "not found"],
    );
    let bad_t = tmpfile("badt.csv", "t,e\n1,1\nabc,0\n");
    expect_error(
        &[
            "km",
            "--data",
            bad_t.to_str().unwrap(),
            "--time",
            "t",
            "--event",
            "e",
        ],
        &["line 3", "'t'", "abc"],
    );
    let neg = tmpfile("neg.csv", "t,e\n1,1\n-2,0\n");
    expect_error(
        &[
            "km",
            "--data",
            neg.to_str().unwrap(),
            "--time",
            "t",
            "--event",
            "e",
        ],
        &["line 3", "'t'", "-2"],
    );
    // a blank line before the bad row still gives its true line number
    let blank = tmpfile("blank.csv", "t,e\n1,1\n\n-2,0\n");
    expect_error(
        &[
            "km",
            "--data",
            blank.to_str().unwrap(),
            "--time",
            "t",
            "--event",
            "e",
        ],
        &["line 4", "'t'", "-2"],
    );
    let ev = tmpfile("ev.csv", "t,e\n1,1\n2,7\n");
    expect_error(
        &[
            "km",
            "--data",
            ev.to_str().unwrap(),
            "--time",
            "t",
            "--event",
            "e",
        ],
        &["line 3", "'e'", "7"],
    );
    let empty = tmpfile("empty.csv", "");
    expect_error(
        &[
            "km",
            "--data",
            empty.to_str().unwrap(),
            "--time",
            "t",
            "--event",
            "e",
        ],
        &["empty"],
    );
    let header_only = tmpfile("header.csv", "t,e\n");
    expect_error(
        &[
            "logrank",
            "--data",
            header_only.to_str().unwrap(),
            "--time",
            "t",
            "--event",
            "e",
            "--group",
            "e",
        ],
        &["no data rows"],
    );
    expect_error(
        &[
            "km",
            "--data",
            "/nonexistent/file.csv",
            "--time",
            "t",
            "--event",
            "e",
        ],
        &["file.csv"],
    );
    expect_error(
        &[
            "cox",
            "--data",
            g,
            "--time",
            "t",
            "--event",
            "e",
            "--covariates",
            "g",
        ],
        &["line 2", "'g'", "--factor"],
    );
    expect_error(
        &[
            "cox",
            "--data",
            g,
            "--time",
            "t",
            "--event",
            "e",
            "--covariates",
            "g",
            "--ties",
            "bogus",
        ],
        &["bogus"],
    );
}

#[test]
fn missing_values_are_dropped_and_counted() {
    let f = tmpfile("na.csv", "t,e,g\n1,1,a\n2,NA,b\n,1,a\n4,0,\n5,1,b\n6,0,a\n");
    let j = run_json(&[
        "km",
        "--data",
        f.to_str().unwrap(),
        "--time",
        "t",
        "--event",
        "e",
        "--group",
        "g",
    ]);
    assert_eq!(j["n_dropped"], 3);
    assert_eq!(j["n_read"], 6);
    let n: u64 = j["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["n"].as_u64().unwrap())
        .sum();
    assert_eq!(n, 3);
}

#[test]
fn csv_dialects_crlf_bom_quotes() {
    let f = tmpfile(
        "dialect.csv",
        "\u{feff}\"Time\" , Status,grp\r\n3,yes,\"x, y\"\r\n5,no,z\r\n7,YES,\"x, y\"\r\n",
    );
    let j = run_json(&[
        "km",
        "--data",
        f.to_str().unwrap(),
        "--time",
        "time",
        "--event",
        "status",
        "--group",
        "grp",
    ]);
    let groups = j["groups"].as_array().unwrap();
    assert_eq!(groups[0]["group"], "x, y");
    assert_eq!(groups[0]["events"], 2);
}

#[test]
fn zph_json_matches_r_cox_zph() {
    let lung = data("lung/lung.csv");
    let r = oracle("lung", "coxzph.json");
    for (tr, idx) in [("km", "km"), ("identity", "identity")] {
        let t = r["tests"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["model"] == "multivariable:efron" && t["transform"] == idx)
            .unwrap();
        let j = run_json(&[
            "zph",
            "--data",
            lung.to_str().unwrap(),
            "--time",
            "time",
            "--event",
            "status=2",
            "--covariates",
            "age,sex,ph.ecog,ph.karno,wt.loss",
            "--transform",
            tr,
        ]);
        let tests = j["tests"].as_array().unwrap();
        assert_eq!(tests.len(), 6);
        assert_eq!(tests[5]["term"], "GLOBAL");
        for (i, x) in tests.iter().enumerate() {
            assert_eq!(x["term"], t["terms"][i]);
            assert!(
                rel_close(&x["chisq"], &t["chisq"][i], 1e-6),
                "{tr} {}",
                x["term"]
            );
            assert!(rel_close(&x["p"], &t["p"][i], 1e-6));
            assert_eq!(x["df"], t["df"][i]);
        }
    }
}

#[test]
fn cox_robust_and_exact_ties_match_r() {
    let lung = data("lung/lung.csv");
    let r = oracle("lung", "cox.json");
    let find = |id: &str| {
        r["models"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["id"] == id)
            .unwrap()
            .clone()
    };
    let m = find("multivariable:efron:robust");
    let j = run_json(&[
        "cox",
        "--data",
        lung.to_str().unwrap(),
        "--time",
        "time",
        "--event",
        "status=2",
        "--covariates",
        "age,sex,ph.ecog,ph.karno,wt.loss",
        "--robust",
    ]);
    for (i, t) in j["terms"].as_array().unwrap().iter().enumerate() {
        assert!(rel_close(&t["robust_se"], &m["robust_se"][i], 1e-6));
        assert!(rel_close(&t["p"], &m["p"][i], 1e-6));
    }
    assert!(rel_close(
        &j["wald_test"]["stat"],
        &m["wald_test"]["stat"],
        1e-6
    ));
    let m = find("univariable:sex:exact");
    let j = run_json(&[
        "cox",
        "--data",
        lung.to_str().unwrap(),
        "--time",
        "time",
        "--event",
        "status=2",
        "--covariates",
        "sex",
        "--ties",
        "exact",
    ]);
    assert!(rel_close(&j["terms"][0]["coef"], &m["coef"][0], 1e-6));
    assert!(rel_close(
        &j["score_test"]["stat"],
        &m["score_test"]["stat"],
        1e-6
    ));
    assert_eq!(j["conventions"]["ties"], "exact");
}

#[test]
fn nearly_equal_times_tie_across_groups_as_in_r() {
    // 0.1 + 0.2 written out in full is 0.30000000000000004; R's survfit
    // (timefix = TRUE) ties it with 0.3 of the other group
    let f = tmpfile(
        "timefix.csv",
        "t,e,g\n0.3,1,a\n0.30000000000000004,1,b\n0.5,0,a\n0.7,1,b\n1.1,1,a\n",
    );
    let v = run_json(&[
        "km",
        "--data",
        f.to_str().unwrap(),
        "--time",
        "t",
        "--event",
        "e",
        "--group",
        "g",
    ]);
    let b = &v["groups"][1];
    assert_eq!(b["group"], "b");
    assert_eq!(b["time"], serde_json::json!([0.3, 0.7]));
    // the log-rank test sees one death time at 0.3 with both groups at risk
    let lr = run_json(&[
        "logrank",
        "--data",
        f.to_str().unwrap(),
        "--time",
        "t",
        "--event",
        "e",
        "--group",
        "g",
    ]);
    let same = tmpfile(
        "timefix-exact.csv",
        "t,e,g\n0.3,1,a\n0.3,1,b\n0.5,0,a\n0.7,1,b\n1.1,1,a\n",
    );
    let lr_exact = run_json(&[
        "logrank",
        "--data",
        same.to_str().unwrap(),
        "--time",
        "t",
        "--event",
        "e",
        "--group",
        "g",
    ]);
    assert_eq!(lr["chisq"], lr_exact["chisq"]);
    assert_eq!(lr["expected"], lr_exact["expected"]);
}
