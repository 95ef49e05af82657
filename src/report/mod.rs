//! Report: the output tables, rendered by interchangeable renderers (CSV files, an xlsx
//! workbook), the terminal summary, and the manifest.

pub mod changes;
pub mod csv;
pub mod manifest;
pub mod publish;
pub mod readback;
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

/// The file an output is written to, buffered. Its first write error is kept, and every write
/// after it is dropped: a writer that tries again on its own (the zip writer of report.xlsx
/// finishes its archive when dropped, and printed a Debug dump of the second failure) then
/// sees no error, and `write_atomically` reports the first one, with the file's name.
pub struct OutputFile {
    inner: std::io::BufWriter<std::fs::File>,
    error: Option<std::io::Error>,
    written: u64,
    /// `FANPIN_FAULT=enospc=NAME` (tests): a full disk after this many bytes.
    fail_after: Option<u64>,
}

impl OutputFile {
    fn failed(&mut self, e: std::io::Error) -> std::io::Error {
        let copy = match e.raw_os_error() {
            Some(code) => std::io::Error::from_raw_os_error(code),
            None => std::io::Error::new(e.kind(), e.to_string()),
        };
        self.error.get_or_insert(e);
        copy
    }
}

impl std::io::Write for OutputFile {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if self.error.is_some() {
            return Ok(buf.len());
        }
        if self.fail_after.is_some_and(|n| self.written + buf.len() as u64 > n) {
            return Err(self.failed(std::io::Error::from_raw_os_error(28)));
        }
        match self.inner.write(buf) {
            Ok(n) => {
                self.written += n as u64;
                Ok(n)
            }
            Err(e) => Err(self.failed(e)),
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        if self.error.is_some() {
            return Ok(());
        }
        self.inner.flush().map_err(|e| self.failed(e))
    }
}

impl std::io::Seek for OutputFile {
    fn seek(&mut self, to: std::io::SeekFrom) -> std::io::Result<u64> {
        if self.error.is_some() {
            return Ok(0);
        }
        self.inner.seek(to).map_err(|e| self.failed(e))
    }
}

/// Writes through a temporary file in the same directory, then renames it into place, so a
/// reader never sees a half-written output. Any error names the file; the temporary file is
/// removed.
pub fn write_atomically(path: &Path, write: impl FnOnce(&mut OutputFile) -> Result<()>) -> Result<()> {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("output");
    let tmp = path.with_file_name(format!(".{name}.partial"));
    let file = std::fs::File::create(&tmp).with_context(|| format!("cannot write {}", path.display()))?;
    let fail_after = crate::fault::enospc(name).then_some(4096);
    let mut w = OutputFile { inner: std::io::BufWriter::new(file), error: None, written: 0, fail_after };
    let written = write(&mut w).and_then(|()| {
        use std::io::Write;
        w.flush()?;
        Ok(w.inner.get_ref().sync_all()?)
    });
    let result = match (w.error.take(), written) {
        // The first write error says what happened; what the writer made of it does not.
        (Some(e), _) => Err(anyhow::Error::new(e)),
        (None, r) => r,
    }
    .and_then(|()| Ok(std::fs::rename(&tmp, path)?));
    drop(w);
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result.with_context(|| format!("cannot write {}", path.display()))
}
