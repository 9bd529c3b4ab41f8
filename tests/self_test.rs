//! Proof that the checks can fail: each kind of check, run against a server
//! that answers wrongly, must fail with the right message; and the built-in
//! suites must fail against a double with one defect mounted over it.

mod common;

use scimcheck::double::Double;

use std::time::Duration;

use scimcheck::check::snapshot::SnapshotStore;
use scimcheck::exec::{Outcome, ScenarioResult};
use scimcheck::runner::{self, RunSettings, SuiteSources};
use scimcheck::target::Target;
use wiremock::matchers::{method, path, path_regex, query_param_contains};
use wiremock::{Mock, MockServer, ResponseTemplate};

struct Run {
    results: Vec<ScenarioResult>,
    _dir: tempfile::TempDir,
}

impl Run {
    /// Every failure as `check: message`.
    fn failures(&self) -> Vec<String> {
        self.results
            .iter()
            .flat_map(|r| &r.steps)
            .flat_map(|s| &s.failures)
            .map(|f| format!("{}: {}", f.check, f.message))
            .collect()
    }

    /// Exactly one check failed, at `step`, and its message starts with `prefix`.
    fn fails_only_at(&self, step: &str, prefix: &str) {
        let failures = self.failures();
        assert_eq!(failures.len(), 1, "{failures:?}");
        assert!(failures[0].starts_with(prefix), "{failures:?}");
        assert_eq!(self.failed_step(), step);
    }

    /// The id of the one step of the first scenario that failed.
    fn failed_step(&self) -> &str {
        let failed: Vec<&str> = self.results[0]
            .steps
            .iter()
            .filter(|s| s.failed())
            .map(|s| s.id.as_str())
            .collect();
        assert_eq!(failed.len(), 1, "{failed:?}");
        failed[0]
    }

    fn outcome(&self) -> &Outcome {
        &self.results[0].outcome
    }
}

async fn run_yaml(yaml: &str, base_url: &str, filters: &[&str]) -> Run {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("s.yaml"), yaml).unwrap();
    let sources = SuiteSources {
        builtin: false,
        dirs: vec![dir.path().to_path_buf()],
    };
    let results =
        common::run_sources(sources, base_url, filters, &dir.path().join("snapshots")).await;
    Run { results, _dir: dir }
}

fn scim(status: u16, body: serde_json::Value) -> ResponseTemplate {
    ResponseTemplate::new(status).set_body_raw(body.to_string(), "application/scim+json")
}

const ONE_STEP: &str = r#"
name: one
scenarios:
  - id: s
    steps:
      - id: get
        request: { method: GET, path: /Users/1 }
        expect:
"#;

async fn one_step(expect: &str, response: ResponseTemplate) -> Run {
    let server = common::scim_server().await;
    Mock::given(method("GET"))
        .and(path("/Users/1"))
        .respond_with(response)
        .mount(&server)
        .await;
    run_yaml(&format!("{ONE_STEP}{expect}"), &server.uri(), &[]).await
}

fn user(active: serde_json::Value) -> serde_json::Value {
    serde_json::json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "id": "1", "userName": "a", "active": active
    })
}

#[tokio::test]
async fn status_check_fails_on_a_wrong_status() {
    let run = one_step("          status: 201\n", scim(200, user(true.into()))).await;
    assert_eq!(run.outcome(), &Outcome::Failed);
    assert_eq!(run.failures(), ["status: expected 201, got 200"]);
}

#[tokio::test]
async fn status_failure_quotes_the_error_detail() {
    let body = serde_json::json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:Error"], "status": "500", "detail": "db down"});
    let run = one_step("          status: [200, 204]\n", scim(500, body)).await;
    assert_eq!(
        run.failures(),
        ["status: expected 200 or 204, got 500 (detail: db down)"]
    );
}

#[tokio::test]
async fn header_check_fails_on_a_wrong_content_type() {
    let response =
        ResponseTemplate::new(200).set_body_raw(user(true.into()).to_string(), "application/json");
    let run = one_step(
        "          headers: { content-type: { matches: '^application/scim\\+json' } }\n",
        response,
    )
    .await;
    assert_eq!(
        run.failures(),
        [
            r#"header content-type: expected a string matching /^application/scim\+json/, got "application/json""#
        ]
    );
}

#[tokio::test]
async fn json_check_fails_on_a_wrong_value() {
    let run = one_step(
        "          json: { /active: false, /id: { type: integer } }\n",
        scim(200, user(true.into())),
    )
    .await;
    assert_eq!(
        run.failures(),
        [
            "json /active: expected false, got true",
            r#"json /id: expected a integer, got "1""#
        ]
    );
}

#[tokio::test]
async fn schema_check_names_the_instance_path() {
    let run = one_step("          schema: user\n", scim(200, user("False".into()))).await;
    let failures = run.failures();
    assert_eq!(failures.len(), 1);
    assert!(
        failures[0].starts_with("schema user: 1 violation(s):"),
        "{failures:?}"
    );
    assert!(
        failures[0].contains(r#"/active: "False" is not of type "boolean""#),
        "{failures:?}"
    );
}

#[tokio::test]
async fn json_checks_on_an_html_error_page_say_so_once() {
    let response = ResponseTemplate::new(200)
        .set_body_raw("<html><body>Gateway error</body></html>", "text/html");
    let run = one_step(
        "          json: { /active: true, /id: \"1\" }\n          schema: user\n",
        response,
    )
    .await;
    let failures = run.failures();
    assert_eq!(failures.len(), 1, "{failures:?}");
    assert!(
        failures[0].starts_with("schema user: the body is not JSON"),
        "{failures:?}"
    );
    assert!(
        failures[0].contains("content-type text/html"),
        "{failures:?}"
    );
    assert!(failures[0].contains("Gateway error"), "{failures:?}");
}

#[tokio::test]
async fn empty_body_check_fails_on_a_body() {
    // HTTP forbids a body on a 204 (hyper drops it), so the defect is a 200 with one.
    let run = one_step("          empty_body: true\n", scim(200, user(true.into()))).await;
    assert_eq!(run.failures().len(), 1);
    assert!(
        run.failures()[0].starts_with("empty body: expected no body, got"),
        "{:?}",
        run.failures()
    );
}

#[tokio::test]
async fn a_slow_server_is_a_timeout_not_a_hang() {
    let response = scim(200, user(true.into())).set_delay(Duration::from_secs(5));
    let started = std::time::Instant::now();
    let run = one_step("          status: 200\n", response).await;
    assert_eq!(
        run.failures(),
        ["transport: no complete response within 500ms"]
    );
    assert!(started.elapsed() < Duration::from_secs(4));
}

#[tokio::test]
async fn snapshot_check_fails_on_a_changed_response_and_shows_the_diff() {
    let server = common::scim_server().await;
    Mock::given(method("GET"))
        .and(path("/Users/1"))
        .respond_with(scim(200, user(true.into())))
        .up_to_n_times(2)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/Users/1"))
        .respond_with(scim(200, user(false.into())))
        .mount(&server)
        .await;
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("s.yaml"),
        format!("{ONE_STEP}          snapshot: the_user\n"),
    )
    .unwrap();
    let snapshots = dir.path().join("snapshots");
    let run_with = |accept: bool| {
        let plan = runner::load_plan(&SuiteSources {
            builtin: false,
            dirs: vec![dir.path().to_path_buf()],
        })
        .unwrap();
        let settings = RunSettings {
            target: Target::new(&server.uri()),
            concurrency: 1,
            snapshots: SnapshotStore {
                dir: snapshots.clone(),
                accept,
                all: false,
            },
            run_id: None,
            interrupt: Default::default(),
            observer: None,
            probed: None,
        };
        async move { runner::run(&plan, settings).await.unwrap().results }
    };
    // First run: no snapshot yet, so a failure and a pending .snap.new.
    let first = run_with(false).await;
    assert_eq!(first[0].outcome, Outcome::Failed);
    assert!(snapshots.join("s__the_user.snap.new").exists());
    // Accepted, then matching.
    assert_eq!(run_with(true).await[0].outcome, Outcome::Passed);
    let text = std::fs::read_to_string(snapshots.join("s__the_user.snap")).unwrap();
    assert!(
        text.contains("\"id\": \"[id]\""),
        "volatile id redacted: {text}"
    );
    // The server now answers active=false: the snapshot check fails with a diff.
    let third = run_with(false).await;
    let message = &third[0].steps[0].failures[0].message;
    assert!(
        message.contains("-  \"active\": true") && message.contains("+  \"active\": false"),
        "{message}"
    );
}

/// Creates user `a`, the one the fake servers below hold: a cleanup reads it
/// back and finds the name the run sent.
const CREATE_THEN_FAIL: &str = r#"
name: cleanup
scenarios:
  - id: s
    steps:
      - id: create
        request: { method: POST, path: /Users, json: { userName: a } }
        expect: { status: 201 }
        capture: { id: /id }
        cleanup: { method: DELETE, path: "/Users/{{ id }}" }
      - id: fails
        request: { method: GET, path: "/Users/{{ id }}" }
        expect: { status: 200 }
"#;

/// A server that creates user 1 on any POST, answers it (read back before
/// the cleanup) and expects it deleted once.
async fn server_creating_user_1() -> MockServer {
    let server = common::scim_server().await;
    Mock::given(method("POST"))
        .respond_with(scim(201, user(true.into())))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/Users/1"))
        .respond_with(scim(200, user(true.into())))
        .mount(&server)
        .await;
    Mock::given(method("DELETE"))
        .and(path("/Users/1"))
        .respond_with(ResponseTemplate::new(204))
        .expect(1)
        .mount(&server)
        .await;
    server
}

#[tokio::test]
async fn cleanup_runs_after_a_failed_step() {
    let server = server_creating_user_1().await;
    // The second step fails on the body; the cleanup's read back succeeds.
    let suite = CREATE_THEN_FAIL.replace(
        "expect: { status: 200 }",
        "expect: { status: 200, json: { /active: false } }",
    );
    let run = run_yaml(&suite, &server.uri(), &[]).await;
    assert_eq!(run.failures(), ["json /active: expected false, got true"]);
    assert_eq!(run.results[0].cleanups.len(), 1);
    assert_eq!(run.results[0].cleanups[0].problem, None);
    server.verify().await;
}

const MUST_NOT_CREATE: &str = r#"
name: lax
scenarios:
  - id: s
    steps:
      - id: duplicate
        request: { method: POST, path: /Users, json: { userName: a } }
        expect: { status: 409 }
        cleanup_if_created: { method: DELETE, path: "/Users/{{ created_id }}" }
"#;

#[tokio::test]
async fn what_a_lax_server_wrongly_created_is_cleaned_up() {
    let server = server_creating_user_1().await;
    let run = run_yaml(MUST_NOT_CREATE, &server.uri(), &[]).await;
    assert_eq!(run.failures(), ["status: expected 409, got 201"]);
    assert_eq!(run.results[0].cleanups.len(), 1);
    assert_eq!(run.results[0].cleanups[0].problem, None);
    server.verify().await;
}

#[tokio::test]
async fn a_refusal_as_expected_deletes_nothing() {
    let server = common::scim_server().await;
    Mock::given(method("POST"))
        .respond_with(scim(409, serde_json::json!({"id": "1", "status": "409"})))
        .mount(&server)
        .await;
    Mock::given(method("DELETE"))
        .respond_with(ResponseTemplate::new(204))
        .expect(0)
        .mount(&server)
        .await;
    let run = run_yaml(MUST_NOT_CREATE, &server.uri(), &[]).await;
    assert!(run.failures().is_empty(), "{:?}", run.failures());
    assert!(run.results[0].cleanups.is_empty());
    server.verify().await;
}

#[tokio::test]
async fn a_failed_cleanup_is_reported_as_a_leftover() {
    let server = common::scim_server().await;
    Mock::given(method("POST"))
        .respond_with(scim(201, user(true.into())))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .respond_with(scim(200, user(true.into())))
        .mount(&server)
        .await;
    Mock::given(method("DELETE"))
        .respond_with(ResponseTemplate::new(500))
        .mount(&server)
        .await;
    let run = run_yaml(CREATE_THEN_FAIL, &server.uri(), &[]).await;
    assert_eq!(run.outcome(), &Outcome::Failed);
    let failures = run.failures();
    assert_eq!(failures.len(), 1);
    assert!(
        failures[0].starts_with("cleanup: DELETE http://127.0.0.1:"),
        "{failures:?}"
    );
    assert!(
        failures[0].ends_with("/Users/1 answered 500: the resource may be left behind"),
        "{failures:?}"
    );
}

#[tokio::test]
async fn a_missing_capture_fails_the_step() {
    let server = common::scim_server().await;
    Mock::given(method("POST"))
        .respond_with(scim(201, serde_json::json!({"userName": "x"})))
        .mount(&server)
        .await;
    let run = run_yaml(CREATE_THEN_FAIL, &server.uri(), &[]).await;
    let failures = run.failures();
    assert_eq!(
        failures[0],
        "capture id: nothing at /id in the response body"
    );
    // Created, but with no id to delete it by: said, not silently kept.
    assert_eq!(failures.len(), 2, "{failures:?}");
    assert!(
        failures[1].starts_with("cleanup: POST http://127.0.0.1:")
            && failures[1].ends_with(
                "/Users answered 201: what it created cannot be cleaned up (variable `id` has no value): the resource may be left behind"
            ),
        "{failures:?}"
    );
    assert_eq!(run.results[0].cleanups.len(), 1);
    assert!(run.results[0].cleanups[0].exchange.is_none());
}

/// (step id, why it did not run) for each step of the first scenario.
fn not_run(run: &Run) -> Vec<(String, Option<String>)> {
    run.results[0]
        .steps
        .iter()
        .map(|s| (s.id.clone(), s.not_run.clone()))
        .collect()
}

#[tokio::test]
async fn a_missing_capture_stops_only_the_steps_that_use_it() {
    // User 1 is created without a Location header: the read-back by id still
    // runs; only the step comparing Location with meta.location does not.
    let server = server_creating_user_1().await;
    let suite = r#"
name: capture
scenarios:
  - id: s
    steps:
      - id: create
        request: { method: POST, path: /Users, json: { userName: a } }
        expect: { status: 201 }
        capture: { id: /id, location: "header:Location" }
        cleanup: { method: DELETE, path: "/Users/{{ id }}" }
      - id: read_back
        request: { method: GET, path: "/Users/{{ id }}" }
        expect: { status: 200, json: { /userName: a } }
      - id: same_location
        request: { method: GET, path: "/Users/{{ id }}" }
        expect: { status: 200, json: { /meta/location: "{{ location }}" } }
"#;
    let run = run_yaml(suite, &server.uri(), &[]).await;
    assert_eq!(
        run.failures(),
        ["capture location: no Location header in the response"]
    );
    assert_eq!(
        not_run(&run),
        [
            ("create".to_string(), None),
            ("read_back".to_string(), None),
            (
                "same_location".to_string(),
                Some("it uses `location`, which step `create` could not capture".to_string())
            ),
        ]
    );
    assert!(run.results[0].steps[1].passed());
}

#[tokio::test]
async fn a_step_needing_an_unclaimed_feature_alone_is_not_applicable() {
    let server = common::scim_server().await;
    Mock::given(method("GET"))
        .and(path("/ServiceProviderConfig"))
        .respond_with(scim(
            200,
            serde_json::json!({
                "schemas": ["urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"],
                "filter": { "supported": false, "maxResults": 0 }
            }),
        ))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/Users/1"))
        .respond_with(scim(200, user(true.into())))
        .expect(2)
        .mount(&server)
        .await;
    // Were it sent, the filter would find nothing: the step would fail.
    Mock::given(method("GET"))
        .and(path("/Users"))
        .and(query_param_contains("filter", "userName"))
        .respond_with(ResponseTemplate::new(500))
        .expect(0)
        .mount(&server)
        .await;
    let suite = r#"
name: feature
scenarios:
  - id: s
    steps:
      - id: read
        request: { method: GET, path: /Users/1 }
        expect: { status: 200 }
      - id: by_filter
        requires: [filter]
        request: { method: GET, path: /Users, query: { filter: 'userName eq "a"' } }
        expect: { status: 200, json: { /totalResults: 1 } }
      - id: read_again
        needs: [read]
        request: { method: GET, path: /Users/1 }
        expect: { status: 200 }
"#;
    let run = run_yaml(suite, &server.uri(), &[]).await;
    assert_eq!(run.outcome(), &Outcome::Passed);
    assert_eq!(
        not_run(&run),
        [
            ("read".to_string(), None),
            (
                "by_filter".to_string(),
                Some("not applicable: filter.supported is false".to_string())
            ),
            ("read_again".to_string(), None),
        ]
    );
    assert!(run.results[0].steps[1].not_applicable);
}

#[tokio::test]
async fn a_failed_read_is_shown_with_the_write_before_it() {
    // The PATCH is accepted, but the user read back is still active: the
    // report shows the PATCH too, since that is where the fix is.
    let server = server_creating_user_1().await;
    Mock::given(method("PATCH"))
        .and(path("/Users/1"))
        .respond_with(scim(200, user(true.into())))
        .mount(&server)
        .await;
    let suite = r#"
name: write then read
scenarios:
  - id: s
    steps:
      - id: create
        request: { method: POST, path: /Users, json: { userName: a } }
        expect: { status: 201 }
        capture: { id: /id }
        cleanup: { method: DELETE, path: "/Users/{{ id }}" }
      - id: deactivate
        request:
          method: PATCH
          path: "/Users/{{ id }}"
          json: { schemas: [urn:ietf:params:scim:api:messages:2.0:PatchOp], Operations: [{ op: replace, path: active, value: false }] }
        expect: { status: [200, 204] }
      - id: verify
        request: { method: GET, path: "/Users/{{ id }}" }
        expect: { status: 200, json: { /active: false } }
"#;
    let run = run_yaml(suite, &server.uri(), &[]).await;
    let text = scimcheck::report::terminal::scenario(&run.results[0], &[]);
    let verify = text.find("› verify").expect(&text);
    let after = text.find("after the write `deactivate`").expect(&text);
    assert!(verify < after, "{text}");
    assert!(text[after..].contains("PATCH http://127.0.0.1:"), "{text}");
    assert!(text[after..].contains(r#""value":false"#), "{text}");
}

// The built-in suites against a double with one defect each.

async fn builtin_against(double: &Double, filter: &str) -> Run {
    Run {
        results: common::run_builtin(&double.base_url(), filter).await,
        _dir: tempfile::tempdir().unwrap(),
    }
}

#[tokio::test]
async fn builtin_match_suite_catches_case_sensitive_user_names() {
    // The defect: a filter in other letter case matches nothing.
    let double = common::double_with_defect(
        Mock::given(method("GET"))
        .and(path("/Users"))
        .and(query_param_contains("filter", "SCIMCHECK-"))
        .respond_with(scim(200, serde_json::json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:ListResponse"], "totalResults": 0, "Resources": []}))),
    )
    .await;
    let run = builtin_against(&double, "users-match::match_by_username").await;
    let failures = run.failures();
    assert_eq!(failures.len(), 2, "{failures:?}");
    assert_eq!(failures[0], "json /totalResults: expected 1, got 0");
    assert!(
        failures[1].starts_with("json /Resources/0/id: expected \""),
        "{failures:?}"
    );
    assert!(
        failures[1].ends_with("got nothing (absent)"),
        "{failures:?}"
    );
    assert_eq!(run.failed_step(), "other_letter_case");
}

#[tokio::test]
async fn builtin_deactivate_suite_catches_an_ignored_patch() {
    // The defect: PATCH answers 204 and changes nothing.
    let double = common::double_with_defect(
        Mock::given(method("PATCH"))
            .and(path_regex("^/Users/"))
            .respond_with(ResponseTemplate::new(204)),
    )
    .await;
    let run = builtin_against(&double, "users-deactivate").await;
    assert_eq!(run.failures(), ["json /active: expected false, got true"]);
    assert_eq!(run.failed_step(), "verify_by_id");
}

#[tokio::test]
async fn builtin_create_suite_catches_a_200_and_tells_it_once() {
    let double = common::double_with_defect(
        Mock::given(method("POST"))
            .and(path("/Users"))
            .respond_with(scim(200, user(true.into()))),
    )
    .await;
    let run = builtin_against(&double, "users-create::create_user").await;
    // One cause, one finding: the Location check presumes a 201, so it is
    // not evaluated rather than failed a second time.
    assert_eq!(run.failures(), ["status: expected 201, got 200"]);
    let create = &run.results[0].steps[0];
    assert!(
        create
            .not_evaluated
            .contains(&("must", "header location".to_string())),
        "{:?}",
        create.not_evaluated
    );
}

#[tokio::test]
async fn builtin_membership_suite_catches_an_ignored_member_removal() {
    let double = common::double_with_defect(
        Mock::given(method("PATCH"))
            .and(wiremock::matchers::body_string_contains("members[value eq"))
            .respond_with(ResponseTemplate::new(204)),
    )
    .await;
    let run = builtin_against(&double, "groups-membership").await;
    run.fails_only_at(
        "member_gone_from_group",
        "json /members: expected not to contain {\"value\":",
    );
}

/// The double, except that a user keeps listing the groups it was once seen in.
struct StaleUserGroups {
    service: std::sync::Arc<std::sync::Mutex<scimcheck::double::service::Service>>,
    seen: std::sync::Mutex<Option<serde_json::Value>>,
}

impl wiremock::Respond for StaleUserGroups {
    fn respond(&self, request: &wiremock::Request) -> ResponseTemplate {
        let scim = scimcheck::double::server::service_request(request);
        let mut response = self.service.lock().unwrap().handle(&scim);
        if let Some(body) = response.body.as_mut() {
            let mut seen = self.seen.lock().unwrap();
            match body.get("groups") {
                Some(groups) => *seen = Some(groups.clone()),
                None => {
                    if let Some(stale) = seen.clone() {
                        body["groups"] = stale;
                    }
                }
            }
        }
        scimcheck::double::server::response_template(&response)
    }
}

#[tokio::test]
async fn builtin_membership_suite_catches_a_stale_user_groups() {
    let double = common::double().await;
    Mock::given(method("GET"))
        .and(path_regex("^/Users/[^/]+$"))
        .respond_with(StaleUserGroups {
            service: double.service(),
            seen: std::sync::Mutex::new(None),
        })
        .with_priority(1)
        .mount(double.server())
        .await;
    let run = builtin_against(&double, "groups-membership").await;
    run.fails_only_at(
        "group_gone_from_user",
        "json /groups: expected not to contain {\"value\":",
    );
}

/// A double adding `field: value` to every answer of one method on /Users/{id}.
async fn double_adding(method_name: &str, field: &'static str, value: &'static str) -> Double {
    common::tampered_double(
        Mock::given(method(method_name)).and(path_regex("^/Users/[^/]+$")),
        move |_: &wiremock::Request, response: &mut scimcheck::double::service::Response| {
            if let Some(body) = response.body.as_mut() {
                body[field] = value.into();
            }
        },
    )
    .await
}

#[tokio::test]
async fn builtin_bulk_suite_catches_operations_run_past_fail_on_errors() {
    // As if the PATCH after the failOnErrors limit had been applied.
    let double = double_adding("GET", "displayName", "Not Applied").await;
    let run = builtin_against(&double, "rfc7644::bulk::fail_on_errors").await;
    run.fails_only_at(
        "rest_not_applied",
        "json /displayName: expected to be absent, got \"Not Applied\"",
    );
}

#[tokio::test]
async fn builtin_password_suite_catches_a_password_echoed_by_patch() {
    let double = double_adding("PATCH", "password", "Sc1m!Second").await;
    let run = builtin_against(&double, "rfc7644::change-password").await;
    run.fails_only_at(
        "change",
        "json /password: expected to be absent, got \"Sc1m!Second\"",
    );
}

/// The double, except that a PATCH `add` of members replaces them.
struct AddReplacesMembers(std::sync::Arc<std::sync::Mutex<scimcheck::double::service::Service>>);

impl wiremock::Respond for AddReplacesMembers {
    fn respond(&self, request: &wiremock::Request) -> ResponseTemplate {
        let mut scim = scimcheck::double::server::service_request(request);
        let body = String::from_utf8_lossy(&scim.body).to_string();
        if body.contains(r#""op":"add","path":"members""#) {
            scim.body = body
                .replace(
                    r#""op":"add","path":"members""#,
                    r#""op":"replace","path":"members""#,
                )
                .into_bytes();
        }
        let response = self.0.lock().unwrap().handle(&scim);
        scimcheck::double::server::response_template(&response)
    }
}

#[tokio::test]
async fn builtin_membership_suite_catches_an_add_that_replaces_members() {
    let double = common::double().await;
    Mock::given(method("PATCH"))
        .and(path_regex("^/Groups/"))
        .respond_with(AddReplacesMembers(double.service()))
        .with_priority(1)
        .mount(double.server())
        .await;
    let run = builtin_against(&double, "groups-membership::add_keeps").await;
    assert_eq!(run.failed_step(), "both_members");
    let failures = run.failures();
    assert!(
        failures[0].starts_with("json /members: expected 2 element(s)"),
        "{failures:?}"
    );
}

/// The double served under `/scim/v2`; with `drop_base_path`, its
/// locations (header and meta) lack that base path.
struct UnderBasePath {
    service: std::sync::Mutex<scimcheck::double::service::Service>,
    drop_base_path: bool,
}

impl wiremock::Respond for UnderBasePath {
    fn respond(&self, request: &wiremock::Request) -> ResponseTemplate {
        let mut scim = scimcheck::double::server::service_request(request);
        scim.path = scim.path.trim_start_matches("/scim/v2").to_string();
        let mut response = self.service.lock().unwrap().handle(&scim);
        if self.drop_base_path {
            for (_, value) in response.headers.iter_mut() {
                *value = value.replace("/scim/v2/", "/");
            }
            if let Some(body) = response.body.as_mut() {
                *body = serde_json::from_str(&body.to_string().replace("/scim/v2/", "/")).unwrap();
            }
        }
        scimcheck::double::server::response_template(&response)
    }
}

async fn users_create_under_base_path(drop_base_path: bool) -> Run {
    let server = MockServer::start().await;
    let base = format!("{}/scim/v2", server.uri());
    Mock::given(wiremock::matchers::any())
        .respond_with(UnderBasePath {
            service: std::sync::Mutex::new(scimcheck::double::service::Service::new(
                &base,
                Some(common::TOKEN.into()),
            )),
            drop_base_path,
        })
        .mount(&server)
        .await;
    Run {
        results: common::run_builtin(&base, "rfc7644::users-create::create_user").await,
        _dir: tempfile::tempdir().unwrap(),
    }
}

#[tokio::test]
async fn a_location_without_the_base_path_fails_and_one_with_it_passes() {
    let right = users_create_under_base_path(false).await;
    assert_eq!(right.failures(), Vec::<String>::new());
    let wrong = users_create_under_base_path(true).await;
    assert_eq!(wrong.failed_step(), "read_back");
    let failures = wrong.failures();
    assert!(
        failures[0].starts_with("json /meta/location: expected to contain")
            && failures[0].contains("/scim/v2/Users/"),
        "{failures:?}"
    );
}

/// The double, except that a user's ETag and meta.version stay the first
/// ones it answered, whatever changes.
struct StickyVersions {
    service: std::sync::Arc<std::sync::Mutex<scimcheck::double::service::Service>>,
    first: std::sync::Mutex<std::collections::HashMap<String, String>>,
}

impl wiremock::Respond for StickyVersions {
    fn respond(&self, request: &wiremock::Request) -> ResponseTemplate {
        let scim = scimcheck::double::server::service_request(request);
        let mut response = self.service.lock().unwrap().handle(&scim);
        if let Some(version) = response
            .headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case("etag"))
            .map(|(_, v)| v.clone())
        {
            let sticky = self
                .first
                .lock()
                .unwrap()
                .entry(scim.path.clone())
                .or_insert(version)
                .clone();
            for (k, v) in response.headers.iter_mut() {
                if k.eq_ignore_ascii_case("etag") {
                    *v = sticky.clone();
                }
            }
            if let Some(body) = response.body.as_mut() {
                body["meta"]["version"] = serde_json::json!(sticky);
            }
        }
        scimcheck::double::server::response_template(&response)
    }
}

#[tokio::test]
async fn builtin_etag_suite_catches_a_version_that_never_changes() {
    let double = common::double().await;
    Mock::given(method("GET"))
        .and(path_regex("^/Users/[^/]+$"))
        .respond_with(StickyVersions {
            service: double.service(),
            first: Default::default(),
        })
        .with_priority(1)
        .mount(double.server())
        .await;
    let run = builtin_against(&double, "put-and-etag::etags").await;
    assert_eq!(run.failed_step(), "version_changed");
    let failures = run.failures();
    assert!(
        failures[0].starts_with("header etag: expected anything but"),
        "{failures:?}"
    );
}

/// The double, except that a deleted user stays listed among the members of
/// the groups it was seen in.
struct KeepsDeletedMembers {
    service: std::sync::Arc<std::sync::Mutex<scimcheck::double::service::Service>>,
    deleted: std::sync::Mutex<Vec<String>>,
    seen: std::sync::Mutex<std::collections::HashMap<String, Vec<serde_json::Value>>>,
}

impl wiremock::Respond for KeepsDeletedMembers {
    fn respond(&self, request: &wiremock::Request) -> ResponseTemplate {
        let scim = scimcheck::double::server::service_request(request);
        let mut response = self.service.lock().unwrap().handle(&scim);
        if scim.method == "DELETE" && response.status == 204 && scim.path.starts_with("/Users/") {
            let id = scim.path.trim_start_matches("/Users/").to_string();
            self.deleted.lock().unwrap().push(id);
        }
        if scim.path.starts_with("/Groups/")
            && let Some(body) = response.body.as_mut()
        {
            let mut seen = self.seen.lock().unwrap();
            let known = seen.entry(scim.path.clone()).or_default();
            let members = body["members"].as_array().cloned().unwrap_or_default();
            for m in &members {
                if !known.contains(m) {
                    known.push(m.clone());
                }
            }
            let deleted = self.deleted.lock().unwrap();
            let mut listed = members;
            for m in known.iter() {
                let gone = deleted.iter().any(|d| m["value"] == serde_json::json!(d));
                if gone && !listed.contains(m) {
                    listed.push(m.clone());
                }
            }
            body["members"] = serde_json::json!(listed);
        }
        scimcheck::double::server::response_template(&response)
    }
}

#[tokio::test]
async fn builtin_membership_suite_catches_a_deleted_user_kept_as_a_member() {
    let double = common::double().await;
    Mock::given(wiremock::matchers::any())
        .respond_with(KeepsDeletedMembers {
            service: double.service(),
            deleted: Default::default(),
            seen: Default::default(),
        })
        .with_priority(1)
        .mount(double.server())
        .await;
    let run = builtin_against(&double, "groups-membership::deleted_user").await;
    // Advice only: RFC 7644 3.6 does not name a group's member references.
    assert_eq!(run.failures(), Vec::<String>::new());
    let step = run.results[0]
        .steps
        .iter()
        .find(|s| s.id == "leaver_not_a_member")
        .unwrap();
    assert!(
        step.advice[0]
            .message
            .starts_with("expected not to contain"),
        "{:?}",
        step.advice
    );
}

/// The double, except that once a member of a group was deleted, every
/// later member PATCH of that group fails.
struct StuckAfterDelete {
    service: std::sync::Arc<std::sync::Mutex<scimcheck::double::service::Service>>,
    deleted: std::sync::atomic::AtomicBool,
}

impl wiremock::Respond for StuckAfterDelete {
    fn respond(&self, request: &wiremock::Request) -> ResponseTemplate {
        let scim = scimcheck::double::server::service_request(request);
        if scim.method == "PATCH"
            && scim.path.starts_with("/Groups/")
            && self.deleted.load(std::sync::atomic::Ordering::SeqCst)
        {
            return ResponseTemplate::new(400).set_body_raw(
                r#"{"schemas":["urn:ietf:params:scim:api:messages:2.0:Error"],"status":"400","detail":"member not found"}"#,
                "application/scim+json",
            );
        }
        let response = self.service.lock().unwrap().handle(&scim);
        if scim.method == "DELETE" && scim.path.starts_with("/Users/") && response.status == 204 {
            self.deleted
                .store(true, std::sync::atomic::Ordering::SeqCst);
        }
        scimcheck::double::server::response_template(&response)
    }
}

#[tokio::test]
async fn builtin_membership_suite_catches_member_patches_failing_after_a_delete() {
    let double = common::double().await;
    Mock::given(wiremock::matchers::any())
        .respond_with(StuckAfterDelete {
            service: double.service(),
            deleted: Default::default(),
        })
        .with_priority(1)
        .mount(double.server())
        .await;
    let run = builtin_against(&double, "groups-membership::deleted_user").await;
    run.fails_only_at("add_after_delete", "status: expected 200 or 204, got 400");
}
