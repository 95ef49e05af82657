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
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawMeta {
    pub name: String,
    pub region: String,
    pub version: String,
    pub determination_date: S<Datetime>,
    pub window: RawWindow,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawWindow {
    pub start: S<Datetime>,
    pub end: S<Datetime>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawParameter {
    #[serde(rename = "type")]
    pub ty: S<String>,
    #[serde(default)]
    pub description: String,
    pub values: Vec<RawParamValue>,
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
    pub key: S<String>,
    pub columns: BTreeMap<String, S<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawMembers {
    pub file: String,
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
    /// The column holding the citizen ID of the member a record belongs to.
    pub id: S<String>,
    /// The column holding the person's name in the extract (shown for unmatched records).
    pub name: Option<S<String>>,
    /// A date column: when set, only records dated inside the income window are used.
    pub window: Option<S<String>>,
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
    pub when: S<String>,
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
}

fn default_no_trigger() -> String {
    "待核实".into()
}
fn default_include() -> String {
    "纳入核实".into()
}
fn default_review() -> String {
    "建议不纳入(需评议)".into()
}
