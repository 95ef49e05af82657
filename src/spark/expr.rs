//! Typed rules expressions → Spark SQL expressions (ANSI mode), with the local engine's
//! semantics: exact decimals (no `/` on decimals, no DOUBLE), `round(a / b, p)` half away from
//! zero by integer arithmetic, a comparison with a missing value false, dates clamped.

use crate::rules::plan::{ArithOp, CmpOp, DateOp, LogicOp, Piece, TExpr, Ty, Value};
use anyhow::Result;

/// Precision of every decimal the job computes with (Spark's largest).
const PRECISION: u32 = 38;

/// A back-quoted identifier.
pub fn ident(name: &str) -> String {
    format!("`{}`", name.replace('`', "``"))
}

/// A string literal (backslashes and quotes escaped: Spark's default string literal syntax).
pub fn text(s: &str) -> String {
    format!("'{}'", s.replace('\\', "\\\\").replace('\'', "\\'"))
}

pub fn dec_type(scale: u32) -> String {
    format!("DECIMAL({PRECISION},{scale})")
}

/// The SQL type of a plan type.
pub fn sql_type(ty: &Ty) -> String {
    match ty {
        Ty::Bool => "BOOLEAN".into(),
        Ty::Int => "BIGINT".into(),
        Ty::Dec(s) => dec_type(*s),
        Ty::Text | Ty::Enum(_) => "STRING".into(),
        Ty::Date => "DATE".into(),
    }
}

pub fn value(v: &Value) -> String {
    match v {
        Value::Bool(b) => if *b { "TRUE" } else { "FALSE" }.into(),
        Value::Int(i) => format!("CAST({i} AS BIGINT)"),
        Value::Dec(d) => format!("CAST({} AS {})", text(&d.to_string()), dec_type(d.scale())),
        Value::Text(s) => text(s),
        Value::Date(d) => format!("DATE'{}'", d.format("%Y-%m-%d")),
    }
}

pub use crate::rules::names::{agg_column, hit_column, list_column, person_agg_column};

/// Compiles `e` to a SQL expression over the columns of the frame it runs on.
pub fn sql(e: &TExpr) -> Result<String> {
    Ok(match e {
        TExpr::Col { column, .. } => ident(column),
        TExpr::Lit(v) => value(v),
        TExpr::Neg(inner) => format!("(- {})", as_type(inner, &inner.ty())?),
        TExpr::Not(inner) => format!("(NOT {})", sql(inner)?),
        TExpr::Arith { op, lhs, rhs, ty } => arith(*op, lhs, rhs, ty)?,
        TExpr::Cmp { .. } | TExpr::In { .. } => format!("coalesce({}, FALSE)", comparison(e)?),
        TExpr::Logic { op, lhs, rhs } => format!("({} {} {})", sql(lhs)?, if *op == LogicOp::And { "AND" } else { "OR" }, sql(rhs)?),
        TExpr::If { cond, then, otherwise, ty } => {
            format!("(CASE WHEN coalesce({}, FALSE) THEN {} ELSE {} END)", sql(cond)?, as_type(then, ty)?, as_type(otherwise, ty)?)
        }
        TExpr::Round { num, den, places } => round_div(num, den.as_deref(), *places)?,
        TExpr::Agg { index, .. } => ident(&agg_column(*index)),
        TExpr::PersonAgg { index, .. } => ident(&person_agg_column(*index)),
        TExpr::List { index } => ident(&list_column(*index)),
        TExpr::Fired { rules } => {
            let hits: Vec<String> = rules.iter().map(|r| ident(&hit_column(r))).collect();
            if hits.is_empty() {
                "FALSE".into()
            } else {
                format!("({})", hits.join(" OR "))
            }
        }
        TExpr::Date { op, args } => calendar(*op, args)?,
    })
}

/// Compiles and casts to `ty` where the types differ (numeric widening only).
fn as_type(e: &TExpr, ty: &Ty) -> Result<String> {
    let c = sql(e)?;
    Ok(match (e.ty(), ty) {
        (Ty::Dec(_) | Ty::Int, Ty::Dec(s)) => format!("CAST({c} AS {})", dec_type(*s)),
        (a, b) if &a == b => c,
        (_, b) => format!("CAST({c} AS {})", sql_type(b)),
    })
}

/// `+ - *`: exact. Operands are cast to the result's scale for `+ -`; a product of two decimals
/// has the sum of their scales, which is the result's (no rounding at precision 38 for money).
fn arith(op: ArithOp, lhs: &TExpr, rhs: &TExpr, ty: &Ty) -> Result<String> {
    let (l, r) = match (op, ty) {
        // DECIMAL(18, s) operands: their product's precision (37) stays under Spark's 38, so its
        // scale is never cut.
        (ArithOp::Mul, Ty::Dec(_)) => {
            (format!("CAST({} AS DECIMAL(18,{}))", sql(lhs)?, lhs.ty().scale()), format!("CAST({} AS DECIMAL(18,{}))", sql(rhs)?, rhs.ty().scale()))
        }
        _ => (as_type(lhs, ty)?, as_type(rhs, ty)?),
    };
    let o = match op {
        ArithOp::Add => "+",
        ArithOp::Sub => "-",
        ArithOp::Mul => "*",
    };
    // Spark widens the result type; the plan's type is cast back (exact: no digits are lost).
    Ok(format!("CAST(({l} {o} {r}) AS {})", sql_type(ty)))
}

/// A comparison or `in`, NULL where an operand is missing (the caller makes that false).
fn comparison(e: &TExpr) -> Result<String> {
    Ok(match e {
        TExpr::Cmp { op, lhs, rhs } => {
            let (lt, rt) = (lhs.ty(), rhs.ty());
            let (l, r) = if lt.is_numeric() && rt.is_numeric() && lt != rt {
                let common = match (&lt, &rt) {
                    (Ty::Int, Ty::Int) => Ty::Int,
                    _ => Ty::Dec(lt.scale().max(rt.scale())),
                };
                (as_type(lhs, &common)?, as_type(rhs, &common)?)
            } else {
                (sql(lhs)?, sql(rhs)?)
            };
            let o = match op {
                CmpOp::Eq => "=",
                CmpOp::Ne => "<>",
                CmpOp::Lt => "<",
                CmpOp::Le => "<=",
                CmpOp::Gt => ">",
                CmpOp::Ge => ">=",
            };
            format!("({l} {o} {r})")
        }
        TExpr::In { value: v, list, negated } => {
            let items: Vec<String> =
                list.iter().map(|x| comparison(&TExpr::Cmp { op: CmpOp::Eq, lhs: v.clone(), rhs: Box::new(TExpr::Lit(x.clone())) })).collect::<Result<_>>()?;
            let any = if items.is_empty() { "FALSE".to_string() } else { format!("({})", items.join(" OR ")) };
            if *negated {
                format!("(NOT {any})")
            } else {
                any
            }
        }
        _ => sql(e)?,
    })
}

/// A calendar function.
fn calendar(op: DateOp, args: &[TExpr]) -> Result<String> {
    let a: Vec<String> = args.iter().map(sql).collect::<Result<_>>()?;
    let arg = |i: usize| a.get(i).cloned().ok_or_else(|| anyhow::anyhow!("internal error: {op:?} has {} arguments", a.len()));
    Ok(match op {
        DateOp::Year => format!("CAST(year({}) AS BIGINT)", arg(0)?),
        DateOp::Month => format!("CAST(month({}) AS BIGINT)", arg(0)?),
        DateOp::Day => format!("CAST(dayofmonth({}) AS BIGINT)", arg(0)?),
        DateOp::Age => {
            let (b, at) = (arg(0)?, arg(1)?);
            format!(
                "(CAST(year({at}) AS BIGINT) - CAST(year({b}) AS BIGINT) - CASE WHEN month({b}) * 100 + dayofmonth({b}) > month({at}) * 100 + dayofmonth({at}) THEN 1 ELSE 0 END)"
            )
        }
        // Spark's add_months keeps the day, clamped to the new month's length (since 3.0).
        DateOp::AddMonths => format!("add_months({}, CAST({} AS INT))", arg(0)?, arg(1)?),
        DateOp::AddDays => format!("date_add({}, CAST({} AS INT))", arg(0)?, arg(1)?),
        DateOp::DaysBetween => format!("CAST(datediff({}, {}) AS BIGINT)", arg(1)?, arg(0)?),
    })
}

/// The integer mantissa of a numeric expression at its own scale, as DECIMAL(38,0).
fn mantissa(e: &TExpr) -> Result<String> {
    Ok(match e.ty() {
        Ty::Int => format!("CAST({} AS {})", sql(e)?, dec_type(0)),
        // DECIMAL(19, s) × DECIMAL(18, 0): precision 38, the scale is kept.
        ty => {
            format!("CAST(CAST({} AS DECIMAL(19,{})) * CAST('1{}' AS DECIMAL(18,0)) AS {})", sql(e)?, ty.scale(), "0".repeat(ty.scale() as usize), dec_type(0))
        }
    })
}

/// `round(num / den, places)`, half away from zero, exact: with N, D the mantissas at scales
/// sn, sd, the result mantissa is R = sign · ⌊(2|N'| + |D'|) / (2|D'|)⌋ where
/// N'/D' = N·10^(p+sd−sn) / D (as the local engine computes it); NULL for D = 0.
fn round_div(num: &TExpr, den: Option<&TExpr>, places: u32) -> Result<String> {
    let sn = num.ty().scale() as i64;
    let sd = den.map_or(0, |d| d.ty().scale() as i64);
    let k = places as i64 + sd - sn;
    let pow = |k: i64| format!("CAST('1{}' AS {})", "0".repeat(k as usize), dec_type(0));
    let mut n = mantissa(num)?;
    let mut d = match den {
        Some(d) => mantissa(d)?,
        None => format!("CAST(1 AS {})", dec_type(0)),
    };
    if k > 0 {
        n = format!("CAST({n} * {} AS {})", pow(k), dec_type(0));
    } else if k < 0 {
        d = format!("CAST({d} * {} AS {})", pow(-k), dec_type(0));
    }
    // `div` truncates; both operands are non-negative, so it is the floor. NULLIF: no division
    // by zero under ANSI (the result is NULL, as the local engine's).
    let q = format!("((2 * abs({n}) + abs({d})) div nullif(2 * abs({d}), 0))");
    let signed = format!("(CASE WHEN ({n} < 0) <> ({d} < 0) THEN - {q} ELSE {q} END)");
    let unit = format!("CAST('{}' AS {})", Value::Dec(rust_decimal::Decimal::from_i128_with_scale(1, places)).display(), dec_type(places));
    Ok(format!("CAST(CAST({signed} AS {}) * {unit} AS {})", dec_type(0), dec_type(places)))
}

/// An expression as evidence shows it: decimals keep their scale (past the cent only where not
/// zero), dates YYYY-MM-DD, conditions 是/否, missing values empty.
pub fn to_text(e: &TExpr) -> Result<String> {
    let c = sql(e)?;
    Ok(match e.ty() {
        Ty::Bool => format!("(CASE WHEN {c} THEN '是' ELSE '否' END)"),
        Ty::Text | Ty::Enum(_) => format!("coalesce({c}, '')"),
        Ty::Dec(s) if s > 2 => format!("coalesce({}, '')", money_places(&format!("CAST({c} AS STRING)"))),
        _ => format!("coalesce(CAST({c} AS STRING), '')"),
    })
}

/// A decimal's text with the zeros past the cent dropped (7500.000 → 7500.00; 50.015 stays).
pub fn money_places(text: &str) -> String {
    format!(r"regexp_replace({text}, r'^(-?[0-9]+\.[0-9]{{2}}[0-9]*?)0+$', '$1')")
}

/// An evidence template as one SQL text expression.
pub fn template(pieces: &[Piece]) -> Result<String> {
    let parts: Vec<String> = pieces
        .iter()
        .map(|p| match p {
            Piece::Text(t) => Ok(text(t)),
            Piece::Value(e) => to_text(e),
        })
        .collect::<Result<_>>()?;
    Ok(if parts.is_empty() { "''".into() } else { format!("concat({})", parts.join(", ")) })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::plan::MONEY_SCALE;

    fn money(name: &str) -> TExpr {
        TExpr::Col { column: name.into(), ty: Ty::Dec(MONEY_SCALE) }
    }

    #[test]
    fn names_and_texts_are_quoted_so_that_nothing_in_them_is_read_as_sql() {
        assert_eq!(ident("个人`自付"), "`个人``自付`");
        assert_eq!(text(r"it's a \ b"), r"'it\'s a \\ b'");
    }

    #[test]
    fn a_comparison_with_a_missing_value_is_false_and_money_compares_with_integers_exactly() {
        let ge = TExpr::Cmp { op: CmpOp::Ge, lhs: Box::new(money("a")), rhs: Box::new(TExpr::Lit(Value::Int(4000))) };
        let s = sql(&ge).unwrap();
        // NULL >= x is NULL in SQL: the comparison is made false, as the local engine's.
        assert!(s.starts_with("coalesce(") && s.ends_with(", FALSE)"), "{s}");
        // Both sides at the money scale: 4000 is compared as 4000.00, exactly (no DOUBLE).
        assert_eq!(s.matches("AS DECIMAL(38,2))").count(), 2, "{s}");
        assert!(!s.contains("DOUBLE"), "{s}");
    }

    #[test]
    fn rounding_divides_integers_and_never_decimals() {
        let r = TExpr::Round { num: Box::new(money("a")), den: Some(Box::new(TExpr::Col { column: "n".into(), ty: Ty::Int })), places: 2 };
        let s = sql(&r).unwrap();
        assert!(s.contains(" div nullif("), "{s}");
        assert!(!s.contains(" / "), "{s}");
    }
}
