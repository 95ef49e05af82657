//! Command-line arguments. The same definitions feed `--help`.

use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

#[derive(Parser)]
#[command(
    name = "fanpin",
    version,
    about = "防止返贫动态监测 · 部门筛查: joins a household roster with department extracts and applies a rules file",
    after_help = crate::exit::ExitStatus::help()
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
    /// Diagnostics on stderr as text, or as one JSON object per line for log collectors
    /// (events: start, stage, warning, done, failed; `screen` then prints no summary on stdout)
    #[arg(long, global = true, value_enum, default_value = "text")]
    pub log_format: LogFormat,
}

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Subcommand)]
pub enum Command {
    /// Screen a data directory with a rules file and write the list of households to verify
    Screen(ScreenArgs),
    /// Validate a rules file (and, with --data, the headers of the files it declares)
    Check(CheckArgs),
    /// Show how each file of a source is read (format, encoding, header, column mapping, samples, problems)
    Inspect(InspectArgs),
    /// Write the public-notice list per village (乡镇, 村, 户主姓名, 家庭人口, 类别; nothing sensitive)
    Notice(NoticeArgs),
    /// Explain one household of a run, down to each record: members, records, figures, every rule, the category
    Explain(ExplainArgs),
    /// Compare two screen outputs: households added, removed, or whose category, risk types or 建议 changed
    Diff(DiffArgs),
    /// Re-run a past screening from its manifest.json and verify the outputs are byte-identical (or name what changed)
    Replay(ReplayArgs),
    /// Write a synthetic county (canonical layout, or reshaped as department extracts; deterministic per seed)
    Generate(GenerateArgs),
    /// Compile a rules file to a job for another engine (a Spark SQL script for a provincial cluster)
    Compile(CompileArgs),
}

#[derive(Args)]
pub struct ScreenArgs {
    /// The rules file (TOML), e.g. rules/guizhou-2021.toml
    #[arg(long, value_name = "FILE")]
    pub rules: PathBuf,
    /// Directory holding households.csv, members.csv and the department extracts
    #[arg(long, value_name = "DIR")]
    pub data: PathBuf,
    /// Output directory (created if missing; files in it are replaced)
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// Print nothing but errors
    #[arg(long, short)]
    pub quiet: bool,
    /// A previous run's output directory: each listed household gets 变化 (新增/持续), and
    /// households listed then but not now go to dropped.csv with the reason
    #[arg(long, value_name = "DIR")]
    pub previous: Option<PathBuf>,
    /// Exit with code 4 (after writing the outputs) when more than this share of the rows read
    /// was rejected, e.g. 0.01
    #[arg(long, value_name = "RATE")]
    pub max_reject_rate: Option<f32>,
    /// Determination date (YYYY-MM-DD) instead of the rules' own: parameters take the values in
    /// force on it, and a `months` income window ends on it
    #[arg(long, value_name = "DATE", value_parser = parse_date)]
    pub as_of: Option<chrono::NaiveDate>,
    /// Worker threads (default: all cores)
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..))]
    pub threads: Option<u16>,
    /// The engine that screens: this machine, or Apache Spark (the same outputs, byte for byte)
    #[arg(long, value_enum, default_value = "local")]
    pub engine: Engine,
    /// With --engine spark: the Spark master (local[*], yarn, k8s://…, spark://…)
    #[arg(long, value_name = "URL", default_value = "local[*]")]
    pub master: String,
    /// With --engine spark: the Spark installation to submit with (default: $SPARK_HOME, then the
    /// project's own from scripts/spark-setup.sh)
    #[arg(long, value_name = "DIR")]
    pub spark_home: Option<PathBuf>,
}

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Engine {
    Local,
    Spark,
}

#[derive(Args)]
pub struct CompileArgs {
    /// The rules file (TOML)
    #[arg(long, value_name = "FILE")]
    pub rules: PathBuf,
    /// The job's language
    #[arg(long, value_enum, default_value = "spark-sql")]
    pub target: Target,
    /// Determination date (YYYY-MM-DD) instead of the rules' own
    #[arg(long, value_name = "DATE", value_parser = parse_date)]
    pub as_of: Option<chrono::NaiveDate>,
    /// Where the job reads the tables: a local directory (its files are listed now) or a URI
    /// prefix (hdfs://…, s3a://…) under which each table's declared file name or pattern is read
    #[arg(long, value_name = "URI")]
    pub data: String,
    /// Where the job writes its result tables (a directory URI)
    #[arg(long, value_name = "URI")]
    pub results: String,
    /// Write the job here instead of standard output
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<PathBuf>,
}

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Target {
    SparkSql,
}

fn parse_date(s: &str) -> Result<chrono::NaiveDate, String> {
    chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").map_err(|_| format!("'{s}' is not a date: write YYYY-MM-DD"))
}

#[derive(Args)]
pub struct CheckArgs {
    /// The rules file to validate
    #[arg(value_name = "FILE")]
    pub rules: PathBuf,
    /// Also check that the files the rules declare exist in DIR with the declared columns
    #[arg(long, value_name = "DIR")]
    pub data: Option<PathBuf>,
    /// Run the rule test cases in FILE (default: FILE.cases.toml beside the rules file, when present)
    #[arg(long, value_name = "FILE")]
    pub cases: Option<PathBuf>,
}

#[derive(Args)]
pub struct InspectArgs {
    /// The rules file declaring the sources
    #[arg(long, value_name = "FILE")]
    pub rules: PathBuf,
    /// The data directory (its sources.toml, if any, is applied)
    #[arg(long, value_name = "DIR", default_value = ".")]
    pub data: PathBuf,
    /// Only this table (households, members or a source name)
    #[arg(long, value_name = "NAME")]
    pub source: Option<String>,
    /// Inspect this one file against the table(s) instead of the declared files
    #[arg(value_name = "PATH")]
    pub path: Option<PathBuf>,
}

#[derive(Args)]
pub struct NoticeArgs {
    /// A screen's output directory (reads its flagged.csv; writes notice.csv and notice.xlsx)
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// Also list households marked for review (the rules' `[report] review`; by default only those marked `include`)
    #[arg(long)]
    pub include_review: bool,
}

#[derive(Args)]
pub struct ExplainArgs {
    /// A screen's output directory (its manifest.json names the rules, data and date)
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// The household's 户编号, or the 证件号码 of one of its members
    #[arg(value_name = "KEY")]
    pub key: String,
}

#[derive(Args)]
pub struct DiffArgs {
    /// The first run's output directory (e.g. screened with the 2021 rules)
    #[arg(value_name = "A")]
    pub a: PathBuf,
    /// The second run's output directory
    #[arg(value_name = "B")]
    pub b: PathBuf,
    /// Also write every differing household to this CSV file
    #[arg(long, value_name = "FILE")]
    pub csv: Option<PathBuf>,
    /// Households shown in the terminal table
    #[arg(long, value_name = "N", default_value_t = 30)]
    pub limit: usize,
}

#[derive(Args)]
pub struct ReplayArgs {
    /// A run's manifest.json, e.g. out/2021/manifest.json
    #[arg(value_name = "MANIFEST")]
    pub manifest: PathBuf,
    /// Keep the replayed outputs in DIR (by default they go to a temporary directory that is removed)
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
}

#[derive(Args)]
pub struct GenerateArgs {
    /// Number of households
    #[arg(long, default_value_t = 3000)]
    pub households: usize,
    /// Seed of the generator: the same seed gives byte-identical files
    #[arg(long, default_value_t = 2021)]
    pub seed: u64,
    /// Also plant unreadable rows (bad IDs, amounts, dates, roster conflicts) to exercise rejects,
    /// and add the noise of real exports: one ID in 1,000 with spaces or full-width digits, a
    /// BOM, CRLF line ends, a needlessly quoted name per file
    #[arg(long)]
    pub messy: bool,
    /// `extracts`: reshape the department files the way departments send them (workbooks with
    /// title rows and 合计 lines, GB18030 text, other header names) and write the sources.toml
    /// that maps them
    #[arg(long, value_enum, default_value = "canonical")]
    pub layout: Layout,
    /// Output directory
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
}

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Layout {
    Canonical,
    Extracts,
}
