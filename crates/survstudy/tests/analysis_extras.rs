//! The built-in plan's competing-risks, RMST and proportional-hazards
//! analyses, checked against identities with independent code paths.

mod common;

use common::tol::{ACCUMULATED, EXACT_ARITH};
use survstudy::analysis::{analyse, AnalysisOptions, Results};
use survstudy::derive::derive;
use survstudy::ingest::parse_csv;
use survstudy::plan::Plan;

fn results() -> (Results, survstudy::derive::Cohort) {
    let table = parse_csv("demo.csv", survstudy::synth::demo_csv().as_bytes()).unwrap();
    let plan = Plan::builtin();
    let cohort = derive(&plan, &table, &Default::default()).unwrap();
    (analyse(&plan, &cohort, &AnalysisOptions::default()), cohort)
}

/// Step function value at t from (time, value) pairs (right-continuous).
fn step(time: &[f64], val: &[f64], t: f64) -> f64 {
    let mut v = 0.0;
    for (x, y) in time.iter().zip(val) {
        if *x <= t {
            v = *y;
        }
    }
    v
}

#[test]
fn cumulative_incidences_add_up_to_one_minus_pfs() {
    let (r, _) = results();
    let cr = &r.competing_risks[0];
    assert_eq!(cr.code, "NLP");
    assert_eq!(cr.by.as_deref(), Some("emd_at_infusion"));
    assert_eq!(cr.curves.len(), 4, "2 causes x 2 groups");
    // PFS = earliest of next-line progression and death: the same composite
    let pfs = r
        .survival
        .iter()
        .find(|s| s.endpoint == "PFS" && s.grouping == "emd_at_infusion")
        .unwrap();
    for g in &pfs.groups {
        let curve = g.curve.as_ref().unwrap();
        let c1 = cr
            .curves
            .iter()
            .find(|c| c.group == g.label && c.cause == 1)
            .unwrap();
        let c2 = cr
            .curves
            .iter()
            .find(|c| c.group == g.label && c.cause == 2)
            .unwrap();
        assert_eq!(c1.n, g.n);
        assert_eq!(c1.events + c2.events, g.events);
        for t in [1.0, 3.0, 6.0, 9.0, 12.0, 24.0] {
            let s = step(&curve.time, &curve.surv, t);
            let s = if curve.time[0] > t { 1.0 } else { s };
            let f = step(&c1.time, &c1.est, t) + step(&c2.time, &c2.est, t);
            assert_close!(f, 1.0 - s, EXACT_ARITH, "{} t={t}", g.label);
        }
    }
    for g in &cr.gray_test {
        assert!(g.p >= 0.0 && g.p <= 1.0 && g.stat >= 0.0);
        assert_eq!(g.df, 1);
    }
}

#[test]
fn rmst_is_the_area_under_each_group_curve() {
    let (r, _) = results();
    let s = r
        .survival
        .iter()
        .find(|s| s.endpoint == "OS" && s.grouping == "emd_at_infusion")
        .unwrap();
    let rm = s.rmst.as_ref().expect("rmst for a yes/no grouping");
    assert_eq!(rm.tau, 12.0);
    for g in &rm.groups {
        let c = s
            .groups
            .iter()
            .find(|x| x.label == g.label)
            .unwrap()
            .curve
            .as_ref()
            .unwrap();
        // integrate the KM step function from 0 to tau
        let (mut area, mut prev_t, mut prev_s) = (0.0, 0.0, 1.0);
        for (t, sv) in c.time.iter().zip(&c.surv) {
            if *t > rm.tau {
                break;
            }
            area += (t - prev_t) * prev_s;
            prev_t = *t;
            prev_s = *sv;
        }
        area += (rm.tau - prev_t) * prev_s;
        assert_close!(area, g.rmst, ACCUMULATED, "{}", g.label);
    }
    assert_eq!(rm.groups[0].label, "no");
    assert_close!(
        rm.difference.estimate,
        rm.groups[1].rmst - rm.groups[0].rmst,
        EXACT_ARITH
    );
    // a four-level grouping has no two-group RMST
    let x = r
        .survival
        .iter()
        .find(|s| s.grouping == "emd_baseline_x_progression")
        .unwrap();
    assert!(x.rmst.is_none());
}

#[test]
fn every_cox_model_carries_its_ph_test() {
    let (r, _) = results();
    for s in &r.survival {
        if let Some(c) = &s.cox {
            let ph = c
                .ph_test
                .as_ref()
                .unwrap_or_else(|| panic!("{} {}", s.endpoint, s.grouping));
            assert_eq!(ph.terms.len(), 1, "one term per univariable model");
            // a single term: the global test is that term's test
            assert_close!(ph.global.chisq, ph.terms[0].chisq, ACCUMULATED);
            assert_eq!(ph.terms[0].df, c.terms.len());
            for f in &ph.flagged {
                assert!(ph.terms.iter().any(|t| t.term == f.term && t.p < 0.05));
                assert_eq!(f.time.len(), f.beta_t.len());
            }
        }
    }
    for m in &r.multivariable {
        let c = m.cox.as_ref().unwrap();
        let ph = c.ph_test.as_ref().unwrap();
        assert!(ph.terms.len() >= 2);
        assert!(ph.global.df >= ph.terms.len());
    }
}

#[test]
fn four_level_emd_group_uses_neither_as_cox_reference() {
    let (r, _) = results();
    let s = r
        .survival
        .iter()
        .find(|s| s.endpoint == "OS" && s.grouping == "emd_baseline_x_progression")
        .unwrap();
    // display order stays as the plan lists it
    let labels: Vec<&str> = s.groups.iter().map(|g| g.label.as_str()).collect();
    assert_eq!(
        labels,
        ["both", "baseline only", "progression only", "neither"]
    );
    let c = s.cox.as_ref().unwrap();
    assert_eq!(c.terms.len(), 3);
    for t in &c.terms {
        assert_eq!(t.reference.as_deref(), Some("neither"));
    }
    let both = c
        .terms
        .iter()
        .find(|t| t.level.as_deref() == Some("both"))
        .unwrap();
    assert!(
        both.hr.unwrap() > 1.0,
        "EMD at both times carries the highest hazard"
    );
    assert_eq!(both.term, "emd_baseline_x_progressionboth");
}
