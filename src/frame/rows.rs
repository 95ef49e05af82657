//! Copying large frames without holding them twice. Dropping a few marked rows: the kept
//! stretches are slices that share the frame's buffers, and the result is made one chunk a
//! few columns at a time (`one_chunk`), each old column freed as its copy is made, and the
//! freed pages given back between batches. A filter of the whole frame would hold it twice at
//! once; at province scale that is gigabytes for a handful of rejected rows.

use anyhow::Result;
use polars::prelude::*;

/// More stretches than this (rows dropped here and there all over the frame): one filter.
const MAX_STRETCHES: usize = 8192;

/// `df` without the rows whose boolean column `mark` is true, and without `mark`. Row order is
/// kept; a null mark keeps the row.
pub fn drop_marked(df: DataFrame, mark: &str) -> Result<DataFrame> {
    let dropped = df.column(mark)?.as_materialized_series().bool()?.sum().unwrap_or(0) as usize;
    if dropped == 0 {
        return Ok(df.drop(mark)?);
    }
    if dropped > MAX_STRETCHES {
        return filtered(df, mark);
    }
    // Where the marked rows are: one filter over the mark column (the positions are few).
    let at = df.clone().lazy().select([col(mark).fill_null(lit(false))]).with_row_index("__at", None).filter(col(mark)).select([col("__at")]).collect()?;
    let at = at.column("__at")?.idx()?.rechunk();
    // In place: a frame without the mark beside `df` would keep every column alive until the
    // end, through the copy below.
    let mut df = df;
    df.drop_in_place(mark)?;
    let mut out: Option<DataFrame> = None;
    let mut from = 0usize;
    let push = |from: usize, to: usize, out: &mut Option<DataFrame>| -> Result<()> {
        if to > from {
            let part = df.slice(from as i64, to - from);
            match out {
                Some(o) => {
                    o.vstack_mut_owned(part)?;
                }
                None => *out = Some(part),
            }
        }
        Ok(())
    };
    for &i in at.cont_slice()? {
        push(from, i as usize, &mut out)?;
        from = i as usize + 1;
    }
    push(from, df.height(), &mut out)?;
    let mut out = out.unwrap_or_else(|| df.clear());
    drop(df);
    one_chunk(&mut out)?;
    Ok(out)
}

/// `df` without the rows marked, filtered a few columns at a time, each old column dropped as
/// its copy is made (a filter of the whole frame held it twice: 2.7 GB more at 12M households).
fn filtered(df: DataFrame, mark: &str) -> Result<DataFrame> {
    let keep = !&df.column(mark)?.as_materialized_series().bool()?.fill_null_with_values(false)?;
    let mut df = df;
    df.drop_in_place(mark)?;
    let height = keep.sum().unwrap_or(0) as usize;
    Ok(by_batches(df, height, RELEASE_EVERY, |part| part.filter(&keep))?)
}

/// Bytes of columns copied at once (in parallel) by `by_batches`, between two releases of the
/// pages freed: at most about this much freed memory stays resident beside the copy. (A
/// release walks the whole heap, 10–100 ms at 1M and 3M households: not one per column.)
const RELEASE_EVERY: usize = 256 << 20;

/// `df` made one chunk per column, a few columns at a time, the pages of their old chunks given
/// back (`memory::release_freed`) before the next are copied: the frame is never held twice.
/// (Copied all at once, the freed chunks, each too small for glibc to return on its own,
/// stayed resident beside the whole copy.)
pub fn one_chunk(df: &mut DataFrame) -> Result<()> {
    if df.columns().iter().all(|c| c.n_chunks() <= 1) {
        return Ok(());
    }
    let height = df.height();
    *df = by_batches(std::mem::take(df), height, RELEASE_EVERY, |mut part| Ok(std::mem::take(part.rechunk_mut_par())))?;
    Ok(())
}

/// `df` with `copy` applied to batches of its columns of about `budget` bytes (each batch a
/// frame, copied in parallel by polars), each batch's old columns dropped and their pages
/// given back before the next; the result has `height` rows.
fn by_batches(df: DataFrame, height: usize, budget: usize, copy: impl Fn(DataFrame) -> PolarsResult<DataFrame>) -> PolarsResult<DataFrame> {
    let old_height = df.height();
    let mut done = Vec::with_capacity(df.width());
    let mut batch = Vec::new();
    let mut bytes = 0;
    let mut columns = df.into_columns().into_iter().peekable();
    while let Some(c) = columns.next() {
        bytes += c.as_series().map_or(0, Series::estimated_size);
        batch.push(c);
        let full = bytes >= budget;
        if full || columns.peek().is_none() {
            let part = DataFrame::new(old_height, std::mem::take(&mut batch))?;
            done.extend(copy(part)?.into_columns());
            if full {
                crate::memory::release_freed();
            }
            bytes = 0;
        }
    }
    DataFrame::new(height, done)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(n: i64, marked: impl Fn(i64) -> Option<bool>) -> DataFrame {
        let v: Vec<i64> = (0..n).collect();
        let m: Vec<Option<bool>> = (0..n).map(marked).collect();
        df!("v" => v, "__m" => m).unwrap()
    }

    fn values(df: &DataFrame) -> Vec<i64> {
        let v = df.column("v").unwrap().i64().unwrap();
        (0..df.height()).map(|i| v.get(i).unwrap()).collect()
    }

    #[test]
    fn marked_rows_go_and_the_rest_keep_their_order() {
        // First, last, adjacent and lone marks; a null mark keeps its row.
        let marked = [0i64, 5, 6, 99];
        let out = drop_marked(frame(100, |i| if i == 50 { None } else { Some(marked.contains(&i)) }), "__m").unwrap();
        let want: Vec<i64> = (0..100).filter(|i| !marked.contains(i)).collect();
        assert_eq!(values(&out), want);
        assert_eq!(out.get_column_names(), ["v"]);
        assert_eq!(out.first_col_n_chunks(), 1);
    }

    #[test]
    fn columns_copied_a_batch_at_a_time_keep_their_values_and_order() {
        // Three columns in three chunks each; a budget of one byte makes each column a batch.
        let part = |from: i64| df!("v" => [from, from + 1], "w" => [from * 10, from * 10 + 1], "s" => [format!("a{from}"), format!("b{from}")]).unwrap();
        let mut chunked = part(0);
        chunked.vstack_mut_owned(part(2)).unwrap();
        chunked.vstack_mut_owned(part(4)).unwrap();
        assert_eq!(chunked.first_col_n_chunks(), 3);
        let out = by_batches(chunked.clone(), 6, 1, |mut p| Ok(std::mem::take(p.rechunk_mut_par()))).unwrap();
        assert_eq!(out.get_column_names(), ["v", "w", "s"]);
        assert_eq!(values(&out), (0..6).collect::<Vec<_>>());
        let s: Vec<Option<&str>> = out.column("s").unwrap().str().unwrap().iter().collect();
        assert_eq!(s, ["a0", "b0", "a2", "b2", "a4", "b4"].map(Some));
        assert!(out.columns().iter().all(|c| c.n_chunks() == 1));
        // One batch of all three, and a filter that changes the height.
        let keep = BooleanChunked::new("k".into(), [true, false, false, true, true, false]);
        let kept = by_batches(chunked, 3, usize::MAX, |p| p.filter(&keep)).unwrap();
        assert_eq!(values(&kept), [0, 3, 4]);
    }

    #[test]
    fn many_marks_every_mark_and_no_mark() {
        let n = 3 * MAX_STRETCHES as i64;
        let out = drop_marked(frame(n, |i| Some(i % 2 == 1)), "__m").unwrap();
        assert_eq!(values(&out), (0..n).step_by(2).collect::<Vec<_>>());
        assert_eq!(drop_marked(frame(10, |_| Some(true)), "__m").unwrap().height(), 0);
        assert_eq!(values(&drop_marked(frame(10, |_| Some(false)), "__m").unwrap()), (0..10).collect::<Vec<_>>());
    }
}
