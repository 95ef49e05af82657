//! Citizen ID numbers (GB 11643-1999) as whole-column polars expressions: normalize, validate,
//! upgrade 15-digit numbers to 18. A number Excel destroyed is rejected, never guessed.

use crate::frame::compile::case;
use polars::prelude::*;

/// ISO 7064 MOD 11-2 weights of the 17 body digits.
const WEIGHTS: [i64; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
/// Check character for each remainder of the weighted sum mod 11.
const CHECK: [&str; 11] = ["1", "0", "X", "9", "8", "7", "6", "5", "4", "3", "2"];

/// ISO 7064 MOD 11-2 check character of the first 17 digits (ASCII), for the IDs the program
/// writes itself (generated counties, rule test cases).
pub fn check_character(first17: &[u8]) -> u8 {
    let sum: i64 = first17.iter().zip(WEIGHTS).map(|(c, w)| i64::from(c.saturating_sub(b'0')) * w).sum();
    CHECK[(sum % 11) as usize].as_bytes()[0]
}

const FULL_WIDTH: [&str; 13] = ["０", "１", "２", "３", "４", "５", "６", "７", "８", "９", "Ｘ", "ｘ", "．"];
const HALF_WIDTH: [&str; 13] = ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "X", "X", "."];

/// Checking one ID column, as stages of intermediate columns (each computed once: the
/// check character needs 17 digit slices, which must not each re-normalize the text).
pub struct IdCheck {
    /// `with_columns` batches to apply in order before `id` and `reason` can be evaluated.
    pub stages: Vec<Vec<Expr>>,
    /// The normalized 18-character ID (meaningful only where `reason` is null).
    pub id: Expr,
    /// Why the value is not a valid ID (null when valid).
    pub reason: Expr,
}

/// Removes every kind of white space (including the ideographic space), turns full-width
/// digits and X into half-width, and upper-cases x.
pub fn normalize(raw: Expr) -> Expr {
    let full = Series::new("f".into(), FULL_WIDTH.to_vec());
    let half = Series::new("h".into(), HALF_WIDTH.to_vec());
    raw.str().replace_all(lit(r"\s+"), lit(""), false).str().replace_many(lit(full).implode(false), lit(half).implode(false), false, true).str().to_uppercase()
}

/// A person's integer key: the 17-digit body of a valid, normalized ID, as a number. The check
/// character follows from the body, so among valid IDs the body alone tells people apart; and
/// since every ID has 18 characters, the keys order as the IDs do. Joins, distinct counts and
/// sorts on it hash and compare one integer instead of an 18-character string.
pub fn person_key(id: Expr) -> Expr {
    id.str().slice(lit(0i64), lit(17u64)).cast(DataType::Int64)
}

/// The check character of a 17-digit body column. The body (< 10^17) is read once as an
/// integer and its digits taken by integer division: no per-digit string columns.
fn check_char(body: &str) -> Expr {
    check_char_of(col(body).cast(DataType::UInt64))
}

/// The check character of a body already read as an unsigned integer (unsigned: division by a
/// constant is cheaper).
fn check_char_of(n: Expr) -> Expr {
    let sum = WEIGHTS
        .iter()
        .enumerate()
        .map(|(i, w)| (n.clone() / lit(10u64.pow(16 - i as u32))) % lit(10u64) * lit(*w as u64))
        .reduce(|a, b| a + b)
        .expect("17 weights");
    let r = sum % lit(11u64);
    // r indexes "10X98765432"
    lit(CHECK.concat()).str().slice(r, lit(1u64))
}

/// The birth date inside a 17-digit body column is a real date, in 1900 or later.
fn birth_ok(body: &str) -> Expr {
    let birth =
        col(body).str().slice(lit(6i64), lit(8u64)).str().to_date(StrptimeOptions { format: Some("%Y%m%d".into()), strict: false, exact: true, cache: false });
    birth.clone().is_not_null().and(birth.dt().year().gt_eq(lit(1900i32)))
}

/// The birth date inside a 17-digit body read as a number (digits 7–14: YYYYMMDD) is a real
/// date in 1900 or later, by integer arithmetic over the column: what `birth_ok` tells by
/// parsing the text, without cutting and parsing a string per row.
fn birth_ok_number(n: Expr) -> Expr {
    let ymd = (n / lit(1_000u64)) % lit(100_000_000u64);
    let (y, m, d) = (ymd.clone() / lit(10_000u64), (ymd.clone() / lit(100u64)) % lit(100u64), ymd % lit(100u64));
    let divides = |k: u64| (y.clone() % lit(k)).eq(lit(0u64));
    let leap = divides(4).and(divides(100).not()).or(divides(400));
    let days = when(m.clone().eq(lit(2u64)))
        .then(when(leap).then(lit(29u64)).otherwise(lit(28u64)))
        .when(m.clone().eq(lit(4u64)).or(m.clone().eq(lit(6u64))).or(m.clone().eq(lit(9u64))).or(m.clone().eq(lit(11u64))))
        .then(lit(30u64))
        .otherwise(lit(31u64));
    y.gt_eq(lit(1900u64)).and(m.clone().gt_eq(lit(1u64))).and(m.lt_eq(lit(12u64))).and(d.clone().gt_eq(lit(1u64))).and(d.lt_eq(days))
}

/// Checks the ID in `raw`; `tmp` is a unique prefix for the intermediate columns.
pub fn check(raw: Expr, tmp: &str) -> IdCheck {
    let n = |x: &str| format!("{tmp}.{x}");
    let (s, body, expected) = (n("s"), n("body"), n("expected"));
    let stage1 = vec![normalize(raw).alias(s.as_str())];
    let sc = || col(s.as_str());
    let is15 = sc().str().len_chars().eq(lit(15u32));
    let stage2 = vec![when(is15)
        .then(concat_str([sc().str().slice(lit(0i64), lit(6u64)), lit("19"), sc().str().slice(lit(6i64), lit(9u64))], "", false))
        .otherwise(sc().str().slice(lit(0i64), lit(17u64)))
        .alias(body.as_str())];
    let stage3 = vec![check_char(&body).alias(expected.as_str())];

    let len = sc().str().len_chars();
    let shape_ok = sc().str().contains(lit(r"^([0-9]{17}[0-9X]|[0-9]{15})$"), true);
    let scientific = sc().str().contains(lit(r"^[0-9.]+E\+?[0-9]+$"), true);
    let birth_ok = birth_ok(&body);
    let given = sc().str().slice(lit(17i64), lit(1u64));
    let check_ok = len.clone().eq(lit(15u32)).or(given.eq(col(expected.as_str())));
    let zeroed = sc().str().ends_with(lit("000"));
    let empty = sc().is_null().or(len.eq(lit(0u32)));
    let exp = || col(expected.as_str());
    let reason = case(
        vec![
            (empty, lit("证件号码为空")),
            (scientific, lit("证件号码已被Excel科学计数法损坏(如5.22601E+17),无法还原,请从源系统以文本格式重新导出")),
            (shape_ok.not(), lit("证件号码格式错误:应为18位(前17位数字,末位数字或X)或15位数字")),
            (birth_ok.not(), lit("证件号码中的出生日期无效")),
            (
                check_ok.clone().not().and(zeroed),
                concat_str([lit("证件号码校验码错误,末三位为000,可能被Excel按数字截断;按GB 11643-1999末位应为"), exp()], "", true),
            ),
            (check_ok.not(), concat_str([lit("证件号码校验码错误:按GB 11643-1999末位应为"), exp()], "", true)),
        ],
        lit(NULL),
    )
    .cast(DataType::String);
    let id = concat_str([col(body.as_str()), exp()], "", false);
    IdCheck { stages: vec![stage1, stage2, stage3], id, reason }
}

/// The fast path for IDs already in canonical form (18 characters, 17 digits and a digit or X,
/// no white space): true where the birth date and check character are right, i.e. where
/// `check` would keep the value as it is and give no reason. `tmp` prefixes the stage columns.
///
/// No regex: 18 bytes whose first 17 read as a number of 17 digits (at least 10^16) are 17 ASCII
/// digits (a sign, a space or a character of several bytes would leave fewer), and the 18th must
/// equal the computed check character. A body starting with 0 (no region code does) is left to
/// `check`, which accepts it all the same.
pub fn canonical(raw: Expr, tmp: &str) -> (Vec<Vec<Expr>>, Expr) {
    let (body, number, expected) = (format!("{tmp}.body"), format!("{tmp}.number"), format!("{tmp}.expected"));
    let stage1 = vec![raw.clone().str().slice(lit(0i64), lit(17u64)).alias(body.as_str())];
    let stage2 = vec![col(body.as_str()).cast(DataType::UInt64).alias(number.as_str())];
    let stage3 = vec![check_char_of(col(number.as_str())).alias(expected.as_str())];
    let shape = raw.clone().str().len_bytes().eq(lit(18u32)).and(col(number.as_str()).gt_eq(lit(10u64.pow(16))));
    let check_ok = raw.str().slice(lit(17i64), lit(1u64)).eq(col(expected.as_str()));
    (vec![stage1, stage2, stage3], shape.and(check_ok).and(birth_ok_number(col(number.as_str()))).fill_null(lit(false)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(values: &[&str]) -> Vec<(Option<String>, Option<String>)> {
        let df = df!("raw" => values).unwrap();
        let c = check(col("raw"), "t");
        let mut lf = df.lazy();
        for stage in c.stages {
            lf = lf.with_columns(stage);
        }
        let out = lf.select([c.id.alias("id"), c.reason.alias("reason")]).collect().unwrap();
        let ids = crate::test_support::texts(&out, "id");
        let reasons = crate::test_support::texts(&out, "reason");
        ids.into_iter().zip(reasons).map(|(i, r)| (if r.is_none() { i } else { None }, r)).collect()
    }

    // Worked by hand: body 11010519491231002, weighted sum
    // 1*7+1*9+0*10+1*5+0*8+5*4+1*2+9*1+4*6+9*3+1*7+2*9+3*10+1*5+0*8+0*4+2*2 = 167,
    // 167 mod 11 = 2 → check character X (the GB 11643 standard's own example).
    const VALID: &str = "11010519491231002X";

    #[test]
    fn the_standards_example_is_valid() {
        assert_eq!(run(&[VALID]), vec![(Some(VALID.to_string()), None)]);
    }

    #[test]
    fn spaces_full_width_digits_and_lower_case_x_are_normalized() {
        let messy = " １１０１０５ 19491231002x\u{3000}";
        assert_eq!(run(&[messy]), vec![(Some(VALID.to_string()), None)]);
    }

    #[test]
    fn a_wrong_check_character_is_rejected_with_the_expected_one() {
        let r = run(&["110105194912310021"]);
        assert_eq!(r[0].0, None);
        let reason = r[0].1.as_deref().unwrap();
        assert!(reason.contains("校验码错误") && reason.ends_with('X'), "{reason}");
    }

    #[test]
    fn a_15_digit_number_is_upgraded() {
        // 15-digit 110105491231002 → body 110105 19 491231002 = 11010519491231002 → check X.
        assert_eq!(run(&["110105491231002"]), vec![(Some(VALID.to_string()), None)]);
    }

    #[test]
    fn excel_scientific_notation_is_rejected_not_repaired() {
        let r = run(&["5.22601E+17"]);
        assert_eq!(r[0].0, None);
        assert!(r[0].1.as_deref().unwrap().contains("科学计数法"));
    }

    #[test]
    fn impossible_birth_dates_and_bad_shapes_are_rejected() {
        // 1949-02-30 does not exist.
        let r = run(&["110105194902300021", "12345", "11010519491231002Y", ""]);
        assert!(r[0].1.as_deref().unwrap().contains("出生日期"));
        assert!(r[1].1.as_deref().unwrap().contains("格式错误"));
        assert!(r[2].1.as_deref().unwrap().contains("格式错误"));
        assert!(r[3].1.as_deref().unwrap().contains("为空"));
    }

    /// The fast path's birth-date arithmetic accepts exactly the real dates from 1900 on, as the
    /// full check's parse does. Expected validity by the calendar: 1900 is no leap year (a
    /// century not divisible by 400), 2000 and 1996 are; April has 30 days.
    #[test]
    fn the_fast_path_accepts_exactly_the_birth_dates_the_full_check_accepts() {
        let cases = [
            ("19000229", false),
            ("20000229", true),
            ("19960229", true),
            ("19970229", false),
            ("19800430", true),
            ("19800431", false),
            ("19801231", true),
            ("19801232", false),
            ("18991231", false),
            ("19000101", true),
            ("19800001", false),
            ("19801301", false),
            ("19800100", false),
        ];
        // The check character by GB 11643-1999, computed here independently.
        let with_check = |body: &str| {
            let w = [7u32, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
            let sum: u32 = body.chars().zip(w).map(|(c, w)| c.to_digit(10).unwrap() * w).sum();
            format!("{body}{}", ["1", "0", "X", "9", "8", "7", "6", "5", "4", "3", "2"][(sum % 11) as usize])
        };
        let ids: Vec<String> = cases.iter().map(|(ymd, _)| with_check(&format!("110105{ymd}002"))).collect();
        let df = df!("raw" => ids.clone()).unwrap();
        let (stages, ok) = canonical(col("raw"), "t");
        let mut lf = df.lazy();
        for stage in stages {
            lf = lf.with_columns(stage);
        }
        let fast = lf.select([ok.alias("ok")]).collect().unwrap();
        let fast: Vec<Option<bool>> = fast.column("ok").unwrap().bool().unwrap().iter().collect();
        let full = run(&ids.iter().map(String::as_str).collect::<Vec<_>>());
        for (((ymd, valid), fast), (_, reason)) in cases.iter().zip(fast).zip(full) {
            assert_eq!(fast, Some(*valid), "fast path on {ymd}");
            assert_eq!(reason.is_none(), *valid, "full check on {ymd}: {reason:?}");
        }
    }
}
