//! Reading a table: every file its pattern matches (a glob reads monthly pushes as one
//! source), whatever its format, into one frame of text columns named as declared, plus the
//! line (or sheet row) and file of each record.
//!
//! Canonical UTF-8 delimited files whose header is on the first line take polars' parallel
//! CSV reader; everything else (workbooks, GB18030, title rows above the header) goes through a
//! grid of cells.

use super::decode::{decode, prefix_is_utf8};
use super::grid::{self, Grid};
use super::header::{self, Mapping, NoHeader};
use super::sha256_file;
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
    pub records: usize,
    pub skipped_blank: usize,
    pub skipped_total: usize,
}

pub struct RawTable {
    /// Declared columns as text, plus `LINE` and `FILE`.
    pub df: DataFrame,
    pub files: Vec<FileInfo>,
}

/// The files a pattern names, sorted (the order is part of the output's determinism).
pub fn resolve(dir: &Path, pattern: &str) -> Result<Vec<PathBuf>> {
    if !pattern.contains(['*', '?', '[']) {
        let p = dir.join(pattern);
        return Ok(if p.is_file() { vec![p] } else { Vec::new() });
    }
    let full = dir.join(pattern);
    let full = full.to_str().ok_or_else(|| anyhow!("the path {} is not valid UTF-8", full.display()))?;
    let mut out: Vec<PathBuf> = glob::glob(full)
        .with_context(|| format!("bad file pattern '{pattern}'"))?
        .filter_map(|p| p.ok())
        .filter(|p| p.is_file())
        .collect();
    out.sort();
    Ok(out)
}

const WORKBOOK: [&str; 5] = ["xlsx", "xlsm", "xlsb", "xls", "ods"];
/// Bytes looked at to find the encoding, delimiter and header of a text file.
const SNIFF_BYTES: usize = 256 * 1024;

/// Reads every file of `table`; `None` when no file matches (a source with no records).
pub fn read_table(table: &Table, dir: &Path) -> Result<Option<RawTable>> {
    let paths = resolve(dir, &table.read.pattern)?;
    if paths.is_empty() {
        return Ok(None);
    }
    let mut frames = Vec::new();
    let mut files = Vec::new();
    for path in &paths {
        let rel = path.strip_prefix(dir).unwrap_or(path).to_string_lossy().replace('\\', "/");
        let (df, info) = read_file(path, &rel, table).with_context(|| format!("{} ({})", rel, table.name))?;
        frames.push(df.lazy());
        files.push(info);
    }
    let df = concat(frames, UnionArgs::default())?.collect()?;
    Ok(Some(RawTable { df, files }))
}

fn missing_columns_error(table: &Table, e: NoHeader) -> anyhow::Error {
    let missing: Vec<String> = e
        .missing
        .iter()
        .map(|(m, hint)| match hint {
            Some(h) => format!("{m} (closest header: '{h}')"),
            None => m.clone(),
        })
        .collect();
    anyhow!(
        "missing required column{} {}; headers found: {} (add an alias in the rules: [sources.{}.read.aliases])",
        if missing.len() > 1 { "s" } else { "" },
        missing.join(", "),
        if e.best.is_empty() { "(none)".to_string() } else { e.best.join(", ") },
        table.name
    )
}

/// Reads one file; its SHA-256 (for the manifest) is computed on another thread meanwhile, so
/// that hashing a large roster does not add to the time it takes to parse it.
fn read_file(path: &Path, rel: &str, table: &Table) -> Result<(DataFrame, FileInfo)> {
    std::thread::scope(|scope| {
        let hashing = scope.spawn(|| sha256_file(path));
        let read = read_unhashed(path, rel, table);
        let sha256 = hashing.join().map_err(|_| anyhow!("hashing {} failed", path.display()))??;
        read.map(|(df, mut info)| {
            info.sha256 = sha256;
            (df, info)
        })
    })
}

fn read_unhashed(path: &Path, rel: &str, table: &Table) -> Result<(DataFrame, FileInfo)> {
    let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("").to_ascii_lowercase();
    if WORKBOOK.contains(&ext.as_str()) {
        let (grid, sheet) = grid::from_workbook(path, table.read.sheet.as_ref())?;
        let label = format!("{rel}[{sheet}]");
        let (df, mut info) = from_grid(&grid, table, &label)?;
        info.format = if ext == "xls" { "xls" } else { "xlsx" };
        info.sheet = Some(sheet);
        return Ok((df, info));
    }
    let mut prefix = Vec::with_capacity(SNIFF_BYTES);
    std::fs::File::open(path)?.take(SNIFF_BYTES as u64).read_to_end(&mut prefix)?;
    let utf8 = table.read.encoding != Encoding::Gb18030 && (prefix.starts_with(b"\xEF\xBB\xBF") || prefix_is_utf8(&prefix));
    let (sample, _) = decode(&prefix, if utf8 { &Encoding::Utf8 } else { &Encoding::Gb18030 });
    let delimiter = table.read.delimiter.unwrap_or_else(|| grid::sniff_delimiter(&sample, &ext));
    let head = grid::from_text(&sample, delimiter).unwrap_or(Grid { rows: Vec::new() });
    let head_rows: Vec<&[String]> = head.rows.iter().map(|(_, r)| r.as_slice()).collect();
    let first_line_header = matches!(header::find(&head_rows, table), Ok(Mapping { header_index: 0, .. })) && head.rows.first().is_some_and(|(l, _)| *l == 1);

    if utf8 && first_line_header {
        let (df, mut info) = fast_csv(path, rel, table, delimiter)?;
        info.encoding = Some(if prefix.starts_with(b"\xEF\xBB\xBF") { "UTF-8 (BOM)" } else { "UTF-8" });
        info.delimiter = Some(delimiter as char);
        return Ok((df, info));
    }
    let bytes = std::fs::read(path)?;
    let (text, encoding) = decode(&bytes, &table.read.encoding);
    let grid = grid::from_text(&text, delimiter)?;
    let (df, mut info) = from_grid(&grid, table, rel)?;
    info.encoding = Some(encoding);
    info.delimiter = Some(delimiter as char);
    Ok((df, info))
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
        records: 0,
        skipped_blank: 0,
        skipped_total: 0,
    }
}

/// Records from a grid: rows after the header, without blank rows and total lines.
fn from_grid(grid: &Grid, table: &Table, label: &str) -> Result<(DataFrame, FileInfo)> {
    let rows: Vec<&[String]> = grid.rows.iter().map(|(_, r)| r.as_slice()).collect();
    let mapping = header::find(&rows, table).map_err(|e| missing_columns_error(table, e))?;
    let mut info = empty_info(label, "csv");
    info.header_line = grid.rows[mapping.header_index].0;
    info.mapping = mapping.columns.iter().map(|(c, _, h)| (c.clone(), h.clone())).collect();
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
    Ok((DataFrame::new_infer_height(cols)?, info))
}

/// polars' parallel reader for UTF-8 delimited text with the header on line 1.
fn fast_csv(path: &Path, rel: &str, table: &Table, delimiter: u8) -> Result<(DataFrame, FileInfo)> {
    let parse = CsvParseOptions::default()
        .with_separator(delimiter)
        .with_encoding(CsvEncoding::LossyUtf8)
        .with_truncate_ragged_lines(true)
        .with_missing_is_null(true);
    let df = CsvReadOptions::default()
        .with_has_header(true)
        .with_infer_schema_length(Some(0))
        .with_parse_options(parse)
        .with_row_index(Some(RowIndex { name: LINE.into(), offset: 2 }))
        .try_into_reader_with_file_path(Some(path.to_path_buf()))
        .map_err(|e| anyhow!("cannot open: {e}"))?
        .finish()
        .map_err(|e| anyhow!("cannot read as delimited text: {e}"))?;
    let names: Vec<String> = df.get_column_names().iter().map(|s| s.to_string()).collect();
    let header_cells: Vec<String> = names.iter().filter(|n| *n != LINE).cloned().collect();
    let mapping = header::find(&[header_cells.as_slice()], table).map_err(|e| missing_columns_error(table, e))?;
    let mut info = empty_info(rel, "csv");
    info.mapping = mapping.columns.iter().map(|(c, _, h)| (c.clone(), h.clone())).collect();

    let is_blank = |c: Expr| c.clone().is_null().or(c.str().strip_chars(lit(NULL)).str().len_bytes().eq(lit(0u32)));
    let blank = mapping
        .columns
        .iter()
        .map(|(_, i, _)| is_blank(col(header_cells[*i].as_str())))
        .reduce(|a, b| a.and(b))
        .unwrap_or(lit(false));
    // A total line: its first non-empty cell (of the first two) starts with 合计/总计/小计.
    let first_text = match header_cells.as_slice() {
        [] => lit(NULL).cast(DataType::String),
        [one] => col(one.as_str()).str().strip_chars(lit(NULL)),
        [one, two, ..] => when(is_blank(col(one.as_str()))).then(col(two.as_str()).str().strip_chars(lit(NULL))).otherwise(col(one.as_str()).str().strip_chars(lit(NULL))),
    };
    let total = ["合计", "总计", "小计"].iter().map(|t| first_text.clone().str().starts_with(lit(*t))).reduce(|a, b| a.or(b)).expect("three").fill_null(lit(false));
    let counted = df
        .lazy()
        .with_columns([blank.alias("__blank"), total.alias("__total")])
        .collect()?;
    let count = |c: &str| -> Result<usize> { Ok(counted.column(c)?.as_materialized_series().bool()?.sum().unwrap_or(0) as usize) };
    info.skipped_blank = count("__blank")?;
    info.skipped_total = count("__total")?;
    let mut select: Vec<Expr> = mapping.columns.iter().map(|(c, i, _)| col(header_cells[*i].as_str()).alias(c.as_str())).collect();
    select.push(col(LINE).cast(DataType::Int64));
    select.push(lit(rel).alias(FILE));
    let out = counted.lazy().filter(col("__blank").not().and(col("__total").not())).select(select).collect()?;
    info.records = out.height();
    Ok((out, info))
}
