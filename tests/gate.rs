//! The gate a server crate's `cargo test` uses: a trial per scenario that
//! passes, fails or is ignored as the server deserves, filters included.

mod common;

use libtest_mimic::{Arguments, Conclusion};
use scimcheck::gate::{Gate, GateError, ServerUnderTest};
use wiremock::matchers::{method, path, path_regex};
use wiremock::{Mock, ResponseTemplate};

/// Runs the gate's trials as `cargo test -- <filter>` would. Their log goes
/// to a file, so that its `test result:` line is not taken for this test's.
fn run(gate: &Gate, filter: &str) -> Conclusion {
    let log = tempfile::NamedTempFile::new().unwrap();
    let args = Arguments {
        filter: Some(filter.to_string()),
        test_threads: Some(1),
        logfile: Some(log.path().display().to_string()),
        ..Arguments::default()
    };
    let conclusion = libtest_mimic::run(&args, gate.trials().unwrap_or_else(|e| panic!("{e}")));
    let text = std::fs::read_to_string(log.path()).unwrap();
    assert!(text.contains("test result:"), "the trials ran: {text}");
    conclusion
}

/// A gate over a fresh double per trial, with `defects` mounted before it.
fn gate_over_double(defects: fn() -> Vec<Mock>) -> Gate {
    Gate::new(move || async move {
        let double = common::double().await;
        for defect in defects() {
            defect.with_priority(1).mount(double.server()).await;
        }
        Ok::<_, String>(
            ServerUnderTest::new(double.base_url())
                .token(common::TOKEN)
                .keep_alive(double),
        )
    })
}

fn counts(c: &Conclusion) -> (u64, u64, u64) {
    (c.num_passed, c.num_failed, c.num_ignored)
}

#[test]
fn a_conforming_server_passes_every_trial_of_the_filter() {
    let gate = gate_over_double(Vec::new).profiles(&["rfc"]);
    let conclusion = run(&gate, "rfc7644::users-");
    // users-create (2), users-match (2), users-deactivate (1).
    assert_eq!(counts(&conclusion), (5, 0, 0));
    // Every other scenario of the profile, built in or schema-driven, filtered out.
    let all = gate.trials().unwrap().len() as u64;
    assert_eq!(conclusion.num_filtered_out, all - 5);
    assert!(all > 20, "{all}");
}

#[test]
fn a_deviation_fails_its_trial_only() {
    let gate = gate_over_double(|| {
        vec![
            Mock::given(method("PATCH"))
                .and(path_regex("^/Users/"))
                .respond_with(ResponseTemplate::new(501)),
        ]
    })
    .profiles(&["rfc"]);
    let conclusion = run(&gate, "rfc7644::users-");
    assert_eq!(counts(&conclusion), (4, 1, 0));
}

#[test]
fn an_unclaimed_feature_is_ignored_not_passed() {
    let gate = gate_over_double(|| {
        vec![
            Mock::given(method("GET"))
                .and(path("/ServiceProviderConfig"))
                .respond_with(ResponseTemplate::new(200).set_body_raw(
                    r#"{"schemas":["urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"],
                        "patch":{"supported":true},"bulk":{"supported":false,"maxOperations":0,"maxPayloadSize":0},
                        "filter":{"supported":true,"maxResults":100},"changePassword":{"supported":false},
                        "sort":{"supported":true},"etag":{"supported":false},
                        "authenticationSchemes":[]}"#,
                    "application/scim+json",
                )),
        ]
    })
    .profiles(&["rfc"]);
    let conclusion = run(&gate, "rfc7644::put-and-etag::");
    // put_replaces_provided_values, put_keeps_the_extension and
    // modification_times run; etags needs etag.supported.
    assert_eq!(counts(&conclusion), (3, 0, 1));
}

/// A gate over a double that asks for no token, and is given none.
fn gate_without_token() -> Gate {
    Gate::new(|| async {
        let double = scimcheck::double::Double::start(None).await;
        Ok::<_, String>(ServerUnderTest::new(double.base_url()).keep_alive(double))
    })
}

#[test]
fn without_a_token_the_authentication_scenario_is_ignored() {
    let gate = gate_without_token().profiles(&["rfc"]);
    let conclusion = run(&gate, "rfc7644::auth::");
    assert_eq!(counts(&conclusion), (0, 0, 1));
}

#[test]
fn require_all_fails_what_cannot_run() {
    let gate = gate_without_token().profiles(&["rfc"]).require_all();
    let conclusion = run(&gate, "rfc7644::auth::");
    assert_eq!(counts(&conclusion), (0, 1, 0));
}

#[test]
fn an_excluded_scenario_is_ignored() {
    let gate = gate_over_double(Vec::new)
        .profiles(&["rfc"])
        .exclude("users-create::delete_user");
    let conclusion = run(&gate, "rfc7644::users-create::");
    assert_eq!(counts(&conclusion), (1, 0, 1));
}

#[test]
fn a_server_that_does_not_start_fails_its_trials() {
    let gate =
        Gate::new(|| async { Err::<ServerUnderTest, _>("port 5432 refused") }).profiles(&["okta"]);
    // Okta's suites require filter: listing them needs the server, which does not start.
    match gate.trials() {
        Err(GateError::Start(why)) => assert!(why.contains("port 5432 refused"), "{why}"),
        Err(e) => panic!("unexpected error: {e}"),
        Ok(_) => panic!("trials listed without a server"),
    }
}

#[test]
fn an_unknown_profile_is_refused() {
    let gate = gate_over_double(Vec::new).profiles(&["ping"]);
    assert!(matches!(gate.trials(), Err(GateError::Profile(p)) if p == "ping"));
}

/// An unknown id answered 404 with an Error labelled application/json: a
/// SHOULD that does not hold (RFC 7644 3.12, 8.1), nothing more.
fn gate_with_advice() -> Gate {
    gate_over_double(|| {
        vec![
            Mock::given(method("GET"))
                .and(path_regex("^/Users/.*no-such-id$"))
                .respond_with(ResponseTemplate::new(404).set_body_raw(
                    r#"{"schemas":["urn:ietf:params:scim:api:messages:2.0:Error"],"status":"404","detail":"no such user"}"#,
                    "application/json",
                )),
        ]
    })
    .profiles(&["rfc"])
}

#[test]
fn advice_passes_its_trial_unless_the_gate_is_strict() {
    let filter = "rfc7644::errors::unknown_id_is_404";
    assert_eq!(counts(&run(&gate_with_advice(), filter)), (1, 0, 0));
    assert_eq!(
        counts(&run(&gate_with_advice().strict(), filter)),
        (0, 1, 0)
    );
    // Against a server without the advice, strict changes nothing.
    let clean = gate_over_double(Vec::new).profiles(&["rfc"]).strict();
    assert_eq!(counts(&run(&clean, filter)), (1, 0, 0));
}

#[test]
fn the_drift_gate_fails_on_new_answers_until_they_are_accepted() {
    let dir = tempfile::tempdir().unwrap();
    let gate = || {
        gate_over_double(Vec::new)
            .profiles(&["rfc"])
            .snapshots(dir.path())
            .snapshot_all()
    };
    let filter = "rfc7644::users-deactivate";
    // The first run has nothing to compare with: each answer is left to review.
    assert_eq!(counts(&run(&gate(), filter)), (0, 1, 0));
    let pending: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.display().to_string().ends_with(".snap.new"))
        .collect();
    assert!(pending.len() >= 3, "{pending:?}");
    // Accepted as `cargo insta review` does: the .snap.new becomes the .snap.
    for path in pending {
        let accepted = path
            .display()
            .to_string()
            .trim_end_matches(".new")
            .to_string();
        std::fs::rename(&path, accepted).unwrap();
    }
    // A fresh server (other ids, port, run id) answers the same: it passes.
    assert_eq!(counts(&run(&gate(), filter)), (1, 0, 0));
}

#[test]
fn the_gate_explores_the_server_and_a_deviation_at_scale_fails_its_trial() {
    let gate = gate_over_double(Vec::new).profiles(&["rfc"]);
    let names: Vec<String> = gate
        .trials()
        .unwrap()
        .iter()
        .map(|t| t.name().to_string())
        .collect();
    assert!(names.iter().any(|n| n == "explore::cases"), "{names:?}");
    assert!(names.iter().any(|n| n == "explore::scale"), "{names:?}");
    assert_eq!(counts(&run(&gate, "explore::")), (2, 0, 0));
    // A server whose pages hold one more than asked.
    let bent = gate_over_double(|| {
        vec![
            Mock::given(method("GET"))
                .and(path("/Users"))
                .and(wiremock::matchers::query_param("count", "100"))
                .respond_with(|_: &wiremock::Request| {
                    let resources: Vec<serde_json::Value> = (0..101)
                        .map(|i| serde_json::json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "id": format!("x{i}"), "userName": format!("x{i}")}))
                        .collect();
                    ResponseTemplate::new(200).set_body_raw(
                        serde_json::json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:ListResponse"], "totalResults": 120, "Resources": resources}).to_string(),
                        "application/scim+json",
                    )
                }),
        ]
    })
    .profiles(&["rfc"]);
    assert_eq!(counts(&run(&bent, "explore::scale")), (0, 1, 0));
    // And none of it when asked for none.
    let none = gate_over_double(Vec::new)
        .profiles(&["rfc"])
        .without_exploration();
    assert!(
        none.trials()
            .unwrap()
            .iter()
            .all(|t| !t.name().starts_with("explore::"))
    );
}
