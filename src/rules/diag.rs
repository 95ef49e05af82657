//! Errors in a rules file, each at a byte offset of the file, rendered as `file:line:col`
//! with the offending line and a caret under the spot.

use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// Byte offset in the rules file.
    pub offset: usize,
    /// Length in bytes of the offending text (at least 1 for the caret).
    pub len: usize,
    pub message: String,
}

/// All the errors found in one rules file.
#[derive(Debug, Clone)]
pub struct Diagnostics {
    pub file: String,
    pub source: String,
    pub items: Vec<Diagnostic>,
}

/// 1-based line and column (in characters) of a byte offset.
pub fn line_col(source: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(source.len());
    let before = &source[..floor_char_boundary(source, offset)];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let col = before[line_start..].chars().count() + 1;
    (line, col)
}

fn floor_char_boundary(s: &str, mut i: usize) -> usize {
    while i > 0 && !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

impl Diagnostics {
    /// (line, column, message) of each error, for tests.
    #[cfg(test)]
    pub fn positions(&self) -> Vec<(usize, usize, &str)> {
        self.items
            .iter()
            .map(|d| {
                let (l, c) = line_col(&self.source, d.offset);
                (l, c, d.message.as_str())
            })
            .collect()
    }
}

/// Characters shown before and after the spot of an error on a long line.
const WINDOW_BEFORE: usize = 60;
const WINDOW_AFTER: usize = 100;

impl fmt::Display for Diagnostics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (n, d) in self.items.iter().enumerate() {
            if n > 0 {
                writeln!(f)?;
            }
            let (line, col) = line_col(&self.source, d.offset);
            writeln!(f, "{}:{}:{}: {}", self.file, line, col, d.message)?;
            if let Some(text) = self.source.lines().nth(line - 1) {
                let gutter = line.to_string();
                // A long line is shown as a window around the spot (a condition of thousands of
                // terms would otherwise fill the terminal).
                let chars: Vec<char> = text.chars().collect();
                let from = (col - 1).saturating_sub(WINDOW_BEFORE);
                let to = chars.len().min(col - 1 + WINDOW_AFTER);
                let shown: String = chars[from..to].iter().collect();
                let (open, close) = (if from > 0 { "…" } else { "" }, if to < chars.len() { "…" } else { "" });
                writeln!(f, "{gutter} | {open}{shown}{close}")?;
                let start = floor_char_boundary(&self.source, d.offset.min(self.source.len()));
                let end = floor_char_boundary(&self.source, (d.offset + d.len.max(1)).min(self.source.len()));
                let underline = self.source[start..end].chars().take_while(|c| *c != '\n').take(to.saturating_sub(col - 1)).map(display_width).sum::<usize>();
                let lead: String = std::iter::repeat_n(' ', open.chars().count())
                    .map(String::from)
                    .chain(chars[from..(col - 1).min(chars.len())].iter().map(|c| if *c == '\t' { "\t".to_string() } else { " ".repeat(display_width(*c)) }))
                    .collect();
                writeln!(f, "{} | {}{}", " ".repeat(gutter.len()), lead, "^".repeat(underline.max(1)))?;
            }
        }
        write!(f, "{} error{} in {}", self.items.len(), if self.items.len() == 1 { "" } else { "s" }, self.file)
    }
}

impl std::error::Error for Diagnostics {}

/// Terminal columns of a character: East Asian wide and fullwidth characters (CJK, fullwidth
/// punctuation) take two; narrow ones (`·`, `…`, Latin, Cyrillic) one; a control or combining
/// character still gets one, so that every character of the span is under a caret.
fn display_width(c: char) -> usize {
    unicode_width::UnicodeWidthChar::width(c).unwrap_or(1).max(1)
}

/// Levenshtein distance over characters, for "did you mean" hints.
pub fn closest<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let a: Vec<char> = name.chars().collect();
    let mut best: Option<(usize, &str)> = None;
    for c in candidates {
        let b: Vec<char> = c.chars().collect();
        let mut prev: Vec<usize> = (0..=b.len()).collect();
        for (i, ca) in a.iter().enumerate() {
            let mut cur = vec![i + 1];
            for (j, cb) in b.iter().enumerate() {
                let cost = usize::from(ca != cb);
                cur.push((prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1));
            }
            prev = cur;
        }
        let d = prev[b.len()];
        let limit = (a.len().max(b.len()) / 2).max(1);
        if d <= limit && best.is_none_or(|(bd, _)| d < bd) {
            best = Some((d, c));
        }
    }
    best.map(|(_, c)| c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_and_column_count_characters_not_bytes() {
        let src = "a = 1\n名称 = \"x\"\n";
        assert_eq!(line_col(src, 0), (1, 1));
        // '=' on line 2 comes after two 3-byte characters and a space
        let eq = src.find(" = \"x").unwrap() + 1;
        assert_eq!(line_col(src, eq), (2, 4));
    }

    #[test]
    fn the_caret_sits_under_the_spot_after_narrow_and_wide_characters() {
        // `·` and `…` are one column wide, 名 and ， two: the caret goes under `x`.
        let src = "a = \"·…名，x\"\n";
        let offset = src.find('x').unwrap();
        let d = Diagnostics { file: "r.toml".into(), source: src.into(), items: vec![Diagnostic { offset, len: 1, message: "m".into() }] };
        let text = d.to_string();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "r.toml:1:10: m");
        // "1 | " then `a = "` (5) + `·…` (2) + `名，` (4) = 11 columns before the caret.
        assert_eq!(lines[2], format!("  | {}^", " ".repeat(11)));
    }

    #[test]
    fn a_long_line_is_shown_as_a_window_around_the_spot() {
        // An error at character 501 of a 1,000-character line: 60 characters before it and 100
        // from it, each cut side marked with …, and the caret under the spot.
        let line = format!("{}X{}", "a".repeat(500), "b".repeat(499));
        let d = Diagnostics { file: "r.toml".into(), source: line, items: vec![Diagnostic { offset: 500, len: 1, message: "here".into() }] };
        let text = d.to_string();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[1], format!("1 | …{}X{}…", "a".repeat(60), "b".repeat(99)));
        assert_eq!(lines[2], format!("  | {}^", " ".repeat(61)));
    }

    #[test]
    fn closest_suggests_a_near_name_only() {
        assert_eq!(closest("个人自负", ["个人自付", "病种"]), Some("个人自付"));
        assert_eq!(closest("完全不同的名字", ["个人自付", "病种"]), None);
    }
}
