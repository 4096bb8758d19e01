//! Landmark analysis of a grouping fixed after time zero (next-line therapy):
//! only patients still at risk at the landmark, clock restarted there.

mod common;

use common::tol::EXACT_ARITH;
use survstudy::analysis::{analyse, AnalysisOptions};
use survstudy::derive::derive;
use survstudy::ingest::parse_csv;
use survstudy::plan::Plan;

#[test]
fn next_line_category_is_a_landmark_analysis() {
    let table = parse_csv("demo.csv", survstudy::synth::demo_csv().as_bytes()).unwrap();
    let plan = Plan::builtin();
    let cohort = derive(&plan, &table, &Default::default()).unwrap();
    let r = analyse(&plan, &cohort, &AnalysisOptions::default());
    let l = plan
        .groupings
        .iter()
        .find(|g| g.name == "next_line_category")
        .unwrap()
        .landmark
        .unwrap();
    assert_eq!(l, 3.0);
    for ep in ["OS", "PFS"] {
        let s = r
            .survival
            .iter()
            .find(|s| s.endpoint == ep && s.grouping == "next_line_category")
            .unwrap();
        assert_eq!(s.landmark, Some(l));
        let e = cohort.endpoint(ep).unwrap();
        let g = cohort.grouping("next_line_category").unwrap();
        // expected: at risk at L with a category
        let mut expected = 0;
        let mut min_time = f64::INFINITY;
        for (i, rec) in e.records.iter().enumerate() {
            if let (Some(rec), Some(_)) = (rec, &g.labels[i]) {
                let t = e.time_of(i, rec);
                if t >= l {
                    expected += 1;
                    min_time = min_time.min(t - l);
                }
            }
        }
        let n: usize = s.groups.iter().map(|g| g.n).sum();
        assert_eq!(n, expected, "{ep}");
        assert!(n < e.n(), "{ep}: the landmark must leave some patients out");
        // times restart at the landmark
        let first = s
            .groups
            .iter()
            .filter_map(|g| g.curve.as_ref())
            .map(|c| c.time[0])
            .fold(f64::INFINITY, f64::min);
        assert_close!(first, min_time, EXACT_ARITH);
        assert!(s.notes.iter().any(|n| n.contains("landmark")));
    }
}
