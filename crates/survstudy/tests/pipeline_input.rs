//! Ingest and validation of the input side: CSV and Excel fixtures, planted
//! errors with every line and column asserted, exclusion flow, date formats.

use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use survstudy::derive::{derive, DeriveOptions, ExcludePolicy, ProblemKind, Value};
use survstudy::error::IngestError;
use survstudy::ingest::read_table;
use survstudy::plan::Plan;

fn data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name)
}

fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).unwrap()
}

#[test]
fn csv_with_bom_crlf_mixed_headers_and_extra_columns() {
    let t = read_table(&data("valid_bom_crlf.csv"), None).unwrap();
    assert_eq!(t.headers[0], " Patient_ID ");
    assert_eq!(t.rows.len(), 5);
    assert_eq!(t.blank_lines, vec![4]);
    let lines: Vec<u64> = t.rows.iter().map(|r| r.line).collect();
    assert_eq!(lines, vec![2, 3, 5, 6, 7]);

    let c = derive(&Plan::builtin(), &t, &DeriveOptions::default()).unwrap();
    assert_eq!(c.flow.rows_read, 5);
    assert_eq!(c.flow.analysed, 5);
    assert!(c.flow.excluded.is_empty());
    assert_eq!(c.extra_columns, vec!["MRN", "Notes"]);
    assert!(c
        .absent_columns
        .contains(&"high_risk_cytogenetics".to_string()));
    let ids: Vec<&str> = c.patients.iter().map(|p| p.id()).collect();
    assert_eq!(ids, vec!["P01", "P02", "P03", "P04", "P05"]);
    let p3 = &c.patients[2];
    assert_eq!(p3.line(), 5);
    // every patient keeps its line past the blank line 4
    let lines: Vec<u64> = c.patients.iter().map(|p| p.line()).collect();
    assert_eq!(lines, vec![2, 3, 5, 6, 7]);
    assert_eq!(p3.flag("emd_at_infusion"), Some(true)); // " Y "
    assert_eq!(p3.flag("prog_biochemical"), Some(true)); // "TRUE"
    assert_eq!(p3.category("cart_product"), Some("ide-cel")); // "IDE-CEL"
    assert_eq!(p3.value("age_at_infusion"), Value::Missing);
    assert_eq!(p3.extra()["MRN"], "MRN-003");
    assert_eq!(c.patients[1].category("cart_product"), Some("cilta-cel"));
    assert_eq!(c.patients[0].number("age_at_infusion"), Some(61.5));
    assert_eq!(c.patients[0].date("death_date"), Some(d(2022, 3, 1)));
}

#[test]
fn xlsx_with_real_and_text_dates_matches_csv() {
    let x = read_table(&data("valid.xlsx"), None).unwrap();
    assert_eq!(x.sheet.as_deref(), Some("Cohort"));
    assert_eq!(x.header_line, 1);
    assert_eq!(x.blank_lines, vec![4]);
    // Row 2 (P01) has real date cells, row 3 (P02) text dates.
    assert_eq!(x.rows[0].cells[2], "2021-01-10");
    assert_eq!(x.rows[0].cells[14], "61.5");
    assert_eq!(x.rows[1].cells[14], "70"); // float 70.0 without ".0"
    assert_eq!(x.rows[3].cells[7], "1"); // int cell

    let plan = Plan::builtin();
    let cx = derive(&plan, &x, &DeriveOptions::default()).unwrap();
    let t = read_table(&data("valid_bom_crlf.csv"), None).unwrap();
    let cc = derive(&plan, &t, &DeriveOptions::default()).unwrap();
    assert_eq!(cx.flow, cc.flow);
    assert_eq!(cx.endpoints, cc.endpoints);
    assert_eq!(cx.groupings, cc.groupings);
    for (a, b) in cx.patients.iter().zip(&cc.patients) {
        assert_eq!(a.values(), b.values(), "patient {}", a.id());
        assert_eq!(a.line(), b.line());
    }

    let named = read_table(&data("valid.xlsx"), Some("notes")).unwrap();
    assert_eq!(named.sheet.as_deref(), Some("Notes"));
    match read_table(&data("valid.xlsx"), Some("Nope")) {
        Err(IngestError::SheetNotFound { available, .. }) => {
            assert_eq!(available, "Cohort, Notes")
        }
        other => panic!("expected SheetNotFound, got {other:?}"),
    }
}

/// (line, column, kind) of every planted problem in planted_errors.csv.
fn planted() -> Vec<(u64, &'static str, ProblemKind)> {
    use ProblemKind::*;
    vec![
        (2, "patient_id", DuplicateId),
        (3, "progression_date", BadDate),
        (4, "emd_at_infusion", BadYesNo),
        (5, "cart_product", MissingValue),
        (6, "patient_id", DuplicateId),
        (7, "progression_date", DateOrder),
        (8, "last_followup_date", DateOrder),
        (9, "next_line_start_date", DateOrder),
        (10, "next_line_progression_date", DateOrder),
        (11, "last_followup_date", DateOrder),
        (12, "cart_product", BadCategory),
        (12, "death_date", BadDate),
        // death before progression: caught by "last follow-up after death"
        (14, "last_followup_date", DateOrder),
        (15, "patient_id", MissingValue),
    ]
}

#[test]
fn every_planted_problem_is_reported_with_line_and_column() {
    let t = read_table(&data("planted_errors.csv"), None).unwrap();
    let r = derive(&Plan::builtin(), &t, &DeriveOptions::default()).unwrap_err();
    let got: Vec<(u64, &str, ProblemKind)> = r
        .problems
        .iter()
        .map(|p| (p.line.unwrap(), p.column.as_deref().unwrap(), p.kind))
        .collect();
    let mut got_sorted = got.clone();
    got_sorted.sort_by_key(|g| (g.0, g.1));
    let mut want = planted();
    want.sort_by_key(|g| (g.0, g.1));
    assert_eq!(got_sorted, want);

    // Offending values, ids and messages.
    let p = r.on_line(3).next().unwrap();
    assert_eq!(p.value.as_deref(), Some("2021-13-01"));
    assert_eq!(p.patient_id.as_deref(), Some("E02"));
    assert!(p.file.ends_with("planted_errors.csv"));
    let p = r.on_line(4).next().unwrap();
    assert_eq!(p.value.as_deref(), Some("maybe"));
    let p = r.on_line(6).next().unwrap();
    assert!(p.message.contains("also on line 2"), "{}", p.message);
    let p = r.on_line(7).next().unwrap();
    assert_eq!(p.value.as_deref(), Some("2020-12-01"));
    assert!(p.message.contains("progression before infusion"));
    let p = r.on_line(11).next().unwrap();
    assert!(p.message.contains("last follow-up after death"));
    assert_eq!(p.value.as_deref(), Some("2022-01-01"));
    let p = r
        .on_line(12)
        .find(|p| p.column.as_deref() == Some("cart_product"))
        .unwrap();
    assert_eq!(p.value.as_deref(), Some("axi-cel"));
    let p = r.on_line(15).next().unwrap();
    assert_eq!(p.patient_id, None);
    // Death after last follow-up (line 13) and the clean row 16 are fine.
    assert_eq!(r.on_line(13).count(), 0);
    assert_eq!(r.on_line(16).count(), 0);

    // One summary per date column with unreadable dates.
    assert_eq!(r.summaries.len(), 2, "{:?}", r.summaries);
    assert!(r.summaries[0].starts_with("column progression_date: 1 date(s)"));
    assert!(r.summaries[0].contains("no common date format"));
    assert!(r.summaries[1].contains("use --date-format %d/%m/%Y"));

    // Display: the summaries, then one line per problem with file, line,
    // column and value.
    let text = r.to_string();
    assert_eq!(text.lines().count(), planted().len() + 2);
    assert!(
        text.lines().any(|l| l.contains(
            "planted_errors.csv: line 3: patient E02: column progression_date: value '2021-13-01'"
        )),
        "{text}"
    );
}

#[test]
fn exclude_invalid_lists_each_excluded_patient_in_the_flow() {
    let t = read_table(&data("planted_errors.csv"), None).unwrap();
    let opts = DeriveOptions {
        exclude: ExcludePolicy::ExcludeInvalid,
        ..Default::default()
    };
    let c = derive(&Plan::builtin(), &t, &opts).unwrap();
    assert_eq!(c.flow.rows_read, 15);
    let lines: Vec<u64> = c.flow.excluded.iter().map(|e| e.line).collect();
    assert_eq!(lines, vec![2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 14, 15]);
    assert_eq!(c.flow.analysed, 2);
    let ids: Vec<&str> = c.patients.iter().map(|p| p.id()).collect();
    assert_eq!(ids, vec!["E11", "E13"]);
    let e12 = c.flow.excluded.iter().find(|e| e.line == 12).unwrap();
    assert_eq!(e12.patient_id.as_deref(), Some("E10"));
    assert!(
        e12.reason.contains("cart_product 'axi-cel'"),
        "{}",
        e12.reason
    );
    assert!(
        e12.reason.contains("death_date '31/12/2021'"),
        "{}",
        e12.reason
    );
    assert_eq!(c.flow.excluded.last().unwrap().patient_id, None);
    // Contract field names.
    let json = serde_json::to_value(&c.flow).unwrap();
    assert_eq!(json["rows_read"], 15);
    assert_eq!(json["analysed"], 2);
    assert_eq!(json["excluded"][0]["line"], 2);
    assert_eq!(json["excluded"][0]["patient_id"], "E01");
    assert!(json["excluded"][0]["reason"]
        .as_str()
        .unwrap()
        .contains("duplicate"));
}

#[test]
fn table_problems_stop_even_with_exclude_invalid() {
    let t = read_table(&data("missing_column.csv"), None).unwrap();
    let opts = DeriveOptions {
        exclude: ExcludePolicy::ExcludeInvalid,
        ..Default::default()
    };
    let r = derive(&Plan::builtin(), &t, &opts).unwrap_err();
    let kinds: Vec<(Option<u64>, Option<&str>, ProblemKind)> = r
        .problems
        .iter()
        .map(|p| (p.line, p.column.as_deref(), p.kind))
        .collect();
    assert_eq!(
        kinds,
        vec![
            (
                Some(1),
                Some("progression_date"),
                ProblemKind::MissingColumn
            ),
            (Some(1), Some("death_date"), ProblemKind::DuplicateColumn),
            (
                Some(1),
                Some("next_line_start_date"),
                ProblemKind::MissingColumn
            ),
            (
                Some(1),
                Some("next_line_progression_date"),
                ProblemKind::MissingColumn
            ),
        ]
    );
    assert_eq!(
        r.problems[1].value.as_deref(),
        Some("Death_Date | death_date")
    );
}

#[test]
fn custom_date_format_from_option_or_plan() {
    let t = read_table(&data("us_dates.csv"), None).unwrap();
    let plan = Plan::builtin();
    // ISO default: the US dates are errors, never guessed.
    let r = derive(&plan, &t, &DeriveOptions::default()).unwrap_err();
    assert!(r.problems.iter().all(|p| p.kind == ProblemKind::BadDate));
    assert!(r.has(2, "cart_infusion_date") && r.has(3, "progression_date"));
    assert!(!r.has(3, "last_followup_date")); // ISO is always accepted

    let opts = DeriveOptions {
        date_format: Some("%m/%d/%Y".into()),
        ..Default::default()
    };
    let c = derive(&plan, &t, &opts).unwrap();
    assert_eq!(
        c.patients[0].date("cart_infusion_date"),
        Some(d(2021, 1, 10))
    );
    assert_eq!(c.patients[1].date("progression_date"), Some(d(2021, 7, 13)));
    assert_eq!(
        c.patients[1].date("last_followup_date"),
        Some(d(2022, 1, 31))
    );

    // Same through the plan.
    let text =
        Plan::builtin_toml().replace("date_format = \"%Y-%m-%d\"", "date_format = \"%m/%d/%Y\"");
    let plan_us = Plan::from_toml_str(&text).unwrap();
    let c2 = derive(&plan_us, &t, &DeriveOptions::default()).unwrap();
    assert_eq!(c2.patients, c.patients);

    // Day-first reading of the same file fails on 02/14/2021 and 07/13/2021.
    let eu = DeriveOptions {
        date_format: Some("%d/%m/%Y".into()),
        ..Default::default()
    };
    let r = derive(&plan, &t, &eu).unwrap_err();
    assert!(r.has(3, "cart_infusion_date") && r.has(3, "progression_date"));

    // An unusable format is one table-level problem, not a panic.
    let bad = DeriveOptions {
        date_format: Some("%Q".into()),
        ..Default::default()
    };
    let r = derive(&plan, &t, &bad).unwrap_err();
    assert_eq!(r.problems.len(), 1);
    assert_eq!(r.problems[0].kind, ProblemKind::BadDateFormat);
    assert_eq!(r.problems[0].line, None);
}
