//! Harrell's concordance of a risk score with a right-censored outcome, as R
//! reports it for a Cox model (`coxph(...)$concordance`, i.e.
//! `concordancefit(y, lp, strata, reverse = TRUE, timefix = FALSE)`; also
//! `concordance(fit)`), R survival 3.5-3.
//!
//! # Pairs
//!
//! Two subjects i, j of the same stratum with `t_i < t_j` form a *comparable*
//! pair when the shorter time `t_i` is an event. An event and a censoring at
//! the same time are comparable as well (the censored subject outlived the
//! event). With `reverse = TRUE` a higher score predicts a shorter time, so a
//! comparable pair is
//!
//! * **concordant** when `x_i > x_j`,
//! * **discordant** when `x_i < x_j`,
//! * **tied_x** when `x_i = x_j`.
//!
//! Pairs of two events at the same time are not comparable: they are
//! **tied_xy** when their scores are equal and **tied_y** otherwise. Two
//! censorings, or a censoring before an event, are never counted. Scores and
//! times are compared exactly (`timefix = FALSE`).
//!
//! ```text
//! c = (C + T_x/2) / (C + D + T_x)
//! ```
//!
//! (Harrell, Califf, Pryor, Lee & Rosati 1982, JAMA 247:2543; Harrell, Lee &
//! Mark 1996, Stat Med 15:361.)
//!
//! # Standard error (infinitesimal jackknife)
//!
//! As in R (Therneau & Watson 2017, "The concordance statistic and the Cox
//! model", Mayo Clinic tech. report 85; vignette "concordance" of survival),
//! the variance is that of Somers' `d = (C − D)/N`, `N = C + D + T_x`, by the
//! infinitesimal jackknife. With `C_i, D_i, T_i` the numbers of concordant,
//! discordant and x-tied comparable pairs that contain subject i (as either
//! member), the influence of i on d is
//!
//! ```text
//! U_i = (C_i − D_i)/N − d · (C_i + D_i + T_i)/N,
//! var(c) = Σ_i U_i² / 4,      se = sqrt(var(c)).
//! ```
//!
//! Strata: pairs are formed only within a stratum; C, D, T_x, N and the
//! per-subject counts are summed over strata before d and U_i are formed.
//!
//! # Algorithm
//!
//! O(n log n) and cache-friendly; written from the definition (not a port of
//! R's `concordance3.c` balanced-tree walk, though it yields the same counts
//! and per-subject influence). Scores become dense ranks within the stratum
//! (LSD radix sort of the IEEE bit patterns); subjects are then radix-sorted by
//! (stratum, time, censored-before-event, rank) and swept once in decreasing
//! time. A rank-count structure (per-rank counts in blocks of 16 ranks plus a
//! Fenwick tree over the blocks) holds, side by side, everybody already seen —
//! longer times, plus the censorings at the current time — and the events
//! among them. For subject k with rank r:
//!
//! * as the *shorter* member (k an event): concordant / discordant / x-tied
//!   partners = already-seen subjects with rank below / above / equal to r;
//! * as the *longer* member: the shorter events are all events of the stratum
//!   (a per-rank prefix count from the score sort) minus the already-seen
//!   events and, when k is an event, minus the events at its own time (tied
//!   on y, not comparable).
//!
//! Two cores: the radix sorts split their passes, and a large stratum is cut
//! at a time boundary into a longer-time part (swept from an empty tree) and
//! a shorter-time part (swept from a tree pre-filled with the longer-time
//! part in linear time), on two threads. Counts are integers, so the result
//! is the sequential one exactly. 10^6 rows take about 0.09 s in a release
//! build on a shared 2-core machine (R: about 1.5 s).

use serde::Serialize;

use crate::error::{check_len, check_times, Result, SurvError};
use crate::par::{join, MIN_PAR};
use crate::sort::{f64_key, radix_sort_by_key};

/// Concordance counts, Harrell's C and its infinitesimal-jackknife SE.
///
/// Counts are `f64` (as in R's `fit$concordance`) but always whole numbers.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Concordance {
    /// Comparable pairs where the shorter time has the higher score.
    pub concordant: f64,
    /// Comparable pairs where the shorter time has the lower score.
    pub discordant: f64,
    /// Comparable pairs with equal scores.
    pub tied_x: f64,
    /// Pairs of events at the same time with different scores.
    pub tied_y: f64,
    /// Pairs of events at the same time with equal scores.
    pub tied_xy: f64,
    /// `(concordant + tied_x/2) / (concordant + discordant + tied_x)`.
    pub c: f64,
    /// Infinitesimal-jackknife standard error of `c` (R: `sqrt(fit$var)`).
    pub se: f64,
}

/// Ranks per block of the rank tree (two 64-byte cache lines of counts).
const BLOCK: usize = 16;

/// Counts of subjects by rank `0..m` for two sets — everybody added (`[0]`)
/// and the events among them (`[1]`). The per-rank counts are stored in blocks
/// of [`BLOCK`] ranks, and a Fenwick (binary indexed) tree over the blocks
/// holds the block totals. A query costs one block of counts (one or two cache
/// misses) plus a walk of the small, cache-resident block tree, which is much
/// faster than a Fenwick tree over 10^6 ranks.
struct RankTree {
    cell: Vec<[[u32; BLOCK]; 2]>,
    /// 1-based Fenwick tree over blocks.
    fen: Vec<[u32; 2]>,
    total: [u32; 2],
    nb: usize,
}

/// Counts below / at / above a rank.
#[derive(Clone, Copy)]
struct Split {
    below: u64,
    eq: u64,
    above: u64,
}

impl RankTree {
    fn new(cap: usize) -> RankTree {
        let nb = cap.div_ceil(BLOCK);
        RankTree {
            cell: vec![[[0; BLOCK]; 2]; nb],
            fen: vec![[0; 2]; nb + 1],
            total: [0; 2],
            nb: 0,
        }
    }

    /// Empty the tree and use ranks `0..m`.
    fn reset(&mut self, m: usize) {
        self.nb = m.div_ceil(BLOCK);
        self.cell[..self.nb].fill([[0; BLOCK]; 2]);
        self.fen[..=self.nb].fill([0; 2]);
        self.total = [0; 2];
    }

    /// Empty the tree, use ranks `0..m` and add `items` (`(.. | event,
    /// .. | rank)`) in O(items + m): counts first, then the block tree
    /// built bottom-up.
    fn fill(&mut self, items: &[(u64, u64)], m: usize) {
        self.reset(m);
        for it in items {
            let (r, e) = (it.1 as u32 as usize, (it.0 & 1) as u32);
            let cell = &mut self.cell[r / BLOCK];
            cell[0][r % BLOCK] += 1;
            cell[1][r % BLOCK] += e;
            self.total[0] += 1;
            self.total[1] += e;
        }
        for i in 1..=self.nb {
            let c = &self.cell[i - 1];
            self.fen[i][0] += c[0].iter().sum::<u32>();
            self.fen[i][1] += c[1].iter().sum::<u32>();
            let j = i + (i & i.wrapping_neg());
            if j <= self.nb {
                let f = self.fen[i];
                self.fen[j][0] += f[0];
                self.fen[j][1] += f[1];
            }
        }
    }

    /// Add one subject at rank `r` (counted among the events when `is_event`).
    #[inline]
    fn add(&mut self, r: u32, is_event: bool) {
        let e = is_event as u32;
        let (b, o) = (r as usize / BLOCK, r as usize % BLOCK);
        let cell = &mut self.cell[b];
        cell[0][o] += 1;
        cell[1][o] += e;
        self.total[0] += 1;
        self.total[1] += e;
        let mut i = b + 1;
        while i <= self.nb {
            self.fen[i][0] += 1;
            self.fen[i][1] += e;
            i += i & i.wrapping_neg();
        }
    }

    /// Split of (everybody, events) around rank `r`.
    #[inline]
    fn split(&self, r: u32) -> (Split, Split) {
        let (b, o) = (r as usize / BLOCK, r as usize % BLOCK);
        let cell = &self.cell[b];
        let mut all: u32 = cell[0][..o].iter().sum();
        let mut ev: u32 = cell[1][..o].iter().sum();
        let mut i = b;
        while i > 0 {
            all += self.fen[i][0];
            ev += self.fen[i][1];
            i &= i - 1;
        }
        let mk = |below: u32, eq: u32, total: u32| Split {
            below: below as u64,
            eq: eq as u64,
            above: (total - below - eq) as u64,
        };
        (
            mk(all, cell[0][o], self.total[0]),
            mk(ev, cell[1][o], self.total[1]),
        )
    }
}

/// Scores ranked within strata.
struct Ranked {
    /// `((time bits << 1) | event, (stratum id << 32) | rank)` per subject.
    items: Vec<(u64, u64)>,
    /// Distinct scores per stratum.
    n_ranks: Vec<usize>,
    /// Per stratum s, `m_s + 1` entries starting at `offset[s]`: the number of
    /// events of the stratum with rank below r, for r = 0..=m_s.
    cum: Vec<u32>,
    offset: Vec<usize>,
}

/// Given items sorted by (stratum label, score key), rank the scores within
/// each stratum (one sequential pass).
fn rank_scores<T>(
    v: Vec<T>,
    xkey: impl Fn(&T) -> u64,
    tkey: impl Fn(&T) -> u64,
    label: impl Fn(&T) -> u64,
) -> Ranked {
    let mut items = Vec::with_capacity(v.len());
    let mut n_ranks: Vec<usize> = Vec::new();
    let mut cum: Vec<u32> = Vec::with_capacity(v.len() + 1);
    let mut offset: Vec<usize> = Vec::new();
    let (mut sid, mut r, mut nev) = (0u64, 0u64, 0u32);
    for (k, x) in v.iter().enumerate() {
        if k == 0 || label(x) != label(&v[k - 1]) {
            if k > 0 {
                cum.push(nev);
                sid += 1;
            }
            offset.push(cum.len());
            cum.push(0);
            n_ranks.push(1);
            r = 0;
            nev = 0;
        } else if xkey(x) != xkey(&v[k - 1]) {
            cum.push(nev);
            r += 1;
            n_ranks[sid as usize] += 1;
        }
        let t = tkey(x);
        nev += (t & 1) as u32;
        items.push((t, (sid << 32) | r));
    }
    cum.push(nev);
    Ranked {
        items,
        n_ranks,
        cum,
        offset,
    }
}

/// Pair counts of a sweep.
#[derive(Default, Clone, Copy)]
struct Counts {
    conc: u64,
    disc: u64,
    tx: u64,
    /// Pairs of events at the same time (tied on y, with or without x).
    ty_all: u64,
    txy: u64,
}

impl Counts {
    fn add(&mut self, o: &Counts) {
        self.conc += o.conc;
        self.disc += o.disc;
        self.tx += o.tx;
        self.ty_all += o.ty_all;
        self.txy += o.txy;
    }
}

impl Split {
    /// Split around rank r from prefix counts (`pre[r]` = count below r).
    fn from_prefix(pre: &[u32], r: u32) -> Split {
        let r = r as usize;
        let (lo, hi, total) = (pre[r] as u64, pre[r + 1] as u64, pre[pre.len() - 1] as u64);
        Split {
            below: lo,
            eq: hi - lo,
            above: total - hi,
        }
    }
}

/// One stratum with m distinct scores: for r = 0..=m, the number of its
/// events with rank below r.
struct Stratum<'a> {
    cum: &'a [u32],
}

impl Stratum<'_> {
    /// All events of the stratum, split around rank r.
    fn all_events(&self, r: u32) -> Split {
        Split::from_prefix(self.cum, r)
    }

    /// Sweep `items` (part of the stratum, sorted by time, censored before
    /// event, rank) in decreasing time; `tree` holds the subjects of the
    /// stratum with longer times that are not in `items`. Writes each
    /// subject's `C − D` and `C + D + T` into `diff` and `tot`.
    fn sweep(
        &self,
        items: &[(u64, u64)],
        tree: &mut RankTree,
        diff: &mut [i64],
        tot: &mut [u64],
    ) -> Counts {
        let time_of = |k: usize| items[k].0 >> 1;
        let is_event = |k: usize| items[k].0 & 1 == 1;
        let rank_of = |k: usize| items[k].1 as u32;
        let mut c = Counts::default();
        let mut hi = items.len();
        while hi > 0 {
            let t = time_of(hi - 1);
            let mut lo = hi - 1;
            while lo > 0 && time_of(lo - 1) == t {
                lo -= 1;
            }
            let mut e0 = lo;
            while e0 < hi && !is_event(e0) {
                e0 += 1;
            }
            // censorings at t: longer member against every event at or before t
            for k in lo..e0 {
                let r = rank_of(k);
                let (_, seen_ev) = tree.split(r);
                let tot_ev = self.all_events(r);
                let below = tot_ev.below - seen_ev.below;
                let eq = tot_ev.eq - seen_ev.eq;
                let above = tot_ev.above - seen_ev.above;
                diff[k] = above as i64 - below as i64;
                tot[k] = below + eq + above;
                tree.add(r, false);
            }
            // events at t (sorted by rank): runs of equal rank are tied on x and y
            let d = (hi - e0) as u64;
            c.ty_all += d * d.saturating_sub(1) / 2;
            let mut k = e0;
            while k < hi {
                let r = rank_of(k);
                let mut k2 = k + 1;
                while k2 < hi && rank_of(k2) == r {
                    k2 += 1;
                }
                let run = (k2 - k) as u64;
                c.txy += run * (run - 1) / 2;
                let (all, seen_ev) = tree.split(r);
                let tot_ev = self.all_events(r);
                // shorter member: higher score than the longer-lived = concordant
                c.conc += run * all.below;
                c.disc += run * all.above;
                c.tx += run * all.eq;
                // longer member: events strictly before t
                let below = tot_ev.below - seen_ev.below - (k - e0) as u64;
                let eq = tot_ev.eq - seen_ev.eq - run;
                let above = tot_ev.above - seen_ev.above - (hi - k2) as u64;
                let dk = (all.below as i64 - all.above as i64) + (above as i64 - below as i64);
                let tk = all.below + all.eq + all.above + below + eq + above;
                diff[k..k2].fill(dk);
                tot[k..k2].fill(tk);
                k = k2;
            }
            for k in e0..hi {
                tree.add(rank_of(k), true);
            }
            hi = lo;
        }
        c
    }
}

/// Harrell's concordance of `score` (a risk score such as the Cox linear
/// predictor `x'β`: higher = shorter survival) with `(time, event)`, pairs
/// formed within `strata` when given — R's `coxph(...)$concordance`.
///
/// Errors: length mismatch, empty input, negative/non-finite time, non-finite
/// score, more than `u32::MAX` rows, and [`SurvError::Degenerate`] when there is
/// no comparable pair (R would report `NaN`).
pub fn concordance(
    time: &[f64],
    event: &[bool],
    score: &[f64],
    strata: Option<&[usize]>,
) -> Result<Concordance> {
    concordance_cut(time, event, score, strata, MIN_PAR)
}

/// [`concordance`], cutting strata of at least `min_cut` subjects in two.
fn concordance_cut(
    time: &[f64],
    event: &[bool],
    score: &[f64],
    strata: Option<&[usize]>,
    min_cut: usize,
) -> Result<Concordance> {
    let n = time.len();
    check_len("event", event.len(), n)?;
    check_len("score", score.len(), n)?;
    if let Some(s) = strata {
        check_len("strata", s.len(), n)?;
    }
    if n == 0 {
        return Err(SurvError::Empty);
    }
    check_times(time)?;
    if let Some((index, &value)) = score.iter().enumerate().find(|(_, x)| !x.is_finite()) {
        return Err(SurvError::InvalidValue {
            what: "score".to_string(),
            index,
            value,
        });
    }
    if n > u32::MAX as usize {
        return Err(SurvError::TooLarge {
            what: "concordance",
            limit: u32::MAX as u64,
        });
    }

    // 1. Order by (stratum label, score); dense stratum ids and dense score
    //    ranks within each stratum. Times are finite and >= 0, so the sign bit
    //    of the time's bit pattern is free for the event flag.
    let tkey = |i: usize| ((time[i] + 0.0).to_bits() << 1) | event[i] as u64;
    let ranked = match strata {
        None => {
            let mut v: Vec<(u64, u64)> = (0..n).map(|i| (f64_key(score[i]), tkey(i))).collect();
            radix_sort_by_key(&mut v, |x| x.0);
            rank_scores(v, |x| x.0, |x| x.1, |_| 0)
        }
        Some(s) => {
            let mut v: Vec<(u64, u64, u64)> = (0..n)
                .map(|i| (f64_key(score[i]), tkey(i), s[i] as u64))
                .collect();
            radix_sort_by_key(&mut v, |x| x.0);
            radix_sort_by_key(&mut v, |x| x.2);
            rank_scores(v, |x| x.0, |x| x.1, |x| x.2)
        }
    };

    // 2. Stable sorts give the order (stratum, time, censored before event,
    //    rank); items are ((time bits << 1) | event, (stratum id << 32) | rank).
    let Ranked {
        mut items,
        n_ranks,
        cum: cum_all,
        offset,
    } = ranked;
    radix_sort_by_key(&mut items, |x| x.0);
    if n_ranks.len() > 1 {
        radix_sort_by_key(&mut items, |x| x.1 >> 32);
    }

    // 3. One descending sweep per stratum; a large stratum is cut at a time
    //    boundary and its two parts swept on two threads (integer counts, so
    //    the result is the sequential one exactly).
    let mut diff = vec![0i64; n]; // C_k − D_k (sorted position)
    let mut tot = vec![0u64; n]; // C_k + D_k + T_k
    let mut sums = Counts::default();
    let cap = n_ranks.iter().copied().max().unwrap_or(0);
    let mut trees = [RankTree::new(cap), RankTree::new(0)];
    let mut a = 0usize;
    while a < n {
        let s = items[a].1 >> 32;
        let mut b = a + 1;
        while b < n && items[b].1 >> 32 == s {
            b += 1;
        }
        let m = n_ranks[s as usize];
        let st = Stratum {
            // events of the stratum with rank below r, r = 0..=m
            cum: &cum_all[offset[s as usize]..=offset[s as usize] + m],
        };
        // cut near the middle, at the start of a run of equal times
        let time_of = |k: usize| items[k].0 >> 1;
        let mut mid = a + (b - a) / 2;
        while mid > a && time_of(mid - 1) == time_of(mid) {
            mid -= 1;
        }
        let (da, db) = diff[a..b].split_at_mut(mid - a);
        let (ta, tb) = tot[a..b].split_at_mut(mid - a);
        let (lower, upper) = items[a..b].split_at(mid - a);
        if b - a >= min_cut && mid > a {
            if trees[1].cell.len() < trees[0].cell.len() {
                trees[1] = RankTree::new(cap);
            }
            let [t0, t1] = &mut trees;
            let (cu, cl) = join(
                b - a >= MIN_PAR,
                || {
                    t0.reset(m);
                    st.sweep(upper, t0, db, tb)
                },
                || {
                    // the shorter-time part starts with the longer-time part seen
                    t1.fill(upper, m);
                    st.sweep(lower, t1, da, ta)
                },
            );
            sums.add(&cu);
            sums.add(&cl);
        } else {
            trees[0].reset(m);
            sums.add(&st.sweep(&items[a..b], &mut trees[0], &mut diff[a..b], &mut tot[a..b]));
        }
        a = b;
    }
    let Counts {
        conc,
        disc,
        tx,
        ty_all,
        txy,
    } = sums;

    let npair = conc + disc + tx;
    if npair == 0 {
        return Err(SurvError::Degenerate {
            what: "concordance",
            message: "no comparable pairs (no event with a longer-lived partner)".to_string(),
        });
    }
    let np = npair as f64;
    let c = (conc as f64 + tx as f64 / 2.0) / np;
    let somers_d = (conc as f64 - disc as f64) / np;
    let ss: f64 = diff
        .iter()
        .zip(&tot)
        .map(|(&dk, &tk)| {
            let u = (dk as f64 - somers_d * tk as f64) / np;
            u * u
        })
        .sum();
    Ok(Concordance {
        concordant: conc as f64,
        discordant: disc as f64,
        tied_x: tx as f64,
        tied_y: (ty_all - txy) as f64,
        tied_xy: txy as f64,
        c,
        se: ss.sqrt() / 2.0,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_by_hand() {
        // times 1(e) 2(e) 2(c) 3(c); scores 3 2 1 0 (perfectly concordant)
        let r = concordance(
            &[1.0, 2.0, 2.0, 3.0],
            &[true, true, false, false],
            &[3.0, 2.0, 1.0, 0.0],
            None,
        )
        .unwrap();
        // pairs: (1,2) (1,2c) (1,3) (2,2c) (2,3) -> 5 concordant
        assert_eq!(r.concordant, 5.0);
        assert_eq!(r.discordant, 0.0);
        assert_eq!(r.c, 1.0);
    }

    #[test]
    fn cutting_strata_in_two_changes_nothing() {
        use rand::{rngs::StdRng, Rng, SeedableRng};
        let mut rng = StdRng::seed_from_u64(7);
        for rep in 0..400 {
            let n = rng.random_range(2..300);
            let ntime = rng.random_range(1..40);
            let nscore = rng.random_range(1..30);
            let nstrata = rng.random_range(1..4);
            let time: Vec<f64> = (0..n).map(|_| rng.random_range(0..ntime) as f64).collect();
            let event: Vec<bool> = (0..n).map(|_| rng.random_bool(0.6)).collect();
            let score: Vec<f64> = (0..n)
                .map(|_| rng.random_range(0..nscore) as f64 * 0.37)
                .collect();
            let strata: Vec<usize> = (0..n).map(|_| rng.random_range(0..nstrata)).collect();
            for st in [None, Some(strata.as_slice())] {
                let whole = concordance_cut(&time, &event, &score, st, usize::MAX);
                let cut = concordance_cut(&time, &event, &score, st, 2);
                match (whole, cut) {
                    // bit-identical, SE included
                    (Ok(a), Ok(b)) => assert_eq!(a, b, "rep {rep}"),
                    (Err(_), Err(_)) => {}
                    (a, b) => panic!("rep {rep}: {a:?} vs {b:?}"),
                }
            }
        }
    }

    #[test]
    fn errors() {
        assert!(matches!(
            concordance(&[], &[], &[], None),
            Err(SurvError::Empty)
        ));
        assert!(concordance(&[1.0], &[true, false], &[0.0], None).is_err());
        assert!(concordance(&[1.0, 2.0], &[true, false], &[0.0, f64::NAN], None).is_err());
        assert!(concordance(&[-1.0, 2.0], &[true, false], &[0.0, 1.0], None).is_err());
        assert!(concordance(&[1.0, 2.0], &[true, false], &[0.0, 1.0], Some(&[0])).is_err());
        // no comparable pair: all censored
        assert!(matches!(
            concordance(&[1.0, 2.0], &[false, false], &[0.0, 1.0], None),
            Err(SurvError::Degenerate { .. })
        ));
    }
}
