//! Competing risks on mgus2 (PCM vs death without PCM, by sex) against
//! cmprsk 2.2-11 `cuminc()` / `timepoints()` and survival 3.5-3's
//! Aalen–Johansen `survfit()` point estimates (`tests/data/mgus2/cuminc.json`),
//! 1e-6 relative.

mod common;
use common::*;
use serde_json::Value;
use survkit::cif::{cuminc, CifOptions, CifResult};

const TOL: f64 = 1e-6;

/// (etime, event, sex index) exactly as gen/specs.R derives them:
/// `etime = ifelse(pstat == 1, ptime, futime)`,
/// `event = ifelse(pstat == 1, 1, 2 * death)`; sex F = 0, M = 1.
fn mgus2_competing() -> (Vec<f64>, Vec<u32>, Vec<usize>) {
    let f = Frame::load("mgus2");
    let pstat = f.num("pstat");
    let ptime = f.num("ptime");
    let futime = f.num("futime");
    let death = f.num("death");
    let sex = f.col("sex");
    let mut t = vec![];
    let mut s = vec![];
    let mut g = vec![];
    for i in 0..pstat.len() {
        let pcm = pstat[i].unwrap() == 1.0;
        t.push(if pcm {
            ptime[i].unwrap()
        } else {
            futime[i].unwrap()
        });
        s.push(if pcm { 1 } else { 2 * death[i].unwrap() as u32 });
        g.push(match sex[i].as_deref() {
            Some("F") => 0,
            Some("M") => 1,
            other => panic!("unexpected sex {other:?}"),
        });
    }
    (t, s, g)
}

fn fit() -> (CifResult, Value) {
    let r = load_json("mgus2", "cuminc.json");
    let times: Vec<f64> = r["cuminc"]["timepoints"]["times"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap())
        .collect();
    let (t, s, g) = mgus2_competing();
    let opts = CifOptions {
        times,
        ..CifOptions::default()
    };
    (cuminc(&t, &s, Some(&g), &opts).unwrap(), r)
}

fn label(group: usize) -> &'static str {
    ["F", "M"][group]
}

#[test]
fn curves_match_cmprsk() {
    let (fit, r) = fit();
    assert_eq!(fit.causes, vec![1, 2]);
    assert_eq!(fit.groups, vec![0, 1]);
    let rc = r["cuminc"]["curves"].as_array().unwrap();
    assert_eq!(fit.curves.len(), rc.len());
    for (c, rc) in fit.curves.iter().zip(rc) {
        let name = format!("{} {}", label(c.group), c.cause);
        assert_eq!(rc["name"].as_str().unwrap(), name);
        assert_vec(&format!("{name} time"), &c.time, &rc["time"], 0.0);
        assert_vec(&format!("{name} est"), &c.est, &rc["est"], TOL);
        assert_vec(&format!("{name} var"), &c.var, &rc["var"], TOL);
        // limits bracket the estimate wherever they are defined
        for k in 0..c.est.len() {
            if c.lower[k].is_finite() {
                assert!(c.lower[k] <= c.est[k] && c.est[k] <= c.upper[k]);
            }
        }
    }
}

#[test]
fn timepoints_match_cmprsk() {
    let (fit, r) = fit();
    let tp = &r["cuminc"]["timepoints"];
    let rows = tp["rows"].as_array().unwrap();
    assert_eq!(rows.len(), fit.curves.len());
    for (i, c) in fit.curves.iter().enumerate() {
        let name = format!("{} {}", label(c.group), c.cause);
        assert_eq!(rows[i].as_str().unwrap(), name);
        let est: Vec<f64> = c.at_times.iter().map(|a| opt(a.est)).collect();
        let var: Vec<f64> = c.at_times.iter().map(|a| opt(a.var)).collect();
        assert_vec(&format!("{name} tp est"), &est, &tp["est"][i], TOL);
        assert_vec(&format!("{name} tp var"), &var, &tp["var"][i], TOL);
        for a in &c.at_times {
            assert_eq!(c.value_at(a.time).map(|x| x.0), a.est);
        }
    }
}

#[test]
fn gray_test_matches_cmprsk() {
    let (fit, r) = fit();
    let g = &r["cuminc"]["gray_test"];
    assert_eq!(fit.gray_test.len(), 2);
    for (k, t) in fit.gray_test.iter().enumerate() {
        assert_eq!(g["cause"][k].as_str().unwrap(), t.cause.to_string());
        assert_close(
            &format!("cause {} stat", t.cause),
            t.stat,
            &g["stat"][k],
            TOL,
        );
        assert_close(&format!("cause {} p", t.cause), t.p, &g["p"][k], TOL);
        assert_close(
            &format!("cause {} df", t.cause),
            t.df as f64,
            &g["df"][k],
            0.0,
        );
    }
}

/// survfit's Aalen–Johansen `pstate` = (1 − F1 − F2, F1, F2) at every time of
/// the stratum and at the summary times. (survfit's std_err is the
/// infinitesimal-jackknife SE, a different estimator: not compared.)
#[test]
fn aalen_johansen_point_estimates_match_survfit() {
    let (fit, r) = fit();
    for (gi, rc) in r["aalen_johansen"]["curves"]
        .as_array()
        .unwrap()
        .iter()
        .enumerate()
    {
        assert_eq!(rc["strata"].as_str().unwrap(), format!("sex={}", label(gi)));
        let c1 = fit.curve(gi, 1).unwrap();
        let c2 = fit.curve(gi, 2).unwrap();
        let check = |tag: &str, times: &[f64], pstate: &Value| {
            for (k, &t) in times.iter().enumerate() {
                let f1 = c1.value_at(t).unwrap().0;
                let f2 = c2.value_at(t).unwrap().0;
                let row = [1.0 - f1 - f2, f1, f2];
                assert_vec(&format!("{tag} t={t}"), &row, &pstate[k], TOL);
            }
        };
        let times: Vec<f64> = rc["time"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_f64().unwrap())
            .collect();
        check(&format!("AJ {gi}"), &times, &rc["pstate"]);
        let at: Vec<f64> = rc["at_times"]["times"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_f64().unwrap())
            .collect();
        check(&format!("AJ {gi} at"), &at, &rc["at_times"]["pstate"]);
    }
}

#[test]
fn ungrouped_fit_has_no_tests_and_serialises() {
    let (t, s, _) = mgus2_competing();
    let fit = cuminc(&t, &s, None, &CifOptions::default()).unwrap();
    assert!(fit.gray_test.is_empty());
    assert_eq!(fit.curves.len(), 2);
    assert_eq!(fit.curves[0].n, t.len());
    let json = serde_json::to_string(&fit).unwrap();
    assert!(json.contains("\"curves\""));
}
