//! Why no header row holds every declared column, and what would fix it (an alias, or another
//! delimiter).

use super::grid;
use super::header::{self, NoHeader};
use crate::rules::plan::Table;
use anyhow::anyhow;

/// `other`: a delimiter with which the header would hold every declared column (the declared
/// or detected one is then wrong, and an alias would not help).
pub(super) fn missing_columns_error(table: &Table, e: NoHeader, other: Option<u8>) -> anyhow::Error {
    let missing: Vec<String> = e
        .missing
        .iter()
        .map(|(m, hint)| match hint {
            Some(h) => format!("{m} (closest header: '{}')", crate::log::quote(h)),
            None => m.clone(),
        })
        .collect();
    let advice = match other {
        Some(d) => format!(
            "the header holds every declared column when split at '{}' instead: declare the delimiter in the rules: [sources.{}.read] delimiter = \"{}\"",
            show_delimiter(d),
            table.name,
            show_delimiter(d)
        ),
        None => format!("add an alias in the rules: [sources.{}.read.aliases]", table.name),
    };
    anyhow!(
        "missing required column{} {}; headers found: {} ({advice})",
        if missing.len() > 1 { "s" } else { "" },
        missing.join(", "),
        // The row is a record when the header is missing: its cells are quoted, cut.
        if e.best.is_empty() { "(none)".to_string() } else { crate::log::quote(&e.best.join(", ")) },
    )
}

fn show_delimiter(d: u8) -> String {
    if d == b'\t' {
        "\\t".to_string()
    } else {
        (d as char).to_string()
    }
}

/// The first delimiter other than `tried` with which the first rows of `sample` hold a header
/// with every declared column.
pub(super) fn other_delimiter(sample: &str, tried: u8, table: &Table) -> Option<u8> {
    grid::DELIMITERS
        .into_iter()
        .filter(|d| *d != tried)
        .find(|d| grid::from_text(sample, *d).is_ok_and(|g| header::find(&g.rows.iter().map(|(_, r)| r.as_slice()).collect::<Vec<_>>(), table).is_ok()))
}
