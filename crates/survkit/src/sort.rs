//! Stable LSD radix sort of `(key, index)` pairs by key — O(n) passes over
//! the data, skipping digits that are equal for every key (integer-day times
//! use only a few of the 64 bits), so sorting 10^6 rows takes a few ms.
//!
//! Large inputs use both cores: each pass counts digits of the two halves of
//! the data on their own thread, and each thread scatters its half into its
//! own share of every bucket (first half before second half, so the sort
//! stays stable). The order produced is the sequential one exactly.
//!
//! Keys with few distinct values (times in months of whole days: a few
//! thousand distinct values among 10^6 rows, every mantissa bit varying, so
//! six radix passes) are sorted by rank instead: one pass numbers the
//! distinct keys through a small hash table, the distinct keys are sorted,
//! and one counting pass and one stable scatter place the rows. A stable
//! sort's order is unique, so both paths give the same result; past
//! n/16 distinct keys (at most 2^16) the rank pass gives up and the radix sort
//! runs.

use crate::par::{join, MIN_PAR};

/// Order-preserving map of a finite f64 (any sign; −0 = +0) to u64, for
/// radix sorting.
#[inline]
pub(crate) fn f64_key(x: f64) -> u64 {
    total_key(x + 0.0)
}

/// Inverse of [`f64_key`].
#[inline]
pub(crate) fn f64_from_key(k: u64) -> f64 {
    if k >> 63 == 1 {
        f64::from_bits(k & !(1 << 63))
    } else {
        f64::from_bits(!k)
    }
}

/// Key of `x` whose unsigned order is [`f64::total_cmp`]'s (so a stable
/// sort by it orders exactly as a stable `sort_by(total_cmp)`).
#[inline]
fn total_key(x: f64) -> u64 {
    let b = x.to_bits();
    if b >> 63 == 1 {
        !b
    } else {
        b | (1 << 63)
    }
}

/// Indices `0..n` stably sorted by `v[i].total_cmp`: the permutation of
/// `idx.sort_by(|&a, &b| v[a].total_cmp(&v[b]))`, without comparisons.
pub(crate) fn order_by_total(v: &[f64]) -> Vec<usize> {
    if v.len() > u32::MAX as usize {
        // more rows than u32 indices: the comparison sort (same order)
        let mut idx: Vec<usize> = (0..v.len()).collect();
        idx.sort_by(|&a, &b| v[a].total_cmp(&v[b]));
        return idx;
    }
    let mut keyed: Vec<(u64, u32)> = v
        .iter()
        .enumerate()
        .map(|(i, &t)| (total_key(t), i as u32))
        .collect();
    radix_sort_pairs(&mut keyed);
    keyed.into_iter().map(|(_, i)| i as usize).collect()
}

const BITS: u32 = 11;
const BUCKETS: usize = 1 << BITS;

/// Sort `v` by `.0` ascending, stably.
pub fn radix_sort_pairs(v: &mut Vec<(u64, u32)>) {
    radix_sort_by_key(v, |p| p.0);
}

/// Sort `v` by `key` ascending, stably.
pub fn radix_sort_by_key<T, F>(v: &mut Vec<T>, key: F)
where
    T: Copy + Default + Send + Sync,
    F: Fn(&T) -> u64 + Sync,
{
    let n = v.len();
    if n < 256 {
        v.sort_by_key(&key);
        return;
    }
    if rank_sort(v, &key) {
        return;
    }
    let par = n >= MIN_PAR;
    let h = n / 2;
    let bits = |s: &[T]| {
        s.iter().fold((0u64, u64::MAX), |(or, and), p| {
            let k = key(p);
            (or | k, and & k)
        })
    };
    let ((or_a, and_a), (or_b, and_b)) = join(par, || bits(&v[..h]), || bits(&v[h..]));
    let varying = (or_a | or_b) ^ (and_a & and_b);
    let mut buf: Vec<T> = vec![T::default(); n];
    let mut shift = 0u32;
    while shift < 64 {
        let mask = ((BUCKETS as u64) - 1) << shift;
        if varying & mask != 0 {
            let digit = |p: &T| ((key(p) >> shift) as usize) & (BUCKETS - 1);
            let count = |s: &[T]| {
                let mut c = vec![0usize; BUCKETS];
                for p in s {
                    c[digit(p)] += 1;
                }
                c
            };
            let (ca, cb) = join(par, || count(&v[..h]), || count(&v[h..]));
            // each half's share of every bucket, in output order
            let mut rest: &mut [T] = &mut buf;
            let mut out_a: Vec<std::slice::IterMut<T>> = Vec::with_capacity(BUCKETS);
            let mut out_b: Vec<std::slice::IterMut<T>> = Vec::with_capacity(BUCKETS);
            for d in 0..BUCKETS {
                let (a, r) = std::mem::take(&mut rest).split_at_mut(ca[d]);
                let (b, r) = r.split_at_mut(cb[d]);
                out_a.push(a.iter_mut());
                out_b.push(b.iter_mut());
                rest = r;
            }
            let scatter = |s: &[T], mut out: Vec<std::slice::IterMut<T>>| {
                for p in s {
                    *out[digit(p)].next().expect("bucket sized by its count") = *p;
                }
            };
            join(par, || scatter(&v[..h], out_a), || scatter(&v[h..], out_b));
            std::mem::swap(v, &mut buf);
        }
        shift += BITS;
    }
}

/// Most distinct keys the rank sort takes for `n` items: past n/16 the
/// radix passes are as cheap, and the table stays small (≤ 2^17 slots).
fn max_distinct(n: usize) -> usize {
    (n / 16).clamp(16, 1 << 16)
}

/// Whether `ok` holds for every value: `v.iter().all(ok)`, 8 values at a
/// time without a branch per value (the checks vectorise; a scan of 10^6
/// values costs a fraction of the short-circuiting loop's).
#[inline]
pub(crate) fn all_of(v: &[f64], ok: impl Fn(f64) -> bool) -> bool {
    let mut chunks = v.chunks_exact(8);
    chunks.all(|ch| ch.iter().fold(true, |a, &x| a & ok(x)))
        && chunks.remainder().iter().all(|&x| ok(x))
}

/// The distinct keys seen so far, numbered in order of first appearance
/// (open addressing, (key, id) per slot, load ≤ 1/2), up to a limit.
pub(crate) struct KeyTable {
    bits: u32,
    table: Vec<(u64, u32)>,
    distinct: Vec<u64>,
    limit: usize,
    last: (u64, u32),
}

impl KeyTable {
    const EMPTY: u32 = u32::MAX;

    pub(crate) fn new(limit: usize) -> KeyTable {
        KeyTable {
            bits: 6,
            table: vec![(0, Self::EMPTY); 1 << 6],
            distinct: Vec::new(),
            limit,
            last: (0, Self::EMPTY),
        }
    }

    fn slot(&self, k: u64) -> usize {
        (k.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> (64 - self.bits)) as usize
    }

    /// The number of key `k`; `None` when it would be a new key past the
    /// limit.
    #[inline]
    pub(crate) fn id_of(&mut self, k: u64) -> Option<u32> {
        if self.last.1 != Self::EMPTY && self.last.0 == k {
            // runs of one key (sorted or grouped input) skip the table
            return Some(self.last.1);
        }
        let mask = self.table.len() - 1;
        let mut s = self.slot(k);
        let id = loop {
            match self.table[s] {
                (_, Self::EMPTY) => break self.insert(s, k)?,
                (key, id) if key == k => break id,
                _ => s = (s + 1) & mask,
            }
        };
        self.last = (k, id);
        Some(id)
    }

    /// Number of distinct keys seen.
    pub(crate) fn len(&self) -> usize {
        self.distinct.len()
    }

    fn insert(&mut self, s: usize, k: u64) -> Option<u32> {
        if self.distinct.len() == self.limit {
            return None;
        }
        let id = self.distinct.len() as u32;
        self.table[s] = (k, id);
        self.distinct.push(k);
        if 2 * self.distinct.len() > self.table.len() {
            self.bits += 1;
            self.table = vec![(0, Self::EMPTY); 1 << self.bits];
            let mask = self.table.len() - 1;
            for (j, &d) in self.distinct.iter().enumerate() {
                let mut s = self.slot(d);
                while self.table[s].1 != Self::EMPTY {
                    s = (s + 1) & mask;
                }
                self.table[s] = (d, j as u32);
            }
        }
        Some(id)
    }
}

/// The distinct values of `keys` in increasing order: a hash pass when
/// they are few (no sort of all `n` keys), else a radix sort.
/// `keys` yields about `n` keys; they are collected into a vector only
/// when they are many.
pub(crate) fn sorted_distinct_of(n: usize, keys: impl Iterator<Item = u64> + Clone) -> Vec<u64> {
    let mut t = KeyTable::new(max_distinct(n));
    if keys.clone().all(|k| t.id_of(k).is_some()) {
        let mut d = t.distinct;
        d.sort_unstable();
        d
    } else {
        let mut keys: Vec<u64> = keys.collect();
        radix_sort_by_key(&mut keys, |&k| k);
        keys.dedup();
        keys
    }
}

/// For `n` items with keys `key(i)` (`None`: no key): the distinct keys in
/// increasing order and each item's rank among them (`u32::MAX` for an item
/// without a key); `None` when there are more than `limit` distinct keys.
pub(crate) fn dense_ranks(
    n: usize,
    limit: usize,
    key: impl Fn(usize) -> Option<u64>,
) -> Option<(Vec<u64>, Vec<u32>)> {
    let mut t = KeyTable::new(limit);
    let mut ids: Vec<u32> = Vec::with_capacity(n);
    for i in 0..n {
        ids.push(match key(i) {
            Some(k) => t.id_of(k)?,
            None => u32::MAX,
        });
    }
    let distinct = t.distinct;
    let mut order: Vec<u32> = (0..distinct.len() as u32).collect();
    order.sort_unstable_by_key(|&i| distinct[i as usize]);
    let mut rank = vec![0u32; distinct.len()];
    for (r, &i) in order.iter().enumerate() {
        rank[i as usize] = r as u32;
    }
    ids.iter_mut()
        .filter(|id| **id != u32::MAX)
        .for_each(|id| *id = rank[*id as usize]);
    Some((order.iter().map(|&i| distinct[i as usize]).collect(), ids))
}

/// Stable sort of `v` by `key` through the ranks of its distinct keys
/// ([`dense_ranks`]) and one stable scatter; `false` (and `v` untouched)
/// when `v` has more than [`max_distinct`] distinct keys.
fn rank_sort<T, F>(v: &mut Vec<T>, key: &F) -> bool
where
    T: Copy + Default,
    F: Fn(&T) -> u64,
{
    let n = v.len();
    let Some((distinct, rank)) = dense_ranks(n, max_distinct(n), |i| Some(key(&v[i]))) else {
        return false;
    };
    let out = scatter_by_rank(
        v.iter().copied().zip(rank.iter().map(|&r| r as usize)),
        distinct.len(),
    );
    *v = out;
    true
}

/// The items of `ranked` (item, rank below `ranks`) in rank order, items
/// of one rank in the order given: a counting sort, two passes over
/// `ranked` (which must yield the same items both times).
pub(crate) fn scatter_by_rank<T: Copy + Default>(
    ranked: impl Iterator<Item = (T, usize)> + Clone,
    ranks: usize,
) -> Vec<T> {
    // where each rank's items start
    let mut next = vec![0usize; ranks + 1];
    for (_, r) in ranked.clone() {
        next[r + 1] += 1;
    }
    for r in 1..next.len() {
        next[r] += next[r - 1];
    }
    let mut out = vec![T::default(); next[ranks]];
    for (x, r) in ranked {
        let s = &mut next[r];
        out[*s] = x;
        *s += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn f64_keys_keep_order_and_invert() {
        let v = [-2.5, -1e-300, -0.0, 0.0, 1e-300, 3.0, f64::MAX];
        let k: Vec<u64> = v.iter().map(|&x| f64_key(x)).collect();
        assert!(k.windows(2).all(|w| w[0] <= w[1]));
        assert_eq!(k[2], k[3], "-0 and +0 are one key");
        for x in v {
            assert_eq!(f64_from_key(f64_key(x)), x + 0.0);
        }
    }

    #[test]
    fn sorts_stably_like_std() {
        let mut state = 12345u64;
        let mut next = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        for n in [0usize, 5, 300, 5000, 100_000] {
            let mut v: Vec<(u64, u32)> = (0..n as u32)
                .map(|i| (next() % 1000 * 0x1_0000_0001, i))
                .collect();
            let mut w = v.clone();
            radix_sort_pairs(&mut v);
            w.sort_by_key(|p| p.0);
            assert_eq!(v, w);
        }
    }

    #[test]
    fn order_by_total_is_std_stable_sort_by_total_cmp() {
        let v = [
            3.0,
            -0.0,
            0.0,
            f64::NAN,
            -1.5,
            3.0,
            f64::INFINITY,
            -f64::NAN,
            0.0,
            -0.0,
        ];
        let mut want: Vec<usize> = (0..v.len()).collect();
        want.sort_by(|&a, &b| v[a].total_cmp(&v[b]));
        assert_eq!(order_by_total(&v), want);
        let big: Vec<f64> = (0..5000)
            .map(|i| ((i * 7919) % 613) as f64 / 30.4375)
            .collect();
        let mut want: Vec<usize> = (0..big.len()).collect();
        want.sort_by(|&a, &b| big[a].total_cmp(&big[b]));
        assert_eq!(order_by_total(&big), want);
    }

    #[test]
    fn rank_and_radix_paths_agree_with_std() {
        let mut state = 777u64;
        let mut next = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        // months of whole days (few distinct, all mantissa bits vary), at,
        // just past and far past the rank sort's limit of distinct keys
        for (n, distinct) in [
            (300usize, 5u64),
            (5000, 3000),
            (100_000, 2000),
            (100_000, max_distinct(100_000) as u64),
            (100_000, max_distinct(100_000) as u64 + 1),
            (100_000, 1 << 40),
        ] {
            let v: Vec<(u64, u32)> = (0..n as u32)
                .map(|i| (f64_key((next() % distinct) as f64 / 30.4375), i))
                .collect();
            let mut w = v.clone();
            w.sort_by_key(|p| p.0);
            let mut a = v.clone();
            radix_sort_pairs(&mut a);
            assert_eq!(a, w, "n {n}, {distinct} distinct");
            let mut b = v.clone();
            let took = rank_sort(&mut b, &|p: &(u64, u32)| p.0);
            let d = {
                let mut k: Vec<u64> = v.iter().map(|p| p.0).collect();
                k.sort_unstable();
                k.dedup();
                k.len()
            };
            assert_eq!(took, d <= max_distinct(n), "n {n}, {d} distinct");
            assert_eq!(
                b,
                if took { w } else { v.clone() },
                "n {n}, {distinct} distinct"
            );
            let keys: Vec<u64> = v.iter().map(|p| p.0).collect();
            let mut all = keys.clone();
            all.sort_unstable();
            all.dedup();
            assert_eq!(
                sorted_distinct_of(keys.len(), keys.iter().copied()),
                all,
                "n {n}, {distinct} distinct"
            );
        }
    }
}
