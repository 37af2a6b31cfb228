//! QR codes for linking, as SVG the window shows as an image.

use qrcode::render::svg;
use qrcode::{EcLevel, QrCode};

#[derive(Debug, thiserror::Error)]
#[error("this link code cannot be drawn as a QR code: {0}")]
pub struct QrError(qrcode::types::QrError);

/// The QR code of `payload` as a standalone SVG document: dark modules on a
/// white square with a quiet zone, scaled by the viewer.
pub fn svg(payload: &str) -> Result<String, QrError> {
    let code =
        QrCode::with_error_correction_level(payload.as_bytes(), EcLevel::L).map_err(QrError)?;
    Ok(code
        .render::<svg::Color<'_>>()
        .min_dimensions(256, 256)
        .dark_color(svg::Color("#111111"))
        .light_color(svg::Color("#ffffff"))
        .quiet_zone(true)
        .build())
}

/// The QR code of `payload` drawn with half-block characters, for a terminal.
pub fn terminal(payload: &str) -> Result<String, QrError> {
    let code =
        QrCode::with_error_correction_level(payload.as_bytes(), EcLevel::L).map_err(QrError)?;
    Ok(code
        .render::<qrcode::render::unicode::Dense1x2>()
        .dark_color(qrcode::render::unicode::Dense1x2::Light)
        .light_color(qrcode::render::unicode::Dense1x2::Dark)
        .quiet_zone(true)
        .build())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_link_payload_renders_as_a_square_svg() -> Result<(), QrError> {
        // A link payload has this shape: ref, noise key, identity key, adv secret.
        let payload = "2@Xy1Zq0AbCdEfGhIjKlMnOpQrStUvWxYz0123456789+/=,MDEyMzQ1Njc4OWFiY2RlZg==,ZmVkY2JhOTg3NjU0MzIxMA==,c2VjcmV0c2VjcmV0c2VjcmV0";
        let image = svg(payload)?;
        assert!(image.starts_with("<?xml"), "{}", &image[..40]);
        assert!(image.contains("<svg"));
        assert!(image.contains("fill=\"#111111\""));
        let width = image
            .split("width=\"")
            .nth(1)
            .and_then(|w| w.split('"').next());
        let height = image
            .split("height=\"")
            .nth(1)
            .and_then(|h| h.split('"').next());
        assert_eq!(width, height, "square");
        assert!(
            width
                .and_then(|w| w.parse::<u32>().ok())
                .is_some_and(|w| w >= 256)
        );
        // A different payload is a different picture.
        assert_ne!(svg("2@other")?, image);
        Ok(())
    }

    #[test]
    fn a_terminal_rendering_is_a_block_of_half_blocks() -> Result<(), QrError> {
        let text = terminal("2@abc")?;
        let lines: Vec<&str> = text.lines().collect();
        assert!(lines.len() > 10);
        let width = lines[0].chars().count();
        assert!(
            lines.iter().all(|l| l.chars().count() == width),
            "rectangular"
        );
        assert!(text.chars().all(|c| " ▀▄█\n".contains(c)), "{text}");
        Ok(())
    }

    #[test]
    fn a_payload_too_long_for_any_qr_code_is_an_error_not_a_panic() {
        assert!(svg(&"x".repeat(8_000)).is_err());
    }
}
