//! Interaction terms of the multivariable Cox model
//! (`analysis.cox_interactions`) on the colon export match R:
//! `coxph(Surv(time, status) ~ age + sex + nodes + rx + sex:rx + age:sex)`,
//! its term names, cox.zph terms and the likelihood-ratio test of each
//! interaction (tests/data/colon/interactions.json, from
//! tests/data/gen/interactions_colon.R).

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

fn plan_with(extra: &str) -> Result<Plan, String> {
    let text = std::fs::read_to_string(data("colon_plan.toml")).unwrap();
    let text = text.replace(
        "cox_covariates = [\"age\", \"sex\", \"nodes\"]\n",
        &format!("cox_covariates = [\"age\", \"sex\", \"nodes\", \"rx\"]\n{extra}"),
    );
    Plan::from_toml_str(&text).map_err(|e| e.to_string())
}

#[test]
fn interaction_terms_and_their_lr_tests_match_r() {
    // pairs written in any order: the term follows the model order (sex before rx)
    let plan = plan_with("cox_interactions = [[\"rx\", \"sex\"], [\"age\", \"sex\"]]\n").unwrap();
    let t = read_table(&data("colon_export.csv"), None).unwrap();
    let c = derive(&plan, &t, &DeriveOptions::default()).unwrap();
    let r = analyse(&plan, &c, &AnalysisOptions::default());
    let want: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(data("colon/interactions.json")).unwrap())
            .unwrap();
    let m = &r.multivariable[0];
    assert_eq!(m.n_complete as u64, want["n"].as_u64().unwrap());
    let cox = m.cox.as_ref().unwrap();
    assert_eq!(cox.events as u64, want["events"].as_u64().unwrap());
    let names: Vec<&str> = cox.terms.iter().map(|t| t.term.as_str()).collect();
    let wnames: Vec<&str> = want["terms"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert_eq!(names, wnames);
    // Newton-Raphson estimates (iterated to |1 - l_old/l_new| <= 1e-9): 1e-6
    for (k, t) in cox.terms.iter().enumerate() {
        for (x, key) in [(t.coef, "coef"), (t.se, "se"), (t.p, "p")] {
            let e = want[key][k].as_f64().unwrap();
            assert!(rel(x.unwrap(), e) < 1e-6, "{} {key}: {x:?} vs {e}", t.term);
        }
    }
    assert!(rel(cox.loglik, want["loglik"][1].as_f64().unwrap()) < 1e-9);
    assert_eq!(m.interactions.len(), 2);
    for (i, key, term) in [(0, "lr_rx_sex", "sex:rx"), (1, "lr_age_sex", "age:sex")] {
        let it = &m.interactions[i];
        let w = &want[key];
        assert_eq!(it.term, term);
        assert_eq!(it.df as u64, w["df"].as_u64().unwrap());
        assert!(rel(it.chisq, w["chisq"].as_f64().unwrap()) < 1e-6, "{term}");
        assert!(rel(it.p, w["p"].as_f64().unwrap()) < 1e-6, "{term}");
    }
    let ph = cox.ph_test.as_ref().unwrap();
    let zt: Vec<&str> = ph.terms.iter().map(|t| t.term.as_str()).collect();
    assert_eq!(zt, ["age", "sex", "nodes", "rx", "sex:rx", "age:sex"]);
    for (k, row) in ph.terms.iter().enumerate() {
        assert_eq!(row.df as u64, want["zph_df"][k].as_u64().unwrap());
        assert!(
            rel(row.chisq, want["zph_chisq"][k].as_f64().unwrap()) < 1e-6,
            "{}",
            row.term
        );
    }
    let json = serde_json::to_value(m).unwrap();
    assert_eq!(json["interactions"][0]["columns"][1], "sexmale:rxLev+5FU");
}

#[test]
fn interaction_plan_errors_are_reported() {
    let e = plan_with(
        "cox_interactions = [[\"rx\", \"age65\"], [\"sex\"], [\"sex\", \"rx\"], [\"rx\", \"sex\"]]\n",
    )
    .unwrap_err();
    for want in [
        "'age65' is not in cox_covariates",
        "an interaction is a pair",
        "[rx, sex] is listed twice",
    ] {
        assert!(e.contains(want), "{want} not in {e}");
    }
}

#[test]
fn the_report_states_the_interaction_tests() {
    let plan = plan_with("cox_interactions = [[\"rx\", \"sex\"]]\n").unwrap();
    let t = read_table(&data("colon_export.csv"), None).unwrap();
    let c = derive(&plan, &t, &DeriveOptions::default()).unwrap();
    let r = analyse(&plan, &c, &AnalysisOptions::default());
    let rep = survstudy::report::study::build_report(&r, &Default::default(), &Default::default())
        .unwrap();
    assert!(rep.html.contains("interaction terms"), "report");
    assert!(rep.html.contains("(sex:rx)"), "report");
    assert!(rep.html.contains("male:Lev+5FU"), "term row in the table");
}
