//! polars' parallel scan of canonical UTF-8 delimited text, with the marks of blank and
//! 合计 lines.

use super::header;
use super::no_header::missing_columns_error;
use super::read::{empty_info, extra_headers, FileInfo, BLANK, FILE, LINE, MAYBE_SKIP, TOTAL};
use crate::rules::plan::Table;
use anyhow::{anyhow, Result};
use polars::prelude::*;
use std::path::Path;

/// What the byte scan tells of a file's lines (`plain::scan`), for the test of the lines that
/// might be blank or totals (`MAYBE_SKIP`, on the file's first cell).
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Lines {
    /// Any line may hold white space: one regex per line.
    Unknown,
    /// No line holds white space (nor inside `合 计`): three prefix tests, no regex.
    Plain,
    /// The lines that may are known (`plain::Scan::unclean_lines`), and their rows go the
    /// careful way: the prefix tests for every line, and the regex again for the careful rows
    /// only (`Scanned::rest_maybe_skip`).
    Known,
}

/// A file's plans (see `read::RawFile`).
pub(super) struct Scanned {
    pub lf: LazyFrame,
    pub marks: LazyFrame,
    pub info: FileInfo,
    /// With `Lines::Known`: `MAYBE_SKIP` for the careful rows, over the columns of `lf` (the
    /// prefix tests of `lf` are right on plain lines only). None when `lf`'s is right on every
    /// line.
    pub rest_maybe_skip: Option<Expr>,
}

/// polars' scan of UTF-8 delimited text with the header on line 1 (run later, by the
/// streaming engine, in parallel morsels).
pub(super) fn scan_csv(path: &Path, rel: &str, table: &Table, delimiter: u8, encoding: CsvEncoding, lines: Lines) -> Result<Scanned> {
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
    // A blank line has its first cell blank if that is declared, and any declared cell blank
    // if not; a total line has its first cell blank or a total. So one test over the first
    // column when it is declared (the usual case), and a second over a declared one if not.
    let by_prefix = |c: &str| {
        let starts = |p: &str| col(c).str().starts_with(lit(p.to_string()));
        col(c).is_null().or(col(c).str().len_bytes().eq(lit(0u32))).or(starts("合计")).or(starts("总计")).or(starts("小计"))
    };
    let by_regex = |c: &str| col(c).is_null().or(col(c).str().contains(lit(r"^\s*($|合\s*计|总\s*计|小\s*计)"), true));
    let first_declared = mapping.columns.iter().find(|(_, i, _)| *i == 0).map(|(name, _, _)| name.as_str());
    let any_declared = mapping.columns.first().map(|(_, i, _)| header_cells[*i].as_str());
    let (maybe, rest_maybe_skip) = match (header_cells.first(), first_declared, any_declared) {
        (Some(c0), Some(name), _) => match lines {
            Lines::Plain => (by_prefix(c0), None),
            // The careful rows have the declared columns, renamed.
            Lines::Known => (by_prefix(c0), Some(by_regex(name).fill_null(lit(true)))),
            Lines::Unknown => (by_regex(c0), None),
        },
        (Some(c0), None, Some(d)) if lines == Lines::Plain => (by_prefix(c0).or(is_blank(col(d))), None),
        (Some(c0), None, Some(d)) => (by_regex(c0).or(is_blank(col(d))), None),
        _ => (lit(true), None),
    };
    let maybe = maybe.fill_null(lit(true));
    let line = || col(LINE).cast(DataType::Int64);
    let marks = scan.clone().select([line(), blank.alias(BLANK), total.alias(TOTAL)]);
    let mut select: Vec<Expr> = mapping.columns.iter().map(|(c, i, _)| col(header_cells[*i].as_str()).alias(c.as_str())).collect();
    select.push(line());
    select.push(lit(rel).alias(FILE));
    select.push(maybe.alias(MAYBE_SKIP));
    Ok(Scanned { lf: scan.select(select), marks, info, rest_maybe_skip })
}
