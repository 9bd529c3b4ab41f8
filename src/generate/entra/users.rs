//! The objects a replay provisions: a built-in set of users (non-ASCII
//! names, one with little more than a name, a manager, several phones, one
//! disabled) or the customer's own, as Graph returns them (`--users FILE`),
//! read through Entra's attribute names (`telephoneNumber` is Graph's first
//! `businessPhones`, `IsSoftDeleted` follows `accountEnabled`).
//!
//! The values are the customer's own, exactly as Entra evaluates its
//! expressions on them; the values Entra derives that name the object to
//! the app are made unique to the run afterwards ([`crate::generate::run_unique`]).

use serde_json::{Map, Value as Json};

use super::expr::Value;

pub use crate::generate::run_unique::RUN_TOKEN;

const BUILTIN: &str = include_str!("sample_users.json");

/// One user or group as Entra sees it.
#[derive(Debug, Clone)]
pub struct SourceObject {
    /// A short name for step ids (`zoe_aberg`).
    pub slug: String,
    pub graph: Map<String, Json>,
}

/// The built-in users.
pub fn builtin_users() -> Vec<SourceObject> {
    let list: Vec<Json> = serde_json::from_str(BUILTIN).expect("the built-in users are valid JSON");
    objects(list).expect("the built-in users are objects")
}

pub fn builtin_groups() -> Vec<SourceObject> {
    let list = vec![serde_json::json!({
        "id": "2b4d6f8a-0c1e-4a3c-9e5f-7a9c1e3a5c7e",
        "displayName": "Finance team",
        "mailNickname": "finance-team",
        "description": "Everyone in Finance",
    })];
    objects(list).expect("the built-in groups are objects")
}

/// The customer's users: a JSON list of Graph user objects (or Graph's
/// `{"value": [...]}` page).
pub fn read_users(text: &str) -> Result<Vec<SourceObject>, String> {
    let json: Json = serde_json::from_str(text).map_err(|e| crate::generate::json_error(&e))?;
    let list = match json {
        Json::Array(list) => list,
        Json::Object(mut o) if o.get("value").is_some_and(Json::is_array) => {
            match o.remove("value") {
                Some(Json::Array(list)) => list,
                _ => unreachable!("checked to be an array"),
            }
        }
        _ => return Err(
            "expected a JSON list of users as Graph returns them (or Graph's {\"value\": [...]})"
                .into(),
        ),
    };
    if list.is_empty() {
        return Err("the list of users is empty".into());
    }
    objects(list)
}

fn objects(list: Vec<Json>) -> Result<Vec<SourceObject>, String> {
    let mut out: Vec<SourceObject> = Vec::new();
    for (i, item) in list.into_iter().enumerate() {
        let Json::Object(graph) = item else {
            return Err(format!("[{i}]: a user is a JSON object"));
        };
        let base = ["userPrincipalName", "displayName", "mailNickname", "id"]
            .iter()
            .find_map(|k| graph.get(*k).and_then(Json::as_str))
            .map(slug_of)
            .unwrap_or_else(|| format!("object_{i}"));
        let mut slug = base.clone();
        let mut n = 2;
        while out.iter().any(|o| o.slug == slug) {
            slug = format!("{base}_{n}");
            n += 1;
        }
        out.push(SourceObject { slug, graph });
    }
    Ok(out)
}

/// `zoe.aberg@contoso.example` → `zoe_aberg`.
fn slug_of(name: &str) -> String {
    let local = name.split('@').next().unwrap_or(name);
    let mut slug = crate::generate::identifier(local);
    slug.truncate(40);
    let slug = slug.trim_matches('_').to_string();
    if slug.is_empty() {
        "object".into()
    } else {
        slug
    }
}

/// Entra's name of a user attribute → where Graph keeps it.
fn graph_name(entra: &str) -> &str {
    match entra {
        "objectId" => "id",
        "mobile" => "mobilePhone",
        "facsimileTelephoneNumber" => "faxNumber",
        "physicalDeliveryOfficeName" => "officeLocation",
        other => other,
    }
}

/// The Entra user attributes scimcheck knows, besides Graph's own names.
pub const KNOWN: [&str; 34] = [
    "objectId",
    "userPrincipalName",
    "displayName",
    "givenName",
    "surname",
    "mail",
    "mailNickname",
    "otherMails",
    "proxyAddresses",
    "department",
    "jobTitle",
    "employeeId",
    "employeeType",
    "mobile",
    "telephoneNumber",
    "facsimileTelephoneNumber",
    "physicalDeliveryOfficeName",
    "preferredLanguage",
    "city",
    "country",
    "state",
    "postalCode",
    "streetAddress",
    "companyName",
    "usageLocation",
    "accountEnabled",
    "IsSoftDeleted",
    "manager",
    "appRoleAssignments",
    "members",
    "description",
    "objectGUID",
    "employeeHireDate",
    "userType",
];

impl SourceObject {
    /// The value of Entra attribute `name` (case-insensitively).
    pub fn attribute(&self, name: &str) -> Option<Value> {
        let lower = name.to_ascii_lowercase();
        if lower == "issoftdeleted" {
            let explicit = self.get("IsSoftDeleted").and_then(Json::as_bool);
            let enabled = self.get("accountEnabled").and_then(Json::as_bool);
            return Some(Value::Bool(explicit.unwrap_or(enabled == Some(false))));
        }
        if lower == "telephonenumber" {
            return self
                .get("telephoneNumber")
                .or_else(|| self.get("businessPhones").and_then(|p| p.get(0)))
                .cloned()
                .map(Value::from_json);
        }
        if let Some(n) = lower.strip_prefix("extensionattribute")
            && let Some(v) = self
                .graph
                .get("onPremisesExtensionAttributes")
                .and_then(|e| e.get(format!("extensionAttribute{n}")))
        {
            return Some(Value::from_json(v.clone()));
        }
        self.get(graph_name(name))
            .cloned()
            .map(Value::from_json)
            .filter(|v| !v.is_null())
    }

    fn get(&self, key: &str) -> Option<&Json> {
        self.graph.get(key).or_else(|| {
            self.graph
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(key))
                .map(|(_, v)| v)
        })
    }

    /// Whether any of the objects has the attribute at all.
    pub fn has(&self, name: &str) -> bool {
        self.attribute(name).is_some()
    }

    /// The same object with a source attribute changed, for update steps:
    /// text gets `.2` before an `@` or ` 2` at its end, a boolean flips, a
    /// missing value appears.
    pub fn changed(&self, name: &str) -> SourceObject {
        let mut copy = self.clone();
        copy.change(name);
        copy
    }

    /// [`SourceObject::changed`], in place.
    pub fn change(&mut self, name: &str) {
        let key = if name.eq_ignore_ascii_case("telephoneNumber")
            && !self.graph.contains_key("telephoneNumber")
        {
            "businessPhones".to_string()
        } else {
            graph_name(name).to_string()
        };
        let change = |s: &str| match s.rsplit_once('@') {
            Some((local, domain)) => format!("{local}.2@{domain}"),
            None => format!("{s} 2"),
        };
        let new = match self.graph.get(&key) {
            Some(Json::String(s)) => Json::String(change(s)),
            Some(Json::Bool(b)) => Json::Bool(!b),
            Some(Json::Number(n)) => Json::from(n.as_i64().unwrap_or(0) + 1),
            Some(Json::Array(items)) => {
                let mut items = items.clone();
                match items.first_mut() {
                    Some(Json::String(s)) => *s = change(s),
                    _ => items.push(Json::String("Changed".into())),
                }
                Json::Array(items)
            }
            _ => Json::String(format!("Changed {name}")),
        };
        self.graph.insert(key, new);
    }
}

/// The placeholders the generators themselves write: the ids the suites
/// capture. Any other `{{` in a generated suite came from a customer's file.
const OWN_PLACEHOLDER: &str = r"\{\{ [a-z][a-z0-9_]*_id \}\}";

/// Every run token in the suite's strings becomes `{{ run_id }}`, and every
/// other `{{` that is not one of the generators' own placeholders is made
/// literal: a customer's value such as `{{ env.HOME }}` is sent as written,
/// never rendered (it would send the engineer's environment to the target).
pub fn with_run_id(mut value: Json) -> Json {
    let token = regex::Regex::new(&format!("(?i){RUN_TOKEN}")).expect("a fixed pattern");
    let own = regex::Regex::new(&format!("^{OWN_PLACEHOLDER}")).expect("a fixed pattern");
    let fix = |s: &str| -> Option<String> {
        if !s.contains("{{") && !token.is_match(s) {
            return None;
        }
        // Literal first, outside the generators' own placeholders, then the
        // run token (which yields a placeholder of its own).
        let mut out = String::with_capacity(s.len());
        let mut rest = s;
        while let Some(at) = rest.find("{{") {
            out.push_str(&rest[..at]);
            let tail = &rest[at..];
            match own.find(tail) {
                Some(m) => {
                    out.push_str(m.as_str());
                    rest = &tail[m.end()..];
                }
                None => {
                    out.push_str(&crate::template::literal("{{"));
                    rest = &tail[2..];
                }
            }
        }
        out.push_str(rest);
        Some(token.replace_all(&out, "{{ run_id }}").into_owned())
    };
    fn walk(v: &mut Json, fix: &dyn Fn(&str) -> Option<String>) {
        match v {
            Json::String(s) => {
                if let Some(fixed) = fix(s) {
                    *s = fixed;
                }
            }
            Json::Array(items) => items.iter_mut().for_each(|i| walk(i, fix)),
            Json::Object(o) => {
                o.values_mut().for_each(|i| walk(i, fix));
                if o.keys().any(|k| fix(k).is_some()) {
                    let fixed = std::mem::take(o)
                        .into_iter()
                        .map(|(k, v)| (fix(&k).unwrap_or(k), v))
                        .collect();
                    *o = fixed;
                }
            }
            _ => {}
        }
    }
    walk(&mut value, &fix);
    value
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_customers_placeholder_is_sent_as_written_never_rendered() {
        let suite = serde_json::json!({
            "displayName": "{{ env.HOME }} of scimcheck-RUNTOKEN",
            "{{ env.USER }}": ["/Users/{{ user_id }}", "{{ member_one_id }}{{x}}"]
        });
        let suite = serde_json::to_string(&suite)
            .unwrap()
            .replace("RUNTOKEN", RUN_TOKEN);
        let fixed = with_run_id(serde_json::from_str(&suite).unwrap());
        let scope = crate::template::Scope {
            run_id: "r1".into(),
            base_path: String::new(),
            env: [("HOME".to_string(), "/home/engineer".to_string())].into(),
            vars: [
                ("user_id".to_string(), serde_json::json!("7")),
                ("member_one_id".to_string(), serde_json::json!("8")),
            ]
            .into(),
        };
        let rendered = crate::template::ValueTemplate::parse(&fixed)
            .unwrap()
            .render(&scope)
            .unwrap();
        assert_eq!(
            rendered,
            serde_json::json!({
                "displayName": "{{ env.HOME }} of scimcheck-r1",
                "{{ env.USER }}": ["/Users/7", "8{{x}}"]
            })
        );
    }

    #[test]
    fn the_built_in_users_are_read_through_entras_names_with_their_own_values() {
        let users = builtin_users();
        assert_eq!(users.len(), 4);
        let zoe = &users[0];
        assert_eq!(zoe.slug, "zoe_aberg");
        assert_eq!(
            zoe.attribute("userPrincipalName"),
            Some(Value::Str("zoe.aberg@contoso.example".into()))
        );
        assert_eq!(
            zoe.attribute("telephoneNumber"),
            Some(Value::Str("+46 8 123 456".into()))
        );
        assert_eq!(
            zoe.attribute("mobile"),
            Some(Value::Str("+46 70 123 45 67".into()))
        );
        assert_eq!(zoe.attribute("IsSoftDeleted"), Some(Value::Bool(false)));
        assert_eq!(users[3].attribute("IsSoftDeleted"), Some(Value::Bool(true)));
        assert_eq!(users[2].attribute("department"), None);
        assert_eq!(
            zoe.attribute("Department"),
            Some(Value::Str("Finance".into()))
        );
    }

    #[test]
    fn a_change_is_visible() {
        let zoe = &builtin_users()[0];
        let changed = zoe.changed("userPrincipalName");
        assert_eq!(
            changed.attribute("userPrincipalName"),
            Some(Value::Str("zoe.aberg.2@contoso.example".into()))
        );
        assert_eq!(
            zoe.changed("department").attribute("department"),
            Some(Value::Str("Finance 2".into()))
        );
        assert_eq!(
            builtin_users()[2]
                .changed("department")
                .attribute("department"),
            Some(Value::Str("Changed department".into()))
        );
    }

    #[test]
    fn customer_users_are_read_from_graph_pages_as_they_are() {
        let users =
            read_users(r#"{"value": [{"userPrincipalName": "a@x", "employeeId": "42"}]}"#).unwrap();
        assert_eq!(
            users[0].attribute("employeeId"),
            Some(Value::Str("42".into()))
        );
        assert!(read_users("[]").unwrap_err().contains("empty"));
        assert!(read_users("{").unwrap_err().starts_with("not JSON"));
    }
}
