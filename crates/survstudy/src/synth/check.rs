//! Scoring a cohort exactly as the pipeline derives its endpoints, with survkit.

use survkit::km::{kaplan_meier, KmOptions};
use survkit::logrank::{logrank, LogrankOptions};

use super::calibrate::{median_window_days, p_window};
use super::model::{EmdCell, MONTH_DAYS};
use super::{CalibrationTargets, CohortCounts, EndpointTargets, SynthError, SynthPatient};

/// Time (months from the progression date) and event of one endpoint.
#[derive(Debug, Clone, PartialEq)]
pub struct EndpointData {
    /// Months from the progression date to the event or censoring.
    pub time: Vec<f64>,
    /// Whether the endpoint's event happened.
    pub event: Vec<bool>,
}

/// OS and PFS as the pipeline defines them. Time zero is `progression_date`;
/// months = days / 30.4375. OS: event = death, else censored at last follow-up.
/// PFS: event = the earlier of next-line progression and death, else censored
/// at last follow-up.
pub fn endpoints(patients: &[SynthPatient]) -> (EndpointData, EndpointData) {
    let months =
        |a: chrono::NaiveDate, b: chrono::NaiveDate| (b - a).num_days() as f64 / MONTH_DAYS;
    let mut os = EndpointData {
        time: Vec::with_capacity(patients.len()),
        event: Vec::with_capacity(patients.len()),
    };
    let mut pfs = os.clone();
    for p in patients {
        let t0 = p.progression_date;
        match p.death_date {
            Some(d) => {
                os.time.push(months(t0, d));
                os.event.push(true);
            }
            None => {
                os.time.push(months(t0, p.last_followup_date));
                os.event.push(false);
            }
        }
        let first = match (p.next_line_progression_date, p.death_date) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        match first {
            Some(d) => {
                pfs.time.push(months(t0, d));
                pfs.event.push(true);
            }
            None => {
                pfs.time.push(months(t0, p.last_followup_date));
                pfs.event.push(false);
            }
        }
    }
    (os, pfs)
}

/// Medians (months) and log-rank p-values of one endpoint.
#[derive(Debug, Clone, PartialEq)]
pub struct EndpointSummary {
    /// Median (months) with EMD at infusion.
    pub median_baseline_emd: Option<f64>,
    /// Median (months) without EMD at infusion.
    pub median_no_baseline_emd: Option<f64>,
    /// Median (months) with EMD/PMD at progression.
    pub median_progression_emd: Option<f64>,
    /// Median (months) without EMD/PMD at progression.
    pub median_no_progression_emd: Option<f64>,
    /// Medians of the four [`EmdCell`]s, in [`EmdCell::ALL`] order.
    pub cell_medians: [Option<f64>; 4],
    /// Log-rank p-value of EMD at infusion.
    pub p_baseline_emd: f64,
    /// Log-rank p-value of EMD/PMD at progression.
    pub p_progression_emd: f64,
    /// Log-rank p-value of PMD at infusion.
    pub p_pmd_at_infusion: f64,
    /// Log-rank p-value of PMD at progression.
    pub p_pmd_at_progression: f64,
}

/// Counts and endpoint summaries of a cohort, computed with survkit.
#[derive(Debug, Clone, PartialEq)]
pub struct CohortSummary {
    /// Patients.
    pub n: usize,
    /// Patients with EMD at infusion.
    pub baseline_emd: usize,
    /// Patients with EMD at progression.
    pub progression_emd: usize,
    /// Patients with a biochemical progression.
    pub biochemical: usize,
    /// Patients with EMD or PMD at progression.
    pub emd_or_pmd_at_progression: usize,
    /// Patients with PMD at infusion.
    pub pmd_at_infusion: usize,
    /// Patients with PMD at progression.
    pub prog_pmd: usize,
    /// Progression-free survival summary.
    pub pfs: EndpointSummary,
    /// Overall survival summary.
    pub os: EndpointSummary,
}

fn median_of(data: &EndpointData, keep: impl Fn(usize) -> bool) -> Result<Option<f64>, SynthError> {
    let mut t = Vec::new();
    let mut e = Vec::new();
    for i in 0..data.time.len() {
        if keep(i) {
            t.push(data.time[i]);
            e.push(data.event[i]);
        }
    }
    Ok(kaplan_meier(&t, &e, &KmOptions::default())?
        .median()
        .estimate)
}

fn p_of(data: &EndpointData, flag: &[bool]) -> Result<f64, SynthError> {
    let group: Vec<usize> = flag.iter().map(|&f| usize::from(f)).collect();
    Ok(logrank(
        &data.time,
        &data.event,
        &group,
        None,
        &LogrankOptions::default(),
    )?
    .p)
}

fn summarize_endpoint(
    data: &EndpointData,
    patients: &[SynthPatient],
) -> Result<EndpointSummary, SynthError> {
    let base: Vec<bool> = patients.iter().map(|p| p.emd_at_infusion).collect();
    let prog: Vec<bool> = patients.iter().map(|p| p.prog_emd).collect();
    let pmd0: Vec<bool> = patients.iter().map(|p| p.pmd_at_infusion).collect();
    let pmd1: Vec<bool> = patients.iter().map(|p| p.prog_pmd).collect();
    let mut cell_medians = [None; 4];
    for (k, cell) in EmdCell::ALL.iter().enumerate() {
        cell_medians[k] = median_of(data, |i| {
            base[i] == cell.baseline() && prog[i] == cell.progression()
        })?;
    }
    Ok(EndpointSummary {
        median_baseline_emd: median_of(data, |i| base[i])?,
        median_no_baseline_emd: median_of(data, |i| !base[i])?,
        median_progression_emd: median_of(data, |i| prog[i])?,
        median_no_progression_emd: median_of(data, |i| !prog[i])?,
        cell_medians,
        p_baseline_emd: p_of(data, &base)?,
        p_progression_emd: p_of(data, &prog)?,
        p_pmd_at_infusion: p_of(data, &pmd0)?,
        p_pmd_at_progression: p_of(data, &pmd1)?,
    })
}

/// Summarise a cohort the way the study pipeline would (survkit KM medians,
/// log-rank p-values, months = days / 30.4375 from the dates).
pub fn summarize(patients: &[SynthPatient]) -> Result<CohortSummary, SynthError> {
    let (os, pfs) = endpoints(patients);
    let count = |f: &dyn Fn(&SynthPatient) -> bool| patients.iter().filter(|p| f(p)).count();
    Ok(CohortSummary {
        n: patients.len(),
        baseline_emd: count(&|p| p.emd_at_infusion),
        progression_emd: count(&|p| p.prog_emd),
        biochemical: count(&|p| p.prog_biochemical),
        emd_or_pmd_at_progression: count(&|p| p.prog_emd || p.prog_pmd),
        pmd_at_infusion: count(&|p| p.pmd_at_infusion),
        prog_pmd: count(&|p| p.prog_pmd),
        pfs: summarize_endpoint(&pfs, patients)?,
        os: summarize_endpoint(&os, patients)?,
    })
}

/// Does `median` (months) round to `target` at one decimal?
pub fn median_matches(median: Option<f64>, target: f64) -> bool {
    let (lo, hi) = median_window_days(target);
    median.is_some_and(|m| m * MONTH_DAYS >= lo && m * MONTH_DAYS < hi)
}

/// Is `p` equal to `target` at two significant figures?
pub fn p_matches(p: f64, target: f64) -> bool {
    let (lo, hi) = p_window(target);
    p >= lo && p < hi
}

fn endpoint_failures(name: &str, s: &EndpointSummary, t: &EndpointTargets, out: &mut Vec<String>) {
    let meds = [
        ("baseline EMD", s.median_baseline_emd, t.median_baseline_emd),
        (
            "no baseline EMD",
            s.median_no_baseline_emd,
            t.median_no_baseline_emd,
        ),
        (
            "EMD at progression",
            s.median_progression_emd,
            t.median_progression_emd,
        ),
        (
            "no EMD at progression",
            s.median_no_progression_emd,
            t.median_no_progression_emd,
        ),
    ];
    for (label, m, target) in meds {
        if !median_matches(m, target) {
            out.push(format!(
                "{name} median {label}: {m:?} months, target {target}"
            ));
        }
    }
    for (label, p, target) in [
        ("baseline EMD", s.p_baseline_emd, t.p_baseline_emd),
        (
            "EMD at progression",
            s.p_progression_emd,
            t.p_progression_emd,
        ),
    ] {
        if !p_matches(p, target) {
            out.push(format!("{name} log-rank p {label}: {p}, target {target}"));
        }
    }
    let both = s.cell_medians[0].unwrap_or(f64::INFINITY);
    if s.cell_medians[1..]
        .iter()
        .any(|m| m.unwrap_or(f64::INFINITY) <= both)
    {
        out.push(format!(
            "{name}: EMD at both times is not the lowest cell median ({:?})",
            s.cell_medians
        ));
    }
}

impl CohortSummary {
    /// Every target this summary misses (empty = all met). The PMD p-values are
    /// checked against `targets.pmd_min_p`.
    pub fn failures(&self, targets: &CalibrationTargets, counts: &CohortCounts) -> Vec<String> {
        let mut out = Vec::new();
        let want = [
            ("n", self.n, counts.n()),
            (
                "baseline EMD",
                self.baseline_emd,
                counts.cells[0] + counts.cells[1],
            ),
            (
                "EMD at progression",
                self.progression_emd,
                counts.cells[0] + counts.cells[2],
            ),
            (
                "biochemical",
                self.biochemical,
                counts.n() - counts.non_biochemical,
            ),
            (
                "EMD or PMD at progression",
                self.emd_or_pmd_at_progression,
                counts.cells[0] + counts.cells[2] + counts.prog_pmd_without_emd,
            ),
            (
                "PMD at infusion",
                self.pmd_at_infusion,
                counts.pmd_at_infusion,
            ),
            (
                "PMD at progression",
                self.prog_pmd,
                counts.prog_pmd_with_emd + counts.prog_pmd_without_emd,
            ),
        ];
        for (label, got, expected) in want {
            if got != expected {
                out.push(format!("count {label}: {got}, expected {expected}"));
            }
        }
        endpoint_failures("PFS", &self.pfs, &targets.pfs, &mut out);
        endpoint_failures("OS", &self.os, &targets.os, &mut out);
        for (label, p) in [
            ("PFS PMD at infusion", self.pfs.p_pmd_at_infusion),
            ("PFS PMD at progression", self.pfs.p_pmd_at_progression),
            ("OS PMD at infusion", self.os.p_pmd_at_infusion),
            ("OS PMD at progression", self.os.p_pmd_at_progression),
        ] {
            if p <= targets.pmd_min_p {
                out.push(format!("{label}: p = {p} <= {}", targets.pmd_min_p));
            }
        }
        out
    }
}
