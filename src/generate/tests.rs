use super::*;
use rust_decimal::{Decimal, RoundingStrategy};
use std::collections::{HashMap, HashSet};
use std::path::PathBuf;

struct TempDir(PathBuf);
impl TempDir {
    fn new(tag: &str) -> TempDir {
        let p = std::env::temp_dir().join(format!("fanpin-gen-test-{}-{tag}", std::process::id()));
        let _ = std::fs::remove_dir_all(&p);
        TempDir(p)
    }
}
impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn run(households: usize, seed: u64, messy: bool, tag: &str) -> (TempDir, GenSummary) {
    let dir = TempDir::new(tag);
    let s = generate(&GenConfig { households, seed, messy }, &dir.0).unwrap();
    (dir, s)
}

fn read(dir: &Path, name: &str) -> Vec<u8> {
    std::fs::read(dir.join(name)).unwrap()
}

/// Minimal RFC 4180 line splitter (enough for the generator's output).
fn fields(line: &str) -> Vec<String> {
    let mut out = vec![String::new()];
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, quoted) {
            ('"', false) => quoted = true,
            ('"', true) if chars.peek() == Some(&'"') => {
                out.last_mut().unwrap().push('"');
                chars.next();
            }
            ('"', true) => quoted = false,
            (',', false) => out.push(String::new()),
            _ => out.last_mut().unwrap().push(c),
        }
    }
    out
}

fn table(dir: &Path, name: &str) -> Vec<Vec<String>> {
    let text = String::from_utf8(read(dir, name)).unwrap();
    let text = text.trim_start_matches('\u{feff}');
    text.lines().skip(1).map(|l| fields(l.trim_end_matches('\r'))).collect()
}

const ALL: [&str; 15] = [
    "households.csv",
    "members.csv",
    "medical.csv",
    "education.csv",
    "vehicles.csv",
    "accidents.csv",
    "real_estate.csv",
    "companies.csv",
    "public_employees.csv",
    "disability.csv",
    "housing.csv",
    "disasters.csv",
    "employment.csv",
    "blacklist.csv",
    "agriculture.csv",
];

#[test]
fn check_character_matches_gb11643() {
    assert!(ids::is_valid(b"11010519491231002X"));
    assert!(!ids::is_valid(b"110105194912310021"));
    assert_eq!(ids::check_char(b"44052418800101001"), b'4');
}

#[test]
fn id_allocator_is_unique_valid_and_consistent() {
    let mut a = IdAlloc::new();
    let birth = dates::days(1980, 2, 29);
    let mut seen = HashSet::new();
    // more than one date's worth of one sex: spills over to the next day
    for i in 0..1200 {
        let male = i % 3 != 0;
        let (id, day) = a.alloc(5, birth, male);
        assert!(ids::is_valid(&id), "{}", String::from_utf8_lossy(&id));
        assert!(seen.insert(id));
        assert_eq!((id[16] - b'0') % 2 == 1, male);
        let mut d = [0u8; 8];
        dates::write_compact(day, &mut d);
        assert_eq!(&id[6..14], &d);
        assert_eq!(&id[..6], DIVISION_CODES[5].as_bytes());
    }
}

#[test]
fn dates_round_trip() {
    for z in dates::days(1900, 1, 1)..dates::days(2030, 12, 31) {
        let (y, m, d) = dates::civil(z);
        assert_eq!(dates::days(y, m, d), z);
    }
    assert_eq!(dates::WINDOW_END - dates::WINDOW_START + 1, 365);
}

#[test]
fn per_capita_rounds_half_up_like_rust_decimal() {
    for (net, n) in [(1895999i64, 3i64), (1895997, 3), (1263999, 2), (1263998, 2), (100, 3), (5, 2)] {
        let d = (Decimal::new(net, 2) / Decimal::from(n)).round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero);
        assert_eq!(income::per_capita(net, n), i64::try_from(d * Decimal::from(100)).unwrap(), "{net}/{n}");
    }
}

#[test]
fn writer_quotes_commas_and_quotes_only() {
    let dir = TempDir::new("writer");
    std::fs::create_dir_all(&dir.0).unwrap();
    let mut w = CsvOut::create(&dir.0, "t.csv", "a,b,c,d", false, false, false).unwrap();
    w.text("贵州金谷建材有限公司,示例县分公司").text("龙场镇\"金谷\"小卖部").money(-5).money(123456);
    w.end().unwrap();
    assert_eq!(w.finish().unwrap(), ("t.csv".to_string(), 1));
    assert_eq!(
        String::from_utf8(read(&dir.0, "t.csv")).unwrap(),
        "a,b,c,d\n\"贵州金谷建材有限公司,示例县分公司\",\"龙场镇\"\"金谷\"\"小卖部\",-0.05,1234.56\n"
    );
}

#[test]
fn same_seed_same_bytes_other_seed_differs() {
    let (a, sa) = run(400, 11, false, "det-a");
    let (b, _) = run(400, 11, false, "det-b");
    let (c, _) = run(400, 12, false, "det-c");
    let names: Vec<&str> = sa.files.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ALL);
    for f in ALL {
        assert_eq!(read(&a.0, f), read(&b.0, f), "{f}");
    }
    assert_ne!(read(&a.0, "members.csv"), read(&c.0, "members.csv"));
    assert_ne!(read(&a.0, "households.csv"), read(&c.0, "households.csv"));
}

#[test]
fn clean_output_is_valid_and_consistent() {
    let (dir, s) = run(2000, 2021, false, "clean");
    for f in ALL {
        let bytes = read(&dir.0, f);
        assert!(!bytes.starts_with(b"\xEF\xBB\xBF") && !bytes.contains(&b'\r'), "{f}");
        let rows = table(&dir.0, f);
        let counted = s.files.iter().find(|(n, _)| n == f).unwrap().1;
        assert_eq!(rows.len() as u64, counted, "{f}");
        let id_col = if f == "households.csv" {
            5
        } else if f == "members.csv" {
            2
        } else {
            0
        };
        for r in &rows {
            assert!(ids::is_valid(r[id_col].as_bytes()), "{f}: {}", r[id_col]);
        }
    }
    let hh = table(&dir.0, "households.csv");
    assert_eq!(hh.len(), 2000);
    let hids: HashSet<&str> = hh.iter().map(|r| r[0].as_str()).collect();
    assert_eq!(hids.len(), 2000);
    assert!(hids.iter().all(|h| h.len() == 16 && h.bytes().all(|b| b.is_ascii_digit())));
    let members = table(&dir.0, "members.csv");
    let mut seen = HashSet::new();
    let mut resident: HashMap<&str, i64> = HashMap::new();
    for m in &members {
        assert!(seen.insert(m[2].clone()), "duplicate {}", m[2]);
        assert_eq!(m[2][6..14], m[5].replace('-', ""));
        assert_eq!((m[2].as_bytes()[16] - b'0') % 2 == 1, m[4] == "男");
        if m[8] == "是" {
            *resident.entry(m[0].as_str()).or_default() += 1;
        }
    }
    assert!(hh.iter().all(|h| resident.get(h[0].as_str()).copied().unwrap_or(0) > 0));
    let mean = members.len() as f64 / hh.len() as f64;
    assert!((3.0..3.7).contains(&mean), "mean household size {mean}");
    // unmatched leads exist, and no department ID clashes with a different roster person
    let roster: HashMap<&str, &str> = members.iter().map(|m| (m[2].as_str(), m[1].as_str())).collect();
    let med = table(&dir.0, "medical.csv");
    assert!(med.iter().any(|r| !roster.contains_key(r[0].as_str())));
    for r in &med {
        if let Some(name) = roster.get(r[0].as_str()) {
            assert_eq!(*name, r[1]);
        }
    }
}

/// Net income, co-resident count and PCI (half-up, rust_decimal) of a household row.
fn pci(h: &[String], members: &[Vec<String>]) -> (Decimal, i64, Decimal) {
    let d = |s: &str| s.parse::<Decimal>().unwrap();
    let net = d(&h[8]) + d(&h[9]) + d(&h[10]) + d(&h[11]) - d(&h[12]);
    let n = members.iter().filter(|m| m[0] == h[0] && m[8] == "是").count() as i64;
    let p = (net / Decimal::from(n)).round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero);
    (net, n, p)
}

#[test]
fn planted_boundaries_are_present() {
    let (dir, _) = run(200, 99, false, "plant");
    let hh = table(&dir.0, "households.csv");
    let members = table(&dir.0, "members.csv");
    let by = |k: &str| hh.iter().find(|h| h[0] == format!("522601101001{k}")).unwrap().clone();
    let dec = |s: &str| s.parse::<Decimal>().unwrap();
    assert_eq!(pci(&by("0007"), &members), (dec("18959.99"), 3, dec("6320.00")));
    assert_eq!(pci(&by("0008"), &members), (dec("18959.97"), 3, dec("6319.99")));
    assert_eq!(pci(&by("0009"), &members), (dec("12639.99"), 2, dec("6320.00")));
    assert_eq!(by("0001")[6], "脱贫户");
    assert_eq!(by("0003")[6], "一般农户");
    let ids_of = |k: &str| -> HashSet<String> {
        let hid = format!("522601101001{k}");
        members.iter().filter(|m| m[0] == hid).map(|m| m[2].clone()).collect()
    };
    let col = |file: &str, k: &str, c: usize| -> Vec<String> {
        let ids = ids_of(k);
        table(&dir.0, file).into_iter().filter(|r| ids.contains(&r[0])).map(|r| r[c].clone()).collect()
    };
    assert_eq!(col("medical.csv", "0001", 5), ["4000.00"]);
    assert_eq!(col("medical.csv", "0002", 5), ["3999.99"]);
    assert_eq!(col("medical.csv", "0003", 5), ["10000.00"]);
    assert_eq!(col("medical.csv", "0004", 5), ["9999.99"]);
    assert_eq!(col("education.csv", "0005", 5), ["10000.00"]);
    assert_eq!(col("education.csv", "0006", 5), ["10000.01"]);
    assert_eq!(col("employment.csv", "0010", 3), ["30"]);
    assert_eq!(col("employment.csv", "0011", 3), ["29"]);
    assert_eq!(col("vehicles.csv", "0012", 4), ["2021-05-31"]);
    assert_eq!(col("vehicles.csv", "0013", 4), ["2021-06-01"]);
    assert_eq!(col("medical.csv", "0014", 2), ["2020-06-01"]);
    assert_eq!(col("medical.csv", "0015", 2), ["2020-05-31"]);
}

#[test]
fn messy_output_has_the_documented_bad_rows() {
    let (dir, _) = run(300, 5, true, "messy");
    assert!(read(&dir.0, "households.csv").starts_with(b"\xEF\xBB\xBF"));
    let mem = String::from_utf8(read(&dir.0, "members.csv")).unwrap();
    assert_eq!(mem.matches("\r\n").count(), mem.matches('\n').count());
    assert!(!read(&dir.0, "medical.csv").contains(&b'\r'));
    let hh = table(&dir.0, "households.csv");
    assert_eq!(hh.len(), 301);
    assert_eq!(hh.iter().filter(|h| h[0] == "5226011010010058").count(), 2);
    let members = table(&dir.0, "members.csv");
    let bad: Vec<&str> = members.iter().map(|m| m[2].as_str()).filter(|i| !ids::is_valid(i.as_bytes())).collect();
    assert_eq!(bad.len(), 2); // wrong check (0051) and lower-case x (0052)
    assert!(bad.iter().any(|i| i.ends_with('x') && ids::is_valid(i.to_uppercase().as_bytes())));
    let mut count: HashMap<&str, usize> = HashMap::new();
    for m in &members {
        *count.entry(m[2].as_str()).or_default() += 1;
    }
    assert_eq!(count.values().filter(|&&c| c > 1).count(), 1);
    assert!(members.iter().filter(|m| m[0] == "5226011010010059").all(|m| m[8] == "否"));
    let med = table(&dir.0, "medical.csv");
    assert!(med.iter().any(|r| r[0] == "5.22601E+17"));
    assert!(med.iter().any(|r| r[5] == "12,3a"));
    assert!(med.iter().any(|r| r[5].is_empty()));
    assert!(med.iter().any(|r| r[0].starts_with("  ") && r[0].trim().to_uppercase().len() == 18));
    assert!(table(&dir.0, "employment.csv").iter().any(|r| r[2] == "2021-13-45"));
    assert!(table(&dir.0, "vehicles.csv").iter().any(|r| r[0].len() == 15));
    assert!(table(&dir.0, "disability.csv").iter().any(|r| r[0].starts_with('５')));
}

#[test]
fn tiny_and_empty_sets() {
    let (dir, s) = run(0, 1, false, "empty");
    assert!(s.files.iter().all(|(_, n)| *n == 0));
    assert_eq!(read(&dir.0, "households.csv"), format!("{}\n", files::HOUSEHOLDS).into_bytes());
    let (_, s) = run(7, 1, true, "tiny");
    assert_eq!(s.files[0].1, 7);
}

/// An ID as a department's reader normalizes it: white space (ASCII and U+3000) removed,
/// full-width digits and X made half-width. Written here from the noise's description, not
/// from the reader's code.
fn normalized(id: &str) -> String {
    id.chars()
        .filter(|c| !c.is_whitespace())
        .map(|c| match c {
            '０'..='９' => char::from_u32(c as u32 - 0xFF10 + '0' as u32).unwrap(),
            'Ｘ' => 'X',
            c => c,
        })
        .collect()
}

#[test]
fn messy_noise_writes_valid_ids_as_exports_write_them() {
    let (messy, _) = run(4000, 3, true, "noise");
    let (mut noised, mut ids, mut kinds) = (0usize, 0usize, HashSet::new());
    for (file, id_col) in [("households.csv", 5), ("members.csv", 2), ("medical.csv", 0), ("education.csv", 0), ("vehicles.csv", 0)] {
        // Past the first NOISE_FROM rows (where the planted ones are), every ID is valid once
        // normalized, and those written otherwise are the noise.
        for (i, r) in table(&messy.0, file).iter().enumerate().skip(write::NOISE_FROM as usize) {
            ids += 1;
            assert!(ids::is_valid(normalized(&r[id_col]).as_bytes()), "{file} row {i}: {}", r[id_col]);
            if !ids::is_valid(r[id_col].as_bytes()) {
                noised += 1;
                kinds.insert(if r[id_col].contains('\u{3000}') {
                    "U+3000"
                } else if r[id_col].contains(' ') {
                    "space"
                } else {
                    "wide"
                });
            }
        }
        // One name per file quoted although it needs no quotes.
        let text = String::from_utf8(read(&messy.0, file)).unwrap();
        let row = text.lines().nth(1 + write::QUOTED_ROW as usize).unwrap();
        assert!(row.contains(",\""), "{file}: {row}");
    }
    // One in 1,000 IDs, give or take chance: between 0.03 % and 0.3 %.
    assert!(ids > 10_000 && noised * 3333 > ids && noised * 333 < ids, "{noised} of {ids}");
    assert_eq!(kinds.len(), 3, "{kinds:?}");
}
