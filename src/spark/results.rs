//! The job's result tables: written by the job as JSON lines (one directory per table), read
//! back here into frames shaped as the local engine's. Both sides of that contract live here.

use super::Sql;
use crate::rules::plan::Plan;
use anyhow::{Context, Result};
use polars::prelude::*;
use std::path::Path;

/// The tables the job writes: (name, the SELECT that gives it).
fn tables(plan: &Plan) -> Vec<(&'static str, String)> {
    let mut rejects = vec!["SELECT 0 AS __table, __order, `来源`, `文件`, `行号`, `列`, `值`, `原因` FROM roster_rejects".to_string()];
    let mut files = vec![
        "SELECT 'households' AS __table, file, records, skipped_blank, skipped_total FROM hh_in_files".to_string(),
        "SELECT 'members' AS __table, file, records, skipped_blank, skipped_total FROM mem_in_files".to_string(),
    ];
    for i in 0..plan.sources.len() {
        let v = super::eval::source_view(i);
        rejects.push(format!("SELECT {} AS __table, __order, `来源`, `文件`, `行号`, `列`, `值`, `原因` FROM {v}_rejects", i + 1));
        files.push(format!("SELECT 'source{i}' AS __table, file, records, skipped_blank, skipped_total FROM {v}_files"));
    }
    vec![
        ("listed", "SELECT * FROM o_listed".into()),
        ("screened", "SELECT * FROM o_screened".into()),
        ("grades", "SELECT * FROM o_grades".into()),
        ("counts", "SELECT * FROM o_counts".into()),
        ("stats", "SELECT * FROM o_stats".into()),
        ("unmatched", "SELECT * FROM o_unmatched".into()),
        ("rejects", rejects.join(" UNION ALL ")),
        ("files", files.join(" UNION ALL ")),
    ]
}

pub fn write_all(plan: &Plan, dir: &str, q: &mut Sql) {
    for (name, select) in tables(plan) {
        q.write(dir, name, &select);
    }
}

/// How a result column is read back.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Text,
    Int,
    Bool,
}

/// One result table (every `part-*.json` of its directory) as a frame with these columns; a
/// key the JSON omits is a NULL.
pub fn read(dir: &Path, name: &str, columns: &[(String, Kind)]) -> Result<DataFrame> {
    let table = dir.join(name);
    let mut parts: Vec<_> = std::fs::read_dir(&table)
        .with_context(|| format!("the Spark job wrote no {name} table at {}", table.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.starts_with("part-") && n.ends_with(".json")))
        .collect();
    parts.sort();
    let mut texts: Vec<Vec<Option<String>>> = vec![Vec::new(); columns.len()];
    let mut ints: Vec<Vec<Option<i64>>> = vec![Vec::new(); columns.len()];
    let mut bools: Vec<Vec<Option<bool>>> = vec![Vec::new(); columns.len()];
    for part in parts {
        let content = std::fs::read_to_string(&part).with_context(|| format!("reading {}", part.display()))?;
        for (n, line) in content.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
            let row: serde_json::Map<String, serde_json::Value> =
                serde_json::from_str(line).with_context(|| format!("{} line {}: not a JSON object", part.display(), n + 1))?;
            for (i, (c, kind)) in columns.iter().enumerate() {
                let v = row.get(c).filter(|v| !v.is_null());
                match kind {
                    Kind::Text => texts[i].push(v.map(|v| v.as_str().map(str::to_string).unwrap_or_else(|| v.to_string()))),
                    Kind::Int => ints[i].push(v.and_then(serde_json::Value::as_i64)),
                    Kind::Bool => bools[i].push(v.and_then(serde_json::Value::as_bool)),
                }
            }
        }
    }
    let cols: Vec<Column> = columns
        .iter()
        .enumerate()
        .map(|(i, (c, kind))| match kind {
            Kind::Text => Column::new(c.as_str().into(), std::mem::take(&mut texts[i])),
            Kind::Int => Column::new(c.as_str().into(), std::mem::take(&mut ints[i])),
            Kind::Bool => Column::new(c.as_str().into(), std::mem::take(&mut bools[i])),
        })
        .collect();
    Ok(DataFrame::new_infer_height(cols)?)
}

/// Column specs: names with one kind.
pub fn all(names: &[&str], kind: Kind) -> Vec<(String, Kind)> {
    names.iter().map(|n| (n.to_string(), kind)).collect()
}
