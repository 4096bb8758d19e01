//! A durations export (no dates: OS as days + 0/1 status, RFS as months +
//! yes/no) through a plan with per-endpoint time units (OS in years, RFS in
//! months) matches R (tests/data/durations/reference.json, from
//! tests/data/gen/durations_colon.R): medians with CIs, survival at the
//! study's landmarks converted to each endpoint's unit, Cox HRs.

use std::path::{Path, PathBuf};

use survstudy::analysis::{analyse, AnalysisOptions, Results};
use survstudy::derive::{derive, DeriveOptions};
use survstudy::ingest::read_table;
use survstudy::plan::{Plan, TimeUnit};

fn data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name)
}

fn close(got: Option<f64>, want: &serde_json::Value, tol: f64, what: &str) {
    match want.as_f64() {
        None => assert!(got.is_none(), "{what}: {got:?} vs NA"),
        Some(w) => {
            let g = got.unwrap_or_else(|| panic!("{what}: None vs {w}"));
            assert!(
                (g - w).abs() <= tol * w.abs().max(1e-300),
                "{what}: {g} vs {w}"
            );
        }
    }
}

fn run(plan_text: &str) -> (Plan, Results) {
    let plan = Plan::from_toml_str(plan_text).unwrap();
    let t = read_table(&data("durations/colon_durations.csv"), None).unwrap();
    let c = derive(&plan, &t, &DeriveOptions::default()).unwrap();
    let r = analyse(&plan, &c, &AnalysisOptions::default());
    (plan, r)
}

#[test]
fn durations_with_endpoint_units_match_r() {
    let text = std::fs::read_to_string(data("durations/plan.toml")).unwrap();
    let (_, r) = run(&text);
    let want: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(data("durations/reference.json")).unwrap())
            .unwrap();
    for (code, key, unit) in [
        ("OS", "os_years", TimeUnit::Years),
        ("RFS", "rfs_months", TimeUnit::Months),
    ] {
        let w = &want[key];
        let ep = r.endpoints.iter().find(|e| e.endpoint == code).unwrap();
        assert_eq!(ep.time_unit, Some(unit));
        assert!(ep.duration.is_some());
        // KM medians are read off the step function: exact up to the time
        // conversion (1e-12 relative)
        close(
            ep.overall.median,
            &w["overall_median"],
            1e-12,
            "overall median",
        );
        let s = r
            .survival
            .iter()
            .find(|s| s.endpoint == code && s.grouping == "rx")
            .unwrap();
        assert_eq!(s.time_unit, Some(unit));
        assert_eq!(s.groups.len(), w["n"].as_array().unwrap().len());
        for (k, g) in s.groups.iter().enumerate() {
            assert_eq!(g.n as u64, w["n"][k].as_u64().unwrap());
            assert_eq!(g.events as u64, w["events"][k].as_u64().unwrap());
            close(g.median, &w["median"][k], 1e-12, "median");
            close(g.median_lower, &w["lower"][k], 1e-12, "lower");
            close(g.median_upper, &w["upper"][k], 1e-12, "upper");
            // landmarks 12, 36, 60 months (study unit) = 1, 3, 5 years on OS
            assert_eq!(g.landmarks.len(), w["at_times"].as_array().unwrap().len());
            for (j, lm) in g.landmarks.iter().enumerate() {
                close(Some(lm.time), &w["at_times"][j], 1e-12, "landmark time");
                close(lm.surv, &w["at_surv"][3 * k + j], 1e-12, "landmark surv");
            }
        }
        let cox = s.cox.as_ref().unwrap();
        assert_eq!(cox.terms.len(), w["cox_terms"].as_array().unwrap().len());
        for (k, t) in cox.terms.iter().enumerate() {
            assert_eq!(t.term, w["cox_terms"][k].as_str().unwrap());
            // Newton-Raphson estimates: 1e-6
            close(t.hr, &w["hr"][k], 1e-6, "hr");
            close(t.p, &w["hr_p"][k], 1e-6, "p");
        }
    }
}

#[test]
fn duration_plan_errors_are_reported_together() {
    let text = std::fs::read_to_string(data("durations/plan.toml")).unwrap();
    let bad = text
        .replace(
            "event_status = { column = \"os_status\", values = [\"1\"] }\n",
            "censor = \"os_days\"\n",
        )
        .replace(
            "duration = { column = \"rfs_months\"",
            "duration = { column = \"recurred\"",
        );
    let e = Plan::from_toml_str(&bad).unwrap_err().to_string();
    for want in [
        "a duration endpoint needs event_status",
        "censor is for date endpoints",
        "column 'recurred' has type YesNo",
    ] {
        assert!(e.contains(want), "{want} not in {e}");
    }
}

#[test]
fn negative_or_missing_durations_are_refused_with_line_and_column() {
    let text = std::fs::read_to_string(data("durations/plan.toml")).unwrap();
    let plan = Plan::from_toml_str(&text).unwrap();
    let csv = std::fs::read_to_string(data("durations/colon_durations.csv")).unwrap();
    let mut lines: Vec<String> = csv.lines().map(str::to_string).collect();
    lines[1] = lines[1].replacen(",1521,", ",-3,", 1);
    lines[2] = lines[2]
        .replacen(",1,", ",,", 1)
        .replacen(",3087,0,", ",3087,,", 1);
    let dir = std::env::temp_dir().join(format!("survstudy_durations_{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let f = dir.join("bad.csv");
    std::fs::write(&f, lines.join("\n") + "\n").unwrap();
    let t = read_table(&f, None).unwrap();
    let rep = derive(&plan, &t, &DeriveOptions::default()).unwrap_err();
    let text: Vec<String> = rep
        .problems
        .iter()
        .map(|p| format!("{:?} {:?} {}", p.line, p.column, p.message))
        .collect();
    let all = text.join("\n");
    assert!(
        all.contains("Some(2) Some(\"os_days\") duration of endpoint OS is negative"),
        "{all}"
    );
    assert!(
        all.contains("Some(3) Some(\"os_status\") required value is missing"),
        "{all}"
    );
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn report_axes_and_methods_use_each_endpoints_unit() {
    let text = std::fs::read_to_string(data("durations/plan.toml")).unwrap();
    let (_, r) = run(&text);
    let meta = survstudy::report::study::ReportMeta::default();
    let rep = survstudy::report::study::build_report(&r, &meta, &Default::default()).unwrap();
    let km_os = rep.figures.iter().find(|f| f.name.contains("os")).unwrap();
    assert!(km_os.svg.contains("Years from randomisation"), "OS axis");
    let km_rfs = rep.figures.iter().find(|f| f.name.contains("rfs")).unwrap();
    assert!(km_rfs.svg.contains("Months from randomisation"), "RFS axis");
    assert!(rep.html.contains("OS in years (days / 365.25), read from the duration column os_days (in days, from randomisation)"), "methods");
    assert!(rep.html.contains("no dates"), "methods");
    let json = serde_json::to_value(&r).unwrap();
    assert_eq!(json["endpoints"][0]["time_unit"], "years");
    assert_eq!(json["endpoints"][0]["duration"]["column"], "os_days");
}

#[test]
fn date_endpoint_in_its_own_unit_matches_r_in_days() {
    // the colon date export (study unit days) with OS reported in weeks:
    // R's medians (days) / 7, and survival at the study's landmarks
    // (365 ... days) read at 365/7 ... weeks
    let text = std::fs::read_to_string(data("colon_plan.toml")).unwrap();
    let text = text.replace(
        "censor = \"last_fu_dt\"\n",
        "censor = \"last_fu_dt\"\ntime_unit = \"weeks\"\n",
    );
    let plan = Plan::from_toml_str(&text).unwrap();
    let t = read_table(&data("colon_export.csv"), None).unwrap();
    let c = derive(&plan, &t, &DeriveOptions::default()).unwrap();
    assert_eq!(c.endpoints[0].unit, TimeUnit::Weeks);
    let r = analyse(&plan, &c, &AnalysisOptions::default());
    let km: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(data("colon/km_subset.json")).unwrap())
            .unwrap();
    let o = &r.endpoints[0];
    assert_eq!(o.time_unit, Some(TimeUnit::Weeks));
    let wk = |v: &serde_json::Value| serde_json::json!(v.as_f64().map(|x| x / 7.0));
    close(
        o.overall.median,
        &wk(&km["overall"]["median"]["median"]),
        1e-12,
        "median",
    );
    assert_eq!(
        o.overall.landmarks.len(),
        km["overall"]["landmarks"]["surv"].as_array().unwrap().len()
    );
    for (i, l) in o.overall.landmarks.iter().enumerate() {
        assert_eq!(
            l.n_risk,
            km["overall"]["landmarks"]["n_risk"][i].as_u64().unwrap()
        );
        close(l.surv, &km["overall"]["landmarks"]["surv"][i], 1e-9, "surv");
    }
    assert_eq!(
        r.survival[0].groups.len(),
        km["rx"].as_array().unwrap().len()
    );
    for (g, want) in r.survival[0]
        .groups
        .iter()
        .zip(km["rx"].as_array().unwrap())
    {
        close(g.median, &wk(&want["median"]["median"]), 1e-12, "median");
        close(
            g.median_lower,
            &wk(&want["median"]["lower"]),
            1e-12,
            "lower",
        );
    }
    let rep = survstudy::report::study::build_report(&r, &Default::default(), &Default::default())
        .unwrap();
    assert!(rep.html.contains("Weeks from randomisation"));
    assert!(rep.html.contains("OS in weeks (days / 7)"));
}

/// A duration endpoint's exact times stay aligned with the patients when a
/// filter leaves rows out (the times are held beside the records and
/// compacted with them): each analysed patient's time is its row's duration
/// in the endpoint's unit.
#[test]
fn duration_times_follow_their_patients_through_a_filter() {
    let text = std::fs::read_to_string(data("durations/plan.toml")).unwrap()
        + "\n[[filters]]\ndescription = \"men\"\ncolumn = \"sex\"\nvalues = [\"male\"]\n";
    let plan = Plan::from_toml_str(&text).unwrap();
    let t = read_table(&data("durations/colon_durations.csv"), None).unwrap();
    let c = derive(&plan, &t, &DeriveOptions::default()).unwrap();
    let csv = std::fs::read_to_string(data("durations/colon_durations.csv")).unwrap();
    let rows: Vec<Vec<&str>> = csv.lines().map(|l| l.split(',').collect()).collect();
    let col = |name: &str| rows[0].iter().position(|h| *h == name).unwrap();
    let (sex, os_days, rfs) = (col("sex"), col("os_days"), col("rfs_months"));
    let n_male = rows[1..].iter().filter(|r| r[sex] == "male").count();
    assert_eq!(c.patients.len(), n_male);
    assert!(n_male < rows.len() - 1, "the filter must leave rows out");
    let (os, rfs_ep) = (c.endpoint("OS").unwrap(), c.endpoint("RFS").unwrap());
    for (i, p) in c.patients.iter().enumerate() {
        let row = &rows[p.line() as usize - 1];
        assert_eq!(row[sex], "male");
        // OS: days in the file, years in the plan
        let want: f64 = row[os_days].parse().unwrap();
        let got = os.time(i).unwrap();
        assert!((got - want / 365.25).abs() <= 1e-12 * got.max(1.0), "{i}");
        assert_eq!(os.records[i].unwrap().days, want as i32);
        // RFS: months in the file and in the plan, the number as written
        let want: f64 = row[rfs].parse().unwrap();
        assert_eq!(rfs_ep.time(i), Some(want), "{i}");
    }
}
