//! Polars frames under every stage: the typed rules expressions compiled to polars expressions
//! (`compile`), the decimal type money is held in, and small expression helpers. Below
//! `sources`, `households` and `evaluate`, which all build on it; it depends only on the typed
//! plan.

pub mod columns;
pub mod compile;
pub mod rows;

pub use compile::case;

/// Precision of every decimal column (polars' largest): amounts are exact at any scale used.
pub const DECIMAL_PRECISION: usize = 38;
