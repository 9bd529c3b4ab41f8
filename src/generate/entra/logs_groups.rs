//! A logged change of a group, rebuilt as the requests Entra sends for it
//! (Microsoft's SCIM guide: "Create Group", "Update Group [Add Members]",
//! "Update Group [Remove Members]"). Entra finds the group by displayName
//! with `excludedAttributes=members`, creates it empty, then changes its
//! attributes and its members by PATCH, members as a value list of ids.
//!
//! A log names members by their Entra object ids, which the app has never
//! seen, so the replay creates run-unique users standing for them (at most
//! [`MAX_STAND_INS`]) and adds or removes those: the requests have the
//! logged shape and count, with ids the app knows.

use serde_json::{Map, Value as Json, json};

use super::logs::{Action, Change, logged_answer};
use super::target::{CORE_GROUP, CORE_USER};
use crate::generate::run_unique;

/// The most member users a replayed change creates to stand for members.
pub const MAX_STAND_INS: usize = 5;

const PATCH_OP: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

/// The members a logged value lists: a JSON list (of ids, or of objects
/// with `value` or `id`), or ids separated by commas or semicolons.
pub fn members(value: Option<&str>) -> Vec<String> {
    let Some(text) = value.map(str::trim).filter(|t| !t.is_empty()) else {
        return Vec::new();
    };
    if let Ok(Json::Array(items)) = serde_json::from_str::<Json>(text) {
        return items
            .iter()
            .filter_map(|item| match item {
                Json::String(s) => Some(s.clone()),
                Json::Object(o) => o
                    .get("value")
                    .or_else(|| o.get("id"))
                    .and_then(Json::as_str)
                    .map(str::to_string),
                _ => None,
            })
            .collect();
    }
    text.split([',', ';'])
        .map(|s| s.trim().trim_matches('"').to_string())
        .filter(|s| !s.is_empty())
        .collect()
}

/// One group change's scenario.
pub fn scenario(change: &Change, id: String) -> Json {
    let logged = logged_answer(change);
    let headers = json!({ "content-type": "application/scim+json; charset=utf-8" });
    let value = |target: &str, new: bool| {
        change
            .modified
            .iter()
            .find(|(t, _, _)| t.eq_ignore_ascii_case(target))
            .and_then(|(_, old, now)| if new { now.clone() } else { old.clone() })
    };
    let old_name = value("displayName", false);
    let new_name = value("displayName", true);
    let name = new_name
        .clone()
        .or(old_name.clone())
        .unwrap_or_else(|| change.display_name.clone());
    let before_name = old_name.clone().unwrap_or_else(|| name.clone());
    let (old_members, new_members) = (
        members(value("members", false).as_deref()),
        members(value("members", true).as_deref()),
    );
    let added: Vec<&String> = new_members
        .iter()
        .filter(|m| !old_members.contains(m))
        .collect();
    let removed: Vec<&String> = old_members
        .iter()
        .filter(|m| !new_members.contains(m))
        .collect();
    let description = format!(
        "Logged {} of group {} at {} (change {}): {logged}.",
        change.action.name(),
        change.display_name,
        change.when,
        change.change_id
    );
    let mut steps = Vec::new();
    let stand_ins = added.len().min(MAX_STAND_INS) + removed.len().min(MAX_STAND_INS);
    for n in 0..stand_ins {
        steps.push(json!({
            "id": format!("member_{n}"),
            "setup": true,
            "description": "A user standing for a member the log names by its Entra id.",
            "request": { "method": "POST", "path": "/Users", "headers": headers, "json": {
                "schemas": [CORE_USER],
                "userName": run_unique::unique(&format!("member-{n}@contoso.example")),
                "active": true,
            } },
            "expect": { "status": 201 },
            "capture": { format!("member_{n}_id"): "/id" },
            "cleanup": { "method": "DELETE", "path": format!("/Users/{{{{ member_{n}_id }}}}") },
        }));
    }
    // The steps that send members need the stand-ins they name.
    let with_stand_ins = |after: &str| -> Json {
        let mut needs = vec![after.to_string()];
        needs.extend((0..stand_ins).map(|n| format!("member_{n}")));
        json!(needs)
    };
    let member_ids = |from: usize, count: usize| -> Vec<Json> {
        (from..from + count.min(MAX_STAND_INS))
            .map(|n| json!({ "value": format!("{{{{ member_{n}_id }}}}") }))
            .collect()
    };
    let (adds, removes) = (
        member_ids(0, added.len()),
        member_ids(added.len().min(MAX_STAND_INS), removed.len()),
    );
    let creating = matches!(change.action, Action::Create | Action::Other);
    let group_name = run_unique::unique(if creating { &name } else { &before_name });
    steps.push(json!({
        "id": "match",
        "needs": [],
        "description": "Entra looks the group up by displayName, without its members.",
        "request": { "method": "GET", "path": "/Groups", "query": {
            "filter": format!("displayName eq \"{}\"", group_name.replace('"', "\\\"")),
            "excludedAttributes": "members",
        } },
        "expect": { "status": 200, "json": { "/totalResults": 0 } },
        "impact": "Entra cannot tell whether the group exists.",
        "fix": "Support `filter=displayName eq \"...\"` with `excludedAttributes=members`.",
    }));
    let mut create = Map::new();
    create.insert("schemas".into(), json!([CORE_GROUP]));
    create.insert("displayName".into(), json!(group_name));
    // Before an update the group had the old value, where one was logged.
    let external_id = value("externalId", false)
        .filter(|_| !creating)
        .or(value("externalId", true));
    if let Some(external_id) = external_id {
        create.insert("externalId".into(), json!(external_id));
    }
    // Before an update or delete, the group exists with what it had, and
    // the members to be removed are in it.
    let mut create_step = json!({
        "id": "create",
        "needs": ["match"],
        "request": { "method": "POST", "path": "/Groups", "headers": headers, "json": create },
        "expect": { "status": 201 },
        "capture": { "group_id": "/id" },
        "cleanup": { "method": "DELETE", "path": "/Groups/{{ group_id }}" },
    });
    if creating {
        create_step["description"] = json!(description.clone());
        create_step["impact"] = json!(format!(
            "The group create Entra logged fails again: {logged}."
        ));
        create_step["fix"] = json!("Accept a group without members and answer 201 with its id.");
    } else {
        create_step["setup"] = json!(true);
        create_step["description"] = json!("The group as the app had it before the logged change.");
    }
    steps.push(create_step);
    let patch = |ops: Json| json!({ "method": "PATCH", "path": "/Groups/{{ group_id }}", "headers": headers, "json": { "schemas": [PATCH_OP], "Operations": ops } });
    let mut last = "create".to_string();
    if !removes.is_empty() {
        steps.push(json!({
            "id": "members_before",
            "needs": with_stand_ins("create"),
            "setup": true,
            "description": "The members the logged change removes, in the group before it.",
            "request": patch(json!([{ "op": "Add", "path": "members", "value": removes }])),
            "expect": { "status": [200, 204] },
        }));
        last = "members_before".into();
    }
    if change.action == Action::Delete {
        steps.push(json!({
            "id": "delete",
            "needs": [last],
            "description": description,
            "request": { "method": "DELETE", "path": "/Groups/{{ group_id }}" },
            "expect": { "status": 204 },
            "impact": format!("The group delete Entra logged fails again: {logged}."),
            "fix": "Answer DELETE /Groups/{id} with 204.",
        }));
        return json!({ "id": id, "description": description, "steps": steps });
    }
    if !creating && let (Some(_), Some(new)) = (&old_name, &new_name) {
        steps.push(json!({
            "id": "rename",
            "needs": [last],
            "description": description,
            "request": patch(json!([{ "op": "Replace", "path": "displayName", "value": run_unique::unique(new) }])),
            "expect": { "status": [200, 204] },
            "impact": format!("The group update Entra logged fails again: {logged}."),
            "fix": "Accept `Replace` of displayName.",
        }));
        last = "rename".into();
    }
    if !adds.is_empty() {
        steps.push(json!({
            "id": "add_members",
            "needs": with_stand_ins(&last),
            "spec": ["Entra SCIM: Update Group [Add Members]", "RFC7644 3.5.2.1"],
            "description": format!("{} member(s) added, as logged{}.", added.len(), capped(added.len())),
            "request": patch(json!([{ "op": "Add", "path": "members", "value": adds }])),
            "expect": { "status": [200, 204] },
            "impact": format!("The members Entra logged adding do not reach the group: {logged}."),
            "fix": "Accept `Add` of members with a list of `{value: id}`.",
        }));
        last = "add_members".into();
    }
    if !removes.is_empty() {
        steps.push(json!({
            "id": "remove_members",
            "needs": with_stand_ins(&last),
            "spec": ["Entra SCIM: Update Group [Remove Members]", "RFC7644 3.5.2.2"],
            "description": format!("{} member(s) removed, as logged{}.", removed.len(), capped(removed.len())),
            "request": patch(json!([{ "op": "Remove", "path": "members", "value": removes }])),
            "expect": { "status": [200, 204] },
            "impact": "A member Entra logged removing keeps the group's access in the app.",
            "fix": "Accept `Remove` of members with a value list, removing only those listed.",
        }));
        last = "remove_members".into();
    }
    steps.extend(member_reads(&adds, &removes, &last));
    if new_name.is_some() {
        steps.push(json!({
            "id": "kept",
            "needs": [last],
            "description": "The app returns the values the change sent.",
            "request": { "method": "GET", "path": "/Groups/{{ group_id }}", "query": { "excludedAttributes": "members" } },
            "expect": { "status": 200, "json": {
                "/displayName": { "eq": run_unique::unique(&name), "label": "logged new value of displayName" },
            } },
            "impact": "A value of the logged change does not come back as sent: Entra sends it again every cycle.",
            "fix": "Store each attribute as sent and return it.",
        }));
    }
    json!({ "id": id, "description": description, "steps": steps })
}

/// Reads that the group holds exactly the members added (their number,
/// the first of them) and none of those removed, one read per removed
/// member after the first.
fn member_reads(adds: &[Json], removes: &[Json], after: &str) -> Vec<Json> {
    if adds.is_empty() && removes.is_empty() {
        return Vec::new();
    }
    let read = |id: String, members: Json| {
        json!({
            "id": id,
            "needs": [after],
            "description": "The group's members are those the change left.",
            "request": { "method": "GET", "path": "/Groups/{{ group_id }}" },
            "expect": { "status": 200, "json": { "/members": members } },
            "impact": "The group's membership in the app is not what Entra logged: members lack access, or leavers keep it.",
            "fix": "Apply each member Add and Remove as sent, and nothing else.",
        })
    };
    let mut first = Map::new();
    if let Some(added) = adds.first() {
        first.insert("count".into(), json!(adds.len()));
        first.insert("contains".into(), added.clone());
    }
    if let Some(removed) = removes.first() {
        first.insert("not_contains".into(), removed.clone());
    }
    let mut reads = vec![read("kept_members".into(), Json::Object(first))];
    for (n, removed) in removes.iter().enumerate().skip(1) {
        reads.push(read(
            format!("member_{n}_removed"),
            json!({ "not_contains": removed }),
        ));
    }
    reads
}

fn capped(count: usize) -> String {
    if count > MAX_STAND_INS {
        format!(" (the replay stands {MAX_STAND_INS} users for the {count} the log names)")
    } else {
        String::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn logged_members_are_read_in_each_way_a_value_lists_them() {
        assert_eq!(members(Some(r#"["u-1","u-2"]"#)), ["u-1", "u-2"]);
        assert_eq!(
            members(Some(r#"[{"value": "u-1"}, {"id": "u-2"}]"#)),
            ["u-1", "u-2"]
        );
        assert_eq!(members(Some("u-1, u-2;u-3")), ["u-1", "u-2", "u-3"]);
        assert!(members(Some("  ")).is_empty());
        assert!(members(None).is_empty());
    }

    #[test]
    fn many_members_are_stood_for_by_a_few_and_it_is_said() {
        let change = Change {
            path: "[0]".into(),
            change_id: "c1".into(),
            cycle_id: String::new(),
            when: String::new(),
            action: Action::Update,
            user_principal_name: None,
            display_name: "All staff".into(),
            group: true,
            modified: vec![(
                "members".into(),
                None,
                Some(
                    serde_json::to_string(&(0..12).map(|i| format!("u-{i}")).collect::<Vec<_>>())
                        .unwrap(),
                ),
            )],
            status: "success".into(),
            error_code: None,
            web_response: None,
            skipped: None,
            app: None,
            target_system: None,
        };
        let scenario = scenario(&change, "group_update_c1".into());
        let steps = scenario["steps"].as_array().unwrap();
        let stand_ins = steps
            .iter()
            .filter(|s| s["id"].as_str().unwrap().starts_with("member_") && s["setup"] == true)
            .count();
        assert_eq!(stand_ins, MAX_STAND_INS);
        let add = steps.iter().find(|s| s["id"] == "add_members").unwrap();
        assert!(
            add["description"]
                .as_str()
                .unwrap()
                .contains("stands 5 users for the 12 the log names")
        );
        assert_eq!(
            add["request"]["json"]["Operations"][0]["value"]
                .as_array()
                .unwrap()
                .len(),
            MAX_STAND_INS
        );
    }
}
