//! `fanpin screen --rules FILE --data DIR --out DIR`: the whole screening.

use crate::cli::{Engine, ScreenArgs};
use crate::report::csv::CsvRenderer;
use crate::report::manifest::*;
use crate::report::summary::{self, TextTable};
use crate::report::xlsx::{overview::Overview, XlsxRenderer};
use crate::report::{changes, publish, terminal, write_atomically, Renderer, Table, TableData};
use crate::sources::{self, sha256_file};
use crate::{evaluate, households, rules};
use anyhow::Result;
use polars::prelude::*;
use std::time::Instant;

/// Below this many households, a rule that hits nothing is not worth a warning.
const QUIET_RULE_MIN_HOUSEHOLDS: usize = 1000;

/// Wall time of each stage, for the manifest (where the time goes).
pub(super) struct Stages {
    last: Instant,
    done: Vec<(String, u128)>,
}

impl Stages {
    pub(super) fn mark(&mut self, name: &str) {
        let now = Instant::now();
        let ms = now.duration_since(self.last).as_millis();
        if name != "rules load" {
            crate::log::event("stage", serde_json::json!({ "stage": name, "ms": ms as u64 }));
        }
        self.done.push((name.to_string(), ms));
        self.last = now;
    }
}

pub fn run(args: &ScreenArgs) -> Result<()> {
    if let Some(n) = args.threads {
        // polars sizes its thread pool from this on first use, which has not happened yet.
        std::env::set_var("POLARS_MAX_THREADS", n.to_string());
    }
    let started = Instant::now();
    crate::log::event(
        "start",
        serde_json::json!({ "command": "screen", "rules": args.rules.display().to_string(), "data": args.data.display().to_string(), "out": args.out.display().to_string() }),
    );
    let mut stages = Stages { last: started, done: Vec::new() };
    let loaded = rules::load(&args.rules, Some(&args.data), args.as_of)?;
    let plan = &loaded.plan;
    for w in &plan.warnings {
        crate::log::warn(w);
    }
    if !args.data.is_dir() {
        return Err(anyhow::anyhow!("the data directory {} does not exist", args.data.display()).context(crate::sources::InputProblem::Missing));
    }
    let _lock = publish::OutputLock::acquire(&args.out)?;
    crate::fault::hold_lock();
    let stage_dir = publish::staging(&args.out)?;

    let mut pb = super::progress::Progress::new(plan, &args.data, args.quiet || crate::log::json());
    let (mut roster, outcome, engine) = match args.engine {
        Engine::Local => {
            let (roster, outcome) = screen_locally(args, plan, &mut pb, &mut stages)?;
            (roster, outcome, EngineInfo::local())
        }
        Engine::Spark => super::screen_spark::run(args, plan, &mut pb, |stage| stages.mark(stage))?,
    };
    // A glob that matches no file is most likely mistyped (a plain file name that is absent is a
    // department with no records): said here, and again in the summary.
    let unmatched_globs: Vec<String> = outcome
        .sources
        .iter()
        .filter(|s| !s.data.present() && crate::sources::read::is_glob(&s.data.pattern))
        .map(|s| format!("{} ({})", s.data.name, s.data.pattern))
        .collect();
    for g in &unmatched_globs {
        crate::log::warn(&format!("no file matches the pattern of {g}: a mistyped name? The source is screened as having no records"));
    }
    // The outcome holds what the outputs need; the roster's frames are not read again.
    roster.households = DataFrame::empty();

    pb.next("写出结果");
    let mut rejects = vec![roster.rejects.clone().lazy()];
    rejects.extend(outcome.sources.iter().map(|s| s.data.rejects.clone().lazy()));
    let rejects = concat(rejects, UnionArgs::default())?.collect()?;
    let by_town = summary::by_township(plan, &outcome)?;
    let by_risk = summary::by_risk(plan, &outcome)?;
    let coverage = summary::coverage(plan, &outcome);
    // Read before anything is written: --previous may name this very output directory.
    let previous = match &args.previous {
        Some(dir) => Some(changes::read_previous(dir)?),
        None => None,
    };
    let marked = match &previous {
        Some(p) => Some(changes::mark_changes(&outcome.listed, &p.listed)?),
        None => None,
    };
    let listed = marked.as_ref().unwrap_or(&outcome.listed);
    let new_leads = listed.clone().lazy().filter(col("__monitored").not()).collect()?;
    // Compared with the previous run, the screened households are needed here; otherwise they are
    // only written, and computed on the CSV thread (`TableData::Plan`).
    let screened = match &previous {
        Some(_) => Some(outcome.screened_households()?),
        None => None,
    };
    let dropped = match (&previous, &screened) {
        (Some(p), Some(s)) => Some(changes::dropped(&outcome, s, &p.listed, &plan.report)?),
        _ => None,
    };
    let elimination = match (&previous, &screened, &plan.monitoring) {
        (Some(p), Some(s), Some(m)) => match &p.screened {
            Some(before) => Some(changes::elimination_candidates(s, before, &m.elimination_basis)?),
            None => {
                crate::log::warn("--previous has no screened.csv (a run before this version?): elimination_candidates.csv is not written");
                None
            }
        },
        _ => None,
    };
    let parameters = summary::parameters(plan);
    let mut tables = vec![
        Table::new("flagged", "监测对象", TableData::Frame(listed)),
        Table::new("new_leads", "新识别线索", TableData::Frame(&new_leads)),
        Table::new("summary_by_township", "乡镇汇总", TableData::Text(&by_town)),
        Table::new("summary_by_risk", "风险类型汇总", TableData::Text(&by_risk)),
        Table::new("unmatched", "未匹配部门记录", TableData::Frame(&outcome.unmatched)),
        Table::new("rejects", "拒收记录", TableData::Frame(&rejects)),
        Table::new("coverage", "规则命中", TableData::Text(&coverage)),
        Table::new("parameters", "适用参数", TableData::Text(&parameters)),
        Table {
            workbook: false,
            ..Table::new(
                "screened",
                "全部筛查户",
                match &screened {
                    Some(s) => TableData::Frame(s),
                    None => TableData::Plan(&outcome.screened_plan),
                },
            )
        },
    ];
    if let Some(d) = &dropped {
        tables.push(Table::new("dropped", "本次未列出", TableData::Text(d)));
    }
    if let Some((e, _)) = &elimination {
        tables.push(Table::new("elimination_candidates", "风险消除候选", TableData::Frame(e)));
    }
    stages.mark("report: summaries, changes, elimination");
    let m = &plan.meta;
    let subtitle = format!("判定日期 {} · 收入窗口 {} 至 {}", m.as_of, m.window_start, m.window_end);
    let mut figures = vec![
        ("筛查户数".to_string(), outcome.screened),
        ("列出户数".to_string(), outcome.listed.height()),
        ("新识别线索".to_string(), new_leads.height()),
        ("已在监测".to_string(), outcome.listed.height() - new_leads.height()),
        (plan.report.review.clone(), review_count(plan, &outcome.listed)),
        ("按规则排除".to_string(), outcome.excluded),
        ("拒收记录".to_string(), rejects.height()),
        ("未匹配部门记录".to_string(), outcome.unmatched.height()),
    ];
    let changed = match (&marked, &dropped) {
        (Some(marked), Some(dropped)) => Some(changes::counts(marked, dropped)?),
        _ => None,
    };
    figures.extend(changed.iter().flatten().cloned());
    let xlsx = XlsxRenderer {
        title: format!("{} · {subtitle}", m.name),
        overview: Some(Overview { heading: m.name.clone(), subtitle, figures, by_town: &by_town, by_risk: &by_risk, changes: changed.clone() }),
    };
    // The workbook's sheets are filled first, a thread each. Its compression into report.xlsx
    // takes one core, and the CSV files are written on the other meanwhile.
    let filled = xlsx.fill(&tables)?;
    let (csv_written, xlsx_written) = std::thread::scope(|scope| {
        let xlsx = scope.spawn(|| filled.save(stage_dir.path()));
        let csv = CsvRenderer.render(&tables, stage_dir.path());
        (csv, xlsx.join().map_err(|_| anyhow::anyhow!("writing report.xlsx failed")))
    });
    let mut written = csv_written?;
    written.extend(xlsx_written??);
    pb.finish();
    stages.mark("report: CSV files and report.xlsx (in parallel)");

    let lists = Lists { new_leads: new_leads.height(), elimination: elimination.as_ref().map(|(e, stays)| (e.height(), *stays)) };
    let mut manifest = manifest(args, &loaded, &roster, &outcome, rejects.height(), &lists, previous.as_ref(), &written, started)?;
    manifest.engine = engine;
    manifest.stages_ms = stages.done.into_iter().filter(|(n, _)| n != "rules load").collect();
    let json = serde_json::to_string_pretty(&manifest)?;
    write_atomically(&stage_dir.path().join("manifest.json"), |w| {
        use std::io::Write;
        Ok(w.write_all(json.as_bytes())?)
    })?;
    // Every output is complete: only now do they replace the previous run's.
    stage_dir.publish(&args.out)?;
    // A rule that hits nobody in a real county usually has a misspelled value or column.
    if outcome.screened >= QUIET_RULE_MIN_HOUSEHOLDS {
        for (id, label, hits) in &outcome.coverage {
            if *hits == 0 {
                crate::log::warn(&format!("rule {id} ({label}) hit no household of {}: check its values and columns", outcome.screened));
            }
        }
    }
    crate::log::event(
        "done",
        serde_json::json!({
            "out": args.out.display().to_string(),
            "households_screened": manifest.counts.households_screened,
            "households_listed": manifest.counts.households_listed,
            "new_leads": manifest.counts.new_leads,
            "already_monitored": manifest.counts.already_monitored,
            "households_excluded": manifest.counts.households_excluded,
            "elimination_candidates": manifest.counts.elimination_candidates,
            "rejects": manifest.counts.rejects,
            "unmatched": manifest.counts.unmatched,
            "elapsed_ms": started.elapsed().as_millis() as u64,
        }),
    );
    if !args.quiet && !crate::log::json() {
        print_summary(args, plan, &outcome, rejects.height(), &lists, &by_town, &by_risk, started);
        for g in &unmatched_globs {
            out!("⚠ 没有文件匹配 {g}: 文件名是否写错? 该来源按无记录筛查");
        }
    }
    if let Some(limit) = args.max_reject_rate {
        let read: usize = manifest.inputs.iter().map(|i| i.rows_read).sum();
        let rejected: usize = manifest.inputs.iter().map(|i| i.rows_rejected).sum();
        // A share for a threshold check, not money.
        let share = if read == 0 { 0.0 } else { rejected as f64 / read as f64 };
        if share > f64::from(limit) {
            return Err(super::TooManyRejects { rejected, read, share: share * 100.0, limit }.into());
        }
    }
    Ok(())
}

/// The local engine: the roster checked while the extracts are read ahead, then the evaluation.
fn screen_locally(
    args: &ScreenArgs,
    plan: &rules::plan::Plan,
    pb: &mut super::progress::Progress,
    stages: &mut Stages,
) -> Result<(households::Roster, evaluate::Outcome)> {
    // The department extracts are read on another thread from the start: at 1M households
    // reading them all ahead was 0.3 s faster than one at a time (11.4 s against 11.7 s) for
    // about 80 MB more memory, since they fill the core the roster checks leave idle.
    std::thread::scope(|scope| -> Result<_> {
        let extracts = crate::sources::read_ahead(scope, plan.sources.iter().map(|s| &s.table).collect(), &args.data, plan.sources.len());
        let mut roster = households::build(plan, &args.data, households::Keep::Screening, |stage| stages.mark(stage))?;
        stages.mark("roster: cross-checks (repeats, unknown households, co-residence)");
        pb.roster_read();
        // Each step is timed from its start to the next one's (the last, to the end of `run`).
        let mut current: Option<String> = None;
        let outcome = evaluate::run(plan, &mut roster, extracts, &args.data, false, |stage, message| {
            if let Some(c) = current.replace(stage.to_string()) {
                stages.mark(&c);
                // The first evaluation stage waits for the extracts; once it is over they are read.
                if c.starts_with("sources:") {
                    pb.inputs_read();
                }
            }
            pb.next(message);
        })?;
        if let Some(c) = current {
            stages.mark(&c);
        }
        Ok((roster, outcome))
    })
}

fn absolute(p: &std::path::Path) -> String {
    std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf()).display().to_string()
}

/// How the listed households split, for the manifest and the terminal.
struct Lists {
    /// Listed households not yet in monitoring.
    new_leads: usize,
    /// With --previous: (elimination candidates, households meeting the conditions that stay
    /// monitored).
    elimination: Option<(usize, usize)>,
}

#[allow(clippy::too_many_arguments)]
fn manifest(
    args: &ScreenArgs,
    loaded: &rules::Loaded,
    roster: &households::Roster,
    outcome: &evaluate::Outcome,
    rejects: usize,
    lists: &Lists,
    previous: Option<&changes::Previous>,
    written: &[std::path::PathBuf],
    started: Instant,
) -> Result<Manifest> {
    let plan = &loaded.plan;
    let rejected_rows = |d: &sources::TableData, frame: &DataFrame| -> Result<usize> {
        let rows = frame.clone().lazy().filter(col("来源").eq(lit(d.name.as_str()))).select([col("行号").n_unique()]).collect()?;
        Ok(rows.column("行号")?.get(0)?.extract::<u64>().unwrap_or(0) as usize)
    };
    let mut inputs = Vec::new();
    for d in [&roster.households_data, &roster.members_data] {
        inputs.push(InputInfo {
            source: d.name.clone(),
            label: if d.name == "households" { "户表".into() } else { "人表".into() },
            pattern: d.pattern.clone(),
            present: d.present(),
            files: d.files.iter().map(FileManifest::from).collect(),
            rows_read: d.rows_read,
            rows_rejected: rejected_rows(d, &roster.rejects)?,
            rows_in_window: None,
            rows_used: None,
            rows_unmatched: None,
        });
    }
    for s in &outcome.sources {
        inputs.push(InputInfo {
            source: s.data.name.clone(),
            label: plan.source(&s.data.name).map(|x| x.table.label.clone()).unwrap_or_default(),
            pattern: s.data.pattern.clone(),
            present: s.data.present(),
            files: s.data.files.iter().map(FileManifest::from).collect(),
            rows_read: s.data.rows_read,
            rows_rejected: rejected_rows(&s.data, &s.data.rejects)?,
            rows_in_window: Some(s.in_window),
            rows_used: Some(s.used),
            rows_unmatched: Some(s.unmatched),
        });
    }
    // Each output is hashed on its own thread: the report's files are large (screened.csv is
    // 100 MB at a million households) and the cores are free once they are written.
    let hashes: Vec<Result<String>> = std::thread::scope(|scope| {
        let hashing: Vec<_> = written.iter().map(|p| scope.spawn(move || sha256_file(p))).collect();
        hashing.into_iter().zip(written).map(|(h, p)| h.join().unwrap_or_else(|_| Err(anyhow::anyhow!("hashing {} failed", p.display())))).collect()
    });
    let mut outputs = Vec::new();
    for (p, sha256) in written.iter().zip(hashes) {
        outputs.push(OutputInfo { file: p.file_name().map(|f| f.to_string_lossy().to_string()).unwrap_or_default(), sha256: sha256? });
    }
    Ok(Manifest {
        tool: "fanpin".into(),
        version: env!("CARGO_PKG_VERSION").into(),
        invocation: Invocation {
            rules: absolute(&args.rules),
            data: absolute(&args.data),
            as_of: args.as_of.map(|d| d.to_string()),
            previous: previous.map(|p| absolute(&p.dir)),
            previous_files: previous.map(|p| p.files.iter().map(|(f, h)| OutputInfo { file: f.clone(), sha256: h.clone() }).collect()).unwrap_or_default(),
        },
        rules: RulesInfo {
            file: args.rules.display().to_string(),
            sha256: sha256_file(&args.rules)?,
            name: plan.meta.name.clone(),
            region: plan.meta.region.clone(),
            version: plan.meta.version.clone(),
            determination_date: plan.meta.as_of.to_string(),
            window_start: plan.meta.window_start.to_string(),
            window_end: plan.meta.window_end.to_string(),
            wording: Wording {
                include: plan.report.include.clone(),
                review: plan.report.review.clone(),
                notice_title: plan.report.notice_title.clone(),
                notice_footer: plan.report.notice_footer.clone(),
            },
        },
        data_dir: args.data.display().to_string(),
        sources_file: match &loaded.sources_file {
            Some(p) => Some(OutputInfo { file: p.display().to_string(), sha256: sha256_file(p)? }),
            None => None,
        },
        inputs,
        parameters: plan
            .parameters
            .iter()
            .map(|p| ParameterInfo {
                name: p.name.clone(),
                description: p.description.clone(),
                value: p.shown(),
                effective_from: p.from.to_string(),
                reference: p.reference.clone(),
            })
            .collect(),
        counts: Counts {
            households_screened: outcome.screened,
            households_listed: outcome.listed.height(),
            households_excluded: outcome.excluded,
            new_leads: lists.new_leads,
            already_monitored: outcome.listed.height() - lists.new_leads,
            elimination_candidates: lists.elimination.map(|e| e.0),
            stays_monitored: lists.elimination.map(|e| e.1),
            rejects,
            unmatched: outcome.unmatched.height(),
        },
        coverage: outcome.coverage.iter().map(|(r, l, n)| CoverageInfo { rule: r.clone(), label: l.clone(), households_hit: *n }).collect(),
        outputs,
        elapsed_ms: started.elapsed().as_millis(),
        stages_ms: Vec::new(),
        engine: EngineInfo::local(),
    })
}

/// Listed households marked for review (建议不纳入(需评议) in the reference rules).
fn review_count(plan: &crate::rules::plan::Plan, listed: &DataFrame) -> usize {
    listed.column("建议").ok().and_then(|c| c.str().ok().map(|s| s.iter().filter(|v| *v == Some(plan.report.review.as_str())).count())).unwrap_or(0)
}

#[allow(clippy::too_many_arguments)]
fn print_summary(
    args: &ScreenArgs,
    plan: &crate::rules::plan::Plan,
    outcome: &evaluate::Outcome,
    rejects: usize,
    lists: &Lists,
    by_town: &TextTable,
    by_risk: &TextTable,
    started: Instant,
) {
    let m = &plan.meta;
    let review = review_count(plan, &outcome.listed);
    out!("{} · 判定日期 {} · 收入窗口 {} 至 {}", m.name, m.as_of, m.window_start, m.window_end);
    out!("筛查 {} 户 → 列出 {} 户 (其中{} {} 户); 按规则排除 {} 户", outcome.screened, outcome.listed.height(), plan.report.review, review, outcome.excluded);
    out!("其中新识别线索 {} 户 (new_leads.csv), 已在监测 {} 户", lists.new_leads, outcome.listed.height() - lists.new_leads);
    match (lists.elimination, &plan.monitoring) {
        (Some((n, stays)), Some(m)) => {
            out!("已在监测且连续两次满足风险消除条件 {n} 户 (elimination_candidates.csv)");
            if stays > 0 {
                out!("另有 {stays} 户满足条件但继续监测: {}", m.stays_reason);
            }
        }
        (None, Some(_)) => out!("风险消除候选需与上次结果比较: 加 --previous 上次输出目录"),
        _ => {}
    }
    out!("拒收 {} 条 (rejects.csv) · 未匹配部门记录 {} 条 (unmatched.csv)", rejects, outcome.unmatched.height());
    out!("{}", terminal::render(by_town));
    out!("{}", terminal::render(by_risk));
    out!("结果写入 {} ({:.1} 秒)", args.out.display(), started.elapsed().as_millis() as f64 / 1000.0);
}
