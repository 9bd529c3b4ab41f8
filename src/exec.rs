//! Runs scenarios: render each step's request, send it, check the answer,
//! capture values, and register cleanups that run LIFO when the scenario
//! ends, whatever happened in it.
//!
//! A step that fails stops its scenario (later steps build on it), but never
//! the cleanups: resources scimcheck created are removed even then.

use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use serde_json::Value;

use crate::check::schema::SchemaSet;
use crate::check::snapshot::SnapshotStore;
use crate::check::{CheckContext, Failure, check_response};
use crate::diagnostic::Span;
use crate::http::{Client, Exchange, SentRequest, TransportError};
use crate::normalize::Normalizer;
use crate::plan::{
    Body, CREATED_ID, CaptureFrom, Plan, RequestPlan, ScenarioPlan, StepPlan, SuitePlan,
};
use crate::target::Target;
use crate::template::{RenderError, Scope};

/// Called with each scenario's result as soon as it is known (for live progress).
pub type OnResult = Arc<dyn Fn(&ScenarioResult) + Send + Sync>;

/// Everything a run shares.
pub struct RunContext {
    pub client: Client,
    pub target: Target,
    /// Unique per run: the prefix of every name scimcheck creates.
    pub run_id: String,
    pub schemas: Arc<SchemaSet>,
    pub snapshots: SnapshotStore,
    /// ServiceProviderConfig features, when some scenario requires any.
    pub features: Option<Result<Value, String>>,
    pub interrupt: Interrupt,
    /// The target's secrets, computed once: snapshots redact them.
    pub secrets: Vec<String>,
    pub on_result: Option<OnResult>,
}

/// How long pending cleanups may take once a run is interrupted.
pub const CLEANUP_BUDGET: Duration = Duration::from_secs(30);

/// Set when the user interrupts a run (SIGINT, SIGTERM): no new step starts,
/// a request under way finishes (within its timeout), so that what it created
/// can be cleaned up, and the pending cleanups run within [`CLEANUP_BUDGET`].
#[derive(Debug, Clone, Default)]
pub struct Interrupt(Arc<std::sync::OnceLock<std::time::Instant>>);

impl Interrupt {
    pub fn trigger(&self) {
        let _ = self.0.set(std::time::Instant::now());
    }

    pub fn is_set(&self) -> bool {
        self.0.get().is_some()
    }

    /// The time left for cleanups: unbounded (None) unless interrupted.
    fn cleanup_time_left(&self) -> Option<Duration> {
        self.0
            .get()
            .map(|at| CLEANUP_BUDGET.saturating_sub(at.elapsed()))
    }
}

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
    pub exchange: Option<Exchange>,
    pub failures: Vec<Failure>,
    /// SHOULD-level checks that did not hold.
    pub advice: Vec<Failure>,
    /// INFO-level observations that did not hold: for the record only.
    pub notes: Vec<Failure>,
    pub impact: Option<String>,
    pub fix: Option<String>,
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
}

impl StepResult {
    pub fn new(id: &str, span: Span, spec: Vec<String>) -> StepResult {
        StepResult {
            id: id.to_string(),
            span,
            spec,
            exchange: None,
            failures: Vec::new(),
            advice: Vec::new(),
            notes: Vec::new(),
            impact: None,
            fix: None,
            advice_text: None,
            note_text: None,
            checks: Vec::new(),
            advised: Vec::new(),
            observed: Vec::new(),
            is_failed_cleanup: false,
        }
    }
}

#[derive(Debug, Clone)]
pub struct CleanupResult {
    pub exchange: Option<Exchange>,
    /// Why the resource may have been left behind.
    pub problem: Option<String>,
}

#[derive(Debug, Clone)]
pub struct ScenarioResult {
    pub full_name: String,
    pub suite_source: String,
    pub outcome: Outcome,
    pub steps: Vec<StepResult>,
    pub cleanups: Vec<CleanupResult>,
    pub elapsed: Duration,
}

impl ScenarioResult {
    /// Every exchange of the scenario in the order sent: its steps' and then
    /// its cleanups', each with a label (`create`, `cleanup`). A failed
    /// cleanup is also told as a step; it is listed once.
    pub fn exchanges(&self) -> impl Iterator<Item = (&str, &Exchange)> {
        let steps = self
            .steps
            .iter()
            .filter(|s| !s.is_failed_cleanup)
            .filter_map(|s| s.exchange.as_ref().map(|e| (s.id.as_str(), e)));
        let cleanups = self
            .cleanups
            .iter()
            .filter_map(|c| c.exchange.as_ref().map(|e| ("cleanup", e)));
        steps.chain(cleanups)
    }
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
            if let Some(on_result) = &ctx.on_result {
                on_result(&result);
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
        suite_source: suite.source.name.clone(),
        outcome: Outcome::Passed,
        steps: Vec::new(),
        cleanups: Vec::new(),
        elapsed: Duration::ZERO,
    };
    if ctx.interrupt.is_set() {
        result.outcome = Outcome::Skipped("the run was interrupted before it started".into());
        return result;
    }
    if let Some(reason) = unmet_requirement(ctx, scenario) {
        result.outcome = Outcome::Skipped(reason);
        return result;
    }
    let mut scope = Scope {
        // Scenarios run side by side: each gets names of its own.
        run_id: format!("{}-{index}", ctx.run_id),
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
    let mut cleanups: Vec<(SentRequest, Span)> = Vec::new();
    let mut captured: Vec<(String, Value)> = Vec::new();
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
        for step in &scenario.steps {
            if ctx.interrupt.is_set() {
                result.outcome = Outcome::Skipped(format!("interrupted before step `{}`", step.id));
                break;
            }
            let step_result =
                run_step(ctx, suite, step, &mut scope, &mut captured, &mut cleanups).await;
            let failed = !step_result.failures.is_empty();
            result.steps.push(step_result);
            if failed {
                result.outcome = Outcome::Failed;
                break;
            }
        }
    }
    // LIFO, always.
    while let Some((request, span)) = cleanups.pop() {
        let exchange = match ctx.interrupt.cleanup_time_left() {
            None => ctx.client.send(request).await,
            Some(left) => {
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
        };
        let problem = match &exchange.response {
            Ok(r) if (200..300).contains(&r.status) || r.status == 404 => None,
            Ok(r) => Some(format!("answered {}", r.status)),
            Err(e) => Some(e.to_string()),
        };
        if let Some(problem) = &problem {
            result.outcome = Outcome::Failed;
            let mut step = StepResult::new("cleanup", span.clone(), Vec::new());
            step.is_failed_cleanup = true;
            step.exchange = Some(exchange.clone());
            step.impact = Some("the resource it created may be left behind on the target".into());
            step.failures.push(Failure {
                check: CLEANUP_CHECK.into(),
                message: format!(
                    "{} {} {problem}: the resource may be left behind",
                    exchange.request.method, exchange.request.url
                ),
                span: Some(span),
            });
            result.steps.push(step);
        }
        result.cleanups.push(CleanupResult {
            exchange: Some(exchange),
            problem,
        });
    }
    result.elapsed = started.elapsed();
    result
}

fn suite_span(suite: &SuitePlan) -> Span {
    Span {
        source: suite.source.clone(),
        pos: Default::default(),
    }
}

async fn run_step(
    ctx: &RunContext,
    suite: &SuitePlan,
    step: &StepPlan,
    scope: &mut Scope,
    captured: &mut Vec<(String, Value)>,
    cleanups: &mut Vec<(SentRequest, Span)>,
) -> StepResult {
    let mut result = StepResult::new(&step.id, step.span.clone(), step.spec.clone());
    result.impact = step.impact.clone();
    result.fix = step.fix.clone();
    result.advice_text = step.advice.clone();
    result.note_text = step.note.clone();
    let request = match render_request(ctx, &step.request, scope) {
        Ok(r) => r,
        Err(e) => {
            result.failures.push(Failure {
                check: "request".into(),
                message: format!("cannot build the request: {e}"),
                span: Some(step.request.span.clone()),
            });
            return result;
        }
    };
    let exchange = ctx.client.send(request).await;
    let response = match &exchange.response {
        Ok(r) => r.clone(),
        Err(e) => {
            result.failures.push(Failure {
                check: "transport".into(),
                message: e.to_string(),
                span: Some(step.request.span.clone()),
            });
            result.exchange = Some(exchange);
            return result;
        }
    };
    let normalizer = Normalizer::new(&scope.run_id, captured.iter().cloned(), &ctx.secrets);
    let check_ctx = CheckContext {
        scope,
        schemas: &ctx.schemas,
        snapshots: &ctx.snapshots,
        suite_slug: &suite.slug,
        source_name: &suite.source.name,
        normalizer: &normalizer,
    };
    result.failures = check_response(&step.expectations, &response, &check_ctx);
    result.advice = check_response(&step.advisories, &response, &check_ctx);
    result.notes = check_response(&step.observations, &response, &check_ctx);
    result.checks = labels(step.expectations.iter().map(|e| e.kind.label()));
    result.advised = labels(step.advisories.iter().map(|e| e.kind.label()));
    result.observed = labels(step.observations.iter().map(|e| e.kind.label()));
    if result.failures.is_empty() {
        result
            .checks
            .extend(step.captures.iter().map(|c| format!("capture {}", c.name)));
        for capture in &step.captures {
            let value = match &capture.from {
                CaptureFrom::Pointer(pointer) => response
                    .json()
                    .ok()
                    .and_then(|v| v.pointer(pointer).cloned()),
                CaptureFrom::Header(name) => {
                    response.header(name).map(|v| Value::String(v.to_string()))
                }
            };
            match value {
                Some(v) => {
                    scope.vars.insert(capture.name.clone(), v.clone());
                    captured.push((capture.name.clone(), v));
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
    // A resource created where none should have been is removed all the
    // same: only on a 201, so that nothing this run did not create is touched.
    if let Some(cleanup) = &step.cleanup_if_created
        && response.status == 201
    {
        let mut with_created = scope.clone();
        if let Some(id) = response.json().ok().and_then(|v| v.pointer("/id").cloned()) {
            with_created.vars.insert(CREATED_ID.to_string(), id);
        }
        match render_request(ctx, cleanup, &with_created) {
            Ok(r) => cleanups.push((r, cleanup.span.clone())),
            Err(e) => result.failures.push(Failure {
                check: CLEANUP_CHECK.into(),
                message: format!(
                    "answered 201, and the cleanup of what it created cannot be built ({e}): the resource may be left behind"
                ),
                span: Some(cleanup.span.clone()),
            }),
        }
    }
    // The cleanup is registered once the step passed, so it never deletes
    // something this run did not create.
    if result.failures.is_empty()
        && let Some(cleanup) = &step.cleanup
    {
        match render_request(ctx, cleanup, scope) {
            Ok(r) => cleanups.push((r, cleanup.span.clone())),
            Err(e) => result.failures.push(Failure {
                check: CLEANUP_CHECK.into(),
                message: format!("cannot build the cleanup request: {e}"),
                span: Some(cleanup.span.clone()),
            }),
        }
    }
    result.exchange = Some(exchange);
    result
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

/// The request a plan describes, rendered against the scope.
pub fn render_request(
    ctx: &RunContext,
    plan: &RequestPlan,
    scope: &Scope,
) -> Result<SentRequest, RenderError> {
    let path = plan.path.render(scope)?;
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

/// Everything but RFC 3986's unreserved characters is percent-encoded, spaces
/// as `%20` (not `+`), as the provisioning clients send them.
const QUERY_COMPONENT: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

pub(crate) fn encode(text: &str) -> String {
    percent_encoding::utf8_percent_encode(text, QUERY_COMPONENT).to_string()
}

#[cfg(test)]
mod tests {
    use super::encode;

    #[test]
    fn query_values_are_percent_encoded() {
        assert_eq!(
            encode(r#"userName eq "a+b@x""#),
            "userName%20eq%20%22a%2Bb%40x%22"
        );
    }
}
