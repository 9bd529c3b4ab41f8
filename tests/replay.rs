//! The Entra replay end to end: the worked example's export, derived into
//! suites with the built-in users, run against the double (everything
//! holds) and against a double that drops the department (the finding
//! names the mapping, the value sent and the value returned).

mod common;

use scimcheck::exec::Outcome;
use scimcheck::generate::entra::{export, traffic, users};
use scimcheck::runner::{self, SuiteSources};

const EXPORT: &str = include_str!("../examples/entra/zscaler-two-export.json");

fn derive_into(dir: &std::path::Path) -> traffic::Derivation {
    let export = export::read(EXPORT).unwrap();
    let derivation = traffic::derive(
        &export,
        &users::builtin_users(),
        &users::builtin_groups(),
        &traffic::Options {
            seed: 42,
            now: time::OffsetDateTime::UNIX_EPOCH,
            export_name: "zscaler-two-export.json".into(),
            default_domain: None,
        },
    )
    .unwrap();
    for suite in &derivation.suites {
        std::fs::write(dir.join(&suite.file_name), suite.text()).unwrap();
    }
    derivation
}

/// `scenario › step: failures` of every failed step.
/// The worked example with the user mapping's scoping filter `scope`.
fn scoped(scope: serde_json::Value) -> scimcheck::generate::entra::export::Export {
    let mut export: serde_json::Value = serde_json::from_str(EXPORT).unwrap();
    export["synchronizationRules"][0]["objectMappings"][0]["scope"] = scope;
    export::read(&export.to_string()).unwrap()
}

/// The traffic of `export` for `sample` users, seeded and dated alike.
/// The worked export with one more attribute mapping on its user object.
fn with_mapping(mapping: serde_json::Value) -> scimcheck::generate::entra::export::Export {
    let mut export: serde_json::Value = serde_json::from_str(EXPORT).unwrap();
    export["synchronizationRules"][0]["objectMappings"][0]["attributeMappings"]
        .as_array_mut()
        .unwrap()
        .push(mapping);
    export::read(&export.to_string()).unwrap()
}

/// A mapping of the portal's type None: no source, the default en-US.
fn preferred_language(flow_behavior: &str) -> serde_json::Value {
    serde_json::json!({
        "defaultValue": "en-US",
        "exportMissingReferences": false,
        "flowBehavior": flow_behavior,
        "flowType": "Always",
        "matchingPriority": 0,
        "source": null,
        "targetAttributeName": "preferredLanguage"
    })
}

fn derive_for(
    export: &scimcheck::generate::entra::export::Export,
    sample: &[scimcheck::generate::entra::users::SourceObject],
) -> traffic::Derivation {
    traffic::derive(
        export,
        sample,
        &users::builtin_groups(),
        &traffic::Options {
            seed: 1,
            now: time::OffsetDateTime::UNIX_EPOCH,
            export_name: "x.json".into(),
            default_domain: None,
        },
    )
    .unwrap()
}

fn failed_steps(results: &[scimcheck::exec::ScenarioResult]) -> Vec<String> {
    results
        .iter()
        .flat_map(|r| {
            r.steps
                .iter()
                .filter(|s| s.failed())
                .map(move |s| format!("{} › {}: {:?}", r.full_name, s.id, s.failures))
        })
        .collect()
}

async fn run(
    dir: &std::path::Path,
    double: &scimcheck::double::Double,
) -> Vec<scimcheck::exec::ScenarioResult> {
    let plan = runner::load_plan(&SuiteSources {
        builtin: false,
        dirs: vec![dir.to_path_buf()],
    })
    .unwrap_or_else(|e| panic!("the derived suites do not load: {e}"));
    let snapshots = tempfile::tempdir().unwrap();
    let settings = common::settings(common::target(&double.base_url()), snapshots.path());
    runner::run(&plan, settings).await.unwrap().results
}

#[tokio::test]
async fn the_worked_example_replays_cleanly_against_the_double() {
    let dir = tempfile::tempdir().unwrap();
    let derivation = derive_into(dir.path());
    let names: Vec<&str> = derivation
        .suites
        .iter()
        .map(|s| s.file_name.as_str())
        .collect();
    assert_eq!(
        names,
        ["entra-replay-users.yaml", "entra-replay-groups.yaml"]
    );
    // Three users provisioned; the disabled one is not, and says why.
    let notes = derivation.notes.join("\n");
    assert!(notes.contains("Former Employee (former.employee@contoso.example): not provisioned: IsSoftDeleted is true"), "{notes}");
    assert_eq!(
        notes.matches(": provisioned (no scoping filter)").count(),
        4,
        "{notes}"
    );
    let double = common::double().await;
    let results = run(dir.path(), &double).await;
    let failures = failed_steps(&results);
    assert!(failures.is_empty(), "{failures:#?}");
    let not_run: Vec<String> = results
        .iter()
        .flat_map(|r| {
            r.steps
                .iter()
                .filter(|s| s.not_run.is_some())
                .map(move |s| format!("{} › {}", r.full_name, s.id))
        })
        .collect();
    assert!(not_run.is_empty(), "{not_run:?}");
    let steps: usize = results.iter().map(|r| r.steps.len()).sum();
    assert!(steps > 60, "{steps} steps");
    // Everything it created is gone.
    let prefix = "scimcheck-";
    let service = double.service();
    let left = service
        .lock()
        .unwrap()
        .handle(&common::request("GET", "/Users"));
    let body = left.body.unwrap();
    assert!(
        body["Resources"]
            .as_array()
            .unwrap()
            .iter()
            .all(|u| !u["userName"].as_str().unwrap().starts_with(prefix)),
        "{body}"
    );
}

#[tokio::test]
async fn a_dropped_department_is_told_by_its_mapping() {
    let dir = tempfile::tempdir().unwrap();
    derive_into(dir.path());
    let enterprise = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
    let double = common::tampered_double(
        wiremock::Mock::given(wiremock::matchers::method("GET")),
        move |_, response| {
            if let Some(body) = response.body.as_mut()
                && let Some(ext) = body.get_mut(enterprise).and_then(|e| e.as_object_mut())
            {
                ext.insert("department".into(), serde_json::json!("Sales"));
            }
        },
    )
    .await;
    let results = run(dir.path(), &double).await;
    let zoe = results
        .iter()
        .find(|r| r.full_name.ends_with("user_zoe_aberg"))
        .unwrap();
    assert_eq!(zoe.outcome, Outcome::Failed);
    let failed: Vec<&str> = zoe
        .steps
        .iter()
        .filter(|s| s.failed())
        .map(|s| s.id.as_str())
        .collect();
    assert_eq!(
        failed,
        ["kept_on_create", "kept_update_legacy", "kept_update_flag"]
    );
    // One difference, named by its mapping, with what was sent and what came back.
    let step = zoe.steps.iter().find(|s| s.id == "kept_on_create").unwrap();
    assert_eq!(step.failures.len(), 1, "{:?}", step.failures);
    let failure = &step.failures[0];
    assert_eq!(
        format!("{}: {}", failure.check, failure.message),
        "json /urn:ietf:params:scim:schemas:extension:enterprise:2.0:User/department (department ← [department]): expected \"Finance\", got \"Sales\""
    );
    let flag = zoe
        .steps
        .iter()
        .find(|s| s.id == "kept_update_flag")
        .unwrap();
    assert!(
        flag.failures[0]
            .message
            .contains("expected \"Finance 2 2\""),
        "{:?}",
        flag.failures
    );
}

#[test]
fn the_suites_carry_entras_wire_format_exactly() {
    let dir = tempfile::tempdir().unwrap();
    let derivation = derive_into(dir.path());
    let text = &derivation.suites[0].text();
    let suite: serde_json::Value = serde_saphyr::from_str(text).unwrap();
    let zoe = by_id(&suite["scenarios"], "user_zoe_aberg");
    let step = |id: &str| by_id(&zoe["steps"], id);
    // Without the flag, the string "False"; with it, the boolean.
    assert_eq!(
        step("disable_legacy")["request"]["json"]["Operations"][0],
        serde_json::json!({"op": "Replace", "path": "active", "value": "False"})
    );
    assert_eq!(
        step("disable_flag")["request"]["json"]["Operations"][0],
        serde_json::json!({"op": "replace", "path": "active", "value": false})
    );
    assert_eq!(
        step("disable_legacy")["request"]["headers"],
        serde_json::json!({"content-type": "application/scim+json; charset=utf-8"})
    );
    // Without the flag, one op per attribute; with it, a path-less replace
    // of the plain ones and an op with a path for the multi-valued one.
    let legacy = &step("update_legacy")["request"]["json"]["Operations"];
    assert_eq!(
        legacy[0],
        serde_json::json!({"op": "Replace", "path": "userName", "value": "scimcheck-{{ run_id }}-zoe.aberg.2@contoso.example"})
    );
    assert_eq!(legacy.as_array().unwrap().len(), 6, "{legacy}");
    let flag = &step("update_flag")["request"]["json"]["Operations"];
    assert_eq!(flag[0]["op"], "replace");
    assert_eq!(flag[0]["value"]["name.givenName"], "Zoë 2 2");
    assert_eq!(
        flag[0]["value"]["urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department"],
        "Finance 2 2"
    );
    assert_eq!(
        flag[1],
        serde_json::json!({"op": "replace", "path": "emails[type eq \"work\"].value", "value": "scimcheck-{{ run_id }}-zoe.aberg.2.2@contoso.example"})
    );
    let create = step("create")["request"]["json"].clone();
    assert_eq!(create["active"], serde_json::json!(true));
    assert_eq!(
        create["userName"],
        serde_json::json!("scimcheck-{{ run_id }}-zoe.aberg@contoso.example")
    );
    assert_eq!(
        create["emails"],
        serde_json::json!([{"primary": true, "type": "work", "value": "scimcheck-{{ run_id }}-zoe.aberg@contoso.example"}])
    );
    assert_eq!(
        create["name"],
        serde_json::json!({"givenName": "Zoë", "familyName": "Åberg"})
    );
    assert_eq!(
        create["urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],
        serde_json::json!({"department": "Finance"})
    );
    assert_eq!(
        step("match_username")["request"]["query"]["filter"],
        serde_json::json!("userName eq \"scimcheck-{{ run_id }}-zoe.aberg@contoso.example\"")
    );
    // Kofi has no mail, surname nor department: none is sent.
    let kofi = by_id(&suite["scenarios"], "user_kofi");
    let body = &by_id(&kofi["steps"], "create")["request"]["json"];
    assert!(
        body.get("emails").is_none() && body["name"].get("familyName").is_none(),
        "{body}"
    );
}

#[test]
fn a_mapping_with_no_source_sends_its_default_to_every_user() {
    // The portal's mapping type None with a default: `"source": null`.
    let export = with_mapping(preferred_language("FlowWhenChanged"));
    let derivation = derive_for(&export, &users::builtin_users());
    let creates = creates(&derivation);
    assert!(!creates.is_empty());
    for create in creates {
        assert_eq!(
            create["request"]["json"]["preferredLanguage"], "en-US",
            "{create}"
        );
    }
    // Neither a source nor a default: refused, with where and why.
    let mut export: serde_json::Value = serde_json::from_str(EXPORT).unwrap();
    export["synchronizationRules"][0]["objectMappings"][0]["attributeMappings"][6]["source"] =
        serde_json::Value::Null;
    let e = export::read(&export.to_string()).unwrap_err().to_string();
    assert!(
        e.starts_with("synchronizationRules[0].objectMappings[0].attributeMappings[6]: no source and no defaultValue"),
        "{e}"
    );
}

/// The item of a JSON list (`scenarios`, `steps`) with this `id`.
fn by_id(list: &serde_json::Value, id: &str) -> serde_json::Value {
    list.as_array()
        .and_then(|items| items.iter().find(|item| item["id"] == id))
        .unwrap_or_else(|| panic!("no {id} in {list}"))
        .clone()
}

/// The scenario `id` of the derivation's first suite.
fn scenario_of(derivation: &traffic::Derivation, id: &str) -> serde_json::Value {
    by_id(&derivation.suites[0].suite["scenarios"], id)
}

/// The `create` steps of every user scenario of the derivation's first suite.
fn creates(derivation: &traffic::Derivation) -> Vec<serde_json::Value> {
    derivation.suites[0].suite["scenarios"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|s| {
            s["steps"]
                .as_array()?
                .iter()
                .find(|st| st["id"] == "create")
                .cloned()
        })
        .collect()
}

#[test]
fn a_tree_without_an_expression_is_evaluated_by_its_parameter_keys() {
    // Graph's shape: no `expression`, the arguments named by key, the
    // omitted ones left out, and not in the reference's order.
    let export = with_mapping(serde_json::json!({
        "flowType": "Always",
        "matchingPriority": 0,
        "source": {
            "name": "Replace", "type": "Function",
            "parameters": [
                { "key": "source", "value": { "name": "mail", "type": "Attribute" } },
                { "key": "replacementValue", "value": { "name": " at ", "type": "Constant" } },
                { "key": "oldValue", "value": { "name": "@", "type": "Constant" } }
            ]
        },
        "targetAttributeName": "title"
    }));
    let derivation = derive_for(&export, &users::builtin_users());
    // Users without a mail have no title (Replace of null is null).
    let titles: Vec<String> = creates(&derivation)
        .iter()
        .filter_map(|c| c["request"]["json"]["title"].as_str().map(str::to_string))
        .collect();
    assert!(titles.len() >= 2, "{}", derivation.notes.join("\n"));
    for title in titles {
        assert!(title.contains(" at ") && !title.contains('@'), "{title}");
    }
}

#[test]
fn expressions_see_the_customers_values_and_only_their_results_are_made_run_unique() {
    // Graph's own example: the first eight characters of the UPN.
    let mut export: serde_json::Value = serde_json::from_str(EXPORT).unwrap();
    let mappings = export["synchronizationRules"][0]["objectMappings"][0]["attributeMappings"]
        .as_array_mut()
        .unwrap();
    let user_name = mappings
        .iter_mut()
        .find(|m| m["targetAttributeName"] == "userName")
        .unwrap();
    user_name["source"] = serde_json::json!({"expression": "Mid([userPrincipalName], 1, 8)", "name": "Mid", "type": "Function", "parameters": [
        {"key": "source", "value": {"name": "userPrincipalName", "type": "Attribute"}},
        {"key": "start", "value": {"name": "1", "type": "Constant"}},
        {"key": "length", "value": {"name": "8", "type": "Constant"}}
    ]});
    // A scoping clause on the UPN as the customer wrote it.
    export["synchronizationRules"][0]["objectMappings"][0]["scope"] = serde_json::json!({
        "groups": [{ "name": "Z", "clauses": [
            { "operatorName": "REGEX MATCH", "sourceOperandName": "userPrincipalName", "targetOperand": { "values": ["^zoe\\."] } }
        ]}]
    });
    let export = export::read(&export.to_string()).unwrap();
    let derivation = derive_for(&export, &users::builtin_users());
    let notes = derivation.notes.join("\n");
    assert!(
        notes.contains("Zoë Åberg (zoe.aberg@contoso.example): provisioned"),
        "{notes}"
    );
    assert!(
        notes.contains("then sent as `scimcheck-<run id>-` followed by what Entra sends"),
        "{notes}"
    );
    let creates = creates(&derivation);
    assert_eq!(creates.len(), 1, "{notes}");
    assert_eq!(
        creates[0]["request"]["json"]["userName"],
        "scimcheck-{{ run_id }}-zoe.aber"
    );
    // The lookup asks for what the create sends.
    let scenario = scenario_of(&derivation, "user_zoe_aberg").to_string();
    assert!(
        scenario.contains(r#"userName eq \"scimcheck-{{ run_id }}-zoe.aber\""#),
        "{scenario}"
    );
}

#[test]
fn a_single_app_role_into_a_plain_attribute_is_sent_and_checked_there() {
    // Microsoft's example maps SingleAppRoleAssignment to a string attribute.
    let mut export: serde_json::Value = serde_json::from_str(EXPORT).unwrap();
    export["synchronizationRules"][0]["objectMappings"][0]["attributeMappings"]
        .as_array_mut()
        .unwrap()
        .push(serde_json::json!({
            "defaultValue": null,
            "flowType": "Always",
            "matchingPriority": 0,
            "source": {
                "expression": "SingleAppRoleAssignment([appRoleAssignments])",
                "name": "SingleAppRoleAssignment",
                "type": "Function",
                "parameters": [{ "key": "source", "value": { "name": "appRoleAssignments", "type": "Attribute", "parameters": [] } }]
            },
            "targetAttributeName": "title"
        }));
    let export = export::read(&export.to_string()).unwrap();
    let people = serde_json::json!([{
        "userPrincipalName": "ana.role@contoso.example",
        "mail": "ana.role@contoso.example",
        "mailNickname": "ana.role",
        "displayName": "Ana Role",
        "givenName": "Ana",
        "surname": "Role",
        "department": "Sales",
        "accountEnabled": true,
        "appRoleAssignments": [
            { "id": "06b07648-ecfe-589f-9d2f-6325724a46ee", "value": "Admin", "displayName": "Administrator" }
        ]
    }]);
    let sample = users::read_users(&people.to_string()).unwrap();
    let derivation = derive_for(&export, &sample);
    let suite = &derivation.suites[0].suite;
    let ana = suite["scenarios"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| {
            s["id"]
                .as_str()
                .is_some_and(|id| id.starts_with("user_ana"))
        })
        .unwrap_or_else(|| panic!("{}", derivation.notes.join("\n")));
    let step = |id: &str| by_id(&ana["steps"], id);
    assert_eq!(step("create")["request"]["json"]["title"], "Admin");
    let kept = step("kept_on_create").to_string();
    assert!(
        kept.contains("/title") && !kept.contains("/roles"),
        "{kept}"
    );
}

#[test]
fn a_mapping_that_provisions_no_sample_user_says_nothing_of_it_was_exercised() {
    let export = scoped(serde_json::json!({
        "groups": [{ "name": "Nobody", "clauses": [
            { "operatorName": "EQUALS", "sourceOperandName": "department", "targetOperand": { "values": ["No such department"] } }
        ]}]
    }));
    let derivation = derive_for(&export, &users::builtin_users());
    let notes = derivation.notes.join("\n");
    assert!(
        notes.contains("no sample user is provisioned by this mapping (see above): only Test Connection is replayed, and nothing of its attribute mappings is exercised"),
        "{notes}"
    );
    // With the users in scope, no such word.
    let export = export::read(EXPORT).unwrap();
    let derivation = derive_for(&export, &users::builtin_users());
    assert!(!derivation.notes.join("\n").contains("no sample user"));
}

#[tokio::test]
async fn scoping_filters_decide_who_is_provisioned_and_leaving_the_scope_disables() {
    let export = scoped(serde_json::json!({
        "groups": [{ "name": "Finance and Sales", "clauses": [
            { "operatorName": "REGEX MATCH", "sourceOperandName": "department", "targetOperand": { "values": ["^(Finance|Sales)$"] } }
        ]}]
    }));
    let derivation = derive_for(&export, &users::builtin_users());
    let notes = derivation.notes.join("\n");
    assert!(
        notes.contains("Kofi (kofi@contoso.example): not provisioned: out of scope: no scoping filter group holds (`Finance and Sales`: department is null, not REGEX MATCH ^(Finance|Sales)$)"),
        "{notes}"
    );
    assert!(notes.contains("Zoë Åberg (zoe.aberg@contoso.example): provisioned (scoping filter group `Finance and Sales` holds)"), "{notes}");
    let suite = &derivation.suites[0].suite;
    let zoe = by_id(&suite["scenarios"], "user_zoe_aberg");
    let leaves = by_id(&zoe["steps"], "leaves_scope");
    assert_eq!(
        leaves["request"]["json"]["Operations"][0],
        serde_json::json!({"op": "Replace", "path": "active", "value": "False"})
    );
    // And it runs: the double disables the user.
    let dir = tempfile::tempdir().unwrap();
    for suite in &derivation.suites {
        std::fs::write(dir.path().join(&suite.file_name), suite.text()).unwrap();
    }
    let double = common::double().await;
    let results = run(dir.path(), &double).await;
    let zoe = results
        .iter()
        .find(|r| r.full_name.ends_with("user_zoe_aberg"))
        .unwrap();
    assert_eq!(
        zoe.outcome,
        Outcome::Passed,
        "{:?}",
        zoe.steps.iter().filter(|s| s.failed()).collect::<Vec<_>>()
    );
    assert!(zoe.steps.iter().any(|s| s.id == "kept_leaves_scope"));
}

#[tokio::test]
async fn the_replay_holds_against_every_rfc_legal_variant_of_the_double() {
    use scimcheck::double::variant::{Variant, Variants};
    let dir = tempfile::tempdir().unwrap();
    derive_into(dir.path());
    for variant in Variant::ALL {
        let double = scimcheck::double::Double::start_with_variants(
            Some(common::TOKEN.into()),
            Variants::of([variant]),
        )
        .await;
        let results = run(dir.path(), &double).await;
        let failed = failed_steps(&results);
        assert!(failed.is_empty(), "{}: {failed:#?}", variant.name());
    }
}

#[test]
fn seeded_values_differ_from_user_to_user_and_repeat_from_run_to_run() {
    let mut export: serde_json::Value = serde_json::from_str(EXPORT).unwrap();
    export["synchronizationRules"][0]["objectMappings"][0]["attributeMappings"]
        .as_array_mut()
        .unwrap()
        .push(serde_json::json!({
            "targetAttributeName": "externalId", "flowType": "ObjectAddOnly",
            "source": { "expression": "Guid()", "type": "Function", "name": "Guid", "parameters": [] }
        }));
    let export = export::read(&export.to_string()).unwrap();
    let external_ids = || {
        let derivation = traffic::derive(
            &export,
            &users::builtin_users(),
            &users::builtin_groups(),
            &traffic::Options {
                seed: 9,
                now: time::OffsetDateTime::UNIX_EPOCH,
                export_name: "x.json".into(),
                default_domain: None,
            },
        )
        .unwrap();
        creates(&derivation)
            .iter()
            .map(|create| {
                create["request"]["json"]["externalId"]
                    .as_str()
                    .unwrap()
                    .to_string()
            })
            .collect::<Vec<_>>()
    };
    let first = external_ids();
    assert_eq!(first.len(), 3);
    let distinct: std::collections::BTreeSet<_> = first.iter().collect();
    assert_eq!(distinct.len(), 3, "{first:?}");
    assert_eq!(first, external_ids());
}

#[test]
fn a_mapping_that_flows_always_is_sent_with_every_update() {
    // The same constant mapping, once FlowWhenChanged (Graph's default)
    // and once FlowAlways: only the second is in Entra's update PATCHes.
    let patched = |behaviour: &str| {
        let export = with_mapping(preferred_language(behaviour));
        let derivation = derive_for(&export, &users::builtin_users());
        let suite = &derivation.suites[0].suite;
        suite["scenarios"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|s| s["steps"].as_array().cloned().unwrap_or_default())
            // The update PATCHes (the null update empties it whatever its flow).
            .filter(|st| {
                st["id"]
                    .as_str()
                    .is_some_and(|id| id.starts_with("update_"))
            })
            .filter(|st| {
                st["request"]["json"]
                    .to_string()
                    .contains("preferredLanguage")
            })
            .count()
    };
    assert_eq!(patched("FlowWhenChanged"), 0);
    assert!(patched("FlowAlways") > 0);
    // An unknown behaviour is refused with where and why.
    let mut export: serde_json::Value = serde_json::from_str(EXPORT).unwrap();
    export["synchronizationRules"][0]["objectMappings"][0]["attributeMappings"][0]["flowBehavior"] =
        serde_json::json!("FlowSometimes");
    let e = export::read(&export.to_string()).unwrap_err().to_string();
    assert!(e.contains("unknown flowBehavior `FlowSometimes`"), "{e}");
}

#[test]
fn leaving_an_input_filter_sends_nothing_and_leaving_the_scoping_groups_disables() {
    let finance = serde_json::json!([{ "name": "Finance", "clauses": [
        { "operatorName": "EQUALS", "sourceOperandName": "department", "targetOperand": { "values": ["Finance"] } }
    ]}]);
    let steps_of_zoe = |key: &str| {
        let derivation = derive_for(
            &scoped(serde_json::json!({ key: finance })),
            &users::builtin_users(),
        );
        let notes = derivation.notes.join("\n");
        let zoe = scenario_of(&derivation, "user_zoe_aberg");
        let ids: Vec<String> = zoe["steps"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["id"].as_str().unwrap().to_string())
            .collect();
        (ids, notes)
    };
    let (ids, notes) = steps_of_zoe("inputFilterGroups");
    assert!(
        notes.contains("provisioned (input filter group `Finance` holds)"),
        "{notes}"
    );
    assert!(!ids.iter().any(|i| i == "leaves_scope"), "{ids:?}");
    let (ids, notes) = steps_of_zoe("groups");
    assert!(
        notes.contains("provisioned (scoping filter group `Finance` holds)"),
        "{notes}"
    );
    assert!(ids.iter().any(|i| i == "leaves_scope"), "{ids:?}");
}

#[test]
fn a_value_the_app_lacks_is_added_through_its_filter_in_both_dialects() {
    // Kofi has no mail: his work email is created by the update, as Entra
    // does, with `Add` (a `replace` matching nothing is 400 noTarget, RFC
    // 7644 3.5.2.3).
    let derivation = derive_for(&export::read(EXPORT).unwrap(), &users::builtin_users());
    let kofi = scenario_of(&derivation, "user_kofi");
    let ops = |id: &str| by_id(&kofi["steps"], id)["request"]["json"]["Operations"].clone();
    let email_op = |id: &str| {
        ops(id)
            .as_array()
            .unwrap()
            .iter()
            .find(|o| o["path"] == "emails[type eq \"work\"].value")
            .unwrap_or_else(|| panic!("{id}: {}", ops(id)))["op"]
            .clone()
    };
    assert_eq!(email_op("update_legacy"), "Add");
    assert_eq!(email_op("update_flag"), "add");
}

#[test]
fn default_domain_is_the_tenants_or_that_of_the_sample_users() {
    let export = with_mapping(serde_json::json!({
        "flowType": "Always", "matchingPriority": 0, "targetAttributeName": "title",
        "source": {"expression": "Join(\"@\", [mailNickname], DefaultDomain())", "type": "Function"}
    }));
    let derive_titles = |default_domain: Option<&str>| {
        let derivation = traffic::derive(
            &export,
            &users::builtin_users(),
            &users::builtin_groups(),
            &traffic::Options {
                seed: 1,
                now: time::OffsetDateTime::UNIX_EPOCH,
                export_name: "x.json".into(),
                default_domain: default_domain.map(str::to_string),
            },
        )
        .unwrap();
        let titles: Vec<String> = creates(&derivation)
            .iter()
            .filter_map(|c| c["request"]["json"]["title"].as_str().map(str::to_string))
            .collect();
        (titles, derivation.notes.join("\n"))
    };
    let (titles, notes) = derive_titles(None);
    assert!(
        titles.contains(&"zoe.aberg@contoso.example".to_string()),
        "{titles:?}"
    );
    assert!(
        notes.contains(
            "DefaultDomain() is `contoso.example`, the domain of most sample users' principal names"
        ),
        "{notes}"
    );
    let (titles, notes) = derive_titles(Some("fabrikam.com"));
    assert!(
        titles.contains(&"zoe.aberg@fabrikam.com".to_string()),
        "{titles:?}"
    );
    assert!(
        notes.contains("DefaultDomain() is `fabrikam.com` (--default-domain)"),
        "{notes}"
    );
}

/// The worked export with the manager mapped, derived into `dir`.
fn derive_with_manager(dir: &std::path::Path) {
    let export = with_mapping(serde_json::json!({
        "flowType": "Always", "matchingPriority": 0,
        "source": {"expression": "[manager]", "name": "manager", "type": "Attribute"},
        "targetAttributeName": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager"
    }));
    for suite in derive_for(&export, &users::builtin_users()).suites {
        std::fs::write(dir.join(&suite.file_name), suite.text()).unwrap();
    }
}

fn failed_ids(results: &[scimcheck::exec::ScenarioResult]) -> std::collections::BTreeSet<String> {
    results
        .iter()
        .flat_map(|r| r.steps.iter().filter(|s| s.failed()).map(|s| s.id.clone()))
        .collect()
}

#[tokio::test]
async fn entras_validation_sequences_hold_on_the_double_and_catch_what_they_target() {
    let dir = tempfile::tempdir().unwrap();
    derive_with_manager(dir.path());
    let double = common::double().await;
    let results = run(dir.path(), &double).await;
    assert!(
        failed_steps(&results).is_empty(),
        "{:#?}",
        failed_steps(&results)
    );
    let ids: Vec<String> = results
        .iter()
        .flat_map(|r| r.steps.iter().map(|s| s.id.clone()))
        .collect();
    for id in [
        "paged_read",
        "null_update_unassigned",
        "cleared_by_remove",
        "cleared_by_empty",
        "several_member_changes_kept",
    ] {
        assert!(ids.iter().any(|i| i == id), "{id} not run: {ids:?}");
    }
    // A server that answers every Remove 204 and does nothing.
    let ignores_remove = common::double_with_defect(
        wiremock::Mock::given(wiremock::matchers::method("PATCH"))
            .and(wiremock::matchers::body_string_contains(
                "\"op\":\"Remove\"",
            ))
            .respond_with(wiremock::ResponseTemplate::new(204)),
    )
    .await;
    let failed = failed_ids(&run(dir.path(), &ignores_remove).await);
    for id in [
        "null_update_unassigned",
        "cleared_by_remove",
        "several_member_changes_kept",
    ] {
        assert!(failed.contains(id), "{id} not failed: {failed:?}");
    }
    // A server that gives more than the page asked for.
    let page: Vec<serde_json::Value> = (0..6)
        .map(|i| serde_json::json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "id": format!("u{i}"), "userName": format!("u{i}")}))
        .collect();
    let overfull = common::double_with_defect(
        wiremock::Mock::given(wiremock::matchers::method("GET"))
            .and(wiremock::matchers::query_param("count", "5"))
            .respond_with(wiremock::ResponseTemplate::new(200).set_body_raw(
                serde_json::json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:ListResponse"], "totalResults": 6, "Resources": page}).to_string(),
                "application/scim+json",
            )),
    )
    .await;
    let failed = failed_ids(&run(dir.path(), &overfull).await);
    assert!(failed.contains("paged_read"), "{failed:?}");
}

#[test]
fn a_boolean_into_an_attribute_the_app_declares_text_stays_text_with_the_flag() {
    // Entra types what it sends by the app's schema, flag or not: a
    // boolean mapped to an attribute declared String is sent as "True".
    let urn = "urn:ietf:params:scim:schemas:extension:acme:2.0:User";
    let mut export: serde_json::Value = serde_json::from_str(EXPORT).unwrap();
    export["synchronizationRules"][0]["objectMappings"][0]["attributeMappings"]
        .as_array_mut()
        .unwrap()
        .push(serde_json::json!({
            "flowType": "Always", "matchingPriority": 0, "targetAttributeName": format!("{urn}:enabled"),
            "source": {"expression": "Not([IsSoftDeleted])", "type": "Function"}
        }));
    export["directories"][1]["objects"][0]["attributes"]
        .as_array_mut()
        .unwrap()
        .push(serde_json::json!({"name": format!("{urn}:enabled"), "type": "String", "multivalued": false}));
    let derivation = derive_for(
        &export::read(&export.to_string()).unwrap(),
        &users::builtin_users(),
    );
    let zoe = scenario_of(&derivation, "user_zoe_aberg");
    let create = by_id(&zoe["steps"], "create");
    assert_eq!(
        create["request"]["json"][urn]["enabled"], "True",
        "{create}"
    );
    // And `active`, declared Boolean, is a boolean with the flag.
    let disable = by_id(&zoe["steps"], "disable_flag");
    let ops = disable["request"]["json"]["Operations"].clone();
    assert_eq!(
        ops,
        serde_json::json!([
            {"op": "replace", "path": "active", "value": false},
            {"op": "replace", "path": format!("{urn}:enabled"), "value": "False"}
        ])
    );
}
