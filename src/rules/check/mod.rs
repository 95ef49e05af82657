//! Raw rules → typed plan. Collects every error (with its byte offset) instead of stopping at
//! the first, so `fanpin check` can list them all.

use super::diag::{closest, Diagnostic};
use super::expr::{self, Ast, BinOp, Span, TemplatePart};
use super::plan::*;
use super::raw::*;
use super::wording::{wording, DEFAULT_DROPPED_NO_CATEGORY, DEFAULT_ELIMINATION_BASIS, DROPPED_FIGURES, ELIMINATION_FIGURES};
use chrono::NaiveDate;
use rust_decimal::Decimal;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

mod calls;
mod categories;
mod params;
mod windows;

const AGGREGATES: &[&str] = &["count", "any", "all", "sum", "max", "min"];
const MEMBERS: &str = "members";

/// Where an expression runs.
#[derive(Clone, Copy)]
enum Scope<'a> {
    /// On the household frame: household columns, derived fields so far, aggregates.
    Household,
    /// On one record of a table (a source, or `members`), joined with its member's and its
    /// household's columns.
    Record { table: &'a Table },
    /// Only parameters and the built-in dates (a computed parameter's formula).
    Constant,
}

/// What an expression may read besides its scope's names.
#[derive(Clone, Copy, Default, PartialEq)]
enum Reads {
    /// Columns, parameters, aggregates.
    #[default]
    Plain,
    /// Also rule hits (`fired`): categories and monitoring.
    Outcome,
    /// Also rule hits and record lists (`list`): the evidence of categories and household rules.
    Evidence,
}

#[derive(Clone, Copy)]
struct Env<'a> {
    scope: Scope<'a>,
    /// The derived household figures defined so far.
    derived: &'a [Derived],
    lets: &'a BTreeMap<String, TExpr>,
    reads: Reads,
    /// Inside an aggregate over one person's records (no aggregate nests further).
    in_person_aggregate: bool,
}

impl<'a> Env<'a> {
    fn household(derived: &'a [Derived], lets: &'a BTreeMap<String, TExpr>) -> Self {
        Env { scope: Scope::Household, derived, lets, reads: Reads::Plain, in_person_aggregate: false }
    }
    fn record(table: &'a Table, derived: &'a [Derived], lets: &'a BTreeMap<String, TExpr>) -> Self {
        Env { scope: Scope::Record { table }, derived, lets, reads: Reads::Plain, in_person_aggregate: false }
    }
    fn reading(self, reads: Reads) -> Self {
        Env { reads, ..self }
    }
}

/// An empty `let` map, for expressions without `let`.
static NO_LETS: std::sync::LazyLock<BTreeMap<String, TExpr>> = std::sync::LazyLock::new(BTreeMap::new);

pub struct Checker<'s> {
    src: &'s str,
    pub diags: Vec<Diagnostic>,
    meta: Option<Meta>,
    params: BTreeMap<String, Parameter>,
    households: Option<Table>,
    members: Option<Table>,
    sources: BTreeMap<String, Source>,
    aggregates: Vec<Aggregate>,
    person_aggregates: Vec<Aggregate>,
    lists: Vec<RecordList>,
    /// Trigger and exclusion ids, with the trigger's risk type (for `fired`).
    rule_ids: Vec<(String, Option<String>)>,
    warnings: Vec<String>,
    /// Names that are declared but failed to check (an unresolved parameter, a derived field
    /// with an error): uses of them are not reported again.
    poisoned: BTreeSet<String>,
    /// Parameters read since the last `take_params` (for per-row parameter references).
    used_params: BTreeSet<String>,
    default_aliases: BTreeMap<String, Vec<String>>,
    default_synonyms: BTreeMap<String, BTreeMap<String, Vec<String>>>,
    /// Nodes of let names and derived figures written out into the expression being checked
    /// (see `inline`).
    inlined: usize,
}

/// Builds the plan, or returns every error found. `as_of` replaces the rules' determination
/// date (parameters and a `months` window follow it).
pub fn build(raw: &RawRules, src: &str, as_of: Option<NaiveDate>) -> Result<Plan, Vec<Diagnostic>> {
    let mut c = Checker {
        src,
        diags: Vec::new(),
        meta: None,
        params: BTreeMap::new(),
        households: None,
        members: None,
        sources: BTreeMap::new(),
        aggregates: Vec::new(),
        person_aggregates: Vec::new(),
        lists: Vec::new(),
        rule_ids: Vec::new(),
        warnings: Vec::new(),
        poisoned: BTreeSet::new(),
        used_params: BTreeSet::new(),
        default_aliases: raw.defaults.aliases.clone(),
        default_synonyms: raw.defaults.synonyms.clone(),
        inlined: 0,
    };
    c.meta(&raw.meta, as_of);
    c.parameters(&raw.parameters);
    c.computed_parameters(&raw.parameters);
    let roster = c.roster(&raw.roster);
    for (name, s) in &raw.sources {
        c.source(name, s);
    }
    c.relatives(raw);
    let derived = c.derived(&raw.derive);
    c.unique_rule_ids(raw);
    let triggers = c.rules(&raw.triggers, true, &derived);
    let exclusions = c.rules(&raw.exclusions, false, &derived);
    let categories = c.categories(&raw.categories, &derived);
    let report = c.report(&raw.report, &derived);
    let monitoring = raw.monitoring.as_ref().and_then(|m| c.monitoring(m, &derived));

    match (c.diags.is_empty(), c.meta, roster, report) {
        (true, Some(meta), Some(roster), Some(report)) => Ok(Plan {
            meta,
            parameters: c.params.into_values().collect(),
            roster,
            sources: c.sources.into_values().collect(),
            derived,
            aggregates: c.aggregates,
            person_aggregates: c.person_aggregates,
            lists: c.lists,
            triggers,
            exclusions,
            categories,
            report,
            monitoring,
            warnings: c.warnings,
        }),
        _ => {
            let mut d = c.diags;
            d.sort_by_key(|d| d.offset);
            d.dedup();
            Err(d)
        }
    }
}

impl<'s> Checker<'s> {
    fn err(&mut self, offset: usize, len: usize, message: impl Into<String>) {
        self.diags.push(Diagnostic { offset, len, message: message.into() });
    }

    fn err_at<T>(&mut self, s: &S<T>, message: impl Into<String>) {
        let r = s.span();
        self.err(r.start, r.end - r.start, message);
    }

    /// Offset of the first character inside a spanned TOML string.
    fn content_start(&self, s: &S<String>) -> usize {
        let start = s.span().start;
        let rest = &self.src[start.min(self.src.len())..];
        if rest.starts_with("\"\"\"") || rest.starts_with("'''") {
            let after = &rest[3..];
            start + 3 + if after.starts_with("\r\n") { 2 } else { usize::from(after.starts_with('\n')) }
        } else {
            start + 1
        }
    }

    fn date(&mut self, d: &S<toml::value::Datetime>) -> Option<NaiveDate> {
        let v = d.get_ref();
        match (v.date, v.time, v.offset) {
            (Some(date), None, None) => {
                let nd = NaiveDate::from_ymd_opt(date.year.into(), date.month.into(), date.day.into());
                if nd.is_none() {
                    self.err_at(d, "not a calendar date");
                }
                nd
            }
            _ => {
                self.err_at(d, "expected a date such as 2021-05-31 (no time of day)");
                None
            }
        }
    }

    fn parameters(&mut self, params: &BTreeMap<String, S<RawParameter>>) {
        let Some(as_of) = self.meta.as_ref().map(|m| m.as_of) else { return };
        for (name, p) in params {
            // Until it resolves, a parameter's uses are not separate errors.
            self.poisoned.insert(name.clone());
            if p.get_ref().formula.is_some() {
                continue;
            }
            if let Some(r) = &p.get_ref().reference {
                self.err_at(r, "a parameter with values gives a reference on each value; reference = … belongs to a formula");
            }
            let ty = p.get_ref().ty.get_ref().as_str();
            if !matches!(ty, "money" | "integer" | "date" | "text") {
                self.err_at(&p.get_ref().ty, format!("unknown parameter type '{ty}': expected money, integer, date or text"));
                continue;
            }
            let mut dated: Vec<(NaiveDate, Value, String)> = Vec::new();
            for v in &p.get_ref().values {
                let Some(from) = self.date(&v.from) else { continue };
                if dated.iter().any(|(d, _, _)| *d == from) {
                    self.err_at(&v.from, format!("parameter {name} has two values from {from}"));
                    continue;
                }
                if v.reference.get_ref().trim().is_empty() {
                    self.err_at(&v.reference, "every parameter value needs a reference (the policy document it comes from)");
                }
                if let Some(value) = self.param_value(ty, &v.value) {
                    dated.push((from, value, v.reference.get_ref().clone()));
                }
            }
            dated.sort_by_key(|(d, _, _)| *d);
            match dated.iter().rev().find(|(d, _, _)| *d <= as_of) {
                Some((from, value, reference)) => {
                    self.poisoned.remove(name);
                    self.params.insert(
                        name.clone(),
                        Parameter {
                            name: name.clone(),
                            description: p.get_ref().description.clone(),
                            value: value.clone(),
                            from: *from,
                            reference: reference.clone(),
                        },
                    );
                }
                None if !dated.is_empty() || p.get_ref().values.is_empty() => {
                    let first = dated.first().map_or("it has no values".to_string(), |(d, _, _)| format!("its first value takes effect {d}"));
                    let r = p.span();
                    self.err(r.start, 1, format!("parameter {name} has no value in force on the determination date {as_of} ({first})"));
                }
                None => {}
            }
        }
    }

    fn param_value(&mut self, ty: &str, v: &S<toml::Value>) -> Option<Value> {
        let parsed = match (ty, v.get_ref()) {
            ("money", toml::Value::String(s)) => s.trim().parse::<Decimal>().ok().map(Value::Dec),
            ("money", toml::Value::Integer(i)) => Some(Value::Dec(Decimal::from(*i))),
            ("integer", toml::Value::Integer(i)) => Some(Value::Int(*i)),
            ("text", toml::Value::String(s)) => Some(Value::Text(s.clone())),
            ("date", toml::Value::Datetime(d)) => d.date.and_then(|d| NaiveDate::from_ymd_opt(d.year.into(), d.month.into(), d.day.into())).map(Value::Date),
            _ => None,
        };
        // Money parameters are shown with at least two decimals, like money columns.
        let parsed = parsed.map(|v| match v {
            Value::Dec(mut d) if ty == "money" => {
                d.rescale(d.scale().max(MONEY_SCALE));
                Value::Dec(d)
            }
            v => v,
        });
        if parsed.is_none() {
            let hint = match ty {
                "money" => "a decimal amount written as a string (\"6320\", \"6320.50\") so that it stays exact",
                "integer" => "an integer",
                "date" => "a date such as 2021-05-31",
                _ => "a string",
            };
            self.err_at(v, format!("a {ty} parameter needs {hint}"));
        }
        parsed
    }

    fn column_type(&mut self, decl: &S<String>) -> Option<(ColType, bool)> {
        let text = decl.get_ref().trim();
        let (text, optional) = match text.strip_suffix('?') {
            Some(t) => (t.trim_end(), true),
            None => (text, false),
        };
        let ty = match text {
            "id" => ColType::Id,
            "text" => ColType::Text,
            "money" => ColType::Money,
            "integer" => ColType::Integer,
            "date" => ColType::Date,
            t if t.starts_with("enum(") && t.ends_with(')') => {
                let values: Vec<String> = t[5..t.len() - 1].split(',').map(|v| v.trim().to_string()).collect();
                if values.iter().any(String::is_empty) {
                    self.err_at(
                        decl,
                        "an enum value is empty: list the values as enum(a, b, c) and mark the column optional with a trailing '?' to allow an empty cell",
                    );
                    return None;
                }
                ColType::Enum(Arc::new(values))
            }
            _ => {
                self.err_at(decl, format!("unknown column type '{text}': expected id, text, money, integer, date or enum(a, b, …), with a trailing '?' when the cell may be empty"));
                return None;
            }
        };
        Some((ty, optional))
    }

    fn table(&mut self, name: &str, label: &str, file: &str, columns: &BTreeMap<String, S<String>>, read: &RawReading, at: usize) -> Table {
        let mut cols = Vec::new();
        for (col, decl) in columns {
            if let Some((ty, optional)) = self.column_type(decl) {
                let mut aliases = self.default_aliases.get(col).cloned().unwrap_or_default();
                aliases.extend(read.aliases.get(col).cloned().unwrap_or_default());
                let mut synonyms = Vec::new();
                if let ColType::Enum(values) = &ty {
                    let defaults = self.default_synonyms.get(col).cloned();
                    for map in [defaults.as_ref(), read.synonyms.get(col)].into_iter().flatten() {
                        for (canonical, variants) in map {
                            if values.contains(canonical) {
                                synonyms.push((canonical.clone(), variants.clone()));
                            } else if read.synonyms.get(col) == Some(map) {
                                self.err(
                                    at,
                                    1,
                                    format!("{name}: synonyms of '{col}' name '{canonical}', which is not one of its values [{}]", values.join(", ")),
                                );
                            }
                        }
                    }
                }
                cols.push(Column { name: col.clone(), ty, optional, aliases, synonyms });
            }
        }
        for col in read.aliases.keys().chain(read.synonyms.keys()) {
            if !columns.contains_key(col) {
                self.err(at, 1, format!("{name}: aliases/synonyms are given for '{col}', which is not a declared column"));
            }
        }
        for col in read.synonyms.keys() {
            if cols.iter().any(|c| &c.name == col && !matches!(c.ty, ColType::Enum(_))) {
                self.err(at, 1, format!("{name}: synonyms are for enum columns, and '{col}' is not one"));
            }
        }
        let spec = self.read_spec(file, read);
        Table { name: name.to_string(), label: label.to_string(), file: file.to_string(), read: spec, columns: cols }
    }

    fn read_spec(&mut self, file: &str, read: &RawReading) -> ReadSpec {
        let (spec, errors) = read_spec(file, read);
        for (r, m) in errors {
            self.err(r.start, (r.end - r.start).max(1), m);
        }
        spec
    }

    fn require_column(&mut self, table: &Table, col: &S<String>, want: Option<&ColType>, what: &str) {
        match table.column(col.get_ref()) {
            None => {
                let hint = closest(col.get_ref(), table.columns.iter().map(|c| c.name.as_str())).map(|c| format!(" (did you mean '{c}'?)")).unwrap_or_default();
                self.err_at(col, format!("{what} '{}' is not a declared column of {}{hint}", col.get_ref(), table.name));
            }
            Some(c) => {
                if let Some(w) = want {
                    if std::mem::discriminant(&c.ty) != std::mem::discriminant(w) {
                        self.err_at(col, format!("{what} '{}' must be declared as {}", col.get_ref(), col_type_name(w)));
                    } else if c.optional {
                        self.err_at(col, format!("{what} '{}' cannot be optional", col.get_ref()));
                    }
                }
            }
        }
    }

    fn roster(&mut self, r: &RawRoster) -> Option<Roster> {
        let h = r.households.get_ref();
        let households = self.table("households", "户表", &h.file, &h.columns, &h.read, r.households.span().start);
        self.require_column(&households, &h.key, Some(&ColType::Text), "the household key");
        for needed in crate::frame::columns::FROM_ROSTER {
            if households.column(needed).is_none() {
                let sp = r.households.span();
                self.err(sp.start, 1, format!("the household table must declare the column '{needed}' (it is part of flagged.csv)"));
            }
        }
        let m = r.members.get_ref();
        let members = self.table(MEMBERS, "人表", &m.file, &m.columns, &m.read, r.members.span().start);
        self.require_column(&members, &m.household, Some(&ColType::Text), "the household column");
        self.require_column(&members, &m.id, Some(&ColType::Id), "the ID column");
        self.require_column(&members, &m.name, None, "the name column");
        self.households = Some(households.clone());
        self.members = Some(members.clone());
        let env = Env::record(&members, &[], &NO_LETS);
        let co_resident = self.condition(&m.co_resident, &env)?;
        Some(Roster {
            households,
            key: h.key.get_ref().clone(),
            members,
            member_household: m.household.get_ref().clone(),
            member_id: m.id.get_ref().clone(),
            member_name: m.name.get_ref().clone(),
            co_resident,
        })
    }

    fn source(&mut self, name: &str, s: &S<RawSource>) {
        let raw = s.get_ref();
        if name == MEMBERS || name == "households" {
            self.err_at(s, format!("'{name}' is the roster: name the source differently"));
            return;
        }
        let table = self.table(name, &raw.label, &raw.file, &raw.columns, &raw.read, s.span().start);
        self.require_column(&table, &raw.id, Some(&ColType::Id), "the ID column");
        if let Some(n) = &raw.name {
            self.require_column(&table, n, None, "the name column");
        }
        let window = raw.window.as_ref().and_then(|w| self.source_window(&table, w));
        if let Some(r) = &raw.relative {
            self.require_column(&table, r, Some(&ColType::Id), "the relative's ID column");
        }
        self.sources.insert(
            name.to_string(),
            Source {
                table,
                id: raw.id.get_ref().clone(),
                name_column: raw.name.as_ref().map(|n| n.get_ref().clone()),
                window,
                required: raw.required,
                relative: raw.relative.as_ref().map(|r| r.get_ref().clone()),
                relatives: raw.relatives.as_ref().map(|r| r.get_ref().clone()),
            },
        );
    }

    /// Each `relatives = "link"` names a link source (one with `relative = "…"`).
    fn relatives(&mut self, raw: &RawRules) {
        for (name, s) in &raw.sources {
            let Some(link) = &s.get_ref().relatives else { continue };
            let links: Vec<&str> = self.sources.values().filter(|x| x.relative.is_some()).map(|x| x.table.name.as_str()).collect();
            if !links.contains(&link.get_ref().as_str()) {
                let hint = closest(link.get_ref(), links.iter().copied()).map(|c| format!(" (did you mean '{c}'?)")).unwrap_or_default();
                let message = format!("relatives names a link source (a source with relative = \"…\"); '{}' is not one{hint}", link.get_ref());
                self.err_at(link, message);
            } else if link.get_ref() == name {
                self.err_at(link, "a link source cannot take its own records as relatives' records");
            }
        }
    }

    fn derived(&mut self, list: &[RawDerive]) -> Vec<Derived> {
        let mut out: Vec<Derived> = Vec::new();
        let no_lets = BTreeMap::new();
        for d in list {
            let name = d.name.get_ref().clone();
            let taken =
                out.iter().any(|x| x.name == name) || self.households.as_ref().is_some_and(|h| h.column(&name).is_some()) || self.params.contains_key(&name);
            if taken {
                self.err_at(&d.name, format!("'{name}' is already a household column, parameter or derived field"));
                continue;
            }
            let env = Env::household(&out, &no_lets);
            self.used_params.clear();
            match self.expression(&d.expr, &env) {
                Some(expr) => out.push(Derived { name, expr, params: self.take_params(), expr_text: d.expr.get_ref().clone() }),
                None => {
                    self.poisoned.insert(name);
                }
            }
        }
        out
    }

    fn rules(&mut self, list: &[RawRule], triggers: bool, derived: &[Derived]) -> Vec<Rule> {
        let mut out = Vec::new();
        for r in list {
            if triggers {
                if let Some(a) = &r.action {
                    self.err_at(a, "a trigger has no action (actions belong to exclusions)");
                }
                if r.risk.is_none() {
                    self.err_at(&r.id, "a trigger needs a risk type: risk = \"因病\"");
                }
            } else if let Some(risk) = &r.risk {
                self.err_at(risk, "an exclusion has no risk type (risk types belong to triggers)");
            }
            let action = match (&r.action, triggers) {
                (_, true) => None,
                (None, false) => {
                    self.err_at(&r.id, "an exclusion needs an action: action = \"review\" or \"exclude\"");
                    None
                }
                (Some(a), false) => match a.get_ref().as_str() {
                    "review" => Some(Action::Review),
                    "exclude" => Some(Action::Exclude),
                    other => {
                        self.err_at(a, format!("unknown action '{other}': expected review or exclude"));
                        None
                    }
                },
            };
            let table = match &r.source {
                None => None,
                Some(s) => match self.record_table(s) {
                    Some(t) => Some(t),
                    None => continue,
                },
            };
            let base_env = match &table {
                Some(t) => Env::record(t, derived, &NO_LETS),
                None => Env::household(derived, &NO_LETS),
            };
            let mut lets = BTreeMap::new();
            let mut failed_lets = Vec::new();
            self.used_params.clear();
            for (name, e) in &r.lets {
                let env = base_env;
                match self.expression(e, &env) {
                    Some(t) => {
                        lets.insert(name.clone(), t);
                    }
                    None => {
                        self.poisoned.insert(name.clone());
                        failed_lets.push(name.clone());
                    }
                }
            }
            let env = Env { lets: &lets, ..base_env };
            let when = self.condition(&r.when, &env);
            let evidence_env = if table.is_none() { env.reading(Reads::Evidence) } else { env };
            let evidence = self.template(&r.evidence, &evidence_env);
            for name in failed_lets {
                self.poisoned.remove(&name);
            }
            if let (Some(when), Some(evidence)) = (when, evidence) {
                if triggers || action.is_some() {
                    out.push(Rule {
                        id: r.id.get_ref().clone(),
                        label: r.label.clone(),
                        risk: r.risk.as_ref().map(|x| x.get_ref().clone()),
                        action,
                        source: r.source.as_ref().map(|s| s.get_ref().clone()),
                        when,
                        evidence,
                        params: self.take_params(),
                        when_text: r.when.get_ref().clone(),
                    });
                }
            }
        }
        out
    }

    fn record_table(&mut self, s: &S<String>) -> Option<Table> {
        let name = s.get_ref();
        if name == MEMBERS {
            return self.members.clone();
        }
        match self.sources.get(name) {
            Some(src) => Some(src.table.clone()),
            None => {
                let known: Vec<&str> = self.sources.keys().map(String::as_str).chain([MEMBERS]).collect();
                let hint = closest(name, known.iter().copied()).map(|c| format!(" (did you mean '{c}'?)")).unwrap_or_default();
                self.err_at(s, format!("unknown source '{name}'{hint}; declared: {}", known.join(", ")));
                None
            }
        }
    }

    fn unique_rule_ids(&mut self, raw: &RawRules) {
        let mut seen = BTreeMap::new();
        for r in raw.triggers.iter().chain(&raw.exclusions) {
            if seen.insert(r.id.get_ref().clone(), ()).is_some() {
                self.err_at(&r.id, format!("rule id '{}' is used twice", r.id.get_ref()));
            }
            self.rule_ids.push((r.id.get_ref().clone(), r.risk.as_ref().map(|x| x.get_ref().clone())));
        }
    }

    /// The parameters read since the last clear, in name order.
    fn take_params(&mut self) -> Vec<String> {
        std::mem::take(&mut self.used_params).into_iter().collect()
    }

    fn monitoring(&mut self, m: &RawMonitoring, derived: &[Derived]) -> Option<Monitoring> {
        let env = Env::household(derived, &NO_LETS).reading(Reads::Outcome);
        let monitored = self.condition(&m.monitored, &env);
        let elimination = self.condition(&m.elimination, &env);
        let stays = m.stays_monitored.as_ref().map(|s| self.condition(s, &env));
        let stays_monitored = match stays {
            Some(s) => Some(s?),
            None => None,
        };
        let basis = self.wording(m.elimination_basis.as_ref(), DEFAULT_ELIMINATION_BASIS, &ELIMINATION_FIGURES);
        Some(Monitoring { monitored: monitored?, elimination: elimination?, stays_monitored, stays_reason: m.stays_reason.clone(), elimination_basis: basis? })
    }

    /// A wording key's sentence (its default when the rules do not give it), split at its
    /// figures; an unknown figure is an error at its place in the rules file.
    fn wording(&mut self, s: Option<&S<String>>, default: &str, figures: &[&str]) -> Option<Vec<Wording>> {
        let Some(s) = s else {
            return wording(default, figures).ok();
        };
        match wording(s.get_ref(), figures) {
            Ok(w) => Some(w),
            Err((at, len, message)) => {
                let base = self.content_start(s);
                self.err(base + at, len, message);
                None
            }
        }
    }

    fn report(&mut self, r: &RawReport, derived: &[Derived]) -> Option<Report> {
        let env = Env::household(derived, &NO_LETS);
        let numeric = |c: &mut Self, e: &S<String>| {
            let t = c.expression(e, &env)?;
            if !t.ty().is_numeric() {
                c.err_at(e, format!("expected a number, found {}", t.ty().describe()));
                return None;
            }
            Some(t)
        };
        let size = numeric(self, &r.size);
        let net_income = numeric(self, &r.net_income);
        let per_capita = numeric(self, &r.per_capita);
        let line = numeric(self, &r.line);
        let dropped_no_category = self.wording(r.dropped_no_category.as_ref(), DEFAULT_DROPPED_NO_CATEGORY, &DROPPED_FIGURES);
        Some(Report {
            size: size?,
            net_income: net_income?,
            per_capita: per_capita?,
            line: line?,
            no_trigger_risk: r.no_trigger_risk.clone(),
            include: r.include.clone(),
            review: r.review.clone(),
            notice_title: r.notice_title.clone(),
            notice_footer: r.notice_footer.clone(),
            review_note: r.review_note.clone(),
            dropped_not_screened: r.dropped_not_screened.clone(),
            dropped_excluded: r.dropped_excluded.clone(),
            dropped_no_category: dropped_no_category?,
            dropped_not_listed: r.dropped_not_listed.clone(),
        })
    }

    fn template(&mut self, s: &S<String>, env: &Env) -> Option<Vec<Piece>> {
        let base = self.content_start(s);
        self.inlined = 0;
        let parts = match expr::parse_template(s.get_ref()) {
            Ok(p) => p,
            Err(e) => {
                self.err(base + e.at, 1, format!("evidence template: {}", e.message));
                return None;
            }
        };
        let mut out = Vec::new();
        let mut ok = true;
        for p in parts {
            match p {
                TemplatePart::Text(t) => out.push(Piece::Text(t)),
                TemplatePart::Expr(ast, at) => match self.check(&ast, env, base + at) {
                    Some(t) => out.push(Piece::Value(t)),
                    None => ok = false,
                },
            }
        }
        ok.then_some(out)
    }

    fn condition(&mut self, s: &S<String>, env: &Env) -> Option<TExpr> {
        let t = self.expression(s, env)?;
        if t.ty() != Ty::Bool {
            self.err_at(s, format!("expected a condition (true/false), found {}", t.ty().describe()));
            return None;
        }
        Some(t)
    }

    fn expression(&mut self, s: &S<String>, env: &Env) -> Option<TExpr> {
        let base = self.content_start(s);
        self.inlined = 0;
        match expr::parse(s.get_ref()) {
            Ok(ast) => self.check(&ast, env, base),
            Err(e) => {
                self.err(base + e.at, 1, e.message);
                None
            }
        }
    }

    fn err_span(&mut self, base: usize, span: Span, message: impl Into<String>) {
        self.err(base + span.start, (span.end - span.start).max(1), message);
    }

    /// Types one expression tree. `base` is the file offset of the expression text.
    fn check(&mut self, ast: &Ast, env: &Env, base: usize) -> Option<TExpr> {
        match ast {
            Ast::Number(n, _) => Some(TExpr::Lit(number(*n))),
            Ast::Str(s, _) => Some(TExpr::Lit(Value::Text(s.clone()))),
            Ast::Bool(b, _) => Some(TExpr::Lit(Value::Bool(*b))),
            Ast::Name(name, span) => self.name(name, *span, env, base),
            Ast::Neg(inner, span) => {
                let t = self.check(inner, env, base)?;
                if !t.ty().is_numeric() {
                    self.err_span(base, *span, format!("cannot negate {}", t.ty().describe()));
                    return None;
                }
                Some(TExpr::Neg(Box::new(t)))
            }
            Ast::Not(inner, span) => {
                let t = self.check(inner, env, base)?;
                if t.ty() != Ty::Bool {
                    self.err_span(base, *span, format!("'not' needs a condition, found {}", t.ty().describe()));
                    return None;
                }
                Some(TExpr::Not(Box::new(t)))
            }
            Ast::Bin { op, lhs, rhs, span } => self.binary(*op, lhs, rhs, *span, env, base),
            Ast::In { value, list, negated, span } => {
                let v = self.check(value, env, base)?;
                let vty = v.ty();
                let mut items = Vec::new();
                for item in list {
                    let Some(TExpr::Lit(lit)) = self.check(item, env, base) else {
                        self.err_span(base, item.span(), "list items must be constants");
                        return None;
                    };
                    if !self.compatible_literal(&vty, &lit, item.span(), base) {
                        return None;
                    }
                    items.push(lit);
                }
                if matches!(vty, Ty::Bool) {
                    self.err_span(base, *span, "'in' needs a value, not a condition");
                    return None;
                }
                Some(TExpr::In { value: Box::new(v), list: items, negated: *negated })
            }
            Ast::If { cond, then, otherwise, span } => {
                let c = self.check(cond, env, base);
                let a = self.check(then, env, base);
                let b = self.check(otherwise, env, base);
                let (c, a, b) = (c?, a?, b?);
                if c.ty() != Ty::Bool {
                    self.err_span(base, cond.span(), format!("'if' needs a condition, found {}", c.ty().describe()));
                    return None;
                }
                let ty = match (a.ty(), b.ty()) {
                    (x, y) if x == y => x,
                    (x, y) if x.is_numeric() && y.is_numeric() => numeric_result(&x, &y),
                    (x, y) if x.is_textual() && y.is_textual() => Ty::Text,
                    (x, y) => {
                        self.err_span(base, *span, format!("the branches of 'if' differ: {} and {}", x.describe(), y.describe()));
                        return None;
                    }
                };
                Some(TExpr::If { cond: Box::new(c), then: Box::new(a), otherwise: Box::new(b), ty })
            }
            Ast::Call { name, name_span, args, span } => self.call(name, *name_span, args, *span, env, base),
        }
    }

    fn name(&mut self, name: &str, span: Span, env: &Env, base: usize) -> Option<TExpr> {
        if let Some(t) = env.lets.get(name) {
            return self.inline(t.clone(), name, span, base);
        }
        if self.poisoned.contains(name) {
            return None;
        }
        let record_scope = matches!(env.scope, Scope::Record { .. });
        match self.scoped_name(name, env) {
            Ok(Some(t)) if record_scope && env.derived.iter().any(|d| d.name == name) => return self.inline(t, name, span, base),
            Ok(Some(t)) => return Some(t),
            Ok(None) => {}
            Err(why) => {
                self.err_span(base, span, why);
                return None;
            }
        }
        if let Some(p) = self.params.get(name) {
            self.used_params.insert(name.to_string());
            return Some(TExpr::Lit(p.value.clone()));
        }
        if let Some(m) = &self.meta {
            let builtin = match name {
                AS_OF => Some(m.as_of),
                WINDOW_START => Some(m.window_start),
                WINDOW_END => Some(m.window_end),
                _ => None,
            };
            if let Some(d) = builtin {
                return Some(TExpr::Lit(Value::Date(d)));
            }
        }
        let message = self.unknown_name(name, env);
        self.err_span(base, span, message);
        None
    }

    /// `t`, the expression of `name` written out where it is used, unless the let names and
    /// derived figures written out into this expression exceed `expr::MAX_TERMS` nodes (each use
    /// counts the whole expression: 600 uses of a let of 2,000 would make 1.2 million).
    pub(super) fn inline(&mut self, t: TExpr, name: &str, span: Span, base: usize) -> Option<TExpr> {
        if self.inlined > expr::MAX_TERMS {
            return None;
        }
        self.inlined += t.size_up_to(expr::MAX_TERMS);
        if self.inlined > expr::MAX_TERMS {
            let message = format!("expression too long once '{name}' is written out: more than {} terms and operators (a let name, a derived figure or a list template counts with its whole expression each time it is used); split it", expr::MAX_TERMS);
            self.err_span(base, span, message);
            return None;
        }
        Some(t)
    }

    /// A column or derived figure visible in the scope (`Err`: visible, but not usable here).
    fn scoped_name(&mut self, name: &str, env: &Env) -> Result<Option<TExpr>, String> {
        let col = |column: String, c: &Column| Some(TExpr::Col { column, ty: c.ty.value_type() });
        let household = self.households.as_ref().and_then(|h| h.column(name)).cloned();
        match env.scope {
            Scope::Constant => Ok(None),
            Scope::Household => {
                if let Some(d) = env.derived.iter().find(|d| d.name == name) {
                    self.used_params.extend(d.params.iter().cloned());
                    return Ok(Some(TExpr::Col { column: d.name.clone(), ty: d.expr.ty() }));
                }
                Ok(household.and_then(|c| col(c.name.clone(), &c)))
            }
            Scope::Record { table } => {
                if let Some(c) = table.column(name) {
                    return Ok(col(c.name.clone(), c));
                }
                if name == MEMBER_NAME {
                    return Ok(Some(TExpr::Col { column: MEMBER_NAME.into(), ty: Ty::Text }));
                }
                if name == RELATIVE_RECORD && self.sources.get(&table.name).is_some_and(|s| s.relatives.is_some()) {
                    return Ok(Some(TExpr::Col { column: RELATIVE_RECORD.into(), ty: Ty::Bool }));
                }
                if table.name != MEMBERS {
                    if let Some(c) = self.members.as_ref().and_then(|m| m.column(name)) {
                        return Ok(col(member_column_in_records(name), c));
                    }
                }
                if let Some(c) = household {
                    return Ok(col(household_column_in_records(name), &c));
                }
                match env.derived.iter().find(|d| d.name == name) {
                    Some(d) => {
                        let inlined = in_record(&d.expr, env.derived, &mut expr::MAX_TERMS.clone()).map_err(|why| {
                            if why == TOO_LARGE {
                                return format!("'{name}' written out for a condition on one record of {} has more than {} terms and operators (with the derived figures it is computed from); split it", table.name, expr::MAX_TERMS);
                            }
                            format!("'{name}' is a household figure computed from {why}: a condition on one record of {} cannot see it (compute it per record, or test it in a household rule)", table.name)
                        })?;
                        self.used_params.extend(d.params.iter().cloned());
                        Ok(Some(inlined))
                    }
                    None => Ok(None),
                }
            }
        }
    }

    /// Why `name` is unknown, as precisely as possible, with the closest known name.
    fn unknown_name(&self, name: &str, env: &Env) -> String {
        let mut known: Vec<String> = env.lets.keys().cloned().collect();
        known.extend(self.params.keys().cloned());
        if !matches!(env.scope, Scope::Constant) {
            known.extend(self.households.iter().flat_map(|h| h.columns.iter().map(|c| c.name.clone())));
            known.extend(env.derived.iter().map(|d| d.name.clone()));
        }
        let is_source = self.sources.contains_key(name) || name == MEMBERS;
        let message = match env.scope {
            Scope::Record { table } => {
                known.extend(table.columns.iter().map(|c| c.name.clone()));
                known.push(MEMBER_NAME.into());
                if table.name != MEMBERS {
                    known.extend(self.members.iter().flat_map(|m| m.columns.iter().map(|c| c.name.clone())));
                }
                if is_source {
                    format!("'{name}' is a source; a record condition tests one record of {} at a time", table.name)
                } else {
                    format!("unknown name '{name}' in a condition on {} records", table.name)
                }
            }
            Scope::Household if is_source => format!("'{name}' is a source: use it inside an aggregate such as any({name}, …) or sum({name}, …)"),
            Scope::Household => format!("unknown name '{name}' in a household condition"),
            Scope::Constant => format!("unknown name '{name}': a formula reads parameters only"),
        };
        let hint = closest(name, known.iter().map(String::as_str)).map(|c| format!(" (did you mean '{c}'?)")).unwrap_or_default();
        format!("{message}{hint}")
    }

    fn compatible_literal(&mut self, ty: &Ty, lit: &Value, span: Span, base: usize) -> bool {
        match (ty, lit) {
            (Ty::Enum(values), Value::Text(s)) => {
                if values.contains(s) {
                    true
                } else {
                    self.err_span(base, span, format!("'{s}' is not one of the declared values [{}]", values.join(", ")));
                    false
                }
            }
            (t, l) if t.is_textual() && l.ty().is_textual() => true,
            (t, l) if t.is_numeric() && l.ty().is_numeric() => true,
            (Ty::Date, Value::Date(_)) | (Ty::Bool, Value::Bool(_)) => true,
            (t, l) => {
                self.err_span(base, span, format!("cannot compare {} with {}", t.describe(), l.ty().describe()));
                false
            }
        }
    }

    fn binary(&mut self, op: BinOp, lhs: &Ast, rhs: &Ast, span: Span, env: &Env, base: usize) -> Option<TExpr> {
        if op == BinOp::Div {
            self.err_span(base, span, "division must say how it is rounded: write round(a / b, 2) (half away from zero)");
            return None;
        }
        let l = self.check(lhs, env, base);
        let r = self.check(rhs, env, base);
        let (l, r) = (l?, r?);
        match op {
            BinOp::And => self.logic(LogicOp::And, op, (lhs, l), (rhs, r), base),
            BinOp::Or => self.logic(LogicOp::Or, op, (lhs, l), (rhs, r), base),
            BinOp::Add => self.arith(ArithOp::Add, op, l, r, span, base),
            BinOp::Sub => self.arith(ArithOp::Sub, op, l, r, span, base),
            BinOp::Mul => self.arith(ArithOp::Mul, op, l, r, span, base),
            BinOp::Eq => self.compare(CmpOp::Eq, op, (lhs, l), (rhs, r), span, base),
            BinOp::Ne => self.compare(CmpOp::Ne, op, (lhs, l), (rhs, r), span, base),
            BinOp::Lt => self.compare(CmpOp::Lt, op, (lhs, l), (rhs, r), span, base),
            BinOp::Le => self.compare(CmpOp::Le, op, (lhs, l), (rhs, r), span, base),
            BinOp::Gt => self.compare(CmpOp::Gt, op, (lhs, l), (rhs, r), span, base),
            BinOp::Ge => self.compare(CmpOp::Ge, op, (lhs, l), (rhs, r), span, base),
            BinOp::Div => None,
        }
    }

    fn logic(&mut self, logic: LogicOp, op: BinOp, (la, l): (&Ast, TExpr), (ra, r): (&Ast, TExpr), base: usize) -> Option<TExpr> {
        for (a, t) in [(la, &l), (ra, &r)] {
            if t.ty() != Ty::Bool {
                self.err_span(base, a.span(), format!("'{}' joins conditions, found {}", op.symbol(), t.ty().describe()));
                return None;
            }
        }
        Some(TExpr::Logic { op: logic, lhs: Box::new(l), rhs: Box::new(r) })
    }

    /// `+ - *`, exact: integers stay integers, a sum works at the larger scale, a product at
    /// the sum of the scales.
    fn arith(&mut self, arith: ArithOp, op: BinOp, l: TExpr, r: TExpr, span: Span, base: usize) -> Option<TExpr> {
        let (lt, rt) = (l.ty(), r.ty());
        if !lt.is_numeric() || !rt.is_numeric() {
            self.err_span(base, span, format!("'{}' needs numbers, found {} and {}", op.symbol(), lt.describe(), rt.describe()));
            return None;
        }
        let ty = match (arith, &lt, &rt) {
            (_, Ty::Int, Ty::Int) => Ty::Int,
            (ArithOp::Mul, a, b) => Ty::Dec(a.scale() + b.scale()),
            (_, a, b) => Ty::Dec(a.scale().max(b.scale())),
        };
        if ty.scale() > 18 {
            self.err_span(base, span, "this product has more than 18 decimal places: round an operand first");
            return None;
        }
        Some(TExpr::Arith { op: arith, lhs: Box::new(l), rhs: Box::new(r), ty })
    }

    fn compare(&mut self, cmp: CmpOp, op: BinOp, (la, l): (&Ast, TExpr), (ra, r): (&Ast, TExpr), span: Span, base: usize) -> Option<TExpr> {
        let (lt, rt) = (l.ty(), r.ty());
        let equality = matches!(cmp, CmpOp::Eq | CmpOp::Ne);
        let ok = match (&lt, &rt) {
            (a, b) if a.is_numeric() && b.is_numeric() => true,
            (a, b) if a.is_textual() && b.is_textual() => {
                if !equality {
                    self.err_span(base, span, format!("text can only be compared with == or !=, not {}", op.symbol()));
                    return None;
                }
                // An enum compared with a constant: the constant must be a declared value.
                match (&l, &r) {
                    (_, TExpr::Lit(v)) => self.compatible_literal(&lt, v, ra.span(), base),
                    (TExpr::Lit(v), _) => self.compatible_literal(&rt, v, la.span(), base),
                    _ => true,
                }
            }
            (Ty::Date, Ty::Date) => true,
            (Ty::Bool, Ty::Bool) if equality => true,
            (a, b) => {
                self.err_span(base, span, format!("cannot compare {} with {}", a.describe(), b.describe()));
                return None;
            }
        };
        ok.then(|| TExpr::Cmp { op: cmp, lhs: Box::new(l), rhs: Box::new(r) })
    }
}

/// How a table's files are read, and the errors in its reading options (with their spans).
pub fn read_spec(file: &str, read: &RawReading) -> (ReadSpec, Vec<(std::ops::Range<usize>, String)>) {
    let mut errors = Vec::new();
    let sheet = match read.sheet.as_ref().map(|s| (s, s.get_ref())) {
        None => None,
        Some((_, toml::Value::String(n))) => Some(SheetRef::Name(n.clone())),
        Some((_, toml::Value::Integer(i))) if *i >= 0 => Some(SheetRef::Index(*i as usize)),
        Some((s, _)) => {
            errors.push((s.span(), "sheet is a sheet name or a 0-based index".to_string()));
            None
        }
    };
    let encoding = match read.encoding.as_ref().map(|e| (e, e.get_ref().to_ascii_lowercase())) {
        None => Encoding::Auto,
        Some((_, e)) if e == "auto" => Encoding::Auto,
        Some((_, e)) if e == "utf-8" || e == "utf8" => Encoding::Utf8,
        Some((_, e)) if e == "gb18030" || e == "gbk" || e == "gb2312" => Encoding::Gb18030,
        Some((s, e)) => {
            errors.push((s.span(), format!("unknown encoding '{e}': expected auto, utf-8 or gb18030 (gbk)")));
            Encoding::Auto
        }
    };
    let delimiter = match read.delimiter.as_ref().map(|d| (d, d.get_ref().as_str())) {
        None | Some((_, "auto")) => None,
        Some((_, ",")) => Some(b','),
        Some((_, "\t")) | Some((_, "\\t")) => Some(b'\t'),
        Some((_, "|")) => Some(b'|'),
        Some((_, ";")) => Some(b';'),
        Some((s, other)) => {
            errors.push((s.span(), format!("unknown delimiter '{other}': expected auto, \",\", \"\\t\", \"|\" or \";\"")));
            None
        }
    };
    (ReadSpec { pattern: file.to_string(), sheet, encoding, delimiter }, errors)
}

/// `in_record`'s error when the written-out expression would pass `expr::MAX_TERMS` nodes.
const TOO_LARGE: &str = "too many terms";

/// A household expression rewritten for a record frame: household columns read through
/// `户.<column>`, derived figures inlined. `Err`: it reads records (names what).
/// `budget` is the number of nodes it may still make (`Err(TOO_LARGE)` past it: figures built on
/// each other twice over would double at each step).
fn in_record(e: &TExpr, derived: &[Derived], budget: &mut usize) -> Result<TExpr, &'static str> {
    *budget = budget.checked_sub(1).ok_or(TOO_LARGE)?;
    let mut go = |x: &TExpr| in_record(x, derived, budget).map(Box::new);
    Ok(match e {
        TExpr::Col { column, ty } => match derived.iter().find(|d| &d.name == column) {
            Some(d) => in_record(&d.expr, derived, budget)?,
            None => TExpr::Col { column: household_column_in_records(column), ty: ty.clone() },
        },
        TExpr::Agg { .. } | TExpr::PersonAgg { .. } => return Err("an aggregate over records"),
        TExpr::List { .. } | TExpr::Fired { .. } => return Err("rule results"),
        TExpr::Lit(v) => TExpr::Lit(v.clone()),
        TExpr::Neg(x) => TExpr::Neg(go(x)?),
        TExpr::Not(x) => TExpr::Not(go(x)?),
        TExpr::Arith { op, lhs, rhs, ty } => TExpr::Arith { op: *op, lhs: go(lhs)?, rhs: go(rhs)?, ty: ty.clone() },
        TExpr::Cmp { op, lhs, rhs } => TExpr::Cmp { op: *op, lhs: go(lhs)?, rhs: go(rhs)? },
        TExpr::Logic { op, lhs, rhs } => TExpr::Logic { op: *op, lhs: go(lhs)?, rhs: go(rhs)? },
        TExpr::In { value, list, negated } => TExpr::In { value: go(value)?, list: list.clone(), negated: *negated },
        TExpr::If { cond, then, otherwise, ty } => TExpr::If { cond: go(cond)?, then: go(then)?, otherwise: go(otherwise)?, ty: ty.clone() },
        TExpr::Round { num, den, places } => TExpr::Round { num: go(num)?, den: den.as_deref().map(go).transpose()?, places: *places },
        TExpr::Date { op, args } => TExpr::Date { op: *op, args: args.iter().map(|a| in_record(a, derived, budget)).collect::<Result<_, _>>()? },
    })
}

fn number(n: Decimal) -> Value {
    if n.scale() == 0 {
        if let Ok(i) = i64::try_from(n.mantissa()) {
            return Value::Int(i);
        }
    }
    Value::Dec(n)
}

fn numeric_result(a: &Ty, b: &Ty) -> Ty {
    match (a, b) {
        (Ty::Int, Ty::Int) => Ty::Int,
        _ => Ty::Dec(a.scale().max(b.scale())),
    }
}

fn col_type_name(t: &ColType) -> &'static str {
    match t {
        ColType::Id => "id",
        ColType::Text => "text",
        ColType::Money => "money",
        ColType::Integer => "integer",
        ColType::Date => "date",
        ColType::Enum(_) => "enum(…)",
    }
}

#[cfg(test)]
mod tests;
