//! xlsx renderer: one sheet per table for Excel/WPS users. A table longer than a sheet's
//! 1,048,576 rows continues on further sheets (`监测对象(2)`, …). Sheets are written in
//! rust_xlsxwriter's constant-memory mode: each row goes to a temporary file as soon as the
//! next one starts (strings inline, no shared-string table), and the workbook is streamed to
//! its file, so a list of a million rows is never held twice in memory.

use super::csv::{for_each_row, headers};
use super::{write_atomically, Renderer, Table};
use anyhow::Result;
use rust_xlsxwriter::{DocProperties, ExcelDateTime, Format, Workbook, Worksheet};
use std::path::{Path, PathBuf};

pub struct XlsxRenderer;

/// Data rows per sheet: Excel's limit less the header row.
const ROWS_PER_SHEET: u32 = 1_048_575;

fn new_sheet(wb: &mut Workbook, name: &str, head: &[String]) -> Result<Worksheet> {
    let mut sheet = wb.new_worksheet_with_constant_memory();
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

impl Renderer for XlsxRenderer {
    fn render(&self, tables: &[Table], dir: &Path) -> Result<Vec<PathBuf>> {
        let mut wb = Workbook::new();
        // A fixed creation date keeps the workbook identical from run to run.
        wb.set_properties(&DocProperties::new().set_creation_datetime(&ExcelDateTime::from_ymd(2000, 1, 1)?));
        for t in tables.iter().filter(|t| t.workbook) {
            let head = headers(&t.data)?;
            let counts: Vec<bool> = head.iter().map(|h| is_count(h)).collect();
            let mut done: Vec<Worksheet> = Vec::new();
            let mut sheet = new_sheet(&mut wb, t.sheet, &head)?;
            let mut row: u32 = 0;
            for_each_row(&t.data, |cells| {
                if row == ROWS_PER_SHEET {
                    let name = format!("{}({})", t.sheet, done.len() + 2);
                    let next = new_sheet(&mut wb, &name, &head)?;
                    done.push(std::mem::replace(&mut sheet, next));
                    row = 0;
                }
                row += 1;
                // Counts are numbers, so that Excel can sum them. Everything else is text: IDs
                // must not turn into numbers, and amounts stay exactly as computed (no binary
                // floating point).
                for (c, cell) in cells.iter().enumerate() {
                    match counts[c].then(|| cell.parse::<u32>().ok()).flatten() {
                        Some(n) => sheet.write_number(row, c as u16, n)?,
                        None => sheet.write_string(row, c as u16, *cell)?,
                    };
                }
                Ok(())
            })?;
            done.push(sheet);
            for s in done {
                wb.push_worksheet(s);
            }
        }
        let path = dir.join("report.xlsx");
        write_atomically(&path, |w| Ok(wb.save_to_writer(w)?))?;
        Ok(vec![path])
    }
}
