//! Sources: read each input file, validate every cell by its declared type, normalize IDs,
//! and split the rows into valid typed records and rejects (file, line, column, value, reason).

mod csv_scan;
pub mod decode;
pub mod grid;
mod grid_frame;
pub mod header;
pub mod id;
mod no_header;
pub mod plain;
pub mod read;
mod resolve;
mod validate;
pub mod values;

use crate::rules::plan::{ColType, Table};
use anyhow::{Context, Result};
use polars::prelude::*;
use polars_core::query_result::QueryResult;
use read::{FileInfo, FILE, LINE};
use sha2::{Digest, Sha256};
use std::path::Path;

/// The rejects table's columns, in order.
pub const REJECT_COLUMNS: [&str; 6] = ["来源", "文件", "行号", "列", "值", "原因"];

/// One table after reading and validation.
pub struct TableData {
    pub name: String,
    /// The declared file name or pattern.
    pub pattern: String,
    /// The files read; empty when none matched (a source with no records).
    pub files: Vec<FileInfo>,
    pub rows_read: usize,
    /// Valid rows: the declared columns, typed, plus `__line` and `__file`.
    pub valid: DataFrame,
    /// One row per unreadable cell (`REJECT_COLUMNS`).
    pub rejects: DataFrame,
}

impl TableData {
    pub fn present(&self) -> bool {
        !self.files.is_empty()
    }
}

pub fn sha256_file(path: &Path) -> Result<String> {
    let mut f = std::fs::File::open(path)?;
    let mut h = Sha256::new();
    std::io::copy(&mut f, &mut h)?;
    Ok(format!("{:x}", h.finalize()))
}

/// An empty frame with the declared columns (for an absent file).
fn empty_typed(table: &Table) -> Result<DataFrame> {
    let mut cols: Vec<Column> = table
        .columns
        .iter()
        .map(|c| {
            let dt = match &c.ty {
                ColType::Money => values::money_dtype(),
                ColType::Integer => DataType::Int64,
                ColType::Date => DataType::Date,
                _ => DataType::String,
            };
            Column::full_null(c.name.as_str().into(), 0, &dt)
        })
        .collect();
    cols.push(Column::full_null(LINE.into(), 0, &DataType::Int64));
    cols.push(Column::full_null(FILE.into(), 0, &DataType::String));
    Ok(DataFrame::new_infer_height(cols)?)
}

/// An empty listing (rejects, unmatched): text columns, with 行号 an integer.
pub fn empty_listing(columns: &[&str]) -> DataFrame {
    let cols: Vec<Column> =
        columns.iter().map(|n| Column::full_null((*n).into(), 0, if *n == "行号" { &DataType::Int64 } else { &DataType::String })).collect();
    DataFrame::new_infer_height(cols).expect("static schema")
}

pub fn empty_rejects() -> DataFrame {
    empty_listing(&REJECT_COLUMNS)
}

/// Why a run could not use its inputs, attached as context to the error so that `main` can
/// map it to an exit code (a cron job tells "the roster is missing" from "a file is broken").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InputProblem {
    /// A file exists but cannot be read: not a workbook, undecodable, a declared column missing.
    Unreadable,
    /// A required input (the roster, or a source with `required = true`) has no file.
    Missing,
}

impl std::fmt::Display for InputProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            InputProblem::Unreadable => "an input file cannot be read",
            InputProblem::Missing => "a required input is missing",
        })
    }
}

/// Collects a plan with polars' streaming engine: it runs in morsels on every core, and a
/// scan's file is never held whole as text. Used where the plan keeps row order by its nature
/// (scans, element-wise columns, filters), never for joins whose output order matters.
pub fn stream(lf: LazyFrame) -> PolarsResult<DataFrame> {
    let mut df = match lf.collect_with_engine(Engine::Streaming)? {
        QueryResult::Single(df) => df,
        // Only `collect_all` gives several results; one plan has one.
        QueryResult::Multiple(_) => polars_bail!(ComputeError: "one result was expected from one plan"),
    };
    // The engine's output is one chunk per morsel; joins and group-bys downstream want one.
    // Columns in parallel, one per core, so that at most that many are held twice at once.
    df.rechunk_mut_par();
    Ok(df)
}

/// Where the evaluation gets each department's extract, in the rules' order.
pub enum Extracts<'a> {
    /// Read each one when its turn comes.
    Here(&'a Path),
    /// Read ahead on another thread (`read_ahead`).
    Ahead(std::sync::mpsc::Receiver<Result<TableData>>),
}

impl Extracts<'_> {
    /// The next extract; `table` is the one expected (the rules' order).
    pub fn next(&self, table: &Table) -> Result<TableData> {
        match self {
            Extracts::Here(dir) => load_table(table, dir),
            Extracts::Ahead(next) => {
                let data = next.recv().map_err(|_| anyhow::anyhow!("internal error: {} was not read", table.name))??;
                if data.name != table.name {
                    anyhow::bail!("internal error: {} was read where {} was expected", data.name, table.name);
                }
                Ok(data)
            }
        }
    }
}

/// Reads the extracts of `tables` (in order) on a thread of `scope`, at most `ahead` of them
/// waiting, read, besides the one being handed over. Department extracts depend neither on the
/// roster nor on each other: read while the roster is checked and the previous source joined,
/// they fill the core those steps' serial parts leave idle. The thread stops at the first error
/// (handed over in its turn) or when the receiving side is dropped.
pub fn read_ahead<'scope, 'env: 'scope>(
    scope: &'scope std::thread::Scope<'scope, 'env>,
    tables: Vec<&'env Table>,
    dir: &'env Path,
    ahead: usize,
) -> Extracts<'env> {
    let (loaded, next) = std::sync::mpsc::sync_channel(ahead);
    scope.spawn(move || {
        for table in tables {
            let data = load_table(table, dir);
            let failed = data.is_err();
            if loaded.send(data).is_err() || failed {
                break;
            }
        }
    });
    Extracts::Ahead(next)
}

/// Reads and validates every file of `table` inside `dir`.
pub fn load_table(table: &Table, dir: &Path) -> Result<TableData> {
    load_table_keeping(table, dir, None)
}

/// Like `load_table`, but the valid rows keep only the columns named in `keep` (plus line and
/// file): every column is still validated, and a row with an unreadable cell in any of them
/// is still rejected, but the others are not held once checked.
pub fn load_table_keeping(table: &Table, dir: &Path, keep: Option<&[String]>) -> Result<TableData> {
    let raws = read::read_files(table, dir).map_err(|e| e.context(InputProblem::Unreadable))?;
    if raws.is_empty() {
        return Ok(TableData {
            name: table.name.clone(),
            pattern: table.file.clone(),
            files: Vec::new(),
            rows_read: 0,
            valid: kept(empty_typed(table)?, keep)?,
            rejects: empty_rejects(),
        });
    }
    let mut valid: Option<DataFrame> = None;
    let mut rejects = Vec::new();
    let mut files = Vec::new();
    for raw in raws {
        let label = format!("{} ({})", raw.info.file, table.name);
        let (part, part_rejects, info) = validate::load_file(table, raw, keep).with_context(|| label).map_err(|e| e.context(InputProblem::Unreadable))?;
        valid = Some(match valid {
            None => part,
            Some(mut all) => {
                all.vstack_mut_owned(part)?;
                all
            }
        });
        rejects.push(part_rejects);
        files.push(info);
    }
    let valid = valid.ok_or_else(|| anyhow::anyhow!("{}: no file was read", table.name))?;
    let rows_read = files.iter().map(|f| f.records).sum();
    let rejects = concat(rejects, UnionArgs::default())?.sort(["文件", "行号"], SortMultipleOptions::default().with_maintain_order(true)).collect()?;
    Ok(TableData { name: table.name.clone(), pattern: table.file.clone(), files, rows_read, valid, rejects })
}

/// The columns of `df` named in `keep` (all when `None`), with line and file.
fn kept(df: DataFrame, keep: Option<&[String]>) -> Result<DataFrame> {
    match keep {
        None => Ok(df),
        Some(k) => Ok(df.select(df.get_column_names().iter().map(|n| n.to_string()).filter(|n| k.contains(n) || n == LINE || n == FILE))?),
    }
}

/// Rejects for rows of `data` selected by a condition, all with one column and reason.
pub fn reject_rows(data: &TableData, rows: LazyFrame, column: &str, reason: Expr) -> LazyFrame {
    rows.select([
        lit(data.name.as_str()).alias("来源"),
        col(FILE).alias("文件"),
        col(LINE).alias("行号"),
        lit(column).alias("列"),
        col(column).cast(DataType::String).fill_null(lit("")).alias("值"),
        reason.cast(DataType::String).alias("原因"),
    ])
}
