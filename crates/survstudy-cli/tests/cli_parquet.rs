//! `--data FILE.parquet` for every ad-hoc command and `plan --init`: the
//! R `lung` data written as Parquet in the test (integers, doubles, a
//! text column, nulls where the CSV has NA, dictionary pages, several row
//! groups) gives the same JSON as the CSV; bad values name the row and
//! column; a corrupt file exits 2 naming it.

mod common;
#[path = "../../survstudy/tests/common/parquet_writer.rs"]
mod parquet_writer;

use std::path::PathBuf;

use common::{bin, run_bounded, tmpdir};
use parquet_writer::{write_parquet, Pq};

/// lung with `.` in names replaced by `_`, as CSV (NA kept) and Parquet
/// (NA = null); `sex` is stored as text, `status` and `time` as integers.
fn lung() -> (PathBuf, PathBuf) {
    let src = std::fs::read_to_string(
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../survkit/tests/data/lung/lung.csv"),
    )
    .unwrap();
    let mut lines = src.lines();
    let headers: Vec<String> = lines
        .next()
        .unwrap()
        .split(',')
        .map(|h| h.trim_matches('"').replace('.', "_"))
        .collect();
    let rows: Vec<Vec<String>> = lines
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.split(',').map(|c| c.trim().to_string()).collect())
        .collect();
    let dir = tmpdir("parquet");
    let csv = dir.join("lung.csv");
    let mut text = headers.join(",");
    for r in &rows {
        text.push('\n');
        text.push_str(&r.join(","));
    }
    std::fs::write(&csv, text).unwrap();
    let types: Vec<Pq> = headers
        .iter()
        .map(|h| match h.as_str() {
            "time" | "ph_ecog" => Pq::Int32,
            "status" | "inst" => Pq::Int64,
            "sex" => Pq::Str,
            _ => Pq::Double,
        })
        .collect();
    let nulls: Vec<Vec<String>> = rows
        .iter()
        .map(|r| {
            r.iter()
                .map(|c| if c == "NA" { String::new() } else { c.clone() })
                .collect()
        })
        .collect();
    let pq = dir.join("lung.parquet");
    write_parquet(&pq, &headers, &nulls, &types, 100);
    (csv, pq)
}

fn json(args: &[&str]) -> String {
    let o = run_bounded(bin().args(args).arg("--json"));
    assert_eq!(o.code, Some(0), "{args:?}: {}", o.stderr);
    o.stdout
}

#[test]
fn every_adhoc_command_reads_parquet_as_csv() {
    let (csv, pq) = lung();
    let commands: Vec<Vec<&str>> = vec![
        vec![
            "km", "--time", "time", "--event", "status=2", "--group", "sex", "--at", "100,365",
        ],
        vec![
            "logrank", "--time", "time", "--event", "status=2", "--group", "sex",
        ],
        vec![
            "cox",
            "--time",
            "time",
            "--event",
            "status=2",
            "--covariates",
            "age,sex,ph_ecog,wt_loss",
        ],
        vec![
            "zph",
            "--time",
            "time",
            "--event",
            "status=2",
            "--covariates",
            "age,sex",
        ],
        vec![
            "rmst", "--time", "time", "--event", "status=2", "--group", "sex", "--tau", "500",
        ],
        vec![
            "cif",
            "--time",
            "time",
            "--status",
            "status",
            "--event-code",
            "2",
            "--group",
            "sex",
        ],
        vec![
            "finegray",
            "--time",
            "time",
            "--status",
            "status",
            "--event-code",
            "2",
            "--covariates",
            "age",
        ],
        vec![
            "adjusted",
            "--time",
            "time",
            "--event",
            "status=2",
            "--treatment",
            "sex",
            "--covariates",
            "age",
            "--at",
            "365",
        ],
    ];
    for c in &commands {
        let with = |data: &PathBuf| {
            let mut a = vec![c[0], "--data", data.to_str().unwrap()];
            a.extend(&c[1..]);
            json(&a)
        };
        let (a, b) = (with(&csv), with(&pq));
        assert!(a.len() > 50, "{c:?}: {a}");
        assert_eq!(a, b, "{c:?}");
    }
}

#[test]
fn parquet_errors_name_row_column_and_file() {
    let (_, pq) = lung();
    let p = pq.to_str().unwrap();
    // a text column where a number is needed: first row, column sex is "1"
    // (a number), so ask for a date-free text column that is not numeric
    let dir = tmpdir("parquet-bad");
    let bad = dir.join("bad.parquet");
    write_parquet(
        &bad,
        &["time".into(), "status".into()],
        &[vec!["5".into(), "1".into()], vec!["abc".into(), "0".into()]],
        &[Pq::Str, Pq::Int32],
        10,
    );
    let o = run_bounded(bin().args([
        "km",
        "--data",
        bad.to_str().unwrap(),
        "--time",
        "time",
        "--event",
        "status",
    ]));
    assert_eq!(o.code, Some(2));
    assert!(
        o.stderr
            .contains("bad.parquet: row 2, column 'time': 'abc' is not a number"),
        "{}",
        o.stderr
    );
    // a negative time: the row is named
    let neg = dir.join("neg.parquet");
    write_parquet(
        &neg,
        &["time".into(), "status".into()],
        &[vec!["5".into(), "1".into()], vec!["-2".into(), "0".into()]],
        &[Pq::Double, Pq::Int32],
        10,
    );
    let o = run_bounded(bin().args([
        "km",
        "--data",
        neg.to_str().unwrap(),
        "--time",
        "time",
        "--event",
        "status",
    ]));
    assert_eq!(o.code, Some(2));
    assert!(
        o.stderr.contains("neg.parquet: row 2, column 'time'"),
        "{}",
        o.stderr
    );
    // a missing column lists the file's columns
    let o = run_bounded(bin().args(["km", "--data", p, "--time", "nope", "--event", "status"]));
    assert_eq!(o.code, Some(2));
    assert!(o.stderr.contains("column 'nope' not found"), "{}", o.stderr);
    // corrupt: truncated file, for an ad-hoc command and for run
    let bytes = std::fs::read(&pq).unwrap();
    let cut = dir.join("cut.parquet");
    std::fs::write(&cut, &bytes[..bytes.len() - 100]).unwrap();
    let o = run_bounded(bin().args([
        "cox",
        "--data",
        cut.to_str().unwrap(),
        "--time",
        "time",
        "--event",
        "status=2",
        "--covariates",
        "age",
    ]));
    assert_eq!(o.code, Some(2));
    assert!(o.stderr.contains("cut.parquet: "), "{}", o.stderr);
    let out = dir.join("out");
    let o = run_bounded(
        bin()
            .args(["run", "--quiet", "--data", cut.to_str().unwrap(), "--out"])
            .arg(&out),
    );
    assert_eq!(o.code, Some(2));
    assert!(o.stderr.contains("cut.parquet: "), "{}", o.stderr);
    assert!(!out.join("results.json").exists());
}

#[test]
fn plan_init_and_run_read_parquet() {
    // the demo cohort, dates as Date32 and timestamps, the rest as text
    let t =
        survstudy::ingest::parse_csv("demo.csv", survstudy::synth::demo_csv().as_bytes()).unwrap();
    let dir = tmpdir("parquet-init");
    let csv = dir.join("demo.csv");
    std::fs::write(&csv, survstudy::synth::demo_csv()).unwrap();
    let pq = dir.join("demo.parquet");
    let types: Vec<Pq> = t
        .headers
        .iter()
        .map(|h| match h.as_str() {
            "death_date" | "last_followup_date" => Pq::TsMicrosUtc,
            h if h.ends_with("_date") => Pq::Date32,
            _ => Pq::Str,
        })
        .collect();
    let rows: Vec<Vec<String>> = t.rows.iter().map(|r| r.cells.clone()).collect();
    write_parquet(&pq, &t.headers, &rows, &types, 50);
    let init = |data: &PathBuf| {
        let o = run_bounded(bin().args(["plan", "--init", "--data"]).arg(data));
        assert_eq!(o.code, Some(0), "{}", o.stderr);
        o.stdout
    };
    let (a, b) = (init(&csv), init(&pq));
    // the same plan is guessed (the file name differs)
    let strip = |s: &str| {
        s.lines()
            .filter(|l| !l.contains("demo."))
            .collect::<Vec<_>>()
            .join("\n")
    };
    assert!(a.contains("[[columns]]"), "{a}");
    assert_eq!(strip(&a), strip(&b));
    // and the study runs from it, exit 0
    let out = dir.join("out");
    let o = run_bounded(
        bin()
            .args(["run", "--quiet", "--data"])
            .arg(&pq)
            .arg("--out")
            .arg(&out),
    );
    assert_eq!(o.code, Some(0), "{}", o.stderr);
    assert!(out.join("results.json").exists());
}
