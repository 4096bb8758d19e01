//! `cox.zph` against R survival 3.5-3 (`tests/data/<ds>/coxzph.json`): every
//! test (multivariable efron/breslow, strata:efron, factor:efron × km/identity):
//! chisq, df, p per term and GLOBAL, and where present the event times, the
//! transformed times x, the scaled Schoenfeld residuals y and the strata.
//!
//! Tolerance 1e-6 relative (β̂ enters through R's Newton iterates, which we
//! replicate); y entries near zero are compared with an absolute 1e-6 floor
//! scaled by the column's size.

mod common;
use common::*;
use serde_json::Value;
use survkit::cox::{cox_fit, CoxOptions, Ties};
use survkit::zph::{cox_zph, Transform, ZphOptions, ZphTerm};

const TOL: f64 = 1e-6;

fn model_formula(ds: &str, id: &str) -> (String, Ties) {
    let r = load_json(ds, "cox.json");
    let m = r["models"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["id"] == id)
        .unwrap_or_else(|| panic!("{ds}: no model {id}"));
    let ties = Ties::parse(m["ties"].as_str().unwrap()).unwrap();
    (m["formula"].as_str().unwrap().to_string(), ties)
}

#[test]
fn cox_zph_matches_r() {
    let mut checked = 0;
    let mut with_resid = 0;
    for ds in DATASETS {
        let r = load_json(ds, "coxzph.json");
        for zt in r["tests"].as_array().unwrap() {
            let id = zt["model"].as_str().unwrap();
            let tr = zt["transform"].as_str().unwrap();
            let tag = format!("{ds} {id} {tr}");
            let (formula, ties) = model_formula(ds, id);
            let ((t, e, d, s), terms) = model_data_terms(ds, &formula);
            let opts = CoxOptions {
                ties,
                ..Default::default()
            };
            let fit = cox_fit(&t, &e, &d, s.as_deref(), &opts).unwrap();
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
            let mut names: Vec<String> = z.terms.iter().map(|x| x.term.clone()).collect();
            names.push(z.global.term.clone());
            let rnames: Vec<String> = zt["terms"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_str().unwrap().to_string())
                .collect();
            assert_eq!(names, rnames, "{tag}");
            let all: Vec<_> = z.terms.iter().chain([&z.global]).collect();
            let chisq: Vec<f64> = all.iter().map(|x| x.chisq).collect();
            let df: Vec<f64> = all.iter().map(|x| x.df as f64).collect();
            let p: Vec<f64> = all.iter().map(|x| x.p).collect();
            assert_vec(&format!("{tag} chisq"), &chisq, &zt["chisq"], TOL);
            assert_vec(&format!("{tag} df"), &df, &zt["df"], 0.0);
            assert_vec(&format!("{tag} p"), &p, &zt["p"], TOL);
            checked += 1;
            if zt.get("time").is_none_or(|v| v.is_null()) {
                continue;
            }
            with_resid += 1;
            assert_vec(&format!("{tag} time"), &z.time, &zt["time"], 0.0);
            assert_vec(&format!("{tag} x"), &z.x, &zt["x"], 1e-12);
            let ycols: Vec<&str> = zt["y_columns"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_str().unwrap())
                .collect();
            assert_eq!(z.y_columns, ycols, "{tag} y_columns");
            let ry = zt["y"].as_array().unwrap();
            assert_eq!(z.y.len(), ry.len(), "{tag} y rows");
            let ncol = ycols.len();
            // column scale for an absolute floor on residuals that cross zero
            let scale: Vec<f64> = (0..ncol)
                .map(|j| {
                    ry.iter()
                        .filter_map(|row| row[j].as_f64())
                        .fold(0.0f64, |m, v| m.max(v.abs()))
                })
                .collect();
            for (i, (row, rrow)) in z.y.iter().zip(ry).enumerate() {
                for j in 0..ncol {
                    let want = &rrow[j];
                    let ok = close(row[j], want, TOL)
                        || want
                            .as_f64()
                            .is_some_and(|w| (row[j] - w).abs() <= TOL * scale[j]);
                    assert!(ok, "{tag} y[{i}][{j}]: got {}, R has {want}", row[j]);
                }
            }
            match (&z.strata, zt.get("strata")) {
                (Some(st), Some(Value::Array(rs))) if !rs.is_empty() => {
                    let one_based: Vec<f64> = st.iter().map(|&s| (s + 1) as f64).collect();
                    assert_vec(&format!("{tag} strata"), &one_based, &zt["strata"], 0.0);
                }
                (None, None) | (None, Some(Value::Null)) => {}
                (None, Some(Value::Array(rs))) if rs.is_empty() => {}
                (a, b) => panic!("{tag} strata: {a:?} vs {b:?}"),
            }
        }
    }
    assert_eq!(checked, 40, "tests checked");
    assert_eq!(with_resid, 40, "tests with residual arrays");
}

#[test]
fn default_terms_are_columns_and_rank_log_transforms_run() {
    let (t, e, d, _) = model_data("veteran", "Surv(time, status == 1) ~ trt + karno");
    let fit = cox_fit(&t, &e, &d, None, &CoxOptions::default()).unwrap();
    for tr in [
        Transform::Km,
        Transform::Identity,
        Transform::Rank,
        Transform::Log,
    ] {
        let zo = ZphOptions {
            transform: tr,
            ..Default::default()
        };
        let z = cox_zph(&t, &e, &d, None, &fit, None, &zo).unwrap();
        assert_eq!(z.y_columns, vec!["trt", "karno"]);
        assert_eq!(z.global.df, 2);
        assert!(z.terms.iter().all(|x| x.chisq >= 0.0 && x.p <= 1.0));
    }
}
