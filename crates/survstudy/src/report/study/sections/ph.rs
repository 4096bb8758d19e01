//! Proportional-hazards tables, sentences and residual figures.

#[allow(unused_imports)]
use crate::report::study::*;

impl Builder<'_> {
    pub(crate) fn ph_p_cell(&self, row: &PhRow) -> Cell {
        let t = self.f.p(Some(row.p));
        if ph_flagged(row) {
            Cell::bold(format!("{t}\u{2020}"))
        } else {
            Cell::from(t)
        }
    }

    /// One line for a table footnote: every term and GLOBAL.
    pub(crate) fn ph_sentence(&self, ph: &PhTest, label: &dyn Fn(&str) -> String) -> String {
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

    pub(crate) fn ph_footnote(&self, any_flagged: bool) -> String {
        let mut s = "Grambsch\u{2013}Therneau score test of the scaled Schoenfeld residuals against Kaplan\u{2013}Meier-transformed time (R survival 3.x cox.zph); one row per term (all design columns of a factor jointly) and GLOBAL for the whole model. A small p-value is evidence against proportional hazards.".to_string();
        if any_flagged {
            s.push_str(&format!(
                "\n\u{2020} p < {PH_FLAG_P}: the proportional-hazards assumption is doubtful for this term; its scaled Schoenfeld residuals are plotted over time below."
            ));
        }
        s
    }

    pub(crate) fn ph_univariable_table(
        &self,
        code: &str,
        entries: &[&SurvivalByGroup],
    ) -> Option<Table> {
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

    pub(crate) fn ph_multivariable_table(&self, endpoint: &str, ph: &PhTest) -> Table {
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
    pub(crate) fn ph_residual_figures(
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
            let binned = !res.bins.is_empty() && res.n_events > MAX_EVENT_POINTS;
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
                // a binned plot draws only its bins: the events are not copied
                time: if binned { vec![] } else { res.time.clone() },
                beta_t: if binned { vec![] } else { res.beta_t.clone() },
                n_events: res.n_events,
                bins: res
                    .bins
                    .iter()
                    .map(|b| PhResidualBin {
                        time_from: b.time_from,
                        time_to: b.time_to,
                        q25: b.q25,
                        median: b.median,
                        q75: b.q75,
                    })
                    .collect(),
                max_event_points: MAX_EVENT_POINTS,
                smooth: res.smooth.as_ref().map(|sm| PhSmoothLine {
                    time: sm.time.clone(),
                    fit: sm.fit.clone(),
                    lower: sm.lower.clone(),
                    upper: sm.upper.clone(),
                }),
                reference,
                reference_label: ref_label,
                x_ticks: TickSpec::Months,
            };
            let points = if plot.binned() {
                format!(
                    "points: \u{3b2}(t) = scaled residual + coefficient, binned: {} bins of equal event count ({} events), each drawn at the middle of its time range as the median with a whisker from the 25th to the 75th percentile",
                    plot.bins.len(),
                    res.n_events
                )
            } else {
                "points: \u{3b2}(t) at each event = scaled residual + coefficient".to_string()
            };
            let smooth_text = if plot.smooth.is_some() {
                "Solid line: natural-spline smooth (ns, df = 4, on the Kaplan\u{2013}Meier-transformed time, as R plot.cox.zph), shaded: \u{b1}2 SE"
            } else {
                "No smooth (the spline fit was singular)"
            };
            let svg = render_ph_residuals_svg(&plot, &self.style());
            let lm = match landmark {
                Some(l) => format!(" Landmark analysis ({}).", self.landmark_phrase(l)),
                None => String::new(),
            };
            let caption = format!(
                "{}: scaled Schoenfeld residuals of {lab} over time ({points}). {smooth_text}; dashed: {}; dotted: zero. A flat smooth supports proportional hazards; a trend suggests the effect changes over time (Grambsch\u{2013}Therneau {}).{ref_note}{lm}",
                title(&row.term),
                if row.df > 1 { "the reference value 1" } else { "the Cox estimate" },
                self.f.p_eq(row.p)
            );
            out.push(self.figure(&name(&row.term), caption, svg));
        }
        out
    }
}
