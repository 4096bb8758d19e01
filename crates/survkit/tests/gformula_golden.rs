//! `survkit::gformula` against riskRegression's `ate(estimator =
//! "GFORMULA")` recorded in the oracle's `ref/public/lung/adjusted.json`
//! (copied to `tests/data/obs/lung_adjusted.json`): the Efron fit
//! `coxph(Surv(time, status == 2) ~ sex + age + ph.ecog)` on the complete
//! cases of `lung_weighted.csv`; adjusted survival, influence-function SE
//! and Wald CI per sex and of the difference, 1e-5 relative (abs 1e-8):
//! everything depends on the iterated Cox fit. The same with a Breslow fit
//! (numbers from `tests/data/obs/gen/gformula_breslow.R`). Plus an invariance: shifting
//! a covariate (which changes the centring) leaves every number unchanged.

mod obs_common;
use obs_common::*;
use serde_json::Value;
use survkit::cox::{cox_fit, CoxOptions, Design};
use survkit::gformula::gformula;

fn close(a: f64, b: f64, what: &str) {
    assert!(
        (a - b).abs() <= 1e-8 || (a - b).abs() <= 1e-5 * b.abs(),
        "{what}: got {a}, ate has {b}"
    );
}

fn vals(v: &Value) -> Vec<f64> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap())
        .collect()
}

fn lung(shift_age: f64) -> (Vec<f64>, Vec<bool>, Design) {
    let csv = Csv::load("lung_weighted.csv");
    let (t, s, sex, age, ecog) = (
        csv.col("time"),
        csv.col("status"),
        csv.col("sex"),
        csv.col("age"),
        csv.col("ph.ecog"),
    );
    let keep: Vec<usize> = (0..t.len())
        .filter(|&i| {
            [t[i], s[i], sex[i], age[i], ecog[i]]
                .iter()
                .all(|v| v.is_some())
        })
        .collect();
    let time = keep.iter().map(|&i| t[i].unwrap()).collect();
    let event = keep.iter().map(|&i| s[i] == Some(2.0)).collect();
    let d = Design::from_numeric(vec![
        (
            "sex2".into(),
            keep.iter()
                .map(|&i| f64::from(sex[i] == Some(2.0)))
                .collect(),
        ),
        (
            "age".into(),
            keep.iter().map(|&i| age[i].unwrap() + shift_age).collect(),
        ),
        (
            "ph.ecog".into(),
            keep.iter().map(|&i| ecog[i].unwrap()).collect(),
        ),
    ]);
    (time, event, d)
}

#[test]
fn lung_matches_ate_gformula() {
    let case = &load_cases("lung_adjusted.json")[0];
    let at = vals(&case["at"]);
    let (time, event, d) = lung(0.0);
    assert_eq!(time.len(), 227);
    let fit = cox_fit(&time, &event, &d, None, &CoxOptions::default()).unwrap();
    let g = gformula(&time, &event, &d, 1, &fit, &at, 0.95).unwrap();
    let rr = case["riskRegression"]["estimators"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["estimator"] == "GFORMULA")
        .unwrap();
    assert_eq!(g.curves.len(), rr["levels"].as_array().unwrap().len());
    for (c, r) in g.curves.iter().zip(rr["levels"].as_array().unwrap()) {
        for k in 0..at.len() {
            close(c.surv[k], vals(&r["surv"])[k], "surv");
            close(c.se[k], vals(&r["surv_se"])[k], "se");
            close(c.lower[k], vals(&r["surv_lower"])[k], "lower");
            close(c.upper[k], vals(&r["surv_upper"])[k], "upper");
        }
    }
    let dr = &rr["difference"][0];
    let dd = &g.differences[0];
    for k in 0..at.len() {
        close(dd.estimate[k], vals(&dr["surv_diff"])[k], "diff");
        close(dd.se[k], vals(&dr["risk_diff_se"])[k], "diff se");
        close(dd.lower[k], vals(&dr["surv_diff_lower"])[k], "diff lower");
        close(dd.upper[k], vals(&dr["surv_diff_upper"])[k], "diff upper");
        close(dd.p[k], vals(&dr["risk_diff_p"])[k], "diff p");
    }
    // after the last follow-up time: estimate kept, SE not defined (R NA)
    let late = gformula(&time, &event, &d, 1, &fit, &[2000.0], 0.95).unwrap();
    assert!(late.curves[0].surv[0].is_finite() && late.curves[0].se[0].is_nan());
}

#[test]
fn centring_does_not_matter() {
    let at = [180.0, 365.0, 730.0];
    let (time, event, d) = lung(0.0);
    let fit = cox_fit(&time, &event, &d, None, &CoxOptions::default()).unwrap();
    let a = gformula(&time, &event, &d, 1, &fit, &at, 0.95).unwrap();
    let (time, event, d) = lung(1000.0);
    let fit = cox_fit(&time, &event, &d, None, &CoxOptions::default()).unwrap();
    let b = gformula(&time, &event, &d, 1, &fit, &at, 0.95).unwrap();
    for (x, y) in a.curves.iter().zip(&b.curves) {
        for k in 0..at.len() {
            assert!((x.surv[k] - y.surv[k]).abs() < 1e-9);
            assert!((x.se[k] / y.se[k] - 1.0).abs() < 1e-7);
        }
    }
}

#[test]
fn breslow_fit_matches_ate() {
    // risk = 1 - S; ate's se (risk and survival share it); diffRisk p
    let risk = [
        [0.325030595286372, 0.661931506197993, 0.914484880943650],
        [0.204693659923455, 0.474731478260130, 0.777388116378058],
    ];
    let se = [
        [0.0363946819260489, 0.0404205800336323, 0.0257855431840276],
        [0.0290393551186948, 0.0460573849848833, 0.0444923287768098],
    ];
    let diff_se = [0.0340175507412624, 0.0511210962578939, 0.0409795207268739];
    let diff_p = [
        0.000403940947938830,
        0.000250357600925177,
        0.000821359638764285,
    ];
    let at = [180.0, 365.0, 730.0];
    let (time, event, d) = lung(0.0);
    let opts = CoxOptions {
        ties: survkit::cox::Ties::Breslow,
        ..Default::default()
    };
    let fit = cox_fit(&time, &event, &d, None, &opts).unwrap();
    let g = gformula(&time, &event, &d, 1, &fit, &at, 0.95).unwrap();
    for a in 0..2 {
        for k in 0..3 {
            close(g.curves[a].surv[k], 1.0 - risk[a][k], "breslow surv");
            close(g.curves[a].se[k], se[a][k], "breslow se");
        }
    }
    for k in 0..3 {
        close(g.differences[0].se[k], diff_se[k], "breslow diff se");
        close(g.differences[0].p[k], diff_p[k], "breslow diff p");
    }
}

#[test]
fn other_confidence_level_uses_its_z_around_rs_standard_errors() {
    // ate(..., level = 0.9) gives the same SEs and Wald limits with
    // qnorm(0.95) = 1.6448536269514722 instead of 1.96
    let case = &load_cases("lung_adjusted.json")[0];
    let at = vals(&case["at"]);
    let (time, event, d) = lung(0.0);
    let fit = cox_fit(&time, &event, &d, None, &CoxOptions::default()).unwrap();
    let g = gformula(&time, &event, &d, 1, &fit, &at, 0.90).unwrap();
    let rr = case["riskRegression"]["estimators"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["estimator"] == "GFORMULA")
        .unwrap();
    let z = 1.6448536269514722;
    assert_eq!(g.curves.len(), rr["levels"].as_array().unwrap().len());
    for (c, r) in g.curves.iter().zip(rr["levels"].as_array().unwrap()) {
        for k in 0..at.len() {
            let (s, se) = (vals(&r["surv"])[k], vals(&r["surv_se"])[k]);
            close(c.se[k], se, "se");
            close(c.lower[k], (s - z * se).clamp(0.0, 1.0), "lower at 0.90");
            close(c.upper[k], (s + z * se).clamp(0.0, 1.0), "upper at 0.90");
        }
    }
}
