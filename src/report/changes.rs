//! Month-to-month changes for cron runs (`screen --previous DIR`): each listed household is
//! 新增 (new) or 持续 (listed last time too), and households listed last time but not now go to
//! dropped.csv with the reason.

use crate::evaluate::Outcome;
use anyhow::{anyhow, Context, Result};
use polars::prelude::*;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use super::summary::TextTable;

/// 户编号 → (乡镇, 村, 户主姓名, 类别) of a previous run's flagged.csv.
pub fn previous_listed(dir: &Path) -> Result<BTreeMap<String, [String; 4]>> {
    let path = dir.join("flagged.csv");
    let mut r = csv::Reader::from_path(&path).with_context(|| format!("--previous: cannot read {}", path.display()))?;
    let headers: Vec<String> = r.headers()?.iter().map(|h| h.trim_start_matches('\u{feff}').to_string()).collect();
    let at = |n: &str| headers.iter().position(|h| h == n).ok_or_else(|| anyhow!("{}: no column {n}", path.display()));
    let (k, t, v, h, c) = (at("户编号")?, at("乡镇")?, at("村")?, at("户主姓名")?, at("类别")?);
    let mut out = BTreeMap::new();
    for rec in r.records() {
        let rec = rec.with_context(|| format!("cannot read {}", path.display()))?;
        let get = |i: usize| rec.get(i).unwrap_or("").to_string();
        out.insert(get(k), [get(t), get(v), get(h), get(c)]);
    }
    Ok(out)
}

/// Adds 变化 (新增 / 持续) to the listed households.
pub fn mark_changes(listed: &DataFrame, previous: &BTreeMap<String, [String; 4]>) -> Result<DataFrame> {
    let before = Series::new("before".into(), previous.keys().cloned().collect::<Vec<String>>());
    Ok(listed
        .clone()
        .lazy()
        .with_column(
            when(col("户编号").is_in(lit(before).implode(false), false))
                .then(lit("持续"))
                .otherwise(lit("新增"))
                .alias("变化"),
        )
        .collect()?)
}

/// Households listed last time and not now, with why.
pub fn dropped(outcome: &Outcome, previous: &BTreeMap<String, [String; 4]>) -> Result<TextTable> {
    let listed: BTreeSet<String> = {
        let c = outcome.listed.column("户编号")?.str()?.clone();
        (0..c.len()).filter_map(|i| c.get(i).map(str::to_string)).collect()
    };
    let s = &outcome.screened_households;
    let keys = s.column("户编号")?.str()?.clone();
    let cats = s.column("__category")?.str()?.clone();
    let excl = s.column("__excluded")?.bool()?.clone();
    let pci = s.column("人均纯收入")?.str()?.clone();
    let line = s.column("监测线")?.str()?.clone();
    // 户编号 → row, for the previous households only (a small set).
    let mut at: BTreeMap<&str, usize> = BTreeMap::new();
    for i in 0..keys.len() {
        if let Some(k) = keys.get(i) {
            if previous.contains_key(k) {
                at.insert(k, i);
            }
        }
    }
    let mut rows = Vec::new();
    for (key, [town, village, head, category]) in previous {
        if listed.contains(key) {
            continue;
        }
        let reason = match at.get(key.as_str()) {
            None => "已不在户表中(或该户被拒收,见rejects.csv)".to_string(),
            Some(&i) if excl.get(i) == Some(true) => "按规则排除".to_string(),
            Some(&i) if cats.get(i).is_none() => format!(
                "人均纯收入{}元已不低于监测线{}元,且无突发严重困难情形",
                pci.get(i).unwrap_or(""),
                line.get(i).unwrap_or("")
            ),
            Some(_) => "仍符合类别但未列出".to_string(),
        };
        rows.push(vec![town.clone(), village.clone(), key.clone(), head.clone(), category.clone(), reason]);
    }
    Ok(TextTable {
        headers: ["乡镇", "村", "户编号", "户主姓名", "上次类别", "原因"].iter().map(|s| s.to_string()).collect(),
        rows,
    })
}
