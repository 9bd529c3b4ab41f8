//! The explorer against the double: no divergence on it, whatever RFC-legal
//! variant it serves; on a double with one defect, the deviation found by
//! exploration alone, shrunk, and its reproducer failing there while it
//! passes on the double itself.

mod common;

use std::sync::Mutex;

use common::{Bend, BendAnswer, as_is, defective, unchanged};
use scimcheck::double::Double;
use scimcheck::double::service::{Request, Response, Service};
use scimcheck::double::variant::{Variant, Variants};
use scimcheck::explore::{self, Outcome, Settings};
use scimcheck::interrupt::Interrupt;
use scimcheck::runner::SuiteSources;
use serde_json::json;

async fn explore_at(base_url: &str, budget: usize, seed: u64) -> Outcome {
    explore_with(base_url, budget, seed, 1).await
}

/// `workers` cases at once (on one thread up to eight).
async fn explore_with(base_url: &str, budget: usize, seed: u64, workers: usize) -> Outcome {
    let target = common::target(base_url);
    let client = scimcheck::http::Client::new(&target).unwrap();
    let mut settings = Settings::new("t1", budget, seed);
    settings.workers = workers;
    settings.shrink_time = std::time::Duration::from_secs(30);
    settings.max_findings = 1;
    explore::explore(
        &client,
        &target,
        &settings,
        &Interrupt::default(),
        &|_, _| {},
    )
    .await
}

/// An exploration of the scale phase alone: `size` users, no cases.
async fn scale_phase_at(base_url: &str, run_id: &str, size: usize) -> Outcome {
    let target = common::target(base_url);
    let client = scimcheck::http::Client::new(&target).unwrap();
    let mut settings = Settings::new(run_id, 0, 1);
    settings.tenant_size = size;
    explore::explore(
        &client,
        &target,
        &settings,
        &Interrupt::default(),
        &|_, _| {},
    )
    .await
}

/// The scale phase alone, which leaves nothing behind.
async fn scaled_at(base_url: &str, size: usize) -> scimcheck::explore::scale::Scaled {
    let outcome = scale_phase_at(base_url, "t2", size).await;
    assert!(outcome.left.is_empty(), "left {:?}", outcome.left);
    outcome.scaled.expect("a scale phase")
}

fn keys(outcome: &Outcome) -> Vec<String> {
    outcome
        .divergences
        .iter()
        .map(|d| format!("{}: {}", d.finding.key, d.finding.what))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_divergence_on_the_double_with_any_legal_variant() {
    let mut choices: Vec<Variants> = Variant::ALL.iter().map(|v| Variants::of([*v])).collect();
    choices.push(Variants::default());
    choices.push(Variants::of(Variant::ALL));
    for variants in choices {
        let double =
            Double::start_with_variants(Some(common::TOKEN.into()), variants.clone()).await;
        let outcome = explore_at(&double.base_url(), 300, 11).await;
        assert!(
            outcome.requests >= 300,
            "{variants:?}: only {} requests",
            outcome.requests
        );
        assert_eq!(keys(&outcome), Vec::<String>::new(), "{variants:?}");
        assert!(
            outcome.left.is_empty(),
            "{variants:?} left {:?}",
            outcome.left
        );
        let service = double.service();
        let left = service
            .lock()
            .unwrap()
            .handle(&common::request("GET", "/Users"));
        assert_eq!(
            left.body.unwrap()["totalResults"],
            0,
            "{variants:?}: everything created is deleted"
        );
    }
}

/// Explores the double with a defect until the deviation `key` shows, then
/// replays its reproducer there (it must fail) and on the double (it must pass).
async fn found(key: &str, before: Bend, after: BendAnswer) {
    let bent = defective(before, after).await;
    let outcome = explore_at(&bent.base_url(), 3000, 5).await;
    let divergence = outcome.divergences.first().unwrap_or_else(|| {
        panic!(
            "{key}: the defect went unseen in {} requests",
            outcome.requests
        )
    });
    // `a|b`: either check may see the defect first.
    assert!(
        key.split('|').any(|k| k == divergence.finding.key),
        "{key}: found as {}: {}",
        divergence.finding.key,
        divergence.finding.what
    );
    assert!(
        divergence.requests <= 20,
        "{key}: shrunk to {} requests only:\n{}",
        divergence.requests,
        divergence.suite
    );
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("reproducer.yaml"), &divergence.suite).unwrap();
    let sources = || SuiteSources {
        builtin: false,
        dirs: vec![dir.path().to_path_buf()],
    };
    let snapshots = tempfile::tempdir().unwrap();
    let on_bent = common::run_sources(sources(), &bent.base_url(), &[], snapshots.path()).await;
    assert!(
        on_bent.iter().flat_map(|r| &r.steps).any(|s| s.failed()),
        "{key}: the reproducer passes on the defect:\n{}",
        divergence.suite
    );
    let clean = common::double().await;
    let on_clean = common::run_sources(sources(), &clean.base_url(), &[], snapshots.path()).await;
    assert!(
        on_clean.iter().flat_map(|r| &r.steps).all(|s| s.passed()),
        "{key}: the reproducer fails on the double:\n{}",
        divergence.suite
    );
}

/// Eight cases at once on one thread, then ten on two: the double shows no
/// divergence and keeps nothing; a defect is found, shrunk while the other
/// cases go on, and its reproducer fails on it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cases_run_at_once_find_and_shrink_as_one_at_a_time_does() {
    for workers in [8, 10] {
        let double = common::double().await;
        let outcome = explore_with(&double.base_url(), 1500, 4, workers).await;
        assert_eq!(keys(&outcome), Vec::<String>::new(), "{workers} at once");
        assert!(
            outcome.lost_workers.is_empty(),
            "{:?}",
            outcome.lost_workers
        );
        assert_eq!(outcome.workers, workers.div_ceil(8), "threads");
        assert!(outcome.requests >= 1500 && outcome.cases > workers);
        assert!(outcome.left.is_empty(), "left {:?}", outcome.left);
        let left = double
            .service()
            .lock()
            .unwrap()
            .handle(&common::request("GET", "/Users"));
        assert_eq!(left.body.unwrap()["totalResults"], 0, "{workers} at once");
    }
    fn ignore(request: &mut Request, _: &Mutex<Service>) -> Option<Response> {
        request.query.retain(|(k, _)| k != "filter");
        None
    }
    let bent = defective(ignore, unchanged).await;
    let outcome = explore_with(&bent.base_url(), 3000, 5, 8).await;
    let divergence = outcome.divergences.first().expect("the defect is found");
    assert!(
        // Whichever comes first: a filter of users, the group lookup, or
        // a malformed filter answered 200.
        ["filter", "group-filter", "bad-filter"].contains(&divergence.finding.key.as_str()),
        "{}",
        divergence.finding.what
    );
    assert!(
        divergence.requests <= 20,
        "shrunk to {} requests only:\n{}",
        divergence.requests,
        divergence.suite
    );
}

/// A server whose pages hold at most two resources (RFC 7644 3.4.2.4: up
/// to its maxResults), explored eight cases at once: a query read page by
/// page while other cases write may skip or repeat a resource, which is no
/// deviation.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_read_while_other_cases_write_are_no_divergence() {
    fn two_a_page(request: &Request, response: &mut Response) {
        if request.method == "GET"
            && request.path == "/Users"
            && let Some(body) = response.body.as_mut()
            && let Some(resources) = body.get_mut("Resources").and_then(|r| r.as_array_mut())
        {
            resources.truncate(2);
            let held = resources.len();
            body["itemsPerPage"] = json!(held);
        }
    }
    let bent = defective(as_is, two_a_page).await;
    let outcome = explore_with(&bent.base_url(), 3000, 1, 8).await;
    assert_eq!(keys(&outcome), Vec::<String>::new());
    assert!(outcome.left.is_empty(), "left {:?}", outcome.left);
}

fn filter_of(request: &Request) -> Option<String> {
    request
        .query
        .iter()
        .find(|(k, _)| k == "filter")
        .map(|(_, v)| v.clone())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_filter_ignored() {
    fn ignore(request: &mut Request, _: &Mutex<Service>) -> Option<Response> {
        request.query.retain(|(k, _)| k != "filter");
        None
    }
    // Seen by whichever lookup comes first: a filter of users, or Entra's
    // group lookup by displayName.
    found("filter|group-filter", ignore, unchanged).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn and_and_or_read_left_to_right() {
    // `a or b and c` read as `(a or b) and c`, as a hand-written parser does.
    fn left_to_right(request: &mut Request, _: &Mutex<Service>) -> Option<Response> {
        let filter = filter_of(request)?;
        let parsed = scimcheck::scim::filter::Filter::parse(&filter).ok()?;
        let flat = flatten(&parsed);
        for (k, v) in request.query.iter_mut() {
            if k == "filter" {
                *v = flat.clone();
            }
        }
        None
    }
    fn flatten(f: &scimcheck::scim::filter::Filter) -> String {
        use scimcheck::scim::filter::Filter;
        match f {
            Filter::And(a, b) => format!("({} and {})", flatten(a), flatten(b)),
            Filter::Or(a, b) => match b.as_ref() {
                // a or (b and c) -> (a or b) and c
                Filter::And(b1, c) => {
                    format!("(({} or {}) and {})", flatten(a), flatten(b1), flatten(c))
                }
                _ => format!("({} or {})", flatten(a), flatten(b)),
            },
            other => other.to_string(),
        }
    }
    found("filter", left_to_right, unchanged).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_patch_of_active_ignored() {
    fn drop_active(request: &mut Request, _: &Mutex<Service>) -> Option<Response> {
        if request.method != "PATCH" {
            return None;
        }
        let mut body: serde_json::Value = serde_json::from_slice(&request.body).ok()?;
        body["Operations"].as_array_mut()?.retain(|op| {
            let path = op.get("path").and_then(|p| p.as_str()).unwrap_or_default();
            !path.eq_ignore_ascii_case("active") && op.pointer("/value/active").is_none()
        });
        request.body = body.to_string().into_bytes();
        None
    }
    fn keep_key(_: &Request, _: &mut Response) {}
    let bent = defective(drop_active, keep_key).await;
    let outcome = explore_at(&bent.base_url(), 3000, 5).await;
    let divergence = outcome
        .divergences
        .first()
        .expect("the ignored PATCH is seen");
    // Seen in what came back, or in the refusal of a PATCH left empty.
    assert!(
        divergence.finding.what.contains("`active`")
            || divergence.finding.cause.ends_with(":active"),
        "{}: {}",
        divergence.finding.cause,
        divergence.finding.what
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_delete_that_only_deactivates() {
    fn soft(request: &mut Request, service: &Mutex<Service>) -> Option<Response> {
        if request.method != "DELETE" {
            return None;
        }
        let mut patch = request.clone();
        patch.method = "PATCH".into();
        patch
            .headers
            .insert("content-type".into(), "application/scim+json".into());
        patch.body = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
            "Operations": [{"op": "replace", "path": "active", "value": false}]})
        .to_string()
        .into_bytes();
        if request.path.starts_with("/Users/") {
            service.lock().unwrap().handle(&patch);
            return Some(Response {
                status: 204,
                headers: Vec::new(),
                body: None,
            });
        }
        None
    }
    found("gone-read", soft, as_is_answer).await;
}

fn as_is_answer(_: &Request, _: &mut Response) {}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_password_returned() {
    fn show(_: &Request, response: &mut Response) {
        if let Some(body) = response.body.as_mut()
            && body.get("userName").is_some()
        {
            body["password"] = json!("hunter2");
        }
    }
    found("password-returned", as_is, show).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn non_ascii_bodies_read_as_latin_1() {
    fn mojibake(request: &mut Request, _: &Mutex<Service>) -> Option<Response> {
        if !request.body.is_empty() {
            let text: String = request.body.iter().map(|b| *b as char).collect();
            request.body = text.into_bytes();
        }
        None
    }
    found("create-body", mojibake, unchanged).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn totals_that_count_the_page() {
    fn page_total(request: &Request, response: &mut Response) {
        if request.method == "GET"
            && let Some(body) = response.body.as_mut()
            && let Some(n) = body
                .get("Resources")
                .and_then(|r| r.as_array())
                .map(Vec::len)
        {
            body["totalResults"] = json!(n);
        }
    }
    let bent = defective(as_is, page_total).await;
    let outcome = explore_at(&bent.base_url(), 3000, 5).await;
    let divergence = outcome
        .divergences
        .first()
        .expect("the wrong totals are seen");
    assert!(
        divergence.finding.key.contains("total") || divergence.finding.key == "walk",
        "{}",
        divergence.finding.key
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn member_adds_that_replace() {
    fn replace(request: &mut Request, _: &Mutex<Service>) -> Option<Response> {
        if request.method == "PATCH" && request.path.starts_with("/Groups/") {
            let text = String::from_utf8_lossy(&request.body).replace("\"add\"", "\"replace\"");
            request.body = text.into_bytes();
        }
        None
    }
    found("read-body|write-answer", replace, unchanged).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_seed_sends_the_same_requests() {
    let a = Double::start(Some(common::TOKEN.into())).await;
    let b = Double::start(Some(common::TOKEN.into())).await;
    let (x, y) = (
        explore_at(&a.base_url(), 300, 3).await,
        explore_at(&b.base_url(), 300, 3).await,
    );
    assert_eq!((x.cases, x.requests), (y.cases, y.requests));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tenant_past_the_common_batch_sizes_holds_on_the_double() {
    for variants in [Variants::default(), Variants::of(Variant::ALL)] {
        let double =
            Double::start_with_variants(Some(common::TOKEN.into()), variants.clone()).await;
        let scaled = scaled_at(&double.base_url(), 230).await;
        assert!(
            scaled.finding.is_none(),
            "{variants:?}: {:?}",
            scaled.finding
        );
        assert_eq!(scaled.created, 230);
        // Creates, two walks, count=0, lookups, the inactive walk, the
        // group; the sorted walk where sorting is offered.
        let sorted = usize::from(variants == Variants::default());
        assert_eq!(scaled.checked.len(), 7 + sorted, "{:?}", scaled.checked);
        // Where `sw` is declined (EqAndOnly), the walks go unfiltered: the
        // tenant holds nothing else.
        let declined: Vec<_> = scaled
            .not_checked
            .iter()
            .filter(|n| !n.contains("so the walks are unfiltered"))
            .collect();
        assert!(declined.is_empty(), "{declined:?}");
        let service = double.service();
        let left = service
            .lock()
            .unwrap()
            .handle(&common::request("GET", "/Users"));
        assert_eq!(left.body.unwrap()["totalResults"], 0, "{variants:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_group_that_keeps_its_first_hundred_members_is_found_at_scale() {
    fn first_hundred(request: &Request, response: &mut Response) {
        if request.method == "GET"
            && request.path.starts_with("/Groups/")
            && let Some(members) = response
                .body
                .as_mut()
                .and_then(|b| b.get_mut("members"))
                .and_then(|m| m.as_array_mut())
        {
            members.truncate(100);
        }
    }
    let bent = defective(as_is, first_hundred).await;
    let scaled = scaled_at(&bent.base_url(), 120).await;
    let finding = scaled.finding.expect("the lost members are seen");
    assert_eq!(finding.key, "scale-members", "{}", finding.what);
    // Shrunk to the smallest tenant of the ladder past the cap.
    assert_eq!((scaled.shrunk_from, scaled.size), (Some(120), 101));
    assert!(finding.what.contains("misses 1"), "{}", finding.what);
    // Below the cap the same defect shows nothing: scale is what finds it.
    let bent = defective(as_is, first_hundred).await;
    assert!(scaled_at(&bent.base_url(), 90).await.finding.is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_search_that_counts_at_most_two_hundred_is_found_at_scale() {
    fn capped(request: &Request, response: &mut Response) {
        if request.method == "GET"
            && request.path == "/Users"
            && let Some(body) = response.body.as_mut()
            && body["totalResults"].as_u64().is_some_and(|n| n > 200)
        {
            body["totalResults"] = json!(200);
        }
    }
    let bent = defective(as_is, capped).await;
    let scaled = scaled_at(&bent.base_url(), 230).await;
    let finding = scaled.finding.clone().expect("the capped total is seen");
    assert_eq!(finding.key, "scale-total", "{}", finding.what);
    assert_eq!((scaled.shrunk_from, scaled.size), (Some(230), 201));
    // Its reproducer: 201 creates and the page, failing on the defect,
    // passing on the double, everything it created deleted.
    replays_scale_reproducer(&scaled, &bent.base_url(), "reproduce").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_walk_that_repeats_a_user_across_pages_is_written_as_its_pages() {
    fn one_early(request: &mut Request, service: &Mutex<Service>) -> Option<Response> {
        let start: usize = request
            .query
            .iter()
            .find(|(k, _)| k == "startIndex")
            .and_then(|(_, v)| v.parse().ok())?;
        if request.method != "GET" || request.path != "/Users" || start < 2 {
            return None;
        }
        let mut shifted = request.clone();
        for (k, v) in shifted.query.iter_mut() {
            if k == "startIndex" {
                *v = (start - 1).to_string();
            }
        }
        let mut answer = service.lock().unwrap().handle(&shifted);
        let body = answer.body.as_mut()?;
        let total = body["totalResults"].as_u64()? as usize;
        let count: usize = request
            .query
            .iter()
            .find(|(k, _)| k == "count")
            .and_then(|(_, v)| v.parse().ok())
            .unwrap_or(total);
        let keep = count.min(total.saturating_sub(start - 1));
        let resources = body["Resources"].as_array_mut()?;
        resources.truncate(keep);
        body["itemsPerPage"] = json!(resources.len());
        body["startIndex"] = json!(start);
        Some(answer)
    }
    let bent = defective(one_early, unchanged).await;
    let scaled = scaled_at(&bent.base_url(), 120).await;
    let finding = scaled.finding.clone().expect("the repeat is seen");
    assert_eq!(finding.key, "scale-walk", "{}", finding.what);
    assert_eq!((scaled.shrunk_from, scaled.size), (Some(120), 101));
    replays_scale_reproducer(&scaled, &bent.base_url(), "page_2").await;
}

/// Writes a scale finding's reproducer and replays it: on the defect only
/// the step `failing` fails; on the double every step passes (`failing`
/// among them) and everything it created is deleted.
async fn replays_scale_reproducer(scaled: &explore::scale::Scaled, bent_url: &str, failing: &str) {
    let text = explore::scale_reproduce::suite(scaled, 1).expect("a reproducer");
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("explore-scale.yaml"), &text).unwrap();
    let sources = || SuiteSources {
        builtin: false,
        dirs: vec![dir.path().to_path_buf()],
    };
    let snapshots = tempfile::tempdir().unwrap();
    let on_bent = common::run_sources(sources(), bent_url, &[], snapshots.path()).await;
    let failed: Vec<&str> = on_bent
        .iter()
        .flat_map(|r| &r.steps)
        .filter(|s| s.failed())
        .map(|s| s.id.as_str())
        .collect();
    assert_eq!(failed, [failing], "{text}");
    let clean = common::double().await;
    let on_clean = common::run_sources(sources(), &clean.base_url(), &[], snapshots.path()).await;
    let steps: Vec<_> = on_clean.iter().flat_map(|r| &r.steps).collect();
    assert!(
        steps.iter().all(|s| s.passed()),
        "the reproducer fails on the double"
    );
    assert!(steps.iter().any(|s| s.id == failing));
    let left = clean
        .service()
        .lock()
        .unwrap()
        .handle(&common::request("GET", "/Users"));
    assert_eq!(left.body.unwrap()["totalResults"], 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_scale_phase_on_a_server_that_answers_another_users_id_writes_nothing_to_it() {
    let (double, answer, log) = common::lying_double().await;
    // Someone else's user, whose id every create then answers.
    let mut create = common::request("POST", "/Users");
    create.body = json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "alice.foreign"})
        .to_string()
        .into_bytes();
    let alice = double.service().lock().unwrap().handle(&create);
    let alice = alice.body.unwrap()["id"].as_str().unwrap().to_string();
    answer.set(alice.clone()).unwrap();
    let outcome = scale_phase_at(&double.base_url(), "t3", 30).await;
    let scaled = outcome.scaled.expect("a scale phase");
    assert!(scaled.finding.is_some(), "the wrong ids are a finding");
    let alice_path = format!("/Users/{alice}");
    let written: Vec<_> = log
        .lock()
        .unwrap()
        .iter()
        .filter(|(method, path)| method != "GET" && path.ends_with(&alice_path))
        .cloned()
        .collect();
    assert!(
        written.is_empty(),
        "wrote to someone else's user: {written:?}"
    );
    // Alice stays; the users the phase really created are found by their
    // run-prefixed names and deleted all the same.
    let users = double
        .service()
        .lock()
        .unwrap()
        .handle(&common::request("GET", "/Users"));
    let body = users.body.unwrap();
    assert_eq!(body["totalResults"], 1, "{body}");
    assert_eq!(body["Resources"][0]["id"], json!(alice));
}
