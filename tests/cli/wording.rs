//! Issue 15, items 18, 19 and 23: policy sentences come from the rules file, diagnostics name
//! the right file and position, and the test harness itself cannot pass by accident.

use crate::support::*;

// ---------------------------------------------------------------- the harness (item 23)

fn rejected_household() -> Outcome {
    let mut fx = Fixture::new();
    let a = fx.person("甲一");
    fx.household(hh("H1", "一般农户", &a).wage("20000"));
    let b = fx.person("乙一");
    // An unreadable amount: the household row is rejected, so H2 is neither screened nor listed.
    fx.household(hh("H2", "一般农户", &b).wage("2万"));
    fx.run()
}

#[test]
#[should_panic(expected = "not in screened.csv")]
fn assert_not_listed_fails_for_a_rejected_household() {
    rejected_household().assert_not_listed("H2", "a rejected household is not a screened one");
}

#[test]
fn assert_not_listed_passes_for_a_screened_household_above_the_line() {
    let out = rejected_household();
    // 20000.00 ≥ 6320.00: screened, not listed.
    out.assert_not_listed("H1", "PCI 20000.00 ≥ 6320");
    out.assert_not_screened("H2", "its 工资性收入 2万 is unreadable");
}

#[test]
fn every_integration_test_spawns_the_binary_through_the_one_builder() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/cli");
    let mut offenders = Vec::new();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "rs") || path.ends_with("support.rs") {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        for (n, line) in text.lines().enumerate() {
            let code = line.split("//").next().unwrap_or("");
            if code.contains(&format!("Command::new({}", "BIN")) || code.contains(&format!("{}!(\"CARGO_BIN_EXE", "env")) {
                offenders.push(format!("{}:{}: {}", path.display(), n + 1, line.trim()));
            }
        }
    }
    assert!(offenders.is_empty(), "spawn fanpin with support::fanpin_cmd(), not by hand:\n{}", offenders.join("\n"));
}

// ---------------------------------------------------------------- diagnostics (item 19)

/// A data directory of one household (20000.00, not listed) and whatever `extra` adds.
fn data_dir(extra: impl FnOnce(&std::path::Path)) -> (tempfile::TempDir, std::path::PathBuf) {
    let mut fx = Fixture::new();
    let a = fx.person("甲一");
    fx.household(hh("H1", "一般农户", &a).wage("20000"));
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    fx.write_data(&data);
    extra(&data);
    (tmp, data)
}

fn check_with_data(rules: &std::path::Path, data: &std::path::Path) -> (Option<i32>, String) {
    let o = fanpin_cmd().arg("check").arg(rules).arg("--data").arg(data).output().unwrap();
    (o.status.code(), String::from_utf8_lossy(&o.stderr).into_owned())
}

#[test]
fn a_synonym_error_in_sources_toml_is_reported_at_its_line_in_sources_toml() {
    // Line 3 of sources.toml opens the medical table; 是否大病 is enum(是, 否), so 可能 is no value
    // of it, and 个人自付 is money, which takes no synonyms.
    let text = "# county overrides\n\n[sources.medical]\nread = { synonyms = { \"是否大病\" = { \"可能\" = [\"Y\"] } } }\n\n[sources.education]\nread = { synonyms = { \"自付费用\" = { \"1\" = [\"一\"] } } }\n";
    let (_tmp, data) = data_dir(|d| std::fs::write(d.join("sources.toml"), text).unwrap());
    let (code, err) = check_with_data(std::path::Path::new(RULES), &data);
    assert_eq!(code, Some(3), "{err}");
    let sources = data.join("sources.toml").display().to_string();
    assert!(err.contains(&format!("{sources}:3:1: ")) && err.contains("'可能'"), "{err}");
    assert!(err.contains(&format!("{sources}:6:1: ")) && err.contains("'自付费用'"), "{err}");
    assert!(!err.contains("guizhou-2021.toml:"), "an error of sources.toml placed in the rules file:\n{err}");
}

#[test]
fn a_missing_sheet_is_named_plainly() {
    let (tmp, data) = data_dir(|d| {
        let mut wb = rust_xlsxwriter::Workbook::new();
        let sheet = wb.add_worksheet();
        sheet.set_name("汇总").unwrap();
        sheet.write_row(0, 0, header_of("disability").iter().copied()).unwrap();
        wb.save(d.join("disability.xlsx")).unwrap();
        std::fs::remove_file(d.join("disability.csv")).ok();
        std::fs::write(d.join("sources.toml"), "[sources.disability]\nfile = \"disability.xlsx\"\nread = { sheet = \"明细\" }\n").unwrap();
    });
    let o = fanpin_cmd().args(["screen", "--rules", RULES, "-q", "--data"]).arg(&data).arg("--out").arg(tmp.path().join("out")).output().unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(6), "{err}");
    assert!(err.contains("disability.xlsx: no sheet 明细; the workbook has: 汇总"), "{err}");
    assert!(!err.contains("Some(") && !err.contains("Name("), "{err}");
}

#[test]
fn a_rules_file_with_invalid_utf8_names_the_line_and_byte_offset() {
    let tmp = tempfile::tempdir().unwrap();
    let mut bytes = std::fs::read(RULES).unwrap();
    // Line 2 becomes `# ·\xFF`: the invalid byte is at offset 2 + "# ·".len() = 2 + 4 of line 2.
    let line2 = bytes.iter().position(|b| *b == b'\n').unwrap() + 1;
    let tail = bytes.split_off(line2);
    bytes.extend_from_slice("# ·".as_bytes());
    bytes.push(0xFF);
    bytes.push(b'\n');
    bytes.extend(tail);
    let rules = tmp.path().join("bad.toml");
    std::fs::write(&rules, &bytes).unwrap();
    let o = fanpin_cmd().arg("check").arg(&rules).output().unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(3), "{err}");
    let offset = line2 + 4;
    // Column 4: `#`, space, `·`, then the bad byte.
    assert!(err.contains(&format!("{}:2:4: invalid UTF-8 at byte offset {offset} (byte 0xFF)", rules.display())), "{err}");
}

#[test]
fn a_sources_toml_with_invalid_utf8_names_it_and_the_position() {
    let (_tmp, data) = data_dir(|d| std::fs::write(d.join("sources.toml"), b"[sources.medical]\nfile = \"m\xE9dical.csv\"\n").unwrap());
    let (code, err) = check_with_data(std::path::Path::new(RULES), &data);
    assert_eq!(code, Some(3), "{err}");
    // Offset 18 + `file = "m`.len() 9 = 27, line 2 column 10.
    assert!(err.contains(&format!("{}:2:10: invalid UTF-8 at byte offset 27 (byte 0xE9)", data.join("sources.toml").display())), "{err}");
}

// ---------------------------------------------------------------- wording from the rules (item 18)

/// Keys that carry wording: a reworded rules file drops the reference file's own lines of them.
const WORDING_KEYS: [&str; 12] = [
    "no_trigger_risk",
    "include",
    "review",
    "notice_title",
    "notice_footer",
    "review_note",
    "dropped_not_screened",
    "dropped_excluded",
    "dropped_no_category",
    "dropped_not_listed",
    "stays_reason",
    "elimination_basis",
];

/// The reference rules with other wording: `report` and `monitoring` are lines added to those
/// sections.
fn reworded(report: &str, monitoring: &str) -> (tempfile::TempDir, std::path::PathBuf) {
    let text = std::fs::read_to_string(RULES).unwrap();
    let mut out = String::new();
    for line in text.lines() {
        if WORDING_KEYS.iter().any(|k| line.starts_with(&format!("{k} ="))) {
            continue;
        }
        out.push_str(line);
        out.push('\n');
        if line == "[report]" {
            out.push_str(report);
        }
        if line == "[monitoring]" {
            out.push_str(monitoring);
        }
    }
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("reworded.toml");
    std::fs::write(&path, out).unwrap();
    (tmp, path)
}

#[test]
fn notice_takes_its_wording_from_the_rules_report_section() {
    let (_rules_dir, rules) =
        reworded("include = \"列入公示\"\nreview = \"暂缓公示\"\nnotice_title = \"低收入户公示\"\nnotice_footer = \"异议请向村委会反映。\"\n", "");
    let mut fx = Fixture::new();
    let a = fx.person("甲一");
    let b = fx.person("乙一");
    // Both 5000.00 < 6320 → listed; b has a car → review.
    fx.household(hh("H1", "脱贫户", &a).wage("5000"));
    fx.household(hh("H2", "一般农户", &b).wage("5000"));
    fx.vehicle(&b, "小型轿车", "2019-01-01", "正常");
    let out = fx.run_with(&rules, &[]);
    out.assert_row("H1", &[("建议", "列入公示")]);
    out.assert_row("H2", &[("建议", "暂缓公示")]);
    let notice = |extra: &[&str]| {
        let o = fanpin_cmd().args(["notice", "--out"]).arg(&out.out).args(extra).output().unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        out.csv("notice.csv").column("户主姓名")
    };
    assert_eq!(notice(&[]), ["甲一"], "only the households marked 列入公示");
    assert_eq!(notice(&["--include-review"]), ["甲一", "乙一"]);
    use calamine::{Data, Reader};
    let mut wb = calamine::open_workbook_auto(out.path("notice.xlsx")).unwrap();
    let name = wb.sheet_names()[0].clone();
    let sheet = wb.worksheet_range(&name).unwrap();
    let cell = |r: u32, c: u32| sheet.get_value((r, c)).cloned().unwrap_or(Data::Empty).to_string();
    // Title row 1, headers row 3, the two households rows 4-5, the footer row 7.
    assert_eq!(cell(0, 0), "城关镇大坪村低收入户公示");
    assert_eq!(cell(6, 0), "异议请向村委会反映。");
    let all: String = sheet.rows().flatten().map(|d| d.to_string()).collect();
    assert!(!all.contains("防止返贫") && !all.contains("公示期不少于5天"), "the reference wording leaked into another rules file's notice: {all}");
}

#[test]
fn dropped_and_elimination_reasons_take_their_wording_from_the_rules() {
    let (_rules_dir, rules) = reworded(
        "dropped_not_screened = \"户表无此户\"\ndropped_no_category = \"收入{人均纯收入}元,线{监测线}元,已出列\"\n",
        "elimination_basis = \"上次{上次人均纯收入}/{上次监测线},本次{人均纯收入}/{监测线}\"\n",
    );
    // May: H1 and H2 at 5000.00 < 6320 → listed; M1 monitored at 20000.00.
    let may = {
        let mut fx = Fixture::new();
        let (a, b, m) = (fx.person("甲"), fx.person("乙"), fx.person("监"));
        fx.household(hh("H1", "脱贫户", &a).wage("5000"));
        fx.household(hh("H2", "脱贫户", &b).wage("5000"));
        fx.household(hh("M1", "脱贫户", &m).wage("20000").prev("20000").status("脱贫不稳定户"));
        fx.run_with(&rules, &[])
    };
    // June: H1 earns 7000.00 ≥ 6320, no category → dropped; H2 left the roster → dropped;
    // M1 still 20000.00 with nothing sudden → an elimination candidate.
    let june = {
        let mut fx = Fixture::new();
        let (a, _b, m) = (fx.person("甲"), fx.person("乙"), fx.person("监"));
        fx.household(hh("H1", "脱贫户", &a).wage("7000"));
        fx.household(hh("M1", "脱贫户", &m).wage("20000").prev("20000").status("脱贫不稳定户"));
        fx.run_with(&rules, &["--previous".as_ref(), may.out.as_os_str()])
    };
    let dropped = june.csv("dropped.csv");
    let why: Vec<(String, String)> = dropped.records().iter().map(|r| (r.get("户编号").to_string(), r.get("原因").to_string())).collect();
    assert_eq!(why, [("H1".to_string(), "收入7000.00元,线6320.00元,已出列".to_string()), ("H2".to_string(), "户表无此户".to_string())]);
    let elim = june.csv("elimination_candidates.csv");
    assert_eq!(elim.column("户编号"), ["M1"]);
    assert_eq!(elim.column("依据"), ["上次20000.00/6320.00,本次20000.00/6320.00"]);
}

#[test]
fn a_wording_placeholder_that_names_no_figure_is_a_positioned_error() {
    let (_rules_dir, rules) = reworded("dropped_no_category = \"收入{收入}元\"\n", "");
    let o = fanpin_cmd().arg("check").arg(&rules).output().unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(3), "{err}");
    // The line after [report]; `dropped_no_category = "收入` is 25 characters, `{` the 26th.
    let report_line = std::fs::read_to_string(&rules).unwrap().lines().position(|l| l == "[report]").unwrap() + 2;
    assert!(err.contains(&format!(":{report_line}:26: ")) && err.contains("{收入}"), "{err}");
}

#[test]
fn a_rules_file_that_states_no_wording_gets_no_reference_policy_sentence() {
    let (_rules_dir, rules) = reworded("", "");
    let may = {
        let mut fx = Fixture::new();
        let a = fx.person("甲");
        fx.household(hh("H1", "脱贫户", &a).wage("5000"));
        fx.run_with(&rules, &[])
    };
    let june = {
        let mut fx = Fixture::new();
        let a = fx.person("甲");
        fx.household(hh("H1", "脱贫户", &a).wage("7000"));
        fx.run_with(&rules, &["--previous".as_ref(), may.out.as_os_str()])
    };
    let o = fanpin_cmd().args(["notice", "--out"]).arg(&may.out).output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    // H1 is listed in May (5000.00 < 6320) with the neutral default wording, and is on the notice.
    assert_eq!(may.csv("notice.csv").column("户主姓名"), ["甲"]);
    let text = [may.bytes("flagged.csv"), may.bytes("notice.csv"), june.bytes("dropped.csv")].concat();
    let text = String::from_utf8(text).unwrap();
    for sentence in ["待核实", "纳入核实", "建议不纳入", "无突发严重困难情形", "防止返贫", "公示期"] {
        assert!(!text.contains(sentence), "{sentence} written for rules that do not say it:\n{text}");
    }
    assert!(june.csv("dropped.csv").column("原因")[0].contains("7000.00"), "the default still gives the figures");
}

#[test]
fn explain_takes_its_review_note_from_the_rules() {
    let (_rules_dir, rules) = reworded("review = \"暂缓\"\nreview_note = \"由乡镇复核\"\n", "");
    let mut fx = Fixture::new();
    let b = fx.person("乙一");
    // 5000.00 < 6320 → listed 边缘易致贫户 (一般农户); a car → marked review.
    fx.household(hh("H2", "一般农户", &b).wage("5000"));
    fx.vehicle(&b, "小型轿车", "2019-01-01", "正常");
    let out = fx.run_with(&rules, &[]);
    out.assert_row("H2", &[("建议", "暂缓")]);
    let o = fanpin_cmd().args(["explain", "--out"]).arg(&out.out).arg("H2").output().unwrap();
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(text.contains("排除提示: 家庭成员有小汽车 (由乡镇复核)"), "{text}");
    assert!(!text.contains("村民代表会议"), "{text}");
}

#[test]
fn the_caret_stands_under_the_error_after_narrow_non_ascii_characters() {
    let (_rules_dir, rules) = reworded("dropped_no_category = \"·…{收入}\"\n", "");
    let o = fanpin_cmd().arg("check").arg(&rules).output().unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(3), "{err}");
    let lines: Vec<&str> = err.lines().collect();
    let at = lines.iter().position(|l| l.ends_with("| dropped_no_category = \"·…{收入}\"")).unwrap_or_else(|| panic!("{err}"));
    // `dropped_no_category = "` is 23 columns, `·` and `…` one each: the caret starts at column
    // 26, under `{`, and `{收入}` is 1 + 2 + 2 + 1 = 6 columns wide.
    let caret = lines[at + 1];
    let bar = caret.find("| ").unwrap() + 2;
    assert_eq!(&caret[bar..], format!("{}^^^^^^", " ".repeat(25)), "{err}");
}
