//! The households' frame → what the outputs show: screened.csv's columns for every household,
//! flagged.csv's columns (with 证据) for the listed ones, and the grades' counts.

use super::{evidence_column, hit_column, risk_column, REASON};
use crate::frame::columns as c;
use crate::frame::compile::{agg_column, compile, dec_dtype, list_column, money_places, template};
use crate::households::{ordered_left, HH_ROW};
use crate::rules::plan::{Action, Category, Plan, Rule, TExpr, Ty};
use anyhow::Result;
use polars::prelude::*;
use std::collections::BTreeSet;

/// Column of the households' frame: the household's category is a lead to verify.
pub(super) const LEAD: &str = "__lead";

fn any_of<'a>(rules: impl IntoIterator<Item = &'a Rule>) -> Expr {
    rules.into_iter().map(|r| col(hit_column(r).as_str())).reduce(|a, b| a.or(b)).unwrap_or(lit(false))
}

fn joined(parts: Vec<Expr>, sep: &str) -> Expr {
    if parts.is_empty() {
        lit("")
    } else {
        concat_str(parts, sep, true)
    }
}

fn labels(rules: &[Rule]) -> Expr {
    joined(rules.iter().map(|r| when(col(hit_column(r).as_str())).then(lit(r.label.as_str())).otherwise(lit(NULL))).collect(), "；")
}

fn text(c: &str) -> Expr {
    col(c).cast(DataType::String).fill_null(lit(""))
}

fn hard_exclude(plan: &Plan) -> Expr {
    any_of(plan.exclusions.iter().filter(|r| r.action == Some(Action::Exclude)))
}

/// Whether the household is already a monitoring object.
pub(super) fn monitored(plan: &Plan) -> Expr {
    plan.monitoring.as_ref().map_or(lit(false), |m| compile(&m.monitored).fill_null(lit(false)))
}

/// A figure as text: decimals with at least two places ("6320.00"), more only where they are
/// not zero; integers as they are.
fn number_text(e: &TExpr) -> Expr {
    let c = compile(e);
    match e.ty() {
        Ty::Dec(s) if s <= 2 => c.cast(dec_dtype(2)).cast(DataType::String),
        Ty::Dec(_) => money_places(c.cast(DataType::String)),
        _ => c.cast(DataType::String),
    }
    .fill_null(lit(""))
}

/// The household's figures, as flagged.csv and screened.csv both show them.
fn figures(plan: &Plan) -> Vec<Expr> {
    let rep = &plan.report;
    vec![
        number_text(&rep.size).alias(c::SIZE),
        number_text(&rep.net_income).alias(c::NET_INCOME),
        number_text(&rep.per_capita).alias(c::PER_CAPITA),
        number_text(&rep.line).alias(c::LINE),
    ]
}

/// Every screened household (see `Outcome::screened_plan`): a plan over the columns it reads.
pub(super) fn screened(plan: &Plan, frame: &DataFrame) -> Result<LazyFrame> {
    let key = plan.roster.key.as_str();
    let (elimination, stays) = match &plan.monitoring {
        Some(m) => (
            compile(&m.elimination).fill_null(lit(false)).and(col(LEAD).not()),
            m.stays_monitored.as_ref().map(|e| compile(e).fill_null(lit(false))).unwrap_or(lit(false)),
        ),
        None => (lit(false), lit(false)),
    };
    let mut columns = vec![text(c::TOWN), text(c::VILLAGE), text(key).alias(c::KEY), text(c::HEAD), text(c::KIND), text(c::STATUS)];
    columns.extend(figures(plan));
    columns.extend([
        col("__category").fill_null(lit("")).alias(c::CATEGORY),
        labels(&plan.triggers).alias(c::TRIGGERS),
        labels(&plan.exclusions).alias(c::EXCLUSIONS),
        col("__category"),
        hard_exclude(plan).alias("__excluded"),
        col("__monitored"),
        // The rules' own conditions and no lead category: `__stays` households are counted
        // here (their own trigger, 缺劳动力, would hide them otherwise); candidates also need no
        // trigger at all.
        elimination.clone().alias("__elimination_income"),
        elimination.and(any_of(&plan.triggers).not()).alias("__elimination"),
        stays.alias("__stays"),
    ]);
    // The plan holds only the columns it reads (the frame's others are released with it).
    let mut read: BTreeSet<String> = [c::TOWN, c::VILLAGE, key, c::HEAD, c::KIND, c::STATUS, "__category", "__monitored", LEAD].map(String::from).into();
    read.extend(plan.triggers.iter().chain(&plan.exclusions).map(hit_column));
    let mut aggregates = BTreeSet::new();
    let rep = &plan.report;
    let mut figures_read = vec![&rep.size, &rep.net_income, &rep.per_capita, &rep.line];
    if let Some(m) = &plan.monitoring {
        figures_read.push(&m.elimination);
        figures_read.extend(&m.stays_monitored);
    }
    for e in figures_read {
        e.columns_into(&mut read);
        e.aggregates_into(&mut aggregates);
    }
    read.extend(aggregates.into_iter().map(agg_column));
    let mut screened = frame.select(read)?.lazy().select(columns).sort(c::ORDER, SortMultipleOptions::default().with_maintain_order(true));
    same_columns(&screened.collect_schema()?.iter_names().map(|n| n.to_string()).collect::<Vec<_>>(), &c::SCREENED, "screened.csv")?;
    Ok(screened)
}

/// The visible columns of a table (those not starting with `__`) are the documented ones, in order.
fn same_columns(names: &[String], want: &[&str], table: &str) -> Result<()> {
    let visible: Vec<&str> = names.iter().map(String::as_str).filter(|n| !n.starts_with("__")).collect();
    if visible != want {
        anyhow::bail!("internal error: {table} would be written with the columns {visible:?}, not {want:?}");
    }
    Ok(())
}

/// Households and persons per township of each grade (a category that is not a lead).
pub(super) fn grades(plan: &Plan, frame: &DataFrame) -> Result<DataFrame> {
    let size = compile(&plan.report.size).cast(DataType::Int64);
    let is_grade = col("__category").is_not_null().and(col(LEAD).not());
    Ok(frame
        .clone()
        .lazy()
        .filter(is_grade)
        .group_by([col(c::TOWN).cast(DataType::String), col("__category")])
        .agg([len().cast(DataType::Int64).alias("户"), size.sum().alias("人")])
        .collect()?)
}

/// Writes the evidence columns for the households of a frame: the records' evidence and lists
/// joined from the groups, the household rules' and the categories' evidence written from the
/// household's own figures.
pub(super) struct Evidence<'a> {
    pub plan: &'a Plan,
    pub groups: &'a [DataFrame],
    /// The record lists, written here for these households only.
    pub lists: &'a [super::groups::PendingList],
}

impl Evidence<'_> {
    pub fn columns(&self, lf: LazyFrame) -> Result<LazyFrame> {
        let plan = self.plan;
        let mut lf = lf;
        let mut texts: Vec<DataFrame> = Vec::new();
        if !self.lists.is_empty() {
            let rows = lf.clone().select([col(HH_ROW)]).collect()?.column(HH_ROW)?.as_materialized_series().clone();
            for l in self.lists {
                texts.push(l.written(plan, &rows)?);
            }
        }
        for g in self.groups.iter().chain(&texts) {
            lf = lf.join(g.clone().lazy(), [col(HH_ROW)], [col(super::records::HH)], ordered_left());
        }
        let mut columns: Vec<Expr> =
            plan.triggers.iter().chain(&plan.exclusions).filter(|r| r.source.is_some()).map(|r| col(evidence_column(r).as_str()).fill_null(lit(""))).collect();
        columns.extend((0..plan.lists.len()).map(|i| col(list_column(i).as_str()).fill_null(lit(""))));
        if columns.is_empty() {
            return Ok(self.household_texts(lf));
        }
        Ok(self.household_texts(lf.with_columns(columns)))
    }

    /// The household rules' evidence and the category's reasons (they may read record lists).
    fn household_texts(&self, lf: LazyFrame) -> LazyFrame {
        let plan = self.plan;
        let mut columns: Vec<Expr> = plan
            .triggers
            .iter()
            .chain(&plan.exclusions)
            .filter(|r| r.source.is_none())
            .map(|r| when(col(hit_column(r).as_str())).then(template(&r.evidence)).otherwise(lit("")).alias(evidence_column(r).as_str()))
            .collect();
        columns.push(category_reason(&plan.categories).alias(REASON));
        lf.with_columns(columns)
    }
}

/// `【category】evidence；reason；reason` for the household's category (null without evidence).
fn category_reason(categories: &[Category]) -> Expr {
    let mut cases = Vec::new();
    for c in categories {
        let mut parts: Vec<Expr> = Vec::new();
        if !c.evidence.is_empty() {
            parts.push(template(&c.evidence));
        }
        for r in &c.reasons {
            parts.push(when(compile(&r.when).fill_null(lit(false))).then(template(&r.evidence)).otherwise(lit(NULL)));
        }
        if parts.is_empty() {
            continue;
        }
        let text = concat_str([lit(format!("【{}】", c.name)), concat_str(parts, "；", true)], "", false);
        cases.push((col("__category").eq(lit(c.name.as_str())).fill_null(lit(false)), text));
    }
    crate::frame::case(cases, lit(NULL).cast(DataType::String))
}

/// The listed households (flagged.csv's columns, sorted), and how many met a lead category but
/// were left out by an `exclude` exclusion.
pub(super) fn listed(plan: &Plan, frame: DataFrame, evidence: &Evidence) -> Result<(DataFrame, usize)> {
    let candidates = frame.lazy().filter(col(LEAD));
    let excluded = candidates.clone().filter(hard_exclude(plan)).select([len()]).collect()?;
    let excluded = excluded.column("len")?.get(0)?.extract::<u64>().unwrap_or(0) as usize;
    let risk_types = plan.risk_types();
    let listed = evidence.columns(candidates.filter(hard_exclude(plan).not()))?.with_columns(
        risk_types
            .iter()
            .map(|risk| any_of(plan.triggers.iter().filter(|t| t.risk.as_deref() == Some(risk))).alias(risk_column(risk).as_str()))
            .collect::<Vec<_>>(),
    );
    let risks = joined(risk_types.iter().map(|r| when(col(risk_column(r).as_str())).then(lit(r.as_str())).otherwise(lit(NULL))).collect(), "、");
    let mut evidence_parts: Vec<Expr> = vec![col(REASON)];
    evidence_parts.extend(plan.triggers.iter().chain(&plan.exclusions).map(|r| {
        when(col(hit_column(r).as_str())).then(concat_str([lit(format!("【{}】", r.label)), col(evidence_column(r).as_str())], "", false)).otherwise(lit(NULL))
    }));
    evidence_parts.push(applied_parameters(plan));
    let rep = &plan.report;
    let key = plan.roster.key.as_str();
    let mut columns = vec![text(c::TOWN), text(c::VILLAGE), text(key).alias(c::KEY), text(c::HEAD), text(c::HEAD_ID), text(c::KIND), text(c::STATUS)];
    columns.extend(figures(plan));
    columns.extend([
        col("__category").alias(c::CATEGORY),
        when(risks.clone().eq(lit(""))).then(lit(rep.no_trigger_risk.as_str())).otherwise(risks).alias(c::RISKS),
        when(any_of(plan.exclusions.iter().filter(|r| r.action == Some(Action::Review))))
            .then(lit(rep.review.as_str()))
            .otherwise(lit(rep.include.as_str()))
            .alias(c::ADVICE),
        labels(&plan.exclusions).alias(c::EXCLUSIONS),
        labels(&plan.triggers).alias(c::TRIGGERS),
        joined(evidence_parts, " ").alias(c::EVIDENCE),
        compile(&rep.size).cast(DataType::Int64).alias("__size"),
        col("__category"),
        col("__monitored"),
    ]);
    columns.extend(risk_types.iter().map(|r| col(risk_column(r).as_str())));
    let listed = listed.select(columns).sort(c::ORDER, SortMultipleOptions::default().with_maintain_order(true)).collect()?;
    same_columns(&listed.get_column_names().iter().map(|n| n.to_string()).collect::<Vec<_>>(), &c::FLAGGED, "flagged.csv")?;
    Ok((listed, excluded))
}

/// The 【适用参数】 part of 证据: each parameter value (with the date it took effect) that the
/// household's category or one of the rules that hit it read; parameters.csv and the manifest
/// give each value's reference.
fn applied_parameters(plan: &Plan) -> Expr {
    let mut pieces = Vec::new();
    for p in &plan.parameters {
        let mut used: Vec<Expr> =
            plan.categories.iter().filter(|c| c.params.contains(&p.name)).map(|c| col("__category").eq(lit(c.name.as_str())).fill_null(lit(false))).collect();
        used.extend(plan.triggers.iter().chain(&plan.exclusions).filter(|r| r.params.contains(&p.name)).map(|r| col(hit_column(r).as_str())));
        if let Some(any) = used.into_iter().reduce(|a, b| a.or(b)) {
            pieces.push(when(any).then(lit(format!("{}={}({}起)", p.name, p.shown(), p.from))).otherwise(lit(NULL)));
        }
    }
    if pieces.is_empty() {
        return lit(NULL).cast(DataType::String);
    }
    let all = concat_str(pieces, "；", true);
    when(all.clone().eq(lit(""))).then(lit(NULL)).otherwise(concat_str([lit("【适用参数】"), all], "", false))
}
