//! Validating one file's rows. One read splits them in two: the rows whose every cell is
//! already canonical, typed on the fast path, and the others, kept as text. Only those are
//! parsed the careful way, with the reasons of their rejects, and the valid ones are put back
//! in line order: a file with a few odd cells costs a few careful rows, not a second read.

use super::read::{self, FileInfo, FILE, LINE};
use super::{empty_rejects, sha256_file, stream, values};
use crate::rules::plan::Table;
use anyhow::Result;
use polars::prelude::*;

/// Marks a row whose every cell is canonical (`values::fast`).
const CANONICAL: &str = "__canonical";

/// Above this many runs of careful rows between fast ones, the two parts are put in line order
/// by one gather instead of slices (each run adds a chunk to every column before they are made
/// one; below this, slices are the cheaper copy: at 3M households, 10,000 runs in members.csv
/// took 0.7 s by slices and 1.9 s by a gather from the engine's many chunks).
const MAX_RUNS: usize = 1 << 16;

/// One read of a file, split: `quick` holds the rows whose every cell is canonical, typed (the
/// kept columns), and `rest` the others as text (every declared column); both with `LINE` and
/// `MAYBE_SKIP`, `rest` also with `FILE` (for its rejects), in file order. The valid rows get
/// `FILE` at the end, as one value for the whole column (`with_file`).
struct Split {
    quick: DataFrame,
    rest: DataFrame,
}

/// Reads `lf` once (polars' streaming engine, both parts from one scan). `unclean_lines`: the
/// only lines whose text the byte scan found may need trimming (`plain::scan`), which holds for
/// the strict read only: their rows go the careful way, and the text cells of the others are
/// canonical as they are. None: every text cell is checked. `rest_maybe_skip`: `MAYBE_SKIP` of
/// the careful rows, where `lf`'s holds on plain lines only (computed on those rows alone).
fn split(
    table: &Table,
    lf: LazyFrame,
    unclean_lines: Option<&[i64]>,
    rest_maybe_skip: Option<Expr>,
    kept_column: &dyn Fn(&str) -> bool,
) -> PolarsResult<Split> {
    let fast: Vec<(String, values::Fast)> = table.columns.iter().map(|c| (c.name.clone(), values::fast(c, unclean_lines.is_some()))).collect();
    let mut staged = lf;
    let depth = fast.iter().map(|(_, f)| f.stages.len()).max().unwrap_or(0);
    for i in 0..depth {
        let batch: Vec<Expr> = fast.iter().filter_map(|(_, f)| f.stages.get(i)).flatten().cloned().collect();
        staged = staged.with_columns(batch);
    }
    let mut canonical = fast.iter().map(|(_, f)| f.canonical.clone()).reduce(|a, b| a.and(b)).unwrap_or(lit(true));
    if let Some(lines) = unclean_lines.filter(|l| !l.is_empty()) {
        // One test per row, not per text cell.
        let lines = Series::new(LINE.into(), lines);
        canonical = canonical.and(col(LINE).is_in(lit(lines).implode(false), false).not());
    }
    // One plan read by both parts: polars runs it once and hands each morsel to both filters.
    let staged = staged.with_column(canonical.fill_null(lit(false)).alias(CANONICAL)).cache();
    let mut typed: Vec<Expr> = fast.iter().filter(|(n, _)| kept_column(n)).map(|(n, f)| f.value.clone().alias(n.as_str())).collect();
    typed.extend([col(LINE), col(read::MAYBE_SKIP)]);
    let mut raw: Vec<Expr> = table.columns.iter().map(|c| col(c.name.as_str())).collect();
    raw.extend([col(LINE), col(FILE), rest_maybe_skip.unwrap_or(col(read::MAYBE_SKIP)).alias(read::MAYBE_SKIP)]);
    let quick = staged.clone().filter(col(CANONICAL)).select(typed);
    let rest = staged.filter(col(CANONICAL).not()).select(raw);
    let opt = quick.get_current_optimizations();
    let mut parts = LazyFrame::collect_all_with_engine(vec![quick.logical_plan, rest.logical_plan], Engine::Streaming, opt)?.into_iter();
    let (Some(quick), Some(mut rest), None) = (parts.next(), parts.next(), parts.next()) else {
        polars_bail!(ComputeError: "two results were expected from two plans")
    };
    // The engine's output is one chunk per morsel; joins and group-bys downstream want one.
    // `quick` is made one chunk later, by the same copy that puts the careful rows back among
    // its rows (`in_line_order`): one copy of the file's rows, not two.
    rest.rechunk_mut_par();
    Ok(Split { quick, rest })
}

/// Validates one file: its valid rows (typed, in file order) and its rejects. The file's
/// SHA-256 (for the manifest) is computed on another thread while it is parsed.
pub(super) fn load_file(table: &Table, raw: read::RawFile, keep: Option<&[String]>) -> Result<(DataFrame, LazyFrame, FileInfo)> {
    let kept_column = |name: &str| keep.is_none_or(|k| k.iter().any(|c| c == name));
    let read::RawFile { path, mut lf, mut marks, strict, unclean_lines, rest_maybe_skip, mut info } = raw;
    let Split { quick, rest } = std::thread::scope(|scope| -> Result<Split> {
        let hashing = scope.spawn(|| sha256_file(&path));
        // A strict UTF-8 read first (the usual case). A file with a byte that is not UTF-8 is
        // read again: as GB18030 when the whole file is (its first 256 KB were ASCII), else
        // with such bytes turned into U+FFFD (their cells become rejects).
        let parts = match strict.map(|s| split(table, s, unclean_lines.as_deref(), rest_maybe_skip, &kept_column)) {
            Some(Ok(parts)) => Ok(parts),
            Some(Err(_)) => {
                if let Some((l, m, i)) = read::reread_if_gb18030(&path, table, &info)? {
                    (lf, marks, info) = (l, m, i);
                }
                split(table, lf, None, None, &kept_column)
            }
            None => split(table, lf, None, None, &kept_column),
        };
        info.sha256 = hashing.join().map_err(|_| anyhow::anyhow!("hashing {} failed", path.display()))??;
        // polars' message quotes the cell it could not parse, which may be the rest of the file.
        parts.map_err(|e| anyhow::anyhow!("cannot read as delimited text: {}", crate::log::quote(&e.to_string())))
    })?;
    // The engine's buffers are freed: their pages go back before the copy below is made (for a
    // large file only: a release walks the whole heap).
    if quick.height() >= 1 << 20 {
        crate::memory::release_freed();
    }
    let [quick, rest] = without_skipped([quick, rest], marks, &mut info)?;
    info.records = quick.height() + rest.height();
    if rest.height() == 0 {
        // The usual case for a system export: nothing for the careful path.
        let mut quick = quick;
        crate::frame::rows::one_chunk(&mut quick)?;
        return Ok((with_file(quick, &info.file)?, empty_rejects().lazy(), info));
    }

    let parsed: Vec<(String, values::Parsed)> = table.columns.iter().map(|c| (c.name.clone(), values::parse(c))).collect();
    let reason_name = |c: &str| format!("__reason.{c}");
    let mut exprs: Vec<Expr> = vec![col(LINE), col(FILE)];
    for (name, p) in &parsed {
        exprs.push(p.value.clone().alias(name.as_str()));
        exprs.push(p.reason.clone().alias(reason_name(name).as_str()));
        exprs.push(col(name.as_str()).alias(format!("__raw.{name}").as_str()));
    }
    let mut staged = rest.lazy();
    let depth = parsed.iter().map(|(_, p)| p.stages.len()).max().unwrap_or(0);
    for i in 0..depth {
        let batch: Vec<Expr> = parsed.iter().filter_map(|(_, p)| p.stages.get(i)).flatten().cloned().collect();
        staged = staged.with_columns(batch);
    }
    let checked = staged.select(exprs).collect()?;

    let all_ok = parsed.iter().map(|(n, _)| col(reason_name(n).as_str()).is_null()).reduce(|a, b| a.and(b)).unwrap_or(lit(true));
    let mut valid_columns: Vec<Expr> = parsed.iter().filter(|(n, _)| kept_column(n)).map(|(n, _)| col(n.as_str())).collect();
    valid_columns.push(col(LINE));
    let slow = checked.clone().lazy().filter(all_ok).select(valid_columns).collect()?;
    let valid = with_file(in_line_order(quick, slow)?, &info.file)?;

    let mut reject_parts = Vec::new();
    for (name, _) in &parsed {
        reject_parts.push(checked.clone().lazy().filter(col(reason_name(name).as_str()).is_not_null()).select([
            lit(table.name.as_str()).alias("来源"),
            col(FILE).alias("文件"),
            col(LINE).alias("行号"),
            lit(name.as_str()).alias("列"),
            col(format!("__raw.{name}").as_str()).fill_null(lit("")).alias("值"),
            col(reason_name(name).as_str()).alias("原因"),
        ]));
    }
    let rejects = if reject_parts.is_empty() { empty_rejects().lazy() } else { concat(reject_parts, UnionArgs::default())? };
    Ok((valid, rejects, info))
}

/// `df` with `FILE`, the file's name, as one value for every row: a text per row would take 16
/// bytes of each (640 MB over 40M members).
fn with_file(mut df: DataFrame, file: &str) -> Result<DataFrame> {
    let height = df.height();
    df.with_column(Column::new_scalar(FILE.into(), Scalar::from(PlSmallStr::from(file)), height))?;
    Ok(df)
}

/// The parts without their blank and 合计 lines, which are counted, then dropped. They are
/// told exactly (a second read of those lines) only where the cheap test marked some, and a
/// part is filtered only when it holds such lines.
fn without_skipped(parts: [DataFrame; 2], marks: LazyFrame, info: &mut FileInfo) -> Result<[DataFrame; 2]> {
    let maybe: Vec<BooleanChunked> = parts.iter().map(|p| Ok(p.column(read::MAYBE_SKIP)?.bool()?.clone())).collect::<Result<_>>()?;
    let marked: Vec<usize> = maybe.iter().map(|m| m.sum().unwrap_or(0) as usize).collect();
    if marked.iter().all(|n| *n == 0) {
        return Ok(parts.map(|mut p| {
            let _ = p.drop_in_place(read::MAYBE_SKIP);
            p
        }));
    }
    let mut candidates: Option<Series> = None;
    for (p, m) in parts.iter().zip(&maybe) {
        let lines = p.column(LINE)?.as_materialized_series().filter(m)?;
        candidates = Some(match candidates {
            None => lines,
            Some(mut all) => {
                all.append(&lines)?;
                all
            }
        });
    }
    let candidates = candidates.unwrap_or_else(|| Series::new_empty(LINE.into(), &DataType::Int64));
    let marks = stream(marks.filter(col(LINE).is_in(lit(candidates).implode(false), false)))?;
    let (blank, total) = (marks.column(read::BLANK)?.bool()?, marks.column(read::TOTAL)?.bool()?);
    info.skipped_blank += blank.sum().unwrap_or(0) as usize;
    info.skipped_total += total.sum().unwrap_or(0) as usize;
    let skipped = marks.column(LINE)?.as_materialized_series().filter(&(blank | total))?;
    let [a, b] = parts;
    let drop = |p: DataFrame, marked: usize| -> Result<DataFrame> {
        if marked == 0 || skipped.is_empty() {
            return Ok(p.drop(read::MAYBE_SKIP)?);
        }
        Ok(p.lazy().filter(col(LINE).is_in(lit(skipped.clone()).implode(false), false).not()).drop(cols([read::MAYBE_SKIP])).collect()?)
    };
    Ok([drop(a, marked[0])?, drop(b, marked[1])?])
}

/// `quick` and `slow`, each in line order, as one frame in line order. The slow rows are few:
/// each run of them goes between two slices of the quick rows (which share their buffers), and
/// the pieces become one chunk: the only copy of the file's rows (`split` leaves the quick ones
/// in the engine's chunks). Beyond `MAX_RUNS` runs, one gather instead.
fn in_line_order(quick: DataFrame, slow: DataFrame) -> Result<DataFrame> {
    if slow.height() == 0 || quick.height() == 0 {
        let mut only = if slow.height() == 0 { quick } else { slow };
        crate::frame::rows::one_chunk(&mut only)?;
        return Ok(only);
    }
    // Where each slow row goes: the count of quick rows on lines before it (quick's lines are
    // sorted: a binary search per slow row on them as one chunk).
    let quick_lines = quick.column(LINE)?.i64()?.rechunk().into_owned();
    let slow_lines = slow.column(LINE)?.i64()?.clone();
    let (q, s) = (quick_lines.cont_slice()?, slow_lines.rechunk());
    let s = s.cont_slice()?;
    let at: Vec<usize> = s.iter().map(|l| q.partition_point(|x| x < l)).collect();
    let runs = 1 + at.windows(2).filter(|w| w[0] != w[1]).count();
    if runs > MAX_RUNS {
        return interleaved(quick, slow, &at);
    }
    let mut out = quick.slice(0, at[0]);
    let (mut from_quick, mut from_slow) = (at[0], 0);
    while from_slow < at.len() {
        let run = at[from_slow..].iter().take_while(|p| **p == at[from_slow]).count();
        out.vstack_mut_owned(slow.slice(from_slow as i64, run))?;
        from_slow += run;
        let next = at.get(from_slow).copied().unwrap_or(quick.height());
        out.vstack_mut_owned(quick.slice(from_quick as i64, next - from_quick))?;
        from_quick = next;
    }
    // `out`'s slices are then the only holders of the two parts' buffers: each column's are
    // freed as its copy is made (a few columns at a time), not held whole until the end.
    drop((quick, slow));
    crate::frame::rows::one_chunk(&mut out)?;
    Ok(out)
}

/// `quick` and `slow` as one frame where slow row `j` follows the first `at[j]` quick rows: one
/// gather from the two stacked (a sort by line would compare every row).
fn interleaved(quick: DataFrame, slow: DataFrame, at: &[usize]) -> Result<DataFrame> {
    let (q, s) = (quick.height(), slow.height());
    let mut order: Vec<IdxSize> = Vec::with_capacity(q + s);
    let mut next_quick = 0;
    for (j, &before) in at.iter().enumerate() {
        order.extend(next_quick as IdxSize..before as IdxSize);
        next_quick = before;
        order.push((q + j) as IdxSize);
    }
    order.extend(next_quick as IdxSize..q as IdxSize);
    let mut both = quick;
    both.vstack_mut_owned(slow)?;
    let order = IdxCa::from_vec(PlSmallStr::EMPTY, order);
    let mut out = both.take(&order)?;
    out.rechunk_mut_par();
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Rows numbered by line, with a payload column that says which part a row came from.
    fn part(lines: &[i64], from: &str) -> DataFrame {
        let tags: Vec<String> = lines.iter().map(|l| format!("{from}{l}")).collect();
        df!(LINE => lines, "v" => tags).unwrap()
    }

    #[test]
    fn careful_rows_go_back_between_the_fast_ones_in_line_order() {
        // A few runs (slices) and more runs than MAX_RUNS (one gather): lines 2..=n, every
        // third line careful, and the careful rows at the start and at the end too.
        for n in [40i64, 4 * MAX_RUNS as i64] {
            let careful = |l: &i64| l % 3 == 2 || *l == n;
            let slow_lines: Vec<i64> = (2..=n).filter(careful).collect();
            let quick_lines: Vec<i64> = (2..=n).filter(|l| !careful(l)).collect();
            let out = in_line_order(part(&quick_lines, "q"), part(&slow_lines, "s")).unwrap();
            let lines: Vec<i64> = out.column(LINE).unwrap().i64().unwrap().into_no_null_iter().collect();
            assert_eq!(lines, (2..=n).collect::<Vec<_>>(), "n = {n}");
            let tags = out.column("v").unwrap().str().unwrap();
            for (i, l) in lines.iter().enumerate() {
                let from = if careful(l) { "s" } else { "q" };
                assert_eq!(tags.get(i), Some(format!("{from}{l}").as_str()));
            }
            assert_eq!(out.first_col_n_chunks(), 1);
        }
    }
}
