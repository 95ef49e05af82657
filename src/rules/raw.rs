//! The rules file as written: serde structs that mirror the TOML one to one, with spans kept
//! for error messages. Nothing here is checked beyond TOML syntax and unknown fields;
//! `plan` turns it into a typed, validated plan.

use serde::Deserialize;
use std::collections::BTreeMap;
use toml::value::Datetime;
use toml::Spanned;

pub type S<T> = Spanned<T>;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRules {
    pub meta: RawMeta,
    #[serde(default)]
    pub parameters: BTreeMap<String, S<RawParameter>>,
    pub roster: RawRoster,
    #[serde(default)]
    pub sources: BTreeMap<String, S<RawSource>>,
    #[serde(default)]
    pub derive: Vec<RawDerive>,
    #[serde(default)]
    pub triggers: Vec<RawRule>,
    #[serde(default)]
    pub exclusions: Vec<RawRule>,
    pub categories: Vec<RawCategory>,
    pub report: RawReport,
    pub monitoring: Option<RawMonitoring>,
    /// Header aliases and value synonyms that apply to every table.
    #[serde(default)]
    pub defaults: RawDefaults,
}

/// A data directory's `sources.toml`: how this directory's files look. Same layout as the
/// rules file: `[roster.households]`, `[roster.members]`, `[sources.<name>]`, `[defaults]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSourcesFile {
    #[serde(default)]
    pub defaults: RawDefaults,
    #[serde(default)]
    pub roster: BTreeMap<String, S<RawTableOverride>>,
    #[serde(default)]
    pub sources: BTreeMap<String, S<RawTableOverride>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawTableOverride {
    /// Replaces the rules' file name (a glob reads several files as one table).
    pub file: Option<String>,
    #[serde(default)]
    pub read: RawReading,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawDefaults {
    #[serde(default)]
    pub aliases: BTreeMap<String, Vec<String>>,
    #[serde(default)]
    pub synonyms: BTreeMap<String, BTreeMap<String, Vec<String>>>,
}

/// How a table's files are read (the same keys for the roster and every source).
/// `file` may be a glob (`medical/2021-*.xlsx`): the files are read as one table.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawReading {
    /// Sheet of a workbook: a name, or a 0-based index. Default: the first sheet.
    pub sheet: Option<S<toml::Value>>,
    /// `auto` (BOM → UTF-8; valid UTF-8 → UTF-8; otherwise GB18030), `utf-8` or `gb18030`.
    pub encoding: Option<S<String>>,
    /// `auto`, `,`, `\t`, `|` or `;` (delimited text only).
    pub delimiter: Option<S<String>>,
    /// Other header names of a column: `"证件号码" = ["公民身份号码", "身份证号"]`.
    #[serde(default)]
    pub aliases: BTreeMap<String, Vec<String>>,
    /// Other spellings of enum values: `"是否大病" = { "是" = ["Y", "1"], "否" = ["N", "0"] }`.
    #[serde(default)]
    pub synonyms: BTreeMap<String, BTreeMap<String, Vec<String>>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawMeta {
    pub name: String,
    pub region: String,
    pub version: String,
    pub determination_date: S<Datetime>,
    pub window: S<RawWindow>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawWindow {
    /// A fixed window: `{ start = 2020-06-01, end = 2021-05-31 }` …
    pub start: Option<S<Datetime>>,
    pub end: Option<S<Datetime>>,
    /// … or the N months ending on the determination date: `{ months = 12 }` …
    pub months: Option<S<i64>>,
    /// … or, with `full_months = true`, the N full calendar months before the determination
    /// date's month (`--as-of 2024-07-15` → 2023-07-01 … 2024-06-30).
    #[serde(default)]
    pub full_months: bool,
}

/// A source's window: `"日期列"` (the income window) or a table.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum RawSourceWindow {
    Income(String),
    Own(RawOwnWindow),
}

/// `{ column = "日期列", months = N [, full_months = true] }`, `{ column, year_to_date = true }`
/// or `{ column, start, end }`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawOwnWindow {
    pub column: String,
    pub start: Option<Datetime>,
    pub end: Option<Datetime>,
    pub months: Option<i64>,
    #[serde(default)]
    pub full_months: bool,
    #[serde(default)]
    pub year_to_date: bool,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawParameter {
    #[serde(rename = "type")]
    pub ty: S<String>,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub values: Vec<RawParamValue>,
    /// A computed parameter: an expression over other parameters (instead of `values`) …
    pub formula: Option<S<String>>,
    /// … and the document that sets the formula.
    pub reference: Option<S<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawParamValue {
    pub from: S<Datetime>,
    pub value: S<toml::Value>,
    pub reference: S<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRoster {
    pub households: S<RawHouseholds>,
    pub members: S<RawMembers>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawHouseholds {
    pub file: String,
    #[serde(default)]
    pub read: RawReading,
    pub key: S<String>,
    pub columns: BTreeMap<String, S<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawMembers {
    pub file: String,
    #[serde(default)]
    pub read: RawReading,
    pub household: S<String>,
    pub id: S<String>,
    pub name: S<String>,
    pub co_resident: S<String>,
    pub columns: BTreeMap<String, S<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSource {
    pub label: String,
    pub file: String,
    #[serde(default)]
    pub read: RawReading,
    /// The column holding the citizen ID of the member a record belongs to.
    pub id: S<String>,
    /// The column holding the person's name in the extract (shown for unmatched records).
    pub name: Option<S<String>>,
    /// A date column: when set, only records dated inside the income window are used; or a
    /// window of the source's own.
    pub window: Option<S<RawSourceWindow>>,
    /// When true, a run without any file of this source fails (exit code 7) instead of
    /// screening as if the department had no records.
    #[serde(default)]
    pub required: bool,
    /// A link source: the ID column of a relative of the member `id` names (a 赡养关系 extract
    /// mapping a child registered elsewhere to an elderly member).
    pub relative: Option<S<String>>,
    /// The link source through which this source's records of the members' relatives count too
    /// (marked `亲属记录`).
    pub relatives: Option<S<String>>,
    pub columns: BTreeMap<String, S<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawDerive {
    pub name: S<String>,
    pub expr: S<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRule {
    pub id: S<String>,
    pub label: String,
    /// Triggers only: the risk type (返贫致贫风险) this trigger reports.
    pub risk: Option<S<String>>,
    /// Exclusions only: `review` or `exclude`.
    pub action: Option<S<String>>,
    /// Record rules: the source whose records are tested one by one.
    pub source: Option<S<String>>,
    #[serde(default, rename = "let")]
    pub lets: BTreeMap<String, S<String>>,
    pub when: S<String>,
    pub evidence: S<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawCategory {
    pub name: S<String>,
    /// Optional when `reasons` are given (it is then their `or`).
    pub when: Option<S<String>>,
    /// `false`: a grade, not a lead to verify.
    #[serde(default = "yes")]
    pub lead: bool,
    pub evidence: Option<S<String>>,
    #[serde(default)]
    pub reasons: Vec<RawReason>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawReason {
    pub when: S<String>,
    pub evidence: S<String>,
}

fn yes() -> bool {
    true
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawMonitoring {
    pub monitored: S<String>,
    pub elimination: S<String>,
    pub stays_monitored: Option<S<String>>,
    #[serde(default = "default_stays_reason")]
    pub stays_reason: String,
    /// 依据 of elimination_candidates.csv: text with {人均纯收入} {监测线} {上次人均纯收入}
    /// {上次监测线}.
    pub elimination_basis: Option<S<String>>,
}

// The defaults of the wording keys only describe what fanpin did; a policy's own wording (its
// terms for "include", "review", the notice's title and footer, why a household left the list)
// is written in its rules file.
fn default_stays_reason() -> String {
    "stays_monitored 条件成立".into()
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawReport {
    pub size: S<String>,
    pub net_income: S<String>,
    pub per_capita: S<String>,
    pub line: S<String>,
    #[serde(default = "default_no_trigger")]
    pub no_trigger_risk: String,
    #[serde(default = "default_include")]
    pub include: String,
    #[serde(default = "default_review")]
    pub review: String,
    /// The notice's title, after the township and village names.
    #[serde(default = "default_notice_title")]
    pub notice_title: String,
    /// A line under the notice's list (none when empty).
    #[serde(default)]
    pub notice_footer: String,
    /// `explain`: who decides on a household marked `review` (shown after its 排除提示; none
    /// when empty).
    #[serde(default)]
    pub review_note: String,
    /// dropped.csv 原因: no longer in the roster (or rejected).
    #[serde(default = "default_not_screened")]
    pub dropped_not_screened: String,
    /// dropped.csv 原因: excluded by an exclusion rule.
    #[serde(default = "default_excluded")]
    pub dropped_excluded: String,
    /// dropped.csv 原因: in no category now; text with {人均纯收入} {监测线}.
    pub dropped_no_category: Option<S<String>>,
    /// dropped.csv 原因: in a category that is not a lead (a grade).
    #[serde(default = "default_not_listed")]
    pub dropped_not_listed: String,
}

fn default_no_trigger() -> String {
    "无".into()
}
fn default_include() -> String {
    "列出".into()
}
fn default_review() -> String {
    "需复核".into()
}
fn default_notice_title() -> String {
    "名单".into()
}
fn default_not_screened() -> String {
    "已不在户表中(或该户被拒收,见rejects.csv)".into()
}
fn default_excluded() -> String {
    "按规则排除".into()
}
fn default_not_listed() -> String {
    "仍符合类别但未列出".into()
}
