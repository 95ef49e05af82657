//! The reading half compared with the local engine: every table of a rules file read from a
//! data directory by both, their valid rows (every value, as text), rejects (in order) and
//! per-file counts compared. Needs Spark: `FANPIN_SPARK_DATA=DIR [FANPIN_SPARK_RULES=FILE]
//! cargo test spark::read::tests -- --ignored --nocapture` (SPARK_HOME, or the project's
//! `.spark/venv`).

use super::{ident, table_sql};
use crate::rules::plan::Table;
use crate::sources::{self, read::FILE, read::LINE};
use crate::spark::roster::roster_sql;
use polars::prelude::*;
use std::path::{Path, PathBuf};

type Rows = Vec<Vec<Option<String>>>;

/// Every column of `df` as text, row by row.
fn frame_rows(df: &DataFrame, columns: &[String]) -> Rows {
    let cols: Vec<Vec<Option<String>>> = columns
        .iter()
        .map(|c| {
            let s = df.column(c).expect("column").cast(&DataType::String).expect("as text");
            let ca = s.str().expect("text").clone();
            (0..ca.len()).map(|i| ca.get(i).map(str::to_string)).collect()
        })
        .collect();
    (0..df.height()).map(|r| cols.iter().map(|c| c[r].clone()).collect()).collect()
}

/// The rows Spark wrote as JSON lines into `dir`, the fields `columns` as text.
fn json_rows(dir: &Path, columns: &[String]) -> Rows {
    let mut files: Vec<PathBuf> =
        std::fs::read_dir(dir).expect("output").map(|e| e.unwrap().path()).filter(|p| p.extension().is_some_and(|e| e == "json")).collect();
    files.sort();
    let mut rows = Vec::new();
    for f in files {
        for line in std::fs::read_to_string(f).unwrap().lines() {
            let v: serde_json::Value = serde_json::from_str(line).unwrap();
            rows.push(
                columns
                    .iter()
                    .map(|c| match &v[c.as_str()] {
                        serde_json::Value::Null => None,
                        serde_json::Value::String(s) => Some(s.clone()),
                        other => Some(other.to_string()),
                    })
                    .collect(),
            );
        }
    }
    rows
}

/// Rows whose last two values are the file and line, in that order.
fn by_file_line(mut rows: Rows) -> Rows {
    let key = |r: &Vec<Option<String>>| (r[r.len() - 2].clone(), r[r.len() - 1].as_ref().map(|l| l.parse::<i64>().unwrap()));
    rows.sort_by_key(key);
    rows
}

/// Rows whose last value is `__order`, in that order, without it.
fn by_order(mut rows: Rows) -> Rows {
    rows.sort_by_key(|r| r[r.len() - 1].as_ref().map(|l| l.parse::<i64>().unwrap()));
    rows.into_iter()
        .map(|mut r| {
            r.pop();
            r
        })
        .collect()
}

fn spark_home() -> PathBuf {
    std::env::var_os("SPARK_HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join(".spark/venv/lib/python3.11/site-packages/pyspark"))
}

/// Runs a script with spark-sql in a temporary directory; panics with its output on failure.
pub fn run_spark(script: &str) -> String {
    let dir = tempfile::tempdir().unwrap();
    let job = dir.path().join("job.sql");
    std::fs::write(&job, script).unwrap();
    let out = std::process::Command::new(spark_home().join("bin/spark-sql"))
        .current_dir(dir.path())
        .env("SPARK_LOCAL_IP", "127.0.0.1")
        .args([
            "--master",
            "local[2]",
            "--conf",
            "spark.sql.ansi.enabled=true",
            "--conf",
            "spark.sql.legacy.javaCharsets=true",
            "--conf",
            "spark.ui.enabled=false",
            "--driver-memory",
            "4g",
            "-f",
        ])
        .arg(&job)
        .output()
        .expect("spark-sql runs");
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(
        out.status.success() && !text.contains("Error in query"),
        "spark-sql failed:\n{}",
        text.lines().filter(|l| !l.trim_start().starts_with("at ")).collect::<Vec<_>>().join("\n")
    );
    text
}

fn export(sql: &mut String, out: &Path, name: &str, select: &str) {
    sql.push_str(&format!("INSERT OVERWRITE DIRECTORY '{}' USING json {select};\n", out.join(name).display()));
}

fn uri(p: &Path) -> String {
    format!("file:{}", std::fs::canonicalize(p).unwrap().display())
}

/// The tables' files as the local engine resolves them, with the names it shows.
pub fn files_of(t: &Table, dir: &Path) -> Vec<(String, String)> {
    sources::read::resolve_table(t, dir).unwrap().iter().map(|p| (uri(p), p.strip_prefix(dir).unwrap().to_string_lossy().into_owned())).collect()
}

fn compare(what: &str, local: &Rows, spark: &Rows) -> usize {
    if local == spark {
        println!("{what}: {} rows equal", local.len());
        return 0;
    }
    println!("{what}: local {} rows, spark {} rows DIFFER", local.len(), spark.len());
    let mut shown = 0;
    for i in 0..local.len().max(spark.len()) {
        if local.get(i) != spark.get(i) && shown < 8 {
            println!("  #{i}\n    local {:?}\n    spark {:?}", local.get(i), spark.get(i));
            shown += 1;
        }
    }
    1
}

#[test]
#[ignore = "needs Spark; FANPIN_SPARK_DATA=DIR"]
fn every_table_reads_as_the_local_engine_reads_it() {
    let dir = PathBuf::from(std::env::var("FANPIN_SPARK_DATA").expect("FANPIN_SPARK_DATA"));
    let rules = std::env::var("FANPIN_SPARK_RULES").unwrap_or_else(|_| concat!(env!("CARGO_MANIFEST_DIR"), "/rules/guizhou-2021.toml").into());
    let plan = crate::rules::load(Path::new(&rules), Some(&dir), None).map_err(|e| e.to_string()).unwrap().plan;
    let out = tempfile::tempdir().unwrap();
    let mut sql = String::new();
    let mut expected = Vec::new();
    let mut tables: Vec<(&Table, String)> = vec![(&plan.roster.households, "hh_in".into()), (&plan.roster.members, "mem_in".into())];
    tables.extend(plan.sources.iter().map(|s| (&s.table, format!("src_{}", s.table.name))));
    for (t, view) in &tables {
        let files = files_of(t, &dir);
        let script = match table_sql(t, &files, view, &out.path().join("_work").to_string_lossy()) {
            Ok(s) => s,
            Err(e) => {
                println!("{}: refused: {e}", t.name);
                continue;
            }
        };
        sql.push_str(&script);
        let data = sources::load_table(t, &dir).unwrap();
        let mut columns: Vec<String> = t.columns.iter().map(|c| c.name.clone()).collect();
        columns.extend([FILE.to_string(), LINE.to_string()]);
        let local_valid = by_file_line(frame_rows(&data.valid, &columns));
        let cast: Vec<String> = columns.iter().map(|c| format!("CAST({0} AS STRING) AS {0}", ident(c))).collect();
        export(&mut sql, out.path(), &format!("{view}.valid"), &format!("SELECT {} FROM {} ORDER BY __file, __line", cast.join(", "), ident(view)));
        let reject_columns: Vec<String> = sources::REJECT_COLUMNS.iter().map(|s| s.to_string()).collect();
        let mut cast: Vec<String> = reject_columns.iter().map(|c| format!("CAST({0} AS STRING) AS {0}", ident(c))).collect();
        cast.push("__order".into());
        export(&mut sql, out.path(), &format!("{view}.rejects"), &format!("SELECT {} FROM {} ", cast.join(", "), ident(&format!("{view}_rejects"))));
        export(&mut sql, out.path(), &format!("{view}.files"), &format!("SELECT file, CAST(records AS STRING) AS records, CAST(skipped_blank AS STRING) AS skipped_blank, CAST(skipped_total AS STRING) AS skipped_total FROM {} ORDER BY file", ident(&format!("{view}_files"))));
        let files: Rows = data
            .files
            .iter()
            .map(|f| vec![Some(f.file.clone()), Some(f.records.to_string()), Some(f.skipped_blank.to_string()), Some(f.skipped_total.to_string())])
            .collect();
        expected.push((view.clone(), columns, local_valid, frame_rows(&data.rejects, &reject_columns), reject_columns, files));
    }
    let roster = roster_sql(&plan);
    if let Ok(r) = &roster {
        sql.push_str(r);
        let mut cast: Vec<String> = sources::REJECT_COLUMNS.iter().map(|c| format!("CAST({0} AS STRING) AS {0}", ident(c))).collect();
        cast.push("__order".into());
        export(&mut sql, out.path(), "roster.rejects", &format!("SELECT {} FROM roster_rejects", cast.join(", ")));
        export(
            &mut sql,
            out.path(),
            "roster.counts",
            "SELECT (SELECT count(*) FROM hh) AS hh, (SELECT count(*) FROM mem) AS mem, (SELECT count_if(__co) FROM mem) AS co",
        );
    }
    if let Some(keep) = std::env::var_os("FANPIN_SPARK_KEEP") {
        std::fs::write(keep, &sql).unwrap();
    }
    let started = std::time::Instant::now();
    run_spark(&sql);
    println!("spark-sql: {:.1} s, script {} bytes", started.elapsed().as_secs_f64(), sql.len());
    let mut differ = 0;
    for (view, columns, valid, rejects, reject_columns, files) in &expected {
        differ += compare(&format!("{view} valid"), valid, &by_file_line(json_rows(&out.path().join(format!("{view}.valid")), columns)));
        let with_order: Vec<String> = reject_columns.iter().cloned().chain(["__order".to_string()]).collect();
        differ += compare(&format!("{view} rejects"), rejects, &by_order(json_rows(&out.path().join(format!("{view}.rejects")), &with_order)));
        let file_columns: Vec<String> = ["file", "records", "skipped_blank", "skipped_total"].iter().map(|s| s.to_string()).collect();
        differ += compare(&format!("{view} files"), files, &json_rows(&out.path().join(format!("{view}.files")), &file_columns));
    }
    match roster {
        Ok(_) => {
            let r = crate::households::build(&plan, &dir, crate::households::Keep::All, |_| {}).unwrap();
            let reject_columns: Vec<String> = sources::REJECT_COLUMNS.iter().map(|s| s.to_string()).collect();
            let with_order: Vec<String> = reject_columns.iter().cloned().chain(["__order".to_string()]).collect();
            differ +=
                compare("roster rejects", &frame_rows(&r.rejects, &reject_columns), &by_order(json_rows(&out.path().join("roster.rejects"), &with_order)));
            let co = r.members.column(crate::households::CO_RESIDENT).unwrap().bool().unwrap().sum().unwrap_or(0);
            let local = vec![vec![Some(r.households.height().to_string()), Some(r.members.height().to_string()), Some(co.to_string())]];
            let names: Vec<String> = ["hh", "mem", "co"].iter().map(|s| s.to_string()).collect();
            differ += compare("roster counts (hh, mem, co-resident)", &local, &json_rows(&out.path().join("roster.counts"), &names));
        }
        Err(e) => println!("roster: {e}"),
    }
    assert_eq!(differ, 0, "{differ} comparisons differ");
}
