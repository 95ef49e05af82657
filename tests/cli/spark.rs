//! `--engine spark` (issue 16): the same rules and data give byte-identical outputs on Apache
//! Spark (local mode) and on the local engine. Spark is installed by `scripts/spark-setup.sh`,
//! which these tests call first: on a machine where it cannot run they fail saying why, never
//! skip. The Spark runs take one at a time (each is a JVM with a 4 GB driver on a 2-core machine).

use crate::support::*;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};

/// The outputs the contract names, and the other tables both engines write.
const SAME: [&str; 8] =
    ["flagged.csv", "new_leads.csv", "summary_by_township.csv", "summary_by_risk.csv", "rejects.csv", "unmatched.csv", "screened.csv", "coverage.csv"];

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Installs (or finds) the project's Spark once per test run; every Spark test waits on it.
fn spark() -> std::sync::MutexGuard<'static, ()> {
    static SETUP: OnceLock<Result<(), String>> = OnceLock::new();
    static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());
    let ready = SETUP.get_or_init(|| {
        let out = std::process::Command::new("bash").arg(root().join("scripts/spark-setup.sh")).output().map_err(|e| format!("cannot run bash: {e}"))?;
        if out.status.success() {
            Ok(())
        } else {
            Err(format!("scripts/spark-setup.sh failed ({}):\n{}", out.status, String::from_utf8_lossy(&out.stderr)))
        }
    });
    if let Err(why) = ready {
        panic!("the Spark tests need Spark, and its set-up failed: {why}");
    }
    ONE_AT_A_TIME.lock().unwrap_or_else(|p| p.into_inner())
}

fn screen(rules: &Path, data: &Path, out: &Path, engine: &[&str]) -> Ran {
    let r = ran(fanpin_cmd()
        .args(["screen", "-q", "--rules"])
        .arg(rules)
        .arg("--data")
        .arg(data)
        .arg("--out")
        .arg(out)
        .args(engine)
        .env("SPARK_LOCAL_IP", "127.0.0.1")
        .output()
        .unwrap());
    r.assert_code(0, &format!("screen {engine:?}"));
    r
}

/// Screens `data` with both engines and asserts every output in `SAME` is byte-identical (the
/// first differing line shown).
pub fn assert_engines_agree(rules: &Path, data: &Path) {
    let tmp = tempfile::tempdir().unwrap();
    let (local, spark_out) = (tmp.path().join("local"), tmp.path().join("spark"));
    screen(rules, data, &local, &[]);
    {
        let _one = spark();
        screen(rules, data, &spark_out, &["--engine", "spark", "--master", "local[2]"]);
    }
    for f in SAME {
        let (a, b) = (std::fs::read(local.join(f)).unwrap(), std::fs::read(spark_out.join(f)).unwrap());
        if a != b {
            let (a, b) = (String::from_utf8_lossy(&a), String::from_utf8_lossy(&b));
            let first = a.lines().zip(b.lines()).position(|(x, y)| x != y).unwrap_or(a.lines().count().min(b.lines().count()));
            panic!(
                "{f} differs between the engines ({} and {} lines), first at line {}:\nlocal: {:?}\nspark: {:?}",
                a.lines().count(),
                b.lines().count(),
                first + 1,
                a.lines().nth(first),
                b.lines().nth(first)
            );
        }
    }
    let manifest = std::fs::read_to_string(spark_out.join("manifest.json")).unwrap();
    assert!(manifest.contains("\"name\": \"spark\"") && manifest.contains("\"job_sha256\""), "the manifest names the engine:\n{manifest}");
}

#[test]
fn the_sample_county_screens_byte_for_byte_the_same_on_spark() {
    assert_engines_agree(Path::new(RULES), &root().join("sample-data/county-2021"));
}

#[test]
fn a_generated_20000_household_county_with_messy_cells_screens_the_same_on_spark() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("county");
    let g = ran(fanpin_cmd().args(["generate", "--households", "20000", "--seed", "16", "--messy", "--out"]).arg(&data).output().unwrap());
    g.assert_code(0, "generate");
    assert_engines_agree(Path::new(RULES), &data);
}

#[test]
fn the_policy_library_screens_the_same_on_spark() {
    for stem in ["township-grades-2020", "yangyuan-2022", "xian-2025", "dehua-2024"] {
        assert_engines_agree(&root().join(format!("rules/{stem}.toml")), &root().join(format!("sample-data/policies/{stem}")));
    }
}

#[test]
fn compile_writes_one_job_that_reads_every_table_under_a_cluster_uri() {
    let r = ran(fanpin_cmd()
        .args(["compile", "--target", "spark-sql", "--rules", RULES, "--data", "hdfs://nn/county", "--results", "hdfs://nn/out/run1"])
        .output()
        .unwrap());
    r.assert_code(0, "compile");
    for needle in [
        "spark.sql.ansi.enabled=true",
        "hdfs://nn/county/households.csv",
        "hdfs://nn/county/medical.csv",
        "INSERT OVERWRITE DIRECTORY 'hdfs://nn/out/run1/listed'",
    ] {
        assert!(r.stdout.contains(needle), "the job has {needle:?}:\n{}", &r.stdout[..r.stdout.len().min(3000)]);
    }
    assert!(!r.stdout.contains(" / "), "no decimal division anywhere in the job (money is divided as integers)");
}

#[test]
fn a_job_spark_cannot_run_is_one_readable_paragraph_and_the_job_is_kept() {
    let _one = spark();
    let tmp = tempfile::tempdir().unwrap();
    let r = ran(fanpin_cmd()
        .args(["screen", "-q", "--rules", RULES, "--data"])
        .arg(root().join("sample-data/county-2021"))
        .arg("--out")
        .arg(tmp.path().join("out"))
        .args(["--engine", "spark", "--master", "nonsense://nowhere"])
        .output()
        .unwrap());
    assert_ne!(r.code, Some(0), "{}", r.show());
    assert_no_panic(&r.stderr);
    assert!(r.stderr.contains("Master must"), "Spark's own reason is shown: {}", r.show());
    assert!(!r.stderr.contains("\tat "), "no JVM stack: {}", r.show());
    let kept = r.stderr.split("kept in ").nth(1).and_then(|s| s.split(" (").next()).unwrap_or_else(|| panic!("names where the job is kept: {}", r.show()));
    assert!(Path::new(kept).join("job.sql").is_file(), "the job is kept at {kept}");
    assert!(!tmp.path().join("out").join("flagged.csv").exists(), "nothing is published by a failed run");
    let _ = std::fs::remove_dir_all(kept);
}

#[test]
fn compile_refuses_a_workbook_source_naming_it_rather_than_compiling_a_different_job() {
    // The extracts sample's medical source is an Excel workbook (its sources.toml names a sheet).
    let r = ran(fanpin_cmd()
        .args(["compile", "--target", "spark-sql", "--rules", RULES, "--data"])
        .arg(root().join("sample-data/county-2021-extracts"))
        .args(["--results", "/tmp/nowhere"])
        .output()
        .unwrap());
    assert_ne!(r.code, Some(0), "{}", r.show());
    assert_no_panic(&r.stderr);
    assert!(r.stderr.contains("Excel") && r.stderr.contains("medical"), "names the construct and the source: {}", r.show());
    assert!(r.stdout.is_empty(), "no job is written: {}", r.show());
}
