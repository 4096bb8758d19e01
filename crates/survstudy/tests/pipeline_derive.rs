//! Endpoint derivation (hand-checked), groupings, counts, ADSL/ADTTE
//! writers and the study plan round trip.

use std::path::{Path, PathBuf};

use survstudy::derive::{derive, write_adsl, write_adtte, Cohort, DeriveOptions, VariableValues};
use survstudy::ingest::{parse_csv, read_table};
use survstudy::plan::{GroupingKind, Plan, TimeUnit};

fn data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name)
}

fn valid_cohort(plan: &Plan) -> Cohort {
    let t = read_table(&data("valid_bom_crlf.csv"), None).unwrap();
    derive(plan, &t, &DeriveOptions::default()).unwrap()
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-12
}

#[test]
fn os_and_pfs_hand_checked() {
    let c = valid_cohort(&Plan::builtin());
    let os = c.endpoint("OS").unwrap();
    let pfs = c.endpoint("PFS").unwrap();
    assert_eq!(os.unit, TimeUnit::Months);
    // (days, event, end column) per patient P01..P05, by hand:
    // P01 prog 2021-06-01, lfu 2022-01-01, death 2022-03-01 (after lfu:
    //     still the OS event), next-line progression 2021-10-01.
    // P02 prog 2021-05-01, lfu 2022-05-01, alive, no next line.
    // P03 prog 2021-03-01, death = lfu = 2021-09-01, no next-line progression.
    // P04 prog = lfu = 2021-07-15, alive.
    // P05 prog 2021-04-01, lfu 2021-12-31, alive, nlp 2021-08-01.
    let want_os = [
        (273, true, "death_date"),
        (365, false, "last_followup_date"),
        (184, true, "death_date"),
        (0, false, "last_followup_date"),
        (274, false, "last_followup_date"),
    ];
    let want_pfs = [
        (122, true, "next_line_progression_date"),
        (365, false, "last_followup_date"),
        (184, true, "death_date"),
        (0, false, "last_followup_date"),
        (122, true, "next_line_progression_date"),
    ];
    for (k, (days, event, col)) in want_os.iter().enumerate() {
        let r = os.records[k].as_ref().unwrap();
        assert_eq!(
            (r.days, r.event, os.end_column(r)),
            (*days, *event, *col),
            "OS {k}"
        );
        assert!(close(os.time_of(k, r), *days as f64 / 30.4375));
        assert_eq!(os.time(k), Some(os.time_of(k, r)));
    }
    for (k, (days, event, col)) in want_pfs.iter().enumerate() {
        let r = pfs.records[k].as_ref().unwrap();
        assert_eq!(
            (r.days, r.event, pfs.end_column(r)),
            (*days, *event, *col),
            "PFS {k}"
        );
    }
    assert!(close(os.time(0).unwrap(), 8.969199178644764));
    assert_eq!((os.n(), os.events()), (5, 2));
    assert_eq!((pfs.n(), pfs.events()), (5, 3));
    let (idx, time, event) = pfs.analysis_rows();
    assert_eq!(idx, vec![0, 1, 2, 3, 4]);
    assert_eq!(event, vec![true, false, true, false, true]);
    assert!(close(time[1], 365.0 / 30.4375));

    // Days from infusion to progression.
    assert_eq!(
        c.days_infusion_to_progression().unwrap(),
        &[Some(142), Some(89), Some(101), Some(191), Some(31)]
    );
}

#[test]
fn plan_options_death_censoring_and_next_line_population() {
    let text = Plan::builtin_toml()
        .replace(
            "events = [\"next_line_progression_date\", \"death_date\"]\ncensor = \"last_followup_date\"\ncensor_if_present = []\n# Patients without a next line of therapy are kept. To analyse only those\n# who started one, set require_present = [\"next_line_start_date\"].\nrequire_present = []",
            "events = [\"next_line_progression_date\"]\ncensor = \"last_followup_date\"\ncensor_if_present = [\"death_date\"]\nrequire_present = [\"next_line_start_date\"]",
        )
        .replace("time_unit = \"months\"", "time_unit = \"days\"");
    assert_ne!(text, Plan::builtin_toml());
    let plan = Plan::from_toml_str(&text).unwrap();
    let c = valid_cohort(&plan);
    let pfs = c.endpoint("PFS").unwrap();
    // P02 and P04 have no next line: outside the population.
    assert!(pfs.records[1].is_none() && pfs.records[3].is_none());
    assert_eq!((pfs.time(1), pfs.time(3)), (None, None));
    // P03 died without next-line progression: censored at death.
    let r = pfs.records[2].as_ref().unwrap();
    assert_eq!(
        (r.days, r.event, pfs.end_column(r)),
        (184, false, "death_date")
    );
    assert_eq!(pfs.description(r), "Censored at death");
    assert!(close(pfs.time_of(2, r), 184.0));
    let r = pfs.records[0].as_ref().unwrap();
    assert_eq!((r.days, r.event), (122, true));
}

/// A record is 12 bytes with no pointer (its end column's texts are the
/// endpoint's, its end date and time are worked out from its days), a
/// patient 16 bytes;
/// serialized, each record still carries its time, end column and
/// description.
#[test]
fn records_are_compact_and_serialize_their_texts() {
    assert_eq!(
        std::mem::size_of::<Option<survstudy::derive::TteRecord>>(),
        12
    );
    // a patient is its row and one shared reference (its line is the
    // store's)
    assert_eq!(std::mem::size_of::<survstudy::derive::PatientRecord>(), 16);
    let c = valid_cohort(&Plan::builtin());
    let os = c.endpoint("OS").unwrap();
    let v = serde_json::to_value(os).unwrap();
    let recs = v["records"].as_array().unwrap();
    assert_eq!(recs.len(), os.records.len());
    // P02: censored at last follow-up after 365 days
    let r = &recs[1];
    assert_eq!(r["days"], 365);
    // the end date is the start plus the days, as the file has it
    let date =
        |k: &str| chrono::NaiveDate::parse_from_str(r[k].as_str().unwrap(), "%Y-%m-%d").unwrap();
    assert_eq!(
        (r["start"].as_str(), r["end"].as_str()),
        (Some("2021-05-01"), Some("2022-05-01"))
    );
    assert_eq!((date("end") - date("start")).num_days(), 365);
    assert_eq!(os.records[1].as_ref().unwrap().end(), Some(date("end")));
    assert_eq!(r["time"], 365.0 / 30.4375);
    assert_eq!(r["event"], false);
    assert_eq!(r["end_column"], "last_followup_date");
    assert_eq!(
        r["description"],
        os.description(os.records[1].as_ref().unwrap())
    );
    assert_eq!(r["description"], "Censored at last follow-up");
    // P03: death, described by the death column's label
    assert_eq!(recs[2]["event"], true);
    assert_eq!(recs[2]["end_column"], "death_date");
    assert_eq!(recs[2]["description"], "Death");
}

#[test]
fn groupings_levels_and_counts() {
    let c = valid_cohort(&Plan::builtin());
    let names: Vec<&str> = c.groupings.iter().map(|g| g.name.as_str()).collect();
    assert_eq!(
        names,
        vec![
            "emd_at_infusion",
            "pmd_at_infusion",
            "prog_emd",
            "prog_pmd",
            "prog_emd_or_pmd",
            "emd_baseline_x_progression",
            "prog_biochemical",
            "cart_product",
            "next_line_category"
        ]
    );
    // free-text category grouping: observed values, sorted; no next line = missing
    let nl = c.grouping("next_line_category").unwrap();
    let mut sorted = nl.levels.clone();
    sorted.sort();
    assert_eq!(nl.levels, sorted);
    assert!(nl
        .labels
        .iter()
        .flatten()
        .all(|l| nl.levels.iter().any(|x| x == l)));
    let x = c.grouping("emd_baseline_x_progression").unwrap();
    assert_eq!(x.kind, GroupingKind::Cross);
    assert_eq!(
        x.levels,
        vec!["both", "baseline only", "progression only", "neither"]
    );
    let labels: Vec<Option<&str>> = x.labels.iter().map(|l| l.as_deref()).collect();
    assert_eq!(
        labels,
        vec![
            Some("both"),
            Some("neither"),
            Some("baseline only"),
            Some("progression only"),
            Some("both")
        ]
    );
    assert_eq!(
        x.level_index(),
        vec![Some(0), Some(3), Some(1), Some(2), Some(0)]
    );
    let any = c.grouping("prog_emd_or_pmd").unwrap();
    assert_eq!(any.levels, vec!["no", "yes"]);
    assert_eq!(
        any.counts(),
        vec![("no".to_string(), 1), ("yes".to_string(), 4)]
    );
    let prod = c.grouping("cart_product").unwrap();
    assert_eq!(prod.levels, vec!["ide-cel", "cilta-cel"]);
    assert_eq!(
        prod.counts(),
        vec![("ide-cel".into(), 3), ("cilta-cel".into(), 2)]
    );

    let fc = c.flag_count("prog_emd_or_pmd").unwrap();
    assert_eq!((fc.yes, fc.no, fc.missing), (4, 1, 0));
    let fc = c.flag_count("emd_at_infusion").unwrap();
    assert_eq!((fc.yes, fc.no, fc.missing), (3, 2, 0));
    assert!(c.flag_count("prior_bcma").is_none()); // column absent

    // Table 1 keeps only variables whose columns are present.
    let t1: Vec<&str> = c.table1.iter().map(|v| v.name.as_str()).collect();
    assert_eq!(
        t1,
        vec![
            "age_at_infusion",
            "sex",
            "cart_product",
            "emd_at_infusion",
            "pmd_at_infusion",
            "prog_biochemical",
            "prog_emd",
            "prog_pmd"
        ]
    );
    match &c.table1[0].values {
        VariableValues::Continuous { values } => {
            assert_eq!(
                values.iter().collect::<Vec<_>>(),
                vec![Some(61.5), Some(70.0), None, Some(55.0), Some(48.0)]
            )
        }
        other => panic!("{other:?}"),
    }
    match &c.table1[1].values {
        VariableValues::Categorical { levels, values } => {
            assert_eq!(levels, &vec!["F".to_string(), "M".to_string()]);
            assert_eq!(values[1].as_deref(), Some("M"));
        }
        other => panic!("{other:?}"),
    }
    let cox: Vec<&str> = c.cox_covariates.iter().map(|v| v.name.as_str()).collect();
    assert_eq!(
        cox,
        vec!["emd_at_infusion", "prog_emd", "age_at_infusion", "sex"]
    );
}

#[test]
fn adsl_and_adtte_written() {
    let c = valid_cohort(&Plan::builtin());
    let dir = std::env::temp_dir().join(format!("survstudy-pipeline-{}", std::process::id()));
    let adsl = write_adsl(&c, &dir).unwrap();
    let adtte = write_adtte(&c, &dir).unwrap();

    let t = parse_csv("adsl.csv", &std::fs::read(&adsl).unwrap()).unwrap();
    assert_eq!(&t.headers[..3], &["USUBJID", "SRCLINE", "patient_id"]);
    assert!(t.headers.contains(&"prog_emd_or_pmd".to_string()));
    assert!(t
        .headers
        .contains(&"emd_baseline_x_progression".to_string()));
    assert!(t
        .headers
        .contains(&"infusion_to_progression_days".to_string()));
    assert!(!t.headers.contains(&"MRN".to_string()));
    assert_eq!(t.rows.len(), 5);
    let col = |name: &str| t.headers.iter().position(|h| h == name).unwrap();
    let p3 = &t.rows[2].cells;
    assert_eq!(p3[0], "P03");
    assert_eq!(p3[1], "5");
    assert_eq!(p3[col("emd_at_infusion")], "yes");
    assert_eq!(p3[col("cart_product")], "ide-cel");
    assert_eq!(p3[col("death_date")], "2021-09-01");
    assert_eq!(p3[col("age_at_infusion")], "");
    assert_eq!(p3[col("emd_baseline_x_progression")], "baseline only");
    assert_eq!(p3[col("infusion_to_progression_days")], "101");

    let t = parse_csv("adtte.csv", &std::fs::read(&adtte).unwrap()).unwrap();
    assert_eq!(
        t.headers,
        vec![
            "USUBJID", "PARAMCD", "PARAM", "STARTDT", "ADT", "AVAL", "AVALU", "CNSR", "EVNTDESC",
            "CNSDTDSC"
        ]
    );
    assert_eq!(t.rows.len(), 10);
    let r = &t.rows[0].cells; // P01 OS
    assert_eq!(&r[..2], &["P01", "OS"]);
    assert_eq!(&r[3..5], &["2021-06-01", "2022-03-01"]);
    assert_eq!(r[5].parse::<f64>().unwrap(), 273.0 / 30.4375);
    assert_eq!(
        (r[6].as_str(), r[7].as_str(), r[8].as_str(), r[9].as_str()),
        ("MONTHS", "0", "Death", "")
    );
    let r = &t.rows[3].cells; // P02 PFS
    assert_eq!(&r[..2], &["P02", "PFS"]);
    assert_eq!(r[4], "2022-05-01");
    assert_eq!(r[7], "1");
    assert_eq!(r[8], "Censored at last follow-up");
    assert_eq!(r[9], "last_followup_date");
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn plan_round_trip_and_contract_names() {
    let builtin = Plan::builtin();
    assert_eq!(Plan::from_toml_str(Plan::builtin_toml()).unwrap(), builtin);
    let printed = builtin.to_toml_string().unwrap();
    assert_eq!(Plan::from_toml_str(&printed).unwrap(), builtin);
    // Every yes/no grouping has `no` as reference level.
    for g in &builtin.groupings {
        if matches!(g.kind, GroupingKind::YesNo | GroupingKind::AnyYes) {
            assert_eq!(g.levels, vec!["no", "yes"], "{}", g.name);
        }
    }
    let os = builtin.endpoint("OS").unwrap();
    assert_eq!(os.events, vec!["death_date"]);
    assert_eq!(os.censor, "last_followup_date");
    assert_eq!(builtin.study.time_zero, "progression_date");
    assert_eq!(builtin.study.days_per_month, 30.4375);
}

#[test]
fn event_before_start_is_a_problem_when_no_check_catches_it() {
    // Without the death/last-follow-up check, a death before progression
    // would give a negative time: it must be reported, once, on death_date.
    let text = Plan::builtin_toml().replace(
        "[[checks]]\ncolumn = \"last_followup_date\"\nrelation = \"not_after\"\nother = \"death_date\"\ndescription = \"last follow-up after death\"\n",
        "",
    );
    assert_ne!(text, Plan::builtin_toml());
    let plan = Plan::from_toml_str(&text).unwrap();
    let csv = "patient_id,cart_product,cart_infusion_date,emd_at_infusion,pmd_at_infusion,progression_date,prog_biochemical,prog_emd,prog_pmd,last_followup_date,death_date,next_line_start_date,next_line_progression_date\n\
               B1,ide-cel,2021-01-01,no,no,2021-06-01,yes,no,no,2022-01-01,2021-05-01,,\n";
    let t = parse_csv("b.csv", csv.as_bytes()).unwrap();
    let r = derive(&plan, &t, &DeriveOptions::default()).unwrap_err();
    assert_eq!(r.problems.len(), 1, "{r}");
    let p = &r.problems[0];
    assert_eq!(p.kind, survstudy::derive::ProblemKind::BeforeStart);
    assert_eq!(
        (p.line, p.column.as_deref(), p.value.as_deref()),
        (Some(2), Some("death_date"), Some("2021-05-01"))
    );
}
