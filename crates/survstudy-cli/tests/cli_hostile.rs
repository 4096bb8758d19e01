//! Regression tests of issue 14 (hostile and malformed input), one minimal
//! reproducer per failure found by fuzzing the CLI: ragged rows, `--event`
//! specs, date formats with time/zone fields, a sparse workbook reaching
//! XFD1048576, free text in category columns, `cox --factor` on a
//! continuous column, absurd plans, and huge quoted values.

mod common;

use common::{bin, data, run_bounded, tmpdir, tmpfile, xlsx, Outcome};

fn ok_and_stderr(o: &Outcome) -> &str {
    &o.stderr
}

/// Exit 2 with a one-line message containing every `want`.
fn assert_usage(o: &Outcome, want: &[&str]) {
    assert_eq!(o.code, Some(2), "stderr: {}", o.stderr);
    for w in want {
        assert!(o.stderr.contains(w), "missing {w:?} in: {}", o.stderr);
    }
}

const RAGGED_EXTRA: &str = "inst,time,status,age\n3,306,2,74\n3,99,1010,2,56\n3,200,1,60\n";
const RAGGED_SHORT: &str = "inst,time,status,age\n3,306,2,74\n3,99,56\n3,200,1,60\n";

#[test]
fn ragged_rows_are_rejected_by_every_adhoc_command() {
    for (name, text, found) in [
        ("extra.csv", RAGGED_EXTRA, "5 fields"),
        ("short.csv", RAGGED_SHORT, "3 fields"),
    ] {
        let f = tmpfile(name, text);
        let p = f.to_str().unwrap();
        let common = ["--data", p, "--time", "time"];
        let runs: Vec<Vec<&str>> = vec![
            [&["km"][..], &common, &["--event", "status=2"]].concat(),
            [
                &["logrank"][..],
                &common,
                &["--event", "status=2", "--group", "inst"],
            ]
            .concat(),
            [
                &["cox"][..],
                &common,
                &["--event", "status=2", "--covariates", "age"],
            ]
            .concat(),
            [
                &["zph"][..],
                &common,
                &["--event", "status=2", "--covariates", "age"],
            ]
            .concat(),
            [
                &["cif"][..],
                &common,
                &["--status", "status", "--event-code", "2"],
            ]
            .concat(),
            [
                &["rmst"][..],
                &common,
                &["--event", "status=2", "--group", "inst", "--tau", "100"],
            ]
            .concat(),
        ];
        for args in runs {
            let o = run_bounded(bin().args(&args));
            assert_usage(&o, &[name, "line 3", found, "the header has 4"]);
        }
    }
    // the general (csv crate) path, taken for a quoted newline, says the same
    let f = tmpfile(
        "quoted-ragged.csv",
        "inst,time,status,note\n3,306,2,\"two\nlines\"\n3,99,1010,2,x\n",
    );
    let o = run_bounded(bin().args([
        "km",
        "--data",
        f.to_str().unwrap(),
        "--time",
        "time",
        "--event",
        "status=2",
    ]));
    assert_usage(&o, &["line 4", "5 fields", "the header has 4"]);
    // a trailing separator (blank extra field) is accepted, as `run` accepts it
    let f = tmpfile("trailing.csv", "time,status\n1,1,\n2,0,\n3,1\n");
    let o = run_bounded(bin().args([
        "km",
        "--data",
        f.to_str().unwrap(),
        "--time",
        "time",
        "--event",
        "status",
        "--json",
    ]));
    assert_eq!(o.code, Some(0), "{}", o.stderr);
    let j: serde_json::Value = serde_json::from_str(&o.stdout).unwrap();
    assert_eq!(j["groups"][0]["n"], 3);
    assert_eq!(j["groups"][0]["events"], 2);
}

#[test]
fn event_specs_are_checked() {
    let f = tmpfile("ev.csv", "time,status\n5,1\n6,2\n7,1\n");
    let p = f.to_str().unwrap();
    for (spec, why) in [
        ("status=", "no event value"),
        ("status=2=3", "more than one '='"),
        ("=2", "no column name"),
        ("", "no column name"),
    ] {
        let o = run_bounded(bin().args(["km", "--data", p, "--time", "time", "--event", spec]));
        assert_usage(&o, &["--event", why]);
    }
    // well formed, matching no row: a warning listing the values, exit 0
    let o = run_bounded(bin().args([
        "km", "--data", p, "--time", "time", "--event", "status=7", "--json",
    ]));
    assert_eq!(o.code, Some(0), "{}", o.stderr);
    assert!(
        o.stderr
            .contains("warning: --event status=7: no row has that value")
            && o.stderr.contains("the values: 1, 2"),
        "{}",
        o.stderr
    );
    let j: serde_json::Value = serde_json::from_str(&o.stdout).unwrap();
    assert_eq!(j["groups"][0]["events"], 0);
    assert!(j["warnings"][0].as_str().unwrap().contains("status=7"));
    // numeric equality still applies (2.0 matches 2): no warning
    let o = run_bounded(bin().args(["km", "--data", p, "--time", "time", "--event", "status=2.0"]));
    assert_eq!(o.code, Some(0));
    assert!(ok_and_stderr(&o).is_empty(), "{}", o.stderr);
}

#[test]
fn event_value_matching_no_row_is_warned_on_every_path() {
    // the weighted / (start, stop] / robust km path loads the data through
    // the same reader as plain km: its warning must reach stderr and JSON
    let f = tmpfile(
        "evw.csv",
        "time,status,w,a,x\n5,1,1.5,0,1\n6,2,1,1,2\n7,1,2,0,3\n8,2,1,1,1\n9,1,1,1,2\n4,2,2,0,3\n",
    );
    let p = f.to_str().unwrap();
    let o = run_bounded(bin().args([
        "km",
        "--data",
        p,
        "--time",
        "time",
        "--event",
        "status=7",
        "--weights",
        "w",
        "--json",
    ]));
    assert_eq!(o.code, Some(0), "{}", o.stderr);
    assert!(
        o.stderr
            .contains("survstudy km: warning: --event status=7: no row has that value"),
        "{}",
        o.stderr
    );
    let j: serde_json::Value = serde_json::from_str(&o.stdout).unwrap();
    assert!(j["warnings"][0].as_str().unwrap().contains("status=7"));
    let o = run_bounded(bin().args([
        "km", "--data", p, "--time", "time", "--event", "status=7", "--robust",
    ]));
    assert!(
        o.stderr.contains("--event status=7: no row has that value"),
        "{}",
        o.stderr
    );
    let o = run_bounded(bin().args([
        "adjusted",
        "--data",
        p,
        "--time",
        "time",
        "--event",
        "status=7",
        "--treatment",
        "a",
        "--covariates",
        "x",
        "--at",
        "6",
        "--json",
    ]));
    // with no event at all the Cox fit behind `adjusted` stops the run
    // (exit 1) and says why
    assert_eq!(o.code, Some(1), "{}", o.stderr);
    assert!(o.stderr.contains("no events"), "{}", o.stderr);
}

fn synth_csv(dir: &std::path::Path, n: usize) -> std::path::PathBuf {
    let p = dir.join(format!("synth{n}.csv"));
    let o = run_bounded(bin().args(["synth", "--n", &n.to_string(), "--out", p.to_str().unwrap()]));
    assert_eq!(o.code, Some(0), "{}", o.stderr);
    p
}

#[test]
fn date_formats_with_time_or_zone_fields_never_panic() {
    let dir = tmpdir("dates");
    let csv = synth_csv(&dir, 106);
    let out = dir.join("out");
    for (fmt, code) in [
        ("%Y-%m-%d %H:%M", 0),
        ("%Y-%m-%d %H:%M:%S%.3f", 0),
        ("%H", 2),
        ("%M", 2),
        ("%S", 2),
        ("%s", 2),
        ("%z", 2),
        ("%Z", 2),
        ("%.3f", 2),
        ("%Y-%m-%d %z", 2),
    ] {
        let o = run_bounded(bin().args([
            "run",
            "--data",
            csv.to_str().unwrap(),
            "--date-format",
            fmt,
            "--out",
            out.to_str().unwrap(),
        ]));
        assert_eq!(o.code, Some(code), "{fmt}: {}", o.stderr);
        assert!(!o.stderr.contains("panicked"), "{fmt}: {}", o.stderr);
        if code == 2 {
            assert!(o.stderr.contains("date format"), "{fmt}: {}", o.stderr);
        }
    }
    // date-times are read, the date part kept
    let text = std::fs::read_to_string(&csv).unwrap();
    let mut lines = text.lines();
    let header = lines.next().unwrap();
    let date_cols: Vec<usize> = header
        .split(',')
        .enumerate()
        .filter(|(_, h)| h.ends_with("_date"))
        .map(|(i, _)| i)
        .collect();
    let mut timed = format!("{header}\n");
    for l in lines {
        // the synthetic cohort's only quoted cell is the last one
        let (head, tail) = l.split_once(",\"").unwrap();
        let cells: Vec<String> = head
            .split(',')
            .enumerate()
            .map(|(i, c)| {
                if date_cols.contains(&i) && !c.is_empty() {
                    format!("{c} 13:45")
                } else {
                    c.to_string()
                }
            })
            .collect();
        timed.push_str(&format!("{},\"{tail}\n", cells.join(",")));
    }
    let timed_csv = dir.join("timed.csv");
    std::fs::write(&timed_csv, timed).unwrap();
    let results = |data: &std::path::Path, fmt: &[&str]| {
        let o = run_bounded(
            bin()
                .args([
                    "run",
                    "--data",
                    data.to_str().unwrap(),
                    "--out",
                    out.to_str().unwrap(),
                ])
                .args(fmt),
        );
        assert_eq!(o.code, Some(0), "{}", o.stderr);
        let j: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(out.join("results.json")).unwrap())
                .unwrap();
        j["survival"].clone()
    };
    let plain = results(&csv, &[]);
    let with_time = results(&timed_csv, &["--date-format", "%Y-%m-%d %H:%M"]);
    assert_eq!(plain, with_time);
    // plan --check with date_format = "%s": a message, not a panic
    let plan = run_bounded(bin().args(["plan", "--print"])).stdout;
    let bad = plan.replacen("date_format = \"%Y-%m-%d\"", "date_format = \"%s\"", 1);
    assert_ne!(bad, plan);
    let p = dir.join("s.toml");
    std::fs::write(&p, bad).unwrap();
    let o = run_bounded(bin().args(["plan", "--check", p.to_str().unwrap()]));
    assert_usage(&o, &["study.date_format", "time-zone or Unix-timestamp"]);
}

#[test]
fn a_sparse_workbook_is_read_in_memory_proportional_to_its_cells() {
    let dir = tmpdir("xlsx");
    let csv = std::fs::read_to_string(synth_csv(&dir, 106)).unwrap();
    let mut rows: Vec<Vec<(u32, String)>> = vec![];
    for line in csv.lines() {
        let (head, tail) = match line.split_once(",\"") {
            Some((h, t)) => (h.to_string(), Some(t.trim_end_matches('"').to_string())),
            None => (line.to_string(), None),
        };
        let mut cells: Vec<(u32, String)> = head
            .split(',')
            .enumerate()
            .map(|(i, c)| (i as u32, c.to_string()))
            .collect();
        if let Some(t) = tail {
            cells.push((cells.len() as u32, t));
        }
        rows.push(cells);
    }
    // the same cohort as a workbook runs as the CSV does
    let plain = dir.join("plain.xlsx");
    std::fs::write(&plain, xlsx(&rows, &[])).unwrap();
    let out = dir.join("out");
    let o = run_bounded(bin().args([
        "run",
        "--data",
        plain.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]));
    assert_eq!(o.code, Some(0), "{}", o.stderr);
    // one value in XFD1048576: no 549 GB allocation; the stray row is a
    // patient without an id, reported on its line
    let far = dir.join("far.xlsx");
    std::fs::write(&far, xlsx(&rows, &[(1_048_575, 16_383, "x")])).unwrap();
    let o = run_bounded(bin().args([
        "run",
        "--data",
        far.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]));
    assert_eq!(o.code, Some(2), "{}", o.stderr);
    assert!(o.stderr.contains("line 1048576"), "{}", o.stderr);
    // a stray value far right in every row of a long sheet would widen each
    // row to 16,384 cells: refused, naming the sheet and the cell
    let mut long = rows.clone();
    while long.len() < 400 {
        let mut r = rows[1].clone();
        r[0].1 = format!("EXTRA-{}", long.len());
        long.push(r);
    }
    let wide = dir.join("wide.xlsx");
    std::fs::write(&wide, xlsx(&long, &[(3, 16_383, "note")])).unwrap();
    let o = run_bounded(bin().args([
        "run",
        "--data",
        wide.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]));
    assert_usage(&o, &["sheet 'Sheet1'", "XFD4", "'note'"]);
}

#[test]
fn free_text_in_a_category_column_is_bounded_and_flagged() {
    let dir = tmpdir("freetext");
    let csv = std::fs::read_to_string(synth_csv(&dir, 400)).unwrap();
    let header: Vec<&str> = csv.lines().next().unwrap().split(',').collect();
    let replace = |col: &str| -> String {
        let i = header.iter().position(|h| *h == col).unwrap();
        let mut s = String::new();
        for (k, line) in csv.lines().enumerate() {
            let (head, tail) = line.split_once(",\"").unwrap_or((line, ""));
            let mut cells: Vec<String> = head.split(',').map(str::to_string).collect();
            if k > 0 {
                cells[i] = format!("free text {k}");
            }
            s.push_str(&cells.join(","));
            if !tail.is_empty() {
                s.push_str(&format!(",\"{tail}"));
            }
            s.push('\n');
        }
        s
    };
    let out = dir.join("out");
    // a Table-1 variable and optional Cox covariate: chi-square with the
    // reason stated, the covariate left out, both flagged
    let p = dir.join("riss.csv");
    std::fs::write(&p, replace("riss")).unwrap();
    let start = std::time::Instant::now();
    let o = run_bounded(bin().args([
        "run",
        "--data",
        p.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]));
    assert_eq!(o.code, Some(0), "{}", o.stderr);
    assert!(start.elapsed().as_secs() < 30);
    let j: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("results.json")).unwrap()).unwrap();
    let row = j["table1"]["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["variable"] == "riss")
        .unwrap();
    assert!(row["test"]["method"]
        .as_str()
        .unwrap()
        .starts_with("Pearson"));
    let note = row["test"]["note"].as_str().unwrap();
    assert!(
        note.contains("one per patient") && note.contains("not attempted"),
        "{note}"
    );
    let mv = j["multivariable"][0]["notes"].to_string();
    assert!(mv.contains("left out of the model"), "{mv}");
    // an analysed grouping (km_by): refused, naming it
    let p = dir.join("nl.csv");
    std::fs::write(&p, replace("next_line_category")).unwrap();
    let o = run_bounded(bin().args([
        "run",
        "--data",
        p.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]));
    assert_usage(
        &o,
        &["grouping next_line_category", "identifier or free text"],
    );
}

#[test]
fn cox_factor_on_a_continuous_column_is_refused_unless_asked() {
    let lung = data("lung/lung.csv");
    let args = [
        "cox",
        "--data",
        lung.to_str().unwrap(),
        "--time",
        "time",
        "--event",
        "status=2",
        "--covariates",
        "meal.cal",
        "--factor",
        "meal.cal",
    ];
    let o = run_bounded(bin().args(args));
    assert_usage(
        &o,
        &[
            "--factor meal.cal",
            "distinct values (more than 50)",
            "--max-levels",
        ],
    );
    let o = run_bounded(bin().args(args).args(["--max-levels", "1000", "--json"]));
    assert!(matches!(o.code, Some(0 | 1)), "{}", o.stderr);
    // a real factor is unaffected
    let o = run_bounded(bin().args([
        "cox",
        "--data",
        lung.to_str().unwrap(),
        "--time",
        "time",
        "--event",
        "status=2",
        "--covariates",
        "sex",
        "--factor",
        "sex",
    ]));
    assert_eq!(o.code, Some(0), "{}", o.stderr);
}

#[test]
fn absurd_plans_are_refused_at_check_and_run() {
    let dir = tmpdir("plans");
    let plan = run_bounded(bin().args(["plan", "--print"])).stdout;
    let landmarks: Vec<String> = (1..=100_000).map(|i| format!("{i}.0")).collect();
    let many_groupings: String = (0..100_000)
        .map(|i| {
            format!("[[groupings]]\nname = \"g{i}\"\nkind = \"yes_no\"\ncolumns = [\"prog_emd\"]\nlevels = [\"no\", \"yes\"]\n\n")
        })
        .collect();
    let repeated = vec!["\"prog_emd\""; 500].join(", ");
    let cases = [
        (
            "landmarks",
            plan.replacen(
                "landmarks = [6.0, 12.0, 24.0]",
                &format!("landmarks = [{}]", landmarks.join(", ")),
                1,
            ),
            "analysis.landmarks: 100000 entries; at most 100",
        ),
        (
            "repeat",
            plan.replacen("km_by = [", &format!("km_by = [{repeated},"), 1),
            "analysis.km_by",
        ),
        (
            "dup",
            plan.replacen("km_by = [", "km_by = [\"prog_emd\",", 1),
            "'prog_emd' is listed twice",
        ),
        (
            "groupings",
            plan.replacen("[analysis]", &format!("{many_groupings}[analysis]"), 1),
            "plan groupings: 100009 entries; at most 200",
        ),
        (
            "dup-landmark",
            plan.replacen(
                "landmarks = [6.0, 12.0, 24.0]",
                "landmarks = [6.0, 12.0, 6.0]",
                1,
            ),
            "time 6 is listed twice",
        ),
    ];
    for (name, text, want) in cases {
        assert_ne!(text, plan, "{name}: the mutation applies");
        let p = dir.join(format!("{name}.toml"));
        std::fs::write(&p, text).unwrap();
        let o = run_bounded(bin().args(["plan", "--check", p.to_str().unwrap()]));
        assert_usage(&o, &[want]);
        let o = run_bounded(bin().args([
            "run",
            "--plan",
            p.to_str().unwrap(),
            "--out",
            dir.join("out").to_str().unwrap(),
        ]));
        assert_usage(&o, &[want]);
    }
}

#[test]
fn huge_values_are_quoted_clipped() {
    let dir = tmpdir("huge");
    let big = "y".repeat(3_000_000);
    // a cell of the ad-hoc reader
    let f = dir.join("cell.csv");
    std::fs::write(&f, format!("time,status\n1,1\n{big},0\n")).unwrap();
    let o = run_bounded(bin().args([
        "km",
        "--data",
        f.to_str().unwrap(),
        "--time",
        "time",
        "--event",
        "status",
    ]));
    assert_usage(&o, &["is not a number", "… (3000000 characters)"]);
    assert!(o.stderr.len() < 1000, "{} bytes", o.stderr.len());
    // an event label
    let f = dir.join("event.csv");
    std::fs::write(&f, format!("time,status\n1,1\n2,{big}\n")).unwrap();
    let o = run_bounded(bin().args([
        "cox",
        "--data",
        f.to_str().unwrap(),
        "--time",
        "time",
        "--event",
        "status",
        "--covariates",
        "time",
    ]));
    assert_usage(&o, &["… (3000000 characters)"]);
    assert!(o.stderr.len() < 1000, "{} bytes", o.stderr.len());
    // a header, listed when a column is missing
    let f = dir.join("header.csv");
    std::fs::write(&f, format!("time,{big}\n1,1\n")).unwrap();
    let o = run_bounded(bin().args([
        "km",
        "--data",
        f.to_str().unwrap(),
        "--time",
        "time",
        "--event",
        "status",
    ]));
    assert_usage(&o, &["column 'status' not found"]);
    assert!(o.stderr.len() < 1000, "{} bytes", o.stderr.len());
    // `run`: a 3 MB id and a 3 MB date cell
    let csv = std::fs::read_to_string(synth_csv(&dir, 106)).unwrap();
    let mut lines: Vec<String> = csv.lines().map(str::to_string).collect();
    lines[1] = lines[1].replacen("SYN-001,", &format!("{big},"), 1);
    let mut cells: Vec<String> = lines[2].split(',').map(str::to_string).collect();
    cells[2] = format!("{big}{}", cells[2]);
    lines[2] = cells.join(",");
    let f = dir.join("run.csv");
    std::fs::write(&f, lines.join("\n")).unwrap();
    let o = run_bounded(bin().args([
        "run",
        "--data",
        f.to_str().unwrap(),
        "--out",
        dir.join("out").to_str().unwrap(),
    ]));
    assert_usage(&o, &["line 3: patient SYN-002", "… (3000010 characters)"]);
    assert!(o.stderr.len() < 2000, "{} bytes", o.stderr.len());
    // 3,000 copies of one patient: each duplicate lists at most 10 other
    // lines (not 2,999), so stderr grows linearly
    let mut dup = lines.clone();
    dup.truncate(4);
    for _ in 0..3000 {
        dup.push(lines[3].clone());
    }
    let f2 = dir.join("dup.csv");
    std::fs::write(&f2, dup.join("\n")).unwrap();
    let o = run_bounded(bin().args([
        "run",
        "--data",
        f2.to_str().unwrap(),
        "--out",
        dir.join("out").to_str().unwrap(),
    ]));
    assert_usage(
        &o,
        &["duplicate patient_id: also on line", "… and 2990 more"],
    );
    assert!(o.stderr_len < 1_000_000, "{} bytes", o.stderr_len);
    // a ragged row in `run`
    lines[2] = format!("{},{big}", lines[3]);
    std::fs::write(&f, lines.join("\n")).unwrap();
    let o = run_bounded(bin().args([
        "run",
        "--data",
        f.to_str().unwrap(),
        "--out",
        dir.join("out").to_str().unwrap(),
    ]));
    assert_usage(&o, &["… (3000000 characters)"]);
    assert!(o.stderr.len() < 2000, "{} bytes", o.stderr.len());
}
