//! The evaluation half of the Spark job: department records in their windows joined to the
//! members they name, per-person and per-household aggregates, record rules and their evidence,
//! record lists, then the household frame (derived figures, household rules, the category).
//! Mirrors `evaluate` step by step; `output.rs` turns the household frame into the result tables.

use super::expr::{ident, person_agg_column, sql, sql_type, text, value};
use super::Sql;
use crate::rules::plan::{household_column_in_records, member_column_in_records, AggKind, Aggregate, Plan, Source, Ty, Value, MEMBER_NAME, RELATIVE_RECORD};
use anyhow::{bail, Result};

/// Key of the members "source" in aggregates and rules.
pub const MEMBERS: &str = "members";
/// Columns of a record view: the household key, the member's ID.
pub const HH: &str = "__hh";
pub const MID: &str = "__mid";

/// The view of a source's valid rows (made by `read::table_sql`).
pub fn source_view(i: usize) -> String {
    format!("src_{i}")
}

/// The view a reader's records are in, after the per-person figures are set beside them.
fn records_view(reader: &str) -> String {
    format!("rec_{}", view_suffix(reader))
}

fn view_suffix(reader: &str) -> String {
    // Source names are TOML keys: any text. The view is named by position instead.
    reader.chars().map(|c| if c.is_ascii_alphanumeric() { c } else { '_' }).collect::<String>() + &format!("_{}", reader.len())
}

/// The default of an aggregate for a household (or person) without records.
pub fn agg_default(kind: AggKind, ty: &Ty) -> Option<String> {
    match kind {
        AggKind::Count => Some("CAST(0 AS BIGINT)".into()),
        AggKind::Any => Some("FALSE".into()),
        AggKind::All => Some("TRUE".into()),
        AggKind::Sum => Some(format!("CAST(0 AS {})", sql_type(ty))),
        AggKind::Max | AggKind::Min => None,
    }
}

/// The aggregate as one SQL aggregate expression over the records of a group.
fn aggregate(a: &Aggregate) -> Result<String> {
    let filter = a.filter.as_ref().map(sql).transpose()?.map(|f| format!("coalesce({f}, FALSE)"));
    let condition = || -> Result<String> { Ok(format!("coalesce({}, FALSE)", a.value.as_ref().map(sql).transpose()?.unwrap_or("FALSE".into()))) };
    let out = match a.kind {
        AggKind::Count => match &filter {
            Some(f) => format!("sum(CAST({f} AS BIGINT))"),
            None => "count(1)".into(),
        },
        AggKind::Any => format!("bool_or({})", condition()?),
        AggKind::All => format!("bool_and({})", condition()?),
        AggKind::Sum | AggKind::Max | AggKind::Min => {
            let x = a.value.as_ref().map(sql).transpose()?.unwrap_or("NULL".into());
            let x = match &filter {
                Some(f) => format!("CASE WHEN {f} THEN {x} END"),
                None => x,
            };
            let f = match a.kind {
                AggKind::Sum => "sum",
                AggKind::Max => "max",
                _ => "min",
            };
            format!("{f}({x})")
        }
    };
    Ok(format!("CAST({out} AS {})", sql_type(&a.ty)))
}

/// Aggregate `a` keyed by `key`: plain, or per calendar month and the largest month's
/// (`monthly_max`). A SELECT over `from` with columns `key` and `name`.
pub fn aggregate_by(a: &Aggregate, from: &str, key: &str, name: &str) -> Result<String> {
    let agg = aggregate(a)?;
    Ok(match &a.per_month {
        None => format!("SELECT {key}, {agg} AS {} FROM {from} GROUP BY {key}", ident(name)),
        Some(date) => {
            let d = sql(date)?;
            format!(
                "SELECT {key}, max(__m) AS {} FROM (SELECT {key}, {agg} AS __m FROM {from} GROUP BY {key}, year({d}) * 100 + month({d})) GROUP BY {key}",
                ident(name)
            )
        }
    })
}

/// Every source's records: in the window, joined to the members they name; the unmatched and the
/// statistics; the records of co-resident members with the household and member columns their
/// rules read; the per-person figures; then each reader's groups. Returns the group views and
/// what each one holds.
pub fn records(plan: &Plan, q: &mut Sql) -> Result<Vec<Group>> {
    let r = &plan.roster;
    let mut people = vec![
        format!("{} AS {MID}", ident(&r.member_id)),
        format!("{} AS {HH}", ident(&r.member_household)),
        format!("{} AS {}", ident(&r.member_name), ident(MEMBER_NAME)),
        "__co".into(),
    ];
    people.extend(plan.member_columns_for_sources().iter().map(|c| format!("{} AS {}", ident(c), ident(&member_column_in_records(c)))));
    q.view("people", &format!("SELECT {} FROM mem", people.join(", ")));
    let mut stats = Vec::new();
    let mut unmatched = Vec::new();
    for (i, s) in plan.sources.iter().enumerate() {
        let joined = format!("joined_{i}");
        q.cache(&joined, &joined_sql(plan, i, s, &people_columns(plan))?);
        stats.push(format!("SELECT {i} AS source, count(1) AS in_window, count_if(__co) AS used, count_if({HH} IS NULL) AS unmatched FROM {joined}"));
        let name = s.name_column.as_ref().map_or("''".to_string(), |n| format!("coalesce(CAST({} AS STRING), '')", ident(n)));
        unmatched.push(format!(
            "SELECT {i} AS __source, {} AS `来源`, __file AS `文件`, __line AS `行号`, {} AS `证件号码`, {name} AS `姓名` FROM {joined} WHERE {HH} IS NULL",
            text(&s.table.name),
            ident(&s.id)
        ));
        used_records(plan, &s.table.name, &joined, q);
    }
    q.view(
        "o_stats",
        &union(stats, "SELECT CAST(0 AS INT) AS source, CAST(0 AS BIGINT) AS in_window, CAST(0 AS BIGINT) AS used, CAST(0 AS BIGINT) AS unmatched WHERE FALSE"),
    );
    q.view(
        "o_unmatched",
        &union(unmatched, "SELECT 0 AS __source, '' AS `来源`, '' AS `文件`, CAST(0 AS BIGINT) AS `行号`, '' AS `证件号码`, '' AS `姓名` WHERE FALSE"),
    );
    let m = format!(
        "SELECT m.*, m.{} AS {HH}, m.{} AS {MID}, m.{} AS {} FROM mem m WHERE m.__co",
        ident(&r.member_household),
        ident(&r.member_id),
        ident(&r.member_name),
        ident(MEMBER_NAME)
    );
    q.view("joined_members", &m);
    used_records(plan, MEMBERS, "joined_members", q);
    let readers: Vec<String> = plan.sources.iter().map(|s| s.table.name.clone()).chain([MEMBERS.to_string()]).collect();
    for reader in &readers {
        person_figures(plan, reader, q)?;
    }
    let mut groups = Vec::new();
    for reader in &readers {
        with_person_figures(plan, reader, q)?;
        groups.extend(super::groups::grouped(plan, reader, q)?);
    }
    Ok(groups)
}

/// The columns of the `people` view, as a record view carries them.
fn people_columns(plan: &Plan) -> Vec<String> {
    let mut out = vec![MID.to_string(), HH.to_string(), MEMBER_NAME.to_string(), "__co".to_string()];
    out.extend(plan.member_columns_for_sources().iter().map(|c| member_column_in_records(c)));
    out
}

/// The records of source `i` in its window, with the ID's person key, each joined to the member it
/// names; with `relatives`, the records that name no member but a relative of one (by the link
/// source's pairs) joined to that member and marked as a relative's record.
fn joined_sql(plan: &Plan, i: usize, s: &Source, people: &[String]) -> Result<String> {
    let in_window = |i: usize, s: &Source| match &s.window {
        Some(w) => format!(
            "(SELECT * FROM {} WHERE {c} >= {} AND {c} <= {})",
            source_view(i),
            value(&Value::Date(w.start)),
            value(&Value::Date(w.end)),
            c = ident(&w.column)
        ),
        None => source_view(i),
    };
    let id = ident(&s.id);
    let Some(link) = &s.relatives else {
        return Ok(format!("SELECT r.*, p.* FROM {} r LEFT JOIN people p ON r.{id} = p.{MID}", in_window(i, s)));
    };
    let Some((li, ls)) = plan.sources.iter().enumerate().find(|(_, x)| &x.table.name == link) else {
        bail!("source {}: the link source {link} is not declared", s.table.name);
    };
    let Some(relative) = &ls.relative else { bail!("source {}: {link} is not a link source (no `relative`)", s.table.name) };
    let pairs = format!(
        "(SELECT DISTINCT {} AS __rel, {} AS __linked FROM {} WHERE {} IS NOT NULL)",
        ident(relative),
        ident(&ls.id),
        in_window(li, ls),
        ident(relative)
    );
    let mut record: Vec<String> = s.table.columns.iter().map(|c| format!("r.{}", ident(&c.name))).collect();
    record.extend(["r.__file".into(), "r.__line".into()]);
    let rec = record.join(", ");
    let ppl: Vec<String> = people.iter().map(|c| format!("p.{}", ident(c))).collect();
    let nulls: Vec<String> = people.iter().map(|c| format!("CAST(NULL AS {}) AS {}", people_type(plan, c), ident(c))).collect();
    let outer: Vec<String> = s
        .table
        .columns
        .iter()
        .map(|c| ident(&c.name))
        .chain(["__file".into(), "__line".into()])
        .chain(people.iter().map(|c| ident(c)))
        .chain([ident(RELATIVE_RECORD)])
        .collect();
    let ppl = ppl.join(", ");
    let rel = ident(RELATIVE_RECORD);
    let w = in_window(i, s);
    let orphans = format!("(SELECT r.* FROM {w} r LEFT ANTI JOIN people p ON r.{id} = p.{MID})");
    Ok(format!(
        "SELECT {rec}, {ppl}, FALSE AS {rel} FROM {w} r JOIN people p ON r.{id} = p.{MID}
UNION ALL
SELECT {} FROM (SELECT {rec}, {ppl}, TRUE AS {rel}, row_number() OVER (PARTITION BY r.__file, r.__line, p.{HH} ORDER BY p.{MID}) AS __n
  FROM {orphans} r JOIN {pairs} l ON r.{id} = l.__rel JOIN people p ON l.__linked = p.{MID}) WHERE __n = 1
UNION ALL
SELECT {rec}, {}, FALSE AS {rel} FROM {orphans} r LEFT ANTI JOIN {pairs} l ON r.{id} = l.__rel",
        outer.join(", "),
        nulls.join(", ")
    ))
}

/// The SQL type of a column of the `people` view.
fn people_type(plan: &Plan, column: &str) -> String {
    if column == "__co" {
        return "BOOLEAN".into();
    }
    let member = column.strip_prefix(member_column_in_records("").as_str()).and_then(|c| plan.roster.members.column(c));
    member.map_or("STRING".into(), |c| sql_type(&c.ty.value_type()))
}

fn union(parts: Vec<String>, empty: &str) -> String {
    if parts.is_empty() {
        empty.to_string()
    } else {
        parts.join(" UNION ALL ")
    }
}

/// The co-resident members' records of `reader`, with the household columns its rules read.
fn used_records(plan: &Plan, reader: &str, joined: &str, q: &mut Sql) {
    let needed = plan.household_columns_for(reader);
    let view = format!("used_{}", view_suffix(reader));
    if needed.is_empty() {
        q.view(&view, &format!("SELECT * FROM {joined} WHERE __co"));
        return;
    }
    let cols: Vec<String> = needed.iter().map(|c| format!("h.{} AS {}", ident(c), ident(&household_column_in_records(c)))).collect();
    q.view(&view, &format!("SELECT j.*, {} FROM {joined} j JOIN hh h ON j.{HH} = h.{} WHERE j.__co", cols.join(", "), ident(&plan.roster.key)));
}

/// The per-person aggregates over `source`'s records, one row per person with records.
fn person_figures(plan: &Plan, source: &str, q: &mut Sql) -> Result<()> {
    let from = format!("used_{}", view_suffix(source));
    for (i, a) in plan.person_aggregates.iter().enumerate().filter(|(_, a)| a.source == source) {
        q.view(&format!("pf_{i}"), &aggregate_by(a, &from, MID, &person_agg_column(i))?);
    }
    Ok(())
}

/// `reader`'s records with the per-person aggregates its expressions read (the neutral value for
/// a person without records).
fn with_person_figures(plan: &Plan, reader: &str, q: &mut Sql) -> Result<()> {
    let from = format!("used_{}", view_suffix(reader));
    let needed = plan.person_aggregates_read_by(reader);
    let mut cols = vec!["u.*".to_string()];
    let mut joins = String::new();
    for i in needed {
        let a = &plan.person_aggregates[i];
        let c = ident(&person_agg_column(i));
        cols.push(match agg_default(a.kind, &a.ty) {
            Some(d) => format!("coalesce(p{i}.{c}, {d}) AS {c}"),
            None => format!("p{i}.{c}"),
        });
        joins.push_str(&format!(" LEFT JOIN pf_{i} p{i} ON u.{MID} = p{i}.{MID}"));
    }
    q.view(&records_view(reader), &format!("SELECT {} FROM {from} u{joins}", cols.join(", ")));
    Ok(())
}

/// What one group view holds for the household frame.
pub struct Group {
    pub view: String,
    /// (column, default where a household has no row).
    pub columns: Vec<(String, Option<String>)>,
}

pub fn reader_view(reader: &str) -> String {
    records_view(reader)
}

/// The columns that order a source's records within a person (its evidence and lists): the
/// window's date first, then the content; file and line break the remaining ties. Members: the
/// person alone.
pub fn record_order(plan: &Plan, reader: &str) -> Vec<String> {
    let Some(source) = plan.source(reader) else { return Vec::new() };
    order_of(source)
}

fn order_of(source: &Source) -> Vec<String> {
    let window = source.window.as_ref().map(|w| w.column.clone());
    window.iter().cloned().chain(source.table.columns.iter().map(|c| c.name.clone()).filter(|c| Some(c) != window.as_ref() && *c != source.id)).collect()
}
