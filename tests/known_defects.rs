//! The built-in suites catch each defect of the known-bugs kit that they
//! once missed, with a test of the project's own: the double with that one
//! defect (bent on its way in or out), the scenario that must catch it,
//! the step that must fail and why. And the same scenario passes on the
//! double itself, so the check can fail only for the defect.

mod common;

use std::sync::Mutex;

use common::{Bend, BendAnswer, as_is, defective, unchanged};
use scimcheck::double::service::{Request, Response, Service};
use scimcheck::exec::ScenarioResult;
use serde_json::json;

/// The failures of every step, as `step: check: message`.
fn failures(results: &[ScenarioResult]) -> Vec<String> {
    results
        .iter()
        .flat_map(|r| &r.steps)
        .flat_map(|s| {
            s.failures
                .iter()
                .map(move |f| format!("{}: {}: {}", s.id, f.check, f.message))
        })
        .collect()
}

/// Runs `scenario` against the double as it is, which must pass, then with
/// the defect, and gives the failures the defect caused.
async fn caught(scenario: &str, before: Bend, after: BendAnswer) -> Vec<String> {
    let clean = common::double().await;
    let passed = common::run_builtin(&clean.base_url(), scenario).await;
    assert!(!passed.is_empty(), "no scenario matches {scenario}");
    assert_eq!(failures(&passed), Vec::<String>::new(), "the double itself");

    let double = defective(before, after).await;
    let results = common::run_builtin(&double.base_url(), scenario).await;
    let found = failures(&results);
    assert!(!found.is_empty(), "the defect went unseen by {scenario}");
    found
}

fn starts(found: &[String], prefix: &str) {
    assert!(
        found.iter().any(|f| f.starts_with(prefix)),
        "{prefix}: {found:#?}"
    );
}

fn filter_of(request: &Request) -> String {
    request
        .query
        .iter()
        .find(|(k, _)| k == "filter")
        .map(|(_, v)| v.clone())
        .unwrap_or_default()
}

fn invalid_filter(detail: &str) -> Response {
    Response {
        status: 400,
        headers: Vec::new(),
        body: Some(json!({
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:Error"],
            "status": "400", "scimType": "invalidFilter", "detail": detail
        })),
    }
}

#[tokio::test]
async fn last_modified_kept_at_the_creation_time() {
    fn keep_created(_: &Request, response: &mut Response) {
        if let Some(meta) = response.body.as_mut().and_then(|b| b.get_mut("meta")) {
            meta["lastModified"] = meta["created"].clone();
        }
    }
    let found = caught("put-and-etag::modification_times", as_is, keep_created).await;
    starts(
        &found,
        "last_modified_moves: json /meta/lastModified: expected anything but",
    );
}

#[tokio::test]
async fn a_sub_attribute_of_a_multi_valued_attribute_refused_in_filters() {
    fn refuse_dotted(request: &mut Request, _: &Mutex<Service>) -> Option<Response> {
        filter_of(request)
            .starts_with("emails.value")
            .then(|| invalid_filter("unsupported attribute path 'emails.value'"))
    }
    let found = caught(
        "queries::filters_pages_and_projections",
        refuse_dotted,
        unchanged,
    )
    .await;
    starts(
        &found,
        "sub_attribute_of_multi_valued: status: expected 200, got 400",
    );
}

#[tokio::test]
async fn contains_read_as_a_regular_expression() {
    // `d.e+f@` as a pattern does not match the text `d.e+f@`: such a server finds nobody.
    fn as_pattern(request: &mut Request, _: &Mutex<Service>) -> Option<Response> {
        filter_of(request).contains("d.e+f@").then(|| Response {
            status: 200,
            headers: Vec::new(),
            body: Some(json!({
                "schemas": ["urn:ietf:params:scim:api:messages:2.0:ListResponse"],
                "totalResults": 0, "startIndex": 1, "itemsPerPage": 0, "Resources": []
            })),
        })
    }
    let found = caught("values::substrings_are_literal", as_pattern, unchanged).await;
    starts(
        &found,
        "contains_with_specials: json /totalResults: expected 1, got 0",
    );
}

#[tokio::test]
async fn a_start_index_past_the_end_answered_with_the_first_page() {
    fn first_page(request: &mut Request, _: &Mutex<Service>) -> Option<Response> {
        for (k, v) in request.query.iter_mut() {
            if k == "startIndex" && v.parse::<u32>().is_ok_and(|i| i >= 10) {
                *v = "1".into();
            }
        }
        None
    }
    let found = caught(
        "queries::filters_pages_and_projections",
        first_page,
        unchanged,
    )
    .await;
    starts(
        &found,
        "past_the_end: json /Resources/0: expected to be absent",
    );
}

#[tokio::test]
async fn put_dropping_the_enterprise_extension() {
    fn drop_extension(request: &mut Request, _: &Mutex<Service>) -> Option<Response> {
        if request.method == "PUT" {
            let mut body: serde_json::Value = serde_json::from_slice(&request.body).ok()?;
            let object = body.as_object_mut()?;
            object.retain(|k, _| !k.starts_with("urn:ietf:params:scim:schemas:extension:"));
            request.body = body.to_string().into_bytes();
        }
        None
    }
    let found = caught(
        "put-and-etag::put_keeps_the_extension",
        drop_extension,
        unchanged,
    )
    .await;
    starts(
        &found,
        "read_back: json /urn:ietf:params:scim:schemas:extension:enterprise:2.0:User/employeeNumber: expected \"1702\", got nothing",
    );
}

#[tokio::test]
async fn bodies_without_a_charset_read_as_latin_1() {
    fn latin_1(request: &mut Request, _: &Mutex<Service>) -> Option<Response> {
        let typed = request
            .headers
            .get("content-type")
            .cloned()
            .unwrap_or_default();
        if !typed.to_ascii_lowercase().contains("charset") {
            // Each byte taken for the character of that number: ISO-8859-1.
            let text: String = request.body.iter().map(|&b| b as char).collect();
            request.body = text.into_bytes();
        }
        None
    }
    let found = caught("values::non_ascii_names", latin_1, unchanged).await;
    starts(
        &found,
        "read_back: json /name/givenName: expected \"Zoë\", got \"ZoÃ«\"",
    );
}

#[tokio::test]
async fn patch_answered_with_the_resource_as_it_was() {
    fn answer_the_old(request: &mut Request, service: &Mutex<Service>) -> Option<Response> {
        if request.method != "PATCH" {
            return None;
        }
        let mut service = service.lock().unwrap();
        let read = Request {
            method: "GET".into(),
            body: Vec::new(),
            query: Vec::new(),
            ..request.clone()
        };
        let before = service.handle(&read);
        let mut after = service.handle(request);
        if after.status == 200 {
            after.body = before.body;
        }
        Some(after)
    }
    let found = caught("patch::operations_and_errors", answer_the_old, unchanged).await;
    starts(
        &found,
        "add_replace_remove: returned /nickName: expected \"Babs\", got nothing",
    );
}

#[tokio::test]
async fn a_patch_answered_204_leaves_what_it_returns_unchecked_not_passed() {
    // A 204 returns no resource: the `returned` checks are told as not evaluated.
    fn no_content(request: &Request, response: &mut Response) {
        if request.method == "PATCH" && response.status == 200 {
            response.status = 204;
            response.body = None;
        }
    }
    let double = defective(as_is, no_content).await;
    let results = common::run_builtin(&double.base_url(), "patch::operations_and_errors").await;
    assert_eq!(failures(&results), Vec::<String>::new());
    let step = results[0]
        .steps
        .iter()
        .find(|s| s.id == "add_replace_remove")
        .unwrap();
    let unchecked: Vec<&str> = step.not_evaluated.iter().map(|(_, l)| l.as_str()).collect();
    assert!(unchecked.contains(&"returned /nickName"), "{unchecked:?}");
    assert!(
        !step.checks.iter().any(|c| c.starts_with("returned")),
        "{:?}",
        step.checks
    );
}

#[tokio::test]
async fn the_steps_after_a_create_answered_201_still_run_when_its_body_is_wrong() {
    // The kit's create_no_schemas: 201, the user made, its answer without schemas.
    fn no_schemas(request: &Request, response: &mut Response) {
        if request.method == "POST"
            && let Some(body) = response.body.as_mut().and_then(|b| b.as_object_mut())
        {
            body.remove("schemas");
        }
    }
    let double = defective(as_is, no_schemas).await;
    let results = common::run_builtin(&double.base_url(), "users-create::create_user").await;
    let step = |id: &str| results[0].steps.iter().find(|s| s.id == id).unwrap();
    assert!(step("create").failed());
    for id in ["read_back", "optional_values_kept"] {
        assert!(
            step(id).not_run.is_none() && step(id).passed(),
            "{id}: {:?}",
            step(id).not_run
        );
    }
}
