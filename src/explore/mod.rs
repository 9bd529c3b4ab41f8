//! `scimcheck explore`: model-based testing of a target against the
//! built-in double.
//!
//! The double's SCIM logic is the reference model of what an RFC-correct
//! server does. The explorer generates what clients send (Entra in both of
//! its modes, Okta, RFC clients), with values real directories hold and
//! servers mishandle ([`values`]), applies each operation to the target and
//! to a fresh model, and compares what a client can observe ([`compare`]),
//! modulo the choices the RFCs leave to the server ([`state::Choices`]).
//! Cases are proptest strategies ([`strategies`]); a deviation is shrunk by
//! proptest to a short sequence, which [`reproduce`] writes as an ordinary
//! suite file. Every resource is run-prefixed, written only once a read-back
//! shows it is the run's, and deleted (LIFO) when its case ends.

pub mod call;
pub mod case;
pub mod compare;
pub mod op;
pub mod reproduce;
pub mod scale;
pub mod scale_reproduce;
pub mod state;
pub mod strategies;
pub mod values;

use std::time::{Duration, Instant};

use proptest::strategy::{Strategy, ValueTree};
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
use serde_json::Value;

use case::{Case, Halt};
use compare::Level;
use op::Op;
use state::{Choices, Finding, Shared};

use crate::cleanup::{Deletion, delete_if_ours};
use crate::http::{Client, SentRequest};
use crate::interrupt::Interrupt;
use crate::scim::schema::Published;
use crate::target::Target;

/// What a run of the explorer is asked to do.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The most requests sent to the target, shrinking aside.
    pub budget: usize,
    pub seed: u64,
    /// The most operations in one case.
    pub case_length: usize,
    /// The longest a run may take, shrinking included.
    pub duration: Option<Duration>,
    /// The longest shrinking one deviation may take.
    pub shrink_time: Duration,
    /// The most cases tried while shrinking one deviation.
    pub shrink_steps: u32,
    /// The most distinct deviations looked for.
    pub max_findings: usize,
    /// Cases run at once, up to [`CASES_PER_THREAD`] on a thread, each
    /// thread generating them with a proptest runner of its own (the first
    /// has the run's seed; with one case at a time a seed sends the same
    /// requests in the same order).
    pub workers: usize,
    /// The most writes a burst sends at once.
    pub parallel: usize,
    /// Users the scale phase creates before the cases (0: no scale phase).
    pub tenant_size: usize,
    pub run_id: String,
}

impl Settings {
    pub fn new(run_id: &str, budget: usize, seed: u64) -> Settings {
        Settings {
            budget,
            seed,
            case_length: 24,
            duration: None,
            shrink_time: Duration::from_secs(60),
            shrink_steps: 256,
            max_findings: 8,
            workers: 1,
            parallel: 6,
            tenant_size: 0,
            run_id: run_id.to_string(),
        }
    }
}

/// One deviation, shrunk, with its reproducer.
#[derive(Debug, Clone)]
pub struct Divergence {
    pub finding: Finding,
    /// The shrunk operations.
    pub ops: Vec<Op>,
    /// The reproducer: an ordinary suite file's text.
    pub suite: String,
    /// Requests the shrunk case sends.
    pub requests: usize,
    pub shrink_time: Duration,
}

/// How a run went.
#[derive(Debug, Default)]
pub struct Outcome {
    pub seed: u64,
    pub cases: usize,
    pub requests: usize,
    pub elapsed: Duration,
    pub divergences: Vec<Divergence>,
    pub advice: Vec<Finding>,
    /// Filter features the target refused (RFC 7644 Table 9: its choice).
    pub not_offered: Vec<String>,
    /// Resources a case could not delete.
    pub left: Vec<String>,
    pub interrupted: bool,
    /// The discovery answers the run learned the target's choices from.
    pub choices: Option<Choices>,
    /// The scale phase, where there was one.
    pub scaled: Option<scale::Scaled>,
    /// The threads of cases that could not run, each with why.
    pub lost_workers: Vec<String>,
    /// How many threads of cases were started.
    pub workers: usize,
}

impl Outcome {
    /// No worker ran: nothing was explored, whatever the scale phase did.
    pub fn nothing_explored(&self) -> bool {
        self.lost_workers.len() >= self.workers
    }

    pub fn failed(&self) -> bool {
        self.divergences
            .iter()
            .any(|d| d.finding.level == Level::Must)
            || self.scaled.as_ref().is_some_and(|s| s.finding.is_some())
    }
}

/// Reads the target's discovery documents and whether its tenant is empty.
pub async fn learn(client: &Client, target: &Target) -> Choices {
    let get = |path: &str| {
        let request = SentRequest::to(target, http::Method::GET, path);
        async move {
            let exchange = client.send(request).await;
            exchange
                .response
                .ok()
                .filter(|r| r.status == 200)
                .and_then(|r| r.json().ok())
        }
    };
    let config = get("/ServiceProviderConfig").await;
    let schemas = get("/Schemas").await.map(|s| Published::from_json(&s));
    let total = |v: Option<Value>| v.and_then(|v| v.get("totalResults").and_then(Value::as_u64));
    let users = total(get("/Users?count=1").await);
    let groups = total(get("/Groups?count=1").await);
    let empty = users == Some(0) && groups == Some(0);
    Choices::learn(config.as_ref(), schemas.as_ref(), empty)
}

/// Explores the target until the budget is spent, the duration is over,
/// `max_findings` deviations are found, or the run is interrupted.
pub async fn explore(
    client: &Client,
    target: &Target,
    settings: &Settings,
    stop: &Interrupt,
    progress: &(dyn Fn(usize, usize) + Sync),
) -> Outcome {
    let started = Instant::now();
    let choices = learn(client, target).await;
    let shared = Shared::new(
        client,
        target,
        choices.clone(),
        &settings.run_id,
        stop,
        settings.budget,
        settings.workers,
    );
    let deadline = settings.duration.map(|d| started + d);
    let scaled = match settings.tenant_size {
        0 => None,
        size => {
            let found = scale::scale(&shared, size, settings.parallel, deadline).await;
            let loopback = crate::target::is_loopback(&target.base_url);
            Some(scale::shrink(&shared, found, settings.parallel, deadline, loopback).await)
        }
    };
    // Cases run on threads of their own, each with a runtime, connections
    // and a proptest runner of its own (a request and its answer never
    // cross threads), up to CASES_PER_THREAD at once on each: a thread
    // that waits for one answer goes on with another case instead of
    // sleeping, which costs a loopback run more than its requests. They
    // share the budget and the pace.
    let cases_at_once = settings.workers.max(1);
    let threads = cases_at_once.div_ceil(CASES_PER_THREAD);
    let workers: Vec<Result<Vec<Divergence>, String>> = tokio::task::block_in_place(|| {
        std::thread::scope(|scope| {
            let running: Vec<_> = (0..threads)
                .map(|thread| {
                    let shared = &shared;
                    // The cases at once, spread evenly over the threads.
                    let share =
                        cases_at_once / threads + usize::from(thread < cases_at_once % threads);
                    scope.spawn(move || drive(shared, settings, thread, share, started, progress))
                })
                .collect();
            running
                .into_iter()
                .map(|w| {
                    w.join()
                        .unwrap_or_else(|_| Err("it stopped on an internal error".into()))
                })
                .collect()
        })
    });
    // A worker that could not run is named, never taken for one that found nothing.
    let mut lost_workers = Vec::new();
    let mut divergences: Vec<Divergence> = Vec::new();
    for (worker, result) in workers.into_iter().enumerate() {
        match result {
            Ok(found) => divergences.extend(found),
            Err(why) => lost_workers.push(format!("thread {}: {why}", worker + 1)),
        }
    }
    divergences.truncate(settings.max_findings);
    Outcome {
        seed: settings.seed,
        cases: shared.cases.load(std::sync::atomic::Ordering::Relaxed),
        requests: shared.sent() + scaled.as_ref().map_or(0, |s| s.requests),
        elapsed: started.elapsed(),
        divergences,
        advice: shared.advice.lock().expect("advice lock").clone(),
        not_offered: shared
            .offered
            .lock()
            .expect("offered lock")
            .iter()
            .filter(|(_, offered)| !**offered)
            .map(|(f, _)| f.clone())
            .collect(),
        left: shared
            .left
            .lock()
            .expect("left lock")
            .iter()
            .chain(scaled.iter().flat_map(|s| &s.left))
            .cloned()
            .collect(),
        interrupted: stop.is_set(),
        choices: Some(choices),
        scaled,
        lost_workers,
        workers: threads,
    }
}

/// The most cases one thread runs at once.
pub const CASES_PER_THREAD: usize = 8;

/// Worker `worker`'s seed: the run's for the first, spread for the others.
fn seed_bytes(seed: u64, worker: usize) -> [u8; 16] {
    let seed = seed.wrapping_add((worker as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15));
    let mut bytes = [0u8; 16];
    for (i, chunk) in bytes.chunks_mut(8).enumerate() {
        chunk.copy_from_slice(&(seed.wrapping_add(i as u64)).to_le_bytes());
    }
    bytes
}

/// One thread's cases: `at_once` of them in flight, each new one
/// generated by the thread's proptest runner as another ends; a failing
/// one is shrunk (keeping to the same check) and written as a reproducer.
fn drive(
    shared: &Shared<'_>,
    settings: &Settings,
    thread: usize,
    at_once: usize,
    started: Instant,
    progress: &(dyn Fn(usize, usize) + Sync),
) -> Result<Vec<Divergence>, String> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("its runtime could not be built: {e}"))?;
    let client = shared
        .client
        .sibling(shared.target)
        .map_err(|e| format!("its HTTP client could not be built: {e}"))?;
    let mut runner = TestRunner::new_with_rng(
        Config {
            failure_persistence: None,
            ..Config::default()
        },
        // XorShift, not ChaCha: a case's recursive and lazy strategies seed
        // a generator of their own each, and ChaCha's seeding alone cost
        // more than a tenth of the explorer's time.
        TestRng::from_seed(RngAlgorithm::XorShift, &seed_bytes(settings.seed, thread)),
    );
    let strategy = strategies::case(settings.case_length, settings.parallel);
    let over = || {
        shared.stop.is_set()
            || shared.spent.load(std::sync::atomic::Ordering::Relaxed)
            || settings.duration.is_some_and(|d| started.elapsed() >= d)
            || shared.found.lock().expect("found lock").len() >= settings.max_findings
    };
    runtime.block_on(async {
        let mut running = futures::stream::FuturesUnordered::new();
        let mut divergences = Vec::new();
        loop {
            while running.len() < at_once.max(1) && !over() {
                let Ok(tree) = strategy.new_tree(&mut runner) else {
                    break;
                };
                running.push(explore_one(shared, &client, settings, tree));
            }
            match futures::StreamExt::next(&mut running).await {
                None => break,
                Some(found) => {
                    progress(shared.sent(), shared.budget);
                    divergences.extend(found);
                }
            }
        }
        Ok(divergences)
    })
}

/// Whether a deviation already found explains `finding`.
fn known(shared: &Shared<'_>, finding: &Finding) -> bool {
    shared
        .found
        .lock()
        .expect("found lock")
        .iter()
        .any(|f| f.explains(finding))
}

/// Runs one generated case; when it fails with a deviation not yet found,
/// shrinks it by proptest's protocol (`simplify` while the same check
/// still fails, `complicate` when it passes), bounded in steps so that the
/// same target shrinks the same way whatever its speed, and in time for a
/// very slow one. The loop is driven here rather than by proptest's runner
/// so that the cases it tries are sent beside the thread's other cases.
async fn explore_one<T: ValueTree<Value = Vec<Op>>>(
    shared: &Shared<'_>,
    client: &Client,
    settings: &Settings,
    mut tree: T,
) -> Option<Divergence> {
    let ops = tree.current();
    let (result, _) = run_case(shared, client, &ops, false).await;
    let Err(Halt::Diverged(first)) = result else {
        return None;
    };
    if known(shared, &first) {
        return None;
    }
    let shrink_started = Instant::now();
    let mut minimal = ops;
    let mut steps = 0;
    let mut more = tree.simplify();
    while more && steps < settings.shrink_steps && shrink_started.elapsed() < settings.shrink_time {
        steps += 1;
        let candidate = tree.current();
        let (result, _) = run_case(shared, client, &candidate, true).await;
        let same =
            matches!(&result, Err(Halt::Diverged(f)) if f.key == first.key && !known(shared, f));
        more = if same {
            minimal = candidate;
            tree.simplify()
        } else {
            tree.complicate()
        };
    }
    let shrink_time = shrink_started.elapsed();
    // Once more, to have the minimal case's finding and requests.
    let (result, case) = run_case(shared, client, &minimal, true).await;
    let Err(Halt::Diverged(finding)) = result else {
        return None;
    };
    let mut found = shared.found.lock().expect("found lock");
    if found.iter().any(|f| f.explains(&finding)) {
        return None;
    }
    found.push((*finding).clone());
    let suite = reproduce::suite(&case, &finding, settings.seed);
    Some(Divergence {
        finding: *finding,
        requests: case.records.len(),
        ops: minimal,
        suite,
        shrink_time,
    })
}

/// What a finished case leaves for the reproducer.
pub struct Finished {
    pub prefix: String,
    pub records: Vec<case::Record>,
    pub slots: Vec<case::Slot>,
    pub failed_expect: Vec<(String, Value)>,
    pub failed_statuses: Vec<u16>,
}

/// Runs one case, then deletes what it created, newest first, each only
/// once a read-back shows it is the run's.
async fn run_case(
    shared: &Shared<'_>,
    client: &Client,
    ops: &[Op],
    shrinking: bool,
) -> (Result<(), Halt>, Finished) {
    let mut case = Case::new(shared, client, shared.next_case(), shrinking);
    let result = case.run(ops).await;
    for slot in case.slots.iter().rev() {
        if slot.target_id.is_empty() {
            continue;
        }
        shared
            .sent
            .fetch_add(2, std::sync::atomic::Ordering::Relaxed);
        let attempt = delete_if_ours(
            client,
            shared.target,
            slot.kind.endpoint(),
            &slot.target_id,
            None,
            &shared.run_id,
        )
        .await;
        match attempt.deletion {
            Deletion::Deleted | Deletion::Gone => {}
            Deletion::SomeoneElses(why) | Deletion::Failed(why) => {
                shared.left.lock().expect("left lock").push(format!(
                    "/{}/{}: {why}",
                    slot.kind.endpoint(),
                    slot.target_id
                ))
            }
        }
    }
    let finished = Finished {
        prefix: case.prefix.clone(),
        records: case.records,
        slots: case.slots,
        failed_expect: case.failed_expect,
        failed_statuses: case.failed_statuses,
    };
    (result, finished)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_run_whose_workers_could_not_run_is_not_one_that_found_nothing() {
        let some_lost = Outcome {
            workers: 4,
            lost_workers: vec!["worker 2: its runtime could not be built: no threads".into()],
            ..Outcome::default()
        };
        assert!(!some_lost.nothing_explored());
        assert!(!some_lost.failed());
        let all_lost = Outcome {
            workers: 1,
            lost_workers: vec!["worker 1: its HTTP client could not be built: no TLS".into()],
            ..Outcome::default()
        };
        assert!(all_lost.nothing_explored());
    }
}
