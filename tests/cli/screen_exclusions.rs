//! Exclusions: every one is action `review` in the reference policy — the household stays listed,
//! 建议 = 建议不纳入(需评议), 排除提示 non-empty.

use crate::support::*;

const REVIEW: &str = "建议不纳入(需评议)";
const VERIFY: &str = "纳入核实";

/// One-person household below the line: NI = 5000; n = 1; PCI = 5000.00 < 6320 → listed.
fn poor(fx: &mut Fixture, hh_id: &str, name: &str) -> Person {
    let p = fx.person(name);
    fx.household(hh(hh_id, "脱贫户", &p).wage("5000"));
    p
}

#[track_caller]
fn assert_review(out: &Outcome, hh: &str, name: &str) {
    let row = out.row(hh);
    assert_eq!(row.get("建议"), REVIEW, "{hh}:\n{}", row.render());
    assert!(!row.get("排除提示").is_empty(), "{hh}: 排除提示 must be non-empty:\n{}", row.render());
    assert!(row.get("证据").contains(name), "{hh}: 证据 should name {name}:\n{}", row.render());
}

#[track_caller]
fn assert_verify(out: &Outcome, hh: &str) {
    let row = out.row(hh);
    assert_eq!(row.get("建议"), VERIFY, "{hh}:\n{}", row.render());
    assert_eq!(row.get("排除提示"), "", "{hh}: 排除提示 must be empty:\n{}", row.render());
}

#[test]
fn a_registered_car_in_use_marks_the_household_for_review_but_not_a_cancelled_late_or_goods_vehicle() {
    let mut fx = Fixture::new();
    let a = poor(&mut fx, "H1", "车一");
    let b = poor(&mut fx, "H2", "车二");
    let c = poor(&mut fx, "H3", "车三");
    let d = poor(&mut fx, "H4", "车四");
    let e = poor(&mut fx, "H5", "车五");
    fx.vehicle(&a, "小型轿车", "2021-05-31", "正常"); // registered on the determination date → review
    fx.vehicle(&b, "小型普通客车", "2015-03-01", "正常"); // long before the window still counts → review
    fx.vehicle(&c, "小型轿车", "2019-03-01", "注销"); // cancelled → no
    fx.vehicle(&d, "小型轿车", "2021-06-01", "正常"); // after 2021-05-31 → no
    fx.vehicle(&e, "轻型货车", "2019-03-01", "正常"); // not 小型轿车/小型普通客车 → no
    fx.vehicle(&e, "摩托车", "2019-03-01", "正常"); // → no
    let out = fx.run();
    assert_review(&out, "H1", "车一");
    assert_review(&out, "H2", "车二");
    assert_verify(&out, "H3");
    assert_verify(&out, "H4");
    assert_verify(&out, "H5");
    // review keeps the category and the risk type
    out.assert_row("H1", &[("类别", "脱贫不稳定户"), ("风险类型", "待核实")]);
}

#[test]
fn commercial_housing_or_a_shop_registered_by_the_determination_date_marks_review_but_self_built_does_not() {
    let mut fx = Fixture::new();
    let a = poor(&mut fx, "H1", "房一");
    let b = poor(&mut fx, "H2", "房二");
    let c = poor(&mut fx, "H3", "房三");
    let d = poor(&mut fx, "H4", "房四");
    fx.real_estate(&a, "商品房", "2018-06-06"); // → review
    fx.real_estate(&b, "门面房", "2021-05-31"); // on the date → review
    fx.real_estate(&c, "自建房", "2018-06-06"); // → no
    fx.real_estate(&c, "宅基地", "2018-06-06"); // → no
    fx.real_estate(&d, "商品房", "2021-06-01"); // after the date → no
    let out = fx.run();
    assert_review(&out, "H1", "房一");
    assert_review(&out, "H2", "房二");
    assert_verify(&out, "H3");
    assert_verify(&out, "H4");
}

#[test]
fn an_active_legal_representative_or_shareholder_marks_review_but_not_a_cancelled_company_or_sole_trader() {
    let mut fx = Fixture::new();
    let a = poor(&mut fx, "H1", "商一");
    let b = poor(&mut fx, "H2", "商二");
    let c = poor(&mut fx, "H3", "商三");
    let d = poor(&mut fx, "H4", "商四");
    fx.company(&a, "凯里某某农业有限公司", "法定代表人", "存续"); // → review
    fx.company(&b, "凯里某某商贸有限公司", "股东", "存续"); // → review
    fx.company(&c, "凯里某某建材有限公司", "法定代表人", "注销"); // cancelled → no
    fx.company(&c, "凯里某某建材有限公司", "股东", "注销"); // cancelled → no
    fx.company(&d, "某某小卖部", "个体工商户", "存续"); // not 法定代表人/股东 → no
    let out = fx.run();
    assert_review(&out, "H1", "商一");
    assert_review(&out, "H2", "商二");
    assert_verify(&out, "H3");
    assert_verify(&out, "H4");
}

#[test]
fn any_public_employee_record_marks_review() {
    let mut fx = Fixture::new();
    let a = poor(&mut fx, "H1", "公一");
    let b = poor(&mut fx, "H2", "公二");
    let c = poor(&mut fx, "H3", "公三");
    let d = poor(&mut fx, "H4", "公四");
    let _e = poor(&mut fx, "H5", "公五");
    fx.public_employee(&a, "公务员");
    fx.public_employee(&b, "事业单位");
    fx.public_employee(&c, "国有企业");
    fx.public_employee(&d, "村干部");
    let out = fx.run();
    for (h, n) in [("H1", "公一"), ("H2", "公二"), ("H3", "公三"), ("H4", "公四")] {
        assert_review(&out, h, n);
    }
    assert_verify(&out, "H5");
}

#[test]
fn a_blacklist_record_filed_by_the_determination_date_marks_review_and_a_later_one_does_not() {
    let mut fx = Fixture::new();
    let a = poor(&mut fx, "H1", "信一");
    let b = poor(&mut fx, "H2", "信二");
    let c = poor(&mut fx, "H3", "信三");
    fx.blacklist(&a, "2021-05-31"); // on the date → review
    fx.blacklist(&b, "2012-01-01"); // long before, still "by then" → review
    fx.blacklist(&c, "2021-06-01"); // after → no
    let out = fx.run();
    assert_review(&out, "H1", "信一");
    assert_review(&out, "H2", "信二");
    assert_verify(&out, "H3");
}

#[test]
fn exclusions_of_a_non_co_resident_member_are_ignored() {
    let mut fx = Fixture::new();
    // n = 1 (head); NI = 5000; PCI 5000.00 → listed. Every exclusion record belongs to the son who
    // lives elsewhere → none applies → 纳入核实.
    let a = fx.person("闵父");
    let away = fx.person("闵子");
    fx.household(hh("H1", "脱贫户", &a).wage("5000"));
    fx.member_row("H1", &away, "子女", "普通劳动力", false);
    fx.vehicle(&away, "小型轿车", "2019-01-01", "正常");
    fx.real_estate(&away, "商品房", "2019-01-01");
    fx.company(&away, "某某有限公司", "法定代表人", "存续");
    fx.public_employee(&away, "公务员");
    fx.blacklist(&away, "2019-01-01");
    let out = fx.run();
    out.assert_row("H1", &[("家庭人口", "1"), ("建议", VERIFY), ("排除提示", ""), ("风险类型", "待核实")]);
}

#[test]
fn an_exclusion_keeps_the_household_listed_with_its_category_and_risk_types() {
    let mut fx = Fixture::new();
    // NI = 5000; n = 1; PCI 5000.00 → 脱贫不稳定户; medical 5000.00 ≥ 4000 → 因病; 商品房 → review
    let a = poor(&mut fx, "H1", "鲁一");
    fx.medical(&a, "2021-01-01", "5000.00", "否");
    fx.real_estate(&a, "商品房", "2020-01-01");
    // 突发 household with an exclusion: n = 1, NI = 10000, prev = 20000 → 10000 ≤ 10000 → 突发; 股东 存续
    let b = fx.person("鲁二");
    fx.household(hh("H2", "一般农户", &b).wage("10000").prev("20000"));
    fx.company(&b, "某某有限公司", "股东", "存续");
    let out = fx.run();
    out.assert_row("H1", &[("类别", "脱贫不稳定户"), ("风险类型", "因病"), ("建议", REVIEW)]);
    assert_review(&out, "H1", "鲁一");
    out.assert_row("H2", &[("类别", "突发严重困难户"), ("风险类型", "待核实"), ("建议", REVIEW)]);
}
