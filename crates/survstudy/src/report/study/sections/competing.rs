//! Competing risks: cumulative incidence figures and tables, Gray's test.

use crate::analysis::competing::{CifCurveSummary, GraySummary};
#[allow(unused_imports)]
use crate::report::study::*;

impl Builder<'_> {
    pub(crate) fn competing_section(&mut self) -> Option<Section> {
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

    pub(crate) fn competing_blocks(&mut self, cr: &CompetingResult) -> Vec<Block> {
        let by_label = cr
            .by_label
            .clone()
            .or_else(|| cr.by.as_deref().map(|b| label_of(&self.labels, b)));
        let mut blocks = vec![self.competing_intro(cr, by_label.as_deref())];
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
        let v = CrView::new(cr, by_label);
        if let Some(b) = self.cif_figure(&v) {
            blocks.push(b);
        }
        blocks.push(Block::Table(self.cif_table(&v)));
        if let Some(t) = self.fine_gray_table(cr, v.by_label.as_deref()) {
            blocks.push(Block::Table(t));
        }
        for n in &cr.notes {
            blocks.push(Block::Notice(format!("{}: {n}", cr.code)));
        }
        blocks
    }

    /// The paragraph opening an analysis: population, causes, method.
    fn competing_intro(&self, cr: &CompetingResult, by_label: Option<&str>) -> Block {
        let f = &self.f;
        let causes_txt: Vec<String> = cr
            .causes
            .iter()
            .enumerate()
            .map(|(i, c)| format!("cause {} = {c}", i + 1))
            .collect();
        Block::Paragraph(format!(
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
                .map(|b| format!(" by {b}, compared with Gray's test"))
                .unwrap_or_default()
        ))
    }

    /// The figure of cause 1 by group (`None` when no group has a curve).
    fn cif_figure(&mut self, v: &CrView) -> Option<Block> {
        let cr = v.cr;
        let last_t = v.times.last().copied();
        let plot_groups: Vec<CifPlotGroup> = v
            .groups
            .iter()
            .filter_map(|g| {
                let c = v.curve(g, 1)?;
                let at_text = last_t
                    .and_then(|t| c.at.iter().find(|a| a.time == t))
                    .map(|a| landmark_text(a.est, a.lower, a.upper))
                    .unwrap_or_default();
                Some(CifPlotGroup {
                    label: v.display(g),
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
        if plot_groups.is_empty() {
            return None;
        }
        let c1 = v.cause(1);
        let show_ci = self.opts.ci_bands.show(plot_groups.len());
        let y_label = {
            let full = format!(
                "Cumulative incidence of {}",
                short_label(&c1).trim_end_matches('.')
            );
            if text_width(&full, 11.0, false) < 300.0 {
                full
            } else {
                "Cumulative incidence".to_string()
            }
        };
        let title = match &v.by_label {
            Some(b) => format!("{} by {b}: {}", cr.code, c1),
            None => format!("{}: {}", cr.code, c1),
        };
        let plot = CifPlot {
            title,
            x_label: self.x_label(),
            y_label,
            events_header: "Events".to_string(),
            at_header: last_t
                .map(|t| format!("At {} {} (95% CI)", num_text(t), self.unit))
                .unwrap_or_default(),
            groups: plot_groups,
            pvalue_text: v
                .gray(1)
                .map(|g| format!("Gray's test {}", self.f.p_eq(g.p))),
            show_ci,
            x_ticks: TickSpec::Months,
            x_max: None,
        };
        let svg = render_cif_svg(&plot, &self.style());
        let lc = cr.code.to_ascii_lowercase();
        let name = match &cr.by {
            Some(b) => format!("cif_{lc}_by_{b}"),
            None => format!("cif_{lc}_overall"),
        };
        let caption = self.cif_caption(v, show_ci);
        Some(self.figure(&name, caption, svg))
    }

    /// Caption of the cause-1 figure.
    fn cif_caption(&self, v: &CrView, show_ci: bool) -> String {
        let cr = v.cr;
        let others: Vec<String> = cr.causes.iter().skip(1).cloned().collect();
        let last_t = v.times.last().copied();
        format!(
            "{}: cumulative incidence of {} (cause 1; Aalen\u{2013}Johansen){}{}. Only cause 1 is drawn; the cumulative incidence of {} is in the table below.{} Legend: events of cause 1 and cumulative incidence of cause 1 at {}.{}",
            cr.code,
            v.cause(1),
            v.by_label.as_ref().map(|b| format!(" by {b}")).unwrap_or_default(),
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
            last_t.map(|t| format!("{} {}", num_text(t), self.unit)).unwrap_or_else(|| "\u{2014}".into()),
            if v.gray(1).is_some() { " Gray's test for cause 1 on the plot." } else { "" }
        )
    }

    /// The table of events and cumulative incidence of every cause.
    fn cif_table(&self, v: &CrView) -> Table {
        let (f, cr) = (&self.f, v.cr);
        let (nc, nt) = (v.n_causes(), v.times.len());
        let (h0, h1) = self.cif_table_header(v);
        let mut body: Vec<Vec<Cell>> = v
            .groups
            .iter()
            .map(|g| {
                let n = cr.curves.iter().find(|c| &c.group == g).map_or(0, |c| c.n);
                let mut row = vec![Cell::from(v.display(g)), Cell::from(f.count(n))];
                for k in 1..=nc as u32 {
                    row.push(Cell::from(
                        v.curve(g, k)
                            .map_or("\u{2014}".to_string(), |c| f.count(c.events)),
                    ));
                }
                for k in 1..=nc as u32 {
                    for t in &v.times {
                        let txt = v
                            .curve(g, k)
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
                    v.gray(k).map_or("\u{2014}".to_string(), |g| f.p(Some(g.p))),
                ));
            }
            row.extend((0..nc * nt).map(|_| Cell::default()));
            body.push(row);
        }
        let ncol = h1.len();
        let mut align = vec![Align::Left];
        align.extend(std::iter::repeat_n(Align::Right, ncol - 1));
        Table {
            caption: format!(
                "{}: events and cumulative incidence of each cause{}.",
                cr.code,
                v.by_label
                    .as_ref()
                    .map(|b| format!(" by {b}"))
                    .unwrap_or_default()
            ),
            header: vec![h0, h1],
            body,
            footnote: Some(self.cif_table_footnote(v)),
            align,
        }
    }

    /// The two header rows of [`Self::cif_table`].
    fn cif_table_header(&self, v: &CrView) -> (Vec<Cell>, Vec<Cell>) {
        let nc = v.n_causes();
        let us = self.unit_short();
        let mut h0 = vec![
            Cell::default(),
            Cell::default(),
            Cell::spanning("Events", nc as u32),
        ];
        let mut h1 = vec![
            Cell::from(
                v.by_label
                    .clone()
                    .unwrap_or_else(|| "Population".to_string()),
            ),
            Cell::from("N"),
        ];
        for k in 1..=nc as u32 {
            h1.push(Cell::from(v.cause(k)));
        }
        if !v.times.is_empty() {
            for k in 1..=nc as u32 {
                h0.push(Cell::spanning(
                    format!("Cumulative incidence of {}, % (95% CI)", v.cause(k)),
                    v.times.len() as u32,
                ));
                for t in &v.times {
                    h1.push(Cell::from(format!("{} {us}", num_text(*t))));
                }
            }
        }
        (h0, h1)
    }

    /// Footnote of [`Self::cif_table`]: method, Gray's tests, left out,
    /// suppression.
    fn cif_table_footnote(&self, v: &CrView) -> String {
        let (f, cr) = (&self.f, v.cr);
        let mut foot = vec![format!(
            "Cumulative incidence by the Aalen\u{2013}Johansen estimator (each cause in the presence of the others) at {} {}, with 95% pointwise CI (cmprsk variance, log(\u{2212}log) transformation), as R cmprsk::cuminc. Events: first event of each cause; patients without an event are censored.",
            v.times.iter().map(|t| num_text(*t)).collect::<Vec<_>>().join(", "),
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
        foot.join("\n")
    }

    /// Fine–Gray subdistribution hazard ratios of every cause on the grouping.
    fn fine_gray_table(&self, cr: &CompetingResult, by_label: Option<&str>) -> Option<Table> {
        if cr.fine_gray.is_empty() {
            return None;
        }
        let f = &self.f;
        let mut body = vec![];
        for m in &cr.fine_gray {
            body.push(vec![
                Cell::bold(format!("{} (cause {})", m.cause_label, m.cause)),
                Cell::spanning(
                    format!(
                        "{} events, {} competing",
                        f.count(m.n_event),
                        f.count(m.n_competing)
                    ),
                    3,
                ),
            ]);
            if let Some(r) = m.terms.first().map(|t| t.reference.clone()) {
                body.push(vec![
                    Cell::indented(r, 1),
                    Cell::from("1 (reference)"),
                    Cell::default(),
                    Cell::default(),
                ]);
            }
            for t in &m.terms {
                body.push(vec![
                    Cell::indented(t.level.clone(), 1),
                    Cell::from(format_hr_ci(t.hr, t.hr_lower, t.hr_upper, 2)),
                    Cell::from(format_sig(t.coef, 3)),
                    Cell::from(f.p(Some(t.p))),
                ]);
            }
        }
        Some(Table {
            caption: format!(
                "{}: Fine\u{2013}Gray subdistribution hazard ratios of each cause{}.",
                cr.code,
                by_label.map(|b| format!(" by {b}")).unwrap_or_default()
            ),
            header: vec![vec![
                Cell::from("Cause / level"),
                Cell::from("SHR (95% CI)"),
                Cell::from("log SHR"),
                Cell::from("p"),
            ]],
            body,
            footnote: Some(
                "SHR: subdistribution hazard ratio (Fine & Gray 1999), the effect on the cumulative incidence of the cause with the other causes kept in the risk set; sandwich SE, Wald CI and p, as R cmprsk::crr(ftime, fstatus, cov1 = indicators of every level but the first, failcode = cause, cencode = 0)."
                    .into(),
            ),
            align: vec![],
        })
    }
}

/// One competing-risks result as the figure and the table read it: the
/// groups in display order and the times of the table.
struct CrView<'a> {
    cr: &'a CompetingResult,
    by_label: Option<String>,
    /// Groups in level order; curves of groups not in `by_levels` go last.
    groups: Vec<String>,
    /// The finite times of the `at` estimates, ascending.
    times: Vec<f64>,
}

impl<'a> CrView<'a> {
    fn new(cr: &'a CompetingResult, by_label: Option<String>) -> Self {
        let mut groups: Vec<String> = cr.by_levels.clone();
        for c in &cr.curves {
            if !groups.contains(&c.group) {
                groups.push(c.group.clone());
            }
        }
        groups.retain(|g| cr.curves.iter().any(|c| &c.group == g));
        let mut times: Vec<f64> = cr
            .curves
            .iter()
            .flat_map(|c| c.at.iter().map(|a| a.time))
            .filter(|t| t.is_finite())
            .collect();
        times.sort_by(f64::total_cmp);
        times.dedup();
        CrView {
            cr,
            by_label,
            groups,
            times,
        }
    }

    /// Label of cause `k` (1-based).
    fn cause(&self, k: u32) -> String {
        self.cr
            .causes
            .get((k as usize).wrapping_sub(1))
            .cloned()
            .unwrap_or_else(|| format!("cause {k}"))
    }

    /// A group as displayed (`All patients` without a grouping).
    fn display(&self, g: &str) -> String {
        if self.cr.by.is_none() && g == "all" {
            "All patients".to_string()
        } else {
            g.to_string()
        }
    }

    /// The curve of cause `k` in group `g`.
    fn curve(&self, g: &str, k: u32) -> Option<&'a CifCurveSummary> {
        self.cr.curves.iter().find(|c| c.group == g && c.cause == k)
    }

    /// Gray's test of cause `k`.
    fn gray(&self, k: u32) -> Option<&'a GraySummary> {
        self.cr.gray_test.iter().find(|g| g.cause == k)
    }

    /// Causes in the table: the plan's, or more when a curve has a higher
    /// cause number.
    fn n_causes(&self) -> usize {
        self.cr.causes.len().max(
            self.cr
                .curves
                .iter()
                .map(|c| c.cause as usize)
                .max()
                .unwrap_or(0),
        )
    }
}
