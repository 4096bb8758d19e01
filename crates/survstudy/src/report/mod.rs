//! Rendering layer of the study report.
//!
//! Apart from [`study`], this module knows nothing about the analysis code:
//! it takes plain input structs (filled in by the pipeline) and turns them
//! into
//!
//! * SVG figures: Kaplan–Meier curves with a number-at-risk table
//!   ([`render_km_svg`]), forest plots ([`render_forest_svg`]) and a
//!   patient-flow diagram ([`render_flow_svg`]);
//! * one self-contained HTML page ([`render_html`]) with inline CSS and
//!   inline SVG and no external reference of any kind;
//! * PNG rasters for journal submission ([`svg_to_png`]), rendered with an
//!   embedded open font (DejaVu Sans) and never with system fonts.
//!
//! Every string that comes from data or from the analysis plan is passed
//! through [`escape_html`] before it is written into SVG or HTML.
//!
//! Layout: [`chart`] is the analysis-agnostic figure kit (style, scales,
//! axes, step curves, one file per figure kind); [`html`] the document
//! model and page renderer; [`text`] escaping, number formatting and text
//! widths; [`study`] the only part that reads the analysis results and
//! assembles the study report from them, one file per section.

pub mod chart;
pub mod cif;
pub mod html;
pub mod study;
pub mod text;

pub use chart::flow::{render_flow_svg, FlowDiagram, FlowExclusion, FlowStage};
pub use chart::forest::{render_forest_svg, ForestPlot, ForestRow, ForestRowKind};
pub use chart::km::{
    n_at_risk, render_km_svg, AtRisk, KmLayout, KmPlot, KmPlotGroup, KmSteps, RiskPoint,
};
pub use chart::png::{png_dimensions, svg_to_png, FONT_FAMILY};
pub use chart::scale::{log_ticks, nice_step, nice_ticks, LinearScale, LogScale};
pub use chart::style::{PValuePlacement, PlotStyle, TickSpec, YScale};
pub use html::{
    render_html, Align, Block, Cell, Fact, Figure, ReportPage, Section, Table, REPORT_CSS,
};
pub use study::{
    build_report, write_report, CiBands, Identifiers, ReportFigure, ReportMeta, ReportOptions,
    StudyReport,
};
pub use text::{escape_html, format_hr_ci, format_p, format_p_with, suppress, text_width, PFormat};

/// Okabe–Ito colour-blind-safe palette in the order used for groups
/// (yellow is left out: it is unreadable on white).
pub const OKABE_ITO: [&str; 7] = [
    "#0072B2", // blue
    "#D55E00", // vermillion
    "#009E73", // bluish green
    "#CC79A7", // reddish purple
    "#E69F00", // orange
    "#56B4E9", // sky blue
    "#000000", // black
];

/// SVG `stroke-dasharray` values that make groups distinguishable in
/// greyscale: solid, dashed, dotted, dash-dot (then repeating with longer
/// dashes).
pub const LINE_DASHES: [Option<&str>; 6] = [
    None,
    Some("7 4"),
    Some("1.5 3"),
    Some("8 3 1.5 3"),
    Some("12 4"),
    Some("4 2"),
];

/// Errors of the rendering layer.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// The SVG could not be parsed by usvg.
    #[error("cannot parse SVG: {0}")]
    Svg(String),
    /// DPI must be finite, positive and at most 2400.
    #[error("invalid dpi {0}: expected a finite value in (0, 2400]")]
    InvalidDpi(f32),
    /// The raster would be empty or unreasonably large.
    #[error("cannot rasterise a {width}x{height} pixel image")]
    ImageSize {
        /// Requested width in pixels.
        width: u64,
        /// Requested height in pixels.
        height: u64,
    },
    /// PNG encoding failed.
    #[error("cannot encode PNG: {0}")]
    PngEncode(String),
    /// A report option is out of range.
    #[error("invalid report option {name}: {message}")]
    InvalidOption {
        /// Option name.
        name: &'static str,
        /// What is wrong.
        message: String,
    },
    /// Writing a report file failed.
    #[error("cannot write {path}: {message}")]
    Io {
        /// File or directory.
        path: String,
        /// The I/O error.
        message: String,
    },
}
