//! Output directories that cron jobs can rely on: a lock so that two runs never write the same
//! directory, and a staging directory whose files are moved into place only once all of them
//! are complete (a killed run leaves the previous outputs as they were).

use anyhow::{bail, Context, Result};
use std::path::{Path, PathBuf};

const LOCK: &str = ".fanpin.lock";
const STAGING: &str = ".fanpin-partial";

/// Held while a run writes an output directory; removed on drop (if it is still ours).
pub struct OutputLock {
    path: PathBuf,
}

/// Another run holds the output directory.
#[derive(Debug, thiserror::Error)]
#[error("another fanpin run ({holder}) is writing {dir}; if it is gone, remove {lock}")]
pub struct Locked {
    pub holder: String,
    pub dir: String,
    pub lock: String,
}

fn alive(pid: u32) -> bool {
    // Linux: a live process has /proc/<pid>. Elsewhere, assume it is alive (the safe side).
    !Path::new("/proc").is_dir() || Path::new("/proc").join(pid.to_string()).exists()
}

/// What a lock file says about its holder: `Ok(true)` when it names a process that is gone (a
/// killed run: the lock may be removed), `Ok(false)` when it is gone itself (its run ended),
/// `Err(holder)` otherwise. A lock that cannot be read or parsed is never taken for stale.
fn stale(path: &Path) -> std::result::Result<bool, String> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(false),
        Err(e) => return Err(format!("lock unreadable: {e}")),
    };
    match text.trim().parse::<u32>() {
        // Our own pid in a lock we did not make is a killed run's (pids are reused).
        Ok(pid) if pid == std::process::id() || !alive(pid) => Ok(true),
        Ok(pid) => Err(format!("pid {pid}")),
        Err(_) => Err(format!("lock content {:?} is not a pid", text.chars().take(20).collect::<String>())),
    }
}

impl OutputLock {
    /// Takes `dir/.fanpin.lock`. The lock appears with its content in one step: the pid is
    /// written to a file of our own, which is then hard-linked to the lock's name (failing if
    /// the lock exists). A competing run therefore never reads an empty lock; and it removes a
    /// lock only after reading a pid that is gone. Checking and taking over a stale lock is one
    /// step among the runs, which take turns on an flock of the directory while they do it.
    pub fn acquire(dir: &Path) -> Result<OutputLock> {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create the output directory {}", dir.display()))?;
        let path = dir.join(LOCK);
        let mine = dir.join(format!("{LOCK}.{}", std::process::id()));
        let written = std::fs::File::create(&mine).and_then(|mut f| {
            use std::io::Write;
            crate::fault::slow_lock();
            write!(f, "{}", std::process::id())?;
            f.sync_all()
        });
        if let Err(e) = written {
            let _ = std::fs::remove_file(&mine);
            return Err(e).with_context(|| format!("cannot write the lock file {}", mine.display()));
        }
        let guard = std::fs::File::open(dir).ok().filter(|g| g.lock().is_ok());
        let taken = take(dir, &path, &mine, guard.is_some());
        drop(guard);
        let _ = std::fs::remove_file(&mine);
        taken
    }
}

/// Links `mine` to the lock `path`, taking over a lock whose process is gone.
fn take(dir: &Path, path: &Path, mine: &Path, guarded: bool) -> Result<OutputLock> {
    let locked = |holder: String| -> anyhow::Error { Locked { holder, dir: dir.display().to_string(), lock: path.display().to_string() }.into() };
    for _ in 0..3 {
        let linked = match std::fs::hard_link(mine, path) {
            // A file system without hard links: under the flock, a copy is as good (every run
            // reads the lock under the flock too).
            Err(e) if e.kind() != std::io::ErrorKind::AlreadyExists && guarded && !path.exists() => std::fs::copy(mine, path).map(|_| ()),
            r => r,
        };
        match linked {
            Ok(()) => return Ok(OutputLock { path: path.to_path_buf() }),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                if !stale(path).map_err(locked)? {
                    continue;
                }
                crate::fault::slow_lock();
                if !guarded {
                    // Without the flock, a stale lock is left for a person to remove: another
                    // run may have replaced it since it was read.
                    return Err(locked("a run that is gone".into()));
                }
                // A run that was killed left its lock behind.
                std::fs::remove_file(path).with_context(|| format!("cannot remove the stale lock {}", path.display()))?;
            }
            Err(e) => return Err(e).with_context(|| format!("cannot create the lock {}", path.display())),
        }
    }
    bail!("cannot take the lock {}", path.display())
}

impl Drop for OutputLock {
    fn drop(&mut self) {
        // Only our own: never a lock another run made.
        if std::fs::read_to_string(&self.path).is_ok_and(|t| t.trim() == std::process::id().to_string()) {
            let _ = std::fs::remove_file(&self.path);
        }
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
