//! Rendering results. Every renderer redacts the target's secrets.

pub mod coverage;
pub mod har;
pub mod html;
pub mod json;
pub mod junit;
pub mod terminal;
pub mod verdict;

use crate::exec::{Outcome, ScenarioResult};

/// What reports say of the run besides its results.
#[derive(Debug, Clone)]
pub struct RunInfo {
    pub run_id: String,
    /// The base URL the run was against (redacted by the reports).
    pub target: String,
    pub generated_at: std::time::SystemTime,
}

impl RunInfo {
    pub fn new(run_id: &str, target: &str) -> RunInfo {
        RunInfo {
            run_id: run_id.to_string(),
            target: target.to_string(),
            generated_at: std::time::SystemTime::now(),
        }
    }

    /// RFC 3339, in UTC.
    pub fn generated_at(&self) -> String {
        timestamp(self.generated_at)
    }
}

/// The reason phrase of a status code (`Created`), or nothing for an unknown one.
/// Steps left out, grouped by why, as reports list them:
/// `scenario: 2 steps not run (why): a, b` (without the scenario when it is
/// `None`).
pub fn left_out(scenario: Option<&str>, how: &str, why: &str, ids: &[&str]) -> String {
    let count = format!(
        "{} step{}",
        ids.len(),
        if ids.len() == 1 { "" } else { "s" }
    );
    match scenario {
        Some(name) => format!("{name}: {count} {how} ({why}): {}", ids.join(", ")),
        None => format!("{how} ({why}): {count}: {}", ids.join(", ")),
    }
}

pub fn reason_phrase(status: u16) -> &'static str {
    http::StatusCode::from_u16(status)
        .ok()
        .and_then(|s| s.canonical_reason())
        .unwrap_or("")
}

/// A time as RFC 3339, in UTC, to the millisecond.
pub fn timestamp(at: std::time::SystemTime) -> String {
    let at = time::OffsetDateTime::from(at);
    at.replace_millisecond(at.millisecond())
        .unwrap_or(at)
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_else(|_| "1970-01-01T00:00:00Z".into())
}

/// Passed, failed and skipped scenario counts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tally {
    pub passed: usize,
    pub failed: usize,
    pub skipped: usize,
    /// MUST-level checks that did not hold, across all scenarios.
    pub must: usize,
    /// SHOULD-level checks that did not hold, across all scenarios.
    pub advice: usize,
    /// INFO-level observations, across all scenarios.
    pub info: usize,
    /// Steps not run (a step they build on failed, or the run was interrupted).
    pub not_run: usize,
    /// Preparing steps that failed: "could not set up", not findings.
    pub setup: usize,
}

impl Tally {
    pub fn of(results: &[ScenarioResult]) -> Tally {
        let mut tally = Tally::default();
        for r in results {
            for step in &r.steps {
                if step.not_run.is_some() && !step.not_applicable {
                    tally.not_run += 1;
                }
                if step.is_setup_failure() {
                    tally.setup += 1;
                    continue;
                }
                tally.must += step.failures.len();
                tally.advice += step.advice.len();
                tally.info += step.notes.len();
            }
            match r.outcome {
                Outcome::Passed => tally.passed += 1,
                Outcome::Failed => tally.failed += 1,
                Outcome::Skipped(_) => tally.skipped += 1,
            }
        }
        tally
    }
}

impl std::fmt::Display for Tally {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} passed, {} failed, {} skipped",
            self.passed, self.failed, self.skipped
        )
    }
}
