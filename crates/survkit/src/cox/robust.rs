//! Score residuals and the robust (sandwich) variance of a Cox model
//! (Lin & Wei 1989; Therneau & Grambsch 2000 §7.2), R
//! `coxph(..., robust = TRUE)` / `coxph(... + cluster(id))`.
//!
//! Score residual of subject i (Breslow, or a single death):
//! `Lᵢ = δᵢ (xᵢ − x̄(tᵢ)) − Σ_{t_m ≤ tᵢ} rᵢ (xᵢ − x̄(t_m)) dΛ(t_m)`,
//! `dΛ = d_m / S0(t_m)`. With Efron ties and d tied deaths at t the d
//! "sub-steps" k = 0..d−1 each use the down-weighted risk set
//! `S0ₖ = S0 − (k/d) S0ᴰ`, mean `x̄ₖ = (S1 − (k/d) S1ᴰ)/S0ₖ`, hazard `1/S0ₖ`;
//! a subject who dies at t gets `Σₖ (xᵢ − x̄ₖ)/d − rᵢ (1 − k/d)(xᵢ − x̄ₖ)/S0ₖ`
//! (it is only partly at risk in the later sub-steps), every other subject at
//! risk `−Σₖ rᵢ (xᵢ − x̄ₖ)/S0ₖ` — exactly R's `coxscore2.c`. Here the sums
//! over event times are accumulated once per time (O(n p) overall).
//!
//! dfbeta = L · V (V = model-based variance), robust variance `Dᵀ D` where D
//! has one row per subject, or per cluster after summing the rows of each
//! cluster (`cluster(id)`). The robust score test is `Uᵀ (LᵀL)⁻¹ U` with L the
//! (cluster-summed) score residuals at β = 0 and U their column sums (R
//! `fit$rscore`). R refuses score residuals for `ties = "exact"`; so do we.

use super::likelihood::CoxData;
use super::Ties;

/// Score residuals (n×p, row-major, in the sorted order of `data`).
pub(crate) fn score_residuals(data: &CoxData, beta: &[f64], ties: Ties) -> Vec<f64> {
    if data.is_general() {
        return score_residuals_general(data, beta, ties);
    }
    let p = data.p;
    let n = data.n();
    let eta = data.eta(beta);
    let risk: Vec<f64> = eta.iter().map(|e| e.exp()).collect();
    let row = |i: usize| &data.x[i * p..(i + 1) * p];
    let mut resid = vec![0.0; n * p];

    // Per time group (rows lo..hi, same stratum and time; rows are in
    // descending time within stratum): quantities of the event time.
    struct Group {
        lo: usize,
        hi: usize,
        ndead: usize,
        /// Σₖ hₖ and Σₖ hₖ x̄ₖ (subjects at risk, not dying here)
        h: f64,
        m: Vec<f64>,
        /// Σₖ x̄ₖ / d, Σₖ hₖ(1 − k/d), Σₖ hₖ(1 − k/d) x̄ₖ (the deaths)
        a: Vec<f64>,
        b: f64,
        c: Vec<f64>,
    }
    let mut groups: Vec<Group> = vec![];
    let mut s0 = 0.0;
    let mut s1 = vec![0.0; p];
    let mut i = 0;
    while i < n {
        if i == 0 || data.stratum(i) != data.stratum(i - 1) {
            s0 = 0.0;
            s1.iter_mut().for_each(|v| *v = 0.0);
        }
        let (t, st) = (data.time[i], data.stratum(i));
        let lo = i;
        let mut d0 = 0.0;
        let mut d1 = vec![0.0; p];
        let mut ndead = 0usize;
        while i < n && data.time[i] == t && data.stratum(i) == st {
            let r = risk[i];
            let x = row(i);
            s0 += r;
            for k in 0..p {
                s1[k] += r * x[k];
            }
            if data.event[i] {
                ndead += 1;
                d0 += r;
                for k in 0..p {
                    d1[k] += r * x[k];
                }
            }
            i += 1;
        }
        let mut g = Group {
            lo,
            hi: i,
            ndead,
            h: 0.0,
            m: vec![0.0; p],
            a: vec![0.0; p],
            b: 0.0,
            c: vec![0.0; p],
        };
        if ndead > 0 {
            let dd = ndead as f64;
            if ndead == 1 || ties != Ties::Efron {
                let h = dd / s0;
                g.h = h;
                g.b = h;
                for k in 0..p {
                    let mean = s1[k] / s0;
                    g.m[k] = h * mean;
                    g.a[k] = mean;
                    g.c[k] = h * mean;
                }
            } else {
                for step in 0..ndead {
                    let frac = step as f64 / dd;
                    let den = s0 - frac * d0;
                    let h = 1.0 / den;
                    g.h += h;
                    g.b += h * (1.0 - frac);
                    for k in 0..p {
                        let mean = (s1[k] - frac * d1[k]) / den;
                        g.m[k] += h * mean;
                        g.a[k] += mean / dd;
                        g.c[k] += h * (1.0 - frac) * mean;
                    }
                }
            }
        }
        groups.push(g);
    }
    // ascending time within each stratum: walk the groups backwards
    let mut ch = 0.0;
    let mut cm = vec![0.0; p];
    for gi in (0..groups.len()).rev() {
        let g = &groups[gi];
        let new_stratum =
            gi + 1 == groups.len() || data.stratum(groups[gi + 1].lo) != data.stratum(g.lo);
        if new_stratum {
            ch = 0.0;
            cm.iter_mut().for_each(|v| *v = 0.0);
        }
        // cumulative sums before this time (for the deaths) and including it
        let (ch_before, cm_before) = (ch, cm.clone());
        if g.ndead > 0 {
            ch += g.h;
            for k in 0..p {
                cm[k] += g.m[k];
            }
        }
        for r in g.lo..g.hi {
            let x = row(r);
            let rk = risk[r];
            let out = &mut resid[r * p..(r + 1) * p];
            if data.event[r] {
                for k in 0..p {
                    out[k] = -rk * (x[k] * ch_before - cm_before[k]) + x[k]
                        - g.a[k]
                        - rk * (x[k] * g.b - g.c[k]);
                }
            } else {
                for k in 0..p {
                    out[k] = -rk * (x[k] * ch - cm[k]);
                }
            }
        }
    }
    resid
}

/// Score residuals of weighted and/or (start, stop] data (R `coxscore2` with
/// weights, `agscore3`). The event-time quantities are those of the
/// unweighted case with the hazard `W/S0` (Breslow) or `(W/d)/S0ₖ` (Efron
/// sub-steps), `W` the death weight and `S0` the weighted risk-set sum; a
/// row's residual sums them over the event times in its (start, stop]
/// interval, via cumulative sums per stratum and a binary search at start.
/// The residuals are per row and unweighted: callers multiply by the weight.
fn score_residuals_general(data: &CoxData, beta: &[f64], ties: Ties) -> Vec<f64> {
    let p = data.p;
    let n = data.n();
    let counting = !data.start.is_empty();
    let eta = data.eta(beta);
    let risk: Vec<f64> = eta.iter().map(|e| e.exp()).collect();
    let row = |i: usize| &data.x[i * p..(i + 1) * p];
    // per time group (descending): lo..hi rows, and for event groups
    // (h, m[p]) for all at risk, (a[p], b, c[p]) for the deaths
    struct Group {
        lo: usize,
        hi: usize,
        t: f64,
        ndead: usize,
        h: f64,
        m: Vec<f64>,
        a: Vec<f64>,
        b: f64,
        c: Vec<f64>,
    }
    let mut groups: Vec<Group> = vec![];
    let mut s0 = 0.0;
    let mut s1 = vec![0.0; p];
    let mut in_risk = 0usize;
    let mut q = 0usize;
    let mut i = 0;
    while i < n {
        if i == 0 || data.stratum(i) != data.stratum(i - 1) {
            s0 = 0.0;
            s1.iter_mut().for_each(|v| *v = 0.0);
            in_risk = 0;
            while counting && q < n && data.stratum(data.start_order[q]) < data.stratum(i) {
                q += 1;
            }
        }
        let (t, st) = (data.time[i], data.stratum(i));
        let lo = i;
        let (mut d0, mut wdead) = (0.0, 0.0);
        let mut d1 = vec![0.0; p];
        let mut ndead = 0usize;
        while i < n && data.time[i] == t && data.stratum(i) == st {
            let wr = data.w(i) * risk[i];
            let x = row(i);
            s0 += wr;
            in_risk += 1;
            for k in 0..p {
                s1[k] += wr * x[k];
            }
            if data.event[i] {
                // a collapsed cell's deaths count one by one (Efron steps)
                ndead += data.count.get(i).map_or(1, |&c| c as usize);
                wdead += data.w(i);
                d0 += wr;
                for k in 0..p {
                    d1[k] += wr * x[k];
                }
            }
            i += 1;
        }
        while counting
            && q < n
            && data.stratum(data.start_order[q]) == st
            && data.start[data.start_order[q]] >= t
        {
            let r = data.start_order[q];
            let wr = data.w(r) * risk[r];
            s0 -= wr;
            in_risk -= 1;
            let x = row(r);
            for k in 0..p {
                s1[k] -= wr * x[k];
            }
            q += 1;
        }
        if in_risk == 0 {
            s0 = 0.0;
            s1.iter_mut().for_each(|v| *v = 0.0);
        }
        let mut g = Group {
            lo,
            hi: i,
            t,
            ndead,
            h: 0.0,
            m: vec![0.0; p],
            a: vec![0.0; p],
            b: 0.0,
            c: vec![0.0; p],
        };
        if ndead > 0 {
            let dd = ndead as f64;
            if ndead == 1 || ties != Ties::Efron {
                let h = wdead / s0;
                g.h = h;
                g.b = h;
                for k in 0..p {
                    let mean = s1[k] / s0;
                    g.m[k] = h * mean;
                    g.a[k] = mean;
                    g.c[k] = h * mean;
                }
            } else {
                let mw = wdead / dd;
                for step in 0..ndead {
                    let frac = step as f64 / dd;
                    let den = s0 - frac * d0;
                    let h = mw / den;
                    g.h += h;
                    g.b += h * (1.0 - frac);
                    for k in 0..p {
                        let mean = (s1[k] - frac * d1[k]) / den;
                        g.m[k] += h * mean;
                        g.a[k] += mean / dd;
                        g.c[k] += h * (1.0 - frac) * mean;
                    }
                }
            }
        }
        groups.push(g);
    }
    // per stratum, event times ascending with cumulative (h, m) including each
    let mut resid = vec![0.0; n * p];
    let mut gi_end = groups.len();
    while gi_end > 0 {
        let st = data.stratum(groups[gi_end - 1].lo);
        let mut gi_start = gi_end - 1;
        while gi_start > 0 && data.stratum(groups[gi_start - 1].lo) == st {
            gi_start -= 1;
        }
        // ascending event times of this stratum
        let mut et: Vec<f64> = vec![];
        let mut ch: Vec<f64> = vec![];
        let mut cm: Vec<f64> = vec![]; // flattened
        let (mut acc_h, mut acc_m) = (0.0, vec![0.0; p]);
        for g in groups[gi_start..gi_end].iter().rev() {
            if g.ndead > 0 {
                acc_h += g.h;
                for k in 0..p {
                    acc_m[k] += g.m[k];
                }
                et.push(g.t);
                ch.push(acc_h);
                cm.extend_from_slice(&acc_m);
            }
        }
        // cumulative sums over event times <= t (strictly < t when `strict`)
        let cum = |t: f64, strict: bool| -> (f64, &[f64]) {
            let k = if strict {
                et.partition_point(|&x| x < t)
            } else {
                et.partition_point(|&x| x <= t)
            };
            if k == 0 {
                (0.0, &[][..])
            } else {
                (ch[k - 1], &cm[(k - 1) * p..k * p])
            }
        };
        let zero = vec![0.0; p];
        for g in &groups[gi_start..gi_end] {
            for r in g.lo..g.hi {
                let x = row(r);
                let rk = risk[r];
                let (hs, ms) = if counting {
                    cum(data.start[r], false)
                } else {
                    (0.0, &[][..])
                };
                let ms = if ms.is_empty() { &zero[..] } else { ms };
                let out = &mut resid[r * p..(r + 1) * p];
                if data.event[r] {
                    let (hb, mb) = cum(g.t, true);
                    let mb = if mb.is_empty() { &zero[..] } else { mb };
                    for k in 0..p {
                        out[k] = -rk * (x[k] * (hb - hs) - (mb[k] - ms[k])) + x[k]
                            - g.a[k]
                            - rk * (x[k] * g.b - g.c[k]);
                    }
                } else {
                    let (he, me) = cum(g.t, false);
                    let me = if me.is_empty() { &zero[..] } else { me };
                    for k in 0..p {
                        out[k] = -rk * (x[k] * (he - hs) - (me[k] - ms[k]));
                    }
                }
            }
        }
        gi_end = gi_start;
    }
    resid
}

/// Multiply each residual row (sorted order) by its case weight (dfbeta of a
/// weighted fit, R `resid(fit, "dfbeta", weighted = TRUE)`).
pub(crate) fn weight_rows(resid: &mut [f64], data: &CoxData) {
    if data.weight.is_empty() {
        return;
    }
    let p = data.p;
    for (i, r) in resid.chunks_exact_mut(p).enumerate() {
        let w = data.weight[i];
        r.iter_mut().for_each(|v| *v *= w);
    }
}

/// Multiply each residual row (sorted order) by the square root of its
/// collapsed cell's Σw² (so that `crossprod` gives Σ_rows (w · residual)²).
pub(crate) fn scale_rows(resid: &mut [f64], p: usize, w2: &[f64]) {
    for (r, &s) in resid.chunks_exact_mut(p).zip(w2) {
        let f = s.sqrt();
        r.iter_mut().for_each(|v| *v *= f);
    }
}

/// Column sums of a row-major m×p matrix, each row times `w` when given.
pub(crate) fn column_sums(a: &[f64], p: usize, w: Option<&[f64]>) -> Vec<f64> {
    (0..p)
        .map(|j| {
            a.chunks_exact(p)
                .enumerate()
                .map(|(i, r)| w.map_or(r[j], |w| w[i] * r[j]))
                .sum()
        })
        .collect()
}

/// Sum residual rows (sorted order) within clusters. `cluster_of_row[i]` is
/// the cluster id of sorted row i (ids 0..k).
pub(crate) fn collapse(resid: &[f64], p: usize, cluster_of_row: &[usize], k: usize) -> Vec<f64> {
    let mut out = vec![0.0; k * p];
    for (i, &c) in cluster_of_row.iter().enumerate() {
        for j in 0..p {
            out[c * p + j] += resid[i * p + j];
        }
    }
    out
}

/// `Aᵀ A` of a row-major m×p matrix.
pub(crate) fn crossprod(a: &[f64], p: usize) -> Vec<Vec<f64>> {
    let mut out = vec![vec![0.0; p]; p];
    for rowv in a.chunks_exact(p) {
        for j in 0..p {
            for l in 0..=j {
                out[j][l] += rowv[j] * rowv[l];
            }
        }
    }
    for j in 0..p {
        for l in 0..j {
            out[l][j] = out[j][l];
        }
    }
    out
}

/// Multiply each row of a row-major m×p matrix by the p×p matrix `v`.
pub(crate) fn times_matrix(a: &[f64], p: usize, v: &[Vec<f64>]) -> Vec<f64> {
    let mut out = vec![0.0; a.len()];
    for (src, dst) in a.chunks_exact(p).zip(out.chunks_exact_mut(p)) {
        for l in 0..p {
            dst[l] = (0..p).map(|j| src[j] * v[j][l]).sum();
        }
    }
    out
}
