//! A grouping's univariable Cox model and log-rank test stratified by a
//! column and a grouping (`cox_strata = ["sex", "age65"]` on the colon
//! plan's rx) match R: `coxph(Surv(time, status) ~ rx + strata(sex, age65))`,
//! its cox.zph, and `survdiff(... ~ rx + strata(sex, age65))`
//! (tests/data/colon/univariable_strata.json, from
//! tests/data/gen/univariable_strata_colon.R).

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

fn plan_with(strata: &str) -> Result<Plan, String> {
    let text = std::fs::read_to_string(data("colon_plan.toml")).unwrap();
    let text = text.replacen(
        "levels = [\"Obs\", \"Lev\", \"Lev+5FU\"]\n\n[[groupings]]",
        &format!(
            "levels = [\"Obs\", \"Lev\", \"Lev+5FU\"]\ncox_strata = {strata}\n\n[[groupings]]"
        ),
        1,
    );
    Plan::from_toml_str(&text).map_err(|e| e.to_string())
}

#[test]
fn stratified_univariable_cox_and_logrank_match_r() {
    let plan = plan_with("[\"sex\", \"age65\"]").unwrap();
    assert_eq!(plan.grouping("rx").unwrap().cox_strata, ["sex", "age65"]);
    let t = read_table(&data("colon_export.csv"), None).unwrap();
    let c = derive(&plan, &t, &DeriveOptions::default()).unwrap();
    let r = analyse(&plan, &c, &AnalysisOptions::default());
    let w: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(data("colon/univariable_strata.json")).unwrap(),
    )
    .unwrap();
    let s = r.survival.iter().find(|s| s.grouping == "rx").unwrap();
    assert_eq!(s.cox_strata, ["sex", "age65"]);
    let cox = s.cox.as_ref().unwrap();
    assert_eq!(cox.n as u64, w["n"].as_u64().unwrap());
    assert_eq!(cox.events as u64, w["events"].as_u64().unwrap());
    assert_eq!(cox.terms.len(), w["terms"].as_array().unwrap().len());
    // Newton-Raphson estimates: 1e-6
    for (k, t) in cox.terms.iter().enumerate() {
        assert_eq!(t.term, w["terms"][k].as_str().unwrap());
        for (x, key) in [(t.coef, "coef"), (t.se, "se"), (t.hr, "hr"), (t.p, "p")] {
            let e = w[key][k].as_f64().unwrap();
            assert!(rel(x.unwrap(), e) < 1e-6, "{} {key}: {x:?} vs {e}", t.term);
        }
    }
    assert!(rel(cox.lr_test.stat, w["lr_test"].as_f64().unwrap()) < 1e-6);
    let ph = cox.ph_test.as_ref().unwrap();
    assert!(rel(ph.terms[0].chisq, w["zph_chisq"].as_f64().unwrap()) < 1e-6);
    // the log-rank statistic is a closed form: 1e-9
    let lr = s.logrank_stratified.as_ref().unwrap();
    assert_eq!(lr.df as u64, w["logrank_df"].as_u64().unwrap());
    assert!(rel(lr.chisq, w["logrank_chisq"].as_f64().unwrap()) < 1e-9);
    assert!(rel(lr.p, w["logrank_p"].as_f64().unwrap()) < 1e-9);
    // the unstratified log-rank and the KM curves are unchanged
    let plain = {
        let p0 = Plan::from_file(&data("colon_plan.toml")).unwrap();
        let c0 = derive(&p0, &t, &DeriveOptions::default()).unwrap();
        analyse(&p0, &c0, &AnalysisOptions::default())
    };
    let s0 = plain.survival.iter().find(|s| s.grouping == "rx").unwrap();
    assert_eq!(s0.logrank, s.logrank);
    assert_eq!(s0.groups, s.groups);
    assert!(s0.logrank_stratified.is_none() && s0.cox_strata.is_empty());
    let rep = survstudy::report::study::build_report(&r, &Default::default(), &Default::default())
        .unwrap();
    assert!(rep.html.contains("stratified by"), "report");
}

#[test]
fn univariable_strata_errors_are_reported() {
    let e = plan_with("[\"rx\", \"nope\", \"age\", \"trt_arm\"]").unwrap_err();
    for want in [
        "its own stratum",
        "unknown grouping or column 'nope'",
        "column 'age' has type Number",
        "'trt_arm' is the grouping's own column",
    ] {
        assert!(e.contains(want), "{want} not in {e}");
    }
}
