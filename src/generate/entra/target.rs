//! An attribute mapping's target, a SCIM path as Entra writes it, and what
//! follows from it: where the value goes in a create body, how the
//! app's answer is checked for it, and a short name for step ids.

use serde_json::{Map, Value, json};

use crate::scim::filter::{CompareOp, Filter};
use crate::scim::path::ValuePath;

pub const CORE_USER: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
pub const CORE_GROUP: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TargetPath {
    /// `userName`, `name.givenName`.
    Simple(Vec<String>),
    /// `emails[type eq "work"].value`.
    Filtered {
        attribute: String,
        key: String,
        key_value: String,
        sub: String,
    },
    /// `urn:...:enterprise:2.0:User:department`.
    Extension { urn: String, path: Vec<String> },
}

impl TargetPath {
    /// Reads a target with the SCIM path grammar (RFC 7644 3.5.2) that the
    /// double's PATCH engine uses; a value filter must be one `key eq value`
    /// comparison and be followed by a sub-attribute, which is what Entra writes.
    pub fn parse(target: &str) -> Option<TargetPath> {
        let path = ValuePath::parse(target).ok()?;
        let attr = path.attr;
        let mut parts = vec![attr.name];
        parts.extend(attr.sub);
        match (attr.uri, path.filter) {
            (Some(urn), None) => Some(TargetPath::Extension { urn, path: parts }),
            (None, None) => Some(TargetPath::Simple(parts)),
            (None, Some(Filter::Compare(key, CompareOp::Eq, value))) if parts.len() == 2 => {
                let key_value = match value {
                    Value::String(text) => text,
                    other => other.to_string(),
                };
                Some(TargetPath::Filtered {
                    sub: parts.pop()?,
                    attribute: parts.pop()?,
                    key: key.name,
                    key_value,
                })
            }
            _ => None,
        }
    }

    /// The top-level attribute it writes, lower-cased (`emails`, `name`).
    pub fn top(&self) -> String {
        match self {
            TargetPath::Simple(p) => p[0].to_lowercase(),
            TargetPath::Filtered { attribute, .. } => attribute.to_lowercase(),
            TargetPath::Extension { path, .. } => path[0].to_lowercase(),
        }
    }

    /// A key-value filter's value as JSON: `primary eq "True"` is a boolean.
    fn key_json(key: &str, key_value: &str) -> Value {
        if key.eq_ignore_ascii_case("primary") {
            Value::Bool(key_value.eq_ignore_ascii_case("true"))
        } else {
            Value::String(key_value.to_string())
        }
    }

    /// Writes `value` where the path says in a create body.
    pub fn insert(&self, body: &mut Map<String, Value>, value: Value) {
        match self {
            TargetPath::Simple(parts) => set_nested(body, parts, value),
            TargetPath::Filtered {
                attribute,
                key,
                key_value,
                sub,
            } => {
                let list = body.entry(attribute.clone()).or_insert_with(|| json!([]));
                if !list.is_array() {
                    *list = json!([]);
                }
                let items = list.as_array_mut().expect("made an array");
                let wanted = Self::key_json(key, key_value);
                let index = match items.iter().position(|i| i.get(key) == Some(&wanted)) {
                    Some(i) => i,
                    None => {
                        let mut item = Map::new();
                        // Entra marks the work email primary.
                        if attribute == "emails" && key == "type" && key_value == "work" {
                            item.insert("primary".into(), Value::Bool(true));
                        }
                        if attribute == "roles" {
                            item.insert("type".into(), json!("WindowsAzureActiveDirectoryRole"));
                        }
                        item.insert(key.clone(), wanted);
                        items.push(Value::Object(item));
                        items.len() - 1
                    }
                };
                if let Some(item) = items[index].as_object_mut() {
                    item.insert(sub.clone(), value);
                }
            }
            TargetPath::Extension { urn, path } => {
                let extension = body.entry(urn.clone()).or_insert_with(|| json!({}));
                if let Some(object) = extension.as_object_mut() {
                    set_nested(object, path, value);
                }
                if let Some(Value::Array(schemas)) = body.get_mut("schemas")
                    && !schemas.iter().any(|s| s == urn)
                {
                    schemas.push(Value::String(urn.clone()));
                }
            }
        }
    }

    /// The JSON pointer and predicate that check the app kept `value`.
    pub fn check(&self, value: &Value) -> (String, Value) {
        match self {
            TargetPath::Simple(parts) => {
                let pointer = pointer(parts.iter().map(String::as_str));
                // userName is caseExact false (RFC 7643 4.1.1): any letter case holds.
                let predicate = if parts.len() == 1 && parts[0] == "userName" {
                    json!({ "eq_ignore_case": value })
                } else {
                    json!({ "eq": value })
                };
                (pointer, predicate)
            }
            TargetPath::Filtered {
                attribute,
                key,
                key_value,
                sub,
            } => (
                pointer([attribute.as_str()]),
                json!({ "contains": { key.clone(): Self::key_json(key, key_value), sub.clone(): value } }),
            ),
            TargetPath::Extension { urn, path } => (
                pointer(std::iter::once(urn.as_str()).chain(path.iter().map(String::as_str))),
                json!({ "eq": value }),
            ),
        }
    }
}

fn set_nested(object: &mut Map<String, Value>, parts: &[String], value: Value) {
    match parts {
        [] => {}
        [last] => {
            object.insert(last.clone(), value);
        }
        [first, rest @ ..] => {
            let child = object.entry(first.clone()).or_insert_with(|| json!({}));
            if !child.is_object() {
                *child = json!({});
            }
            if let Some(child) = child.as_object_mut() {
                set_nested(child, rest, value);
            }
        }
    }
}

fn pointer<'a>(segments: impl IntoIterator<Item = &'a str>) -> String {
    segments
        .into_iter()
        .map(|s| format!("/{}", s.replace('~', "~0").replace('/', "~1")))
        .collect()
}

/// A step-id fragment: `emails[type eq "work"].value` → `emails_work_value`.
pub fn slug(target: &str) -> String {
    let short = super::export::short_target(target);
    let mut out = String::new();
    for c in short.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('_') {
            out.push('_');
        }
    }
    let out = out.replace("_eq_", "_").replace("type_", "");
    out.trim_matches('_').to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entras_targets_go_where_the_rfc_puts_them() {
        let mut body = Map::new();
        body.insert("schemas".into(), json!([CORE_USER]));
        for (target, value) in [
            ("userName", json!("a@x")),
            ("name.givenName", json!("Zoë")),
            ("emails[type eq \"work\"].value", json!("a@x")),
            ("phoneNumbers[type eq \"mobile\"].value", json!("+46")),
            ("phoneNumbers[type eq \"work\"].value", json!("+47")),
            (
                "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department",
                json!("Finance"),
            ),
            ("roles[primary eq \"True\"].value", json!("Admin")),
        ] {
            TargetPath::parse(target).unwrap().insert(&mut body, value);
        }
        assert_eq!(
            Value::Object(body),
            json!({
                "schemas": [CORE_USER, "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],
                "userName": "a@x",
                "name": {"givenName": "Zoë"},
                "emails": [{"primary": true, "type": "work", "value": "a@x"}],
                "phoneNumbers": [{"type": "mobile", "value": "+46"}, {"type": "work", "value": "+47"}],
                "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"department": "Finance"},
                "roles": [{"type": "WindowsAzureActiveDirectoryRole", "primary": true, "value": "Admin"}],
            })
        );
    }

    #[test]
    fn checks_and_slugs() {
        let department = TargetPath::parse(
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department",
        )
        .unwrap();
        assert_eq!(
            department.check(&json!("Finance")),
            (
                "/urn:ietf:params:scim:schemas:extension:enterprise:2.0:User/department".into(),
                json!({"eq": "Finance"})
            )
        );
        let email = TargetPath::parse("emails[type eq \"work\"].value").unwrap();
        assert_eq!(
            email.check(&json!("a@x")).1,
            json!({"contains": {"type": "work", "value": "a@x"}})
        );
        assert_eq!(slug("emails[type eq \"work\"].value"), "emails_work_value");
        assert_eq!(
            slug("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department"),
            "department"
        );
        assert_eq!(slug("name.givenName"), "name_givenname");
        assert!(TargetPath::parse("emails[type eq \"work\"]").is_none());
    }
}
