//! The numbers table of one endpoint and grouping.

#[allow(unused_imports)]
use crate::report::study::*;

impl Builder<'_> {
    pub(crate) fn numbers_table(&self, ep: &EndpointOverall, s: Option<&SurvivalByGroup>) -> Table {
        let lms: Vec<f64> = ep.overall.landmarks.iter().map(|l| l.time).collect();
        let (header0, header) = self.numbers_header(s, &lms);
        let groups: Vec<&GroupSummary> = match s {
            Some(s) => s.groups.iter().collect(),
            None => vec![&ep.overall],
        };
        let body = groups
            .iter()
            .enumerate()
            .map(|(gi, g)| self.numbers_row(s, gi, g, &lms))
            .collect();
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
            footnote: Some(self.numbers_footnote(ep, s, &lms)),
            align,
        }
    }

    /// The two header rows: spanners over the landmark and Cox columns,
    /// then the column names.
    fn numbers_header(&self, s: Option<&SurvivalByGroup>, lms: &[f64]) -> (Vec<Cell>, Vec<Cell>) {
        let unit_short = self.unit_short();
        let with_cox = s.is_some_and(|s| s.cox.is_some());
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
        for t in lms {
            header.push(Cell::from(format!("{} {unit_short}", num_text(*t))));
        }
        if with_cox {
            header.push(Cell::from("HR (95% CI)"));
            header.push(Cell::from("p"));
        }
        (header0, header)
    }

    /// The row of group `g` (the `gi`-th): counts, median, survival at the
    /// landmarks, then the Cox cells when the grouping has a model.
    fn numbers_row(
        &self,
        s: Option<&SurvivalByGroup>,
        gi: usize,
        g: &GroupSummary,
        lms: &[f64],
    ) -> Vec<Cell> {
        let f = &self.f;
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
                // an empty group shows as such (issue 12 §5)
                "no patients".to_string()
            } else {
                format_median(g.median, g.median_lower, g.median_upper)
            }),
        ];
        for t in lms {
            let lm = g.landmarks.iter().find(|l| l.time == *t);
            row.push(Cell::from(match lm {
                Some(l) => landmark_text(l.surv, l.lower, l.upper),
                None => "\u{2014}".to_string(),
            }));
        }
        if let Some(cox) = s.and_then(|s| s.cox.as_ref()) {
            row.extend(self.numbers_cox_cells(cox, gi, g));
        }
        row
    }

    /// HR (95% CI) and p of group `g`: its term, `1 (reference)` for the
    /// reference level (the first when the model names none), else a dash.
    fn numbers_cox_cells(&self, cox: &CoxSummary, gi: usize, g: &GroupSummary) -> [Cell; 2] {
        let reference = cox.terms.first().and_then(|t| t.reference.as_deref());
        let term = cox
            .terms
            .iter()
            .find(|t| t.level.as_deref() == Some(g.label.as_str()));
        match term {
            Some(t) => [Cell::from(hr_text(t)), Cell::from(self.f.p(t.p))],
            None if reference == Some(g.label.as_str()) || (reference.is_none() && gi == 0) => {
                [Cell::from("1 (reference)"), Cell::default()]
            }
            None => [Cell::from("\u{2014}"), Cell::default()],
        }
    }

    /// The footnote: estimation method, then (by a grouping) the log-rank
    /// test, the Cox model and its PH test, RMST, landmark and missing groups.
    fn numbers_footnote(
        &self,
        ep: &EndpointOverall,
        s: Option<&SurvivalByGroup>,
        lms: &[f64],
    ) -> String {
        let f = &self.f;
        let unit_short = self.unit_short();
        let mut foot = vec![format!(
            "Median and Kaplan\u{2013}Meier survival at {} {} ({unit_short}) with 95% CI ({} transformation; median CI by Brookmeyer\u{2013}Crowley). NR: not reached; NE: not estimable.",
            lms.iter().map(|t| num_text(*t)).collect::<Vec<_>>().join(", "),
            self.unit,
            self.r.conventions.km_conf_type.as_str()
        )];
        let Some(s) = s else {
            return foot.join("\n");
        };
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
                ties_name(self.r.conventions.cox_ties),
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
                num_text(l),
                self.unit,
                lms.iter().map(|t| format!("{} {unit_short}", num_text(*t))).collect::<Vec<_>>().join(", ")
            ));
        }
        if s.n_missing_group > 0 {
            foot.push(format!(
                "{} patients with unknown {} are left out.",
                f.count(s.n_missing_group),
                s.grouping_label
            ));
        }
        foot.join("\n")
    }
}
