//! What an expression evaluates to, and Entra's conversions between kinds:
//! booleans are "True"/"False" when they become strings, dates are
//! `M/d/yyyy h:mm:ss tt` in UTC (as CDate, DateAdd and Now return them).

use serde_json::Value as Json;
use time::OffsetDateTime;

use super::dates;

#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// An attribute that is absent, or a function with nothing to return.
    /// Entra never sends a null: the attribute does not flow.
    Null,
    Str(String),
    Num(i64),
    Bool(bool),
    Date(OffsetDateTime),
    /// A multi-valued attribute (proxyAddresses, Split's result).
    Multi(Vec<Value>),
    /// A complex source value as Graph gives it (a manager reference).
    Json(Json),
    /// A user's app roles, as the role functions hand them to the mapping.
    Roles(RoleSet),
    /// IgnoreFlowIfNullOrEmpty met nothing: the attribute is dropped.
    IgnoreFlow,
}

/// Which role function made the set: it decides the request's shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RoleFunction {
    Single,
    Complex,
    Assertive,
}

#[derive(Debug, Clone, PartialEq)]
pub struct RoleSet {
    pub function: RoleFunction,
    pub roles: Vec<Role>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Role {
    pub id: String,
    pub value: String,
    pub display_name: String,
}

impl Value {
    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    /// Null, or a string with nothing in it.
    pub fn is_null_or_empty(&self) -> bool {
        match self {
            Value::Null => true,
            Value::Str(s) => s.is_empty(),
            Value::Multi(values) => values.is_empty(),
            _ => false,
        }
    }

    /// The value as Entra turns it into text; None for null and for what
    /// has no single text (a list, roles).
    pub fn as_text(&self) -> Option<String> {
        match self {
            Value::Str(s) => Some(s.clone()),
            Value::Num(n) => Some(n.to_string()),
            Value::Bool(b) => Some(bool_text(*b).to_string()),
            Value::Date(d) => Some(dates::format_us(*d)),
            Value::Json(Json::String(s)) => Some(s.clone()),
            Value::Json(Json::Bool(b)) => Some(bool_text(*b).to_string()),
            Value::Json(Json::Number(n)) => Some(n.to_string()),
            // A reference (manager): its id is what flows.
            Value::Json(Json::Object(o)) => o.get("id").and_then(Json::as_str).map(str::to_string),
            Value::Multi(values) if values.len() == 1 => values[0].as_text(),
            _ => None,
        }
    }

    /// Every value of a multi-valued value, or the value itself.
    pub fn values(&self) -> Vec<Value> {
        match self {
            Value::Multi(values) => values.clone(),
            Value::Null => Vec::new(),
            Value::Json(Json::Array(items)) => {
                items.iter().cloned().map(Value::from_json).collect()
            }
            other => vec![other.clone()],
        }
    }

    /// A Graph JSON value as an expression value.
    pub fn from_json(json: Json) -> Value {
        match json {
            Json::Null => Value::Null,
            Json::String(s) => Value::Str(s),
            Json::Bool(b) => Value::Bool(b),
            Json::Number(n) => match n.as_i64() {
                Some(i) => Value::Num(i),
                None => Value::Str(n.to_string()),
            },
            Json::Array(items) => Value::Multi(items.into_iter().map(Value::from_json).collect()),
            object @ Json::Object(_) => Value::Json(object),
        }
    }

    /// What kind of value it is, for error messages.
    pub fn kind(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Str(_) => "a string",
            Value::Num(_) => "a number",
            Value::Bool(_) => "a boolean",
            Value::Date(_) => "a date",
            Value::Multi(_) => "a multi-valued attribute",
            Value::Json(_) => "a complex value",
            Value::Roles(_) => "app role assignments",
            Value::IgnoreFlow => "an ignored flow",
        }
    }
}

pub fn bool_text(b: bool) -> &'static str {
    if b { "True" } else { "False" }
}
