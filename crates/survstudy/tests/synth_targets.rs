//! The synthetic demo cohort reproduces the published abstract when analysed the
//! way the pipeline does it: read back from CSV, endpoints derived from the dates
//! (time zero = progression, months = days / 30.4375), KM medians and log-rank
//! tests from survkit. Nothing here reuses the generator's own scoring code.

use std::collections::HashSet;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use chrono::NaiveDate;
use survkit::km::{kaplan_meier, KmOptions};
use survkit::logrank::{logrank, LogrankOptions};
use survstudy::synth::{self, SynthOptions};

const MONTH: f64 = 30.4375;

struct Generated {
    csv: String,
    elapsed: Duration,
}

fn generate_csv(opts: &SynthOptions) -> Generated {
    let t = Instant::now();
    let cohort = synth::generate(opts).expect("generation succeeds");
    let elapsed = t.elapsed();
    let mut buf = Vec::new();
    synth::write_csv(&cohort, &mut buf).expect("CSV written");
    Generated {
        csv: String::from_utf8(buf).expect("UTF-8"),
        elapsed,
    }
}

fn default_cohort() -> &'static Generated {
    static CELL: OnceLock<Generated> = OnceLock::new();
    CELL.get_or_init(|| generate_csv(&SynthOptions::default()))
}

fn seed2_cohort() -> &'static Generated {
    static CELL: OnceLock<Generated> = OnceLock::new();
    CELL.get_or_init(|| {
        generate_csv(&SynthOptions {
            seed: 2,
            ..SynthOptions::default()
        })
    })
}

/// One CSV row, parsed as the built-in schema describes it.
#[derive(Debug)]
struct Row {
    id: String,
    product: String,
    infusion: NaiveDate,
    emd0: bool,
    pmd0: bool,
    progression: NaiveDate,
    biochemical: bool,
    emd1: bool,
    pmd1: bool,
    last_fu: NaiveDate,
    death: Option<NaiveDate>,
    nl_start: Option<NaiveDate>,
    nl_prog: Option<NaiveDate>,
    nl_category: String,
}

fn parse(csv_text: &str) -> Vec<Row> {
    let mut rdr = csv::Reader::from_reader(csv_text.as_bytes());
    let headers = rdr.headers().unwrap().clone();
    let expected = [
        "patient_id",
        "cart_product",
        "cart_infusion_date",
        "emd_at_infusion",
        "pmd_at_infusion",
        "progression_date",
        "prog_biochemical",
        "prog_emd",
        "prog_pmd",
        "last_followup_date",
        "death_date",
        "next_line_start_date",
        "next_line_progression_date",
        "next_line_category",
        "age_at_infusion",
        "sex",
        "high_risk_cytogenetics",
        "riss",
        "prior_lines",
        "prior_bcma",
        "penta_refractory",
        "bridging_therapy",
        "ecog",
        "best_response_cart",
        "data_source",
    ];
    assert_eq!(headers.iter().collect::<Vec<_>>(), expected);
    let col = |name: &str| headers.iter().position(|h| h == name).unwrap();
    let date = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("ISO date");
    let opt_date = |s: &str| (!s.is_empty()).then(|| date(s));
    let flag = |s: &str| match s {
        "yes" => true,
        "no" => false,
        other => panic!("flag {other:?} is not yes/no"),
    };
    rdr.records()
        .map(|r| {
            let r = r.unwrap();
            for name in [
                "high_risk_cytogenetics",
                "prior_bcma",
                "penta_refractory",
                "bridging_therapy",
            ] {
                flag(&r[col(name)]);
            }
            assert!(["M", "F"].contains(&&r[col("sex")]));
            let age: u32 = r[col("age_at_infusion")].parse().unwrap();
            assert!((18..=100).contains(&age));
            let ecog: u32 = r[col("ecog")].parse().unwrap();
            assert!(ecog <= 4);
            let lines: u32 = r[col("prior_lines")].parse().unwrap();
            assert!(lines >= 1);
            assert!(["I", "II", "III", "unknown"].contains(&&r[col("riss")]));
            assert!(["sCR", "CR", "VGPR", "PR", "MR", "SD", "PD"]
                .contains(&&r[col("best_response_cart")]));
            Row {
                id: r[col("patient_id")].to_string(),
                product: r[col("cart_product")].to_string(),
                infusion: date(&r[col("cart_infusion_date")]),
                emd0: flag(&r[col("emd_at_infusion")]),
                pmd0: flag(&r[col("pmd_at_infusion")]),
                progression: date(&r[col("progression_date")]),
                biochemical: flag(&r[col("prog_biochemical")]),
                emd1: flag(&r[col("prog_emd")]),
                pmd1: flag(&r[col("prog_pmd")]),
                last_fu: date(&r[col("last_followup_date")]),
                death: opt_date(&r[col("death_date")]),
                nl_start: opt_date(&r[col("next_line_start_date")]),
                nl_prog: opt_date(&r[col("next_line_progression_date")]),
                nl_category: r[col("next_line_category")].to_string(),
            }
        })
        .collect()
}

/// (time in months, event) for OS and PFS, as the pipeline derives them.
fn endpoints(rows: &[Row]) -> [(Vec<f64>, Vec<bool>); 2] {
    let months = |a: NaiveDate, b: NaiveDate| (b - a).num_days() as f64 / MONTH;
    let mut os = (Vec::new(), Vec::new());
    let mut pfs = (Vec::new(), Vec::new());
    for r in rows {
        let os_end = r.death.unwrap_or(r.last_fu);
        os.0.push(months(r.progression, os_end));
        os.1.push(r.death.is_some());
        let first = [r.nl_prog, r.death].into_iter().flatten().min();
        pfs.0
            .push(months(r.progression, first.unwrap_or(r.last_fu)));
        pfs.1.push(first.is_some());
    }
    [os, pfs]
}

fn median(ep: &(Vec<f64>, Vec<bool>), keep: &[bool]) -> Option<f64> {
    let (t, e): (Vec<f64>, Vec<bool>) =
        ep.0.iter()
            .zip(&ep.1)
            .zip(keep)
            .filter(|(_, &k)| k)
            .map(|((&t, &e), _)| (t, e))
            .unzip();
    kaplan_meier(&t, &e, &KmOptions::default())
        .unwrap()
        .median()
        .estimate
}

fn p_value(ep: &(Vec<f64>, Vec<bool>), flag: &[bool]) -> f64 {
    let group: Vec<usize> = flag.iter().map(|&f| usize::from(f)).collect();
    logrank(&ep.0, &ep.1, &group, None, &LogrankOptions::default())
        .unwrap()
        .p
}

/// The median matches the published one-decimal value (so also within ±0.1).
fn assert_median(label: &str, got: Option<f64>, target: f64) {
    let m = got.unwrap_or_else(|| panic!("{label}: median not reached"));
    assert!(
        (m - target).abs() <= 0.1,
        "{label}: median {m:.4} not within 0.1 of {target}"
    );
    assert!(
        m >= target - 0.05 && m < target + 0.05,
        "{label}: median {m:.4} does not round to {target}"
    );
}

/// p equals the published value at two significant figures.
fn assert_p(label: &str, p: f64, lo: f64, hi: f64) {
    assert!(p >= lo && p < hi, "{label}: p = {p} not in [{lo}, {hi})");
}

fn not(v: &[bool]) -> Vec<bool> {
    v.iter().map(|b| !b).collect()
}

fn assert_published_targets(rows: &[Row]) {
    assert_eq!(rows.len(), 106);
    let emd0: Vec<bool> = rows.iter().map(|r| r.emd0).collect();
    let emd1: Vec<bool> = rows.iter().map(|r| r.emd1).collect();
    let pmd0: Vec<bool> = rows.iter().map(|r| r.pmd0).collect();
    let pmd1: Vec<bool> = rows.iter().map(|r| r.pmd1).collect();
    assert_eq!(emd0.iter().filter(|&&b| b).count(), 35, "baseline EMD");
    assert_eq!(
        rows.iter().filter(|r| r.biochemical).count(),
        87,
        "biochemical relapse"
    );
    assert_eq!(
        rows.iter().filter(|r| r.emd1 || r.pmd1).count(),
        54,
        "EMD or PMD at progression"
    );

    let [os, pfs] = endpoints(rows);
    assert_median("PFS baseline EMD", median(&pfs, &emd0), 3.6);
    assert_median("PFS no baseline EMD", median(&pfs, &not(&emd0)), 7.0);
    assert_p("PFS baseline EMD", p_value(&pfs, &emd0), 0.00755, 0.00765);
    assert_median("OS baseline EMD", median(&os, &emd0), 4.8);
    assert_median("OS no baseline EMD", median(&os, &not(&emd0)), 21.0);
    assert_p("OS baseline EMD", p_value(&os, &emd0), 0.000855, 0.000865);
    assert_median("PFS EMD at progression", median(&pfs, &emd1), 4.7);
    assert_median("PFS no EMD at progression", median(&pfs, &not(&emd1)), 8.5);
    assert_p(
        "PFS EMD at progression",
        p_value(&pfs, &emd1),
        0.0215,
        0.0225,
    );
    assert_median("OS EMD at progression", median(&os, &emd1), 7.4);
    assert_median("OS no EMD at progression", median(&os, &not(&emd1)), 21.1);
    assert_p("OS EMD at progression", p_value(&os, &emd1), 0.0345, 0.0355);

    for (name, ep) in [("OS", &os), ("PFS", &pfs)] {
        let cell = |b: bool, p: bool| -> Vec<bool> {
            rows.iter().map(|r| r.emd0 == b && r.emd1 == p).collect()
        };
        let inf = |m: Option<f64>| m.unwrap_or(f64::INFINITY);
        let both = inf(median(ep, &cell(true, true)));
        for (label, b, p) in [
            ("baseline only", true, false),
            ("progression only", false, true),
            ("neither", false, false),
        ] {
            let other = inf(median(ep, &cell(b, p)));
            assert!(
                both < other,
                "{name}: EMD-at-both median {both} not below {label} {other}"
            );
        }
        for (label, flag) in [("PMD at infusion", &pmd0), ("PMD at progression", &pmd1)] {
            let p = p_value(ep, flag);
            assert!(p > 0.05, "{name} {label}: p = {p} should exceed 0.05");
        }
    }
}

fn assert_valid(rows: &[Row]) {
    let from = NaiveDate::from_ymd_opt(2021, 5, 1).unwrap();
    let to = NaiveDate::from_ymd_opt(2023, 12, 31).unwrap();
    let mut ids = HashSet::new();
    for r in rows {
        let id = &r.id;
        assert!(ids.insert(id.clone()), "duplicate {id}");
        assert!(
            id.starts_with("SYN-") && id[4..].chars().all(|c| c.is_ascii_digit()),
            "{id}"
        );
        assert!(
            ["ide-cel", "cilta-cel"].contains(&r.product.as_str()),
            "{id}"
        );
        assert!(
            r.infusion >= from && r.infusion <= to,
            "{id}: infusion {}",
            r.infusion
        );
        assert!(
            r.progression >= r.infusion,
            "{id}: progression before infusion"
        );
        assert!(
            r.last_fu >= r.progression,
            "{id}: follow-up before progression"
        );
        if let Some(d) = r.death {
            assert_eq!(r.last_fu, d, "{id}: follow-up must end at death");
        }
        if let Some(s) = r.nl_start {
            assert!(s >= r.progression, "{id}: next line before progression");
            assert!(s <= r.last_fu, "{id}: next line after last follow-up");
        }
        if let Some(p) = r.nl_prog {
            let s = r
                .nl_start
                .unwrap_or_else(|| panic!("{id}: next-line progression without a next line"));
            assert!(p >= s, "{id}: next-line progression before its start");
            assert!(
                p <= r.last_fu,
                "{id}: next-line progression after follow-up"
            );
        }
        let categories = [
            "bispecific",
            "clinical trial",
            "salvage chemotherapy",
            "radiation",
        ];
        if r.nl_start.is_some() {
            assert!(
                categories.contains(&r.nl_category.as_str()),
                "{id}: {}",
                r.nl_category
            );
        } else {
            assert!(
                r.nl_category.is_empty(),
                "{id}: category without a next line"
            );
        }
    }
    // there is a data cut-off: every survivor is censored on one common date,
    // and no date lies beyond it
    let alive: HashSet<NaiveDate> = rows
        .iter()
        .filter(|r| r.death.is_none())
        .map(|r| r.last_fu)
        .collect();
    assert_eq!(alive.len(), 1, "administrative censoring at one cut-off");
    let cutoff = *alive.iter().next().unwrap();
    assert!(rows.iter().all(|r| r.last_fu <= cutoff));
}

#[test]
fn default_cohort_reproduces_the_abstract() {
    let rows = parse(&default_cohort().csv);
    assert_published_targets(&rows);
}

#[test]
fn default_cohort_satisfies_every_date_rule() {
    assert_valid(&parse(&default_cohort().csv));
}

#[test]
fn same_seed_gives_the_same_bytes() {
    let again = generate_csv(&SynthOptions::default());
    assert_eq!(again.csv, default_cohort().csv);
}

#[test]
fn another_seed_gives_a_different_valid_calibrated_cohort() {
    let other = &seed2_cohort().csv;
    assert_ne!(other, &default_cohort().csv);
    let rows = parse(other);
    assert_valid(&rows);
    assert_published_targets(&rows);
}

#[test]
fn other_sizes_scale_counts_and_stay_valid() {
    let g = generate_csv(&SynthOptions {
        n: 53,
        ..SynthOptions::default()
    });
    let rows = parse(&g.csv);
    assert_eq!(rows.len(), 53);
    assert_valid(&rows);
    let emd0 = rows.iter().filter(|r| r.emd0).count();
    assert!((17..=18).contains(&emd0), "baseline EMD {emd0} ≈ 33%");
}

#[test]
fn calibration_is_fast_in_release() {
    let g = default_cohort();
    if cfg!(debug_assertions) {
        eprintln!(
            "debug build: calibration took {:?} (not asserted)",
            g.elapsed
        );
        return;
    }
    assert!(
        g.elapsed < Duration::from_secs(1),
        "calibration took {:?}",
        g.elapsed
    );
}

/// The embedded demo file is exactly what `generate(default)` writes.
/// Regenerate with `SURVSTUDY_BLESS_DEMO=1 cargo test -p survstudy --release --test synth_targets`.
#[test]
fn embedded_demo_csv_is_current() {
    let fresh = &default_cohort().csv;
    if std::env::var_os("SURVSTUDY_BLESS_DEMO").is_some() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/assets/demo_cohort.csv");
        std::fs::write(path, fresh).expect("write demo cohort");
        return;
    }
    let embedded = synth::demo_csv();
    if embedded != fresh.as_str() {
        let line = embedded
            .lines()
            .zip(fresh.lines())
            .position(|(a, b)| a != b)
            .unwrap_or_else(|| embedded.lines().count().min(fresh.lines().count()));
        panic!(
            "assets/demo_cohort.csv is stale from line {} on (embedded {} lines, generated {}): \
             rerun with SURVSTUDY_BLESS_DEMO=1",
            line + 1,
            embedded.lines().count(),
            fresh.lines().count()
        );
    }
}

/// Issue 13's realism criterion with its stated settings (400 seeded Weibull
/// redraws per endpoint, faults above the 97.5th percentile).
fn assert_realistic(label: &str, cohort: &synth::SynthCohort, opts: &synth::RealismOptions) {
    let r = synth::realism(&cohort.patients, opts).expect("both groups have events");
    assert_eq!(r.endpoints.len(), 2);
    for e in &r.endpoints {
        // the fits are sensible survival curves, not degenerate
        for f in e.fits {
            assert!(f.shape > 0.3 && f.shape < 5.0, "{label}: {f:?}");
            assert!(f.median() > 30.0 && f.median() < 3000.0, "{label}: {f:?}");
        }
    }
    assert_eq!(r.faults(), 0, "{label} ({opts:?}): {}", r.describe());
}

/// The embedded demo cohort has no event cluster or empty stretch that the
/// criterion flags — with the criterion's own redraw seed, under censoring at
/// the cut-off instead of at last follow-up, and with other redraw streams.
#[test]
fn embedded_demo_cohort_has_no_realism_fault() {
    let cohort = synth::generate(&SynthOptions::default()).unwrap();
    // this is the embedded file (also checked by embedded_demo_csv_is_current)
    assert_eq!(synth::to_csv_string(&cohort).unwrap(), synth::demo_csv());
    for seed in [13, 1, 2, 3] {
        for censoring in [
            synth::RedrawCensoring::LastFollowUp,
            synth::RedrawCensoring::DataCutoff,
        ] {
            let opts = synth::RealismOptions {
                seed,
                censoring,
                ..Default::default()
            };
            assert_eq!(opts.redraws, 400);
            assert_realistic("embedded cohort", &cohort, &opts);
        }
    }
}

/// Other seeds are realistic too and still reproduce the abstract (seed 2 is
/// covered by another_seed_gives_a_different_valid_calibrated_cohort's data).
#[test]
fn other_seeds_have_no_realism_fault_and_meet_the_targets() {
    for seed in [2, 3, 4] {
        let opts = SynthOptions {
            seed,
            ..SynthOptions::default()
        };
        let g = generate_csv(&opts);
        assert_published_targets(&parse(&g.csv));
        let cohort = synth::generate(&opts).unwrap();
        assert_realistic(&format!("seed {seed}"), &cohort, &Default::default());
    }
}
