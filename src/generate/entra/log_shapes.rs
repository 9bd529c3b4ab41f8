//! The shapes Entra's provisioning logs come in, each turned into the one
//! [`super::logs`] reads (Graph v1.0's `provisioningObjectSummary`):
//!
//! - Graph v1.0 and the portal's download: a list, or `{"value": [...]}`;
//! - Graph beta's older shape, which Microsoft still publishes: `action`
//!   and `statusInfo` where v1.0 says `provisioningAction` and
//!   `provisioningStatusInfo`;
//! - Azure Monitor diagnostic records (a storage account's blobs, one JSON
//!   record a line; an event hub's `{"records": [...]}`): the entry under
//!   `properties`, keys in PascalCase (`Status`, `Id`), enums as numbers;
//! - a Log Analytics export of `AADProvisioningLogs`: PascalCase columns
//!   whose objects are JSON written into strings;
//! - the answer of Graph's `provisionOnDemand`: `{"key": …, "value": …}`,
//!   the entry (beta's shape) written as JSON into the `value` string.

use serde_json::{Map, Value as Json};

/// Graph's `provisioningAction`, in its enum's order.
const ACTIONS: [&str; 6] = [
    "other",
    "create",
    "delete",
    "disable",
    "update",
    "stagedDelete",
];
/// Graph's `provisioningResult`, in its enum's order.
const RESULTS: [&str; 4] = ["success", "failure", "skipped", "warning"];
/// Graph's `provisioningStepType`, in its enum's order.
const STEP_TYPES: [&str; 6] = [
    "import",
    "scoping",
    "matching",
    "processing",
    "referenceResolution",
    "export",
];

/// The log's entries in Graph v1.0's shape, whatever shape they came in.
pub fn entries(text: &str) -> Result<Vec<Json>, String> {
    let raw = match serde_json::from_str::<Json>(text) {
        Ok(json) => listed(json)?,
        // Not one JSON document: a diagnostic blob, one record a line.
        Err(e) if trailing(&e) => lines(text)?,
        Err(e) => return Err(crate::generate::json_error(&e)),
    };
    Ok(raw.into_iter().map(graph_shape).collect())
}

fn trailing(e: &serde_json::Error) -> bool {
    e.to_string().starts_with("trailing characters")
}

/// The entries of one JSON document.
fn listed(json: Json) -> Result<Vec<Json>, String> {
    match json {
        Json::Array(list) => Ok(list),
        Json::Object(mut o) => {
            if let Some(entries) = on_demand(&o) {
                return entries;
            }
            for wrapper in ["value", "records"] {
                if let Some(Json::Array(list)) = o.remove(wrapper) {
                    return Ok(list);
                }
            }
            if o.contains_key("synchronizationRules") {
                return Err(
                    "this is a provisioning configuration, not a log: give it with --entra-schema"
                        .into(),
                );
            }
            if o.contains_key("properties") || o.contains_key("changeId") {
                return Ok(vec![Json::Object(o)]);
            }
            Err(not_a_log())
        }
        _ => Err(not_a_log()),
    }
}

/// The entries of a provisionOnDemand answer: its `value` is JSON in a
/// string, one entry or a list of them; None for any other document.
fn on_demand(o: &Map<String, Json>) -> Option<Result<Vec<Json>, String>> {
    let (Some(Json::String(_)), Some(Json::String(value))) = (o.get("key"), o.get("value")) else {
        return None;
    };
    Some(match serde_json::from_str::<Json>(value) {
        Ok(Json::Array(list)) => Ok(list),
        Ok(entry @ Json::Object(_)) => Ok(vec![entry]),
        Ok(_) => Err("a provisionOnDemand answer whose `value` holds no entry".into()),
        Err(e) => Err(format!(
            "a provisionOnDemand answer whose `value` is not JSON: {}",
            crate::generate::json_error(&e)
        )),
    })
}

fn not_a_log() -> String {
    "expected Entra's provisioning logs: the portal's JSON download or Graph's list (entries with changeId and provisioningAction), Azure Monitor's diagnostic records (one JSON record a line), or a Log Analytics export of AADProvisioningLogs".into()
}

/// One record a line; blank lines are skipped.
fn lines(text: &str) -> Result<Vec<Json>, String> {
    text.lines()
        .enumerate()
        .filter(|(_, line)| !line.trim().is_empty())
        .map(|(n, line)| {
            serde_json::from_str(line).map_err(|e| {
                format!(
                    "line {}: not a JSON record ({e}); a diagnostic log holds one record a line",
                    n + 1
                )
            })
        })
        .collect()
}

/// One entry in Graph v1.0's shape.
fn graph_shape(entry: Json) -> Json {
    // A diagnostic record carries the entry under `properties`.
    let entry = match entry {
        Json::Object(mut o)
            if !o.contains_key("changeId")
                && !o.contains_key("ChangeId")
                && o.get("properties").is_some_and(Json::is_object) =>
        {
            o.remove("properties").unwrap_or_default()
        }
        other => other,
    };
    let Json::Object(entry) = camel(entry) else {
        return Json::Null;
    };
    let mut entry: Map<String, Json> = entry.into_iter().map(|(k, v)| (k, unquoted(v))).collect();
    for (old, new) in [
        ("action", "provisioningAction"),
        ("statusInfo", "provisioningStatusInfo"),
    ] {
        if !entry.contains_key(new)
            && let Some(v) = entry.remove(old)
        {
            entry.insert(new.into(), v);
        }
    }
    older_names(&mut entry);
    if let Some(action) = entry.get_mut("provisioningAction") {
        named(action, &ACTIONS);
    }
    if let Some(status) = entry
        .get_mut("provisioningStatusInfo")
        .and_then(|info| info.get_mut("status"))
    {
        named(status, &RESULTS);
    }
    // A Log Analytics row may have the result only as ResultType.
    if !entry.contains_key("provisioningStatusInfo")
        && let Some(result) = entry.get("resultType").cloned()
    {
        entry.insert(
            "provisioningStatusInfo".into(),
            serde_json::json!({"status": result}),
        );
    }
    if let Some(Json::Array(steps)) = entry.get_mut("provisioningSteps") {
        for step in steps {
            if let Some(status) = step.get_mut("status") {
                named(status, &RESULTS);
            }
            if let Some(kind) = step.get_mut("provisioningStepType") {
                named(kind, &STEP_TYPES);
            }
        }
    }
    Json::Object(entry)
}

/// The names beta's entries and provisionOnDemand's answers use where
/// v1.0 has others: `startTime` for `activityDateTime`, a step's `type`,
/// an identity's `type`, a system's `name`, the error's code and reason
/// beside the status, enums capitalized (`Create`, `Skipped`, `Import`);
/// and the user principal name, which such an answer gives only among the
/// modified properties or as the reportable identifier.
fn older_names(entry: &mut Map<String, Json>) {
    let rename = |o: &mut Map<String, Json>, old: &str, new: &str| {
        if !o.contains_key(new)
            && let Some(v) = o.remove(old)
        {
            o.insert(new.into(), v);
        }
    };
    rename(entry, "endTime", "activityDateTime");
    rename(entry, "startTime", "activityDateTime");
    if let Some(Json::Object(identity)) = entry.get_mut("sourceIdentity") {
        rename(identity, "type", "identityType");
    }
    for system in ["sourceSystem", "targetSystem", "servicePrincipal"] {
        if let Some(Json::Object(o)) = entry.get_mut(system) {
            rename(o, "name", "displayName");
        }
    }
    if let Some(Json::Object(info)) = entry.get_mut("provisioningStatusInfo")
        && !info.contains_key("errorInformation")
    {
        let mut error = Map::new();
        for key in [
            "errorCode",
            "reason",
            "additionalDetails",
            "errorCategory",
            "recommendedAction",
        ] {
            if let Some(v) = info.remove(key).filter(|v| !v.is_null()) {
                error.insert(key.into(), v);
            }
        }
        if !error.is_empty() {
            info.insert("errorInformation".into(), Json::Object(error));
        }
    }
    if let Some(Json::Array(steps)) = entry.get_mut("provisioningSteps") {
        for step in steps.iter_mut().filter_map(Json::as_object_mut) {
            rename(step, "type", "provisioningStepType");
            rename(step, "timestamp", "activityDateTime");
            for key in ["status", "provisioningStepType"] {
                lower_enum(step.get_mut(key));
            }
        }
    }
    lower_enum(entry.get_mut("provisioningAction"));
    if let Some(info) = entry.get_mut("provisioningStatusInfo") {
        lower_enum(info.get_mut("status"));
    }
    upn_from_elsewhere(entry);
}

/// `Create` → `create`, `StagedDelete` → `stagedDelete`, as v1.0 writes them.
fn lower_enum(value: Option<&mut Json>) {
    if let Some(Json::String(s)) = value {
        *s = lower_first(s);
    }
}

fn upn_from_elsewhere(entry: &mut Map<String, Json>) {
    let has_upn = entry
        .get("sourceIdentity")
        .and_then(|i| i.get("details"))
        .and_then(Json::as_object)
        .is_some_and(|d| {
            d.keys()
                .any(|k| k.eq_ignore_ascii_case("UserPrincipalName"))
        });
    if has_upn {
        return;
    }
    let modified = entry
        .get("modifiedProperties")
        .and_then(Json::as_array)
        .into_iter()
        .flatten()
        .find(|p| {
            p.get("displayName")
                .and_then(Json::as_str)
                .is_some_and(|n| n.eq_ignore_ascii_case("userPrincipalName"))
        })
        .and_then(|p| p.get("newValue").or_else(|| p.get("oldValue")))
        .and_then(Json::as_str);
    let reportable = entry
        .get("reportableIdentifier")
        .and_then(Json::as_str)
        .filter(|r| r.contains('@'));
    let Some(upn) = modified.or(reportable).map(str::to_string) else {
        return;
    };
    if let Some(Json::Object(identity)) = entry.get_mut("sourceIdentity") {
        match identity.get_mut("details") {
            Some(Json::Object(details)) => {
                details.insert("UserPrincipalName".into(), Json::String(upn));
            }
            _ => {
                identity.insert(
                    "details".into(),
                    serde_json::json!({ "UserPrincipalName": upn }),
                );
            }
        }
    }
}

/// Keys from PascalCase to Graph's camelCase (`Status` to `status`,
/// `ProvisioningStatusInfo` to `provisioningStatusInfo`), all the way down
/// but inside `details`, whose keys are the source's attribute names.
fn camel(value: Json) -> Json {
    match value {
        Json::Object(o) => Json::Object(
            o.into_iter()
                .map(|(k, v)| {
                    let key = lower_first(&k);
                    let v = if key == "details" { v } else { camel(v) };
                    (key, v)
                })
                .collect(),
        ),
        Json::Array(list) => Json::Array(list.into_iter().map(camel).collect()),
        other => other,
    }
}

fn lower_first(key: &str) -> String {
    let mut chars = key.chars();
    match chars.next() {
        Some(first) => first.to_lowercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// A column written as a JSON string (Log Analytics) read as JSON.
fn unquoted(value: Json) -> Json {
    match &value {
        Json::String(text) if text.starts_with(['{', '[']) => {
            serde_json::from_str::<Json>(text).map_or(value, camel)
        }
        _ => value,
    }
}

/// An enum given as its number, named as Graph names it.
fn named(value: &mut Json, names: &[&str]) {
    if let Some(name) = value.as_u64().and_then(|n| names.get(n as usize)) {
        *value = Json::String((*name).to_string());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// The same change in Graph v1.0's shape.
    fn v1() -> Json {
        json!({
            "changeId": "c1", "cycleId": "y1", "activityDateTime": "2026-11-30T10:00:00Z",
            "provisioningAction": "update",
            "sourceIdentity": {"displayName": "Zoë", "identityType": "User", "details": {"UserPrincipalName": "zoe@contoso.com"}},
            "modifiedProperties": [{"displayName": "title", "oldValue": "A", "newValue": "B"}],
            "provisioningStatusInfo": {"status": "skipped"},
            "provisioningSteps": [{"name": "EntrySynchronizationSkip", "provisioningStepType": "scoping", "status": "skipped", "description": "out of scope"}]
        })
    }

    #[test]
    fn graph_beta_names_action_and_status_info() {
        let beta = r#"{"value": [{
            "changeId": "c1", "cycleId": "y1", "activityDateTime": "2026-11-30T10:00:00Z",
            "action": "update",
            "sourceIdentity": {"displayName": "Zoë", "identityType": "User", "details": {"UserPrincipalName": "zoe@contoso.com"}},
            "modifiedProperties": [{"displayName": "title", "oldValue": "A", "newValue": "B"}],
            "statusInfo": {"status": "skipped"},
            "provisioningSteps": [{"name": "EntrySynchronizationSkip", "provisioningStepType": "scoping", "status": "skipped", "description": "out of scope"}]
        }]}"#;
        assert_eq!(entries(beta).unwrap(), vec![v1()]);
    }

    #[test]
    fn a_provision_on_demand_answer_has_its_entry_in_a_string() {
        let entry = json!({
            "action": "Update", "changeId": "c1", "cycleId": "y1",
            "startTime": "2026-11-30T09:59:59Z", "endTime": "2026-11-30T10:00:00Z",
            "modifiedProperties": [
                {"displayName": "userPrincipalName", "oldValue": null, "newValue": "zoe@contoso.com"},
                {"displayName": "title", "oldValue": "A", "newValue": "B"}
            ],
            "provisioningSteps": [{"name": "EntrySynchronizationSkip", "type": "Scoping", "status": "Skipped",
                "description": "out of scope", "timestamp": "2026-11-30T10:00:00Z", "details": {"SkipReason": "NotEffectivelyEntitled"}}],
            "reportableIdentifier": "zoe@contoso.com",
            "statusInfo": {"status": "Skipped", "errorCode": null, "reason": null},
            "sourceIdentity": {"id": "s1", "type": "User", "displayName": "Zoë", "details": null},
            "targetSystem": {"id": null, "name": "customappsso", "details": null}
        });
        let answer = json!({
            "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#microsoft.graph.stringKeyStringValuePair",
            "key": json!({"result": "Skipped", "details": {}}).to_string(),
            "value": entry.to_string(),
        })
        .to_string();
        let read = entries(&answer).unwrap();
        assert_eq!(read.len(), 1);
        let got = |pointer: &str| read[0].pointer(pointer).cloned().unwrap_or_default();
        assert_eq!(got("/provisioningAction"), "update");
        assert_eq!(got("/activityDateTime"), "2026-11-30T10:00:00Z");
        assert_eq!(got("/provisioningStatusInfo/status"), "skipped");
        assert_eq!(got("/provisioningSteps/0/provisioningStepType"), "scoping");
        assert_eq!(got("/provisioningSteps/0/status"), "skipped");
        assert_eq!(got("/sourceIdentity/identityType"), "User");
        assert_eq!(
            got("/sourceIdentity/details/UserPrincipalName"),
            "zoe@contoso.com"
        );
        assert_eq!(got("/targetSystem/displayName"), "customappsso");
        // A failure's code and reason sit beside the status in this shape.
        let mut failed = entry.clone();
        failed["statusInfo"] = json!({"status": "Failure", "errorCode": "SCIMBadRequest", "reason": "Web Response: {}"});
        let answer = json!({"key": "{}", "value": failed.to_string()}).to_string();
        let read = entries(&answer).unwrap();
        assert_eq!(
            read[0]["provisioningStatusInfo"],
            json!({"status": "failure", "errorInformation": {"errorCode": "SCIMBadRequest", "reason": "Web Response: {}"}})
        );
        let broken = json!({"key": "{}", "value": "{not json"}).to_string();
        assert!(
            entries(&broken)
                .unwrap_err()
                .contains("provisionOnDemand answer whose `value` is not JSON")
        );
    }

    #[test]
    fn diagnostic_records_are_one_a_line_under_properties_in_pascal_case_with_numbered_enums() {
        let record = json!({
            "time": "2026-11-30T10:00:01Z", "category": "ProvisioningLogs", "operationName": "Provisioning activity",
            "properties": {
                "ChangeId": "c1", "CycleId": "y1", "ActivityDateTime": "2026-11-30T10:00:00Z",
                "Action": 4,
                "SourceIdentity": {"DisplayName": "Zoë", "IdentityType": "User", "Details": {"UserPrincipalName": "zoe@contoso.com"}},
                "ModifiedProperties": [{"DisplayName": "title", "OldValue": "A", "NewValue": "B"}],
                "StatusInfo": {"Status": 2},
                "ProvisioningSteps": [{"Name": "EntrySynchronizationSkip", "ProvisioningStepType": 1, "Status": 2, "Description": "out of scope"}]
            }
        });
        let blob = format!("{record}\n\n{record}\n");
        assert_eq!(entries(&blob).unwrap(), vec![v1(), v1()]);
        let hub = json!({"records": [record]}).to_string();
        assert_eq!(entries(&hub).unwrap(), vec![v1()]);
    }

    #[test]
    fn a_log_analytics_export_has_its_objects_in_strings() {
        let row = json!({
            "ChangeId": "c1", "CycleId": "y1", "ActivityDateTime": "2026-11-30T10:00:00Z",
            "ProvisioningAction": "update",
            "SourceIdentity": json!({"DisplayName": "Zoë", "IdentityType": "User", "Details": {"UserPrincipalName": "zoe@contoso.com"}}).to_string(),
            "ModifiedProperties": json!([{"DisplayName": "title", "OldValue": "A", "NewValue": "B"}]).to_string(),
            "ProvisioningStatusInfo": json!({"Status": "skipped"}).to_string(),
            "ProvisioningSteps": json!([{"Name": "EntrySynchronizationSkip", "ProvisioningStepType": "scoping", "Status": "skipped", "Description": "out of scope"}]).to_string()
        });
        assert_eq!(entries(&json!([row]).to_string()).unwrap(), vec![v1()]);
    }

    #[test]
    fn a_broken_record_names_its_line() {
        let text = "{\"properties\": {\"ChangeId\": \"c1\"}}\n{not json\n";
        let err = entries(text).unwrap_err();
        assert!(err.starts_with("line 2: not a JSON record"), "{err}");
    }
}
