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
    serde_json::from_slice(file.contents()).ok()
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
