//! Households already in monitoring, new leads, risk elimination (风险消除) with `--previous`,
//! screened.csv, parameters.csv and the 【适用参数】 part of 证据 (issue 4; DOMAIN.md §3, §7).
//!
//! The policy, as the reference rules state it (rules/guizhou-2021.toml, `[monitoring]`):
//! - monitored: 监测状态 ∈ {脱贫不稳定户, 边缘易致贫户, 突发严重困难户}; empty or 风险消除 is not
//!   monitored, so such a listed household is a new lead;
//! - an elimination candidate is a monitored household with, in this run, 人均纯收入 ≥ 监测线
//!   and 扣除刚性支出后人均纯收入 ≥ 监测线 (以上 includes the line), no trigger, no category,
//!   and in the previous run's screened.csv 人均纯收入 ≥ that run's 监测线 — unless every
//!   co-resident member is 丧失劳动力 / 无劳动力 (it stays monitored).
//!
//! Monitoring line 6320.00 (in force from 2021-01-01; 5000.00 from 2020-01-01), determination
//! date 2021-05-31, window 2020-06-01..2021-05-31. 上年度家庭纯收入 defaults to 0 in the fixture
//! (then neither "RE > 上年度" with RE = 0 nor the 50 % drop, which needs 上年度 > 0, can hold).

use crate::support::*;
use std::path::Path;

const MONITORING_LINE_REFERENCE: &str = "贵州省2021年监测标准: 6000元按CPI(+2.6%)、农村居民收入增长(+8.2%)、农村低保标准增长(+5%)调整为6320元";
const MONITORING_LINE_REFERENCE_2020: &str = "2020年各地防返贫监测工作方案: 年人均纯收入低于5000元(不含)纳入监测";

const ELIMINATION_HEADERS: [&str; 11] =
    ["乡镇", "村", "户编号", "户主姓名", "监测状态", "家庭人口", "人均纯收入", "监测线", "上次人均纯收入", "上次监测线", "依据"];

const SCREENED_HEADERS: [&str; 13] =
    ["乡镇", "村", "户编号", "户主姓名", "户类型", "监测状态", "家庭人口", "家庭纯收入", "人均纯收入", "监测线", "类别", "触发规则", "排除提示"];

/// 户编号 column of an output CSV.
fn keys(out: &Outcome, name: &str) -> Vec<String> {
    out.csv(name).column("户编号")
}

/// The elimination_candidates.csv households (the file must exist).
fn candidates(out: &Outcome) -> Vec<String> {
    assert!(out.path("elimination_candidates.csv").is_file(), "elimination_candidates.csv missing with --previous\nstderr:\n{}", out.stderr);
    keys(out, "elimination_candidates.csv")
}

/// The 【适用参数】 pieces at the end of a 证据 text.
fn applied_parameters(evidence: &str) -> Vec<String> {
    let at = evidence.rfind("【适用参数】").unwrap_or_else(|| panic!("证据 has no 【适用参数】: {evidence}"));
    let tail = &evidence[at + "【适用参数】".len()..];
    assert!(!tail.contains('【'), "【适用参数】 should be the last part of 证据: {evidence}");
    tail.split('；').map(str::to_string).collect()
}

/// A household that is an elimination candidate on its own: monitored 脱贫户, n = 1,
/// NI = 20000; PCI = 20000.00 ≥ 6320; 上年度 20000: RE 0 > 20000? no; (20000 − 0)/1 = 20000.00
/// ≥ 6320; 20000 ≤ 20000 × 0.5 = 10000? no → no category; no record → no trigger.
fn stable_monitored(fx: &mut Fixture, key: &str, name: &str) -> Person {
    let p = fx.person(name);
    fx.household(hh(key, "脱贫户", &p).wage("20000").prev("20000").status("脱贫不稳定户"));
    p
}

// ---------------------------------------------------------------- new leads

#[test]
fn a_monitored_household_below_the_line_is_flagged_but_not_a_new_lead_while_an_unmonitored_one_is_both() {
    let mut fx = Fixture::new();
    // Each: n = 1, NI = 5000 + 0 + 0 + 0 − 0 = 5000.00, PCI = 5000.00 < 6320.00 → listed
    // (脱贫户 → 脱贫不稳定户, 一般农户 → 边缘易致贫户).
    let (m1, m2, m3, n1) = (fx.person("监一"), fx.person("监二"), fx.person("监三"), fx.person("新一"));
    fx.household(hh("M1", "脱贫户", &m1).wage("5000").status("脱贫不稳定户")); // monitored
    fx.household(hh("M2", "一般农户", &m2).wage("5000").status("边缘易致贫户")); // monitored
    fx.household(hh("M3", "脱贫户", &m3).wage("5000").status("突发严重困难户")); // monitored
    fx.household(hh("N1", "一般农户", &n1).wage("5000")); // 监测状态 empty → new lead
    let out = fx.run();
    assert_eq!(out.listed(), ["M1", "M2", "M3", "N1"]);
    out.assert_row("M1", &[("监测状态", "脱贫不稳定户"), ("人均纯收入", "5000.00"), ("类别", "脱贫不稳定户")]);
    out.assert_row("N1", &[("监测状态", ""), ("人均纯收入", "5000.00"), ("类别", "边缘易致贫户")]);

    let leads = out.csv("new_leads.csv");
    assert_eq!(leads.headers, out.flagged().headers, "new_leads.csv has flagged.csv's columns");
    assert_eq!(leads.column("户编号"), ["N1"], "only the household not yet monitored:\n{}", leads.render());
    // the new lead's row is its flagged.csv row, unchanged
    let flagged_n1 = out.flagged().records().into_iter().find(|r| r.get("户编号") == "N1").unwrap();
    assert_eq!(leads.rows[0], flagged_n1.fields.iter().map(|(_, v)| v.clone()).collect::<Vec<_>>());

    // manifest: 4 listed = 1 new lead + 3 already monitored; no --previous → no elimination count
    let counts = &out.manifest()["counts"];
    assert_eq!(counts["households_listed"], 4, "{counts}");
    assert_eq!(counts["new_leads"], 1, "{counts}");
    assert_eq!(counts["already_monitored"], 3, "{counts}");
}

#[test]
fn a_household_whose_risk_was_eliminated_before_counts_as_a_new_lead_again() {
    let mut fx = Fixture::new();
    // R1: 监测状态 = 风险消除 (left monitoring), n = 1, NI 5000 → PCI 5000.00 < 6320 → 脱贫不稳定户.
    // 风险消除 is not one of the three monitored states → a new lead.
    // M1: same figures but 监测状态 = 脱贫不稳定户 → already monitored.
    let (r1, m1) = (fx.person("消一"), fx.person("监一"));
    fx.household(hh("R1", "脱贫户", &r1).wage("5000").status("风险消除"));
    fx.household(hh("M1", "脱贫户", &m1).wage("5000").status("脱贫不稳定户"));
    let out = fx.run();
    out.assert_row("R1", &[("监测状态", "风险消除"), ("类别", "脱贫不稳定户")]);
    assert_eq!(keys(&out, "new_leads.csv"), ["R1"]);
    let lead = out.find_in("new_leads.csv", "R1").unwrap();
    assert_fields(&lead, &[("监测状态", "风险消除"), ("人均纯收入", "5000.00"), ("类别", "脱贫不稳定户")], "new_leads.csv R1");
    let counts = &out.manifest()["counts"];
    assert_eq!((counts["new_leads"].as_u64(), counts["already_monitored"].as_u64()), (Some(1), Some(1)), "{counts}");
}

// ---------------------------------------------------------------- risk elimination

/// One month of the same four monitored households (same people, same IDs in every month:
/// a fresh Fixture numbers its people from 1). `wages` are H1..H4's 工资性收入.
fn month(wages: [&str; 4]) -> Fixture {
    let mut fx = Fixture::new();
    let (a, b, c, c2, d) = (fx.person("安一"), fx.person("白一"), fx.person("陈一"), fx.person("陈二"), fx.person("邓一"));
    fx.household(hh("H1", "脱贫户", &a).wage(wages[0]).prev("6320").status("脱贫不稳定户"));
    fx.household(hh("H2", "脱贫户", &b).wage(wages[1]).prev("6320").status("脱贫不稳定户"));
    fx.household(hh("H3", "一般农户", &c).wage(wages[2]).prev("12639.99").status("边缘易致贫户"));
    fx.member("H3", &c2, "配偶");
    fx.household(hh("H4", "脱贫户", &d).wage(wages[3]).prev("6320").status("突发严重困难户"));
    fx
}

#[test]
fn a_monitored_household_exactly_at_the_line_in_both_runs_is_an_elimination_candidate_and_one_a_cent_below_last_time_is_not() {
    // April (previous run):
    //   H1: n 1, NI 6320.00 → PCI 6320.00 ≥ 6320.00 (以上 includes)
    //   H2: n 1, NI 6319.99 → PCI 6319.99 < 6320.00 → listed 脱贫不稳定户 in April
    //   H3: n 2, NI 12639.99 → 12639.99 / 2 = 6319.995 → round half away from zero → 6320.00 ≥ 6320.00
    //   H4: n 1, NI 6320.00 → PCI 6320.00
    let april = month(["6320", "6319.99", "12639.99", "6320"]).run();
    let before = april.csv("screened.csv");
    assert_eq!(before.column("人均纯收入"), ["6320.00", "6319.99", "6320.00", "6320.00"], "April screened.csv:\n{}", before.render());

    // May (this run):
    //   H1: PCI 6320.00; RE 0 → after-RE 6320.00 ≥ 6320; RE 0 > 6320? no; 6320 ≤ 3160? no → no
    //       category, no trigger; April 6320.00 ≥ 6320.00 → candidate
    //   H2: PCI 6320.00 now, but April 6319.99 < 6320.00 → not stably above → not a candidate
    //   H3: PCI 6320.00 (as in April); 12639.99 ≤ 6319.995? no → candidate
    //   H4: NI 6319.99 → PCI 6319.99 < 6320 → listed 脱贫不稳定户 (脱贫户) → not a candidate
    let may = month(["6320", "6320", "12639.99", "6319.99"]).run_previous(&april.out);
    let t = may.csv("elimination_candidates.csv");
    assert_eq!(t.headers, ELIMINATION_HEADERS);
    let got: String = t.records().iter().map(|r| ELIMINATION_HEADERS[..10].iter().map(|c| r.get(c)).collect::<Vec<_>>().join(",") + "\n").collect();
    let want = "城关镇,大坪村,H1,安一,脱贫不稳定户,1,6320.00,6320.00,6320.00,6320.00\n\
                城关镇,大坪村,H3,陈一,边缘易致贫户,2,6320.00,6320.00,6320.00,6320.00\n";
    assert_text(want, &got, "elimination_candidates.csv (columns 乡镇..上次监测线)");
    for r in t.records() {
        let why = r.get("依据");
        assert!(why.contains("6320.00"), "依据 should give the incomes compared with the line: {why}");
    }
    may.assert_row("H4", &[("人均纯收入", "6319.99"), ("类别", "脱贫不稳定户")]);
    assert!(!may.is_listed("H1") && !may.is_listed("H2") && !may.is_listed("H3"));
    // every listed household (H4 only) is already monitored
    assert!(keys(&may, "new_leads.csv").is_empty());
    let counts = &may.manifest()["counts"];
    assert_eq!(counts["elimination_candidates"], 2, "{counts}");
    assert_eq!(counts["stays_monitored"], 0, "{counts}");
    assert_eq!(counts["already_monitored"], 1, "{counts}");
    assert_eq!(counts["new_leads"], 0, "{counts}");
}

#[test]
fn a_monitored_household_above_the_line_with_any_trigger_is_not_an_elimination_candidate() {
    // Previous run: T1, T2 and C1 all as `stable_monitored`: PCI 20000.00 ≥ 6320.
    let before = {
        let mut fx = Fixture::new();
        stable_monitored(&mut fx, "C1", "常一");
        stable_monitored(&mut fx, "T1", "田一");
        stable_monitored(&mut fx, "T2", "田二");
        fx.run()
    };
    let mut fx = Fixture::new();
    stable_monitored(&mut fx, "C1", "常一"); // nothing happened → candidate
    let t1 = stable_monitored(&mut fx, "T1", "田一");
    let t2 = stable_monitored(&mut fx, "T2", "田二");
    // T1: 个人自付 4000.00 ≥ 4000 (脱贫户) → 因病. RE = 4000; 4000 > 20000? no;
    //     (20000 − 4000)/1 = 16000.00 ≥ 6320; 20000 ≤ 10000? no → no category, not listed,
    //     but a trigger hit it → not a candidate.
    fx.medical(&t1, "2021-03-01", "4000.00", "否");
    // T2: 二级 disability → 因残 (no expenditure, RE 0) → not a candidate.
    fx.disability(&t2, "二级");
    let out = fx.run_previous(&before.out);
    assert!(!out.is_listed("T1") && !out.is_listed("T2"), "above the line with nothing sudden: not listed");
    let screened = out.csv("screened.csv");
    let t1_row = screened.records().into_iter().find(|r| r.get("户编号") == "T1").unwrap();
    assert_fields(&t1_row, &[("人均纯收入", "20000.00"), ("类别", ""), ("触发规则", "医疗个人自付达到预警线或患大病")], "screened.csv T1");
    assert_eq!(candidates(&out), ["C1"]);
    assert_eq!(out.manifest()["counts"]["elimination_candidates"], 1);
}

#[test]
fn a_monitored_household_with_a_rigid_expenditure_or_income_drop_condition_is_not_an_elimination_candidate() {
    // Previous run, each n = 1:
    //   C1: NI 10000 → PCI 10000.00; R1: NI 8000 → 8000.00; S1: NI 20000 → 20000.00 — all ≥ 6320.
    let people = |fx: &mut Fixture| {
        let (c1, r1, s1) = (fx.person("稳一"), fx.person("刚一"), fx.person("降一"));
        fx.household(hh("C1", "脱贫户", &c1).wage("10000").prev("10000").status("脱贫不稳定户"));
        fx.household(hh("R1", "脱贫户", &r1).wage("8000").prev("8000").status("脱贫不稳定户"));
        fx.household(hh("S1", "一般农户", &s1).wage("20000").prev("40000").status("边缘易致贫户"));
        (c1, r1)
    };
    let before = {
        let mut fx = Fixture::new();
        people(&mut fx);
        fx.run()
    };
    let mut fx = Fixture::new();
    let (c1, r1) = people(&mut fx);
    // C1: 个人自付 1000.00 < 4000 → no trigger; RE 1000; 1000 > 10000? no;
    //     (10000 − 1000)/1 = 9000.00 ≥ 6320; 10000 ≤ 5000? no → no category → candidate.
    fx.medical(&c1, "2021-02-01", "1000.00", "否");
    // R1: 个人自付 3000.00 < 4000 → no trigger; RE 3000; (8000 − 3000)/1 = 5000.00 < 6320
    //     → 突发严重困难户 (PCI 8000.00 ≥ 6320): a rigid-expenditure condition → not a candidate.
    fx.medical(&r1, "2021-02-01", "3000.00", "否");
    // S1: no record; NI 20000 ≤ 40000 × 0.5 = 20000 (sharp drop, 以下 includes) → 突发严重困难户,
    //     although PCI 20000.00 and after-RE 20000.00 are ≥ 6320 → not a candidate.
    let out = fx.run_previous(&before.out);
    out.assert_row("R1", &[("人均纯收入", "8000.00"), ("类别", "突发严重困难户"), ("风险类型", "待核实")]);
    out.assert_row("S1", &[("人均纯收入", "20000.00"), ("类别", "突发严重困难户")]);
    assert!(!out.is_listed("C1"));
    assert_eq!(candidates(&out), ["C1"]);
}

#[test]
fn a_monitored_household_above_the_line_whose_co_resident_members_all_lack_labour_is_not_an_elimination_candidate() {
    // Each: 脱贫户, 监测状态 脱贫不稳定户, NI 20000, 上年度 20000, no records, same in both runs.
    //   L1: 户主 丧失劳动力 + 配偶 无劳动力, both co-resident: n 2, PCI 10000.00 ≥ 6320;
    //       every co-resident member lacks labour → stays monitored → not a candidate.
    //   L2: 户主 丧失劳动力 + co-resident child 弱劳动力或半劳动力: n 2, PCI 10000.00; someone
    //       has labour → candidate (20000 ≤ 10000? no; RE 0 → no category, no trigger).
    //   L3: 户主 丧失劳动力 co-resident; able son 普通劳动力 lives elsewhere (not co-resident):
    //       n 1, PCI 20000.00; every co-resident member lacks labour → not a candidate.
    let month = || {
        let mut fx = Fixture::new();
        let (a, a2, b, b2, c, c2) = (fx.person("老甲"), fx.person("老甲妻"), fx.person("老乙"), fx.person("乙女"), fx.person("老丙"), fx.person("丙子"));
        fx.household(hh("L1", "脱贫户", &a).wage("20000").prev("20000").status("脱贫不稳定户").head_labour("丧失劳动力"));
        fx.member_row("L1", &a2, "配偶", "无劳动力", true);
        fx.household(hh("L2", "脱贫户", &b).wage("20000").prev("20000").status("脱贫不稳定户").head_labour("丧失劳动力"));
        fx.member_row("L2", &b2, "子女", "弱劳动力或半劳动力", true);
        fx.household(hh("L3", "脱贫户", &c).wage("20000").prev("20000").status("脱贫不稳定户").head_labour("丧失劳动力"));
        fx.member_row("L3", &c2, "子女", "普通劳动力", false);
        fx
    };
    let before = month().run();
    let out = month().run_previous(&before.out);
    assert_eq!(out.csv("screened.csv").column("人均纯收入"), ["10000.00", "10000.00", "20000.00"]);
    assert_eq!(candidates(&out), ["L2"]);
}

#[test]
fn without_the_lack_of_labour_trigger_the_stays_monitored_condition_alone_keeps_such_a_household_monitored_and_is_counted() {
    // The reference rules also have the 缺劳动力 trigger, which by itself disqualifies L1 above.
    // Here the rules are the reference rules minus that trigger, so only [monitoring]
    // stays_monitored can keep L1 (every co-resident member lacks labour) monitored.
    let reference = std::fs::read_to_string(RULES).unwrap();
    let block = "[[triggers]]\nid = \"no_labour\"";
    let start = reference.find(block).expect("the reference rules have the no_labour trigger");
    let end = start + reference[start..].find("\n\n").expect("blank line after the trigger");
    let rules_text = format!("{}{}", &reference[..start], &reference[end..]);
    assert!(!rules_text.contains("no_labour"));
    let dir = tempfile::tempdir().unwrap();
    let rules = dir.path().join("no-labour-trigger-removed.toml");
    std::fs::write(&rules, rules_text).unwrap();

    // L1: 户主 丧失劳动力 + 配偶 无劳动力, NI 20000, n 2 → PCI 10000.00 ≥ 6320, 上年度 20000:
    //     no category, no trigger (under these rules) → meets the conditions, but stays monitored.
    // C1: `stable_monitored` → candidate.
    let month = || {
        let mut fx = Fixture::new();
        let (a, a2) = (fx.person("老甲"), fx.person("老甲妻"));
        fx.household(hh("L1", "脱贫户", &a).wage("20000").prev("20000").status("脱贫不稳定户").head_labour("丧失劳动力"));
        fx.member_row("L1", &a2, "配偶", "无劳动力", true);
        stable_monitored(&mut fx, "C1", "常一");
        fx
    };
    let before = month().run_with(&rules, &[]);
    let out = month().run_with(&rules, &["--previous".as_ref(), before.out.as_os_str()]);
    assert_eq!(candidates(&out), ["C1"]);
    let counts = &out.manifest()["counts"];
    assert_eq!(counts["elimination_candidates"], 1, "{counts}");
    assert_eq!(counts["stays_monitored"], 1, "L1 met the conditions and stays monitored: {counts}");
}

#[test]
fn a_household_not_in_monitoring_or_absent_from_the_previous_run_is_never_an_elimination_candidate() {
    // All `stable`-like: NI 20000, n 1, 上年度 20000 → PCI 20000.00 ≥ 6320, no category, no trigger.
    //   U1: 监测状态 empty → not monitored → never a candidate
    //   U2: 监测状态 风险消除 → not monitored → never a candidate
    //   C1: monitored, in both runs → candidate
    //   N1: monitored, but new in the roster this month (not in the previous screened.csv):
    //       previous income unknown → not a candidate
    let month = |with_n1: bool| {
        let mut fx = Fixture::new();
        let (u1, u2) = (fx.person("普一"), fx.person("普二"));
        fx.household(hh("U1", "一般农户", &u1).wage("20000").prev("20000"));
        fx.household(hh("U2", "脱贫户", &u2).wage("20000").prev("20000").status("风险消除"));
        stable_monitored(&mut fx, "C1", "常一");
        if with_n1 {
            stable_monitored(&mut fx, "N1", "迁一");
        }
        fx
    };
    let before = month(false).run();
    let out = month(true).run_previous(&before.out);
    assert_eq!(candidates(&out), ["C1"]);
    assert!(out.listed().is_empty());
    assert_eq!(out.manifest()["counts"]["elimination_candidates"], 1);
}

#[test]
fn without_previous_no_elimination_candidates_file_is_written() {
    let mut fx = Fixture::new();
    stable_monitored(&mut fx, "C1", "常一"); // would be a candidate with a previous run
    let out = fx.run();
    assert!(!out.path("elimination_candidates.csv").exists(), "written without --previous");
    assert!(out.path("screened.csv").is_file() && out.path("new_leads.csv").is_file() && out.path("parameters.csv").is_file());
    let counts = &out.manifest()["counts"];
    assert!(counts["elimination_candidates"].is_null(), "no comparison was made: {counts}");
}

#[test]
fn a_previous_run_without_screened_csv_gives_a_warning_and_no_elimination_candidates_file() {
    // The previous directory as a run of an older version left it: no screened.csv.
    let mut fx = Fixture::new();
    stable_monitored(&mut fx, "C1", "常一");
    let before = fx.run();
    // The file itself, in the run's directory (DIR/screened.csv is a link to it).
    std::fs::remove_file(std::fs::canonicalize(before.path("screened.csv")).unwrap()).unwrap();
    let out = fx.run_previous(&before.out);
    assert!(out.stderr.contains("screened.csv"), "a warning naming screened.csv on stderr:\n{}", out.stderr);
    assert!(!out.path("elimination_candidates.csv").exists());
}

// ---------------------------------------------------------------- screened.csv

#[test]
fn screened_lists_every_valid_household_listed_or_not_and_no_id_number() {
    let mut fx = Fixture::new();
    // A1 城关镇/大坪村: 脱贫户, monitored, n 1, NI 5000 → PCI 5000.00 < 6320 → 脱贫不稳定户.
    let a1 = fx.person("甲户主");
    fx.household(hh("A1", "脱贫户", &a1).wage("5000").status("脱贫不稳定户"));
    // C1 城关镇/高寨村: 一般农户, n 1, NI 5000 → 边缘易致贫户; a 正常 小型轿车 registered
    //     2019-01-01 ≤ 2021-05-31 → review exclusion 家庭成员有小汽车.
    let c1 = fx.person("丙户主");
    fx.household(hh("C1", "一般农户", &c1).wage("5000").at("城关镇", "高寨村"));
    fx.vehicle(&c1, "小型轿车", "2019-01-01", "正常");
    // B1 新场镇/高寨村: 一般农户, n 2, NI 20000 → PCI 10000.00 ≥ 6320, 上年度 20000: RE 0,
    //     20000 ≤ 10000? no → no category (not listed); 一级 disability → trigger 一、二级重度残疾.
    let (b1, b2) = (fx.person("乙户主"), fx.person("乙配偶"));
    fx.household(hh("B1", "一般农户", &b1).wage("20000").prev("20000").at("新场镇", "高寨村"));
    fx.member("B1", &b2, "配偶");
    fx.disability(&b2, "一级");
    // X1: no co-resident member → rejected (with its member), so not screened.
    let x1 = fx.person("丁户主");
    fx.household(hh("X1", "一般农户", &x1).wage("5000").head_not_coresident());
    let out = fx.run();
    assert_has_reject(&out, &[("来源", "households")]);

    let t = out.csv("screened.csv");
    assert_eq!(t.headers, SCREENED_HEADERS);
    // sorted by 乡镇, 村, 户编号 (城 U+57CE < 新 U+65B0; 大 U+5927 < 高 U+9AD8)
    let want = "乡镇,村,户编号,户主姓名,户类型,监测状态,家庭人口,家庭纯收入,人均纯收入,监测线,类别,触发规则,排除提示\n\
                城关镇,大坪村,A1,甲户主,脱贫户,脱贫不稳定户,1,5000.00,5000.00,6320.00,脱贫不稳定户,,\n\
                城关镇,高寨村,C1,丙户主,一般农户,,1,5000.00,5000.00,6320.00,边缘易致贫户,,家庭成员有小汽车\n\
                新场镇,高寨村,B1,乙户主,一般农户,,2,20000.00,10000.00,6320.00,,一、二级重度残疾,\n";
    assert_text(want, &t.render(), "screened.csv");

    let text = String::from_utf8(out.bytes("screened.csv")).unwrap();
    for p in [&a1, &b1, &b2, &c1, &x1] {
        assert!(!text.contains(p.id.as_str()), "ID of {} in screened.csv", p.name);
    }
    let longest_digit_run = text.split(|c: char| !c.is_ascii_digit()).map(str::len).max().unwrap_or(0);
    assert!(longest_digit_run < 15, "a run of {longest_digit_run} digits (an ID?) in screened.csv:\n{text}");
}

// ---------------------------------------------------------------- parameters in force

#[test]
fn evidence_ends_with_the_parameter_values_the_category_and_the_rules_that_hit_applied() {
    let mut fx = Fixture::new();
    // Each n 1, NI 5000 → PCI 5000.00 < 6320 → category 脱贫不稳定户 / 边缘易致贫户, which read 监测线
    // (6320, in force from 2021-01-01).
    let (p1, p2, p3, p4) = (fx.person("参一"), fx.person("参二"), fx.person("参三"), fx.person("参四"));
    fx.household(hh("P1", "脱贫户", &p1).wage("5000")); // no trigger → 待核实
    fx.household(hh("P2", "脱贫户", &p2).wage("5000"));
    fx.medical(&p2, "2021-01-15", "4500.00", "否"); // 4500.00 ≥ 4000 (建档立卡户医疗自付线) → 因病
    fx.household(hh("P3", "一般农户", &p3).wage("5000"));
    fx.medical(&p3, "2021-01-15", "10000.00", "否"); // 10000.00 ≥ 10000 (一般户医疗自付线) → 因病
    fx.household(hh("P4", "一般农户", &p4).wage("5000"));
    fx.education(&p4, "2020-09-01", "12000.00"); // 12000.00 > 10000 (教育自付线) → 因学
    fx.employment(&p4, "2021-02-20", "45"); // 45 ≥ 30 (返乡未就业天数线) → 因务工就业不稳
    let out = fx.run();
    let line = "监测线=6320.00(2021-01-01起)";

    // P1: only the category read a parameter; its reason comes first (5000.00 < 6320.00).
    out.assert_row("P1", &[("风险类型", "待核实"), ("证据", &format!("【脱贫不稳定户】脱贫户人均纯收入5000.00元低于监测线6320.00元 【适用参数】{line}"))]);

    // P2 (脱贫户): the medical thresholds, 4000.00 in force since 2020-01-01.
    out.assert_row("P2", &[("风险类型", "因病")]);
    let ev = out.row("P2").get("证据").to_string();
    // The category's reason first (5000.00 < 6320.00), then the trigger.
    assert!(ev.starts_with("【脱贫不稳定户】脱贫户人均纯收入5000.00元低于监测线6320.00元 【医疗个人自付达到预警线或患大病】参二 2021-01-15 个人自付4500.00元(预警线4000.00元以上)"), "{ev}");
    let applied = applied_parameters(&ev);
    for want in [line, "建档立卡户医疗自付线=4000.00(2020-01-01起)"] {
        assert!(applied.iter().any(|a| a == want), "{want} missing from 【适用参数】 in {ev}");
    }
    for unused in ["教育自付线", "返乡未就业天数线"] {
        assert!(!applied.iter().any(|a| a.starts_with(unused)), "{unused} was not applied to P2: {ev}");
    }

    // P3 (一般农户): its threshold is 一般户医疗自付线 = 10000.00.
    let ev = out.row("P3").get("证据").to_string();
    let applied = applied_parameters(&ev);
    for want in [line, "一般户医疗自付线=10000.00(2020-01-01起)"] {
        assert!(applied.iter().any(|a| a == want), "{want} missing from 【适用参数】 in {ev}");
    }

    // P4: 教育自付线 and 返乡未就业天数线 (an integer: 30), no medical threshold.
    out.assert_row("P4", &[("风险类型", "因学、因务工就业不稳")]);
    let ev = out.row("P4").get("证据").to_string();
    let mut applied = applied_parameters(&ev);
    applied.sort();
    let mut want = vec![line.to_string(), "教育自付线=10000.00(2020-01-01起)".into(), "返乡未就业天数线=30(2020-01-01起)".into()];
    want.sort();
    assert_eq!(applied, want, "证据: {ev}");
}

#[test]
fn parameters_csv_gives_each_value_in_force_with_its_date_and_reference() {
    let mut fx = Fixture::new();
    let a = fx.person("参一");
    fx.household(hh("H1", "脱贫户", &a).wage("5000"));
    let out = fx.run();
    let t = out.csv("parameters.csv");
    assert_eq!(t.headers, ["参数", "值", "生效日期", "依据", "说明"]);
    // On 2021-05-31 the 2021-01-01 value of 监测线 (6320) is in force, not the 2020 one (5000).
    let line = t.records().into_iter().find(|r| r.get("参数") == "监测线").expect("a 监测线 row");
    assert_fields(
        &line,
        &[("值", "6320.00"), ("生效日期", "2021-01-01"), ("依据", MONITORING_LINE_REFERENCE), ("说明", "防止返贫监测标准(元/人·年)")],
        "parameters.csv 监测线",
    );
    // every parameter of the rules file, each with its value in force (money with two
    // decimals); the row order is not specified, so compared as a set
    let mut got: Vec<(String, String, String)> = t.records().iter().map(|r| (r.get("参数").into(), r.get("值").into(), r.get("生效日期").into())).collect();
    got.sort();
    let mut want: Vec<(String, String, String)> = [
        ("监测线", "6320.00", "2021-01-01"),
        ("建档立卡户医疗自付线", "4000.00", "2020-01-01"),
        ("一般户医疗自付线", "10000.00", "2020-01-01"),
        ("教育自付线", "10000.00", "2020-01-01"),
        ("返乡未就业天数线", "30", "2020-01-01"),
    ]
    .iter()
    .map(|(a, b, c)| (a.to_string(), b.to_string(), c.to_string()))
    .collect();
    want.sort();
    assert_eq!(got, want);
    let medical = t.records().into_iter().find(|r| r.get("参数") == "建档立卡户医疗自付线").unwrap();
    assert_eq!(medical.get("依据"), "医保部门筛查预警: 建档立卡户个人自付4000元以上");

    // the manifest records the same value and reference
    let m = out.manifest();
    let p = m["parameters"].as_array().unwrap().iter().find(|p| p["name"] == "监测线").expect("监测线 in manifest");
    assert_eq!(p["reference"], MONITORING_LINE_REFERENCE);
    assert_eq!(p["effective_from"], "2021-01-01");
}

#[test]
fn as_of_2020_applies_the_2020_line_with_its_reference_in_evidence_and_parameters_csv() {
    let mut fx = Fixture::new();
    // --as-of 2020-12-31: 监测线 in force is 5000 (from 2020-01-01; 6320 only from 2021-01-01).
    // H1: n 1, NI 4999.99 → PCI 4999.99 < 5000.00 → 脱贫不稳定户.
    // H2: n 1, NI 5000 → PCI 5000.00, not < 5000.00; RE 0 → not listed.
    let (a, b) = (fx.person("往一"), fx.person("往二"));
    fx.household(hh("H1", "脱贫户", &a).wage("4999.99"));
    fx.household(hh("H2", "脱贫户", &b).wage("5000"));
    let out = fx.run_with(Path::new(RULES), &["--as-of".as_ref(), "2020-12-31".as_ref()]);
    assert_eq!(out.listed(), ["H1"]);
    // 证据 says why first (4999.99 < 5000.00), then the parameter applied.
    out.assert_row(
        "H1",
        &[("监测线", "5000.00"), ("证据", "【脱贫不稳定户】脱贫户人均纯收入4999.99元低于监测线5000.00元 【适用参数】监测线=5000.00(2020-01-01起)")],
    );
    let line = out.csv("parameters.csv").records().into_iter().find(|r| r.get("参数") == "监测线").unwrap();
    assert_fields(
        &line,
        &[("值", "5000.00"), ("生效日期", "2020-01-01"), ("依据", MONITORING_LINE_REFERENCE_2020)],
        "parameters.csv 监测线 (as of 2020-12-31)",
    );
    let screened = out.csv("screened.csv");
    assert_eq!(screened.column("监测线"), ["5000.00", "5000.00"]);
}
