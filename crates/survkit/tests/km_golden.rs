//! Kaplan–Meier, quantiles, restricted mean, landmarks and reverse KM against
//! R survival 3.5-3 (`tests/data/<ds>/km.json`, `reverse_km.json`), 1e-6 relative.

mod common;
use common::*;
use serde_json::Value;
use survkit::km::{kaplan_meier, reverse_km, ConfType, KmFit, KmOptions};

const TOL: f64 = 1e-6;

fn check_curve(tag: &str, time: &[f64], event: &[bool], r: &Value, common_end: f64) {
    let ctypes = [
        ("log", ConfType::Log),
        ("log_log", ConfType::LogLog),
        ("plain", ConfType::Plain),
    ];
    let base = kaplan_meier(time, event, &KmOptions::default()).unwrap();
    assert_eq!(base.n as f64, r["n"].as_f64().unwrap(), "{tag} n");
    assert_eq!(
        base.n_event_total as f64,
        r["n_event_total"].as_f64().unwrap()
    );
    let f = |v: &[u64]| v.iter().map(|&x| x as f64).collect::<Vec<_>>();
    assert_vec(&format!("{tag} time"), &base.time, &r["time"], 0.0);
    assert_vec(
        &format!("{tag} n_risk"),
        &f(&base.n_risk),
        &r["n_risk"],
        0.0,
    );
    assert_vec(
        &format!("{tag} n_event"),
        &f(&base.n_event),
        &r["n_event"],
        0.0,
    );
    assert_vec(
        &format!("{tag} n_censor"),
        &f(&base.n_censor),
        &r["n_censor"],
        0.0,
    );
    assert_vec(&format!("{tag} surv"), &base.surv, &r["surv"], TOL);
    assert_vec(&format!("{tag} std_err"), &base.std_err, &r["std_err"], TOL);
    assert_vec(&format!("{tag} cumhaz"), &base.cumhaz, &r["cumhaz"], TOL);
    assert_vec(
        &format!("{tag} std_chaz"),
        &base.std_chaz,
        &r["std_chaz"],
        TOL,
    );
    for (key, ct) in ctypes {
        let fit: KmFit = kaplan_meier(
            time,
            event,
            &KmOptions {
                conf_type: ct,
                conf_level: 0.95,
                ..Default::default()
            },
        )
        .unwrap();
        let t = format!("{tag} {key}");
        assert_vec(
            &format!("{t} lower"),
            &fit.lower,
            &r["ci"][key]["lower"],
            TOL,
        );
        assert_vec(
            &format!("{t} upper"),
            &fit.upper,
            &r["ci"][key]["upper"],
            TOL,
        );
        let m = fit.median();
        let rm = &r["median"][key];
        assert_close(&format!("{t} median"), opt(m.estimate), &rm["median"], TOL);
        assert_close(
            &format!("{t} median lower"),
            opt(m.lower),
            &rm["lower"],
            TOL,
        );
        assert_close(
            &format!("{t} median upper"),
            opt(m.upper),
            &rm["upper"],
            TOL,
        );
        let rq = &r["quantiles"][key];
        for (i, p) in rq["probs"].as_array().unwrap().iter().enumerate() {
            let q = fit.quantile(p.as_f64().unwrap());
            assert_close(
                &format!("{t} q{p}"),
                opt(q.estimate),
                &rq["quantile"][i],
                TOL,
            );
            assert_close(
                &format!("{t} q{p} lower"),
                opt(q.lower),
                &rq["lower"][i],
                TOL,
            );
            assert_close(
                &format!("{t} q{p} upper"),
                opt(q.upper),
                &rq["upper"][i],
                TOL,
            );
        }
        if let Some(lm) = r.get("landmarks") {
            let times: Vec<f64> = lm["times"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_f64().unwrap())
                .collect();
            let at = fit.surv_at(&times);
            let g = |f: &dyn Fn(&survkit::km::SurvAt) -> f64| at.iter().map(f).collect::<Vec<_>>();
            assert_vec(
                &format!("{t} lm lower"),
                &g(&|a| a.lower),
                &lm["ci"][key]["lower"],
                TOL,
            );
            assert_vec(
                &format!("{t} lm upper"),
                &g(&|a| a.upper),
                &lm["ci"][key]["upper"],
                TOL,
            );
            if ct == ConfType::Log {
                assert_vec(
                    &format!("{t} lm n_risk"),
                    &g(&|a| a.n_risk as f64),
                    &lm["n_risk"],
                    0.0,
                );
                assert_vec(
                    &format!("{t} lm n_event"),
                    &g(&|a| a.n_event as f64),
                    &lm["n_event"],
                    0.0,
                );
                assert_vec(
                    &format!("{t} lm n_censor"),
                    &g(&|a| a.n_censor as f64),
                    &lm["n_censor"],
                    0.0,
                );
                assert_vec(&format!("{t} lm surv"), &g(&|a| a.surv), &lm["surv"], TOL);
                assert_vec(
                    &format!("{t} lm se"),
                    &g(&|a| a.std_err),
                    &lm["std_err_surv"],
                    TOL,
                );
                assert_vec(
                    &format!("{t} lm cumhaz"),
                    &g(&|a| a.cumhaz),
                    &lm["cumhaz"],
                    TOL,
                );
                assert_vec(
                    &format!("{t} lm std_chaz"),
                    &g(&|a| a.std_chaz),
                    &lm["std_chaz"],
                    TOL,
                );
            }
        }
    }
    if let Some(rm) = r.get("rmean") {
        for (key, end) in [
            ("common", common_end),
            ("individual", base.last_time()),
            ("tau", rm["tau"]["end_time"].as_f64().unwrap_or(f64::NAN)),
        ] {
            let x = base.rmean(end);
            assert_close(
                &format!("{tag} rmean {key} end"),
                x.end_time,
                &rm[key]["end_time"],
                0.0,
            );
            assert_close(
                &format!("{tag} rmean {key}"),
                x.rmean,
                &rm[key]["rmean"],
                TOL,
            );
            assert_close(&format!("{tag} rmean {key} se"), x.se, &rm[key]["se"], TOL);
        }
    }
}

fn split_by_group(f: &Frame, ds: &str, var: &str, level: &str) -> (Vec<f64>, Vec<bool>) {
    let (time, event) = surv_data(f, ds);
    let g = f.col(var);
    let mut t = vec![];
    let mut e = vec![];
    for i in 0..time.len() {
        if g[i].as_deref() == Some(level) {
            t.push(time[i]);
            e.push(event[i]);
        }
    }
    (t, e)
}

fn run(file: &str, reverse: bool) {
    for ds in DATASETS {
        let f = Frame::load(ds);
        let r = load_json(ds, file);
        let (time, event) = surv_data(&f, ds);
        let (tt, ee) = if reverse {
            (time.clone(), event.iter().map(|e| !e).collect::<Vec<_>>())
        } else {
            (time.clone(), event.clone())
        };
        let ov = &r["overall"]["curves"][0];
        if reverse {
            let fit = reverse_km(&time, &event, &KmOptions::default()).unwrap();
            check_reverse(&format!("{ds} overall"), &fit, ov);
        } else {
            let last = tt.iter().cloned().fold(0.0, f64::max);
            check_curve(&format!("{ds} overall"), &tt, &ee, ov, last);
        }
        for (var, block) in r["by_group"].as_object().unwrap() {
            let curves = block["curves"].as_array().unwrap();
            let mut groups = vec![];
            for c in curves {
                let level = match c.get("level") {
                    Some(l) => l.as_str().unwrap().to_string(),
                    None => c["strata"]
                        .as_str()
                        .unwrap()
                        .split_once('=')
                        .unwrap()
                        .1
                        .to_string(),
                };
                groups.push((level.clone(), split_by_group(&f, ds, var, &level)));
            }
            let common_end = groups
                .iter()
                .flat_map(|(_, (t, _))| t.iter().cloned())
                .fold(0.0, f64::max);
            for (c, (level, (t, e))) in curves.iter().zip(groups) {
                let tag = format!("{ds} {var}={level}");
                if reverse {
                    let fit = reverse_km(&t, &e, &KmOptions::default()).unwrap();
                    check_reverse(&tag, &fit, c);
                } else {
                    check_curve(&tag, &t, &e, c, common_end);
                }
            }
        }
    }
}

fn check_reverse(tag: &str, fit: &KmFit, r: &Value) {
    let m = fit.median();
    assert_close(
        &format!("{tag} fu median"),
        opt(m.estimate),
        &r["median"],
        TOL,
    );
    assert_close(&format!("{tag} fu lower"), opt(m.lower), &r["lower"], TOL);
    assert_close(&format!("{tag} fu upper"), opt(m.upper), &r["upper"], TOL);
    assert_vec(&format!("{tag} fu surv"), &fit.surv, &r["surv"], TOL);
    let rq = &r["quantiles"];
    for (i, p) in rq["probs"].as_array().unwrap().iter().enumerate() {
        let q = fit.quantile(p.as_f64().unwrap());
        assert_close(
            &format!("{tag} fu q{p}"),
            opt(q.estimate),
            &rq["quantile"][i],
            TOL,
        );
        assert_close(
            &format!("{tag} fu q{p} lo"),
            opt(q.lower),
            &rq["lower"][i],
            TOL,
        );
        assert_close(
            &format!("{tag} fu q{p} hi"),
            opt(q.upper),
            &rq["upper"][i],
            TOL,
        );
    }
}

#[test]
fn km_matches_r_survfit() {
    run("km.json", false);
}

#[test]
fn reverse_km_follow_up_matches_r() {
    run("reverse_km.json", true);
}
