//! The methods section.

use crate::analysis::conventions::{median_ci_rule, LOGRANK_DF};
#[allow(unused_imports)]
use crate::report::study::*;

impl Builder<'_> {
    /// Each endpoint's unit and, for a duration export, how its times were
    /// read; `None` when every endpoint uses the study's unit from dates.
    pub(crate) fn endpoint_units_sentence(&self) -> Option<String> {
        let c = &self.r.conventions;
        let parts: Vec<String> = self
            .r
            .endpoints
            .iter()
            .filter_map(|e| {
                let u = e.time_unit?;
                let unit = match e.days_per_unit {
                    Some(d) if u != crate::plan::TimeUnit::Days => {
                        format!("{} (days / {d})", u.name())
                    }
                    _ => u.name().to_string(),
                };
                Some(match &e.duration {
                    Some(d) => format!(
                        "{} in {unit}, read from the duration column {} (in {}, from {}) with the event when {} is {}",
                        e.endpoint,
                        d.column,
                        d.unit.name(),
                        date_phrase(&d.from, Some(&d.from)),
                        d.status_column,
                        d.event_values.join(" or ")
                    ),
                    None => format!("{} in {unit}", e.endpoint),
                })
            })
            .collect();
        if parts.is_empty() {
            return None;
        }
        Some(format!(
            "Time units by endpoint: {}. Landmark and other times of the plan are given in {} and converted to each endpoint's unit.",
            parts.join("; "),
            c.time_unit.name()
        ))
    }

    pub(crate) fn methods_section(&self) -> Section {
        let c = &self.r.conventions;
        let p1 = self.methods_time_paragraph();
        let p2 = self.methods_estimation_paragraph();
        let p3 = match &self.r.table1 {
            Some(t) => format!(
                "Baseline characteristics were summarised as n (%) and median (interquartile range) and compared by {}: {}.",
                t.by_label, c.table1_tests
            ),
            None => String::new(),
        };
        let p4 = format!(
            "All tests were two-sided with no adjustment for multiple comparisons; p-values are given to two significant figures (values below {} as <{}). Analyses were run with {} using the \u{201c}{}\u{201d} convention preset.",
            self.opts.p_floor, self.opts.p_floor, c.software, c.preset.as_str()
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
        blocks.push(Block::Table(self.conventions_table()));
        Section {
            heading: "Methods".to_string(),
            blocks,
        }
    }

    /// Time zero, the time unit, the endpoints and their censoring dates.
    fn methods_time_paragraph(&self) -> String {
        let c = &self.r.conventions;
        let tz = date_phrase(&c.time_zero, c.time_zero_label.as_deref());
        if self.r.endpoints.is_empty() {
            return format!(
                "Time zero was the date of {}; times are in {} (days / {}).",
                tz,
                c.time_unit.name(),
                c.days_per_unit
            );
        }
        let ep_defs: Vec<String> = self
            .r
            .endpoints
            .iter()
            .map(|e| format!("{}: {}", e.endpoint, e.endpoint_label))
            .collect();
        // the censoring date by its label: one phrase when every endpoint
        // shares it, else one per endpoint
        let censor_one = |d: &crate::analysis::conventions::CensorDate| {
            format!(
                "{} ({})",
                date_phrase(&d.column, d.label.as_deref()),
                d.column
            )
        };
        let censor = match c.censor_dates.first() {
            None => "the censoring date defined in the analysis plan".to_string(),
            Some(d) if c.censor_dates.iter().all(|e| e.column == d.column) => {
                format!("the date of {}", censor_one(d))
            }
            Some(_) => c
                .censor_dates
                .iter()
                .map(|d| format!("{}: {}", d.endpoint, censor_one(d)))
                .collect::<Vec<_>>()
                .join("; "),
        };
        let mut p1 = if c.time_zero.is_empty() {
            // a durations export: no dates, no time zero
            format!(
                "The export gives each endpoint as a duration with an event status (no dates). Endpoints were defined as follows \u{2014} {}. Times are in {} unless stated below (1 {} = {} days).",
                ep_defs.join("; "),
                c.time_unit.name(),
                c.time_unit.name().trim_end_matches('s'),
                c.days_per_unit,
            )
        } else {
            format!(
                "Time zero was the date of {} ({}). Times were converted from days to {} (1 {} = {} days). Endpoints were defined as follows \u{2014} {}. Patients without an event were censored at {censor}.",
                tz,
                c.time_zero,
                c.time_unit.name(),
                c.time_unit.name().trim_end_matches('s'),
                c.days_per_unit,
                ep_defs.join("; "),
            )
        };
        if let Some(imputed) = self.partial_dates_sentence() {
            p1 = format!("{p1} {imputed}");
        }
        if let Some(units) = self.endpoint_units_sentence() {
            p1 = format!("{p1} {units}");
        }
        p1
    }

    /// How partial dates were imputed, with counts; `None` when none were.
    fn partial_dates_sentence(&self) -> Option<String> {
        if self.r.flow.partial_dates.is_empty() {
            return None;
        }
        let parts: Vec<String> = self
            .r
            .flow
            .partial_dates
            .iter()
            .map(|p| {
                format!(
                    "{} in {} ({})",
                    self.f.count(p.imputed_analysed),
                    p.column,
                    if p.rule == "middle" {
                        "middle: the 15th of the month, 1 July of the year"
                    } else {
                        "first: the 1st of the month, 1 January of the year"
                    }
                )
            })
            .collect();
        Some(format!(
            "Dates given only as a month and year or as a year were imputed: {} among the analysed patients.",
            parts.join("; ")
        ))
    }

    /// Kaplan–Meier, median and follow-up, log-rank, Cox and the
    /// multivariable models.
    fn methods_estimation_paragraph(&self) -> String {
        let c = &self.r.conventions;
        let conf = self.conf_pct();
        let scale = ci_scale_phrase(c.km_conf_type);
        let ties = ties_phrase(c.cox_ties);
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
        format!(
            "Survival was estimated with the Kaplan\u{2013}Meier method with {conf} pointwise confidence intervals {scale}. Confidence intervals of the median followed the Brookmeyer\u{2013}Crowley method ({}). Median follow-up was estimated with the reverse Kaplan\u{2013}Meier method (censoring as the event). Survival was compared between groups with the log-rank (Mantel\u{2013}Haenszel) test ({}), and hazard ratios with {conf} confidence intervals were estimated with Cox proportional-hazards regression, ties handled by {ties} ({}).{}",
            median_ci_rule(c.km_conf_type),
            LOGRANK_DF,
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
        )
    }

    /// The table of the run's statistical conventions.
    fn conventions_table(&self) -> Table {
        let c = &self.r.conventions;
        let conf = self.conf_pct();
        let tz = date_phrase(&c.time_zero, c.time_zero_label.as_deref());
        let mut rows: Vec<(&str, String)> = vec![
            ("Preset", c.preset.as_str().to_string()),
            (
                "Time zero",
                if c.time_zero.is_empty() {
                    "none: every endpoint is a duration export".to_string()
                } else {
                    format!("{} ({})", capitalise(&tz), c.time_zero)
                },
            ),
            ("Time unit", {
                let own: Vec<String> = self
                    .r
                    .endpoints
                    .iter()
                    .filter_map(|e| e.time_unit.map(|u| format!("{} {}", e.endpoint, u.name())))
                    .collect();
                if own.is_empty() {
                    format!("{} (days / {})", c.time_unit.name(), c.days_per_unit)
                } else {
                    format!(
                        "{} (days / {}); by endpoint: {}",
                        c.time_unit.name(),
                        c.days_per_unit,
                        own.join(", ")
                    )
                }
            }),
            (
                "Kaplan\u{2013}Meier CI",
                format!("{} ({conf})", c.km_conf_type.as_str()),
            ),
            ("Median CI", c.median_ci.clone()),
            ("Log-rank", c.logrank.clone()),
            ("Cox ties", c.cox_ties.as_str().to_string()),
            ("Cox CI", c.cox_ci.clone()),
            ("Follow-up", c.follow_up.clone()),
            ("Table 1 tests", c.table1_tests.clone()),
        ];
        rows.extend(self.conventions_extra());
        rows.push(("Software", c.software.clone()));
        Table {
            caption: "Statistical conventions of this run.".to_string(),
            header: vec![vec![Cell::from("Convention"), Cell::from("Value")]],
            body: rows
                .into_iter()
                .map(|(k, v)| vec![Cell::bold(k), Cell::from(v)])
                .collect(),
            footnote: None,
            align: vec![Align::Left, Align::Left],
        }
    }
}
