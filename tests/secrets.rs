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

/// Echoes the credential of every request's Authorization header in the
/// forms servers use (as is, upper-cased, percent-encoded, base64,
/// JSON-escaped), the first one where a 300-byte excerpt would cut it, and
/// a terminal escape sequence after them.
struct EchoEncoded;

impl Respond for EchoEncoded {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let authorization = request
            .headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        let credential = authorization
            .split_once(' ')
            .map(|(_, c)| c)
            .unwrap_or_default();
        let forms = [
            credential.to_string(),
            credential.to_uppercase(),
            url::form_urlencoded::byte_serialize(credential.as_bytes()).collect(),
            base64::engine::general_purpose::STANDARD.encode(credential),
            credential.replace('/', "\\/"),
        ];
        // Raw control bytes, as a hostile server sends them (not JSON escapes).
        let body = format!(
            r#"{{"term":"{}","schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"id":"1","userName":"u","pad":"{}","echo":"{}"}}"#,
            if request.url.path() == "/Users/1" {
                "\u{1b}]0;owned\u{7}\u{1b}[2J"
            } else {
                ""
            },
            "x".repeat(280),
            forms.join(" ")
        );
        ResponseTemplate::new(200).set_body_raw(body, "application/scim+json")
    }
}

#[test]
fn a_credential_given_as_a_header_never_leaks_in_any_echoed_form_and_the_terminal_gets_no_escape() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let server = runtime.block_on(async {
        let server = MockServer::start().await;
        Mock::given(any())
            .respond_with(EchoEncoded)
            .mount(&server)
            .await;
        server
    });
    let token = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJzY2ltIn0/sig+nature";
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("echo.yaml"), SUITE).unwrap();
    let har = dir.path().join("run.har");
    let output = cargo_bin_cmd!("scimcheck")
        .args([
            "run",
            "--no-builtin",
            "-v",
            "--rate",
            "0",
            "--base-url",
            &server.uri(),
        ])
        .args(["--header", &format!("Authorization: Bearer {token}")])
        .arg("--suites")
        .arg(dir.path())
        .arg("--snapshots")
        .arg(dir.path().join("snapshots"))
        .arg("--report")
        .arg(format!("har={}", har.display()))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout).to_string();
    let mut everything = format!("{stdout}{}", String::from_utf8_lossy(&output.stderr));
    artifacts(dir.path(), &mut everything);
    // The echo reached the artifacts, redacted.
    assert!(everything.contains("*** ***"), "{everything}");
    let lower = everything.to_ascii_lowercase();
    // Not even the start of it, where an excerpt is cut.
    assert!(!lower.contains("eyjhbgcioijiuzi1"), "{everything}");
    assert!(!everything.contains("ZXlKaGJHY2lPaUpJVXpJ"), "{everything}");
    assert!(
        !stdout.contains('\u{1b}'),
        "a raw escape reached the terminal"
    );
    assert!(stdout.contains("\\u{1b}]0;owned"), "{stdout}");
}

/// Answers every request with a redirect to `to`.
struct RedirectTo(String);

impl Respond for RedirectTo {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        ResponseTemplate::new(307)
            .insert_header("location", format!("{}{}", self.0, request.url.path()))
    }
}

#[test]
fn no_credential_follows_a_redirect_to_another_origin() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let (target, elsewhere) = runtime.block_on(async {
        let elsewhere = MockServer::start().await;
        Mock::given(any())
            .respond_with(Echo)
            .mount(&elsewhere)
            .await;
        let target = MockServer::start().await;
        Mock::given(any())
            .respond_with(RedirectTo(elsewhere.uri()))
            .mount(&target)
            .await;
        (target, elsewhere)
    });
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("echo.yaml"), SUITE).unwrap();
    let output = cargo_bin_cmd!("scimcheck")
        .args([
            "run",
            "--no-builtin",
            "--rate",
            "0",
            "--base-url",
            &target.uri(),
        ])
        .args([
            "--token",
            "tok-5e4d3c2b1a",
            "--header",
            "X-Api-Key: key-a1b2c3d4",
        ])
        .arg("--suites")
        .arg(dir.path())
        .output()
        .unwrap();
    let reached = runtime.block_on(elsewhere.received_requests()).unwrap();
    assert!(
        reached.is_empty(),
        "{} requests followed the redirect",
        reached.len()
    );
    let text = String::from_utf8_lossy(&output.stdout).to_string()
        + &String::from_utf8_lossy(&output.stderr);
    assert!(text.contains("answered 307"), "{text}");
}
