//! Engine benchmarks (divan): `cargo bench -p survkit`.
//! Synthetic cohorts like bench/run.sh: integer-day times with heavy ties,
//! two groups, five normal covariates.

use rand::{Rng, SeedableRng};
use survkit::cox::{cox_fit, cox_fit_rows, CoxOptions, CoxRows, Design};
use survkit::km::{kaplan_meier, KmOptions};
use survkit::logrank::{logrank, LogrankOptions};

struct Cohort {
    time: Vec<f64>,
    event: Vec<bool>,
    group: Vec<usize>,
    design: Design,
}

fn cohort(n: usize) -> Cohort {
    let mut rng = rand::rngs::StdRng::seed_from_u64(n as u64);
    let mut time = Vec::with_capacity(n);
    let mut event = Vec::with_capacity(n);
    let mut group = Vec::with_capacity(n);
    let mut cols: Vec<Vec<f64>> = (0..6).map(|_| Vec::with_capacity(n)).collect();
    for _ in 0..n {
        let g = rng.random_range(0..2usize);
        let x: Vec<f64> = (0..5).map(|_| rng.random::<f64>() * 2.0 - 1.0).collect();
        let lp = 0.5 * g as f64 + 0.3 * x[0] - 0.2 * x[1];
        let t = (-rng.random::<f64>().max(1e-12).ln() / lp.exp() * 2000.0)
            .ceil()
            .min(3650.0);
        let c = rng.random::<f64>() * 5000.0;
        time.push(t.min(c.ceil()).max(1.0));
        event.push(t <= c);
        group.push(g);
        cols[0].push(g as f64);
        for j in 0..5 {
            cols[j + 1].push(x[j]);
        }
    }
    let names = ["group", "x1", "x2", "x3", "x4", "x5"];
    Cohort {
        time,
        event,
        group,
        design: Design::from_numeric(names.iter().map(|s| s.to_string()).zip(cols).collect()),
    }
}

const SIZES: [usize; 2] = [10_000, 100_000];

#[divan::bench(args = SIZES)]
fn km(b: divan::Bencher, n: usize) {
    let c = cohort(n);
    b.bench(|| kaplan_meier(&c.time, &c.event, &KmOptions::default()).unwrap());
}

#[divan::bench(args = SIZES)]
fn logrank_two_groups(b: divan::Bencher, n: usize) {
    let c = cohort(n);
    b.bench(|| {
        logrank(
            &c.time,
            &c.event,
            &c.group,
            None,
            &LogrankOptions::default(),
        )
        .unwrap()
    });
}

#[divan::bench(args = SIZES)]
fn cox_efron_6_covariates(b: divan::Bencher, n: usize) {
    let c = cohort(n);
    b.bench(|| cox_fit(&c.time, &c.event, &c.design, None, &CoxOptions::default()).unwrap());
}

/// The cohort as (start, stop] rows: every subject with time ≥ 2 split at
/// floor(time / 2) (≈ 2n rows; the first covariate after `group` is
/// time-dependent: + 0.5 on the second row), as bench/counting.sh's
/// `split` file.
struct Split {
    start: Vec<f64>,
    stop: Vec<f64>,
    event: Vec<bool>,
    design: Design,
}

fn split(c: &Cohort) -> Split {
    let mut s = Split {
        start: vec![],
        stop: vec![],
        event: vec![],
        design: Design::default(),
    };
    let p = c.design.columns.len();
    let mut cols: Vec<Vec<f64>> = vec![vec![]; p];
    for i in 0..c.time.len() {
        let t = c.time[i];
        let mut push = |a: f64, b: f64, e: bool, shift: f64| {
            s.start.push(a);
            s.stop.push(b);
            s.event.push(e);
            for (k, col) in c.design.columns.iter().enumerate() {
                cols[k].push(col[i] + if k == 1 { shift } else { 0.0 });
            }
        };
        if t >= 2.0 {
            let m = (t / 2.0).floor();
            push(0.0, m, false, 0.0);
            push(m, t, c.event[i], 0.5);
        } else {
            push(0.0, t, c.event[i], 0.0);
        }
    }
    s.design = Design::from_numeric(c.design.names.iter().cloned().zip(cols).collect());
    s
}

/// Right-censored Cox on the split cohort's row count, the baseline for
/// `cox_counting_split` (issue 15: within 2× of it).
#[divan::bench(args = SIZES)]
fn cox_efron_6_covariates_same_rows(b: divan::Bencher, n: usize) {
    let s = split(&cohort(n / 2));
    let (time, event) = (s.stop.clone(), s.event.clone());
    b.bench(|| cox_fit(&time, &event, &s.design, None, &CoxOptions::default()).unwrap());
}

/// Cox on (start, stop] rows (R's agreg path), n rows in all.
#[divan::bench(args = SIZES)]
fn cox_counting_split(b: divan::Bencher, n: usize) {
    let s = split(&cohort(n / 2));
    let rows = CoxRows {
        start: Some(&s.start),
        weight: None,
    };
    b.bench(|| {
        cox_fit_rows(
            &s.stop,
            &s.event,
            &s.design,
            None,
            None,
            &rows,
            &CoxOptions::default(),
        )
        .unwrap()
    });
}

/// Weighted right-censored Cox (non-integer weights in (0.5, 1.5)).
#[divan::bench(args = SIZES)]
fn cox_weighted(b: divan::Bencher, n: usize) {
    let c = cohort(n);
    let w: Vec<f64> = (0..n)
        .map(|i| 0.5 + ((i * 7919) % 1000) as f64 / 1000.0)
        .collect();
    let rows = CoxRows {
        start: None,
        weight: Some(&w),
    };
    b.bench(|| {
        cox_fit_rows(
            &c.time,
            &c.event,
            &c.design,
            None,
            None,
            &rows,
            &CoxOptions::default(),
        )
        .unwrap()
    });
}

/// Sorting (key, row) pairs as every estimator does: months of whole days
/// (≈ 3650 distinct keys: the rank sort) and continuous times (all distinct:
/// the radix passes).
#[divan::bench(args = [("months", 1_000_000), ("continuous", 1_000_000)])]
fn sort_pairs(b: divan::Bencher, (kind, n): (&str, usize)) {
    let mut rng = rand::rngs::StdRng::seed_from_u64(7);
    let keys: Vec<(u64, u32)> = (0..n as u32)
        .map(|i| {
            let t: f64 = if kind == "months" {
                rng.random_range(1..3650) as f64 / 30.4375
            } else {
                rng.random::<f64>() * 120.0
            };
            (t.to_bits(), i)
        })
        .collect();
    b.with_inputs(|| keys.clone()).bench_local_values(|mut v| {
        survkit::par::sequential(|| survkit::sort::radix_sort_pairs(&mut v));
        v
    });
}

/// A study grouping's data: 10^6 patients, months of whole days, one
/// yes/no group (the data collapse into (time, status, group) cells).
fn grouping_data() -> (Vec<f64>, Vec<bool>, Design) {
    let c = cohort(1_000_000);
    let time: Vec<f64> = c.time.iter().map(|t| t / 30.4375).collect();
    let group = c.group.iter().map(|&g| g as f64).collect();
    (
        time,
        c.event,
        Design::from_numeric(vec![("group".into(), group)]),
    )
}

/// Its Cox model, as each of `survstudy run`'s grouping jobs fits it.
#[divan::bench]
fn cox_one_yes_no_months_1e6(b: divan::Bencher) {
    let (time, event, d) = grouping_data();
    let opts = CoxOptions::default();
    b.bench(|| survkit::par::sequential(|| cox_fit(&time, &event, &d, None, &opts).unwrap()));
}

/// That model's `cox.zph` (km transform), as each grouping job tests it.
#[divan::bench]
fn zph_one_yes_no_months_1e6(b: divan::Bencher) {
    let (time, event, d) = grouping_data();
    let fit = cox_fit(&time, &event, &d, None, &CoxOptions::default()).unwrap();
    let opts = survkit::zph::ZphOptions::default();
    b.bench(|| {
        survkit::par::sequential(|| {
            survkit::zph::cox_zph(&time, &event, &d, None, &fit, None, &opts).unwrap()
        })
    });
}

fn main() {
    divan::main();
}
