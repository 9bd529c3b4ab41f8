//! The JSON report, format `scimcheck-report` version 1.
//!
//! ```text
//! { "format": "scimcheck-report", "version": 1, "run_id": "...",
//!   "summary": { "passed": N, "failed": N, "skipped": N },
//!   "scenarios": [ { "name", "outcome": "passed|failed|skipped", "reason"?, "elapsed_ms",
//!       "steps": [ { "id", "spec": [...], "impact"?, "fix"?,
//!           "exchange"?: { "method", "url", "status"?, "error"?, "elapsed_ms" },
//!           "failures": [ { "check", "message", "location"? } ], "advice": [ same ] } ] } ],
//!   "verdicts": [ { "profile", "client", "ready", "blocking": [...], "advice": [...], "skipped": [...] } ] }
//! ```
//!
//! Fields are only ever added within a version; a removal or a change of
//! meaning bumps it. Secrets are redacted.

use serde::Serialize;

use crate::check::Failure;
use crate::exec::{Outcome, ScenarioResult};
use crate::report::Tally;
use crate::report::verdict::{Finding, verdicts};
use crate::target::redact;

#[derive(Serialize)]
struct Report<'a> {
    format: &'static str,
    version: u32,
    run_id: &'a str,
    summary: Summary,
    scenarios: Vec<Scenario>,
    verdicts: Vec<VerdictOut>,
}

#[derive(Serialize)]
struct Summary {
    passed: usize,
    failed: usize,
    skipped: usize,
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
    spec: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    impact: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    fix: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    exchange: Option<ExchangeOut>,
    failures: Vec<FailureOut>,
    advice: Vec<FailureOut>,
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
    skipped: Vec<String>,
}

#[derive(Serialize)]
struct FindingOut {
    place: String,
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
        what: f.what.clone(),
        impact: f.impact.clone(),
        fix: f.fix.clone(),
        spec: f.spec.clone(),
    }
}

pub fn render(run_id: &str, results: &[ScenarioResult], secrets: &[String]) -> String {
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
                .map(|s| Step {
                    id: s.id.clone(),
                    spec: s.spec.clone(),
                    impact: s.impact.clone(),
                    fix: s.fix.clone(),
                    exchange: s.exchange.as_ref().map(|e| ExchangeOut {
                        method: e.request.method.to_string(),
                        url: e.request.url.clone(),
                        status: e.response.as_ref().ok().map(|r| r.status),
                        error: e.response.as_ref().err().map(|e| e.to_string()),
                        elapsed_ms: e.elapsed.as_millis(),
                    }),
                    failures: s.failures.iter().map(failure).collect(),
                    advice: s.advice.iter().map(failure).collect(),
                })
                .collect(),
        })
        .collect();
    let verdicts = verdicts(results)
        .iter()
        .map(|v| VerdictOut {
            profile: v.profile.id,
            client: v.profile.client,
            ready: v.ready(),
            blocking: v.blocking.iter().map(finding).collect(),
            advice: v.advice.iter().map(finding).collect(),
            skipped: v.skipped.clone(),
        })
        .collect();
    let report = Report {
        format: "scimcheck-report",
        version: 1,
        run_id,
        summary: Summary {
            passed: tally.passed,
            failed: tally.failed,
            skipped: tally.skipped,
        },
        scenarios,
        verdicts,
    };
    let text = serde_json::to_string_pretty(&report).unwrap_or_default();
    redact(&text, secrets)
}
