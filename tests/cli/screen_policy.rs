//! Triggers (risk types), the window, co-residence, and the 风险类型 column.

use crate::support::*;

/// A one-person household below the line, so it is listed whatever its triggers:
/// NI = 5000 + 0 + 0 + 0 − 0 = 5000.00; n = 1; PCI = 5000.00 < 6320.00
/// → 脱贫户: 脱贫不稳定户, 一般农户: 边缘易致贫户.
fn poor(fx: &mut Fixture, hh_id: &str, kind: &str, name: &str) -> Person {
    let p = fx.person(name);
    fx.household(hh(hh_id, kind, &p).wage("5000"));
    p
}

#[test]
fn medical_self_pay_of_exactly_4000_flags_an_exited_household_and_3999_99_does_not() {
    let mut fx = Fixture::new();
    let a = fx.person("张大");
    let a_child = fx.person("张小明");
    fx.household(hh("H1", "脱贫户", &a).wage("5000")); // PCI = 5000/2 = 2500.00 < 6320
    fx.member("H1", &a_child, "子女");
    let b = poor(&mut fx, "H2", "脱贫户", "李四");
    fx.medical(&a_child, "2021-01-15", "4000.00", "否"); // 4000.00 ≥ 4000 (脱贫户) → 因病
    fx.medical(&b, "2021-01-15", "3999.99", "否"); // 3999.99 < 4000 → no trigger
    let out = fx.run();
    out.assert_row("H1", &[("家庭人口", "2"), ("人均纯收入", "2500.00"), ("类别", "脱贫不稳定户"), ("风险类型", "因病"), ("建议", "纳入核实")]);
    let ev = out.row("H1").get("证据").to_string();
    assert!(ev.contains("张小明"), "证据 should name the member: {ev}");
    assert!(ev.contains("4000.00"), "证据 should carry the value 4000.00: {ev}");
    // listed (PCI 5000.00 < 6320) with no trigger → 待核实
    out.assert_row("H2", &[("类别", "脱贫不稳定户"), ("风险类型", "待核实")]);
}

#[test]
fn medical_self_pay_of_exactly_10000_flags_an_ordinary_household_and_9999_99_does_not() {
    let mut fx = Fixture::new();
    let a = poor(&mut fx, "H1", "一般农户", "王一");
    let b = poor(&mut fx, "H2", "一般农户", "王二");
    fx.medical(&a, "2021-03-01", "10000.00", "否"); // 10000.00 ≥ 10000 (一般农户) → 因病
    fx.medical(&b, "2021-03-01", "9999.99", "否"); // 9999.99 < 10000 → none
    let out = fx.run();
    out.assert_row("H1", &[("类别", "边缘易致贫户"), ("风险类型", "因病")]);
    let ev = out.row("H1").get("证据").to_string();
    assert!(ev.contains("王一") && ev.contains("10000.00"), "证据: {ev}");
    out.assert_row("H2", &[("类别", "边缘易致贫户"), ("风险类型", "待核实")]);
}

#[test]
fn medical_self_pay_of_4000_does_not_flag_an_ordinary_household() {
    let mut fx = Fixture::new();
    let a = poor(&mut fx, "H1", "一般农户", "赵一");
    fx.medical(&a, "2021-03-01", "4000.00", "否"); // 一般农户 threshold is 10000; 4000.00 < 10000
    fx.medical(&a, "2021-04-01", "5000.00", "否"); // one visit each: 5000.00 < 10000 (not summed)
    let out = fx.run();
    out.assert_row("H1", &[("类别", "边缘易致贫户"), ("风险类型", "待核实")]);
}

#[test]
fn major_disease_flags_illness_regardless_of_amount() {
    let mut fx = Fixture::new();
    let a = poor(&mut fx, "H1", "一般农户", "钱一");
    let b = poor(&mut fx, "H2", "脱贫户", "钱二");
    fx.medical(&a, "2021-03-01", "100.00", "是"); // 是否大病 = 是 → 因病 (100.00 < 10000 irrelevant)
    fx.medical(&b, "2021-03-01", "0.00", "是"); // 是否大病 = 是 → 因病
    let out = fx.run();
    out.assert_row("H1", &[("风险类型", "因病")]);
    out.assert_row("H2", &[("风险类型", "因病")]);
}

#[test]
fn education_self_pay_over_10000_flags_and_exactly_10000_does_not() {
    let mut fx = Fixture::new();
    let a = poor(&mut fx, "H1", "脱贫户", "孙一");
    let b = poor(&mut fx, "H2", "脱贫户", "孙二");
    fx.education(&a, "2020-09-01", "10000.01"); // 10000.01 > 10000 ("超过1万元") → 因学
    fx.education(&b, "2020-09-01", "10000.00"); // 10000.00 not > 10000 → none
    let out = fx.run();
    out.assert_row("H1", &[("风险类型", "因学")]);
    let ev = out.row("H1").get("证据").to_string();
    assert!(ev.contains("孙一") && ev.contains("10000.01"), "证据: {ev}");
    out.assert_row("H2", &[("风险类型", "待核实")]);
}

#[test]
fn disability_grade_one_or_two_flags_and_grade_three_or_four_does_not() {
    let mut fx = Fixture::new();
    let a = poor(&mut fx, "H1", "一般农户", "周一");
    let b = poor(&mut fx, "H2", "一般农户", "周二");
    let c = poor(&mut fx, "H3", "一般农户", "周三");
    fx.disability(&a, "一级"); // → 因残
    fx.disability(&b, "二级"); // → 因残
    fx.disability(&c, "三级"); // → none
    fx.disability(&c, "四级"); // → none
    let out = fx.run();
    out.assert_row("H1", &[("风险类型", "因残")]);
    out.assert_row("H2", &[("风险类型", "因残")]);
    out.assert_row("H3", &[("风险类型", "待核实")]);
}

#[test]
fn disaster_collapse_severe_damage_death_or_missing_flags_and_other_losses_do_not() {
    let mut fx = Fixture::new();
    let a = poor(&mut fx, "H1", "脱贫户", "吴一");
    let b = poor(&mut fx, "H2", "脱贫户", "吴二");
    let c = poor(&mut fx, "H3", "脱贫户", "吴三");
    let d = poor(&mut fx, "H4", "脱贫户", "吴四");
    let e = poor(&mut fx, "H5", "脱贫户", "吴五");
    fx.disaster(&a, "房屋倒塌", "2020-07-10"); // in {房屋倒塌, 严重损坏, 死亡, 失踪} → 因灾
    fx.disaster(&b, "严重损坏", "2020-07-10"); // → 因灾
    fx.disaster(&c, "死亡", "2020-07-10"); // → 因灾
    fx.disaster(&d, "失踪", "2020-07-10"); // → 因灾
    fx.disaster(&e, "一般损坏", "2020-07-10"); // not in the set
    fx.disaster(&e, "农作物受灾", "2020-07-10"); // not in the set
    let out = fx.run();
    for h in ["H1", "H2", "H3", "H4"] {
        out.assert_row(h, &[("风险类型", "因灾")]);
    }
    out.assert_row("H5", &[("风险类型", "待核实")]);
}

#[test]
fn accident_death_or_disability_flags_and_injury_does_not() {
    let mut fx = Fixture::new();
    let a = poor(&mut fx, "H1", "一般农户", "郑一");
    let b = poor(&mut fx, "H2", "一般农户", "郑二");
    let c = poor(&mut fx, "H3", "一般农户", "郑三");
    fx.accident(&a, "2021-02-02", "死亡"); // → 因意外事故
    fx.accident(&b, "2021-02-02", "伤残"); // → 因意外事故
    fx.accident(&c, "2021-02-02", "受伤"); // → none
    let out = fx.run();
    out.assert_row("H1", &[("风险类型", "因意外事故")]);
    out.assert_row("H2", &[("风险类型", "因意外事故")]);
    out.assert_row("H3", &[("风险类型", "待核实")]);
}

#[test]
fn employment_30_days_without_work_flags_and_29_does_not() {
    let mut fx = Fixture::new();
    let a = poor(&mut fx, "H1", "脱贫户", "冯一");
    let b = poor(&mut fx, "H2", "脱贫户", "冯二");
    fx.employment(&a, "2021-02-20", "30"); // 30 ≥ 30 → 因务工就业不稳
    fx.employment(&b, "2021-02-20", "29"); // 29 < 30 → none
    let out = fx.run();
    out.assert_row("H1", &[("风险类型", "因务工就业不稳")]);
    out.assert_row("H2", &[("风险类型", "待核实")]);
}

#[test]
fn agriculture_crop_failure_or_project_failure_flags_and_reduced_yield_does_not() {
    let mut fx = Fixture::new();
    let a = poor(&mut fx, "H1", "一般农户", "陈一");
    let b = poor(&mut fx, "H2", "一般农户", "陈二");
    let c = poor(&mut fx, "H3", "一般农户", "陈三");
    fx.agriculture(&a, "绝收", "2020-08-01"); // → 因产业项目失败
    fx.agriculture(&b, "项目失败", "2020-08-01"); // → 因产业项目失败
    fx.agriculture(&c, "减产", "2020-08-01"); // → none
    let out = fx.run();
    out.assert_row("H1", &[("风险类型", "因产业项目失败")]);
    out.assert_row("H2", &[("风险类型", "因产业项目失败")]);
    out.assert_row("H3", &[("风险类型", "待核实")]);
}

#[test]
fn housing_rated_c_or_d_flags_and_a_or_b_does_not() {
    let mut fx = Fixture::new();
    let a = poor(&mut fx, "H1", "脱贫户", "褚一");
    let b = poor(&mut fx, "H2", "脱贫户", "褚二");
    let c = poor(&mut fx, "H3", "脱贫户", "褚三");
    fx.housing(&a, "C", "2020-10-10"); // → 住房安全
    fx.housing(&b, "D", "2020-10-10"); // → 住房安全
    fx.housing(&c, "A", "2020-10-10"); // → none
    fx.housing(&c, "B", "2020-10-10"); // → none
    let out = fx.run();
    out.assert_row("H1", &[("风险类型", "住房安全")]);
    out.assert_row("H2", &[("风险类型", "住房安全")]);
    out.assert_row("H3", &[("风险类型", "待核实")]);
}

#[test]
fn lack_of_labour_flags_only_when_every_co_resident_member_lacks_labour() {
    let mut fx = Fixture::new();
    // H1: both co-resident members lack labour (丧失劳动力, 无劳动力) → 缺劳动力.
    // NI = 5000; n = 2; PCI = 2500.00 < 6320 → 边缘易致贫户
    let a = fx.person("卫一");
    let a2 = fx.person("卫一妻");
    fx.household(hh("H1", "一般农户", &a).wage("5000").head_labour("丧失劳动力"));
    fx.member_row("H1", &a2, "配偶", "无劳动力", true);
    // H2: head 丧失劳动力 but co-resident child 弱劳动力或半劳动力 (has some labour) → none.
    let b = fx.person("蒋一");
    let b2 = fx.person("蒋小");
    fx.household(hh("H2", "一般农户", &b).wage("5000").head_labour("丧失劳动力"));
    fx.member_row("H2", &b2, "子女", "弱劳动力或半劳动力", true);
    let out = fx.run();
    out.assert_row("H1", &[("家庭人口", "2"), ("风险类型", "缺劳动力")]);
    out.assert_row("H2", &[("家庭人口", "2"), ("风险类型", "待核实")]);
}

#[test]
fn a_non_co_resident_able_member_does_not_save_a_household_from_lack_of_labour() {
    let mut fx = Fixture::new();
    // co-resident: head 无劳动力 only; the able child lives elsewhere (是否共同生活 = 否).
    // NI = 5000; n = 1; PCI = 5000.00 < 6320 → 脱贫不稳定户; every co-resident lacks labour → 缺劳动力
    let a = fx.person("沈老");
    let child = fx.person("沈壮");
    fx.household(hh("H1", "脱贫户", &a).wage("5000").head_labour("无劳动力"));
    fx.member_row("H1", &child, "子女", "普通劳动力", false);
    let out = fx.run();
    out.assert_row("H1", &[("家庭人口", "1"), ("人均纯收入", "5000.00"), ("风险类型", "缺劳动力")]);
}

#[test]
fn medical_records_count_on_both_window_edges_and_not_one_day_outside() {
    let mut fx = Fixture::new();
    let a = poor(&mut fx, "H1", "脱贫户", "韩一");
    let b = poor(&mut fx, "H2", "脱贫户", "韩二");
    let c = poor(&mut fx, "H3", "脱贫户", "韩三");
    let d = poor(&mut fx, "H4", "脱贫户", "韩四");
    // 5000.00 ≥ 4000 (脱贫户) fires when the date is in 2020-06-01..2021-05-31
    fx.medical(&a, "2020-06-01", "5000.00", "否"); // first day → 因病
    fx.medical(&b, "2020-05-31", "5000.00", "否"); // day before → none
    fx.medical(&c, "2021-05-31", "5000.00", "否"); // last day → 因病
    fx.medical(&d, "2021-06-01", "5000.00", "否"); // day after → none
    let out = fx.run();
    out.assert_row("H1", &[("风险类型", "因病")]);
    out.assert_row("H2", &[("风险类型", "待核实")]);
    out.assert_row("H3", &[("风险类型", "因病")]);
    out.assert_row("H4", &[("风险类型", "待核实")]);
}

#[test]
fn dated_records_of_every_source_outside_the_window_do_not_trigger() {
    let mut fx = Fixture::new();
    let a = poor(&mut fx, "H1", "脱贫户", "杨后"); // every record dated 2021-06-01 (after)
    let b = poor(&mut fx, "H2", "脱贫户", "杨前"); // every record dated 2020-05-31 (before)
    for (p, date) in [(&a, "2021-06-01"), (&b, "2020-05-31")] {
        fx.education(p, date, "20000.00");
        fx.disaster(p, "房屋倒塌", date);
        fx.accident(p, date, "死亡");
        fx.employment(p, date, "90");
        fx.agriculture(p, "绝收", date);
        fx.housing(p, "D", date);
    }
    let out = fx.run();
    out.assert_row("H1", &[("风险类型", "待核实")]);
    out.assert_row("H2", &[("风险类型", "待核实")]);
}

#[test]
fn dated_records_of_every_source_inside_the_window_trigger() {
    let mut fx = Fixture::new();
    let a = poor(&mut fx, "H1", "脱贫户", "朱一");
    let d = "2021-05-31";
    fx.education(&a, d, "20000.00"); // > 10000 → 因学
    fx.disaster(&a, "房屋倒塌", d); // → 因灾
    fx.accident(&a, d, "死亡"); // → 因意外事故
    fx.employment(&a, d, "90"); // ≥ 30 → 因务工就业不稳
    fx.agriculture(&a, "绝收", d); // → 因产业项目失败
    fx.housing(&a, "D", d); // → 住房安全
    let out = fx.run();
    out.assert_row("H1", &[("风险类型", "因学、因灾、因意外事故、因务工就业不稳、因产业项目失败、住房安全")]);
}

#[test]
fn records_of_a_non_co_resident_member_never_trigger() {
    let mut fx = Fixture::new();
    // NI = 5000; n = 1 (the away son does not count); PCI = 5000.00 → 脱贫不稳定户
    let a = fx.person("秦父");
    let away = fx.person("秦子");
    fx.household(hh("H1", "脱贫户", &a).wage("5000"));
    fx.member_row("H1", &away, "子女", "普通劳动力", false);
    fx.medical(&away, "2021-01-01", "50000.00", "是");
    fx.education(&away, "2021-01-01", "20000.00");
    fx.disability(&away, "一级");
    fx.disaster(&away, "死亡", "2021-01-01");
    fx.accident(&away, "2021-01-01", "伤残");
    fx.employment(&away, "2021-01-01", "100");
    fx.agriculture(&away, "项目失败", "2021-01-01");
    fx.housing(&away, "D", "2021-01-01");
    let out = fx.run();
    out.assert_row("H1", &[("家庭人口", "1"), ("人均纯收入", "5000.00"), ("风险类型", "待核实")]);
    // a roster member who is not co-resident is still a roster member: not unmatched
    assert!(out.unmatched().is_empty(), "{}", out.csv("unmatched.csv").render());
}

#[test]
fn risk_types_follow_policy_order_each_once() {
    let mut fx = Fixture::new();
    // NI = 5000; n = 2; PCI = 2500.00 → 脱贫不稳定户
    let a = fx.person("尤父");
    let b = fx.person("尤母");
    fx.household(hh("H1", "脱贫户", &a).wage("5000").head_labour("无劳动力"));
    fx.member_row("H1", &b, "配偶", "丧失劳动力", true); // every co-resident lacks labour → 缺劳动力
                                                         // records written in reverse policy order, several triggers fired twice
    fx.housing(&b, "C", "2021-01-01"); // 住房安全
    fx.housing(&a, "D", "2021-01-01"); // 住房安全 again
    fx.agriculture(&a, "绝收", "2021-01-01"); // 因产业项目失败
    fx.employment(&b, "2021-01-01", "45"); // 因务工就业不稳
    fx.accident(&a, "2021-01-01", "伤残"); // 因意外事故
    fx.disaster(&b, "失踪", "2021-01-01"); // 因灾
    fx.disability(&a, "二级"); // 因残
    fx.disability(&b, "一级"); // 因残 again
    fx.education(&b, "2021-01-01", "15000.00"); // 因学
    fx.medical(&a, "2021-01-01", "4500.00", "否"); // 因病 (≥ 4000, 脱贫户)
    fx.medical(&b, "2021-02-01", "10.00", "是"); // 因病 again (大病)
    let out = fx.run();
    out.assert_row(
        "H1",
        &[("家庭人口", "2"), ("人均纯收入", "2500.00"), ("风险类型", "因病、因学、因残、因灾、因意外事故、因务工就业不稳、因产业项目失败、住房安全、缺劳动力")],
    );
}

#[test]
fn a_trigger_alone_does_not_list_a_household_at_or_above_the_line() {
    let mut fx = Fixture::new();
    let a = fx.person("何一");
    // NI = 20000; n = 1; PCI = 20000.00 ≥ 6320; RE = 0 (disability is not expenditure);
    // RE 0 > prev 20000? no; (20000 − 0)/1 = 20000.00 ≥ 6320; 20000 ≤ 50% × 20000 = 10000? no → not listed
    fx.household(hh("H1", "脱贫户", &a).wage("20000").prev("20000"));
    fx.disability(&a, "一级");
    fx.housing(&a, "D", "2021-01-01");
    let out = fx.run();
    out.assert_not_listed("H1", "PCI 20000.00 ≥ 6320 and none of the three 突发 conditions");
}
