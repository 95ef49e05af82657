//! Record-level trace for `explain`: every record of a household's members (co-resident or
//! not, in the window or not), with whether each record rule of its source matched it and the
//! evidence it would write. Run on a roster already narrowed to one household, so it costs one
//! read of each source.

use super::{evidence_column, hit_column, within};
use crate::frame::compile::{compile, template};
use crate::households::{with_household_columns, Roster, CO_RESIDENT};
use crate::rules::plan::{Plan, Rule, Source, RELATIVE_RECORD};
use crate::sources::{self, read::FILE, read::LINE};
use anyhow::Result;
use polars::prelude::*;
use std::path::Path;

/// Whether the record's date is inside the income window (always true for a source without one).
pub const IN_WINDOW: &str = "__in_window";

pub struct SourceTrace<'p> {
    pub source: &'p Source,
    /// The source's rules (triggers and exclusions that test its records).
    pub rules: Vec<&'p Rule>,
    /// The records: declared columns, `__file`, `__line`, `成员姓名`, `__co_resident`,
    /// `__in_window`, and per rule `__hit.<id>` (matched, whether or not counted) and
    /// `__ev.<id>` (its evidence text).
    pub records: DataFrame,
}

pub fn sources<'p>(plan: &'p Plan, roster: &Roster, dir: &Path) -> Result<Vec<SourceTrace<'p>>> {
    let r = &plan.roster;
    let people = roster.members.clone().lazy().select(super::records::member_keys(plan, r.member_id.as_str()));
    // First every source's records with their members, then the per-person figures over the
    // records that count (co-resident, in the window), then each record's rules.
    let mut joined = Vec::new();
    let mut persons = Vec::new();
    for source in &plan.sources {
        let data = sources::load_table(&source.table, dir)?;
        let records = data.valid.lazy().join(
            people.clone(),
            [col(source.id.as_str())],
            [col(super::records::MEMBER_ID)],
            JoinArgs::new(JoinType::Inner).with_coalesce(JoinCoalesce::KeepColumns),
        );
        let in_window = source.window.as_ref().map_or(lit(true), within);
        // The members' own records (a relative's record, counted through a link source, is
        // not traced here).
        let records = with_household_columns(records, "__hh", &roster.households, &plan.household_columns_for(&source.table.name))
            .with_columns([in_window.alias(IN_WINDOW), lit(false).alias(RELATIVE_RECORD)])
            .collect()?
            .lazy();
        let counted = records.clone().filter(col(IN_WINDOW).and(col(CO_RESIDENT)));
        persons.extend(super::records::person_figures(plan, &source.table.name, &counted)?);
        joined.push((source, records));
    }
    let mut out = Vec::new();
    for (source, records) in joined {
        let records = super::records::with_person_figures(plan, &source.table.name, records, super::records::MEMBER_ID, &persons);
        let rules: Vec<&Rule> = plan.triggers.iter().chain(&plan.exclusions).filter(|x| x.source.as_deref() == Some(source.table.name.as_str())).collect();
        let mut columns = Vec::new();
        for rule in &rules {
            columns.push(compile(&rule.when).fill_null(lit(false)).alias(hit_column(rule).as_str()));
            columns.push(template(&rule.evidence).alias(evidence_column(rule).as_str()));
        }
        let records = if columns.is_empty() { records } else { records.with_columns(columns) };
        let records = records.sort([FILE, LINE], SortMultipleOptions::default().with_maintain_order(true)).collect()?;
        out.push(SourceTrace { source, rules, records });
    }
    Ok(out)
}
