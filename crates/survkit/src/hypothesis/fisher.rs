//! Fisher's exact test for r×c contingency tables — R `fisher.test(table)`.
//!
//! Conditional on both margins the table has the multivariate hypergeometric
//! distribution (Fisher 1935; Freeman & Halton 1951)
//!
//! `P(x) = Π r_i! Π c_j! / (n! Π x_ij!)`.
//!
//! **Two-sided p-value** (both 2×2 and r×c): the total probability of all
//! tables with the observed margins whose probability is at most
//! `P(observed) · (1 + 1e-7)` (R's relative tolerance for "as or more
//! extreme").
//!
//! **2×2** (R's own code path, not FEXACT): with `m`, `n` the column sums,
//! `k` the first row sum and `x = x_11`, `x` has support `lo..=hi`
//! (`lo = max(0, k - n)`, `hi = min(k, m)`) and, under odds ratio ψ, the
//! noncentral hypergeometric law `P_ψ(x) ∝ C(m, x) C(n, k - x) ψ^x`.
//! The estimate is the *conditional* MLE (solves `E_ψ[X] = x`), and the
//! 95 % CI is the exact one of Cornfield (1956): `ψ_L` solves
//! `P_ψ(X ≥ x) = α/2`, `ψ_U` solves `P_ψ(X ≤ x) = α/2`. R finds these with
//! `uniroot` at its default tolerance (1.2e-4), mapping ψ > 1 to `1/t` on
//! `(eps, 1)`; we replay the same Brent iterations (`hypothesis::uniroot`) so the
//! reported values agree with R to ~1e-12, not just to uniroot's tolerance.
//!
//! **r×c** (R uses the FEXACT network algorithm of Mehta & Patel 1983; we
//! use the same network with a meet-in-the-middle finish). Rows are the
//! shorter dimension; columns are processed in decreasing size. A node is the
//! multiset of remaining row totals. In the forward pass over the first half
//! of the columns every node carries the distinct "past" log-weights
//! `-Σ ln x_ij!` of the partial tables reaching it, with their probability
//! mass; per-column relaxation bounds on the largest / smallest future
//! log-weight (balanced fill / greedy fill of the largest row totals) settle
//! past values whose completions are all (mass added to p) or never (dropped)
//! as extreme as the observed table. At the middle column the remaining
//! past values meet the exact, sorted distribution of future log-weights of
//! the node (memoised recursion over the remaining columns) and are resolved
//! by binary search. The work is bounded by [`FisherOptions::work_limit`];
//! exceeding it returns [`SurvError::TooLarge`] instead of hanging (2×k
//! tables with n in the thousands take milliseconds; 3×5 with n ≈ 400
//! exceeds the default budget).

use std::collections::{BTreeMap, HashMap};
use std::rc::Rc;

use serde::Serialize;

use super::{ln_factorials, table_margins, uniroot};
use crate::error::{Result, SurvError};

/// R's relative tolerance for "probability ≤ observed".
const REL_ERR: f64 = 1.0 + 1e-7;

/// Options for [`fisher_test_with`].
#[derive(Debug, Clone, PartialEq)]
pub struct FisherOptions {
    /// Confidence level of the odds-ratio interval (2×2 only). R: `conf.level = 0.95`.
    pub conf_level: f64,
    /// Maximum number of elementary steps of the r×c enumeration before
    /// giving up with [`SurvError::TooLarge`].
    pub work_limit: u64,
}

impl Default for FisherOptions {
    fn default() -> Self {
        FisherOptions {
            conf_level: 0.95,
            work_limit: 20_000_000,
        }
    }
}

/// Result of Fisher's exact test (R's `htest` fields).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FisherResult {
    /// Two-sided exact p-value.
    pub p_value: f64,
    /// Conditional MLE of the odds ratio (2×2 only; may be 0 or +∞).
    pub odds_ratio: Option<f64>,
    /// Exact confidence interval of the odds ratio (2×2 only; upper may be +∞).
    pub conf_int: Option<(f64, f64)>,
    /// Confidence level of `conf_int`.
    pub conf_level: f64,
    /// R's method string, "Fisher's Exact Test for Count Data".
    pub method: String,
}

/// Fisher's exact test with R's defaults (`fisher.test(table)`).
/// `table[i][j]` is the count in row i, column j.
pub fn fisher_test(table: &[Vec<u64>]) -> Result<FisherResult> {
    fisher_test_with(table, &FisherOptions::default())
}

/// Fisher's exact test with explicit options.
pub fn fisher_test_with(table: &[Vec<u64>], opts: &FisherOptions) -> Result<FisherResult> {
    if !(opts.conf_level > 0.0 && opts.conf_level < 1.0) {
        return Err(SurvError::InvalidOption {
            name: "conf_level",
            message: format!("must be in (0, 1), got {}", opts.conf_level),
        });
    }
    let (rs, cs, total) = table_margins(table)?;
    let method = "Fisher's Exact Test for Count Data".to_string();
    if rs.len() == 2 && cs.len() == 2 {
        let t = TwoByTwo::new(table, total);
        let alpha = (1.0 - opts.conf_level) / 2.0;
        return Ok(FisherResult {
            p_value: t.p_two_sided(),
            odds_ratio: Some(t.mle()),
            conf_int: Some((t.ncp_lower(alpha), t.ncp_upper(alpha))),
            conf_level: opts.conf_level,
            method,
        });
    }
    let p = rxc_p_value(table, &rs, &cs, total, opts.work_limit)?;
    Ok(FisherResult {
        p_value: p.clamp(0.0, 1.0),
        odds_ratio: None,
        conf_int: None,
        conf_level: opts.conf_level,
        method,
    })
}

/// The 2×2 computations of R's `fisher.test`, on the support `lo..=hi`.
struct TwoByTwo {
    x: i64,
    lo: i64,
    hi: i64,
    /// `dhyper(support, m, n, k, log = TRUE)` up to an additive constant.
    logdc: Vec<f64>,
}

impl TwoByTwo {
    fn new(table: &[Vec<u64>], total: u64) -> TwoByTwo {
        let m = (table[0][0] + table[1][0]) as i64;
        let n = (table[0][1] + table[1][1]) as i64;
        let k = (table[0][0] + table[0][1]) as i64;
        let x = table[0][0] as i64;
        let lo = 0.max(k - n);
        let hi = k.min(m);
        let lf = ln_factorials(total);
        let logdc = (lo..=hi)
            .map(|s| {
                -(lf[s as usize]
                    + lf[(m - s) as usize]
                    + lf[(k - s) as usize]
                    + lf[(n - k + s) as usize])
            })
            .collect();
        TwoByTwo { x, lo, hi, logdc }
    }

    /// `dnhyper(ncp)`: the noncentral hypergeometric probabilities.
    fn dnhyper(&self, ncp: f64) -> Vec<f64> {
        let lncp = ncp.ln();
        let d: Vec<f64> = self
            .logdc
            .iter()
            .zip(self.lo..)
            .map(|(&l, s)| l + lncp * s as f64)
            .collect();
        let max = d.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
        let e: Vec<f64> = d.iter().map(|&v| (v - max).exp()).collect();
        let sum: f64 = e.iter().sum();
        e.iter().map(|&v| v / sum).collect()
    }

    /// `mnhyper(ncp)`: the mean of the noncentral hypergeometric.
    fn mnhyper(&self, ncp: f64) -> f64 {
        if ncp == 0.0 {
            return self.lo as f64;
        }
        if ncp == f64::INFINITY {
            return self.hi as f64;
        }
        self.dnhyper(ncp)
            .iter()
            .zip(self.lo..)
            .map(|(&d, s)| s as f64 * d)
            .sum()
    }

    /// `pnhyper(q = x, ncp, upper.tail)`.
    fn pnhyper(&self, ncp: f64, upper: bool) -> f64 {
        let q = self.x;
        if ncp == 0.0 {
            return f64::from(u8::from(if upper { q <= self.lo } else { q >= self.lo }));
        }
        if ncp == f64::INFINITY {
            return f64::from(u8::from(if upper { q <= self.hi } else { q >= self.hi }));
        }
        // ncp == 1 is R's phyper(); the normalised central probabilities are the same law.
        self.dnhyper(ncp)
            .iter()
            .zip(self.lo..)
            .filter(|&(_, s)| if upper { s >= q } else { s <= q })
            .map(|(&d, _)| d)
            .sum()
    }

    fn p_two_sided(&self) -> f64 {
        let d = self.dnhyper(1.0);
        let dobs = d[(self.x - self.lo) as usize] * REL_ERR;
        d.iter().filter(|&&v| v <= dobs).sum::<f64>()
    }

    /// Conditional MLE of the odds ratio (R's `mle(x)`).
    fn mle(&self) -> f64 {
        let x = self.x as f64;
        if self.x == self.lo {
            return 0.0;
        }
        if self.x == self.hi {
            return f64::INFINITY;
        }
        let mu = self.mnhyper(1.0);
        if mu > x {
            uniroot(|t| self.mnhyper(t) - x, 0.0, 1.0).unwrap_or(f64::NAN)
        } else if mu < x {
            1.0 / uniroot(|t| self.mnhyper(1.0 / t) - x, f64::EPSILON, 1.0).unwrap_or(f64::NAN)
        } else {
            1.0
        }
    }

    /// Upper confidence limit (R's `ncp.U(x, alpha)`).
    fn ncp_upper(&self, alpha: f64) -> f64 {
        if self.x == self.hi {
            return f64::INFINITY;
        }
        let p = self.pnhyper(1.0, false);
        if p < alpha {
            uniroot(|t| self.pnhyper(t, false) - alpha, 0.0, 1.0).unwrap_or(f64::NAN)
        } else if p > alpha {
            1.0 / uniroot(|t| self.pnhyper(1.0 / t, false) - alpha, f64::EPSILON, 1.0)
                .unwrap_or(f64::NAN)
        } else {
            1.0
        }
    }

    /// Lower confidence limit (R's `ncp.L(x, alpha)`).
    fn ncp_lower(&self, alpha: f64) -> f64 {
        if self.x == self.lo {
            return 0.0;
        }
        let p = self.pnhyper(1.0, true);
        if p > alpha {
            uniroot(|t| self.pnhyper(t, true) - alpha, 0.0, 1.0).unwrap_or(f64::NAN)
        } else if p < alpha {
            1.0 / uniroot(|t| self.pnhyper(1.0 / t, true) - alpha, f64::EPSILON, 1.0)
                .unwrap_or(f64::NAN)
        } else {
            1.0
        }
    }
}

/// Past log-weights at a node, bucketed so that values equal to ~1e-9 merge:
/// bucket → (representative log-weight, probability mass).
type PastList = HashMap<i64, (f64, f64)>;

/// Sorted future-value distributions, memoised by (column, node).
type FutureMemo = HashMap<(usize, Vec<u64>), Rc<Vec<(f64, f64)>>>;

fn bucket(l: f64) -> i64 {
    (l * 1e9).round() as i64
}

/// Shared state of the r×c enumeration.
struct Network<'a> {
    /// Column totals (descending).
    cols: &'a [u64],
    /// `ln k!`.
    lf: &'a [f64],
    /// Suffix sums of column totals and of their `ln c!`.
    cols_suffix: Vec<u64>,
    lf_cols_suffix: Vec<f64>,
    /// Memo of future-value distributions by (column, node).
    memo: FutureMemo,
    work: u64,
    limit: u64,
}

impl Network<'_> {
    /// `ln Σ_completions Π 1/x! = ln(N'! / (Π r'! Π c'!))` for a node at column `k`.
    fn future_total(&self, rows: &[u64], k: usize) -> f64 {
        self.lf[self.cols_suffix[k] as usize]
            - rows.iter().map(|&r| self.lf[r as usize]).sum::<f64>()
            - self.lf_cols_suffix[k]
    }

    fn charge(&mut self, steps: u64) -> Result<()> {
        self.work = self.work.saturating_add(steps);
        if self.work > self.limit {
            return Err(too_large(self.limit));
        }
        Ok(())
    }

    /// All `(x, child, log-weight increment, conditional probability)` for
    /// column `k` at `node`.
    fn children(&mut self, k: usize, node: &[u64]) -> Result<Vec<(Vec<u64>, f64, f64)>> {
        let mut out = Vec::new();
        let mut x = vec![0u64; node.len()];
        let f_node = self.future_total(node, k);
        let (lf, limit) = (self.lf, self.limit);
        let mut count = self.work;
        let mut overflowed = false;
        enumerate_column(node, self.cols[k], 0, &mut x, &mut |x: &[u64]| {
            count += 1;
            if count > limit {
                overflowed = true;
                return false;
            }
            let mut child: Vec<u64> = node.iter().zip(x).map(|(&r, &v)| r - v).collect();
            child.sort_unstable_by(|a, b| b.cmp(a));
            let inc: f64 = -x.iter().map(|&v| lf[v as usize]).sum::<f64>();
            out.push((child, inc, 0.0));
            true
        });
        self.work = count;
        if overflowed {
            return Err(too_large(limit));
        }
        for c in &mut out {
            c.2 = (c.1 + self.future_total(&c.0, k + 1) - f_node).exp();
        }
        Ok(out)
    }

    /// Distribution of the future log-weight `-Σ ln x_ij!` over the
    /// completions of `node` at column `k`: sorted `(value, conditional
    /// probability)` pairs, values equal to ~1e-9 merged.
    fn future(&mut self, k: usize, node: &[u64]) -> Result<Rc<Vec<(f64, f64)>>> {
        if k + 1 == self.cols.len() {
            let v = -node.iter().map(|&r| self.lf[r as usize]).sum::<f64>();
            return Ok(Rc::new(vec![(v, 1.0)]));
        }
        let key = (k, node.to_vec());
        if let Some(list) = self.memo.get(&key) {
            return Ok(Rc::clone(list));
        }
        let mut all: Vec<(f64, f64)> = Vec::new();
        for (child, inc, q) in self.children(k, node)? {
            let sub = self.future(k + 1, &child)?;
            self.charge(sub.len() as u64)?;
            all.extend(sub.iter().map(|&(v, m)| (v + inc, m * q)));
        }
        all.sort_unstable_by(|a, b| a.0.total_cmp(&b.0));
        let mut merged: Vec<(f64, f64)> = Vec::with_capacity(all.len());
        for (v, m) in all {
            match merged.last_mut() {
                Some(last) if v - last.0 <= 1e-9 => last.1 += m,
                _ => merged.push((v, m)),
            }
        }
        let list = Rc::new(merged);
        self.memo.insert(key, Rc::clone(&list));
        Ok(list)
    }
}

/// Exact two-sided p-value of an r×c table (see the module docs).
fn rxc_p_value(
    table: &[Vec<u64>],
    rs: &[u64],
    cs: &[u64],
    total: u64,
    work_limit: u64,
) -> Result<f64> {
    // Drop empty rows/columns; orient so that rows are the shorter dimension.
    let rows_kept: Vec<usize> = (0..rs.len()).filter(|&i| rs[i] > 0).collect();
    let cols_kept: Vec<usize> = (0..cs.len()).filter(|&j| cs[j] > 0).collect();
    if rows_kept.len() < 2 || cols_kept.len() < 2 {
        return Ok(1.0);
    }
    let mut cells: Vec<Vec<u64>> = rows_kept
        .iter()
        .map(|&i| cols_kept.iter().map(|&j| table[i][j]).collect())
        .collect();
    if cells.len() > cells[0].len() {
        cells = (0..cells[0].len())
            .map(|j| cells.iter().map(|row| row[j]).collect())
            .collect();
    }
    let mut rows: Vec<u64> = cells.iter().map(|r| r.iter().sum()).collect();
    let mut cols: Vec<u64> = (0..cells[0].len())
        .map(|j| cells.iter().map(|r| r[j]).sum())
        .collect();
    rows.sort_unstable_by(|a, b| b.cmp(a));
    cols.sort_unstable_by(|a, b| b.cmp(a));

    let lf = ln_factorials(total);
    let l_obs: f64 = -cells.iter().flatten().map(|&v| lf[v as usize]).sum::<f64>();
    let threshold = l_obs + REL_ERR.ln();
    let nc = cols.len();
    let mut lf_cols_suffix = vec![0.0; nc + 1];
    let mut cols_suffix = vec![0u64; nc + 1];
    for j in (0..nc).rev() {
        lf_cols_suffix[j] = lf_cols_suffix[j + 1] + lf[cols[j] as usize];
        cols_suffix[j] = cols_suffix[j + 1] + cols[j];
    }
    let mut net = Network {
        cols: &cols,
        lf: &lf,
        cols_suffix,
        lf_cols_suffix,
        memo: HashMap::new(),
        work: 0,
        limit: work_limit,
    };

    // Forward pass over the first `mid` columns (past values), then meet the
    // exact future distributions of the remaining columns in the middle.
    let mid = nc / 2;
    let mut p = 0.0;
    // BTreeMap and sorted past lists keep the summation order deterministic.
    let mut level: BTreeMap<Vec<u64>, PastList> = BTreeMap::new();
    level.insert(rows.clone(), HashMap::from([(bucket(0.0), (0.0, 1.0))]));
    for k in 0..=mid {
        let mut next: BTreeMap<Vec<u64>, PastList> = BTreeMap::new();
        for (node, past) in level {
            let mut past: Vec<(i64, (f64, f64))> = past.into_iter().collect();
            past.sort_unstable_by_key(|e| e.0);
            let (max_f, min_f) = future_bounds(&node, &cols[k..], &lf);
            let mut pending: Vec<(f64, f64)> = Vec::new();
            for &(_, (l, mass)) in &past {
                if l + max_f <= threshold {
                    p += mass; // every completion is at least as extreme
                } else if l + min_f <= threshold {
                    pending.push((l, mass));
                } // else: no completion is as extreme as the observed table
            }
            if pending.is_empty() {
                continue;
            }
            if k == mid {
                let fut = net.future(k, &node)?;
                net.charge((pending.len() + fut.len()) as u64)?;
                let mut cum = Vec::with_capacity(fut.len());
                let mut acc = 0.0;
                for &(_, m) in fut.iter() {
                    acc += m;
                    cum.push(acc);
                }
                for (l, mass) in pending {
                    // number of future values v with l + v <= threshold
                    let cnt = fut.partition_point(|&(v, _)| l + v <= threshold);
                    if cnt > 0 {
                        p += mass * cum[cnt - 1];
                    }
                }
                continue;
            }
            for (child, inc, q) in net.children(k, &node)? {
                net.charge(pending.len() as u64)?;
                let entry = next.entry(child).or_default();
                for &(l, mass) in &pending {
                    let nl = l + inc;
                    let e = entry.entry(bucket(nl)).or_insert((nl, 0.0));
                    e.1 += mass * q;
                }
            }
        }
        level = next;
    }
    Ok(p)
}

fn too_large(limit: u64) -> SurvError {
    SurvError::TooLarge {
        what: "fisher_test (r x c exact p-value)",
        limit,
    }
}

/// Enumerate all `x` with `0 <= x_i <= caps_i` and `Σ x_i = total`; the callback
/// returns `false` to stop. Returns `false` if stopped.
fn enumerate_column(
    caps: &[u64],
    total: u64,
    i: usize,
    x: &mut [u64],
    f: &mut dyn FnMut(&[u64]) -> bool,
) -> bool {
    if i + 1 == caps.len() {
        if total > caps[i] {
            return true;
        }
        x[i] = total;
        return f(x);
    }
    let rest: u64 = caps[i + 1..].iter().sum();
    let lo = total.saturating_sub(rest);
    let hi = total.min(caps[i]);
    for v in lo..=hi {
        x[i] = v;
        if !enumerate_column(caps, total - v, i + 1, x, f) {
            return false;
        }
    }
    true
}

/// Bounds `(max, min)` on the future log-weight `-Σ ln x_ij!` of the columns
/// `cols` given remaining row totals `caps`, each column relaxed separately
/// (only the caps couple the columns). Max: the most balanced allocation;
/// min: fill the largest caps first (it majorises every feasible column).
fn future_bounds(caps: &[u64], cols: &[u64], lf: &[f64]) -> (f64, f64) {
    let mut asc: Vec<u64> = caps.to_vec();
    asc.sort_unstable();
    let r = asc.len();
    let mut max_f = 0.0;
    let mut min_f = 0.0;
    for &c in cols {
        // balanced fill
        let mut rem = c;
        for (idx, &cap) in asc.iter().enumerate() {
            let left = (r - idx) as u64;
            let share = rem / left;
            if cap <= share {
                max_f -= lf[cap as usize];
                rem -= cap;
            } else {
                let extra = rem % left;
                max_f -= (left - extra) as f64 * lf[share as usize]
                    + extra as f64 * lf[(share + 1) as usize];
                break;
            }
        }
        // greedy fill of the largest caps
        let mut rem = c;
        for &cap in asc.iter().rev() {
            if rem == 0 {
                break;
            }
            let v = cap.min(rem);
            min_f -= lf[v as usize];
            rem -= v;
        }
    }
    (max_f, min_f)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ln_choose(n: u64, k: u64) -> f64 {
        let lf = ln_factorials(n);
        lf[n as usize] - lf[k as usize] - lf[(n - k) as usize]
    }

    /// Brute-force enumeration of all tables with given margins (tiny tables).
    fn brute_force_p(table: &[Vec<u64>]) -> f64 {
        let (rs, cs, n) = table_margins(table).unwrap();
        let lf = ln_factorials(n);
        let logp = |t: &[Vec<u64>]| -> f64 {
            rs.iter().map(|&r| lf[r as usize]).sum::<f64>()
                + cs.iter().map(|&c| lf[c as usize]).sum::<f64>()
                - lf[n as usize]
                - t.iter().flatten().map(|&v| lf[v as usize]).sum::<f64>()
        };
        let pobs = logp(table).exp();
        let nr = rs.len();
        let nc = cs.len();
        let mut total = 0.0;
        let mut cur = vec![vec![0u64; nc]; nr];
        fn rec(
            cell: usize,
            nr: usize,
            nc: usize,
            rs: &[u64],
            cs: &[u64],
            cur: &mut Vec<Vec<u64>>,
            out: &mut dyn FnMut(&[Vec<u64>]),
        ) {
            if cell == nr * nc {
                out(cur);
                return;
            }
            let (i, j) = (cell / nc, cell % nc);
            let row_used: u64 = cur[i][..j].iter().sum();
            let col_used: u64 = (0..i).map(|a| cur[a][j]).sum();
            let hi = (rs[i] - row_used).min(cs[j] - col_used);
            let lo = if j + 1 == nc {
                rs[i] - row_used
            } else if i + 1 == nr {
                cs[j] - col_used
            } else {
                0
            };
            if lo > hi {
                return;
            }
            for v in lo..=hi {
                cur[i][j] = v;
                rec(cell + 1, nr, nc, rs, cs, cur, out);
            }
            cur[i][j] = 0;
        }
        rec(0, nr, nc, &rs, &cs, &mut cur, &mut |t| {
            let p = logp(t).exp();
            if p <= pobs * REL_ERR {
                total += p;
            }
        });
        total
    }

    #[test]
    fn tea_tasting_2x2_by_hand() {
        // Fisher's lady tasting tea: [[3,1],[1,3]]; P(X=3)=16/70, P(X=4)=1/70
        // two-sided p = (1 + 16 + 16 + 1)/70
        let r = fisher_test(&[vec![3, 1], vec![1, 3]]).unwrap();
        assert!((r.p_value - 34.0 / 70.0).abs() < 1e-14);
        // symmetric table around the mean: conditional MLE > 1, CI brackets it
        let or = r.odds_ratio.unwrap();
        let (lo, hi) = r.conf_int.unwrap();
        assert!(or > 1.0 && lo < or && or < hi);
        // the conditional MLE solves E_psi[X] = 3 (to uniroot's tolerance)
        let t = TwoByTwo::new(&[vec![3, 1], vec![1, 3]], 8);
        assert!((t.mnhyper(or) - 3.0).abs() < 1e-3);
        // p-value of x = 3 hypergeometric: C(4,3)C(4,1)/C(8,4) = 16/70
        assert!(
            (t.dnhyper(1.0)[3] - (ln_choose(4, 3) + ln_choose(4, 1) - ln_choose(8, 4)).exp()).abs()
                < 1e-14
        );
    }

    #[test]
    fn boundary_2x2_gives_zero_or_infinite_odds_ratio() {
        let r = fisher_test(&[vec![0, 5], vec![4, 1]]).unwrap();
        assert_eq!(r.odds_ratio, Some(0.0));
        assert_eq!(r.conf_int.unwrap().0, 0.0);
        let r = fisher_test(&[vec![5, 0], vec![1, 4]]).unwrap();
        assert_eq!(r.odds_ratio, Some(f64::INFINITY));
        assert_eq!(r.conf_int.unwrap().1, f64::INFINITY);
        assert!(r.p_value > 0.0 && r.p_value <= 1.0);
    }

    #[test]
    fn rxc_matches_brute_force_and_is_transpose_invariant() {
        let tables = vec![
            vec![vec![3, 1, 4], vec![1, 5, 9], vec![2, 6, 5]],
            vec![vec![0, 3, 2, 1], vec![4, 0, 1, 2]],
            vec![vec![2, 2, 2], vec![2, 2, 2]],
            vec![vec![7, 0, 1], vec![0, 6, 1], vec![1, 1, 5]],
            vec![vec![1, 2], vec![3, 0], vec![0, 4]],
        ];
        for t in tables {
            let exact = brute_force_p(&t);
            let r = fisher_test(&t).unwrap();
            assert!(
                (r.p_value - exact).abs() < 1e-12,
                "{t:?}: {} vs {exact}",
                r.p_value
            );
            assert!((0.0..=1.0).contains(&r.p_value));
            let tt: Vec<Vec<u64>> = (0..t[0].len())
                .map(|j| t.iter().map(|row| row[j]).collect())
                .collect();
            let rt = fisher_test(&tt).unwrap();
            assert!((rt.p_value - r.p_value).abs() < 1e-12);
        }
        // the most probable table under independence has p = 1
        let r = fisher_test(&[vec![2, 2, 2], vec![2, 2, 2]]).unwrap();
        assert!((r.p_value - 1.0).abs() < 1e-12);
    }

    #[test]
    fn rxc_work_limit_is_a_typed_error() {
        let t = vec![
            vec![20, 12, 8, 15, 10, 9],
            vec![12, 20, 11, 9, 14, 10],
            vec![8, 10, 22, 12, 9, 11],
            vec![15, 9, 12, 20, 8, 13],
        ];
        let opts = FisherOptions {
            work_limit: 1000,
            ..Default::default()
        };
        match fisher_test_with(&t, &opts) {
            Err(SurvError::TooLarge { limit, .. }) => assert_eq!(limit, 1000),
            other => panic!("expected TooLarge, got {other:?}"),
        }
    }

    #[test]
    fn invalid_options_and_tables() {
        let opts = FisherOptions {
            conf_level: 1.5,
            ..Default::default()
        };
        assert!(fisher_test_with(&[vec![1, 2], vec![3, 4]], &opts).is_err());
        assert!(fisher_test(&[vec![1, 2, 3]]).is_err());
    }
}
