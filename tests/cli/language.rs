//! The rules language of issue 14, through the real binary: the reference policy with each new
//! construct added (per-person totals, a member with no record, ages, a window of full months,
//! computed parameters, grades, missing values), and `fanpin check` running the hand-worked
//! cases of tests/cli/data/language.cases.toml.

use crate::support::*;
use std::path::{Path, PathBuf};

/// The reference rules with `edits` applied, written to `dir/language.toml`.
fn rules_with(dir: &Path, edits: &[(&str, &str)]) -> PathBuf {
    let mut text = std::fs::read_to_string(RULES).unwrap();
    for (from, to) in edits {
        assert!(text.contains(from), "edit target not found: {from}");
        text = text.replacen(from, to, 1);
    }
    let path = dir.join("language.toml");
    std::fs::write(&path, text).unwrap();
    path
}

const PARAMETERS: &str = r#"[parameters."个人累计自付线"]
type = "money"
values = [{ from = 2020-01-01, value = "15000", reference = "测试: 个人年度累计自付超过15000元" }]

[parameters."低保标准"]
type = "money"
values = [{ from = 2021-01-01, value = "815", reference = "测试: 农村低保标准815元/月" }]

[parameters."两倍低保线"]
type = "money"
formula = "低保标准 * 12 * 2"
reference = "测试: 低保标准的2倍"

[parameters."半线"]
type = "money"
formula = "监测线 * 0.5"
reference = "测试: 监测线的一半"

[parameters."监测线"]"#;

const DERIVED: &str = r#"[[derive]]
name = "学龄未入学人数"
expr = "count(members, age(出生日期) >= 6 and age(出生日期) <= 15 and count(education) == 0)"

[[derive]]
name = "大额个人"
expr = "any(members, sum(medical, 个人自付) > 个人累计自付线)"

[[derive]]
name = "单月最高自付"
expr = "monthly_max(sum(medical, 个人自付), 就诊日期)"

[[derive]]
name = "单月最多就诊"
expr = "monthly_max(count(medical), 就诊日期)"

[[derive]]
name = "无医疗记录"
expr = "not (max(medical, 个人自付) > 100)"

[[triggers]]
id = "person_total"
risk = "因病"
label = "个人年度累计自付超过线"
source = "members"
when = "sum(medical, 个人自付) > 个人累计自付线"
evidence = "{成员姓名} 累计个人自付{sum(medical, 个人自付)}元(超过{个人累计自付线}元)"

[[triggers]]
id = "school_age"
risk = "因学"
label = "学龄成员无在校记录"
when = "学龄未入学人数 > 0"
evidence = "{学龄未入学人数}名6至15周岁成员无在校记录"

[[triggers]]
id = "illness""#;

const GRADE: &str = r#"
[[categories]]
name = "收入稳定户"
lead = false
when = "人均纯收入 >= 监测线 * 3"
evidence = "人均纯收入{人均纯收入}元, 达到监测线3倍"

# ---------------------------------------------------------------- already monitored"#;

fn language_rules(dir: &Path) -> PathBuf {
    rules_with(
        dir,
        &[
            ("window = { start = 2020-06-01, end = 2021-05-31 }", "window = { months = 12, full_months = true }"),
            ("[parameters.\"监测线\"]", PARAMETERS),
            ("[[triggers]]\nid = \"illness\"", DERIVED),
            ("\n# ---------------------------------------------------------------- already monitored", GRADE),
        ],
    )
}

#[test]
fn per_person_totals_ages_full_month_windows_computed_parameters_and_grades_pass_their_cases() {
    let tmp = tempfile::tempdir().unwrap();
    let rules = language_rules(tmp.path());
    let cases = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/cli/data/language.cases.toml");
    let out = fanpin_cmd().arg("check").arg(&rules).arg("--cases").arg(&cases).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.lines().last().unwrap_or("").ends_with("14 passed, 0 failed"), "{stdout}");
    // The computed parameters show their formula and inputs with references.
    assert!(stdout.contains("两倍低保线 = 19560.00 (from 2021-01-01; 测试: 低保标准的2倍 · 公式 低保标准 * 12 * 2, 其中 低保标准=815.00(2021-01-01起, 依据: 测试: 农村低保标准815元/月))"), "{stdout}");
}

#[test]
fn a_grade_is_in_screened_csv_and_the_summary_but_not_in_flagged_csv() {
    let tmp = tempfile::tempdir().unwrap();
    let rules = language_rules(tmp.path());
    let mut fx = Fixture::new();
    let (a, b, c) = (fx.person("甲"), fx.person("乙"), fx.person("丙"));
    // G1: PCI 30000.00 ≥ 18960 → grade 收入稳定户; G2: PCI 1000.00 < 6320 → 脱贫不稳定户 (a lead);
    // G3: PCI 10000.00: no category.
    fx.household(hh("G1", "脱贫户", &a).wage("30000"));
    fx.household(hh("G2", "脱贫户", &b).wage("1000"));
    fx.household(hh("G3", "脱贫户", &c).wage("10000"));
    let out = fx.run_with(&rules, &[]);
    assert_eq!(out.listed(), ["G2"]);
    let screened = out.csv("screened.csv");
    let category = |k: &str| screened.records().into_iter().find(|r| r.get("户编号") == k).unwrap().get("类别").to_string();
    assert_eq!((category("G1"), category("G2"), category("G3")), ("收入稳定户".into(), "脱贫不稳定户".into(), String::new()));
    // 城关镇: 1 household of 1 person in each of the two categories; the total counts both.
    let summary = out.csv("summary_by_township.csv");
    let row = summary.records().into_iter().find(|r| r.get("乡镇") == "城关镇").unwrap();
    assert_fields(&row, &[("脱贫不稳定户户数", "1"), ("收入稳定户户数", "1"), ("收入稳定户人数", "1"), ("合计户数", "2")], "summary_by_township.csv 城关镇");
    assert!(!out.csv("new_leads.csv").column("户编号").contains(&"G1".to_string()));
}

#[test]
fn a_derived_figure_read_by_a_record_condition_is_inlined_and_one_built_on_records_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    // 家庭纯收入 is household columns only: visible in a condition on one medical record.
    let ok = rules_with(
        tmp.path(),
        &[(
            "when = \"个人自付 >= 自付预警线 or 是否大病 == '是'\"",
            "when = \"个人自付 >= 自付预警线 or 是否大病 == '是' or (与户主关系 == '子女' and 个人自付 > 家庭纯收入)\"",
        )],
    );
    let out = fanpin_cmd().arg("check").arg(&ok).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.starts_with("ok:"), "{stdout}{}", String::from_utf8_lossy(&out.stderr));
    let mut fx = Fixture::new();
    let (a, b) = (fx.person("父"), fx.person("女"));
    // NI 3000, n 2 → PCI 1500.00 → 脱贫不稳定户; the child's 3000.01 > NI 3000 → 因病 (the
    // record is below the 4000 line and not 大病: only the new clause fires).
    fx.household(hh("K1", "脱贫户", &a).wage("3000"));
    fx.member("K1", &b, "子女");
    fx.medical(&b, "2021-01-10", "3000.01", "否");
    let out = fx.run_with(&ok, &[]);
    assert_eq!(out.risk("K1"), "因病");
    // 刚性支出 sums records: refused, with the reason, at its place.
    let bad = rules_with(tmp.path(), &[("when = \"个人自付 >= 自付预警线 or 是否大病 == '是'\"", "when = \"个人自付 > 刚性支出\"")]);
    let out = fanpin_cmd().arg("check").arg(&bad).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    assert!(stderr.contains("'刚性支出' is a household figure computed from an aggregate over records"), "{stderr}");
}
