use super::calibrate::{Endpoint, G_BASE_NO, G_BASE_YES, G_PROG_NO, G_PROG_YES};
use super::*;

fn cells_of(patients: &[SynthPatient]) -> Vec<EmdCell> {
    patients
        .iter()
        .map(|p| match (p.emd_at_infusion, p.prog_emd) {
            (true, true) => EmdCell::Both,
            (true, false) => EmdCell::BaselineOnly,
            (false, true) => EmdCell::ProgressionOnly,
            (false, false) => EmdCell::Neither,
        })
        .collect()
}

/// The specialised integer-day scanner agrees with survkit on the final cohort.
#[test]
fn scanner_agrees_with_survkit_on_default_cohort() {
    let cohort = generate(&SynthOptions::default()).unwrap();
    let summary = summarize(&cohort.patients).unwrap();
    let cells = cells_of(&cohort.patients);
    let (os, pfs) = endpoints(&cohort.patients);
    for (data, s) in [(&os, &summary.os), (&pfs, &summary.pfs)] {
        let days: Vec<i32> = data
            .time
            .iter()
            .map(|t| (t * MONTH_DAYS).round() as i32)
            .collect();
        let stats = Endpoint::new(days, data.event.clone(), &cells).stats();
        let pairs = [
            (G_BASE_YES, s.median_baseline_emd),
            (G_BASE_NO, s.median_no_baseline_emd),
            (G_PROG_YES, s.median_progression_emd),
            (G_PROG_NO, s.median_no_progression_emd),
        ];
        for (g, m) in pairs {
            let mine = stats.median[g] / MONTH_DAYS;
            let theirs = m.unwrap();
            assert!(
                (mine - theirs).abs() < 1e-9,
                "group {g}: {mine} vs {theirs}"
            );
        }
        for c in 0..4 {
            let mine = stats.median[c];
            match s.cell_medians[c] {
                Some(m) => assert!((mine / MONTH_DAYS - m).abs() < 1e-9),
                None => assert!(mine.is_infinite()),
            }
        }
        for (mine, theirs) in stats.p.iter().zip([s.p_baseline_emd, s.p_progression_emd]) {
            assert!((mine - theirs).abs() <= 1e-9 * theirs, "{mine} vs {theirs}");
        }
    }
}

#[test]
fn default_cohort_meets_targets_and_reports_calibration() {
    let cohort = generate(&SynthOptions::default()).unwrap();
    assert!(cohort.report.calibrated);
    let failures = summarize(&cohort.patients)
        .unwrap()
        .failures(&CalibrationTargets::default(), &cohort.counts);
    assert!(failures.is_empty(), "{failures:?}");
    eprintln!("{:?}", cohort.report);
}

#[test]
fn other_sizes_are_model_draws_with_scaled_counts() {
    let cohort = generate(&SynthOptions {
        n: 212,
        ..SynthOptions::default()
    })
    .unwrap();
    assert!(!cohort.report.calibrated);
    assert_eq!(cohort.patients.len(), 212);
    let s = summarize(&cohort.patients).unwrap();
    assert_eq!(s.baseline_emd, 70);
    assert_eq!(s.emd_or_pmd_at_progression, 108);
}

#[test]
fn invalid_options_are_typed_errors() {
    let err = generate(&SynthOptions {
        n: 5,
        ..SynthOptions::default()
    })
    .unwrap_err();
    assert!(matches!(err, SynthError::InvalidOption { name: "n", .. }));
    let err = generate(&SynthOptions {
        data_cutoff: NaiveDate::from_ymd_opt(2022, 1, 1).unwrap(),
        ..SynthOptions::default()
    })
    .unwrap_err();
    assert!(matches!(
        err,
        SynthError::InvalidOption {
            name: "data_cutoff",
            ..
        }
    ));
}

/// Diagnostics: how often and how fast the search succeeds over seeds.
#[test]
#[ignore]
fn seed_sweep() {
    let hi: u64 = std::env::var("SYNTH_SEEDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(30);
    for seed in 1..=hi {
        let t = std::time::Instant::now();
        let r = generate(&SynthOptions {
            seed,
            ..SynthOptions::default()
        });
        match r {
            Ok(c) => eprintln!("seed {seed}: ok {:?} ({:?})", c.report, t.elapsed()),
            Err(e) => eprintln!("seed {seed}: {e} ({:?})", t.elapsed()),
        }
    }
}

/// Diagnostics: realism faults (issue 13) over seeds.
#[test]
#[ignore]
fn realism_sweep() {
    let hi: u64 = std::env::var("SYNTH_SEEDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20);
    let mut clean = 0;
    for seed in 1..=hi {
        let t = std::time::Instant::now();
        let c = generate(&SynthOptions {
            seed,
            ..SynthOptions::default()
        })
        .unwrap();
        let el = t.elapsed();
        if c.report.attempts > 1 {
            let e = generate(&SynthOptions {
                seed,
                max_attempts: 1,
                ..SynthOptions::default()
            })
            .unwrap_err();
            eprintln!("  first attempt: {e}");
        }
        let r = realism(&c.patients, &RealismOptions::default()).unwrap();
        clean += usize::from(r.faults() == 0);
        eprintln!(
            "seed {seed}: {} faults ({el:?}, {} attempts, {} evaluations) {}",
            r.faults(),
            c.report.attempts,
            c.report.evaluations,
            r.describe()
        );
    }
    eprintln!("{clean} of {hi} seeds without fault");
}
