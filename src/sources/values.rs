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
