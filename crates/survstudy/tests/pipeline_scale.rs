//! Outputs stay bounded when many rows are excluded: results.json and the
//! report list the first `EXCLUDED_LISTED` rows and count every row by
//! reason; tables/flow.csv keeps them all.

use survstudy::derive::{ExcludePolicy, ProblemKind};
use survstudy::flow::EXCLUDED_LISTED;
use survstudy::pipeline::{run_study, RunOptions};

/// The demo cohort repeated `copies` times with fresh ids; in the rows of
/// copies >= 1, `bad` of every 3 rows get an unreadable progression date.
fn big_csv(copies: usize) -> (String, usize) {
    let demo = survstudy::synth::demo_csv();
    let mut lines = demo.lines();
    let header = lines.next().unwrap();
    let cols: Vec<&str> = header.split(',').collect();
    let id = cols.iter().position(|c| *c == "patient_id").unwrap();
    let prog = cols.iter().position(|c| *c == "progression_date").unwrap();
    let rows: Vec<Vec<String>> = lines
        .map(|l| {
            let mut r = csv::ReaderBuilder::new()
                .has_headers(false)
                .from_reader(l.as_bytes());
            r.records()
                .next()
                .unwrap()
                .unwrap()
                .iter()
                .map(str::to_string)
                .collect()
        })
        .collect();
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(&cols).unwrap();
    let mut bad = 0;
    for c in 0..copies {
        for (k, r) in rows.iter().enumerate() {
            let mut r = r.clone();
            r[id] = format!("{}-{c}", r[id]);
            if c > 0 && k % 3 != 0 {
                r[prog] = "not a date".into();
                bad += 1;
            }
            w.write_record(&r).unwrap();
        }
    }
    (String::from_utf8(w.into_inner().unwrap()).unwrap(), bad)
}

/// `run` on `csv` (written to a fresh temporary directory named after
/// `tag`) excluding invalid rows: the directory, the output folder, the run.
fn run_excluding(
    tag: &str,
    csv: &str,
) -> (
    std::path::PathBuf,
    std::path::PathBuf,
    survstudy::pipeline::RunOutput,
) {
    let dir = std::env::temp_dir().join(format!("{tag}_{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let data = dir.join("data.csv");
    std::fs::write(&data, csv).unwrap();
    let out = dir.join("out");
    let opts = RunOptions {
        data: Some(data),
        out: out.clone(),
        exclude: ExcludePolicy::ExcludeInvalid,
        run_date: Some("2026-01-01".into()),
        ..RunOptions::default()
    };
    let r = run_study(&opts).unwrap();
    (dir, out, r)
}

#[test]
fn many_excluded_rows_are_listed_up_to_the_cap_and_all_counted() {
    let (csv, bad) = big_csv(16);
    assert!(bad > EXCLUDED_LISTED, "{bad}");
    let (dir, out, r) = run_excluding("survstudy_scale", &csv);
    assert_eq!(r.results.flow.excluded.len(), bad);

    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("results.json")).unwrap()).unwrap();
    let flow = &json["flow"];
    let listed = flow["excluded"].as_array().unwrap();
    assert_eq!(listed.len(), EXCLUDED_LISTED);
    assert_eq!(flow["excluded_listed"], EXCLUDED_LISTED);
    assert_eq!(flow["excluded_total"], bad);
    // the first rows in file order: the first bad row is line 2 + 106 + 1
    assert_eq!(listed[0]["line"], 2 + 106 + 1);
    let lines: Vec<u64> = listed.iter().map(|e| e["line"].as_u64().unwrap()).collect();
    assert!(lines.windows(2).all(|w| w[0] < w[1]));
    let by_reason = flow["excluded_by_reason"].as_array().unwrap();
    let total: u64 = by_reason.iter().map(|x| x["n"].as_u64().unwrap()).sum();
    assert_eq!(total as usize, bad);
    assert_eq!(by_reason.len(), 1, "{by_reason:?}");
    assert!(by_reason[0]["reason"]
        .as_str()
        .unwrap()
        .starts_with("progression_date"));

    // the report lists the capped rows and says so
    let html = std::fs::read_to_string(out.join("index.html")).unwrap();
    assert!(html.contains(&format!("the first {EXCLUDED_LISTED} listed")));
    // flow.csv keeps every excluded row
    let flow_csv = std::fs::read_to_string(out.join("tables").join("flow.csv")).unwrap();
    let n_excluded = flow_csv
        .lines()
        .filter(|l| l.starts_with("excluded,"))
        .count();
    assert_eq!(n_excluded, bad);
    std::fs::remove_dir_all(&dir).ok();
}

/// Files of ≥ 50 000 rows are validated in two halves on two cores: the
/// problems found while reading (here unreadable progression dates, in
/// both halves) must reach the half that checks those rows, so each bad
/// row is excluded for that one reason only, and the rows come back in
/// file order on both sides of the split.
#[test]
fn validation_in_two_halves_keeps_every_problem_and_the_row_order() {
    let (csv, bad) = big_csv(480);
    let n_rows = 106 * 480;
    assert!(n_rows >= 50_000);
    let (dir, out, r) = run_excluding("survstudy_halves", &csv);
    let flow = &r.results.flow;
    assert_eq!(flow.excluded.len(), bad);
    assert_eq!(r.results.n, n_rows - bad);
    // one reason per excluded row, the unreadable date as read (a half
    // that lost the reading problems would report the date as missing, or
    // a second problem from the row checks)
    for e in &flow.excluded {
        assert_eq!(e.causes.len(), 1, "line {}: {}", e.line, e.reason);
        assert_eq!(
            e.causes[0].kind,
            ProblemKind::BadDate,
            "line {}: {}",
            e.line,
            e.reason
        );
        assert!(
            e.reason.starts_with("progression_date") && e.reason.contains("not a date"),
            "line {}: {}",
            e.line,
            e.reason
        );
    }
    let lines: Vec<u64> = flow.excluded.iter().map(|e| e.line).collect();
    assert!(lines.windows(2).all(|w| w[0] < w[1]));
    // bad rows on both sides of the split (line = row + 2)
    let mid = (n_rows / 2) as u64 + 2;
    assert!(lines.first().unwrap() < &mid && lines.last().unwrap() > &mid);
    // the analysed patients are the good rows in file order
    let adsl = std::fs::read_to_string(out.join("adsl.csv")).unwrap();
    assert_eq!(adsl.lines().count(), 1 + n_rows - bad);
    std::fs::remove_dir_all(&dir).ok();
}
