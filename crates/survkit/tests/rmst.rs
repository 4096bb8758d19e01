//! RMST (survRM2::rmst2 conventions): per-arm values against R survival's
//! `rmean = tau` for every by-group KM curve (`tests/data/<ds>/km.json`, whose
//! Greenwood-plug-in se is the same formula survRM2 uses), a hand-computed
//! two-arm case, the τ rule, and arm-swap symmetry.

mod common;
use common::*;
use serde_json::Value;
use survkit::dist::two_sided_p;
use survkit::rmst::{rmst1, rmst2, rmst2_default_tau, rmst2_max_tau, Rmst2Result};
use survkit::SurvError;

const TOL: f64 = 1e-6;

fn level_of(c: &Value) -> String {
    match c.get("level") {
        Some(l) => l.as_str().unwrap().to_string(),
        None => c["strata"]
            .as_str()
            .unwrap()
            .split_once('=')
            .unwrap()
            .1
            .to_string(),
    }
}

#[test]
fn per_group_rmst_matches_r_rmean_tau() {
    let mut two_arm_checked = 0;
    for ds in DATASETS {
        let f = Frame::load(ds);
        let (time, event) = surv_data(&f, ds);
        let r = load_json(ds, "km.json");
        for (var, block) in r["by_group"].as_object().unwrap() {
            let g = f.col(var);
            let curves = block["curves"].as_array().unwrap();
            let levels: Vec<String> = curves.iter().map(level_of).collect();
            let tau = curves[0]["rmean"]["tau"]["end_time"].as_f64().unwrap();
            for (c, level) in curves.iter().zip(&levels) {
                let (t, e): (Vec<f64>, Vec<bool>) = (0..time.len())
                    .filter(|&i| g[i].as_deref() == Some(level.as_str()))
                    .map(|i| (time[i], event[i]))
                    .unzip();
                let a = rmst1(&t, &e, tau, 0.95).unwrap();
                let tag = format!("{ds} {var}={level}");
                let rm = &c["rmean"]["tau"];
                assert_close(&format!("{tag} rmst"), a.rmst, &rm["rmean"], TOL);
                assert_close(&format!("{tag} se"), a.se, &rm["se"], TOL);
                assert!((a.rmtl - (tau - a.rmst)).abs() < 1e-12);
            }
            if levels.len() == 2 {
                // rows with a missing group are dropped, as R's na.omit does
                let mut t = vec![];
                let mut e = vec![];
                let mut arm = vec![];
                for i in 0..time.len() {
                    if let Some(k) = levels.iter().position(|l| g[i].as_deref() == Some(l)) {
                        t.push(time[i]);
                        e.push(event[i]);
                        arm.push(k);
                    }
                }
                let res = rmst2(&t, &e, &arm, tau, 0.95).unwrap();
                for (k, a) in [res.arm0, res.arm1].iter().enumerate() {
                    let rm = &curves[k]["rmean"]["tau"];
                    let tag = format!("{ds} {var} arm{k}");
                    assert_close(&format!("{tag} rmst"), a.rmst, &rm["rmean"], TOL);
                    assert_close(&format!("{tag} se"), a.se, &rm["se"], TOL);
                }
                two_arm_checked += 1;
            }
        }
    }
    // aml x, colon sex/node4, lung sex, mgus2 sex, ovarian x3, veteran trt
    assert_eq!(two_arm_checked, 9);
}

/// Arm 0: 1, 2+, 3, 4+;  arm 1: 2, 4, 5+, 6+;  τ = 4.
fn tiny() -> (Vec<f64>, Vec<bool>, Vec<usize>) {
    (
        vec![1.0, 2.0, 3.0, 4.0, 2.0, 4.0, 5.0, 6.0],
        vec![true, false, true, false, true, true, false, false],
        vec![0, 0, 0, 0, 1, 1, 1, 1],
    )
}

#[test]
fn hand_computed_two_arm_case() {
    let (t, e, a) = tiny();
    // both arms end censored: τ limit = min(4, 6)
    assert_eq!(rmst2_max_tau(&t, &e, &a).unwrap(), 4.0);
    assert_eq!(rmst2_default_tau(&t, &e, &a).unwrap(), 4.0);
    let r = rmst2(&t, &e, &a, 4.0, 0.95).unwrap();
    let z = 1.959963984540054;
    // arm 0: S = 1 on [0,1), 3/4 on [1,3), 3/8 on [3,4]
    let r0 = 1.0 + 2.0 * 0.75 + 0.375;
    // Var: A(1) = 1.875 with d/(n(n-d)) = 1/12; A(3) = 0.375 with 1/2
    let v0 = 1.875f64.powi(2) / 12.0 + 0.375f64.powi(2) / 2.0;
    // arm 1: S = 1 on [0,2), 3/4 on [2,4); A(2) = 1.5 with 1/12; A(4) = 0
    let r1 = 2.0 + 2.0 * 0.75;
    let v1 = 1.5f64.powi(2) / 12.0;
    let close = |a: f64, b: f64, what: &str| {
        assert!(
            (a - b).abs() <= 1e-12 * b.abs().max(1.0),
            "{what}: {a} vs {b}"
        )
    };
    close(r.arm0.rmst, r0, "rmst0");
    close(r.arm0.var, v0, "var0");
    close(r.arm1.rmst, r1, "rmst1");
    close(r.arm1.var, v1, "var1");
    close(r.arm0.lower, r0 - z * v0.sqrt(), "lower0");
    close(r.arm1.upper, r1 + z * v1.sqrt(), "upper1");
    close(r.arm0.rmtl, 4.0 - r0, "rmtl0");
    close(r.arm0.rmtl_lower, 4.0 - r.arm0.upper, "rmtl0 lower");
    // difference
    let se = (v0 + v1).sqrt();
    close(r.difference.estimate, r1 - r0, "diff");
    close(r.difference.se, se, "diff se");
    close(r.difference.lower, r1 - r0 - z * se, "diff lower");
    close(r.difference.upper, r1 - r0 + z * se, "diff upper");
    close(r.difference.p, 0.39970292178238265, "diff p");
    // ratio on the log scale
    let lr = (r1 / r0).ln();
    let sl = (v1 / (r1 * r1) + v0 / (r0 * r0)).sqrt();
    close(r.ratio.estimate, r1 / r0, "ratio");
    close(r.ratio.se, sl, "log ratio se");
    close(r.ratio.lower, (lr - z * sl).exp(), "ratio lower");
    close(r.ratio.upper, (lr + z * sl).exp(), "ratio upper");
    close(r.ratio.p, 0.4190413189953835, "ratio p");
    close(r.ratio.p, two_sided_p(lr / sl), "ratio p formula");
    // RMTL ratio: (4 − 3.5)/(4 − 2.875)
    let (l1, l0) = (4.0 - r1, 4.0 - r0);
    close(r.rmtl_ratio.estimate, l1 / l0, "rmtl ratio");
    close(
        r.rmtl_ratio.se,
        (v1 / (l1 * l1) + v0 / (l0 * l0)).sqrt(),
        "rmtl se",
    );
    close(r.rmtl_ratio.p, 0.4258474211120976, "rmtl p");
    // beyond the limit: error, never a panic
    assert!(matches!(
        rmst2(&t, &e, &a, 4.5, 0.95),
        Err(SurvError::InvalidOption { name: "tau", .. })
    ));
}

fn assert_swapped(a: &Rmst2Result, b: &Rmst2Result) {
    let c = |x: f64, y: f64| assert!((x - y).abs() <= 1e-12 * y.abs().max(1.0), "{x} vs {y}");
    c(a.arm0.rmst, b.arm1.rmst);
    c(a.arm1.se, b.arm0.se);
    c(a.difference.estimate, -b.difference.estimate);
    c(a.difference.se, b.difference.se);
    c(a.difference.lower, -b.difference.upper);
    c(a.difference.p, b.difference.p);
    c(a.ratio.estimate, 1.0 / b.ratio.estimate);
    c(a.ratio.lower, 1.0 / b.ratio.upper);
    c(a.ratio.upper, 1.0 / b.ratio.lower);
    c(a.ratio.se, b.ratio.se);
    c(a.ratio.p, b.ratio.p);
    c(a.rmtl_ratio.estimate, 1.0 / b.rmtl_ratio.estimate);
    c(a.rmtl_ratio.p, b.rmtl_ratio.p);
}

#[test]
fn swapping_arms_negates_difference_and_inverts_ratio() {
    let (t, e, a) = tiny();
    let flip: Vec<usize> = a.iter().map(|x| 1 - x).collect();
    assert_swapped(
        &rmst2(&t, &e, &a, 4.0, 0.95).unwrap(),
        &rmst2(&t, &e, &flip, 4.0, 0.95).unwrap(),
    );
    // lung by sex, τ = 730 (1 = male -> arm 0, 2 = female -> arm 1)
    let f = Frame::load("lung");
    let (time, event) = surv_data(&f, "lung");
    let arm: Vec<usize> = f
        .num("sex")
        .iter()
        .map(|s| if s.unwrap() == 2.0 { 1 } else { 0 })
        .collect();
    let flip: Vec<usize> = arm.iter().map(|x| 1 - x).collect();
    let x = rmst2(&time, &event, &arm, 730.0, 0.95).unwrap();
    let y = rmst2(&time, &event, &flip, 730.0, 0.95).unwrap();
    assert_swapped(&x, &y);
    assert!(x.difference.estimate > 0.0); // women live longer in lung
    let json = serde_json::to_string(&x).unwrap();
    assert!(json.contains("\"rmtl_ratio\""));
}
