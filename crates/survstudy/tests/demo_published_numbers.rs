//! The embedded demo cohort, run through the built-in plan exactly as
//! `survstudy run` does, reproduces every number of the study's abstract:
//! counts exact, medians within ±0.1 month, p-values equal at 2 significant
//! figures.

use survstudy::analysis::{analyse, survival::SurvivalByGroup, AnalysisOptions, Results};
use survstudy::derive::derive;
use survstudy::ingest::parse_csv;
use survstudy::plan::Plan;

fn results() -> Results {
    let table = parse_csv("demo_cohort.csv", survstudy::synth::demo_csv().as_bytes()).unwrap();
    let plan = Plan::builtin();
    let cohort = derive(&plan, &table, &Default::default()).unwrap();
    analyse(&plan, &cohort, &AnalysisOptions::default())
}

fn find<'a>(r: &'a Results, ep: &str, grouping: &str) -> &'a SurvivalByGroup {
    r.survival
        .iter()
        .find(|s| s.endpoint == ep && s.grouping == grouping)
        .unwrap_or_else(|| panic!("no {ep} by {grouping}"))
}

fn median(s: &SurvivalByGroup, label: &str) -> f64 {
    s.groups
        .iter()
        .find(|g| g.label == label)
        .unwrap()
        .median
        .unwrap()
}

/// p rounded to 2 significant figures.
fn sig2(p: f64) -> f64 {
    let mag = p.log10().floor();
    let scale = 10f64.powf(1.0 - mag);
    (p * scale).round() / scale
}

fn check(r: &Results, ep: &str, grouping: &str, yes: f64, no: f64, p: f64) {
    let s = find(r, ep, grouping);
    let (my, mn) = (median(s, "yes"), median(s, "no"));
    assert!(
        (my - yes).abs() <= 0.1 + 1e-9,
        "{ep} {grouping} yes median {my} vs {yes}"
    );
    assert!(
        (mn - no).abs() <= 0.1 + 1e-9,
        "{ep} {grouping} no median {mn} vs {no}"
    );
    let lp = s.logrank.as_ref().unwrap().p;
    assert!(
        (sig2(lp) - p).abs() < p * 1e-9,
        "{ep} {grouping} log-rank p {lp} is not {p} at 2 s.f."
    );
    assert_eq!(s.logrank.as_ref().unwrap().df, 1);
}

#[test]
fn demo_reproduces_the_abstract() {
    let r = results();
    assert_eq!(r.n, 106);
    assert_eq!(r.flow.rows_read, 106);
    assert_eq!(r.flow.analysed, 106);
    assert_eq!(r.counts["emd_at_infusion"], 35);
    assert_eq!(r.counts["prog_biochemical"], 87);
    assert_eq!(r.counts["prog_emd_or_pmd"], 54);
    check(&r, "PFS", "emd_at_infusion", 3.6, 7.0, 0.0076);
    check(&r, "OS", "emd_at_infusion", 4.8, 21.0, 0.00086);
    check(&r, "PFS", "prog_emd", 4.7, 8.5, 0.022);
    check(&r, "OS", "prog_emd", 7.4, 21.1, 0.035);
    for ep in ["OS", "PFS"] {
        let s = find(&r, ep, "emd_baseline_x_progression");
        let both = median(s, "both");
        for g in &s.groups {
            if g.label != "both" {
                assert!(
                    g.median.is_none_or(|m| m > both),
                    "{ep}: both ({both}) not lowest vs {}",
                    g.label
                );
            }
        }
        assert_eq!(s.logrank.as_ref().unwrap().df, 3);
        for pmd in ["pmd_at_infusion", "prog_pmd"] {
            let p = find(&r, ep, pmd).logrank.as_ref().unwrap().p;
            assert!(p > 0.05, "{ep} {pmd} p = {p}");
        }
    }
}
