//! Subgroup analyses (`[[subgroups]]`) on the colon export match R:
//! the treatment HR within each sex and age group, and the interaction
//! likelihood-ratio tests (tests/data/colon/subgroups.json, from
//! tests/data/gen/subgroups_colon.R).

use std::path::{Path, PathBuf};

use survstudy::analysis::{analyse, AnalysisOptions};
use survstudy::derive::{derive, DeriveOptions};
use survstudy::ingest::read_table;
use survstudy::plan::Plan;

fn data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name)
}

fn rel(a: f64, b: f64) -> f64 {
    (a - b).abs() / b.abs().max(1e-300)
}

const SUBGROUPS: &str = "
[[groupings]]
name = \"sex\"
kind = \"category\"
columns = [\"sex\"]
levels = [\"female\", \"male\"]

[[subgroups]]
endpoint = \"OS\"
exposure = \"rx\"
by = [\"sex\", \"age65\"]
";

fn plan() -> Plan {
    let text = std::fs::read_to_string(data("colon_plan.toml")).unwrap();
    let text = text.replace("[analysis]\n", &format!("{SUBGROUPS}\n[analysis]\n"));
    Plan::from_toml_str(&text).unwrap()
}

#[test]
fn subgroup_hazard_ratios_and_interaction_tests_match_r() {
    let plan = plan();
    let t = read_table(&data("colon_export.csv"), None).unwrap();
    let c = derive(&plan, &t, &DeriveOptions::default()).unwrap();
    let r = analyse(&plan, &c, &AnalysisOptions::default());
    let want: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(data("colon/subgroups.json")).unwrap())
            .unwrap();
    assert_eq!(r.subgroups.len(), 1);
    let sg = &r.subgroups[0];
    assert_eq!(sg.reference, "Obs");
    let check = |got: &survstudy::analysis::subgroups::SubgroupLevel, w: &serde_json::Value| {
        assert_eq!(got.n as u64, w["n"].as_u64().unwrap(), "{}", got.level);
        assert_eq!(got.events as u64, w["events"].as_u64().unwrap());
        assert_eq!(got.terms.len(), 2);
        for (k, t) in got.terms.iter().enumerate() {
            // iterated (Newton-Raphson) estimates: 1e-6
            for (x, key) in [
                (t.hr, "hr"),
                (t.hr_lower, "lower"),
                (t.hr_upper, "upper"),
                (t.p, "p"),
            ] {
                let e = w[key][k].as_f64().unwrap();
                assert!(
                    rel(x.unwrap(), e) < 1e-6,
                    "{} {key}: {x:?} vs {e}",
                    got.level
                );
            }
        }
    };
    check(sg.overall.as_ref().unwrap(), &want["overall"]);
    for (b, key) in sg.by.iter().zip(["sex", "age65"]) {
        let w = &want[key];
        assert_eq!(b.grouping, key);
        for (l, wl) in b.levels.iter().zip(w["within"].as_array().unwrap()) {
            check(l, wl);
        }
        let i = b.interaction.as_ref().unwrap();
        assert_eq!(i.df as u64, w["interaction"]["df"].as_u64().unwrap());
        assert!(rel(i.chisq, w["interaction"]["chisq"].as_f64().unwrap()) < 1e-6);
        assert!(rel(i.p, w["interaction"]["p"].as_f64().unwrap()) < 1e-6);
    }
}

#[test]
fn subgroup_plan_errors_are_reported() {
    let text = std::fs::read_to_string(data("colon_plan.toml")).unwrap();
    let text = text.replace(
        "[analysis]\n",
        "[[subgroups]]\nendpoint = \"PFS\"\nexposure = \"rx\"\nby = [\"rx\", \"nope\"]\n\n[analysis]\n",
    );
    let e = Plan::from_toml_str(&text).unwrap_err().to_string();
    for want in [
        "unknown endpoint 'PFS'",
        "unknown grouping 'nope'",
        "its own subgroups",
    ] {
        assert!(e.contains(want), "{want} not in {e}");
    }
}

#[test]
fn stratified_multivariable_cox_matches_r() {
    let text = std::fs::read_to_string(data("colon_plan.toml")).unwrap();
    let text = text.replace(
        "event_status = { column = \"vital_status\", values = [\"Dead\"] }\n",
        "event_status = { column = \"vital_status\", values = [\"Dead\"] }\nstrata = [\"rx\"]\n",
    );
    let plan = Plan::from_toml_str(&text).unwrap();
    assert_eq!(plan.endpoints[0].strata, ["rx"]);
    let t = read_table(&data("colon_export.csv"), None).unwrap();
    let c = derive(&plan, &t, &DeriveOptions::default()).unwrap();
    let r = analyse(&plan, &c, &AnalysisOptions::default());
    let want: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(data("colon/strata.json")).unwrap()).unwrap();
    let m = &r.multivariable[0];
    assert_eq!(m.strata, ["rx"]);
    let cox = m.cox.as_ref().unwrap();
    assert_eq!(cox.n as u64, want["n"].as_u64().unwrap());
    assert_eq!(cox.events as u64, want["events"].as_u64().unwrap());
    for (k, t) in cox.terms.iter().enumerate() {
        for (x, key) in [(t.coef, "coef"), (t.se, "se"), (t.p, "p")] {
            let e = want[key][k].as_f64().unwrap();
            assert!(rel(x.unwrap(), e) < 1e-6, "{} {key}: {x:?} vs {e}", t.term);
        }
    }
    let ph = cox.ph_test.as_ref().unwrap();
    for (k, row) in ph
        .terms
        .iter()
        .chain(std::iter::once(&ph.global))
        .enumerate()
    {
        let e = want["zph_chisq"][k].as_f64().unwrap();
        assert!(
            rel(row.chisq, e) < 1e-6,
            "{}: {} vs {e}",
            row.term,
            row.chisq
        );
    }
    // a stratum that is also a covariate is refused
    let bad = text
        .replace("strata = [\"rx\"]", "strata = [\"rx\", \"age65\"]")
        .replace(
            "cox_covariates = [\"age\", \"sex\", \"nodes\"]",
            "cox_covariates = [\"age65\", \"sex\", \"nodes\"]",
        );
    let e = Plan::from_toml_str(&bad).unwrap_err().to_string();
    assert!(e.contains("both a stratum and a covariate"), "{e}");
}
