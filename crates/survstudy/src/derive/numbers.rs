//! A number column: one `f64` per patient, a missing value held as NaN
//! (8 bytes a patient, against 16 for `Option<f64>`). A number read from
//! the input is always finite (`ingest::values::parse_number` rejects NaN
//! and the infinities), so NaN stands for nothing else.

use serde::{Serialize, Serializer};

/// Numbers per patient; `None` (missing) is held as NaN.
#[derive(Clone, Default)]
pub struct Numbers(Vec<f64>);

impl Numbers {
    /// Empty, with room for `n` values.
    pub fn with_capacity(n: usize) -> Numbers {
        Numbers(Vec::with_capacity(n))
    }
    /// Append a value (`None` = missing; a NaN also reads back as missing).
    pub fn push(&mut self, v: Option<f64>) {
        self.0.push(v.unwrap_or(f64::NAN));
    }
    /// Value `i` (`None` = missing).
    #[inline]
    pub fn get(&self, i: usize) -> Option<f64> {
        read(self.0[i])
    }
    /// Number of values.
    pub fn len(&self) -> usize {
        self.0.len()
    }
    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
    /// The values in order (`None` = missing).
    pub fn iter(&self) -> impl Iterator<Item = Option<f64>> + '_ {
        self.0.iter().map(|&v| read(v))
    }
    /// Append the values of `other`.
    pub fn extend(&mut self, other: Numbers) {
        self.0.extend(other.0);
    }
    /// Give back the room the growth left over.
    pub fn shrink_to_fit(&mut self) {
        self.0.shrink_to_fit();
    }
}

/// A held value as read: NaN is missing.
#[inline]
fn read(v: f64) -> Option<f64> {
    (!v.is_nan()).then_some(v)
}

impl FromIterator<Option<f64>> for Numbers {
    fn from_iter<I: IntoIterator<Item = Option<f64>>>(it: I) -> Numbers {
        Numbers(it.into_iter().map(|v| v.unwrap_or(f64::NAN)).collect())
    }
}

/// Equal when the same values are missing and the others are equal.
impl PartialEq for Numbers {
    fn eq(&self, o: &Numbers) -> bool {
        self.len() == o.len() && self.iter().eq(o.iter())
    }
}

impl std::fmt::Debug for Numbers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

/// As a list of numbers and nulls (as `Vec<Option<f64>>` serialises).
impl Serialize for Numbers {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.iter())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_values_read_back_as_none() {
        let v: Vec<Option<f64>> = vec![Some(1.5), None, Some(-0.0), Some(0.0), None];
        let mut n = Numbers::with_capacity(2);
        for &x in &v {
            n.push(x);
        }
        assert_eq!(n.iter().collect::<Vec<_>>(), v);
        assert_eq!((n.len(), n.get(1), n.get(2)), (5, None, Some(-0.0)));
        assert!(n.get(2).unwrap().is_sign_negative());
        let m: Numbers = v.iter().copied().collect();
        assert_eq!(m, n);
        assert_ne!(m, v[..4].iter().copied().collect::<Numbers>());
        assert_eq!(format!("{m:?}"), format!("{v:?}"));
        assert_eq!(
            serde_json::to_string(&m).unwrap(),
            serde_json::to_string(&v).unwrap()
        );
        let mut a: Numbers = v[..2].iter().copied().collect();
        a.extend(v[2..].iter().copied().collect());
        assert_eq!(a, m);
    }
}
