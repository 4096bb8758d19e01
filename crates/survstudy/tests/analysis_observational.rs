//! The built-in plan's `[adjustment]` (propensity-score weighting, weighted
//! KM / Cox, g-formula) and `[[time_dependent]]` (next-line therapy as a
//! time-dependent Cox covariate) on the demo cohort, against R:
//! `tests/data/observational/gen/adjustment.R` run on
//! `tests/data/observational/demo_adjust.csv` (the demo cohort's derived
//! times and covariates) gave `adjustment_demo.json` (R 4.2.2, survival
//! 3.5-3; jsonlite writes 15 significant digits, hence 1e-7 relative for
//! closed forms; 1e-6 for IRLS / Newton–Raphson estimates).

use serde_json::Value;
use survstudy::analysis::{analyse, AnalysisOptions, Results};
use survstudy::derive::derive;
use survstudy::ingest::parse_csv;
use survstudy::plan::Plan;

fn run(plan: &Plan) -> Results {
    let table = parse_csv("demo.csv", survstudy::synth::demo_csv().as_bytes()).unwrap();
    let cohort = derive(plan, &table, &Default::default()).unwrap();
    analyse(plan, &cohort, &AnalysisOptions::default())
}

fn reference() -> Value {
    let p = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/observational/adjustment_demo.json"
    );
    serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap()
}

fn close(a: f64, b: f64, rel: f64, what: &str) {
    let d = (a - b).abs() / b.abs().max(1e-12);
    assert!(d <= rel || (a - b).abs() < 1e-12, "{what}: {a} vs R {b}");
}

fn f(v: &Value) -> f64 {
    v.as_f64().unwrap_or_else(|| panic!("not a number: {v}"))
}

#[test]
fn adjustment_matches_r() {
    let r = run(&Plan::builtin());
    let a = r
        .adjustment
        .as_ref()
        .expect("built-in plan has [adjustment]");
    let want = reference();
    assert_eq!(a.error, None);
    assert_eq!((a.n_analysed, a.n_trimmed), (106, 0));
    // propensity model (glm): coefficients in R's term order
    let ps = a.ps_model.as_ref().unwrap();
    let terms = want["ps"]["term"].as_array().unwrap();
    assert_eq!(ps.terms.len(), terms.len());
    for (k, t) in ps.terms.iter().enumerate() {
        assert_eq!(t.term, terms[k].as_str().unwrap());
        close(t.coef, f(&want["ps"]["coef"][k]), 1e-6, &t.term);
        close(t.se, f(&want["ps"]["se"][k]), 1e-6, &t.term);
    }
    close(ps.deviance, f(&want["ps"]["deviance"]), 1e-7, "deviance");
    close(ps.aic, f(&want["ps"]["aic"]), 1e-7, "aic");
    close(
        a.marginal_exposed_proportion.unwrap(),
        f(&want["p"]),
        1e-12,
        "p",
    );
    // weights and ESS per arm (reference arm first)
    for (s, arm) in a.weights.iter().zip(["no", "yes"]) {
        let w = &want["weights"][arm];
        assert_eq!(s.group, arm);
        assert_eq!(s.n as f64, f(&w["n"]));
        for (x, k) in [
            (s.sum, "sum"),
            (s.min, "min"),
            (s.max, "max"),
            (s.ess, "ess"),
        ] {
            close(x, f(&w[k]), 1e-6, &format!("{arm} {k}"));
        }
    }
    // SMD before / after, every covariate and level
    let bal = want["balance"].as_object().unwrap();
    assert_eq!(a.balance.len(), bal.len());
    for b in &a.balance {
        let w = &bal[&b.row.term];
        close(b.row.smd_before, f(&w["before"]), 1e-6, &b.row.term);
        close(b.row.smd_after, f(&w["after"]), 1e-6, &b.row.term);
    }
    // the imbalance flags are the |SMD| > 0.1 after weighting
    let flagged = a
        .warnings
        .iter()
        .filter(|w| w.starts_with("imbalance"))
        .count();
    assert_eq!(
        flagged,
        a.balance
            .iter()
            .filter(|b| b.row.smd_after.abs() > 0.1)
            .count()
    );
    for e in &a.endpoints {
        let w = &want["endpoints"][&e.endpoint];
        // weighted KM (robust): summary(survfit, times = c(6, 12, 24))
        let km = &w["km"];
        let mut k = 0;
        for arm in &e.arms {
            for at in &arm.at {
                let what = format!("{} {} t={}", e.endpoint, arm.level, at.time);
                close(at.surv, f(&km["surv"][k]), 1e-7, &what);
                if at.surv > 0.0 {
                    close(at.std_err, f(&km["std_err"][k]), 1e-6, &what);
                    close(at.lower, f(&km["lower"][k]), 1e-6, &what);
                }
                k += 1;
            }
        }
        // weighted Cox, robust
        let c = e.cox.as_ref().unwrap();
        let wc = &w["cox"];
        close(c.coef, f(&wc["coef"]), 1e-6, "coef");
        close(c.robust_se, f(&wc["robust_se"]), 1e-6, "robust se");
        close(c.naive_se, f(&wc["naive_se"]), 1e-6, "naive se");
        close(c.p, f(&wc["p"]), 1e-6, "p");
        close(c.hr_lower, f(&wc["hr_lower"]), 1e-6, "hr_lower");
        close(c.hr_upper, f(&wc["hr_upper"]), 1e-6, "hr_upper");
        close(
            c.robust_score_stat.unwrap(),
            f(&wc["rscore"]),
            1e-6,
            "rscore",
        );
        close(
            c.robust_score_p.unwrap(),
            f(&wc["rscore_p"]),
            1e-6,
            "rscore p",
        );
        // g-formula
        let g = e.adjusted.as_ref().unwrap();
        let wg = &w["gformula"];
        close(g.exposure_coef, f(&wg["exposure_coef"]), 1e-6, "g coef");
        for k in 0..g.times.len() {
            close(g.surv_reference[k], f(&wg["surv0"][k]), 1e-6, "g s0");
            close(g.surv_exposed[k], f(&wg["surv1"][k]), 1e-6, "g s1");
        }
        // riskRegression ate(estimator = "GFORMULA"): influence-function SEs,
        // Wald CIs (clipped to [0, 1]) and the difference's p (1e-5: downstream
        // of the iterated Cox fit)
        let wa = &w["gformula_ate"];
        for k in 0..g.times.len() {
            for (got, key) in [
                (g.se_reference[k], "se0"),
                (g.lower_reference[k], "lower0"),
                (g.upper_reference[k], "upper0"),
                (g.se_exposed[k], "se1"),
                (g.lower_exposed[k], "lower1"),
                (g.upper_exposed[k], "upper1"),
                (g.difference[k], "diff"),
                (g.difference_se[k], "diff_se"),
                (g.difference_lower[k], "diff_lower"),
                (g.difference_upper[k], "diff_upper"),
                (g.difference_p[k], "diff_p"),
            ] {
                close(got, f(&wa[key][k]), 1e-5, key);
            }
        }
    }
}

#[test]
fn time_dependent_next_line_matches_tmerge_and_coxph() {
    let r = run(&Plan::builtin());
    let want = reference();
    assert_eq!(r.time_dependent.len(), 2, "OS and PFS");
    for t in &r.time_dependent {
        let w = &want["endpoints"][&t.endpoint]["timedep"];
        assert_eq!(t.n_rows as f64, f(&w["n_rows"]), "{}", t.endpoint);
        assert_eq!(t.n_switched as f64, f(&w["n_split"]));
        close(t.coef.unwrap(), f(&w["coef"]), 1e-6, "td coef");
        close(t.se.unwrap(), f(&w["se"]), 1e-6, "td se");
        close(t.p.unwrap(), f(&w["p"]), 1e-6, "td p");
    }
}

fn plan_with(adjustment: &str) -> Plan {
    let text = Plan::builtin_toml();
    let i = text.find("[adjustment]").unwrap();
    let j = text.find("[[time_dependent]]").unwrap();
    let s = format!("{}{adjustment}\n{}", &text[..i], &text[j..]);
    Plan::from_toml_str(&s).unwrap()
}

#[test]
fn separation_is_reported_not_estimated() {
    // R-ISS stage I has no EMD patient in the demo cohort
    let p = plan_with("[adjustment]\nexposure = \"emd_at_infusion\"\ncovariates = [\"age_at_infusion\", \"riss\"]\n");
    let a = run(&p).adjustment.unwrap();
    let e = a.error.expect("separation must be an error");
    assert!(e.contains("separation"), "{e}");
    assert!(a.weights.is_empty() && a.endpoints.is_empty());
}

#[test]
fn plan_refuses_bad_adjustment() {
    let text = Plan::builtin_toml();
    let i = text.find("[adjustment]").unwrap();
    let j = text.find("[[time_dependent]]").unwrap();
    for (bad, msg) in [
        (
            "[adjustment]\nexposure = \"emd_baseline_x_progression\"\ncovariates = [\"age_at_infusion\"]\n",
            "exactly two",
        ),
        (
            "[adjustment]\nexposure = \"emd_at_infusion\"\ncovariates = [\"age_at_infusion\"]\ntrim = 0.7\n",
            "trim",
        ),
        (
            "[adjustment]\nexposure = \"nope\"\ncovariates = [\"age_at_infusion\"]\n",
            "unknown grouping",
        ),
        (
            "[adjustment]\nexposure = \"emd_at_infusion\"\ncovariates = [\"progression_date\"]\n",
            "progression_date",
        ),
    ] {
        let s = format!("{}{bad}\n{}", &text[..i], &text[j..]);
        let e = Plan::from_toml_str(&s).unwrap_err().to_string();
        assert!(e.contains(msg), "{bad}: {e}");
    }
}

#[test]
fn one_level_covariate_and_extreme_weights_are_flagged() {
    // filter to ide-cel: cart_product then has one level (left out, flagged)
    let text = Plan::builtin_toml().replace(
        "# Filters defining the analysed population (none in the built-in study).",
        "[[filters]]\ndescription = \"ide-cel only\"\ncolumn = \"cart_product\"\nvalues = [\"ide-cel\"]\n# Filters",
    );
    let p = Plan::from_toml_str(&text).unwrap();
    let a = run(&p).adjustment.unwrap();
    assert!(a.covariates_left_out.contains(&"cart_product".to_string()));
    assert!(
        a.warnings
            .iter()
            .any(|w| w.contains("cart_product") && w.contains("one level")),
        "{:?}",
        a.warnings
    );
    // unstabilised ATT weights on a strong model: flags are consistent with the numbers
    let p = plan_with("[adjustment]\nexposure = \"emd_at_infusion\"\ncovariates = [\"bridging_therapy\", \"prior_lines\", \"high_risk_cytogenetics\"]\nestimand = \"att\"\n");
    let a = run(&p).adjustment.unwrap();
    for s in &a.weights {
        let flagged = a
            .warnings
            .iter()
            .any(|w| w.starts_with("extreme weights") && w.contains(&format!("'{}'", s.group)));
        assert_eq!(flagged, s.max > 10.0 * s.mean, "{s:?}");
    }
    // ATT: exposed weights are all 1
    assert_eq!((a.weights[1].min, a.weights[1].max), (1.0, 1.0));
}

#[test]
fn fine_gray_of_the_competing_risks_analysis_matches_crr() {
    let r = run(&Plan::builtin());
    let want = reference();
    let cr = &r.competing_risks[0];
    assert_eq!(cr.fine_gray.len(), 2, "both causes");
    for (k, m) in cr.fine_gray.iter().enumerate() {
        let w = &want["fine_gray"][k];
        assert_eq!(m.cause as usize, k + 1);
        let t = &m.terms[0];
        assert_eq!((t.level.as_str(), t.reference.as_str()), ("yes", "no"));
        close(t.coef, f(&w["coef"]), 1e-6, "crr coef");
        close(t.se, f(&w["se"]), 1e-6, "crr se");
        close(t.p, f(&w["p"]), 1e-6, "crr p");
        close(t.hr, t.coef.exp(), 1e-12, "shr");
    }
}

#[test]
fn trimming_drops_and_counts_patients() {
    let p = plan_with("[adjustment]\nexposure = \"emd_at_infusion\"\ncovariates = [\"bridging_therapy\", \"prior_lines\", \"high_risk_cytogenetics\", \"prior_bcma\"]\ntrim = 0.1\n");
    let a = run(&p).adjustment.unwrap();
    assert!(a.error.is_none(), "{:?}", a.error);
    assert!(a.n_trimmed > 0, "some ps fall below 0.1");
    assert_eq!(a.n_analysed + a.n_trimmed, a.n_complete);
    assert_eq!(a.weights.iter().map(|w| w.n).sum::<usize>(), a.n_analysed);
    // the weighted analyses use the retained patients only
    for e in &a.endpoints {
        assert_eq!(e.arms.iter().map(|x| x.n).sum::<usize>(), e.n);
        assert!(e.n <= a.n_analysed);
    }
    // unstabilised ATE: every weight is at least 1, and at most 1/0.1
    for w in &a.weights {
        assert!(w.min >= 1.0 && w.max <= 10.0 + 1e-12, "{w:?}");
    }
    // no patient left outside [0.1, 0.9], so no positivity flag
    assert!(!a.warnings.iter().any(|w| w.starts_with("positivity")));
}
