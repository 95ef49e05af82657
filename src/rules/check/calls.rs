//! Function calls: `round`, `date`, the calendar functions, `fired`, `list` and the aggregates
//! (over a household's records, or inside a record condition over one person's records).

use super::{Checker, Env, Reads, Scope, AGGREGATES, MEMBERS, NO_LETS};
use crate::rules::diag::closest;
use crate::rules::expr::{parse_template, Ast, BinOp, Span, TemplatePart};
use crate::rules::fold::fold;
use crate::rules::plan::*;
use chrono::NaiveDate;
use rust_decimal::Decimal;

const CALENDAR: &[(&str, DateOp, &str)] = &[
    ("age", DateOp::Age, "age(出生日期) or age(出生日期, date)"),
    ("year", DateOp::Year, "year(date)"),
    ("month", DateOp::Month, "month(date)"),
    ("day", DateOp::Day, "day(date)"),
    ("add_months", DateOp::AddMonths, "add_months(date, months)"),
    ("add_days", DateOp::AddDays, "add_days(date, days)"),
    ("days_between", DateOp::DaysBetween, "days_between(from, to)"),
];

const OTHERS: &[&str] = &["round", "date", "fired", "list", "monthly_max"];

impl Checker<'_> {
    pub(super) fn call(&mut self, name: &str, name_span: Span, args: &[Ast], span: Span, env: &Env, base: usize) -> Option<TExpr> {
        if let Some((_, op, usage)) = CALENDAR.iter().find(|(n, _, _)| *n == name) {
            return self.calendar(*op, usage, args, span, env, base);
        }
        match name {
            "round" => self.round(args, span, env, base),
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
            "fired" => self.fired(args, span, env, base),
            "list" => self.list(args, span, env, base),
            "monthly_max" => self.monthly_max(args, span, env, base),
            agg if AGGREGATES.contains(&agg) => self.aggregate(agg, args, span, env, base),
            other => {
                let all: Vec<&str> = AGGREGATES.iter().copied().chain(OTHERS.iter().copied()).chain(CALENDAR.iter().map(|c| c.0)).collect();
                let hint = closest(other, all.iter().copied()).map(|c| format!(" (did you mean '{c}'?)")).unwrap_or_default();
                self.err_span(base, name_span, format!("unknown function '{other}'{hint}; known: {}", all.join(", ")));
                None
            }
        }
    }

    fn round(&mut self, args: &[Ast], span: Span, env: &Env, base: usize) -> Option<TExpr> {
        let [value, places] = args else {
            self.err_span(base, span, "round takes two arguments: round(value, places)");
            return None;
        };
        let places = match places {
            Ast::Number(n, _) if n.scale() == 0 && *n >= Decimal::ZERO && *n <= Decimal::from(10) => u32::try_from(n.mantissa()).unwrap_or(0),
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

    /// A calendar function; folded to a constant when its arguments are constants.
    fn calendar(&mut self, op: DateOp, usage: &str, args: &[Ast], span: Span, env: &Env, base: usize) -> Option<TExpr> {
        let want: &[Ty] = match op {
            DateOp::Age => &[Ty::Date, Ty::Date],
            DateOp::Year | DateOp::Month | DateOp::Day => &[Ty::Date],
            DateOp::AddMonths | DateOp::AddDays => &[Ty::Date, Ty::Int],
            DateOp::DaysBetween => &[Ty::Date, Ty::Date],
        };
        let given_ok = args.len() == want.len() || (op == DateOp::Age && args.len() == 1);
        if !given_ok {
            self.err_span(base, span, format!("wrong arguments: {usage}"));
            return None;
        }
        let mut typed = Vec::new();
        for (a, ty) in args.iter().zip(want) {
            let t = self.check(a, env, base)?;
            if &t.ty() != ty {
                self.err_span(base, a.span(), format!("expected {}, found {}: {usage}", ty.describe(), t.ty().describe()));
                return None;
            }
            typed.push(t);
        }
        if op == DateOp::Age && typed.len() == 1 {
            // At the determination date.
            typed.push(TExpr::Lit(Value::Date(self.meta.as_ref()?.as_of)));
        }
        if op == DateOp::AddMonths && !matches!(typed[1], TExpr::Lit(_)) {
            self.err_span(base, args[1].span(), "the months of add_months must be a whole number written in the rules");
            return None;
        }
        let e = TExpr::Date { op, args: typed };
        let all_constant = match &e {
            TExpr::Date { args, .. } => args.iter().all(|a| matches!(a, TExpr::Lit(_))),
            _ => false,
        };
        if all_constant {
            match fold(&e) {
                Some(v) => return Some(TExpr::Lit(v)),
                None => {
                    self.err_span(base, span, "this date is out of range");
                    return None;
                }
            }
        }
        Some(e)
    }

    /// `fired('id')`: a trigger or exclusion hit; `fired('因病')`: any trigger of the risk type.
    fn fired(&mut self, args: &[Ast], span: Span, env: &Env, base: usize) -> Option<TExpr> {
        if env.reads == Reads::Plain || !matches!(env.scope, Scope::Household) {
            self.err_span(base, span, "fired(…) reads the rules' results: it can be used in [[categories]] and [monitoring] only (rules and figures are computed before any rule fires)");
            return None;
        }
        let [Ast::Str(id, sp)] = args else {
            self.err_span(base, span, "fired takes a rule id or a risk type as a string: fired('housing'), fired('因病')");
            return None;
        };
        let by_id: Vec<String> = self.rule_ids.iter().filter(|(i, _)| i == id).map(|(i, _)| i.clone()).collect();
        let rules =
            if by_id.is_empty() { self.rule_ids.iter().filter(|(_, r)| r.as_deref() == Some(id.as_str())).map(|(i, _)| i.clone()).collect() } else { by_id };
        if rules.is_empty() {
            let known: Vec<&str> = self.rule_ids.iter().flat_map(|(i, r)| std::iter::once(i.as_str()).chain(r.as_deref())).collect();
            let hint = closest(id, known.iter().copied()).map(|c| format!(" (did you mean '{c}'?)")).unwrap_or_default();
            self.err_span(base, *sp, format!("no trigger or exclusion has the id or risk type '{id}'{hint}"));
            return None;
        }
        Some(TExpr::Fired { rules })
    }

    /// `list(source, 'template'[, condition])`: the household's records written one by one.
    fn list(&mut self, args: &[Ast], span: Span, env: &Env, base: usize) -> Option<TExpr> {
        if env.reads != Reads::Evidence || !matches!(env.scope, Scope::Household) {
            self.err_span(base, span, "list(…) writes records as text: it can be used in the evidence of categories and household rules only");
            return None;
        }
        let (Some(Ast::Name(source, source_span)), Some(Ast::Str(text, text_span))) = (args.first(), args.get(1)) else {
            self.err_span(base, span, "list(source, '{成员姓名} {日期} {金额}元'[, condition])");
            return None;
        };
        if args.len() > 3 {
            self.err_span(base, span, "list takes a source, a template and an optional condition");
            return None;
        }
        let sp = toml::Spanned::new(base + source_span.start..base + source_span.end, source.clone());
        let table = self.record_table(&sp)?;
        let renv = Env::record(&table, env.derived, &NO_LETS);
        // The template's text starts one character (the quote) into its span.
        let tbase = base + text_span.start + 1;
        let parts = match parse_template(text) {
            Ok(p) => p,
            Err(e) => {
                self.err(tbase + e.at, 1, format!("list template: {}", e.message));
                return None;
            }
        };
        let mut template = Vec::new();
        for p in parts {
            match p {
                TemplatePart::Text(t) => template.push(Piece::Text(t)),
                TemplatePart::Expr(ast, at) => {
                    // a list's template is written out into the expression that holds it
                    let value = self.check(&ast, &renv, tbase + at)?;
                    template.push(Piece::Value(self.inline(value, "list", *text_span, base)?));
                }
            }
        }
        let filter = match args.get(2) {
            Some(a) => {
                let f = self.check(a, &renv, base)?;
                if f.ty() != Ty::Bool {
                    self.err_span(base, a.span(), format!("expected a condition, found {}", f.ty().describe()));
                    return None;
                }
                Some(f)
            }
            None => None,
        };
        let list = RecordList { source: table.name.clone(), template, filter };
        let index = self.lists.iter().position(|l| *l == list).unwrap_or_else(|| {
            self.lists.push(list);
            self.lists.len() - 1
        });
        Some(TExpr::List { index })
    }

    pub(super) fn aggregate(&mut self, kind: &str, args: &[Ast], span: Span, env: &Env, base: usize) -> Option<TExpr> {
        let (agg, per_person) = self.aggregate_def(kind, args, span, env, base)?;
        Some(self.register(agg, per_person))
    }

    /// `monthly_max(sum(source, value[, condition]), date)` (or `count`): the aggregate over the
    /// records of each calendar month of `date`, and the largest of the months' values.
    fn monthly_max(&mut self, args: &[Ast], span: Span, env: &Env, base: usize) -> Option<TExpr> {
        let usage = "monthly_max(sum(source, value[, condition]), date column) or monthly_max(count(source[, condition]), date column)";
        let [Ast::Call { name, args: inner, span: inner_span, .. }, date] = args else {
            self.err_span(base, span, format!("wrong arguments: {usage}"));
            return None;
        };
        if name != "sum" && name != "count" {
            self.err_span(base, *inner_span, format!("monthly_max takes a sum or a count: {usage}"));
            return None;
        }
        let (mut agg, per_person) = self.aggregate_def(name, inner, *inner_span, env, base)?;
        let table = self.record_table(&toml::Spanned::new(0..0, agg.source.clone()))?;
        let renv = Env { in_person_aggregate: per_person, ..Env::record(&table, env.derived, &NO_LETS) };
        let d = self.check(date, &renv, base)?;
        if d.ty() != Ty::Date {
            self.err_span(base, date.span(), format!("expected a date of the records, found {}: {usage}", d.ty().describe()));
            return None;
        }
        agg.per_month = Some(d);
        Some(self.register(agg, per_person))
    }

    /// Adds an aggregate to the plan (once) and returns the expression that reads it.
    fn register(&mut self, agg: Aggregate, per_person: bool) -> TExpr {
        let ty = agg.ty.clone();
        let list = if per_person { &mut self.person_aggregates } else { &mut self.aggregates };
        let index = list.iter().position(|a| *a == agg).unwrap_or_else(|| {
            list.push(agg);
            list.len() - 1
        });
        if per_person {
            TExpr::PersonAgg { index, ty }
        } else {
            TExpr::Agg { index, ty }
        }
    }

    /// An aggregate's definition, and whether it is over one person's records.
    fn aggregate_def(&mut self, kind: &str, args: &[Ast], span: Span, env: &Env, base: usize) -> Option<(Aggregate, bool)> {
        let per_person = match env.scope {
            Scope::Household => false,
            Scope::Record { .. } if !env.in_person_aggregate => true,
            Scope::Record { .. } => {
                self.err_span(base, span, format!("{kind}(…) inside an aggregate over one person's records: aggregates do not nest further"));
                return None;
            }
            Scope::Constant => {
                self.err_span(base, span, "a formula reads parameters only, not records");
                return None;
            }
        };
        let usage = match kind {
            "count" => "count(source) or count(source, condition)",
            "any" | "all" => "any(source, condition) / all(source, condition)",
            _ => "sum(source, value) or sum(source, value, condition) (likewise max, min)",
        };
        let Some(Ast::Name(source, source_span)) = args.first() else {
            self.err_span(base, span, format!("the first argument names a source: {usage}"));
            return None;
        };
        if per_person && source == MEMBERS {
            self.err_span(
                base,
                span,
                format!("{kind}(members, …) inside a condition on one record: a record belongs to one member; aggregate members in a household condition"),
            );
            return None;
        }
        let sp = toml::Spanned::new(base + source_span.start..base + source_span.end, source.clone());
        let table = self.record_table(&sp)?;
        let renv = Env { in_person_aggregate: per_person, ..Env::record(&table, env.derived, &NO_LETS) };
        let rest: Vec<Option<TExpr>> = args[1..].iter().map(|a| self.check(a, &renv, base)).collect();
        if rest.iter().any(Option::is_none) {
            return None;
        }
        let rest: Vec<TExpr> = rest.into_iter().flatten().collect();
        let (kind, value, filter, ty) = self.aggregate_shape(kind, usage, &rest, args, span, base)?;
        Some((Aggregate { source: table.name.clone(), kind, value, filter, ty, per_month: None }, per_person))
    }

    /// The kind, value, filter and type of an aggregate from its typed arguments.
    #[allow(clippy::type_complexity)]
    fn aggregate_shape(
        &mut self,
        kind: &str,
        usage: &str,
        rest: &[TExpr],
        args: &[Ast],
        span: Span,
        base: usize,
    ) -> Option<(AggKind, Option<TExpr>, Option<TExpr>, Ty)> {
        let want_bool = |c: &mut Self, t: &TExpr, a: &Ast| {
            if t.ty() != Ty::Bool {
                c.err_span(base, a.span(), format!("expected a condition, found {}", t.ty().describe()));
                false
            } else {
                true
            }
        };
        Some(match (kind, rest) {
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
        })
    }
}
