//! `fanpin inspect --rules FILE --data DIR [--source NAME] [PATH]`: how each file of a source
//! is read, before any run. Exits non-zero when a source cannot be screened.
//! ID numbers are masked in everything it prints.

use crate::cli::InspectArgs;
use crate::rules::plan::{ColType, Table};
use crate::sources::read::{FileInfo, FILE, LINE};
use crate::sources::InputProblem;
use crate::{rules, sources};
use anyhow::{anyhow, bail, Result};
use polars::prelude::*;
use std::collections::HashSet;
use std::path::Path;

/// `522601********0016`: enough to recognise a person, not to identify one.
pub fn mask_id(s: &str) -> String {
    let chars: Vec<char> = s.chars().collect();
    if chars.len() < 10 {
        return "*".repeat(chars.len());
    }
    let mut out: String = chars[..6].iter().collect();
    out.push_str(&"*".repeat(chars.len() - 10));
    out.extend(&chars[chars.len() - 4..]);
    out
}

fn texts(df: &DataFrame, column: &str, n: usize) -> Result<Vec<String>> {
    let s = df.column(column)?.as_materialized_series().cast(&DataType::String)?;
    let ca = s.str()?;
    Ok((0..ca.len()).filter_map(|i| ca.get(i)).filter(|v| !v.is_empty()).take(n).map(str::to_string).collect())
}

pub fn run(args: &InspectArgs) -> Result<()> {
    let loaded = rules::load(&args.rules, Some(&args.data), None)?;
    let plan = &loaded.plan;
    if args.path.is_none() && !args.data.is_dir() {
        return Err(anyhow!("the data directory {} does not exist", args.data.display()).context(InputProblem::Missing));
    }
    // (table, required): the roster's files, and sources marked `required = true`.
    let mut tables: Vec<(&Table, bool)> = vec![(&plan.roster.households, true), (&plan.roster.members, true)];
    tables.extend(plan.sources.iter().map(|s| (&s.table, s.required)));
    if let Some(name) = &args.source {
        tables.retain(|(t, _)| &t.name == name);
        if tables.is_empty() {
            bail!("no table named '{name}' in {}", args.rules.display());
        }
    }
    if let Some(f) = &loaded.sources_file {
        out!("reading options from {}", f.display());
    }
    let mut unusable = Vec::new();
    let mut shown = HashSet::new();
    for (t, required) in &tables {
        if let Some(path) = &args.path {
            let mut single = (*t).clone();
            single.read.pattern = path.to_string_lossy().to_string();
            if !inspect_table(&single, false, Path::new("."), &mut unusable, &mut shown)? {
                continue;
            }
        } else {
            inspect_table(t, *required, &args.data, &mut unusable, &mut shown)?;
        }
    }
    // The roster's cross-checks (a 户编号 twice, a person in two households, …) need both files.
    let roster_inspected = tables.iter().any(|(t, _)| t.name == plan.roster.households.name || t.name == plan.roster.members.name);
    if args.path.is_none() && unusable.is_empty() && roster_inspected {
        cross_checks(plan, &args.data, &shown)?;
    }
    // The exit code `screen` would give (6 unreadable, 7 missing), from the first problem.
    match unusable.first() {
        None => Ok(()),
        Some((_, kind)) => Err(anyhow!("cannot be screened: {}", unusable.iter().map(|(m, _)| m.as_str()).collect::<Vec<_>>().join("; ")).context(*kind)),
    }
}

/// Problems listed one by one per file; beyond this, the rest are counted by column and reason.
const LISTED_PROBLEMS: usize = 50;

/// "row" in a workbook's sheet, "line" in a text file.
fn unit(f: &FileInfo) -> &'static str {
    if f.sheet.is_some() || f.format != "csv" {
        "row"
    } else {
        "line"
    }
}

/// How a file is read, in words: `xlsx · sheet 明细`, `tab-delimited text · GB18030`.
fn layout(f: &FileInfo) -> String {
    let format = match f.delimiter {
        _ if f.format != "csv" => f.format.to_string(),
        Some(',') | None => "CSV (comma-delimited)".to_string(),
        Some('\t') => "tab-delimited text".to_string(),
        Some(';') => "semicolon-delimited text".to_string(),
        Some(d) => format!("{d}-delimited text"),
    };
    let mut s = format;
    if let Some(e) = f.encoding {
        s += &format!(" · {e}");
    }
    if let Some(sheet) = &f.sheet {
        s += &format!(" · sheet {sheet}");
    }
    s + &format!(" · header on {} {}", unit(f), f.header_line)
}

/// What files of one layout share: format, header row, mapping and ignored columns.
fn layout_key(f: &FileInfo) -> String {
    format!("{}|{:?}|{:?}", layout(f), f.mapping, f.extra)
}

/// A value as printed: an ID column's masked.
/// A value as inspect shows it: an ID masked, and any ID-shaped run in other text too; long
/// cells cut.
fn shown_value(t: &Table, column: &str, value: &str) -> String {
    if t.column(column).is_some_and(|c| c.ty == ColType::Id) {
        mask_id(value)
    } else {
        crate::log::quote(&crate::log::mask_ids(value))
    }
}

/// Prints one table's files; returns false when its files don't fit the table.
/// `required`: the roster, or a source marked `required = true`, which may not be absent.
/// `shown`: each problem printed, as `file|line|column|reason`.
fn inspect_table(t: &Table, required: bool, dir: &Path, unusable: &mut Vec<(String, InputProblem)>, shown: &mut HashSet<String>) -> Result<bool> {
    let data = match sources::load_table(t, dir) {
        Ok(d) => d,
        Err(e) => {
            out!("\n== {} ({}) · {}", t.name, t.label, t.read.pattern);
            out!("   ✗ {}", crate::log::scrub(&format!("{e:#}")));
            let kind = e.downcast_ref::<InputProblem>().copied().unwrap_or(InputProblem::Unreadable);
            unusable.push((format!("{}: {e:#}", t.name), kind));
            return Ok(false);
        }
    };
    out!(
        "\n== {} ({}) · {} · {} file{} · {} records · {} problem{}",
        t.name,
        t.label,
        t.read.pattern,
        data.files.len(),
        if data.files.len() == 1 { "" } else { "s" },
        data.rows_read,
        data.rejects.height(),
        if data.rejects.height() == 1 { "" } else { "s" }
    );
    if !data.present() {
        if required {
            out!("   ✗ no file matches, and it is required");
            unusable.push((format!("{}: no file matches {}, and it is required", t.name, t.read.pattern), InputProblem::Missing));
        } else if sources::read::is_glob(&t.read.pattern) {
            out!("   ⚠ warning: no file matches the pattern {}: a mistyped name? The source has no records", t.read.pattern);
        } else {
            out!("   no file matches: a source with no records");
        }
        return Ok(true);
    }
    // The files' cells as text, to tell which values a synonym or a conversion changed.
    let raw = raw_text(t, dir)?;
    // Files of one layout (a monthly push) are described once, then listed a line each.
    let mut groups: Vec<(String, Vec<&FileInfo>)> = Vec::new();
    for f in &data.files {
        let key = layout_key(f);
        match groups.iter_mut().find(|(k, _)| *k == key) {
            Some((_, files)) => files.push(f),
            None => groups.push((key, vec![f])),
        }
    }
    for (_, files) in &groups {
        let first = files[0];
        if files.len() > 1 {
            out!("   {} files alike: {}", files.len(), layout(first));
        } else {
            out!("   {} · {}", first.file, layout(first));
        }
        let names: Vec<&str> = files.iter().map(|f| f.file.as_str()).collect();
        let rows = data.valid.clone().lazy().filter(col(FILE).is_in(lit(Series::new("f".into(), names)).implode(false), false)).collect()?;
        for (canonical, header) in &first.mapping {
            let samples: Vec<String> = texts(&rows, canonical, 3)?.iter().map(|s| shown_value(t, canonical, s)).collect();
            let from = if canonical == header { String::new() } else { format!(" ← {header}") };
            out!("     {canonical}{from}: {}", samples.join(" | "));
        }
        if !first.extra.is_empty() {
            out!("     ignored columns: {}", first.extra.join(", "));
        }
        let sampled = if files.iter().any(|f| f.records > CONVERSION_SAMPLE) {
            format!(" (in the first {CONVERSION_SAMPLE} records of each file)")
        } else {
            String::new()
        };
        for line in conversions(t, &raw, &rows)? {
            out!("     {line}{sampled}");
        }
        for f in files {
            file_problems(t, f, &data.rejects, files.len() > 1, shown)?;
        }
    }
    Ok(true)
}

/// Conversions are counted over the first records of each file only: the text of a province's
/// roster would not fit in memory beside its typed records.
const CONVERSION_SAMPLE: usize = 200_000;

/// The declared cells of each file's first `CONVERSION_SAMPLE` records as the file holds them
/// (text), with file and line.
fn raw_text(t: &Table, dir: &Path) -> Result<DataFrame> {
    let mut parts = Vec::new();
    for f in sources::read::read_files(t, dir)? {
        let mut select: Vec<Expr> = t.columns.iter().map(|c| col(c.name.as_str()).cast(DataType::String)).collect();
        select.extend([col(FILE), col(LINE)]);
        parts.push(f.lf.select(select).limit(CONVERSION_SAMPLE as IdxSize));
    }
    if parts.is_empty() {
        return Ok(DataFrame::empty());
    }
    Ok(concat(parts, UnionArgs::default())?.collect()?)
}

/// Synonyms and conversions applied to the valid `rows`, per column: `是否大病: Y → 是 ×12`,
/// `就诊日期: 2020/4/26 → 2020-04-26 ×1` (three examples of each column, the most frequent
/// first). An amount written plainly (`4000` read as 4000.00) is not a conversion.
fn conversions(t: &Table, raw: &DataFrame, rows: &DataFrame) -> Result<Vec<String>> {
    if raw.height() == 0 || rows.height() == 0 {
        return Ok(Vec::new());
    }
    let mut out = Vec::new();
    for c in &t.columns {
        let name = c.name.as_str();
        let value = rows.clone().lazy().select([col(FILE), col(LINE).cast(DataType::Int64), col(name).cast(DataType::String).alias("__value")]);
        let text = raw.clone().lazy().select([col(FILE), col(LINE).cast(DataType::Int64), col(name).str().strip_chars(lit(NULL)).alias("__raw")]);
        let mut changed =
            value.join(text, [col(FILE), col(LINE)], [col(FILE), col(LINE)], JoinArgs::new(JoinType::Inner)).filter(col("__raw").neq(col("__value")));
        if c.ty == ColType::Money {
            changed = changed.filter(col("__raw").str().contains(lit(r"^-?[0-9]+(\.[0-9]{1,2})?$"), false).not());
        }
        let seen = changed
            .group_by([col("__raw"), col("__value")])
            .agg([len().alias("n")])
            .sort_by_exprs([col("n"), col("__raw")], SortMultipleOptions::default().with_order_descending_multi([true, false]))
            .collect()?;
        if seen.height() == 0 {
            continue;
        }
        let total: u64 = seen.column("n")?.as_materialized_series().sum::<u64>().unwrap_or(0);
        let mut examples = Vec::new();
        for i in 0..seen.height().min(3) {
            let get = |col: &str| -> Result<String> { Ok(shown_value(t, name, &seen.column(col)?.get(i)?.str_value())) };
            examples.push(format!("{} → {} ×{}", get("__raw")?, get("__value")?, seen.column("n")?.get(i)?));
        }
        let more = if seen.height() > 3 { format!(" … ({total} values in all)") } else { String::new() };
        out.push(format!("converted {name}: {}{more}", examples.join(", ")));
    }
    Ok(out)
}

/// One file's records and its problems, each bad cell with its row or line, column and value.
fn file_problems(t: &Table, f: &FileInfo, rejects: &DataFrame, named: bool, shown: &mut HashSet<String>) -> Result<()> {
    let mine = rejects.clone().lazy().filter(col("文件").eq(lit(f.file.as_str()))).collect()?;
    let mut line = if named { format!("     {} · {} records", f.file, f.records) } else { format!("     {} records", f.records) };
    if f.skipped_blank > 0 {
        line += &format!(" · {} blank rows skipped", f.skipped_blank);
    }
    if f.skipped_total > 0 {
        line += &format!(" · {} total rows skipped", f.skipped_total);
    }
    if mine.height() == 0 {
        out!("{line} · ✓ every value readable");
        return Ok(());
    }
    out!("{line} · {} problem{}:", mine.height(), if mine.height() == 1 { "" } else { "s" });
    let get = |c: &str, i: usize| -> Result<String> { Ok(mine.column(c)?.get(i)?.str_value().to_string()) };
    for i in 0..mine.height() {
        let (n, column, value, reason) = (get("行号", i)?, get("列", i)?, get("值", i)?, get("原因", i)?);
        shown.insert(format!("{}|{n}|{column}|{reason}", f.file));
        if i < LISTED_PROBLEMS {
            out!("       ✗ {} {} {n} · {column} '{}' · {reason}", f.file, unit(f), shown_value(t, &column, &value));
        }
    }
    if mine.height() > LISTED_PROBLEMS {
        let rest = mine.slice(LISTED_PROBLEMS as i64, mine.height()).lazy().group_by_stable([col("列"), col("原因")]).agg([len().alias("n")]).collect()?;
        out!("       … {} more:", mine.height() - LISTED_PROBLEMS);
        for i in 0..rest.height() {
            out!("         {} × {}: {}", rest.column("n")?.get(i)?, rest.column("列")?.get(i)?.str_value(), rest.column("原因")?.get(i)?.str_value());
        }
    }
    Ok(())
}

/// The roster's cross-checks, as `screen` makes them, for the problems not shown per file.
fn cross_checks(plan: &crate::rules::plan::Plan, dir: &Path, shown: &HashSet<String>) -> Result<()> {
    let roster = crate::households::build(plan, dir, crate::households::Keep::All, |_| {})?;
    let r = &roster.rejects;
    let get = |c: &str, i: usize| -> Result<String> { Ok(r.column(c)?.get(i)?.str_value().to_string()) };
    let mut lines = Vec::new();
    for i in 0..r.height() {
        let (source, file, n, column, value, reason) = (get("来源", i)?, get("文件", i)?, get("行号", i)?, get("列", i)?, get("值", i)?, get("原因", i)?);
        if shown.contains(&format!("{file}|{n}|{column}|{reason}")) {
            continue;
        }
        let table = if source == plan.roster.members.name { &plan.roster.members } else { &plan.roster.households };
        let unit = if [".csv", ".txt", ".tsv"].iter().any(|e| file.to_lowercase().ends_with(e)) { "line" } else { "row" };
        lines.push(format!("   ✗ {file} {unit} {n} · {column} '{}' · {reason}", shown_value(table, &column, &value)));
    }
    out!(
        "\n== roster cross-checks ({} × {}) · {} problem{}",
        plan.roster.households.label,
        plan.roster.members.label,
        lines.len(),
        if lines.len() == 1 { "" } else { "s" }
    );
    if lines.is_empty() {
        out!("   ✓ no 户编号 twice, no person in two households, every member's household known");
    }
    for l in lines {
        out!("{l}");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn ids_are_masked_keeping_region_and_last_four() {
        assert_eq!(super::mask_id("522601198001010016"), "522601********0016");
        assert_eq!(super::mask_id("12345"), "*****");
    }
}
