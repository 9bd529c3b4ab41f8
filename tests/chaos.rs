//! Against a server that fails requests at random, a run leaves behind only
//! what it could not know about or could not delete, and
//! `scimcheck cleanup --run-id` removes that: zero leftovers.

mod common;

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use scimcheck::cleanup::cleanup_run;
use scimcheck::double::server::{response_template, service_request};
use scimcheck::double::service::Service;
use scimcheck::http::Client;
use scimcheck::runner::{self, SuiteSources};
use wiremock::matchers::any;
use wiremock::{Mock, Respond, ResponseTemplate};

/// One request in five fails before it is processed, one in ten after
/// (the change is made, the answer lost). Deterministic for a given order.
struct Chaos {
    service: Arc<Mutex<Service>>,
    on: Arc<AtomicBool>,
    state: AtomicU64,
}

impl Respond for Chaos {
    fn respond(&self, request: &wiremock::Request) -> ResponseTemplate {
        let scim = service_request(request);
        let lost = || ResponseTemplate::new(500).set_body_string("chaos");
        let roll = if self.on.load(Ordering::SeqCst) && scim.path != "/ServiceProviderConfig" {
            // A small LCG: the sequence repeats from run to run.
            let s = self
                .state
                .fetch_add(1, Ordering::SeqCst)
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (s >> 33) % 10
        } else {
            9
        };
        if roll < 2 {
            return lost();
        }
        let response = self.service.lock().unwrap().handle(&scim);
        if roll == 2 {
            lost()
        } else {
            response_template(&response)
        }
    }
}

fn prefixed(service: &Arc<Mutex<Service>>, base: &str, prefix: &str) -> Vec<String> {
    let mut names = Vec::new();
    for (endpoint, attribute) in [("Users", "userName"), ("Groups", "displayName")] {
        let request = scimcheck::double::service::Request {
            method: "GET".into(),
            path: format!("/{endpoint}"),
            query: Vec::new(),
            headers: [(
                "authorization".to_string(),
                format!("Bearer {}", common::TOKEN),
            )]
            .into(),
            body: Vec::new(),
        };
        let body = service.lock().unwrap().handle(&request).body.unwrap();
        for r in body["Resources"].as_array().unwrap() {
            let name = r[attribute].as_str().unwrap_or_default();
            if name.starts_with(prefix) {
                names.push(format!("{base}/{endpoint}/{name}"));
            }
        }
    }
    names
}

/// Every built-in suite against `double`, with no 429 retries, and the target used.
async fn run_builtin(
    double: &scimcheck::double::Double,
) -> (scimcheck::target::Target, runner::RunReport) {
    run_builtin_until(double, scimcheck::exec::Interrupt::default()).await
}

/// [`run_builtin`], ending early when `interrupt` is triggered.
async fn run_builtin_until(
    double: &scimcheck::double::Double,
    interrupt: scimcheck::exec::Interrupt,
) -> (scimcheck::target::Target, runner::RunReport) {
    let plan = runner::load_plan(&SuiteSources {
        builtin: true,
        dirs: Vec::new(),
    })
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut target = common::target(&double.base_url());
    target.max_retries = 0;
    let mut settings = common::settings(target.clone(), dir.path());
    settings.interrupt = interrupt;
    (target, runner::run(&plan, settings).await.unwrap())
}

#[tokio::test]
async fn no_leftovers_after_a_run_against_a_flaky_server() {
    let double = common::double().await;
    let on = Arc::new(AtomicBool::new(true));
    Mock::given(any())
        .respond_with(Chaos {
            service: double.service(),
            on: Arc::clone(&on),
            state: AtomicU64::new(7),
        })
        .with_priority(1)
        .mount(double.server())
        .await;
    let (target, report) = run_builtin(&double).await;
    let failed = report
        .results
        .iter()
        .filter(|r| r.outcome == scimcheck::exec::Outcome::Failed)
        .count();
    assert!(
        failed > 0,
        "the chaos made nothing fail: the test proves nothing"
    );

    let prefix = format!("scimcheck-{}", report.run_id);
    let left = prefixed(&double.service(), &double.base_url(), &prefix);
    let reported: usize = report
        .results
        .iter()
        .flat_map(|r| &r.cleanups)
        .filter(|c| c.problem.is_some())
        .count();
    eprintln!(
        "{failed} scenarios failed; {} resources left, {reported} cleanups reported as failed",
        left.len()
    );

    // The server is well again; the leftovers go.
    on.store(false, Ordering::SeqCst);
    let cleaned = cleanup_run(&Client::new(&target).unwrap(), &target, &report.run_id)
        .await
        .unwrap();
    assert_eq!(cleaned.deleted.len(), left.len(), "{cleaned:?}");
    assert!(cleaned.failed.is_empty(), "{cleaned:?}");
    assert_eq!(
        prefixed(&double.service(), &double.base_url(), &prefix),
        Vec::<String>::new()
    );
}

/// One request in four fails before it is processed (nothing done, 500).
struct FailsBefore {
    service: Arc<Mutex<Service>>,
    count: AtomicU64,
}

impl Respond for FailsBefore {
    fn respond(&self, request: &wiremock::Request) -> ResponseTemplate {
        let scim = service_request(request);
        let n = self.count.fetch_add(1, Ordering::SeqCst);
        if scim.path != "/ServiceProviderConfig" && n % 4 == 3 {
            return ResponseTemplate::new(500).set_body_string("flaky");
        }
        let response = self.service.lock().unwrap().handle(&scim);
        response_template(&response)
    }
}

#[tokio::test]
async fn cleanups_are_retried_so_a_flaky_server_keeps_nothing() {
    let double = common::double().await;
    Mock::given(any())
        .respond_with(FailsBefore {
            service: double.service(),
            count: AtomicU64::new(0),
        })
        .with_priority(1)
        .mount(double.server())
        .await;
    let (_, report) = run_builtin(&double).await;
    let prefix = format!("scimcheck-{}", report.run_id);
    assert_eq!(
        prefixed(&double.service(), &double.base_url(), &prefix),
        Vec::<String>::new(),
        "left behind after the run itself"
    );
    let retried = report
        .results
        .iter()
        .flat_map(|r| &r.cleanups)
        .filter(|c| c.exchange.as_ref().is_some_and(|e| !e.retries.is_empty()))
        .count();
    assert!(
        retried > 0,
        "no cleanup met a failure: the test proves nothing"
    );
    let unreported = report
        .results
        .iter()
        .flat_map(|r| &r.cleanups)
        .filter(|c| c.problem.is_some())
        .count();
    assert_eq!(unreported, 0);
}

/// FailsBefore, and an interruption (as Ctrl-C gives) once `after` requests came.
struct FailsThenInterrupted {
    inner: FailsBefore,
    interrupt: scimcheck::exec::Interrupt,
    after: u64,
}

impl Respond for FailsThenInterrupted {
    fn respond(&self, request: &wiremock::Request) -> ResponseTemplate {
        if self.inner.count.load(Ordering::SeqCst) == self.after {
            self.interrupt.trigger();
        }
        self.inner.respond(request)
    }
}

#[tokio::test]
async fn an_interrupted_run_against_a_flaky_server_keeps_nothing() {
    for after in [40, 100, 160] {
        let double = common::double().await;
        let interrupt = scimcheck::exec::Interrupt::default();
        Mock::given(any())
            .respond_with(FailsThenInterrupted {
                inner: FailsBefore {
                    service: double.service(),
                    count: AtomicU64::new(0),
                },
                interrupt: interrupt.clone(),
                after,
            })
            .with_priority(1)
            .mount(double.server())
            .await;
        let (_, report) = run_builtin_until(&double, interrupt.clone()).await;
        assert!(
            interrupt.is_set(),
            "the run ended before {after} requests: the test proves nothing"
        );
        let interrupted = report.results.iter().filter(|r| r.interrupted).count();
        assert!(
            interrupted > 0,
            "nothing was interrupted after {after} requests"
        );
        let prefix = format!("scimcheck-{}", report.run_id);
        let left = prefixed(&double.service(), &double.base_url(), &prefix);
        eprintln!(
            "interrupted after {after} requests: {interrupted} scenarios stopped, {} resources left",
            left.len()
        );
        assert_eq!(
            left,
            Vec::<String>::new(),
            "left behind after an interruption at request {after}"
        );
    }
}
