//! One source's records grouped by household: its aggregates, its record rules' hits, their
//! evidence and its record lists. Each record's values are computed first, over whole columns;
//! the grouping then only sums, counts, tests or joins ready columns.

use super::records::{HH, MEMBER_ID};
use super::{evidence_column, hit_column};
use crate::frame::compile::{agg_column, compile, list_column, template};
use crate::rules::plan::{AggKind, Aggregate, Plan, Rule};
use crate::sources::read::{FILE, LINE};
use anyhow::Result;
use polars::prelude::*;

/// A source's figures per household: the aggregates and rule hits (one row per household with
/// records, keyed by `HH`), and the evidence of its record rules and its record lists (one row
/// per household with a hit or a listed record; `None` without either).
pub(super) struct Grouped {
    pub figures: Option<DataFrame>,
    pub evidence: Vec<DataFrame>,
    pub lists: Vec<PendingList>,
}

/// A record list's records, kept until the listed households are known: only theirs are
/// ordered and written (the others are most of a province's records).
pub(super) struct PendingList {
    pub index: usize,
    pub records: DataFrame,
    /// The columns that order a household's records.
    pub order: Vec<String>,
}

impl PendingList {
    /// The list's text for the households of `rows` (their `HH_ROW`), keyed by `HH`.
    pub fn written(&self, plan: &Plan, rows: &Series) -> Result<DataFrame> {
        let name = list_column(self.index);
        let chosen = self.records.clone().lazy().filter(col(HH).is_in(lit(rows.clone()).implode(false), false));
        let ordered = chosen.sort(self.order.clone(), SortMultipleOptions::default().with_maintain_order(true));
        let texts = ordered.select([col(HH), template(&plan.lists[self.index].template).alias(name.as_str())]);
        Ok(texts.group_by([col(HH)]).agg([col(name.as_str()).str().join("；", true)]).collect()?)
    }
}

/// The per-record value of an aggregate (named `name`; `None` where the grouping needs none)
/// and the grouping expression over it.
pub(super) fn aggregate_parts(a: &Aggregate, name: &str) -> (Option<Expr>, Expr) {
    let filter = a.filter.as_ref().map(|f| compile(f).fill_null(lit(false)));
    let condition = || a.value.as_ref().map(|v| compile(v).fill_null(lit(false))).unwrap_or(lit(false));
    let v = col(name);
    let (value, agg) = match a.kind {
        AggKind::Count => match filter {
            Some(f) => (Some(f.cast(DataType::Int64)), v.sum()),
            None => (None, len().cast(DataType::Int64)),
        },
        AggKind::Any => (Some(condition()), v.any(false)),
        AggKind::All => (Some(condition()), v.all(false)),
        AggKind::Sum | AggKind::Max | AggKind::Min => {
            let x = a.value.as_ref().map(compile).unwrap_or(lit(NULL));
            // Null where the filter fails: sum, max and min skip nulls, as they would skip
            // the records filtered out (a household with none left sums to 0, has no max).
            let x = match filter {
                Some(f) => when(f).then(x).otherwise(lit(NULL)),
                None => x,
            };
            let agg = match a.kind {
                AggKind::Sum => v.sum(),
                AggKind::Max => v.max(),
                _ => v.min(),
            };
            (Some(x), agg)
        }
    };
    (value.map(|x| x.alias(name)), agg)
}

/// Aggregates over calendar months (`monthly_max`), each keyed by `key` (the household or the
/// person): its value per key and month, then the largest month's. The result has one row per
/// key with records, and a column per aggregate (named by `name`).
pub(super) fn with_monthly(figures: Option<DataFrame>, records: &LazyFrame, key: &str, monthly: &[(&Aggregate, String)]) -> Result<Option<DataFrame>> {
    if monthly.is_empty() {
        return Ok(figures);
    }
    let mut out = match figures {
        Some(f) => f.lazy(),
        None => records.clone().select([col(key)]).unique(None, UniqueKeepStrategy::Any),
    };
    for (a, name) in monthly {
        let (value, agg) = aggregate_parts(a, "__mvalue");
        let date = a.per_month.as_ref().map_or(lit(NULL).cast(DataType::Date), compile);
        let month = (date.clone().dt().year().cast(DataType::Int64) * lit(100i64) + date.dt().month().cast(DataType::Int64)).alias("__month");
        let mut lf = records.clone().with_column(month);
        if let Some(v) = value {
            lf = lf.with_column(v);
        }
        let per_month = lf.group_by([col(key), col("__month")]).agg([agg.alias(name.as_str())]);
        let largest = per_month.group_by([col(key)]).agg([col(name.as_str()).max()]).rename([key], ["__mkey"], true);
        out = out.join(largest, [col(key)], [col("__mkey")], JoinArgs::new(JoinType::Left));
    }
    Ok(Some(out.collect()?))
}

/// Where `records` come in household order (the members do, when members.csv lists the
/// households in the order households.csv does), marks `HH` sorted: polars then groups it by
/// cutting it into runs, with no hash table (the members at 1M households: 0.24 s to 0.05 s), and
/// the groups come out in household order.
fn mark_if_sorted_by_household(records: &mut DataFrame) -> Result<()> {
    let hh = records.column(HH)?.as_materialized_series();
    if hh.null_count() > 0 || !hh.is_sorted(SortOptions::default())? {
        return Ok(());
    }
    records.apply(HH, |c| {
        let mut c = c.clone();
        c.set_sorted_flag(polars::series::IsSorted::Ascending);
        c
    })?;
    Ok(())
}

/// Every aggregate, record rule and record list on one source. The evidence is written,
/// ordered and joined for the records that hit a rule (or that a list writes) only.
/// `order`: the record columns that order a household's records (and so its evidence), after
/// the household and the person: the record date first, then the content, so the order does not
/// depend on how a department split its files; file and line break the remaining ties. `None`
/// where the person alone decides (the roster lists each person once).
pub(super) fn grouped(plan: &Plan, source: &str, records: LazyFrame, order: Option<&[String]>) -> Result<Option<Grouped>> {
    let rules: Vec<&Rule> = plan.triggers.iter().chain(&plan.exclusions).filter(|r| r.source.as_deref() == Some(source)).collect();
    let lists: Vec<usize> = (0..plan.lists.len()).filter(|i| plan.lists[*i].source == source).collect();
    let mut values: Vec<Expr> = Vec::new();
    let mut aggs: Vec<Expr> = Vec::new();
    let mut monthly = Vec::new();
    for (i, a) in plan.aggregates.iter().enumerate().filter(|(_, a)| a.source == source) {
        if a.per_month.is_some() {
            monthly.push((a, agg_column(i)));
            continue;
        }
        let (value, agg) = aggregate_parts(a, &format!("__value.{i}"));
        values.extend(value);
        aggs.push(agg.alias(agg_column(i).as_str()));
    }
    for rule in &rules {
        let hit = hit_column(rule);
        values.push(compile(&rule.when).fill_null(lit(false)).alias(hit.as_str()));
        aggs.push(col(hit.as_str()).any(false).alias(hit.as_str()));
    }
    if aggs.is_empty() && lists.is_empty() && monthly.is_empty() {
        return Ok(None);
    }
    let mut records = if values.is_empty() { records } else { records.with_columns(values) }.collect()?;
    mark_if_sorted_by_household(&mut records)?;
    let figures = if aggs.is_empty() { None } else { Some(records.clone().lazy().group_by([col(HH)]).agg(aggs).collect()?) };
    let figures = with_monthly(figures, &records.clone().lazy(), HH, &monthly)?;
    // Only the evidence (records joined in order) depends on the order of a household's
    // records; counts, sums of decimals, any/all, max and min do not. So only the records that
    // hit a rule are sorted (at province scale the others are tens of millions).
    let keys: Vec<String> = match order {
        Some(order) => [HH.to_string(), MEMBER_ID.to_string()].into_iter().chain(order.iter().cloned()).chain([FILE.to_string(), LINE.to_string()]).collect(),
        None => Vec::new(),
    };
    let sorted = |lf: LazyFrame| if keys.is_empty() { lf } else { lf.sort(keys.clone(), SortMultipleOptions::default().with_maintain_order(true)) };
    let mut evidence = Vec::new();
    if let Some(any_hit) = rules.iter().map(|r| col(hit_column(r).as_str())).reduce(|a, b| a.or(b)) {
        let hits = sorted(records.clone().lazy().filter(any_hit));
        let texts: Vec<Expr> = rules
            .iter()
            .map(|r| when(col(hit_column(r).as_str())).then(template(&r.evidence)).otherwise(lit(NULL)).alias(evidence_column(r).as_str()))
            .collect();
        let joined: Vec<Expr> = rules.iter().map(|r| col(evidence_column(r).as_str()).str().join("；", true)).collect();
        evidence.push(hits.with_columns(texts).group_by([col(HH)]).agg(joined).collect()?);
    }
    let mut pending = Vec::new();
    for index in lists {
        let chosen = match &plan.lists[index].filter {
            Some(f) => records.clone().lazy().filter(compile(f).fill_null(lit(false))).collect()?,
            None => records.clone(),
        };
        let order = if keys.is_empty() { vec![HH.to_string(), MEMBER_ID.to_string()] } else { keys.clone() };
        pending.push(PendingList { index, records: chosen, order });
    }
    Ok(Some(Grouped { figures, evidence, lists: pending }))
}
