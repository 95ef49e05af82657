//! Reading a table in Spark SQL as `sources::load_table` reads it: each file decoded (BOM,
//! UTF-8, GB18030), split into physical lines, its header found below any title rows with the
//! delimiter declared or detected, every declared column mapped by its name or an alias, blank
//! and 合计 lines counted and dropped, and every cell validated and normalized by its type
//! (`cells`). The local engine reads canonical UTF-8 files whose header is on line 1 through
//! polars' CSV reader and the others through a grid of cells; the few places where the two
//! differ (a cell of white space, what counts as blank or a total line) follow the path the
//! local engine takes for that file.
//!
//! The job needs `spark.sql.ansi.enabled=true`, `spark.sql.legacy.javaCharsets=true` (GB18030)
//! and `spark.sql.legacy.codingErrorAction=true` (a byte GB18030 cannot decode becomes U+FFFD, a
//! reject, instead of failing the job). A file is read whole as one binary value (at most 2 GB,
//! one task); a quoted cell holding a line break fails the job, naming the file and line.

pub mod cells;
#[cfg(test)]
mod tests;

pub use cells::{ident, text};
use cells::{regex, trim_ws, WS};

use crate::rules::plan::{Encoding, Table};
use anyhow::{bail, Result};

/// The delimiters a file may be split at when none is declared, in the order the local engine
/// tries them after the sniffed one (`grid::DELIMITERS`).
const DELIMITERS: [u8; 4] = [b',', b';', b'\t', b'|'];
/// The order in which `grid::sniff_delimiter` counts them.
const SNIFF_ORDER: [u8; 4] = [b'\t', b'|', b',', b';'];
/// The header is searched in the first rows (`header::HEADER_SEARCH_ROWS`) of the first
/// `HEAD_LINES` physical lines; a file whose header is not found there fails.
const HEADER_ROWS: usize = crate::sources::header::HEADER_SEARCH_ROWS;
const HEAD_LINES: usize = 200;
const WORKBOOK: [&str; 5] = ["xlsx", "xlsm", "xlsb", "xls", "ods"];

/// The regex text of a delimiter, inside a character class or alone.
fn esc(d: u8) -> &'static str {
    match d {
        b',' => ",",
        b';' => ";",
        b'\t' => r"\t",
        b'|' => r"\|",
        _ => unreachable!("only the four detected delimiters"),
    }
}

fn delimiter_name(d: u8) -> &'static str {
    match d {
        b',' => "comma",
        b';' => "semi",
        b'\t' => "tab",
        _ => "pipe",
    }
}

/// The SQL literal of a delimiter.
fn delimiter_literal(d: u8) -> String {
    if d == b'\t' {
        "'\\t'".into()
    } else {
        format!("'{}'", d as char)
    }
}

/// The cells of `line` split at `d` with RFC 4180 quoting, still quoted (a cell is one token:
/// a quoted part and what follows it, or unquoted text).
fn tokens(line: &str, d: u8) -> String {
    let e = esc(d);
    format!("regexp_extract_all(concat({}, {line}), {}, 1)", delimiter_literal(d), regex(&format!(r#"{e}("(?:[^"]|"")*+"[^{e}]*|[^{e}]*)"#)))
}

/// A token's cell text: a quoted part unquoted (`""` is `"`), with any text after its closing
/// quote, as the csv crate reads it.
fn unquote(x: &str) -> String {
    format!(
        r#"IF(startswith({x}, '"'), concat(replace(regexp_extract({x}, {}, 1), '""', '"'), regexp_extract({x}, {}, 1)), {x})"#,
        regex(r#"(?s)^"((?:[^"]|"")*+)""#),
        regex(r#"(?s)^"(?:[^"]|"")*+"(.*)\z"#)
    )
}

/// A quoted cell not closed on its line (it holds a line break, or is never closed).
fn unclosed(x: &str) -> String {
    format!(r#"(startswith({x}, '"') AND NOT {x} RLIKE {})"#, regex(r#"^"(?:[^"]|"")*+""#))
}

/// A header cell compared loosely (`header::normalize`).
fn normalize(x: &str) -> String {
    format!("translate(regexp_replace(regexp_replace({x}, {}, ''), {}, ''), '（）', '()')", regex(r"^\x{FEFF}+"), regex(WS))
}

/// The 1-based position of each declared column in the header `cells` (0: absent).
fn positions(t: &Table, cells: &str) -> Vec<String> {
    let norm = cells;
    t.columns
        .iter()
        .map(|c| {
            let names: Vec<String> = std::iter::once(&c.name).chain(&c.aliases).map(|n| text(&crate::sources::header::normalize(n))).collect();
            format!("array_position(transform({norm}, x -> x IN ({})), true)", names.join(", "))
        })
        .collect()
}

/// One `CREATE OR REPLACE TEMPORARY VIEW` statement.
fn view(name: &str, body: &str) -> String {
    format!("CREATE OR REPLACE TEMPORARY VIEW {} AS\n{body};\n", ident(name))
}

/// The text of each file: (`fi`, `file`, `enc`, `text`), as `sources::decode` decodes it.
fn decoded(t: &Table, raw: &str) -> String {
    let bom = "substr(content, 1, 3) = X'EFBBBF'";
    let u = format!("make_valid_utf8(CAST(IF({bom}, substr(content, 4), content) AS STRING))");
    let gb = "decode(content, 'GB18030')";
    match t.read.encoding {
        Encoding::Utf8 => format!("SELECT fi, file, sniff, 'UTF-8' AS enc, {u} AS text FROM {raw}"),
        Encoding::Gb18030 => format!("SELECT fi, file, sniff, 'GB18030' AS enc, {gb} AS text FROM {raw}"),
        Encoding::Auto => {
            // `decode::mostly_utf8`: at most one bad sequence in 20 non-ASCII characters. Each bad
            // sequence is one U+FFFD of the lossy text; a U+FFFD the file itself holds is not.
            let fffd = "(length(u) - length(replace(u, '\\uFFFD', '')))";
            let real = format!("regexp_count(hex(content), {})", regex(r"\G(?:..)*?EFBFBD"));
            let bad = format!("({fffd} - {real})");
            let nonascii = format!("length(regexp_replace(u, {}, ''))", regex(r"[\x00-\x7F]"));
            let enc = format!(
                "CASE WHEN {bom} OR is_valid_utf8(CAST(content AS STRING)) THEN 'UTF-8' WHEN {bad} * 20 <= {nonascii} - {bad} THEN 'UTF-8' ELSE 'GB18030' END"
            );
            format!("SELECT fi, file, sniff, enc, IF(enc = 'UTF-8', u, {gb}) AS text FROM (SELECT *, {enc} AS enc FROM (SELECT *, {u} AS u FROM {raw}))")
        }
    }
}

/// See the module's documentation; the views are `{view}`, `{view}_rejects` and `{view}_files`.
///
/// `{view}_rejects` has a BIGINT `__order`: the local engine's order of the table's rejects
/// (by file name, line, then the column's declared position).
pub fn table_sql(t: &Table, files: &[(String, String)], view_name: &str, work: &str) -> Result<String> {
    if let Some(sheet) = &t.read.sheet {
        bail!("the Spark engine does not read Excel workbooks (source {}, sheet {sheet})", t.name);
    }
    for (uri, shown) in files {
        let ext = uri.rsplit('.').next().unwrap_or("").to_ascii_lowercase();
        if WORKBOOK.contains(&ext.as_str()) {
            bail!("the Spark engine does not read Excel workbooks (source {}, file {shown})", t.name);
        }
        if uri.contains(['*', '?', '[', ']', '{', '}', '`', '\\']) {
            bail!("the Spark engine cannot read {shown} (source {}): its path holds a character Spark takes for a pattern", t.name);
        }
    }
    if t.columns.is_empty() {
        bail!("source {} declares no column", t.name);
    }
    let v = |suffix: &str| format!("{view_name}__{suffix}");
    let mut sql = String::new();

    // The files, each with how its delimiter is chosen (`read::open_file`).
    let (declared, candidates): (Option<u8>, Vec<u8>) = match t.read.delimiter {
        Some(d) if DELIMITERS.contains(&d) => (Some(d), vec![d]),
        Some(d) => bail!("the Spark engine does not read the delimiter {:?} (source {}): only , ; tab and |", d as char, t.name),
        None => (None, DELIMITERS.to_vec()),
    };
    let raw: Vec<String> = files
        .iter()
        .enumerate()
        .map(|(i, (uri, shown))| {
            let sniff = declared.is_none() && !uri.to_ascii_lowercase().ends_with(".csv");
            format!("SELECT {i} AS fi, {} AS file, {sniff} AS sniff, content FROM binaryFile.{}", text(shown), ident(uri))
        })
        .collect();
    let raw = if raw.is_empty() {
        "SELECT CAST(NULL AS INT) AS fi, CAST(NULL AS STRING) AS file, false AS sniff, CAST(NULL AS BINARY) AS content WHERE false".to_string()
    } else {
        raw.join("\nUNION ALL ")
    };
    sql += &view(&v("raw"), &raw);
    sql += &view(&v("text"), &decoded(t, &ident(&v("raw"))));
    // Physical lines (LF, CRLF or a CR alone end one), numbered from 1; the empty text after a
    // final line end is no line.
    sql += &view(
        &v("lines"),
        &format!(
            "SELECT fi, CAST(pos + 1 AS BIGINT) AS ln, line FROM (SELECT fi, split(text, {}, -1) AS ls FROM {}) LATERAL VIEW posexplode(ls) p AS pos, line WHERE NOT (pos = size(ls) - 1 AND line = '')",
            regex(r"\r\n|\r|\n"),
            ident(&v("text"))
        ),
    );

    // The header: the first of the first rows (non-empty lines) that holds every declared
    // column, for each candidate delimiter.
    let mut head_cols = Vec::new();
    let mut head_aggs = Vec::new();
    let mut agg_names = Vec::new();
    for d in &candidates {
        let name = delimiter_name(*d);
        let cells = format!("transform({}, x -> {})", tokens("line", *d), normalize(&unquote("x")));
        let fit: Vec<String> = positions(t, &format!("cells_{name}")).into_iter().map(|p| format!("{p} > 0")).collect();
        head_cols.push(format!("{cells} AS cells_{name}"));
        head_aggs.push(format!("min(IF(fit_{name}, ln, NULL)) AS hl_{name}, min_by(line, IF(fit_{name}, ln, NULL)) AS hline_{name}"));
        agg_names.push(format!("a.hl_{name}, a.hline_{name}"));
        head_cols.push(format!("({}) AS fit_{name}_", fit.join(" AND ")));
    }
    // `grid::sniff_delimiter` over the first 20 lines that are not blank.
    let counts: Vec<String> =
        SNIFF_ORDER.iter().map(|d| format!("length(line) - length(replace(line, {}, '')) AS n_{}", delimiter_literal(*d), delimiter_name(*d))).collect();
    sql += &view(
        &v("sample"),
        &format!(
            "SELECT fi, {} FROM (SELECT fi, line, row_number() OVER (PARTITION BY fi ORDER BY ln) AS k FROM {} WHERE ln <= {HEAD_LINES} AND {} <> '') WHERE k <= 20",
            counts.join(", "),
            ident(&v("lines")),
            trim_ws("line")
        ),
    );
    let maxes: Vec<String> = SNIFF_ORDER.iter().map(|d| format!("max(n_{0}) OVER (PARTITION BY fi) AS m_{0}", delimiter_name(*d))).collect();
    let consistent: Vec<String> = SNIFF_ORDER.iter().map(|d| format!("count_if(m_{0} > 0 AND n_{0} = m_{0}) AS c_{0}", delimiter_name(*d))).collect();
    let (mut best_d, mut best_c) = ("','".to_string(), "0".to_string());
    for d in SNIFF_ORDER {
        let name = delimiter_name(d);
        best_d = format!("IF(c_{name} > {best_c}, {}, {best_d})", delimiter_literal(d));
        best_c = format!("GREATEST(c_{name}, {best_c})");
    }
    sql += &view(
        &v("sniffed"),
        &format!(
            "SELECT fi, {best_d} AS sniffed FROM (SELECT fi, {} FROM (SELECT *, {} FROM {}) GROUP BY fi)",
            consistent.join(", "),
            maxes.join(", "),
            ident(&v("sample"))
        ),
    );

    let fits: Vec<String> = candidates.iter().map(|d| format!("fit_{0}_ AS fit_{0}", delimiter_name(*d))).collect();
    sql += &view(
        &v("cand"),
        &format!(
            "SELECT fi, ln, line, {} FROM (SELECT fi, ln, line, {} FROM (SELECT fi, ln, line, row_number() OVER (PARTITION BY fi ORDER BY ln) AS k FROM {} WHERE ln <= {HEAD_LINES} AND line <> '') WHERE k <= {HEADER_ROWS})",
            fits.join(", "),
            head_cols.join(", "),
            ident(&v("lines"))
        ),
    );
    // The delimiter: declared; or sniffed (`,` for .csv) unless only another one fits.
    let hl = |d: u8| format!("hl_{}", delimiter_name(d));
    let chosen = match declared {
        Some(d) => delimiter_literal(d),
        None => {
            let mut e = String::from("CASE");
            for d in DELIMITERS {
                e.push_str(&format!(" WHEN start = {0} AND {1} IS NOT NULL THEN {0}", delimiter_literal(d), hl(d)));
            }
            for d in DELIMITERS {
                e.push_str(&format!(" WHEN {} IS NOT NULL THEN {}", hl(d), delimiter_literal(d)));
            }
            e + " END"
        }
    };
    let pick = |what: &str| {
        let mut e = String::from("CASE delim");
        for d in &candidates {
            e.push_str(&format!(" WHEN {} THEN {what}_{}", delimiter_literal(*d), delimiter_name(*d)));
        }
        e + " END"
    };
    let columns: Vec<&str> = t.columns.iter().map(|c| c.name.as_str()).collect();
    let missing = text(&format!(
        " ({}): no row of its first {HEADER_ROWS} holds every declared column ({}); add an alias in the rules: [sources.{}.read.aliases]",
        t.name,
        columns.join(", "),
        t.name
    ));
    let head_cells = format!("transform({}, x -> {})", pick("tokens"), normalize(&unquote("x")));
    let token_cols: Vec<String> = candidates.iter().map(|d| format!("{} AS tokens_{}", tokens("hline", *d), delimiter_name(*d))).collect();
    let pos_cols: Vec<String> = positions(t, "head_cells").into_iter().enumerate().map(|(i, p)| format!("CAST({p} AS INT) AS p{i}")).collect();
    sql += &view(
        &v("head"),
        &format!(
            "SELECT fi, file, enc, lone_cr, delim, coalesce(header_ln, CAST(raise_error(concat(file, {missing})) AS BIGINT)) AS header_ln, {} FROM (\
             SELECT *, {head_cells} AS head_cells FROM (SELECT *, {} AS hline, {} FROM (\
             SELECT *, {chosen} AS delim FROM (\
             SELECT x.fi, x.file, x.enc, x.text RLIKE {} AS lone_cr, IF(x.sniff, coalesce(s.sniffed, ','), ',') AS start, {} FROM {} x \
             LEFT JOIN {} s USING (fi) LEFT JOIN (SELECT fi, {} FROM {} GROUP BY fi) a USING (fi)))))",
            pos_cols.join(", "),
            pick("hline"),
            token_cols.join(", ") + &format!(", {} AS header_ln", pick("hl")),
            regex(r"\r(?!\n)"),
            agg_names.join(", "),
            ident(&v("text")),
            ident(&v("sniffed")),
            head_aggs.join(", "),
            ident(&v("cand")),
        ),
    );
    // Polars' reader takes UTF-8 files whose header is line 1 and which have no CR alone.
    sql += &rows_sql(t, view_name, &candidates, work)?;
    Ok(sql)
}

/// The records, the typed view, the rejects and the file counts.
fn rows_sql(t: &Table, view_name: &str, candidates: &[u8], work: &str) -> Result<String> {
    let v = |suffix: &str| format!("{view_name}__{suffix}");
    let mut sql = String::new();
    let mut tok = String::from("CASE h.delim");
    for d in candidates {
        tok.push_str(&format!(" WHEN {} THEN {}", delimiter_literal(*d), tokens("l.line", *d)));
    }
    tok.push_str(" END");
    let bad_line = text(&format!(" ({}): the Spark engine cannot read it: a quoted cell opened on line ", t.name));
    let bad_tail = text(" holds a line break or is never closed (the local engine reads such a file)");
    let polars_bad = text(&format!(" ({}): cannot read as delimited text: line ", t.name));
    let polars_tail = text(" has text after a quoted cell's closing quote");
    sql += &view(
        &v("tok"),
        &format!(
            "SELECT l.fi, h.file, l.ln, l.line, h.delim, h.enc = 'UTF-8' AND NOT h.lone_cr AND h.header_ln = 1 AS polars, {} , {tok} AS tokens \
             FROM {} l JOIN {} h ON l.fi = h.fi AND l.ln > h.header_ln",
            (0..t.columns.len()).map(|i| format!("h.p{i}")).collect::<Vec<_>>().join(", "),
            ident(&v("lines")),
            ident(&v("head"))
        ),
    );
    let raws: Vec<String> = (0..t.columns.len()).map(|i| format!("try_element_at(cells, p{i}) AS r{i}")).collect();
    let polars_tail_check = format!(
        "polars AND exists(tokens, x -> x RLIKE concat({}, CASE delim WHEN '|' THEN {} WHEN '\\t' THEN {} ELSE delim END, ']'))",
        text("^\"(?:[^\"]|\"\")*+\"[^"),
        text("\\|"),
        text("\\t")
    );
    sql += &view(
        &v("cells"),
        &format!(
            "SELECT fi, file, ln, polars, cells, {} FROM (SELECT *, CASE WHEN exists(tokens, x -> {}) THEN CAST(raise_error(concat(file, {bad_line}, ln, {bad_tail})) AS ARRAY<STRING>) \
             WHEN {polars_tail_check} THEN CAST(raise_error(concat(file, {polars_bad}, ln, {polars_tail})) AS ARRAY<STRING>) \
             ELSE transform(tokens, x -> {}) END AS cells FROM {} WHERE polars OR line <> '')",
            raws.join(", "),
            unclosed("x"),
            unquote("x"),
            ident(&v("tok"))
        ),
    );
    // Blank and total lines (`read::scan_csv` for polars' files, `read::from_grid` for the grid).
    let blank_cell = |r: &str| format!("({r} IS NULL OR {} = '')", trim_ws(r));
    let all_blank = (0..t.columns.len()).map(|i| blank_cell(&format!("r{i}"))).collect::<Vec<_>>().join(" AND ");
    let total_re = regex(&format!("^{WS}*(合{WS}*计|总{WS}*计|小{WS}*计)"));
    let (c0, c1) = ("try_element_at(cells, 1)", "try_element_at(cells, 2)");
    let polars_total = format!("coalesce(IF({}, {c1} RLIKE {total_re}, {c0} RLIKE {total_re}), false)", blank_cell(c0));
    let first_filled = format!("try_element_at(filter(cells, x -> {} <> ''), 1)", trim_ws("x"));
    let grid_total = format!("coalesce(substr(regexp_replace({first_filled}, {}, ''), 1, 2) IN ('合计', '总计', '小计'), false)", regex(WS));
    let grid_raw: Vec<String> = (0..t.columns.len()).map(|i| format!("IF(polars OR {} <> '', r{i}, NULL) AS r{i}", trim_ws(&format!("r{i}")))).collect();
    sql += &view(
        &v("marked"),
        &format!(
            "SELECT fi, file, ln, polars, {}, blank, IF(polars, {polars_total}, NOT blank AND {grid_total}) AS total FROM (SELECT *, {all_blank} AS blank FROM {})",
            grid_raw.join(", "),
            ident(&v("cells"))
        ),
    );
    // Every cell validated.
    let mut layers: Vec<Vec<(String, String)>> = Vec::new();
    let mut finals = Vec::new();
    for (i, c) in t.columns.iter().enumerate() {
        let cell = cells::cell(c, &format!("r{i}"), &format!("__c{i}"));
        for (k, stage) in cell.stages.into_iter().enumerate() {
            if layers.len() <= k {
                layers.push(Vec::new());
            }
            layers[k].push(stage);
        }
        finals.push(format!("{} AS v{i}, {} AS why{i}", cell.value, cell.reason));
    }
    let mut body = format!("SELECT * FROM {} WHERE NOT blank AND NOT total", ident(&v("marked")));
    for layer in layers {
        let cols: Vec<String> = layer.into_iter().map(|(n, e)| format!("{e} AS {n}")).collect();
        body = format!("SELECT *, {} FROM ({body})", cols.join(", "));
    }
    let raw_cols: Vec<String> = (0..t.columns.len()).map(|i| format!("r{i}")).collect();
    body = format!("SELECT fi, file, ln, {}, {} FROM ({body})", raw_cols.join(", "), finals.join(", "));
    sql += &view(&v("checked"), &body);
    // Computed once (and any error raised here): the valid rows and the rejects both read it,
    // and the roster checks read those several times.
    sql += &super::materialize(work, &ident(&v("checked")));

    let typed: Vec<String> = t.columns.iter().enumerate().map(|(i, c)| format!("CAST(v{i} AS {}) AS {}", cells::sql_type(&c.ty), ident(&c.name))).collect();
    let all_ok = (0..t.columns.len()).map(|i| format!("why{i} IS NULL")).collect::<Vec<_>>().join(" AND ");
    sql += &view(view_name, &format!("SELECT {}, file AS __file, ln AS __line FROM {} WHERE {all_ok}", typed.join(", "), ident(&v("checked"))));
    // One pass over the checked rows: each row's rejected cells, in the columns' order.
    let cells: Vec<String> = t
        .columns
        .iter()
        .enumerate()
        .map(|(i, c)| format!("named_struct('col', {i}, 'name', {}, 'raw', coalesce(r{i}, ''), 'why', why{i})", text(&c.name)))
        .collect();
    let any_bad = (0..t.columns.len()).map(|i| format!("why{i} IS NOT NULL")).collect::<Vec<_>>().join(" OR ");
    sql += &view(
        &format!("{view_name}_rejects"),
        &format!(
            "SELECT {} AS `来源`, file AS `文件`, ln AS `行号`, c.name AS `列`, c.raw AS `值`, c.why AS `原因`, row_number() OVER (ORDER BY file, ln, c.col) AS __order \
             FROM (SELECT file, ln, explode(filter(array({}), x -> x.why IS NOT NULL)) AS c FROM {} WHERE {any_bad})",
            text(&t.name),
            cells.join(", "),
            ident(&v("checked"))
        ),
    );
    sql += &view(
        &format!("{view_name}_files"),
        &format!(
            "SELECT h.file, coalesce(m.records, 0) AS records, coalesce(m.skipped_blank, 0) AS skipped_blank, coalesce(m.skipped_total, 0) AS skipped_total FROM {} h LEFT JOIN \
             (SELECT fi, count_if(NOT blank AND NOT total) AS records, count_if(blank) AS skipped_blank, count_if(total) AS skipped_total FROM {} GROUP BY fi) m USING (fi)",
            ident(&v("head")),
            ident(&v("marked"))
        ),
    );
    Ok(sql)
}
