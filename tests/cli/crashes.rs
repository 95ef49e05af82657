//! Issue 15, items 9 and 10: nothing crashes and nothing exhausts the machine, whatever the rules
//! file or the extract holds. A run without any household left finishes with empty outputs; a
//! rules expression nested or long past the documented limits is a positioned error; a workbook
//! declaring a far cell is read by its cells, not by its declared size.

use crate::support::*;
use std::path::Path;
use std::process::Output;

fn text(o: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

/// Runs `screen` with the reference rules on `data`, writing into `out`.
fn screen_dir(data: &Path, out: &Path) -> Output {
    run(&["screen".as_ref(), "--rules".as_ref(), RULES.as_ref(), "--data".as_ref(), data.as_os_str(), "--out".as_ref(), out.as_os_str(), "-q".as_ref()])
}

/// The lines of an output CSV after its header (the BOM and header line dropped).
fn data_lines(out: &Path, name: &str) -> Vec<String> {
    let bytes = std::fs::read(out.join(name)).unwrap_or_else(|e| panic!("{name}: {e}"));
    assert!(bytes.starts_with(BOM), "{name} has no BOM");
    let text = String::from_utf8(bytes[BOM.len()..].to_vec()).unwrap();
    let mut lines = text.lines();
    let header = lines.next().unwrap_or_default();
    assert!(!header.is_empty(), "{name} has no header line");
    lines.map(str::to_string).collect()
}

// ---------------------------------------------------------------- no household left

#[test]
fn a_header_only_roster_screens_to_empty_outputs_with_headers() {
    // households.csv and members.csv hold their header line only: nothing to screen, exit 0.
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    Fixture::new().write_data(&data);
    let out = tmp.path().join("out");
    let o = screen_dir(&data, &out);
    assert!(!text(&o).contains("panicked"), "{}", text(&o));
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    for name in ["flagged.csv", "screened.csv", "new_leads.csv", "rejects.csv", "unmatched.csv"] {
        assert_eq!(data_lines(&out, name), Vec::<String>::new(), "{name}");
    }
    // the header of screened.csv is there, as documented
    let screened = std::fs::read_to_string(out.join("screened.csv")).unwrap();
    assert!(screened.contains("乡镇,村,户编号,户主姓名"), "{screened}");
}

#[test]
fn a_roster_whose_every_household_is_rejected_screens_to_empty_outputs() {
    // two rows with the same 户编号: both are rejected (duplicate 户编号), so no household is left
    let mut f = Fixture::new();
    let a = f.person("甲");
    let b = f.person("乙");
    f.household(hh("5226011010010001", "一般农户", &a));
    f.household(hh("5226011010010001", "一般农户", &b));
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    f.write_data(&data);
    let out = tmp.path().join("out");
    let o = screen_dir(&data, &out);
    assert!(!text(&o).contains("panicked"), "{}", text(&o));
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert_eq!(data_lines(&out, "screened.csv"), Vec::<String>::new());
    assert_eq!(data_lines(&out, "flagged.csv"), Vec::<String>::new());
    // both household rows (lines 2 and 3) are in rejects.csv
    let rejects = data_lines(&out, "rejects.csv");
    assert!(rejects.iter().any(|l| l.contains("households.csv,2,")), "{rejects:?}");
    assert!(rejects.iter().any(|l| l.contains("households.csv,3,")), "{rejects:?}");
}

// ---------------------------------------------------------------- expression limits

/// The accident trigger's condition in the reference rules, replaced by the tests below.
const ACCIDENT_WHEN: &str = "when = \"伤情 in ['死亡', '伤残']\"";
const MEDICAL_WHEN: &str = "when = \"个人自付 >= 自付预警线 or 是否大病 == '是'\"";

/// The reference rules with `old` (a whole `when = "…"` line) replaced by `when = "{expr}"`,
/// written into `dir`; also returns the 1-based line of that condition.
fn rules_with(dir: &Path, old: &str, prefix: &str, expr: &str) -> (std::path::PathBuf, usize) {
    let text = std::fs::read_to_string(RULES).unwrap();
    let at = text.find(old).unwrap_or_else(|| panic!("{old} not in the reference rules"));
    let line = text[..at].lines().count() + 1;
    let new = text.replacen(old, &format!("{prefix}when = \"{expr}\""), 1);
    let path = dir.join("rules.toml");
    std::fs::write(&path, new).unwrap();
    (path, line)
}

fn check(rules: &Path) -> Output {
    run(&["check".as_ref(), rules.as_os_str()])
}

/// Asserts `check` fails as an invalid rules file (exit 3) with `message` at `line:col`, quickly,
/// without a panic or a stack overflow.
#[track_caller]
fn assert_rejected(rules: &Path, line: usize, col: Option<usize>, message: &str) {
    let started = std::time::Instant::now();
    let o = check(rules);
    let all = text(&o);
    assert!(!all.contains("panicked") && !all.contains("overflow"), "{}", &all[..all.len().min(2000)]);
    assert_eq!(o.status.code(), Some(3), "{}", &all[..all.len().min(2000)]);
    let at = match col {
        Some(c) => format!("rules.toml:{line}:{c}: "),
        None => format!("rules.toml:{line}:"),
    };
    let first = all.lines().next().unwrap_or_default();
    assert!(first.contains(&at) && first.contains(message), "want {at} … {message}, got: {}", &first[..first.len().min(400)]);
    assert!(started.elapsed().as_secs() < 20, "check took {:?}", started.elapsed());
}

#[test]
fn check_rejects_5000_nested_parentheses_at_the_65th() {
    let tmp = tempfile::tempdir().unwrap();
    let expr = format!("{}伤情 == '死亡'{}", "(".repeat(5000), ")".repeat(5000));
    let (rules, line) = rules_with(tmp.path(), ACCIDENT_WHEN, "", &expr);
    // `when = "` is 8 characters: the 65th '(' is at column 8 + 65 = 73
    assert_rejected(&rules, line, Some(73), "nested too deep: more than 64 levels");
}

#[test]
fn check_accepts_64_levels_of_parentheses() {
    let tmp = tempfile::tempdir().unwrap();
    let expr = format!("{}伤情 == '死亡'{}", "(".repeat(64), ")".repeat(64));
    let (rules, _) = rules_with(tmp.path(), ACCIDENT_WHEN, "", &expr);
    let o = check(&rules);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
}

#[test]
fn check_rejects_5000_nested_ifs_and_nots() {
    let tmp = tempfile::tempdir().unwrap();
    // 100 nested ifs: the 65th 'if' starts after 64 × "if true then " (13 characters): column 9 + 64 × 13 = 841
    let expr = format!("{}伤情 == '死亡'{}", "if true then ".repeat(100), " else false".repeat(100));
    let (rules, line) = rules_with(tmp.path(), ACCIDENT_WHEN, "", &expr);
    assert_rejected(&rules, line, Some(841), "nested too deep");
    // 5000 nots: too long before too deep (5000 operators > 2000)
    let expr = format!("{}伤情 == '死亡'", "not ".repeat(5000));
    let (rules, line) = rules_with(tmp.path(), ACCIDENT_WHEN, "", &expr);
    assert_rejected(&rules, line, None, "expression too long: more than 2000 terms and operators");
    // 100 nots: the 65th 'not' is at column 9 + 64 × 4 = 265
    let expr = format!("{}伤情 == '死亡'", "not ".repeat(100));
    let (rules, line) = rules_with(tmp.path(), ACCIDENT_WHEN, "", &expr);
    assert_rejected(&rules, line, Some(265), "nested too deep");
}

#[test]
fn screen_stops_on_deeply_nested_not_with_the_rules_error() {
    let tmp = tempfile::tempdir().unwrap();
    let expr = format!("{}伤情 == '死亡'", "not ".repeat(1000));
    let (rules, line) = rules_with(tmp.path(), ACCIDENT_WHEN, "", &expr);
    let data = tmp.path().join("data");
    Fixture::new().write_data(&data);
    let out = tmp.path().join("out");
    let o =
        run(&["screen".as_ref(), "--rules".as_ref(), rules.as_os_str(), "--data".as_ref(), data.as_os_str(), "--out".as_ref(), out.as_os_str(), "-q".as_ref()]);
    let all = text(&o);
    assert_eq!(o.status.code(), Some(3), "{}", &all[..all.len().min(2000)]);
    assert!(all.contains(&format!("rules.toml:{line}:265: expression nested too deep")), "{}", &all[..all.len().min(2000)]);
}

#[test]
fn check_rejects_5000_terms_joined_by_or_quickly() {
    let tmp = tempfile::tempdir().unwrap();
    // each "伤情 == '死亡'" is 3 terms and operators, each " or " one more: the 2001st is the
    // 501st comparison's '伤情' (500 × 4 = 2000 before it)
    let expr = vec!["伤情 == '死亡'"; 5000].join(" or ");
    let (rules, line) = rules_with(tmp.path(), ACCIDENT_WHEN, "", &expr);
    // "伤情 == '死亡' or " is 14 characters: the 501st comparison starts at column 9 + 500 × 14 = 7009
    assert_rejected(&rules, line, Some(7009), "expression too long: more than 2000 terms and operators");
}

#[test]
fn a_let_written_out_hundreds_of_times_is_rejected_at_the_use_past_the_limit() {
    let tmp = tempfile::tempdir().unwrap();
    // 大 is 991 terms and 990 '+': 1981 nodes; the second use passes 2000
    let big = format!("工资性收入{}", " + 工资性收入".repeat(990));
    let expr = vec!["大 > 0"; 300].join(" or ");
    let (rules, line) = rules_with(tmp.path(), MEDICAL_WHEN, "", &expr);
    let text0 = std::fs::read_to_string(&rules).unwrap();
    std::fs::write(&rules, text0.replacen("let = { \"自付预警线\"", &format!("let = {{ \"大\" = \"{big}\", \"自付预警线\""), 1)).unwrap();
    // "大 > 0 or " is 9 characters: the second 大 is at column 9 + 9 = 18
    assert_rejected(&rules, line, Some(18), "expression too long once '大' is written out");
}

#[test]
fn derived_figures_doubling_into_a_record_condition_are_rejected_not_written_out() {
    let tmp = tempfile::tempdir().unwrap();
    // 倍i = 倍(i-1) + 倍(i-1): written out for a record, 倍39 would have 2^40 nodes
    let mut derive = String::new();
    for i in 0..40 {
        let e = if i == 0 { "工资性收入 + 工资性收入".to_string() } else { format!("倍{} + 倍{}", i - 1, i - 1) };
        derive += &format!("[[derive]]\nname = \"倍{i}\"\nexpr = \"{e}\"\n\n");
    }
    let (rules, line) = rules_with(tmp.path(), MEDICAL_WHEN, "", "个人自付 >= 倍39");
    let text0 = std::fs::read_to_string(&rules).unwrap();
    std::fs::write(&rules, text0.replacen("[[derive]]\n", &format!("{derive}[[derive]]\n"), 1)).unwrap();
    // the 40 derive blocks add 4 lines each before the condition; "个人自付 >= " is 8
    // characters, so 倍39 starts at column 9 + 8 = 17
    assert_rejected(&rules, line + 160, Some(17), "'倍39' written out for a condition on one record of medical has more than 2000");
}

#[test]
fn the_deepest_expression_allowed_screens_without_overflowing_the_stack() {
    // a let that is a chain of 990 '-' (depth 990) inside 30 nested negations and a chain of
    // 900 more: ~1,900 levels, within every limit; checked, compiled and evaluated
    let tmp = tempfile::tempdir().unwrap();
    let big = format!("工资性收入{}", " - 工资性收入".repeat(990));
    let expr = format!("个人自付 > {}大{}{}", "-(".repeat(30), " - 1".repeat(900), ")".repeat(30));
    let (rules, _) = rules_with(tmp.path(), MEDICAL_WHEN, "", &expr);
    let text0 = std::fs::read_to_string(&rules).unwrap();
    std::fs::write(&rules, text0.replacen("let = { \"自付预警线\"", &format!("let = {{ \"大\" = \"{big}\", \"自付预警线\""), 1)).unwrap();
    let o = check(&rules);
    assert_eq!(o.status.code(), Some(0), "{}", &text(&o)[..text(&o).len().min(2000)]);
    let mut f = Fixture::new();
    let a = f.person("甲");
    f.household(hh("5226011010010001", "一般农户", &a).wage("50000"));
    f.medical(&a, "2021-03-01", "100.00", "否");
    let data = tmp.path().join("data");
    f.write_data(&data);
    let out = tmp.path().join("out");
    let o =
        run(&["screen".as_ref(), "--rules".as_ref(), rules.as_os_str(), "--data".as_ref(), data.as_os_str(), "--out".as_ref(), out.as_os_str(), "-q".as_ref()]);
    assert!(!text(&o).contains("overflow"), "{}", text(&o));
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    // 大 = 50000 − 990 × 50000 < 0, negated 30 times (even: unchanged), minus 900: negative; 100 > it
    let screened = std::fs::read_to_string(out.join("screened.csv")).unwrap();
    let row = screened.lines().find(|l| l.contains("5226011010010001")).unwrap_or_else(|| panic!("{screened}"));
    assert!(row.contains("illness") || row.contains("医疗个人自付达到预警线或患大病"), "the illness trigger fired: {row}");
}

// ---------------------------------------------------------------- workbooks

/// A data directory whose disability extract is `disability.xlsx`: a header, one record of a
/// 一级 disability for the head of H01, then whatever `stray` writes.
fn workbook_dir(tmp: &Path, stray: impl FnOnce(&mut rust_xlsxwriter::Worksheet)) -> std::path::PathBuf {
    let mut f = Fixture::new();
    let a = f.person("甲");
    // wage 5000 / 1 person = 5000.00 < 6320: listed; its 风险类型 is 因残 only if the record is read
    f.household(hh("H01", "脱贫户", &a).wage("5000"));
    let data = tmp.join("data");
    f.write_data(&data);
    let mut wb = rust_xlsxwriter::Workbook::new();
    let sheet = wb.add_worksheet();
    for (i, h) in header_of("disability").iter().enumerate() {
        sheet.write_string(0, i as u16, *h).unwrap();
    }
    for (i, v) in [a.id.as_str(), a.name.as_str(), "肢体", "一级"].iter().enumerate() {
        sheet.write_string(1, i as u16, *v).unwrap();
    }
    stray(sheet);
    wb.save(data.join("disability.xlsx")).unwrap();
    std::fs::write(data.join("sources.toml"), "[sources.disability]\nfile = \"disability.xlsx\"\n").unwrap();
    data
}

#[test]
fn a_workbook_whose_only_far_cell_is_xfd1048576_is_read_by_its_cells() {
    // the sheet's used range is A1:XFD1048576, 17 billion cells: the dense range asked for 512 GiB
    let tmp = tempfile::tempdir().unwrap();
    let data = workbook_dir(tmp.path(), |s| {
        s.write_string(1_048_575, 16_383, "x").unwrap();
    });
    let out = tmp.path().join("out");
    let o = screen_dir(&data, &out);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let flagged = std::fs::read_to_string(out.join("flagged.csv")).unwrap();
    let row = flagged.lines().find(|l| l.contains(",H01,")).unwrap_or_else(|| panic!("H01 not listed:\n{flagged}"));
    assert!(row.contains("因残"), "{row}");
}

#[test]
fn a_workbook_with_stray_cells_far_right_on_many_rows_is_an_error_naming_it() {
    // 3,000 rows each with a value in column XFD: 3,000 × 16,384 cells for ~3,000 values
    let tmp = tempfile::tempdir().unwrap();
    let data = workbook_dir(tmp.path(), |s| {
        for r in 2..3002u32 {
            s.write_string(r, 16_383, "x").unwrap();
        }
    });
    let out = tmp.path().join("out");
    let o = screen_dir(&data, &out);
    let all = text(&o);
    assert_eq!(o.status.code(), Some(6), "{all}");
    assert!(all.contains("disability.xlsx") && all.contains("delete the stray cells"), "{all}");
    assert!(!all.contains("panicked"), "{all}");
}

mod fuzz;

#[test]
fn list_templates_count_toward_the_evidence_they_are_written_into() {
    // 50 list() calls, each with a template of 901 terms and 900 '+' (1,801): each is within the
    // limit alone; the second passes 2,000 in the evidence that holds them
    let tmp = tempfile::tempdir().unwrap();
    let inner = format!("{{个人自付{}}}", " + 个人自付".repeat(900));
    let evidence: String = (0..50).map(|_| format!("{{list(medical, '{inner}')}}")).collect();
    let (rules, _) = rules_with(tmp.path(), "when = \"人均纯收入 < 监测线 and 户类型 == '脱贫户'\"", "", "人均纯收入 < 监测线 and 户类型 == '脱贫户'");
    let text0 = std::fs::read_to_string(&rules).unwrap();
    let at = text0.find("[[categories]]").unwrap();
    let rule = format!("[[triggers]]\nid = \"biglist\"\nrisk = \"因病\"\nlabel = \"x\"\nwhen = \"true\"\nevidence = \"{evidence}\"\n\n");
    std::fs::write(&rules, format!("{}{rule}{}", &text0[..at], &text0[at..])).unwrap();
    // the evidence is the 6th line of the trigger put before [[categories]]
    assert_rejected(&rules, text0[..at].lines().count() + 6, None, "expression too long once 'list' is written out");
}
