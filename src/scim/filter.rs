//! The SCIM filter language (RFC 7644 3.4.2.2): parser and evaluator.
//!
//! Precedence is `not` over `and` over `or`; keywords and operators are
//! case-insensitive; attribute names are case-insensitive (RFC 7643 2.1) and
//! may be URN-qualified. String comparison follows the attribute's
//! `caseExact`.

use std::cmp::Ordering;
use std::fmt;

use serde_json::Value;

use super::schema::{Attr, ResourceSchema, Type};

/// `[urn:...:]name[.sub]`
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttrPath {
    pub uri: Option<String>,
    pub name: String,
    pub sub: Option<String>,
}

impl fmt::Display for AttrPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(uri) = &self.uri {
            write!(f, "{uri}:")?;
        }
        f.write_str(&self.name)?;
        if let Some(sub) = &self.sub {
            write!(f, ".{sub}")?;
        }
        Ok(())
    }
}

/// Whether `text` starts with `urn:` in any letter case (safe on any UTF-8).
pub fn has_urn_prefix(text: &str) -> bool {
    text.len() > 4
        && text
            .get(..4)
            .is_some_and(|p| p.eq_ignore_ascii_case("urn:"))
}

impl AttrPath {
    /// Parses `name`, `name.sub` or `urn:...:name.sub`.
    pub fn parse(text: &str) -> Result<AttrPath, String> {
        let (uri, rest) = if has_urn_prefix(text) {
            match text.rfind(':') {
                Some(i) => (Some(text[..i].to_string()), &text[i + 1..]),
                None => (None, text),
            }
        } else {
            (None, text)
        };
        let (name, sub) = match rest.split_once('.') {
            Some((n, s)) => (n, Some(s)),
            None => (rest, None),
        };
        let valid = |s: &str| {
            let mut chars = s.chars();
            matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '$')
                && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '$')
        };
        if !valid(name) || sub.is_some_and(|s| !valid(s)) {
            return Err(format!("`{text}` is not an attribute path"));
        }
        Ok(AttrPath {
            uri,
            name: name.to_string(),
            sub: sub.map(str::to_string),
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CompareOp {
    Eq,
    Ne,
    Co,
    Sw,
    Ew,
    Gt,
    Ge,
    Lt,
    Le,
}

impl CompareOp {
    /// The operator as a filter writes it.
    pub fn name(self) -> &'static str {
        match self {
            CompareOp::Eq => "eq",
            CompareOp::Ne => "ne",
            CompareOp::Co => "co",
            CompareOp::Sw => "sw",
            CompareOp::Ew => "ew",
            CompareOp::Gt => "gt",
            CompareOp::Ge => "ge",
            CompareOp::Lt => "lt",
            CompareOp::Le => "le",
        }
    }

    fn parse(word: &str) -> Option<CompareOp> {
        Some(match word.to_ascii_lowercase().as_str() {
            "eq" => CompareOp::Eq,
            "ne" => CompareOp::Ne,
            "co" => CompareOp::Co,
            "sw" => CompareOp::Sw,
            "ew" => CompareOp::Ew,
            "gt" => CompareOp::Gt,
            "ge" => CompareOp::Ge,
            "lt" => CompareOp::Lt,
            "le" => CompareOp::Le,
            _ => return None,
        })
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Filter {
    Compare(AttrPath, CompareOp, Value),
    Present(AttrPath),
    And(Box<Filter>, Box<Filter>),
    Or(Box<Filter>, Box<Filter>),
    Not(Box<Filter>),
    /// `emails[type eq "work"]`: some element of the attribute matches.
    ValuePath(AttrPath, Box<Filter>),
}

impl Filter {
    /// The parts of the grammar this filter uses beyond `eq` and `and`
    /// (operators, `or`, `not`, `pr`, value paths), sorted, each once: what
    /// a server offering only those two may refuse (RFC 7644 Table 9).
    pub fn beyond_eq_and(&self) -> Vec<&'static str> {
        fn walk(filter: &Filter, used: &mut Vec<&'static str>) {
            match filter {
                Filter::Compare(_, op, _) if *op != CompareOp::Eq => used.push(op.name()),
                Filter::Compare(..) => {}
                Filter::Present(_) => used.push("pr"),
                Filter::And(a, b) => {
                    walk(a, used);
                    walk(b, used);
                }
                Filter::Or(a, b) => {
                    used.push("or");
                    walk(a, used);
                    walk(b, used);
                }
                Filter::Not(inner) => {
                    used.push("not");
                    walk(inner, used);
                }
                Filter::ValuePath(_, inner) => {
                    used.push("value paths");
                    walk(inner, used);
                }
            }
        }
        let mut used = Vec::new();
        walk(self, &mut used);
        used.sort_unstable();
        used.dedup();
        used
    }
}

/// A filter as text that [`Filter::parse`] reads back to the same filter,
/// with only the parentheses precedence (`not` over `and` over `or`) and
/// left association need: `a or b and c` stays as it is, so a server that
/// reads `and` and `or` left to right shows. Strings are JSON literals. The
/// explorer writes its filters with it, so what it sends is what the double
/// parses.
impl fmt::Display for Filter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        /// `child` as an operand of a binary operator binding `level`
        /// (1 `or`, 2 `and`); `right` operands of the same level need
        /// parentheses, since both associate to the left.
        fn operand(
            child: &Filter,
            level: u8,
            right: bool,
            f: &mut fmt::Formatter<'_>,
        ) -> fmt::Result {
            let own = match child {
                Filter::Or(..) => 1,
                Filter::And(..) => 2,
                _ => 3,
            };
            if own < level || (right && own == level) {
                write!(f, "({child})")
            } else {
                write!(f, "{child}")
            }
        }
        match self {
            Filter::Compare(path, op, value) => write!(f, "{path} {} {value}", op.name()),
            Filter::Present(path) => write!(f, "{path} pr"),
            Filter::And(a, b) => {
                operand(a, 2, false, f)?;
                f.write_str(" and ")?;
                operand(b, 2, true, f)
            }
            Filter::Or(a, b) => {
                operand(a, 1, false, f)?;
                f.write_str(" or ")?;
                operand(b, 1, true, f)
            }
            Filter::Not(inner) => write!(f, "not ({inner})"),
            Filter::ValuePath(path, inner) => write!(f, "{path}[{inner}]"),
        }
    }
}

impl Filter {
    /// The same filter with each comparison on a sub-attribute of a
    /// multi-valued attribute (`emails.value eq "x"`) written as the value
    /// path that selects the same resources (`emails[value eq "x"]`): RFC
    /// 7644 3.4.2.2 (Figure 1) takes both, and a multi-valued attribute
    /// matches when any of its values does.
    pub fn with_value_paths(&self, schema: &ResourceSchema) -> Filter {
        let multi = |path: &AttrPath| {
            path.sub.is_some()
                && schema
                    .attr(path.uri.as_deref(), &path.name)
                    .is_some_and(|a| a.multi)
        };
        let element = |path: &AttrPath, inner: Filter| {
            Filter::ValuePath(
                AttrPath {
                    sub: None,
                    ..path.clone()
                },
                Box::new(inner),
            )
        };
        let sub = |path: &AttrPath| AttrPath {
            uri: None,
            name: path.sub.clone().unwrap_or_default(),
            sub: None,
        };
        match self {
            Filter::Compare(path, op, value) if multi(path) => {
                element(path, Filter::Compare(sub(path), *op, value.clone()))
            }
            Filter::Present(path) if multi(path) => element(path, Filter::Present(sub(path))),
            Filter::And(a, b) => Filter::And(
                Box::new(a.with_value_paths(schema)),
                Box::new(b.with_value_paths(schema)),
            ),
            Filter::Or(a, b) => Filter::Or(
                Box::new(a.with_value_paths(schema)),
                Box::new(b.with_value_paths(schema)),
            ),
            Filter::Not(inner) => Filter::Not(Box::new(inner.with_value_paths(schema))),
            other => other.clone(),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Open,
    Close,
    OpenBracket,
    CloseBracket,
    Word(String),
    Str(String),
}

fn tokenize(text: &str) -> Result<Vec<Token>, String> {
    let mut tokens = Vec::new();
    let mut chars = text.char_indices().peekable();
    while let Some(&(start, c)) = chars.peek() {
        match c {
            c if c.is_whitespace() => {
                chars.next();
            }
            '(' | ')' | '[' | ']' => {
                chars.next();
                tokens.push(match c {
                    '(' => Token::Open,
                    ')' => Token::Close,
                    '[' => Token::OpenBracket,
                    _ => Token::CloseBracket,
                });
            }
            '"' => {
                // A JSON string literal: find its end, honouring escapes.
                chars.next();
                let mut escaped = false;
                let mut end = None;
                for (i, c) in chars.by_ref() {
                    if escaped {
                        escaped = false;
                    } else if c == '\\' {
                        escaped = true;
                    } else if c == '"' {
                        end = Some(i);
                        break;
                    }
                }
                let end = end.ok_or("unterminated string")?;
                let literal: String = serde_json::from_str(&text[start..=end])
                    .map_err(|e| format!("invalid string literal: {e}"))?;
                tokens.push(Token::Str(literal));
            }
            _ => {
                let mut end = text.len();
                while let Some(&(i, c)) = chars.peek() {
                    if c.is_whitespace() || "()[]\"".contains(c) {
                        end = i;
                        break;
                    }
                    chars.next();
                }
                tokens.push(Token::Word(text[start..end].to_string()));
            }
        }
    }
    Ok(tokens)
}

struct Parser {
    tokens: Vec<Token>,
    pos: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.pos)
    }

    fn next(&mut self) -> Option<Token> {
        let t = self.tokens.get(self.pos).cloned();
        self.pos += 1;
        t
    }

    fn keyword(&self, word: &str) -> bool {
        matches!(self.peek(), Some(Token::Word(w)) if w.eq_ignore_ascii_case(word))
    }

    fn or(&mut self) -> Result<Filter, String> {
        let mut left = self.and()?;
        while self.keyword("or") {
            self.pos += 1;
            let right = self.and()?;
            left = Filter::Or(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn and(&mut self) -> Result<Filter, String> {
        let mut left = self.unary()?;
        while self.keyword("and") {
            self.pos += 1;
            let right = self.unary()?;
            left = Filter::And(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn unary(&mut self) -> Result<Filter, String> {
        if self.keyword("not") {
            self.pos += 1;
            if self.next() != Some(Token::Open) {
                return Err("`not` must be followed by `(`".into());
            }
            let inner = self.or()?;
            self.expect(Token::Close, "`)`")?;
            return Ok(Filter::Not(Box::new(inner)));
        }
        if self.peek() == Some(&Token::Open) {
            self.pos += 1;
            let inner = self.or()?;
            self.expect(Token::Close, "`)`")?;
            return Ok(inner);
        }
        self.attr_exp()
    }

    fn expect(&mut self, token: Token, what: &str) -> Result<(), String> {
        match self.next() {
            Some(t) if t == token => Ok(()),
            Some(t) => Err(format!("expected {what}, found {}", describe(&t))),
            None => Err(format!("expected {what}, found the end of the filter")),
        }
    }

    fn attr_exp(&mut self) -> Result<Filter, String> {
        let path = match self.next() {
            Some(Token::Word(w)) => AttrPath::parse(&w)?,
            Some(t) => return Err(format!("expected an attribute, found {}", describe(&t))),
            None => return Err("expected an attribute, found the end of the filter".into()),
        };
        if self.peek() == Some(&Token::OpenBracket) {
            self.pos += 1;
            let inner = self.or()?;
            self.expect(Token::CloseBracket, "`]`")?;
            return Ok(Filter::ValuePath(path, Box::new(inner)));
        }
        let op = match self.next() {
            Some(Token::Word(w)) if w.eq_ignore_ascii_case("pr") => {
                return Ok(Filter::Present(path));
            }
            Some(Token::Word(w)) => CompareOp::parse(&w)
                .ok_or_else(|| format!("unknown operator `{w}` after `{path}`"))?,
            Some(t) => {
                return Err(format!(
                    "expected an operator after `{path}`, found {}",
                    describe(&t)
                ));
            }
            None => return Err(format!("expected an operator after `{path}`")),
        };
        let value = match self.next() {
            Some(Token::Str(s)) => Value::String(s),
            Some(Token::Word(w)) => match w.as_str() {
                "true" => Value::Bool(true),
                "false" => Value::Bool(false),
                "null" => Value::Null,
                number => serde_json::from_str::<serde_json::Number>(number)
                    .map(Value::Number)
                    .map_err(|_| {
                        format!("`{w}` is not a value: strings must be in double quotes")
                    })?,
            },
            Some(t) => return Err(format!("expected a value, found {}", describe(&t))),
            None => return Err(format!("expected a value after `{path}`")),
        };
        Ok(Filter::Compare(path, op, value))
    }
}

fn describe(token: &Token) -> String {
    match token {
        Token::Open => "`(`".into(),
        Token::Close => "`)`".into(),
        Token::OpenBracket => "`[`".into(),
        Token::CloseBracket => "`]`".into(),
        Token::Word(w) => format!("`{w}`"),
        Token::Str(s) => format!("\"{s}\""),
    }
}

impl Filter {
    /// Parses a whole filter; the error text is the `detail` of an invalidFilter answer.
    pub fn parse(text: &str) -> Result<Filter, String> {
        let tokens = tokenize(text)?;
        if tokens.is_empty() {
            return Err("empty filter".into());
        }
        let mut parser = Parser { tokens, pos: 0 };
        let filter = parser.or()?;
        match parser.peek() {
            None => Ok(filter),
            Some(t) => Err(format!(
                "unexpected {} after a complete filter",
                describe(t)
            )),
        }
    }
}

/// Where attribute names are resolved: a resource, or one element of a
/// multi-valued attribute (inside `[...]`).
#[derive(Clone, Copy)]
pub enum Context<'a> {
    Resource(&'a ResourceSchema),
    Element(&'a Attr),
}

/// The first attribute of `filter` that `context` does not define: a filter
/// on it is "not supported" (RFC 7644 3.12, invalidFilter), not a filter
/// that matches nothing, lest a client matching on it create duplicates.
pub fn unknown_attribute(filter: &Filter, context: Context<'_>) -> Option<String> {
    let defined = |path: &AttrPath| -> Option<&Attr> {
        let attr = match context {
            Context::Resource(schema) => schema.attr(path.uri.as_deref(), &path.name)?,
            Context::Element(parent) => parent.sub_attr(&path.name)?,
        };
        match &path.sub {
            None => Some(attr),
            Some(sub) => attr.sub_attr(sub),
        }
    };
    match filter {
        Filter::Compare(path, _, _) | Filter::Present(path) => {
            defined(path).is_none().then(|| path.to_string())
        }
        Filter::And(a, b) | Filter::Or(a, b) => {
            unknown_attribute(a, context).or_else(|| unknown_attribute(b, context))
        }
        Filter::Not(inner) => unknown_attribute(inner, context),
        Filter::ValuePath(path, inner) => match defined(path) {
            None => Some(path.to_string()),
            Some(attr) => unknown_attribute(inner, Context::Element(attr)),
        },
    }
}

/// The value(s) a path designates in `node`, and the definition that rules
/// their comparison (None when the schema does not know the attribute).
pub fn resolve<'v, 's>(
    context: Context<'s>,
    node: &'v Value,
    path: &AttrPath,
) -> (Vec<&'v Value>, Option<&'s Attr>) {
    let (base, def) = match context {
        Context::Resource(schema) => {
            let extension = path
                .uri
                .as_deref()
                .filter(|u| !u.eq_ignore_ascii_case(schema.core.id));
            let base = match extension {
                Some(urn) => get_ci(node, urn),
                None => Some(node),
            };
            (base, schema.attr(path.uri.as_deref(), &path.name))
        }
        Context::Element(parent) => (Some(node), parent.sub_attr(&path.name)),
    };
    let Some(value) = base.and_then(|b| get_ci(b, &path.name)) else {
        return (Vec::new(), def);
    };
    let elements: Vec<&Value> = match value {
        Value::Array(items) => items.iter().collect(),
        v => vec![v],
    };
    match &path.sub {
        Some(sub) => (
            elements
                .into_iter()
                .filter_map(|e| get_ci(e, sub))
                .collect(),
            def.and_then(|d| d.sub_attr(sub)),
        ),
        // A complex multi-valued attribute compares by its `value` (RFC 7644 3.4.2.2).
        None if def.is_some_and(|d| d.ty == Type::Complex) => (
            elements
                .into_iter()
                .filter_map(|e| get_ci(e, "value"))
                .collect(),
            def.and_then(|d| d.sub_attr("value")),
        ),
        None => (elements, def),
    }
}

/// A member of an object, by name ignoring case.
pub fn get_ci<'v>(node: &'v Value, name: &str) -> Option<&'v Value> {
    let map = node.as_object()?;
    map.get(name).or_else(|| {
        map.iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v)
    })
}

/// A filter that parsed but cannot be applied (RFC 7644: invalidFilter).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EvalError(pub String);

pub fn matches(filter: &Filter, context: Context<'_>, node: &Value) -> Result<bool, EvalError> {
    Ok(match filter {
        Filter::And(a, b) => matches(a, context, node)? && matches(b, context, node)?,
        Filter::Or(a, b) => matches(a, context, node)? || matches(b, context, node)?,
        Filter::Not(inner) => !matches(inner, context, node)?,
        Filter::Present(path) => {
            let (values, _) = resolve(context, node, path);
            values.iter().any(|v| match v {
                Value::Null => false,
                Value::String(s) => !s.is_empty(),
                Value::Array(a) => !a.is_empty(),
                Value::Object(o) => !o.is_empty(),
                _ => true,
            })
        }
        Filter::ValuePath(path, inner) => {
            let (elements, def) = match context {
                Context::Resource(schema) => {
                    let whole = AttrPath {
                        sub: None,
                        ..path.clone()
                    };
                    let base = match whole.uri.as_deref() {
                        Some(u) if !u.eq_ignore_ascii_case(schema.core.id) => get_ci(node, u),
                        _ => Some(node),
                    };
                    (
                        base.and_then(|b| get_ci(b, &path.name)),
                        schema.attr(path.uri.as_deref(), &path.name),
                    )
                }
                Context::Element(_) => {
                    return Err(EvalError("value paths cannot be nested".into()));
                }
            };
            let Some(def) = def else { return Ok(false) };
            let items: Vec<&Value> = match elements {
                Some(Value::Array(items)) => items.iter().collect(),
                Some(v) => vec![v],
                None => Vec::new(),
            };
            let mut any = false;
            for item in items {
                if matches(inner, Context::Element(def), item)? {
                    any = true;
                    break;
                }
            }
            any
        }
        Filter::Compare(path, op, wanted) => {
            let (values, def) = resolve(context, node, path);
            let case_exact = def.is_some_and(|d| d.case_exact);
            if let Some(d) = def
                && d.ty == Type::Boolean
                && !matches!(op, CompareOp::Eq | CompareOp::Ne)
            {
                return Err(EvalError(format!(
                    "`{path}` is a boolean: only eq and ne apply"
                )));
            }
            let any_match = |op| values.iter().any(|v| compare(v, op, wanted, case_exact));
            match op {
                // `ne` holds when no value equals (so also when absent).
                CompareOp::Ne => !any_match(CompareOp::Eq),
                CompareOp::Eq if wanted.is_null() => values.iter().all(|v| v.is_null()),
                op => any_match(*op),
            }
        }
    })
}

fn compare(actual: &Value, op: CompareOp, wanted: &Value, case_exact: bool) -> bool {
    match (actual, wanted) {
        (Value::String(a), Value::String(w)) => {
            let (a, w) = if case_exact {
                (a.clone(), w.clone())
            } else {
                (a.to_lowercase(), w.to_lowercase())
            };
            match op {
                CompareOp::Eq => a == w,
                CompareOp::Ne => a != w,
                CompareOp::Co => a.contains(&w),
                CompareOp::Sw => a.starts_with(&w),
                CompareOp::Ew => a.ends_with(&w),
                CompareOp::Gt => a > w,
                CompareOp::Ge => a >= w,
                CompareOp::Lt => a < w,
                CompareOp::Le => a <= w,
            }
        }
        (Value::Number(a), Value::Number(w)) => {
            let ordering = a
                .as_f64()
                .zip(w.as_f64())
                .and_then(|(a, w)| a.partial_cmp(&w));
            match (op, ordering) {
                (_, None) => false,
                (CompareOp::Eq, Some(o)) => o == Ordering::Equal,
                (CompareOp::Ne, Some(o)) => o != Ordering::Equal,
                (CompareOp::Gt, Some(o)) => o == Ordering::Greater,
                (CompareOp::Ge, Some(o)) => o != Ordering::Less,
                (CompareOp::Lt, Some(o)) => o == Ordering::Less,
                (CompareOp::Le, Some(o)) => o != Ordering::Greater,
                _ => false,
            }
        }
        (Value::Bool(a), Value::Bool(w)) => match op {
            CompareOp::Eq => a == w,
            CompareOp::Ne => a != w,
            _ => false,
        },
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scim::schema::{Kind, ResourceSchema};
    use serde_json::json;

    /// Every example filter of RFC 7644 3.4.2.2 parses.
    #[test]
    fn rfc_examples_parse() {
        let examples = [
            r#"userName Eq "john""#,
            r#"Username eq "john""#,
            r#"userName eq "bjensen""#,
            r#"name.familyName co "O'Malley""#,
            r#"userName sw "J""#,
            r#"urn:ietf:params:scim:schemas:core:2.0:User:userName sw "J""#,
            "title pr",
            r#"meta.lastModified gt "2011-05-13T04:42:34Z""#,
            r#"meta.lastModified ge "2011-05-13T04:42:34Z""#,
            r#"meta.lastModified lt "2011-05-13T04:42:34Z""#,
            r#"meta.lastModified le "2011-05-13T04:42:34Z""#,
            r#"title pr and userType eq "Employee""#,
            r#"title pr or userType eq "Intern""#,
            r#"schemas eq "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User""#,
            r#"userType eq "Employee" and (emails co "example.com" or emails.value co "example.org")"#,
            r#"userType ne "Employee" and not (emails co "example.com" or emails.value co "example.org")"#,
            r#"userType eq "Employee" and (emails.type eq "work")"#,
            r#"userType eq "Employee" and emails[type eq "work" and value co "@example.com"]"#,
            r#"emails[type eq "work" and value co "@example.com"] or ims[type eq "xmpp" and value co "@foo.com"]"#,
        ];
        for example in examples {
            Filter::parse(example).unwrap_or_else(|e| panic!("{example}: {e}"));
        }
    }

    #[test]
    fn precedence_is_not_and_or() {
        let f = Filter::parse(r#"a eq 1 or b eq 2 and c eq 3"#).unwrap();
        assert!(matches!(f, Filter::Or(_, ref right) if matches!(**right, Filter::And(_, _))));
    }

    #[test]
    fn garbage_is_refused_with_a_reason() {
        for (bad, reason) in [
            ("userName eq", "expected a value"),
            ("userName equals \"x\"", "unknown operator `equals`"),
            ("userName eq bjensen", "strings must be in double quotes"),
            ("(userName eq \"x\"", "expected `)`"),
            ("userName eq \"x", "unterminated string"),
            ("userName eq \"x\" garbage", "unexpected `garbage`"),
            ("", "empty filter"),
        ] {
            let err = Filter::parse(bad).unwrap_err();
            assert!(err.contains(reason), "{bad}: {err}");
        }
    }

    fn user() -> Value {
        json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
            "id": "2819c223",
            "externalId": "Ext-1",
            "userName": "BJensen@example.com",
            "name": {"familyName": "O'Malley", "givenName": "Barbara"},
            "title": "Tour Guide",
            "userType": "Employee",
            "active": true,
            "emails": [
                {"value": "bjensen@example.com", "type": "work", "primary": true},
                {"value": "babs@jensen.org", "type": "home"}
            ],
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"employeeNumber": "701984"},
            "meta": {"lastModified": "2011-05-13T04:42:34Z"}
        })
    }

    fn eval(filter: &str) -> bool {
        let schema = ResourceSchema::for_kind(Kind::User);
        matches(
            &Filter::parse(filter).unwrap(),
            Context::Resource(&schema),
            &user(),
        )
        .unwrap()
    }

    #[test]
    fn evaluation_follows_case_exactness_and_multi_values() {
        assert!(eval(r#"userName eq "bjensen@EXAMPLE.com""#));
        assert!(eval(r#"USERNAME eq "bjensen@example.com""#));
        assert!(eval(r#"externalId eq "Ext-1""#));
        assert!(!eval(r#"externalId eq "ext-1""#), "externalId is caseExact");
        assert!(eval(r#"name.familyName co "o'malley""#));
        assert!(eval(r#"emails co "jensen.org""#));
        assert!(eval(
            r#"emails[type eq "work" and value co "@example.com"]"#
        ));
        assert!(!eval(
            r#"emails[type eq "home" and value co "@example.com"]"#
        ));
        assert!(eval(
            r#"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber eq "701984""#
        ));
        assert!(eval(
            r#"urn:ietf:params:scim:schemas:core:2.0:User:userName sw "bj""#
        ));
        assert!(eval(r#"meta.lastModified ge "2011-05-13T04:42:34Z""#));
        assert!(!eval(r#"meta.lastModified gt "2011-05-13T04:42:34Z""#));
        assert!(eval("title pr and not (nickName pr)"));
        assert!(eval("active eq true"));
        assert!(eval(r#"nickName ne "x""#));
        assert!(!eval(r#"userName ne "BJENSEN@example.com""#));
    }

    #[test]
    fn ordering_a_boolean_is_an_error() {
        let schema = ResourceSchema::for_kind(Kind::User);
        let f = Filter::parse("active gt true").unwrap();
        assert!(matches(&f, Context::Resource(&schema), &user()).is_err());
    }

    mod written {
        use super::*;
        use proptest::prelude::*;

        fn path() -> impl Strategy<Value = AttrPath> {
            (
                prop::option::of(Just(
                    "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User".to_string(),
                )),
                prop::sample::select(vec!["userName", "emails", "name", "active"]),
                prop::option::of(prop::sample::select(vec!["value", "type", "givenName"])),
            )
                .prop_map(|(uri, name, sub)| AttrPath {
                    uri,
                    name: name.to_string(),
                    sub: sub.map(str::to_string),
                })
        }

        fn value() -> impl Strategy<Value = Value> {
            prop_oneof![
                any::<String>().prop_map(Value::String),
                any::<bool>().prop_map(Value::Bool),
                any::<i32>().prop_map(|n| json!(n)),
                Just(Value::Null),
            ]
        }

        fn filter() -> impl Strategy<Value = Filter> {
            let op = prop::sample::select(vec![
                CompareOp::Eq,
                CompareOp::Ne,
                CompareOp::Co,
                CompareOp::Sw,
                CompareOp::Ew,
                CompareOp::Gt,
                CompareOp::Le,
            ]);
            let leaf = prop_oneof![
                (path(), op, value()).prop_map(|(p, o, v)| Filter::Compare(p, o, v)),
                path().prop_map(Filter::Present),
            ];
            leaf.prop_recursive(4, 16, 2, |inner| {
                prop_oneof![
                    (inner.clone(), inner.clone())
                        .prop_map(|(a, b)| Filter::And(Box::new(a), Box::new(b))),
                    (inner.clone(), inner.clone())
                        .prop_map(|(a, b)| Filter::Or(Box::new(a), Box::new(b))),
                    inner.clone().prop_map(|f| Filter::Not(Box::new(f))),
                    (path(), inner).prop_map(|(p, f)| Filter::ValuePath(
                        AttrPath { sub: None, ..p },
                        Box::new(f)
                    )),
                ]
            })
        }

        #[test]
        fn a_sub_attribute_of_a_multi_valued_attribute_becomes_a_value_path() {
            let schema = ResourceSchema::for_kind(Kind::User);
            let f = Filter::parse(r#"emails.value co "x" and name.familyName eq "y""#).unwrap();
            assert_eq!(
                f.with_value_paths(&schema).to_string(),
                r#"emails[value co "x"] and name.familyName eq "y""#
            );
        }

        #[test]
        fn only_the_parentheses_precedence_needs_are_written() {
            for text in [
                r#"a eq "1" or b eq "2" and c eq "3""#,
                r#"(a eq "1" or b eq "2") and c eq "3""#,
                r#"a eq "1" and (b eq "2" and c eq "3")"#,
                r#"not (a pr or b pr) and c pr"#,
            ] {
                assert_eq!(Filter::parse(text).unwrap().to_string(), text);
            }
        }

        proptest! {
            /// What the explorer writes is what the double reads: any
            /// filter, with any string in it, parses back to itself.
            #[test]
            fn a_written_filter_parses_back_to_itself(f in filter()) {
                let text = f.to_string();
                prop_assert_eq!(Filter::parse(&text), Ok(f), "{}", text);
            }
        }
    }
}
