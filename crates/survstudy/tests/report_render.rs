//! End-to-end checks of the report rendering layer: layout math visible in
//! the SVG, escaping, self-containment of the HTML and PNG rasterisation.
//!
//! Set `SURVSTUDY_REPORT_SAMPLES=/some/dir` to also write the sample
//! figures (SVG + 300 dpi PNG) and the HTML page there for a visual check.

use survstudy::report::*;

// ---------- tiny deterministic data + KM estimate for realistic figures ----------

struct Lcg(u64);
impl Lcg {
    fn uniform(&mut self) -> f64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((self.0 >> 11) as f64 + 0.5) / (1u64 << 53) as f64
    }
    fn exp(&mut self, mean: f64) -> f64 {
        -mean * self.uniform().ln()
    }
}

/// (time, event) pairs: exponential event times, uniform accrual censoring.
fn simulate(seed: u64, n: usize, median: f64, follow_up: f64) -> Vec<(f64, bool)> {
    let mut r = Lcg(seed);
    let mean = median / std::f64::consts::LN_2;
    (0..n)
        .map(|_| {
            let t = r.exp(mean);
            let c = follow_up * (0.3 + 0.7 * r.uniform());
            if t <= c {
                ((t * 100.0).round() / 100.0, true)
            } else {
                ((c * 100.0).round() / 100.0, false)
            }
        })
        .collect()
}

/// Kaplan–Meier with log-log CI, as the pipeline would hand it over.
fn km_group(label: &str, data: &[(f64, bool)]) -> KmPlotGroup {
    let mut d = data.to_vec();
    d.sort_by(|a, b| a.0.total_cmp(&b.0));
    let n = d.len() as u64;
    let mut times: Vec<f64> = d.iter().map(|x| x.0).collect();
    times.dedup();
    let (mut s, mut var) = (1.0f64, 0.0f64);
    let mut steps = KmSteps {
        time: vec![0.0],
        surv: vec![1.0],
        lower: vec![1.0],
        upper: vec![1.0],
    };
    let (mut ct, mut cs, mut table) = (vec![], vec![], vec![]);
    for &t in &times {
        let at_risk = d.iter().filter(|x| x.0 >= t).count() as f64;
        let ev = d.iter().filter(|x| x.0 == t && x.1).count() as f64;
        let cens = d.iter().filter(|x| x.0 == t && !x.1).count();
        table.push(RiskPoint {
            time: t,
            n_risk: at_risk as u64,
        });
        if ev > 0.0 {
            s *= 1.0 - ev / at_risk;
            if at_risk > ev {
                var += ev / (at_risk * (at_risk - ev));
            }
            let (lo, hi) = if s > 0.0 && s < 1.0 {
                let se = var.sqrt() / s.ln().abs();
                let z = 1.959964;
                (s.powf((z * se).exp()), s.powf((-z * se).exp()))
            } else {
                (f64::NAN, f64::NAN)
            };
            steps.time.push(t);
            steps.surv.push(s);
            steps.lower.push(lo);
            steps.upper.push(hi);
        }
        for _ in 0..cens {
            ct.push(t);
            cs.push(s);
        }
    }
    let first_below = |v: &[f64]| {
        steps
            .time
            .iter()
            .zip(v)
            .find(|(_, s)| **s <= 0.5)
            .map(|(t, _)| format!("{t:.1}"))
    };
    let med = first_below(&steps.surv);
    let median_text = match med {
        None => "NR".to_string(),
        Some(m) => format!(
            "{m} ({}\u{2013}{})",
            first_below(&steps.lower).unwrap_or("NR".into()),
            first_below(&steps.upper).unwrap_or("NR".into())
        ),
    };
    KmPlotGroup {
        label: label.to_string(),
        n,
        events: d.iter().filter(|x| x.1).count() as u64,
        median_text,
        steps,
        censor_times: ct,
        censor_surv: cs,
        at_risk: AtRisk::Table(table),
    }
}

fn sample_km(show_ci: bool) -> KmPlot {
    KmPlot {
        title: "Overall survival by first-line regimen".into(),
        x_label: "Months since progression".into(),
        y_label: "Overall survival".into(),
        groups: vec![
            km_group("Chemotherapy", &simulate(1, 80, 6.0, 30.0)),
            km_group("Chemo-immunotherapy", &simulate(2, 75, 11.0, 30.0)),
            km_group("Best supportive care", &simulate(3, 40, 3.0, 30.0)),
        ],
        pvalue_text: Some("Log-rank p = 0.0012".into()),
        show_ci,
        ..KmPlot::default()
    }
}

fn sample_forest() -> ForestPlot {
    ForestPlot {
        title: "Multivariable Cox model".into(),
        label_header: "Variable".into(),
        rows: vec![
            ForestRow::header("Regimen"),
            ForestRow::reference("Chemotherapy"),
            ForestRow::estimate(
                "Chemo-immunotherapy",
                0.58,
                0.41,
                0.83,
                &format_p(0.0029, 0.001),
            ),
            ForestRow::estimate(
                "Best supportive care",
                2.31,
                1.52,
                3.51,
                &format_p(0.00008, 0.001),
            ),
            ForestRow::header("Age"),
            ForestRow::estimate("per 10 years", 1.12, 0.97, 1.29, &format_p(0.12, 0.001)),
            ForestRow::header("ECOG performance status"),
            ForestRow::reference("0\u{2013}1"),
            ForestRow::estimate("\u{2265}2", 1.87, 1.21, 2.89, &format_p(0.0048, 0.001)),
            ForestRow::header("Histology"),
            ForestRow::reference("Adenocarcinoma"),
            ForestRow::estimate("Squamous", 1.05, 0.74, 1.49, &format_p(0.79, 0.001)),
            ForestRow::estimate("Other (n = 2)", f64::INFINITY, f64::NAN, f64::NAN, ""),
        ],
        left_note: Some("Lower hazard".into()),
        right_note: Some("Higher hazard".into()),
        ..ForestPlot::default()
    }
}

fn sample_flow() -> FlowDiagram {
    FlowDiagram {
        title: "Patient flow".into(),
        stages: vec![
            FlowStage {
                label: "Rows in chart-review export".into(),
                n: 212,
                excluded: vec![
                    FlowExclusion {
                        reason: "Duplicate patient record".into(),
                        n: 4,
                    },
                    FlowExclusion {
                        reason: "No documented date of progression on first-line therapy".into(),
                        n: 9,
                    },
                ],
            },
            FlowStage {
                label: "Patients with progression".into(),
                n: 199,
                excluded: vec![FlowExclusion {
                    reason: "Follow-up missing after progression".into(),
                    n: 4,
                }],
            },
            FlowStage {
                label: "Analysed".into(),
                n: 195,
                excluded: vec![],
            },
        ],
        ..FlowDiagram::default()
    }
}

// ---------- tiny SVG attribute reader ----------

/// `(x, text)` of every `<text>` element carrying `class="<class>"`.
fn texts_with_class(svg: &str, class: &str) -> Vec<(f64, String)> {
    let needle = format!("class=\"{class}\"");
    svg.split("<text ")
        .skip(1)
        .filter(|t| {
            let open = &t[..t.find('>').unwrap()];
            open.contains(&needle)
        })
        .map(|t| {
            let x = attr(t, "x").expect("text has x");
            let body = &t[t.find('>').unwrap() + 1..t.find("</text>").unwrap()];
            (x, body.to_string())
        })
        .collect()
}

fn attr(tag: &str, name: &str) -> Option<f64> {
    let key = format!(" {name}=\"");
    let tag = format!(" {tag}");
    let i = tag.find(&key)? + key.len();
    tag[i..i + tag[i..].find('"')?].parse().ok()
}

// ---------- tests ----------

#[test]
fn risk_table_numbers_sit_exactly_under_the_ticks() {
    let plot = sample_km(true);
    let style = PlotStyle::default();
    let svg = render_km_svg(&plot, &style);
    let ticks = texts_with_class(&svg, "xtick");
    let risk = texts_with_class(&svg, "risk");
    let layout = KmLayout::of(&plot, &style);
    assert_eq!(ticks.len(), layout.ticks.len());
    assert!(ticks.len() >= 4, "too few ticks: {ticks:?}");
    // one row per group, one number per tick, each at its tick's x
    assert_eq!(risk.len(), ticks.len() * plot.groups.len());
    for (k, (x, _)) in risk.iter().enumerate() {
        let tick_x = ticks[k % ticks.len()].0;
        assert_eq!(*x, tick_x, "risk number {k} is not under its tick");
    }
    // the first column is everyone (no event at t = 0)
    let first: Vec<&str> = risk
        .iter()
        .step_by(ticks.len())
        .map(|r| r.1.as_str())
        .collect();
    assert_eq!(first, ["80", "75", "40"]);
    // and the numbers never increase along a row
    for row in risk.chunks(ticks.len()) {
        let v: Vec<u64> = row.iter().map(|r| r.1.parse().unwrap()).collect();
        assert!(v.windows(2).all(|w| w[0] >= w[1]), "{v:?}");
    }
    // ticks are the calendar-friendly month steps, ending past follow-up
    let tick_values: Vec<f64> = ticks.iter().map(|t| t.1.parse().unwrap()).collect();
    assert_eq!(tick_values[0], 0.0);
    let step = tick_values[1];
    assert!([3.0, 6.0, 12.0].contains(&step), "{tick_values:?}");
    assert!(*tick_values.last().unwrap() >= 29.0);
}

#[test]
fn km_svg_structure() {
    let plot = sample_km(true);
    let svg = render_km_svg(&plot, &PlotStyle::default());
    assert!(svg.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""));
    assert_eq!(svg.matches("class=\"km-curve\"").count(), 3);
    let censored = plot
        .groups
        .iter()
        .filter(|g| !g.censor_times.is_empty())
        .count();
    assert!(censored >= 2);
    assert_eq!(svg.matches("class=\"censor\"").count(), censored);
    assert!(svg.matches("class=\"ci-band\"").count() >= 3);
    assert_eq!(svg.matches("class=\"legend-line\"").count(), 3);
    assert_eq!(texts_with_class(&svg, "ytick").len(), 6);
    assert_eq!(texts_with_class(&svg, "pvalue")[0].1, "Log-rank p = 0.0012");
    // solid, dashed and dotted curves for greyscale reading
    assert!(svg.contains("stroke-dasharray=\"7 4\""));
    assert!(svg.contains("stroke-dasharray=\"1.5 3\""));
    // Okabe-Ito colours
    for c in ["#0072B2", "#D55E00", "#009E73"] {
        assert!(svg.contains(c), "{c} missing");
    }
    // legend shows n, events and medians
    let legend = texts_with_class(&svg, "legend-text");
    assert!(legend.iter().any(|t| t.1 == "80"));
    assert!(legend.iter().any(|t| t.1 == plot.groups[0].median_text));
    // without CI: no band
    let svg = render_km_svg(&sample_km(false), &PlotStyle::default());
    assert_eq!(svg.matches("class=\"ci-band\"").count(), 0);
    // every number in the SVG is finite
    assert!(!svg.contains("NaN") && !svg.contains("inf"));
}

#[test]
fn km_suppresses_small_at_risk_counts_and_honours_fixed_ticks() {
    let mut plot = sample_km(false);
    plot.x_ticks = TickSpec::Fixed(vec![0.0, 12.0, 24.0, 36.0]);
    let style = PlotStyle {
        suppress_below: Some(11),
        y_scale: YScale::Proportion,
        ..PlotStyle::default()
    };
    let svg = render_km_svg(&plot, &style);
    let ticks: Vec<String> = texts_with_class(&svg, "xtick")
        .into_iter()
        .map(|t| t.1)
        .collect();
    assert_eq!(ticks, ["0", "12", "24", "36"]);
    let risk = texts_with_class(&svg, "risk");
    assert!(risk.iter().any(|r| r.1 == "&lt;11"));
    assert!(risk
        .iter()
        .all(|r| r.1 == "0" || r.1 == "&lt;11" || r.1.parse::<u64>().is_ok_and(|n| n >= 11)));
    assert_eq!(texts_with_class(&svg, "ytick")[5].1, "1.0");
}

#[test]
fn km_survives_degenerate_input() {
    let mut g = KmPlotGroup {
        label: "empty".into(),
        ..KmPlotGroup::default()
    };
    g.steps.time = vec![f64::NAN, -1.0];
    g.steps.surv = vec![0.5];
    g.censor_times = vec![f64::INFINITY];
    g.at_risk = AtRisk::AtTicks(vec![3]);
    let plot = KmPlot {
        groups: vec![g],
        pvalue_text: Some("p".into()),
        x_max: Some(f64::NAN),
        ..KmPlot::default()
    };
    let svg = render_km_svg(
        &plot,
        &PlotStyle {
            width: f64::NAN,
            font_size: -1.0,
            ..PlotStyle::default()
        },
    );
    assert!(!svg.contains("NaN"));
    assert!(svg_to_png(&svg, 96.0).is_ok());
    // no groups at all
    let svg = render_km_svg(&KmPlot::default(), &PlotStyle::default());
    assert!(svg_to_png(&svg, 96.0).is_ok());
}

#[test]
fn hostile_labels_are_escaped_everywhere() {
    let evil = "<script>alert(1)</script>";
    let mut km = sample_km(true);
    km.groups[0].label = evil.into();
    km.title = evil.into();
    km.pvalue_text = Some(evil.into());
    let km_svg = render_km_svg(&km, &PlotStyle::default());
    let mut forest = sample_forest();
    forest.rows[2].label = evil.into();
    forest.rows[2].p_text = "\"><script>".into();
    let forest_svg = render_forest_svg(&forest);
    let mut flow = sample_flow();
    flow.stages[0].excluded[0].reason = evil.into();
    for svg in [&km_svg, &forest_svg, &render_flow_svg(&flow)] {
        assert!(!svg.contains("<script"), "raw script tag in SVG");
        assert!(svg.contains("&lt;script&gt;"));
        // still valid XML for the rasteriser
        svg_to_png(svg, 48.0).expect("escaped SVG parses");
    }
    let page = ReportPage {
        title: evil.into(),
        subtitle: evil.into(),
        synthetic: true,
        facts: vec![Fact::new(evil, "http://example.org/data.csv")],
        toc: true,
        sections: vec![Section {
            heading: evil.into(),
            blocks: vec![
                Block::Paragraph(evil.into()),
                Block::Bullets(vec![evil.into()]),
                Block::Notice(evil.into()),
                Block::Preformatted(evil.into()),
                Block::Table(Table {
                    caption: evil.into(),
                    header: vec![vec![evil.into()]],
                    body: vec![vec![Cell::bold(evil)]],
                    footnote: Some(evil.into()),
                    ..Table::default()
                }),
                Block::Figure(Figure {
                    svg: km_svg.clone(),
                    caption: evil.into(),
                }),
                Block::FlowDiagram(flow),
            ],
        }],
        footer: evil.into(),
    };
    let html = render_html(&page);
    assert!(!html.to_ascii_lowercase().contains("<script"));
    assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(!html.contains("http://") && !html.contains("https://"));
}

#[test]
fn html_is_self_contained_and_complete() {
    let page = ReportPage {
        title: "Survival after progression".into(),
        subtitle: "Retrospective chart review".into(),
        synthetic: true,
        facts: vec![
            Fact::new("Data file", "export.xlsx"),
            Fact::new("SHA-256", "ab12"),
            Fact::new("Patients analysed", "195"),
        ],
        toc: true,
        sections: vec![
            Section {
                heading: "Cohort".into(),
                blocks: vec![Block::FlowDiagram(sample_flow())],
            },
            Section {
                heading: "Survival".into(),
                blocks: vec![
                    Block::Figure(Figure {
                        svg: render_km_svg(&sample_km(true), &PlotStyle::default()),
                        caption: "Kaplan\u{2013}Meier estimates".into(),
                    }),
                    Block::Figure(Figure {
                        svg: render_forest_svg(&sample_forest()),
                        caption: "Hazard ratios".into(),
                    }),
                ],
            },
        ],
        footer: "survstudy 0.1.0".into(),
    };
    let html = render_html(&page);
    let lower = html.to_ascii_lowercase();
    for bad in [
        "http://", "https://", "<script", "<link", "@import", "url(", "src=",
    ] {
        assert!(!lower.contains(bad), "HTML contains {bad}");
    }
    assert!(html.starts_with("<!DOCTYPE html>"));
    assert!(html.contains("<meta charset=\"utf-8\">"));
    assert_eq!(html.matches("<svg").count(), 3);
    assert_eq!(html.matches("<section").count(), 2);
    assert!(html.contains("Figure 3.</span> Hazard ratios"));
    assert!(html.contains("class=\"synthetic-banner\""));
    assert!(html.contains("<title>[SYNTHETIC DATA] Survival after progression</title>"));
    assert!(html.contains("@media print"));
    assert!(html.contains("break-before: page"));
    // a non-synthetic report has no banner
    let html = render_html(&ReportPage {
        synthetic: false,
        ..page
    });
    assert!(!html.contains("class=\"synthetic-banner\""));
}

#[test]
fn forest_axis_ticks_and_rows() {
    let forest = sample_forest();
    let svg = render_forest_svg(&forest);
    let ticks: Vec<String> = texts_with_class(&svg, "xtick")
        .into_iter()
        .map(|t| t.1)
        .collect();
    assert_eq!(ticks, ["0.25", "0.5", "1", "2", "4"]);
    // equal log spacing of the ticks
    let xs: Vec<f64> = texts_with_class(&svg, "xtick")
        .iter()
        .map(|t| t.0)
        .collect();
    let d = xs[3] - xs[2];
    assert!((xs[1] - xs[0] - d).abs() < 0.02 && (xs[4] - xs[3] - d).abs() < 0.02);
    assert_eq!(svg.matches("class=\"hr-marker\"").count(), 5);
    assert!(texts_with_class(&svg, "estimate")
        .iter()
        .any(|t| t.1 == "not estimable"));
    assert!(texts_with_class(&svg, "estimate")
        .iter()
        .any(|t| t.1 == "0.58 (0.41\u{2013}0.83)"));
    assert!(texts_with_class(&svg, "p")
        .iter()
        .any(|t| t.1 == "&lt;0.001"));
    assert_eq!(svg.matches("class=\"ref-line\"").count(), 1);
}

#[test]
fn png_at_300_dpi_has_expected_size_and_content() {
    let km_svg = render_km_svg(&sample_km(true), &PlotStyle::default());
    let forest_svg = render_forest_svg(&sample_forest());
    let flow_svg = render_flow_svg(&sample_flow());
    let mut two = sample_km(false);
    two.groups.truncate(2);
    two.title.clear();
    two.pvalue_text = Some("Log-rank p = 0.031".into());
    let km2_svg = render_km_svg(
        &two,
        &PlotStyle {
            y_scale: YScale::Proportion,
            ..PlotStyle::default()
        },
    );
    let out_dir = std::env::var_os("SURVSTUDY_REPORT_SAMPLES").map(std::path::PathBuf::from);
    for (name, svg) in [
        ("km", &km_svg),
        ("forest", &forest_svg),
        ("flow", &flow_svg),
        ("km_two_groups", &km2_svg),
    ] {
        let png = svg_to_png(svg, 300.0).unwrap();
        assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
        let (w, h) = png_dimensions(&png).unwrap();
        let sw = attr(&svg[4..], "width").unwrap();
        let sh = attr(&svg[4..], "height").unwrap();
        assert_eq!(w as f64, (sw * 300.0 / 96.0).ceil(), "{name} width");
        assert_eq!(h as f64, (sh * 300.0 / 96.0).ceil(), "{name} height");
        let px = resvg::tiny_skia::Pixmap::decode_png(&png).unwrap();
        let total = px.pixels().len();
        let ink = px
            .pixels()
            .iter()
            .filter(|p| p.red() < 200 || p.blue() < 200)
            .count();
        assert!(ink * 200 > total, "{name}: almost blank ({ink} of {total})");
        assert!(ink * 2 < total, "{name}: mostly ink ({ink} of {total})");
        if let Some(dir) = &out_dir {
            std::fs::create_dir_all(dir).unwrap();
            std::fs::write(dir.join(format!("{name}.png")), &png).unwrap();
            std::fs::write(dir.join(format!("{name}.svg")), svg).unwrap();
        }
    }
    if let Some(dir) = &out_dir {
        let page = ReportPage {
            title: "Sample report".into(),
            synthetic: true,
            toc: true,
            sections: vec![Section {
                heading: "Figures".into(),
                blocks: vec![
                    Block::FlowDiagram(sample_flow()),
                    Block::Figure(Figure {
                        svg: km_svg,
                        caption: "KM".into(),
                    }),
                    Block::Figure(Figure {
                        svg: forest_svg,
                        caption: "Forest".into(),
                    }),
                ],
            }],
            ..ReportPage::default()
        };
        std::fs::write(dir.join("report.html"), render_html(&page)).unwrap();
    }
}
