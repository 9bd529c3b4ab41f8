//! `scimcheck cleanup --run-id ID` deletes a run's leftovers and nothing else,
//! even against a server that ignores filters.

mod common;

use assert_cmd::cargo::cargo_bin_cmd;
use predicates::prelude::*;
use scimcheck::cleanup::cleanup_run;
use scimcheck::double::Double;
use scimcheck::double::server::{response_template, service_request};
use scimcheck::http::Client;
use scimcheck::target::Target;
use serde_json::json;
use wiremock::matchers::method;
use wiremock::{Mock, Respond, ResponseTemplate};

async fn seed(double: &Double) {
    let client = reqwest::Client::new();
    let base = double.base_url();
    for name in [
        "scimcheck-abc123def-0-x@example.com",
        "scimcheck-abc123def-3-y@example.com",
        // A duplicate check's name, in upper case but for the run id.
        "SCIMCHECK-abc123def-2-DUP@EXAMPLE.COM",
        "scimcheck-other999-0-z@example.com",
        "scimcheck-abc123defff-0-w@example.com",
        "bob@example.com",
    ] {
        let body =
            json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": name});
        let r = client
            .post(format!("{base}/Users"))
            .header("content-type", "application/scim+json")
            .body(body.to_string())
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 201);
    }
    for name in ["scimcheck-abc123def-1-group", "sales"] {
        common::post_scim(&client, format!("{base}/Groups"), json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": name})).await;
    }
}

async fn names(double: &Double) -> Vec<String> {
    let client = reqwest::Client::new();
    let mut out = Vec::new();
    for (endpoint, attribute) in [("Users", "userName"), ("Groups", "displayName")] {
        let body = common::get_json(&client, format!("{}/{endpoint}", double.base_url())).await;
        for r in body["Resources"].as_array().unwrap() {
            out.push(r[attribute].as_str().unwrap().to_string());
        }
    }
    out.sort();
    out
}

const REMAINING: [&str; 4] = [
    "bob@example.com",
    "sales",
    "scimcheck-abc123defff-0-w@example.com",
    "scimcheck-other999-0-z@example.com",
];

#[tokio::test]
async fn deletes_the_runs_leftovers_and_nothing_else() {
    let double = Double::start(None).await;
    seed(&double).await;
    let target = Target::new(&double.base_url());
    let report = cleanup_run(&Client::new(&target).unwrap(), &target, "abc123def")
        .await
        .unwrap();
    assert_eq!(report.deleted.len(), 4, "{report:?}");
    assert!(report.failed.is_empty());
    let mut expected: Vec<String> = REMAINING.iter().map(|s| s.to_string()).collect();
    expected.sort();
    assert_eq!(names(&double).await, expected);
}

/// The double, except that it ignores filters and lists everyone.
struct IgnoresFilters(std::sync::Arc<std::sync::Mutex<scimcheck::double::service::Service>>);

impl Respond for IgnoresFilters {
    fn respond(&self, request: &wiremock::Request) -> ResponseTemplate {
        let mut scim = service_request(request);
        scim.query.retain(|(k, _)| k != "filter");
        response_template(&self.0.lock().unwrap().handle(&scim))
    }
}

#[tokio::test]
async fn a_server_that_ignores_filters_costs_nobody_their_account() {
    let double = Double::start(None).await;
    seed(&double).await;
    Mock::given(method("GET"))
        .respond_with(IgnoresFilters(double.service()))
        .with_priority(1)
        .mount(double.server())
        .await;
    let target = Target::new(&double.base_url());
    let report = cleanup_run(&Client::new(&target).unwrap(), &target, "abc123def")
        .await
        .unwrap();
    assert_eq!(report.deleted.len(), 4, "{report:?}");
    assert_eq!(
        report.ignored, 4,
        "bob, sales and the two other runs were listed and left alone"
    );
    assert!(
        names(&double)
            .await
            .contains(&"bob@example.com".to_string())
    );
    assert!(
        names(&double)
            .await
            .contains(&"scimcheck-other999-0-z@example.com".to_string())
    );
}

/// The double, except that its listings pair every name with bob's id, and
/// its first listing answers 500.
struct PairsNamesWithBob {
    service: std::sync::Arc<std::sync::Mutex<scimcheck::double::service::Service>>,
    bob: String,
    failed_once: std::sync::atomic::AtomicBool,
}

impl Respond for PairsNamesWithBob {
    fn respond(&self, request: &wiremock::Request) -> ResponseTemplate {
        let scim = service_request(request);
        let listing = scim.query.iter().any(|(k, _)| k == "filter");
        if listing
            && !self
                .failed_once
                .swap(true, std::sync::atomic::Ordering::SeqCst)
        {
            return ResponseTemplate::new(500);
        }
        let mut response = self.service.lock().unwrap().handle(&scim);
        if listing && let Some(body) = response.body.as_mut() {
            for r in body["Resources"].as_array_mut().into_iter().flatten() {
                r["id"] = json!(self.bob);
            }
        }
        response_template(&response)
    }
}

#[tokio::test]
async fn a_listing_pairing_a_runs_name_with_another_id_deletes_nothing_and_a_5xx_is_retried() {
    let double = Double::start(None).await;
    seed(&double).await;
    let client = reqwest::Client::new();
    let listed = common::get_json(
        &client,
        format!(
            "{}/Users?filter=userName%20eq%20%22bob%40example.com%22",
            double.base_url()
        ),
    )
    .await;
    let bob = listed["Resources"][0]["id"].as_str().unwrap().to_string();
    Mock::given(method("GET"))
        .respond_with(PairsNamesWithBob {
            service: double.service(),
            bob,
            failed_once: Default::default(),
        })
        .with_priority(1)
        .mount(double.server())
        .await;
    let target = Target::new(&double.base_url());
    let report = cleanup_run(&Client::new(&target).unwrap(), &target, "abc123def")
        .await
        .unwrap();
    assert!(report.deleted.is_empty(), "{report:?}");
    assert!(!report.left_alone.is_empty(), "{report:?}");
    assert!(
        report.left_alone[0].contains("bob@example.com"),
        "{report:?}"
    );
    assert!(
        names(&double)
            .await
            .contains(&"bob@example.com".to_string())
    );
}

#[test]
fn the_command_reports_and_refuses_short_run_ids() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let double = runtime.block_on(async {
        let double = Double::start(None).await;
        seed(&double).await;
        double
    });
    cargo_bin_cmd!("scimcheck")
        .args([
            "cleanup",
            "--run-id",
            "abc123def",
            "--base-url",
            &double.base_url(),
        ])
        .assert()
        .code(0)
        .stdout(predicate::str::contains("deleted /Groups/"))
        .stdout(predicate::str::contains(
            "(scimcheck-abc123def-0-x@example.com)",
        ))
        .stdout(predicate::str::contains("4 deleted, 0 not deleted"));
    cargo_bin_cmd!("scimcheck")
        .args([
            "cleanup",
            "--run-id",
            "abc",
            "--base-url",
            &double.base_url(),
        ])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("is not a scimcheck run id"));
    drop(double);
}
