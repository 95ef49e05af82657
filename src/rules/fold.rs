//! Constant expressions evaluated once, while the rules are checked: computed parameters
//! (`formula = "农村低保标准 * 12 * 2"`) and calendar functions of constant dates
//! (`add_months(判定日期, -6)`). The same semantics as the compiled column expressions: exact
//! decimals, rounding only in `round`, half away from zero; a comparison with a missing value is
//! false.

use super::plan::{ArithOp, CmpOp, DateOp, LogicOp, TExpr, Ty, Value};
use chrono::{Datelike, Months, NaiveDate};
use rust_decimal::{Decimal, RoundingStrategy};

/// The value of `e` when it reads no column or aggregate; `None` otherwise (or when the
/// arithmetic overflows, or divides by zero).
pub fn fold(e: &TExpr) -> Option<Value> {
    match e {
        TExpr::Lit(v) => Some(v.clone()),
        TExpr::Neg(x) => match fold(x)? {
            Value::Int(i) => i.checked_neg().map(Value::Int),
            Value::Dec(d) => Some(Value::Dec(-d)),
            _ => None,
        },
        TExpr::Not(x) => match fold(x)? {
            Value::Bool(b) => Some(Value::Bool(!b)),
            _ => None,
        },
        TExpr::Arith { op, lhs, rhs, ty } => arith(*op, &fold(lhs)?, &fold(rhs)?, ty),
        TExpr::Cmp { op, lhs, rhs } => compare(*op, &fold(lhs)?, &fold(rhs)?).map(Value::Bool),
        TExpr::Logic { op, lhs, rhs } => match (fold(lhs)?, fold(rhs)?, op) {
            (Value::Bool(a), Value::Bool(b), LogicOp::And) => Some(Value::Bool(a && b)),
            (Value::Bool(a), Value::Bool(b), _) => Some(Value::Bool(a || b)),
            _ => None,
        },
        TExpr::In { value, list, negated } => {
            let v = fold(value)?;
            let found = list.iter().any(|x| compare(CmpOp::Eq, &v, x) == Some(true));
            Some(Value::Bool(found != *negated))
        }
        TExpr::If { cond, then, otherwise, ty } => {
            let branch = if fold(cond)? == Value::Bool(true) { then } else { otherwise };
            widen(fold(branch)?, ty)
        }
        TExpr::Round { num, den, places } => {
            let n = decimal(&fold(num)?)?;
            let d = match den {
                Some(d) => decimal(&fold(d)?)?,
                None => Decimal::ONE,
            };
            let q = n.checked_div(d)?;
            Some(Value::Dec(round_places(q, *places)))
        }
        TExpr::Date { op, args } => {
            let values: Option<Vec<Value>> = args.iter().map(fold).collect();
            date_op(*op, &values?)
        }
        TExpr::Col { .. } | TExpr::Agg { .. } | TExpr::PersonAgg { .. } | TExpr::Fired { .. } | TExpr::List { .. } => None,
    }
}

fn round_places(q: Decimal, places: u32) -> Decimal {
    let mut r = q.round_dp_with_strategy(places, RoundingStrategy::MidpointAwayFromZero);
    r.rescale(places);
    r
}

fn decimal(v: &Value) -> Option<Decimal> {
    match v {
        Value::Int(i) => Some(Decimal::from(*i)),
        Value::Dec(d) => Some(*d),
        _ => None,
    }
}

fn widen(v: Value, ty: &Ty) -> Option<Value> {
    match (v, ty) {
        (Value::Int(i), Ty::Dec(s)) => {
            let mut d = Decimal::from(i);
            d.rescale(*s);
            Some(Value::Dec(d))
        }
        (Value::Dec(mut d), Ty::Dec(s)) => {
            d.rescale(*s);
            Some(Value::Dec(d))
        }
        (v, _) => Some(v),
    }
}

fn arith(op: ArithOp, a: &Value, b: &Value, ty: &Ty) -> Option<Value> {
    if let (Value::Int(x), Value::Int(y)) = (a, b) {
        return match op {
            ArithOp::Add => x.checked_add(*y),
            ArithOp::Sub => x.checked_sub(*y),
            ArithOp::Mul => x.checked_mul(*y),
        }
        .map(Value::Int);
    }
    let (x, y) = (decimal(a)?, decimal(b)?);
    let r = match op {
        ArithOp::Add => x.checked_add(y),
        ArithOp::Sub => x.checked_sub(y),
        ArithOp::Mul => x.checked_mul(y),
    }?;
    widen(Value::Dec(r), ty)
}

/// A comparison of two constants (`None`: they cannot be compared).
pub fn compare(op: CmpOp, a: &Value, b: &Value) -> Option<bool> {
    let ord = match (a, b) {
        (Value::Text(x), Value::Text(y)) => x.cmp(y),
        (Value::Date(x), Value::Date(y)) => x.cmp(y),
        (Value::Bool(x), Value::Bool(y)) => x.cmp(y),
        (x, y) => decimal(x)?.cmp(&decimal(y)?),
    };
    use std::cmp::Ordering::*;
    Some(match op {
        CmpOp::Eq => ord == Equal,
        CmpOp::Ne => ord != Equal,
        CmpOp::Lt => ord == Less,
        CmpOp::Le => ord != Greater,
        CmpOp::Gt => ord == Greater,
        CmpOp::Ge => ord != Less,
    })
}

/// Full years from `birth` to `at`: the birthday counts on its day (29 February: on 1 March in
/// a common year).
pub fn age(birth: NaiveDate, at: NaiveDate) -> i64 {
    let before_birthday = (at.month(), at.day()) < (birth.month(), birth.day());
    i64::from(at.year() - birth.year()) - i64::from(before_birthday)
}

/// `d` moved by `n` months, clamped to the end of the month (2021-01-31 + 1 → 2021-02-28).
pub fn add_months(d: NaiveDate, n: i64) -> Option<NaiveDate> {
    let m = Months::new(u32::try_from(n.unsigned_abs()).ok()?);
    if n >= 0 {
        d.checked_add_months(m)
    } else {
        d.checked_sub_months(m)
    }
}

fn date_op(op: DateOp, args: &[Value]) -> Option<Value> {
    let int = |v: &Value| if let Value::Int(i) = v { Some(*i) } else { None };
    let date = |v: &Value| if let Value::Date(d) = v { Some(*d) } else { None };
    Some(match (op, args) {
        (DateOp::Age, [b, at]) => Value::Int(age(date(b)?, date(at)?)),
        (DateOp::Year, [d]) => Value::Int(i64::from(date(d)?.year())),
        (DateOp::Month, [d]) => Value::Int(i64::from(date(d)?.month())),
        (DateOp::Day, [d]) => Value::Int(i64::from(date(d)?.day())),
        (DateOp::AddMonths, [d, n]) => Value::Date(add_months(date(d)?, int(n)?)?),
        (DateOp::AddDays, [d, n]) => Value::Date(date(d)?.checked_add_signed(chrono::TimeDelta::try_days(int(n)?)?)?),
        (DateOp::DaysBetween, [a, b]) => Value::Int((date(b)? - date(a)?).num_days()),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn age_counts_full_years_and_the_birthday_on_its_day() {
        // Born 2015-06-01: 5 on 2021-05-31, 6 on 2021-06-01.
        assert_eq!(age(d("2015-06-01"), d("2021-05-31")), 5);
        assert_eq!(age(d("2015-06-01"), d("2021-06-01")), 6);
        // Born 29 February 2000: 20 on 2021-02-28, 21 on 2021-03-01, 24 on 2024-02-29.
        assert_eq!(age(d("2000-02-29"), d("2021-02-28")), 20);
        assert_eq!(age(d("2000-02-29"), d("2021-03-01")), 21);
        assert_eq!(age(d("2000-02-29"), d("2024-02-29")), 24);
    }

    #[test]
    fn months_are_added_to_the_end_of_a_shorter_month() {
        assert_eq!(add_months(d("2021-01-31"), 1), Some(d("2021-02-28")));
        assert_eq!(add_months(d("2024-01-31"), 1), Some(d("2024-02-29")));
        assert_eq!(add_months(d("2024-07-15"), -12), Some(d("2023-07-15")));
    }

    #[test]
    fn computed_amounts_are_exact() {
        // 815 × 12 × 2 = 19560; 18179 × 0.5 = 9089.5
        let lit = |v: Value| Box::new(TExpr::Lit(v));
        let mul = |a: Box<TExpr>, b: Box<TExpr>, ty: Ty| TExpr::Arith { op: ArithOp::Mul, lhs: a, rhs: b, ty };
        let line = mul(Box::new(mul(lit(Value::Dec(Decimal::new(815, 0))), lit(Value::Int(12)), Ty::Dec(0))), lit(Value::Int(2)), Ty::Dec(0));
        assert_eq!(fold(&line), Some(Value::Dec(Decimal::new(19560, 0))));
        let half = mul(lit(Value::Dec(Decimal::new(18179, 0))), lit(Value::Dec(Decimal::new(5, 1))), Ty::Dec(1));
        assert_eq!(fold(&half).map(|v| v.display()), Some("9089.5".to_string()));
        // round(10 / 3, 2) = 3.33; round(0.125, 2) = 0.13 (half away from zero)
        let third = TExpr::Round { num: lit(Value::Int(10)), den: Some(lit(Value::Int(3))), places: 2 };
        assert_eq!(fold(&third).map(|v| v.display()), Some("3.33".to_string()));
        let eighth = TExpr::Round { num: lit(Value::Dec(Decimal::new(125, 3))), den: None, places: 2 };
        assert_eq!(fold(&eighth).map(|v| v.display()), Some("0.13".to_string()));
    }
}
