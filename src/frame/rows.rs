//! Dropping a few marked rows from a large frame without copying it whole while the original
//! is alive: the kept stretches are slices that share the frame's buffers, and the result is
//! made one chunk column by column (each old column freed as its copy is made). A filter would
//! hold the whole frame twice at once; at province scale that is gigabytes for a handful of
//! rejected rows.

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
        return Ok(df.lazy().filter(col(mark).fill_null(lit(false)).not()).drop(cols([mark])).collect()?);
    }
    // Where the marked rows are: one filter over the mark column (the positions are few).
    let at = df.clone().lazy().select([col(mark).fill_null(lit(false))]).with_row_index("__at", None).filter(col(mark)).select([col("__at")]).collect()?;
    let at = at.column("__at")?.idx()?.rechunk();
    let df = df.drop(mark)?;
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
    out.rechunk_mut_par();
    Ok(out)
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
    fn many_marks_every_mark_and_no_mark() {
        let n = 3 * MAX_STRETCHES as i64;
        let out = drop_marked(frame(n, |i| Some(i % 2 == 1)), "__m").unwrap();
        assert_eq!(values(&out), (0..n).step_by(2).collect::<Vec<_>>());
        assert_eq!(drop_marked(frame(10, |_| Some(true)), "__m").unwrap().height(), 0);
        assert_eq!(values(&drop_marked(frame(10, |_| Some(false)), "__m").unwrap()), (0..10).collect::<Vec<_>>());
    }
}
