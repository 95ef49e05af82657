//! Nothing lost, nothing leaked, nothing crashes (issue 15): every physical record is read or
//! rejected with its line, an amount is never silently emptied, a file that exists but cannot
//! be read is never taken for an absent one, and `check` / `inspect` exit as `screen` does.
//!
//! Reference policy (rules/guizhou-2021.toml): monitoring line 6320.00, window 2020-06-01 ..
//! 2021-05-31; 因病 for a 脱贫户 when 个人自付 ≥ 4000. Every household here is a one-person
//! 脱贫户 with wage 5000: PCI = 5000.00 < 6320 → listed as 脱贫不稳定户 whatever its records;
//! its 风险类型 tells which records were read.

use crate::support::*;
use rust_xlsxwriter::Workbook;
use std::path::Path;
use std::process::{Command, Output};

/// Three one-person 脱贫户 H1..H3, each with a medical record of 5000.00 (≥ 4000 → 因病).
fn three_ill() -> (Fixture, [Person; 3]) {
    let mut fx = Fixture::new();
    let p = [fx.person("赵一"), fx.person("钱二"), fx.person("孙三")];
    for (i, x) in p.iter().enumerate() {
        fx.household(hh(&format!("H{}", i + 1), "脱贫户", x).wage("5000"));
        fx.medical(x, "2021-01-01", "5000.00", "否");
    }
    (fx, p)
}

fn screen_code(data: &Path, out: &Path) -> Output {
    run(&["screen".as_ref(), "--rules".as_ref(), RULES.as_ref(), "-q".as_ref(), "--data".as_ref(), data.as_os_str(), "--out".as_ref(), out.as_os_str()])
}

#[track_caller]
fn assert_exit(o: &Output, code: i32, what: &str) -> String {
    let stderr = String::from_utf8_lossy(&o.stderr).into_owned();
    let all = format!("{what}: expected exit {code}, got {:?}\n--- stdout\n{}--- stderr\n{stderr}", o.status.code(), String::from_utf8_lossy(&o.stdout));
    assert_eq!(o.status.code(), Some(code), "{all}");
    assert!(!stderr.contains("panicked"), "{all}");
    all
}

// ---------------------------------------------------------------- 1. a CR alone ends a line

#[test]
fn files_whose_lines_end_in_a_lone_cr_are_read_record_by_record_with_physical_line_numbers() {
    let (mut fx, p) = three_ill();
    // medical.csv line 3 (钱二) has an unreadable amount: rejected at line 3, nothing merged.
    let mut text = fx.csv_text("medical");
    text = text.replace(&format!("{},钱二,2021-01-01,50000.00,0,5000.00", p[1].id), &format!("{},钱二,2021-01-01,50000.00,0,五千", p[1].id));
    assert!(text.contains("五千"));
    // Old Mac exports: every line end is a CR alone, the roster's too.
    for source in ["households", "members"] {
        let t = fx.csv_text(source).replace('\n', "\r");
        fx.raw_file(&format!("{source}.csv"), t);
    }
    fx.raw_file("medical.csv", text.replace('\n', "\r"));
    let out = fx.run();
    // H1 and H3: 5000.00 ≥ 4000 → 因病; H2's only record is rejected → 待核实 (still listed:
    // PCI 5000.00 < 6320).
    assert_eq!(out.listed(), ["H1", "H2", "H3"]);
    out.assert_row("H1", &[("风险类型", "因病")]);
    out.assert_row("H2", &[("风险类型", "待核实")]);
    out.assert_row("H3", &[("风险类型", "因病")]);
    let rejects = out.rejects();
    assert_eq!(rejects.len(), 1, "{}", out.csv("rejects.csv").render());
    assert_fields(&rejects[0], &[("来源", "medical"), ("文件", "medical.csv"), ("行号", "3"), ("列", "个人自付"), ("值", "五千")], "the reject");
    // 3 records in medical.csv (lines 2, 3, 4), 3 households and 3 members.
    let rows_read = |s: &str| out.input(s)["rows_read"].clone();
    assert_eq!((rows_read("medical"), rows_read("households"), rows_read("members")), (3.into(), 3.into(), 3.into()));
}

#[test]
fn a_lone_cr_after_crlf_lines_still_ends_a_line() {
    // One line of a CRLF file ended by a CR alone (an edit in an old editor): line 3's record
    // must not swallow line 4's.
    let (mut fx, _) = three_ill();
    let crlf = fx.csv_text("medical").replace('\n', "\r\n");
    let lines: Vec<&str> = crlf.split_inclusive("\r\n").collect();
    assert_eq!(lines.len(), 4);
    let mixed = format!("{}{}{}{}", lines[0], lines[1], lines[2].replace("\r\n", "\r"), lines[3]);
    fx.raw_file("medical.csv", mixed);
    let out = fx.run();
    for h in ["H1", "H2", "H3"] {
        out.assert_row(h, &[("风险类型", "因病")]);
    }
    assert!(out.rejects().is_empty(), "{}", out.csv("rejects.csv").render());
}

// ---------------------------------------------------------------- 2. amounts too large

#[test]
fn an_amount_too_large_for_the_decimal_type_is_a_reject_with_file_line_and_column() {
    let mut fx = Fixture::new();
    let a = fx.person("周大");
    let b = fx.person("吴二");
    fx.household(hh("H1", "脱贫户", &a).wage("5000"));
    fx.household(hh("H2", "脱贫户", &b).wage("5000"));
    let nines = "9".repeat(37);
    fx.medical(&a, "2021-01-01", &nines, "否"); // medical.csv line 2: 37 digits → reject
    fx.medical(&b, "2021-01-01", "4000.00", "否"); // line 3: 4000.00 ≥ 4000 → 因病
    let out = fx.run();
    assert_has_reject(&out, &[("来源", "medical"), ("文件", "medical.csv"), ("行号", "2"), ("列", "个人自付"), ("值", nines.as_str())]);
    let r = out.rejects().into_iter().find(|r| r.get("行号") == "2").unwrap();
    assert!(r.get("原因").contains("金额超出范围"), "{}", r.render());
    // The rejected record counts for nothing: H1 is listed (PCI 5000.00 < 6320) as 待核实.
    out.assert_row("H1", &[("风险类型", "待核实")]);
    out.assert_row("H2", &[("风险类型", "因病")]);
    let medical = out.input("medical");
    assert_eq!(medical["rows_rejected"], 1, "{medical}");
}

// ---------------------------------------------------------------- 3. unreadable is not absent

#[cfg(unix)]
#[test]
fn a_department_file_that_is_a_directory_a_dangling_link_or_a_fifo_exits_6_naming_it() {
    let (fx, _) = three_ill();
    type Make = fn(&Path);
    let cases: [(&str, Make); 3] = [
        ("a directory", |p| std::fs::create_dir(p).unwrap()),
        ("a dangling symbolic link", |p| std::os::unix::fs::symlink(p.with_file_name("gone.csv"), p).unwrap()),
        ("a FIFO", |p| assert!(Command::new("mkfifo").arg(p).status().unwrap().success())),
    ];
    for (what, make) in cases {
        let (tmp, data) = data_of(&fx);
        let medical = data.join("medical.csv");
        std::fs::remove_file(&medical).unwrap();
        make(&medical);
        // A FIFO must not be opened (it would wait for a writer): give the run a deadline.
        let mut child = fanpin_cmd()
            .args(["screen", "--rules", RULES, "-q", "--data"])
            .arg(&data)
            .arg("--out")
            .arg(tmp.path().join("out"))
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let started = std::time::Instant::now();
        while child.try_wait().unwrap().is_none() {
            if started.elapsed() > std::time::Duration::from_secs(120) {
                child.kill().unwrap();
                child.wait().unwrap();
                panic!("medical.csv as {what}: fanpin still runs after 120 s (blocked on opening it?)");
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        let o = child.wait_with_output().unwrap();
        let all = assert_exit(&o, 6, &format!("medical.csv as {what}"));
        assert!(String::from_utf8_lossy(&o.stderr).contains("medical.csv"), "the file is named\n{all}");
        assert!(!tmp.path().join("out/flagged.csv").exists(), "no list from a run that could not read medical.csv");
    }
}

#[test]
fn a_roster_file_that_is_a_directory_exits_6_not_7() {
    let (fx, _) = three_ill();
    let (tmp, data) = data_of(&fx);
    std::fs::remove_file(data.join("households.csv")).unwrap();
    std::fs::create_dir(data.join("households.csv")).unwrap();
    let o = screen_code(&data, &tmp.path().join("out"));
    let all = assert_exit(&o, 6, "households.csv a directory");
    assert!(String::from_utf8_lossy(&o.stderr).contains("households.csv"), "{all}");
}

// ---------------------------------------------------------------- 4. `;` in a .csv

#[test]
fn a_semicolon_delimited_csv_is_detected() {
    let (mut fx, _) = three_ill();
    // No cell holds a comma or a semicolon, so the swap changes only the delimiter.
    let text = fx.csv_text("medical");
    assert!(!text.contains(';') && !text.contains('"'));
    fx.raw_file("medical.csv", text.replace(',', ";"));
    let out = fx.run();
    for h in ["H1", "H2", "H3"] {
        out.assert_row(h, &[("风险类型", "因病")]);
    }
    assert!(out.rejects().is_empty(), "{}", out.csv("rejects.csv").render());
    let medical = out.input("medical");
    assert_eq!(medical["files"][0]["delimiter"], ";", "{medical}");
}

#[test]
fn a_declared_comma_on_a_semicolon_file_names_the_delimiter_instead_of_advising_an_alias() {
    let (fx, _) = three_ill();
    let (tmp, data) = data_of(&fx);
    std::fs::write(data.join("medical.csv"), fx.csv_text("medical").replace(',', ";")).unwrap();
    std::fs::write(data.join("sources.toml"), "[sources.medical]\nread = { delimiter = \",\" }\n").unwrap();
    let o = screen_code(&data, &tmp.path().join("out"));
    let all = assert_exit(&o, 6, "declared ',' on a ';' file");
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("medical.csv"), "{all}");
    assert!(err.contains("';'") && err.contains("delimiter"), "the fitting delimiter is named\n{all}");
    assert!(!err.contains("alias"), "an alias would not help\n{all}");
}

// ---------------------------------------------------------------- 5. Excel's owner files

#[test]
fn an_excel_owner_file_beside_the_workbooks_is_skipped_with_a_warning() {
    let (fx, _) = three_ill();
    let (tmp, data) = data_of(&fx);
    std::fs::remove_file(data.join("medical.csv")).unwrap();
    let mut wb = Workbook::new();
    let sheet = wb.add_worksheet();
    for (r, row) in std::iter::once(header_of("medical").iter().map(|s| s.to_string()).collect()).chain(fx.rows_of("medical")).enumerate() {
        for (c, v) in row.iter().enumerate() {
            sheet.write_string(r as u32, c as u16, v).unwrap();
        }
    }
    wb.save(data.join("medical-2021-01.xlsx")).unwrap();
    // What Excel writes while medical-2021-01.xlsx is open: `~$` in place of the name's first
    // two characters, 162 bytes holding the user's name, not a zip.
    let mut owner = vec![7u8];
    owner.extend("张科员".as_bytes());
    owner.resize(162, 0x20);
    std::fs::write(data.join("~$dical-2021-01.xlsx"), owner).unwrap();
    std::fs::write(data.join("sources.toml"), "[sources.medical]\nfile = \"*.xlsx\"\n").unwrap();
    let out = screen(tmp, data);
    for h in ["H1", "H2", "H3"] {
        out.assert_row(h, &[("风险类型", "因病")]);
    }
    assert!(out.stderr.contains("warning: ~$dical-2021-01.xlsx skipped"), "a warning names the skipped file:\n{}", out.stderr);
    let medical = out.input("medical");
    assert_eq!(medical["files"].as_array().unwrap().len(), 1, "{medical}");
}

// ---------------------------------------------------------------- 6. 合  计

/// Lines that are not records are neither rejected nor counted against the three households
/// of `three_ill`, which stay listed for illness.
#[track_caller]
fn assert_skipped_not_rejected(out: &Outcome) {
    assert!(out.rejects().is_empty(), "total and blank lines are not records:\n{}", out.csv("rejects.csv").render());
    for h in ["H1", "H2", "H3"] {
        out.assert_row(h, &[("风险类型", "因病")]);
    }
}

#[test]
fn total_lines_centred_with_spaces_are_skipped_and_counted() {
    let (mut fx, _) = three_ill();
    let stranger = fx.person("无关"); // not in the roster: an unmatched record, no rule
    fx.disability(&stranger, "一级");
    // medical.csv (header on line 1): `合  计` with two spaces; disability.csv below a title
    // row: `小　计` with U+3000, then `总 计`.
    let medical = fx.csv_text("medical") + "合  计,,,150000.00,0,15000.00,,\n";
    let disability = format!("残联数据\n{}小\u{3000}计,,,\n总 计,,,\n", fx.csv_text("disability"));
    fx.raw_file("medical.csv", medical);
    fx.raw_file("disability.csv", disability);
    let out = fx.run();
    assert_skipped_not_rejected(&out);
    assert_eq!(out.input("medical")["files"][0]["skipped_total_rows"], 1);
    assert_eq!(out.input("medical")["rows_read"], 3);
    assert_eq!(out.input("disability")["files"][0]["skipped_total_rows"], 2);
    assert_eq!(out.input("disability")["rows_read"], 1);
}

#[test]
fn a_total_line_and_a_blank_line_of_spaces_in_a_file_with_few_such_lines_are_skipped_and_counted() {
    // 70 more records (self-paid 0.00: no sum changes) make 76 lines, of which the two with
    // spaces are fewer than one in 32: only those two lines are read the careful way, and
    // whether they are a total or blank is told on them alone.
    let (mut fx, p) = three_ill();
    for i in 0..70 {
        fx.medical(&p[i % 3], "2021-02-01", "0.00", "否");
    }
    let medical = fx.csv_text("medical") + "合  计,,,150000.00,0,15000.00,,\n" + " , ,,,,,,\u{3000}\n";
    fx.raw_file("medical.csv", medical);
    let out = fx.run();
    assert_skipped_not_rejected(&out);
    let medical = out.input("medical");
    assert_eq!(medical["files"][0]["skipped_total_rows"], 1, "{medical}");
    assert_eq!(medical["files"][0]["skipped_blank_rows"], 1, "{medical}");
    assert_eq!(medical["rows_read"], 73, "{medical}");
}

// ---------------------------------------------------------------- nothing leaked

#[test]
fn a_file_without_its_header_line_exits_6_without_printing_the_id_numbers_of_its_first_row() {
    let (fx, p) = three_ill();
    let (tmp, data) = data_of(&fx);
    // members.csv with its header line cut: the row the error quotes is 赵一's record.
    let text = fx.csv_text("members");
    std::fs::write(data.join("members.csv"), text.split_once('\n').unwrap().1).unwrap();
    let o = screen_code(&data, &tmp.path().join("out"));
    let all = assert_exit(&o, 6, "members.csv without its header");
    assert!(all.contains("members.csv") && all.contains("headers found"), "{all}");
    for x in &p {
        assert!(!all.contains(&x.id), "a full ID number was printed:\n{all}");
    }
    // 赵一's ID, masked as `inspect` masks it: the first 6 and the last 4 characters.
    assert!(all.contains(&format!("{}********{}", &p[0].id[..6], &p[0].id[14..])), "{all}");
}

// ---------------------------------------------------------------- 7. check and inspect exit as screen

#[test]
fn check_with_data_exits_7_for_a_missing_roster_file_and_6_for_an_unreadable_one() {
    let (fx, _) = three_ill();
    let (_tmp, data) = data_of(&fx);
    let check = |data: &Path| run(&["check".as_ref(), RULES.as_ref(), "--data".as_ref(), data.as_os_str()]);
    std::fs::remove_file(data.join("members.csv")).unwrap();
    let all = assert_exit(&check(&data), 7, "check --data, members.csv absent");
    assert!(all.contains("members.csv"), "{all}");
    std::fs::create_dir(data.join("members.csv")).unwrap();
    let all = assert_exit(&check(&data), 6, "check --data, members.csv a directory");
    assert!(all.contains("members.csv"), "{all}");
}

#[test]
fn inspect_exits_6_for_an_unreadable_file_and_7_for_a_missing_roster_as_screen_does() {
    let (fx, _) = three_ill();
    let (tmp, data) = data_of(&fx);
    let inspect = |data: &Path| run(&["inspect".as_ref(), "--rules".as_ref(), RULES.as_ref(), "--data".as_ref(), data.as_os_str()]);
    // medical.csv lacking its 是否大病 column: screen exits 6, and so must inspect.
    let cut: String = fx.csv_text("medical").lines().map(|l| l.rsplit_once(',').unwrap().0.to_string() + "\n").collect();
    std::fs::write(data.join("medical.csv"), cut).unwrap();
    assert_exit(&screen_code(&data, &tmp.path().join("out")), 6, "screen, medical.csv lacks 是否大病");
    let all = assert_exit(&inspect(&data), 6, "inspect, medical.csv lacks 是否大病");
    assert!(all.contains("是否大病"), "{all}");
    for p in fx.rows_of("members") {
        assert!(!all.contains(&p[2]), "a full ID number was printed:\n{all}");
    }
    std::fs::remove_file(data.join("households.csv")).unwrap();
    assert_exit(&screen_code(&data, &tmp.path().join("out")), 7, "screen, households.csv absent");
    assert_exit(&inspect(&data), 7, "inspect, households.csv absent");
}
