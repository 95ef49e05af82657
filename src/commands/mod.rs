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
mod replay;
mod screen;

use crate::cli::{Cli, Command};

/// Exit codes (documented in `--help` and the README).
pub const EXIT_FAILED: u8 = 1;
pub const EXIT_INVALID_RULES: u8 = 3;
pub const EXIT_TOO_MANY_REJECTS: u8 = 4;
pub const EXIT_LOCKED: u8 = 5;
pub const EXIT_UNREADABLE_INPUT: u8 = 6;
pub const EXIT_MISSING_INPUT: u8 = 7;
pub const EXIT_REPLAY_DIFFERS: u8 = 8;
pub const EXIT_CASES_FAIL: u8 = 9;

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

pub fn exit_code(e: &anyhow::Error) -> u8 {
    if e.downcast_ref::<TooManyRejects>().is_some() {
        return EXIT_TOO_MANY_REJECTS;
    }
    if e.downcast_ref::<crate::report::publish::Locked>().is_some() {
        return EXIT_LOCKED;
    }
    match e.downcast_ref::<crate::sources::InputProblem>() {
        Some(crate::sources::InputProblem::Unreadable) => return EXIT_UNREADABLE_INPUT,
        Some(crate::sources::InputProblem::Missing) => return EXIT_MISSING_INPUT,
        None => {}
    }
    if e.downcast_ref::<check::CasesFail>().is_some() {
        return EXIT_CASES_FAIL;
    }
    if e.downcast_ref::<replay::Differs>().is_some() {
        return EXIT_REPLAY_DIFFERS;
    }
    match e.downcast_ref::<crate::rules::LoadError>() {
        Some(crate::rules::LoadError::Invalid(_)) => EXIT_INVALID_RULES,
        _ => EXIT_FAILED,
    }
}
