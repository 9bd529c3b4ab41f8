//! Findings are grouped by cause: the server's answer for a refused
//! request, the requirement and check otherwise; never by message text
//! alone. And a verdict line keeps a message whole, past its first newline.

mod common;

use scimcheck::report::verdict;
use scimcheck::runner::SuiteSources;
use wiremock::matchers::{body_string_contains, method, path};
use wiremock::{Mock, ResponseTemplate};

fn refusal(detail: &str) -> ResponseTemplate {
    let body = serde_json::json!({
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:Error"],
        "status": "400", "scimType": "invalidValue", "detail": detail
    });
    ResponseTemplate::new(400).set_body_raw(body.to_string(), "application/scim+json")
}

const SUITE: &str = r#"
name: causes
profile: rfc
scenarios:
  - id: s
    steps:
      - id: manager
        needs: []
        request: { method: POST, path: /Users, json: { userName: marker-1 } }
        expect: { status: 201 }
        fix: Accept a manager.
      - id: members
        needs: []
        request: { method: POST, path: /Users, json: { userName: marker-2 } }
        expect: { status: 201 }
        fix: Accept a member.
      - id: first_create
        needs: []
        request: { method: POST, path: /Users, json: { userName: marker-3 } }
        expect: { status: 201 }
      - id: second_create
        needs: []
        request: { method: POST, path: /Users, json: { userName: marker-4 } }
        expect: { status: 201 }
      - id: schema
        needs: []
        request: { method: GET, path: /Things/c }
        expect: { status: 200, schema: user }
"#;

#[tokio::test]
async fn one_refusal_is_one_cause_and_two_refusals_are_two() {
    let server = common::scim_server().await;
    for (marker, detail) in [
        ("marker-1", "manager must be an object"),
        ("marker-2", "members must be a list"),
        ("marker-3", "the required attribute `name` is missing"),
        ("marker-4", "the required attribute `name` is missing"),
    ] {
        Mock::given(method("POST"))
            .and(path("/Users"))
            .and(body_string_contains(marker))
            .respond_with(refusal(detail))
            .mount(&server)
            .await;
    }
    Mock::given(method("GET"))
        .and(path("/Things/c"))
        .respond_with(ResponseTemplate::new(200).set_body_raw(
            r#"{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"]}"#,
            "application/scim+json",
        ))
        .mount(&server)
        .await;
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("causes.yaml"), SUITE).unwrap();
    let sources = SuiteSources {
        builtin: false,
        dirs: vec![dir.path().to_path_buf()],
    };
    let results = common::run_sources(sources, &server.uri(), &[], &dir.path().join("snap")).await;
    // manager and members read alike ("expected 201, got 400") but
    // are refused for different reasons; both creates for one.
    let causes: Vec<String> = results[0]
        .steps
        .iter()
        .filter_map(|s| s.failures.first().map(|f| verdict::cause_of(s, f)))
        .collect();
    assert_eq!(verdict::distinct_causes(&results), 4, "{causes:#?}");
    let verdicts = verdict::verdicts(&results);
    let blocking = &verdicts[0].blocking;
    let places: Vec<(String, Vec<String>)> = blocking
        .iter()
        .map(|f| (f.place.clone(), f.also.clone()))
        .collect();
    assert_eq!(places.len(), 4, "{places:#?}");
    let create = blocking
        .iter()
        .find(|f| f.place.ends_with("first_create"))
        .unwrap();
    assert_eq!(create.also, ["causes::s › second_create"]);
    let manager = blocking
        .iter()
        .find(|f| f.place.ends_with("manager"))
        .unwrap();
    assert_eq!(manager.fix.as_deref(), Some("Accept a manager."));
    // A schema violation keeps its detail, which follows a newline.
    let schema = blocking
        .iter()
        .find(|f| f.place.ends_with("schema"))
        .unwrap();
    assert!(
        schema.what.starts_with("schema user: ")
            && schema.what.contains("id")
            && !schema.what.contains('\n'),
        "{}",
        schema.what
    );
}

#[tokio::test]
async fn a_401_without_a_challenge_is_told_as_such_not_as_an_open_directory() {
    // The defect: 401 without WWW-Authenticate.
    let double = common::double_with_defect(
        Mock::given(method("GET"))
            .and(path("/Users"))
            .and(|r: &wiremock::Request| !r.headers.contains_key("authorization"))
            .respond_with(ResponseTemplate::new(401)),
    )
    .await;
    let results = common::run_builtin(&double.base_url(), "auth::credentials_required").await;
    let step = results[0]
        .steps
        .iter()
        .find(|s| s.id == "without_credentials")
        .unwrap();
    assert_eq!(step.failures[0].check, "header www-authenticate");
    let (impact, _) = step.texts();
    assert!(
        impact.unwrap().contains("no WWW-Authenticate challenge"),
        "{impact:?}"
    );
    // A 200 is the open directory.
    let open = common::double_with_defect(
        Mock::given(method("GET"))
            .and(path("/Users"))
            .and(|r: &wiremock::Request| !r.headers.contains_key("authorization"))
            .respond_with(ResponseTemplate::new(200)),
    )
    .await;
    let results = common::run_builtin(&open.base_url(), "auth::credentials_required").await;
    let step = results[0]
        .steps
        .iter()
        .find(|s| s.id == "without_credentials")
        .unwrap();
    assert_eq!(step.failures[0].check, "status");
    assert!(
        step.texts()
            .0
            .unwrap()
            .starts_with("Anyone who can reach the endpoint")
    );
}

#[tokio::test]
async fn a_refusal_that_names_its_target_is_told_that_fix_not_the_steps_guess() {
    // A server that lost the email's type answers Entra's write noTarget.
    let server = common::scim_server().await;
    let body = serde_json::json!({
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:Error"],
        "status": "400", "scimType": "noTarget",
        "detail": "no value of 'emails' matches the path filter"
    });
    Mock::given(method("PATCH"))
        .and(path("/Users/u1"))
        .respond_with(
            ResponseTemplate::new(400).set_body_raw(body.to_string(), "application/scim+json"),
        )
        .mount(&server)
        .await;
    let suite = r#"
name: cause
profile: rfc
scenarios:
  - id: s
    steps:
      - id: update
        needs: []
        request:
          method: PATCH
          path: /Users/u1
          json:
            schemas: [urn:ietf:params:scim:api:messages:2.0:PatchOp]
            Operations: [{ op: Replace, path: 'emails[type eq "work"].value', value: "z@example.com" }]
        expect: { status: [200, 204] }
        fix: Accept Entra's capitalized ops.
"#;
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("cause.yaml"), suite).unwrap();
    let sources = SuiteSources {
        builtin: false,
        dirs: vec![dir.path().to_path_buf()],
    };
    let results = common::run_sources(sources, &server.uri(), &[], &dir.path().join("snap")).await;
    let fix = results[0].steps[0].texts().1.unwrap();
    assert!(
        fix.starts_with("The app found no value matching `emails[type eq \"work\"].value`"),
        "{fix}"
    );
    assert!(!fix.contains("capitalized"), "{fix}");
    let verdicts = verdict::verdicts(&results);
    assert_eq!(verdicts[0].blocking[0].fix.as_deref(), Some(fix.as_str()));
}
