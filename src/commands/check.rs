//! `fanpin check RULES [--data DIR]`: validate a rules file, listing every error with
//! file:line:col; with --data, also the headers of the files it declares.

use crate::cli::CheckArgs;
use crate::rules;
use crate::sources::read;
use anyhow::{bail, Result};

pub fn run(args: &CheckArgs) -> Result<()> {
    let loaded = rules::load(&args.rules)?;
    let plan = &loaded.plan;
    if let Some(dir) = &args.data {
        let tables = std::iter::once(&plan.roster.households)
            .chain(std::iter::once(&plan.roster.members))
            .chain(plan.sources.iter().map(|s| &s.table));
        let mut problems = Vec::new();
        for t in tables {
            let path = dir.join(&t.file);
            if !path.exists() {
                println!("  {:<18} {:<22} absent (a source with no records)", t.name, t.file);
                continue;
            }
            let header = read::header(&path)?;
            let missing: Vec<&str> = t.columns.iter().map(|c| c.name.as_str()).filter(|c| !header.iter().any(|h| h == c)).collect();
            if missing.is_empty() {
                println!("  {:<18} {:<22} ok", t.name, t.file);
            } else {
                problems.push(format!("{}: missing {} (header: {})", path.display(), missing.join(", "), header.join(", ")));
            }
        }
        if !problems.is_empty() {
            bail!("{}", problems.join("\n"));
        }
    }
    println!(
        "ok: {} · {} · 判定日期 {} · {} sources, {} triggers, {} exclusions, {} categories",
        args.rules.display(),
        plan.meta.name,
        plan.meta.as_of,
        plan.sources.len(),
        plan.triggers.len(),
        plan.exclusions.len(),
        plan.categories.len()
    );
    for p in &plan.parameters {
        println!("  {} = {} (from {}; {})", p.name, p.value.display(), p.from, p.reference);
    }
    Ok(())
}
