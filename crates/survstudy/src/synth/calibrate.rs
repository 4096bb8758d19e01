//! Calibration search: simulated annealing on integer day times, scored by a
//! specialised Kaplan–Meier / log-rank scanner (see the module docs of `synth`).

use super::model::{
    death_hazard, months_to_days, progression_hazard, EmdCell, Latent, CENSOR_MAX_DAYS,
    CENSOR_MIN_DAYS, MIN_DEATH_DAYS, MIN_NEXT_PROG_DAYS, MONTH_DAYS,
};
use super::realism::{redraw_stats, DayEndpoint, RealismOptions};
use super::rng::Rng;
use super::EndpointTargets;

/// Group indices of the scanner: the four cells, then the four margins.
pub(crate) const G_BASE_YES: usize = 4;
pub(crate) const G_BASE_NO: usize = 5;
pub(crate) const G_PROG_YES: usize = 6;
pub(crate) const G_PROG_NO: usize = 7;
/// Cell bit masks of the eight groups.
const GROUP_MASK: [u8; 8] = [1, 2, 4, 8, 1 | 2, 4 | 8, 1 | 4, 2 | 8];
/// The two log-rank groupings (mask of "group 1"): baseline EMD, progression EMD.
const TEST_MASK: [u8; 2] = [1 | 2, 1 | 4];
const HALF_TOL: f64 = 1e-9;
/// Weight of one unit of |log p − log window| relative to one day of median distance.
const W_P: f64 = 25.0;
/// Weight of one event above the aimed cluster size (most events in 14 days).
const W_CLUSTER: f64 = 2.0;
/// Weight of one day above the aimed longest stretch without events.
const W_GAP: f64 = 0.1;
/// Quantile of the redraws the search aims at (stricter than the check's 0.975,
/// so the finished cohort passes under any redraw stream).
pub(crate) const AIM_QUANTILE: f64 = 0.9;
/// Redraws behind each aim.
const AIM_REDRAWS: usize = 100;

/// Realism aim of one endpoint: the cluster and gap sizes not to exceed.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Aim {
    cluster: f64,
    gap: f64,
}

impl Aim {
    const NONE: Aim = Aim {
        cluster: f64::INFINITY,
        gap: f64::INFINITY,
    };

    /// Zero when both statistics are within the aim.
    fn penalty(&self, ep: &Endpoint) -> f64 {
        let o = RealismOptions::default();
        let (c, g) = ep.shape(o.window_days, o.min_at_risk);
        W_CLUSTER * (c as f64 - self.cluster.floor()).max(0.0)
            + W_GAP * (f64::from(g) - self.gap).max(0.0)
    }

    /// The aim for the current times: the [`AIM_QUANTILE`] of Weibull redraws
    /// (the realism check's procedure), the smaller under censoring at last
    /// follow-up and at the cut-off.
    fn for_endpoint(
        ep: &Endpoint,
        last_fu: &[i32],
        cutoff: &[i32],
        baseline: &[bool],
        rng: &mut Rng,
    ) -> Aim {
        let opts = RealismOptions {
            redraws: AIM_REDRAWS,
            quantile: AIM_QUANTILE,
            ..RealismOptions::default()
        };
        let mut aim = Aim::NONE;
        for censor in [last_fu, cutoff] {
            let day = DayEndpoint {
                time: &ep.time,
                event: &ep.event,
                censor,
                baseline,
            };
            if let Some((_, clusters, gaps)) = redraw_stats(&day, &opts, rng) {
                aim.cluster = aim.cluster.min(quantile(&clusters, AIM_QUANTILE));
                aim.gap = aim.gap.min(quantile(&gaps, AIM_QUANTILE));
            }
        }
        aim
    }
}

/// Type-7 quantile of sorted values.
fn quantile(v: &[f64], q: f64) -> f64 {
    let h = (v.len() - 1) as f64 * q;
    let lo = h.floor() as usize;
    let hi = (lo + 1).min(v.len() - 1);
    v[lo] + (h - lo as f64) * (v[hi] - v[lo])
}

/// Statistics of one endpoint on integer days.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Stats {
    /// KM median (days) per group; `f64::INFINITY` when not reached. R's rule:
    /// first event time with S < 0.5, midpoint to the next drop when S == 0.5.
    pub median: [f64; 8],
    /// Whether the curve sits exactly on 0.5 somewhere.
    pub exact_half: [bool; 8],
    /// Two-sided log-rank p for baseline EMD and progression EMD.
    pub p: [f64; 2],
}

/// One endpoint's observed (time, event) pairs kept sorted by time, so that a
/// one-patient change costs O(n) to re-sort and O(n) to rescore.
#[derive(Debug, Clone)]
pub(crate) struct Endpoint {
    pub time: Vec<i32>,
    pub event: Vec<bool>,
    cell: Vec<u8>,
    order: Vec<u16>,
    cell_size: [f64; 4],
}

impl Endpoint {
    pub(crate) fn new(time: Vec<i32>, event: Vec<bool>, cells: &[EmdCell]) -> Endpoint {
        let cell: Vec<u8> = cells.iter().map(|c| c.index() as u8).collect();
        let mut order: Vec<u16> = (0..time.len() as u16).collect();
        order.sort_by_key(|&i| time[i as usize]);
        let mut cell_size = [0.0; 4];
        for &c in &cell {
            cell_size[c as usize] += 1.0;
        }
        Endpoint {
            time,
            event,
            cell,
            order,
            cell_size,
        }
    }

    pub(crate) fn set(&mut self, i: usize, t: i32, e: bool) {
        self.time[i] = t;
        self.event[i] = e;
        let mut pos = self
            .order
            .iter()
            .position(|&k| k as usize == i)
            .expect("patient in order");
        while pos > 0 && self.time[self.order[pos - 1] as usize] > t {
            self.order.swap(pos, pos - 1);
            pos -= 1;
        }
        while pos + 1 < self.order.len() && self.time[self.order[pos + 1] as usize] < t {
            self.order.swap(pos, pos + 1);
            pos += 1;
        }
    }

    /// The realism statistics (see `realism`) on the sorted order, O(n): the
    /// most events in any `window`-day window and the longest stretch without
    /// events while at least `min_at_risk` are at risk.
    pub(crate) fn shape(&self, window: i32, min_at_risk: usize) -> (usize, i32) {
        let n = self.order.len();
        let at = |k: usize| self.order[k] as usize;
        let mut cluster = 0;
        let mut lo = 0;
        let mut count = 0;
        for hi in 0..n {
            let i = at(hi);
            if !self.event[i] {
                continue;
            }
            count += 1;
            let t = self.time[i];
            while t - self.time[at(lo)] >= window {
                if self.event[at(lo)] {
                    count -= 1;
                }
                lo += 1;
            }
            cluster = cluster.max(count);
        }
        if n < min_at_risk || min_at_risk == 0 {
            return (cluster, 0);
        }
        let tau = self.time[at(n - min_at_risk)];
        let mut prev = 0;
        let mut gap = 0;
        for k in 0..n {
            let i = at(k);
            if !self.event[i] {
                continue;
            }
            if prev >= tau {
                break;
            }
            gap = gap.max(self.time[i].min(tau) - prev);
            prev = self.time[i];
        }
        if prev < tau {
            gap = gap.max(tau - prev);
        }
        (cluster, gap)
    }

    /// KM medians and log-rank p-values in one pass over the sorted times.
    pub(crate) fn stats(&self) -> Stats {
        let n = self.order.len();
        let mut risk = self.cell_size;
        let mut surv = [1.0f64; 8];
        let mut median = [f64::INFINITY; 8];
        let mut half_at = [f64::NAN; 8];
        let mut exact_half = [false; 8];
        let mut o = [0.0f64; 2];
        let mut e = [0.0f64; 2];
        let mut v = [0.0f64; 2];
        let mut k = 0;
        while k < n {
            let t = self.time[self.order[k] as usize];
            let mut d = [0.0f64; 4];
            let mut r = [0.0f64; 4];
            while k < n && self.time[self.order[k] as usize] == t {
                let i = self.order[k] as usize;
                let c = self.cell[i] as usize;
                r[c] += 1.0;
                if self.event[i] {
                    d[c] += 1.0;
                }
                k += 1;
            }
            let d_tot = d[0] + d[1] + d[2] + d[3];
            if d_tot > 0.0 {
                let tf = t as f64;
                for g in 0..8 {
                    let (ng, dg) = masked(GROUP_MASK[g], &risk, &d);
                    if dg == 0.0 {
                        continue;
                    }
                    surv[g] *= 1.0 - dg / ng;
                    if median[g].is_finite() {
                        continue;
                    }
                    if !half_at[g].is_nan() {
                        median[g] = 0.5 * (half_at[g] + tf);
                    } else if (surv[g] - 0.5).abs() < HALF_TOL {
                        half_at[g] = tf;
                        exact_half[g] = true;
                    } else if surv[g] < 0.5 {
                        median[g] = tf;
                    }
                }
                let n_tot = risk[0] + risk[1] + risk[2] + risk[3];
                for j in 0..2 {
                    let (n1, d1) = masked(TEST_MASK[j], &risk, &d);
                    let frac = n1 / n_tot;
                    o[j] += d1;
                    e[j] += d_tot * frac;
                    if n_tot > 1.0 {
                        v[j] += d_tot * frac * (1.0 - frac) * (n_tot - d_tot) / (n_tot - 1.0);
                    }
                }
            }
            for c in 0..4 {
                risk[c] -= r[c];
            }
        }
        for g in 0..8 {
            if median[g].is_infinite() && !half_at[g].is_nan() {
                median[g] = half_at[g];
            }
        }
        let mut p = [1.0f64; 2];
        for j in 0..2 {
            if v[j] > 0.0 {
                let chisq = (o[j] - e[j]).powi(2) / v[j];
                p[j] = statrs::function::erf::erfc((chisq / 2.0).sqrt());
            }
        }
        Stats {
            median,
            exact_half,
            p,
        }
    }
}

fn masked(mask: u8, risk: &[f64; 4], d: &[f64; 4]) -> (f64, f64) {
    let mut n = 0.0;
    let mut dd = 0.0;
    for c in 0..4 {
        if mask & (1 << c) != 0 {
            n += risk[c];
            dd += d[c];
        }
    }
    (n, dd)
}

/// Half-open window of values that round to `target` at one decimal, in days.
pub(crate) fn median_window_days(target_months: f64) -> (f64, f64) {
    (
        (target_months - 0.05) * MONTH_DAYS,
        (target_months + 0.05) * MONTH_DAYS,
    )
}

/// Half-open window of p-values equal to `target` at two significant figures.
pub(crate) fn p_window(target: f64) -> (f64, f64) {
    let step = 10f64.powf(target.log10().floor() - 1.0);
    (target - 0.5 * step, target + 0.5 * step)
}

/// Windows the search aims for (slightly inside the acceptance windows so that
/// an independent implementation, e.g. survkit, lands inside them too).
#[derive(Debug, Clone)]
pub(crate) struct Windows {
    medians: [(usize, f64, f64); 4],
    p: [(f64, f64); 2],
}

impl Windows {
    pub(crate) fn new(t: &EndpointTargets) -> Windows {
        let med = |g: usize, m: f64| {
            let (lo, hi) = median_window_days(m);
            (g, lo + 1e-6, hi - 1e-6)
        };
        let pw = |p: f64| {
            let (lo, hi) = p_window(p);
            let margin = 0.2 * (hi - lo);
            (lo + margin, hi - margin)
        };
        Windows {
            medians: [
                med(G_BASE_YES, t.median_baseline_emd),
                med(G_BASE_NO, t.median_no_baseline_emd),
                med(G_PROG_YES, t.median_progression_emd),
                med(G_PROG_NO, t.median_no_progression_emd),
            ],
            p: [pw(t.p_baseline_emd), pw(t.p_progression_emd)],
        }
    }

    fn median_met(&self, k: usize, s: &Stats) -> bool {
        let (g, lo, hi) = self.medians[k];
        let m = s.median[g];
        m >= lo && m <= hi && !s.exact_half[g]
    }

    /// Zero exactly when every target is met.
    pub(crate) fn score(&self, s: &Stats) -> f64 {
        let mut total = 0.0;
        for &(g, lo, hi) in &self.medians {
            let m = s.median[g];
            total += if m.is_infinite() {
                300.0
            } else if m < lo {
                lo - m + 0.5
            } else if m > hi {
                m - hi + 0.5
            } else {
                0.0
            };
            if s.exact_half[g] {
                total += 2.0;
            }
        }
        for j in 0..2 {
            let (lo, hi) = self.p[j];
            let lp = s.p[j].max(1e-300).ln();
            total += W_P
                * if s.p[j] < lo {
                    lo.ln() - lp
                } else if s.p[j] > hi {
                    lp - hi.ln()
                } else {
                    0.0
                };
        }
        // the "both" cell has the lowest median of the four cells
        let mb = s.median[EmdCell::Both.index()];
        for c in 1..4 {
            let mc = s.median[c];
            if mb >= mc {
                total += if mc.is_infinite() {
                    50.0
                } else {
                    mb - mc + 1.0
                };
            }
        }
        total
    }

    /// A random unmet median target's (group, lo, hi), or any target if all are met.
    fn pick_median(&self, s: &Stats, rng: &mut Rng) -> (usize, f64, f64) {
        let unmet: Vec<usize> = (0..4).filter(|&k| !self.median_met(k, s)).collect();
        let k = if unmet.is_empty() {
            rng.below(4)
        } else {
            unmet[rng.below(unmet.len())]
        };
        self.medians[k]
    }
}

/// For each margin group, the cell it does not share with its sibling margin
/// (baseline-yes vs progression-yes, baseline-no vs progression-no): moving a
/// member of that cell shifts one curve without the other.
fn exclusive_cell(g: usize) -> Option<usize> {
    match g {
        G_BASE_YES | G_PROG_NO => Some(EmdCell::BaselineOnly.index()),
        G_BASE_NO | G_PROG_YES => Some(EmdCell::ProgressionOnly.index()),
        _ => None,
    }
}

/// A random member of group `g`; half of the time from its exclusive cell.
fn pick_member(members: &[Vec<usize>; 8], g: usize, rng: &mut Rng) -> usize {
    let pool = match exclusive_cell(g) {
        Some(c) if rng.bernoulli(0.5) && !members[c].is_empty() => &members[c],
        _ => &members[g],
    };
    pool[rng.below(pool.len())]
}

/// Members of each scanner group.
fn group_members(cells: &[EmdCell]) -> [Vec<usize>; 8] {
    let mut m: [Vec<usize>; 8] = Default::default();
    for (i, c) in cells.iter().enumerate() {
        let bit = 1u8 << c.index();
        for g in 0..8 {
            if GROUP_MASK[g] & bit != 0 {
                m[g].push(i);
            }
        }
    }
    m
}

/// Log-uniform step size in 1..=max days with a random sign.
fn step(rng: &mut Rng, max: f64) -> i32 {
    let mag = (rng.uniform() * max.ln()).exp().round() as i32;
    if rng.bernoulli(0.5) {
        mag.max(1)
    } else {
        -mag.max(1)
    }
}

/// A problem the annealer can work on.
trait Stage {
    type Snapshot;
    /// Apply a random move; return what is needed to undo it.
    fn propose(&mut self, rng: &mut Rng, cur: &Stats) -> [(usize, i32, i32); 2];
    fn undo(&mut self, undo: [(usize, i32, i32); 2]);
    fn stats(&self) -> Stats;
    fn windows(&self) -> &Windows;
    fn snapshot(&self) -> Self::Snapshot;
    fn restore(&mut self, s: &Self::Snapshot);
    /// Realism penalty of the current times under the current aim.
    fn penalty(&self) -> f64;
    /// Re-derive the realism aim from the current times.
    fn refresh_aim(&mut self, rng: &mut Rng);
}

/// Annealing schedule of one stage.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Schedule {
    pub runs: usize,
    pub iters: usize,
    pub t_start: f64,
    pub t_end: f64,
}

impl Default for Schedule {
    fn default() -> Self {
        Schedule {
            runs: 8,
            iters: 5_000,
            t_start: 1.0,
            t_end: 0.05,
        }
    }
}

/// Simulated annealing with restarts from the best state. Returns the best score
/// (0 = solved) and the number of proposals evaluated; leaves the best state.
fn anneal<S: Stage>(st: &mut S, rng: &mut Rng, sch: &Schedule) -> (f64, usize) {
    let score = |st: &S, stats: &Stats| st.windows().score(stats) + st.penalty();
    st.refresh_aim(rng);
    let mut cur_stats = st.stats();
    let mut cur = score(st, &cur_stats);
    let mut best = cur;
    let mut best_state = st.snapshot();
    let mut evals = 0;
    if best == 0.0 {
        return (0.0, 0);
    }
    let ratio = (sch.t_end / sch.t_start).ln();
    let mut idle_runs = 0;
    for run in 0..sch.runs {
        if idle_runs == 2 {
            // two whole runs without a better state: a stall; a fresh attempt
            // is cheaper than the remaining runs
            break;
        }
        idle_runs += 1;
        st.restore(&best_state);
        if run > 0 {
            // the aim follows the times: refit on the best state so far
            st.refresh_aim(rng);
        }
        cur_stats = st.stats();
        cur = score(st, &cur_stats);
        best = cur;
        if best == 0.0 {
            return (0.0, evals);
        }
        for it in 0..sch.iters {
            let temp = sch.t_start * (ratio * it as f64 / sch.iters as f64).exp();
            let undo = st.propose(rng, &cur_stats);
            let stats = st.stats();
            let s = score(st, &stats);
            evals += 1;
            if s <= cur || rng.uniform() < (-(s - cur) / temp).exp() {
                cur = s;
                cur_stats = stats;
                if cur < best {
                    best = cur;
                    best_state = st.snapshot();
                    idle_runs = 0;
                    if best == 0.0 {
                        // the aim may stem from earlier times: confirm it on these
                        st.refresh_aim(rng);
                        cur = score(st, &cur_stats);
                        best = cur;
                        if best == 0.0 {
                            return (0.0, evals);
                        }
                    }
                }
            } else {
                st.undo(undo);
            }
        }
    }
    st.restore(&best_state);
    (best, evals)
}

const NO_UNDO: (usize, i32, i32) = (usize::MAX, 0, 0);

/// Stage 1: death and censoring days, scored on OS only.
pub(crate) struct OsStage {
    pub death: Vec<i32>,
    pub censor: Vec<i32>,
    ep: Endpoint,
    cells: Vec<EmdCell>,
    baseline: Vec<bool>,
    members: [Vec<usize>; 8],
    windows: Windows,
    aim: Aim,
}

impl OsStage {
    pub(crate) fn new(latent: &[Latent], cells: &[EmdCell], targets: &EndpointTargets) -> Self {
        let death: Vec<i32> = latent.iter().map(|l| l.death).collect();
        let censor: Vec<i32> = latent.iter().map(|l| l.censor).collect();
        let time = death.iter().zip(&censor).map(|(&d, &c)| d.min(c)).collect();
        let event = death.iter().zip(&censor).map(|(&d, &c)| d <= c).collect();
        OsStage {
            ep: Endpoint::new(time, event, cells),
            death,
            censor,
            cells: cells.to_vec(),
            baseline: cells.iter().map(|c| c.baseline()).collect(),
            members: group_members(cells),
            windows: Windows::new(targets),
            aim: Aim::NONE,
        }
    }

    fn set(&mut self, i: usize, d: i32, c: i32) {
        self.death[i] = d;
        self.censor[i] = c;
        self.ep.set(i, d.min(c), d <= c);
    }

    pub(crate) fn solve(&mut self, rng: &mut Rng, sch: &Schedule) -> (f64, usize) {
        anneal(self, rng, sch)
    }
}

impl Stage for OsStage {
    type Snapshot = (Vec<i32>, Vec<i32>, Endpoint);

    fn propose(&mut self, rng: &mut Rng, cur: &Stats) -> [(usize, i32, i32); 2] {
        let n = self.death.len();
        let i = rng.below(n);
        let mut undo = [(i, self.death[i], self.censor[i]), NO_UNDO];
        let (d, c) = (self.death[i], self.censor[i]);
        let u = rng.uniform();
        if u < 0.28 {
            self.set(i, (d + step(rng, 60.0)).max(MIN_DEATH_DAYS), c);
        } else if u < 0.40 {
            // resample the death day from the patient's cell model
            let cell = self.cells[i];
            let d2 = months_to_days(death_hazard(cell).invert(rng.exp1()), MIN_DEATH_DAYS);
            self.set(i, d2, c);
        } else if u < 0.52 {
            let c2 = (c + step(rng, 90.0)).clamp(CENSOR_MIN_DAYS, CENSOR_MAX_DAYS);
            self.set(i, d, c2);
        } else if u < 0.77 {
            // move a member of an unmet target group to (near) its window
            let (g, lo, hi) = self.windows.pick_median(cur, rng);
            let j = pick_member(&self.members, g, rng);
            undo[0] = (j, self.death[j], self.censor[j]);
            let day = rng
                .range(lo.floor() as i32 - 2, hi.ceil() as i32 + 2)
                .max(MIN_DEATH_DAYS);
            let cj = if self.censor[j] < day {
                (day + rng.range(0, 200)).clamp(CENSOR_MIN_DAYS, CENSOR_MAX_DAYS)
            } else {
                self.censor[j]
            };
            self.set(j, day, cj);
        } else if u < 0.88 {
            let j = rng.below(n);
            if j != i {
                undo[1] = (j, self.death[j], self.censor[j]);
                let dj = self.death[j];
                self.set(j, d, self.censor[j]);
                self.set(i, dj, c);
            }
        } else {
            let f = (0.15 * rng.normal()).exp();
            let d2 = ((d as f64 * f).round() as i32).clamp(MIN_DEATH_DAYS, 100_000);
            self.set(i, d2, c);
        }
        undo
    }

    fn undo(&mut self, undo: [(usize, i32, i32); 2]) {
        for &(i, d, c) in undo.iter().rev() {
            if i != usize::MAX {
                self.set(i, d, c);
            }
        }
    }

    fn stats(&self) -> Stats {
        self.ep.stats()
    }

    fn windows(&self) -> &Windows {
        &self.windows
    }

    fn snapshot(&self) -> Self::Snapshot {
        (self.death.clone(), self.censor.clone(), self.ep.clone())
    }

    fn restore(&mut self, s: &Self::Snapshot) {
        self.death.clone_from(&s.0);
        self.censor.clone_from(&s.1);
        self.ep = s.2.clone();
    }

    fn penalty(&self) -> f64 {
        self.aim.penalty(&self.ep)
    }

    fn refresh_aim(&mut self, rng: &mut Rng) {
        // last follow-up = end of observation (death or cut-off)
        let last_fu = self.ep.time.clone();
        self.aim = Aim::for_endpoint(&self.ep, &last_fu, &self.censor, &self.baseline, rng);
    }
}

/// Stage 2: days of progression on the next line (0 = none observed), with the
/// death and censoring days of stage 1 fixed; scored on PFS only.
pub(crate) struct PfsStage {
    /// Next-line progression day, in `1..=cap`, or 0 for none.
    pub next: Vec<i32>,
    /// min(death, censor): the end of observation.
    cap: Vec<i32>,
    dead: Vec<bool>,
    /// Administrative censoring day (cut-off − progression).
    censor: Vec<i32>,
    ep: Endpoint,
    cells: Vec<EmdCell>,
    baseline: Vec<bool>,
    members: [Vec<usize>; 8],
    windows: Windows,
    aim: Aim,
}

impl PfsStage {
    pub(crate) fn new(
        latent_next: &[i32],
        death: &[i32],
        censor: &[i32],
        cells: &[EmdCell],
        targets: &EndpointTargets,
    ) -> Self {
        let cap: Vec<i32> = death.iter().zip(censor).map(|(&d, &c)| d.min(c)).collect();
        let dead: Vec<bool> = death.iter().zip(censor).map(|(&d, &c)| d <= c).collect();
        let next: Vec<i32> = latent_next
            .iter()
            .zip(&cap)
            .map(|(&p, &c)| {
                if p <= c && p >= MIN_NEXT_PROG_DAYS {
                    p
                } else {
                    0
                }
            })
            .collect();
        let time = (0..next.len())
            .map(|i| if next[i] > 0 { next[i] } else { cap[i] })
            .collect();
        let event = (0..next.len()).map(|i| next[i] > 0 || dead[i]).collect();
        PfsStage {
            ep: Endpoint::new(time, event, cells),
            next,
            cap,
            dead,
            censor: censor.to_vec(),
            cells: cells.to_vec(),
            baseline: cells.iter().map(|c| c.baseline()).collect(),
            members: group_members(cells),
            windows: Windows::new(targets),
            aim: Aim::NONE,
        }
    }

    /// Set patient `i`'s next-line progression day; 0, or beyond the end of
    /// observation, means none; positive days are raised to the minimum.
    fn set(&mut self, i: usize, p: i32) {
        let p = if p <= 0 || p > self.cap[i] || self.cap[i] < MIN_NEXT_PROG_DAYS {
            0
        } else {
            p.max(MIN_NEXT_PROG_DAYS)
        };
        self.next[i] = p;
        if p > 0 {
            self.ep.set(i, p, true);
        } else {
            self.ep.set(i, self.cap[i], self.dead[i]);
        }
    }

    pub(crate) fn solve(&mut self, rng: &mut Rng, sch: &Schedule) -> (f64, usize) {
        anneal(self, rng, sch)
    }
}

impl Stage for PfsStage {
    type Snapshot = (Vec<i32>, Endpoint);

    fn propose(&mut self, rng: &mut Rng, cur: &Stats) -> [(usize, i32, i32); 2] {
        let n = self.next.len();
        let i = rng.below(n);
        let mut undo = [(i, self.next[i], 0), NO_UNDO];
        let p = self.next[i];
        let cap = self.cap[i];
        let u = rng.uniform();
        if u < 0.12 {
            // resample from the patient's cell model (none if beyond observation)
            let cell = self.cells[i];
            let p2 = months_to_days(
                progression_hazard(cell).invert(rng.exp1()),
                MIN_NEXT_PROG_DAYS,
            );
            self.set(i, p2);
        } else if u < 0.45 {
            let s = step(rng, 45.0);
            if p > 0 {
                self.set(i, (p + s).max(MIN_NEXT_PROG_DAYS));
            } else {
                self.set(i, cap - s.abs());
            }
        } else if u < 0.72 {
            let (g, lo, hi) = self.windows.pick_median(cur, rng);
            let day_lo = lo.floor() as i32 - 2;
            for _ in 0..8 {
                let j = pick_member(&self.members, g, rng);
                if self.cap[j] >= day_lo.max(MIN_NEXT_PROG_DAYS) {
                    undo[0] = (j, self.next[j], 0);
                    let day = rng.range(day_lo, hi.ceil() as i32 + 2).min(self.cap[j]);
                    self.set(j, day);
                    break;
                }
            }
        } else if u < 0.84 {
            let j = rng.below(n);
            if j != i {
                undo[1] = (j, self.next[j], 0);
                let pj = self.next[j];
                self.set(j, if p > 0 { p.min(self.cap[j]) } else { 0 });
                self.set(i, if pj > 0 { pj.min(cap) } else { 0 });
            }
        } else if u < 0.94 {
            if p > 0 {
                let f = (0.15 * rng.normal()).exp();
                self.set(i, ((p as f64 * f).round() as i32).max(MIN_NEXT_PROG_DAYS));
            } else {
                self.set(i, rng.range(MIN_NEXT_PROG_DAYS.min(cap), cap.max(1)));
            }
        } else if p > 0 {
            self.set(i, 0);
        } else {
            self.set(i, rng.range(MIN_NEXT_PROG_DAYS.min(cap), cap.max(1)));
        }
        undo
    }

    fn undo(&mut self, undo: [(usize, i32, i32); 2]) {
        for &(i, p, _) in undo.iter().rev() {
            if i != usize::MAX {
                self.set(i, p);
            }
        }
    }

    fn stats(&self) -> Stats {
        self.ep.stats()
    }

    fn windows(&self) -> &Windows {
        &self.windows
    }

    fn snapshot(&self) -> Self::Snapshot {
        (self.next.clone(), self.ep.clone())
    }

    fn restore(&mut self, s: &Self::Snapshot) {
        self.next.clone_from(&s.0);
        self.ep = s.1.clone();
    }

    fn penalty(&self) -> f64 {
        self.aim.penalty(&self.ep)
    }

    fn refresh_aim(&mut self, rng: &mut Rng) {
        self.aim = Aim::for_endpoint(&self.ep, &self.cap, &self.censor, &self.baseline, rng);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_follow_rounding_rules() {
        let (lo, hi) = p_window(0.0076);
        assert!((lo - 0.00755).abs() < 1e-15 && (hi - 0.00765).abs() < 1e-15);
        let (lo, hi) = p_window(0.00086);
        assert!((lo - 0.000855).abs() < 1e-15 && (hi - 0.000865).abs() < 1e-15);
        let (lo, hi) = median_window_days(21.0);
        assert!(lo < 638.0 && lo > 637.0 && hi > 640.0 && hi < 641.0);
    }

    #[test]
    fn scanner_median_and_half_rule() {
        // one cell of four patients: deaths at 10, 20; censored 30; death 40
        let cells = [EmdCell::Neither; 4];
        let ep = Endpoint::new(vec![20, 10, 40, 30], vec![true, true, true, false], &cells);
        let s = ep.stats();
        // S: 0.75 at 10, 0.5 at 20 (exactly), 0 at 40 -> median (20 + 40) / 2
        assert!(s.exact_half[EmdCell::Neither.index()]);
        assert_eq!(s.median[EmdCell::Neither.index()], 30.0);
        assert_eq!(s.median[EmdCell::Both.index()], f64::INFINITY);
    }

    #[test]
    fn shape_on_sorted_order_equals_the_realism_statistics() {
        let cells: Vec<EmdCell> = (0..60).map(|i| EmdCell::ALL[i % 4]).collect();
        let mut rng = Rng::new(17);
        for _ in 0..200 {
            let time: Vec<i32> = (0..60).map(|_| rng.range(1, 400)).collect();
            let event: Vec<bool> = (0..60).map(|_| rng.bernoulli(0.6)).collect();
            let ep = Endpoint::new(time.clone(), event.clone(), &cells);
            for (w, r) in [(14, 15), (3, 1), (30, 59), (14, 61)] {
                assert_eq!(
                    ep.shape(w, r),
                    (
                        super::super::max_events_in_window(&time, &event, w),
                        super::super::longest_gap_at_risk(&time, &event, r)
                    )
                );
            }
        }
    }

    #[test]
    fn incremental_order_equals_fresh_sort() {
        let cells: Vec<EmdCell> = (0..40).map(|i| EmdCell::ALL[i % 4]).collect();
        let mut rng = Rng::new(11);
        let time: Vec<i32> = (0..40).map(|_| rng.range(1, 300)).collect();
        let event: Vec<bool> = (0..40).map(|_| rng.bernoulli(0.7)).collect();
        let mut ep = Endpoint::new(time, event, &cells);
        for _ in 0..500 {
            let i = rng.below(40);
            let t = rng.range(1, 300);
            let e = rng.bernoulli(0.7);
            ep.set(i, t, e);
        }
        let fresh = Endpoint::new(ep.time.clone(), ep.event.clone(), &cells);
        assert_eq!(ep.stats(), fresh.stats());
    }
}
