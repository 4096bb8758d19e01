//! Look of the figures: [`PlotStyle`] (sizes, palette, line styles, ticks,
//! y scale, p-value placement) and the guards that turn an unusable style
//! value into its default.

use crate::report::{LINE_DASHES, OKABE_ITO};

/// How the x-axis ticks (and so the number-at-risk columns) are chosen.
#[derive(Debug, Clone, Default, PartialEq)]
pub enum TickSpec {
    /// Calendar-friendly month steps (1, 2, 3, 6, 12, 24 …) for about
    /// [`PlotStyle::x_tick_target`] intervals.
    #[default]
    Months,
    /// 1-2-5 steps for about [`PlotStyle::x_tick_target`] intervals.
    Nice,
    /// A fixed step from 0.
    Step(f64),
    /// Exactly these ticks (non-negative, sorted on use). The axis ends at
    /// the last one.
    Fixed(Vec<f64>),
}

/// Scale of the y axis.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum YScale {
    /// 0%–100%.
    #[default]
    Percent,
    /// 0.0–1.0.
    Proportion,
}

/// Where the p-value text goes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum PValuePlacement {
    /// Bottom-left inside the plot if no curve, band or censor mark passes
    /// there, else top-right inside the plot if that is free, else on a line
    /// of its own under the legend.
    #[default]
    Auto,
    /// Always bottom-left inside the plot.
    BottomLeft,
    /// Always top-right inside the plot.
    TopRight,
    /// Always on a line of its own under the legend (never overlaps).
    Legend,
}

/// Look of a Kaplan–Meier figure.
#[derive(Debug, Clone, PartialEq)]
pub struct PlotStyle {
    /// Total width in CSS pixels (96 per inch): 672 = 7 in.
    pub width: f64,
    /// Height of the plotting area alone.
    pub plot_height: f64,
    /// Base font size (tick labels, legend, risk table).
    pub font_size: f64,
    /// Y axis in percent or as a proportion.
    pub y_scale: YScale,
    /// Curve colours, cycled (default: Okabe–Ito).
    pub palette: Vec<String>,
    /// Vary the dash pattern between groups (solid, dashed, dotted,
    /// dash-dot) so the figure reads in greyscale.
    pub vary_line_styles: bool,
    /// Curve stroke width.
    pub line_width: f64,
    /// Opacity of CI bands.
    pub ci_opacity: f64,
    /// Half-size of a censor `+` mark.
    pub censor_size: f64,
    /// Target number of x intervals for automatic ticks.
    pub x_tick_target: usize,
    /// Small-cell suppression of the number-at-risk figures and of the
    /// legend's N and events (see [`suppress`](crate::report::text::suppress)).
    pub suppress_below: Option<u64>,
    /// Where the p-value goes.
    pub pvalue_placement: PValuePlacement,
    /// Heading of the number-at-risk table ("Number at risk"; weighted
    /// curves say what their numbers are).
    pub risk_table_title: String,
}

impl Default for PlotStyle {
    fn default() -> Self {
        PlotStyle {
            width: 672.0,
            plot_height: 320.0,
            font_size: 11.0,
            y_scale: YScale::Percent,
            palette: OKABE_ITO.iter().map(|s| s.to_string()).collect(),
            vary_line_styles: true,
            line_width: 1.8,
            ci_opacity: 0.15,
            censor_size: 3.5,
            x_tick_target: 8,
            suppress_below: None,
            pvalue_placement: PValuePlacement::Auto,
            risk_table_title: "Number at risk".to_string(),
        }
    }
}

/// A usable base font size: finite and over 4 px, else 11 (the one rule
/// of every figure).
pub(crate) fn usable_font_size(v: f64) -> f64 {
    if v.is_finite() && v > 4.0 {
        v
    } else {
        11.0
    }
}

/// `v` when finite and at least `min`, else `default` (figure widths and
/// heights; each figure kind has its own floor).
pub(crate) fn at_least(v: f64, min: f64, default: f64) -> f64 {
    if v.is_finite() && v >= min {
        v
    } else {
        default
    }
}

pub(crate) fn font_size(style: &PlotStyle) -> f64 {
    usable_font_size(style.font_size)
}

pub(crate) fn fig_width(style: &PlotStyle) -> f64 {
    at_least(style.width, 200.0, 672.0)
}

pub(crate) fn plot_height(style: &PlotStyle) -> f64 {
    at_least(style.plot_height, 60.0, 320.0)
}

pub(crate) fn colour(style: &PlotStyle, i: usize) -> String {
    match style.palette.get(i % style.palette.len().max(1)) {
        Some(c)
            if !c.is_empty()
                && c.chars()
                    .all(|ch| ch.is_ascii_alphanumeric() || "#(),. %".contains(ch)) =>
        {
            c.clone()
        }
        _ => OKABE_ITO[i % OKABE_ITO.len()].to_string(),
    }
}

pub(crate) fn dash(style: &PlotStyle, i: usize) -> Option<&'static str> {
    if style.vary_line_styles {
        LINE_DASHES[i % LINE_DASHES.len()]
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colours_fall_back_to_okabe_ito_for_unusable_entries() {
        let def = PlotStyle::default();
        for i in 0..10 {
            assert_eq!(colour(&def, i), def.palette[i % def.palette.len()]);
        }
        let odd = PlotStyle {
            palette: vec!["".into(), "red\"/><script>".into(), "#123456".into()],
            ..PlotStyle::default()
        };
        assert_eq!(colour(&odd, 0), OKABE_ITO[0]);
        assert_eq!(colour(&odd, 1), OKABE_ITO[1]);
        assert_eq!(colour(&odd, 2), "#123456");
        let empty = PlotStyle {
            palette: vec![],
            ..PlotStyle::default()
        };
        assert_eq!(colour(&empty, 3), OKABE_ITO[3]);
    }

    #[test]
    fn unusable_sizes_fall_back_to_defaults() {
        let bad = PlotStyle {
            font_size: f64::NAN,
            width: 10.0,
            plot_height: f64::INFINITY,
            ..PlotStyle::default()
        };
        assert_eq!(font_size(&bad), 11.0);
        assert_eq!(fig_width(&bad), 672.0);
        assert_eq!(plot_height(&bad), 320.0);
        assert_eq!(
            dash(&PlotStyle::default(), 1),
            LINE_DASHES[1].filter(|_| PlotStyle::default().vary_line_styles)
        );
    }
}
