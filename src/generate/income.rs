//! Household incomes in integer fen (1 yuan = 100 fen): never floating point.

use super::rng::Rng;

pub const LINE_FEN: i64 = 6320_00;

pub struct Income {
    pub wage: i64,
    pub business: i64,
    pub property: i64,
    pub transfer: i64,
    pub expense: i64,
    pub previous: i64,
}

/// Per-capita net income rounded half-up to the fen (non-negative `net`).
pub fn per_capita(net: i64, n: i64) -> i64 {
    if n <= 0 {
        return 0;
    }
    let q = (2 * net.abs() + n) / (2 * n);
    if net < 0 {
        -q
    } else {
        q
    }
}

/// A per-capita target: ~7 % below the 6320 line (10 % of 脱贫户, 6 % of 一般农户),
/// ~33 % in 6320..12000, the rest above.
pub fn random_pci(rng: &mut Rng, poor: bool) -> i64 {
    let r = rng.below(1000);
    let low = if poor { 100 } else { 60 };
    if r < low {
        return rng.range(1500_00, LINE_FEN - 1);
    }
    match r {
        0..=399 => rng.range(LINE_FEN, 11999_99),
        400..=849 => rng.range(12000_00, 25000_00),
        _ => rng.range(25000_00, 60000_00),
    }
}

/// Splits net income `net` (fen) into the five household columns so that
/// wage + business + property + transfer − expense = net exactly.
pub fn split(rng: &mut Rng, net: i64, poor: bool) -> Income {
    let expense = match rng.below(100) {
        0..=4 => rng.range(8000_00, 80000_00),
        5..=24 => 0,
        _ => rng.range(100_00, 3000_00),
    };
    let t = if poor { rng.range(80, 250) } else { rng.range(20, 100) };
    let transfer = net * t / 1000;
    let property = if rng.chance(500_000) { 0 } else { net * rng.range(0, 30) / 1000 };
    let rest = net - transfer - property;
    let wage = rest * rng.range(400, 900) / 1000;
    let business = rest - wage + expense;
    Income { wage, business, property, transfer, expense, previous: 0 }
}

/// Last year's net income: mostly near this year's, ~2 % at least double
/// (a drop of ≥ 50 % this year), ~1 % zero.
pub fn random_previous(rng: &mut Rng, net: i64) -> i64 {
    match rng.below(1000) {
        0..=9 => 0,
        10..=29 => net * rng.range(2000, 4000) / 1000,
        _ => net * rng.range(850, 1150) / 1000,
    }
}
