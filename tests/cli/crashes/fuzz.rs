//! A bounded, deterministic fuzz corpus run by `cargo test` (issue 15, "Done when"): the shipped
//! rules file and a tiny data directory are mutated (byte flips, deleted and duplicated lines,
//! deep nesting, huge numbers, odd Unicode, lone CRs, stray quotes) and each mutant is run through
//! the real binary. No run may panic, abort or die by a signal, exit with an undocumented code,
//! print a full ID number, or, at exit 0, lose a record of the data.
//!
//! `FANPIN_FUZZ_ITERATIONS=20000 cargo test --test cli fuzz -- --nocapture` runs a longer corpus
//! (each test runs that many mutants; `FANPIN_FUZZ_SEED` changes the corpus). A failing mutant is
//! kept under `target/fuzz-failures/` and named in the failure.

use crate::support::*;
use std::path::{Path, PathBuf};
use std::process::Output;

/// xorshift64*: deterministic, no crate needed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
    fn pick<'a, T>(&mut self, xs: &'a [T]) -> &'a T {
        &xs[self.below(xs.len())]
    }
}

fn iterations(default: usize) -> usize {
    std::env::var("FANPIN_FUZZ_ITERATIONS").ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn seed(salt: u64) -> u64 {
    let s = std::env::var("FANPIN_FUZZ_SEED").ok().and_then(|v| v.parse().ok()).unwrap_or(2021u64);
    (s ^ salt).wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1
}

const ODD: &[&str] = &[
    "\u{0}",
    "\u{202e}",
    "\u{feff}",
    "\u{3000}",
    "𝟘",
    "é",
    "e\u{301}",
    "\u{fffd}",
    "\t",
    "\r",
    "\r\n",
    "\"",
    "'",
    "\\",
    "{",
    "}",
    "[",
    "]",
    "=",
    "#",
    ",",
    "合  计",
    "·",
    "…",
    "\u{10ffff}",
    "１２３",
    "  ",
];

/// Long numbers without a run of 15 digits (a run that long would look like an ID number).
fn huge_number(rng: &mut Rng) -> String {
    let group = |rng: &mut Rng| "9".repeat(1 + rng.below(14));
    match rng.below(4) {
        0 => format!("{}.{}", group(rng), group(rng)),
        1 => format!("-{}", group(rng)),
        2 => format!("{}e{}", group(rng), rng.below(400)),
        _ => format!("{}.{}.{}", group(rng), group(rng), group(rng)),
    }
}

/// Splits into lines keeping their ends.
fn lines_of(bytes: &[u8]) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let mut start = 0;
    for (i, b) in bytes.iter().enumerate() {
        if *b == b'\n' {
            out.push(bytes[start..=i].to_vec());
            start = i + 1;
        }
    }
    if start < bytes.len() {
        out.push(bytes[start..].to_vec());
    }
    out
}

/// One mutation common to rules and data files.
fn mutate_bytes(rng: &mut Rng, bytes: &mut Vec<u8>) {
    if bytes.is_empty() {
        bytes.extend_from_slice(rng.pick(ODD).as_bytes());
        return;
    }
    let at = rng.below(bytes.len());
    match rng.below(8) {
        0 => bytes[at] ^= 1 << rng.below(8),
        1 | 2 => {
            let mut lines = lines_of(bytes);
            let i = rng.below(lines.len());
            if rng.below(2) == 0 {
                lines.remove(i);
            } else {
                let copy = lines[i].clone();
                lines.insert(i, copy);
            }
            *bytes = lines.concat();
        }
        3 => {
            // spaced, so that it never joins digits around it into an ID-shaped run
            let n = format!(" {} ", huge_number(rng));
            bytes.splice(at..at, n.into_bytes());
        }
        4 => {
            let s = rng.pick(ODD).as_bytes().to_vec();
            bytes.splice(at..at, s);
        }
        5 => {
            // cut anywhere, or right after the header line (no record left)
            let header_end = bytes.iter().position(|b| *b == b'\n').map_or(bytes.len(), |p| p + 1);
            bytes.truncate(if rng.below(3) == 0 { header_end } else { at });
        }
        6 => {
            let end = (at + 1 + rng.below(40)).min(bytes.len());
            bytes.drain(at..end);
        }
        _ => {
            // a line end replaced by a lone CR (old Mac exports)
            if let Some(p) = bytes[at..].iter().position(|b| *b == b'\n') {
                bytes[at + p] = b'\r';
            }
        }
    }
}

/// Where an ID number is on the terminal: `[1-9]\d{16}[\dXx]`, or a run of exactly 15 digits.
fn leaked_id(text: &str) -> Option<String> {
    let b = text.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if !b[i].is_ascii_digit() {
            i += 1;
            continue;
        }
        let start = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        let run = i - start;
        let x = i < b.len() && matches!(b[i], b'X' | b'x');
        let long = (run >= 18 || (run == 17 && x)) && (start..i).any(|s| b[s] != b'0' && i - s >= 17);
        if long || run == 15 {
            return Some(String::from_utf8_lossy(&b[start..(i + 1).min(b.len())]).into_owned());
        }
    }
    None
}

/// Saves a failing mutant's files and returns where.
fn keep(name: &str, i: usize, files: &[(&str, &[u8])]) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("fuzz-failures").join(format!("{name}-{i}"));
    std::fs::create_dir_all(&dir).unwrap();
    for (f, bytes) in files {
        std::fs::write(dir.join(f), bytes).unwrap();
    }
    dir
}

/// The problems of one run: a signal, a panic, an undocumented exit code, an ID on the terminal.
fn problems(o: &Output, allowed: &[i32]) -> Vec<String> {
    let mut out = Vec::new();
    let (stdout, stderr) = (String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr));
    match o.status.code() {
        None => out.push(format!("killed by a signal: {}", o.status)),
        Some(c) if !allowed.contains(&c) => out.push(format!("exit code {c}")),
        _ => {}
    }
    if stderr.contains("panicked") || stderr.contains("overflowed its stack") || stderr.contains("memory allocation") {
        out.push("panic or abort".into());
    }
    for (what, text) in [("stdout", &stdout), ("stderr", &stderr)] {
        if let Some(id) = leaked_id(text) {
            out.push(format!("an ID number on {what}: {id}"));
        }
    }
    if !out.is_empty() {
        let cut = |s: &str| s.chars().take(1500).collect::<String>();
        out.push(format!("--- stderr\n{}\n--- stdout\n{}", cut(&stderr), cut(&stdout)));
    }
    out
}

/// Deep nesting or a long chain put into one of the rules' conditions.
fn deepen(rng: &mut Rng, text: &str) -> String {
    let whens: Vec<usize> = text.match_indices("when = \"").map(|(i, _)| i + 8).collect();
    let Some(&at) = whens.get(rng.below(whens.len())) else { return text.to_string() };
    let Some(len) = text[at..].find('"') else { return text.to_string() };
    let inner = &text[at..at + len];
    let n = 1 + rng.below(6000);
    let new = match rng.below(5) {
        0 => format!("{}{inner}{}", "(".repeat(n), ")".repeat(n)),
        1 => format!("{}{inner}", "not ".repeat(n)),
        2 => format!("{}{inner}{}", "if true then ".repeat(n.min(3000)), " else false".repeat(n.min(3000))),
        3 => vec![inner; n.min(3000)].join(" or "),
        _ => format!("{}{inner}{}", "(".repeat(n), ")".repeat(rng.below(n + 1))),
    };
    format!("{}{new}{}", &text[..at], &text[at + len..])
}

#[test]
fn fuzzed_rules_files_never_crash_check_or_print_an_id() {
    let original = std::fs::read(RULES).unwrap();
    let mut rng = Rng(seed(1));
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("mutant.toml");
    let mut failures = Vec::new();
    for i in 0..iterations(300) {
        let mut bytes = original.clone();
        if rng.below(4) == 0 {
            bytes = deepen(&mut rng, &String::from_utf8_lossy(&bytes)).into_bytes();
        }
        for _ in 0..1 + rng.below(3) {
            mutate_bytes(&mut rng, &mut bytes);
        }
        // Invalid UTF-8 is kept: it is a positioned error (exit 3) like any other.
        std::fs::write(&path, &bytes).unwrap();
        let o = fanpin_cmd().arg("check").arg(&path).output().expect("failed to start fanpin");
        let p = problems(&o, &[0, 3, 9]);
        if !p.is_empty() {
            let kept = keep("rules", i, &[("mutant.toml", &bytes)]);
            failures.push(format!("mutant {i} ({}):\n{}", kept.display(), p.join("\n")));
        }
    }
    assert!(failures.is_empty(), "{} failing mutants:\n{}", failures.len(), failures.join("\n\n"));
}

// ---------------------------------------------------------------- data directories

/// The line each record of a delimited text starts on, as an independent reader sees it: a
/// record ends at LF, CRLF or a lone CR outside quotes; a quote opens a quoted field only at the
/// start of a field; empty lines are not records.
fn record_lines(bytes: &[u8]) -> Vec<usize> {
    let bytes = bytes.strip_prefix(BOM).unwrap_or(bytes);
    let mut out = Vec::new();
    // `line`: the physical line of byte `i`; `start`: the line the current record starts on
    let (mut line, mut i, mut start) = (1usize, 0usize, None);
    let (mut quoted, mut field_start) = (false, true);
    while i < bytes.len() {
        let b = bytes[i];
        let ends_line = b == b'\n' || (b == b'\r' && bytes.get(i + 1) != Some(&b'\n'));
        if (b == b'\n' || b == b'\r') && !quoted {
            out.extend(start.take());
            field_start = true;
        } else {
            start.get_or_insert(line);
            match b {
                b'"' if quoted && bytes.get(i + 1) == Some(&b'"') => i += 1,
                b'"' if quoted => quoted = false,
                b'"' if field_start => quoted = true,
                _ => {}
            }
            field_start = b == b',';
        }
        line += usize::from(ends_line);
        i += 1;
    }
    out.extend(start);
    out
}

#[test]
fn the_independent_record_reader_counts_physical_lines() {
    // 1 header · 2 a · 3 (blank) · 4 "x<LF>y" spans 4-5 · 6 b<CR> · 7 c<CRLF> · 8 d
    let text = b"h,i\na,1\n\n\"x\ny\",2\nb,3\rc,4\r\nd,5";
    assert_eq!(record_lines(text), vec![1, 2, 4, 6, 7, 8]);
    // a quote inside a field is literal; a quoted "" is a quote
    assert_eq!(record_lines(b"a\"b,1\n\"c\"\"d\",2\n"), vec![1, 2]);
}

/// The tiny data directory every mutant starts from: 6 households with members and medical
/// records (keys H01…, so that no 16-digit 户编号 is confused with an ID on the terminal).
fn base_fixture() -> Fixture {
    let mut f = Fixture::new();
    for i in 1..=6 {
        let head = f.person(&format!("户主{i}"));
        let child = f.person(&format!("子女{i}"));
        let key = format!("H0{i}");
        f.household(hh(&key, if i % 2 == 0 { "脱贫户" } else { "一般农户" }, &head).wage(&format!("{}", 3000 * i)));
        f.member(&key, &child, "子女");
        f.medical(&head, &format!("2021-03-0{i}"), &format!("{}.50", 1000 * i), if i == 3 { "是" } else { "否" });
        f.medical(&child, &format!("2020-12-1{i}"), "12000.00", "否");
    }
    f
}

const DATA_FILES: [&str; 3] = ["households.csv", "members.csv", "medical.csv"];

/// The manifest's entry for `file` of source `source`.
fn manifest_file(manifest: &serde_json::Value, source: &str) -> Option<serde_json::Value> {
    let input = manifest["inputs"].as_array()?.iter().find(|i| i["source"] == source)?;
    input["files"].as_array()?.first().cloned()
}

/// "Nothing lost at exit 0": every record of every input was read (a record, a blank or total
/// line skipped, or a title above the header), and every household record is screened, rejected
/// or excluded.
fn lost_records(out: &Path, files: &[(String, Vec<u8>)]) -> Vec<String> {
    let mut lost = Vec::new();
    let manifest: serde_json::Value = serde_json::from_slice(&std::fs::read(out.join("manifest.json")).unwrap()).unwrap();
    for (name, bytes) in files {
        let source = name.trim_end_matches(".csv");
        let Some(m) = manifest_file(&manifest, source) else {
            lost.push(format!("{name}: not in the manifest"));
            continue;
        };
        let header = m["header_line"].as_u64().unwrap_or(1) as usize;
        let mine = record_lines(bytes).into_iter().filter(|l| *l > header).count();
        let n = |k: &str| m[k].as_u64().unwrap_or(0) as usize;
        // every record is read, as a record or a skipped line; an empty line may count as a
        // skipped blank row (CRLF inside an LF file), but no record is made up
        let (data, read) = (n("records") + n("skipped_total_rows"), n("records") + n("skipped_total_rows") + n("skipped_blank_rows"));
        if mine > read || data > mine {
            lost.push(format!("{name}: {mine} records after the header line {header}, fanpin read {data} and {} blank", n("skipped_blank_rows")));
        }
        if source == "households" {
            let rejected: std::collections::BTreeSet<String> = read_bom_csv(&out.join("rejects.csv"))
                .records()
                .into_iter()
                .filter(|r| r.get("文件") == name.as_str())
                .map(|r| r.get("行号").to_string())
                .collect();
            let screened = read_bom_csv(&out.join("screened.csv")).rows.len();
            let excluded = manifest["counts"]["households_excluded"].as_u64().unwrap_or(0) as usize;
            if n("records") != screened + rejected.len() + excluded {
                lost.push(format!("households.csv: {} records, {screened} screened + {} rejected + {excluded} excluded", n("records"), rejected.len()));
            }
        }
    }
    lost
}

#[test]
fn fuzzed_data_directories_never_crash_screen_lose_a_record_or_print_an_id() {
    let tmp = tempfile::tempdir().unwrap();
    let base = tmp.path().join("base");
    base_fixture().write_data(&base);
    let originals: Vec<(String, Vec<u8>)> = DATA_FILES.iter().map(|f| (f.to_string(), std::fs::read(base.join(f)).unwrap())).collect();
    let mut rng = Rng(seed(2));
    let (mut failures, mut codes) = (Vec::new(), std::collections::BTreeMap::new());
    for i in 0..iterations(120) {
        let mut files = originals.clone();
        for _ in 0..1 + rng.below(3) {
            let k = rng.below(files.len());
            mutate_bytes(&mut rng, &mut files[k].1);
        }
        let data = tmp.path().join(format!("data{i}"));
        let out = tmp.path().join(format!("out{i}"));
        std::fs::create_dir_all(&data).unwrap();
        for (name, bytes) in &files {
            std::fs::write(data.join(name), bytes).unwrap();
        }
        let o = fanpin_cmd().args(["screen", "--rules", RULES, "-q", "--data"]).arg(&data).arg("--out").arg(&out).output().expect("failed to start fanpin");
        *codes.entry(o.status.code()).or_insert(0usize) += 1;
        let mut p = problems(&o, &[0, 6, 7]);
        if p.is_empty() && o.status.code() == Some(0) {
            p = lost_records(&out, &files);
        }
        if !p.is_empty() {
            let kept = keep("data", i, &files.iter().map(|(n, b)| (n.as_str(), b.as_slice())).collect::<Vec<_>>());
            failures.push(format!("mutant {i} ({}):\n{}", kept.display(), p.join("\n")));
        }
        let _ = std::fs::remove_dir_all(&data);
        let _ = std::fs::remove_dir_all(&out);
    }
    eprintln!("screen exit codes over the corpus: {codes:?}");
    assert!(failures.is_empty(), "{} failing mutants:\n{}", failures.len(), failures.join("\n\n"));
}

#[test]
fn the_lost_record_check_sees_a_record_fanpin_did_not_read() {
    // screen the base directory, then compare its outputs with inputs holding one more record
    // each: the check must see them (a check that cannot fail is a defect)
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    base_fixture().write_data(&data);
    let out = tmp.path().join("out");
    let o = fanpin_cmd().args(["screen", "--rules", RULES, "-q", "--data"]).arg(&data).arg("--out").arg(&out).output().unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    let files: Vec<(String, Vec<u8>)> = DATA_FILES.iter().map(|f| (f.to_string(), std::fs::read(data.join(f)).unwrap())).collect();
    assert_eq!(lost_records(&out, &files), Vec::<String>::new());
    for k in 0..files.len() {
        let mut more = files.clone();
        more[k].1.extend_from_slice(b"x,y\n");
        let lost = lost_records(&out, &more);
        assert!(lost.iter().any(|l| l.starts_with(&files[k].0)), "{}: {lost:?}", files[k].0);
    }
}
