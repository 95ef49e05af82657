//! Unreadable rows go to rejects.csv (来源,文件,行号,列,值,原因; 行号: header = 1, first data row = 2),
//! the run still exits 0 (asserted by the harness) and the other households are still screened.

use crate::support::*;

/// One-person household below the line: NI = 5000; n = 1; PCI = 5000.00 < 6320 → listed.
fn poor(fx: &mut Fixture, hh_id: &str, kind: &str, name: &str) -> Person {
    let p = fx.person(name);
    fx.household(hh(hh_id, kind, &p).wage("5000"));
    p
}

#[test]
fn a_department_id_with_a_wrong_check_digit_is_rejected_and_not_joined() {
    let mut fx = Fixture::new();
    let a = poor(&mut fx, "H1", "脱贫户", "甲一");
    let b = poor(&mut fx, "H2", "脱贫户", "甲二");
    fx.medical(&a, "2021-01-01", "5000.00", "否"); // line 2: valid → H1 因病 (5000 ≥ 4000)
    let bad = with_wrong_check(&b.id);
    fx.record("medical", &[&bad, "甲二", "2021-01-01", "9000.00", "0", "5000.00", "肺炎", "否"]); // line 3
    let out = fx.run();
    assert_has_reject(&out, &[("来源", "medical"), ("文件", "medical.csv"), ("行号", "3"), ("列", "证件号码"), ("值", bad.as_str())]);
    out.assert_row("H1", &[("风险类型", "因病")]);
    // never joined by guess: H2 has no trigger
    out.assert_row("H2", &[("风险类型", "待核实")]);
    assert!(out.unmatched().iter().all(|r| r.get("证件号码") != bad), "an invalid ID is a reject, not an unmatched lead");
}

#[test]
fn an_id_destroyed_by_excel_scientific_notation_is_rejected() {
    let mut fx = Fixture::new();
    let a = fx.person("乙一");
    fx.household(hh("H1", "一般农户", &a).wage("5000")); // members.csv line 2: 乙一
    fx.record("members", &["H1", "乙二", "5.22601E+17", "配偶", "女", "1980-01-01", "健康", "普通劳动力", "是"]); // line 3
                                                                                                                  // H2: NI = 5000; n = 1; PCI = 5000.00 → 边缘易致贫户; members.csv line 4
    let b = poor(&mut fx, "H2", "一般农户", "乙三");
    fx.medical(&b, "2021-01-01", "10000.00", "否"); // medical.csv line 2: 10000 ≥ 10000 → H2 因病
    fx.record("medical", &["5.22601E+17", "乙二", "2021-01-01", "90000.00", "0", "30000.00", "肺炎", "是"]); // line 3
    let out = fx.run();
    assert_has_reject(&out, &[("来源", "members"), ("文件", "members.csv"), ("行号", "3"), ("列", "证件号码"), ("值", "5.22601E+17")]);
    assert_has_reject(&out, &[("来源", "medical"), ("文件", "medical.csv"), ("行号", "3"), ("列", "证件号码"), ("值", "5.22601E+17")]);
    out.assert_row("H2", &[("家庭人口", "1"), ("人均纯收入", "5000.00"), ("类别", "边缘易致贫户"), ("风险类型", "因病")]);
}

#[test]
fn a_bad_amount_is_rejected_with_its_column() {
    let mut fx = Fixture::new();
    let _a = poor(&mut fx, "H1", "脱贫户", "丙一"); // households.csv line 2
    let b = fx.person("丙二");
    fx.household(hh("H2", "脱贫户", &b).wage("3千")); // households.csv line 3: unreadable amount
    let c = poor(&mut fx, "H3", "脱贫户", "丙三"); // households.csv line 4
    fx.medical(&c, "2021-01-01", "4千", "否"); // medical.csv line 2: unreadable 个人自付
    let out = fx.run();
    assert_has_reject(&out, &[("来源", "households"), ("文件", "households.csv"), ("行号", "3"), ("列", "工资性收入"), ("值", "3千")]);
    assert_has_reject(&out, &[("来源", "medical"), ("文件", "medical.csv"), ("行号", "2"), ("列", "个人自付"), ("值", "4千")]);
    out.assert_not_screened("H2", "its household row was rejected");
    out.assert_row("H1", &[("人均纯收入", "5000.00"), ("类别", "脱贫不稳定户"), ("风险类型", "待核实")]);
    // the rejected medical record does not fire
    out.assert_row("H3", &[("人均纯收入", "5000.00"), ("类别", "脱贫不稳定户"), ("风险类型", "待核实")]);
}

#[test]
fn a_bad_date_is_rejected_with_its_column() {
    let mut fx = Fixture::new();
    let a = poor(&mut fx, "H1", "脱贫户", "丁一");
    let b = poor(&mut fx, "H2", "脱贫户", "丁二");
    fx.medical(&a, "2021-02-30", "5000.00", "否"); // line 2: no such day
                                                   // line 3: 2021/3/1 would be read (issue 3: dates as written in extracts); month 13 is not a date
    fx.medical(&a, "2021/13/01", "5000.00", "否");
    fx.medical(&b, "2021-03-01", "5000.00", "否"); // line 4: valid → H2 因病
    let out = fx.run();
    assert_has_reject(&out, &[("来源", "medical"), ("文件", "medical.csv"), ("行号", "2"), ("列", "就诊日期"), ("值", "2021-02-30")]);
    assert_has_reject(&out, &[("来源", "medical"), ("文件", "medical.csv"), ("行号", "3"), ("列", "就诊日期"), ("值", "2021/13/01")]);
    out.assert_row("H1", &[("风险类型", "待核实")]);
    out.assert_row("H2", &[("风险类型", "因病")]);
}

#[test]
fn a_person_listed_in_two_households_is_rejected() {
    let mut fx = Fixture::new();
    let a = poor(&mut fx, "H1", "一般农户", "戊一"); // members.csv line 2
    let _b = poor(&mut fx, "H2", "一般农户", "戊二"); // members.csv line 3
    fx.member("H2", &a, "子女"); // members.csv line 4: 戊一 again, in another household
    let _c = poor(&mut fx, "H3", "一般农户", "戊三"); // members.csv line 5
    let out = fx.run();
    assert_has_reject(&out, &[("来源", "members"), ("文件", "members.csv"), ("行号", "4"), ("列", "证件号码"), ("值", a.id.as_str())]);
    // H3 untouched: NI 5000; n 1; PCI 5000.00 → 边缘易致贫户
    out.assert_row("H3", &[("家庭人口", "1"), ("人均纯收入", "5000.00"), ("类别", "边缘易致贫户")]);
}

#[test]
fn a_duplicate_household_number_is_rejected() {
    let mut fx = Fixture::new();
    let a = poor(&mut fx, "H1", "一般农户", "己一"); // households.csv line 2
                                                     // households.csv line 3: H1 again
    fx.household_row(&["H1", "凯里市", "城关镇", "大坪村", "己一", &a.id, "一般农户", "", "9000", "0", "0", "0", "0", "0"]);
    let _b = poor(&mut fx, "H2", "脱贫户", "己二"); // households.csv line 4
    let out = fx.run();
    assert_has_reject(&out, &[("来源", "households"), ("文件", "households.csv"), ("行号", "3"), ("列", "户编号"), ("值", "H1")]);
    // H2: NI 5000; n 1; PCI 5000.00 → 脱贫不稳定户
    out.assert_row("H2", &[("家庭人口", "1"), ("人均纯收入", "5000.00"), ("类别", "脱贫不稳定户")]);
}

#[test]
fn a_household_with_no_co_resident_member_is_rejected() {
    let mut fx = Fixture::new();
    let _a = poor(&mut fx, "H1", "一般农户", "庚一"); // households.csv line 2
    let b = fx.person("庚二");
    fx.household(hh("H2", "一般农户", &b).wage("5000").head_not_coresident()); // households.csv line 3, n = 0
    let out = fx.run();
    // The spec names the row (households.csv line 3) but not the column; either the key or the
    // co-residence column is a faithful pointer, nothing else is.
    let rows = out.rejects();
    let hit = rows.iter().any(|r| {
        r.get("来源") == "households" && r.get("文件") == "households.csv" && r.get("行号") == "3" && ["户编号", "是否共同生活"].contains(&r.get("列"))
    });
    assert!(hit, "no reject for households.csv line 3:\n{}", out.csv("rejects.csv").render());
    out.assert_not_screened("H2", "n = 0, PCI undefined");
    out.assert_row("H1", &[("家庭人口", "1"), ("人均纯收入", "5000.00"), ("类别", "边缘易致贫户")]);
}

#[test]
fn a_repeated_household_number_and_a_household_with_no_co_resident_are_each_rejected_once() {
    let mut fx = Fixture::new();
    let a = poor(&mut fx, "H1", "一般农户", "庚三"); // households.csv line 2
    fx.household_row(&["H1", "凯里市", "城关镇", "大坪村", "庚三", &a.id, "一般农户", "", "9000", "0", "0", "0", "0", "0"]); // line 3
    let b = fx.person("庚四");
    fx.household(hh("H2", "一般农户", &b).wage("5000").head_not_coresident()); // line 4, n = 0
    let _c = poor(&mut fx, "H3", "脱贫户", "庚五"); // line 5
    let out = fx.run();
    // Lines 2 and 3 for the repeated 户编号 only (never also for having no co-resident member:
    // their member belongs to no household), line 4 for having no co-resident member.
    let households: Vec<(String, String)> =
        out.rejects().iter().filter(|r| r.get("来源") == "households").map(|r| (r.get("行号").to_string(), r.get("原因").to_string())).collect();
    let repeated = "户编号重复(户表中出现2次),无法确定哪一行有效";
    let alone = "该户没有共同生活的成员(是否共同生活均为否),无法计算人均收入";
    assert_eq!(
        households,
        [("2", repeated), ("3", repeated), ("4", alone)].map(|(l, r)| (l.to_string(), r.to_string())),
        "{}",
        out.csv("rejects.csv").render()
    );
    out.assert_not_screened("H1", "户编号 repeated");
    out.assert_not_screened("H2", "n = 0, PCI undefined");
    // H3: NI 5000; n 1; PCI 5000.00 → 脱贫不稳定户
    out.assert_row("H3", &[("家庭人口", "1"), ("人均纯收入", "5000.00"), ("类别", "脱贫不稳定户")]);
}

#[test]
fn the_manifest_counts_rejected_rows_and_is_valid_json() {
    let mut fx = Fixture::new();
    let a = poor(&mut fx, "H1", "脱贫户", "辛一");
    fx.medical(&a, "2021-02-30", "5000.00", "否");
    let out = fx.run();
    let m = out.manifest();
    assert!(m.is_object(), "manifest.json should be a JSON object: {m}");
    assert_eq!(out.rejects().len(), 1, "{}", out.csv("rejects.csv").render());
}

#[test]
fn more_rejects_than_the_allowed_rate_exit_4_after_writing_the_outputs() {
    let mut fx = Fixture::new();
    let a = poor(&mut fx, "H1", "脱贫户", "丁一");
    fx.medical(&a, "2021-02-30", "5000.00", "否");
    fx.medical(&a, "2021-03-01", "5000.00", "否");
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    fx.write_data(&data);
    // Rows read: 1 household + 1 member + 2 medical = 4; rejected: 1 → 25 %.
    let run = |rate: &str| {
        fanpin_cmd()
            .args(["screen", "--rules", RULES, "-q", "--max-reject-rate", rate, "--data"])
            .arg(&data)
            .arg("--out")
            .arg(tmp.path().join(format!("out-{rate}")))
            .output()
            .unwrap()
    };
    let over = run("0.2");
    assert_eq!(over.status.code(), Some(4), "{}", String::from_utf8_lossy(&over.stderr));
    assert!(String::from_utf8_lossy(&over.stderr).contains("1 of 4 rows rejected"));
    assert!(tmp.path().join("out-0.2/flagged.csv").exists(), "outputs are written all the same");
    assert_eq!(run("0.25").status.code(), Some(0), "25 % is not above 25 %");
}

#[test]
fn a_household_with_no_member_rows_at_all_is_rejected_not_silently_lost() {
    let mut fx = Fixture::new();
    poor(&mut fx, "H1", "脱贫户", "丁一");
    // H2 is in households.csv but has no row in members.csv (line 3 of households.csv).
    let b = fx.person("丁二");
    fx.household_row(&["H2", "示例县", "城关镇", "大坪村", "丁二", &b.id, "脱贫户", "", "5000", "0", "0", "0", "0", "0"]);
    let out = fx.run();
    assert_has_reject(&out, &[("来源", "households"), ("行号", "3"), ("列", "户编号"), ("值", "H2")]);
    let r = out.rejects().into_iter().find(|r| r.get("值") == "H2").unwrap();
    assert!(r.get("原因").contains("没有任何成员"), "{}", r.render());
    out.assert_row("H1", &[("类别", "脱贫不稳定户")]);
}

/// A screening keeps only the member columns its rules read (memory at province scale), but
/// every declared column is still validated: a member whose 出生日期 is no date is rejected and
/// not counted, although no rule reads the birth date.
#[test]
fn a_member_with_a_bad_birth_date_is_rejected_though_no_rule_reads_it() {
    let mut fx = Fixture::new();
    let a = fx.person("戊一");
    fx.household(hh("H1", "脱贫户", &a).wage("12000")); // members.csv line 2: 戊一
    let b = fx.person("戊二");
    fx.record("members", &["H1", "戊二", &b.id, "配偶", b.sex(), "1980-02-30", "健康", "普通劳动力", "是"]); // line 3
    let out = fx.run();
    assert_has_reject(&out, &[("来源", "members"), ("文件", "members.csv"), ("行号", "3"), ("列", "出生日期"), ("值", "1980-02-30")]);
    // Only 戊一 counts: n = 1, NI = 12000, PCI = 12000.00 ≥ 6320, no trigger → not listed.
    // Counting 戊二 too would give 6000.00 < 6320: 脱贫不稳定户.
    let row = out.find_in("screened.csv", "H1").expect("H1 screened");
    assert_eq!((row.get("家庭人口"), row.get("人均纯收入")), ("1", "12000.00"));
    out.assert_not_listed("H1", "戊二 is rejected, so the per-capita income is 12000.00");
}

/// Canonical UTF-8 CSV takes the streaming scan. Blank lines (empty or white space only) and a
/// 合计 line are skipped and counted, and line numbers still count every line of the file.
#[test]
fn blank_and_total_lines_of_a_scanned_csv_are_skipped_counted_and_keep_line_numbers() {
    let mut fx = Fixture::new();
    let a = poor(&mut fx, "H1", "脱贫户", "己一");
    let b = poor(&mut fx, "H2", "脱贫户", "己二");
    let bad = with_wrong_check(&b.id);
    let text = format!(
        "证件号码,姓名,就诊日期,医疗总费用,报销金额,个人自付,病种,是否大病\n\
         {},己一,2021-03-01,9000.00,4000.00,5000.00,肺炎,否\n\
         ,,,,,,,\n\
         \x20 ,\u{3000},,,,,,\n\
         {},己二,2021-03-01,9000.00,4000.00,5000.00,肺炎,否\n\
         合计,,,18000.00,8000.00,10000.00,,\n",
        a.id, bad
    );
    fx.raw_file("medical.csv", text);
    let out = fx.run();
    // Line 2: H1's record, 5000 ≥ 4000 → 因病. Lines 3-4 blank, line 6 a total. Line 5: a wrong
    // check character, rejected at its own line.
    out.assert_row("H1", &[("风险类型", "因病")]);
    assert_has_reject(&out, &[("来源", "medical"), ("文件", "medical.csv"), ("行号", "5"), ("列", "证件号码"), ("值", bad.as_str())]);
    let medical = out.input("medical");
    let file = &medical["files"][0];
    assert_eq!((file["records"].as_u64(), file["skipped_blank_rows"].as_u64(), file["skipped_total_rows"].as_u64()), (Some(2), Some(2), Some(1)));
}

/// A canonical UTF-8 CSV is read strictly first (the fast way). A byte that is not UTF-8 past
/// the first 256 KB (which decide the encoding) makes fanpin read the file again with such bytes
/// as U+FFFD: only the row holding it is rejected, and every other row is still read.
#[test]
fn a_byte_that_is_not_utf8_deep_in_a_large_csv_rejects_only_its_row() {
    let mut fx = Fixture::new();
    let a = poor(&mut fx, "H1", "脱贫户", "庚一");
    let b = poor(&mut fx, "H2", "脱贫户", "庚二");
    let stranger = pid(900); // in no household: the filler records are unmatched
    let mut bytes = "证件号码,姓名,就诊日期,医疗总费用,报销金额,个人自付,病种,是否大病\n".as_bytes().to_vec();
    let filler = format!("{stranger},路人,2021-03-01,100.00,50.00,50.00,感冒,否\n");
    let n = 300 * 1024 / filler.len() + 1;
    for _ in 0..n {
        bytes.extend_from_slice(filler.as_bytes());
    }
    // Line n + 2: 庚一's record, with the byte 0xFF inside the name; line n + 3: 庚二's record.
    bytes.extend_from_slice(format!("{},庚", a.id).as_bytes());
    bytes.push(0xFF);
    bytes.extend_from_slice("一,2021-03-01,9000.00,4000.00,5000.00,肺炎,否\n".as_bytes());
    bytes.extend_from_slice(format!("{},庚二,2021-03-01,9000.00,4000.00,5000.00,肺炎,否\n", b.id).as_bytes());
    fx.raw_file("medical.csv", bytes);
    let out = fx.run();
    let line = (n + 2).to_string();
    assert_has_reject(&out, &[("来源", "medical"), ("行号", line.as_str()), ("列", "姓名"), ("值", "庚\u{fffd}一")]);
    // 庚二's self-paid 5000 ≥ 4000: 因病. 庚一's record is rejected, so H1 (listed for its
    // income) has no 因病.
    out.assert_row("H2", &[("风险类型", "因病")]);
    let h1 = out.find_in("flagged.csv", "H1").expect("H1 listed for its income");
    assert!(!h1.get("风险类型").contains("因病"), "{}", h1.render());
}

/// A U+FFFD already in a valid UTF-8 file (characters lost by a conversion before the export)
/// is a reject of its cell, as a byte that is not UTF-8 would be; the rest of the file is read.
#[test]
fn a_replacement_character_in_a_valid_utf8_file_rejects_its_cell() {
    let mut fx = Fixture::new();
    let a = poor(&mut fx, "H1", "脱贫户", "壬一");
    let b = poor(&mut fx, "H2", "脱贫户", "壬二");
    fx.record("medical", &[&a.id, "壬\u{fffd}", "2021-03-01", "9000.00", "4000.00", "5000.00", "肺炎", "否"]); // line 2
    fx.medical(&b, "2021-03-01", "5000.00", "否"); // line 3
    let out = fx.run();
    let reason = "含有无法识别的字符(文件不是UTF-8编码?)";
    assert_has_reject(&out, &[("来源", "medical"), ("行号", "2"), ("列", "姓名"), ("值", "壬\u{fffd}"), ("原因", reason)]);
    // 壬二's self-paid 5000 ≥ 4000: 因病; 壬一's record is rejected, so H1 has no 因病.
    out.assert_row("H2", &[("风险类型", "因病")]);
    let h1 = out.find_in("flagged.csv", "H1").expect("H1 listed for its income");
    assert!(!h1.get("风险类型").contains("因病"), "{}", h1.render());
}

/// A name typed with a trailing ideographic space (U+3000, what Chinese input methods leave) is
/// read trimmed, in the roster as in the extracts, and the person is still matched.
#[test]
fn an_ideographic_space_at_the_end_of_a_roster_name_is_trimmed() {
    let mut fx = Fixture::new();
    let a = poor(&mut fx, "H1", "脱贫户", "癸一\u{3000}");
    fx.medical(&a, "2021-03-01", "5000.00", "否");
    let out = fx.run();
    let row = out.find_in("flagged.csv", "H1").expect("H1 listed");
    assert_eq!(row.get("户主姓名"), "癸一", "{}", row.render());
    assert!(row.get("风险类型").contains("因病"), "{}", row.render());
    assert!(out.rejects().is_empty(), "{}", out.csv("rejects.csv").render());
}

/// 户编号 of the national system's form (16 digits) are compared as numbers; a member's 户编号
/// that reads as the same number but is another text (a sign, a leading zero) names no
/// household of the roster and is rejected, as a text comparison would.
#[test]
fn a_member_whose_household_number_differs_only_by_a_sign_or_a_leading_zero_is_not_joined() {
    let mut fx = Fixture::new();
    poor(&mut fx, "5226011010010001", "脱贫户", "庚一"); // members.csv line 2
    let b = fx.person("庚二");
    fx.member("+226011010010001", &b, "配偶"); // line 3: the number 226011010010001, another text
    let c = fx.person("庚三");
    fx.member("0226011010010001", &c, "子女"); // line 4: the same number with a leading zero
    let d = fx.person("庚四");
    fx.member("5226011010010001", &d, "子女"); // line 5: H1 itself
    let out = fx.run();
    for line in ["3", "4"] {
        assert_has_reject(&out, &[("来源", "members"), ("文件", "members.csv"), ("行号", line), ("列", "户编号")]);
    }
    // 庚一 and 庚四: n = 2, NI = 5000, PCI = 2500.00 < 6320 → 脱贫不稳定户.
    out.assert_row("5226011010010001", &[("家庭人口", "2"), ("人均纯收入", "2500.00"), ("类别", "脱贫不稳定户")]);
}

/// A roster whose 户编号 are not all numbers of one length without a leading zero is compared
/// as text throughout: `0226…` and `+226…` are two households, though both read as one number.
#[test]
fn household_numbers_that_read_as_the_same_number_are_still_two_households() {
    let mut fx = Fixture::new();
    poor(&mut fx, "5226011010010001", "脱贫户", "辛一");
    poor(&mut fx, "0226011010010001", "一般农户", "辛二");
    poor(&mut fx, "+226011010010001", "一般农户", "辛三");
    let d = fx.person("辛四");
    fx.member("+226011010010001", &d, "配偶");
    let out = fx.run();
    assert!(out.rejects().is_empty(), "{}", out.csv("rejects.csv").render());
    // NI 5000 each: 5226…: n = 1, PCI 5000.00 → 脱贫不稳定户; 0226…: n = 1 → 边缘易致贫户;
    // +226…: n = 2, PCI 2500.00 → 边缘易致贫户.
    out.assert_row("5226011010010001", &[("家庭人口", "1"), ("类别", "脱贫不稳定户")]);
    out.assert_row("0226011010010001", &[("家庭人口", "1"), ("人均纯收入", "5000.00"), ("类别", "边缘易致贫户")]);
    out.assert_row("+226011010010001", &[("家庭人口", "2"), ("人均纯收入", "2500.00"), ("类别", "边缘易致贫户")]);
}
