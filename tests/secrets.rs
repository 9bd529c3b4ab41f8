//! Secrets never reach an artifact: a server that echoes every credential
//! it receives, into bodies and headers, and every output of a run (terminal,
//! JUnit, JSON report, snapshots) searched for each form of each secret.

use assert_cmd::cargo::cargo_bin_cmd;
use base64::Engine;
use wiremock::matchers::any;
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

struct Echo;

impl Respond for Echo {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let headers: serde_json::Map<String, serde_json::Value> = request
            .headers
            .iter()
            .map(|(k, v)| {
                (
                    k.to_string(),
                    serde_json::Value::String(v.to_str().unwrap_or_default().to_string()),
                )
            })
            .collect();
        let body = serde_json::json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
            "id": "1", "userName": "u", "echo": headers,
        });
        let all = headers
            .values()
            .filter_map(|v| v.as_str())
            .collect::<Vec<_>>()
            .join(" ");
        ResponseTemplate::new(200)
            .insert_header("x-echo", all.as_str())
            .set_body_raw(body.to_string(), "application/scim+json")
    }
}

const SUITE: &str = r#"
name: echo
scenarios:
  - id: snapshot
    steps:
      - id: get
        request: { method: GET, path: /Users/1 }
        expect: { snapshot: echoed }
  - id: fails
    steps:
      - id: get
        request: { method: GET, path: /Users/1 }
        expect:
          headers: { x-echo: nothing }
          json: { /userName: someone-else }
"#;

fn artifacts(dir: &std::path::Path, out: &mut String) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            artifacts(&path, out);
        } else {
            out.push_str(&std::fs::read_to_string(&path).unwrap_or_default());
        }
    }
}

fn run_and_search(credentials: &[&str], secrets: &[String]) {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let server = runtime.block_on(async {
        let server = MockServer::start().await;
        Mock::given(any()).respond_with(Echo).mount(&server).await;
        server
    });
    let dir = tempfile::tempdir().unwrap();
    let suites = dir.path().join("suites");
    let out = dir.path().join("out");
    std::fs::create_dir_all(&suites).unwrap();
    std::fs::create_dir_all(&out).unwrap();
    std::fs::write(suites.join("echo.yaml"), SUITE).unwrap();
    let output = cargo_bin_cmd!("scimcheck")
        .args([
            "run",
            "--no-builtin",
            "--base-url",
            &server.uri(),
            "--rate",
            "0",
        ])
        .args(credentials)
        .arg("--suites")
        .arg(&suites)
        .arg("--snapshots")
        .arg(out.join("snapshots"))
        .arg("--report")
        .arg(format!("junit={}", out.join("junit.xml").display()))
        .arg("--report")
        .arg(format!("json={}", out.join("report.json").display()))
        .arg("--report")
        .arg(format!("har={}", out.join("run.har").display()))
        .arg("--report")
        .arg(format!("html={}", out.join("report.html").display()))
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let mut everything = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    artifacts(&out, &mut everything);
    // The run did write what we search: a failure excerpt and a pending snapshot.
    assert!(everything.contains("FAIL echo::fails"), "{everything}");
    assert!(
        everything.contains("echoed.snap.new") || everything.contains("\"echo\""),
        "{everything}"
    );
    assert!(
        everything.contains("***"),
        "nothing was redacted: is the echo working? {everything}"
    );
    for secret in secrets {
        assert!(
            !everything.contains(secret.as_str()),
            "`{secret}` leaked:\n{everything}"
        );
    }
}

#[test]
fn a_token_and_header_values_never_leak() {
    run_and_search(
        &[
            "--token",
            "tok-5e4d3c2b1a",
            "--header",
            "X-Api-Key: key-a1b2c3d4",
        ],
        &["tok-5e4d3c2b1a".into(), "key-a1b2c3d4".into()],
    );
}

#[test]
fn basic_credentials_never_leak_in_any_form() {
    let encoded = base64::engine::general_purpose::STANDARD.encode("alice:pw-9f8e7d6c");
    run_and_search(
        &[
            "--basic",
            "alice:pw-9f8e7d6c",
            "--header",
            "X-Other: other-77aa88bb",
        ],
        &["pw-9f8e7d6c".into(), encoded, "other-77aa88bb".into()],
    );
}
