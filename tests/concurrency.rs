//! A 5xx met while other scenarios ran beside is run again alone: when it
//! does not recur it is told as "under concurrency", apart from conformance
//! findings; when it does, it stays a finding.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use scimcheck::double::service::Service;
use scimcheck::exec::Outcome;
use scimcheck::runner;
use wiremock::matchers::{method, path};
use wiremock::{Mock, ResponseTemplate};

/// The double, except that the first `failing` group creates answer 500,
/// as a single-writer store does under load.
struct BusyAtFirst {
    service: Arc<Mutex<Service>>,
    failing: usize,
    seen: AtomicUsize,
}

impl wiremock::Respond for BusyAtFirst {
    fn respond(&self, request: &wiremock::Request) -> ResponseTemplate {
        if self.seen.fetch_add(1, Ordering::SeqCst) < self.failing {
            return ResponseTemplate::new(500).set_body_raw(
                r#"{"schemas":["urn:ietf:params:scim:api:messages:2.0:Error"],"status":"500","detail":"database is locked"}"#,
                "application/scim+json",
            );
        }
        let scim = scimcheck::double::server::service_request(request);
        let response = self.service.lock().unwrap().handle(&scim);
        scimcheck::double::server::response_template(&response)
    }
}

async fn run(failing: usize, concurrency: usize) -> Vec<scimcheck::exec::ScenarioResult> {
    let double = common::double().await;
    Mock::given(method("POST"))
        .and(path("/Groups"))
        .respond_with(BusyAtFirst {
            service: double.service(),
            failing,
            seen: AtomicUsize::new(0),
        })
        .with_priority(1)
        .mount(double.server())
        .await;
    let plan = runner::load_plan(&runner::SuiteSources {
        builtin: true,
        dirs: Vec::new(),
    })
    .unwrap();
    let plan = runner::select(plan, &["groups-membership::add_and_remove_member".into()]);
    let dir = tempfile::tempdir().unwrap();
    let mut settings = common::settings(common::target(&double.base_url()), dir.path());
    settings.concurrency = concurrency;
    runner::run(&plan, settings).await.unwrap().results
}

#[tokio::test]
async fn a_5xx_that_does_not_recur_alone_is_told_apart() {
    let results = run(1, 4).await;
    assert_eq!(results[0].outcome, Outcome::Passed);
    assert_eq!(results[0].under_concurrency.len(), 1);
    assert!(
        results[0].under_concurrency[0].starts_with("create_group: answered 500"),
        "{:?}",
        results[0].under_concurrency
    );
    let verdicts = scimcheck::report::verdict::verdicts(&results);
    let rfc = verdicts.iter().find(|v| v.profile.id == "rfc").unwrap();
    assert!(rfc.blocking.is_empty() && rfc.under_concurrency.len() == 1);
    let text = scimcheck::report::verdict::render(&verdicts, &[], false);
    assert!(text.contains("under concurrency"), "{text}");
}

#[tokio::test]
async fn a_5xx_that_recurs_alone_stays_a_finding() {
    let results = run(usize::MAX, 4).await;
    assert_eq!(results[0].outcome, Outcome::Failed);
    assert!(results[0].under_concurrency.is_empty());
}

#[tokio::test]
async fn a_serial_run_is_not_run_again() {
    let results = run(1, 1).await;
    assert_eq!(results[0].outcome, Outcome::Failed);
    assert!(results[0].under_concurrency.is_empty());
}
