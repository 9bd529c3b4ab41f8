//! The requirement catalogue: every normative requirement of RFC 7643, RFC
//! 7644 and the clients' published SCIM requirements, as data
//! (`requirements/*.yaml`, compiled in), with an id, its source, its level
//! and whether a client-facing test can observe it.
//!
//! Steps cite the ids they verify (`verifies:`); a run's reports give, per
//! requirement, whether it passed, failed, was not applicable or was not
//! tested. A certification is only as good as what it covers: this is how
//! anyone can say what a run checked.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use serde::{Deserialize, Serialize};

use crate::exec::{Outcome, ScenarioResult};

const FILES: [(&str, &str); 3] = [
    ("rfc7643.yaml", include_str!("../requirements/rfc7643.yaml")),
    ("rfc7644.yaml", include_str!("../requirements/rfc7644.yaml")),
    ("clients.yaml", include_str!("../requirements/clients.yaml")),
];

/// How binding a requirement is, as its text says (SHALL and REQUIRED are
/// MUST; RECOMMENDED is SHOULD).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Deserialize, Serialize)]
pub enum Level {
    #[serde(rename = "MUST")]
    Must,
    #[serde(rename = "SHOULD")]
    Should,
    #[serde(rename = "MAY")]
    May,
}

impl Level {
    pub fn name(self) -> &'static str {
        match self {
            Level::Must => "MUST",
            Level::Should => "SHOULD",
            Level::May => "MAY",
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct Entry {
    id: String,
    #[serde(default)]
    source: Option<String>,
    level: Level,
    says: String,
    #[serde(default)]
    untestable: Option<String>,
}

/// One requirement of the catalogue.
#[derive(Debug, Clone, Serialize)]
pub struct Requirement {
    /// `RFC7644-3.3/create-answers-201`, `ENTRA/add-members`.
    pub id: String,
    /// Where it is written: `RFC7644 3.3`, `Entra SCIM: Create User`.
    pub source: String,
    pub level: Level,
    /// The requirement in short words.
    pub says: String,
    /// Whether a client-facing test can observe it.
    pub testable: bool,
    /// Why not, when it cannot.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub why_untestable: Option<String>,
}

/// `RFC7644-3.4.2.2/eq` comes from `RFC7644 3.4.2.2`.
fn source_of(id: &str) -> String {
    let section = id.split('/').next().unwrap_or(id);
    match section.split_once('-') {
        Some((document, number)) => format!("{document} {number}"),
        None => section.to_string(),
    }
}

fn load() -> Result<Vec<Requirement>, String> {
    let mut out: Vec<Requirement> = Vec::new();
    for (name, text) in FILES {
        let entries: Vec<Entry> =
            serde_saphyr::from_str(text).map_err(|e| format!("requirements/{name}: {e}"))?;
        for e in entries {
            if out.iter().any(|r| r.id == e.id) {
                return Err(format!("requirements/{name}: `{}` is listed twice", e.id));
            }
            out.push(Requirement {
                source: e.source.unwrap_or_else(|| source_of(&e.id)),
                id: e.id,
                level: e.level,
                says: e.says,
                testable: e.untestable.is_none(),
                why_untestable: e.untestable,
            });
        }
    }
    Ok(out)
}

/// The whole catalogue, in the order of its files.
pub fn catalogue() -> &'static [Requirement] {
    static CATALOGUE: OnceLock<Vec<Requirement>> = OnceLock::new();
    CATALOGUE.get_or_init(|| load().expect("the built-in requirement catalogue is valid (tested)"))
}

pub fn find(id: &str) -> Option<&'static Requirement> {
    catalogue().iter().find(|r| r.id == id)
}

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_catalogue_loads_with_unique_ids_and_sources() {
        let all = load().unwrap();
        assert!(all.len() >= 150, "{}", all.len());
        assert_eq!(
            find("RFC7644-3.3/create-answers-201").unwrap().source,
            "RFC7644 3.3"
        );
        assert_eq!(
            find("ENTRA/add-members").unwrap().source,
            "Entra SCIM: Update Group [Add Members]"
        );
        for r in &all {
            assert!(r.testable == r.why_untestable.is_none(), "{}", r.id);
            assert!(!r.says.is_empty(), "{}", r.id);
        }
    }
}
