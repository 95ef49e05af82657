//! `fanpin check RULES [--data DIR]`: validate a rules file, listing every error with
//! file:line:col; with --data, also the headers of the files it declares.

use crate::cli::CheckArgs;
use crate::rules;
use crate::sources::read;
use anyhow::{bail, Result};

pub fn run(args: &CheckArgs) -> Result<()> {
    let loaded = rules::load(&args.rules, args.data.as_deref(), None)?;
    let plan = &loaded.plan;
    if let Some(dir) = &args.data {
        let tables = std::iter::once(&plan.roster.households)
            .chain(std::iter::once(&plan.roster.members))
            .chain(plan.sources.iter().map(|s| &s.table));
        let mut problems = Vec::new();
        for t in tables {
            match read::read_table(t, dir) {
                Ok(None) => out!("  {:<18} {:<22} absent (a source with no records)", t.name, t.file),
                Ok(Some(raw)) => out!("  {:<18} {:<22} ok ({} file{}, {} records)", t.name, t.file, raw.files.len(), if raw.files.len() == 1 { "" } else { "s" }, raw.df.height()),
                Err(e) => problems.push(format!("{e:#}")),
            }
        }
        if !problems.is_empty() {
            bail!("{}", problems.join("\n"));
        }
    }
    out!(
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
        out!("  {} = {} (from {}; {})", p.name, p.value.display(), p.from, p.reference);
    }
    Ok(())
}
