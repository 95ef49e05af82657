//! One cell of a declared column, validated and normalized in Spark SQL exactly as
//! `sources::values::parse` and `sources::id::check` do it: the typed value and the reason a
//! cell is unreadable (NULL when it is fine). The reason texts are the local engine's.

use crate::rules::plan::{ColType, Column};
use crate::sources::values::MONEY_DIGITS;

/// Unicode's White_Space property (Rust's `char::is_whitespace`, `str::trim`, regex `\s`): Java
/// regex `\s` is ASCII only and `\p{Z}` misses U+0085 and the ASCII controls.
pub const WS: &str = r"\p{IsWhite_Space}";

/// The SQL type money is held in: `MONEY_DIGITS` integer digits and two places, every amount
/// the local engine accepts (DECIMAL(18,2) would overflow on 17–20 digits).
pub const MONEY_TYPE: &str = "DECIMAL(22,2)";

/// A SQL string literal (backslashes and quotes escaped).
pub fn text(s: &str) -> String {
    format!("'{}'", s.replace('\\', "\\\\").replace('\'', "\\'"))
}

/// A raw SQL string literal for a regex (no escapes processed).
pub fn regex(re: &str) -> String {
    assert!(!re.contains('\''), "a regex literal cannot hold a quote: {re}");
    format!("r'{re}'")
}

/// A back-quoted SQL identifier.
pub fn ident(name: &str) -> String {
    format!("`{}`", name.replace('`', "``"))
}

/// `x` without white space at either end (Spark's `trim` keeps U+3000 and the like).
pub fn trim_ws(x: &str) -> String {
    format!("regexp_replace({x}, {}, '')", regex(&format!("^{WS}+|{WS}+\\z")))
}

/// Full-width digits, signs and points as ASCII (`values::half_width`).
fn half_width(x: &str) -> String {
    format!("translate({x}, '０１２３４５６７８９．－＋，／', '0123456789.-+,/')")
}

fn rlike(x: &str, re: &str) -> String {
    format!("({x} RLIKE {})", regex(re))
}

/// Validation of one column: intermediate columns (computed in order, each may use the ones
/// before), the typed value and the reason, all over the raw cell column `raw` (NULL when the
/// cell is empty or missing).
pub struct Cell {
    pub stages: Vec<(String, String)>,
    pub value: String,
    pub reason: String,
}

pub const GARBLED: &str = "含有无法识别的字符(文件不是UTF-8编码?)";
pub const MISSING: &str = "必填值为空";
const MONEY_FORMAT: &str = "金额格式错误:应为以元为单位的十进制数,最多两位小数";
const INTEGER_FORMAT: &str = "整数格式错误";
const DATE_INVALID: &str = "日期无效:应为真实日期(如2021-03-02、2021/3/2、2021年3月2日、20210302)";
const ID_EMPTY: &str = "证件号码为空";
const ID_SCIENTIFIC: &str = "证件号码已被Excel科学计数法损坏(如5.22601E+17),无法还原,请从源系统以文本格式重新导出";
const ID_SHAPE: &str = "证件号码格式错误:应为18位(前17位数字,末位数字或X)或15位数字";
const ID_BIRTH: &str = "证件号码中的出生日期无效";
const ID_ZEROED: &str = "证件号码校验码错误,末三位为000,可能被Excel按数字截断;按GB 11643-1999末位应为";
const ID_CHECK: &str = "证件号码校验码错误:按GB 11643-1999末位应为";

/// ISO 7064 MOD 11-2 weights (as `sources::id`).
const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];

/// Whether the integers `y`, `m`, `d` (SQL) form a real date.
fn real_date(y: &str, m: &str, d: &str) -> String {
    let leap = format!("({y} % 4 = 0 AND ({y} % 100 <> 0 OR {y} % 400 = 0))");
    let days = format!("CASE WHEN {m} = 2 THEN IF({leap}, 29, 28) WHEN {m} IN (4, 6, 9, 11) THEN 30 ELSE 31 END");
    format!("({m} BETWEEN 1 AND 12 AND {d} BETWEEN 1 AND {days})")
}

/// The cell of `column` whose raw text is the SQL column `raw`; `tmp` prefixes its
/// intermediate columns.
pub fn cell(column: &Column, raw: &str, tmp: &str) -> Cell {
    let n = |x: &str| ident(&format!("{tmp}.{x}"));
    let s = n("s");
    let mut stages = vec![(s.clone(), trim_ws(raw))];
    let empty = format!("({s} IS NULL OR {s} = '')");
    let garbled = format!("coalesce(instr({raw}, '\\uFFFD') > 0, false)");
    let is_text = column.ty == ColType::Text;
    // (condition, reason SQL), first match wins, after the garbled and empty checks.
    let (value, checks): (String, Vec<(String, String)>) = match &column.ty {
        ColType::Text => (format!("coalesce({s}, '')"), Vec::new()),
        ColType::Id => {
            let (id, body, exp) = (n("id"), n("body"), n("expected"));
            stages.push((
                id.clone(),
                format!("upper(translate(regexp_replace({s}, {}, ''), '０１２３４５６７８９Ｘｘ．', '0123456789XX.'))", regex(&format!("{WS}+"))),
            ));
            stages.push((body.clone(), format!("IF(char_length({id}) = 15, concat(substr({id}, 1, 6), '19', substr({id}, 7, 9)), substr({id}, 1, 17))")));
            let digit = |i: usize| format!("try_cast(substr({body}, {}, 1) AS INT)", i + 1);
            let sum: Vec<String> = WEIGHTS.iter().enumerate().map(|(i, w)| format!("{} * {w}", digit(i))).collect();
            stages.push((exp.clone(), format!("substr('10X98765432', ({}) % 11 + 1, 1)", sum.join(" + "))));
            let num = |from: usize, len: usize| format!("try_cast(substr({body}, {from}, {len}) AS INT)");
            let (y, m, d) = (num(7, 4), num(11, 2), num(13, 2));
            let birth_ok = format!("({y} >= 1900 AND {})", real_date(&y, &m, &d));
            let check_ok = format!("(char_length({id}) = 15 OR substr({id}, 18, 1) = {exp})");
            let checks = vec![
                (format!("({id} IS NULL OR {id} = '')"), text(ID_EMPTY)),
                (rlike(&id, r"^[0-9.]+E\+?[0-9]+\z"), text(ID_SCIENTIFIC)),
                (format!("NOT {}", rlike(&id, r"^([0-9]{17}[0-9X]|[0-9]{15})\z")), text(ID_SHAPE)),
                (format!("NOT coalesce({birth_ok}, false)"), text(ID_BIRTH)),
                (format!("NOT {check_ok} AND {id} LIKE '%000'"), format!("concat({}, {exp})", text(ID_ZEROED))),
                (format!("NOT {check_ok}"), format!("concat({}, {exp})", text(ID_CHECK))),
            ];
            (format!("concat({body}, {exp})"), checks)
        }
        ColType::Money => {
            let (t, u) = (n("t"), n("u"));
            // `values::amount_text`: half-width, trimmed, one 元 suffix off, trimmed again;
            // commas removed only where they group thousands.
            stages.push((t.clone(), trim_ws(&format!("regexp_replace({}, {}, '')", trim_ws(&half_width(&s)), regex(r"元\z")))));
            let grouped = rlike(&t, r"^[+-]?[0-9]{1,3}(,[0-9]{3})+(\.[0-9]+)?\z");
            stages.push((u.clone(), format!("IF({grouped}, replace({t}, ',', ''), {t})")));
            let ok = rlike(&u, r"^[+-]?[0-9]+(\.[0-9]{1,2})?\z");
            let fits = rlike(&u, &format!(r"^[+-]?0*[0-9]{{1,{MONEY_DIGITS}}}(\.|\z)"));
            let checks = vec![(format!("NOT {ok}"), text(MONEY_FORMAT)), (format!("NOT {fits}"), text(&format!("金额超出范围:整数部分超过{MONEY_DIGITS}位")))];
            (format!("IF({ok} AND {fits}, CAST({u} AS {MONEY_TYPE}), NULL)"), checks)
        }
        ColType::Integer => {
            let t = n("t");
            stages.push((t.clone(), trim_ws(&half_width(&s))));
            let ok = rlike(&t, r"^[+-]?[0-9]{1,15}\z");
            (format!("IF({ok}, CAST({t} AS BIGINT), NULL)"), vec![(format!("NOT {ok}"), text(INTEGER_FORMAT))])
        }
        ColType::Date => {
            let (t, iso, v) = (n("t"), n("iso"), n("v"));
            stages.push((t.clone(), trim_ws(&half_width(&s))));
            // `values::date_stages`: 8 digits → Y-M-D; else the YMD forms rewritten, zero-padded.
            let ymd =
                format!(r"^([0-9]{{4}}){WS}*[-/.年]{WS}*([0-9]{{1,2}}){WS}*[-/.月]{WS}*([0-9]{{1,2}}){WS}*日?({WS}+[0-9]{{1,2}}:[0-9]{{2}}(:[0-9]{{2}})?)?\z");
            let rewritten = format!(
                "regexp_replace(regexp_replace(regexp_replace({t}, {}, '$1-$2-$3'), {}, '$1-0$2-'), {}, '-0$1')",
                regex(&ymd),
                regex(r"^([0-9]{4})-([0-9])-"),
                regex(r"-([0-9])\z")
            );
            let eight = rlike(&t, r"^[0-9]{8}\z");
            stages.push((iso.clone(), format!("IF({eight}, concat(substr({t}, 1, 4), '-', substr({t}, 5, 2), '-', substr({t}, 7, 2)), {rewritten})")));
            // chrono's `%Y-%m-%d`: the year any digits, month and day one or two.
            let part = |i: usize| format!("try_cast(regexp_extract({iso}, {}, {i}) AS INT)", regex(r"^([0-9]{1,9})-([0-9]{1,2})-([0-9]{1,2})\z"));
            let shaped = rlike(&iso, r"^[0-9]{1,9}-[0-9]{1,2}-[0-9]{1,2}\z");
            let (y, m, d) = (part(1), part(2), part(3));
            let parsed = format!("IF({shaped} AND {y} BETWEEN 1 AND 9999 AND {}, make_date({y}, {m}, {d}), NULL)", real_date(&y, &m, &d));
            // Excel serial numbers 20000–80000; day 25569 is 1970-01-01.
            let serial = format!(
                "IF({} AND CAST({t} AS INT) BETWEEN 20000 AND 80000, date_add(DATE'1970-01-01', CAST({t} AS INT) - 25569), NULL)",
                rlike(&t, r"^[0-9]{5}\z")
            );
            stages.push((v.clone(), format!("coalesce({parsed}, {serial})")));
            (v.clone(), vec![(format!("{v} IS NULL"), text(DATE_INVALID))])
        }
        ColType::Enum(values) => {
            let m = n("m");
            let list = |vs: &[String]| vs.iter().map(|v| text(v)).collect::<Vec<_>>().join(", ");
            let mut mapped = String::from("CASE");
            for (canonical, variants) in &column.synonyms {
                if !variants.is_empty() {
                    mapped.push_str(&format!(" WHEN {s} IN ({}) THEN {}", list(variants), text(canonical)));
                }
            }
            mapped.push_str(&format!(" ELSE {s} END"));
            stages.push((m.clone(), if column.synonyms.is_empty() { s.clone() } else { mapped }));
            let msg = format!("取值不在允许范围内({})", values.join("、"));
            (m.clone(), vec![(format!("NOT coalesce({m} IN ({}), false)", list(values)), text(&msg))])
        }
    };
    let mut reason = format!("CASE WHEN {garbled} THEN {}", text(GARBLED));
    if !is_text {
        reason.push_str(&format!(" WHEN {empty} THEN {}", if column.optional { "NULL".to_string() } else { text(MISSING) }));
    }
    for (cond, r) in checks {
        reason.push_str(&format!(" WHEN {cond} THEN {r}"));
    }
    reason.push_str(" END");
    let value = if is_text { value } else { format!("IF({empty}, NULL, {value})") };
    Cell { stages, value, reason }
}

/// The SQL type of a column's typed value.
pub fn sql_type(ty: &ColType) -> &'static str {
    match ty {
        ColType::Money => MONEY_TYPE,
        ColType::Integer => "BIGINT",
        ColType::Date => "DATE",
        _ => "STRING",
    }
}
