//! Income formula, rounding, the monitoring line, and the category logic (incl. 突发严重困难户).

use crate::support::*;

#[test]
fn net_income_is_the_four_incomes_minus_production_cost_over_co_resident_members() {
    let mut fx = Fixture::new();
    let a = fx.person("施一");
    let b = fx.person("施二");
    let away = fx.person("施三");
    // NI = 3000.50 + 2000.25 + 100.10 + 1500.15 − 600.00 = 6001.00
    // n = 2 co-resident (施三 is not) ; PCI = 6001.00 / 2 = 3000.50 < 6320 → 一般农户: 边缘易致贫户
    fx.household(hh("H1", "一般农户", &a).incomes("3000.50", "2000.25", "100.10", "1500.15", "600.00"));
    fx.member("H1", &b, "配偶");
    fx.member_row("H1", &away, "子女", "普通劳动力", false);
    let out = fx.run();
    out.assert_row(
        "H1",
        &[
            ("乡镇", "城关镇"),
            ("村", "大坪村"),
            ("户编号", "H1"),
            ("户主姓名", "施一"),
            ("户主证件号码", a.id.as_str()),
            ("户类型", "一般农户"),
            ("家庭人口", "2"),
            ("家庭纯收入", "6001.00"),
            ("人均纯收入", "3000.50"),
            ("监测线", "6320.00"),
            ("类别", "边缘易致贫户"),
            ("风险类型", "待核实"),
            ("建议", "纳入核实"),
            ("排除提示", ""),
        ],
    );
}

#[test]
fn monitoring_line_is_exclusive_6319_99_is_listed_and_6320_00_is_not() {
    let mut fx = Fixture::new();
    let a = fx.person("孔一");
    let b = fx.person("孔二");
    let c = fx.person("孔三");
    // H1: NI = 6320.00; n = 1; PCI 6320.00 not < 6320; RE 0 > prev 6320? no;
    //     (6320 − 0)/1 = 6320.00 not < 6320; 6320 ≤ 50% × 6320 = 3160? no → not listed
    fx.household(hh("H1", "一般农户", &a).wage("6320.00").prev("6320.00"));
    // H2: NI = 6319.99; PCI 6319.99 < 6320 → 一般农户: 边缘易致贫户
    fx.household(hh("H2", "一般农户", &b).wage("6319.99").prev("6320.00"));
    // H3: same, 脱贫户 → 脱贫不稳定户
    fx.household(hh("H3", "脱贫户", &c).wage("6319.99").prev("6320.00"));
    let out = fx.run();
    out.assert_not_listed("H1", "PCI 6320.00 is not below 6320");
    out.assert_row("H2", &[("人均纯收入", "6319.99"), ("监测线", "6320.00"), ("类别", "边缘易致贫户"), ("风险类型", "待核实")]);
    out.assert_row("H3", &[("人均纯收入", "6319.99"), ("类别", "脱贫不稳定户"), ("风险类型", "待核实")]);
}

#[test]
fn per_capita_income_that_rounds_up_to_6320_00_is_not_below_the_line() {
    let mut fx = Fixture::new();
    let a = fx.person("曹一");
    let a2 = fx.person("曹二");
    let a3 = fx.person("曹三");
    // NI = 18959.99; n = 3; 18959.99 / 3 = 6319.99666… → half-up to 0.01 → 6320.00, not < 6320.
    // RE = 0; 0 > prev 18959.99? no; (NI − 0)/3 → 6320.00 not < 6320; 18959.99 ≤ 9479.995? no
    // → not listed
    fx.household(hh("H1", "一般农户", &a).wage("18959.99").prev("18959.99"));
    fx.member("H1", &a2, "配偶");
    fx.member("H1", &a3, "子女");
    let out = fx.run();
    out.assert_not_listed("H1", "PCI 18959.99/3 rounds to 6320.00");
}

#[test]
fn per_capita_income_that_rounds_to_6319_99_is_below_the_line() {
    let mut fx = Fixture::new();
    let a = fx.person("严一");
    let a2 = fx.person("严二");
    let a3 = fx.person("严三");
    // NI = 18959.96; n = 3; 18959.96 / 3 = 6319.98666… → 6319.99 < 6320 → 边缘易致贫户
    fx.household(hh("H1", "一般农户", &a).wage("18959.96").prev("18959.96"));
    fx.member("H1", &a2, "配偶");
    fx.member("H1", &a3, "子女");
    let out = fx.run();
    out.assert_row("H1", &[("家庭人口", "3"), ("家庭纯收入", "18959.96"), ("人均纯收入", "6319.99"), ("类别", "边缘易致贫户")]);
}

#[test]
fn a_half_cent_per_capita_rounds_half_up_not_to_even() {
    let mut fx = Fixture::new();
    let a = fx.person("华一");
    let a2 = fx.person("华二");
    // NI = 12640.01; n = 2; 12640.01 / 2 = 6320.005 → half-up → 6320.01 (banker's would give 6320.00).
    // PCI 6320.01 ≥ 6320, so listing comes from condition (a): prev = 0 and
    // RE = 0.01 (medical self-pay, 一般农户: 0.01 < 10000, 否 → no trigger) > 0 → 突发严重困难户.
    // (NI − RE)/2 = 12640.00/2 = 6320.00 not < 6320; prev = 0 so the 50% test does not apply.
    fx.household(hh("H1", "一般农户", &a).wage("12640.01").prev("0"));
    fx.member("H1", &a2, "配偶");
    fx.medical(&a2, "2021-01-01", "0.01", "否");
    // H2: NI = 0 − 0.01 = −0.01; n = 2; −0.005 → half away from zero → −0.01 < 6320 → 边缘易致贫户
    let b = fx.person("华三");
    let b2 = fx.person("华四");
    fx.household(hh("H2", "一般农户", &b).incomes("0", "0", "0", "0", "0.01"));
    fx.member("H2", &b2, "配偶");
    let out = fx.run();
    out.assert_row("H1", &[("家庭纯收入", "12640.01"), ("人均纯收入", "6320.01"), ("类别", "突发严重困难户"), ("风险类型", "待核实")]);
    out.assert_row("H2", &[("家庭纯收入", "-0.01"), ("人均纯收入", "-0.01"), ("类别", "边缘易致贫户")]);
}

#[test]
fn sudden_hardship_when_rigid_expenditure_exceeds_previous_year_income() {
    let mut fx = Fixture::new();
    // All: 一般农户, n = 1, NI = 30000.00, PCI = 30000.00 ≥ 6320.
    // H1: RE = 12000.00 (medical) + 8000.01 (education) = 20000.01 > prev 20000.00 → 突发.
    //     (30000 − 20000.01)/1 = 9999.99 ≥ 6320; 30000 ≤ 10000? no → only condition (a).
    //     medical 12000.00 ≥ 10000 → 因病; education 8000.01 not > 10000.
    let a = fx.person("金一");
    fx.household(hh("H1", "一般农户", &a).wage("30000").prev("20000.00"));
    fx.medical(&a, "2021-01-01", "12000.00", "否");
    fx.education(&a, "2020-09-01", "8000.01");
    // H2: RE = 12000.00 + 8000.00 = 20000.00, not > 20000.00; (30000 − 20000)/1 = 10000.00 ≥ 6320;
    //     30000 ≤ 10000? no → not listed.
    let b = fx.person("金二");
    fx.household(hh("H2", "一般农户", &b).wage("30000").prev("20000.00"));
    fx.medical(&b, "2021-01-01", "12000.00", "否");
    fx.education(&b, "2020-09-01", "8000.00");
    // H3: two medical visits 3000.00 + 3000.00 (each < 10000, no trigger): RE = 6000.00 > prev 5999.99
    //     → 突发, 风险类型 待核实. (30000 − 6000)/1 = 24000 ≥ 6320; 30000 ≤ 2999.995? no.
    let c = fx.person("金三");
    fx.household(hh("H3", "一般农户", &c).wage("30000").prev("5999.99"));
    fx.medical(&c, "2020-12-01", "3000.00", "否");
    fx.medical(&c, "2021-03-01", "3000.00", "否");
    // H4: as H3 but the second visit is dated 2020-05-31 (outside the window): RE = 3000.00 ≤ 5999.99
    //     → not listed.
    let d = fx.person("金四");
    fx.household(hh("H4", "一般农户", &d).wage("30000").prev("5999.99"));
    fx.medical(&d, "2020-12-01", "3000.00", "否");
    fx.medical(&d, "2020-05-31", "3000.00", "否");
    let out = fx.run();
    out.assert_row("H1", &[("家庭纯收入", "30000.00"), ("人均纯收入", "30000.00"), ("类别", "突发严重困难户"), ("风险类型", "因病")]);
    out.assert_not_listed("H2", "RE 20000.00 is not > prev 20000.00");
    out.assert_row("H3", &[("类别", "突发严重困难户"), ("风险类型", "待核实")]);
    out.assert_not_listed("H4", "RE in the window is 3000.00 ≤ 5999.99");
}

#[test]
fn sudden_hardship_when_previous_year_income_is_zero_and_any_rigid_expenditure() {
    let mut fx = Fixture::new();
    // H1: n = 1, NI = 30000, prev = 0, RE = 0.01 > 0 → 突发 (education 0.01 not > 10000 → 待核实)
    let a = fx.person("魏一");
    fx.household(hh("H1", "脱贫户", &a).wage("30000").prev("0"));
    fx.education(&a, "2021-03-03", "0.01");
    // H2: same with no record: RE = 0, 0 > 0? no; 30000 ≥ 6320; prev = 0 → 50% test off → not listed
    let b = fx.person("魏二");
    fx.household(hh("H2", "脱贫户", &b).wage("30000").prev("0"));
    let out = fx.run();
    out.assert_row("H1", &[("人均纯收入", "30000.00"), ("类别", "突发严重困难户"), ("风险类型", "待核实")]);
    out.assert_not_listed("H2", "prev 0 with RE 0 meets no condition");
}

#[test]
fn sudden_hardship_when_per_capita_income_after_rigid_expenditure_falls_below_the_line() {
    let mut fx = Fixture::new();
    // Both: 一般农户, n = 2, NI = 20000.00, PCI = 10000.00 ≥ 6320, prev = 30000 (so RE > prev is
    // false, and 20000 ≤ 15000 is false): only condition (b) can list them.
    // H1: RE = 7360.02 (education, not > 10000 → no trigger); (20000 − 7360.02)/2 = 12639.98/2
    //     = 6319.99 < 6320 → 突发, 待核实
    let a = fx.person("陶一");
    let a2 = fx.person("陶二");
    fx.household(hh("H1", "一般农户", &a).wage("20000").prev("30000"));
    fx.member("H1", &a2, "子女");
    fx.education(&a2, "2020-09-01", "7360.02");
    // H2: RE = 7360.01; (20000 − 7360.01)/2 = 12639.99/2 = 6319.995 → rounded 6320.00, not < 6320
    //     → not listed
    let b = fx.person("陶三");
    let b2 = fx.person("陶四");
    fx.household(hh("H2", "一般农户", &b).wage("20000").prev("30000"));
    fx.member("H2", &b2, "子女");
    fx.education(&b2, "2020-09-01", "7360.01");
    let out = fx.run();
    out.assert_row("H1", &[("家庭人口", "2"), ("人均纯收入", "10000.00"), ("类别", "突发严重困难户"), ("风险类型", "待核实")]);
    out.assert_not_listed("H2", "(NI − RE)/n = 6319.995 rounds to 6320.00");
}

#[test]
fn sudden_hardship_when_income_fell_to_exactly_half_of_previous_year() {
    let mut fx = Fixture::new();
    // H1: n = 1, NI = 10000.00, PCI 10000.00 ≥ 6320, RE = 0; prev = 20000.00 > 0 and
    //     10000.00 ≤ 50% × 20000.00 = 10000.00 → 突发 (boundary included), 待核实
    let a = fx.person("姜一");
    fx.household(hh("H1", "一般农户", &a).wage("10000").prev("20000.00"));
    // H2: prev = 19999.99; 50% = 9999.995; 10000.00 ≤ 9999.995? no; RE 0 > prev? no;
    //     (10000 − 0)/1 ≥ 6320 → not listed
    let b = fx.person("姜二");
    fx.household(hh("H2", "一般农户", &b).wage("10000").prev("19999.99"));
    let out = fx.run();
    out.assert_row("H1", &[("人均纯收入", "10000.00"), ("类别", "突发严重困难户"), ("风险类型", "待核实")]);
    out.assert_not_listed("H2", "10000 > 50% of 19999.99");
}

#[test]
fn rigid_expenditure_of_a_non_co_resident_member_does_not_count() {
    let mut fx = Fixture::new();
    // co-resident: head only; n = 1; NI = 30000; PCI 30000.00; prev = 5999.99.
    // The away daughter's medical 6000.00 and education 6000.00 are not counted: RE = 0.
    // 0 > 5999.99? no; (30000 − 0)/1 ≥ 6320; 30000 ≤ 2999.995? no → not listed.
    // (Had they counted: RE = 12000 > 5999.99 → listed.)
    let a = fx.person("戚父");
    let away = fx.person("戚女");
    fx.household(hh("H1", "一般农户", &a).wage("30000").prev("5999.99"));
    fx.member_row("H1", &away, "子女", "普通劳动力", false);
    fx.medical(&away, "2021-01-01", "6000.00", "否");
    fx.education(&away, "2021-01-01", "6000.00");
    let out = fx.run();
    out.assert_not_listed("H1", "records of a non co-resident member are not rigid expenditure");
}
