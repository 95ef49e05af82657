//! Relatives outside the household (issue 14, 门源): an elderly household's children count
//! even when registered elsewhere. The link comes from data, a 赡养关系 extract mapping a
//! child's ID to the elderly member; the vehicles source takes the children's records through
//! it, marked 亲属记录, and a household rule reads them. Expectations worked out by hand.

use crate::support::*;
use std::path::Path;

const LINK: &str = r#"[sources.support]
label = "民政(赡养关系)"
file = "support.csv"
id = "被赡养人证件号码"
relative = "赡养人证件号码"
columns = { "被赡养人证件号码" = "id", "赡养人证件号码" = "id", "关系" = "text" }

[sources.vehicles]
relatives = "support""#;

const ELDERLY_RULE: &str = r#"[[exclusions]]
id = "elderly_children_car"
label = "老年户子女有小汽车"
action = "review"
when = "all(members, age(出生日期) >= 60) and any(vehicles, 亲属记录 and 车辆类型 in ['小型轿车', '小型普通客车'] and 状态 == '正常')"
evidence = "{list(vehicles, '子女{姓名} {车辆类型} {号牌号码}', 亲属记录)}"

[[exclusions]]
id = "car""#;

fn rules(dir: &Path) -> std::path::PathBuf {
    let mut text = std::fs::read_to_string(RULES).unwrap();
    for (from, to) in [
        ("[sources.vehicles]", LINK),
        ("[[exclusions]]\nid = \"car\"", ELDERLY_RULE),
        // A member's own car, as before; the children's cars only through the rule above.
        (
            "when = \"车辆类型 in ['小型轿车', '小型普通客车'] and 状态 == '正常'",
            "when = \"not 亲属记录 and 车辆类型 in ['小型轿车', '小型普通客车'] and 状态 == '正常'",
        ),
    ] {
        assert!(text.contains(from), "{from}");
        text = text.replacen(from, to, 1);
    }
    let path = dir.join("menyuan.toml");
    std::fs::write(&path, text).unwrap();
    path
}

/// A household of one co-resident member born on `birth`, 工资性收入 1000 → PCI 1000.00.
fn household(fx: &mut Fixture, key: &str, head: &Person, birth: &str) {
    fx.household_row(&[key, "凯里市", "城关镇", "大坪村", &head.name, &head.id, "脱贫户", "", "1000", "0", "0", "0", "0", "0"]);
    fx.record("members", &[key, &head.name, &head.id, "户主", head.sex(), birth, "健康", "普通劳动力", "是"]);
}

/// Three elderly-or-not households whose children are outside the roster:
/// - E1: born 1950-03-01 → 71 on 2021-05-31, every member 60 or older; child 子一 (not in the
///   roster, linked) has a 小型轿车 正常 → 老年户子女有小汽车 → 建议不纳入(需评议).
/// - E2: born 1962-06-01 → 58: not elderly; child 子二 linked, with a car → not excluded; the
///   car is not the member's own (亲属记录) so the member's car exclusion does not fire either.
/// - E3: elderly, child 子三 has a car but no link: an unmatched record, nothing excluded.
fn three_households() -> Fixture {
    let mut fx = Fixture::new();
    let (e1, e2, e3) = (fx.person("老一"), fx.person("中二"), fx.person("老三"));
    let (c1, c2, c3) = (fx.person("子一"), fx.person("子二"), fx.person("子三"));
    household(&mut fx, "E1", &e1, "1950-03-01");
    fx.vehicle(&c1, "小型轿车", "2020-01-01", "正常");
    household(&mut fx, "E2", &e2, "1962-06-01");
    fx.vehicle(&c2, "小型轿车", "2020-01-01", "正常");
    household(&mut fx, "E3", &e3, "1951-01-01");
    fx.vehicle(&c3, "小型轿车", "2020-01-01", "正常");
    let support = format!("被赡养人证件号码,赡养人证件号码,关系\n{},{},子女\n{},{},子女\n", e1.id, c1.id, e2.id, c2.id);
    fx.raw_file("support.csv", support);
    fx
}

#[test]
fn an_elderly_households_child_registered_elsewhere_counts_through_the_link_extract() {
    let tmp = tempfile::tempdir().unwrap();
    let rules = rules(tmp.path());
    let out = three_households().run_with(&rules, &[]);
    // PCI 1000.00 < 6320 → all three 脱贫不稳定户.
    assert_eq!(out.listed(), ["E1", "E2", "E3"]);
    out.assert_row("E1", &[("建议", "建议不纳入(需评议)"), ("排除提示", "老年户子女有小汽车")]);
    assert!(out.row("E1").get("证据").contains("【老年户子女有小汽车】子女子一 小型轿车 黔H12345"), "{}", out.row("E1").get("证据"));
    out.assert_row("E2", &[("建议", "纳入核实"), ("排除提示", "")]);
    out.assert_row("E3", &[("建议", "纳入核实"), ("排除提示", "")]);
    // Only 子三's car matches nobody: the linked children's records are matched.
    let unmatched: Vec<String> = out.unmatched().iter().map(|r| format!("{} {}", r.get("来源"), r.get("姓名"))).collect();
    assert_eq!(unmatched, ["vehicles 子三"]);
}

/// The same three households through `--engine spark`: the link, the dedup and the unmatched
/// child give the same outputs, byte for byte.
#[test]
fn relatives_records_are_joined_the_same_way_on_spark() {
    let tmp = tempfile::tempdir().unwrap();
    let rules = rules(tmp.path());
    let fx = three_households();
    let (_tmp, data) = data_of(&fx);
    crate::spark::assert_engines_agree(&rules, &data);
}

#[test]
fn relatives_must_name_a_link_source() {
    let tmp = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(rules(tmp.path())).unwrap().replacen("relatives = \"support\"", "relatives = \"suport\"", 1);
    let path = tmp.path().join("bad.toml");
    std::fs::write(&path, &text).unwrap();
    let out = fanpin_cmd().arg("check").arg(&path).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    assert!(stderr.contains("'suport' is not one (did you mean 'support'?)"), "{stderr}");
}

#[test]
fn explain_runs_on_rules_that_read_relatives_records() {
    let tmp = tempfile::tempdir().unwrap();
    let rules = rules(tmp.path());
    let mut fx = Fixture::new();
    let (e1, c1) = (fx.person("老一"), fx.person("子一"));
    household(&mut fx, "E1", &e1, "1950-03-01");
    fx.vehicle(&c1, "小型轿车", "2020-01-01", "正常");
    fx.raw_file("support.csv", format!("被赡养人证件号码,赡养人证件号码,关系\n{},{},子女\n", e1.id, c1.id));
    let out = fx.run_with(&rules, &[]);
    let o = fanpin_cmd().arg("explain").arg("--out").arg(&out.out).arg("E1").output().unwrap();
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert_eq!(o.status.code(), Some(0), "{stdout}{}", String::from_utf8_lossy(&o.stderr));
    // The household rule that read the child's car is shown as hit.
    assert!(stdout.contains("老年户子女有小汽车"), "{stdout}");
}
