//! Step functions of the Kaplan–Meier and cumulative-incidence figures: the
//! cleaned curve ([`StepCurve`]), its envelope queries (used to place the
//! p-value where no curve passes), and the SVG paths of the curve and of its
//! stepped confidence band.
//!
//! Paths stay bounded at any n: a curve with more than [`EXACT_POINTS`]
//! points is drawn with the steps that fall within [`MERGE_PX`] pixels of
//! the previous drawn step merged into it (the drawn path stays within
//! that distance of the exact one; the band encloses the exact band), so a
//! path has at most about two points per `MERGE_PX` of plot width.

use std::fmt::Write as _;

use super::scale::LinearScale;
use super::svg::num;

/// One point of a step function: (time, estimate, lower, upper).
pub(crate) type StepPoint = (f64, f64, f64, f64);

/// Curves with at most this many points are drawn exactly, step by step.
pub(crate) const EXACT_POINTS: usize = 1000;

/// Horizontal resolution (pixels) at which the steps of longer curves are
/// merged.
pub(crate) const MERGE_PX: f64 = 0.5;

/// A cleaned, right-continuous step curve inside the x domain.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct StepCurve {
    /// Points sorted by time, starting at t = 0.
    pub pts: Vec<StepPoint>,
    /// Time where the drawn curve ends.
    pub end: f64,
    /// Value at t = 0 (1 for survival, 0 for incidence).
    pub origin: f64,
    /// Censor marks (time, value).
    pub censors: Vec<(f64, f64)>,
}

/// Finite, non-negative points of `(time, est)` with their limits (`limit`
/// maps a confidence limit to its drawn value; missing limits are NaN),
/// sorted by time (stable, so the order at a repeated time is kept).
pub(crate) fn collect_points(
    time: &[f64],
    est: &[f64],
    lower: &[f64],
    upper: &[f64],
    limit: fn(Option<&f64>) -> f64,
) -> Vec<StepPoint> {
    let len = time.len().min(est.len());
    let mut pts: Vec<StepPoint> = (0..len)
        .filter_map(|i| {
            let (t, v) = (time[i], est[i]);
            if !t.is_finite() || !v.is_finite() || t < 0.0 {
                return None;
            }
            Some((
                t,
                v.clamp(0.0, 1.0),
                limit(lower.get(i)),
                limit(upper.get(i)),
            ))
        })
        .collect();
    pts.sort_by(|a, b| a.0.total_cmp(&b.0));
    pts
}

impl StepCurve {
    /// A curve from sorted points: a `(0, origin)` point is added when the
    /// first point is after 0; the curve ends at `end` (at least the last
    /// point), both cut at a usable `x_max`.
    pub(crate) fn new(mut pts: Vec<StepPoint>, origin: f64, end: f64, x_max: Option<f64>) -> Self {
        if pts.first().is_none_or(|p| p.0 > 0.0) {
            pts.insert(0, (0.0, origin, origin, origin));
        }
        let mut end = pts.last().map_or(0.0, |p| p.0).max(end);
        if let Some(xm) = x_max.filter(|v| v.is_finite() && *v > 0.0) {
            pts.retain(|p| p.0 <= xm);
            end = end.min(xm);
        }
        StepCurve {
            pts,
            end,
            origin,
            censors: Vec::new(),
        }
    }

    /// Right-continuous value at `t` (the origin before the first point).
    pub(crate) fn value_at(&self, t: f64) -> f64 {
        match self.pts.partition_point(|p| p.0 <= t) {
            0 => self.origin,
            k => self.pts[k - 1].1,
        }
    }

    /// Lowest value (estimate or, with bands, lower limit) on `[0, t]`.
    pub(crate) fn low_to(&self, t: f64, with_ci: bool) -> f64 {
        self.to(t, |p| low(p, with_ci), f64::min)
    }

    /// Highest value (estimate or, with bands, upper limit) on `[0, t]`.
    pub(crate) fn high_to(&self, t: f64, with_ci: bool) -> f64 {
        self.to(t, |p| high(p, with_ci), f64::max)
    }

    /// Lowest value on `[t, end]`; `+inf` when the curve ends before `t`.
    pub(crate) fn low_from(&self, t: f64, with_ci: bool) -> f64 {
        self.from(t, |p| low(p, with_ci), f64::min, f64::INFINITY)
    }

    /// Highest value on `[t, end]`; `-inf` when the curve ends before `t`.
    pub(crate) fn high_from(&self, t: f64, with_ci: bool) -> f64 {
        self.from(t, |p| high(p, with_ci), f64::max, f64::NEG_INFINITY)
    }

    fn to(&self, t: f64, at: impl Fn(&StepPoint) -> f64, pick: fn(f64, f64) -> f64) -> f64 {
        self.pts
            .iter()
            .filter(|p| p.0 <= t && p.0 <= self.end)
            .map(at)
            .fold(self.origin, pick)
    }

    fn from(
        &self,
        t: f64,
        at: impl Fn(&StepPoint) -> f64,
        pick: fn(f64, f64) -> f64,
        none: f64,
    ) -> f64 {
        if t > self.end {
            return none;
        }
        // the value in force at t, then everything after it
        let start = self
            .pts
            .iter()
            .take_while(|p| p.0 <= t)
            .last()
            .map_or(self.origin, &at);
        self.pts
            .iter()
            .filter(|p| p.0 > t && p.0 <= self.end)
            .map(at)
            .fold(start, pick)
    }
}

fn low(p: &StepPoint, with_ci: bool) -> f64 {
    if with_ci && p.2.is_finite() {
        p.1.min(p.2)
    } else {
        p.1
    }
}

fn high(p: &StepPoint, with_ci: bool) -> f64 {
    if with_ci && p.3.is_finite() {
        p.1.max(p.3)
    } else {
        p.1
    }
}

/// Indices of the points drawn: all of them for short curves; for long
/// ones the first point of every run of points closer than [`MERGE_PX`]
/// (in pixels) to the run's start, with the run's last value carried by
/// the index of the run's last point.
fn drawn_runs(pts: &[StepPoint], x: &LinearScale) -> Vec<(usize, usize)> {
    if pts.len() <= EXACT_POINTS {
        return (0..pts.len()).map(|k| (k, k)).collect();
    }
    let mut runs: Vec<(usize, usize)> = Vec::new();
    let mut start_px = f64::NEG_INFINITY;
    for (k, p) in pts.iter().enumerate() {
        let px = x.map(p.0);
        match runs.last_mut() {
            Some(r) if px - start_px < MERGE_PX => r.1 = k,
            _ => {
                runs.push((k, k));
                start_px = px;
            }
        }
    }
    runs
}

/// SVG path of a right-continuous step function through `(t, value, _, _)`
/// points, extended flat to `end` (shared by the KM and CIF figures). A
/// run of merged points is drawn as one step at the run's first time to
/// the run's last value.
pub(crate) fn step_path(pts: &[StepPoint], end: f64, x: &LinearScale, y: &LinearScale) -> String {
    let mut d = String::new();
    let mut last_y = f64::NAN;
    for (k, (first, last)) in drawn_runs(pts, x).into_iter().enumerate() {
        let (px, py) = (x.map(pts[first].0), y.map(pts[last].1));
        if k == 0 {
            let _ = write!(d, "M{} {}", num(px), num(py));
        } else {
            let _ = write!(d, "H{}", num(px));
            if py != last_y {
                let _ = write!(d, "V{}", num(py));
            }
        }
        last_y = py;
    }
    let _ = write!(d, "H{}", num(x.map(end)));
    d
}

/// Stepped band polygons through the `(t, _, lower, upper)` limits, one per
/// run of finite limits (shared by the KM and CIF figures). Merged points
/// draw the widest limits of their run, so the band encloses the exact one.
pub(crate) fn step_bands(
    pts: &[StepPoint],
    end: f64,
    x: &LinearScale,
    y: &LinearScale,
) -> Vec<String> {
    // intervals [t_k, t_{k+1}) with their limits
    let mut runs: Vec<Vec<(f64, f64, f64, f64)>> = Vec::new();
    let mut cur: Vec<(f64, f64, f64, f64)> = Vec::new();
    let merged = drawn_runs(pts, x);
    for (k, &(first, last)) in merged.iter().enumerate() {
        let p = pts[first];
        let t1 = merged.get(k + 1).map_or(end, |q| pts[q.0].0).min(end);
        let (mut lo, mut hi) = (p.2.min(p.3), p.2.max(p.3));
        let mut finite = p.2.is_finite() && p.3.is_finite();
        for q in &pts[first + 1..=last] {
            finite &= q.2.is_finite() && q.3.is_finite();
            lo = lo.min(q.2.min(q.3));
            hi = hi.max(q.2.max(q.3));
        }
        if finite && t1 > p.0 {
            cur.push((p.0, t1, lo, hi));
        } else if !(cur.is_empty() || finite) {
            runs.push(std::mem::take(&mut cur));
        }
    }
    if !cur.is_empty() {
        runs.push(cur);
    }
    runs.iter().map(|run| band_polygon(run, x, y)).collect()
}

fn band_polygon(run: &[(f64, f64, f64, f64)], x: &LinearScale, y: &LinearScale) -> String {
    let mut d = String::new();
    for (k, iv) in run.iter().enumerate() {
        if k == 0 {
            let _ = write!(d, "M{} {}", num(x.map(iv.0)), num(y.map(iv.3)));
        } else {
            let _ = write!(d, "V{}", num(y.map(iv.3)));
        }
        let _ = write!(d, "H{}", num(x.map(iv.1)));
    }
    for iv in run.iter().rev() {
        let _ = write!(d, "V{}", num(y.map(iv.2)));
        let _ = write!(d, "H{}", num(x.map(iv.0)));
    }
    d.push('Z');
    d
}

/// Draws the bands (when `show_ci`) and then the curves, in palette order,
/// with `class` on every curve path.
pub(crate) fn draw_step_curves(
    doc: &mut super::svg::SvgDoc,
    style: &super::style::PlotStyle,
    curves: &[StepCurve],
    (x, y): (&LinearScale, &LinearScale),
    show_ci: bool,
    class: &str,
) {
    use super::style::{colour, dash};
    if show_ci {
        doc.open_group("ci-bands");
        for (i, c) in curves.iter().enumerate() {
            let col = colour(style, i);
            for d in step_bands(&c.pts, c.end, x, y) {
                doc.fill_path(&d, &col, style.ci_opacity.clamp(0.0, 1.0), "ci-band");
            }
        }
        doc.close_group();
    }
    doc.open_group("curves");
    for (i, c) in curves.iter().enumerate() {
        let col = colour(style, i);
        doc.path(
            &step_path(&c.pts, c.end, x, y),
            &super::svg::Stroke {
                color: &col,
                width: style.line_width.clamp(0.5, 5.0),
                dash: dash(style, i),
                class: Some(class),
            },
        );
    }
    doc.close_group();
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// Vertices of an `M x y (H x | V y)*` path.
    pub(crate) fn vertices(d: &str) -> Vec<(f64, f64)> {
        let mut out: Vec<(f64, f64)> = Vec::new();
        let mut cmd = ' ';
        let mut tok = String::new();
        let mut nums: Vec<f64> = Vec::new();
        let flush =
            |cmd: char, tok: &mut String, nums: &mut Vec<f64>, out: &mut Vec<(f64, f64)>| {
                if !tok.is_empty() {
                    nums.push(tok.parse().expect("number"));
                    tok.clear();
                }
                let last = out.last().copied().unwrap_or((0.0, 0.0));
                match (cmd, nums.as_slice()) {
                    ('M', [x, y]) => out.push((*x, *y)),
                    ('H', [x]) => out.push((*x, last.1)),
                    ('V', [y]) => out.push((last.0, *y)),
                    (' ', []) => {}
                    other => panic!("unexpected path piece {other:?}"),
                }
                nums.clear();
            };
        for ch in d.chars() {
            match ch {
                'M' | 'H' | 'V' => {
                    flush(cmd, &mut tok, &mut nums, &mut out);
                    cmd = ch;
                }
                ' ' => {
                    if !tok.is_empty() {
                        nums.push(tok.parse().expect("number"));
                        tok.clear();
                    }
                }
                _ => tok.push(ch),
            }
        }
        flush(cmd, &mut tok, &mut nums, &mut out);
        out
    }

    /// Right-continuous value at `x` of a step graph given by its corners
    /// (sorted by x; the last corner at or before x wins).
    fn value_at(corners: &[(f64, f64)], x: f64) -> f64 {
        match corners.partition_point(|c| c.0 <= x) {
            0 => corners[0].1,
            k => corners[k - 1].1,
        }
    }

    /// Largest horizontal distance (pixels, checked to `tol`) between the
    /// drawn path of a monotone step curve and the exact one: every drawn
    /// value at x lies between the exact values at x − tol and x + tol.
    pub(crate) fn assert_within_px(
        d: &str,
        pts: &[StepPoint],
        x: &LinearScale,
        y: &LinearScale,
        tol: f64,
    ) {
        let exact: Vec<(f64, f64)> = pts.iter().map(|p| (x.map(p.0), y.map(p.1))).collect();
        let drawn = vertices(d);
        let mut xs: Vec<f64> = drawn.iter().map(|v| v.0).collect();
        xs.extend(exact.iter().map(|v| v.0));
        for &px in &xs {
            let dv = value_at(&drawn, px);
            let (a, b) = (value_at(&exact, px - tol), value_at(&exact, px + tol));
            let (lo, hi) = (a.min(b) - 0.02, a.max(b) + 0.02);
            assert!(
                dv >= lo && dv <= hi,
                "at x = {px}: drawn {dv}, exact in [{lo}, {hi}]"
            );
        }
    }

    fn scales() -> (LinearScale, LinearScale) {
        let x = LinearScale {
            d0: 0.0,
            d1: 60.0,
            r0: 50.0,
            r1: 650.0,
        };
        let y = LinearScale {
            d0: 0.0,
            d1: 1.0,
            r0: 400.0,
            r1: 80.0,
        };
        (x, y)
    }

    /// A 10^5-point survival curve on [0, 60] with tied clusters.
    pub(crate) fn big_curve(n: usize, rising: bool) -> Vec<StepPoint> {
        (0..n)
            .map(|i| {
                let u = (i as f64 + 0.5) / n as f64;
                let t = 60.0 * u * u.sqrt(); // denser near 0
                let s = if rising { 0.8 * u } else { 1.0 - 0.9 * u };
                (t, s, (s - 0.05).max(0.0), (s + 0.05).min(1.0))
            })
            .collect()
    }

    #[test]
    fn long_curves_are_merged_within_half_a_pixel_and_stay_bounded() {
        let (x, y) = scales();
        for rising in [false, true] {
            let pts = big_curve(100_000, rising);
            let d = step_path(&pts, 60.0, &x, &y);
            assert!(
                vertices(&d).len() <= 2 * (600.0 / MERGE_PX) as usize + 4,
                "{}",
                vertices(&d).len()
            );
            assert!(d.len() < 40_000, "{}", d.len());
            assert_within_px(&d, &pts, &x, &y, MERGE_PX + 0.01);
            let bands = step_bands(&pts, 60.0, &x, &y);
            assert_eq!(bands.len(), 1);
            assert!(bands[0].len() < 40_000, "{}", bands[0].len());
        }
    }

    #[test]
    fn short_curves_are_drawn_step_by_step() {
        let (x, y) = scales();
        // 1000 points, some closer than a pixel: every step stays
        let pts = big_curve(EXACT_POINTS, false);
        let d = step_path(&pts, 60.0, &x, &y);
        assert_eq!(d.matches('H').count(), EXACT_POINTS); // one per later point and the end
        assert_within_px(&d, &pts, &x, &y, 0.01);
    }
}
