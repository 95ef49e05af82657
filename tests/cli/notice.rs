//! `fanpin notice`: the public list for village review carries nothing sensitive.

use crate::support::*;

#[test]
fn the_public_notice_lists_households_without_ids_and_leaves_review_cases_out_by_default() {
    let mut fx = Fixture::new();
    let a = fx.person("甲一");
    let b = fx.person("乙一");
    // Both 5000.00 < 6320 → listed; b has a car → 建议不纳入(需评议).
    fx.household(hh("H1", "脱贫户", &a).wage("5000"));
    fx.household(hh("H2", "一般农户", &b).wage("5000"));
    fx.vehicle(&b, "小型轿车", "2019-01-01", "正常");
    fx.medical(&a, "2021-01-01", "4000.00", "否");
    let out = fx.run();
    let notice = |extra: &[&str]| {
        let o = fanpin_cmd().args(["notice", "--out"]).arg(&out.out).args(extra).output().unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        out.csv("notice.csv")
    };
    let t = notice(&[]);
    assert_eq!(t.headers, ["乡镇", "村", "户主姓名", "家庭人口", "类别"]);
    assert_eq!(t.column("户主姓名"), ["甲一"]);
    assert_eq!(t.column("类别"), ["脱贫不稳定户"]);
    let text = String::from_utf8(out.bytes("notice.csv")).unwrap();
    for id in [&a.id, &b.id] {
        assert!(!text.contains(id.as_str()) && !text.contains(&id[6..14]), "an ID (or its birth date) leaked: {text}");
    }
    assert!(!text.contains("4000"), "no health detail (medical amounts) in a notice: {text}");
    assert!(out.path("notice.xlsx").exists());
    assert_eq!(notice(&["--include-review"]).column("户主姓名"), ["甲一", "乙一"]);
}
