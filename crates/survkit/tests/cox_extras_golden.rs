//! Cox exact ties and robust variance against R's `coxph`
//! (`tests/data/<ds>/cox.json`): every `*:exact` model (`ties = "exact"`) and
//! every `*:robust` model (`robust = TRUE`).
//!
//! Tolerance 1e-6 relative (β follow R's Newton iterates, see cox_golden.rs);
//! log-likelihoods 1e-10.

mod common;
use common::*;
use serde_json::Value;
use survkit::cox::{cox_fit, cox_fit_with, CoxFit, CoxOptions, Design, Ties, Variance};

const TOL: f64 = 1e-6;

fn coefs(fit: &CoxFit, f: &dyn Fn(&survkit::cox::CoxTerm) -> f64) -> Vec<f64> {
    fit.terms.iter().map(f).collect()
}

fn check_mat(tag: &str, a: &[Vec<f64>], m: &Value) {
    for i in 0..a.len() {
        for j in 0..a.len() {
            assert_close(&format!("{tag}[{i}][{j}]"), a[i][j], &m[i][j], TOL);
        }
    }
}

fn check_common(tag: &str, fit: &CoxFit, m: &Value) {
    let names: Vec<&str> = fit.terms.iter().map(|t| t.term.as_str()).collect();
    let rnames: Vec<&str> = m["terms"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert_eq!(names, rnames, "{tag} terms");
    assert_eq!(fit.n as f64, m["n"].as_f64().unwrap(), "{tag} n");
    assert_vec(
        &format!("{tag} coef"),
        &coefs(fit, &|t| t.coef),
        &m["coef"],
        TOL,
    );
    assert_vec(&format!("{tag} se"), &coefs(fit, &|t| t.se), &m["se"], TOL);
    assert_vec(
        &format!("{tag} hr"),
        &coefs(fit, &|t| t.hr),
        &m["exp_coef"],
        TOL,
    );
    assert_vec(&format!("{tag} z"), &coefs(fit, &|t| t.z), &m["z"], TOL);
    assert_vec(&format!("{tag} p"), &coefs(fit, &|t| t.p), &m["p"], TOL);
    assert_vec(
        &format!("{tag} lower95"),
        &coefs(fit, &|t| t.hr_lower),
        &m["lower95"],
        TOL,
    );
    assert_vec(
        &format!("{tag} upper95"),
        &coefs(fit, &|t| t.hr_upper),
        &m["upper95"],
        TOL,
    );
    assert_vec(&format!("{tag} means"), &fit.means, &m["means"], 1e-12);
    assert_close(
        &format!("{tag} loglik0"),
        fit.loglik_null,
        &m["loglik_null"],
        1e-10,
    );
    assert_close(&format!("{tag} loglik"), fit.loglik, &m["loglik"], 1e-10);
    for (name, t) in [
        ("lr", fit.lr_test),
        ("wald", fit.wald_test),
        ("score", fit.score_test),
    ] {
        let r = &m[format!("{name}_test")];
        assert_close(&format!("{tag} {name}"), t.stat, &r["stat"], TOL);
        assert_close(&format!("{tag} {name} p"), t.p, &r["p"], TOL);
        assert_eq!(t.df as f64, r["df"].as_f64().unwrap(), "{tag} {name} df");
    }
    assert_eq!(
        fit.iterations as f64,
        m["iter"].as_f64().unwrap(),
        "{tag} iter"
    );
    assert!(fit.converged, "{tag}");
    assert_eq!(
        fit.warnings.len(),
        m["warnings"].as_array().unwrap().len(),
        "{tag} warnings {:?}",
        fit.warnings
    );
}

#[test]
fn exact_ties_match_r() {
    let mut checked = 0;
    for ds in DATASETS {
        let r = load_json(ds, "cox.json");
        for m in r["models"].as_array().unwrap() {
            if m["ties"] != "exact" {
                continue;
            }
            let id = m["id"].as_str().unwrap();
            let tag = format!("{ds} {id}");
            let (t, e, d, s) = model_data(ds, m["formula"].as_str().unwrap());
            let opts = CoxOptions {
                ties: Ties::Exact,
                ..Default::default()
            };
            let fit = cox_fit(&t, &e, &d, s.as_deref(), &opts).unwrap();
            check_common(&tag, &fit, m);
            check_mat(&format!("{tag} var"), &fit.var, &m["var"]);
            assert!(fit.robust_se_all_none());
            checked += 1;
        }
    }
    assert_eq!(checked, 19);
}

trait RobustNone {
    fn robust_se_all_none(&self) -> bool;
}
impl RobustNone for CoxFit {
    fn robust_se_all_none(&self) -> bool {
        self.terms.iter().all(|t| t.robust_se.is_none())
            && self.robust_var.is_none()
            && self.robust_score_test.is_none()
    }
}

#[test]
fn lung_sex_exact_score_test_is_the_logrank_chisq() {
    let (t, e, d, _) = model_data("lung", "Surv(time, status == 2) ~ sex");
    let opts = CoxOptions {
        ties: Ties::Exact,
        ..Default::default()
    };
    let fit = cox_fit(&t, &e, &d, None, &opts).unwrap();
    assert!((fit.score_test.stat - 10.32674).abs() < 5e-6);
    let g: Vec<usize> = d.columns[0].iter().map(|&v| v as usize).collect();
    let lr = survkit::logrank::logrank(&t, &e, &g, None, &Default::default()).unwrap();
    assert!((fit.score_test.stat - lr.chisq).abs() < 1e-9 * lr.chisq);
}

#[test]
fn robust_variance_matches_r() {
    let mut checked = 0;
    for ds in DATASETS {
        let r = load_json(ds, "cox.json");
        for m in r["models"].as_array().unwrap() {
            if m["robust"] != Value::Bool(true) {
                continue;
            }
            let id = m["id"].as_str().unwrap();
            let tag = format!("{ds} {id}");
            assert_eq!(m["ties"], "efron");
            let (t, e, d, s) = model_data(ds, m["formula"].as_str().unwrap());
            let opts = CoxOptions {
                variance: Variance::Robust,
                ..Default::default()
            };
            let fit = cox_fit(&t, &e, &d, s.as_deref(), &opts).unwrap();
            assert_eq!(fit.variance, Variance::Robust);
            check_common(&tag, &fit, m);
            let rse: Vec<f64> = fit.terms.iter().map(|t| t.robust_se.unwrap()).collect();
            assert_vec(&format!("{tag} robust_se"), &rse, &m["robust_se"], TOL);
            check_mat(
                &format!("{tag} robust var"),
                fit.robust_var.as_ref().unwrap(),
                &m["var"],
            );
            check_mat(&format!("{tag} naive var"), &fit.var, &m["naive_var"]);
            let rs = fit.robust_score_test.unwrap();
            assert_close(
                &format!("{tag} robust score"),
                rs.stat,
                &m["robust_score_test"]["stat"],
                TOL,
            );
            assert_close(
                &format!("{tag} robust score p"),
                rs.p,
                &m["robust_score_test"]["p"],
                TOL,
            );
            assert_eq!(rs.df as f64, m["robust_score_test"]["df"].as_f64().unwrap());
            // one subject per cluster = robust = TRUE
            let ids: Vec<usize> = (0..t.len()).map(|i| 1000 + 7 * i).collect();
            let fc =
                cox_fit_with(&t, &e, &d, s.as_deref(), Some(&ids), &CoxOptions::default()).unwrap();
            assert_eq!(fc.n_clusters, Some(t.len()));
            for (a, b) in fc.terms.iter().zip(&fit.terms) {
                let (x, y) = (a.robust_se.unwrap(), b.robust_se.unwrap());
                assert!((x - y).abs() <= 1e-12 * y, "{tag} cluster = id");
            }
            checked += 1;
        }
    }
    assert_eq!(checked, 6);
}

#[test]
fn cluster_sums_dfbeta_within_cluster() {
    // Breslow: duplicating every subject (same cluster id) keeps β, doubles
    // each cluster's score residual and halves V_naive, so D = L·V and the
    // robust variance are unchanged.
    let (t, e, d, _) = model_data("ovarian", "Surv(futime, fustat == 1) ~ age + rx");
    let base = cox_fit(
        &t,
        &e,
        &d,
        None,
        &CoxOptions {
            ties: Ties::Breslow,
            variance: Variance::Robust,
            ..Default::default()
        },
    )
    .unwrap();
    let n = t.len();
    let t2: Vec<f64> = t.iter().chain(&t).copied().collect();
    let e2: Vec<bool> = e.iter().chain(&e).copied().collect();
    let d2 = Design {
        names: d.names.clone(),
        columns: d
            .columns
            .iter()
            .map(|c| c.iter().chain(c).copied().collect())
            .collect(),
    };
    let ids: Vec<usize> = (0..2 * n).map(|i| i % n).collect();
    let opts = CoxOptions {
        ties: Ties::Breslow,
        ..Default::default()
    };
    let fit = cox_fit_with(&t2, &e2, &d2, None, Some(&ids), &opts).unwrap();
    assert_eq!(fit.n_clusters, Some(n));
    for (a, b) in fit.terms.iter().zip(&base.terms) {
        assert!((a.coef - b.coef).abs() < 1e-6 * b.coef.abs());
        assert!((a.se * 2f64.sqrt() - b.se).abs() < 1e-6 * b.se);
        let (x, y) = (a.robust_se.unwrap(), b.robust_se.unwrap());
        assert!((x - y).abs() < 1e-6 * y, "{x} vs {y}");
    }
}

#[test]
fn exact_with_robust_is_refused_and_huge_exact_is_too_large() {
    let (t, e, d, _) = model_data("lung", "Surv(time, status == 2) ~ age");
    let opts = CoxOptions {
        ties: Ties::Exact,
        variance: Variance::Robust,
        ..Default::default()
    };
    assert!(cox_fit(&t, &e, &d, None, &opts).is_err());
    let opts = CoxOptions {
        ties: Ties::Exact,
        exact_max_work: 10,
        ..Default::default()
    };
    assert!(matches!(
        cox_fit(&t, &e, &d, None, &opts),
        Err(survkit::SurvError::TooLarge { .. })
    ));
    assert_eq!(Ties::parse("Exact"), Some(Ties::Exact));
}
