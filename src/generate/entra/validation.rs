//! The sequences Microsoft's validation of a SCIM app sends beyond one
//! create and one change: a null update (the mapped values emptied, then
//! removed), the manager cleared (by `Remove` and by `Replace` with an empty
//! value), several member changes in one PATCH, and a paged read of five.
//! Each step is what Entra sends; each is read back where the RFC says what
//! must follow (RFC 7643 2.5: a removed attribute is unassigned; an emptied
//! one may be kept as "" or dropped, so only its refusal is a finding).

use serde_json::{Map, Value as Json, json};

use super::target::TargetPath;
use crate::generate::write::placed;

const PATCH_OP: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
const ENTERPRISE: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

fn patch(path: &str, ops: Json) -> Json {
    placed(
        json!({ "method": "PATCH", "path": path, "json": { "schemas": [PATCH_OP] } }),
        &["json", "Operations"],
        ops,
    )
}

/// The null update of `targets` (mapped, optional, not identifying): one
/// PATCH replacing each with "", then one removing each, read back
/// unassigned. `after` is the step it follows.
pub fn null_update(targets: &[String], after: &str) -> Vec<Json> {
    if targets.is_empty() {
        return Vec::new();
    }
    let emptied: Vec<Json> = targets
        .iter()
        .map(|t| json!({ "op": "Replace", "path": t, "value": "" }))
        .collect();
    let removed: Vec<Json> = targets
        .iter()
        .map(|t| json!({ "op": "Remove", "path": t }))
        .collect();
    // Through a value filter only the sub-attribute goes: its element may
    // stay, so only plain and extension attributes are read back.
    let mut unassigned = Map::new();
    for target in targets {
        if let Some(path @ (TargetPath::Simple(_) | TargetPath::Extension { .. })) =
            TargetPath::parse(target)
        {
            let (pointer, _) = path.check(&Json::Null);
            unassigned.insert(
                pointer,
                json!({ "unassigned": true, "label": format!("{target} removed") }),
            );
        }
    }
    let listed = targets.join(", ");
    let mut steps = vec![
        json!({
            "id": "null_update_emptied",
            "needs": [after],
            "spec": ["Entra SCIM: validation (null update)", "RFC7644 3.5.2.3"],
            "description": format!("Entra's null update, first step: every optional mapped value emptied ({listed})."),
            "request": null,
            "expect": { "status": [200, 204] },
            "impact": "A value cleared in Entra cannot be cleared in the app: the old one stays.",
            "fix": "Accept `Replace` with an empty value, keeping it as \"\" or dropping the attribute.",
        }),
        json!({
            "id": "null_update_removed",
            "needs": ["null_update_emptied"],
            "spec": ["Entra SCIM: validation (null update)", "RFC7644 3.5.2.2"],
            "description": format!("Entra's null update, second step: the same attributes removed ({listed})."),
            "request": null,
            "expect": { "status": [200, 204] },
            "impact": "A value removed in Entra cannot be removed in the app.",
            "fix": "Accept `Remove` of each attribute, an already empty one too.",
        }),
    ];
    // Placed, not embedded: `json!` would copy them.
    for (step, ops) in steps.iter_mut().zip([emptied, removed]) {
        step["request"] = patch("/Users/{{ user_id }}", Json::Array(ops));
    }
    if !unassigned.is_empty() {
        steps.push(json!({
            "id": "null_update_unassigned",
            "needs": ["null_update_removed"],
            "spec": ["RFC7643 2.5", "RFC7644 3.5.2.2"],
            "request": { "method": "GET", "path": "/Users/{{ user_id }}" },
            "expect": { "status": 200, "json": unassigned },
            "impact": "A value removed in Entra is still returned by the app.",
            "fix": "Remove the attribute: return it no more.",
        }));
    }
    steps
}

/// The manager cleared twice, as Entra's validation does: by `Remove`, and,
/// once set again, by `Replace` with an empty value. `target` is the
/// mapping's target, `after` the step that set the manager.
pub fn manager_cleared(target: &str, after: &str) -> Vec<Json> {
    let manager_value = format!("/{ENTERPRISE}/manager/value");
    let read = |id: &str, needs: &str| {
        json!({
            "id": id,
            "needs": [needs],
            "spec": ["RFC7643 4.3", "RFC7644 3.5.2"],
            "request": { "method": "GET", "path": "/Users/{{ user_id }}" },
            "expect": { "status": 200, "json": { manager_value.clone(): { "ne": "{{ manager_id }}", "label": "manager cleared" } } },
            "impact": "A manager cleared in Entra stays in the app.",
            "fix": "Clear the manager: return it no more (or with an empty value).",
        })
    };
    vec![
        json!({
            "id": "clear_manager_remove",
            "needs": [after],
            "spec": ["Entra SCIM: validation (manager cleared)", "RFC7644 3.5.2.2"],
            "description": "The manager removed in Entra: `Remove` of the manager.",
            "request": patch("/Users/{{ user_id }}", json!([{ "op": "Remove", "path": target }])),
            "expect": { "status": [200, 204] },
            "impact": "A manager removed in Entra cannot be removed in the app.",
            "fix": format!("Accept `Remove` of {target}."),
        }),
        read("cleared_by_remove", "clear_manager_remove"),
        json!({
            "id": "manager_again",
            "needs": ["cleared_by_remove", "manager_exists"],
            "setup": true,
            "description": "The manager set again, to be cleared the other way.",
            "request": patch("/Users/{{ user_id }}", json!([{ "op": "Add", "path": target, "value": "{{ manager_id }}" }])),
            "expect": { "status": [200, 204] },
        }),
        json!({
            "id": "clear_manager_empty",
            "needs": ["manager_again"],
            "spec": ["Entra SCIM: validation (manager cleared)", "RFC7644 3.5.2.3"],
            "description": "The manager cleared in Entra: `Replace` of the manager with an empty value.",
            "request": patch("/Users/{{ user_id }}", json!([{ "op": "Replace", "path": target, "value": "" }])),
            "expect": { "status": [200, 204] },
            "impact": "A manager cleared in Entra cannot be cleared in the app.",
            "fix": format!("Accept `Replace` of {target} with an empty value, as clearing it."),
        }),
        read("cleared_by_empty", "clear_manager_empty"),
    ]
}

/// Several member changes in one PATCH: both stand-in members added one op
/// each, then the first removed again, all in one request; the group then
/// holds the second only. `after` is the step it follows.
pub fn several_member_changes(after: &str) -> Vec<Json> {
    vec![
        json!({
            "id": "several_member_changes",
            "needs": [after],
            "spec": ["Entra SCIM: validation (member changes in one PATCH)", "RFC7644 3.5.2"],
            "description": "Several member changes in one PATCH, applied in order (RFC 7644 3.5.2: all or nothing).",
            "request": patch("/Groups/{{ group_id }}", json!([
                { "op": "Add", "path": "members", "value": [{ "value": "{{ member_one_id }}" }] },
                { "op": "Add", "path": "members", "value": [{ "value": "{{ member_two_id }}" }] },
                { "op": "Remove", "path": "members", "value": [{ "value": "{{ member_one_id }}" }] },
            ])),
            "expect": { "status": [200, 204] },
            "impact": "Membership changes Entra batches into one request fail, or only some apply.",
            "fix": "Apply every operation of a PATCH, in order.",
        }),
        json!({
            "id": "several_member_changes_kept",
            "needs": ["several_member_changes"],
            "spec": ["RFC7644 3.5.2"],
            "request": { "method": "GET", "path": "/Groups/{{ group_id }}" },
            "expect": { "status": 200, "json": { "/members": {
                "contains": { "value": "{{ member_two_id }}" },
                "not_contains": { "value": "{{ member_one_id }}" },
                "count": 1,
            } } },
            "impact": "The group's members are not what the operations, in order, leave.",
            "fix": "Apply the operations in the order sent.",
        }),
    ]
}

/// A paged read of five, as the validation sends it.
pub fn paged_read(endpoint: &str) -> Json {
    json!({
        "id": "paged_read",
        "needs": [],
        "spec": ["Entra SCIM: validation (paged read)", "RFC7644 3.4.2.4"],
        "description": "A page of at most five from the first.",
        "request": { "method": "GET", "path": endpoint, "query": { "startIndex": "1", "count": "5" } },
        "expect": { "status": 200, "json": { "/totalResults": { "type": "number" }, "/Resources/5": { "absent": true, "label": "at most five resources" } } },
        "impact": "Entra's paged reads fail or return more than asked.",
        "fix": "Answer startIndex and count: at most `count` resources from `startIndex` (1-based).",
    })
}
