//! What Okta sends, derived from a customer's profile mapping (Okta's
//! `GET /api/v1/mappings/{id}`: `properties: {attr: {expression,
//! pushStatus}}`): the lookup with startIndex and count, the POST, the PUT
//! of the whole profile, and the path-less `active` replace. Smaller than
//! the Entra replay: `user.*` references and the common String functions.

pub mod expr;

use std::collections::BTreeMap;

use serde_json::{Map, Value as Json, json};

use crate::generate::entra::target::{CORE_USER, TargetPath};
use crate::generate::entra::users::SourceObject;
use crate::generate::run_unique;

/// One property of the mapping.
#[derive(Debug, Clone)]
pub struct Property {
    /// The app user attribute (`givenName`).
    pub name: String,
    /// Where it goes in SCIM (`name.givenName`).
    pub target: String,
    pub expression: String,
    pub tree: expr::Expr,
    /// PUSH: on create and update; DONT_PUSH: on create only.
    pub on_update: bool,
}

/// What flowed: `(target, "givenName ← user.firstName", value)`.
type Sent = (String, String, String);

/// The SCIM path of an app user attribute of Okta's SCIM 2.0 template.
fn scim_target(name: &str) -> Option<String> {
    const ENTERPRISE: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:";
    let plain = match name {
        "userName" => "userName",
        "givenName" => "name.givenName",
        "familyName" => "name.familyName",
        "middleName" => "name.middleName",
        "honorificPrefix" => "name.honorificPrefix",
        "honorificSuffix" => "name.honorificSuffix",
        "email" => "emails[type eq \"work\"].value",
        "displayName" => "displayName",
        "nickName" => "nickName",
        "title" => "title",
        "userType" => "userType",
        "locale" => "locale",
        "timezone" => "timezone",
        "preferredLanguage" => "preferredLanguage",
        "profileUrl" => "profileUrl",
        "externalId" => "externalId",
        "primaryPhone" => "phoneNumbers[type eq \"work\"].value",
        "mobilePhone" => "phoneNumbers[type eq \"mobile\"].value",
        "streetAddress" => "addresses[type eq \"work\"].streetAddress",
        "locality" => "addresses[type eq \"work\"].locality",
        "region" => "addresses[type eq \"work\"].region",
        "postalCode" => "addresses[type eq \"work\"].postalCode",
        "country" => "addresses[type eq \"work\"].country",
        "employeeNumber" => return Some(format!("{ENTERPRISE}employeeNumber")),
        "costCenter" => return Some(format!("{ENTERPRISE}costCenter")),
        "organization" => return Some(format!("{ENTERPRISE}organization")),
        "division" => return Some(format!("{ENTERPRISE}division")),
        "department" => return Some(format!("{ENTERPRISE}department")),
        _ => return None,
    };
    Some(plain.to_string())
}

/// The app's username format (the app's Sign On settings), which gives
/// the app user's userName unless the mapping overrides it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UsernameFormat {
    /// Okta's default: the Okta username (`user.login`).
    OktaUsername,
    OktaUsernamePrefix,
    Email,
    EmailPrefix,
}

impl UsernameFormat {
    pub const NAMES: [&'static str; 4] = [
        "okta-username",
        "okta-username-prefix",
        "email",
        "email-prefix",
    ];

    pub fn parse(name: &str) -> Option<UsernameFormat> {
        Some(match name {
            "okta-username" => UsernameFormat::OktaUsername,
            "okta-username-prefix" => UsernameFormat::OktaUsernamePrefix,
            "email" => UsernameFormat::Email,
            "email-prefix" => UsernameFormat::EmailPrefix,
            _ => return None,
        })
    }

    /// The expression Okta evaluates for it.
    fn expression(self) -> &'static str {
        match self {
            UsernameFormat::OktaUsername => "user.login",
            UsernameFormat::OktaUsernamePrefix => "String.substringBefore(user.login, \"@\")",
            UsernameFormat::Email => "user.email",
            UsernameFormat::EmailPrefix => "String.substringBefore(user.email, \"@\")",
        }
    }
}

/// Reads the mapping; errors name the property and the column. Without a
/// userName property, Okta takes the app username from the app's username
/// format, as it does unless an admin overrides it: `format` stands for it.
pub fn read(text: &str, format: UsernameFormat) -> Result<(Vec<Property>, Vec<String>), String> {
    let json: Json = serde_json::from_str(text).map_err(|e| crate::generate::json_error(&e))?;
    if json.get("synchronizationRules").is_some() {
        return Err(
            "this is an Entra provisioning configuration: give it with --entra-schema".into(),
        );
    }
    if let Some(why) = not_outbound_scim(&json) {
        return Err(format!("{why}: nothing to replay"));
    }
    let properties = json
        .get("properties")
        .and_then(Json::as_object)
        .ok_or("no `properties`: expected Okta's profile mapping (GET /api/v1/mappings/{id})")?;
    let mut out = Vec::new();
    let mut notes = Vec::new();
    for (name, property) in properties {
        let expression = property
            .get("expression")
            .and_then(Json::as_str)
            .ok_or_else(|| format!("properties.{name}: no expression"))?;
        let tree = expr::parse(expression)
            .map_err(|e| format!("properties.{name}.expression: `{expression}` {e}"))?;
        let Some(target) = scim_target(name) else {
            notes.push(format!(
                "properties.{name}: no SCIM attribute of Okta's SCIM 2.0 template: not replayed"
            ));
            continue;
        };
        let on_update = property.get("pushStatus").and_then(Json::as_str) != Some("DONT_PUSH");
        out.push(Property {
            name: name.clone(),
            target,
            expression: expression.to_string(),
            tree,
            on_update,
        });
    }
    if !out.iter().any(|p| p.target == "userName") {
        let expression = format.expression();
        notes.push(format!(
            "properties: no userName mapping: the app's username format gives it, as in Okta, here `{expression}` (--okta-username-format)"
        ));
        out.push(Property {
            name: "userName".into(),
            target: "userName".into(),
            expression: expression.to_string(),
            tree: expr::parse(expression).expect("the formats' expressions parse"),
            on_update: true,
        });
    }
    Ok((out, notes))
}

/// Okta's apps that it provisions through connectors of their own, not SCIM.
const OWN_CONNECTORS: [&str; 4] = ["okta_org2org", "office365", "google", "salesforce"];

/// Why the mapping is not one Okta uses to send SCIM requests, if it is not:
/// an import (app user → Okta user), an OIDC app's (no provisioning: its
/// attributes go into tokens), or an app Okta reaches by its own connector.
fn not_outbound_scim(mapping: &Json) -> Option<String> {
    let field = |side: &str, key: &str| {
        mapping
            .get(side)
            .and_then(|s| s.get(key))
            .and_then(Json::as_str)
            .unwrap_or_default()
            .to_string()
    };
    let (source, target) = (field("source", "name"), field("target", "name"));
    if field("source", "type") == "appuser" && field("target", "type") == "user" {
        return Some(format!(
            "source {source} → target {target} maps the app's profile into Okta's (an import): Okta sends the app no request with it; give the mapping whose source is Okta's user and target the app"
        ));
    }
    if target == "oidc_client" {
        return Some(
            "target oidc_client is an OpenID Connect app: Okta does not provision it, the mapped attributes go into its tokens".into(),
        );
    }
    if OWN_CONNECTORS.contains(&target.as_str()) {
        return Some(format!(
            "target {target} is an app Okta provisions through a connector of its own API, not SCIM"
        ));
    }
    None
}

/// An Entra-shaped sample user as an Okta profile.
fn profile(user: &SourceObject) -> BTreeMap<String, String> {
    let pairs = [
        ("login", "userPrincipalName"),
        ("email", "mail"),
        ("firstName", "givenName"),
        ("lastName", "surname"),
        ("displayName", "displayName"),
        ("department", "department"),
        ("title", "jobTitle"),
        ("mobilePhone", "mobile"),
        ("primaryPhone", "telephoneNumber"),
        ("employeeNumber", "employeeId"),
        ("preferredLanguage", "preferredLanguage"),
        ("city", "city"),
        ("countryCode", "country"),
        ("streetAddress", "streetAddress"),
        ("zipCode", "postalCode"),
        ("organization", "companyName"),
    ];
    pairs
        .iter()
        .filter_map(|(okta, entra)| Some((okta.to_string(), user.attribute(entra)?.as_text()?)))
        .collect()
}

fn body(
    properties: &[Property],
    profile: &BTreeMap<String, String>,
    only_updates: bool,
) -> (Map<String, Json>, Vec<Sent>) {
    let mut body = Map::new();
    body.insert("schemas".into(), json!([CORE_USER]));
    let mut sent = Vec::new();
    for p in properties.iter().filter(|p| !only_updates || p.on_update) {
        let Some(value) = expr::eval(&p.tree, profile) else {
            continue;
        };
        // Evaluated on the user's own values, as Okta does; what names the
        // user to the app is then made unique to the run.
        let value = if run_unique::is_identifying(&p.target) {
            run_unique::unique(&value)
        } else {
            value
        };
        if let Some(path) = TargetPath::parse(&p.target) {
            path.insert(&mut body, Json::String(value.clone()));
            sent.push((
                p.target.clone(),
                format!("{} ← {}", p.name, p.expression),
                value,
            ));
        }
    }
    // Okta marks its email primary.
    if let Some(Json::Array(emails)) = body.get_mut("emails") {
        for e in emails.iter_mut().filter_map(Json::as_object_mut) {
            e.insert("primary".into(), Json::Bool(true));
        }
    }
    (body, sent)
}

fn checks(sent: &[Sent]) -> Map<String, Json> {
    let mut checks = Map::new();
    for (target, label, value) in sent {
        if let Some(path) = TargetPath::parse(target) {
            let (pointer, mut predicate) = path.check(&Json::String(value.clone()));
            if let Some(p) = predicate.as_object_mut() {
                p.insert("label".into(), json!(label));
            }
            checks.entry(pointer).or_insert(predicate);
        }
    }
    checks
}

/// The suite of Okta's traffic for each user.
pub fn suite(properties: &[Property], users: &[SourceObject], mapping_name: &str) -> Json {
    let headers = json!({ "user-agent": "Okta SCIM Client 1.0.0", "accept": "application/scim+json", "content-type": "application/scim+json; charset=utf-8" });
    let mut scenarios = Vec::new();
    for user in users {
        if user
            .attribute("accountEnabled")
            .and_then(|v| v.as_text())
            .as_deref()
            == Some("False")
        {
            continue;
        }
        let okta = profile(user);
        let (create, sent) = body(properties, &okta, false);
        let Some(user_name) = create
            .get("userName")
            .and_then(Json::as_str)
            .map(str::to_string)
        else {
            continue;
        };
        let mut changed = okta.clone();
        for value in changed.values_mut() {
            *value = match value.rsplit_once('@') {
                Some((local, domain)) => format!("{local}.2@{domain}"),
                None => format!("{value} 2"),
            };
        }
        let (mut update, update_sent) = body(properties, &changed, true);
        // PUT carries the whole user: what flows on create only stays as it was.
        for (key, value) in &create {
            update.entry(key.clone()).or_insert(value.clone());
        }
        update.insert("id".into(), json!("{{ user_id }}"));
        update.insert("active".into(), json!(true));
        let mut create = create;
        create.insert("active".into(), json!(true));
        create.insert("groups".into(), json!([]));
        let get = json!({ "method": "GET", "path": "/Users/{{ user_id }}", "headers": headers });
        let steps = json!([
            {
                "id": "lookup", "needs": [],
                "spec": ["Okta SCIM 2.0: Determine if the user already exists", "RFC7644 3.4.2"],
                "request": { "method": "GET", "path": "/Users", "headers": headers, "query": { "filter": format!("userName eq \"{}\"", user_name.replace('"', "\\\"")), "startIndex": "1", "count": "100" } },
                "expect": { "status": 200, "json": { "/totalResults": 0 } },
                "impact": "Okta cannot tell whether the user exists and stops the assignment.",
                "fix": "Answer the lookup with 200 and an empty ListResponse.",
            },
            {
                "id": "create", "needs": [],
                "spec": ["Okta SCIM 2.0: Create the user", "RFC7644 3.3"],
                "request": { "method": "POST", "path": "/Users", "headers": headers, "json": create },
                "expect": { "status": 201 },
                "capture": { "user_id": "/id" },
                "cleanup": { "method": "DELETE", "path": "/Users/{{ user_id }}" },
                "impact": "The assignment fails and the user is never created in the app.",
                "fix": "Accept the create body this mapping gives, and answer 201 with the user and its id.",
            },
            {
                "id": "kept_on_create", "needs": ["create"],
                "spec": ["Okta profile mapping", "RFC7644 3.4.1"],
                "request": get,
                "expect": { "status": 200, "json": checks(&sent) },
                "impact": "A mapped value does not come back as sent: Okta pushes it again on every update.",
                "fix": "Store each mapped attribute as sent and return it.",
            },
            {
                "id": "update", "needs": ["create"],
                "spec": ["Okta SCIM 2.0: Update a specific user (PUT)", "RFC7644 3.5.1"],
                "request": { "method": "PUT", "path": "/Users/{{ user_id }}", "headers": headers, "json": update },
                "expect": { "status": 200 },
                "impact": "Profile changes in Okta never reach the app.",
                "fix": "Accept Okta's PUT of the whole user and answer 200 with it.",
            },
            {
                "id": "kept_on_update", "needs": ["update"],
                "spec": ["Okta profile mapping", "RFC7644 3.5.1"],
                "request": get,
                "expect": { "status": 200, "json": checks(&update_sent) },
                "impact": "A value Okta pushed by PUT does not come back as sent.",
                "fix": "Replace the user's attributes with those the PUT carries.",
            },
            {
                "id": "deactivate", "needs": ["create"],
                "spec": ["Okta SCIM 2.0: Deactivate a user", "RFC7644 3.5.2.3"],
                "request": { "method": "PATCH", "path": "/Users/{{ user_id }}", "headers": headers, "json": { "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": [{ "op": "replace", "value": { "active": false } }] } },
                "expect": { "status": [200, 204] },
                "impact": "A deactivated user keeps access in the app.",
                "fix": "Support a path-less replace whose value is {\"active\": false}.",
            },
            {
                "id": "deactivated", "needs": ["deactivate"],
                "spec": ["RFC7644 3.5.2.3"],
                "request": get,
                "expect": { "status": 200, "json": { "/active": false } },
                "impact": "The deactivation was accepted but not applied.",
                "fix": "Apply active=false.",
            },
        ]);
        scenarios.push(json!({ "id": format!("user_{}", user.slug), "steps": steps }));
    }
    json!({
        "name": format!("Okta replay: {mapping_name}"),
        "description": "Derived by `scimcheck replay --okta-mapping`: what Okta sends for each user with this profile mapping.",
        "spec": ["Okta SCIM 2.0"],
        "tags": ["okta", "replay"],
        "scenarios": scenarios,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const MAPPING: &str = r#"{
        "id": "prm1k47ghydIQOTBW0g4",
        "source": {"name": "user", "type": "user"},
        "target": {"name": "zscalertwo", "type": "appuser"},
        "properties": {
            "userName": {"expression": "appuser.userName", "pushStatus": "PUSH"},
            "givenName": {"expression": "user.firstName", "pushStatus": "PUSH"},
            "familyName": {"expression": "user.lastName", "pushStatus": "PUSH"},
            "email": {"expression": "String.toLowerCase(user.email)", "pushStatus": "PUSH"},
            "displayName": {"expression": "user.firstName + \" \" + user.lastName", "pushStatus": "DONT_PUSH"},
            "favouriteColour": {"expression": "user.colour", "pushStatus": "PUSH"}
        }
    }"#;

    #[test]
    fn a_mapping_becomes_oktas_traffic() {
        let (properties, notes) = read(MAPPING, UsernameFormat::OktaUsername).unwrap();
        assert_eq!(
            notes,
            [
                "properties.favouriteColour: no SCIM attribute of Okta's SCIM 2.0 template: not replayed"
            ]
        );
        let users = crate::generate::entra::users::builtin_users();
        let suite = suite(&properties, &users, "zscalertwo");
        let zoe = &suite["scenarios"][0]["steps"];
        let create = &zoe[1]["request"]["json"];
        assert_eq!(
            create["name"],
            json!({"givenName": "Zoë", "familyName": "Åberg"})
        );
        assert_eq!(create["displayName"], "Zoë Åberg");
        assert_eq!(create["emails"][0]["primary"], true);
        let put = &zoe[3]["request"]["json"];
        // DONT_PUSH: on create only; the PUT keeps the created value.
        assert_eq!(put["displayName"], "Zoë Åberg");
        assert_eq!(put["name"]["givenName"], "Zoë 2");
        assert_eq!(
            zoe[5]["request"]["json"]["Operations"][0],
            json!({"op": "replace", "value": {"active": false}})
        );
        assert_eq!(
            suite["scenarios"].as_array().unwrap().len(),
            3,
            "the disabled user is not assigned"
        );
    }

    #[test]
    fn without_a_user_name_property_the_app_s_username_format_gives_it() {
        let mapping: Json = serde_json::from_str(MAPPING).unwrap();
        let mut without = mapping.clone();
        without["properties"]
            .as_object_mut()
            .unwrap()
            .remove("userName");
        let zoe = profile(&crate::generate::entra::users::builtin_users()[0]);
        let login = zoe["login"].clone();
        assert_eq!(login, "zoe.aberg@contoso.example");
        // Evaluated on Zoë's own values, as Okta does, then made run-unique.
        for (format, expected) in [
            (UsernameFormat::OktaUsername, login.as_str()),
            (UsernameFormat::EmailPrefix, "zoe.aberg"),
        ] {
            let expected = run_unique::unique(expected);
            let (properties, notes) = read(&without.to_string(), format).unwrap();
            assert!(
                notes
                    .iter()
                    .any(|n| n.contains("no userName mapping: the app's username format gives it")),
                "{notes:?}"
            );
            let (body, _) = body(&properties, &zoe, false);
            assert_eq!(body["userName"], expected, "{format:?}");
        }
    }

    #[test]
    fn expressions_see_the_users_own_values_and_their_results_are_made_run_unique() {
        let mapping = r#"{"properties": {
            "userName": {"expression": "String.substring(user.login, 0, 3)"},
            "title": {"expression": "String.substringBefore(user.email, \"@\")"}
        }}"#;
        let (properties, _) = read(mapping, UsernameFormat::OktaUsername).unwrap();
        let zoe = profile(&crate::generate::entra::users::builtin_users()[0]);
        let (body, _) = body(&properties, &zoe, false);
        assert_eq!(body["userName"], run_unique::unique("zoe"));
        // Not an identifier: exactly what Okta sends.
        assert_eq!(body["title"], "zoe.aberg");
    }

    #[test]
    fn a_mapping_that_sends_no_scim_is_told_for_what_it_is() {
        let with = |source: Json, target: Json| {
            let mut mapping: Json = serde_json::from_str(MAPPING).unwrap();
            mapping["source"] = source;
            mapping["target"] = target;
            read(&mapping.to_string(), UsernameFormat::OktaUsername).unwrap_err()
        };
        let import = with(
            json!({"id": "0oa1", "name": "zscalertwo", "type": "appuser"}),
            json!({"id": "oty1", "name": "user", "type": "user"}),
        );
        assert!(
            import.contains("(an import): Okta sends the app no request"),
            "{import}"
        );
        let oidc = with(
            json!({"id": "oty1", "name": "user", "type": "user"}),
            json!({"id": "0oa2", "name": "oidc_client", "type": "appuser"}),
        );
        assert!(oidc.contains("OpenID Connect app"), "{oidc}");
        let org2org = with(
            json!({"id": "oty1", "name": "user", "type": "user"}),
            json!({"id": "0oa3", "name": "okta_org2org", "type": "appuser"}),
        );
        assert!(
            org2org.contains("connector of its own API, not SCIM"),
            "{org2org}"
        );
    }

    #[test]
    fn bad_mappings_say_where() {
        let e = read(
            &MAPPING.replace("String.toLowerCase(user.email)", "user.email ? 1 : 2"),
            UsernameFormat::OktaUsername,
        )
        .unwrap_err();
        assert!(e.starts_with("properties.email.expression: `user.email ? 1 : 2` at column 12: unsupported expression"), "{e}");
        assert!(
            read(
                "{\"synchronizationRules\": []}",
                UsernameFormat::OktaUsername
            )
            .unwrap_err()
            .contains("--entra-schema")
        );
    }
}
