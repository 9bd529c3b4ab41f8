//! Every step of every built-in scenario, the schema-driven ones included,
//! is proven able to fail.
//!
//! For each step of a scenario, the double answers exactly that step's
//! request wrongly (a stand-in for a failed step, `fallback_for`, runs only
//! when that step fails, so both are faulted), and the scenario must fail at
//! that step and at no step whose answer was right:
//! - with a 500 Error, for every step that checks the status;
//! - with the double's own answer but an empty JSON object as body, for
//!   every step with a body check that an empty body violates (a check that
//!   a value is absent is rightly content with an empty body).

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use libtest_mimic::{Arguments, Failed, Trial};
use scimcheck::check::predicate::Predicate;
use scimcheck::double::server::{response_template, service_request};
use scimcheck::double::service::Service;
use scimcheck::exec::Outcome;
use scimcheck::plan::{ExpectationKind, Plan, StepPlan};
use scimcheck::runner::{self, SuiteSources};
use wiremock::matchers::any;
use wiremock::{Mock, Respond, ResponseTemplate};

#[derive(Clone, Copy, Debug)]
enum Fault {
    ServerError,
    EmptyBody,
}

/// The run's preflight before the scenario: GET /ServiceProviderConfig,
/// GET /Users?count=1 and GET /Schemas (read once for the optional
/// attributes steps rely on and what the server requires in a create).
const PREFLIGHT_REQUESTS: usize = 3;

/// The double, except for the requests numbered `targets` of the scenario
/// (the preflight's do not count).
struct FaultAt {
    service: Arc<Mutex<Service>>,
    targets: Vec<usize>,
    preflight: usize,
    seen: AtomicUsize,
    fault: Fault,
}

impl Respond for FaultAt {
    fn respond(&self, request: &wiremock::Request) -> ResponseTemplate {
        let scim = service_request(request);
        let response = self.service.lock().unwrap().handle(&scim);
        let n = self.seen.fetch_add(1, Ordering::SeqCst);
        if n < self.preflight || !self.targets.contains(&(n - self.preflight)) {
            return response_template(&response);
        }
        match self.fault {
            Fault::ServerError => ResponseTemplate::new(500).set_body_raw(
                r#"{"schemas":["urn:ietf:params:scim:api:messages:2.0:Error"],"status":"500","detail":"injected"}"#,
                "application/scim+json",
            ),
            Fault::EmptyBody => {
                let mut wrong = response.clone();
                wrong.body = Some(serde_json::json!({}));
                response_template(&wrong)
            }
        }
    }
}

fn checks_status(step: &StepPlan) -> bool {
    step.expectations
        .iter()
        .any(|e| matches!(e.kind, ExpectationKind::Status(ref s) if !s.contains(&500)))
}

/// Whether an empty JSON object violates some body check of the step: any
/// check but those an absent value satisfies (absent, ne, not_contains,
/// unassigned).
fn empty_body_violates(step: &StepPlan) -> bool {
    step.expectations.iter().any(|e| match &e.kind {
        ExpectationKind::Schema(_) | ExpectationKind::Snapshot(_) => true,
        ExpectationKind::Json { predicates, .. } => predicates.iter().any(|p| {
            !matches!(
                p,
                Predicate::Absent
                    | Predicate::Ne(_)
                    | Predicate::NotContains(_)
                    | Predicate::Unassigned
            )
        }),
        _ => false,
    })
}

/// Faults the requests numbered `targets` (in the order the scenario sends
/// them); `expected_step` must fail, and only steps in `faulted` may.
fn run(
    plan: &Plan,
    targets: Vec<usize>,
    fault: Fault,
    expected_step: &str,
    faulted: Vec<String>,
) -> Result<(), Failed> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let double = common::double().await;
        Mock::given(any())
            .respond_with(FaultAt {
                service: double.service(),
                targets,
                preflight: PREFLIGHT_REQUESTS,
                seen: AtomicUsize::new(0),
                fault,
            })
            .with_priority(1)
            .mount(double.server())
            .await;
        let dir = tempfile::tempdir().unwrap();
        let settings = common::settings(common::target(&double.base_url()), dir.path());
        let results = runner::run(plan, settings)
            .await
            .map_err(|e| e.to_string())?
            .results;
        let result = &results[0];
        if result.outcome != Outcome::Failed {
            return Err(format!(
                "{fault:?} at step `{expected_step}` went unnoticed: {:?}",
                result.outcome
            )
            .into());
        }
        let failed: Vec<&str> = result
            .steps
            .iter()
            .filter(|s| s.failed())
            .map(|s| s.id.as_str())
            .collect();
        if !failed.contains(&expected_step)
            || failed.iter().any(|f| !faulted.iter().any(|x| x == f))
        {
            return Err(
                format!("{fault:?} at `{expected_step}` failed steps {failed:?} instead").into(),
            );
        }
        Ok(())
    })
}

/// The number of the request each step sends, in a run where every answer is
/// right (the preflight's do not count).
async fn request_numbers(plan: &Plan) -> std::collections::BTreeMap<String, usize> {
    let double = common::double().await;
    let dir = tempfile::tempdir().unwrap();
    let settings = common::settings(common::target(&double.base_url()), dir.path());
    let results = runner::run(plan, settings).await.unwrap().results;
    results[0]
        .exchanges()
        .filter(|(label, _)| *label != "cleanup")
        .enumerate()
        .filter(|(_, (label, _))| *label != "ownership")
        .map(|(n, (label, _))| (label.to_string(), n))
        .collect()
}

fn main() {
    let args = Arguments::from_args();
    let plan = runner::load_plan(&SuiteSources {
        builtin: true,
        dirs: Vec::new(),
    })
    .expect("the built-in suites plan");
    // With the scenarios the double's own /Schemas call for.
    let plan = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(async {
            let double = common::double().await;
            let more = runner::schema_driven(&common::target(&double.base_url()), &[])
                .await
                .expect("the double's schemas are read")
                .expect("the double's schemas call for checks");
            runner::merge(plan, more)
        });
    let mut trials = Vec::new();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    for (_, scenario) in plan.scenarios() {
        let single = runner::only(&plan, &scenario.full_name);
        // The request each step sends when every answer is right (stand-ins
        // send none then), counting the reads that confirm a resource is the
        // run's before its first write.
        let request_of = runtime.block_on(request_numbers(&single));
        for step in &scenario.steps {
            // A stand-in is reached by faulting the step it replaces; it then
            // sends the request that step's successor would have sent.
            let (targets, faulted) = match &step.fallback_for {
                // Its stand-in may fail too: the double did what the faulted
                // answer hides (a user created behind a 500 makes it a duplicate).
                None => {
                    let mut faulted = vec![step.id.clone()];
                    faulted.extend(
                        scenario
                            .steps
                            .iter()
                            .filter(|s| s.fallback_for.as_ref() == Some(&step.id))
                            .map(|s| s.id.clone()),
                    );
                    (vec![request_of[&step.id]], faulted)
                }
                Some(replaced) => {
                    let r = request_of[replaced];
                    (vec![r, r + 1], vec![replaced.clone(), step.id.clone()])
                }
            };
            for (fault, applies) in [
                (Fault::ServerError, checks_status(step)),
                (Fault::EmptyBody, empty_body_violates(step)),
            ] {
                if !applies {
                    continue;
                }
                let name = format!("{} › {} › {fault:?}", scenario.full_name, step.id);
                let plan = single.clone();
                let id = step.id.clone();
                let (targets, mut faulted) = (targets.clone(), faulted.clone());
                if matches!(fault, Fault::EmptyBody) {
                    // A create answered 201 with `{}`: the double made the
                    // resource, and its cleanup rightly says it has no id.
                    faulted.push("cleanup".into());
                }
                trials.push(Trial::test(name, move || {
                    run(&plan, targets, fault, &id, faulted)
                }));
            }
        }
    }
    libtest_mimic::run(&args, trials).exit();
}
