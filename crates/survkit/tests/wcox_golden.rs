//! Weighted and (start, stop] Cox models against R survival 3.5-3
//! (`tests/data/obs/lung_weighted.json`, `heart_counting.json`; `cox:*` cases).
//!
//! Tolerances: 1e-5 relative (abs 1e-8) for everything downstream of the
//! Newton–Raphson iteration (coef, SEs, z, p, CIs, Wald/LR): R stops at
//! |1 − ℓ_old/ℓ| < 1e-9, so its β can sit ~1e-6 relative off the maximiser;
//! 1e-9 for log-likelihoods; 1e-6 for the score tests at β = 0 and the
//! concordance (closed form given β); counts and iterations exactly.

mod obs_common;
use obs_common::*;
use survkit::cox::{cox_fit_rows, CoxOptions, CoxRows, Design, Ties, Variance};
use survkit::wkm::robust_default;

const IT: f64 = 1e-5;

fn run(file: &str) -> usize {
    let mut count = 0;
    for case in load_cases(file).iter().filter(|c| c["kind"] == "cox") {
        let id = case["id"].as_str().unwrap();
        let d = case_data(case);
        let design = Design::from_numeric(d.covariates.clone());
        let asked = flag(&case["cli"], "--robust").is_some();
        let w_pos: Option<Vec<f64>> = d.weight.clone();
        let robust = asked || robust_default(&d.event, w_pos.as_deref(), d.id.as_deref()).is_some();
        assert_eq!(
            robust,
            case["robust"].as_bool().unwrap(),
            "{id}: R's robust rule"
        );
        let ties = Ties::parse(&flag(&case["cli"], "--ties").unwrap()).unwrap();
        let opts = CoxOptions {
            ties,
            variance: if robust {
                Variance::Robust
            } else {
                Variance::ModelBased
            },
            ..Default::default()
        };
        let cluster = if robust { d.id.as_deref() } else { None };
        let fit = cox_fit_rows(
            &d.stop,
            &d.event,
            &design,
            None,
            cluster,
            &CoxRows {
                start: d.start.as_deref(),
                weight: d.weight.as_deref(),
            },
            &opts,
        )
        .unwrap();
        assert_eq!(fit.n as f64, case["n"].as_f64().unwrap(), "{id} n");
        assert_eq!(
            fit.nevent as f64,
            case["nevent"].as_f64().unwrap(),
            "{id} nevent"
        );
        assert_eq!(
            fit.iterations as f64,
            case["iterations"].as_f64().unwrap(),
            "{id} iterations"
        );
        check_vec(
            &format!("{id} means"),
            &fit.means,
            &case["means"],
            1e-9,
            1e-12,
        );
        for (t, r) in fit.terms.iter().zip(case["terms"].as_array().unwrap()) {
            assert_eq!(t.term, r["term"].as_str().unwrap());
            let tag = format!("{id} {}", t.term);
            check(&format!("{tag} coef"), t.coef, &r["coef"], IT, 1e-8);
            check(&format!("{tag} se"), t.se, &r["se"], IT, 1e-8);
            if robust {
                check(
                    &format!("{tag} robust_se"),
                    t.robust_se.unwrap(),
                    &r["robust_se"],
                    IT,
                    1e-8,
                );
            } else {
                assert!(t.robust_se.is_none() && r.get("robust_se").is_none_or(|v| v.is_null()));
            }
            check(&format!("{tag} z"), t.z, &r["z"], IT, 1e-8);
            check(&format!("{tag} p"), t.p, &r["p"], IT, 1e-12);
            check(&format!("{tag} hr"), t.hr, &r["hr"], IT, 1e-8);
            check(
                &format!("{tag} hr_lower"),
                t.hr_lower,
                &r["hr_lower"],
                IT,
                1e-8,
            );
            check(
                &format!("{tag} hr_upper"),
                t.hr_upper,
                &r["hr_upper"],
                IT,
                1e-8,
            );
        }
        check(
            &format!("{id} loglik_null"),
            fit.loglik_null,
            &case["loglik_null"],
            1e-9,
            0.0,
        );
        check(
            &format!("{id} loglik"),
            fit.loglik,
            &case["loglik"],
            1e-9,
            0.0,
        );
        for (name, got, tol) in [
            ("lr_test", Some(fit.lr_test), IT),
            ("wald_test", Some(fit.wald_test), IT),
            ("score_test", Some(fit.score_test), 1e-6),
            ("robust_score_test", fit.robust_score_test, 1e-6),
        ] {
            let r = &case[name];
            match got {
                Some(g) if !r.is_null() => {
                    check(&format!("{id} {name}"), g.stat, &r["stat"], tol, 1e-8);
                    assert_eq!(g.df as f64, r["df"].as_f64().unwrap());
                    check(&format!("{id} {name} p"), g.p, &r["p"], tol, 1e-12);
                }
                None => assert!(r.is_null(), "{id} {name} missing"),
                Some(_) => panic!("{id} {name}: R has none"),
            }
        }
        let cd = fit.concordance_detail.as_ref().unwrap();
        let rc = &case["concordance_counts"];
        for (k, v) in [
            ("concordant", cd.concordant),
            ("discordant", cd.discordant),
            ("tied_x", cd.tied_x),
            ("tied_y", cd.tied_y),
            ("tied_xy", cd.tied_xy),
        ] {
            check(&format!("{id} {k}"), v, &rc[k], 1e-6, 1e-9);
        }
        check(
            &format!("{id} concordance"),
            fit.concordance.unwrap(),
            &case["concordance"],
            1e-6,
            1e-9,
        );
        check(
            &format!("{id} concordance_se"),
            fit.concordance_se.unwrap(),
            &case["concordance_se"],
            1e-6,
            1e-9,
        );
        count += 1;
    }
    count
}

#[test]
fn weighted_cox_matches_r() {
    assert_eq!(run("lung_weighted.json"), 7);
}

#[test]
fn counting_process_cox_matches_r() {
    assert_eq!(run("heart_counting.json"), 6);
}
