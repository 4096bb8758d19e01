//! Identical rows collapsed into cells, for the Cox likelihood and `cox.zph`
//! of large right-censored data with few covariate patterns (a factor, a few
//! yes/no columns, an integer age): rows with the same stratum, time, status
//! and covariate values enter every risk-set sum the same way, so one row per
//! cell with its row count as a case weight, and the count of its deaths in
//! the Efron tie size, gives the same partial likelihood, score, information
//! and Schoenfeld sums as the rows (up to floating-point summation order):
//! the work per Newton step is O(cells) instead of O(rows).
//!
//! With case weights this is not R's weighted Efron (there a tied death set
//! of d rows has d steps whatever their weights); the count is kept apart
//! from the weight for that reason (`CoxData::count`).

/// Rows below this are fitted row by row (cheap anyway; small data keep the
/// exact arithmetic of the row kernel).
pub(crate) const MIN_ROWS: usize = 20_000;

/// The most cells a Cox fit or `cox.zph` of `n` rows collapses into: up to
/// half the rows, a Newton step on the cells costs at most half of one on
/// the rows, which pays for hashing the rows once (a 10^6-row model with an
/// integer age and a few factors has 2.5-5 x 10^5 cells).
pub(crate) fn max_cells(n: usize) -> usize {
    n / 2
}

/// Distinct values allowed per covariate column.
const MAX_LEVELS: usize = 1024;

/// The cells of a data set.
pub(crate) struct Cells {
    /// First row (input order) of each cell, cells in order of first row.
    pub rep: Vec<usize>,
    /// Rows in each cell.
    pub count: Vec<u32>,
    /// Cell of each row.
    pub row_cell: Vec<u32>,
}

impl Cells {
    /// Row `i` is in cell `c` (a new cell when `c` is the next number).
    #[inline]
    fn number(&mut self, i: usize, c: u32) {
        if c as usize == self.rep.len() {
            self.rep.push(i);
            self.count.push(0);
        }
        self.count[c as usize] += 1;
        self.row_cell[i] = c;
    }
    /// Number of cells.
    pub fn len(&self) -> usize {
        self.rep.len()
    }

    /// `v` at each cell's first row.
    pub fn pick<T: Copy>(&self, v: &[T]) -> Vec<T> {
        self.rep.iter().map(|&i| v[i]).collect()
    }

    /// (Σw, Σw²) over each cell's rows (`None` = every weight 1).
    pub fn weight_sums(&self, w: Option<&[f64]>) -> (Vec<f64>, Vec<f64>) {
        let (mut sw, mut sw2) = (vec![0.0; self.len()], vec![0.0; self.len()]);
        for (i, &k) in self.row_cell.iter().enumerate() {
            let wi = w.map_or(1.0, |w| w[i]);
            sw[k as usize] += wi;
            sw2[k as usize] += wi * wi;
        }
        (sw, sw2)
    }
}

#[cfg(test)]
thread_local! {
    /// Tests set this to fit row by row (the reference the cells are
    /// compared with) on data that would collapse.
    pub(crate) static ROWS_ONLY: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// `f` with the collapse into cells switched off (on this thread): the row
/// kernels' reference for a test of the cell path.
#[cfg(test)]
pub(crate) fn rows_only<T>(f: impl FnOnce() -> T) -> T {
    ROWS_ONLY.with(|r| r.set(true));
    let out = f();
    ROWS_ONLY.with(|r| r.set(false));
    out
}

/// Collapse rows by (stratum, start, time, event, covariate values); `None`
/// when the data are small, a column has more than 1024 distinct values, or
/// there would be more than `max_cells` cells (then the rows are used as
/// they are). Values are compared by bits (−0 as +0): pass times after the
/// time fix (`None`: no times, cells by stratum, event and covariates only;
/// `start` `None`: right-censored rows).
pub(crate) fn collapse<C: AsRef<[f64]>>(
    time: Option<&[f64]>,
    start: Option<&[f64]>,
    event: &[bool],
    columns: &[C],
    strata: Option<&[usize]>,
    max_cells: usize,
) -> Option<Cells> {
    let n = event.len();
    #[cfg(test)]
    if ROWS_ONLY.with(|r| r.get()) {
        return None;
    }
    if n < MIN_ROWS {
        return None;
    }
    // one u64 per row, a mixed-radix code of its status, covariate values,
    // time, start and stratum, each numbered through a small table (in
    // order of first appearance); a covariate with more than MAX_LEVELS
    // values, or a code space past 64 bits, is not collapsed, nor (without
    // finishing the pass) data with more distinct times, starts or strata
    // than `max_cells`
    let mut key: Vec<u64> = event.iter().map(|&e| u64::from(e)).collect();
    let mut size = 2u64;
    for c in columns {
        let c = c.as_ref();
        size = if is_zero_one(c) {
            // a 0/1 column (an indicator, a factor's dummy) is its own
            // number: the same equal and unequal rows, so the same cells in
            // the same order, without a table lookup per row
            for (k, &v) in key.iter_mut().zip(c) {
                *k = k.wrapping_add(u64::from(v == 1.0).wrapping_mul(size));
            }
            size.checked_mul(2)?
        } else {
            fold_in(&mut key, size, MAX_LEVELS, |i| (c[i] + 0.0).to_bits())?
        };
    }
    if let Some(t) = time {
        size = fold_in(&mut key, size, max_cells, |i| (t[i] + 0.0).to_bits())?;
    }
    if let Some(s) = start {
        size = fold_in(&mut key, size, max_cells, |i| (s[i] + 0.0).to_bits())?;
    }
    if let Some(s) = strata {
        size = fold_in(&mut key, size, max_cells, |i| s[i] as u64)?;
    }
    let mut cells = Cells {
        rep: Vec::new(),
        count: Vec::new(),
        row_cell: vec![0u32; n],
    };
    if direct_table(size, n) {
        // each code's cell straight from a table of the codes (4 bytes a
        // code), no hashing; the same numbering in order of first
        // appearance, and the same limit
        const NONE: u32 = u32::MAX;
        let mut cell_of = vec![NONE; size as usize];
        for (i, &k) in key.iter().enumerate() {
            let slot = &mut cell_of[k as usize];
            if *slot == NONE {
                if cells.rep.len() == max_cells {
                    return None;
                }
                *slot = cells.rep.len() as u32;
            }
            cells.number(i, *slot);
        }
    } else {
        let mut cell_of = crate::sort::KeyTable::new(max_cells);
        for (i, &k) in key.iter().enumerate() {
            cells.number(i, cell_of.id_of(k)?);
        }
    }
    Some(cells)
}

/// Whether the cells of `n` rows in a code space of `size` codes are
/// numbered through a table of every code (at most 2n codes: a few factors
/// and the times) rather than a hash table of the codes met.
fn direct_table(size: u64, n: usize) -> bool {
    size <= (2 * n) as u64
}

/// Whether every value of `c` is 0 or 1.
pub(crate) fn is_zero_one(c: &[f64]) -> bool {
    crate::sort::all_of(c, |v| (v == 0.0) | (v == 1.0))
}

/// Adds to each row's code the number of its `value` (distinct values in
/// order of first appearance) times `size`, the code space so far; the
/// code space with this dimension, `None` past 64 bits or `limit` values.
fn fold_in(key: &mut [u64], size: u64, limit: usize, value: impl Fn(usize) -> u64) -> Option<u64> {
    let mut ids = crate::sort::KeyTable::new(limit);
    for (i, k) in key.iter_mut().enumerate() {
        let id = u64::from(ids.id_of(value(i))?);
        // no wrap when the final code space fits (checked below)
        *k = k.wrapping_add(id.wrapping_mul(size));
    }
    size.checked_mul(ids.len().max(1) as u64)
}

#[cfg(test)]
mod tests {
    // Large right-censored data with few covariate patterns are fitted on
    // collapsed (stratum, time, status, pattern) cells (`cox/cells.rs`). The
    // same data with every case weight 1 take the row-by-row weighted kernel
    // (R's weighted Efron with w = 1 is the unweighted likelihood), so the two
    // must agree: coefficients, variances, log-likelihoods, tests, concordance
    // and cox.zph (tests and every scaled Schoenfeld residual), with ties
    // (integer days), strata, a three-level factor and an integer covariate.
    use crate::cox::{cox_fit, cox_fit_rows, CoxOptions, CoxRows, Design, Ties};
    use crate::zph::{cox_zph, cox_zph_rows, Transform, ZphOptions};
    use rand::{Rng, SeedableRng};

    use super::rows_only;

    fn close(a: f64, b: f64, tol: f64, what: &str) {
        let r = (a - b).abs() / a.abs().max(b.abs()).max(1e-300);
        assert!(a == b || r < tol, "{what}: {a} vs {b} (rel {r:.2e})");
    }

    struct Data {
        time: Vec<f64>,
        event: Vec<bool>,
        design: Design,
        strata: Vec<usize>,
    }

    fn data(seed: u64, n: usize) -> Data {
        let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
        let mut time = vec![];
        let mut event = vec![];
        let (mut a, mut b, mut age, mut strata) = (vec![], vec![], vec![], vec![]);
        for _ in 0..n {
            let g: usize = rng.random_range(0..3);
            let yes = rng.random_bool(0.4);
            let years = f64::from(rng.random_range(53..58u32));
            let risk =
                0.02 * (0.3 * g as f64 + if yes { 0.5 } else { 0.0 } + 0.02 * (years - 55.0)).exp();
            let t = (-rng.random::<f64>().ln() / risk / 10.0).ceil().min(90.0);
            let c = f64::from(rng.random_range(3..100u32));
            time.push(t.min(c));
            event.push(t <= c);
            a.push(g);
            b.push(if yes { 1.0 } else { 0.0 });
            age.push(years);
            strata.push(rng.random_range(0..2usize));
        }
        let mut design = Design::default();
        for lv in 1..3 {
            design.add_numeric(
                &format!("g{lv}"),
                a.iter().map(|&g| f64::from(u8::from(g == lv))).collect(),
            );
        }
        design.add_numeric("yes", b);
        design.add_numeric("age", age);
        Data {
            time,
            event,
            design,
            strata,
        }
    }

    #[test]
    fn fit_and_zph_together_equal_the_two_calls() {
        // collapsing data (a factor and yes/no columns), data too small to
        // collapse, and a robust fit (which does not collapse)
        for (seed, n, variance) in [
            (4u64, 40_000, crate::cox::Variance::ModelBased),
            (5, 3_000, crate::cox::Variance::ModelBased),
            (6, 40_000, crate::cox::Variance::Robust),
        ] {
            let d = data(seed, n);
            for st in [None, Some(&d.strata[..])] {
                let opts = CoxOptions {
                    variance,
                    ..Default::default()
                };
                let zo = ZphOptions::default();
                let fit = cox_fit(&d.time, &d.event, &d.design, st, &opts).unwrap();
                let zph = cox_zph(&d.time, &d.event, &d.design, st, &fit, None, &zo).unwrap();
                let (fit2, zph2) =
                    crate::zph::cox_fit_and_zph(&d.time, &d.event, &d.design, st, &opts, None, &zo)
                        .unwrap();
                // Debug text: every f64 to the bit
                assert_eq!(format!("{fit:?}"), format!("{fit2:?}"), "seed {seed}");
                assert_eq!(
                    format!("{zph:?}"),
                    format!("{:?}", zph2.unwrap()),
                    "seed {seed}"
                );
                // only the columns of the terms below alpha: those columns
                // of the whole result, bit for bit
                let mut ps: Vec<f64> = zph.terms.iter().map(|t| t.p).collect();
                ps.sort_by(f64::total_cmp);
                let alpha = ps[ps.len() / 2];
                let kept: Vec<usize> = (0..zph.terms.len())
                    .filter(|&i| zph.terms[i].p < alpha)
                    .collect();
                let zo = ZphOptions {
                    residuals: crate::zph::ZphResiduals::TermsBelow(alpha),
                    ..Default::default()
                };
                let (_, part) =
                    crate::zph::cox_fit_and_zph(&d.time, &d.event, &d.design, st, &opts, None, &zo)
                        .unwrap();
                let part = part.unwrap();
                assert!(!kept.is_empty() && kept.len() < zph.terms.len());
                assert_eq!(part.y.ncol, kept.len());
                assert_eq!(
                    part.y_columns,
                    kept.iter()
                        .map(|&i| zph.y_columns[i].clone())
                        .collect::<Vec<_>>()
                );
                let want: Vec<u64> = zph
                    .y
                    .data
                    .chunks_exact(zph.y.ncol)
                    .flat_map(|r| kept.iter().map(|&i| r[i].to_bits()))
                    .collect();
                let got: Vec<u64> = part.y.data.iter().map(|v| v.to_bits()).collect();
                assert_eq!(got, want, "seed {seed}");
                assert_eq!(
                    format!("{:?}", (&part.time, &part.x, &part.strata)),
                    format!("{:?}", (&zph.time, &zph.x, &zph.strata))
                );
            }
        }
    }

    #[test]
    fn collapsed_cells_match_the_row_kernel() {
        for (seed, ties, stratified) in [
            (1u64, Ties::Efron, false),
            (2, Ties::Breslow, false),
            (3, Ties::Efron, true),
        ] {
            let d = data(seed, 60_000);
            let st_opt = stratified.then_some(&d.strata[..]);
            let c = super::collapse(
                Some(&d.time),
                None,
                &d.event,
                &d.design.columns,
                st_opt,
                d.time.len() / 4,
            )
            .expect("these data collapse");
            assert_eq!(
                c.count.iter().map(|&k| k as usize).sum::<usize>(),
                d.time.len()
            );
            let ones = vec![1.0; d.time.len()];
            let opts = CoxOptions {
                ties,
                ..Default::default()
            };
            let st = stratified.then_some(&d.strata[..]);
            let cells = cox_fit(&d.time, &d.event, &d.design, st, &opts).unwrap();
            let rows_w = CoxRows {
                start: None,
                weight: Some(&ones),
            };
            let rows = rows_only(|| {
                cox_fit_rows(&d.time, &d.event, &d.design, st, None, &rows_w, &opts).unwrap()
            });
            let tag = format!("seed {seed} {ties:?} strata {stratified}");
            assert!(cells.converged && rows.converged, "{tag}");
            assert_eq!(cells.n, rows.n);
            assert_eq!(cells.nevent, rows.nevent);
            for (a, b) in cells.terms.iter().zip(&rows.terms) {
                // Newton iterates stop at |1 − ℓ_old/ℓ| ≤ 1e-9, so β agrees to
                // about that; the rest follows
                close(a.coef, b.coef, 1e-7, &format!("{tag} coef {}", a.term));
                close(a.se, b.se, 1e-8, &format!("{tag} se {}", a.term));
            }
            close(cells.loglik, rows.loglik, 1e-12, &format!("{tag} loglik"));
            close(
                cells.loglik_null,
                rows.loglik_null,
                1e-12,
                &format!("{tag} loglik0"),
            );
            close(
                cells.wald_test.stat,
                rows.wald_test.stat,
                1e-7,
                &format!("{tag} wald"),
            );
            close(
                cells.score_test.stat,
                rows.score_test.stat,
                1e-9,
                &format!("{tag} score"),
            );
            // 2(ℓ − ℓ₀) of two ℓ of size ~10⁵: absolute agreement relative to ℓ
            assert!(
                (cells.lr_test.stat - rows.lr_test.stat).abs() < 1e-10 * cells.loglik.abs(),
                "{tag} LR {} vs {}",
                cells.lr_test.stat,
                rows.lr_test.stat
            );
            // R: the concordance of a weighted fit counts pairs by w_i w_j = 1;
            // from the cells every pair count is the rows' (integers)
            let (a, b) = (
                cells.concordance_detail.as_ref().unwrap(),
                rows.concordance_detail.as_ref().unwrap(),
            );
            assert_eq!(
                [a.concordant, a.discordant, a.tied_x, a.tied_y, a.tied_xy],
                [b.concordant, b.discordant, b.tied_x, b.tied_y, b.tied_xy],
                "{tag} pair counts"
            );
            assert!(a.tied_y > 0.0 && a.tied_xy > 0.0, "{tag}: ties tested");
            close(a.se, b.se, 1e-9, &format!("{tag} concordance se"));
            close(
                cells.concordance.unwrap(),
                rows.concordance.unwrap(),
                1e-7,
                &format!("{tag} concordance"),
            );

            let zo = ZphOptions::default();
            let zc = cox_zph(&d.time, &d.event, &d.design, st, &cells, None, &zo).unwrap();
            let zr = rows_only(|| {
                cox_zph_rows(&d.time, &d.event, &d.design, st, &rows_w, &rows, None, &zo).unwrap()
            });
            for (a, b) in zc
                .terms
                .iter()
                .zip(&zr.terms)
                .chain([(&zc.global, &zr.global)])
            {
                close(a.chisq, b.chisq, 1e-6, &format!("{tag} zph {}", a.term));
            }
            assert_eq!(zc.y.len(), zr.y.len());
            assert_eq!(zc.time, zr.time, "{tag}: events in the same order");
            // g(t) from the cells' counts is the rows' g(t) to the bit, for
            // every transform
            for transform in [
                Transform::Km,
                Transform::Rank,
                Transform::Identity,
                Transform::Log,
            ] {
                let zo = ZphOptions {
                    transform,
                    ..Default::default()
                };
                let zc = cox_zph(&d.time, &d.event, &d.design, st, &cells, None, &zo);
                let zr = rows_only(|| {
                    cox_zph_rows(&d.time, &d.event, &d.design, st, &rows_w, &rows, None, &zo)
                });
                match (zc, zr) {
                    (Ok(zc), Ok(zr)) => {
                        assert_eq!(zc.x, zr.x, "{tag} {transform:?}");
                        assert_eq!(zc.time, zr.time, "{tag} {transform:?}");
                        close(zc.global.chisq, zr.global.chisq, 1e-6, &tag);
                    }
                    (Err(a), Err(b)) => assert_eq!(a.to_string(), b.to_string()),
                    (a, b) => panic!("{tag} {transform:?}: {:?} vs {:?}", a.err(), b.err()),
                }
            }
            for (i, (a, b)) in zc.y.iter().zip(zr.y.iter()).enumerate() {
                for (j, (u, v)) in a.iter().zip(b).enumerate() {
                    close(*u, *v, 1e-6, &format!("{tag} y[{i}][{j}]"));
                }
            }
        }
    }

    /// A fit on cells against the same fit on rows: coefficients (to
    /// Newton's stopping rule), SEs, robust SEs, log-likelihood, score test.
    fn weighted_fits_agree(
        cells: &crate::cox::CoxFit,
        rows: &crate::cox::CoxFit,
        variance: crate::cox::Variance,
        tag: &str,
    ) {
        assert!(cells.converged && rows.converged, "{tag}");
        assert_eq!((cells.n, cells.nevent), (rows.n, rows.nevent));
        for (a, b) in cells.terms.iter().zip(&rows.terms) {
            close(a.coef, b.coef, 1e-7, &format!("{tag} coef {}", a.term));
            close(a.se, b.se, 1e-8, &format!("{tag} se {}", a.term));
            match (a.robust_se, b.robust_se) {
                (Some(x), Some(y)) => close(x, y, 1e-8, &format!("{tag} robust se")),
                (None, None) => assert_eq!(variance, crate::cox::Variance::ModelBased),
                _ => panic!("{tag}: robust SE on one side only"),
            }
        }
        close(cells.loglik, rows.loglik, 1e-12, &format!("{tag} loglik"));
        close(cells.score_test.stat, rows.score_test.stat, 1e-9, tag);
    }

    #[test]
    fn weighted_robust_cells_match_the_row_kernel() {
        // continuous weights (as propensity-score weights): cells sum w and
        // w² for the fit and the sandwich; Efron tie sizes count rows
        for (seed, ties, stratified) in [
            (7u64, Ties::Efron, false),
            (8, Ties::Breslow, false),
            (9, Ties::Efron, true),
        ] {
            let d = data(seed, 50_000);
            let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
            let w: Vec<f64> = (0..d.time.len())
                .map(|_| 0.3 + 2.0 * rng.random::<f64>())
                .collect();
            let st = stratified.then_some(&d.strata[..]);
            let rows_w = CoxRows {
                start: None,
                weight: Some(&w),
            };
            let tag = format!("seed {seed} {ties:?} strata {stratified}");
            for variance in [
                crate::cox::Variance::Robust,
                crate::cox::Variance::ModelBased,
            ] {
                let opts = CoxOptions {
                    ties,
                    variance,
                    ..Default::default()
                };
                let cells =
                    cox_fit_rows(&d.time, &d.event, &d.design, st, None, &rows_w, &opts).unwrap();
                let rows = rows_only(|| {
                    cox_fit_rows(&d.time, &d.event, &d.design, st, None, &rows_w, &opts).unwrap()
                });
                weighted_fits_agree(&cells, &rows, variance, &tag);
                match (cells.robust_score_test, rows.robust_score_test) {
                    (Some(a), Some(b)) => close(a.stat, b.stat, 1e-8, &format!("{tag} rscore")),
                    (None, None) => {}
                    _ => panic!("{tag}: robust score test on one side only"),
                }
                if let (Some(a), Some(b)) = (&cells.robust_var, &rows.robust_var) {
                    for (ra, rb) in a.iter().zip(b) {
                        for (x, y) in ra.iter().zip(rb) {
                            close(*x, *y, 1e-8, &format!("{tag} robust var"));
                        }
                    }
                }
                // the concordance of a weighted fit is the rows' (not collapsed)
                assert_eq!(cells.concordance, rows.concordance, "{tag}");
            }
        }
    }

    #[test]
    fn counting_cells_match_the_row_kernel() {
        // (start, stop] rows as a time-dependent exposure makes them (each
        // subject split at an integer switch day), collapsed by (stratum,
        // start, stop, status, pattern): unweighted model-based and weighted
        // robust fits, with and without strata, against the rows
        for (seed, ties, stratified) in [
            (11u64, Ties::Efron, false),
            (12, Ties::Breslow, false),
            (13, Ties::Efron, true),
        ] {
            let d = data(seed, 40_000);
            let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
            let (mut start, mut stop, mut ev, mut x, mut yes, mut st, mut w) =
                (vec![], vec![], vec![], vec![], vec![], vec![], vec![]);
            for i in 0..d.time.len() {
                let t = d.time[i];
                let s = f64::from(rng.random_range(0..60u32));
                let wi = 0.3 + 2.0 * rng.random::<f64>();
                let mut push = |a: f64, b: f64, e: bool, on: f64| {
                    start.push(a);
                    stop.push(b);
                    ev.push(e);
                    x.push(on);
                    yes.push(d.design.columns[2][i]);
                    st.push(d.strata[i]);
                    w.push(wi);
                };
                if s > 0.0 && s < t {
                    push(0.0, s, false, 0.0);
                    push(s, t, d.event[i], 1.0);
                } else {
                    push(0.0, t, d.event[i], f64::from(u8::from(s == 0.0)));
                }
            }
            let mut design = Design::default();
            design.add_numeric("exposed", x);
            design.add_numeric("yes", yes);
            let st = stratified.then_some(&st[..]);
            let tag = format!("seed {seed} {ties:?} strata {stratified}");
            let c = super::collapse(
                Some(&stop),
                Some(&start),
                &ev,
                &design.columns,
                st,
                stop.len() / 2,
            )
            .expect("these data collapse");
            assert!(c.len() < stop.len() / 4, "{tag}: {} cells", c.len());
            for (weight, variance) in [
                (None, crate::cox::Variance::ModelBased),
                (Some(&w[..]), crate::cox::Variance::Robust),
            ] {
                let opts = CoxOptions {
                    ties,
                    variance,
                    ..Default::default()
                };
                let rows_w = CoxRows {
                    start: Some(&start),
                    weight,
                };
                let fit = || cox_fit_rows(&stop, &ev, &design, st, None, &rows_w, &opts).unwrap();
                let (cells, rows) = (fit(), rows_only(fit));
                let tag = format!("{tag} {variance:?}");
                weighted_fits_agree(&cells, &rows, variance, &tag);
                close(cells.loglik_null, rows.loglik_null, 1e-12, &tag);
                close(cells.wald_test.stat, rows.wald_test.stat, 1e-7, &tag);
                // the concordance is computed on the rows either way
                assert_eq!(cells.concordance, rows.concordance, "{tag}");
            }
        }
    }

    #[test]
    fn cells_are_the_distinct_rows_in_order_of_first_appearance() {
        // a code space within 2n (cells from a table of the codes) and one
        // past it (cells through the hash table): the same cells
        for b_values in [4u32, 300] {
            cells_match_a_naive_grouping(b_values);
        }
    }

    fn cells_match_a_naive_grouping(b_values: u32) {
        // against a naive grouping of (stratum, start, time, status, values)
        let mut rng = rand::rngs::StdRng::seed_from_u64(21);
        let n = 30_000;
        let time: Vec<f64> = (0..n)
            .map(|_| f64::from(rng.random_range(1..60u32)))
            .collect();
        let start: Vec<f64> = time
            .iter()
            .map(|&t| f64::from(rng.random_range(0..3u32)).min(t - 1.0))
            .collect();
        let event: Vec<bool> = (0..n).map(|_| rng.random_bool(0.5)).collect();
        let a: Vec<f64> = (0..n)
            .map(|_| f64::from(rng.random_range(0..3u32)))
            .collect();
        let b: Vec<f64> = (0..n)
            .map(|_| f64::from(rng.random_range(50..50 + b_values)))
            .collect();
        // a 0/1 column (numbered without a table), −0 as +0
        let d: Vec<f64> = (0..n)
            .map(|_| match rng.random_range(0..3u32) {
                0 => -0.0,
                1 => 0.0,
                _ => 1.0,
            })
            .collect();
        let st: Vec<usize> = (0..n).map(|_| rng.random_range(0..2usize)).collect();
        // the code space: status × a × b × d (0/1) × time × start × stratum
        let distinct = |v: &[f64]| -> u64 {
            let set: std::collections::HashSet<u64> =
                v.iter().map(|x| (x + 0.0).to_bits()).collect();
            set.len() as u64
        };
        let st_f: Vec<f64> = st.iter().map(|&s| s as f64).collect();
        let size = 2
            * distinct(&a)
            * distinct(&b)
            * 2
            * distinct(&time)
            * distinct(&start)
            * distinct(&st_f);
        assert_eq!(
            super::direct_table(size, n),
            b_values == 4,
            "{size} codes: the path this case is for"
        );
        let cols = [a.clone(), b.clone(), d.clone()];
        let c = super::collapse(Some(&time), Some(&start), &event, &cols, Some(&st), n)
            .expect("collapses");
        type Key = (usize, u64, u64, bool, u64, u64, u64);
        let mut seen: std::collections::HashMap<Key, u32> = Default::default();
        let (mut rep, mut count, mut row_cell) = (vec![], vec![], vec![]);
        for i in 0..n {
            let k = (
                st[i],
                start[i].to_bits(),
                time[i].to_bits(),
                event[i],
                a[i].to_bits(),
                b[i].to_bits(),
                (d[i] + 0.0).to_bits(),
            );
            let next = rep.len() as u32;
            let id = *seen.entry(k).or_insert(next);
            if id == next {
                rep.push(i);
                count.push(0u32);
            }
            count[id as usize] += 1;
            row_cell.push(id);
        }
        assert!(rep.len() > 1000, "{} cells", rep.len());
        if b_values == 4 {
            assert!(rep.len() < n / 2, "{} cells", rep.len());
        }
        assert_eq!(c.rep, rep);
        assert_eq!(c.count, count);
        assert_eq!(c.row_cell, row_cell);
        // more cells than allowed, too many values in a column, or a code
        // space past 64 bits: not collapsed
        assert!(
            super::collapse(Some(&time), Some(&start), &event, &cols, Some(&st), 100).is_none()
        );
        let many: Vec<f64> = (0..n).map(|i| i as f64).collect();
        assert!(super::collapse(None, None, &event, &[&many], None, n).is_none());
        // more distinct times than cells allowed (stops at the times)
        let none: [&[f64]; 0] = [];
        assert!(super::collapse(Some(&many), None, &event, &none, None, n / 2).is_none());
        let wide: Vec<Vec<f64>> = (0..7)
            .map(|_| (0..n).map(|i| (i % 1000) as f64).collect())
            .collect();
        assert!(super::collapse(None, None, &event, &wide, None, n).is_none());
    }

    #[test]
    fn all_of_is_iter_all() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(5);
        for len in [0usize, 1, 7, 8, 9, 16, 17, 100] {
            for bad_at in [None, Some(0), Some(len / 2), Some(len.saturating_sub(1))] {
                let mut v: Vec<f64> = (0..len)
                    .map(|_| f64::from(rng.random_range(0..2u32)))
                    .collect();
                if let (Some(k), true) = (bad_at, len > 0) {
                    v[k] = f64::NAN;
                }
                let zero_one = |x: f64| x == 0.0 || x == 1.0;
                assert_eq!(super::is_zero_one(&v), v.iter().all(|&x| zero_one(x)));
                assert_eq!(
                    crate::sort::all_of(&v, f64::is_finite),
                    v.iter().all(|x| x.is_finite())
                );
            }
        }
    }
}
