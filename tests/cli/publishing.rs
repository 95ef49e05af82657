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
