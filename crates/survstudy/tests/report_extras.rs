//! The report's proportional-hazards diagnostics, competing-risks section,
//! RMST, landmark wording and methods, built from the demo cohort with the
//! built-in plan (and modified copies of its results).
//!
//! Set `SURVSTUDY_REPORT_SAMPLES=/some/dir` to also write the new figures
//! there as PNG (300 dpi) for a visual check.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use survstudy::analysis::competing::{CifAtTime, CifCurveSummary, CompetingResult, GraySummary};
use survstudy::analysis::survival::{ph_bins, PhResiduals, PhSmooth, PH_BINS};
use survstudy::analysis::Results;
use survstudy::report::study::{build_report, ReportMeta, ReportOptions, StudyReport};
use survstudy::report::{format_p, svg_to_png};

fn demo() -> &'static Results {
    static R: OnceLock<Results> = OnceLock::new();
    R.get_or_init(|| {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut path: PathBuf = root.join("assets/demo_cohort.csv");
        if std::fs::metadata(&path).map_or(true, |m| m.len() == 0) {
            let c = survstudy::synth::generate(&Default::default()).expect("generate demo");
            let csv = survstudy::synth::to_csv_string(&c).expect("csv");
            path =
                std::env::temp_dir().join(format!("survstudy_extras_{}.csv", std::process::id()));
            std::fs::write(&path, csv).expect("write fallback demo");
        }
        let table = survstudy::ingest::read_table(&path, None).expect("read demo");
        let plan = survstudy::plan::Plan::builtin();
        let cohort = survstudy::derive::derive(&plan, &table, &Default::default()).expect("derive");
        survstudy::analysis::analyse(&plan, &cohort, &Default::default())
    })
}

fn build(r: &Results) -> StudyReport {
    build_report(r, &ReportMeta::default(), &ReportOptions::default()).expect("build report")
}

fn default_report() -> &'static StudyReport {
    static R: OnceLock<StudyReport> = OnceLock::new();
    R.get_or_init(|| {
        let rep = build(demo());
        if let Some(dir) = std::env::var_os("SURVSTUDY_REPORT_SAMPLES") {
            let dir = Path::new(&dir);
            std::fs::create_dir_all(dir).expect("sample dir");
            for f in rep
                .figures
                .iter()
                .filter(|f| f.name.starts_with("cif_") || f.name.starts_with("ph_"))
            {
                let png = svg_to_png(&f.svg, 300.0).expect("png");
                std::fs::write(dir.join(format!("{}.png", f.name)), png).expect("write png");
            }
        }
        rep
    })
}

fn figure<'a>(rep: &'a StudyReport, name: &str) -> &'a survstudy::report::ReportFigure {
    rep.figures
        .iter()
        .find(|f| f.name == name)
        .unwrap_or_else(|| panic!("no figure {name}"))
}

/// Text content of the page without tags, entities decoded, runs of
/// white space collapsed to one space.
fn strip_tags(html: &str) -> String {
    let mut out = String::new();
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' => {
                in_tag = false;
                out.push(' ');
            }
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    out.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&#58;", ":")
        .replace("&amp;", "&")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// `p = 0.032` / `p < 0.001` as the report writes it.
fn p_eq(p: f64) -> String {
    let s = format_p(p, 0.001);
    if let Some(rest) = s.strip_prefix('<') {
        format!("p < {rest}")
    } else if let Some(rest) = s.strip_prefix('>') {
        format!("p > {rest}")
    } else {
        format!("p = {s}")
    }
}

fn pct_ci(est: f64, lo: f64, hi: f64) -> String {
    format!(
        "{:.0}% ({:.0}\u{2013}{:.0})",
        100.0 * est,
        100.0 * lo,
        100.0 * hi
    )
}

/// Names of the PH residual figures the results call for: terms with
/// p < 0.05 that have residuals.
fn expected_ph_figures(r: &Results) -> Vec<String> {
    let mut out = vec![];
    for s in &r.survival {
        let Some(ph) = s.cox.as_ref().and_then(|c| c.ph_test.as_ref()) else {
            continue;
        };
        for t in ph.terms.iter().filter(|t| t.p < 0.05) {
            if ph.flagged.iter().any(|f| f.term == t.term) {
                out.push(format!("ph_{}_{}", s.endpoint.to_lowercase(), s.grouping));
            }
        }
    }
    for m in &r.multivariable {
        let Some(ph) = m.cox.as_ref().and_then(|c| c.ph_test.as_ref()) else {
            continue;
        };
        for t in ph.terms.iter().filter(|t| t.p < 0.05) {
            if ph.flagged.iter().any(|f| f.term == t.term) {
                out.push(format!(
                    "ph_{}_multivariable_{}",
                    m.endpoint.to_lowercase(),
                    t.term
                ));
            }
        }
    }
    out.sort();
    out
}

fn ph_figure_names(rep: &StudyReport) -> Vec<String> {
    let mut v: Vec<String> = rep
        .figures
        .iter()
        .filter(|f| f.name.starts_with("ph_"))
        .map(|f| f.name.clone())
        .collect();
    v.sort();
    v
}

// ---------------------------------------------------------------------------
// proportional hazards
// ---------------------------------------------------------------------------

#[test]
fn every_cox_model_shows_its_ph_test() {
    let r = demo();
    let rep = default_report();
    let text = strip_tags(&rep.html);
    // one PH table of the univariable models per endpoint, one per
    // multivariable model
    for ep in &r.endpoints {
        assert!(
            text.contains(&format!(
                "{}: proportional-hazards tests of the univariable Cox models",
                ep.endpoint
            )),
            "{}",
            ep.endpoint
        );
    }
    for m in &r.multivariable {
        let ph = m.cox.as_ref().unwrap().ph_test.as_ref().unwrap();
        assert!(text.contains(&format!(
            "{}: proportional-hazards test of the multivariable Cox model, per term and GLOBAL",
            m.endpoint
        )));
        // the GLOBAL row with its statistic
        assert!(
            text.contains(&format!("GLOBAL {:.2} {}", ph.global.chisq, ph.global.df)),
            "GLOBAL row of {}",
            m.endpoint
        );
        assert_eq!(ph.terms.len(), 11, "a row per term is expected below");
    }
    // every univariable model: the numbers-table footnote carries the test
    let n_models = r
        .survival
        .iter()
        .filter(|s| s.cox.as_ref().is_some_and(|c| c.ph_test.is_some()))
        .count();
    assert!(n_models >= 18);
    assert_eq!(
        text.matches("Proportional-hazards test (Grambsch\u{2013}Therneau")
            .count(),
        n_models
    );
    for s in &r.survival {
        let ph = s.cox.as_ref().unwrap().ph_test.as_ref().unwrap();
        let t = &ph.terms[0];
        let want = format!(
            "{} chi-square {:.2} on {} df, {}",
            s.grouping_label,
            t.chisq,
            t.df,
            p_eq(t.p)
        );
        assert!(text.contains(&want), "{want}");
    }
    // the multivariable table lists terms by their labels
    assert!(text.contains("Sex"));
}

/// The `d` attribute of the path drawn with `class`.
fn path_d<'a>(svg: &'a str, class: &str) -> &'a str {
    assert!(svg.contains(&format!("class=\"{class}\"")), "no {class}");
    svg.split(&format!("class=\"{class}\""))
        .next()
        .unwrap()
        .rsplit("<path d=\"")
        .next()
        .unwrap()
        .split('"')
        .next()
        .unwrap()
}

/// The (x, y) vertices of an `M x yL x y…` polyline.
fn polyline(d: &str) -> Vec<(f64, f64)> {
    d.split(['M', 'L'])
        .filter(|p| !p.is_empty())
        .map(|p| {
            let mut it = p.split(' ').map(|v| v.parse::<f64>().unwrap());
            (it.next().unwrap(), it.next().unwrap())
        })
        .collect()
}

/// The smooth line of a residual figure is `fit` drawn at `time` (up to the
/// 2-decimal rounding of the coordinates): both axes are affine maps of it.
fn assert_smooth_is(svg: &str, time: &[f64], fit: &[f64]) {
    let pts = polyline(path_d(svg, "smooth"));
    assert_eq!(pts.len(), time.len());
    let affine = |v: &[f64], px: &[f64]| {
        let (i, j) = (0, v.len() - 1);
        let (a, b) = (v[i], v[j]);
        let (pa, pb) = (px[i], px[j]);
        for (x, p) in v.iter().zip(px) {
            let want = pa + (x - a) / (b - a) * (pb - pa);
            assert!((want - p).abs() < 0.02, "{want} vs {p}");
        }
    };
    let xs: Vec<f64> = pts.iter().map(|p| p.0).collect();
    let ys: Vec<f64> = pts.iter().map(|p| p.1).collect();
    affine(time, &xs);
    // the fit varies, and higher values are drawn higher (smaller y)
    let (lo, hi) = (
        (0..fit.len())
            .min_by(|&a, &b| fit[a].total_cmp(&fit[b]))
            .unwrap(),
        (0..fit.len())
            .max_by(|&a, &b| fit[a].total_cmp(&fit[b]))
            .unwrap(),
    );
    assert!(ys[hi] < ys[lo]);
    let (fa, fb, pa, pb) = (fit[lo], fit[hi], ys[lo], ys[hi]);
    for (f, p) in fit.iter().zip(&ys) {
        let want = pa + (f - fa) / (fb - fa) * (pb - pa);
        assert!((want - p).abs() < 0.02, "{want} vs {p}");
    }
}

/// A smooth of 40 points over `[0, t_max]`, fit `a + b t`, ±`w`.
fn synthetic_smooth(t_max: f64, a: f64, b: f64, w: f64) -> PhSmooth {
    let time: Vec<f64> = (0..40).map(|i| t_max * i as f64 / 39.0).collect();
    let fit: Vec<f64> = time.iter().map(|t| a + b * t).collect();
    PhSmooth {
        x: (0..40).map(|i| i as f64 / 39.0).collect(),
        lower: fit.iter().map(|f| f - w).collect(),
        upper: fit.iter().map(|f| f + w).collect(),
        time,
        fit,
    }
}

#[test]
fn flagged_terms_get_dagger_and_residual_figure_iff_p_below_005() {
    let r = demo();
    let rep = default_report();
    let expected = expected_ph_figures(r);
    // the demo has flagged terms in univariable and multivariable models
    assert!(expected.contains(&"ph_pfs_prog_pmd".to_string()));
    assert!(expected.contains(&"ph_os_multivariable_prog_emd".to_string()));
    assert_eq!(ph_figure_names(rep), expected);
    assert!(rep.html.contains("\u{2020}</"));
    assert!(
        strip_tags(&rep.html).contains("p < 0.05: the proportional-hazards assumption is doubtful")
    );

    // nothing below 0.05: no dagger, no residual figure
    let mut calm = r.clone();
    let relax = |ph: &mut survstudy::analysis::survival::PhTest| {
        for t in ph.terms.iter_mut() {
            t.p = 0.5;
        }
        ph.global.p = 0.5;
    };
    for s in calm.survival.iter_mut() {
        if let Some(ph) = s.cox.as_mut().and_then(|c| c.ph_test.as_mut()) {
            relax(ph);
        }
    }
    for m in calm.multivariable.iter_mut() {
        if let Some(ph) = m.cox.as_mut().and_then(|c| c.ph_test.as_mut()) {
            relax(ph);
        }
    }
    let rep2 = build(&calm);
    assert!(ph_figure_names(&rep2).is_empty());
    // (the methods still explain the mark)
    assert!(!rep2.html.contains("\u{2020}</"));
    assert!(!rep2.html.contains("doubtful"));
    // the tables are still there
    assert!(strip_tags(&rep2.html).contains("PFS: proportional-hazards test of the multivariable"));

    // a PFS multivariable term made significant, with residuals: its figure
    let mut flag = calm.clone();
    let pfs = flag
        .multivariable
        .iter_mut()
        .find(|m| m.endpoint == "PFS")
        .unwrap();
    let ph = pfs.cox.as_mut().unwrap().ph_test.as_mut().unwrap();
    let term = ph
        .terms
        .iter()
        .find(|t| t.term == "age_at_infusion")
        .unwrap()
        .term
        .clone();
    ph.terms.iter_mut().find(|t| t.term == term).unwrap().p = 0.012;
    let time: Vec<f64> = (1..=40).map(|k| k as f64 * 0.6).collect();
    let beta_t: Vec<f64> = time
        .iter()
        .enumerate()
        .map(|(k, t)| 0.3 - 0.05 * t + if k % 2 == 0 { 0.8 } else { -0.8 })
        .collect();
    ph.flagged = vec![PhResiduals {
        term: term.clone(),
        time: time.clone(),
        n_events: time.len(),
        beta_t,
        coef: 0.021,
        bins: vec![],
        smooth: Some(synthetic_smooth(24.0, 0.3, -0.05, 0.4)),
    }];
    // a second term below 0.05 without residuals: dagger, no figure
    ph.terms.iter_mut().find(|t| t.term == "sex").unwrap().p = 0.03;
    let rep3 = build(&flag);
    assert_eq!(
        ph_figure_names(&rep3),
        vec!["ph_pfs_multivariable_age_at_infusion".to_string()]
    );
    assert_eq!(rep3.html.matches("0.012\u{2020}").count(), 1);
    assert_eq!(rep3.html.matches("0.030\u{2020}").count(), 1);
    let f = figure(&rep3, "ph_pfs_multivariable_age_at_infusion");
    assert!(f.caption.contains("scaled Schoenfeld residuals"));
    assert!(!f.caption.contains("LOWESS"));
    assert!(f.caption.contains("natural-spline smooth (ns, df = 4"));
    assert!(f.caption.contains("as R plot.cox.zph"));
    assert!(f.caption.contains("\u{b1}2 SE"));
    assert!(f.caption.contains("at each event"));
    assert!(!f.caption.contains("binned"));
    let sm = synthetic_smooth(24.0, 0.3, -0.05, 0.4);
    assert_smooth_is(&f.svg, &sm.time, &sm.fit);
    assert!(f.svg.contains("class=\"smooth-band\""));
    // one circle per event, the coefficient line, zero line and smooth
    let residual_path = f
        .svg
        .split("class=\"residual\"")
        .next()
        .unwrap()
        .rsplit("<path d=\"")
        .next()
        .unwrap();
    assert_eq!(residual_path.matches('Z').count(), time.len());
    assert!(f.svg.contains("class=\"coef-line\""));
    assert!(f.svg.contains("class=\"zero-line\""));
    assert!(f.svg.contains("class=\"smooth\""));
    assert!(f.svg.contains("Cox estimate \u{3b2} = 0.02"));
    assert!(f.svg.contains("chi-square"));
    assert!(f.svg.contains("p = 0.012"));
    assert!(svg_to_png(&f.svg, 30.0).is_ok());
}

#[test]
fn residual_figures_show_test_coefficient_and_time_axis() {
    let r = demo();
    let rep = default_report();
    let m = r.multivariable.iter().find(|m| m.endpoint == "OS").unwrap();
    let ph = m.cox.as_ref().unwrap().ph_test.as_ref().unwrap();
    let row = ph.terms.iter().find(|t| t.term == "prog_emd").unwrap();
    let res = ph.flagged.iter().find(|f| f.term == "prog_emd").unwrap();
    let f = figure(rep, "ph_os_multivariable_prog_emd");
    assert!(f.svg.contains(&format!(
        "chi-square {:.2} on 1 df, {}",
        row.chisq,
        p_eq(row.p)
    )));
    let coef = format!("{:.2}", res.coef).replace('-', "\u{2212}");
    assert!(f.svg.contains(&format!("Cox estimate \u{3b2} = {coef}")));
    assert!(f.svg.contains("Months from progression after CAR-T"));
    assert!(f.svg.contains("class=\"xtick\""));
    let n_pts = res
        .time
        .iter()
        .zip(&res.beta_t)
        .filter(|(t, b)| t.is_finite() && b.is_finite())
        .count();
    let residual_path = f
        .svg
        .split("class=\"residual\"")
        .next()
        .unwrap()
        .rsplit("<path d=\"")
        .next()
        .unwrap();
    assert_eq!(residual_path.matches('Z').count(), n_pts);
    // the smooth is the analysis' plot.cox.zph smooth: 40 points of its fit
    let sm = res.smooth.as_ref().expect("demo smooth");
    assert_eq!(sm.fit.len(), 40);
    assert_smooth_is(&f.svg, &sm.time, &sm.fit);
    assert!(f.svg.contains("class=\"smooth-band\""));
    assert!(!f.svg.contains("bin-median"));
    // a factor spanning several columns is referenced at 1 (joint term)
    let multi = figure(rep, "ph_os_emd_baseline_x_progression");
    assert!(multi.svg.contains("Reference value 1"));
    assert!(multi.caption.contains("3 design columns"));
}

#[test]
fn residual_figures_of_many_events_are_binned_and_small() {
    let mut r = demo().clone();
    let m = r
        .multivariable
        .iter_mut()
        .find(|m| m.endpoint == "OS")
        .unwrap();
    let ph = m.cox.as_mut().unwrap().ph_test.as_mut().unwrap();
    let res = ph
        .flagged
        .iter_mut()
        .find(|f| f.term == "prog_emd")
        .unwrap();
    let n = 20_000;
    res.time = (1..=n).map(|k| k as f64 * 36.0 / n as f64).collect();
    res.beta_t = (0..n)
        .map(|k| 0.4 - 0.01 * res.time[k] + if k % 3 == 0 { 1.5 } else { -0.75 })
        .collect();
    res.n_events = n;
    res.bins = ph_bins(&res.time, &res.beta_t, PH_BINS);
    res.smooth = Some(synthetic_smooth(36.0, 0.4, -0.01, 0.1));
    let rep = build(&r);
    let f = figure(&rep, "ph_os_multivariable_prog_emd");
    assert!(f
        .caption
        .contains("binned: 40 bins of equal event count (20000 events)"));
    assert!(!f.svg.contains("class=\"residual\""));
    assert_eq!(path_d(&f.svg, "bin-median").matches('Z').count(), 40);
    assert_eq!(path_d(&f.svg, "bin-iqr").matches('V').count(), 40);
    let sm = res_smooth(&r);
    assert_smooth_is(&f.svg, &sm.time, &sm.fit);
    // bounded size: nothing per event
    assert!(f.svg.len() < 40_000, "{} bytes", f.svg.len());
    // the same figure from the bounded results of a large run (the events
    // left out, `n_events`, bins and smooth kept: EventArrays::UpTo)
    let mut bounded = r.clone();
    let m = bounded
        .multivariable
        .iter_mut()
        .find(|m| m.endpoint == "OS")
        .unwrap();
    let ph = m.cox.as_mut().unwrap().ph_test.as_mut().unwrap();
    let b = ph
        .flagged
        .iter_mut()
        .find(|f| f.term == "prog_emd")
        .unwrap();
    b.time = vec![];
    b.beta_t = vec![];
    let again = figure(&build(&bounded), "ph_os_multivariable_prog_emd").clone();
    assert_eq!(again.svg, f.svg);
    assert_eq!(again.caption, f.caption);
    assert!(svg_to_png(&f.svg, 30.0).is_ok());
    if let Some(dir) = std::env::var_os("SURVSTUDY_REPORT_SAMPLES") {
        let png = svg_to_png(&f.svg, 300.0).expect("png");
        std::fs::create_dir_all(&dir).expect("sample dir");
        std::fs::write(Path::new(&dir).join("ph_binned.png"), png).expect("write png");
    }
    // the methods say when the residuals are binned
    assert!(strip_tags(&rep.html).contains("Above 2000 events the residuals are shown binned"));
}

fn res_smooth(r: &Results) -> PhSmooth {
    let m = r.multivariable.iter().find(|m| m.endpoint == "OS").unwrap();
    let ph = m.cox.as_ref().unwrap().ph_test.as_ref().unwrap();
    let res = ph.flagged.iter().find(|f| f.term == "prog_emd").unwrap();
    res.smooth.clone().unwrap()
}

// ---------------------------------------------------------------------------
// competing risks
// ---------------------------------------------------------------------------

#[test]
fn competing_risks_section_figure_and_table() {
    let r = demo();
    let rep = default_report();
    assert_eq!(r.competing_risks.len(), 1);
    let cr = &r.competing_risks[0];
    let h = &rep.html;
    // after PFS, before the multivariable models
    let cr_at = h.find(">Competing risks</h2>").expect("section");
    assert!(h.find(">Progression-free survival (PFS)</h2>").unwrap() < cr_at);
    assert!(cr_at < h.find(">Multivariable Cox models</h2>").unwrap());

    let f = figure(rep, "cif_nlp_by_emd_at_infusion");
    let svg = &f.svg;
    // Gray's test of cause 1 on the plot
    let g1 = cr.gray_test.iter().find(|g| g.cause == 1).unwrap();
    let want = p_eq(g1.p).replace('<', "&lt;");
    assert!(
        svg.contains(&format!("Gray&#39;s test {want}<")),
        "Gray p {want}"
    );
    // legend: N and events of cause 1 per group, incidence at 12 months
    for c in cr.curves.iter().filter(|c| c.cause == 1) {
        assert!(svg.contains(&format!(">{}<", c.n)));
        assert!(svg.contains(&format!(">{}<", c.events)));
        let a = c.at.iter().find(|a| a.time == 12.0).unwrap();
        let txt = pct_ci(a.est.unwrap(), a.lower.unwrap(), a.upper.unwrap());
        assert!(svg.contains(&txt), "{txt}");
    }
    assert!(svg.contains("At 12 months (95% CI)"));
    // one curve per group (cause 1 only), distinct dashes, bands (2 curves)
    assert_eq!(svg.matches("class=\"cif-curve\"").count(), 2);
    assert!(svg.contains("stroke-dasharray=\"7 4\""));
    assert!(svg.contains("ci-band"));
    // y axis 0-100%, month ticks as the KM figures
    assert!(svg.contains(">0%<") && svg.contains(">100%<"));
    for t in ["0", "6", "12", "18", "24", "30"] {
        assert!(svg.contains(&format!("class=\"xtick\">{t}<")), "tick {t}");
    }
    assert!(svg.contains("Months from progression after CAR-T"));
    // every curve starts at 0 and never goes down (largest SVG y first)
    for d in svg.split("class=\"cif-curve\"").take(2).map(|s| {
        s.rsplit("<path d=\"")
            .next()
            .unwrap()
            .split('"')
            .next()
            .unwrap()
    }) {
        let mut ys = vec![];
        let mut cur = String::new();
        let mut mode = ' ';
        let mut m_count = 0;
        for ch in d.chars().chain([' ']) {
            if ch.is_ascii_alphabetic() || ch == ' ' {
                if !cur.is_empty() {
                    let v: f64 = cur.parse().unwrap();
                    if mode == 'V' || (mode == 'M' && m_count == 1) {
                        ys.push(v);
                    }
                    if mode == 'M' {
                        m_count += 1;
                    }
                    cur.clear();
                }
                if ch.is_ascii_alphabetic() {
                    mode = ch;
                    m_count = 0;
                }
            } else {
                cur.push(ch);
            }
        }
        assert!(ys.len() > 5, "{d}");
        assert!(ys.windows(2).all(|w| w[1] <= w[0]), "not rising: {ys:?}");
    }
    assert!(f.caption.contains("Only cause 1 is drawn"));
    assert!(f.caption.contains("Aalen\u{2013}Johansen"));

    // the table: events by cause, incidence at each time for each cause,
    // Gray's test per cause
    let text = strip_tags(h);
    assert!(text
        .contains("NLP: events and cumulative incidence of each cause by EMD at CAR-T infusion."));
    assert!(
        text.contains("Cumulative incidence of Death without next-line progression, % (95% CI)")
    );
    for c in &cr.curves {
        for a in &c.at {
            let txt = pct_ci(a.est.unwrap(), a.lower.unwrap(), a.upper.unwrap());
            assert!(
                text.contains(&txt),
                "{} cause {} at {}: {txt}",
                c.group,
                c.cause,
                a.time
            );
        }
    }
    let row = |group: &str| {
        let n = cr.curves.iter().find(|c| c.group == group).unwrap().n;
        let e: Vec<String> = (1..=2)
            .map(|k| {
                cr.curves
                    .iter()
                    .find(|c| c.group == group && c.cause == k)
                    .unwrap()
                    .events
                    .to_string()
            })
            .collect();
        format!(" {group} {n} {} {} ", e[0], e[1])
    };
    assert!(text.contains(&row("no")), "{}", row("no"));
    assert!(text.contains(&row("yes")), "{}", row("yes"));
    assert!(text.contains("Gray's test, p"));
    for g in &cr.gray_test {
        assert!(text.contains(&format!(
            "{} (cause {}) chi-square {:.2} on {} df, {}",
            g.cause_label,
            g.cause,
            g.stat,
            g.df,
            p_eq(g.p)
        )));
    }
}

fn tiny_competing(label: &str) -> CompetingResult {
    let curve = |group: &str, cause: u32, est: Vec<f64>| CifCurveSummary {
        group: group.into(),
        cause,
        cause_label: format!("{label}{cause}"),
        n: 4,
        events: 2,
        time: vec![0.0, 1.0, 1.0, f64::NAN, 3.0, 3.0],
        est,
        lower: vec![0.0; 6],
        upper: vec![f64::NAN; 6],
        at: vec![CifAtTime {
            time: 2.0,
            est: Some(0.25),
            lower: None,
            upper: None,
        }],
    };
    CompetingResult {
        code: "X<1>".into(),
        label: format!("{label} label"),
        by: Some("arm".into()),
        by_label: Some(format!("{label} arm")),
        by_levels: vec![label.to_string(), "b".into()],
        causes: vec![format!("{label} relapse"), "death".into()],
        n: 8,
        n_missing: 1,
        curves: vec![
            curve(label, 1, vec![0.0, 0.0, 0.25, 0.3, 0.25, 0.5]),
            curve("b", 1, vec![0.0, 0.0, 0.1, 0.1, 0.1, 0.2]),
            curve(label, 2, vec![0.0; 6]),
        ],
        gray_test: vec![GraySummary {
            cause: 1,
            cause_label: format!("{label} relapse"),
            stat: 1.0,
            df: 1,
            p: f64::NAN,
        }],
        fine_gray: vec![],
        notes: vec![format!("{label} note")],
    }
}

#[test]
fn competing_risks_survive_odd_input_and_escape_labels() {
    let evil = "<script>alert(1)</script>";
    let mut r = demo().clone();
    r.competing_risks.push(tiny_competing(evil));
    // no estimates at all: a notice, no figure
    let mut empty = tiny_competing("e");
    empty.code = "EMPTY".into();
    empty.curves.clear();
    empty.by = None;
    r.competing_risks.push(empty);
    let rep = build(&r);
    assert!(!rep.html.to_ascii_lowercase().contains("<script"));
    assert!(rep.html.contains("&lt;script&gt;"));
    let f = figure(&rep, "cif_x_1_by_arm");
    assert!(!f.svg.to_ascii_lowercase().contains("<script"));
    assert!(svg_to_png(&f.svg, 30.0).is_ok());
    // the missing group of cause 2 shows as a dash, the NaN p as NA
    let text = strip_tags(&rep.html);
    assert!(text.contains("Gray's test, p NA"));
    assert!(text.contains("EMPTY: e note"));
    assert!(!rep.figures.iter().any(|f| f.name.starts_with("cif_empty")));
}

// ---------------------------------------------------------------------------
// RMST, landmark, methods
// ---------------------------------------------------------------------------

fn signed(x: f64, d: usize) -> String {
    let s = format!("{x:.d$}");
    match s.strip_prefix('-') {
        Some(rest) if rest.chars().any(|c| c.is_ascii_digit() && c != '0') => {
            format!("\u{2212}{rest}")
        }
        Some(rest) => rest.to_string(),
        None => s,
    }
}

#[test]
fn rmst_rows_and_footnotes() {
    let r = demo();
    let rep = default_report();
    let text = strip_tags(&rep.html);
    let with: Vec<_> = r.survival.iter().filter(|s| s.rmst.is_some()).collect();
    assert!(with.len() >= 10);
    for ep in &r.endpoints {
        assert!(text.contains(&format!(
            "{}: restricted mean survival time (RMST) up to \u{3c4} = 12 months",
            ep.endpoint
        )));
    }
    for s in &with {
        let rm = s.rmst.as_ref().unwrap();
        assert_eq!(rm.tau, 12.0);
        let g = |k: usize| {
            let g = &rm.groups[k];
            format!("{:.1} ({:.1}\u{2013}{:.1})", g.rmst, g.lower, g.upper)
        };
        let d = &rm.difference;
        let diff = format!(
            "{} ({} to {})",
            signed(d.estimate, 1),
            signed(d.lower, 1),
            signed(d.upper, 1)
        );
        let row = format!(
            "{} {}: {} {}: {} {diff} {}",
            s.grouping_label,
            rm.groups[0].label,
            g(0),
            rm.groups[1].label,
            g(1),
            format_p(d.p, 0.001)
        );
        assert!(text.contains(&row), "RMST row {row}");
        // and in the grouping's numbers-table footnote
        assert!(text.contains(&format!(
            "difference {} \u{2212} {} {diff} months, {}",
            rm.groups[1].label,
            rm.groups[0].label,
            p_eq(d.p)
        )));
    }
    assert!(text.contains("Restricted mean survival time (RMST) up to \u{3c4} = 12 months"));
}

#[test]
fn landmark_analyses_say_so() {
    let r = demo();
    let rep = default_report();
    let lm: Vec<_> = r.survival.iter().filter(|s| s.landmark.is_some()).collect();
    assert_eq!(lm.len(), 2);
    for s in &lm {
        let name = format!("{}_by_{}", s.endpoint.to_lowercase(), s.grouping);
        let f = figure(rep, &name);
        assert!(
            f.caption
                .contains("landmark at 3 months; time from the landmark"),
            "{}",
            f.caption
        );
        assert!(f.svg.contains("Months from the 3-month landmark"));
        assert!(f.svg.contains("landmark at 3 months"));
    }
    let text = strip_tags(&rep.html);
    assert!(text.contains(
        "OS by Next-line therapy (landmark at 3 months): landmark analysis (landmark at 3 months; time from the landmark)."
    ));
    assert!(text.contains("only patients still at risk for OS at 3 months are included"));
    // the landmark notes of the analysis are shown
    assert!(
        text.contains("still at risk at 3 months (") && text.contains("times from the landmark")
    );
    // a plain label gets the landmark in the figure title
    let mut r2 = r.clone();
    for s in r2.survival.iter_mut().filter(|s| s.landmark.is_some()) {
        s.grouping_label = "Next-line therapy".into();
    }
    let rep2 = build(&r2);
    let f = figure(&rep2, "os_by_next_line_category");
    assert!(f
        .svg
        .contains("OS by Next-line therapy (landmark at 3 months)"));
    // methods state the approach only when there is a landmark analysis
    let m = strip_tags(&rep.html);
    assert!(m.contains("Landmark analysis: comparisons by Next-line therapy"));
    assert!(m.contains("the clock was restarted at the landmark"));
    let mut r3 = r.clone();
    r3.survival.retain(|s| s.landmark.is_none());
    let m3 = strip_tags(&build(&r3).html);
    assert!(!m3.contains("Landmark analysis:"));
}

#[test]
fn methods_state_preset_ph_competing_and_rmst() {
    let rep = default_report();
    let text = strip_tags(&rep.html);
    for needle in [
        "The R conventions preset was used: log-transformed (log S(t)) Kaplan\u{2013}Meier confidence intervals and the Efron approximation",
        "Grambsch\u{2013}Therneau score test",
        "R survival 3.x cox.zph with the Kaplan\u{2013}Meier time transform",
        "Aalen\u{2013}Johansen estimator",
        "cmprsk variance",
        "Gray's test",
        "treating Death without next-line progression as a competing event",
        "restricted mean survival time (RMST) up to \u{3c4} = 12 months",
        "survRM2::rmst2",
    ] {
        assert!(text.contains(needle), "methods lack {needle:?}");
    }
    // conventions table rows
    for needle in ["PH test", "RMST", "Landmark", "Competing risks"] {
        assert!(text.contains(&format!(" {needle} ")), "{needle}");
    }
    // the SAS preset is described as such
    let mut r = demo().clone();
    r.conventions.preset = survstudy::analysis::Conventions::Sas;
    r.conventions.km_conf_type = survkit::km::ConfType::LogLog;
    r.conventions.cox_ties = survkit::cox::Ties::Breslow;
    let sas = strip_tags(&build(&r).html);
    assert!(sas.contains("The SAS conventions preset was used: log-log-transformed"));
    assert!(sas.contains("Breslow approximation"));
    assert!(sas.contains("SAS PROC LIFETEST and PROC PHREG"));
    // without PH tests, RMST and competing risks, no such sentences
    let mut bare = demo().clone();
    bare.competing_risks.clear();
    for s in bare.survival.iter_mut() {
        s.rmst = None;
        if let Some(c) = s.cox.as_mut() {
            c.ph_test = None;
        }
    }
    for m in bare.multivariable.iter_mut() {
        if let Some(c) = m.cox.as_mut() {
            c.ph_test = None;
        }
    }
    let b = build(&bare);
    let t = strip_tags(&b.html);
    assert!(!t.contains("The proportional-hazards assumption of every Cox model"));
    assert!(!t.contains(" PH test "));
    assert!(!t.contains("Aalen"));
    assert!(!t.contains("RMST"));
    assert!(!b
        .figures
        .iter()
        .any(|f| f.name.starts_with("ph_") || f.name.starts_with("cif_")));
    // a model whose PH test failed still gets a row saying so
    let t = strip_tags(&b.html);
    assert!(t.contains("not computed"));
}

#[test]
fn new_figures_rasterise_at_300_dpi() {
    let rep = default_report();
    for f in rep
        .figures
        .iter()
        .filter(|f| f.name.starts_with("cif_") || f.name == "ph_os_multivariable_prog_emd")
    {
        let png = svg_to_png(&f.svg, 300.0).unwrap();
        let (w, _) = survstudy::report::png_dimensions(&png).unwrap();
        assert_eq!(w, 2100, "{}", f.name);
    }
}

#[test]
fn bounded_event_arrays_keep_summaries_and_drop_only_large_arrays() {
    use survstudy::analysis::{AnalysisOptions, EventArrays};
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let table = survstudy::ingest::read_table(&root.join("assets/demo_cohort.csv"), None)
        .or_else(|_| {
            let c = survstudy::synth::generate(&Default::default()).expect("generate demo");
            let path =
                std::env::temp_dir().join(format!("survstudy_bounded_{}.csv", std::process::id()));
            std::fs::write(&path, survstudy::synth::to_csv_string(&c).expect("csv"))
                .expect("write demo");
            survstudy::ingest::read_table(&path, None)
        })
        .expect("read demo");
    let plan = survstudy::plan::Plan::builtin();
    let cohort = survstudy::derive::derive(&plan, &table, &Default::default()).expect("derive");
    let with = |event_arrays| {
        let opts = AnalysisOptions {
            event_arrays,
            ..Default::default()
        };
        survstudy::analysis::analyse(&plan, &cohort, &opts)
    };
    let flagged = |r: &Results| -> Vec<PhResiduals> {
        let s = r.survival.iter().filter_map(|s| s.cox.as_ref());
        let m = r.multivariable.iter().filter_map(|m| m.cox.as_ref());
        s.chain(m)
            .filter_map(|c| c.ph_test.as_ref())
            .flat_map(|p| p.flagged.clone())
            .collect()
    };
    let all = flagged(&with(EventArrays::All));
    assert!(!all.is_empty(), "the demo has flagged PH terms");
    // a limit between the smallest and largest plot keeps only the small ones
    let mut sizes: Vec<usize> = all.iter().map(|f| f.n_events).collect();
    sizes.sort_unstable();
    let limit = sizes[0];
    assert!(
        sizes[sizes.len() - 1] > limit,
        "plots of different sizes: {sizes:?}"
    );
    let bounded = flagged(&with(EventArrays::UpTo(limit)));
    assert_eq!(bounded.len(), all.len());
    for (a, b) in all.iter().zip(&bounded) {
        assert_eq!(a.time.len(), a.n_events);
        assert_eq!(
            (a.n_events, &a.term, &a.bins),
            (b.n_events, &b.term, &b.bins)
        );
        assert_eq!(a.smooth, b.smooth);
        if a.n_events <= limit {
            assert_eq!((&a.time, &a.beta_t), (&b.time, &b.beta_t));
        } else {
            assert!(b.time.is_empty() && b.beta_t.is_empty());
        }
    }
}
