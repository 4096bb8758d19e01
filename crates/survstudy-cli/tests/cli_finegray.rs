//! `survstudy finegray` against the oracle's `ref/public/mgus2/finegray.json`
//! (copied to `../survkit/tests/data/obs/mgus2_finegray.json`): each case's
//! `cli` line, `crr.terms[]` compared on all seven fields at 1e-5 relative
//! (abs 1e-8; p abs 1e-12), log pseudo-likelihoods at 1e-9. Plus the
//! refusals (exit 2) and an invariant: with no competing events and no
//! ties crr's estimate is the Cox partial-likelihood estimate.

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

fn close(a: f64, b: f64, tol: f64, abs: f64) -> bool {
    (a - b).abs() <= abs || (a - b).abs() <= tol * b.abs()
}

#[test]
fn finegray_cases_match_crr() {
    let v: Value =
        serde_json::from_str(&std::fs::read_to_string(obs("mgus2_finegray.json")).unwrap())
            .unwrap();
    let cases = v["cases"].as_array().unwrap();
    assert_eq!(cases.len(), 2);
    for case in cases {
        let id = case["id"].as_str().unwrap();
        let mut args: Vec<String> = case["cli"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap().to_string())
            .collect();
        let k = args.iter().position(|a| a == "--data").unwrap();
        args[k + 1] = obs("mgus2_cr.csv").display().to_string();
        args.push("--json".into());
        let out = run(&args);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let got: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(got["n"], case["n"], "{id} n");
        assert_eq!(got["n_dropped"], case["n_dropped"], "{id} n_dropped");
        assert_eq!(got["converged"], Value::Bool(true));
        let rt = case["crr"]["terms"].as_array().unwrap();
        let gt = got["terms"].as_array().unwrap();
        assert_eq!(rt.len(), gt.len());
        for (g, r) in gt.iter().zip(rt) {
            assert_eq!(g["term"], r["term"]);
            for f in ["coef", "se", "z", "p", "hr", "hr_lower", "hr_upper"] {
                let (a, b) = (g[f].as_f64().unwrap(), r[f].as_f64().unwrap());
                let abs = if f == "p" { 1e-12 } else { 1e-8 };
                assert!(
                    close(a, b, 1e-5, abs),
                    "{id} {} {f}: got {a}, crr has {b}",
                    r["term"]
                );
            }
        }
        for f in ["loglik", "loglik_null"] {
            let (a, b) = (got[f].as_f64().unwrap(), case["crr"][f].as_f64().unwrap());
            assert!(close(a, b, 1e-9, 0.0), "{id} {f}: got {a}, crr has {b}");
        }
    }
}

fn tmp(name: &str, text: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("survstudy-fg-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    let p = d.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

fn args(data: &std::path::Path, extra: &[&str]) -> Vec<String> {
    let mut a: Vec<String> = ["finegray", "--data"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    a.push(data.display().to_string());
    a.extend(extra.iter().map(|s| s.to_string()));
    a
}

#[test]
fn without_competing_events_it_is_the_cox_estimate() {
    // untied times, status 0/1 only: G weights never enter, so the
    // pseudo-likelihood is Cox's partial likelihood
    let mut rows = String::from("t,s,x\n");
    for i in 0..60 {
        let x = ((i * 37) % 11) as f64 / 3.0;
        let t = 1.0 + i as f64 + 0.37 * x * ((i % 7) as f64);
        rows.push_str(&format!("{t},{},{x}\n", u8::from(i % 3 != 0)));
    }
    let p = tmp("nocomp.csv", &rows);
    let fg = run(&args(
        &p,
        &[
            "--time",
            "t",
            "--status",
            "s",
            "--event-code",
            "1",
            "--covariates",
            "x",
            "--json",
        ],
    ));
    assert!(
        fg.status.success(),
        "{}",
        String::from_utf8_lossy(&fg.stderr)
    );
    let fg: Value = serde_json::from_slice(&fg.stdout).unwrap();
    let mut cox_args: Vec<String> = ["cox", "--data"].iter().map(|s| s.to_string()).collect();
    cox_args.push(p.display().to_string());
    for s in [
        "--time",
        "t",
        "--event",
        "s",
        "--covariates",
        "x",
        "--ties",
        "breslow",
        "--json",
    ] {
        cox_args.push(s.into());
    }
    let cx = run(&cox_args);
    assert!(cx.status.success());
    let cx: Value = serde_json::from_slice(&cx.stdout).unwrap();
    let (a, b) = (
        fg["terms"][0]["coef"].as_f64().unwrap(),
        cx["terms"][0]["coef"].as_f64().unwrap(),
    );
    // crr stops on its gradient rule (gtol 1e-6), coxph on a 1e-9 change in
    // loglik, so the maximisers agree to the looser of the two
    assert!(close(a, b, 1e-3, 1e-9), "finegray {a} vs cox {b}");
    let (a, b) = (
        fg["loglik"].as_f64().unwrap(),
        cx["loglik"].as_f64().unwrap(),
    );
    assert!(close(a, b, 1e-9, 0.0), "loglik {a} vs {b}");
}

#[test]
fn bad_input_exits_2() {
    let p = tmp("bad.csv", "t,s,x\n1,0,1\n2,1.5,2\n3,2,3\n");
    let o = run(&args(
        &p,
        &[
            "--time",
            "t",
            "--status",
            "s",
            "--event-code",
            "1",
            "--covariates",
            "x",
        ],
    ));
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("status must be an integer"));
    let p = tmp("none.csv", "t,s,x\n1,0,1\n2,2,2\n3,2,3\n");
    let o = run(&args(
        &p,
        &[
            "--time",
            "t",
            "--status",
            "s",
            "--event-code",
            "1",
            "--covariates",
            "x",
        ],
    ));
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("no row has"));
    let p = tmp("one.csv", "t,s,x,g\n1,0,1,a\n2,1,2,a\n3,2,3,a\n");
    let o = run(&args(
        &p,
        &[
            "--time",
            "t",
            "--status",
            "s",
            "--event-code",
            "1",
            "--covariates",
            "x,g",
            "--factor",
            "g",
        ],
    ));
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("one level"));
}
