//! The requirement catalogue and its coverage: coverage cannot erode
//! silently, and a run says per requirement what it found.

mod common;

use scimcheck::report::coverage::{self as requirements, Standing};
use scimcheck::requirements::Level;

#[test]
fn every_testable_must_has_a_check() {
    let plan = scimcheck::runner::builtin_checks().unwrap();
    let listed = requirements::listing(&plan);
    assert!(listed.len() >= 150, "{} requirements", listed.len());
    let uncovered: Vec<&str> = listed
        .iter()
        .filter(|r| r.level == Level::Must && r.testable && r.checks == 0)
        .map(|r| r.id.as_str())
        .collect();
    assert_eq!(
        uncovered,
        Vec::<&str>::new(),
        "testable MUSTs no check cites"
    );
}

#[test]
fn every_untestable_requirement_says_why_and_no_check_cites_it() {
    let plan = scimcheck::runner::builtin_checks().unwrap();
    for r in requirements::listing(&plan) {
        if !r.testable {
            assert!(
                r.why_untestable.as_deref().is_some_and(|w| !w.is_empty()),
                "{}",
                r.id
            );
            assert_eq!(r.checks, 0, "{} is cited yet called untestable", r.id);
        }
    }
}

#[test]
fn the_cli_lists_the_catalogue_as_json() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_scimcheck"))
        .args(["requirements", "--format", "json"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let listed: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(listed.len(), scimcheck::requirements::catalogue().len());
    let create = listed
        .iter()
        .find(|r| r["id"] == "RFC7644-3.3/create-answers-201")
        .unwrap();
    assert_eq!(create["source"], "RFC7644 3.3");
    assert_eq!(create["level"], "MUST");
    assert_eq!(create["testable"], true);
    assert!(create["checks"].as_u64().unwrap() >= 3, "{create}");
}

#[tokio::test]
async fn a_run_against_the_double_fails_no_requirement_and_tests_the_testable_musts() {
    let double = common::double().await;
    let results = common::run_builtin(&double.base_url(), "").await;
    let standings = requirements::standings(&results);
    let failed: Vec<&str> = standings
        .iter()
        .filter(|(_, s)| *s == Standing::Failed)
        .map(|(r, _)| r.id.as_str())
        .collect();
    assert_eq!(failed, Vec::<&str>::new());
    // What the double does not offer (/Me, root search) is the only MUST
    // left not applicable; every other testable MUST passed.
    let unsettled: Vec<String> = standings
        .iter()
        .filter(|(r, s)| r.level == Level::Must && r.testable && *s != Standing::Passed)
        .map(|(r, s)| format!("{}: {s:?}", r.id))
        .collect();
    assert_eq!(unsettled, Vec::<String>::new());
}

#[tokio::test]
async fn a_failed_check_fails_the_requirements_it_cites_and_no_other() {
    use wiremock::matchers::{method, path_regex};
    use wiremock::{Mock, ResponseTemplate};
    // The defect: a DELETE answers 200 with a body, where RFC 7644 3.6 says 204.
    let double = common::double_with_defect(
        Mock::given(method("DELETE"))
            .and(path_regex("^/Users/"))
            .respond_with(ResponseTemplate::new(200)),
    )
    .await;
    let results = common::run_builtin(&double.base_url(), "users-create::delete_user").await;
    let standings = requirements::standings(&results);
    let standing = |id: &str| {
        standings
            .iter()
            .find(|(r, _)| r.id == id)
            .map(|(_, s)| s.clone())
            .unwrap()
    };
    assert_eq!(standing("RFC7644-3.6/delete-204"), Standing::Failed);
    // Not run because the delete failed: not tested, with why.
    match standing("RFC7644-3.6/deleted-out-of-queries") {
        Standing::NotTested(why) => assert!(why.contains("gone_from_queries"), "{why}"),
        other => panic!("{other:?}"),
    }
    // Nothing of this scenario cites it.
    match standing("RFC7644-3.14/if-match") {
        Standing::NotTested(why) => assert_eq!(why, "no step of this run verifies it"),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn the_json_report_gives_each_requirement_its_standing() {
    let double = common::double().await;
    let results = common::run_builtin(&double.base_url(), "users-create").await;
    let info = scimcheck::report::RunInfo::new("r1", &double.base_url());
    let report = scimcheck::report::json::model(&info, &results, &[]);
    let listed = report["requirements"].as_array().unwrap();
    assert_eq!(listed.len(), scimcheck::requirements::catalogue().len());
    let delete = listed
        .iter()
        .find(|r| r["id"] == "RFC7644-3.6/delete-204")
        .unwrap();
    assert_eq!(delete["status"], "passed");
    assert_eq!(delete["level"], "MUST");
    let tls = listed
        .iter()
        .find(|r| r["id"] == "RFC7644-7.1/tls")
        .unwrap();
    assert_eq!(tls["status"], "not tested");
    assert!(
        tls["why"]
            .as_str()
            .unwrap()
            .starts_with("not observable by a client")
    );
    assert!(report["coverage"]["passed"].as_u64().unwrap() > 10);
}
