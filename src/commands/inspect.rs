//! `fanpin inspect --rules FILE --data DIR [--source NAME] [PATH]`: how each file of a source
//! is read, before any run. Exits non-zero when a source cannot be screened.
//! ID numbers are masked in everything it prints.

use crate::cli::InspectArgs;
use crate::rules::plan::{ColType, Table};
use crate::sources::read::FILE;
use crate::{rules, sources};
use crate::sources::InputProblem;
use anyhow::{anyhow, bail, Result};
use polars::prelude::*;
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
    for (t, required) in tables {
        if let Some(path) = &args.path {
            let mut single = t.clone();
            single.read.pattern = path.to_string_lossy().to_string();
            if !inspect_table(&single, false, Path::new("."), &mut unusable)? {
                continue;
            }
        } else {
            inspect_table(t, required, &args.data, &mut unusable)?;
        }
    }
    // The exit code `screen` would give (6 unreadable, 7 missing), from the first problem.
    match unusable.first() {
        None => Ok(()),
        Some((_, kind)) => Err(anyhow!("cannot be screened: {}", unusable.iter().map(|(m, _)| m.as_str()).collect::<Vec<_>>().join("; ")).context(*kind)),
    }
}

/// Prints one table's files; returns false when its files don't fit the table.
/// `required`: the roster, or a source marked `required = true`, which may not be absent.
fn inspect_table(t: &Table, required: bool, dir: &Path, unusable: &mut Vec<(String, InputProblem)>) -> Result<bool> {
    out!("\n== {} ({}) · {}", t.name, t.label, t.read.pattern);
    let data = match sources::load_table(t, dir) {
        Ok(d) => d,
        Err(e) => {
            out!("   ✗ {}", crate::log::scrub(&format!("{e:#}")));
            let kind = e.downcast_ref::<InputProblem>().copied().unwrap_or(InputProblem::Unreadable);
            unusable.push((format!("{}: {e:#}", t.name), kind));
            return Ok(false);
        }
    };
    if !data.present() && required {
        out!("   ✗ no file matches, and it is required");
        unusable.push((format!("{}: no file matches {}, and it is required", t.name, t.read.pattern), InputProblem::Missing));
        return Ok(true);
    }
    if !data.present() {
        out!("   no file matches: a source with no records");
        return Ok(true);
    }
    for f in &data.files {
        out!(
            "   {} · {}{}{}{} · header on line {} · {} records{}{}",
            f.file,
            f.format,
            f.encoding.map(|e| format!(" · {e}")).unwrap_or_default(),
            f.delimiter.map(|d| format!(" · delimiter {}", if d == '\t' { "\\t".to_string() } else { d.to_string() })).unwrap_or_default(),
            f.sheet.as_ref().map(|s| format!(" · sheet {s}")).unwrap_or_default(),
            f.header_line,
            f.records,
            if f.skipped_blank > 0 { format!(" · {} blank rows skipped", f.skipped_blank) } else { String::new() },
            if f.skipped_total > 0 { format!(" · {} total rows skipped", f.skipped_total) } else { String::new() },
        );
        let rows = data.valid.clone().lazy().filter(col(FILE).eq(lit(f.file.as_str()))).collect()?;
        for (canonical, header) in &f.mapping {
            let column = t.column(canonical).expect("mapped columns are declared");
            let samples = texts(&rows, canonical, 3)?;
            // ID numbers masked, also in a text column that holds some; long cells cut.
            let samples: Vec<String> = samples.iter().map(|s| if column.ty == ColType::Id { mask_id(s) } else { crate::log::quote(&crate::log::mask_ids(s)) }).collect();
            let from = if canonical == header { String::new() } else { format!(" ← {header}") };
            out!("     {canonical}{from}: {}", samples.join(" | "));
        }
        let rejects = data
            .rejects
            .clone()
            .lazy()
            .filter(col("文件").eq(lit(f.file.as_str())))
            .group_by_stable([col("列"), col("原因")])
            .agg([len().alias("n"), col("值").first().alias("例")])
            .sort(["列", "原因"], SortMultipleOptions::default())
            .collect()?;
        if rejects.height() == 0 {
            out!("     ✓ every value readable");
        }
        for i in 0..rejects.height() {
            let get = |c: &str| -> Result<String> { Ok(rejects.column(c)?.get(i)?.str_value().to_string()) };
            let column = get("列")?;
            let example = get("例")?;
            let example = if t.column(&column).is_some_and(|c| c.ty == ColType::Id) { mask_id(&example) } else { crate::log::quote(&crate::log::mask_ids(&example)) };
            out!("     ✗ {column}: {} × {} (e.g. '{example}')", get("n")?, get("原因")?);
        }
    }
    Ok(true)
}

#[cfg(test)]
mod tests {
    #[test]
    fn ids_are_masked_keeping_region_and_last_four() {
        assert_eq!(super::mask_id("522601198001010016"), "522601********0016");
        assert_eq!(super::mask_id("12345"), "*****");
    }
}
