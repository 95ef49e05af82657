//! Diagnostics on stderr: plain text for people, or one JSON object per line
//! (`--log-format json`) for log collectors. Never carries an ID number: every warning and
//! error passes through `scrub` on its way out, in either format, whatever produced it.

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

/// At most this many characters of a file's content are quoted in a message (`quote`).
pub const QUOTE_CHARS: usize = 200;
/// A line of a message longer than this is cut: no message of fanpin's own needs more, so the
/// rest can only be a file's content quoted by a library.
const LINE_CHARS: usize = 1000;
/// A message longer than this is cut (rules-file diagnostics, a list, are not: `error_list`).
const MESSAGE_CHARS: usize = 8000;

/// `text` (a file's content quoted in a message) cut to `QUOTE_CHARS` characters, with a mark
/// saying how long it was; line ends shown as ⏎, so that it stays on its line.
pub fn quote(text: &str) -> String {
    let one_line = |t: &str| t.replace("\r\n", "⏎").replace(['\n', '\r'], "⏎");
    cut(&one_line(text), QUOTE_CHARS)
}

/// `text` cut to `max` characters, with a mark.
fn cut(text: &str, max: usize) -> String {
    let n = text.chars().count();
    if n <= max {
        return text.to_string();
    }
    let kept: String = text.chars().take(max).collect();
    format!("{kept}…(共{n}个字符,其余从略)")
}

/// What any warning or error becomes before it is written: ID-shaped values masked
/// (`mask_ids`), each line cut to `LINE_CHARS` and the whole to `MESSAGE_CHARS` characters.
pub fn scrub(message: &str) -> String {
    let lines: Vec<String> = mask_ids(message).split('\n').map(|l| cut(l, LINE_CHARS)).collect();
    cut(&lines.join("\n"), MESSAGE_CHARS)
}

/// `text` with every run of 15 or more digits (an ID number, 18 digits or 17 and X, or a
/// legacy 15-digit one; half- or full-width) masked as `522601********0016`: enough to find
/// the row, not to identify a person. Shorter numbers (amounts, dates, 14-digit codes) stay.
pub fn mask_ids(text: &str) -> String {
    let digit = |c: char| c.is_ascii_digit() || ('０'..='９').contains(&c);
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < chars.len() {
        let mut j = i;
        while j < chars.len() && digit(chars[j]) {
            j += 1;
        }
        if j - i == 17 && chars.get(j).is_some_and(|c| matches!(c, 'X' | 'x' | 'Ｘ' | 'ｘ')) {
            j += 1;
        }
        if j - i >= 15 {
            out.extend(&chars[i..i + 6]);
            out.extend(std::iter::repeat_n('*', j - i - 10));
            out.extend(&chars[j - 4..j]);
        } else {
            out.extend(&chars[i..j.max(i + 1)]);
        }
        i = j.max(i + 1);
    }
    out
}

/// A problem that does not stop the run.
pub fn warn(message: &str) {
    let message = &scrub(message);
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
    write_error(&scrub(message), exit_code);
}

/// Like `error`, for a list that may be long (every error of a rules file, each already short
/// and positioned): masked, not cut.
pub fn error_list(message: &str, exit_code: u8) {
    write_error(&mask_ids(message), exit_code);
}

fn write_error(message: &str, exit_code: u8) {
    if json() {
        emit("error", "failed", Map::from_iter([("message".to_string(), json!(message)), ("exit_code".to_string(), json!(exit_code))]));
    } else {
        let _ = writeln!(std::io::stderr().lock(), "{message}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn id_numbers_are_masked_and_other_numbers_kept() {
        assert_eq!(mask_ids("522601198001010016"), "522601********0016");
        assert_eq!(mask_ids("户主 11010519491231002X 张三"), "户主 110105********002X 张三");
        assert_eq!(mask_ids("110105491231002"), "110105*****1002");
        assert_eq!(mask_ids("５２２６０１１９８００１０１００１６"), "５２２６０１********００１６");
        // 14 digits or fewer: a 户编号 prefix, an amount, a date are kept.
        assert_eq!(mask_ids("52260110100100,12345.60,20210302,上年度家庭纯收入"), "52260110100100,12345.60,20210302,上年度家庭纯收入");
    }

    #[test]
    fn quotes_and_messages_are_cut_with_a_mark() {
        // 450 characters, line ends shown as ⏎; 200 kept: 66 × "a⏎b" (198) and "a⏎".
        let long = "a\nb".repeat(150);
        assert_eq!(quote(&long), format!("{}a⏎…(共450个字符,其余从略)", "a⏎b".repeat(66)));
        assert_eq!(quote("short\r\ntext"), "short⏎text");
        let message = format!("error: {}\nsecond line", "x".repeat(1500));
        let scrubbed = scrub(&message);
        assert!(scrubbed.starts_with(&format!("error: {}…(共1507个字符", "x".repeat(993))), "{scrubbed}");
        assert!(scrubbed.ends_with("\nsecond line"));
        // Many short lines: the whole is cut.
        let many = "522601198001010016\n".repeat(2000);
        let scrubbed = scrub(&many);
        assert!(scrubbed.chars().count() < MESSAGE_CHARS + 40 && !scrubbed.contains("198001010"), "{}", scrubbed.len());
    }
}
