//! Multivariable Cox models.

#[allow(unused_imports)]
use crate::report::study::*;

impl Builder<'_> {
    pub(crate) fn multivariable_section(&mut self) -> Option<Section> {
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
            let strata = if m.strata.is_empty() {
                String::new()
            } else {
                format!(
                    ", stratified by {} (separate baseline hazards)",
                    m.strata
                        .iter()
                        .map(|g| label_of(&self.labels, g))
                        .collect::<Vec<_>>()
                        .join(" and ")
                )
            };
            blocks.push(Block::Paragraph(format!(
                "{}: Cox model with {}{strata} ({} patients with complete data, {} events; {} left out for missing covariates). Likelihood-ratio test {:.2} on {} df, {}.{}",
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
            if !m.interactions.is_empty() {
                let tests: Vec<String> = m
                    .interactions
                    .iter()
                    .map(|it| {
                        format!(
                            "{} \u{00d7} {} ({}): \u{03c7}\u{00b2} {:.2} on {} df, {}",
                            label_of(&self.labels, &it.variables[0]),
                            label_of(&self.labels, &it.variables[1]),
                            it.term,
                            it.chisq,
                            it.df,
                            self.f.p_eq(it.p)
                        )
                    })
                    .collect();
                blocks.push(Block::Paragraph(format!(
                    "{}: interaction terms, each tested by the likelihood-ratio test of the model with it against the model without it (R anova): {}. With an interaction, the hazard ratio of each of its main effects applies at the reference level (or 0) of the other.",
                    m.endpoint,
                    tests.join("; ")
                )));
            }
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
            blocks.push(Block::Table(self.mv_table(&m.endpoint, cox)));
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

    /// The multivariable model as a table (the forest figure's numbers,
    /// copyable): covariate, level, HR (95% CI), Wald p.
    pub(crate) fn mv_table(&self, endpoint: &str, cox: &CoxSummary) -> Table {
        let mut body = vec![];
        let mut done: Vec<&str> = vec![];
        for t in &cox.terms {
            if done.contains(&t.variable.as_str()) {
                continue;
            }
            done.push(&t.variable);
            let label = label_of(&self.labels, &t.variable);
            if t.level.is_none() {
                body.push(vec![
                    Cell::from(label),
                    Cell::from("per unit"),
                    Cell::from(hr_text(t)),
                    Cell::from(self.f.p(t.p)),
                ]);
                continue;
            }
            let mut first = true;
            let mut cov = || {
                let c = if first { label.clone() } else { String::new() };
                first = false;
                Cell::from(c)
            };
            if let Some(r) = &t.reference {
                body.push(vec![
                    cov(),
                    Cell::from(r.clone()),
                    Cell::from("1 (reference)"),
                    Cell::default(),
                ]);
            }
            for u in cox.terms.iter().filter(|u| u.variable == t.variable) {
                body.push(vec![
                    cov(),
                    Cell::from(u.level.clone().unwrap_or_else(|| u.term.clone())),
                    Cell::from(hr_text(u)),
                    Cell::from(self.f.p(u.p)),
                ]);
            }
        }
        Table {
            caption: format!(
                "{endpoint}: multivariable Cox model, hazard ratios with 95% confidence intervals (the numbers of the figure above)."
            ),
            header: vec![vec![
                Cell::from("Covariate"),
                Cell::from("Level"),
                Cell::from("HR (95% CI)"),
                Cell::from("p"),
            ]],
            body,
            footnote: Some("p: Wald test. Continuous covariates: HR per one unit.".to_string()),
            align: vec![Align::Left, Align::Left, Align::Right, Align::Right],
        }
    }

    pub(crate) fn mv_rows(&self, cox: &CoxSummary) -> Vec<ForestRow> {
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
}
