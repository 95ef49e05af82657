//! `fanpin check`'s errors and their positions, each worked out from the edit made to the
//! shipped reference policy.

use crate::rules::diag::line_col;

const SHIPPED: &str = include_str!("../../../rules/guizhou-2021.toml");

/// Applies `from → to` to the shipped rules and returns (line, col, message) of each error.
fn errors(edits: &[(&str, &str)]) -> (String, Vec<(usize, usize, String)>) {
    let mut text = SHIPPED.to_string();
    for (from, to) in edits {
        assert!(text.contains(from), "edit target not found: {from}");
        text = text.replacen(from, to, 1);
    }
    match crate::rules::parse(&text, "t.toml") {
        Ok(_) => (text, Vec::new()),
        Err(d) => {
            let p = d.positions().into_iter().map(|(l, c, m)| (l, c, m.to_string())).collect();
            (text, p)
        }
    }
}

/// Line and column of the first occurrence of `needle` in `text`, plus `skip` characters.
fn at(text: &str, needle: &str, skip: usize) -> (usize, usize) {
    let i = text.find(needle).expect("needle present");
    let (l, c) = line_col(text, i);
    (l, c + skip)
}

#[test]
fn the_shipped_policy_checks_clean() {
    let plan = crate::rules::parse(SHIPPED, "guizhou-2021.toml").unwrap();
    assert_eq!(plan.triggers.len(), 9);
    assert_eq!(plan.exclusions.len(), 5);
    let line = plan.parameters.iter().find(|p| p.name == "监测线").unwrap();
    assert_eq!(line.value.display(), "6320.00");
    assert_eq!(line.from.to_string(), "2021-01-01");
}

#[test]
fn the_line_in_force_follows_the_determination_date() {
    let text = SHIPPED.replacen("determination_date = 2021-05-31", "determination_date = 2020-12-31", 1);
    let plan = crate::rules::parse(&text, "t.toml").unwrap();
    let line = plan.parameters.iter().find(|p| p.name == "监测线").unwrap();
    assert_eq!(line.value.display(), "5000.00");
}

#[test]
fn as_of_picks_the_parameter_in_force_and_a_months_window_ends_on_it() {
    let text = SHIPPED.replacen("window = { start = 2020-06-01, end = 2021-05-31 }", "window = { months = 12 }", 1);
    let raw = toml::from_str(&text).unwrap();
    let d = |s: &str| chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
    let plan = super::build(&raw, &text, Some(d("2020-09-30"))).unwrap();
    // 2020-09-30: the 2020 line (5000, from 2020-01-01); window 2019-10-01 … 2020-09-30, the
    // fixed window one of the 2020 plans uses.
    assert_eq!(plan.parameters.iter().find(|p| p.name == "监测线").unwrap().value.display(), "5000.00");
    assert_eq!((plan.meta.window_start, plan.meta.window_end), (d("2019-10-01"), d("2020-09-30")));
    let plan = super::build(&raw, &text, None).unwrap();
    assert_eq!((plan.meta.window_start, plan.meta.window_end), (d("2020-06-01"), d("2021-05-31")));
}

#[test]
fn an_unknown_field_is_reported_where_it_stands() {
    let (text, e) = errors(&[("label = \"医保\"\n", "label = \"医保\"\nlable = \"x\"\n")]);
    assert_eq!(e.len(), 1);
    assert_eq!((e[0].0, e[0].1), at(&text, "lable = ", 0));
    assert!(e[0].2.contains("unknown field `lable`"), "{}", e[0].2);
}

#[test]
fn money_compared_with_text_is_a_type_error_at_the_expression() {
    let (text, e) = errors(&[("when = \"自付费用 > 教育自付线\"", "when = \"自付费用 > 学段\"")]);
    assert_eq!(e.len(), 1);
    // the error starts at the first character inside the quotes
    assert_eq!((e[0].0, e[0].1), at(&text, "自付费用 > 学段", 0));
    assert!(e[0].2.contains("cannot compare a decimal amount with text"));
}

#[test]
fn an_unknown_enum_value_points_at_the_value() {
    let (text, e) = errors(&[("'严重损坏', '死亡'", "'严重损害', '死亡'")]);
    assert_eq!(e.len(), 1);
    assert_eq!((e[0].0, e[0].1), at(&text, "'严重损害'", 0));
    assert!(e[0].2.contains("not one of the declared values"));
}

#[test]
fn a_parameter_without_a_value_for_the_year_is_one_error_not_a_cascade() {
    let (text, e) = errors(&[
        ("{ from = 2020-01-01, value = \"5000\"", "{ from = 2022-01-01, value = \"5000\""),
        ("{ from = 2021-01-01, value = \"6320\"", "{ from = 2022-06-01, value = \"6320\""),
    ]);
    assert_eq!(e.len(), 1, "{e:?}");
    assert_eq!((e[0].0, e[0].1), at(&text, "[parameters.\"监测线\"]", 0));
    assert!(e[0].2.contains("no value in force on the determination date 2021-05-31"));
}

#[test]
fn unknown_names_suggest_the_closest_and_division_must_be_rounded() {
    let (text, e) = errors(&[
        ("when = \"个人自付 >= 自付预警线", "when = \"个人自负 >= 自付预警线"),
        ("expr = \"round(家庭纯收入 / 家庭人口, 2)\"", "expr = \"家庭纯收入 / 家庭人口\""),
    ]);
    assert_eq!(e.len(), 2, "{e:?}");
    let unrounded = e.iter().find(|x| x.2.contains("round(a / b, 2)")).unwrap();
    assert_eq!((unrounded.0, unrounded.1), at(&text, "家庭纯收入 / 家庭人口\"", 0));
    let unknown = e.iter().find(|x| x.2.contains("个人自负")).unwrap();
    assert!(unknown.2.contains("did you mean '个人自付'"));
    assert_eq!((unknown.0, unknown.1), at(&text, "个人自负", 0));
}

#[test]
fn a_bad_column_type_and_a_missing_risk_are_reported() {
    let (_, e) = errors(&[("\"返乡未就业天数\" = \"integer\"", "\"返乡未就业天数\" = \"number\""), ("risk = \"因学\"\n", "")]);
    assert!(e.iter().any(|x| x.2.contains("unknown column type 'number'")), "{e:?}");
    assert!(e.iter().any(|x| x.2.contains("needs a risk type")), "{e:?}");
}

// ---------------------------------------------------------------- the language of issue 14

const WINDOW: &str = "window = { start = 2020-06-01, end = 2021-05-31 }";

#[test]
fn a_bad_income_window_is_one_error_at_the_window_not_a_cascade() {
    // Before: 16 "unknown name" errors (every parameter and 判定日期), at determination_date.
    let (text, e) = errors(&[(WINDOW, "window = { end = 2021-05-31 }")]);
    assert_eq!(e.len(), 1, "{e:?}");
    assert_eq!((e[0].0, e[0].1), at(&text, "{ end = 2021-05-31 }", 0));
    assert!(e[0].2.contains("window is"), "{e:?}");
    let (text, e) = errors(&[(WINDOW, "window = { months = 0 }")]);
    assert_eq!(e.len(), 1, "{e:?}");
    assert_eq!((e[0].0, e[0].1), at(&text, "0 }", 0));
}

#[test]
fn full_months_window_and_a_source_window_of_its_own() {
    // 12 full months before 2021-05-31's month: 2020-05-01 … 2021-04-30.
    let (text, e) =
        errors(&[(WINDOW, "window = { months = 12, full_months = true }"), ("window = \"就诊日期\"", "window = { column = \"就诊日期\", months = 1 }")]);
    assert!(e.is_empty(), "{e:?}");
    let plan = crate::rules::parse(&text, "t.toml").unwrap();
    assert_eq!((plan.meta.window_start.to_string(), plan.meta.window_end.to_string()), ("2020-05-01".into(), "2021-04-30".into()));
    // The month ending on 2021-05-31: 2021-05-01 … 2021-05-31.
    let w = plan.source("medical").unwrap().window.clone().unwrap();
    assert_eq!((w.column.as_str(), w.start.to_string(), w.end.to_string()), ("就诊日期", "2021-05-01".into(), "2021-05-31".into()));
    let (_, e) = errors(&[("window = \"就诊日期\"", "window = { column = \"就诊日期\", year_to_date = true, months = 2 }")]);
    assert!(e.len() == 1 && e[0].2.contains("a source's window is"), "{e:?}");
}

#[test]
fn an_aggregate_over_members_inside_a_record_condition_is_refused() {
    let (text, e) = errors(&[("when = \"自付费用 > 教育自付线\"", "when = \"count(members) > 1\"")]);
    assert_eq!(e.len(), 1, "{e:?}");
    assert_eq!((e[0].0, e[0].1), at(&text, "count(members) > 1", 0));
    assert!(e[0].2.contains("aggregate members in a household condition"), "{e:?}");
}

#[test]
fn a_per_person_aggregate_does_not_nest_further() {
    let (text, e) = errors(&[("expr = \"count(members)\"", "expr = \"count(members, sum(medical, 个人自付, count(education) > 0) > 1)\"")]);
    assert_eq!(e.len(), 1, "{e:?}");
    assert_eq!((e[0].0, e[0].1), at(&text, "count(education)", 0));
    assert!(e[0].2.contains("do not nest further"), "{e:?}");
}

#[test]
fn a_record_condition_sees_the_member_and_the_households_figures_but_not_an_aggregate() {
    // 与户主关系 is a member column; 家庭纯收入 a derived figure of household columns only.
    let (_, e) = errors(&[("when = \"自付费用 > 教育自付线\"", "when = \"自付费用 > 教育自付线 and 与户主关系 != '户主' and 自付费用 > 家庭纯收入\"")]);
    assert!(e.is_empty(), "{e:?}");
    // 刚性支出 sums records: a record condition cannot see it, and says why.
    let (text, e) = errors(&[("when = \"自付费用 > 教育自付线\"", "when = \"自付费用 > 刚性支出\"")]);
    assert_eq!(e.len(), 1, "{e:?}");
    assert_eq!((e[0].0, e[0].1), at(&text, "> 刚性支出", 2));
    assert!(e[0].2.contains("computed from an aggregate over records"), "{e:?}");
}

#[test]
fn fired_and_list_are_refused_where_they_cannot_be_known() {
    let (text, e) = errors(&[("when = \"自付费用 > 教育自付线\"", "when = \"fired('housing')\"")]);
    assert_eq!(e.len(), 1, "{e:?}");
    assert_eq!((e[0].0, e[0].1), at(&text, "fired('housing')", 0));
    let (text, e) = errors(&[("when = \"人均纯收入 < 监测线 and 户类型 == '脱贫户'\"", "when = \"fired('housng')\"")]);
    assert_eq!(e.len(), 1, "{e:?}");
    assert_eq!((e[0].0, e[0].1), at(&text, "'housng'", 0));
    assert!(e[0].2.contains("did you mean 'housing'"), "{e:?}");
    let (_, e) = errors(&[("when = \"人均纯收入 < 监测线 and 户类型 == '脱贫户'\"", "when = \"list(medical, '{个人自付}') == 'x'\"")]);
    assert!(e.len() == 1 && e[0].2.contains("evidence of categories and household rules only"), "{e:?}");
}

#[test]
fn a_computed_parameter_is_exact_and_names_its_inputs() {
    // 815.00 × 12 × 2 = 19560.00; from the later input's date (2021-01-01).
    let edit = "[parameters.\"低保标准\"]\ntype = \"money\"\nvalues = [{ from = 2021-01-01, value = \"815\", reference = \"低保文件\" }]\n\n[parameters.\"测算线\"]\ntype = \"money\"\nformula = \"低保标准 * 12 * 2\"\nreference = \"两倍低保\"\n\n[parameters.\"监测线\"]";
    let (text, e) = errors(&[("[parameters.\"监测线\"]", edit)]);
    assert!(e.is_empty(), "{e:?}");
    let plan = crate::rules::parse(&text, "t.toml").unwrap();
    let p = plan.parameters.iter().find(|p| p.name == "测算线").unwrap();
    assert_eq!((p.shown(), p.from.to_string()), ("19560.00".to_string(), "2021-01-01".to_string()));
    assert!(
        p.reference.contains("两倍低保") && p.reference.contains("低保标准 * 12 * 2") && p.reference.contains("低保标准=815.00(2021-01-01起, 依据: 低保文件)"),
        "{}",
        p.reference
    );
    // A formula reading itself is an error at the formula.
    let (_, e) =
        errors(&[("[parameters.\"监测线\"]", "[parameters.\"环\"]\ntype = \"money\"\nformula = \"环 * 2\"\nreference = \"x\"\n\n[parameters.\"监测线\"]")]);
    assert!(e.len() == 1 && e[0].2.contains("reads itself"), "{e:?}");
}

#[test]
fn with_a_fixed_window_an_earlier_as_of_is_warned_about() {
    let raw: crate::rules::raw::RawRules = toml::from_str(SHIPPED).unwrap();
    let as_of = chrono::NaiveDate::from_ymd_opt(2021, 3, 31);
    let plan = super::build(&raw, SHIPPED, as_of).unwrap();
    assert_eq!(plan.warnings.len(), 1, "{:?}", plan.warnings);
    assert!(plan.warnings[0].contains("records dated after 2021-03-31 still count"), "{:?}", plan.warnings);
    let plan = super::build(&raw, SHIPPED, None).unwrap();
    assert!(plan.warnings.is_empty());
}
