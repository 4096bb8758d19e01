//! Small dense symmetric linear algebra for p×p information matrices.
//!
//! A generalised LDLᵀ (Cholesky without square roots) with R survival's
//! pivot rule: a pivot below `toler · max(diag)` (or non-finite) is treated as
//! zero and its row/column is left out of solves and inverses. This is how
//! `coxph` handles redundant covariates (`toler.chol = .Machine$double.eps^.75`),
//! which a general-purpose solver (faer, LAPACK) would instead reject or
//! amplify; the matrices here are p×p with p the number of model terms, so a
//! dedicated O(p³) routine is both simpler and exact to R's semantics.

/// R's default `toler.chol` (`.Machine$double.eps^0.75`).
pub const TOLER_CHOL: f64 = 1.818_989_403_545_856_5e-12;

/// Row-major square matrix.
pub type Mat = Vec<Vec<f64>>;

/// In-place LDLᵀ of a symmetric matrix (upper triangle is read). On return the
/// strict lower triangle holds L and the diagonal holds D (0 for dropped pivots).
/// Returns the rank, negated when the matrix is clearly not non-negative definite.
pub fn ldl(a: &mut Mat, toler: f64) -> i64 {
    let n = a.len();
    let mut eps = 0.0f64;
    for i in 0..n {
        if a[i][i] > eps {
            eps = a[i][i];
        }
        for j in (i + 1)..n {
            a[j][i] = a[i][j];
        }
    }
    eps = if eps == 0.0 { toler } else { eps * toler };
    let mut rank = 0i64;
    let mut nonneg = 1i64;
    for i in 0..n {
        let pivot = a[i][i];
        if !pivot.is_finite() || pivot < eps {
            a[i][i] = 0.0;
            if pivot < -8.0 * eps {
                nonneg = -1;
            }
            continue;
        }
        rank += 1;
        for j in (i + 1)..n {
            let t = a[j][i] / pivot;
            a[j][i] = t;
            a[j][j] -= t * t * pivot;
            for k in (j + 1)..n {
                a[k][j] -= t * a[k][i];
            }
        }
    }
    rank * nonneg
}

/// Solve `A x = b` given the factor from [`ldl`]; components on dropped pivots are 0.
pub fn ldl_solve(f: &Mat, b: &mut [f64]) {
    let n = f.len();
    for i in 0..n {
        let mut t = b[i];
        for j in 0..i {
            t -= b[j] * f[i][j];
        }
        b[i] = t;
    }
    for i in (0..n).rev() {
        if f[i][i] == 0.0 {
            b[i] = 0.0;
        } else {
            let mut t = b[i] / f[i][i];
            for j in (i + 1)..n {
                t -= b[j] * f[j][i];
            }
            b[i] = t;
        }
    }
}

/// Generalised inverse from the factor of [`ldl`] (rows/cols of dropped pivots are 0).
pub fn ldl_inverse(f: &Mat) -> Mat {
    let n = f.len();
    let mut inv = vec![vec![0.0; n]; n];
    for c in 0..n {
        let mut e = vec![0.0; n];
        e[c] = 1.0;
        ldl_solve(f, &mut e);
        for r in 0..n {
            inv[r][c] = e[r];
        }
    }
    for i in 0..n {
        if f[i][i] == 0.0 {
            for j in 0..n {
                inv[i][j] = 0.0;
                inv[j][i] = 0.0;
            }
        }
    }
    inv
}

/// Quadratic form `vᵀ A⁻¹ v` for symmetric A, via LDLᵀ (generalised inverse).
pub fn quad_form_inv(a: &Mat, v: &[f64]) -> f64 {
    let mut f = a.clone();
    ldl(&mut f, TOLER_CHOL);
    let mut x = v.to_vec();
    ldl_solve(&f, &mut x);
    x.iter().zip(v).map(|(a, b)| a * b).sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn solves_and_inverts_spd() {
        let a = vec![
            vec![4.0, 2.0, 0.6],
            vec![2.0, 3.0, 0.4],
            vec![0.6, 0.4, 2.0],
        ];
        let mut f = a.clone();
        assert_eq!(ldl(&mut f, TOLER_CHOL), 3);
        let inv = ldl_inverse(&f);
        for i in 0..3 {
            for j in 0..3 {
                let s: f64 = (0..3).map(|k| a[i][k] * inv[k][j]).sum();
                assert!((s - if i == j { 1.0 } else { 0.0 }).abs() < 1e-12);
            }
        }
        let v = [1.0, -2.0, 0.5];
        let q = quad_form_inv(&a, &v);
        let direct: f64 = (0..3)
            .map(|i| (0..3).map(|j| v[i] * inv[i][j] * v[j]).sum::<f64>())
            .sum();
        assert!((q - direct).abs() < 1e-12);
    }

    #[test]
    fn singular_column_is_dropped() {
        // third column = first + second
        let a = vec![
            vec![2.0, 1.0, 3.0],
            vec![1.0, 2.0, 3.0],
            vec![3.0, 3.0, 6.0],
        ];
        let mut f = a.clone();
        assert_eq!(ldl(&mut f, TOLER_CHOL), 2);
        let inv = ldl_inverse(&f);
        assert_eq!(inv[2], vec![0.0, 0.0, 0.0]);
    }
}
