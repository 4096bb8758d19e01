//! `survstudy run`, `synth`, `plan`, `cif`, `rmst` from the command line.

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_survstudy"))
}

fn tmpdir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("survstudy-cli-study-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn data(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../survkit/tests/data")
        .join(rel)
}

fn read_json(p: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap()
}

#[test]
fn run_on_the_embedded_demo_writes_every_output() {
    let out = tmpdir("demo");
    let o = bin().args(["run", "--out"]).arg(&out).output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(stdout.contains("SYNTHETIC"));
    assert!(stdout.contains("index.html"));
    for f in [
        "index.html",
        "results.json",
        "adsl.csv",
        "adtte.csv",
        "tables/survival.csv",
        "tables/cox.csv",
        "figures/os_by_emd_at_infusion.svg",
        "figures/os_by_emd_at_infusion.png",
    ] {
        assert!(out.join(f).exists(), "{f} missing");
    }
    let r = read_json(&out.join("results.json"));
    assert_eq!(r["flow"]["rows_read"], 106);
    assert_eq!(r["flow"]["analysed"], 106);
    assert_eq!(r["counts"]["emd_at_infusion"], 35);
    assert_eq!(r["meta"]["synthetic"], true);
    assert_eq!(r["conventions"]["preset"], "r");
    let s = r["survival"].as_array().unwrap();
    let os = s
        .iter()
        .find(|x| x["endpoint"] == "OS" && x["grouping"] == "emd_at_infusion")
        .unwrap();
    let yes = os["groups"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["label"] == "yes")
        .unwrap();
    assert!((yes["median"].as_f64().unwrap() - 4.8).abs() <= 0.1);
    assert!(os["logrank"]["p"].as_f64().unwrap() < 0.001);
    assert_eq!(os["cox"]["terms"][0]["term"], "emd_at_infusionyes");
    assert!(os["cox"]["terms"][0]["hr"].as_f64().unwrap() > 1.0);
    // ADTTE: one row per patient per endpoint
    let adtte = std::fs::read_to_string(out.join("adtte.csv")).unwrap();
    assert_eq!(adtte.lines().count(), 1 + 2 * 106);
    assert!(adtte.lines().next().unwrap().contains("CNSR"));
    // the report shows no patient identifiers
    let html = std::fs::read_to_string(out.join("index.html")).unwrap();
    assert!(!html.contains("SYN-001"));
}

#[test]
fn sas_conventions_change_the_ci_and_ties_and_say_so() {
    let out = tmpdir("sas");
    let o = bin()
        .args(["run", "--conventions", "sas", "--out"])
        .arg(&out)
        .output()
        .unwrap();
    assert!(o.status.success());
    let r = read_json(&out.join("results.json"));
    assert_eq!(r["conventions"]["preset"], "sas");
    assert_eq!(r["conventions"]["km_conf_type"], "log-log");
    assert_eq!(r["conventions"]["cox_ties"], "breslow");
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

const HEADER: &str = "patient_id,cart_product,cart_infusion_date,emd_at_infusion,pmd_at_infusion,progression_date,prog_biochemical,prog_emd,prog_pmd,last_followup_date,death_date,next_line_start_date,next_line_progression_date\n";

#[test]
fn invalid_export_exits_2_names_every_problem_and_writes_nothing() {
    let dir = tmpdir("invalid");
    let csv = format!(
        "{HEADER}P1,ide-cel,2022-01-10,yes,no,2022-06-01,yes,no,no,2023-01-01,\n\
         P2,ide-cel,2022-02-10,maybe,no,2022-07-01,yes,no,no,2023-01-01,\n\
         P3,cilta-cel,2022-03-10,no,no,2022-02-01,yes,yes,no,2023-01-01,\n\
         P1,cilta-cel,2022-03-10,no,no,2022-05-01,no,yes,no,2022-04-01,2022-09-01\n\
         P4,cilta-cel,2022-04-10,no,yes,2022-08-01,yes,no,no,2023-02-01,2023-02-01\n\
         P5,ide-cel,2022-05-10,yes,no,2022-09-01,no,yes,yes,2023-03-01,\n"
    );
    let f = write(&dir, "export.csv", &csv);
    let out = dir.join("out");
    let o = bin()
        .args(["run", "--data"])
        .arg(&f)
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    for needle in [
        "line 3",
        "emd_at_infusion",
        "maybe",
        "line 4",
        "progression_date",
        "line 5",
        "patient_id",
        "last_followup_date",
    ] {
        assert!(
            err.contains(needle),
            "stderr should mention {needle}:\n{err}"
        );
    }
    assert!(!out.exists(), "nothing may be written");
    // --exclude-invalid goes on and lists the excluded lines
    let o = bin()
        .args(["run", "--exclude-invalid", "--data"])
        .arg(&f)
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let r = read_json(&out.join("results.json"));
    let lines: Vec<u64> = r["flow"]["excluded"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["line"].as_u64().unwrap())
        .collect();
    assert!(lines.contains(&3) && lines.contains(&4) && lines.contains(&5));
    assert!(
        lines.contains(&2),
        "both rows of a duplicated id are excluded"
    );
    assert_eq!(r["flow"]["rows_read"], 6);
    assert_eq!(r["flow"]["analysed"], 2);
    assert_eq!(lines.len(), 4);
}

#[test]
fn synth_and_plan_commands() {
    let dir = tmpdir("synth");
    let f = dir.join("s.csv");
    let o = bin()
        .args(["synth", "--seed", "7", "--out"])
        .arg(&f)
        .output()
        .unwrap();
    assert!(o.status.success());
    let text = std::fs::read_to_string(&f).unwrap();
    assert_eq!(text.lines().count(), 107);
    // a synthetic file is flagged as such when run
    let out = dir.join("out");
    let o = bin()
        .args(["run", "--data"])
        .arg(&f)
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(
        read_json(&out.join("results.json"))["meta"]["synthetic"],
        true
    );
    let o = bin().args(["plan", "--print"]).output().unwrap();
    let plan = String::from_utf8_lossy(&o.stdout).to_string();
    assert!(plan.contains("[[endpoints]]") && plan.contains("emd_baseline_x_progression"));
    let p = write(&dir, "plan.toml", &plan);
    let o = bin().args(["plan", "--check"]).arg(&p).output().unwrap();
    assert!(o.status.success());
    let bad = write(&dir, "bad.toml", "[study]\nname = 1\n");
    let o = bin().args(["plan", "--check"]).arg(&bad).output().unwrap();
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn cif_and_rmst_match_r() {
    // mgus2 competing risks: PCM (1) vs death (2) by sex, as cmprsk::cuminc
    let dir = tmpdir("cif");
    let src = std::fs::read_to_string(data("mgus2/mgus2.csv")).unwrap();
    let mut lines = src.lines();
    let header: Vec<String> = lines
        .next()
        .unwrap()
        .split(',')
        .map(|s| s.trim_matches('"').to_string())
        .collect();
    let col = |n: &str| header.iter().position(|h| h == n).unwrap();
    let mut out = String::from("etime,event,sex\n");
    for l in lines {
        let c: Vec<&str> = l.split(',').collect();
        let pstat: i32 = c[col("pstat")].parse().unwrap();
        let death: i32 = c[col("death")].parse().unwrap();
        let et = if pstat == 1 {
            c[col("ptime")]
        } else {
            c[col("futime")]
        };
        let ev = if pstat == 1 { 1 } else { 2 * death };
        out.push_str(&format!("{et},{ev},{}\n", c[col("sex")].trim_matches('"')));
    }
    let f = write(&dir, "cr.csv", &out);
    let o = bin()
        .args([
            "cif",
            "--time",
            "etime",
            "--status",
            "event",
            "--event-code",
            "1",
            "--group",
            "sex",
            "--json",
            "--data",
        ])
        .arg(&f)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let j: Value = serde_json::from_slice(&o.stdout).unwrap();
    let r: Value =
        serde_json::from_str(&std::fs::read_to_string(data("mgus2/cuminc.json")).unwrap()).unwrap();
    let stat = r["cuminc"]["gray_test"]["stat"][0].as_f64().unwrap();
    assert!((j["gray_test"]["stat"].as_f64().unwrap() - stat).abs() < 1e-9 * stat);
    assert_eq!(j["gray_test"]["df"], 1);
    // RMST on lung by sex up to 730 days equals R's rmean(tau)
    let o = bin()
        .args([
            "rmst", "--time", "time", "--event", "status=2", "--group", "sex", "--tau", "730",
            "--json", "--data",
        ])
        .arg(data("lung/lung.csv"))
        .output()
        .unwrap();
    assert!(o.status.success());
    let j: Value = serde_json::from_slice(&o.stdout).unwrap();
    let km: Value =
        serde_json::from_str(&std::fs::read_to_string(data("lung/km.json")).unwrap()).unwrap();
    for (g, c) in j["groups"]
        .as_array()
        .unwrap()
        .iter()
        .zip(km["by_group"]["sex"]["curves"].as_array().unwrap())
    {
        let want = c["rmean"]["tau"]["rmean"].as_f64().unwrap();
        assert!((g["rmst"].as_f64().unwrap() - want).abs() < 1e-9 * want);
    }
    let d = &j["difference"];
    assert!(d["lower"].as_f64().unwrap() < d["estimate"].as_f64().unwrap());
}

#[test]
fn renamed_death_date_exits_2_and_writes_nothing() {
    let dir = tmpdir("renamed");
    let demo = survstudy_demo();
    let (head, body) = demo.split_once('\n').unwrap();
    let csv = format!("{}\n{body}", head.replace(",death_date,", ",Death Dt,"));
    let f = write(&dir, "export.csv", &csv);
    let out = dir.join("out");
    let o = bin()
        .args(["run", "--exclude-invalid", "--data"])
        .arg(&f)
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    for needle in [
        "column 'death_date' is not in the header",
        "endpoints[OS].events",
        "'Death Dt'",
        "aliases",
    ] {
        assert!(err.contains(needle), "{needle}:\n{err}");
    }
    assert!(!out.exists(), "nothing may be written");
    // a column the plan lets be absent: the run goes on and says so
    let csv = format!("{}\n{body}", head.replace(",sex,", ",gender,"));
    let f = write(&dir, "nosex.csv", &csv);
    let o = bin()
        .args(["run", "--data"])
        .arg(&f)
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("note: column 'sex' is not in the file"),
        "{err}"
    );
    let r = read_json(&out.join("results.json"));
    let notes = r["flow"]["notes"].as_array().unwrap();
    assert_eq!(notes.len(), 1);
    assert!(notes[0].as_str().unwrap().contains("table1[sex]"));
}

#[test]
fn plan_check_lists_every_problem() {
    let dir = tmpdir("plancheck");
    let o = bin().args(["plan", "--print"]).output().unwrap();
    let text = String::from_utf8_lossy(&o.stdout)
        .replace("events = [\"death_date\"]", "events = [\"dead_date\"]")
        .replace("table1_by = \"emd_at_infusion\"", "table1_by = \"nope\"");
    let p = write(&dir, "plan.toml", &text);
    let o = bin().args(["plan", "--check"]).arg(&p).output().unwrap();
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("2 problems"), "{err}");
    assert!(err.contains("dead_date") && err.contains("'nope'"), "{err}");
}

fn survstudy_demo() -> String {
    let o = bin().args(["synth", "--seed", "1"]).output().unwrap();
    assert!(o.status.success());
    String::from_utf8(o.stdout).unwrap()
}
