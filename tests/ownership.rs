//! A server that lies about what it created costs nobody their account: a
//! create answering another resource's id, or an id that climbs out of its
//! collection, gets no write of the run's (every PATCH, PUT and DELETE asks
//! the ownership rule first), and what the run did create is still removed
//! when the create's answer fails a check.

mod common;

use std::sync::{Arc, Mutex};

use common::lying_double;
use scimcheck::exec::{OWNERSHIP_CHECK, Outcome, ScenarioResult};
use serde_json::{Value, json};
use wiremock::matchers::{method, path};

/// A customer's user and a group holding it, as a real tenant has them:
/// `(user id, group id)`.
async fn seed(base: &str) -> (String, String) {
    let client = reqwest::Client::new();
    let user = common::post_scim(
        &client,
        format!("{base}/Users"),
        json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
            "userName": "jane@customer.example", "active": true,
            "name": {"givenName": "Jane", "familyName": "Customer"}
        }),
    )
    .await;
    let group = common::post_scim(
        &client,
        format!("{base}/Groups"),
        json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
            "displayName": "Finance", "members": [{"value": user}]
        }),
    )
    .await;
    (user, group)
}

/// The resources at `paths`, as the server answers them now.
async fn read(base: &str, paths: &[String]) -> Vec<Value> {
    let client = reqwest::Client::new();
    let mut out = Vec::new();
    for p in paths {
        out.push(common::get_json(&client, format!("{base}{p}")).await);
    }
    out
}

/// Every request other than a read that reached `target`.
fn writes_to(log: &Mutex<Vec<(String, String)>>, target: &str) -> Vec<String> {
    log.lock()
        .unwrap()
        .iter()
        .filter(|(method, path)| method != "GET" && path == target)
        .map(|(method, path)| format!("{method} {path}"))
        .collect()
}

/// The run's own users still on the server.
async fn run_users_left(base: &str) -> Vec<Value> {
    let client = reqwest::Client::new();
    let users = common::get_json(&client, format!("{base}/Users?count=1000")).await;
    users["Resources"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|u| u["userName"].as_str().unwrap().starts_with("scimcheck-"))
        .cloned()
        .collect()
}

/// Every built-in suite against `base`, one scenario at a time: the whole
/// report, the sweep after the run included.
async fn run_every_builtin_suite(base: &str) -> scimcheck::runner::RunReport {
    let dir = tempfile::tempdir().unwrap();
    let plan = scimcheck::runner::load_plan(&scimcheck::runner::SuiteSources {
        builtin: true,
        dirs: Vec::new(),
    })
    .unwrap();
    let settings = common::settings(common::target(base), dir.path());
    scimcheck::runner::run(&plan, settings).await.unwrap()
}

fn refusals(results: &[ScenarioResult]) -> Vec<String> {
    results
        .iter()
        .flat_map(|r| &r.steps)
        .flat_map(|s| &s.failures)
        .filter(|f| f.check == OWNERSHIP_CHECK)
        .map(|f| f.message.clone())
        .collect()
}

/// Seeds a customer's user and group, makes every create answer the id
/// `lie` gives for them, runs every built-in suite, and checks that neither
/// the user nor the group changed nor got any write. The run's results and
/// the log of what the server received.
async fn run_against_a_lying_create(
    lie: impl FnOnce(&str, &str) -> String,
) -> (Vec<ScenarioResult>, Arc<Mutex<Vec<(String, String)>>>) {
    let (double, answer, log) = lying_double().await;
    let base = double.base_url();
    let (user, group) = seed(&base).await;
    answer.set(lie(&user, &group)).unwrap();
    let paths = [format!("/Users/{user}"), format!("/Groups/{group}")];
    let before = read(&base, &paths).await;

    let results = common::run_builtin(&base, "::").await;

    assert_eq!(
        read(&base, &paths).await,
        before,
        "the customer's data changed"
    );
    for path in &paths {
        assert_eq!(writes_to(&log, path), Vec::<String>::new());
    }
    assert!(!results.is_empty());
    (results, log)
}

#[tokio::test]
async fn a_create_answering_another_users_id_gets_no_write() {
    let (results, log) = run_against_a_lying_create(|user, _| user.to_string()).await;
    assert!(
        log.lock().unwrap().iter().any(|(m, _)| m == "PATCH"),
        "the run sent no write at all: the test proves nothing"
    );
    // Refused and said, naming who is there: a finding, not a silent skip.
    let refused = refusals(&results);
    assert!(!refused.is_empty(), "no write was refused");
    assert!(
        refused
            .iter()
            .all(|m| m.starts_with("not sent: ") && m.contains("jane@customer.example")),
        "{refused:?}"
    );
    assert!(results.iter().any(|r| r.outcome == Outcome::Failed));
}

#[tokio::test]
async fn the_runs_own_users_behind_a_lying_create_are_found_by_name() {
    let (double, customer, _) = lying_double().await;
    let base = double.base_url();
    let (user, _) = seed(&base).await;
    customer.set(user).unwrap();
    let report = run_every_builtin_suite(&base).await;
    let swept = report
        .swept
        .expect("ids were not the run's: the run looked")
        .unwrap();
    assert!(!swept.deleted.is_empty(), "{swept:?}");
    let left = run_users_left(&base).await;
    assert!(left.is_empty(), "left behind: {left:?}");
}

#[tokio::test]
async fn an_id_that_climbs_out_of_users_reaches_no_group() {
    let (_, log) = run_against_a_lying_create(|_, group| format!("x/../../Groups/{group}")).await;
    // Every request the run sent kept the id in one segment.
    let log = log.lock().unwrap();
    let climbed: Vec<_> = log
        .iter()
        .filter(|(_, p)| p.contains("/../") || p.ends_with("/..") || p.contains("/Groups/x"))
        .collect();
    assert!(climbed.is_empty(), "{climbed:?}");
    assert!(
        log.iter()
            .any(|(m, p)| m == "PATCH" && p.contains("x%2F..%2F..%2FGroups")),
        "no write used the lying id: the test proves nothing"
    );
}

#[tokio::test]
async fn a_create_failing_a_check_is_still_cleaned_up() {
    // 201 with the user, but without Location and meta: the create fails
    // its checks, and what it created must go all the same.
    let double = common::tampered_double(
        wiremock::Mock::given(method("POST")).and(path("/Users")),
        |_, response| {
            response
                .headers
                .retain(|(name, _)| !name.eq_ignore_ascii_case("location"));
            if let Some(body) = response.body.as_mut().and_then(Value::as_object_mut) {
                body.remove("meta");
            }
        },
    )
    .await;
    let base = double.base_url();

    let results = common::run_builtin(&base, "::").await;

    assert!(results.iter().any(|r| r.outcome == Outcome::Failed));
    let left = run_users_left(&base).await;
    assert!(left.is_empty(), "left behind: {left:?}");
}

#[tokio::test]
async fn the_read_before_a_write_is_not_conditional() {
    // A server that honours If-Match on reads too (RFC 9110 13.1.1 allows
    // it): a read-back carrying the step's stale If-Match would get 412.
    let double =
        common::tampered_double(wiremock::Mock::given(method("GET")), |request, response| {
            if request.headers.contains_key("if-match") {
                response.status = 412;
            }
        })
        .await;
    let results = common::run_builtin(&double.base_url(), "rfc7644::put-and-etag::").await;
    assert!(!results.is_empty());
    for r in &results {
        assert_eq!(r.outcome, Outcome::Passed, "{r:#?}");
    }
}

#[tokio::test]
async fn a_user_created_behind_a_500_is_found_by_name_and_removed() {
    // Every third create is done, then answered 500: the run never learns
    // those ids.
    let count = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let double = common::tampered_double(
        wiremock::Mock::given(method("POST")).and(path("/Users")),
        move |_, response| {
            let n = count.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            if response.status == 201 && n.is_multiple_of(3) {
                response.status = 500;
                response.body = Some(json!({
                    "schemas": ["urn:ietf:params:scim:api:messages:2.0:Error"],
                    "status": "500", "detail": "injected after the create"
                }));
            }
        },
    )
    .await;
    let base = double.base_url();
    let report = run_every_builtin_suite(&base).await;
    let swept = report
        .swept
        .expect("creates answered 500: the run looked")
        .unwrap();
    assert!(!swept.deleted.is_empty(), "{swept:?}");
    assert!(swept.failed.is_empty(), "{swept:?}");
    let left = run_users_left(&base).await;
    assert!(left.is_empty(), "left behind: {left:?}");
}

#[tokio::test]
async fn a_transient_500_on_the_service_provider_config_skips_nothing() {
    // The first three reads fail: each reader tries again within its own
    // read, so both (the schema-driven suite's and the run's) succeed.
    let failures = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let double = common::tampered_double(
        wiremock::Mock::given(method("GET")).and(path("/ServiceProviderConfig")),
        move |_, response| {
            if failures.fetch_add(1, std::sync::atomic::Ordering::SeqCst) < 3 {
                response.status = 500;
            }
        },
    )
    .await;
    let results = common::run_builtin(&double.base_url(), "::").await;
    let unread: Vec<_> = results
        .iter()
        .filter(
            |r| matches!(&r.outcome, Outcome::Skipped(why) if why.contains("could not be read")),
        )
        .map(|r| r.full_name.clone())
        .collect();
    assert!(unread.is_empty(), "{unread:?}");
}
