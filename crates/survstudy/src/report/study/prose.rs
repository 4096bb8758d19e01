//! Sentences of the methods section generated from the conventions used.

#[allow(unused_imports)]
use super::*;
use crate::analysis::conventions::Conventions;
use survkit::cox::Ties;
use survkit::km::ConfType;

impl Builder<'_> {
    pub(crate) fn has_ph(&self) -> bool {
        self.r
            .survival
            .iter()
            .filter_map(|s| s.cox.as_ref())
            .chain(self.r.multivariable.iter().filter_map(|m| m.cox.as_ref()))
            .any(|c| c.ph_test.is_some())
    }

    /// A time of endpoint `code` (in its unit) in the study's unit, as the
    /// plan wrote it (landmarks and τ are converted to each endpoint's).
    pub(crate) fn in_study_unit(&self, code: &str, t: f64) -> f64 {
        let dpu = self
            .r
            .endpoints
            .iter()
            .find(|e| e.endpoint == code)
            .and_then(|e| e.days_per_unit);
        match dpu {
            Some(d) if d != self.r.conventions.days_per_unit => {
                t * d / self.r.conventions.days_per_unit
            }
            _ => t,
        }
    }

    pub(crate) fn rmst_taus(&self) -> Vec<f64> {
        let mut t: Vec<f64> = self
            .r
            .survival
            .iter()
            .filter_map(|s| {
                s.rmst
                    .as_ref()
                    .map(|r| self.in_study_unit(&s.endpoint, r.tau))
            })
            .collect();
        t.sort_by(f64::total_cmp);
        t.dedup();
        t
    }

    /// (grouping labels, landmark) of the landmark analyses.
    pub(crate) fn landmarks_used(&self) -> Vec<(String, f64)> {
        let mut out: Vec<(String, f64)> = vec![];
        for s in &self.r.survival {
            if let Some(l) = s.landmark.map(|l| self.in_study_unit(&s.endpoint, l)) {
                if !out.iter().any(|(g, x)| g == &s.grouping_label && *x == l) {
                    out.push((s.grouping_label.clone(), l));
                }
            }
        }
        out
    }

    pub(crate) fn preset_sentence(&self) -> String {
        let c = &self.r.conventions;
        let name = preset_name(c.preset);
        let origin = match c.preset {
            Conventions::R => "the defaults of R survival: survfit and coxph",
            Conventions::Sas => "the defaults of SAS PROC LIFETEST and PROC PHREG",
        };
        let ci = match c.km_conf_type {
            ConfType::Log => "log-transformed (log S(t))".to_string(),
            ConfType::LogLog => "log-log-transformed (log(\u{2212}log S(t)))".to_string(),
            other => format!("{}-transformed", other.as_str()),
        };
        let ties = ties_name(c.cox_ties);
        format!(
            "The {name} conventions preset was used: {ci} Kaplan\u{2013}Meier confidence intervals and the {ties} approximation for tied event times in Cox models ({origin})."
        )
    }

    pub(crate) fn methods_extra(&self) -> Vec<String> {
        let mut out = vec![self.preset_sentence()];
        let lms = self.landmarks_used();
        if !lms.is_empty() {
            let parts: Vec<String> = lms
                .iter()
                .map(|(g, l)| format!("{g} (landmark at {} {})", num_text(*l), self.unit))
                .collect();
            out.push(format!(
                "Landmark analysis: comparisons by {} were made from a landmark rather than from time zero, because the grouping is only known after time zero (immortal-time bias). Only patients still at risk (event-free and in follow-up) at the landmark were included and the clock was restarted at the landmark (time from the landmark); Kaplan\u{2013}Meier estimates, log-rank tests and Cox models of these groupings use the landmark population.",
                parts.join(", ")
            ));
        }
        if self.has_ph() {
            out.push(format!(
                "The proportional-hazards assumption of every Cox model (univariable and multivariable) was checked with the Grambsch\u{2013}Therneau score test of the scaled Schoenfeld residuals against time, per term and globally, as in R survival 3.x cox.zph with the Kaplan\u{2013}Meier time transform. Terms with p < {PH_FLAG_P} are flagged (\u{2020}) and their scaled Schoenfeld residuals are plotted over time with R's plot.cox.zph smooth: a natural-spline regression (ns, df = 4) of the residuals on the Kaplan\u{2013}Meier-transformed time with \u{b1}2 standard errors. Above {MAX_EVENT_POINTS} events the residuals are shown binned ({PH_BINS} bins of equal event count: median and interquartile range) instead of one point per event."
            ));
        }
        let taus = self.rmst_taus();
        if !taus.is_empty() {
            let tau = taus
                .iter()
                .map(|t| num_text(*t))
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

    pub(crate) fn conventions_extra(&self) -> Vec<(&'static str, String)> {
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
                        .map(|t| num_text(*t))
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
                    .map(|(g, l)| format!("{g}: {} {}", num_text(*l), self.unit))
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

/// Name of a preset in prose: `R`, `SAS`.
pub(crate) fn preset_name(p: Conventions) -> &'static str {
    match p {
        Conventions::R => "R",
        Conventions::Sas => "SAS",
    }
}

/// Name of a ties method in prose: `Efron`, `Breslow`, `Exact`.
pub(crate) fn ties_name(t: Ties) -> &'static str {
    match t {
        Ties::Efron => "Efron",
        Ties::Breslow => "Breslow",
        Ties::Exact => "Exact",
    }
}

/// `Efron's method` …, for the methods paragraph.
pub(crate) fn ties_phrase(t: Ties) -> String {
    match t {
        Ties::Efron => "Efron's method".to_string(),
        Ties::Breslow => "Breslow's method".to_string(),
        Ties::Exact => "the exact method".to_string(),
    }
}

/// The scale of the Kaplan–Meier confidence intervals, for the methods
/// paragraph.
pub(crate) fn ci_scale_phrase(c: ConfType) -> String {
    match c {
        ConfType::Log => "on the log scale (log S(t), the R survfit default)".to_string(),
        ConfType::LogLog => "on the log-log scale (log(-log S(t)), the SAS default)".to_string(),
        ConfType::Plain => "on the plain (linear) scale".to_string(),
        other => format!("with the {} transformation", other.as_str()),
    }
}
