//! Proof that the dialect suites can fail: the built-in double with one
//! client-specific defect mounted over it must give the right blocking
//! finding (or advice), with what the client does and how to fix it.

mod common;

use scimcheck::exec::ScenarioResult;
use scimcheck::report::verdict::{self, Verdict};
use wiremock::matchers::{body_string_contains, method, path, path_regex, query_param_contains};
use wiremock::{Mock, ResponseTemplate};

fn error(status: u16, scim_type: &str) -> ResponseTemplate {
    let body = serde_json::json!({
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:Error"],
        "status": status.to_string(), "scimType": scim_type, "detail": "refused by the defect"
    });
    ResponseTemplate::new(status).set_body_raw(body.to_string(), "application/scim+json")
}

/// Runs the built-in suites named by `filter` against a double carrying `defect`.
async fn run_with_defect(filter: &str, defect: Mock) -> (Vec<ScenarioResult>, Vec<Verdict>) {
    let double = common::double_with_defect(defect).await;
    let results = common::run_builtin(&double.base_url(), filter).await;
    let verdicts = verdict::verdicts(&results);
    (results, verdicts)
}

/// The blocking findings, all of which must come from one step: that step's
/// place and its first finding, as `place: what`.
fn only_blocking(verdicts: &[Verdict]) -> String {
    let blocking: Vec<&verdict::Finding> = verdicts.iter().flat_map(|v| &v.blocking).collect();
    assert!(!blocking.is_empty(), "no blocking finding");
    assert_eq!(
        blocking.len(),
        1,
        "findings from several steps: {blocking:#?}"
    );
    format!("{}: {}", blocking[0].place, blocking[0].what)
}

#[tokio::test]
async fn entra_test_connection_catches_404_for_no_match() {
    let defect = Mock::given(method("GET"))
        .and(path("/Users"))
        .respond_with(error(404, "invalidValue"));
    let (_, verdicts) = run_with_defect("entra::test-connection", defect).await;
    assert_eq!(
        only_blocking(&verdicts),
        "entra::test-connection::test_connection › query_random_guid: status: expected 200, got 404 (detail: refused by the defect)"
    );
    let text = verdict::render(&verdicts, &[], false);
    assert!(
        text.contains("Microsoft Entra ID: not ready: 1 blocking cause (1 step failing)\n"),
        "{text}"
    );
    // The checks that presume a 200 are not evaluated, so one cause is one finding.
    assert!(!text.contains("more failed check"), "{text}");
    assert!(
        text.contains("what Microsoft Entra ID does: Test Connection fails"),
        "{text}"
    );
    assert!(
        text.contains("fix: Answer a filter that matches nothing with 200"),
        "{text}"
    );
}

#[tokio::test]
async fn entra_catches_a_refused_pathless_replace() {
    let defect = Mock::given(method("PATCH"))
        .and(body_string_contains("\"name.givenName\""))
        .respond_with(error(400, "invalidPath"));
    let (_, verdicts) = run_with_defect("entra::users", defect).await;
    assert!(only_blocking(&verdicts).starts_with(
        "entra::users::user_lifecycle › pathless_replace: status: expected 200 or 204, got 400"
    ));
}

#[tokio::test]
async fn entra_catches_a_refused_string_manager() {
    let defect = Mock::given(method("PATCH"))
        .and(body_string_contains(":User:manager\""))
        .respond_with(error(400, "invalidValue"));
    let (_, verdicts) = run_with_defect("entra::users", defect).await;
    assert!(
        only_blocking(&verdicts).starts_with("entra::users::user_lifecycle › add_manager: status")
    );
}

#[tokio::test]
async fn entra_catches_an_ignored_member_removal() {
    let defect = Mock::given(method("PATCH"))
        .and(body_string_contains("members[value eq"))
        .respond_with(ResponseTemplate::new(204));
    let (_, verdicts) = run_with_defect("entra::groups", defect).await;
    assert!(
        only_blocking(&verdicts).starts_with(
            "entra::groups::group_lifecycle › verify_removed: json /members: expected 1 element(s)"
        ),
        "{}",
        only_blocking(&verdicts)
    );
}

/// The double, except that it ignores the query parameter named (a server
/// that does not implement it).
struct IgnoresQuery(
    std::sync::Arc<std::sync::Mutex<scimcheck::double::service::Service>>,
    &'static str,
);

impl wiremock::Respond for IgnoresQuery {
    fn respond(&self, request: &wiremock::Request) -> ResponseTemplate {
        let mut scim = scimcheck::double::server::service_request(request);
        scim.query.retain(|(k, _)| k != self.1);
        let response = self.0.lock().unwrap().handle(&scim);
        scimcheck::double::server::response_template(&response)
    }
}

#[tokio::test]
async fn entra_advises_on_members_returned_despite_exclusion() {
    let double = common::double().await;
    Mock::given(method("GET"))
        .and(path_regex("^/Groups/[^/]+$"))
        .respond_with(IgnoresQuery(double.service(), "excludedAttributes"))
        .with_priority(1)
        .mount(double.server())
        .await;
    let results = common::run_builtin(&double.base_url(), "entra::groups").await;
    let verdicts = verdict::verdicts(&results);
    assert!(
        verdicts[0].blocking.is_empty(),
        "{:?}",
        verdicts[0].blocking
    );
    let advice: Vec<String> = verdicts[0]
        .advice
        .iter()
        .map(|f| format!("{}: {}", f.place, f.what))
        .collect();
    assert_eq!(advice.len(), 1, "{advice:?}");
    assert!(advice[0].starts_with("entra::groups::group_lifecycle › excluded_members_stay_out: json /members: expected to be absent, got"), "{advice:?}");
    assert!(verdict::render(&verdicts, &[], false).contains("Microsoft Entra ID: ready"));
    // Part of a profile run clean (filters, the user's suites alone) is no certification.
    let partial = verdict::render(&verdicts, &[], true);
    assert!(!partial.contains(": ready"), "{partial}");
    assert!(
        partial.contains("Microsoft Entra ID: no blocking cause in the"),
        "{partial}"
    );
}

#[tokio::test]
async fn entra_legacy_catches_case_sensitive_op_names() {
    let defect = Mock::given(method("PATCH"))
        .and(body_string_contains("\"op\":\"Replace\""))
        .respond_with(error(400, "invalidSyntax"));
    let (_, verdicts) = run_with_defect("entra-legacy::users-and-groups::disable", defect).await;
    let finding = &verdicts[0].blocking[0];
    assert_eq!(
        finding.place,
        "entra-legacy::users-and-groups::disable_with_string_false › replace_capitalized"
    );
    assert_eq!(
        finding.fix.as_deref(),
        Some("Compare op names ignoring letter case (`Replace`, `Add`, `Remove`).")
    );
}

#[tokio::test]
async fn entra_legacy_catches_an_ignored_string_false() {
    // Everything else works; only the "False" string is accepted and dropped.
    let defect = Mock::given(method("PATCH"))
        .and(body_string_contains("\"value\":\"False\""))
        .respond_with(ResponseTemplate::new(204));
    let (_, verdicts) = run_with_defect("entra-legacy::users-and-groups::disable", defect).await;
    assert_eq!(
        only_blocking(&verdicts),
        "entra-legacy::users-and-groups::disable_with_string_false › verify_disabled: json /active: expected false, got true"
    );
}

#[tokio::test]
async fn entra_legacy_catches_removing_every_member() {
    // The RFC's reading of a path-only remove: all members go.
    let defect = Mock::given(method("PATCH"))
        .and(body_string_contains(
            "\"op\":\"Remove\",\"path\":\"members\",\"value\"",
        ))
        .respond_with(ResponseTemplate::new(204));
    let (_, verdicts) =
        run_with_defect("entra-legacy::users-and-groups::remove_member", defect).await;
    assert!(
        only_blocking(&verdicts)
            .contains("verify_removed: json /members: expected 1 element(s), got"),
        "{}",
        only_blocking(&verdicts)
    );
}

#[tokio::test]
async fn okta_catches_a_duplicate_accepted() {
    let created = serde_json::json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "id": "dup", "userName": "x"});
    // Only the duplicate matches: Okta's first create carries a password, the duplicate none.
    let defect = Mock::given(method("POST"))
        .and(path("/Users"))
        .and(NoPassword)
        .respond_with(
            ResponseTemplate::new(201).set_body_raw(created.to_string(), "application/scim+json"),
        );
    let (_, verdicts) = run_with_defect("okta::users", defect).await;
    assert_eq!(
        only_blocking(&verdicts),
        "okta::users::user_lifecycle › duplicate: status: expected 409, got 201"
    );
}

/// Matches a request whose body has no password.
struct NoPassword;

impl wiremock::Match for NoPassword {
    fn matches(&self, request: &wiremock::Request) -> bool {
        !String::from_utf8_lossy(&request.body).contains("\"password\"")
    }
}

#[tokio::test]
async fn okta_tolerates_404_on_lookup_as_advice() {
    let defect = Mock::given(method("GET"))
        .and(path("/Users"))
        .and(query_param_contains("filter", "-okta@"))
        .respond_with(error(404, "invalidValue"));
    let (_, verdicts) = run_with_defect("okta::users", defect).await;
    let okta = &verdicts[0];
    assert!(okta.blocking.is_empty(), "{:?}", okta.blocking);
    assert!(okta.ready());
    let advice: Vec<String> = okta
        .advice
        .iter()
        .map(|f| format!("{}: {}", f.place, f.what))
        .collect();
    assert_eq!(
        advice[0],
        "okta::users::user_lifecycle › lookup: status: expected 200, got 404 (detail: refused by the defect)"
    );
    let text = verdict::render(&verdicts, &[], false);
    assert!(
        text.contains("Okta: ready") && text.contains("advice (SHOULD, not blocking):"),
        "{text}"
    );
}

#[tokio::test]
async fn okta_catches_a_rename_refused_for_its_id() {
    let defect = Mock::given(method("PATCH"))
        .and(path_regex("^/Groups/"))
        .and(body_string_contains("\"value\":{\"id\":"))
        .respond_with(error(400, "mutability"));
    let (_, verdicts) = run_with_defect("okta::groups", defect).await;
    assert!(only_blocking(&verdicts).starts_with(
        "okta::groups::push_group › rename_and_add: status: expected 200 or 204, got 400"
    ));
}

#[tokio::test]
async fn okta_catches_string_counts_in_paging() {
    let page = serde_json::json!({
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:ListResponse"],
        "totalResults": "3", "startIndex": "1", "itemsPerPage": "2",
        "Resources": [{"id": "a"}, {"id": "b"}]
    });
    let defect = Mock::given(method("GET"))
        .and(path("/Users"))
        .and(query_param_contains("startIndex", "1"))
        .respond_with(
            ResponseTemplate::new(200).set_body_raw(page.to_string(), "application/scim+json"),
        );
    let (_, verdicts) = run_with_defect("okta::import", defect).await;
    let finding = only_blocking(&verdicts);
    assert!(
        finding
            .starts_with("okta::import::paging › page_one: schema list-response: 3 violation(s):"),
        "{finding}"
    );
}

#[tokio::test]
async fn okta_catches_members_not_emptied() {
    let defect = Mock::given(method("PATCH"))
        .and(body_string_contains(
            "\"op\":\"replace\",\"path\":\"members\",\"value\":[]",
        ))
        .respond_with(ResponseTemplate::new(204));
    let (_, verdicts) = run_with_defect("okta::groups", defect).await;
    assert!(
        only_blocking(&verdicts).starts_with(
            "okta::groups::push_group › verify_empty: json /members: expected not to contain"
        ),
        "{}",
        only_blocking(&verdicts)
    );
}

/// The steps of the first scenario as `id: passed|failed|not run (why)`.
fn step_states(results: &[ScenarioResult]) -> Vec<String> {
    results[0]
        .steps
        .iter()
        .map(|s| match (&s.not_run, s.failed()) {
            (Some(why), _) => format!("{}: not run ({why})", s.id),
            (None, true) => format!("{}: failed", s.id),
            (None, false) => format!("{}: passed", s.id),
        })
        .collect()
}

#[tokio::test]
async fn a_refused_manager_format_does_not_hide_disable_re_enable_and_delete() {
    let defect = Mock::given(method("PATCH"))
        .and(body_string_contains("enterprise:2.0:User:manager"))
        .respond_with(error(400, "invalidValue"));
    let (results, verdicts) = run_with_defect("entra::users::user_lifecycle", defect).await;
    let states = step_states(&results);
    for ran in [
        "add_manager: failed",
        "verify_manager: not run (it builds on step `add_manager`, which failed)",
        "disable: passed",
        "verify_disabled: passed",
        "re_enable: passed",
        "verify_enabled: passed",
        "delete: passed",
        "verify_deleted: passed",
    ] {
        assert!(states.contains(&ran.to_string()), "{ran}: {states:#?}");
    }
    assert_eq!(
        only_blocking(&verdicts),
        "entra::users::user_lifecycle › add_manager: status: expected 200 or 204, got 400 (detail: refused by the defect)"
    );
    // What did not run is named, and keeps the verdict from "ready".
    assert_eq!(
        verdicts[0].not_assessed,
        [
            "entra::users::user_lifecycle: 1 step not run (blocked by `add_manager`, which failed): verify_manager"
        ]
    );
    let text = verdict::render(&verdicts, &[], false);
    assert!(text.contains("not assessed (steps not run):"), "{text}");
}

#[tokio::test]
async fn a_refused_create_blocks_only_what_builds_on_it_and_counts_once() {
    let defect = Mock::given(method("POST"))
        .and(path("/Users"))
        .and(body_string_contains("jdoe@example.com"))
        .respond_with(error(400, "invalidValue"));
    let (results, verdicts) = run_with_defect("entra::users::user_lifecycle", defect).await;
    let states = step_states(&results);
    // The lookups before the create ran; the fixture manager was created.
    assert!(
        states.contains(&"match_by_username: passed".into()),
        "{states:#?}"
    );
    assert!(
        states.contains(&"create_manager: passed".into()),
        "{states:#?}"
    );
    assert!(states.contains(&"create: failed".into()), "{states:#?}");
    assert!(
        states.contains(&"verify_deleted: not run (it builds on step `delete`, which did not run (`create` failed))".into()),
        "{states:#?}"
    );
    // One refused create is one finding with one failed check, not five.
    let create = results[0].steps.iter().find(|s| s.id == "create").unwrap();
    assert_eq!(create.failures.len(), 1, "{:?}", create.failures);
    assert!(
        create
            .not_evaluated
            .contains(&("must", "schema user".to_string())),
        "{:?}",
        create.not_evaluated
    );
    assert_eq!(verdicts[0].blocking.len(), 1, "{:#?}", verdicts[0].blocking);
}

#[tokio::test]
async fn a_failing_fixture_is_could_not_set_up_not_a_finding() {
    // The member fixtures of the group scenario are refused.
    let defect = Mock::given(method("POST"))
        .and(path("/Users"))
        .respond_with(error(500, "invalidValue"));
    let (_, verdicts) = run_with_defect("entra::groups::group_lifecycle", defect).await;
    let v = &verdicts[0];
    let setup: Vec<String> = v.setup.iter().map(|f| f.place.clone()).collect();
    assert_eq!(
        setup,
        ["entra::groups::group_lifecycle › member_one"],
        "{:#?}",
        v.setup
    );
    assert_eq!(
        v.setup[0].also,
        ["entra::groups::group_lifecycle › member_two"]
    );
    assert!(v.setup[0].impact.is_none() && v.setup[0].fix.is_none());
    // The group itself is still created, renamed and looked up.
    assert!(v.blocking.is_empty(), "{:#?}", v.blocking);
    assert!(!v.ready());
    let text = verdict::render(&verdicts, &[], false);
    assert!(
        text.contains("could not set up: entra::groups::group_lifecycle › member_one: status: expected 201, got 500"),
        "{text}"
    );
    assert!(!text.contains("what Microsoft Entra ID does"), "{text}");
}

#[tokio::test]
async fn root_search_not_offered_is_info_and_the_run_passes() {
    let defect = Mock::given(method("POST"))
        .and(path("/.search"))
        .respond_with(error(501, "invalidValue"));
    let (results, verdicts) = run_with_defect("rfc7644::queries::filters", defect).await;
    assert_eq!(results[0].outcome, scimcheck::exec::Outcome::Passed);
    let root = results[0]
        .steps
        .iter()
        .find(|s| s.id == "search_at_the_root")
        .unwrap();
    assert!(
        root.failures.is_empty() && root.advice.is_empty(),
        "{root:?}"
    );
    assert!(
        root.notes[0]
            .message
            .starts_with("answered 501: the service provider does not offer")
    );
    assert!(verdicts[0].ready(), "{:#?}", verdicts[0]);
}

#[tokio::test]
async fn root_search_answered_500_is_still_a_failure() {
    let defect = Mock::given(method("POST"))
        .and(path("/.search"))
        .respond_with(error(500, "invalidValue"));
    let (_, verdicts) = run_with_defect("rfc7644::queries::filters", defect).await;
    assert!(
        only_blocking(&verdicts).starts_with("rfc7644::queries::filters_pages_and_projections › search_at_the_root: status: expected 200, got 500"),
        "{:#?}",
        verdicts[0].blocking
    );
}

#[tokio::test]
async fn a_refused_client_body_is_one_finding_and_the_lifecycle_goes_on_from_the_minimal_one() {
    // As scim2-server does: Entra's ADSCIM group schema URN is refused.
    let defect = Mock::given(method("POST"))
        .and(path("/Groups"))
        .and(body_string_contains("ADSCIM"))
        .respond_with(error(400, "invalidSyntax"));
    let (results, verdicts) = run_with_defect("entra::groups::group_lifecycle", defect).await;
    let states = step_states(&results);
    for expected in [
        "create: failed",
        "create_minimal: passed",
        "match_after_create: passed",
        "rename: passed",
        "verify_members: passed",
        "verify_removed: passed",
        "delete: passed",
    ] {
        assert!(
            states.contains(&expected.to_string()),
            "{expected}: {states:#?}"
        );
    }
    assert!(
        only_blocking(&verdicts)
            .starts_with("entra::groups::group_lifecycle › create: status: expected 201, got 400"),
        "{:#?}",
        verdicts[0].blocking
    );
    assert!(
        verdicts[0].not_assessed.is_empty(),
        "{:?}",
        verdicts[0].not_assessed
    );
}

#[tokio::test]
async fn without_a_failure_the_stand_in_is_not_needed_and_leaves_nothing_unassessed() {
    let double = common::double().await;
    let results = common::run_builtin(&double.base_url(), "entra::users::user_lifecycle").await;
    let minimal = results[0]
        .steps
        .iter()
        .find(|s| s.id == "create_minimal")
        .unwrap();
    assert_eq!(
        minimal.not_run.as_deref(),
        Some("not needed: `create` did not fail")
    );
    assert!(minimal.exchange.is_none());
    assert!(verdict::verdicts(&results)[0].ready());
}

#[tokio::test]
async fn test_connection_catches_a_server_that_ignores_filters() {
    let double = common::double().await;
    Mock::given(method("GET"))
        .and(path("/Users"))
        .and(query_param_contains("filter", "eq"))
        .respond_with(IgnoresQuery(double.service(), "filter"))
        .with_priority(1)
        .mount(double.server())
        .await;
    let results = common::run_builtin(&double.base_url(), "entra::test-connection").await;
    assert!(
        only_blocking(&verdict::verdicts(&results))
            .starts_with("entra::test-connection::test_connection › query_random_guid: json /totalResults: expected 0, got 1"),
        "{:#?}",
        verdict::verdicts(&results)
    );
}

#[tokio::test]
async fn entra_catches_a_refused_external_id_change() {
    let defect = Mock::given(method("PATCH"))
        .and(body_string_contains("\"path\":\"externalId\""))
        .respond_with(error(501, "invalidValue"));
    let (_, verdicts) = run_with_defect("entra::users::user_lifecycle", defect).await;
    assert_eq!(
        only_blocking(&verdicts),
        "entra::users::user_lifecycle › update_external_id: status: expected 200 or 204, got 501 (detail: refused by the defect)"
    );
}

#[tokio::test]
async fn entra_catches_a_server_error_on_an_unknown_member() {
    let defect = Mock::given(method("PATCH"))
        .and(body_string_contains("no-such-user"))
        .respond_with(error(500, "invalidValue"));
    let (_, verdicts) = run_with_defect("entra::groups::group_lifecycle", defect).await;
    assert!(
        only_blocking(&verdicts).starts_with(
            "entra::groups::group_lifecycle › add_unknown_member: status: expected 200 or 204 or 400 or 404, got 500"
        ),
        "{:#?}",
        verdicts[0].blocking
    );
}

#[tokio::test]
async fn an_unknown_member_stored_is_advice_not_a_failure() {
    // As a lax server does: the unknown member is accepted (204) and kept.
    let defect = Mock::given(method("PATCH"))
        .and(body_string_contains("no-such-user"))
        .respond_with(ResponseTemplate::new(204));
    let (results, verdicts) = run_with_defect("entra::groups::group_lifecycle", defect).await;
    assert!(
        verdicts[0].blocking.is_empty(),
        "{:#?}",
        verdicts[0].blocking
    );
    let add = results[0]
        .steps
        .iter()
        .find(|s| s.id == "add_unknown_member")
        .unwrap();
    assert_eq!(add.advice.len(), 1, "{:?}", add.advice);
}

#[tokio::test]
async fn a_filter_on_an_unknown_attribute_answered_as_no_match_is_advice() {
    let defect = Mock::given(method("GET"))
        .and(path("/Users"))
        .and(query_param_contains("filter", "scimcheckNoSuchAttribute"))
        .respond_with(ResponseTemplate::new(200).set_body_raw(
            r#"{"schemas":["urn:ietf:params:scim:api:messages:2.0:ListResponse"],"totalResults":0,"Resources":[]}"#,
            "application/scim+json",
        ));
    let (results, verdicts) =
        run_with_defect("rfc7644::errors::filter_on_an_unknown_attribute", defect).await;
    assert!(
        verdicts[0].blocking.is_empty(),
        "{:#?}",
        verdicts[0].blocking
    );
    assert_eq!(results[0].steps[0].advice[0].check, "status");
}

#[tokio::test]
async fn an_error_sent_as_application_json_is_advice() {
    let defect = Mock::given(method("GET"))
        .and(path_regex("no-such-id$"))
        .respond_with(ResponseTemplate::new(404).set_body_raw(
            r#"{"schemas":["urn:ietf:params:scim:api:messages:2.0:Error"],"status":"404"}"#,
            "application/json",
        ));
    let (results, verdicts) = run_with_defect("rfc7644::errors::unknown_id_is_404", defect).await;
    assert!(
        verdicts[0].blocking.is_empty(),
        "{:#?}",
        verdicts[0].blocking
    );
    assert_eq!(results[0].steps[0].advice[0].check, "header content-type");
}
