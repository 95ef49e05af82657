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

/// One pass over the file's bytes (see `Scan`), whose cells are separated by `delimiter`,
/// 64 bytes at a time: a chunk none of whose bytes can start a sequence that is not plain (most
/// chunks of a roster) is passed over by one test that compiles to vector compares. After the
/// first byte that is not plain, CRs and quotes are followed too, up to a lone CR or a line end
/// inside quotes, and the line of each line that is not plain is noted, up to
/// `MAX_UNCLEAN_LINES`: the line ends are counted block by block from there on (those before
/// it once, from the file).
pub fn scan(path: &Path, delimiter: u8) -> std::io::Result<Scan> {
    const BLOCK: usize = 1 << 20;
    // Bytes kept from the end of a block: a sequence looked at is at most 3 bytes long.
    const TAIL: usize = 2;
    let mut file = std::fs::File::open(path)?;
    let mut buf = vec![0u8; BLOCK + TAIL];
    let mut kept = 0;
    let mut scanner = Scanner::new(delimiter, MAX_UNCLEAN_LINES);
    // The offset in the file of `buf`'s first byte.
    let mut offset = 0u64;
    loop {
        let n = file.read(&mut buf[kept..])?;
        let end = kept + n;
        // At the end of the file every byte is looked at; before it, the last `TAIL` bytes wait
        // for the next block, so that a sequence is never cut in two.
        let upto = if n == 0 { end } else { end.saturating_sub(TAIL) };
        let (found, first_unclean) = scanner.block(&buf[..end], upto);
        if let Some(found) = found {
            return Ok(Scan { plain: false, unclean_lines: None, lone_cr: found == Found::LoneCr, multiline: found == Found::Multiline });
        }
        if first_unclean {
            // The first line that is not plain: the line ends before this block, counted once.
            scanner.line_ends = line_ends_before(path, offset)?;
        }
        scanner.number_lines(&buf[..upto]);
        if n == 0 {
            let plain = !scanner.not_plain;
            return Ok(Scan { plain, unclean_lines: scanner.unclean_lines(), lone_cr: false, multiline: false });
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

#[derive(Debug, PartialEq, Eq)]
enum Found {
    LoneCr,
    Multiline,
}

/// The state of `scan` from one block to the next.
struct Scanner {
    delimiter: u8,
    /// A byte that is not plain was seen: from there on, quotes and CRs are followed.
    not_plain: bool,
    quote: Quote,
    /// The previous bytes are in a line already noted.
    in_unclean: bool,
    /// Where the lines not plain in the current block have their first such sequence (offsets
    /// in the block); None once there are more than `cap` lines.
    at: Option<Vec<usize>>,
    /// The lines (1-based) of those of earlier blocks.
    lines: Vec<i64>,
    cap: usize,
    /// Line ends before the current block (counted from the first line not plain on).
    line_ends: i64,
}

impl Scanner {
    fn new(delimiter: u8, cap: usize) -> Self {
        Scanner { delimiter, not_plain: false, quote: Quote::FieldStart, in_unclean: false, at: Some(Vec::new()), lines: Vec::new(), cap, line_ends: 0 }
    }

    /// Looks at the bytes of `bytes` before `upto` (`bytes` may go on past it: the bytes after
    /// a sequence's first). Returns a lone CR or a quoted line end, if any, and whether the
    /// first byte that is not plain of the file is in this block.
    fn block(&mut self, bytes: &[u8], upto: usize) -> (Option<Found>, bool) {
        let was_plain = !self.not_plain;
        let mut start = 0;
        while start < upto {
            let stop = (start + 64).min(upto);
            let chunk = &bytes[start..stop];
            // A CR is a candidate only when no LF follows it (a file with CRLF line ends has one
            // in almost every chunk). Quotes and CRs are candidates: a chunk without any is
            // nothing to the quoting either, but for where it ends.
            let candidates = match bytes.get(start + 1..stop + 1) {
                Some(next) => chunk.iter().zip(next).fold(false, |any, (&b, &n)| any | may_start(b) | ((b == b'\r') & (n != b'\n'))),
                None => chunk.iter().any(|&b| may_start(b) || b == b'\r'),
            };
            if candidates || matches!(self.quote, Quote::Quoted | Quote::ClosingOrDoubled) {
                for i in start..stop {
                    if let Some(found) = self.byte(bytes, i) {
                        return (Some(found), was_plain && self.not_plain);
                    }
                }
            } else {
                if self.in_unclean && chunk.contains(&b'\n') {
                    self.in_unclean = false;
                }
                let last = chunk[chunk.len() - 1];
                self.quote = if last == self.delimiter || last == b'\n' { Quote::FieldStart } else { Quote::Unquoted };
            }
            start = stop;
        }
        (None, was_plain && self.not_plain)
    }

    /// One byte of a chunk that holds a candidate.
    fn byte(&mut self, bytes: &[u8], i: usize) -> Option<Found> {
        let b = bytes[i];
        if b == b'\n' {
            self.in_unclean = false;
        } else if !self.in_unclean && (may_start(b) || b == b'\r') && !plain_at(bytes, i) {
            self.in_unclean = true;
            self.not_plain = true;
            if let Some(at) = &mut self.at {
                if self.lines.len() + at.len() == self.cap {
                    self.at = None;
                } else {
                    at.push(i);
                }
            }
        }
        if self.not_plain {
            return self.follow(bytes, i);
        }
        // Before the first byte that is not plain there is no `"`: the quoting is told by
        // where the cells end.
        self.quote = if b == self.delimiter || b == b'\n' { Quote::FieldStart } else { Quote::Unquoted };
        None
    }

    /// The quoting after byte `i`: a CR not followed by LF (a CR that ends `bytes` is alone),
    /// or a line end inside a quoted cell.
    fn follow(&mut self, bytes: &[u8], i: usize) -> Option<Found> {
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

    /// The lines of the block's noted offsets, by counting the line ends before each (`block`
    /// being the block's bytes up to where it was looked at); then those of the whole block.
    fn number_lines(&mut self, block: &[u8]) {
        let Some(at) = self.at.as_mut().filter(|_| self.not_plain) else { return };
        let mut from = 0;
        for to in at.drain(..) {
            self.line_ends += line_ends_in(&block[from..to]);
            self.lines.push(self.line_ends + 1);
            from = to;
        }
        self.line_ends += line_ends_in(&block[from..]);
    }

    /// The lines noted, when at most one line in `UNCLEAN_SHARE` (see `Scan`).
    fn unclean_lines(self) -> Option<Vec<i64>> {
        self.at?;
        // The file's lines: one more than its line ends (a last line without one, or none).
        (self.lines.len() as i64 * UNCLEAN_SHARE <= self.line_ends + 1).then_some(self.lines)
    }
}

/// The line ends in the first `upto` bytes of the file.
fn line_ends_before(path: &Path, upto: u64) -> std::io::Result<i64> {
    let mut file = std::fs::File::open(path)?.take(upto);
    let mut buf = vec![0u8; 1 << 20];
    let mut line_ends = 0;
    loop {
        let n = file.read(&mut buf)?;
        if n == 0 {
            return Ok(line_ends);
        }
        line_ends += line_ends_in(&buf[..n]);
    }
}

/// The LFs in `bytes`: counted 64 bytes at a time in one byte each (vector compares and adds;
/// a count in a `usize` per byte took four times as long).
fn line_ends_in(bytes: &[u8]) -> i64 {
    bytes.chunks(64).map(|c| c.iter().fold(0u8, |n, &b| n + u8::from(b == b'\n')) as i64).sum()
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
        let mut scanner = Scanner::new(b',', 0);
        let (found, _) = scanner.block(text.as_bytes(), text.len());
        found.is_none() && !scanner.not_plain
    }

    /// The offsets noted in one block, None when more than `cap`.
    fn noted(text: &str, cap: usize) -> Option<Vec<usize>> {
        let mut scanner = Scanner::new(b',', cap);
        assert_eq!(scanner.block(text.as_bytes(), text.len()).0, None);
        scanner.at
    }

    #[test]
    fn the_lines_that_are_not_plain_are_noted() {
        let text = "户编号,姓名\r\n1,张三\r\n2, 李四\r\n3,\"王五\"\r\n\r\n5,赵\u{3000}六 \n6,钱七";
        let at = noted(text, 10).unwrap();
        let starts: Vec<u8> = at.iter().map(|a| text.as_bytes()[*a]).collect();
        assert_eq!(starts, [b' ', b'"', 0xE3], "one offset per line, its first sequence's (U+3000 is E3 80 80)");
        assert_eq!(noted(text, 2), None, "more lines than the cap");
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
        // The first such line in the second 1 MiB block (line 400,000 starts at byte 1,599,996):
        // the line ends before that block are counted from the file, then block by block.
        let mut bytes = "a,b\n".to_string();
        for i in 2..600_000 {
            bytes.push_str(if i == 400_000 || i == 599_999 { "1,\u{3000}2\n" } else { "1,2\n" });
        }
        std::fs::write(&path, &bytes).unwrap();
        assert_eq!(scan(&path, b',').unwrap().unclean_lines, Some(vec![400_000, 599_999]));
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
