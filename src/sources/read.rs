//! Reads one delimited file into a DataFrame of text columns plus its line numbers.

use anyhow::{Context, Result};
use polars::prelude::*;
use std::path::Path;

/// The column holding each record's 1-based line number in its file (the header is line 1).
pub const LINE: &str = "__line";

/// Every column as text (nothing is inferred: values are validated by the rules' types),
/// header names trimmed, plus `LINE`. Bytes that are not UTF-8 become U+FFFD, which the
/// validation rejects row by row instead of failing the whole file.
pub fn read_text_csv(path: &Path) -> Result<DataFrame> {
    let parse = CsvParseOptions::default()
        .with_encoding(CsvEncoding::LossyUtf8)
        .with_truncate_ragged_lines(true)
        .with_missing_is_null(true);
    let mut df = CsvReadOptions::default()
        .with_has_header(true)
        .with_infer_schema_length(Some(0))
        .with_parse_options(parse)
        .with_row_index(Some(RowIndex { name: LINE.into(), offset: 2 }))
        .try_into_reader_with_file_path(Some(path.to_path_buf()))
        .map_err(|e| anyhow::anyhow!("cannot open {}: {e}", path.display()))?
        .finish()
        .map_err(|e| anyhow::anyhow!("{e}"))
        .with_context(|| format!("cannot read {} as CSV", path.display()))?;
    let names: Vec<String> = df
        .get_column_names()
        .iter()
        .map(|n| n.trim_start_matches('\u{feff}').trim().to_string())
        .collect();
    df.set_column_names(&names.iter().map(String::as_str).collect::<Vec<_>>()).map_err(|e| anyhow::anyhow!("{e}"))?;
    let df = df
        .lazy()
        .with_column(col(LINE).cast(DataType::Int64))
        .collect()
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok(df)
}

/// The header row of a CSV file, trimmed (BOM removed).
pub fn header(path: &Path) -> Result<Vec<String>> {
    let mut r = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_path(path)
        .with_context(|| format!("cannot open {}", path.display()))?;
    let mut rec = csv::ByteRecord::new();
    r.read_byte_record(&mut rec).with_context(|| format!("cannot read the header of {}", path.display()))?;
    Ok(rec
        .iter()
        .map(|f| String::from_utf8_lossy(f).trim_start_matches('\u{feff}').trim().to_string())
        .collect())
}
