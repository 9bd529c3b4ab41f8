//! Create and replace bodies fitted to what the server declares: what a
//! strict server requires is added, and optional attributes it does not
//! declare are left out.
//!
//! RFC 7643 requires only `userName` of a User and `displayName` of a
//! Group, but a server may declare more (canaille requires `name` and
//! `active`). A body without them is refused, and every check after the
//! create goes untested for a reason of scimcheck's own making. So the
//! core attributes the target's `/Schemas` marks `required` (and not
//! readOnly) are added, with a valid value of the declared type, to every
//! POST and PUT body of a User or Group that lacks them, on top of what the
//! client sends. Bodies of steps that expect a refusal are left as written.

use serde_json::{Map, Value, json};

use crate::scim::schema::{Attr, GROUP, Published, Type, USER};

/// One attribute the server requires, as its schema describes it.
#[derive(Debug, Clone, PartialEq)]
pub struct RequiredAttr {
    pub name: String,
    /// Required itself; false for an optional complex attribute listed only
    /// for the sub-attributes a value of it must carry.
    pub required: bool,
    pub ty: String,
    pub multi: bool,
    /// For a complex attribute: the sub-attributes a value is made of.
    pub sub: Vec<RequiredAttr>,
}

/// The required attributes of the core User and Group schemas.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Required {
    pub user: Vec<RequiredAttr>,
    pub group: Vec<RequiredAttr>,
}

impl Required {
    /// From what the target's /Schemas publishes.
    pub fn from_published(published: &Published) -> Required {
        let of = |urn: &str| {
            published
                .attrs(urn)
                .unwrap_or_default()
                .iter()
                .filter(|a| client_required(a) || has_required_sub(a))
                .map(describe)
                .collect()
        };
        Required {
            user: of(USER),
            group: of(GROUP),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.user.is_empty() && self.group.is_empty()
    }

    /// Adds to the body of a create (`/Users`, `/Groups`) or a replacement
    /// (`/Users/{id}`) each required attribute it lacks, and to each value of
    /// a complex attribute it has the required sub-attributes that value
    /// lacks (canaille requires `name.formatted`); the names added.
    /// `path` is relative to the base URL; a search (`/Users/.search`) or
    /// anything else is left alone, and a bulk request is completed per
    /// operation.
    pub fn complete(&self, path: &str, body: &mut Value) -> Vec<String> {
        let attrs = match written(path) {
            Some(Written::Bulk) => return each_bulk_write(body, |p, data| self.complete(p, data)),
            Some(Written::User) => &self.user,
            Some(Written::Group) => &self.group,
            None => return Vec::new(),
        };
        let Some(object) = body.as_object_mut() else {
            return Vec::new();
        };
        let mut added = Vec::new();
        for attr in attrs {
            let present = object
                .iter_mut()
                .find(|(k, v)| k.eq_ignore_ascii_case(&attr.name) && !v.is_null());
            match present {
                Some((_, value)) => added.extend(complete_values(attr, value)),
                None if attr.required => {
                    object.insert(attr.name.clone(), value_of(attr));
                    added.push(attr.name.clone());
                }
                None => {}
            }
        }
        added
    }
}

/// What a POST or PUT body at `path` (relative to the base URL) writes: a
/// User or Group created (`/Users`) or replaced (`/Users/{id}`), or a bulk
/// request; None for a search (`/Users/.search`) or anything else.
enum Written {
    User,
    Group,
    Bulk,
}

fn written(path: &str) -> Option<Written> {
    let path = path.split('?').next().unwrap_or(path);
    let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
    match segments.as_slice() {
        ["Bulk"] => Some(Written::Bulk),
        ["Users"] => Some(Written::User),
        ["Groups"] => Some(Written::Group),
        ["Users", id] if !id.starts_with('.') => Some(Written::User),
        ["Groups", id] if !id.starts_with('.') => Some(Written::Group),
        _ => None,
    }
}

/// Applies `fit` to the data of each POST and PUT operation of a bulk
/// request, with that operation's path; what each gave, together.
fn each_bulk_write(
    body: &mut Value,
    mut fit: impl FnMut(&str, &mut Value) -> Vec<String>,
) -> Vec<String> {
    let mut out = Vec::new();
    let operations = body
        .get_mut("Operations")
        .and_then(Value::as_array_mut)
        .into_iter()
        .flatten();
    for operation in operations {
        let method = operation
            .get("method")
            .and_then(Value::as_str)
            .unwrap_or("");
        if !(method.eq_ignore_ascii_case("POST") || method.eq_ignore_ascii_case("PUT")) {
            continue;
        }
        let path = operation
            .get("path")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        if let Some(data) = operation.get_mut("data") {
            out.extend(fit(&path, data));
        }
    }
    out
}

/// Attributes a body always keeps: the protocol's own, and the id the
/// run's ownership rule reads.
const ALWAYS_KEPT: [&str; 5] = ["schemas", "id", "externalid", "meta", "username"];

/// Leaves out of a User create or replace body (and of a bulk request's)
/// the optional attributes and sub-attributes the server's /Schemas does not
/// declare (`declared`: lower-case names and `parent.sub`, core and
/// enterprise), so that a fixture fails only for what the server offers; the
/// steps that rely on such an attribute say so (`attributes:`) and are not
/// applicable. The names left out.
pub fn leave_out_undeclared(
    path: &str,
    body: &mut Value,
    declared: &std::collections::BTreeSet<String>,
) -> Vec<String> {
    match written(path) {
        Some(Written::Bulk) => {
            each_bulk_write(body, |p, data| leave_out_undeclared(p, data, declared))
        }
        Some(Written::User) => strip(body, declared),
        Some(Written::Group) | None => Vec::new(),
    }
}

fn strip(body: &mut Value, declared: &std::collections::BTreeSet<String>) -> Vec<String> {
    let mut left_out = Vec::new();
    let mut emptied: Vec<String> = Vec::new();
    let Some(object) = body.as_object_mut() else {
        return left_out;
    };
    object.retain(|key, value| {
        let name = key.to_ascii_lowercase();
        if ALWAYS_KEPT.contains(&name.as_str()) {
            return true;
        }
        if name.starts_with("urn:") {
            // An extension's container: its attributes are declared by bare
            // name; one left with none of them is left out whole.
            let Some(inner) = value.as_object_mut() else {
                return true;
            };
            inner.retain(|k, _| {
                let keep = declared.contains(&k.to_ascii_lowercase());
                if !keep {
                    left_out.push(k.clone());
                }
                keep
            });
            if inner.is_empty() {
                emptied.push(key.clone());
                return false;
            }
            return true;
        }
        if !declared.contains(&name) {
            left_out.push(key.clone());
            return false;
        }
        // A sub-attribute is left out only when its parent lists sub-attributes.
        let prefix = format!("{name}.");
        let parent_lists = declared.iter().any(|d| d.starts_with(&prefix));
        let mut subs = |v: &mut Value| {
            if let Some(inner) = v.as_object_mut() {
                inner.retain(|k, _| {
                    let full = format!("{prefix}{}", k.to_ascii_lowercase());
                    let keep = !parent_lists || declared.contains(&full);
                    if !keep {
                        left_out.push(full);
                    }
                    keep
                });
            }
        };
        match value {
            Value::Array(items) => items.iter_mut().for_each(&mut subs),
            other => subs(other),
        }
        true
    });
    // An extension no longer present is no longer named in schemas either.
    if let Some(schemas) = object.get_mut("schemas").and_then(Value::as_array_mut) {
        schemas.retain(|s| {
            !s.as_str()
                .is_some_and(|s| emptied.iter().any(|e| e.eq_ignore_ascii_case(s)))
        });
    }
    left_out.extend(emptied);
    left_out.sort();
    left_out.dedup();
    left_out
}

/// The required sub-attributes each value of a complex attribute lacks,
/// added; their names as `parent.sub`.
fn complete_values(attr: &RequiredAttr, value: &mut Value) -> Vec<String> {
    let mut added = Vec::new();
    let mut one = |item: &mut Value| {
        let Some(object) = item.as_object_mut() else {
            return;
        };
        for sub in attr.sub.iter().filter(|s| s.required) {
            let present = object
                .iter()
                .any(|(k, v)| k.eq_ignore_ascii_case(&sub.name) && !v.is_null());
            if !present {
                object.insert(sub.name.clone(), value_of(sub));
                added.push(format!("{}.{}", attr.name, sub.name));
            }
        }
    };
    match value {
        Value::Array(items) => items.iter_mut().for_each(&mut one),
        other => one(other),
    }
    added.dedup();
    added
}

/// A complex attribute with a sub-attribute the client must write.
fn has_required_sub(attr: &Attr) -> bool {
    attr.sub.iter().any(client_required)
}

/// Required of the client: required, and writable (`id`, often declared
/// required, is the server's).
fn client_required(attr: &Attr) -> bool {
    attr.required && attr.mutability.writable() && !attr.name.is_empty() && attr.name != "id"
}

fn describe(attr: &Attr) -> RequiredAttr {
    let writable = |s: &&Attr| s.mutability.writable();
    let required_subs: Vec<&Attr> = attr.sub.iter().filter(|s| client_required(s)).collect();
    // Without required sub-attributes a complex value still needs some:
    // the names people have (givenName, familyName), else a value, else the first.
    let chosen = if required_subs.is_empty() {
        let named = |n: &str| attr.sub.iter().filter(writable).find(|s| s.name == n);
        let people: Vec<&Attr> = ["givenName", "familyName"]
            .into_iter()
            .filter_map(named)
            .collect();
        if !people.is_empty() {
            people
        } else {
            named("value")
                .or_else(|| attr.sub.iter().find(writable))
                .into_iter()
                .collect()
        }
    } else {
        required_subs
    };
    RequiredAttr {
        name: attr.name.clone(),
        required: client_required(attr),
        ty: attr.ty.name().to_string(),
        multi: attr.multi,
        sub: if attr.ty == Type::Complex {
            chosen.into_iter().map(describe).collect()
        } else {
            Vec::new()
        },
    }
}

/// A valid value of the attribute's declared type.
fn value_of(attr: &RequiredAttr) -> Value {
    let one = match attr.ty.as_str() {
        "boolean" => json!(true),
        "integer" => json!(1),
        "decimal" => json!(1.5),
        "dateTime" => json!("2026-01-01T00:00:00Z"),
        "reference" => json!("https://scimcheck.invalid/"),
        "binary" => json!("c2NpbWNoZWNr"),
        "complex" => {
            let mut object = Map::new();
            for sub in &attr.sub {
                object.insert(sub.name.clone(), value_of(sub));
            }
            Value::Object(object)
        }
        _ => json!(format!("Scimcheck {}", attr.name)),
    };
    if attr.multi { json!([one]) } else { one }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn required_of(schemas: &Value) -> Required {
        Required::from_published(&Published::from_json(schemas))
    }

    fn canaille_like() -> Value {
        json!({ "Resources": [{
            "id": USER,
            "attributes": [
                { "name": "id", "type": "string", "required": true, "mutability": "readOnly" },
                { "name": "userName", "type": "string", "required": true },
                { "name": "name", "type": "complex", "required": true, "subAttributes": [
                    { "name": "formatted", "type": "string" },
                    { "name": "familyName", "type": "string" },
                    { "name": "givenName", "type": "string" }
                ]},
                { "name": "active", "type": "boolean", "required": true },
                { "name": "emails", "type": "complex", "multiValued": true, "required": true, "subAttributes": [
                    { "name": "value", "type": "string", "required": true },
                    { "name": "type", "type": "string" }
                ]},
                { "name": "title", "type": "string" }
            ]
        }]})
    }

    #[test]
    fn what_a_strict_server_requires_is_added_with_values_of_its_types() {
        let required = required_of(&canaille_like());
        let names: Vec<&str> = required.user.iter().map(|a| a.name.as_str()).collect();
        assert_eq!(names, ["userName", "name", "active", "emails"]);
        let mut body = json!({ "schemas": [USER], "userName": "u", "active": false });
        let added = required.complete("/Users", &mut body);
        assert_eq!(added, ["name", "emails"]);
        assert_eq!(body["active"], false, "a value the client sent is kept");
        assert_eq!(
            body["name"],
            json!({ "givenName": "Scimcheck givenName", "familyName": "Scimcheck familyName" })
        );
        assert_eq!(body["emails"], json!([{ "value": "Scimcheck value" }]));
    }

    #[test]
    fn required_sub_attributes_are_added_to_the_values_a_body_has() {
        // canaille: name and name.formatted are required; phoneNumbers is
        // optional, but a number must have its value.
        let schemas = json!({ "Resources": [{ "id": USER, "attributes": [
            { "name": "userName", "type": "string", "required": true },
            { "name": "name", "type": "complex", "required": true, "subAttributes": [
                { "name": "formatted", "type": "string", "required": true },
                { "name": "familyName", "type": "string", "required": true },
                { "name": "givenName", "type": "string" }
            ]},
            { "name": "phoneNumbers", "type": "complex", "multiValued": true, "subAttributes": [
                { "name": "value", "type": "string", "required": true },
                { "name": "type", "type": "string" }
            ]}
        ]}]});
        let required = required_of(&schemas);
        let mut body = json!({
            "userName": "u", "name": { "givenName": "Ada", "familyName": "Lovelace" },
            "phoneNumbers": [{ "type": "work" }, { "value": "+1 555", "type": "home" }]
        });
        let added = required.complete("/Users", &mut body);
        assert_eq!(added, ["name.formatted", "phoneNumbers.value"]);
        assert_eq!(
            body["name"],
            json!({ "givenName": "Ada", "familyName": "Lovelace", "formatted": "Scimcheck formatted" })
        );
        assert_eq!(
            body["phoneNumbers"][1]["value"], "+1 555",
            "a value sent is kept"
        );
        // An optional attribute absent stays absent.
        let mut minimal =
            json!({ "userName": "u", "name": { "formatted": "A B", "familyName": "B" } });
        assert!(required.complete("/Users", &mut minimal).is_empty());
        assert!(minimal.get("phoneNumbers").is_none());
    }

    #[test]
    fn undeclared_optional_attributes_are_left_out_of_user_bodies() {
        let declared: std::collections::BTreeSet<String> = [
            "username",
            "name",
            "name.givenname",
            "emails",
            "emails.value",
            "active",
            "employeenumber",
        ]
        .into_iter()
        .map(String::from)
        .collect();
        let mut body = json!({
            "schemas": [USER], "userName": "u", "externalId": "x", "title": "Engineer", "active": true,
            "name": { "givenName": "A", "familyName": "B" },
            "emails": [{ "value": "a@example.com", "type": "work" }],
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": { "employeeNumber": "1", "department": "S" }
        });
        let left_out = leave_out_undeclared("/Users", &mut body, &declared);
        assert_eq!(
            left_out,
            ["department", "emails.type", "name.familyname", "title"]
        );
        assert_eq!(body["name"], json!({ "givenName": "A" }));
        assert_eq!(body["emails"], json!([{ "value": "a@example.com" }]));
        assert_eq!(body["externalId"], "x");
        // An extension with nothing declared goes, and so does its URN.
        let ext = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
        let mut body =
            json!({ "schemas": [USER, ext], "userName": "u", ext: { "department": "S" } });
        leave_out_undeclared("/Users", &mut body, &declared);
        assert_eq!(body, json!({ "schemas": [USER], "userName": "u" }));
        let mut group = json!({ "displayName": "g", "title": "x" });
        assert!(leave_out_undeclared("/Groups", &mut group, &declared).is_empty());
    }

    #[test]
    fn bulk_creates_are_completed_and_lenient_servers_left_alone() {
        let required = required_of(&canaille_like());
        let mut body = json!({ "Operations": [
            { "method": "POST", "path": "/Users", "data": { "userName": "u", "active": true } },
            { "method": "PATCH", "path": "/Users/1", "data": { "Operations": [] } }
        ]});
        assert_eq!(required.complete("/Bulk", &mut body), ["name", "emails"]);
        assert!(body["Operations"][1]["data"].get("name").is_none());
        let lenient = required_of(&json!({ "Resources": [{ "id": USER, "attributes": [
            { "name": "userName", "type": "string", "required": true }
        ]}]}));
        let mut user = json!({ "userName": "u" });
        assert!(lenient.complete("/Users/42?x=1", &mut user).is_empty());
        let mut search = json!({ "filter": "userName eq \"u\"" });
        assert!(required.complete("/Users/.search", &mut search).is_empty());
        assert!(required.complete("/Users/42/x", &mut search).is_empty());
        assert_eq!(user, json!({ "userName": "u" }));
    }
}
