//! `scimcheck load`: an Entra initial cycle and an incremental one, at a
//! rate, against an endpoint (or the built-in double), then a verdict
//! against what Entra documents. A mode of the same HTTP client, not a
//! second runner of suites: the requests are Entra's, generated here.
//!
//! Open loop (see [`pace`]): each item starts on schedule, and its latency
//! is measured from the scheduled start.

pub mod groups;
pub mod html;
pub mod locust;
mod pace;
pub mod plot;
mod raw;
pub mod stats;
pub mod users;
pub mod verdict;

use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::cleanup::{DeleteAttempt, Deletion, delete_if_ours};
use crate::exec::Interrupt;
use crate::http::Client;
use crate::ownership::Identity;
use crate::target::Target;
use groups::{GroupsReport, Membership};
use pace::{Created, Ctx, outcome, paced};
use stats::{Op, Stats};

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
    /// Groups created after the users (in all, as `users` is).
    pub groups: usize,
    /// Members of each group, added after its creation.
    pub members: usize,
    /// Members in each PATCH that adds them.
    pub member_batch: usize,
}

impl LoadOptions {
    /// Requests of the users' phase: per user a match and a create, then
    /// an update for one in ten and a disable for one in twenty.
    fn user_requests(&self) -> u64 {
        let n = self.users as u64;
        2 * n + n.div_ceil(10) + n.div_ceil(20)
    }

    /// Requests of the cycles (cleanup aside): the users', then per group
    /// a match, a create, its member PATCHes and a read back.
    pub fn planned_requests(&self) -> u64 {
        if self.raw {
            return self.max_requests;
        }
        self.user_requests() + self.groups as u64 * (3 + self.batches_per_group() as u64)
    }

    /// PATCHes adding one group's members.
    pub fn batches_per_group(&self) -> usize {
        self.members.div_ceil(self.member_batch.max(1))
    }

    /// Requests a user's cycle sends, on average.
    pub fn per_user_requests(&self) -> f64 {
        self.user_requests() as f64 / self.users.max(1) as f64
    }

    /// How often a user's cycle starts, so that its requests come at the rate.
    fn per_user(&self) -> Duration {
        Duration::from_secs_f64(self.per_user_requests() / self.rate)
    }

    /// How long the schedule spans: the requests of the cycles at the rate.
    pub fn window(&self) -> Duration {
        Duration::from_secs_f64(self.planned_requests() as f64 / self.rate).min(self.duration)
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
        if self.members > 0 && self.groups == 0 {
            return Err("--members needs --groups: the members of which groups?".into());
        }
        let per_tenant = self.users / self.tenants.max(1);
        if self.groups > 0 && self.members > per_tenant {
            return Err(format!(
                "--members {} is more than the {per_tenant} users a tenant has: raise --users or lower --members",
                self.members
            ));
        }
        if self.member_batch == 0 {
            return Err("--member-batch must be at least 1".into());
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
    /// A raw run: match GETs only, as fast as the server answers.
    pub raw: bool,
    pub stopped_early: Option<String>,
    /// Users created.
    pub created: usize,
    pub groups: GroupsReport,
    /// Resources the cleanup could not delete: `/Users/<id> (name): why`.
    pub left: Vec<String>,
    /// Writes not sent because the id the server answered was not confirmed
    /// as the load's own (a few, with why), and how many.
    pub refused: Vec<String>,
    pub refused_count: u64,
}

/// Counters a live view reads while the load runs.
#[derive(Debug, Default)]
pub struct Progress {
    /// Requests answered (or failed without an answer), cleanup aside.
    pub done: std::sync::atomic::AtomicU64,
    pub failed: std::sync::atomic::AtomicU64,
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
    let client = Client::new(&target).map_err(|e| e.to_string())?;
    let ctx = Arc::new(Ctx::new(
        client,
        target,
        options.clone(),
        interrupt.clone(),
        progress.clone(),
    ));
    // The user's interruption and the end of --duration stop the load,
    // a 429's back-off under way included: no wait outlives the run's bounds.
    let bounds = {
        let ctx = ctx.clone();
        tokio::spawn(async move {
            tokio::select! {
                _ = ctx.interrupt.triggered() => ctx.stop_because("interrupted".into()),
                _ = tokio::time::sleep_until(ctx.deadline.into()) => ctx.stop_because(format!(
                    "--duration {} s reached",
                    ctx.options.duration.as_secs()
                )),
            }
        })
    };
    let groups = Arc::new(Membership::new(
        if options.groups > 0 { options.users } else { 0 },
        options.groups,
        options.batches_per_group(),
    ));
    if options.raw {
        raw::raw(&ctx).await;
    } else {
        cycles(&ctx, &groups).await;
    }
    bounds.abort();
    let elapsed = ctx.started.elapsed();
    let mut report_stats = ctx.stats.lock().unwrap().clone();
    // Stopped early (interrupted, a bound reached), the rate is over the part
    // of the window that ran, not over the whole window planned.
    let window = match ctx.stopped() {
        Some(_) => options.window().min(elapsed),
        None => options.window(),
    }
    .as_secs_f64()
    .max(1e-3);
    let achieved_rate = if options.raw {
        // As fast as it goes: what completed over the time it took.
        report_stats.totals().0 as f64 / elapsed.as_secs_f64().max(1e-9)
    } else {
        ctx.in_window.load(std::sync::atomic::Ordering::SeqCst) as f64 / window
    };
    let stopped_early = ctx.stopped();
    let created: Vec<Created> = std::mem::take(&mut *ctx.created.lock().unwrap());
    let left = cleanup(&ctx, &created, &mut report_stats).await;
    let count = |endpoint: &str| created.iter().filter(|c| c.endpoint == endpoint).count();
    let refused = ctx.refused.lock().unwrap().clone();
    let groups_report = GroupsReport {
        created: count("Groups"),
        ..groups.outcome.lock().unwrap().clone()
    };
    Ok(LoadReport {
        stats: report_stats,
        elapsed,
        achieved_rate,
        raw: options.raw,
        stopped_early,
        created: count("Users"),
        groups: groups_report,
        left,
        refused,
        refused_count: ctx.refused_count.load(std::sync::atomic::Ordering::Relaxed),
    })
}

/// The initial cycle's users, then its groups and their members (Entra adds
/// a member once the user exists), each phase on the same schedule.
async fn cycles(ctx: &Arc<Ctx>, groups: &Arc<Membership>) {
    let options = &ctx.options;
    let per_user = options.per_user();
    let keep_ids = options.groups > 0;
    let ids = groups.clone();
    paced(
        ctx,
        options.users,
        per_user,
        ctx.started,
        move |ctx, n, at| {
            let ids = ids.clone();
            async move {
                let id = users::user_cycle(ctx, n, at).await;
                if keep_ids {
                    ids.user_ids.lock().unwrap()[n] = id;
                }
            }
        },
    )
    .await;
    if options.groups == 0 {
        return;
    }
    let requested = options.user_requests();
    let base = ctx.phase_start(requested);
    let g = groups.clone();
    let per_group = Duration::from_secs_f64(2.0 / options.rate);
    paced(ctx, options.groups, per_group, base, move |ctx, n, at| {
        groups::group_cycle(ctx, g.clone(), n, at)
    })
    .await;
    let requested = requested + 2 * options.groups as u64;
    let batches = options.batches_per_group();
    let per_request = Duration::from_secs_f64(1.0 / options.rate);
    let g = groups.clone();
    // Group by group: the batches of one group are under way side by side.
    paced(
        ctx,
        options.groups * batches,
        per_request,
        ctx.phase_start(requested),
        move |ctx, n, at| groups::member_batch(ctx, g.clone(), n / batches, n % batches, at),
    )
    .await;
    let requested = requested + (options.groups * batches) as u64;
    let g = groups.clone();
    paced(
        ctx,
        options.groups,
        per_request,
        ctx.phase_start(requested),
        move |ctx, n, at| groups::read_back(ctx, g.clone(), n, at),
    )
    .await;
}

/// Deletes everything created, the last created first (groups before their
/// members), whatever happened, each only once a read-back shows it is the
/// load's own; returns what may be left behind. When a create answered an id
/// that is not the load's, the load's resources are then looked for by name
/// (as `cleanup --run-id` does), so that none is left unsaid.
async fn cleanup(ctx: &Arc<Ctx>, created: &[Created], stats: &mut Stats) -> Vec<String> {
    let mut left = Vec::new();
    let mut lost = false;
    let since = ctx.started.elapsed();
    let mut deletes = tokio::task::JoinSet::new();
    for resource in created.iter().rev().cloned() {
        let Some(id) = resource.id.clone() else {
            lost = true;
            continue;
        };
        // A slot first, so that at most `concurrency` deletes are held in memory.
        let Ok(slot) = ctx.slots.clone().acquire_owned().await else {
            break;
        };
        let ctx = ctx.clone();
        deletes.spawn(async move {
            let _slot = slot;
            let t = Instant::now();
            let sent = Identity {
                names: vec![resource.name.clone()],
                created: None,
            };
            let attempt = delete_if_ours(
                &ctx.client,
                &ctx.target,
                resource.endpoint,
                &id,
                Some(&sent),
                &ctx.options.run_id,
            )
            .await;
            (resource, id, attempt, t.elapsed())
        });
        while let Some(done) = deletes.try_join_next() {
            lost |= tally_delete(done, &mut left, stats, since);
        }
    }
    while let Some(done) = deletes.join_next().await {
        lost |= tally_delete(done, &mut left, stats, since);
    }
    if lost {
        left.extend(sweep(ctx).await);
    }
    left.sort();
    left
}

/// Looks for the load's users and groups by name and deletes each one whose
/// id holds it: for resources whose create answered no id, or another's.
async fn sweep(ctx: &Arc<Ctx>) -> Vec<String> {
    match crate::cleanup::cleanup_run(&ctx.client, &ctx.target, &ctx.options.run_id).await {
        Ok(report) => report.failed,
        Err(e) => vec![format!(
            "resources whose create answered no id, or another resource's id, could not be looked for by name ({e})"
        )],
    }
}

/// Records a finished cleanup; one that did not delete is left. True when
/// the id answered was not the load's: its own resource is still to find.
fn tally_delete(
    done: Result<(Created, String, DeleteAttempt, Duration), tokio::task::JoinError>,
    left: &mut Vec<String>,
    stats: &mut Stats,
    since: Duration,
) -> bool {
    let Ok((resource, id, attempt, latency)) = done else {
        return false;
    };
    let second = since.as_secs() as usize;
    for (op, exchange) in [(Op::Confirm, &attempt.read), (Op::Delete, &attempt.delete)] {
        if let Some(exchange) = exchange {
            stats.record(op, second, &outcome(exchange, latency));
        }
    }
    let what = format!("/{}/{id} ({})", resource.endpoint, resource.name);
    match attempt.deletion {
        Deletion::Deleted | Deletion::Gone => false,
        Deletion::SomeoneElses(_) => true,
        Deletion::Failed(why) => {
            left.push(format!("{what}: {why}"));
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
            groups: 0,
            members: 0,
            member_batch: 1,
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
        let members = |groups, members| {
            LoadOptions {
                groups,
                members,
                ..base.clone()
            }
            .check()
        };
        assert!(
            members(0, 3)
                .unwrap_err()
                .contains("--members needs --groups")
        );
        assert!(
            members(2, 11)
                .unwrap_err()
                .contains("more than the 10 users")
        );
        // Per group: match, create, 3 PATCHes of one member, read back.
        let grouped = LoadOptions {
            groups: 2,
            members: 3,
            ..base.clone()
        };
        assert_eq!(grouped.planned_requests(), 22 + 2 * 6);
    }
}
