//! `fanpin check RULES [--data DIR] [--cases FILE]`: validate a rules file, listing every error
//! with file:line:col; with --data, also the headers of the files it declares; then run the
//! rules' test cases (`RULES.cases.toml` beside it, or --cases) with a readable diff per failure.

use crate::cli::CheckArgs;
use crate::rules;
use crate::sources::read;
use crate::sources::InputProblem;
use anyhow::{anyhow, Result};
use std::path::Path;

/// Some rule test cases failed (exit code 9); each failure has been printed.
#[derive(Debug, thiserror::Error)]
#[error("{failed} of {total} rule test cases fail ({file})")]
pub struct CasesFail {
    pub failed: usize,
    pub total: usize,
    pub file: String,
}

pub fn run(args: &CheckArgs) -> Result<()> {
    let loaded = rules::load(&args.rules, args.data.as_deref(), None)?;
    let plan = &loaded.plan;
    if let Some(dir) = &args.data {
        check_data(plan, dir)?;
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
        out!("  {} = {} (from {}; {})", p.name, p.shown(), p.from, p.reference);
    }
    for w in &plan.warnings {
        out!("  warning: {w}");
    }
    let cases = match &args.cases {
        Some(c) => Some(c.clone()),
        None => Some(crate::cases::beside(&args.rules)).filter(|c| c.is_file()),
    };
    let Some(cases) = cases else {
        out!("no test cases ({} not found)", crate::cases::beside(&args.rules).display());
        return Ok(());
    };
    let results = crate::cases::run(&args.rules, &cases)?;
    out!("\nrule test cases: {}", cases.display());
    let mut failed = 0;
    for r in &results {
        if r.diffs.is_empty() {
            out!("  ok   {}", r.name);
            continue;
        }
        failed += 1;
        out!("  FAIL {}  ({}:{})", r.name, cases.display(), r.line);
        for (field, want, got) in &r.diffs {
            out!("         {field}: expected {}", if want.is_empty() { "(空)" } else { want });
            // Chinese field names are two columns wide: line "got" up under "expected".
            out!("         {:w$}     got {}", "", if got.is_empty() { "(空)" } else { got }, w = field.chars().count() * 2 + 2);
        }
        for n in &r.notes {
            out!("         {n}");
        }
    }
    out!("{} passed, {} failed", results.len() - failed, failed);
    if failed > 0 {
        return Err(CasesFail { failed, total: results.len(), file: cases.display().to_string() }.into());
    }
    Ok(())
}

/// Each declared file of `dir`: present with its records, absent, or a problem. Fails as
/// `screen` would, with its exit code: 7 when the data directory, a roster file or a required
/// source is missing, 6 when a file cannot be read. Every problem is listed; the code is the one
/// of the problem `screen` meets first: the roster's files are looked for, then read, then the
/// sources in the rules' order.
fn check_data(plan: &rules::plan::Plan, dir: &Path) -> Result<()> {
    if !dir.is_dir() {
        return Err(anyhow!("the data directory {} does not exist", dir.display()).context(InputProblem::Missing));
    }
    let tables = [(&plan.roster.households, true), (&plan.roster.members, true)].into_iter().chain(plan.sources.iter().map(|s| (&s.table, s.required)));
    // (stage screen meets it in: 0 the roster looked for, 1 read, 2 a source; message; kind)
    let mut problems: Vec<(u8, String, InputProblem)> = Vec::new();
    for (i, (t, required)) in tables.enumerate() {
        let roster = i < 2;
        let counted = read::read_files(t, dir).and_then(|raws| {
            let records = raws.iter().map(read::count_records).sum::<Result<usize>>()?;
            Ok((raws.len(), records))
        });
        let stage = if roster { 0 } else { 2 };
        match counted {
            Ok((0, _)) if required => {
                out!("  {:<18} {:<22} missing (required)", t.name, t.file);
                problems.push((stage, format!("{} ({}) is missing from {}, and it is required", t.file, t.name, dir.display()), InputProblem::Missing));
            }
            Ok((0, _)) => out!("  {:<18} {:<22} absent (a source with no records)", t.name, t.file),
            Ok((files, records)) => out!("  {:<18} {:<22} ok ({} file{}, {} records)", t.name, t.file, files, if files == 1 { "" } else { "s" }, records),
            Err(e) => {
                let looked_for = read::resolve_table(t, dir).is_err();
                problems.push((if roster && !looked_for { 1 } else { stage }, format!("{e:#}"), InputProblem::Unreadable));
            }
        }
    }
    match problems.iter().min_by_key(|(stage, _, _)| *stage) {
        None => Ok(()),
        Some((_, _, kind)) => Err(anyhow!("{}", problems.iter().map(|(_, m, _)| m.as_str()).collect::<Vec<_>>().join("\n")).context(*kind)),
    }
}
