//! Test harness: builds a tiny data directory, runs `fanpin screen`, reads the outputs.
//!
//! Nothing here computes an expected value: expectations live in the test files, worked out
//! by hand from the reference policy (rules/guizhou-2021.toml as specified in issue 2).

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

pub const BIN: &str = env!("CARGO_BIN_EXE_fanpin");
pub const RULES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/rules/guizhou-2021.toml");

/// The one way tests start the binary: `fanpin_cmd().args([...]).output()`. Every integration
/// test spawns `fanpin` through this builder (nothing else names `BIN`), so whatever every run
/// should get is decided here.
pub fn fanpin_cmd() -> Command {
    let mut cmd = Command::new(BIN);
    // The fault hooks are set by the tests that want them, never inherited.
    cmd.env_remove("FANPIN_FAULT");
    cmd
}

/// Runs the binary with `args`, whatever its exit code.
pub fn run(args: &[&std::ffi::OsStr]) -> std::process::Output {
    fanpin_cmd().args(args).output().expect("failed to start fanpin")
}

/// One finished run of the binary.
pub struct Ran {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

pub fn ran(output: std::process::Output) -> Ran {
    Ran {
        code: output.status.code(),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

impl Ran {
    pub fn show(&self) -> String {
        format!("exit {:?}\n--- stdout\n{}--- stderr\n{}", self.code, self.stdout, self.stderr)
    }

    #[track_caller]
    pub fn assert_code(&self, code: i32, what: &str) {
        assert_eq!(self.code, Some(code), "{what}: expected exit code {code}\n{}", self.show());
        assert_no_panic(&self.stderr);
    }

    /// The stdout line that starts with `prefix` (panics with the whole output if none).
    #[track_caller]
    pub fn line_starting(&self, prefix: &str) -> String {
        self.stdout
            .lines()
            .find(|l| l.trim_start().starts_with(prefix))
            .unwrap_or_else(|| panic!("no stdout line starting with {prefix:?}\n{}", self.show()))
            .trim_start()
            .to_string()
    }
}

#[track_caller]
pub fn assert_no_panic(stderr: &str) {
    assert!(!stderr.contains("panicked"), "fanpin panicked:\n{stderr}");
}

/// A data directory of `fx` inside a fresh temporary directory.
pub fn data_of(fx: &Fixture) -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    fx.write_data(&data);
    (tmp, data)
}

pub const BOM: &[u8] = b"\xEF\xBB\xBF";

/// Canonical headers of every input file (issue 2, "the canonical layout of a data directory").
pub fn header_of(source: &str) -> &'static [&'static str] {
    match source {
        "households" => &[
            "户编号",
            "县",
            "乡镇",
            "村",
            "户主姓名",
            "户主证件号码",
            "户类型",
            "监测状态",
            "工资性收入",
            "生产经营性收入",
            "财产性收入",
            "转移性收入",
            "生产经营性支出",
            "上年度家庭纯收入",
        ],
        "members" => &["户编号", "姓名", "证件号码", "与户主关系", "性别", "出生日期", "健康状况", "劳动技能", "是否共同生活"],
        "medical" => &["证件号码", "姓名", "就诊日期", "医疗总费用", "报销金额", "个人自付", "病种", "是否大病"],
        "education" => &["证件号码", "姓名", "学段", "学年", "缴费日期", "自付费用"],
        "vehicles" => &["证件号码", "姓名", "号牌号码", "车辆类型", "登记日期", "状态"],
        "accidents" => &["证件号码", "姓名", "事故日期", "伤情"],
        "real_estate" => &["证件号码", "姓名", "不动产类型", "登记日期"],
        "companies" => &["证件号码", "姓名", "企业名称", "身份", "状态"],
        "public_employees" => &["证件号码", "姓名", "单位", "类别"],
        "disability" => &["证件号码", "姓名", "残疾类别", "残疾等级"],
        "housing" => &["证件号码", "姓名", "鉴定等级", "鉴定日期"],
        "disasters" => &["证件号码", "姓名", "灾害类型", "损失情况", "发生日期"],
        "employment" => &["证件号码", "姓名", "返乡日期", "返乡未就业天数"],
        "blacklist" => &["证件号码", "姓名", "失信类型", "立案日期"],
        "agriculture" => &["证件号码", "姓名", "项目名称", "情况", "发生日期"],
        other => panic!("unknown source {other}"),
    }
}

// ---------------------------------------------------------------- citizen IDs

/// ISO 7064 MOD 11-2 check character of a 17-digit body (GB 11643-1999).
pub fn check_char(body17: &str) -> char {
    const W: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    assert_eq!(body17.len(), 17, "body must be 17 digits: {body17}");
    let sum: u32 = body17.chars().zip(W).map(|(c, w)| c.to_digit(10).expect("digit") * w).sum();
    b"10X98765432"[(sum % 11) as usize] as char
}

/// A valid 18-digit ID: 522601 (凯里市) + 19800101 + 3-digit sequence + check char.
pub fn pid(seq: u32) -> String {
    assert!(seq < 1000);
    let body = format!("52260119800101{seq:03}");
    format!("{body}{}", check_char(&body))
}

/// The legacy 15-digit form of `pid(seq)`: 522601 + 800101 + sequence (no check char).
pub fn id15(seq: u32) -> String {
    format!("522601800101{seq:03}")
}

/// `id` with its check character replaced by a wrong one.
pub fn with_wrong_check(id: &str) -> String {
    let last = id.chars().last().unwrap();
    let wrong = if last == '0' { '1' } else { '0' };
    format!("{}{}", &id[..17], wrong)
}

/// Half-width ASCII digits → full-width digits (U+FF10..U+FF19).
pub fn full_width(id: &str) -> String {
    id.chars()
        .map(|c| match c.to_digit(10) {
            Some(d) => char::from_u32(0xFF10 + d).unwrap(),
            None => c,
        })
        .collect()
}

#[derive(Clone, Debug)]
pub struct Person {
    pub name: String,
    pub id: String,
    pub seq: u32,
}

impl Person {
    pub fn sex(&self) -> &'static str {
        if self.seq % 2 == 1 {
            "男"
        } else {
            "女"
        }
    }
}

// ---------------------------------------------------------------- households

#[derive(Clone, Debug)]
pub struct Hh {
    pub id: String,
    pub county: String,
    pub township: String,
    pub village: String,
    pub head: Person,
    pub kind: String,
    pub status: String,
    pub wage: String,
    pub business: String,
    pub property: String,
    pub transfer: String,
    pub cost: String,
    pub prev: String,
    pub head_labour: String,
    pub head_coresident: bool,
}

/// A household whose head is `head` (added to members.csv as 户主, co-resident,
/// 普通劳动力 unless changed). All money columns default to "0".
pub fn hh(id: &str, kind: &str, head: &Person) -> Hh {
    Hh {
        id: id.into(),
        county: "凯里市".into(),
        township: "城关镇".into(),
        village: "大坪村".into(),
        head: head.clone(),
        kind: kind.into(),
        status: String::new(),
        wage: "0".into(),
        business: "0".into(),
        property: "0".into(),
        transfer: "0".into(),
        cost: "0".into(),
        prev: "0".into(),
        head_labour: "普通劳动力".into(),
        head_coresident: true,
    }
}

impl Hh {
    pub fn wage(mut self, v: &str) -> Self {
        self.wage = v.into();
        self
    }
    /// 工资性, 生产经营性, 财产性, 转移性 收入 and 生产经营性支出.
    pub fn incomes(mut self, wage: &str, business: &str, property: &str, transfer: &str, cost: &str) -> Self {
        self.wage = wage.into();
        self.business = business.into();
        self.property = property.into();
        self.transfer = transfer.into();
        self.cost = cost.into();
        self
    }
    /// 上年度家庭纯收入
    pub fn prev(mut self, v: &str) -> Self {
        self.prev = v.into();
        self
    }
    pub fn at(mut self, township: &str, village: &str) -> Self {
        self.township = township.into();
        self.village = village.into();
        self
    }
    pub fn status(mut self, v: &str) -> Self {
        self.status = v.into();
        self
    }
    pub fn head_labour(mut self, v: &str) -> Self {
        self.head_labour = v.into();
        self
    }
    pub fn head_not_coresident(mut self) -> Self {
        self.head_coresident = false;
        self
    }
}

// ---------------------------------------------------------------- fixture

#[derive(Default)]
pub struct Fixture {
    next_seq: u32,
    /// source name → rows (header is added when written)
    rows: BTreeMap<String, Vec<Vec<String>>>,
    /// file name → raw bytes, written verbatim (overrides `rows` for that file)
    raw: BTreeMap<String, Vec<u8>>,
}

impl Fixture {
    pub fn new() -> Self {
        Fixture { next_seq: 1, ..Default::default() }
    }

    /// A new person with a fresh, valid 18-digit ID.
    pub fn person(&mut self, name: &str) -> Person {
        let seq = self.next_seq;
        self.next_seq += 1;
        Person { name: name.into(), id: pid(seq), seq }
    }

    /// A new person whose valid ID ends in the check character X.
    pub fn person_with_x(&mut self, name: &str) -> Person {
        let mut seq = self.next_seq;
        while !pid(seq).ends_with('X') {
            seq += 1;
        }
        self.next_seq = seq + 1;
        Person { name: name.into(), id: pid(seq), seq }
    }

    /// Adds the household row and its head as a member row.
    pub fn household(&mut self, h: Hh) -> &mut Self {
        let row = vec![
            h.id.clone(),
            h.county.clone(),
            h.township.clone(),
            h.village.clone(),
            h.head.name.clone(),
            h.head.id.clone(),
            h.kind.clone(),
            h.status.clone(),
            h.wage.clone(),
            h.business.clone(),
            h.property.clone(),
            h.transfer.clone(),
            h.cost.clone(),
            h.prev.clone(),
        ];
        self.rows.entry("households".into()).or_default().push(row);
        let (labour, co) = (h.head_labour.clone(), h.head_coresident);
        self.member_row(&h.id, &h.head, "户主", &labour, co);
        self
    }

    /// Adds a household row only (no head member row), with raw values.
    pub fn household_row(&mut self, fields: &[&str]) -> &mut Self {
        self.record("households", fields)
    }

    /// A co-resident member with 普通劳动力.
    pub fn member(&mut self, hh: &str, p: &Person, relation: &str) -> &mut Self {
        self.member_row(hh, p, relation, "普通劳动力", true)
    }

    pub fn member_row(&mut self, hh: &str, p: &Person, relation: &str, labour: &str, coresident: bool) -> &mut Self {
        let row = vec![
            hh.to_string(),
            p.name.clone(),
            p.id.clone(),
            relation.to_string(),
            p.sex().to_string(),
            "1980-01-01".to_string(),
            "健康".to_string(),
            labour.to_string(),
            if coresident { "是" } else { "否" }.to_string(),
        ];
        self.rows.entry("members".into()).or_default().push(row);
        self
    }

    /// Appends a raw row to a source file (fields in canonical column order).
    pub fn record(&mut self, source: &str, fields: &[&str]) -> &mut Self {
        assert_eq!(fields.len(), header_of(source).len(), "{source}: wrong field count in {fields:?}");
        self.rows.entry(source.into()).or_default().push(fields.iter().map(|s| s.to_string()).collect());
        self
    }

    // Convenience writers for department records. `id` is written as given.
    pub fn medical(&mut self, p: &Person, date: &str, self_pay: &str, major: &str) -> &mut Self {
        let (id, name) = (p.id.clone(), p.name.clone());
        self.record("medical", &[&id, &name, date, "50000.00", "0", self_pay, "肺炎", major])
    }
    pub fn education(&mut self, p: &Person, date: &str, self_pay: &str) -> &mut Self {
        let (id, name) = (p.id.clone(), p.name.clone());
        self.record("education", &[&id, &name, "高中", "2020-2021", date, self_pay])
    }
    pub fn disability(&mut self, p: &Person, grade: &str) -> &mut Self {
        let (id, name) = (p.id.clone(), p.name.clone());
        self.record("disability", &[&id, &name, "肢体残疾", grade])
    }
    pub fn disaster(&mut self, p: &Person, loss: &str, date: &str) -> &mut Self {
        let (id, name) = (p.id.clone(), p.name.clone());
        self.record("disasters", &[&id, &name, "洪涝", loss, date])
    }
    pub fn accident(&mut self, p: &Person, date: &str, injury: &str) -> &mut Self {
        let (id, name) = (p.id.clone(), p.name.clone());
        self.record("accidents", &[&id, &name, date, injury])
    }
    pub fn employment(&mut self, p: &Person, date: &str, days: &str) -> &mut Self {
        let (id, name) = (p.id.clone(), p.name.clone());
        self.record("employment", &[&id, &name, date, days])
    }
    pub fn agriculture(&mut self, p: &Person, status: &str, date: &str) -> &mut Self {
        let (id, name) = (p.id.clone(), p.name.clone());
        self.record("agriculture", &[&id, &name, "茶叶种植", status, date])
    }
    pub fn housing(&mut self, p: &Person, grade: &str, date: &str) -> &mut Self {
        let (id, name) = (p.id.clone(), p.name.clone());
        self.record("housing", &[&id, &name, grade, date])
    }
    pub fn vehicle(&mut self, p: &Person, kind: &str, registered: &str, status: &str) -> &mut Self {
        let (id, name) = (p.id.clone(), p.name.clone());
        self.record("vehicles", &[&id, &name, "黔H12345", kind, registered, status])
    }
    pub fn real_estate(&mut self, p: &Person, kind: &str, registered: &str) -> &mut Self {
        let (id, name) = (p.id.clone(), p.name.clone());
        self.record("real_estate", &[&id, &name, kind, registered])
    }
    pub fn company(&mut self, p: &Person, company: &str, role: &str, status: &str) -> &mut Self {
        let (id, name) = (p.id.clone(), p.name.clone());
        self.record("companies", &[&id, &name, company, role, status])
    }
    pub fn public_employee(&mut self, p: &Person, category: &str) -> &mut Self {
        let (id, name) = (p.id.clone(), p.name.clone());
        self.record("public_employees", &[&id, &name, "某单位", category])
    }
    pub fn blacklist(&mut self, p: &Person, filed: &str) -> &mut Self {
        let (id, name) = (p.id.clone(), p.name.clone());
        self.record("blacklist", &[&id, &name, "失信被执行人", filed])
    }

    /// Writes a file verbatim (e.g. with BOM / CRLF).
    pub fn raw_file(&mut self, file_name: &str, bytes: impl Into<Vec<u8>>) -> &mut Self {
        self.raw.insert(file_name.into(), bytes.into());
        self
    }

    /// The CSV text (no BOM, LF) that `write_data` would produce for `source`.
    pub fn csv_text(&self, source: &str) -> String {
        let mut w = csv::WriterBuilder::new().terminator(csv::Terminator::Any(b'\n')).from_writer(vec![]);
        w.write_record(header_of(source)).unwrap();
        for r in self.rows.get(source).map(|v| v.as_slice()).unwrap_or(&[]) {
            w.write_record(r).unwrap();
        }
        String::from_utf8(w.into_inner().unwrap()).unwrap()
    }

    pub fn write_data(&self, dir: &Path) {
        std::fs::create_dir_all(dir).unwrap();
        for source in self.rows.keys() {
            let name = format!("{source}.csv");
            if self.raw.contains_key(&name) {
                continue;
            }
            std::fs::write(dir.join(name), self.csv_text(source)).unwrap();
        }
        for (name, bytes) in &self.raw {
            std::fs::write(dir.join(name), bytes).unwrap();
        }
        // households.csv and members.csv always exist (possibly header-only).
        for source in ["households", "members"] {
            let p = dir.join(format!("{source}.csv"));
            if !p.exists() {
                std::fs::write(p, self.csv_text(source)).unwrap();
            }
        }
    }

    /// Writes the data directory, runs `fanpin screen`, asserts exit status 0.
    pub fn run(&self) -> Outcome {
        let tmp = tempfile::tempdir().unwrap();
        let data = tmp.path().join("data");
        self.write_data(&data);
        screen(tmp, data)
    }

    /// The rows of one source as the canonical CSV would hold them.
    pub fn rows_of(&self, source: &str) -> Vec<Vec<String>> {
        self.rows.get(source).cloned().unwrap_or_default()
    }
}

/// Runs `fanpin screen` on a data directory inside `tmp`, asserting exit status 0.
pub fn screen(tmp: tempfile::TempDir, data: PathBuf) -> Outcome {
    {
        let out = tmp.path().join("out");
        let output =
            fanpin_cmd().arg("screen").arg("--rules").arg(RULES).arg("--data").arg(&data).arg("--out").arg(&out).output().expect("failed to start fanpin");
        let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
        let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
        if !output.status.success() {
            let mut listing = String::new();
            for entry in std::fs::read_dir(&data).unwrap() {
                let p = entry.unwrap().path();
                let _ = writeln!(listing, "--- {}\n{}", p.display(), String::from_utf8_lossy(&std::fs::read(&p).unwrap()));
            }
            panic!("fanpin screen exited with {}\n--- stderr\n{stderr}\n--- stdout\n{stdout}\n--- input\n{listing}", output.status);
        }
        Outcome { _tmp: tmp, out, stderr }
    }
}

/// Like `Fixture::run`, with another rules file and extra `screen` arguments (e.g. `--previous
/// DIR`, `--as-of DATE`); asserts exit status 0.
pub fn screen_with(tmp: tempfile::TempDir, data: PathBuf, rules: &Path, extra: &[&std::ffi::OsStr]) -> Outcome {
    let out = tmp.path().join("out");
    let output = fanpin_cmd()
        .arg("screen")
        .arg("--rules")
        .arg(rules)
        .arg("--data")
        .arg(&data)
        .arg("--out")
        .arg(&out)
        .args(extra)
        .output()
        .expect("failed to start fanpin");
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    if !output.status.success() {
        panic!("fanpin screen {extra:?} exited with {}\n--- stderr\n{stderr}\n--- stdout\n{}", output.status, String::from_utf8_lossy(&output.stdout));
    }
    Outcome { _tmp: tmp, out, stderr }
}

impl Fixture {
    /// Runs `fanpin screen` with the reference rules and `--previous previous` (a previous run's
    /// output directory, e.g. last month's `Outcome::out`).
    pub fn run_previous(&self, previous: &Path) -> Outcome {
        self.run_with(Path::new(RULES), &["--previous".as_ref(), previous.as_os_str()])
    }

    /// Runs `fanpin screen` with `rules` and extra arguments, asserting exit status 0.
    pub fn run_with(&self, rules: &Path, extra: &[&std::ffi::OsStr]) -> Outcome {
        let tmp = tempfile::tempdir().unwrap();
        let data = tmp.path().join("data");
        self.write_data(&data);
        screen_with(tmp, data, rules, extra)
    }
}

impl Outcome {
    /// The row of household `hh` in output CSV `name` (keyed by 户编号), or None.
    pub fn find_in(&self, name: &str, hh: &str) -> Option<Row> {
        self.csv(name).records().into_iter().find(|r| r.get("户编号") == hh)
    }
}

// ---------------------------------------------------------------- outputs

pub struct Outcome {
    _tmp: tempfile::TempDir,
    pub out: PathBuf,
    pub stderr: String,
}

#[derive(Clone, Debug)]
pub struct Table {
    pub file: String,
    pub headers: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

#[derive(Clone, Debug)]
pub struct Row {
    pub file: String,
    pub fields: Vec<(String, String)>,
}

impl Row {
    pub fn get(&self, col: &str) -> &str {
        self.fields.iter().find(|(k, _)| k == col).map(|(_, v)| v.as_str()).unwrap_or_else(|| panic!("{}: no column {col} in {:?}", self.file, self.fields))
    }
    pub fn render(&self) -> String {
        self.fields.iter().map(|(k, v)| format!("{k}: {v}\n")).collect()
    }
}

impl Table {
    pub fn records(&self) -> Vec<Row> {
        self.rows.iter().map(|r| Row { file: self.file.clone(), fields: self.headers.iter().cloned().zip(r.iter().cloned()).collect() }).collect()
    }
    pub fn render(&self) -> String {
        let mut s = self.headers.join(",") + "\n";
        for r in &self.rows {
            s += &r.join(",");
            s += "\n";
        }
        s
    }
    pub fn column(&self, col: &str) -> Vec<String> {
        self.records().iter().map(|r| r.get(col).to_string()).collect()
    }
}

impl Outcome {
    pub fn path(&self, name: &str) -> PathBuf {
        self.out.join(name)
    }

    pub fn bytes(&self, name: &str) -> Vec<u8> {
        std::fs::read(self.path(name)).unwrap_or_else(|e| panic!("cannot read {name}: {e}\nstderr:\n{}", self.stderr))
    }

    /// Reads an output CSV, asserting it starts with a UTF-8 BOM.
    pub fn csv(&self, name: &str) -> Table {
        let bytes = self.bytes(name);
        assert!(bytes.starts_with(BOM), "{name} does not start with a UTF-8 BOM");
        let mut rdr = csv::ReaderBuilder::new().has_headers(true).from_reader(&bytes[BOM.len()..]);
        let headers = rdr.headers().unwrap().iter().map(String::from).collect();
        let rows = rdr.records().map(|r| r.unwrap().iter().map(String::from).collect()).collect();
        Table { file: name.into(), headers, rows }
    }

    pub fn flagged(&self) -> Table {
        self.csv("flagged.csv")
    }

    pub fn rejects(&self) -> Vec<Row> {
        self.csv("rejects.csv").records()
    }

    pub fn unmatched(&self) -> Vec<Row> {
        self.csv("unmatched.csv").records()
    }

    /// 户编号 of every listed household, in file order.
    pub fn listed(&self) -> Vec<String> {
        self.flagged().column("户编号")
    }

    pub fn is_listed(&self, hh: &str) -> bool {
        self.listed().iter().any(|h| h == hh)
    }

    /// The flagged.csv row of household `hh` (panics with the whole file if absent).
    pub fn row(&self, hh: &str) -> Row {
        let t = self.flagged();
        t.records().into_iter().find(|r| r.get("户编号") == hh).unwrap_or_else(|| {
            panic!("household {hh} is not in flagged.csv\n--- flagged.csv\n{}--- rejects.csv\n{}", t.render(), self.csv("rejects.csv").render())
        })
    }

    /// Asserts household `hh` was screened (it is in screened.csv: not rejected, not dropped
    /// from the roster) and is not listed in flagged.csv.
    #[track_caller]
    pub fn assert_not_listed(&self, hh: &str, why: &str) {
        if self.find_in("screened.csv", hh).is_none() {
            panic!(
                "household {hh} should be screened and not listed ({why}), but it is not in screened.csv\n--- rejects.csv\n{}",
                self.csv("rejects.csv").render()
            );
        }
        if self.is_listed(hh) {
            panic!("household {hh} should not be listed ({why}) but is:\n{}", self.row(hh).render());
        }
    }

    /// Asserts household `hh` was rejected: in neither screened.csv nor flagged.csv.
    #[track_caller]
    pub fn assert_not_screened(&self, hh: &str, why: &str) {
        if let Some(row) = self.find_in("screened.csv", hh) {
            panic!("household {hh} should not be screened ({why}) but is:\n{}", row.render());
        }
        if self.is_listed(hh) {
            panic!("household {hh} should not be listed ({why}) but is:\n{}", self.row(hh).render());
        }
    }

    /// Asserts selected columns of household `hh`'s flagged row.
    #[track_caller]
    pub fn assert_row(&self, hh: &str, expected: &[(&str, &str)]) {
        let row = self.row(hh);
        assert_fields(&row, expected, &format!("flagged.csv row {hh}"));
    }

    pub fn risk(&self, hh: &str) -> String {
        self.row(hh).get("风险类型").to_string()
    }

    pub fn manifest(&self) -> serde_json::Value {
        serde_json::from_slice(&self.bytes("manifest.json")).expect("manifest.json is not valid JSON")
    }

    /// The manifest's entry of one input source (`inputs[]` whose `source` is `source`).
    #[track_caller]
    pub fn input(&self, source: &str) -> serde_json::Value {
        let m = self.manifest();
        let inputs = m["inputs"].as_array().expect("manifest.json has no inputs list");
        inputs.iter().find(|i| i["source"] == source).unwrap_or_else(|| panic!("no input {source} in manifest.json:\n{m}")).clone()
    }
}

/// Compares selected fields; on mismatch prints a readable diff.
#[track_caller]
pub fn assert_fields(row: &Row, expected: &[(&str, &str)], what: &str) {
    let want: String = expected.iter().map(|(k, v)| format!("{k}: {v}\n")).collect();
    let got: String = expected.iter().map(|(k, _)| format!("{k}: {}\n", row.get(k))).collect();
    if want != got {
        let diff = similar::TextDiff::from_lines(&want, &got).unified_diff().header("expected (hand-computed)", "fanpin").to_string();
        panic!("{what} differs:\n{diff}\nwhole row:\n{}", row.render());
    }
}

/// Compares two texts with a readable diff.
#[track_caller]
pub fn assert_text(want: &str, got: &str, what: &str) {
    if want != got {
        let diff = similar::TextDiff::from_lines(want, got).unified_diff().header("expected (hand-computed)", "fanpin").to_string();
        panic!("{what} differs:\n{diff}");
    }
}

/// Asserts that some reject row matches all of `expected`.
#[track_caller]
pub fn assert_has_reject(out: &Outcome, expected: &[(&str, &str)]) {
    let rows = out.rejects();
    let hit = rows.iter().any(|r| expected.iter().all(|(k, v)| r.get(k) == *v));
    if !hit {
        panic!("no reject row matching {expected:?}\n--- rejects.csv\n{}", out.csv("rejects.csv").render());
    }
}

#[test]
fn test_support_check_char_matches_the_gb11643_published_example() {
    // GB 11643-1999 example: 11010519491231002X
    assert_eq!(check_char("11010519491231002"), 'X');
    assert_eq!(pid(1).len(), 18);
    assert_eq!(full_width("12"), "１２");
}

// ---------------------------------------------------------------- other commands (runs.rs)

/// Reads a CSV that fanpin wrote anywhere (e.g. `diff --csv FILE`), asserting its UTF-8 BOM.
pub fn read_bom_csv(path: &Path) -> Table {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    assert!(bytes.starts_with(BOM), "{} does not start with a UTF-8 BOM", path.display());
    let mut rdr = csv::ReaderBuilder::new().has_headers(true).from_reader(&bytes[BOM.len()..]);
    let headers = rdr.headers().unwrap().iter().map(String::from).collect();
    let rows = rdr.records().map(|r| r.unwrap().iter().map(String::from).collect()).collect();
    Table { file: path.display().to_string(), headers, rows }
}

/// The cases file beside a rules file: `x.toml` → `x.cases.toml`.
pub fn cases_beside(rules: &Path) -> PathBuf {
    let stem = rules.file_stem().unwrap().to_string_lossy().to_string();
    rules.with_file_name(format!("{stem}.cases.toml"))
}
