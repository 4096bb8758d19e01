//! Distribution helpers on top of `statrs`.
//!
//! Upper tails are computed with survival functions (`sf`), never as
//! `1 - cdf`, so tiny p-values keep their precision (R: `pchisq(x, df,
//! lower.tail = FALSE)`, `pnorm(z, lower.tail = FALSE)`).

use statrs::distribution::{ChiSquared, ContinuousCDF, Normal};

fn std_normal() -> Normal {
    Normal::new(0.0, 1.0).expect("standard normal parameters are valid")
}

/// Upper tail of the chi-square distribution, `pchisq(x, df, lower.tail = FALSE)`.
/// Returns NaN for non-finite input or `df <= 0`.
pub fn chisq_sf(x: f64, df: f64) -> f64 {
    if x.is_nan() || df.is_nan() || df <= 0.0 {
        return f64::NAN;
    }
    if x <= 0.0 {
        return 1.0;
    }
    if x.is_infinite() {
        return 0.0;
    }
    ChiSquared::new(df).map(|d| d.sf(x)).unwrap_or(f64::NAN)
}

/// Upper tail of the standard normal, `pnorm(z, lower.tail = FALSE)`.
pub fn norm_sf(z: f64) -> f64 {
    if z.is_nan() {
        return f64::NAN;
    }
    std_normal().sf(z)
}

/// Lower tail of the standard normal, `pnorm(z)`.
pub fn norm_cdf(z: f64) -> f64 {
    if z.is_nan() {
        return f64::NAN;
    }
    std_normal().cdf(z)
}

/// Standard normal quantile, `qnorm(p)`.
pub fn norm_quantile(p: f64) -> f64 {
    if !(0.0..=1.0).contains(&p) {
        return f64::NAN;
    }
    std_normal().inverse_cdf(p)
}

/// Two-sided normal critical value for a confidence level, `qnorm(1 - (1 - level)/2)`.
pub fn z_for_level(level: f64) -> f64 {
    norm_quantile(1.0 - (1.0 - level) / 2.0)
}

/// Two-sided p-value of a z statistic computed as R's coxph does:
/// `pchisq(z^2, 1, lower.tail = FALSE)`.
pub fn two_sided_p(z: f64) -> f64 {
    chisq_sf(z * z, 1.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_values() {
        // qnorm(0.975) = 1.959963984540054
        assert!((z_for_level(0.95) - 1.959963984540054).abs() < 1e-12);
        // pchisq(3.84, 1, lower = FALSE) = 0.05004352124870519
        assert!((chisq_sf(3.84, 1.0) - 0.05004352124870519).abs() < 1e-12);
        // pnorm(10, lower = FALSE) = 7.619853024160527e-24: relative precision kept
        assert!((norm_sf(10.0) / 7.619853024160527e-24 - 1.0).abs() < 1e-8);
        assert_eq!(chisq_sf(0.0, 2.0), 1.0);
        assert!(chisq_sf(1.0, 0.0).is_nan());
    }
}
