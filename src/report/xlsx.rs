//! xlsx renderer: one sheet per table for Excel/WPS users. A table longer than a sheet's
//! 1,048,576 rows continues on further sheets (`监测对象(2)`, …). Sheets are written in
//! rust_xlsxwriter's constant-memory mode: each row goes to a temporary file as soon as the
//! next one starts (strings inline, no shared-string table), and the workbook is streamed to
//! its file, so a list of a million rows is never held twice in memory.

use super::csv::{for_each_row_in, headers};
use super::{write_atomically, Renderer, Table, TableData};
use anyhow::{anyhow, Result};
use polars::prelude::len;
use std::ops::Range;
use rust_xlsxwriter::{DocProperties, ExcelDateTime, Format, Workbook, Worksheet};
use std::path::{Path, PathBuf};

pub struct XlsxRenderer;

/// The workbook's deflate level (1 fastest to 9 smallest; see `render`).
const ZIP_LEVEL: u8 = 3;

/// Data rows per sheet: Excel's limit less the header row.
const ROWS_PER_SHEET: usize = 1_048_575;

fn new_sheet(wb: &mut Workbook, name: &str, head: &[String]) -> Result<Worksheet> {
    let mut sheet = wb.new_worksheet_with_constant_memory()?;
    sheet.set_name(name)?;
    sheet.write_row_with_format(0, 0, head.iter().map(String::as_str), &Format::new().set_bold())?;
    for (i, h) in head.iter().enumerate() {
        let width = if h == "证据" { 80 } else { (h.chars().count() * 2 + 2).max(10) };
        sheet.set_column_width(i as u16, width as u16)?;
    }
    sheet.set_freeze_panes(1, 0)?;
    Ok(sheet)
}

/// Columns holding whole counts (persons, households, line numbers).
fn is_count(header: &str) -> bool {
    header == "家庭人口" || header == "行号" || header.ends_with("户数") || header.ends_with("人数")
}

/// Rows of a table (a plan is computed here).
fn height(data: &TableData) -> Result<usize> {
    Ok(match data {
        TableData::Text(t) => t.rows.len(),
        TableData::Frame(df) => df.height(),
        TableData::Plan(lf) => (*lf).clone().select([len()]).collect()?.column("len")?.get(0)?.extract::<u64>().unwrap_or(0) as usize,
    })
}

/// The sheets of a table of `rows` rows: their names and the rows each holds (an empty table
/// still gets its sheet, with the header).
fn sheets(name: &str, rows: usize) -> Vec<(String, Range<usize>)> {
    (0..rows.div_ceil(ROWS_PER_SHEET).max(1))
        .map(|p| {
            let title = if p == 0 { name.to_string() } else { format!("{name}({})", p + 1) };
            (title, p * ROWS_PER_SHEET..((p + 1) * ROWS_PER_SHEET).min(rows))
        })
        .collect()
}

/// Writes rows `rows` of `data` under the header row of `sheet`.
fn fill(mut sheet: Worksheet, data: &TableData, rows: Range<usize>, counts: &[bool]) -> Result<Worksheet> {
    let mut row: u32 = 0;
    for_each_row_in(data, rows, |cells| {
        row += 1;
        // Counts are numbers, so that Excel can sum them. Everything else is text: IDs must not
        // turn into numbers, and amounts stay exactly as computed (no binary floating point).
        for (c, cell) in cells.iter().enumerate() {
            match counts[c].then(|| cell.parse::<u32>().ok()).flatten() {
                Some(n) => sheet.write_number(row, c as u16, n)?,
                None => sheet.write_string(row, c as u16, *cell)?,
            };
        }
        Ok(())
    })?;
    Ok(sheet)
}

impl Renderer for XlsxRenderer {
    fn render(&self, tables: &[Table], dir: &Path) -> Result<Vec<PathBuf>> {
        let mut wb = Workbook::new();
        // A fixed creation date keeps the workbook identical from run to run.
        wb.set_properties(&DocProperties::new().set_creation_datetime(&ExcelDateTime::from_ymd(2000, 1, 1)?));
        // Deflate level 3, not the zip default 6: measured at 1M households (200 MB of sheet
        // XML), the report stage took 1.95 s instead of 2.6 s for a file 12 % larger (23.8 MB
        // against 21.2 MB). Level 1 saved 0.15 s more for a file 55 % larger.
        wb.set_zip_compression_level(ZIP_LEVEL);
        // Every sheet is made first, a table longer than one sheet getting several; then they
        // are filled at once, each on its own thread (each writes its own temporary file), and
        // added in order.
        let mut parts = Vec::new();
        for t in tables.iter().filter(|t| t.workbook) {
            let head = headers(&t.data)?;
            let counts: Vec<bool> = head.iter().map(|h| is_count(h)).collect();
            let rows = height(&t.data)?;
            for (name, range) in sheets(t.sheet, rows) {
                let sheet = new_sheet(&mut wb, &name, &head)?;
                parts.push((sheet, &t.data, range, counts.clone()));
            }
        }
        let filled: Vec<Result<Worksheet>> = std::thread::scope(|scope| {
            let fills: Vec<_> = parts.into_iter().map(|(sheet, data, rows, counts)| scope.spawn(move || fill(sheet, data, rows, &counts))).collect();
            fills.into_iter().map(|f| f.join().unwrap_or_else(|_| Err(anyhow!("filling a sheet of report.xlsx failed")))).collect()
        });
        for sheet in filled {
            wb.push_worksheet(sheet?);
        }
        let path = dir.join("report.xlsx");
        write_atomically(&path, |w| Ok(wb.save_to_writer(w)?))?;
        Ok(vec![path])
    }
}

#[cfg(test)]
mod tests {
    use super::sheets;

    #[test]
    fn a_table_longer_than_a_sheet_continues_on_numbered_sheets() {
        // Excel: 1,048,576 rows per sheet, the first being the header.
        assert_eq!(sheets("监测对象", 0), vec![("监测对象".to_string(), 0..0)]);
        assert_eq!(sheets("监测对象", 1_048_575), vec![("监测对象".to_string(), 0..1_048_575)]);
        assert_eq!(
            sheets("监测对象", 1_048_576),
            vec![("监测对象".to_string(), 0..1_048_575), ("监测对象(2)".to_string(), 1_048_575..1_048_576)]
        );
        let three = sheets("新识别线索", 2 * 1_048_575 + 10);
        assert_eq!(three.len(), 3);
        assert_eq!(three[2], ("新识别线索(3)".to_string(), 2_097_150..2_097_160));
    }
}
