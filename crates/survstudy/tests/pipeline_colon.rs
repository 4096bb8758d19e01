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

#[test]
fn cut_and_quantile_groupings() {
    let plan = Plan::from_file(&data("colon_plan.toml")).unwrap();
    let t = read_table(&data("colon_export.csv"), None).unwrap();
    let c = derive(&plan, &t, &DeriveOptions::default()).unwrap();
    let ages: Vec<f64> = c
        .patients
        .iter()
        .map(|p| p.number("age").unwrap())
        .collect();
    let g = c.grouping("age65").unwrap();
    for (a, l) in ages.iter().zip(&g.labels) {
        let want = if *a >= 65.0 {
            "65 or older"
        } else {
            "under 65"
        };
        assert_eq!(l.as_deref(), Some(want));
    }
    // tertiles: boundaries by R's type-7 quantile, computed here naively
    let mut s = ages.clone();
    s.sort_by(f64::total_cmp);
    let q = |p: f64| {
        let h = (s.len() - 1) as f64 * p;
        let (lo, hi) = (h.floor() as usize, h.ceil() as usize);
        s[lo] + (h - h.floor()) * (s[hi] - s[lo])
    };
    let (b1, b2) = (q(1.0 / 3.0), q(2.0 / 3.0));
    let g = c.grouping("age_tertiles").unwrap();
    for (a, l) in ages.iter().zip(&g.labels) {
        let want = if *a <= b1 {
            "T1"
        } else if *a <= b2 {
            "T2"
        } else {
            "T3"
        };
        assert_eq!(l.as_deref(), Some(want), "age {a}");
    }
    let counts: Vec<usize> = g.counts().iter().map(|c| c.1).collect();
    assert_eq!(counts.iter().sum::<usize>(), 929);
    assert!(counts.iter().all(|&n| n > 250), "{counts:?}");
    let r = analyse(&plan, &c, &AnalysisOptions::default());
    let s = r
        .survival
        .iter()
        .find(|s| s.grouping == "age_tertiles")
        .unwrap();
    assert_eq!(s.groups.len(), 3);
    assert_eq!(s.logrank.as_ref().unwrap().df, 2);

    // hand case: 1..10 in tertiles is [1,4] (4), (4,7] (3), (7,10] (3) as R's
    // table(cut(1:10, quantile(1:10, 0:3/3), include.lowest = TRUE))
    let mut csv =
        String::from("MRN,rand_dt,trt_arm,sex,age,nodes,vital_status,dt_death,last_fu_dt\n");
    for i in 1..=10 {
        csv.push_str(&format!(
            "{i},2000-01-01,Obs,male,{i},1,Alive,,2001-01-01\n"
        ));
    }
    let t = parse_csv("h.csv", csv.as_bytes()).unwrap();
    let c = derive(&plan, &t, &DeriveOptions::default()).unwrap();
    let n: Vec<usize> = c
        .grouping("age_tertiles")
        .unwrap()
        .counts()
        .iter()
        .map(|c| c.1)
        .collect();
    assert_eq!(n, vec![4, 3, 3]);
    // a bad cut grouping is a plan error
    let text = std::fs::read_to_string(data("colon_plan.toml"))
        .unwrap()
        .replace("cuts = [65.0]", "cuts = [65.0, 50.0]");
    let e = Plan::from_toml_str(&text).unwrap_err().to_string();
    assert!(
        e.contains("groupings[age65]") && e.contains("increasing"),
        "{e}"
    );
}

#[test]
fn filters_define_the_population_and_are_counted_in_the_flow() {
    let text = std::fs::read_to_string(data("colon_plan.toml")).unwrap().replace(
        "[[endpoints]]",
        "[[filters]]\ndescription = \"treated arms\"\ncolumn = \"trt_arm\"\nvalues = [\"lev\", \"Lev+5FU\"]\n\n\
         [[filters]]\ndescription = \"aged 40 to 70\"\ncolumn = \"age\"\nmin = 40.0\nmax = 70.0\n\n[[endpoints]]",
    );
    let plan = Plan::from_toml_str(&text).unwrap();
    let t = read_table(&data("colon_export.csv"), None).unwrap();
    let c = derive(&plan, &t, &DeriveOptions::default()).unwrap();
    let all = derive(
        &Plan::from_file(&data("colon_plan.toml")).unwrap(),
        &t,
        &DeriveOptions::default(),
    )
    .unwrap();
    let treated: Vec<_> = all
        .patients
        .iter()
        .filter(|p| p.category("trt_arm") != Some("Obs"))
        .collect();
    let kept = treated
        .iter()
        .filter(|p| (40.0..=70.0).contains(&p.number("age").unwrap()))
        .count();
    let f = &c.flow.filters;
    assert_eq!(f.len(), 2);
    assert_eq!((f[0].excluded, f[0].remaining), (315, 614));
    assert_eq!(f[0].remaining, treated.len());
    assert_eq!((f[1].excluded, f[1].remaining), (614 - kept, kept));
    assert_eq!(c.patients.len(), kept);
    assert_eq!(c.flow.analysed, kept);
    assert_eq!(c.flow.excluded.len(), 929 - kept);
    assert!(c.flow.excluded.windows(2).all(|w| w[0].line < w[1].line));
    assert!(c.flow.excluded[0]
        .reason
        .starts_with("outside the analysed population: "));
    // a filter on a column that may be absent would silently keep everyone
    let bad = text.replace(
        "name = \"age\"\ntype = \"number\"",
        "name = \"age\"\ntype = \"number\"\npresence = \"may_be_absent\"",
    );
    let e = Plan::from_toml_str(&bad).unwrap_err().to_string();
    assert!(e.contains("filters[aged 40 to 70]"), "{e}");
}
