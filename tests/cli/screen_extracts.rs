//! Real department extracts (issue 3): the same households must come out whether the extracts
//! arrive as canonical CSV, as GBK text with other headers, or as Excel workbooks with title
//! rows and 合计 lines — and values Excel destroyed are rejected, never repaired.

use crate::support::*;
use rust_xlsxwriter::{ExcelDateTime, Format, Workbook};
use std::path::Path;

/// A small county touching every reshaped source: medical (boundaries 4000.00 / 3999.99 and a
/// 大病), education (10000.01), disability (一级 vs 三级) and a car.
fn county() -> Fixture {
    let mut fx = Fixture::new();
    let a = fx.person("甲一");
    let a2 = fx.person("甲二");
    let b = fx.person("乙一");
    let c = fx.person("丙一");
    let c2 = fx.person("丙二");
    let d = fx.person("丁一");
    let d2 = fx.person("丁二");
    // H01, H03, H04: wage 9000 / 2 persons = 4500.00 < 6320 → listed whatever their records;
    // H02: 9000 / 1 = 9000.00 ≥ 6320, listed only as 突发严重困难户 (RE 3999.99 > previous 0).
    // What the reshaped extracts decide is their risk types and 建议.
    fx.household(hh("H01", "脱贫户", &a).wage("9000")).member("H01", &a2, "配偶");
    fx.household(hh("H02", "脱贫户", &b).wage("9000"));
    fx.household(hh("H03", "一般农户", &c).wage("9000")).member("H03", &c2, "子");
    fx.household(hh("H04", "一般农户", &d).wage("9000")).member("H04", &d2, "配偶");
    fx.medical(&a2, "2021-03-02", "4000.00", "否");
    fx.medical(&b, "2020-12-31", "3999.99", "否");
    fx.medical(&c, "2021-01-15", "12345.60", "是");
    fx.education(&c2, "2020-09-01", "10000.01");
    fx.disability(&d, "一级");
    fx.disability(&a, "三级");
    fx.vehicle(&b, "小型轿车", "2019-05-01", "正常");
    fx
}

fn cells(row: &[String]) -> Vec<&str> {
    row.iter().map(String::as_str).collect()
}

/// medical as two monthly workbooks: a title row, a blank row, a header with a 序号 column and
/// other names, amounts as numbers or as text with separators and 元, dates as date cells,
/// 是否大病 as Y/N, and a 合计 line at the end.
fn medical_workbooks(fx: &Fixture, dir: &Path) {
    std::fs::create_dir_all(dir.join("medical")).unwrap();
    let rows = fx.rows_of("medical");
    for (month, part) in [(1, 0usize), (2, 1usize)] {
        let mut wb = Workbook::new();
        let sheet = wb.add_worksheet();
        sheet.set_name("明细").unwrap();
        sheet.write_string(0, 0, "示例县2021年医保报销明细").unwrap();
        let head = ["序号", "公民身份号码", "姓名", "就诊日期", "医疗总费用", "报销金额", "个人自付(元)", "病种", "是否大病"];
        for (i, h) in head.iter().enumerate() {
            sheet.write_string(2, i as u16, *h).unwrap();
        }
        let date_format = Format::new().set_num_format("yyyy-mm-dd");
        let mut r = 3;
        for (n, row) in rows.iter().enumerate().filter(|(n, _)| n % 2 == part) {
            let v = cells(row);
            sheet.write_number(r, 0, (n + 1) as f64).unwrap();
            sheet.write_string(r, 1, v[0]).unwrap();
            sheet.write_string(r, 2, v[1]).unwrap();
            sheet.write_datetime_with_format(r, 3, ExcelDateTime::parse_from_str(v[2]).unwrap(), &date_format).unwrap();
            sheet.write_string(r, 4, v[3]).unwrap();
            sheet.write_string(r, 5, v[4]).unwrap();
            if n % 2 == 0 {
                // a number cell: 4000.00 is stored as 4000, 12345.60 as 12345.6
                sheet.write_number(r, 6, v[5].parse::<f64>().unwrap()).unwrap();
            } else {
                sheet.write_string(r, 6, format!("{}元", thousands(v[5]))).unwrap();
            }
            sheet.write_string(r, 7, v[6]).unwrap();
            sheet.write_string(r, 8, if v[7] == "是" { "Y" } else { "N" }).unwrap();
            r += 1;
        }
        sheet.write_string(r, 0, "合计").unwrap();
        sheet.write_string(r, 6, "99999.99").unwrap();
        wb.save(dir.join(format!("medical/2021-{month:02}.xlsx"))).unwrap();
    }
}

/// "12345.60" → "12,345.60"
fn thousands(v: &str) -> String {
    let (int, frac) = v.split_once('.').unwrap_or((v, ""));
    let mut out = String::new();
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

/// education as GBK tab-separated text with other headers, Chinese dates, full-width digits.
fn education_gbk(fx: &Fixture, dir: &Path) {
    // Columns in another order than the canonical file, and an extra one (备注) that is ignored.
    let mut text = String::from("自付费用\t学段\t身份证号\t备注\t学年\t学生姓名\t缴费日期\r\n");
    for row in fx.rows_of("education") {
        let v = cells(&row);
        let (y, m, d) = (&v[4][0..4], v[4][5..7].trim_start_matches('0'), v[4][8..10].trim_start_matches('0'));
        let amount: String = v[5].chars().map(|c| if c.is_ascii_digit() { char::from_u32(c as u32 - '0' as u32 + '０' as u32).unwrap() } else { c }).collect();
        text.push_str(&format!("{amount}\t{}\t{}\t无\t{}\t{}\t{y}年{m}月{d}日\r\n", v[2], v[0], v[3], v[1]));
    }
    let (bytes, _, unmappable) = encoding_rs::GBK.encode(&text);
    assert!(!unmappable);
    std::fs::write(dir.join("education.txt"), bytes).unwrap();
}

const SOURCES_TOML: &str = r#"
[defaults.aliases]
"证件号码" = ["公民身份号码", "身份证号"]
"姓名" = ["学生姓名"]

[sources.medical]
file = "medical/2021-*.xlsx"
read = { sheet = "明细", aliases = { "个人自付" = ["个人自付(元)"] }, synonyms = { "是否大病" = { "是" = ["Y"], "否" = ["N"] } } }

[sources.education]
file = "education.txt"

[sources.disability]
read = { synonyms = { "残疾等级" = { "一级" = ["1级", "Ⅰ级"], "二级" = ["2级"], "三级" = ["3级"] } } }
"#;

fn messy_dir(fx: &Fixture, dir: &Path) {
    std::fs::create_dir_all(dir).unwrap();
    for source in ["households", "members", "vehicles"] {
        std::fs::write(dir.join(format!("{source}.csv")), fx.csv_text(source)).unwrap();
    }
    medical_workbooks(fx, dir);
    education_gbk(fx, dir);
    let disability = fx.csv_text("disability").replace(",一级\n", ",1级\n").replace(",三级\n", ",3级\n");
    std::fs::write(dir.join("disability.csv"), disability).unwrap();
    std::fs::write(dir.join("sources.toml"), SOURCES_TOML).unwrap();
}

#[test]
fn excel_gbk_and_aliased_extracts_give_the_same_flagged_list_as_canonical_csv() {
    let fx = county();
    let canonical = fx.run();
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    messy_dir(&fx, &data);
    let messy = screen(tmp, data);

    // Worked by hand: H01 4000.00 ≥ 4000 (脱贫户) → 因病; H02 3999.99 < 4000 → no 因病, car → review;
    // H03 大病 → 因病, 10000.01 > 10000 → 因学; H04 一级 → 因残.
    canonical.assert_row("H01", &[("风险类型", "因病")]);
    canonical.assert_row("H02", &[("风险类型", "待核实"), ("建议", "建议不纳入(需评议)")]);
    canonical.assert_row("H03", &[("风险类型", "因病、因学")]);
    canonical.assert_row("H04", &[("风险类型", "因残")]);
    assert_text(
        &String::from_utf8(canonical.bytes("flagged.csv")).unwrap(),
        &String::from_utf8(messy.bytes("flagged.csv")).unwrap(),
        "flagged.csv from reshaped extracts",
    );
    assert!(messy.rejects().is_empty(), "nothing should be rejected: {:?}", messy.rejects());
    let medical = messy.input("medical");
    let files = medical["files"].as_array().unwrap();
    assert_eq!(files.len(), 2, "two monthly workbooks");
    assert_eq!(files[0]["header_line"], 3);
    assert_eq!(files[0]["skipped_total_rows"], 1);
    let education = messy.input("education");
    assert_eq!(education["files"][0]["encoding"], "GB18030");
}

#[test]
fn an_id_stored_as_a_number_in_excel_is_rejected_and_a_15_digit_one_is_read() {
    let mut fx = Fixture::new();
    let a = fx.person("甲一");
    let b = fx.person("乙一");
    // wage 5000 / 1 person = 5000.00 < 6320: both listed; only their risk types differ.
    fx.household(hh("H01", "脱贫户", &a).wage("5000"));
    fx.household(hh("H02", "脱贫户", &b).wage("5000"));
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    for s in ["households", "members"] {
        std::fs::write(data.join(format!("{s}.csv")), fx.csv_text(s)).unwrap();
    }
    let mut wb = Workbook::new();
    let sheet = wb.add_worksheet();
    for (i, h) in header_of("disability").iter().enumerate() {
        sheet.write_string(0, i as u16, *h).unwrap();
    }
    // a's 18-digit ID as a number: beyond 2^53, its last digits are gone.
    sheet.write_number(1, 0, a.id.parse::<f64>().unwrap()).unwrap();
    sheet.write_string(1, 1, &a.name).unwrap();
    sheet.write_string(1, 2, "肢体").unwrap();
    sheet.write_string(1, 3, "一级").unwrap();
    // b's 15-digit form as a number is exact, and upgrades to b's 18-digit ID.
    let b15 = format!("{}{}", &b.id[0..6], &b.id[8..17]);
    sheet.write_number(2, 0, b15.parse::<f64>().unwrap()).unwrap();
    sheet.write_string(2, 1, &b.name).unwrap();
    sheet.write_string(2, 2, "肢体").unwrap();
    sheet.write_string(2, 3, "一级").unwrap();
    wb.save(data.join("disability.xlsx")).unwrap();
    std::fs::write(data.join("sources.toml"), "[sources.disability]\nfile = \"disability.xlsx\"\n").unwrap();
    let out = screen(tmp, data);
    assert_has_reject(&out, &[("来源", "disability"), ("行号", "2"), ("列", "证件号码")]);
    let reject = out.rejects().into_iter().find(|r| r.get("来源") == "disability").unwrap();
    assert!(reject.get("原因").contains("Excel"), "{}", reject.render());
    assert!(reject.get("文件").starts_with("disability.xlsx["), "{}", reject.render());
    out.assert_row("H01", &[("风险类型", "待核实")]);
    out.assert_row("H02", &[("风险类型", "因残")]);
}

#[test]
fn a_missing_column_names_the_source_the_headers_found_and_the_closest_header() {
    let mut fx = Fixture::new();
    let a = fx.person("甲一");
    fx.household(hh("H01", "脱贫户", &a).wage("9000"));
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    fx.write_data(&data);
    std::fs::write(data.join("medical.csv"), "证件号,姓名,就诊日期,医疗总费用,报销金额,个人自付,病种,是否大病\n").unwrap();
    let out = fanpin_cmd().args(["screen", "--rules", RULES, "--data"]).arg(&data).arg("--out").arg(tmp.path().join("out")).output().unwrap();
    // Exit code 6: an input file cannot be read (README, "Exit codes").
    assert_eq!(out.status.code(), Some(6));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("medical.csv (medical)"), "{err}");
    assert!(err.contains("证件号码 (closest header: '证件号')"), "{err}");

    // inspect says the same, masks nothing it doesn't need, and exits non-zero.
    let out = fanpin_cmd().args(["inspect", "--rules", RULES, "--data"]).arg(&data).args(["--source", "medical"]).output().unwrap();
    assert!(!out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("证件号码 (closest header: '证件号')"), "{text}");
}

#[test]
fn inspect_shows_the_mapping_and_masks_id_numbers() {
    let fx = county();
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    messy_dir(&fx, &data);
    let out = fanpin_cmd().args(["inspect", "--rules", RULES, "--data"]).arg(&data).args(["--source", "medical"]).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}\n{}", String::from_utf8_lossy(&out.stderr));
    assert!(text.contains("medical/2021-01.xlsx[明细]"), "{text}");
    assert!(text.contains("证件号码 ← 公民身份号码"), "{text}");
    assert!(text.contains("个人自付 ← 个人自付(元)"), "{text}");
    assert!(text.contains("1 total rows skipped"), "{text}");
    for p in fx.rows_of("members") {
        assert!(!text.contains(&p[2]), "a full ID number was printed: {text}");
    }
    assert!(text.contains("********"), "{text}");
}

#[test]
fn the_sample_county_as_department_extracts_screens_exactly_like_the_canonical_sample() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("sample-data");
    let tmp = tempfile::tempdir().unwrap();
    let run = |data: &Path, out: &Path| {
        let o = fanpin_cmd().args(["screen", "--rules", RULES, "-q", "--data"]).arg(data).arg("--out").arg(out).output().unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    };
    let (a, b) = (tmp.path().join("canonical"), tmp.path().join("extracts"));
    run(&root.join("county-2021"), &a);
    run(&root.join("county-2021-extracts"), &b);
    for f in ["flagged.csv", "summary_by_township.csv", "summary_by_risk.csv"] {
        let (x, y) = (std::fs::read_to_string(a.join(f)).unwrap(), std::fs::read_to_string(b.join(f)).unwrap());
        assert_text(&x, &y, f);
    }
    // The same unreadable values are rejected, each at its place in the reshaped files.
    let reasons = |d: &Path| {
        let text = std::fs::read_to_string(d.join("rejects.csv")).unwrap();
        let mut r: Vec<String> = text.lines().skip(1).map(|l| l.split(',').skip(3).collect::<Vec<_>>().join(",")).collect();
        r.sort();
        r
    };
    assert_eq!(reasons(&a), reasons(&b));
}
