//! Entra's provisioning logs (the portal's JSON download, or Graph's
//! `provisioningObjectSummary` list): the changes Entra made for one user,
//! rebuilt as requests. No log carries the SCIM request itself, so the
//! request is derived from what it does carry: the action, the identity,
//! and the modified properties with their new values, written at their
//! target paths (the export's mappings say which is the matching one).
//!
//! What the app answered then (the error code, and the body after
//! "Web Response:") goes with each replayed step, to be read beside what
//! the app answers now.

use serde_json::{Map, Value as Json, json};

use super::export::{Export, ObjectKind};
use super::target::{CORE_USER, TargetPath};
use crate::generate::run_unique;

/// A modified property: `(target attribute, old value, new value)`.
pub type Modified = (String, Option<String>, Option<String>);

/// One logged change.
#[derive(Debug, Clone, PartialEq)]
pub struct Change {
    /// Its JSON path in the log (`[3]`), for messages.
    pub path: String,
    pub change_id: String,
    pub cycle_id: String,
    pub when: String,
    pub action: Action,
    pub user_principal_name: Option<String>,
    pub display_name: String,
    /// Whether the user is a group.
    pub group: bool,
    pub modified: Vec<Modified>,
    pub status: String,
    pub error_code: Option<String>,
    /// What the app answered, as the log quotes it after "Web Response:".
    pub web_response: Option<String>,
    /// Why Entra skipped it (status `skipped`): it sent the app nothing.
    pub skipped: Option<String>,
    /// The app whose job made it (`servicePrincipal`): a tenant's log
    /// export holds every app's changes.
    pub app: Option<String>,
    /// Where the change went (`targetSystem`): the app, or for inbound
    /// provisioning Entra ID or Active Directory.
    pub target_system: Option<String>,
}

impl Change {
    /// A change that went to Entra ID or Active Directory (inbound
    /// provisioning, cloud sync): no request reached an app.
    pub fn inbound(&self) -> Option<&str> {
        const DIRECTORIES: [&str; 4] = [
            "Azure Active Directory",
            "Microsoft Entra ID",
            "Entra ID",
            "Active Directory",
        ];
        self.target_system
            .as_deref()
            .filter(|t| DIRECTORIES.iter().any(|d| d.eq_ignore_ascii_case(t.trim())))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Create,
    Update,
    Disable,
    Delete,
    Other,
}

impl Action {
    pub fn parse(text: &str) -> Action {
        match text.to_ascii_lowercase().as_str() {
            "create" => Action::Create,
            "update" => Action::Update,
            "disable" => Action::Disable,
            "delete" | "stageddelete" => Action::Delete,
            _ => Action::Other,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Action::Create => "create",
            Action::Update => "update",
            Action::Disable => "disable",
            Action::Delete => "delete",
            Action::Other => "other",
        }
    }
}

/// Reads the log in any of the shapes [`super::log_shapes`] knows.
pub fn read(text: &str) -> Result<Vec<Change>, String> {
    let entries = super::log_shapes::entries(text)?;
    let mut changes = Vec::new();
    for (i, entry) in entries.iter().enumerate() {
        let path = format!("[{i}]");
        let text = |pointer: &str| {
            entry
                .pointer(pointer)
                .and_then(Json::as_str)
                .map(str::to_string)
        };
        let Some(action) = text("/provisioningAction") else {
            return Err(format!(
                "{path}: no provisioningAction: is this a provisioning log?"
            ));
        };
        let modified = entry
            .get("modifiedProperties")
            .and_then(Json::as_array)
            .into_iter()
            .flatten()
            .filter_map(|p| {
                let name = p.get("displayName")?.as_str()?.to_string();
                let value = |k: &str| {
                    p.get(k).and_then(|v| {
                        v.as_str()
                            .map(str::to_string)
                            .or_else(|| (!v.is_null()).then(|| v.to_string()))
                    })
                };
                Some((
                    name,
                    value("oldValue").filter(|v| !v.is_empty()),
                    value("newValue").filter(|v| !v.is_empty()),
                ))
            })
            .collect();
        let reason = text("/provisioningStatusInfo/errorInformation/reason");
        let details = entry.pointer("/sourceIdentity/details");
        let upn = details.and_then(|d| {
            d.as_object()?
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case("UserPrincipalName"))
                .and_then(|(_, v)| v.as_str())
                .map(str::to_string)
        });
        changes.push(Change {
            path,
            change_id: text("/changeId").unwrap_or_default(),
            cycle_id: text("/cycleId").unwrap_or_default(),
            when: text("/activityDateTime").unwrap_or_default(),
            action: Action::parse(&action),
            user_principal_name: upn,
            display_name: text("/sourceIdentity/displayName").unwrap_or_default(),
            group: text("/sourceIdentity/identityType")
                .is_some_and(|t| t.eq_ignore_ascii_case("Group")),
            modified,
            status: text("/provisioningStatusInfo/status").unwrap_or_else(|| "unknown".into()),
            error_code: text("/provisioningStatusInfo/errorInformation/errorCode"),
            web_response: reason.as_deref().and_then(web_response),
            skipped: skipped(entry, reason.as_deref()),
            app: text("/servicePrincipal/displayName").or_else(|| text("/servicePrincipal/id")),
            target_system: text("/targetSystem/displayName"),
        });
    }
    Ok(changes)
}

/// Why Entra skipped a change, when its status says it did: the reason it
/// logged, else its skipped provisioning step (EntrySynchronizationSkip,
/// with AttributeValidationFailed, a scoping miss, an escrow...).
fn skipped(entry: &Json, reason: Option<&str>) -> Option<String> {
    let status = entry.pointer("/provisioningStatusInfo/status")?.as_str()?;
    if !status.eq_ignore_ascii_case("skipped") {
        return None;
    }
    let step = entry
        .get("provisioningSteps")
        .and_then(Json::as_array)
        .into_iter()
        .flatten()
        .find(|s| {
            s.get("status")
                .and_then(Json::as_str)
                .is_some_and(|st| st.eq_ignore_ascii_case("skipped"))
        })
        .map(|s| {
            let text = |k: &str| s.get(k).and_then(Json::as_str).unwrap_or_default();
            match (text("name"), text("description")) {
                (name, "") => name.to_string(),
                ("", description) => description.to_string(),
                (name, description) => format!("{name}: {description}"),
            }
        });
    let code = entry
        .pointer("/provisioningStatusInfo/errorInformation/errorCode")
        .and_then(Json::as_str);
    Some(
        reason
            .map(str::to_string)
            .or(step)
            .or(code.map(str::to_string))
            .unwrap_or_else(|| "no reason logged".into()),
    )
}

/// The chosen changes of one app: `app` names it (display name or id, in
/// any letter case); without it the changes must all be of one app, since
/// replaying another app's changes against this target tests nothing.
pub fn of_app<'a>(chosen: Vec<&'a Change>, app: Option<&str>) -> Result<Vec<&'a Change>, String> {
    let apps: std::collections::BTreeSet<&str> =
        chosen.iter().filter_map(|c| c.app.as_deref()).collect();
    match app {
        Some(name) => {
            let kept: Vec<&Change> = chosen
                .into_iter()
                .filter(|c| {
                    c.app
                        .as_deref()
                        .is_some_and(|a| a.eq_ignore_ascii_case(name))
                })
                .collect();
            if kept.is_empty() {
                return Err(format!(
                    "no chosen change is of the app `{name}`; the log names {}",
                    if apps.is_empty() {
                        "no app".to_string()
                    } else {
                        format!("{apps:?}")
                    }
                ));
            }
            Ok(kept)
        }
        None if apps.len() > 1 => Err(format!(
            "the log holds the changes of {} apps ({apps:?}): --app NAME picks the one whose endpoint this is; nothing was sent",
            apps.len()
        )),
        None => Ok(chosen),
    }
}

/// The app's answer a log quotes after "Web Response:".
pub fn web_response(reason: &str) -> Option<String> {
    reason
        .split_once("Web Response:")
        .map(|(_, body)| body.trim().to_string())
}

/// The changes chosen: by change id, or every change of a user (by user
/// principal name or display name, in any letter case).
pub fn select<'a>(
    changes: &'a [Change],
    change_id: Option<&str>,
    user: Option<&str>,
) -> Result<Vec<&'a Change>, String> {
    let chosen: Vec<&Change> = changes
        .iter()
        .filter(|c| change_id.is_none_or(|id| c.change_id == id))
        .filter(|c| {
            user.is_none_or(|u| {
                c.user_principal_name
                    .as_deref()
                    .is_some_and(|n| n.eq_ignore_ascii_case(u))
                    || c.display_name.eq_ignore_ascii_case(u)
            })
        })
        .collect();
    if chosen.is_empty() {
        let known: Vec<String> = changes
            .iter()
            .take(5)
            .map(|c| {
                format!(
                    "{} ({} {})",
                    c.change_id,
                    c.action.name(),
                    c.user_principal_name.as_deref().unwrap_or(&c.display_name)
                )
            })
            .collect();
        return Err(format!(
            "no logged change matches; the log holds {} changes, such as: {}",
            changes.len(),
            known.join(", ")
        ));
    }
    Ok(chosen)
}

/// What the log says the app answered, in one line.
pub fn logged_answer(change: &Change) -> String {
    let mut out = format!("Entra logged {}", change.status);
    if let Some(code) = &change.error_code {
        out.push_str(&format!(": {code}"));
    }
    if let Some(body) = &change.web_response {
        out.push_str(&format!(
            "; the app answered: {}",
            crate::check::shorten(body, 300)
        ));
    }
    out
}

/// The matching attribute's target.
pub struct Matching {
    pub target: String,
}

impl Matching {
    /// The export's first matching attribute of users, or Entra's default
    /// (userName, from userPrincipalName).
    pub fn of(export: Option<&Export>) -> Matching {
        let target = export
            .and_then(|e| {
                e.object_mappings
                    .iter()
                    .find(|m| m.kind == ObjectKind::User && m.enabled)
            })
            .and_then(|m| {
                m.attributes
                    .iter()
                    .filter(|a| a.matching_priority > 0)
                    .min_by_key(|a| a.matching_priority)
            })
            .map_or_else(|| "userName".to_string(), |a| a.target.clone());
        Matching { target }
    }
}

/// SCIM attributes a modified property may name as it is.
const SCIM_NAMES: [&str; 12] = [
    "username",
    "displayname",
    "active",
    "externalid",
    "title",
    "preferredlanguage",
    "nickname",
    "locale",
    "timezone",
    "usertype",
    "profileurl",
    "members",
];

/// Entra's default SCIM mapping (source attribute → target), for a log
/// read without the export.
const DEFAULT_MAPPING: [(&str, &str); 13] = [
    ("userPrincipalName", "userName"),
    ("mail", "emails[type eq \"work\"].value"),
    ("givenName", "name.givenName"),
    ("surname", "name.familyName"),
    ("jobTitle", "title"),
    ("mailNickname", "externalId"),
    ("accountEnabled", "active"),
    (
        "department",
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department",
    ),
    (
        "employeeId",
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber",
    ),
    (
        "manager",
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager",
    ),
    ("telephoneNumber", "phoneNumbers[type eq \"work\"].value"),
    ("mobile", "phoneNumbers[type eq \"mobile\"].value"),
    (
        "physicalDeliveryOfficeName",
        "addresses[type eq \"work\"].formatted",
    ),
];

/// The SCIM path of a modified property: as it is when it is one, else
/// through the export's direct mappings (`[department]` → its target), else
/// through Entra's default mapping; None when nothing maps it.
pub fn target_of(name: &str, export: Option<&Export>) -> Option<String> {
    let is_path = name.contains('[')
        || name.contains(':')
        || name.contains('.')
        || SCIM_NAMES.contains(&name.to_lowercase().as_str());
    if is_path {
        return Some(name.to_string());
    }
    let direct = export.and_then(|e| {
        e.object_mappings
            .iter()
            .filter(|m| m.kind == ObjectKind::User)
            .flat_map(|m| &m.attributes)
            .find(|a| matches!(&a.tree.kind, super::expr::ExprKind::Attribute(n) if n.eq_ignore_ascii_case(name)))
            .map(|a| a.target.clone())
    });
    direct.or_else(|| {
        DEFAULT_MAPPING
            .iter()
            .find(|(source, _)| source.eq_ignore_ascii_case(name))
            .map(|(_, target)| target.to_string())
    })
}

/// Every modified property named by its SCIM path; the ones nothing maps
/// are dropped, and told.
pub fn map_targets(changes: &mut [Change], export: Option<&Export>) -> Vec<String> {
    let mut unmapped = Vec::new();
    for change in changes.iter_mut() {
        change
            .modified
            .retain_mut(|(name, _, _)| match target_of(name, export) {
                Some(target) => {
                    *name = target;
                    true
                }
                None => {
                    unmapped.push(format!(
                        "{} {}: `{name}` maps to no SCIM attribute: left out",
                        change.path, change.change_id
                    ));
                    false
                }
            });
    }
    unmapped
}

/// A suite of the chosen changes: per change a scenario that sets up what
/// the change needs (the user, from the old values), then sends what Entra
/// sent, then reads it back.
pub fn suite(changes: &[&Change], matching: &Matching, log_name: &str) -> Json {
    let mut scenarios = Vec::new();
    for change in changes {
        // A skipped change sent nothing.
        if change.skipped.is_some() {
            continue;
        }
        scenarios.push(if change.group {
            super::logs_groups::scenario(change, scenario_id(change))
        } else {
            scenario(change, matching)
        });
    }
    json!({
        "name": format!("Entra log replay: {log_name}"),
        "description": format!("Derived by `scimcheck replay --entra-log {log_name}`: the logged changes, as requests, beside what the app answered then."),
        "spec": ["Entra provisioning logs"],
        "tags": ["entra", "replay", "log"],
        "scenarios": scenarios,
    })
}

/// A logged value made unique to the run when it names the user.
fn unique(target: &str, value: &str) -> String {
    if run_unique::is_identifying(target) {
        run_unique::unique(value)
    } else {
        value.to_string()
    }
}

fn typed(target: &str, value: &str) -> Json {
    if target.eq_ignore_ascii_case("active") {
        return Json::Bool(value.eq_ignore_ascii_case("true"));
    }
    Json::String(value.to_string())
}

fn body(values: &[(String, String)]) -> Map<String, Json> {
    let mut body = Map::new();
    body.insert("schemas".into(), json!([CORE_USER]));
    for (target, value) in values {
        if let Some(path) = TargetPath::parse(target) {
            path.insert(&mut body, typed(target, &unique(target, value)));
        }
    }
    body
}

fn scenario(change: &Change, matching: &Matching) -> Json {
    let headers = json!({ "content-type": "application/scim+json; charset=utf-8" });
    let logged = logged_answer(change);
    let who = change
        .user_principal_name
        .clone()
        .unwrap_or_else(|| change.display_name.clone());
    let news: Vec<(String, String)> = change
        .modified
        .iter()
        .filter_map(|(t, _, n)| Some((t.clone(), n.clone()?)))
        .collect();
    let olds: Vec<(String, String)> = change
        .modified
        .iter()
        .filter_map(|(t, o, _)| Some((t.clone(), o.clone()?)))
        .collect();
    // The user's matching value: from the change, else its principal name.
    let matched = news
        .iter()
        .chain(&olds)
        .find(|(t, _)| t.eq_ignore_ascii_case(&matching.target))
        .map(|(_, v)| v.clone())
        .or_else(|| change.user_principal_name.clone())
        .unwrap_or_else(|| change.display_name.clone());
    let matched_value = unique(&matching.target, &matched);
    let mut steps = Vec::new();
    let description = format!(
        "Logged {} of {who} at {} (change {}, cycle {}): {logged}.",
        change.action.name(),
        change.when,
        change.change_id,
        change.cycle_id
    );
    if change.action != Action::Create {
        // The user as the app had it before the change.
        let mut before = olds.clone();
        if !before
            .iter()
            .any(|(t, _)| t.eq_ignore_ascii_case(&matching.target))
        {
            before.push((matching.target.clone(), matched.clone()));
        }
        steps.push(json!({
            "id": "exists_before",
            "setup": true,
            "description": "The user as the app had it before the logged change (its old values).",
            "request": { "method": "POST", "path": "/Users", "headers": headers, "json": body(&before) },
            "expect": { "status": 201 },
            "capture": { "user_id": "/id" },
            "cleanup": { "method": "DELETE", "path": "/Users/{{ user_id }}" },
        }));
    }
    match change.action {
        Action::Create | Action::Other => {
            steps.push(json!({
                "id": "match",
                "needs": [],
                "description": format!("Entra looks the user up by {} first.", matching.target),
                "request": { "method": "GET", "path": "/Users", "query": { "filter": format!("{} eq \"{}\"", matching.target, matched_value.replace('"', "\\\"")) } },
                "expect": { "status": 200, "json": { "/totalResults": 0 } },
                "impact": "Entra cannot tell whether the user exists.",
                "fix": format!("Support `filter={} eq \"...\"`.", matching.target),
            }));
            let mut values = news.clone();
            if !values
                .iter()
                .any(|(t, _)| t.eq_ignore_ascii_case(&matching.target))
            {
                values.push((matching.target.clone(), matched.clone()));
            }
            steps.push(json!({
                "id": "create",
                "needs": [],
                "description": description,
                "request": { "method": "POST", "path": "/Users", "headers": headers, "json": body(&values) },
                "expect": { "status": 201 },
                "capture": { "user_id": "/id" },
                "cleanup": { "method": "DELETE", "path": "/Users/{{ user_id }}" },
                "impact": format!("The create Entra logged fails again: {logged}."),
                "fix": "Accept the create with these values and answer 201.",
            }));
        }
        Action::Update | Action::Disable => {
            let ops: Vec<Json> = news
                .iter()
                .map(|(t, v)| {
                    let op = if olds.iter().any(|(o, _)| o == t) {
                        "Replace"
                    } else {
                        "Add"
                    };
                    json!({ "op": op, "path": t, "value": unique(t, v) })
                })
                .collect();
            let ops = if ops.is_empty() && change.action == Action::Disable {
                vec![json!({ "op": "Replace", "path": "active", "value": "False" })]
            } else {
                ops
            };
            steps.push(json!({
                "id": change.action.name(),
                "needs": ["exists_before"],
                "description": description,
                "request": { "method": "PATCH", "path": "/Users/{{ user_id }}", "headers": headers, "json": { "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": ops } },
                "expect": { "status": [200, 204] },
                "impact": format!("The {} Entra logged fails again: {logged}.", change.action.name()),
                "fix": "Accept Entra's PATCH with these operations.",
            }));
        }
        Action::Delete => {
            steps.push(json!({
                "id": "delete",
                "needs": ["exists_before"],
                "description": description,
                "request": { "method": "DELETE", "path": "/Users/{{ user_id }}" },
                "expect": { "status": 204 },
                "impact": format!("The delete Entra logged fails again: {logged}."),
                "fix": "Answer DELETE with 204.",
            }));
        }
    }
    if change.action != Action::Delete && !news.is_empty() {
        let mut checks = Map::new();
        for (target, value) in &news {
            if let Some(path) = TargetPath::parse(target) {
                let (pointer, mut predicate) = path.check(&typed(target, &unique(target, value)));
                if let Some(p) = predicate.as_object_mut() {
                    p.insert(
                        "label".into(),
                        json!(format!("logged new value of {target}")),
                    );
                }
                checks.entry(pointer).or_insert(predicate);
            }
        }
        let after = match change.action {
            Action::Create | Action::Other => "create",
            other => other.name(),
        };
        steps.push(json!({
            "id": "kept",
            "needs": [after],
            "description": "The app returns the values the change sent.",
            "request": { "method": "GET", "path": "/Users/{{ user_id }}" },
            "expect": { "status": 200, "json": checks },
            "impact": "A value of the logged change does not come back as sent: Entra sends it again every cycle.",
            "fix": "Store each attribute as sent and return it.",
        }));
    }
    json!({
        "id": scenario_id(change),
        "description": description,
        "steps": steps,
    })
}

/// `create_5a4b3c2d1e0f`: the action and the change id's first characters
/// (a group's change says so: `group_update_…`).
fn scenario_id(change: &Change) -> String {
    let slug: String = change
        .change_id
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .take(12)
        .collect();
    let slug = if slug.is_empty() {
        change.path.trim_matches(['[', ']']).to_string()
    } else {
        slug.to_lowercase()
    };
    let kind = if change.group { "group_" } else { "" };
    format!("{kind}{}_{slug}", change.action.name())
}

#[cfg(test)]
mod tests {
    use super::*;

    const LOG: &str = r#"[{
        "changeId": "c1a2", "cycleId": "y1", "activityDateTime": "2026-11-30T10:00:00Z",
        "provisioningAction": "create",
        "sourceIdentity": {"displayName": "Zoë Åberg", "identityType": "User", "details": {"UserPrincipalName": "zoe@contoso.com"}},
        "modifiedProperties": [
            {"displayName": "userName", "oldValue": null, "newValue": "zoe@contoso.com"},
            {"displayName": "active", "oldValue": null, "newValue": "True"},
            {"displayName": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department", "oldValue": null, "newValue": "Finance"}
        ],
        "provisioningStatusInfo": {"status": "failure", "errorInformation": {
            "errorCode": "SystemForCrossDomainIdentityManagementBadRequest",
            "reason": "Failed to create User 'zoe@contoso.com' in Zscaler. StatusCode: BadRequest Web Response: {\"schemas\":[\"urn:ietf:params:scim:api:messages:2.0:Error\"],\"detail\":\"department is unknown\",\"status\":\"400\"}"
        }}
    }, {
        "changeId": "d3e4", "provisioningAction": "update",
        "sourceIdentity": {"displayName": "Zoë Åberg", "details": {"UserPrincipalName": "zoe@contoso.com"}},
        "modifiedProperties": [{"displayName": "displayName", "oldValue": "Zoe", "newValue": "Zoë Åberg"}],
        "provisioningStatusInfo": {"status": "success"}
    }]"#;

    #[test]
    fn a_skipped_change_is_told_and_not_replayed() {
        let log = r#"[{
            "changeId": "s5k1", "cycleId": "y2", "activityDateTime": "2026-12-01T08:00:00Z",
            "provisioningAction": "create",
            "sourceIdentity": {"displayName": "Kofi", "identityType": "User", "details": {"UserPrincipalName": "kofi@contoso.com"}},
            "modifiedProperties": [{"displayName": "userName", "oldValue": null, "newValue": "kofi@contoso.com"}],
            "provisioningStatusInfo": {"status": "skipped"},
            "provisioningSteps": [
                {"name": "EntryImport", "provisioningStepType": "import", "status": "success", "description": "Retrieved Kofi from Entra ID"},
                {"name": "EntrySynchronizationSkip", "provisioningStepType": "scoping", "status": "skipped", "description": "AttributeValidationFailed: mail is missing"}
            ]
        }, {
            "changeId": "d3e4", "provisioningAction": "update",
            "sourceIdentity": {"displayName": "Zoë Åberg", "details": {"UserPrincipalName": "zoe@contoso.com"}},
            "modifiedProperties": [{"displayName": "displayName", "oldValue": "Zoe", "newValue": "Zoë Åberg"}],
            "provisioningStatusInfo": {"status": "success"}
        }]"#;
        let changes = read(log).unwrap();
        assert_eq!(
            changes[0].skipped.as_deref(),
            Some("EntrySynchronizationSkip: AttributeValidationFailed: mail is missing")
        );
        assert_eq!(changes[1].skipped, None);
        let chosen: Vec<&Change> = changes.iter().collect();
        let suite = suite(&chosen, &Matching::of(None), "log.json");
        let ids: Vec<&str> = suite["scenarios"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["id"].as_str().unwrap())
            .collect();
        // Only the update: Entra sent the app nothing for the skipped create.
        assert_eq!(ids.len(), 1, "{ids:?}");
        assert!(ids[0].starts_with("update"), "{ids:?}");
    }

    #[test]
    fn a_download_is_read_with_the_apps_answer() {
        let changes = read(LOG).unwrap();
        assert_eq!(changes.len(), 2);
        assert_eq!(changes[0].action, Action::Create);
        assert_eq!(
            changes[0].web_response.as_deref(),
            Some(
                r#"{"schemas":["urn:ietf:params:scim:api:messages:2.0:Error"],"detail":"department is unknown","status":"400"}"#
            )
        );
        assert!(logged_answer(&changes[0]).starts_with("Entra logged failure: SystemForCrossDomainIdentityManagementBadRequest; the app answered: {"));
        assert_eq!(
            select(&changes, None, Some("ZOE@contoso.com"))
                .unwrap()
                .len(),
            2
        );
        assert_eq!(
            select(&changes, Some("d3e4"), None).unwrap()[0].action,
            Action::Update
        );
        assert!(
            select(&changes, Some("nope"), None)
                .unwrap_err()
                .contains("c1a2 (create zoe@contoso.com)")
        );
        assert!(
            read("{\"synchronizationRules\": []}")
                .unwrap_err()
                .contains("--entra-schema")
        );
    }

    #[test]
    fn modified_properties_are_named_by_their_scim_paths() {
        assert_eq!(target_of("userName", None).as_deref(), Some("userName"));
        assert_eq!(
            target_of("department", None).as_deref(),
            Some("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department")
        );
        assert_eq!(
            target_of("emails[type eq \"work\"].value", None).as_deref(),
            Some("emails[type eq \"work\"].value")
        );
        assert_eq!(target_of("favouriteColour", None), None);
        let mut changes = read(LOG).unwrap();
        changes[1]
            .modified
            .push(("favouriteColour".into(), None, Some("red".into())));
        let unmapped = map_targets(&mut changes, None);
        assert_eq!(
            unmapped,
            ["[1] d3e4: `favouriteColour` maps to no SCIM attribute: left out"]
        );
        assert_eq!(Matching::of(None).target, "userName");
    }

    #[test]
    fn a_logged_create_becomes_its_requests_with_run_unique_names() {
        let changes = read(LOG).unwrap();
        let suite = suite(
            &[&changes[0], &changes[1]],
            &Matching {
                target: "userName".into(),
            },
            "log.json",
        );
        let create = &suite["scenarios"][0]["steps"][1];
        assert_eq!(
            create["request"]["json"]["userName"],
            run_unique::unique("zoe@contoso.com")
        );
        assert_eq!(create["request"]["json"]["active"], true);
        assert_eq!(
            create["request"]["json"]["urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"]
                ["department"],
            "Finance"
        );
        let update = &suite["scenarios"][1]["steps"];
        assert_eq!(update[0]["id"], "exists_before");
        assert_eq!(update[0]["request"]["json"]["displayName"], "Zoe");
        assert_eq!(
            update[1]["request"]["json"]["Operations"][0],
            json!({"op": "Replace", "path": "displayName", "value": "Zoë Åberg"})
        );
    }
}
