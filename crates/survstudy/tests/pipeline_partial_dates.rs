//! Partial dates (`2001-03`, `2001`) on the colon export: refused by
//! default with a message saying how to impute them; with
//! `partial_dates = "first" | "middle"` imputed as stated, counted per
//! column in the flow and named in the methods. The imputed times match R
//! on the same imputed dates (gen/partial_dates_colon.R).

use std::path::{Path, PathBuf};

use survstudy::analysis::{analyse, AnalysisOptions};
use survstudy::derive::{derive, DeriveOptions, ProblemKind};
use survstudy::ingest::parse_csv;
use survstudy::plan::Plan;

fn data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name)
}

/// The colon export with partial death and last follow-up dates: every
/// 10th dead patient's death date as `YYYY-MM` (with last follow-up the
/// same partial date), every 25th living patient's last follow-up as `YYYY`.
fn partial_csv() -> String {
    let csv = std::fs::read_to_string(data("colon_export.csv")).unwrap();
    csv.lines()
        .enumerate()
        .map(|(i, line)| {
            let mut c: Vec<String> = line.split(',').map(str::to_string).collect();
            let dead = c[6].eq_ignore_ascii_case("dead");
            if i > 0 && dead && i % 10 == 0 {
                c[7] = c[7][..7].to_string();
                c[8] = c[8][..7].to_string();
            } else if i > 0 && !dead && i % 25 == 0 {
                c[8] = c[8][..4].to_string();
            }
            c.join(",")
        })
        .collect::<Vec<_>>()
        .join("\n")
        + "\n"
}

fn plan(rule: Option<&str>) -> Plan {
    let text = std::fs::read_to_string(data("colon_plan.toml")).unwrap();
    let text = match rule {
        Some(r) => text.replace(
            "time_unit = \"days\"\n",
            &format!("time_unit = \"days\"\npartial_dates = \"{r}\"\n"),
        ),
        None => text,
    };
    Plan::from_toml_str(&text).unwrap()
}

#[test]
fn partial_dates_are_refused_by_default_with_what_to_do() {
    let t = parse_csv("partial.csv", partial_csv().as_bytes()).unwrap();
    let rep = derive(&plan(None), &t, &DeriveOptions::default()).unwrap_err();
    let bad: Vec<_> = rep
        .problems
        .iter()
        .filter(|p| p.kind == ProblemKind::BadDate)
        .collect();
    assert!(!bad.is_empty());
    assert!(
        bad[0].message.contains("partial date") && bad[0].message.contains("partial_dates"),
        "{}",
        bad[0].message
    );
    let summary = rep.summaries.join("\n");
    assert!(summary.contains("partial_dates = \"first\""), "{summary}");
}

#[test]
fn imputed_partial_dates_match_r_and_are_counted() {
    let t = parse_csv("partial.csv", partial_csv().as_bytes()).unwrap();
    let want: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(data("colon/partial_dates.json")).unwrap())
            .unwrap();
    for rule in ["first", "middle"] {
        let p = plan(Some(rule));
        let c = derive(&p, &t, &DeriveOptions::default()).unwrap();
        let counts = &c.flow.partial_dates;
        let w = &want[rule];
        let n = |col: &str| {
            counts
                .iter()
                .find(|x| x.column == col)
                .map_or(0, |x| x.imputed)
        };
        assert_eq!(n("dt_death") as u64, w["n_death"].as_u64().unwrap());
        assert_eq!(n("last_fu_dt") as u64, w["n_last_fu"].as_u64().unwrap());
        assert!(counts.iter().all(|x| x.rule == rule));
        assert!(c.flow.notes.iter().any(|n| n.contains("partial date(s)")));
        let r = analyse(&p, &c, &AnalysisOptions::default());
        let o = &r.endpoints[0].overall;
        assert_eq!(o.events as u64, w["events"].as_u64().unwrap());
        assert_eq!(o.median, w["median"].as_f64(), "{rule}");
        let cox = r.survival[0].cox.as_ref().unwrap();
        assert_eq!(cox.terms.len(), w["hr"].as_array().unwrap().len(), "{rule}");
        for (k, t) in cox.terms.iter().enumerate() {
            let e = w["hr"][k].as_f64().unwrap();
            // Newton-Raphson estimates: 1e-6 relative
            assert!((t.hr.unwrap() - e).abs() < 1e-6 * e, "{rule} hr {k}");
        }
        let rep =
            survstudy::report::study::build_report(&r, &Default::default(), &Default::default())
                .unwrap();
        assert!(rep.html.contains("were imputed"), "methods");
    }
}
