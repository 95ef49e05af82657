-- The DuckDB peer: the reference policy rules/guizhou-2021.toml (贵州省 2021), written the way a
-- data team would write it by hand in SQL, to compare with `fanpin screen`.
--
-- Input: one relation raw_<file> per input CSV (every column VARCHAR), created by peer.py with
-- read_csv(..., all_varchar = true); an absent department file is an empty relation. raw_members
-- also has `line`, the file order (a person listed twice in one household keeps the first row).
-- Output: the table `flagged` with the columns compared with fanpin's flagged.csv, i.e.
-- 户编号, 家庭人口, 家庭纯收入, 人均纯收入, 类别, 风险类型, 建议 (no evidence, no rejects list).
--
-- Every cell is validated by the type the rules file declares (money: decimal yuan with at most
-- two places; dates: real YYYY-MM-DD; enums: the declared values; IDs: GB 11643-1999). A row
-- with any invalid cell is not used (fanpin writes it to rejects.csv).
--
-- Money is DECIMAL(38,2) end to end. DuckDB's DECIMAL / INTEGER is a DOUBLE, so the per-capita
-- figures are computed on integer cents: round(N / D, 2) half away from zero is
-- sign · ⌊(2·|N| + |D|) / (2·|D|)⌋ cents with N in cents (12639.99 / 2 → 6320.00 exactly, and
-- 12640.01 / 2 = 6320.005 → 6320.01, never banker's rounding and never a binary fraction).

-- ------------------------------------------------------------------ value checks (as macros)
-- Cells are trimmed of white space as Unicode defines it (RE2's \s is ASCII only; \pZ adds
-- U+00A0, U+3000 …). Each check is one regular expression that allows the white space around
-- the value (a check on the trimmed text would cost a second pass over the string). A value
-- that passes a money/date/integer/enum check cannot hold U+FFFD, the mark of bytes that were
-- not UTF-8; text cells are checked for it.
CREATE OR REPLACE TEMP MACRO ws_trim(s) AS
    regexp_replace(s, '^[\s\pZ\x{0B}\x{85}]+|[\s\pZ\x{0B}\x{85}]+$', '', 'g');
CREATE OR REPLACE TEMP MACRO is_blank(s) AS s IS NULL OR regexp_full_match(s, '[\s\pZ\x{0B}\x{85}]*');
CREATE OR REPLACE TEMP MACRO txt(s) AS coalesce(ws_trim(s), '');
CREATE OR REPLACE TEMP MACRO txt_ok(s) AS NOT coalesce(contains(s, '�'), false);
-- money: decimal yuan, at most two places (4000, -1.25; not 1,000 nor 4000.005)
CREATE OR REPLACE TEMP MACRO money_ok(s) AS
    regexp_full_match(s, '[\s\pZ\x{0B}\x{85}]*[+-]?[0-9]+(\.[0-9]{1,2})?[\s\pZ\x{0B}\x{85}]*');
CREATE OR REPLACE TEMP MACRO money(s) AS CAST(ws_trim(s) AS DECIMAL(38, 2));
CREATE OR REPLACE TEMP MACRO int_ok(s) AS
    regexp_full_match(s, '[\s\pZ\x{0B}\x{85}]*[+-]?[0-9]{1,15}[\s\pZ\x{0B}\x{85}]*');
-- dates: a real YYYY-MM-DD date
CREATE OR REPLACE TEMP MACRO date_of(s) AS try_strptime(ws_trim(s), '%Y-%m-%d')::DATE;
CREATE OR REPLACE TEMP MACRO date_ok(s) AS
    regexp_full_match(s, '[\s\pZ\x{0B}\x{85}]*[0-9]{4}-[0-9]{2}-[0-9]{2}[\s\pZ\x{0B}\x{85}]*')
    AND date_of(s) IS NOT NULL;
CREATE OR REPLACE TEMP MACRO opt_date_ok(s) AS is_blank(s) OR date_ok(s);
CREATE OR REPLACE TEMP MACRO enum_ok(s, allowed) AS list_contains(allowed, ws_trim(s));

-- ------------------------------------------------------------------ ID numbers (GB 11643-1999)
-- id_n: the normalized text. A value that already looks like an 18-digit ID is used as it is
-- (nearly all of them); the others lose all white space (Unicode's, including U+3000), have
-- full-width digits / X / x / ． made half-width, and are upper-cased.
CREATE OR REPLACE TEMP MACRO id_n(s) AS CASE
    WHEN regexp_full_match(s, '[0-9]{17}[0-9X]') THEN s
    ELSE upper(translate(regexp_replace(coalesce(s, ''), '[\s\pZ\x{0B}\x{85}]+', '', 'g'),
                         '０１２３４５６７８９Ｘｘ．', '0123456789XX.'))
END;
-- ISO 7064 MOD 11-2 check character of a 17-digit body given as a BIGINT (digits taken
-- arithmetically: much faster than 17 substrings).
CREATE OR REPLACE TEMP MACRO dg(x, p) AS (x // p) % 10;
CREATE OR REPLACE TEMP MACRO id_check(x) AS substr('10X98765432', 1 + CAST((
      dg(x, 10000000000000000) * 7 + dg(x, 1000000000000000) * 9 + dg(x, 100000000000000) * 10
    + dg(x, 10000000000000) * 5 + dg(x, 1000000000000) * 8 + dg(x, 100000000000) * 4
    + dg(x, 10000000000) * 2 + dg(x, 1000000000) * 1 + dg(x, 100000000) * 6 + dg(x, 10000000) * 3
    + dg(x, 1000000) * 7 + dg(x, 100000) * 9 + dg(x, 10000) * 10 + dg(x, 1000) * 5
    + dg(x, 100) * 8 + dg(x, 10) * 4 + dg(x, 1) * 2) % 11 AS INTEGER), 1);
-- The 17-digit body: an 18-digit number's first 17, or a 15-digit one with 19 before the year.
CREATE OR REPLACE TEMP MACRO id_body(n) AS
    CASE WHEN length(n) = 15 THEN substr(n, 1, 6) || '19' || substr(n, 7, 9) ELSE substr(n, 1, 17) END;
-- The birth date (characters 7–14 of the body) must exist and be 1900 or later.
CREATE OR REPLACE TEMP MACRO birth_ok(b) AS coalesce(year(try_strptime(substr(b, 7, 8), '%Y%m%d')) >= 1900, false);
-- The 18-character ID from the normalized text n, its body b and b as a number x; NULL when the
-- value is not a valid ID: wrong shape (including Excel's 5.22601E+17), impossible birth date,
-- wrong check character. A 15-digit number is upgraded (check character appended).
CREATE OR REPLACE TEMP MACRO id_of(n, b, x) AS CASE
    WHEN regexp_full_match(n, '[0-9]{17}[0-9X]|[0-9]{15}') AND birth_ok(b) THEN
        CASE WHEN length(n) = 15 THEN b || id_check(x) WHEN substr(n, 18, 1) = id_check(x) THEN n END
END;
-- A table with its 证件号码 checked: every column plus `id` (n, b, x are computed one after the
-- other, so that each is computed once per row).
CREATE OR REPLACE TEMP MACRO with_id(t) AS TABLE
SELECT * EXCLUDE (n, b, x), id_of(n, b, x) AS id
FROM (SELECT *, TRY_CAST(b AS BIGINT) AS x
      FROM (SELECT *, id_body(n) AS b
            FROM (SELECT *, id_n(证件号码) AS n FROM query_table(t))));

-- ------------------------------------------------------------------ the roster
-- 户表: every cell valid (户主证件号码 too: tested in hh_known, so that the check is computed once);
-- a 户编号 listed twice (among the valid rows) drops every row with it.
CREATE OR REPLACE TEMP TABLE hh_valid AS
SELECT txt(户编号) AS hh, ws_trim(户类型) AS 户类型, id_of(n, b, x) IS NOT NULL AS head_id_ok,
       money(工资性收入) + money(生产经营性收入) + money(财产性收入) + money(转移性收入)
           - money(生产经营性支出) AS ni,
       money(上年度家庭纯收入) AS prev_ni
FROM (SELECT *, TRY_CAST(b AS BIGINT) AS x
      FROM (SELECT *, id_body(n) AS b
            FROM (SELECT *, id_n(户主证件号码) AS n FROM raw_households)))
WHERE txt_ok(户编号) AND txt_ok(县) AND txt_ok(乡镇) AND txt_ok(村) AND txt_ok(户主姓名)
  AND enum_ok(户类型, ['脱贫户', '一般农户'])
  AND (is_blank(监测状态) OR enum_ok(监测状态, ['脱贫不稳定户', '边缘易致贫户', '突发严重困难户', '风险消除']))
  AND money_ok(工资性收入) AND money_ok(生产经营性收入) AND money_ok(财产性收入)
  AND money_ok(转移性收入) AND money_ok(生产经营性支出) AND money_ok(上年度家庭纯收入);

CREATE OR REPLACE TEMP TABLE hh_known AS
SELECT * EXCLUDE (head_id_ok) FROM hh_valid
WHERE head_id_ok AND hh IN (SELECT hh FROM hh_valid WHERE head_id_ok GROUP BY hh HAVING count(*) = 1);

-- 人表: every cell valid. A person in two households is dropped from both; a person listed twice
-- in one household keeps the first row; members of an unknown or dropped household are dropped.
CREATE OR REPLACE TEMP TABLE mem_valid AS
SELECT line, txt(户编号) AS hh, id, ws_trim(劳动技能) AS 劳动技能, ws_trim(是否共同生活) = '是' AS co
FROM with_id('raw_members')
WHERE txt_ok(户编号) AND txt_ok(姓名) AND txt_ok(与户主关系) AND txt_ok(性别) AND txt_ok(健康状况)
  AND opt_date_ok(出生日期)
  AND enum_ok(劳动技能, ['普通劳动力', '技能劳动力', '弱劳动力或半劳动力', '丧失劳动力', '无劳动力'])
  AND enum_ok(是否共同生活, ['是', '否']);

-- One row per person: a person whose rows name one household only keeps the first row.
CREATE OR REPLACE TEMP TABLE mem AS
SELECT hh, id, 劳动技能, co
FROM (SELECT id, min(hh) AS hh, max(hh) AS other_hh,
             arg_min(劳动技能, line) AS 劳动技能, arg_min(co, line) AS co
      FROM mem_valid WHERE id IS NOT NULL GROUP BY id)
WHERE hh = other_hh AND hh IN (SELECT hh FROM hh_known);

-- Households with no co-resident member are dropped (there is nobody to divide the income by).
CREATE OR REPLACE TEMP TABLE hh_size AS
SELECT hh, count(*) AS n, bool_and(劳动技能 IN ('丧失劳动力', '无劳动力')) AS no_labour
FROM mem WHERE co GROUP BY hh;

-- Co-resident members (of the households kept): the only people whose department records count.
CREATE OR REPLACE TEMP TABLE co AS
SELECT id, hh FROM mem WHERE co;

-- ------------------------------------------------------------------ department extracts
-- Each: rows with every cell valid, inside the income window where the source has one, joined
-- on the normalized ID to a co-resident member; one row per household. The window and the
-- rule are tested on the typed values.
CREATE OR REPLACE TEMP MACRO in_window(s) AS date_of(s) BETWEEN DATE '2020-06-01' AND DATE '2021-05-31';
CREATE OR REPLACE TEMP MACRO by_determination(s) AS date_of(s) <= DATE '2021-05-31';

CREATE OR REPLACE TEMP TABLE f_medical AS
SELECT c.hh, sum(money(r.个人自付)) AS re, max(money(r.个人自付)) AS max_pay, bool_or(ws_trim(r.是否大病) = '是') AS major
FROM (SELECT * FROM with_id('raw_medical')
      WHERE txt_ok(姓名) AND txt_ok(病种) AND date_ok(就诊日期) AND money_ok(医疗总费用) AND money_ok(报销金额)
        AND money_ok(个人自付) AND enum_ok(是否大病, ['是', '否']) AND in_window(就诊日期)) r
JOIN co c USING (id)
GROUP BY c.hh;

CREATE OR REPLACE TEMP TABLE f_education AS
SELECT c.hh, sum(money(r.自付费用)) AS re, bool_or(money(r.自付费用) > 10000) AS hit
FROM (SELECT * FROM with_id('raw_education')
      WHERE txt_ok(姓名) AND txt_ok(学段) AND txt_ok(学年) AND date_ok(缴费日期) AND money_ok(自付费用)
        AND in_window(缴费日期)) r
JOIN co c USING (id)
GROUP BY c.hh;

-- Record rules with a yes/no answer per household: the households hit.
CREATE OR REPLACE TEMP TABLE f_disability AS
SELECT DISTINCT c.hh
FROM (SELECT id FROM with_id('raw_disability')
      WHERE txt_ok(姓名) AND txt_ok(残疾类别) AND enum_ok(残疾等级, ['一级', '二级', '三级', '四级'])
        AND ws_trim(残疾等级) IN ('一级', '二级')) r
JOIN co c USING (id);

CREATE OR REPLACE TEMP TABLE f_disasters AS
SELECT DISTINCT c.hh
FROM (SELECT id FROM with_id('raw_disasters')
      WHERE txt_ok(姓名) AND txt_ok(灾害类型) AND date_ok(发生日期)
        AND enum_ok(损失情况, ['房屋倒塌', '严重损坏', '一般损坏', '死亡', '失踪', '农作物受灾'])
        AND in_window(发生日期) AND ws_trim(损失情况) IN ('房屋倒塌', '严重损坏', '死亡', '失踪')) r
JOIN co c USING (id);

CREATE OR REPLACE TEMP TABLE f_accidents AS
SELECT DISTINCT c.hh
FROM (SELECT id FROM with_id('raw_accidents')
      WHERE txt_ok(姓名) AND date_ok(事故日期) AND enum_ok(伤情, ['死亡', '伤残', '受伤'])
        AND in_window(事故日期) AND ws_trim(伤情) IN ('死亡', '伤残')) r
JOIN co c USING (id);

CREATE OR REPLACE TEMP TABLE f_employment AS
SELECT DISTINCT c.hh
FROM (SELECT id FROM with_id('raw_employment')
      WHERE txt_ok(姓名) AND date_ok(返乡日期) AND int_ok(返乡未就业天数)
        AND in_window(返乡日期) AND CAST(ws_trim(返乡未就业天数) AS BIGINT) >= 30) r
JOIN co c USING (id);

CREATE OR REPLACE TEMP TABLE f_agriculture AS
SELECT DISTINCT c.hh
FROM (SELECT id FROM with_id('raw_agriculture')
      WHERE txt_ok(姓名) AND txt_ok(项目名称) AND date_ok(发生日期) AND enum_ok(情况, ['绝收', '项目失败', '减产'])
        AND in_window(发生日期) AND ws_trim(情况) IN ('绝收', '项目失败')) r
JOIN co c USING (id);

CREATE OR REPLACE TEMP TABLE f_housing AS
SELECT DISTINCT c.hh
FROM (SELECT id FROM with_id('raw_housing')
      WHERE txt_ok(姓名) AND date_ok(鉴定日期) AND enum_ok(鉴定等级, ['A', 'B', 'C', 'D'])
        AND in_window(鉴定日期) AND ws_trim(鉴定等级) IN ('C', 'D')) r
JOIN co c USING (id);

-- Exclusions (all `review`): no income window; "by the determination date" where dated.
CREATE OR REPLACE TEMP TABLE f_excluded AS
SELECT c.hh
FROM (SELECT id FROM with_id('raw_vehicles')
      WHERE txt_ok(姓名) AND txt_ok(号牌号码) AND txt_ok(车辆类型) AND date_ok(登记日期) AND enum_ok(状态, ['正常', '注销'])
        AND ws_trim(车辆类型) IN ('小型轿车', '小型普通客车') AND ws_trim(状态) = '正常'
        AND by_determination(登记日期)) r
JOIN co c USING (id)
UNION
SELECT c.hh
FROM (SELECT id FROM with_id('raw_real_estate')
      WHERE txt_ok(姓名) AND date_ok(登记日期) AND enum_ok(不动产类型, ['商品房', '门面房', '自建房', '宅基地'])
        AND ws_trim(不动产类型) IN ('商品房', '门面房') AND by_determination(登记日期)) r
JOIN co c USING (id)
UNION
SELECT c.hh
FROM (SELECT id FROM with_id('raw_companies')
      WHERE txt_ok(姓名) AND txt_ok(企业名称) AND enum_ok(身份, ['法定代表人', '股东', '个体工商户'])
        AND enum_ok(状态, ['存续', '注销']) AND ws_trim(身份) IN ('法定代表人', '股东') AND ws_trim(状态) = '存续') r
JOIN co c USING (id)
UNION
SELECT c.hh
FROM (SELECT id FROM with_id('raw_public_employees')
      WHERE txt_ok(姓名) AND txt_ok(单位) AND enum_ok(类别, ['公务员', '事业单位', '国有企业', '村干部'])) r
JOIN co c USING (id)
UNION
SELECT c.hh
FROM (SELECT id FROM with_id('raw_blacklist')
      WHERE txt_ok(姓名) AND txt_ok(失信类型) AND date_ok(立案日期) AND by_determination(立案日期)) r
JOIN co c USING (id);

-- ------------------------------------------------------------------ household figures, category
-- round(num_cents / n, 2) half away from zero, as DECIMAL(38,2), on integers only.
CREATE OR REPLACE TEMP MACRO cents(amount) AS CAST(amount * 100 AS HUGEINT);
CREATE OR REPLACE TEMP MACRO per_capita(amount, n) AS
    CAST(sign(cents(amount)) * ((2 * abs(cents(amount)) + n) // (2 * n)) AS DECIMAL(38, 0)) * 0.01::DECIMAL(3, 2);

CREATE OR REPLACE TEMP TABLE screened AS
SELECT h.hh, h.户类型, s.n, h.ni, h.prev_ni,
       per_capita(h.ni, s.n) AS pci,
       coalesce(md.re, 0) + coalesce(ed.re, 0) AS re,
       per_capita(h.ni - (coalesce(md.re, 0) + coalesce(ed.re, 0)), s.n) AS pci_after_re,
       concat_ws('、',
           -- one visit at or above the line (4000 for 脱贫户, 10000 otherwise), or 大病
           CASE WHEN md.max_pay >= CASE WHEN h.户类型 = '脱贫户' THEN 4000 ELSE 10000 END OR md.major THEN '因病' END,
           CASE WHEN coalesce(ed.hit, false) THEN '因学' END,
           CASE WHEN ds.hh IS NOT NULL THEN '因残' END,
           CASE WHEN di.hh IS NOT NULL THEN '因灾' END,
           CASE WHEN ac.hh IS NOT NULL THEN '因意外事故' END,
           CASE WHEN em.hh IS NOT NULL THEN '因务工就业不稳' END,
           CASE WHEN ag.hh IS NOT NULL THEN '因产业项目失败' END,
           CASE WHEN ho.hh IS NOT NULL THEN '住房安全' END,
           CASE WHEN s.no_labour THEN '缺劳动力' END) AS risks,
       EXISTS (SELECT 1 FROM f_excluded x WHERE x.hh = h.hh) AS review
FROM hh_known h
JOIN hh_size s USING (hh)
LEFT JOIN f_medical md USING (hh)
LEFT JOIN f_education ed USING (hh)
LEFT JOIN f_disability ds USING (hh)
LEFT JOIN f_disasters di USING (hh)
LEFT JOIN f_accidents ac USING (hh)
LEFT JOIN f_employment em USING (hh)
LEFT JOIN f_agriculture ag USING (hh)
LEFT JOIN f_housing ho USING (hh);

CREATE OR REPLACE TEMP TABLE flagged AS
SELECT hh AS 户编号,
       CAST(n AS VARCHAR) AS 家庭人口,
       CAST(ni AS VARCHAR) AS 家庭纯收入,
       CAST(pci AS VARCHAR) AS 人均纯收入,
       category AS 类别,
       CASE WHEN risks = '' THEN '待核实' ELSE risks END AS 风险类型,
       CASE WHEN review THEN '建议不纳入(需评议)' ELSE '纳入核实' END AS 建议
FROM (
    SELECT *, CASE
        WHEN pci < 6320 AND 户类型 = '脱贫户' THEN '脱贫不稳定户'
        WHEN pci < 6320 AND 户类型 = '一般农户' THEN '边缘易致贫户'
        WHEN pci >= 6320 AND (re > prev_ni OR pci_after_re < 6320 OR (prev_ni > 0 AND ni <= prev_ni * 0.5))
            THEN '突发严重困难户'
    END AS category
    FROM screened
)
WHERE category IS NOT NULL
ORDER BY 户编号;
