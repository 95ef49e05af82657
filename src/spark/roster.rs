//! TEMPORARY (replaced by the helper's version).
use crate::rules::plan::Plan;
use anyhow::Result;

pub fn roster_sql(plan: &Plan) -> Result<String> {
    Ok(format!(
        "CREATE OR REPLACE TEMPORARY VIEW hh AS SELECT * FROM hh_in;\nCREATE OR REPLACE TEMPORARY VIEW mem AS SELECT *, {} AS __co FROM mem_in;\nCREATE OR REPLACE TEMPORARY VIEW roster_rejects AS SELECT * FROM hh_in_rejects;\n",
        super::expr::sql(&plan.roster.co_resident)?
    ))
}
