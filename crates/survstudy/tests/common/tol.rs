//! Named test tolerances (after statrs' `prec` module). Every comparison of
//! floating-point results in these tests uses one of them through
//! [`assert_close!`](crate::assert_close), which checks
//! `|got − want| ≤ tol · max(1, |want|)` (relative for large values,
//! absolute near zero) and prints got, want and the relative error.

/// Agreement with R survival's numbers (the project's contract).
#[allow(dead_code)]
pub const R_REL: f64 = 1e-6;

/// One quantity computed two ways by closed-form floating-point
/// arithmetic (a sum and its parts, 1 − S against the incidence): only
/// rounding differs.
#[allow(dead_code)]
pub const EXACT_ARITH: f64 = 1e-12;

/// One quantity computed two ways where one way accumulates over many
/// steps (area under a step curve, a one-term global test against its
/// term): rounding accumulates.
#[allow(dead_code)]
pub const ACCUMULATED: f64 = 1e-9;

/// `|got − want| ≤ tol · max(1, |want|)`, with a message that gives got,
/// want, the relative error and the tolerance's name.
#[macro_export]
macro_rules! assert_close {
    ($got:expr, $want:expr, $tol:expr) => {
        $crate::assert_close!($got, $want, $tol, "")
    };
    ($got:expr, $want:expr, $tol:expr, $($msg:tt)+) => {{
        let (got, want, tol): (f64, f64, f64) = ($got, $want, $tol);
        let err = (got - want).abs();
        assert!(
            err <= tol * want.abs().max(1.0),
            "got {got}, want {want}: |error| {err:e} (relative {:e}) > {} = {tol:e} {}",
            err / want.abs().max(f64::MIN_POSITIVE),
            stringify!($tol),
            format!($($msg)+)
        );
    }};
}
