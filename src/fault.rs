//! Fault injection, for tests only: `FANPIN_FAULT=point[,point=value…]` makes a run stop
//! abruptly, pause or fail at a named point, as a kill, a slow disk, a race or a full disk
//! would. Unset (always, outside tests), every hook is a no-op.
//!
//! Points: `exit-at=STEP` exits at once (no clean-up, as `kill -9`) at a publishing step (see
//! `report::publish`); `slow-lock` pauses 300 ms inside taking the lock, where a competing run
//! could slip in; `hold-lock=DIR` keeps the lock once taken: writes `DIR/holding.PID`, then waits
//! for `DIR/release`; `enospc=NAME` makes writing the output file NAME fail with "No space
//! left on device" after its first 4 KiB.

use std::sync::OnceLock;
use std::time::Duration;

fn points() -> &'static [(String, String)] {
    static POINTS: OnceLock<Vec<(String, String)>> = OnceLock::new();
    POINTS.get_or_init(|| {
        let spec = std::env::var("FANPIN_FAULT").unwrap_or_default();
        spec.split(',')
            .filter(|p| !p.is_empty())
            .map(|p| match p.split_once('=') {
                Some((k, v)) => (k.to_string(), v.to_string()),
                None => (p.to_string(), String::new()),
            })
            .collect()
    })
}

/// The value of an active point (empty when it has none).
pub fn value(point: &str) -> Option<&'static str> {
    points().iter().find(|(k, _)| k == point).map(|(_, v)| v.as_str())
}

/// `exit-at=STEP`: ends the process here, as a kill would (no destructor runs: the lock and
/// the staging directory stay behind).
pub fn exit_at(step: &str) {
    if value("exit-at") == Some(step) {
        eprintln!("fault injection: exit at {step}");
        std::process::exit(99);
    }
}

/// `slow-lock`: widens a race window.
pub fn slow_lock() {
    if value("slow-lock").is_some() {
        std::thread::sleep(Duration::from_millis(300));
    }
}

/// `hold-lock=DIR`: keeps the lock until the test says so (at most two minutes).
pub fn hold_lock() {
    if let Some(dir) = value("hold-lock") {
        let dir = std::path::Path::new(dir);
        let _ = std::fs::write(dir.join(format!("holding.{}", std::process::id())), "");
        for _ in 0..6000 {
            if dir.join("release").exists() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

/// `enospc=NAME`: whether writing the file `name` fails once 4 KiB are written.
pub fn enospc(name: &str) -> bool {
    value("enospc") == Some(name)
}
