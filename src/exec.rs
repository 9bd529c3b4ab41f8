//! Runs scenarios: render each step's request, send it, check the answer,
//! capture values, and register cleanups that run LIFO when the scenario
//! ends, whatever happened in it.
//!
//! A step that fails stops the steps that build on it (its `needs`, every
//! earlier step by default), which are reported as not run with the reason;
//! the others still run. Cleanups always run: resources scimcheck created are
//! removed even then.

use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use serde_json::Value;

use crate::check::schema::SchemaSet;
use crate::check::snapshot::{SnapshotOutcome, SnapshotStore};
use crate::check::{CheckContext, Checked, Failure, check_response};
use crate::diagnostic::Span;
use crate::http::{Client, Exchange, ReceivedResponse, SentRequest, TransportError};
use crate::normalize::Normalizer;
use crate::ownership::{self, Identity, Ledger, Resource};
use crate::plan::{
    Body, CREATED_ID, Capture, CaptureFrom, Plan, RequestPlan, ScenarioPlan, StepPlan, SuitePlan,
};
use crate::target::{Target, encode};
use crate::template::{RenderError, Scope};

/// Told what happens as a run goes (the terminal's live view).
pub trait Observer: Send + Sync {
    /// A scenario finished: its result, as soon as it is known.
    fn scenario_finished(&self, result: &ScenarioResult);
    /// An exchange of a step (or of a cleanup, as step `cleanup`) finished.
    fn exchange(&self, _scenario: &str, _step: &str, _exchange: &Exchange) {}
}

/// Everything a run shares.
pub struct RunContext {
    pub client: Client,
    pub target: Target,
    /// Unique per run: the prefix of every name scimcheck creates.
    pub run_id: String,
    pub schemas: Arc<SchemaSet>,
    pub snapshots: SnapshotStore,
    /// ServiceProviderConfig features, when some scenario or step requires any.
    pub features: Option<Result<Value, String>>,
    pub interrupt: Interrupt,
    /// The target's secrets, computed once: snapshots redact them.
    pub secrets: Vec<String>,
    /// The User attributes the target's /Schemas declares (lower-case,
    /// dotted for sub-attributes); None when read nowhere: RFC 7643 core assumed.
    pub declared: Option<std::collections::BTreeSet<String>>,
    /// What the target's /Schemas requires beyond RFC 7643, added to the
    /// create and replace bodies that lack it (see [`crate::required`]).
    pub required: Option<crate::required::Required>,
    pub observer: Option<Arc<dyn Observer>>,
    /// Every resource this run saw deleted, whatever scenario deleted it: a
    /// create answering one of these ids has reassigned it (RFC 7643 3.1).
    pub deleted: std::sync::Mutex<std::collections::HashSet<Resource>>,
}

pub use crate::interrupt::{CLEANUP_BUDGET, Interrupt};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Passed,
    Failed,
    Skipped(String),
}

#[derive(Debug, Clone)]
pub struct StepResult {
    pub id: String,
    pub span: Span,
    pub spec: Vec<String>,
    /// The catalogue requirements its checks verify.
    pub verifies: Vec<String>,
    pub exchange: Option<Exchange>,
    /// The reads that confirmed, before the step's write was sent, that
    /// what it writes to is the run's own (see [`crate::ownership`]).
    pub read_backs: Vec<Exchange>,
    pub failures: Vec<Failure>,
    /// SHOULD-level checks that did not hold.
    pub advice: Vec<Failure>,
    /// INFO-level observations that did not hold: for the record only.
    pub notes: Vec<Failure>,
    pub impact: Option<String>,
    pub fix: Option<String>,
    /// Texts for a status other than the one asked, where they differ.
    pub status_impact: Option<String>,
    pub status_fix: Option<String>,
    pub advice_text: Option<String>,
    /// What the INFO observations mean.
    pub note_text: Option<String>,
    /// The blocking checks that were applied to the answer (none when no
    /// answer came), by the names failures carry.
    pub checks: Vec<String>,
    /// The SHOULD-level checks that were applied.
    pub advised: Vec<String>,
    /// The INFO-level observations that were made.
    pub observed: Vec<String>,
    /// A cleanup that did not happen, told as a step of its own.
    pub is_failed_cleanup: bool,
    /// Why the step was not run (a step it builds on did not pass, the run
    /// was interrupted): nothing was sent and nothing was checked.
    pub not_run: Option<String>,
    /// For a step not run because of a failure: the failed step at its root.
    pub blocked_by: Option<String>,
    /// A step not run because an optional feature it needs is not offered:
    /// not applicable, so no requirement is left unassessed.
    pub not_applicable: bool,
    /// The step found its optional feature not offered (a `not_offered` status).
    pub feature_not_offered: bool,
    /// The failed step this one stood in for (`fallback_for`), when it ran.
    pub stood_in_for: Option<String>,
    /// The step only prepares: a failure is "could not set up", not a finding.
    pub setup: bool,
    /// Checks not evaluated, by level (`must`, `should`, `info`) and name:
    /// they presume a status that did not come.
    pub not_evaluated: Vec<(&'static str, String)>,
}

impl StepResult {
    pub fn new(id: &str, span: Span, spec: Vec<String>) -> StepResult {
        StepResult {
            id: id.to_string(),
            span,
            spec,
            verifies: Vec::new(),
            exchange: None,
            read_backs: Vec::new(),
            failures: Vec::new(),
            advice: Vec::new(),
            notes: Vec::new(),
            impact: None,
            fix: None,
            status_impact: None,
            status_fix: None,
            advice_text: None,
            note_text: None,
            checks: Vec::new(),
            advised: Vec::new(),
            observed: Vec::new(),
            is_failed_cleanup: false,
            not_run: None,
            blocked_by: None,
            not_applicable: false,
            feature_not_offered: false,
            stood_in_for: None,
            setup: false,
            not_evaluated: Vec::new(),
        }
    }

    /// The step as planned, with its texts, before it runs.
    fn planned(step: &StepPlan) -> StepResult {
        let mut result = StepResult::new(&step.id, step.span.clone(), step.spec.clone());
        result.impact = step.impact.clone();
        result.fix = step.fix.clone();
        result.status_impact = step.status_impact.clone();
        result.status_fix = step.status_fix.clone();
        result.advice_text = step.advice.clone();
        result.note_text = step.note.clone();
        result.setup = step.setup;
        result.verifies = step.verifies.clone();
        result
    }

    /// What the client does and how to fix it, for the check that failed
    /// first: a refusal (the status) has texts of its own where the step
    /// gives them.
    /// The impact and the fix to tell. A refusal whose answer names its
    /// cause (`scimType`) gets the fix for that cause.
    pub fn texts(&self) -> (Option<&str>, Option<String>) {
        let refused = self.failures.first().is_some_and(|f| f.check == "status");
        if refused {
            let by_cause = self
                .exchange
                .as_ref()
                .and_then(crate::check::refusal::fix_for);
            let own = self.status_fix.as_deref().or(self.fix.as_deref());
            let fix = match (by_cause, own) {
                (Some(cause), _) if cause.pinned => Some(cause.text),
                (_, Some(own)) => Some(own.to_owned()),
                (cause, None) => cause.map(|c| c.text),
            };
            (
                self.status_impact.as_deref().or(self.impact.as_deref()),
                fix,
            )
        } else {
            (self.impact.as_deref(), self.fix.clone())
        }
    }

    /// A write whose failures are none of its status, its sending or the
    /// ownership rule: what it wrote is there to build on. A capture it
    /// could not take stops only the steps that use it.
    pub fn wrote_as_asked(&self, method: &http::Method) -> bool {
        *method != http::Method::GET
            && self.exchange.as_ref().is_some_and(|e| e.response.is_ok())
            && self.failures.iter().all(|f| {
                !(f.check == "status"
                    || f.check == "transport"
                    || f.check == "request"
                    || f.check == OWNERSHIP_CHECK
                    || f.check == REUSED_ID_CHECK)
            })
    }

    /// Whether the step ran and a check of its MUST level did not hold.
    pub fn failed(&self) -> bool {
        !self.failures.is_empty()
    }

    /// Whether the step ran and every MUST check held.
    pub fn passed(&self) -> bool {
        self.not_run.is_none() && self.failures.is_empty()
    }

    /// A step that ran to prepare and failed: "could not set up".
    pub fn is_setup_failure(&self) -> bool {
        self.setup && self.failed()
    }
}

#[derive(Debug, Clone)]
pub struct CleanupResult {
    /// The last request of the cleanup: the DELETE, or the read that
    /// decided there was nothing of the run's to delete; None when no
    /// request could be built (a create answered without an id).
    pub exchange: Option<Exchange>,
    /// The read that confirmed the resource is the run's, before a DELETE.
    pub read_back: Option<Exchange>,
    /// Why the resource may have been left behind, or was left alone.
    pub problem: Option<String>,
    /// The id now names a resource the run did not create: not deleted,
    /// and not to be deleted by anyone cleaning up after the run.
    pub left_alone: bool,
}

#[derive(Debug, Clone)]
pub struct ScenarioResult {
    pub full_name: String,
    /// The client profile of its suite, if any (see [`crate::profile`]).
    pub profile: Option<&'static str>,
    /// Skipped only because the service provider does not claim an optional
    /// feature it needs (sort, etag, bulk, ...): the RFC makes them optional.
    pub unclaimed_feature: bool,
    /// The interruption stopped it before it started or before a step.
    pub interrupted: bool,
    pub suite_source: String,
    pub outcome: Outcome,
    pub steps: Vec<StepResult>,
    pub cleanups: Vec<CleanupResult>,
    pub elapsed: Duration,
    /// The catalogue requirements its steps verify, run or not.
    pub verifies: Vec<String>,
    /// 5xx answers it met while other scenarios ran beside it, which did
    /// not recur when it ran again alone: `step: answered 500 (detail)`.
    /// Told apart from conformance findings (the result is the one alone).
    pub under_concurrency: Vec<String>,
}

impl ScenarioResult {
    /// Its steps that failed on a 5xx answer, as `step: answered 500 (detail)`.
    pub fn server_errors(&self) -> Vec<String> {
        self.steps
            .iter()
            .filter(|s| s.failed())
            .filter_map(|s| {
                let response = s.exchange.as_ref()?.response.as_ref().ok()?;
                (response.status >= 500).then(|| {
                    let detail = crate::check::excerpt(&response.body);
                    match detail.is_empty() {
                        true => format!("{}: answered {}", s.id, response.status),
                        false => format!("{}: answered {} ({detail})", s.id, response.status),
                    }
                })
            })
            .collect()
    }

    /// The steps not run (not applicable ones aside), grouped by what
    /// stopped them, in order: `(blocked by `create`, [get, update])`.
    pub fn not_run_groups(&self) -> Vec<(String, Vec<&str>)> {
        grouped(
            self.steps
                .iter()
                .filter(|s| !s.not_applicable)
                .filter_map(|step| {
                    let reason = step.not_run.as_ref()?;
                    let why = match &step.blocked_by {
                        Some(root) => format!("blocked by `{root}`, which failed"),
                        None => reason.clone(),
                    };
                    Some((why, step.id.as_str()))
                }),
        )
    }

    /// The steps left out as not applicable (an optional feature not
    /// offered, an attribute not declared), grouped by why, in order; the
    /// stand-ins that were not needed are no loss and are not listed.
    pub fn not_applicable_groups(&self) -> Vec<(String, Vec<&str>)> {
        grouped(
            self.steps
                .iter()
                .filter(|s| s.not_applicable)
                .filter_map(|step| {
                    let why = step.not_run.as_ref()?;
                    if step_was_a_spare_stand_in(why) {
                        return None;
                    }
                    let why = why.strip_prefix("not applicable: ").unwrap_or(why);
                    Some((why.to_string(), step.id.as_str()))
                }),
        )
    }

    /// Every exchange of the scenario in the order sent: its steps' and then
    /// its cleanups', each with a label (`create`, `cleanup`). A failed
    /// cleanup is also told as a step; it is listed once.
    pub fn exchanges(&self) -> impl Iterator<Item = (&str, &Exchange)> {
        let steps = self
            .steps
            .iter()
            .filter(|s| !s.is_failed_cleanup)
            .flat_map(|s| {
                s.read_backs
                    .iter()
                    .map(|e| ("ownership", e))
                    .chain(s.exchange.as_ref().map(|e| (s.id.as_str(), e)))
            });
        let cleanups = self
            .cleanups
            .iter()
            .flat_map(|c| c.read_back.iter().chain(&c.exchange))
            .map(|e| ("cleanup", e));
        steps.chain(cleanups)
    }
}

/// Step ids grouped by their reason, in the order each reason first came.
fn grouped<'a>(reasons: impl Iterator<Item = (String, &'a str)>) -> Vec<(String, Vec<&'a str>)> {
    let mut groups: Vec<(String, Vec<&str>)> = Vec::new();
    for (why, id) in reasons {
        match groups.iter_mut().find(|(w, _)| *w == why) {
            Some((_, ids)) => ids.push(id),
            None => groups.push((why, vec![id])),
        }
    }
    groups
}

/// A stand-in whose step passed: it had nothing to stand in for.
fn step_was_a_spare_stand_in(why: &str) -> bool {
    why.starts_with("not needed: ")
}

/// The check name of a cleanup that did not happen, or cannot be built.
pub const CLEANUP_CHECK: &str = "cleanup";

/// A fresh run id: short, lower-case, unlikely to collide.
pub fn new_run_id() -> String {
    uuid::Uuid::new_v4().simple().to_string()[..10].to_string()
}

/// Runs every scenario of the plan, at most `concurrency` at a time; results
/// come back in plan order.
pub async fn run_plan(ctx: &RunContext, plan: &Plan, concurrency: usize) -> Vec<ScenarioResult> {
    let jobs: Vec<(usize, &SuitePlan, &ScenarioPlan)> = plan
        .scenarios()
        .enumerate()
        .map(|(i, (suite, scenario))| (i, suite, scenario))
        .collect();
    let mut results: Vec<(usize, ScenarioResult)> = futures::stream::iter(jobs)
        .map(|(i, suite, scenario)| async move {
            let result = run_scenario(ctx, plan, suite, scenario, i).await;
            if let Some(observer) = &ctx.observer {
                observer.scenario_finished(&result);
            }
            (i, result)
        })
        .buffer_unordered(concurrency.max(1))
        .collect()
        .await;
    results.sort_by_key(|(i, _)| *i);
    results.into_iter().map(|(_, r)| r).collect()
}

/// Why a scenario cannot run against this target, from its `requires`.
fn unmet_requirement(ctx: &RunContext, scenario: &ScenarioPlan) -> Option<String> {
    unmet(&scenario.requires, &ctx.target, ctx.features.as_ref())
}

/// Why a scenario requiring `requires` cannot run against `target`, whose
/// ServiceProviderConfig is `features` (None when it was not read).
pub fn unmet(
    requires: &[String],
    target: &Target,
    features: Option<&Result<Value, String>>,
) -> Option<String> {
    if requires.is_empty() {
        return None;
    }
    let has_credentials = target.authorization().is_some() || !target.headers.is_empty();
    if requires.iter().any(|f| f == "auth") && !has_credentials {
        return Some(
            "no credentials given (--token, --basic or --header): authentication cannot be tested"
                .into(),
        );
    }
    if requires.iter().all(|f| f == "auth") {
        return None;
    }
    let config = match features? {
        Ok(config) => config,
        Err(why) => {
            return Some(format!(
                "the ServiceProviderConfig could not be read: {why}"
            ));
        }
    };
    unclaimed(requires, config)
}

/// The first feature of `requires` the ServiceProviderConfig `config` does
/// not claim, said as why a scenario needing it does not run.
fn unclaimed(requires: &[String], config: &Value) -> Option<String> {
    requires
        .iter()
        .filter(|f| *f != "auth")
        .find_map(
            |feature| match config.get(feature).and_then(|f| f.get("supported")) {
                Some(Value::Bool(true)) => None,
                Some(other) => Some(format!("{feature}.supported is {other}")),
                None => Some(format!(
                    "{feature}.supported is absent from the ServiceProviderConfig"
                )),
            },
        )
}

/// Whether `requires` is unmet only because the service provider does not
/// claim an optional feature (as opposed to missing credentials or an
/// unreadable ServiceProviderConfig): nothing it claims is left unchecked.
pub fn only_unclaimed(
    requires: &[String],
    target: &Target,
    features: Option<&Result<Value, String>>,
) -> bool {
    let has_credentials = target.authorization().is_some() || !target.headers.is_empty();
    let auth_ok = !requires.iter().any(|f| f == "auth") || has_credentials;
    match features {
        Some(Ok(config)) => auth_ok && unclaimed(requires, config).is_some(),
        _ => false,
    }
}

/// Runs one scenario; `index` makes its run id unique within the run.
pub async fn run_scenario(
    ctx: &RunContext,
    plan: &Plan,
    suite: &SuitePlan,
    scenario: &ScenarioPlan,
    index: usize,
) -> ScenarioResult {
    let started = std::time::Instant::now();
    let mut result = ScenarioResult {
        full_name: scenario.full_name.clone(),
        profile: suite.profile,
        unclaimed_feature: false,
        interrupted: false,
        suite_source: suite.source.name.clone(),
        outcome: Outcome::Passed,
        steps: Vec::new(),
        cleanups: Vec::new(),
        elapsed: Duration::ZERO,
        verifies: {
            let mut ids: Vec<String> = scenario
                .steps
                .iter()
                .flat_map(|s| s.verifies.clone())
                .collect();
            ids.sort();
            ids.dedup();
            ids
        },
        under_concurrency: Vec::new(),
    };
    if ctx.interrupt.is_set() {
        result.interrupted = true;
        result.outcome = Outcome::Skipped("the run was interrupted before it started".into());
        return result;
    }
    if let Some(reason) = unmet_requirement(ctx, scenario) {
        result.unclaimed_feature =
            only_unclaimed(&scenario.requires, &ctx.target, ctx.features.as_ref());
        result.outcome = Outcome::Skipped(reason);
        return result;
    }
    let mut scope = Scope {
        // Scenarios run side by side: each gets names of its own.
        run_id: format!("{}-{index}", ctx.run_id),
        base_path: base_path(&ctx.target.base_url),
        env: plan.env.clone(),
        vars: Default::default(),
    };
    let mut setup_failure = None;
    for (name, template) in &suite.vars {
        match template.render(&scope) {
            Ok(v) => {
                scope.vars.insert(name.clone(), v);
            }
            Err(e) => setup_failure = Some(format!("suite variable `{name}`: {e}")),
        }
    }
    let mut cleanups: Vec<PendingCleanup> = Vec::new();
    let mut ledger = Ledger::new(&scope.run_id);
    if let Some(why) = setup_failure {
        result.outcome = Outcome::Failed;
        let mut step = StepResult::new("vars", suite_span(suite), Vec::new());
        step.failures.push(Failure {
            check: "vars".into(),
            message: why,
            span: None,
        });
        result.steps.push(step);
    } else {
        let mut run = StepsRun {
            scope: &mut scope,
            cleanups: &mut cleanups,
            ledger: &mut ledger,
            seen_ids: Vec::new(),
        };
        run_steps(ctx, suite, scenario, &mut run, &mut result).await;
    }
    // LIFO, always.
    while let Some(pending) = cleanups.pop() {
        let span = pending.span.clone();
        let request = match pending.request {
            Ok(request) => request,
            Err(why) => {
                result.outcome = Outcome::Failed;
                let mut step = StepResult::new("cleanup", span.clone(), Vec::new());
                step.is_failed_cleanup = true;
                step.impact =
                    Some("the resource it created may be left behind on the target".into());
                step.failures.push(Failure {
                    check: CLEANUP_CHECK.into(),
                    message: why.clone(),
                    span: Some(span),
                });
                result.steps.push(step);
                result.cleanups.push(CleanupResult {
                    exchange: None,
                    read_back: None,
                    problem: Some(why),
                    left_alone: false,
                });
                continue;
            }
        };
        let pending = ReadyCleanup {
            request,
            created: pending.created,
        };
        let mut done = send_cleanup(ctx, &scope.run_id, pending).await;
        for exchange in done.read_back.iter_mut().chain([&mut done.exchange]) {
            exchange.keep_at_most(crate::http::KEPT_BODY);
        }
        if let Ok(r) = &done.exchange.response {
            record_deletes(ctx, &mut ledger, &done.exchange.request, r.status);
        }
        if let Some(observer) = &ctx.observer {
            for exchange in done.read_back.iter().chain([&done.exchange]) {
                observer.exchange(&result.full_name, "cleanup", exchange);
            }
        }
        let problem = done
            .left_alone
            .clone()
            .or_else(|| match &done.exchange.response {
                Ok(r) if (200..300).contains(&r.status) || r.status == 404 => None,
                Ok(r) => Some(format!("answered {}", r.status)),
                Err(e) => Some(e.to_string()),
            });
        if let Some(problem) = &problem {
            result.outcome = Outcome::Failed;
            let exchange = &done.exchange;
            let mut step = StepResult::new("cleanup", span.clone(), Vec::new());
            step.is_failed_cleanup = true;
            step.exchange = Some(exchange.clone());
            step.impact = Some(if done.someone_elses {
                "the id now names another resource: a client deleting or updating by id would change someone else's account".into()
            } else {
                "the resource it created may be left behind on the target".into()
            });
            let consequence = if done.someone_elses {
                ""
            } else {
                ": the resource may be left behind"
            };
            step.failures.push(Failure {
                check: CLEANUP_CHECK.into(),
                message: format!(
                    "{} {} {problem}{consequence}",
                    exchange.request.method, exchange.request.url
                ),
                span: Some(span),
            });
            result.steps.push(step);
        }
        result.cleanups.push(CleanupResult {
            left_alone: done.someone_elses,
            exchange: Some(done.exchange),
            read_back: done.read_back,
            problem,
        });
    }
    result.elapsed = started.elapsed();
    result
}

/// What the steps of one scenario share as they run: the values they
/// render with, the cleanups they register, what the run owns.
struct StepsRun<'a> {
    scope: &'a mut Scope,
    cleanups: &'a mut Vec<PendingCleanup>,
    ledger: &'a mut Ledger,
    /// The ids the scenario's answers held, in the order first seen: a
    /// drift snapshot names each by its place (`[id-2]`), the same in every run.
    seen_ids: Vec<String>,
}

/// Runs the steps in order. A step runs only when every step it builds on
/// passed; otherwise it is recorded as not run, with the step that stopped it,
/// so a report accounts for every step.
async fn run_steps(
    ctx: &RunContext,
    suite: &SuitePlan,
    scenario: &ScenarioPlan,
    run: &mut StepsRun<'_>,
    result: &mut ScenarioResult,
) {
    let mut captured: Vec<(String, Value)> = Vec::new();
    // For each step that did not pass, the failed step at the root of it.
    let mut blocked_by: std::collections::BTreeMap<&str, &str> = Default::default();
    // Steps not applicable (an optional feature not offered, an attribute not
    // declared), and those that need them, with why.
    let mut not_applicable: std::collections::BTreeMap<&str, String> = Default::default();
    // Each capture a step could not take, with that step.
    let mut uncaptured: std::collections::BTreeMap<&str, &str> = Default::default();
    let mut interrupted = false;
    for step in &scenario.steps {
        let mut step_result = StepResult::planned(step);
        if interrupted || ctx.interrupt.is_set() {
            interrupted = true;
            result.interrupted = true;
            step_result.not_run = Some(INTERRUPTED.into());
            result.steps.push(step_result);
            continue;
        }
        if let Some(replaced) = &step.fallback_for
            && !blocked_by.contains_key(replaced.as_str())
            && !uncaptured.values().any(|by| by == replaced)
        {
            step_result.not_run = Some(format!("not needed: `{replaced}` did not fail"));
            step_result.not_applicable = true;
            result.steps.push(step_result);
            continue;
        }
        if let Some(need) = step
            .needs
            .iter()
            .find(|n| blocked_by.contains_key(n.as_str()))
        {
            let root = blocked_by[need.as_str()];
            step_result.not_run = Some(if root == need {
                format!("it builds on step `{need}`, which failed")
            } else {
                format!("it builds on step `{need}`, which did not run (`{root}` failed)")
            });
            blocked_by.insert(&step.id, root);
            step_result.blocked_by = Some(root.to_string());
            result.steps.push(step_result);
            continue;
        }
        if let Some((name, by)) = step
            .uses
            .iter()
            .find_map(|u| uncaptured.get_key_value(u.as_str()))
        {
            step_result.not_run = Some(format!(
                "it uses `{name}`, which step `{by}` could not capture"
            ));
            blocked_by.insert(&step.id, by);
            step_result.blocked_by = Some(by.to_string());
            result.steps.push(step_result);
            continue;
        }
        let inherited = step
            .needs
            .iter()
            .find_map(|n| not_applicable.get(n.as_str()).cloned());
        let undeclared = ctx.declared.as_ref().and_then(|declared| {
            step.attributes.iter().find(|a| !declared.contains(*a)).map(|missing| {
                format!(
                    "not applicable: the server's /Schemas does not declare the optional User attribute `{missing}`"
                )
            })
        });
        // An unreadable ServiceProviderConfig leaves the step to run: nothing
        // the server may claim goes unchecked.
        let unclaimed_feature = match &ctx.features {
            Some(Ok(config)) => {
                unclaimed(&step.requires, config).map(|why| format!("not applicable: {why}"))
            }
            _ => None,
        };
        if let Some(why) = inherited.or(undeclared).or(unclaimed_feature) {
            step_result.not_run = Some(why.clone());
            step_result.not_applicable = true;
            not_applicable.insert(&step.id, why);
            result.steps.push(step_result);
            continue;
        }
        if let Some(wait) = step.wait {
            tokio::select! {
                _ = tokio::time::sleep(wait) => {}
                _ = ctx.interrupt.triggered() => {}
            }
            if ctx.interrupt.is_set() {
                interrupted = true;
                result.interrupted = true;
                step_result.not_run = Some(INTERRUPTED.into());
                result.steps.push(step_result);
                continue;
            }
        }
        run_step(
            ctx,
            suite,
            &scenario.id,
            step,
            run,
            &mut captured,
            &mut step_result,
        )
        .await;
        // Checked: only what a report shows is kept.
        for exchange in step_result
            .exchange
            .iter_mut()
            .chain(&mut step_result.read_backs)
        {
            exchange.keep_at_most(crate::http::KEPT_BODY);
        }
        if let (Some(observer), Some(exchange)) = (&ctx.observer, &step_result.exchange) {
            observer.exchange(&result.full_name, &step.id, exchange);
        }
        if step_result.failed() {
            result.outcome = Outcome::Failed;
            // A write answered with the status asked for did what the steps
            // after it build on (the resource is there, its captures taken):
            // they still run. A wrong status, or a check of what a read saw,
            // leaves them on ground that is not there; a capture it could not
            // take stops only the steps that use it (below).
            // Drift alone (an answer other than its snapshot) leaves what
            // the steps build on in place: they run, and show their own.
            let only_drift = step_result.failures.iter().all(|f| f.check == DRIFT_CHECK);
            if !step_result.wrote_as_asked(&step.request.method) && !only_drift {
                blocked_by.insert(&step.id, &step.id);
            }
            for capture in &step.captures {
                let check = format!("capture {}", capture.name);
                if step_result.failures.iter().any(|f| f.check == check) {
                    uncaptured.insert(&capture.name, &step.id);
                }
            }
        } else if let Some(replaced) = &step.fallback_for {
            // The steps that build on the failed one go on from the stand-in,
            // with what it captured in place of what that one could not.
            blocked_by.remove(replaced.as_str());
            uncaptured.retain(|name, by| {
                by != replaced || !step.captures.iter().any(|c| c.name == *name)
            });
            step_result.stood_in_for = Some(replaced.clone());
        } else if step_result.feature_not_offered {
            not_applicable.insert(
                &step.id,
                format!(
                    "not applicable: `{}` found the optional feature not offered",
                    step.id
                ),
            );
        }
        result.steps.push(step_result);
    }
    if interrupted && result.outcome == Outcome::Passed {
        let first = result
            .steps
            .iter()
            .find(|s| s.not_run.as_deref() == Some(INTERRUPTED));
        result.outcome = Outcome::Skipped(match first {
            Some(step) => format!("interrupted before step `{}`", step.id),
            None => "interrupted".into(),
        });
    }
}

/// Why the steps after an interruption did not run.
const INTERRUPTED: &str = "the run was interrupted";

/// How often a cleanup is tried in all, and the first wait between tries.
const CLEANUP_ATTEMPTS: u32 = 4;
const CLEANUP_BACKOFF: Duration = Duration::from_millis(100);

/// A cleanup registered by a step, with what the step saw of the resource;
/// `Err` says why no request could be built for what it created.
pub struct PendingCleanup {
    request: Result<SentRequest, String>,
    span: Span,
    created: Option<Identity>,
}

/// A cleanup with its request built.
struct ReadyCleanup {
    request: SentRequest,
    created: Option<Identity>,
}

/// How a cleanup went: its last exchange, the read before a DELETE, and why
/// the resource was left alone, if it was.
struct CleanupDone {
    exchange: Exchange,
    read_back: Option<Exchange>,
    left_alone: Option<String>,
    /// Left alone because the id holds another resource now; otherwise,
    /// because it could not be read back: still possibly the run's.
    someone_elses: bool,
}

/// A server error, a timeout or a broken connection: worth another try.
fn transient(exchange: &Exchange) -> bool {
    match &exchange.response {
        Ok(r) => r.status >= 500,
        Err(TransportError::Other(why)) if why.starts_with("not done:") => false,
        Err(_) => true,
    }
}

/// Sends an idempotent request (a cleanup DELETE), trying it again as a
/// run's cleanups are: on a 5xx or a broken connection, with a doubling wait.
pub async fn send_with_retries(client: &Client, request: SentRequest) -> Exchange {
    let mut wait = CLEANUP_BACKOFF;
    let mut exchange = client.send(request.clone()).await;
    for _ in 1..CLEANUP_ATTEMPTS {
        if !transient(&exchange) {
            break;
        }
        tokio::time::sleep(wait).await;
        wait *= 2;
        exchange = client.send(request.clone()).await;
    }
    exchange
}

/// Sends a request within the cleanup budget once interrupted.
async fn send_within_budget(ctx: &RunContext, request: SentRequest) -> Exchange {
    let Some(left) = ctx.interrupt.cleanup_time_left() else {
        return ctx.client.send(request).await;
    };
    match tokio::time::timeout(left, ctx.client.send(request.clone())).await {
        Ok(exchange) => exchange,
        Err(_) => Exchange {
            request,
            response: Err(TransportError::Other(
                "not done: the time for cleanups after the interruption ran out".into(),
            )),
            elapsed: Duration::ZERO,
            started_at: std::time::SystemTime::now(),
            retries: Vec::new(),
        },
    }
}

/// One try: a DELETE is sent only after a read shows the resource is still
/// the run's (see [`crate::ownership`]); other cleanups are sent as they are.
async fn try_cleanup(ctx: &RunContext, run_id: &str, pending: &ReadyCleanup) -> CleanupDone {
    if pending.request.method != http::Method::DELETE {
        let exchange = send_within_budget(ctx, pending.request.clone()).await;
        return CleanupDone {
            exchange,
            read_back: None,
            left_alone: None,
            someone_elses: false,
        };
    }
    let read = SentRequest {
        method: http::Method::GET,
        body: None,
        ..pending.request.clone()
    };
    let read = send_within_budget(ctx, read).await;
    let decided =
        |left_alone: Option<String>, someone_elses: bool, exchange: Exchange| CleanupDone {
            exchange,
            read_back: None,
            left_alone,
            someone_elses,
        };
    let verdict = match &read.response {
        // Gone already, or not readable now: the caller retries or reports.
        Ok(r) if r.status == 404 || r.status >= 500 => return decided(None, false, read),
        Err(_) => return decided(None, false, read),
        Ok(r) if r.status != 200 => Err(format!(
            "could not be read back to confirm it is the run's (answered {}): left alone",
            r.status
        )),
        Ok(r) => match r.json() {
            Ok(current) => {
                if let Err(why) = ownership::confirm(&current, pending.created.as_ref(), run_id) {
                    return decided(Some(why), true, read);
                }
                Ok(())
            }
            Err(e) => Err(format!(
                "could not be read back to confirm it is the run's (not JSON: {e}): left alone"
            )),
        },
    };
    if let Err(why) = verdict {
        return decided(Some(why), false, read);
    }
    let exchange = send_within_budget(ctx, pending.request.clone()).await;
    CleanupDone {
        exchange,
        read_back: Some(read),
        left_alone: None,
        someone_elses: false,
    }
}

/// Tries a cleanup, again after a server error, a timeout or a broken
/// connection (a DELETE is idempotent, and a 404 on a later try means it is
/// gone), with a doubling wait, within the cleanup budget once interrupted.
/// The tries before the last are told in the exchange's retries.
async fn send_cleanup(ctx: &RunContext, run_id: &str, pending: ReadyCleanup) -> CleanupDone {
    let mut earlier: Vec<String> = Vec::new();
    let mut wait = CLEANUP_BACKOFF;
    let mut attempt = 0;
    loop {
        attempt += 1;
        let mut done = try_cleanup(ctx, run_id, &pending).await;
        let out_of_time = ctx
            .interrupt
            .cleanup_time_left()
            .is_some_and(|left| left <= wait);
        if done.left_alone.is_some()
            || !transient(&done.exchange)
            || attempt == CLEANUP_ATTEMPTS
            || out_of_time
        {
            earlier.append(&mut done.exchange.retries);
            done.exchange.retries = earlier;
            return done;
        }
        let what = match &done.exchange.response {
            Ok(r) => format!("answered {}", r.status),
            Err(e) => e.to_string(),
        };
        earlier.extend(done.exchange.retries);
        earlier.push(format!(
            "cleanup {} {what}, tried again after {} ms",
            done.exchange.request.method,
            wait.as_millis()
        ));
        tokio::time::sleep(wait).await;
        wait *= 2;
    }
}

fn suite_span(suite: &SuitePlan) -> Span {
    Span {
        source: suite.source.clone(),
        pos: Default::default(),
    }
}

/// Why the answer says the step's optional feature is not offered: one of
/// the step's `not_offered` statuses, or an optional part of the filter
/// grammar refused (see [`crate::offered`]) where no 400 was asked for.
fn not_offered(
    step: &StepPlan,
    request: &SentRequest,
    response: &ReceivedResponse,
) -> Option<String> {
    if step.not_offered.contains(&response.status) {
        return Some(format!(
            "answered {}: the service provider does not offer this optional feature (no deviation)",
            response.status
        ));
    }
    if step.asked_statuses().contains(&400) {
        return None;
    }
    crate::offered::optional_filter_refused(request, response)
}

async fn run_step(
    ctx: &RunContext,
    suite: &SuitePlan,
    scenario_id: &str,
    step: &StepPlan,
    run: &mut StepsRun<'_>,
    captured: &mut Vec<(String, Value)>,
    result: &mut StepResult,
) {
    let request = match render_request(ctx, &step.request, run.scope) {
        Ok(r) => fitted_to_schema(ctx, step, r),
        Err(e) => {
            result.failures.push(Failure {
                check: "request".into(),
                message: format!("cannot build the request: {e}"),
                span: Some(step.request.span.clone()),
            });
            return;
        }
    };
    if let Err(why) = confirm_writes(ctx, run.ledger, &request, &mut result.read_backs).await {
        result.failures.push(Failure {
            check: OWNERSHIP_CHECK.into(),
            message: format!("not sent: {why}"),
            span: Some(step.request.span.clone()),
        });
        result.impact = Some(
            "not sent: scimcheck writes only to resources this run created and confirmed as its own".into(),
        );
        // The read that decided is what came back for this step.
        result.exchange = result.read_backs.pop();
        return;
    }
    let exchange = ctx.client.send_until(request, &ctx.interrupt).await;
    let response = match &exchange.response {
        Ok(r) => r.clone(),
        Err(e) => {
            result.failures.push(Failure {
                check: "transport".into(),
                message: e.to_string(),
                span: Some(step.request.span.clone()),
            });
            result.exchange = Some(exchange);
            return;
        }
    };
    if let Some(why) = not_offered(step, &exchange.request, &response) {
        // An optional feature left out is no deviation: told for the record,
        // and the checks of what it would have answered are not evaluated.
        result.feature_not_offered = true;
        result.notes.push(Failure {
            check: "not offered".into(),
            message: why,
            span: Some(step.span.clone()),
        });
        result.observed.push("not offered".into());
        for (level, expectations) in [
            ("must", &step.expectations),
            ("should", &step.advisories),
            ("info", &step.observations),
        ] {
            result.not_evaluated.extend(
                labels(expectations.iter().map(|e| e.kind.label()))
                    .into_iter()
                    .map(|l| (level, l)),
            );
        }
        result.exchange = Some(exchange);
        return;
    }
    let scope = &mut *run.scope;
    let normalizer = Normalizer::new(&scope.run_id, captured.iter().cloned(), &ctx.secrets);
    let check_ctx = CheckContext {
        scope,
        schemas: &ctx.schemas,
        snapshots: &ctx.snapshots,
        suite_slug: &suite.slug,
        source_name: &suite.source.name,
        normalizer: &normalizer,
    };
    let must = check_response(&step.expectations, &response, &check_ctx);
    // SHOULD and INFO checks describe the answer the MUST status asked for.
    let presumed_status_missing = must.status_failed();
    let levels = [
        ("must", &step.expectations, Some(must)),
        ("should", &step.advisories, None),
        ("info", &step.observations, None),
    ];
    for (level, expectations, checked) in levels {
        let all = labels(expectations.iter().map(|e| e.kind.label()));
        let checked = match checked {
            Some(checked) => checked,
            None if presumed_status_missing => Checked {
                failures: Vec::new(),
                not_evaluated: all.clone(),
            },
            None => check_response(expectations, &response, &check_ctx),
        };
        let applied: Vec<String> = all
            .into_iter()
            .filter(|l| !checked.not_evaluated.contains(l))
            .collect();
        result
            .not_evaluated
            .extend(checked.not_evaluated.into_iter().map(|l| (level, l)));
        let (failures, names) = match level {
            "must" => (&mut result.failures, &mut result.checks),
            "should" => (&mut result.advice, &mut result.advised),
            _ => (&mut result.notes, &mut result.observed),
        };
        *failures = checked.failures;
        *names = applied;
    }
    if ctx.snapshots.all
        && let Some(drift) = drifted(
            &check_ctx,
            Answer {
                scenario_id,
                step,
                response: &response,
                base_url: &ctx.target.base_url,
                captured,
                secrets: &ctx.secrets,
            },
            &mut run.seen_ids,
        )
    {
        result.failures.push(drift);
        result.checks.push(DRIFT_CHECK.into());
    }
    // Captures are taken whatever the checks said: a step answered with a
    // wrong status passes none on, but its cleanup still finds what it
    // created. One answered with the status asked for passes them on, so
    // that the steps after a write that did what they build on still run.
    let taken: Vec<(&Capture, Option<Value>)> = step
        .captures
        .iter()
        .map(|capture| (capture, capture_value(capture, &response)))
        .collect();
    let status_held = !result.failures.iter().any(|f| f.check == "status");
    if status_held {
        result
            .checks
            .extend(step.captures.iter().map(|c| format!("capture {}", c.name)));
        for (capture, value) in &taken {
            match value {
                Some(v) => {
                    scope.vars.insert(capture.name.clone(), v.clone());
                    captured.push((capture.name.clone(), v.clone()));
                }
                None => result.failures.push(Failure {
                    check: format!("capture {}", capture.name),
                    message: match &capture.from {
                        CaptureFrom::Pointer(p) => format!("nothing at {p} in the response body"),
                        CaptureFrom::Header(h) => format!("no {h} header in the response"),
                    },
                    span: Some(capture.span.clone()),
                }),
            }
        }
    }
    let answer = response.json().ok();
    let answered_id = answer
        .as_ref()
        .and_then(|v| v.get("id"))
        .and_then(Value::as_str);
    // A create the server says succeeded: what it made is the run's to
    // remove, whatever else is wrong with the answer.
    let created_in = ownership::created_in(
        &exchange.request.method,
        relative_path(&ctx.target, &exchange.request.url),
    )
    .filter(|_| (200..300).contains(&response.status));
    let sent = ownership::sent_identity(exchange.request.body.as_deref());
    if let (Some(endpoint), Some(id)) = (&created_in, answered_id) {
        let resource = Resource {
            endpoint: endpoint.clone(),
            id: id.to_string(),
        };
        if ctx.deleted.lock().is_ok_and(|d| d.contains(&resource)) {
            result.failures.push(Failure {
                check: REUSED_ID_CHECK.into(),
                message: format!(
                    "the new resource got the id `{id}`, which this run saw deleted: an id is non-reassignable (RFC 7643 3.1), so a client holding it would change the new resource"
                ),
                span: Some(step.span.clone()),
            });
        }
        run.ledger.created(resource, sent.clone());
    }
    record_deletes(ctx, run.ledger, &exchange.request, response.status);
    // What the step saw of the resource it created or touched, so that its
    // cleanup deletes nothing else. For a create, the names it sent: the
    // answer may name someone else's resource.
    let created = match (&created_in, &answer) {
        (Some(_), answer) => Some(answered_creation_time(sent, answer.as_ref())),
        (None, Some(answer)) => Identity::of(answer),
        (None, None) => None,
    };
    // A resource created where none should have been is removed all the
    // same: only after a create said it succeeded, so that nothing this run
    // did not create is touched.
    if let Some(cleanup) = &step.cleanup_if_created
        && created_in.is_some()
    {
        let mut with_created = scope.clone();
        if let Some(id) = answered_id {
            with_created
                .vars
                .insert(CREATED_ID.to_string(), Value::String(id.to_string()));
        }
        run.cleanups.push(PendingCleanup {
            request: render_request(ctx, cleanup, &with_created).map_err(|e| {
                format!(
                    "answered {}, and the cleanup of what it created cannot be built ({e}): the resource may be left behind",
                    response.status
                )
            }),
            span: cleanup.span.clone(),
            created: created.clone(),
        });
    }
    // The cleanup is registered once the step passed, or once a create said
    // it succeeded even though a check failed (a wrong content type, no
    // Location): never for a resource this run did not create.
    if let Some(cleanup) = &step.cleanup
        && (result.failures.is_empty() || created_in.is_some())
    {
        let mut cleanup_scope = scope.clone();
        if !status_held {
            for (capture, value) in &taken {
                if let Some(v) = value {
                    cleanup_scope.vars.insert(capture.name.clone(), v.clone());
                }
            }
        }
        let request = render_request(ctx, cleanup, &cleanup_scope).map_err(|e| {
            if result.failures.is_empty() {
                format!("cannot build the cleanup request: {e}")
            } else {
                format!(
                    "{} {} answered {}: what it created cannot be cleaned up ({e}): the resource may be left behind",
                    exchange.request.method, exchange.request.url, response.status
                )
            }
        });
        match request {
            Err(why) if result.failures.is_empty() => result.failures.push(Failure {
                check: CLEANUP_CHECK.into(),
                message: why,
                span: Some(cleanup.span.clone()),
            }),
            request => run.cleanups.push(PendingCleanup {
                request,
                span: cleanup.span.clone(),
                created: created.clone(),
            }),
        }
    }
    result.exchange = Some(exchange);
}

/// What a capture finds in an answer, if anything.
/// A GET of /Users or /Groups without a filter: its answer is the tenant's.
fn response_is_whole_collection(step: &StepPlan) -> bool {
    let request = &step.request;
    let path = request
        .path
        .render_path(&Scope::default())
        .unwrap_or_default();
    request.method == http::Method::GET
        && request.path.is_literal()
        && ["/users", "/groups"]
            .iter()
            .any(|c| path.to_ascii_lowercase().trim_end_matches('/').ends_with(c))
        && !request.query.iter().any(|(k, _)| k == "filter")
}

/// Every id an answer holds, depth first, each once: string `id` members,
/// and the last segment of each `location` (a bulk operation's result).
fn collect_ids(value: &Value, seen: &mut Vec<String>) {
    fn add(id: &str, seen: &mut Vec<String>) {
        if !id.is_empty() && !seen.iter().any(|s| s == id) {
            seen.push(id.to_string());
        }
    }
    match value {
        Value::Object(map) => {
            for (key, v) in map {
                match (key.as_str(), v) {
                    ("id", Value::String(id)) => add(id, seen),
                    ("location", Value::String(url)) => add(
                        url.trim_end_matches('/')
                            .rsplit('/')
                            .next()
                            .unwrap_or_default(),
                        seen,
                    ),
                    _ => collect_ids(v, seen),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|v| collect_ids(v, seen)),
        _ => {}
    }
}

/// The check `--snapshot-all` adds to every step that got an answer.
pub const DRIFT_CHECK: &str = "snapshot (drift)";

/// One step's answer, and what its drift snapshot placeholders.
struct Answer<'a> {
    scenario_id: &'a str,
    step: &'a StepPlan,
    response: &'a ReceivedResponse,
    base_url: &'a str,
    captured: &'a [(String, Value)],
    secrets: &'a [String],
}

/// With `--snapshot-all`: the step's answer (status and normalized body)
/// against its snapshot `<scenario>__<step>`; a failure when it is new or
/// changed, with the diff. Besides what every snapshot placeholders, the
/// base URL (a double's port) and every id the scenario's answers held are
/// replaced, so that a second run against the same server matches. A list
/// of a whole collection (a GET without a filter) holds what other
/// scenarios and other users made: it is not snapshotted.
fn drifted(ctx: &CheckContext, answer: Answer, seen_ids: &mut Vec<String>) -> Option<Failure> {
    let Answer {
        scenario_id,
        step,
        response,
        ..
    } = answer;
    if response_is_whole_collection(step) {
        return None;
    }
    let parsed = response.json().ok();
    if let Some(v) = &parsed {
        collect_ids(v, seen_ids);
    }
    let placeholders = answer
        .captured
        .iter()
        .cloned()
        .chain(
            seen_ids
                .iter()
                .enumerate()
                .map(|(i, id)| (format!("id-{}", i + 1), Value::String(id.clone()))),
        )
        .chain([(
            "base_url".to_string(),
            Value::String(answer.base_url.to_string()),
        )]);
    let normalizer = Normalizer::new(&ctx.scope.run_id, placeholders, answer.secrets);
    let body = match parsed {
        Some(v) => normalizer.normalize(&v),
        None if response.body.is_empty() => Value::Null,
        // Not JSON: its text, with the same placeholders.
        None => normalizer.normalize(&Value::String(
            String::from_utf8_lossy(&response.body).into_owned(),
        )),
    };
    let answer = serde_json::json!({ "status": response.status, "body": body });
    let content = serde_json::to_string_pretty(&answer).unwrap_or_default();
    let name = format!("{scenario_id}__{}", step.id);
    let message = match ctx
        .snapshots
        .compare(ctx.suite_slug, ctx.source_name, &name, &content)
    {
        Ok(SnapshotOutcome::Matches | SnapshotOutcome::Written(_)) => return None,
        Ok(SnapshotOutcome::New { pending }) => format!(
            "no snapshot of this answer yet; it was written to {} (accept it with `cargo insta review` or --accept-snapshots)",
            pending.display()
        ),
        Ok(SnapshotOutcome::Differs { diff, pending }) => format!(
            "the answer changed since its snapshot (new version in {}):\n{diff}",
            pending.display()
        ),
        Err(e) => format!("cannot read or write the snapshot: {e}"),
    };
    Some(Failure {
        check: DRIFT_CHECK.into(),
        message,
        span: Some(step.span.clone()),
    })
}

fn capture_value(capture: &Capture, response: &ReceivedResponse) -> Option<Value> {
    match &capture.from {
        CaptureFrom::Pointer(pointer) => response
            .json()
            .ok()
            .and_then(|v| v.pointer(pointer).cloned()),
        CaptureFrom::Header(name) => response.header(name).map(|v| Value::String(v.to_string())),
    }
}

/// The identity a create sent, with the creation time the answer gave when
/// the answer names what was sent (a server may re-case a name): otherwise
/// the time is someone else's and proves nothing.
fn answered_creation_time(mut sent: Identity, answer: Option<&Value>) -> Identity {
    let Some(answer) = answer else {
        return sent;
    };
    let answered = Identity::of(answer).unwrap_or_default();
    let same = sent.names.is_empty()
        || answered
            .names
            .iter()
            .any(|a| sent.names.iter().any(|s| s.eq_ignore_ascii_case(a)));
    if same {
        sent.created = answered.created;
    }
    sent
}

/// The check name of a create answering an id the run saw deleted.
pub const REUSED_ID_CHECK: &str = "id reassigned";

/// The check name of a write not sent because its target is not the run's.
pub const OWNERSHIP_CHECK: &str = "ownership";

/// The path of a base URL: `https://h/scim/v2` gives `/scim/v2`, a URL
/// without a path gives the empty string.
fn base_path(base_url: &str) -> String {
    let after_scheme = base_url
        .split_once("://")
        .map_or(base_url, |(_, rest)| rest);
    after_scheme
        .find('/')
        .map(|at| after_scheme[at..].trim_end_matches('/').to_string())
        .unwrap_or_default()
}

/// The part of `url` under the target's base URL.
pub(crate) fn relative_path<'u>(target: &Target, url: &'u str) -> &'u str {
    url.strip_prefix(target.base_url.as_str()).unwrap_or(url)
}

/// Before a write is sent: reads back each resource it would change that the
/// run has not confirmed as its own yet, and refuses the write unless each is
/// the run's, or is not there at all (a 404: nothing to harm). The reads are
/// kept in `reads`.
async fn confirm_writes(
    ctx: &RunContext,
    ledger: &mut Ledger,
    request: &SentRequest,
    reads: &mut Vec<Exchange>,
) -> Result<(), String> {
    let path = relative_path(&ctx.target, &request.url);
    let resources = ownership::written_by(&request.method, path, request.body.as_deref())?;
    for resource in resources {
        if ledger.is_confirmed(&resource) {
            continue;
        }
        if resource.id.is_empty() {
            return Err(format!(
                "{} {} would change {}, not a resource this run created",
                request.method,
                redacted_path(path),
                resource.describe()
            ));
        }
        // The run's own headers, not the step's: an If-Match meant for the
        // write would make the read a conditional one.
        let read = SentRequest {
            method: http::Method::GET,
            url: format!("{}{}", ctx.target.base_url, resource.path()?),
            headers: ctx.target.request_headers(),
            body: None,
        };
        let exchange = send_with_retries(&ctx.client, read).await;
        let verdict = match &exchange.response {
            Ok(r) if r.status == 404 => Ok(()),
            Ok(r) if r.status == 200 => match r.json() {
                Ok(current) => ledger.confirm(&resource, &current),
                Err(e) => Err(format!("it could not be read back as JSON ({e})")),
            },
            Ok(r) => Err(format!(
                "reading it back to confirm it is the run's answered {}",
                r.status
            )),
            Err(e) => Err(format!(
                "reading it back to confirm it is the run's failed: {e}"
            )),
        };
        reads.push(exchange);
        verdict.map_err(|why| format!("{} {why}", resource.describe()))?;
    }
    Ok(())
}

/// A path for a message: the query left out.
fn redacted_path(path: &str) -> &str {
    path.split('?').next().unwrap_or(path)
}

/// A DELETE the server accepted (or found already done): the id is no
/// longer the run's, as the server may give it to someone else.
fn record_deletes(ctx: &RunContext, ledger: &mut Ledger, request: &SentRequest, status: u16) {
    if request.method != http::Method::DELETE || !((200..300).contains(&status) || status == 404) {
        return;
    }
    let path = relative_path(&ctx.target, &request.url);
    if let Ok(resources) = ownership::written_by(&request.method, path, None) {
        resources.iter().for_each(|r| ledger.deleted(r));
        if let Ok(mut deleted) = ctx.deleted.lock() {
            deleted.extend(
                resources
                    .into_iter()
                    .filter(|_| (200..300).contains(&status)),
            );
        }
    }
}

/// Check names in order, each once (several predicates on one pointer are one check).
fn labels(names: impl Iterator<Item = String>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for name in names {
        if !out.contains(&name) {
            out.push(name);
        }
    }
    out
}

/// A create or replace body fitted to what the server declares (see
/// [`crate::required`]): what it requires added, the optional attributes it
/// does not declare left out; unless the step expects a 400 (its body is
/// what it tests: a missing or wrong value). A 409 or 412 is asked of a
/// valid body.
fn fitted_to_schema(ctx: &RunContext, step: &StepPlan, mut request: SentRequest) -> SentRequest {
    if ctx.required.is_none() && ctx.declared.is_none() {
        return request;
    }
    if !matches!(request.method, http::Method::POST | http::Method::PUT) {
        return request;
    }
    let asked = step.asked_statuses();
    if !asked.is_empty() && asked.iter().all(|c| *c == 400) {
        return request;
    }
    let Some(mut body) = request
        .body
        .as_deref()
        .and_then(|b| serde_json::from_slice::<Value>(b).ok())
    else {
        return request;
    };
    let path = relative_path(&ctx.target, &request.url).to_string();
    let mut changed = false;
    if let Some(declared) = &ctx.declared {
        changed |= !crate::required::leave_out_undeclared(&path, &mut body, declared).is_empty();
    }
    if let Some(required) = &ctx.required {
        changed |= !required.complete(&path, &mut body).is_empty();
    }
    if changed {
        request.body = Some(body.to_string().into_bytes());
    }
    request
}

/// The request a plan describes, rendered against the scope.
pub fn render_request(
    ctx: &RunContext,
    plan: &RequestPlan,
    scope: &Scope,
) -> Result<SentRequest, RenderError> {
    let path = plan.path.render_path(scope)?;
    let mut url = format!("{}{}", ctx.target.base_url, path);
    if !plan.query.is_empty() {
        let mut pairs = Vec::new();
        for (name, value) in &plan.query {
            pairs.push((name.clone(), value.render(scope)?));
        }
        let encoded = pairs
            .iter()
            .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
            .collect::<Vec<_>>()
            .join("&");
        url.push(if url.contains('?') { '&' } else { '?' });
        url.push_str(&encoded);
    }
    let body = match &plan.body {
        Body::None => None,
        Body::Json(t) => Some(t.render(scope)?.to_string().into_bytes()),
        Body::Raw(t) => Some(t.render(scope)?.into_bytes()),
    };
    let mut headers: Vec<(String, String)> =
        vec![("accept".into(), "application/scim+json".into())];
    if body.is_some() {
        headers.push(("content-type".into(), "application/scim+json".into()));
    }
    if plan.auth {
        if let Some(authorization) = ctx.target.authorization() {
            headers.push(("authorization".into(), authorization));
        }
        for (name, value) in &ctx.target.headers {
            set_header(&mut headers, name, value.clone());
        }
    }
    for (name, value) in &plan.headers {
        set_header(&mut headers, name, value.render(scope)?);
    }
    Ok(SentRequest {
        method: plan.method.clone(),
        url,
        headers,
        body,
    })
}

fn set_header(headers: &mut Vec<(String, String)>, name: &str, value: String) {
    headers.retain(|(k, _)| !k.eq_ignore_ascii_case(name));
    headers.push((name.to_ascii_lowercase(), value));
}
