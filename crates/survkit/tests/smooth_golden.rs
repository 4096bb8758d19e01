//! `survkit::smooth` against the curves R's `plot.cox.zph(z, df = 4, nsmo =
//! 40, se = TRUE)` draws (survival 3.5-3; `tests/data/<ds>/smooth.json`
//! written by `tests/data/gen/smooth.R`): lung and veteran models with a 0/1
//! covariate (`factor(sex)`, `factor(trt)`), a collapsed factor term, a
//! stratified model, and the km / identity / rank / log transforms. First
//! the inputs (β̂, `cox.zph()$x`, `diag($var)`), then the 40 evaluation
//! points, the fit and both band limits of every term.
//!
//! Tolerance 1e-6 relative, with an absolute floor of 1e-6 × the curve's
//! largest magnitude for values that cross zero.

mod common;
use common::*;
use serde_json::Value;
use survkit::cox::{cox_fit, CoxOptions, Ties};
use survkit::smooth::{zph_smooth, SmoothOptions};
use survkit::zph::{cox_zph, Transform, ZphOptions, ZphTerm};

const TOL: f64 = 1e-6;

fn assert_curve(what: &str, got: &[f64], want: &Value) {
    let w = want.as_array().unwrap();
    assert_eq!(got.len(), w.len(), "{what}: length");
    let scale = w
        .iter()
        .filter_map(Value::as_f64)
        .fold(0.0f64, |m, v| m.max(v.abs()));
    for (i, (g, r)) in got.iter().zip(w).enumerate() {
        let ok = close(*g, r, TOL) || r.as_f64().is_some_and(|r| (g - r).abs() <= TOL * scale);
        assert!(ok, "{what}[{i}]: got {g}, R has {r}");
    }
}

#[test]
fn ns_smooth_matches_plot_cox_zph() {
    let mut curves = 0;
    let mut binary_checked = false;
    for ds in ["lung", "veteran"] {
        let r = load_json(ds, "smooth.json");
        assert_eq!(r["df"], 4);
        assert_eq!(r["nsmo"], 40);
        for m in r["models"].as_array().unwrap() {
            let formula = m["formula"].as_str().unwrap();
            let tr = m["transform"].as_str().unwrap();
            let tag = format!("{ds} {formula} {tr}");
            let ((t, e, d, s), terms) = model_data_terms(ds, formula);
            let fit = cox_fit(
                &t,
                &e,
                &d,
                s.as_deref(),
                &CoxOptions {
                    ties: Ties::Efron,
                    ..Default::default()
                },
            )
            .unwrap();
            assert_vec(
                &format!("{tag} coef"),
                &fit.terms.iter().map(|t| t.coef).collect::<Vec<_>>(),
                &m["coef"],
                TOL,
            );
            let zterms: Vec<ZphTerm> = terms
                .iter()
                .map(|(name, columns)| ZphTerm {
                    name: name.clone(),
                    columns: columns.clone(),
                })
                .collect();
            let zo = ZphOptions {
                transform: Transform::parse(tr).unwrap(),
                ..Default::default()
            };
            let z = cox_zph(&t, &e, &d, s.as_deref(), &fit, Some(&zterms), &zo).unwrap();
            assert_vec(&format!("{tag} zph x"), &z.x, &m["zph_x"], 1e-12);
            let vd: Vec<f64> = (0..z.var.len()).map(|i| z.var[i][i]).collect();
            assert_vec(&format!("{tag} zph var"), &vd, &m["zph_var_diag"], TOL);

            let sm = zph_smooth(&z, &SmoothOptions::default());
            let rc = m["curves"].as_array().unwrap();
            assert_eq!(sm.len(), rc.len(), "{tag}: terms");
            for (c, want) in sm.iter().zip(rc) {
                let term = want["term"].as_str().unwrap();
                assert_eq!(c.term, term, "{tag}");
                let curve = c
                    .curve
                    .as_ref()
                    .unwrap_or_else(|| panic!("{tag} {term}: no curve"));
                let w = format!("{tag} {term}");
                assert_curve(&format!("{w} x"), &curve.x, &want["x"]);
                assert_curve(&format!("{w} fit"), &curve.fit, &want["fit"]);
                assert_curve(&format!("{w} upper"), &curve.upper, &want["upper"]);
                assert_curve(&format!("{w} lower"), &curve.lower, &want["lower"]);
                if term.starts_with("factor(") && !term.contains("ecog") {
                    binary_checked = true;
                }
                curves += 1;
            }
        }
    }
    assert_eq!(curves, 17, "curves checked");
    assert!(binary_checked, "a 0/1 covariate was checked");
}

/// The fit of a 0/1 covariate's residuals centres on β̂: the mean of the
/// scaled residuals is about β̂ and the smooth stays within the residuals'
/// range (the old LOWESS sat near −1 for lung's sex, β̂ ≈ −0.5).
#[test]
fn binary_covariate_smooth_is_near_the_coefficient() {
    let formula = "Surv(time, status == 2) ~ age + factor(sex) + ph.karno";
    let ((t, e, d, _), terms) = model_data_terms("lung", formula);
    let fit = cox_fit(&t, &e, &d, None, &CoxOptions::default()).unwrap();
    let zterms: Vec<ZphTerm> = terms
        .iter()
        .map(|(name, columns)| ZphTerm {
            name: name.clone(),
            columns: columns.clone(),
        })
        .collect();
    let z = cox_zph(
        &t,
        &e,
        &d,
        None,
        &fit,
        Some(&zterms),
        &ZphOptions::default(),
    )
    .unwrap();
    let sm = zph_smooth(&z, &SmoothOptions::default());
    let c = sm[1].curve.as_ref().unwrap();
    let beta = fit.terms[1].coef;
    let mean_fit = c.fit.iter().sum::<f64>() / c.fit.len() as f64;
    assert!(
        (mean_fit - beta).abs() < 0.5,
        "mean {mean_fit} vs beta {beta}"
    );
    assert!(c.lower.iter().zip(&c.fit).all(|(l, f)| l < f));
    assert!(c.upper.iter().zip(&c.fit).all(|(u, f)| u > f));
}
