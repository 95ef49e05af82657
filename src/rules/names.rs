//! The names of the columns that the typed plan's references (`TExpr::Agg`, `PersonAgg`,
//! `List`, `Fired`) stand for. Every engine compiles to the same names: the polars compiler
//! (`frame::compile`) and the Spark SQL one (`spark::expr`).

/// The column holding household aggregate `i`.
pub fn agg_column(i: usize) -> String {
    format!("__agg{i}")
}

/// The column holding per-person aggregate `i` in a record frame.
pub fn person_agg_column(i: usize) -> String {
    format!("__pagg{i}")
}

/// The column holding record list `i` in the household frame.
pub fn list_column(i: usize) -> String {
    format!("__list{i}")
}

/// The column holding whether the rule with this id hit the household.
pub fn hit_column(id: &str) -> String {
    format!("__hit.{id}")
}
