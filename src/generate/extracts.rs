//! Reshapes a canonical data directory into what departments actually send, plus the
//! `sources.toml` that maps it back — the sample of "real extracts" (issue 3):
//! - medical: one workbook per quarter of the visit date (`medical/2021-Q1.xlsx` …), sheet 明细, a title row and a
//!   blank row above the header, a 序号 column, other header names, amounts as number cells
//!   (every other row as text with thousands separators and 元), dates as date cells, 是否大病 as
//!   Y/N, and a 合计 line at the bottom;
//! - education: GB18030 tab-separated `.txt`, other headers, dates written 2021年3月2日;
//! - disability: grades written 1级/2级/3级/4级.
//!
//! Values that are not valid in the canonical files are carried over as text, unchanged, so
//! they are rejected in the reshaped files too.

use anyhow::{Context, Result};
use rust_xlsxwriter::{ExcelDateTime, Format, Workbook};
use std::collections::BTreeMap;
use std::path::Path;

pub const SOURCES_TOML: &str = r#"# How the files of this directory look (fanpin reads it from the data directory).
# The rules file stays the policy; this file says which files, sheets, encodings and
# header names this county's extracts use.

[defaults.aliases]
"证件号码" = ["公民身份号码", "身份证号"]
"姓名" = ["患者姓名", "学生姓名"]

[sources.medical]
file = "medical/*.xlsx"
read = { sheet = "明细", aliases = { "就诊日期" = ["入院日期"], "个人自付" = ["个人自付(元)"], "医疗总费用" = ["总费用(元)"], "报销金额" = ["报销金额(元)"] }, synonyms = { "是否大病" = { "是" = ["Y"], "否" = ["N"] } } }

[sources.education]
file = "education.txt"
read = { encoding = "gb18030", delimiter = "\t", aliases = { "自付费用" = ["个人自付费用"] } }

[sources.disability]
read = { synonyms = { "残疾等级" = { "一级" = ["1级"], "二级" = ["2级"], "三级" = ["3级"], "四级" = ["4级"] } } }
"#;

fn read_csv(path: &Path) -> Result<(Vec<String>, Vec<Vec<String>>)> {
    let mut r = csv::ReaderBuilder::new().flexible(true).from_path(path).with_context(|| format!("cannot read {}", path.display()))?;
    let header = r.headers()?.iter().map(|h| h.trim_start_matches('\u{feff}').to_string()).collect();
    let rows = r.records().map(|rec| rec.map(|r| r.iter().map(str::to_string).collect())).collect::<Result<_, _>>()?;
    Ok((header, rows))
}

fn quarter(date: &str) -> String {
    match (date.get(0..4), date.get(5..7).and_then(|m| m.parse::<u32>().ok())) {
        (Some(y), Some(m)) if (1..=12).contains(&m) => format!("{y}-Q{}", (m - 1) / 3 + 1),
        _ => "2021-Q2".to_string(),
    }
}

/// "12345.60" → "12,345.60"
fn thousands(v: &str) -> String {
    let (sign, v) = v.strip_prefix('-').map_or(("", v), |r| ("-", r));
    let (int, frac) = v.split_once('.').unwrap_or((v, ""));
    let mut out = String::from(sign);
    for (i, c) in int.chars().enumerate() {
        if i > 0 && (int.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    if frac.is_empty() {
        out
    } else {
        format!("{out}.{frac}")
    }
}

fn is_amount(v: &str) -> bool {
    let t = v.strip_prefix('-').unwrap_or(v);
    let (i, f) = t.split_once('.').unwrap_or((t, ""));
    !i.is_empty() && i.bytes().all(|b| b.is_ascii_digit()) && f.len() <= 2 && f.bytes().all(|b| b.is_ascii_digit())
}

fn medical(src: &Path, out: &Path) -> Result<()> {
    let (_, rows) = read_csv(&src.join("medical.csv"))?;
    let mut by_quarter: BTreeMap<String, Vec<Vec<String>>> = BTreeMap::new();
    for r in rows {
        by_quarter.entry(quarter(r.get(2).map_or("", String::as_str))).or_default().push(r);
    }
    std::fs::create_dir_all(out.join("medical"))?;
    let date_format = Format::new().set_num_format("yyyy-mm-dd");
    for (q, rows) in by_quarter {
        let mut wb = Workbook::new();
        let sheet = wb.add_worksheet();
        sheet.set_name("明细")?;
        sheet.write_string(0, 0, format!("示例县{q}医保住院报销明细"))?;
        let head = ["序号", "公民身份号码", "患者姓名", "入院日期", "总费用(元)", "报销金额(元)", "个人自付(元)", "病种", "是否大病"];
        for (i, h) in head.iter().enumerate() {
            sheet.write_string(2, i as u16, *h)?;
        }
        let mut r: u32 = 3;
        for (n, row) in rows.iter().enumerate() {
            let v = |i: usize| row.get(i).map_or("", String::as_str);
            sheet.write_number(r, 0, (n + 1) as u32)?;
            sheet.write_string(r, 1, v(0))?;
            sheet.write_string(r, 2, v(1))?;
            match ExcelDateTime::parse_from_str(v(2)) {
                Ok(d) if v(2).len() == 10 => sheet.write_datetime_with_format(r, 3, &d, &date_format)?,
                _ => sheet.write_string(r, 3, v(2))?,
            };
            for (c, i) in [(4u16, 3usize), (5, 4), (6, 5)] {
                let a = v(i);
                match a.parse::<u32>() {
                    // whole amounts as number cells (exact); others as text with separators and 元
                    Ok(whole) if n % 2 == 0 && !a.contains('.') => sheet.write_number(r, c, whole)?,
                    _ if is_amount(a) => sheet.write_string(r, c, format!("{}元", thousands(a)))?,
                    _ => sheet.write_string(r, c, a)?,
                };
            }
            sheet.write_string(r, 7, v(6))?;
            sheet.write_string(
                r,
                8,
                match v(7) {
                    "是" => "Y",
                    "否" => "N",
                    other => other,
                },
            )?;
            r += 1;
        }
        sheet.write_string(r, 0, "合计")?;
        sheet.write_string(r, 1, format!("{}条", rows.len()))?;
        wb.save(out.join(format!("medical/{q}.xlsx")))?;
    }
    Ok(())
}

fn education(src: &Path, out: &Path) -> Result<()> {
    let (_, rows) = read_csv(&src.join("education.csv"))?;
    let mut text = String::from("身份证号\t学生姓名\t学段\t学年\t缴费日期\t个人自付费用\r\n");
    for row in rows {
        let v = |i: usize| row.get(i).map_or("", String::as_str).replace(['\t', '\r', '\n'], " ");
        let date = v(4);
        let date = match (date.get(0..4), date.get(5..7).and_then(|m| m.parse::<u32>().ok()), date.get(8..10).and_then(|d| d.parse::<u32>().ok())) {
            (Some(y), Some(m), Some(d)) if date.len() == 10 => format!("{y}年{m}月{d}日"),
            _ => date,
        };
        text.push_str(&format!("{}\t{}\t{}\t{}\t{date}\t{}\r\n", v(0), v(1), v(2), v(3), v(5)));
    }
    let (bytes, _, _) = encoding_rs::GB18030.encode(&text);
    std::fs::write(out.join("education.txt"), bytes)?;
    Ok(())
}

fn disability(src: &Path, out: &Path) -> Result<()> {
    let text = std::fs::read_to_string(src.join("disability.csv"))?;
    let text = text.replace(",一级\n", ",1级\n").replace(",二级\n", ",2级\n").replace(",三级\n", ",3级\n").replace(",四级\n", ",4级\n");
    std::fs::write(out.join("disability.csv"), text)?;
    Ok(())
}

/// Writes the reshaped copy of the canonical directory `src` into `out`.
pub fn reshape(src: &Path, out: &Path) -> Result<()> {
    std::fs::create_dir_all(out)?;
    for entry in std::fs::read_dir(src)? {
        let p = entry?.path();
        let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("").to_string();
        if name.ends_with(".csv") && !["medical.csv", "education.csv", "disability.csv"].contains(&name.as_str()) {
            std::fs::copy(&p, out.join(&name))?;
        }
    }
    medical(src, out)?;
    education(src, out)?;
    disability(src, out)?;
    std::fs::write(out.join("sources.toml"), SOURCES_TOML)?;
    Ok(())
}
