//! `{{ name }}` templates in suite strings.
//!
//! A template is parsed once, at planning time, so that a typo (an unclosed
//! `{{`, an undefined variable) is reported before the first request. At run
//! time it is rendered against a [`Scope`]: the run id, fresh UUIDs, the
//! process environment (read at planning time) and the values captured by
//! earlier steps.
//!
//! A string that is exactly one placeholder (`"{{ user_id }}"`) renders to the
//! variable's JSON value, keeping its type; anything else renders to a string.
//!
//! ```
//! use scimcheck::template::{Scope, Template};
//! use serde_json::json;
//!
//! let mut scope = Scope { run_id: "r1".into(), ..Scope::default() };
//! scope.vars.insert("count".into(), json!(3));
//! let name = Template::parse("scimcheck-{{ run_id }}-alice").unwrap();
//! assert_eq!(name.render(&scope).unwrap(), "scimcheck-r1-alice");
//! let count = Template::parse("{{ count }}").unwrap();
//! assert_eq!(count.render_value(&scope).unwrap(), json!(3));
//! ```

use std::collections::BTreeMap;
use std::fmt;

use serde_json::Value;

/// What a placeholder names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VarRef {
    /// `{{ run_id }}`: unique per run, part of every name scimcheck creates.
    RunId,
    /// `{{ uuid }}`: a fresh random UUID at each use.
    Uuid,
    /// `{{ base_path }}`: the path of the target's base URL (`/scim/v2`,
    /// or empty), which every resource's location must carry.
    BasePath,
    /// `{{ env.NAME }}`: an environment variable.
    Env(String),
    /// A suite variable or a captured value.
    Named(String),
}

impl fmt::Display for VarRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            VarRef::RunId => f.write_str("run_id"),
            VarRef::Uuid => f.write_str("uuid"),
            VarRef::BasePath => f.write_str("base_path"),
            VarRef::Env(name) => write!(f, "env.{name}"),
            VarRef::Named(name) => f.write_str(name),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    Literal(String),
    Var(VarRef),
}

/// A parsed template string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    segments: Vec<Segment>,
}

/// A template that does not parse; `offset` is the byte offset in the string.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct TemplateError {
    pub offset: usize,
    pub message: String,
    pub hint: String,
}

impl Template {
    pub fn parse(text: &str) -> Result<Template, TemplateError> {
        let mut segments = Vec::new();
        let mut rest = text;
        let mut consumed = 0;
        while let Some(open) = rest.find("{{") {
            if open > 0 {
                segments.push(Segment::Literal(rest[..open].to_string()));
            }
            let after_open = &rest[open + 2..];
            let Some(close) = after_open.find("}}") else {
                return Err(TemplateError {
                    offset: consumed + open,
                    message: "unclosed `{{` in template".into(),
                    hint: "close the placeholder with `}}`, as in `{{ run_id }}`".into(),
                });
            };
            let name = after_open[..close].trim();
            // `{{ '{{' }}`: a quoted text stands for itself, so that text
            // holding `{{` (a customer's value) can be written literally.
            if let Some(text) = quoted(name) {
                segments.push(Segment::Literal(text.to_string()));
                let advance = open + 2 + close + 2;
                consumed += advance;
                rest = &rest[advance..];
                continue;
            }
            segments.push(Segment::Var(parse_var(name).map_err(|message| {
                TemplateError {
                    offset: consumed + open,
                    message,
                    hint: "a placeholder holds one name: `run_id`, `uuid`, `env.NAME`, a suite \
                           variable or a captured value"
                        .into(),
                }
            })?));
            let advance = open + 2 + close + 2;
            consumed += advance;
            rest = &rest[advance..];
        }
        if !rest.is_empty() {
            segments.push(Segment::Literal(rest.to_string()));
        }
        Ok(Template { segments })
    }

    /// The variables this template uses, in order of appearance.
    pub fn vars(&self) -> impl Iterator<Item = &VarRef> {
        self.segments.iter().filter_map(|s| match s {
            Segment::Var(v) => Some(v),
            Segment::Literal(_) => None,
        })
    }

    /// The single variable, when the template is exactly one placeholder.
    fn sole_var(&self) -> Option<&VarRef> {
        match self.segments.as_slice() {
            [Segment::Var(v)] => Some(v),
            _ => None,
        }
    }

    pub fn is_literal(&self) -> bool {
        self.vars().next().is_none()
    }

    /// Renders to a string (a non-string value is written as JSON).
    pub fn render(&self, scope: &Scope) -> Result<String, RenderError> {
        let mut out = String::new();
        for segment in &self.segments {
            match segment {
                Segment::Literal(text) => out.push_str(text),
                Segment::Var(var) => match scope.lookup(var)? {
                    Value::String(s) => out.push_str(&s),
                    other => out.push_str(&other.to_string()),
                },
            }
        }
        Ok(out)
    }

    /// Renders a request path: every value is percent-encoded as one path
    /// segment (`/`, `?`, `#` and `%` included), so an id such as
    /// `x/../../Groups/7` names one resource under the collection, never
    /// another; a value that would be `.`, `..` or empty is refused.
    pub fn render_path(&self, scope: &Scope) -> Result<String, RenderError> {
        let mut out = String::new();
        for segment in &self.segments {
            match segment {
                Segment::Literal(text) => out.push_str(text),
                Segment::Var(var) => {
                    let value = match scope.lookup(var)? {
                        Value::String(s) => s,
                        other => other.to_string(),
                    };
                    out.push_str(&crate::ownership::path_segment(&value).map_err(|_| {
                        RenderError::NotASegment {
                            name: var.to_string(),
                            value: value.clone(),
                        }
                    })?);
                }
            }
        }
        Ok(out)
    }

    /// Renders to a JSON value: a sole placeholder keeps its value's type.
    pub fn render_value(&self, scope: &Scope) -> Result<Value, RenderError> {
        match self.sole_var() {
            Some(var) => scope.lookup(var),
            None => self.render(scope).map(Value::String),
        }
    }
}

/// The text inside single quotes, when `name` is one.
fn quoted(name: &str) -> Option<&str> {
    name.strip_prefix('\'')?.strip_suffix('\'')
}

/// `text` as a template that renders to exactly `text`: every `{{` is
/// written `{{ '{{' }}`, so nothing in it is a placeholder.
pub fn literal(text: &str) -> String {
    text.replace("{{", "{{ '{{' }}")
}

fn parse_var(name: &str) -> Result<VarRef, String> {
    if name.is_empty() {
        return Err("empty placeholder `{{ }}`".into());
    }
    if let Some(env) = name.strip_prefix("env.") {
        if is_identifier(env) {
            return Ok(VarRef::Env(env.to_string()));
        }
        return Err(format!(
            "`{name}` is not a valid environment variable reference"
        ));
    }
    if !is_identifier(name) {
        return Err(format!("`{name}` is not a variable name"));
    }
    Ok(match name {
        "run_id" => VarRef::RunId,
        "uuid" => VarRef::Uuid,
        "base_path" => VarRef::BasePath,
        _ => VarRef::Named(name.to_string()),
    })
}

fn is_identifier(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// A JSON value whose strings may hold templates.
#[derive(Debug, Clone, PartialEq)]
pub enum ValueTemplate {
    String(Template),
    Array(Vec<ValueTemplate>),
    /// Keys are templates too: a body key may name a variable.
    Object(Vec<(Template, ValueTemplate)>),
    Other(Value),
}

impl ValueTemplate {
    /// Parses every string in `value`, object keys included.
    pub fn parse(value: &Value) -> Result<ValueTemplate, TemplateError> {
        Ok(match value {
            Value::String(s) => ValueTemplate::String(Template::parse(s)?),
            Value::Array(items) => ValueTemplate::Array(
                items
                    .iter()
                    .map(ValueTemplate::parse)
                    .collect::<Result<_, _>>()?,
            ),
            Value::Object(map) => ValueTemplate::Object(
                map.iter()
                    .map(|(k, v)| Ok((Template::parse(k)?, ValueTemplate::parse(v)?)))
                    .collect::<Result<_, TemplateError>>()?,
            ),
            other => ValueTemplate::Other(other.clone()),
        })
    }

    pub fn vars(&self) -> Vec<&VarRef> {
        match self {
            ValueTemplate::String(t) => t.vars().collect(),
            ValueTemplate::Array(items) => items.iter().flat_map(|i| i.vars()).collect(),
            ValueTemplate::Object(entries) => entries
                .iter()
                .flat_map(|(k, v)| k.vars().chain(v.vars()))
                .collect(),
            ValueTemplate::Other(_) => Vec::new(),
        }
    }

    pub fn render(&self, scope: &Scope) -> Result<Value, RenderError> {
        Ok(match self {
            ValueTemplate::String(t) => t.render_value(scope)?,
            ValueTemplate::Array(items) => Value::Array(
                items
                    .iter()
                    .map(|i| i.render(scope))
                    .collect::<Result<_, _>>()?,
            ),
            ValueTemplate::Object(entries) => Value::Object(
                entries
                    .iter()
                    .map(|(k, v)| Ok((k.render(scope)?, v.render(scope)?)))
                    .collect::<Result<_, RenderError>>()?,
            ),
            ValueTemplate::Other(v) => v.clone(),
        })
    }
}

/// A template that cannot be rendered at run time.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RenderError {
    /// A variable had no value. Planning makes this rare: it happens only
    /// when a capture it depends on was not taken.
    #[error("variable `{0}` has no value")]
    Missing(String),
    /// A value put into a request path would not be one path segment of its
    /// own (`..` climbs out of the collection; an empty id names the collection).
    #[error("variable `{name}` holds `{value}`, which cannot be one path segment")]
    NotASegment { name: String, value: String },
}

/// The values a template can see while a scenario runs.
#[derive(Debug, Clone, Default)]
pub struct Scope {
    pub run_id: String,
    /// The path of the target's base URL, without a trailing slash.
    pub base_path: String,
    pub env: BTreeMap<String, String>,
    pub vars: BTreeMap<String, Value>,
}

impl Scope {
    pub fn lookup(&self, var: &VarRef) -> Result<Value, RenderError> {
        match var {
            VarRef::RunId => Ok(Value::String(self.run_id.clone())),
            VarRef::Uuid => Ok(Value::String(uuid::Uuid::new_v4().to_string())),
            VarRef::BasePath => Ok(Value::String(self.base_path.clone())),
            VarRef::Env(name) => self
                .env
                .get(name)
                .map(|v| Value::String(v.clone()))
                .ok_or_else(|| RenderError::Missing(var.to_string())),
            VarRef::Named(name) => self
                .vars
                .get(name)
                .cloned()
                .ok_or_else(|| RenderError::Missing(name.clone())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn scope() -> Scope {
        let mut scope = Scope {
            run_id: "r1".into(),
            ..Scope::default()
        };
        scope.vars.insert("n".into(), json!(3));
        scope.vars.insert("name".into(), json!("alice"));
        scope.env.insert("HOME_DIR".into(), "/h".into());
        scope
    }

    #[test]
    fn sole_placeholder_keeps_json_type() {
        let t = Template::parse("{{ n }}").unwrap();
        assert_eq!(t.render_value(&scope()).unwrap(), json!(3));
        let t = Template::parse("count={{n}}").unwrap();
        assert_eq!(t.render_value(&scope()).unwrap(), json!("count=3"));
    }

    #[test]
    fn renders_builtins_and_env() {
        let t = Template::parse("scimcheck-{{ run_id }}-{{ name }}@{{ env.HOME_DIR }}").unwrap();
        assert_eq!(t.render(&scope()).unwrap(), "scimcheck-r1-alice@/h");
        let a = Template::parse("{{ uuid }}")
            .unwrap()
            .render(&scope())
            .unwrap();
        let b = Template::parse("{{ uuid }}")
            .unwrap()
            .render(&scope())
            .unwrap();
        assert_ne!(a, b);
        assert!(uuid::Uuid::parse_str(&a).is_ok());
    }

    #[test]
    fn reports_unclosed_and_invalid_placeholders_with_offsets() {
        let err = Template::parse("ab{{ run_id").unwrap_err();
        assert_eq!(err.offset, 2);
        assert!(err.message.contains("unclosed"));
        let err = Template::parse("x {{ a b }}").unwrap_err();
        assert_eq!(err.offset, 2);
        assert!(err.message.contains("`a b` is not a variable name"));
        assert!(Template::parse("{{}}").is_err());
        assert!(Template::parse("{{ env.1X }}").is_err());
    }

    #[test]
    fn missing_value_is_an_error_not_an_empty_string() {
        let t = Template::parse("{{ nope }}").unwrap();
        assert_eq!(
            t.render(&scope()).unwrap_err(),
            RenderError::Missing("nope".into())
        );
    }

    #[test]
    fn literal_text_renders_as_itself() {
        for text in ["{{ env.HOME }}", "a {{b}} c {{", "}} {{ '{{' }}", "plain"] {
            let t = Template::parse(&literal(text)).unwrap();
            assert!(t.vars().next().is_none(), "{text}");
            assert_eq!(t.render(&scope()).unwrap(), text);
        }
    }

    #[test]
    fn path_values_are_one_segment_each() {
        let mut scope = scope();
        scope
            .vars
            .insert("id".into(), json!("x/../../Groups/7?a#b%2F"));
        let t = Template::parse("/Users/{{ id }}").unwrap();
        assert_eq!(
            t.render_path(&scope).unwrap(),
            "/Users/x%2F..%2F..%2FGroups%2F7%3Fa%23b%252F"
        );
        for climbing in ["..", ".", ""] {
            scope.vars.insert("id".into(), json!(climbing));
            assert!(
                matches!(t.render_path(&scope), Err(RenderError::NotASegment { .. })),
                "{climbing:?}"
            );
        }
        // Literals are the suite author's: kept as written.
        let t = Template::parse("/Users/{{ name }}?x=1").unwrap();
        assert_eq!(t.render_path(&scope).unwrap(), "/Users/alice?x=1");
    }

    #[test]
    fn value_templates_render_nested_strings_and_keys() {
        // A key is rendered too: never sent as a literal placeholder.
        let v = json!({"a": ["{{ name }}", 1, true], "{{ name }}": "{{ n }}"});
        let t = ValueTemplate::parse(&v).unwrap();
        assert_eq!(
            t.render(&scope()).unwrap(),
            json!({"a": ["alice", 1, true], "alice": 3})
        );
    }
}
