//! Publishing a run's outputs (issue 15, items 11, 12, 13 and 20): the output set appears at
//! once or not at all, the lock is never lost to a race, a full disk is reported with the file
//! it was writing and leaves nothing behind, and a failed write to stdout fails the command.

use crate::support::*;
use std::ffi::OsStr;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

const SAMPLE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/sample-data/county-2021");

/// `fanpin screen -q` with the reference rules; `env` adds environment variables (the fault
/// hooks).
fn screen_cmd(data: &Path, out: &Path, extra: &[&OsStr], env: &[(&str, &str)]) -> Command {
    let mut cmd = fanpin_cmd();
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
        let mut cmd = fanpin_cmd();
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
    let mut children: Vec<_> =
        (0..n).map(|_| screen_cmd(data, out, &[], &[("FANPIN_FAULT", &fault)]).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap()).collect();
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

// ---------------------------------------------------------------- publishing (item 11)

/// Every file a screen or notice may write in an output directory.
const OUTPUTS: [&str; 15] = [
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

/// What a reader opening `DIR/<name>` sees: each output name that opens, with its bytes.
fn visible(dir: &Path) -> Vec<(String, Vec<u8>)> {
    OUTPUTS.iter().filter_map(|n| std::fs::read(dir.join(n)).ok().map(|b| (n.to_string(), b))).collect()
}

fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    format!("{:x}", sha2::Sha256::digest(bytes))
}

/// Asserts that the files a reader sees are one run's set: the visible manifest.json lists
/// exactly the other visible files (notice files aside), each with its SHA-256.
#[track_caller]
fn assert_one_run(seen: &[(String, Vec<u8>)], what: &str) {
    let names: Vec<&str> = seen.iter().map(|(n, _)| n.as_str()).collect();
    let manifest = seen.iter().find(|(n, _)| n == "manifest.json").unwrap_or_else(|| panic!("{what}: no manifest.json among {names:?}"));
    let m: serde_json::Value = serde_json::from_slice(&manifest.1).unwrap();
    let mut listed: Vec<(String, String)> =
        m["outputs"].as_array().unwrap().iter().map(|o| (o["file"].as_str().unwrap().to_string(), o["sha256"].as_str().unwrap().to_string())).collect();
    listed.sort();
    let mut files: Vec<(String, String)> =
        seen.iter().filter(|(n, _)| n != "manifest.json" && !n.starts_with("notice.")).map(|(n, b)| (n.clone(), sha256_hex(b))).collect();
    files.sort();
    assert_eq!(files, listed, "{what}: the files seen are not the set their manifest.json lists");
}

/// Two months of a small county. April: H1, H3 listed (5000.00 < 6320). May: H1 earns 7000.00
/// and drops off, H3 stays, H2 is new at 5000.00. Returns (april data, may data).
fn two_months(dir: &Path) -> (PathBuf, PathBuf) {
    let write = |name: &str, h1: &str, h2: &str| {
        let mut fx = Fixture::new();
        let (a, b, c) = (fx.person("甲一"), fx.person("乙二"), fx.person("丙三"));
        fx.household(hh("H1", "脱贫户", &a).wage(h1));
        fx.household(hh("H2", "一般农户", &b).wage(h2));
        fx.household(hh("H3", "脱贫户", &c).wage("5000"));
        let data = dir.join(name);
        fx.write_data(&data);
        data
    };
    (write("april", "5000", "20000"), write("may", "7000", "5000"))
}

/// `out` holding April's run made with `--previous` (so it has dropped.csv), and what a reader
/// sees there.
fn april_with_previous(tmp: &Path, april: &Path, out: &Path) -> Vec<(String, Vec<u8>)> {
    let before = tmp.join("march-out");
    screen(april, &before, &[], &[]).assert_code(0, "March");
    screen(april, out, &["--previous".as_ref(), before.as_os_str()], &[]).assert_code(0, "April with --previous");
    let seen = visible(out);
    assert!(seen.iter().any(|(n, _)| n == "dropped.csv"), "April's run with --previous writes dropped.csv");
    assert_one_run(&seen, "April");
    seen
}

#[test]
fn a_run_killed_while_publishing_leaves_the_previous_set_or_the_new_one_never_a_mix() {
    let tmp = tempfile::tempdir().unwrap();
    let (april, may) = two_months(tmp.path());
    // The steps of publishing (see report::publish), in order; a kill after the switch of
    // `latest` leaves May's set, before it April's.
    for (step, switched) in [("run-dir", false), ("first-output", false), ("switch", true)] {
        let out = tmp.path().join(format!("out-{step}"));
        let old = april_with_previous(tmp.path(), &april, &out);
        let r = screen(&may, &out, &[], &[("FANPIN_FAULT", &format!("exit-at={step}"))]);
        r.assert_code(99, &format!("May, killed at {step}"));
        let seen = visible(&out);
        assert_one_run(&seen, &format!("killed at {step}"));
        if switched {
            assert_ne!(seen, old, "killed after the switch: May's set");
            assert!(!seen.iter().any(|(n, _)| n == "dropped.csv"), "May's run has no --previous: no dropped.csv");
        } else {
            assert!(seen == old, "killed at {step}, before the switch: April's set as it was");
        }
        // The next run takes the killed run's lock over and publishes May's set.
        screen(&may, &out, &[], &[]).assert_code(0, &format!("May again after the kill at {step}"));
        let seen = visible(&out);
        assert_one_run(&seen, &format!("May after the kill at {step}"));
        assert!(!seen.iter().any(|(n, _)| n == "dropped.csv"), "no stale dropped.csv");
        assert_eq!(names_starting(&out, ".fanpin"), Vec::<String>::new(), "no lock or staging directory left");
    }
}

#[test]
fn a_run_without_previous_leaves_no_dropped_csv_of_the_run_before_visible() {
    let tmp = tempfile::tempdir().unwrap();
    let (april, may) = two_months(tmp.path());
    let out = tmp.path().join("out");
    april_with_previous(tmp.path(), &april, &out);
    screen(&may, &out, &[], &[]).assert_code(0, "May without --previous");
    assert!(!out.join("dropped.csv").exists(), "April's dropped.csv is not beside May's flagged.csv");
    assert_one_run(&visible(&out), "May");
    // May: H2 and H3 listed (H1 earns 7000.00 ≥ 6320).
    let flagged = String::from_utf8(std::fs::read(out.join("flagged.csv")).unwrap()).unwrap();
    let keys: Vec<&str> = flagged.lines().skip(1).map(|l| l.split(',').nth(2).unwrap()).collect();
    assert_eq!(keys, ["H2", "H3"]);
}

/// An output directory as an earlier version left it: April's outputs (made with --previous,
/// so with dropped.csv) as plain files.
fn earlier_version_dir(tmp: &Path, april: &Path) -> (PathBuf, Vec<(String, Vec<u8>)>) {
    let made = tmp.join("made-by-this-version");
    let seen = april_with_previous(tmp, april, &made);
    let old = tmp.join("earlier");
    std::fs::create_dir_all(&old).unwrap();
    for (n, bytes) in &seen {
        std::fs::write(old.join(n), bytes).unwrap();
    }
    (old, seen)
}

fn fanpin(args: &[&OsStr]) -> Ran {
    ran(fanpin_cmd().args(args).output().unwrap())
}

#[test]
fn diff_explain_notice_replay_and_previous_read_a_directory_of_either_layout() {
    let tmp = tempfile::tempdir().unwrap();
    let (april, may) = two_months(tmp.path());
    let (old, _) = earlier_version_dir(tmp.path(), &april);
    let new = tmp.path().join("new");
    screen(&may, &new, &[], &[]).assert_code(0, "May");
    for (a, b) in [(&old, &new), (&new, &old)] {
        // April lists H1, H3; May H2, H3: one added, one removed either way.
        let r = fanpin(&["diff".as_ref(), a.as_os_str(), b.as_os_str()]);
        r.assert_code(0, "diff");
        assert!(r.stdout.contains("新增 1 户, 移出 1 户"), "{}", r.show());
    }
    for dir in [&old, &new] {
        let r = fanpin(&["explain".as_ref(), "--out".as_ref(), dir.as_os_str(), "H3".as_ref()]);
        r.assert_code(0, "explain");
        assert!(r.stdout.contains("H3"), "{}", r.show());
        fanpin(&["notice".as_ref(), "--out".as_ref(), dir.as_os_str()]).assert_code(0, "notice");
        let notice = String::from_utf8(std::fs::read(dir.join("notice.csv")).unwrap()).unwrap();
        assert!(notice.contains("丙三"), "H3's head in the notice\n{notice}");
        fanpin(&["replay".as_ref(), dir.join("manifest.json").as_os_str()]).assert_code(0, "replay");
        let next = tmp.path().join(format!("next-{}", dir.file_name().unwrap().to_string_lossy()));
        screen(&may, &next, &["--previous".as_ref(), dir.as_os_str()], &[]).assert_code(0, "--previous");
        fanpin(&["replay".as_ref(), next.join("manifest.json").as_os_str()]).assert_code(0, "replay of a run made with --previous");
    }
    // The earlier version's directory is still as it was: its own files, the notice beside them.
    assert!(std::fs::symlink_metadata(old.join("flagged.csv")).unwrap().is_file() && !old.join("latest").exists());
}

#[test]
fn the_first_run_on_an_earlier_versions_directory_keeps_its_files_as_a_run_and_a_kill_there_changes_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let (april, may) = two_months(tmp.path());
    for step in ["adopt-switch", "adopt-first-link", "run-dir", "switch"] {
        let (old, seen) = earlier_version_dir(&tmp.path().join(step), &april);
        let r = screen(&may, &old, &[], &[("FANPIN_FAULT", &format!("exit-at={step}"))]);
        r.assert_code(99, &format!("killed at {step}"));
        let now = visible(&old);
        assert_one_run(&now, &format!("killed at {step}"));
        if step != "switch" {
            assert!(now == seen, "killed at {step}: the earlier files as they were");
        }
        screen(&may, &old, &[], &[]).assert_code(0, "May");
        assert_one_run(&visible(&old), "May");
        assert!(!old.join("dropped.csv").exists(), "April's dropped.csv is not beside May's files");
        // April's files are kept, byte for byte, as the run before.
        for (n, bytes) in &seen {
            assert_eq!(&std::fs::read(old.join("runs/000000-earlier").join(n)).unwrap(), bytes, "{n} kept");
        }
    }
}

#[test]
fn the_last_five_run_directories_are_kept_and_latest_names_the_newest() {
    let tmp = tempfile::tempdir().unwrap();
    let data = small_county(tmp.path());
    let out = tmp.path().join("out");
    for _ in 0..7 {
        screen(&data, &out, &[], &[]).assert_code(0, "a run");
    }
    let runs = names_starting(&out.join("runs"), "");
    let numbers: Vec<&str> = runs.iter().map(|n| &n[..7]).collect();
    assert_eq!(numbers, ["000003-", "000004-", "000005-", "000006-", "000007-"], "{runs:?}");
    assert_eq!(std::fs::read_link(out.join("latest")).unwrap(), Path::new("runs").join(&runs[4]));
    assert_eq!(std::fs::read_link(out.join("flagged.csv")).unwrap(), Path::new("latest/flagged.csv"));
}

// ---------------------------------------------------------------- a full disk (item 13)

/// Asserts that a run stopped by a full disk said so once, naming the file under `out` it was
/// writing, with no Debug dump, and left no lock or staging directory.
#[track_caller]
fn assert_full_disk_reported(r: &Ran, out: &Path, what: &str) {
    r.assert_code(1, what);
    let lines: Vec<&str> = r.stderr.lines().collect();
    assert_eq!(lines.len(), 1, "{what}: one message\n{}", r.show());
    let line = lines[0];
    assert!(line.starts_with("error: cannot write ") && line.contains(&format!(" {}/", out.display())), "{what}: the file is named\n{}", r.show());
    assert_eq!(line.matches("No space left on device").count(), 1, "{what}: the reason, once\n{}", r.show());
    assert!(!line.contains("Os {") && !line.contains("ZipWriter"), "{what}: no Debug dump\n{}", r.show());
    assert_eq!(names_starting(out, ".fanpin"), Vec::<String>::new(), "{what}: no lock or staging directory left");
}

#[test]
fn a_write_failing_with_a_full_disk_names_the_file_and_leaves_the_previous_run_and_no_lock() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    screen(Path::new(SAMPLE), &out, &[], &[]).assert_code(0, "the sample county");
    let before = visible(&out);
    // The workbook (a zip: its writer used to print a Debug dump when dropped), a CSV written by
    // polars, and the manifest, each failing after its first 4 KiB.
    for name in ["report.xlsx", "flagged.csv", "manifest.json"] {
        let r = screen(Path::new(SAMPLE), &out, &[], &[("FANPIN_FAULT", &format!("enospc={name}"))]);
        assert_full_disk_reported(&r, &out, name);
        assert!(r.stderr.contains(&format!("/{name}: ")), "{name} is named\n{}", r.show());
        assert!(visible(&out) == before, "{name}: the previous run's files as they were");
    }
}

/// A real full disk: the output directory on a 200 KB (and smaller, and larger) tmpfs. Needs
/// root (mount); elsewhere the fault hook test above stands for it.
#[test]
fn a_real_full_disk_names_the_file_and_leaves_no_lock() {
    let tmp = tempfile::tempdir().unwrap();
    // (mount options, KiB filled before the run): a disk full from the start fails on the lock;
    // one with 20 inodes holds the outputs but not their links, so publishing fails.
    for (size, filled) in [("size=8k", 8), ("size=8k", 0), ("size=200k", 0), ("size=700k", 0), ("size=2m,nr_inodes=20", 0)] {
        let mnt = tmp.path().join(format!("disk-{size}-{filled}"));
        std::fs::create_dir_all(&mnt).unwrap();
        let mounted = Command::new("mount").args(["-t", "tmpfs", "-o", size, "tmpfs"]).arg(&mnt).output();
        if !mounted.is_ok_and(|o| o.status.success()) {
            eprintln!("skipped: cannot mount a tmpfs (not root?)");
            return;
        }
        if filled > 0 {
            let _ = std::fs::write(mnt.join("filler"), vec![0u8; filled * 1024]);
        }
        let out = mnt.join("out");
        let r = screen(Path::new(SAMPLE), &out, &[], &[]);
        let left = names_starting(&out, ".fanpin");
        assert_eq!(names_starting(&out.join("runs"), ""), Vec::<String>::new(), "{size}: no run directory left unpublished");
        assert!(!out.join("latest").exists() && !out.join("flagged.csv").exists(), "{size}: nothing published");
        let _ = Command::new("umount").arg(&mnt).status();
        assert_full_disk_reported(&r, &out, &format!("a {size} disk"));
        assert_eq!(left, Vec::<String>::new(), "{size}: no lock or staging directory left");
    }
}
