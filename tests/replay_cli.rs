//! `scimcheck replay` from the command line: a worked example that runs,
//! and bad input that is refused with the file, the JSON path and the
//! position, exit 2, and nothing sent.

mod common;

use assert_cmd::cargo::cargo_bin_cmd;

const EXPORT: &str = include_str!("../examples/entra/zscaler-two-export.json");

/// The example export with the department mapping's expression replaced.
fn with_department_expression(expression: &str) -> String {
    let mut export: serde_json::Value = serde_json::from_str(EXPORT).unwrap();
    let mapping =
        &mut export["synchronizationRules"][0]["objectMappings"][0]["attributeMappings"][6];
    assert_eq!(
        mapping["targetAttributeName"],
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department"
    );
    mapping["source"] = serde_json::json!({ "expression": expression, "type": "Function" });
    export.to_string()
}

/// Runs replay on `export` against a server that counts what it receives.
fn refused(export: &str, extra: &[&str]) -> (String, usize) {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let server = runtime.block_on(wiremock::MockServer::start());
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("export.json");
    std::fs::write(&file, export).unwrap();
    let output = cargo_bin_cmd!("scimcheck")
        .current_dir(dir.path())
        .args([
            "replay",
            "--token",
            "tok-0a1b2c3d",
            "--base-url",
            &server.uri(),
            "--entra-schema",
        ])
        .arg(&file)
        .args(extra)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2), "{output:?}");
    let received = runtime.block_on(server.received_requests()).unwrap().len();
    assert!(
        !dir.path().join("scimcheck-replay").exists(),
        "nothing is written either"
    );
    (
        String::from_utf8_lossy(&output.stderr).into_owned(),
        received,
    )
}

#[test]
fn bad_input_is_refused_with_where_and_what_to_do_and_nothing_is_sent() {
    let path = "synchronizationRules[0].objectMappings[0].attributeMappings[6].source.expression";
    for (export, needles) in [
        (
            "not json at all".to_string(),
            vec![
                "export.json: not JSON (line 1, column 2): expected ident\n",
                "hint: give the file the schema editor's Download",
            ],
        ),
        (
            r#"{"value": [{"changeId": "1", "provisioningAction": "create"}]}"#.to_string(),
            vec!["no Entra provisioning configuration", "--entra-log"],
        ),
        (
            with_department_expression("ToLowr([department])"),
            vec![
                path,
                "ToLowr at column 1: no such function",
                "did you mean ToLower?",
            ],
        ),
        (
            with_department_expression("ToLower([department]"),
            vec![path, "at column 21", "before this call's `)`"],
        ),
        (
            with_department_expression("ToLower([costCentre])"),
            vec![
                path,
                "reads [costCentre], which none of the sample objects has",
                "--users FILE",
            ],
        ),
    ] {
        let (stderr, received) = refused(&export, &[]);
        for needle in needles {
            assert!(stderr.contains(needle), "{needle:?} not in:\n{stderr}");
        }
        assert!(stderr.contains("nothing was sent"), "{stderr}");
        assert_eq!(received, 0, "{stderr}");
        assert!(!stderr.contains("tok-0a1b2c3d"));
    }
    let dir = tempfile::tempdir().unwrap();
    let users = dir.path().join("users.json");
    std::fs::write(&users, "{\"users\": 1}").unwrap();
    let (stderr, received) = refused(EXPORT, &["--users", users.to_str().unwrap()]);
    assert!(
        stderr.contains("users.json: expected a JSON list of users"),
        "{stderr}"
    );
    assert_eq!(received, 0);
}

#[test]
fn the_worked_example_replays_against_the_double_and_the_emitted_suite_runs_again() {
    let dir = tempfile::tempdir().unwrap();
    let export = dir.path().join("zscaler-two-export.json");
    std::fs::write(&export, EXPORT).unwrap();
    let output = cargo_bin_cmd!("scimcheck")
        .current_dir(dir.path())
        .args(["replay", "--entra-schema"])
        .arg(&export)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(0), "{stdout}");
    for line in [
        "scimcheck: Former Employee (former.employee@contoso.example): not provisioned: IsSoftDeleted is true",
        "scimcheck: wrote scimcheck-replay/entra-replay-users.yaml (4 scenarios, ",
        "PASS entra-replay-users::user_zoe_aberg",
        "PASS entra-replay-groups::group_finance_team",
    ] {
        assert!(stdout.contains(line), "{line:?} not in:\n{stdout}");
    }
    let again = cargo_bin_cmd!("scimcheck")
        .current_dir(dir.path())
        .args(["run", "--no-builtin", "--suites", "scimcheck-replay"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&again.stdout);
    assert_eq!(again.status.code(), Some(0), "{stdout}");
    assert!(stdout.contains("6 passed, 0 failed"), "{stdout}");
}

/// `replay --entra-log LOG --user` Zoë, in a fresh folder: the folder, and stdout.
fn replay_zoe(log: &std::path::Path) -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().unwrap();
    let output = cargo_bin_cmd!("scimcheck")
        .current_dir(dir.path())
        .args(["replay", "--entra-log"])
        .arg(log)
        .args(["--user", "zoe.aberg@contoso.example"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert_eq!(output.status.code(), Some(0), "{stdout}");
    for line in [
        "scimcheck: change 5a4b3c2d-1e0f-4a9b-8c7d-6e5f4a3b2c1d (create of zoe.aberg@contoso.example at 2026-11-30T09:12:44Z): Entra logged failure: SystemForCrossDomainIdentityManagementBadRequest; the app answered: {\"schemas\":[\"urn:ietf:params:scim:api:messages:2.0:Error\"],\"detail\":\"Attribute urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department is not supported\"",
        "scimcheck: wrote scimcheck-replay/entra-log-replay.yaml (1 logged changes)",
        "PASS entra-log-replay::create_5a4b3c2d1e0f",
    ] {
        assert!(stdout.contains(line), "{line:?} not in:\n{stdout}");
    }
    (dir, stdout)
}

#[test]
fn a_logged_change_is_replayed_beside_what_the_app_answered_then() {
    let log = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("examples/entra/zscaler-two-provisioning-log.json");
    let (dir, stdout) = replay_zoe(&log);
    // The other user's change is not chosen; --change-id picks it.
    assert!(!stdout.contains("8e7d6c5b"), "{stdout}");
    let output = cargo_bin_cmd!("scimcheck")
        .current_dir(dir.path())
        .args([
            "replay",
            "--emit-suite",
            "other",
            "--change-id",
            "8e7d6c5b-4a3f-4e2d-9c1b-0a9f8e7d6c5b",
            "--entra-log",
        ])
        .arg(&log)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(0), "{stdout}");
    assert!(
        stdout.contains("PASS entra-log-replay::update_8e7d6c5b4a3f"),
        "{stdout}"
    );
    let suite = std::fs::read_to_string(dir.path().join("other/entra-log-replay.yaml")).unwrap();
    assert!(suite.contains("value: Marketing"), "{suite}");
    // A suite an earlier replay left in the folder is kept, and not run:
    // only what this replay wrote is.
    std::fs::write(
        dir.path().join("other/stale.yaml"),
        "name: stale\nscenarios:\n  - id: left_from_before\n    steps:\n      - id: s\n        request: { method: GET, path: /ServiceProviderConfig }\n        expect: { status: 418 }\n",
    )
    .unwrap();
    let again = cargo_bin_cmd!("scimcheck")
        .current_dir(dir.path())
        .args(["replay", "--emit-suite", "other", "--change-id"])
        .arg("8e7d6c5b-4a3f-4e2d-9c1b-0a9f8e7d6c5b")
        .arg("--entra-log")
        .arg(&log)
        .output()
        .unwrap();
    let again_out = String::from_utf8_lossy(&again.stdout);
    assert_eq!(again.status.code(), Some(0), "{again_out}");
    assert!(!again_out.contains("left_from_before"), "{again_out}");
    assert!(dir.path().join("other/stale.yaml").exists());
}

#[test]
fn the_csv_download_is_replayed_as_the_json_one() {
    let log = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("examples/entra/csv/ProvisioningLogs.csv");
    let (dir, _) = replay_zoe(&log);
    // The first file alone: refused, nothing sent.
    std::fs::copy(&log, dir.path().join("alone.csv")).unwrap();
    let output = cargo_bin_cmd!("scimcheck")
        .current_dir(dir.path())
        .args(["replay", "--entra-log", "alone.csv"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("three files"), "{stderr}");
}

#[test]
fn an_okta_mapping_is_replayed_and_an_unsupported_expression_refused() {
    let dir = tempfile::tempdir().unwrap();
    let mapping = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("examples/okta/zscaler-two-mapping.json");
    let output = cargo_bin_cmd!("scimcheck")
        .current_dir(dir.path())
        .args(["replay", "--okta-mapping"])
        .arg(&mapping)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(0), "{stdout}");
    assert!(
        stdout.contains("PASS okta-replay-users::user_zoe_aberg"),
        "{stdout}"
    );
    let bad = dir.path().join("bad.json");
    let text = std::fs::read_to_string(&mapping).unwrap().replace(
        "String.toLowerCase(user.email)",
        "Arrays.first(user.emails)",
    );
    std::fs::write(&bad, text).unwrap();
    let (stderr, received) = refused_file(&bad, &["--okta-mapping"]);
    assert!(stderr.contains("properties.email.expression: `Arrays.first(user.emails)` at column 1: unsupported expression"), "{stderr}");
    assert_eq!(received, 0);
}

/// Runs replay with `flag FILE` against a counting server; exit 2 expected.
fn refused_file(file: &std::path::Path, flag: &[&str]) -> (String, usize) {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let server = runtime.block_on(wiremock::MockServer::start());
    let dir = tempfile::tempdir().unwrap();
    let output = cargo_bin_cmd!("scimcheck")
        .current_dir(dir.path())
        .args(["replay", "--base-url", &server.uri()])
        .args(flag)
        .arg(file)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2), "{output:?}");
    let received = runtime.block_on(server.received_requests()).unwrap().len();
    (
        String::from_utf8_lossy(&output.stderr).into_owned(),
        received,
    )
}

/// Keys to PascalCase, as Azure Monitor writes them (not inside `details`).
fn pascal(value: serde_json::Value) -> serde_json::Value {
    match value {
        serde_json::Value::Object(o) => serde_json::Value::Object(
            o.into_iter()
                .map(|(k, v)| {
                    let v = if k == "details" { v } else { pascal(v) };
                    let mut chars = k.chars();
                    let key = chars
                        .next()
                        .map(|c| c.to_uppercase().chain(chars).collect())
                        .unwrap_or_default();
                    (key, v)
                })
                .collect(),
        ),
        serde_json::Value::Array(list) => {
            serde_json::Value::Array(list.into_iter().map(pascal).collect())
        }
        other => other,
    }
}

#[test]
fn a_log_sent_to_azure_monitor_replays_as_the_download_does() {
    let log = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("examples/entra/zscaler-two-provisioning-log.json");
    let download: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&log).unwrap()).unwrap();
    let entries = download
        .as_array()
        .cloned()
        .or_else(|| download["value"].as_array().cloned())
        .unwrap();
    // A storage account's blob: one diagnostic record a line, the entry
    // under `properties` in PascalCase, the action as Graph's enum number.
    let mut blob = String::new();
    for entry in entries {
        let mut entry = entry;
        let action = match entry["provisioningAction"].as_str().unwrap() {
            "create" => 1,
            "update" => 4,
            other => panic!("{other}"),
        };
        let object = entry.as_object_mut().unwrap();
        object.remove("provisioningAction");
        object.insert("action".into(), serde_json::json!(action));
        let record = serde_json::json!({
            "time": "2026-11-30T09:12:45Z",
            "category": "ProvisioningLogs",
            "operationName": "Provisioning activity",
            "properties": pascal(entry),
        });
        blob.push_str(&record.to_string());
        blob.push('\n');
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("PT1H.json");
    std::fs::write(&path, blob).unwrap();
    replay_zoe(&path);
}

#[test]
fn a_log_of_several_apps_replays_the_one_named_and_never_an_inbound_change() {
    let log = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("examples/entra/zscaler-two-provisioning-log.json");
    let download: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&log).unwrap()).unwrap();
    let mut entries = download
        .as_array()
        .cloned()
        .or_else(|| download["value"].as_array().cloned())
        .unwrap();
    // A tenant's export: Zoë's create also made by another app's job, and
    // by an inbound job (HR to Entra ID).
    let zoe = entries
        .iter()
        .find(|e| e.to_string().contains("zoe.aberg@contoso.example"))
        .unwrap()
        .clone();
    let mut slack = zoe.clone();
    slack["changeId"] = serde_json::json!("51ac0000-0000-4000-8000-000000000001");
    slack["servicePrincipal"] = serde_json::json!({"id": "s1", "displayName": "Slack"});
    let mut inbound = zoe.clone();
    inbound["changeId"] = serde_json::json!("1b0d0000-0000-4000-8000-000000000002");
    inbound["servicePrincipal"] =
        serde_json::json!({"id": "w1", "displayName": "Workday to Microsoft Entra ID"});
    inbound["targetSystem"] = serde_json::json!({"displayName": "Microsoft Entra ID"});
    entries.extend([slack, inbound]);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tenant.json");
    std::fs::write(&path, serde_json::Value::Array(entries).to_string()).unwrap();
    let replay = |app: Option<&str>| {
        let mut cmd = cargo_bin_cmd!("scimcheck");
        cmd.current_dir(dir.path())
            .args(["replay", "--entra-log"])
            .arg(&path)
            .args(["--user", "zoe.aberg@contoso.example"]);
        if let Some(app) = app {
            cmd.args(["--app", app]);
        }
        let output = cmd.output().unwrap();
        (
            output.status.code(),
            String::from_utf8_lossy(&output.stdout).into_owned(),
            String::from_utf8_lossy(&output.stderr).into_owned(),
        )
    };
    let (code, _, stderr) = replay(None);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(
        stderr.contains("the log holds the changes of 3 apps"),
        "{stderr}"
    );
    assert!(stderr.contains("--app NAME"), "{stderr}");
    let (code, stdout, stderr) = replay(Some("zscaler two"));
    assert_eq!(code, Some(0), "{stdout}{stderr}");
    assert!(
        stdout.contains("PASS entra-log-replay::create_5a4b3c2d1e0f"),
        "{stdout}"
    );
    assert!(!stdout.contains("51ac0000"), "{stdout}");
    let (code, stdout, stderr) = replay(Some("Workday to Microsoft Entra ID"));
    assert_eq!(code, Some(2), "{stdout}{stderr}");
    assert!(
        stdout.contains(
            "an inbound change, made in Microsoft Entra ID, not a request to an app: not replayed"
        ),
        "{stdout}"
    );
}

/// A rule of a schema download, shaped as Graph writes one.
fn rule(
    name: &str,
    source: &str,
    target: &str,
    object: &str,
    mappings: serde_json::Value,
) -> serde_json::Value {
    serde_json::json!({
        "id": name, "name": name, "editable": true, "metadata": [],
        "sourceDirectoryName": source, "targetDirectoryName": target,
        "objectMappings": [{
            "enabled": true, "flowTypes": "Add, Update, Delete",
            "name": format!("Provision {source} {object}"),
            "sourceObjectName": "User", "targetObjectName": object,
            "attributeMappings": mappings, "scope": null, "metadata": []
        }]
    })
}

fn plain(source: &str, target: &str) -> serde_json::Value {
    serde_json::json!({"source": {"expression": format!("[{source}]"), "name": source, "type": "Attribute", "parameters": []},
        "targetAttributeName": target, "flowType": "Always", "matchingPriority": 0, "defaultValue": null})
}

#[test]
fn what_is_not_outbound_scim_is_told_for_what_it_is_and_nothing_is_sent() {
    // A gallery app whose connector speaks its own API (Salesforce's shape).
    let salesforce = rule(
        "USER_TO_SALESFORCE",
        "Azure Active Directory",
        "Salesforce",
        "User",
        serde_json::json!([
            plain("userPrincipalName", "Username"),
            plain("mailNickname", "Alias"),
            plain("accountEnabled", "IsActive")
        ]),
    );
    // Cloud sync: Active Directory into Entra ID, with functions of its own.
    let mut trim = plain("displayName", "displayName");
    trim["source"] = serde_json::json!({"expression": "Trim([displayName])", "name": "Trim", "type": "Function",
        "parameters": [{"key": "source", "value": {"name": "displayName", "type": "Attribute"}}]});
    let cloud_sync = rule(
        "AD2AADProvisioning",
        "Active Directory",
        "Azure Active Directory",
        "User",
        serde_json::json!([trim]),
    );
    // Inbound provisioning: an HR app into Entra ID.
    let inbound = rule(
        "HR_TO_AAD",
        "Workday",
        "Azure Active Directory",
        "User",
        serde_json::json!([plain("WorkerID", "employeeId")]),
    );
    for (rules, needles) in [
        (
            vec![salesforce],
            vec![
                "Entra ID → Salesforce goes through a connector of the app's own API, not SCIM (its attributes are Username, Alias, IsActive",
            ],
        ),
        (
            vec![cloud_sync],
            vec!["Active Directory → Azure Active Directory is cloud sync"],
        ),
        (
            vec![inbound.clone()],
            vec!["Workday → Azure Active Directory is inbound provisioning"],
        ),
    ] {
        let export = serde_json::json!({"id": "x", "synchronizationRules": rules}).to_string();
        let (stderr, received) = refused(&export, &[]);
        for needle in needles.iter().chain(&[
            "nothing to replay",
            "download the schema of that app's provisioning job",
            "nothing was sent",
        ]) {
            assert!(stderr.contains(needle), "{needle:?} not in:\n{stderr}");
        }
        assert!(!stderr.contains("no such function"), "{stderr}");
        assert_eq!(received, 0);
    }
    // Beside an outbound SCIM rule: that one is replayed, the other told.
    let mut export: serde_json::Value = serde_json::from_str(EXPORT).unwrap();
    export["synchronizationRules"]
        .as_array_mut()
        .unwrap()
        .push(inbound);
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("export.json");
    std::fs::write(&file, export.to_string()).unwrap();
    let output = cargo_bin_cmd!("scimcheck")
        .current_dir(dir.path())
        .args(["replay", "--entra-schema"])
        .arg(&file)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(0), "{stdout}");
    assert!(stdout.contains("scimcheck: synchronizationRules[1] (HR_TO_AAD): Workday → Azure Active Directory is inbound provisioning"), "{stdout}");
    assert!(
        stdout.contains("PASS entra-replay-users::user_zoe_aberg"),
        "{stdout}"
    );
}

#[test]
fn a_provision_on_demand_answer_replays_as_the_download_does() {
    let log = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("examples/entra/zscaler-two-provisioning-log.json");
    let download: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&log).unwrap()).unwrap();
    let list = download
        .as_array()
        .cloned()
        .or_else(|| download["value"].as_array().cloned())
        .unwrap();
    let zoe = list
        .into_iter()
        .find(|e| {
            e["sourceIdentity"]["details"]["UserPrincipalName"] == "zoe.aberg@contoso.example"
        })
        .unwrap();
    // Graph's provisionOnDemand answer: the entry, in beta's names and
    // capitalized enums, written as JSON into the `value` string; the UPN
    // only as the reportable identifier.
    let info = &zoe["provisioningStatusInfo"];
    let steps: Vec<serde_json::Value> = zoe["provisioningSteps"].as_array().unwrap().iter().map(|s| {
        let cap = |v: &serde_json::Value| { let t = v.as_str().unwrap(); format!("{}{}", t[..1].to_uppercase(), &t[1..]) };
        serde_json::json!({"name": s["name"], "type": cap(&s["provisioningStepType"]), "status": cap(&s["status"]),
            "description": s["description"], "timestamp": zoe["activityDateTime"], "details": {}})
    }).collect();
    let entry = serde_json::json!({
        "action": "Create", "changeId": zoe["changeId"], "cycleId": zoe["cycleId"],
        "startTime": zoe["activityDateTime"], "endTime": zoe["activityDateTime"],
        "modifiedProperties": zoe["modifiedProperties"], "provisioningSteps": steps,
        "reportableIdentifier": "zoe.aberg@contoso.example",
        "statusInfo": {"status": "Failure", "errorCode": info["errorInformation"]["errorCode"], "reason": info["errorInformation"]["reason"],
            "additionalDetails": null, "errorCategory": "NonServiceFailure", "recommendedAction": null},
        "sourceIdentity": {"id": zoe["sourceIdentity"]["id"], "type": "User", "displayName": zoe["sourceIdentity"]["displayName"], "details": null},
        "sourceSystem": {"id": null, "name": "Azure Active Directory", "details": null},
        "targetIdentity": {"id": null, "type": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User", "displayName": null, "details": null},
        "targetSystem": {"id": null, "name": "customappsso", "details": null}
    });
    let answer = serde_json::json!({
        "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#microsoft.graph.stringKeyStringValuePair",
        "key": serde_json::json!({"result": "Failure", "details": {"errorCode": info["errorInformation"]["errorCode"]}}).to_string(),
        "value": entry.to_string(),
    });
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("on-demand.json");
    std::fs::write(&path, answer.to_string()).unwrap();
    replay_zoe(&path);
}

#[test]
fn group_changes_in_a_log_are_replayed_as_entra_sends_them() {
    // Graph v1.0 entries of a group's create, rename with member changes
    // (members named by Entra object ids), and delete.
    let entry = |id: &str, action: &str, modified: serde_json::Value| {
        serde_json::json!({
            "changeId": id, "cycleId": "c9", "activityDateTime": "2026-12-01T08:00:00Z",
            "provisioningAction": action,
            "servicePrincipal": {"id": "11111111-2222-3333-4444-555555555555", "displayName": "Zscaler Two"},
            "sourceIdentity": {"id": "7d1e", "displayName": "Finance team", "identityType": "Group", "details": {}},
            "targetSystem": {"displayName": "Zscaler Two", "details": {}},
            "modifiedProperties": modified,
            "provisioningStatusInfo": {"status": "success"}
        })
    };
    let log = serde_json::json!({"value": [
        entry("0a0a0a0a-0001", "create", serde_json::json!([
            {"displayName": "displayName", "oldValue": null, "newValue": "Finance team"}
        ])),
        entry("0a0a0a0a-0002", "update", serde_json::json!([
            {"displayName": "displayName", "oldValue": "Finance team", "newValue": "Finance & Controlling"},
            {"displayName": "members", "oldValue": "[\"u-3\"]", "newValue": "[\"u-1\",\"u-2\"]"}
        ])),
        entry("0a0a0a0a-0003", "delete", serde_json::json!([])),
    ]});
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("groups-log.json");
    std::fs::write(&path, log.to_string()).unwrap();
    let output = cargo_bin_cmd!("scimcheck")
        .current_dir(dir.path())
        .args(["replay", "--entra-log"])
        .arg(&path)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(0), "{stdout}");
    for line in [
        "PASS entra-log-replay::group_create_0a0a0a0a0001",
        "PASS entra-log-replay::group_update_0a0a0a0a0002",
        "PASS entra-log-replay::group_delete_0a0a0a0a0003",
        "3 passed, 0 failed",
    ] {
        assert!(stdout.contains(line), "{line:?} not in:\n{stdout}");
    }
    let suite =
        std::fs::read_to_string(dir.path().join("scimcheck-replay/entra-log-replay.yaml")).unwrap();
    let suite: serde_json::Value = serde_saphyr::from_str(&suite).unwrap();
    let update = suite["scenarios"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["id"] == "group_update_0a0a0a0a0002")
        .unwrap();
    let step = |id: &str| {
        update["steps"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["id"] == id)
            .unwrap_or_else(|| panic!("no {id}: {update}"))
            .clone()
    };
    assert_eq!(
        step("add_members")["request"]["json"]["Operations"],
        serde_json::json!([{"op": "Add", "path": "members", "value": [{"value": "{{ member_0_id }}"}, {"value": "{{ member_1_id }}"}]}])
    );
    assert_eq!(
        step("remove_members")["request"]["json"]["Operations"],
        serde_json::json!([{"op": "Remove", "path": "members", "value": [{"value": "{{ member_2_id }}"}]}])
    );
    assert_eq!(
        step("rename")["request"]["json"]["Operations"][0]["value"],
        "scimcheck-{{ run_id }}-Finance & Controlling"
    );
    assert_eq!(
        step("match")["request"]["query"]["excludedAttributes"],
        "members"
    );
}
