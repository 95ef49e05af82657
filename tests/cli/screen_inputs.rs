//! ID normalization, legacy IDs, unmatched records, and CSV dialect (quotes, CRLF, BOM).

use crate::support::*;

/// One-person 脱贫户 below the line: NI = 5000; n = 1; PCI = 5000.00 → 脱贫不稳定户.
fn poor_person(fx: &mut Fixture, p: &Person, hh_id: &str) {
    fx.household(hh(hh_id, "脱贫户", p).wage("5000"));
}

#[test]
fn ids_with_spaces_full_width_digits_or_lower_case_x_match_the_roster_member() {
    let mut fx = Fixture::new();
    let a = fx.person("蒋空");
    let b = fx.person("蒋全");
    let c = fx.person_with_x("蒋艾");
    assert!(c.id.ends_with('X'));
    poor_person(&mut fx, &a, "H1");
    poor_person(&mut fx, &b, "H2");
    poor_person(&mut fx, &c, "H3");
    let spaced = format!("  {}  ", a.id);
    let wide = full_width(&b.id);
    let lower = c.id.to_lowercase();
    // each 5000.00 ≥ 4000 (脱贫户) → 因病 once matched
    fx.record("medical", &[&spaced, "蒋空", "2021-01-01", "9000", "0", "5000.00", "肺炎", "否"]);
    fx.record("medical", &[&wide, "蒋全", "2021-01-01", "9000", "0", "5000.00", "肺炎", "否"]);
    fx.record("medical", &[&lower, "蒋艾", "2021-01-01", "9000", "0", "5000.00", "肺炎", "否"]);
    let out = fx.run();
    for h in ["H1", "H2", "H3"] {
        out.assert_row(h, &[("风险类型", "因病")]);
    }
    assert!(out.rejects().is_empty(), "{}", out.csv("rejects.csv").render());
    assert!(out.unmatched().is_empty(), "{}", out.csv("unmatched.csv").render());
}

#[test]
fn a_legacy_15_digit_id_matches_the_member_with_the_upgraded_18_digit_id() {
    let mut fx = Fixture::new();
    let a = fx.person("老号");
    poor_person(&mut fx, &a, "H1");
    // 15-digit 522601 800101 sss → 18-digit 522601 19 800101 sss + check = a.id
    let old = id15(a.seq);
    assert_eq!(old.len(), 15);
    fx.record("disability", &[&old, "老号", "肢体残疾", "一级"]); // → 因残
    let out = fx.run();
    out.assert_row("H1", &[("风险类型", "因残")]);
    assert!(out.rejects().is_empty(), "{}", out.csv("rejects.csv").render());
    assert!(out.unmatched().is_empty(), "{}", out.csv("unmatched.csv").render());
}

#[test]
fn a_valid_department_id_not_in_the_roster_lands_in_unmatched_not_rejects() {
    let mut fx = Fixture::new();
    let a = fx.person("在册");
    poor_person(&mut fx, &a, "H1");
    let stranger = fx.person("王五"); // valid ID, never added to the roster
    fx.medical(&a, "2021-01-01", "5000.00", "否"); // medical.csv line 2 → H1 因病
    fx.medical(&stranger, "2021-01-01", "5000.00", "否"); // medical.csv line 3 → unmatched
    fx.disability(&stranger, "一级"); // disability.csv line 2 → unmatched
    let out = fx.run();
    let t = out.csv("unmatched.csv");
    assert_eq!(t.headers, ["来源", "文件", "行号", "证件号码", "姓名"]);
    let rows = t.records();
    assert_eq!(rows.len(), 2, "{}", t.render());
    let med = rows.iter().find(|r| r.get("来源") == "medical").expect("medical row");
    assert_fields(med, &[("文件", "medical.csv"), ("行号", "3"), ("证件号码", stranger.id.as_str()), ("姓名", "王五")], "unmatched medical");
    let dis = rows.iter().find(|r| r.get("来源") == "disability").expect("disability row");
    assert_fields(dis, &[("文件", "disability.csv"), ("行号", "2"), ("证件号码", stranger.id.as_str()), ("姓名", "王五")], "unmatched disability");
    assert!(out.rejects().is_empty(), "{}", out.csv("rejects.csv").render());
    out.assert_row("H1", &[("风险类型", "因病")]);
    assert_eq!(out.listed(), ["H1"]);
}

#[test]
fn a_quoted_field_containing_a_comma_parses() {
    let mut fx = Fixture::new();
    let a = fx.person("逗号");
    poor_person(&mut fx, &a, "H1");
    // the csv writer quotes it: ...,"某某, 有限公司",股东,存续 → 股东 存续 → review
    fx.company(&a, "某某, 有限公司", "股东", "存续");
    let text = fx.csv_text("companies");
    assert!(text.contains("\"某某, 有限公司\""), "fixture must quote the field: {text}");
    let out = fx.run();
    out.assert_row("H1", &[("建议", "建议不纳入(需评议)")]);
    assert!(out.rejects().is_empty(), "{}", out.csv("rejects.csv").render());
}

#[test]
fn input_files_with_a_bom_and_crlf_line_ends_parse() {
    let mut fx = Fixture::new();
    let a = fx.person("回车");
    let b = fx.person("换行");
    // NI = 8000 + 1000 + 0 + 500 − 300 = 9200.00; n = 2; PCI = 4600.00 < 6320 → 脱贫不稳定户
    fx.household(hh("H1", "脱贫户", &a).incomes("8000", "1000", "0", "500", "300"));
    fx.member("H1", &b, "配偶");
    fx.medical(&b, "2021-05-31", "4000.00", "否"); // 4000.00 ≥ 4000 → 因病
    for source in ["households", "members", "medical"] {
        let crlf = fx.csv_text(source).replace('\n', "\r\n");
        let mut bytes = BOM.to_vec();
        bytes.extend_from_slice(crlf.as_bytes());
        fx.raw_file(&format!("{source}.csv"), bytes);
    }
    let out = fx.run();
    out.assert_row(
        "H1",
        &[
            ("户主姓名", "回车"),
            ("户类型", "脱贫户"),
            ("家庭人口", "2"),
            ("家庭纯收入", "9200.00"),
            ("人均纯收入", "4600.00"),
            ("类别", "脱贫不稳定户"),
            ("风险类型", "因病"),
            ("排除提示", ""),
        ],
    );
    assert!(out.rejects().is_empty(), "{}", out.csv("rejects.csv").render());
}
