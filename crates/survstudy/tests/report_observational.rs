//! The report's confounding-adjustment and time-dependent sections on the
//! demo cohort: the balance table, Love plot, weights, weighted KM figures
//! with their weighted risk table, the adjusted table and the flags.

use survstudy::analysis::{analyse, Results};
use survstudy::derive::derive;
use survstudy::ingest::parse_csv;
use survstudy::plan::Plan;
use survstudy::report::study::{build_report, ReportMeta, ReportOptions};

fn run(plan: &Plan) -> Results {
    let table = parse_csv("demo.csv", survstudy::synth::demo_csv().as_bytes()).unwrap();
    let cohort = derive(plan, &table, &Default::default()).unwrap();
    analyse(plan, &cohort, &Default::default())
}

fn html_text(html: &str) -> String {
    // drop tags, keep text
    let mut out = String::new();
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' => {
                in_tag = false;
                out.push(' ');
            }
            _ if !in_tag => out.push(c),
            _ => {}
        }
    }
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[test]
fn adjustment_section_has_every_part() {
    let r = run(&Plan::builtin());
    let rep = build_report(&r, &ReportMeta::default(), &ReportOptions::default()).unwrap();
    let text = html_text(&rep.html);
    let a = r.adjustment.as_ref().unwrap();
    assert!(text.contains("Confounding adjustment: EMD at CAR-T infusion"));
    for part in [
        "Propensity model: logistic regression",
        "Weight distribution and effective sample size by arm.",
        "Covariate balance between EMD at CAR-T infusion yes and no",
        "Love plot:",
        "weighted and g-formula adjusted survival",
        "Weighted Cox HR, yes vs no",
        "robust score",
        "weightit(method = &quot;glm&quot;, estimand = &quot;ATE&quot;, stabilize = TRUE)",
        "survfit(Surv(time, status) ~ exposure, weights = w, robust = TRUE)",
        "Time-dependent exposures: Cox models on (start, stop] rows.",
        "tmerge",
    ] {
        assert!(text.contains(part), "missing: {part}");
    }
    // every flag of the analysis is a notice on the page
    for w in &a.warnings {
        let esc = w.replace('>', "&gt;");
        assert!(text.contains(&esc), "flag not shown: {w}");
    }
    // ESS of each arm, one decimal
    for s in &a.weights {
        assert!(text.contains(&format!("{:.1}", s.ess)), "{}", s.ess);
    }
    let love = rep
        .figures
        .iter()
        .find(|f| f.name == "love_emd_at_infusion")
        .expect("Love plot");
    // one open and one filled marker per balance row (+ the legend's)
    assert_eq!(
        love.svg.matches("class=\"before\"").count(),
        a.balance.len()
    );
    assert_eq!(
        love.svg.matches("class=\"after\"").count(),
        a.balance.len() + 1
    );
    for code in ["os", "pfs"] {
        let f = rep
            .figures
            .iter()
            .find(|f| f.name == format!("{code}_weighted_by_emd_at_infusion"))
            .expect("weighted KM figure");
        assert!(f
            .svg
            .contains("Weighted number at risk (sum of weights, rounded)"));
        assert!(!f.svg.contains(">Number at risk<"));
    }
    // the unweighted figures keep their title
    let plain = rep
        .figures
        .iter()
        .find(|f| f.name == "os_by_emd_at_infusion")
        .unwrap();
    assert!(plain.svg.contains(">Number at risk<"));
}

#[test]
fn separation_is_a_notice_not_a_number() {
    let text = Plan::builtin_toml().replace(
        "    \"high_risk_cytogenetics\",\n    \"prior_lines\",",
        "    \"high_risk_cytogenetics\",\n    \"riss\",\n    \"prior_lines\",",
    );
    let plan = Plan::from_toml_str(&text).unwrap();
    assert!(plan
        .adjustment
        .as_ref()
        .unwrap()
        .covariates
        .contains(&"riss".to_string()));
    let r = run(&plan);
    let rep = build_report(&r, &ReportMeta::default(), &ReportOptions::default()).unwrap();
    let t = html_text(&rep.html);
    assert!(t.contains("No adjusted estimate: the propensity model shows separation"));
    assert!(!t.contains("Weighted Cox HR"));
    assert!(!rep.figures.iter().any(|f| f.name.starts_with("love_")));
}
