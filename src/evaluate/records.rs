//! Department records → the members they belong to: each source's records in its window, joined
//! to the roster's members (with the member's columns the rules read, `人.<column>`), split into
//! matched and unmatched; and per-person aggregates (one person's records summed, counted,
//! tested) set beside the records and members that read them.

use super::{agg_default, SourceStats};
use crate::frame::compile::{person_agg_column, value_lit};
use crate::households::{with_household_columns, Roster, CO_RESIDENT, HH_ROW, PERSON};
use crate::rules::plan::{member_column_in_records, Plan, Source, Value, Window, MEMBER_NAME, RELATIVE_RECORD};
use crate::sources::id::person_key;
use crate::sources::{self, read::FILE, read::LINE, TableData};
use anyhow::Result;
use polars::prelude::*;
use std::path::Path;

/// Record frames carry the household key and the member's key (`PERSON`) under these names.
pub(super) const HH: &str = "__hh";
pub(super) const MEMBER_ID: &str = "__member_id";
/// A record's person key, computed from the source's ID column.
const RECORD_PERSON: &str = "__record_person";
/// Key of the members "source" in aggregates and rules.
pub(super) const MEMBERS: &str = "members";

/// Whether the date column of `w` is inside its window.
pub(crate) fn within(w: &Window) -> Expr {
    let c = col(w.column.as_str());
    c.clone().gt_eq(value_lit(&Value::Date(w.start))).and(c.lt_eq(value_lit(&Value::Date(w.end))))
}

/// A source's records in the window, with each one's person key (`RECORD_PERSON`), and the
/// table (its valid rows released).
pub(super) struct InWindow {
    data: TableData,
    records: DataFrame,
}

/// A link source's pairs: the relative's person key (`RELATIVE_PERSON`) → the member's
/// (`RECORD_PERSON`).
pub(super) struct Links {
    pub source: String,
    pub pairs: DataFrame,
}

/// The relative's person key in a link source's records.
const RELATIVE_PERSON: &str = "__relative_person";

/// The relative → member pairs of every link source (read before the records are consumed).
pub(super) fn links(plan: &Plan, windows: &[InWindow]) -> Result<Vec<Links>> {
    let mut out = Vec::new();
    for (source, w) in plan.sources.iter().zip(windows) {
        let Some(relative) = &source.relative else { continue };
        let pairs = w
            .records
            .clone()
            .lazy()
            .select([person_key(col(relative.as_str())).alias(RELATIVE_PERSON), col(RECORD_PERSON)])
            .unique(None, UniqueKeepStrategy::Any)
            .collect()?;
        out.push(Links { source: source.table.name.clone(), pairs });
    }
    Ok(out)
}

/// Keeps the records of `data` in the window and reads each one's person key.
pub(super) fn in_window(source: &Source, mut data: TableData, dir: &Path) -> Result<InWindow> {
    if source.required && !data.present() {
        return Err(anyhow::anyhow!(
            "{} ({}): no file matches {} in {}, and the rules mark the source required",
            source.table.name,
            source.table.label,
            source.table.read.pattern,
            dir.display()
        )
        .context(sources::InputProblem::Missing));
    }
    let mut records = std::mem::take(&mut data.valid).lazy();
    if let Some(w) = &source.window {
        records = records.filter(within(w));
    }
    // Joined on the person's integer key (the IDs are valid and normalized).
    let records = records.with_column(person_key(col(source.id.as_str())).alias(RECORD_PERSON)).collect()?;
    Ok(InWindow { data, records })
}

/// The members' columns a record frame carries: the person, the household, the name,
/// co-residence, and the member columns the sources' rules read.
pub(super) fn member_keys(plan: &Plan, person: &str) -> Vec<Expr> {
    let mut out = vec![col(person).alias(MEMBER_ID), col(HH_ROW).alias(HH), col(plan.roster.member_name.as_str()).alias(MEMBER_NAME), col(CO_RESIDENT)];
    out.extend(plan.member_columns_for_sources().iter().map(|c| col(c.as_str()).alias(member_column_in_records(c).as_str())));
    out
}

/// The members named by any department's records (`member_keys`). Records are few next to the
/// roster: one scan of the members against the set of every extract's people, then each
/// source's join reads this part only, and never hashes or scans the whole roster.
pub(super) fn people_in_records(plan: &Plan, roster: &Roster, sources: &[InWindow]) -> Result<DataFrame> {
    let keys: Vec<LazyFrame> = sources.iter().map(|s| s.records.clone().lazy().select([col(RECORD_PERSON)])).collect();
    let ids = if keys.is_empty() {
        Series::new_empty(RECORD_PERSON.into(), &DataType::Int64)
    } else {
        concat(keys, UnionArgs::default())?.unique(None, UniqueKeepStrategy::Any).collect()?.column(RECORD_PERSON)?.as_materialized_series().clone()
    };
    Ok(roster.members.clone().lazy().filter(col(PERSON).is_in(lit(ids).implode(false), false)).select(member_keys(plan, PERSON)).collect()?)
}

/// A source's records joined to their members, ready for the rules: the records of
/// co-resident members (with the household columns the rules read), the statistics and the
/// unmatched records.
pub(super) struct SourceRecords {
    pub stats: SourceStats,
    pub records: LazyFrame,
    pub unmatched: DataFrame,
}

/// Joins a source's records in the window to the members they name (`people`: see
/// `people_in_records`), splits matched / unmatched, and returns the record frame of
/// co-resident members (with household columns) for the rules.
pub(super) fn source_records(plan: &Plan, roster: &Roster, source: &Source, window: InWindow, people: &DataFrame, links: &[Links]) -> Result<SourceRecords> {
    let InWindow { data, records } = window;
    let link = source.relatives.as_ref().and_then(|l| links.iter().find(|x| &x.source == l));
    let ids = records.column(RECORD_PERSON)?.as_materialized_series().unique()?;
    let people = match link {
        Some(_) => people.clone().lazy(),
        None => people.clone().lazy().filter(col(MEMBER_ID).is_in(lit(ids).implode(false), false)),
    };
    let joined =
        records.lazy().join(people.clone(), [col(RECORD_PERSON)], [col(MEMBER_ID)], JoinArgs::new(JoinType::Left).with_coalesce(JoinCoalesce::KeepColumns));
    let joined = match link {
        Some(link) => with_relatives(joined, people, &link.pairs)?,
        None => joined,
    };
    let joined = joined.drop(cols([RECORD_PERSON])).collect()?;
    let in_window = joined.height();
    let name_expr = match &source.name_column {
        Some(n) => col(n.as_str()).cast(DataType::String).fill_null(lit("")),
        None => lit(""),
    };
    let unmatched = joined
        .clone()
        .lazy()
        .filter(col(HH).is_null())
        .select([
            lit(source.table.name.as_str()).alias("来源"),
            col(FILE).alias("文件"),
            col(LINE).alias("行号"),
            col(source.id.as_str()).alias("证件号码"),
            name_expr.alias("姓名"),
        ])
        .collect()?;
    let used_frame = joined.lazy().filter(col(CO_RESIDENT).eq(lit(true))).collect()?;
    // The records live on in `used_frame`; the table keeps only what the manifest reports.
    let stats = SourceStats { in_window, used: used_frame.height(), unmatched: unmatched.height(), data };
    let records = with_household_columns(used_frame.lazy(), HH, &roster.households, &plan.household_columns_for(&source.table.name));
    Ok(SourceRecords { stats, records, unmatched })
}

/// A source's records joined to their members, where records of no member that belong to a
/// member's relative (by the link source's `pairs`) are joined to that member, marked
/// `亲属记录` (a relative linked to two members of one household counts once there).
fn with_relatives(joined: LazyFrame, people: LazyFrame, pairs: &DataFrame) -> Result<LazyFrame> {
    let own = joined.clone().filter(col(HH).is_not_null()).with_column(lit(false).alias(RELATIVE_RECORD));
    let orphans = joined.filter(col(HH).is_null());
    let record_columns: Vec<String> = orphans.clone().collect_schema()?.iter_names().map(|n| n.to_string()).collect();
    let person_columns: Vec<String> = people.clone().collect_schema()?.iter_names().map(|n| n.to_string()).collect();
    let bare: Vec<Expr> = record_columns.iter().filter(|c| !person_columns.contains(c)).map(|c| col(c.as_str())).collect();
    let orphans = orphans.select(bare);
    let by_link = orphans
        .clone()
        .join(
            pairs.clone().lazy().rename([RECORD_PERSON], ["__linked_member"], true),
            [col(RECORD_PERSON)],
            [col(RELATIVE_PERSON)],
            JoinArgs::new(JoinType::Inner),
        )
        .join(people, [col("__linked_member")], [col(MEMBER_ID)], JoinArgs::new(JoinType::Inner).with_coalesce(JoinCoalesce::KeepColumns))
        .drop(cols(["__linked_member"]))
        .unique_stable(Some(cols([FILE, LINE, HH])), UniqueKeepStrategy::First)
        .with_column(lit(true).alias(RELATIVE_RECORD));
    let linked: Series = pairs.column(RELATIVE_PERSON)?.as_materialized_series().clone();
    let still_orphans = orphans.filter(col(RECORD_PERSON).is_in(lit(linked).implode(false), false).not()).with_column(lit(false).alias(RELATIVE_RECORD));
    Ok(concat([own, by_link, still_orphans], UnionArgs { to_supertypes: true, diagonal: true, ..Default::default() })?)
}

/// The members frame as a record frame (co-resident members only).
pub(super) fn member_records(plan: &Plan, roster: &Roster) -> LazyFrame {
    let r = &plan.roster;
    let m = roster.members.clone().lazy().filter(col(CO_RESIDENT)).with_columns([
        col(HH_ROW).alias(HH),
        col(PERSON).alias(MEMBER_ID),
        col(r.member_name.as_str()).alias(MEMBER_NAME),
    ]);
    with_household_columns(m, HH, &roster.households, &plan.household_columns_for(MEMBERS))
}

/// Per-person aggregates of one source, keyed by `MEMBER_ID`: one row per person with records.
pub(super) struct PersonFigures {
    pub indexes: Vec<usize>,
    pub frame: DataFrame,
}

/// The per-person aggregates over `source`'s records (`None`: the rules have none).
pub(super) fn person_figures(plan: &Plan, source: &str, records: &LazyFrame) -> Result<Option<PersonFigures>> {
    let mut values = Vec::new();
    let mut aggs = Vec::new();
    let mut indexes = Vec::new();
    let mut monthly = Vec::new();
    for (i, a) in plan.person_aggregates.iter().enumerate().filter(|(_, a)| a.source == source) {
        indexes.push(i);
        if a.per_month.is_some() {
            monthly.push((a, person_agg_column(i)));
            continue;
        }
        let (value, agg) = super::groups::aggregate_parts(a, &format!("__pvalue.{i}"));
        values.extend(value);
        aggs.push(agg.alias(person_agg_column(i).as_str()));
    }
    if indexes.is_empty() {
        return Ok(None);
    }
    let with_values = if values.is_empty() { records.clone() } else { records.clone().with_columns(values) };
    let frame = if aggs.is_empty() { None } else { Some(with_values.group_by([col(MEMBER_ID)]).agg(aggs).collect()?) };
    let Some(frame) = super::groups::with_monthly(frame, records, MEMBER_ID, &monthly)? else { return Ok(None) };
    Ok(Some(PersonFigures { indexes, frame }))
}

/// Sets the per-person aggregates that `reader`'s expressions read beside its records (keyed by
/// `key`, the person), with the neutral value for a person without records.
pub(super) fn with_person_figures(plan: &Plan, reader: &str, records: LazyFrame, key: &str, figures: &[PersonFigures]) -> LazyFrame {
    let needed = plan.person_aggregates_read_by(reader);
    let mut records = records;
    let mut fills = Vec::new();
    for f in figures.iter().filter(|f| f.indexes.iter().any(|i| needed.contains(i))) {
        let names: Vec<Expr> = std::iter::once(col(MEMBER_ID).alias("__pkey")).chain(f.indexes.iter().map(|i| col(person_agg_column(*i).as_str()))).collect();
        records = records.join(f.frame.clone().lazy().select(names), [col(key)], [col("__pkey")], JoinArgs::new(JoinType::Left));
        for i in &f.indexes {
            let a = &plan.person_aggregates[*i];
            if let Some(d) = agg_default(a.kind, &a.ty) {
                fills.push(col(person_agg_column(*i).as_str()).fill_null(d));
            }
        }
    }
    if fills.is_empty() {
        records
    } else {
        records.with_columns(fills)
    }
}
