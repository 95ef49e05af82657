//! The income window of `[meta]` and the windows of the sources: fixed dates, the N months
//! ending on the determination date, the N full calendar months before its month, or the
//! calendar year to date. None of them has to be rewritten when the year changes.

use super::Checker;
use crate::rules::fold::add_months;
use crate::rules::plan::{Meta, Table, Window};
use crate::rules::raw::{RawMeta, RawOwnWindow, RawSourceWindow, RawWindow, S};
use chrono::{Datelike, NaiveDate};

const WINDOW_SHAPES: &str = "window is { start = …, end = … }, { months = 12 } (the months ending on the determination date) or { months = 12, full_months = true } (the full calendar months before the determination date's month)";

/// The N months ending on `as_of` (12 months to 2021-05-31 start on 2020-06-01), or with
/// `full`, the N full calendar months before `as_of`'s month (12 before 2024-07-15:
/// 2023-07-01 … 2024-06-30).
pub fn months_window(as_of: NaiveDate, months: i64, full: bool) -> Option<(NaiveDate, NaiveDate)> {
    if !(1..=120).contains(&months) {
        return None;
    }
    let end = if full { as_of.with_day(1)?.pred_opt()? } else { as_of };
    let start = if full { add_months(end.with_day(1)?, 1 - months)? } else { add_months(as_of, -months)?.succ_opt()? };
    Some((start, end))
}

fn toml_date(d: &toml::value::Datetime) -> Option<NaiveDate> {
    match (d.date, d.time, d.offset) {
        (Some(x), None, None) => NaiveDate::from_ymd_opt(x.year.into(), x.month.into(), x.day.into()),
        _ => None,
    }
}

impl Checker<'_> {
    pub(super) fn meta(&mut self, m: &RawMeta, as_of_override: Option<NaiveDate>) {
        let declared = self.date(&m.determination_date);
        let Some(as_of) = as_of_override.or(declared) else { return };
        let window = self.income_window(&m.window, as_of);
        if let (Some(d), Some(_)) = (declared, as_of_override) {
            if window.is_some_and(|(_, end)| m.window.get_ref().start.is_some() && end > as_of) {
                self.warnings.push(format!(
                    "the income window is fixed in the rules and ends after the determination date {as_of} (--as-of; the rules say {d}): records dated after {as_of} still count. Use window = {{ months = 12 }} to follow --as-of"
                ));
            }
        }
        // With a bad window the plan fails anyway (the error is listed); the determination date
        // still stands, so parameters and the built-in names are checked, not reported unknown.
        let (window_start, window_end) = window.unwrap_or((as_of, as_of));
        self.meta = Some(Meta { name: m.name.clone(), region: m.region.clone(), version: m.version.clone(), as_of, window_start, window_end });
    }

    fn income_window(&mut self, w: &S<RawWindow>, as_of: NaiveDate) -> Option<(NaiveDate, NaiveDate)> {
        let raw = w.get_ref();
        match (&raw.start, &raw.end, &raw.months) {
            (Some(s), Some(e), None) if !raw.full_months => {
                let (a, b) = (self.date(s)?, self.date(e)?);
                if a > b {
                    self.err_at(s, format!("the income window starts ({a}) after it ends ({b})"));
                    return None;
                }
                Some((a, b))
            }
            (None, None, Some(n)) => {
                let window = months_window(as_of, *n.get_ref(), raw.full_months);
                if window.is_none() {
                    self.err_at(n, "months is a whole number of months from 1 to 120");
                }
                window
            }
            _ => {
                self.err_at(w, WINDOW_SHAPES);
                None
            }
        }
    }

    /// A source's window: its date column and the dates its records must fall in.
    pub(super) fn source_window(&mut self, table: &Table, w: &S<RawSourceWindow>) -> Option<Window> {
        let meta = self.meta.clone()?;
        let (column, range) = match w.get_ref() {
            RawSourceWindow::Income(column) => (column.clone(), Some((meta.window_start, meta.window_end))),
            RawSourceWindow::Own(own) => (own.column.clone(), self.own_window(own, meta.as_of, w)),
        };
        let spanned = toml::Spanned::new(w.span(), column.clone());
        self.require_column(table, &spanned, Some(&crate::rules::plan::ColType::Date), "the window column");
        let (start, end) = range?;
        Some(Window { column, start, end })
    }

    fn own_window<T>(&mut self, own: &RawOwnWindow, as_of: NaiveDate, at: &S<T>) -> Option<(NaiveDate, NaiveDate)> {
        let shapes = "a source's window is \"日期列\" (the income window), { column, months = N [, full_months = true] }, { column, year_to_date = true } or { column, start = …, end = … }";
        let range = match (&own.start, &own.end, own.months, own.year_to_date) {
            (Some(s), Some(e), None, false) if !own.full_months => match (toml_date(s), toml_date(e)) {
                (Some(a), Some(b)) if a <= b => Some((a, b)),
                _ => {
                    self.err_at(at, "start and end are dates, start no later than end (2021-01-01, no time of day)");
                    return None;
                }
            },
            (None, None, Some(n), false) => {
                let w = months_window(as_of, n, own.full_months);
                if w.is_none() {
                    self.err_at(at, "months is a whole number of months from 1 to 120");
                }
                return w;
            }
            (None, None, None, true) if !own.full_months => Some((as_of.with_ordinal(1)?, as_of)),
            _ => None,
        };
        if range.is_none() {
            self.err_at(at, shapes);
        }
        range
    }
}

#[cfg(test)]
mod tests {
    use super::months_window;
    use chrono::NaiveDate;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn twelve_full_months_before_the_screening_month() {
        // --as-of 2024-07-15 → 2023-07-01 … 2024-06-30 (issue 14)
        assert_eq!(months_window(d("2024-07-15"), 12, true), Some((d("2023-07-01"), d("2024-06-30"))));
        // on the first of a month, that month is still not counted: 2024-03-01 → 2023-03-01 … 2024-02-29
        assert_eq!(months_window(d("2024-03-01"), 12, true), Some((d("2023-03-01"), d("2024-02-29"))));
        // 12 months ending on 2021-05-31 start on 2020-06-01
        assert_eq!(months_window(d("2021-05-31"), 12, false), Some((d("2020-06-01"), d("2021-05-31"))));
        assert_eq!(months_window(d("2021-05-31"), 0, false), None);
    }
}
