//! The JSON report, format `scimcheck-report` version 1.
//!
//! ```text
//! { "format": "scimcheck-report", "version": 1, "run_id": "...",
//!   "scimcheck_version": "0.1.0", "target": "https://...", "generated_at": "RFC 3339",
//!   "summary": { "passed": N, "failed": N, "skipped": N, "must": N, "advice": N, "info": N,
//!                "not_run": N, "setup": N, "causes": N },
//!   "scenarios": [ { "name", "outcome": "passed|failed|skipped", "reason"?, "elapsed_ms",
//!       "steps": [ { "id", "status": "passed|failed|not_run", "not_run"?: "why", "setup"?: true,
//!           "spec": [...], "impact"?, "fix"?,
//!           "exchange"?: { "method", "url", "status"?, "error"?, "elapsed_ms" },
//!           "checks": [ { "check", "level": "must|should|info", "evaluated": bool, "passed": bool } ],
//!           "failures": [ { "check", "message", "location"? } ], "advice": [ same ], "notes": [ same ],
//!           "transcript"?: { "request": "...", "response": "..." } } ] } ],
//!   "verdicts": [ { "profile", "client", "ready", "blocking": [ { "place", "also": [...], "what", ... } ],
//!       "advice": [...], "info": [...], "skipped": [...], "setup": [...], "not_assessed": [...],
//!       "not_applicable": [...] } ] }
//! ```
//!
//! Severities: a failed MUST check (`failures`, from `expect:`) fails the
//! run; SHOULD (`advice`, from `advise:`) fails it only with `--strict`;
//! INFO (`notes`, from `inform:`) never does. `summary` counts the checks
//! that did not hold at each level.
//!
//! Every planned step is listed: a step that was not run says why
//! (`not_run`), and a preparing step (`setup`) that failed is counted in
//! `summary.setup`, not among the MUST findings. `checks` lists the checks
//! applied to the answer (none when no answer came), and those not
//! evaluated because the status they presume did not come; `transcript` is the whole exchange, headers and bodies, of a step
//! with a failure or advice. Fields are only ever added within a version; a
//! removal or a change of meaning bumps it. Every string is redacted.
//!
//! The HTML report renders this same model.

use serde::Serialize;
use serde_json::Value;

use crate::check::Failure;
use crate::exec::{Outcome, ScenarioResult, StepResult};
use crate::http::Exchange;
use crate::report::verdict::{Finding, distinct_causes, verdicts};
use crate::report::{RunInfo, Tally, reason_phrase};
use crate::target::redact_json;

#[derive(Serialize)]
struct Report<'a> {
    format: &'static str,
    version: u32,
    run_id: &'a str,
    scimcheck_version: &'static str,
    target: &'a str,
    generated_at: String,
    summary: Summary,
    scenarios: Vec<Scenario>,
    verdicts: Vec<VerdictOut>,
    /// Per requirement of the catalogue: what this run found of it.
    requirements: Vec<RequirementOut>,
    coverage: Coverage,
}

#[derive(Serialize)]
struct RequirementOut {
    id: String,
    source: String,
    level: &'static str,
    testable: bool,
    status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    why: Option<String>,
}

/// How many requirements each standing holds, per level.
#[derive(Serialize, Default)]
struct Coverage {
    passed: usize,
    failed: usize,
    not_applicable: usize,
    not_tested: usize,
    must_passed: usize,
    must_failed: usize,
    must_testable: usize,
}

#[derive(Serialize)]
struct Summary {
    passed: usize,
    failed: usize,
    skipped: usize,
    must: usize,
    advice: usize,
    info: usize,
    /// Steps not run, and preparing steps that failed.
    not_run: usize,
    setup: usize,
    /// Distinct causes among the blocking findings.
    causes: usize,
}

#[derive(Serialize)]
struct Scenario {
    name: String,
    outcome: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<String>,
    elapsed_ms: u128,
    steps: Vec<Step>,
}

#[derive(Serialize)]
struct Step {
    id: String,
    /// `passed`, `failed` or `not_run`.
    status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    not_run: Option<String>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    setup: bool,
    spec: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    impact: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    fix: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    exchange: Option<ExchangeOut>,
    checks: Vec<CheckOut>,
    failures: Vec<FailureOut>,
    advice: Vec<FailureOut>,
    notes: Vec<FailureOut>,
    #[serde(skip_serializing_if = "Option::is_none")]
    transcript: Option<Transcript>,
}

#[derive(Serialize)]
struct CheckOut {
    check: String,
    level: &'static str,
    /// False when a check was not evaluated (it presumes a status that did not come).
    evaluated: bool,
    passed: bool,
}

#[derive(Serialize)]
struct Transcript {
    request: String,
    response: String,
}

#[derive(Serialize)]
struct ExchangeOut {
    method: String,
    url: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    status: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
    elapsed_ms: u128,
}

#[derive(Serialize)]
struct FailureOut {
    check: String,
    message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    location: Option<String>,
}

#[derive(Serialize)]
struct VerdictOut {
    profile: &'static str,
    client: &'static str,
    ready: bool,
    blocking: Vec<FindingOut>,
    advice: Vec<FindingOut>,
    info: Vec<FindingOut>,
    skipped: Vec<String>,
    setup: Vec<FindingOut>,
    not_assessed: Vec<String>,
    not_applicable: Vec<String>,
    steps_not_applicable: Vec<String>,
    under_concurrency: Vec<String>,
}

#[derive(Serialize)]
struct FindingOut {
    place: String,
    /// Other places the same cause was seen.
    also: Vec<String>,
    what: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    impact: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    fix: Option<String>,
    spec: Vec<String>,
}

fn failure(f: &Failure) -> FailureOut {
    FailureOut {
        check: f.check.clone(),
        message: f.message.clone(),
        location: f.span.as_ref().map(|s| s.location()),
    }
}

fn finding(f: &Finding) -> FindingOut {
    FindingOut {
        place: f.place.clone(),
        also: f.also.clone(),
        what: f.what.clone(),
        impact: f.impact.clone(),
        fix: f.fix.clone(),
        spec: f.spec.clone(),
    }
}

fn checks(step: &StepResult) -> Vec<CheckOut> {
    let levels = [
        ("must", &step.checks, &step.failures),
        ("should", &step.advised, &step.advice),
        ("info", &step.observed, &step.notes),
    ];
    let evaluated = levels.into_iter().flat_map(|(level, applied, failed)| {
        applied.iter().map(move |c| CheckOut {
            check: c.clone(),
            level,
            evaluated: true,
            passed: !failed.iter().any(|f| f.check == *c),
        })
    });
    let not_evaluated = step.not_evaluated.iter().map(|(level, c)| CheckOut {
        check: c.clone(),
        level,
        evaluated: false,
        passed: false,
    });
    evaluated.chain(not_evaluated).collect()
}

/// The exchange as an HTTP client would log it: request line, headers, body.
fn transcript(exchange: &Exchange) -> Transcript {
    let request = &exchange.request;
    let mut sent = format!("{} {}\n", request.method, request.url);
    for (name, value) in &request.headers {
        sent.push_str(&format!("{name}: {value}\n"));
    }
    if let Some(body) = &request.body {
        sent.push('\n');
        sent.push_str(&pretty(body));
    }
    let received = match &exchange.response {
        Ok(response) => {
            let mut text = format!("{} {}\n", response.status, reason_phrase(response.status));
            for (name, value) in &response.headers {
                text.push_str(&format!("{name}: {value}\n"));
            }
            if !response.body.is_empty() {
                text.push('\n');
                text.push_str(&pretty(&response.body));
            }
            text
        }
        Err(e) => format!("(no response: {e})"),
    };
    Transcript {
        request: sent,
        response: received,
    }
}

/// A JSON body indented; anything else as text.
fn pretty(body: &[u8]) -> String {
    serde_json::from_slice::<Value>(body)
        .ok()
        .and_then(|v| serde_json::to_string_pretty(&v).ok())
        .unwrap_or_else(|| String::from_utf8_lossy(body).into_owned())
}

/// The report as data, every string redacted: what both the JSON and the
/// HTML reports show.
pub fn model(run: &RunInfo, results: &[ScenarioResult], secrets: &[String]) -> Value {
    let tally = Tally::of(results);
    let scenarios = results
        .iter()
        .map(|r| Scenario {
            name: r.full_name.clone(),
            outcome: match r.outcome {
                Outcome::Passed => "passed",
                Outcome::Failed => "failed",
                Outcome::Skipped(_) => "skipped",
            },
            reason: match &r.outcome {
                Outcome::Skipped(reason) => Some(reason.clone()),
                _ => None,
            },
            elapsed_ms: r.elapsed.as_millis(),
            steps: r
                .steps
                .iter()
                .map(|s| (s, s.texts()))
                .map(|(s, (impact, fix))| Step {
                    id: s.id.clone(),
                    status: if s.not_run.is_some() {
                        "not_run"
                    } else if s.failed() {
                        "failed"
                    } else {
                        "passed"
                    },
                    not_run: s.not_run.clone(),
                    setup: s.setup,
                    spec: s.spec.clone(),
                    impact: impact.map(str::to_owned),
                    fix,
                    exchange: s.exchange.as_ref().map(|e| ExchangeOut {
                        method: e.request.method.to_string(),
                        url: e.request.url.clone(),
                        status: e.response.as_ref().ok().map(|r| r.status),
                        error: e.response.as_ref().err().map(|e| e.to_string()),
                        elapsed_ms: e.elapsed.as_millis(),
                    }),
                    checks: checks(s),
                    failures: s.failures.iter().map(failure).collect(),
                    advice: s.advice.iter().map(failure).collect(),
                    notes: s.notes.iter().map(failure).collect(),
                    transcript: (!s.failures.is_empty() || !s.advice.is_empty())
                        .then_some(s.exchange.as_ref())
                        .flatten()
                        .map(transcript),
                })
                .collect(),
        })
        .collect();
    let causes = distinct_causes(results);
    let verdicts = verdicts(results)
        .iter()
        .map(|v| VerdictOut {
            profile: v.profile.id,
            client: v.profile.client,
            ready: v.ready(),
            blocking: v.blocking.iter().map(finding).collect(),
            advice: v.advice.iter().map(finding).collect(),
            info: v.notes.iter().map(finding).collect(),
            skipped: v.skipped.clone(),
            setup: v.setup.iter().map(finding).collect(),
            not_assessed: v.not_assessed.clone(),
            not_applicable: v.not_applicable.clone(),
            steps_not_applicable: v.steps_not_applicable.clone(),
            under_concurrency: v.under_concurrency.clone(),
        })
        .collect();
    let mut coverage = Coverage::default();
    let requirements = crate::report::coverage::standings(results)
        .into_iter()
        .map(|(r, standing)| {
            use crate::report::coverage::Standing;
            use crate::requirements::Level;
            let must = r.level == Level::Must;
            match standing {
                Standing::Passed => coverage.passed += 1,
                Standing::Failed => coverage.failed += 1,
                Standing::NotApplicable(_) => coverage.not_applicable += 1,
                Standing::NotTested(_) => coverage.not_tested += 1,
            }
            coverage.must_passed += usize::from(must && standing == Standing::Passed);
            coverage.must_failed += usize::from(must && standing == Standing::Failed);
            coverage.must_testable += usize::from(must && r.testable);
            RequirementOut {
                id: r.id.clone(),
                source: r.source.clone(),
                level: r.level.name(),
                testable: r.testable,
                status: standing.label(),
                why: standing.why().map(str::to_owned),
            }
        })
        .collect();
    let report = Report {
        format: "scimcheck-report",
        version: 1,
        run_id: &run.run_id,
        scimcheck_version: env!("CARGO_PKG_VERSION"),
        target: &run.target,
        generated_at: run.generated_at(),
        summary: Summary {
            passed: tally.passed,
            failed: tally.failed,
            skipped: tally.skipped,
            must: tally.must,
            advice: tally.advice,
            info: tally.info,
            not_run: tally.not_run,
            setup: tally.setup,
            causes,
        },
        scenarios,
        verdicts,
        requirements,
        coverage,
    };
    let mut value = serde_json::to_value(&report).unwrap_or_default();
    redact_json(&mut value, secrets);
    // What the run saw is redacted; the format's own words are not.
    value["format"] = "scimcheck-report".into();
    value["scimcheck_version"] = env!("CARGO_PKG_VERSION").into();
    value
}

pub fn render(run: &RunInfo, results: &[ScenarioResult], secrets: &[String]) -> String {
    serde_json::to_string_pretty(&model(run, results, secrets)).unwrap_or_default()
}
