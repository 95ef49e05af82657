//! The household frame (groups joined to the households, derived figures, household rules, the
//! category) and the result tables the job writes: what `evaluate::output` computes, in SQL.

use super::eval::Group;
use super::expr::{hit_column, ident, money_places, sql, template, text};
use super::groups::evidence_column;
use super::Sql;
use crate::frame::columns as c;
use crate::rules::plan::{Action, Category, Plan, Rule, TExpr, Ty};
use anyhow::Result;

fn hit(r: &Rule) -> String {
    ident(&hit_column(&r.id))
}

fn any_of<'a>(rules: impl IntoIterator<Item = &'a Rule>) -> String {
    let hits: Vec<String> = rules.into_iter().map(hit).collect();
    if hits.is_empty() {
        "FALSE".into()
    } else {
        format!("({})", hits.join(" OR "))
    }
}

fn hard_exclude(plan: &Plan) -> String {
    any_of(plan.exclusions.iter().filter(|r| r.action == Some(Action::Exclude)))
}

fn risk_column(risk: &str) -> String {
    ident(&format!("__risk.{risk}"))
}

/// `concat_ws` skips NULLs as polars' `concat_str(…, ignore_nulls)` does; no parts → ''.
fn joined(parts: Vec<String>, sep: &str) -> String {
    if parts.is_empty() {
        "''".into()
    } else {
        format!("concat_ws({}, {})", text(sep), parts.join(", "))
    }
}

fn labels(rules: &[Rule]) -> String {
    joined(rules.iter().map(|r| format!("CASE WHEN {} THEN {} END", hit(r), text(&r.label))).collect(), "；")
}

fn shown(column: &str) -> String {
    format!("coalesce(CAST({} AS STRING), '')", ident(column))
}

/// A figure as the tables show it: decimals with at least two places, more only where not zero.
fn number_text(e: &TExpr) -> Result<String> {
    let v = sql(e)?;
    Ok(format!(
        "coalesce({}, '')",
        match e.ty() {
            Ty::Dec(s) if s <= 2 => format!("CAST(CAST({v} AS DECIMAL(38,2)) AS STRING)"),
            Ty::Dec(_) => money_places(&format!("CAST({v} AS STRING)")),
            _ => format!("CAST({v} AS STRING)"),
        }
    ))
}

/// The household's own columns as text (户编号: the roster's key column).
fn roster_columns(plan: &Plan, names: &[&str]) -> Vec<String> {
    names.iter().map(|n| format!("{} AS {}", shown(if *n == c::KEY { plan.roster.key.as_str() } else { n }), ident(n))).collect()
}

fn figures(plan: &Plan) -> Result<Vec<String>> {
    let r = &plan.report;
    Ok(vec![
        format!("{} AS {}", number_text(&r.size)?, ident(c::SIZE)),
        format!("{} AS {}", number_text(&r.net_income)?, ident(c::NET_INCOME)),
        format!("{} AS {}", number_text(&r.per_capita)?, ident(c::PER_CAPITA)),
        format!("{} AS {}", number_text(&r.line)?, ident(c::LINE)),
    ])
}

/// Every household with each group's columns beside it (the neutral value where it has none),
/// then the derived figures, the household rules with their evidence, the category, whether it
/// is a lead and whether the household is already monitored: the cached view `hf`.
pub fn household_frame(plan: &Plan, groups: &[Group], q: &mut Sql) -> Result<()> {
    let key = ident(&plan.roster.key);
    let mut cols = vec!["h.*".to_string()];
    let mut joins = String::new();
    for (k, g) in groups.iter().enumerate() {
        joins.push_str(&format!(" LEFT JOIN {} g{k} ON g{k}.__hh = h.{key}", g.view));
        for (name, default) in &g.columns {
            let c = ident(name);
            cols.push(match default {
                Some(d) => format!("coalesce(g{k}.{c}, {d}) AS {c}"),
                None => format!("g{k}.{c} AS {c}"),
            });
        }
    }
    q.view("hf_0", &format!("SELECT {} FROM hh h{joins}", cols.join(", ")));
    let mut last = "hf_0".to_string();
    for (i, d) in plan.derived.iter().enumerate() {
        let view = format!("hf_d{i}");
        q.view(&view, &format!("SELECT *, {} AS {} FROM {last}", sql(&d.expr)?, ident(&d.name)));
        last = view;
    }
    let household_rules: Vec<&Rule> = plan.triggers.iter().chain(&plan.exclusions).filter(|r| r.source.is_none()).collect();
    if !household_rules.is_empty() {
        let hits: Vec<String> = household_rules.iter().map(|r| Ok(format!("coalesce({}, FALSE) AS {}", sql(&r.when)?, hit(r)))).collect::<Result<_>>()?;
        q.view("hf_rules", &format!("SELECT *, {} FROM {last}", hits.join(", ")));
        let ev: Vec<String> = household_rules
            .iter()
            .map(|r| Ok(format!("CASE WHEN {} THEN {} ELSE '' END AS {}", hit(r), template(&r.evidence)?, ident(&evidence_column(&r.id)))))
            .collect::<Result<_>>()?;
        q.view("hf_rules_ev", &format!("SELECT *, {} FROM hf_rules", ev.join(", ")));
        last = "hf_rules_ev".into();
    }
    let mut cases = String::new();
    for cat in &plan.categories {
        cases.push_str(&format!(" WHEN coalesce({}, FALSE) THEN {}", sql(&cat.when)?, text(&cat.name)));
    }
    let category = if cases.is_empty() { "CAST(NULL AS STRING)".to_string() } else { format!("CASE{cases} END") };
    q.view("hf_cat", &format!("SELECT *, {category} AS __category FROM {last}"));
    let leads: Vec<String> = plan.categories.iter().filter(|c| c.lead).map(|c| text(&c.name)).collect();
    let lead = if leads.is_empty() { "FALSE".to_string() } else { format!("coalesce(__category IN ({}), FALSE)", leads.join(", ")) };
    let monitored = match &plan.monitoring {
        Some(m) => format!("coalesce({}, FALSE)", sql(&m.monitored)?),
        None => "FALSE".into(),
    };
    q.cache("hf", &format!("SELECT *, {lead} AS __lead, {monitored} AS __monitored FROM hf_cat"));
    Ok(())
}

/// `【category】evidence；reason；…` for the household's category (NULL without evidence).
fn category_reason(categories: &[Category]) -> Result<String> {
    let mut cases = String::new();
    for cat in categories {
        let mut parts = Vec::new();
        if !cat.evidence.is_empty() {
            parts.push(template(&cat.evidence)?);
        }
        for r in &cat.reasons {
            parts.push(format!("CASE WHEN coalesce({}, FALSE) THEN {} END", sql(&r.when)?, template(&r.evidence)?));
        }
        if parts.is_empty() {
            continue;
        }
        cases.push_str(&format!(" WHEN __category = {} THEN concat({}, {})", text(&cat.name), text(&format!("【{}】", cat.name)), joined(parts, "；")));
    }
    Ok(if cases.is_empty() { "CAST(NULL AS STRING)".into() } else { format!("CASE{cases} END") })
}

/// 【适用参数】: each parameter value that the household's category or a rule that hit it read.
fn applied_parameters(plan: &Plan) -> String {
    let mut pieces = Vec::new();
    for p in &plan.parameters {
        let mut used: Vec<String> =
            plan.categories.iter().filter(|c| c.params.contains(&p.name)).map(|c| format!("coalesce(__category = {}, FALSE)", text(&c.name))).collect();
        used.extend(plan.triggers.iter().chain(&plan.exclusions).filter(|r| r.params.contains(&p.name)).map(hit));
        if !used.is_empty() {
            pieces.push(format!("CASE WHEN {} THEN {} END", used.join(" OR "), text(&format!("{}={}({}起)", p.name, p.shown(), p.from))));
        }
    }
    if pieces.is_empty() {
        return "CAST(NULL AS STRING)".into();
    }
    let all = joined(pieces, "；");
    format!("CASE WHEN {all} = '' THEN NULL ELSE concat('【适用参数】', {all}) END")
}

/// The result views: `o_listed` (flagged.csv's columns and the flags the outputs read),
/// `o_screened`, `o_grades`, `o_coverage`, `o_counts`.
pub fn results(plan: &Plan, q: &mut Sql) -> Result<()> {
    listed(plan, q)?;
    screened(plan, q)?;
    let size = format!("CAST({} AS BIGINT)", sql(&plan.report.size)?);
    q.view(
        "o_grades",
        &format!("SELECT CAST({} AS STRING) AS town, __category AS category, count(1) AS households, sum({size}) AS persons FROM hf WHERE __category IS NOT NULL AND NOT __lead GROUP BY 1, 2", ident(c::TOWN)),
    );
    let rules: Vec<String> = plan.triggers.iter().chain(&plan.exclusions).enumerate().map(|(i, r)| format!("count_if({}) AS r{i}", hit(r))).collect();
    let mut counts = vec!["count(1) AS screened".to_string(), format!("count_if(__lead AND {}) AS excluded", hard_exclude(plan))];
    counts.extend(rules);
    q.view("o_counts", &format!("SELECT {} FROM hf", counts.join(", ")));
    Ok(())
}

fn listed(plan: &Plan, q: &mut Sql) -> Result<()> {
    let rep = &plan.report;
    let risk_types = plan.risk_types();
    let risks = joined(risk_types.iter().map(|r| format!("CASE WHEN {} THEN {} END", risk_column(r), text(r))).collect(), "、");
    let mut evidence = vec!["__reason".to_string()];
    for r in plan.triggers.iter().chain(&plan.exclusions) {
        evidence.push(format!("CASE WHEN {} THEN concat({}, {}) END", hit(r), text(&format!("【{}】", r.label)), ident(&evidence_column(&r.id))));
    }
    evidence.push(applied_parameters(plan));
    let mut cols = roster_columns(plan, &[c::TOWN, c::VILLAGE, c::KEY, c::HEAD, c::HEAD_ID, c::KIND, c::STATUS]);
    cols.extend(figures(plan)?);
    cols.extend([
        format!("__category AS {}", ident(c::CATEGORY)),
        format!("CASE WHEN {risks} = '' THEN {} ELSE {risks} END AS {}", text(&rep.no_trigger_risk), ident(c::RISKS)),
        format!(
            "CASE WHEN {} THEN {} ELSE {} END AS {}",
            any_of(plan.exclusions.iter().filter(|r| r.action == Some(Action::Review))),
            text(&rep.review),
            text(&rep.include),
            ident(c::ADVICE)
        ),
        format!("{} AS {}", labels(&plan.exclusions), ident(c::EXCLUSIONS)),
        format!("{} AS {}", labels(&plan.triggers), ident(c::TRIGGERS)),
        format!("{} AS {}", joined(evidence, " "), ident(c::EVIDENCE)),
        format!("CAST({} AS BIGINT) AS __size", sql(&rep.size)?),
        "__category".into(),
        "__monitored".into(),
    ]);
    cols.extend(risk_types.iter().map(|r| risk_column(r)));
    let risk_hits: Vec<String> = risk_types
        .iter()
        .map(|risk| format!("{} AS {}", any_of(plan.triggers.iter().filter(|t| t.risk.as_deref() == Some(risk))), risk_column(risk)))
        .collect();
    let extra = if risk_hits.is_empty() { String::new() } else { format!(", {}", risk_hits.join(", ")) };
    q.view(
        "o_listed",
        &format!(
            "SELECT {} FROM (SELECT *, {} AS __reason{extra} FROM hf WHERE __lead AND NOT {})",
            cols.join(", "),
            category_reason(&plan.categories)?,
            hard_exclude(plan)
        ),
    );
    Ok(())
}

fn screened(plan: &Plan, q: &mut Sql) -> Result<()> {
    let (elimination, stays) = match &plan.monitoring {
        Some(m) => (
            format!("(coalesce({}, FALSE) AND NOT __lead)", sql(&m.elimination)?),
            m.stays_monitored.as_ref().map(|e| Ok::<_, anyhow::Error>(format!("coalesce({}, FALSE)", sql(e)?))).transpose()?.unwrap_or("FALSE".into()),
        ),
        None => ("FALSE".into(), "FALSE".into()),
    };
    let mut cols = roster_columns(plan, &[c::TOWN, c::VILLAGE, c::KEY, c::HEAD, c::KIND, c::STATUS]);
    cols.extend(figures(plan)?);
    cols.extend([
        format!("coalesce(__category, '') AS {}", ident(c::CATEGORY)),
        format!("{} AS {}", labels(&plan.triggers), ident(c::TRIGGERS)),
        format!("{} AS {}", labels(&plan.exclusions), ident(c::EXCLUSIONS)),
        "__category".into(),
        format!("{} AS __excluded", hard_exclude(plan)),
        "__monitored".into(),
        format!("{elimination} AS __elimination_income"),
        format!("({elimination} AND NOT {}) AS __elimination", any_of(&plan.triggers)),
        format!("{stays} AS __stays"),
    ]);
    q.view("o_screened", &format!("SELECT {} FROM hf", cols.join(", ")));
    Ok(())
}
