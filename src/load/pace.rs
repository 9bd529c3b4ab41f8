//! The open-loop schedule every phase of a load follows, and the one way a
//! load request is sent and recorded.
//!
//! Each item starts on schedule, not when an earlier one answered, and its
//! latency is measured from the scheduled start, so a server that stalls
//! cannot hide behind a slower client (coordinated omission). At most
//! `concurrency` requests are under way; when all are, the next waits, and
//! its wait counts in its latency.

use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::exec::Interrupt;
use crate::http::{Client, Exchange, SentRequest};
use crate::target::Target;

use super::stats::{Op, Outcome, Stats};
use super::{LoadOptions, Progress};

/// What every task of a load shares.
pub(super) struct Ctx {
    pub client: Client,
    pub target: Target,
    pub options: LoadOptions,
    pub started: Instant,
    pub deadline: Instant,
    /// The schedule's span ([`LoadOptions::window`]), computed once.
    window: Duration,
    pub interrupt: Interrupt,
    pub slots: Arc<tokio::sync::Semaphore>,
    pub stats: Mutex<Stats>,
    pub progress: Arc<Progress>,
    /// What was created, in order.
    pub created: Mutex<Vec<Created>>,
    sent: AtomicU64,
    /// Writes not sent because the id was not confirmed as the load's own:
    /// a few with why, and how many.
    pub refused: Mutex<Vec<String>>,
    pub refused_count: AtomicU64,
    /// Requests started within the schedule's window.
    pub in_window: AtomicU64,
    stop: Mutex<Option<String>>,
    /// Set with the first stop: a 429 under way is no longer waited out.
    stopping: Interrupt,
}

impl Ctx {
    pub fn new(
        client: Client,
        target: Target,
        options: LoadOptions,
        interrupt: Interrupt,
        progress: Arc<Progress>,
    ) -> Ctx {
        let started = Instant::now();
        Ctx {
            client,
            target,
            slots: Arc::new(tokio::sync::Semaphore::new(options.concurrency)),
            deadline: started + options.duration,
            window: options.window(),
            options,
            started,
            interrupt,
            stats: Mutex::new(Stats::default()),
            progress,
            created: Mutex::new(Vec::new()),
            sent: AtomicU64::new(0),
            refused: Mutex::new(Vec::new()),
            refused_count: AtomicU64::new(0),
            in_window: AtomicU64::new(0),
            stop: Mutex::new(None),
            stopping: Interrupt::default(),
        }
    }

    /// Whether no new request starts (the per-request check: no reason built).
    pub fn is_stopped(&self) -> bool {
        self.interrupt.is_set() || self.stop.lock().map(|s| s.is_some()).unwrap_or(true)
    }

    /// Why no new request starts, if one of the bounds or an early stop says so.
    pub fn stopped(&self) -> Option<String> {
        let stop = self.stop.lock().map(|s| s.clone()).unwrap_or(None);
        stop.or_else(|| self.interrupt.is_set().then(|| "interrupted".to_string()))
    }

    pub fn stop_because(&self, why: String) {
        let mut stop = self.stop.lock().unwrap();
        if stop.is_none() {
            *stop = Some(why);
        }
        self.stopping.trigger();
    }

    /// The time of the next phase's first item: now, or later if the
    /// schedule so far asked for more time than the last phase took.
    pub fn phase_start(&self, requests_before: u64) -> Instant {
        let planned =
            self.started + Duration::from_secs_f64(requests_before as f64 / self.options.rate);
        planned.max(Instant::now())
    }

    /// Sends one request within the bounds, and records it. None when a
    /// bound or an early stop kept it from being sent.
    pub async fn send(&self, op: Op, request: SentRequest, scheduled: Instant) -> Option<Exchange> {
        if !self.admit() {
            return None;
        }
        let exchange = self.client.send_until(request, &self.stopping).await;
        self.record(op, scheduled, &outcome(&exchange, scheduled.elapsed()));
        Some(exchange)
    }

    /// Whether one more request may start (counting it if so): false once
    /// stopped, or when `--max-requests` is reached.
    pub fn admit(&self) -> bool {
        if self.is_stopped() {
            return false;
        }
        if self.sent.fetch_add(1, Ordering::SeqCst) >= self.options.max_requests {
            self.stop_because(format!(
                "--max-requests {} reached",
                self.options.max_requests
            ));
            return false;
        }
        if self.started.elapsed() <= self.window {
            self.in_window.fetch_add(1, Ordering::SeqCst);
        }
        true
    }

    /// Records what came of a request [`Ctx::admit`] let start, and stops
    /// the load early when too many failed.
    pub fn record(&self, op: Op, scheduled: Instant, result: &Outcome) {
        let second = scheduled.saturating_duration_since(self.started).as_secs() as usize;
        self.progress.done.fetch_add(1, Ordering::Relaxed);
        if !result.status.is_some_and(|s| (200..300).contains(&s)) {
            self.progress.failed.fetch_add(1, Ordering::Relaxed);
        }
        let mut stats = self.stats.lock().unwrap();
        stats.record(op, second, result);
        let (requests, failures) = stats.totals();
        drop(stats);
        // Entra evaluates quarantine on enough requests; so does the early stop.
        if requests >= 100
            && failures as f64 / requests as f64 > self.options.stop_above_failure_ratio
        {
            self.stop_because(format!(
                "stopped early: {failures} of {requests} requests failed, above {:.0} % (Entra quarantines a job above 40 %)",
                self.options.stop_above_failure_ratio * 100.0
            ));
        }
    }

    /// Entra's find-or-create: the match, then, when it answered, the POST
    /// of `body` to `/endpoint`. Whatever the server says it created is
    /// recorded for the cleanup, with the name sent. The id comes back only
    /// when it may be written to: with `will_write`, once a read-back shows
    /// it holds the name sent (a server may answer someone else's id).
    pub async fn match_then_create(
        &self,
        (match_op, found): (Op, SentRequest),
        (create_op, endpoint, body): (Op, &'static str, serde_json::Value),
        scheduled: Instant,
        will_write: bool,
    ) -> Option<String> {
        let found = self.send(match_op, found, scheduled).await;
        if !match_answered(found.as_ref()) {
            return None;
        }
        let name = ["userName", "displayName"]
            .iter()
            .find_map(|a| body.get(a).and_then(|v| v.as_str()))
            .unwrap_or_default()
            .to_string();
        let path = format!("/{endpoint}");
        let create = json_request(&self.target, http::Method::POST, &path, body);
        let exchange = self.send(create_op, create, Instant::now()).await?;
        let accepted = exchange
            .response
            .as_ref()
            .is_ok_and(|r| (200..300).contains(&r.status));
        if !accepted {
            return None;
        }
        let id = created_id(&exchange);
        self.created.lock().unwrap().push(Created {
            endpoint,
            id: id.clone(),
            name: name.clone(),
        });
        let id = id?;
        if will_write && !self.owns(endpoint, &id, &name).await {
            return None;
        }
        Some(id)
    }

    /// Whether `/endpoint/id` holds the resource named `name` this load
    /// created: read back once before the first write (the read is counted
    /// as scimcheck's own, not Entra's).
    async fn owns(&self, endpoint: &str, id: &str, name: &str) -> bool {
        let Ok(path) = crate::ownership::resource_path(endpoint, id) else {
            self.refused(format!("`{id}` cannot be one path segment"));
            return false;
        };
        let read = SentRequest::to(&self.target, http::Method::GET, &path);
        let Some(exchange) = self.send(Op::Confirm, read, Instant::now()).await else {
            return false;
        };
        let sent = crate::ownership::Identity {
            names: vec![name.to_string()],
            created: None,
        };
        let verdict = match &exchange.response {
            Ok(r) if r.status == 200 => r
                .json()
                .map_err(|e| format!("{path} is not JSON: {e}"))
                .and_then(|current| {
                    crate::ownership::confirm(&current, Some(&sent), &self.options.run_id)
                        .map_err(|why| format!("{path} {why}"))
                }),
            Ok(r) => Err(format!("{path} answered {} when read back", r.status)),
            Err(e) => Err(format!("{path}: {e}")),
        };
        match verdict {
            Ok(()) => true,
            Err(why) => {
                self.refused(why);
                false
            }
        }
    }

    /// A write not sent because its target is not the load's own.
    fn refused(&self, why: String) {
        let mut refused = self.refused.lock().unwrap();
        if refused.len() < MAX_TOLD {
            refused.push(why);
        }
        self.refused_count.fetch_add(1, Ordering::Relaxed);
    }
}

/// At most this many refusals are kept with their reason.
const MAX_TOLD: usize = 20;

/// A resource the server said it created for the load.
#[derive(Debug, Clone)]
pub struct Created {
    pub endpoint: &'static str,
    /// None when the create's answer carried no id.
    pub id: Option<String>,
    /// The name the load sent.
    pub name: String,
}

/// Starts `count` items, one every `every` from `base`, each when a slot is
/// free, and waits for all of them. Stops starting at the deadline, an
/// interruption or an early stop.
pub(super) async fn paced<F, Fut>(
    ctx: &Arc<Ctx>,
    count: usize,
    every: Duration,
    base: Instant,
    item: F,
) where
    F: Fn(Arc<Ctx>, usize, Instant) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let mut tasks = tokio::task::JoinSet::new();
    for n in 0..count {
        let scheduled = base + every.mul_f64(n as f64);
        if scheduled >= ctx.deadline {
            ctx.stop_because(format!(
                "--duration {} s reached",
                ctx.options.duration.as_secs()
            ));
            break;
        }
        tokio::time::sleep_until(scheduled.into()).await;
        // The wait for a slot counts in the latency (measured from the
        // schedule), and no more than `concurrency` items are ever held.
        let Ok(slot) = ctx.slots.clone().acquire_owned().await else {
            break;
        };
        if ctx.is_stopped() {
            break;
        }
        let work = item(ctx.clone(), n, scheduled);
        tasks.spawn(async move {
            work.await;
            drop(slot);
        });
        // Finished tasks are reaped as the schedule goes, so memory stays flat.
        while tasks.try_join_next().is_some() {}
    }
    while tasks.join_next().await.is_some() {}
}

pub(super) fn outcome(exchange: &Exchange, latency: Duration) -> Outcome {
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
            u32::from(
                r.status == 429
                    && r.header("retry-after")
                        .and_then(crate::http::retry_after)
                        .is_none(),
            ),
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

/// A request with a SCIM JSON body.
pub(super) fn json_request(
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

/// `GET <endpoint>?filter=<attribute> eq "<value>"`, plus `extra` query parameters.
pub(super) fn match_request(
    target: &Target,
    endpoint: &str,
    attribute: &str,
    value: &str,
    extra: &str,
) -> SentRequest {
    let filter = format!("{attribute} eq \"{value}\"");
    let mut request = SentRequest::to(target, http::Method::GET, endpoint);
    request.url = format!(
        "{}?filter={}{extra}",
        request.url,
        crate::target::encode(&filter)
    );
    request
}

/// The id in a 201 answer.
fn created_id(exchange: &Exchange) -> Option<String> {
    exchange
        .response
        .as_ref()
        .ok()
        .filter(|r| (200..300).contains(&r.status))
        .and_then(|r| r.json().ok())
        .and_then(|v| v.get("id").and_then(|i| i.as_str()).map(str::to_string))
}

/// The match answered (200): Entra goes on to create only then.
fn match_answered(exchange: Option<&Exchange>) -> bool {
    exchange.is_some_and(|e| e.response.as_ref().is_ok_and(|r| r.status == 200))
}
