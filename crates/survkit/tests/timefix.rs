//! R ties nearly equal times before every fit (`timefix = TRUE` in survfit,
//! survdiff and coxph; `aeqSurv`). Times computed two ways — `0.1 + 0.2`
//! against `0.3`, months as `d / 30.4375` against `(d / 3) * 3 / 30.4375` —
//! must give the same Kaplan–Meier curve, log-rank test, Cox model,
//! concordance and PH test as the exactly tied times.

use survkit::cox::{cox_fit, CoxOptions, Design};
use survkit::km::{kaplan_meier, KmOptions};
use survkit::logrank::{logrank, LogrankOptions};
use survkit::zph::{cox_zph, ZphOptions};

/// Exact times, the same times computed with round-off, event, group, x.
type Cohort = (Vec<f64>, Vec<f64>, Vec<bool>, Vec<usize>, Vec<f64>);

fn cohort() -> Cohort {
    let n = 60;
    let days: Vec<f64> = (0..n).map(|i| (7 + (i * 37) % 23 * 11) as f64).collect();
    let exact: Vec<f64> = days.iter().map(|d| d / 30.4375).collect();
    // every third time recomputed a different way: equal up to round-off only
    let noisy: Vec<f64> = days
        .iter()
        .enumerate()
        .map(|(i, d)| {
            if i % 3 == 0 {
                (d / 7.0) * 7.0 / 30.4375 * (1.0 + 4e-16)
            } else {
                d / 30.4375
            }
        })
        .collect();
    let differs = exact.iter().zip(&noisy).filter(|(a, b)| a != b).count();
    assert!(differs > 5, "the cohort must contain round-off differences");
    let event: Vec<bool> = (0..n).map(|i| i % 4 != 1).collect();
    let group: Vec<usize> = (0..n).map(|i| (i * 7) % 2).collect();
    let x: Vec<f64> = (0..n).map(|i| ((i * 13) % 10) as f64 * 0.3 - 1.0).collect();
    (exact, noisy, event, group, x)
}

/// The cohort's times and events with its covariates x and group as a design.
fn cohort_design() -> (Vec<f64>, Vec<f64>, Vec<bool>, Design) {
    let (exact, noisy, event, group, x) = cohort();
    let mut design = Design::default();
    design.add_numeric("x", x);
    design.add_numeric("g", group.iter().map(|&g| g as f64).collect());
    (exact, noisy, event, design)
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-12 * a.abs().max(b.abs()).max(1e-300) || (a.is_nan() && b.is_nan())
}

#[test]
fn kaplan_meier_ties_round_off() {
    let (exact, noisy, event, _, _) = cohort();
    let a = kaplan_meier(&exact, &event, &KmOptions::default()).unwrap();
    let b = kaplan_meier(&noisy, &event, &KmOptions::default()).unwrap();
    assert_eq!(a.n_risk, b.n_risk);
    assert_eq!(a.n_event, b.n_event);
    assert_eq!(a.time.len(), b.time.len());
    for (x, y) in a.surv.iter().zip(&b.surv) {
        assert!(close(*x, *y));
    }
}

#[test]
fn logrank_ties_round_off() {
    let (exact, noisy, event, group, _) = cohort();
    let o = LogrankOptions::default();
    let a = logrank(&exact, &event, &group, None, &o).unwrap();
    let b = logrank(&noisy, &event, &group, None, &o).unwrap();
    assert!(close(a.chisq, b.chisq), "{} vs {}", a.chisq, b.chisq);
    for (x, y) in a.expected.iter().zip(&b.expected) {
        assert!(close(*x, *y));
    }
}

#[test]
fn cox_concordance_and_zph_tie_round_off() {
    let (exact, noisy, event, design) = cohort_design();
    let o = CoxOptions::default();
    let a = cox_fit(&exact, &event, &design, None, &o).unwrap();
    let b = cox_fit(&noisy, &event, &design, None, &o).unwrap();
    assert!(close(a.loglik, b.loglik), "{} vs {}", a.loglik, b.loglik);
    for (s, t) in a.terms.iter().zip(&b.terms) {
        assert!(close(s.coef, t.coef) && close(s.se, t.se));
    }
    assert_eq!(a.iterations, b.iterations);
    assert_eq!(a.concordance_detail, b.concordance_detail);
    let za = cox_zph(
        &exact,
        &event,
        &design,
        None,
        &a,
        None,
        &ZphOptions::default(),
    )
    .unwrap();
    let zb = cox_zph(
        &noisy,
        &event,
        &design,
        None,
        &b,
        None,
        &ZphOptions::default(),
    )
    .unwrap();
    assert!(close(za.global.chisq, zb.global.chisq));
    assert_eq!(za.time, zb.time);
}

#[test]
fn cox_timefix_exact_compares_times_as_they_are() {
    // R coxph.control(timefix = FALSE): the round-off copies are distinct
    // times, so the tie structure and the partial likelihood change
    let (exact, noisy, event, design) = cohort_design();
    let fixed = cox_fit(&noisy, &event, &design, None, &CoxOptions::default()).unwrap();
    let as_they_are = CoxOptions {
        timefix: survkit::timefix::TimeFix::Exact,
        ..Default::default()
    };
    let raw = cox_fit(&noisy, &event, &design, None, &as_they_are).unwrap();
    assert!(
        !close(fixed.loglik, raw.loglik),
        "{} vs {}",
        fixed.loglik,
        raw.loglik
    );
    // cox.zph of that fit compares the times as the fit did, whether it
    // is given the fit or makes it
    let z = ZphOptions::default();
    let alone = cox_zph(&noisy, &event, &design, None, &raw, None, &z).unwrap();
    let (fit2, with) =
        survkit::zph::cox_fit_and_zph(&noisy, &event, &design, None, &as_they_are, None, &z)
            .unwrap();
    assert_eq!(fit2.loglik.to_bits(), raw.loglik.to_bits());
    let with = with.unwrap();
    assert_eq!(alone.time, with.time);
    assert_eq!(alone.global.chisq.to_bits(), with.global.chisq.to_bits());
    let tied = cox_zph(&noisy, &event, &design, None, &fixed, None, &z).unwrap();
    assert_ne!(alone.time, tied.time);
    // on times R's fix leaves alone, both give the same fit, bit for bit
    let a = cox_fit(&exact, &event, &design, None, &CoxOptions::default()).unwrap();
    let b = cox_fit(&exact, &event, &design, None, &as_they_are).unwrap();
    assert_eq!(a.loglik.to_bits(), b.loglik.to_bits());
    for (s, t) in a.terms.iter().zip(&b.terms) {
        assert_eq!(
            (s.coef.to_bits(), s.se.to_bits()),
            (t.coef.to_bits(), t.se.to_bits())
        );
    }
}

#[test]
fn untied_sets_have_no_tied_subset() {
    use survkit::timefix::{aeq_times, untied_in_every_subset};
    let mut seed = 7u64;
    let mut rnd = move || {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (seed >> 11) as f64 / (1u64 << 53) as f64
    };
    let distinct = |v: &[f64]| {
        let mut d = v.to_vec();
        d.sort_by(f64::total_cmp);
        d.dedup();
        d
    };
    let mut certified = 0;
    for case in 0..400 {
        // months from days (untied), or values with gaps near the tolerance
        // (absolute 2^-26 ≈ 1.5e-8, or relative to the largest time)
        let n = 2 + (rnd() * 30.0) as usize;
        let scale = [1.0, 1e-7, 1e3, 1e8][case % 4];
        let times: Vec<f64> = (0..n)
            .map(|_| match case % 3 {
                0 => (rnd() * 3000.0).floor() / 30.4375,
                _ => (rnd() * 40.0).floor() * scale * (1.0 + rnd() * 1e-7),
            })
            .collect();
        let set = distinct(&times);
        if !untied_in_every_subset(&set) {
            continue;
        }
        certified += 1;
        // then the fix changes neither the set nor any subset of it
        assert!(matches!(aeq_times(&times), std::borrow::Cow::Borrowed(_)));
        for _ in 0..20 {
            let sub: Vec<f64> = times.iter().copied().filter(|_| rnd() < 0.5).collect();
            assert_eq!(&*aeq_times(&sub), &sub[..], "case {case}");
        }
    }
    assert!(certified > 100, "{certified}");
    // near the tolerance: not certified, and some subset does tie
    let close_pair = [1.0, 1.0 + 1e-9, 2.0];
    assert!(!untied_in_every_subset(&close_pair));
    assert_ne!(&*aeq_times(&close_pair), &close_pair[..]);
    let large = [1e9, 1e9 + 1.0];
    assert!(!untied_in_every_subset(&large));
    assert_ne!(&*aeq_times(&large), &large[..]);
    // degenerate sets
    assert!(untied_in_every_subset(&[]));
    assert!(untied_in_every_subset(&[3.5]));
    assert!(!untied_in_every_subset(&[1.0, f64::NAN]));
    assert!(!untied_in_every_subset(&[2.0, 1.0]));
}
