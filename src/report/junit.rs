//! JUnit XML (through quick-junit), as GitHub Actions and GitLab read it: a
//! test suite per suite file, a test case per scenario. A failed check is a
//! `<failure>`; a request that got no answer, or a cleanup that did not
//! happen, is an `<error>`: the target misbehaved, or was not there. Each
//! step not run is a skipped test case `scenario › step` with the reason.

use std::collections::BTreeMap;

use quick_junit::{NonSuccessKind, Report, TestCase, TestCaseStatus, TestSuite};

use crate::exec::{Outcome, ScenarioResult};
use crate::report::terminal;
use crate::target::redact;

/// Checks whose failure means no proper answer came.
const ERROR_CHECKS: [&str; 3] = ["transport", "request", "cleanup"];

pub fn render(run_id: &str, results: &[ScenarioResult], secrets: &[String]) -> String {
    let mut suites: BTreeMap<&str, TestSuite> = BTreeMap::new();
    for result in results {
        let (suite, scenario) = result
            .full_name
            .rsplit_once("::")
            .unwrap_or(("scimcheck", &result.full_name));
        let status = match &result.outcome {
            Outcome::Passed => TestCaseStatus::success(),
            Outcome::Skipped(reason) => {
                let mut status = TestCaseStatus::skipped();
                status.set_message(redact(reason, secrets));
                status
            }
            Outcome::Failed => {
                let failures: Vec<_> = result
                    .steps
                    .iter()
                    .flat_map(|s| s.failures.iter().map(move |f| (s, f)))
                    .collect();
                let is_error = failures
                    .iter()
                    .any(|(_, f)| ERROR_CHECKS.contains(&f.check.as_str()));
                let mut status = TestCaseStatus::non_success(if is_error {
                    NonSuccessKind::Error
                } else {
                    NonSuccessKind::Failure
                });
                if let Some((step, first)) = failures.first() {
                    let message = format!(
                        "{} › {}: {}",
                        step.id,
                        first.check,
                        first.message.lines().next().unwrap_or_default()
                    );
                    status.set_message(redact(&message, secrets));
                    status.set_type(first.check.clone());
                }
                status.set_description(terminal::scenario(result, secrets));
                status
            }
        };
        let mut case = TestCase::new(scenario.to_string(), status);
        case.set_classname(suite.to_string());
        case.set_time(result.elapsed);
        let junit_suite = suites
            .entry(suite)
            .or_insert_with(|| TestSuite::new(suite.to_string()));
        junit_suite.add_test_case(case);
        // A step not run (and not merely not applicable) is a requirement not assessed: a skipped case of its own,
        // so CI shows it rather than counting it with the scenario.
        for step in result
            .steps
            .iter()
            .filter(|s| s.not_run.is_some() && !s.not_applicable)
        {
            let mut status = TestCaseStatus::skipped();
            status.set_message(redact(
                &format!("not run: {}", step.not_run.as_deref().unwrap_or_default()),
                secrets,
            ));
            let mut case = TestCase::new(format!("{scenario} › {}", step.id), status);
            case.set_classname(suite.to_string());
            junit_suite.add_test_case(case);
        }
    }
    let mut report = Report::new(format!("scimcheck run {run_id}"));
    report.add_test_suites(suites.into_values());
    report.to_string().unwrap_or_default()
}
