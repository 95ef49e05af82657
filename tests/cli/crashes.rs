//! Issue 15, items 9 and 10: nothing crashes and nothing exhausts the machine, whatever the rules
//! file or the extract holds. A run without any household left finishes with empty outputs; a
//! rules expression nested or long past the documented limits is a positioned error; a workbook
//! declaring a far cell is read by its cells, not by its declared size.

use crate::support::*;
use std::path::Path;
use std::process::{Command, Output};

fn run(args: &[&std::ffi::OsStr]) -> Output {
    Command::new(BIN).args(args).output().expect("failed to start fanpin")
}

fn text(o: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

/// Runs `screen` with the reference rules on `data`, writing into `out`.
fn screen_dir(data: &Path, out: &Path) -> Output {
    run(&["screen".as_ref(), "--rules".as_ref(), RULES.as_ref(), "--data".as_ref(), data.as_os_str(), "--out".as_ref(), out.as_os_str(), "-q".as_ref()])
}

/// The lines of an output CSV after its header (the BOM and header line dropped).
fn data_lines(out: &Path, name: &str) -> Vec<String> {
    let bytes = std::fs::read(out.join(name)).unwrap_or_else(|e| panic!("{name}: {e}"));
    assert!(bytes.starts_with(BOM), "{name} has no BOM");
    let text = String::from_utf8(bytes[BOM.len()..].to_vec()).unwrap();
    let mut lines = text.lines();
    let header = lines.next().unwrap_or_default();
    assert!(!header.is_empty(), "{name} has no header line");
    lines.map(str::to_string).collect()
}

// ---------------------------------------------------------------- no household left

#[test]
fn a_header_only_roster_screens_to_empty_outputs_with_headers() {
    // households.csv and members.csv hold their header line only: nothing to screen, exit 0.
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    Fixture::new().write_data(&data);
    let out = tmp.path().join("out");
    let o = screen_dir(&data, &out);
    assert!(!text(&o).contains("panicked"), "{}", text(&o));
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    for name in ["flagged.csv", "screened.csv", "new_leads.csv", "rejects.csv", "unmatched.csv"] {
        assert_eq!(data_lines(&out, name), Vec::<String>::new(), "{name}");
    }
    // the header of screened.csv is there, as documented
    let screened = std::fs::read_to_string(out.join("screened.csv")).unwrap();
    assert!(screened.contains("乡镇,村,户编号,户主姓名"), "{screened}");
}

#[test]
fn a_roster_whose_every_household_is_rejected_screens_to_empty_outputs() {
    // two rows with the same 户编号: both are rejected (duplicate 户编号), so no household is left
    let mut f = Fixture::new();
    let a = f.person("甲");
    let b = f.person("乙");
    f.household(hh("5226011010010001", "一般农户", &a));
    f.household(hh("5226011010010001", "一般农户", &b));
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    f.write_data(&data);
    let out = tmp.path().join("out");
    let o = screen_dir(&data, &out);
    assert!(!text(&o).contains("panicked"), "{}", text(&o));
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert_eq!(data_lines(&out, "screened.csv"), Vec::<String>::new());
    assert_eq!(data_lines(&out, "flagged.csv"), Vec::<String>::new());
    // both household rows (lines 2 and 3) are in rejects.csv
    let rejects = data_lines(&out, "rejects.csv");
    assert!(rejects.iter().any(|l| l.contains("households.csv,2,")), "{rejects:?}");
    assert!(rejects.iter().any(|l| l.contains("households.csv,3,")), "{rejects:?}");
}
