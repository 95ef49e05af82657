//! xlsx renderer: one sheet per table for Excel/WPS users. A table longer than a sheet's
//! 1,048,576 rows continues on further sheets (`监测对象(2)`, …). Sheets are written in
//! rust_xlsxwriter's constant-memory mode: each row goes to a temporary file as soon as the
//! next one starts (strings inline, no shared-string table), and the workbook is streamed to
//! its file, so a list of a million rows is never held twice in memory.
//!
//! Each table's sheet has a title row (the sheet, the rules, 判定日期 and the income window)
//! above its header, and prints as a list (see `layout`); the 概览 sheet comes first
//! (`overview`).

mod layout;
pub mod overview;

use super::csv::{for_each_row_in, headers};
use super::{write_atomically, Renderer, Table, TableData};
use anyhow::{anyhow, Result};
use layout::Columns;
use overview::Overview;
use polars::prelude::len;
use rust_xlsxwriter::{DocProperties, ExcelDateTime, Format, Workbook, Worksheet};
use std::borrow::Cow;
use std::ops::Range;
use std::path::{Path, PathBuf};

pub struct XlsxRenderer<'a> {
    /// Written after each sheet's name in its title row: the rules' name, 判定日期, window.
    pub title: String,
    pub overview: Option<Overview<'a>>,
}

/// The tables printed village by village (sorted by 乡镇, 村): a page per village.
const VILLAGE_LISTS: [&str; 2] = ["flagged", "new_leads"];

/// Excel's limit of characters (UTF-16 units) in a cell.
const MAX_CELL: usize = 32_767;

/// The workbook's deflate level (1 fastest to 9 smallest; see `render`).
const ZIP_LEVEL: u8 = 3;

/// Data rows per sheet: Excel's limit less the title and header rows.
const ROWS_PER_SHEET: usize = 1_048_574;

/// A table's sheet with its title and header rows written and its layout set; `rows` data
/// rows follow, `breaks` being the sheet rows where a village starts.
fn new_sheet(wb: &mut Workbook, name: &str, title: &str, head: &[String], cols: &Columns, rows: usize, breaks: Option<&[u32]>) -> Result<Worksheet> {
    let mut sheet = wb.new_worksheet_with_constant_memory()?;
    sheet.set_name(name)?;
    layout::set_up(&mut sheet, cols, rows, breaks)?;
    sheet.set_row_height(0, 22)?;
    sheet.write_string_with_format(0, 0, format!("{name} · {title}"), &Format::new().set_bold().set_font_size(13))?;
    sheet.write_row_with_format(1, 0, head.iter().map(String::as_str), &Format::new().set_bold().set_text_wrap())?;
    Ok(sheet)
}

/// A cell's text, cut to Excel's limit with a mark naming the CSV file that has it whole.
fn fitted<'c>(cell: &'c str, mark: &str) -> Cow<'c, str> {
    // A UTF-8 text is never shorter in bytes than in UTF-16 units: most cells need no count.
    if cell.len() <= MAX_CELL || cell.encode_utf16().count() <= MAX_CELL {
        return Cow::Borrowed(cell);
    }
    let room = MAX_CELL - mark.encode_utf16().count();
    let mut units = 0;
    let end = cell.char_indices().find(|(_, c)| {
        units += c.len_utf16();
        units > room
    });
    let mut cut = cell[..end.map_or(cell.len(), |(i, _)| i)].to_string();
    cut.push_str(mark);
    Cow::Owned(cut)
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

/// Writes rows `rows` of `data` under the header row of `sheet`; a text longer than a cell
/// holds is cut, ending with `mark`.
fn fill(mut sheet: Worksheet, data: &TableData, rows: Range<usize>, cols: &Columns, mark: &str) -> Result<Worksheet> {
    let counts = &cols.counts;
    let mut row: u32 = 1;
    for_each_row_in(data, rows, |cells| {
        row += 1;
        // A row with wrapped text is given its height: LibreOffice keeps the default height of a
        // row that has none, showing one line of each cell.
        let lines = layout::lines(cols, cells);
        if lines > 1 {
            sheet.set_row_height(row, layout::LINE_PT * lines as f64)?;
        }
        // Counts are numbers, so that Excel can sum them. Everything else is text: IDs must not
        // turn into numbers, and amounts stay exactly as computed (no binary floating point).
        for (c, cell) in cells.iter().enumerate() {
            match counts[c].then(|| cell.parse::<u32>().ok()).flatten() {
                Some(n) => sheet.write_number(row, c as u16, n)?,
                None => sheet.write_string(row, c as u16, fitted(cell, mark))?,
            };
        }
        Ok(())
    })?;
    Ok(sheet)
}

/// Sheet rows (0-based) where a village starts, for the rows `range` of a table whose
/// villages start at `starts` (0-based rows of the table, sorted).
fn breaks_in(starts: &[usize], range: &Range<usize>) -> Vec<u32> {
    starts.iter().filter(|s| **s > range.start && **s < range.end).map(|s| (s - range.start + 2) as u32).collect()
}

/// A workbook whose sheets are all written, not yet compressed into its file.
pub struct Filled {
    wb: Workbook,
}

impl XlsxRenderer<'_> {
    /// Writes every sheet, not yet the file (`Filled::save`).
    pub fn fill(&self, tables: &[Table]) -> Result<Filled> {
        let mut wb = Workbook::new();
        // Every cell at the top of its row (a wrapped neighbour makes rows taller) by default:
        // then only wrapped and centred columns need a style of their own, and the other cells
        // are written without one (a style on every cell of a million-row list cost ~0.1 s).
        wb.set_default_format(&layout::default_format(), 20, 64)?;
        // A fixed creation date keeps the workbook identical from run to run.
        wb.set_properties(&DocProperties::new().set_creation_datetime(&ExcelDateTime::from_ymd(2000, 1, 1)?));
        // Deflate level 3, not the zip default 6: measured at 1M households (200 MB of sheet
        // XML), the report stage took 1.95 s instead of 2.6 s for a file 12 % larger (23.8 MB
        // against 21.2 MB). Level 1 saved 0.15 s more for a file 55 % larger.
        wb.set_zip_compression_level(ZIP_LEVEL);
        // Every sheet is made first, a table longer than one sheet getting several; then they
        // are filled at once, each on its own thread (each writes its own temporary file), and
        // added in order.
        if let Some(o) = &self.overview {
            wb.push_worksheet(overview::sheet(o)?);
        }
        let mut parts = Vec::new();
        for t in tables.iter().filter(|t| t.workbook) {
            let head = headers(&t.data)?;
            let rows = height(&t.data)?;
            let cols = layout::columns(&t.data, is_count)?;
            let villages = if VILLAGE_LISTS.contains(&t.stem) { layout::village_starts(&t.data)? } else { None };
            let mark = format!("…(截断, 全文见 {}.csv)", t.stem);
            for (name, range) in sheets(t.sheet, rows) {
                let breaks = villages.as_ref().map(|v| breaks_in(v, &range));
                let sheet = new_sheet(&mut wb, &name, &self.title, &head, &cols, range.len(), breaks.as_deref())?;
                parts.push((sheet, &t.data, range, cols.clone(), mark.clone()));
            }
        }
        let filled: Vec<Result<Worksheet>> = std::thread::scope(|scope| {
            let fills: Vec<_> = parts.into_iter().map(|(sheet, data, rows, cols, mark)| scope.spawn(move || fill(sheet, data, rows, &cols, &mark))).collect();
            fills.into_iter().map(|f| f.join().unwrap_or_else(|_| Err(anyhow!("filling a sheet of report.xlsx failed")))).collect()
        });
        for sheet in filled {
            wb.push_worksheet(sheet?);
        }
        Ok(Filled { wb })
    }
}

impl Filled {
    /// Compresses the workbook into `dir/report.xlsx`: on one core, the zip's entries being
    /// deflated one after the other.
    pub fn save(mut self, dir: &Path) -> Result<Vec<PathBuf>> {
        let path = dir.join("report.xlsx");
        write_atomically(&path, |w| Ok(self.wb.save_to_writer(w)?))?;
        Ok(vec![path])
    }
}

impl Renderer for XlsxRenderer<'_> {
    fn render(&self, tables: &[Table], dir: &Path) -> Result<Vec<PathBuf>> {
        self.fill(tables)?.save(dir)
    }
}

#[cfg(test)]
mod tests {
    use super::{breaks_in, fitted, sheets};

    #[test]
    fn a_table_longer_than_a_sheet_continues_on_numbered_sheets() {
        // Excel: 1,048,576 rows per sheet, the first two being the title and the header.
        assert_eq!(sheets("监测对象", 0), vec![("监测对象".to_string(), 0..0)]);
        assert_eq!(sheets("监测对象", 1_048_574), vec![("监测对象".to_string(), 0..1_048_574)]);
        assert_eq!(sheets("监测对象", 1_048_575), vec![("监测对象".to_string(), 0..1_048_574), ("监测对象(2)".to_string(), 1_048_574..1_048_575)]);
        let three = sheets("新识别线索", 2 * 1_048_574 + 10);
        assert_eq!(three.len(), 3);
        assert_eq!(three[2], ("新识别线索(3)".to_string(), 2_097_148..2_097_158));
    }

    #[test]
    fn village_breaks_are_sheet_rows_of_the_part_of_the_table_on_that_sheet() {
        // Villages start at table rows 0, 3, 10; the second sheet holds rows 5..20: its row 2
        // is table row 5, so table row 10 is its row 7.
        assert_eq!(breaks_in(&[3, 10], &(0..5)), [5]);
        assert_eq!(breaks_in(&[3, 10], &(5..20)), [7]);
    }

    #[test]
    fn a_text_longer_than_a_cell_is_cut_to_the_limit_with_the_mark() {
        let mark = "…(截断)";
        assert_eq!(fitted("短", mark), "短");
        // 40,000 CJK characters (one UTF-16 unit each): 32,767 − 5 units of mark = 32,762 kept.
        let long = "证".repeat(40_000);
        let cut = fitted(&long, mark);
        assert_eq!(cut.encode_utf16().count(), 32_767);
        assert_eq!(cut.chars().filter(|c| *c == '证').count(), 32_762);
        assert!(cut.ends_with(mark));
        // A character outside the BMP is two units and never split: "a" + 16,380 of them is
        // 32,761 units, one more would be 32,763 > 32,762; with the mark 32,766.
        let astral = format!("a{}", "𠀀".repeat(20_000));
        let cut = fitted(&astral, mark);
        assert_eq!(cut.encode_utf16().count(), 32_766);
        assert_eq!(cut.chars().filter(|c| *c == '𠀀').count(), 16_380);
    }
}
