//! Text encodings: BOM → UTF-8; valid UTF-8 → UTF-8; otherwise GB18030 (a superset of GBK and
//! GB2312), unless the rules file names the encoding.

use crate::rules::plan::Encoding;
use std::borrow::Cow;

/// Decodes a whole file; returns the text and the name of the encoding used (for the manifest).
pub fn decode<'a>(bytes: &'a [u8], declared: &Encoding) -> (Cow<'a, str>, &'static str) {
    let bom = bytes.starts_with(b"\xEF\xBB\xBF");
    match declared {
        Encoding::Gb18030 => (encoding_rs::GB18030.decode_without_bom_handling(bytes).0, "GB18030"),
        Encoding::Utf8 => (String::from_utf8_lossy(strip_bom(bytes)), if bom { "UTF-8 (BOM)" } else { "UTF-8" }),
        Encoding::Auto if bom => (String::from_utf8_lossy(strip_bom(bytes)), "UTF-8 (BOM)"),
        Encoding::Auto => match std::str::from_utf8(bytes) {
            Ok(s) => (Cow::Borrowed(s), "UTF-8"),
            Err(_) => (encoding_rs::GB18030.decode_without_bom_handling(bytes).0, "GB18030"),
        },
    }
}

fn strip_bom(bytes: &[u8]) -> &[u8] {
    bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes)
}

/// Whether a prefix of a file is UTF-8 (a character cut off at the end of the prefix is fine).
pub fn prefix_is_utf8(prefix: &[u8]) -> bool {
    match std::str::from_utf8(prefix) {
        Ok(_) => true,
        Err(e) => e.error_len().is_none(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gbk_bytes_are_detected_and_decoded() {
        let (bytes, _, _) = encoding_rs::GBK.encode("证件号码,姓名\n");
        let (text, enc) = decode(&bytes, &Encoding::Auto);
        assert_eq!(text, "证件号码,姓名\n");
        assert_eq!(enc, "GB18030");
    }

    #[test]
    fn utf8_with_and_without_bom() {
        assert_eq!(decode("\u{feff}a,b".as_bytes(), &Encoding::Auto), (Cow::Borrowed("a,b"), "UTF-8 (BOM)"));
        assert_eq!(decode("姓名".as_bytes(), &Encoding::Auto), (Cow::Borrowed("姓名"), "UTF-8"));
        // a prefix cut inside a 3-byte character is still UTF-8
        assert!(prefix_is_utf8(&"姓名".as_bytes()[..4]));
        assert!(!prefix_is_utf8(b"\xD6\xA4\xBC\xFE"));
    }
}
