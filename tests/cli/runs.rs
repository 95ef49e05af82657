//! Runs people rely on (issue 4): `replay` of a past run from its manifest, `diff` between two
//! runs, `explain` of one household, `--log-format json` for log collectors, the exit codes a
//! cron job reads (6 unreadable input, 7 missing required input, 8 replay not reproduced), and
//! a closed stdout (`fanpin … | head -1`) that must not make fanpin panic.
//!
//! Reference policy (rules/guizhou-2021.toml): monitoring line 6320.00 (in force from
//! 2021-01-01; 5000.00 from 2020-01-01), determination date 2021-05-31, income window
//! 2020-06-01..2021-05-31 (both ends included). n = co-resident members,
//! NI = 工资性 + 生产经营性 + 财产性 + 转移性 − 生产经营性支出, PCI = round(NI / n, 2), RE = 个人自付 + 自付费用 of the
//! co-resident members' records in the window. Categories in order: PCI < line and 脱贫户 →
//! 脱贫不稳定户; PCI < line and 一般农户 → 边缘易致贫户; PCI ≥ line and (RE > 上年度 or
//! round((NI − RE)/n, 2) < line or (上年度 > 0 and NI ≤ 上年度 × 0.5)) → 突发严重困难户.
//! 上年度家庭纯收入 is 0 in the fixture unless set, so only "RE > 0" can make the last one hold.
//!
//! The SHA-256 values replay must name are computed here from the files' bytes (sha2), never
//! read from fanpin's output.

use crate::support::*;
use sha2::{Digest, Sha256};
use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::Stdio;

// ---------------------------------------------------------------- running fanpin

fn fanpin<S: AsRef<OsStr>>(args: &[S]) -> Ran {
    ran(fanpin_cmd().args(args).output().expect("failed to start fanpin"))
}

/// `fanpin screen --rules RULES --data DATA --out OUT EXTRA…`, whatever its exit code.
fn try_screen(rules: &Path, data: &Path, out: &Path, extra: &[&str]) -> Ran {
    let mut args: Vec<&OsStr> =
        vec!["screen".as_ref(), "--rules".as_ref(), rules.as_os_str(), "--data".as_ref(), data.as_os_str(), "--out".as_ref(), out.as_os_str()];
    args.extend(extra.iter().map(|s| OsStr::new(*s)));
    fanpin(&args)
}

/// The same, asserting exit status 0.
#[track_caller]
fn screen_ok(rules: &Path, data: &Path, out: &Path, extra: &[&str]) -> Ran {
    let ran = try_screen(rules, data, out, extra);
    ran.assert_code(0, "fanpin screen");
    ran
}

/// A working directory that lives as long as the test: data directories, outputs and rules
/// copies all stay in place, since replay and explain read them again through the manifest.
struct Work {
    tmp: tempfile::TempDir,
}

impl Work {
    fn new() -> Self {
        Work { tmp: tempfile::tempdir().unwrap() }
    }
    fn path(&self, name: &str) -> PathBuf {
        self.tmp.path().join(name)
    }
    /// Writes `fx` as the data directory `name`.
    fn data(&self, name: &str, fx: &Fixture) -> PathBuf {
        let dir = self.path(name);
        fx.write_data(&dir);
        dir
    }
    /// A copy of the reference rules with `from` replaced by `to` (which must occur exactly once).
    fn rules_with(&self, name: &str, from: &str, to: &str) -> PathBuf {
        let reference = std::fs::read_to_string(RULES).unwrap();
        assert_eq!(reference.matches(from).count(), 1, "{from:?} should occur once in the reference rules");
        let path = self.path(name);
        std::fs::write(&path, reference.replacen(from, to, 1)).unwrap();
        path
    }
    /// A byte-identical copy of the reference rules.
    fn rules_copy(&self, name: &str) -> PathBuf {
        let path = self.path(name);
        std::fs::copy(RULES, &path).unwrap();
        path
    }
}

fn sha256_hex(bytes: &[u8]) -> String {
    format!("{:x}", Sha256::digest(bytes))
}

fn sha256_of(path: &Path) -> String {
    sha256_hex(&std::fs::read(path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display())))
}

/// The first 12 hex digits, as replay shows a hash.
fn short(hash: &str) -> &str {
    &hash[..12]
}

fn replay(manifest: &Path, extra: &[&OsStr]) -> Ran {
    let mut args: Vec<&OsStr> = vec!["replay".as_ref(), manifest.as_os_str()];
    args.extend_from_slice(extra);
    fanpin(&args)
}

/// `{body}********{last 4}`: an 18-character ID as fanpin masks it (first 6, 8 stars, last 4).
fn masked(id: &str) -> String {
    assert_eq!(id.len(), 18);
    format!("{}********{}", &id[..6], &id[14..])
}

/// Every regular file of an output directory except manifest.json (which carries the elapsed
/// time), sorted by name.
fn output_files(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap())
        .filter(|e| std::fs::metadata(e.path()).is_ok_and(|m| m.is_file()))
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n != "manifest.json" && !n.starts_with('.'))
        .collect();
    names.sort();
    names
}

// ---------------------------------------------------------------- replay

/// Two households and three records, used by the replay tests.
/// R1: 脱贫户, n 1, NI 5000 → PCI 5000.00 < 6320 → 脱贫不稳定户; 个人自付 4500.00 ≥ 4000 → 因病.
/// R2: 一般农户, n 2, NI 20000 → PCI 10000.00 ≥ 6320, RE 0 → not listed.
fn replay_county() -> (Fixture, Person, Person) {
    let mut fx = Fixture::new();
    let (a, b, b2) = (fx.person("回一"), fx.person("回二"), fx.person("回二妻"));
    fx.household(hh("R1", "脱贫户", &a).wage("5000"));
    fx.household(hh("R2", "一般农户", &b).wage("20000"));
    fx.member("R2", &b2, "配偶");
    fx.medical(&a, "2021-01-15", "4500.00", "否");
    (fx, a, b)
}

#[test]
fn replaying_an_unchanged_run_reproduces_every_output_byte_for_byte_and_exits_0() {
    let w = Work::new();
    let (fx, _, _) = replay_county();
    let data = w.data("data", &fx);
    let out = w.path("out");
    screen_ok(Path::new(RULES), &data, &out, &["-q"]);
    let outputs = output_files(&out);
    assert!(outputs.contains(&"flagged.csv".to_string()) && outputs.contains(&"report.xlsx".to_string()), "{outputs:?}");

    let again = w.path("again");
    let manifest = out.join("manifest.json");
    let ran = replay(&manifest, &["--out".as_ref(), again.as_os_str()]);
    ran.assert_code(0, "replay of an unchanged run");
    // households.csv, members.csv and medical.csv are the 3 input files; every file the run
    // wrote besides manifest.json is an output.
    let first = ran.stdout.lines().next().unwrap_or("");
    assert!(first.starts_with(&format!("replayed {}", manifest.display())), "{}", ran.show());
    assert!(first.contains("3 input files"), "{}", ran.show());
    assert!(first.ends_with(&format!("all {} outputs byte-identical", outputs.len())), "{}", ran.show());

    // --out keeps the replayed outputs: the same files, the same bytes.
    assert_eq!(output_files(&again), outputs);
    for name in &outputs {
        assert!(std::fs::read(out.join(name)).unwrap() == std::fs::read(again.join(name)).unwrap(), "{name} differs after replay");
    }
}

#[test]
fn replaying_after_a_medical_row_was_appended_names_medical_csv_by_hash_and_exits_8() {
    let w = Work::new();
    let (fx, _, b) = replay_county();
    let data = w.data("data", &fx);
    let out = w.path("out");
    screen_ok(Path::new(RULES), &data, &out, &["-q"]);

    let medical = data.join("medical.csv");
    let recorded = sha256_of(&medical);
    let mut text = std::fs::read_to_string(&medical).unwrap();
    // A late push from 医保: R2's head, in the window.
    text += &format!("{},回二,2021-04-01,3000.00,0,3000.00,肺炎,否\n", b.id);
    std::fs::write(&medical, text).unwrap();
    let now = sha256_of(&medical);
    assert_ne!(recorded, now);

    let ran = replay(&out.join("manifest.json"), &[]);
    ran.assert_code(8, "replay after medical.csv changed");
    let want = format!("input medical.csv (medical): sha256 {}… recorded, {}… now", short(&recorded), short(&now));
    assert!(ran.stdout.lines().any(|l| l == want), "expected the line\n{want}\n{}", ran.show());
    // only the file that changed is named
    for unchanged in ["households.csv", "members.csv"] {
        assert!(!ran.stdout.contains(unchanged), "{unchanged} did not change\n{}", ran.show());
    }
    assert!(!ran.stdout.contains("byte-identical"), "{}", ran.show());
}

#[test]
fn replaying_after_an_input_appeared_and_another_disappeared_names_both_and_exits_8() {
    let w = Work::new();
    let (fx, a, _) = replay_county();
    let data = w.data("data", &fx);
    let out = w.path("out");
    screen_ok(Path::new(RULES), &data, &out, &["-q"]);

    let medical = data.join("medical.csv");
    let medical_hash = sha256_of(&medical);
    std::fs::remove_file(&medical).unwrap();
    let education = data.join("education.csv");
    let mut edu = Fixture::new();
    edu.education(&a, "2020-09-01", "12000.00");
    std::fs::write(&education, edu.csv_text("education")).unwrap();
    let education_hash = sha256_of(&education);

    let ran = replay(&out.join("manifest.json"), &[]);
    ran.assert_code(8, "replay after medical.csv was removed and education.csv added");
    let gone = format!("input medical.csv (medical): recorded (sha256 {}…), now absent", short(&medical_hash));
    let new = format!("input education.csv (education): new since the run (sha256 {}…)", short(&education_hash));
    for want in [&gone, &new] {
        assert!(ran.stdout.lines().any(|l| l == want.as_str()), "expected the line\n{want}\n{}", ran.show());
    }
}

#[test]
fn replaying_after_the_rules_file_was_edited_names_the_rules_by_hash_and_exits_8() {
    let w = Work::new();
    let (fx, _, _) = replay_county();
    let data = w.data("data", &fx);
    let rules = w.rules_copy("rules.toml");
    let out = w.path("out");
    screen_ok(&rules, &data, &out, &["-q"]);
    // Replaying with the untouched copy works …
    replay(&out.join("manifest.json"), &[]).assert_code(0, "replay with the same rules copy");

    // … then someone edits the copy (a comment is enough to change its bytes).
    let recorded = sha256_of(&rules);
    let mut text = std::fs::read_to_string(&rules).unwrap();
    text += "\n# 2021-06 县里修改\n";
    std::fs::write(&rules, &text).unwrap();
    let now = sha256_hex(text.as_bytes());

    let ran = replay(&out.join("manifest.json"), &[]);
    ran.assert_code(8, "replay after the rules changed");
    let want = format!("rules {}: sha256 {}… recorded, {}… now", rules.display(), short(&recorded), short(&now));
    assert!(ran.stdout.lines().any(|l| l == want), "expected the line\n{want}\n{}", ran.show());
}

#[test]
fn replaying_a_run_made_with_previous_after_the_previous_flagged_csv_changed_names_it_and_exits_8() {
    let w = Work::new();
    let (fx, _, _) = replay_county();
    let data = w.data("data", &fx);
    let (april, may) = (w.path("april"), w.path("may"));
    screen_ok(Path::new(RULES), &data, &april, &["-q"]);
    screen_ok(Path::new(RULES), &data, &may, &["-q", "--previous", april.to_str().unwrap()]);
    let manifest = may.join("manifest.json");
    replay(&manifest, &[]).assert_code(0, "replay of the --previous run, nothing changed");

    // April's list is edited afterwards (its last row removed, as in Excel).
    let flagged = april.join("flagged.csv");
    let recorded = sha256_of(&flagged);
    let text = String::from_utf8(std::fs::read(&flagged).unwrap()).unwrap();
    let mut lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 2, "header + R1:\n{text}");
    lines.pop();
    let edited = lines.join("\n") + "\n";
    std::fs::write(&flagged, &edited).unwrap();
    let now = sha256_hex(edited.as_bytes());

    let ran = replay(&manifest, &[]);
    ran.assert_code(8, "replay after the previous run's flagged.csv changed");
    let line = ran.stdout.lines().find(|l| l.contains("flagged.csv")).unwrap_or_else(|| panic!("no line names flagged.csv\n{}", ran.show()));
    assert!(line.contains(&april.display().to_string()), "the previous directory is named: {line}");
    assert!(line.ends_with(&format!("flagged.csv: sha256 {}… recorded, {}… now", short(&recorded), short(&now))), "{line}");
    assert!(!ran.stdout.contains("screened.csv"), "April's screened.csv is unchanged\n{}", ran.show());
}

#[test]
fn replaying_a_run_made_with_as_of_replays_that_date_too() {
    // --as-of 2020-12-31: 监测线 5000.00. A1: 脱贫户, n 1, NI 5500 → PCI 5500.00 ≥ 5000, RE 0 →
    // not listed then (it would be listed under 6320). Replaying without the date would list it
    // and change flagged.csv and parameters.csv.
    let w = Work::new();
    let mut fx = Fixture::new();
    let a = fx.person("往一");
    fx.household(hh("A1", "脱贫户", &a).wage("5500"));
    let data = w.data("data", &fx);
    let out = w.path("out");
    screen_ok(Path::new(RULES), &data, &out, &["-q", "--as-of", "2020-12-31"]);
    let ran = replay(&out.join("manifest.json"), &[]);
    ran.assert_code(0, "replay of an --as-of run");
    assert!(ran.stdout.contains("byte-identical"), "{}", ran.show());
}

#[test]
fn replaying_a_manifest_without_an_invocation_record_fails_with_exit_1() {
    let w = Work::new();
    let (fx, _, _) = replay_county();
    let data = w.data("data", &fx);
    let out = w.path("out");
    screen_ok(Path::new(RULES), &data, &out, &["-q"]);
    // A manifest as an older fanpin wrote it: everything but `invocation`.
    let mut m: serde_json::Value = serde_json::from_slice(&std::fs::read(out.join("manifest.json")).unwrap()).unwrap();
    assert!(m.as_object_mut().unwrap().remove("invocation").is_some(), "the manifest records its invocation");
    let old = w.path("old-manifest.json");
    std::fs::write(&old, serde_json::to_string_pretty(&m).unwrap()).unwrap();
    let ran = replay(&old, &[]);
    ran.assert_code(1, "replay of a manifest without invocation");
    assert!(ran.stderr.contains("invocation"), "the message says what is missing\n{}", ran.show());
    assert!(!ran.stdout.contains("byte-identical"));
}

// ---------------------------------------------------------------- diff

/// The `diff --csv` columns.
const DIFF_HEADERS: [&str; 12] = ["变化", "乡镇", "村", "户编号", "A类别", "B类别", "A风险类型", "B风险类型", "A建议", "B建议", "A人均纯收入", "B人均纯收入"];

fn diff(a: &Path, b: &Path, extra: &[&OsStr]) -> Ran {
    let mut args: Vec<&OsStr> = vec!["diff".as_ref(), a.as_os_str(), b.as_os_str()];
    args.extend_from_slice(extra);
    fanpin(&args)
}

/// Rows of the terminal table (lines drawn with │) that hold `key` as a cell.
fn table_has(stdout: &str, key: &str) -> bool {
    stdout.lines().filter(|l| l.starts_with('│')).any(|l| l.split('│').any(|cell| cell.trim() == key))
}

#[test]
fn raising_the_2021_line_to_7000_adds_a_household_between_the_lines_changes_a_category_and_leaves_the_poorest_alone() {
    let w = Work::new();
    let mut fx = Fixture::new();
    let (d1, d2, d3) = (fx.person("升一"), fx.person("升二"), fx.person("升三"));
    // D1 一般农户, n 1, NI 6500 → PCI 6500.00.
    //   line 6320: 6500.00 ≥ 6320; RE 0 > 上年度 0? no; 6500.00 < 6320? no; 上年度 > 0? no
    //              → no category, not listed.
    //   line 7000: 6500.00 < 7000, 一般农户 → 边缘易致贫户, no trigger → 待核实, 纳入核实. → 新增
    fx.household(hh("D1", "一般农户", &d1).wage("6500"));
    // D2 脱贫户, n 1, NI 5000 → PCI 5000.00 < 6320 < 7000 → 脱贫不稳定户, 待核实, 纳入核实 in
    //   both runs → unchanged, not in the diff.
    fx.household(hh("D2", "脱贫户", &d2).wage("5000"));
    // D3 一般农户, n 1, NI 6800, 个人自付 1000.00 on 2021-03-01 (in the window; 1000 < 10000 and
    //   not 大病 → no trigger). PCI 6800.00, RE 1000.
    //   line 6320: 6800.00 ≥ 6320 and RE 1000 > 上年度 0 → 突发严重困难户 (待核实, 纳入核实).
    //   line 7000: 6800.00 < 7000, 一般农户 → 边缘易致贫户 (checked before 突发). → 类别变化
    fx.household(hh("D3", "一般农户", &d3).wage("6800"));
    fx.medical(&d3, "2021-03-01", "1000.00", "否");
    let data = w.data("data", &fx);
    let raised = w.rules_with("raised.toml", "value = \"6320\"", "value = \"7000\"");
    let (a, b) = (w.path("line-6320"), w.path("line-7000"));
    screen_ok(Path::new(RULES), &data, &a, &["-q"]);
    screen_ok(&raised, &data, &b, &["-q"]);

    let csv = w.path("diff.csv");
    let ran = diff(&a, &b, &["--csv".as_ref(), csv.as_os_str()]);
    ran.assert_code(0, "diff");
    // A lists D2, D3 (2); B lists D1, D2, D3 (3).
    let want_first = format!("A {} 列出 2 户 · B {} 列出 3 户 · 新增 1 户, 移出 0 户, 类别/风险类型/建议变化 1 户", a.display(), b.display());
    assert_text(&(want_first + "\n"), &format!("{}\n", ran.stdout.lines().next().unwrap_or("")), "diff summary line");

    let t = read_bom_csv(&csv);
    assert_eq!(t.headers, DIFF_HEADERS);
    // sorted by 户编号; A人均纯收入 of D1 comes from A's screened.csv (it was screened, not listed)
    let want = "变化,乡镇,村,户编号,A类别,B类别,A风险类型,B风险类型,A建议,B建议,A人均纯收入,B人均纯收入\n\
                新增,城关镇,大坪村,D1,,边缘易致贫户,,待核实,,纳入核实,6500.00,6500.00\n\
                类别变化,城关镇,大坪村,D3,突发严重困难户,边缘易致贫户,待核实,待核实,纳入核实,纳入核实,6800.00,6800.00\n";
    assert_text(want, &t.render(), "diff --csv");

    // the terminal table shows the same two households, and not D2
    assert!(table_has(&ran.stdout, "D1") && table_has(&ran.stdout, "D3"), "{}", ran.show());
    assert!(!table_has(&ran.stdout, "D2"), "D2 did not change\n{}", ran.show());
}

#[test]
fn diff_names_each_removal_with_its_reason_and_each_change_of_risk_types_or_advice() {
    let w = Work::new();
    // A: reference rules on data A. B: the car exclusion turned into `exclude`, on data B.
    let excluding = w.rules_with(
        "exclude-car.toml",
        "id = \"car\"\nlabel = \"家庭成员有小汽车\"\naction = \"review\"",
        "id = \"car\"\nlabel = \"家庭成员有小汽车\"\naction = \"exclude\"",
    );
    // The same people (same IDs) in both months; every household 一般农户, n 1.
    let county = |b_side: bool| {
        let mut fx = Fixture::new();
        let (g1, p1, x1, c1, v1, k1) = (fx.person("迁一"), fx.person("增一"), fx.person("车一"), fx.person("残一"), fx.person("房一"), fx.person("学一"));
        // G1: NI 5000 → 5000.00 < 6320 → 边缘易致贫户 in A; gone from B's roster.
        if !b_side {
            fx.household(hh("G1", "一般农户", &g1).wage("5000"));
        }
        // P1: A NI 5000 → 边缘易致贫户; B NI 7000 → 7000.00 ≥ 6320, RE 0, 上年度 0 → not listed,
        //     and no exclusion → plain 移出.
        fx.household(hh("P1", "一般农户", &p1).wage(if b_side { "7000" } else { "5000" }));
        // X1: NI 5000 → 边缘易致贫户; a 正常 小型轿车 registered 2019-01-01 ≤ 2021-05-31 hits the
        //     car exclusion: A (review) lists it 建议不纳入(需评议); B (exclude) leaves it out and
        //     its screened.csv 排除提示 says 家庭成员有小汽车 → 移出(家庭成员有小汽车).
        fx.household(hh("X1", "一般农户", &x1).wage("5000"));
        fx.vehicle(&x1, "小型轿车", "2019-01-01", "正常");
        // C1: NI 5000 → 边缘易致贫户 both; B adds a 二级 disability → 因残 (A: 待核实) → 风险类型变化.
        fx.household(hh("C1", "一般农户", &c1).wage("5000"));
        // V1: NI 5000 → 边缘易致贫户 both; B adds a 商品房 registered 2018-06-01 → review
        //     exclusion → 建议 纳入核实 → 建议不纳入(需评议) → 建议变化.
        fx.household(hh("V1", "一般农户", &v1).wage("5000"));
        // K1: A NI 6800, 个人自付 1000.00 → PCI 6800.00 ≥ 6320, RE 1000 > 0 → 突发严重困难户, 待核实.
        //     B NI 6000 → 6000.00 < 6320 → 边缘易致贫户; plus 自付费用 12000.00 > 10000 on
        //     2020-09-01 → 因学 → 类别、风险类型变化.
        fx.household(hh("K1", "一般农户", &k1).wage(if b_side { "6000" } else { "6800" }));
        fx.medical(&k1, "2021-03-01", "1000.00", "否");
        if b_side {
            fx.disability(&c1, "二级");
            fx.real_estate(&v1, "商品房", "2018-06-01");
            fx.education(&k1, "2020-09-01", "12000.00");
        }
        fx
    };
    let (data_a, data_b) = (w.data("data-a", &county(false)), w.data("data-b", &county(true)));
    let (a, b) = (w.path("a"), w.path("b"));
    screen_ok(Path::new(RULES), &data_a, &a, &["-q"]);
    screen_ok(&excluding, &data_b, &b, &["-q"]);

    let csv = w.path("diff.csv");
    let ran = diff(&a, &b, &["--csv".as_ref(), csv.as_os_str(), "--limit".as_ref(), "2".as_ref()]);
    ran.assert_code(0, "diff");
    // A lists C1 G1 K1 P1 V1 X1 (6); B lists C1 K1 V1 (3).
    let want_first = format!("A {} 列出 6 户 · B {} 列出 3 户 · 新增 0 户, 移出 3 户, 类别/风险类型/建议变化 3 户", a.display(), b.display());
    assert_eq!(ran.stdout.lines().next().unwrap_or(""), want_first, "{}", ran.show());
    let want = "变化,乡镇,村,户编号,A类别,B类别,A风险类型,B风险类型,A建议,B建议,A人均纯收入,B人均纯收入\n\
                风险类型变化,城关镇,大坪村,C1,边缘易致贫户,边缘易致贫户,待核实,因残,纳入核实,纳入核实,5000.00,5000.00\n\
                移出(B未筛查此户),城关镇,大坪村,G1,边缘易致贫户,,待核实,,纳入核实,,5000.00,\n\
                类别、风险类型变化,城关镇,大坪村,K1,突发严重困难户,边缘易致贫户,待核实,因学,纳入核实,纳入核实,6800.00,6000.00\n\
                移出,城关镇,大坪村,P1,边缘易致贫户,,待核实,,纳入核实,,5000.00,7000.00\n\
                建议变化,城关镇,大坪村,V1,边缘易致贫户,边缘易致贫户,待核实,待核实,纳入核实,建议不纳入(需评议),5000.00,5000.00\n\
                移出(家庭成员有小汽车),城关镇,大坪村,X1,边缘易致贫户,,待核实,,建议不纳入(需评议),,5000.00,5000.00\n";
    assert_text(want, &read_bom_csv(&csv).render(), "diff --csv");

    // --limit 2: the first two households in the terminal, and a note that there are 6.
    assert!(table_has(&ran.stdout, "C1") && table_has(&ran.stdout, "G1"), "{}", ran.show());
    assert!(!table_has(&ran.stdout, "K1") && !table_has(&ran.stdout, "X1"), "--limit 2\n{}", ran.show());
    assert!(ran.stdout.contains("6 户"), "the terminal says how many there are in all\n{}", ran.show());
}

#[test]
fn diff_of_two_identical_runs_reports_nothing_changed() {
    let w = Work::new();
    let (fx, _, _) = replay_county();
    let data = w.data("data", &fx);
    let (a, b) = (w.path("a"), w.path("b"));
    screen_ok(Path::new(RULES), &data, &a, &["-q"]);
    screen_ok(Path::new(RULES), &data, &b, &["-q"]);
    let csv = w.path("diff.csv");
    let ran = diff(&a, &b, &["--csv".as_ref(), csv.as_os_str()]);
    ran.assert_code(0, "diff");
    // R1 listed in both, the same; R2 in neither.
    let want = format!("A {} 列出 1 户 · B {} 列出 1 户 · 新增 0 户, 移出 0 户, 类别/风险类型/建议变化 0 户", a.display(), b.display());
    assert_eq!(ran.stdout.lines().next().unwrap_or(""), want);
    let t = read_bom_csv(&csv);
    assert_eq!(t.headers, DIFF_HEADERS);
    assert!(t.rows.is_empty(), "{}", t.render());
}

// ---------------------------------------------------------------- explain

fn explain(out: &Path, key: &str) -> Ran {
    fanpin(&["explain".as_ref(), "--out".as_ref(), out.as_os_str(), OsStr::new(key)])
}

/// The lines from the one starting with `head` (trimmed) up to the next line at the same
/// indentation that starts with `[`, or the next section.
fn block<'a>(stdout: &'a str, head: &str) -> Vec<&'a str> {
    let lines: Vec<&str> = stdout.lines().collect();
    let start = lines.iter().position(|l| l.trim_start().starts_with(head)).unwrap_or_else(|| panic!("no line starting with {head:?} in\n{stdout}"));
    let mut out = vec![lines[start]];
    for l in &lines[start + 1..] {
        let t = l.trim_start();
        if t.is_empty() || t.starts_with('[') || t.starts_with("结论") || !l.starts_with(' ') {
            break;
        }
        out.push(l);
    }
    out
}

#[test]
fn explain_shows_which_records_count_and_why_others_do_not_down_to_file_and_line() {
    let w = Work::new();
    let mut fx = Fixture::new();
    let jia = fx.person("甲");
    let yi = fx.person_with_x("乙"); // an ID ending in X, looked up in lower case below
    let bing = fx.person("丙");
    // E1 脱贫户: 甲 (户主) and 乙 (配偶) live together; 丙 (子女) is registered but lives
    // elsewhere (是否共同生活 = 否). n = 2, NI 10000 → PCI round(10000 / 2, 2) = 5000.00 < 6320
    // → 脱贫不稳定户.
    fx.household(hh("E1", "脱贫户", &jia).wage("10000"));
    fx.member("E1", &yi, "配偶");
    fx.member_row("E1", &bing, "子女", "普通劳动力", false);
    // medical.csv line 2: 甲 2021-01-15 (in the window) 4500.00 ≥ 4000 (脱贫户) → counted, 因病.
    fx.medical(&jia, "2021-01-15", "4500.00", "否");
    // line 3: 乙 2020-05-31, the day before the window opens → not counted.
    fx.medical(&yi, "2020-05-31", "5000.00", "否");
    // line 4: 丙 in the window, 8000.00 → not counted (not co-resident).
    fx.medical(&bing, "2021-01-15", "8000.00", "否");
    // RE = 4500.00 (甲 only); after RE round((10000 − 4500) / 2, 2) = 2750.00.
    // E2 一般农户, n 1, NI 20000 → PCI 20000.00 ≥ 6320; RE 0 > 0? no; 20000.00 < 6320? no;
    // 上年度 > 0? no → no category.
    let e2 = fx.person("戊");
    fx.household(hh("E2", "一般农户", &e2).wage("20000"));
    let data = w.data("data", &fx);
    let out = w.path("out");
    screen_ok(Path::new(RULES), &data, &out, &["-q"]);

    let ran = explain(&out, "E1");
    ran.assert_code(0, "explain E1");
    let s = &ran.stdout;

    // the sections, in order, then the conclusion
    let mut at = 0;
    for head in ["一、家庭成员", "二、部门记录", "三、", "四、风险触发", "五、排除情形", "六、类别判定", "结论:"] {
        let found = s[at..].find(head).unwrap_or_else(|| panic!("section {head} missing or out of order\n{s}"));
        at += found + head.len();
    }

    // members: masked IDs, and 丙 marked as not living with the household
    for (p, co_resident) in [(&jia, true), (&yi, true), (&bing, false)] {
        let line =
            s.lines().find(|l| l.contains(&masked(&p.id))).unwrap_or_else(|| panic!("no member line with {}'s masked ID {}\n{s}", p.name, masked(&p.id)));
        assert!(line.trim_start().starts_with(&p.name), "{line}");
        assert_eq!(line.contains("不共同生活"), !co_resident, "{line}");
    }

    // records: each with file and line, counted or why not
    let record = |n: u32| {
        let tag = format!("medical.csv 第{n}行");
        s.lines().find(|l| l.contains(&tag)).unwrap_or_else(|| panic!("no record line for {tag}\n{s}")).trim_start().to_string()
    };
    let (l2, l3, l4) = (record(2), record(3), record(4));
    assert!(l2.starts_with("[计入]") && l2.contains("甲") && l2.contains("4500.00"), "{l2}");
    assert!(l3.starts_with("[不计: 不在收入窗口内]") && l3.contains("乙") && l3.contains("2020-05-31"), "{l3}");
    assert!(l4.starts_with("[不计: 非共同生活成员]") && l4.contains("丙") && l4.contains("8000.00"), "{l4}");

    // figures: only 甲's record enters the rigid expenditure
    let figure = |name: &str| {
        s.lines()
            .map(str::trim_start)
            .find(|l| l.starts_with(&format!("{name} ")))
            .unwrap_or_else(|| panic!("no figure {name}\n{s}"))
            .rsplit(" = ")
            .next()
            .unwrap()
            .to_string()
    };
    assert_eq!(figure("家庭人口"), "2");
    assert_eq!(figure("家庭纯收入"), "10000.00");
    assert_eq!(figure("人均纯收入"), "5000.00");
    assert_eq!(figure("刚性支出"), "4500.00");
    assert_eq!(figure("扣除刚性支出后人均纯收入"), "2750.00");

    // rules: outcome, condition, what it saw, parameters with their references
    let illness = block(s, "[是] 因病").join("\n");
    assert!(illness.contains("医疗个人自付达到预警线或患大病"), "{illness}");
    assert!(illness.contains("条件: 个人自付 >= 自付预警线 or 是否大病 == '是'"), "{illness}");
    // evidence template "{成员姓名} {就诊日期} 个人自付{个人自付}元(预警线{自付预警线}元以上) 大病:{是否大病}"
    assert!(illness.contains("依据: 甲 2021-01-15 个人自付4500.00元(预警线4000.00元以上) 大病:否"), "{illness}");
    assert!(!illness.contains("8000.00") && !illness.contains("2020-05-31"), "uncounted records are no evidence:\n{illness}");
    assert!(illness.contains("建档立卡户医疗自付线=4000.00") && illness.contains("医保部门筛查预警: 建档立卡户个人自付4000元以上"), "{illness}");
    let schooling = block(s, "[否] 因学").join("\n");
    assert!(schooling.contains("条件: 自付费用 > 教育自付线") && schooling.contains("教育自付线=10000.00"), "{schooling}");
    assert!(s.lines().any(|l| l.trim_start() == "[否] 家庭成员有小汽车"), "{s}");

    // categories in order: the first holds
    let first = block(s, "[成立] 脱贫不稳定户").join("\n");
    assert!(first.contains("人均纯收入=5000.00") && first.contains("户类型=脱贫户"), "{first}");
    assert!(first.contains("监测线=6320.00") && first.contains("贵州省2021年监测标准"), "{first}");
    assert!(s.contains("[不成立] 边缘易致贫户") && s.contains("[不成立] 突发严重困难户"), "{s}");
    assert_eq!(ran.line_starting("结论:"), "结论: 列为脱贫不稳定户 · 风险类型: 因病 · 建议: 纳入核实");

    // never a full ID
    for p in [&jia, &yi, &bing, &e2] {
        assert!(!s.contains(p.id.as_str()), "{}'s full ID in explain output", p.name);
    }

    // by a member's ID (lower-case x as typed by hand; a non-co-resident member too): the same
    // household, the same explanation
    assert!(yi.id.ends_with('X'));
    for key in [yi.id.to_lowercase(), bing.id.clone()] {
        let by_id = explain(&out, &key);
        by_id.assert_code(0, "explain by a member's ID");
        assert_text(s, &by_id.stdout, &format!("explain by {}", masked(&key.to_uppercase())));
    }

    // a household that is not listed
    let not_listed = explain(&out, "E2");
    not_listed.assert_code(0, "explain E2");
    assert_eq!(not_listed.line_starting("结论:"), "结论: 不列出 (没有成立的类别条件)");
    assert!(not_listed.stdout.contains("[不成立] 边缘易致贫户"), "{}", not_listed.show());
}

#[test]
fn explain_of_an_unknown_key_exits_1_without_echoing_a_full_id() {
    let w = Work::new();
    let (fx, _, _) = replay_county();
    let data = w.data("data", &fx);
    let out = w.path("out");
    screen_ok(Path::new(RULES), &data, &out, &["-q"]);
    // a valid ID that belongs to nobody in the roster
    let stranger = pid(999);
    let ran = explain(&out, &stranger);
    ran.assert_code(1, "explain of an unknown ID");
    assert!(!ran.stderr.trim().is_empty(), "a message on stderr");
    assert!(!ran.stdout.contains(&stranger) && !ran.stderr.contains(&stranger), "full ID echoed\n{}", ran.show());
    let ran = explain(&out, "NO-SUCH-HH");
    ran.assert_code(1, "explain of an unknown 户编号");
    assert!(ran.stderr.contains("NO-SUCH-HH"), "{}", ran.show());
}

#[test]
fn explain_uses_the_runs_own_determination_date() {
    // Screened with --as-of 2020-12-31 → 监测线 5000.00 (2020-01-01). A1 脱贫户, n 1, NI 4999.99
    // → PCI 4999.99 < 5000.00 → 脱贫不稳定户. (Under 6320 it would be too, so A2 tells them
    // apart: NI 5500 → 5500.00 ≥ 5000 → not listed, although 5500 < 6320.)
    let w = Work::new();
    let mut fx = Fixture::new();
    let (a, b) = (fx.person("往一"), fx.person("往二"));
    fx.household(hh("A1", "脱贫户", &a).wage("4999.99"));
    fx.household(hh("A2", "脱贫户", &b).wage("5500"));
    let data = w.data("data", &fx);
    let out = w.path("out");
    screen_ok(Path::new(RULES), &data, &out, &["-q", "--as-of", "2020-12-31"]);
    let ran = explain(&out, "A2");
    ran.assert_code(0, "explain A2");
    assert!(ran.stdout.contains("监测线=5000.00"), "{}", ran.show());
    assert!(!ran.stdout.contains("监测线=6320.00"), "{}", ran.show());
    assert_eq!(ran.line_starting("结论:"), "结论: 不列出 (没有成立的类别条件)");
    assert_eq!(explain(&out, "A1").line_starting("结论:"), "结论: 列为脱贫不稳定户 · 风险类型: 待核实 · 建议: 纳入核实");
}

// ---------------------------------------------------------------- --log-format json

/// Parses every stderr line as a JSON object with ts_ms, level and event.
#[track_caller]
fn json_lines(stderr: &str) -> Vec<serde_json::Value> {
    let events: Vec<serde_json::Value> =
        stderr.lines().map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("stderr line is not JSON ({e}): {l}\n--- stderr\n{stderr}"))).collect();
    assert!(!events.is_empty(), "no JSON line on stderr");
    let mut last_ts = 0;
    for e in &events {
        assert!(e.is_object(), "{e}");
        let ts = e["ts_ms"].as_u64().unwrap_or_else(|| panic!("ts_ms is not an integer: {e}"));
        assert!(ts >= last_ts, "ts_ms goes back in time: {e}");
        last_ts = ts;
        assert!(matches!(e["level"].as_str(), Some("info" | "warn" | "error")), "level: {e}");
        assert!(matches!(e["event"].as_str(), Some("start" | "stage" | "warning" | "done" | "failed")), "event: {e}");
    }
    events
}

#[test]
fn json_log_lines_parse_and_the_done_event_carries_the_hand_computed_counts() {
    let w = Work::new();
    let mut fx = Fixture::new();
    let (j1, j2, j3, stranger) = (fx.person("记一"), fx.person("记二"), fx.person("记三"), fx.person("外人"));
    // J1 脱贫户, 监测状态 empty, n 1, NI 5000 → 5000.00 < 6320 → 脱贫不稳定户, a new lead.
    fx.household(hh("J1", "脱贫户", &j1).wage("5000"));
    // J2 一般农户, 监测状态 边缘易致贫户, NI 5000 → 边缘易致贫户, already monitored.
    fx.household(hh("J2", "一般农户", &j2).wage("5000").status("边缘易致贫户"));
    // J3 一般农户, NI 20000 → 20000.00 ≥ 6320, RE 0 → not listed.
    fx.household(hh("J3", "一般农户", &j3).wage("20000"));
    // one bad amount (个人自付 "abc") → 1 reject; one record of nobody in the roster → 1 unmatched
    let id3 = j3.id.clone();
    fx.record("medical", &[&id3, "记三", "2021-01-15", "50000.00", "0", "abc", "肺炎", "否"]);
    fx.medical(&stranger, "2021-01-15", "100.00", "否");
    let data = w.data("data", &fx);
    let out = w.path("out");
    let ran = screen_ok(Path::new(RULES), &data, &out, &["--log-format", "json"]);
    assert_eq!(ran.stdout, "", "no summary on stdout in json mode");
    let events = json_lines(&ran.stderr);
    assert_eq!(events.first().unwrap()["event"], "start", "{}", ran.stderr);
    assert!(events.iter().any(|e| e["event"] == "stage"), "{}", ran.stderr);
    let done = events.last().unwrap();
    assert_eq!(done["event"], "done", "{}", ran.stderr);
    assert_eq!(done["level"], "info");
    for (field, want) in [
        ("households_screened", 3),
        ("households_listed", 2),
        ("new_leads", 1),
        ("already_monitored", 1),
        ("households_excluded", 0),
        ("rejects", 1),
        ("unmatched", 1),
    ] {
        assert_eq!(done[field].as_u64(), Some(want), "done.{field}: {done}");
    }
    assert!(done["elimination_candidates"].is_null(), "no --previous: {done}");
    for p in [&j1, &j2, &j3, &stranger] {
        assert!(!ran.stderr.contains(p.id.as_str()), "an ID in the log");
    }
}

#[test]
fn json_log_reports_a_warning_as_a_warning_event() {
    // --previous without screened.csv warns (monitoring.rs covers the text form).
    let w = Work::new();
    let (fx, _, _) = replay_county();
    let data = w.data("data", &fx);
    let (before, now) = (w.path("before"), w.path("now"));
    screen_ok(Path::new(RULES), &data, &before, &["-q"]);
    // The file itself, in the run's directory (DIR/screened.csv is a link to it).
    std::fs::remove_file(std::fs::canonicalize(before.join("screened.csv")).unwrap()).unwrap();
    let ran = screen_ok(Path::new(RULES), &data, &now, &["--log-format", "json", "--previous", before.to_str().unwrap()]);
    let events = json_lines(&ran.stderr);
    let warning = events.iter().find(|e| e["event"] == "warning").unwrap_or_else(|| panic!("no warning event\n{}", ran.stderr));
    assert_eq!(warning["level"], "warn");
    assert!(warning["message"].as_str().unwrap_or("").contains("screened.csv"), "{warning}");
    assert_eq!(events.last().unwrap()["event"], "done");
}

#[test]
fn json_log_ends_a_failed_run_with_a_failed_event_carrying_the_exit_code() {
    let w = Work::new();
    let (fx, _, _) = replay_county();
    let data = w.data("data", &fx);
    std::fs::remove_file(data.join("members.csv")).unwrap();
    let ran = try_screen(Path::new(RULES), &data, &w.path("out"), &["--log-format", "json"]);
    ran.assert_code(7, "members.csv absent");
    assert_eq!(ran.stdout, "");
    let events = json_lines(&ran.stderr);
    let last = events.last().unwrap();
    assert_eq!(last["event"], "failed", "{}", ran.stderr);
    assert_eq!(last["level"], "error");
    assert_eq!(last["exit_code"].as_u64(), Some(7), "{last}");
    assert!(last["message"].as_str().unwrap_or("").contains("members.csv"), "{last}");
}

// ---------------------------------------------------------------- exit codes 6 and 7

/// A county that screens fine, for breaking one input at a time.
fn working_county(w: &Work) -> PathBuf {
    let (fx, _, _) = replay_county();
    w.data("data", &fx)
}

#[test]
fn a_department_file_lacking_a_declared_column_exits_6_and_leaves_the_last_list_in_place() {
    let w = Work::new();
    let data = working_county(&w);
    let out = w.path("out");
    screen_ok(Path::new(RULES), &data, &out, &["-q"]);
    let last_list = std::fs::read(out.join("flagged.csv")).unwrap();

    // medical.csv without its 是否大病 column
    let medical = data.join("medical.csv");
    let text = std::fs::read_to_string(&medical).unwrap();
    let cut: String = text.lines().map(|l| l.rsplit_once(',').unwrap().0.to_string() + "\n").collect();
    assert!(!cut.contains("是否大病"));
    std::fs::write(&medical, cut).unwrap();

    let ran = try_screen(Path::new(RULES), &data, &out, &["-q"]);
    ran.assert_code(6, "medical.csv lacks 是否大病");
    assert!(ran.stderr.contains("medical.csv") && ran.stderr.contains("是否大病"), "the file and the column are named\n{}", ran.show());
    assert!(std::fs::read(out.join("flagged.csv")).unwrap() == last_list, "the previous flagged.csv must stay as it was");
}

#[test]
fn a_roster_file_lacking_a_declared_column_exits_6() {
    let w = Work::new();
    let data = working_county(&w);
    // households.csv without its last column, 上年度家庭纯收入
    let path = data.join("households.csv");
    let text = std::fs::read_to_string(&path).unwrap();
    let cut: String = text.lines().map(|l| l.rsplit_once(',').unwrap().0.to_string() + "\n").collect();
    assert!(!cut.contains("上年度家庭纯收入"));
    std::fs::write(&path, cut).unwrap();
    let ran = try_screen(Path::new(RULES), &data, &w.path("out"), &["-q"]);
    ran.assert_code(6, "households.csv lacks 上年度家庭纯收入");
    assert!(ran.stderr.contains("上年度家庭纯收入"), "{}", ran.show());
}

#[test]
fn a_missing_roster_file_or_data_directory_exits_7() {
    for (missing, what) in [("households.csv", "households.csv absent"), ("members.csv", "members.csv absent")] {
        let w = Work::new();
        let data = working_county(&w);
        std::fs::remove_file(data.join(missing)).unwrap();
        let ran = try_screen(Path::new(RULES), &data, &w.path("out"), &["-q"]);
        ran.assert_code(7, what);
        assert!(ran.stderr.contains(missing), "{what}: the file is named\n{}", ran.show());
    }
    let w = Work::new();
    let ran = try_screen(Path::new(RULES), &w.path("no-such-dir"), &w.path("out"), &["-q"]);
    ran.assert_code(7, "data directory absent");
    assert!(ran.stderr.contains("no-such-dir"), "{}", ran.show());
}

#[test]
fn a_source_the_rules_mark_required_exits_7_when_its_file_is_absent_and_an_optional_one_does_not() {
    let w = Work::new();
    let required = w.rules_with("required.toml", "[sources.medical]\n", "[sources.medical]\nrequired = true\n");
    let data = working_county(&w);
    // with medical.csv present the required source is satisfied
    screen_ok(&required, &data, &w.path("out-present"), &["-q"]);
    std::fs::remove_file(data.join("medical.csv")).unwrap();
    let ran = try_screen(&required, &data, &w.path("out-required"), &["-q"]);
    ran.assert_code(7, "required medical.csv absent");
    assert!(ran.stderr.contains("medical"), "the source is named\n{}", ran.show());
    assert!(!w.path("out-required").join("flagged.csv").exists(), "no list from a run missing a required source");
    // under the reference rules (medical not required) the same data screens fine
    screen_ok(Path::new(RULES), &data, &w.path("out-optional"), &["-q"]);
}

// ---------------------------------------------------------------- closed stdout

/// Runs fanpin with its stdout a pipe whose reading end is already closed (as after
/// `fanpin … | head -1` once head has exited), and returns its exit code and stderr.
fn with_closed_stdout<S: AsRef<OsStr>>(args: &[S]) -> (Option<i32>, String) {
    let mut child = fanpin_cmd().args(args).stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().expect("failed to start fanpin");
    drop(child.stdout.take());
    let output = child.wait_with_output().unwrap();
    (output.status.code(), String::from_utf8_lossy(&output.stderr).into_owned())
}

#[test]
fn a_closed_stdout_does_not_make_screen_diff_explain_or_replay_panic() {
    let w = Work::new();
    let data = working_county(&w);
    let out = w.path("out");
    let s = |p: &Path| p.as_os_str().to_owned();

    let (code, stderr) =
        with_closed_stdout(&[OsStr::new("screen").to_owned(), "--rules".into(), RULES.into(), "--data".into(), s(&data), "--out".into(), s(&out)]);
    assert_no_panic(&stderr);
    assert_eq!(code, Some(0), "screen with a closed stdout: the run itself succeeded\n{stderr}");
    assert!(out.join("flagged.csv").is_file() && out.join("manifest.json").is_file(), "the outputs are written");

    let other = w.path("other");
    screen_ok(Path::new(RULES), &data, &other, &["-q"]);
    for args in [
        vec!["diff".into(), s(&out), s(&other)],
        vec!["explain".into(), "--out".into(), s(&out), "R1".into()],
        vec!["replay".into(), s(&out.join("manifest.json"))],
    ] {
        let (code, stderr) = with_closed_stdout(&args);
        assert_no_panic(&stderr);
        assert_eq!(code, Some(0), "{args:?} with a closed stdout\n{stderr}");
    }
}

/// Aggregates with a filter (`sum`, `count`, `max`, `min` over the records that satisfy it):
/// a household whose records all fail the filter sums and counts to 0 and has no max or min,
/// like one without records. Figures worked out by hand, shown by `explain`.
#[test]
fn filtered_aggregates_count_only_the_records_that_satisfy_their_filter() {
    let w = Work::new();
    let derives = "[[derive]]\nname = \"大病自付\"\nexpr = \"sum(medical, 个人自付, 是否大病 == '是')\"\n\n\
                   [[derive]]\nname = \"大病次数\"\nexpr = \"count(medical, 是否大病 == '是')\"\n\n\
                   [[derive]]\nname = \"非大病最高自付\"\nexpr = \"max(medical, 个人自付, 是否大病 == '否')\"\n\n\
                   [[derive]]\nname = \"大病最早就诊\"\nexpr = \"min(medical, 就诊日期, 是否大病 == '是')\"\n\n\
                   [[derive]]\nname = \"家庭人口\"";
    let rules = w.rules_with("filtered.toml", "[[derive]]\nname = \"家庭人口\"", derives);
    let mut fx = Fixture::new();
    let (jia, yi) = (fx.person("甲"), fx.person("乙"));
    fx.household(hh("A1", "脱贫户", &jia).wage("30000"));
    fx.member("A1", &yi, "配偶");
    fx.medical(&jia, "2021-01-15", "4500.00", "是");
    fx.medical(&yi, "2021-02-10", "1200.50", "是");
    fx.medical(&yi, "2021-03-01", "300.00", "否");
    fx.medical(&jia, "2021-04-01", "800.25", "否");
    let bing = fx.person("丙");
    fx.household(hh("B1", "一般农户", &bing).wage("30000"));
    fx.medical(&bing, "2021-01-20", "650.00", "否");
    let ding = fx.person("丁");
    fx.household(hh("C1", "一般农户", &ding).wage("30000"));
    let data = w.data("data", &fx);
    let out = w.path("out");
    screen_ok(&rules, &data, &out, &["-q"]);
    let figures = |key: &str| -> Vec<String> {
        let ran = explain(&out, key);
        ran.assert_code(0, key);
        ["大病自付", "大病次数", "非大病最高自付", "大病最早就诊"]
            .iter()
            .map(|name| {
                let line = ran
                    .stdout
                    .lines()
                    .map(str::trim)
                    .find(|l| l.starts_with(&format!("{name} =")))
                    .unwrap_or_else(|| panic!("no figure {name}\n{}", ran.stdout));
                line.rsplit(" =").next().unwrap().trim().to_string()
            })
            .collect()
    };
    // A1: 大病 4500.00 + 1200.50 = 5700.50 in 2 records; the others 300.00 and 800.25 → max
    // 800.25; earliest 大病 visit 2021-01-15.
    assert_eq!(figures("A1"), ["5700.50", "2", "800.25", "2021-01-15"]);
    // B1: its one record is not 大病: sum 0.00, count 0, max 650.00, no earliest 大病 visit.
    assert_eq!(figures("B1"), ["0.00", "0", "650.00", ""]);
    // C1: no records at all: the same neutral values, no max, no min.
    assert_eq!(figures("C1"), ["0.00", "0", "", ""]);
}
