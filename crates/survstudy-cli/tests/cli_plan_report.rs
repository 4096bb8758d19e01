//! The report of another study (issue 12, section 5): the colon plan run
//! from the command line, with plan variations, and what the report says.

use std::path::PathBuf;
use std::process::Command;

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../survstudy/tests/data")
        .join(name)
}

/// Run the colon plan edited by `edit`; returns (index.html, table1.csv,
/// results.json text).
fn run(name: &str, edit: impl Fn(String) -> String) -> (String, String, String) {
    let d = std::env::temp_dir().join(format!(
        "survstudy-cli-plan-report-{}-{name}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    let plan = edit(std::fs::read_to_string(fixture("colon_plan.toml")).unwrap());
    let p = d.join("plan.toml");
    std::fs::write(&p, plan).unwrap();
    let out = d.join("out");
    let o = Command::new(env!("CARGO_BIN_EXE_survstudy"))
        .args(["run", "--plan"])
        .arg(&p)
        .arg("--data")
        .arg(fixture("colon_export.csv"))
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let read = |f: &str| std::fs::read_to_string(out.join(f)).unwrap_or_default();
    (
        read("index.html"),
        read("tables/table1.csv"),
        read("results.json"),
    )
}

fn with_table1(plan: String) -> String {
    plan.replace(
        "[analysis]\n",
        "[[table1]]\nvariable = \"age\"\nkind = \"continuous\"\n\n[[table1]]\nvariable = \"sex\"\nkind = \"categorical\"\n\n[analysis]\ntable1_by = \"rx\"\n",
    )
}

#[test]
fn table1_follows_the_plan_level_order_and_the_csv_matches_the_html() {
    let (html, csv, json) = run("t1", with_table1);
    let r: serde_json::Value = serde_json::from_str(&json).unwrap();
    // the plan's order Obs, Lev, Lev+5FU (not reversed)
    assert_eq!(
        r["table1"]["by_levels"],
        serde_json::json!(["Obs", "Lev", "Lev+5FU"])
    );
    let head = csv.lines().next().unwrap();
    assert!(head.contains("rx=Obs,rx=Lev,rx=Lev+5FU"), "{head}");
    // median (IQR) and range rows, formatted as in the HTML table
    let age: Vec<&str> = csv.lines().filter(|l| l.starts_with("age,")).collect();
    assert_eq!(age.len(), 2, "{csv}");
    assert!(age[0].starts_with("age,,median (IQR),"), "{}", age[0]);
    assert!(age[1].starts_with("age,,range,"), "{}", age[1]);
    let iqr_cell = age[0].split(',').nth(3).unwrap();
    assert!(html.contains(iqr_cell), "{iqr_cell} not in the HTML");
    // n (%) rounded as in the HTML
    let female = csv.lines().find(|l| l.starts_with("sex,female,")).unwrap();
    let cell = female.split(',').nth(3).unwrap();
    assert!(cell.ends_with("%)") && !cell.contains('.'), "{cell}");
    assert!(html.contains(cell), "{cell} not in the HTML");
}

#[test]
fn axes_and_methods_use_the_labels_of_the_dates() {
    let (html, _, _) = run("labels", |p| {
        p.replacen(
            "name = \"last_fu_dt\"\ntype = \"date\"\n",
            "name = \"last_fu_dt\"\ntype = \"date\"\nlabel = \"Last contact\"\n",
            1,
        )
    });
    assert!(html.contains("Days from randomisation"));
    assert!(!html.contains("rand dt"));
    assert!(html.contains("Time zero was the date of randomisation (rand_dt)"));
    assert!(html.contains("censored at the date of last contact (last_fu_dt)"));
}

#[test]
fn multivariable_results_are_a_table_too() {
    let (html, _, json) = run("mv", |p| p);
    let r: serde_json::Value = serde_json::from_str(&json).unwrap();
    let term = &r["multivariable"][0]["cox"]["terms"][0];
    assert_eq!(term["variable"], "age");
    let i = html
        .find("multivariable Cox model, hazard ratios with 95% confidence intervals")
        .expect("the multivariable table");
    let table = &html[i..i + html[i..].find("</table>").unwrap()];
    assert!(table.contains("per unit"));
    assert!(table.contains("1 (reference)"), "{table}");
    // the HR of age as printed: 2 decimals
    let hr = format!("{:.2}", term["hr"].as_f64().unwrap());
    assert!(table.contains(&hr), "{hr} not in {table}");
}

#[test]
fn an_empty_group_and_a_single_group_grouping_say_so() {
    let (html, _, json) = run("empty", |p| {
        p.replace("cuts = [65.0]", "cuts = [200.0]").replace(
            "levels = [\"under 65\", \"65 or older\"]",
            "levels = [\"under 200\", \"200 or older\"]",
        )
    });
    assert!(!html.contains("NR (NR\u{2013}NR)"));
    // the empty group's median cell says so
    assert!(html.contains(">no patients<"), "no 'no patients' cell");
    let r: serde_json::Value = serde_json::from_str(&json).unwrap();
    let s = r["survival"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["grouping"] == "age65")
        .unwrap();
    assert!(s["logrank"].is_null());
    let note = s["notes"][0].as_str().unwrap();
    assert!(
        note.contains("only one group has patients (under 200); 200 or older has none"),
        "{note}"
    );
    assert!(html.contains("200 or older has none"));
}

#[test]
fn flow_notes_are_in_the_patient_flow_section() {
    let (html, _, json) = run("notes", |p| {
        p.replacen(
            "[[checks]]",
            "[[columns]]\nname = \"ecog\"\ntype = \"number\"\npresence = \"may_be_absent\"\n\n[[checks]]",
            1,
        )
        .replacen(
            "[analysis]\n",
            "[[table1]]\nvariable = \"ecog\"\nkind = \"continuous\"\n\n[analysis]\n",
            1,
        )
    });
    let r: serde_json::Value = serde_json::from_str(&json).unwrap();
    let notes = r["flow"]["notes"].as_array().unwrap();
    assert!(!notes.is_empty());
    let flow_at = html.find("Patient flow").unwrap();
    let first = notes[0].as_str().unwrap();
    let esc = first
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;");
    let at = html.find(&esc).or_else(|| html.find(first));
    assert!(at.is_some_and(|a| a > flow_at), "{first}");
}

#[test]
fn subgroup_forest_plot_and_table() {
    let (html, _, json) = run("subgroups", |p| {
        p.replace(
            "[analysis]\n",
            "[[groupings]]\nname = \"sex\"\nkind = \"category\"\ncolumns = [\"sex\"]\nlevels = [\"female\", \"male\"]\n\n[[subgroups]]\nendpoint = \"OS\"\nexposure = \"rx\"\nby = [\"sex\", \"age65\"]\n\n[analysis]\n",
        )
    });
    let r: serde_json::Value = serde_json::from_str(&json).unwrap();
    let p = r["subgroups"][0]["by"][0]["interaction"]["p"]
        .as_f64()
        .unwrap();
    assert!(p > 0.0 && p < 1.0);
    assert!(html.contains("Subgroup analyses"));
    assert!(html.contains("hazard ratio of Treatment (Lev, Lev+5FU vs Obs) by subgroup"));
    assert!(html.contains("interaction chi-square"));
    let out = std::env::temp_dir().join(format!(
        "survstudy-cli-plan-report-{}-subgroups/out/figures/forest_subgroups_os_rx.svg",
        std::process::id()
    ));
    let svg = std::fs::read_to_string(out).unwrap();
    assert!(svg.contains("female (n = 445, 215 events)"), "{svg}");
}
