//! Axis scales and tick selection.

/// Rounds away binary noise (0.30000000000000004 -> 0.3).
fn clean(v: f64) -> f64 {
    let r = (v * 1e9).round() / 1e9;
    if r == 0.0 {
        0.0
    } else {
        r
    }
}

/// A "nice" step (1, 2 or 5 times a power of ten) such that `0..=max` is
/// covered by at most `target_count` intervals.
pub fn nice_step(max: f64, target_count: usize) -> f64 {
    step_from(max, target_count, &[1.0, 2.0, 5.0, 10.0])
}

fn step_from(max: f64, target_count: usize, mantissas: &[f64]) -> f64 {
    let target = target_count.max(1) as f64;
    if !max.is_finite() || max <= 0.0 {
        return 1.0;
    }
    let raw = max / target;
    let mag = 10f64.powf(raw.log10().floor());
    let norm = raw / mag;
    let m = mantissas
        .iter()
        .copied()
        .find(|&m| m >= norm - 1e-12)
        .unwrap_or(10.0);
    m * mag
}

/// Ticks `0, step, 2*step, ...` ending at the first multiple of a nice
/// step (see [`nice_step`]) that is `>= max`; about `target_count`
/// intervals. A non-finite or non-positive `max` gives `[0, 1]`.
pub fn nice_ticks(max: f64, target_count: usize) -> Vec<f64> {
    if !max.is_finite() || max <= 0.0 {
        return vec![0.0, 1.0];
    }
    let step = nice_step(max, target_count);
    ticks_with_step(max, step)
}

/// Ticks for a time axis in months: steps of 1, 2, 3, 6, 12, 24, 36, 48,
/// 60 ... months (multiples of 12 beyond a year), falling back to
/// [`nice_ticks`] for spans under a month.
pub(crate) fn month_ticks(max: f64, target_count: usize) -> Vec<f64> {
    if !max.is_finite() || max <= 0.0 {
        return vec![0.0, 1.0];
    }
    if max < 1.0 {
        return nice_ticks(max, target_count);
    }
    let target = target_count.max(1) as f64;
    let mut step = None;
    for s in [
        1.0, 2.0, 3.0, 6.0, 12.0, 24.0, 36.0, 48.0, 60.0, 120.0, 240.0,
    ] {
        if (max / s).ceil() <= target {
            step = Some(s);
            break;
        }
    }
    let step = step.unwrap_or_else(|| nice_step(max, target_count));
    ticks_with_step(max, step)
}

pub(crate) fn ticks_with_step(max: f64, step: f64) -> Vec<f64> {
    if !(step.is_finite() && step > 0.0 && max.is_finite() && max >= 0.0) {
        return vec![0.0, 1.0];
    }
    let n = ((max / step) - 1e-9).ceil().max(1.0) as usize;
    let n = n.min(1000);
    (0..=n).map(|i| clean(i as f64 * step)).collect()
}

/// Linear mapping from a data domain to an output range (pixels).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LinearScale {
    /// Data value mapped to `r0`.
    pub d0: f64,
    /// Data value mapped to `r1`.
    pub d1: f64,
    /// Output coordinate of `d0`.
    pub r0: f64,
    /// Output coordinate of `d1`.
    pub r1: f64,
}

impl LinearScale {
    /// Maps a data value (no clamping).
    pub fn map(&self, v: f64) -> f64 {
        if self.d1 == self.d0 {
            return self.r0;
        }
        self.r0 + (v - self.d0) / (self.d1 - self.d0) * (self.r1 - self.r0)
    }
}

/// Logarithmic mapping from a positive data domain to an output range.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LogScale {
    /// Data value mapped to `r0` (> 0).
    pub d0: f64,
    /// Data value mapped to `r1` (> 0).
    pub d1: f64,
    /// Output coordinate of `d0`.
    pub r0: f64,
    /// Output coordinate of `d1`.
    pub r1: f64,
}

impl LogScale {
    /// Maps a data value; values are clamped to the domain and non-positive
    /// or NaN values map to the lower end.
    pub fn map(&self, v: f64) -> f64 {
        let (lo, hi) = (self.d0.min(self.d1), self.d0.max(self.d1));
        let v = if v.is_nan() || v <= 0.0 {
            lo
        } else {
            v.clamp(lo, hi)
        };
        let (l0, l1) = (self.d0.ln(), self.d1.ln());
        if l1 == l0 || !l0.is_finite() || !l1.is_finite() {
            return self.r0;
        }
        self.r0 + (v.ln() - l0) / (l1 - l0) * (self.r1 - self.r0)
    }
}

/// Candidate ticks for a ratio axis, symmetric around 1 in log space:
/// ..., 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 4, 10, 20, 40, 100, ...
fn log_candidates() -> Vec<f64> {
    let mut up = vec![1.0];
    let mut k = 1.0;
    for _ in 0..4 {
        up.extend([2.0 * k, 4.0 * k, 10.0 * k]);
        k *= 10.0;
    }
    let mut all: Vec<f64> = up.iter().skip(1).map(|v| clean(1.0 / v)).collect();
    all.extend(up);
    all.sort_by(f64::total_cmp);
    all
}

/// Domain and ticks for a log-scale ratio axis covering `[lo, hi]` and 1.
/// The data range is limited to `[1e-4, 1e4]`; non-finite or non-positive
/// inputs are ignored. Returns `(domain_lo, domain_hi, ticks)`; the domain
/// ends are ticks. At most about 7 ticks are returned (every other candidate
/// is dropped, keeping 1, when the range is wide).
pub fn log_ticks(lo: f64, hi: f64) -> (f64, f64, Vec<f64>) {
    let lo = if lo.is_finite() && lo > 0.0 {
        lo.clamp(1e-4, 1.0)
    } else {
        1.0
    };
    let hi = if hi.is_finite() && hi > 0.0 {
        hi.clamp(1.0, 1e4)
    } else {
        1.0
    };
    let cands = log_candidates();
    let i_lo = cands
        .iter()
        .rposition(|&c| c <= lo * (1.0 + 1e-9))
        .unwrap_or(0);
    let i_hi = cands
        .iter()
        .position(|&c| c >= hi * (1.0 - 1e-9))
        .unwrap_or(cands.len() - 1);
    // Always at least one step either side of 1 for a readable axis.
    let i_one = cands.iter().position(|&c| c == 1.0).unwrap_or(0);
    let i_lo = i_lo.min(i_one.saturating_sub(1));
    let i_hi = i_hi.max((i_one + 1).min(cands.len() - 1));
    let mut ticks: Vec<f64> = cands[i_lo..=i_hi].to_vec();
    let mut stride = 1;
    while ticks.len().div_ceil(stride) > 7 {
        stride += 1;
    }
    if stride > 1 {
        // keep 1 and every stride-th candidate outwards; always keep ends
        ticks = cands[i_lo..=i_hi]
            .iter()
            .enumerate()
            .filter(|(k, _)| (i_lo + k).abs_diff(i_one) % stride == 0)
            .map(|(_, &v)| v)
            .collect();
    }
    let d0 = ticks.first().copied().unwrap_or(0.1).min(cands[i_lo]);
    let d1 = ticks.last().copied().unwrap_or(10.0).max(cands[i_hi]);
    if ticks.first() != Some(&d0) {
        ticks.insert(0, d0);
    }
    if ticks.last() != Some(&d1) {
        ticks.push(d1);
    }
    (d0, d1, ticks)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nice_ticks_cover_max_with_round_steps() {
        assert_eq!(nice_ticks(23.0, 5), vec![0.0, 5.0, 10.0, 15.0, 20.0, 25.0]);
        assert_eq!(nice_ticks(10.0, 5), vec![0.0, 2.0, 4.0, 6.0, 8.0, 10.0]);
        assert_eq!(nice_ticks(0.7, 4), vec![0.0, 0.2, 0.4, 0.6, 0.8]);
        assert_eq!(nice_ticks(0.0, 5), vec![0.0, 1.0]);
        assert_eq!(nice_ticks(f64::NAN, 5), vec![0.0, 1.0]);
        let t = nice_ticks(1234.0, 6);
        assert_eq!(t.first(), Some(&0.0));
        assert!(*t.last().unwrap() >= 1234.0);
        assert!(t.len() <= 8);
    }

    #[test]
    fn month_ticks_prefer_calendar_steps() {
        assert_eq!(
            month_ticks(34.0, 8),
            vec![0.0, 6.0, 12.0, 18.0, 24.0, 30.0, 36.0]
        );
        assert_eq!(month_ticks(11.0, 4), vec![0.0, 3.0, 6.0, 9.0, 12.0]);
        assert_eq!(
            month_ticks(70.0, 7),
            vec![0.0, 12.0, 24.0, 36.0, 48.0, 60.0, 72.0]
        );
        assert_eq!(month_ticks(0.5, 5), vec![0.0, 0.1, 0.2, 0.3, 0.4, 0.5]);
    }

    #[test]
    fn linear_scale_maps_ends() {
        let s = LinearScale {
            d0: 0.0,
            d1: 10.0,
            r0: 50.0,
            r1: 550.0,
        };
        assert_eq!(s.map(0.0), 50.0);
        assert_eq!(s.map(10.0), 550.0);
        assert_eq!(s.map(5.0), 300.0);
    }

    #[test]
    fn log_axis_mapping_is_symmetric_around_one() {
        let s = LogScale {
            d0: 0.25,
            d1: 4.0,
            r0: 0.0,
            r1: 400.0,
        };
        assert!((s.map(1.0) - 200.0).abs() < 1e-9);
        assert!((s.map(0.5) - 100.0).abs() < 1e-9);
        assert!((s.map(2.0) - 300.0).abs() < 1e-9);
        assert_eq!(s.map(100.0), 400.0);
        assert_eq!(s.map(-1.0), 0.0);
        assert_eq!(s.map(f64::NAN), 0.0);
    }

    #[test]
    fn log_ticks_are_journal_style() {
        let (d0, d1, t) = log_ticks(0.41, 1.6);
        assert_eq!((d0, d1), (0.25, 2.0));
        assert_eq!(t, vec![0.25, 0.5, 1.0, 2.0]);
        let (_, _, t) = log_ticks(0.12, 7.0);
        assert_eq!(t, vec![0.1, 0.25, 0.5, 1.0, 2.0, 4.0, 10.0]);
        // degenerate input still gives a usable axis around 1
        let (d0, d1, t) = log_ticks(f64::NAN, f64::INFINITY);
        assert_eq!((d0, d1), (0.5, 2.0));
        assert_eq!(t, vec![0.5, 1.0, 2.0]);
        // wide range is thinned but keeps 1 and the ends
        let (d0, d1, t) = log_ticks(0.003, 300.0);
        assert!(t.len() <= 9, "{t:?}");
        assert!(t.contains(&1.0));
        assert_eq!(t.first(), Some(&d0));
        assert_eq!(t.last(), Some(&d1));
        assert!(d0 <= 0.003 && d1 >= 300.0);
    }
}
