//! Regression tests of issue 10's bugs, run through the binary: the
//! `preset` the ad-hoc JSON states, negative `--at` values, and the
//! disclosure rule of `tables/flow.csv` and `results.json`.

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_survstudy"))
}

fn aml() -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../survkit/tests/data/aml/aml.csv")
        .to_string_lossy()
        .into_owned()
}

fn json_of(args: &[&str]) -> Value {
    let out = bin().args(args).arg("--json").output().unwrap();
    assert!(
        out.status.success(),
        "{:?}: {}",
        args,
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn km_preset(extra: &[&str]) -> Value {
    let data = aml();
    let mut args = vec!["km", "--data", &data, "--time", "time", "--event", "status"];
    args.extend_from_slice(extra);
    json_of(&args)["conventions"]["preset"].clone()
}

fn cox_preset(extra: &[&str]) -> Value {
    let data = aml();
    let mut args = vec![
        "cox",
        "--data",
        &data,
        "--time",
        "time",
        "--event",
        "status",
        "--covariates",
        "x",
        "--factor",
        "x",
    ];
    args.extend_from_slice(extra);
    json_of(&args)["conventions"]["preset"].clone()
}

#[test]
fn km_json_states_the_preset_actually_chosen() {
    assert_eq!(km_preset(&[]), "r");
    assert_eq!(km_preset(&["--conventions", "sas"]), "sas");
    assert_eq!(km_preset(&["--conf-type", "log-log"]), "custom");
    assert_eq!(
        km_preset(&["--conventions", "sas", "--conf-type", "log"]),
        "custom"
    );
    assert_eq!(
        km_preset(&["--conventions", "sas", "--conf-type", "log-log"]),
        "sas"
    );
    assert_eq!(km_preset(&["--conf-type", "log"]), "r");
}

#[test]
fn cox_json_states_the_preset_actually_chosen() {
    assert_eq!(cox_preset(&[]), "r");
    assert_eq!(cox_preset(&["--conventions", "sas"]), "sas");
    assert_eq!(cox_preset(&["--ties", "breslow"]), "custom");
    assert_eq!(
        cox_preset(&["--conventions", "sas", "--ties", "efron"]),
        "custom"
    );
}

#[test]
fn enum_flags_are_checked_by_clap_with_exit_2() {
    let data = aml();
    for (flag, bad) in [("--conf-type", "loglogx"), ("--conventions", "stata")] {
        let out = bin()
            .args([
                "km", "--data", &data, "--time", "time", "--event", "status", flag, bad,
            ])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{flag} {bad}");
        assert!(String::from_utf8_lossy(&out.stderr).contains(bad));
    }
    // aliases and case are still accepted
    assert_eq!(
        km_preset(&["--conf-type", "LOG_LOG", "--conventions", "SAS"]),
        "sas"
    );
}

#[test]
fn negative_at_values_are_accepted_without_equals() {
    let data = aml();
    let j = json_of(&[
        "km", "--data", &data, "--time", "time", "--event", "status", "--at", "-5,0,5",
    ]);
    let at = j["groups"][0]["at"].as_array().unwrap();
    assert_eq!(at.len(), 3, "{at:?}");
    assert_eq!(at[2]["time"], 5.0);
    // the same as the --at= spelling
    let k = json_of(&[
        "km",
        "--data",
        &data,
        "--time",
        "time",
        "--event",
        "status",
        "--at=-5,0,5",
    ]);
    assert_eq!(j["groups"], k["groups"]);
}

/// The demo cohort with a bad date (line 4) and a yes/no cell holding a
/// secret (line 8).
fn planted(dir: &Path) -> PathBuf {
    let demo = std::fs::read_to_string(
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../survstudy/assets/demo_cohort.csv"),
    )
    .unwrap();
    let mut lines: Vec<String> = demo.lines().map(str::to_string).collect();
    let header: Vec<&str> = lines[0].split(',').collect();
    let col = |n: &str| header.iter().position(|h| *h == n).unwrap();
    let (prog, bcma) = (col("progression_date"), col("prior_bcma"));
    for (row, j, v) in [(3, prog, "2021-13-01"), (7, bcma, "\"yes; SECRET-VALUE\"")] {
        let (head, tail) = lines[row].rsplit_once(",\"").unwrap();
        let mut cells: Vec<String> = head.split(',').map(str::to_string).collect();
        cells[j] = v.to_string();
        lines[row] = format!("{},\"{}", cells.join(","), tail);
    }
    let p = dir.join("planted.csv");
    std::fs::write(&p, lines.join("\n") + "\n").unwrap();
    p
}

fn run_planted(name: &str, extra: &[&str]) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("survstudy-fixes-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let data = planted(&dir);
    let out = dir.join("out");
    let o = bin()
        .args(["run", "--exclude-invalid", "--data"])
        .arg(&data)
        .arg("--out")
        .arg(&out)
        .args(extra)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    out
}

#[test]
fn hidden_identifiers_keep_raw_values_out_of_flow_csv_and_results_json() {
    let out = run_planted("hidden", &[]);
    let flow = std::fs::read_to_string(out.join("tables/flow.csv")).unwrap();
    let json = std::fs::read_to_string(out.join("results.json")).unwrap();
    for (name, text) in [("flow.csv", &flow), ("results.json", &json)] {
        for needle in ["SECRET-VALUE", "2021-13-01", "SYN-003", "SYN-007"] {
            assert!(!text.contains(needle), "{name} leaks {needle}");
        }
    }
    assert!(
        flow.contains("line 4: progression_date: not a date in format YYYY-MM-DD"),
        "{flow}"
    );
    assert!(
        flow.contains("line 8: prior_bcma: not a yes/no value"),
        "{flow}"
    );
    let r: Value = serde_json::from_str(&json).unwrap();
    let e = &r["flow"]["excluded"][0];
    assert_eq!(e["line"], 4);
    assert_eq!(e["patient_id"], Value::Null);
    assert_eq!(e["causes"][0]["column"], "progression_date");
    assert_eq!(e["causes"][0]["kind"], "bad_date");

    // shown on request
    let out = run_planted("shown", &["--show-identifiers"]);
    let flow = std::fs::read_to_string(out.join("tables/flow.csv")).unwrap();
    let json = std::fs::read_to_string(out.join("results.json")).unwrap();
    assert!(flow.contains("2021-13-01") && flow.contains("SECRET-VALUE"));
    assert!(json.contains("SYN-003") && json.contains("SECRET-VALUE"));
}
