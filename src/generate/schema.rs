//! Scenarios derived from the server's own `/Schemas`: each attribute is
//! held to the characteristics the server declares for it (RFC 7643 2.2
//! and 7), not to what the RFC's example schema says.
//!
//! | declared | scenario |
//! |---|---|
//! | `required: true` | a POST without it is refused with 400 (invalidValue advised) |
//! | `uniqueness: server` or `global` | a second POST with the same value is 409 uniqueness; with `caseExact: false`, in other letter case too |
//! | `caseExact: false` on a required or unique attribute | `filter=attr eq "<other case>"` finds the resource |
//! | `returned: never` | the value is in no answer: POST, GET, list |
//! | `mutability: readOnly` | a value sent with PUT is ignored |
//! | `mutability: immutable` | a PATCH changing it is refused with 400 (mutability advised) |
//!
//! From `/ResourceTypes`: each type's schema and extensions are listed in
//! `/Schemas`, and its endpoint answers a query. From the
//! ServiceProviderConfig: a feature it says is not supported (`patch`,
//! `bulk`) is refused (501 advised) and changes nothing. A scenario is
//! generated only where it applies, so none of them is ever skipped.
//!
//! Only singular string attributes of the core User and Group schemas are
//! exercised: a value of any other type, or of a constrained string
//! (`locale`, `timezone`, a canonical list), could be refused for reasons
//! that are no deviation. Every value sent carries the run id.
//!
//! The suite is written as JSON (which YAML reads) and then loaded and
//! planned like any other, so it runs, reports and cleans up the same way.

use serde_json::{Map, Value, json};

use crate::scim::schema::{Attr, GROUP, Mutability, Published, Returned, Type, USER, Uniqueness};

/// The slug the generated suite is known by: part of the `rfc` profile.
pub const SLUG: &str = "rfc7644::schema-driven";
/// The name its source goes by in messages.
pub const SOURCE_NAME: &str = "suites/rfc7644/schema-driven.yaml (generated from GET /Schemas)";

/// Strings whose values RFC 7643 constrains (a language tag, a time zone):
/// a made-up value may be rightly refused.
const CONSTRAINED: [&str; 3] = ["preferredLanguage", "locale", "timezone"];

/// What the generator asks of an attribute it exercises.
trait Exercised {
    /// A singular string scimcheck can make up a value for.
    fn is_simple(&self) -> bool;
    /// A client may send it.
    fn writable(&self) -> bool;
    fn unique(&self) -> bool;
}

impl Exercised for Attr {
    fn is_simple(&self) -> bool {
        self.ty == Type::String
            && !self.multi
            && self.canonical.is_empty()
            && !CONSTRAINED.contains(&self.name.as_str())
    }

    fn writable(&self) -> bool {
        self.mutability.writable()
    }

    fn unique(&self) -> bool {
        self.uniqueness != Uniqueness::None
    }
}

/// A resource type to exercise: its schema, endpoint and attributes.
struct Resource {
    /// `user`, `group`: in scenario ids.
    tag: &'static str,
    schema: &'static str,
    endpoint: String,
    attributes: Vec<Attr>,
}

impl Resource {
    /// Made-up values for every required attribute: a valid minimal body.
    fn body(&self, suffix: &str, leave_out: Option<&str>) -> Option<Map<String, Value>> {
        let mut body = Map::new();
        body.insert("schemas".into(), json!([self.schema]));
        for attribute in self.attributes.iter().filter(|a| a.required) {
            if Some(attribute.name.as_str()) == leave_out || !attribute.writable() {
                continue;
            }
            // A required attribute scimcheck cannot make up: no valid body.
            if !attribute.is_simple() {
                return None;
            }
            body.insert(
                attribute.name.clone(),
                value(&attribute.name, suffix).into(),
            );
        }
        Some(body)
    }

    fn create(&self, id: &str, body: Map<String, Value>, capture: &str) -> Value {
        json!({
            "id": id,
            "request": { "method": "POST", "path": self.endpoint, "json": body },
            "expect": { "status": 201 },
            "capture": { capture: "/id" },
            "cleanup": { "method": "DELETE", "path": format!("{}/{{{{ {capture} }}}}", self.endpoint) },
        })
    }

    fn cleanup_if_created(&self) -> Value {
        json!({ "method": "DELETE", "path": format!("{}/{{{{ created_id }}}}", self.endpoint) })
    }
}

/// A value for `attribute`, unique to the run and scenario.
fn value(attribute: &str, suffix: &str) -> String {
    format!(
        "scimcheck-{{{{ run_id }}}}-{}-{suffix}",
        attribute.to_lowercase()
    )
}

/// The same text in other letter case (ASCII letters swapped).
fn other_case(text: &str) -> String {
    // Only outside the placeholders, which must stay as written.
    let mut out = String::new();
    let mut rest = text;
    while let Some(start) = rest.find("{{") {
        out.push_str(&swap_case(&rest[..start]));
        let end = rest[start..]
            .find("}}")
            .map_or(rest.len(), |e| start + e + 2);
        out.push_str(&rest[start..end]);
        rest = &rest[end..];
    }
    out.push_str(&swap_case(rest));
    out
}

fn swap_case(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_ascii_lowercase() {
                c.to_ascii_uppercase()
            } else {
                c.to_ascii_lowercase()
            }
        })
        .collect()
}

/// The resource types to exercise, from /Schemas and /ResourceTypes.
fn resources(schemas: &Value, resource_types: Option<&Value>, base_url: &str) -> Vec<Resource> {
    let listed = |list: &Value| -> Vec<Value> {
        list.get("Resources")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default()
    };
    let endpoint = |schema: &str, default: &str| {
        resource_types
            .map(listed)
            .unwrap_or_default()
            .iter()
            .find(|rt| rt.get("schema").and_then(Value::as_str) == Some(schema))
            .and_then(|rt| rt.get("endpoint").and_then(Value::as_str))
            .and_then(|e| resolve_endpoint(e, base_url).ok())
            .unwrap_or_else(|| default.to_string())
    };
    // A ListResponse, as RFC 7644 4 answers it; anything else publishes nothing.
    let published = match schemas.get("Resources") {
        Some(_) => Published::from_json(schemas),
        None => Published::default(),
    };
    let mut out = Vec::new();
    for (tag, urn, default) in [("user", USER, "/Users"), ("group", GROUP, "/Groups")] {
        let Some(attributes) = published.attrs(urn) else {
            continue;
        };
        out.push(Resource {
            tag,
            schema: urn,
            endpoint: endpoint(urn, default),
            attributes: attributes.to_vec(),
        });
    }
    out
}

/// What the server declared, for the step's explanation.
fn declared(r: &Resource, a: &Attr, what: &str) -> String {
    format!(
        "{} declares {}.{} {what} in GET /Schemas",
        r.schema, r.tag, a.name
    )
}

fn required_scenarios(r: &Resource, out: &mut Vec<Value>) {
    for a in r.attributes.iter().filter(|a| a.required && a.writable()) {
        let Some(body) = r.body("missing", Some(&a.name)) else {
            continue;
        };
        out.push(json!({
            "id": format!("{}_requires_{}", r.tag, a.name),
            "description": declared(r, a, "required: true"),
            "steps": [{
                "id": "create_without_it",
                "spec": ["RFC7643 2.2", "RFC7644 3.3", "RFC7644 3.12"],
                "verifies": ["RFC7643-7/schema-declares-required", "RFC7644-3.12/error-body"],
                "request": { "method": "POST", "path": r.endpoint, "json": body },
                "expect": { "status": 400, "schema": "error" },
                "advise": { "json": { "/scimType": "invalidValue" } },
                "advice": "RFC 7644 3.12 names invalidValue for a required value that is missing.",
                "cleanup_if_created": r.cleanup_if_created(),
                "impact": format!("A {} without its required {} is created; clients that match on it cannot find it again.", r.tag, a.name),
                "fix": format!("Refuse a {} without {} with 400.", r.tag, a.name),
            }],
        }));
    }
}

fn uniqueness_scenarios(r: &Resource, filter: bool, out: &mut Vec<Value>) {
    for a in r
        .attributes
        .iter()
        .filter(|a| a.unique() && a.is_simple() && a.writable())
    {
        let Some(mut body) = r.body("unique", None) else {
            continue;
        };
        let original = value(&a.name, "unique");
        body.insert(a.name.clone(), original.clone().into());
        // The duplicates differ from the first in every other required
        // attribute, so that only this one can conflict.
        let Some(others) = r.body("other", None) else {
            continue;
        };
        let mut steps = vec![r.create("create", body, "first_id")];
        let again = |id: &str, text: String, spec: &[&str], what: &str| {
            let mut duplicate = others.clone();
            duplicate.insert(a.name.clone(), text.into());
            json!({
                "id": id,
                "spec": spec,
                "verifies": ["RFC7643-7/schema-declares-unique", "RFC7644-3.3/create-conflict-409", "RFC7644-3.12/error-status-string"],
                "request": { "method": "POST", "path": r.endpoint, "json": duplicate },
                "expect": { "status": 409, "schema": "error", "json": { "/status": "409" } },
                "advise": { "json": { "/scimType": "uniqueness" } },
                "advice": "RFC 7644 3.3 names scimType uniqueness for a POST that conflicts.",
                "cleanup_if_created": r.cleanup_if_created(),
                "impact": format!("Two {}s share {} ({what}); clients that match on it link the wrong one.", r.tag, a.name),
                "fix": format!("Refuse a {} whose {} exists with 409 and scimType uniqueness, as the schema declares.", r.tag, a.name),
            })
        };
        steps.push(again(
            "again_same_value",
            original.clone(),
            &["RFC7643 2.2", "RFC7644 3.3"],
            "the same value",
        ));
        if !a.case_exact {
            steps.push(again(
                "again_in_other_case",
                other_case(&original),
                &["RFC7643 2.2", "RFC7643 2.3.1", "RFC7644 3.3"],
                "the same value in other letter case, which caseExact false makes equal",
            ));
            if filter {
                steps.push(case_filter_step(r, a, &original, "first_id"));
            }
        }
        out.push(json!({
            "id": format!("{}_{}_is_unique", r.tag, a.name),
            "description": declared(r, a, &format!("uniqueness: {}", a.uniqueness.name())),
            "steps": steps,
        }));
    }
}

/// `filter=attr eq "<other case>"` finds the resource created with `original`.
fn case_filter_step(r: &Resource, a: &Attr, original: &str, id_var: &str) -> Value {
    json!({
        "id": "found_in_other_case",
        "spec": ["RFC7643 2.3.1", "RFC7644 3.4.2.2"],
        "verifies": ["RFC7643-7/case-exact-comparisons", "RFC7644-3.4.2.2/case-exact-values"],
        "request": {
            "method": "GET",
            "path": r.endpoint,
            "query": { "filter": format!("{} eq \"{}\"", a.name, other_case(original)) },
        },
        "expect": {
            "status": 200,
            "schema": "list-response",
            "json": { "/totalResults": 1, "/Resources/0/id": format!("{{{{ {id_var} }}}}") },
        },
        "impact": format!("A client matching on {} in other letter case does not find the {} and creates a duplicate.", a.name, r.tag),
        "fix": format!("Compare {} ignoring case in filters, as its caseExact false declares.", a.name),
    })
}

/// Required (and not unique) attributes with caseExact false: matched ignoring case.
fn case_scenarios(r: &Resource, filter: bool, out: &mut Vec<Value>) {
    if !filter {
        return;
    }
    for a in r
        .attributes
        .iter()
        .filter(|a| a.required && !a.unique() && !a.case_exact && a.is_simple() && a.writable())
    {
        let Some(mut body) = r.body("case", None) else {
            continue;
        };
        let original = value(&a.name, "case");
        body.insert(a.name.clone(), original.clone().into());
        out.push(json!({
            "id": format!("{}_{}_ignores_case", r.tag, a.name),
            "description": declared(r, a, "caseExact: false"),
            "steps": [r.create("create", body, "created"), case_filter_step(r, a, &original, "created")],
        }));
    }
}

fn returned_never_scenarios(r: &Resource, filter: bool, out: &mut Vec<Value>) {
    for a in r
        .attributes
        .iter()
        .filter(|a| a.returned == Returned::Never && a.is_simple() && a.writable())
    {
        let Some(mut body) = r.body("never", None) else {
            continue;
        };
        // Long, mixed and with digits and symbols: whatever a password policy asks.
        body.insert(a.name.clone(), "Sc1m!Check-{{ uuid }}".into());
        let absent = json!({ format!("/{}", a.name): { "absent": true } });
        let impact = format!(
            "The {} is disclosed to every client that reads the {}.",
            a.name, r.tag
        );
        let fix = format!("Never return {}, as its returned never declares.", a.name);
        let mut create = r.create("create", body.clone(), "created");
        create["on_wrong_status"] = json!({
            "impact": format!("A {} carrying {} cannot be created, so whether {} is ever returned could not be assessed.", r.tag, a.name, a.name),
            "fix": format!("Accept a {} with a {} its rules allow, or say which rule it breaks in the error's detail.", r.tag, a.name),
        });
        create["spec"] = json!(["RFC7643 7", "RFC7644 3.3"]);
        create["verifies"] = json!([
            "RFC7643-7/schema-declares-never-returned",
            "RFC7643-4.1.1/password-never-returned",
            "RFC7644-7.5.1/password-not-returned"
        ]);
        create["expect"]["json"] = absent.clone();
        create["impact"] = impact.clone().into();
        create["fix"] = fix.clone().into();
        let mut steps = vec![
            create,
            json!({
                "id": "get",
                "spec": ["RFC7643 7", "RFC7644 3.4.1"],
                "verifies": ["RFC7643-7/schema-declares-never-returned", "RFC7643-4.1.1/password-write-only", "RFC7643-9.3/sensitive-never-returned"],
                "request": { "method": "GET", "path": format!("{}/{{{{ created }}}}", r.endpoint) },
                "expect": { "status": 200, "json": absent },
                "impact": impact,
                "fix": fix,
            }),
        ];
        if filter {
            steps.push(json!({
                "id": "list",
                "spec": ["RFC7643 7", "RFC7644 3.4.2"],
                "verifies": ["RFC7643-7/schema-declares-never-returned"],
                "request": { "method": "GET", "path": r.endpoint, "query": { "filter": format!("id eq \"{{{{ created }}}}\"") } },
                "expect": { "status": 200, "json": { format!("/Resources/0/{}", a.name): { "absent": true } } },
                "impact": format!("The {} is disclosed in list answers.", a.name),
                "fix": format!("Never return {}, in lists either.", a.name),
            }));
        }
        out.push(json!({
            "id": format!("{}_{}_is_never_returned", r.tag, a.name),
            "description": declared(r, a, "returned: never"),
            "steps": steps,
        }));
    }
}

fn read_only_scenarios(r: &Resource, out: &mut Vec<Value>) {
    for a in r
        .attributes
        .iter()
        .filter(|a| a.mutability == Mutability::ReadOnly && a.ty == Type::String && !a.multi)
    {
        let Some(body) = r.body("readonly", None) else {
            continue;
        };
        let bogus = "scimcheck-{{ run_id }}-not-yours";
        let mut put = body.clone();
        put.insert(a.name.clone(), bogus.into());
        out.push(json!({
            "id": format!("{}_{}_is_read_only", r.tag, a.name),
            "description": declared(r, a, "mutability: readOnly"),
            "steps": [
                r.create("create", body, "created"),
                {
                    "id": "put_with_a_value",
                    "spec": ["RFC7643 7", "RFC7644 3.5.1"],
                    "verifies": ["RFC7643-7/schema-declares-read-only", "RFC7644-3.5.1/put-read-only-ignored"],
                    "request": { "method": "PUT", "path": format!("{}/{{{{ created }}}}", r.endpoint), "json": put },
                    "expect": { "status": 200, "json": { format!("/{}", a.name): { "ne": bogus } } },
                    "impact": format!("A client can overwrite {}, which the server owns.", a.name),
                    "fix": format!("Ignore values given for {} on PUT (RFC 7644 3.5.1).", a.name),
                },
            ],
        }));
    }
}

fn immutable_scenarios(r: &Resource, patch: bool, out: &mut Vec<Value>) {
    // The change is tried with PATCH: only when the server claims it.
    if !patch {
        return;
    }
    for a in r
        .attributes
        .iter()
        .filter(|a| a.mutability == Mutability::Immutable && a.is_simple())
    {
        let Some(mut body) = r.body("immutable", None) else {
            continue;
        };
        body.insert(a.name.clone(), value(&a.name, "first").into());
        out.push(json!({
            "id": format!("{}_{}_is_immutable", r.tag, a.name),
            "description": declared(r, a, "mutability: immutable"),
            "steps": [
                r.create("create", body, "created"),
                {
                    "id": "change_it",
                    "spec": ["RFC7643 7", "RFC7644 3.5.2"],
                    "verifies": ["RFC7644-3.5.2/mutability-respected"],
                    "request": {
                        "method": "PATCH",
                        "path": format!("{}/{{{{ created }}}}", r.endpoint),
                        "json": {
                            "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                            "Operations": [{ "op": "replace", "path": a.name, "value": value(&a.name, "second") }],
                        },
                    },
                    "expect": { "status": 400, "schema": "error" },
                    "advise": { "json": { "/scimType": "mutability" } },
                    "advice": "RFC 7644 3.12 names scimType mutability for a change to an immutable attribute.",
                    "impact": format!("{}, declared immutable, can be changed after creation.", a.name),
                    "fix": format!("Refuse a change to {} with 400 and scimType mutability.", a.name),
                },
            ],
        }));
    }
}

/// Each resource type of /ResourceTypes: its schema and extensions listed
/// in /Schemas, and its endpoint answering a query.
fn resource_type_scenarios(resource_types: Option<&Value>, base_url: &str, out: &mut Vec<Value>) {
    let listed = resource_types
        .and_then(|rt| rt.get("Resources"))
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    for (index, rt) in listed.into_iter().enumerate() {
        let (Some(name), Some(endpoint), Some(schema)) = (
            rt.get("name").and_then(Value::as_str),
            rt.get("endpoint").and_then(Value::as_str),
            rt.get("schema").and_then(Value::as_str),
        ) else {
            continue;
        };
        let slug = crate::generate::identifier(name);
        let extensions = rt
            .get("schemaExtensions")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|e| e.get("schema").and_then(Value::as_str));
        let mut steps = Vec::new();
        for (i, urn) in std::iter::once(schema).chain(extensions).enumerate() {
            steps.push(json!({
                "id": if i == 0 { "schema_listed".to_string() } else { format!("extension_{i}_listed") },
                "spec": ["RFC7643 6", "RFC7644 4"],
                "verifies": ["RFC7643-7/schemas-describe-served", "RFC7643-6/resource-type-attributes"],
                "request": { "method": "GET", "path": "/Schemas" },
                "expect": { "status": 200, "json": { "/Resources": { "contains": { "id": urn } } } },
                "impact": format!("Clients cannot learn the attributes of {name}: its schema {urn} is not in /Schemas."),
                "fix": format!("List {urn} in /Schemas, or leave it out of the {name} resource type."),
            }));
        }
        let path = match resolve_endpoint(endpoint, base_url) {
            Ok(path) => path,
            Err(why) => {
                steps.push(json!({
                    "id": "endpoint_resolves",
                    "spec": ["RFC7643 6"],
                    "request": { "method": "GET", "path": "/ResourceTypes" },
                    "expect": { "status": 200, "json": { format!("/Resources/{index}/endpoint"): { "matches": "^[^:]*$" } } },
                    "impact": format!("Clients cannot find the {name} endpoint: {why}."),
                    "fix": format!("Give the endpoint of {name} relative to the base URL, as in \"/{name}s\" (RFC 7643 6)."),
                }));
                out.push(json!({
                    "id": format!("resource_type_{slug}_is_consistent"),
                    "description": format!("/ResourceTypes declares {name} at {endpoint} with schema {schema}"),
                    "steps": steps,
                }));
                continue;
            }
        };
        if endpoint.contains("://")
            || path.trim_start_matches('/') != endpoint.trim_start_matches('/')
        {
            // Absolute or base-repeating: clients that join it to the base URL go astray.
            steps.push(json!({
                "id": "endpoint_is_relative",
                "spec": ["RFC7643 6"],
                "request": { "method": "GET", "path": "/ResourceTypes" },
                "expect": { "status": 200 },
                "advise": { "json": { format!("/Resources/{index}/endpoint"): path.clone() } },
                "advice": format!("RFC 7643 6 gives a resource type's endpoint relative to the base URL (\"{path}\"); \"{endpoint}\" only works for clients that guess how to join it."),
            }));
        }
        steps.push(json!({
            "id": "endpoint_answers",
            "spec": ["RFC7643 6", "RFC7644 3.4.2"],
            "verifies": ["RFC7643-6/resource-types-list-users-and-groups", "RFC7644-3.1/endpoints"],
            "request": { "method": "GET", "path": path, "query": { "count": "1" } },
            "expect": { "status": 200, "schema": "list-response" },
            "impact": format!("The {name} endpoint /ResourceTypes advertises does not answer a query."),
            "fix": format!("Serve {endpoint}, or leave {name} out of /ResourceTypes."),
        }));
        out.push(json!({
            "id": format!("resource_type_{slug}_is_consistent"),
            "description": format!("/ResourceTypes declares {name} at {endpoint} with schema {schema}"),
            "steps": steps,
        }));
    }
}

/// A resource type's `endpoint` as a path below the base URL. RFC 7643 6
/// makes it relative to the base URL (`/Users`); servers also give it
/// without the slash, with the base path repeated (`/scim/v2/Users`) or as
/// an absolute URL, and each is read for what it means rather than glued on.
/// An absolute URL elsewhere than below the base URL cannot be used: Err.
pub fn resolve_endpoint(endpoint: &str, base_url: &str) -> Result<String, String> {
    let base = base_url.trim_end_matches('/');
    let base_path = reqwest::Url::parse(base)
        .map(|u| u.path().trim_end_matches('/').to_string())
        .unwrap_or_default();
    let relative = if endpoint.contains("://") {
        match endpoint.strip_prefix(base) {
            Some(rest) => rest.to_string(),
            None => {
                return Err(format!(
                    "the endpoint {endpoint} is not below the base URL {base}"
                ));
            }
        }
    } else {
        let path = format!("/{}", endpoint.trim_start_matches('/'));
        match path.strip_prefix(&base_path) {
            Some(rest) if !base_path.is_empty() && (rest.is_empty() || rest.starts_with('/')) => {
                rest.to_string()
            }
            _ => path,
        }
    };
    let relative = format!("/{}", relative.trim_start_matches('/'));
    if relative == "/" {
        return Err(format!("the endpoint {endpoint} names no resource path"));
    }
    Ok(relative)
}

/// What the ServiceProviderConfig claims of `feature` (`filter`, `bulk`, ...).
fn claims(config: Option<&Value>, feature: &str) -> Option<bool> {
    config?.get(feature)?.get("supported")?.as_bool()
}

/// A feature the ServiceProviderConfig says is not supported: a request
/// using it changes nothing, and is refused (501 advised, RFC 7644 3.12).
fn unsupported_scenarios(config: Option<&Value>, resources: &[Resource], out: &mut Vec<Value>) {
    let Some(users) = resources.iter().find(|r| r.tag == "user") else {
        return;
    };
    let Some(body) = users.body("unsupported", None) else {
        return;
    };
    let change = json!({
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{ "op": "replace", "path": "displayName", "value": "scimcheck-not-applied" }],
    });
    let user = format!("{}/{{{{ created }}}}", users.endpoint);
    let attempts = [
        (
            "patch",
            json!({ "method": "PATCH", "path": user, "json": change }),
        ),
        (
            "bulk",
            json!({ "method": "POST", "path": "/Bulk", "json": {
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:BulkRequest"],
            "Operations": [{ "method": "PATCH", "path": user, "data": change }],
        } }),
        ),
    ];
    for (feature, request) in attempts {
        if claims(config, feature) != Some(false) {
            continue;
        }
        out.push(json!({
            "id": format!("{feature}_not_offered_is_refused"),
            "description": format!("the ServiceProviderConfig says {feature}.supported is false"),
            "steps": [
                users.create("create", body.clone(), "created"),
                {
                    "id": format!("try_{feature}"),
                    "spec": ["RFC7643 5", "RFC7644 3.12"],
                    "verifies": ["RFC7644-3.12/501-not-implemented"],
                    "request": request,
                    "expect": { "status": [400, 403, 404, 405, 501] },
                    "advise": { "status": 501 },
                    "advice": "RFC 7644 3.12 names 501 Not Implemented for an operation the service provider does not support.",
                    "impact": format!("A request using {feature}, which the ServiceProviderConfig disowns, is answered as a success."),
                    "fix": format!("Refuse {feature} with 501, or claim {feature}.supported."),
                },
                {
                    "id": "unchanged",
                    "spec": ["RFC7643 5"],
                    "verifies": ["RFC7643-5/spc-truthful"],
                    "request": { "method": "GET", "path": user },
                    "expect": { "status": 200, "json": { "/displayName": { "ne": "scimcheck-not-applied" } } },
                    "impact": format!("{feature} is applied although the ServiceProviderConfig says it is not supported; clients that trust it are surprised."),
                    "fix": format!("Make the ServiceProviderConfig say what the server does: {feature}.supported true."),
                },
            ],
        }));
    }
}

/// The generated suite's text, or None when there is nothing to check (no
/// core User or Group schema, no resource type, no attribute scimcheck can
/// exercise, no feature disowned). `config` is the ServiceProviderConfig:
/// filters are sent only when it claims filtering.
pub fn generate(
    schemas: &Value,
    resource_types: Option<&Value>,
    config: Option<&Value>,
    base_url: &str,
) -> Option<String> {
    let filter = claims(config, "filter") == Some(true);
    let resources = resources(schemas, resource_types, base_url);
    let mut scenarios = Vec::new();
    resource_type_scenarios(resource_types, base_url, &mut scenarios);
    unsupported_scenarios(config, &resources, &mut scenarios);
    for r in &resources {
        required_scenarios(r, &mut scenarios);
        uniqueness_scenarios(r, filter, &mut scenarios);
        case_scenarios(r, filter, &mut scenarios);
        returned_never_scenarios(r, filter, &mut scenarios);
        read_only_scenarios(r, &mut scenarios);
        immutable_scenarios(r, claims(config, "patch") == Some(true), &mut scenarios);
    }
    if scenarios.is_empty() {
        return None;
    }
    let suite = json!({
        "name": "Schema-driven checks",
        "description": "Each attribute held to what the server's own GET /Schemas declares of it.",
        "spec": ["RFC7643 2.2", "RFC7643 7"],
        "tags": ["rfc7643", "schema"],
        "scenarios": scenarios,
    });
    serde_json::to_string_pretty(&suite).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn schemas(user_attributes: Value) -> Value {
        json!({ "Resources": [ { "id": USER, "attributes": user_attributes } ] })
    }

    fn filtering(supported: bool) -> Value {
        json!({ "filter": { "supported": supported } })
    }

    fn ids(text: &str) -> Vec<String> {
        let suite: Value = serde_json::from_str(text).unwrap();
        suite["scenarios"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["id"].as_str().unwrap().to_string())
            .collect()
    }

    #[test]
    fn each_declared_characteristic_gets_its_scenario() {
        let text = generate(
            &schemas(json!([
                { "name": "userName", "type": "string", "required": true, "uniqueness": "server" },
                { "name": "password", "type": "string", "mutability": "writeOnly", "returned": "never" },
                { "name": "id", "type": "string", "mutability": "readOnly", "caseExact": true },
                { "name": "badge", "type": "string", "mutability": "immutable" },
                { "name": "locale", "type": "string", "required": false },
                { "name": "emails", "type": "complex", "multiValued": true },
            ])),
            None,
            Some(&json!({ "filter": { "supported": true }, "patch": { "supported": true } })),
            "http://127.0.0.1:1",
        )
        .unwrap();
        assert_eq!(
            ids(&text),
            [
                "user_requires_userName",
                "user_userName_is_unique",
                "user_password_is_never_returned",
                "user_id_is_read_only",
                "user_badge_is_immutable",
            ]
        );
        assert!(
            text.contains(r#""filter": "userName eq \"SCIMCHECK-{{ run_id }}-USERNAME-UNIQUE\"""#),
            "{text}"
        );
    }

    #[test]
    fn a_server_that_declares_less_gets_fewer_checks() {
        // userName declared caseExact true and not unique: no uniqueness, no case checks.
        let text = generate(
            &schemas(json!([
                { "name": "userName", "type": "string", "required": true, "caseExact": true },
            ])),
            None,
            Some(&filtering(true)),
            "http://127.0.0.1:1",
        )
        .unwrap();
        assert_eq!(ids(&text), ["user_requires_userName"]);
    }

    #[test]
    fn without_filtering_no_filter_is_sent() {
        let text = generate(
            &schemas(json!([
                { "name": "userName", "type": "string", "required": true, "uniqueness": "server" },
            ])),
            None,
            Some(&filtering(false)),
            "http://127.0.0.1:1",
        )
        .unwrap();
        assert!(!text.contains("filter"), "{text}");
    }

    #[test]
    fn a_required_value_scimcheck_cannot_make_up_leaves_only_its_own_absence() {
        // No valid body can be built, so only "refused without clearance" is checked.
        let text = generate(
            &schemas(json!([
                { "name": "userName", "type": "string", "required": true, "uniqueness": "server" },
                { "name": "clearance", "type": "complex", "required": true },
            ])),
            None,
            Some(&filtering(true)),
            "http://127.0.0.1:1",
        )
        .unwrap();
        assert_eq!(ids(&text), ["user_requires_clearance"]);
    }

    #[test]
    fn endpoints_resolve_relative_to_the_base_url() {
        let base = "https://app.example.com/scim/v2";
        for (endpoint, path) in [
            ("/Users", "/Users"),
            ("Users", "/Users"),
            ("/scim/v2/Users", "/Users"),
            ("https://app.example.com/scim/v2/Users", "/Users"),
            ("https://app.example.com/scim/v2/Users/", "/Users/"),
            ("/scim/v2x/Users", "/scim/v2x/Users"),
        ] {
            assert_eq!(
                resolve_endpoint(endpoint, base).as_deref(),
                Ok(path),
                "{endpoint}"
            );
        }
        assert!(resolve_endpoint("https://elsewhere.example.com/Users", base).is_err());
        assert!(resolve_endpoint("/scim/v2", base).is_err());
        // At the root, nothing is stripped.
        assert_eq!(
            resolve_endpoint("/Users", "http://127.0.0.1:8080").as_deref(),
            Ok("/Users")
        );
    }

    #[test]
    fn an_absolute_or_base_repeating_endpoint_is_used_as_meant_and_advised() {
        let types = json!({ "Resources": [
            { "name": "User", "schema": USER, "endpoint": "http://127.0.0.1:1/scim/v2/Users" },
            { "name": "Group", "schema": GROUP, "endpoint": "/scim/v2/Groups" },
            { "name": "Device", "schema": "urn:x:Device", "endpoint": "Devices" }
        ] });
        let text = generate(
            &json!({ "Resources": [] }),
            Some(&types),
            Some(&filtering(true)),
            "http://127.0.0.1:1/scim/v2",
        )
        .unwrap();
        let suite: Value = serde_json::from_str(&text).unwrap();
        let steps = |i: usize| suite["scenarios"][i]["steps"].as_array().unwrap().clone();
        let user = steps(0);
        assert_eq!(user[1]["id"], "endpoint_is_relative");
        assert_eq!(user[1]["advise"]["json"]["/Resources/0/endpoint"], "/Users");
        assert_eq!(user[2]["request"]["path"], "/Users");
        let group = steps(1);
        assert_eq!(
            group[1]["advise"]["json"]["/Resources/1/endpoint"],
            "/Groups"
        );
        assert_eq!(group[2]["request"]["path"], "/Groups");
        // "Devices" is relative (RFC 7643 6's own example has no slash): no advice.
        let device = steps(2);
        assert_eq!(device[1]["id"], "endpoint_answers");
        assert_eq!(device[1]["request"]["path"], "/Devices");
    }

    #[test]
    fn endpoints_come_from_the_resource_types() {
        let types =
            json!({ "Resources": [ { "name": "User", "schema": USER, "endpoint": "/People" } ] });
        let text = generate(
            &schemas(json!([{ "name": "userName", "type": "string", "required": true }])),
            Some(&types),
            Some(&filtering(true)),
            "http://127.0.0.1:1",
        )
        .unwrap();
        assert!(text.contains(r#""path": "/People""#), "{text}");
        assert_eq!(ids(&text)[0], "resource_type_user_is_consistent");
    }

    #[test]
    fn every_schema_a_resource_type_names_is_looked_for() {
        let types = json!({ "Resources": [ { "name": "Device Account", "schema": "urn:x:Device", "endpoint": "/Devices",
            "schemaExtensions": [ { "schema": "urn:x:Ext", "required": false } ] } ] });
        let text = generate(
            &json!({ "Resources": [] }),
            Some(&types),
            Some(&filtering(true)),
            "http://127.0.0.1:1",
        );
        // No core schema: no attribute checks, but the resource type is still checked.
        let text = text.unwrap();
        assert_eq!(ids(&text), ["resource_type_device_account_is_consistent"]);
        let suite: Value = serde_json::from_str(&text).unwrap();
        let steps = &suite["scenarios"][0]["steps"];
        assert_eq!(
            steps[0]["expect"]["json"]["/Resources"]["contains"]["id"],
            "urn:x:Device"
        );
        assert_eq!(
            steps[1]["expect"]["json"]["/Resources"]["contains"]["id"],
            "urn:x:Ext"
        );
        assert_eq!(steps[2]["request"]["path"], "/Devices");
    }

    #[test]
    fn a_disowned_feature_is_checked_to_be_refused() {
        let config = json!({ "filter": { "supported": true }, "patch": { "supported": false }, "bulk": { "supported": true } });
        let text = generate(
            &schemas(json!([{ "name": "userName", "type": "string", "required": true }])),
            None,
            Some(&config),
            "http://127.0.0.1:1",
        )
        .unwrap();
        assert_eq!(
            ids(&text),
            [
                "patch_not_offered_is_refused",
                "user_requires_userName",
                "user_userName_ignores_case"
            ]
        );
    }

    #[test]
    fn other_case_keeps_placeholders() {
        assert_eq!(
            other_case("scimcheck-{{ run_id }}-Ab"),
            "SCIMCHECK-{{ run_id }}-aB"
        );
    }
}
