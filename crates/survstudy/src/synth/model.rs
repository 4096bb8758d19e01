//! The generative model: EMD cells, cohort counts and piecewise-constant hazards.

use super::rng::Rng;

/// Days per month used everywhere in the study (365.25 / 12).
pub const MONTH_DAYS: f64 = 30.4375;

/// Cohort size the published counts refer to.
pub const REFERENCE_N: usize = 106;

/// Cross-classification of extramedullary disease at CAR-T infusion (baseline)
/// and at post-CAR-T progression.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EmdCell {
    /// EMD at infusion and at progression.
    Both = 0,
    /// EMD at infusion only.
    BaselineOnly = 1,
    /// EMD at progression only.
    ProgressionOnly = 2,
    /// No EMD at either time.
    Neither = 3,
}

impl EmdCell {
    /// All four cells, in index order.
    pub const ALL: [EmdCell; 4] = [
        EmdCell::Both,
        EmdCell::BaselineOnly,
        EmdCell::ProgressionOnly,
        EmdCell::Neither,
    ];

    /// EMD at infusion.
    pub fn baseline(self) -> bool {
        matches!(self, EmdCell::Both | EmdCell::BaselineOnly)
    }

    /// EMD at progression.
    pub fn progression(self) -> bool {
        matches!(self, EmdCell::Both | EmdCell::ProgressionOnly)
    }

    pub(crate) fn index(self) -> usize {
        self as usize
    }
}

/// Label counts of a synthetic cohort.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CohortCounts {
    /// Patients per [`EmdCell`], in [`EmdCell::ALL`] order.
    pub cells: [usize; 4],
    /// `prog_pmd` among patients with EMD at progression.
    pub prog_pmd_with_emd: usize,
    /// `prog_pmd` among patients without EMD at progression.
    pub prog_pmd_without_emd: usize,
    /// `pmd_at_infusion` = yes.
    pub pmd_at_infusion: usize,
    /// `prog_biochemical` = no (all drawn among patients with EMD or PMD at progression).
    pub non_biochemical: usize,
}

impl CohortCounts {
    /// Counts for the 106-patient reference cohort. Baseline EMD 35, biochemical
    /// relapse 87 and EMD-or-PMD at progression 54 are published; the split of
    /// those margins into cells (25/10/13/58, 6 + 16 PMD at progression, 26 PMD at
    /// infusion) is our assumption, taken from a feasibility prototype.
    pub fn reference() -> CohortCounts {
        CohortCounts {
            cells: [25, 10, 13, 58],
            prog_pmd_with_emd: 6,
            prog_pmd_without_emd: 16,
            pmd_at_infusion: 26,
            non_biochemical: 19,
        }
    }

    /// The reference counts scaled to `n` patients (largest-remainder rounding
    /// for the cells, nearest integer for the other counts, each capped by the
    /// size of the sub-population it is drawn from).
    pub fn scaled(n: usize) -> CohortCounts {
        let r = CohortCounts::reference();
        if n == REFERENCE_N {
            return r;
        }
        let scale = n as f64 / REFERENCE_N as f64;
        let exact: Vec<f64> = r.cells.iter().map(|&c| c as f64 * scale).collect();
        let mut cells = [0usize; 4];
        for k in 0..4 {
            cells[k] = exact[k].floor() as usize;
        }
        let mut rest = n - cells.iter().sum::<usize>();
        let mut by_remainder: Vec<usize> = (0..4).collect();
        by_remainder.sort_by(|&a, &b| {
            let fa = exact[a] - exact[a].floor();
            let fb = exact[b] - exact[b].floor();
            fb.total_cmp(&fa).then(a.cmp(&b))
        });
        for &k in by_remainder.iter().cycle() {
            if rest == 0 {
                break;
            }
            cells[k] += 1;
            rest -= 1;
        }
        let round = |x: usize| (x as f64 * scale).round() as usize;
        let prog_emd = cells[0] + cells[2];
        let prog_pmd_with_emd = round(r.prog_pmd_with_emd).min(prog_emd);
        let prog_pmd_without_emd = round(r.prog_pmd_without_emd).min(n - prog_emd);
        let emd_or_pmd = prog_emd + prog_pmd_without_emd;
        CohortCounts {
            cells,
            prog_pmd_with_emd,
            prog_pmd_without_emd,
            pmd_at_infusion: round(r.pmd_at_infusion).min(n),
            non_biochemical: round(r.non_biochemical).min(emd_or_pmd),
        }
    }

    /// Total number of patients.
    pub fn n(&self) -> usize {
        self.cells.iter().sum()
    }
}

/// A piecewise-constant hazard (per month) with knots in months; the last rate
/// continues forever.
#[derive(Debug, Clone, Copy)]
pub(crate) struct PiecewiseHazard {
    pub knots: &'static [f64],
    pub rates: &'static [f64],
}

impl PiecewiseHazard {
    /// Time (months) at which the cumulative hazard reaches `e` (inverse-CDF draw
    /// when `e` ~ Exp(1)).
    pub(crate) fn invert(&self, e: f64) -> f64 {
        let mut acc = 0.0;
        for k in 0..self.rates.len() {
            let start = self.knots[k];
            let rate = self.rates[k];
            let end = self.knots.get(k + 1).copied();
            match end {
                Some(end) => {
                    let piece = rate * (end - start);
                    if acc + piece >= e {
                        return start + (e - acc) / rate;
                    }
                    acc += piece;
                }
                None => return start + (e - acc) / rate,
            }
        }
        unreachable!("hazard has at least one piece")
    }
}

const DEATH_KNOTS: [f64; 8] = [0.0, 2.0, 4.8, 7.4, 12.0, 17.0, 21.05, 28.0];
const PROG_KNOTS: [f64; 8] = [0.0, 2.0, 3.6, 4.7, 7.0, 8.5, 12.0, 18.0];

/// Death hazards per cell (per month), knots [`DEATH_KNOTS`]; a population-level
/// fit from the feasibility prototype.
const DEATH_RATES: [[f64; 8]; 4] = [
    [0.113, 0.183, 0.166, 0.102, 0.059, 0.047, 0.042, 0.041],
    [0.187, 0.074, 0.030, 0.021, 0.018, 0.020, 0.031, 0.035],
    [0.011, 0.016, 0.031, 0.041, 0.058, 0.073, 0.035, 0.031],
    [0.057, 0.041, 0.023, 0.015, 0.020, 0.047, 0.186, 0.227],
];

/// Hazards of progression on the next line per cell (per month), knots [`PROG_KNOTS`].
const PROG_RATES: [[f64; 8]; 4] = [
    [0.072, 0.055, 0.040, 0.037, 0.035, 0.034, 0.034, 0.035],
    [0.018, 0.019, 0.024, 0.033, 0.070, 0.249, 0.357, 0.371],
    [0.025, 0.040, 0.098, 0.438, 0.144, 0.063, 0.042, 0.037],
    [0.055, 0.050, 0.041, 0.033, 0.024, 0.061, 0.087, 0.100],
];

pub(crate) fn death_hazard(cell: EmdCell) -> PiecewiseHazard {
    PiecewiseHazard {
        knots: &DEATH_KNOTS,
        rates: &DEATH_RATES[cell.index()],
    }
}

pub(crate) fn progression_hazard(cell: EmdCell) -> PiecewiseHazard {
    PiecewiseHazard {
        knots: &PROG_KNOTS,
        rates: &PROG_RATES[cell.index()],
    }
}

/// Shortest and longest administrative follow-up after progression (days).
pub(crate) const CENSOR_MIN_DAYS: i32 = 183;
pub(crate) const CENSOR_MAX_DAYS: i32 = 1095;

/// Earliest death after progression that the model produces (days).
pub(crate) const MIN_DEATH_DAYS: i32 = 7;
/// Earliest progression on the next line (days after progression): the next
/// line must start and be assessed first.
pub(crate) const MIN_NEXT_PROG_DAYS: i32 = 21;

/// Latent integer-day times of one patient, relative to the progression date.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Latent {
    /// Latent death day (>= [`MIN_DEATH_DAYS`]).
    pub death: i32,
    /// Administrative censoring day: data cut-off minus progression date.
    pub censor: i32,
    /// Latent day of progression on the next line (>= [`MIN_NEXT_PROG_DAYS`]).
    pub next_prog: i32,
}

pub(crate) fn months_to_days(m: f64, min: i32) -> i32 {
    let d = (m * MONTH_DAYS).round();
    if d > 1e6 {
        1_000_000
    } else {
        (d as i32).max(min)
    }
}

/// Draw latent times for every patient from the cell models.
pub(crate) fn draw_latent(cells: &[EmdCell], rng: &mut Rng) -> Vec<Latent> {
    cells
        .iter()
        .map(|&c| {
            let death = months_to_days(death_hazard(c).invert(rng.exp1()), MIN_DEATH_DAYS);
            let next_prog =
                months_to_days(progression_hazard(c).invert(rng.exp1()), MIN_NEXT_PROG_DAYS);
            let censor = rng.range(CENSOR_MIN_DAYS, CENSOR_MAX_DAYS);
            Latent {
                death,
                censor,
                next_prog,
            }
        })
        .collect()
}

/// The cell of every patient: counts laid out in cell order then shuffled.
pub(crate) fn assign_cells(counts: &CohortCounts, rng: &mut Rng) -> Vec<EmdCell> {
    let mut cells = Vec::with_capacity(counts.n());
    for (k, &c) in counts.cells.iter().enumerate() {
        cells.extend(std::iter::repeat_n(EmdCell::ALL[k], c));
    }
    rng.shuffle(&mut cells);
    cells
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn piecewise_inversion_matches_cumulative_hazard() {
        let h = death_hazard(EmdCell::Neither);
        // cumulative hazard at 2 months = 0.057 * 2
        assert!((h.invert(0.114) - 2.0).abs() < 1e-12);
        let t = h.invert(0.2);
        assert!((t - (2.0 + (0.2 - 0.114) / 0.041)).abs() < 1e-12);
        // far tail uses the last rate
        let tail = h.invert(100.0);
        assert!(tail > 28.0);
    }

    #[test]
    fn scaled_counts_sum_to_n_and_reference_is_exact() {
        assert_eq!(CohortCounts::scaled(106), CohortCounts::reference());
        for n in [20, 53, 107, 212, 500] {
            let c = CohortCounts::scaled(n);
            assert_eq!(c.n(), n);
            assert!(c.prog_pmd_with_emd <= c.cells[0] + c.cells[2]);
        }
        let c = CohortCounts::scaled(212);
        assert_eq!(c.cells, [50, 20, 26, 116]);
    }
}
