//! CSV renderer: UTF-8 with a BOM (so Excel on a Chinese Windows opens it right), RFC 4180
//! quoting, LF line ends; internal `__` columns are never written.

use super::{write_atomically, Renderer, Table, TableData};
use anyhow::Result;
use polars::prelude::*;
use std::io::Write;
use std::ops::Range;
use std::path::{Path, PathBuf};

pub struct CsvRenderer;

/// The visible columns of a frame, as text.
pub fn text_columns(df: &DataFrame) -> Result<Vec<(String, StringChunked)>> {
    let mut out = Vec::new();
    for c in df.columns() {
        if c.name().starts_with("__") {
            continue;
        }
        let s = c.as_materialized_series().cast(&DataType::String)?;
        out.push((c.name().to_string(), s.str()?.clone()));
    }
    Ok(out)
}

/// Calls `row` with each row's cells, in order; returns the headers.
pub fn for_each_row(table: &TableData, row: impl FnMut(&[&str]) -> Result<()>) -> Result<Vec<String>> {
    for_each_row_in(table, 0..usize::MAX, row)
}

/// Like `for_each_row`, for the rows of `range` only (clamped to the table's rows).
pub fn for_each_row_in(table: &TableData, range: Range<usize>, mut row: impl FnMut(&[&str]) -> Result<()>) -> Result<Vec<String>> {
    let frame = |df: &DataFrame, row: &mut dyn FnMut(&[&str]) -> Result<()>| -> Result<Vec<String>> {
        let start = range.start.min(df.height());
        let part = df.slice(start as i64, range.end.min(df.height()) - start);
        let cols = text_columns(&part)?;
        let mut cells: Vec<&str> = Vec::with_capacity(cols.len());
        for i in 0..part.height() {
            cells.clear();
            cells.extend(cols.iter().map(|(_, c)| c.get(i).unwrap_or("")));
            row(&cells)?;
        }
        Ok(cols.into_iter().map(|(n, _)| n).collect())
    };
    match table {
        TableData::Text(t) => {
            let start = range.start.min(t.rows.len());
            for r in &t.rows[start..range.end.min(t.rows.len())] {
                let cells: Vec<&str> = r.iter().map(String::as_str).collect();
                row(&cells)?;
            }
            Ok(t.headers.clone())
        }
        TableData::Frame(df) => frame(df, &mut row),
        TableData::Plan(lf) => frame(&(*lf).clone().collect()?, &mut row),
    }
}

pub fn headers(table: &TableData) -> Result<Vec<String>> {
    Ok(match table {
        TableData::Text(t) => t.headers.clone(),
        TableData::Frame(df) => visible(df.get_column_names().into_iter()),
        TableData::Plan(lf) => visible((*lf).clone().collect_schema()?.iter_names()),
    })
}

fn visible<'a>(names: impl Iterator<Item = &'a PlSmallStr>) -> Vec<String> {
    names.filter(|n| !n.starts_with("__")).map(|n| n.to_string()).collect()
}

impl Renderer for CsvRenderer {
    fn render(&self, tables: &[Table], dir: &Path) -> Result<Vec<PathBuf>> {
        let mut written = Vec::new();
        for t in tables {
            let path = dir.join(format!("{}.csv", t.stem));
            write_atomically(&path, |w| {
                w.write_all("\u{feff}".as_bytes())?;
                let mut cw = csv::WriterBuilder::new().terminator(csv::Terminator::Any(b'\n')).from_writer(w);
                cw.write_record(headers(&t.data)?)?;
                for_each_row(&t.data, |cells| Ok(cw.write_record(cells)?))?;
                cw.flush()?;
                Ok(())
            })?;
            written.push(path);
        }
        Ok(written)
    }
}
