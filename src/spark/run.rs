//! Submitting the job and reading its results back as the local engine's `Roster` and
//! `Outcome`: everything after that (the CSV files, report.xlsx, the manifest) is written by the
//! same code as a local run.

use super::results::{all, read, Kind};
use crate::evaluate::{Outcome, SourceStats, UNMATCHED_COLUMNS};
use crate::frame::columns as c;
use crate::households::Roster;
use crate::rules::plan::{Plan, Table};
use crate::sources::read::{empty_info, resolve_table, FileInfo};
use crate::sources::{sha256_file, TableData, REJECT_COLUMNS};
use anyhow::{anyhow, bail, Context, Result};
use polars::prelude::*;
use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// How to reach Spark.
pub struct Options {
    /// `local[*]`, `yarn`, `k8s://…`, `spark://…`.
    pub master: String,
    /// A Spark installation (its `bin/spark-submit`); default: `$SPARK_HOME`, then the project's
    /// own (`scripts/spark-setup.sh`).
    pub spark_home: Option<PathBuf>,
}

/// What the manifest says about the engine.
pub struct Engine {
    pub spark_version: String,
    pub job_sha256: String,
    pub master: String,
}

/// The project's virtual environment made by `scripts/spark-setup.sh`.
fn project_venv() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(".spark").join("venv")
}

/// The Spark home to submit with, and the Python that has pyspark (the project's, when its
/// Spark is used).
fn spark_home(opts: &Options) -> Result<(PathBuf, Option<PathBuf>)> {
    if let Some(h) = &opts.spark_home {
        return Ok((h.clone(), None));
    }
    if let Some(h) = std::env::var_os("SPARK_HOME") {
        return Ok((PathBuf::from(h), None));
    }
    let venv = project_venv();
    let lib = venv.join("lib");
    let found = std::fs::read_dir(&lib)
        .ok()
        .and_then(|d| d.filter_map(|e| e.ok()).map(|e| e.path().join("site-packages").join("pyspark")).find(|p| p.join("bin").join("spark-submit").is_file()));
    match found {
        Some(h) => Ok((h, Some(venv.join("bin").join("python")))),
        None => bail!("no Spark found: give --spark-home DIR or set SPARK_HOME, or install the project's Spark with `bash scripts/spark-setup.sh`"),
    }
}

/// Each file of a table as (absolute path, name shown in 文件).
fn files_of(table: &Table, data: &Path) -> Result<Vec<(String, String)>> {
    let data = data.canonicalize().with_context(|| format!("the data directory {}", data.display()))?;
    resolve_table(table, &data)?
        .into_iter()
        .map(|p| {
            let shown = p.strip_prefix(&data).unwrap_or(&p).to_string_lossy().replace('\\', "/");
            let abs = p.to_str().ok_or_else(|| anyhow!("the path {} is not valid UTF-8", p.display()))?.to_string();
            Ok((abs, shown))
        })
        .collect()
}

pub fn inputs(plan: &Plan, data: &Path) -> Result<super::Inputs> {
    Ok(super::Inputs {
        households: files_of(&plan.roster.households, data)?,
        members: files_of(&plan.roster.members, data)?,
        sources: plan.sources.iter().map(|s| files_of(&s.table, data)).collect::<Result<_>>()?,
    })
}

/// A directory for one job: the job, the runner, Spark's working files and the results.
fn job_dir() -> Result<PathBuf> {
    // Named without a long run of digits: messages that show the path have ID-like numbers masked.
    let stamp = chrono::Utc::now().format("%Y%m%dT%H%M%S");
    let dir = std::env::temp_dir().join(format!("fanpin-spark-{stamp}-p{}", std::process::id()));
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    Ok(dir)
}

/// Compiles, submits and reads back. `progress` gets each step's label as the job reaches it.
pub fn screen(plan: &Plan, data: &Path, opts: &Options, mut progress: impl FnMut(&str)) -> Result<(Roster, Outcome, Engine)> {
    let inputs = inputs(plan, data)?;
    for (t, f) in [(&plan.roster.households, &inputs.households), (&plan.roster.members, &inputs.members)] {
        if f.is_empty() {
            return Err(
                anyhow!("{} ({}): no file matches {} in {}", t.name, t.label, t.read.pattern, data.display()).context(crate::sources::InputProblem::Missing)
            );
        }
    }
    for (s, f) in plan.sources.iter().zip(&inputs.sources) {
        if s.required && f.is_empty() {
            return Err(anyhow!(
                "{} ({}): no file matches {} in {}, and the rules mark the source required",
                s.table.name,
                s.table.label,
                s.table.read.pattern,
                data.display()
            )
            .context(crate::sources::InputProblem::Missing));
        }
    }
    let dir = job_dir()?;
    let results = dir.join("results");
    let job = super::compile(plan, &inputs, results.to_str().ok_or_else(|| anyhow!("the temporary directory is not valid UTF-8"))?)?;
    let job_path = dir.join("job.sql");
    std::fs::write(&job_path, &job)?;
    std::fs::write(dir.join("runner.py"), include_str!("runner.py"))?;
    let spark_version = submit(&dir, opts, &mut progress)?;
    let (roster, outcome) = read_back(plan, &inputs, &results)?;
    let engine = Engine { spark_version, job_sha256: sha256_file(&job_path)?, master: opts.master.clone() };
    // The job and its results are only kept when it fails.
    let _ = std::fs::remove_dir_all(&dir);
    Ok((roster, outcome, engine))
}

/// Runs the job with spark-submit; returns Spark's version.
fn submit(dir: &Path, opts: &Options, progress: &mut impl FnMut(&str)) -> Result<String> {
    let (home, python) = spark_home(opts)?;
    let submit = home.join("bin").join("spark-submit");
    let mut cmd = Command::new(&submit);
    cmd.current_dir(dir).arg("--master").arg(&opts.master);
    for (k, v) in super::CONF {
        cmd.arg("--conf").arg(format!("{k}={v}"));
    }
    cmd.args(["--conf", "spark.ui.enabled=false", "--driver-memory", &std::env::var("FANPIN_SPARK_DRIVER_MEMORY").unwrap_or_else(|_| "4g".into())]);
    cmd.arg("runner.py").arg("job.sql");
    cmd.env("SPARK_HOME", &home);
    // Local mode needs no network: a host name that does not resolve must not stop it.
    if opts.master.starts_with("local") && std::env::var_os("SPARK_LOCAL_IP").is_none() {
        cmd.env("SPARK_LOCAL_IP", "127.0.0.1");
    }
    if let Some(py) = python {
        cmd.env("PYSPARK_PYTHON", &py).env("PYSPARK_DRIVER_PYTHON", &py);
    }
    let log = std::fs::File::create(dir.join("spark.log"))?;
    cmd.stdout(Stdio::piped()).stderr(Stdio::from(log));
    let mut child = cmd.spawn().with_context(|| format!("starting {}", submit.display()))?;
    let stdout = child.stdout.take().ok_or_else(|| anyhow!("no output from spark-submit"))?;
    let (mut version, mut error) = (String::new(), None);
    for line in std::io::BufReader::new(stdout).lines() {
        let line = line?;
        if let Some(v) = line.strip_prefix("fanpin-version ") {
            version = v.to_string();
        } else if let Some(s) = line.strip_prefix("fanpin-step ") {
            progress(s);
        } else if let Some(e) = line.strip_prefix("fanpin-error ") {
            error = Some(crate::log::scrub(e));
        }
    }
    let status = child.wait()?;
    if let Some(e) = error {
        bail!("the Spark job failed at {e}\nThe job and Spark's log are kept in {} (job.sql, spark.log).", dir.display());
    }
    if !status.success() {
        let why = first_error(&dir.join("spark.log")).unwrap_or_else(|| format!("spark-submit ended with {status}"));
        bail!("the Spark job did not run to its end: {why}\nThe job and Spark's log are kept in {} (job.sql, spark.log).", dir.display());
    }
    Ok(version)
}

/// The first line of Spark's log that names an error, without the stack under it.
fn first_error(log: &Path) -> Option<String> {
    let text = std::fs::read_to_string(log).ok()?;
    let line = text.lines().map(str::trim).find(|l| (l.contains("Exception") || l.contains("Error")) && !l.starts_with("at "))?;
    Some(crate::log::scrub(line.chars().take(600).collect::<String>().as_str()))
}

fn file_infos(files: &DataFrame, table: &str, inputs: &[(String, String)]) -> Result<(Vec<FileInfo>, usize)> {
    let rows = files.clone().lazy().filter(col("__table").eq(lit(table))).collect()?;
    let (names, records) = (rows.column("file")?.str()?.clone(), rows.column("records")?.i64()?.clone());
    let (blank, total) = (rows.column("skipped_blank")?.i64()?.clone(), rows.column("skipped_total")?.i64()?.clone());
    let mut out = Vec::new();
    for (path, shown) in inputs {
        let i = (0..rows.height()).find(|&i| names.get(i) == Some(shown.as_str()));
        let get = |c: &Int64Chunked| i.and_then(|i| c.get(i)).unwrap_or(0) as usize;
        out.push(FileInfo {
            sha256: sha256_file(Path::new(path)).unwrap_or_default(),
            records: get(&records),
            skipped_blank: get(&blank),
            skipped_total: get(&total),
            ..empty_info(shown, "csv")
        });
    }
    let n = out.iter().map(|f| f.records).sum();
    Ok((out, n))
}

fn table_data(table: &Table, files: &DataFrame, key: &str, inputs: &[(String, String)], rejects: DataFrame) -> Result<TableData> {
    let (files, rows_read) = file_infos(files, key, inputs)?;
    Ok(TableData { name: table.name.clone(), pattern: table.read.pattern.clone(), files, rows_read, valid: DataFrame::empty(), rejects })
}

fn rejects_of(all: &DataFrame, table: i64) -> Result<DataFrame> {
    Ok(all
        .clone()
        .lazy()
        .filter(col("__table").eq(lit(table)))
        .sort(["__order"], SortMultipleOptions::default().with_maintain_order(true))
        .select(REJECT_COLUMNS.iter().map(|c| col(*c)).collect::<Vec<_>>())
        .collect()?)
}

/// The results as the local engine's structures.
fn read_back(plan: &Plan, inputs: &super::Inputs, dir: &Path) -> Result<(Roster, Outcome)> {
    let mut reject_cols = vec![("__table".to_string(), Kind::Int), ("__order".to_string(), Kind::Int)];
    reject_cols.extend(all(&REJECT_COLUMNS, Kind::Text));
    reject_cols[4].1 = Kind::Int; // 行号
    let rejects = read(dir, "rejects", &reject_cols)?;
    let files = read(
        dir,
        "files",
        &[
            ("__table".into(), Kind::Text),
            ("file".into(), Kind::Text),
            ("records".into(), Kind::Int),
            ("skipped_blank".into(), Kind::Int),
            ("skipped_total".into(), Kind::Int),
        ],
    )?;
    let roster_rejects = rejects_of(&rejects, 0)?;
    let roster = Roster {
        households_data: table_data(&plan.roster.households, &files, "households", &inputs.households, roster_rejects.clone())?,
        members_data: table_data(&plan.roster.members, &files, "members", &inputs.members, roster_rejects.clone())?,
        households: DataFrame::empty(),
        members: DataFrame::empty(),
        rejects: roster_rejects,
    };
    let stats = read(dir, "stats", &all(&["source", "in_window", "used", "unmatched"], Kind::Int))?;
    let mut sources = Vec::new();
    for (i, s) in plan.sources.iter().enumerate() {
        let data = table_data(&s.table, &files, &format!("source{i}"), &inputs.sources[i], rejects_of(&rejects, i as i64 + 1)?)?;
        let row = stats.clone().lazy().filter(col("source").eq(lit(i as i64))).collect()?;
        let get = |c: &str| -> Result<usize> { Ok(row.column(c)?.i64()?.get(0).unwrap_or(0) as usize) };
        sources.push(SourceStats { in_window: get("in_window")?, used: get("used")?, unmatched: get("unmatched")?, data });
    }
    let outcome = outcome(plan, dir, sources)?;
    Ok((roster, outcome))
}

fn sorted(df: DataFrame, by: &[&str]) -> Result<DataFrame> {
    Ok(df.lazy().sort(by.iter().map(|s| s.to_string()).collect::<Vec<_>>(), SortMultipleOptions::default().with_maintain_order(true)).collect()?)
}

fn outcome(plan: &Plan, dir: &Path, sources: Vec<SourceStats>) -> Result<Outcome> {
    let risks: Vec<String> = plan.risk_types().iter().map(|r| format!("__risk.{r}")).collect();
    let mut listed_cols = all(&c::FLAGGED, Kind::Text);
    listed_cols.extend([("__size".into(), Kind::Int), ("__category".into(), Kind::Text), ("__monitored".into(), Kind::Bool)]);
    listed_cols.extend(risks.iter().map(|r| (r.clone(), Kind::Bool)));
    let listed = sorted(read(dir, "listed", &listed_cols)?, &c::ORDER)?;
    let mut screened_cols = all(&c::SCREENED, Kind::Text);
    screened_cols.push(("__category".into(), Kind::Text));
    screened_cols.extend(all(&["__excluded", "__monitored", "__elimination_income", "__elimination", "__stays"], Kind::Bool));
    let screened = sorted(read(dir, "screened", &screened_cols)?, &c::ORDER)?;
    let grades =
        read(dir, "grades", &[("town".into(), Kind::Text), ("category".into(), Kind::Text), ("households".into(), Kind::Int), ("persons".into(), Kind::Int)])?;
    let grades = grades
        .lazy()
        .select([col("town").alias(c::TOWN), col("category").alias("__category"), col("households").alias("户"), col("persons").alias("人")])
        .collect()?;
    let rules: Vec<&crate::rules::plan::Rule> = plan.triggers.iter().chain(&plan.exclusions).collect();
    let mut count_cols = all(&["screened", "excluded"], Kind::Int);
    count_cols.extend((0..rules.len()).map(|i| (format!("r{i}"), Kind::Int)));
    let counts = read(dir, "counts", &count_cols)?;
    let get = |c: &str| -> Result<usize> { Ok(counts.column(c)?.i64()?.get(0).unwrap_or(0) as usize) };
    let coverage = rules.iter().enumerate().map(|(i, r)| Ok((r.id.clone(), r.label.clone(), get(&format!("r{i}"))?))).collect::<Result<_>>()?;
    let mut unmatched_cols = vec![("__source".to_string(), Kind::Int)];
    unmatched_cols.extend(all(&UNMATCHED_COLUMNS, Kind::Text));
    unmatched_cols[3].1 = Kind::Int; // 行号
    let unmatched = sorted(read(dir, "unmatched", &unmatched_cols)?, &["__source", "文件", "行号"])?.drop("__source")?;
    Ok(Outcome {
        sources,
        screened: get("screened")?,
        listed,
        excluded: get("excluded")?,
        screened_plan: screened.lazy(),
        unmatched,
        coverage,
        detail: None,
        grades,
    })
}
