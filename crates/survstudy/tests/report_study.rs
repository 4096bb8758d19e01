//! The study report built from the demo cohort: sections, figures, number
//! formatting, escaping, self-containment, suppression, identifiers and the
//! files written by `write_report`.
//!
//! Set `SURVSTUDY_REPORT_SAMPLES=/some/dir` to also write the report there
//! for a visual check.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use survstudy::analysis::Results;
use survstudy::derive::ProblemKind;
use survstudy::flow::{Excluded, ExclusionCause};
use survstudy::report::study::{
    build_report, format_median, write_report, CiBands, Identifiers, ReportMeta, ReportOptions,
    StudyReport,
};
use survstudy::report::ReportError;

/// The demo cohort analysed with the built-in plan. Falls back to
/// generating the cohort when the embedded CSV is being regenerated.
fn demo() -> &'static Results {
    static R: OnceLock<Results> = OnceLock::new();
    R.get_or_init(|| {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut path: PathBuf = root.join("assets/demo_cohort.csv");
        if std::fs::metadata(&path).map_or(true, |m| m.len() == 0) {
            let c = survstudy::synth::generate(&Default::default()).expect("generate demo");
            let csv = survstudy::synth::to_csv_string(&c).expect("csv");
            path = std::env::temp_dir().join(format!("survstudy_demo_{}.csv", std::process::id()));
            std::fs::write(&path, csv).expect("write fallback demo");
        }
        let table = survstudy::ingest::read_table(&path, None).expect("read demo");
        let plan = survstudy::plan::Plan::builtin();
        let cohort = survstudy::derive::derive(&plan, &table, &Default::default()).expect("derive");
        survstudy::analysis::analyse(&plan, &cohort, &Default::default())
    })
}

fn cause(column: &str, kind: ProblemKind, summary: &str) -> ExclusionCause {
    ExclusionCause {
        column: Some(column.into()),
        kind,
        summary: summary.into(),
    }
}

fn meta() -> ReportMeta {
    ReportMeta {
        title: "Outcomes after progression following BCMA CAR-T therapy".into(),
        data_source: "/home/someone/secret/demo_cohort.csv".into(),
        sha256: "ab".repeat(32),
        run_date: "2025-06-30".into(),
        version: "0.1.0".into(),
        synthetic: true,
    }
}

fn build(r: &Results, opts: &ReportOptions) -> StudyReport {
    build_report(r, &meta(), opts).expect("build report")
}

fn default_report() -> &'static StudyReport {
    static R: OnceLock<StudyReport> = OnceLock::new();
    R.get_or_init(|| {
        let rep = build(demo(), &ReportOptions::default());
        if let Some(dir) = std::env::var_os("SURVSTUDY_REPORT_SAMPLES") {
            write_report(Path::new(&dir), &rep, 300.0).expect("write samples");
        }
        rep
    })
}

/// Text content of the page without tags, entities decoded.
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
}

#[test]
fn header_sections_and_banner() {
    let rep = default_report();
    let h = &rep.html;
    for needle in [
        "Outcomes after progression following BCMA CAR-T therapy",
        "SYNTHETIC DATA",
        "demo_cohort.csv",
        &"ab".repeat(32),
        "2025-06-30",
        "0.1.0",
        "106 analysed (106 rows read, 0 excluded)",
        ">Patient flow</h2>",
        ">Baseline characteristics</h2>",
        ">Progression patterns</h2>",
        ">Next-line therapy</h2>",
        ">Overall survival (OS)</h2>",
        ">Progression-free survival (PFS)</h2>",
        ">Competing risks</h2>",
        ">Multivariable Cox models</h2>",
        ">Methods</h2>",
        "not mutually exclusive",
        "Median follow-up (reverse Kaplan",
    ] {
        assert!(h.contains(needle), "missing {needle:?}");
    }
    // file name only: the directory of the input never appears
    assert!(!h.contains("/home/someone"));
    // without the synthetic flag there is no banner
    let real = build_report(
        demo(),
        &ReportMeta {
            synthetic: false,
            ..meta()
        },
        &ReportOptions::default(),
    )
    .unwrap();
    assert!(!real.html.contains("SYNTHETIC DATA"));
}

#[test]
fn every_figure_is_named_listed_and_inlined() {
    let rep = default_report();
    let names: Vec<&str> = rep.figures.iter().map(|f| f.name.as_str()).collect();
    let r = demo();
    let mut expected = vec!["flow".to_string()];
    for ep in &r.endpoints {
        let lc = ep.endpoint.to_lowercase();
        expected.push(format!("{lc}_overall"));
        for s in r.survival.iter().filter(|s| s.endpoint == ep.endpoint) {
            expected.push(format!("{lc}_by_{}", s.grouping));
        }
        expected.push(format!("forest_{lc}_univariable"));
        // scaled Schoenfeld residuals of univariable terms with PH p < 0.05
        for s in r.survival.iter().filter(|s| s.endpoint == ep.endpoint) {
            let Some(ph) = s.cox.as_ref().and_then(|c| c.ph_test.as_ref()) else {
                continue;
            };
            if ph
                .terms
                .iter()
                .any(|t| t.p < 0.05 && ph.flagged.iter().any(|f| f.term == t.term))
            {
                expected.push(format!("ph_{lc}_{}", s.grouping));
            }
        }
    }
    for c in &r.competing_risks {
        expected.push(format!(
            "cif_{}_by_{}",
            c.code.to_lowercase(),
            c.by.as_deref().unwrap()
        ));
    }
    for m in &r.multivariable {
        let lc = m.endpoint.to_lowercase();
        expected.push(format!("forest_multivariable_{lc}"));
        let ph = m.cox.as_ref().unwrap().ph_test.as_ref().unwrap();
        for t in ph.terms.iter().filter(|t| t.p < 0.05) {
            if ph.flagged.iter().any(|f| f.term == t.term) {
                expected.push(format!("ph_{lc}_multivariable_{}", t.term));
            }
        }
    }
    // the plan's [adjustment]: Love plot and one weighted KM per endpoint
    if let Some(a) = r.adjustment.as_ref().filter(|a| a.error.is_none()) {
        expected.push(format!("love_{}", a.exposure));
        for e in &a.endpoints {
            expected.push(format!(
                "{}_weighted_by_{}",
                e.endpoint.to_lowercase(),
                a.exposure
            ));
        }
    }
    let mut sorted_names = names.clone();
    sorted_names.sort();
    expected.sort();
    assert_eq!(sorted_names, expected);
    for n in [
        "flow",
        "os_overall",
        "pfs_overall",
        "os_by_emd_at_infusion",
        "pfs_by_emd_baseline_x_progression",
        "forest_os_univariable",
        "forest_multivariable_os",
        "forest_multivariable_pfs",
        "cif_nlp_by_emd_at_infusion",
        "ph_pfs_prog_pmd",
        "ph_os_multivariable_prog_emd",
    ] {
        assert!(names.contains(&n), "missing figure {n}");
    }
    // each figure is in the page exactly as numbered figures
    let n_fig = rep.html.matches("<span class=\"fig-no\">Figure ").count();
    assert_eq!(n_fig, rep.figures.len());
    assert_eq!(rep.html.matches("<svg").count(), rep.figures.len());
    assert!(!rep.html.contains("Figure omitted"));
    for f in &rep.figures {
        assert!(f.svg.starts_with("<svg") || f.svg.starts_with("<?xml"));
        assert!(!f.caption.is_empty());
    }
}

#[test]
fn km_figures_show_pvalue_legend_risk_table_and_bands_by_rule() {
    let rep = default_report();
    let r = demo();
    let fig = |n: &str| &rep.figures.iter().find(|f| f.name == n).unwrap().svg;
    let os = fig("os_by_emd_at_infusion");
    let s = r
        .survival
        .iter()
        .find(|s| s.endpoint == "OS" && s.grouping == "emd_at_infusion")
        .unwrap();
    // log-rank p on the plot, journal style
    let p = s.logrank.as_ref().unwrap().p;
    let p_txt = survstudy::report::format_p(p, 0.001);
    let want = match p_txt.strip_prefix('<') {
        Some(rest) => format!("Log-rank p &lt; {rest}"),
        None => format!("Log-rank p = {p_txt}"),
    };
    assert!(os.contains(&want), "{want} not in the figure");
    // legend with n and median (95% CI)
    for g in &s.groups {
        assert!(os.contains(&format!(">{}<", g.n)));
        let m = format_median(g.median, g.median_lower, g.median_upper);
        assert!(os.contains(&m), "median {m} not in the legend");
    }
    assert!(os.contains("Number at risk"));
    assert!(os.contains("class=\"risk\""));
    assert!(os.contains("Months from progression after CAR-T"));
    // two groups: bands (Auto); four groups: none
    assert!(os.contains("ci-band"));
    let four = fig("os_by_emd_baseline_x_progression");
    assert!(four.contains("km-curve"));
    assert!(!four.contains("ci-band"));
    // Always / Never override
    let always = build(
        r,
        &ReportOptions {
            ci_bands: CiBands::Always,
            ..ReportOptions::default()
        },
    );
    let never = build(
        r,
        &ReportOptions {
            ci_bands: CiBands::Never,
            ..ReportOptions::default()
        },
    );
    let get = |rep: &StudyReport, n: &str| {
        rep.figures
            .iter()
            .find(|f| f.name == n)
            .unwrap()
            .svg
            .clone()
    };
    assert!(get(&always, "os_by_emd_baseline_x_progression").contains("ci-band"));
    assert!(!get(&never, "os_by_emd_at_infusion").contains("ci-band"));
}

#[test]
fn numbers_tables_carry_medians_landmarks_hr_and_logrank() {
    let rep = default_report();
    let text = strip_tags(&rep.html);
    let r = demo();
    let s = r
        .survival
        .iter()
        .find(|s| s.endpoint == "OS" && s.grouping == "emd_at_infusion")
        .unwrap();
    let t = &s.cox.as_ref().unwrap().terms[0];
    let hr =
        survstudy::report::format_hr_ci(t.hr.unwrap(), t.hr_lower.unwrap(), t.hr_upper.unwrap(), 2);
    assert!(text.contains(&hr), "HR {hr}");
    assert!(text.contains("1 (reference)"));
    let lm = &s.groups[0].landmarks[0];
    let lm_txt = format!(
        "{:.0}% ({:.0}\u{2013}{:.0})",
        100.0 * lm.surv.unwrap(),
        100.0 * lm.lower.unwrap(),
        100.0 * lm.upper.unwrap()
    );
    assert!(text.contains(&lm_txt), "landmark {lm_txt}");
    assert!(text.contains("Survival (95% CI)"));
    assert!(text.contains(" 6 mo ") && text.contains(" 12 mo "));
    assert!(text.contains("Log-rank test: chi-square"));
    // an upper limit that is not reached shows as NR
    assert!(r
        .survival
        .iter()
        .any(|s| s.groups.iter().any(|g| g.median_upper.is_none())));
    assert!(text.contains("\u{2013}NR)"));
}

#[test]
fn not_reached_median_is_nr() {
    let mut r = demo().clone();
    let s = r
        .survival
        .iter_mut()
        .find(|s| s.endpoint == "OS" && s.grouping == "emd_at_infusion")
        .unwrap();
    s.groups[0].median = None;
    s.groups[0].median_upper = None;
    let lo = s.groups[0].median_lower.unwrap();
    let rep = build(&r, &ReportOptions::default());
    let want = format!("NR ({lo:.1}\u{2013}NR)");
    assert!(strip_tags(&rep.html).contains(&want));
    let fig = &rep
        .figures
        .iter()
        .find(|f| f.name == "os_by_emd_at_infusion")
        .unwrap()
        .svg;
    assert!(fig.contains(&want));
}

#[test]
fn p_values_are_journal_style_with_configurable_floor() {
    let mut r = demo().clone();
    let s = r
        .survival
        .iter_mut()
        .find(|s| s.endpoint == "OS" && s.grouping == "emd_at_infusion")
        .unwrap();
    s.logrank.as_mut().unwrap().p = 0.000_42;
    let s2 = r
        .survival
        .iter_mut()
        .find(|s| s.endpoint == "OS" && s.grouping == "pmd_at_infusion")
        .unwrap();
    s2.logrank.as_mut().unwrap().p = 0.012_345;
    let rep = build(&r, &ReportOptions::default());
    let fig = |rep: &StudyReport, n: &str| {
        rep.figures
            .iter()
            .find(|f| f.name == n)
            .unwrap()
            .svg
            .clone()
    };
    assert!(fig(&rep, "os_by_emd_at_infusion").contains("Log-rank p &lt; 0.001"));
    assert!(fig(&rep, "os_by_pmd_at_infusion").contains("Log-rank p = 0.012<"));
    let fine = build(
        &r,
        &ReportOptions {
            p_floor: 0.0001,
            ..ReportOptions::default()
        },
    );
    assert!(fig(&fine, "os_by_emd_at_infusion").contains("Log-rank p = 0.00042<"));
    // Table 1 p-values: two significant figures and the test footnote
    let text = strip_tags(&rep.html);
    assert!(text.contains("Fisher's exact test"));
    assert!(text.contains("Pearson's chi-square test"));
    assert!(text.contains("Wilcoxon rank-sum test"));
    assert!(!text.contains("0.0309256"), "p-values must be rounded");
    // invalid floor
    assert!(matches!(
        build_report(
            &r,
            &meta(),
            &ReportOptions {
                p_floor: 0.0,
                ..ReportOptions::default()
            }
        ),
        Err(ReportError::InvalidOption { .. })
    ));
}

#[test]
fn markup_in_labels_is_escaped_everywhere() {
    let mut r = demo().clone();
    let evil = "<script>alert(1)</script>";
    for s in r.survival.iter_mut() {
        s.groups[0].label = evil.to_string();
        if let Some(c) = s.cox.as_mut() {
            for t in c.terms.iter_mut() {
                t.reference = Some(evil.to_string());
            }
        }
    }
    r.survival[0].grouping_label = format!("{evil} \"quoted\" & 'apos'");
    if let Some(t) = r.table1.as_mut() {
        t.rows[0].label = evil.to_string();
        t.by_levels[0] = evil.to_string();
    }
    r.patterns.rows[0].label = evil.to_string();
    r.flow.excluded.push(Excluded {
        line: 7,
        patient_id: Some(evil.to_string()),
        reason: format!("sex '{evil}': not one of: F, M"),
        causes: vec![cause(
            "sex",
            ProblemKind::BadCategory,
            "sex: not one of: F, M",
        )],
    });
    r.flow.rows_read += 1;
    let rep = build(
        &r,
        &ReportOptions {
            show_identifiers: Identifiers::Shown,
            ..ReportOptions::default()
        },
    );
    let lower = rep.html.to_ascii_lowercase();
    assert!(!lower.contains("<script"), "raw script tag in the page");
    assert!(rep.html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(
        !rep.html.contains("Figure omitted"),
        "every figure still inlines"
    );
    for f in &rep.figures {
        assert!(
            !f.svg.to_ascii_lowercase().contains("<script"),
            "{}",
            f.name
        );
    }
    // and the figures still rasterise
    let km = rep
        .figures
        .iter()
        .find(|f| f.name == "os_by_emd_at_infusion")
        .unwrap();
    assert!(survstudy::report::svg_to_png(&km.svg, 30.0).is_ok());
}

#[test]
fn page_is_self_contained() {
    let h = &default_report().html;
    let lower = h.to_ascii_lowercase();
    assert!(!lower.contains("http://") && !lower.contains("https://"));
    for bad in [
        "<script", "<link", "<img", "<iframe", "src=", "url(", "@import",
    ] {
        assert!(!lower.contains(bad), "{bad} in page");
    }
}

#[test]
fn small_counts_are_suppressed() {
    let r = demo();
    let opts = ReportOptions {
        suppress_below: Some(11),
        ..ReportOptions::default()
    };
    let rep = build(r, &opts);
    let text = strip_tags(&rep.html);
    // 10 patients had EMD at baseline only (cross-table) and 10 in that KM group
    let cross = r.patterns.cross_table.as_ref().unwrap();
    assert!(cross.counts.iter().flatten().any(|&c| c > 0 && c < 11));
    assert!(text.contains("<11"));
    // no cell of the cross-table shows a small count
    let unsup = build(r, &ReportOptions::default());
    let small: Vec<usize> = cross
        .counts
        .iter()
        .flatten()
        .copied()
        .filter(|&c| c > 0 && c < 11)
        .collect();
    assert!(!small.is_empty());
    // risk tables and legends of the 4-level KM figure
    let four = &rep
        .figures
        .iter()
        .find(|f| f.name == "os_by_emd_baseline_x_progression")
        .unwrap()
        .svg;
    assert!(four.contains("&lt;11"));
    let risk_nums: Vec<u64> = four
        .split("class=\"risk\"")
        .skip(1)
        .filter_map(|s| s.split('>').nth(1)?.split('<').next()?.parse().ok())
        .collect();
    assert!(!risk_nums.is_empty());
    assert!(
        risk_nums.iter().all(|&n| n == 0 || n >= 11),
        "{risk_nums:?}"
    );
    // the same numbers appear unsuppressed without the option
    let four_u = &unsup
        .figures
        .iter()
        .find(|f| f.name == "os_by_emd_baseline_x_progression")
        .unwrap()
        .svg;
    assert!(!four_u.contains("&lt;11"));
    // flow: an exclusion count below the threshold
    let mut r2 = r.clone();
    r2.flow.excluded.push(Excluded {
        line: 12,
        patient_id: Some("P-0999".into()),
        reason: "progression_date '2021-13-01': not a valid date".into(),
        causes: vec![cause(
            "progression_date",
            ProblemKind::BadDate,
            "progression_date: not a valid date",
        )],
    });
    let rep2 = build(&r2, &opts);
    let flow = &rep2.figures.iter().find(|f| f.name == "flow").unwrap().svg;
    assert!(flow.contains("n = &lt;11"));
    assert!(!flow.contains("n = 1<"));
}

#[test]
fn identifiers_hidden_by_default_and_shown_on_request() {
    let mut r = demo().clone();
    r.flow.rows_read += 2;
    r.flow.excluded = vec![
        Excluded {
            line: 5,
            patient_id: Some("PT-SECRET-17".into()),
            reason: "progression_date '2021-13-01': not a valid date".into(),
            causes: vec![cause(
                "progression_date",
                ProblemKind::BadDate,
                "progression_date: not a valid date",
            )],
        },
        Excluded {
            line: 9,
            patient_id: Some("PT-SECRET-42".into()),
            reason: "patient_id 'PT-SECRET-42': duplicate patient_id: also on line 3; sex 'X': not one of: F, M"
                .into(),
            causes: vec![
                cause("patient_id", ProblemKind::DuplicateId, "patient_id: duplicate patient_id"),
                cause("sex", ProblemKind::BadCategory, "sex: not one of: F, M"),
            ],
        },
    ];
    let hidden = build(&r, &ReportOptions::default());
    assert!(!hidden.html.contains("PT-SECRET"));
    assert!(
        !hidden.html.contains("2021-13-01"),
        "cell values hidden too"
    );
    assert!(hidden.figures.iter().all(|f| !f.svg.contains("PT-SECRET")));
    let text = strip_tags(&hidden.html);
    assert!(text.contains("progression_date: not a valid date"));
    assert!(text.contains("patient_id: duplicate patient_id; sex: not one of: F, M"));
    assert!(
        text.contains(" 5 ") && text.contains(" 9 "),
        "line numbers listed"
    );
    let shown = build(
        &r,
        &ReportOptions {
            show_identifiers: Identifiers::Shown,
            ..ReportOptions::default()
        },
    );
    assert!(shown.html.contains("PT-SECRET-17"));
    assert!(shown.html.contains("PT-SECRET-42"));
    assert!(shown.html.contains("Patient ID"));
    // the flow diagram counts reasons either way
    let flow = &shown.figures.iter().find(|f| f.name == "flow").unwrap().svg;
    assert!(flow.contains("Excluded (n = 2)"));
}

#[test]
fn methods_state_every_convention() {
    let rep = default_report();
    let r = demo();
    let text = strip_tags(&rep.html);
    let c = &r.conventions;
    for needle in [
        "Time zero was the date of progression after CAR-T (progression_date)",
        "censored at the date of last follow-up (last_followup_date)",
        "30.4375",
        "Kaplan\u{2013}Meier method",
        "log scale",
        "Brookmeyer\u{2013}Crowley",
        "reverse Kaplan\u{2013}Meier",
        "log-rank",
        "Efron",
        "complete-case",
        "two-sided",
        c.software.as_str(),
        "Overall survival from post-CAR-T progression",
        "The R conventions preset was used",
        "Grambsch\u{2013}Therneau score test",
        "cox.zph",
        "Kaplan\u{2013}Meier time transform",
        "Aalen\u{2013}Johansen",
        "cmprsk",
        "Gray's test",
        "\u{3c4} = 12 months",
        "survRM2",
        "clock was restarted at the landmark",
    ] {
        assert!(text.contains(needle), "methods lack {needle:?}");
    }
    assert!(text.contains(&c.table1_tests));
}

#[test]
fn write_report_writes_page_svg_and_png() {
    let rep = default_report();
    let dir = std::env::temp_dir().join(format!("survstudy_report_test_{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    // a few figures at low dpi keep the test quick; the full set at 300 dpi
    // is exercised by the browser test and the pipeline
    let small = StudyReport {
        html: rep.html.clone(),
        figures: rep
            .figures
            .iter()
            .filter(|f| {
                ["flow", "os_by_emd_at_infusion", "forest_multivariable_os"]
                    .contains(&f.name.as_str())
            })
            .cloned()
            .collect(),
    };
    write_report(&dir, &small, 300.0).unwrap();
    assert_eq!(
        std::fs::read_to_string(dir.join("index.html")).unwrap(),
        rep.html
    );
    for f in &small.figures {
        let svg =
            std::fs::read_to_string(dir.join("figures").join(format!("{}.svg", f.name))).unwrap();
        assert_eq!(svg, f.svg);
        let png = std::fs::read(dir.join("figures").join(format!("{}.png", f.name))).unwrap();
        assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
        let (w, _h) = survstudy::report::png_dimensions(&png).unwrap();
        // 672 CSS px = 7 in -> 2100 px at 300 dpi (forest/flow widths differ)
        if f.name.starts_with("os_") {
            assert_eq!(w, 2100);
        }
    }
    // unsafe names and bad dpi are refused before anything is written
    let mut bad = small.clone();
    bad.figures[0].name = "../escape".into();
    let dir2 = dir.join("bad");
    assert!(matches!(
        write_report(&dir2, &bad, 300.0),
        Err(ReportError::InvalidOption { .. })
    ));
    assert!(!dir2.exists());
    assert!(matches!(
        write_report(&dir2, &small, f32::NAN),
        Err(ReportError::InvalidDpi(_))
    ));
    let _ = std::fs::remove_dir_all(&dir);
}
