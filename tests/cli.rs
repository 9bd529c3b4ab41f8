//! The `scimcheck` command as a user runs it: exit codes, messages, and
//! the promise that a broken suite sends nothing.

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::process::{Command, Stdio};

use assert_cmd::cargo::cargo_bin_cmd;
use predicates::prelude::*;

fn suite_dir(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (name, text) in files {
        std::fs::write(dir.path().join(name), text).unwrap();
    }
    dir
}

#[test]
fn run_with_no_target_uses_the_double_and_passes() {
    cargo_bin_cmd!("scimcheck")
        .args(["run"])
        .assert()
        .code(0)
        .stdout(predicate::str::contains(
            "against the built-in SCIM double at http://127.0.0.1:",
        ))
        .stdout(predicate::str::contains(
            "PASS rfc7644::users-create::create_user",
        ))
        .stdout(predicate::str::is_match(r"(?m)^\d+ passed, 0 failed, 0 skipped$").unwrap());
}

/// Runs `scimcheck run` under a pseudo-terminal (util-linux `script`), as a person at a terminal would.
fn run_on_a_terminal(no_color: bool) -> String {
    let command = format!(
        "{} run --filter rfc7644::users-",
        env!("CARGO_BIN_EXE_scimcheck")
    );
    let mut script = Command::new("script");
    script
        .args(["-qec", &command, "/dev/null"])
        .env_remove("NO_COLOR");
    if no_color {
        script.env("NO_COLOR", "1");
    }
    let output = script.output().expect("util-linux `script` runs");
    assert!(output.status.success(), "{output:?}");
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// An SGR sequence: colour or weight.
const SGR: &str = r"\x1b\[[0-9;]*m";

#[test]
fn on_a_terminal_progress_is_live_and_verdicts_are_coloured() {
    let screen = run_on_a_terminal(false);
    assert!(screen.contains("/5 "), "no progress bar: {screen:?}");
    assert!(
        screen.contains("\x1b[32m\x1b[1mPASS\x1b[0m rfc7644::users-create::create_user"),
        "{screen:?}"
    );
    assert!(
        screen.contains("5 passed, 0 failed, 0 skipped"),
        "{screen:?}"
    );
}

#[test]
fn no_color_keeps_the_progress_and_drops_the_colour() {
    let screen = run_on_a_terminal(true);
    assert!(screen.contains("/5 "), "no progress bar: {screen:?}");
    assert!(
        screen.contains("PASS rfc7644::users-create::create_user"),
        "{screen:?}"
    );
    assert!(
        !regex::Regex::new(SGR).unwrap().is_match(&screen),
        "colour despite NO_COLOR: {screen:?}"
    );
}

#[test]
fn piped_output_is_plain_lines() {
    let output = cargo_bin_cmd!("scimcheck")
        .args(["run", "--filter", "rfc7644::users-"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(
        !text.contains('\x1b'),
        "escape sequences in a pipe: {text:?}"
    );
    assert_eq!(
        text.lines().filter(|l| l.starts_with("PASS ")).count(),
        5,
        "{text}"
    );
}

#[test]
fn a_broken_suite_is_exit_2_with_a_located_message_and_nothing_is_sent() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let dir = suite_dir(&[(
        "broken.yaml",
        "name: broken\nscenarios:\n  - id: a\n    steps:\n      - id: s\n        request: { method: GET, path: /Users }\n        expect:\n          stauts: 200\n",
    )]);
    cargo_bin_cmd!("scimcheck")
        .args(["run", "--base-url", &url, "--suites"])
        .arg(dir.path())
        .assert()
        .code(2)
        .stderr(predicate::str::contains("error: unknown field `stauts`"))
        .stderr(predicate::str::contains("broken.yaml:8:11"))
        .stderr(predicate::str::contains("8 |           stauts: 200"))
        .stderr(predicate::str::contains("|           ^"))
        .stderr(predicate::str::contains("help: did you mean `status`?"))
        .stderr(predicate::str::contains("nothing was sent"));
    listener.set_nonblocking(true).unwrap();
    assert!(
        listener.accept().is_err(),
        "scimcheck connected to the target"
    );
}

#[test]
fn a_failing_check_is_exit_1_and_points_at_the_suite_line() {
    let dir = suite_dir(&[(
        "teapot.yaml",
        "name: teapot\nscenarios:\n  - id: a\n    steps:\n      - id: s\n        request: { method: GET, path: /ServiceProviderConfig }\n        expect:\n          status: 418\n",
    )]);
    cargo_bin_cmd!("scimcheck")
        .args(["run", "--no-builtin", "--suites"])
        .arg(dir.path())
        .assert()
        .code(1)
        .stdout(predicate::str::contains("FAIL teapot::a › s"))
        .stdout(predicate::str::contains("status: expected 418, got 200"))
        .stdout(predicate::str::contains("teapot.yaml:8:19"))
        .stdout(predicate::str::contains("GET http://127.0.0.1:"))
        .stdout(predicate::str::contains("0 passed, 1 failed, 0 skipped"));
}

#[test]
fn an_unreachable_target_is_exit_3() {
    let port = {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    cargo_bin_cmd!("scimcheck")
        .args([
            "run",
            "--connect-timeout",
            "2",
            "--base-url",
            &format!("http://127.0.0.1:{port}"),
        ])
        .assert()
        .code(3)
        .stderr(predicate::str::contains("is unreachable"));
}

#[test]
fn the_token_is_never_printed() {
    let dir = suite_dir(&[(
        "echo.yaml",
        "name: echo\nscenarios:\n  - id: a\n    steps:\n      - id: s\n        request: { method: GET, path: \"/Users/{{ env.SCIMCHECK_TEST_TOKEN }}\" }\n        expect: { status: 200 }\n",
    )]);
    let output = cargo_bin_cmd!("scimcheck")
        .env("SCIM_TOKEN", "tok-3f8a91")
        .env("SCIMCHECK_TEST_TOKEN", "tok-3f8a91")
        .args(["run", "--no-builtin", "--suites"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(all.contains("/Users/***"), "{all}");
    assert!(!all.contains("tok-3f8a91"), "{all}");
}

#[test]
fn list_prints_every_scenario_and_filters() {
    cargo_bin_cmd!("scimcheck")
        .args(["list"])
        .assert()
        .code(0)
        .stdout(predicate::str::contains(
            "rfc7644::groups-membership::add_and_remove_member",
        ))
        .stdout(predicate::str::contains(
            "rfc7644::users-match::no_match_is_an_empty_list",
        ));
    cargo_bin_cmd!("scimcheck")
        .args(["list", "--filter", "tag:groups"])
        .assert()
        .code(0)
        .stdout(predicate::str::contains("groups-membership"))
        .stdout(predicate::str::contains("users-create").not());
}

#[test]
fn serve_announces_its_url_and_answers_scim() {
    let mut child = Command::new(assert_cmd::cargo::cargo_bin!("scimcheck"))
        .args(["serve", "--port", "0", "--token", "t0k"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let url = line
        .split_whitespace()
        .find(|w| w.starts_with("http://127.0.0.1:"))
        .unwrap_or_else(|| panic!("no URL in {line:?}"))
        .to_string();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let (denied, config) = runtime.block_on(async {
        let client = reqwest::Client::new();
        let denied = client
            .get(format!("{url}/Users"))
            .send()
            .await
            .unwrap()
            .status();
        let config = client
            .get(format!("{url}/ServiceProviderConfig"))
            .bearer_auth("t0k")
            .send()
            .await
            .unwrap();
        (denied, config)
    });
    child.kill().unwrap();
    let _ = child.wait();
    assert_eq!(denied.as_u16(), 401);
    assert_eq!(config.status().as_u16(), 200);
    assert_eq!(config.headers()["content-type"], "application/scim+json");
}

#[test]
fn an_interrupted_run_cleans_up_and_exits_130() {
    interrupted_by("INT");
}

#[test]
fn a_terminated_run_cleans_up_and_exits_130() {
    interrupted_by("TERM");
}

#[test]
fn a_run_whose_terminal_hangs_up_cleans_up_and_exits_130() {
    interrupted_by("HUP");
}

/// Mounts `POST /Users` creating user `u1` with the name the run sent, a
/// preflight's `GET /Users`, and its one expected DELETE; gives the user's
/// body as it is now: a cleanup reads it back and finds it the run's.
async fn creates_user_u1(
    server: &wiremock::MockServer,
) -> impl Fn() -> String + Clone + Send + Sync + 'static {
    use wiremock::matchers::{method, path};
    use wiremock::{Mock, ResponseTemplate};
    let name = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
    let user = {
        let name = name.clone();
        move || {
            format!(
                r#"{{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"id":"u1","userName":"{}"}}"#,
                name.lock().unwrap()
            )
        }
    };
    let created = user.clone();
    Mock::given(method("POST"))
        .and(path("/Users"))
        .respond_with(move |request: &wiremock::Request| {
            let sent: serde_json::Value = serde_json::from_slice(&request.body).unwrap();
            *name.lock().unwrap() = sent["userName"].as_str().unwrap().to_string();
            ResponseTemplate::new(201).set_body_raw(created(), "application/scim+json")
        })
        .mount(server)
        .await;
    // Enough of a SCIM endpoint for the preflight.
    Mock::given(method("GET"))
        .and(path("/Users"))
        .respond_with(ResponseTemplate::new(200).set_body_raw(
            r#"{"schemas":["urn:ietf:params:scim:api:messages:2.0:ListResponse"],"totalResults":0,"Resources":[]}"#,
            "application/scim+json",
        ))
        .mount(server)
        .await;
    // The cleanup: exactly once.
    Mock::given(method("DELETE"))
        .and(path("/Users/u1"))
        .respond_with(ResponseTemplate::new(204))
        .expect(1)
        .mount(server)
        .await;
    user
}

/// A run sent `signal` while a step is under way: no step starts after it,
/// and the user it created is deleted.
fn interrupted_by(signal: &str) {
    use wiremock::matchers::{method, path};
    use wiremock::{Mock, MockServer, ResponseTemplate};
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let server = runtime.block_on(async {
        let server = MockServer::start().await;
        let user = creates_user_u1(&server).await;
        // The step under way when the interruption comes: slow, but within the timeout.
        Mock::given(method("GET"))
            .and(path("/Users/u1"))
            .respond_with(move |_: &wiremock::Request| {
                ResponseTemplate::new(200)
                    .set_body_raw(user(), "application/scim+json")
                    .set_delay(std::time::Duration::from_secs(2))
            })
            .mount(&server)
            .await;
        server
    });
    let dir = suite_dir(&[(
        "slow.yaml",
        "name: slow\nscenarios:\n  - id: a\n    steps:\n      - id: create\n        request: { method: POST, path: /Users, json: { userName: \"scimcheck-{{ run_id }}\" } }\n        expect: { status: 201 }\n        capture: { id: /id }\n        cleanup: { method: DELETE, path: \"/Users/{{ id }}\" }\n      - id: slow\n        request: { method: GET, path: \"/Users/{{ id }}\" }\n        expect: { status: 200 }\n      - id: never\n        request: { method: GET, path: \"/Users/{{ id }}?attributes=userName\" }\n        expect: { status: 200 }\n  - id: b\n    steps:\n      - id: queued\n        request: { method: GET, path: /Users }\n        expect: { status: 200 }\n",
    )]);
    let child = Command::new(assert_cmd::cargo::cargo_bin!("scimcheck"))
        .args([
            "run",
            "--no-builtin",
            "--concurrency",
            "1",
            "--timeout",
            "10",
            "--base-url",
            &server.uri(),
            "--suites",
        ])
        .arg(dir.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Interrupt once the slow GET is under way.
    let started = std::time::Instant::now();
    loop {
        let requests = runtime
            .block_on(server.received_requests())
            .unwrap_or_default();
        if requests
            .iter()
            .any(|r| r.method.as_str() == "GET" && r.url.path() == "/Users/u1")
        {
            break;
        }
        assert!(
            started.elapsed() < std::time::Duration::from_secs(20),
            "the run never reached the slow step"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    Command::new("kill")
        .args([&format!("-{signal}"), &child.id().to_string()])
        .status()
        .unwrap();
    let output = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(130), "{stdout}{stderr}");
    assert!(stderr.contains("interrupted"), "{stderr}");
    // The scenarios it stopped, the one under way and the one queued, told once.
    assert!(
        stdout.contains(
            "SKIP 2 scenarios interrupted (not run, or not run to the end): slow::a, slow::b\n"
        ),
        "{stdout}"
    );
    assert_eq!(stdout.matches("SKIP").count(), 1, "{stdout}");
    runtime.block_on(server.verify());
    let gets = runtime
        .block_on(server.received_requests())
        .unwrap()
        .iter()
        .filter(|r| r.url.query() == Some("attributes=userName"))
        .count();
    assert_eq!(gets, 0, "no step may start after the interruption");
}

#[test]
fn a_junit_report_keeps_failures_and_passes_apart_and_hides_secrets() {
    let dir = suite_dir(&[(
        "teapot.yaml",
        "name: teapot\nscenarios:\n  - id: wrong\n    steps:\n      - id: s\n        request: { method: GET, path: /ServiceProviderConfig }\n        expect: { status: 418 }\n  - id: right\n    steps:\n      - id: s\n        request: { method: GET, path: /ServiceProviderConfig }\n        expect: { status: 200 }\n",
    )]);
    let report = dir.path().join("out").join("junit.xml");
    std::fs::create_dir_all(report.parent().unwrap()).unwrap();
    cargo_bin_cmd!("scimcheck")
        .args(["run", "--no-builtin", "--token", "tok-9d8e7f", "--suites"])
        .arg(dir.path())
        .arg("--report")
        .arg(format!("junit={}", report.display()))
        .assert()
        .code(1);
    let xml = std::fs::read_to_string(&report).unwrap();
    assert!(
        xml.contains(r#"<testsuite name="teapot" tests="2" skipped="0" errors="0" failures="1">"#),
        "{xml}"
    );
    assert!(
        xml.contains(r#"<testcase name="wrong" classname="teapot""#),
        "{xml}"
    );
    assert!(
        xml.contains(r#"message="s › status: expected 418, got 200" type="status""#),
        "{xml}"
    );
    assert!(
        xml.contains(r#"<testcase name="right" classname="teapot""#),
        "{xml}"
    );
    assert!(!xml.contains("tok-9d8e7f"));
}

#[test]
fn a_har_report_holds_every_exchange_cleanups_included() {
    let dir = suite_dir(&[(
        "made.yaml",
        "name: made\nscenarios:\n  - id: create\n    steps:\n      - id: post\n        request:\n          method: POST\n          path: /Users\n          json: { schemas: [urn:ietf:params:scim:schemas:core:2.0:User], userName: \"scimcheck-{{ run_id }}-har\" }\n        expect: { status: 201 }\n        capture: { id: /id }\n        cleanup: { method: DELETE, path: \"/Users/{{ id }}\" }\n",
    )]);
    let report = dir.path().join("run.har");
    cargo_bin_cmd!("scimcheck")
        .args(["run", "--no-builtin", "--token", "tok-4f5e6d", "--suites"])
        .arg(dir.path())
        .arg("--report")
        .arg(format!("har={}", report.display()))
        .assert()
        .code(0);
    let text = std::fs::read_to_string(&report).unwrap();
    assert!(!text.contains("tok-4f5e6d"), "{text}");
    let har: serde_json::Value = serde_json::from_str(&text).unwrap();
    let entries = har["log"]["entries"].as_array().unwrap();
    let methods: Vec<_> = entries
        .iter()
        .map(|e| {
            format!(
                "{} {}",
                e["request"]["method"].as_str().unwrap(),
                e["response"]["status"]
            )
        })
        .collect();
    // The cleanup reads the resource back before deleting it.
    assert_eq!(methods, ["POST 201", "GET 200", "DELETE 204"]);
    assert_eq!(entries[0]["pageref"], "made::create");
    assert_eq!(entries[2]["comment"], "made::create › cleanup");
    assert_eq!(
        entries[0]["request"]["headers"]
            .as_array()
            .unwrap()
            .iter()
            .find(|h| h["name"] == "authorization")
            .map(|h| h["value"].clone()),
        Some(serde_json::json!("Bearer ***"))
    );
}

#[test]
fn a_short_secret_is_redacted_without_breaking_any_report() {
    let dir = tempfile::tempdir().unwrap();
    let out = |name: &str| dir.path().join(name);
    cargo_bin_cmd!("scimcheck")
        // A header value is a secret, however short: every `1` is hidden.
        .args([
            "run",
            "--filter",
            "rfc7644::users-create",
            "--header",
            "X-Trace: 1",
        ])
        .arg("--report")
        .arg(format!("json={}", out("r.json").display()))
        .arg("--report")
        .arg(format!("har={}", out("r.har").display()))
        .arg("--report")
        .arg(format!("html={}", out("r.html").display()))
        .assert()
        .code(0);
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out("r.json")).unwrap()).unwrap();
    assert_eq!(
        json["summary"]["passed"], 2,
        "numbers are not strings to redact"
    );
    assert_eq!(json["format"], "scimcheck-report");
    let har: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out("r.har")).unwrap()).unwrap();
    assert_eq!(
        har["log"]["version"], "1.2",
        "the format's own words are kept"
    );
    assert_eq!(har["log"]["entries"][0]["response"]["status"], 201);
    let html = std::fs::read_to_string(out("r.html")).unwrap();
    assert!(html.starts_with("<!DOCTYPE html>"), "{html}");
    assert!(
        html.contains("--fail: #b42318;"),
        "the stylesheet is intact"
    );
    assert!(
        html.contains("<h1>SCIM 2.0 conformance report</h1>"),
        "{html}"
    );
}

#[test]
fn an_unknown_report_kind_is_a_usage_error() {
    cargo_bin_cmd!("scimcheck")
        .args(["run", "--report", "pdf=x.pdf"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("unknown report kind `pdf`"));
}

#[test]
fn a_json_report_is_versioned_and_complete() {
    let dir = suite_dir(&[(
        "teapot.yaml",
        "name: teapot\nscenarios:\n  - id: wrong\n    steps:\n      - id: s\n        request: { method: GET, path: /ServiceProviderConfig }\n        expect: { status: 418, json: { /teapot: true } }\n        fix: Be a teapot.\n      - id: after\n        request: { method: GET, path: /ServiceProviderConfig }\n",
    )]);
    let report = dir.path().join("report.json");
    cargo_bin_cmd!("scimcheck")
        .args(["run", "--no-builtin", "--token", "tok-1a2b3c", "--suites"])
        .arg(dir.path())
        .arg("--report")
        .arg(format!("json={}", report.display()))
        .assert()
        .code(1);
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
    assert_eq!(json["format"], "scimcheck-report");
    assert_eq!(json["version"], 1);
    assert_eq!(
        json["summary"],
        serde_json::json!({"passed": 0, "failed": 1, "skipped": 0, "must": 1, "advice": 0, "info": 0, "not_run": 1, "setup": 0, "causes": 1})
    );
    let step = &json["scenarios"][0]["steps"][0];
    assert_eq!(json["scenarios"][0]["name"], "teapot::wrong");
    assert_eq!(step["fix"], "Be a teapot.");
    assert_eq!(step["exchange"]["status"], 200);
    assert_eq!(step["failures"][0]["check"], "status");
    assert_eq!(step["failures"][0]["message"], "expected 418, got 200");
    assert_eq!(
        step["checks"],
        serde_json::json!([
            {"check": "status", "level": "must", "evaluated": true, "passed": false},
            {"check": "json /teapot", "level": "must", "evaluated": false, "passed": false}
        ])
    );
    // The step after the failed one is accounted for, with the reason.
    let after = &json["scenarios"][0]["steps"][1];
    assert_eq!(after["status"], "not_run", "{after}");
    assert_eq!(after["not_run"], "it builds on step `s`, which failed");
    assert!(after.get("exchange").is_none(), "{after}");
    assert!(
        step["transcript"]["request"]
            .as_str()
            .unwrap()
            .starts_with("GET http://127.0.0.1:"),
        "{step}"
    );
    assert!(
        step["transcript"]["response"]
            .as_str()
            .unwrap()
            .starts_with("200 OK\n"),
        "{step}"
    );
    assert!(
        step["failures"][0]["location"]
            .as_str()
            .unwrap()
            .ends_with("teapot.yaml:7:27")
    );
    assert!(!json.to_string().contains("tok-1a2b3c"));
}

#[test]
fn advice_fails_the_run_only_with_strict_and_info_never() {
    let dir = suite_dir(&[(
        "advice.yaml",
        "name: advice\nscenarios:\n  - id: a\n    steps:\n      - id: s\n        request: { method: GET, path: /ServiceProviderConfig }\n        expect: { status: 200 }\n        advise: { status: 203 }\n        advice: A made-up recommendation.\n        inform: { json: { /patch/supported: false, /sort/supported: false } }\n        note: A made-up observation.\n",
    )]);
    cargo_bin_cmd!("scimcheck")
        .args(["run", "--no-builtin", "--suites"])
        .arg(dir.path())
        .assert()
        .code(0)
        .stdout(predicate::str::contains(
            "checks that did not hold: 0 MUST in 0 distinct causes (failing the run), 1 SHOULD (not blocking; --strict makes them fail the run), 2 INFO (for the record)",
        ))
        .stdout(predicate::str::contains("PASS advice::a"))
        .stdout(predicate::str::contains("  advice (SHOULD, not blocking) s › status: expected 203, got 200\n"))
        .stdout(predicate::str::contains("  info (for the record, no deviation) s › json /patch/supported: expected false, got true\n"))
        .stdout(predicate::str::contains("  info (for the record, no deviation) s › json /sort/supported: expected false, got true\n"))
        .stdout(predicate::str::contains("1 passed, 0 failed, 0 skipped"));
    cargo_bin_cmd!("scimcheck")
        .args(["run", "--no-builtin", "--strict", "--suites"])
        .arg(dir.path())
        .assert()
        .code(1)
        .stdout(predicate::str::contains("failing the run (--strict)"));
}

#[test]
fn without_credentials_authentication_is_skipped_not_passed() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let double = runtime.block_on(scimcheck::double::Double::start(None));
    cargo_bin_cmd!("scimcheck")
        .args(["run", "--filter", "rfc7644::auth", "--base-url", &double.base_url()])
        .env_remove("SCIM_TOKEN")
        .assert()
        .code(0)
        .stdout(predicate::str::contains(
            "SKIP rfc7644::auth::credentials_required: no credentials given (--token, --basic or --header)",
        ))
        .stdout(predicate::str::contains("RFC 7643/7644: not assessed: 1 of 1 scenarios skipped"))
        .stdout(predicate::str::contains("0 passed, 0 failed, 1 skipped"));
}

#[test]
fn a_base_url_that_is_no_url_is_a_usage_error_and_nothing_is_sent() {
    cargo_bin_cmd!("scimcheck")
        .args(["run", "--base-url", "nonsense-url", "--token", "t0ken"])
        .assert()
        .code(2)
        .stdout(predicate::str::is_empty())
        .stderr(predicate::str::contains(
            "--base-url `nonsense-url` is not a URL",
        ))
        .stderr(predicate::str::contains("nothing was sent"));
}

/// A double requiring `token`, and the run's stdout and stderr against `url_of(double)`.
fn preflight_run(token: &str, url_of: impl Fn(&str) -> String) -> (i32, String, String) {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let double = runtime.block_on(scimcheck::double::Double::start(Some("right-token".into())));
    let output = cargo_bin_cmd!("scimcheck")
        .args(["run", "--rate", "0", "--token", token, "--base-url"])
        .arg(url_of(&double.base_url()))
        .output()
        .unwrap();
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn a_wrong_token_stops_at_once_with_one_message() {
    let (code, stdout, stderr) = preflight_run("wrong-token", |u| u.to_string());
    assert_eq!(code, 3, "{stdout}{stderr}");
    assert!(stdout.is_empty(), "{stdout}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains("refused the credentials (401): check --token / SCIM_TOKEN"),
        "{stderr}"
    );
    assert!(!stderr.contains("wrong-token"), "{stderr}");
}

#[test]
fn a_wrong_base_path_stops_at_once_with_one_message() {
    let (code, stdout, stderr) = preflight_run("right-token", |u| format!("{u}/scim/v2"));
    assert_eq!(code, 3, "{stdout}{stderr}");
    assert!(stdout.is_empty(), "{stdout}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains("no SCIM endpoint at http://127.0.0.1:"),
        "{stderr}"
    );
    assert!(stderr.contains("check the base path"), "{stderr}");
}

#[test]
fn a_short_token_leaves_ordinary_words_readable_and_is_warned_of() {
    let output = cargo_bin_cmd!("scimcheck")
        .args(["run", "--token", "e", "--filter", "entra::test-connection"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stdout}{stderr}");
    assert!(
        stdout.contains("PASS entra::test-connection::test_connection"),
        "{stdout}"
    );
    assert!(!stdout.contains("***"), "{stdout}");
    assert!(stderr.contains("shorter than 8 characters"), "{stderr}");
}

/// The first line `scimcheck serve` prints with these arguments and environment.
fn serve_line(args: &[&str], env: &[(&str, &str)]) -> String {
    let mut command = Command::new(assert_cmd::cargo::cargo_bin!("scimcheck"));
    command
        .args(["serve", "--port", "0"])
        .args(args)
        .stdout(Stdio::piped());
    for (k, v) in env {
        command.env(k, v);
    }
    let mut child = command.spawn().unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    child.kill().unwrap();
    let _ = child.wait();
    line
}

#[test]
fn serve_does_not_take_scim_token_silently_and_says_where_its_token_comes_from() {
    let production = [("SCIM_TOKEN", "production-token-123")];
    let line = serve_line(&[], &production);
    assert!(line.contains("bearer token required, generated"), "{line}");
    assert!(!line.contains("production-token-123"), "{line}");
    let line = serve_line(&["--no-auth"], &production);
    assert!(line.contains("no authentication (--no-auth)"), "{line}");
    let line = serve_line(&["--token-env", "SCIM_TOKEN"], &production);
    assert!(
        line.contains("bearer token required, from $SCIM_TOKEN"),
        "{line}"
    );
    assert!(!line.contains("production-token-123"), "{line}");
    let line = serve_line(&["--token", "t0k"], &production);
    assert!(
        line.contains("bearer token required, from --token"),
        "{line}"
    );
}

#[test]
fn the_users_own_suites_run_beside_a_profile_and_a_single_file_is_a_suite() {
    let mine = "name: mine\nscenarios:\n  - id: spc\n    steps:\n      - id: s\n        request: { method: GET, path: /ServiceProviderConfig }\n        expect: { status: 200 }\n";
    let tagged = "name: tagged\nprofile: okta\nscenarios:\n  - id: spc\n    steps:\n      - id: s\n        request: { method: GET, path: /ServiceProviderConfig }\n        expect: { status: 200 }\n";
    let dir = suite_dir(&[("mine.yaml", mine), ("tagged.yaml", tagged)]);
    let list = |profile: &str, suites: &std::path::Path| {
        let output = cargo_bin_cmd!("scimcheck")
            .args(["list", "--profile", profile, "--suites"])
            .arg(suites)
            .output()
            .unwrap();
        String::from_utf8_lossy(&output.stdout).into_owned()
    };
    // A suite of no profile always runs; one that names a profile runs with it.
    let entra = list("entra", dir.path());
    assert!(entra.contains("mine::spc"), "{entra}");
    assert!(!entra.contains("tagged::spc"), "{entra}");
    assert!(entra.contains("entra::users::user_lifecycle"), "{entra}");
    let okta = list("okta", dir.path());
    assert!(
        okta.contains("mine::spc") && okta.contains("tagged::spc"),
        "{okta}"
    );
    // One file given by its path.
    let single = list("entra", &dir.path().join("mine.yaml"));
    assert!(single.contains("mine::spc"), "{single}");
    // And it counts in its client's verdict.
    cargo_bin_cmd!("scimcheck")
        .args(["run", "--no-builtin", "--profile", "okta", "--suites"])
        .arg(dir.path().join("tagged.yaml"))
        .assert()
        .code(0)
        .stdout(predicate::str::contains(
            "Okta: no blocking cause in the 1 scenario selected",
        ));
}

#[test]
fn a_custom_suites_impact_and_fix_print_under_its_failure_and_the_run_id_says_what_it_is_for() {
    let dir = suite_dir(&[(
        "teapot.yaml",
        "name: teapot\nscenarios:\n  - id: wrong\n    steps:\n      - id: s\n        request: { method: GET, path: /ServiceProviderConfig }\n        expect: { status: 418 }\n        impact: The kettle stays cold.\n        fix: Be a teapot.\n",
    )]);
    cargo_bin_cmd!("scimcheck")
        .args(["run", "--no-builtin", "--suites"])
        .arg(dir.path())
        .assert()
        .code(1)
        .stdout(predicate::str::contains(
            "  impact: The kettle stays cold.\n  fix: Be a teapot.\n",
        ))
        .stdout(predicate::str::contains("`scimcheck cleanup --run-id "));
}

#[test]
fn the_built_in_suites_can_be_shown_exported_and_run_from_the_export() {
    let shown = cargo_bin_cmd!("scimcheck")
        .args(["show", "okta::users::user_lifecycle"])
        .output()
        .unwrap();
    let shown = String::from_utf8_lossy(&shown.stdout).into_owned();
    assert!(
        shown.starts_with("# suites/okta/users.yaml (okta::users)\nname: Okta user provisioning\n"),
        "{shown}"
    );
    let dir = tempfile::tempdir().unwrap();
    let export = dir.path().join("mine");
    cargo_bin_cmd!("scimcheck")
        .args(["suites", "export"])
        .arg(&export)
        .assert()
        .code(0)
        .stdout(predicate::str::contains(
            "run them with `scimcheck run --no-builtin --suites",
        ));
    assert_eq!(
        std::fs::read_to_string(export.join("okta/users.yaml")).unwrap(),
        shown.split_once('\n').unwrap().1
    );
    // Exporting again would overwrite edits: refused, nothing written.
    cargo_bin_cmd!("scimcheck")
        .args(["suites", "export"])
        .arg(&export)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("nothing was written"));
    // The export runs as the built-in suites do, under the same names and profiles.
    cargo_bin_cmd!("scimcheck")
        .args(["run", "--no-builtin", "--profile", "okta", "--suites"])
        .arg(&export)
        .assert()
        .code(0)
        .stdout(predicate::str::contains("PASS okta::users::user_lifecycle"))
        .stdout(predicate::str::contains(
            "Okta: no blocking cause in the 3 scenarios selected",
        ));
}

#[test]
fn verbose_prints_every_exchange_as_it_happens_and_no_secret() {
    let output = cargo_bin_cmd!("scimcheck")
        .args([
            "run",
            "-v",
            "--token",
            "tok-7c8d9e0f",
            "--filter",
            "entra::test-connection",
        ])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(0), "{stdout}");
    let sent: Vec<&str> = stdout.lines().filter(|l| l.starts_with("  > ")).collect();
    let answered: Vec<&str> = stdout.lines().filter(|l| l.starts_with("  < ")).collect();
    assert!(!sent.is_empty(), "{stdout}");
    assert_eq!(sent.len(), answered.len(), "{stdout}");
    assert!(
        sent.iter()
            .all(|l| l.starts_with("  > entra::test-connection::test_connection › ")),
        "{stdout}"
    );
    // The query Test Connection sends, its answer, and the cleanup's requests.
    let query = sent
        .iter()
        .position(|l| {
            l.contains(" › query_random_guid: GET http://127.0.0.1:")
                && l.contains("/Users?filter=userName%20eq%20")
        })
        .expect("the query is printed");
    assert!(answered[query].starts_with("  < 200 ("), "{stdout}");
    assert!(
        sent.iter().any(|l| l.contains(" › cleanup: DELETE ")),
        "{stdout}"
    );
    // Each exchange comes before the scenario's verdict line.
    let first_exchange = stdout.find("  > ").unwrap();
    let verdict = stdout.find("PASS entra::test-connection").unwrap();
    assert!(first_exchange < verdict, "{stdout}");
    assert!(!stdout.contains("tok-7c8d9e0f"), "{stdout}");
    // Without -v, none.
    let quiet = cargo_bin_cmd!("scimcheck")
        .args(["run", "--filter", "entra::test-connection"])
        .output()
        .unwrap();
    assert!(!String::from_utf8_lossy(&quiet.stdout).contains("  > "));
}

#[test]
fn an_interruption_during_a_429_back_off_stops_within_the_cleanup_budget() {
    use wiremock::matchers::{method, path, query_param};
    use wiremock::{Mock, MockServer, ResponseTemplate};
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let server = runtime.block_on(async {
        let server = MockServer::start().await;
        let user = creates_user_u1(&server).await;
        // The step: throttled for ever, asking for 30 s each time.
        Mock::given(method("GET"))
            .and(path("/Users/u1"))
            .and(query_param("x", "1"))
            .respond_with(ResponseTemplate::new(429).insert_header("retry-after", "30"))
            .with_priority(1)
            .mount(&server)
            .await;
        Mock::given(method("GET"))
            .and(path("/Users/u1"))
            .respond_with(move |_: &wiremock::Request| {
                ResponseTemplate::new(200).set_body_raw(user(), "application/scim+json")
            })
            .mount(&server)
            .await;
        server
    });
    let dir = suite_dir(&[(
        "throttled.yaml",
        "name: throttled\nscenarios:\n  - id: a\n    steps:\n      - id: create\n        request: { method: POST, path: /Users, json: { userName: \"scimcheck-{{ run_id }}\" } }\n        expect: { status: 201 }\n        capture: { id: /id }\n        cleanup: { method: DELETE, path: \"/Users/{{ id }}\" }\n      - id: throttled\n        request: { method: GET, path: \"/Users/{{ id }}?x=1\" }\n        expect: { status: 200 }\n",
    )]);
    let child = Command::new(assert_cmd::cargo::cargo_bin!("scimcheck"))
        .args([
            "run",
            "--no-builtin",
            "--base-url",
            &server.uri(),
            "--suites",
        ])
        .arg(dir.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let started = std::time::Instant::now();
    while !runtime
        .block_on(server.received_requests())
        .unwrap_or_default()
        .iter()
        .any(|r| r.url.query() == Some("x=1"))
    {
        assert!(
            started.elapsed() < std::time::Duration::from_secs(20),
            "never throttled"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let interrupted = std::time::Instant::now();
    Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    let output = child.wait_with_output().unwrap();
    let text = String::from_utf8_lossy(&output.stdout).to_string()
        + &String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(130), "{text}");
    // The back-off (30 s, three times) is not waited out; the cleanup ran.
    assert!(
        interrupted.elapsed() < std::time::Duration::from_secs(25),
        "took {:?}: {text}",
        interrupted.elapsed()
    );
    runtime.block_on(server.verify());
}

#[test]
fn numbers_out_of_range_are_usage_errors_and_nothing_is_sent() {
    for args in [
        vec!["run", "--rate", "1e-300"],
        vec!["run", "--rate", "nan"],
        vec!["run", "--rate", "inf"],
        vec!["run", "--timeout", "99999999999"],
        vec!["load", "--users", "9223372036854775808"],
        vec!["load", "--users", "10", "--duration", "99999999999"],
        vec!["load", "--users", "10", "--rate", "1e-300"],
    ] {
        // A closed port: anything sent would fail differently (exit 3).
        let output = cargo_bin_cmd!("scimcheck")
            .args(&args)
            .args(["--base-url", "http://127.0.0.1:9"])
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
    }
}

#[test]
fn an_existing_report_file_is_not_overwritten_without_force() {
    let dir = suite_dir(&[(
        "one.yaml",
        "name: one\nscenarios:\n  - id: a\n    steps:\n      - id: s\n        request: { method: GET, path: /Users }\n        expect: { status: 200 }\n",
    )]);
    let suite = dir.path().join("one.yaml");
    let before = std::fs::read_to_string(&suite).unwrap();
    let output = cargo_bin_cmd!("scimcheck")
        .args(["run", "--no-builtin", "--suites"])
        .arg(dir.path())
        .arg("--report")
        .arg(format!("json={}", suite.display()))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("--force"), "{stderr}");
    assert_eq!(std::fs::read_to_string(&suite).unwrap(), before);
    // With --force, written.
    let report = dir.path().join("report.json");
    std::fs::write(&report, "old").unwrap();
    let output = cargo_bin_cmd!("scimcheck")
        .args(["run", "--no-builtin", "--force", "--suites"])
        .arg(dir.path())
        .arg("--report")
        .arg(format!("json={}", report.display()))
        .output()
        .unwrap();
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stdout)
    );
    assert_ne!(std::fs::read_to_string(&report).unwrap(), "old");
}

#[test]
fn serve_prints_its_generated_token_and_answers_only_loopback_host_names() {
    use std::io::{Read, Write};
    let mut child = Command::new(assert_cmd::cargo::cargo_bin!("scimcheck"))
        .args(["serve", "--port", "0"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let first = lines.next().unwrap().unwrap();
    let second = lines.next().unwrap().unwrap();
    let url = first
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .unwrap()
        .to_string();
    let token = second
        .strip_prefix("scimcheck serve: token ")
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap_or_else(|| panic!("{second}"))
        .to_string();
    let address = url.trim_start_matches("http://").to_string();
    let ask = |host: &str, authorization: &str| {
        let mut stream = std::net::TcpStream::connect(&address).unwrap();
        write!(
            stream,
            "GET /Users HTTP/1.1\r\nHost: {host}\r\n{authorization}Connection: close\r\n\r\n"
        )
        .unwrap();
        let mut answer = String::new();
        stream.read_to_string(&mut answer).unwrap();
        answer.lines().next().unwrap_or_default().to_string()
    };
    let bearer = format!("Authorization: Bearer {token}\r\n");
    assert!(
        ask(&address, &bearer).contains(" 200"),
        "{}",
        ask(&address, &bearer)
    );
    assert!(ask(&address, "").contains(" 401"));
    // A page on another name reaching this port (DNS rebinding) is refused.
    assert!(ask("evil.example", &bearer).contains(" 421"));
    child.kill().unwrap();
    let _ = child.wait();
}

#[test]
fn a_large_tenant_on_a_remote_target_needs_yes_and_nothing_is_sent() {
    // Refused before any request: the address is never resolved.
    let remote = "https://scim.example.invalid/scim/v2";
    cargo_bin_cmd!("scimcheck")
        .args([
            "explore",
            "--base-url",
            remote,
            "--token",
            "t0k3n-abcdefghijkl",
        ])
        .args(["--tenant-size", "51"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "--tenant-size 51 creates 51 users",
        ))
        .stderr(predicate::str::contains("Add --yes"))
        .stderr(predicate::str::contains("nothing was sent"));
    cargo_bin_cmd!("scimcheck")
        .args(["run", "--base-url", remote, "--token", "t0k3n-abcdefghijkl"])
        .args(["--explore-tenant-size", "51"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("a run keeps to 50"))
        .stderr(predicate::str::contains("nothing was sent"));
}
