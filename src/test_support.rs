//! Helpers shared by unit tests.

use polars::prelude::*;

/// The values of a text column (None for null).
pub fn texts(df: &DataFrame, column: &str) -> Vec<Option<String>> {
    let ca = df.column(column).expect("column exists").str().expect("text column").clone();
    (0..ca.len()).map(|i| ca.get(i).map(str::to_string)).collect()
}
