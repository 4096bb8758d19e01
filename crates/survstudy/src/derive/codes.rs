//! Per-patient codes into a small table, one byte each while every code
//! fits in a byte, four bytes otherwise.
//!
//! A grouping or a category column has a handful of labels, so its codes
//! fit in a byte; a free-text column can have a distinct label per
//! patient. At 10^7 patients the nine groupings of the built-in plan held
//! 360 MB of `u32` codes; one byte each they hold 90 MB.

/// Codes in patient order, narrow (`u8`) until a code above 255 is stored.
#[derive(Debug, Clone)]
pub enum Codes {
    /// Every code is at most 255.
    Narrow(Vec<u8>),
    /// Some code is above 255.
    Wide(Vec<u32>),
}

impl Default for Codes {
    fn default() -> Self {
        Codes::Narrow(Vec::new())
    }
}

impl PartialEq for Codes {
    /// Equal codes in the same order, whatever the width.
    fn eq(&self, o: &Codes) -> bool {
        self.len() == o.len() && self.iter().eq(o.iter())
    }
}

impl From<Vec<u32>> for Codes {
    /// Narrowed when every code fits in a byte.
    fn from(v: Vec<u32>) -> Codes {
        if v.iter().all(|&c| c <= u32::from(u8::MAX)) {
            Codes::Narrow(v.into_iter().map(|c| c as u8).collect())
        } else {
            Codes::Wide(v)
        }
    }
}

impl FromIterator<u32> for Codes {
    fn from_iter<I: IntoIterator<Item = u32>>(it: I) -> Codes {
        let it = it.into_iter();
        let mut c = Codes::with_capacity(it.size_hint().0);
        for x in it {
            c.push(x);
        }
        c
    }
}

impl Codes {
    /// Empty, with room for `n` narrow codes.
    pub fn with_capacity(n: usize) -> Codes {
        Codes::Narrow(Vec::with_capacity(n))
    }

    /// Give back the room the growth left over.
    pub fn shrink_to_fit(&mut self) {
        match self {
            Codes::Narrow(v) => v.shrink_to_fit(),
            Codes::Wide(v) => v.shrink_to_fit(),
        }
    }

    /// Number of codes.
    pub fn len(&self) -> usize {
        match self {
            Codes::Narrow(v) => v.len(),
            Codes::Wide(v) => v.len(),
        }
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Code `i` (panics past the end, as a slice does).
    #[inline]
    pub fn get(&self, i: usize) -> u32 {
        match self {
            Codes::Narrow(v) => u32::from(v[i]),
            Codes::Wide(v) => v[i],
        }
    }

    /// Append `c`, widening every code when `c` does not fit in a byte.
    pub fn push(&mut self, c: u32) {
        match self {
            Codes::Narrow(v) => match u8::try_from(c) {
                Ok(b) => v.push(b),
                Err(_) => {
                    let mut w: Vec<u32> = Vec::with_capacity(v.capacity().max(v.len() + 1));
                    w.extend(v.iter().map(|&b| u32::from(b)));
                    w.push(c);
                    *self = Codes::Wide(w);
                }
            },
            Codes::Wide(v) => v.push(c),
        }
    }

    /// Append every code of `it`.
    pub fn extend(&mut self, it: impl IntoIterator<Item = u32>) {
        for c in it {
            self.push(c);
        }
    }

    /// The codes in order.
    pub fn iter(&self) -> CodesIter<'_> {
        match self {
            Codes::Narrow(v) => CodesIter::Narrow(v.iter()),
            Codes::Wide(v) => CodesIter::Wide(v.iter()),
        }
    }

    /// Whether `self` and `o` are the same codes in memory (not only equal).
    pub fn same_buffer(&self, o: &Codes) -> bool {
        match (self, o) {
            (Codes::Narrow(a), Codes::Narrow(b)) => a.as_ptr() == b.as_ptr(),
            (Codes::Wide(a), Codes::Wide(b)) => a.as_ptr() == b.as_ptr(),
            _ => false,
        }
    }

    /// Bytes held per code (1 or 4).
    pub fn width(&self) -> usize {
        match self {
            Codes::Narrow(_) => 1,
            Codes::Wide(_) => 4,
        }
    }
}

/// The codes of a [`Codes`] in order, as `u32`.
#[derive(Clone)]
pub enum CodesIter<'a> {
    /// Over narrow codes.
    Narrow(std::slice::Iter<'a, u8>),
    /// Over wide codes.
    Wide(std::slice::Iter<'a, u32>),
}

impl Iterator for CodesIter<'_> {
    type Item = u32;
    #[inline]
    fn next(&mut self) -> Option<u32> {
        match self {
            CodesIter::Narrow(i) => i.next().map(|&b| u32::from(b)),
            CodesIter::Wide(i) => i.next().copied(),
        }
    }
    fn size_hint(&self) -> (usize, Option<usize>) {
        match self {
            CodesIter::Narrow(i) => i.size_hint(),
            CodesIter::Wide(i) => i.size_hint(),
        }
    }
    fn fold<B, F: FnMut(B, u32) -> B>(self, init: B, mut f: F) -> B {
        match self {
            CodesIter::Narrow(i) => i.fold(init, |a, &b| f(a, u32::from(b))),
            CodesIter::Wide(i) => i.fold(init, |a, &c| f(a, c)),
        }
    }
}

impl ExactSizeIterator for CodesIter<'_> {}

impl DoubleEndedIterator for CodesIter<'_> {
    fn next_back(&mut self) -> Option<u32> {
        match self {
            CodesIter::Narrow(i) => i.next_back().map(|&b| u32::from(b)),
            CodesIter::Wide(i) => i.next_back().copied(),
        }
    }
}

impl<'a> IntoIterator for &'a Codes {
    type Item = u32;
    type IntoIter = CodesIter<'a>;
    fn into_iter(self) -> CodesIter<'a> {
        self.iter()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn narrow_until_a_code_needs_more_than_a_byte() {
        let mut c = Codes::with_capacity(4);
        c.extend([0, 3, 255]);
        assert_eq!(c.width(), 1);
        c.push(256);
        assert_eq!(c.width(), 4);
        assert_eq!(c.iter().collect::<Vec<_>>(), vec![0, 3, 255, 256]);
        assert_eq!((c.get(2), c.get(3), c.len()), (255, 256, 4));
        assert_eq!(c.iter().next_back(), Some(256));
        // equal whatever the width
        assert_eq!(Codes::from(vec![1, 2]), Codes::Wide(vec![1, 2]));
        assert_eq!(Codes::from(vec![1, 2]).width(), 1);
        assert_eq!(Codes::from(vec![1, 300]).width(), 4);
        assert_ne!(Codes::from(vec![1, 2]), Codes::from(vec![2, 1]));
    }

    #[test]
    fn collected_codes_widen_or_stay_narrow_as_the_codes_need() {
        // as `LabelColumn::from_codes` remaps a column's codes
        let c: Codes = [0u32, 1, 2].iter().map(|&x| x * 200).collect();
        assert_eq!(
            (c.width(), c.iter().collect::<Vec<_>>()),
            (4, vec![0, 200, 400])
        );
        let c: Codes = c.iter().map(|x| x / 200).collect();
        assert_eq!(
            (c.width(), c.iter().collect::<Vec<_>>()),
            (1, vec![0, 1, 2])
        );
        let sum: u32 = c.iter().sum();
        assert_eq!(sum, 3);
    }
}
