//! One endpoint: overall Kaplan–Meier curve, a figure per grouping and the
//! forest plot of the univariable hazard ratios.

#[allow(unused_imports)]
use crate::report::study::*;

impl Builder<'_> {
    pub(crate) fn km_group(&self, g: &GroupSummary) -> Option<KmPlotGroup> {
        let c = g.curve.as_ref()?;
        let censored: Vec<bool> = (0..c.time.len())
            .map(|i| c.n_censor.get(i).copied().unwrap_or(0) > 0)
            .collect();
        Some(self.km_plot_group(
            g.label.clone(),
            (g.n as u64, g.events as u64),
            format_median(g.median, g.median_lower, g.median_upper),
            KmSteps {
                time: c.time.clone(),
                surv: c.surv.clone(),
                lower: c.lower.clone(),
                upper: c.upper.clone(),
            },
            &censored,
            c.n_risk.clone(),
        ))
    }

    /// One group of a KM figure: its step curve, a censoring mark at each
    /// time with `censored[i]`, and the number at risk `n_risk[i]` at each
    /// curve time (shown when the report draws risk tables).
    pub(crate) fn km_plot_group(
        &self,
        label: String,
        (n, events): (u64, u64),
        median_text: String,
        steps: KmSteps,
        censored: &[bool],
        n_risk: Vec<u64>,
    ) -> KmPlotGroup {
        let (mut ct, mut cs) = (vec![], vec![]);
        for (i, &t) in steps.time.iter().enumerate() {
            if censored.get(i).copied().unwrap_or(false) {
                ct.push(t);
                cs.push(steps.surv.get(i).copied().unwrap_or(f64::NAN));
            }
        }
        let table: Vec<RiskPoint> = steps
            .time
            .iter()
            .zip(n_risk)
            .map(|(&time, n_risk)| RiskPoint { time, n_risk })
            .collect();
        KmPlotGroup {
            label,
            n,
            events,
            median_text,
            steps,
            censor_times: ct,
            censor_surv: cs,
            at_risk: if self.opts.risk_table {
                AtRisk::Table(table)
            } else {
                AtRisk::None
            },
        }
    }

    pub(crate) fn km_svg(
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

    pub(crate) fn endpoint_section(&mut self, ep: &EndpointOverall) -> Section {
        let code = ep.endpoint.clone();
        let mut blocks = vec![self.endpoint_intro(ep)];
        if ep.overall.curve.is_some() {
            blocks.extend(self.endpoint_overall_blocks(ep));
        }
        let entries: Vec<&SurvivalByGroup> = self
            .r
            .survival
            .iter()
            .filter(|s| s.endpoint == code)
            .collect();
        for s in &entries {
            blocks.extend(self.endpoint_grouping_blocks(ep, s));
        }
        if let Some(b) = self.endpoint_forest(&code, &entries) {
            blocks.push(b);
        }
        if let Some(t) = self.ph_univariable_table(&code, &entries) {
            blocks.push(Block::Table(t));
        }
        let lc = code.to_ascii_lowercase();
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

    /// The opening paragraph: patients, events, median and follow-up.
    fn endpoint_intro(&self, ep: &EndpointOverall) -> Block {
        let code = &ep.endpoint;
        let unit = &self.unit;
        let o = &ep.overall;
        let fu = if ep.follow_up_median.is_some() {
            format!(
                "Median follow-up (reverse Kaplan\u{2013}Meier) was {}.",
                median_sentence(
                    ep.follow_up_median,
                    ep.follow_up_lower,
                    ep.follow_up_upper,
                    unit
                )
            )
        } else {
            format!(
                "Median follow-up (reverse Kaplan\u{2013}Meier) was not reached (lower 95% limit {} {unit}): too few patients were censored to estimate it.",
                ep.follow_up_lower.map_or_else(|| "NE".to_string(), t1)
            )
        };
        Block::Paragraph(format!(
            "{}. {} patients, {} events. Median {code} was {}. {fu}",
            ep.endpoint_label,
            self.f.count(o.n),
            self.f.count(o.events),
            median_sentence(o.median, o.median_lower, o.median_upper, unit),
        ))
    }

    /// The all-patients figure and its numbers table.
    fn endpoint_overall_blocks(&mut self, ep: &EndpointOverall) -> [Block; 2] {
        let code = &ep.endpoint;
        let all = GroupSummary {
            label: "All patients".to_string(),
            ..ep.overall.clone()
        };
        let svg = self.km_svg(
            format!("{code}, all patients"),
            format!("{code} probability"),
            &[&all],
            None,
            None,
        );
        let figure = self.figure(
            &format!("{}_overall", code.to_ascii_lowercase()),
            format!(
                "{}: Kaplan\u{2013}Meier estimate for all patients with 95% confidence band.",
                ep.endpoint_label
            ),
            svg,
        );
        [figure, Block::Table(self.numbers_table(ep, None))]
    }

    /// What a grouping's stratified Cox model is stratified by, with the
    /// stratified log-rank test.
    fn stratified_cox_paragraph(&self, code: &str, s: &SurvivalByGroup) -> Block {
        let by = s
            .cox_strata
            .iter()
            .map(|g| label_of(&self.labels, g))
            .collect::<Vec<_>>()
            .join(" and ");
        let lr = s
            .logrank_stratified
            .as_ref()
            .map(|l| {
                format!(
                    " Stratified log-rank test: \u{03c7}\u{00b2} {:.2} on {} df, {}.",
                    l.chisq,
                    l.df,
                    self.f.p_eq(l.p)
                )
            })
            .unwrap_or_default();
        Block::Paragraph(format!(
            "{code} by {}: the Cox model is stratified by {by} (separate baseline hazards; R coxph(... + strata()), hazard ratios within strata).{lr}",
            s.grouping_label
        ))
    }

    /// The figure, numbers table and notes of one grouping.
    fn endpoint_grouping_blocks(
        &mut self,
        ep: &EndpointOverall,
        s: &SurvivalByGroup,
    ) -> Vec<Block> {
        let code = &ep.endpoint;
        let p_text = s
            .logrank
            .as_ref()
            .map(|l| format!("Log-rank {}", self.f.p_eq(l.p)));
        let groups: Vec<&GroupSummary> = s.groups.iter().collect();
        let n_curves = groups.iter().filter(|g| g.curve.is_some()).count();
        let svg = self.km_svg(
            self.landmark_title(&format!("{code} by {}", s.grouping_label), s.landmark),
            format!("{code} probability"),
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
        let figure = self.figure(
            &format!("{}_by_{}", code.to_ascii_lowercase(), s.grouping),
            format!(
                "{code} by {}: Kaplan\u{2013}Meier estimates; + marks censored patients.{bands} Number at risk at each tick below the plot.{lm}",
                s.grouping_label
            ),
            svg,
        );
        let mut blocks = vec![figure, Block::Table(self.numbers_table(ep, Some(s)))];
        if !s.cox_strata.is_empty() {
            blocks.push(self.stratified_cox_paragraph(code, s));
        }
        for n in &s.notes {
            blocks.push(Block::Notice(format!(
                "{code} by {}: {n}",
                s.grouping_label
            )));
        }
        blocks
    }

    /// The forest plot of the univariable hazard ratios of every grouping
    /// with a Cox model (`None` when there is none).
    fn endpoint_forest(&mut self, code: &str, entries: &[&SurvivalByGroup]) -> Option<Block> {
        let mut rows = vec![];
        for s in entries {
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
        if rows.is_empty() {
            return None;
        }
        let plot = ForestPlot {
            rows,
            label_header: "Grouping / level".to_string(),
            ..ForestPlot::default()
        };
        let svg = render_forest_svg(&plot);
        Some(self.figure(
            &format!("forest_{}_univariable", code.to_ascii_lowercase()),
            format!(
                "{code}: univariable Cox hazard ratios (95% CI, log scale) of each grouping; the first level of each grouping is the reference. p: Wald test."
            ),
            svg,
        ))
    }

    pub(crate) fn forest_estimate(&self, t: &CoxTermSummary, label: &str, indent: u8) -> ForestRow {
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
}
