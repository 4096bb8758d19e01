//! The `--json` documents of the ad-hoc commands as `Serialize` structs
//! (one per command), so the JSON contract is a type rather than literals.
//!
//! Field names are the documented ones. The documents are turned into a
//! [`serde_json::Value`] before printing ([`to_value`]), whose object keys
//! are sorted, so the printed bytes do not depend on the field order here.

use serde::Serialize;
use serde_json::Value;

/// A JSON number as the oracle writes it: NaN → `null`, ±∞ → `"Inf"` /
/// `"-Inf"`, else the number.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct JsonNum(pub f64);

impl Serialize for JsonNum {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let x = self.0;
        if x.is_nan() {
            s.serialize_none()
        } else if x == f64::INFINITY {
            s.serialize_str("Inf")
        } else if x == f64::NEG_INFINITY {
            s.serialize_str("-Inf")
        } else {
            s.serialize_f64(x)
        }
    }
}

/// Every value of `v` as a [`JsonNum`].
pub fn json_nums(v: &[f64]) -> Vec<JsonNum> {
    v.iter().copied().map(JsonNum).collect()
}

/// The document as a JSON value (object keys sorted). The documents hold
/// only strings, numbers and string-keyed maps, so this cannot fail; a
/// failure would give `null` rather than a panic.
pub fn to_value<T: Serialize>(doc: &T) -> Value {
    serde_json::to_value(doc).unwrap_or(Value::Null)
}

/// `survstudy zph --json`.
#[derive(Debug, Clone, Serialize)]
pub struct ZphJson<'a> {
    /// Always `"zph"`.
    pub command: &'static str,
    /// The conventions used.
    pub conventions: ZphConventions<'a>,
    /// Rows read.
    pub n_read: usize,
    /// Rows dropped (missing values).
    pub n_dropped: usize,
    /// One test per term, then `GLOBAL`.
    pub tests: Vec<ZphTestJson<'a>>,
    /// Transformed event times.
    pub time: Vec<JsonNum>,
    /// Transformed time at each event (R's `x`).
    pub x: Vec<JsonNum>,
    /// Names of the columns of `y`.
    pub y_columns: &'a [String],
    /// Scaled Schoenfeld residuals, one row per event.
    pub y: Vec<Vec<JsonNum>>,
}

/// Conventions of `zph`.
#[derive(Debug, Clone, Serialize)]
pub struct ZphConventions<'a> {
    /// Time transform, lower case (`km`, `rank`, `identity`, `log`).
    pub transform: String,
    /// Ties of the Cox fit.
    pub ties: &'a str,
    /// What the test is.
    pub test: &'static str,
}

/// One row of the zph test table.
#[derive(Debug, Clone, Serialize)]
pub struct ZphTestJson<'a> {
    /// Term name or `GLOBAL`.
    pub term: &'a str,
    /// Score statistic.
    pub chisq: JsonNum,
    /// Degrees of freedom.
    pub df: usize,
    /// p-value.
    pub p: JsonNum,
}

impl<'a> ZphTestJson<'a> {
    /// The row of one test, under the name `term`.
    pub fn new(t: &survkit::zph::ZphTest, term: &'a str) -> Self {
        ZphTestJson {
            term,
            chisq: JsonNum(t.chisq),
            df: t.df,
            p: JsonNum(t.p),
        }
    }
}

/// `survstudy logrank --json`.
#[derive(Debug, Clone, Serialize)]
pub struct LogrankJson<'a> {
    /// Always `"logrank"`.
    pub command: &'static str,
    /// The conventions used.
    pub conventions: LogrankConventions,
    /// Rows read.
    pub n_read: usize,
    /// Rows dropped (missing values).
    pub n_dropped: usize,
    /// `column=level` per group.
    pub groups: Vec<String>,
    /// Subjects per group.
    pub n: &'a [u64],
    /// Observed events per group.
    pub observed: Vec<JsonNum>,
    /// Expected events per group.
    pub expected: Vec<JsonNum>,
    /// Observed minus expected.
    pub o_minus_e: Vec<JsonNum>,
    /// Variance matrix of O − E.
    pub var: Vec<Vec<JsonNum>>,
    /// Test statistic.
    pub chisq: JsonNum,
    /// Degrees of freedom.
    pub df: usize,
    /// p-value.
    pub p: JsonNum,
    /// The ρ of the G(ρ) family.
    pub rho: f64,
    /// Strata levels (null without strata).
    pub strata: &'a Option<Vec<String>>,
    /// Input warnings.
    pub warnings: &'a [String],
}

/// Conventions of `logrank`.
#[derive(Debug, Clone, Serialize)]
pub struct LogrankConventions {
    /// Preset note (R and SAS agree).
    pub preset: &'static str,
    /// The ρ of the G(ρ) family.
    pub rho: f64,
    /// Which test.
    pub test: &'static str,
    /// How the statistic is formed.
    pub chisq: &'static str,
}
