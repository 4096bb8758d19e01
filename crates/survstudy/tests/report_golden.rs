//! Golden test of the demo report: the HTML page, every figure SVG,
//! results.json and every `tables/*.csv`, byte for byte, in several
//! configurations.
//!
//! The expected files live in `tests/golden/report/<case>/`. Any byte change
//! fails the test and names the files that differ. After an intended change,
//! regenerate them with
//!
//! ```text
//! BLESS=1 cargo test --release -p survstudy --test report_golden
//! ```
//!
//! and commit the new files in their own commit, saying why they changed.
//! PNGs are not compared here (resvg upgrades may move pixels); the report
//! tests check their dimensions.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use survstudy::analysis::{analyse, AnalysisOptions, Conventions, Results};
use survstudy::derive::{derive, DeriveOptions, ExcludePolicy};
use survstudy::pipeline::RunMeta;
use survstudy::plan::Plan;
use survstudy::report::study::{build_report, CiBands, Identifiers, ReportMeta, ReportOptions};

/// Placeholder that replaces the crate version in every golden file, so a
/// version bump does not touch them.
const VERSION_MARK: &str = "survstudy VERSION";

/// One configuration of the golden test.
struct Case {
    name: &'static str,
    csv: String,
    exclude: ExcludePolicy,
    conventions: Conventions,
    report: ReportOptions,
}

/// The embedded demo cohort with planted invalid rows: a bad date, a
/// duplicated patient id and a cell whose value contains `"; "` (the
/// separator of joined reasons, which must never leak a value).
fn planted_csv() -> String {
    let demo = survstudy::synth::demo_csv();
    let mut lines: Vec<String> = demo.lines().map(str::to_string).collect();
    let header: Vec<&str> = lines[0].split(',').collect();
    let col = |name: &str| header.iter().position(|h| *h == name).expect(name);
    let (prog, bcma, ecog) = (col("progression_date"), col("prior_bcma"), col("ecog"));
    let set = |line: &str, j: usize, v: &str| -> String {
        // the demo rows quote only the last column, so splitting the first
        // fields on ',' is safe
        let (head, tail) = line.rsplit_once(",\"").expect("quoted data_source");
        let mut cells: Vec<String> = head.split(',').map(str::to_string).collect();
        cells[j] = v.to_string();
        format!("{},\"{}", cells.join(","), tail)
    };
    lines[3] = set(&lines[3], prog, "2021-13-01");
    lines[7] = set(&lines[7], bcma, "\"yes; secret-token\"");
    lines[11] = set(&lines[11], ecog, "9; 8");
    let dup = lines[5].clone();
    lines.push(dup);
    lines.join("\n") + "\n"
}

fn cases() -> Vec<Case> {
    let demo = survstudy::synth::demo_csv().to_string();
    vec![
        Case {
            name: "default",
            csv: demo.clone(),
            exclude: ExcludePolicy::Stop,
            conventions: Conventions::R,
            report: ReportOptions::default(),
        },
        Case {
            name: "sas_suppressed_ids",
            csv: demo.clone(),
            exclude: ExcludePolicy::Stop,
            conventions: Conventions::Sas,
            report: ReportOptions {
                suppress_below: Some(5),
                show_identifiers: Identifiers::Shown,
                ..Default::default()
            },
        },
        Case {
            name: "plain",
            csv: demo,
            exclude: ExcludePolicy::Stop,
            conventions: Conventions::R,
            report: ReportOptions {
                ci_bands: CiBands::Never,
                risk_table: false,
                toc: false,
                ..Default::default()
            },
        },
        Case {
            name: "excluded_rows",
            csv: planted_csv(),
            exclude: ExcludePolicy::ExcludeInvalid,
            conventions: Conventions::R,
            report: ReportOptions::default(),
        },
        Case {
            name: "excluded_rows_ids",
            csv: planted_csv(),
            exclude: ExcludePolicy::ExcludeInvalid,
            conventions: Conventions::R,
            report: ReportOptions {
                show_identifiers: Identifiers::Shown,
                ..Default::default()
            },
        },
    ]
}

fn analyse_case(case: &Case) -> Results {
    let table =
        survstudy::ingest::parse_csv("demo_cohort.csv", case.csv.as_bytes()).expect("parse demo");
    let plan = Plan::builtin();
    let opts = DeriveOptions {
        exclude: case.exclude,
        ..Default::default()
    };
    let cohort = derive(&plan, &table, &opts).expect("derive");
    analyse(
        &plan,
        &cohort,
        &AnalysisOptions {
            conventions: case.conventions,
            ..Default::default()
        },
    )
}

fn normalise(text: &str) -> String {
    text.replace(
        &format!("survstudy {}", env!("CARGO_PKG_VERSION")),
        VERSION_MARK,
    )
}

/// Every output of one case, by relative path.
fn render(case: &Case) -> BTreeMap<String, String> {
    let results = analyse_case(case);
    let meta = ReportMeta {
        title: "Outcomes after progression following BCMA CAR-T therapy".into(),
        data_source: "demo_cohort.csv".into(),
        sha256: "ab".repeat(32),
        run_date: "2025-06-30".into(),
        version: env!("CARGO_PKG_VERSION").into(),
        synthetic: true,
    };
    let rep = build_report(&results, &meta, &case.report).expect("build report");
    let mut out = BTreeMap::new();
    out.insert("index.html".to_string(), normalise(&rep.html));
    for f in &rep.figures {
        out.insert(format!("figures/{}.svg", f.name), normalise(&f.svg));
    }
    let run_meta = RunMeta {
        data_source: meta.data_source.clone(),
        sha256: meta.sha256.clone(),
        synthetic: true,
        run_date: meta.run_date.clone(),
        plan: "built-in post-CAR-T plan".into(),
        survstudy_version: VERSION_MARK.into(),
    };
    let json =
        survstudy::pipeline::results_json_with(&results, &run_meta, case.report.show_identifiers);
    out.insert(
        "results.json".to_string(),
        serde_json::to_string_pretty(&json).expect("json") + "\n",
    );
    let dir = std::env::temp_dir().join(format!(
        "survstudy_golden_{}_{}",
        case.name,
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    let files = survstudy::tables::write_tables_with(&results, &dir, case.report.show_identifiers)
        .expect("write tables");
    for f in files {
        let name = f
            .file_name()
            .expect("file name")
            .to_string_lossy()
            .into_owned();
        let text = std::fs::read_to_string(&f).expect("read table");
        out.insert(format!("tables/{name}"), text);
    }
    let _ = std::fs::remove_dir_all(&dir);
    out
}

/// Relative paths of every file below `dir`.
fn list(dir: &Path) -> Vec<String> {
    let mut out = vec![];
    let mut stack: Vec<PathBuf> = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(rd) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if let Ok(rel) = p.strip_prefix(dir) {
                out.push(rel.to_string_lossy().replace('\\', "/"));
            }
        }
    }
    out.sort();
    out
}

/// Compare one case with its golden directory; with `BLESS=1` rewrite it.
/// Returns the differences found.
fn check(case: &Case, bless: bool) -> Vec<String> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden/report")
        .join(case.name);
    let got = render(case);
    if bless {
        let _ = std::fs::remove_dir_all(&dir);
        for (rel, text) in &got {
            let p = dir.join(rel);
            std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
            std::fs::write(&p, text).expect("write golden");
        }
        return vec![];
    }
    let mut diffs = vec![];
    let want = list(&dir);
    if want.is_empty() {
        diffs.push(format!("{}: no golden files (run with BLESS=1)", case.name));
        return diffs;
    }
    for rel in &want {
        if !got.contains_key(rel) {
            diffs.push(format!("{}/{rel}: expected but not produced", case.name));
        }
    }
    for (rel, text) in &got {
        match std::fs::read_to_string(dir.join(rel)) {
            Err(_) => diffs.push(format!(
                "{}/{rel}: produced but has no golden file",
                case.name
            )),
            Ok(w) if w != *text => {
                let at = w
                    .bytes()
                    .zip(text.bytes())
                    .position(|(a, b)| a != b)
                    .unwrap_or(w.len().min(text.len()));
                let lo = at.saturating_sub(60);
                let snippet = |s: &str| {
                    let hi = (at + 60).min(s.len());
                    String::from_utf8_lossy(&s.as_bytes()[lo.min(s.len())..hi]).into_owned()
                };
                diffs.push(format!(
                    "{}/{rel}: differs at byte {at}\n  want: {:?}\n  got:  {:?}",
                    case.name,
                    snippet(&w),
                    snippet(text)
                ));
            }
            Ok(_) => {}
        }
    }
    diffs
}

#[test]
fn demo_report_matches_golden_files() {
    let bless = std::env::var_os("BLESS").is_some_and(|v| v == "1");
    let mut diffs = vec![];
    for case in cases() {
        diffs.extend(check(&case, bless));
    }
    assert!(
        diffs.is_empty(),
        "{} golden file(s) differ (BLESS=1 regenerates after an intended change):\n{}",
        diffs.len(),
        diffs.join("\n")
    );
}

#[test]
fn planted_rows_are_excluded_and_listed() {
    let case = cases()
        .into_iter()
        .find(|c| c.name == "excluded_rows")
        .expect("case");
    let r = analyse_case(&case);
    // bad date, two cells with "; " and both rows of the duplicated id
    assert!(
        r.flow.excluded.len() >= 4,
        "excluded rows: {:?}",
        r.flow.excluded
    );
    // with identifiers hidden no output (HTML, SVG, results.json,
    // tables/*.csv) carries a planted cell value, a patient id of an
    // excluded row or the raw bad date
    let out = render(&case);
    for (rel, text) in &out {
        for needle in ["secret-token", "2021-13-01", "9; 8"] {
            assert!(!text.contains(needle), "{rel} leaks {needle:?}");
        }
    }
    let flow = &out["tables/flow.csv"];
    assert!(
        flow.contains("line 4: progression_date: not a date in format YYYY-MM-DD"),
        "{flow}"
    );
    // shown on request
    let case = cases()
        .into_iter()
        .find(|c| c.name == "excluded_rows_ids")
        .expect("case");
    let out = render(&case);
    assert!(out["tables/flow.csv"].contains("2021-13-01"));
    assert!(out["results.json"].contains("secret-token"));
}
