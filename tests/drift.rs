//! `--snapshot-all`, the drift gate: every step's answer is snapshotted, a
//! second run against the same server has nothing to review (ids, times,
//! versions, the port and the run's names are placeholders), and a release
//! that answers otherwise fails with the diff, even where every check holds.

mod common;

use std::path::Path;

use scimcheck::double::Double;
use scimcheck::double::variant::{Variant, Variants};
use scimcheck::exec::{DRIFT_CHECK, Outcome, ScenarioResult};
use scimcheck::runner::{self, SuiteSources};

/// The Entra user lifecycle against `double`, every answer snapshotted in `dir`.
async fn run(double: &Double, dir: &Path, accept: bool) -> Vec<ScenarioResult> {
    let plan = runner::load_plan(&SuiteSources {
        builtin: true,
        dirs: Vec::new(),
    })
    .unwrap_or_else(|e| panic!("{e}"));
    let plan = runner::select(plan, &["entra::users::user_lifecycle".to_string()]);
    let mut settings = common::settings(common::target(&double.base_url()), dir);
    settings.snapshots.all = true;
    settings.snapshots.accept = accept;
    runner::run(&plan, settings).await.unwrap().results
}

fn files(dir: &Path, ending: &str) -> usize {
    std::fs::read_dir(dir)
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .path()
                .display()
                .to_string()
                .ends_with(ending)
        })
        .count()
}

fn drift(results: &[ScenarioResult]) -> Vec<String> {
    results
        .iter()
        .flat_map(|r| &r.steps)
        .flat_map(|s| s.failures.iter().map(move |f| (s, f)))
        .filter(|(_, f)| f.check == DRIFT_CHECK)
        .map(|(s, f)| format!("{}: {}", s.id, f.message))
        .collect()
}

#[tokio::test]
async fn every_answer_is_snapshotted_and_only_a_changed_one_drifts() {
    let dir = tempfile::tempdir().unwrap();
    let first = run(&common::double().await, dir.path(), true).await;
    assert_eq!(first[0].outcome, Outcome::Passed);
    let answered = first[0]
        .steps
        .iter()
        .filter(|s| s.exchange.is_some())
        .count();
    assert!(answered > 10, "{answered} steps answered");
    assert_eq!(files(dir.path(), ".snap"), answered);

    // Another double: other ids, port and run id; the same answers.
    let second = run(&common::double().await, dir.path(), false).await;
    assert_eq!(drift(&second), Vec::<String>::new());
    assert_eq!(second[0].outcome, Outcome::Passed);
    assert_eq!(files(dir.path(), ".snap.new"), 0);

    // A release that answers PATCH with 204 (RFC-legal: every check holds)
    // changes what the endpoint answers: each PATCH drifts, with the diff.
    let patch_204 = Double::start_with_variants(
        Some(common::TOKEN.into()),
        Variants::of([Variant::Patch204]),
    )
    .await;
    let third = run(&patch_204, dir.path(), false).await;
    let drifted = drift(&third);
    assert!(!drifted.is_empty());
    for line in &drifted {
        assert!(
            line.contains("the answer changed since its snapshot"),
            "{line}"
        );
        assert!(
            line.contains("-  \"status\": 200") && line.contains("+  \"status\": 204"),
            "{line}"
        );
    }
    // Only the drift failed: no other check did.
    let others: Vec<_> = third[0]
        .steps
        .iter()
        .flat_map(|s| &s.failures)
        .filter(|f| f.check != DRIFT_CHECK)
        .collect();
    assert!(others.is_empty(), "{others:?}");
    assert_eq!(files(dir.path(), ".snap.new"), drifted.len());
}
