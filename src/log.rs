//! Diagnostics on stderr: plain text for people, or one JSON object per line
//! (`--log-format json`) for log collectors. Never carries an ID number.

use serde_json::{json, Map, Value};
use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};

static JSON: AtomicBool = AtomicBool::new(false);

pub fn set_json(on: bool) {
    JSON.store(on, Ordering::Relaxed);
}

pub fn json() -> bool {
    JSON.load(Ordering::Relaxed)
}

fn now_ms() -> u128 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis()).unwrap_or(0)
}

fn emit(level: &str, event: &str, fields: Map<String, Value>) {
    let mut o = Map::new();
    o.insert("ts_ms".into(), json!(now_ms() as u64));
    o.insert("level".into(), json!(level));
    o.insert("event".into(), json!(event));
    o.extend(fields);
    // A closed stderr is no reason to fail a run.
    let _ = writeln!(std::io::stderr().lock(), "{}", Value::Object(o));
}

/// A problem that does not stop the run.
pub fn warn(message: &str) {
    if json() {
        emit("warn", "warning", Map::from_iter([("message".to_string(), json!(message))]));
    } else {
        let _ = writeln!(std::io::stderr().lock(), "warning: {message}");
    }
}

/// A progress or result event: only written in JSON mode (a person sees the spinner and the
/// terminal summary instead).
pub fn event(name: &str, fields: Value) {
    if json() {
        let fields = match fields {
            Value::Object(m) => m,
            other => Map::from_iter([("value".to_string(), other)]),
        };
        emit("info", name, fields);
    }
}

/// The error that ends a run, with its exit code.
pub fn error(message: &str, exit_code: u8) {
    if json() {
        emit("error", "failed", Map::from_iter([("message".to_string(), json!(message)), ("exit_code".to_string(), json!(exit_code))]));
    } else {
        let _ = writeln!(std::io::stderr().lock(), "{message}");
    }
}
