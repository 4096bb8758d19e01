//! `survstudy run` on a durations export (no dates; OS in years, RFS in
//! months): exit 0, the terminal names each endpoint's unit, ADTTE carries
//! the endpoint's unit with blank dates, results.json states the units.
//! The numbers themselves are checked against R in
//! survstudy/tests/analysis_durations.rs.

use std::path::PathBuf;
use std::process::Command;

fn data(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../survstudy/tests/data/durations")
        .join(rel)
}

#[test]
fn run_on_a_durations_export_states_each_endpoints_unit() {
    let out = std::env::temp_dir().join(format!("survstudy-cli-durations-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&out);
    let o = Command::new(env!("CARGO_BIN_EXE_survstudy"))
        .args(["run", "--plan"])
        .arg(data("plan.toml"))
        .arg("--data")
        .arg(data("colon_durations.csv"))
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(
        stdout.contains("medians in OS in years, RFS in months"),
        "{stdout}"
    );
    let adtte = std::fs::read_to_string(out.join("adtte.csv")).unwrap();
    let first: Vec<&str> = adtte.lines().nth(1).unwrap().split(',').collect();
    assert_eq!(&first[..4], ["1", "OS", "Overall survival", ""]);
    assert_eq!(first[4], "");
    assert_eq!(first[6], "YEARS");
    // each endpoint's event and censoring texts (EVNTDESC, CNSDTDSC) by
    // CNSR: the status column's label and values, the duration column
    let mut texts: Vec<(&str, &str, &str, &str)> = adtte
        .lines()
        .skip(1)
        .map(|l| {
            let c: Vec<&str> = l.split(',').collect();
            (c[1], c[7], c[8], c[9])
        })
        .collect();
    texts.sort_unstable();
    texts.dedup();
    assert_eq!(
        texts,
        [
            ("OS", "0", "Event (os_status: 1)", ""),
            ("OS", "1", "Censored (os_status)", "os_days"),
            ("RFS", "0", "Event (Recurrence: yes)", ""),
            ("RFS", "1", "Censored (Recurrence)", "rfs_months"),
        ]
    );
    let r: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("results.json")).unwrap()).unwrap();
    assert_eq!(r["endpoints"][0]["time_unit"], "years");
    assert_eq!(r["endpoints"][1]["time_unit"], "months");
    assert_eq!(r["survival"][0]["time_unit"], "years");
    let _ = std::fs::remove_dir_all(&out);
}
