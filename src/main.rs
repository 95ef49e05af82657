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
mod report;
mod rules;
mod sources;
#[cfg(test)]
mod test_support;

use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    log::set_json(cli.log_format == cli::LogFormat::Json);
    match commands::dispatch(cli) {
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
