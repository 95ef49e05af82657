//! `fanpin diff A B`: between two screen outputs (e.g. the 2021 rules and the 2022 rules on the
//! same data), the households added to the list, removed from it, or whose category, risk
//! types or 建议 changed. Prints a summary and a table; `--csv FILE` writes every row.

use crate::cli::DiffArgs;
use crate::report::summary::TextTable;
use crate::report::{terminal, write_atomically};
use anyhow::{anyhow, Context, Result};
use std::collections::BTreeMap;
use std::path::Path;

/// The flagged.csv fields a diff compares, plus where the household is.
#[derive(Clone, PartialEq)]
struct Listed {
    town: String,
    village: String,
    category: String,
    risks: String,
    advice: String,
    per_capita: String,
}

fn read_flagged(dir: &Path) -> Result<BTreeMap<String, Listed>> {
    Ok(crate::report::readback::flagged(dir)?
        .into_iter()
        .map(|r| (r.key, Listed { town: r.town, village: r.village, category: r.category, risks: r.risks, advice: r.advice, per_capita: r.per_capita }))
        .collect())
}

/// Per-capita income of every screened household (screened.csv), when the run wrote one.
fn read_screened_income(dir: &Path) -> Result<Option<Screened>> {
    let path = dir.join("screened.csv");
    if !path.is_file() {
        return Ok(None);
    }
    let mut r = csv::Reader::from_path(&path).with_context(|| format!("cannot read {}", path.display()))?;
    let headers: Vec<String> = r.headers()?.iter().map(|h| h.trim_start_matches('\u{feff}').to_string()).collect();
    let at = |n: &str| headers.iter().position(|h| h == n).ok_or_else(|| anyhow!("{}: no column {n}", path.display()));
    let (k, p, x) = (at("户编号")?, at("人均纯收入")?, at("排除提示")?);
    let mut out = BTreeMap::new();
    for rec in r.records() {
        let rec = rec.with_context(|| format!("cannot read {}", path.display()))?;
        out.insert(rec.get(k).unwrap_or("").to_string(), (rec.get(p).unwrap_or("").to_string(), rec.get(x).unwrap_or("").to_string()));
    }
    Ok(Some(out))
}

const HEADERS: [&str; 12] = ["变化", "乡镇", "村", "户编号", "A类别", "B类别", "A风险类型", "B风险类型", "A建议", "B建议", "A人均纯收入", "B人均纯收入"];

type Screened = BTreeMap<String, (String, String)>;

fn diff(a: &BTreeMap<String, Listed>, b: &BTreeMap<String, Listed>, a_income: Option<&Screened>, b_income: Option<&Screened>) -> TextTable {
    let mut rows = Vec::new();
    let keys: std::collections::BTreeSet<&String> = a.keys().chain(b.keys()).collect();
    for key in keys {
        let row = match (a.get(key), b.get(key)) {
            (Some(x), None) => {
                let (pci, excluded) = b_income.and_then(|m| m.get(key)).cloned().unwrap_or_default();
                let what = match b_income {
                    Some(m) if !m.contains_key(key) => "移出(B未筛查此户)".to_string(),
                    _ if !excluded.is_empty() => format!("移出({excluded})"),
                    _ => "移出".to_string(),
                };
                vec![
                    what,
                    x.town.clone(),
                    x.village.clone(),
                    key.clone(),
                    x.category.clone(),
                    String::new(),
                    x.risks.clone(),
                    String::new(),
                    x.advice.clone(),
                    String::new(),
                    x.per_capita.clone(),
                    pci,
                ]
            }
            (None, Some(y)) => {
                let pci = a_income.and_then(|m| m.get(key)).map(|(p, _)| p.clone()).unwrap_or_default();
                vec![
                    "新增".into(),
                    y.town.clone(),
                    y.village.clone(),
                    key.clone(),
                    String::new(),
                    y.category.clone(),
                    String::new(),
                    y.risks.clone(),
                    String::new(),
                    y.advice.clone(),
                    pci,
                    y.per_capita.clone(),
                ]
            }
            (Some(x), Some(y)) => {
                let mut what = Vec::new();
                if x.category != y.category {
                    what.push("类别");
                }
                if x.risks != y.risks {
                    what.push("风险类型");
                }
                if x.advice != y.advice {
                    what.push("建议");
                }
                if what.is_empty() {
                    continue;
                }
                vec![
                    format!("{}变化", what.join("、")),
                    y.town.clone(),
                    y.village.clone(),
                    key.clone(),
                    x.category.clone(),
                    y.category.clone(),
                    x.risks.clone(),
                    y.risks.clone(),
                    x.advice.clone(),
                    y.advice.clone(),
                    x.per_capita.clone(),
                    y.per_capita.clone(),
                ]
            }
            (None, None) => continue,
        };
        rows.push(row);
    }
    TextTable { headers: HEADERS.iter().map(|s| s.to_string()).collect(), rows }
}

pub fn run(args: &DiffArgs) -> Result<()> {
    // Each run's files are read from its own directory (where `latest` points), all of a set.
    let (dir_a, dir_b) = (crate::report::publish::run_dir(&args.a), crate::report::publish::run_dir(&args.b));
    let a = read_flagged(&dir_a)?;
    let b = read_flagged(&dir_b)?;
    let a_income = read_screened_income(&dir_a)?;
    let b_income = read_screened_income(&dir_b)?;
    let table = diff(&a, &b, a_income.as_ref(), b_income.as_ref());
    let count = |p: &str| table.rows.iter().filter(|r| r[0].starts_with(p)).count();
    out!(
        "A {} 列出 {} 户 · B {} 列出 {} 户 · 新增 {} 户, 移出 {} 户, 类别/风险类型/建议变化 {} 户",
        args.a.display(),
        a.len(),
        args.b.display(),
        b.len(),
        count("新增"),
        count("移出"),
        table.rows.len() - count("新增") - count("移出")
    );
    if let Some(path) = &args.csv {
        write_atomically(path, |w| {
            use std::io::Write;
            w.write_all(b"\xEF\xBB\xBF")?;
            let mut c = csv::Writer::from_writer(w);
            c.write_record(&table.headers)?;
            for r in &table.rows {
                c.write_record(r)?;
            }
            c.flush()?;
            Ok(())
        })?;
        out!("每户明细写入 {}", path.display());
    }
    if table.rows.is_empty() {
        return Ok(());
    }
    let shown = args.limit.min(table.rows.len());
    let head = TextTable { headers: table.headers.clone(), rows: table.rows[..shown].to_vec() };
    out!("{}", terminal::render(&head));
    if shown < table.rows.len() {
        out!("(只显示前 {shown} 户; 全部 {} 户: --csv FILE)", table.rows.len());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn l(cat: &str, risks: &str, advice: &str) -> Listed {
        Listed { town: "T".into(), village: "V".into(), category: cat.into(), risks: risks.into(), advice: advice.into(), per_capita: "1.00".into() }
    }

    #[test]
    fn added_removed_and_changed_households_are_named_and_unchanged_ones_are_not() {
        let a: BTreeMap<String, Listed> = [
            ("h1".to_string(), l("边缘易致贫户", "因病", "纳入核实")),
            ("h2".to_string(), l("脱贫不稳定户", "待核实", "纳入核实")),
            ("h3".to_string(), l("边缘易致贫户", "因学", "纳入核实")),
        ]
        .into();
        let b: BTreeMap<String, Listed> = [
            ("h1".to_string(), l("边缘易致贫户", "因病", "纳入核实")),
            ("h3".to_string(), l("突发严重困难户", "因学、因病", "纳入核实")),
            ("h4".to_string(), l("边缘易致贫户", "待核实", "建议不纳入(需评议)")),
        ]
        .into();
        let t = diff(&a, &b, None, None);
        let what: Vec<(&str, &str)> = t.rows.iter().map(|r| (r[0].as_str(), r[3].as_str())).collect();
        assert_eq!(what, vec![("移出", "h2"), ("类别、风险类型变化", "h3"), ("新增", "h4")]);
    }
}
