//! What several test files share: running suites against a URL, and a
//! double with a defect mounted over it.

#![allow(dead_code, reason = "each test file uses a part of it")]

use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use scimcheck::check::snapshot::SnapshotStore;
use scimcheck::double::Double;
use scimcheck::double::service::{Request as ServiceRequest, Response as ServiceResponse, Service};
use scimcheck::exec::ScenarioResult;
use scimcheck::runner::{self, RunSettings, SuiteSources};
use scimcheck::target::Target;
use wiremock::Mock;

/// The token every test double requires, and every test target carries.
pub const TOKEN: &str = "scimcheck-test-token";

/// A target for `base_url` with the test token.
pub fn target(base_url: &str) -> Target {
    let mut target = Target::new(base_url);
    target.auth = scimcheck::target::Auth::Bearer(TOKEN.into());
    target
}

/// A double requiring the test token.
pub async fn double() -> Double {
    Double::start(Some(TOKEN.into())).await
}

/// Runs the scenarios of `sources` matching `filters` against `base_url`;
/// snapshots go to `snapshots`.
pub async fn run_sources(
    sources: SuiteSources,
    base_url: &str,
    filters: &[&str],
    snapshots: &std::path::Path,
) -> Vec<ScenarioResult> {
    let plan = runner::load_plan(&sources).unwrap_or_else(|e| panic!("{e}"));
    let filters: Vec<String> = filters.iter().map(|f| f.to_string()).collect();
    let plan = runner::select(plan, &filters);
    // The built-in suites come with those the target's own /Schemas call for.
    let (plan, _) =
        runner::with_schema_driven(plan, &target(base_url), sources.builtin, &[], &filters).await;
    assert!(
        plan.scenarios().count() > 0,
        "no scenario matches {filters:?}"
    );
    let mut target = target(base_url);
    target.timeout = Duration::from_millis(500);
    let settings = RunSettings {
        target,
        concurrency: 2,
        snapshots: SnapshotStore {
            dir: snapshots.to_path_buf(),
            accept: false,
            all: false,
        },
        run_id: None,
        interrupt: Default::default(),
        observer: None,
        probed: None,
    };
    runner::run(&plan, settings)
        .await
        .unwrap_or_else(|e| panic!("{e}"))
        .results
}

/// The built-in scenarios matching `filter`, against `base_url`.
pub async fn run_builtin(base_url: &str, filter: &str) -> Vec<ScenarioResult> {
    let dir = tempfile::tempdir().unwrap();
    let sources = SuiteSources {
        builtin: true,
        dirs: Vec::new(),
    };
    run_sources(sources, base_url, &[filter], dir.path()).await
}

/// A fresh double with `defect` answering before it.
pub async fn double_with_defect(defect: Mock) -> Double {
    let double = double().await;
    defect.with_priority(1).mount(double.server()).await;
    double
}

/// The settings of a one-at-a-time run against `target`, snapshots in `dir`.
pub fn settings(target: Target, dir: &std::path::Path) -> RunSettings {
    RunSettings {
        target,
        concurrency: 1,
        snapshots: SnapshotStore {
            dir: dir.to_path_buf(),
            accept: false,
            all: false,
        },
        run_id: None,
        interrupt: Default::default(),
        observer: None,
        probed: None,
    }
}

/// POSTs a SCIM body, expects 201 and returns the new id.
pub async fn post_scim(client: &reqwest::Client, url: String, body: serde_json::Value) -> String {
    let response = client
        .post(url)
        .header("content-type", "application/scim+json")
        .bearer_auth(TOKEN)
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 201);
    let created: serde_json::Value = response.json().await.unwrap();
    created["id"].as_str().unwrap().to_string()
}

/// GETs a URL and reads its JSON body.
pub async fn get_json(client: &reqwest::Client, url: String) -> serde_json::Value {
    client
        .get(url)
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// Changes the double's answers: `alter` edits each answer of the requests
/// `matcher` takes, after the double has handled them.
pub struct Tamper<F> {
    pub service: std::sync::Arc<std::sync::Mutex<Service>>,
    pub alter: F,
}

impl<F> wiremock::Respond for Tamper<F>
where
    F: Fn(&wiremock::Request, &mut ServiceResponse) + Send + Sync + 'static,
{
    fn respond(&self, request: &wiremock::Request) -> wiremock::ResponseTemplate {
        let scim = scimcheck::double::server::service_request(request);
        let mut response = self.service.lock().unwrap().handle(&scim);
        (self.alter)(request, &mut response);
        scimcheck::double::server::response_template(&response)
    }
}

/// A fresh double whose answers to the requests `given` matches are
/// edited by `alter`.
pub async fn tampered_double<F>(given: wiremock::MockBuilder, alter: F) -> Double
where
    F: Fn(&wiremock::Request, &mut ServiceResponse) + Send + Sync + 'static,
{
    let double = double().await;
    given
        .respond_with(Tamper {
            service: double.service(),
            alter,
        })
        // Above the double's own answers, below a defect mounted at 1.
        .with_priority(2)
        .mount(double.server())
        .await;
    double
}

/// A mock server that is enough of a SCIM endpoint for the run's preflight
/// (GET /Users?count=1 answers an empty ListResponse); a test's own mocks
/// take precedence.
pub async fn scim_server() -> wiremock::MockServer {
    use wiremock::matchers::{method, path, query_param};
    let server = wiremock::MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/Users"))
        .and(query_param("count", "1"))
        .respond_with(wiremock::ResponseTemplate::new(200).set_body_raw(
            r#"{"schemas":["urn:ietf:params:scim:api:messages:2.0:ListResponse"],"totalResults":0,"Resources":[]}"#,
            "application/scim+json",
        ))
        .with_priority(200)
        .mount(&server)
        .await;
    server
}

/// A request to the double's service with the test token.
pub fn request(method: &str, path: &str) -> ServiceRequest {
    ServiceRequest {
        method: method.into(),
        path: path.into(),
        query: Vec::new(),
        headers: [("authorization".to_string(), format!("Bearer {TOKEN}"))].into(),
        body: Vec::new(),
    }
}

/// The double, except that each 201 to `POST /Users` answers the id in
/// `answer` (once set); every request's method and raw path is logged.
pub struct LiesAboutIds {
    service: Arc<Mutex<Service>>,
    answer: Arc<OnceLock<String>>,
    log: Arc<Mutex<Vec<(String, String)>>>,
}

impl wiremock::Respond for LiesAboutIds {
    fn respond(&self, request: &wiremock::Request) -> wiremock::ResponseTemplate {
        self.log
            .lock()
            .unwrap()
            .push((request.method.to_string(), request.url.path().to_string()));
        let scim = scimcheck::double::server::service_request(request);
        let mut response = self.service.lock().unwrap().handle(&scim);
        let create = scim.method == "POST" && scim.path == "/Users";
        if let (true, 201, Some(id), Some(body)) = (
            create,
            response.status,
            self.answer.get(),
            response.body.as_mut(),
        ) {
            body["id"] = serde_json::json!(id);
        }
        scimcheck::double::server::response_template(&response)
    }
}

/// A double whose creates answer the id set in the returned cell, and the
/// log of what it received.
pub async fn lying_double() -> (
    Double,
    Arc<OnceLock<String>>,
    Arc<Mutex<Vec<(String, String)>>>,
) {
    let double = double().await;
    let answer: Arc<OnceLock<String>> = Default::default();
    let log: Arc<Mutex<Vec<(String, String)>>> = Default::default();
    Mock::given(wiremock::matchers::any())
        .respond_with(LiesAboutIds {
            service: double.service(),
            answer: answer.clone(),
            log: log.clone(),
        })
        .with_priority(1)
        .mount(double.server())
        .await;
    (double, answer, log)
}

/// How a defect bends one exchange: the request before the service sees it,
/// or the answer after; `Some` answers in the service's place.
pub type Bend = fn(&mut ServiceRequest, &Mutex<Service>) -> Option<ServiceResponse>;
pub type BendAnswer = fn(&ServiceRequest, &mut ServiceResponse);

pub struct Defective {
    service: Arc<Mutex<Service>>,
    before: Bend,
    after: BendAnswer,
}

impl wiremock::Respond for Defective {
    fn respond(&self, request: &wiremock::Request) -> wiremock::ResponseTemplate {
        let mut scim = scimcheck::double::server::service_request(request);
        let mut response = match (self.before)(&mut scim, &self.service) {
            Some(response) => response,
            None => self.service.lock().unwrap().handle(&scim),
        };
        (self.after)(&scim, &mut response);
        scimcheck::double::server::response_template(&response)
    }
}

/// The double with one defect, bending every exchange it serves.
pub async fn defective(before: Bend, after: BendAnswer) -> Double {
    let double = double().await;
    wiremock::Mock::given(wiremock::matchers::any())
        .respond_with(Defective {
            service: double.service(),
            before,
            after,
        })
        .with_priority(1)
        .mount(double.server())
        .await;
    double
}

pub fn as_is(_: &mut ServiceRequest, _: &Mutex<Service>) -> Option<ServiceResponse> {
    None
}

pub fn unchanged(_: &ServiceRequest, _: &mut ServiceResponse) {}
