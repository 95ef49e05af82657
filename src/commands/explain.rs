//! `fanpin explain --out DIR KEY`: why one household is (or is not) on a run's list, in plain
//! Chinese for a village cadre. KEY is the 户编号 or a member's 证件号码. The run's manifest
//! names the rules, data and determination date; the household is screened again with them:
//! its members, each department record of theirs (file and row, counted or why not), each
//! derived figure, every trigger and exclusion with the values it saw and the parameters (with
//! references) it used, then the category decision in order.

use super::inspect::mask_id;
use crate::cli::ExplainArgs;
use crate::evaluate::{self, evidence_column, hit_column, trace};
use crate::households::{self, CO_RESIDENT};
use crate::rules::plan::{ColType, Plan, Rule, TExpr, MEMBER_NAME};
use crate::rules::{self};
use crate::sources::read::{FILE, LINE};
use anyhow::{anyhow, bail, Result};
use polars::prelude::*;
use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::path::PathBuf;

/// Row `i` of `column` as text ("" for null, a missing column or a row past the end:
/// `ChunkedArray::get` panics out of bounds).
fn cell(df: &DataFrame, column: &str, i: usize) -> String {
    df.column(column)
        .ok()
        .filter(|c| i < c.len())
        .and_then(|c| c.as_materialized_series().cast(&DataType::String).ok())
        .and_then(|s| s.str().ok().and_then(|s| s.get(i).map(str::to_string)))
        .unwrap_or_default()
}

fn flag(df: &DataFrame, column: &str, i: usize) -> bool {
    df.column(column).ok().filter(|c| i < c.len()).and_then(|c| c.bool().ok().and_then(|b| b.get(i))).unwrap_or(false)
}

/// The household columns an expression reads, with this household's values.
fn seen(plan: &Plan, e: &TExpr, detail: &DataFrame) -> String {
    let mut used = BTreeSet::new();
    e.columns_into(&mut used);
    if used.is_empty() {
        // An aggregate over members or records reads no household column.
        return "(见上方成员与部门记录)".into();
    }
    let ids: Vec<&str> = plan.roster.households.columns.iter().filter(|c| c.ty == ColType::Id).map(|c| c.name.as_str()).collect();
    used.iter()
        .map(|c| {
            let v = cell(detail, c, 0);
            let v = if ids.contains(&c.as_str()) {
                mask_id(&v)
            } else if v.is_empty() {
                "(空)".into()
            } else {
                v
            };
            format!("{c}={v}")
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fn params_line(plan: &Plan, names: &[String]) -> Option<String> {
    let parts: Vec<String> =
        plan.parameters.iter().filter(|p| names.contains(&p.name)).map(|p| format!("{}={} ({}起; 依据: {})", p.name, p.shown(), p.from, p.reference)).collect();
    (!parts.is_empty()).then(|| parts.join("；"))
}

fn manifest_invocation(dir: &std::path::Path) -> Result<(PathBuf, PathBuf, Option<chrono::NaiveDate>, serde_json::Value)> {
    let m = crate::report::readback::Manifest::in_dir(dir)?;
    let inv = m.invocation()?;
    Ok((inv.rules, inv.data, inv.as_of, m.json))
}

pub fn run(args: &ExplainArgs) -> Result<()> {
    let (rules_path, data, as_of, manifest) = manifest_invocation(&crate::report::publish::run_dir(&args.out))?;
    let loaded = rules::load(&rules_path, Some(&data), as_of)?;
    let plan = &loaded.plan;
    let mut roster = households::build(plan, &data, households::Keep::All, |_| {})?;
    let r = &plan.roster;
    let key = args.key.trim().to_uppercase();
    let by_member = roster
        .members
        .clone()
        .lazy()
        .filter(col(r.member_id.as_str()).eq(lit(key.as_str())))
        .select([col(r.member_household.as_str()).cast(DataType::String)])
        .collect()?;
    let household_key = if by_member.height() > 0 { cell(&by_member, r.member_household.as_str(), 0) } else { key.clone() };
    let households = roster.households.clone().lazy().filter(col(r.key.as_str()).cast(DataType::String).eq(lit(household_key.as_str()))).collect()?;
    if households.height() == 0 {
        bail!(
            "{} is neither the 户编号 of a valid household nor the ID of a member of one in {} (a rejected row is listed in rejects.csv)",
            if key.len() >= 15 { mask_id(&key) } else { key.clone() },
            data.display()
        );
    }
    roster.members = roster.members.clone().lazy().filter(col(r.member_household.as_str()).cast(DataType::String).eq(lit(household_key.as_str()))).collect()?;
    roster.households = households;
    let outcome = evaluate::run(plan, &mut roster, crate::sources::Extracts::Here(&data), &data, true, |_, _| {})?;
    let detail = outcome.detail.as_ref().ok_or_else(|| anyhow!("no detail"))?;
    let records = trace::sources(plan, &roster, &data)?;

    // The explanation is of the data as it is now: say so when it is not what the run read.
    let mut now = std::collections::BTreeMap::new();
    for d in [&roster.households_data, &roster.members_data].into_iter().chain(outcome.sources.iter().map(|s| &s.data)) {
        for f in &d.files {
            now.insert((d.name.clone(), f.file.clone()), f.sha256.clone());
        }
    }
    let then = super::replay::input_hashes(&manifest);
    let rules_now = crate::sources::sha256_file(&rules_path)?;
    let rules_then = manifest.get("rules").and_then(|r| r.get("sha256")).and_then(|h| h.as_str()).unwrap_or("");
    let mut changed: Vec<String> = then.iter().filter(|(k, h)| now.get(*k) != Some(*h)).map(|((_, f), _)| f.clone()).collect();
    changed.extend(now.keys().filter(|k| !then.contains_key(*k)).map(|(_, f)| f.clone()));
    if rules_now != rules_then {
        changed.insert(0, rules_path.display().to_string());
    }
    if !changed.is_empty() {
        crate::log::warn(&format!(
            "changed since the run in {}: {} — this explains the current data and rules, which may differ from that run's flagged.csv",
            args.out.display(),
            changed.join(", ")
        ));
    }

    let mut o = String::new();
    let m = &plan.meta;
    let h = &roster.households;
    let _ = writeln!(
        o,
        "户 {} · {} {} · 户主 {} · {} · 监测状态: {}",
        household_key,
        cell(h, "乡镇", 0),
        cell(h, "村", 0),
        cell(h, "户主姓名", 0),
        cell(h, "户类型", 0),
        {
            let s = cell(h, "监测状态", 0);
            if s.is_empty() {
                "未纳入监测".to_string()
            } else {
                s
            }
        }
    );
    let _ = writeln!(o, "规则: {} ({}) · 判定日期 {} · 收入窗口 {} 至 {}", m.name, rules_path.display(), m.as_of, m.window_start, m.window_end);

    // Members.
    let mem = &roster.members;
    let co = (0..mem.height()).filter(|&i| flag(mem, CO_RESIDENT, i)).count();
    let _ = writeln!(o, "\n一、家庭成员 ({} 人, 其中共同生活 {} 人; 只有共同生活成员计入家庭人口和各项规则)", mem.height(), co);
    for i in 0..mem.height() {
        let mut parts = vec![cell(mem, r.member_name.as_str(), i), mask_id(&cell(mem, r.member_id.as_str(), i))];
        for c in &r.members.columns {
            if [r.member_name.as_str(), r.member_id.as_str(), r.member_household.as_str()].contains(&c.name.as_str()) || c.ty == ColType::Id {
                continue;
            }
            let v = cell(mem, &c.name, i);
            if !v.is_empty() {
                parts.push(format!("{}:{}", c.name, v));
            }
        }
        let status = if flag(mem, CO_RESIDENT, i) { "共同生活" } else { "不共同生活(不计)" };
        let _ = writeln!(o, "  {} · {} · 人表第{}行", parts.join(" "), status, cell(mem, LINE, i));
    }

    // Department records.
    let _ = writeln!(o, "\n二、部门记录 (按成员证件号码匹配)");
    let mut any = false;
    for t in &records {
        let df = &t.records;
        for i in 0..df.height() {
            any = true;
            let counted = flag(df, CO_RESIDENT, i) && flag(df, trace::IN_WINDOW, i);
            let why = if !flag(df, CO_RESIDENT, i) {
                "不计: 非共同生活成员"
            } else if !flag(df, trace::IN_WINDOW, i) {
                "不计: 不在收入窗口内"
            } else {
                "计入"
            };
            let values: Vec<String> = t
                .source
                .table
                .columns
                .iter()
                .filter(|c| c.name != t.source.id && c.ty != ColType::Id && Some(&c.name) != t.source.name_column.as_ref())
                .map(|c| format!("{}={}", c.name, cell(df, &c.name, i)))
                .collect();
            let _ = writeln!(
                o,
                "  [{}] {} {} 第{}行 · {} · {}",
                why,
                t.source.table.label,
                cell(df, FILE, i),
                cell(df, LINE, i),
                cell(df, MEMBER_NAME, i),
                values.join(" ")
            );
            for rule in &t.rules {
                if flag(df, &hit_column(rule), i) {
                    let note = if counted { "" } else { " (此记录不计, 不作为依据)" };
                    let _ = writeln!(o, "      → 符合「{}」{}: {}", rule.label, note, cell(df, &evidence_column(rule), i));
                }
            }
        }
    }
    if !any {
        let _ = writeln!(o, "  (各部门数据中没有本户成员的记录)");
    }

    // Figures.
    let _ = writeln!(o, "\n三、家庭收入与计算值");
    for c in &r.households.columns {
        if matches!(c.ty, ColType::Money) {
            let _ = writeln!(o, "  {} = {}", c.name, cell(detail, &c.name, 0));
        }
    }
    for d in &plan.derived {
        let _ = writeln!(o, "  {} = {} = {}", d.name, d.expr_text.split_whitespace().collect::<Vec<_>>().join(" "), cell(detail, &d.name, 0));
    }

    let rule_lines = |o: &mut String, rules: &[Rule]| {
        for rule in rules {
            let hit = flag(detail, &hit_column(rule), 0);
            let what = rule.risk.as_deref().map(|x| format!("{x} · ")).unwrap_or_default();
            let _ = writeln!(o, "  [{}] {}{}", if hit { "是" } else { "否" }, what, rule.label);
            let _ = writeln!(o, "      条件: {}", rule.when_text.split_whitespace().collect::<Vec<_>>().join(" "));
            match &rule.source {
                Some(s) if hit => {
                    let _ = writeln!(o, "      依据: {}", cell(detail, &evidence_column(rule), 0));
                }
                Some(s) => {
                    let label = plan.source(s).map(|x| x.table.label.as_str()).unwrap_or(s.as_str());
                    let _ = writeln!(o, "      {label}记录中没有计入且符合条件的");
                }
                None => {
                    let _ = writeln!(o, "      所见: {}", seen(plan, &rule.when, detail));
                    if hit {
                        let _ = writeln!(o, "      依据: {}", cell(detail, &evidence_column(rule), 0));
                    }
                }
            }
            if let Some(p) = params_line(plan, &rule.params) {
                let _ = writeln!(o, "      参数: {p}");
            }
        }
    };
    let _ = writeln!(o, "\n四、风险触发");
    rule_lines(&mut o, &plan.triggers);
    let _ = writeln!(o, "\n五、排除情形 (原则上不纳入)");
    rule_lines(&mut o, &plan.exclusions);

    // Categories, in order: the first that holds is the household's.
    let _ = writeln!(o, "\n六、类别判定 (按顺序, 第一个成立的即为该户类别)");
    let holds = detail
        .clone()
        .lazy()
        .select(
            plan.categories
                .iter()
                .enumerate()
                .map(|(i, c)| crate::frame::compile::compile(&c.when).fill_null(lit(false)).alias(format!("c{i}").as_str()))
                .collect::<Vec<_>>(),
        )
        .collect()?;
    for (i, c) in plan.categories.iter().enumerate() {
        let yes = flag(&holds, &format!("c{i}"), 0);
        let _ = writeln!(o, "  [{}] {}: {}", if yes { "成立" } else { "不成立" }, c.name, c.when_text.split_whitespace().collect::<Vec<_>>().join(" "));
        let _ = writeln!(o, "      所见: {}", seen(plan, &c.when, detail));
        if let Some(p) = params_line(plan, &c.params) {
            let _ = writeln!(o, "      参数: {p}");
        }
    }
    let reason = cell(detail, evaluate::REASON, 0);
    if !reason.is_empty() {
        let _ = writeln!(o, "  理由: {reason}");
    }

    // Conclusion.
    let _ = writeln!(o);
    let listed = &outcome.listed;
    if listed.height() > 0 {
        let _ = writeln!(o, "结论: 列为{} · 风险类型: {} · 建议: {}", cell(listed, "类别", 0), cell(listed, "风险类型", 0), cell(listed, "建议", 0));
        let ex = cell(listed, "排除提示", 0);
        if !ex.is_empty() {
            let note = &plan.report.review_note;
            let _ = writeln!(o, "      排除提示: {ex}{}", if note.is_empty() { String::new() } else { format!(" ({note})") });
        }
    } else if let Some(grade) = plan.categories.iter().find(|c| !c.lead && c.name == cell(detail, "__category", 0)) {
        let _ = writeln!(o, "结论: 评为{} (等级, 不是核实线索, 不列出)", grade.name);
    } else if outcome.excluded > 0 {
        let _ = writeln!(o, "结论: 符合类别条件, 但按规则排除, 不列出");
    } else {
        let _ = writeln!(o, "结论: 不列出 (没有成立的类别条件)");
    }
    if let Some(mon) = &plan.monitoring {
        if flag(detail, "__monitored", 0) {
            let s = &outcome.screened_households()?;
            let elim = flag(s, "__elimination", 0);
            let stays = flag(s, "__stays", 0);
            let _ = writeln!(
                o,
                "      已在监测: 本次{}风险消除条件 ({}){}",
                if elim { "满足" } else { "不满足" },
                mon_text(mon),
                if elim && stays { format!("; 但{}", mon.stays_reason) } else { String::new() }
            );
        }
    }
    out!("{}", o.trim_end());
    Ok(())
}

fn mon_text(_m: &crate::rules::plan::Monitoring) -> &'static str {
    "且无风险触发、不属任何类别; 列入风险消除候选还需上次筛查收入也不低于监测线"
}
