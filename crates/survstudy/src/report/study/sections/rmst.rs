//! Restricted mean survival time.

#[allow(unused_imports)]
use crate::report::study::*;

impl Builder<'_> {
    pub(crate) fn rmst_sentence(&self, r: &RmstSummary) -> String {
        let tau = num_text(r.tau);
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

    pub(crate) fn rmst_table(&self, code: &str, entries: &[&SurvivalByGroup]) -> Option<Table> {
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
            .map(|t| num_text(*t))
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
                    label.push_str(&format!(" (\u{3c4} = {})", num_text(r.tau)));
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
}
