//! The policy library (rules/): every rules file checks clean and passes its own cases, and each
//! policy's sample county (sample-data/policies/<rules file>/) screens to the categories worked
//! out by hand in its expected.csv (`户编号,类别,列出`; the arithmetic is in expected.md).

use crate::support::*;
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Every rules file of the library (not the cases files).
fn library() -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(root().join("rules"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml") && !p.to_string_lossy().ends_with(".cases.toml"))
        .collect();
    out.sort();
    out
}

#[test]
fn every_rules_file_of_the_library_checks_clean_and_passes_its_cases() {
    let files = library();
    assert!(files.len() >= 5, "the library holds the reference policy and at least four more: {files:?}");
    for rules in files {
        assert!(crate::support::cases_beside(&rules).is_file(), "{} has no cases file beside it", rules.display());
        let out = fanpin_cmd().arg("check").arg(&rules).output().unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert_eq!(out.status.code(), Some(0), "{}:\n{stdout}\n{}", rules.display(), String::from_utf8_lossy(&out.stderr));
        assert!(stdout.lines().last().unwrap_or("").ends_with(" passed, 0 failed"), "{}:\n{stdout}", rules.display());
    }
}

/// `户编号 → (类别, 列出)` from a policy's expected.csv.
fn expected(dir: &Path) -> Vec<(String, String, String)> {
    let text = std::fs::read_to_string(dir.join("expected.csv")).unwrap();
    let mut rdr = csv::Reader::from_reader(text.trim_start_matches('\u{feff}').as_bytes());
    assert_eq!(rdr.headers().unwrap().iter().collect::<Vec<_>>(), ["户编号", "类别", "列出"], "{}", dir.display());
    rdr.records().map(|r| r.unwrap()).map(|r| (r[0].to_string(), r[1].to_string(), r[2].to_string())).collect()
}

#[test]
fn each_library_policy_screens_its_sample_county_to_the_hand_worked_categories() {
    let samples = root().join("sample-data/policies");
    let mut seen = 0;
    for rules in library() {
        let stem = rules.file_stem().unwrap().to_string_lossy().to_string();
        let dir = samples.join(&stem);
        if !dir.is_dir() {
            continue;
        }
        seen += 1;
        let tmp = tempfile::tempdir().unwrap();
        let data = tmp.path().join("data");
        copy_dir(&dir, &data);
        let out = screen_with(tmp, data, &rules, &[]);
        let screened = out.csv("screened.csv");
        let listed = out.listed();
        let want = expected(&dir);
        let keys = screened.column("户编号");
        assert_eq!(keys.len(), want.len(), "{stem}: every household of households.csv is in expected.csv");
        let mut got_text = String::new();
        let mut want_text = String::new();
        for (key, category, shown) in &want {
            let row = screened.records().into_iter().find(|r| r.get("户编号") == key);
            let got_category = row.map(|r| r.get("类别").to_string()).unwrap_or_else(|| "(not screened)".into());
            let got_shown = if listed.contains(key) { "是" } else { "否" };
            want_text.push_str(&format!("{key},{category},{shown}\n"));
            got_text.push_str(&format!("{key},{got_category},{got_shown}\n"));
        }
        assert_text(&want_text, &got_text, &format!("{stem}: 类别 and 列出"));
    }
    assert!(seen >= 4, "sample counties found for {seen} library policies");
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let p = e.unwrap().path();
        let name = p.file_name().unwrap();
        if name == "expected.csv" || name == "expected.md" {
            continue;
        }
        std::fs::copy(&p, to.join(name)).unwrap();
    }
}
