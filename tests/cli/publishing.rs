//! Publishing a run's outputs (issue 15, items 11, 12, 13 and 20): the output set appears at
//! once or not at all, the lock is never lost to a race, a full disk is reported with the file
//! it was writing and leaves nothing behind, and a failed write to stdout fails the command.

use crate::support::*;
use std::ffi::OsStr;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

const SAMPLE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/sample-data/county-2021");

/// One finished run of the binary.
struct Ran {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

impl Ran {
    fn show(&self) -> String {
        format!("exit {:?}\n--- stdout\n{}--- stderr\n{}", self.code, self.stdout, self.stderr)
    }

    #[track_caller]
    fn assert_code(&self, code: i32, what: &str) {
        assert_eq!(self.code, Some(code), "{what}: expected exit code {code}\n{}", self.show());
        assert!(!self.stderr.contains("panicked"), "{what}: fanpin panicked\n{}", self.show());
    }
}

fn ran(output: std::process::Output) -> Ran {
    Ran {
        code: output.status.code(),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

/// `fanpin screen -q` with the reference rules; `env` adds environment variables (the fault
/// hooks).
fn screen_cmd(data: &Path, out: &Path, extra: &[&OsStr], env: &[(&str, &str)]) -> Command {
    let mut cmd = Command::new(BIN);
    cmd.args(["screen", "--rules", RULES, "-q", "--data"]).arg(data).arg("--out").arg(out).args(extra);
    cmd.env_remove("FANPIN_FAULT");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd
}

fn screen(data: &Path, out: &Path, extra: &[&OsStr], env: &[(&str, &str)]) -> Ran {
    ran(screen_cmd(data, out, extra, env).output().expect("failed to start fanpin"))
}

/// A small county: H1 (脱贫户, 5000.00 < 6320 → listed) and H2 (一般农户, 20000.00 → not).
fn small_county(dir: &Path) -> PathBuf {
    let mut fx = Fixture::new();
    let (a, b) = (fx.person("甲一"), fx.person("乙二"));
    fx.household(hh("H1", "脱贫户", &a).wage("5000"));
    fx.household(hh("H2", "一般农户", &b).wage("20000"));
    let data = dir.join("data-small");
    fx.write_data(&data);
    data
}

// ---------------------------------------------------------------- stdout (item 20)

#[test]
fn diff_to_a_full_stdout_fails_with_a_message_and_to_a_closed_pipe_exits_0() {
    let tmp = tempfile::tempdir().unwrap();
    let (a, b) = (tmp.path().join("a"), tmp.path().join("b"));
    screen(Path::new(SAMPLE), &a, &[], &[]).assert_code(0, "screen the sample county");
    screen(&small_county(tmp.path()), &b, &[], &[]).assert_code(0, "screen the small county");
    let diff = || {
        let mut cmd = Command::new(BIN);
        cmd.arg("diff").arg(&a).arg(&b).args(["--limit", "100000"]);
        cmd
    };

    // /dev/full: every write fails with ENOSPC. The report is lost: the command must say so.
    let full = std::fs::File::create("/dev/full").expect("/dev/full");
    let r = ran(diff().stdout(full).output().unwrap());
    r.assert_code(1, "diff > /dev/full");
    assert!(r.stderr.contains("standard output") && r.stderr.contains("No space left on device"), "{}", r.show());
    assert!(!r.stderr.contains("Os {"), "no Debug dump\n{}", r.show());

    // `| head -1`: the reader stops after one line; the rest (over 64 KB: the sample county's
    // ~1,000 listed households, all removed in B) is dropped quietly.
    let mut child = diff().stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let mut first = [0u8; 64];
    let n = stdout.read(&mut first).unwrap();
    assert!(n > 0, "diff wrote something");
    drop(stdout);
    let out = child.wait_with_output().unwrap();
    let r = ran(out);
    r.assert_code(0, "diff | head -1");
    assert!(r.stderr.is_empty(), "a closed pipe is not an error\n{}", r.show());
}

// ---------------------------------------------------------------- the lock (item 12)

/// Names in `dir` starting with `prefix`.
fn names_starting(dir: &Path, prefix: &str) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .map(|rd| rd.filter_map(|e| e.ok()).map(|e| e.file_name().to_string_lossy().into_owned()).filter(|n| n.starts_with(prefix)).collect())
        .unwrap_or_default();
    v.sort();
    v
}

/// Starts `n` runs on `out` at once, with the lock widened by `slow-lock` (300 ms between
/// starting to take the lock and finishing) and held by the winner (`hold-lock`) until every
/// other run has exited. Returns the runs' results and how many held the lock at once.
fn race(data: &Path, out: &Path, ctl: &Path, n: usize) -> (Vec<Ran>, usize) {
    std::fs::create_dir_all(ctl).unwrap();
    let fault = format!("slow-lock,hold-lock={}", ctl.display());
    let mut children: Vec<_> = (0..n)
        .map(|_| screen_cmd(data, out, &[], &[("FANPIN_FAULT", &fault)]).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap())
        .collect();
    let started = std::time::Instant::now();
    let holding = loop {
        let exited = children.iter_mut().map(|c| c.try_wait().unwrap().is_some()).filter(|done| *done).count();
        let holding = names_starting(ctl, "holding.").len();
        if exited + holding == n || started.elapsed().as_secs() > 120 {
            break holding;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    };
    std::fs::write(ctl.join("release"), "").unwrap();
    let results = children.into_iter().map(|c| ran(c.wait_with_output().unwrap())).collect();
    (results, holding)
}

#[test]
fn concurrent_runs_on_one_output_directory_one_wins_the_others_exit_5_and_no_lock_is_left() {
    let tmp = tempfile::tempdir().unwrap();
    let data = small_county(tmp.path());
    let out = tmp.path().join("out");
    screen(&data, &out, &[], &[]).assert_code(0, "the first run");
    let flagged = std::fs::read(out.join("flagged.csv")).unwrap();
    for round in 0..6 {
        // Every other round starts from a lock a killed run left (its pid no longer exists):
        // the runs race to take it over, and only one may.
        if round % 2 == 1 {
            std::fs::write(out.join(".fanpin.lock"), "4194304999").unwrap();
        }
        let (results, holding) = race(&data, &out, &tmp.path().join(format!("ctl{round}")), 5);
        let shown: String = results.iter().map(Ran::show).collect::<Vec<_>>().join("\n");
        assert_eq!(holding, 1, "round {round}: runs holding the lock at once\n{shown}");
        let won = results.iter().filter(|r| r.code == Some(0)).count();
        assert_eq!(won, 1, "round {round}: exactly one run wins\n{shown}");
        for r in results.iter().filter(|r| r.code != Some(0)) {
            r.assert_code(5, &format!("round {round}: a run that lost the race"));
            assert!(r.stderr.contains("another fanpin run"), "{}", r.show());
        }
        assert_eq!(names_starting(&out, ".fanpin"), Vec::<String>::new(), "round {round}: no lock, lock temp file or staging directory left");
        assert_eq!(std::fs::read(out.join("flagged.csv")).unwrap(), flagged, "round {round}: the outputs are intact");
    }
}
