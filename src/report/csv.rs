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

/// Writes the visible columns of a frame, as text, by polars' CSV writer (it formats rows in
/// parallel batches; a per-cell loop took five times as long on a million rows). The bytes are
/// those the `csv` crate writes for the same cells: a cell is quoted only when it holds a comma,
/// a quote, CR or LF, and an empty cell is written as nothing. polars quotes an empty text
/// (`""`, to tell it from a missing value), so empty texts are written as missing values.
fn write_frame(w: &mut impl Write, df: &DataFrame) -> Result<()> {
    // One column at a time, so that each is held at most twice while converted.
    let mut columns = Vec::new();
    for (name, ca) in text_columns(df)? {
        let c = col(name.as_str());
        let one = DataFrame::new_infer_height(vec![ca.with_name(name.as_str().into()).into_column()])?;
        let bare = one
            .lazy()
            .select([when(c.clone().str().len_bytes().eq(lit(0u32))).then(lit(NULL).cast(DataType::String)).otherwise(c).alias(name.as_str())])
            .collect()?;
        columns.push(bare.column(name.as_str())?.clone());
    }
    let mut text = DataFrame::new_infer_height(columns)?;
    CsvWriter::new(w)
        .include_header(true)
        .with_separator(b',')
        .with_quote_char(b'"')
        .with_quote_style(QuoteStyle::Necessary)
        .with_line_terminator("\n".into())
        .with_null_value("".into())
        .finish(&mut text)?;
    Ok(())
}

impl Renderer for CsvRenderer {
    fn render(&self, tables: &[Table], dir: &Path) -> Result<Vec<PathBuf>> {
        let mut written = Vec::new();
        for t in tables {
            let path = dir.join(format!("{}.csv", t.stem));
            write_atomically(&path, |w| {
                w.write_all("\u{feff}".as_bytes())?;
                match &t.data {
                    TableData::Frame(df) => write_frame(w, df),
                    TableData::Plan(lf) => write_frame(w, &(*lf).clone().collect()?),
                    TableData::Text(_) => {
                        let mut cw = csv::WriterBuilder::new().terminator(csv::Terminator::Any(b'\n')).from_writer(w);
                        cw.write_record(headers(&t.data)?)?;
                        for_each_row(&t.data, |cells| Ok(cw.write_record(cells)?))?;
                        cw.flush()?;
                        Ok(())
                    }
                }
            })?;
            written.push(path);
        }
        Ok(written)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::Table;

    #[test]
    fn cells_are_quoted_only_where_rfc_4180_needs_it_and_empty_cells_are_bare() {
        // Worked by hand from RFC 4180 and what the `csv` crate wrote before: quotes around a
        // cell holding a comma, a quote (doubled), LF or CR; none around an empty text, a
        // missing value or spaces; internal `__` columns left out.
        let df = df!(
            "名称" => [Some("a,b"), Some("say \"hi\""), Some("line1\nline2"), Some("cr\rx"), Some(""), None, Some(" 空格 "), Some("张三")],
            "数" => [Some(1i64), Some(2), Some(3), Some(4), Some(5), None, Some(7), Some(8)],
            "__hidden" => ["x"; 8],
        )
        .unwrap();
        let dir = tempfile::tempdir().unwrap();
        CsvRenderer.render(&[Table::new("t", "表", TableData::Frame(&df))], dir.path()).unwrap();
        let got = std::fs::read_to_string(dir.path().join("t.csv")).unwrap();
        let want = "\u{feff}名称,数\n\"a,b\",1\n\"say \"\"hi\"\"\",2\n\"line1\nline2\",3\n\"cr\rx\",4\n,5\n,\n 空格 ,7\n张三,8\n";
        assert_eq!(got, want);
    }
}
