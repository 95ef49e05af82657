//! Evaluate: per-household aggregates of each source, triggers, exclusions and the category,
//! all as polars expressions over whole columns (one grouped pass per source).

mod groups;
mod output;
mod records;
pub mod trace;

use crate::frame::compile::{self, agg_column, case, compile, dec_dtype, hit_column_of};
use crate::households::{ordered_left, Roster, HH_ROW};
use crate::rules::plan::{AggKind, Plan, Rule, Ty};
use crate::sources::{self, Extracts, TableData};
use anyhow::Result;
use groups::{grouped, Grouped};
use polars::prelude::*;
use records::{MEMBERS, MEMBER_ID};
use std::path::Path;

pub(crate) use records::within;

/// Column of the listed and detail frames: why the household is in its category (its
/// evidence and the reasons that hold).
pub const REASON: &str = "__reason";

/// The unmatched table's columns.
pub const UNMATCHED_COLUMNS: [&str; 5] = ["来源", "文件", "行号", "证件号码", "姓名"];

pub struct SourceStats {
    pub data: TableData,
    pub in_window: usize,
    /// Records of a co-resident member (the ones rules see).
    pub used: usize,
    pub unmatched: usize,
}

pub struct Outcome {
    pub sources: Vec<SourceStats>,
    /// Screened households (every valid household), with figures and rule hits.
    pub screened: usize,
    /// Listed households: the flagged.csv columns (all text) plus `__size`, `__category`
    /// and one boolean `__risk.<type>` per risk type; sorted by 乡镇, 村, 户编号.
    pub listed: DataFrame,
    /// Households that met a category but were left out by an `exclude` exclusion.
    pub excluded: usize,
    /// Every screened household: the `SCREENED_COLUMNS` (text), then `__category` (null: none),
    /// `__excluded`, `__monitored`, `__elimination_income` (the rules' own risk-elimination
    /// conditions hold and no category), `__elimination` (that, and no trigger) and `__stays`
    /// (stays monitored anyway).
    /// Written as screened.csv; the next run's --previous reads it. A plan, collected by
    /// `screened_households` where it is needed: `screen` runs it on the thread that writes the
    /// CSV files, beside the one building report.xlsx, rather than before both start.
    pub screened_plan: LazyFrame,
    pub unmatched: DataFrame,
    /// For each trigger and exclusion: how many screened households it hit.
    pub coverage: Vec<(String, String, usize)>,
    /// With `keep_detail`: the whole household frame (every derived figure, aggregate, rule
    /// hit and evidence column), for `explain`.
    pub detail: Option<DataFrame>,
    /// Households and persons per township of each category that is a grade, not a lead
    /// (`乡镇`, `__category`, `户`, `人`).
    pub grades: DataFrame,
}

impl Outcome {
    /// Every screened household (see `screened_plan`), sorted by 乡镇, 村, 户编号.
    pub fn screened_households(&self) -> Result<DataFrame> {
        Ok(self.screened_plan.clone().collect()?)
    }
}

pub fn hit_column(rule: &Rule) -> String {
    hit_column_of(&rule.id)
}
pub fn evidence_column(rule: &Rule) -> String {
    format!("__ev.{}", rule.id)
}
pub fn risk_column(risk: &str) -> String {
    format!("__risk.{risk}")
}

/// Default of an aggregate for a household (or person) without records.
fn agg_default(kind: AggKind, ty: &Ty) -> Option<Expr> {
    match kind {
        AggKind::Count => Some(lit(0i64)),
        AggKind::Any => Some(lit(false)),
        AggKind::All => Some(lit(true)),
        AggKind::Sum => Some(match ty {
            Ty::Int => lit(0i64),
            t => compile::dec_lit(rust_decimal::Decimal::ZERO).cast(dec_dtype(t.scale())),
        }),
        AggKind::Max | AggKind::Min => None,
    }
}

/// Whether `figures` has a row for each household, in the households' order.
fn same_rows(figures: &DataFrame, households: &DataFrame) -> Result<bool> {
    if figures.height() != households.height() {
        return Ok(false);
    }
    let (hh, rows) = (figures.column(records::HH)?.as_materialized_series(), households.column(HH_ROW)?.as_materialized_series());
    Ok(hh.dtype() == rows.dtype() && hh.equal_missing(rows)?.all())
}

/// The columns that order a source's records within a person (its evidence and lists): the
/// window's date first, then the content.
fn record_order(source: &crate::rules::plan::Source) -> Vec<String> {
    let window = source.window.as_ref().map(|w| w.column.clone());
    window.iter().cloned().chain(source.table.columns.iter().map(|c| c.name.clone()).filter(|c| Some(c) != window.as_ref() && *c != source.id)).collect()
}

/// What the sources gave: each one's figures and evidence per household, its statistics and
/// unmatched records, and the per-person aggregates (read by the members' rules).
struct FromSources {
    groups: Vec<Grouped>,
    stats: Vec<SourceStats>,
    unmatched: Vec<LazyFrame>,
    persons: Vec<records::PersonFigures>,
}

/// Every source: records in the window, joined to their members, grouped by household. Where
/// the rules total a person's records (per-person aggregates), every source's records are
/// joined first and their per-person figures set beside the records that read them; otherwise
/// each source is grouped as soon as it is joined, so that only one source's records are held.
fn from_sources(plan: &Plan, roster: &Roster, extracts: Extracts, dir: &Path, progress: &mut impl FnMut(&str, &str)) -> Result<FromSources> {
    progress("sources: extracts received, records in the window, the members they name", "部门数据");
    let windows: Vec<records::InWindow> =
        plan.sources.iter().map(|source| records::in_window(source, extracts.next(&source.table)?, dir)).collect::<Result<_>>()?;
    let people = records::people_in_records(plan, roster, &windows)?;
    let links = records::links(plan, &windows)?;
    let two_pass = !plan.person_aggregates.is_empty();
    let mut out = FromSources { groups: Vec::new(), stats: Vec::new(), unmatched: Vec::new(), persons: Vec::new() };
    let mut joined = Vec::new();
    for (source, window) in plan.sources.iter().zip(windows) {
        progress(&format!("source {}: join to members, aggregate", source.table.label), &format!("筛查 {}", source.table.label));
        let r = records::source_records(plan, roster, source, window, &people, &links)?;
        out.stats.push(r.stats);
        out.unmatched.push(r.unmatched.lazy());
        if two_pass {
            // Materialized once: the person figures and the grouped pass both read it.
            let records = r.records.collect()?.lazy();
            out.persons.extend(records::person_figures(plan, &source.table.name, &records)?);
            joined.push((source, records));
        } else {
            out.groups.extend(grouped(plan, &source.table.name, r.records, Some(&record_order(source)))?);
        }
    }
    for (source, records) in joined {
        let records = records::with_person_figures(plan, &source.table.name, records, MEMBER_ID, &out.persons);
        out.groups.extend(grouped(plan, &source.table.name, records, Some(&record_order(source)))?);
    }
    Ok(out)
}

/// The households' frame: every household row with each group's figures beside it (the
/// evidence set apart: only listed households and `explain` need it), the neutral value of
/// each aggregate where a household has no records, then the derived figures, the household
/// rules and the category.
fn household_frame(plan: &Plan, roster: &Roster, groups: Vec<Grouped>) -> Result<(LazyFrame, Vec<DataFrame>, Vec<groups::PendingList>)> {
    // Each group is joined to the household rows on its own, and the results set side by side:
    // a chain of joins would carry every earlier group's columns through every later join.
    let rows = roster.households.clone().lazy().select([col(HH_ROW)]);
    let mut evidence_groups: Vec<DataFrame> = Vec::new();
    let mut lists = Vec::new();
    let mut frame = roster.households.clone();
    for g in groups {
        evidence_groups.extend(g.evidence);
        lists.extend(g.lists);
        let Some(figures) = g.figures else { continue };
        let part = if same_rows(&figures, &roster.households)? {
            // One row per household already, in the households' order (the members' figures,
            // grouped in household order): set beside them as they are.
            figures.drop(records::HH)?
        } else {
            rows.clone().join(figures.lazy(), [col(HH_ROW)], [col(records::HH)], ordered_left()).drop(cols([HH_ROW])).collect()?
        };
        if part.height() != frame.height() {
            anyhow::bail!("internal error: {} households but {} aggregate rows", frame.height(), part.height());
        }
        frame.hstack_mut(part.columns())?;
    }
    let mut fills = Vec::new();
    for (i, a) in plan.aggregates.iter().enumerate() {
        if let Some(d) = agg_default(a.kind, &a.ty) {
            fills.push(col(agg_column(i).as_str()).fill_null(d));
        }
    }
    for rule in plan.triggers.iter().chain(&plan.exclusions).filter(|r| r.source.is_some()) {
        fills.push(col(hit_column(rule).as_str()).fill_null(lit(false)));
    }
    let mut frame = frame.lazy();
    if !fills.is_empty() {
        frame = frame.with_columns(fills);
    }
    for d in &plan.derived {
        frame = frame.with_column(compile(&d.expr).alias(d.name.as_str()));
    }
    for rule in plan.triggers.iter().chain(&plan.exclusions).filter(|r| r.source.is_none()) {
        frame = frame.with_column(compile(&rule.when).fill_null(lit(false)).alias(hit_column(rule).as_str()));
    }
    let category = case(plan.categories.iter().map(|c| (compile(&c.when).fill_null(lit(false)), lit(c.name.as_str()))).collect(), lit(NULL));
    let leads: Vec<&str> = plan.categories.iter().filter(|c| c.lead).map(|c| c.name.as_str()).collect();
    let frame = frame.with_column(category.cast(DataType::String).alias("__category"));
    let lead = col("__category").is_in(lit(Series::new("leads".into(), leads)).implode(false), false).fill_null(lit(false));
    Ok((frame.with_column(lead.alias(output::LEAD)), evidence_groups, lists))
}

/// For each trigger and exclusion: how many screened households it hit.
fn coverage(plan: &Plan, frame: &DataFrame) -> Result<Vec<(String, String, usize)>> {
    let rules: Vec<&Rule> = plan.triggers.iter().chain(&plan.exclusions).collect();
    if rules.is_empty() {
        return Ok(Vec::new());
    }
    let counts = frame.clone().lazy().select(rules.iter().map(|r| col(hit_column(r).as_str()).cast(DataType::Int64).sum()).collect::<Vec<_>>()).collect()?;
    let mut out = Vec::new();
    for (r, c) in rules.iter().zip(counts.columns()) {
        let n = c.get(0)?.extract::<i64>().unwrap_or(0);
        out.push((r.id.clone(), r.label.clone(), usize::try_from(n).unwrap_or(0)));
    }
    Ok(out)
}

/// Screens every household of `roster`. Without `keep_detail` (a screening, not `explain`), the
/// members frame is emptied once the records are grouped: at province scale it is gigabytes
/// that nothing after this point reads.
pub fn run(plan: &Plan, roster: &mut Roster, extracts: Extracts, dir: &Path, keep_detail: bool, mut progress: impl FnMut(&str, &str)) -> Result<Outcome> {
    let mut from = from_sources(plan, roster, extracts, dir, &mut progress)?;
    progress("members: aggregates and rules over the members", "成员");
    // A person is one row of the roster (the roster checks made sure), so the household and
    // the ID order the members completely; sorting by every column besides would only cost
    // time and keep every column of the roster alive through the sort.
    let members = records::with_person_figures(plan, MEMBERS, records::member_records(plan, roster), MEMBER_ID, &from.persons);
    from.groups.extend(grouped(plan, MEMBERS, members, None)?);
    drop(from.persons);
    if !keep_detail {
        roster.members = DataFrame::empty();
    }
    progress("households: derived figures, household rules, category, exclusions, output columns", "汇总");
    let (frame, evidence_groups, lists) = household_frame(plan, roster, from.groups)?;
    let frame = frame.with_column(output::monitored(plan).alias("__monitored")).collect()?;
    let screened = frame.height();
    let coverage = coverage(plan, &frame)?;
    let evidence = output::Evidence { plan, groups: &evidence_groups, lists: &lists };
    let detail = if keep_detail { Some(evidence.columns(frame.clone().lazy())?.collect()?) } else { None };
    let grades = output::grades(plan, &frame)?;
    let screened_plan = output::screened(plan, &frame)?;
    let (listed, excluded) = output::listed(plan, frame, &evidence)?;
    let unmatched = if from.unmatched.is_empty() { empty_unmatched() } else { concat(from.unmatched, UnionArgs::default())?.collect()? };
    Ok(Outcome { sources: from.stats, screened, listed, excluded, screened_plan, unmatched, coverage, detail, grades })
}

fn empty_unmatched() -> DataFrame {
    sources::empty_listing(&UNMATCHED_COLUMNS)
}
