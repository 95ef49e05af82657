//! Output directories that cron jobs can rely on: a lock so that two runs never write the same
//! directory; a staging directory whose files become a run directory `DIR/runs/…` only once all
//! of them are complete; and one switch of `DIR/latest` that publishes the whole set, which
//! `DIR/flagged.csv` and the other names open through their links (a killed run leaves the
//! previous set as it was, never a mix).

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

/// Every file a screen or notice writes in an output directory (the names a previous
/// version left as plain files, moved into the layout below on the first run of this one).
pub const OUTPUT_NAMES: [&str; 15] = [
    "flagged.csv",
    "new_leads.csv",
    "summary_by_township.csv",
    "summary_by_risk.csv",
    "unmatched.csv",
    "rejects.csv",
    "coverage.csv",
    "parameters.csv",
    "screened.csv",
    "dropped.csv",
    "elimination_candidates.csv",
    "report.xlsx",
    "manifest.json",
    "notice.csv",
    "notice.xlsx",
];

/// Run directories kept in `DIR/runs/` (the one `latest` names always among them).
pub const KEEP_RUNS: usize = 5;
const RUNS: &str = "runs";
const LATEST: &str = "latest";
/// The run directory that holds a previous version's files, on the first run of this one.
const EARLIER: &str = "000000-earlier";

/// The directory holding the files of the run a reader of `dir` sees: the target of
/// `dir/latest`, or `dir` itself when it has none (a run of an earlier version, or a run
/// directory `DIR/runs/…` named directly). Read a run's files from it, all from the same one.
pub fn run_dir(dir: &Path) -> PathBuf {
    match std::fs::read_link(dir.join(LATEST)) {
        Ok(target) => dir.join(target),
        Err(_) => dir.to_path_buf(),
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

    /// Publishes the staged files as the run `dir` shows (see `publish`).
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

/// Publishes a complete set of outputs, so that a reader sees the previous run's set or this
/// one's, never a mix (whenever the process is killed):
/// 1. the staging directory becomes `dir/runs/NNNNNN-YYYYMMDDTHHMMSSZ` (one rename);
/// 2. each file name of the run gets its link `dir/NAME → latest/NAME` (already there from
///    the previous run for most; a new name's link opens nothing until the switch);
/// 3. `dir/latest` is switched to the new run directory (one rename of a new symbolic link):
///    every `dir/NAME` now opens this run's file;
/// 4. links of names this run did not write (a previous run's dropped.csv), which now open
///    nothing, are removed, and run directories beyond the last `KEEP_RUNS` are deleted.
pub fn publish(staging: &Path, dir: &Path) -> Result<()> {
    adopt_plain_files(dir)?;
    let runs = dir.join(RUNS);
    std::fs::create_dir_all(&runs).with_context(|| format!("cannot create {}", runs.display()))?;
    let name = format!("{:06}-{}", next_sequence(&runs)?, utc_stamp());
    let run = runs.join(&name);
    std::fs::rename(staging, &run).with_context(|| format!("cannot move {} to {}", staging.display(), run.display()))?;
    crate::fault::exit_at("run-dir");
    let mut names: Vec<String> = std::fs::read_dir(&run)
        .with_context(|| format!("cannot read {}", run.display()))?
        .filter_map(|e| e.ok().map(|e| e.file_name().to_string_lossy().into_owned()))
        .collect();
    names.sort();
    let linked = names.iter().enumerate().try_for_each(|(i, n)| {
        link_output(dir, n)?;
        if i == 0 {
            crate::fault::exit_at("first-output");
        }
        Ok(())
    });
    if let Err(e) = linked.and_then(|()| switch_latest(dir, &name)) {
        // Not published (a full disk): the previous run stays what `dir` shows.
        let _ = std::fs::remove_dir_all(&run);
        remove_dangling_links(dir);
        return Err(e);
    }
    crate::fault::exit_at("switch");
    remove_dangling_links(dir);
    prune(&runs, &name);
    Ok(())
}

/// `dir/NAME → latest/NAME`, unless it is that link already.
pub fn link_output(dir: &Path, name: &str) -> Result<()> {
    let top = dir.join(name);
    let target = Path::new(LATEST).join(name);
    if std::fs::read_link(&top).is_ok_and(|t| t == target) {
        return Ok(());
    }
    replace_with_link(&target, &top)
}

/// Makes `at` a symbolic link to `target` in one step (a new link renamed over it).
fn replace_with_link(target: &Path, at: &Path) -> Result<()> {
    let name = at.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let tmp = at.with_file_name(format!(".{name}.link"));
    let _ = std::fs::remove_file(&tmp);
    symlink(target, &tmp).with_context(|| format!("cannot write the link {}", at.display()))?;
    std::fs::rename(&tmp, at).with_context(|| format!("cannot move the link {} to {}", tmp.display(), at.display())).inspect_err(|_| {
        let _ = std::fs::remove_file(&tmp);
    })
}

#[cfg(unix)]
fn symlink(target: &Path, at: &Path) -> std::io::Result<()> {
    std::os::unix::fs::symlink(target, at)
}

#[cfg(not(unix))]
fn symlink(_: &Path, _: &Path) -> std::io::Result<()> {
    Err(std::io::Error::new(std::io::ErrorKind::Unsupported, "symbolic links are needed to publish a run"))
}

fn switch_latest(dir: &Path, run: &str) -> Result<()> {
    replace_with_link(&Path::new(RUNS).join(run), &dir.join(LATEST))
}

/// The number of a run directory (`000012-…` → 12).
fn sequence(name: &str) -> Option<u64> {
    let (n, _) = name.split_once('-')?;
    (n.len() == 6).then(|| n.parse().ok()).flatten()
}

fn run_names(runs: &Path) -> Result<Vec<(u64, String)>> {
    let mut v: Vec<(u64, String)> = std::fs::read_dir(runs)
        .with_context(|| format!("cannot read {}", runs.display()))?
        .filter_map(|e| e.ok().map(|e| e.file_name().to_string_lossy().into_owned()))
        .filter_map(|n| Some((sequence(&n)?, n)))
        .collect();
    v.sort();
    Ok(v)
}

fn next_sequence(runs: &Path) -> Result<u64> {
    Ok(run_names(runs)?.last().map(|(n, _)| n + 1).unwrap_or(1))
}

fn utc_stamp() -> String {
    let secs = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0);
    chrono::DateTime::from_timestamp(secs, 0).map(|t| t.format("%Y%m%dT%H%M%SZ").to_string()).unwrap_or_default()
}

/// Removes the links `dir/NAME → latest/NAME` that open nothing (a name the latest run did not
/// write).
fn remove_dangling_links(dir: &Path) {
    for n in OUTPUT_NAMES {
        let top = dir.join(n);
        if std::fs::read_link(&top).is_ok_and(|t| t.starts_with(LATEST)) && !top.exists() {
            let _ = std::fs::remove_file(&top);
        }
    }
}

/// Deletes run directories beyond the last `KEEP_RUNS` (never `current`).
fn prune(runs: &Path, current: &str) {
    let names = run_names(runs).unwrap_or_default();
    let excess = names.len().saturating_sub(KEEP_RUNS);
    for (_, n) in names.into_iter().take(excess).filter(|(_, n)| n != current) {
        let _ = std::fs::remove_dir_all(runs.join(n));
    }
}

/// An output directory written by an earlier version holds its outputs as plain files. They
/// become the run `runs/000000-earlier` without a reader ever seeing them change: hard links to
/// them are made there, `latest` is pointed at it, and each plain file is then replaced by its
/// link through `latest` (the same bytes). A kill halfway is taken up again by the next run.
fn adopt_plain_files(dir: &Path) -> Result<()> {
    let plain: Vec<&str> = OUTPUT_NAMES.iter().copied().filter(|n| std::fs::symlink_metadata(dir.join(n)).is_ok_and(|m| m.is_file())).collect();
    if plain.is_empty() {
        return Ok(());
    }
    if std::fs::symlink_metadata(dir.join(LATEST)).is_err() {
        let earlier = dir.join(RUNS).join(EARLIER);
        if earlier.exists() {
            // Left by a kill before `latest` was made: nobody reads it.
            std::fs::remove_dir_all(&earlier).with_context(|| format!("cannot clear {}", earlier.display()))?;
        }
        std::fs::create_dir_all(&earlier).with_context(|| format!("cannot create {}", earlier.display()))?;
        for n in &plain {
            keep_as(&dir.join(n), &earlier.join(n))?;
        }
        switch_latest(dir, EARLIER)?;
        crate::fault::exit_at("adopt-switch");
    }
    let latest = run_dir(dir);
    for n in plain {
        let kept = latest.join(n);
        if !kept.exists() {
            keep_as(&dir.join(n), &kept)?;
        }
        link_output(dir, n)?;
        crate::fault::exit_at("adopt-first-link");
    }
    Ok(())
}

/// `to` is made the same file as `from`: a hard link, or a copy where links are not possible.
fn keep_as(from: &Path, to: &Path) -> Result<()> {
    std::fs::hard_link(from, to).or_else(|_| std::fs::copy(from, to).map(|_| ())).with_context(|| format!("cannot keep {} as {}", from.display(), to.display()))
}
