//! Households: the roster (户表 + 人表) checked as a whole — duplicate 户编号, a person listed in
//! two households, members of an unknown household, households with no co-resident member —
//! and co-residence (是否共同生活) decided by the rules.

use crate::evaluate::compile::compile;
use crate::rules::plan::{household_column_in_records, Plan};
use crate::sources::{self, read::FILE, read::LINE, TableData};
use anyhow::Result;
use polars::prelude::*;
use std::path::Path;

/// Column of the members frame: is the member co-resident?
pub const CO_RESIDENT: &str = "__co_resident";

pub struct Roster {
    pub households_data: TableData,
    pub members_data: TableData,
    /// Valid households (declared columns, typed, plus `__line`).
    pub households: DataFrame,
    /// Valid members of valid households, with `CO_RESIDENT`.
    pub members: DataFrame,
    /// Rows of either file that cannot be used, in file order.
    pub rejects: DataFrame,
}

/// Joins each record to the household columns its rules read (`needed`), renamed
/// `户.<column>`. Records all belong to valid households already, so with nothing needed there
/// is no join at all.
pub fn with_household_columns(records: LazyFrame, record_key: &str, households: &DataFrame, plan: &Plan, needed: &[String]) -> LazyFrame {
    if needed.is_empty() {
        return records;
    }
    let key = plan.roster.key.as_str();
    let renamed: Vec<Expr> = needed
        .iter()
        .map(|c| col(c.as_str()).alias(household_column_in_records(c).as_str()))
        .chain(std::iter::once(col(key).alias("__hh_key")))
        .collect();
    let hh = households.clone().lazy().select(renamed);
    records.join(hh, [col(record_key)], [col("__hh_key")], JoinArgs::new(JoinType::Inner))
}

/// True when no value of `column` repeats.
fn all_distinct(df: &DataFrame, column: &str) -> Result<bool> {
    let n = df.clone().lazy().select([col(column).n_unique().alias("n")]).collect()?;
    Ok(n.column("n")?.get(0)?.extract::<u64>() == Some(df.height() as u64))
}

pub fn build(plan: &Plan, dir: &Path) -> Result<Roster> {
    let r = &plan.roster;
    for t in [&r.households, &r.members] {
        // Department extracts may be absent; the roster may not (an empty list would look like
        // a county with nobody to verify).
        if sources::read::resolve(dir, &t.read.pattern)?.is_empty() {
            return Err(anyhow::anyhow!("{} ({}) is missing from {}: the roster is required", t.file, t.label, dir.display())
                .context(sources::InputProblem::Missing));
        }
    }
    let households_data = sources::load_table(&r.households, dir)?;
    let members_data = sources::load_table(&r.members, dir)?;
    let key = r.key.as_str();
    let mut rejects = vec![households_data.rejects.clone().lazy(), members_data.rejects.clone().lazy()];

    // A 户编号 listed twice cannot be told apart: every row with it is rejected.
    // Most rosters list each household and each person once: one distinct count settles it,
    // and the windows that find the repeats run only when there are some.
    let households = if all_distinct(&households_data.valid, key)? {
        households_data.valid.clone()
    } else {
        let hh = households_data.valid.clone().lazy().with_column(len().over([col(key)])?.alias("__n")).collect()?;
        rejects.push(sources::reject_rows(
            &households_data,
            hh.clone().lazy().filter(col("__n").gt(lit(1))),
            key,
            concat_str([lit("户编号重复(户表中出现"), col("__n").cast(DataType::String), lit("次),无法确定哪一行有效")], "", false),
        ));
        hh.lazy().filter(col("__n").eq(lit(1))).drop(cols(["__n"])).collect()?
    };

    let mh = r.member_household.as_str();
    let mid = r.member_id.as_str();
    let members = if all_distinct(&members_data.valid, mid)? {
        members_data.valid.clone().lazy()
    } else {
        // Both windows partition by the ID, so polars groups the column once. `__first` is only
        // read where the person has one household, where it is the first row of that household.
        let members = members_data
            .valid
            .clone()
            .lazy()
            .with_columns([col(mh).n_unique().over([col(mid)])?.alias("__homes"), col(LINE).min().over([col(mid)])?.alias("__first")])
            .collect()?;
        // One person in two households: which is right is for the village to say, not a guess.
        // The households are named only for the (few) people listed twice.
        let twice = members.clone().lazy().filter(col("__homes").gt(lit(1))).with_column(
            col(mh).unique_stable().sort(SortOptions::default()).str().join("、", true).over([col(mid)])?.alias("__homes_list"),
        );
        rejects.push(sources::reject_rows(
            &members_data,
            twice,
            mid,
            concat_str([lit("同一人出现在多个户中(户编号 "), col("__homes_list"), lit(")")], "", false),
        ));
        rejects.push(sources::reject_rows(
            &members_data,
            members.clone().lazy().filter(col("__homes").eq(lit(1)).and(col(LINE).neq(col("__first")))),
            mid,
            concat_str([lit("同一户内重复的成员记录(首次出现在第"), col("__first").cast(DataType::String), lit("行)")], "", false),
        ));
        members.lazy().filter(col("__homes").eq(lit(1)).and(col(LINE).eq(col("__first")))).drop(cols(["__homes", "__first"]))
    };
    // Members of a household the roster does not hold (or rejected): a set of the household
    // keys, one scan of the members, and a copy only when some must go.
    let keys = households.column(key)?.as_materialized_series().clone();
    let members = members.with_column(col(mh).is_in(lit(keys).implode(false), false).fill_null(lit(false)).alias("__known")).collect()?;
    let members = if members.column("__known")?.bool()?.sum() == Some(members.height() as IdxSize) {
        members.drop("__known")?.lazy()
    } else {
        rejects.push(sources::reject_rows(
            &members_data,
            members.clone().lazy().filter(col("__known").not()),
            mh,
            lit("户编号在户表中不存在或该户已被拒收"),
        ));
        members.lazy().filter(col("__known")).drop(cols(["__known"]))
    };

    // Co-residence, decided by the rules' condition on each member with its household.
    let co = compile(&r.co_resident).fill_null(lit(false));
    let member_columns: Vec<Expr> =
        r.members.columns.iter().map(|c| col(c.name.as_str())).chain([col(LINE), col(FILE), col(CO_RESIDENT)]).collect();
    let needed: Vec<String> = {
        let mut used = std::collections::BTreeSet::new();
        r.co_resident.columns_into(&mut used);
        let prefix = household_column_in_records("");
        used.iter().filter_map(|c| c.strip_prefix(prefix.as_str()).map(str::to_string)).collect()
    };
    let members = with_household_columns(members, mh, &households, plan, &needed)
        .with_column(co.alias(CO_RESIDENT))
        .select(member_columns)
        .collect()?;

    // A household with no co-resident member has nobody to divide its income by.
    // Counted from the households' side, so that a household with no member rows at all is
    // caught too (it has nobody in the members table to be counted from).
    let counts = members.clone().lazy().group_by([col(mh).alias("__count_key")]).agg([len().cast(DataType::Int64).alias("__rows"), col(CO_RESIDENT).cast(DataType::Int64).sum().alias("__co")]);
    let hh_marked = households
        .lazy()
        .join(counts, [col(key)], [col("__count_key")], JoinArgs::new(JoinType::Left))
        .with_columns([col("__rows").fill_null(lit(0i64)), col("__co").fill_null(lit(0i64))])
        .with_column(col("__co").eq(lit(0i64)).alias("__empty"))
        .collect()?;
    let empties = hh_marked.column("__empty")?.bool()?.sum().unwrap_or(0);
    let (households, members) = if empties == 0 {
        (hh_marked.drop_many(["__empty", "__rows", "__co"]), members)
    } else {
        rejects.push(sources::reject_rows(
            &households_data,
            hh_marked.clone().lazy().filter(col("__empty")),
            key,
            when(col("__rows").eq(lit(0i64)))
                .then(lit("该户在人表中没有任何成员,无法计算人均收入"))
                .otherwise(lit("该户没有共同生活的成员(是否共同生活均为否),无法计算人均收入")),
        ));
        // Their members go with them: one count per household, joined back, not a second count.
        let empty_keys = hh_marked.clone().lazy().filter(col("__empty")).select([col(key).alias("__empty_key"), lit(true).alias("__in_empty")]);
        let members = members.lazy().join(empty_keys, [col(mh)], [col("__empty_key")], JoinArgs::new(JoinType::Left)).collect()?;
        rejects.push(sources::reject_rows(
            &members_data,
            members.clone().lazy().filter(col("__in_empty").is_not_null()),
            mh,
            lit("所属户没有共同生活的成员,整户拒收"),
        ));
        let households = hh_marked.lazy().filter(col("__empty").not()).drop(cols(["__empty", "__rows", "__co"])).collect()?;
        let members = members.lazy().filter(col("__in_empty").is_null()).drop(cols(["__in_empty"])).collect()?;
        (households, members)
    };
    let rejects = concat(rejects, UnionArgs::default())?
        .sort(["来源", "行号"], SortMultipleOptions::default().with_maintain_order(true))
        .collect()?;
    // The typed frames live on in `households` and `members`; the tables keep only what the
    // manifest reports (files, rows read, rejects), not a second copy of the roster.
    let (mut households_data, mut members_data) = (households_data, members_data);
    households_data.valid = DataFrame::empty();
    members_data.valid = DataFrame::empty();
    Ok(Roster { households_data, members_data, households, members, rejects })
}
