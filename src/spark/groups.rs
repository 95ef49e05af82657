//! One reader's records (a source, or the members) grouped by household: its aggregates, its
//! record rules' hits and their evidence, its record lists (as `evaluate::groups`).

use super::eval::{agg_default, aggregate_by, reader_view, record_order, Group, HH, MID};
use super::expr::{agg_column, hit_column, ident, list_column, sql, template};
use super::Sql;
use crate::rules::plan::{Plan, Rule};
use anyhow::Result;

pub fn evidence_column(id: &str) -> String {
    format!("__ev.{id}")
}

/// The records of a household in the local engine's order, each one's `text` (NULL: skipped),
/// joined with `sep`: `array_sort` orders the structs by their fields in turn.
fn ordered_join(keys: &[String], text: &str, sep: &str) -> String {
    let mut fields: Vec<String> = keys.iter().enumerate().map(|(i, k)| format!("'k{i}', {}", ident(k))).collect();
    fields.push(format!("'t', {text}"));
    format!("array_join(transform(array_sort(collect_list(named_struct({}))), s -> s.t), {})", fields.join(", "), super::expr::text(sep))
}

/// The columns ordering a reader's records in evidence: the person, the source's order columns,
/// file and line (members: file and line, the roster's order).
fn evidence_keys(plan: &Plan, reader: &str) -> Vec<String> {
    if plan.source(reader).is_none() {
        return vec!["__file".into(), "__line".into()];
    }
    let mut keys = vec![MID.to_string()];
    keys.extend(record_order(plan, reader));
    keys.extend(["__file".into(), "__line".into()]);
    keys
}

/// Record lists order a household's records as evidence does; members by the person.
fn list_keys(plan: &Plan, reader: &str) -> Vec<String> {
    if plan.source(reader).is_none() {
        return vec![MID.to_string()];
    }
    evidence_keys(plan, reader)
}

pub fn grouped(plan: &Plan, reader: &str, q: &mut Sql) -> Result<Vec<Group>> {
    let rules: Vec<&Rule> = plan.triggers.iter().chain(&plan.exclusions).filter(|r| r.source.as_deref() == Some(reader)).collect();
    let records = reader_view(reader);
    let hits_view = format!("{records}_hits");
    let mut hit_cols = vec!["*".to_string()];
    for r in &rules {
        hit_cols.push(format!("coalesce({}, FALSE) AS {}", sql(&r.when)?, ident(&hit_column(&r.id))));
    }
    q.view(&hits_view, &format!("SELECT {} FROM {records}", hit_cols.join(", ")));
    let mut out = Vec::new();
    for (i, a) in plan.aggregates.iter().enumerate().filter(|(_, a)| a.source == reader) {
        let view = format!("agg_{i}");
        q.view(&view, &aggregate_by(a, &hits_view, HH, &agg_column(i))?);
        out.push(Group { view, columns: vec![(agg_column(i), agg_default(a.kind, &a.ty))] });
    }
    if !rules.is_empty() {
        let view = format!("{records}_byhh");
        let cols: Vec<String> = rules.iter().map(|r| format!("bool_or({c}) AS {c}", c = ident(&hit_column(&r.id)))).collect();
        q.view(&view, &format!("SELECT {HH}, {} FROM {hits_view} GROUP BY {HH}", cols.join(", ")));
        out.push(Group { view, columns: rules.iter().map(|r| (hit_column(&r.id), Some("FALSE".into()))).collect() });
        let keys = evidence_keys(plan, reader);
        let mut texts = Vec::new();
        for r in &rules {
            let t = format!("CASE WHEN {} THEN {} END", ident(&hit_column(&r.id)), template(&r.evidence)?);
            texts.push(format!("{} AS {}", ordered_join(&keys, &t, "；"), ident(&evidence_column(&r.id))));
        }
        let any: Vec<String> = rules.iter().map(|r| ident(&hit_column(&r.id))).collect();
        let view = format!("{records}_ev");
        q.view(&view, &format!("SELECT {HH}, {} FROM {hits_view} WHERE {} GROUP BY {HH}", texts.join(", "), any.join(" OR ")));
        out.push(Group { view, columns: rules.iter().map(|r| (evidence_column(&r.id), Some("''".into()))).collect() });
    }
    for (i, l) in plan.lists.iter().enumerate().filter(|(_, l)| l.source == reader) {
        let filter = match &l.filter {
            Some(f) => format!(" WHERE coalesce({}, FALSE)", sql(f)?),
            None => String::new(),
        };
        let view = format!("list_{i}");
        let t = ordered_join(&list_keys(plan, reader), &template(&l.template)?, "；");
        q.view(&view, &format!("SELECT {HH}, {t} AS {} FROM {hits_view}{filter} GROUP BY {HH}", ident(&list_column(i))));
        out.push(Group { view, columns: vec![(list_column(i), Some("''".into()))] });
    }
    Ok(out)
}
