//! Parsing and validating one text column by its declared type, as polars expressions:
//! the typed value, and the reason a cell is unreadable (null when it is fine).

use super::id;
use crate::frame::compile::case;
use crate::rules::plan::{ColType, Column, MONEY_SCALE};
use polars::prelude::*;

pub use crate::frame::DECIMAL_PRECISION;

/// Integer digits an amount may have (leading zeros aside; a longer one is a reject). Decimal(38,
/// 2) holds 36: the other 16 keep sums over a county and products by rates exact.
pub const MONEY_DIGITS: usize = 20;

pub fn money_dtype() -> DataType {
    DataType::Decimal(DECIMAL_PRECISION, MONEY_SCALE as usize)
}

pub struct Parsed {
    /// `with_columns` batches of intermediate columns, applied in order before `value`/`reason`.
    pub stages: Vec<Vec<Expr>>,
    pub value: Expr,
    pub reason: Expr,
}

fn iso_date(s: Expr) -> Expr {
    s.str().to_date(StrptimeOptions { format: Some("%Y-%m-%d".into()), strict: false, exact: true, cache: false })
}

/// Full-width digits, signs and points as ASCII (hand-typed extracts carry them).
fn half_width(s: Expr) -> Expr {
    let full = Series::new("f".into(), ["０", "１", "２", "３", "４", "５", "６", "７", "８", "９", "．", "－", "＋", "，", "／"]);
    let half = Series::new("h".into(), ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9", ".", "-", "+", ",", "/"]);
    s.str().replace_many(lit(full).implode(false), lit(half).implode(false), false, true)
}

/// An amount as written in extracts: `12,345.60`, `1234元`, full-width digits → `12345.60`.
/// Commas are removed only where they group thousands (`1,00` stays unreadable).
fn amount_text(s: Expr) -> Expr {
    let t = half_width(s).str().strip_chars(lit(NULL)).str().strip_suffix(lit("元")).str().strip_chars(lit(NULL));
    let grouped = t.clone().str().contains(lit(r"^[+-]?[0-9]{1,3}(,[0-9]{3})+(\.[0-9]+)?$"), true);
    when(grouped).then(t.clone().str().replace_all(lit(","), lit(""), true)).otherwise(t)
}

const YMD: &str = r"^([0-9]{4})\s*[-/.年]\s*([0-9]{1,2})\s*[-/.月]\s*([0-9]{1,2})\s*日?(\s+[0-9]{1,2}:[0-9]{2}(:[0-9]{2})?)?$";

/// Dates as written in extracts: 2021-03-02, 2021/3/2, 2021.03.02, 2021年3月2日, 20210302,
/// an Excel serial number (44257), or a workbook date cell with a time of day. Staged: the text
/// is normalized into `tmp.t`, rewritten to zero-padded ISO form in `tmp.iso`, then parsed once.
fn date_stages(s: Expr, tmp: &str) -> (Vec<Vec<Expr>>, Expr) {
    let (t, iso) = (format!("{tmp}.t"), format!("{tmp}.iso"));
    let stage1 = vec![half_width(s).str().strip_chars(lit(NULL)).alias(t.as_str())];
    let tc = || col(t.as_str());
    let eight = tc().str().contains(lit(r"^[0-9]{8}$"), true);
    let rewritten =
        tc().str().replace_all(lit(YMD), lit("$1-$2-$3"), false).str().replace_all(lit(r"^([0-9]{4})-([0-9])-"), lit("$1-0$2-"), false).str().replace_all(
            lit(r"-([0-9])$"),
            lit("-0$1"),
            false,
        );
    let compact = concat_str(
        [tc().str().slice(lit(0i64), lit(4u64)), lit("-"), tc().str().slice(lit(4i64), lit(2u64)), lit("-"), tc().str().slice(lit(6i64), lit(2u64))],
        "",
        false,
    );
    let stage2 = vec![when(eight).then(compact).otherwise(rewritten).alias(iso.as_str())];
    // Excel serial numbers: day 25569 is 1970-01-01 (serials 20000–80000: years 1954–2119).
    let n = tc().cast(DataType::Int64);
    let is_serial = tc().str().contains(lit(r"^[0-9]{5}$"), true).and(n.clone().gt_eq(lit(20000i64))).and(n.clone().lt_eq(lit(80000i64)));
    let serial = when(is_serial).then((n - lit(25569i64)).cast(DataType::Int32).cast(DataType::Date)).otherwise(lit(NULL).cast(DataType::Date));
    (vec![stage1, stage2], coalesce(&[iso_date(col(iso.as_str())), serial]))
}

/// The fast path of a column: where `canonical` holds, the cell is already in the canonical
/// form (`2021-03-02`, `12345.60`, a checked 18-digit ID, a declared enum value, trimmed text),
/// `value` is what `parse` would give and there is no reason. Rows whose every cell is
/// canonical skip the normalizers, which most rows of a system export do.
pub struct Fast {
    pub stages: Vec<Vec<Expr>>,
    pub canonical: Expr,
    pub value: Expr,
}

/// `plain`: the text of the rows this is applied to is known to hold no white space to trim
/// and no U+FFFD (see `plain::scan`; the rows of the lines it notes go the careful way), so a
/// text cell is canonical as it is.
pub fn fast(column: &Column, plain: bool) -> Fast {
    let raw = col(column.name.as_str());
    let blank = raw.clone().is_null().or(raw.clone().str().len_bytes().eq(lit(0u32)));
    // An empty cell is canonical only where the full parse also accepts it (as null).
    let empty_ok = if column.optional { blank.clone() } else { lit(false) };
    // `[0-9]`, not `\d`: the regex `\d` is Unicode and matches full-width digits too.
    let matches = |re: &str| raw.clone().str().contains(lit(re.to_string()), true).fill_null(lit(false));
    let (stages, canonical, value) = match &column.ty {
        ColType::Text => (
            Vec::new(),
            // Trimmed already and free of U+FFFD (a decoding failure): one regex, one pass,
            // unless the file's bytes told it already.
            if plain { lit(true) } else { matches(r"^\s|\s$|\x{FFFD}").not() },
            raw.clone().fill_null(lit("")),
        ),
        ColType::Money => (
            Vec::new(),
            // At most `MONEY_DIGITS` integer digits: the cast can never overflow.
            matches(&format!(r"^-?[0-9]{{1,{MONEY_DIGITS}}}(\.[0-9]{{1,2}})?$")).or(empty_ok),
            when(blank.clone()).then(lit(NULL).cast(money_dtype())).otherwise(raw.clone().cast(money_dtype())),
        ),
        ColType::Integer => (
            Vec::new(),
            matches(r"^-?[0-9]{1,15}$").or(empty_ok),
            when(blank.clone()).then(lit(NULL).cast(DataType::Int64)).otherwise(raw.clone().cast(DataType::Int64)),
        ),
        ColType::Date => {
            let d = format!("__fast.{}", column.name);
            let parsed = when(matches(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")).then(iso_date(raw.clone())).otherwise(lit(NULL).cast(DataType::Date));
            (vec![vec![parsed.alias(d.as_str())]], col(d.as_str()).is_not_null().or(empty_ok), col(d.as_str()))
        }
        ColType::Id => {
            let (stages, ok) = id::canonical(raw.clone(), &format!("__fast.{}", column.name));
            (stages, ok, raw.clone())
        }
        ColType::Enum(values) => {
            // A declared spelling that is also a variant of another value goes the slow way.
            let variants: Vec<&str> = column.synonyms.iter().flat_map(|(_, v)| v.iter().map(String::as_str)).collect();
            let allowed: Vec<&str> = values.iter().map(String::as_str).filter(|v| !variants.contains(v)).collect();
            let allowed = Series::new("allowed".into(), allowed);
            (
                Vec::new(),
                raw.clone().is_in(lit(allowed).implode(false), false).fill_null(lit(false)).or(empty_ok),
                when(blank.clone()).then(lit(NULL).cast(DataType::String)).otherwise(raw.clone()),
            )
        }
    };
    Fast { stages, canonical, value }
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
            let t = format!("__money.{}", column.name);
            let tc = col(t.as_str());
            let ok = tc.clone().str().contains(lit(r"^[+-]?[0-9]+(\.[0-9]{1,2})?$"), true);
            let fits = tc.clone().str().contains(lit(format!(r"^[+-]?0*[0-9]{{1,{MONEY_DIGITS}}}(\.|$)")), true);
            let reason = when(ok.not())
                .then(lit("金额格式错误:应为以元为单位的十进制数,最多两位小数"))
                .when(fits.not())
                .then(lit(format!("金额超出范围:整数部分超过{MONEY_DIGITS}位")))
                .otherwise(lit(NULL));
            let mut p = finish(column, empty, garbled, tc.cast(money_dtype()), Some(reason));
            p.stages = vec![vec![amount_text(s.clone()).alias(t.as_str())]];
            return p;
        }
        ColType::Integer => {
            let s = half_width(s.clone()).str().strip_chars(lit(NULL));
            let ok = s.clone().str().contains(lit(r"^[+-]?[0-9]{1,15}$"), true);
            (s.clone().cast(DataType::Int64), Some(when(ok).then(lit(NULL)).otherwise(lit("整数格式错误"))))
        }
        ColType::Date => {
            let (stages, d) = date_stages(s.clone(), &format!("__date.{}", column.name));
            let v = format!("__date.{}.value", column.name);
            let mut stages = stages;
            stages.push(vec![d.alias(v.as_str())]);
            let mut p = finish(
                column,
                empty,
                garbled,
                col(v.as_str()),
                Some(
                    when(col(v.as_str()).is_not_null()).then(lit(NULL)).otherwise(lit("日期无效:应为真实日期(如2021-03-02、2021/3/2、2021年3月2日、20210302)")),
                ),
            );
            p.stages = stages;
            return p;
        }
        ColType::Enum(values) => {
            // Declared spellings first: `1级` read as `一级` when the rules say so.
            let pairs = column
                .synonyms
                .iter()
                .map(|(canonical, variants)| {
                    let v = Series::new("v".into(), variants.as_slice());
                    (s.clone().is_in(lit(v).implode(false), false), lit(canonical.as_str()))
                })
                .collect();
            let s = case(pairs, s.clone());
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
        let column = Column { name: "v".into(), ty, optional, aliases: Vec::new(), synonyms: Vec::new() };
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

    /// (canonical, fast value) of each cell.
    fn run_fast(ty: ColType, optional: bool, cells: &[Option<&str>]) -> Vec<(bool, String)> {
        let column = Column { name: "v".into(), ty, optional, aliases: Vec::new(), synonyms: Vec::new() };
        let f = fast(&column, false);
        let mut lf = df!("v" => cells).unwrap().lazy();
        for s in f.stages {
            lf = lf.with_columns(s);
        }
        let out = lf.select([f.canonical.alias("ok"), f.value.cast(DataType::String).alias("value")]).collect().unwrap();
        let okc = out.column("ok").unwrap().bool().unwrap().clone();
        let ok: Vec<bool> = (0..okc.len()).map(|i| okc.get(i).unwrap_or(false)).collect();
        let v = crate::test_support::texts(&out, "value");
        ok.into_iter().zip(v).map(|(o, v)| (o, v.unwrap_or("null".into()))).collect()
    }

    #[test]
    fn the_fast_path_takes_only_cells_the_full_parse_accepts_unchanged() {
        // For every cell the fast path calls canonical, the full parse must give the same value
        // and no reason; the others (with separators, spaces, other date forms, bad check
        // characters, undeclared values) must be left to the full parse.
        let id_ok = "11010519491231002X"; // GB 11643's own example (check character X)
        type Case<'a> = (ColType, bool, Vec<Option<&'a str>>, Vec<bool>);
        let cases: Vec<Case> = vec![
            (
                ColType::Money,
                false,
                vec![Some("4000"), Some("-1.25"), Some("0.01"), Some("12,345.60"), Some(" 4000"), Some("4000.005"), Some("１０"), Some(""), None],
                vec![true, true, true, false, false, false, false, false, false],
            ),
            (ColType::Money, true, vec![Some(""), None, Some("5")], vec![true, true, true]),
            (
                ColType::Date,
                false,
                vec![Some("2021-03-02"), Some("2021-02-30"), Some("2021/3/2"), Some("20210302"), Some("44257"), Some("")],
                vec![true, false, false, false, false, false],
            ),
            (ColType::Date, true, vec![Some(""), Some("1980-01-01")], vec![true, true]),
            (
                ColType::Id,
                false,
                vec![
                    Some(id_ok),
                    Some("11010519491231002x"),
                    Some("110105194912310021"),
                    Some(" 11010519491231002X"),
                    Some("110105491231002"),
                    Some("5.22601E+17"),
                ],
                vec![true, false, false, false, false, false],
            ),
            (ColType::Integer, false, vec![Some("30"), Some("-2"), Some("３０"), Some(" 30"), Some("1.5")], vec![true, true, false, false, false]),
            (ColType::Text, false, vec![Some("张三"), Some(" 张三"), Some("张三 "), None, Some("a\u{fffd}b")], vec![true, false, false, true, false]),
            (
                ColType::Enum(Arc::new(vec!["是".into(), "否".into()])),
                false,
                vec![Some("是"), Some("否"), Some(" 是"), Some("Y"), Some("")],
                vec![true, true, false, false, false],
            ),
        ];
        for (ty, optional, cells, expect) in cases {
            let quick = run_fast(ty.clone(), optional, &cells);
            let full = run(ty.clone(), optional, &cells);
            for ((cell, (ok, v)), ((fv, reason), want)) in cells.iter().zip(&quick).zip(full.iter().zip(&expect)) {
                assert_eq!(ok, want, "{ty:?} {cell:?}: canonical");
                if *ok {
                    assert_eq!((v, reason), (fv, &None), "{ty:?} {cell:?}: the fast value must be the full parse's");
                }
            }
        }
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
        for bad in ["1,00", "4000.005", "12,3a", "四千", "1e3", ".", "1,0000.00", "٣٠"] {
            let got = run(ColType::Money, false, &[Some(bad)]);
            assert!(got[0].1.as_deref().is_some_and(|r| r.contains("金额格式错误")), "{bad}: {:?}", got[0]);
        }
    }

    #[test]
    fn an_amount_too_large_to_keep_exact_is_a_reject_not_an_empty_value() {
        // 37 nines: beyond the 36 integer digits of Decimal(38, 2); 10^20 and -999,999,…元 (7
        // groups of 3): 21 digits, one more than MONEY_DIGITS. 20 digits and leading zeros fit.
        let (n37, n21, zeros) = ("9".repeat(37), format!("1{}", "0".repeat(20)), format!("{}1.50", "0".repeat(30)));
        let cells = [n37.as_str(), &n21, "-999,999,999,999,999,999,999元", "99999999999999999999.99", &zeros, "+5", "00"];
        let got = run(ColType::Money, false, &cells.map(Some));
        assert!(got[..3].iter().all(|(_, r)| r.as_deref().is_some_and(|r| r.contains("金额超出范围"))), "{got:?}");
        // Whatever passes the checks has a value: the cast leaves nothing empty.
        let fine: Vec<(&str, Option<String>)> = got[3..].iter().map(|(v, r)| (v.as_str(), r.clone())).collect();
        assert_eq!(fine, [("99999999999999999999.99", None), ("1.50", None), ("5.00", None), ("0.00", None)]);
    }

    #[test]
    fn amounts_as_written_in_extracts_are_read() {
        // "12,345.60元" → 12345.60; full-width "１０,０００.０１" → 10000.01; "-1,000" → -1000.00
        let got = run(ColType::Money, false, &[Some("12,345.60元"), Some("１０,０００.０１"), Some(" -1,000 "), Some("3,999.99 元")]);
        let values: Vec<&str> = got.iter().map(|(v, _)| v.as_str()).collect();
        assert_eq!(values, ["12345.60", "10000.01", "-1000.00", "3999.99"]);
        assert!(got.iter().all(|(_, r)| r.is_none()), "{got:?}");
    }

    #[test]
    fn dates_as_written_in_extracts_are_read() {
        // All 2021-03-02; 44257 is Excel's serial for 2021-03-02 (25569 = 1970-01-01, +18688 days).
        let forms = ["2021-03-02", "2021/3/2", "2021.03.02", "2021年3月2日", "20210302", "44257", "2021-03-02 10:30:00", "２０２１/３/２"];
        let got = run(ColType::Date, false, &forms.map(Some));
        for (f, (v, r)) in forms.iter().zip(&got) {
            assert_eq!((v.as_str(), r), ("2021-03-02", &None), "{f}");
        }
        let bad = run(ColType::Date, false, &[Some("2021-02-30"), Some("3/2/2021"), Some("2021年13月1日"), Some("99999")]);
        assert!(bad.iter().all(|(_, r)| r.is_some()), "{bad:?}");
    }

    #[test]
    fn enum_synonyms_are_read_as_the_declared_value() {
        let column = Column {
            name: "v".into(),
            ty: ColType::Enum(Arc::new(vec!["一级".to_string(), "二级".to_string()])),
            optional: false,
            aliases: Vec::new(),
            synonyms: vec![("一级".to_string(), vec!["1级".to_string(), "Ⅰ级".to_string()])],
        };
        let p = parse(&column);
        let df = df!("v" => [Some("1级"), Some("Ⅰ级"), Some("二级"), Some("2级")]).unwrap();
        let out = df.lazy().select([p.value.alias("value"), p.reason.alias("reason")]).collect().unwrap();
        let v = crate::test_support::texts(&out, "value");
        let r = crate::test_support::texts(&out, "reason");
        assert_eq!(v[..3], [Some("一级".to_string()), Some("一级".to_string()), Some("二级".to_string())]);
        assert_eq!(r[..3], [None, None, None]);
        assert!(r[3].is_some(), "2级 is not declared");
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
        let got = run(ColType::Date, false, &[Some("2020-02-29"), Some("2021-02-29"), Some("2021/2/30"), Some("2021-13-45")]);
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
