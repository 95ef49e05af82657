//! `fanpin screen --engine spark`: the screening as a Spark job; the results are read back and
//! written by the same code as a local run.

use crate::cli::ScreenArgs;
use crate::report::manifest::EngineInfo;
use crate::rules::plan::Plan;
use crate::{evaluate, households, spark};
use anyhow::Result;

pub(super) fn run(
    args: &ScreenArgs,
    plan: &Plan,
    pb: &mut super::progress::Progress,
    mut mark: impl FnMut(&str),
) -> Result<(households::Roster, evaluate::Outcome, EngineInfo)> {
    let opts = spark::run::Options { master: args.master.clone(), spark_home: args.spark_home.clone() };
    let (roster, outcome, engine) = spark::run::screen(plan, &args.data, &opts, |step| pb.next(&format!("Spark {step}")))?;
    mark("spark: the job (read, check, evaluate) and its results read back");
    pb.roster_read();
    pb.inputs_read();
    let info = EngineInfo { name: "spark".into(), spark_version: Some(engine.spark_version), master: Some(engine.master), job_sha256: Some(engine.job_sha256) };
    Ok((roster, outcome, info))
}
