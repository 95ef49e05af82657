//! Raw rules → typed plan. Collects every error (with its byte offset) instead of stopping at
//! the first, so `fanpin check` can list them all.

use super::diag::{closest, Diagnostic};
use super::expr::{self, Ast, BinOp, Span, TemplatePart};
use super::plan::*;
use super::raw::*;
use chrono::NaiveDate;
use rust_decimal::Decimal;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

const AGGREGATES: &[&str] = &["count", "any", "all", "sum", "max", "min"];
const MEMBERS: &str = "members";

/// Where an expression runs.
enum Scope<'a> {
    /// On the household frame: household columns, derived fields so far, aggregates.
    Household { derived: &'a [Derived] },
    /// On one record of a table (a source, or `members`), joined with its household's columns.
    Record { table: &'a Table },
}

struct Env<'a> {
    scope: Scope<'a>,
    lets: &'a BTreeMap<String, TExpr>,
}

pub struct Checker<'s> {
    src: &'s str,
    pub diags: Vec<Diagnostic>,
    meta: Option<Meta>,
    params: BTreeMap<String, Parameter>,
    households: Option<Table>,
    members: Option<Table>,
    sources: BTreeMap<String, Source>,
    aggregates: Vec<Aggregate>,
    /// Names that are declared but failed to check (an unresolved parameter, a derived field
    /// with an error): uses of them are not reported again.
    poisoned: BTreeSet<String>,
    /// Parameters read since the last `take_params` (for per-row parameter references).
    used_params: BTreeSet<String>,
    default_aliases: BTreeMap<String, Vec<String>>,
    default_synonyms: BTreeMap<String, BTreeMap<String, Vec<String>>>,
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
        poisoned: BTreeSet::new(),
        used_params: BTreeSet::new(),
        default_aliases: raw.defaults.aliases.clone(),
        default_synonyms: raw.defaults.synonyms.clone(),
    };
    c.meta(&raw.meta, as_of);
    c.parameters(&raw.parameters);
    let roster = c.roster(&raw.roster);
    for (name, s) in &raw.sources {
        c.source(name, s);
    }
    let derived = c.derived(&raw.derive);
    let triggers = c.rules(&raw.triggers, true, &derived);
    let exclusions = c.rules(&raw.exclusions, false, &derived);
    c.unique_rule_ids(raw);
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
            triggers,
            exclusions,
            categories,
            report,
            monitoring,
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

    fn meta(&mut self, m: &RawMeta, as_of_override: Option<NaiveDate>) {
        let declared = self.date(&m.determination_date);
        let as_of = as_of_override.or(declared);
        let w = &m.window;
        let (start, end) = match (&w.start, &w.end, &w.months, as_of) {
            (Some(s), Some(e), None, _) => {
                let (s2, e2) = (self.date(s), self.date(e));
                if let (Some(a), Some(b)) = (s2, e2) {
                    if a > b {
                        self.err_at(s, format!("the income window starts ({a}) after it ends ({b})"));
                    }
                }
                (s2, e2)
            }
            (None, None, Some(n), Some(as_of)) => {
                // The N months ending on the determination date: 12 months to 2021-05-31 start
                // on 2020-06-01.
                let months = u32::try_from(*n.get_ref()).ok().filter(|m| (1..=120).contains(m));
                match months.and_then(|m| as_of.checked_sub_months(chrono::Months::new(m))).and_then(|d| d.succ_opt()) {
                    Some(start) => (Some(start), Some(as_of)),
                    None => {
                        self.err_at(n, "months is a whole number of months from 1 to 120");
                        (None, None)
                    }
                }
            }
            (None, None, Some(_), None) => (None, None),
            _ => {
                self.err_at(&m.determination_date, "window is either { start = …, end = … } or { months = 12 } (the months ending on the determination date)");
                (None, None)
            }
        };
        if let (Some(as_of), Some(window_start), Some(window_end)) = (as_of, start, end) {
            self.meta = Some(Meta {
                name: m.name.clone(),
                region: m.region.clone(),
                version: m.version.clone(),
                as_of,
                window_start,
                window_end,
            });
        }
    }

    fn parameters(&mut self, params: &BTreeMap<String, S<RawParameter>>) {
        let Some(as_of) = self.meta.as_ref().map(|m| m.as_of) else { return };
        for (name, p) in params {
            // Until it resolves, a parameter's uses are not separate errors.
            self.poisoned.insert(name.clone());
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
            ("date", toml::Value::Datetime(d)) => d
                .date
                .and_then(|d| NaiveDate::from_ymd_opt(d.year.into(), d.month.into(), d.day.into()))
                .map(Value::Date),
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
                    self.err_at(decl, "an enum value is empty: list the values as enum(a, b, c) and mark the column optional with a trailing '?' to allow an empty cell");
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
                                self.err(at, 1, format!("{name}: synonyms of '{col}' name '{canonical}', which is not one of its values [{}]", values.join(", ")));
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
                let hint = closest(col.get_ref(), table.columns.iter().map(|c| c.name.as_str()))
                    .map(|c| format!(" (did you mean '{c}'?)"))
                    .unwrap_or_default();
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
        for needed in ["乡镇", "村", "户主姓名", "户主证件号码", "户类型", "监测状态"] {
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
        let no_lets = BTreeMap::new();
        let env = Env { scope: Scope::Record { table: &members }, lets: &no_lets };
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
        if let Some(w) = &raw.window {
            self.require_column(&table, w, Some(&ColType::Date), "the window column");
        }
        self.sources.insert(
            name.to_string(),
            Source {
                table,
                id: raw.id.get_ref().clone(),
                name_column: raw.name.as_ref().map(|n| n.get_ref().clone()),
                window: raw.window.as_ref().map(|w| w.get_ref().clone()),
                required: raw.required,
            },
        );
    }

    fn derived(&mut self, list: &[RawDerive]) -> Vec<Derived> {
        let mut out: Vec<Derived> = Vec::new();
        let no_lets = BTreeMap::new();
        for d in list {
            let name = d.name.get_ref().clone();
            let taken = out.iter().any(|x| x.name == name)
                || self.households.as_ref().is_some_and(|h| h.column(&name).is_some())
                || self.params.contains_key(&name);
            if taken {
                self.err_at(&d.name, format!("'{name}' is already a household column, parameter or derived field"));
                continue;
            }
            let env = Env { scope: Scope::Household { derived: &out }, lets: &no_lets };
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
            let scope = match &table {
                Some(t) => Scope::Record { table: t },
                None => Scope::Household { derived },
            };
            let no_lets = BTreeMap::new();
            let mut lets = BTreeMap::new();
            let mut failed_lets = Vec::new();
            self.used_params.clear();
            for (name, e) in &r.lets {
                let env = Env { scope: reborrow(&scope), lets: &no_lets };
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
            let env = Env { scope, lets: &lets };
            let when = self.condition(&r.when, &env);
            let evidence = self.template(&r.evidence, &env);
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
        }
    }

    fn categories(&mut self, list: &[RawCategory], derived: &[Derived]) -> Vec<Category> {
        let no_lets = BTreeMap::new();
        let mut out: Vec<Category> = Vec::new();
        if list.is_empty() {
            self.err(0, 1, "the rules declare no [[categories]]: nothing could ever be listed");
        }
        for c in list {
            if out.iter().any(|x| &x.name == c.name.get_ref()) {
                self.err_at(&c.name, format!("category '{}' is declared twice", c.name.get_ref()));
            }
            let env = Env { scope: Scope::Household { derived }, lets: &no_lets };
            self.used_params.clear();
            if let Some(when) = self.condition(&c.when, &env) {
                out.push(Category { name: c.name.get_ref().clone(), when, params: self.take_params(), when_text: c.when.get_ref().clone() });
            }
        }
        out
    }

    /// The parameters read since the last clear, in name order.
    fn take_params(&mut self) -> Vec<String> {
        std::mem::take(&mut self.used_params).into_iter().collect()
    }

    fn monitoring(&mut self, m: &RawMonitoring, derived: &[Derived]) -> Option<Monitoring> {
        let no_lets = BTreeMap::new();
        let env = Env { scope: Scope::Household { derived }, lets: &no_lets };
        let monitored = self.condition(&m.monitored, &env);
        let elimination = self.condition(&m.elimination, &env);
        let stays = m.stays_monitored.as_ref().map(|s| self.condition(s, &env));
        let stays_monitored = match stays {
            Some(s) => Some(s?),
            None => None,
        };
        Some(Monitoring { monitored: monitored?, elimination: elimination?, stays_monitored, stays_reason: m.stays_reason.clone() })
    }

    fn report(&mut self, r: &RawReport, derived: &[Derived]) -> Option<Report> {
        let no_lets = BTreeMap::new();
        let env = Env { scope: Scope::Household { derived }, lets: &no_lets };
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
        Some(Report {
            size: size?,
            net_income: net_income?,
            per_capita: per_capita?,
            line: line?,
            no_trigger_risk: r.no_trigger_risk.clone(),
            include: r.include.clone(),
            review: r.review.clone(),
        })
    }

    fn template(&mut self, s: &S<String>, env: &Env) -> Option<Vec<Piece>> {
        let base = self.content_start(s);
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
            return Some(t.clone());
        }
        if self.poisoned.contains(name) {
            return None;
        }
        let households = self.households.clone();
        match &env.scope {
            Scope::Record { table } => {
                if let Some(c) = table.column(name) {
                    return Some(TExpr::Col { column: c.name.clone(), ty: c.ty.value_type() });
                }
                if name == MEMBER_NAME {
                    return Some(TExpr::Col { column: MEMBER_NAME.into(), ty: Ty::Text });
                }
                if let Some(c) = households.as_ref().and_then(|h| h.column(name)) {
                    return Some(TExpr::Col { column: household_column_in_records(name), ty: c.ty.value_type() });
                }
            }
            Scope::Household { derived } => {
                if let Some(d) = derived.iter().find(|d| d.name == name) {
                    self.used_params.extend(d.params.iter().cloned());
                    return Some(TExpr::Col { column: d.name.clone(), ty: d.expr.ty() });
                }
                if let Some(c) = households.as_ref().and_then(|h| h.column(name)) {
                    return Some(TExpr::Col { column: c.name.clone(), ty: c.ty.value_type() });
                }
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
        // Not found: say why as precisely as possible.
        let mut known: Vec<String> = env.lets.keys().cloned().collect();
        known.extend(self.params.keys().cloned());
        known.extend(households.iter().flat_map(|h| h.columns.iter().map(|c| c.name.clone())));
        let message = match &env.scope {
            Scope::Record { table } => {
                known.extend(table.columns.iter().map(|c| c.name.clone()));
                known.push(MEMBER_NAME.into());
                if self.sources.contains_key(name) || name == MEMBERS {
                    format!("'{name}' is a source; a record condition tests one record of {} at a time", table.name)
                } else {
                    format!("unknown name '{name}' in a condition on {} records", table.name)
                }
            }
            Scope::Household { derived } => {
                known.extend(derived.iter().map(|d| d.name.clone()));
                if self.sources.contains_key(name) || name == MEMBERS {
                    format!("'{name}' is a source: use it inside an aggregate such as any({name}, …) or sum({name}, …)")
                } else {
                    format!("unknown name '{name}' in a household condition")
                }
            }
        };
        let hint = closest(name, known.iter().map(String::as_str)).map(|c| format!(" (did you mean '{c}'?)")).unwrap_or_default();
        self.err_span(base, span, format!("{message}{hint}"));
        None
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
        let (lt, rt) = (l.ty(), r.ty());
        match op {
            BinOp::And | BinOp::Or => {
                if lt != Ty::Bool || rt != Ty::Bool {
                    let bad = if lt != Ty::Bool { (lhs, lt) } else { (rhs, rt) };
                    self.err_span(base, bad.0.span(), format!("'{}' joins conditions, found {}", op.symbol(), bad.1.describe()));
                    return None;
                }
                Some(TExpr::Logic { op, lhs: Box::new(l), rhs: Box::new(r) })
            }
            BinOp::Add | BinOp::Sub | BinOp::Mul => {
                if !lt.is_numeric() || !rt.is_numeric() {
                    self.err_span(base, span, format!("'{}' needs numbers, found {} and {}", op.symbol(), lt.describe(), rt.describe()));
                    return None;
                }
                let ty = match (op, &lt, &rt) {
                    (_, Ty::Int, Ty::Int) => Ty::Int,
                    (BinOp::Mul, a, b) => Ty::Dec(a.scale() + b.scale()),
                    (_, a, b) => Ty::Dec(a.scale().max(b.scale())),
                };
                if ty.scale() > 18 {
                    self.err_span(base, span, "this product has more than 18 decimal places: round an operand first");
                    return None;
                }
                Some(TExpr::Arith { op, lhs: Box::new(l), rhs: Box::new(r), ty })
            }
            _ => {
                let ok = match (&lt, &rt) {
                    (a, b) if a.is_numeric() && b.is_numeric() => true,
                    (a, b) if a.is_textual() && b.is_textual() => {
                        if !matches!(op, BinOp::Eq | BinOp::Ne) {
                            self.err_span(base, span, format!("text can only be compared with == or !=, not {}", op.symbol()));
                            return None;
                        }
                        // An enum compared with a constant: the constant must be a declared value.
                        match (&l, &r) {
                            (_, TExpr::Lit(v)) => self.compatible_literal(&lt, v, rhs.span(), base),
                            (TExpr::Lit(v), _) => self.compatible_literal(&rt, v, lhs.span(), base),
                            _ => true,
                        }
                    }
                    (Ty::Date, Ty::Date) => true,
                    (Ty::Bool, Ty::Bool) if matches!(op, BinOp::Eq | BinOp::Ne) => true,
                    (a, b) => {
                        self.err_span(base, span, format!("cannot compare {} with {}", a.describe(), b.describe()));
                        return None;
                    }
                };
                ok.then(|| TExpr::Cmp { op, lhs: Box::new(l), rhs: Box::new(r) })
            }
        }
    }

    fn call(&mut self, name: &str, name_span: Span, args: &[Ast], span: Span, env: &Env, base: usize) -> Option<TExpr> {
        match name {
            "round" => {
                let [value, places] = args else {
                    self.err_span(base, span, "round takes two arguments: round(value, places)");
                    return None;
                };
                let places = match places {
                    Ast::Number(n, _) if n.scale() == 0 && *n >= Decimal::ZERO && *n <= Decimal::from(10) => {
                        u32::try_from(n.mantissa()).unwrap_or(0)
                    }
                    other => {
                        self.err_span(base, other.span(), "the places of round must be a whole number from 0 to 10");
                        return None;
                    }
                };
                let (num, den) = match value {
                    Ast::Bin { op: BinOp::Div, lhs, rhs, .. } => {
                        let n = self.check(lhs, env, base);
                        let d = self.check(rhs, env, base);
                        (n?, Some(d?))
                    }
                    other => (self.check(other, env, base)?, None),
                };
                for t in std::iter::once(&num).chain(den.as_ref()) {
                    if !t.ty().is_numeric() {
                        self.err_span(base, value.span(), format!("round needs numbers, found {}", t.ty().describe()));
                        return None;
                    }
                }
                Some(TExpr::Round { num: Box::new(num), den: den.map(Box::new), places })
            }
            "date" => match args {
                [Ast::Str(s, sp)] => match NaiveDate::parse_from_str(s, "%Y-%m-%d") {
                    Ok(d) => Some(TExpr::Lit(Value::Date(d))),
                    Err(_) => {
                        self.err_span(base, *sp, format!("'{s}' is not a date: write date('2021-05-31')"));
                        None
                    }
                },
                _ => {
                    self.err_span(base, span, "date takes one string: date('2021-05-31')");
                    None
                }
            },
            agg if AGGREGATES.contains(&agg) => self.aggregate(agg, args, span, env, base),
            other => {
                let all: Vec<&str> = AGGREGATES.iter().copied().chain(["round", "date"]).collect();
                let hint = closest(other, all.iter().copied()).map(|c| format!(" (did you mean '{c}'?)")).unwrap_or_default();
                self.err_span(base, name_span, format!("unknown function '{other}'{hint}; known: {}", all.join(", ")));
                None
            }
        }
    }

    fn aggregate(&mut self, kind: &str, args: &[Ast], span: Span, env: &Env, base: usize) -> Option<TExpr> {
        if matches!(env.scope, Scope::Record { .. }) {
            self.err_span(base, span, format!("{kind}(…) aggregates a household's records: it cannot be used inside a record condition"));
            return None;
        }
        let usage = match kind {
            "count" => "count(source) or count(source, condition)",
            "any" | "all" => "any(source, condition) / all(source, condition)",
            _ => "sum(source, value) or sum(source, value, condition) (likewise max, min)",
        };
        let Some(Ast::Name(source, source_span)) = args.first() else {
            self.err_span(base, span, format!("the first argument names a source: {usage}"));
            return None;
        };
        let sp = toml::Spanned::new(base + source_span.start..base + source_span.end, source.clone());
        let table = self.record_table(&sp)?;
        let no_lets = BTreeMap::new();
        let renv = Env { scope: Scope::Record { table: &table }, lets: &no_lets };
        let rest: Vec<Option<TExpr>> = args[1..].iter().map(|a| self.check(a, &renv, base)).collect();
        if rest.iter().any(Option::is_none) {
            return None;
        }
        let rest: Vec<TExpr> = rest.into_iter().flatten().collect();
        let want_bool = |c: &mut Self, t: &TExpr, a: &Ast| {
            if t.ty() != Ty::Bool {
                c.err_span(base, a.span(), format!("expected a condition, found {}", t.ty().describe()));
                false
            } else {
                true
            }
        };
        let (kind, value, filter, ty) = match (kind, rest.as_slice()) {
            ("count", []) => (AggKind::Count, None, None, Ty::Int),
            ("count", [f]) => {
                if !want_bool(self, f, &args[1]) {
                    return None;
                }
                (AggKind::Count, None, Some(f.clone()), Ty::Int)
            }
            ("any" | "all", [c]) => {
                if !want_bool(self, c, &args[1]) {
                    return None;
                }
                let k = if kind == "any" { AggKind::Any } else { AggKind::All };
                (k, Some(c.clone()), None, Ty::Bool)
            }
            ("sum" | "max" | "min", [v, f @ ..]) if f.len() <= 1 => {
                if let Some(f) = f.first() {
                    if !want_bool(self, f, &args[2]) {
                        return None;
                    }
                }
                let ty = v.ty();
                let ok = if kind == "sum" { ty.is_numeric() } else { ty.is_numeric() || ty == Ty::Date };
                if !ok {
                    self.err_span(base, args[1].span(), format!("{kind} needs a number, found {}", ty.describe()));
                    return None;
                }
                let k = match kind {
                    "sum" => AggKind::Sum,
                    "max" => AggKind::Max,
                    _ => AggKind::Min,
                };
                (k, Some(v.clone()), f.first().cloned(), ty)
            }
            _ => {
                self.err_span(base, span, format!("wrong arguments: {usage}"));
                return None;
            }
        };
        let agg = Aggregate { source: table.name.clone(), kind, value, filter, ty: ty.clone() };
        let index = match self.aggregates.iter().position(|a| *a == agg) {
            Some(i) => i,
            None => {
                self.aggregates.push(agg);
                self.aggregates.len() - 1
            }
        };
        Some(TExpr::Agg { index, ty })
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

fn reborrow<'a>(s: &Scope<'a>) -> Scope<'a> {
    match s {
        Scope::Household { derived } => Scope::Household { derived },
        Scope::Record { table } => Scope::Record { table },
    }
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
mod tests {
    use crate::rules::diag::line_col;

    const SHIPPED: &str = include_str!("../../rules/guizhou-2021.toml");

    /// Applies `from → to` to the shipped rules and returns (line, col, message) of each error.
    fn errors(edits: &[(&str, &str)]) -> (String, Vec<(usize, usize, String)>) {
        let mut text = SHIPPED.to_string();
        for (from, to) in edits {
            assert!(text.contains(from), "edit target not found: {from}");
            text = text.replacen(from, to, 1);
        }
        match crate::rules::parse(&text, "t.toml") {
            Ok(_) => (text, Vec::new()),
            Err(d) => {
                let p = d.positions().into_iter().map(|(l, c, m)| (l, c, m.to_string())).collect();
                (text, p)
            }
        }
    }

    /// Line and column of the first occurrence of `needle` in `text`, plus `skip` characters.
    fn at(text: &str, needle: &str, skip: usize) -> (usize, usize) {
        let i = text.find(needle).expect("needle present");
        let (l, c) = line_col(text, i);
        (l, c + skip)
    }

    #[test]
    fn the_shipped_policy_checks_clean() {
        let plan = crate::rules::parse(SHIPPED, "guizhou-2021.toml").unwrap();
        assert_eq!(plan.triggers.len(), 9);
        assert_eq!(plan.exclusions.len(), 5);
        let line = plan.parameters.iter().find(|p| p.name == "监测线").unwrap();
        assert_eq!(line.value.display(), "6320.00");
        assert_eq!(line.from.to_string(), "2021-01-01");
    }

    #[test]
    fn the_line_in_force_follows_the_determination_date() {
        let text = SHIPPED.replacen("determination_date = 2021-05-31", "determination_date = 2020-12-31", 1);
        let plan = crate::rules::parse(&text, "t.toml").unwrap();
        let line = plan.parameters.iter().find(|p| p.name == "监测线").unwrap();
        assert_eq!(line.value.display(), "5000.00");
    }

    #[test]
    fn as_of_picks_the_parameter_in_force_and_a_months_window_ends_on_it() {
        let text = SHIPPED.replacen("window = { start = 2020-06-01, end = 2021-05-31 }", "window = { months = 12 }", 1);
        let raw = toml::from_str(&text).unwrap();
        let d = |s: &str| chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
        let plan = super::build(&raw, &text, Some(d("2020-09-30"))).unwrap();
        // 2020-09-30: the 2020 line (5000, from 2020-01-01); window 2019-10-01 … 2020-09-30, the
        // fixed window one of the 2020 plans uses.
        assert_eq!(plan.parameters.iter().find(|p| p.name == "监测线").unwrap().value.display(), "5000.00");
        assert_eq!((plan.meta.window_start, plan.meta.window_end), (d("2019-10-01"), d("2020-09-30")));
        let plan = super::build(&raw, &text, None).unwrap();
        assert_eq!((plan.meta.window_start, plan.meta.window_end), (d("2020-06-01"), d("2021-05-31")));
    }

    #[test]
    fn an_unknown_field_is_reported_where_it_stands() {
        let (text, e) = errors(&[("label = \"医保\"\n", "label = \"医保\"\nlable = \"x\"\n")]);
        assert_eq!(e.len(), 1);
        assert_eq!((e[0].0, e[0].1), at(&text, "lable = ", 0));
        assert!(e[0].2.contains("unknown field `lable`"), "{}", e[0].2);
    }

    #[test]
    fn money_compared_with_text_is_a_type_error_at_the_expression() {
        let (text, e) = errors(&[("when = \"自付费用 > 教育自付线\"", "when = \"自付费用 > 学段\"")]);
        assert_eq!(e.len(), 1);
        // the error starts at the first character inside the quotes
        assert_eq!((e[0].0, e[0].1), at(&text, "自付费用 > 学段", 0));
        assert!(e[0].2.contains("cannot compare a decimal amount with text"));
    }

    #[test]
    fn an_unknown_enum_value_points_at_the_value() {
        let (text, e) = errors(&[("'严重损坏', '死亡'", "'严重损害', '死亡'")]);
        assert_eq!(e.len(), 1);
        assert_eq!((e[0].0, e[0].1), at(&text, "'严重损害'", 0));
        assert!(e[0].2.contains("not one of the declared values"));
    }

    #[test]
    fn a_parameter_without_a_value_for_the_year_is_one_error_not_a_cascade() {
        let (text, e) = errors(&[
            ("{ from = 2020-01-01, value = \"5000\"", "{ from = 2022-01-01, value = \"5000\""),
            ("{ from = 2021-01-01, value = \"6320\"", "{ from = 2022-06-01, value = \"6320\""),
        ]);
        assert_eq!(e.len(), 1, "{e:?}");
        assert_eq!((e[0].0, e[0].1), at(&text, "[parameters.\"监测线\"]", 0));
        assert!(e[0].2.contains("no value in force on the determination date 2021-05-31"));
    }

    #[test]
    fn unknown_names_suggest_the_closest_and_division_must_be_rounded() {
        let (text, e) = errors(&[
            ("when = \"个人自付 >= 自付预警线", "when = \"个人自负 >= 自付预警线"),
            ("expr = \"round(家庭纯收入 / 家庭人口, 2)\"", "expr = \"家庭纯收入 / 家庭人口\""),
        ]);
        assert_eq!(e.len(), 2, "{e:?}");
        let unrounded = e.iter().find(|x| x.2.contains("round(a / b, 2)")).unwrap();
        assert_eq!((unrounded.0, unrounded.1), at(&text, "家庭纯收入 / 家庭人口\"", 0));
        let unknown = e.iter().find(|x| x.2.contains("个人自负")).unwrap();
        assert!(unknown.2.contains("did you mean '个人自付'"));
        assert_eq!((unknown.0, unknown.1), at(&text, "个人自负", 0));
    }

    #[test]
    fn a_bad_column_type_and_a_missing_risk_are_reported() {
        let (_, e) = errors(&[("\"返乡未就业天数\" = \"integer\"", "\"返乡未就业天数\" = \"number\""), ("risk = \"因学\"\n", "")]);
        assert!(e.iter().any(|x| x.2.contains("unknown column type 'number'")), "{e:?}");
        assert!(e.iter().any(|x| x.2.contains("needs a risk type")), "{e:?}");
    }

    #[test]
    fn aggregates_are_rejected_inside_record_conditions() {
        let (_, e) = errors(&[("when = \"自付费用 > 教育自付线\"", "when = \"count(medical) > 1\"")]);
        assert_eq!(e.len(), 1);
        assert!(e[0].2.contains("cannot be used inside a record condition"));
    }
}
