//! Time-dependent exposures from dates (the plan's `[[time_dependent]]`):
//! an exposure that is 0 from time zero and 1 from a date on (e.g. started
//! next-line therapy at `next_line_start_date`), analysed without
//! immortal-time bias by splitting each patient's follow-up into (start,
//! stop] rows and fitting the Cox model on them (Andersen & Gill 1982; the
//! unbiased alternative to a landmark analysis).
//!
//! The split is R's `tmerge(data, data, id = id, death = event(time,
//! status), x = tdc(switch))`: with switch time s and follow-up (0, T]:
//! * s missing, or s ≥ T: one row (0, T], x = 0;
//! * s ≤ 0: one row (0, T], x = 1;
//! * 0 < s < T: rows (0, s] with x = 0 and no event, and (s, T] with x = 1
//!   and the patient's event.
//!
//! The model is `coxph(Surv(tstart, tstop, event) ~ x)` (survkit's
//! counting-process Cox, [`survkit::cox::cox_fit_rows`]), with the study's
//! ties (Efron in the R preset).

use serde::Serialize;
use survkit::cox::{cox_fit_rows, ConcordanceChoice, CoxOptions, CoxRows, Design};

use crate::derive::Cohort;
use crate::plan::{Plan, TimeDependentSpec};

/// (start, stop] rows of a split cohort.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct CountingRows {
    /// Index of the input row (patient) of each output row.
    pub subject: Vec<usize>,
    /// Start of each row's interval (plan unit).
    pub start: Vec<f64>,
    /// End of each row's interval (plan unit).
    pub stop: Vec<f64>,
    /// Whether the row ends with the event.
    pub event: Vec<bool>,
    /// Whether the exposure is on during the row.
    pub exposed: Vec<bool>,
}

impl CountingRows {
    /// Number of (start, stop] rows.
    pub fn len(&self) -> usize {
        self.start.len()
    }
    /// No rows.
    pub fn is_empty(&self) -> bool {
        self.start.is_empty()
    }
}

/// Split each subject's (0, time] at its switch time (module docs).
/// Output rows are in subject order, earlier interval first.
///
/// Contract: `time`, `event` and `switch` are aligned per subject and
/// `event`/`switch` at least as long as `time` (shorter ones panic); a
/// missing or non-finite switch means never exposed. Never fails.
pub fn split_at_switch(time: &[f64], event: &[bool], switch: &[Option<f64>]) -> CountingRows {
    split(
        time,
        event,
        |i| switch[i].unwrap_or(f64::NAN),
        Subjects::Kept,
    )
}

/// Whether [`split`] records each row's subject.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Subjects {
    /// `CountingRows::subject` filled.
    Kept,
    /// `CountingRows::subject` left empty (a fit that does not need it:
    /// 8 bytes a row).
    Dropped,
}

/// [`split_at_switch`] with subject `i`'s switch `switch(i)` (a
/// non-finite one, NaN for none, means never exposed).
fn split(
    time: &[f64],
    event: &[bool],
    switch: impl Fn(usize) -> f64,
    subjects: Subjects,
) -> CountingRows {
    // the output's length first, so each column is allocated once at its
    // size (not grown by doubling: 10^6 patients give ~2·10^6 rows)
    let n = time.len();
    let split = (0..n)
        .filter(|&i| {
            let s = switch(i);
            s.is_finite() && s > 0.0 && s < time[i]
        })
        .count();
    let m = n + split;
    let mut out = CountingRows {
        subject: Vec::with_capacity(if subjects == Subjects::Kept { m } else { 0 }),
        start: Vec::with_capacity(m),
        stop: Vec::with_capacity(m),
        event: Vec::with_capacity(m),
        exposed: Vec::with_capacity(m),
    };
    let mut push = |i: usize, a: f64, b: f64, e: bool, x: bool| {
        if subjects == Subjects::Kept {
            out.subject.push(i);
        }
        out.start.push(a);
        out.stop.push(b);
        out.event.push(e);
        out.exposed.push(x);
    };
    for i in 0..n {
        let t = time[i];
        match switch(i) {
            s if s.is_finite() && s <= 0.0 => push(i, 0.0, t, event[i], true),
            s if s.is_finite() && s < t => {
                push(i, 0.0, s, false, false);
                push(i, s, t, event[i], true);
            }
            _ => push(i, 0.0, t, event[i], false),
        }
    }
    out
}

/// The time-dependent Cox model of one exposure and endpoint.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct TimeDependentResult {
    /// Exposure name (plan key).
    pub name: String,
    /// Exposure label as displayed.
    pub label: String,
    /// Date column at which the exposure switches on.
    pub date: String,
    /// Endpoint name (plan key).
    pub endpoint: String,
    /// Endpoint label as displayed.
    pub endpoint_label: String,
    /// Patients in the model.
    pub n_patients: usize,
    /// (start, stop] rows in the model.
    pub n_rows: usize,
    /// Patients whose follow-up was split (switch inside it).
    pub n_switched: usize,
    /// Patients exposed from time zero (switch on or before it).
    pub n_exposed_from_start: usize,
    /// Events in the model.
    pub events: usize,
    /// Events while exposed.
    pub events_exposed: usize,
    /// The matching R call.
    pub call: String,
    /// Coefficient of the exposure (log hazard ratio).
    pub coef: Option<f64>,
    /// Standard error of `coef`.
    pub se: Option<f64>,
    /// Hazard ratio exp(coef).
    pub hr: Option<f64>,
    /// Lower 95% confidence limit of `hr`.
    pub hr_lower: Option<f64>,
    /// Upper 95% confidence limit of `hr`.
    pub hr_upper: Option<f64>,
    /// Wald p-value of the exposure.
    pub p: Option<f64>,
    /// Notes on the model (why it was not fitted, warnings).
    pub notes: Vec<String>,
}

/// Run one `[[time_dependent]]` entry on every endpoint it names.
///
/// Contract: `spec.date` names the switch-date column of `cohort`; each
/// endpoint (the plan's endpoints when `spec.endpoints` is empty) gives the
/// patients, their time and event; the switch time is the date minus the
/// patient's start, in the endpoint's time unit. Output: one result per
/// endpoint the cohort could form, in order. Never panics on user data: with
/// the date column absent from the file, or the exposure constant over all
/// rows, no model is fitted and `notes` says why; a failing fit leaves the
/// estimates `None` with a note; fit warnings (e.g. non-convergence) and a
/// possibly infinite coefficient are copied to `notes`.
pub fn analyse_time_dependent(
    plan: &Plan,
    cohort: &Cohort,
    spec: &TimeDependentSpec,
    cox: &CoxOptions,
) -> Vec<TimeDependentResult> {
    let codes = if spec.endpoints.is_empty() {
        &plan.analysis.endpoints
    } else {
        &spec.endpoints
    };
    let col = plan
        .column(&spec.date)
        .map_or(spec.date.clone(), |c| c.name.clone());
    let label = spec.label.clone().unwrap_or_else(|| spec.name.clone());
    let absent = cohort.absent_columns.iter().any(|a| a == &col);
    // the result reports no concordance: skip it (on (start, stop] rows it
    // costs more than the fit)
    let no_concordance = CoxOptions {
        concordance: ConcordanceChoice::Skip,
        ..*cox
    };
    let mut out = vec![];
    for code in codes {
        let Some(ep) = cohort.endpoint(code) else {
            continue;
        };
        let n = ep.n();
        let mut time = Vec::with_capacity(n);
        let mut event = Vec::with_capacity(n);
        // each patient's switch time, NaN for none (never exposed, as a
        // missing switch is: 8 bytes a patient, not 16)
        let mut switch = Vec::with_capacity(n);
        for (i, r) in ep.records.iter().enumerate() {
            let Some(r) = r else { continue };
            time.push(ep.time_of(i, r));
            event.push(r.event);
            switch.push(
                cohort.patients[i]
                    .date(&col)
                    .zip(r.start)
                    .map_or(f64::NAN, |(d, s)| {
                        (d - s).num_days() as f64 / ep.days_per_unit
                    }),
            );
        }
        // the fit needs only the split rows: no patient index per row, and
        // the per-patient columns are not held through it
        let mut rows = split(&time, &event, |i| switch[i], Subjects::Dropped);
        drop(switch);
        let n_patients = time.len();
        let events = event.iter().filter(|&&e| e).count();
        drop(time);
        drop(event);
        let mut res = TimeDependentResult {
            name: spec.name.clone(),
            label: label.clone(),
            date: col.clone(),
            endpoint: ep.code.clone(),
            endpoint_label: ep.label.clone(),
            n_patients,
            n_rows: rows.len(),
            n_switched: rows.len() - n_patients,
            n_exposed_from_start: (0..rows.len())
                .filter(|&k| rows.exposed[k] && rows.start[k] == 0.0)
                .count(),
            events,
            events_exposed: (0..rows.len())
                .filter(|&k| rows.exposed[k] && rows.event[k])
                .count(),
            call: format!(
                "coxph(Surv(tstart, tstop, status) ~ {}, data = tmerge(..., {} = tdc({})))",
                spec.name, spec.name, col
            ),
            coef: None,
            se: None,
            hr: None,
            hr_lower: None,
            hr_upper: None,
            p: None,
            notes: vec![],
        };
        if absent {
            res.notes.push(format!(
                "column '{col}' is not in the data file: nobody is exposed and no model is fitted"
            ));
            out.push(res);
            continue;
        }
        let n_exp = rows.exposed.iter().filter(|&&x| x).count();
        if n_exp == 0 || n_exp == rows.len() {
            res.notes.push(format!(
                "the exposure is {} throughout follow-up for every patient; no model is fitted",
                if n_exp == 0 { "0" } else { "1" }
            ));
            out.push(res);
            continue;
        }
        // (the flags are freed once they are the design's column)
        let exposed = std::mem::take(&mut rows.exposed);
        let mut d = Design::default();
        d.add_numeric(
            &spec.name,
            exposed.iter().map(|&x| f64::from(u8::from(x))).collect(),
        );
        drop(exposed);
        match cox_fit_rows(
            &rows.stop,
            &rows.event,
            &d,
            None,
            None,
            &CoxRows {
                start: Some(&rows.start),
                weight: None,
            },
            &no_concordance,
        ) {
            Ok(f) => {
                if let Some(t) = f.terms.first() {
                    res.coef = Some(t.coef);
                    res.se = Some(t.se);
                    res.hr = Some(t.hr);
                    res.hr_lower = Some(t.hr_lower);
                    res.hr_upper = Some(t.hr_upper);
                    res.p = Some(t.p);
                    if t.possibly_infinite {
                        res.notes
                            .push("the coefficient may be infinite (monotone likelihood)".into());
                    }
                }
                res.notes.extend(f.warnings.iter().cloned());
            }
            Err(e) => res.notes.push(format!("Cox model not fitted: {e}")),
        }
        out.push(res);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The analysis's split (NaN for no switch, no subject index) gives
    /// the rows of the public one.
    #[test]
    fn the_analysis_split_is_the_public_one_without_subjects() {
        let time = [10.0, 5.0, 4.0, 7.0, 6.0, 8.0, 3.0];
        let event = [true, true, false, true, true, false, true];
        let sw = [
            Some(3.0),
            None,
            Some(9.0),
            Some(0.0),
            Some(6.0),
            Some(2.5),
            Some(f64::INFINITY),
        ];
        let nan: Vec<f64> = sw.iter().map(|s| s.unwrap_or(f64::NAN)).collect();
        let want = split_at_switch(&time, &event, &sw);
        let got = split(&time, &event, |i| nan[i], Subjects::Dropped);
        assert!(got.subject.is_empty() && got.subject.capacity() == 0);
        assert_eq!(want.subject.len(), 8 + 1);
        assert_eq!(
            (got.start, got.stop, got.event, got.exposed),
            (want.start, want.stop, want.event, want.exposed)
        );
    }

    #[test]
    fn split_by_hand() {
        // 0: switch inside; 1: never; 2: after the end; 3: at time zero;
        // 4: exactly at the end (no split, as tmerge); 5: censored, inside
        let time = [10.0, 5.0, 4.0, 7.0, 6.0, 8.0];
        let event = [true, true, false, true, true, false];
        let sw = [Some(3.0), None, Some(9.0), Some(0.0), Some(6.0), Some(2.5)];
        let r = split_at_switch(&time, &event, &sw);
        assert_eq!(r.subject, vec![0, 0, 1, 2, 3, 4, 5, 5]);
        assert_eq!(r.start, vec![0.0, 3.0, 0.0, 0.0, 0.0, 0.0, 0.0, 2.5]);
        assert_eq!(r.stop, vec![3.0, 10.0, 5.0, 4.0, 7.0, 6.0, 2.5, 8.0]);
        assert_eq!(
            r.event,
            vec![false, true, true, false, true, true, false, false]
        );
        assert_eq!(
            r.exposed,
            vec![false, true, false, false, true, false, false, true]
        );
        // a switch before time zero counts as exposed from the start
        let r = split_at_switch(&[2.0], &[true], &[Some(-1.0)]);
        assert_eq!((r.start[0], r.stop[0], r.exposed[0]), (0.0, 2.0, true));
    }
}
