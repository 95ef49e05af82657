//! The terminal summary printed after a run: counts and the two summary tables.
//! It never shows ID numbers.

use super::summary::TextTable;
use tabled::builder::Builder;
use tabled::settings::Style;

pub fn render(t: &TextTable) -> String {
    let mut b = Builder::default();
    b.push_record(t.headers.iter().map(String::as_str));
    for r in &t.rows {
        b.push_record(r.iter().map(String::as_str));
    }
    b.build().with(Style::rounded()).to_string()
}
