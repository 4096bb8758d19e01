//! Log-rank and Peto–Peto (ρ = 1), plain and stratified, against R's `survdiff`
//! (`tests/data/<ds>/logrank.json`), plus a naive O(n²) reference and invariants.

mod common;
use common::*;
use rand::{Rng, SeedableRng};
use survkit::logrank::{logrank, LogrankOptions};

const TOL: f64 = 1e-6;

fn group_index(f: &Frame, var: &str, labels: &[String]) -> Vec<Option<usize>> {
    f.col(var)
        .into_iter()
        .map(|v| v.and_then(|s| labels.iter().position(|l| *l == s)))
        .collect()
}

#[test]
fn logrank_matches_r_survdiff() {
    let mut checked = 0;
    for ds in DATASETS {
        let f = Frame::load(ds);
        let (time, event) = surv_data(&f, ds);
        let r = load_json(ds, "logrank.json");
        for t in r["tests"].as_array().unwrap() {
            let id = t["id"].as_str().unwrap();
            let groups: Vec<String> = t["groups"]
                .as_array()
                .unwrap()
                .iter()
                .map(|g| g.as_str().unwrap().to_string())
                .collect();
            let var = groups[0].split_once('=').unwrap().0.to_string();
            let levels: Vec<String> = groups
                .iter()
                .map(|g| g.split_once('=').unwrap().1.to_string())
                .collect();
            let g = group_index(&f, &var, &levels);
            let (strata_var, strata_levels) = match &t["by_stratum"] {
                serde_json::Value::Null => (None, vec![]),
                b => {
                    // strata labels are "var=level", or bare levels (veteran celltype)
                    let sl: Vec<String> = b["strata"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|s| {
                            let s = s.as_str().unwrap();
                            s.split_once('=').map_or(s, |p| p.1).to_string()
                        })
                        .collect();
                    let sv = match b["strata"][0].as_str().unwrap().split_once('=') {
                        Some((v, _)) => v.to_string(),
                        None => id
                            .split("strata(")
                            .nth(1)
                            .unwrap()
                            .split(')')
                            .next()
                            .unwrap()
                            .to_string(),
                    };
                    (Some(sv), sl)
                }
            };
            let s = strata_var
                .as_ref()
                .map(|sv| group_index(&f, sv, &strata_levels));
            let keep: Vec<usize> = (0..time.len())
                .filter(|&i| g[i].is_some() && s.as_ref().is_none_or(|s| s[i].is_some()))
                .collect();
            let tt: Vec<f64> = keep.iter().map(|&i| time[i]).collect();
            let ee: Vec<bool> = keep.iter().map(|&i| event[i]).collect();
            let gg: Vec<usize> = keep.iter().map(|&i| g[i].unwrap()).collect();
            let ss: Option<Vec<usize>> = s
                .as_ref()
                .map(|s| keep.iter().map(|&i| s[i].unwrap()).collect());
            let rho = t["rho"].as_f64().unwrap();
            let res = logrank(&tt, &ee, &gg, ss.as_deref(), &LogrankOptions { rho }).unwrap();
            let tag = format!("{ds} {id}");
            let n: Vec<f64> = res.n.iter().map(|&x| x as f64).collect();
            assert_vec(&format!("{tag} n"), &n, &t["n"], 0.0);
            assert_vec(
                &format!("{tag} observed"),
                &res.observed,
                &t["observed"],
                TOL,
            );
            assert_vec(
                &format!("{tag} expected"),
                &res.expected,
                &t["expected"],
                TOL,
            );
            for (i, row) in res.var.iter().enumerate() {
                for (j, v) in row.iter().enumerate() {
                    let rv = &t["var"][i][j];
                    let scale = t["var"][i][i].as_f64().unwrap().abs();
                    let ok = (v - rv.as_f64().unwrap()).abs() <= TOL * scale.max(1e-300);
                    assert!(ok, "{tag} var[{i}][{j}] {v} vs {rv}");
                }
            }
            assert_close(&format!("{tag} chisq"), res.chisq, &t["chisq"], TOL);
            assert_close(&format!("{tag} p"), res.p, &t["p"], TOL);
            assert_eq!(res.df as f64, t["df"].as_f64().unwrap(), "{tag} df");
            if let Some(b) = &res.by_stratum {
                for (gi, row) in b.observed.iter().enumerate() {
                    assert_vec(
                        &format!("{tag} obs by stratum"),
                        row,
                        &t["by_stratum"]["observed"][gi],
                        TOL,
                    );
                }
            }
            checked += 1;
        }
    }
    assert!(checked >= 30, "only {checked} tests compared");
}

/// Naive O(n²) log-rank for two groups, straight from the definition.
fn naive(time: &[f64], event: &[bool], g: &[usize]) -> (f64, f64, f64) {
    let mut times: Vec<f64> = time
        .iter()
        .zip(event)
        .filter(|(_, e)| **e)
        .map(|(t, _)| *t)
        .collect();
    times.sort_by(f64::total_cmp);
    times.dedup();
    let (mut o, mut e, mut v) = (0.0, 0.0, 0.0);
    for &t in &times {
        let n = time.iter().filter(|&&x| x >= t).count() as f64;
        let n1 = (0..time.len())
            .filter(|&i| time[i] >= t && g[i] == 1)
            .count() as f64;
        let d = (0..time.len())
            .filter(|&i| time[i] == t && event[i])
            .count() as f64;
        let d1 = (0..time.len())
            .filter(|&i| time[i] == t && event[i] && g[i] == 1)
            .count() as f64;
        o += d1;
        e += d * n1 / n;
        if n > 1.0 {
            v += d * (n - d) / (n - 1.0) * (n1 / n) * (1.0 - n1 / n);
        }
    }
    (o, e, v)
}

#[test]
fn agrees_with_naive_reference_and_invariants() {
    let mut rng = rand::rngs::StdRng::seed_from_u64(20261125);
    for _ in 0..50 {
        let n = rng.random_range(2..80);
        let time: Vec<f64> = (0..n).map(|_| rng.random_range(0..15) as f64).collect();
        let event: Vec<bool> = (0..n).map(|_| rng.random_bool(0.7)).collect();
        let mut g: Vec<usize> = (0..n).map(|_| rng.random_range(0..2)).collect();
        g[0] = 0;
        g[1] = 1;
        if !event.iter().any(|&e| e) {
            continue;
        }
        let res = logrank(&time, &event, &g, None, &LogrankOptions::default()).unwrap();
        let (o, e, v) = naive(&time, &event, &g);
        assert!((res.observed[1] - o).abs() < 1e-9);
        assert!((res.expected[1] - e).abs() < 1e-9);
        assert!((res.var[1][1] - v).abs() < 1e-9);
        // O - E sums to zero
        assert!(res.o_minus_e.iter().sum::<f64>().abs() < 1e-9);
        // permuting rows changes nothing
        let mut idx: Vec<usize> = (0..n).collect();
        idx.reverse();
        let pt: Vec<f64> = idx.iter().map(|&i| time[i]).collect();
        let pe: Vec<bool> = idx.iter().map(|&i| event[i]).collect();
        let pg: Vec<usize> = idx.iter().map(|&i| g[i]).collect();
        let r2 = logrank(&pt, &pe, &pg, None, &LogrankOptions::default()).unwrap();
        assert!(
            (r2.chisq - res.chisq).abs() <= 1e-12 * res.chisq.abs().max(1.0)
                || (r2.chisq.is_nan() && res.chisq.is_nan())
        );
    }
}
