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
            Err(_) if mostly_utf8(bytes) => (String::from_utf8_lossy(bytes), "UTF-8"),
            Err(_) => (encoding_rs::GB18030.decode_without_bom_handling(bytes).0, "GB18030"),
        },
    }
}

/// Whether a whole file that is not valid UTF-8 is UTF-8 but for a few bytes (a name typed
/// in another encoding, a cut character): at most one sequence in 20 of its non-ASCII text is
/// not UTF-8. Its other rows are then read, and the cells holding such bytes are rejected. A
/// file in GB18030 is not: only some of its two-byte characters happen to be UTF-8 as well (a
/// lead byte C2–DF followed by one of 80–BF), and its text is full of bytes that start no
/// UTF-8 character. Decided on the whole file, wherever the bytes fall in it.
pub fn mostly_utf8(bytes: &[u8]) -> bool {
    let (mut valid, mut invalid) = (0usize, 0usize);
    let mut rest = bytes;
    loop {
        let (good, error) = match std::str::from_utf8(rest) {
            Ok(_) => (rest.len(), None),
            Err(e) => (e.valid_up_to(), Some(e.error_len().unwrap_or(rest.len() - e.valid_up_to()))),
        };
        // Non-ASCII characters of the valid part: their lead bytes.
        valid += rest[..good].iter().filter(|b| **b >= 0xC0).count();
        match error {
            None => break,
            Some(len) => {
                invalid += 1;
                rest = &rest[good + len..];
                // Settled already: even if every byte left were in two-byte UTF-8 characters.
                if invalid * 20 > valid + rest.len() / 2 {
                    return false;
                }
            }
        }
    }
    invalid * 20 <= valid
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

    #[test]
    fn a_utf8_file_with_a_few_other_bytes_is_utf8_and_a_gbk_one_is_not() {
        // 钱二 in GBK (C7 AE B6 FE: C7 AE is UTF-8 by chance, B6 is not) in 20 UTF-8 names.
        let mut bytes = "张三,".repeat(20).into_bytes();
        bytes.extend([0xC7, 0xAE, 0xB6, 0xFE]);
        assert!(mostly_utf8(&bytes));
        let (text, enc) = decode(&bytes, &Encoding::Auto);
        assert_eq!((text.matches('张').count(), text.matches('\u{fffd}').count(), enc), (20, 2, "UTF-8"));
        // The same names all in GBK: GB18030, though the bytes may be valid GB18030 either way.
        let names = "张三,钱二,".repeat(20);
        let (gbk, _, _) = encoding_rs::GBK.encode(&names);
        assert!(!mostly_utf8(&gbk));
        assert_eq!(decode(&gbk, &Encoding::Auto).1, "GB18030");
        // Mostly ASCII with a GBK name: GB18030 (its only non-ASCII text is not UTF-8).
        let (one, _, _) = encoding_rs::GBK.encode("id,name\n1,张三\n");
        assert_eq!(decode(&one, &Encoding::Auto).1, "GB18030");
    }
}
