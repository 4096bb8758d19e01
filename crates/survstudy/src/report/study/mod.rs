//! The study report: assembles one self-contained HTML page (plus every
//! figure as SVG and PNG) from the [`Results`] of a run.
//!
//! Sections, in order: patient flow; baseline characteristics (Table 1 by
//! the plan's grouping); progression patterns; next-line therapy; one
//! section per endpoint (overall Kaplan–Meier curve, median follow-up, a
//! Kaplan–Meier figure and a numbers table per grouping, a forest plot of
//! the univariable hazard ratios); the multivariable Cox models; methods
//! (generated from `results.conventions`); conventions used.
//!
//! Every string from the data or the plan is escaped by the rendering layer
//! ([`render_html`], the SVG writers). Counts can be suppressed below a
//! threshold ([`ReportOptions::suppress_below`]); patient identifiers are
//! only shown on request ([`Identifiers::Shown`]).

use std::collections::BTreeMap;
use std::path::Path;

use crate::analysis::competing::CompetingResult;
use crate::analysis::survival::{
    CoxSummary, CoxTermSummary, GroupSummary, PhResiduals, PhRow, PhTest, RmstSummary,
    SurvivalByGroup, PH_BINS,
};
use crate::analysis::table1::{NumSummary, Table1};
use crate::analysis::{EndpointOverall, Multivariable, Results};

use crate::report::chart::cif::{render_cif_svg, CifPlot, CifPlotGroup, CifSteps};
use crate::report::chart::ph_residuals::{
    render_ph_residuals_svg, PhResidualBin, PhResidualPlot, PhSmoothLine, MAX_EVENT_POINTS,
};
use crate::report::text::{format_sig, num_text, text_width};
use crate::report::{
    format_hr_ci, format_p_with, render_flow_svg, render_forest_svg, render_html, render_km_svg,
    suppress, svg_to_png, Align, AtRisk, Block, Cell, Fact, Figure, FlowDiagram, FlowExclusion,
    FlowStage, ForestPlot, ForestRow, KmPlot, KmPlotGroup, KmSteps, PFormat, PlotStyle,
    ReportError, ReportPage, RiskPoint, Section, Table, TickSpec,
};

mod ctx;
mod fmt;
mod labels;
mod prose;
pub(crate) mod sections;

use ctx::*;
pub use fmt::format_median;
use fmt::*;
use labels::*;
use prose::*;
#[allow(unused_imports)]
use sections::*;

/// Whether patient identifiers appear in the report.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Identifiers {
    /// Excluded rows are listed by input line and a generic reason (cell
    /// values, which may identify a patient, are left out).
    #[default]
    Hidden,
    /// Excluded rows also show the patient id and the full reason with the
    /// offending cell values.
    Shown,
}

/// When Kaplan–Meier figures get stepped confidence bands.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum CiBands {
    /// Bands on figures with at most two curves (overall curves and yes/no
    /// comparisons); none with three or more curves, where overlapping
    /// bands make the figure unreadable.
    #[default]
    Auto,
    /// Bands on every figure.
    Always,
    /// No bands.
    Never,
}

impl CiBands {
    pub(crate) fn show(self, curves: usize) -> bool {
        match self {
            CiBands::Auto => curves <= 2,
            CiBands::Always => true,
            CiBands::Never => false,
        }
    }
}

/// Facts about the run printed in the header of the report.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ReportMeta {
    /// Study title (the plan's study name).
    pub title: String,
    /// Name of the input file (a path is reduced to its file name).
    pub data_source: String,
    /// SHA-256 of the input bytes, hex.
    pub sha256: String,
    /// Run date as the caller wants it printed (e.g. ISO `2025-06-30`).
    pub run_date: String,
    /// survstudy version.
    pub version: String,
    /// The data are synthetic: a prominent banner is shown.
    pub synthetic: bool,
}

/// Options of [`build_report`].
#[derive(Debug, Clone, PartialEq)]
pub struct ReportOptions {
    /// Patient identifiers in the list of excluded rows.
    pub show_identifiers: Identifiers,
    /// Small-cell suppression: counts `1..N` are shown as `<N` in tables,
    /// the flow diagram, figure legends and number-at-risk tables (and
    /// their percentages are left out). `None` shows every count.
    pub suppress_below: Option<u64>,
    /// p-values below this are shown as `<p_floor` (finite, in `(0, 0.5]`).
    pub p_floor: f64,
    /// Confidence bands on Kaplan–Meier figures.
    pub ci_bands: CiBands,
    /// Number-at-risk table under every Kaplan–Meier figure.
    pub risk_table: bool,
    /// Table of contents at the top of the page.
    pub toc: bool,
}

impl Default for ReportOptions {
    fn default() -> Self {
        ReportOptions {
            show_identifiers: Identifiers::Hidden,
            suppress_below: None,
            p_floor: 0.001,
            ci_bands: CiBands::Auto,
            risk_table: true,
            toc: true,
        }
    }
}

/// One figure of the report, also written as `figures/<name>.svg|png`.
#[derive(Debug, Clone, PartialEq)]
pub struct ReportFigure {
    /// File stem, e.g. `os_by_emd_at_infusion` (lowercase ASCII letters,
    /// digits and `_` only).
    pub name: String,
    /// Caption as in the page (without the "Figure N." prefix).
    pub caption: String,
    /// Standalone SVG document.
    pub svg: String,
}

/// The rendered report.
#[derive(Debug, Clone, PartialEq)]
pub struct StudyReport {
    /// The self-contained HTML page.
    pub html: String,
    /// Every figure of the page, in page order.
    pub figures: Vec<ReportFigure>,
}

/// Builds the study report page and its figures.
///
/// Fails only on invalid options (`p_floor` not finite or outside
/// `(0, 0.5]`); any content of `results` (empty groups, missing estimates,
/// markup in labels) is rendered.
pub fn build_report(
    results: &Results,
    meta: &ReportMeta,
    opts: &ReportOptions,
) -> Result<StudyReport, ReportError> {
    if !(opts.p_floor.is_finite() && opts.p_floor > 0.0 && opts.p_floor <= 0.5) {
        return Err(ReportError::InvalidOption {
            name: "p_floor",
            message: format!("{} is not a finite value in (0, 0.5]", opts.p_floor),
        });
    }
    let mut b = Builder {
        r: results,
        opts,
        f: Fmt {
            opts,
            pf: PFormat {
                floor: opts.p_floor,
                ..PFormat::default()
            },
        },
        labels: label_map(results),
        figures: vec![],
        unit: results.conventions.time_unit.name().to_string(),
        origin: None,
    };
    let mut sections = vec![b.flow_section()];
    if let Some(t) = &results.table1 {
        sections.push(b.table1_section(t));
    }
    sections.extend(b.summary_sections());
    for ep in &results.endpoints {
        sections.push(b.with_endpoint(&ep.endpoint, |b| b.endpoint_section(ep)));
    }
    if let Some(s) = b.competing_section() {
        sections.push(s);
    }
    if let Some(s) = b.multivariable_section() {
        sections.push(s);
    }
    if let Some(s) = b.adjustment_section() {
        sections.push(s);
    }
    if let Some(s) = b.time_dependent_section() {
        sections.push(s);
    }
    if let Some(s) = b.subgroups_section() {
        sections.push(s);
    }
    sections.push(b.methods_section());

    let facts = header_facts(results, meta, &b.f, &b.unit);
    let title = if meta.title.trim().is_empty() {
        results.study.clone()
    } else {
        meta.title.clone()
    };
    let page = ReportPage {
        title,
        subtitle: "Survival analysis report".to_string(),
        synthetic: meta.synthetic,
        facts,
        toc: opts.toc,
        sections,
        footer: format!(
            "Generated by survstudy {} on {}. Input {} (SHA-256 {}). Every number on this page is also in results.json.",
            meta.version, meta.run_date, meta.data_source.rsplit(['/', '\\']).next().unwrap_or(""), meta.sha256
        ),
    };
    Ok(StudyReport {
        html: render_html(&page),
        figures: b.figures,
    })
}

/// The key facts in the page header: input, run, patient counts, each
/// endpoint's events and median, and the conventions.
fn header_facts(results: &Results, meta: &ReportMeta, f: &Fmt, unit: &str) -> Vec<Fact> {
    let source = meta
        .data_source
        .rsplit(['/', '\\'])
        .next()
        .unwrap_or("")
        .to_string();
    let flow = &results.flow;
    let mut facts = vec![
        Fact::new("Data source", source),
        Fact::new("SHA-256 of input", meta.sha256.clone()),
        Fact::new("Run date", meta.run_date.clone()),
        Fact::new("survstudy version", meta.version.clone()),
        Fact::new(
            "Patients",
            format!(
                "{} analysed ({} rows read, {} excluded)",
                f.count(flow.analysed),
                f.count(flow.rows_read),
                f.count(flow.excluded.len())
            ),
        ),
    ];
    for ep in &results.endpoints {
        facts.push(Fact::new(
            format!("{} events", ep.endpoint),
            format!(
                "{} of {}; median {} {}",
                f.count(ep.overall.events),
                f.count(ep.overall.n),
                format_median(
                    ep.overall.median,
                    ep.overall.median_lower,
                    ep.overall.median_upper
                ),
                ep.time_unit.map_or(unit, |u| u.name())
            ),
        ));
    }
    facts.push(Fact::new(
        "Conventions",
        format!(
            "{} preset ({} Kaplan\u{2013}Meier CI, {} ties)",
            preset_name(results.conventions.preset),
            results.conventions.km_conf_type.as_str(),
            ties_name(results.conventions.cox_ties)
        ),
    ));
    facts
}

fn io_err(path: &Path, e: std::io::Error) -> ReportError {
    ReportError::Io {
        path: path.display().to_string(),
        message: e.to_string(),
    }
}

/// Writes `dir/index.html` and, for every figure, `dir/figures/<name>.svg`
/// and `dir/figures/<name>.png` rasterised at `dpi` (300 for journals).
/// Creates the directories as needed. Figure names must be lowercase
/// ASCII letters, digits, `_` or `-` (as [`build_report`] makes them).
pub fn write_report(dir: &Path, report: &StudyReport, dpi: f32) -> Result<(), ReportError> {
    if !dpi.is_finite() || dpi <= 0.0 || dpi > 2400.0 {
        return Err(ReportError::InvalidDpi(dpi));
    }
    if let Some(f) = report.figures.iter().find(|f| !valid_figure_name(&f.name)) {
        return Err(ReportError::InvalidOption {
            name: "figure name",
            message: format!("{:?} is not a safe file name", f.name),
        });
    }
    // rasterise first so that a bad figure leaves nothing half-written; on
    // every core (each figure is independent, the bytes are the same)
    let pngs: Vec<Vec<u8>> = crate::analysis::par_map(&report.figures, |f| svg_to_png(&f.svg, dpi))
        .into_iter()
        .collect::<Result<_, _>>()?;
    let fig_dir = dir.join("figures");
    std::fs::create_dir_all(&fig_dir).map_err(|e| io_err(&fig_dir, e))?;
    for (f, png) in report.figures.iter().zip(&pngs) {
        let p = fig_dir.join(format!("{}.svg", f.name));
        std::fs::write(&p, &f.svg).map_err(|e| io_err(&p, e))?;
        let p = fig_dir.join(format!("{}.png", f.name));
        std::fs::write(&p, png).map_err(|e| io_err(&p, e))?;
    }
    let p = dir.join("index.html");
    std::fs::write(&p, &report.html).map_err(|e| io_err(&p, e))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn medians_use_nr_and_ne() {
        assert_eq!(
            format_median(Some(4.83), Some(3.1), Some(7.0)),
            "4.8 (3.1\u{2013}7.0)"
        );
        assert_eq!(
            format_median(Some(20.9), Some(7.4), None),
            "20.9 (7.4\u{2013}NR)"
        );
        assert_eq!(format_median(None, Some(13.2), None), "NR (13.2\u{2013}NR)");
        assert_eq!(format_median(None, None, None), "NR");
        assert_eq!(
            format_median(Some(2.0), None, Some(3.0)),
            "2.0 (NE\u{2013}3.0)"
        );
    }

    #[test]
    fn slugs_are_safe_file_names() {
        assert_eq!(slug("OS_by_emd_at_infusion"), "os_by_emd_at_infusion");
        assert_eq!(slug("../../etc/passwd"), "etc_passwd");
        assert_eq!(slug("<script>"), "script");
        assert_eq!(slug("ü"), "x");
        assert!(valid_figure_name("forest_os_univariable"));
        assert!(!valid_figure_name("../x"));
        assert!(!valid_figure_name(""));
    }

    #[test]
    fn landmarks_and_stats() {
        assert_eq!(
            landmark_text(Some(0.8309), Some(0.74), Some(0.93)),
            "83% (74\u{2013}93)"
        );
        assert_eq!(landmark_text(None, None, None), "NE");
        assert_eq!(stat(63.0), "63");
        assert_eq!(stat(57.25), "57");
        assert_eq!(stat(4.5), "4.5");
        assert_eq!(stat(5.0), "5.0");
        assert_eq!(pct_text(57.407), "57%");
        assert_eq!(pct_text(0.4), "<1%");
    }

    #[test]
    fn short_labels() {
        assert_eq!(
            short_label("Overall survival from post-CAR-T progression"),
            "overall survival"
        );
        assert_eq!(
            short_label("Progression-free survival (progression on next line or death)"),
            "progression-free survival"
        );
    }

    #[test]
    fn invalid_p_floor_is_an_error() {
        let r: Results = serde_json_free_results();
        let opts = ReportOptions {
            p_floor: f64::NAN,
            ..ReportOptions::default()
        };
        assert!(matches!(
            build_report(&r, &ReportMeta::default(), &opts),
            Err(ReportError::InvalidOption {
                name: "p_floor",
                ..
            })
        ));
        // an empty result set still renders
        let rep = build_report(&r, &ReportMeta::default(), &ReportOptions::default()).unwrap();
        assert!(rep.html.contains("Patient flow"));
        assert_eq!(rep.figures.len(), 1);
        assert_eq!(rep.figures[0].name, "flow");
    }

    fn serde_json_free_results() -> Results {
        use crate::analysis::{ConventionsUsed, Patterns};
        Results {
            survstudy_version: "0".into(),
            study: "S".into(),
            conventions: ConventionsUsed {
                preset: crate::analysis::Conventions::R,
                time_zero: "t0".into(),
                time_zero_label: None,
                censor_dates: vec![],
                time_unit: crate::plan::TimeUnit::Months,
                days_per_unit: 30.4375,
                km_conf_type: survkit::km::ConfType::Log,
                conf_level: 0.95,
                median_ci: String::new(),
                logrank: String::new(),
                cox_ties: survkit::cox::Ties::Efron,
                cox_ci: String::new(),
                follow_up: String::new(),
                table1_tests: String::new(),
                software: String::new(),
            },
            flow: Default::default(),
            n: 0,
            counts: Default::default(),
            patterns: Patterns::default(),
            next_line: None,
            endpoints: vec![],
            survival: vec![],
            multivariable: vec![],
            table1: None,
            competing_risks: vec![],
            adjustment: None,
            time_dependent: vec![],
            subgroups: vec![],
            summaries: vec![],
            summary_layout: vec![],
        }
    }
}
