//! Concordance with case weights, (start, stop] rows and clustered
//! infinitesimal-jackknife SE — R `concordancefit(y, lp, strata, weights,
//! cluster, reverse = TRUE, timefix = FALSE)` as `coxph` calls it (survival
//! 3.5-3, `concordance3.c` / `concordance4.c`).
//!
//! Pairs: for every event row i at time t, its partners are the rows j at risk
//! at t (`start_j < t ≤ stop_j`; right-censored data: `stop_j ≥ t`) that are
//! not events at t. The pair weighs `w_i w_j` and is concordant when the
//! event has the higher score, discordant when lower, tied_x when equal. Two
//! events at the same time weigh `w_i w_j` in tied_xy (equal score) or tied_y.
//!
//! Influence: `C_k, D_k, T_k` = weighted sums of the partners' weights over
//! the comparable pairs containing row k (either member). With `N = C + D + T`
//! and Somers' `d = (C − D)/N`, the dfbeta of row k is
//! `w_k ((C_k − D_k) − (C_k + D_k + T_k) d) / (2N)`; summed within clusters
//! (R's `rowsum(dfbeta, cluster)`), `var = Σ dfbeta²`. Unweighted,
//! right-censored and unclustered this equals [`crate::concordance`].
//!
//! Algorithm: per stratum, O(n log n) with two Fenwick trees over score ranks
//! (float weights): a descending sweep keeps the risk set (rows enter at
//! stop, leave once start ≥ t) for the event-as-shorter member, and an
//! ascending sweep keeps the cumulative event weight for the
//! row-as-longer member, read at both ends of each row's interval.

use crate::concordance::Concordance;
use crate::error::{check_len, Result, SurvError};

/// Weights by score rank `0..m`: per-rank values in blocks of 16 ranks and
/// a Fenwick tree over the block totals, so a query reads one block (one or
/// two cache lines) and walks a small, cache-resident tree.
struct Fenwick {
    node: Vec<f64>,
    fen: Vec<f64>,
}

const BLOCK: usize = 16;

impl Fenwick {
    fn new(m: usize) -> Self {
        let nb = m.div_ceil(BLOCK);
        Fenwick {
            node: vec![0.0; nb * BLOCK],
            fen: vec![0.0; nb + 1],
        }
    }
    #[inline]
    fn add(&mut self, r: usize, w: f64) {
        self.node[r] += w;
        let mut i = r / BLOCK + 1;
        while i < self.fen.len() {
            self.fen[i] += w;
            i += i & i.wrapping_neg();
        }
    }
    /// Σ weights with rank < r.
    #[inline]
    fn below(&self, r: usize) -> f64 {
        let b = r / BLOCK;
        let mut s: f64 = self.node[b * BLOCK..r].iter().sum();
        let mut i = b;
        while i > 0 {
            s += self.fen[i];
            i &= i - 1;
        }
        s
    }
}

/// `(key, index)` of `idx`, sorted stably by key ascending (radix sort).
fn sorted_by(idx: &[usize], key: impl Fn(usize) -> u64) -> Vec<(u64, u32)> {
    let mut v: Vec<(u64, u32)> = idx.iter().map(|&i| (key(i), i as u32)).collect();
    crate::sort::radix_sort_pairs(&mut v);
    v
}

/// `a += v`, component by component.
#[inline]
fn add(a: &mut [f64; 3], v: [f64; 3]) {
    for k in 0..3 {
        a[k] += v[k];
    }
}

/// A row as a sweep reads it (gathered once, in sweep order).
#[derive(Clone, Copy, Default)]
struct Item {
    t: f64,
    w: f64,
    rank: u32,
    row: u32,
    event: bool,
    /// Ascending sweep: events at `t` count for this query (a censored
    /// row's stop, or any row's start).
    incl: bool,
    /// Ascending sweep: the query is a row's start (its counts are
    /// subtracted).
    at_start: bool,
}

/// General concordance (see the module docs). `cluster` labels sum the
/// dfbeta before squaring (None = one cluster per row).
#[allow(clippy::too_many_arguments)]
pub fn concordance_general(
    start: Option<&[f64]>,
    stop: &[f64],
    event: &[bool],
    weight: Option<&[f64]>,
    score: &[f64],
    strata: Option<&[usize]>,
    cluster: Option<&[usize]>,
) -> Result<Concordance> {
    concordance_rows(
        start,
        stop,
        event,
        weight,
        score,
        strata,
        cluster,
        Mult::Weights,
    )
}

/// What the per-row multiplier `weight` means.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mult {
    /// Case weights (R's `weights =`).
    Weights,
    /// Each row stands for that many identical rows (collapsed cells,
    /// `cox/cells.rs`): pairs inside a row count as pairs of its copies
    /// (tied times), and the variance sums each copy's squared dfbeta.
    Counts,
}

/// The unweighted right-censored concordance of the rows that collapsed
/// `cells` stand for (`count` copies of each), from the cells alone.
pub(crate) fn concordance_counts(
    stop: &[f64],
    event: &[bool],
    count: &[f64],
    score: &[f64],
    strata: Option<&[usize]>,
) -> Result<Concordance> {
    concordance_rows(
        None,
        stop,
        event,
        Some(count),
        score,
        strata,
        None,
        Mult::Counts,
    )
}

#[allow(clippy::too_many_arguments)]
fn concordance_rows(
    start: Option<&[f64]>,
    stop: &[f64],
    event: &[bool],
    weight: Option<&[f64]>,
    score: &[f64],
    strata: Option<&[usize]>,
    cluster: Option<&[usize]>,
    mult: Mult,
) -> Result<Concordance> {
    let n = stop.len();
    check_len("event", event.len(), n)?;
    check_len("score", score.len(), n)?;
    if let Some(s) = start {
        check_len("start", s.len(), n)?;
    }
    if let Some(w) = weight {
        check_len("weights", w.len(), n)?;
    }
    if let Some(s) = strata {
        check_len("strata", s.len(), n)?;
    }
    if let Some(c) = cluster {
        check_len("cluster", c.len(), n)?;
    }
    if n == 0 {
        return Err(SurvError::Empty);
    }
    let w = |i: usize| weight.map_or(1.0, |w| w[i]);
    use crate::sort::f64_key;
    // rows grouped by stratum
    let all: Vec<usize> = (0..n).collect();
    let rows: Vec<usize> = match strata {
        Some(s) => sorted_by(&all, |i| s[i] as u64)
            .into_iter()
            .map(|p| p.1 as usize)
            .collect(),
        None => all,
    };
    let st = |i: usize| strata.map_or(0, |s| s[i]);
    // per row: C, D, T influence sums, from the descending sweep (the row as
    // the event) and from the ascending sweep (the row as the longer
    // member), each into its own array; the two sweeps run on the two cores
    let mut inf = vec![[0.0f64; 3]; n];
    let mut inf_up = vec![[0.0f64; 3]; n];
    let mut rank = vec![0u32; n];
    let (mut cc, mut dd, mut tx, mut ty, mut txy) = (0.0, 0.0, 0.0, 0.0, 0.0);
    let mut lo = 0;
    while lo < n {
        let s0 = st(rows[lo]);
        let mut hi = lo;
        while hi < n && st(rows[hi]) == s0 {
            hi += 1;
        }
        let idx = &rows[lo..hi];
        // dense ranks of the scores (equal keys = equal scores)
        let by_score = sorted_by(idx, |i| f64_key(score[i]));
        let mut m = 0u32;
        for (k, &(key, i)) in by_score.iter().enumerate() {
            if k > 0 && key != by_score[k - 1].0 {
                m += 1;
            }
            rank[i as usize] = m;
        }
        drop(by_score);
        let m = m as usize + 1;
        let item = |i: usize, t: f64| Item {
            t,
            w: w(i),
            rank: rank[i],
            row: i as u32,
            event: event[i],
            incl: false,
            at_start: false,
        };
        // rows by stop descending, and by start descending
        let by_stop: Vec<Item> = sorted_by(idx, |i| !f64_key(stop[i]))
            .into_iter()
            .map(|p| item(p.1 as usize, stop[p.1 as usize]))
            .collect();
        let by_start: Vec<Item> = match start {
            Some(sa) => sorted_by(idx, |i| !f64_key(sa[i]))
                .into_iter()
                .map(|p| item(p.1 as usize, sa[p.1 as usize]))
                .collect(),
            None => vec![],
        };
        // descending sweep: the risk set by rank (rows enter at stop, leave
        // once start ≥ t — such a row has stop > t, so it is in); the events
        // at t query it before they enter. Adds (C, D, T) to each event's row.
        let down = |inf: &mut [[f64; 3]]| {
            let (mut cc, mut dd, mut tx, mut ty, mut txy) = (0.0, 0.0, 0.0, 0.0, 0.0);
            let mut tree = Fenwick::new(m);
            let mut total = 0.0;
            let mut q = 0;
            let mut k = 0;
            let mut evs: Vec<Item> = vec![];
            while k < by_stop.len() {
                let t = by_stop[k].t;
                let mut e = k;
                while e < by_stop.len() && by_stop[e].t == t {
                    e += 1;
                }
                let grp = &by_stop[k..e];
                for it in grp.iter().filter(|it| !it.event) {
                    tree.add(it.rank as usize, it.w);
                    total += it.w;
                }
                while q < by_start.len() && by_start[q].t >= t {
                    let it = &by_start[q];
                    tree.add(it.rank as usize, -it.w);
                    total -= it.w;
                    q += 1;
                }
                // events at t: pairs with the risk set, and ties among themselves
                evs.clear();
                evs.extend(grp.iter().copied().filter(|it| it.event));
                for it in &evs {
                    let below = tree.below(it.rank as usize);
                    let at = tree.node[it.rank as usize];
                    let above = total - below - at;
                    add(&mut inf[it.row as usize], [below, above, at]);
                    cc += it.w * below;
                    dd += it.w * above;
                    tx += it.w * at;
                }
                if evs.len() > 1 || (mult == Mult::Counts && evs.iter().any(|it| it.w > 1.0)) {
                    let sw: f64 = evs.iter().map(|it| it.w).sum();
                    // Σ w² over the tied events: with counts, each copy
                    // pairs with the others (copies weigh 1)
                    let sq = |w: f64| if mult == Mult::Counts { w } else { w * w };
                    let sw2: f64 = evs.iter().map(|it| sq(it.w)).sum();
                    let all = (sw * sw - sw2) / 2.0;
                    evs.sort_by_key(|it| it.rank);
                    let mut same = 0.0;
                    let mut a = 0;
                    while a < evs.len() {
                        let mut b = a;
                        let (mut s1, mut s2) = (0.0, 0.0);
                        while b < evs.len() && evs[b].rank == evs[a].rank {
                            s1 += evs[b].w;
                            s2 += sq(evs[b].w);
                            b += 1;
                        }
                        same += (s1 * s1 - s2) / 2.0;
                        a = b;
                    }
                    txy += same;
                    ty += all - same;
                }
                for it in &evs {
                    tree.add(it.rank as usize, it.w);
                    total += it.w;
                }
                k = e;
            }
            (cc, dd, tx, ty, txy)
        };
        // ascending sweep: cumulative event weight by rank; each row reads it
        // at its start (events ≤ start excluded) and at its stop (events at
        // stop included only for a censored row): queries by (time,
        // inclusive); events at τ are in the tree for (τ, inclusive) and
        // every later time. Adds (C, D, T) to each query's row.
        let up = |inf: &mut [[f64; 3]]| {
            let mut events = by_stop.iter().rev().filter(|it| it.event).peekable();
            let mut etree = Fenwick::new(m);
            let mut etotal = 0.0;
            let mut query = |qi: &Item| {
                while let Some(ev) = events.next_if(|ev| ev.t < qi.t || (qi.incl && ev.t == qi.t)) {
                    etree.add(ev.rank as usize, ev.w);
                    etotal += ev.w;
                }
                let r = qi.rank as usize;
                let below = etree.below(r);
                let at = etree.node[r];
                let above = etotal - below - at;
                // the row the longer member: events with a higher score are
                // concordant; a start's counts are subtracted
                let v = [above, below, at];
                add(
                    &mut inf[qi.row as usize],
                    if qi.at_start { v.map(|x| -x) } else { v },
                );
            };
            if by_start.is_empty() {
                // right-censored: the queries are the rows by stop
                // ascending, at each time the events (exclusive) before the
                // censored rows (inclusive), read in place
                let mut hi = by_stop.len();
                while hi > 0 {
                    let t = by_stop[hi - 1].t;
                    let mut lo = hi - 1;
                    while lo > 0 && by_stop[lo - 1].t == t {
                        lo -= 1;
                    }
                    let grp = &by_stop[lo..hi];
                    for incl in [false, true] {
                        for it in grp.iter().rev().filter(|it| it.event != incl) {
                            query(&Item { incl, ..*it });
                        }
                    }
                    hi = lo;
                }
            } else {
                let mut queries: Vec<Item> = Vec::with_capacity(by_stop.len() + by_start.len());
                for incl in [false, true] {
                    queries.extend(
                        by_stop
                            .iter()
                            .rev()
                            .filter(|it| it.event != incl)
                            .map(|it| Item { incl, ..*it }),
                    );
                    if incl {
                        queries.extend(by_start.iter().rev().map(|it| Item {
                            incl: true,
                            at_start: true,
                            ..*it
                        }));
                    }
                }
                crate::sort::radix_sort_by_key(&mut queries, |q| f64_key(q.t));
                queries.iter().for_each(&mut query);
            }
        };
        let ((c1, d1, t1, ty1, txy1), ()) = crate::par::join(
            idx.len() >= crate::par::MIN_PAR,
            || down(&mut inf),
            || up(&mut inf_up),
        );
        cc += c1;
        dd += d1;
        tx += t1;
        ty += ty1;
        txy += txy1;
        lo = hi;
    }
    for (a, b) in inf.iter_mut().zip(&inf_up) {
        add(a, *b);
    }
    drop(inf_up);
    let npair = cc + dd + tx;
    if npair <= 0.0 {
        return Err(SurvError::Degenerate {
            what: "concordance",
            message: "no comparable pairs".into(),
        });
    }
    let somer = (cc - dd) / npair;
    let dfb: Vec<f64> = (0..n)
        .map(|i| {
            let [c, d, t] = inf[i];
            w(i) * ((c - d) - (c + d + t) * somer) / (2.0 * npair)
        })
        .collect();
    let var = match cluster {
        // count copies of dfb/count each: count · (dfb/count)²
        None if mult == Mult::Counts => (0..n).map(|i| dfb[i] * dfb[i] / w(i)).sum::<f64>(),
        None => dfb.iter().map(|v| v * v).sum::<f64>(),
        Some(cl) => {
            let mut ids = cl.to_vec();
            ids.sort_unstable();
            ids.dedup();
            let mut sums = vec![0.0; ids.len()];
            for i in 0..n {
                sums[ids.binary_search(&cl[i]).unwrap_or(0)] += dfb[i];
            }
            sums.iter().map(|v| v * v).sum()
        }
    };
    Ok(Concordance {
        concordant: cc,
        discordant: dd,
        tied_x: tx,
        tied_y: ty,
        tied_xy: txy,
        c: (cc + tx / 2.0) / npair,
        se: var.sqrt(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// O(n²) definition on (start, stop] weighted rows.
    fn naive(
        start: &[f64],
        stop: &[f64],
        ev: &[bool],
        w: &[f64],
        x: &[f64],
        cl: &[usize],
    ) -> (f64, f64, f64, f64, f64) {
        let n = stop.len();
        let mut inf = vec![[0.0; 3]; n];
        let (mut c, mut d, mut t, mut ty) = (0.0, 0.0, 0.0, 0.0);
        for i in 0..n {
            if !ev[i] {
                continue;
            }
            for j in 0..n {
                if j == i {
                    continue;
                }
                let at_risk = start[j] < stop[i] && stop[i] <= stop[j];
                if !at_risk {
                    continue;
                }
                if ev[j] && stop[j] == stop[i] {
                    if j > i {
                        ty += w[i] * w[j];
                    }
                    continue;
                }
                let k = if x[i] > x[j] {
                    0
                } else if x[i] < x[j] {
                    1
                } else {
                    2
                };
                inf[i][k] += w[j];
                inf[j][k] += w[i];
                match k {
                    0 => c += w[i] * w[j],
                    1 => d += w[i] * w[j],
                    _ => t += w[i] * w[j],
                }
            }
        }
        let np = c + d + t;
        let s = (c - d) / np;
        let mut sums = vec![0.0; 1 + *cl.iter().max().unwrap()];
        for i in 0..n {
            let [a, b, e] = inf[i];
            sums[cl[i]] += w[i] * ((a - b) - (a + b + e) * s) / (2.0 * np);
        }
        (c, d, t, ty, sums.iter().map(|v| v * v).sum::<f64>().sqrt())
    }

    #[test]
    fn matches_the_pairwise_definition_on_random_counting_data() {
        let mut seed = 12345u64;
        let mut rnd = || {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (seed >> 33) as f64 / (1u64 << 31) as f64
        };
        for _ in 0..5 {
            let n = 60;
            let mut start = vec![];
            let mut stop = vec![];
            let mut ev = vec![];
            let mut w = vec![];
            let mut x = vec![];
            let mut cl = vec![];
            for i in 0..n {
                let a = (rnd() * 5.0).floor();
                start.push(a);
                stop.push(a + 1.0 + (rnd() * 6.0).floor());
                ev.push(rnd() < 0.5);
                w.push(0.2 + rnd() * 2.0);
                x.push((rnd() * 4.0).floor());
                cl.push(i / 3);
            }
            let got = concordance_general(Some(&start), &stop, &ev, Some(&w), &x, None, Some(&cl))
                .unwrap();
            let (c, d, t, ty, se) = naive(&start, &stop, &ev, &w, &x, &cl);
            for (a, b) in [
                (got.concordant, c),
                (got.discordant, d),
                (got.tied_x, t),
                (got.tied_y + got.tied_xy, ty),
                (got.se, se),
            ] {
                assert!((a - b).abs() <= 1e-9 * b.abs().max(1.0), "{a} vs {b}");
            }
        }
    }

    #[test]
    fn unweighted_right_censored_equals_the_fast_concordance() {
        let t = [1., 2., 2., 3., 4., 4., 5., 6., 7., 7.];
        let e = [
            true, true, false, true, true, true, false, true, false, true,
        ];
        let x = [0.5, 0.1, 0.3, 0.3, 0.9, 0.2, 0.2, 0.4, 0.8, 0.1];
        let a = crate::concordance::concordance(&t, &e, &x, None).unwrap();
        let b = concordance_general(None, &t, &e, None, &x, None, None).unwrap();
        for (u, v) in [
            (a.concordant, b.concordant),
            (a.discordant, b.discordant),
            (a.tied_x, b.tied_x),
            (a.tied_y, b.tied_y),
            (a.tied_xy, b.tied_xy),
            (a.se, b.se),
        ] {
            assert!((u - v).abs() < 1e-12, "{u} vs {v}");
        }
    }
}
