//! SVG -> PNG with resvg, using only the embedded DejaVu Sans fonts.

use std::sync::{Arc, OnceLock};

use resvg::tiny_skia::{Color, Pixmap, Transform};
use resvg::usvg::{self, fontdb};

use crate::report::ReportError;

/// Font family written in every figure and the only family available to
/// the PNG renderer.
pub const FONT_FAMILY: &str = "DejaVu Sans";

/// DejaVu Sans (Bitstream Vera licence, see assets/fonts/LICENSE).
static DEJAVU_SANS: &[u8] = include_bytes!("../../../assets/fonts/DejaVuSans.ttf");
static DEJAVU_SANS_BOLD: &[u8] = include_bytes!("../../../assets/fonts/DejaVuSans-Bold.ttf");

/// A font database holding only the embedded fonts (no system fonts), with
/// every generic family mapped to DejaVu Sans.
fn font_db() -> Arc<fontdb::Database> {
    static DB: OnceLock<Arc<fontdb::Database>> = OnceLock::new();
    DB.get_or_init(|| {
        let mut db = fontdb::Database::new();
        db.load_font_data(DEJAVU_SANS.to_vec());
        db.load_font_data(DEJAVU_SANS_BOLD.to_vec());
        db.set_sans_serif_family(FONT_FAMILY);
        db.set_serif_family(FONT_FAMILY);
        db.set_monospace_family(FONT_FAMILY);
        db.set_cursive_family(FONT_FAMILY);
        db.set_fantasy_family(FONT_FAMILY);
        Arc::new(db)
    })
    .clone()
}

/// Largest raster accepted (pixels per side and in total).
const MAX_SIDE: u64 = 30_000;
const MAX_PIXELS: u64 = 200_000_000;

/// Rasterises an SVG document to PNG at `dpi` (SVG user units are CSS
/// pixels, 96 per inch, so a 672-unit-wide figure is 7 in wide: 2100 px at
/// 300 dpi). The background is opaque white and the PNG carries a `pHYs`
/// chunk with the resolution. Text is set with the embedded DejaVu Sans
/// only; external images referenced by the SVG are never loaded.
pub fn svg_to_png(svg: &str, dpi: f32) -> Result<Vec<u8>, ReportError> {
    if !dpi.is_finite() || dpi <= 0.0 || dpi > 2400.0 {
        return Err(ReportError::InvalidDpi(dpi));
    }
    let mut opts = usvg::Options {
        font_family: FONT_FAMILY.to_string(),
        fontdb: font_db(),
        ..usvg::Options::default()
    };
    opts.image_href_resolver.resolve_string = Box::new(|_, _| None);
    let tree = usvg::Tree::from_str(svg, &opts).map_err(|e| ReportError::Svg(e.to_string()))?;
    let scale = dpi / 96.0;
    let size = tree.size();
    let w = (f64::from(size.width()) * f64::from(scale)).ceil();
    let h = (f64::from(size.height()) * f64::from(scale)).ceil();
    let (wu, hu) = (w.max(0.0) as u64, h.max(0.0) as u64);
    if wu == 0 || hu == 0 || wu > MAX_SIDE || hu > MAX_SIDE || wu * hu > MAX_PIXELS {
        return Err(ReportError::ImageSize {
            width: wu,
            height: hu,
        });
    }
    let mut pixmap = Pixmap::new(wu as u32, hu as u32).ok_or(ReportError::ImageSize {
        width: wu,
        height: hu,
    })?;
    pixmap.fill(Color::WHITE);
    resvg::render(
        &tree,
        Transform::from_scale(scale, scale),
        &mut pixmap.as_mut(),
    );
    let png = encode_png(pixmap).map_err(|e| ReportError::PngEncode(e.to_string()))?;
    Ok(with_phys(png, dpi))
}

/// RGBA PNG of the (demultiplied) pixmap with the png crate's `Fast`
/// (fdeflate) compression: the same pixels as `Pixmap::encode_png`, whose
/// default zlib level spent two thirds of the rasterising time on figures
/// that are mostly white; the files are somewhat larger. Every row takes
/// the Paeth filter: the crate's adaptive choice filters each row five ways
/// to keep one, 40 % of the rasterising time for files 4 % smaller (Up or
/// Sub alone: 45-50 % larger).
///
/// The figures are drawn on opaque white, so every pixel has alpha 255 and
/// its premultiplied value is its demultiplied value: the pixmap's bytes
/// are then encoded as they are (no demultiplying copy of ~12 MB per
/// figure); the PNG bytes are those of the demultiplied encoding.
fn encode_png(pixmap: Pixmap) -> Result<Vec<u8>, png::EncodingError> {
    let (w, h) = (pixmap.width(), pixmap.height());
    let opaque = is_opaque(pixmap.data());
    let data = if opaque {
        pixmap.take()
    } else {
        pixmap.take_demultiplied()
    };
    let mut out = Vec::new();
    {
        let mut enc = png::Encoder::new(&mut out, w, h);
        enc.set_color(png::ColorType::Rgba);
        enc.set_depth(png::BitDepth::Eight);
        enc.set_compression(png::Compression::Fast);
        enc.set_filter(png::Filter::Paeth);
        let mut writer = enc.write_header()?;
        writer.write_image_data(&data)?;
        writer.finish()?;
    }
    Ok(out)
}

/// Whether every pixel of RGBA bytes has alpha 255: the pixels' words
/// AND-ed a block at a time (a loop the compiler vectorises; the test one
/// pixel at a time took a tenth of the rasterising).
fn is_opaque(rgba: &[u8]) -> bool {
    const ALPHA: u32 = 0xff00_0000;
    rgba.chunks(4096).all(|block| {
        let words = block.chunks_exact(4);
        let tail_ok = words.remainder().is_empty();
        let and = words.fold(u32::MAX, |a, p| {
            a & u32::from_le_bytes([p[0], p[1], p[2], p[3]])
        });
        tail_ok && and & ALPHA == ALPHA
    })
}

const PNG_SIG: [u8; 8] = [0x89, b'P', b'N', b'G', 0x0d, 0x0a, 0x1a, 0x0a];

/// Width and height from the IHDR chunk, or `None` if `data` is not a PNG.
pub fn png_dimensions(data: &[u8]) -> Option<(u32, u32)> {
    if data.len() < 24 || data[..8] != PNG_SIG || &data[12..16] != b"IHDR" {
        return None;
    }
    let w = u32::from_be_bytes(data[16..20].try_into().ok()?);
    let h = u32::from_be_bytes(data[20..24].try_into().ok()?);
    Some((w, h))
}

fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = 0xffff_ffffu32;
    for &b in bytes {
        crc ^= u32::from(b);
        for _ in 0..8 {
            let mask = (crc & 1).wrapping_neg();
            crc = (crc >> 1) ^ (0xedb8_8320 & mask);
        }
    }
    !crc
}

/// Inserts a `pHYs` chunk (pixels per metre) right after IHDR.
fn with_phys(png: Vec<u8>, dpi: f32) -> Vec<u8> {
    // signature (8) + IHDR length/type/data/crc (4 + 4 + 13 + 4)
    const AFTER_IHDR: usize = 33;
    if png_dimensions(&png).is_none() || png.len() < AFTER_IHDR {
        return png;
    }
    let ppm = (f64::from(dpi) / 0.0254).round() as u32;
    let mut chunk = Vec::with_capacity(21);
    chunk.extend_from_slice(&9u32.to_be_bytes());
    let mut body = Vec::with_capacity(13);
    body.extend_from_slice(b"pHYs");
    body.extend_from_slice(&ppm.to_be_bytes());
    body.extend_from_slice(&ppm.to_be_bytes());
    body.push(1); // unit: metre
    chunk.extend_from_slice(&body);
    chunk.extend_from_slice(&crc32(&body).to_be_bytes());
    let mut out = Vec::with_capacity(png.len() + chunk.len());
    out.extend_from_slice(&png[..AFTER_IHDR]);
    out.extend_from_slice(&chunk);
    out.extend_from_slice(&png[AFTER_IHDR..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn opaque_means_every_alpha_is_255() {
        let mut px = vec![255u8; 4 * 5000];
        assert!(is_opaque(&px));
        assert!(is_opaque(&[]));
        for at in [3, 4 * 1023 + 3, 4 * 1024 + 3, 4 * 4999 + 3] {
            px[at] = 254;
            assert!(!is_opaque(&px), "alpha at byte {at}");
            px[at] = 255;
        }
        // colour bytes below 255 do not matter
        px[0] = 0;
        px[4 * 3000 + 2] = 7;
        assert!(is_opaque(&px));
        // not whole pixels
        assert!(!is_opaque(&px[..4 * 10 + 2]));
    }

    #[test]
    fn crc_matches_reference_value() {
        // CRC-32 of "IEND" as found in every PNG
        assert_eq!(crc32(b"IEND"), 0xae42_6082);
    }

    #[test]
    fn embedded_fonts_are_the_only_fonts() {
        let db = font_db();
        assert_eq!(db.len(), 2);
        assert!(db
            .faces()
            .all(|f| f.families.iter().any(|(n, _)| n == FONT_FAMILY)));
    }

    #[test]
    fn renders_text_with_phys_and_size() {
        let svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"96\" height=\"48\">\
                   <text x=\"4\" y=\"30\" font-family=\"DejaVu Sans\" font-size=\"20\">Hg</text></svg>";
        let png = svg_to_png(svg, 300.0).unwrap();
        assert_eq!(png_dimensions(&png), Some((300, 150)));
        let pos = png.windows(4).position(|w| w == b"pHYs").unwrap();
        assert_eq!(pos, 37);
        let px = Pixmap::decode_png(&png).unwrap();
        let dark = px.pixels().iter().filter(|p| p.red() < 128).count();
        assert!(dark > 100, "text was not drawn ({dark} dark pixels)");
    }

    #[test]
    fn fast_encoding_keeps_the_pixels_of_tiny_skia_encoding() {
        let svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"120\" height=\"60\">\
                   <path d=\"M5 50 L40 10 L80 45 L115 5\" stroke=\"#1f77b4\" fill=\"none\" stroke-width=\"2.5\"/>\
                   <circle cx=\"60\" cy=\"30\" r=\"9\" fill=\"rgba(200,30,30,0.5)\"/>\
                   <text x=\"4\" y=\"58\" font-family=\"DejaVu Sans\" font-size=\"9\">S(t) 0.5</text></svg>";
        let opts = usvg::Options {
            font_family: FONT_FAMILY.to_string(),
            fontdb: font_db(),
            ..usvg::Options::default()
        };
        let tree = usvg::Tree::from_str(svg, &opts).unwrap();
        let mut pixmap = Pixmap::new(375, 188).unwrap();
        pixmap.fill(Color::WHITE);
        let s = 300.0 / 96.0;
        resvg::render(&tree, Transform::from_scale(s, s), &mut pixmap.as_mut());
        let reference = Pixmap::decode_png(&pixmap.encode_png().unwrap()).unwrap();
        let ours = Pixmap::decode_png(&svg_to_png(svg, 300.0).unwrap()).unwrap();
        assert_eq!((ours.width(), ours.height()), (375, 188));
        assert!(ours.data() == reference.data(), "pixels differ");
    }

    #[test]
    fn rejects_bad_input() {
        assert!(matches!(
            svg_to_png("<svg", 300.0),
            Err(ReportError::Svg(_))
        ));
        assert!(matches!(
            svg_to_png(
                "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"1\" height=\"1\"/>",
                f32::NAN
            ),
            Err(ReportError::InvalidDpi(_))
        ));
        assert!(matches!(
            svg_to_png(
                "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"100000\" height=\"100000\"/>",
                300.0
            ),
            Err(ReportError::ImageSize { .. })
        ));
    }
}
