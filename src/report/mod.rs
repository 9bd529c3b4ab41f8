//! Rendering results. Every renderer redacts the target's secrets.

pub mod har;
pub mod json;
pub mod junit;
pub mod terminal;
pub mod verdict;

use crate::exec::{Outcome, ScenarioResult};

/// Passed, failed and skipped scenario counts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tally {
    pub passed: usize,
    pub failed: usize,
    pub skipped: usize,
    /// SHOULD-level checks that did not hold, across all scenarios.
    pub advice: usize,
}

impl Tally {
    pub fn of(results: &[ScenarioResult]) -> Tally {
        let mut tally = Tally::default();
        for r in results {
            tally.advice += r.steps.iter().map(|s| s.advice.len()).sum::<usize>();
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
