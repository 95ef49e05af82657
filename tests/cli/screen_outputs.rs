//! Output files: presence, BOM, headers, sorting, formatting, summaries, determinism.

use crate::support::*;

const FLAGGED_HEADERS: [&str; 17] = [
    "乡镇",
    "村",
    "户编号",
    "户主姓名",
    "户主证件号码",
    "户类型",
    "监测状态",
    "家庭人口",
    "家庭纯收入",
    "人均纯收入",
    "监测线",
    "类别",
    "风险类型",
    "建议",
    "排除提示",
    "触发规则",
    "证据",
];

const TOWNSHIP_HEADERS: [&str; 9] = [
    "乡镇",
    "脱贫不稳定户户数",
    "脱贫不稳定户人数",
    "边缘易致贫户户数",
    "边缘易致贫户人数",
    "突发严重困难户户数",
    "突发严重困难户人数",
    "合计户数",
    "合计人数",
];

#[test]
fn every_output_file_is_written_and_every_csv_starts_with_a_bom_and_its_headers() {
    // Only households.csv and members.csv: every department source is absent (allowed).
    let mut fx = Fixture::new();
    let a = fx.person("输出");
    fx.household(hh("H1", "脱贫户", &a).wage("5000")); // PCI 5000.00 → listed
    let out = fx.run();
    for f in ["flagged.csv", "summary_by_township.csv", "summary_by_risk.csv", "unmatched.csv", "rejects.csv", "manifest.json", "report.xlsx"] {
        assert!(out.path(f).is_file(), "{f} missing in --out");
    }
    assert_eq!(out.flagged().headers, FLAGGED_HEADERS);
    assert_eq!(out.csv("summary_by_township.csv").headers, TOWNSHIP_HEADERS);
    assert_eq!(out.csv("summary_by_risk.csv").headers, ["风险类型", "户数", "人数"]);
    assert_eq!(out.csv("rejects.csv").headers, ["来源", "文件", "行号", "列", "值", "原因"]);
    assert_eq!(out.csv("unmatched.csv").headers, ["来源", "文件", "行号", "证件号码", "姓名"]);
    assert!(out.manifest().is_object());
    assert!(out.bytes("report.xlsx").starts_with(b"PK"), "report.xlsx is not a zip (xlsx) file");
    assert_eq!(out.listed(), ["H1"]);
    assert!(out.rejects().is_empty());
    assert!(out.unmatched().is_empty());
}

#[test]
fn negative_income_is_formatted_with_two_decimals_and_a_minus_sign() {
    let mut fx = Fixture::new();
    let a = fx.person("负一");
    let b = fx.person("负二");
    // NI = 0 + 0 + 0 + 0 − 301 = −301.00; n = 2; PCI = −150.50 < 6320 → 边缘易致贫户
    fx.household(hh("H1", "一般农户", &a).incomes("0", "0", "0", "0", "301"));
    fx.member("H1", &b, "配偶");
    let out = fx.run();
    out.assert_row("H1", &[("家庭人口", "2"), ("家庭纯收入", "-301.00"), ("人均纯收入", "-150.50"), ("监测线", "6320.00"), ("类别", "边缘易致贫户")]);
}

/// Six households over two townships (written in shuffled order). By hand:
///
/// | 户 | 乡镇/村 | 户类型 | co-resident n | NI | PCI | category | risk |
/// |---|---|---|---|---|---|---|---|
/// | Z1 | 城关镇/大坪村 | 脱贫户 | 3 (+1 away) | 12000 | 4000.00 < 6320 | 脱贫不稳定户 | 因病 (5000 ≥ 4000), 因残 (一级) |
/// | M2 | 城关镇/高寨村 | 一般农户 | 2 | 10000 | 5000.00 < 6320 | 边缘易致贫户 | 因学 (12000.00 > 10000) |
/// | M1 | 城关镇/高寨村 | 一般农户 | 1 | 30000 | 30000.00 ≥ 6320 | RE 25000 > prev 20000 → 突发严重困难户 | 因病 (25000 ≥ 10000) |
/// | A1 | 新场镇/大坪村 | 脱贫户 | 4 | 20000 | 5000.00 < 6320 | 脱贫不稳定户 | 待核实 |
/// | A2 | 新场镇/大坪村 | 一般农户 | 2 | 40000 | 20000.00 | RE 3000 ≤ 30000; (40000−3000)/2 = 18500 ≥ 6320; 40000 > 15000 → not listed | – |
/// | A0 | 新场镇/高寨村 | 一般农户 | 1 | 5000 | 5000.00 < 6320 | 边缘易致贫户 | 住房安全 (D) |
fn county() -> (Fixture, Vec<Person>) {
    let mut fx = Fixture::new();
    let mut heads = vec![];
    // A0
    let wu = fx.person("吴甲");
    fx.household(hh("A0", "一般农户", &wu).wage("5000").at("新场镇", "高寨村"));
    fx.housing(&wu, "D", "2021-01-01");
    // M2
    let qian = fx.person("钱甲");
    let qian2 = fx.person("钱乙");
    fx.household(hh("M2", "一般农户", &qian).wage("10000").at("城关镇", "高寨村"));
    fx.member("M2", &qian2, "子女");
    fx.education(&qian2, "2020-09-01", "12000.00");
    // A1 (status passes through)
    let li = fx.person("李甲");
    fx.household(hh("A1", "脱贫户", &li).wage("20000").at("新场镇", "大坪村").status("风险消除"));
    for n in ["李乙", "李丙", "李丁"] {
        let p = fx.person(n);
        fx.member("A1", &p, "子女");
    }
    // Z1
    let zhao = fx.person("赵甲");
    let zhao2 = fx.person("赵乙");
    let zhao3 = fx.person("赵丙");
    let zhao4 = fx.person("赵丁");
    fx.household(hh("Z1", "脱贫户", &zhao).wage("12000").at("城关镇", "大坪村").status("脱贫不稳定户"));
    fx.member("Z1", &zhao2, "配偶");
    fx.member("Z1", &zhao3, "子女");
    fx.member_row("Z1", &zhao4, "子女", "普通劳动力", false);
    fx.medical(&zhao2, "2021-01-01", "5000.00", "否");
    fx.disability(&zhao3, "一级");
    fx.housing(&zhao4, "D", "2021-01-01"); // away member: ignored
                                           // A2
    let zhou = fx.person("周甲");
    let zhou2 = fx.person("周乙");
    fx.household(hh("A2", "一般农户", &zhou).wage("40000").prev("30000").at("新场镇", "大坪村"));
    fx.member("A2", &zhou2, "配偶");
    fx.medical(&zhou2, "2021-01-01", "3000.00", "否");
    // M1
    let sun = fx.person("孙甲");
    fx.household(hh("M1", "一般农户", &sun).wage("30000").prev("20000").at("城关镇", "高寨村"));
    fx.medical(&sun, "2021-01-01", "25000.00", "否");
    heads.extend([zhao, sun, qian, li, wu]);
    (fx, heads)
}

#[test]
fn flagged_lists_the_county_sorted_by_township_village_and_household_number() {
    let (fx, heads) = county();
    let out = fx.run();
    let t = out.flagged();
    let cols = &FLAGGED_HEADERS[..15]; // all but 触发规则 and 证据
    let got: String = t.records().iter().map(|r| cols.iter().map(|c| r.get(c)).collect::<Vec<_>>().join(",") + "\n").collect();
    let [zhao, sun, qian, li, wu] = &heads[..] else { unreachable!() };
    let want = format!(
        "城关镇,大坪村,Z1,赵甲,{},脱贫户,脱贫不稳定户,3,12000.00,4000.00,6320.00,脱贫不稳定户,因病、因残,纳入核实,\n\
         城关镇,高寨村,M1,孙甲,{},一般农户,,1,30000.00,30000.00,6320.00,突发严重困难户,因病,纳入核实,\n\
         城关镇,高寨村,M2,钱甲,{},一般农户,,2,10000.00,5000.00,6320.00,边缘易致贫户,因学,纳入核实,\n\
         新场镇,大坪村,A1,李甲,{},脱贫户,风险消除,4,20000.00,5000.00,6320.00,脱贫不稳定户,待核实,纳入核实,\n\
         新场镇,高寨村,A0,吴甲,{},一般农户,,1,5000.00,5000.00,6320.00,边缘易致贫户,住房安全,纳入核实,\n",
        zhao.id, sun.id, qian.id, li.id, wu.id
    );
    assert_text(&want, &got, "flagged.csv (columns 乡镇..排除提示)");
}

#[test]
fn summary_by_township_counts_households_and_co_resident_persons_per_category() {
    let (fx, _) = county();
    let out = fx.run();
    let t = out.csv("summary_by_township.csv");
    assert_eq!(t.headers, TOWNSHIP_HEADERS);
    // 城关镇: 脱贫不稳定 Z1 (3 persons); 边缘 M2 (2); 突发 M1 (1); total 3 households, 3+2+1 = 6 persons
    // 新场镇: 脱贫不稳定 A1 (4); 边缘 A0 (1); 突发 none; total 2 households, 4+1 = 5 persons
    // 合计: 脱贫不稳定 2 / 3+4 = 7; 边缘 2 / 2+1 = 3; 突发 1 / 1; total 5 / 11
    let want = "乡镇,脱贫不稳定户户数,脱贫不稳定户人数,边缘易致贫户户数,边缘易致贫户人数,突发严重困难户户数,突发严重困难户人数,合计户数,合计人数\n\
                城关镇,1,3,1,2,1,1,3,6\n\
                新场镇,1,4,1,1,0,0,2,5\n\
                合计,2,7,2,3,1,1,5,11\n";
    assert_text(want, &t.render(), "summary_by_township.csv");
}

#[test]
fn summary_by_risk_counts_a_household_under_each_of_its_risk_types() {
    let (fx, _) = county();
    let out = fx.run();
    let t = out.csv("summary_by_risk.csv");
    assert_eq!(t.headers, ["风险类型", "户数", "人数"]);
    // 因病: Z1 (3) + M1 (1) = 2 households, 4 persons; 因学: M2 1/2; 因残: Z1 1/3;
    // 住房安全: A0 1/1 (Z1's away member's D rating does not count); 待核实: A1 1/4; others 0/0.
    let want = "风险类型,户数,人数\n\
                因病,2,4\n\
                因学,1,2\n\
                因残,1,3\n\
                因灾,0,0\n\
                因意外事故,0,0\n\
                因务工就业不稳,0,0\n\
                因产业项目失败,0,0\n\
                住房安全,1,1\n\
                缺劳动力,0,0\n\
                待核实,1,4\n";
    // compare the first ten rows (a 合计 row may follow; not asserted)
    let first = Table { rows: t.rows.iter().take(10).cloned().collect(), ..t.clone() };
    assert_text(want, &first.render(), "summary_by_risk.csv");
}

#[test]
fn two_runs_on_the_same_inputs_write_byte_identical_csvs() {
    let (mut fx, heads) = county();
    // add a reject and an unmatched lead so those files are not empty
    fx.medical(&heads[0], "2021-13-01", "5000.00", "否");
    let stranger = fx.person("外人");
    fx.medical(&stranger, "2021-01-01", "5000.00", "否");
    let first = fx.run();
    let second = fx.run();
    assert!(!first.rejects().is_empty() && !first.unmatched().is_empty());
    for f in ["flagged.csv", "summary_by_township.csv", "summary_by_risk.csv", "unmatched.csv", "rejects.csv"] {
        let (a, b) = (first.bytes(f), second.bytes(f));
        if a != b {
            assert_text(&String::from_utf8_lossy(&a), &String::from_utf8_lossy(&b), f);
        }
    }
}

#[test]
fn a_second_run_on_a_locked_output_directory_exits_5_and_a_stale_lock_is_taken_over() {
    let mut fx = Fixture::new();
    let a = fx.person("甲一");
    fx.household(hh("H1", "脱贫户", &a).wage("5000"));
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let out = tmp.path().join("out");
    fx.write_data(&data);
    let run = || fanpin_cmd().args(["screen", "--rules", RULES, "-q", "--data"]).arg(&data).arg("--out").arg(&out).output().unwrap();
    std::fs::create_dir_all(&out).unwrap();
    // pid 1 is always alive: the directory is taken.
    std::fs::write(out.join(".fanpin.lock"), "1").unwrap();
    let locked = run();
    assert_eq!(locked.status.code(), Some(5), "{}", String::from_utf8_lossy(&locked.stderr));
    assert!(!out.join("flagged.csv").exists(), "nothing written while locked");
    // A lock whose process is gone (a killed run) is taken over.
    std::fs::write(out.join(".fanpin.lock"), "4194304999").unwrap();
    let ok = run();
    assert!(ok.status.success(), "{}", String::from_utf8_lossy(&ok.stderr));
    assert!(out.join("flagged.csv").exists());
    assert!(!out.join(".fanpin.lock").exists(), "the lock is released");
    assert!(!out.join(".fanpin-partial").exists(), "the staging directory is gone");
}

#[test]
fn a_monthly_run_with_previous_marks_new_and_continuing_households_and_says_why_others_dropped() {
    let tmp = tempfile::tempdir().unwrap();
    let screen_with = |fx: &Fixture, name: &str, previous: Option<&std::path::Path>| {
        let data = tmp.path().join(format!("data-{name}"));
        let out = tmp.path().join(format!("out-{name}"));
        fx.write_data(&data);
        let mut cmd = fanpin_cmd();
        cmd.args(["screen", "--rules", RULES, "-q", "--data"]).arg(&data).arg("--out").arg(&out);
        if let Some(p) = previous {
            cmd.arg("--previous").arg(p);
        }
        let o = cmd.output().unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        out
    };
    let mut may = Fixture::new();
    let (a, b, d) = (may.person("甲"), may.person("乙"), may.person("丁"));
    // May: H1, H2, H4 at 5000.00 < 6320 → listed.
    may.household(hh("H1", "脱贫户", &a).wage("5000"));
    may.household(hh("H2", "脱贫户", &b).wage("5000"));
    may.household(hh("H4", "一般农户", &d).wage("5000"));
    let may_out = screen_with(&may, "may", None);

    // June: H1 earns 7000.00 ≥ 6320 with nothing sudden → dropped; H2 unchanged → 持续;
    // H3 new at 5000.00 → 新增; H4 no longer in the roster → dropped.
    let mut june = Fixture::new();
    let (a2, b2, c2) = (june.person("甲"), june.person("乙"), june.person("丙"));
    june.household(hh("H1", "脱贫户", &a2).wage("7000"));
    june.household(hh("H2", "脱贫户", &b2).wage("5000"));
    june.household(hh("H3", "一般农户", &c2).wage("5000"));
    let june_out = screen_with(&june, "june", Some(&may_out));

    let read = |p: std::path::PathBuf| {
        let text = std::fs::read_to_string(p).unwrap();
        let mut r = csv::Reader::from_reader(text.trim_start_matches('\u{feff}').as_bytes());
        let h: Vec<String> = r.headers().unwrap().iter().map(str::to_string).collect();
        let rows: Vec<Vec<String>> = r.records().map(|x| x.unwrap().iter().map(str::to_string).collect()).collect();
        (h, rows)
    };
    let (h, rows) = read(june_out.join("flagged.csv"));
    let change = h.iter().position(|x| x == "变化").expect("变化 column with --previous");
    let key = h.iter().position(|x| x == "户编号").unwrap();
    let got: Vec<(String, String)> = rows.iter().map(|r| (r[key].clone(), r[change].clone())).collect();
    assert_eq!(got, [("H2".to_string(), "持续".to_string()), ("H3".to_string(), "新增".to_string())]);
    let (_, dropped) = read(june_out.join("dropped.csv"));
    let why: Vec<(String, String)> = dropped.iter().map(|r| (r[2].clone(), r[5].clone())).collect();
    assert_eq!(why.len(), 2, "{why:?}");
    assert_eq!(why[0].0, "H1");
    assert!(why[0].1.contains("7000.00") && why[0].1.contains("6320.00"), "{why:?}");
    assert_eq!(why[1].0, "H4");
    assert!(why[1].1.contains("不在户表"), "{why:?}");
}
