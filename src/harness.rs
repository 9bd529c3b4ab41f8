//! libtest-mimic trials: each scenario its own test, so `cargo test` and
//! `cargo nextest` can list, filter and run them one by one.
//!
//! Each trial builds its own runtime and its own target (a fresh double by
//! default), so trials share nothing and nextest's process-per-test model
//! stays cheap.

use libtest_mimic::{Failed, Trial};

use crate::check::snapshot::SnapshotStore;
use crate::double::Double;
use crate::exec::Outcome;
use crate::plan::Plan;
use crate::report::terminal;
use crate::runner::{self, RunSettings};
use crate::target::Target;

/// One trial per scenario of `plan`, each against a fresh built-in double.
pub fn trials_against_double(plan: &Plan, snapshots_dir: &std::path::Path) -> Vec<Trial> {
    plan.scenarios()
        .map(|(_, scenario)| {
            let single = runner::only(plan, &scenario.full_name);
            let snapshots = SnapshotStore {
                dir: snapshots_dir.to_path_buf(),
                accept: false,
            };
            Trial::test(scenario.full_name.clone(), move || {
                run_one(&single, snapshots)
            })
        })
        .collect()
}

fn run_one(plan: &Plan, snapshots: SnapshotStore) -> Result<(), Failed> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start a runtime: {e}"))?;
    runtime.block_on(async {
        // With a token, so that authentication is exercised too.
        let token = uuid::Uuid::new_v4().to_string();
        let double = Double::start(Some(token.clone())).await;
        let mut target = Target::new(&double.base_url());
        target.auth = crate::target::Auth::Bearer(token);
        let secrets = target.secrets();
        let settings = RunSettings {
            target,
            concurrency: 1,
            snapshots,
            run_id: None,
            interrupt: Default::default(),
        };
        let report = runner::run(plan, settings)
            .await
            .map_err(|e| e.to_string())?;
        let mut problems = String::new();
        for result in &report.results {
            match &result.outcome {
                Outcome::Passed => {}
                // A skip is not a pass: the double claims every feature the suites use.
                Outcome::Skipped(reason) => problems.push_str(&format!("skipped: {reason}\n")),
                Outcome::Failed => problems.push_str(&terminal::scenario(result, &secrets)),
            }
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(problems.into())
        }
    })
}
