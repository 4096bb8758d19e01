//! Engine benchmarks (divan): `cargo bench -p survkit`.
//! Synthetic cohorts like bench/run.sh: integer-day times with heavy ties,
//! two groups, five normal covariates.

use rand::{Rng, SeedableRng};
use survkit::cox::{cox_fit, CoxOptions, Design};
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

fn main() {
    divan::main();
}
