//! Parquet input (`--data FILE.parquet`): fixtures are written in the test
//! from the embedded demo cohort's CSV cells with every storage the reader
//! handles (Date32, timestamps of each unit, string dates, booleans,
//! integers, doubles, dictionary and plain strings, nulls, several row
//! groups and pages). A study run from the Parquet file must give the same
//! results.json as from the CSV (only the file name and checksum differ);
//! problems carry the data row ("row N") and the column; a corrupt file is
//! an error naming it, never a panic.

#[path = "common/parquet_writer.rs"]
mod parquet_writer;

use std::path::{Path, PathBuf};

use parquet_writer::{write_parquet, Pq};
use survstudy::derive::{derive_input, DeriveError, DeriveOptions, ProblemKind};
use survstudy::error::IngestError;
use survstudy::ingest::{parse_csv, Input, ParquetSource, RawTable};
use survstudy::pipeline::{run_study, RunError, RunOptions};
use survstudy::plan::Plan;

fn tmp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("survstudy-parquet-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d.join(name)
}

fn demo() -> RawTable {
    parse_csv("demo.csv", survstudy::synth::demo_csv().as_bytes()).unwrap()
}

/// The storage of each demo column: dates in every form, yes/no as
/// booleans and as text, numbers as integers and doubles.
fn storage(name: &str) -> Pq {
    match name {
        "cart_infusion_date" | "next_line_progression_date" => Pq::Date32,
        "progression_date" => Pq::TsMillis,
        "last_followup_date" => Pq::TsMicrosUtc,
        "death_date" => Pq::TsNanos,
        "emd_at_infusion" | "prog_emd" | "prior_bcma" => Pq::Bool,
        "age_at_infusion" => Pq::Double,
        "prior_lines" => Pq::Int64,
        "ecog" => Pq::Int32,
        "patient_id" | "data_source" => Pq::StrPlain,
        // next_line_start_date stays a string date
        _ => Pq::Str,
    }
}

fn write(t: &RawTable, path: &Path, per_group: usize) {
    let rows: Vec<Vec<String>> = t.rows.iter().map(|r| r.cells.clone()).collect();
    let types: Vec<Pq> = t.headers.iter().map(|h| storage(h)).collect();
    write_parquet(path, &t.headers, &rows, &types, per_group);
}

fn results(dir: &Path) -> serde_json::Value {
    let mut v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("results.json")).unwrap()).unwrap();
    let meta = v["meta"].as_object_mut().unwrap();
    meta.remove("data_source");
    meta.remove("sha256");
    v
}

fn run(data: &Path, out: &str) -> Result<PathBuf, RunError> {
    let out = tmp(out);
    run_study(&RunOptions {
        data: Some(data.to_path_buf()),
        out: out.clone(),
        run_date: Some("2026-01-01".into()),
        ..RunOptions::default()
    })?;
    Ok(out)
}

#[test]
fn study_from_parquet_equals_study_from_csv() {
    let t = demo();
    let csv = tmp("demo.csv");
    std::fs::write(&csv, survstudy::synth::demo_csv()).unwrap();
    let pq = tmp("demo.parquet");
    // three row groups, pages of 64 rows
    write(&t, &pq, 40);
    let a = results(&run(&csv, "out-csv").unwrap());
    let b = results(&run(&pq, "out-parquet").unwrap());
    assert_eq!(a, b);
    // the numbers are there (not two empty documents)
    assert_eq!(b["flow"]["analysed"], 106);
}

#[test]
fn cells_read_as_csv_text() {
    let t = demo();
    let pq = tmp("cells.parquet");
    write(&t, &pq, 1000);
    let src = ParquetSource::from_path(&pq).unwrap();
    assert_eq!(src.headers, t.headers);
    let mut seen = Vec::new();
    let walk = src
        .for_each_row(&mut |row, cells| {
            seen.push((row, cells.iter().map(|c| c.to_string()).collect::<Vec<_>>()))
        })
        .unwrap();
    assert_eq!(walk.rows, 106);
    assert!(walk.blank_lines.is_empty());
    for (i, (row, cells)) in seen.iter().enumerate() {
        assert_eq!(*row, i as u64 + 1);
        for (k, c) in cells.iter().enumerate() {
            let want = t.rows[i].cells[k].trim();
            let want = match storage(&t.headers[k]) {
                Pq::Bool if want == "yes" => "true",
                Pq::Bool if want == "no" => "false",
                _ => want,
            };
            assert_eq!(c, want, "row {row}, column {}", t.headers[k]);
        }
    }
}

/// A small table with named text cells, written with the given storages.
fn small(name: &str, headers: &[&str], types: &[Pq], rows: &[&[&str]]) -> PathBuf {
    let p = tmp(name);
    let h: Vec<String> = headers.iter().map(|s| s.to_string()).collect();
    let r: Vec<Vec<String>> = rows
        .iter()
        .map(|r| r.iter().map(|s| s.to_string()).collect())
        .collect();
    write_parquet(&p, &h, &r, types, 2);
    p
}

#[test]
fn nulls_are_missing_and_all_null_rows_are_blank() {
    let p = small(
        "nulls.parquet",
        &["id", "d", "x"],
        &[Pq::Str, Pq::Date32, Pq::Double],
        &[&["a", "2021-01-02", "1.5"], &["", "", ""], &["c", "", "3"]],
    );
    let src = ParquetSource::from_path(&p).unwrap();
    let mut rows = Vec::new();
    let walk = src
        .for_each_row(&mut |row, cells| rows.push((row, cells.join("|"))))
        .unwrap();
    assert_eq!(walk.blank_lines, vec![2]);
    assert_eq!(
        rows,
        vec![(1, "a|2021-01-02|1.5".to_string()), (3, "c||3".to_string())]
    );
}

fn validate(path: &Path) -> Result<survstudy::derive::Cohort, DeriveError> {
    let src = ParquetSource::from_path(path).unwrap();
    derive_input(
        &Plan::builtin(),
        &Input::Parquet(src),
        &DeriveOptions::default(),
    )
}

#[test]
fn bad_values_name_the_row_and_column() {
    let mut t = demo();
    // row 3: a string date that is not a date; row 5 repeats row 2's id
    let k = t
        .headers
        .iter()
        .position(|h| h == "next_line_start_date")
        .unwrap();
    t.rows[2].cells[k] = "2021-13-45".into();
    let id = t.rows[1].cells[0].clone();
    t.rows[4].cells[0] = id.clone();
    let pq = tmp("bad.parquet");
    write(&t, &pq, 1000);
    let Err(DeriveError::Validation(report)) = validate(&pq) else {
        panic!("expected a validation report");
    };
    let bad = report
        .problems
        .iter()
        .find(|p| p.kind == ProblemKind::BadDate)
        .unwrap();
    assert_eq!(bad.line, Some(3));
    assert_eq!(bad.column.as_deref(), Some("next_line_start_date"));
    assert_eq!(bad.value.as_deref(), Some("2021-13-45"));
    let text = bad.to_string();
    assert!(
        text.starts_with(&format!(
            "{}: row 3: patient SYN-003: column next_line_start_date: value '2021-13-45': not a date",
            pq.display()
        )),
        "{text}"
    );
    let dup: Vec<String> = report
        .problems
        .iter()
        .filter(|p| p.kind == ProblemKind::DuplicateId)
        .map(|p| p.to_string())
        .collect();
    assert_eq!(dup.len(), 2, "{dup:?}");
    assert!(
        dup[0].contains(": row 2: ") && dup[0].contains("also on row 5"),
        "{dup:?}"
    );
    assert!(
        dup[1].contains(": row 5: ") && dup[1].contains("also on row 2"),
        "{dup:?}"
    );
    // the same data as CSV: the same problems, on lines (header = line 1)
    let csv: String = std::iter::once(t.headers.join(","))
        .chain(t.rows.iter().map(|r| {
            r.cells
                .iter()
                .map(|c| format!("\"{c}\""))
                .collect::<Vec<_>>()
                .join(",")
        }))
        .collect::<Vec<_>>()
        .join("\n");
    let c = parse_csv("bad.csv", csv.as_bytes()).unwrap();
    let Err(DeriveError::Validation(rc)) = derive_input(
        &Plan::builtin(),
        &Input::Table(&c),
        &DeriveOptions::default(),
    ) else {
        panic!("expected a validation report from the CSV");
    };
    assert_eq!(rc.problems.len(), report.problems.len());
    for (a, b) in rc.problems.iter().zip(&report.problems) {
        assert_eq!((a.kind, &a.column, &a.value), (b.kind, &b.column, &b.value));
        assert_eq!(a.line.map(|l| l - 1), b.line);
    }
}

#[test]
fn missing_column_is_named_without_a_row() {
    let t = demo();
    let drop = t.headers.iter().position(|h| h == "patient_id").unwrap();
    let headers: Vec<String> = t
        .headers
        .iter()
        .enumerate()
        .filter(|(i, _)| *i != drop)
        .map(|(_, h)| h.clone())
        .collect();
    let rows: Vec<Vec<String>> = t
        .rows
        .iter()
        .map(|r| {
            r.cells
                .iter()
                .enumerate()
                .filter(|(i, _)| *i != drop)
                .map(|(_, c)| c.clone())
                .collect()
        })
        .collect();
    let types: Vec<Pq> = headers.iter().map(|h| storage(h)).collect();
    let pq = tmp("noid.parquet");
    write_parquet(&pq, &headers, &rows, &types, 1000);
    let Err(DeriveError::Validation(report)) = validate(&pq) else {
        panic!("expected a validation report");
    };
    let p = &report.problems[0];
    assert_eq!(p.kind, ProblemKind::MissingColumn);
    assert_eq!(p.line, None);
    let text = p.to_string();
    assert!(
        text.starts_with(&format!("{}: column patient_id: ", pq.display())),
        "{text}"
    );
}

#[test]
fn corrupt_files_are_errors_naming_the_file() {
    let t = demo();
    let pq = tmp("good.parquet");
    write(&t, &pq, 40);
    let bytes = std::fs::read(&pq).unwrap();
    // truncated, not Parquet at all, empty
    for (name, b) in [
        ("trunc.parquet", bytes[..bytes.len() / 2].to_vec()),
        ("text.parquet", b"patient_id\nP1\n".to_vec()),
        ("empty.parquet", Vec::new()),
    ] {
        let p = tmp(name);
        std::fs::write(&p, &b).unwrap();
        match run(&p, "out-corrupt") {
            Err(e @ RunError::Ingest(_)) => {
                assert!(e.to_string().starts_with(&p.display().to_string()), "{e}");
                assert_eq!(e.exit_code(), 2);
            }
            other => panic!("{name}: {other:?}"),
        }
    }
    // bytes changed in the data pages and in the footer: an error or a
    // (different) result, never a panic
    let mut state = 12345u64;
    let mut next = || {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (state >> 33) as usize
    };
    let p = tmp("flipped.parquet");
    let mut errors = 0;
    for _ in 0..60 {
        let mut b = bytes.clone();
        for _ in 0..3 {
            let at = 4 + next() % (b.len() - 8);
            b[at] = (next() % 256) as u8;
        }
        std::fs::write(&p, &b).unwrap();
        if let Ok(src) = ParquetSource::from_path(&p) {
            if src.for_each_row(&mut |_, _| {}).is_err() {
                errors += 1;
            }
        } else {
            errors += 1;
        }
    }
    assert!(errors > 0);
}

#[test]
fn nested_columns_are_refused() {
    use parquet::data_type::Int32Type;
    use parquet::file::properties::WriterProperties;
    use parquet::file::writer::SerializedFileWriter;
    use std::sync::Arc;
    let schema = Arc::new(
        parquet::schema::parser::parse_message_type(
            "message m { optional int32 id; optional group g { optional int32 a; } }",
        )
        .unwrap(),
    );
    let p = tmp("nested.parquet");
    let f = std::fs::File::create(&p).unwrap();
    let mut w = SerializedFileWriter::new(f, schema, Arc::new(WriterProperties::builder().build()))
        .unwrap();
    let mut rg = w.next_row_group().unwrap();
    let mut k = 0;
    while let Some(mut col) = rg.next_column().unwrap() {
        let def = if k == 0 { 1 } else { 2 };
        col.typed::<Int32Type>()
            .write_batch(&[7], Some(&[def]), None)
            .unwrap();
        col.close().unwrap();
        k += 1;
    }
    rg.close().unwrap();
    w.close().unwrap();
    match ParquetSource::from_path(&p) {
        Err(IngestError::Parquet { message, .. }) => {
            assert!(message.contains("column 'g' is a nested"), "{message}")
        }
        other => panic!("{other:?}"),
    }
}
