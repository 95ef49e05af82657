//! The rules' wording: sentences written into outputs, with the household's figures put in at
//! `{name}` (`dropped_no_category`, `elimination_basis`). The defaults state facts and figures
//! only; a policy's sentences are in its rules file.

/// A sentence of the rules' wording with figures of the household put in (`{人均纯收入}`).
#[derive(Debug, Clone, PartialEq)]
pub enum Wording {
    Text(String),
    /// An output column of the table the sentence is written in.
    Figure(String),
}

/// The figures `elimination_basis` may name.
pub const ELIMINATION_FIGURES: [&str; 4] = ["人均纯收入", "监测线", "上次人均纯收入", "上次监测线"];
/// The figures `dropped_no_category` may name.
pub const DROPPED_FIGURES: [&str; 2] = ["人均纯收入", "监测线"];
/// Neutral defaults: the figures, no policy sentence.
pub const DEFAULT_ELIMINATION_BASIS: &str = "本次人均纯收入{人均纯收入}元(监测线{监测线}元),上次{上次人均纯收入}元(监测线{上次监测线}元)";
pub const DEFAULT_DROPPED_NO_CATEGORY: &str = "已不属任何类别(人均纯收入{人均纯收入}元,监测线{监测线}元)";

/// Splits `text` at `{name}` placeholders; a name not in `figures`, or a brace not closed,
/// is an error at a byte offset of `text`, with its length.
pub fn wording(text: &str, figures: &[&str]) -> Result<Vec<Wording>, (usize, usize, String)> {
    let mut out = Vec::new();
    let mut rest = text;
    let mut at = 0;
    while let Some(open) = rest.find(['{', '}']) {
        if rest[open..].starts_with('}') {
            return Err((at + open, 1, "a '}' without its '{'".to_string()));
        }
        let Some(close) = rest[open..].find('}') else {
            return Err((at + open, rest.len() - open, "a '{' without its '}'".to_string()));
        };
        let name = rest[open + 1..open + close].trim();
        if !figures.contains(&name) {
            return Err((
                at + open,
                close + 1,
                format!(
                    "{{{name}}} is not a figure this sentence can show: expected one of {}",
                    figures.iter().map(|f| format!("{{{f}}}")).collect::<Vec<_>>().join(" ")
                ),
            ));
        }
        if open > 0 {
            out.push(Wording::Text(rest[..open].to_string()));
        }
        out.push(Wording::Figure(name.to_string()));
        at += open + close + 1;
        rest = &rest[open + close + 1..];
    }
    if !rest.is_empty() {
        out.push(Wording::Text(rest.to_string()));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sentence_splits_at_its_figures_and_a_bad_brace_is_placed() {
        let t = |s: &str| Wording::Text(s.to_string());
        let f = |s: &str| Wording::Figure(s.to_string());
        assert_eq!(wording("收入{人均纯收入}元,线{ 监测线 }", &DROPPED_FIGURES), Ok(vec![t("收入"), f("人均纯收入"), t("元,线"), f("监测线")]));
        assert_eq!(wording("", &DROPPED_FIGURES), Ok(vec![]));
        // Byte offsets: 收入 is 6 bytes; {上次监测线} 2 + 5 × 3 = 17; `a{人均纯收入}b` 1 + 17 + 1 = 19.
        assert_eq!(wording("收入{上次监测线}", &DROPPED_FIGURES).map_err(|e| (e.0, e.1)), Err((6, 17)));
        assert_eq!(wording("收入}", &DROPPED_FIGURES).map_err(|e| (e.0, e.1)), Err((6, 1)));
        assert_eq!(wording("a{人均纯收入}b{", &DROPPED_FIGURES).map_err(|e| (e.0, e.1)), Err((19, 1)));
    }
}
