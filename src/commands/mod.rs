//! One module per command.

/// `println!` for a command's report on stdout. A closed pipe (`fanpin … | head`) is the
/// reader's choice, not a failure of the run: the rest is dropped quietly. Any other write
/// error (a full disk behind `> file`) is kept, and fails the command once it ends (see
/// `stdout_status`): a truncated report must not exit 0.
macro_rules! out {
    ($($arg:tt)*) => {{
        $crate::commands::stdout_line(format_args!($($arg)*));
    }};
}

/// Set once a write to stdout failed: nothing more is written to it.
static STDOUT_CLOSED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
/// The first stdout write error other than a closed pipe.
static STDOUT_ERROR: std::sync::OnceLock<String> = std::sync::OnceLock::new();

fn stdout_failed(e: std::io::Error) {
    STDOUT_CLOSED.store(true, std::sync::atomic::Ordering::Relaxed);
    if e.kind() != std::io::ErrorKind::BrokenPipe {
        let _ = STDOUT_ERROR.set(e.to_string());
    }
}

/// Writes one line of a command's report (the `out!` macro).
pub fn stdout_line(line: std::fmt::Arguments) {
    use std::io::Write as _;
    if STDOUT_CLOSED.load(std::sync::atomic::Ordering::Relaxed) {
        return;
    }
    if let Err(e) = writeln!(std::io::stdout().lock(), "{line}") {
        stdout_failed(e);
    }
}

/// Whether everything the command wrote to stdout got there (a closed pipe counts as fine).
fn stdout_status() -> anyhow::Result<()> {
    use std::io::Write as _;
    if !STDOUT_CLOSED.load(std::sync::atomic::Ordering::Relaxed) {
        if let Err(e) = std::io::stdout().lock().flush() {
            stdout_failed(e);
        }
    }
    match STDOUT_ERROR.get() {
        Some(e) => Err(anyhow::anyhow!("cannot write to standard output: {e}; the report printed is incomplete")),
        None => Ok(()),
    }
}

mod check;
mod compile;
mod diff;
mod explain;
mod generate;
mod inspect;
mod notice;
mod progress;
mod replay;
mod screen;
mod screen_spark;

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
    // The command's own error comes first; then whether its report reached stdout.
    run(cli).and_then(|()| stdout_status())
}

fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Screen(a) => screen::run(&a),
        Command::Compile(a) => compile::run(&a),
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
