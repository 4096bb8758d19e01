//! The smooth of a proportional-hazards residual plot, as R's
//! `plot.cox.zph(fit_zph, df = 4, nsmo = 40, se = TRUE)` draws it.
//!
//! **Model.** Least-squares regression of the scaled Schoenfeld residuals
//! `y` (one column of `cox.zph()$y`) on a natural cubic spline basis of the
//! transformed event times `x` (`cox.zph()$x`) — R's
//! `ns(c(pred.x, x), df, intercept = TRUE)`: boundary knots at `range(x)`,
//! `df − 2` interior knots at the quantiles `j / (df − 1)` (R's type-7
//! `quantile`) of the `nsmo` prediction points and the data together, cubic
//! between knots and linear beyond them (second derivative zero at both
//! boundaries). With N(x) the `df` basis functions,
//!
//! `β̂ = (XᵀX)⁻¹ Xᵀy`, `ŷ(t) = N(t)ᵀ β̂`,
//! `band(t) = ŷ(t) ± 2 √(v · N(t)ᵀ (XᵀX)⁻¹ N(t))`,
//!
//! where X holds N(xᵢ) for the events whose residual is not missing (R drops
//! the structural NA of a covariate constant within a stratum) and v is the
//! term's diagonal entry of `cox.zph()$var` (the inverse average
//! information), evaluated at `nsmo` points `seq(min(x), max(x), length =
//! nsmo)`.
//!
//! The fitted values and the band depend only on the spline space, not on
//! its basis, so the basis here is the B-spline basis (Cox–de Boor
//! recursion) restricted to the natural splines by eliminating the first
//! and last coefficient — better conditioned than R's QR-projected basis
//! and equal to it in exact arithmetic. Cost: two order-statistic
//! selections for the knots (O(n)) and one pass accumulating the df × df
//! cross-products (O(n · df²)); no n × n or n × df matrix is formed.
//!
//! References: Grambsch P. M., Therneau T. M. (1994), Proportional hazards
//! tests and diagnostics based on weighted residuals, *Biometrika* 81,
//! 515–526; Therneau T. M., Grambsch P. M. (2000), *Modeling Survival Data:
//! Extending the Cox Model*, Springer, §6.2. R: `survival:::plot.cox.zph`
//! (survival 3.5), `splines::ns`.

use serde::Serialize;

use crate::error::{Result, SurvError};
use crate::linalg::{ldl, ldl_inverse, ldl_solve, TOLER_CHOL};
use crate::zph::ZphResult;

/// Options of [`ns_smooth`] (R's `plot.cox.zph` arguments).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SmoothOptions {
    /// Degrees of freedom of the natural spline (R `df`, default 4; ≥ 2).
    pub df: usize,
    /// Number of evaluation points spanning `range(x)` (R `nsmo`, default 40; ≥ 2).
    pub n_points: usize,
    /// Half-width of the band in standard errors (R draws ±2).
    pub band_se: f64,
}

impl Default for SmoothOptions {
    fn default() -> Self {
        SmoothOptions {
            df: 4,
            n_points: 40,
            band_se: 2.0,
        }
    }
}

/// A smoothed curve with its band, at `n_points` values of x.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Smooth {
    /// Evaluation points, `seq(min(x), max(x), length = n_points)`.
    pub x: Vec<f64>,
    /// Fitted values ŷ at `x`.
    pub fit: Vec<f64>,
    /// ŷ − band_se · SE (NaN when no variance was given).
    pub lower: Vec<f64>,
    /// ŷ + band_se · SE.
    pub upper: Vec<f64>,
}

/// The smooth of one term of a [`ZphResult`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ZphSmooth {
    /// Term name (column of `y`).
    pub term: String,
    /// The curve, or `None` when the spline fit is singular (R warns
    /// "spline fit is singular" and skips the variable).
    pub curve: Option<Smooth>,
}

/// R's `seq(from, to, length.out = n)`: exact ends, `from + i·by` between.
fn seq_length(from: f64, to: f64, n: usize) -> Vec<f64> {
    if n == 1 {
        return vec![from];
    }
    if from == to {
        return vec![from; n];
    }
    let by = (to - from) / (n - 1) as f64;
    let mut v: Vec<f64> = (0..n).map(|i| from + i as f64 * by).collect();
    v[0] = from;
    v[n - 1] = to;
    v
}

/// R's type-7 `quantile(v, probs)` (v finite; `v` is reordered).
fn quantiles_type7(v: &mut [f64], probs: &[f64]) -> Vec<f64> {
    let n = v.len();
    type7(n, probs, |k| *v.select_nth_unstable_by(k, f64::total_cmp).1)
}

/// Type-7 quantiles of `n` values whose k-th smallest (0-based, in
/// `total_cmp` order) is `nth(k)`.
fn type7(n: usize, probs: &[f64], mut nth: impl FnMut(usize) -> f64) -> Vec<f64> {
    probs
        .iter()
        .map(|&p| {
            let index = (n - 1) as f64 * p; // 0-based
            let lo = index.floor() as usize;
            let hi = index.ceil() as usize;
            let qlo = nth(lo);
            let mut q = qlo;
            if hi > lo {
                let qhi = nth(hi);
                if qhi != qlo {
                    let h = index - lo as f64;
                    q = (1.0 - h) * qlo + h * qhi;
                }
            }
            q
        })
        .collect()
}

/// The k-th smallest (0-based, `total_cmp` order) of the union of the
/// ascending `a` (short) and `b`, k < a.len() + b.len(): O(a.len()).
fn kth_of_sorted(a: &[f64], b: &[f64], k: usize) -> f64 {
    let le = |x: f64, y: f64| x.total_cmp(&y).is_le();
    let (m, nb) = (a.len(), b.len());
    for j in 0..=m.min(k + 1) {
        // the k + 1 smallest: a[..j] and b[..i]
        let i = k + 1 - j;
        if i > nb {
            continue;
        }
        if (j == 0 || i == nb || le(a[j - 1], b[i])) && (i == 0 || j == m || le(b[i - 1], a[j])) {
            return match (j, i) {
                (0, _) => b[i - 1],
                (_, 0) => a[j - 1],
                // the larger under total_cmp
                _ if a[j - 1].total_cmp(&b[i - 1]).is_ge() => a[j - 1],
                _ => b[i - 1],
            };
        }
    }
    unreachable!("k < a.len() + b.len() has a split")
}

/// The natural cubic spline basis of `ns(df, intercept = TRUE)` with given
/// boundary and interior knots, as B-splines with the first and last
/// coefficient eliminated by the two natural (zero second derivative)
/// boundary conditions.
struct NaturalSpline {
    /// Full knot vector: boundary knots 4 times, interior knots once.
    t: Vec<f64>,
    /// Number of B-splines (interior knots + 4).
    nb: usize,
    /// c₀ = (1 + α) c₁ − α c₂.
    alpha: f64,
    /// c_{nb−1} = (1 + β) c_{nb−2} − β c_{nb−3}.
    beta: f64,
}

impl NaturalSpline {
    fn new(a: f64, b: f64, interior: &[f64]) -> Option<NaturalSpline> {
        let mut t = vec![a; 4];
        t.extend_from_slice(interior);
        t.extend_from_slice(&[b; 4]);
        let nb = interior.len() + 4;
        // every knot strictly inside (a, b): otherwise an end span is empty
        // (all values finite: checked by the caller)
        if a >= b || interior.iter().any(|&k| k <= a || k >= b) {
            return None;
        }
        // s''(a) = 0  <=>  (c1 − c0)/(t4 − a) = (c2 − c1)/(t5 − a)
        let alpha = (t[4] - a) / (t[5] - a);
        // s''(b) = 0  <=>  (c_{nb−1} − c_{nb−2})/(b − t_{nb−1}) = (c_{nb−2} − c_{nb−3})/(b − t_{nb−2})
        let beta = (b - t[nb - 1]) / (b - t[nb - 2]);
        Some(NaturalSpline { t, nb, alpha, beta })
    }

    /// Number of basis functions (= df).
    fn dim(&self) -> usize {
        self.nb - 2
    }

    /// The df basis values at `x` (x within the boundary knots) into `out`.
    fn eval(&self, x: f64, out: &mut [f64]) {
        let t = &self.t;
        let nb = self.nb;
        // span i: t[i] <= x < t[i+1], i in 3..=nb-1 (x = b uses the last span)
        let i = (t[..nb].partition_point(|&u| u <= x)).clamp(4, nb) - 1;
        // The NURBS Book, algorithm A2.2: the 4 non-zero cubic B-splines N_{i-3..=i}
        let mut n = [1.0, 0.0, 0.0, 0.0];
        let mut left = [0.0; 4];
        let mut right = [0.0; 4];
        for j in 1..4 {
            left[j] = x - t[i + 1 - j];
            right[j] = t[i + j] - x;
            let mut saved = 0.0;
            for r in 0..j {
                let temp = n[r] / (right[r + 1] + left[j - r]);
                n[r] = saved + right[r + 1] * temp;
                saved = left[j - r] * temp;
            }
            n[j] = saved;
        }
        out.iter_mut().for_each(|v| *v = 0.0);
        let df = self.dim();
        for (r, &bval) in n.iter().enumerate() {
            let k = i - 3 + r; // B-spline index 0..nb
            if k == 0 {
                out[0] += (1.0 + self.alpha) * bval;
                out[1] -= self.alpha * bval;
            } else if k == nb - 1 {
                out[df - 1] += (1.0 + self.beta) * bval;
                out[df - 2] -= self.beta * bval;
            } else {
                out[k - 1] += bval;
            }
        }
    }
}

/// R's `plot.cox.zph` smooth of `y` against `x` (module doc): `x` all event
/// points (they place the knots, as R's `xx`), `y` aligned with `x`, NaN =
/// missing (left out of the fit), `var` the variance factor of the band
/// (`cox.zph()$var[i, i]`; NaN gives a NaN band).
///
/// Errors: length mismatch, no points, non-finite x, options out of range,
/// and `Degenerate` when the spline fit is singular (fewer distinct points
/// than df, or a quantile knot on a boundary).
pub fn ns_smooth(x: &[f64], y: &[f64], var: f64, opts: &SmoothOptions) -> Result<Smooth> {
    crate::error::check_len("y", y.len(), x.len())?;
    if x.is_empty() {
        return Err(SurvError::Empty);
    }
    if opts.df < 2 || opts.n_points < 2 {
        return Err(SurvError::InvalidOption {
            name: "smooth",
            message: format!(
                "df must be >= 2 and n_points >= 2 (got df = {}, n_points = {})",
                opts.df, opts.n_points
            ),
        });
    }
    if let Some((index, &value)) = x.iter().enumerate().find(|(_, v)| !v.is_finite()) {
        return Err(SurvError::InvalidValue {
            what: "x".to_string(),
            index,
            value,
        });
    }
    let singular = |message: &str| SurvError::Degenerate {
        what: "spline smooth",
        message: message.to_string(),
    };
    let (lo, hi) = x
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &v| {
            (a.min(v), b.max(v))
        });
    let pred = seq_length(lo, hi, opts.n_points);
    let m = opts.df - 2;
    let by = 1.0 / (m + 1) as f64;
    let probs: Vec<f64> = (1..=m).map(|j| j as f64 * by).collect();
    // knots at quantiles of the points and the evaluation grid together;
    // points in ascending order (a cox.zph's events of one stratum) are
    // not copied: the grid is merged in by index
    let knots = if x.windows(2).all(|w| w[0].total_cmp(&w[1]).is_le()) {
        type7(pred.len() + x.len(), &probs, |k| kth_of_sorted(&pred, x, k))
    } else {
        let mut all: Vec<f64> = Vec::with_capacity(pred.len() + x.len());
        all.extend_from_slice(&pred);
        all.extend_from_slice(x);
        quantiles_type7(&mut all, &probs)
    };
    let spline =
        NaturalSpline::new(lo, hi, &knots).ok_or_else(|| singular("a knot lies on a boundary"))?;
    let df = spline.dim();

    // one pass: XᵀX (lower triangle) and Xᵀy
    let mut xtx = vec![vec![0.0; df]; df];
    let mut xty = vec![0.0; df];
    let mut row = vec![0.0; df];
    let mut used = 0usize;
    // the basis at the previous point, reused while x repeats (event points
    // of one time share their x; the same values, so the same sums)
    let mut row_x = f64::NAN;
    for (&xi, &yi) in x.iter().zip(y) {
        if yi.is_nan() {
            continue;
        }
        used += 1;
        if xi != row_x {
            spline.eval(xi, &mut row);
            row_x = xi;
        }
        for a in 0..df {
            let ra = row[a];
            if ra == 0.0 {
                continue;
            }
            xty[a] += ra * yi;
            for b in 0..=a {
                xtx[a][b] += ra * row[b];
            }
        }
    }
    if used < df {
        return Err(singular("fewer points than degrees of freedom"));
    }
    for a in 0..df {
        for b in a + 1..df {
            xtx[a][b] = xtx[b][a];
        }
    }
    let rank = ldl(&mut xtx, TOLER_CHOL);
    if rank != df as i64 {
        return Err(singular("the basis is rank deficient at these points"));
    }
    let mut coef = xty;
    ldl_solve(&xtx, &mut coef);
    let inv = ldl_inverse(&xtx);

    let mut fit = Vec::with_capacity(pred.len());
    let mut lower = Vec::with_capacity(pred.len());
    let mut upper = Vec::with_capacity(pred.len());
    for &p in &pred {
        spline.eval(p, &mut row);
        let yhat: f64 = row.iter().zip(&coef).map(|(r, c)| r * c).sum();
        let mut q = 0.0;
        for a in 0..df {
            for b in 0..df {
                q += row[a] * inv[a][b] * row[b];
            }
        }
        let half = opts.band_se * (var * q).sqrt();
        fit.push(yhat);
        lower.push(yhat - half);
        upper.push(yhat + half);
    }
    Ok(Smooth {
        x: pred,
        fit,
        lower,
        upper,
    })
}

/// [`ns_smooth`] of every term of a `cox.zph` result (R's `plot(zph)`, one
/// panel per term): x = `z.x`, y = that column of `z.y`, var = `z.var[i][i]`.
pub fn zph_smooth(z: &ZphResult, opts: &SmoothOptions) -> Vec<ZphSmooth> {
    z.y_columns
        .iter()
        .enumerate()
        .map(|(i, term)| {
            let y: Vec<f64> = z.y.iter().map(|r| r[i]).collect();
            let var = z
                .var
                .get(i)
                .and_then(|r| r.get(i))
                .copied()
                .unwrap_or(f64::NAN);
            ZphSmooth {
                term: term.clone(),
                curve: ns_smooth(&z.x, &y, var, opts).ok(),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seq_matches_r() {
        let s = seq_length(0.0, 1.0, 5);
        assert_eq!(s, vec![0.0, 0.25, 0.5, 0.75, 1.0]);
        assert_eq!(seq_length(2.0, 2.0, 3), vec![2.0; 3]);
    }

    #[test]
    fn quantile_type7_hand() {
        // R: quantile(c(1,2,3,4,10), c(1/3, 2/3)) = 2.333333, 3.666667
        let mut v = vec![10.0, 1.0, 4.0, 3.0, 2.0];
        let q = quantiles_type7(&mut v, &[1.0 / 3.0, 2.0 / 3.0]);
        assert!((q[0] - (2.0 + 1.0 / 3.0)).abs() < 1e-14);
        assert!((q[1] - (3.0 + 2.0 / 3.0)).abs() < 1e-14);
    }

    /// The k-th of two ascending lists merged by index is the k-th of
    /// their sorted union, with repeats and −0 beside +0.
    #[test]
    fn kth_of_two_sorted_lists_is_the_kth_of_their_union() {
        let mut seed = 7u64;
        let mut next = || {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (seed >> 33) as usize
        };
        for round in 0..200 {
            let draw = |r: usize| {
                let v = [-0.0, 0.0, 0.5, 1.0, 1.0, 2.5, 3.0][r % 7];
                if r.is_multiple_of(3) {
                    v // −0 stays −0
                } else {
                    v + (r % 3) as f64
                }
            };
            let mut a: Vec<f64> = (0..next() % 6 + 1).map(|_| draw(next())).collect();
            let mut b: Vec<f64> = (0..next() % 40 + round % 3).map(|_| draw(next())).collect();
            a.sort_by(f64::total_cmp);
            b.sort_by(f64::total_cmp);
            let mut all: Vec<f64> = a.iter().chain(&b).copied().collect();
            all.sort_by(f64::total_cmp);
            for (k, want) in all.iter().enumerate() {
                let got = kth_of_sorted(&a, &b, k);
                assert_eq!(got.to_bits(), want.to_bits(), "k {k} of {a:?} and {b:?}");
            }
            let probs = [0.25, 0.5, 0.75];
            let mut v = all.clone();
            let direct = quantiles_type7(&mut v, &probs);
            let merged = type7(all.len(), &probs, |k| kth_of_sorted(&a, &b, k));
            assert_eq!(direct, merged);
        }
    }

    #[test]
    fn basis_is_natural_and_reproduces_lines() {
        let s = NaturalSpline::new(0.0, 10.0, &[3.0, 6.5]).unwrap();
        let mut v = vec![0.0; 4];
        // partition of unity survives the elimination: constants and lines
        // lie in the natural-spline space, so y = 2 + 3x is fitted exactly
        let x: Vec<f64> = (0..=100).map(|i| i as f64 / 10.0).collect();
        let y: Vec<f64> = x.iter().map(|t| 2.0 + 3.0 * t).collect();
        let sm = ns_smooth(&x, &y, 1.0, &SmoothOptions::default()).unwrap();
        for (xp, f) in sm.x.iter().zip(&sm.fit) {
            assert!((f - (2.0 + 3.0 * xp)).abs() < 1e-10, "{xp} {f}");
        }
        // sum of the basis = 1 everywhere
        for &t in &[0.0, 1.0, 3.0, 5.0, 9.99, 10.0] {
            s.eval(t, &mut v);
            assert!((v.iter().sum::<f64>() - 1.0).abs() < 1e-14);
        }
        // second derivative at the ends is zero: finite differences of each basis
        let h = 1e-4;
        for end in [0.0, 10.0 - 2.0 * h] {
            let mut a = vec![0.0; 4];
            let mut b = vec![0.0; 4];
            let mut c = vec![0.0; 4];
            s.eval(end, &mut a);
            s.eval(end + h, &mut b);
            s.eval(end + 2.0 * h, &mut c);
            for k in 0..4 {
                let d2 = (a[k] - 2.0 * b[k] + c[k]) / (h * h);
                assert!(d2.abs() < 1e-2, "end {end} basis {k}: {d2}");
            }
        }
    }

    #[test]
    fn missing_y_is_left_out_and_errors_are_typed() {
        let x: Vec<f64> = (0..50).map(|i| i as f64).collect();
        let y: Vec<f64> = x.iter().map(|t| (t / 7.0).sin()).collect();
        let mut y_nan = y.clone();
        y_nan.push(f64::NAN);
        let mut x2 = x.clone();
        x2.push(25.0); // a point without residual still places the knots
        let a = ns_smooth(&x2, &y_nan, 1.0, &SmoothOptions::default()).unwrap();
        assert!(a.fit.iter().all(|v| v.is_finite()));
        assert!(ns_smooth(&[1.0, 2.0], &[1.0], 1.0, &SmoothOptions::default()).is_err());
        assert!(matches!(
            ns_smooth(&[1.0; 10], &[0.0; 10], 1.0, &SmoothOptions::default()),
            Err(SurvError::Degenerate { .. })
        ));
    }
}
