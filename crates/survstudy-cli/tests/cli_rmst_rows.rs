//! `survstudy rmst --weights / --start / --id` against R survival 3.5-3:
//! `../survkit/tests/data/obs/rmst_weighted.json`, written by
//! `gen/rmst_weighted.R` next to it (per arm `summary(survfit(...,
//! weights =, id =), rmean = tau)$table` rmean and se(rmean); contrasts
//! combined from them as survRM2 does). KM quantities, so 1e-9 relative.
//! Also: a negative weight exits 2 naming line, column and value, and a
//! robust fit's RMST SE is the number R prints (not NaN).

use serde_json::Value;
use std::path::PathBuf;
use std::process::Command;

fn obs(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../survkit/tests/data/obs")
        .join(rel)
}

fn run(args: &[String]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_survstudy"))
        .args(args)
        .output()
        .unwrap()
}

fn close(a: &Value, b: &Value, what: &str) {
    let (a, b) = (a.as_f64().unwrap(), b.as_f64().unwrap());
    assert!(
        (a - b).abs() <= 1e-9 * b.abs().max(1e-3),
        "{what}: got {a}, R has {b}"
    );
}

#[test]
fn weighted_and_delayed_entry_rmst_match_r() {
    let v: Value =
        serde_json::from_str(&std::fs::read_to_string(obs("rmst_weighted.json")).unwrap()).unwrap();
    let cases = v["cases"].as_array().unwrap();
    assert!(cases.len() >= 6);
    for c in cases {
        let id = c["id"].as_str().unwrap();
        let mut args: Vec<String> = c["cli"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| match x {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            })
            .collect();
        let k = args.iter().position(|a| a == "--data").unwrap();
        args[k + 1] = obs(&args[k + 1]).display().to_string();
        args.push("--json".into());
        let o = run(&args);
        assert!(
            o.status.success(),
            "{id}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        let g: Value = serde_json::from_slice(&o.stdout).unwrap();
        for a in 0..2 {
            let grp = &g["groups"][a];
            assert_eq!(grp["group"], c["levels"][a], "{id}");
            assert_eq!(grp["n"].as_f64(), c["n"][a].as_f64(), "{id} n");
            close(&grp["rmst"], &c["rmean"][a], &format!("{id} rmst"));
            close(&grp["se"], &c["se"][a], &format!("{id} se"));
            close(&grp["lower"], &c["lower"][a], &format!("{id} lower"));
            close(&grp["upper"], &c["upper"][a], &format!("{id} upper"));
            close(
                &grp["weighted_events"],
                &c["events"][a],
                &format!("{id} events"),
            );
        }
        for part in ["difference", "ratio"] {
            for key in ["estimate", "se", "lower", "upper", "p"] {
                close(&g[part][key], &c[part][key], &format!("{id} {part} {key}"));
            }
        }
        assert!(g["conventions"]["variance"]
            .as_str()
            .unwrap()
            .contains("survmean"));
    }
}

#[test]
fn bad_weight_exits_2_with_its_line() {
    let dir = std::env::temp_dir().join(format!("rmst_rows_{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let f = dir.join("neg.csv");
    std::fs::write(
        &f,
        "time,status,arm,w\n5,1,a,1\n8,0,b,-2\n9,1,b,1\n3,1,a,1\n",
    )
    .unwrap();
    let args: Vec<String> = [
        "rmst",
        "--data",
        f.to_str().unwrap(),
        "--time",
        "time",
        "--event",
        "status",
        "--group",
        "arm",
        "--tau",
        "5",
        "--weights",
        "w",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let o = run(&args);
    assert_eq!(o.status.code(), Some(2));
    let e = String::from_utf8_lossy(&o.stderr);
    assert!(
        e.contains("line 3") && e.contains("-2") && e.contains('w'),
        "{e}"
    );
}
