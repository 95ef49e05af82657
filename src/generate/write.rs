//! A minimal streaming CSV writer: one line buffer, RFC 4180 quoting only
//! where a field needs it, integer-fen money, ISO dates.

use anyhow::{Context, Result};
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;

use super::dates;

pub struct CsvOut {
    name: &'static str,
    w: BufWriter<File>,
    line: Vec<u8>,
    rows: u64,
    crlf: bool,
    fresh: bool,
    /// Messy data: the noise of real exports on top of the planted rows (`noise`).
    noise: Option<Noise>,
}

/// The background noise of a messy data set, at the rates of real exports (more than the
/// ~0.05 % of IDs measured on a county's files): one ID in `NOISE_EVERY` written with white
/// space or full-width digits (each still the same person after normalization), and one
/// quoted name per file (data row `QUOTED_ROW`). The first `NOISE_FROM` data rows of a file are
/// left as they are, so that the planted rows (`mod.rs`) keep their documented form on small
/// sets. Which rows are noised depends on the file and the row only (not on the seed's
/// stream): the clean twin of a messy set is the same data.
#[derive(Clone, Copy)]
struct Noise {
    salt: u64,
}

pub const NOISE_EVERY: u64 = 1000;
pub const NOISE_FROM: u64 = 1000;
pub const QUOTED_ROW: u64 = 10;

impl CsvOut {
    pub fn create(dir: &Path, name: &'static str, header: &str, bom: bool, crlf: bool, noisy: bool) -> Result<CsvOut> {
        let path = dir.join(name);
        let f = File::create(&path).with_context(|| format!("creating {}", path.display()))?;
        let mut w = BufWriter::with_capacity(1 << 20, f);
        if bom {
            w.write_all(b"\xEF\xBB\xBF")?;
        }
        w.write_all(header.as_bytes())?;
        w.write_all(if crlf { b"\r\n" } else { b"\n" })?;
        let noise = noisy.then(|| Noise { salt: name.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| (h ^ b as u64).wrapping_mul(0x100_0000_01b3)) });
        Ok(CsvOut { name, w, line: Vec::with_capacity(512), rows: 0, crlf, fresh: true, noise })
    }

    #[inline]
    fn sep(&mut self) {
        if !self.fresh {
            self.line.push(b',');
        }
        self.fresh = false;
    }

    /// A text field, quoted when it holds a comma, quote or line break.
    #[inline]
    pub fn text(&mut self, s: &str) -> &mut Self {
        self.sep();
        push_text(&mut self.line, s.as_bytes());
        self
    }

    /// A field given as bytes (an ID number, possibly deliberately malformed).
    #[inline]
    pub fn bytes(&mut self, b: &[u8]) -> &mut Self {
        self.sep();
        push_text(&mut self.line, b);
        self
    }

    /// A citizen ID. With noise, one canonical ID in `NOISE_EVERY` is written in one of the
    /// forms an export gives it: spaces around or inside, U+3000 after, full-width digits.
    #[inline]
    pub fn id(&mut self, id: &[u8]) -> &mut Self {
        let pick = match self.noise {
            Some(n) if self.rows >= NOISE_FROM && canonical_id(id) => mix(n.salt ^ self.rows),
            _ => 1,
        };
        if pick % NOISE_EVERY != 0 {
            return self.bytes(id);
        }
        self.sep();
        match (pick / NOISE_EVERY) % 4 {
            0 => {
                self.line.push(b' ');
                self.line.extend_from_slice(id);
                self.line.extend_from_slice(b"  ");
            }
            1 => {
                self.line.extend_from_slice(&id[..6]);
                self.line.push(b' ');
                self.line.extend_from_slice(&id[6..]);
            }
            2 => {
                self.line.extend_from_slice(id);
                self.line.extend_from_slice("\u{3000}".as_bytes());
            }
            _ => {
                for &c in id {
                    // Full-width forms of 0-9 and X are U+FF10.. and U+FF38.
                    let wide = if c.is_ascii_digit() { char::from_u32(0xFF10 + u32::from(c - b'0')).unwrap_or('０') } else { 'Ｘ' };
                    let mut buf = [0u8; 4];
                    self.line.extend_from_slice(wide.encode_utf8(&mut buf).as_bytes());
                }
            }
        }
        self
    }

    /// A text field made of several pieces (a name: surname + given name). With noise, the
    /// name of data row `QUOTED_ROW` is quoted although it need not be.
    #[inline]
    pub fn concat(&mut self, parts: &[&str]) -> &mut Self {
        self.sep();
        let start = self.line.len();
        for p in parts {
            self.line.extend_from_slice(p.as_bytes());
        }
        let quoted = self.noise.is_some() && self.rows == QUOTED_ROW;
        if quoted || needs_quotes(&self.line[start..]) {
            let piece = self.line.split_off(start);
            self.line.push(b'"');
            push_escaped(&mut self.line, &piece);
            self.line.push(b'"');
        }
        self
    }

    /// Raw bytes, written as they are (caller guarantees no quoting needed).
    #[inline]
    pub fn raw(&mut self, b: &[u8]) -> &mut Self {
        self.sep();
        self.line.extend_from_slice(b);
        self
    }

    /// Money in fen written as yuan with two decimals: 1234567 → 12345.67.
    #[inline]
    pub fn money(&mut self, fen: i64) -> &mut Self {
        self.sep();
        if fen < 0 {
            self.line.push(b'-');
        }
        let a = fen.unsigned_abs();
        push_uint(&mut self.line, a / 100);
        let c = (a % 100) as u8;
        self.line.extend_from_slice(&[b'.', b'0' + c / 10, b'0' + c % 10]);
        self
    }

    #[inline]
    pub fn date(&mut self, day: i32) -> &mut Self {
        self.sep();
        dates::write_iso(day, &mut self.line);
        self
    }

    #[inline]
    pub fn int(&mut self, v: u64) -> &mut Self {
        self.sep();
        push_uint(&mut self.line, v);
        self
    }

    /// Ends the row and hands it to the buffered writer.
    #[inline]
    pub fn end(&mut self) -> Result<()> {
        self.line.extend_from_slice(if self.crlf { b"\r\n" } else { b"\n" });
        self.w.write_all(&self.line)?;
        self.line.clear();
        self.fresh = true;
        self.rows += 1;
        Ok(())
    }

    pub fn finish(mut self) -> Result<(String, u64)> {
        self.w.flush().with_context(|| format!("writing {}", self.name))?;
        Ok((self.name.to_string(), self.rows))
    }
}

#[inline]
fn needs_quotes(b: &[u8]) -> bool {
    b.iter().any(|&c| c == b',' || c == b'"' || c == b'\n' || c == b'\r')
}

fn push_text(line: &mut Vec<u8>, b: &[u8]) {
    if needs_quotes(b) {
        line.push(b'"');
        push_escaped(line, b);
        line.push(b'"');
    } else {
        line.extend_from_slice(b);
    }
}

fn push_escaped(line: &mut Vec<u8>, b: &[u8]) {
    for &c in b {
        if c == b'"' {
            line.push(b'"');
        }
        line.push(c);
    }
}

/// 18 characters: 17 ASCII digits and a digit or X.
fn canonical_id(id: &[u8]) -> bool {
    id.len() == 18 && id[..17].iter().all(u8::is_ascii_digit) && (id[17].is_ascii_digit() || id[17] == b'X')
}

/// splitmix64's finalizer: a well-mixed hash of a row's number.
fn mix(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

#[inline]
pub fn push_uint(line: &mut Vec<u8>, mut v: u64) {
    let mut buf = [0u8; 20];
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    line.extend_from_slice(&buf[i..]);
}
