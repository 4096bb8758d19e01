//! The plan's confounding adjustment (propensity-score weighting: balance
//! table, Love plot, weights with ESS, weighted Kaplan–Meier figures with
//! weighted risk tables, weighted Cox HR, g-formula adjusted survival) and
//! the time-dependent exposures (Cox models on (start, stop] rows), each
//! with its methods paragraph.

use crate::analysis::adjustment::{AdjustedEndpoint, AdjustmentResult, SMD_FLAG};
use crate::analysis::timedep::TimeDependentResult;
use crate::report::chart::love::{render_love_svg, LovePlot, LoveRow};
#[allow(unused_imports)]
use crate::report::study::*;

fn sig3(x: f64) -> String {
    if x.is_finite() {
        format_sig(x, 3)
    } else {
        "NE".to_string()
    }
}

fn smd_text(x: f64) -> String {
    if x.is_finite() {
        signed(x, 3)
    } else {
        "NE".to_string()
    }
}

fn pct1(x: f64) -> String {
    if x.is_finite() {
        format!("{:.1}", 100.0 * x)
    } else {
        "NE".to_string()
    }
}

impl Builder<'_> {
    pub(crate) fn adjustment_section(&mut self) -> Option<Section> {
        let a = self.r.adjustment.as_ref()?;
        let mut blocks = vec![];
        let est = match a.estimand.as_str() {
            "att" => "the average effect in the exposed (ATT)",
            "ato" => "the overlap population (ATO)",
            _ => "the average effect in the whole cohort (ATE)",
        };
        blocks.push(Block::Paragraph(format!(
            "{}: patients with {} were compared with patients with {} after propensity-score weighting for {}, targeting {est}{}{}. {} of {} patients with a known {} had every covariate and were weighted{}.",
            a.exposure_label,
            a.exposed_level,
            a.reference_level,
            if a.covariates.is_empty() {
                "no covariate".to_string()
            } else {
                a.covariates
                    .iter()
                    .map(|c| label_of(&self.labels, c))
                    .collect::<Vec<_>>()
                    .join(", ")
            },
            if a.stabilized { ", with stabilized weights" } else { "" },
            match a.trim {
                Some(q) => format!(
                    ", trimming propensity scores outside [{}, {}]",
                    num_text(q),
                    num_text(1.0 - q)
                ),
                None => String::new(),
            },
            self.f.count(a.n_complete),
            self.f.count(a.n_exposure),
            a.exposure_label,
            if a.n_trimmed > 0 {
                format!(
                    " ({} trimmed, {} analysed)",
                    self.f.count(a.n_trimmed),
                    self.f.count(a.n_analysed)
                )
            } else {
                String::new()
            }
        )));
        if let Some(e) = &a.error {
            blocks.push(Block::Notice(format!("No adjusted estimate: {e}")));
        }
        for w in &a.warnings {
            blocks.push(Block::Notice(format!("Adjustment: {w}")));
        }
        if a.error.is_none() {
            if let Some(t) = self.ps_table(a) {
                blocks.push(Block::Table(t));
            }
            blocks.push(Block::Table(self.weights_table(a)));
            blocks.push(Block::Table(self.balance_table(a)));
            let rows: Vec<LoveRow> = a
                .balance
                .iter()
                .map(|b| LoveRow {
                    label: match &b.level {
                        Some(l) => format!("{}: {l}", b.label),
                        None => b.label.clone(),
                    },
                    before: b.row.smd_before,
                    after: b.row.smd_after,
                })
                .collect();
            let svg = render_love_svg(&LovePlot {
                title: format!("Covariate balance: {}", a.exposure_label),
                rows,
                x_label: format!(
                    "Standardized mean difference ({} \u{2212} {})",
                    a.exposed_level, a.reference_level
                ),
                ..LovePlot::default()
            });
            let b = self.figure(
                &format!("love_{}", a.exposure),
                format!(
                    "Love plot: standardized mean difference of each covariate (category levels separately) between {} {} and {} before (open circles) and after (filled circles) weighting; dashed lines at \u{b1}{SMD_FLAG}.",
                    a.exposure_label, a.exposed_level, a.reference_level
                ),
                svg,
            );
            blocks.push(b);
            for e in &a.endpoints {
                blocks.extend(self.adjusted_endpoint(a, e));
            }
        }
        blocks.push(Block::Paragraph(self.adjustment_methods(a)));
        Some(Section {
            heading: format!("Confounding adjustment: {}", a.exposure_label),
            blocks,
        })
    }

    fn ps_table(&self, a: &AdjustmentResult) -> Option<Table> {
        let m = a.ps_model.as_ref()?;
        let body = m
            .terms
            .iter()
            .map(|t| {
                vec![
                    Cell::from(t.term.as_str()),
                    Cell::from(sig3(t.coef)),
                    Cell::from(sig3(t.se)),
                    Cell::from(self.f.p(Some(t.p))),
                ]
            })
            .collect();
        let range = m
            .ps_range
            .iter()
            .map(|r| format!("{} {}\u{2013}{}", r.level, sig3(r.min), sig3(r.max)))
            .collect::<Vec<_>>()
            .join("; ");
        Some(Table {
            caption: format!(
                "Propensity model: logistic regression of {} {} on the covariates (n = {}).",
                a.exposure_label,
                a.exposed_level,
                self.f.count(m.n)
            ),
            header: vec![vec![
                Cell::from("Term"),
                Cell::from("Coefficient (log odds)"),
                Cell::from("SE"),
                Cell::from("p"),
            ]],
            body,
            footnote: Some(format!(
                "R: {}. Residual deviance {}, AIC {}, {} IRLS iterations. Propensity-score range by arm: {range}.",
                m.call,
                sig3(m.deviance),
                sig3(m.aic),
                m.iterations
            )),
            align: vec![],
        })
    }

    fn weights_table(&self, a: &AdjustmentResult) -> Table {
        let body = a
            .weights
            .iter()
            .map(|s| {
                vec![
                    Cell::from(format!("{}: {}", a.exposure_label, s.group)),
                    Cell::from(self.f.count(s.n)),
                    Cell::from(sig3(s.sum)),
                    Cell::from(sig3(s.min)),
                    Cell::from(sig3(s.max)),
                    Cell::from(sig3(s.mean)),
                    Cell::from(format!("{:.1}", s.ess)),
                ]
            })
            .collect();
        Table {
            caption: "Weight distribution and effective sample size by arm.".into(),
            header: vec![vec![
                Cell::from("Arm"),
                Cell::from("Patients"),
                Cell::from("Sum of weights"),
                Cell::from("Min"),
                Cell::from("Max"),
                Cell::from("Mean"),
                Cell::from("ESS"),
            ]],
            body,
            footnote: Some(format!(
                "Weights: {}. ESS: Kish's effective sample size (\u{3a3}w)\u{b2}/\u{3a3}w\u{b2}, as WeightIt's summary().",
                a.weights_formula
            )),
            align: vec![],
        }
    }

    fn balance_table(&self, a: &AdjustmentResult) -> Table {
        let mut body = vec![];
        let mut last = String::new();
        for b in &a.balance {
            let name = match &b.level {
                Some(l) => {
                    if b.variable != last {
                        body.push(vec![Cell::bold(b.label.clone()), Cell::spanning("", 6)]);
                    }
                    Cell::indented(l.clone(), 1)
                }
                None => Cell::bold(b.label.clone()),
            };
            last = b.variable.clone();
            let (fmt_mean, unit) = if b.level.is_some() {
                (pct1 as fn(f64) -> String, "%")
            } else {
                (sig3 as fn(f64) -> String, "")
            };
            let flag = if b.row.smd_after.abs() > SMD_FLAG {
                " *"
            } else {
                ""
            };
            body.push(vec![
                name,
                Cell::from(format!("{}{unit}", fmt_mean(b.row.mean_treated_before))),
                Cell::from(format!("{}{unit}", fmt_mean(b.row.mean_control_before))),
                Cell::from(smd_text(b.row.smd_before)),
                Cell::from(format!("{}{unit}", fmt_mean(b.row.mean_treated_after))),
                Cell::from(format!("{}{unit}", fmt_mean(b.row.mean_control_after))),
                Cell::from(format!("{}{flag}", smd_text(b.row.smd_after))),
            ]);
        }
        Table {
            caption: format!(
                "Covariate balance between {} {} and {} before and after weighting.",
                a.exposure_label, a.exposed_level, a.reference_level
            ),
            header: vec![vec![
                Cell::from("Covariate"),
                Cell::from(format!("Mean, {} (before)", a.exposed_level)),
                Cell::from(format!("Mean, {} (before)", a.reference_level)),
                Cell::from("SMD before"),
                Cell::from(format!("Weighted mean, {}", a.exposed_level)),
                Cell::from(format!("Weighted mean, {}", a.reference_level)),
                Cell::from("SMD after"),
            ]],
            body,
            footnote: Some(format!(
                "Categories: percentage with each level. {}. * |SMD| > {SMD_FLAG} after weighting (residual imbalance).",
                a.balance_formula
            )),
            align: vec![],
        }
    }

    fn adjusted_endpoint(&mut self, a: &AdjustmentResult, e: &AdjustedEndpoint) -> Vec<Block> {
        let code = e.endpoint.clone();
        self.with_endpoint(&code, |b| b.adjusted_endpoint_blocks(a, e))
    }

    fn adjusted_endpoint_blocks(
        &mut self,
        a: &AdjustmentResult,
        e: &AdjustedEndpoint,
    ) -> Vec<Block> {
        let code = e.endpoint.clone();
        let mut blocks = vec![];
        let groups: Vec<KmPlotGroup> = e
            .arms
            .iter()
            .map(|arm| {
                let c = &arm.curve;
                let censored: Vec<bool> = c.n_censor.iter().map(|&k| k > 0.0).collect();
                // weighted counts: the risk table shows rounded sums of weights
                let n_risk: Vec<u64> = c
                    .n_risk
                    .iter()
                    .map(|&n| n.max(0.0).round() as u64)
                    .collect();
                self.km_plot_group(
                    arm.level.clone(),
                    (arm.n as u64, arm.events as u64),
                    format_median(arm.median, arm.median_lower, arm.median_upper),
                    KmSteps {
                        time: c.time.clone(),
                        surv: c.surv.clone(),
                        lower: c.lower.clone(),
                        upper: c.upper.clone(),
                    },
                    &censored,
                    n_risk,
                )
            })
            .collect();
        if !groups.is_empty() {
            let p = e
                .cox
                .as_ref()
                .and_then(|c| c.robust_score_p)
                .map(|p| format!("Robust score test {}", self.f.p_eq(p)));
            let plot = KmPlot {
                title: format!("{code} by {}, weighted", a.exposure_label),
                x_label: self.x_label(),
                y_label: format!("{code} probability (weighted)"),
                median_header: format!("Median, {} ({} CI)", self.unit, self.conf_pct()),
                show_ci: self.opts.ci_bands.show(groups.len()),
                groups,
                pvalue_text: p,
                show_risk_table: self.opts.risk_table,
                x_ticks: TickSpec::Months,
                x_max: None,
            };
            let style = PlotStyle {
                risk_table_title: "Weighted number at risk (sum of weights, rounded)".into(),
                ..self.style()
            };
            let svg = render_km_svg(&plot, &style);
            let b = self.figure(
                &format!("{}_weighted_by_{}", code.to_ascii_lowercase(), a.exposure),
                format!(
                    "{code} by {}: propensity-score weighted Kaplan\u{2013}Meier estimates with robust (infinitesimal-jackknife) {} confidence bands; + marks censored patients. Legend: unweighted patients and events, weighted median. The table below the plot is the weighted number at risk (sum of the weights of the patients at risk, rounded), not a count of patients.",
                    a.exposure_label,
                    self.conf_pct()
                ),
                svg,
            );
            blocks.push(b);
        }
        blocks.push(Block::Table(self.adjusted_table(a, e)));
        for n in &e.notes {
            blocks.push(Block::Notice(format!("{code}, adjustment: {n}")));
        }
        if let Some(c) = &e.cox {
            for w in &c.warnings {
                blocks.push(Block::Notice(format!("{code}, weighted Cox model: {w}")));
            }
        }
        blocks
    }

    fn adjusted_table(&self, a: &AdjustmentResult, e: &AdjustedEndpoint) -> Table {
        let code = &e.endpoint;
        let cols = a.times.len();
        let mut body = vec![];
        for arm in &e.arms {
            let mut row = vec![Cell::from(format!("Weighted KM, {}", arm.level))];
            for at in &arm.at {
                row.push(Cell::from(landmark_text(
                    Some(at.surv.max(0.0)),
                    Some(at.lower),
                    Some(at.upper),
                )));
            }
            body.push(row);
        }
        if let Some(g) = &e.adjusted {
            for (name, v, lo, hi) in [
                (
                    format!("g-formula, {}", a.reference_level),
                    &g.surv_reference,
                    &g.lower_reference,
                    &g.upper_reference,
                ),
                (
                    format!("g-formula, {}", a.exposed_level),
                    &g.surv_exposed,
                    &g.lower_exposed,
                    &g.upper_exposed,
                ),
            ] {
                let mut row = vec![Cell::from(name)];
                row.extend((0..v.len()).map(|k| {
                    Cell::from(landmark_text(
                        Some(v[k].max(0.0)),
                        lo.get(k).copied(),
                        hi.get(k).copied(),
                    ))
                }));
                body.push(row);
            }
            let mut row = vec![Cell::from(format!(
                "g-formula difference, {} \u{2212} {} (points, {} CI)",
                a.exposed_level,
                a.reference_level,
                self.conf_pct()
            ))];
            row.extend((0..g.difference.len()).map(|k| {
                let d = g.difference[k];
                let (lo, hi) = (
                    g.difference_lower.get(k).copied().unwrap_or(f64::NAN),
                    g.difference_upper.get(k).copied().unwrap_or(f64::NAN),
                );
                Cell::from(if lo.is_finite() && hi.is_finite() {
                    format!(
                        "{} ({} to {})",
                        signed(100.0 * d, 1),
                        signed(100.0 * lo, 1),
                        signed(100.0 * hi, 1)
                    )
                } else {
                    signed(100.0 * d, 1)
                })
            }));
            body.push(row);
        }
        if let Some(c) = &e.cox {
            let mut row = vec![Cell::from(format!(
                "Weighted Cox HR, {} vs {} ({} CI)",
                a.exposed_level,
                a.reference_level,
                self.conf_pct()
            ))];
            row.push(Cell::spanning(
                format!(
                    "{}; robust SE {}; Wald {}; robust score {}",
                    format_hr_ci(c.hr, c.hr_lower, c.hr_upper, 2),
                    sig3(c.robust_se),
                    self.f.p_eq(c.p),
                    c.robust_score_p
                        .map_or("NE".to_string(), |p| self.f.p_eq(p))
                ),
                cols.max(1) as u32,
            ));
            body.push(row);
        }
        let mut header = vec![Cell::from("Estimate")];
        for t in &a.times {
            header.push(Cell::from(format!("{} {}", num_text(*t), self.unit)));
        }
        Table {
            caption: format!(
                "{code} by {}: weighted and g-formula adjusted survival, and the weighted hazard ratio ({} weighted patients, {} events).",
                a.exposure_label,
                self.f.count(e.n),
                self.f.count(e.events)
            ),
            header: vec![header],
            body,
            footnote: Some(format!(
                "Weighted KM: survival (robust {conf} CI). g-formula: mean of every patient's Cox-predicted {code} curve with the exposure set to each level ({conf} CI from influence-function standard errors, Wald, as riskRegression::ate). HR: weighted Cox model with robust (sandwich) SE.",
                conf = self.conf_pct()
            )),
            align: vec![],
        }
    }

    fn adjustment_methods(&self, a: &AdjustmentResult) -> String {
        let trim_text = format!(
            "{}{}",
            if a.stabilized {
                " Stabilized: multiplied by the proportion exposed (exposed) or not exposed (reference)."
            } else {
                ""
            },
            a.trim.map_or(String::new(), |q| format!(
                " Patients with e outside [{}, {}] were dropped (trimming) before weighting.",
                num_text(q),
                num_text(1.0 - q)
            ))
        );
        format!(
            "Methods. The propensity score e(x), the probability of {exp} {yes} given the covariates, was estimated by logistic regression (R glm(family = binomial); complete cases; categories as indicators of every level but the first). {w}{trim} These are WeightIt's weightit(method = \"glm\", estimand = \"{est}\"{stab}) weights. Balance: standardized mean difference SMD = (m\u{2081} \u{2212} m\u{2080}) / \u{221a}((s\u{2081}\u{b2} + s\u{2080}\u{b2})/2) with the unweighted group variances of the analysed patients before and after weighting and the weighted means \u{3a3}wx/\u{3a3}w after (cobalt's bal.tab(s.d.denom = \"pooled\") convention, categories per level); |SMD| > {SMD_FLAG} flags residual imbalance. Kish's effective sample size per arm is (\u{3a3}w)\u{b2}/\u{3a3}w\u{b2}. Weighted Kaplan\u{2013}Meier curves use infinitesimal-jackknife (robust) standard errors, R survfit(Surv(time, status) ~ exposure, weights = w, robust = TRUE); their number-at-risk tables show the sum of the weights. The weighted hazard ratio is from coxph(Surv(time, status) ~ exposure, weights = w, robust = TRUE) with the robust sandwich SE and the robust score test. Adjusted (standardized, g-formula) survival is the mean over the complete cases of the predicted curves from the Efron Cox model of the outcome on the exposure and the covariates, with the exposure set to each level (R survfit(coxph, newdata)); its standard errors and those of the difference between the levels are from the influence function of the averaged prediction, which includes the variability of the covariate distribution and of the Cox model's coefficients and baseline hazard (riskRegression::ate(estimator = \"GFORMULA\"); Ozenne et al. 2020), with {conf} Wald intervals (estimate \u{b1} {z:.2} SE, clipped to [0, 1]). Flags: propensity scores outside [0.01, 0.99] (positivity), a weight above 10 times its arm's mean, an ESS below half an arm, and covariates with one value (left out).",
            exp = a.exposure_label,
            yes = a.exposed_level,
            w = match a.estimand.as_str() {
                "att" => "ATT weights: 1 for the exposed and e/(1 \u{2212} e) for the reference arm.",
                "ato" => "Overlap (ATO) weights: 1 \u{2212} e for the exposed and e for the reference arm.",
                _ => "ATE weights: 1/e for the exposed and 1/(1 \u{2212} e) for the reference arm.",
            },
            trim = trim_text,
            est = a.estimand.as_str().to_uppercase(),
            stab = if a.stabilized { ", stabilize = TRUE" } else { "" },
            conf = self.conf_pct(),
            z = survkit::dist::z_for_level(self.r.conventions.conf_level),
        )
    }

    pub(crate) fn time_dependent_section(&self) -> Option<Section> {
        let rows: &[TimeDependentResult] = &self.r.time_dependent;
        if rows.is_empty() {
            return None;
        }
        let body = rows
            .iter()
            .map(|t| {
                vec![
                    Cell::from(t.label.as_str()),
                    Cell::from(t.endpoint.as_str()),
                    Cell::from(self.f.count(t.n_patients)),
                    Cell::from(self.f.count(t.n_switched + t.n_exposed_from_start)),
                    Cell::from(self.f.count(t.events)),
                    Cell::from(self.f.count(t.events_exposed)),
                    Cell::from(match (t.hr, t.hr_lower, t.hr_upper) {
                        (Some(h), Some(l), Some(u)) => format_hr_ci(h, l, u, 2),
                        _ => "\u{2014}".to_string(),
                    }),
                    Cell::from(self.f.p(t.p)),
                ]
            })
            .collect();
        let mut blocks = vec![Block::Table(Table {
            caption: "Time-dependent exposures: Cox models on (start, stop] rows.".into(),
            header: vec![vec![
                Cell::from("Exposure"),
                Cell::from("Endpoint"),
                Cell::from("Patients"),
                Cell::from("Exposed during follow-up"),
                Cell::from("Events"),
                Cell::from("Events while exposed"),
                Cell::from(format!("HR ({} CI)", self.conf_pct())),
                Cell::from("p"),
            ]],
            body,
            footnote: Some(
                "HR: exposed vs not yet exposed, from the same patients' person-time; Wald p."
                    .into(),
            ),
            align: vec![],
        })];
        for t in rows {
            for n in &t.notes {
                blocks.push(Block::Notice(format!("{} ({}): {n}", t.label, t.endpoint)));
            }
        }
        let cols: Vec<String> = {
            let mut c: Vec<String> = rows.iter().map(|t| t.date.clone()).collect();
            c.dedup();
            c
        };
        blocks.push(Block::Paragraph(format!(
            "Methods. Each exposure is 0 from time zero and 1 from its date on ({}). Each patient's follow-up was split at that date into (start, stop] rows, as R's tmerge(data, data, id = id, status = event(time, status), x = tdc(date)): no split when the date is missing or not before the end of follow-up, exposed from the start when it is on or before time zero; the event stays on the last row. The Cox model coxph(Surv(tstart, tstop, status) ~ x) ({}) then compares the hazard while exposed with the hazard of the same and other patients not yet exposed, without the immortal-time bias of grouping patients by a later event and without discarding the early deaths of a landmark analysis.",
            cols.join(", "),
            ties_phrase(self.r.conventions.cox_ties)
        )));
        Some(Section {
            heading: "Time-dependent exposures".into(),
            blocks,
        })
    }
}
