//! `survstudy plan --init --data FILE`: the starter plan is valid
//! (`plan --check`), runs on the file (`run --plan`, exit 0) and derives the
//! same data as a hand-written plan (the colon study's numbers match R).

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_survstudy"))
}

fn tmpdir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("survstudy-cli-init-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../survstudy/tests/data")
        .join(name)
}

fn text(o: &Output) -> String {
    format!(
        "stdout:\n{}\nstderr:\n{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// `plan --init` on `data`, then `plan --check` and `run`; returns the plan
/// text and results.json.
fn init_check_run(dir: &Path, data: &Path, sheet: Option<&str>) -> (String, Value) {
    let mut cmd = bin();
    cmd.args(["plan", "--init", "--data"]).arg(data);
    if let Some(s) = sheet {
        cmd.args(["--sheet", s]);
    }
    let o = cmd.output().unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let plan_text = String::from_utf8(o.stdout).unwrap();
    let plan = dir.join("plan.toml");
    std::fs::write(&plan, &plan_text).unwrap();
    let o = bin().args(["plan", "--check"]).arg(&plan).output().unwrap();
    assert_eq!(o.status.code(), Some(0), "{}\n{plan_text}", text(&o));
    let out = dir.join("out");
    let mut cmd = bin();
    cmd.args(["run", "--plan"])
        .arg(&plan)
        .arg("--data")
        .arg(data)
        .arg("--out")
        .arg(&out);
    if let Some(s) = sheet {
        cmd.args(["--sheet", s]);
    }
    let o = cmd.output().unwrap();
    assert_eq!(o.status.code(), Some(0), "{}\n{plan_text}", text(&o));
    let r =
        serde_json::from_str(&std::fs::read_to_string(out.join("results.json")).unwrap()).unwrap();
    (plan_text, r)
}

#[test]
fn colon_export_gets_a_plan_that_reproduces_r() {
    let dir = tmpdir("colon");
    let (plan, r) = init_check_run(&dir, &fixture("colon_export.csv"), None);
    for want in [
        "id_column = \"MRN\"",
        "time_zero = \"rand_dt\"",
        "events = [\"dt_death\"]",
        "censor = \"last_fu_dt\"",
        "# guessed: time zero (the name contains 'rand')",
        "# guessed: death, the event of overall survival",
        "event_status = { column = \"vital_status\"",
        "table1_by = \"trt_arm\"",
    ] {
        assert!(plan.contains(want), "{want} not in\n{plan}");
    }
    // the same patients, events and log-rank test as R's colon data
    let km: Value =
        serde_json::from_str(&std::fs::read_to_string(fixture("colon/km_subset.json")).unwrap())
            .unwrap();
    let lr: Value =
        serde_json::from_str(&std::fs::read_to_string(fixture("colon/logrank.json")).unwrap())
            .unwrap();
    let os = &r["endpoints"][0]["overall"];
    assert_eq!(os["n"], km["overall"]["n"]);
    assert_eq!(os["events"], km["overall"]["events"]);
    let s = r["survival"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["grouping"] == "trt_arm")
        .unwrap();
    let want = lr["tests"][0]["chisq"].as_f64().unwrap();
    let got = s["logrank"]["chisq"].as_f64().unwrap();
    assert!((got - want).abs() / want < 1e-9, "{got} vs {want}");
}

#[test]
fn demo_export_gets_a_plan_that_runs() {
    let dir = tmpdir("demo");
    let csv = dir.join("demo.csv");
    let o = bin().args(["synth", "--out"]).arg(&csv).output().unwrap();
    assert!(o.status.success(), "{}", text(&o));
    let (plan, r) = init_check_run(&dir, &csv, None);
    assert!(plan.contains("id_column = \"patient_id\""), "{plan}");
    assert!(
        plan.contains("time_zero = \"cart_infusion_date\""),
        "{plan}"
    );
    // next_line_start_date is named like a start but is blank for many
    // patients: a complete date is preferred as time zero
    assert!(plan.contains("name = \"emd_at_infusion\"\ntype = \"yes_no\""));
    assert!(plan.contains("code = \"PFS\""));
    assert_eq!(r["flow"]["analysed"], 106);
    let codes: Vec<&str> = r["endpoints"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["endpoint"].as_str().unwrap_or(""))
        .collect();
    assert!(codes.contains(&"OS") && codes.contains(&"PFS"), "{codes:?}");
}

#[test]
fn workbook_sheet_gets_a_plan_that_runs() {
    let dir = tmpdir("xlsx");
    let (plan, _) = init_check_run(&dir, &fixture("valid.xlsx"), None);
    assert!(plan.contains("type = \"date\""), "{plan}");
}

#[test]
fn day_month_dates_set_the_date_format() {
    let dir = tmpdir("us");
    let (plan, _) = init_check_run(&dir, &fixture("us_dates.csv"), None);
    assert!(plan.contains("date_format = \"%m/%d/%Y\""), "{plan}");
}

#[test]
fn a_file_without_dates_is_refused_with_what_to_do() {
    let dir = tmpdir("nodate");
    let csv = dir.join("durations.csv");
    std::fs::write(
        &csv,
        "id,months,status,arm\n1,5.2,1,A\n2,7.1,0,B\n3,1.0,1,A\n",
    )
    .unwrap();
    let o = bin()
        .args(["plan", "--init", "--data"])
        .arg(&csv)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(o.stdout.is_empty());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("no date column"), "{err}");
    assert!(err.contains("survstudy km"), "{err}");
}

#[test]
fn rows_the_run_would_reject_are_listed_in_the_plan() {
    let dir = tmpdir("bad");
    let csv = dir.join("bad.csv");
    // patient 2 has no last follow-up date and no event
    std::fs::write(
        &csv,
        "subject,diagnosis_date,death_date,last_contact\n\
         1,2000-01-01,2001-01-01,2001-01-01\n\
         2,2000-02-01,,\n\
         3,2000-03-01,,2002-01-01\n",
    )
    .unwrap();
    let o = bin()
        .args(["plan", "--init", "--data"])
        .arg(&csv)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let plan = String::from_utf8_lossy(&o.stdout);
    assert!(plan.contains("# PROBLEMS:"), "{plan}");
    assert!(plan.contains("line 3"), "{plan}");
    assert!(String::from_utf8_lossy(&o.stderr).contains("1 problem"));
}
