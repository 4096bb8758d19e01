//! Typed errors of the statistics engine. Every variant carries the context
//! needed to name the offending observation (index, value).

use thiserror::Error;

/// Errors raised by survkit estimators.
#[derive(Debug, Error, Clone, PartialEq)]
pub enum SurvError {
    /// Input slices of different lengths.
    #[error("length mismatch: {what} has {got} values, expected {expected}")]
    LengthMismatch {
        /// Name of the offending input.
        what: &'static str,
        /// Its length.
        got: usize,
        /// The length it must have.
        expected: usize,
    },
    /// A time that is negative, NaN or infinite.
    #[error("invalid time at observation {index}: {value} (times must be finite and >= 0)")]
    InvalidTime {
        /// 0-based observation index.
        index: usize,
        /// The offending time.
        value: f64,
    },
    /// A covariate value that is NaN or infinite.
    #[error("invalid value in {what} at observation {index}: {value}")]
    InvalidValue {
        /// Name of the covariate.
        what: String,
        /// 0-based observation index.
        index: usize,
        /// The offending value.
        value: f64,
    },
    /// No observations to analyse.
    #[error("no observations to analyse")]
    Empty,
    /// An option outside its domain (e.g. confidence level 1.5).
    #[error("invalid option {name}: {message}")]
    InvalidOption {
        /// Option name.
        name: &'static str,
        /// Why the value is rejected.
        message: String,
    },
    /// A test that needs at least two groups got fewer.
    #[error("need at least two groups with observations, found {0}")]
    TooFewGroups(usize),
    /// A contingency table that cannot be analysed (ragged rows, fewer than
    /// two rows/columns, a zero margin where the test needs positive margins).
    #[error("invalid contingency table: {message}")]
    InvalidTable {
        /// What is wrong with the table.
        message: String,
    },
    /// An exact computation whose work would exceed the configured budget
    /// (returned instead of hanging on a combinatorial blow-up).
    #[error(
        "{what}: exact computation too large (more than {limit} steps); use an asymptotic test"
    )]
    TooLarge {
        /// The computation that was refused.
        what: &'static str,
        /// The work budget (steps) it would exceed.
        limit: u64,
    },
    /// The data leave the statistic undefined (e.g. zero variance because all
    /// values are tied).
    #[error("{what}: {message}")]
    Degenerate {
        /// The statistic that is undefined.
        what: &'static str,
        /// Why it is undefined.
        message: String,
    },
}

/// Result alias for survkit.
pub type Result<T> = std::result::Result<T, SurvError>;

/// Check that all slices have `n` elements.
pub(crate) fn check_len(what: &'static str, got: usize, expected: usize) -> Result<()> {
    if got != expected {
        return Err(SurvError::LengthMismatch {
            what,
            got,
            expected,
        });
    }
    Ok(())
}

/// Check that every time is finite and non-negative.
pub(crate) fn check_times(time: &[f64]) -> Result<()> {
    if crate::sort::all_of(time, |t| t.is_finite() & (t >= 0.0)) {
        return Ok(());
    }
    for (index, &value) in time.iter().enumerate() {
        if !value.is_finite() || value < 0.0 {
            return Err(SurvError::InvalidTime { index, value });
        }
    }
    Ok(())
}
