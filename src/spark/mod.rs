//! The Spark engine: the typed rules plan compiled to one self-contained Spark SQL job (ANSI
//! mode) that reads and validates every table, checks the roster, evaluates the rules and writes
//! result tables; `run` submits it and reads the results back into the local engine's `Outcome`,
//! so that every output is written by the same code as a local run.

pub mod eval;
pub mod expr;
pub mod groups;
pub mod output;
pub mod read;
pub mod results;
pub mod roster;
pub mod run;

use crate::rules::plan::Plan;
use anyhow::Result;

/// A SQL script being built: statements, each preceded by a `-- step` line naming what it does
/// (the runner shows it as the job's progress).
pub struct Sql {
    pub text: String,
    pub steps: usize,
    /// Where intermediate tables are written (a directory URI).
    pub work: String,
}

/// Statements that compute view `name` once, write it as Parquet under `work`, and make `name`
/// read that instead: later statements start from the stored rows, so neither Spark's planner
/// nor its executors go back through the whole lineage (the validation of every cell) again.
pub fn materialize(work: &str, name: &str) -> String {
    let path = expr::text(&format!("{}/{}", work.trim_end_matches('/'), name.replace('`', "")));
    format!(
        "-- step: compute {name}\nINSERT OVERWRITE DIRECTORY {path} USING parquet SELECT * FROM {name};\n-- step: read {name} back\nCREATE OR REPLACE TEMPORARY VIEW {name} USING parquet OPTIONS (path {path});\n"
    )
}

impl Sql {
    fn push(&mut self, label: &str, statement: &str) {
        self.steps += 1;
        self.text.push_str(&format!("-- step {}: {}\n{};\n\n", self.steps, label.replace('\n', " "), statement.trim_end()));
    }
    pub fn view(&mut self, name: &str, select: &str) {
        self.push(&format!("view {name}"), &format!("CREATE OR REPLACE TEMPORARY VIEW {name} AS\n{select}"));
    }
    /// A view computed once and kept (several later statements read it).
    pub fn cache(&mut self, name: &str, select: &str) {
        self.view(name, select);
        self.text.push_str(&materialize(&self.work, name));
    }
    /// Writes a result table as JSON lines under `dir/name`.
    pub fn write(&mut self, dir: &str, name: &str, select: &str) {
        let path = expr::text(&format!("{}/{name}", dir.trim_end_matches('/')));
        self.push(&format!("write {name}"), &format!("INSERT OVERWRITE DIRECTORY {path} USING json\n{select}"));
    }
}

/// Where each table's files are: (URI, name shown in 文件) per file, in the local engine's order.
pub struct Inputs {
    pub households: Vec<(String, String)>,
    pub members: Vec<(String, String)>,
    /// One entry per source of the plan, in the plan's order.
    pub sources: Vec<Vec<(String, String)>>,
}

/// The Spark configuration the job needs (set by the runner before the first statement).
pub const CONF: [(&str, &str); 5] = [
    ("spark.sql.ansi.enabled", "true"),
    // A byte that is not GB18030 becomes U+FFFD (a rejected cell), as the local engine reads it.
    ("spark.sql.legacy.codingErrorAction", "true"),
    ("spark.sql.session.timeZone", "UTC"),
    ("spark.sql.legacy.javaCharsets", "true"),
    ("spark.sql.caseSensitive", "true"),
];

/// The whole job: reading, roster checks, evaluation, result tables written under `results`.
pub fn compile(plan: &Plan, inputs: &Inputs, results: &str) -> Result<String> {
    let work = format!("{}/_work", results.trim_end_matches('/'));
    let mut q = Sql { text: String::new(), steps: 0, work: work.clone() };
    let header = format!(
        "-- fanpin {} · Spark SQL job for {} ({}), determination date {}\n-- Run with these settings: {}\n\n",
        env!("CARGO_PKG_VERSION"),
        plan.meta.name,
        plan.meta.version,
        plan.meta.as_of,
        CONF.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(", ")
    );
    q.text.push_str(&header);
    q.text.push_str(&read::table_sql(&plan.roster.households, &inputs.households, "hh_in", &work)?);
    q.text.push_str(&read::table_sql(&plan.roster.members, &inputs.members, "mem_in", &work)?);
    q.text.push_str(&roster::roster_sql(plan)?);
    for v in ["hh", "mem", "roster_rejects"] {
        q.text.push_str(&materialize(&work, v));
    }
    for (i, s) in plan.sources.iter().enumerate() {
        let files = inputs.sources.get(i).map(Vec::as_slice).unwrap_or(&[]);
        q.text.push_str(&read::table_sql(&s.table, files, &eval::source_view(i), &work)?);
    }
    let groups = eval::records(plan, &mut q)?;
    output::household_frame(plan, &groups, &mut q)?;
    output::results(plan, &mut q)?;
    results::write_all(plan, results, &mut q);
    Ok(q.text)
}
