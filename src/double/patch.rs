//! The PATCH engine (RFC 7644 3.5.2).
//!
//! Operations apply in order to a copy; the first that fails fails the whole
//! request and the resource is left as it was. Op names are case-insensitive
//! (Entra ID sends `Replace`), path-less operations take an object whose keys
//! are attribute paths (`name.givenName`, URN-qualified ones, or extension
//! URNs with an object), and `remove` of a multi-valued path with a `value`
//! list removes those elements (Entra ID's member removal).

use serde_json::{Map, Value};

use super::error::ScimError;
use super::resource::{canonical_single, canonical_value};
use crate::scim::filter::{CompareOp, Context, Filter, matches};
use crate::scim::path::ValuePath;
use crate::scim::schema::{Attr, Mutability, PATCH_OP, ResourceSchema, Type};

/// A PATCH path; one that does not parse is refused with scimType invalidPath.
fn patch_path(text: &str) -> Result<ValuePath, ScimError> {
    ValuePath::parse(text).map_err(ScimError::invalid_path)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Add,
    Replace,
    Remove,
}

/// Applies a PatchOp message to `resource`, all or nothing.
pub fn apply(
    schema: &ResourceSchema,
    resource: &mut Map<String, Value>,
    body: &Value,
) -> Result<(), ScimError> {
    let declared = body
        .get("schemas")
        .and_then(Value::as_array)
        .is_some_and(|s| {
            s.iter()
                .any(|u| u.as_str().is_some_and(|u| u.eq_ignore_ascii_case(PATCH_OP)))
        });
    if !declared {
        return Err(ScimError::invalid_syntax(format!(
            "a PATCH body must declare the schema {PATCH_OP}"
        )));
    }
    let operations = body
        .get("Operations")
        .or_else(|| crate::scim::filter::get_ci(body, "operations"))
        .and_then(Value::as_array)
        .filter(|ops| !ops.is_empty())
        .ok_or_else(|| ScimError::invalid_syntax("`Operations` must be a non-empty list"))?;
    let mut working = resource.clone();
    for (index, operation) in operations.iter().enumerate() {
        apply_one(schema, &mut working, operation).map_err(|e| ScimError {
            detail: format!("operation {index}: {}", e.detail),
            ..e
        })?;
    }
    *resource = working;
    Ok(())
}

fn apply_one(
    schema: &ResourceSchema,
    resource: &mut Map<String, Value>,
    operation: &Value,
) -> Result<(), ScimError> {
    let op_name = crate::scim::filter::get_ci(operation, "op")
        .and_then(Value::as_str)
        .ok_or_else(|| ScimError::invalid_syntax("each operation needs an `op`"))?;
    let op = match op_name.to_ascii_lowercase().as_str() {
        "add" => Op::Add,
        "replace" => Op::Replace,
        "remove" => Op::Remove,
        _ => return Err(ScimError::invalid_syntax(format!("unknown op `{op_name}`"))),
    };
    let value = crate::scim::filter::get_ci(operation, "value");
    let path = match crate::scim::filter::get_ci(operation, "path") {
        None | Some(Value::Null) => None,
        Some(Value::String(p)) => Some(p.as_str()),
        Some(other) => {
            return Err(ScimError::invalid_path(format!(
                "`path` must be a string, got {other}"
            )));
        }
    };
    match (op, path) {
        (Op::Remove, None) => Err(ScimError::no_target("remove needs a `path`")),
        (_, None) => {
            let Some(Value::Object(entries)) = value else {
                return Err(ScimError::invalid_value(
                    "an operation without a path needs an object value",
                ));
            };
            for (key, v) in attribute_entries(entries) {
                if let Some(extension) = schema.extension(key) {
                    let Value::Object(inner) = v else {
                        return Err(ScimError::invalid_value(format!(
                            "`{key}` must be an object"
                        )));
                    };
                    for (name, v) in attribute_entries(inner) {
                        let path = target_path(extension.id, name)?;
                        apply_at(schema, resource, op, &path, Some(v))?;
                    }
                } else {
                    apply_at(schema, resource, op, &patch_path(key)?, Some(v))?;
                }
            }
            Ok(())
        }
        (_, Some(text)) => {
            if let Some(extension) = schema.extension(text) {
                // The whole extension as the target.
                return match (op, value) {
                    (Op::Remove, _) => {
                        resource.remove(extension.id);
                        Ok(())
                    }
                    (_, Some(Value::Object(inner))) => {
                        for (name, v) in attribute_entries(inner) {
                            apply_at(
                                schema,
                                resource,
                                op,
                                &target_path(extension.id, name)?,
                                Some(v),
                            )?;
                        }
                        Ok(())
                    }
                    _ => Err(ScimError::invalid_value(format!(
                        "`{text}` takes an object"
                    ))),
                };
            }
            apply_at(schema, resource, op, &patch_path(text)?, value)
        }
    }
}

/// The attributes of a value object: `schemas` is a message member, not an
/// attribute (an extension object sent as a value may carry one).
fn attribute_entries(map: &Map<String, Value>) -> impl Iterator<Item = (&String, &Value)> {
    map.iter()
        .filter(|(k, _)| !k.eq_ignore_ascii_case("schemas"))
}

fn target_path(urn: &str, name: &str) -> Result<ValuePath, ScimError> {
    patch_path(&format!("{urn}:{name}"))
}

/// The object that holds a top-level attribute, if it is there.
fn holder_ref<'r>(
    schema: &ResourceSchema,
    resource: &'r Map<String, Value>,
    uri: Option<&str>,
) -> Option<&'r Map<String, Value>> {
    match uri.and_then(|u| schema.extension(u)) {
        None => Some(resource),
        Some(extension) => resource.get(extension.id)?.as_object(),
    }
}

/// The object that holds a top-level attribute: the resource or an extension object.
fn holder<'r>(
    schema: &ResourceSchema,
    resource: &'r mut Map<String, Value>,
    uri: Option<&str>,
    create: bool,
) -> Option<&'r mut Map<String, Value>> {
    match uri.and_then(|u| schema.extension(u)) {
        None => Some(resource),
        Some(extension) => {
            if create && !resource.contains_key(extension.id) {
                resource.insert(extension.id.to_string(), Value::Object(Map::new()));
            }
            resource.get_mut(extension.id)?.as_object_mut()
        }
    }
}

fn apply_at(
    schema: &ResourceSchema,
    resource: &mut Map<String, Value>,
    op: Op,
    path: &ValuePath,
    value: Option<&Value>,
) -> Result<(), ScimError> {
    let attr = &path.attr;
    let uri = attr.uri.as_deref();
    if uri.is_some_and(|u| !u.eq_ignore_ascii_case(schema.core.id) && schema.extension(u).is_none())
    {
        return Err(ScimError::invalid_path(format!(
            "unknown schema in path `{attr}`"
        )));
    }
    let def = schema
        .attr(uri, &attr.name)
        .ok_or_else(|| ScimError::invalid_path(format!("unknown attribute `{attr}`")))?;
    let sub_def = match &attr.sub {
        Some(sub) => Some(
            def.sub_attr(sub)
                .ok_or_else(|| ScimError::invalid_path(format!("unknown attribute `{attr}`")))?,
        ),
        None => None,
    };
    if def.mutability == Mutability::ReadOnly
        || sub_def.is_some_and(|s| s.mutability == Mutability::ReadOnly)
    {
        // Setting a readOnly attribute to the value it has changes nothing, so it is
        // compatible with its mutability (Okta's group rename carries the group's id).
        let unchanged = op != Op::Remove
            && path.filter.is_none()
            && sub_def.is_none()
            && holder_ref(schema, resource, uri).and_then(|h| h.get(def.name.as_str())) == value;
        if unchanged {
            return Ok(());
        }
        return Err(ScimError::mutability(format!("`{attr}` is readOnly")));
    }
    if path.filter.is_some() && !def.multi {
        return Err(ScimError::invalid_path(format!(
            "`{}` is not multi-valued: a value filter does not apply",
            attr.name
        )));
    }
    let needs_value = op != Op::Remove;
    if needs_value && value.is_none() {
        return Err(ScimError::invalid_value(format!(
            "{op:?} on `{attr}` needs a `value`"
        )));
    }
    let container = holder(schema, resource, uri, op != Op::Remove);
    let Some(container) = container else {
        return Ok(()); // Removing from an extension that is not there.
    };
    let name = def.name.as_str();
    match (&path.filter, sub_def) {
        (None, None) => whole_attribute(container, def, op, value),
        (None, Some(sub_def)) => {
            if def.multi {
                return Err(ScimError::invalid_path(format!(
                    "`{attr}`: name the elements of a multi-valued attribute with a filter, as in `{}[type eq \"work\"].{}`",
                    attr.name, sub_def.name
                )));
            }
            match op {
                Op::Remove => {
                    if let Some(Value::Object(parent)) = container.get_mut(name) {
                        parent.remove(sub_def.name.as_str());
                    }
                }
                Op::Add | Op::Replace => {
                    let v = canonical_value(sub_def, value.expect("checked above"))?;
                    let parent = container
                        .entry(name.to_string())
                        .or_insert_with(|| Value::Object(Map::new()));
                    if let (Value::Object(parent), Some(v)) = (parent, v) {
                        parent.insert(sub_def.name.to_string(), v);
                    }
                }
            }
            Ok(())
        }
        (Some(filter), sub_def) => filtered_elements(container, def, sub_def, filter, op, value),
    }
}

/// add/replace/remove on a whole attribute (no filter, no sub-attribute).
fn whole_attribute(
    container: &mut Map<String, Value>,
    def: &Attr,
    op: Op,
    value: Option<&Value>,
) -> Result<(), ScimError> {
    let name = def.name.as_str();
    match op {
        Op::Remove => {
            match (value, def.multi) {
                // Entra ID: {"op":"Remove","path":"members","value":[{"value":"id"}]}
                (Some(listed), true) => {
                    let listed = canonical_value(def, listed)?.unwrap_or(Value::Array(Vec::new()));
                    let listed = listed.as_array().cloned().unwrap_or_default();
                    if let Some(Value::Array(items)) = container.get_mut(name) {
                        items.retain(|item| !listed.iter().any(|l| same_element(item, l)));
                    }
                }
                _ => {
                    container.remove(name);
                }
            }
            Ok(())
        }
        Op::Add | Op::Replace => {
            let Some(new) = canonical_value(def, value.expect("checked by the caller"))? else {
                if op == Op::Replace {
                    container.remove(name);
                }
                return Ok(());
            };
            if def.mutability == Mutability::Immutable
                && let Some(old) = container.get(name)
                && *old != new
            {
                return Err(ScimError::mutability(format!("`{name}` is immutable")));
            }
            match (def.multi, def.ty, op) {
                (true, _, Op::Add) => {
                    let items = container
                        .entry(name.to_string())
                        .or_insert_with(|| Value::Array(Vec::new()));
                    if let (Value::Array(items), Value::Array(new)) = (items, new) {
                        for v in new {
                            if !items.iter().any(|i| same_element(i, &v)) {
                                items.push(v);
                            }
                        }
                    }
                }
                // A complex single value merges: unnamed sub-attributes stay (RFC 7644 3.5.2.1, 3.5.2.3).
                (false, Type::Complex, _) => {
                    let target = container
                        .entry(name.to_string())
                        .or_insert_with(|| Value::Object(Map::new()));
                    if let (Value::Object(target), Value::Object(new)) = (target, new) {
                        target.extend(new);
                    }
                }
                _ => {
                    container.insert(name.to_string(), new);
                }
            }
            Ok(())
        }
    }
}

/// Two elements of a multi-valued attribute are the same when their `value`s
/// are (or, without a `value`, when they are equal).
fn same_element(a: &Value, b: &Value) -> bool {
    match (a.get("value"), b.get("value")) {
        (Some(x), Some(y)) => x == y,
        _ => a == b,
    }
}

fn filtered_elements(
    container: &mut Map<String, Value>,
    def: &Attr,
    sub_def: Option<&Attr>,
    filter: &Filter,
    op: Op,
    value: Option<&Value>,
) -> Result<(), ScimError> {
    let name = def.name.as_str();
    let mut items = match container.remove(name) {
        Some(Value::Array(items)) => items,
        Some(other) => vec![other],
        None => Vec::new(),
    };
    let mut hits = Vec::new();
    for (i, item) in items.iter().enumerate() {
        if matches(filter, Context::Element(def), item)
            .map_err(|e| ScimError::invalid_filter(e.0))?
        {
            hits.push(i);
        }
    }
    let result = (|| {
        if hits.is_empty() {
            // Entra ID adds `emails[type eq "work"].value` to a user without a work email:
            // build the element the filter describes.
            if let (Op::Add, Some(sub_def), Some(seed)) = (op, sub_def, element_from_filter(filter))
                && let Some(v) = canonical_value(sub_def, value.expect("checked"))?
            {
                let mut element = seed;
                element.insert(sub_def.name.to_string(), v);
                let element = canonical_single(def, &Value::Object(element))?.expect("an object");
                items.push(element);
                return Ok(());
            }
            return Err(ScimError::no_target(format!(
                "no value of `{name}` matches the filter"
            )));
        }
        match (op, sub_def) {
            (Op::Remove, None) => {
                let mut index = 0;
                items.retain(|_| {
                    let keep = !hits.contains(&index);
                    index += 1;
                    keep
                });
            }
            (Op::Remove, Some(sub_def)) => {
                for &i in &hits {
                    if let Some(Value::Object(element)) = items.get_mut(i) {
                        element.remove(sub_def.name.as_str());
                    }
                }
            }
            (Op::Add | Op::Replace, Some(sub_def)) => {
                let v = canonical_value(sub_def, value.expect("checked"))?;
                for &i in &hits {
                    if let (Some(Value::Object(element)), Some(v)) = (items.get_mut(i), v.clone()) {
                        element.insert(sub_def.name.to_string(), v);
                    }
                }
            }
            (Op::Add | Op::Replace, None) => {
                let Some(new) = canonical_single(def, value.expect("checked"))? else {
                    return Ok(());
                };
                for &i in &hits {
                    match (op, items.get_mut(i), &new) {
                        (Op::Add, Some(Value::Object(element)), Value::Object(new)) => {
                            element.extend(new.clone());
                        }
                        (_, Some(slot), _) => *slot = new.clone(),
                        (_, None, _) => {}
                    }
                }
            }
        }
        Ok(())
    })();
    if !items.is_empty() {
        container.insert(name.to_string(), Value::Array(items));
    }
    result
}

/// `type eq "work"` (or a conjunction of such) as the element it describes.
fn element_from_filter(filter: &Filter) -> Option<Map<String, Value>> {
    match filter {
        Filter::Compare(path, CompareOp::Eq, value) if path.uri.is_none() && path.sub.is_none() => {
            let mut element = Map::new();
            element.insert(path.name.clone(), value.clone());
            Some(element)
        }
        Filter::And(a, b) => {
            let mut element = element_from_filter(a)?;
            element.extend(element_from_filter(b)?);
            Some(element)
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::super::resource::{canonicalize, tidy};
    use super::*;
    use crate::scim::schema::Kind;
    use serde_json::json;

    fn user() -> Map<String, Value> {
        let schema = ResourceSchema::for_kind(Kind::User);
        canonicalize(
            &schema,
            &json!({
                "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
                "userName": "bjensen",
                "name": {"givenName": "Barbara", "familyName": "Jensen"},
                "active": true,
                "emails": [{"value": "b@work.example", "type": "work", "primary": true}]
            }),
        )
        .unwrap()
    }

    fn patch(resource: &mut Map<String, Value>, ops: Value) -> Result<(), ScimError> {
        let schema = ResourceSchema::for_kind(Kind::User);
        let result = apply(
            &schema,
            resource,
            &json!({"schemas": [PATCH_OP], "Operations": ops}),
        );
        tidy(&schema, resource);
        result
    }

    #[test]
    fn entra_legacy_disable_with_string_false() {
        let mut u = user();
        patch(
            &mut u,
            json!([{"op": "Replace", "path": "active", "value": "False"}]),
        )
        .unwrap();
        assert_eq!(u["active"], json!(false));
    }

    #[test]
    fn pathless_replace_with_dotted_and_urn_keys() {
        let mut u = user();
        patch(
            &mut u,
            json!([{"op": "replace", "value": {
                "name.givenName": "Babs",
                "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber": "42",
                "active": false
            }}]),
        )
        .unwrap();
        assert_eq!(
            u["name"],
            json!({"givenName": "Babs", "familyName": "Jensen"})
        );
        assert_eq!(
            u["urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"]["employeeNumber"],
            json!("42")
        );
        assert_eq!(u["active"], json!(false));
        assert_eq!(u["schemas"].as_array().unwrap().len(), 2);
    }

    /// An extension object sent whole, carrying its own `schemas` member (scim2-tester does).
    #[test]
    fn extension_object_as_value_with_schemas_member() {
        let mut u = user();
        let urn = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
        patch(
            &mut u,
            json!([{"op": "add", "path": urn, "value": {"schemas": [urn], "department": "R&D"}}]),
        )
        .unwrap();
        assert_eq!(u[urn], json!({"department": "R&D"}));
        let err = patch(
            &mut u,
            json!([{"op": "add", "path": urn, "value": {"nonsense": 1}}]),
        )
        .unwrap_err();
        assert_eq!(err.scim_type, Some("invalidPath"));
    }

    #[test]
    fn okta_pathless_deactivate() {
        let mut u = user();
        patch(
            &mut u,
            json!([{"op": "replace", "value": {"active": false}}]),
        )
        .unwrap();
        assert_eq!(u["active"], json!(false));
    }

    #[test]
    fn value_filter_paths() {
        let mut u = user();
        patch(&mut u, json!([{"op": "replace", "path": "emails[type eq \"work\"].value", "value": "new@work.example"}])).unwrap();
        assert_eq!(u["emails"][0]["value"], json!("new@work.example"));
        // Entra adds an element the filter describes when there is none.
        patch(&mut u, json!([{"op": "Add", "path": "emails[type eq \"home\"].value", "value": "h@home.example"}])).unwrap();
        assert_eq!(
            u["emails"][1],
            json!({"type": "home", "value": "h@home.example"})
        );
        let err = patch(
            &mut u,
            json!([{"op": "replace", "path": "emails[type eq \"other\"].value", "value": "x"}]),
        )
        .unwrap_err();
        assert_eq!(err.scim_type, Some("noTarget"));
        patch(
            &mut u,
            json!([{"op": "remove", "path": "emails[type eq \"home\"]"}]),
        )
        .unwrap();
        assert_eq!(u["emails"].as_array().unwrap().len(), 1);
    }

    #[test]
    fn malformed_paths_are_invalid_not_panics() {
        for bad in [
            "a]b[x",
            "emails[",
            "emails[type eq \"w\"]x",
            "ém[a eq 1]",
            "name.givenName[a eq 1]",
        ] {
            let err = patch_path(bad).unwrap_err();
            assert_eq!(err.scim_type, Some("invalidPath"), "{bad}");
        }
    }

    /// Okta renames a group with its id in the value: the same id is no change.
    #[test]
    fn read_only_set_to_its_own_value_is_no_change() {
        let mut u = user();
        u.insert("id".into(), json!("u-1"));
        patch(
            &mut u,
            json!([{"op": "replace", "value": {"id": "u-1", "displayName": "B"}}]),
        )
        .unwrap();
        assert_eq!(u["displayName"], json!("B"));
        let err = patch(&mut u, json!([{"op": "replace", "value": {"id": "u-2"}}])).unwrap_err();
        assert_eq!(err.scim_type, Some("mutability"));
    }

    /// RFC 7644 3.5.2: a failing operation leaves the resource unchanged.
    #[test]
    fn all_or_nothing() {
        let mut u = user();
        let before = u.clone();
        let err = patch(
            &mut u,
            json!([
                {"op": "replace", "path": "displayName", "value": "Changed"},
                {"op": "replace", "path": "id", "value": "x"}
            ]),
        )
        .unwrap_err();
        assert_eq!(err.scim_type, Some("mutability"));
        assert_eq!(u, before);
    }

    #[test]
    fn errors_carry_rfc_scim_types() {
        let mut u = user();
        let cases = [
            (json!([{"op": "remove"}]), "noTarget"),
            (
                json!([{"op": "replace", "path": "nope", "value": 1}]),
                "invalidPath",
            ),
            (
                json!([{"op": "replace", "path": "emails[type eq", "value": 1}]),
                "invalidPath",
            ),
            (
                json!([{"op": "frobnicate", "path": "active"}]),
                "invalidSyntax",
            ),
            (
                json!([{"op": "replace", "path": "active", "value": "perhaps"}]),
                "invalidValue",
            ),
            (
                json!([{"op": "add", "path": "meta.created", "value": "x"}]),
                "mutability",
            ),
        ];
        for (ops, scim_type) in cases {
            let err = patch(&mut u, ops.clone()).unwrap_err();
            assert_eq!(err.scim_type, Some(scim_type), "{ops}: {}", err.detail);
        }
    }

    #[test]
    fn members_added_and_removed_in_both_client_forms() {
        let schema = ResourceSchema::for_kind(Kind::Group);
        let mut g = canonicalize(&schema, &json!({"displayName": "g"})).unwrap();
        let run = |g: &mut Map<String, Value>, ops: Value| {
            apply(
                &schema,
                g,
                &json!({"schemas": [PATCH_OP], "Operations": ops}),
            )
            .unwrap();
        };
        run(
            &mut g,
            json!([{"op": "Add", "path": "members", "value": [{"value": "u1", "$ref": null}, {"value": "u2"}, {"value": "u3"}]}]),
        );
        assert_eq!(g["members"].as_array().unwrap().len(), 3);
        run(
            &mut g,
            json!([{"op": "Remove", "path": "members", "value": [{"value": "u1"}]}]),
        );
        run(
            &mut g,
            json!([{"op": "remove", "path": "members[value eq \"u2\"]"}]),
        );
        assert_eq!(g["members"], json!([{"value": "u3"}]));
        run(
            &mut g,
            json!([{"op": "replace", "path": "members", "value": []}]),
        );
        assert!(g.get("members").is_none_or(|m| m == &json!([])));
    }

    /// RFC 7644 3.5.2.1's example PATCH bodies.
    #[test]
    fn rfc_examples() {
        let mut u = user();
        patch(&mut u, json!([{"op": "add", "value": {"emails": [{"value": "babs@jensen.org", "type": "home"}], "nickname": "Babs"}}])).unwrap();
        assert_eq!(u["nickName"], json!("Babs"));
        assert_eq!(u["emails"].as_array().unwrap().len(), 2);
        patch(&mut u, json!([{"op": "remove", "path": "emails[type eq \"work\" and value ew \"work.example\"]"}])).unwrap();
        assert_eq!(u["emails"].as_array().unwrap().len(), 1);
        patch(
            &mut u,
            json!([{"op": "replace", "path": "name", "value": {"familyName": "Smith"}}]),
        )
        .unwrap();
        assert_eq!(
            u["name"],
            json!({"givenName": "Barbara", "familyName": "Smith"})
        );
    }
}
