//! Weighted, counting-process and robust Kaplan–Meier against R survival 3.5-3
//! (`tests/data/obs/lung_weighted.json`, `heart_counting.json`; the `km:*`
//! cases). KM quantities are closed-form: 1e-6 relative, 1e-9 absolute near 0.

mod obs_common;
use obs_common::*;
use serde_json::Value;
use survkit::km::KmOptions;
use survkit::wkm::{
    kaplan_meier_rows, kaplan_meier_rows_by_group, robust_default, KmVariance, SurvRows,
    WeightedKmFit,
};

const TOL: f64 = 1e-6;
const ABS: f64 = 1e-9;

fn compare(tag: &str, f: &WeightedKmFit, r: &Value) {
    assert_eq!(f.n as f64, r["n"].as_f64().unwrap(), "{tag} n");
    check(
        &format!("{tag} n_event_total"),
        f.n_event_total,
        &r["n_event_total"],
        TOL,
        ABS,
    );
    check_vec(&format!("{tag} time"), &f.time, &r["time"], 0.0, 0.0);
    for (k, v) in [
        ("n_risk", &f.n_risk),
        ("n_event", &f.n_event),
        ("n_censor", &f.n_censor),
        ("surv", &f.surv),
        ("std_err", &f.std_err),
        ("std_err_surv", &f.std_err_surv),
        ("lower", &f.lower),
        ("upper", &f.upper),
    ] {
        check_vec(&format!("{tag} {k}"), v, &r[k], TOL, ABS);
    }
    let m = f.median();
    let o = |x: Option<f64>| x.unwrap_or(f64::NAN);
    check(
        &format!("{tag} median"),
        o(m.estimate),
        &r["median"],
        TOL,
        ABS,
    );
    check(
        &format!("{tag} median_lower"),
        o(m.lower),
        &r["median_lower"],
        TOL,
        ABS,
    );
    check(
        &format!("{tag} median_upper"),
        o(m.upper),
        &r["median_upper"],
        TOL,
        ABS,
    );
}

fn run(file: &str) -> usize {
    let mut n = 0;
    for case in load_cases(file).iter().filter(|c| c["kind"] == "km") {
        let id = case["id"].as_str().unwrap();
        let d = case_data(case);
        let rows = SurvRows {
            stop: &d.stop,
            event: &d.event,
            start: d.start.as_deref(),
            weight: d.weight.as_deref(),
            id: d.id.as_deref(),
        };
        let asked = flag(&case["cli"], "--robust").is_some();
        let robust =
            asked || robust_default(&d.event, d.weight.as_deref(), d.id.as_deref()).is_some();
        assert_eq!(
            robust,
            case["robust"].as_bool().unwrap(),
            "{id}: R's robust rule"
        );
        let var = if robust {
            KmVariance::Robust
        } else {
            KmVariance::Greenwood
        };
        let groups = case["groups"].as_array().unwrap();
        match &d.group {
            None => {
                let f = kaplan_meier_rows(&rows, var, &KmOptions::default()).unwrap();
                compare(id, &f, &groups[0]);
            }
            Some(g) => {
                let mut lv: Vec<f64> = g.clone();
                lv.sort_by(f64::total_cmp);
                lv.dedup();
                let gi: Vec<usize> = g
                    .iter()
                    .map(|v| lv.iter().position(|x| x == v).unwrap())
                    .collect();
                let fits =
                    kaplan_meier_rows_by_group(&rows, &gi, lv.len(), var, &KmOptions::default())
                        .unwrap();
                assert_eq!(fits.len(), groups.len());
                for (f, r) in fits.iter().zip(groups) {
                    compare(&format!("{id} {}", r["strata"]), f.as_ref().unwrap(), r);
                }
            }
        }
        n += 1;
    }
    n
}

#[test]
fn weighted_km_matches_r() {
    assert_eq!(run("lung_weighted.json"), 7);
}

#[test]
fn counting_process_km_matches_r() {
    assert_eq!(run("heart_counting.json"), 6);
}
