//! manifest.json: what a run read, resolved and wrote, so it can be audited and reproduced.

use serde::Serialize;

#[derive(Serialize)]
pub struct Manifest {
    pub tool: String,
    pub version: String,
    pub rules: RulesInfo,
    pub data_dir: String,
    pub inputs: Vec<InputInfo>,
    pub parameters: Vec<ParameterInfo>,
    pub counts: Counts,
    pub coverage: Vec<CoverageInfo>,
    pub outputs: Vec<OutputInfo>,
    pub elapsed_ms: u128,
}

#[derive(Serialize)]
pub struct RulesInfo {
    pub file: String,
    pub sha256: String,
    pub name: String,
    pub region: String,
    pub version: String,
    pub determination_date: String,
    pub window_start: String,
    pub window_end: String,
}

#[derive(Serialize)]
pub struct InputInfo {
    pub source: String,
    pub label: String,
    pub file: String,
    /// false: the file is absent, a source with no records.
    pub present: bool,
    pub sha256: Option<String>,
    pub rows_read: usize,
    /// Rows with at least one unreadable cell (or failing a roster check).
    pub rows_rejected: usize,
    /// Department sources: valid records dated inside the window (all valid records when the
    /// source has no window).
    pub rows_in_window: Option<usize>,
    /// Department sources: records of a co-resident member, the ones the rules saw.
    pub rows_used: Option<usize>,
    pub rows_unmatched: Option<usize>,
}

#[derive(Serialize)]
pub struct ParameterInfo {
    pub name: String,
    pub description: String,
    pub value: String,
    pub effective_from: String,
    pub reference: String,
}

#[derive(Serialize)]
pub struct Counts {
    pub households_screened: usize,
    pub households_listed: usize,
    pub households_excluded: usize,
    pub rejects: usize,
    pub unmatched: usize,
}

#[derive(Serialize)]
pub struct CoverageInfo {
    pub rule: String,
    pub label: String,
    pub households_hit: usize,
}

#[derive(Serialize)]
pub struct OutputInfo {
    pub file: String,
    pub sha256: String,
}
