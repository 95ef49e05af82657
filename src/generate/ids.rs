//! GB 11643-1999 citizen ID numbers, allocated from counters so that every
//! number in a data set is unique by construction.

use super::dates;

/// Guizhou county-level division codes (黔东南 5226, 黔南 5227 first).
/// A data set's counties take their 户编号 prefix from this list in order.
pub const DIVISION_CODES: [&str; 88] = [
    "522601", "522622", "522623", "522624", "522625", "522626", "522627", "522628", "522629", "522630", "522631", "522632", "522633", "522634", "522635",
    "522636", "522701", "522702", "522722", "522723", "522725", "522726", "522727", "522728", "522729", "522730", "522731", "522732", "520102", "520103",
    "520111", "520112", "520113", "520115", "520121", "520122", "520123", "520181", "520201", "520203", "520204", "520281", "520302", "520303", "520304",
    "520322", "520323", "520324", "520325", "520326", "520327", "520328", "520329", "520330", "520381", "520382", "520402", "520403", "520422", "520423",
    "520424", "520425", "520502", "520521", "520522", "520523", "520524", "520525", "520526", "520527", "520602", "520603", "520621", "520622", "520623",
    "520624", "520625", "520626", "520627", "520628", "522301", "522302", "522323", "522324", "522325", "522326", "522327", "522328",
];

/// ISO 7064 MOD 11-2 check character of the first 17 digits.
pub use crate::sources::id::check_character as check_char;

#[cfg(test)]
/// True when `id` is 18 characters, 17 digits and the right check character.
pub fn is_valid(id: &[u8]) -> bool {
    id.len() == 18 && id[..17].iter().all(u8::is_ascii_digit) && check_char(&id[..17]) == id[17]
}

/// The legacy 15-digit form of an 18-digit ID of someone born in 19xx:
/// code + YYMMDD + sequence, no check character.
pub fn legacy15(id: &[u8; 18]) -> [u8; 15] {
    let mut out = [0u8; 15];
    out[..6].copy_from_slice(&id[..6]);
    out[6..15].copy_from_slice(&id[8..17]);
    out
}

pub const BIRTH_BASE: i32 = dates::days(1920, 1, 1);
const BIRTH_DAYS: usize = (dates::DETERMINATION - BIRTH_BASE + 1) as usize;

/// One counter per (division code, birth date, sex): the next free sequence.
/// 88 × ~37,000 days × 2 × u16 ≈ 13 MB whatever the data set's size.
pub struct IdAlloc {
    used: Vec<u16>,
}

impl IdAlloc {
    pub fn new() -> IdAlloc {
        IdAlloc { used: vec![0; DIVISION_CODES.len() * BIRTH_DAYS * 2] }
    }

    /// A fresh valid ID for a person born on `birth` (day number). Returns the ID
    /// and the birth date it encodes (moved on by a day in the never-seen case
    /// that 500 people of one sex share the code and date).
    pub fn alloc(&mut self, code: usize, birth: i32, male: bool) -> ([u8; 18], i32) {
        let mut day = (birth - BIRTH_BASE).clamp(0, BIRTH_DAYS as i32 - 1) as usize;
        loop {
            let slot = (code * BIRTH_DAYS + day) * 2 + male as usize;
            let k = self.used[slot];
            // male: 001, 003 … 999 (500); female: 002, 004 … 998 (499)
            let limit = if male { 500 } else { 499 };
            if k < limit {
                self.used[slot] = k + 1;
                let seq = if male { 2 * k as u32 + 1 } else { 2 * k as u32 + 2 };
                let mut id = [0u8; 18];
                id[..6].copy_from_slice(DIVISION_CODES[code].as_bytes());
                let z = BIRTH_BASE + day as i32;
                dates::write_compact(z, &mut id[6..14]);
                id[14] = b'0' + (seq / 100) as u8;
                id[15] = b'0' + (seq / 10 % 10) as u8;
                id[16] = b'0' + (seq % 10) as u8;
                id[17] = check_char(&id[..17]);
                return (id, z);
            }
            day = (day + 1) % BIRTH_DAYS;
        }
    }
}
