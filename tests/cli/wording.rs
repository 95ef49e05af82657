//! Issue 15, items 18, 19 and 23: policy sentences come from the rules file, diagnostics name
//! the right file and position, and the test harness itself cannot pass by accident.

use crate::support::*;

// ---------------------------------------------------------------- the harness (item 23)

fn rejected_household() -> Outcome {
    let mut fx = Fixture::new();
    let a = fx.person("甲一");
    fx.household(hh("H1", "一般农户", &a).wage("20000"));
    let b = fx.person("乙一");
    // An unreadable amount: the household row is rejected, so H2 is neither screened nor listed.
    fx.household(hh("H2", "一般农户", &b).wage("2万"));
    fx.run()
}

#[test]
#[should_panic(expected = "not in screened.csv")]
fn assert_not_listed_fails_for_a_rejected_household() {
    rejected_household().assert_not_listed("H2", "a rejected household is not a screened one");
}

#[test]
fn assert_not_listed_passes_for_a_screened_household_above_the_line() {
    let out = rejected_household();
    // 20000.00 ≥ 6320.00: screened, not listed.
    out.assert_not_listed("H1", "PCI 20000.00 ≥ 6320");
    out.assert_not_screened("H2", "its 工资性收入 2万 is unreadable");
}

#[test]
fn every_integration_test_spawns_the_binary_through_the_one_builder() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/cli");
    let mut offenders = Vec::new();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "rs") || path.ends_with("support.rs") {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        for (n, line) in text.lines().enumerate() {
            let code = line.split("//").next().unwrap_or("");
            if code.contains(&format!("Command::new({}", "BIN")) || code.contains(&format!("{}!(\"CARGO_BIN_EXE", "env")) {
                offenders.push(format!("{}:{}: {}", path.display(), n + 1, line.trim()));
            }
        }
    }
    assert!(offenders.is_empty(), "spawn fanpin with support::fanpin_cmd(), not by hand:\n{}", offenders.join("\n"));
}

// ---------------------------------------------------------------- diagnostics (item 19)

/// A data directory of one household (20000.00, not listed) and whatever `extra` adds.
fn data_dir(extra: impl FnOnce(&std::path::Path)) -> (tempfile::TempDir, std::path::PathBuf) {
    let mut fx = Fixture::new();
    let a = fx.person("甲一");
    fx.household(hh("H1", "一般农户", &a).wage("20000"));
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    fx.write_data(&data);
    extra(&data);
    (tmp, data)
}

fn check_with_data(rules: &std::path::Path, data: &std::path::Path) -> (Option<i32>, String) {
    let o = fanpin_cmd().arg("check").arg(rules).arg("--data").arg(data).output().unwrap();
    (o.status.code(), String::from_utf8_lossy(&o.stderr).into_owned())
}

#[test]
fn a_synonym_error_in_sources_toml_is_reported_at_its_line_in_sources_toml() {
    // Line 3 of sources.toml opens the medical table; 是否大病 is enum(是, 否), so 可能 is no value
    // of it, and 个人自付 is money, which takes no synonyms.
    let text = "# county overrides\n\n[sources.medical]\nread = { synonyms = { \"是否大病\" = { \"可能\" = [\"Y\"] } } }\n\n[sources.education]\nread = { synonyms = { \"自付费用\" = { \"1\" = [\"一\"] } } }\n";
    let (_tmp, data) = data_dir(|d| std::fs::write(d.join("sources.toml"), text).unwrap());
    let (code, err) = check_with_data(std::path::Path::new(RULES), &data);
    assert_eq!(code, Some(3), "{err}");
    let sources = data.join("sources.toml").display().to_string();
    assert!(err.contains(&format!("{sources}:3:1: ")) && err.contains("'可能'"), "{err}");
    assert!(err.contains(&format!("{sources}:6:1: ")) && err.contains("'自付费用'"), "{err}");
    assert!(!err.contains("guizhou-2021.toml:"), "an error of sources.toml placed in the rules file:\n{err}");
}

#[test]
fn a_missing_sheet_is_named_plainly() {
    let (tmp, data) = data_dir(|d| {
        let mut wb = rust_xlsxwriter::Workbook::new();
        let sheet = wb.add_worksheet();
        sheet.set_name("汇总").unwrap();
        sheet.write_row(0, 0, header_of("disability").iter().copied()).unwrap();
        wb.save(d.join("disability.xlsx")).unwrap();
        std::fs::remove_file(d.join("disability.csv")).ok();
        std::fs::write(d.join("sources.toml"), "[sources.disability]\nfile = \"disability.xlsx\"\nread = { sheet = \"明细\" }\n").unwrap();
    });
    let o = fanpin_cmd().args(["screen", "--rules", RULES, "-q", "--data"]).arg(&data).arg("--out").arg(tmp.path().join("out")).output().unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(6), "{err}");
    assert!(err.contains("disability.xlsx: no sheet 明细; the workbook has: 汇总"), "{err}");
    assert!(!err.contains("Some(") && !err.contains("Name("), "{err}");
}

#[test]
fn a_rules_file_with_invalid_utf8_names_the_line_and_byte_offset() {
    let tmp = tempfile::tempdir().unwrap();
    let mut bytes = std::fs::read(RULES).unwrap();
    // Line 2 becomes `# ·\xFF`: the invalid byte is at offset 2 + "# ·".len() = 2 + 4 of line 2.
    let line2 = bytes.iter().position(|b| *b == b'\n').unwrap() + 1;
    let tail = bytes.split_off(line2);
    bytes.extend_from_slice("# ·".as_bytes());
    bytes.push(0xFF);
    bytes.push(b'\n');
    bytes.extend(tail);
    let rules = tmp.path().join("bad.toml");
    std::fs::write(&rules, &bytes).unwrap();
    let o = fanpin_cmd().arg("check").arg(&rules).output().unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(3), "{err}");
    let offset = line2 + 4;
    // Column 4: `#`, space, `·`, then the bad byte.
    assert!(err.contains(&format!("{}:2:4: invalid UTF-8 at byte offset {offset} (byte 0xFF)", rules.display())), "{err}");
}

#[test]
fn a_sources_toml_with_invalid_utf8_names_it_and_the_position() {
    let (_tmp, data) = data_dir(|d| std::fs::write(d.join("sources.toml"), b"[sources.medical]\nfile = \"m\xE9dical.csv\"\n").unwrap());
    let (code, err) = check_with_data(std::path::Path::new(RULES), &data);
    assert_eq!(code, Some(3), "{err}");
    // Offset 18 + `file = "m`.len() 9 = 27, line 2 column 10.
    assert!(err.contains(&format!("{}:2:10: invalid UTF-8 at byte offset 27 (byte 0xE9)", data.join("sources.toml").display())), "{err}");
}
