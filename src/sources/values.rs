//! Parsing and validating one text column by its declared type, as polars expressions:
//! the typed value, and the reason a cell is unreadable (null when it is fine).

use super::id;
use crate::rules::plan::{ColType, Column, MONEY_SCALE};
use crate::evaluate::compile::case;
use polars::prelude::*;

pub const DECIMAL_PRECISION: usize = 38;

pub fn money_dtype() -> DataType {
    DataType::Decimal(DECIMAL_PRECISION, MONEY_SCALE as usize)
}

pub struct Parsed {
    /// `with_columns` batches of intermediate columns, applied in order before `value`/`reason`.
    pub stages: Vec<Vec<Expr>>,
    pub value: Expr,
    pub reason: Expr,
}

fn date_of(s: Expr) -> Expr {
    s.str().to_date(StrptimeOptions { format: Some("%Y-%m-%d".into()), strict: false, exact: true, cache: true })
}

/// Validation of one column. Text cells are trimmed; an empty cell is null and a reject
/// unless the column is optional (text columns always accept empty cells, read as "").
pub fn parse(column: &Column) -> Parsed {
    let raw = col(column.name.as_str());
    let s = raw.clone().str().strip_chars(lit(NULL));
    let empty = s.clone().is_null().or(s.clone().str().len_bytes().eq(lit(0u32)));
    let garbled = raw.str().contains_literal(lit("\u{fffd}"));
    let (value, bad) = match &column.ty {
        ColType::Text => (s.clone().fill_null(lit("")), None),
        ColType::Id => {
            let c = id::check(s.clone(), &format!("__id.{}", column.name));
            let mut p = finish(column, empty, garbled, c.id, Some(c.reason));
            p.stages = c.stages;
            return p;
        }
        ColType::Money => {
            let ok = s.clone().str().contains(lit(r"^[+-]?\d+(\.\d{1,2})?$"), true);
            (
                s.clone().cast(money_dtype()),
                Some(when(ok).then(lit(NULL)).otherwise(lit("金额格式错误:应为以元为单位的十进制数,最多两位小数"))),
            )
        }
        ColType::Integer => {
            let ok = s.clone().str().contains(lit(r"^[+-]?\d{1,15}$"), true);
            (s.clone().cast(DataType::Int64), Some(when(ok).then(lit(NULL)).otherwise(lit("整数格式错误"))))
        }
        ColType::Date => {
            let d = date_of(s.clone());
            let ok = s.clone().str().contains(lit(r"^\d{4}-\d{2}-\d{2}$"), true).and(d.clone().is_not_null());
            (d, Some(when(ok).then(lit(NULL)).otherwise(lit("日期无效:应为YYYY-MM-DD格式的真实日期"))))
        }
        ColType::Enum(values) => {
            let allowed = Series::new("allowed".into(), values.as_slice());
            let ok = s.clone().is_in(lit(allowed).implode(false), false);
            let msg = format!("取值不在允许范围内({})", values.join("、"));
            (s.clone(), Some(when(ok).then(lit(NULL)).otherwise(lit(msg))))
        }
    };
    finish(column, empty, garbled, value, bad)
}

fn finish(column: &Column, empty: Expr, garbled: Expr, value: Expr, bad: Option<Expr>) -> Parsed {
    let is_text = column.ty == ColType::Text;
    let mut pairs = vec![(garbled, lit("含有无法识别的字符(文件不是UTF-8编码?)"))];
    if !is_text {
        let missing = if column.optional { lit(NULL) } else { lit("必填值为空") };
        pairs.push((empty.clone(), missing));
    }
    let reason = case(pairs, bad.unwrap_or(lit(NULL))).cast(DataType::String);
    let value = if is_text { value } else { when(empty).then(lit(NULL)).otherwise(value) };
    Parsed { stages: Vec::new(), value, reason }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    fn run(ty: ColType, optional: bool, cells: &[Option<&str>]) -> Vec<(String, Option<String>)> {
        let column = Column { name: "v".into(), ty, optional };
        let p = parse(&column);
        let df = df!("v" => cells).unwrap();
        let mut lf = df.lazy();
        for s in p.stages {
            lf = lf.with_columns(s);
        }
        let out = lf.select([p.value.cast(DataType::String).alias("value"), p.reason.alias("reason")]).collect().unwrap();
        let v = crate::test_support::texts(&out, "value");
        let r = crate::test_support::texts(&out, "reason");
        v.into_iter().zip(r).map(|(v, r)| (v.unwrap_or("null".into()), r)).collect()
    }

    #[test]
    fn money_accepts_decimal_yuan_with_at_most_two_places() {
        let got = run(ColType::Money, false, &[Some("4000"), Some(" 4000.5 "), Some("-1.25"), Some("0.01")]);
        let values: Vec<&str> = got.iter().map(|(v, _)| v.as_str()).collect();
        assert_eq!(values, ["4000.00", "4000.50", "-1.25", "0.01"]);
        assert!(got.iter().all(|(_, r)| r.is_none()));
    }

    #[test]
    fn money_rejects_separators_extra_places_and_words() {
        for bad in ["1,000", "4000.005", "12,3a", "四千", "1e3", "."] {
            let got = run(ColType::Money, false, &[Some(bad)]);
            assert!(got[0].1.as_deref().is_some_and(|r| r.contains("金额格式错误")), "{bad}: {:?}", got[0]);
        }
    }

    #[test]
    fn an_empty_required_cell_is_a_reject_and_an_optional_one_is_null() {
        assert_eq!(run(ColType::Money, false, &[None])[0].1.as_deref(), Some("必填值为空"));
        assert_eq!(run(ColType::Money, false, &[Some("  ")])[0].1.as_deref(), Some("必填值为空"));
        assert_eq!(run(ColType::Date, true, &[None]), vec![("null".to_string(), None)]);
        // text is never a reject: empty is ""
        assert_eq!(run(ColType::Text, false, &[None]), vec![(String::new(), None)]);
    }

    #[test]
    fn dates_must_be_real_iso_dates() {
        let got = run(ColType::Date, false, &[Some("2020-02-29"), Some("2021-02-29"), Some("2021/3/2"), Some("2021-13-45")]);
        assert_eq!(got[0], ("2020-02-29".to_string(), None));
        for g in &got[1..] {
            assert!(g.1.as_deref().is_some_and(|r| r.contains("日期无效")), "{g:?}");
        }
    }

    #[test]
    fn enums_accept_only_declared_values() {
        let ty = ColType::Enum(Arc::new(vec!["是".to_string(), "否".to_string()]));
        let got = run(ty, false, &[Some("是"), Some(" 否 "), Some("Y")]);
        assert_eq!(got[0].1, None);
        assert_eq!(got[1], ("否".to_string(), None));
        assert!(got[2].1.as_deref().is_some_and(|r| r.contains("是、否")));
    }

    #[test]
    fn integers_and_garbled_text() {
        let got = run(ColType::Integer, false, &[Some("30"), Some("30.5"), Some("三十")]);
        assert_eq!(got[0], ("30".to_string(), None));
        assert!(got[1].1.is_some() && got[2].1.is_some());
        let got = run(ColType::Text, false, &[Some("张\u{fffd}三")]);
        assert!(got[0].1.as_deref().is_some_and(|r| r.contains("UTF-8")));
    }
}
