//! Coverage: what a plan's checks cite of the requirement catalogue, and
//! what a run found of each requirement (passed, failed, not applicable,
//! not tested). The catalogue itself is data (`crate::requirements`); this
//! reads it against plans and results.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::exec::{Outcome, ScenarioResult};
use crate::requirements::{Level, Requirement, catalogue, find};

/// How many steps of `plan` cite each requirement.
pub fn citations(plan: &crate::plan::Plan) -> BTreeMap<String, usize> {
    let mut counts = BTreeMap::new();
    for (_, scenario) in plan.scenarios() {
        for step in &scenario.steps {
            for id in &step.verifies {
                *counts.entry(id.clone()).or_insert(0) += 1;
            }
        }
    }
    counts
}

/// One line of `scimcheck requirements`.
#[derive(Debug, Serialize)]
pub struct Listed {
    pub id: String,
    pub source: String,
    pub level: Level,
    pub testable: bool,
    /// How many checks (steps) cite it.
    pub checks: usize,
    pub says: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub why_untestable: Option<String>,
}

/// The catalogue with how many checks of `plan` cite each requirement.
pub fn listing(plan: &crate::plan::Plan) -> Vec<Listed> {
    let counts = citations(plan);
    catalogue()
        .iter()
        .map(|r| Listed {
            id: r.id.clone(),
            source: r.source.clone(),
            level: r.level,
            testable: r.testable,
            checks: counts.get(&r.id).copied().unwrap_or(0),
            says: r.says.clone(),
            why_untestable: r.why_untestable.clone(),
        })
        .collect()
}

/// What a run found of one requirement.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "status", content = "why")]
pub enum Standing {
    /// Every step citing it that ran held.
    Passed,
    /// A step citing it failed a MUST check (or SHOULD, for a SHOULD).
    Failed,
    /// The steps citing it were not applicable (a feature not offered, an
    /// attribute not declared), with the first reason.
    NotApplicable(String),
    /// No step citing it ran: none cites it, or they were not selected or
    /// could not run; with why.
    NotTested(String),
}

impl Standing {
    pub fn label(&self) -> &'static str {
        match self {
            Standing::Passed => "passed",
            Standing::Failed => "failed",
            Standing::NotApplicable(_) => "not applicable",
            Standing::NotTested(_) => "not tested",
        }
    }

    pub fn why(&self) -> Option<&str> {
        match self {
            Standing::NotApplicable(why) | Standing::NotTested(why) => Some(why),
            _ => None,
        }
    }
}

/// Each requirement's standing after a run, in catalogue order.
pub fn standings(results: &[ScenarioResult]) -> Vec<(&'static Requirement, Standing)> {
    #[derive(Default)]
    struct Seen {
        passed: bool,
        failed: bool,
        not_applicable: Option<String>,
        not_run: Option<String>,
    }
    let mut seen: BTreeMap<&str, Seen> = BTreeMap::new();
    for result in results {
        if let (true, Outcome::Skipped(why)) = (result.steps.is_empty(), &result.outcome) {
            // Skipped before its first step: what it would have verified.
            for id in &result.verifies {
                let entry = seen.entry(id.as_str()).or_default();
                let why = format!("{}: {why}", result.full_name);
                match result.unclaimed_feature {
                    true => entry.not_applicable.get_or_insert(why),
                    false => entry.not_run.get_or_insert(why),
                };
            }
        }
        for step in &result.steps {
            for id in &step.verifies {
                let entry = seen.entry(id.as_str()).or_default();
                let name = format!("{} › {}", result.full_name, step.id);
                if !step.failures.is_empty() || !step.advice.is_empty() && step_is_should(id) {
                    entry.failed = true;
                } else if step.not_applicable || step.feature_not_offered {
                    let why = step
                        .not_run
                        .clone()
                        .unwrap_or_else(|| "optional feature not offered".into());
                    entry.not_applicable.get_or_insert(format!("{name}: {why}"));
                } else if let Some(why) = &step.not_run {
                    entry.not_run.get_or_insert(format!("{name}: {why}"));
                } else if matches!(result.outcome, Outcome::Skipped(_)) {
                    entry
                        .not_run
                        .get_or_insert(format!("{name}: the scenario was skipped"));
                } else {
                    entry.passed = true;
                }
            }
        }
    }
    catalogue()
        .iter()
        .map(|r| {
            let standing = match seen.get(r.id.as_str()) {
                Some(s) if s.failed => Standing::Failed,
                Some(s) if s.passed => Standing::Passed,
                Some(Seen {
                    not_applicable: Some(why),
                    ..
                }) => Standing::NotApplicable(why.clone()),
                Some(Seen {
                    not_run: Some(why), ..
                }) => Standing::NotTested(why.clone()),
                _ if !r.testable => Standing::NotTested(format!(
                    "not observable by a client: {}",
                    r.why_untestable.as_deref().unwrap_or("")
                )),
                _ => Standing::NotTested("no step of this run verifies it".into()),
            };
            (r, standing)
        })
        .collect()
}

/// A SHOULD requirement fails on advice too: its checks are `advise:` ones.
fn step_is_should(id: &str) -> bool {
    find(id).is_some_and(|r| r.level == Level::Should)
}
