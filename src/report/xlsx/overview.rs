//! The 概览 sheet, first in report.xlsx: the run's key figures and charts native to Excel and
//! WPS (households and persons by township and category, households by risk type, and with
//! --previous the new, continuing and dropped households). The charts' data are small tables
//! on the same sheet, below the charts, so that each chart is read from cells a person can see.

use super::super::summary::TextTable;
use anyhow::Result;
use rust_xlsxwriter::{Chart, ChartDataLabel, ChartLegendPosition, ChartType, Format, Worksheet};

pub const SHEET: &str = "概览";

/// What the overview shows, gathered by `screen`.
pub struct Overview<'a> {
    /// Rules name, then determination date and income window.
    pub heading: String,
    pub subtitle: String,
    /// (label, count): screened, listed, new leads, review, rejects, unmatched, …
    pub figures: Vec<(String, usize)>,
    pub by_town: &'a TextTable,
    pub by_risk: &'a TextTable,
    /// With --previous: (新增 / 持续 / 移出, households).
    pub changes: Option<Vec<(String, usize)>>,
}

/// Charts: two per band of 16 rows, at columns D and M; the data tables start below them.
const CHART_ROWS: u32 = 17;
const CHART_COLS: [u16; 2] = [3, 12];
const DATA_ROW: u32 = 2 + 2 * CHART_ROWS + 2;
const LAST_PRINTED_COL: u16 = 20;

fn number(s: &str) -> f64 {
    s.parse::<f64>().unwrap_or(0.0)
}

/// Writes a small table at `row` (a caption, a header, the rows); returns the rows of its data
/// (first, last) and the row after it.
fn table(sheet: &mut Worksheet, row: u32, caption: &str, head: &[String], rows: &[Vec<String>], bold: &Format) -> Result<((u32, u32), u32)> {
    sheet.write_string_with_format(row, 0, caption, bold)?;
    for (c, h) in head.iter().enumerate() {
        sheet.write_string_with_format(row + 1, c as u16, h, bold)?;
    }
    for (r, cells) in rows.iter().enumerate() {
        let at = row + 2 + r as u32;
        sheet.write_string(at, 0, &cells[0])?;
        for (c, v) in cells.iter().enumerate().skip(1) {
            sheet.write_number(at, c as u16, number(v))?;
        }
    }
    let first = row + 2;
    Ok(((first, first + rows.len().max(1) as u32 - 1), first + rows.len() as u32 + 1))
}

/// A chart of the table at `data` rows: categories in column 0, one series per column of
/// `series` (the header row, `data.0 - 1`, names them).
/// `top`: the highest bar (a stack's total); up to 10 the value axis counts in whole steps
/// (left to itself it would mark 0.5 households).
fn chart(kind: ChartType, title: &str, data: (u32, u32), series: std::ops::RangeInclusive<u16>, top: f64) -> Chart {
    let mut chart = Chart::new(kind);
    if top <= 10.0 {
        // The value axis of a bar chart is its x axis in rust_xlsxwriter.
        let axis = if kind == ChartType::Bar { chart.x_axis() } else { chart.y_axis() };
        axis.set_min(0).set_major_unit(1);
    }
    chart.title().set_name(title);
    let single = series.start() == series.end();
    for c in series {
        let s = chart.add_series();
        s.set_name((SHEET, data.0 - 1, c)).set_categories((SHEET, data.0, 0, data.1, 0)).set_values((SHEET, data.0, c, data.1, c));
        if single {
            s.set_data_label(ChartDataLabel::new().show_value());
        }
    }
    if single {
        chart.legend().set_hidden();
    } else {
        chart.legend().set_position(ChartLegendPosition::Bottom);
    }
    if kind == ChartType::Bar {
        // A bar chart draws its first category at the bottom (its categories are the y axis in
        // rust_xlsxwriter): reversed, they read top-down in the table's order (the rules
        // file's, for risk types).
        chart.y_axis().set_reverse();
    }
    chart.set_width(560).set_height(320);
    chart
}

/// The township table's rows without its total, as (households, persons) tables by category.
fn by_town(t: &TextTable) -> (Vec<String>, Vec<Vec<String>>, Vec<Vec<String>>) {
    // Headers: 乡镇, then 户数 and 人数 of each category, then the totals.
    let pairs = (t.headers.len().saturating_sub(3)) / 2;
    let cats: Vec<String> = (0..pairs).map(|k| t.headers[1 + 2 * k].trim_end_matches("户数").to_string()).collect();
    let towns = &t.rows[..t.rows.len().saturating_sub(1)];
    let pick = |off: usize| towns.iter().map(|r| std::iter::once(r[0].clone()).chain((0..pairs).map(|k| r[1 + 2 * k + off].clone())).collect()).collect();
    (cats, pick(0), pick(1))
}

pub fn sheet(o: &Overview) -> Result<Worksheet> {
    let mut sheet = Worksheet::new();
    sheet.set_name(SHEET)?;
    let bold = Format::new().set_bold();
    sheet.write_string_with_format(0, 0, &o.heading, &Format::new().set_bold().set_font_size(16))?;
    sheet.write_string(1, 0, &o.subtitle)?;
    sheet.set_column_width(0, 24)?;
    sheet.set_column_width(1, 10)?;
    sheet.write_string_with_format(3, 0, "指标", &bold)?;
    sheet.write_string_with_format(3, 1, "户数/条数", &bold)?;
    for (i, (label, n)) in o.figures.iter().enumerate() {
        sheet.write_string(4 + i as u32, 0, label)?;
        sheet.write_number(4 + i as u32, 1, *n as f64)?;
    }
    let (cats, households, persons) = by_town(o.by_town);
    let mut head = vec!["乡镇".to_string()];
    head.extend(cats.iter().cloned());
    let n = cats.len() as u16;
    let (h, next) = table(&mut sheet, DATA_ROW, "各乡镇户数(按类别)", &head, &households, &bold)?;
    let (p, next) = table(&mut sheet, next, "各乡镇人数(按类别)", &head, &persons, &bold)?;
    let risks: Vec<Vec<String>> = o.by_risk.rows.iter().map(|r| vec![r[0].clone(), r[1].clone()]).collect();
    let (r, next) = table(&mut sheet, next, "按风险类型的户数", &["风险类型".into(), "户数".into()], &risks, &bold)?;
    // The highest stack (the sum of a row's numbers) or bar of a table.
    let top = |rows: &[Vec<String>]| rows.iter().map(|r| r.iter().skip(1).map(|v| number(v)).sum::<f64>()).fold(0.0, f64::max);
    let mut charts = Vec::new();
    // A chart needs a series (rules with no category have none by township).
    if n > 0 {
        charts.push(chart(ChartType::ColumnStacked, "户数(按乡镇和类别)", h, 1..=n, top(&households)));
        charts.push(chart(ChartType::ColumnStacked, "人数(按乡镇和类别)", p, 1..=n, top(&persons)));
    }
    charts.push(chart(ChartType::Bar, "户数(按风险类型)", r, 1..=1, top(&risks)));
    if let Some(changes) = &o.changes {
        let rows: Vec<Vec<String>> = changes.iter().map(|(k, v)| vec![k.clone(), v.to_string()]).collect();
        let (c, _) = table(&mut sheet, next, "与上次相比", &["变化".into(), "户数".into()], &rows, &bold)?;
        charts.push(chart(ChartType::Column, "与上次相比: 新增、持续、移出", c, 1..=1, top(&rows)));
    }
    for (i, c) in charts.iter().enumerate() {
        sheet.insert_chart(2 + (i as u32 / 2) * CHART_ROWS, CHART_COLS[i % 2], c)?;
    }
    sheet.set_landscape();
    sheet.set_paper_size(9);
    sheet.set_print_fit_to_pages(1, 1);
    sheet.set_print_area(0, 0, DATA_ROW - 1, LAST_PRINTED_COL)?;
    Ok(sheet)
}
