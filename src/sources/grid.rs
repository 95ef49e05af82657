//! A grid of text cells with their line (text) or row (workbook) numbers: what every input
//! format is turned into before the header is found.

use crate::rules::plan::SheetRef;
use anyhow::{anyhow, bail, Context, Result};
use calamine::{open_workbook, open_workbook_auto, Data, Reader, Xlsx};
use std::collections::BTreeMap;
use std::path::Path;

pub struct Grid {
    /// (1-based line or row number, cells).
    pub rows: Vec<(usize, Vec<String>)>,
}

/// Parses delimited text (RFC 4180 quoting, ragged rows allowed). A line ends at LF, CRLF or a
/// CR alone (old Mac exports); each row carries the physical line it starts on, counting every
/// line end, blank lines included.
pub fn from_text(text: &str, delimiter: u8) -> Result<Grid> {
    let mut r = csv::ReaderBuilder::new().has_headers(false).flexible(true).delimiter(delimiter).from_reader(text.as_bytes());
    let mut rows = Vec::new();
    let mut rec = csv::StringRecord::new();
    let mut lines = Lines { bytes: text.as_bytes(), at: 0, line: 1 };
    loop {
        match r.read_record(&mut rec) {
            Ok(false) => break,
            Ok(true) => {
                // The reader's own line count knows LF only, and its position is where the
                // previous record ended (before any blank lines): count from the bytes instead.
                let line = rec.position().map_or(0, |p| lines.record_at(p.byte() as usize));
                rows.push((line, rec.iter().map(str::to_string).collect()));
            }
            Err(e) => bail!("unreadable delimited text: {e}"),
        }
    }
    Ok(Grid { rows })
}

/// Fails when a quoted cell is never closed and lines follow it: the reader would take the rest
/// of the file for that one cell, and the records after it would be lost without a word. Names
/// the line where the cell opens. (Open on the last line, it loses nothing: the cell ends the
/// file.) For a whole file only (a sample may end inside a cell).
pub fn check_quotes_closed(text: &str, delimiter: u8) -> Result<()> {
    let (mut line, mut opened) = (1usize, None::<(usize, usize)>);
    let (mut quoted, mut at_start) = (false, true);
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        // LF, CRLF or a CR alone: one line end.
        let line_end = b == b'\n' || (b == b'\r' && bytes.get(i + 1) != Some(&b'\n'));
        line += line_end as usize;
        if quoted {
            if b == b'"' && bytes.get(i + 1) == Some(&b'"') {
                i += 1;
            } else if b == b'"' {
                (quoted, at_start) = (false, false);
            }
        } else if b == b'"' && at_start {
            (quoted, opened) = (true, Some((line, i)));
        } else {
            at_start = b == delimiter || b == b'\n' || b == b'\r';
        }
        i += 1;
    }
    match opened {
        Some((l, at)) if quoted && text[at..].trim_end_matches(['\r', '\n']).contains(['\r', '\n']) => {
            bail!("line {l}: a quoted cell (\") opens there and is never closed, so the rest of the file would be one cell; close the quote or remove it")
        }
        _ => Ok(()),
    }
}

/// Physical line numbers of byte offsets, visited in increasing order.
struct Lines<'a> {
    bytes: &'a [u8],
    /// Bytes before `at` are counted: `at` is on line `line`.
    at: usize,
    line: usize,
}

impl Lines<'_> {
    /// The line of the record whose reading starts at `from`: the reader skips line ends
    /// (blank lines) before a record, so the record starts at the first byte that is not one.
    fn record_at(&mut self, from: usize) -> usize {
        let mut start = from.min(self.bytes.len());
        while start < self.bytes.len() && matches!(self.bytes[start], b'\r' | b'\n') {
            start += 1;
        }
        let (bytes, line) = (self.bytes, &mut self.line);
        for i in self.at..start.max(self.at) {
            // LF ends a line; so does a CR, unless a LF follows (CRLF is one line end).
            *line += (bytes[i] == b'\n' || (bytes[i] == b'\r' && bytes.get(i + 1) != Some(&b'\n'))) as usize;
        }
        self.at = start.max(self.at);
        self.line
    }
}

/// The delimiters detected, in the order tried when the sniffed one does not split the header
/// into the declared columns.
pub const DELIMITERS: [u8; 4] = [b',', b';', b'\t', b'|'];

/// Chooses the delimiter of a text file: `,` for .csv, otherwise the candidate found the same
/// (non-zero) number of times on the most of the first lines.
pub fn sniff_delimiter(sample: &str, extension: &str) -> u8 {
    if extension == "csv" {
        return b',';
    }
    let lines: Vec<&str> = sample.split(['\r', '\n']).filter(|l| !l.trim().is_empty()).take(20).collect();
    let mut best = (b',', 0usize);
    for d in [b'\t', b'|', b',', b';'] {
        let counts: Vec<usize> = lines.iter().map(|l| l.bytes().filter(|b| *b == d).count()).collect();
        let Some(&mode) = counts.iter().filter(|c| **c > 0).max() else { continue };
        let consistent = counts.iter().filter(|c| **c == mode).count();
        if consistent > best.1 {
            best = (d, consistent);
        }
    }
    best.0
}

/// Integers up to 2^53 are exact in a spreadsheet's binary floating point; beyond that, digits
/// are lost (an 18-digit ID stored as a number cannot be recovered).
const EXACT_LIMIT: f64 = 9_007_199_254_740_992.0;

/// The text of a workbook cell. Numbers that lost precision come out in scientific notation,
/// so that an ID stored as a number is rejected, never repaired.
pub fn cell_text(d: &Data) -> String {
    match d {
        Data::Empty => String::new(),
        Data::String(s) => s.clone(),
        Data::Int(i) => i.to_string(),
        Data::Float(f) if f.fract() == 0.0 && f.abs() < EXACT_LIMIT => format!("{}", *f as i64),
        Data::Float(f) if f.fract() == 0.0 => format!("{f:E}"),
        // Shortest text that reads back as the same number: 1234.5 → "1234.5"; binary noise
        // around an amount in cents is that amount (`without_noise`).
        Data::Float(f) => without_noise(*f),
        Data::Bool(b) => if *b { "TRUE" } else { "FALSE" }.to_string(),
        // A date cell holds the days since 1899-12-30 (the 1900 date system; workbooks in the
        // old 1904 system are not distinguished). The time of day is dropped: records are dated.
        Data::DateTime(dt) => {
            let days = dt.as_f64().floor() as i64;
            chrono::NaiveDate::from_ymd_opt(1899, 12, 30)
                .and_then(|epoch| epoch.checked_add_signed(chrono::Duration::days(days)))
                .map_or_else(|| dt.as_f64().to_string(), |d| d.format("%Y-%m-%d").to_string())
        }
        Data::DateTimeIso(s) => s.split('T').next().unwrap_or(s).to_string(),
        Data::DurationIso(s) => s.clone(),
        Data::Error(e) => format!("#{e:?}"),
    }
}

/// Significant decimal digits a binary double always keeps (DBL_DIG): what Excel shows of a
/// number cell.
const SHOWN_DIGITS: i32 = 15;

/// The text of a number cell with a fraction: its shortest round-trip form (1234.5 → "1234.5"),
/// except that a double within binary rounding noise of an amount with at most two decimals is
/// that amount (33849.31999999999, what a formula leaves where Excel shows 33849.32, is
/// "33849.32"). Noise means below half a unit of the 15th significant digit: at 33849.32 that
/// is 5·10⁻¹¹, while a real sub-cent value such as 33849.315 is 0.005 away, and stays as it is
/// (an amount cell then rejects it). Beyond 12 integer digits the 15 digits leave no room below
/// the cent to tell noise from a value, so nothing is rounded there. This is the only place a
/// float is turned into a number: the text is read as a decimal from here on.
fn without_noise(f: f64) -> String {
    let shortest = format!("{f}");
    let Some((int, frac)) = shortest.trim_start_matches('-').split_once('.') else { return shortest };
    let int_digits = int.trim_start_matches('0').len().max(1) as i32;
    if frac.len() <= 2 || int_digits > 12 {
        return shortest;
    }
    let Ok(exact) = shortest.parse::<rust_decimal::Decimal>() else { return shortest };
    let cents = exact.round_dp_with_strategy(2, rust_decimal::RoundingStrategy::MidpointAwayFromZero);
    // Half a unit of the 15th significant digit of a number with `int_digits` integer digits.
    let tolerance = rust_decimal::Decimal::new(5, (SHOWN_DIGITS - int_digits + 1) as u32);
    if (exact - cents).abs() < tolerance {
        cents.normalize().to_string()
    } else {
        shortest
    }
}

/// The sheet chosen among `names`.
fn pick_sheet(path: &Path, names: &[String], sheet: Option<&SheetRef>) -> Result<String> {
    match sheet {
        None => names.first().cloned(),
        Some(SheetRef::Index(i)) => names.get(*i).cloned(),
        Some(SheetRef::Name(n)) => names.iter().find(|x| *x == n).cloned(),
    }
    .ok_or_else(|| match sheet {
        Some(s) => anyhow!("{}: no sheet {s}; the workbook has: {}", path.display(), names.join(", ")),
        None => anyhow!("{}: the workbook has no sheet", path.display()),
    })
}

/// Excel's limits: 1,048,576 rows and 16,384 columns (A … XFD).
const MAX_ROWS: u32 = 1 << 20;
const MAX_COLUMNS: u32 = 1 << 14;

/// Reads one sheet (by name or 0-based index; the first by default). Returns the grid and the
/// sheet's name. An .xlsx is read cell by cell: a sheet with one stray cell at XFD1048576 declares
/// 17 billion cells, and calamine's dense range would allocate them all.
pub fn from_workbook(path: &Path, sheet: Option<&SheetRef>) -> Result<(Grid, String)> {
    let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("").to_ascii_lowercase();
    if matches!(ext.as_str(), "xlsx" | "xlsm") {
        return from_xlsx(path, sheet);
    }
    let mut wb = open_workbook_auto(path).map_err(|e| anyhow!("{e}")).with_context(|| format!("cannot open the workbook {}", path.display()))?;
    let name = pick_sheet(path, &wb.sheet_names(), sheet)?;
    let range = wb.worksheet_range(&name).map_err(|e| anyhow!("{}: cannot read sheet {name}: {e}", path.display()))?;
    let (row0, col0) = range.start().unwrap_or((0, 0));
    let mut rows = Vec::with_capacity(range.height());
    for (i, r) in range.rows().enumerate() {
        // Cells left of the used range are empty; keep columns aligned with the sheet.
        let mut cells: Vec<String> = vec![String::new(); col0 as usize];
        cells.extend(r.iter().map(cell_text));
        rows.push((row0 as usize + i + 1, cells));
    }
    Ok((Grid { rows }, name))
}

/// An .xlsx sheet read sparsely: each row as wide as its last value.
fn from_xlsx(path: &Path, sheet: Option<&SheetRef>) -> Result<(Grid, String)> {
    let mut wb: Xlsx<_> = open_workbook(path).map_err(|e| anyhow!("{e}")).with_context(|| format!("cannot open the workbook {}", path.display()))?;
    let name = pick_sheet(path, &wb.sheet_names(), sheet)?;
    let mut reader = wb.worksheet_cells_reader(&name).map_err(|e| anyhow!("{}: cannot read sheet {name}: {e}", path.display()))?;
    let mut cells: BTreeMap<u32, Vec<(u32, String)>> = BTreeMap::new();
    let mut filled = 0usize;
    while let Some(cell) = reader.next_cell().map_err(|e| anyhow!("{}: cannot read sheet {name}: {e}", path.display()))? {
        let (row, col) = cell.get_position();
        if row >= MAX_ROWS || col >= MAX_COLUMNS {
            bail!(
                "{}: sheet {name} has a cell at row {}, column {}, beyond Excel's limits of {MAX_ROWS} rows and {MAX_COLUMNS} columns",
                path.display(),
                row as u64 + 1,
                col as u64 + 1
            );
        }
        let text = cell_text(&Data::from(cell.get_value().clone()));
        if !text.is_empty() {
            filled += 1;
            cells.entry(row).or_default().push((col, text));
        }
    }
    Ok((Grid { rows: dense_rows(path, &name, cells, filled)? }, name))
}

/// The grid rows of sparse cells; an error when padding the rows to their last value would make
/// far more cells than the sheet holds (stray values far to the right on many rows).
fn dense_rows(path: &Path, sheet: &str, cells: BTreeMap<u32, Vec<(u32, String)>>, filled: usize) -> Result<Vec<(usize, Vec<String>)>> {
    let budget = (filled * 8).max(1 << 20);
    let width: usize = cells.values().map(|r| r.iter().map(|(c, _)| *c as usize + 1).max().unwrap_or(0)).sum();
    if width > budget {
        bail!("{}: sheet {sheet} has {filled} values spread over {width} cells (values far to the right of the data on many rows): delete the stray cells, or copy the data to a new sheet", path.display());
    }
    // Every row from the first value's to the last value's, blank ones included (empty, at no
    // cost), as the dense range had them: the manifest counts blank rows skipped.
    let first = cells.keys().next().copied().unwrap_or(0);
    let mut rows: Vec<(usize, Vec<String>)> = Vec::new();
    for (row, values) in cells {
        rows.extend((first as usize + rows.len()..row as usize).map(|r| (r + 1, Vec::new())));
        let mut line = vec![String::new(); values.iter().map(|(c, _)| *c as usize + 1).max().unwrap_or(0)];
        for (c, text) in values {
            line[c as usize] = text;
        }
        rows.push((row as usize + 1, line));
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_that_lost_digits_become_scientific_text() {
        // 522601198001010016 is beyond 2^53: as a float it cannot be exact.
        assert!(cell_text(&Data::Float(522601198001010016.0)).contains('E'));
        // A 15-digit legacy ID is exact.
        assert_eq!(cell_text(&Data::Float(110105491231002.0)), "110105491231002");
        assert_eq!(cell_text(&Data::Float(1234.5)), "1234.5");
        assert_eq!(cell_text(&Data::Int(30)), "30");
    }

    #[test]
    fn binary_noise_around_cents_is_the_amount_and_a_real_fraction_of_a_cent_stays() {
        // (double, text): the shortest forms are written beside; 15 significant digits decide.
        let below_4000 = f64::from_bits(4000f64.to_bits() - 1); // 3999.9999999999995
        let cases = [
            (33849.31999999999, "33849.32"),
            (below_4000, "4000"),
            (0.1 + 0.2, "0.3"), // 0.30000000000000004
            (1234.5, "1234.5"),
            (-12.340000000000002, "-12.34"),
            (33849.315, "33849.315"), // half a cent: a value, not noise
            (0.005, "0.005"),
            (33849.3199999, "33849.3199999"),           // 10⁻⁷ away: far above 5·10⁻¹¹
            (123456789012.34999, "123456789012.35"),    // 12 integer digits: 5·10⁻⁴ still tells
            (1234567890123.4502, "1234567890123.4502"), // 13: not rounded
        ];
        for (f, want) in cases {
            assert_eq!(cell_text(&Data::Float(f)), want, "{f:?}");
        }
    }

    #[test]
    fn delimiters_are_sniffed_from_consistent_counts() {
        assert_eq!(sniff_delimiter("a\tb\tc\n1\t2\t3\n", "txt"), b'\t');
        assert_eq!(sniff_delimiter("a|b|c\n1|2,5|3\n", "txt"), b'|');
        assert_eq!(sniff_delimiter("a\tb\n", "csv"), b',');
    }

    #[test]
    fn quoted_fields_and_line_numbers_survive() {
        let g = from_text("a,b\n\"x, y\",\"multi\nline\"\n3,4\n", b',').unwrap();
        assert_eq!(g.rows[1].1, vec!["x, y".to_string(), "multi\nline".to_string()]);
        assert_eq!(g.rows[2].0, 4);
    }

    #[test]
    fn a_quoted_cell_never_closed_is_an_error_naming_its_line() {
        assert!(check_quotes_closed("a,b\n1,\"x\ny\"\n2,\"say \"\"hi\"\"\"\n5\"3,4\n", b',').is_ok());
        let e = check_quotes_closed("a,b\r\n1,2\r\n3,\"x\r\n4,5\r\n6,7\r\n", b',').unwrap_err();
        assert!(e.to_string().starts_with("line 3: a quoted cell"), "{e}");
        // "" inside a quoted cell does not close it.
        assert!(check_quotes_closed("a\tb\n1\t\"x\"\"\n2\t3\n", b'\t').is_err());
        // Open on the last line: the cell ends the file, nothing after it is lost.
        assert!(check_quotes_closed("a,b\n1,\"x\r\n", b',').is_ok());
    }

    #[test]
    fn a_cr_alone_ends_a_line_and_blank_lines_count() {
        // Lines: 1 a,b · 2 1,2 · 3 (blank) · 4 3,4 · 5-6 "x<CR>y",5 (a CR inside quotes is
        // text, and a line end), ended by CRLF · 7 7,8 · 8 6,7.
        let g = from_text("a,b\r1,2\r\r3,4\r\"x\ry\",5\r\n7,8\n6,7", b',').unwrap();
        let got: Vec<(usize, Vec<&str>)> = g.rows.iter().map(|(l, r)| (*l, r.iter().map(String::as_str).collect())).collect();
        assert_eq!(got, vec![(1, vec!["a", "b"]), (2, vec!["1", "2"]), (4, vec!["3", "4"]), (5, vec!["x\ry", "5"]), (7, vec!["7", "8"]), (8, vec!["6", "7"])]);
        // LF files: a blank line counts too.
        let g = from_text("a,b\n\n1,2\n", b',').unwrap();
        assert_eq!(g.rows[1].0, 3);
        assert_eq!(sniff_delimiter("a\tb\tc\r1\t2\t3\r", "txt"), b'\t');
    }
}
