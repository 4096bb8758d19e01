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
    SurvivalByGroup,
};
use crate::analysis::table1::{NumSummary, Table1};
use crate::analysis::{EndpointOverall, Multivariable, Results};

use super::cif::{
    render_cif_svg, render_ph_residuals_svg, CifPlot, CifPlotGroup, CifSteps, PhResidualPlot,
    Smoother,
};
use super::text::format_sig;
use super::{
    format_hr_ci, format_p_with, render_flow_svg, render_forest_svg, render_html, render_km_svg,
    suppress, svg_to_png, Align, AtRisk, Block, Cell, Fact, Figure, FlowDiagram, FlowExclusion,
    FlowStage, ForestPlot, ForestRow, KmPlot, KmPlotGroup, KmSteps, PFormat, PlotStyle,
    ReportError, ReportPage, RiskPoint, Section, Table, TickSpec,
};

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
    fn show(self, curves: usize) -> bool {
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

// ---------------------------------------------------------------------------
// formatting helpers
// ---------------------------------------------------------------------------

struct Fmt<'a> {
    opts: &'a ReportOptions,
    pf: PFormat,
}

impl Fmt<'_> {
    fn count(&self, n: usize) -> String {
        suppress(n as u64, self.opts.suppress_below)
    }

    fn is_suppressed(&self, n: usize) -> bool {
        matches!(self.opts.suppress_below, Some(b) if n > 0 && (n as u64) < b)
    }

    /// `31 (57%)`, or `<5` when suppressed.
    fn n_pct(&self, n: usize, pct: Option<f64>) -> String {
        if self.is_suppressed(n) {
            return self.count(n);
        }
        match pct {
            Some(p) if p.is_finite() => format!("{n} ({})", pct_text(p)),
            _ => n.to_string(),
        }
    }

    fn p(&self, p: Option<f64>) -> String {
        match p {
            Some(p) => format_p_with(p, &self.pf),
            None => "\u{2014}".to_string(),
        }
    }

    /// `p = 0.0076` / `p < 0.001`.
    fn p_eq(&self, p: f64) -> String {
        let s = format_p_with(p, &self.pf);
        if let Some(rest) = s.strip_prefix('<') {
            format!("p < {rest}")
        } else if let Some(rest) = s.strip_prefix('>') {
            format!("p > {rest}")
        } else {
            format!("p = {s}")
        }
    }
}

fn pct_text(p: f64) -> String {
    if p > 0.0 && p < 1.0 {
        "<1%".to_string()
    } else if p < 100.0 && p > 99.0 {
        ">99%".to_string()
    } else {
        format!("{p:.0}%")
    }
}

/// Times (months, days …) with one decimal.
fn t1(x: f64) -> String {
    if x.is_finite() {
        format!("{x:.1}")
    } else {
        "NE".to_string()
    }
}

/// Summary statistics gtsummary-style: two significant figures but never
/// fewer than the integer digits (63, 57, 4.5, 0.87).
fn stat(x: f64) -> String {
    if !x.is_finite() {
        return "NE".to_string();
    }
    if x.abs() >= 10.0 {
        format!("{x:.0}")
    } else if x == 0.0 {
        "0".to_string()
    } else {
        format_sig(x, 2)
    }
}

/// Median with CI: `4.8 (3.1–7.0)`; a median or upper limit that is not
/// reached is `NR`, an unestimable lower limit `NE`.
pub fn format_median(median: Option<f64>, lower: Option<f64>, upper: Option<f64>) -> String {
    let lo = lower.map_or_else(|| "NE".to_string(), t1);
    let hi = upper.map_or_else(|| "NR".to_string(), t1);
    match median {
        Some(m) => format!("{} ({lo}\u{2013}{hi})", t1(m)),
        None if lower.is_some() => format!("NR ({lo}\u{2013}{hi})"),
        None => "NR".to_string(),
    }
}

/// `20.9 months (95% CI 13.2–21.2)`, `not reached (95% CI 13.2–NR)`.
fn median_sentence(
    median: Option<f64>,
    lower: Option<f64>,
    upper: Option<f64>,
    unit: &str,
) -> String {
    let lo = lower.map_or_else(|| "NE".to_string(), t1);
    let hi = upper.map_or_else(|| "NR".to_string(), t1);
    match median {
        Some(m) => format!("{} {unit} (95% CI {lo}\u{2013}{hi})", t1(m)),
        None => format!("not reached (95% CI {lo}\u{2013}{hi})"),
    }
}

/// Survival at a landmark: `83% (75–92)`, `NE` when not estimable.
fn landmark_text(surv: Option<f64>, lower: Option<f64>, upper: Option<f64>) -> String {
    match surv {
        Some(s) if s.is_finite() => {
            let ci = match (lower, upper) {
                (Some(l), Some(u)) if l.is_finite() && u.is_finite() => {
                    format!(" ({:.0}\u{2013}{:.0})", 100.0 * l, 100.0 * u)
                }
                _ => String::new(),
            };
            format!("{:.0}%{ci}", 100.0 * s)
        }
        _ => "NE".to_string(),
    }
}

fn hr_text(t: &CoxTermSummary) -> String {
    format_hr_ci(
        t.hr.unwrap_or(f64::NAN),
        t.hr_lower.unwrap_or(f64::NAN),
        t.hr_upper.unwrap_or(f64::NAN),
        2,
    )
}

/// `progression_date` → `progression date`.
fn humanise(name: &str) -> String {
    name.replace('_', " ").trim().to_string()
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().collect::<String>() + c.as_str(),
        None => String::new(),
    }
}

/// File stem from plan names: lowercase ASCII alphanumerics, other runs
/// become one `_`.
fn slug(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('_') {
            out.push('_');
        }
    }
    let t = out.trim_matches('_').to_string();
    if t.is_empty() {
        "x".to_string()
    } else {
        t
    }
}

fn valid_figure_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 200
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-')
        && !name.starts_with('-')
}

/// Generic form of an exclusion reason part: `column 'value': message
/// (details)` → `column: message` (cell values and details left out).
fn generic_reason(part: &str) -> String {
    let part = part.trim();
    let s = match (part.find(" '"), part.rfind("': ")) {
        (Some(a), Some(b)) if a < b && !part[..a].contains(' ') => {
            format!("{}: {}", &part[..a], &part[b + 3..])
        }
        // a quote outside the pattern: a cell value with `; ` or `': ` in
        // it was split; say nothing about it
        _ if part.contains('\'') => return "invalid value".to_string(),
        _ => part.to_string(),
    };
    // parenthesised details (dates, values, levels) go
    let mut depth = 0usize;
    let mut kept = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '(' => depth += 1,
            ')' if depth > 0 => depth -= 1,
            c if depth == 0 => kept.push(c),
            _ => {}
        }
    }
    let mut s = kept.split_whitespace().collect::<Vec<_>>().join(" ");
    if let Some(i) = s.find(": also on line") {
        s.truncate(i);
    }
    s.trim().to_string()
}

/// Human-readable names of variables and groupings, from the results.
fn label_map(r: &Results) -> BTreeMap<String, String> {
    let mut m = BTreeMap::new();
    if let Some(t) = &r.table1 {
        for row in &t.rows {
            m.insert(row.variable.clone(), row.label.clone());
        }
        m.insert(t.by.clone(), t.by_label.clone());
    }
    for p in &r.patterns.rows {
        m.insert(p.name.clone(), p.label.clone());
    }
    for s in &r.survival {
        m.insert(s.grouping.clone(), s.grouping_label.clone());
    }
    m
}

fn label_of(labels: &BTreeMap<String, String>, name: &str) -> String {
    labels.get(name).cloned().unwrap_or_else(|| humanise(name))
}

// ---------------------------------------------------------------------------
// builder
// ---------------------------------------------------------------------------

struct Builder<'a> {
    r: &'a Results,
    opts: &'a ReportOptions,
    f: Fmt<'a>,
    labels: BTreeMap<String, String>,
    figures: Vec<ReportFigure>,
    unit: String,
}

impl<'a> Builder<'a> {
    fn figure(&mut self, name: &str, caption: String, svg: String) -> Block {
        let mut name = slug(name);
        if self.figures.iter().any(|f| f.name == name) {
            let mut k = 2;
            while self.figures.iter().any(|f| f.name == format!("{name}_{k}")) {
                k += 1;
            }
            name = format!("{name}_{k}");
        }
        self.figures.push(ReportFigure {
            name,
            caption: caption.clone(),
            svg: svg.clone(),
        });
        Block::Figure(Figure { svg, caption })
    }

    fn style(&self) -> PlotStyle {
        PlotStyle {
            suppress_below: self.opts.suppress_below,
            ..PlotStyle::default()
        }
    }

    fn x_label(&self) -> String {
        format!(
            "{} from {}",
            capitalise(&self.unit),
            humanise(&self.r.conventions.time_zero)
        )
    }

    // ---------------- flow ----------------

    fn flow_section(&mut self) -> Section {
        let flow = &self.r.flow;
        let mut reasons: BTreeMap<String, u64> = BTreeMap::new();
        for e in &flow.excluded {
            let mut seen: Vec<String> = Vec::new();
            for part in e.reason.split("; ") {
                let g = generic_reason(part);
                if !g.is_empty() && !seen.contains(&g) {
                    seen.push(g);
                }
            }
            // one category per row, so that the reasons add up to the rows
            let key = match seen.len() {
                0 => "unspecified problem".to_string(),
                1 => seen.swap_remove(0),
                _ => "more than one problem (see the table)".to_string(),
            };
            *reasons.entry(key).or_insert(0) += 1;
        }
        let mut reasons: Vec<(String, u64)> = reasons.into_iter().collect();
        reasons.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        let mut excl: Vec<FlowExclusion> = Vec::new();
        let max_reasons = 8;
        for (k, (reason, n)) in reasons.iter().enumerate() {
            if k + 1 == max_reasons && reasons.len() > max_reasons {
                let rest: u64 = reasons[k..].iter().map(|x| x.1).sum();
                excl.push(FlowExclusion {
                    reason: format!("{} other reasons", reasons.len() - k),
                    n: rest,
                });
                break;
            }
            excl.push(FlowExclusion {
                reason: reason.clone(),
                n: *n,
            });
        }
        let mut stages = vec![
            FlowStage {
                label: "Rows read from the input".to_string(),
                n: flow.rows_read as u64,
                excluded: excl,
            },
            FlowStage {
                label: "Patients analysed".to_string(),
                n: flow.analysed as u64,
                excluded: vec![],
            },
        ];
        // endpoint populations, when smaller than the analysed cohort
        for ep in &self.r.endpoints {
            if ep.overall.n != flow.analysed {
                stages.push(FlowStage {
                    label: format!("In the {} analysis", ep.endpoint),
                    n: ep.overall.n as u64,
                    excluded: vec![],
                });
            }
        }
        let diagram = FlowDiagram {
            stages,
            suppress_below: self.opts.suppress_below,
            ..FlowDiagram::default()
        };
        let svg = render_flow_svg(&diagram);
        let mut blocks = vec![self.figure(
            "flow",
            "Patient flow: rows read, rows excluded by reason, patients analysed.".to_string(),
            svg,
        )];
        if flow.excluded.is_empty() {
            blocks.push(Block::Paragraph(format!(
                "All {} rows read were valid; no patient was excluded.",
                self.f.count(flow.rows_read)
            )));
        } else {
            let shown = self.opts.show_identifiers == Identifiers::Shown;
            let mut header = vec![Cell::from("Line")];
            if shown {
                header.push(Cell::from("Patient ID"));
            }
            header.push(Cell::from("Reason"));
            let body = flow
                .excluded
                .iter()
                .map(|e| {
                    let mut row = vec![Cell::from(e.line.to_string())];
                    if shown {
                        row.push(Cell::from(e.patient_id.clone().unwrap_or_default()));
                        row.push(Cell::from(e.reason.clone()));
                    } else {
                        let mut parts: Vec<String> = Vec::new();
                        for p in e.reason.split("; ") {
                            let g = generic_reason(p);
                            if !parts.contains(&g) {
                                parts.push(g);
                            }
                        }
                        row.push(Cell::from(parts.join("; ")));
                    }
                    row
                })
                .collect();
            let mut align = vec![Align::Right];
            if shown {
                align.push(Align::Left);
            }
            align.push(Align::Left);
            blocks.push(Block::Table(Table {
                caption: format!(
                    "Excluded rows ({}), by line of the input file (header = line 1).",
                    self.f.count(flow.excluded.len())
                ),
                header: vec![header],
                body,
                footnote: Some(if shown {
                    "Patient identifiers and cell values are shown because the report was \
                     built with identifiers shown; do not share this page outside the study team."
                        .to_string()
                } else {
                    "Patient identifiers and cell values are not shown; the reasons are \
                     generic (column and problem)."
                        .to_string()
                }),
                align,
            }));
        }
        Section {
            heading: "Patient flow".to_string(),
            blocks,
        }
    }

    // ---------------- Table 1 ----------------

    fn table1_section(&mut self, t: &Table1) -> Section {
        let f = &self.f;
        let k = t.by_levels.len();
        let mut header0 = vec![Cell::from(""), Cell::from("")];
        header0.push(Cell::spanning(t.by_label.clone(), k as u32));
        header0.push(Cell::from(""));
        let mut header1 = vec![
            Cell::from("Characteristic"),
            Cell::from(format!("Overall, N = {}", f.count(t.n))),
        ];
        for (i, l) in t.by_levels.iter().enumerate() {
            header1.push(Cell::from(format!(
                "{l}, N = {}",
                f.count(t.n_by.get(i).copied().unwrap_or(0))
            )));
        }
        header1.push(Cell::from("p-value"));
        // test letters in order of first use
        let letters = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'];
        let sup = [
            '\u{1d43}', '\u{1d47}', '\u{1d9c}', '\u{1d48}', '\u{1d49}', '\u{1da0}', '\u{1d4d}',
            '\u{02b0}',
        ];
        let mut methods: Vec<String> = Vec::new();
        let mut notes: Vec<String> = Vec::new();
        let mut body: Vec<Vec<Cell>> = Vec::new();
        let blank = |n: usize| -> Vec<Cell> { (0..n).map(|_| Cell::default()).collect() };
        for row in &t.rows {
            let p_cell = match &row.test {
                Some(test) => {
                    let idx = match methods.iter().position(|m| m == &test.method) {
                        Some(i) => i,
                        None => {
                            methods.push(test.method.clone());
                            methods.len() - 1
                        }
                    };
                    if let Some(n) = &test.note {
                        notes.push(format!("{}: {n}", row.label));
                    }
                    let mark = sup.get(idx).map(|c| c.to_string()).unwrap_or_default();
                    format!("{}{mark}", f.p(test.p))
                }
                None => "\u{2014}".to_string(),
            };
            match &row.summary {
                Some(s) => {
                    let st = stat_fn(std::iter::once(s).chain(&row.summary_by));
                    let mut r = vec![
                        Cell::bold(format!("{}, median (IQR)", row.label)),
                        Cell::from(iqr(s, st)),
                    ];
                    for b in 0..k {
                        r.push(Cell::from(
                            row.summary_by
                                .get(b)
                                .map(|x| iqr(x, st))
                                .unwrap_or_default(),
                        ));
                    }
                    r.push(Cell::from(p_cell));
                    body.push(r);
                    let mut r = vec![Cell::indented("Range", 1), Cell::from(range(s, st))];
                    for b in 0..k {
                        r.push(Cell::from(
                            row.summary_by
                                .get(b)
                                .map(|x| range(x, st))
                                .unwrap_or_default(),
                        ));
                    }
                    r.push(Cell::default());
                    body.push(r);
                }
                None => {
                    let mut r = vec![Cell::bold(format!("{}, n (%)", row.label))];
                    r.extend(blank(k + 1));
                    r.push(Cell::from(p_cell));
                    body.push(r);
                    for l in &row.levels {
                        let mut r = vec![
                            Cell::indented(l.level.clone(), 1),
                            Cell::from(f.n_pct(l.n, l.pct)),
                        ];
                        for b in 0..k {
                            let (n, p) = l.by.get(b).copied().unwrap_or((0, None));
                            r.push(Cell::from(f.n_pct(n, p)));
                        }
                        r.push(Cell::default());
                        body.push(r);
                    }
                }
            }
            if row.missing > 0 {
                let mut r = vec![
                    Cell::indented("Unknown", 1),
                    Cell::from(f.count(row.missing)),
                ];
                for b in 0..k {
                    r.push(Cell::from(
                        f.count(row.missing_by.get(b).copied().unwrap_or(0)),
                    ));
                }
                r.push(Cell::default());
                body.push(r);
            }
        }
        let mut foot = vec![
            "n (%): percentages of patients with a known value. Median (IQR): interquartile range from R's type-7 quantiles."
                .to_string(),
        ];
        for (i, m) in methods.iter().enumerate() {
            foot.push(format!("{}: {m}", letters.get(i).copied().unwrap_or('?')));
        }
        if t.n_by_missing > 0 {
            foot.push(format!(
                "{} patients with unknown {} are counted in the Overall column only.",
                f.count(t.n_by_missing),
                t.by_label
            ));
        }
        foot.extend(notes);
        if let Some(b) = self.opts.suppress_below {
            foot.push(format!(
                "Counts from 1 to {} are shown as <{b}.",
                b.saturating_sub(1)
            ));
        }
        let mut align = vec![Align::Left];
        align.extend(std::iter::repeat_n(Align::Center, k + 1));
        align.push(Align::Right);
        Section {
            heading: "Baseline characteristics".to_string(),
            blocks: vec![Block::Table(Table {
                caption: format!("Patient characteristics overall and by {}.", t.by_label),
                header: vec![header0, header1],
                body,
                footnote: Some(foot.join("\n")),
                align,
            })],
        }
    }

    // ---------------- patterns + next line ----------------

    fn patterns_section(&mut self) -> Option<Section> {
        let p = &self.r.patterns;
        if p.rows.is_empty() && p.cross_table.is_none() && p.intervals.is_empty() {
            return None;
        }
        let f = &self.f;
        let mut blocks = vec![];
        if !p.rows.is_empty() {
            let denom = p
                .rows
                .iter()
                .map(|r| r.denominator)
                .max()
                .unwrap_or(self.r.n);
            let body = p
                .rows
                .iter()
                .map(|r| {
                    let pct = if f.is_suppressed(r.n) {
                        "\u{2014}".to_string()
                    } else {
                        r.pct
                            .map(|x| format!("{x:.1}%"))
                            .unwrap_or_else(|| "\u{2014}".into())
                    };
                    vec![
                        Cell::from(r.label.clone()),
                        Cell::from(f.count(r.n)),
                        Cell::from(pct),
                    ]
                })
                .collect();
            blocks.push(Block::Table(Table {
                caption: "Patterns of progression after CAR-T.".to_string(),
                header: vec![vec![
                    Cell::from("Pattern at progression"),
                    Cell::from("n"),
                    Cell::from(format!("% of patients (N = {})", f.count(denom))),
                ]],
                body,
                footnote: Some(
                    "The patterns are not mutually exclusive: a patient can have more than one \
                     (e.g. biochemical and extramedullary progression), so the percentages do not \
                     add up to 100%."
                        .to_string(),
                ),
                align: vec![Align::Left, Align::Right, Align::Right],
            }));
        }
        if let Some(ct) = &p.cross_table {
            let rl = label_of(&self.labels, &ct.rows);
            let cl = label_of(&self.labels, &ct.cols);
            let nc = ct.col_levels.len();
            let mut h0 = vec![Cell::from("")];
            h0.push(Cell::spanning(cl.clone(), nc as u32));
            h0.push(Cell::from(""));
            let mut h1 = vec![Cell::from(rl.clone())];
            h1.extend(ct.col_levels.iter().map(|l| Cell::from(l.clone())));
            h1.push(Cell::from("Total"));
            let mut body: Vec<Vec<Cell>> = Vec::new();
            let mut col_tot = vec![0usize; nc];
            for (i, l) in ct.row_levels.iter().enumerate() {
                let row = ct.counts.get(i).cloned().unwrap_or_default();
                let mut r = vec![Cell::from(l.clone())];
                for (j, tot) in col_tot.iter_mut().enumerate() {
                    let c = row.get(j).copied().unwrap_or(0);
                    *tot += c;
                    r.push(Cell::from(f.count(c)));
                }
                r.push(Cell::from(f.count(row.iter().sum())));
                body.push(r);
            }
            let mut r = vec![Cell::bold("Total")];
            r.extend(col_tot.iter().map(|&c| Cell::from(f.count(c))));
            r.push(Cell::from(f.count(col_tot.iter().sum())));
            body.push(r);
            let mut align = vec![Align::Left];
            align.extend(std::iter::repeat_n(Align::Right, nc + 1));
            blocks.push(Block::Table(Table {
                caption: format!("{rl} by {cl} (number of patients)."),
                header: vec![h0, h1],
                body,
                footnote: None,
                align,
            }));
        }
        if !p.intervals.is_empty() {
            let body = p
                .intervals
                .iter()
                .map(|iv| {
                    let unit_txt = match (iv.median, iv.min, iv.max) {
                        (Some(m), Some(a), Some(b)) => {
                            format!("{} ({}\u{2013}{})", t1(m), t1(a), t1(b))
                        }
                        _ => "\u{2014}".to_string(),
                    };
                    let day_txt = match (iv.median_days, iv.min_days, iv.max_days) {
                        (Some(m), Some(a), Some(b)) => format!("{m:.0} ({a:.0}\u{2013}{b:.0})"),
                        _ => "\u{2014}".to_string(),
                    };
                    let label = iv
                        .label
                        .strip_prefix("Days from ")
                        .map(|s| format!("Time from {s}"))
                        .unwrap_or_else(|| iv.label.clone());
                    vec![
                        Cell::from(label),
                        Cell::from(f.count(iv.n)),
                        Cell::from(unit_txt),
                        Cell::from(day_txt),
                    ]
                })
                .collect();
            let unit = p
                .intervals
                .first()
                .map(|i| i.unit.clone())
                .unwrap_or_else(|| self.unit.clone());
            blocks.push(Block::Table(Table {
                caption: "Time from CAR-T infusion to progression.".to_string(),
                header: vec![vec![
                    Cell::from("Interval"),
                    Cell::from("n"),
                    Cell::from(format!("Median (range), {unit}")),
                    Cell::from("Median (range), days"),
                ]],
                body,
                footnote: Some(format!(
                    "{} = days / {}.",
                    capitalise(&unit),
                    self.r.conventions.days_per_unit
                )),
                align: vec![Align::Left, Align::Right, Align::Right, Align::Right],
            }));
        }
        Some(Section {
            heading: "Progression patterns".to_string(),
            blocks,
        })
    }

    fn next_line_section(&mut self) -> Option<Section> {
        let nl = self.r.next_line.as_ref()?;
        let f = &self.f;
        let k = nl.by_levels.len();
        let by_label = nl
            .by
            .as_deref()
            .map(|b| label_of(&self.labels, b))
            .unwrap_or_default();
        let mut header = vec![];
        if k > 0 {
            let mut h0 = vec![Cell::from(""), Cell::from("")];
            h0.push(Cell::spanning(by_label.clone(), k as u32));
            header.push(h0);
        }
        let mut h1 = vec![
            Cell::from("Next-line therapy"),
            Cell::from(format!("Overall, N = {}", f.count(nl.n))),
        ];
        for (i, l) in nl.by_levels.iter().enumerate() {
            h1.push(Cell::from(format!(
                "{l}, N = {}",
                f.count(nl.n_by.get(i).copied().unwrap_or(0))
            )));
        }
        header.push(h1);
        let body = nl
            .rows
            .iter()
            .map(|r| {
                let mut row = vec![
                    Cell::from(r.category.clone()),
                    Cell::from(f.n_pct(r.n, r.pct)),
                ];
                for b in 0..k {
                    let (n, p) = r.by.get(b).copied().unwrap_or((0, None));
                    row.push(Cell::from(f.n_pct(n, p)));
                }
                row
            })
            .collect();
        let mut align = vec![Align::Left];
        align.extend(std::iter::repeat_n(Align::Center, k + 1));
        let caption = if k > 0 {
            format!("First next-line therapy after progression, overall and by {by_label}.")
        } else {
            "First next-line therapy after progression.".to_string()
        };
        Some(Section {
            heading: "Next-line therapy".to_string(),
            blocks: vec![Block::Table(Table {
                caption,
                header,
                body,
                footnote: Some("n (%) of the patients in each column.".to_string()),
                align,
            })],
        })
    }

    // ---------------- survival ----------------

    fn km_group(&self, g: &GroupSummary) -> Option<KmPlotGroup> {
        let c = g.curve.as_ref()?;
        let (mut ct, mut cs) = (vec![], vec![]);
        for (i, &t) in c.time.iter().enumerate() {
            if c.n_censor.get(i).copied().unwrap_or(0) > 0 {
                ct.push(t);
                cs.push(c.surv.get(i).copied().unwrap_or(f64::NAN));
            }
        }
        let table: Vec<RiskPoint> = c
            .time
            .iter()
            .zip(&c.n_risk)
            .map(|(&time, &n_risk)| RiskPoint { time, n_risk })
            .collect();
        Some(KmPlotGroup {
            label: g.label.clone(),
            n: g.n as u64,
            events: g.events as u64,
            median_text: format_median(g.median, g.median_lower, g.median_upper),
            steps: KmSteps {
                time: c.time.clone(),
                surv: c.surv.clone(),
                lower: c.lower.clone(),
                upper: c.upper.clone(),
            },
            censor_times: ct,
            censor_surv: cs,
            at_risk: if self.opts.risk_table {
                AtRisk::Table(table)
            } else {
                AtRisk::None
            },
        })
    }

    fn km_svg(
        &self,
        title: String,
        y_label: String,
        groups: &[&GroupSummary],
        p: Option<String>,
        landmark: Option<f64>,
    ) -> String {
        let groups: Vec<KmPlotGroup> = groups.iter().filter_map(|g| self.km_group(g)).collect();
        let plot = KmPlot {
            title,
            x_label: self.x_label_for(landmark),
            y_label,
            median_header: format!("Median, {} (95% CI)", self.unit),
            show_ci: self.opts.ci_bands.show(groups.len()),
            groups,
            pvalue_text: p,
            show_risk_table: self.opts.risk_table,
            x_ticks: TickSpec::Months,
            x_max: None,
        };
        render_km_svg(&plot, &self.style())
    }

    fn endpoint_section(&mut self, ep: &EndpointOverall) -> Section {
        let code = ep.endpoint.clone();
        let lc = code.to_ascii_lowercase();
        let unit = self.unit.clone();
        let mut blocks = vec![];
        let o = &ep.overall;
        let fu = if ep.follow_up_median.is_some() {
            format!(
                "Median follow-up (reverse Kaplan\u{2013}Meier) was {}.",
                median_sentence(
                    ep.follow_up_median,
                    ep.follow_up_lower,
                    ep.follow_up_upper,
                    &unit
                )
            )
        } else {
            format!(
                "Median follow-up (reverse Kaplan\u{2013}Meier) was not reached (lower 95% limit {} {unit}): too few patients were censored to estimate it.",
                ep.follow_up_lower.map_or_else(|| "NE".to_string(), t1)
            )
        };
        blocks.push(Block::Paragraph(format!(
            "{}. {} patients, {} events. Median {code} was {}. {fu}",
            ep.endpoint_label,
            self.f.count(o.n),
            self.f.count(o.events),
            median_sentence(o.median, o.median_lower, o.median_upper, &unit),
        )));
        let y_label = format!("{code} probability");
        if o.curve.is_some() {
            let all = GroupSummary {
                label: "All patients".to_string(),
                ..o.clone()
            };
            let svg = self.km_svg(
                format!("{code}, all patients"),
                y_label.clone(),
                &[&all],
                None,
                None,
            );
            let b = self.figure(
                &format!("{lc}_overall"),
                format!(
                    "{}: Kaplan\u{2013}Meier estimate for all patients with 95% confidence band.",
                    ep.endpoint_label
                ),
                svg,
            );
            blocks.push(b);
            blocks.push(Block::Table(self.numbers_table(ep, None)));
        }
        let entries: Vec<&SurvivalByGroup> = self
            .r
            .survival
            .iter()
            .filter(|s| s.endpoint == code)
            .collect();
        for s in &entries {
            let p_text = s
                .logrank
                .as_ref()
                .map(|l| format!("Log-rank {}", self.f.p_eq(l.p)));
            let groups: Vec<&GroupSummary> = s.groups.iter().collect();
            let n_curves = groups.iter().filter(|g| g.curve.is_some()).count();
            let svg = self.km_svg(
                self.landmark_title(&format!("{code} by {}", s.grouping_label), s.landmark),
                y_label.clone(),
                &groups,
                p_text,
                s.landmark,
            );
            let bands = if self.opts.ci_bands.show(n_curves) {
                " Shaded: pointwise 95% confidence bands."
            } else {
                ""
            };
            let lm = match s.landmark {
                Some(l) => format!(
                    " Landmark analysis ({}): patients still at risk at the landmark, clock restarted there.",
                    self.landmark_phrase(l)
                ),
                None => String::new(),
            };
            let b = self.figure(
                &format!("{lc}_by_{}", s.grouping),
                format!(
                    "{code} by {}: Kaplan\u{2013}Meier estimates; + marks censored patients.{bands} Number at risk at each tick below the plot.{lm}",
                    s.grouping_label
                ),
                svg,
            );
            blocks.push(b);
            blocks.push(Block::Table(self.numbers_table(ep, Some(s))));
            for n in &s.notes {
                blocks.push(Block::Notice(format!(
                    "{code} by {}: {n}",
                    s.grouping_label
                )));
            }
        }
        // forest plot of univariable HRs
        let mut rows = vec![];
        for s in &entries {
            let Some(cox) = &s.cox else { continue };
            if cox.terms.is_empty() {
                continue;
            }
            rows.push(ForestRow::header(&s.grouping_label));
            if let Some(r) = cox.terms.first().and_then(|t| t.reference.clone()) {
                rows.push(ForestRow::reference(&r));
            }
            for t in &cox.terms {
                rows.push(self.forest_estimate(t, t.level.as_deref().unwrap_or(&t.term), 1));
            }
        }
        if !rows.is_empty() {
            let plot = ForestPlot {
                rows,
                label_header: "Grouping / level".to_string(),
                ..ForestPlot::default()
            };
            let svg = render_forest_svg(&plot);
            let b = self.figure(
                &format!("forest_{lc}_univariable"),
                format!(
                    "{code}: univariable Cox hazard ratios (95% CI, log scale) of each grouping; the first level of each grouping is the reference. p: Wald test."
                ),
                svg,
            );
            blocks.push(b);
        }
        if let Some(t) = self.ph_univariable_table(&code, &entries) {
            blocks.push(Block::Table(t));
        }
        for s in &entries {
            let Some(ph) = s.cox.as_ref().and_then(|c| c.ph_test.as_ref()) else {
                continue;
            };
            let name = |_: &str| format!("ph_{lc}_{}", s.grouping);
            let title = self.landmark_title(
                &format!("{code}, univariable Cox model: {}", s.grouping_label),
                s.landmark,
            );
            let title = |_: &str| title.clone();
            let label = |_: &str| s.grouping_label.clone();
            blocks.extend(self.ph_residual_figures(ph, &name, &title, &label, s.landmark));
        }
        if let Some(t) = self.rmst_table(&code, &entries) {
            blocks.push(Block::Table(t));
        }
        Section {
            heading: format!("{} ({code})", capitalise(&short_label(&ep.endpoint_label))),
            blocks,
        }
    }

    fn forest_estimate(&self, t: &CoxTermSummary, label: &str, indent: u8) -> ForestRow {
        let mut r = ForestRow::estimate(
            label,
            t.hr.unwrap_or(f64::NAN),
            t.hr_lower.unwrap_or(f64::NAN),
            t.hr_upper.unwrap_or(f64::NAN),
            &t.p.map(|p| format_p_with(p, &self.f.pf))
                .unwrap_or_default(),
        );
        r.indent = indent;
        r
    }

    fn numbers_table(&self, ep: &EndpointOverall, s: Option<&SurvivalByGroup>) -> Table {
        let f = &self.f;
        let lms: Vec<f64> = ep.overall.landmarks.iter().map(|l| l.time).collect();
        let unit_short = match self.unit.as_str() {
            "months" => "mo",
            "years" => "yr",
            "weeks" => "wk",
            "days" => "d",
            u => u,
        };
        let with_cox = s.is_some_and(|s| s.cox.is_some());
        // two header rows: spanners over the landmark and Cox columns
        let mut header0 = vec![
            Cell::default(),
            Cell::default(),
            Cell::default(),
            Cell::default(),
        ];
        if !lms.is_empty() {
            header0.push(Cell::spanning("Survival (95% CI)", lms.len() as u32));
        }
        if with_cox {
            header0.push(Cell::spanning("Univariable Cox", 2));
        }
        let mut header = vec![
            Cell::from(s.map_or("Population".to_string(), |s| s.grouping_label.clone())),
            Cell::from("N"),
            Cell::from("Events"),
            Cell::from(format!("Median (95% CI), {unit_short}")),
        ];
        for t in &lms {
            header.push(Cell::from(format!("{} {unit_short}", super::svg::num(*t))));
        }
        if with_cox {
            header.push(Cell::from("HR (95% CI)"));
            header.push(Cell::from("p"));
        }
        let groups: Vec<&GroupSummary> = match s {
            Some(s) => s.groups.iter().collect(),
            None => vec![&ep.overall],
        };
        let body = groups
            .iter()
            .enumerate()
            .map(|(gi, g)| {
                let label = if s.is_none() {
                    "All patients".to_string()
                } else {
                    g.label.clone()
                };
                let mut row = vec![
                    Cell::from(label),
                    Cell::from(f.count(g.n)),
                    Cell::from(f.count(g.events)),
                    Cell::from(if g.n == 0 {
                        "\u{2014}".to_string()
                    } else {
                        format_median(g.median, g.median_lower, g.median_upper)
                    }),
                ];
                for t in &lms {
                    let lm = g.landmarks.iter().find(|l| l.time == *t);
                    row.push(Cell::from(match lm {
                        Some(l) => landmark_text(l.surv, l.lower, l.upper),
                        None => "\u{2014}".to_string(),
                    }));
                }
                if with_cox {
                    let cox = s.and_then(|s| s.cox.as_ref());
                    let reference = cox
                        .and_then(|c| c.terms.first())
                        .and_then(|t| t.reference.as_deref());
                    let term = cox.and_then(|c| {
                        c.terms
                            .iter()
                            .find(|t| t.level.as_deref() == Some(g.label.as_str()))
                    });
                    match term {
                        Some(t) => {
                            row.push(Cell::from(hr_text(t)));
                            row.push(Cell::from(f.p(t.p)));
                        }
                        None if reference == Some(g.label.as_str())
                            || (reference.is_none() && gi == 0) =>
                        {
                            row.push(Cell::from("1 (reference)"));
                            row.push(Cell::default());
                        }
                        None => {
                            row.push(Cell::from("\u{2014}"));
                            row.push(Cell::default());
                        }
                    }
                }
                row
            })
            .collect();
        let mut foot = vec![format!(
            "Median and Kaplan\u{2013}Meier survival at {} {} ({unit_short}) with 95% CI ({} transformation; median CI by Brookmeyer\u{2013}Crowley). NR: not reached; NE: not estimable.",
            lms.iter().map(|t| super::svg::num(*t)).collect::<Vec<_>>().join(", "),
            self.unit,
            self.r.conventions.km_conf_type
        )];
        if let Some(s) = s {
            match &s.logrank {
                Some(l) => foot.push(format!(
                    "Log-rank test: chi-square {:.2} on {} df, {}.",
                    l.chisq,
                    l.df,
                    f.p_eq(l.p)
                )),
                None => foot.push("Log-rank test: not computed.".to_string()),
            }
            if let Some(c) = &s.cox {
                foot.push(format!(
                    "HR: univariable Cox model ({} ties), Wald 95% CI and p; {} patients, {} events.",
                    capitalise(&self.r.conventions.cox_ties),
                    f.count(c.n),
                    f.count(c.events)
                ));
                for w in &c.warnings {
                    foot.push(format!("Cox model: {w}"));
                }
                if c.terms.iter().any(|t| t.possibly_infinite) {
                    foot.push("A coefficient may be infinite (a group without events): its HR and CI are not reliable.".to_string());
                }
            }
            if let Some(ph) = s.cox.as_ref().and_then(|c| c.ph_test.as_ref()) {
                foot.push(self.ph_sentence(ph, &|_| s.grouping_label.clone()));
            }
            if let Some(r) = &s.rmst {
                foot.push(self.rmst_sentence(r));
            }
            if let Some(l) = s.landmark {
                foot.push(format!(
                    "Landmark analysis ({}): only patients still at risk for {} at {} {} are included, and times (medians, survival at {}) are counted from the landmark.",
                    self.landmark_phrase(l),
                    ep.endpoint,
                    super::svg::num(l),
                    self.unit,
                    lms.iter().map(|t| format!("{} {unit_short}", super::svg::num(*t))).collect::<Vec<_>>().join(", ")
                ));
            }
            if s.n_missing_group > 0 {
                foot.push(format!(
                    "{} patients with unknown {} are left out.",
                    f.count(s.n_missing_group),
                    s.grouping_label
                ));
            }
        }
        let mut align = vec![Align::Left];
        align.extend(std::iter::repeat_n(Align::Right, header.len() - 1));
        Table {
            caption: match s {
                Some(s) => match s.landmark {
                    Some(l) => format!(
                        "{} by {}: landmark analysis ({}).",
                        ep.endpoint,
                        s.grouping_label,
                        self.landmark_phrase(l)
                    ),
                    None => format!("{} by {}.", ep.endpoint, s.grouping_label),
                },
                None => format!("{}, all patients.", ep.endpoint),
            },
            header: vec![header0, header],
            body,
            footnote: Some(foot.join("\n")),
            align,
        }
    }

    // ---------------- multivariable ----------------

    fn multivariable_section(&mut self) -> Option<Section> {
        if self.r.multivariable.is_empty() {
            return None;
        }
        let mut blocks = vec![];
        let mvs: Vec<Multivariable> = self.r.multivariable.clone();
        for m in &mvs {
            let lc = m.endpoint.to_ascii_lowercase();
            let covs: Vec<String> = m
                .covariates
                .iter()
                .map(|c| label_of(&self.labels, c))
                .collect();
            let Some(cox) = &m.cox else {
                let mut text = format!("{}: multivariable Cox model not fitted.", m.endpoint);
                for n in &m.notes {
                    text.push(' ');
                    text.push_str(n);
                }
                blocks.push(Block::Notice(text));
                continue;
            };
            blocks.push(Block::Paragraph(format!(
                "{}: Cox model with {} ({} patients with complete data, {} events; {} left out for missing covariates). Likelihood-ratio test {:.2} on {} df, {}.{}",
                m.endpoint,
                covs.join(", "),
                self.f.count(m.n_complete),
                self.f.count(cox.events),
                self.f.count(m.n_dropped_missing),
                cox.lr_test.stat,
                cox.lr_test.df,
                self.f.p_eq(cox.lr_test.p),
                cox.concordance
                    .map(|c| format!(" Concordance {c:.2}."))
                    .unwrap_or_default()
            )));
            let rows = self.mv_rows(cox);
            let plot = ForestPlot {
                rows,
                label_header: "Covariate".to_string(),
                ..ForestPlot::default()
            };
            let svg = render_forest_svg(&plot);
            let b = self.figure(
                &format!("forest_multivariable_{lc}"),
                format!(
                    "{}: multivariable Cox model, hazard ratios (95% CI, log scale); p: Wald test. Continuous covariates: HR per one unit.",
                    m.endpoint
                ),
                svg,
            );
            blocks.push(b);
            if let Some(ph) = &cox.ph_test {
                blocks.push(Block::Table(self.ph_multivariable_table(&m.endpoint, ph)));
                let name = |term: &str| format!("ph_{lc}_multivariable_{}", slug(term));
                let labels = self.labels.clone();
                let label = |term: &str| label_of(&labels, term);
                let title = |term: &str| {
                    format!(
                        "{}, multivariable Cox model: {}",
                        m.endpoint,
                        label_of(&labels, term)
                    )
                };
                blocks.extend(self.ph_residual_figures(ph, &name, &title, &label, None));
            }
            for n in m.notes.iter().chain(&cox.warnings) {
                blocks.push(Block::Notice(format!("{}: {n}", m.endpoint)));
            }
            if !cox.converged {
                blocks.push(Block::Notice(format!(
                    "{}: the model did not converge after {} iterations.",
                    m.endpoint, cox.iterations
                )));
            }
        }
        Some(Section {
            heading: "Multivariable Cox models".to_string(),
            blocks,
        })
    }

    fn mv_rows(&self, cox: &CoxSummary) -> Vec<ForestRow> {
        let mut rows = vec![];
        let mut done: Vec<&str> = vec![];
        for t in &cox.terms {
            if done.contains(&t.variable.as_str()) {
                continue;
            }
            done.push(&t.variable);
            let label = label_of(&self.labels, &t.variable);
            if t.level.is_none() {
                rows.push(self.forest_estimate(t, &format!("{label}, per unit"), 0));
                continue;
            }
            rows.push(ForestRow::header(&label));
            if let Some(r) = &t.reference {
                rows.push(ForestRow::reference(r));
            }
            for u in cox.terms.iter().filter(|u| u.variable == t.variable) {
                rows.push(self.forest_estimate(u, u.level.as_deref().unwrap_or(&u.term), 1));
            }
        }
        rows
    }

    // ---------------- methods ----------------

    fn methods_section(&self) -> Section {
        let c = &self.r.conventions;
        let conf = format!("{}%", super::svg::num(c.conf_level * 100.0));
        let mut eps: Vec<String> = vec![];
        for ep in &self.r.endpoints {
            eps.push(format!(
                "{} ({})",
                short_label(&ep.endpoint_label),
                ep.endpoint
            ));
        }
        let ep_defs: Vec<String> = self
            .r
            .endpoints
            .iter()
            .map(|e| format!("{}: {}", e.endpoint, e.endpoint_label))
            .collect();
        let scale = match c.km_conf_type.as_str() {
            "log" => "on the log scale (log S(t), the R survfit default)".to_string(),
            "log-log" => "on the log-log scale (log(-log S(t)), the SAS default)".to_string(),
            "plain" => "on the plain (linear) scale".to_string(),
            other => format!("with the {other} transformation"),
        };
        let ties = match c.cox_ties.as_str() {
            "efron" => "Efron's method".to_string(),
            "breslow" => "Breslow's method".to_string(),
            other => format!("the {other} method"),
        };
        let mv: Vec<String> = self
            .r
            .multivariable
            .iter()
            .filter(|m| m.cox.is_some())
            .map(|m| m.endpoint.clone())
            .collect();
        let covs: Vec<String> = self
            .r
            .multivariable
            .first()
            .map(|m| {
                m.covariates
                    .iter()
                    .map(|c| label_of(&self.labels, c))
                    .collect()
            })
            .unwrap_or_default();
        let mut p1 = format!(
            "Time zero was the {} ({}). Times were converted from days to {} (1 {} = {} days). Endpoints were defined as follows \u{2014} {}. Patients without an event were censored at the censoring date defined in the analysis plan.",
            humanise(&c.time_zero),
            c.time_zero,
            c.time_unit,
            c.time_unit.trim_end_matches('s'),
            c.days_per_unit,
            ep_defs.join("; "),
        );
        if eps.is_empty() {
            p1 = format!(
                "Time zero was the {}; times are in {} (days / {}).",
                humanise(&c.time_zero),
                c.time_unit,
                c.days_per_unit
            );
        }
        let p2 = format!(
            "Survival was estimated with the Kaplan\u{2013}Meier method with {conf} pointwise confidence intervals {scale}. Confidence intervals of the median followed the Brookmeyer\u{2013}Crowley method ({}). Median follow-up was estimated with the reverse Kaplan\u{2013}Meier method (censoring as the event). Survival was compared between groups with the log-rank (Mantel\u{2013}Haenszel) test ({}), and hazard ratios with {conf} confidence intervals were estimated with Cox proportional-hazards regression, ties handled by {ties} ({}).{}",
            c.median_ci
                .strip_prefix("Brookmeyer-Crowley: ")
                .unwrap_or(&c.median_ci),
            c.logrank
                .strip_prefix("log-rank (Mantel-Haenszel), ")
                .unwrap_or(&c.logrank),
            c.cox_ci,
            if mv.is_empty() {
                String::new()
            } else {
                format!(
                    " The multivariable model{} ({}) included {}; patients with a missing covariate were left out (complete-case analysis).",
                    if mv.len() > 1 { "s" } else { "" },
                    mv.join(", "),
                    covs.join(", ")
                )
            }
        );
        let p3 = match &self.r.table1 {
            Some(t) => format!(
                "Baseline characteristics were summarised as n (%) and median (interquartile range) and compared by {}: {}.",
                t.by_label, c.table1_tests
            ),
            None => String::new(),
        };
        let p4 = format!(
            "All tests were two-sided with no adjustment for multiple comparisons; p-values are given to two significant figures (values below {} as <{}). Analyses were run with {} using the \u{201c}{}\u{201d} convention preset.",
            self.opts.p_floor, self.opts.p_floor, c.software, c.preset
        );
        let mut blocks = vec![Block::Paragraph(format!("{p1} {p2}"))];
        blocks.extend(self.methods_extra().into_iter().map(Block::Paragraph));
        if !p3.is_empty() {
            blocks.push(Block::Paragraph(p3));
        }
        blocks.push(Block::Paragraph(p4));
        if let Some(b) = self.opts.suppress_below {
            blocks.push(Block::Paragraph(format!(
                "Small-cell suppression: counts from 1 to {} are shown as <{b} throughout the report.",
                b.saturating_sub(1)
            )));
        }
        let rows: Vec<(&str, String)> = vec![
            ("Preset", c.preset.clone()),
            ("Time zero", c.time_zero.clone()),
            (
                "Time unit",
                format!("{} (days / {})", c.time_unit, c.days_per_unit),
            ),
            (
                "Kaplan\u{2013}Meier CI",
                format!("{} ({conf})", c.km_conf_type),
            ),
            ("Median CI", c.median_ci.clone()),
            ("Log-rank", c.logrank.clone()),
            ("Cox ties", c.cox_ties.clone()),
            ("Cox CI", c.cox_ci.clone()),
            ("Follow-up", c.follow_up.clone()),
            ("Table 1 tests", c.table1_tests.clone()),
        ];
        let mut rows = rows;
        rows.extend(self.conventions_extra());
        rows.push(("Software", c.software.clone()));
        blocks.push(Block::Table(Table {
            caption: "Statistical conventions of this run.".to_string(),
            header: vec![vec![Cell::from("Convention"), Cell::from("Value")]],
            body: rows
                .into_iter()
                .map(|(k, v)| vec![Cell::bold(k), Cell::from(v)])
                .collect(),
            footnote: None,
            align: vec![Align::Left, Align::Left],
        }));
        Section {
            heading: "Methods".to_string(),
            blocks,
        }
    }
}

// ---------------------------------------------------------------------------
// PH diagnostics, RMST, landmarks, competing risks
// ---------------------------------------------------------------------------

/// A proportional-hazards test row is flagged below this p-value.
const PH_FLAG_P: f64 = 0.05;

fn ph_flagged(row: &PhRow) -> bool {
    row.p.is_finite() && row.p < PH_FLAG_P
}

/// Signed number with a true minus sign: `−1.7`.
fn signed(x: f64, decimals: usize) -> String {
    if !x.is_finite() {
        return "NE".to_string();
    }
    let s = format!("{x:.decimals$}");
    if s.starts_with('-') && s[1..].chars().any(|c| c.is_ascii_digit() && c != '0') {
        format!("\u{2212}{}", &s[1..])
    } else {
        s.trim_start_matches('-').to_string()
    }
}

/// `8.9 (8.1–9.7)`.
fn rmst_text(est: f64, lower: f64, upper: f64) -> String {
    format!("{} ({}\u{2013}{})", t1(est), t1(lower), t1(upper))
}

/// `−1.7 (−3.1 to −0.3)`: " to " because the limits can be negative.
fn contrast_text(est: f64, lower: f64, upper: f64, decimals: usize) -> String {
    format!(
        "{} ({} to {})",
        signed(est, decimals),
        signed(lower, decimals),
        signed(upper, decimals)
    )
}

impl Builder<'_> {
    fn unit_short(&self) -> String {
        match self.unit.as_str() {
            "months" => "mo",
            "years" => "yr",
            "weeks" => "wk",
            "days" => "d",
            u => u,
        }
        .to_string()
    }

    /// `landmark at 3 months; time from the landmark`.
    fn landmark_phrase(&self, l: f64) -> String {
        format!(
            "landmark at {} {}; time from the landmark",
            super::svg::num(l),
            self.unit
        )
    }

    /// A figure title with `(landmark at 3 months)` appended unless the
    /// title already mentions the landmark.
    fn landmark_title(&self, title: &str, landmark: Option<f64>) -> String {
        match landmark {
            Some(l) if !title.to_lowercase().contains("landmark") => {
                format!("{title} (landmark at {} {})", super::svg::num(l), self.unit)
            }
            _ => title.to_string(),
        }
    }

    /// `Months from the 3-month landmark` for landmark analyses.
    fn x_label_for(&self, landmark: Option<f64>) -> String {
        match landmark {
            Some(l) => format!(
                "{} from the {}-{} landmark",
                capitalise(&self.unit),
                super::svg::num(l),
                self.unit.trim_end_matches('s')
            ),
            None => self.x_label(),
        }
    }

    fn ph_p_cell(&self, row: &PhRow) -> Cell {
        let t = self.f.p(Some(row.p));
        if ph_flagged(row) {
            Cell::bold(format!("{t}\u{2020}"))
        } else {
            Cell::from(t)
        }
    }

    /// One line for a table footnote: every term and GLOBAL.
    fn ph_sentence(&self, ph: &PhTest, label: &dyn Fn(&str) -> String) -> String {
        let row = |r: &PhRow, name: String| {
            format!(
                "{name} chi-square {:.2} on {} df, {}{}",
                r.chisq,
                r.df,
                self.f.p_eq(r.p),
                if ph_flagged(r) { "\u{2020}" } else { "" }
            )
        };
        let mut parts: Vec<String> = ph.terms.iter().map(|r| row(r, label(&r.term))).collect();
        parts.push(row(&ph.global, "GLOBAL".to_string()));
        let flag = if ph.terms.iter().chain([&ph.global]).any(ph_flagged) {
            " \u{2020} p < 0.05: proportional hazards doubtful; scaled Schoenfeld residuals are plotted after the proportional-hazards table of this section."
        } else {
            ""
        };
        format!(
            "Proportional-hazards test (Grambsch\u{2013}Therneau, Kaplan\u{2013}Meier time transform): {}.{flag}",
            parts.join("; ")
        )
    }

    fn ph_footnote(&self, any_flagged: bool) -> String {
        let mut s = "Grambsch\u{2013}Therneau score test of the scaled Schoenfeld residuals against Kaplan\u{2013}Meier-transformed time (R survival 3.x cox.zph); one row per term (all design columns of a factor jointly) and GLOBAL for the whole model. A small p-value is evidence against proportional hazards.".to_string();
        if any_flagged {
            s.push_str(&format!(
                "\n\u{2020} p < {PH_FLAG_P}: the proportional-hazards assumption is doubtful for this term; its scaled Schoenfeld residuals are plotted over time below."
            ));
        }
        s
    }

    fn ph_univariable_table(&self, code: &str, entries: &[&SurvivalByGroup]) -> Option<Table> {
        let mut body: Vec<Vec<Cell>> = vec![];
        let mut any_flagged = false;
        for s in entries {
            let Some(cox) = &s.cox else { continue };
            let label = match s.landmark {
                Some(l) => format!("{} ({})", s.grouping_label, self.landmark_phrase(l)),
                None => s.grouping_label.clone(),
            };
            let Some(ph) = &cox.ph_test else {
                body.push(vec![
                    Cell::from(label),
                    Cell::from("not computed"),
                    Cell::default(),
                    Cell::default(),
                ]);
                continue;
            };
            any_flagged |= ph.terms.iter().chain([&ph.global]).any(ph_flagged);
            let row = |name: Cell, r: &PhRow| {
                vec![
                    name,
                    Cell::from(format!("{:.2}", r.chisq)),
                    Cell::from(r.df.to_string()),
                    self.ph_p_cell(r),
                ]
            };
            if ph.terms.len() == 1 {
                // one term: its test is the global test
                body.push(row(Cell::from(label), &ph.terms[0]));
            } else {
                body.push(vec![
                    Cell::bold(label),
                    Cell::default(),
                    Cell::default(),
                    Cell::default(),
                ]);
                for t in &ph.terms {
                    body.push(row(Cell::indented(t.term.clone(), 1), t));
                }
                body.push(row(Cell::indented("GLOBAL", 1), &ph.global));
            }
        }
        if body.is_empty() {
            return None;
        }
        Some(Table {
            caption: format!(
                "{code}: proportional-hazards tests of the univariable Cox models (one model per grouping)."
            ),
            header: vec![vec![
                Cell::from("Grouping"),
                Cell::from("Chi-square"),
                Cell::from("df"),
                Cell::from("p"),
            ]],
            body,
            footnote: Some(format!(
                "{}\nEach univariable model has a single term, so its term test is also the GLOBAL test.",
                self.ph_footnote(any_flagged)
            )),
            align: vec![Align::Left, Align::Right, Align::Right, Align::Right],
        })
    }

    fn ph_multivariable_table(&self, endpoint: &str, ph: &PhTest) -> Table {
        let mut body: Vec<Vec<Cell>> = ph
            .terms
            .iter()
            .map(|r| {
                vec![
                    Cell::from(label_of(&self.labels, &r.term)),
                    Cell::from(format!("{:.2}", r.chisq)),
                    Cell::from(r.df.to_string()),
                    self.ph_p_cell(r),
                ]
            })
            .collect();
        body.push(vec![
            Cell::bold("GLOBAL"),
            Cell::bold(format!("{:.2}", ph.global.chisq)),
            Cell::bold(ph.global.df.to_string()),
            self.ph_p_cell(&ph.global),
        ]);
        let any = ph.terms.iter().chain([&ph.global]).any(ph_flagged);
        Table {
            caption: format!(
                "{endpoint}: proportional-hazards test of the multivariable Cox model, per term and GLOBAL."
            ),
            header: vec![vec![
                Cell::from("Term"),
                Cell::from("Chi-square"),
                Cell::from("df"),
                Cell::from("p"),
            ]],
            body,
            footnote: Some(self.ph_footnote(any)),
            align: vec![Align::Left, Align::Right, Align::Right, Align::Right],
        }
    }

    /// One residual figure per term with p < 0.05 that has residuals.
    fn ph_residual_figures(
        &mut self,
        ph: &PhTest,
        name: &dyn Fn(&str) -> String,
        title: &dyn Fn(&str) -> String,
        label: &dyn Fn(&str) -> String,
        landmark: Option<f64>,
    ) -> Vec<Block> {
        let mut out = vec![];
        for row in ph.terms.iter().filter(|r| ph_flagged(r)) {
            let Some(res): Option<&PhResiduals> = ph.flagged.iter().find(|f| f.term == row.term)
            else {
                continue;
            };
            let lab = label(&row.term);
            // survkit (as R cox.zph) adds the coefficient to the residuals
            // of a one-column term and 1 to those of a factor's joint term
            let (reference, ref_label, ref_note) = if row.df > 1 {
                (
                    Some(1.0),
                    "Reference value 1 (joint term)".to_string(),
                    format!(
                        " {lab} spans {} design columns: the residuals are of the joint term, on the scale where the reference value is 1 (as R cox.zph).",
                        row.df
                    ),
                )
            } else {
                (
                    Some(res.coef).filter(|c| c.is_finite()),
                    format!("Cox estimate \u{3b2} = {}", signed(res.coef, 2)),
                    String::new(),
                )
            };
            let plot = PhResidualPlot {
                title: title(&row.term),
                subtitle: format!(
                    "Proportional-hazards test: chi-square {:.2} on {} df, {}",
                    row.chisq,
                    row.df,
                    self.f.p_eq(row.p)
                ),
                x_label: self.x_label_for(landmark),
                y_label: format!("\u{3b2}(t) for {lab}"),
                time: res.time.clone(),
                beta_t: res.beta_t.clone(),
                reference,
                reference_label: ref_label,
                smoother: Smoother::Lowess,
                span: 2.0 / 3.0,
                x_ticks: TickSpec::Months,
            };
            let svg = render_ph_residuals_svg(&plot, &self.style());
            let lm = match landmark {
                Some(l) => format!(" Landmark analysis ({}).", self.landmark_phrase(l)),
                None => String::new(),
            };
            let caption = format!(
                "{}: scaled Schoenfeld residuals of {lab} over time (points: \u{3b2}(t) at each event = scaled residual + coefficient). Solid line: LOWESS smooth (local linear, tricube weights, span 2/3, 3 bisquare robustness iterations); dashed: {}; dotted: zero. A flat smooth supports proportional hazards; a trend suggests the effect changes over time (Grambsch\u{2013}Therneau {}).{ref_note}{lm}",
                title(&row.term),
                if row.df > 1 { "the reference value 1" } else { "the Cox estimate" },
                self.f.p_eq(row.p)
            );
            out.push(self.figure(&name(&row.term), caption, svg));
        }
        out
    }

    fn rmst_sentence(&self, r: &RmstSummary) -> String {
        let tau = super::svg::num(r.tau);
        let groups: Vec<String> = r
            .groups
            .iter()
            .map(|g| format!("{} {}", g.label, rmst_text(g.rmst, g.lower, g.upper)))
            .collect();
        let (a, b) = match (r.groups.first(), r.groups.get(1)) {
            (Some(a), Some(b)) => (a.label.clone(), b.label.clone()),
            _ => ("first".to_string(), "second".to_string()),
        };
        format!(
            "Restricted mean survival time (RMST) up to \u{3c4} = {tau} {u}, {u} (95% CI): {}; difference {b} \u{2212} {a} {} {u}, {}; ratio {b}/{a} {}.",
            groups.join(", "),
            contrast_text(
                r.difference.estimate,
                r.difference.lower,
                r.difference.upper,
                1
            ),
            self.f.p_eq(r.difference.p),
            contrast_text(r.ratio.estimate, r.ratio.lower, r.ratio.upper, 2),
            u = self.unit
        )
    }

    fn rmst_table(&self, code: &str, entries: &[&SurvivalByGroup]) -> Option<Table> {
        let with: Vec<(&SurvivalByGroup, &RmstSummary)> = entries
            .iter()
            .filter_map(|s| s.rmst.as_ref().map(|r| (*s, r)))
            .collect();
        if with.is_empty() {
            return None;
        }
        let mut taus: Vec<f64> = with.iter().map(|(_, r)| r.tau).collect();
        taus.sort_by(f64::total_cmp);
        taus.dedup();
        let tau_txt = taus
            .iter()
            .map(|t| super::svg::num(*t))
            .collect::<Vec<_>>()
            .join(", ");
        let body = with
            .iter()
            .map(|(s, r)| {
                let g = |k: usize| {
                    r.groups
                        .get(k)
                        .map(|g| format!("{}: {}", g.label, rmst_text(g.rmst, g.lower, g.upper)))
                        .unwrap_or_else(|| "\u{2014}".to_string())
                };
                let mut label = s.grouping_label.clone();
                if taus.len() > 1 {
                    label.push_str(&format!(" (\u{3c4} = {})", super::svg::num(r.tau)));
                }
                if let Some(l) = s.landmark {
                    label.push_str(&format!(" ({})", self.landmark_phrase(l)));
                }
                vec![
                    Cell::from(label),
                    Cell::from(g(0)),
                    Cell::from(g(1)),
                    Cell::from(contrast_text(
                        r.difference.estimate,
                        r.difference.lower,
                        r.difference.upper,
                        1,
                    )),
                    Cell::from(self.f.p(Some(r.difference.p))),
                    Cell::from(contrast_text(
                        r.ratio.estimate,
                        r.ratio.lower,
                        r.ratio.upper,
                        2,
                    )),
                ]
            })
            .collect();
        let us = self.unit_short();
        Some(Table {
            caption: format!(
                "{code}: restricted mean survival time (RMST) up to \u{3c4} = {tau_txt} {}, by grouping with two levels.",
                self.unit
            ),
            header: vec![vec![
                Cell::from("Grouping"),
                Cell::from(format!("Reference group: RMST (95% CI), {us}")),
                Cell::from(format!("Comparison group: RMST (95% CI), {us}")),
                Cell::from(format!("Difference (95% CI), {us}")),
                Cell::from("p"),
                Cell::from("Ratio (95% CI)"),
            ]],
            body,
            footnote: Some(format!(
                "RMST: area under the Kaplan\u{2013}Meier curve from 0 to \u{3c4} = {tau_txt} {u} (the mean {code} time within the first {tau_txt} {u}). Difference and ratio: comparison minus / over reference group, with survRM2-style (R survRM2::rmst2) variance and 95% Wald CIs (the ratio's on the log scale); p for the difference.",
                u = self.unit
            )),
            align: vec![
                Align::Left,
                Align::Right,
                Align::Right,
                Align::Right,
                Align::Right,
                Align::Right,
            ],
        })
    }

    fn competing_section(&mut self) -> Option<Section> {
        if self.r.competing_risks.is_empty() {
            return None;
        }
        let mut blocks = vec![];
        let all: Vec<CompetingResult> = self.r.competing_risks.clone();
        for cr in &all {
            blocks.extend(self.competing_blocks(cr));
        }
        Some(Section {
            heading: "Competing risks".to_string(),
            blocks,
        })
    }

    fn competing_blocks(&mut self, cr: &CompetingResult) -> Vec<Block> {
        let f = &self.f;
        let mut blocks = vec![];
        let cause = |k: u32| {
            cr.causes
                .get((k as usize).wrapping_sub(1))
                .cloned()
                .unwrap_or_else(|| format!("cause {k}"))
        };
        let by_label = cr
            .by_label
            .clone()
            .or_else(|| cr.by.as_deref().map(|b| label_of(&self.labels, b)));
        let causes_txt: Vec<String> = cr
            .causes
            .iter()
            .enumerate()
            .map(|(i, c)| format!("cause {} = {c}", i + 1))
            .collect();
        blocks.push(Block::Paragraph(format!(
            "{} ({}). {} patients{}; {}. Cumulative incidence by the Aalen\u{2013}Johansen method{}.",
            cr.label,
            cr.code,
            f.count(cr.n),
            if cr.n_missing > 0 {
                format!(
                    " ({} left out for a missing date or group)",
                    f.count(cr.n_missing)
                )
            } else {
                String::new()
            },
            causes_txt.join(", "),
            by_label
                .as_ref()
                .map(|b| format!(" by {b}, compared with Gray's test"))
                .unwrap_or_default()
        )));
        if cr.curves.is_empty() {
            for n in &cr.notes {
                blocks.push(Block::Notice(format!("{}: {n}", cr.code)));
            }
            if cr.notes.is_empty() {
                blocks.push(Block::Notice(format!(
                    "{}: no cumulative-incidence estimates.",
                    cr.code
                )));
            }
            return blocks;
        }
        // groups in level order; curves of groups not in by_levels go last
        let mut groups: Vec<String> = cr.by_levels.clone();
        for c in &cr.curves {
            if !groups.contains(&c.group) {
                groups.push(c.group.clone());
            }
        }
        groups.retain(|g| cr.curves.iter().any(|c| &c.group == g));
        let display = |g: &str| {
            if cr.by.is_none() && g == "all" {
                "All patients".to_string()
            } else {
                g.to_string()
            }
        };
        let curve = |g: &str, k: u32| cr.curves.iter().find(|c| c.group == g && c.cause == k);
        let mut times: Vec<f64> = cr
            .curves
            .iter()
            .flat_map(|c| c.at.iter().map(|a| a.time))
            .filter(|t| t.is_finite())
            .collect();
        times.sort_by(f64::total_cmp);
        times.dedup();
        let us = self.unit_short();
        let c1 = cause(1);
        let last_t = times.last().copied();

        // ---- figure: cause 1 by group ----
        let plot_groups: Vec<CifPlotGroup> = groups
            .iter()
            .filter_map(|g| {
                let c = curve(g, 1)?;
                let at_text = last_t
                    .and_then(|t| c.at.iter().find(|a| a.time == t))
                    .map(|a| landmark_text(a.est, a.lower, a.upper))
                    .unwrap_or_default();
                Some(CifPlotGroup {
                    label: display(g),
                    n: c.n as u64,
                    events: c.events as u64,
                    at_text,
                    steps: CifSteps {
                        time: c.time.clone(),
                        est: c.est.clone(),
                        lower: c.lower.clone(),
                        upper: c.upper.clone(),
                    },
                })
            })
            .collect();
        let gray = |k: u32| cr.gray_test.iter().find(|g| g.cause == k);
        let lc = cr.code.to_ascii_lowercase();
        if !plot_groups.is_empty() {
            let show_ci = self.opts.ci_bands.show(plot_groups.len());
            let y_label = {
                let full = format!(
                    "Cumulative incidence of {}",
                    short_label(&c1).trim_end_matches('.')
                );
                if super::text_width(&full, 11.0, false) < 300.0 {
                    full
                } else {
                    "Cumulative incidence".to_string()
                }
            };
            let title = match &by_label {
                Some(b) => format!("{} by {b}: {}", cr.code, c1),
                None => format!("{}: {}", cr.code, c1),
            };
            let plot = CifPlot {
                title,
                x_label: self.x_label(),
                y_label,
                events_header: "Events".to_string(),
                at_header: last_t
                    .map(|t| format!("At {} {} (95% CI)", super::svg::num(t), self.unit))
                    .unwrap_or_default(),
                groups: plot_groups,
                pvalue_text: gray(1).map(|g| format!("Gray's test {}", self.f.p_eq(g.p))),
                show_ci,
                x_ticks: TickSpec::Months,
                x_max: None,
            };
            let svg = render_cif_svg(&plot, &self.style());
            let others: Vec<String> = cr.causes.iter().skip(1).cloned().collect();
            let name = match &cr.by {
                Some(b) => format!("cif_{lc}_by_{b}"),
                None => format!("cif_{lc}_overall"),
            };
            let caption = format!(
                "{}: cumulative incidence of {c1} (cause 1; Aalen\u{2013}Johansen){}{}. Only cause 1 is drawn; the cumulative incidence of {} is in the table below.{} Legend: events of cause 1 and cumulative incidence of cause 1 at {}.{}",
                cr.code,
                by_label.as_ref().map(|b| format!(" by {b}")).unwrap_or_default(),
                if others.is_empty() {
                    String::new()
                } else {
                    format!(", with {} as competing event{}", others.join(" and "), if others.len() > 1 { "s" } else { "" })
                },
                if others.is_empty() { "each cause".to_string() } else { others.join(" and ") },
                if show_ci {
                    " Shaded: pointwise 95% confidence bands (cmprsk variance, log(\u{2212}log) transformation)."
                } else {
                    ""
                },
                last_t.map(|t| format!("{} {}", super::svg::num(t), self.unit)).unwrap_or_else(|| "\u{2014}".into()),
                if gray(1).is_some() { " Gray's test for cause 1 on the plot." } else { "" }
            );
            let b = self.figure(&name, caption, svg);
            blocks.push(b);
        }

        // ---- table: every cause ----
        let f = &self.f;
        let nc = cr.causes.len().max(
            cr.curves
                .iter()
                .map(|c| c.cause as usize)
                .max()
                .unwrap_or(0),
        );
        let nt = times.len();
        let mut h0 = vec![
            Cell::default(),
            Cell::default(),
            Cell::spanning("Events", nc as u32),
        ];
        let mut h1 = vec![
            Cell::from(by_label.clone().unwrap_or_else(|| "Population".to_string())),
            Cell::from("N"),
        ];
        for k in 1..=nc as u32 {
            h1.push(Cell::from(cause(k)));
        }
        if nt > 0 {
            for k in 1..=nc as u32 {
                h0.push(Cell::spanning(
                    format!("Cumulative incidence of {}, % (95% CI)", cause(k)),
                    nt as u32,
                ));
                for t in &times {
                    h1.push(Cell::from(format!("{} {us}", super::svg::num(*t))));
                }
            }
        }
        let mut body: Vec<Vec<Cell>> = groups
            .iter()
            .map(|g| {
                let n = cr.curves.iter().find(|c| &c.group == g).map_or(0, |c| c.n);
                let mut row = vec![Cell::from(display(g)), Cell::from(f.count(n))];
                for k in 1..=nc as u32 {
                    row.push(Cell::from(
                        curve(g, k).map_or("\u{2014}".to_string(), |c| f.count(c.events)),
                    ));
                }
                for k in 1..=nc as u32 {
                    for t in &times {
                        let txt = curve(g, k)
                            .and_then(|c| c.at.iter().find(|a| a.time == *t))
                            .map_or("\u{2014}".to_string(), |a| {
                                landmark_text(a.est, a.lower, a.upper)
                            });
                        row.push(Cell::from(txt));
                    }
                }
                row
            })
            .collect();
        if !cr.gray_test.is_empty() {
            let mut row = vec![Cell::bold("Gray's test, p"), Cell::default()];
            for k in 1..=nc as u32 {
                row.push(Cell::from(
                    gray(k).map_or("\u{2014}".to_string(), |g| f.p(Some(g.p))),
                ));
            }
            row.extend((0..nc * nt).map(|_| Cell::default()));
            body.push(row);
        }
        let mut foot = vec![format!(
            "Cumulative incidence by the Aalen\u{2013}Johansen estimator (each cause in the presence of the others) at {} {}, with 95% pointwise CI (cmprsk variance, log(\u{2212}log) transformation), as R cmprsk::cuminc. Events: first event of each cause; patients without an event are censored.",
            times.iter().map(|t| super::svg::num(*t)).collect::<Vec<_>>().join(", "),
            self.unit
        )];
        if !cr.gray_test.is_empty() {
            let g: Vec<String> = cr
                .gray_test
                .iter()
                .map(|g| {
                    format!(
                        "{} (cause {}) chi-square {:.2} on {} df, {}",
                        g.cause_label,
                        g.cause,
                        g.stat,
                        g.df,
                        f.p_eq(g.p)
                    )
                })
                .collect();
            foot.push(format!("Gray's test: {}.", g.join("; ")));
        }
        if cr.n_missing > 0 {
            foot.push(format!(
                "{} patients with a missing date or group are left out.",
                f.count(cr.n_missing)
            ));
        }
        if let Some(b) = self.opts.suppress_below {
            foot.push(format!(
                "Counts from 1 to {} are shown as <{b}.",
                b.saturating_sub(1)
            ));
        }
        let ncol = h1.len();
        let mut align = vec![Align::Left];
        align.extend(std::iter::repeat_n(Align::Right, ncol - 1));
        blocks.push(Block::Table(Table {
            caption: format!(
                "{}: events and cumulative incidence of each cause{}.",
                cr.code,
                by_label
                    .as_ref()
                    .map(|b| format!(" by {b}"))
                    .unwrap_or_default()
            ),
            header: vec![h0, h1],
            body,
            footnote: Some(foot.join("\n")),
            align,
        }));
        for n in &cr.notes {
            blocks.push(Block::Notice(format!("{}: {n}", cr.code)));
        }
        blocks
    }
}

impl Builder<'_> {
    fn has_ph(&self) -> bool {
        self.r
            .survival
            .iter()
            .filter_map(|s| s.cox.as_ref())
            .chain(self.r.multivariable.iter().filter_map(|m| m.cox.as_ref()))
            .any(|c| c.ph_test.is_some())
    }

    fn rmst_taus(&self) -> Vec<f64> {
        let mut t: Vec<f64> = self
            .r
            .survival
            .iter()
            .filter_map(|s| s.rmst.as_ref().map(|r| r.tau))
            .collect();
        t.sort_by(f64::total_cmp);
        t.dedup();
        t
    }

    /// (grouping labels, landmark) of the landmark analyses.
    fn landmarks_used(&self) -> Vec<(String, f64)> {
        let mut out: Vec<(String, f64)> = vec![];
        for s in &self.r.survival {
            if let Some(l) = s.landmark {
                if !out.iter().any(|(g, x)| g == &s.grouping_label && *x == l) {
                    out.push((s.grouping_label.clone(), l));
                }
            }
        }
        out
    }

    fn preset_sentence(&self) -> String {
        let c = &self.r.conventions;
        let (name, origin) = match c.preset.to_ascii_lowercase().as_str() {
            "r" => ("R", "the defaults of R survival: survfit and coxph"),
            "sas" => ("SAS", "the defaults of SAS PROC LIFETEST and PROC PHREG"),
            _ => ("custom", "as set for this run"),
        };
        let ci = match c.km_conf_type.as_str() {
            "log" => "log-transformed (log S(t))".to_string(),
            "log-log" => "log-log-transformed (log(\u{2212}log S(t)))".to_string(),
            other => format!("{other}-transformed"),
        };
        let ties = match c.cox_ties.as_str() {
            "efron" => "Efron".to_string(),
            "breslow" => "Breslow".to_string(),
            other => capitalise(other),
        };
        format!(
            "The {name} conventions preset was used: {ci} Kaplan\u{2013}Meier confidence intervals and the {ties} approximation for tied event times in Cox models ({origin})."
        )
    }

    fn methods_extra(&self) -> Vec<String> {
        let mut out = vec![self.preset_sentence()];
        let lms = self.landmarks_used();
        if !lms.is_empty() {
            let parts: Vec<String> = lms
                .iter()
                .map(|(g, l)| format!("{g} (landmark at {} {})", super::svg::num(*l), self.unit))
                .collect();
            out.push(format!(
                "Landmark analysis: comparisons by {} were made from a landmark rather than from time zero, because the grouping is only known after time zero (immortal-time bias). Only patients still at risk (event-free and in follow-up) at the landmark were included and the clock was restarted at the landmark (time from the landmark); Kaplan\u{2013}Meier estimates, log-rank tests and Cox models of these groupings use the landmark population.",
                parts.join(", ")
            ));
        }
        if self.has_ph() {
            out.push(format!(
                "The proportional-hazards assumption of every Cox model (univariable and multivariable) was checked with the Grambsch\u{2013}Therneau score test of the scaled Schoenfeld residuals against time, per term and globally, as in R survival 3.x cox.zph with the Kaplan\u{2013}Meier time transform. Terms with p < {PH_FLAG_P} are flagged (\u{2020}) and their scaled Schoenfeld residuals are plotted over time with a LOWESS smooth."
            ));
        }
        let taus = self.rmst_taus();
        if !taus.is_empty() {
            let tau = taus
                .iter()
                .map(|t| super::svg::num(*t))
                .collect::<Vec<_>>()
                .join(", ");
            out.push(format!(
                "For groupings with two levels, the restricted mean survival time (RMST) up to \u{3c4} = {tau} {} (area under the Kaplan\u{2013}Meier curve up to \u{3c4}) was estimated per group, with the difference and ratio between the groups (second level vs first); variances, 95% confidence intervals and p-values as in R survRM2::rmst2 (ratio on the log scale).",
                self.unit
            ));
        }
        for cr in &self.r.competing_risks {
            let others: Vec<String> = cr.causes.iter().skip(1).cloned().collect();
            out.push(format!(
                "Competing risks ({}): the cumulative incidence of {} was estimated with the Aalen\u{2013}Johansen estimator{}, with pointwise 95% confidence intervals from the cmprsk variance on the log(\u{2212}log) scale{}, as R cmprsk::cuminc.",
                cr.code,
                cr.causes.first().cloned().unwrap_or_else(|| "each cause".into()),
                if others.is_empty() {
                    String::new()
                } else {
                    format!(", treating {} as a competing event", others.join(" and "))
                },
                match &cr.by_label {
                    Some(b) => format!(", and compared between the groups of {b} with Gray's test"),
                    None => String::new(),
                }
            ));
        }
        out
    }

    fn conventions_extra(&self) -> Vec<(&'static str, String)> {
        let mut rows = vec![];
        if self.has_ph() {
            rows.push((
                "PH test",
                format!(
                    "Grambsch\u{2013}Therneau score test (R survival 3.x cox.zph), Kaplan\u{2013}Meier time transform; flagged at p < {PH_FLAG_P}"
                ),
            ));
        }
        let taus = self.rmst_taus();
        if !taus.is_empty() {
            rows.push((
                "RMST",
                format!(
                    "\u{3c4} = {} {}; survRM2::rmst2 variance",
                    taus.iter()
                        .map(|t| super::svg::num(*t))
                        .collect::<Vec<_>>()
                        .join(", "),
                    self.unit
                ),
            ));
        }
        let lms = self.landmarks_used();
        if !lms.is_empty() {
            rows.push((
                "Landmark",
                lms.iter()
                    .map(|(g, l)| format!("{g}: {} {}", super::svg::num(*l), self.unit))
                    .collect::<Vec<_>>()
                    .join("; "),
            ));
        }
        if !self.r.competing_risks.is_empty() {
            rows.push((
                "Competing risks",
                "Aalen\u{2013}Johansen cumulative incidence, cmprsk variance, log(\u{2212}log) CI; Gray's test".to_string(),
            ));
        }
        rows
    }
}

/// "Overall survival from post-CAR-T progression" → "overall survival".
fn short_label(label: &str) -> String {
    let l = label.trim();
    let cut = [" from ", " (", ","]
        .iter()
        .filter_map(|s| l.find(s))
        .min()
        .unwrap_or(l.len());
    let s = l[..cut].trim();
    if s.is_empty() {
        l.to_string()
    } else {
        let mut c = s.chars();
        match c.next() {
            Some(f) => f.to_lowercase().collect::<String>() + c.as_str(),
            None => String::new(),
        }
    }
}

/// Formatter of one Table-1 row: whole numbers when every statistic of
/// the row (overall and by group) is a whole number (counts, scores),
/// otherwise two significant figures, so that a row never mixes styles.
fn stat_fn<'a>(all: impl IntoIterator<Item = &'a NumSummary>) -> fn(f64) -> String {
    let all_int = all.into_iter().all(|s| {
        [s.median, s.q1, s.q3, s.min, s.max]
            .iter()
            .flatten()
            .all(|x| x.fract() == 0.0 && x.abs() < 1e15)
    });
    if all_int {
        |x| format!("{x:.0}")
    } else {
        stat
    }
}

fn iqr(s: &NumSummary, stat: fn(f64) -> String) -> String {
    match (s.median, s.q1, s.q3) {
        (Some(m), Some(a), Some(b)) => format!("{} ({}\u{2013}{})", stat(m), stat(a), stat(b)),
        _ => "\u{2014}".to_string(),
    }
}

fn range(s: &NumSummary, stat: fn(f64) -> String) -> String {
    match (s.min, s.max) {
        (Some(a), Some(b)) => format!("{}\u{2013}{}", stat(a), stat(b)),
        _ => "\u{2014}".to_string(),
    }
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
        unit: results.conventions.time_unit.clone(),
    };
    let mut sections = vec![b.flow_section()];
    if let Some(t) = &results.table1 {
        sections.push(b.table1_section(t));
    }
    if let Some(s) = b.patterns_section() {
        sections.push(s);
    }
    if let Some(s) = b.next_line_section() {
        sections.push(s);
    }
    for ep in &results.endpoints {
        sections.push(b.endpoint_section(ep));
    }
    if let Some(s) = b.competing_section() {
        sections.push(s);
    }
    if let Some(s) = b.multivariable_section() {
        sections.push(s);
    }
    sections.push(b.methods_section());

    let source = meta
        .data_source
        .rsplit(['/', '\\'])
        .next()
        .unwrap_or("")
        .to_string();
    let f = &b.f;
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
                b.unit
            ),
        ));
    }
    facts.push(Fact::new(
        "Conventions",
        format!(
            "{} preset ({} Kaplan\u{2013}Meier CI, {} ties)",
            results.conventions.preset.to_uppercase(),
            results.conventions.km_conf_type,
            capitalise(&results.conventions.cox_ties)
        ),
    ));
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
    // rasterise first so that a bad figure leaves nothing half-written
    let pngs: Vec<Vec<u8>> = report
        .figures
        .iter()
        .map(|f| svg_to_png(&f.svg, dpi))
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
    fn reasons_lose_cell_values() {
        assert_eq!(
            generic_reason("progression_date '2021-13-01': not a valid date"),
            "progression_date: not a valid date"
        );
        assert_eq!(
            generic_reason(
                "progression_date '2020-01-01': progression before infusion (CAR-T infusion is 2020-02-01)"
            ),
            "progression_date: progression before infusion"
        );
        assert_eq!(
            generic_reason("patient_id 'P-007': duplicate patient_id: also on line 4"),
            "patient_id: duplicate patient_id"
        );
        assert_eq!(
            generic_reason("required value is missing (Sex)"),
            "required value is missing"
        );
        assert_eq!(
            generic_reason(
                "emd_at_infusion: values (yes, maybe) of emd_at_infusion, prog_emd match no level of grouping g"
            ),
            "emd_at_infusion: values of emd_at_infusion, prog_emd match no level of grouping g"
        );
    }

    #[test]
    fn values_with_separators_do_not_leak() {
        let parts: Vec<String> = "sex 'SECRET; x': not one of: F, M"
            .split("; ")
            .map(generic_reason)
            .collect();
        assert!(parts.iter().all(|p| !p.contains("SECRET")), "{parts:?}");
        assert_eq!(
            generic_reason("sex 'a': b': not one of: F, M"),
            "sex: not one of: F, M"
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
                preset: "r".into(),
                time_zero: "t0".into(),
                time_unit: "months".into(),
                days_per_unit: 30.4375,
                km_conf_type: "log".into(),
                conf_level: 0.95,
                median_ci: String::new(),
                logrank: String::new(),
                cox_ties: "efron".into(),
                cox_ci: String::new(),
                follow_up: String::new(),
                table1_tests: String::new(),
                software: String::new(),
            },
            flow: Default::default(),
            n: 0,
            counts: Default::default(),
            patterns: Patterns {
                rows: vec![],
                cross_table: None,
                intervals: vec![],
            },
            next_line: None,
            endpoints: vec![],
            survival: vec![],
            multivariable: vec![],
            table1: None,
            competing_risks: vec![],
        }
    }
}
