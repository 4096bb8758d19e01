//! A bounded, seeded mutation campaign over the CLI (issue 14's robustness
//! check, run with the test suite).
//!
//! The fixtures — R's `lung` data for the ad-hoc commands, a synthetic
//! chart-review cohort (as CSV and as a workbook) and the built-in plan for
//! `run` — are mutated deterministically: rows deleted, duplicated,
//! shuffled or made ragged; cells replaced by hostile values (huge, empty,
//! quotes, NUL, invalid UTF-8, extreme numbers and dates, formulas, HTML);
//! headers renamed or duplicated; BOMs, CR line ends and truncations; plan
//! lines deleted, duplicated or given hostile values; workbook bytes
//! flipped or cut. Every run must end within its time limit with exit code
//! 0, 1 or 2, without a panic or a signal, with bounded stderr; a ragged row
//! given to an ad-hoc command must be refused (exit 2).
//!
//! Bounds: `SURVSTUDY_FUZZ_SECS` seconds (default 25) and
//! `SURVSTUDY_FUZZ_CASES` cases (default 600), seed `SURVSTUDY_FUZZ_SEED`
//! (default 14). The case sequence depends only on the seed, so a failure
//! is replayed by the seed and case number printed with it; its inputs are
//! kept under the system temp directory.

mod common;

use std::path::Path;
use std::time::{Duration, Instant};

use common::{bin, data, run_with_timeout, tmpdir, xlsx, Outcome};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// Time limit of one run.
const RUN_LIMIT: Duration = Duration::from_secs(20);
/// Most bytes a run may write to stderr.
const MAX_STDERR: usize = 1 << 20;

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn pick<'a, T>(rng: &mut StdRng, xs: &'a [T]) -> &'a T {
    &xs[rng.random_range(0..xs.len())]
}

fn ps(rng: &mut StdRng, xs: &[&'static str]) -> &'static str {
    xs[rng.random_range(0..xs.len())]
}

/// A hostile cell value.
fn hostile(rng: &mut StdRng) -> String {
    let fixed = [
        "",
        " ",
        "NA",
        "na",
        "\"",
        "\"\"",
        "\"a,b\"",
        "'",
        ",",
        "1e308",
        "-1e308",
        "1e-320",
        "inf",
        "-inf",
        "NaN",
        "-0",
        "+1",
        "0x10",
        "1,5",
        "9999-12-31",
        "0000-01-01",
        "1899-12-31",
        "2101-01-01",
        "2021-02-30",
        "31/12/2021",
        "12/31/2021",
        "2021-13-01",
        "45000",
        "2021-03-04T13:45:00",
        "yes",
        "no",
        "Y",
        "TRUE",
        "maybe",
        "=1+1",
        "=HYPERLINK(\"x\")",
        "<script>alert(1)</script>",
        "&amp;",
        "\u{0}",
        "\u{feff}",
        "é",
        "💥",
        "\u{202e}rtl",
        "\t",
        "-1",
        "0",
        "1",
        "2",
        "0.5",
        "18446744073709551616",
        "ide-cel",
        "cilta-cel",
    ];
    match rng.random_range(0..20) {
        0 => "x".repeat(rng.random_range(100..100_000)),
        1 => format!(
            "{}",
            rng.random::<f64>() * 10f64.powi(rng.random_range(-300..300))
        ),
        2 => format!(
            "{:04}-{:02}-{:02}",
            rng.random_range(1800..2200),
            rng.random_range(0..14),
            rng.random_range(0..33)
        ),
        3 => format!("{}", rng.random_range(-1_000_000i64..1_000_000)),
        _ => pick(rng, &fixed).to_string(),
    }
}

/// Mutations of a CSV file (as bytes). Returns the text and whether the
/// only change is one ragged row (a data row with a field too many or too
/// few, values plain).
fn mutate_csv(rng: &mut StdRng, text: &str, plain_rows: bool) -> (Vec<u8>, Vec<String>, bool) {
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    let n_mut = rng.random_range(1..=3);
    let mut kinds = vec![];
    for _ in 0..n_mut {
        if lines.len() < 2 {
            break;
        }
        let row = rng.random_range(1..lines.len());
        let k = rng.random_range(0..14);
        match k {
            0 => {
                lines.remove(row);
                kinds.push("delete row".to_string());
            }
            1 => {
                let l = lines[row].clone();
                let times = *pick(rng, &[1usize, 2, 50]);
                for _ in 0..times {
                    lines.insert(row, l.clone());
                }
                kinds.push(format!("duplicate row x{times}"));
            }
            2 => {
                let mut cells: Vec<String> = lines[row].split(',').map(str::to_string).collect();
                let at = rng.random_range(0..=cells.len());
                cells.insert(at, "7".into());
                lines[row] = cells.join(",");
                kinds.push("ragged: extra field".into());
            }
            3 => {
                let mut cells: Vec<String> = lines[row].split(',').map(str::to_string).collect();
                if cells.len() > 1 {
                    cells.remove(rng.random_range(0..cells.len()));
                    lines[row] = cells.join(",");
                    kinds.push("ragged: missing field".into());
                }
            }
            4..=7 => {
                let mut cells: Vec<String> = lines[row].split(',').map(str::to_string).collect();
                let at = rng.random_range(0..cells.len());
                cells[at] = hostile(rng);
                lines[row] = cells.join(",");
                kinds.push(format!("cell {row}:{at}"));
            }
            8 => {
                let mut cells: Vec<String> = lines[0].split(',').map(str::to_string).collect();
                let at = rng.random_range(0..cells.len());
                match rng.random_range(0..3) {
                    0 => cells[at] = hostile(rng),
                    1 => {
                        let c = cells[rng.random_range(0..cells.len())].clone();
                        cells[at] = c;
                    }
                    _ => {
                        let j = rng.random_range(0..cells.len());
                        cells.swap(at, j);
                    }
                }
                lines[0] = cells.join(",");
                kinds.push("header".into());
            }
            9 => {
                // shuffle data rows
                let mut body: Vec<String> = lines.drain(1..).collect();
                for i in (1..body.len()).rev() {
                    body.swap(i, rng.random_range(0..=i));
                }
                lines.extend(body);
                kinds.push("shuffle".into());
            }
            10 => {
                lines.insert(row, String::new());
                lines.insert(row, "  ".into());
                kinds.push("blank lines".into());
            }
            11 => {
                let c = ps(rng, &["\u{feff}", "\"", "\r", "\t", ";"]);
                let l = &mut lines[row];
                let at = (0..=l.len())
                    .filter(|&i| l.is_char_boundary(i))
                    .nth(rng.random_range(0..=l.chars().count()))
                    .unwrap_or(0);
                l.insert_str(at, c);
                kinds.push(format!("insert {c:?}"));
            }
            12 => {
                lines.truncate(rng.random_range(1..=lines.len()));
                kinds.push("fewer rows".into());
            }
            _ => {
                // a column's cells all replaced by one hostile kind (dates
                // shifted, free text per patient)
                let ncol = lines[0].split(',').count();
                let at = rng.random_range(0..ncol);
                let free = rng.random_bool(0.5);
                for (i, l) in lines.iter_mut().enumerate().skip(1) {
                    let mut cells: Vec<String> = l.split(',').map(str::to_string).collect();
                    if at < cells.len() {
                        cells[at] = if free {
                            format!("text {i}")
                        } else {
                            format!("{}", i as f64 * 1e6)
                        };
                    }
                    *l = cells.join(",");
                }
                kinds.push(format!(
                    "column {at} {}",
                    if free { "free text" } else { "numbers" }
                ));
            }
        }
    }
    let ragged_only =
        plain_rows && kinds.len() == 1 && kinds[0].starts_with("ragged") && lines.len() > 1;
    let eol = if rng.random_bool(0.2) { "\r\n" } else { "\n" };
    let mut bytes = lines.join(eol).into_bytes();
    if rng.random_bool(0.5) {
        bytes.extend_from_slice(eol.as_bytes());
    }
    match rng.random_range(0..30) {
        0 => {
            let at = rng.random_range(0..=bytes.len());
            bytes.insert(at, 0xFF);
            kinds.push("invalid UTF-8".into());
        }
        1 => {
            bytes.truncate(rng.random_range(0..=bytes.len()));
            kinds.push("truncated".into());
        }
        2 => {
            bytes.splice(0..0, [0xEF, 0xBB, 0xBF]);
            kinds.push("BOM".into());
        }
        _ => {}
    }
    let ragged_only = ragged_only && kinds.len() == 1;
    (bytes, kinds, ragged_only)
}

/// Mutations of a plan (TOML text).
fn mutate_plan(rng: &mut StdRng, text: &str) -> (String, Vec<String>) {
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    let mut kinds = vec![];
    for _ in 0..rng.random_range(1..=2) {
        let i = rng.random_range(0..lines.len());
        match rng.random_range(0..8) {
            0 => {
                lines.remove(i);
                kinds.push(format!("delete line {i}"));
            }
            1 => {
                let l = lines[i].clone();
                lines.insert(i, l);
                kinds.push(format!("duplicate line {i}"));
            }
            2..=4 => {
                // a key's value replaced
                let keyed: Vec<usize> = (0..lines.len())
                    .filter(|&j| {
                        lines[j].contains(" = ") && !lines[j].trim_start().starts_with('#')
                    })
                    .collect();
                let j = *pick(rng, &keyed);
                let key = lines[j].split(" = ").next().unwrap().to_string();
                let v = match rng.random_range(0..9) {
                    0 => format!("{:?}", hostile(rng)),
                    1 => format!("{}", rng.random_range(-5..5)),
                    2 => "nan".into(),
                    3 => "-inf".into(),
                    4 => "[]".into(),
                    5 => format!(
                        "[{}]",
                        vec!["\"prog_emd\""; rng.random_range(2..400)].join(", ")
                    ),
                    6 => format!(
                        "[{}]",
                        (0..rng.random_range(2..5000))
                            .map(|k| format!("{k}.5"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                    7 => format!(
                        "{:?}",
                        ps(
                            rng,
                            &[
                                "%d/%m/%Y",
                                "%s",
                                "%H:%M",
                                "%Y-%m-%d %H:%M",
                                "%Q",
                                "%",
                                "%Y",
                                ""
                            ]
                        )
                    ),
                    _ => "true".into(),
                };
                lines[j] = format!("{key} = {v}");
                kinds.push(format!("line {j}: {key} = {}", &v[..v.len().min(40)]));
            }
            5 => {
                lines.truncate(i.max(1));
                kinds.push("truncated".into());
            }
            6 => {
                let g = "[[groupings]]\nname = \"free\"\nkind = \"category\"\ncolumns = [\"patient_id\"]";
                let at = lines
                    .iter()
                    .position(|l| l.starts_with("[analysis]"))
                    .unwrap_or(0);
                lines.insert(at, g.into());
                let km = lines
                    .iter()
                    .position(|l| l.starts_with("km_by = ["))
                    .unwrap_or(0);
                lines[km] = lines[km].replacen("km_by = [", "km_by = [\"free\",", 1);
                kinds.push("free-text grouping".into());
            }
            _ => {
                lines[i].insert_str(0, ps(rng, &["\"", "[", "x", "= "]));
                kinds.push(format!("broken line {i}"));
            }
        }
    }
    (lines.join("\n"), kinds)
}

/// A CSV text as workbook rows (naive split; the synthetic cohort's only
/// quoted cell is the last one).
fn csv_rows(text: &str) -> Vec<Vec<(u32, String)>> {
    text.lines()
        .map(|l| {
            let (head, tail) = match l.split_once(",\"") {
                Some((h, t)) => (h, Some(t.trim_end_matches('"'))),
                None => (l, None),
            };
            let mut cells: Vec<(u32, String)> = head
                .split(',')
                .enumerate()
                .map(|(i, c)| (i as u32, c.to_string()))
                .collect();
            if let Some(t) = tail {
                cells.push((cells.len() as u32, t.to_string()));
            }
            cells
        })
        .collect()
}

struct Case {
    args: Vec<String>,
    kinds: Vec<String>,
    /// The input has exactly one ragged row: exit 2 required.
    must_refuse: bool,
}

fn adhoc_case(rng: &mut StdRng, lung: &str, dir: &Path) -> Case {
    let (bytes, kinds, ragged) = mutate_csv(rng, lung, true);
    let f = dir.join("lung.csv");
    std::fs::write(&f, bytes).unwrap();
    let p = f.to_str().unwrap().to_string();
    let event = ps(
        rng,
        &[
            "status=2", "status=2", "status=7", "status", "status=", "sex=1",
        ],
    )
    .to_string();
    let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<String>>();
    let mut args = match rng.random_range(0..6) {
        0 => {
            let mut a = s(&["km", "--data", &p, "--time", "time", "--event", &event]);
            if rng.random_bool(0.5) {
                a.extend(s(&["--group", ps(rng, &["sex", "ph.ecog", "inst", "age"])]));
            }
            if rng.random_bool(0.3) {
                a.extend(s(&[
                    "--conf-type",
                    ps(rng, &["log", "log-log", "plain", "logit", "arcsin", "bad"]),
                ]));
            }
            if rng.random_bool(0.3) {
                a.extend(s(&[
                    "--at",
                    ps(rng, &["100,200", "0", "1e308", "x", "-5,5"]),
                ]));
            }
            a
        }
        1 => {
            let mut a = s(&[
                "logrank",
                "--data",
                &p,
                "--time",
                "time",
                "--event",
                &event,
                "--group",
                ps(rng, &["sex", "ph.ecog", "inst"]),
            ]);
            if rng.random_bool(0.3) {
                a.extend(s(&["--rho", ps(rng, &["1", "0.5", "-1", "1e9"])]));
            }
            if rng.random_bool(0.3) {
                a.extend(s(&["--strata", "sex"]));
            }
            a
        }
        2 | 3 => {
            let cmd = if rng.random_bool(0.7) { "cox" } else { "zph" };
            let cov = ps(
                rng,
                &[
                    "age",
                    "age,sex",
                    "age,sex,ph.ecog,wt.loss",
                    "ph.ecog",
                    "inst,age",
                ],
            )
            .to_string();
            let mut a = s(&[
                cmd,
                "--data",
                &p,
                "--time",
                "time",
                "--event",
                &event,
                "--covariates",
                &cov,
            ]);
            if rng.random_bool(0.4) {
                a.extend(s(&[
                    "--factor",
                    ps(rng, &["ph.ecog", "sex", "age", "inst"]),
                ]));
            }
            if rng.random_bool(0.3) {
                a.extend(s(&[
                    "--ties",
                    ps(rng, &["efron", "breslow", "exact", "bad"]),
                ]));
            }
            if rng.random_bool(0.2) {
                a.extend(s(&["--cluster", "inst"]));
            }
            if rng.random_bool(0.2) {
                a.extend(s(&["--strata", "sex"]));
            }
            a
        }
        4 => {
            let mut a = s(&[
                "cif",
                "--data",
                &p,
                "--time",
                "time",
                "--status",
                "status",
                "--event-code",
                ps(rng, &["1", "2", "3"]),
            ]);
            if rng.random_bool(0.5) {
                a.extend(s(&["--group", "sex"]));
            }
            a
        }
        _ => s(&[
            "rmst",
            "--data",
            &p,
            "--time",
            "time",
            "--event",
            &event,
            "--group",
            "sex",
            "--tau",
            ps(rng, &["100", "500", "0", "-1", "1e12"]),
        ]),
    };
    if rng.random_bool(0.5) {
        args.push("--json".into());
    }
    // a usage error in the flags is a valid refusal; only a clean command
    // line must refuse the ragged row
    let clean_event = matches!(event.as_str(), "status=2" | "status=7" | "sex=1");
    Case {
        args,
        kinds,
        must_refuse: ragged && clean_event,
    }
}

fn run_case(rng: &mut StdRng, synth: &str, plan: &str, dir: &Path) -> Case {
    let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<String>>();
    let out = dir.join("out");
    let mut args = s(&["run", "--out", out.to_str().unwrap()]);
    let mut kinds = vec![];
    let what = rng.random_range(0..10);
    if what < 7 {
        let (bytes, k) = {
            let (b, k, _) = mutate_csv(rng, synth, false);
            (b, k)
        };
        kinds.extend(k);
        if what < 5 {
            let f = dir.join("cohort.csv");
            std::fs::write(&f, bytes).unwrap();
            args.extend(s(&["--data", f.to_str().unwrap()]));
        } else {
            // the mutated cohort as a workbook, sometimes with its bytes broken
            let text = String::from_utf8_lossy(&bytes).into_owned();
            let mut book = xlsx(&csv_rows(&text), &[]);
            if rng.random_bool(0.3) {
                for _ in 0..rng.random_range(1..10) {
                    let at = rng.random_range(0..book.len());
                    book[at] ^= 1 << rng.random_range(0..8);
                }
                kinds.push("flipped workbook bytes".into());
            }
            if rng.random_bool(0.1) {
                book.truncate(rng.random_range(0..book.len()));
                kinds.push("truncated workbook".into());
            }
            let f = dir.join("cohort.xlsx");
            std::fs::write(&f, book).unwrap();
            args.extend(s(&["--data", f.to_str().unwrap()]));
            if rng.random_bool(0.2) {
                args.extend(s(&["--sheet", ps(rng, &["Sheet1", "sheet1", "nope"])]));
            }
        }
    } else {
        let (text, k) = mutate_plan(rng, plan);
        kinds.extend(k);
        let f = dir.join("plan.toml");
        std::fs::write(&f, text).unwrap();
        args.extend(s(&["--plan", f.to_str().unwrap()]));
    }
    if rng.random_bool(0.4) {
        args.push("--exclude-invalid".into());
    }
    if rng.random_bool(0.2) {
        args.extend(s(&[
            "--date-format",
            ps(rng, &["%d/%m/%Y", "%Y-%m-%d %H:%M", "%s", "%z", "%H", "%Y"]),
        ]));
    }
    if rng.random_bool(0.1) {
        args.extend(s(&["--conventions", "sas"]));
    }
    if rng.random_bool(0.1) {
        args.extend(s(&["--suppress-below", ps(rng, &["5", "0", "1000"])]));
    }
    if rng.random_bool(0.1) {
        args.extend(s(&["--p-floor", ps(rng, &["0.05", "0", "NaN", "-1", "2"])]));
    }
    Case {
        args,
        kinds,
        must_refuse: false,
    }
}

fn check(o: &Outcome, case: &Case) -> Result<(), String> {
    if o.timed_out {
        return Err(format!("hung (killed after {:?})", RUN_LIMIT));
    }
    match o.code {
        None => return Err(format!("killed by a signal; stderr: {}", tail(&o.stderr))),
        Some(c) if !(0..=2).contains(&c) => {
            return Err(format!("exit code {c}; stderr: {}", tail(&o.stderr)))
        }
        _ => {}
    }
    if o.stderr.contains("panicked") {
        return Err(format!("panicked: {}", tail(&o.stderr)));
    }
    if o.stderr_len > MAX_STDERR {
        return Err(format!("{} bytes on stderr", o.stderr_len));
    }
    if case.must_refuse && o.code != Some(2) {
        return Err(format!(
            "a ragged row was accepted (exit {:?}); stderr: {}",
            o.code,
            tail(&o.stderr)
        ));
    }
    Ok(())
}

fn tail(s: &str) -> String {
    let t: String = s
        .chars()
        .rev()
        .take(400)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    t
}

#[test]
fn seeded_mutation_campaign() {
    let secs: u64 = env_or("SURVSTUDY_FUZZ_SECS", 25);
    let max_cases: usize = env_or("SURVSTUDY_FUZZ_CASES", 600);
    let seed: u64 = env_or("SURVSTUDY_FUZZ_SEED", 14);
    let dir = tmpdir("campaign");
    let lung = std::fs::read_to_string(data("lung/lung.csv")).unwrap();
    let synth_path = dir.join("synth.csv");
    let o = run_with_timeout(
        bin().args(["synth", "--n", "60", "--out", synth_path.to_str().unwrap()]),
        RUN_LIMIT,
    );
    assert_eq!(o.code, Some(0), "{}", o.stderr);
    let synth = std::fs::read_to_string(&synth_path).unwrap();
    let plan = run_with_timeout(bin().args(["plan", "--print"]), RUN_LIMIT).stdout;
    assert!(plan.contains("[analysis]"));

    let start = Instant::now();
    let mut failures: Vec<String> = vec![];
    let mut codes = [0usize; 3];
    let mut done = 0;
    for case_no in 0..max_cases {
        if start.elapsed() > Duration::from_secs(secs) {
            break;
        }
        // one generator per case: case k is the same whatever ran before
        let mut rng =
            StdRng::seed_from_u64(seed.wrapping_mul(1_000_003).wrapping_add(case_no as u64));
        let case_dir = dir.join(format!("case{case_no}"));
        std::fs::create_dir_all(&case_dir).unwrap();
        // ad-hoc runs are fast; `run` renders a report when it succeeds
        let case = if rng.random_bool(0.75) {
            adhoc_case(&mut rng, &lung, &case_dir)
        } else {
            run_case(&mut rng, &synth, &plan, &case_dir)
        };
        let o = run_with_timeout(bin().args(&case.args), RUN_LIMIT);
        done += 1;
        match check(&o, &case) {
            Ok(()) => {
                codes[o.code.unwrap_or(0) as usize] += 1;
                let _ = std::fs::remove_dir_all(&case_dir);
            }
            Err(why) => failures.push(format!(
                "seed {seed} case {case_no} ({}): {why}\n  mutations: {:?}\n  inputs kept in {}\n  survstudy {}",
                if case.must_refuse { "ragged" } else { "any" },
                case.kinds,
                case_dir.display(),
                case.args.join(" ")
            )),
        }
    }
    eprintln!(
        "robustness: {done} cases in {:.1} s (seed {seed}): exit 0: {}, 1: {}, 2: {}; {} failures",
        start.elapsed().as_secs_f64(),
        codes[0],
        codes[1],
        codes[2],
        failures.len()
    );
    assert!(done >= 20 || max_cases < 20, "only {done} cases ran");
    assert!(
        failures.is_empty(),
        "{} failing cases:\n{}",
        failures.len(),
        failures
            .iter()
            .take(10)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
}
