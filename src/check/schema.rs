//! JSON Schema validation (draft 2020-12) against the files in `schemas/`.
//!
//! The schemas are compiled into the binary and compiled once per run;
//! `$ref`s between them resolve through a retriever that serves the
//! embedded files, so validation never touches the network.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde_json::Value;

static SCHEMA_FILES: include_dir::Dir<'_> =
    include_dir::include_dir!("$CARGO_MANIFEST_DIR/schemas");

/// Where our schemas say they live; `.invalid` can never resolve.
const BASE: &str = "https://scimcheck.invalid/schemas/";

/// Files that hold shared definitions, not a schema to validate against.
const LIBRARY_FILES: [&str; 1] = ["common"];

fn embedded(name: &str) -> Option<Value> {
    let file = SCHEMA_FILES.get_file(format!("{name}.json"))?;
    let mut schema = serde_json::from_slice(file.contents()).ok()?;
    null_is_unassigned(&mut schema);
    Some(schema)
}

/// RFC 7643 2.5: an unassigned attribute and the null value are the same.
/// So every property a schema does not require also accepts `null`; a
/// required one does not (it must be assigned). Done here, once, rather than
/// in each file, so that no schema can forget it.
fn null_is_unassigned(schema: &mut Value) {
    match schema {
        Value::Object(object) => {
            for value in object.values_mut() {
                null_is_unassigned(value);
            }
            let required: Vec<String> = object
                .get("required")
                .and_then(Value::as_array)
                .map(|r| {
                    r.iter()
                        .filter_map(|v| v.as_str().map(String::from))
                        .collect()
                })
                .unwrap_or_default();
            if let Some(Value::Object(properties)) = object.get_mut("properties") {
                for (name, property) in properties.iter_mut() {
                    if !required.contains(name) {
                        // if/else rather than anyOf: a wrong value still gets
                        // the violations of the real schema, with their paths.
                        let original = property.take();
                        *property = serde_json::json!({
                            "if": { "type": "null" }, "then": true, "else": original
                        });
                    }
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(null_is_unassigned),
        _ => {}
    }
}

/// The names a suite can use in `expect.schema`.
pub fn names() -> Vec<&'static str> {
    let mut names: Vec<&'static str> = SCHEMA_FILES
        .files()
        .filter_map(|f| f.path().file_stem()?.to_str())
        .filter(|n| !LIBRARY_FILES.contains(n))
        .collect();
    names.sort_unstable();
    names
}

struct EmbeddedRetriever;

impl jsonschema::Retrieve for EmbeddedRetriever {
    fn retrieve(
        &self,
        uri: &jsonschema::Uri<String>,
    ) -> Result<Value, Box<dyn std::error::Error + Send + Sync>> {
        let name = uri
            .as_str()
            .strip_prefix(BASE)
            .and_then(|f| f.strip_suffix(".json"))
            .ok_or_else(|| format!("scimcheck does not fetch {}", uri.as_str()))?;
        embedded(name).ok_or_else(|| format!("no schema file {name}.json").into())
    }
}

/// Every schema, compiled.
pub struct SchemaSet {
    validators: BTreeMap<String, jsonschema::Validator>,
}

impl SchemaSet {
    pub fn load() -> Result<Arc<SchemaSet>, String> {
        let mut validators = BTreeMap::new();
        for name in names() {
            let schema =
                embedded(name).ok_or_else(|| format!("schemas/{name}.json is not JSON"))?;
            let validator = jsonschema::options()
                .with_draft(jsonschema::Draft::Draft202012)
                .should_validate_formats(true)
                .with_retriever(EmbeddedRetriever)
                .build(&schema)
                .map_err(|e| format!("schemas/{name}.json: {e}"))?;
            validators.insert(name.to_string(), validator);
        }
        Ok(Arc::new(SchemaSet { validators }))
    }

    /// The violations of `instance`, each naming its instance path.
    pub fn violations(&self, name: &str, instance: &Value) -> Vec<String> {
        let Some(validator) = self.validators.get(name) else {
            return vec![format!("no schema named `{name}`")];
        };
        validator
            .iter_errors(instance)
            .map(|e| {
                let path = e.instance_path().to_string();
                let path = if path.is_empty() {
                    "/".to_string()
                } else {
                    path
                };
                format!("{path}: {e}")
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn all_schemas_compile_and_refs_resolve() {
        let set = SchemaSet::load().unwrap();
        assert!(names().contains(&"user") && names().contains(&"list-response"));
        let user = json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
            "id": "1", "userName": "a",
            "meta": {"created": "2024-01-01T00:00:00Z"},
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"employeeNumber": "7"}
        });
        assert_eq!(set.violations("user", &user), Vec::<String>::new());
    }

    #[test]
    fn null_is_unassigned_for_optional_attributes_only() {
        let set = SchemaSet::load().unwrap();
        let supported = json!({"supported": false});
        let mut config = json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"],
            "documentationUri": null,
            "patch": supported, "changePassword": supported, "sort": supported, "etag": supported,
            "bulk": {"supported": false, "maxOperations": 0, "maxPayloadSize": 0},
            "filter": {"supported": true, "maxResults": 100},
            "authenticationSchemes": [{"type": "oauthbearertoken", "name": "Bearer", "description": "t", "specUri": null}],
            "meta": null
        });
        assert_eq!(
            set.violations("service-provider-config", &config),
            Vec::<String>::new()
        );
        let user = json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
            "id": "1", "userName": "a", "title": null, "name": {"givenName": null}
        });
        assert_eq!(set.violations("user", &user), Vec::<String>::new());
        // A required attribute must be assigned: null is not a value for it.
        config["patch"] = Value::Null;
        assert!(
            !set.violations("service-provider-config", &config)
                .is_empty()
        );
        let user = json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "id": "1", "userName": null});
        assert!(!set.violations("user", &user).is_empty());
    }

    #[test]
    fn violations_name_the_instance_path() {
        let set = SchemaSet::load().unwrap();
        let user = json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
            "id": "1", "userName": "a", "active": "False", "password": "x",
            "meta": {"created": "yesterday"},
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"employeeNumber": 7}
        });
        let v = set.violations("user", &user);
        let paths: Vec<&str> = v.iter().map(|s| s.split(':').next().unwrap()).collect();
        for expected in ["/active", "/password", "/meta/created", "/urn"] {
            assert!(
                paths.iter().any(|p| p.starts_with(expected)),
                "{expected} missing in {v:?}"
            );
        }
        let error =
            json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:Error"], "status": 404});
        assert_eq!(set.violations("error", &error).len(), 1);
        let list = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:ListResponse"], "totalResults": 2});
        assert!(set.violations("list-response", &list)[0].contains("Resources"));
    }
}
