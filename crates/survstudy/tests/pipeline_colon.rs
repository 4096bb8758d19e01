//! A study of another disease through a plan: R's `colon` data (929
//! patients, etype == 2) exported with its own column names, a text vital
//! status deciding the event, NA-like cells; the numbers must match R
//! (tests/data/colon/*.json, copied from the team's R oracle).

use std::path::{Path, PathBuf};

use survstudy::analysis::{analyse, AnalysisOptions};
use survstudy::derive::{derive, DeriveOptions, ProblemKind};
use survstudy::ingest::{parse_csv, read_table};
use survstudy::plan::Plan;

fn data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name)
}

fn json(name: &str) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(data(name)).unwrap()).unwrap()
}

fn rel(a: f64, b: f64) -> f64 {
    (a - b).abs() / b.abs().max(1e-300)
}

#[test]
fn colon_export_matches_r() {
    let plan = Plan::from_file(&data("colon_plan.toml")).unwrap();
    let t = read_table(&data("colon_export.csv"), None).unwrap();
    let c = derive(&plan, &t, &DeriveOptions::default()).unwrap();
    assert_eq!(c.patients.len(), 929);
    assert!(c.flow.notes.is_empty(), "{:?}", c.flow.notes);
    let r = analyse(&plan, &c, &AnalysisOptions::default());
    let km = json("colon/km_subset.json");
    let o = &r.endpoints[0].overall;
    assert_eq!(o.n as u64, km["overall"]["n"].as_u64().unwrap());
    assert_eq!(o.events as u64, km["overall"]["events"].as_u64().unwrap());
    assert_eq!(o.median, km["overall"]["median"]["median"].as_f64());
    assert_eq!(o.median_lower, km["overall"]["median"]["lower"].as_f64());
    assert_eq!(o.median_upper, None);
    let lm = &km["overall"]["landmarks"];
    for (i, l) in o.landmarks.iter().enumerate() {
        assert_eq!(l.n_risk, lm["n_risk"][i].as_u64().unwrap());
        assert!(rel(l.surv.unwrap(), lm["surv"][i].as_f64().unwrap()) < 1e-9);
    }
    let s = &r.survival[0];
    assert_eq!(s.n_used, 929);
    for (g, want) in s.groups.iter().zip(km["rx"].as_array().unwrap()) {
        assert_eq!(g.label, want["level"].as_str().unwrap());
        assert_eq!(g.n as u64, want["n"].as_u64().unwrap());
        assert_eq!(g.events as u64, want["events"].as_u64().unwrap());
        assert_eq!(g.median, want["median"]["median"].as_f64());
        assert_eq!(g.median_lower, want["median"]["lower"].as_f64());
        assert_eq!(g.median_upper, want["median"]["upper"].as_f64());
    }
    let lr = json("colon/logrank.json");
    let want = &lr["tests"][0];
    assert_eq!(want["id"], "rx:rho=0");
    let got = s.logrank.as_ref().unwrap();
    assert!(rel(got.chisq, want["chisq"].as_f64().unwrap()) < 1e-9);
    assert!(rel(got.p, want["p"].as_f64().unwrap()) < 1e-9);
    assert_eq!(got.df, 2);
    // nodes is NA (written NA, n/a, . or blank) for 18 patients: only the
    // multivariable model, which uses it, leaves them out
    let m = &r.multivariable[0];
    assert_eq!((m.n_complete, m.n_dropped_missing), (911, 18));
}

#[test]
fn status_and_dates_that_disagree_stop_the_run() {
    let plan = Plan::from_file(&data("colon_plan.toml")).unwrap();
    let csv = "MRN,rand_dt,trt_arm,sex,age,nodes,vital_status,dt_death,last_fu_dt\n\
               1,2000-01-01,Obs,male,50,1,Dead,,2001-01-01\n\
               2,2000-01-01,Obs,male,50,1,alive,2001-01-01,2001-01-01\n\
               3,2000-01-01,Obs,male,50,1,dead,2001-01-01,2001-01-01\n\
               4,2000-01-01,Obs,male,50,1,NA,,2001-01-01\n";
    let t = parse_csv("c.csv", csv.as_bytes()).unwrap();
    let r = derive(&plan, &t, &DeriveOptions::default()).unwrap_err();
    let got: Vec<(u64, &str, ProblemKind)> = r
        .problems
        .iter()
        .map(|p| (p.line.unwrap(), p.column.as_deref().unwrap(), p.kind))
        .collect();
    assert_eq!(
        got,
        vec![
            (2, "dt_death", ProblemKind::DateOrder),
            (3, "dt_death", ProblemKind::DateOrder),
            (5, "vital_status", ProblemKind::MissingValue),
        ],
        "{r}"
    );
    // without the declared checks the endpoint's own status rule catches both
    let text = std::fs::read_to_string(data("colon_plan.toml")).unwrap();
    let cut = text.find("[[checks]]").unwrap();
    let end = text.find("[[endpoints]]").unwrap();
    let plan = Plan::from_toml_str(&format!("{}{}", &text[..cut], &text[end..])).unwrap();
    let r = derive(&plan, &t, &DeriveOptions::default()).unwrap_err();
    let kinds: Vec<(u64, ProblemKind)> = r
        .problems
        .iter()
        .map(|p| (p.line.unwrap(), p.kind))
        .collect();
    assert_eq!(
        kinds,
        vec![
            (2, ProblemKind::StatusConflict),
            (3, ProblemKind::StatusConflict),
            (5, ProblemKind::MissingValue),
        ],
        "{r}"
    );
    assert!(
        r.problems[0].message.contains("vital_status is Dead"),
        "{r}"
    );
}
