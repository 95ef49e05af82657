//! Summary tables: households and persons per category per township, and per risk type.
//! Persons are the co-resident members (the household size the rules compute).

use crate::evaluate::{risk_column, Outcome};
use crate::rules::plan::Plan;
use anyhow::Result;
use polars::prelude::*;
use std::collections::BTreeMap;

/// A small table of text cells, ready for any renderer.
pub struct TextTable {
    pub headers: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

fn get_i64(df: &DataFrame, column: &str, row: usize) -> Result<i64> {
    Ok(df.column(column)?.get(row)?.extract::<i64>().unwrap_or(0))
}

pub fn by_township(plan: &Plan, outcome: &Outcome) -> Result<TextTable> {
    let counts = outcome
        .listed
        .clone()
        .lazy()
        .group_by([col("乡镇"), col("__category")])
        .agg([len().cast(DataType::Int64).alias("户"), col("__size").sum().cast(DataType::Int64).alias("人")])
        .collect()?;
    // (township → category → (households, persons)); BTreeMap keeps townships sorted.
    // The grades (categories that are not leads) are counted over every screened household.
    let mut cells: BTreeMap<String, BTreeMap<String, (i64, i64)>> = BTreeMap::new();
    for counts in [&counts, &outcome.grades] {
        let towns = counts.column("乡镇")?.str()?.clone();
        let cats = counts.column("__category")?.str()?.clone();
        for i in 0..counts.height() {
            let t = towns.get(i).unwrap_or("").to_string();
            let c = cats.get(i).unwrap_or("").to_string();
            cells.entry(t).or_default().insert(c, (get_i64(counts, "户", i)?, get_i64(counts, "人", i)?));
        }
    }
    let categories: Vec<&str> = plan.categories.iter().map(|c| c.name.as_str()).collect();
    let mut headers = vec!["乡镇".to_string()];
    for c in &categories {
        headers.push(format!("{c}户数"));
        headers.push(format!("{c}人数"));
    }
    headers.push("合计户数".into());
    headers.push("合计人数".into());
    let mut totals = vec![0i64; categories.len() * 2 + 2];
    let mut rows = Vec::new();
    for (town, by_cat) in &cells {
        let mut row = vec![town.clone()];
        let mut nums = Vec::new();
        let (mut h, mut p) = (0, 0);
        for c in &categories {
            let (ch, cp) = by_cat.get(*c).copied().unwrap_or((0, 0));
            nums.extend([ch, cp]);
            h += ch;
            p += cp;
        }
        nums.extend([h, p]);
        for (t, n) in totals.iter_mut().zip(&nums) {
            *t += n;
        }
        row.extend(nums.iter().map(i64::to_string));
        rows.push(row);
    }
    let mut total_row = vec!["合计".to_string()];
    total_row.extend(totals.iter().map(i64::to_string));
    rows.push(total_row);
    Ok(TextTable { headers, rows })
}

pub fn by_risk(plan: &Plan, outcome: &Outcome) -> Result<TextTable> {
    let mut risks = plan.risk_types();
    let mut exprs = Vec::new();
    for (i, r) in risks.iter().enumerate() {
        let hit = col(risk_column(r).as_str()).cast(DataType::Int64);
        exprs.push(hit.clone().sum().alias(format!("h{i}").as_str()));
        exprs.push((hit * col("__size")).sum().alias(format!("p{i}").as_str()));
    }
    let none = col("风险类型").eq(lit(plan.report.no_trigger_risk.as_str())).cast(DataType::Int64);
    exprs.push(none.clone().sum().alias("h_none"));
    exprs.push((none * col("__size")).sum().alias("p_none"));
    let sums = outcome.listed.clone().lazy().select(exprs).collect()?;
    let mut rows = Vec::new();
    for (i, r) in risks.iter().enumerate() {
        rows.push(vec![r.clone(), get_i64(&sums, &format!("h{i}"), 0)?.to_string(), get_i64(&sums, &format!("p{i}"), 0)?.to_string()]);
    }
    risks.push(plan.report.no_trigger_risk.clone());
    rows.push(vec![plan.report.no_trigger_risk.clone(), get_i64(&sums, "h_none", 0)?.to_string(), get_i64(&sums, "p_none", 0)?.to_string()]);
    Ok(TextTable { headers: vec!["风险类型".into(), "户数".into(), "人数".into()], rows })
}

/// How many screened households each trigger and exclusion hit (before any category).
pub fn coverage(plan: &Plan, outcome: &Outcome) -> TextTable {
    let kind = |id: &str| if plan.triggers.iter().any(|t| t.id == id) { "触发" } else { "排除" };
    TextTable {
        headers: vec!["规则".into(), "名称".into(), "类型".into(), "命中户数".into()],
        rows: outcome.coverage.iter().map(|(id, label, n)| vec![id.clone(), label.clone(), kind(id).into(), n.to_string()]).collect(),
    }
}

/// parameters.csv: each parameter value in force on the determination date, the date it took
/// effect and its reference (flagged.csv's 证据 names the values each household's rules used).
pub fn parameters(plan: &Plan) -> TextTable {
    TextTable {
        headers: ["参数", "值", "生效日期", "依据", "说明"].iter().map(|s| s.to_string()).collect(),
        rows: plan.parameters.iter().map(|p| vec![p.name.clone(), p.shown(), p.from.to_string(), p.reference.clone(), p.description.clone()]).collect(),
    }
}
