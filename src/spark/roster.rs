//! The roster checks of `households::build` in Spark SQL, over the views `hh_in` and `mem_in`
//! (and their `_rejects`) that `read::table_sql` makes: a 户编号 listed twice, a person in two
//! households or twice in one, members of a household the roster does not hold (or rejected),
//! households with no co-resident member (and their members); co-residence by the rules.
//!
//! Views: `hh` (valid households: declared columns, `__file`, `__line`), `mem` (valid members
//! of valid households: declared columns, `__file`, `__line`, `__co`), `roster_rejects`
//! (`REJECT_COLUMNS` and `__order`, the local engine's order of the roster's rejects).

use super::read::{ident, text};
use crate::rules::plan::{household_column_in_records, Plan};
use anyhow::Result;

fn view(name: &str, body: &str) -> String {
    format!("CREATE OR REPLACE TEMPORARY VIEW {} AS\n{body};\n", ident(name))
}

/// Rejects of the rows of `from` selected by `filter`, all with one column and reason; `stage`
/// orders the checks as the local engine concatenates them.
fn rejects(source: &str, from: &str, filter: &str, column: &str, reason: &str, stage: u32) -> String {
    format!(
        "SELECT {} AS `来源`, __file AS `文件`, __line AS `行号`, {} AS `列`, coalesce(CAST({} AS STRING), '') AS `值`, {reason} AS `原因`, {stage} AS __stage, CAST(0 AS BIGINT) AS __sub FROM {} WHERE {filter}",
        text(source),
        text(column),
        ident(column),
        ident(from)
    )
}

/// See the module's documentation.
pub fn roster_sql(plan: &Plan) -> Result<String> {
    let r = &plan.roster;
    let (hh_name, mem_name) = (r.households.name.as_str(), r.members.name.as_str());
    let (key, mh, mid) = (ident(&r.key), ident(&r.member_household), ident(&r.member_id));
    let hh_cols: Vec<String> = r.households.columns.iter().map(|c| ident(&c.name)).chain(["__file".into(), "__line".into()]).collect();
    let mem_cols: Vec<String> = r.members.columns.iter().map(|c| ident(&c.name)).chain(["__file".into(), "__line".into()]).collect();
    let (hh_cols, mem_cols) = (hh_cols.join(", "), mem_cols.join(", "));
    let co = super::expr::sql(&r.co_resident)?;
    let mut sql = String::new();

    // A 户编号 listed twice: every row with it is rejected.
    sql += &view("roster__hh_n", &format!("SELECT {hh_cols}, count(*) OVER (PARTITION BY {key}) AS __n FROM hh_in"));
    sql += &view("roster__hh1", &format!("SELECT {hh_cols} FROM roster__hh_n WHERE __n = 1"));
    // One person in two households: all rows rejected; twice in one household: the first row
    // (the smallest line) kept. Members without an ID are never repeats.
    sql += &view(
        "roster__mem_p",
        &format!(
            "SELECT {mem_cols}, {mid} IS NOT NULL AND count(*) OVER w > 1 AS __rep, size(collect_set({mh}) OVER w) AS __homes, min(__line) OVER w AS __first, \
             array_join(array_sort(collect_set({mh}) OVER w), '、') AS __homes_list FROM mem_in WINDOW w AS (PARTITION BY {mid})"
        ),
    );
    sql += &view("roster__mem1", &format!("SELECT {mem_cols} FROM roster__mem_p WHERE NOT __rep OR (__homes = 1 AND __line = __first)"));
    // Members of a household the roster does not hold (or rejected).
    sql += &view("roster__mem2", &format!("SELECT m.*, h.__hkey IS NOT NULL AS __known FROM roster__mem1 m LEFT JOIN (SELECT DISTINCT {key} AS __hkey FROM roster__hh1) h ON m.{mh} = h.__hkey"));
    // Co-residence, with the household columns the condition reads as `户.<column>`.
    let mut used = std::collections::BTreeSet::new();
    r.co_resident.columns_into(&mut used);
    let prefix = household_column_in_records("");
    let from_hh: Vec<String> =
        used.iter().filter_map(|c| c.strip_prefix(prefix.as_str())).map(|c| format!("h.{} AS {}", ident(c), ident(&household_column_in_records(c)))).collect();
    let joined = if from_hh.is_empty() {
        "SELECT * FROM roster__mem2 WHERE __known".to_string()
    } else {
        format!("SELECT m.*, {} FROM roster__mem2 m JOIN roster__hh1 h ON m.{mh} = h.{key} WHERE m.__known", from_hh.join(", "))
    };
    sql += &view("roster__mem3", &format!("SELECT {mem_cols}, coalesce({co}, false) AS __co FROM ({joined})"));
    // Households with no co-resident member, and their members.
    sql += &view(
        "roster__hh2",
        &format!(
            "SELECT h.*, coalesce(m.__rows, 0) AS __rows, coalesce(m.__co_rows, 0) = 0 AS __empty FROM roster__hh1 h LEFT JOIN \
             (SELECT {mh}, count(*) AS __rows, count_if(__co) AS __co_rows FROM roster__mem3 GROUP BY {mh}) m ON h.{key} = m.{mh}"
        ),
    );
    sql += &view("hh", &format!("SELECT {hh_cols} FROM roster__hh2 WHERE NOT __empty"));
    sql += &view(
        "roster__mem4",
        &format!("SELECT m.*, h.__hkey IS NULL AS __gone FROM roster__mem3 m LEFT JOIN (SELECT {key} AS __hkey FROM hh) h ON m.{mh} = h.__hkey"),
    );
    sql += &view("mem", &format!("SELECT {mem_cols}, __co FROM roster__mem4 WHERE NOT __gone"));

    let read = |table: &str| {
        format!("SELECT `来源`, `文件`, `行号`, `列`, `值`, `原因`, 0 AS __stage, CAST(__order AS BIGINT) AS __sub FROM {}", ident(&format!("{table}_rejects")))
    };
    let parts = [
        read("hh_in"),
        read("mem_in"),
        rejects(hh_name, "roster__hh_n", "__n > 1", &r.key, "concat('户编号重复(户表中出现', __n, '次),无法确定哪一行有效')", 1),
        rejects(mem_name, "roster__mem_p", "__rep AND __homes > 1", &r.member_id, "concat('同一人出现在多个户中(户编号 ', __homes_list, ')')", 2),
        rejects(
            mem_name,
            "roster__mem_p",
            "__rep AND __homes = 1 AND __line <> __first",
            &r.member_id,
            "concat('同一户内重复的成员记录(首次出现在第', __first, '行)')",
            3,
        ),
        rejects(mem_name, "roster__mem2", "NOT __known", &r.member_household, "'户编号在户表中不存在或该户已被拒收'", 4),
        rejects(
            hh_name,
            "roster__hh2",
            "__empty",
            &r.key,
            "IF(__rows = 0, '该户在人表中没有任何成员,无法计算人均收入', '该户没有共同生活的成员(是否共同生活均为否),无法计算人均收入')",
            5,
        ),
        rejects(mem_name, "roster__mem4", "__gone", &r.member_household, "'所属户没有共同生活的成员,整户拒收'", 6),
    ];
    // `households::build` concatenates the read rejects and the checks' in that order and sorts
    // them by source and line, keeping that order among equals.
    sql += &view(
        "roster_rejects",
        &format!(
            "SELECT `来源`, `文件`, `行号`, `列`, `值`, `原因`, row_number() OVER (ORDER BY `来源`, `行号`, __stage, `文件`, __sub) AS __order FROM ({})",
            parts.join("\nUNION ALL ")
        ),
    );
    Ok(sql)
}
