//! `scimcheck load` against the double and against servers that fail under
//! it: the verdict names each failure, and nothing is ever left behind.

mod common;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use assert_cmd::cargo::cargo_bin_cmd;
use scimcheck::double::server::{response_template, service_request};
use scimcheck::double::service::Service;
use scimcheck::exec::Interrupt;
use scimcheck::load::verdict::{self, Level};
use scimcheck::load::{self, LoadOptions};
use wiremock::matchers::any;
use wiremock::{Mock, Respond, ResponseTemplate};

fn options(users: usize, rate: f64) -> LoadOptions {
    LoadOptions {
        users,
        rate,
        concurrency: 16,
        max_requests: 100_000,
        duration: Duration::from_secs(60),
        stop_above_failure_ratio: 0.4,
        run_id: scimcheck::exec::new_run_id(),
        raw: false,
        tenants: 1,
        groups: 0,
        members: 0,
        member_batch: 1,
    }
}

/// The users and groups of this run still in the double.
fn left(service: &Arc<Mutex<Service>>, run_id: &str) -> usize {
    let mut service = service.lock().unwrap();
    [("/Users", "userName"), ("/Groups", "displayName")]
        .iter()
        .map(|(path, attribute)| {
            let body = service.handle(&common::request("GET", path)).body.unwrap();
            body["Resources"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|r| {
                    r[attribute]
                        .as_str()
                        .unwrap_or_default()
                        .starts_with(&format!("scimcheck-{run_id}-"))
                })
                .count()
        })
        .sum()
}

fn level_of<'a>(lines: &'a [verdict::Line], starts: &str) -> &'a verdict::Line {
    lines
        .iter()
        .find(|l| l.text.contains(starts))
        .unwrap_or_else(|| panic!("no line with {starts:?}: {lines:?}"))
}

/// Loads the double as `opts` says, and judges the run.
async fn load_double(
    double: &scimcheck::double::Double,
    opts: &LoadOptions,
) -> (load::LoadReport, Vec<verdict::Line>) {
    let report = load::run(
        &common::target(&double.base_url()),
        opts,
        &Interrupt::default(),
    )
    .await
    .unwrap();
    let lines = verdict::judge(&report, &expectations(opts.rate));
    (report, lines)
}

fn expectations(rate: f64) -> verdict::Expectations {
    verdict::Expectations {
        rate,
        p99: Duration::from_secs(1),
        project: Some(50_000),
    }
}

#[tokio::test]
async fn an_initial_cycle_against_the_double_holds_and_leaves_nothing() {
    let double = common::double().await;
    let opts = options(200, 200.0);
    let (report, lines) = load_double(&double, &opts).await;
    let text = verdict::render(&report, &lines);
    // Timing lines depend on the machine (tests run side by side): the
    // correctness lines must hold.
    for line in ["answers 5xx", "answers 429", "requests failed"] {
        assert_eq!(level_of(&lines, line).level, Level::Pass, "{text}");
    }
    assert!(report.achieved_rate > 0.0, "{text}");
    let stats = &report.stats.ops;
    assert_eq!(stats[&load::stats::Op::Match].count, 200);
    assert_eq!(stats[&load::stats::Op::Create].count, 200);
    assert_eq!(stats[&load::stats::Op::Update].count, 20);
    assert_eq!(stats[&load::stats::Op::Disable].count, 10);
    assert_eq!(report.created, 200);
    assert_eq!(left(&double.service(), &opts.run_id), 0);
    assert!(
        level_of(&lines, "initial cycle of 50000 users")
            .text
            .contains("would take about")
    );
}

/// The double, except that every `nth` POST fails before it is processed
/// (500), and every `throttle`th GET is answered 429 without Retry-After.
struct Faulty {
    service: Arc<Mutex<Service>>,
    posts: AtomicU64,
    gets: AtomicU64,
    nth: u64,
    throttle: u64,
}

impl Respond for Faulty {
    fn respond(&self, request: &wiremock::Request) -> ResponseTemplate {
        let scim = service_request(request);
        if scim.method == "POST"
            && self
                .posts
                .fetch_add(1, Ordering::SeqCst)
                .is_multiple_of(self.nth)
        {
            return ResponseTemplate::new(500).set_body_string("overloaded");
        }
        if scim.method == "GET"
            && scim.path == "/Users"
            && !scim.query.is_empty()
            && self.throttle > 0
            && self.gets.fetch_add(1, Ordering::SeqCst) % self.throttle == 1
        {
            return ResponseTemplate::new(429);
        }
        response_template(&self.service.lock().unwrap().handle(&scim))
    }
}

async fn faulty(nth: u64, throttle: u64) -> scimcheck::double::Double {
    let double = common::double().await;
    Mock::given(any())
        .respond_with(Faulty {
            service: double.service(),
            posts: AtomicU64::new(0),
            gets: AtomicU64::new(0),
            nth,
            throttle,
        })
        .with_priority(1)
        .mount(double.server())
        .await;
    double
}

#[tokio::test]
async fn server_errors_and_429_without_retry_after_are_told_and_nothing_is_left() {
    let double = faulty(5, 7).await;
    let mut target = common::target(&double.base_url());
    target.max_retries = 1;
    target.max_retry_wait = Duration::from_millis(10);
    let opts = options(100, 200.0);
    let report = load::run(&target, &opts, &Interrupt::default())
        .await
        .unwrap();
    let lines = verdict::judge(&report, &expectations(opts.rate));
    let text = verdict::render(&report, &lines);
    assert_eq!(level_of(&lines, "answers 5xx").level, Level::Fail, "{text}");
    assert!(
        level_of(&lines, "answers 5xx")
            .text
            .starts_with("20 answers 5xx"),
        "{text}"
    );
    let throttled = level_of(&lines, "answers 429");
    assert_eq!(throttled.level, Level::Fail, "{text}");
    assert!(
        !throttled.text.ends_with(" 0 of them without Retry-After"),
        "{text}"
    );
    assert_eq!(
        level_of(&lines, "requests failed").level,
        Level::Warn,
        "{text}"
    );
    assert_eq!(left(&double.service(), &opts.run_id), 0, "{text}");
}

#[tokio::test]
async fn a_server_failing_most_requests_stops_the_load_early_as_quarantine_would() {
    let double = faulty(1, 0).await;
    let opts = options(400, 400.0);
    let report = load::run(
        &common::target(&double.base_url()),
        &opts,
        &Interrupt::default(),
    )
    .await
    .unwrap();
    let why = report.stopped_early.clone().unwrap_or_default();
    assert!(
        why.contains("stopped early") && why.contains("40 %"),
        "{why}"
    );
    assert!(
        report.stats.ops[&load::stats::Op::Match].count < 400,
        "it went on to the end"
    );
    let lines = verdict::judge(&report, &expectations(opts.rate));
    assert_eq!(level_of(&lines, "requests failed").level, Level::Fail);
    assert_eq!(left(&double.service(), &opts.run_id), 0);
}

#[tokio::test]
async fn an_interruption_stops_new_users_and_everything_created_is_deleted() {
    let double = common::double().await;
    let opts = options(2000, 500.0);
    let interrupt = Interrupt::default();
    let trigger = interrupt.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(500)).await;
        trigger.trigger();
    });
    let report = load::run(&common::target(&double.base_url()), &opts, &interrupt)
        .await
        .unwrap();
    assert_eq!(report.stopped_early.as_deref(), Some("interrupted"));
    assert!(
        report.created > 0 && report.created < 2000,
        "{}",
        report.created
    );
    // The rate is over the time that ran, not the window planned: every
    // user created was a request of the window, so rate × time covers them.
    let ran = report.elapsed.as_secs_f64();
    if ran < opts.window().as_secs_f64() {
        assert!(
            report.achieved_rate * ran >= report.created as f64 - 0.5,
            "{} requests a second over {ran} s for {} users created",
            report.achieved_rate,
            report.created
        );
    }
    assert_eq!(left(&double.service(), &opts.run_id), 0);
}

#[test]
fn bad_input_and_a_remote_target_without_yes_send_nothing() {
    for (args, needle) in [
        (vec!["load", "--users", "0"], "--users must be at least 1"),
        (
            vec![
                "load",
                "--users",
                "5",
                "--concurrency",
                "1",
                "--rate",
                "5000",
            ],
            "raise --concurrency or lower --rate",
        ),
        (
            vec!["load", "--users", "5", "--report", "pdf=x"],
            "--report takes json=PATH",
        ),
        // TEST-NET-1: never contacted, the load is refused first.
        (
            vec![
                "load",
                "--users",
                "5",
                "--base-url",
                "http://192.0.2.1/scim/v2",
            ],
            "not on loopback, so it needs --yes",
        ),
    ] {
        let output = cargo_bin_cmd!("scimcheck").args(&args).output().unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(
            stderr.contains(needle) && stderr.contains("nothing was sent"),
            "{args:?}: {stderr}"
        );
    }
}

#[test]
fn the_cli_runs_against_the_double_and_writes_a_json_report() {
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("load.json");
    let output = cargo_bin_cmd!("scimcheck")
        .args(["load", "--users", "50", "--rate", "100", "--report"])
        .arg(format!("json={}", report.display()))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    // 0, or 1 when this machine was too busy to keep a timing line.
    assert!(matches!(output.status.code(), Some(0 | 1)), "{stdout}");
    assert!(
        stdout.contains("created 50 users, deleted 50, left 0"),
        "{stdout}"
    );
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
    assert_eq!(json["operations"]["create (POST)"]["count"], 50);
    assert!(json["operations"]["match (GET ?filter)"]["latency_ms"]["p99"].is_number());
    assert!(
        json["per_second"]["requests"]
            .as_array()
            .is_some_and(|s| !s.is_empty())
    );
    let verdict = json["verdict"].as_array().unwrap();
    let line = verdict
        .iter()
        .find(|l| l["text"].as_str().unwrap().contains("answers 5xx"))
        .unwrap();
    assert_eq!(line["level"], "pass", "{json}");
}

#[test]
fn the_cli_raw_run_says_what_it_sends_and_holds_it_to_entras_minimum() {
    let output = cargo_bin_cmd!("scimcheck")
        .args([
            "load",
            "--raw",
            "--concurrency",
            "2",
            "--max-requests",
            "200",
        ])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(0), "{stdout}");
    assert!(
        stdout.contains("load: raw, match GETs as fast as the server answers, at most 200"),
        "{stdout}"
    );
    assert!(
        stdout.contains("stopped: --max-requests 200 reached"),
        "{stdout}"
    );
    assert!(
        stdout.contains("(raw: no rate asked; at least 25 expected)"),
        "{stdout}"
    );
    assert!(!stdout.contains("load: 0 users"), "{stdout}");
}

#[tokio::test]
async fn tenants_are_loaded_at_once_each_with_names_of_its_own() {
    let double = common::double().await;
    let mut opts = options(60, 120.0);
    opts.tenants = 3;
    let report = load::run(
        &common::target(&double.base_url()),
        &opts,
        &Interrupt::default(),
    )
    .await
    .unwrap();
    assert_eq!(report.created, 60);
    assert_eq!(left(&double.service(), &opts.run_id), 0);
    assert_eq!(report.stats.ops[&load::stats::Op::Create].failed(), 0);
}

/// The double, except that a group's PATCHes after its first are answered
/// 204 and dropped (a lost update), or that groups are read back without
/// their members.
struct GroupBugs {
    service: Arc<Mutex<Service>>,
    patched: Mutex<std::collections::HashSet<String>>,
    drop_later_patches: bool,
    hide_members: bool,
}

impl Respond for GroupBugs {
    fn respond(&self, request: &wiremock::Request) -> ResponseTemplate {
        let scim = service_request(request);
        let group = scim.path.starts_with("/Groups/");
        if group
            && scim.method == "PATCH"
            && self.drop_later_patches
            && !self.patched.lock().unwrap().insert(scim.path.clone())
        {
            return ResponseTemplate::new(204);
        }
        let mut answer = self.service.lock().unwrap().handle(&scim);
        if group
            && scim.method == "GET"
            && self.hide_members
            && let Some(body) = answer.body.as_mut().and_then(|b| b.as_object_mut())
        {
            body.remove("members");
        }
        response_template(&answer)
    }
}

async fn group_bugs(drop_later_patches: bool, hide_members: bool) -> scimcheck::double::Double {
    let double = common::double().await;
    Mock::given(any())
        .respond_with(GroupBugs {
            service: double.service(),
            patched: Mutex::default(),
            drop_later_patches,
            hide_members,
        })
        .with_priority(1)
        .mount(double.server())
        .await;
    double
}

fn with_groups(users: usize, groups: usize, members: usize, batch: usize) -> LoadOptions {
    LoadOptions {
        groups,
        members,
        member_batch: batch,
        ..options(users, 400.0)
    }
}

#[tokio::test]
async fn groups_are_created_empty_then_filled_in_batches_and_their_members_verified() {
    let double = common::double().await;
    let opts = with_groups(60, 3, 25, 4);
    let report = load::run(
        &common::target(&double.base_url()),
        &opts,
        &Interrupt::default(),
    )
    .await
    .unwrap();
    let ops = &report.stats.ops;
    use load::stats::Op;
    assert_eq!(ops[&Op::GroupMatch].count, 3);
    assert_eq!(ops[&Op::GroupCreate].count, 3);
    // 25 members in batches of 4: 7 PATCHes a group.
    assert_eq!(ops[&Op::Members].count, 21);
    assert_eq!(ops[&Op::Members].failed(), 0);
    assert_eq!(ops[&Op::ReadBack].count, 3);
    assert_eq!(
        (
            report.groups.created,
            report.groups.members_accepted,
            report.groups.members_found
        ),
        (3, 75, 75)
    );
    let lines = verdict::judge(&report, &expectations(opts.rate));
    let members = level_of(&lines, "members added by PATCH");
    assert_eq!(members.level, Level::Pass, "{}", members.text);
    assert!(
        verdict::render(&report, &lines)
            .contains("created 60 users and 3 groups, deleted 63, left 0")
    );
    assert_eq!(left(&double.service(), &opts.run_id), 0);
}

#[tokio::test]
async fn members_lost_by_concurrent_patches_fail_and_hidden_members_are_not_verified() {
    let double = group_bugs(true, false).await;
    let opts = with_groups(40, 2, 20, 5);
    let (_, lines) = load_double(&double, &opts).await;
    let members = level_of(&lines, "members added by PATCH");
    assert_eq!(members.level, Level::Fail, "{}", members.text);
    // Only each group's first batch of 5 held.
    assert!(
        members.text.starts_with("10 of 40 members"),
        "{}",
        members.text
    );
    assert!(
        members
            .text
            .contains("15 of the 20 members added are missing"),
        "{}",
        members.text
    );
    assert_eq!(left(&double.service(), &opts.run_id), 0);

    let double = group_bugs(false, true).await;
    let (_, lines) = load_double(&double, &opts).await;
    let members = level_of(&lines, "members added by PATCH");
    assert_eq!(members.level, Level::Warn, "{}", members.text);
    assert!(
        members.text.contains("2 groups read back without members"),
        "{}",
        members.text
    );
    assert_eq!(left(&double.service(), &opts.run_id), 0);
}

#[test]
fn the_locust_export_writes_the_scenario_and_sends_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("locustfile.py");
    // TEST-NET-1: an export contacts nobody, not even with --yes missing.
    let output = cargo_bin_cmd!("scimcheck")
        .args(["load", "--users", "100", "--groups", "2", "--members", "10"])
        .args(["--base-url", "http://192.0.2.1/scim/v2", "--export"])
        .arg(format!("locust={}", file.display()))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(0), "{stdout}");
    assert!(stdout.contains("nothing was sent"), "{stdout}");
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(text.contains("USERS = 100") && text.contains("GROUPS = 2"));
    assert!(text.contains("--host http://192.0.2.1/scim/v2"));

    let output = cargo_bin_cmd!("scimcheck")
        .args(["load", "--users", "5", "--export", "k6=x.js"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("--export takes locust=FILE"), "{stderr}");
}

/// The double, except that DELETE answers 500 while `failing` is set.
struct FailingDeletes {
    service: Arc<Mutex<Service>>,
    failing: Arc<std::sync::atomic::AtomicBool>,
}

impl Respond for FailingDeletes {
    fn respond(&self, request: &wiremock::Request) -> ResponseTemplate {
        let scim = service_request(request);
        if scim.method == "DELETE" && self.failing.load(Ordering::SeqCst) {
            return ResponseTemplate::new(500).set_body_string("storage offline");
        }
        response_template(&self.service.lock().unwrap().handle(&scim))
    }
}

#[tokio::test]
async fn what_a_failed_cleanup_leaves_is_told_and_cleanup_run_id_removes_it() {
    let double = common::double().await;
    let failing = Arc::new(std::sync::atomic::AtomicBool::new(true));
    Mock::given(any())
        .respond_with(FailingDeletes {
            service: double.service(),
            failing: failing.clone(),
        })
        .with_priority(1)
        .mount(double.server())
        .await;
    let opts = with_groups(30, 2, 10, 5);
    let (report, lines) = load_double(&double, &opts).await;
    // Every delete was tried again, then told as left: 30 users and 2 groups.
    assert_eq!(report.left.len(), 32, "{:?}", report.left);
    assert!(report.left.iter().any(|p| p.starts_with("/Groups/")));
    let text = verdict::render(&report, &lines);
    assert!(
        text.contains("created 30 users and 2 groups, deleted 0, left 32"),
        "{text}"
    );
    assert_eq!(left(&double.service(), &opts.run_id), 32);
    // The server is back: `scimcheck cleanup --run-id` removes the load's leftovers.
    failing.store(false, Ordering::SeqCst);
    let target = common::target(&double.base_url());
    let client = scimcheck::http::Client::new(&target).unwrap();
    let cleaned = scimcheck::cleanup::cleanup_run(&client, &target, &opts.run_id)
        .await
        .unwrap();
    assert_eq!((cleaned.deleted.len(), cleaned.failed.len()), (32, 0));
    assert_eq!(left(&double.service(), &opts.run_id), 0);
}

#[test]
fn an_unreachable_target_is_told_and_nothing_is_sent() {
    // Port 1 on loopback: nothing listens there.
    let output = cargo_bin_cmd!("scimcheck")
        .args([
            "load",
            "--users",
            "5",
            "--base-url",
            "http://127.0.0.1:1/scim/v2",
        ])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(3), "{stderr}");
    assert!(stderr.contains("is unreachable"), "{stderr}");
}

fn raw(requests: u64, concurrency: usize) -> LoadOptions {
    LoadOptions {
        raw: true,
        rate: 1_000_000.0,
        concurrency,
        max_requests: requests,
        ..options(0, 1.0)
    }
}

/// The double, but every third request answers 429, with this Retry-After
/// if there is one.
struct EveryThirdThrottled {
    service: Arc<Mutex<Service>>,
    served: Arc<AtomicU64>,
    retry_after: Option<&'static str>,
}

impl Respond for EveryThirdThrottled {
    fn respond(&self, request: &wiremock::Request) -> ResponseTemplate {
        if self.served.fetch_add(1, Ordering::SeqCst) % 3 == 2 {
            let throttled = ResponseTemplate::new(429);
            return match self.retry_after {
                Some(value) => throttled.insert_header("retry-after", value),
                None => throttled,
            };
        }
        response_template(
            &self
                .service
                .lock()
                .unwrap()
                .handle(&service_request(request)),
        )
    }
}

/// Runs 300 raw GETs against the double answering every third one 429 with
/// `retry_after`; gives the report and how many requests the server saw.
async fn raw_against_every_third_throttled(
    retry_after: Option<&'static str>,
) -> (load::LoadReport, u64, Vec<verdict::Line>) {
    let double = common::double().await;
    let served = Arc::new(AtomicU64::new(0));
    Mock::given(any())
        .respond_with(EveryThirdThrottled {
            service: double.service(),
            served: served.clone(),
            retry_after,
        })
        .with_priority(1)
        .mount(double.server())
        .await;
    let mut target = common::target(&double.base_url());
    target.max_retry_wait = Duration::from_millis(5);
    let opts = raw(300, 4);
    let report = load::run(&target, &opts, &Interrupt::default())
        .await
        .unwrap();
    let lines = verdict::judge(&report, &expectations(opts.rate));
    (report, served.load(Ordering::SeqCst), lines)
}

/// Every raw request is one request the server answered: the server's own
/// count equals scimcheck's, each 429 is counted with its missing
/// Retry-After, and the run ends at --max-requests.
#[tokio::test]
async fn raw_mode_counts_each_answer_the_server_gave_and_its_429s() {
    let (report, served, lines) = raw_against_every_third_throttled(None).await;
    let matched = &report.stats.ops[&load::stats::Op::Match];
    assert_eq!((matched.count, served), (300, 300));
    assert_eq!(matched.errors.get(&429), Some(&100), "{:?}", matched.errors);
    assert_eq!(matched.throttled_without_retry_after, 100);
    assert_eq!(level_of(&lines, "answers 429").level, Level::Fail);
    assert!(
        report
            .stopped_early
            .unwrap_or_default()
            .contains("--max-requests 300"),
        "the bound ends a raw run"
    );
}

/// A Retry-After in its HTTP-date form (RFC 9110 10.2.3) is a Retry-After:
/// the 429s are counted, none of them as missing it.
#[tokio::test]
async fn raw_mode_takes_a_retry_after_given_as_a_date() {
    let (report, served, lines) =
        raw_against_every_third_throttled(Some("Wed, 21 Oct 2015 07:28:00 GMT")).await;
    let matched = &report.stats.ops[&load::stats::Op::Match];
    assert_eq!((matched.count, served), (300, 300));
    assert_eq!(matched.errors.get(&429), Some(&100), "{:?}", matched.errors);
    assert_eq!(matched.throttled_without_retry_after, 0);
    assert_eq!(level_of(&lines, "answers 429").level, Level::Pass);
}

/// A server that never answers and one that hangs up: each request is a
/// failure with no status, and the run still ends.
#[tokio::test]
async fn raw_mode_fails_requests_nobody_answers_and_reconnects_after_a_hang_up() {
    let silent = wiremock::MockServer::start().await;
    Mock::given(any())
        .respond_with(ResponseTemplate::new(200).set_delay(Duration::from_secs(30)))
        .mount(&silent)
        .await;
    let mut target = common::target(&silent.uri());
    target.timeout = Duration::from_millis(100);
    let report = load::run(&target, &raw(6, 2), &Interrupt::default())
        .await
        .unwrap();
    let matched = &report.stats.ops[&load::stats::Op::Match];
    assert_eq!((matched.count, matched.errors.get(&0)), (6, Some(&6)));

    let rude = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = rude.local_addr().unwrap();
    let accepted = Arc::new(AtomicU64::new(0));
    let counter = accepted.clone();
    tokio::spawn(async move {
        while let Ok((socket, _)) = rude.accept().await {
            counter.fetch_add(1, Ordering::SeqCst);
            drop(socket);
        }
    });
    let target = common::target(&format!("http://{address}"));
    let report = load::run(&target, &raw(40, 2), &Interrupt::default())
        .await
        .unwrap();
    let matched = &report.stats.ops[&load::stats::Op::Match];
    assert_eq!((matched.count, matched.errors.get(&0)), (40, Some(&40)));
    assert!(
        accepted.load(Ordering::SeqCst) >= 40,
        "each failed request got a new connection"
    );
}

/// A server that answers in HTTP/1.0 and closes after each answer, as
/// Python's wsgiref does: every answer counts, each on a new connection.
#[tokio::test]
async fn raw_mode_counts_the_answers_of_a_server_closing_after_each() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let accepted = Arc::new(AtomicU64::new(0));
    let counter = accepted.clone();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            counter.fetch_add(1, Ordering::SeqCst);
            tokio::spawn(async move {
                let mut request = Vec::new();
                let mut buffer = [0u8; 1024];
                while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                    match socket.read(&mut buffer).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => request.extend_from_slice(&buffer[..n]),
                    }
                }
                let body = r#"{"schemas":["urn:ietf:params:scim:api:messages:2.0:ListResponse"],"totalResults":0,"Resources":[]}"#;
                let answer = format!(
                    "HTTP/1.0 200 OK\r\nContent-Type: application/scim+json\r\nContent-Length: {}\r\n\r\n{body}",
                    body.len()
                );
                let _ = socket.write_all(answer.as_bytes()).await;
            });
        }
    });
    let target = common::target(&format!("http://{address}"));
    let report = load::run(&target, &raw(60, 3), &Interrupt::default())
        .await
        .unwrap();
    let matched = &report.stats.ops[&load::stats::Op::Match];
    assert_eq!(
        (matched.count, matched.errors.clone()),
        (60, Default::default())
    );
    assert_eq!(accepted.load(Ordering::SeqCst), 60);
}

#[tokio::test]
async fn a_create_answering_a_customers_id_gets_no_write_and_the_loads_users_are_still_removed() {
    let (double, lie, log) = common::lying_double().await;
    let client = reqwest::Client::new();
    let base = double.base_url();
    let customer = common::post_scim(
        &client,
        format!("{base}/Users"),
        serde_json::json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
            "userName": "jane@customer.example", "active": true
        }),
    )
    .await;
    lie.set(customer.clone()).unwrap();
    let opts = options(20, 200.0);
    let (report, lines) = load_double(&double, &opts).await;
    let text = verdict::render(&report, &lines);

    let path = format!("/Users/{customer}");
    let writes: Vec<_> = log
        .lock()
        .unwrap()
        .iter()
        .filter(|(m, p)| m != "GET" && *p == path)
        .cloned()
        .collect();
    assert!(writes.is_empty(), "{writes:?}");
    let now = common::get_json(&client, format!("{base}{path}")).await;
    assert_eq!(now["userName"], "jane@customer.example", "{now}");
    assert_eq!(now["active"], true, "{now}");
    // Users 0 and 10 would have been changed: refused and failed, said.
    assert_eq!(report.refused_count, 2, "{text}");
    assert_eq!(level_of(&lines, "not sent").level, Level::Fail, "{text}");
    // The load's own users, whose ids it never learned, were found by name.
    assert_eq!(left(&double.service(), &opts.run_id), 0, "{text}");
    assert!(report.left.is_empty(), "{text}");
}

/// `scimcheck load` sent `signal` half way: it stops and deletes every user
/// it created before it exits.
fn load_interrupted_by(signal: &str) {
    use std::process::{Command, Stdio};
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let double = runtime.block_on(common::double());
    let child = Command::new(assert_cmd::cargo::cargo_bin!("scimcheck"))
        .args(["load", "--users", "400", "--rate", "40", "--base-url"])
        .arg(double.base_url())
        .args(["--token", common::TOKEN])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Once some users exist.
    let started = std::time::Instant::now();
    while scimcheck_users(&double.service()) < 5 {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "no user was created"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    Command::new("kill")
        .args([&format!("-{signal}"), &child.id().to_string()])
        .status()
        .unwrap();
    let output = child.wait_with_output().unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(output.status.code(), Some(130), "{text}");
    assert!(text.contains("interrupted"), "{text}");
    assert_eq!(scimcheck_users(&double.service()), 0, "{text}");
}

/// The users of any scimcheck run in the double.
fn scimcheck_users(service: &Arc<Mutex<Service>>) -> usize {
    let mut service = service.lock().unwrap();
    let body = service
        .handle(&common::request("GET", "/Users"))
        .body
        .unwrap();
    body["Resources"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| {
            r["userName"]
                .as_str()
                .unwrap_or_default()
                .starts_with("scimcheck-")
        })
        .count()
}

#[test]
fn a_terminated_load_deletes_what_it_created() {
    load_interrupted_by("TERM");
}

#[test]
fn a_load_whose_terminal_hangs_up_deletes_what_it_created() {
    load_interrupted_by("HUP");
}
