//! manifest.json: what a run read, resolved and wrote, so it can be audited and reproduced.

use serde::Serialize;

#[derive(Serialize)]
pub struct Manifest {
    pub tool: String,
    pub version: String,
    /// How the run was started, with absolute paths: `fanpin replay` re-runs it from this.
    pub invocation: Invocation,
    pub rules: RulesInfo,
    /// The data directory's sources.toml, when one was applied.
    pub sources_file: Option<OutputInfo>,
    pub data_dir: String,
    pub inputs: Vec<InputInfo>,
    pub parameters: Vec<ParameterInfo>,
    pub counts: Counts,
    pub coverage: Vec<CoverageInfo>,
    pub outputs: Vec<OutputInfo>,
    pub elapsed_ms: u128,
    /// Wall time of each stage, in order.
    pub stages_ms: Vec<(String, u128)>,
    /// The engine that screened.
    pub engine: EngineInfo,
}

/// `local`, or `spark` with Spark's version, the master and the SHA-256 of the job it ran.
#[derive(Serialize)]
pub struct EngineInfo {
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub spark_version: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub master: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub job_sha256: Option<String>,
}

impl EngineInfo {
    pub fn local() -> Self {
        EngineInfo { name: "local".into(), spark_version: None, master: None, job_sha256: None }
    }
}

#[derive(Serialize)]
pub struct Invocation {
    pub rules: String,
    pub data: String,
    pub as_of: Option<String>,
    pub previous: Option<String>,
    /// The previous run's files this run read (flagged.csv, screened.csv), with their hashes.
    pub previous_files: Vec<OutputInfo>,
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
    /// The rules' wording that `fanpin notice` uses on this run's flagged.csv.
    pub wording: Wording,
}

/// `[report]` wording, as the run's rules gave it.
#[derive(Serialize, serde::Deserialize)]
pub struct Wording {
    pub include: String,
    pub review: String,
    pub notice_title: String,
    pub notice_footer: String,
}

#[derive(Serialize)]
pub struct InputInfo {
    pub source: String,
    pub label: String,
    /// The declared file name or glob.
    pub pattern: String,
    /// false: no file matched, a source with no records.
    pub present: bool,
    pub files: Vec<FileManifest>,
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
pub struct FileManifest {
    pub file: String,
    pub sha256: String,
    pub format: String,
    pub encoding: Option<String>,
    pub delimiter: Option<String>,
    pub sheet: Option<String>,
    pub header_line: usize,
    /// Declared column → header found in the file.
    pub columns: Vec<(String, String)>,
    pub records: usize,
    pub skipped_blank_rows: usize,
    pub skipped_total_rows: usize,
}

impl FileManifest {
    pub fn from(f: &crate::sources::read::FileInfo) -> Self {
        FileManifest {
            file: f.file.clone(),
            sha256: f.sha256.clone(),
            format: f.format.to_string(),
            encoding: f.encoding.map(str::to_string),
            delimiter: f.delimiter.map(|d| if d == '\t' { "\\t".to_string() } else { d.to_string() }),
            sheet: f.sheet.clone(),
            header_line: f.header_line,
            columns: f.mapping.clone(),
            records: f.records,
            skipped_blank_rows: f.skipped_blank,
            skipped_total_rows: f.skipped_total,
        }
    }
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
    /// Listed households not yet in monitoring (new_leads.csv).
    pub new_leads: usize,
    /// Listed households already in monitoring.
    pub already_monitored: usize,
    /// With --previous: elimination_candidates.csv rows.
    pub elimination_candidates: Option<usize>,
    /// With --previous: households meeting the conditions that stay monitored.
    pub stays_monitored: Option<usize>,
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
