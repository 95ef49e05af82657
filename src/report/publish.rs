//! Output directories that cron jobs can rely on: a lock so that two runs never write the same
//! directory, and a staging directory whose files are moved into place only once all of them
//! are complete (a killed run leaves the previous outputs as they were).

use anyhow::{bail, Context, Result};
use std::path::{Path, PathBuf};

const LOCK: &str = ".fanpin.lock";
const STAGING: &str = ".fanpin-partial";

/// Held while a run writes an output directory; removed on drop.
pub struct OutputLock {
    path: PathBuf,
}

/// Another run holds the output directory.
#[derive(Debug, thiserror::Error)]
#[error("another fanpin run (pid {pid}) is writing {dir}; if it is gone, remove {lock}")]
pub struct Locked {
    pub pid: String,
    pub dir: String,
    pub lock: String,
}

fn alive(pid: &str) -> bool {
    // Linux: a live process has /proc/<pid>. Elsewhere, assume it is alive (the safe side).
    !Path::new("/proc").is_dir() || Path::new("/proc").join(pid).exists()
}

impl OutputLock {
    pub fn acquire(dir: &Path) -> Result<OutputLock> {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create the output directory {}", dir.display()))?;
        let path = dir.join(LOCK);
        for _ in 0..2 {
            match std::fs::OpenOptions::new().write(true).create_new(true).open(&path) {
                Ok(mut f) => {
                    use std::io::Write;
                    write!(f, "{}", std::process::id())?;
                    return Ok(OutputLock { path });
                }
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                    let pid = std::fs::read_to_string(&path).unwrap_or_default().trim().to_string();
                    if !pid.is_empty() && alive(&pid) {
                        return Err(Locked { pid, dir: dir.display().to_string(), lock: path.display().to_string() }.into());
                    }
                    // A run that was killed left its lock behind.
                    std::fs::remove_file(&path).ok();
                }
                Err(e) => return Err(e).with_context(|| format!("cannot create {}", path.display())),
            }
        }
        bail!("cannot take the lock {}", path.display())
    }
}

impl Drop for OutputLock {
    fn drop(&mut self) {
        std::fs::remove_file(&self.path).ok();
    }
}

/// A fresh staging directory inside `dir` (left-overs of a killed run are removed).
pub fn staging(dir: &Path) -> Result<Staging> {
    let s = dir.join(STAGING);
    if s.exists() {
        std::fs::remove_dir_all(&s).with_context(|| format!("cannot clear {}", s.display()))?;
    }
    std::fs::create_dir_all(&s).with_context(|| format!("cannot create {}", s.display()))?;
    Ok(Staging { path: s, published: false })
}

/// The staging directory of a run: removed again when the run fails before publishing, so a
/// failed run leaves the output directory exactly as it was.
pub struct Staging {
    path: PathBuf,
    published: bool,
}

impl Staging {
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Moves the staged files into `dir` (see `publish`).
    pub fn publish(mut self, dir: &Path) -> Result<()> {
        publish(&self.path, dir)?;
        self.published = true;
        Ok(())
    }
}

impl Drop for Staging {
    fn drop(&mut self) {
        if !self.published {
            let _ = std::fs::remove_dir_all(&self.path);
        }
    }
}

/// Moves every file of the staging directory into `dir`, then removes the staging directory.
pub fn publish(staging: &Path, dir: &Path) -> Result<()> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(staging)?.filter_map(|e| e.ok().map(|e| e.path())).filter(|p| p.is_file()).collect();
    files.sort();
    for f in files {
        let name = f.file_name().expect("a file has a name");
        std::fs::rename(&f, dir.join(name)).with_context(|| format!("cannot move {} into {}", f.display(), dir.display()))?;
    }
    std::fs::remove_dir(staging).ok();
    Ok(())
}
