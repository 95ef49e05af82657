//! The condition language of a rules file: lexer and parser.
//!
//! ```text
//! expr    := or
//! or      := and ("or" and)*
//! and     := not ("and" not)*
//! not     := "not" not | cmp
//! cmp     := add (("==" | "!=" | "<" | "<=" | ">" | ">=") add | "not"? "in" list)?
//! add     := mul (("+" | "-") mul)*
//! mul     := unary (("*" | "/") unary)*
//! unary   := "-" unary | atom
//! atom    := number | string | "true" | "false" | name | name "(" args ")"
//!          | "if" expr "then" expr "else" expr | "(" expr ")"
//! list    := "[" (atom ("," atom)*)? "]"
//! ```
//! Names are Unicode identifiers (column, parameter and `let` names are usually Chinese).
//! The parser knows nothing about types or polars: `plan` checks and types the tree.

use rust_decimal::Decimal;
use std::fmt;

/// Byte range inside the expression text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Span {
    pub start: usize,
    pub end: usize,
}

impl Span {
    fn join(self, other: Span) -> Span {
        Span { start: self.start.min(other.start), end: self.end.max(other.end) }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BinOp {
    Add,
    Sub,
    Mul,
    Div,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    And,
    Or,
}

impl BinOp {
    pub fn symbol(self) -> &'static str {
        match self {
            BinOp::Add => "+",
            BinOp::Sub => "-",
            BinOp::Mul => "*",
            BinOp::Div => "/",
            BinOp::Eq => "==",
            BinOp::Ne => "!=",
            BinOp::Lt => "<",
            BinOp::Le => "<=",
            BinOp::Gt => ">",
            BinOp::Ge => ">=",
            BinOp::And => "and",
            BinOp::Or => "or",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Ast {
    Number(Decimal, Span),
    Str(String, Span),
    Bool(bool, Span),
    Name(String, Span),
    Call { name: String, name_span: Span, args: Vec<Ast>, span: Span },
    Neg(Box<Ast>, Span),
    Not(Box<Ast>, Span),
    Bin { op: BinOp, lhs: Box<Ast>, rhs: Box<Ast>, span: Span },
    In { value: Box<Ast>, list: Vec<Ast>, negated: bool, span: Span },
    If { cond: Box<Ast>, then: Box<Ast>, otherwise: Box<Ast>, span: Span },
}

impl Ast {
    pub fn span(&self) -> Span {
        match self {
            Ast::Number(_, s) | Ast::Str(_, s) | Ast::Bool(_, s) | Ast::Name(_, s) => *s,
            Ast::Neg(_, s) | Ast::Not(_, s) => *s,
            Ast::Call { span, .. } | Ast::Bin { span, .. } | Ast::In { span, .. } | Ast::If { span, .. } => *span,
        }
    }
}

/// A syntax error at a byte offset of the expression text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    pub at: usize,
    pub message: String,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Num(Decimal),
    Str(String),
    Ident(String),
    Op(&'static str),
    End,
}

impl Tok {
    fn describe(&self) -> String {
        match self {
            Tok::Num(n) => format!("number {n}"),
            Tok::Str(s) => format!("string '{s}'"),
            Tok::Ident(s) => format!("'{s}'"),
            Tok::Op(o) => format!("'{o}'"),
            Tok::End => "end of expression".to_string(),
        }
    }
}

/// How deep an expression may nest: parentheses, `not`, unary `-`, `if` and function calls each
/// open a level. The checker, the compiler and polars walk the tree recursively, so a limit here
/// keeps every later stage within its stack; no real policy comes near it.
pub const MAX_DEPTH: usize = 64;

/// How many terms and operators (names, numbers, strings, `true`/`false`, `+`, `==`, `and`,
/// `not`, `if`, …; not parentheses or commas) one expression, or all the expressions of one
/// evidence template, may hold. A condition of thousands of terms compiles to a polars
/// expression that takes minutes and gigabytes to evaluate, and its chains of `or` or `+` are
/// as deep as they are long; no real policy comes near.
pub const MAX_TERMS: usize = 2000;

const KEYWORDS: &[&str] = &["and", "or", "not", "in", "if", "then", "else", "true", "false"];

fn is_ident_start(c: char) -> bool {
    c == '_' || c.is_alphabetic()
}

fn is_ident_continue(c: char) -> bool {
    c == '_' || c.is_alphanumeric()
}

fn lex(src: &str) -> Result<Vec<(Tok, Span)>, ParseError> {
    let mut out = Vec::new();
    let mut it = src.char_indices().peekable();
    while let Some(&(i, c)) = it.peek() {
        if c.is_whitespace() {
            it.next();
            continue;
        }
        if c.is_ascii_digit() {
            let mut end = i;
            let mut seen_dot = false;
            while let Some(&(j, d)) = it.peek() {
                if d.is_ascii_digit() || (d == '.' && !seen_dot) {
                    seen_dot |= d == '.';
                    end = j + d.len_utf8();
                    it.next();
                } else {
                    break;
                }
            }
            let text = &src[i..end];
            let n: Decimal = text.parse().map_err(|_| ParseError { at: i, message: format!("'{text}' is not a number") })?;
            out.push((Tok::Num(n), Span { start: i, end }));
            continue;
        }
        if is_ident_start(c) {
            let mut end = i;
            while let Some(&(j, d)) = it.peek() {
                if is_ident_continue(d) {
                    end = j + d.len_utf8();
                    it.next();
                } else {
                    break;
                }
            }
            out.push((Tok::Ident(src[i..end].to_string()), Span { start: i, end }));
            continue;
        }
        if c == '\'' || c == '"' {
            it.next();
            let mut s = String::new();
            let mut closed = None;
            for (j, d) in it.by_ref() {
                if d == c {
                    closed = Some(j + 1);
                    break;
                }
                s.push(d);
            }
            let end = closed.ok_or(ParseError { at: i, message: "unterminated string".into() })?;
            out.push((Tok::Str(s), Span { start: i, end }));
            continue;
        }
        let two = src[i..].get(..2).unwrap_or("");
        let op: &'static str = match two {
            "==" => "==",
            "!=" => "!=",
            "<=" => "<=",
            ">=" => ">=",
            _ => match c {
                '<' => "<",
                '>' => ">",
                '+' => "+",
                '-' => "-",
                '*' => "*",
                '/' => "/",
                '(' => "(",
                ')' => ")",
                '[' => "[",
                ']' => "]",
                ',' => ",",
                '=' => return Err(ParseError { at: i, message: "'=' is not an operator: write '==' to compare".into() }),
                _ => return Err(ParseError { at: i, message: format!("unexpected character '{c}'") }),
            },
        };
        for _ in 0..op.chars().count() {
            it.next();
        }
        out.push((Tok::Op(op), Span { start: i, end: i + op.len() }));
    }
    out.push((Tok::End, Span { start: src.len(), end: src.len() }));
    Ok(out)
}

/// The number of terms and operators among the tokens; an error at the first past `MAX_TERMS`.
fn count_terms(toks: &[(Tok, Span)], already: usize) -> Result<usize, ParseError> {
    let mut n = already;
    for (t, span) in toks {
        let term = match t {
            Tok::Num(_) | Tok::Str(_) | Tok::Ident(_) => true,
            Tok::Op(o) => !matches!(*o, "(" | ")" | "[" | "]" | ","),
            Tok::End => false,
        };
        n += usize::from(term);
        if n > MAX_TERMS {
            let message = format!("expression too long: more than {MAX_TERMS} terms and operators; split it into derived figures or let names");
            return Err(ParseError { at: span.start, message });
        }
    }
    Ok(n - already)
}

/// Parses one expression; the whole text must be consumed.
pub fn parse(src: &str) -> Result<Ast, ParseError> {
    parse_counted(src, 0).map(|(ast, _)| ast)
}

/// Parses one expression that comes after `already` terms of the same template; returns its
/// number of terms too.
fn parse_counted(src: &str, already: usize) -> Result<(Ast, usize), ParseError> {
    let toks = lex(src)?;
    let terms = count_terms(&toks, already)?;
    let mut p = Parser { toks, pos: 0, depth: 0 };
    let e = p.expr()?;
    match p.peek() {
        Tok::End => Ok((e, terms)),
        t => Err(p.error(format!("expected an operator or the end of the expression, found {}", t.describe()))),
    }
}

struct Parser {
    toks: Vec<(Tok, Span)>,
    pos: usize,
    /// Levels of nesting open at `pos` (see `MAX_DEPTH`).
    depth: usize,
}

impl Parser {
    fn peek(&self) -> &Tok {
        &self.toks[self.pos].0
    }
    fn span(&self) -> Span {
        self.toks[self.pos].1
    }
    fn bump(&mut self) -> (Tok, Span) {
        let t = self.toks[self.pos].clone();
        if self.pos + 1 < self.toks.len() {
            self.pos += 1;
        }
        t
    }
    fn error(&self, message: String) -> ParseError {
        ParseError { at: self.span().start, message }
    }
    fn is_kw(&self, kw: &str) -> bool {
        matches!(self.peek(), Tok::Ident(s) if s == kw)
    }
    fn is_op(&self, op: &str) -> bool {
        matches!(self.peek(), Tok::Op(o) if *o == op)
    }
    fn expect_op(&mut self, op: &str) -> Result<Span, ParseError> {
        if self.is_op(op) {
            Ok(self.bump().1)
        } else {
            Err(self.error(format!("expected '{op}', found {}", self.peek().describe())))
        }
    }
    fn expect_kw(&mut self, kw: &str) -> Result<(), ParseError> {
        if self.is_kw(kw) {
            self.bump();
            Ok(())
        } else {
            Err(self.error(format!("expected '{kw}', found {}", self.peek().describe())))
        }
    }

    fn expr(&mut self) -> Result<Ast, ParseError> {
        self.or()
    }

    /// Opens a level of nesting at byte `at`; the caller closes it with `depth -= 1`.
    fn deeper(&mut self, at: usize) -> Result<(), ParseError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            let message = format!("expression nested too deep: more than {MAX_DEPTH} levels of parentheses, not, -, if and function calls; split it into derived figures or let names");
            return Err(ParseError { at, message });
        }
        Ok(())
    }

    /// `f` one level of nesting deeper, opened at byte `at`.
    fn nested<T>(&mut self, at: usize, f: impl FnOnce(&mut Self) -> Result<T, ParseError>) -> Result<T, ParseError> {
        self.deeper(at)?;
        let r = f(self)?;
        self.depth -= 1;
        Ok(r)
    }

    fn or(&mut self) -> Result<Ast, ParseError> {
        let mut lhs = self.and()?;
        while self.is_kw("or") {
            self.bump();
            let rhs = self.and()?;
            lhs = bin(BinOp::Or, lhs, rhs);
        }
        Ok(lhs)
    }

    fn and(&mut self) -> Result<Ast, ParseError> {
        let mut lhs = self.not()?;
        while self.is_kw("and") {
            self.bump();
            let rhs = self.not()?;
            lhs = bin(BinOp::And, lhs, rhs);
        }
        Ok(lhs)
    }

    fn not(&mut self) -> Result<Ast, ParseError> {
        if self.is_kw("not") {
            let start = self.bump().1;
            let inner = self.nested(start.start, Self::not)?;
            let span = start.join(inner.span());
            return Ok(Ast::Not(Box::new(inner), span));
        }
        self.cmp()
    }

    fn cmp(&mut self) -> Result<Ast, ParseError> {
        let lhs = self.add()?;
        let op = match self.peek() {
            Tok::Op("==") => Some(BinOp::Eq),
            Tok::Op("!=") => Some(BinOp::Ne),
            Tok::Op("<") => Some(BinOp::Lt),
            Tok::Op("<=") => Some(BinOp::Le),
            Tok::Op(">") => Some(BinOp::Gt),
            Tok::Op(">=") => Some(BinOp::Ge),
            _ => None,
        };
        if let Some(op) = op {
            self.bump();
            let rhs = self.add()?;
            return Ok(bin(op, lhs, rhs));
        }
        let negated = self.is_kw("not") && matches!(self.toks.get(self.pos + 1), Some((Tok::Ident(s), _)) if s == "in");
        if negated {
            self.bump();
        }
        if self.is_kw("in") {
            self.bump();
            self.expect_op("[")?;
            let mut list = Vec::new();
            if !self.is_op("]") {
                loop {
                    list.push(self.unary()?);
                    if self.is_op(",") {
                        self.bump();
                        continue;
                    }
                    break;
                }
            }
            let end = self.expect_op("]")?;
            let span = lhs.span().join(end);
            return Ok(Ast::In { value: Box::new(lhs), list, negated, span });
        }
        Ok(lhs)
    }

    fn add(&mut self) -> Result<Ast, ParseError> {
        let mut lhs = self.mul()?;
        loop {
            let op = match self.peek() {
                Tok::Op("+") => BinOp::Add,
                Tok::Op("-") => BinOp::Sub,
                _ => return Ok(lhs),
            };
            self.bump();
            let rhs = self.mul()?;
            lhs = bin(op, lhs, rhs);
        }
    }

    fn mul(&mut self) -> Result<Ast, ParseError> {
        let mut lhs = self.unary()?;
        loop {
            let op = match self.peek() {
                Tok::Op("*") => BinOp::Mul,
                Tok::Op("/") => BinOp::Div,
                _ => return Ok(lhs),
            };
            self.bump();
            let rhs = self.unary()?;
            lhs = bin(op, lhs, rhs);
        }
    }

    fn unary(&mut self) -> Result<Ast, ParseError> {
        if self.is_op("-") {
            let start = self.bump().1;
            let inner = self.nested(start.start, Self::unary)?;
            let span = start.join(inner.span());
            return Ok(Ast::Neg(Box::new(inner), span));
        }
        self.atom()
    }

    fn atom(&mut self) -> Result<Ast, ParseError> {
        let (tok, span) = self.bump();
        match tok {
            Tok::Num(n) => Ok(Ast::Number(n, span)),
            Tok::Str(s) => Ok(Ast::Str(s, span)),
            Tok::Op("(") => self.nested(span.start, |p| {
                let e = p.expr()?;
                p.expect_op(")")?;
                Ok(e)
            }),
            Tok::Ident(s) if s == "true" || s == "false" => Ok(Ast::Bool(s == "true", span)),
            Tok::Ident(s) if s == "if" => self.nested(span.start, |p| {
                let cond = p.expr()?;
                p.expect_kw("then")?;
                let then = p.expr()?;
                p.expect_kw("else")?;
                let otherwise = p.expr()?;
                let span = span.join(otherwise.span());
                Ok(Ast::If { cond: Box::new(cond), then: Box::new(then), otherwise: Box::new(otherwise), span })
            }),
            Tok::Ident(s) if KEYWORDS.contains(&s.as_str()) => Err(ParseError { at: span.start, message: format!("expected a value, found keyword '{s}'") }),
            Tok::Ident(name) => {
                if !self.is_op("(") {
                    return Ok(Ast::Name(name, span));
                }
                self.bump();
                let (args, end) = self.nested(span.start, Self::args)?;
                Ok(Ast::Call { name, name_span: span, args, span: span.join(end) })
            }
            t => Err(ParseError { at: span.start, message: format!("expected a value, found {}", t.describe()) }),
        }
    }
}

impl Parser {
    /// A call's arguments after its `(`, and the span of its `)`.
    fn args(&mut self) -> Result<(Vec<Ast>, Span), ParseError> {
        let mut args = Vec::new();
        if !self.is_op(")") {
            loop {
                args.push(self.expr()?);
                if self.is_op(",") {
                    self.bump();
                    continue;
                }
                break;
            }
        }
        let end = self.expect_op(")")?;
        Ok((args, end))
    }
}

fn bin(op: BinOp, lhs: Ast, rhs: Ast) -> Ast {
    let span = lhs.span().join(rhs.span());
    Ast::Bin { op, lhs: Box::new(lhs), rhs: Box::new(rhs), span }
}

/// A piece of an evidence template: literal text or a `{expression}`.
#[derive(Debug, Clone, PartialEq)]
pub enum TemplatePart {
    Text(String),
    /// The expression and its byte offset inside the template.
    Expr(Ast, usize),
}

/// The offset of the `}` that closes an expression in a template, skipping quoted strings
/// (a `list` template inside an expression holds braces of its own).
fn closing_brace(src: &str) -> Option<usize> {
    let mut quote: Option<char> = None;
    for (i, c) in src.char_indices() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '\'' | '"') => quote = Some(c),
            (None, '}') => return Some(i),
            _ => {}
        }
    }
    None
}

/// Parses `"text {expr} text"`; `{{` and `}}` stand for literal braces.
pub fn parse_template(src: &str) -> Result<Vec<TemplatePart>, ParseError> {
    let mut parts = Vec::new();
    let mut text = String::new();
    let mut terms = 0;
    let mut rest = src.char_indices().peekable();
    while let Some((i, c)) = rest.next() {
        match c {
            '{' if matches!(rest.peek(), Some((_, '{'))) => {
                rest.next();
                text.push('{');
            }
            '}' if matches!(rest.peek(), Some((_, '}'))) => {
                rest.next();
                text.push('}');
            }
            '{' => {
                let start = i + 1;
                let close = closing_brace(&src[start..]).ok_or(ParseError { at: i, message: "'{' without a closing '}'".into() })?;
                let inner = &src[start..start + close];
                let (ast, n) = parse_counted(inner, terms).map_err(|e| ParseError { at: start + e.at, message: e.message })?;
                terms += n;
                if !text.is_empty() {
                    parts.push(TemplatePart::Text(std::mem::take(&mut text)));
                }
                parts.push(TemplatePart::Expr(ast, start));
                while let Some(&(j, _)) = rest.peek() {
                    if j > start + close {
                        break;
                    }
                    rest.next();
                }
            }
            '}' => return Err(ParseError { at: i, message: "'}' without an opening '{' (write '}}' for a brace)".into() }),
            c => text.push(c),
        }
    }
    if !text.is_empty() {
        parts.push(TemplatePart::Text(text));
    }
    Ok(parts)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn show(a: &Ast) -> String {
        match a {
            Ast::Number(n, _) => n.to_string(),
            Ast::Str(s, _) => format!("'{s}'"),
            Ast::Bool(b, _) => b.to_string(),
            Ast::Name(n, _) => n.clone(),
            Ast::Call { name, args, .. } => {
                format!("{name}({})", args.iter().map(show).collect::<Vec<_>>().join(", "))
            }
            Ast::Neg(e, _) => format!("(-{})", show(e)),
            Ast::Not(e, _) => format!("(not {})", show(e)),
            Ast::Bin { op, lhs, rhs, .. } => format!("({} {} {})", show(lhs), op.symbol(), show(rhs)),
            Ast::In { value, list, negated, .. } => {
                format!("({} {}in [{}])", show(value), if *negated { "not " } else { "" }, list.iter().map(show).collect::<Vec<_>>().join(", "))
            }
            Ast::If { cond, then, otherwise, .. } => {
                format!("(if {} then {} else {})", show(cond), show(then), show(otherwise))
            }
        }
    }

    #[test]
    fn precedence_puts_arithmetic_under_comparison_under_and_under_or() {
        let a = parse("a + b * 2 >= 4000 and not c or d == 'x'").unwrap();
        assert_eq!(show(&a), "((((a + (b * 2)) >= 4000) and (not c)) or (d == 'x'))");
    }

    #[test]
    fn chinese_names_calls_lists_and_if_parse() {
        let a = parse("any(medical, 个人自付 >= if 户类型 == \"脱贫户\" then 4000 else 10000.00)").unwrap();
        assert_eq!(show(&a), "any(medical, (个人自付 >= (if (户类型 == '脱贫户') then 4000 else 10000.00)))");
        let b = parse("损失情况 not in ['房屋倒塌', '死亡']").unwrap();
        assert_eq!(show(&b), "(损失情况 not in ['房屋倒塌', '死亡'])");
    }

    #[test]
    fn subtraction_is_left_associative() {
        assert_eq!(show(&parse("a - b - c").unwrap()), "((a - b) - c)");
    }

    #[test]
    fn errors_point_at_the_offending_byte() {
        let e = parse("a = 1").unwrap_err();
        assert_eq!(e.at, 2);
        assert!(e.message.contains("'=='"));
        let e = parse("a >= ").unwrap_err();
        assert_eq!(e.at, 5);
        let e = parse("(a").unwrap_err();
        assert!(e.message.contains("expected ')'"), "{}", e.message);
        // byte offsets, not characters: 个人自付 is 12 bytes
        let e = parse("个人自付 >= 'x").unwrap_err();
        assert_eq!(e.at, 16);
    }

    #[test]
    fn nesting_and_length_are_bounded_with_the_position_of_the_first_past_the_limit() {
        assert!(parse(&format!("{}a{}", "(".repeat(64), ")".repeat(64))).is_ok());
        let e = parse(&format!("{}a{}", "(".repeat(65), ")".repeat(65))).unwrap_err();
        assert_eq!(e.at, 64, "the 65th '(' is at byte 64: {}", e.message);
        let e = parse(&format!("{}a", "-".repeat(70))).unwrap_err();
        assert_eq!((e.at, e.message.contains("nested too deep")), (64, true));
        assert!(parse(&format!("f({}a{})", "g(".repeat(63), ")".repeat(63))).is_ok());
        let e = parse(&format!("f({}a{})", "g(".repeat(64), ")".repeat(64))).unwrap_err();
        assert_eq!(e.at, 2 + 63 * 2, "the 64th g( opens the 65th level: {}", e.message);
        // 2,000 terms and operators pass: "a" + 999 × " or a" is 1,999
        assert!(parse(&format!("a{}", " or a".repeat(999))).is_ok());
        let e = parse(&format!("a{}", " or a".repeat(1000))).unwrap_err();
        assert!(e.message.contains("more than 2000"), "{}", e.message);
        // the 2001st is the 1000th "a" after "a or": at byte 1 + 999 × 5 + 4
        assert_eq!(e.at, 1 + 999 * 5 + 4);
        // a template counts all its expressions together: 2,001 pieces of one term each
        let e = parse_template(&"{a}".repeat(2001)).unwrap_err();
        assert_eq!(e.at, 2000 * 3 + 1, "{}", e.message);
        assert!(parse_template(&"{a}".repeat(2000)).is_ok());
    }

    #[test]
    fn templates_split_text_and_expressions() {
        let t = parse_template("{成员姓名} 自付{个人自付}元 {{注}}").unwrap();
        assert_eq!(t.len(), 4);
        assert!(matches!(&t[0], TemplatePart::Expr(Ast::Name(n, _), 1) if n == "成员姓名"));
        assert_eq!(t[1], TemplatePart::Text(" 自付".into()));
        assert_eq!(t[3], TemplatePart::Text("元 {注}".into()));
        assert!(parse_template("{a").is_err());
    }
}
