//! The part of the Okta Expression Language that profile mappings use most:
//! `user.*` and `appuser.*` references, string constants, `+`, and the
//! common `String.*` functions. Anything else is refused as unsupported,
//! with its position, never evaluated to a guess.

use std::collections::BTreeMap;

#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    /// `user.firstName` (the attribute), `appuser.userName`.
    Reference {
        scope: String,
        attribute: String,
    },
    Str(String),
    Num(i64),
    Concat(Vec<Expr>),
    Call {
        name: String,
        args: Vec<Expr>,
        pos: usize,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExprError {
    pub pos: usize,
    pub message: String,
}

impl std::fmt::Display for ExprError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "at column {}: {}", self.pos + 1, self.message)
    }
}

/// The functions understood, with how many arguments each takes.
const FUNCTIONS: [(&str, usize, usize); 9] = [
    ("String.toLowerCase", 1, 1),
    ("String.toUpperCase", 1, 1),
    ("String.trim", 1, 1),
    ("String.substringBefore", 2, 2),
    ("String.substringAfter", 2, 2),
    ("String.substring", 3, 3),
    ("String.replace", 3, 3),
    ("String.append", 2, 2),
    ("String.join", 2, 64),
];

pub fn parse(text: &str) -> Result<Expr, ExprError> {
    let chars: Vec<char> = text.chars().collect();
    let mut p = Parser { chars, at: 0 };
    let e = p.concat(0)?;
    p.space();
    if p.at < p.chars.len() {
        return Err(p.error(&format!(
            "unsupported expression: unexpected `{}`",
            p.chars[p.at]
        )));
    }
    Ok(e)
}

struct Parser {
    chars: Vec<char>,
    at: usize,
}

impl Parser {
    fn error(&self, message: &str) -> ExprError {
        ExprError {
            pos: self.at,
            message: message.into(),
        }
    }

    fn space(&mut self) {
        while self.chars.get(self.at).is_some_and(|c| c.is_whitespace()) {
            self.at += 1;
        }
    }

    fn concat(&mut self, depth: usize) -> Result<Expr, ExprError> {
        if depth > 32 {
            return Err(self.error("nested too deeply"));
        }
        let mut parts = vec![self.term(depth)?];
        loop {
            self.space();
            if self.chars.get(self.at) != Some(&'+') {
                break;
            }
            self.at += 1;
            parts.push(self.term(depth)?);
        }
        Ok(if parts.len() == 1 {
            parts.remove(0)
        } else {
            Expr::Concat(parts)
        })
    }

    fn term(&mut self, depth: usize) -> Result<Expr, ExprError> {
        self.space();
        let start = self.at;
        match self.chars.get(self.at).copied() {
            None => Err(self.error("the expression ends where a value was expected")),
            Some(q @ ('"' | '\'')) => {
                self.at += 1;
                let mut out = String::new();
                while let Some(&c) = self.chars.get(self.at) {
                    self.at += 1;
                    if c == q {
                        return Ok(Expr::Str(out));
                    }
                    if c == '\\' {
                        if let Some(&next) = self.chars.get(self.at) {
                            out.push(next);
                            self.at += 1;
                        }
                        continue;
                    }
                    out.push(c);
                }
                Err(ExprError { pos: start, message: "this string has no closing quote".into() })
            }
            Some(c) if c.is_ascii_digit() => {
                while self.chars.get(self.at).is_some_and(char::is_ascii_digit) {
                    self.at += 1;
                }
                let text: String = self.chars[start..self.at].iter().collect();
                text.parse().map(Expr::Num).map_err(|_| self.error("a number too large"))
            }
            Some(c) if c.is_alphabetic() => {
                while self.chars.get(self.at).is_some_and(|c| c.is_alphanumeric() || *c == '.' || *c == '_') {
                    self.at += 1;
                }
                let name: String = self.chars[start..self.at].iter().collect();
                self.space();
                if self.chars.get(self.at) == Some(&'(') {
                    self.at += 1;
                    let Some(&(known, min, max)) = FUNCTIONS.iter().find(|(f, _, _)| *f == name) else {
                        return Err(ExprError {
                            pos: start,
                            message: format!("unsupported expression: `{name}(...)` is not among the functions replayed ({})", FUNCTIONS.map(|f| f.0).join(", ")),
                        });
                    };
                    let mut args = Vec::new();
                    self.space();
                    if self.chars.get(self.at) == Some(&')') {
                        self.at += 1;
                    } else {
                        loop {
                            args.push(self.concat(depth + 1)?);
                            self.space();
                            match self.chars.get(self.at) {
                                Some(',') => self.at += 1,
                                Some(')') => {
                                    self.at += 1;
                                    break;
                                }
                                _ => return Err(self.error("expected `,` or `)`")),
                            }
                        }
                    }
                    if args.len() < min || args.len() > max {
                        return Err(ExprError { pos: start, message: format!("{known} takes {min} to {max} arguments, given {}", args.len()) });
                    }
                    return Ok(Expr::Call { name: known.to_string(), args, pos: start });
                }
                match name.split_once('.') {
                    Some((scope @ ("user" | "appuser"), attribute)) if !attribute.is_empty() && !attribute.contains('.') => {
                        Ok(Expr::Reference { scope: scope.to_string(), attribute: attribute.to_string() })
                    }
                    _ => Err(ExprError {
                        pos: start,
                        message: format!("unsupported expression: `{name}` is no user.* or appuser.* attribute"),
                    }),
                }
            }
            Some(c) => Err(self.error(&format!("unsupported expression: unexpected `{c}` (conditionals and operators other than + are not replayed)"))),
        }
    }
}

/// Evaluates against an Okta user profile; None is null (not sent).
pub fn eval(e: &Expr, profile: &BTreeMap<String, String>) -> Option<String> {
    match e {
        Expr::Reference { scope, attribute } => {
            // appuser.userName is the app username, Okta's login by default.
            let key = if scope == "appuser" && attribute == "userName" {
                "login"
            } else {
                attribute.as_str()
            };
            profile.get(key).cloned()
        }
        Expr::Str(s) => Some(s.clone()),
        Expr::Num(n) => Some(n.to_string()),
        Expr::Concat(parts) => {
            // A null part is the text "null" in Okta's language: not sent instead.
            parts
                .iter()
                .map(|p| eval(p, profile))
                .collect::<Option<Vec<_>>>()
                .map(|v| v.concat())
        }
        Expr::Call { name, args, .. } => {
            let a: Vec<Option<String>> = args.iter().map(|x| eval(x, profile)).collect();
            let s = |i: usize| a.get(i).cloned().flatten();
            let n = |i: usize| s(i).and_then(|t| t.parse::<usize>().ok());
            match name.as_str() {
                "String.toLowerCase" => s(0).map(|x| x.to_lowercase()),
                "String.toUpperCase" => s(0).map(|x| x.to_uppercase()),
                "String.trim" => s(0).map(|x| x.trim().to_string()),
                "String.substringBefore" => s(0).map(|x| match s(1) {
                    Some(sep) => x
                        .split_once(sep.as_str())
                        .map_or(x.clone(), |(b, _)| b.to_string()),
                    None => x,
                }),
                "String.substringAfter" => s(0).map(|x| match s(1) {
                    Some(sep) => x
                        .split_once(sep.as_str())
                        .map_or(String::new(), |(_, a)| a.to_string()),
                    None => x,
                }),
                "String.substring" => s(0).map(|x| {
                    let chars: Vec<char> = x.chars().collect();
                    let (from, to) = (
                        n(1).unwrap_or(0).min(chars.len()),
                        n(2).unwrap_or(chars.len()).min(chars.len()),
                    );
                    chars[from.min(to)..to].iter().collect()
                }),
                "String.replace" => {
                    s(0).map(|x| x.replace(&s(1).unwrap_or_default(), &s(2).unwrap_or_default()))
                }
                "String.append" => Some(format!("{}{}", s(0)?, s(1).unwrap_or_default())),
                _ => {
                    let sep = s(0).unwrap_or_default();
                    Some(
                        a[1..]
                            .iter()
                            .flatten()
                            .cloned()
                            .collect::<Vec<_>>()
                            .join(&sep),
                    )
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn profile() -> BTreeMap<String, String> {
        [
            ("firstName", "Zoë"),
            ("lastName", "Åberg"),
            ("login", "zoe@contoso.example"),
            ("email", "Zoe@Contoso.example"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
    }

    #[test]
    fn references_concatenation_and_string_functions() {
        let e = |t: &str| eval(&parse(t).unwrap(), &profile());
        assert_eq!(
            e("user.firstName + \" \" + user.lastName").as_deref(),
            Some("Zoë Åberg")
        );
        assert_eq!(
            e("String.toLowerCase(user.email)").as_deref(),
            Some("zoe@contoso.example")
        );
        assert_eq!(
            e("String.substringBefore(user.login, \"@\")").as_deref(),
            Some("zoe")
        );
        assert_eq!(
            e("String.substringAfter(user.login, '@')").as_deref(),
            Some("contoso.example")
        );
        assert_eq!(
            e("String.substring(user.firstName, 0, 2)").as_deref(),
            Some("Zo")
        );
        assert_eq!(
            e("appuser.userName").as_deref(),
            Some("zoe@contoso.example")
        );
        assert_eq!(
            e("String.join(\".\", user.firstName, user.lastName)").as_deref(),
            Some("Zoë.Åberg")
        );
        assert_eq!(e("user.department"), None);
    }

    #[test]
    fn anything_else_is_unsupported_with_its_position() {
        let err = parse("user.isActive ? \"a\" : \"b\"").unwrap_err();
        assert_eq!(err.pos, 14);
        assert!(err.message.starts_with("unsupported expression"), "{err}");
        let err = parse("Arrays.contains(user.groups, \"x\")").unwrap_err();
        assert!(
            err.to_string()
                .contains("`Arrays.contains(...)` is not among"),
            "{err}"
        );
        assert!(
            parse("org.name")
                .unwrap_err()
                .message
                .contains("no user.* or appuser.*")
        );
    }
}
