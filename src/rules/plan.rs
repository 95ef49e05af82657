//! The checked, typed rules plan. Every name is resolved, every expression typed, every
//! parameter resolved for the determination date. Independent of polars: `evaluate`
//! compiles it to polars expressions (and another backend could compile it to SQL).

use chrono::NaiveDate;
use rust_decimal::Decimal;
use std::sync::Arc;

/// Arithmetic of the typed plan (division appears only inside `round`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArithOp {
    Add,
    Sub,
    Mul,
}

/// Comparisons.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CmpOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

/// Joining conditions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogicOp {
    And,
    Or,
}

/// The determination: the date it is made on and the income window.
#[derive(Debug, Clone)]
pub struct Meta {
    pub name: String,
    pub region: String,
    pub version: String,
    pub as_of: NaiveDate,
    pub window_start: NaiveDate,
    pub window_end: NaiveDate,
}

/// How a column of an input file is read and validated.
#[derive(Debug, Clone, PartialEq)]
pub enum ColType {
    /// A citizen ID number: normalized, check character verified, 15 digits upgraded to 18.
    Id,
    Text,
    /// Decimal yuan, at most two decimals.
    Money,
    Integer,
    /// `YYYY-MM-DD`.
    Date,
    Enum(Arc<Vec<String>>),
}

impl ColType {
    pub fn value_type(&self) -> Ty {
        match self {
            ColType::Id | ColType::Text => Ty::Text,
            ColType::Money => Ty::Dec(MONEY_SCALE),
            ColType::Integer => Ty::Int,
            ColType::Date => Ty::Date,
            ColType::Enum(v) => Ty::Enum(v.clone()),
        }
    }
}

/// Money is read as a decimal with this many places.
pub const MONEY_SCALE: u32 = 2;

#[derive(Debug, Clone)]
pub struct Column {
    pub name: String,
    pub ty: ColType,
    /// An empty value is allowed (read as null) instead of being a reject.
    pub optional: bool,
    /// Header names accepted for this column besides its own.
    pub aliases: Vec<String>,
    /// Enum columns: (declared value, other spellings read as it).
    pub synonyms: Vec<(String, Vec<String>)>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Encoding {
    /// BOM → UTF-8; UTF-8 but for a few bytes (the whole file) → UTF-8; otherwise GB18030.
    Auto,
    Utf8,
    Gb18030,
}

#[derive(Debug, Clone, PartialEq)]
pub enum SheetRef {
    Name(String),
    Index(usize),
}

/// As messages show it: `明细`, or `number 3 (0-based)`.
impl std::fmt::Display for SheetRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SheetRef::Name(n) => write!(f, "{n}"),
            SheetRef::Index(i) => write!(f, "number {i} (0-based)"),
        }
    }
}

/// How a table's files are found and read.
#[derive(Debug, Clone)]
pub struct ReadSpec {
    /// A file name or glob, relative to the data directory.
    pub pattern: String,
    pub sheet: Option<SheetRef>,
    pub encoding: Encoding,
    /// `None`: detected (`,` for .csv; the most consistent of tab, `|`, `,`, `;` otherwise).
    pub delimiter: Option<u8>,
}

/// One input file and the columns the rules use from it.
#[derive(Debug, Clone)]
pub struct Table {
    /// The source's name in the rules file (`households`, `members`, `medical`, …).
    pub name: String,
    pub label: String,
    pub file: String,
    pub read: ReadSpec,
    pub columns: Vec<Column>,
}

impl Table {
    pub fn column(&self, name: &str) -> Option<&Column> {
        self.columns.iter().find(|c| c.name == name)
    }
}

#[derive(Debug, Clone)]
pub struct Roster {
    pub households: Table,
    /// 户编号: the household key, in both files.
    pub key: String,
    pub members: Table,
    /// The members' column holding the household key.
    pub member_household: String,
    pub member_id: String,
    pub member_name: String,
    /// Record condition over a member: does the member live with the household (是否共同生活)?
    pub co_resident: TExpr,
}

/// The dates a source's records must fall in to be used.
#[derive(Debug, Clone, PartialEq)]
pub struct Window {
    /// The record's date column.
    pub column: String,
    pub start: NaiveDate,
    pub end: NaiveDate,
}

/// A department extract.
#[derive(Debug, Clone)]
pub struct Source {
    pub table: Table,
    pub id: String,
    pub name_column: Option<String>,
    pub window: Option<Window>,
    /// A run fails when no file of the source is present.
    pub required: bool,
    /// A link source: the column holding the ID of a relative of the member `id` names.
    pub relative: Option<String>,
    /// The link source through which records of the members' relatives count too.
    pub relatives: Option<String>,
}

/// The type of an expression.
#[derive(Debug, Clone, PartialEq)]
pub enum Ty {
    Bool,
    Int,
    /// A decimal with this many places (money is `Dec(2)`; literals keep their own scale).
    Dec(u32),
    Text,
    Enum(Arc<Vec<String>>),
    Date,
}

impl Ty {
    pub fn is_numeric(&self) -> bool {
        matches!(self, Ty::Int | Ty::Dec(_))
    }
    pub fn is_textual(&self) -> bool {
        matches!(self, Ty::Text | Ty::Enum(_))
    }
    pub fn scale(&self) -> u32 {
        match self {
            Ty::Dec(s) => *s,
            _ => 0,
        }
    }
    pub fn describe(&self) -> String {
        match self {
            Ty::Bool => "a true/false condition".into(),
            Ty::Int => "an integer".into(),
            Ty::Dec(_) => "a decimal amount".into(),
            Ty::Text => "text".into(),
            Ty::Enum(v) => format!("one of [{}]", v.join(", ")),
            Ty::Date => "a date".into(),
        }
    }
}

/// A constant.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Bool(bool),
    Int(i64),
    Dec(Decimal),
    Text(String),
    Date(NaiveDate),
}

impl Value {
    pub fn ty(&self) -> Ty {
        match self {
            Value::Bool(_) => Ty::Bool,
            Value::Int(_) => Ty::Int,
            Value::Dec(d) => Ty::Dec(d.scale()),
            Value::Text(_) => Ty::Text,
            Value::Date(_) => Ty::Date,
        }
    }
    pub fn display(&self) -> String {
        match self {
            Value::Bool(b) => if *b { "是" } else { "否" }.into(),
            Value::Int(i) => i.to_string(),
            Value::Dec(d) => d.to_string(),
            Value::Text(s) => s.clone(),
            Value::Date(d) => d.format("%Y-%m-%d").to_string(),
        }
    }
}

/// A typed expression. `Col` names the physical column of the frame the expression runs on.
#[derive(Debug, Clone, PartialEq)]
pub enum TExpr {
    Col {
        column: String,
        ty: Ty,
    },
    Lit(Value),
    Neg(Box<TExpr>),
    Not(Box<TExpr>),
    /// `+ - *`, exact: the result scale is the sum (for `*`) or the max (for `+ -`) of the operands'.
    Arith {
        op: ArithOp,
        lhs: Box<TExpr>,
        rhs: Box<TExpr>,
        ty: Ty,
    },
    Cmp {
        op: CmpOp,
        lhs: Box<TExpr>,
        rhs: Box<TExpr>,
    },
    Logic {
        op: LogicOp,
        lhs: Box<TExpr>,
        rhs: Box<TExpr>,
    },
    In {
        value: Box<TExpr>,
        list: Vec<Value>,
        negated: bool,
    },
    If {
        cond: Box<TExpr>,
        then: Box<TExpr>,
        otherwise: Box<TExpr>,
        ty: Ty,
    },
    /// `round(num [/ den], places)`: exact, half away from zero (0.005 → 0.01, −0.005 → −0.01).
    Round {
        num: Box<TExpr>,
        den: Option<Box<TExpr>>,
        places: u32,
    },
    /// The value of `Plan::aggregates[i]` for the household (household expressions only).
    Agg {
        index: usize,
        ty: Ty,
    },
    /// The value of `Plan::person_aggregates[i]` for the person a record belongs to (record
    /// expressions over `members` or a source).
    PersonAgg {
        index: usize,
        ty: Ty,
    },
    /// A calendar function of dates and integers.
    Date {
        op: DateOp,
        args: Vec<TExpr>,
    },
    /// `fired('id')`: any of these triggers or exclusions hit the household (categories and
    /// monitoring only).
    Fired {
        rules: Vec<String>,
    },
    /// The text of `Plan::lists[i]` for the household (evidence templates only).
    List {
        index: usize,
    },
}

/// Calendar functions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DateOp {
    /// `age(birth, at)`: full years at `at` (the birthday counts on its day).
    Age,
    Year,
    Month,
    Day,
    /// `add_months(d, n)`: clamped to the month's end.
    AddMonths,
    AddDays,
    /// `days_between(a, b)`: b − a in days.
    DaysBetween,
}

impl DateOp {
    pub fn ty(self) -> Ty {
        match self {
            DateOp::AddMonths | DateOp::AddDays => Ty::Date,
            _ => Ty::Int,
        }
    }
}

impl TExpr {
    /// The expressions this one is made of.
    fn operands(&self) -> Vec<&TExpr> {
        match self {
            TExpr::Col { .. } | TExpr::Lit(_) | TExpr::Agg { .. } | TExpr::PersonAgg { .. } | TExpr::Fired { .. } | TExpr::List { .. } => Vec::new(),
            TExpr::Date { args, .. } => args.iter().collect(),
            TExpr::Neg(e) | TExpr::Not(e) | TExpr::In { value: e, .. } => vec![e],
            TExpr::Arith { lhs, rhs, .. } | TExpr::Cmp { lhs, rhs, .. } | TExpr::Logic { lhs, rhs, .. } => vec![lhs, rhs],
            TExpr::If { cond, then, otherwise, .. } => vec![cond, then, otherwise],
            TExpr::Round { num, den, .. } => std::iter::once(num).chain(den).map(|b| &**b).collect(),
        }
    }

    /// The number of nodes of this expression, counted without recursion and up to `cap` + 1.
    pub fn size_up_to(&self, cap: usize) -> usize {
        let (mut n, mut stack) = (0, vec![self]);
        while let Some(e) = stack.pop() {
            n += 1;
            if n > cap {
                break;
            }
            stack.extend(e.operands());
        }
        n
    }

    /// Adds the physical columns this expression reads to `out`.
    pub fn columns_into(&self, out: &mut std::collections::BTreeSet<String>) {
        if let TExpr::Col { column, .. } = self {
            out.insert(column.clone());
        }
        self.operands().into_iter().for_each(|e| e.columns_into(out));
    }

    /// Adds the indexes of the aggregates (`Plan::aggregates`) this expression reads to `out`.
    pub fn aggregates_into(&self, out: &mut std::collections::BTreeSet<usize>) {
        if let TExpr::Agg { index, .. } = self {
            out.insert(*index);
        }
        self.operands().into_iter().for_each(|e| e.aggregates_into(out));
    }

    /// Adds the indexes of the per-person aggregates (`Plan::person_aggregates`) this
    /// expression reads to `out`.
    pub fn person_aggregates_into(&self, out: &mut std::collections::BTreeSet<usize>) {
        if let TExpr::PersonAgg { index, .. } = self {
            out.insert(*index);
        }
        self.operands().into_iter().for_each(|e| e.person_aggregates_into(out));
    }

    pub fn ty(&self) -> Ty {
        match self {
            TExpr::Col { ty, .. } | TExpr::Arith { ty, .. } | TExpr::If { ty, .. } | TExpr::Agg { ty, .. } | TExpr::PersonAgg { ty, .. } => ty.clone(),
            TExpr::Date { op, .. } => op.ty(),
            TExpr::Fired { .. } => Ty::Bool,
            TExpr::List { .. } => Ty::Text,
            TExpr::Lit(v) => v.ty(),
            TExpr::Neg(e) => e.ty(),
            TExpr::Not(_) | TExpr::Cmp { .. } | TExpr::Logic { .. } | TExpr::In { .. } => Ty::Bool,
            TExpr::Round { places, .. } => Ty::Dec(*places),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AggKind {
    Count,
    Any,
    All,
    Sum,
    Max,
    Min,
}

/// An aggregate over the records of one source for a household's co-resident members.
#[derive(Debug, Clone, PartialEq)]
pub struct Aggregate {
    /// A source name, or `members`.
    pub source: String,
    pub kind: AggKind,
    /// The summed / compared value (sum, max, min) or the tested condition (any, all).
    pub value: Option<TExpr>,
    /// Records counted (count, sum, max, min).
    pub filter: Option<TExpr>,
    pub ty: Ty,
    /// `monthly_max(aggregate, date)`: the aggregate per calendar month of this date, and the
    /// largest of the months' values.
    pub per_month: Option<TExpr>,
}

/// `list(source, 'template'[, condition])`: the household's records of a source written one by
/// one (evidence only).
#[derive(Debug, Clone, PartialEq)]
pub struct RecordList {
    pub source: String,
    pub template: Vec<Piece>,
    pub filter: Option<TExpr>,
}

/// A piece of an evidence template.
#[derive(Debug, Clone, PartialEq)]
pub enum Piece {
    Text(String),
    Value(TExpr),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Keep the household, marked with `[report] review` and the reason.
    Review,
    /// Leave the household out of the list; counted in the manifest.
    Exclude,
}

/// A trigger or an exclusion.
#[derive(Debug, Clone)]
pub struct Rule {
    pub id: String,
    pub label: String,
    /// Triggers: the risk type.
    pub risk: Option<String>,
    /// Exclusions: what a hit does.
    pub action: Option<Action>,
    /// `Some(source)`: the condition is tested on each record of the source (record rule);
    /// `None`: on the household (household rule).
    pub source: Option<String>,
    pub when: TExpr,
    pub evidence: Vec<Piece>,
    /// The parameters the rule reads (directly, through a `let` or a derived field).
    pub params: Vec<String>,
    /// The condition as written in the rules file (for `explain`).
    pub when_text: String,
}

#[derive(Debug, Clone)]
pub struct Derived {
    pub name: String,
    pub expr: TExpr,
    pub params: Vec<String>,
    pub expr_text: String,
}

#[derive(Debug, Clone)]
pub struct Category {
    pub name: String,
    pub when: TExpr,
    pub params: Vec<String>,
    pub when_text: String,
    /// A lead to verify (listed); `false`: a grade, shown in screened.csv and the summaries only.
    pub lead: bool,
    /// Written first in 证据 for a household of this category (may be empty).
    pub evidence: Vec<Piece>,
    /// The reasons the category holds for; the evidence of each one that holds is written.
    pub reasons: Vec<Reason>,
}

/// One reason a category holds for.
#[derive(Debug, Clone)]
pub struct Reason {
    pub when: TExpr,
    pub evidence: Vec<Piece>,
}

/// Households already in monitoring, and when their risk may be marked eliminated (风险消除).
#[derive(Debug, Clone)]
pub struct Monitoring {
    /// The household is already a monitoring object: listed apart from new leads.
    pub monitored: TExpr,
    /// This run's part of the risk-elimination conditions (besides: no trigger, no category,
    /// and income at or above the line in the previous run too).
    pub elimination: TExpr,
    /// Households that stay monitored even when the conditions hold (no labour capacity).
    pub stays_monitored: Option<TExpr>,
    pub stays_reason: String,
    /// 依据 of elimination_candidates.csv.
    pub elimination_basis: Vec<Wording>,
}

pub use super::wording::Wording;

/// A parameter value in force on the determination date.
#[derive(Debug, Clone)]
pub struct Parameter {
    pub name: String,
    pub description: String,
    pub value: Value,
    /// The date the value took effect (a computed parameter: the latest of its inputs').
    pub from: NaiveDate,
    /// The policy document; for a computed parameter, the formula's document, the formula and
    /// each input with its value, date and reference.
    pub reference: String,
}

impl Parameter {
    /// The value as 证据 and the summaries show it: money to the cent where that is exact.
    pub fn shown(&self) -> String {
        match &self.value {
            Value::Dec(d) => money_text(*d),
            v => v.display(),
        }
    }
}

/// A decimal as money is shown: at least two places, more only where they are not zero
/// (7500.000 → 7500.00; 50.015 stays 50.015).
pub fn money_text(d: Decimal) -> String {
    let mut d = d.normalize();
    if d.scale() < MONEY_SCALE {
        d.rescale(MONEY_SCALE);
    }
    d.to_string()
}

#[derive(Debug, Clone)]
pub struct Report {
    pub size: TExpr,
    pub net_income: TExpr,
    pub per_capita: TExpr,
    pub line: TExpr,
    pub no_trigger_risk: String,
    pub include: String,
    pub review: String,
    pub notice_title: String,
    pub notice_footer: String,
    pub review_note: String,
    pub dropped_not_screened: String,
    pub dropped_excluded: String,
    pub dropped_no_category: Vec<Wording>,
    pub dropped_not_listed: String,
}

#[derive(Debug, Clone)]
pub struct Plan {
    pub meta: Meta,
    pub parameters: Vec<Parameter>,
    pub roster: Roster,
    pub sources: Vec<Source>,
    pub derived: Vec<Derived>,
    pub aggregates: Vec<Aggregate>,
    /// Aggregates over one person's records (in record conditions).
    pub person_aggregates: Vec<Aggregate>,
    /// Record lists written in evidence.
    pub lists: Vec<RecordList>,
    pub triggers: Vec<Rule>,
    pub exclusions: Vec<Rule>,
    pub categories: Vec<Category>,
    pub report: Report,
    pub monitoring: Option<Monitoring>,
    /// Things about the rules worth saying that do not stop a run.
    pub warnings: Vec<String>,
}

impl Plan {
    pub fn source(&self, name: &str) -> Option<&Source> {
        self.sources.iter().find(|s| s.table.name == name)
    }

    /// The household columns that expressions over the records of `source` (a source name or
    /// `members`) read, so that only those are joined to the records.
    pub fn household_columns_for(&self, source: &str) -> Vec<String> {
        let prefix = household_column_in_records("");
        self.columns_read_from(source).iter().filter_map(|c| c.strip_prefix(prefix.as_str()).map(str::to_string)).collect()
    }

    /// The member columns that expressions over the records of a department `source` read
    /// (the columns of the member each record belongs to).
    pub fn member_columns_for(&self, source: &str) -> Vec<String> {
        let prefix = member_column_in_records("");
        self.columns_read_from(source).iter().filter_map(|c| c.strip_prefix(prefix.as_str()).map(str::to_string)).collect()
    }

    /// The member columns that any source's expressions read (`人.<column>` in its records): a
    /// screening keeps them after the roster checks.
    pub fn member_columns_for_sources(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for s in &self.sources {
            for c in self.member_columns_for(&s.table.name) {
                if !out.contains(&c) {
                    out.push(c);
                }
            }
        }
        out
    }

    /// The record columns (not household or member columns) that expressions over the records
    /// of `source` read.
    pub fn record_columns_for(&self, source: &str) -> Vec<String> {
        let (h, m) = (household_column_in_records(""), member_column_in_records(""));
        self.columns_read_from(source).into_iter().filter(|c| !c.starts_with(h.as_str()) && !c.starts_with(m.as_str())).collect()
    }

    /// The per-person aggregates that expressions over the records of `source` read.
    pub fn person_aggregates_read_by(&self, source: &str) -> std::collections::BTreeSet<usize> {
        let mut out = std::collections::BTreeSet::new();
        self.expressions_over(source).into_iter().for_each(|e| e.person_aggregates_into(&mut out));
        out
    }

    /// Every expression evaluated on the records of `source`: rule conditions and evidence,
    /// aggregates' values and filters, record lists.
    fn expressions_over(&self, source: &str) -> Vec<&TExpr> {
        let mut out: Vec<&TExpr> = Vec::new();
        for r in self.triggers.iter().chain(&self.exclusions).filter(|r| r.source.as_deref() == Some(source)) {
            out.push(&r.when);
            out.extend(values(&r.evidence));
        }
        for a in self.aggregates.iter().chain(&self.person_aggregates).filter(|a| a.source == source) {
            out.extend(a.value.iter().chain(&a.filter).chain(&a.per_month));
        }
        for l in self.lists.iter().filter(|l| l.source == source) {
            out.extend(l.filter.iter());
            out.extend(values(&l.template));
        }
        if source == "members" {
            out.push(&self.roster.co_resident);
        }
        out
    }

    /// Every column name that the expressions over `source` read.
    fn columns_read_from(&self, source: &str) -> std::collections::BTreeSet<String> {
        let mut used = std::collections::BTreeSet::new();
        self.expressions_over(source).into_iter().for_each(|e| e.columns_into(&mut used));
        used
    }

    /// Risk types in the order their first trigger appears in the rules file.
    pub fn risk_types(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for t in &self.triggers {
            if let Some(r) = &t.risk {
                if !out.contains(r) {
                    out.push(r.clone());
                }
            }
        }
        out
    }
}

/// The expressions of an evidence template.
fn values(pieces: &[Piece]) -> Vec<&TExpr> {
    pieces.iter().filter_map(|p| if let Piece::Value(e) = p { Some(e) } else { None }).collect()
}

/// The physical name of a household column inside a record frame.
pub fn household_column_in_records(name: &str) -> String {
    format!("户.{name}")
}

/// The physical name of a member column inside a department's record frame (the columns of the
/// member the record belongs to).
pub fn member_column_in_records(name: &str) -> String {
    format!("人.{name}")
}

/// The physical name of the roster member's name inside a record frame.
pub const MEMBER_NAME: &str = "成员姓名";
/// The record name that is true for a record of a member's relative (a source with
/// `relatives`), false for the member's own.
pub const RELATIVE_RECORD: &str = "亲属记录";
/// Built-in date names available in every expression.
pub const AS_OF: &str = "判定日期";
pub const WINDOW_START: &str = "窗口开始";
pub const WINDOW_END: &str = "窗口结束";
