//! The scenarios derived from a server's own /Schemas: they follow what the
//! server declares, and each catches a server that does not do as declared.

mod common;

use scimcheck::double::Double;
use scimcheck::double::service::Response;
use scimcheck::exec::{Outcome, ScenarioResult};
use scimcheck::runner;
use wiremock::matchers::any;
use wiremock::{Mock, Request, ResponseTemplate};

/// The schemas of a /Schemas answer, to change.
fn served_schemas<'a>(
    request: &Request,
    response: &'a mut Response,
) -> Option<&'a mut Vec<serde_json::Value>> {
    if request.url.path() != "/Schemas" {
        return None;
    }
    response.body.as_mut()?["Resources"].as_array_mut()
}

async fn tampered(tamper: fn(&Request, &mut Response)) -> Double {
    common::tampered_double(Mock::given(any()), tamper).await
}

/// Like [`tampered`], with requests of the method `refused` answered 501 unhandled.
async fn tampered_refusing(tamper: fn(&Request, &mut Response), refused: &str) -> Double {
    let double = tampered(tamper).await;
    Mock::given(wiremock::matchers::method(refused))
        .respond_with(ResponseTemplate::new(501).set_body_raw(
            r#"{"schemas":["urn:ietf:params:scim:api:messages:2.0:Error"],"status":"501"}"#,
            "application/scim+json",
        ))
        .with_priority(1)
        .mount(double.server())
        .await;
    double
}

/// The schema-driven scenarios against `double`, run.
async fn run(double: &Double) -> Vec<ScenarioResult> {
    let target = common::target(&double.base_url());
    let plan = runner::schema_driven(&target, &[])
        .await
        .unwrap()
        .expect("the schemas call for checks");
    let dir = tempfile::tempdir().unwrap();
    runner::run(&plan, common::settings(target, dir.path()))
        .await
        .unwrap()
        .results
}

/// `scenario › step: check: message` of every failure.
fn failures(results: &[ScenarioResult]) -> Vec<String> {
    results
        .iter()
        .flat_map(|r| {
            r.steps.iter().flat_map(move |s| {
                s.failures
                    .iter()
                    .map(move |f| format!("{} › {}: {}: {}", r.full_name, s.id, f.check, f.message))
            })
        })
        .collect()
}

#[tokio::test]
async fn against_the_double_every_declared_characteristic_holds() {
    let results = run(&common::double().await).await;
    assert_eq!(failures(&results), Vec::<String>::new());
    assert!(results.iter().all(|r| r.outcome == Outcome::Passed));
    assert_eq!(
        results.len(),
        9,
        "{:?}",
        results.iter().map(|r| &r.full_name).collect::<Vec<_>>()
    );
}

#[tokio::test]
async fn a_password_returned_despite_returned_never_is_caught() {
    let double = tampered(|request, response| {
        if request.method.as_str() == "GET"
            && request.url.path().starts_with("/Users/")
            && let Some(body) = response.body.as_mut()
        {
            body["password"] = "hunter2".into();
        }
    })
    .await;
    let failures = failures(&run(&double).await);
    assert_eq!(
        failures,
        [
            "rfc7644::schema-driven::user_password_is_never_returned › get: json /password: expected to be absent, got \"hunter2\""
        ]
    );
}

#[tokio::test]
async fn a_read_only_id_taken_from_a_put_is_caught() {
    let double = tampered(|request, response| {
        if request.method.as_str() == "PUT"
            && let Ok(sent) = serde_json::from_slice::<serde_json::Value>(&request.body)
            && let (Some(body), Some(id)) = (response.body.as_mut(), sent.get("id"))
        {
            body["id"] = id.clone();
        }
    })
    .await;
    let failures = failures(&run(&double).await);
    assert_eq!(failures.len(), 2, "{failures:?}");
    for (failure, resource) in failures.iter().zip(["user", "group"]) {
        assert!(
            failure.starts_with(&format!(
                "rfc7644::schema-driven::{resource}_id_is_read_only › put_with_a_value: json /id: expected anything but \"scimcheck-"
            )),
            "{failure}"
        );
    }
}

#[tokio::test]
async fn a_uniqueness_the_server_declares_but_does_not_enforce_is_caught() {
    // The double now claims nickName is unique; it does not enforce it.
    let double = tampered(|request, response| {
        if let Some(schemas) = served_schemas(request, response) {
            for schema in schemas {
                for attribute in schema["attributes"].as_array_mut().into_iter().flatten() {
                    if attribute["name"] == "nickName" {
                        attribute["uniqueness"] = "server".into();
                    }
                }
            }
        }
    })
    .await;
    let results = run(&double).await;
    let names: Vec<_> = results.iter().map(|r| r.full_name.as_str()).collect();
    assert!(
        names.contains(&"rfc7644::schema-driven::user_nickName_is_unique"),
        "{names:?}"
    );
    let failures = failures(&results);
    assert!(
        failures[0].starts_with(
            "rfc7644::schema-driven::user_nickName_is_unique › again_same_value: status: expected 409, got 201"
        ),
        "{failures:?}"
    );
    assert!(
        failures.iter().all(|f| f
            .starts_with("rfc7644::schema-driven::user_nickName_is_unique › again_same_value: ")),
        "{failures:?}"
    );
    // The duplicate the double wrongly created was removed with the rest.
    let users = common::get_json(
        &reqwest::Client::new(),
        format!("{}/Users", double.base_url()),
    )
    .await;
    assert_eq!(users["totalResults"], 0, "{users}");
}

#[tokio::test]
async fn a_required_attribute_not_enforced_is_caught_and_what_was_created_removed() {
    let double = common::double().await;
    // userName not enforced: the double creates a user named after nothing.
    Mock::given(wiremock::matchers::method("POST"))
        .and(wiremock::matchers::path("/Users"))
        .and(NoUserName)
        .respond_with(
            ResponseTemplate::new(201)
                .set_body_raw(r#"{"id":"made-anyway"}"#, "application/scim+json"),
        )
        .with_priority(1)
        .mount(double.server())
        .await;
    // Read back before the cleanup deletes it: a user with nothing to name it.
    Mock::given(wiremock::matchers::method("GET"))
        .and(wiremock::matchers::path("/Users/made-anyway"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_raw(r#"{"id":"made-anyway"}"#, "application/scim+json"),
        )
        .with_priority(1)
        .mount(double.server())
        .await;
    Mock::given(wiremock::matchers::method("DELETE"))
        .and(wiremock::matchers::path("/Users/made-anyway"))
        .respond_with(ResponseTemplate::new(204))
        .expect(1)
        .with_priority(1)
        .mount(double.server())
        .await;
    let results = run(&double).await;
    let failures = failures(&results);
    assert!(
        failures[0].starts_with("rfc7644::schema-driven::user_requires_userName › create_without_it: status: expected 400, got 201"),
        "{failures:?}"
    );
    // The finding points at a real file, at the step's own line.
    let step = results
        .iter()
        .flat_map(|r| &r.steps)
        .find(|s| s.id == "create_without_it" && s.failed())
        .unwrap();
    let file = std::fs::read_to_string(&*step.span.source.name)
        .unwrap_or_else(|e| panic!("{}: {e}", step.span.source.name));
    let line = file.lines().nth(step.span.pos.line as usize - 1).unwrap();
    assert!(
        line.contains("id: create_without_it"),
        "{}:{}: {line}",
        step.span.source.name,
        step.span.pos.line
    );
    assert!(
        failures.iter().all(|f| f
            .starts_with("rfc7644::schema-driven::user_requires_userName › create_without_it: ")),
        "{failures:?}"
    );
    double.server().verify().await;
}

/// A POST body without a userName.
struct NoUserName;

impl wiremock::Match for NoUserName {
    fn matches(&self, request: &Request) -> bool {
        serde_json::from_slice::<serde_json::Value>(&request.body)
            .is_ok_and(|v| v.get("userName").is_none())
    }
}

#[tokio::test]
async fn a_resource_type_whose_schema_is_not_served_is_caught() {
    let double = tampered(|request, response| {
        if let Some(schemas) = served_schemas(request, response) {
            schemas.retain(|s| {
                s["id"] != "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
            });
        }
    })
    .await;
    let failures = failures(&run(&double).await);
    assert_eq!(failures.len(), 1, "{failures:?}");
    assert!(
        failures[0].starts_with(
            "rfc7644::schema-driven::resource_type_user_is_consistent › extension_1_listed: json /Resources: expected to contain"
        ),
        "{failures:?}"
    );
}

/// The double's ServiceProviderConfig, saying PATCH is not supported.
fn disown_patch(request: &Request, response: &mut Response) {
    if request.url.path() == "/ServiceProviderConfig"
        && let Some(body) = response.body.as_mut()
    {
        body["patch"]["supported"] = false.into();
    }
}

#[tokio::test]
async fn a_feature_disowned_but_served_is_caught() {
    let double = tampered(disown_patch).await;
    let failures = failures(&run(&double).await);
    assert_eq!(failures.len(), 1, "{failures:?}");
    assert!(
        failures[0].starts_with(
            "rfc7644::schema-driven::patch_not_offered_is_refused › try_patch: status: expected 400 or 403 or 404 or 405 or 501, got 200"
        ),
        "{failures:?}"
    );
}

#[tokio::test]
async fn a_feature_disowned_and_refused_with_501_passes() {
    let double = tampered_refusing(disown_patch, "PATCH").await;
    let results = run(&double).await;
    assert_eq!(failures(&results), Vec::<String>::new());
    let scenario = results
        .iter()
        .find(|r| r.full_name.ends_with("patch_not_offered_is_refused"))
        .expect("generated");
    assert_eq!(scenario.outcome, Outcome::Passed);
    assert!(scenario.steps.iter().all(|s| s.advice.is_empty()));
}

#[tokio::test]
async fn absolute_resource_type_endpoints_are_resolved_not_glued_and_advised() {
    // The double's /ResourceTypes, with each endpoint as an absolute URL.
    let double = tampered(|request, response| {
        if request.url.path() != "/ResourceTypes" {
            return;
        }
        let host = request
            .headers
            .get("host")
            .and_then(|h| h.to_str().ok())
            .unwrap_or_default();
        let origin = format!("http://{host}");
        if let Some(types) = response
            .body
            .as_mut()
            .and_then(|b| b["Resources"].as_array_mut())
        {
            for rt in types {
                let endpoint = rt["endpoint"].as_str().unwrap_or_default().to_string();
                rt["endpoint"] = format!("{origin}{endpoint}").into();
            }
        }
    })
    .await;
    let results = run(&double).await;
    // Requests went to /Users and /Groups, not to /http://...: nothing fails.
    assert_eq!(failures(&results), Vec::<String>::new());
    let advice: Vec<String> = results
        .iter()
        .flat_map(|r| {
            r.steps
                .iter()
                .filter(|s| !s.advice.is_empty())
                .map(move |s| format!("{} › {}", r.full_name, s.id))
        })
        .collect();
    assert_eq!(
        advice,
        [
            "rfc7644::schema-driven::resource_type_user_is_consistent › endpoint_is_relative",
            "rfc7644::schema-driven::resource_type_group_is_consistent › endpoint_is_relative"
        ]
    );
}

#[tokio::test]
async fn steps_on_an_optional_attribute_the_server_does_not_declare_are_not_applicable() {
    // The double's /Schemas without the optional User attribute `emails`.
    let double = tampered(|request, response| {
        if let Some(schemas) = served_schemas(request, response) {
            for schema in schemas.iter_mut() {
                if let Some(attributes) = schema["attributes"].as_array_mut() {
                    attributes.retain(|a| a["name"] != "emails");
                }
            }
        }
    })
    .await;
    let results = common::run_builtin(&double.base_url(), "rfc7644::queries::filters").await;
    assert_eq!(failures(&results), Vec::<String>::new());
    assert_eq!(results[0].outcome, Outcome::Passed);
    let steps = &results[0].steps;
    let state = |id: &str| steps.iter().find(|s| s.id == id).unwrap();
    let selected = state("attributes_selected");
    assert!(selected.not_applicable && selected.exchange.is_none());
    assert!(
        selected
            .not_run
            .as_deref()
            .unwrap()
            .contains("does not declare the optional User attribute `emails`")
    );
    // What does not rely on emails still runs.
    for id in [
        "and_or_precedence",
        "list_with_attributes",
        "ordering_operators",
        "first_page",
        "second_page",
    ] {
        assert!(state(id).not_run.is_none() && state(id).passed(), "{id}");
    }
    // The fixtures leave the undeclared attribute out: a server refusing
    // attributes it does not know would still have created them.
    let sent = state("create_a")
        .exchange
        .as_ref()
        .unwrap()
        .request
        .body
        .clone()
        .unwrap();
    let sent = String::from_utf8(sent).unwrap();
    assert!(
        !sent.contains("emails") && sent.contains("userName"),
        "{sent}"
    );
    let verdicts = scimcheck::report::verdict::verdicts(&results);
    assert!(verdicts[0].ready(), "{:#?}", verdicts[0]);
}
