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
