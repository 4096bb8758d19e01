//! Harrell's concordance of the Cox linear predictor against R survival 3.5-3
//! (`coxph(...)$concordance`, `tests/data/<ds>/cox.json`): counts exactly,
//! C and its infinitesimal-jackknife SE to 1e-6 relative. Plus a naive
//! O(n²) pair count on random cohorts, row-permutation invariance and a
//! 10^6-row timing run.

mod common;
use common::*;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::Value;
use std::collections::HashMap;
use survkit::concordance::{concordance, Concordance};
use survkit::SurvError;

const TOL: f64 = 1e-6;

/// One model term of the formula's right-hand side.
enum Var {
    Numeric(String),
    /// Treatment-coded factor: column, (coefficient index, level) pairs.
    Factor(String, Vec<(usize, String)>),
}

/// Parse `Surv(...) ~ a + factor(b) + strata(c)` against the model's term
/// names: returns the covariate variables and the strata column, if any.
fn parse_model(m: &Value) -> (Vec<(Var, Option<usize>)>, Option<String>) {
    let formula = m["formula"].as_str().unwrap();
    let terms: Vec<String> = m["terms"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t.as_str().unwrap().to_string())
        .collect();
    let rhs = formula.split('~').nth(1).unwrap();
    let mut vars = vec![];
    let mut strata = None;
    for part in rhs.split('+').map(str::trim) {
        if let Some(s) = part.strip_prefix("strata(") {
            strata = Some(s.trim_end_matches(')').to_string());
            continue;
        }
        if let Some(j) = terms.iter().position(|t| t == part) {
            vars.push((Var::Numeric(part.to_string()), Some(j)));
            continue;
        }
        // factor: terms named `<part><level>` (part may be `factor(col)`)
        let col = part
            .strip_prefix("factor(")
            .map(|s| s.trim_end_matches(')'))
            .unwrap_or(part)
            .to_string();
        let levels: Vec<(usize, String)> = terms
            .iter()
            .enumerate()
            .filter_map(|(j, t)| t.strip_prefix(part).map(|lv| (j, lv.to_string())))
            .collect();
        assert!(!levels.is_empty(), "cannot map term {part} of {formula}");
        vars.push((Var::Factor(col, levels), None));
    }
    (vars, strata)
}

fn same_level(cell: &str, level: &str) -> bool {
    if cell == level {
        return true;
    }
    match (cell.parse::<f64>(), level.parse::<f64>()) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}

/// (time, event, linear predictor, strata) of a model's complete cases.
type ModelData = (Vec<f64>, Vec<bool>, Vec<f64>, Option<Vec<usize>>);

fn model_data(ds: &str, f: &Frame, m: &Value) -> ModelData {
    let (vars, strata_col) = parse_model(m);
    let coef: Vec<f64> = m["coef"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap_or(0.0)) // NA coefficient contributes 0
        .collect();
    let (time_all, event_all) = surv_data(f, ds);
    let nrow = time_all.len();
    let mut lp = vec![0.0; nrow];
    let mut ok = vec![true; nrow];
    for (var, j) in &vars {
        match var {
            Var::Numeric(name) => {
                let col = f.num(name);
                for i in 0..nrow {
                    match col[i] {
                        Some(x) => lp[i] += x * coef[j.unwrap()],
                        None => ok[i] = false,
                    }
                }
            }
            Var::Factor(name, levels) => {
                let col = f.col(name);
                for i in 0..nrow {
                    match &col[i] {
                        Some(cell) => {
                            for (j, lv) in levels {
                                if same_level(cell, lv) {
                                    lp[i] += coef[*j];
                                }
                            }
                        }
                        None => ok[i] = false,
                    }
                }
            }
        }
    }
    let strata_raw = strata_col.map(|s| f.col(&s));
    if let Some(s) = &strata_raw {
        for i in 0..nrow {
            if s[i].is_none() {
                ok[i] = false;
            }
        }
    }
    let keep: Vec<usize> = (0..nrow).filter(|&i| ok[i]).collect();
    let strata = strata_raw.map(|s| {
        let mut ids: HashMap<String, usize> = HashMap::new();
        keep.iter()
            .map(|&i| {
                let k = ids.len();
                *ids.entry(s[i].clone().unwrap()).or_insert(k)
            })
            .collect()
    });
    (
        keep.iter().map(|&i| time_all[i]).collect(),
        keep.iter().map(|&i| event_all[i]).collect(),
        keep.iter().map(|&i| lp[i]).collect(),
        strata,
    )
}

fn compare(tag: &str, got: &Concordance, r: &Value) -> Result<(), String> {
    let counts = [
        ("concordant", got.concordant),
        ("discordant", got.discordant),
        ("tied_x", got.tied_x),
        ("tied_y", got.tied_y),
        ("tied_xy", got.tied_xy),
    ];
    for (k, v) in counts {
        if !close(v, &r[k], 0.0) {
            return Err(format!("{tag} {k}: got {v}, R has {}", r[k]));
        }
    }
    for (k, v) in [("c", got.c), ("se", got.se)] {
        if !close(v, &r[k], TOL) {
            return Err(format!("{tag} {k}: got {v}, R has {}", r[k]));
        }
    }
    Ok(())
}

#[test]
fn cox_models_match_r() {
    let mut failures = vec![];
    let mut checked = 0;
    for ds in DATASETS {
        let f = Frame::load(ds);
        let cox = load_json(ds, "cox.json");
        for m in cox["models"].as_array().unwrap() {
            let id = m["id"].as_str().unwrap();
            let tag = format!("{ds} {id}");
            let (time, event, lp, strata) = model_data(ds, &f, m);
            assert_eq!(time.len() as f64, m["n"].as_f64().unwrap(), "{tag} n");
            let got = concordance(&time, &event, &lp, strata.as_deref()).unwrap();
            match compare(&tag, &got, &m["concordance"]) {
                Ok(()) => checked += 1,
                Err(e) => failures.push(e),
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} mismatches:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(checked >= 100, "only {checked} models checked");
    println!("concordance: {checked} models agree with R");
}

// ---------------------------------------------------------------------------
// naive reference

/// O(n²) counts straight from the definition, plus the IJ standard error
/// from per-subject pair counts.
fn naive(time: &[f64], event: &[bool], x: &[f64], strata: Option<&[usize]>) -> Concordance {
    let n = time.len();
    let (mut c, mut d, mut tx, mut ty, mut txy) = (0u64, 0u64, 0u64, 0u64, 0u64);
    let mut ci = vec![0i64; n];
    let mut di = vec![0i64; n];
    let mut ti = vec![0i64; n];
    for i in 0..n {
        for j in 0..n {
            if i == j || strata.is_some_and(|s| s[i] != s[j]) {
                continue;
            }
            // i is the shorter-lived event of the pair?
            let comparable = event[i] && (time[i] < time[j] || (time[i] == time[j] && !event[j]));
            if comparable {
                if x[i] > x[j] {
                    c += 1;
                    ci[i] += 1;
                    ci[j] += 1;
                } else if x[i] < x[j] {
                    d += 1;
                    di[i] += 1;
                    di[j] += 1;
                } else {
                    tx += 1;
                    ti[i] += 1;
                    ti[j] += 1;
                }
            } else if i < j && event[i] && event[j] && time[i] == time[j] {
                if x[i] == x[j] {
                    txy += 1;
                } else {
                    ty += 1;
                }
            }
        }
    }
    let np = (c + d + tx) as f64;
    let somer = (c as f64 - d as f64) / np;
    let ss: f64 = (0..n)
        .map(|k| {
            let u = ((ci[k] - di[k]) as f64 - somer * (ci[k] + di[k] + ti[k]) as f64) / np;
            u * u
        })
        .sum();
    Concordance {
        concordant: c as f64,
        discordant: d as f64,
        tied_x: tx as f64,
        tied_y: ty as f64,
        tied_xy: txy as f64,
        c: (c as f64 + tx as f64 / 2.0) / np,
        se: ss.sqrt() / 2.0,
    }
}

type Cohort = (Vec<f64>, Vec<bool>, Vec<f64>, Vec<usize>);

/// Random cohort with heavy ties in time and score.
fn cohort(rng: &mut StdRng, n: usize, ntime: u32, nscore: u32, nstrata: usize) -> Cohort {
    let time = (0..n).map(|_| rng.random_range(0..ntime) as f64).collect();
    let event = (0..n).map(|_| rng.random_bool(0.6)).collect();
    let score = (0..n)
        .map(|_| rng.random_range(0..nscore) as f64 * 0.37 - 1.0)
        .collect();
    let strata = (0..n).map(|_| rng.random_range(0..nstrata) * 7).collect();
    (time, event, score, strata)
}

fn assert_same(tag: &str, a: &Concordance, b: &Concordance, se_tol: f64) {
    assert_eq!(a.concordant, b.concordant, "{tag} concordant");
    assert_eq!(a.discordant, b.discordant, "{tag} discordant");
    assert_eq!(a.tied_x, b.tied_x, "{tag} tied_x");
    assert_eq!(a.tied_y, b.tied_y, "{tag} tied_y");
    assert_eq!(a.tied_xy, b.tied_xy, "{tag} tied_xy");
    assert!((a.c - b.c).abs() <= 1e-14, "{tag} c {} vs {}", a.c, b.c);
    assert!(
        (a.se - b.se).abs() <= se_tol * b.se.abs().max(1e-300),
        "{tag} se {} vs {}",
        a.se,
        b.se
    );
}

#[test]
fn fast_counts_equal_naive_pair_count() {
    let mut rng = StdRng::seed_from_u64(20240611);
    let mut cases = 0;
    for rep in 0..300 {
        let n = rng.random_range(2..120);
        let ntime = rng.random_range(1..30);
        let nscore = rng.random_range(1..25);
        let nstrata = rng.random_range(1..4);
        let (time, event, score, strata) = cohort(&mut rng, n, ntime, nscore, nstrata);
        for st in [None, Some(strata.as_slice())] {
            let want = naive(&time, &event, &score, st);
            if want.concordant + want.discordant + want.tied_x == 0.0 {
                assert!(matches!(
                    concordance(&time, &event, &score, st),
                    Err(SurvError::Degenerate { .. })
                ));
                continue;
            }
            let got = concordance(&time, &event, &score, st).unwrap();
            assert_same(
                &format!("rep {rep} strata {}", st.is_some()),
                &got,
                &want,
                1e-10,
            );
            cases += 1;
        }
    }
    assert!(cases > 500);
}

#[test]
fn invariant_to_row_permutation() {
    let mut rng = StdRng::seed_from_u64(7);
    for rep in 0..20 {
        let n = 500;
        let (time, event, score, strata) = cohort(&mut rng, n, 40, 30, 3);
        let mut perm: Vec<usize> = (0..n).collect();
        for i in (1..n).rev() {
            perm.swap(i, rng.random_range(0..=i));
        }
        let p = |v: &Vec<f64>| perm.iter().map(|&i| v[i]).collect::<Vec<_>>();
        let ev2: Vec<bool> = perm.iter().map(|&i| event[i]).collect();
        let st2: Vec<usize> = perm.iter().map(|&i| strata[i]).collect();
        for (a, b) in [
            (None, None),
            (Some(strata.as_slice()), Some(st2.as_slice())),
        ] {
            let x = concordance(&time, &event, &score, a).unwrap();
            let y = concordance(&p(&time), &ev2, &p(&score), b).unwrap();
            assert_same(&format!("perm {rep}"), &x, &y, 0.0);
        }
        // relabelling strata does not matter either
        let relab: Vec<usize> = strata.iter().map(|s| 1000 - s).collect();
        let x = concordance(&time, &event, &score, Some(&strata)).unwrap();
        let y = concordance(&time, &event, &score, Some(&relab)).unwrap();
        assert_same("relabel", &x, &y, 1e-12);
    }
}

#[test]
fn reversed_score_mirrors() {
    // negating the score swaps concordant/discordant and gives 1 - c, same se
    let mut rng = StdRng::seed_from_u64(99);
    let (time, event, score, _) = cohort(&mut rng, 300, 50, 40, 1);
    let neg: Vec<f64> = score.iter().map(|x| -x).collect();
    let a = concordance(&time, &event, &score, None).unwrap();
    let b = concordance(&time, &event, &neg, None).unwrap();
    assert_eq!(a.concordant, b.discordant);
    assert_eq!(a.tied_x, b.tied_x);
    assert!((a.c + b.c - 1.0).abs() < 1e-14);
    assert!((a.se - b.se).abs() < 1e-14);
}

/// On-CPU time of this thread (ns), from /proc (Linux); None elsewhere.
fn thread_cpu_ns() -> Option<u64> {
    let s = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    s.split_whitespace().next()?.parse().ok()
}

#[test]
fn million_rows() {
    let n = 1_000_000;
    let mut rng = StdRng::seed_from_u64(1);
    let time: Vec<f64> = (0..n).map(|_| rng.random_range(0..5000) as f64).collect();
    let event: Vec<bool> = (0..n).map(|_| rng.random_bool(0.7)).collect();
    let score: Vec<f64> = (0..n).map(|_| rng.random::<f64>() * 3.0).collect();
    let strata: Vec<usize> = (0..n).map(|_| rng.random_range(0..4)).collect();
    for st in [None, Some(strata.as_slice())] {
        let mut best = (f64::INFINITY, f64::INFINITY);
        let mut c = 0.0;
        for _ in 0..3 {
            let cpu0 = thread_cpu_ns();
            let start = std::time::Instant::now();
            let r = concordance(&time, &event, &score, st).unwrap();
            let wall = start.elapsed().as_secs_f64();
            let cpu = match (cpu0, thread_cpu_ns()) {
                (Some(a), Some(b)) => (b - a) as f64 * 1e-9,
                _ => wall,
            };
            best = (best.0.min(wall), best.1.min(cpu));
            c = r.c;
        }
        println!(
            "concordance on {n} rows (strata: {}): best wall {:.3} s, best on-CPU {:.3} s (c = {c})",
            st.is_some(),
            best.0,
            best.1
        );
        assert!((c - 0.5).abs() < 0.01);
        // loose bound (shared machine); only meaningful with optimisation
        if !cfg!(debug_assertions) {
            assert!(best.1 < 1.0, "10^6 rows took {} s of CPU", best.1);
        }
    }
}
