//! `fanpin notice --out DIR`: the public-notice list (公示名单) for village review, from a
//! screen's flagged.csv. A notice is public: it carries 乡镇, 村, 户主姓名, 家庭人口 and 类别
//! only — no ID numbers, phone numbers, bank accounts or health details. Its wording (which
//! 建议 is listed, the title, the footer) is the run's rules' `[report]` wording, as the run's
//! manifest.json records it.

use crate::cli::NoticeArgs;
use crate::report::csv::CsvRenderer;
use crate::report::summary::TextTable;
use crate::report::{write_atomically, Renderer, Table, TableData};
use anyhow::Result;
use rust_xlsxwriter::{Format, Workbook, Worksheet};
use std::collections::BTreeMap;
use std::io::Write;

/// The only columns a notice shows.
pub const NOTICE_COLUMNS: [&str; 5] = ["乡镇", "村", "户主姓名", "家庭人口", "类别"];

pub fn run(args: &NoticeArgs) -> Result<()> {
    // The notice goes beside the flagged.csv it is made from, in that run's directory.
    let run = crate::report::publish::run_dir(&args.out);
    let wording = crate::report::readback::Manifest::in_dir(&run)?.wording()?;
    // Village → rows, in flagged.csv order (乡镇, 村, 户编号); BTreeMap keeps villages sorted.
    let mut villages: BTreeMap<(String, String), Vec<Vec<String>>> = BTreeMap::new();
    let mut all = Vec::new();
    for r in crate::report::readback::flagged(&run)? {
        if !args.include_review && r.advice != wording.include {
            continue;
        }
        // NOTICE_COLUMNS, and nothing else of the household: a notice is public.
        let row = vec![r.town, r.village, r.head, r.size, r.category];
        villages.entry((row[0].clone(), row[1].clone())).or_default().push(row.clone());
        all.push(row);
    }
    let table = TextTable { headers: NOTICE_COLUMNS.iter().map(|c| c.to_string()).collect(), rows: all };
    CsvRenderer.render(&[Table::new("notice", "公示名单", TableData::Text(&table))], &run)?;

    let mut wb = Workbook::new();
    let title = Format::new().set_bold().set_font_size(14);
    let bold = Format::new().set_bold();
    for (n, ((town, village), rows)) in villages.iter().enumerate() {
        let mut sheet = Worksheet::new();
        // Sheet names: at most 31 characters, unique.
        let name: String = format!("{}{}", n + 1, village).chars().take(31).collect();
        sheet.set_name(&name)?;
        sheet.write_string_with_format(0, 0, format!("{town}{village}{}", wording.notice_title), &title)?;
        sheet.write_row_with_format(2, 0, ["序号", "户主姓名", "家庭人口", "类别"], &bold)?;
        for (i, row) in rows.iter().enumerate() {
            let r = 3 + i as u32;
            sheet.write_number(r, 0, (i + 1) as u32)?;
            sheet.write_string(r, 1, &row[2])?;
            match row[3].parse::<u32>() {
                Ok(p) => sheet.write_number(r, 2, p)?,
                Err(_) => sheet.write_string(r, 2, &row[3])?,
            };
            sheet.write_string(r, 3, &row[4])?;
        }
        let foot = 4 + rows.len() as u32;
        if !wording.notice_footer.is_empty() {
            sheet.write_string(foot, 0, &wording.notice_footer)?;
        }
        sheet.set_column_width(0, 8)?;
        sheet.set_column_width(1, 14)?;
        sheet.set_column_width(3, 16)?;
        wb.push_worksheet(sheet);
    }
    let bytes = wb.save_to_buffer()?;
    write_atomically(&run.join("notice.xlsx"), |w| Ok(w.write_all(&bytes)?))?;
    if run != args.out {
        // DIR/notice.csv opens it, like the run's other files (until the next run).
        for name in ["notice.csv", "notice.xlsx"] {
            crate::report::publish::link_output(&args.out, name)?;
        }
    }
    out!(
        "{} villages, {} households: {} and {}",
        villages.len(),
        table.rows.len(),
        args.out.join("notice.csv").display(),
        args.out.join("notice.xlsx").display()
    );
    Ok(())
}
