//! Step functions drawn as SVG paths: the curve and its stepped
//! confidence band (shared by the Kaplan–Meier and cumulative-incidence
//! figures).

use std::fmt::Write as _;

use super::scale::LinearScale;
use super::svg::num;

/// SVG path of a right-continuous step function through `(t, value, _, _)`
/// points, extended flat to `end` (shared by the KM and CIF figures).
pub(crate) fn step_path(
    pts: &[(f64, f64, f64, f64)],
    end: f64,
    x: &LinearScale,
    y: &LinearScale,
) -> String {
    let mut d = String::new();
    let mut last_y = f64::NAN;
    for (k, p) in pts.iter().enumerate() {
        let (px, py) = (x.map(p.0), y.map(p.1));
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
/// run of finite limits (shared by the KM and CIF figures).
pub(crate) fn step_bands(
    pts: &[(f64, f64, f64, f64)],
    end: f64,
    x: &LinearScale,
    y: &LinearScale,
) -> Vec<String> {
    // intervals [t_k, t_{k+1}) with their limits
    let mut runs: Vec<Vec<(f64, f64, f64, f64)>> = Vec::new();
    let mut cur: Vec<(f64, f64, f64, f64)> = Vec::new();
    for (k, p) in pts.iter().enumerate() {
        let t1 = pts.get(k + 1).map_or(end, |q| q.0).min(end);
        let finite = p.2.is_finite() && p.3.is_finite();
        if finite && t1 > p.0 {
            cur.push((p.0, t1, p.2.min(p.3), p.2.max(p.3)));
        } else if !(cur.is_empty() || finite) {
            runs.push(std::mem::take(&mut cur));
        }
    }
    if !cur.is_empty() {
        runs.push(cur);
    }
    runs.iter()
        .map(|run| {
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
        })
        .collect()
}
