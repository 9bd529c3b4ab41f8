//! A server that hands a deleted id to its next resource (RFC 7643 3.1
//! forbids it) loses nothing scimcheck did not create: a cleanup reads the
//! resource back and deletes it only when it is still the run's.

mod common;

use std::sync::{Arc, Mutex};

use scimcheck::double::server::{response_template, service_request};
use scimcheck::double::service::{Request, Service};
use scimcheck::runner::{self, SuiteSources};
use scimcheck::scim::schema::Kind;
use serde_json::json;
use wiremock::matchers::any;
use wiremock::{Mock, Respond, ResponseTemplate};

/// The double, except that each resource deleted is at once replaced by a
/// customer's own user under the same id (once per id).
struct ReusesIds {
    service: Arc<Mutex<Service>>,
    /// `(id, userName)` of each customer user given a reused id.
    reused: Arc<Mutex<Vec<(String, String)>>>,
}

fn request(method: &str, path: &str, body: Option<serde_json::Value>) -> Request {
    Request {
        method: method.into(),
        path: path.into(),
        query: Vec::new(),
        headers: [
            (
                "authorization".to_string(),
                format!("Bearer {}", common::TOKEN),
            ),
            ("content-type".to_string(), "application/scim+json".into()),
        ]
        .into(),
        body: body.map(|b| b.to_string().into_bytes()).unwrap_or_default(),
    }
}

impl Respond for ReusesIds {
    fn respond(&self, incoming: &wiremock::Request) -> ResponseTemplate {
        let scim = service_request(incoming);
        let mut service = self.service.lock().unwrap();
        let response = service.handle(&scim);
        let deleted_user =
            scim.method == "DELETE" && response.status == 204 && scim.path.starts_with("/Users/");
        let id = scim.path.trim_start_matches("/Users/").to_string();
        let mut reused = self.reused.lock().unwrap();
        // Once per id, so that a deleted customer user is not replaced.
        if deleted_user && !reused.iter().any(|(i, _)| *i == id) {
            let name = format!("employee-{}@customer.example", reused.len());
            let created = service.handle(&request(
                "POST",
                "/Users",
                Some(json!({
                    "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
                    "userName": name,
                })),
            ));
            let new_id = created.body.unwrap()["id"].as_str().unwrap().to_string();
            assert!(service.reassign_id(Kind::User, &new_id, &id));
            reused.push((id, name));
        }
        response_template(&response)
    }
}

/// A user created with a cleanup, then deleted by a step: the cleanup meets
/// the id handed on.
const DELETES_ITS_USER: &str = r#"
name: reused
vars:
  user_name: "scimcheck-{{ run_id }}-reused@example.com"
scenarios:
  - id: reused
    steps:
      - id: create
        request:
          method: POST
          path: /Users
          json: { schemas: [urn:ietf:params:scim:schemas:core:2.0:User], userName: "{{ user_name }}" }
        expect: { status: 201 }
        capture: { user_id: /id }
        cleanup: { method: DELETE, path: "/Users/{{ user_id }}" }
      - id: delete
        request: { method: DELETE, path: "/Users/{{ user_id }}" }
        expect: { status: 204 }
"#;

#[tokio::test]
async fn cleanups_leave_a_reused_id_alone() {
    let double = common::double().await;
    let reused = Arc::new(Mutex::new(Vec::new()));
    Mock::given(any())
        .respond_with(ReusesIds {
            service: double.service(),
            reused: Arc::clone(&reused),
        })
        .with_priority(1)
        .mount(double.server())
        .await;
    let dir = tempfile::tempdir().unwrap();
    let suites = dir.path().join("suites");
    std::fs::create_dir(&suites).unwrap();
    std::fs::write(suites.join("reused.yaml"), DELETES_ITS_USER).unwrap();
    let plan = runner::load_plan(&SuiteSources {
        builtin: true,
        dirs: vec![suites],
    })
    .unwrap();
    let settings = common::settings(common::target(&double.base_url()), dir.path());
    let report = runner::run(&plan, settings).await.unwrap();

    let reused = reused.lock().unwrap().clone();
    assert!(
        !reused.is_empty(),
        "no id was reused: the test proves nothing"
    );
    let service = double.service();
    let mut service = service.lock().unwrap();
    for (id, name) in &reused {
        let now = service.handle(&request("GET", &format!("/Users/{id}"), None));
        assert_eq!(now.status, 200, "{name} at /Users/{id} was deleted");
        assert_eq!(now.body.unwrap()["userName"], json!(name));
    }
    // The fixture suite's cleanup met a reused id, and said so.
    let fixture = report
        .results
        .iter()
        .find(|r| r.full_name.contains("reused"))
        .expect("the fixture suite ran");
    let left_alone: Vec<_> = fixture.cleanups.iter().filter(|c| c.left_alone).collect();
    assert_eq!(left_alone.len(), 1, "{:?}", fixture.cleanups);
    let why = left_alone[0].problem.as_deref().unwrap();
    assert!(
        why.contains("employee-") && why.contains("RFC 7643 3.1"),
        "{why}"
    );
}

/// The double, except that a create takes the id of the last user deleted
/// (as a server recycling ids from a free list does).
struct RecyclesIds {
    service: Arc<Mutex<Service>>,
    freed: Arc<Mutex<Vec<String>>>,
}

impl Respond for RecyclesIds {
    fn respond(&self, incoming: &wiremock::Request) -> ResponseTemplate {
        let scim = service_request(incoming);
        let mut service = self.service.lock().unwrap();
        let mut response = service.handle(&scim);
        let mut freed = self.freed.lock().unwrap();
        if scim.method == "DELETE" && response.status == 204 && scim.path.starts_with("/Users/") {
            freed.push(scim.path.trim_start_matches("/Users/").to_string());
        }
        if scim.method == "POST"
            && scim.path == "/Users"
            && response.status == 201
            && let (Some(old), Some(body)) = (freed.pop(), response.body.as_mut())
        {
            let new = body["id"].as_str().unwrap().to_string();
            assert!(service.reassign_id(Kind::User, &new, &old));
            body["id"] = json!(old);
        }
        response_template(&response)
    }
}

#[tokio::test]
async fn a_create_handed_a_deleted_id_fails_the_run() {
    let double = common::double().await;
    Mock::given(any())
        .respond_with(RecyclesIds {
            service: double.service(),
            freed: Default::default(),
        })
        .with_priority(1)
        .mount(double.server())
        .await;
    let results = common::run_builtin(&double.base_url(), "rfc7644::users-create::").await;
    let reassigned: Vec<String> = results
        .iter()
        .flat_map(|r| &r.steps)
        .flat_map(|s| &s.failures)
        .filter(|f| f.check == scimcheck::exec::REUSED_ID_CHECK)
        .map(|f| f.message.clone())
        .collect();
    assert!(!reassigned.is_empty(), "{results:#?}");
    assert!(reassigned[0].contains("RFC 7643 3.1"), "{reassigned:?}");
}
