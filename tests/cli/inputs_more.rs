//! Issue 15, items 3, 5, 6 and 8: float noise in numeric workbook cells, the encoding decided by
//! the whole file, physical line numbers everywhere, and no full ID number in any message.
//!
//! Reference policy (rules/guizhou-2021.toml): monitoring line 6320.00; 因病 for a 脱贫户 when a
//! record's 个人自付 ≥ 4000 (自付预警线), evidence `个人自付{个人自付}元`. Every household here is
//! a one-person 脱贫户 with wage 5000: PCI = 5000.00 < 6320 → listed whatever its records; its
//! 风险类型 tells which records were read (因病, or 待核实 when its record was rejected).

use crate::support::*;
use rust_xlsxwriter::Workbook;
use std::path::Path;

/// Three one-person 脱贫户 H1..H3 (赵一, 钱二, 孙三), no records yet.
fn three() -> (Fixture, [Person; 3]) {
    let mut fx = Fixture::new();
    let p = [fx.person("赵一"), fx.person("钱二"), fx.person("孙三")];
    for (i, x) in p.iter().enumerate() {
        fx.household(hh(&format!("H{}", i + 1), "脱贫户", x).wage("5000"));
    }
    (fx, p)
}

/// One medical.csv line (canonical columns) for `p`, 个人自付 `pay`.
fn medical_line(p: &Person, pay: &str, disease: &str) -> String {
    format!("{},{},2021-01-01,50000.00,0,{pay},{disease},否", p.id, p.name)
}

// ---------------------------------------------------------------- item 3: float noise

#[test]
fn a_numeric_workbook_amount_with_float_noise_is_the_amount_excel_shows_and_a_sub_cent_one_is_rejected() {
    let (fx, p) = three();
    let (tmp, data) = data_of(&fx);
    // The double just below 4000 (4000 − 2⁻⁴¹): Excel shows 4000, and 4000.00 ≥ 4000 → 因病.
    let below_4000 = f64::from_bits(4000f64.to_bits() - 1);
    assert!(below_4000 < 4000.0 && format!("{below_4000}").starts_with("3999.9999"));
    // 33849.31999999999: what a formula leaves, Excel shows 33849.32. 33849.315 is a real
    // half cent: not an amount in yuan with two decimals, rejected.
    let pays = [below_4000, 33849.31999999999, 33849.315];
    let mut wb = Workbook::new();
    let sheet = wb.add_worksheet();
    for (c, h) in header_of("medical").iter().enumerate() {
        sheet.write_string(0, c as u16, *h).unwrap();
    }
    for (r, (x, pay)) in p.iter().zip(pays).enumerate() {
        let r = r as u32 + 1;
        sheet.write_string(r, 0, &x.id).unwrap();
        sheet.write_string(r, 1, &x.name).unwrap();
        sheet.write_string(r, 2, "2021-01-01").unwrap();
        sheet.write_number(r, 3, 50000.0).unwrap();
        // 0.1 + 0.2 = 0.30000000000000004 in binary: 0.30 yuan.
        sheet.write_number(r, 4, 0.1 + 0.2).unwrap();
        sheet.write_number(r, 5, pay).unwrap();
        sheet.write_string(r, 6, "肺炎").unwrap();
        sheet.write_string(r, 7, "否").unwrap();
    }
    wb.save(data.join("medical.xlsx")).unwrap();
    std::fs::write(data.join("sources.toml"), "[sources.medical]\nfile = \"medical.xlsx\"\n").unwrap();
    let out = screen(tmp, data);
    out.assert_row("H1", &[("风险类型", "因病")]);
    out.assert_row("H2", &[("风险类型", "因病")]);
    out.assert_row("H3", &[("风险类型", "待核实")]);
    let evidence = |h: &str| out.row(h).get("证据").to_string();
    assert!(evidence("H1").contains("个人自付4000.00元"), "{}", evidence("H1"));
    assert!(evidence("H2").contains("个人自付33849.32元"), "{}", evidence("H2"));
    let rejects = out.rejects();
    assert_eq!(rejects.len(), 1, "{}", out.csv("rejects.csv").render());
    assert_fields(
        &rejects[0],
        &[("来源", "medical"), ("文件", "medical.xlsx[Sheet1]"), ("行号", "4"), ("列", "个人自付"), ("值", "33849.315")],
        "the sub-cent amount",
    );
    assert!(rejects[0].get("原因").contains("金额格式错误"), "{}", rejects[0].render());
}

// ---------------------------------------------------------------- item 5: encoding by the file

/// medical.csv in UTF-8 with 钱二's name written in GBK (bytes not UTF-8), on line 2 (inside
/// the first 256 KB) or on line 3, after 赵一's record whose 病种 holds 300 KB of text.
fn one_gbk_name(early: bool) -> (Outcome, [Person; 3]) {
    let (mut fx, p) = three();
    let padding = "肺炎".repeat(50_000); // 300,000 bytes of UTF-8
    let mut gbk_line = medical_line(&p[1], "5000.00", "肺炎").into_bytes();
    let name_at = gbk_line.windows("钱二".len()).position(|w| w == "钱二".as_bytes()).unwrap();
    // 钱二 in GBK: C7 AE B6 FE (C7 AE happens to be UTF-8 too; B6 cannot start a character).
    gbk_line.splice(name_at..name_at + "钱二".len(), [0xC7, 0xAE, 0xB6, 0xFE]);
    let long = medical_line(&p[0], "5000.00", &padding).into_bytes();
    let mut text = format!("{}\n", header_of("medical").join(",")).into_bytes();
    let middle: [&[u8]; 2] = if early { [&gbk_line, &long] } else { [&long, &gbk_line] };
    for line in middle {
        text.extend_from_slice(line);
        text.push(b'\n');
    }
    text.extend(medical_line(&p[2], "5000.00", "肺炎").into_bytes());
    text.push(b'\n');
    let gbk_offset = text.windows(4).position(|w| w == [0xC7, 0xAE, 0xB6, 0xFE]).unwrap();
    assert_eq!(gbk_offset < 256 * 1024, early);
    fx.raw_file("medical.csv", text);
    (fx.run(), p)
}

#[test]
fn a_utf8_file_with_a_few_gbk_bytes_keeps_its_good_rows_wherever_the_bytes_fall() {
    for early in [true, false] {
        let (out, _) = one_gbk_name(early);
        let what = if early { "GBK bytes in the first 256 KB" } else { "GBK bytes after 256 KB" };
        // 赵一 and 孙三: 5000.00 ≥ 4000 → 因病; 钱二's one record is rejected → 待核实.
        out.assert_row("H1", &[("风险类型", "因病")]);
        out.assert_row("H2", &[("风险类型", "待核实")]);
        out.assert_row("H3", &[("风险类型", "因病")]);
        let rejects = out.rejects();
        assert_eq!(rejects.len(), 1, "{what}: {}", out.csv("rejects.csv").render());
        let line = if early { "2" } else { "3" };
        assert_fields(&rejects[0], &[("来源", "medical"), ("文件", "medical.csv"), ("行号", line), ("列", "姓名")], what);
        assert!(rejects[0].get("原因").contains("无法识别的字符"), "{what}: {}", rejects[0].render());
        let input = out.input("medical");
        assert_eq!(input["files"][0]["encoding"], "UTF-8", "{what}: {input}");
        assert_eq!(input["rows_read"], 3, "{what}: {input}");
    }
}

#[test]
fn a_gb18030_file_is_gb18030_even_when_its_first_256_kb_are_ascii() {
    // Headers declared in ASCII (aliases), then 300 KB of ASCII (UTF-8 and GB18030 alike): the
    // Chinese text after it is GBK, so the file is GB18030, read whole as such.
    let (mut fx, p) = three();
    let ascii = ["id", "name", "date", "total", "refund", "pay", "disease", "major"];
    let aliases: Vec<String> = header_of("medical").iter().zip(ascii).map(|(h, a)| format!("\"{h}\" = [\"{a}\"]")).collect();
    let mut utf8 = format!("{}\n", ascii.join(","));
    utf8.push_str(&medical_line(&p[0], "5000.00", &"x".repeat(300_000)).replace(&p[0].name, "Zhao Yi").replace(",否", ",N"));
    utf8.push('\n');
    utf8.push_str(&format!("{}\n{}\n", medical_line(&p[1], "5000.00", "肺炎"), medical_line(&p[2], "五千", "肺炎")));
    let (gbk, _, bad) = encoding_rs::GBK.encode(&utf8);
    assert!(!bad);
    assert!(std::str::from_utf8(&gbk[..256 * 1024]).is_ok() && std::str::from_utf8(&gbk).is_err());
    fx.raw_file("medical.csv", gbk.into_owned());
    let sources = format!("[sources.medical]\nread = {{ aliases = {{ {} }}, synonyms = {{ \"是否大病\" = {{ \"否\" = [\"N\"] }} }} }}\n", aliases.join(", "));
    fx.raw_file("sources.toml", sources);
    let out = fx.run();
    // 赵一 and 钱二: 5000.00 ≥ 4000 → 因病; 孙三's amount 五千 (decoded from GBK) is rejected.
    out.assert_row("H1", &[("风险类型", "因病")]);
    out.assert_row("H2", &[("风险类型", "因病")]);
    out.assert_row("H3", &[("风险类型", "待核实")]);
    let rejects = out.rejects();
    assert_eq!(rejects.len(), 1, "{}", out.csv("rejects.csv").render());
    assert_fields(&rejects[0], &[("行号", "4"), ("列", "个人自付"), ("值", "五千")], "the GB18030 file's reject");
    assert_eq!(out.input("medical")["files"][0]["encoding"], "GB18030");
}

// ---------------------------------------------------------------- item 6: physical line numbers

/// How a medical.csv is written for the line-number tests.
#[derive(Clone, Copy, Debug)]
struct Layout {
    title: bool,
    crlf: bool,
    gbk: bool,
    blank: bool,
}

/// medical.csv (lines counted from 1, with `title`: one more above each):
/// 1 header · 2–4 赵一, 病种 a quoted cell over three lines · 5 钱二, 个人自付 五千 (rejected) ·
/// (with `blank`: an empty line) · 6 a person not in the roster (unmatched) · 7 孙三.
fn medical_file(p: &[Person; 3], stranger: &Person, l: Layout) -> Vec<u8> {
    let mut lines = Vec::new();
    if l.title {
        lines.push("医保住院结算明细(2021年)".to_string());
    }
    lines.push(header_of("medical").join(","));
    lines.push(medical_line(&p[0], "5000.00", "\"肺炎\n(复诊)\n住院\""));
    lines.push(medical_line(&p[1], "五千", "肺炎"));
    if l.blank {
        lines.push(String::new());
    }
    lines.push(medical_line(stranger, "5000.00", "肺炎"));
    lines.push(medical_line(&p[2], "5000.00", "肺炎"));
    let mut text = lines.join("\n") + "\n";
    if l.crlf {
        text = text.replace('\n', "\r\n");
    }
    if l.gbk {
        let (bytes, _, bad) = encoding_rs::GBK.encode(&text);
        assert!(!bad);
        return bytes.into_owned();
    }
    text.into_bytes()
}

#[test]
fn line_numbers_are_physical_lines_after_a_cell_over_several_lines_below_a_title_in_crlf_and_gb18030() {
    let mut layouts = Vec::new();
    for title in [false, true] {
        for crlf in [false, true] {
            for gbk in [false, true] {
                layouts.push(Layout { title, crlf, gbk, blank: false });
            }
        }
    }
    layouts.push(Layout { title: false, crlf: false, gbk: false, blank: true });
    layouts.push(Layout { title: true, crlf: true, gbk: true, blank: true });
    for l in layouts {
        let (mut fx, p) = three();
        let stranger = fx.person("路人");
        fx.raw_file("medical.csv", medical_file(&p, &stranger, l));
        let out = fx.run();
        let what = format!("{l:?}");
        let shift = l.title as usize;
        let (reject_line, unmatched_line) = (5 + shift, 6 + shift + l.blank as usize);
        out.assert_row("H1", &[("风险类型", "因病")]);
        out.assert_row("H2", &[("风险类型", "待核实")]);
        out.assert_row("H3", &[("风险类型", "因病")]);
        let rejects = out.rejects();
        assert_eq!(rejects.len(), 1, "{what}: {}", out.csv("rejects.csv").render());
        assert_fields(&rejects[0], &[("文件", "medical.csv"), ("行号", &reject_line.to_string()), ("列", "个人自付"), ("值", "五千")], &what);
        let unmatched = out.unmatched();
        assert_eq!(unmatched.len(), 1, "{what}: {}", out.csv("unmatched.csv").render());
        assert_fields(&unmatched[0], &[("文件", "medical.csv"), ("行号", &unmatched_line.to_string()), ("姓名", "路人")], &what);
        let input = out.input("medical");
        assert_eq!(input["files"][0]["header_line"], 1 + shift, "{what}: {input}");
        assert_eq!(input["files"][0]["encoding"], if l.gbk { "GB18030" } else { "UTF-8" }, "{what}: {input}");
    }
}

#[test]
fn inspect_shows_the_header_line_of_a_gb18030_crlf_file_below_a_title() {
    let (mut fx, p) = three();
    let stranger = fx.person("路人");
    fx.raw_file("medical.csv", medical_file(&p, &stranger, Layout { title: true, crlf: true, gbk: true, blank: false }));
    let (_tmp, data) = data_of(&fx);
    let o = run(&["inspect".as_ref(), "--rules".as_ref(), RULES.as_ref(), "--data".as_ref(), data.as_os_str(), "--source".as_ref(), "medical".as_ref()]);
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert_eq!(o.status.code(), Some(0), "{stdout}{}", String::from_utf8_lossy(&o.stderr));
    // Title on line 1, header on line 2; 4 records (赵一, 钱二, 路人, 孙三).
    assert!(stdout.contains("· 4 records") && stdout.contains("GB18030 · header on line 2"), "{stdout}");
}

// ---------------------------------------------------------------- item 8: no full ID in a message

/// The places in `text` where a full ID number could be: 17 digits (the first not 0) then a
/// digit or X, anywhere (`[1-9]\d{16}[\dXx]`), and any 15 characters in a row of one of `ids`.
fn leaked_ids(text: &str, ids: &[String]) -> Vec<String> {
    let chars: Vec<char> = text.chars().collect();
    let mut found = Vec::new();
    for w in chars.windows(18) {
        let ok = ('1'..='9').contains(&w[0]) && w[1..17].iter().all(char::is_ascii_digit) && (w[17].is_ascii_digit() || w[17] == 'X' || w[17] == 'x');
        if ok {
            found.push(w.iter().collect());
        }
    }
    for id in ids {
        let id: Vec<char> = id.chars().collect();
        for w in id.windows(15) {
            let part: String = w.iter().collect();
            if text.contains(&part) {
                found.push(part);
            }
        }
    }
    found
}

/// Runs screen (text and JSON logs), inspect and `check --data` on `data`: each must exit with
/// `code`, print no full ID number of `ids`, no more than `max` characters on stderr, and no
/// line over 600 characters on stdout (inspect's report is long, but no line quotes a file).
fn assert_no_id_printed(data: &Path, ids: &[String], code: i32, max: usize, what: &str) {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let (d, o, r) = (data.as_os_str(), out.as_os_str(), std::ffi::OsStr::new(RULES));
    let runs: [(&str, Vec<&std::ffi::OsStr>); 4] = [
        ("screen", vec!["screen".as_ref(), "--rules".as_ref(), r, "--data".as_ref(), d, "--out".as_ref(), o]),
        (
            "screen --log-format json",
            vec!["--log-format".as_ref(), "json".as_ref(), "screen".as_ref(), "--rules".as_ref(), r, "--data".as_ref(), d, "--out".as_ref(), o],
        ),
        ("inspect", vec!["inspect".as_ref(), "--rules".as_ref(), r, "--data".as_ref(), d]),
        ("check --data", vec!["check".as_ref(), r, "--data".as_ref(), d]),
    ];
    for (name, args) in runs {
        let output = run(&args);
        let all = format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
        let shown: String = all.chars().take(3000).collect();
        assert_eq!(output.status.code(), Some(code), "{what}, {name}:\n{shown}");
        assert!(!all.contains("panicked"), "{what}, {name}:\n{shown}");
        let leaked = leaked_ids(&all, ids);
        assert!(leaked.is_empty(), "{what}, {name}: full ID numbers printed: {:?}\n{shown}", &leaked[..leaked.len().min(5)]);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.chars().count() <= max, "{what}, {name}: {} characters on stderr (at most {max}):\n{shown}", stderr.chars().count());
        let longest = String::from_utf8_lossy(&output.stdout).lines().map(|l| l.chars().count()).max().unwrap_or(0);
        assert!(longest <= 600, "{what}, {name}: a line of {longest} characters on stdout:\n{shown}");
    }
}

/// Strangers (not in the roster) with IDs 100.., as many as `n`.
fn strangers(fx: &mut Fixture, n: usize) -> Vec<Person> {
    (0..n).map(|i| fx.person(&format!("路人{i}"))).collect()
}

#[test]
fn polars_could_not_parse_quotes_nothing_of_the_file_that_holds_an_id() {
    // medical.csv's last line opens a quote that never closes and holds a byte that is not
    // UTF-8: polars' reader fails and its message quotes the cell (here, 40 ID numbers).
    let (mut fx, p) = three();
    let others = strangers(&mut fx, 40);
    let mut text = fx.csv_text("medical").into_bytes();
    for x in &p {
        text.extend(format!("{}\n", medical_line(x, "5000.00", "肺炎")).into_bytes());
    }
    let ids: Vec<String> = others.iter().map(|x| x.id.clone()).collect();
    text.extend(format!("{},\"备注 {}", ids[0], ids.join(" ")).into_bytes());
    text.push(0xFF);
    fx.raw_file("medical.csv", text);
    let (_tmp, data) = data_of(&fx);
    let mut all_ids = ids.clone();
    all_ids.extend(p.iter().map(|x| x.id.clone()));
    // Exit 6 (the file cannot be read), the message short: the file's name and reason, and at
    // most a few hundred characters quoted from it.
    assert_no_id_printed(&data, &all_ids, 6, 2000, "polars' could not parse");
}

#[test]
fn a_file_without_its_header_prints_no_id_in_any_command_or_log_format() {
    // members.csv without its header line: the error quotes its first row (赵一's).
    let (fx, p) = three();
    let (_tmp, data) = data_of(&fx);
    let text = fx.csv_text("members");
    std::fs::write(data.join("members.csv"), text.split_once('\n').unwrap().1).unwrap();
    let ids: Vec<String> = p.iter().map(|x| x.id.clone()).collect();
    assert_no_id_printed(&data, &ids, 6, 2000, "members.csv without its header");
}

#[test]
fn a_header_search_over_wide_rows_of_ids_quotes_at_most_a_few_hundred_characters() {
    // medical.csv without its header, its first line 500 ID numbers wide: "headers found"
    // would list all 500 (masked: 9,000 characters).
    let (mut fx, p) = three();
    let others = strangers(&mut fx, 500);
    let ids: Vec<String> = others.iter().map(|x| x.id.clone()).collect();
    let mut text = format!("{}\n", ids.join(","));
    for x in &p {
        text.push_str(&format!("{}\n", medical_line(x, "5000.00", "肺炎")));
    }
    fx.raw_file("medical.csv", text);
    let (_tmp, data) = data_of(&fx);
    assert_no_id_printed(&data, &ids, 6, 2000, "a header row of 500 IDs");
}

#[test]
fn a_warning_masks_ids_in_a_file_name() {
    // An owner file named after a person's ID: the warning that it is skipped names it masked.
    let (mut fx, p) = three();
    let x = fx.person("王五");
    let (_tmp, data) = data_of(&fx);
    std::fs::write(data.join(format!("~${}.xlsx", x.id)), [7u8; 162]).unwrap();
    std::fs::write(data.join("sources.toml"), "[sources.medical]\nfile = \"*.xlsx\"\n").unwrap();
    let _ = p;
    assert_no_id_printed(&data, std::slice::from_ref(&x.id), 0, 4000, "an owner file named by an ID");
}

#[test]
fn inspect_masks_an_id_in_the_sample_values_of_a_text_column() {
    // 病种 (text) written with the patient's ID in it, as a clerk might: inspect shows three
    // sample values of each column.
    let (mut fx, p) = three();
    for x in &p {
        fx.medical(x, "2021-01-01", "5000.00", "否");
    }
    let text = fx.csv_text("medical").replace(",肺炎,", &format!(",肺炎(病历号{}),", p[0].id));
    fx.raw_file("medical.csv", text);
    let (_tmp, data) = data_of(&fx);
    let ids: Vec<String> = p.iter().map(|x| x.id.clone()).collect();
    assert_no_id_printed(&data, &ids, 0, 4000, "an ID inside a text cell");
    let o = run(&["inspect".as_ref(), "--rules".as_ref(), RULES.as_ref(), "--data".as_ref(), data.as_os_str(), "--source".as_ref(), "medical".as_ref()]);
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(stdout.contains(&format!("肺炎(病历号{}********{})", &p[0].id[..6], &p[0].id[14..])), "{stdout}");
}

#[test]
fn a_quoted_cell_that_is_never_closed_stops_the_run_naming_its_line_instead_of_swallowing_the_records_after_it() {
    // medical.csv line 3: 钱二's 病种 opens a quote that nothing closes; 孙三's record (line 4)
    // and a stranger's (line 5) would be read as part of that cell.
    let (mut fx, p) = three();
    let stranger = fx.person("路人");
    let text = format!(
        "{}\n{}\n{}\n{}\n{}\n",
        header_of("medical").join(","),
        medical_line(&p[0], "5000.00", "肺炎"),
        medical_line(&p[1], "5000.00", "\"肺炎"),
        medical_line(&p[2], "5000.00", "肺炎"),
        medical_line(&stranger, "5000.00", "肺炎"),
    );
    fx.raw_file("medical.csv", text);
    let (tmp, data) = data_of(&fx);
    let o = run(&[
        "screen".as_ref(),
        "--rules".as_ref(),
        RULES.as_ref(),
        "-q".as_ref(),
        "--data".as_ref(),
        data.as_os_str(),
        "--out".as_ref(),
        tmp.path().join("out").as_os_str(),
    ]);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(6), "{stderr}");
    assert!(stderr.contains("medical.csv") && stderr.contains("line 3") && stderr.contains("never closed"), "{stderr}");
    let mut ids: Vec<String> = p.iter().map(|x| x.id.clone()).collect();
    ids.push(stranger.id.clone());
    assert_no_id_printed(&data, &ids, 6, 2000, "a quote never closed");
}
