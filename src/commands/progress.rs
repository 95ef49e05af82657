//! The progress bar of `screen` on a terminal: stage k of n, and while the inputs are read the
//! bytes read of all input files, with rate and ETA. Drawn on stderr, only when stderr is a
//! terminal (indicatif hides it otherwise), and never with `-q` or `--log-format json`.

use crate::rules::plan::{Plan, Table};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::path::Path;
use std::time::Duration;

/// One line of an 80-column terminal at least (a longer line would wrap on every redraw).
const READING: &str = "{spinner} {msg} [{wide_bar}] {binary_bytes}/{binary_total_bytes} {binary_bytes_per_sec} 剩{eta}";
const WORKING: &str = "{spinner} {msg} · 输入已读完 · 已用 {elapsed}";

pub struct Progress {
    pb: ProgressBar,
    stage: usize,
    stages: usize,
    /// Bytes of the roster's files, and of every input file.
    roster_bytes: u64,
}

/// Total size of the files a table's pattern matches (0 when none, or unreadable: the run
/// reports that itself).
fn bytes(t: &Table, dir: &Path) -> u64 {
    crate::sources::read::resolve_table(t, dir).map(|files| files.iter().filter_map(|f| std::fs::metadata(f).ok()).map(|m| m.len()).sum()).unwrap_or(0)
}

fn style(template: &str) -> ProgressStyle {
    ProgressStyle::with_template(template).unwrap_or_else(|_| ProgressStyle::default_spinner()).progress_chars("=> ")
}

impl Progress {
    pub fn new(plan: &Plan, dir: &Path, hidden: bool) -> Progress {
        let target = if hidden { ProgressDrawTarget::hidden() } else { ProgressDrawTarget::stderr() };
        let (roster_bytes, total) = if hidden {
            (0, 0)
        } else {
            let roster = bytes(&plan.roster.households, dir) + bytes(&plan.roster.members, dir);
            (roster, roster + plan.sources.iter().map(|s| bytes(&s.table, dir)).sum::<u64>())
        };
        let pb = ProgressBar::with_draw_target(Some(total), target);
        pb.set_style(style(READING));
        pb.enable_steady_tick(Duration::from_millis(120));
        // Roster, extracts received, one join per source, members, households, outputs.
        let mut p = Progress { pb, stage: 0, stages: plan.sources.len() + 5, roster_bytes };
        p.next("读取户表与人表");
        p
    }

    /// The next stage begins.
    pub fn next(&mut self, message: &str) {
        self.stage = (self.stage + 1).min(self.stages);
        // One update (a redraw between two would show the new stage with the old message).
        self.pb.set_message(format!("第{}/{}步 {message}", self.stage, self.stages));
    }

    /// The roster's files are read (the extracts go on being read on another thread).
    pub fn roster_read(&self) {
        self.pb.set_position(self.roster_bytes);
    }

    /// Every input is read: from here on the stages compute.
    pub fn inputs_read(&self) {
        self.pb.set_position(self.pb.length().unwrap_or(0));
        self.pb.set_style(style(WORKING));
    }

    pub fn finish(&self) {
        self.pb.finish_and_clear();
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn both_templates_are_valid() {
        assert!(indicatif::ProgressStyle::with_template(super::READING).is_ok());
        assert!(indicatif::ProgressStyle::with_template(super::WORKING).is_ok());
    }
}
