//! A study of another disease asks for summaries in its plan (flags, a
//! cross-table, an interval, a breakdown, and a second flags table) and
//! gets them in results.json and the HTML, with counts checked against a
//! direct count of the rows written.

use survstudy::analysis::{analyse, AnalysisOptions, ExtraSummary};
use survstudy::derive::{derive, DeriveOptions};
use survstudy::ingest::parse_csv;
use survstudy::pipeline::{results_json, RunMeta};
use survstudy::plan::Plan;
use survstudy::report::study::{build_report, ReportMeta, ReportOptions};

const PLAN: &str = r#"
[study]
name = "Heart failure after discharge"
id_column = "mrn"
time_zero = "discharge_dt"
time_unit = "days"

[[columns]]
name = "mrn"
type = "text"
presence = "required"

[[columns]]
name = "admit_dt"
type = "date"
presence = "required"

[[columns]]
name = "discharge_dt"
type = "date"
presence = "required"

[[columns]]
name = "last_dt"
type = "date"
presence = "required"

[[columns]]
name = "death_dt"
type = "date"

[[columns]]
name = "arm"
type = "category"
presence = "required"
levels = ["usual care", "nurse-led"]
label = "Follow-up programme"

[[columns]]
name = "diabetes"
type = "yes_no"
label = "Diabetes"

[[columns]]
name = "smoker"
type = "yes_no"
label = "Current smoker"

[[columns]]
name = "nyha"
type = "category"
label = "NYHA class"

[[endpoints]]
code = "OS"
label = "Overall survival"
events = ["death_dt"]
censor = "last_dt"

[[groupings]]
name = "arm"
label = "Follow-up programme"
kind = "category"
columns = ["arm"]
levels = ["usual care", "nurse-led"]

[[groupings]]
name = "smoker"
label = "Current smoker"
kind = "yes_no"
columns = ["smoker"]
levels = ["no", "yes"]

[[groupings]]
name = "any_risk"
label = "Diabetes or smoking"
kind = "any_yes"
columns = ["diabetes", "smoker"]
levels = ["no", "yes"]

[[intervals]]
name = "stay"
label = "Days from admission to discharge"
from = "admit_dt"
to = "discharge_dt"

[[summaries]]
kind = "flags"
heading = "Risk factors"
title = "Risk factors at discharge"
row_header = "Risk factor"
flags = ["diabetes", "smoker"]

[[summaries]]
kind = "cross_table"
rows = "arm"
cols = "smoker"
col_levels = ["yes", "no"]

[[summaries]]
kind = "intervals"
title = "Length of stay"

[[summaries]]
kind = "flags"
title = "Any risk factor"
flags = ["any_risk"]

[[summaries]]
kind = "breakdown"
heading = "Symptoms"
title = "NYHA class at discharge"
column = "nyha"
by = "arm"
missing_label = "not assessed"

[analysis]
endpoints = ["OS"]
km_by = ["arm"]
"#;

struct Row {
    arm: &'static str,
    diabetes: bool,
    smoker: Option<bool>,
    nyha: Option<&'static str>,
    stay: i64,
}

/// 60 patients whose values follow their index.
fn rows() -> Vec<Row> {
    (0..60)
        .map(|i| Row {
            arm: if i % 3 == 0 {
                "nurse-led"
            } else {
                "usual care"
            },
            diabetes: i % 4 == 1,
            smoker: if i % 11 == 5 { None } else { Some(i % 5 < 2) },
            nyha: ["I", "II", "III", "IV"].get(i % 6).copied(),
            stay: 2 + (i as i64 * 7) % 13,
        })
        .collect()
}

fn csv(rows: &[Row]) -> String {
    let yn = |b: bool| if b { "yes" } else { "no" };
    let mut s =
        String::from("mrn,admit_dt,discharge_dt,last_dt,death_dt,arm,diabetes,smoker,nyha\n");
    for (i, r) in rows.iter().enumerate() {
        let admit =
            chrono::NaiveDate::from_ymd_opt(2020, 1, 1).unwrap() + chrono::Duration::days(i as i64);
        let dis = admit + chrono::Duration::days(r.stay);
        let last = dis + chrono::Duration::days(100 + 3 * i as i64);
        let death = if i % 4 == 0 {
            last.to_string()
        } else {
            String::new()
        };
        s += &format!(
            "P{i},{admit},{dis},{last},{death},{},{},{},{}\n",
            r.arm,
            yn(r.diabetes),
            r.smoker.map(yn).unwrap_or(""),
            r.nyha.unwrap_or("")
        );
    }
    s
}

#[test]
fn another_plan_gets_its_summaries_in_results_and_report() {
    let plan = Plan::from_toml_str(PLAN).unwrap();
    let data = rows();
    let t = parse_csv("hf.csv", csv(&data).as_bytes()).unwrap();
    let c = derive(&plan, &t, &DeriveOptions::default()).unwrap();
    assert_eq!(c.patients.len(), 60);
    let r = analyse(&plan, &c, &AnalysisOptions::default());

    // flags: yes / (yes + no); a missing smoker is in neither
    let smokers = data.iter().filter(|r| r.smoker == Some(true)).count();
    let known = data.iter().filter(|r| r.smoker.is_some()).count();
    let diab = data.iter().filter(|r| r.diabetes).count();
    let rows = &r.patterns.rows;
    assert_eq!(rows.len(), 2);
    assert_eq!(
        (rows[0].name.as_str(), rows[0].n, rows[0].denominator),
        ("diabetes", diab, 60)
    );
    assert_eq!(
        (rows[1].label.as_str(), rows[1].n, rows[1].denominator),
        ("Current smoker", smokers, known)
    );
    assert!(known < 60);

    // cross-table: plan order of rows, the asked order of columns
    let ct = r.patterns.cross_table.as_ref().unwrap();
    assert_eq!(ct.row_levels, ["usual care", "nurse-led"]);
    assert_eq!(ct.col_levels, ["yes", "no"]);
    for (i, a) in ct.row_levels.iter().enumerate() {
        for (j, s) in [Some(true), Some(false)].iter().enumerate() {
            let want = data.iter().filter(|r| r.arm == a && r.smoker == *s).count();
            assert_eq!(ct.counts[i][j], want, "{a} x {s:?}");
        }
    }

    // interval: median and range of the stays
    let mut stays: Vec<i64> = data.iter().map(|r| r.stay).collect();
    stays.sort();
    let iv = &r.patterns.intervals[0];
    assert_eq!(iv.n, 60);
    assert_eq!(iv.min_days, Some(stays[0] as f64));
    assert_eq!(iv.max_days, Some(stays[59] as f64));
    assert_eq!(iv.median_days, Some((stays[29] + stays[30]) as f64 / 2.0));

    // breakdown: every value overall and by arm, the unassessed last
    let nl = r.next_line.as_ref().unwrap();
    assert_eq!(nl.by.as_deref(), Some("arm"));
    assert_eq!(nl.by_levels, ["usual care", "nurse-led"]);
    let cats: Vec<&str> = nl.rows.iter().map(|r| r.category.as_str()).collect();
    assert_eq!(cats, ["I", "II", "III", "IV", "not assessed"]);
    for row in &nl.rows {
        let v = (row.category != "not assessed").then_some(row.category.as_str());
        assert_eq!(row.n, data.iter().filter(|r| r.nyha == v).count());
        for (b, arm) in nl.by_levels.iter().enumerate() {
            let k = data.iter().filter(|r| r.nyha == v && r.arm == arm).count();
            assert_eq!(row.by[b].n, k);
        }
    }
    assert_eq!(nl.n_by.iter().sum::<usize>(), 60);

    // the second flags summary is listed in `summaries`
    let any = data
        .iter()
        .filter(|r| r.diabetes || r.smoker == Some(true))
        .count();
    match r.summaries.as_slice() {
        [ExtraSummary::Flags { title, rows }] => {
            assert_eq!(title, "Any risk factor");
            assert_eq!((rows[0].name.as_str(), rows[0].n), ("any_risk", any));
        }
        other => panic!("{other:?}"),
    }

    let meta = RunMeta {
        data_source: "hf.csv".into(),
        sha256: String::new(),
        synthetic: true,
        run_date: "2026-01-01".into(),
        plan: "hf".into(),
        survstudy_version: "0".into(),
    };
    let j = results_json(&r, &meta);
    assert_eq!(j["patterns"]["rows"][1]["n"], smokers);
    assert_eq!(j["patterns"]["cross_table"]["cols"], "smoker");
    assert_eq!(j["next_line"]["rows"][4]["category"], "not assessed");
    assert_eq!(j["summaries"][0]["kind"], "flags");
    assert_eq!(j["summaries"][0]["rows"][0]["n"], any);

    let html = build_report(&r, &ReportMeta::default(), &ReportOptions::default())
        .unwrap()
        .html;
    for want in [
        ">Risk factors</h2>",
        "Risk factors at discharge.",
        ">Risk factor<",
        "Follow-up programme by Current smoker (number of patients).",
        "Length of stay.",
        "Any risk factor.",
        ">Symptoms</h2>",
        "NYHA class at discharge, overall and by Follow-up programme.",
        ">not assessed<",
    ] {
        assert!(html.contains(want), "missing {want}");
    }
    // nothing from the built-in study leaks in
    for unwanted in ["Progression patterns", "CAR-T", "Next-line therapy"] {
        assert!(!html.contains(unwanted), "{unwanted}");
    }
    // the heading order follows the plan
    let a = html.find(">Risk factors</h2>").unwrap();
    let b = html.find(">Symptoms</h2>").unwrap();
    assert!(a < b);
}

#[test]
fn summary_problems_are_all_reported() {
    let bad = PLAN
        .replace(
            "flags = [\"diabetes\", \"smoker\"]",
            "flags = [\"diabetes\", \"nyha\"]",
        )
        .replace("cols = \"smoker\"", "cols = \"smokr\"")
        .replace(
            "column = \"nyha\"",
            "column = \"admit_dt\"\nrow_levels = [\"x\"]",
        );
    let e = Plan::from_toml_str(&bad).unwrap_err().to_string();
    for want in [
        "summaries[1] (flags)",
        "'nyha' is neither a yes_no column nor an any_yes grouping",
        "summaries[2] (cross_table)",
        "unknown grouping 'smokr'",
        "summaries[5] (breakdown)",
        "row_levels are not used by kind = \"breakdown\"",
        "expected a category or text column",
    ] {
        assert!(e.contains(want), "missing {want:?} in {e}");
    }
}
