//! Reading a table: every file its pattern matches (a glob reads monthly pushes as one
//! source), whatever its format, into one frame of text columns named as declared, plus the
//! line (or sheet row) and file of each record.
//!
//! Canonical UTF-8 delimited files whose header is on the first line take polars' parallel
//! CSV reader; everything else (workbooks, GB18030, title rows above the header, a CR alone or a
//! line end inside a quoted cell) goes through a grid of cells.

use super::csv_scan::{scan_csv, Lines, Scanned};
use super::decode::{decode, mostly_utf8, prefix_is_utf8};
use super::grid::{self, Grid};
pub use super::grid_frame::reread_if_gb18030;
use super::grid_frame::{from_grid, from_text_file};
use super::header::{self, Mapping};
use super::no_header::other_delimiter;
use super::plain;
use super::resolve::relative;
pub use super::resolve::{is_glob, resolve_table};
use crate::rules::plan::{Encoding, Table};
use anyhow::{Context, Result};
use polars::prelude::*;
use std::io::Read;
use std::path::{Path, PathBuf};

/// The column holding each record's 1-based line number in its file (the header is line 1),
/// or its row number in the sheet.
pub const LINE: &str = "__line";
/// The column naming each record's file (and `[sheet]` for workbooks).
pub const FILE: &str = "__file";

/// What was read from one file (for the manifest and `fanpin inspect`).
#[derive(Debug, Clone)]
pub struct FileInfo {
    /// Path relative to the data directory, with `[sheet]` for workbooks.
    pub file: String,
    pub sha256: String,
    pub format: &'static str,
    pub encoding: Option<&'static str>,
    pub delimiter: Option<char>,
    pub sheet: Option<String>,
    /// Line (or row) of the header.
    pub header_line: usize,
    /// Declared column → header found in the file.
    pub mapping: Vec<(String, String)>,
    /// Headers of the header row that no declared column maps to (ignored), in file order.
    pub extra: Vec<String>,
    pub records: usize,
    pub skipped_blank: usize,
    pub skipped_total: usize,
}

/// One file as read, as two plans over it. For delimited text they are scans: each collect reads
/// the file, so the whole text of a large roster is never held at once.
pub struct RawFile {
    pub path: PathBuf,
    /// The declared columns as text (renamed from the file's headers), `LINE`, `FILE`, and
    /// `MAYBE_SKIP`: true on every line that might be blank or a 合计 line (a cheap test on the
    /// first column; `marks` tells exactly).
    pub lf: LazyFrame,
    /// `LINE`, `BLANK` and `TOTAL` of every line: lines that are not records (blank lines, 合计
    /// lines) are counted for the manifest, then dropped.
    pub marks: LazyFrame,
    /// `lf` over a strict UTF-8 read, for delimited text: faster than the lossy read, which
    /// checks every cell on its own; it fails on the first byte that is not UTF-8, and then the
    /// file is read again through `lf` (which turns such bytes into U+FFFD, a reject).
    pub strict: Option<LazyFrame>,
    /// The lines of the file whose bytes hold white space but line ends, `"` or U+FFFD, when
    /// they are few (`plain::Scan::unclean_lines`): no cell of `strict` on another line needs
    /// trimming. Empty for a plain file; None for grids and when there are many.
    pub unclean_lines: Option<Vec<i64>>,
    /// `MAYBE_SKIP` of the careful rows of `strict`, when its own is told by prefix tests that
    /// hold on plain lines only (`csv_scan::Lines::Known`).
    pub rest_maybe_skip: Option<Expr>,
    /// `records`, `skipped_*` and `sha256` are filled in by whoever collects the plans.
    pub info: FileInfo,
}

/// Marks a line that is blank in every declared column.
pub const BLANK: &str = "__blank";
/// Marks a 合计/总计/小计 line.
pub const TOTAL: &str = "__total";
/// Marks a line that might be either (every blank or total line is marked, few others are).
pub const MAYBE_SKIP: &str = "__maybe_skip";

/// Records in a file (lines that are neither blank nor totals), for `fanpin check`.
pub fn count_records(raw: &RawFile) -> Result<usize> {
    let marks = super::stream(raw.marks.clone())?;
    let skipped = marks.column(BLANK)?.bool()? | marks.column(TOTAL)?.bool()?;
    Ok(marks.height() - skipped.sum().unwrap_or(0) as usize)
}

const WORKBOOK: [&str; 5] = ["xlsx", "xlsm", "xlsb", "xls", "ods"];
/// Bytes looked at to find the encoding, delimiter and header of a text file.
const SNIFF_BYTES: usize = 256 * 1024;

/// Opens every file of `table` (sorted); empty when no file matches (a source with no records).
/// Workbooks and re-encoded text are parsed here; canonical delimited text is only sniffed.
pub fn read_files(table: &Table, dir: &Path) -> Result<Vec<RawFile>> {
    resolve_table(table, dir)?
        .into_iter()
        .map(|path| {
            let rel = relative(dir, &path);
            let Opened { lf, marks, strict, unclean_lines, rest_maybe_skip, info } =
                open_file(&path, &rel, table).with_context(|| format!("{} ({})", rel, table.name))?;
            Ok(RawFile { path, lf, marks, strict, unclean_lines, rest_maybe_skip, info })
        })
        .collect()
}

/// The plans over one file (see `RawFile`).
struct Opened {
    lf: LazyFrame,
    marks: LazyFrame,
    strict: Option<LazyFrame>,
    unclean_lines: Option<Vec<i64>>,
    rest_maybe_skip: Option<Expr>,
    info: FileInfo,
}

fn open_file(path: &Path, rel: &str, table: &Table) -> Result<Opened> {
    let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("").to_ascii_lowercase();
    if WORKBOOK.contains(&ext.as_str()) {
        let (grid, sheet) = grid::from_workbook(path, table.read.sheet.as_ref())?;
        let label = format!("{rel}[{sheet}]");
        let (lf, marks, mut info) = from_grid(&grid, table, &label, None)?;
        info.format = if ext == "xls" { "xls" } else { "xlsx" };
        info.sheet = Some(sheet);
        return Ok(Opened { lf, marks, strict: None, unclean_lines: None, rest_maybe_skip: None, info });
    }
    let mut prefix = Vec::with_capacity(SNIFF_BYTES);
    std::fs::File::open(path)?.take(SNIFF_BYTES as u64).read_to_end(&mut prefix)?;
    // The encoding is the whole file's (`decode::mostly_utf8`): a prefix that is UTF-8 is taken
    // as such until the strict read fails (then `load_file` decides on the whole file); one
    // that is not decides on the whole file now. `broken`: UTF-8 known to hold bad bytes.
    let bom = prefix.starts_with(b"\xEF\xBB\xBF");
    let mut whole = None;
    let (utf8, broken) = match table.read.encoding {
        Encoding::Gb18030 => (false, false),
        _ if bom || prefix_is_utf8(&prefix) => (true, false),
        Encoding::Utf8 => (true, true),
        Encoding::Auto => {
            let bytes = std::fs::read(path)?;
            let utf8 = mostly_utf8(&bytes);
            whole = Some(bytes);
            (utf8, true)
        }
    };
    let (sample, _) = decode(&prefix, if utf8 { &Encoding::Utf8 } else { &Encoding::Gb18030 });
    // Detected: the sniffed delimiter, unless the header only splits into the declared columns
    // at another (a `;`-delimited .csv). Declared: as declared, and the error says when
    // another one would have fitted.
    let sniffed = table.read.delimiter.unwrap_or_else(|| grid::sniff_delimiter(&sample, &ext));
    let parse_head = |d: u8| grid::from_text(&sample, d).unwrap_or(Grid { rows: Vec::new() });
    let fits = |g: &Grid| header::find(&g.rows.iter().map(|(_, r)| r.as_slice()).collect::<Vec<_>>(), table).is_ok();
    let (mut delimiter, mut head, mut other) = (sniffed, parse_head(sniffed), None);
    if !fits(&head) {
        other = other_delimiter(&sample, sniffed, table);
        if let (None, Some(d)) = (table.read.delimiter, other) {
            (delimiter, head, other) = (d, parse_head(d), None);
        }
    }
    let head_rows: Vec<&[String]> = head.rows.iter().map(|(_, r)| r.as_slice()).collect();
    let first_line_header = matches!(header::find(&head_rows, table), Ok(Mapping { header_index: 0, .. })) && head.rows.first().is_some_and(|(l, _)| *l == 1);

    if utf8 && first_line_header {
        // A file with a CR alone as a line end goes through the grid (polars would merge lines),
        // and so does one with a line end inside a quoted cell (polars' row numbers would no
        // longer be the file's lines after it; the grid counts them).
        let scan = plain::scan(path, delimiter)?;
        if !scan.lone_cr && !scan.multiline {
            let Scanned { lf, marks, mut info, .. } = scan_csv(path, rel, table, delimiter, CsvEncoding::LossyUtf8, Lines::Unknown)?;
            let lines = match &scan.unclean_lines {
                _ if scan.plain => Lines::Plain,
                Some(_) => Lines::Known,
                None => Lines::Unknown,
            };
            let (strict, rest_maybe_skip) = match broken {
                true => (None, None),
                false => {
                    let s = scan_csv(path, rel, table, delimiter, CsvEncoding::Utf8, lines)?;
                    (Some(s.lf), s.rest_maybe_skip)
                }
            };
            info.encoding = Some(if bom { "UTF-8 (BOM)" } else { "UTF-8" });
            info.delimiter = Some(delimiter as char);
            return Ok(Opened { lf, marks, strict, unclean_lines: scan.unclean_lines, rest_maybe_skip, info });
        }
    }
    let encoding = match table.read.encoding {
        Encoding::Auto if !utf8 => Encoding::Gb18030,
        ref e => e.clone(),
    };
    let bytes = match whole {
        Some(b) => b,
        None => std::fs::read(path)?,
    };
    let (lf, marks, info) = from_text_file(&bytes, rel, table, delimiter, &encoding, other)?;
    Ok(Opened { lf, marks, strict: None, unclean_lines: None, rest_maybe_skip: None, info })
}

/// The non-empty headers of `row` that `mapping` leaves unused.
pub(super) fn extra_headers(row: &[String], mapping: &Mapping) -> Vec<String> {
    row.iter()
        .enumerate()
        .filter(|(i, h)| !h.trim().is_empty() && !mapping.columns.iter().any(|(_, at, _)| at == i))
        .map(|(_, h)| h.trim().to_string())
        .collect()
}

/// A file's info before it is read: no records yet, header on line 1.
pub(crate) fn empty_info(label: &str, format: &'static str) -> FileInfo {
    FileInfo {
        file: label.to_string(),
        sha256: String::new(),
        format,
        encoding: None,
        delimiter: None,
        sheet: None,
        header_line: 1,
        mapping: Vec::new(),
        extra: Vec::new(),
        records: 0,
        skipped_blank: 0,
        skipped_total: 0,
    }
}
