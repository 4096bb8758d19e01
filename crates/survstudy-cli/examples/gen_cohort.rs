//! Synthetic cohort for benchmarks, the same design as the oracle's
//! `bench/gen_big.py`: integer-day times (ceil, heavy ties, ≤ 3650 distinct),
//! status 0/1, group 0/1, x1..x5 ~ N(0,1) written with 17 significant digits;
//! Weibull(shape 1.2, scale 2500) baseline with log HR 0.5·group + 0.3·x1 −
//! 0.2·x2 + 0.1·x3 + 0·x4 + 0.05·x5; censoring min(U(0, 5475), 3650).
//!
//! Usage: `cargo run --release -p survstudy-cli --example gen_cohort -- N OUT.csv`

use rand::{Rng, SeedableRng};
use rand_distr::StandardNormal;
use std::io::Write;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() != 3 {
        eprintln!("usage: gen_cohort N OUT.csv");
        std::process::exit(2);
    }
    let n: usize = args[1].parse::<f64>().expect("N") as usize;
    let mut rng = rand::rngs::StdRng::seed_from_u64(20240101 + n as u64);
    let beta = [0.3, -0.2, 0.1, 0.0, 0.05];
    let f = std::fs::File::create(&args[2]).expect("create output");
    let mut w = std::io::BufWriter::with_capacity(1 << 20, f);
    writeln!(w, "time,status,group,x1,x2,x3,x4,x5").unwrap();
    for _ in 0..n {
        let group: u8 = rng.random_range(0..2);
        let x: [f64; 5] = std::array::from_fn(|_| rng.sample(StandardNormal));
        let lp = 0.5 * group as f64 + x.iter().zip(beta).map(|(a, b)| a * b).sum::<f64>();
        let u: f64 = rng.random::<f64>().max(f64::MIN_POSITIVE);
        let t_event = 2500.0 * (-u.ln() / lp.exp()).powf(1.0 / 1.2);
        let t_cens = (rng.random::<f64>() * 3650.0 * 1.5).min(3650.0);
        let status = (t_event <= t_cens) as u8;
        let time = t_event.min(t_cens).ceil().max(1.0);
        write!(w, "{time},{status},{group}").unwrap();
        for v in x {
            write!(w, ",{}", g17(v)).unwrap();
        }
        writeln!(w).unwrap();
    }
}

/// C's `%.17g`: 17 significant digits, trailing zeros dropped.
fn g17(v: f64) -> String {
    let a = v.abs();
    if a == 0.0 {
        return "0".into();
    }
    let mag = a.log10().floor() as i32;
    if !(-5..17).contains(&mag) {
        return format!("{v:.16e}");
    }
    let s = format!("{:.*}", (16 - mag).max(0) as usize, v);
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    }
}
