//! Reading a table: every file its pattern matches (a glob reads monthly pushes as one
//! source), whatever its format, into one frame of text columns named as declared, plus the
//! line (or sheet row) and file of each record.
//!
//! Canonical UTF-8 delimited files whose header is on the first line take polars' parallel
//! CSV reader; everything else (workbooks, GB18030, title rows above the header, a CR alone or a
//! line end inside a quoted cell) goes through a grid of cells.

use super::decode::{decode, mostly_utf8, prefix_is_utf8};
use super::grid::{self, Grid};
use super::header::{self, Mapping, NoHeader};
use super::plain;
use crate::rules::plan::{Encoding, Table};
use anyhow::{anyhow, Context, Result};
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
    /// The file's bytes hold no white space but line ends, no `"` and no U+FFFD
    /// (`plain::scan`): no cell of `strict` needs trimming. False for grids.
    pub plain: bool,
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

/// The files a pattern names, sorted (the order is part of the output's determinism). A name
/// that matches nothing is absent (a source with no records); a match that cannot be read as a
/// file (a directory, a dangling symbolic link, a FIFO or device) is an error, never absent.
/// Whether a file pattern is a glob (`medical/2021-*.xlsx`): one that matches no file is likely
/// mistyped, whereas a plain file name that is absent is a source with no records.
pub fn is_glob(pattern: &str) -> bool {
    pattern.contains(['*', '?', '['])
}

/// Excel's owner files (`~$name.xlsx`, present while a workbook is open) are skipped with a
/// warning.
pub fn resolve(dir: &Path, pattern: &str) -> Result<Vec<PathBuf>> {
    if !is_glob(pattern) {
        let p = dir.join(pattern);
        return match std::fs::symlink_metadata(&p) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
            Err(e) => Err(anyhow!("{pattern}: cannot be read: {e}")),
            Ok(_) => regular_file(&p, pattern).map(|()| vec![p]),
        };
    }
    let full = dir.join(pattern);
    let full = full.to_str().ok_or_else(|| anyhow!("the path {} is not valid UTF-8", full.display()))?;
    let mut out = Vec::new();
    for p in glob::glob(full).with_context(|| format!("bad file pattern '{pattern}'"))? {
        let p = p.map_err(|e| anyhow!("{pattern}: {} cannot be read: {}", relative(dir, e.path()), e.error()))?;
        let rel = relative(dir, &p);
        if p.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.starts_with("~$")) {
            crate::log::warn(&format!("{rel} skipped: an owner file that Excel or WPS keeps while a workbook is open, not data"));
            continue;
        }
        regular_file(&p, &rel)?;
        out.push(p);
    }
    out.sort();
    Ok(out)
}

fn relative(dir: &Path, p: &Path) -> String {
    p.strip_prefix(dir).unwrap_or(p).to_string_lossy().replace('\\', "/")
}

/// Whether `p` (which exists) can be read as a file. Only its metadata is looked at: opening a
/// FIFO would wait for a writer.
fn regular_file(p: &Path, rel: &str) -> Result<()> {
    match std::fs::metadata(p) {
        Ok(m) if m.is_file() => Ok(()),
        Ok(m) if m.is_dir() => Err(anyhow!("{rel} is a directory, not a file")),
        Ok(_) => Err(anyhow!("{rel} is not a regular file (a FIFO, socket or device), so it is not read")),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(anyhow!("{rel} is a symbolic link to nothing (its target does not exist)")),
        Err(e) => Err(anyhow!("{rel} cannot be read: {e}")),
    }
}

/// `resolve` for a table's files, its errors naming the table.
pub fn resolve_table(table: &Table, dir: &Path) -> Result<Vec<PathBuf>> {
    resolve(dir, &table.read.pattern).with_context(|| format!("{} ({})", table.read.pattern, table.name))
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
            let Opened { lf, marks, strict, plain, info } = open_file(&path, &rel, table).with_context(|| format!("{} ({})", rel, table.name))?;
            Ok(RawFile { path, lf, marks, strict, plain, info })
        })
        .collect()
}

/// `other`: a delimiter with which the header would hold every declared column (the declared
/// or detected one is then wrong, and an alias would not help).
fn missing_columns_error(table: &Table, e: NoHeader, other: Option<u8>) -> anyhow::Error {
    let missing: Vec<String> = e
        .missing
        .iter()
        .map(|(m, hint)| match hint {
            Some(h) => format!("{m} (closest header: '{}')", crate::log::quote(h)),
            None => m.clone(),
        })
        .collect();
    let advice = match other {
        Some(d) => format!(
            "the header holds every declared column when split at '{}' instead: declare the delimiter in the rules: [sources.{}.read] delimiter = \"{}\"",
            show_delimiter(d),
            table.name,
            show_delimiter(d)
        ),
        None => format!("add an alias in the rules: [sources.{}.read.aliases]", table.name),
    };
    anyhow!(
        "missing required column{} {}; headers found: {} ({advice})",
        if missing.len() > 1 { "s" } else { "" },
        missing.join(", "),
        // The row is a record when the header is missing: its cells are quoted, cut.
        if e.best.is_empty() { "(none)".to_string() } else { crate::log::quote(&e.best.join(", ")) },
    )
}

fn show_delimiter(d: u8) -> String {
    if d == b'\t' {
        "\\t".to_string()
    } else {
        (d as char).to_string()
    }
}

/// The first delimiter other than `tried` with which the first rows of `sample` hold a header
/// with every declared column.
fn other_delimiter(sample: &str, tried: u8, table: &Table) -> Option<u8> {
    grid::DELIMITERS
        .into_iter()
        .filter(|d| *d != tried)
        .find(|d| grid::from_text(sample, *d).is_ok_and(|g| header::find(&g.rows.iter().map(|(_, r)| r.as_slice()).collect::<Vec<_>>(), table).is_ok()))
}

/// The plans over one file (see `RawFile`).
struct Opened {
    lf: LazyFrame,
    marks: LazyFrame,
    strict: Option<LazyFrame>,
    plain: bool,
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
        return Ok(Opened { lf, marks, strict: None, plain: false, info });
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
            let (lf, marks, mut info) = scan_csv(path, rel, table, delimiter, CsvEncoding::LossyUtf8, false)?;
            let strict = if broken { None } else { Some(scan_csv(path, rel, table, delimiter, CsvEncoding::Utf8, scan.plain)?.0) };
            info.encoding = Some(if bom { "UTF-8 (BOM)" } else { "UTF-8" });
            info.delimiter = Some(delimiter as char);
            return Ok(Opened { lf, marks, strict, plain: scan.plain, info });
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
    Ok(Opened { lf, marks, strict: None, plain: false, info })
}

/// A delimited file's `bytes` read whole through the grid, in `encoding` (detected when `Auto`).
fn from_text_file(bytes: &[u8], rel: &str, table: &Table, delimiter: u8, encoding: &Encoding, other: Option<u8>) -> Result<(LazyFrame, LazyFrame, FileInfo)> {
    let (text, encoding) = decode(bytes, encoding);
    grid::check_quotes_closed(&text, delimiter)?;
    let grid = grid::from_text(&text, delimiter)?;
    let (lf, marks, mut info) = from_grid(&grid, table, rel, other)?;
    info.encoding = Some(encoding);
    info.delimiter = Some(delimiter as char);
    Ok((lf, marks, info))
}

/// A file the strict UTF-8 read failed on, when the whole file is not UTF-8 but for a few
/// bytes (`decode::mostly_utf8`) and no encoding is declared: read again as GB18030, through
/// the grid. None when it stays UTF-8 (its bad bytes are then rejects of the lossy read).
pub fn reread_if_gb18030(path: &Path, table: &Table, info: &FileInfo) -> Result<Option<(LazyFrame, LazyFrame, FileInfo)>> {
    // A BOM says UTF-8, whatever follows.
    if table.read.encoding != Encoding::Auto || info.encoding != Some("UTF-8") {
        return Ok(None);
    }
    let bytes = std::fs::read(path)?;
    if mostly_utf8(&bytes) {
        return Ok(None);
    }
    let delimiter = info.delimiter.map_or(b',', |d| d as u8);
    from_text_file(&bytes, &info.file, table, delimiter, &Encoding::Gb18030, None).map(Some)
}

/// The non-empty headers of `row` that `mapping` leaves unused.
fn extra_headers(row: &[String], mapping: &Mapping) -> Vec<String> {
    row.iter()
        .enumerate()
        .filter(|(i, h)| !h.trim().is_empty() && !mapping.columns.iter().any(|(_, at, _)| at == i))
        .map(|(_, h)| h.trim().to_string())
        .collect()
}

fn empty_info(label: &str, format: &'static str) -> FileInfo {
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

/// Records from a grid: rows after the header, without blank rows and total lines (counted here,
/// so the plans' marks are all false).
/// `other`: see `missing_columns_error`.
fn from_grid(grid: &Grid, table: &Table, label: &str, other: Option<u8>) -> Result<(LazyFrame, LazyFrame, FileInfo)> {
    let rows: Vec<&[String]> = grid.rows.iter().map(|(_, r)| r.as_slice()).collect();
    let mapping = header::find(&rows, table).map_err(|e| missing_columns_error(table, e, other))?;
    let mut info = empty_info(label, "csv");
    info.header_line = grid.rows[mapping.header_index].0;
    info.mapping = mapping.columns.iter().map(|(c, _, h)| (c.clone(), h.clone())).collect();
    info.extra = extra_headers(&grid.rows[mapping.header_index].1, &mapping);
    let mut values: Vec<Vec<Option<&str>>> = vec![Vec::new(); mapping.columns.len()];
    let mut lines: Vec<i64> = Vec::new();
    for (line, cells) in &grid.rows[mapping.header_index + 1..] {
        let mapped: Vec<Option<&str>> = mapping.columns.iter().map(|(_, i, _)| cells.get(*i).map(String::as_str).filter(|c| !c.trim().is_empty())).collect();
        if mapped.iter().all(Option::is_none) {
            info.skipped_blank += 1;
            continue;
        }
        if header::is_total_row(cells) {
            info.skipped_total += 1;
            continue;
        }
        for (v, m) in values.iter_mut().zip(mapped) {
            v.push(m);
        }
        lines.push(*line as i64);
    }
    info.records = lines.len();
    let mut cols: Vec<Column> = mapping.columns.iter().zip(values).map(|((c, _, _), v)| Column::new(c.as_str().into(), v)).collect();
    cols.push(Column::new(LINE.into(), lines));
    let n = info.records;
    cols.push(Column::new(FILE.into(), vec![label; n]));
    let lf = DataFrame::new_infer_height(cols)?.lazy();
    let marks = lf.clone().select([col(LINE), lit(false).alias(BLANK), lit(false).alias(TOTAL)]);
    Ok((lf.with_column(lit(false).alias(MAYBE_SKIP)), marks, info))
}

/// polars' scan of UTF-8 delimited text with the header on line 1 (run later, by the
/// streaming engine, in parallel morsels). `plain`: no cell holds white space at either end
/// (`plain::scan`).
fn scan_csv(path: &Path, rel: &str, table: &Table, delimiter: u8, encoding: CsvEncoding, plain: bool) -> Result<(LazyFrame, LazyFrame, FileInfo)> {
    let path_str = path.to_str().ok_or_else(|| anyhow!("the path {} is not valid UTF-8", path.display()))?;
    let mut scan = LazyCsvReader::new(PlRefPath::new(path_str))
        .with_glob(false)
        .with_has_header(true)
        .with_infer_schema_length(Some(0))
        .with_separator(delimiter)
        .with_encoding(encoding)
        .with_truncate_ragged_lines(true)
        .with_missing_is_null(true)
        .with_row_index(Some(RowIndex { name: LINE.into(), offset: 2 }))
        .finish()
        .map_err(|e| anyhow!("cannot open: {}", crate::log::quote(&e.to_string())))?;
    let schema = scan.collect_schema().map_err(|e| anyhow!("cannot read as delimited text: {}", crate::log::quote(&e.to_string())))?;
    let header_cells: Vec<String> = schema.iter_names().filter(|n| n.as_str() != LINE).map(|n| n.to_string()).collect();
    let mapping = header::find(&[header_cells.as_slice()], table).map_err(|e| missing_columns_error(table, e, None))?;
    let mut info = empty_info(rel, "csv");
    info.mapping = mapping.columns.iter().map(|(c, _, h)| (c.clone(), h.clone())).collect();
    info.extra = extra_headers(&header_cells, &mapping);

    // Blank: every declared cell empty or white space (polars reads an empty cell as null).
    let is_blank = |c: Expr| c.clone().is_null().or(c.str().contains(lit(r"^\s*$"), true));
    let blank = mapping.columns.iter().map(|(_, i, _)| is_blank(col(header_cells[*i].as_str()))).reduce(|a, b| a.and(b)).unwrap_or(lit(false));
    // A total line: its first non-empty cell (of the first two) starts with 合计/总计/小计,
    // maybe centred with spaces between the characters (`合  计`, `合　计`).
    let total_in = |c: &str| col(c).str().contains(lit(r"^\s*(合\s*计|总\s*计|小\s*计)"), true);
    let total = match header_cells.as_slice() {
        [] => lit(false),
        [one] => total_in(one),
        [one, two, ..] => when(is_blank(col(one.as_str()))).then(total_in(two)).otherwise(total_in(one)),
    }
    .fill_null(lit(false));
    // Either needs the first declared cell blank, or the file's first cell blank or a total:
    // one regex over one column in the usual case where both are the same column.
    let maybe_in = |c: &str| {
        if plain {
            // No white space to skip (nor inside `合 计`): three prefix tests, no regex.
            let starts = |p: &str| col(c).str().starts_with(lit(p.to_string()));
            col(c).is_null().or(col(c).str().len_bytes().eq(lit(0u32))).or(starts("合计")).or(starts("总计")).or(starts("小计"))
        } else {
            col(c).is_null().or(col(c).str().contains(lit(r"^\s*($|合\s*计|总\s*计|小\s*计)"), true))
        }
    };
    let first_declared = mapping.columns.first().map(|(_, i, _)| header_cells[*i].as_str());
    let maybe = match (header_cells.first(), first_declared) {
        (Some(c0), Some(d0)) if c0 == d0 => maybe_in(c0),
        (Some(c0), Some(d0)) => maybe_in(c0).or(is_blank(col(d0))),
        _ => lit(true),
    }
    .fill_null(lit(true));
    let line = || col(LINE).cast(DataType::Int64);
    let marks = scan.clone().select([line(), blank.alias(BLANK), total.alias(TOTAL)]);
    let mut select: Vec<Expr> = mapping.columns.iter().map(|(c, i, _)| col(header_cells[*i].as_str()).alias(c.as_str())).collect();
    select.push(line());
    select.push(lit(rel).alias(FILE));
    select.push(maybe.alias(MAYBE_SKIP));
    Ok((scan.select(select), marks, info))
}
