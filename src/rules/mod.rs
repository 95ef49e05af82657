//! Rules: parse (TOML → raw structs) → validate and type (check) → plan.

pub mod check;
pub mod diag;
pub mod expr;
pub mod plan;
pub mod raw;

use anyhow::Context;
use diag::{Diagnostic, Diagnostics};
use std::path::Path;

/// A rules file loaded from disk.
pub struct Loaded {
    pub plan: plan::Plan,
}

#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("{0:#}")]
    Io(anyhow::Error),
    #[error("{0}")]
    Invalid(Diagnostics),
}

pub fn load(path: &Path) -> Result<Loaded, LoadError> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read the rules file {}", path.display()))
        .map_err(LoadError::Io)?;
    let plan = parse(&text, &path.display().to_string()).map_err(LoadError::Invalid)?;
    Ok(Loaded { plan })
}

/// Parses and checks rules text; `file` is only used in messages.
pub fn parse(text: &str, file: &str) -> Result<plan::Plan, Diagnostics> {
    let fail = |items| Diagnostics { file: file.to_string(), source: text.to_string(), items };
    let raw: raw::RawRules = toml::from_str(text).map_err(|e| {
        let (offset, len) = e.span().map_or((0, 1), |r| (r.start, r.end - r.start));
        fail(vec![Diagnostic { offset, len, message: e.message().trim().to_string() }])
    })?;
    check::build(&raw, text).map_err(fail)
}
