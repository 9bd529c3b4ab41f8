//! A broken, slow or hostile server gets a failed check with the reason:
//! never a panic, never a hang.

mod common;

mod fixture;

use std::time::{Duration, Instant};

use scimcheck::exec::ScenarioResult;
use scimcheck::runner::{self, SuiteSources};
use scimcheck::target::Target;

async fn get(path: &str, tune: impl FnOnce(&mut Target)) -> ScenarioResult {
    let server = fixture::start().await;
    let dir = tempfile::tempdir().unwrap();
    let suite = format!(
        "name: h\nscenarios:\n  - id: s\n    steps:\n      - id: get\n        request: {{ method: GET, path: {path} }}\n        expect: {{ status: 200, json: {{ /id: \"1\" }} }}\n"
    );
    std::fs::write(dir.path().join("h.yaml"), suite).unwrap();
    let plan = runner::load_plan(&SuiteSources {
        builtin: false,
        dirs: vec![dir.path().to_path_buf()],
    })
    .unwrap();
    let mut target = Target::new(&server.base_url);
    target.timeout = Duration::from_secs(1);
    tune(&mut target);
    let settings = common::settings(target, dir.path());
    let mut results = runner::run(&plan, settings).await.unwrap().results;
    results.remove(0)
}

fn failure(result: &ScenarioResult) -> String {
    let f = &result.steps[0].failures[0];
    format!("{}: {}", f.check, f.message)
}

#[tokio::test]
async fn a_body_that_never_finishes_times_out() {
    let started = Instant::now();
    let result = get("/stall", |_| {}).await;
    assert_eq!(
        failure(&result),
        "transport: no complete response within 1s"
    );
    assert!(started.elapsed() < Duration::from_secs(5));
}

#[tokio::test]
async fn a_connection_reset_mid_body_is_a_transport_failure() {
    let result = get("/reset", |_| {}).await;
    let message = failure(&result);
    assert!(message.starts_with("transport: "), "{message}");
    assert!(message.contains("body"), "{message}");
}

#[tokio::test]
async fn truncated_json_is_said_to_be_not_json() {
    let result = get("/truncated", |_| {}).await;
    let message = failure(&result);
    assert!(
        message.starts_with("json /id: the body is not JSON (EOF while parsing"),
        "{message}"
    );
}

#[tokio::test]
async fn a_huge_body_is_read_up_to_the_cap_only() {
    let result = get("/huge", |t| t.max_body = 1024 * 1024).await;
    assert_eq!(
        failure(&result),
        "transport: the response body exceeds 1048576 bytes"
    );
}

#[tokio::test]
async fn a_redirect_loop_is_cut() {
    let result = get("/redirect", |_| {}).await;
    assert_eq!(failure(&result), "transport: too many redirects");
}

#[tokio::test]
async fn an_html_error_page_fails_with_what_came() {
    let result = get("/html", |_| {}).await;
    let all: Vec<String> = result.steps[0]
        .failures
        .iter()
        .map(|f| format!("{}: {}", f.check, f.message))
        .collect();
    // One cause, one failure: the status, with what came instead of JSON.
    assert_eq!(all.len(), 1, "{all:?}");
    assert!(
        all[0].starts_with("status: expected 200, got 502 (a text/html")
            && all[0].contains("not JSON")
            && all[0].contains("502 Bad Gateway"),
        "{all:?}"
    );
}

#[tokio::test]
async fn a_429_is_retried_after_retry_after_and_said() {
    let started = Instant::now();
    let result = get("/throttle-once", |_| {}).await;
    assert!(
        result.steps[0].failures.is_empty(),
        "{:?}",
        result.steps[0].failures
    );
    let exchange = result.steps[0].exchange.as_ref().unwrap();
    assert_eq!(exchange.retries, ["429, Retry-After 1 s, waited 1 s"]);
    assert!(started.elapsed() >= Duration::from_secs(1));
}

#[tokio::test]
async fn retries_are_bounded() {
    let result = get("/throttle-always", |t| t.max_retries = 2).await;
    assert_eq!(failure(&result), "status: expected 200, got 429");
    assert_eq!(result.steps[0].exchange.as_ref().unwrap().retries.len(), 2);
}

#[tokio::test]
async fn retry_after_is_capped() {
    // Retry-After 1 s, but the cap is 0: no wait at all.
    let started = Instant::now();
    let result = get("/throttle-once", |t| t.max_retry_wait = Duration::ZERO).await;
    assert_eq!(
        result.steps[0].exchange.as_ref().unwrap().retries,
        ["429, Retry-After 1 s, waited 0 s"]
    );
    assert!(started.elapsed() < Duration::from_secs(1));
}

#[tokio::test]
async fn a_large_answer_is_checked_whole_but_kept_only_in_part() {
    use wiremock::matchers::{method, path};
    use wiremock::{Mock, ResponseTemplate};
    let server = common::scim_server().await;
    // 2 MiB of JSON whose last field is the one checked.
    let body = format!(r#"{{"pad":"{}","id":"1"}}"#, "é".repeat(1024 * 1024));
    Mock::given(method("GET"))
        .and(path("/Users/1"))
        .respond_with(
            ResponseTemplate::new(200).set_body_raw(body.clone(), "application/scim+json"),
        )
        .mount(&server)
        .await;
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("h.yaml"),
        "name: h\nscenarios:\n  - id: s\n    steps:\n      - id: get\n        request: { method: GET, path: /Users/1 }\n        expect: { status: 200, json: { /id: \"1\" } }\n",
    )
    .unwrap();
    let plan = runner::load_plan(&SuiteSources {
        builtin: false,
        dirs: vec![dir.path().to_path_buf()],
    })
    .unwrap();
    let settings = common::settings(Target::new(&server.uri()), dir.path());
    let results = runner::run(&plan, settings).await.unwrap().results;
    let step = &results[0].steps[0];
    assert!(step.passed(), "{:?}", step.failures);
    let response = step.exchange.as_ref().unwrap().response.as_ref().unwrap();
    assert!(response.body.len() <= scimcheck::http::KEPT_BODY);
    assert_eq!(response.body.len() + response.dropped, body.len());
    assert!(
        std::str::from_utf8(&response.body).is_ok(),
        "cut inside a character"
    );
    let har: serde_json::Value =
        serde_json::from_str(&scimcheck::report::har::render(&results, &[])).unwrap();
    let content = &har["log"]["entries"][0]["response"]["content"];
    assert_eq!(content["size"], body.len());
    assert!(content["comment"].as_str().unwrap().contains("not kept"));
}

#[tokio::test]
async fn a_server_answering_only_429_is_not_waited_out_request_after_request() {
    use wiremock::matchers::{method, path_regex};
    use wiremock::{Mock, ResponseTemplate};
    let server = common::scim_server().await;
    Mock::given(method("GET"))
        .and(path_regex("^/Users/"))
        .respond_with(ResponseTemplate::new(429).insert_header("retry-after", "0"))
        .mount(&server)
        .await;
    let dir = tempfile::tempdir().unwrap();
    let steps: String = (0..6)
        .map(|n| format!("      - id: get{n}\n        request: {{ method: GET, path: /Users/{n} }}\n        expect: {{ status: 200 }}\n        needs: []\n"))
        .collect();
    std::fs::write(
        dir.path().join("h.yaml"),
        format!("name: h\nscenarios:\n  - id: s\n    steps:\n{steps}"),
    )
    .unwrap();
    let plan = runner::load_plan(&SuiteSources {
        builtin: false,
        dirs: vec![dir.path().to_path_buf()],
    })
    .unwrap();
    let mut target = Target::new(&server.uri());
    target.max_retries = 2;
    let results = runner::run(&plan, common::settings(target, dir.path()))
        .await
        .unwrap()
        .results;
    let tries: Vec<usize> = results[0]
        .steps
        .iter()
        .map(|s| s.exchange.as_ref().unwrap().retries.len())
        .collect();
    // Three requests wait out every retry; after them, none waits.
    assert_eq!(
        tries,
        [2, 2, 2, 1, 1, 1],
        "{:?}",
        results[0].steps[3].exchange
    );
    let sent = server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .filter(|r| r.url.path().starts_with("/Users/"))
        .count();
    assert_eq!(sent, 3 * 3 + 3);
}
