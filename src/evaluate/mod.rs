//! Evaluate: per-household aggregates of each source, triggers, exclusions and the category,
//! all as polars expressions over whole columns (one grouped pass per source).

pub mod compile;
pub mod trace;

use crate::households::{ordered_left, with_household_columns, Roster, CO_RESIDENT, HH_ROW, PERSON};
use crate::sources::id::person_key;
use crate::rules::plan::{Action, AggKind, Plan, Rule, Ty, MEMBER_NAME};
use crate::sources::{self, read::FILE, read::LINE, Extracts, TableData};
use anyhow::Result;
use compile::{agg_column, case, compile, dec_dtype, template};
use polars::prelude::*;
use std::path::Path;

/// Record frames carry the household key and the member's key (`PERSON`) under these names.
const HH: &str = "__hh";
const MEMBER_ID: &str = "__member_id";
/// A record's person key, computed from the source's ID column.
const RECORD_PERSON: &str = "__record_person";
/// Key of the members "source" in aggregates and rules.
const MEMBERS: &str = "members";

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
}

impl Outcome {
    /// Every screened household (see `screened_plan`), sorted by 乡镇, 村, 户编号.
    pub fn screened_households(&self) -> Result<DataFrame> {
        Ok(self.screened_plan.clone().collect()?)
    }
}

pub fn hit_column(rule: &Rule) -> String {
    format!("__hit.{}", rule.id)
}
pub fn evidence_column(rule: &Rule) -> String {
    format!("__ev.{}", rule.id)
}
pub fn risk_column(risk: &str) -> String {
    format!("__risk.{risk}")
}

/// Default of an aggregate for a household without records.
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

/// A source's records in the window, with each one's person key (`RECORD_PERSON`), and the
/// table (its valid rows released).
struct InWindow {
    data: TableData,
    records: DataFrame,
}

/// Keeps the records of `data` in the window and reads each one's person key.
fn in_window(plan: &Plan, source: &crate::rules::plan::Source, mut data: TableData, dir: &Path) -> Result<InWindow> {
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
        let (s, e) = (plan.meta.window_start, plan.meta.window_end);
        let within = TExprDate::between(w, s, e);
        records = records.filter(within);
    }
    // Joined on the person's integer key (the IDs are valid and normalized).
    let records = records.with_column(person_key(col(source.id.as_str())).alias(RECORD_PERSON)).collect()?;
    Ok(InWindow { data, records })
}

/// The members named by any department's records (`MEMBER_ID`, `HH`, `MEMBER_NAME`,
/// `CO_RESIDENT`). Records are few next to the roster: one scan of the members against the set
/// of every extract's people, then each source's join reads this part only, and never hashes
/// or scans the whole roster.
fn people_in_records(plan: &Plan, roster: &Roster, sources: &[InWindow]) -> Result<DataFrame> {
    let keys: Vec<LazyFrame> = sources.iter().map(|s| s.records.clone().lazy().select([col(RECORD_PERSON)])).collect();
    let ids = if keys.is_empty() {
        Series::new_empty(RECORD_PERSON.into(), &DataType::Int64)
    } else {
        concat(keys, UnionArgs::default())?.unique(None, UniqueKeepStrategy::Any).collect()?.column(RECORD_PERSON)?.as_materialized_series().clone()
    };
    Ok(roster
        .members
        .clone()
        .lazy()
        .filter(col(PERSON).is_in(lit(ids).implode(false), false))
        .select([col(PERSON).alias(MEMBER_ID), col(HH_ROW).alias(HH), col(plan.roster.member_name.as_str()).alias(MEMBER_NAME), col(CO_RESIDENT)])
        .collect()?)
}

/// Joins a source's records in the window to the members they name (`people`: see
/// `people_in_records`), splits matched / unmatched, and returns the record frame of
/// co-resident members (with household columns) for the rules.
fn source_records(plan: &Plan, roster: &Roster, source: &crate::rules::plan::Source, window: InWindow, people: &DataFrame) -> Result<(SourceStats, LazyFrame, DataFrame)> {
    let InWindow { data, records } = window;
    let ids = records.column(RECORD_PERSON)?.as_materialized_series().unique()?;
    let people = people.clone().lazy().filter(col(MEMBER_ID).is_in(lit(ids).implode(false), false));
    let joined = records
        .lazy()
        .join(people, [col(RECORD_PERSON)], [col(MEMBER_ID)], JoinArgs::new(JoinType::Left).with_coalesce(JoinCoalesce::KeepColumns))
        .drop(cols([RECORD_PERSON]))
        .collect()?;
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
    Ok((stats, records, unmatched))
}

pub(crate) struct TExprDate;
impl TExprDate {
    pub(crate) fn between(column: &str, start: chrono::NaiveDate, end: chrono::NaiveDate) -> Expr {
        use crate::rules::plan::Value;
        let c = col(column);
        c.clone().gt_eq(compile::value_lit(&Value::Date(start))).and(c.lt_eq(compile::value_lit(&Value::Date(end))))
    }
}

/// The members frame as a record frame (co-resident members only).
fn member_records(plan: &Plan, roster: &Roster) -> LazyFrame {
    let r = &plan.roster;
    let m = roster
        .members
        .clone()
        .lazy()
        .filter(col(CO_RESIDENT))
        .with_columns([
            col(HH_ROW).alias(HH),
            col(PERSON).alias(MEMBER_ID),
            col(r.member_name.as_str()).alias(MEMBER_NAME),
        ]);
    with_household_columns(m, HH, &roster.households, &plan.household_columns_for(MEMBERS))
}

/// A source's figures per household: the aggregates and rule hits (one row per household with
/// records, keyed by `HH`), and the evidence of its record rules (one row per household with a
/// hit; `None` without record rules).
struct Grouped {
    figures: DataFrame,
    evidence: Option<DataFrame>,
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

/// Whether `figures` has a row for each household, in the households' order.
fn same_rows(figures: &DataFrame, households: &DataFrame) -> Result<bool> {
    if figures.height() != households.height() {
        return Ok(false);
    }
    let (hh, rows) = (figures.column(HH)?.as_materialized_series(), households.column(HH_ROW)?.as_materialized_series());
    Ok(hh.dtype() == rows.dtype() && hh.equal_missing(rows)?.all())
}

/// Every aggregate and record rule on one source. Each record's values are computed first, over
/// whole columns (an aggregate's value is null where its filter fails); the grouping then only
/// sums, counts, tests or joins ready columns, which polars does per group without evaluating
/// an expression per group. The evidence is written, ordered and joined for the records that hit
/// a rule only.
/// `order`: the record columns that order a household's records (and so its evidence), after
/// the household and the person: the record date first, then the content, so the order does not
/// depend on how a department split its files; file and line break the remaining ties. `None`
/// where the person alone decides (the roster lists each person once).
fn grouped(plan: &Plan, source: &str, records: LazyFrame, order: Option<&[String]>) -> Result<Option<Grouped>> {
    let rules: Vec<&Rule> = plan.triggers.iter().chain(&plan.exclusions).filter(|r| r.source.as_deref() == Some(source)).collect();
    let mut values: Vec<Expr> = Vec::new();
    let mut aggs: Vec<Expr> = Vec::new();
    for (i, a) in plan.aggregates.iter().enumerate().filter(|(_, a)| a.source == source) {
        let v = format!("__value.{i}");
        let filter = a.filter.as_ref().map(|f| compile(f).fill_null(lit(false)));
        let condition = || compile(a.value.as_ref().expect("any and all have a condition")).fill_null(lit(false));
        let (value, agg) = match a.kind {
            AggKind::Count => match filter {
                Some(f) => (Some(f.cast(DataType::Int64)), col(v.as_str()).sum()),
                None => (None, len().cast(DataType::Int64)),
            },
            AggKind::Any => (Some(condition()), col(v.as_str()).any(false)),
            AggKind::All => (Some(condition()), col(v.as_str()).all(false)),
            AggKind::Sum | AggKind::Max | AggKind::Min => {
                let x = compile(a.value.as_ref().expect("sum, max and min have a value"));
                // Null where the filter fails: sum, max and min skip nulls, as they would skip
                // the records filtered out (a household with none left sums to 0, has no max).
                let x = match filter {
                    Some(f) => when(f).then(x).otherwise(lit(NULL)),
                    None => x,
                };
                let agg = match a.kind {
                    AggKind::Sum => col(v.as_str()).sum(),
                    AggKind::Max => col(v.as_str()).max(),
                    _ => col(v.as_str()).min(),
                };
                (Some(x), agg)
            }
        };
        values.extend(value.map(|x| x.alias(v.as_str())));
        aggs.push(agg.alias(agg_column(i).as_str()));
    }
    for rule in &rules {
        let hit = hit_column(rule);
        values.push(compile(&rule.when).fill_null(lit(false)).alias(hit.as_str()));
        aggs.push(col(hit.as_str()).any(false).alias(hit.as_str()));
    }
    if aggs.is_empty() {
        return Ok(None);
    }
    let mut records = if values.is_empty() { records } else { records.with_columns(values) }.collect()?;
    mark_if_sorted_by_household(&mut records)?;
    let figures = records.clone().lazy().group_by([col(HH)]).agg(aggs).collect()?;
    // Only the evidence (records joined in order) depends on the order of a household's
    // records; counts, sums of decimals, any/all, max and min do not. So only the records that
    // hit a rule are sorted (at province scale the others are tens of millions).
    let evidence = match rules.iter().map(|r| col(hit_column(r).as_str())).reduce(|a, b| a.or(b)) {
        None => None,
        Some(any_hit) => {
            let hits = records.lazy().filter(any_hit);
            let hits = match order {
                Some(order) => {
                    let mut keys: Vec<String> = vec![HH.into(), MEMBER_ID.into()];
                    keys.extend(order.iter().cloned());
                    keys.extend([FILE.to_string(), LINE.to_string()]);
                    hits.sort(keys, SortMultipleOptions::default().with_maintain_order(true))
                }
                None => hits,
            };
            let texts: Vec<Expr> = rules
                .iter()
                .map(|r| when(col(hit_column(r).as_str())).then(template(&r.evidence)).otherwise(lit(NULL)).alias(evidence_column(r).as_str()))
                .collect();
            let joined: Vec<Expr> = rules.iter().map(|r| col(evidence_column(r).as_str()).str().join("；", true)).collect();
            Some(hits.with_columns(texts).group_by([col(HH)]).agg(joined).collect()?)
        }
    };
    Ok(Some(Grouped { figures, evidence }))
}

/// Screens every household of `roster`. Without `keep_detail` (a screening, not `explain`), the
/// members frame is emptied once the records are grouped: at province scale it is gigabytes
/// that nothing after this point reads.
pub fn run(plan: &Plan, roster: &mut Roster, extracts: Extracts, dir: &Path, keep_detail: bool, mut progress: impl FnMut(&str, &str)) -> Result<Outcome> {
    let key = plan.roster.key.as_str();
    let mut stats = Vec::new();
    let mut unmatched = Vec::new();

    let mut groups: Vec<Grouped> = Vec::new();
    progress("members: aggregates and rules over the members", "成员");
    // A person is one row of the roster (the roster checks made sure), so the household and
    // the ID order the members completely; sorting by every column besides would only cost
    // time and keep every column of the roster alive through the sort.
    groups.extend(grouped(plan, MEMBERS, member_records(plan, roster), None)?);
    progress("sources: extracts received, records in the window, the members they name", "部门数据");
    let windows: Vec<InWindow> = plan.sources.iter().map(|source| in_window(plan, source, extracts.next(&source.table)?, dir)).collect::<Result<_>>()?;
    let people = people_in_records(plan, roster, &windows)?;
    for (source, window) in plan.sources.iter().zip(windows) {
        progress(&format!("source {}: join to members, aggregate", source.table.label), &format!("筛查 {}", source.table.label));
        let (s, records, u) = source_records(plan, roster, source, window, &people)?;
        // Materialized once: the grouped pass reads it, nothing else does.
        let order: Vec<String> = source
            .window
            .iter()
            .cloned()
            .chain(source.table.columns.iter().map(|c| c.name.clone()).filter(|c| Some(c) != source.window.as_ref() && *c != source.id))
            .collect();
        groups.extend(grouped(plan, &source.table.name, records, Some(&order))?);
        stats.push(s);
        unmatched.push(u.lazy());
    }
    drop(people);
    if !keep_detail {
        roster.members = DataFrame::empty();
    }
    progress("households: derived figures, household rules, category, exclusions, output columns", "汇总");
    // The aggregates and rule hits are joined to the household rows alone, then set beside the
    // households' columns: the joins copy the narrow aggregate frame, never the households' text
    // columns. The evidence text is set apart: only listed households (and `explain`) need it,
    // and a text column for every rule and every household of a province does not fit.
    let evidence_names: Vec<String> = plan.triggers.iter().chain(&plan.exclusions).filter(|r| r.source.is_some()).map(evidence_column).collect();
    // Each group is joined to the household rows on its own, and the results set side by side:
    // a chain of joins would carry every earlier group's columns through every later join.
    let rows = roster.households.clone().lazy().select([col(HH_ROW)]);
    let mut evidence_groups: Vec<DataFrame> = Vec::new();
    let mut aligned = Vec::new();
    for g in groups {
        evidence_groups.extend(g.evidence);
        aligned.push(if same_rows(&g.figures, &roster.households)? {
            // One row per household already, in the households' order (the members' figures,
            // grouped in household order): set beside them as they are.
            g.figures.drop(HH)?
        } else {
            rows.clone().join(g.figures.lazy(), [col(HH_ROW)], [col(HH)], ordered_left()).drop(cols([HH_ROW])).collect()?
        });
    }
    let mut frame = roster.households.clone();
    for part in aligned {
        if part.height() != frame.height() {
            anyhow::bail!("internal error: {} households but {} aggregate rows", frame.height(), part.height());
        }
        frame.hstack_mut(part.columns())?;
    }
    let mut frame = frame.lazy();

    // Households without records get each aggregate's neutral value.
    let mut fills = Vec::new();
    for (i, a) in plan.aggregates.iter().enumerate() {
        if let Some(d) = agg_default(a.kind, &a.ty) {
            fills.push(col(agg_column(i).as_str()).fill_null(d));
        }
    }
    for rule in plan.triggers.iter().chain(&plan.exclusions).filter(|r| r.source.is_some()) {
        fills.push(col(hit_column(rule).as_str()).fill_null(lit(false)));
    }
    if !fills.is_empty() {
        frame = frame.with_columns(fills);
    }
    for d in &plan.derived {
        frame = frame.with_column(compile(&d.expr).alias(d.name.as_str()));
    }
    for rule in plan.triggers.iter().chain(&plan.exclusions).filter(|r| r.source.is_none()) {
        frame = frame.with_column(compile(&rule.when).fill_null(lit(false)).alias(hit_column(rule).as_str()));
    }
    // The evidence columns, for the households of `lf` only: the records' evidence joined from
    // the groups, the household rules' evidence written from the household's own figures.
    let with_evidence = |lf: LazyFrame| -> LazyFrame {
        let mut lf = lf;
        for g in &evidence_groups {
            lf = lf.join(g.clone().lazy(), [col(HH_ROW)], [col(HH)], ordered_left());
        }
        let mut columns: Vec<Expr> = evidence_names.iter().map(|n| col(n.as_str()).fill_null(lit(""))).collect();
        for rule in plan.triggers.iter().chain(&plan.exclusions).filter(|r| r.source.is_none()) {
            columns.push(when(col(hit_column(rule).as_str())).then(template(&rule.evidence)).otherwise(lit("")).alias(evidence_column(rule).as_str()));
        }
        if columns.is_empty() { lf } else { lf.with_columns(columns) }
    };
    let category = case(
        plan.categories.iter().map(|c| (compile(&c.when).fill_null(lit(false)), lit(c.name.as_str()))).collect(),
        lit(NULL),
    );
    let frame = frame.with_column(category.cast(DataType::String).alias("__category")).collect()?;

    let screened = frame.height();
    let mut coverage = Vec::new();
    let rules: Vec<&Rule> = plan.triggers.iter().chain(&plan.exclusions).collect();
    if !rules.is_empty() {
        let counts = frame
            .clone()
            .lazy()
            .select(rules.iter().map(|r| col(hit_column(r).as_str()).cast(DataType::Int64).sum()).collect::<Vec<_>>())
            .collect()?;
        for (r, c) in rules.iter().zip(counts.columns()) {
            let n = c.get(0)?.extract::<i64>().unwrap_or(0);
            coverage.push((r.id.clone(), r.label.clone(), usize::try_from(n).unwrap_or(0)));
        }
    }

    let any_of = |rs: Vec<&Rule>| rs.into_iter().map(|r| col(hit_column(r).as_str())).reduce(|a, b| a.or(b)).unwrap_or(lit(false));
    let hard_exclude = any_of(plan.exclusions.iter().filter(|r| r.action == Some(Action::Exclude)).collect());
    let review = any_of(plan.exclusions.iter().filter(|r| r.action == Some(Action::Review)).collect());
    let rep = &plan.report;
    let joined = |parts: Vec<Expr>, sep: &str| if parts.is_empty() { lit("") } else { concat_str(parts, sep, true) };
    let labels = |rs: &[Rule]| joined(rs.iter().map(|r| when(col(hit_column(r).as_str())).then(lit(r.label.as_str())).otherwise(lit(NULL))).collect(), "；");
    let text = |c: &str| col(c).cast(DataType::String).fill_null(lit(""));
    // The household's figures, as flagged.csv and screened.csv both show them.
    let figures = || {
        vec![
            number_text(&rep.size).alias("家庭人口"),
            number_text(&rep.net_income).alias("家庭纯收入"),
            number_text(&rep.per_capita).alias("人均纯收入"),
            number_text(&rep.line).alias("监测线"),
        ]
    };
    let (monitored, elimination, stays) = match &plan.monitoring {
        Some(m) => (
            compile(&m.monitored).fill_null(lit(false)),
            compile(&m.elimination).fill_null(lit(false)).and(col("__category").is_null()),
            m.stays_monitored.as_ref().map(|e| compile(e).fill_null(lit(false))).unwrap_or(lit(false)),
        ),
        None => (lit(false), lit(false), lit(false)),
    };
    let frame = frame.lazy().with_column(monitored.alias("__monitored")).collect()?;
    let detail = if keep_detail { Some(with_evidence(frame.clone().lazy()).collect()?) } else { None };
    let mut screened_columns = vec![
            text("乡镇"),
            text("村"),
            text(key).alias("户编号"),
            text("户主姓名"),
            text("户类型"),
            text("监测状态"),
    ];
    screened_columns.extend(figures());
    screened_columns.extend([
            col("__category").fill_null(lit("")).alias("类别"),
            labels(&plan.triggers).alias("触发规则"),
            labels(&plan.exclusions).alias("排除提示"),
            col("__category"),
            hard_exclude.clone().alias("__excluded"),
            col("__monitored"),
            // The rules' own conditions and no category: `__stays` households are counted here
            // (their own trigger, 缺劳动力, would hide them otherwise); candidates also need no
            // trigger at all.
            elimination.clone().alias("__elimination_income"),
            elimination.and(any_of(plan.triggers.iter().collect()).not()).alias("__elimination"),
            stays.alias("__stays"),
    ]);
    // The plan holds only the columns it reads (the frame's others are released with it).
    let mut read: std::collections::BTreeSet<String> = ["乡镇", "村", key, "户主姓名", "户类型", "监测状态", "__category", "__monitored"].map(String::from).into();
    read.extend(rules.iter().map(|r| hit_column(r)));
    let mut aggregates = std::collections::BTreeSet::new();
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
    let screened_plan = frame
        .select(read)?
        .lazy()
        .select(screened_columns)
        .sort(["乡镇", "村", "户编号"], SortMultipleOptions::default().with_maintain_order(true));
    let candidates = frame.lazy().filter(col("__category").is_not_null());
    let excluded = candidates.clone().filter(hard_exclude.clone()).select([len()]).collect()?;
    let excluded = excluded.column("len")?.get(0)?.extract::<u64>().unwrap_or(0) as usize;
    let listed = with_evidence(candidates.filter(hard_exclude.not()));

    let listed = listed.with_columns(
        plan.risk_types()
            .iter()
            .map(|risk| any_of(plan.triggers.iter().filter(|t| t.risk.as_deref() == Some(risk)).collect()).alias(risk_column(risk).as_str()))
            .collect::<Vec<_>>(),
    );
    let risks = joined(plan.risk_types().iter().map(|r| when(col(risk_column(r).as_str())).then(lit(r.as_str())).otherwise(lit(NULL))).collect(), "、");
    let mut evidence_parts: Vec<Expr> = rules
        .iter()
        .map(|r| {
            when(col(hit_column(r).as_str()))
                .then(concat_str([lit(format!("【{}】", r.label)), col(evidence_column(r).as_str())], "", false))
                .otherwise(lit(NULL))
        })
        .collect();
    evidence_parts.push(applied_parameters(plan));
    let evidence = joined(evidence_parts, " ");
    let mut columns = vec![
            text("乡镇"),
            text("村"),
            text(key).alias("户编号"),
            text("户主姓名"),
            text("户主证件号码"),
            text("户类型"),
            text("监测状态"),
    ];
    columns.extend(figures());
    columns.extend([
            col("__category").alias("类别"),
            when(risks.clone().eq(lit(""))).then(lit(rep.no_trigger_risk.as_str())).otherwise(risks).alias("风险类型"),
            when(review).then(lit(rep.review.as_str())).otherwise(lit(rep.include.as_str())).alias("建议"),
            labels(&plan.exclusions).alias("排除提示"),
            labels(&plan.triggers).alias("触发规则"),
            evidence.alias("证据"),
            compile(&rep.size).cast(DataType::Int64).alias("__size"),
            col("__category"),
            col("__monitored"),
    ]);
    columns.extend(plan.risk_types().iter().map(|r| col(risk_column(r).as_str())));
    let listed = listed
        .select(columns)
        .sort(["乡镇", "村", "户编号"], SortMultipleOptions::default().with_maintain_order(true))
        .collect()?;

    let unmatched = if unmatched.is_empty() {
        empty_unmatched()
    } else {
        concat(unmatched, UnionArgs::default())?.collect()?
    };
    Ok(Outcome { sources: stats, screened, listed, excluded, screened_plan, unmatched, coverage, detail })
}

/// The 【适用参数】 part of 证据: each parameter value (with the date it took effect) that the
/// household's category or one of the rules that hit it read; parameters.csv and the manifest
/// give each value's reference.
fn applied_parameters(plan: &Plan) -> Expr {
    let mut pieces = Vec::new();
    for p in &plan.parameters {
        let mut used: Vec<Expr> = plan
            .categories
            .iter()
            .filter(|c| c.params.contains(&p.name))
            .map(|c| col("__category").eq(lit(c.name.as_str())).fill_null(lit(false)))
            .collect();
        used.extend(plan.triggers.iter().chain(&plan.exclusions).filter(|r| r.params.contains(&p.name)).map(|r| col(hit_column(r).as_str())));
        if let Some(any) = used.into_iter().reduce(|a, b| a.or(b)) {
            pieces.push(when(any).then(lit(format!("{}={}({}起)", p.name, p.value.display(), p.from))).otherwise(lit(NULL)));
        }
    }
    if pieces.is_empty() {
        return lit(NULL).cast(DataType::String);
    }
    let all = concat_str(pieces, "；", true);
    when(all.clone().eq(lit(""))).then(lit(NULL)).otherwise(concat_str([lit("【适用参数】"), all], "", false))
}

fn empty_unmatched() -> DataFrame {
    sources::empty_listing(&UNMATCHED_COLUMNS)
}

/// A figure as text: decimals with at least two places ("6320.00"), integers as they are.
fn number_text(e: &crate::rules::plan::TExpr) -> Expr {
    let c = compile(e);
    match e.ty() {
        Ty::Dec(s) if s <= 2 => c.cast(dec_dtype(2)).cast(DataType::String),
        _ => c.cast(DataType::String),
    }
    .fill_null(lit(""))
}
