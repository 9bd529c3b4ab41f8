//! What a client can observe of a resource, projected so that the target's
//! answer and the model's compare attribute by attribute, modulo what the
//! RFCs leave to the server: the form of ids (mapped to the case's names),
//! the order of multi-valued attributes and of unsorted results, server
//! defaults for attributes the client never asserted, and `meta`.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Value, json};
use unicode_normalization::UnicodeNormalization;

use crate::scim::filter::get_ci;

pub const ENTERPRISE: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
pub const ERROR: &str = "urn:ietf:params:scim:api:messages:2.0:Error";
pub const LIST: &str = "urn:ietf:params:scim:api:messages:2.0:ListResponse";

/// An attribute the explorer writes and compares.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Field {
    UserName,
    DisplayName,
    Given,
    Family,
    Emails,
    Title,
    EmployeeNumber,
    ExternalId,
    Active,
    Manager,
    Members,
}

impl Field {
    pub fn name(self) -> &'static str {
        match self {
            Field::UserName => "userName",
            Field::DisplayName => "displayName",
            Field::Given => "name.givenName",
            Field::Family => "name.familyName",
            Field::Emails => "emails",
            Field::Title => "title",
            Field::EmployeeNumber => "employeeNumber",
            Field::ExternalId => "externalId",
            Field::Active => "active",
            Field::Manager => "manager",
            Field::Members => "members",
        }
    }

    /// The field's value in a resource, normalized: absent, null, "" and []
    /// are one state (RFC 7643 2.5); emails are a sorted list of their value
    /// and type; members a sorted list of the case's names for them.
    pub fn read(self, resource: &Value, name_of: &dyn Fn(&str) -> String) -> Value {
        let value = match self {
            Field::UserName => get_ci(resource, "userName").cloned(),
            Field::DisplayName => get_ci(resource, "displayName").cloned(),
            Field::Given => get_ci(resource, "name")
                .and_then(|n| get_ci(n, "givenName"))
                .cloned(),
            Field::Family => get_ci(resource, "name")
                .and_then(|n| get_ci(n, "familyName"))
                .cloned(),
            Field::Title => get_ci(resource, "title").cloned(),
            Field::ExternalId => get_ci(resource, "externalId").cloned(),
            Field::Active => get_ci(resource, "active").cloned(),
            Field::EmployeeNumber => get_ci(resource, ENTERPRISE)
                .and_then(|e| get_ci(e, "employeeNumber"))
                .cloned(),
            Field::Manager => get_ci(resource, ENTERPRISE)
                .and_then(|e| get_ci(e, "manager"))
                .and_then(|m| get_ci(m, "value"))
                .and_then(Value::as_str)
                .map(|id| json!(name_of(id))),
            Field::Emails => get_ci(resource, "emails").map(|emails| {
                let mut list: Vec<Value> = emails
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|e| {
                        json!({
                            "value": get_ci(e, "value").cloned().unwrap_or(Value::Null),
                            "type": get_ci(e, "type").cloned().unwrap_or(Value::Null),
                        })
                    })
                    .collect();
                list.sort_by_cached_key(|v| v.to_string());
                Value::Array(list)
            }),
            Field::Members => get_ci(resource, "members").map(|members| {
                let mut names: Vec<String> = members
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|m| match get_ci(m, "value") {
                        Some(Value::String(id)) => name_of(id),
                        other => format!("{other:?}"),
                    })
                    .collect();
                names.sort();
                json!(names)
            }),
        };
        match value {
            None | Some(Value::Null) => Value::Null,
            Some(Value::String(s)) if s.is_empty() => Value::Null,
            Some(Value::Array(a)) if a.is_empty() => Value::Null,
            Some(v) => v,
        }
    }
}

/// How much a difference weighs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    /// A SHOULD, or a client's documented preference: advice.
    Should,
    /// A MUST (or SHALL) of the RFCs, or a client's documented requirement.
    Must,
}

/// The first asserted field where the target's resource differs from the
/// model's, with the level: text equal once both are in Unicode NFC is a
/// SHOULD (the server normalised what it stored), anything else a MUST.
pub fn differ(
    fields: &BTreeSet<Field>,
    model: &Value,
    target: &Value,
    model_name: &dyn Fn(&str) -> String,
    target_name: &dyn Fn(&str) -> String,
) -> Option<(Level, Field, String)> {
    for field in fields {
        let want = field.read(model, model_name);
        let got = field.read(target, target_name);
        if want == got {
            continue;
        }
        let level = if nfc(&want) == nfc(&got) {
            Level::Should
        } else {
            Level::Must
        };
        return Some((
            level,
            *field,
            format!(
                "`{}`: expected {}, got {}",
                field.name(),
                shown(&want),
                shown(&got)
            ),
        ));
    }
    None
}

fn nfc(value: &Value) -> Value {
    match value {
        Value::String(s) => Value::String(s.nfc().collect()),
        Value::Array(a) => Value::Array(a.iter().map(nfc).collect()),
        Value::Object(o) => Value::Object(o.iter().map(|(k, v)| (k.clone(), nfc(v))).collect()),
        v => v.clone(),
    }
}

/// A value as a report shows it: `null` reads "nothing".
pub fn shown(value: &Value) -> String {
    match value {
        Value::Null => "nothing".into(),
        v => v.to_string(),
    }
}

/// Why an error answer is not a SCIM Error (RFC 7644 3.12: the Error
/// schema, `status` the HTTP status as a string); None when it is one.
pub fn not_a_scim_error(status: u16, body: Option<&Value>) -> Option<String> {
    let Some(body) = body else {
        return Some("its body is not JSON".into());
    };
    let schemas: Vec<&str> = body
        .get("schemas")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    if !schemas.contains(&ERROR) {
        return Some(format!("its body does not carry the schema {ERROR}"));
    }
    match body.get("status") {
        Some(Value::String(s)) if s == &status.to_string() => None,
        Some(Value::String(s)) => Some(format!("its `status` is \"{s}\", not \"{status}\"")),
        Some(other) => Some(format!(
            "its `status` is {other}, not the string \"{status}\""
        )),
        None => Some("it has no `status`".into()),
    }
}

/// Why a ListResponse is malformed (RFC 7644 3.4.2: `schemas` and
/// `totalResults` are REQUIRED, `Resources` when there are results); None
/// when it is well formed. Returns the resources it holds otherwise.
pub fn list(body: Option<&Value>) -> Result<(u64, Vec<Value>), String> {
    let body = body.ok_or("the body is not JSON")?;
    let has_schema = body
        .get("schemas")
        .and_then(Value::as_array)
        .is_some_and(|s| s.iter().any(|u| u.as_str() == Some(LIST)));
    if !has_schema {
        return Err(format!("the ListResponse does not carry the schema {LIST}"));
    }
    let total = body
        .get("totalResults")
        .and_then(Value::as_u64)
        .ok_or("the ListResponse has no numeric `totalResults`")?;
    let resources = match body.get("Resources") {
        Some(Value::Array(a)) => a.clone(),
        None | Some(Value::Null) if total == 0 => Vec::new(),
        None | Some(Value::Null) => {
            return Err(format!(
                "`totalResults` is {total} but there is no `Resources`"
            ));
        }
        Some(other) => return Err(format!("`Resources` is not an array: {other}")),
    };
    Ok((total, resources))
}

/// The attributes at the top of a resource, lower-cased, without those a
/// server returns whatever is asked (`id`, `schemas`, `meta`).
pub fn top_level(resource: &Value) -> BTreeSet<String> {
    resource
        .as_object()
        .into_iter()
        .flatten()
        .map(|(k, _)| k.to_ascii_lowercase())
        .filter(|k| !matches!(k.as_str(), "id" | "schemas" | "meta"))
        .collect()
}

/// The ids a list holds, each with how often.
pub fn ids(resources: &[Value]) -> BTreeMap<String, usize> {
    let mut out = BTreeMap::new();
    for r in resources {
        if let Some(id) = r.get("id").and_then(Value::as_str) {
            *out.entry(id.to_string()).or_insert(0) += 1;
        }
    }
    out
}

/// What a walk over pages saw against what it should have: the keys seen
/// more than once, those never seen, those seen that should not be.
pub struct Walked {
    pub twice: Vec<String>,
    pub missing: Vec<String>,
    pub foreign: Vec<String>,
}

pub fn walked(
    seen: &std::collections::BTreeMap<String, usize>,
    want: &std::collections::BTreeSet<String>,
) -> Walked {
    Walked {
        twice: seen
            .iter()
            .filter(|(_, n)| **n > 1)
            .map(|(k, _)| k.clone())
            .collect(),
        missing: want
            .iter()
            .filter(|k| !seen.contains_key(*k))
            .cloned()
            .collect(),
        foreign: seen
            .keys()
            .filter(|k| !want.contains(*k))
            .cloned()
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn same(id: &str) -> String {
        id.to_string()
    }

    #[test]
    fn unassigned_forms_are_one_state_and_order_of_emails_does_not_count() {
        let fields: BTreeSet<Field> = [Field::Title, Field::Emails].into();
        let a = json!({"title": "", "emails": [{"value": "a@x", "type": "work"}, {"value": "b@x", "type": "other", "primary": false}]});
        let b = json!({"emails": [{"value": "b@x", "type": "other"}, {"value": "a@x", "type": "work", "primary": true}]});
        assert_eq!(differ(&fields, &a, &b, &same, &same), None);
    }

    #[test]
    fn a_boolean_as_a_string_differs_and_nfd_text_is_advice() {
        let fields: BTreeSet<Field> = [Field::Active].into();
        let (level, _, why) = differ(
            &fields,
            &json!({"active": true}),
            &json!({"active": "true"}),
            &same,
            &same,
        )
        .unwrap();
        assert_eq!(level, Level::Must);
        assert!(why.contains("expected true, got \"true\""), "{why}");
        let fields: BTreeSet<Field> = [Field::Family].into();
        let (level, _, _) = differ(
            &fields,
            &json!({"name": {"familyName": "Zoe\u{308}"}}),
            &json!({"name": {"familyName": "Zoë"}}),
            &same,
            &same,
        )
        .unwrap();
        assert_eq!(level, Level::Should);
    }

    #[test]
    fn an_error_must_carry_its_status_as_a_string() {
        let ok = json!({"schemas": [ERROR], "status": "409"});
        assert_eq!(not_a_scim_error(409, Some(&ok)), None);
        let number = json!({"schemas": [ERROR], "status": 409});
        assert!(
            not_a_scim_error(409, Some(&number))
                .unwrap()
                .contains("string")
        );
        assert!(not_a_scim_error(409, None).is_some());
    }

    #[test]
    fn an_empty_list_may_leave_resources_out_but_not_its_total() {
        assert_eq!(
            list(Some(&json!({"schemas": [LIST], "totalResults": 0})))
                .unwrap()
                .0,
            0
        );
        assert!(list(Some(&json!({"schemas": [LIST], "totalResults": 2}))).is_err());
        assert!(list(Some(&json!({"schemas": [LIST], "Resources": []}))).is_err());
        assert!(list(Some(&json!({"totalResults": 0}))).is_err());
    }
}
