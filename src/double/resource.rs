//! Incoming resources brought to one canonical form: attribute names as the
//! schema spells them (names are case-insensitive, RFC 7643 2.1), values of
//! the declared type (`"True"`/`"False"` accepted for booleans, as Entra ID
//! sends them), single values of multi-valued attributes wrapped in a list,
//! nulls dropped (RFC 7644 3.5.2: null means unassigned).

use serde_json::{Map, Value};

use super::error::ScimError;
use crate::scim::schema::{Attr, Mutability, ResourceSchema, Schema, Type};

/// Canonicalizes a whole resource body. Unknown attributes are ignored, as
/// RFC 7644 3.3 lets a service provider do with attributes it does not support.
pub fn canonicalize(
    schema: &ResourceSchema,
    body: &Value,
) -> Result<Map<String, Value>, ScimError> {
    let Value::Object(input) = body else {
        return Err(ScimError::invalid_syntax("the body must be a JSON object"));
    };
    let mut out = Map::new();
    for (key, value) in input {
        if key.eq_ignore_ascii_case("schemas") {
            let ok = value
                .as_array()
                .is_some_and(|a| a.iter().all(Value::is_string));
            if !ok {
                return Err(ScimError::invalid_syntax(
                    "`schemas` must be a list of URNs",
                ));
            }
            out.insert("schemas".into(), value.clone());
        } else if let Some(extension) = schema.extension(key) {
            let object = canonical_object(&extension.attrs, value, key)?;
            if !object.is_empty() {
                out.insert(extension.id.to_string(), Value::Object(object));
            }
        } else if let Some(def) = schema.attr(None, key) {
            if let Some(v) = canonical_value(def, value)? {
                out.insert(def.name.to_string(), v);
            }
        } else if let Some((uri, name)) = split_urn(key)
            && let Some(def) = schema.attr(Some(uri), name)
        {
            // `urn:...:User:userName` at the top level, as some clients write it.
            if let Some(v) = canonical_value(def, value)? {
                let target = match schema.extension(uri) {
                    Some(ext) => out
                        .entry(ext.id.to_string())
                        .or_insert_with(|| Value::Object(Map::new()))
                        .as_object_mut()
                        .expect("extension objects are objects"),
                    None => &mut out,
                };
                target.insert(def.name.to_string(), v);
            }
        }
    }
    Ok(out)
}

/// `urn:a:b:name` -> (`urn:a:b`, `name`).
pub fn split_urn(key: &str) -> Option<(&str, &str)> {
    if crate::scim::filter::has_urn_prefix(key) {
        key.rsplit_once(':')
    } else {
        None
    }
}

fn canonical_object(
    attrs: &[Attr],
    value: &Value,
    what: &str,
) -> Result<Map<String, Value>, ScimError> {
    let Value::Object(input) = value else {
        return Err(ScimError::invalid_value(format!(
            "`{what}` must be an object"
        )));
    };
    let mut out = Map::new();
    for (key, v) in input {
        if let Some(def) = attrs.iter().find(|a| a.name.eq_ignore_ascii_case(key))
            && let Some(v) = canonical_value(def, v)?
        {
            out.insert(def.name.to_string(), v);
        }
    }
    Ok(out)
}

/// A value as the definition wants it; `None` for null (unassigned).
pub fn canonical_value(def: &Attr, value: &Value) -> Result<Option<Value>, ScimError> {
    if value.is_null() {
        return Ok(None);
    }
    if def.multi {
        let items: Vec<&Value> = match value {
            Value::Array(items) => items.iter().collect(),
            single => vec![single],
        };
        let mut out = Vec::new();
        for item in items {
            if let Some(v) = canonical_single(def, item)? {
                out.push(v);
            }
        }
        return Ok(Some(Value::Array(out)));
    }
    canonical_single(def, value)
}

/// One value (an element, for a multi-valued attribute).
pub fn canonical_single(def: &Attr, value: &Value) -> Result<Option<Value>, ScimError> {
    let wrong = |expected: &str| {
        ScimError::invalid_value(format!("`{}` must be {expected}, got {value}", def.name))
    };
    Ok(Some(match (def.ty, value) {
        (_, Value::Null) => return Ok(None),
        (Type::Complex, Value::Object(_)) => {
            Value::Object(canonical_object(&def.sub, value, &def.name)?)
        }
        // A bare value for a complex attribute that has a `value` sub-attribute
        // (Entra ID sends the manager's id as a string).
        (Type::Complex, Value::String(_)) if def.sub_attr("value").is_some() => {
            let mut object = Map::new();
            object.insert("value".into(), value.clone());
            Value::Object(object)
        }
        (Type::Complex, _) => return Err(wrong("an object")),
        (Type::Boolean, Value::Bool(b)) => Value::Bool(*b),
        (Type::Boolean, Value::String(s)) if s.eq_ignore_ascii_case("true") => Value::Bool(true),
        (Type::Boolean, Value::String(s)) if s.eq_ignore_ascii_case("false") => Value::Bool(false),
        (Type::Boolean, _) => return Err(wrong("a boolean")),
        (Type::Integer, Value::Number(n)) if n.is_i64() || n.is_u64() => value.clone(),
        (Type::Integer, _) => return Err(wrong("an integer")),
        (Type::Decimal, Value::Number(_)) => value.clone(),
        (Type::Decimal, _) => return Err(wrong("a number")),
        (Type::String | Type::Reference | Type::DateTime | Type::Binary, Value::String(_)) => {
            value.clone()
        }
        (_, _) => return Err(wrong("a string")),
    }))
}

/// Drops what a client may not write (RFC 7643 2.2: readOnly values are ignored).
pub fn strip_read_only(schema: &ResourceSchema, resource: &mut Map<String, Value>) {
    let strip = |attrs: &[Attr], map: &mut Map<String, Value>| {
        for def in attrs {
            if def.mutability == Mutability::ReadOnly {
                map.remove(def.name.as_str());
            }
        }
    };
    strip(&schema.common, resource);
    strip(&schema.core.attrs, resource);
    for extension in &schema.extensions {
        if let Some(Value::Object(map)) = resource.get_mut(extension.id) {
            strip(&extension.attrs, map);
        }
    }
}

/// The required attributes (RFC 7643: userName, displayName) are there.
pub fn check_required(
    schema: &ResourceSchema,
    resource: &Map<String, Value>,
) -> Result<(), ScimError> {
    let missing = |s: &Schema, map: &Map<String, Value>| {
        s.attrs
            .iter()
            .filter(|a| a.required)
            .find(|a| match map.get(a.name.as_str()) {
                None | Some(Value::Null) => true,
                Some(Value::String(s)) => s.trim().is_empty(),
                _ => false,
            })
            .map(|a| a.name.clone())
    };
    if let Some(name) = missing(&schema.core, resource) {
        return Err(ScimError::invalid_value(format!(
            "the required attribute `{name}` is missing"
        )));
    }
    Ok(())
}

/// Keeps `schemas` in step with the extensions present, and drops empty values.
pub fn tidy(schema: &ResourceSchema, resource: &mut Map<String, Value>) {
    resource
        .retain(|_, v| !matches!(v, Value::Null) && !matches!(v, Value::Array(a) if a.is_empty()));
    let mut urns = vec![Value::String(schema.core.id.to_string())];
    for extension in &schema.extensions {
        let present = matches!(resource.get(extension.id), Some(Value::Object(m)) if !m.is_empty());
        if present {
            urns.push(Value::String(extension.id.to_string()));
        } else {
            resource.remove(extension.id);
        }
    }
    resource.insert("schemas".into(), Value::Array(urns));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scim::schema::Kind;
    use serde_json::json;

    #[test]
    fn names_types_and_extensions_are_canonical() {
        let schema = ResourceSchema::for_kind(Kind::User);
        let out = canonicalize(
            &schema,
            &json!({
                "USERNAME": "a",
                "Active": "False",
                "emails": {"Value": "a@x", "primary": "True"},
                "nickName": null,
                "unknownThing": 1,
                "urn:ietf:params:scim:schemas:extension:enterprise:2.0:user": {"Department": "R&D"},
                "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber": "7"
            }),
        )
        .unwrap();
        assert_eq!(
            Value::Object(out),
            json!({
                "userName": "a",
                "active": false,
                "emails": [{"value": "a@x", "primary": true}],
                "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"department": "R&D", "employeeNumber": "7"}
            })
        );
    }

    #[test]
    fn a_bare_value_for_a_complex_attribute_is_its_value() {
        let schema = ResourceSchema::for_kind(Kind::User);
        let out = canonicalize(
            &schema,
            &json!({"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"manager": "m-1"}}),
        )
        .unwrap();
        assert_eq!(
            out["urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"]["manager"],
            json!({"value": "m-1"})
        );
        assert!(
            canonicalize(&schema, &json!({"name": "Babs"})).is_err(),
            "name has no value sub-attribute"
        );
    }

    #[test]
    fn wrong_types_are_invalid_values() {
        let schema = ResourceSchema::for_kind(Kind::User);
        let err = canonicalize(&schema, &json!({"userName": 5})).unwrap_err();
        assert_eq!(err.scim_type, Some("invalidValue"));
        assert!(canonicalize(&schema, &json!({"active": "maybe"})).is_err());
        assert!(canonicalize(&schema, &json!([1])).is_err());
    }
}
