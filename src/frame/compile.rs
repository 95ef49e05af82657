//! Typed rules expressions → polars expressions over whole columns.
//!
//! Decimal arithmetic is exact by construction: the plan knows every operand's scale, so
//! `+ -` work at the larger scale, `*` at the sum of the scales (polars would otherwise round
//! half to even), and `round(a / b, p)` divides integers and rounds half away from zero.

use crate::frame::DECIMAL_PRECISION;
use crate::rules::plan::{ArithOp, CmpOp, DateOp, LogicOp, Piece, TExpr, Ty, Value};
use polars::prelude::*;
use rust_decimal::Decimal;

pub fn dec_dtype(scale: u32) -> DataType {
    DataType::Decimal(DECIMAL_PRECISION, scale as usize)
}

/// A decimal literal with the value's own scale.
pub fn dec_lit(d: Decimal) -> Expr {
    let scale = d.scale() as usize;
    lit(Scalar::new(dec_dtype(d.scale()), AnyValue::Decimal(d.mantissa(), DECIMAL_PRECISION, scale)))
}

fn date_lit(d: chrono::NaiveDate) -> Expr {
    let epoch = chrono::NaiveDate::from_ymd_opt(1970, 1, 1).expect("epoch");
    let days = (d - epoch).num_days() as i32;
    lit(Scalar::new(DataType::Date, AnyValue::Date(days)))
}

pub fn value_lit(v: &Value) -> Expr {
    match v {
        Value::Bool(b) => lit(*b),
        Value::Int(i) => lit(*i),
        Value::Dec(d) => dec_lit(*d),
        Value::Text(s) => lit(s.as_str()),
        Value::Date(d) => date_lit(*d),
    }
}

/// The polars type an expression of this type evaluates to.
pub fn dtype(ty: &Ty) -> DataType {
    match ty {
        Ty::Bool => DataType::Boolean,
        Ty::Int => DataType::Int64,
        Ty::Dec(s) => dec_dtype(*s),
        Ty::Text | Ty::Enum(_) => DataType::String,
        Ty::Date => DataType::Date,
    }
}

/// Compiles and casts to `ty` (numeric widening only: scales never shrink here).
fn as_type(e: &TExpr, ty: &Ty) -> Expr {
    let c = compile(e);
    if &e.ty() == ty {
        c
    } else {
        c.cast(dtype(ty))
    }
}

pub use crate::rules::names::{agg_column, hit_column as hit_column_of, list_column, person_agg_column};

pub fn compile(e: &TExpr) -> Expr {
    match e {
        TExpr::Col { column, .. } => col(column.as_str()),
        TExpr::Lit(v) => value_lit(v),
        TExpr::Neg(inner) => {
            let ty = inner.ty();
            match ty {
                Ty::Int => lit(0i64) - compile(inner),
                _ => dec_lit(Decimal::ZERO).cast(dtype(&ty)) - compile(inner),
            }
        }
        TExpr::Not(inner) => compile(inner).not(),
        TExpr::Arith { op, lhs, rhs, ty } => {
            // Both operands at the result's scale; for `*` the product of the two
            // mantissas then has exactly the result scale, so nothing is rounded.
            let (l, r) = (as_type(lhs, ty), as_type(rhs, ty));
            match op {
                ArithOp::Add => l + r,
                ArithOp::Sub => l - r,
                ArithOp::Mul => l * r,
            }
        }
        // A comparison with a missing value is false (and `not` of it true): one rule for
        // every comparison, as README says.
        TExpr::Cmp { .. } | TExpr::In { .. } => comparison(e).fill_null(lit(false)),
        TExpr::Logic { op, lhs, rhs } => {
            let (l, r) = (compile(lhs), compile(rhs));
            if *op == LogicOp::And {
                l.and(r)
            } else {
                l.or(r)
            }
        }
        TExpr::If { cond, then, otherwise, ty } => when(compile(cond).fill_null(lit(false))).then(as_type(then, ty)).otherwise(as_type(otherwise, ty)),
        TExpr::Round { num, den, places } => round_div(num, den.as_deref(), *places),
        TExpr::Agg { index, .. } => col(agg_column(*index).as_str()),
        TExpr::PersonAgg { index, .. } => col(person_agg_column(*index).as_str()),
        TExpr::List { index } => col(list_column(*index).as_str()),
        TExpr::Fired { rules } => rules.iter().map(|r| col(hit_column_of(r).as_str())).reduce(|a, b| a.or(b)).unwrap_or(lit(false)),
        TExpr::Date { op, args } => calendar(*op, args),
    }
}

/// A comparison or `in`, which may be missing where an operand is.
fn comparison(e: &TExpr) -> Expr {
    match e {
        TExpr::Cmp { op, lhs, rhs } => {
            let (lt, rt) = (lhs.ty(), rhs.ty());
            let (l, r) = if lt.is_numeric() && rt.is_numeric() && lt != rt {
                let common = match (&lt, &rt) {
                    (Ty::Int, Ty::Int) => Ty::Int,
                    _ => Ty::Dec(lt.scale().max(rt.scale())),
                };
                (as_type(lhs, &common), as_type(rhs, &common))
            } else {
                (compile(lhs), compile(rhs))
            };
            match op {
                CmpOp::Eq => l.eq(r),
                CmpOp::Ne => l.neq(r),
                CmpOp::Lt => l.lt(r),
                CmpOp::Le => l.lt_eq(r),
                CmpOp::Gt => l.gt(r),
                CmpOp::Ge => l.gt_eq(r),
            }
        }
        TExpr::In { value, list, negated } => {
            // Every item's comparison is missing where the value is, and so is their `or`.
            let any = list
                .iter()
                .map(|x| comparison(&TExpr::Cmp { op: CmpOp::Eq, lhs: value.clone(), rhs: Box::new(TExpr::Lit(x.clone())) }))
                .reduce(|a, b| a.or(b))
                .unwrap_or(lit(false));
            if *negated {
                any.not()
            } else {
                any
            }
        }
        _ => compile(e),
    }
}

/// `d` moved by `n` months, the day clamped to the new month's length (01-31 + 1 → 02-28),
/// by integer arithmetic on the year, month and day.
fn add_months(d: Expr, n: Expr) -> Expr {
    let i = |e: Expr| e.cast(DataType::Int64);
    let total = i(d.clone().dt().year()) * lit(12i64) + i(d.clone().dt().month()) - lit(1i64) + n;
    let y = total.clone().floor_div(lit(12i64));
    let m = total - y.clone() * lit(12i64) + lit(1i64);
    let leap = (y.clone() % lit(4i64)).eq(lit(0i64)).and((y.clone() % lit(100i64)).neq(lit(0i64))).or((y.clone() % lit(400i64)).eq(lit(0i64)));
    let month_days =
        when(m.clone().eq(lit(2i64))).then(lit(28i64) + leap.cast(DataType::Int64)).otherwise(lit(31i64) - (m.clone() - lit(1i64)) % lit(7i64) % lit(2i64));
    let day = when(i(d.clone().dt().day()).gt(month_days.clone())).then(month_days).otherwise(i(d.dt().day()));
    days_from_civil(y, m, day).cast(DataType::Int32).cast(DataType::Date)
}

/// Days since 1970-01-01 of a proleptic Gregorian year, month (1–12) and day, over columns
/// (H. Hinnant's `days_from_civil`; years from 1 on).
fn days_from_civil(y: Expr, m: Expr, d: Expr) -> Expr {
    let y = y - m.clone().lt_eq(lit(2i64)).cast(DataType::Int64);
    let era = y.clone().floor_div(lit(400i64));
    let yoe = y - era.clone() * lit(400i64);
    let mp = when(m.clone().gt(lit(2i64))).then(m.clone() - lit(3i64)).otherwise(m + lit(9i64));
    let doy = (lit(153i64) * mp + lit(2i64)).floor_div(lit(5i64)) + d - lit(1i64);
    let doe = yoe.clone() * lit(365i64) + yoe.clone().floor_div(lit(4i64)) - yoe.floor_div(lit(100i64)) + doy;
    era * lit(146097i64) + doe - lit(719468i64)
}

/// A calendar function over whole columns.
fn calendar(op: DateOp, args: &[TExpr]) -> Expr {
    let arg = |i: usize| compile(&args[i]);
    let days = |e: Expr| e.cast(DataType::Int32).cast(DataType::Int64);
    match op {
        DateOp::Year => arg(0).dt().year().cast(DataType::Int64),
        DateOp::Month => arg(0).dt().month().cast(DataType::Int64),
        DateOp::Day => arg(0).dt().day().cast(DataType::Int64),
        DateOp::Age => {
            // Full years: the difference of the years, less one before the birthday.
            let (b, at) = (arg(0), arg(1));
            let md = |d: Expr| d.clone().dt().month().cast(DataType::Int64) * lit(100i64) + d.dt().day().cast(DataType::Int64);
            let before = md(b.clone()).gt(md(at.clone())).cast(DataType::Int64);
            at.dt().year().cast(DataType::Int64) - b.dt().year().cast(DataType::Int64) - before
        }
        DateOp::AddDays => (days(arg(0)) + arg(1)).cast(DataType::Int32).cast(DataType::Date),
        DateOp::AddMonths => add_months(arg(0), arg(1)),
        DateOp::DaysBetween => days(arg(1)) - days(arg(0)),
    }
}

/// The integer mantissa of a numeric expression at its own scale (Int64).
fn mantissa(e: &TExpr) -> Expr {
    match e.ty() {
        Ty::Int => compile(e),
        // A Decimal at scale s is stored as its mantissa at scale s (an i128): read as it is,
        // with no decimal multiplication or division per row.
        ty => compile(e).cast(dtype(&ty)).to_physical().cast(DataType::Int64),
    }
}

/// `round(num / den, places)`, half away from zero, exact:
/// with N, D the mantissas at scales sn, sd, the result mantissa is
/// R = sign · ⌊(2|N'| + |D'|) / (2|D'|)⌋ where N'/D' = N·10^(p+sd−sn) / D.
fn round_div(num: &TExpr, den: Option<&TExpr>, places: u32) -> Expr {
    let sn = num.ty().scale() as i64;
    let sd = den.map_or(0, |d| d.ty().scale() as i64);
    let k = places as i64 + sd - sn;
    let mut n = mantissa(num);
    let mut d = den.map_or(lit(1i64), mantissa);
    if k >= 0 {
        n = n * lit(10i64.pow(k as u32));
    } else {
        d = d * lit(10i64.pow((-k) as u32));
    }
    let two = lit(2i64);
    let q = (two.clone() * n.clone().abs() + d.clone().abs()).floor_div(two * d.clone().abs());
    let negative = n.lt(lit(0i64)).xor(d.clone().lt(lit(0i64)));
    let r = when(d.eq(lit(0i64))).then(lit(NULL)).when(negative).then(lit(0i64) - q.clone()).otherwise(q);
    // R (an integer) at scale `places` has mantissa R·10^p; times 10^-p (mantissa 1 at the same
    // scale) polars computes R·10^p·1 / 10^p = R exactly: the value R·10^-p.
    r.cast(dec_dtype(places)) * dec_lit(Decimal::from_i128_with_scale(1, places))
}

/// An expression rendered as text for evidence: decimals keep their scale, dates are
/// YYYY-MM-DD, conditions 是/否, nulls empty.
pub fn to_text(e: &TExpr) -> Expr {
    let c = compile(e);
    match e.ty() {
        Ty::Bool => when(c).then(lit("是")).otherwise(lit("否")),
        Ty::Text | Ty::Enum(_) => c.fill_null(lit("")),
        Ty::Dec(s) if s > 2 => money_places(c.cast(DataType::String)).fill_null(lit("")),
        _ => c.cast(DataType::String).fill_null(lit("")),
    }
}

/// A decimal's text with the zeros past the cent dropped (7500.000 → 7500.00; 50.015 stays):
/// exact, and money reads to the cent where it is whole cents.
pub fn money_places(text: Expr) -> Expr {
    text.str().replace(lit(r"^(-?[0-9]+\.[0-9]{2}[0-9]*?)0+$"), lit("$1"), false)
}

pub fn template(pieces: &[Piece]) -> Expr {
    let parts: Vec<Expr> = pieces
        .iter()
        .map(|p| match p {
            Piece::Text(t) => lit(t.as_str()),
            Piece::Value(e) => to_text(e),
        })
        .collect();
    if parts.is_empty() {
        lit("")
    } else {
        concat_str(parts, "", false)
    }
}

/// `when c1 then v1 when c2 then v2 … otherwise o`, from a list of pairs.
pub fn case(pairs: Vec<(Expr, Expr)>, otherwise: Expr) -> Expr {
    let mut iter = pairs.into_iter();
    let Some((c0, v0)) = iter.next() else { return otherwise };
    let first = when(c0).then(v0);
    let Some((c1, v1)) = iter.next() else { return first.otherwise(otherwise) };
    let mut chain = first.when(c1).then(v1);
    for (c, v) in iter {
        chain = chain.when(c).then(v);
    }
    chain.otherwise(otherwise)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::plan::MONEY_SCALE;

    fn money(name: &str) -> TExpr {
        TExpr::Col { column: name.into(), ty: Ty::Dec(MONEY_SCALE) }
    }

    /// Evaluates `e` over columns `a` (money, from text) and `n` (integer); returns text.
    fn eval(e: &TExpr, a: &[&str], n: &[i64]) -> Vec<String> {
        let df = df!("a" => a, "n" => n).unwrap();
        let out = df.lazy().with_column(col("a").cast(dec_dtype(MONEY_SCALE))).select([to_text(e).alias("v")]).collect().unwrap();
        crate::test_support::texts(&out, "v").into_iter().map(|v| v.unwrap_or("null".into())).collect()
    }

    fn round_div(places: u32) -> TExpr {
        TExpr::Round { num: Box::new(money("a")), den: Some(Box::new(TExpr::Col { column: "n".into(), ty: Ty::Int })), places }
    }

    #[test]
    fn per_capita_rounds_half_away_from_zero_not_to_even() {
        // 12640.01 / 2 = 6320.005 → 6320.01 (banker's rounding would give 6320.00)
        // 18959.99 / 3 = 6319.99666… → 6320.00;  18959.96 / 3 = 6319.98666… → 6319.99
        // -0.01 / 2 = -0.005 → -0.01;  0.01 / 2 = 0.005 → 0.01;  12.50 / 2 = 6.25 exactly
        let got = eval(&round_div(2), &["12640.01", "18959.99", "18959.96", "-0.01", "0.01", "12.50"], &[2, 3, 3, 2, 2, 2]);
        assert_eq!(got, ["6320.01", "6320.00", "6319.99", "-0.01", "0.01", "6.25"]);
    }

    #[test]
    fn rounding_to_whole_yuan_and_division_by_zero() {
        // 5.00 / 2 = 2.5 → 3;  -5.00 / 2 = -2.5 → -3;  x / 0 → null (never a panic)
        assert_eq!(eval(&round_div(0), &["5.00", "-5.00", "1.00"], &[2, 2, 0]), ["3", "-3", ""]);
    }

    #[test]
    fn products_keep_every_decimal() {
        // 100.03 × 0.5 = 50.015 exactly (scale 2 + 1 = 3); rounding half to even at two
        // places would give 50.02 and change 50.02 <= x from false to true.
        let half = TExpr::Lit(Value::Dec(Decimal::new(5, 1)));
        let product = TExpr::Arith { op: ArithOp::Mul, lhs: Box::new(money("a")), rhs: Box::new(half), ty: Ty::Dec(3) };
        assert_eq!(eval(&product, &["100.03", "0.01"], &[0, 0]), ["50.015", "0.005"]);
        let cmp = TExpr::Cmp { op: CmpOp::Le, lhs: Box::new(TExpr::Lit(Value::Dec(Decimal::new(5002, 2)))), rhs: Box::new(product) };
        assert_eq!(eval(&cmp, &["100.03", "100.04"], &[0, 0]), ["否", "是"]);
    }

    #[test]
    fn comparisons_across_scales_and_integers_are_exact() {
        // 4000.00 >= 4000 (integer literal) is true; 3999.99 >= 4000 is false.
        let ge = TExpr::Cmp { op: CmpOp::Ge, lhs: Box::new(money("a")), rhs: Box::new(TExpr::Lit(Value::Int(4000))) };
        assert_eq!(eval(&ge, &["4000.00", "3999.99", "4000.01"], &[0, 0, 0]), ["是", "否", "是"]);
        // 10000.00 > 10000 is false (超过 excludes the bound).
        let gt = TExpr::Cmp { op: CmpOp::Gt, lhs: Box::new(money("a")), rhs: Box::new(TExpr::Lit(Value::Int(10000))) };
        assert_eq!(eval(&gt, &["10000.00", "10000.01"], &[0, 0]), ["否", "是"]);
    }

    #[test]
    fn sums_and_differences_of_money() {
        // a - n where n is an integer: 0.10 - 1 = -0.90
        let diff = TExpr::Arith { op: ArithOp::Sub, lhs: Box::new(money("a")), rhs: Box::new(TExpr::Col { column: "n".into(), ty: Ty::Int }), ty: Ty::Dec(2) };
        assert_eq!(eval(&diff, &["0.10"], &[1]), ["-0.90"]);
        let neg = TExpr::Neg(Box::new(money("a")));
        assert_eq!(eval(&neg, &["12.34"], &[0]), ["-12.34"]);
    }
}
