//! The files a table's pattern names (a glob reads monthly pushes as one source).

use crate::rules::plan::Table;
use anyhow::{anyhow, Context, Result};
use std::path::{Path, PathBuf};

/// Whether a file pattern is a glob (`medical/2021-*.xlsx`): one that matches no file is likely
/// mistyped, whereas a plain file name that is absent is a source with no records.
pub fn is_glob(pattern: &str) -> bool {
    pattern.contains(['*', '?', '['])
}

/// The files a pattern names, sorted (the order is part of the output's determinism). A name
/// that matches nothing is absent (a source with no records); a match that cannot be read as a
/// file (a directory, a dangling symbolic link, a FIFO or device) is an error, never absent.
/// Excel's owner files (`~$name.xlsx`, present while a workbook is open) are skipped with a
/// warning.
pub fn resolve(dir: &Path, pattern: &str) -> Result<Vec<PathBuf>> {
    if !is_glob(pattern) {
        let p = dir.join(pattern);
        return match std::fs::symlink_metadata(&p) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
            Err(e) => Err(anyhow!("{pattern}: cannot be read: {e}")),
            Ok(_) => regular_file(&p, pattern).map(|()| vec![p]),
        };
    }
    let full = dir.join(pattern);
    let full = full.to_str().ok_or_else(|| anyhow!("the path {} is not valid UTF-8", full.display()))?;
    let mut out = Vec::new();
    for p in glob::glob(full).with_context(|| format!("bad file pattern '{pattern}'"))? {
        let p = p.map_err(|e| anyhow!("{pattern}: {} cannot be read: {}", relative(dir, e.path()), e.error()))?;
        let rel = relative(dir, &p);
        if p.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.starts_with("~$")) {
            crate::log::warn(&format!("{rel} skipped: an owner file that Excel or WPS keeps while a workbook is open, not data"));
            continue;
        }
        regular_file(&p, &rel)?;
        out.push(p);
    }
    out.sort();
    Ok(out)
}

pub(super) fn relative(dir: &Path, p: &Path) -> String {
    p.strip_prefix(dir).unwrap_or(p).to_string_lossy().replace('\\', "/")
}

/// Whether `p` (which exists) can be read as a file. Only its metadata is looked at: opening a
/// FIFO would wait for a writer.
fn regular_file(p: &Path, rel: &str) -> Result<()> {
    match std::fs::metadata(p) {
        Ok(m) if m.is_file() => Ok(()),
        Ok(m) if m.is_dir() => Err(anyhow!("{rel} is a directory, not a file")),
        Ok(_) => Err(anyhow!("{rel} is not a regular file (a FIFO, socket or device), so it is not read")),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(anyhow!("{rel} is a symbolic link to nothing (its target does not exist)")),
        Err(e) => Err(anyhow!("{rel} cannot be read: {e}")),
    }
}

/// `resolve` for a table's files, its errors naming the table.
pub fn resolve_table(table: &Table, dir: &Path) -> Result<Vec<PathBuf>> {
    resolve(dir, &table.read.pattern).with_context(|| format!("{} ({})", table.read.pattern, table.name))
}
