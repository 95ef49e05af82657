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
}

impl CsvOut {
    pub fn create(dir: &Path, name: &'static str, header: &str, bom: bool, crlf: bool) -> Result<CsvOut> {
        let path = dir.join(name);
        let f = File::create(&path).with_context(|| format!("creating {}", path.display()))?;
        let mut w = BufWriter::with_capacity(1 << 20, f);
        if bom {
            w.write_all(b"\xEF\xBB\xBF")?;
        }
        w.write_all(header.as_bytes())?;
        w.write_all(if crlf { b"\r\n" } else { b"\n" })?;
        Ok(CsvOut { name, w, line: Vec::with_capacity(512), rows: 0, crlf, fresh: true })
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

    /// A text field made of several pieces (a name: surname + given name).
    #[inline]
    pub fn concat(&mut self, parts: &[&str]) -> &mut Self {
        self.sep();
        let start = self.line.len();
        for p in parts {
            self.line.extend_from_slice(p.as_bytes());
        }
        if needs_quotes(&self.line[start..]) {
            let piece = self.line.split_off(start);
            push_text(&mut self.line, &piece);
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
        for &c in b {
            if c == b'"' {
                line.push(b'"');
            }
            line.push(c);
        }
        line.push(b'"');
    } else {
        line.extend_from_slice(b);
    }
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
