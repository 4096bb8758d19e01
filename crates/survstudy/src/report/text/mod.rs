//! Text helpers: escaping, journal-style number formatting, small-cell
//! suppression and text-width estimation for layout.
//!
//! * [`escape`]: HTML/SVG escaping;
//! * [`numbers`]: journal-style numbers (p-values, hazard ratios, small-cell
//!   suppression) and the number formatter of the report's prose;
//! * [`width`]: text widths from the embedded font's metrics, truncation and
//!   wrapping for layout.

pub mod escape;
pub mod numbers;
pub mod width;

pub use escape::escape_html;
pub use numbers::{format_hr_ci, format_p, format_p_with, suppress, PFormat};
pub(crate) use numbers::{format_sig, num_text};
pub use width::text_width;
pub(crate) use width::{truncate_to_width, wrap_text};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn p_values_journal_style() {
        assert_eq!(format_p(0.0076, 0.001), "0.0076");
        assert_eq!(format_p(0.00086, 0.001), "<0.001");
        assert_eq!(format_p(0.00086, 0.0001), "0.00086");
        assert_eq!(format_p(0.43, 0.001), "0.43");
        assert_eq!(format_p(0.05, 0.001), "0.050");
        assert_eq!(format_p(0.0996, 0.001), "0.10");
        assert_eq!(format_p(0.04999, 0.001), "0.050");
        assert_eq!(format_p(0.001, 0.001), "0.0010");
        assert_eq!(format_p(0.12345, 0.001), "0.12");
        assert_eq!(format_p(0.999, 0.001), ">0.99");
        assert_eq!(format_p(0.0, 0.001), "<0.001");
        assert_eq!(format_p(f64::NAN, 0.001), "NA");
        assert_eq!(format_p(1.5, 0.001), "NA");
        assert_eq!(format_p(-0.1, 0.001), "NA");
        let opts = PFormat {
            ceiling: None,
            sig_digits: 3,
            ..PFormat::default()
        };
        assert_eq!(format_p_with(0.999, &opts), "0.999");
        assert_eq!(format_p_with(1.0, &opts), "1.00");
    }

    #[test]
    fn escaping_covers_markup_quotes_controls_and_urls() {
        assert_eq!(
            escape_html("<script>alert(1)</script>"),
            "&lt;script&gt;alert(1)&lt;/script&gt;"
        );
        assert_eq!(
            escape_html(r#"a&b "c" 'd'"#),
            "a&amp;b &quot;c&quot; &#39;d&#39;"
        );
        assert_eq!(escape_html("x\u{1}y"), "x\u{fffd}y");
        assert_eq!(escape_html("see http://x.org"), "see http&#58;//x.org");
        assert_eq!(escape_html("ratio 1:2"), "ratio 1:2");
        assert_eq!(escape_html("Ünïcode – ok"), "Ünïcode – ok");
    }

    #[test]
    fn suppression() {
        assert_eq!(suppress(3, Some(5)), "<5");
        assert_eq!(suppress(0, Some(5)), "0");
        assert_eq!(suppress(5, Some(5)), "5");
        assert_eq!(suppress(3, None), "3");
    }

    #[test]
    fn hr_formatting() {
        assert_eq!(
            format_hr_ci(0.6234, 0.41, 0.93, 2),
            "0.62 (0.41\u{2013}0.93)"
        );
        assert_eq!(format_hr_ci(f64::INFINITY, 1.0, 2.0, 2), "not estimable");
        assert_eq!(format_hr_ci(f64::NAN, 1.0, 2.0, 2), "not estimable");
        assert_eq!(
            format_hr_ci(2.0, 0.5, f64::INFINITY, 2),
            "2.00 (0.50\u{2013}NE)"
        );
    }

    #[test]
    fn widths_and_wrapping() {
        assert!((text_width("0", 10.0, false) - 6.362).abs() < 1e-3);
        assert!(text_width("W", 10.0, true) > text_width("W", 10.0, false));
        let t = truncate_to_width("a very long label indeed", 10.0, false, 60.0);
        assert!(t.ends_with('\u{2026}'));
        assert!(text_width(&t, 10.0, false) <= 60.0);
        let lines = wrap_text("Excluded because baseline date missing", 10.0, false, 100.0);
        assert!(lines.len() >= 2);
        assert!(lines.iter().all(|l| text_width(l, 10.0, false) <= 100.0));
    }
}
