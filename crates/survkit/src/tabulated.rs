//! Survival statistics of a categorical grouping from one table of counts.
//!
//! With a grouping of k levels and heavily tied times (integer days, or days
//! in months: a few thousand distinct values for 10⁶ subjects) every
//! estimator below depends on the data only through the table
//!
//! ```text
//!   d[t, g] = events at distinct time t in group g
//!   c[t, g] = censorings at distinct time t in group g
//! ```
//!
//! built in one sequential pass over the ranks of the times among their
//! distinct values ([`TimeIndex`], one hash pass); several groupings of the
//! same rows share one index ([`GroupTable::with_index`]; [`GroupTable::new`]
//! makes its own). The estimators then cost
//! O(T·k) instead of a sort of the rows per fit:
//!
//! * Kaplan–Meier per group ([`GroupTable::km_fits`]): the group's
//!   [`TimeTable`] (n_risk = Σ_{s ≥ t} d[s, g] + c[s, g]) given to
//!   [`KmFit::from_table`], exactly what [`crate::km::kaplan_meier_by_group`]
//!   builds from the rows (R `survfit(Surv(time, event) ~ group)`);
//! * the k-sample log-rank test ([`GroupTable::logrank`], R `survdiff`,
//!   ρ = 0, no strata): at each time with D = Σ_g d[t, g] > 0 and
//!   N = Σ_g n[t, g], O_g += d[t, g], E_g += D·n[t, g]/N and
//!   V_gh += D(N − D)/(N(N − 1))·n[t, g](δ_gh − n[t, h]/N), the same loop
//!   as [`crate::logrank::logrank`] over the same counts;
//! * the two-arm RMST ([`crate::rmst::rmst2_from_fits`] on two of the
//!   [`GroupTable::km_fits`] curves, survRM2 `rmst2`).
//!
//! The counts are integers, so every sum above is formed from the same
//! floating-point operands in the same order as the row-based functions and
//! the results are bit-identical to them (the tests assert it on random
//! cohorts).
//!
//! Nearly equal times: the row functions tie them first (R's `aeqSurv`,
//! [`crate::timefix`]), on all rows or on a subset (one RMST arm). The table
//! groups times exactly, so [`GroupTable::new`] accepts only data where no
//! subset's timefix can merge two distinct times: every gap between
//! consecutive distinct times exceeds both the tolerance and twice the
//! tolerance times the largest time (the mean `aeqSurv` scales by is at
//! most the largest time). Otherwise it returns `None` and callers use the
//! row functions.

use crate::km::{time_key, KmFit, KmOptions, TimeTable, R_TOLERANCE};
use crate::logrank::{LogrankResult, MAX_GROUPS};
use crate::{Result, SurvError};

/// The distinct times of a set of rows and each row's rank among them,
/// computed once and shared by the [`GroupTable`]s of several groupings of
/// those rows ([`GroupTable::with_index`]).
#[derive(Debug, Clone, PartialEq)]
pub struct TimeIndex {
    /// Distinct finite, non-negative times, ascending.
    time: Vec<f64>,
    /// Rank of each row's time in `time` (`u32::MAX`: not finite or
    /// negative).
    rank: Vec<u32>,
}

impl TimeIndex {
    /// The index of `time`; `None` when the rows are too many for u32
    /// ranks.
    pub fn new(time: &[f64]) -> Option<TimeIndex> {
        if time.len() >= u32::MAX as usize {
            return None;
        }
        let (keys, rank) = crate::sort::dense_ranks(time.len(), time.len(), |i| {
            let t = time[i];
            (t.is_finite() && t >= 0.0).then(|| time_key(t))
        })?;
        Some(TimeIndex {
            time: keys.into_iter().map(f64::from_bits).collect(),
            rank,
        })
    }

    /// Whether R's time fix leaves every subset of the indexed rows' times
    /// unchanged ([`crate::timefix::untied_in_every_subset`]); false when
    /// some row's time is not finite or negative (not indexed).
    pub fn untied_in_every_subset(&self) -> bool {
        !self.rank.contains(&u32::MAX) && crate::timefix::untied_in_every_subset(&self.time)
    }

    /// Number of rows indexed.
    pub fn len(&self) -> usize {
        self.rank.len()
    }

    /// True when no rows are indexed.
    pub fn is_empty(&self) -> bool {
        self.rank.is_empty()
    }
}

/// Event and censoring counts per (distinct time, group).
#[derive(Debug, Clone, PartialEq)]
pub struct GroupTable {
    /// Distinct times of the rows with a group, ascending.
    pub time: Vec<f64>,
    /// Number of groups k (the groups are `0..k`).
    pub k: usize,
    /// `event[t * k + g]`: events at `time[t]` in group g.
    pub event: Vec<u64>,
    /// `censor[t * k + g]`: censorings at `time[t]` in group g.
    pub censor: Vec<u64>,
    /// Subjects per group.
    pub n: Vec<u64>,
}

impl GroupTable {
    /// Tabulate the rows with a group (`group[i] = None` rows are left out).
    ///
    /// Contract: `time`, `event` and `group` aligned. `None` when the lengths
    /// differ, a time of a row with a group is not finite or negative, a
    /// group is ≥ `k`, `k` exceeds the log-rank limit, or nearly equal
    /// times could be tied by R's timefix (see the module docs): the caller
    /// then uses the row functions, which report those cases.
    pub fn new(
        time: &[f64],
        event: &[bool],
        group: &[Option<usize>],
        k: usize,
    ) -> Option<GroupTable> {
        if time.len() != event.len() || time.len() != group.len() {
            return None;
        }
        GroupTable::with_index(&TimeIndex::new(time)?, event, group, k)
    }

    /// [`GroupTable::new`] of the rows `index` was built from: the same
    /// table (same contract, same `None` cases), from one sequential pass
    /// over the rows instead of a sort.
    pub fn with_index(
        index: &TimeIndex,
        event: &[bool],
        group: &[Option<usize>],
        k: usize,
    ) -> Option<GroupTable> {
        let n = index.len();
        if event.len() != n || group.len() != n || k > MAX_GROUPS {
            return None;
        }
        let nt = index.time.len();
        let mut event_n = vec![0u64; nt * k];
        let mut censor_n = vec![0u64; nt * k];
        let mut size = vec![0u64; k];
        for ((&r, &e), g) in index.rank.iter().zip(event).zip(group) {
            if let Some(g) = *g {
                if r == u32::MAX || g >= k {
                    return None;
                }
                let cell = r as usize * k + g;
                if e {
                    event_n[cell] += 1;
                } else {
                    censor_n[cell] += 1;
                }
                size[g] += 1;
            }
        }
        // keep the times of the rows with a group, compacted in place
        let mut time = Vec::new();
        for (t, &at) in index.time.iter().enumerate() {
            let cells = t * k..(t + 1) * k;
            if event_n[cells.clone()]
                .iter()
                .chain(&censor_n[cells.clone()])
                .any(|&c| c > 0)
            {
                let to = time.len() * k;
                event_n.copy_within(cells.clone(), to);
                censor_n.copy_within(cells, to);
                time.push(at);
            }
        }
        event_n.truncate(time.len() * k);
        censor_n.truncate(time.len() * k);
        let out = GroupTable {
            time,
            k,
            event: event_n,
            censor: censor_n,
            n: size,
        };
        out.near_ties_free().then_some(out)
    }

    /// No subset's timefix may tie two distinct times (module docs).
    fn near_ties_free(&self) -> bool {
        match self.time.last() {
            Some(&max) => {
                let limit = R_TOLERANCE.max(2.0 * R_TOLERANCE * max);
                !self.time.windows(2).any(|w| w[1] - w[0] <= limit)
            }
            None => true,
        }
    }

    /// Kaplan–Meier curve of each group (`None` for a group without
    /// subjects), as [`crate::km::kaplan_meier_by_group`] with `opts`.
    pub fn km_fits(&self, opts: &KmOptions) -> Vec<Option<KmFit>> {
        (0..self.k).map(|g| self.km_fit(g, opts)).collect()
    }

    /// Kaplan–Meier curve of group `g` (`None` without subjects or for
    /// `g ≥ k`).
    pub fn km_fit(&self, g: usize, opts: &KmOptions) -> Option<KmFit> {
        if g >= self.k || self.n[g] == 0 {
            return None;
        }
        let mut tab = TimeTable::default();
        let mut at_risk = self.n[g];
        for (t, &time) in self.time.iter().enumerate() {
            let (d, c) = (self.event[t * self.k + g], self.censor[t * self.k + g]);
            if d + c > 0 {
                tab.time.push(time);
                tab.n_risk.push(at_risk);
                tab.n_event.push(d);
                tab.n_censor.push(c);
                at_risk -= d + c;
            }
        }
        Some(KmFit::from_table(tab, opts))
    }

    /// The log-rank test (ρ = 0, no strata) of the groups `present` (table
    /// groups, in the order of the test's groups 0, 1, …), as
    /// [`crate::logrank::logrank`] on the rows of those groups with group
    /// `j` for a row of `present[j]`.
    pub fn logrank(&self, present: &[usize]) -> Result<LogrankResult> {
        let k = present.len();
        if present.iter().any(|&g| g >= self.k) {
            return Err(SurvError::InvalidOption {
                name: "present",
                message: "a group is not in the table".to_string(),
            });
        }
        let n_group: Vec<u64> = present.iter().map(|&g| self.n[g]).collect();
        if n_group.iter().sum::<u64>() == 0 {
            return Err(SurvError::Empty);
        }
        let mut obs = vec![0.0; k];
        let mut exp = vec![0.0; k];
        let mut var = vec![vec![0.0; k]; k];
        let mut at_risk: Vec<f64> = n_group.iter().map(|&n| n as f64).collect();
        let mut d_g = vec![0f64; k];
        let mut rem_g = vec![0f64; k];
        for t in 0..self.time.len() {
            let row = t * self.k;
            let mut any = false;
            for (j, &g) in present.iter().enumerate() {
                let (d, c) = (self.event[row + g], self.censor[row + g]);
                d_g[j] = d as f64;
                rem_g[j] = (d + c) as f64;
                any |= d + c > 0;
            }
            if !any {
                continue;
            }
            let nr: f64 = at_risk.iter().sum();
            let d: f64 = d_g.iter().sum();
            if d > 0.0 {
                for g in 0..k {
                    obs[g] += d_g[g];
                    exp[g] += d * at_risk[g] / nr;
                }
                crate::logrank::add_variance(&mut var, &at_risk, nr, d, 1.0);
            }
            for g in 0..k {
                at_risk[g] -= rem_g[g];
            }
        }
        crate::logrank::finish(0.0, n_group, obs, exp, var, None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::km::kaplan_meier_by_group;
    use crate::logrank::{logrank, LogrankOptions};

    /// Deterministic pseudo-random numbers (xorshift).
    struct Rng(u64);
    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }
        fn below(&mut self, n: u64) -> u64 {
            self.next() % n
        }
    }

    /// A cohort with heavy ties, censoring, `k` levels (level `empty`
    /// without rows) and some rows without a level.
    fn cohort(
        seed: u64,
        n: usize,
        k: usize,
        empty: Option<usize>,
        scale: f64,
    ) -> (Vec<f64>, Vec<bool>, Vec<Option<usize>>) {
        let mut r = Rng(seed);
        let mut t = vec![];
        let mut e = vec![];
        let mut g = vec![];
        for _ in 0..n {
            let lvl = r.below(k as u64) as usize;
            let lvl = if Some(lvl) == empty {
                (lvl + 1) % k
            } else {
                lvl
            };
            let missing = r.below(10) == 0;
            t.push(r.below(40 + 20 * lvl as u64) as f64 / scale);
            e.push(r.below(3) != 0);
            g.push(if missing { None } else { Some(lvl) });
        }
        (t, e, g)
    }

    /// The table by its definition (a map from each grouped row's time to
    /// its counts), independent of the index: the reference for
    /// [`GroupTable::new`] and [`GroupTable::with_index`].
    fn naive_table(t: &[f64], e: &[bool], g: &[Option<usize>], k: usize) -> Option<GroupTable> {
        if t.len() != e.len() || t.len() != g.len() || k > MAX_GROUPS {
            return None;
        }
        let mut cells: std::collections::BTreeMap<u64, (Vec<u64>, Vec<u64>)> = Default::default();
        let mut n = vec![0u64; k];
        for i in 0..t.len() {
            let Some(l) = g[i] else { continue };
            if !t[i].is_finite() || t[i] < 0.0 || l >= k {
                return None;
            }
            let c = cells
                .entry((t[i] + 0.0).to_bits())
                .or_insert((vec![0; k], vec![0; k]));
            if e[i] {
                c.0[l] += 1;
            } else {
                c.1[l] += 1;
            }
            n[l] += 1;
        }
        let time: Vec<f64> = cells.keys().map(|&b| f64::from_bits(b)).collect();
        if let Some(&max) = time.last() {
            let limit = R_TOLERANCE.max(2.0 * R_TOLERANCE * max);
            if time.windows(2).any(|w| w[1] - w[0] <= limit) {
                return None;
            }
        }
        Some(GroupTable {
            time,
            k,
            event: cells.values().flat_map(|c| c.0.clone()).collect(),
            censor: cells.values().flat_map(|c| c.1.clone()).collect(),
            n,
        })
    }

    #[test]
    fn km_and_logrank_equal_the_row_functions_bit_for_bit() {
        for seed in 1..40u64 {
            let k = 2 + (seed % 4) as usize;
            let empty = (seed % 3 == 0).then_some((seed as usize) % k);
            let scale = if seed % 2 == 0 { 1.0 } else { 30.4375 };
            let n = 5 + (seed as usize * 37) % 400;
            let (t, e, g) = cohort(seed, n, k, empty, scale);
            let tab = GroupTable::new(&t, &e, &g, k).expect("no near ties");
            let index = TimeIndex::new(&t).expect("fewer rows than u32::MAX");
            assert_eq!(
                GroupTable::with_index(&index, &e, &g, k).as_ref(),
                Some(&tab)
            );
            assert_eq!(
                naive_table(&t, &e, &g, k).as_ref(),
                Some(&tab),
                "seed {seed}"
            );
            let rows: Vec<usize> = (0..n).filter(|&i| g[i].is_some()).collect();
            let rt: Vec<f64> = rows.iter().map(|&i| t[i]).collect();
            let re: Vec<bool> = rows.iter().map(|&i| e[i]).collect();
            let rg: Vec<usize> = rows.iter().map(|&i| g[i].unwrap()).collect();
            let opts = KmOptions::default();
            let want = kaplan_meier_by_group(&rt, &re, &rg, k, &opts).unwrap();
            let got = tab.km_fits(&opts);
            assert_eq!(want.len(), got.len());
            for (w, g) in want.iter().zip(&got) {
                assert_eq!(
                    format!("{:?}", w.as_ref().ok()),
                    format!("{g:?}"),
                    "seed {seed}"
                );
            }
            let present: Vec<usize> = (0..k).filter(|&l| tab.n[l] > 0).collect();
            let cg: Vec<usize> = rg
                .iter()
                .map(|l| present.iter().position(|p| p == l).unwrap())
                .collect();
            let want = logrank(&rt, &re, &cg, None, &LogrankOptions::default());
            let got = tab.logrank(&present);
            match (want, got) {
                // Debug text: exact for f64 and NaN == NaN
                (Ok(w), Ok(g)) => assert_eq!(format!("{w:?}"), format!("{g:?}"), "seed {seed}"),
                (Err(w), Err(g)) => assert_eq!(w.to_string(), g.to_string()),
                (w, g) => panic!("seed {seed}: {w:?} vs {g:?}"),
            }
        }
    }

    #[test]
    fn rmst_from_fits_equals_rmst2_bit_for_bit() {
        for seed in 1..30u64 {
            let scale = if seed % 2 == 0 { 1.0 } else { 30.4375 };
            let (t, e, g) = cohort(seed, 20 + seed as usize * 11, 2, None, scale);
            let tab = GroupTable::new(&t, &e, &g, 2).unwrap();
            let rows: Vec<usize> = (0..t.len()).filter(|&i| g[i].is_some()).collect();
            let rt: Vec<f64> = rows.iter().map(|&i| t[i]).collect();
            let re: Vec<bool> = rows.iter().map(|&i| e[i]).collect();
            let ra: Vec<usize> = rows.iter().map(|&i| g[i].unwrap()).collect();
            let opts = KmOptions::default();
            let (f0, f1) = (tab.km_fit(0, &opts).unwrap(), tab.km_fit(1, &opts).unwrap());
            for tau in [5.0 / scale, 30.0 / scale, 45.0 / scale, 1e6] {
                let want = crate::rmst::rmst2(&rt, &re, &ra, tau, 0.95);
                let got = crate::rmst::rmst2_from_fits(&f0, &f1, tau, 0.95);
                match (want, got) {
                    // Debug text: exact for f64 and NaN == NaN
                    (Ok(w), Ok(g)) => assert_eq!(format!("{w:?}"), format!("{g:?}"), "seed {seed}"),
                    (Err(w), Err(g)) => assert_eq!(w.to_string(), g.to_string()),
                    (w, g) => panic!("seed {seed}: {w:?} vs {g:?}"),
                }
            }
        }
    }

    #[test]
    fn near_ties_and_bad_rows_fall_back() {
        let e = [true, false, true];
        let g = [Some(0), Some(1), Some(0)];
        assert!(GroupTable::new(&[1.0, 1.0 + 1e-12, 2.0], &e, &g, 2).is_none());
        assert!(GroupTable::new(&[1.0, -1.0, 2.0], &e, &g, 2).is_none());
        assert!(GroupTable::new(&[1.0, f64::NAN, 2.0], &e, &g, 2).is_none());
        assert!(GroupTable::new(&[1.0, 2.0, 3.0], &e, &g, 1).is_none());
        // a bad time on a row without a group is ignored, as it is left out
        let tab = GroupTable::new(&[1.0, f64::NAN, 2.0], &e, &[Some(0), None, Some(1)], 2);
        assert_eq!(tab.map(|t| t.n), Some(vec![1, 1]));
        // the shared index gives the same answers, one index for all
        let with = |t: &[f64], g: &[Option<usize>], k| {
            GroupTable::with_index(&TimeIndex::new(t).unwrap(), &e, g, k)
        };
        for t in [
            [1.0, 1.0 + 1e-12, 2.0],
            [1.0, -1.0, 2.0],
            [1.0, f64::NAN, 2.0],
        ] {
            assert_eq!(with(&t, &g, 2), naive_table(&t, &e, &g, 2));
            assert!(with(&t, &g, 2).is_none());
        }
        assert!(with(&[1.0, 2.0, 3.0], &g, 1).is_none());
        let g2 = [Some(0), None, Some(1)];
        assert_eq!(
            with(&[1.0, f64::NAN, 2.0], &g2, 2),
            naive_table(&[1.0, f64::NAN, 2.0], &e, &g2, 2)
        );
        // a time only a row without a group has is not in the table
        let g3 = [Some(0), None, Some(0)];
        let t3 = [1.0, 5.0, 2.0];
        let tab = with(&t3, &g3, 2).unwrap();
        assert_eq!(tab.time, vec![1.0, 2.0]);
        assert_eq!(Some(tab), naive_table(&t3, &e, &g3, 2));
        // every time distinct
        let many: Vec<f64> = (0..1000).map(|i| (999 - i) as f64).collect();
        let g: Vec<Option<usize>> = (0..1000).map(|i| Some(i % 3)).collect();
        let e: Vec<bool> = (0..1000).map(|i| i % 4 != 0).collect();
        let index = TimeIndex::new(&many).unwrap();
        assert_eq!(
            GroupTable::with_index(&index, &e, &g, 3),
            naive_table(&many, &e, &g, 3)
        );
    }
}
