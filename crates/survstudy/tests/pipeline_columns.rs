//! No silent failures (issue 12, section 1) and missing values (section 2):
//! every column the plan names must be in the file, "may be absent" is an
//! explicit plan choice that the run reports, cross-field checks, missing
//! value strings, and plan validation that lists every problem at once.

use survstudy::derive::{derive, DeriveOptions, ExcludePolicy, ProblemKind, Value};
use survstudy::error::PlanError;
use survstudy::ingest::parse_csv;
use survstudy::plan::Plan;

fn demo_with_header(from: &str, to: &str) -> String {
    let csv = survstudy::synth::demo_csv();
    let (head, body) = csv.split_once('\n').unwrap();
    let cols: Vec<String> = head
        .split(',')
        .map(|c| {
            if c == from {
                to.to_string()
            } else {
                c.to_string()
            }
        })
        .collect();
    assert!(
        cols.iter().any(|c| c == to),
        "{from} not in the demo header"
    );
    format!("{}\n{}", cols.join(","), body)
}

/// The demo cohort without one column (header and cells).
fn demo_without(column: &str) -> String {
    let csv = survstudy::synth::demo_csv();
    let mut lines = csv.lines();
    let head: Vec<&str> = lines.next().unwrap().split(',').collect();
    let j = head.iter().position(|c| *c == column).unwrap();
    let mut out = String::new();
    let keep = |cells: Vec<&str>| {
        cells
            .iter()
            .enumerate()
            .filter(|(i, _)| *i != j)
            .map(|(_, c)| *c)
            .collect::<Vec<_>>()
            .join(",")
    };
    out.push_str(&keep(head.clone()));
    out.push('\n');
    for l in lines {
        // the demo's only quoted cell is the last one (data_source)
        let (cells, tail) = l.split_once(",\"").unwrap();
        let mut v: Vec<&str> = cells.split(',').collect();
        v.push("");
        let row = keep(v);
        out.push_str(&row[..row.len() - 1]);
        out.push_str(",\"");
        out.push_str(tail);
        out.push('\n');
    }
    out
}

#[test]
fn renamed_death_date_stops_the_builtin_plan_with_a_useful_message() {
    let csv = demo_with_header("death_date", "dt_death");
    let t = parse_csv("renamed.csv", csv.as_bytes()).unwrap();
    for policy in [ExcludePolicy::Stop, ExcludePolicy::ExcludeInvalid] {
        let opts = DeriveOptions {
            exclude: policy,
            ..Default::default()
        };
        let r = derive(&Plan::builtin(), &t, &opts).unwrap_err();
        assert_eq!(r.problems.len(), 1, "{r}");
        let p = &r.problems[0];
        assert_eq!(p.kind, ProblemKind::MissingColumn);
        assert_eq!(p.column.as_deref(), Some("death_date"));
        assert_eq!(p.line, Some(1));
        for needle in [
            "endpoints[OS].events",
            "endpoints[PFS].events",
            "competing_risks[NLP]",
            "checks[last follow-up after death]",
            "closest headers in the file: 'dt_death'",
            "aliases = [\"dt_death\"]",
        ] {
            assert!(p.message.contains(needle), "{needle}: {}", p.message);
        }
        // an endpoint date can never be declared absent
        assert!(!p.message.contains("may_be_absent"), "{}", p.message);
    }
    // mapping it with an alias gives the same cohort as the original file
    let text = Plan::builtin_toml().replace(
        "name = \"death_date\"\ntype = \"date\"\n",
        "name = \"death_date\"\ntype = \"date\"\naliases = [\"dt_death\"]\n",
    );
    assert_ne!(text, Plan::builtin_toml());
    let plan = Plan::from_toml_str(&text).unwrap();
    let c = derive(&plan, &t, &DeriveOptions::default()).unwrap();
    let t0 = parse_csv("demo.csv", survstudy::synth::demo_csv().as_bytes()).unwrap();
    let c0 = derive(&Plan::builtin(), &t0, &DeriveOptions::default()).unwrap();
    assert_eq!(c.endpoints, c0.endpoints);
    assert!(c.endpoint("OS").unwrap().events() > 0);
    assert!(c0.flow.notes.is_empty(), "{:?}", c0.flow.notes);
}

#[test]
fn absent_by_plan_choice_is_said_and_leaves_only_that_column_out() {
    let t = parse_csv("nosex.csv", demo_without("sex").as_bytes()).unwrap();
    let c = derive(&Plan::builtin(), &t, &DeriveOptions::default()).unwrap();
    assert_eq!(c.absent_columns, vec!["sex"]);
    assert_eq!(c.flow.notes.len(), 1, "{:?}", c.flow.notes);
    let n = &c.flow.notes[0];
    assert!(n.contains("'sex'") && n.contains("may_be_absent"), "{n}");
    assert!(
        n.contains("table1[sex]") && n.contains("analysis.cox_optional_covariates"),
        "{n}"
    );
    assert!(c.table1.iter().all(|v| v.name != "sex"));
    assert!(c.cox_covariates.iter().all(|v| v.name != "sex"));
    assert_eq!(c.patients.len(), 106);
    // a date column the endpoints use is never optional-absent
    let e = Plan::from_toml_str(&Plan::builtin_toml().replace(
        "name = \"next_line_progression_date\"\ntype = \"date\"\npresence = \"optional\"",
        "name = \"next_line_progression_date\"\ntype = \"date\"\npresence = \"may_be_absent\"",
    ))
    .unwrap_err()
    .to_string();
    assert!(
        e.contains("endpoints[PFS]") && e.contains("next_line_progression_date"),
        "{e}"
    );
    assert!(e.contains("competing_risks[NLP]"), "{e}");
}

#[test]
fn builtin_plan_requires_every_endpoint_date() {
    let p = Plan::builtin();
    for e in &p.endpoints {
        for c in e
            .events
            .iter()
            .chain([&e.censor])
            .chain([&p.endpoint_start(e).to_string()])
        {
            let spec = p.column(c).unwrap();
            assert_ne!(spec.presence, survstudy::plan::Presence::MayBeAbsent, "{c}");
        }
    }
    for c in [
        "death_date",
        "next_line_start_date",
        "next_line_progression_date",
    ] {
        let t = parse_csv("x.csv", demo_without(c).as_bytes()).unwrap();
        let r = derive(&Plan::builtin(), &t, &DeriveOptions::default()).unwrap_err();
        assert!(
            r.problems
                .iter()
                .any(|p| p.kind == ProblemKind::MissingColumn && p.column.as_deref() == Some(c)),
            "{c}: {r}"
        );
    }
}

#[test]
fn plan_validation_lists_every_problem() {
    let text = Plan::builtin_toml()
        .replace("events = [\"death_date\"]", "events = [\"dead_date\"]")
        .replace("table1_by = \"emd_at_infusion\"", "table1_by = \"nope\"")
        .replace("confidence_level = 0.95", "confidence_level = 1.5");
    match Plan::from_toml_str(&text) {
        Err(PlanError::InvalidMany { problems, .. }) => {
            let secs: Vec<&str> = problems.iter().map(|p| p.section.as_str()).collect();
            assert_eq!(
                secs,
                vec![
                    "endpoints[OS]",
                    "analysis.table1_by",
                    "analysis.confidence_level"
                ]
            );
            assert!(problems[0].message.contains("dead_date"));
        }
        other => panic!("expected every problem, got {other:?}"),
    }
}

const STATUS_PLAN: &str = r#"
[study]
name = "status study"
id_column = "id"
time_zero = "start"
missing_values = ["NA", "unknown"]

[[columns]]
name = "id"
type = "text"
presence = "required"

[[columns]]
name = "start"
type = "date"
presence = "required"

[[columns]]
name = "last_fu"
type = "date"
presence = "required"

[[columns]]
name = "death"
type = "date"

[[columns]]
name = "status"
type = "category"
levels = ["Alive", "Dead"]

[[columns]]
name = "age"
type = "number"
missing_values = ["-9"]

[[columns]]
name = "arm"
type = "yes_no"

[[checks]]
column = "death"
relation = "present_when"
other = "status"
values = ["dead"]
description = "status dead but no death date"

[[checks]]
column = "death"
relation = "blank_unless"
other = "status"
values = ["Dead"]
description = "death date but status not dead"

[[endpoints]]
code = "OS"
label = "Overall survival"
events = ["death"]
censor = "last_fu"

[[groupings]]
name = "arm"
kind = "yes_no"
columns = ["arm"]
levels = ["no", "yes"]

[analysis]
endpoints = ["OS"]
km_by = ["arm"]
"#;

#[test]
fn cross_field_status_checks_and_missing_values() {
    let plan = Plan::from_toml_str(STATUS_PLAN).unwrap();
    let csv = "id,start,last_fu,death,status,age,arm\n\
               a,2020-01-01,2021-01-01,2020-06-01,Dead,61,yes\n\
               b,2020-01-01,2021-01-01,,DEAD,NA,no\n\
               c,2020-01-01,2021-01-01,2020-07-01,alive,-9,Unknown\n\
               d,2020-01-01,2021-01-01,,unknown, unknown ,NA\n\
               e,2020-01-01,2021-01-01,,Alive,.,no\n";
    let t = parse_csv("s.csv", csv.as_bytes()).unwrap();
    let r = derive(&plan, &t, &DeriveOptions::default()).unwrap_err();
    let got: Vec<(u64, &str, &str)> = r
        .problems
        .iter()
        .map(|p| {
            (
                p.line.unwrap(),
                p.column.as_deref().unwrap(),
                p.message.as_str(),
            )
        })
        .collect();
    assert_eq!(
        got,
        vec![
            (3, "death", "status dead but no death date (status is Dead)"),
            (
                4,
                "death",
                "death date but status not dead (status is Alive)"
            ),
            // this plan's study list replaces the default one: "." is a value
            (6, "age", "not a number"),
        ],
        "{r}"
    );
    let c = derive(
        &plan,
        &t,
        &DeriveOptions {
            exclude: ExcludePolicy::ExcludeInvalid,
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(c.patients.len(), 2);
    let d = &c.patients[1];
    assert_eq!(d.id(), "d");
    // unknown / NA are missing, whatever the case and spaces
    assert_eq!(d.value("status"), Value::Missing);
    assert_eq!(d.number("age"), None);
    assert_eq!(d.flag("arm"), None);
    assert_eq!(c.patients[0].number("age"), Some(61.0));
}

#[test]
fn endpoint_without_events_is_said_in_words() {
    let plan = Plan::from_toml_str(STATUS_PLAN).unwrap();
    let csv = "id,start,last_fu,death,status,age,arm\n\
               a,2020-01-01,2021-01-01,,Alive,61,yes\n\
               b,2020-01-01,2021-02-01,,Alive,62,no\n";
    let t = parse_csv("s.csv", csv.as_bytes()).unwrap();
    let c = derive(&plan, &t, &DeriveOptions::default()).unwrap();
    assert_eq!(c.flow.notes.len(), 1);
    let n = &c.flow.notes[0];
    assert!(
        n.contains("endpoint OS") && n.contains("no events among its 2 patients"),
        "{n}"
    );
    assert!(n.contains("death"), "{n}");
}

/// The demo with `NA` written into one column for the first `k` patients.
fn demo_with_na(column: &str, k: usize, na: &str) -> String {
    let csv = survstudy::synth::demo_csv();
    let mut lines = csv.lines();
    let head = lines.next().unwrap();
    let j = head.split(',').position(|c| c == column).unwrap();
    let mut out = format!("{head}\n");
    for (i, l) in lines.enumerate() {
        let (cells, tail) = l.split_once(",\"").unwrap();
        let mut v: Vec<String> = cells.split(',').map(str::to_string).collect();
        if i < k {
            v[j] = na.to_string();
        }
        out.push_str(&format!("{},\"{tail}\n", v.join(",")));
    }
    out
}

#[test]
fn na_in_a_covariate_removes_patients_only_from_the_analyses_using_it() {
    use survstudy::analysis::{analyse, AnalysisOptions};
    let plan = Plan::builtin();
    let base = parse_csv("d.csv", survstudy::synth::demo_csv().as_bytes()).unwrap();
    let base = derive(&plan, &base, &DeriveOptions::default()).unwrap();
    let rb = analyse(&plan, &base, &AnalysisOptions::default());
    for (col, na) in [
        ("age_at_infusion", "NA"),
        ("riss", " n/a "),
        ("bridging_therapy", "."),
    ] {
        let t = parse_csv("na.csv", demo_with_na(col, 34, na).as_bytes()).unwrap();
        // no error at all, and so nobody is excluded with --exclude-invalid
        let c = derive(&plan, &t, &DeriveOptions::default()).unwrap();
        assert_eq!(c.patients.len(), 106);
        assert!(c.patients[..34]
            .iter()
            .all(|p| p.value(col) == Value::Missing));
        let r = analyse(&plan, &c, &AnalysisOptions::default());
        // every survival analysis that does not use the column is unchanged
        assert!(js(&r.endpoints) == js(&rb.endpoints), "{col}");
        assert!(js(&r.survival) == js(&rb.survival), "{col}");
        for (m, mb) in r.multivariable.iter().zip(&rb.multivariable) {
            let missing_before = mb.n_dropped_missing;
            assert!(m.n_dropped_missing > missing_before, "{col}");
            assert_eq!(m.n_complete + m.n_dropped_missing, 106);
        }
        for s in &r.survival {
            assert_eq!(
                s.n_used + s.n_missing_group,
                s.groups.iter().map(|g| g.n).sum::<usize>() + s.n_missing_group
            );
        }
    }
}

/// JSON text of a result (NaN compares equal, as null).
fn js<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_string(v).unwrap()
}

#[test]
fn day_first_copy_gives_one_summary_per_column_and_capped_messages() {
    // every ISO date of the demo rewritten as dd/mm/yyyy
    let csv: String = survstudy::synth::demo_csv()
        .split(',')
        .map(|cell| {
            let b = cell.as_bytes();
            if cell.len() == 10 && b[4] == b'-' && b[7] == b'-' {
                format!("{}/{}/{}", &cell[8..10], &cell[5..7], &cell[0..4])
            } else {
                cell.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join(",");
    let t = parse_csv("dmy.csv", csv.as_bytes()).unwrap();
    let r = derive(&Plan::builtin(), &t, &DeriveOptions::default()).unwrap_err();
    let date_cols = [
        "cart_infusion_date",
        "progression_date",
        "last_followup_date",
        "death_date",
        "next_line_start_date",
        "next_line_progression_date",
    ];
    assert_eq!(r.summaries.len(), date_cols.len(), "{:?}", r.summaries);
    for (s, c) in r.summaries.iter().zip(date_cols) {
        assert!(s.starts_with(&format!("column {c}:")), "{s}");
        assert!(s.contains("use --date-format %d/%m/%Y"), "{s}");
    }
    let text = r.to_string();
    let lines: Vec<&str> = text.lines().collect();
    // 106 rows x 3 required dates alone would be 318 lines
    let per_col = |c: &str| {
        lines
            .iter()
            .filter(|l| l.contains(&format!("column {c}: value")))
            .count()
    };
    assert_eq!(per_col("cart_infusion_date"), 20);
    assert!(
        text.contains("86 more problems in column cart_infusion_date not shown"),
        "{text}"
    );
    // the suggested format reads the file
    let opts = DeriveOptions {
        date_format: Some("%d/%m/%Y".into()),
        ..Default::default()
    };
    let c = derive(&Plan::builtin(), &t, &opts).unwrap();
    assert_eq!(c.patients.len(), 106);
}

#[test]
fn workbook_missing_column_names_the_sheet_read_and_the_others() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/valid.xlsx");
    let t = survstudy::ingest::read_table(&path, None).unwrap();
    assert_eq!(t.sheet.as_deref(), Some("Cohort"));
    let text = Plan::builtin_toml().replace(
        "[[columns]]\nname = \"sex\"",
        "[[columns]]\nname = \"stage\"\ntype = \"category\"\n\n[[columns]]\nname = \"sex\"",
    );
    let plan = Plan::from_toml_str(&text).unwrap();
    let r = derive(&plan, &t, &DeriveOptions::default()).unwrap_err();
    let p = r
        .problems
        .iter()
        .find(|p| p.column.as_deref() == Some("stage"))
        .unwrap();
    assert!(
        p.message
            .contains("column 'stage' is not in the header of sheet 'Cohort'"),
        "{}",
        p.message
    );
    let others: Vec<&String> = t.sheets.iter().filter(|s| *s != "Cohort").collect();
    for o in &others {
        assert!(p.message.contains(&format!("'{o}'")), "{}", p.message);
    }
    assert_eq!(p.message.contains("--sheet"), !others.is_empty());
    assert!(p.message.contains("the plan declares it in [[columns]]"));
    assert!(p.message.contains("may_be_absent"));
}

#[test]
fn free_text_columns_read_back_and_group_as_written() {
    // free text is held in one buffer per column (not one label per
    // cell): the values read back, missing stays missing, and a category
    // grouping over a text column gets its values as levels
    let plan_text = STATUS_PLAN
        .replace(
            "[[columns]]\nname = \"arm\"",
            "[[columns]]\nname = \"site\"\ntype = \"text\"\n\n[[columns]]\nname = \"arm\"",
        )
        .replace(
            "[analysis]",
            "[[groupings]]\nname = \"by_site\"\nkind = \"category\"\ncolumns = [\"site\"]\nlevels = []\n\n[analysis]",
        );
    let plan = Plan::from_toml_str(&plan_text).unwrap();
    let csv = "id,start,last_fu,death,status,age,arm,site\n\
               a,2020-01-01,2021-01-01,2020-06-01,Dead,61,yes, North \n\
               b,2020-01-01,2021-01-01,,Alive,70,no,South\n\
               c,2020-01-01,2021-01-01,,Alive,55,no,\n\
               d,2020-01-01,2021-01-01,,Alive,58,yes,North\n";
    let t = parse_csv("s.csv", csv.as_bytes()).unwrap();
    let c = derive(&plan, &t, &DeriveOptions::default()).unwrap();
    let sites: Vec<Value> = c.patients.iter().map(|p| p.value("site")).collect();
    assert_eq!(
        sites,
        vec![
            Value::Text("North".into()),
            Value::Text("South".into()),
            Value::Missing,
            Value::Text("North".into()),
        ]
    );
    assert_eq!(c.patients[1].category("site"), Some("South"));
    assert_eq!(c.patients[0].id(), "a");
    let g = c.grouping("by_site").unwrap();
    assert_eq!(g.levels, vec!["North".to_string(), "South".to_string()]);
    assert_eq!(g.level_index(), vec![Some(0), Some(1), None, Some(0)]);
}
