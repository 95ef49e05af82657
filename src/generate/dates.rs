//! Civil dates as day numbers (days since 1970-01-01), proleptic Gregorian.

/// Days since 1970-01-01 of y-m-d (H. Hinnant's algorithm).
pub const fn days(y: i32, m: u32, d: u32) -> i32 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let mp = if m > 2 { m - 3 } else { m + 9 } as i32;
    let doy = (153 * mp + 2) / 5 + d as i32 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146097 + doe - 719468
}

/// y, m, d of a day number.
pub const fn civil(z: i32) -> (i32, u32, u32) {
    let z = z + 719468;
    let era = if z >= 0 { z } else { z - 146096 } / 146097;
    let doe = z - era * 146097;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// YYYY-MM-DD into `out`.
pub fn write_iso(z: i32, out: &mut Vec<u8>) {
    let (y, m, d) = civil(z);
    let y = y as u32;
    out.extend_from_slice(&[
        b'0' + (y / 1000 % 10) as u8,
        b'0' + (y / 100 % 10) as u8,
        b'0' + (y / 10 % 10) as u8,
        b'0' + (y % 10) as u8,
        b'-',
        b'0' + (m / 10) as u8,
        b'0' + (m % 10) as u8,
        b'-',
        b'0' + (d / 10) as u8,
        b'0' + (d % 10) as u8,
    ]);
}

/// YYYYMMDD into an 8-byte slice (for ID numbers).
pub fn write_compact(z: i32, out: &mut [u8]) {
    let (y, m, d) = civil(z);
    let y = y as u32;
    let digits = [y / 1000 % 10, y / 100 % 10, y / 10 % 10, y % 10, m / 10, m % 10, d / 10, d % 10];
    for (o, v) in out.iter_mut().zip(digits) {
        *o = b'0' + v as u8;
    }
}

/// The determination date of the reference policy and the income window.
pub const DETERMINATION: i32 = days(2021, 5, 31);
pub const WINDOW_START: i32 = days(2020, 6, 1);
pub const WINDOW_END: i32 = DETERMINATION;
