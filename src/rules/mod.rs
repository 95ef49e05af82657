//! Rules: parse (TOML → raw structs) → validate and type (check) → plan.

pub mod check;
pub mod diag;
pub mod expr;
pub mod fold;
pub mod names;
pub mod overlay;
pub mod plan;
pub mod raw;
pub mod wording;

use anyhow::Context;
use diag::{Diagnostic, Diagnostics};
use std::path::Path;

/// A rules file loaded from disk.
pub struct Loaded {
    pub plan: plan::Plan,
    /// The data directory's `sources.toml`, when one was applied.
    pub sources_file: Option<std::path::PathBuf>,
}

#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("{0:#}")]
    Io(anyhow::Error),
    #[error("{0}")]
    Invalid(Diagnostics),
}

/// The name of the optional file in a data directory that says how its files look.
pub const SOURCES_FILE: &str = "sources.toml";

/// Loads a rules file; with a data directory holding a `sources.toml`, its reading options
/// (files, sheets, encodings, header aliases, value synonyms) are applied first.
pub fn load(path: &Path, data_dir: Option<&Path>, as_of: Option<chrono::NaiveDate>) -> Result<Loaded, LoadError> {
    let file = path.display().to_string();
    let text = read_utf8(path, &file, "the rules file")?;
    let mut raw = parse_raw(&text, &file).map_err(LoadError::Invalid)?;
    let mut sources_file = None;
    if let Some(dir) = data_dir {
        let sp = dir.join(SOURCES_FILE);
        if sp.is_file() {
            let sp_file = sp.display().to_string();
            let overlay = read_utf8(&sp, &sp_file, "")?;
            overlay::apply(&mut raw, &overlay, &sp_file).map_err(LoadError::Invalid)?;
            sources_file = Some(sp);
        }
    }
    let plan = check::build(&raw, &text, as_of).map_err(|items| LoadError::Invalid(Diagnostics { file, source: text.clone(), items }))?;
    Ok(Loaded { plan, sources_file })
}

/// Reads a TOML file as UTF-8; the first invalid byte is a positioned error (its line, column
/// and byte offset), not a bare "stream did not contain valid UTF-8".
fn read_utf8(path: &Path, file: &str, what: &str) -> Result<String, LoadError> {
    let what = if what.is_empty() { String::new() } else { format!("{what} ") };
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {what}{file}")).map_err(LoadError::Io)?;
    String::from_utf8(bytes).map_err(|e| {
        let offset = e.utf8_error().valid_up_to();
        let byte = e.as_bytes()[offset];
        let message = format!("invalid UTF-8 at byte offset {offset} (byte 0x{byte:02X}): save the file as UTF-8");
        LoadError::Invalid(Diagnostics {
            file: file.to_string(),
            source: String::from_utf8_lossy(e.as_bytes()).into_owned(),
            items: vec![Diagnostic { offset, len: 1, message }],
        })
    })
}

fn toml_error(e: toml::de::Error, text: &str, file: &str) -> Diagnostics {
    let (offset, len) = e.span().map_or((0, 1), |r| (r.start, r.end - r.start));
    Diagnostics { file: file.to_string(), source: text.to_string(), items: vec![Diagnostic { offset, len, message: e.message().trim().to_string() }] }
}

fn parse_raw(text: &str, file: &str) -> Result<raw::RawRules, Diagnostics> {
    toml::from_str(text).map_err(|e| toml_error(e, text, file))
}

/// Parses and checks rules text; `file` is only used in messages.
#[cfg(test)]
pub fn parse(text: &str, file: &str) -> Result<plan::Plan, Diagnostics> {
    let raw = parse_raw(text, file)?;
    check::build(&raw, text, None).map_err(|items| Diagnostics { file: file.to_string(), source: text.to_string(), items })
}
