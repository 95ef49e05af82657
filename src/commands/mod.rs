//! One module per command.

/// `println!` for a command's report on stdout. A closed pipe (`fanpin … | head`) is the
/// reader's choice, not a failure of the run: the rest is dropped quietly instead of panicking.
macro_rules! out {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout().lock(), $($arg)*);
    }};
}

mod check;
mod diff;
mod explain;
mod generate;
mod inspect;
mod notice;
mod progress;
mod replay;
mod screen;

use crate::cli::{Cli, Command};

use crate::exit::ExitStatus;

/// The run completed and wrote its outputs, but rejected more rows than allowed.
#[derive(Debug, thiserror::Error)]
#[error("{rejected} of {read} rows rejected ({share:.2}%), above --max-reject-rate {limit}: see rejects.csv")]
pub struct TooManyRejects {
    pub rejected: usize,
    pub read: usize,
    pub share: f64,
    pub limit: f32,
}

pub fn dispatch(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Screen(a) => screen::run(&a),
        Command::Check(a) => check::run(&a),
        Command::Generate(a) => generate::run(&a),
        Command::Inspect(a) => inspect::run(&a),
        Command::Notice(a) => notice::run(&a),
        Command::Replay(a) => replay::run(&a),
        Command::Diff(a) => diff::run(&a),
        Command::Explain(a) => explain::run(&a),
    }
}

/// The exit status an error ends the run with.
pub fn exit_status(e: &anyhow::Error) -> ExitStatus {
    if e.downcast_ref::<TooManyRejects>().is_some() {
        return ExitStatus::TooManyRejects;
    }
    if e.downcast_ref::<crate::report::publish::Locked>().is_some() {
        return ExitStatus::Locked;
    }
    match e.downcast_ref::<crate::sources::InputProblem>() {
        Some(crate::sources::InputProblem::Unreadable) => return ExitStatus::UnreadableInput,
        Some(crate::sources::InputProblem::Missing) => return ExitStatus::MissingInput,
        None => {}
    }
    if e.downcast_ref::<check::CasesFail>().is_some() {
        return ExitStatus::CasesFail;
    }
    if e.downcast_ref::<replay::Differs>().is_some() {
        return ExitStatus::ReplayDiffers;
    }
    match e.downcast_ref::<crate::rules::LoadError>() {
        Some(crate::rules::LoadError::Invalid(_)) => ExitStatus::InvalidRules,
        _ => ExitStatus::Failed,
    }
}
