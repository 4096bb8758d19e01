//! The four exactness defects of issue 15, against R survival 3.5-3
//! (`tests/data/defects/defects.json`, made by `gen_defects.R` there):
//! the iteration cap, all-singleton strata, cox.zph identity with large
//! covariates and times (plus its invariance to rescaling), and the
//! concordance SE of a clustered fit. Tolerances: 1e-9 for quantities R
//! computes without iterating to convergence here (a capped fit is a fixed
//! number of Newton steps), 1e-5 for cox.zph at R's converged β̂, 1e-6 for
//! the concordance.

use serde_json::Value;
use std::path::PathBuf;
use survkit::cox::{cox_fit, cox_fit_with, CoxOptions, Design};
use survkit::zph::{cox_zph, Transform, ZphOptions};

fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/defects")
}

fn case(id: &str) -> Value {
    let v: Value =
        serde_json::from_str(&std::fs::read_to_string(dir().join("defects.json")).unwrap())
            .unwrap();
    v.as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == id)
        .unwrap()
        .clone()
}

fn csv(file: &str) -> (Vec<String>, Vec<Vec<f64>>) {
    let text = std::fs::read_to_string(dir().join(file)).unwrap();
    let mut lines = text.lines();
    let h = lines
        .next()
        .unwrap()
        .split(',')
        .map(|s| s.trim_matches('"').to_string())
        .collect();
    let rows = lines
        .filter(|l| !l.is_empty())
        .map(|l| l.split(',').map(|c| c.parse().unwrap()).collect())
        .collect();
    (h, rows)
}

fn col(h: &[String], rows: &[Vec<f64>], name: &str) -> Vec<f64> {
    let j = h.iter().position(|x| x == name).unwrap();
    rows.iter().map(|r| r[j]).collect()
}

fn rel(a: f64, b: f64, tol: f64) -> bool {
    (a - b).abs() <= tol * b.abs().max(1e-300) || (a - b).abs() <= 1e-14
}

fn lung() -> (Vec<f64>, Vec<bool>, Design, Vec<usize>) {
    let (h, rows) = csv("lung_cc.csv");
    let time = col(&h, &rows, "time");
    let ev = col(&h, &rows, "status").iter().map(|&s| s == 2.0).collect();
    let d = Design::from_numeric(
        ["age", "sex", "ph.karno"]
            .iter()
            .map(|c| (c.to_string(), col(&h, &rows, c)))
            .collect(),
    );
    let inst = col(&h, &rows, "inst").iter().map(|&v| v as usize).collect();
    (time, ev, d, inst)
}

#[test]
fn iteration_cap_reports_what_r_reports() {
    let (time, ev, d, _) = lung();
    for cap in 1..=3usize {
        let r = case(&format!("cap:{cap}"));
        let fit = cox_fit(
            &time,
            &ev,
            &d,
            None,
            &CoxOptions {
                max_iter: cap,
                ..Default::default()
            },
        )
        .unwrap();
        assert!(!fit.converged);
        assert!(fit.warnings.iter().any(|w| w.contains("did not converge")));
        assert_eq!(
            fit.iterations as f64,
            r["iter"].as_f64().unwrap(),
            "cap {cap} iter"
        );
        for (k, t) in fit.terms.iter().enumerate() {
            let b = r["coef"][k].as_f64().unwrap();
            assert!(
                rel(t.coef, b, 1e-9),
                "cap {cap} coef {k}: {} vs {b}",
                t.coef
            );
        }
        for i in 0..3 {
            for j in 0..3 {
                let v = r["var"][i][j].as_f64().unwrap();
                assert!(
                    rel(fit.var[i][j], v, 1e-9),
                    "cap {cap} var[{i}][{j}]: {} vs {v}",
                    fit.var[i][j]
                );
            }
        }
        let ll = r["loglik"][1].as_f64().unwrap();
        assert!(
            rel(fit.loglik, ll, 1e-12),
            "cap {cap} loglik {} vs {ll}",
            fit.loglik
        );
    }
}

#[test]
fn all_singleton_strata_match_r() {
    // R: β = 0, SE 0, HR 1; LR 0 (df 1, p 1), Wald NA (df 1), score 0 (df 1,
    // p 1), iter = 21, "Ran out of iterations"
    let (time, ev, d, _) = lung();
    let keep = 12;
    let d12 = Design::from_numeric(vec![("age".into(), d.columns[0][..keep].to_vec())]);
    let strata: Vec<usize> = (0..keep).collect();
    let r = case("singleton_strata");
    let fit = cox_fit(
        &time[..keep],
        &ev[..keep],
        &d12,
        Some(&strata),
        &CoxOptions::default(),
    )
    .unwrap();
    let t = &fit.terms[0];
    assert_eq!(t.coef, r["coef"][0].as_f64().unwrap());
    assert_eq!(t.se, r["se"][0].as_f64().unwrap());
    assert_eq!(t.hr, 1.0);
    assert_eq!(fit.iterations as f64, r["iter"].as_f64().unwrap());
    assert_eq!(fit.loglik, 0.0);
    assert_eq!(
        (fit.lr_test.stat, fit.lr_test.df, fit.lr_test.p),
        (0.0, 1, 1.0)
    );
    assert!(fit.wald_test.stat.is_nan() && fit.wald_test.df == 1 && fit.wald_test.p.is_nan());
    assert_eq!(
        (fit.score_test.stat, fit.score_test.df, fit.score_test.p),
        (0.0, 1, 1.0)
    );
    assert!(fit.warnings.iter().any(|w| w.contains("did not converge")));
}

fn zph_large(scale_t: f64, scale_x: f64) -> Vec<f64> {
    let (h, rows) = csv("zph_large.csv");
    let time: Vec<f64> = col(&h, &rows, "time").iter().map(|t| t * scale_t).collect();
    let ev: Vec<bool> = col(&h, &rows, "status").iter().map(|&s| s == 1.0).collect();
    let d = Design::from_numeric(vec![
        (
            "x".into(),
            col(&h, &rows, "x").iter().map(|v| v * scale_x).collect(),
        ),
        ("z".into(), col(&h, &rows, "z")),
    ]);
    let fit = cox_fit(&time, &ev, &d, None, &CoxOptions::default()).unwrap();
    let z = cox_zph(
        &time,
        &ev,
        &d,
        None,
        &fit,
        None,
        &ZphOptions {
            transform: Transform::Identity,
            ..Default::default()
        },
    )
    .unwrap();
    z.terms
        .iter()
        .chain(std::iter::once(&z.global))
        .map(|t| t.chisq)
        .collect()
}

#[test]
fn zph_identity_with_large_covariate_and_times_matches_r() {
    let r = case("zph_large");
    let got = zph_large(1.0, 1.0);
    for (k, g) in got.iter().enumerate() {
        let want = r["chisq"][k].as_f64().unwrap();
        assert!(rel(*g, want, 1e-5), "chisq {k}: {g} vs R {want}");
    }
}

#[test]
fn zph_identity_is_invariant_to_rescaling_time_and_covariate() {
    // the score test for g(t)·x is invariant to g → a·g and x → b·x
    let base = zph_large(1.0, 1.0);
    for (st, sx) in [(1.0 / 365.25, 1.0), (1.0, 1e-3), (1000.0, 100.0)] {
        let s = zph_large(st, sx);
        for (a, b) in s.iter().zip(&base) {
            assert!(rel(*a, *b, 1e-7), "scale ({st}, {sx}): {a} vs {b}");
        }
    }
}

#[test]
fn concordance_se_uses_the_cluster() {
    let (time, ev, d, inst) = lung();
    let r = case("concordance_cluster");
    let fit = cox_fit_with(&time, &ev, &d, None, Some(&inst), &CoxOptions::default()).unwrap();
    let c = r["concordance"].as_f64().unwrap();
    assert!(rel(fit.concordance.unwrap(), c, 1e-6));
    let se = r["se"].as_f64().unwrap();
    assert!(
        rel(fit.concordance_se.unwrap(), se, 1e-6),
        "{} vs R {se}",
        fit.concordance_se.unwrap()
    );
    let plain = cox_fit(&time, &ev, &d, None, &CoxOptions::default()).unwrap();
    let se0 = r["se_unclustered"].as_f64().unwrap();
    assert!(rel(plain.concordance_se.unwrap(), se0, 1e-6));
}
