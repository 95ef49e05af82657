//! Rule test cases (issue 4): `fanpin check` runs the cases beside a rules file, prints a
//! readable diff for each failing case and exits with 9.

use crate::support::*;

fn check(rules: &std::path::Path, extra: &[&str]) -> (Option<i32>, String, String) {
    let out = fanpin_cmd().arg("check").arg(rules).args(extra).output().unwrap();
    (out.status.code(), String::from_utf8_lossy(&out.stdout).into_owned(), String::from_utf8_lossy(&out.stderr).into_owned())
}

#[test]
fn the_shipped_reference_rules_pass_every_one_of_their_own_test_cases() {
    let (code, stdout, stderr) = check(std::path::Path::new(RULES), &[]);
    assert_eq!(code, Some(0), "{stdout}\n{stderr}");
    assert!(!stdout.contains("FAIL"), "{stdout}");
    let last = stdout.lines().last().unwrap_or("");
    assert!(last.ends_with("passed, 0 failed"), "{last}");
}

#[test]
fn a_wrong_expectation_is_shown_with_what_was_expected_and_what_came_out_and_exits_9() {
    let tmp = tempfile::tempdir().unwrap();
    let rules = tmp.path().join("r.toml");
    std::fs::copy(RULES, &rules).unwrap();
    // 一般农户, 1 member, 工资性收入 1000 → PCI 1000.00 < 6320 → 边缘易致贫户 (not 脱贫不稳定户).
    // 个人自付 10000.00 ≥ 10000 (一般农户 line, 以上 includes it) → 因病 (not 因学).
    let cases = r#"
[defaults.members]
"劳动技能" = "普通劳动力"
"是否共同生活" = "是"

[[cases]]
name = "一般农户人均1000元,列为边缘易致贫户"
household = { "户类型" = "一般农户", "工资性收入" = "1000" }
members = [{ "姓名" = "甲" }]
expect = { category = "边缘易致贫户", risks = ["待核实"], advice = "纳入核实", per_capita = "1000.00" }

[[cases]]
name = "故意写错: 期望脱贫不稳定户和因学"
household = { "户类型" = "一般农户", "工资性收入" = "1000" }
members = [{ "姓名" = "甲" }]
records.medical = [{ member = 1, "就诊日期" = 2021-03-02, "个人自付" = "10000.00", "是否大病" = "否" }]
expect = { category = "脱贫不稳定户", risks = ["因学"] }
"#;
    std::fs::write(tmp.path().join("r.cases.toml"), cases).unwrap();
    let (code, stdout, stderr) = check(&rules, &[]);
    assert_eq!(code, Some(9), "{stdout}\n{stderr}");
    assert!(stdout.contains("ok   一般农户人均1000元,列为边缘易致贫户"), "{stdout}");
    let fail = stdout.split("FAIL 故意写错").nth(1).expect("the failing case is reported");
    assert!(fail.contains("r.cases.toml:12"), "the case's [[cases]] line: {fail}");
    assert!(fail.contains("类别: expected 脱贫不稳定户") && fail.contains("got 边缘易致贫户"), "{fail}");
    assert!(fail.contains("风险类型: expected 因学") && fail.contains("got 因病"), "{fail}");
    assert!(stdout.contains("1 passed, 1 failed"), "{stdout}");
}

#[test]
fn a_record_that_leaves_out_an_enum_column_is_refused_rather_than_given_a_triggering_default() {
    let tmp = tempfile::tempdir().unwrap();
    let rules = tmp.path().join("r.toml");
    std::fs::copy(RULES, &rules).unwrap();
    let cases = r#"
[[cases]]
name = "医保记录没写是否大病"
household = { "户类型" = "一般农户", "工资性收入" = "1000" }
members = [{ "姓名" = "甲", "劳动技能" = "普通劳动力", "是否共同生活" = "是" }]
records.medical = [{ member = 1, "个人自付" = "1.00" }]
expect = { category = "边缘易致贫户" }
"#;
    let path = tmp.path().join("elsewhere.toml");
    std::fs::write(&path, cases).unwrap();
    let (code, stdout, _) = check(&rules, &["--cases", path.to_str().unwrap()]);
    assert_eq!(code, Some(9), "{stdout}");
    assert!(stdout.contains("give 是否大病"), "{stdout}");
}
