//! `fanpin compile --target spark-sql`: the rules as one self-contained Spark SQL job.

use crate::cli::{CompileArgs, Target};
use crate::{rules, spark};
use anyhow::{Context, Result};
use std::path::Path;

pub fn run(args: &CompileArgs) -> Result<()> {
    let local = Path::new(&args.data);
    let dir = local.is_dir().then_some(local);
    let loaded = rules::load(&args.rules, dir, args.as_of)?;
    let plan = &loaded.plan;
    for w in &plan.warnings {
        crate::log::warn(w);
    }
    let inputs = match dir {
        // A local directory: its files are listed now, as a local run would read them.
        Some(d) => spark::run::inputs(plan, d)?,
        // A URI: each table's declared file name or pattern under it, listed by Spark.
        None => {
            let at = |t: &rules::plan::Table| vec![(format!("{}/{}", args.data.trim_end_matches('/'), t.read.pattern), t.read.pattern.clone())];
            spark::Inputs {
                households: at(&plan.roster.households),
                members: at(&plan.roster.members),
                sources: plan.sources.iter().map(|s| at(&s.table)).collect(),
            }
        }
    };
    let job = match args.target {
        Target::SparkSql => spark::compile(plan, &inputs, &args.results)?,
    };
    match &args.output {
        Some(p) => std::fs::write(p, job).with_context(|| format!("writing {}", p.display()))?,
        None => out!("{job}"),
    }
    Ok(())
}
