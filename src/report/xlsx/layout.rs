//! How a table's sheet looks on screen and on paper: column widths from the content, wrapped
//! long text, the title and header rows, filter, frozen panes, A4 landscape one page wide, the
//! header repeated on every page, page numbers, and a page per village on the village lists.

use super::super::csv::headers;
use super::super::TableData;
use anyhow::Result;
use polars::prelude::*;
use rust_xlsxwriter::{Format, FormatAlign, Worksheet};

/// Widest column in Excel width units (one unit: a digit of the default font); a longer text
/// wraps. 证据 gets wider columns: it is what a cadre reads.
const WRAP_AT: usize = 24;
const EVIDENCE_WIDTH: usize = 50;
/// A4 landscape is 11.69 in wide; less the side margins, at 96 pixels per inch.
const PAPER_WIDTH_IN: f64 = 11.69;
const SIDE_MARGIN_IN: f64 = 0.3;
/// Excel stores a width of w units as w × 7 + 5 pixels (Calibri 11, a 7-pixel digit).
const DIGIT_PX: f64 = 7.0;
const PADDING_PX: f64 = 5.0;
/// Share of the page the computed scale fills, leaving room for rounding and for a viewer
/// whose default font is a little wider (LibreOffice with Carlito for Calibri fills 0.83 of the
/// page at 0.82). Without a metric-compatible font (DejaVu Sans for Calibri) LibreOffice draws
/// every column wider and spills the last ones onto other pages.
const FIT_SHARE: f64 = 0.95;
/// Excel keeps at most 1,023 manual page breaks per sheet.
const MAX_BREAKS: usize = 1023;
/// Excel paper size code of A4.
const A4: u8 = 9;

/// Columns of one table: width in units, whether the column wraps, whether it holds counts.
#[derive(Clone)]
pub struct Columns {
    pub widths: Vec<usize>,
    pub wrap: Vec<bool>,
    pub counts: Vec<bool>,
}

/// Display width of a text: a CJK (3-byte UTF-8) character counts two columns, ASCII one.
fn display(s: &str) -> usize {
    (s.len() + s.chars().count()) / 2
}

/// The longest cell of each visible column, in display width: for a frame one expression over
/// every column at once ((bytes + chars) / 2 of each cell, its maximum), never a pass over the
/// rows in Rust.
fn longest(data: &TableData, head: &[String]) -> Result<Vec<usize>> {
    Ok(match data {
        TableData::Text(t) => (0..head.len()).map(|i| t.rows.iter().map(|r| r.get(i).map_or(0, |c| display(c))).max().unwrap_or(0)).collect(),
        TableData::Frame(df) => {
            let exprs: Vec<Expr> = head
                .iter()
                .map(|h| {
                    let c = col(h.as_str()).cast(DataType::String);
                    (c.clone().str().len_bytes().cast(DataType::UInt64) + c.str().len_chars().cast(DataType::UInt64)).max().alias(h.as_str())
                })
                .collect();
            let maxima = (*df).clone().lazy().select(exprs).collect()?;
            let mut out = Vec::new();
            for h in head {
                out.push(maxima.column(h)?.get(0)?.extract::<u64>().unwrap_or(0) as usize / 2);
            }
            out
        }
        // Not a sheet (screened.csv): no widths needed.
        TableData::Plan(_) => vec![0; head.len()],
    })
}

/// A column as wide as its longest cell (and its header with the filter button), up to a cap
/// beyond which the text wraps. IDs (18 characters) are always whole.
fn width(header: &str, longest: usize) -> (usize, bool) {
    let head = display(header) + 3;
    let cap = if header == "证据" { EVIDENCE_WIDTH } else { WRAP_AT };
    if longest + 1 > cap {
        (cap.max(head), true)
    } else {
        (head.max(longest + 1).max(6), false)
    }
}

pub fn columns(data: &TableData, is_count: impl Fn(&str) -> bool) -> Result<Columns> {
    let head = headers(data)?;
    let (widths, wrap) = head.iter().zip(longest(data, &head)?).map(|(h, n)| width(h, n)).unzip();
    Ok(Columns { widths, wrap, counts: head.iter().map(|h| is_count(h)).collect() })
}

/// Height of a line of text in points (Calibri 11, and a CJK font beside it), and the most
/// lines a row may have (Excel's highest row is 409 points).
pub const LINE_PT: f64 = 15.0;
const MAX_LINES: usize = 27;

/// Lines the tallest wrapped cell of a row takes: its display width over 80 % of its column's
/// less a unit, rounded up (a CJK character is a little wider than two digits, and a wrap at a
/// space leaves the end of a line empty: rather a line too many than a line cut off).
pub fn lines(cols: &Columns, cells: &[&str]) -> usize {
    let mut most = 1;
    for (i, cell) in cells.iter().enumerate() {
        if cols.wrap[i] && cell.len() > cols.widths[i] {
            let room = (cols.widths[i] * 4 / 5).saturating_sub(1).max(1);
            most = most.max(display(cell).div_ceil(room));
        }
    }
    most.min(MAX_LINES)
}

/// Print scale (percent) that fits columns of these widths on one A4 landscape page wide.
/// Used instead of "fit to one page wide" where there are manual page breaks, which Excel
/// ignores under "fit to".
pub fn scale_to_fit(widths: &[usize]) -> u16 {
    let px: f64 = widths.iter().map(|w| *w as f64 * DIGIT_PX + PADDING_PX).sum();
    let page = (PAPER_WIDTH_IN - 2.0 * SIDE_MARGIN_IN) * 96.0;
    ((FIT_SHARE * page * 100.0 / px.max(1.0)).floor() as u16).clamp(10, 100)
}

/// The first row (0-based, within the table) of each village after the first, for a table
/// sorted by 乡镇, 村: one expression over the two columns. None when it has no such columns.
pub fn village_starts(data: &TableData) -> Result<Option<Vec<usize>>> {
    let TableData::Frame(df) = data else { return Ok(None) };
    if df.column("乡镇").is_err() || df.column("村").is_err() {
        return Ok(None);
    }
    let changed = |c: &str| col(c).neq_missing(col(c).shift(lit(1)));
    let starts =
        (*df).clone().lazy().with_row_index("__i", None).filter(changed("乡镇").or(changed("村")).and(col("__i").gt(lit(0)))).select([col("__i")]).collect()?;
    Ok(Some(starts.column("__i")?.idx()?.into_no_null_iter().map(|i| i as usize).collect()))
}

/// The workbook's default cell format: Excel's default font, at the top of the row.
pub fn default_format() -> Format {
    Format::new().set_align(FormatAlign::Top)
}

/// Page setup of a table's sheet with `rows` data rows under the title (row 0) and header
/// (row 1). `breaks`: sheet rows where a new village starts (a page each), if any.
pub fn set_up(sheet: &mut Worksheet, cols: &Columns, rows: usize, breaks: Option<&[u32]>) -> Result<()> {
    // Every cell at the top of its row (the workbook's default format), wrapped text wrapped,
    // counts centred (a right-aligned number would run into the next column's text).
    let top = default_format();
    for (i, w) in cols.widths.iter().enumerate() {
        sheet.set_column_width(i as u16, *w as f64)?;
        let format = match (cols.wrap[i], cols.counts[i]) {
            (true, _) => Some(top.clone().set_text_wrap()),
            (false, true) => Some(top.clone().set_align(FormatAlign::Center)),
            (false, false) => None,
        };
        if let Some(format) = format {
            sheet.set_column_format(i as u16, &format)?;
        }
    }
    let last_col = cols.widths.len().saturating_sub(1) as u16;
    sheet.set_freeze_panes(2, 0)?;
    sheet.autofilter(1, 0, 1 + rows as u32, last_col)?;
    sheet.set_landscape();
    sheet.set_paper_size(A4);
    sheet.set_margins(SIDE_MARGIN_IN, SIDE_MARGIN_IN, 0.5, 0.5, 0.2, 0.2);
    sheet.set_repeat_rows(0, 1)?;
    sheet.set_footer("&L&A&C第 &P 页 / 共 &N 页");
    match breaks {
        Some(b) if !b.is_empty() => {
            sheet.set_page_breaks(&b[..b.len().min(MAX_BREAKS)])?;
            sheet.set_print_scale(scale_to_fit(&cols.widths));
        }
        _ => {
            sheet.set_print_fit_to_pages(1, 0);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn widths_count_cjk_twice_keep_ids_whole_and_wrap_long_text() {
        assert_eq!(display("户编号"), 6);
        assert_eq!(display("5226011010010001"), 16);
        // header 户编号: 6 + 3 = 9; 16 digits + 1 = 17
        assert_eq!(width("户编号", 16), (17, false));
        assert_eq!(width("户主证件号码", 18), (19, false));
        assert_eq!(width("排除提示", 80), (24, true));
        assert_eq!(width("证据", 2000), (50, true));
        assert_eq!(width("村", 0), (6, false));
    }

    #[test]
    fn a_row_is_as_many_lines_as_its_longest_wrapped_cell() {
        let cols = Columns { widths: vec![10, 12], wrap: vec![false, true], counts: vec![false, false] };
        // 12 × 0.8 = 9 (rounded down) − 1 = 8 units of room in the wrapped column: 25 CJK
        // characters are 50 units → 7 lines; the unwrapped column's length does not count.
        assert_eq!(lines(&cols, &["x".repeat(100).as_str(), "证".repeat(25).as_str()]), 7);
        assert_eq!(lines(&cols, &["", "短"]), 1);
        assert_eq!(lines(&cols, &["", "证".repeat(1000).as_str()]), 27);
    }

    #[test]
    fn the_scale_fits_the_columns_on_a_landscape_a4_page() {
        // (11.69 − 0.6) in × 96 = 1064.64 px, of which 95 % = 1011.4 px; ten columns of 20
        // units: 10 × 145 = 1450 px → 69 % (1000.5 ≤ 1011.4; at 70 %, 1015 > 1011.4).
        assert_eq!(scale_to_fit(&[20; 10]), 69);
        assert_eq!(scale_to_fit(&[10]), 100);
    }
}
