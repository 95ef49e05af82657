//! Report: the output tables, rendered by interchangeable renderers (CSV files, an xlsx
//! workbook), the terminal summary, and the manifest.

pub mod changes;
pub mod csv;
pub mod manifest;
pub mod publish;
pub mod summary;
pub mod terminal;
pub mod xlsx;

use anyhow::{Context, Result};
use polars::prelude::{DataFrame, LazyFrame};
use std::path::{Path, PathBuf};
use summary::TextTable;

/// One output table: a name (file stem / sheet title) and its data.
pub enum TableData<'a> {
    Frame(&'a DataFrame),
    /// A frame computed by whichever renderer writes it first (see `Outcome::screened_plan`).
    Plan(&'a LazyFrame),
    Text(&'a TextTable),
}

pub struct Table<'a> {
    /// File stem (`flagged`) and sheet name (`监测对象`).
    pub stem: &'static str,
    pub sheet: &'static str,
    pub data: TableData<'a>,
    /// Also a sheet of report.xlsx (false for per-household files as long as the roster).
    pub workbook: bool,
}

impl<'a> Table<'a> {
    pub fn new(stem: &'static str, sheet: &'static str, data: TableData<'a>) -> Self {
        Table { stem, sheet, data, workbook: true }
    }
}

/// Something that writes the tables into an output directory and says which files it wrote.
pub trait Renderer {
    fn render(&self, tables: &[Table], dir: &Path) -> Result<Vec<PathBuf>>;
}

/// Writes through a temporary file in the same directory, then renames it into place, so a
/// reader never sees a half-written output.
pub fn write_atomically(path: &Path, write: impl FnOnce(&mut std::io::BufWriter<std::fs::File>) -> Result<()>) -> Result<()> {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("output");
    let tmp = path.with_file_name(format!(".{name}.partial"));
    let file = std::fs::File::create(&tmp).with_context(|| format!("cannot create {}", tmp.display()))?;
    let mut w = std::io::BufWriter::new(file);
    write(&mut w).with_context(|| format!("cannot write {}", path.display()))?;
    let file = w.into_inner().map_err(|e| e.into_error())?;
    file.sync_all()?;
    std::fs::rename(&tmp, path).with_context(|| format!("cannot move {} into place", path.display()))?;
    Ok(())
}
