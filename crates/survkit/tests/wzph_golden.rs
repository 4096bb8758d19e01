//! cox.zph of weighted and (start, stop] Cox fits against R survival 3.5-3
//! (`tests/data/obs/*.json`, `zph:*` cases). 1e-5 relative: the statistics are
//! evaluated at R's iterated β̂ (see `wcox_golden.rs`).

mod obs_common;
use obs_common::*;
use survkit::cox::{cox_fit_rows, CoxOptions, CoxRows, Design, Ties, Variance};
use survkit::wkm::robust_default;
use survkit::zph::{cox_zph_rows, Transform, ZphOptions};

fn run(file: &str) -> usize {
    let mut count = 0;
    for case in load_cases(file).iter().filter(|c| c["kind"] == "zph") {
        let id = case["id"].as_str().unwrap();
        let d = case_data(case);
        let design = Design::from_numeric(d.covariates.clone());
        let robust = flag(&case["cli"], "--robust").is_some()
            || robust_default(&d.event, d.weight.as_deref(), d.id.as_deref()).is_some();
        let opts = CoxOptions {
            ties: Ties::parse(&flag(&case["cli"], "--ties").unwrap()).unwrap(),
            variance: if robust {
                Variance::Robust
            } else {
                Variance::ModelBased
            },
            ..Default::default()
        };
        let rows = CoxRows {
            start: d.start.as_deref(),
            weight: d.weight.as_deref(),
        };
        let cluster = if robust { d.id.as_deref() } else { None };
        let fit = cox_fit_rows(&d.stop, &d.event, &design, None, cluster, &rows, &opts).unwrap();
        let zo = ZphOptions {
            transform: Transform::parse(&flag(&case["cli"], "--transform").unwrap()).unwrap(),
            ..Default::default()
        };
        let z = cox_zph_rows(&d.stop, &d.event, &design, None, &rows, &fit, None, &zo).unwrap();
        let tests: Vec<_> = z.terms.iter().chain(std::iter::once(&z.global)).collect();
        let r = case["tests"].as_array().unwrap();
        assert_eq!(tests.len(), r.len());
        for (t, rt) in tests.iter().zip(r) {
            assert_eq!(t.term, rt["term"].as_str().unwrap());
            check(
                &format!("{id} {} chisq", t.term),
                t.chisq,
                &rt["chisq"],
                1e-5,
                1e-8,
            );
            assert_eq!(t.df as f64, rt["df"].as_f64().unwrap());
            check(&format!("{id} {} p", t.term), t.p, &rt["p"], 1e-5, 1e-12);
        }
        count += 1;
    }
    count
}

#[test]
fn zph_of_weighted_fits_matches_r() {
    assert_eq!(run("lung_weighted.json"), 4);
}

#[test]
fn zph_of_counting_process_fits_matches_r() {
    assert_eq!(run("heart_counting.json"), 4);
}
