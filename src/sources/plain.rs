//! A byte scan of a delimited file that tells whether any cell could need trimming or hold
//! U+FFFD. When none can, the fast path skips its per-cell text checks: in a system export
//! that is one pass over the bytes instead of a regex per text cell. The same pass finds a CR
//! that ends a line on its own, which only the careful path reads as a line end.

use std::io::Read;
use std::path::Path;

/// What one pass over a file's bytes tells (`scan`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scan {
    /// The file holds no Unicode white space other than line ends (LF, or CR directly before
    /// LF, which the CSV reader drops), no `"` (a quoted cell may hold a line end), and no
    /// U+FFFD. Then no cell of a strict UTF-8 read starts or ends with white space or holds
    /// U+FFFD. False says only that some cell might; the cells are then checked one by one.
    pub plain: bool,
    /// The lines (1-based: the header's is 1) that hold such a sequence, in order, when they
    /// are few (at most `MAX_UNCLEAN_LINES`, and at most one line in `UNCLEAN_SHARE`): only the
    /// cells of those lines can need trimming. Empty when the file is plain; None when there
    /// are more (every cell is then checked).
    pub unclean_lines: Option<Vec<i64>>,
    /// The file holds a CR not followed by LF: a line end of old Mac exports, which polars'
    /// reader does not take for one (it would merge the two lines). Such a file is read
    /// through the grid, where a CR alone ends a line. A plain file never has one.
    pub lone_cr: bool,
    /// A quoted cell holds a line end: the reader's row numbers then stop being the file's
    /// lines, so the file is read through the grid, which counts them. A plain file (no `"`)
    /// never has one. Only one of `lone_cr` and `multiline` is told: the scan stops at the
    /// first of them.
    pub multiline: bool,
}

/// More lines than this that are not plain: every cell is checked instead. It bounds the
/// offsets kept during the scan (8 MB), before the file's lines are counted: with the share
/// below, files of up to 32 million lines are routed row by row.
pub const MAX_UNCLEAN_LINES: usize = 1 << 20;
/// More than one line in this many not plain: every cell is checked instead (a row that is not
/// plain goes the careful way, which costs more per row than a check of its text cells).
pub const UNCLEAN_SHARE: i64 = 32;

/// One pass over the file's bytes (see `Scan`), whose cells are separated by `delimiter`. A
/// plain file is read to its end once; in another, CRs and quotes are looked for too after
/// the first byte that is not plain, up to a lone CR or a line end inside quotes, and where
/// the lines that are not plain start is noted, up to `MAX_UNCLEAN_LINES`. Only then are the
/// file's lines counted, in a second pass (`lines_of`).
pub fn scan(path: &Path, delimiter: u8) -> std::io::Result<Scan> {
    const BLOCK: usize = 1 << 20;
    // Bytes kept from the end of a block: a sequence looked at is at most 3 bytes long.
    const TAIL: usize = 2;
    let mut file = std::fs::File::open(path)?;
    let mut buf = vec![0u8; BLOCK + TAIL];
    let mut kept = 0;
    let mut plain = true;
    // Where each line not plain so far has its first such sequence (None: too many lines);
    // whether the scan is in such a line; the offset in the file of `buf`'s first byte.
    let mut unclean = Some(Vec::new());
    let mut in_unclean = false;
    let mut offset = 0u64;
    let mut rest = Rest { delimiter, quote: Quote::FieldStart };
    loop {
        let n = file.read(&mut buf[kept..])?;
        let end = kept + n;
        // At the end of the file every byte is looked at; before it, the last `TAIL` bytes wait
        // for the next block, so that a sequence is never cut in two.
        let upto = if n == 0 { end } else { end.saturating_sub(TAIL) };
        if let Some(at) = &mut unclean {
            if !unclean_upto(&buf[..end], upto, offset, &mut in_unclean, at, MAX_UNCLEAN_LINES) {
                unclean = None;
            }
        }
        plain = plain && unclean.as_ref().is_some_and(Vec::is_empty);
        // A lone CR or a quote makes a file not plain: while it is plain there is none to
        // look for.
        if !plain {
            match rest.upto(&buf[..end], upto) {
                Some(Found::LoneCr) => return Ok(Scan { plain, unclean_lines: None, lone_cr: true, multiline: false }),
                Some(Found::Multiline) => return Ok(Scan { plain, unclean_lines: None, lone_cr: false, multiline: true }),
                None => {}
            }
        }
        if n == 0 {
            let unclean_lines = match unclean {
                Some(at) if !at.is_empty() => lines_of(path, &at)?,
                other => other.map(|_| Vec::new()),
            };
            return Ok(Scan { plain, unclean_lines, lone_cr: false, multiline: false });
        }
        buf.copy_within(upto..end, 0);
        offset += upto as u64;
        kept = end - upto;
    }
}

/// Where the scan is in RFC 4180 quoting.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Quote {
    /// At the start of a cell, where a `"` opens a quoted cell.
    FieldStart,
    /// In an unquoted cell, where a `"` is text.
    Unquoted,
    /// Inside a quoted cell, where a line end is part of the cell.
    Quoted,
    /// After a `"` inside a quoted cell: `""` is a quote, anything else closed the cell.
    ClosingOrDoubled,
}

enum Found {
    LoneCr,
    Multiline,
}

/// The scan after the first byte that is not plain: the quoting state across blocks. Before
/// that byte there is no `"`, so the state starts at a cell's start (a `"` there in the middle
/// of a cell could only make a file read through the grid, which is always right).
struct Rest {
    delimiter: u8,
    quote: Quote,
}

impl Rest {
    /// A CR before `upto` not followed by LF (a CR that ends `bytes` is alone), or a line end
    /// inside a quoted cell, whichever comes first.
    fn upto(&mut self, bytes: &[u8], upto: usize) -> Option<Found> {
        let mut start = 0;
        while start < upto {
            let stop = (start + 64).min(upto);
            let chunk = &bytes[start..stop];
            let outside = matches!(self.quote, Quote::FieldStart | Quote::Unquoted);
            // A CR before a LF is looked at no more than any other byte (CRLF files have one in
            // almost every chunk).
            let nothing = match bytes.get(start + 1..stop + 1) {
                Some(next) => !chunk.iter().zip(next).fold(false, |any, (&b, &n)| any | ((b == b'\r') & (n != b'\n')) | (b == b'"')),
                None => !chunk.iter().fold(false, |any, &b| any | (b == b'\r') | (b == b'"')),
            };
            if outside && nothing {
                // Nothing to look at: only where the chunk ends matters.
                let last = chunk[chunk.len() - 1];
                self.quote = if last == self.delimiter || last == b'\n' { Quote::FieldStart } else { Quote::Unquoted };
            } else {
                for i in start..stop {
                    if let Some(found) = self.byte(bytes, i) {
                        return Some(found);
                    }
                }
            }
            start = stop;
        }
        None
    }

    fn byte(&mut self, bytes: &[u8], i: usize) -> Option<Found> {
        let b = bytes[i];
        let line_end = b == b'\n' || b == b'\r';
        if b == b'\r' && bytes.get(i + 1) != Some(&b'\n') {
            return Some(Found::LoneCr);
        }
        self.quote = match (self.quote, b) {
            (Quote::Quoted, _) if line_end => return Some(Found::Multiline),
            (Quote::Quoted, b'"') => Quote::ClosingOrDoubled,
            (Quote::Quoted, _) => Quote::Quoted,
            (Quote::ClosingOrDoubled, b'"') => Quote::Quoted,
            (Quote::FieldStart, b'"') => Quote::Quoted,
            (_, _) if line_end || b == self.delimiter => Quote::FieldStart,
            (_, _) => Quote::Unquoted,
        };
        None
    }
}

/// Notes in `at` where each line with a sequence starting before `upto` that is white space
/// (but for a line end), `"` or U+FFFD has its first (`offset` is the file's offset of
/// `bytes`; `in_line`: the previous bytes are in such a line, carried from block to block).
/// `bytes` may go on past `upto` (the bytes after a sequence's first). False when the lines
/// would be more than `cap`.
fn unclean_upto(bytes: &[u8], upto: usize, offset: u64, in_line: &mut bool, at: &mut Vec<u64>, cap: usize) -> bool {
    // 64 bytes at a time, by one test that compiles to vector compares: most chunks of a roster
    // hold none of the bytes that can start such a sequence. A CR is one only when no LF
    // follows it, which is told the same way (a file with CRLF line ends has one in almost
    // every chunk).
    let mut start = 0;
    while start < upto {
        let stop = (start + 64).min(upto);
        let chunk = &bytes[start..stop];
        let candidates = match bytes.get(start + 1..stop + 1) {
            Some(next) => chunk.iter().zip(next).fold(false, |any, (&b, &n)| any | may_start(b) | ((b == b'\r') & (n != b'\n'))),
            None => chunk.iter().any(|&b| may_start(b) || b == b'\r'),
        };
        if candidates {
            for i in start..stop {
                let b = bytes[i];
                if b == b'\n' {
                    *in_line = false;
                } else if !*in_line && (may_start(b) || b == b'\r') && !plain_at(bytes, i) {
                    if at.len() == cap {
                        return false;
                    }
                    at.push(offset + i as u64);
                    *in_line = true;
                }
            }
        } else if *in_line && chunk.contains(&b'\n') {
            *in_line = false;
        }
        start = stop;
    }
    true
}

/// The lines (1-based) of the offsets `at` (increasing, one per line) in the file, when they
/// are at most one line in `UNCLEAN_SHARE`: a count of the line ends before each.
fn lines_of(path: &Path, at: &[u64]) -> std::io::Result<Option<Vec<i64>>> {
    let mut file = std::fs::File::open(path)?;
    let mut buf = vec![0u8; 1 << 20];
    let (mut offset, mut line_ends, mut next) = (0u64, 0i64, 0);
    let mut lines = Vec::with_capacity(at.len());
    let count = |bytes: &[u8]| bytes.iter().filter(|&&b| b == b'\n').count() as i64;
    loop {
        let n = file.read(&mut buf)?;
        if n == 0 {
            break;
        }
        let mut from = 0;
        while next < at.len() && at[next] < offset + n as u64 {
            let to = (at[next] - offset) as usize;
            line_ends += count(&buf[from..to]);
            lines.push(line_ends + 1);
            (from, next) = (to, next + 1);
        }
        line_ends += count(&buf[from..n]);
        offset += n as u64;
    }
    // The lines of the file: one more than its line ends (a last line without one, or none).
    Ok((lines.len() as i64 * UNCLEAN_SHARE <= line_ends + 1).then_some(lines))
}

/// A byte but CR that can start a sequence `plain_at` looks at (a CR is looked at only when
/// no LF follows it).
#[inline]
fn may_start(b: u8) -> bool {
    (b < b' ' && b != b'\n' && b != b'\r') | (b == b' ') | (b == b'"') | (b == 0xC2) | (b.wrapping_sub(0xE1) <= 2) | (b == 0xEF)
}

/// Whether the sequence at `i` is harmless. The white space is Unicode's White_Space property,
/// the set `\s` and `str::trim` use, in UTF-8.
fn plain_at(bytes: &[u8], i: usize) -> bool {
    let at = |k: usize| bytes.get(i + k).copied();
    match bytes[i] {
        b'\r' => at(1) == Some(b'\n'),
        b'\t' | 0x0B | 0x0C | b' ' | b'"' => false,
        // Other control characters are not white space (the cell checks treat them as text).
        b if b < b' ' => true,
        // U+0085, U+00A0
        0xC2 => !matches!(at(1), Some(0x85 | 0xA0)),
        // U+1680
        0xE1 => !(at(1) == Some(0x9A) && at(2) == Some(0x80)),
        // U+2000–U+200A, U+2028, U+2029, U+202F; U+205F
        0xE2 => !matches!((at(1), at(2)), (Some(0x80), Some(0x80..=0x8A | 0xA8 | 0xA9 | 0xAF)) | (Some(0x81), Some(0x9F))),
        // U+3000 (the ideographic space of Chinese input methods)
        0xE3 => !(at(1) == Some(0x80) && at(2) == Some(0x80)),
        // U+FFFD
        0xEF => !(at(1) == Some(0xBF) && at(2) == Some(0xBD)),
        _ => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plain(text: &str) -> bool {
        unclean_upto(text.as_bytes(), text.len(), 0, &mut false, &mut Vec::new(), 0)
    }

    #[test]
    fn the_lines_that_are_not_plain_are_noted() {
        let text = "户编号,姓名\r\n1,张三\r\n2, 李四\r\n3,\"王五\"\r\n\r\n5,赵\u{3000}六 \n6,钱七";
        let mut at = Vec::new();
        assert!(unclean_upto(text.as_bytes(), text.len(), 0, &mut false, &mut at, 10));
        let starts: Vec<u8> = at.iter().map(|a| text.as_bytes()[*a as usize]).collect();
        assert_eq!(starts, [b' ', b'"', 0xE3], "one offset per line, its first sequence's (U+3000 is E3 80 80)");
        assert!(!unclean_upto(text.as_bytes(), text.len(), 0, &mut false, &mut Vec::new(), 2), "more lines than the cap");
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f.csv");
        std::fs::write(&path, format!("{text}{}", "\n7,孙八".repeat(200))).unwrap();
        assert_eq!(scan(&path, b',').unwrap().unclean_lines, Some(vec![3, 4, 6]));
        // Across blocks: the lines are counted on from one block to the next.
        let mut bytes = "a,b\n".to_string();
        for i in 2..300_000 {
            bytes.push_str(if i % 50_000 == 0 { "1, 2\n" } else { "1,2\n" });
        }
        std::fs::write(&path, &bytes).unwrap();
        let s = scan(&path, b',').unwrap();
        assert_eq!((s.plain, s.unclean_lines), (false, Some(vec![50_000, 100_000, 150_000, 200_000, 250_000])));
        // One line in 32 or more: none noted.
        std::fs::write(&path, "a,b\n1, 2\n1,2\n").unwrap();
        assert_eq!(scan(&path, b',').unwrap().unclean_lines, None);
    }

    #[test]
    fn every_unicode_white_space_character_is_found() {
        // Every character `char::is_white_space` accepts, but LF, makes a file not plain, in the
        // middle of a cell or at the end of the text.
        let mut seen = 0;
        for c in (0..=0x10FFFFu32).filter_map(char::from_u32).filter(|c| c.is_whitespace() && *c != '\n') {
            seen += 1;
            assert!(!plain(&format!("张{c}三,1\n")), "U+{:04X} inside", c as u32);
            assert!(!plain(&format!("张三,1{c}")), "U+{:04X} at the end", c as u32);
        }
        assert_eq!(seen, 24, "Unicode's 25 White_Space characters, less LF");
    }

    #[test]
    fn quotes_and_replacement_characters_are_found_and_other_text_is_plain() {
        assert!(!plain("a,\"b\"\n"));
        assert!(!plain("a,b\u{FFFD}\n"));
        assert!(plain("\u{FEFF}户编号,姓名\r\n5226011010010001,张三\r\n"), "a BOM and CRLF line ends are plain");
        assert!(!plain("a\rb\n"), "a CR not before a LF is white space in a cell");
        // Same lead bytes, other characters: 、(E3 80 81) ·(C2 B7) —(E2 80 94) ＡＢ(EF BC A1)
        assert!(plain("张三、李四,·,—,ＡＢ,\u{1681}\n"));
    }

    #[test]
    fn crlf_line_ends_are_plain_and_a_lone_cr_is_found_at_every_offset() {
        // Lines of 7 bytes with CRLF: a CR before a LF in most 64-byte chunks, at every offset.
        let crlf = "1,22,3\r\n".repeat(40);
        assert!(plain(&crlf));
        for at in (0..crlf.len()).filter(|i| crlf.as_bytes()[*i] == b'\n') {
            // That LF turned into another byte: the CR before it is alone.
            let mut bytes = crlf.clone().into_bytes();
            bytes[at] = b'x';
            let text = String::from_utf8(bytes).unwrap();
            assert!(!plain(&text), "lone CR before byte {at}");
        }
        assert!(!plain(&format!("{crlf}\r")), "a CR that ends the text");
        assert!(!plain(&format!("{crlf}a b")), "a space after CRLF lines");
    }

    #[test]
    fn a_sequence_cut_by_a_block_end_is_still_found() {
        // U+3000 is E3 80 80: put it across the 1 MiB read block boundary at every offset.
        let dir = tempfile::tempdir().unwrap();
        for before in (1 << 20) - 3..(1 << 20) + 1 {
            let mut bytes = vec![b'a'; before];
            bytes.extend("\u{3000}".as_bytes());
            bytes.extend(b"b\n");
            let path = dir.path().join("f.csv");
            std::fs::write(&path, &bytes).unwrap();
            assert!(!scan(&path, b',').unwrap().plain, "U+3000 at byte {before}");
            std::fs::write(&path, &bytes[..before]).unwrap();
            assert!(scan(&path, b',').unwrap().plain);
        }
    }

    #[test]
    fn a_cr_not_before_a_lf_is_found_anywhere_even_after_other_white_space() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f.csv");
        let cases: [(&[u8], bool, bool); 6] = [
            (b"a,b\r\n1,2\r\n", true, false),
            (b"a,b\r1,2\r", false, true),
            (b"a,b\r\n1,2\r", false, true),
            // white space first: the scan goes on looking for CRs
            (b"a, b\r\n1,2\r3,4\r\n", false, true),
            (b"a, b\r\n1,2\r\n", false, false),
            (b"\"a\",b\n", false, false),
        ];
        for (bytes, plain, lone_cr) in cases {
            std::fs::write(&path, bytes).unwrap();
            let s = scan(&path, b',').unwrap();
            assert_eq!((s.plain, s.lone_cr, s.multiline), (plain, lone_cr, false), "{:?}", String::from_utf8_lossy(bytes));
        }
        // A lone CR right at a block boundary, and a CRLF cut by it, at every offset.
        for before in (1 << 20) - 3..(1 << 20) + 1 {
            let mut bytes = vec![b' '; before];
            bytes.extend(b"\r\nx\n");
            std::fs::write(&path, &bytes).unwrap();
            assert!(!scan(&path, b',').unwrap().lone_cr, "CRLF at byte {before}");
            bytes.truncate(before);
            bytes.extend(b"\rx\n");
            std::fs::write(&path, &bytes).unwrap();
            assert!(scan(&path, b',').unwrap().lone_cr, "lone CR at byte {before}");
        }
    }

    #[test]
    fn a_line_end_inside_a_quoted_cell_is_found_and_quotes_elsewhere_are_not_one() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f.csv");
        let cases: [(&[u8], u8, bool); 9] = [
            (b"a,b\n1,\"x\ny\"\n", b',', true),
            (b"a,b\r\n1,\"x\r\ny\"\r\n", b',', true),
            (b"\"a\",\"b\"\n\"1\",\"2\"\n", b',', false),
            // "" is a quote inside a quoted cell; the cell goes on
            (b"a,b\n1,\"say \"\"x\"\" and\ny\"\n", b',', true),
            (b"a,b\n1,\"say \"\"x\"\"\"\n2,3\n", b',', false),
            // a quote inside an unquoted cell is text
            (b"a,b\n5\"3,x\n2,3\n", b',', false),
            (b"a\tb\n1\t\"x\ny\"\n", b'\t', true),
            (b"a;b\n1;\"x;y\"\n", b';', false),
            // a lone CR inside quotes is a lone CR
            (b"a,b\n1,\"x\ry\"\n", b',', false),
        ];
        for (bytes, delimiter, multiline) in cases {
            std::fs::write(&path, bytes).unwrap();
            assert_eq!(scan(&path, delimiter).unwrap().multiline, multiline, "{:?}", String::from_utf8_lossy(bytes));
        }
        // A quoted line end beyond the first 1 MiB block, after a quoted cell cut by the block's end.
        let mut bytes = b"a,b\n".to_vec();
        bytes.extend(std::iter::repeat_n(b"1,\"xx\"\n".as_slice(), 200_000).flatten());
        bytes.extend(b"2,\"p\nq\"\n");
        std::fs::write(&path, &bytes).unwrap();
        assert!(scan(&path, b',').unwrap().multiline);
        bytes.truncate(bytes.len() - 9);
        std::fs::write(&path, &bytes).unwrap();
        assert!(!scan(&path, b',').unwrap().multiline);
        // The same with CRLF line ends, a space first (the file is not plain from the start),
        // and the quoted line end far after it.
        let mut bytes = b"a,b\r\n1, 2\r\n".to_vec();
        bytes.extend(std::iter::repeat_n(b"1,\"xx\"\r\n3,4\r\n".as_slice(), 100_000).flatten());
        let clean = bytes.len();
        bytes.extend(b"2,\"p\r\nq\"\r\n");
        std::fs::write(&path, &bytes).unwrap();
        assert!(scan(&path, b',').unwrap().multiline);
        std::fs::write(&path, &bytes[..clean]).unwrap();
        let s = scan(&path, b',').unwrap();
        assert!(!s.multiline && !s.lone_cr && !s.plain);
    }
}
