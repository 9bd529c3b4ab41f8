//! `scimcheck load`: an Entra initial cycle and an incremental one, at a
//! rate, against an endpoint (or the built-in double), then a verdict
//! against what Entra documents. A mode of the same HTTP client, not a
//! second runner of suites: the requests are Entra's, generated here.
//!
//! Open loop: each user's cycle starts on schedule, not when an earlier one
//! answered, and latency is measured from the scheduled start, so a server
//! that stalls cannot hide behind a slower client (coordinated omission).
//! At most `concurrency` requests are under way; when all are, the next
//! waits, and its wait counts in its latency.

pub mod stats;
pub mod verdict;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::json;

use crate::exec::Interrupt;
use crate::http::{Client, Exchange, SentRequest};
use crate::target::Target;
use stats::{Op, Outcome, Stats};

/// What to send, and the bounds that always hold.
#[derive(Debug, Clone)]
pub struct LoadOptions {
    pub users: usize,
    /// Requests a second asked (the initial cycle's two per user included).
    pub rate: f64,
    pub concurrency: usize,
    /// Never more requests than this, cleanup aside.
    pub max_requests: u64,
    /// Never longer than this, cleanup aside.
    pub duration: Duration,
    /// Stop early above this failure ratio, as Entra's quarantine would.
    pub stop_above_failure_ratio: f64,
    /// Names are `scimcheck-<run id>-load-<n>@example.com`.
    pub run_id: String,
    /// How many tenants' jobs the users, rate and concurrency are the sum
    /// of (each user's name says its tenant): a multi-tenant app sees them
    /// all at once.
    pub tenants: usize,
    /// Only the match GETs, `max_requests` of them at `rate`: the client's
    /// own throughput, for comparison with other load tools; nothing created.
    pub raw: bool,
}

impl LoadOptions {
    /// Requests of the cycles (cleanup aside): per user a match and a
    /// create, then an update for one in ten and a disable for one in twenty.
    pub fn planned_requests(&self) -> u64 {
        if self.raw {
            return self.max_requests;
        }
        let n = self.users as u64;
        2 * n + n.div_ceil(10) + n.div_ceil(20)
    }

    /// How long the initial cycle's schedule spans: the users start over it.
    pub fn window(&self) -> Duration {
        let requests = if self.raw {
            self.max_requests as f64
        } else {
            2.0 * self.users as f64
        };
        Duration::from_secs_f64(requests / self.rate).min(self.duration)
    }

    /// Refuses what cannot run as asked.
    pub fn check(&self) -> Result<(), String> {
        if self.users == 0 && !self.raw {
            return Err("--users must be at least 1".into());
        }
        if !(self.rate.is_finite() && self.rate > 0.0) {
            return Err(format!(
                "--rate must be a positive number of requests a second, not {}",
                self.rate
            ));
        }
        if self.concurrency == 0 {
            return Err("--concurrency must be at least 1".into());
        }
        // Each request would have to answer in under 1 ms (raw mode goes
        // as fast as the server answers, whatever the rate).
        if !self.raw && self.rate > self.concurrency as f64 * 1000.0 {
            return Err(format!(
                "{} requests a second with {} under way at most needs answers in under 1 ms: raise --concurrency or lower --rate",
                self.rate, self.concurrency
            ));
        }
        if self.max_requests == 0 {
            return Err("--max-requests must be at least 1".into());
        }
        Ok(())
    }
}

/// How the run ended, and what it measured.
pub struct LoadReport {
    pub stats: Stats,
    /// Wall time of the cycles (cleanup aside).
    pub elapsed: Duration,
    /// Requests started a second while the schedule ran: the asked rate,
    /// when the server keeps pace; less when answers come too slowly for
    /// the requests that depend on them to start in time.
    pub achieved_rate: f64,
    pub stopped_early: Option<String>,
    pub created: usize,
    /// Resources the cleanup could not delete: `/Users/<id>`.
    pub left: Vec<String>,
}

struct Shared {
    stats: Mutex<Stats>,
    progress: Arc<Progress>,
    created: Mutex<Vec<String>>,
    sent: std::sync::atomic::AtomicU64,
    /// Requests started within the schedule's window.
    in_window: std::sync::atomic::AtomicU64,
    stop: Mutex<Option<String>>,
}

fn user_name(run_id: &str, n: usize, tenants: usize) -> String {
    match tenants {
        0 | 1 => format!("scimcheck-{run_id}-load-{n}@example.com"),
        t => format!("scimcheck-{run_id}-t{}-load-{}@example.com", n % t, n / t),
    }
}

fn outcome(exchange: &Exchange, latency: Duration) -> Outcome {
    let throttled_before = exchange
        .retries
        .iter()
        .filter(|r| r.starts_with("429"))
        .count() as u32;
    let without = exchange
        .retries
        .iter()
        .filter(|r| r.contains("without Retry-After"))
        .count() as u32;
    let (status, last_429, last_without) = match &exchange.response {
        Ok(r) => (
            Some(r.status),
            u32::from(r.status == 429),
            u32::from(r.status == 429 && r.header("retry-after").is_none()),
        ),
        Err(_) => (None, 0, 0),
    };
    Outcome {
        status,
        throttled: throttled_before + last_429,
        throttled_without_retry_after: without + last_without,
        latency,
    }
}

fn json_request(
    target: &Target,
    method: http::Method,
    path: &str,
    body: serde_json::Value,
) -> SentRequest {
    let mut request = SentRequest::to(target, method, path);
    request.headers.push((
        "content-type".into(),
        "application/scim+json; charset=utf-8".into(),
    ));
    request.body = Some(body.to_string().into_bytes());
    request
}

/// Runs the cycles, then deletes what they created (also when interrupted
/// or stopped early).
pub async fn run(
    target: &Target,
    options: &LoadOptions,
    interrupt: &Interrupt,
) -> Result<LoadReport, String> {
    run_with_progress(target, options, interrupt, &Arc::new(Progress::default())).await
}

/// Counters a live view reads while the load runs.
#[derive(Debug, Default)]
pub struct Progress {
    /// Requests answered (or failed without an answer), cleanup aside.
    pub done: std::sync::atomic::AtomicU64,
    pub failed: std::sync::atomic::AtomicU64,
}

/// [`run`], telling `progress` each request as it finishes.
pub async fn run_with_progress(
    target: &Target,
    options: &LoadOptions,
    interrupt: &Interrupt,
    progress: &Arc<Progress>,
) -> Result<LoadReport, String> {
    options.check()?;
    let mut target = target.clone();
    // The schedule is the load's own: no pacing by the client.
    target.rate = None;
    let client = Arc::new(Client::new(&target).map_err(|e| e.to_string())?);
    let shared = Arc::new(Shared {
        stats: Mutex::new(Stats::default()),
        progress: progress.clone(),
        created: Mutex::new(Vec::new()),
        sent: Default::default(),
        in_window: Default::default(),
        stop: Mutex::new(None),
    });
    let slots = Arc::new(tokio::sync::Semaphore::new(options.concurrency));
    let started = Instant::now();
    let deadline = started + options.duration;
    // Two requests per user in the initial cycle: users start at half the rate.
    let user_interval = Duration::from_secs_f64(2.0 / options.rate);
    let mut tasks = tokio::task::JoinSet::new();
    if options.raw {
        raw(
            &client, &shared, &target, options, started, deadline, interrupt,
        )
        .await;
    }
    let stopped = |shared: &Shared| shared.stop.lock().map(|s| s.is_some()).unwrap_or(true);
    for n in (0..options.users).filter(|_| !options.raw) {
        let scheduled = started + user_interval.mul_f64(n as f64);
        if scheduled >= deadline {
            *shared.stop.lock().unwrap() = Some(format!(
                "--duration {} s reached",
                options.duration.as_secs()
            ));
            break;
        }
        tokio::time::sleep_until(scheduled.into()).await;
        // A user's cycle starts when a slot is free: the wait counts in its
        // latency (measured from the schedule), and no more than
        // `concurrency` cycles are ever held in memory.
        let Ok(slot) = slots.clone().acquire_owned().await else {
            break;
        };
        if interrupt.is_set() || stopped(&shared) {
            break;
        }
        let (client, shared, target, options) = (
            client.clone(),
            shared.clone(),
            target.clone(),
            options.clone(),
        );
        tasks.spawn(async move {
            user_cycle(n, scheduled, started, &client, &shared, &target, &options).await;
            drop(slot);
        });
        // Finished tasks are reaped as the schedule goes, so memory stays flat.
        while tasks.try_join_next().is_some() {}
    }
    while tasks.join_next().await.is_some() {}
    let elapsed = started.elapsed();
    let mut report_stats = shared.stats.lock().unwrap().clone();
    let window = options.window().as_secs_f64().max(1e-3);
    let achieved_rate = if options.raw {
        // As fast as it goes: what completed over the time it took.
        report_stats.totals().0 as f64 / elapsed.as_secs_f64().max(1e-9)
    } else {
        shared.in_window.load(std::sync::atomic::Ordering::SeqCst) as f64 / window
    };
    let stopped_early = shared
        .stop
        .lock()
        .unwrap()
        .clone()
        .or_else(|| interrupt.is_set().then(|| "interrupted".to_string()));
    // Cleanup: everything created, whatever happened.
    let created: Vec<String> = std::mem::take(&mut *shared.created.lock().unwrap());
    let mut left = Vec::new();
    let cleanup_started = Instant::now();
    let mut deletes = tokio::task::JoinSet::new();
    for id in created.clone() {
        // A slot first, so that at most `concurrency` deletes are held in memory.
        let Ok(slot) = slots.clone().acquire_owned().await else {
            break;
        };
        let (client, target) = (client.clone(), target.clone());
        deletes.spawn(async move {
            let _slot = slot;
            let path = format!("/Users/{id}");
            let t = Instant::now();
            let mut exchange = client
                .send(SentRequest::to(&target, http::Method::DELETE, &path))
                .await;
            // A failed delete is tried again, as a run's cleanups are.
            for wait in [100u64, 200, 400] {
                let retry = match &exchange.response {
                    Ok(r) => r.status >= 500,
                    Err(_) => true,
                };
                if !retry {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(wait)).await;
                exchange = client
                    .send(SentRequest::to(&target, http::Method::DELETE, &path))
                    .await;
            }
            (path, outcome(&exchange, t.elapsed()))
        });
        while let Some(done) = deletes.try_join_next() {
            tally_delete(done, &mut left, &mut report_stats, cleanup_started, started);
        }
    }
    while let Some(done) = deletes.join_next().await {
        tally_delete(done, &mut left, &mut report_stats, cleanup_started, started);
    }
    left.sort();
    Ok(LoadReport {
        stats: report_stats,
        elapsed,
        achieved_rate,
        stopped_early,
        created: created.len(),
        left,
    })
}

/// Records a finished cleanup DELETE; one that did not delete is left.
fn tally_delete(
    done: Result<(String, Outcome), tokio::task::JoinError>,
    left: &mut Vec<String>,
    stats: &mut Stats,
    cleanup_started: Instant,
    started: Instant,
) {
    let Ok((path, result)) = done else { return };
    let second = cleanup_started.duration_since(started).as_secs() as usize;
    if !result
        .status
        .is_some_and(|s| (200..300).contains(&s) || s == 404)
    {
        left.push(path);
    }
    stats.record(Op::Delete, second, &result);
}

/// Raw mode: match GETs as fast as the server answers, as many as
/// `max_requests`, from `concurrency` workers that each send the next
/// request when the last one answered (closed loop, as wrk measures).
#[allow(clippy::too_many_arguments)]
async fn raw(
    client: &Arc<Client>,
    shared: &Arc<Shared>,
    target: &Target,
    options: &LoadOptions,
    started: Instant,
    deadline: Instant,
    interrupt: &Interrupt,
) {
    let mut workers = tokio::task::JoinSet::new();
    for worker in 0..options.concurrency {
        let filter = format!("userName eq \"{}\"", user_name(&options.run_id, worker, 1));
        let mut request = SentRequest::to(target, http::Method::GET, "/Users");
        request.url = format!("{}?filter={}", request.url, crate::exec::encode(&filter));
        let (client, shared, options, interrupt) = (
            client.clone(),
            shared.clone(),
            options.clone(),
            interrupt.clone(),
        );
        workers.spawn(async move {
            while Instant::now() < deadline && !interrupt.is_set() {
                let now = Instant::now();
                if send(
                    Op::Match,
                    request.clone(),
                    now,
                    started,
                    &client,
                    &shared,
                    &options,
                )
                .await
                .is_none()
                {
                    break;
                }
            }
        });
    }
    while workers.join_next().await.is_some() {}
}

/// One user as Entra's cycles treat it: matched, created, and for some
/// updated or disabled.
#[allow(clippy::too_many_arguments)]
async fn user_cycle(
    n: usize,
    scheduled: Instant,
    started: Instant,
    client: &Client,
    shared: &Shared,
    target: &Target,
    options: &LoadOptions,
) {
    let name = user_name(&options.run_id, n, options.tenants);
    let filter = format!("userName eq \"{name}\"");
    let mut match_request = SentRequest::to(target, http::Method::GET, "/Users");
    match_request.url = format!(
        "{}?filter={}",
        match_request.url,
        crate::exec::encode(&filter)
    );
    let create = json_request(
        target,
        http::Method::POST,
        "/Users",
        json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
            "userName": name,
            "active": true,
            "displayName": format!("Load user {n}"),
            "emails": [{ "primary": true, "type": "work", "value": name }],
            "externalId": format!("scimcheck-{}-load-{n}", options.run_id),
        }),
    );
    // Entra creates only when the match answered that nobody has the name.
    let matched = send(
        Op::Match,
        match_request,
        scheduled,
        started,
        client,
        shared,
        options,
    )
    .await;
    if !matched.is_some_and(|e| e.response.as_ref().is_ok_and(|r| r.status == 200)) {
        return;
    }
    let Some(exchange) = send(
        Op::Create,
        create,
        Instant::now(),
        started,
        client,
        shared,
        options,
    )
    .await
    else {
        return;
    };
    let Some(id) = exchange
        .response
        .as_ref()
        .ok()
        .filter(|r| r.status == 201)
        .and_then(|r| r.json().ok())
        .and_then(|v| v.get("id").and_then(|i| i.as_str()).map(str::to_string))
    else {
        return;
    };
    shared.created.lock().unwrap().push(id.clone());
    let path = format!("/Users/{id}");
    let patch = |ops: serde_json::Value| {
        json_request(
            target,
            http::Method::PATCH,
            &path,
            json!({
                "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                "Operations": ops,
            }),
        )
    };
    // The incremental cycle: one user in ten changed, one in twenty disabled.
    if n.is_multiple_of(10) {
        let update = patch(
            json!([{ "op": "Replace", "path": "displayName", "value": format!("Load user {n} (changed)") }]),
        );
        send(
            Op::Update,
            update,
            Instant::now(),
            started,
            client,
            shared,
            options,
        )
        .await;
    }
    if n.is_multiple_of(20) {
        let disable = patch(json!([{ "op": "Replace", "path": "active", "value": "False" }]));
        send(
            Op::Disable,
            disable,
            Instant::now(),
            started,
            client,
            shared,
            options,
        )
        .await;
    }
}

/// Sends one request within the bounds, and records it. None when a bound
/// or an early stop kept it from being sent.
#[allow(clippy::too_many_arguments)]
async fn send(
    op: Op,
    request: SentRequest,
    scheduled: Instant,
    started: Instant,
    client: &Client,
    shared: &Shared,
    options: &LoadOptions,
) -> Option<Exchange> {
    use std::sync::atomic::Ordering;
    if shared.stop.lock().map(|s| s.is_some()).unwrap_or(true) {
        return None;
    }
    if shared.sent.fetch_add(1, Ordering::SeqCst) >= options.max_requests {
        *shared.stop.lock().unwrap() =
            Some(format!("--max-requests {} reached", options.max_requests));
        return None;
    }
    if started.elapsed() <= options.window() {
        shared.in_window.fetch_add(1, Ordering::SeqCst);
    }
    let exchange = client.send(request).await;
    let result = outcome(&exchange, scheduled.elapsed());
    let second = scheduled.saturating_duration_since(started).as_secs() as usize;
    shared.progress.done.fetch_add(1, Ordering::Relaxed);
    if !result.status.is_some_and(|s| (200..300).contains(&s)) {
        shared.progress.failed.fetch_add(1, Ordering::Relaxed);
    }
    let mut stats = shared.stats.lock().unwrap();
    stats.record(op, second, &result);
    let (requests, failures) = stats.totals();
    // Entra evaluates quarantine on enough requests; so does the early stop.
    if requests >= 100 && failures as f64 / requests as f64 > options.stop_above_failure_ratio {
        *shared.stop.lock().unwrap() = Some(format!(
            "stopped early: {failures} of {requests} requests failed, above {:.0} % (Entra quarantines a job above 40 %)",
            options.stop_above_failure_ratio * 100.0
        ));
    }
    Some(exchange)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_tenant_has_names_of_its_own() {
        assert_eq!(user_name("r1", 7, 1), "scimcheck-r1-load-7@example.com");
        assert_eq!(user_name("r1", 7, 3), "scimcheck-r1-t1-load-2@example.com");
        assert!(crate::ownership::carries_run_prefix(
            &user_name("r1", 7, 3),
            "r1"
        ));
    }

    #[test]
    fn impossible_or_empty_loads_are_refused() {
        let base = LoadOptions {
            users: 10,
            rate: 25.0,
            concurrency: 4,
            max_requests: 100,
            duration: Duration::from_secs(10),
            stop_above_failure_ratio: 0.4,
            run_id: "r1".into(),
            tenants: 1,
            raw: false,
        };
        assert!(base.check().is_ok());
        assert!(
            LoadOptions {
                users: 0,
                ..base.clone()
            }
            .check()
            .unwrap_err()
            .contains("--users")
        );
        assert!(
            LoadOptions {
                rate: 0.0,
                ..base.clone()
            }
            .check()
            .unwrap_err()
            .contains("--rate")
        );
        assert!(
            LoadOptions {
                rate: 5000.0,
                concurrency: 1,
                ..base.clone()
            }
            .check()
            .unwrap_err()
            .contains("under 1 ms")
        );
        assert_eq!(base.planned_requests(), 2 * 10 + 1 + 1);
    }
}
