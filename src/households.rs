//! Households: the roster (户表 + 人表) checked as a whole — duplicate 户编号, a person listed in
//! two households, members of an unknown household, households with no co-resident member —
//! and co-residence (是否共同生活) decided by the rules.

use crate::frame::compile::compile;
use crate::rules::plan::{household_column_in_records, Plan};
use crate::sources::{self, read::FILE, read::LINE, TableData};
use anyhow::Result;
use polars::prelude::*;
use std::path::Path;

/// Column of the members frame: is the member co-resident?
pub const CO_RESIDENT: &str = "__co_resident";
/// Column of the households and members frames: the household's row in the roster, its key in
/// every join and grouping after the roster checks (an integer hashes faster than a 户编号).
pub const HH_ROW: &str = "__hh_row";
/// Column of the members frame: the person's integer key (`sources::id::person_key` of the ID).
pub const PERSON: &str = "__person";

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
/// `户.<column>`; `record_key` holds the household's `HH_ROW`. Records all belong to valid
/// households already, so with nothing needed there is no join at all.
pub fn with_household_columns(records: LazyFrame, record_key: &str, households: &DataFrame, needed: &[String]) -> LazyFrame {
    if needed.is_empty() {
        return records;
    }
    let renamed: Vec<Expr> =
        needed.iter().map(|c| col(c.as_str()).alias(household_column_in_records(c).as_str())).chain(std::iter::once(col(HH_ROW).alias("__hh_key"))).collect();
    let hh = households.clone().lazy().select(renamed);
    records.join(hh, [col(record_key)], [col("__hh_key")], JoinArgs::new(JoinType::Inner))
}

/// A left join that keeps the left frame's row order.
pub fn ordered_left() -> JoinArgs {
    JoinArgs { maintain_order: MaintainOrderJoin::Left, ..JoinArgs::new(JoinType::Left) }
}

/// A row's position in the members frame, while the people listed twice are checked.
const ROW: &str = "__member_row";

/// Column of the members frame during the roster checks: the row is dropped (rejected by a
/// check before). Rows are only marked as the checks go, and dropped at the end in one pass:
/// a roster with a few conflicts is not copied once per check.
const GONE: &str = "__gone";

/// Column of the households frame during the roster checks: the household is rejected (its
/// 户编号 is repeated, or it has no co-resident member). Its rows are marked as the checks go
/// and dropped once, at the end: a roster with both kinds is copied once, not twice.
const HH_GONE: &str = "__hh_gone";

/// The households' 户编号 as a number, while the roster checks compare them (see `digits_length`).
const KEY_NUMBER: &str = "__key_number";

/// The length of the households' 户编号 when every one is a number of that many digits, at
/// most 19, without a leading zero (the national system's are 16): two such texts are equal
/// exactly when their numbers are, so joins and distinct counts can hash an integer.
fn digits_length(households: &DataFrame, key: &str) -> Result<Option<u32>> {
    let keys = households.column(key)?.str()?;
    // `ChunkedArray::get` panics out of bounds: a roster with no household left has no first key
    let Some(first) = (!keys.is_empty()).then(|| keys.get(0)).flatten() else { return Ok(None) };
    let n = first.len() as u32;
    if !(1..=19).contains(&n) {
        return Ok(None);
    }
    let nulls = households.clone().lazy().select([digits_key(col(key), n).null_count().alias("n")]).collect()?;
    Ok((nulls.column("n")?.get(0)?.extract::<u64>() == Some(0)).then_some(n))
}

/// `key` as an unsigned number where it is `digits` bytes that read as a number of `digits`
/// digits (at least 10^(digits-1)): a sign, a space or any other character would leave fewer
/// digits, a leading zero a smaller number. Null otherwise.
fn digits_key(key: Expr, digits: u32) -> Expr {
    let number = key.clone().cast(DataType::UInt64);
    when(key.str().len_bytes().eq(lit(digits)).and(number.clone().gt_eq(lit(10u64.pow(digits - 1))))).then(number).otherwise(lit(NULL).cast(DataType::UInt64))
}

/// True when no value of `column` repeats.
/// The values of `column` that occur more than once, with their counts (`__n`). The column is
/// sorted once (on integer keys, much cheaper than a group-by with a group per value, which
/// holds the rows of each of millions of groups); a value occurs k times where k - 1 of its
/// rows are followed by the same value, and only those few rows are grouped.
fn repeated_values(df: &DataFrame, column: &str) -> Result<DataFrame> {
    let sorted = df.clone().lazy().select([col(column).sort(SortOptions::default().with_multithreaded(true))]).collect()?;
    let next_same = col(column).eq(col(column).shift(lit(-1))).fill_null(lit(false));
    Ok(sorted.lazy().filter(next_same).group_by([col(column)]).agg([(len() + lit(1u32)).alias("__n")]).collect()?)
}

fn all_distinct(df: &DataFrame, column: &str) -> Result<bool> {
    let n = df.clone().lazy().select([col(column).n_unique().alias("n")]).collect()?;
    Ok(n.column("n")?.get(0)?.extract::<u64>() == Some(df.height() as u64))
}

/// Which member columns the roster keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Keep {
    /// Every declared column (`explain` shows them all).
    All,
    /// Only what a screening reads after the roster checks (see `Roster::narrow_members`):
    /// at province scale the others (relation, sex, health, birth date) are gigabytes.
    Screening,
}

/// Reads and checks the roster. `done` is called with the name of each stage as it ends (the
/// manifest's stage timings).
pub fn build(plan: &Plan, dir: &Path, keep: Keep, mut done: impl FnMut(&str)) -> Result<Roster> {
    let r = &plan.roster;
    require_files(plan, dir)?;
    let (mut households_data, mut members_data) = read_both(plan, dir, keep)?;
    done("roster: households and members read, validated (at once)");
    // The typed frames move out: the tables keep only what the manifest reports (files, rows
    // read, rejects), never a second copy of the roster.
    let households_valid = std::mem::take(&mut households_data.valid);
    let members_valid = with_person_key(std::mem::take(&mut members_data.valid), &r.member_id)?;
    let mut checks = Checks { plan, households_data: &households_data, members_data: &members_data, rejects: Vec::new() };
    checks.rejects = vec![households_data.rejects.clone().lazy(), members_data.rejects.clone().lazy()];
    let digits = digits_length(&households_valid, &r.key)?;
    let households = checks.distinct_households(households_valid, digits)?;
    let members = checks.one_home_per_person(members_valid)?;
    let (households, members) = checks.household_rows(households, members, digits)?;
    let members = co_residence(plan, members, &households)?;
    let (households, members) = checks.households_with_co_residents(households, members)?;
    let rejects = concat(checks.rejects, UnionArgs::default())?.sort(["来源", "行号"], SortMultipleOptions::default().with_maintain_order(true)).collect()?;
    // A screening keeps only the member columns it reads (see `screening_kept`); the rows
    // dropped by the checks go in one pass over those columns.
    let members = match keep {
        Keep::All => members,
        // The frame of every column is dropped here, not when `build` returns: at province
        // scale its ID and 户编号 texts are gigabytes, which the copy below would add to.
        Keep::Screening => {
            let all = members;
            all.select(screening_kept(plan).into_iter().chain([GONE.to_string()]))?
        }
    };
    let members = without_gone(members)?;
    Ok(Roster { households_data, members_data, households, members, rejects })
}

/// Department extracts may be absent; the roster may not (an empty list would look like a
/// county with nobody to verify).
fn require_files(plan: &Plan, dir: &Path) -> Result<()> {
    let r = &plan.roster;
    for t in [&r.households, &r.members] {
        let files = sources::read::resolve_table(t, dir).map_err(|e| e.context(sources::InputProblem::Unreadable))?;
        if files.is_empty() {
            return Err(
                anyhow::anyhow!("{} ({}) is missing from {}: the roster is required", t.file, t.label, dir.display()).context(sources::InputProblem::Missing)
            );
        }
    }
    Ok(())
}

/// Reads and validates the two files at once: each read has a serial part (polars finds the
/// line ends of a file on one thread), and the other file's parsing fills the core it leaves
/// idle. A screening keeps only the member columns it reads.
fn read_both(plan: &Plan, dir: &Path, keep: Keep) -> Result<(TableData, TableData)> {
    let r = &plan.roster;
    let members_columns = match keep {
        Keep::All => None,
        Keep::Screening => {
            // The roster checks read the household, the person and co-residence.
            let mut used = std::collections::BTreeSet::new();
            r.co_resident.columns_into(&mut used);
            let mut columns = screening_member_columns(plan);
            // The ID is shown in the rejects of people listed twice.
            columns.extend([r.member_household.clone(), r.member_id.clone()]);
            columns.extend(used.into_iter().filter(|c| r.members.column(c).is_some()));
            Some(columns)
        }
    };
    let (households, members) = std::thread::scope(|scope| {
        let households = scope.spawn(|| sources::load_table(&r.households, dir));
        let members = sources::load_table_keeping(&r.members, dir, members_columns.as_deref());
        (households.join().unwrap_or_else(|_| Err(anyhow::anyhow!("reading {} failed", r.households.file))), members)
    });
    Ok((households?, members?))
}

/// Each member's person key (`PERSON`, the ID's body as an integer).
fn with_person_key(mut members: DataFrame, id: &str) -> Result<DataFrame> {
    let person = members.clone().lazy().select([crate::sources::id::person_key(col(id)).alias(PERSON)]).collect()?;
    members.with_column(person.column(PERSON)?.clone())?;
    Ok(members)
}

/// The roster checks, collecting the rows they reject.
struct Checks<'a> {
    plan: &'a Plan,
    households_data: &'a TableData,
    members_data: &'a TableData,
    rejects: Vec<LazyFrame>,
}

impl Checks<'_> {
    /// Collects rejected rows at once (they are few): a lazy frame kept until the end would
    /// keep the whole frame it reads from alive beside the checked copy.
    fn reject(&mut self, rows: LazyFrame) -> Result<()> {
        self.rejects.push(rows.collect()?.lazy());
        Ok(())
    }

    /// The 户编号 as compared: as numbers where the roster's are all numbers of one length.
    fn key_compared(&self, digits: Option<u32>) -> &str {
        if digits.is_some() {
            KEY_NUMBER
        } else {
            self.plan.roster.key.as_str()
        }
    }

    /// A 户编号 listed twice cannot be told apart: every row with it is rejected. Most rosters
    /// list each household once: one distinct count settles it, and the count per key that
    /// finds the repeats runs only when there are some.
    fn distinct_households(&mut self, households: DataFrame, digits: Option<u32>) -> Result<DataFrame> {
        let key = self.plan.roster.key.as_str();
        let households = match digits {
            Some(n) => households.lazy().with_column(digits_key(col(key), n).alias(KEY_NUMBER)).collect()?,
            None => households,
        };
        let compared = self.key_compared(digits);
        if all_distinct(&households, compared)? {
            let mut households = households;
            households.with_column(Column::new_scalar(HH_GONE.into(), Scalar::from(false), households.height()))?;
            return Ok(households);
        }
        // The repeated keys are few: found from the sorted keys (no window over every
        // household), then the rows holding them are marked.
        let repeated = repeated_values(&households, compared)?;
        let counts = repeated.clone().lazy().select([col(compared).alias("__rep_key"), col("__n")]);
        let marked = households
            .lazy()
            .with_column(col(compared).is_in(lit(repeated.column(compared)?.as_materialized_series().clone()).implode(false), false).alias(HH_GONE))
            .collect()?;
        let hh = marked.clone().lazy().filter(col(HH_GONE)).join(counts, [col(compared)], [col("__rep_key")], ordered_left());
        self.reject(sources::reject_rows(
            self.households_data,
            hh,
            key,
            concat_str([lit("户编号重复(户表中出现"), col("__n").cast(DataType::String), lit("次),无法确定哪一行有效")], "", false),
        ))?;
        // Marked only: they are dropped with the households of the last check.
        Ok(marked)
    }

    /// One person in two households: which is right is for the village to say, not a guess;
    /// a person listed twice in one household keeps the first row.
    fn one_home_per_person(&mut self, mut members: DataFrame) -> Result<DataFrame> {
        if all_distinct(&members, PERSON)? {
            members.with_column(Column::new_scalar(GONE.into(), Scalar::from(false), members.height()))?;
            return Ok(members);
        }
        let r = &self.plan.roster;
        let (mh, mid) = (r.member_household.as_str(), r.member_id.as_str());
        // The people listed more than once are a handful: the windows below run on their rows
        // only, and the rows dropped are marked by their position.
        let members = members.with_row_index(ROW.into(), None)?;
        let repeated = repeated_values(&members, PERSON)?.column(PERSON)?.as_materialized_series().clone();
        // Both windows partition by the ID, so polars groups the column once. `__first` is only
        // read where the person has one household, where it is the first row of that household.
        let rows = members
            .clone()
            .lazy()
            .filter(col(PERSON).is_in(lit(repeated).implode(false), false))
            .with_columns([col(mh).n_unique().over([col(PERSON)])?.alias("__homes"), col(LINE).min().over([col(PERSON)])?.alias("__first")])
            .collect()?;
        // The households are named only for the (few) people listed twice.
        let twice = rows
            .clone()
            .lazy()
            .filter(col("__homes").gt(lit(1)))
            .with_column(col(mh).unique_stable().sort(SortOptions::default()).str().join("、", true).over([col(PERSON)])?.alias("__homes_list"));
        self.reject(sources::reject_rows(
            self.members_data,
            twice,
            mid,
            concat_str([lit("同一人出现在多个户中(户编号 "), col("__homes_list"), lit(")")], "", false),
        ))?;
        self.reject(sources::reject_rows(
            self.members_data,
            rows.clone().lazy().filter(col("__homes").eq(lit(1)).and(col(LINE).neq(col("__first")))),
            mid,
            concat_str([lit("同一户内重复的成员记录(首次出现在第"), col("__first").cast(DataType::String), lit("行)")], "", false),
        ))?;
        let kept = col("__homes").eq(lit(1)).and(col(LINE).eq(col("__first")));
        let dropped = rows.lazy().filter(kept.not()).select([col(ROW)]).collect()?.column(ROW)?.as_materialized_series().clone();
        Ok(members.lazy().with_column(col(ROW).is_in(lit(dropped).implode(false), false).alias(GONE)).drop(cols([ROW])).collect()?)
    }

    /// Each household's row in the roster becomes its integer key (`HH_ROW`): the joins and
    /// groupings that follow hash a number, not a 户编号 string. Each member gets it from one
    /// join of the key column alone; a member of a household the roster does not hold (or
    /// rejected) gets none, and its rows are copied out only when there are some (and marked
    /// `GONE`). A member's 户编号 that is not a number of the roster's length matches no
    /// household.
    fn household_rows(&mut self, households: DataFrame, mut members: DataFrame, digits: Option<u32>) -> Result<(DataFrame, DataFrame)> {
        let mh = self.plan.roster.member_household.as_str();
        let households = households.with_row_index(HH_ROW.into(), None)?;
        // The households rejected already (repeated 户编号) match no member.
        let index = households.clone().lazy().filter(col(HH_GONE).not()).select([col(self.key_compared(digits)).alias("__index_key"), col(HH_ROW)]);
        let households = if digits.is_some() { households.drop(KEY_NUMBER)? } else { households };
        let member_key = match digits {
            Some(n) => digits_key(col(mh), n),
            None => col(mh),
        };
        let rows = members
            .clone()
            .lazy()
            .select([member_key.alias("__member_key")])
            .join(index, [col("__member_key")], [col("__index_key")], ordered_left())
            .select([col(HH_ROW)])
            .collect()?;
        if rows.height() != members.height() {
            anyhow::bail!("internal error: {} members but {} household rows found for them", members.height(), rows.height());
        }
        members.with_column(rows.column(HH_ROW)?.clone())?;
        if members.column(HH_ROW)?.null_count() == 0 {
            return Ok((households, members));
        }
        self.reject(sources::reject_rows(
            self.members_data,
            members.clone().lazy().filter(col(HH_ROW).is_null().and(col(GONE).not())),
            mh,
            lit("户编号在户表中不存在或该户已被拒收"),
        ))?;
        Ok((households, members.lazy().with_column(col(GONE).or(col(HH_ROW).is_null()).alias(GONE)).collect()?))
    }

    /// A household with no co-resident member has nobody to divide its income by. Every
    /// member's `HH_ROW` is a household's: when the co-resident members' rows are as many
    /// distinct values as there are households, every household has one (the usual case, one
    /// distinct count). Otherwise they are found from the households' side, so that a household
    /// with no member rows at all is caught too; the rows are counted only for the households
    /// found, to say which of the two it is.
    /// The members of the households rejected are marked `GONE`; the households rejected by
    /// this check and the ones before it (`HH_GONE`) are dropped.
    fn households_with_co_residents(&mut self, households: DataFrame, members: DataFrame) -> Result<(DataFrame, DataFrame)> {
        let here = || col(GONE).not();
        let homes = members.clone().lazy().filter(col(CO_RESIDENT).and(here())).select([col(HH_ROW).n_unique().alias("n")]).collect()?;
        let rejected = households.column(HH_GONE)?.as_materialized_series().bool()?.sum().unwrap_or(0) as usize;
        if homes.column("n")?.get(0)?.extract::<u64>() == Some((households.height() - rejected) as u64) {
            return Ok((crate::frame::rows::drop_marked(households, HH_GONE)?, members));
        }
        let (key, mh) = (self.plan.roster.key.as_str(), self.plan.roster.member_household.as_str());
        // Each household with a co-resident member once (sorted, so that the distinct values
        // are one linear pass; the membership test below then hashes one value per household,
        // not one per member).
        let co_homes = members
            .clone()
            .lazy()
            .filter(col(CO_RESIDENT).and(here()))
            .select([col(HH_ROW).sort(SortOptions::default().with_multithreaded(true)).unique()])
            .collect()?
            .column(HH_ROW)?
            .as_materialized_series()
            .clone();
        let no_co_resident = col(HH_ROW).is_in(lit(co_homes).implode(false), false).fill_null(lit(false)).not();
        let hh_marked = households.lazy().with_column(no_co_resident.and(col(HH_GONE).not()).alias("__empty")).collect()?;
        let empty_rows = hh_marked.clone().lazy().filter(col("__empty")).select([col(HH_ROW)]).collect()?.column(HH_ROW)?.as_materialized_series().clone();
        // The member rows of the households found only (not a grouping of the whole roster).
        let rows = members
            .clone()
            .lazy()
            .filter(col(HH_ROW).is_in(lit(empty_rows.clone()).implode(false), false).and(here()))
            .group_by([col(HH_ROW).alias("__count_row")])
            .agg([len().cast(DataType::Int64).alias("__rows")]);
        let counted = hh_marked.clone().lazy().filter(col("__empty")).join(rows, [col(HH_ROW)], [col("__count_row")], ordered_left());
        self.reject(sources::reject_rows(
            self.households_data,
            counted,
            key,
            when(col("__rows").fill_null(lit(0i64)).eq(lit(0i64)))
                .then(lit("该户在人表中没有任何成员,无法计算人均收入"))
                .otherwise(lit("该户没有共同生活的成员(是否共同生活均为否),无法计算人均收入")),
        ))?;
        // Their members go with them: the few rows rejected are picked out, the rest marked.
        let in_empty = || col(HH_ROW).is_in(lit(empty_rows.clone()).implode(false), false).fill_null(lit(false));
        let gone = members.clone().lazy().filter(in_empty().and(here())).collect()?;
        self.reject(sources::reject_rows(self.members_data, gone.lazy(), mh, lit("所属户没有共同生活的成员,整户拒收")))?;
        let households = hh_marked.lazy().with_column(col(HH_GONE).or(col("__empty")).alias(HH_GONE)).drop(cols(["__empty"])).collect()?;
        let households = crate::frame::rows::drop_marked(households, HH_GONE)?;
        let members = members.lazy().with_column(col(GONE).or(in_empty()).alias(GONE)).collect()?;
        Ok((households, members))
    }
}

/// Co-residence, decided by the rules' condition on each member with its household; the
/// declared columns loaded (all of them, or a screening's) in declared order.
/// Rows already `GONE` are dropped first only when the condition reads household columns (the
/// join needs a household); otherwise they are computed and stay marked.
fn co_residence(plan: &Plan, members: DataFrame, households: &DataFrame) -> Result<DataFrame> {
    let r = &plan.roster;
    let co = compile(&r.co_resident).fill_null(lit(false));
    let loaded = members.schema().clone();
    let member_columns: Vec<Expr> = r
        .members
        .columns
        .iter()
        .filter(|c| loaded.contains(c.name.as_str()))
        .map(|c| col(c.name.as_str()))
        .chain([col(LINE), col(FILE), col(CO_RESIDENT), col(HH_ROW), col(PERSON), col(GONE)])
        .collect();
    let needed: Vec<String> = {
        let mut used = std::collections::BTreeSet::new();
        r.co_resident.columns_into(&mut used);
        let prefix = household_column_in_records("");
        used.iter().filter_map(|c| c.strip_prefix(prefix.as_str()).map(str::to_string)).collect()
    };
    let members = if needed.is_empty() { members } else { without_gone(members)?.lazy().with_column(lit(false).alias(GONE)).collect()? };
    Ok(with_household_columns(members.lazy(), HH_ROW, households, &needed).with_column(co.alias(CO_RESIDENT)).select(member_columns).collect()?)
}

/// The members without the rows marked `GONE` (and without the mark): the few rows go without
/// a second copy of the members (`frame::rows`).
fn without_gone(members: DataFrame) -> Result<DataFrame> {
    crate::frame::rows::drop_marked(members, GONE)
}

/// The member columns a screening keeps after the roster checks: the person's key and name,
/// the household row, co-residence, and the columns the rules over `members` read. At province
/// scale the roster's other columns (the ID text, relation, sex, health, file and line) would
/// otherwise stay in memory for the whole run. (`explain` keeps them all, to show them.)
fn screening_kept(plan: &Plan) -> Vec<String> {
    let mut keep = screening_member_columns(plan);
    keep.extend([CO_RESIDENT.to_string(), HH_ROW.to_string(), PERSON.to_string()]);
    keep
}

/// The declared member columns a screening reads after the roster checks: the name (evidence
/// names people), and the columns the rules over `members` read. (The person is `PERSON`.)
fn screening_member_columns(plan: &Plan) -> Vec<String> {
    let r = &plan.roster;
    let mut keep: Vec<String> = vec![r.member_name.clone()];
    for c in plan.record_columns_for("members").into_iter().chain(plan.member_columns_for_sources()) {
        if r.members.column(&c).is_some() && !keep.contains(&c) {
            keep.push(c);
        }
    }
    keep
}
