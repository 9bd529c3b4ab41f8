//! Predicates on one JSON value (a body member found by JSON Pointer, or a
//! header value as a string).
//!
//! In a suite, a scalar or a list means equality, and a mapping is a set of
//! predicates that must all hold:
//!
//! ```yaml
//! /userName: "{{ user_name }}"                    # eq
//! /id: { type: string, not_empty: true }
//! /emails: { count: 1, contains: { value: "a@example.com", primary: true } }
//! /meta: { eq: { resourceType: User } }           # eq of an object, spelled out
//! ```

use regex::Regex;
use serde_json::Value;

use crate::diagnostic::did_you_mean;
use crate::template::{RenderError, Scope, ValueTemplate, VarRef};

/// The JSON types `type:` can name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JsonType {
    String,
    Number,
    Integer,
    Boolean,
    Array,
    Object,
    Null,
}

impl JsonType {
    const NAMES: [&'static str; 7] = [
        "string", "number", "integer", "boolean", "array", "object", "null",
    ];

    fn parse(name: &str) -> Option<JsonType> {
        Some(match name {
            "string" => JsonType::String,
            "number" => JsonType::Number,
            "integer" => JsonType::Integer,
            "boolean" => JsonType::Boolean,
            "array" => JsonType::Array,
            "object" => JsonType::Object,
            "null" => JsonType::Null,
            _ => return None,
        })
    }

    fn name(self) -> &'static str {
        match self {
            JsonType::String => "string",
            JsonType::Number => "number",
            JsonType::Integer => "integer",
            JsonType::Boolean => "boolean",
            JsonType::Array => "array",
            JsonType::Object => "object",
            JsonType::Null => "null",
        }
    }

    fn holds(self, value: &Value) -> bool {
        match self {
            JsonType::String => value.is_string(),
            JsonType::Number => value.is_number(),
            JsonType::Integer => value.is_i64() || value.is_u64(),
            JsonType::Boolean => value.is_boolean(),
            JsonType::Array => value.is_array(),
            JsonType::Object => value.is_object(),
            JsonType::Null => value.is_null(),
        }
    }
}

#[derive(Debug, Clone)]
pub enum Predicate {
    Eq(ValueTemplate),
    Ne(ValueTemplate),
    /// Equal strings, ignoring letter case (for caseExact=false attributes).
    EqIgnoreCase(ValueTemplate),
    Exists,
    Absent,
    Type(JsonType),
    Matches(Regex),
    /// A substring of a string, or an array element that matches (objects
    /// match when every given member is equal).
    Contains(ValueTemplate),
    /// An array element matching this must not be there.
    NotContains(ValueTemplate),
    Count(usize),
    OneOf(Vec<ValueTemplate>),
    /// Equal to none of the values; for an array, no element matches any
    /// (objects as `contains` matches them). Absent passes.
    NoneOf(Vec<ValueTemplate>),
    NotEmpty,
    /// Absent, null or an empty array: the states RFC 7643 2.5 holds equal.
    Unassigned,
}

pub const PREDICATE_NAMES: [&str; 14] = [
    "eq",
    "ne",
    "eq_ignore_case",
    "exists",
    "absent",
    "type",
    "matches",
    "contains",
    "not_contains",
    "count",
    "one_of",
    "none_of",
    "not_empty",
    "unassigned",
];

/// A predicate written wrongly in a suite.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PredicateError {
    pub message: String,
    pub hint: Option<String>,
}

impl PredicateError {
    fn new(message: impl Into<String>) -> PredicateError {
        PredicateError {
            message: message.into(),
            hint: None,
        }
    }

    fn hint(mut self, hint: impl Into<String>) -> PredicateError {
        self.hint = Some(hint.into());
        self
    }
}

fn template(value: &Value) -> Result<ValueTemplate, PredicateError> {
    ValueTemplate::parse(value)
        .map_err(|e| PredicateError::new(format!("in a template: {}", e.message)).hint(e.hint))
}

fn flag(name: &str, value: &Value) -> Result<bool, PredicateError> {
    value
        .as_bool()
        .ok_or_else(|| PredicateError::new(format!("`{name}` takes true or false, not {value}")))
}

/// Parses what a suite wrote for one pointer or header.
pub fn parse_predicates(written: &Value) -> Result<Vec<Predicate>, PredicateError> {
    let Value::Object(map) = written else {
        return Ok(vec![Predicate::Eq(template(written)?)]);
    };
    if map.is_empty() {
        return Err(PredicateError::new("an empty mapping checks nothing")
            .hint("write a value to compare with, or predicates such as `{ exists: true }`"));
    }
    let mut predicates = Vec::new();
    for (name, arg) in map {
        let predicate = match name.as_str() {
            "eq" => Predicate::Eq(template(arg)?),
            "ne" => Predicate::Ne(template(arg)?),
            "eq_ignore_case" => Predicate::EqIgnoreCase(template(arg)?),
            "exists" => {
                if flag(name, arg)? {
                    Predicate::Exists
                } else {
                    Predicate::Absent
                }
            }
            "absent" => {
                if flag(name, arg)? {
                    Predicate::Absent
                } else {
                    Predicate::Exists
                }
            }
            "not_empty" => {
                if !flag(name, arg)? {
                    return Err(PredicateError::new("`not_empty: false` checks nothing")
                        .hint("remove it, or use `count: 0` for an empty array"));
                }
                Predicate::NotEmpty
            }
            "unassigned" => {
                if !flag(name, arg)? {
                    return Err(PredicateError::new("`unassigned: false` checks nothing")
                        .hint("use `not_empty: true` for a value that must be there"));
                }
                Predicate::Unassigned
            }
            "type" => {
                let ty = arg.as_str().and_then(JsonType::parse).ok_or_else(|| {
                    PredicateError::new(format!("unknown JSON type {arg}"))
                        .hint(format!("one of: {}", JsonType::NAMES.join(", ")))
                })?;
                Predicate::Type(ty)
            }
            "matches" => {
                let pattern = arg.as_str().ok_or_else(|| {
                    PredicateError::new("`matches` takes a regular expression string")
                })?;
                Predicate::Matches(Regex::new(pattern).map_err(|e| {
                    PredicateError::new(format!("invalid regular expression: {e}"))
                        .hint("the syntax is that of the `regex` crate; escape `\\` in double quotes or use single quotes")
                })?)
            }
            "contains" => Predicate::Contains(template(arg)?),
            "not_contains" => Predicate::NotContains(template(arg)?),
            "count" => {
                let n = arg.as_u64().ok_or_else(|| {
                    PredicateError::new(format!("`count` takes a whole number, not {arg}"))
                })?;
                Predicate::Count(usize::try_from(n).unwrap_or(usize::MAX))
            }
            "one_of" => {
                let Value::Array(options) = arg else {
                    return Err(PredicateError::new("`one_of` takes a list of values"));
                };
                Predicate::OneOf(options.iter().map(template).collect::<Result<_, _>>()?)
            }
            "none_of" => {
                let Value::Array(options) = arg else {
                    return Err(PredicateError::new("`none_of` takes a list of values"));
                };
                Predicate::NoneOf(options.iter().map(template).collect::<Result<_, _>>()?)
            }
            other => {
                let mut error = PredicateError::new(format!("unknown predicate `{other}`"));
                error = match did_you_mean(other, PREDICATE_NAMES) {
                    Some(best) => error.hint(format!(
                        "did you mean `{best}`? To compare with an object, write `{{ eq: {{...}} }}`"
                    )),
                    None => error.hint(format!(
                        "predicates are {}; to compare with an object, write `{{ eq: {{...}} }}`",
                        PREDICATE_NAMES.join(", ")
                    )),
                };
                return Err(error);
            }
        };
        predicates.push(predicate);
    }
    Ok(predicates)
}

/// The variables a predicate's templates use.
pub fn predicate_vars(predicate: &Predicate) -> Vec<&VarRef> {
    match predicate {
        Predicate::Eq(t)
        | Predicate::Ne(t)
        | Predicate::EqIgnoreCase(t)
        | Predicate::Contains(t)
        | Predicate::NotContains(t) => t.vars(),
        Predicate::OneOf(options) | Predicate::NoneOf(options) => {
            options.iter().flat_map(|t| t.vars()).collect()
        }
        _ => Vec::new(),
    }
}

/// JSON equality where numbers compare by value (`1` equals `1.0`).
pub fn json_eq(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| json_eq(a, b))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| json_eq(v, w)))
        }
        _ => a == b,
    }
}

/// `actual` matches `wanted`: objects by the members `wanted` names, the rest by equality.
fn json_matches(actual: &Value, wanted: &Value) -> bool {
    match (actual, wanted) {
        (Value::Object(a), Value::Object(w)) => w
            .iter()
            .all(|(k, v)| a.get(k).is_some_and(|x| json_matches(x, v))),
        _ => json_eq(actual, wanted),
    }
}

fn describe(value: Option<&Value>) -> String {
    match value {
        None => "nothing (absent)".into(),
        Some(v) => super::shorten(&v.to_string(), 200),
    }
}

/// Evaluates a predicate; `Err` carries what was expected and what came.
pub fn evaluate(
    predicate: &Predicate,
    actual: Option<&Value>,
    scope: &Scope,
) -> Result<Result<(), String>, RenderError> {
    let got = || describe(actual);
    let outcome = match predicate {
        Predicate::Exists => actual
            .is_some()
            .then_some(())
            .ok_or_else(|| "expected to exist, but it is absent".to_string()),
        Predicate::Absent => match actual {
            None => Ok(()),
            Some(_) => Err(format!("expected to be absent, got {}", got())),
        },
        Predicate::Eq(t) => {
            let want = t.render(scope)?;
            match actual {
                Some(a) if json_eq(a, &want) => Ok(()),
                _ => Err(format!("expected {want}, got {}", got())),
            }
        }
        Predicate::Ne(t) => {
            let unwanted = t.render(scope)?;
            match actual {
                Some(a) if json_eq(a, &unwanted) => {
                    Err(format!("expected anything but {unwanted}, got it"))
                }
                _ => Ok(()),
            }
        }
        Predicate::EqIgnoreCase(t) => {
            let want = t.render(scope)?;
            let same = match (actual, &want) {
                (Some(Value::String(a)), Value::String(w)) => a.to_lowercase() == w.to_lowercase(),
                _ => false,
            };
            if same {
                Ok(())
            } else {
                Err(format!("expected {want} (any letter case), got {}", got()))
            }
        }
        Predicate::Type(ty) => match actual {
            Some(a) if ty.holds(a) => Ok(()),
            _ => Err(format!("expected a {}, got {}", ty.name(), got())),
        },
        Predicate::Matches(re) => match actual {
            Some(Value::String(s)) if re.is_match(s) => Ok(()),
            _ => Err(format!("expected a string matching /{re}/, got {}", got())),
        },
        Predicate::Contains(t) => {
            let want = t.render(scope)?;
            let found = match (actual, &want) {
                (Some(Value::String(s)), Value::String(w)) => s.contains(w.as_str()),
                (Some(Value::Array(items)), w) => items.iter().any(|i| json_matches(i, w)),
                _ => false,
            };
            if found {
                Ok(())
            } else {
                Err(format!("expected to contain {want}, got {}", got()))
            }
        }
        Predicate::NotContains(t) => {
            let unwanted = t.render(scope)?;
            let found = match actual {
                Some(Value::Array(items)) => items.iter().any(|i| json_matches(i, &unwanted)),
                Some(Value::String(s)) => unwanted.as_str().is_some_and(|w| s.contains(w)),
                _ => false,
            };
            if found {
                Err(format!("expected not to contain {unwanted}, got {}", got()))
            } else {
                Ok(())
            }
        }
        Predicate::Count(n) => {
            let len = match actual {
                Some(Value::Array(items)) => Some(items.len()),
                Some(Value::Object(map)) => Some(map.len()),
                _ => None,
            };
            if len == Some(*n) {
                Ok(())
            } else {
                Err(format!("expected {n} element(s), got {}", got()))
            }
        }
        Predicate::NoneOf(options) => {
            let options: Vec<Value> = options
                .iter()
                .map(|t| t.render(scope))
                .collect::<Result<_, _>>()?;
            let hit = match actual {
                Some(Value::Array(items)) => items
                    .iter()
                    .find(|i| options.iter().any(|o| json_matches(i, o)))
                    .cloned(),
                Some(a) => options.iter().any(|o| json_eq(a, o)).then(|| a.clone()),
                None => None,
            };
            match hit {
                None => Ok(()),
                Some(hit) => Err(format!(
                    "expected none of {} of them, got {hit}",
                    options.len()
                )),
            }
        }
        Predicate::OneOf(options) => {
            let options: Vec<Value> = options
                .iter()
                .map(|t| t.render(scope))
                .collect::<Result<_, _>>()?;
            match actual {
                Some(a) if options.iter().any(|o| json_eq(a, o)) => Ok(()),
                _ => Err(format!(
                    "expected one of {}, got {}",
                    Value::Array(options),
                    got()
                )),
            }
        }
        Predicate::Unassigned => match actual {
            None | Some(Value::Null) => Ok(()),
            Some(Value::Array(a)) if a.is_empty() => Ok(()),
            Some(_) => Err(format!(
                "expected unassigned (absent, null or []), got {}",
                got()
            )),
        },
        Predicate::NotEmpty => {
            let empty = match actual {
                None | Some(Value::Null) => true,
                Some(Value::String(s)) => s.is_empty(),
                Some(Value::Array(a)) => a.is_empty(),
                Some(Value::Object(o)) => o.is_empty(),
                Some(_) => false,
            };
            if empty {
                Err(format!("expected a non-empty value, got {}", got()))
            } else {
                Ok(())
            }
        }
    };
    Ok(outcome)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn check(written: Value, actual: Option<Value>) -> Result<(), String> {
        let scope = Scope::default();
        for p in parse_predicates(&written).unwrap() {
            evaluate(&p, actual.as_ref(), &scope).unwrap()?;
        }
        Ok(())
    }

    #[test]
    fn scalars_mean_equality_with_numeric_tolerance() {
        assert!(check(json!(1), Some(json!(1.0))).is_ok());
        assert_eq!(
            check(json!(true), Some(json!("True"))).unwrap_err(),
            "expected true, got \"True\""
        );
        assert!(check(json!("x"), None).unwrap_err().contains("absent"));
    }

    #[test]
    fn each_predicate_can_pass_and_fail() {
        let cases = [
            (json!({"ne": 1}), json!(2), json!(1)),
            (
                json!({"eq_ignore_case": "Bob"}),
                json!("bOB"),
                json!("bobby"),
            ),
            (json!({"type": "integer"}), json!(3), json!("3")),
            (
                json!({"matches": "^app.*json"}),
                json!("application/scim+json"),
                json!("text/html"),
            ),
            (
                json!({"contains": {"value": "g1"}}),
                json!([{"value": "g1", "display": "G"}]),
                json!([{"value": "g2"}]),
            ),
            (
                json!({"contains": "scim"}),
                json!("application/scim+json"),
                json!("text/html"),
            ),
            (
                json!({"not_contains": {"value": "g1"}}),
                json!([{"value": "g2"}]),
                json!([{"value": "g1"}]),
            ),
            (json!({"count": 2}), json!([1, 2]), json!([1])),
            (json!({"one_of": [200, 204]}), json!(204), json!(201)),
            (json!({"none_of": [200, 204]}), json!(201), json!(204)),
            (
                json!({"none_of": [{"id": "a"}, {"id": "b"}]}),
                json!([{"id": "c"}, {"id": "d"}]),
                json!([{"id": "c"}, {"id": "b", "userName": "x"}]),
            ),
            (json!({"not_empty": true}), json!("a"), json!("")),
            (json!({"unassigned": true}), json!(null), json!("Director")),
            (json!({"unassigned": true}), json!([]), json!([1])),
            (json!({"exists": false}), json!(null), json!(1)),
        ];
        for (written, good, bad) in cases {
            let absent_for_exists = written.get("exists").is_some();
            let good = if absent_for_exists { None } else { Some(good) };
            assert!(
                check(written.clone(), good).is_ok(),
                "{written} should pass"
            );
            assert!(
                check(written.clone(), Some(bad)).is_err(),
                "{written} should fail"
            );
        }
    }

    #[test]
    fn mistakes_are_reported_with_hints() {
        let err = parse_predicates(&json!({"tpye": "string"})).unwrap_err();
        assert_eq!(err.message, "unknown predicate `tpye`");
        assert!(err.hint.unwrap().starts_with("did you mean `type`?"));
        let err = parse_predicates(&json!({"matches": "("})).unwrap_err();
        assert!(err.message.starts_with("invalid regular expression"));
        assert!(parse_predicates(&json!({"type": "str"})).is_err());
        assert!(parse_predicates(&json!({})).is_err());
    }
}
