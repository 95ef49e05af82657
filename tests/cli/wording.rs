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
