//! Records of a grid of cells (workbooks, re-encoded text, files whose header is not on the
//! first line or whose lines polars would not count): blank and total lines dropped and
//! counted here, the rest one frame of text columns.

use super::decode::{decode, mostly_utf8};
use super::grid::{self, Grid};
use super::header;
use super::no_header::missing_columns_error;
use super::read::{empty_info, extra_headers, FileInfo, BLANK, FILE, LINE, MAYBE_SKIP, TOTAL};
use crate::rules::plan::{Encoding, Table};
use anyhow::Result;
use polars::prelude::*;
use std::path::Path;

/// A delimited file's `bytes` read whole through the grid, in `encoding` (detected when `Auto`).
pub(super) fn from_text_file(
    bytes: &[u8],
    rel: &str,
    table: &Table,
    delimiter: u8,
    encoding: &Encoding,
    other: Option<u8>,
) -> Result<(LazyFrame, LazyFrame, FileInfo)> {
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

/// Records from a grid: rows after the header, without blank rows and total lines (counted here,
/// so the plans' marks are all false).
/// `other`: see `missing_columns_error`.
pub(super) fn from_grid(grid: &Grid, table: &Table, label: &str, other: Option<u8>) -> Result<(LazyFrame, LazyFrame, FileInfo)> {
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
