//! Finding the header row (below any title rows) and mapping each declared column to a header
//! of the file, by its own name or one of its aliases.

use crate::rules::diag::closest;
use crate::rules::plan::Table;

/// Title rows above the header are skipped; the header is searched in the first rows only.
pub const HEADER_SEARCH_ROWS: usize = 30;

/// A header cell compared loosely: no white space anywhere, full-width brackets as ASCII.
pub fn normalize(h: &str) -> String {
    h.trim_start_matches('\u{feff}')
        .chars()
        .filter(|c| !c.is_whitespace())
        .map(|c| match c {
            '（' => '(',
            '）' => ')',
            c => c,
        })
        .collect()
}

pub struct Mapping {
    /// Index (in the rows given) of the header row.
    pub header_index: usize,
    /// For each declared column: its index in the file and the header found there.
    pub columns: Vec<(String, usize, String)>,
}

/// Why no header row fits, for the error message.
pub struct NoHeader {
    /// The row that matched the most declared columns.
    pub best: Vec<String>,
    /// Declared columns not found in it, each with the closest header of that row.
    pub missing: Vec<(String, Option<String>)>,
}

fn map_row(row: &[String], table: &Table) -> (Vec<(String, usize, String)>, Vec<String>) {
    let cells: Vec<String> = row.iter().map(|c| normalize(c)).collect();
    let mut found = Vec::new();
    let mut missing = Vec::new();
    for c in &table.columns {
        let names: Vec<String> = std::iter::once(&c.name).chain(&c.aliases).map(|n| normalize(n)).collect();
        match cells.iter().position(|cell| names.contains(cell)) {
            Some(i) => found.push((c.name.clone(), i, row[i].trim().to_string())),
            None => missing.push(c.name.clone()),
        }
    }
    (found, missing)
}

/// The first row (of the first `HEADER_SEARCH_ROWS`) that holds every declared column.
pub fn find(rows: &[&[String]], table: &Table) -> Result<Mapping, NoHeader> {
    let mut best: Option<(usize, Vec<String>)> = None;
    for (i, row) in rows.iter().take(HEADER_SEARCH_ROWS).enumerate() {
        let (found, missing) = map_row(row, table);
        if missing.is_empty() {
            return Ok(Mapping { header_index: i, columns: found });
        }
        if best.as_ref().is_none_or(|(_, m)| missing.len() < m.len()) {
            best = Some((i, missing));
        }
    }
    let (i, missing) = best.unwrap_or((0, table.columns.iter().map(|c| c.name.clone()).collect()));
    // The row is quoted in an error message, and may be a record: ID numbers are masked.
    let best_row: Vec<String> = rows.get(i).map(|r| r.iter().map(|c| crate::log::mask_ids(c.trim())).collect()).unwrap_or_default();
    let missing = missing
        .into_iter()
        .map(|m| {
            let c = table.column(&m).expect("declared");
            let hint = std::iter::once(&c.name).chain(&c.aliases).filter_map(|n| closest(n, best_row.iter().map(String::as_str))).next().map(str::to_string);
            (m, hint)
        })
        .collect();
    Err(NoHeader { best: best_row, missing })
}

/// Whether a row is a total line (合计/总计/小计, maybe centred as `合  计` or `合　计`) rather
/// than a record.
pub fn is_total_row(cells: &[String]) -> bool {
    cells.iter().map(|c| c.trim()).find(|c| !c.is_empty()).is_some_and(|c| {
        let c: String = c.chars().filter(|ch| !ch.is_whitespace()).take(2).collect();
        ["合计", "总计", "小计"].contains(&c.as_str())
    })
}
