//! Entra's attribute-mapping expressions, parsed: `[attribute]`, string
//! constants with `\\` and `\"` escapes, numbers (`7`, `-10`, `&HF7`), bare
//! names (`vbTextCompare`), function calls whose arguments may be left out
//! (`Switch([IsSoftDeleted], , "False", "True")`), and one comparison
//! (`=`, `<>`, `<`, `<=`, `>`, `>=`) as IIF's condition takes.
//!
//! Positions are character offsets into the expression (0-based); errors
//! tell them 1-based, as a column.

use std::fmt;

#[derive(Debug, Clone, PartialEq)]
pub struct Expr {
    pub kind: ExprKind,
    /// Where it starts in the expression, in characters.
    pub pos: usize,
}

#[derive(Debug, Clone, PartialEq)]
pub enum ExprKind {
    Attribute(String),
    Str(String),
    Num(i64),
    /// A bare name that is no call: `vbTextCompare`, `True`.
    Name(String),
    /// An argument left out: `Switch([a], , "k", "v")`.
    Omitted,
    Call {
        name: String,
        args: Vec<Expr>,
    },
    Compare {
        op: CompareOp,
        left: Box<Expr>,
        right: Box<Expr>,
    },
}

impl Expr {
    /// Calls `f` on this expression and on every one inside it, outside in.
    pub fn visit(&self, f: &mut dyn FnMut(&Expr)) {
        f(self);
        match &self.kind {
            ExprKind::Call { args, .. } => args.iter().for_each(|a| a.visit(f)),
            ExprKind::Compare { left, right, .. } => {
                left.visit(f);
                right.visit(f);
            }
            _ => {}
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CompareOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

impl CompareOp {
    pub fn symbol(self) -> &'static str {
        match self {
            CompareOp::Eq => "=",
            CompareOp::Ne => "<>",
            CompareOp::Lt => "<",
            CompareOp::Le => "<=",
            CompareOp::Gt => ">",
            CompareOp::Ge => ">=",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    /// Character offset of the problem.
    pub pos: usize,
    pub message: String,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "at column {}: {}", self.pos + 1, self.message)
    }
}

impl std::error::Error for ParseError {}

/// An expression longer than this is refused: Entra's own limit is 10,000.
pub const MAX_LENGTH: usize = 10_000;
/// Nesting deeper than this is refused, so that no input exhausts the stack.
const MAX_DEPTH: usize = 64;

pub fn parse(text: &str) -> Result<Expr, ParseError> {
    let chars: Vec<char> = text.chars().collect();
    if chars.len() > MAX_LENGTH {
        return Err(ParseError {
            pos: MAX_LENGTH,
            message: format!(
                "the expression is {} characters long; Entra accepts at most {MAX_LENGTH}",
                chars.len()
            ),
        });
    }
    let mut parser = Parser { chars, at: 0 };
    parser.skip_space();
    if parser.at == parser.chars.len() {
        return Err(parser.error("the expression is empty"));
    }
    let expr = parser.comparison(0)?;
    parser.skip_space();
    if parser.at < parser.chars.len() {
        return Err(parser.error(&format!(
            "unexpected `{}` after a complete expression",
            parser.chars[parser.at]
        )));
    }
    Ok(expr)
}

struct Parser {
    chars: Vec<char>,
    at: usize,
}

impl Parser {
    fn error(&self, message: &str) -> ParseError {
        ParseError {
            pos: self.at,
            message: message.to_string(),
        }
    }

    fn peek(&self) -> Option<char> {
        self.chars.get(self.at).copied()
    }

    fn skip_space(&mut self) {
        while self.peek().is_some_and(char::is_whitespace) {
            self.at += 1;
        }
    }

    fn comparison(&mut self, depth: usize) -> Result<Expr, ParseError> {
        let left = self.operand(depth)?;
        self.skip_space();
        let two: String = self.chars[self.at..].iter().take(2).collect();
        let op = match two.as_str() {
            "<>" => Some((CompareOp::Ne, 2)),
            "<=" => Some((CompareOp::Le, 2)),
            ">=" => Some((CompareOp::Ge, 2)),
            _ => match self.peek() {
                Some('=') => Some((CompareOp::Eq, 1)),
                Some('<') => Some((CompareOp::Lt, 1)),
                Some('>') => Some((CompareOp::Gt, 1)),
                _ => None,
            },
        };
        let Some((op, width)) = op else {
            return Ok(left);
        };
        self.at += width;
        self.skip_space();
        let right = self.operand(depth)?;
        Ok(Expr {
            pos: left.pos,
            kind: ExprKind::Compare {
                op,
                left: Box::new(left),
                right: Box::new(right),
            },
        })
    }

    fn operand(&mut self, depth: usize) -> Result<Expr, ParseError> {
        if depth > MAX_DEPTH {
            return Err(self.error(&format!("nested deeper than {MAX_DEPTH} calls")));
        }
        self.skip_space();
        let pos = self.at;
        let kind = match self.peek() {
            None => return Err(self.error("the expression ends where a value was expected")),
            Some('[') => ExprKind::Attribute(self.attribute()?),
            Some('"') => ExprKind::Str(self.string()?),
            Some('&') => ExprKind::Num(self.hex()?),
            Some(c) if c.is_ascii_digit() || c == '-' => ExprKind::Num(self.number()?),
            Some(c) if c.is_alphabetic() || c == '_' => {
                let name = self.name();
                self.skip_space();
                if self.peek() == Some('(') {
                    self.at += 1;
                    let args = self.arguments(depth)?;
                    ExprKind::Call { name, args }
                } else {
                    ExprKind::Name(name)
                }
            }
            Some(c) => {
                return Err(self.error(&format!(
                    "unexpected `{c}`: a value is an [attribute], a \"string\", a number or a Function(...)"
                )));
            }
        };
        Ok(Expr { kind, pos })
    }

    fn attribute(&mut self) -> Result<String, ParseError> {
        let start = self.at;
        self.at += 1;
        let mut name = String::new();
        loop {
            match self.peek() {
                Some(']') => {
                    self.at += 1;
                    break;
                }
                Some(c) => {
                    name.push(c);
                    self.at += 1;
                }
                None => {
                    return Err(ParseError {
                        pos: start,
                        message: "this [attribute] has no closing `]`".into(),
                    });
                }
            }
        }
        let name = name.trim().to_string();
        if name.is_empty() {
            return Err(ParseError {
                pos: start,
                message: "`[]` names no attribute".into(),
            });
        }
        Ok(name)
    }

    fn string(&mut self) -> Result<String, ParseError> {
        let start = self.at;
        self.at += 1;
        let mut out = String::new();
        loop {
            match self.peek() {
                Some('"') => {
                    self.at += 1;
                    return Ok(out);
                }
                Some('\\') => {
                    self.at += 1;
                    match self.peek() {
                        Some(c @ ('\\' | '"')) => {
                            out.push(c);
                            self.at += 1;
                        }
                        // Any other backslash stays as written (a regex's `\d`).
                        Some(_) => out.push('\\'),
                        None => break,
                    }
                }
                Some(c) => {
                    out.push(c);
                    self.at += 1;
                }
                None => break,
            }
        }
        Err(ParseError {
            pos: start,
            message: "this string has no closing `\"` (write a quotation mark inside one as \\\")"
                .into(),
        })
    }

    fn number(&mut self) -> Result<i64, ParseError> {
        let start = self.at;
        if self.peek() == Some('-') {
            self.at += 1;
        }
        while self.peek().is_some_and(|c| c.is_ascii_digit()) {
            self.at += 1;
        }
        let text: String = self.chars[start..self.at].iter().collect();
        text.parse().map_err(|_| ParseError {
            pos: start,
            message: format!("`{text}` is not a whole number Entra can hold"),
        })
    }

    fn hex(&mut self) -> Result<i64, ParseError> {
        let start = self.at;
        let head: String = self.chars[self.at..].iter().take(2).collect();
        if !head.eq_ignore_ascii_case("&H") {
            return Err(self.error("`&` starts a hexadecimal number only as &H (such as &HF7)"));
        }
        self.at += 2;
        let digits_start = self.at;
        while self.peek().is_some_and(|c| c.is_ascii_hexdigit()) {
            self.at += 1;
        }
        let digits: String = self.chars[digits_start..self.at].iter().collect();
        i64::from_str_radix(&digits, 16).map_err(|_| ParseError {
            pos: start,
            message: "&H must be followed by hexadecimal digits (such as &HF7)".into(),
        })
    }

    fn name(&mut self) -> String {
        let start = self.at;
        while self.peek().is_some_and(|c| c.is_alphanumeric() || c == '_') {
            self.at += 1;
        }
        self.chars[start..self.at].iter().collect()
    }

    /// After `(`: comma-separated arguments, any of which may be left out.
    fn arguments(&mut self, depth: usize) -> Result<Vec<Expr>, ParseError> {
        let mut args = Vec::new();
        self.skip_space();
        if self.peek() == Some(')') {
            self.at += 1;
            return Ok(args);
        }
        loop {
            self.skip_space();
            match self.peek() {
                Some(',') | Some(')') => args.push(Expr {
                    kind: ExprKind::Omitted,
                    pos: self.at,
                }),
                _ => args.push(self.comparison(depth + 1)?),
            }
            self.skip_space();
            match self.peek() {
                Some(',') => self.at += 1,
                Some(')') => {
                    self.at += 1;
                    return Ok(args);
                }
                Some(c) => {
                    return Err(self.error(&format!(
                        "expected `,` or `)` between arguments, found `{c}`"
                    )));
                }
                None => return Err(self.error("the expression ends before this call's `)`")),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call(name: &str, args: Vec<ExprKind>) -> ExprKind {
        ExprKind::Call {
            name: name.into(),
            args: args.into_iter().map(|kind| Expr { kind, pos: 0 }).collect(),
        }
    }

    /// The tree without positions, to compare shapes.
    fn shape(e: &Expr) -> ExprKind {
        match &e.kind {
            ExprKind::Call { name, args } => call(name, args.iter().map(shape).collect()),
            ExprKind::Compare { op, left, right } => ExprKind::Compare {
                op: *op,
                left: Box::new(Expr {
                    kind: shape(left),
                    pos: 0,
                }),
                right: Box::new(Expr {
                    kind: shape(right),
                    pos: 0,
                }),
            },
            other => other.clone(),
        }
    }

    #[test]
    fn entras_default_active_mapping_parses_with_its_omitted_default() {
        let e = parse(r#"Switch([IsSoftDeleted], , "False", "True", "True", "False")"#).unwrap();
        assert_eq!(
            shape(&e),
            call(
                "Switch",
                vec![
                    ExprKind::Attribute("IsSoftDeleted".into()),
                    ExprKind::Omitted,
                    ExprKind::Str("False".into()),
                    ExprKind::Str("True".into()),
                    ExprKind::Str("True".into()),
                    ExprKind::Str("False".into()),
                ]
            )
        );
    }

    #[test]
    fn escapes_numbers_names_and_comparisons() {
        let e = parse(r#"IIF([country]="USA",[country],[department])"#).unwrap();
        let ExprKind::Call { args, .. } = &e.kind else {
            panic!()
        };
        assert!(matches!(
            &args[0].kind,
            ExprKind::Compare {
                op: CompareOp::Eq,
                ..
            }
        ));
        assert_eq!(
            shape(&parse(r#""Company name: \"Contoso\"""#).unwrap()),
            ExprKind::Str(r#"Company name: "Contoso""#.into())
        );
        // A regex keeps its backslashes: "\\d" is `\d`, and `\+` stays.
        assert_eq!(
            shape(&parse(r#""\\+(?<c>\\d*)""#).unwrap()),
            ExprKind::Str(r"\+(?<c>\d*)".into())
        );
        assert_eq!(shape(&parse("&HF7").unwrap()), ExprKind::Num(0xF7));
        assert_eq!(shape(&parse("-10").unwrap()), ExprKind::Num(-10));
        assert_eq!(
            shape(&parse(r#"InStr("repEated","e",3,vbBinaryCompare)"#).unwrap()),
            call(
                "InStr",
                vec![
                    ExprKind::Str("repEated".into()),
                    ExprKind::Str("e".into()),
                    ExprKind::Num(3),
                    ExprKind::Name("vbBinaryCompare".into()),
                ]
            )
        );
        assert_eq!(shape(&parse("Guid()").unwrap()), call("Guid", vec![]));
        let e = parse("DateDiff(\"d\", Now(), CDate([StatusHireDate])) > 5").unwrap();
        assert!(matches!(
            e.kind,
            ExprKind::Compare {
                op: CompareOp::Gt,
                ..
            }
        ));
    }

    #[test]
    fn errors_say_where() {
        let cases = [
            ("ToLower([department]", 20, "before this call's `)`"),
            ("ToLower([department", 8, "no closing `]`"),
            ("Append([a], \"x)", 12, "no closing `\"`"),
            ("ToLower([a]) [b]", 13, "after a complete expression"),
            ("ToLower([a] [b])", 12, "expected `,` or `)`"),
            ("", 0, "empty"),
            ("&X1", 0, "&H"),
            ("@", 0, "unexpected `@`"),
        ];
        for (text, pos, needle) in cases {
            let e = parse(text).unwrap_err();
            assert_eq!(e.pos, pos, "{text}: {e}");
            assert!(e.message.contains(needle), "{text}: {e}");
        }
        assert!(
            parse(&"ToLower(".repeat(100))
                .unwrap_err()
                .message
                .contains("nested deeper")
        );
        assert!(
            parse(&"x".repeat(MAX_LENGTH + 1))
                .unwrap_err()
                .message
                .contains("at most")
        );
    }
}
