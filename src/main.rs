//! fanpin: 防止返贫动态监测 batch screening.
//!
//! rules (parse → check → plan) → sources (read, validate, normalize IDs, reject) →
//! households (roster, co-residence) → evaluate (aggregates, triggers, exclusions, category)
//! → report (CSV, xlsx, terminal tables, manifest). `main` only dispatches and maps errors
//! to exit codes.

mod cases;
mod cli;
mod commands;
mod evaluate;
mod exit;
mod fault;
mod frame;
mod generate;
mod households;
mod log;
mod memory;
mod report;
mod rules;
mod sources;
mod spark;
#[cfg(test)]
mod test_support;

use clap::Parser;
use std::process::ExitCode;

/// The stack of the thread that runs a command. Rules expressions are checked, folded and
/// compiled by walking their trees recursively; `rules::expr` bounds their depth (64 levels of
/// nesting, 2,000 terms and operators, so a chain of `or` or `+` at most ~1,000 deep), and this
/// stack holds the deepest allowed tree many times over, also in a debug build (a frame of
/// `compile` takes ~4 KB there). Untouched stack pages cost no memory.
const COMMAND_STACK: usize = 256 << 20;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    log::set_json(cli.log_format == cli::LogFormat::Json);
    let command = std::thread::Builder::new().name("fanpin".into()).stack_size(COMMAND_STACK).spawn(move || commands::dispatch(cli));
    let result = match command.map(|t| t.join()) {
        Ok(Ok(result)) => result,
        Ok(Err(panic)) => std::panic::resume_unwind(panic),
        Err(e) => Err(anyhow::Error::from(e).context("cannot start the command's thread")),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            let code = commands::exit_status(&e).code();
            match e.downcast_ref::<rules::LoadError>() {
                Some(rules::LoadError::Invalid(d)) => log::error_list(&d.to_string(), code),
                _ => log::error(&format!("error: {e:#}"), code),
            }
            ExitCode::from(code)
        }
    }
}
