//! Month-to-month changes for cron runs (`screen --previous DIR`): each listed household is
//! 新增 (new) or 持续 (listed last time too); households listed last time but not now go to
//! dropped.csv with the reason; monitored households whose risk-elimination conditions hold in
//! this run and whose income was at or above the line in the previous run too go to
//! elimination_candidates.csv.

use crate::evaluate::Outcome;
use crate::rules::plan::{Report, Wording};
use anyhow::{anyhow, Context, Result};
use polars::prelude::*;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use super::summary::TextTable;

/// What a previous run's output directory says.
pub struct Previous {
    /// 户编号 → (乡镇, 村, 户主姓名, 类别) of its flagged.csv.
    pub listed: BTreeMap<String, [String; 4]>,
    /// Its screened.csv (every household, all text); `None` when the directory has none.
    pub screened: Option<DataFrame>,
    /// The files read, with their SHA-256 (for the manifest and `replay`).
    pub files: Vec<(String, String)>,
    /// The directory they were read from: the previous run's own directory (`DIR/runs/…`,
    /// where `DIR/latest` pointed), so that `replay` finds the same files after later runs.
    pub dir: std::path::PathBuf,
}

pub fn read_previous(dir: &Path) -> Result<Previous> {
    let dir = &super::publish::run_dir(dir);
    let listed = previous_listed(dir)?;
    let path = dir.join("screened.csv");
    let screened = if path.is_file() {
        let df = CsvReadOptions::default()
            .with_has_header(true)
            .with_infer_schema_length(Some(0))
            .with_columns(Some(["户编号", "人均纯收入", "监测线"].into_iter().map(Into::into).collect()))
            .try_into_reader_with_file_path(Some(path.clone()))
            .and_then(|r| r.finish())
            .map_err(|e| anyhow!("--previous: cannot read {}: {e}", path.display()))?;
        Some(df)
    } else {
        None
    };
    let mut files = Vec::new();
    for name in ["flagged.csv", "screened.csv"] {
        let p = dir.join(name);
        if p.is_file() {
            files.push((name.to_string(), crate::sources::sha256_file(&p)?));
        }
    }
    Ok(Previous { listed, screened, files, dir: dir.clone() })
}

/// Monitored households that meet the risk-elimination conditions now (`__elimination`: the
/// rules' own, no category, no trigger) and had a per-capita income at or above that run's line
/// in the previous run; households that stay monitored anyway (`__stays`) are left out. Returns
/// the table and how many households met the income conditions in both runs (no category,
/// `__elimination_income`) but stay monitored.
/// `screened` is `outcome.screened_households()`; `basis` is the rules' wording of 依据.
pub fn elimination_candidates(screened: &DataFrame, previous: &DataFrame, basis: &[Wording]) -> Result<(DataFrame, usize)> {
    let money = DataType::Decimal(38, 2);
    let before = previous.clone().lazy().select([col("户编号"), col("人均纯收入").alias("上次人均纯收入"), col("监测线").alias("上次监测线")]);
    let met = screened
        .clone()
        .lazy()
        .filter(col("__monitored").and(col("__elimination_income")))
        .join(before, [col("户编号")], [col("户编号")], JoinArgs::new(JoinType::Inner))
        .filter(col("上次人均纯收入").cast(money.clone()).gt_eq(col("上次监测线").cast(money)).fill_null(lit(false)));
    let stays = met.clone().filter(col("__stays")).select([len()]).collect()?;
    let stays = stays.column("len")?.get(0)?.extract::<u64>().unwrap_or(0) as usize;
    let table = met
        .filter(col("__elimination").and(col("__stays").not()))
        .select([
            col("乡镇"),
            col("村"),
            col("户编号"),
            col("户主姓名"),
            col("监测状态"),
            col("家庭人口"),
            col("人均纯收入"),
            col("监测线"),
            col("上次人均纯收入"),
            col("上次监测线"),
            concat_str(basis_pieces(basis), "", false).alias("依据"),
        ])
        .sort(["乡镇", "村", "户编号"], SortMultipleOptions::default().with_maintain_order(true))
        .collect()?;
    Ok((table, stays))
}

/// The sentence as column expressions (a figure: that column of the table, as text).
fn basis_pieces(basis: &[Wording]) -> Vec<Expr> {
    let mut pieces: Vec<Expr> = basis
        .iter()
        .map(|w| match w {
            Wording::Text(t) => lit(t.as_str()),
            Wording::Figure(c) => col(c.as_str()).cast(DataType::String).fill_null(lit("")),
        })
        .collect();
    if pieces.is_empty() {
        pieces.push(lit(""));
    }
    pieces
}

/// 户编号 → (乡镇, 村, 户主姓名, 类别) of a previous run's flagged.csv.
pub fn previous_listed(dir: &Path) -> Result<BTreeMap<String, [String; 4]>> {
    let rows = super::readback::flagged(dir).context("--previous")?;
    Ok(rows.into_iter().map(|r| (r.key, [r.town, r.village, r.head, r.category])).collect())
}

/// Adds 变化 (新增 / 持续) to the listed households.
pub fn mark_changes(listed: &DataFrame, previous: &BTreeMap<String, [String; 4]>) -> Result<DataFrame> {
    let before = Series::new("before".into(), previous.keys().cloned().collect::<Vec<String>>());
    Ok(listed
        .clone()
        .lazy()
        .with_column(when(col("户编号").is_in(lit(before).implode(false), false)).then(lit("持续")).otherwise(lit("新增")).alias("变化"))
        .collect()?)
}

/// (新增, 持续, 移出) households: from 变化 of the marked list and the dropped households.
pub fn counts(marked: &DataFrame, dropped: &TextTable) -> Result<Vec<(String, usize)>> {
    let change = marked.column("变化")?.str()?.clone();
    let count = |v: &str| change.iter().filter(|c| *c == Some(v)).count();
    Ok(vec![("新增".to_string(), count("新增")), ("持续".to_string(), count("持续")), ("移出".to_string(), dropped.rows.len())])
}

/// Households listed last time and not now, with why (in the rules' `[report]` wording).
/// `screened` is `outcome.screened_households()`.
pub fn dropped(outcome: &Outcome, screened: &DataFrame, previous: &BTreeMap<String, [String; 4]>, wording: &Report) -> Result<TextTable> {
    let listed: BTreeSet<String> = {
        let c = outcome.listed.column("户编号")?.str()?.clone();
        (0..c.len()).filter_map(|i| c.get(i).map(str::to_string)).collect()
    };
    let s = screened;
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
            None => wording.dropped_not_screened.clone(),
            Some(&i) if excl.get(i) == Some(true) => wording.dropped_excluded.clone(),
            Some(&i) if cats.get(i).is_none() => wording
                .dropped_no_category
                .iter()
                .map(|w| match w {
                    Wording::Text(t) => t.as_str(),
                    Wording::Figure(f) if f == "人均纯收入" => pci.get(i).unwrap_or(""),
                    Wording::Figure(_) => line.get(i).unwrap_or(""),
                })
                .collect(),
            Some(_) => wording.dropped_not_listed.clone(),
        };
        rows.push(vec![town.clone(), village.clone(), key.clone(), head.clone(), category.clone(), reason]);
    }
    Ok(TextTable { headers: ["乡镇", "村", "户编号", "户主姓名", "上次类别", "原因"].iter().map(|s| s.to_string()).collect(), rows })
}
