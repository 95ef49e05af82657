//! Rule test cases: a data file next to the rules (`guizhou-2021.cases.toml` beside
//! `guizhou-2021.toml`) holds small households, each with a sentence-style name, its members,
//! their department records, the determination date and the expected category, risk types and
//! 建议. `fanpin check` writes each case as a tiny data directory in the rules' own layout,
//! screens it with the real pipeline, and prints a readable diff for every case that fails.
//!
//! ```toml
//! [[cases]]
//! name = "脱贫户人均纯收入6319.99元低于监测线6320元,列为脱贫不稳定户"
//! as_of = 2021-05-31                       # optional: the rules' determination date
//! household = { "户类型" = "脱贫户", "工资性收入" = "18959.97" }
//! members = [{ "姓名" = "甲" }, { "姓名" = "乙" }, { "姓名" = "丙" }]
//! records.medical = [{ member = 1, "个人自付" = "4000.00" }]
//! expect = { category = "脱贫不稳定户", risks = ["因病"], advice = "纳入核实", per_capita = "6319.99" }
//! ```
//! Columns left out take the value of the file's `[defaults.<table>]` (table: `households`,
//! `members` or a source name), else a neutral one: money 0, integers 0, dates the
//! determination date, text empty, IDs generated. An enum has no neutral value (the first one
//! may well trigger a rule: 是否大病 = 是), so a required enum column must be given by the case
//! or by `[defaults.<table>]`. `category = "不列出"`: not listed.
//! Chinese keys are quoted (TOML 1.1 has no Unicode bare keys).

use crate::rules::diag::line_col;
use crate::rules::plan::{ColType, Plan, Table};
use crate::{evaluate, households, rules};
use anyhow::{anyhow, bail, Context, Result};
use polars::prelude::{AnyValue, DataFrame};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use toml::Spanned;

/// The expected category of a household that no category condition selects.
pub const NOT_LISTED: &str = "不列出";

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCases {
    /// Per table (`households`, `members` or a source name): values for the columns a case
    /// leaves out.
    #[serde(default)]
    defaults: BTreeMap<String, BTreeMap<String, toml::Value>>,
    cases: Vec<Spanned<RawCase>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCase {
    name: String,
    as_of: Option<toml::value::Datetime>,
    #[serde(default)]
    household: BTreeMap<String, toml::Value>,
    members: Vec<BTreeMap<String, toml::Value>>,
    #[serde(default)]
    records: BTreeMap<String, Vec<BTreeMap<String, toml::Value>>>,
    expect: Expect,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Expect {
    /// The household's category, lead or grade; `不列出` when none holds.
    category: String,
    /// Whether it is listed in flagged.csv.
    listed: Option<bool>,
    risks: Option<Vec<String>>,
    advice: Option<String>,
    per_capita: Option<String>,
    /// Derived figures, household columns or parameters, as text (money to the cent).
    #[serde(default)]
    figures: BTreeMap<String, String>,
    /// The exact set of trigger and exclusion ids that hit.
    hits: Option<Vec<String>>,
    /// Texts that 证据 must hold.
    #[serde(default)]
    evidence: Vec<String>,
}

/// The cases file that sits next to a rules file: `x.toml` → `x.cases.toml`.
pub fn beside(rules: &Path) -> PathBuf {
    let stem = rules.file_stem().map(|s| s.to_string_lossy().to_string()).unwrap_or_default();
    rules.with_file_name(format!("{stem}.cases.toml"))
}

/// The outcome of one case: `None` when it passed, else the differing fields (field, expected,
/// got) and anything the run rejected.
pub struct CaseResult {
    pub name: String,
    pub line: usize,
    pub diffs: Vec<(String, String, String)>,
    pub notes: Vec<String>,
}

fn value_text(v: &toml::Value) -> String {
    match v {
        toml::Value::String(s) => s.clone(),
        toml::Value::Datetime(d) => d.to_string(),
        other => other.to_string(),
    }
}

/// A neutral value for a column the case leaves out (`None`: there is none, an enum).
fn default_for(ty: &ColType, optional: bool, as_of: chrono::NaiveDate) -> Option<String> {
    if optional {
        return Some(String::new());
    }
    match ty {
        ColType::Money | ColType::Integer => Some("0".into()),
        ColType::Date => Some(as_of.to_string()),
        ColType::Enum(_) => None,
        ColType::Text | ColType::Id => Some(String::new()),
    }
}

/// A valid 18-digit ID for member `n` of a case.
fn case_id(n: usize) -> String {
    let body = format!("52260119800101{:03}", n % 1000);
    let check = crate::sources::id::check_character(body.as_bytes()) as char;
    format!("{body}{check}")
}

/// The file a table is written to inside the case directory (a glob gets a concrete name).
fn file_for(t: &Table) -> String {
    t.read.pattern.replace('*', "case").replace('?', "x")
}

fn write_csv(dir: &Path, t: &Table, rows: &[BTreeMap<String, String>]) -> Result<()> {
    let path = dir.join(file_for(t));
    if let Some(p) = path.parent() {
        std::fs::create_dir_all(p)?;
    }
    let mut w = csv::Writer::from_path(&path).with_context(|| format!("cannot write {}", path.display()))?;
    w.write_record(t.columns.iter().map(|c| c.name.as_str()))?;
    for r in rows {
        w.write_record(t.columns.iter().map(|c| r.get(&c.name).map(String::as_str).unwrap_or("")))?;
    }
    w.flush()?;
    Ok(())
}

/// Fills a row of `t` from the case's values, then the file's defaults, checking every name.
/// `generated`: columns the runner fills itself (keys, IDs, names).
fn row(
    t: &Table,
    given: &BTreeMap<String, toml::Value>,
    defaults: &Defaults,
    skip: &[&str],
    generated: &[&str],
    as_of: chrono::NaiveDate,
    what: &str,
) -> Result<BTreeMap<String, String>> {
    let table_defaults = defaults.get(&t.name);
    let mut out = BTreeMap::new();
    for (k, v) in given.iter().chain(table_defaults.into_iter().flatten()) {
        if skip.contains(&k.as_str()) {
            continue;
        }
        if t.column(k).is_none() {
            let hint = crate::rules::diag::closest(k, t.columns.iter().map(|c| c.name.as_str())).map(|c| format!(" (did you mean '{c}'?)")).unwrap_or_default();
            bail!("{what}: {} has no column '{k}'{hint}", t.name);
        }
        out.entry(k.clone()).or_insert_with(|| value_text(v));
    }
    for c in &t.columns {
        if out.contains_key(&c.name) {
            continue;
        }
        let v = match default_for(&c.ty, c.optional, as_of) {
            Some(v) => v,
            None if generated.contains(&c.name.as_str()) => String::new(),
            None => bail!("{what}: give {} (an enum has no neutral value), in the case or in [defaults.{}]", c.name, t.name),
        };
        out.insert(c.name.clone(), v);
    }
    Ok(out)
}

type Defaults = BTreeMap<String, BTreeMap<String, toml::Value>>;

/// (field, expected, got) of each check that differs.
type Diffs = Vec<(String, String, String)>;

fn run_case(rules_path: &Path, case: &RawCase, defaults: &Defaults, scratch: &Path) -> Result<(Diffs, Vec<String>)> {
    let as_of = match &case.as_of {
        Some(d) => Some(chrono::NaiveDate::parse_from_str(&d.to_string(), "%Y-%m-%d").map_err(|_| anyhow!("as_of {d} is not a date"))?),
        None => None,
    };
    let loaded = rules::load(rules_path, None, as_of)?;
    let plan: &Plan = &loaded.plan;
    let date = plan.meta.as_of;
    let r = &plan.roster;
    let key = "CASE0001";
    if case.members.is_empty() {
        bail!("a case needs at least one member");
    }
    std::fs::create_dir_all(scratch)?;

    let mut members = Vec::new();
    for (i, m) in case.members.iter().enumerate() {
        let generated = [r.member_household.as_str(), r.member_id.as_str(), r.member_name.as_str()];
        let mut row = row(&r.members, m, defaults, &[], &generated, date, &format!("member {}", i + 1))?;
        row.insert(r.member_household.clone(), key.into());
        row.entry(r.member_id.clone()).and_modify(|v| {
            if v.is_empty() {
                *v = case_id(i + 1)
            }
        });
        row.entry(r.member_name.clone()).and_modify(|v| {
            if v.is_empty() {
                *v = format!("成员{}", i + 1)
            }
        });
        members.push(row);
    }
    let mut household = row(&r.households, &case.household, defaults, &[], &[r.key.as_str()], date, "household")?;
    household.insert(r.key.clone(), key.into());
    for c in r.households.columns.iter().filter(|c| c.ty == ColType::Id) {
        household.entry(c.name.clone()).and_modify(|v| {
            if v.is_empty() {
                *v = members[0][&r.member_id].clone()
            }
        });
    }
    write_csv(scratch, &r.households, &[household])?;
    write_csv(scratch, &r.members, &members)?;
    for (name, records) in &case.records {
        let source = plan.source(name).ok_or_else(|| {
            let hint = crate::rules::diag::closest(name, plan.sources.iter().map(|s| s.table.name.as_str()))
                .map(|c| format!(" (did you mean '{c}'?)"))
                .unwrap_or_default();
            anyhow!("records.{name}: the rules declare no source '{name}'{hint}")
        })?;
        let mut rows = Vec::new();
        for (i, rec) in records.iter().enumerate() {
            let what = format!("records.{name}[{}]", i + 1);
            let n = match rec.get("member") {
                Some(toml::Value::Integer(n)) if *n >= 1 && (*n as usize) <= members.len() => *n as usize,
                Some(v) => bail!("{what}: member = {v} is not a member number 1..{}", members.len()),
                None => bail!("{what}: say whose record it is: member = 1 (the first member)"),
            };
            let generated: Vec<&str> = std::iter::once(source.id.as_str()).chain(source.name_column.as_deref()).collect();
            let mut row = row(&source.table, rec, defaults, &["member"], &generated, date, &what)?;
            row.insert(source.id.clone(), members[n - 1][&r.member_id].clone());
            if let Some(nc) = &source.name_column {
                row.insert(nc.clone(), members[n - 1][&r.member_name].clone());
            }
            rows.push(row);
        }
        write_csv(scratch, &source.table, &rows)?;
    }

    let mut roster = households::build(plan, scratch, households::Keep::Screening, |_| {})?;
    let outcome = evaluate::run(plan, &mut roster, crate::sources::Extracts::Here(scratch), scratch, true, |_, _| {})?;
    let mut notes = Vec::new();
    let mut rejects = vec![roster.rejects.clone()];
    rejects.extend(outcome.sources.iter().map(|s| s.data.rejects.clone()));
    for df in &rejects {
        let text = crate::report::csv::text_columns(df)?;
        for i in 0..df.height() {
            let cells: Vec<String> = text.iter().map(|(n, c)| format!("{n}={}", c.get(i).unwrap_or(""))).collect();
            notes.push(format!("rejected: {}", cells.join(" ")));
        }
    }
    let screened = outcome.screened_households()?;
    let listed = &outcome.listed;
    let first = |df: &DataFrame, c: &str| -> String {
        if df.height() == 0 {
            return String::new();
        }
        df.column(c).ok().and_then(|s| s.str().ok().and_then(|s| s.get(0).map(str::to_string))).unwrap_or_default()
    };
    let category = match first(&screened, "类别") {
        c if c.is_empty() => NOT_LISTED.to_string(),
        c => c,
    };
    let mut diffs = Vec::new();
    let mut differ = |field: &str, want: String, got: String| {
        if want != got {
            diffs.push((field.to_string(), want, got));
        }
    };
    let e = &case.expect;
    differ("类别", e.category.clone(), category);
    if let Some(want) = e.listed {
        differ("列出", yes_no(want), yes_no(listed.height() > 0));
    }
    if let Some(want) = &e.risks {
        differ("风险类型", want.join("、"), first(listed, "风险类型"));
    }
    if let Some(want) = &e.advice {
        differ("建议", want.clone(), first(listed, "建议"));
    }
    if let Some(want) = &e.per_capita {
        // Computed for every screened household, listed or not.
        differ("人均纯收入", want.clone(), first(&screened, "人均纯收入"));
    }
    let detail = outcome.detail.as_ref().ok_or_else(|| anyhow!("internal error: no detail frame"))?;
    for (name, want) in &e.figures {
        differ(name, want.clone(), figure(plan, detail, name)?);
    }
    if let Some(want) = &e.hits {
        let mut want = want.clone();
        want.sort();
        let mut got: Vec<String> = Vec::new();
        for r in plan.triggers.iter().chain(&plan.exclusions) {
            if detail.height() > 0 && detail.column(&evaluate::hit_column(r))?.bool()?.get(0) == Some(true) {
                got.push(r.id.clone());
            }
        }
        got.sort();
        differ("命中规则", want.join(", "), got.join(", "));
    }
    let shown = first(listed, "证据");
    for want in &e.evidence {
        if !shown.contains(want.as_str()) {
            diffs.push(("证据".into(), format!("含「{want}」"), shown.clone()));
        }
    }
    Ok((diffs, notes))
}

fn yes_no(b: bool) -> String {
    if b { "是" } else { "否" }.to_string()
}

/// A derived figure, household column or parameter of the case's household, as text: money
/// with two places (more only where they are not zero), dates YYYY-MM-DD, conditions 是/否.
fn figure(plan: &Plan, detail: &DataFrame, name: &str) -> Result<String> {
    if let Some(p) = plan.parameters.iter().find(|p| p.name == name) {
        return Ok(p.shown());
    }
    let Ok(column) = detail.column(name) else {
        let known = plan
            .derived
            .iter()
            .map(|d| d.name.as_str())
            .chain(plan.roster.households.columns.iter().map(|c| c.name.as_str()))
            .chain(plan.parameters.iter().map(|p| p.name.as_str()));
        let hint = crate::rules::diag::closest(name, known).map(|c| format!(" (did you mean '{c}'?)")).unwrap_or_default();
        bail!("expect.figures: no derived figure, household column or parameter '{name}'{hint}");
    };
    if detail.height() == 0 {
        return Ok(String::new());
    }
    let value = column.get(0)?;
    Ok(match value {
        AnyValue::Null => String::new(),
        AnyValue::Boolean(b) => yes_no(b),
        AnyValue::String(s) => s.to_string(),
        AnyValue::Decimal(m, _, scale) => crate::rules::plan::money_text(rust_decimal::Decimal::from_i128_with_scale(m, scale as u32)),
        v => v.to_string().trim_matches('"').to_string(),
    })
}

/// Runs every case of `cases_path` against the rules at `rules_path`.
pub fn run(rules_path: &Path, cases_path: &Path) -> Result<Vec<CaseResult>> {
    let text = std::fs::read_to_string(cases_path).with_context(|| format!("cannot read {}", cases_path.display()))?;
    let raw: RawCases = toml::from_str(&text).map_err(|e| {
        let (line, col) = e.span().map(|s| line_col(&text, s.start)).unwrap_or((1, 1));
        anyhow!("{}:{line}:{col}: {}", cases_path.display(), e.message().trim())
    })?;
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0);
    let root = std::env::temp_dir().join(format!("fanpin-cases-{}-{nanos}", std::process::id()));
    let mut results = Vec::new();
    for (i, case) in raw.cases.iter().enumerate() {
        let (line, _) = line_col(&text, case.span().start);
        let c = case.get_ref();
        let scratch = root.join(format!("{:04}", i + 1));
        let (diffs, notes) = match run_case(rules_path, c, &raw.defaults, &scratch) {
            Ok(x) => x,
            Err(e) => (vec![("运行".into(), "ok".into(), format!("{e:#}"))], Vec::new()),
        };
        results.push(CaseResult { name: c.name.clone(), line, diffs, notes });
    }
    let _ = std::fs::remove_dir_all(&root);
    Ok(results)
}
