//! A gate for a SCIM server crate's own `cargo test`: every scenario of the
//! chosen profiles becomes its own libtest-mimic trial against the crate's
//! server, so `cargo test --test scim users` and `cargo nextest run` list,
//! filter and run them one by one.
//!
//! ```no_run
//! use scimcheck::gate::{Gate, ServerUnderTest};
//!
//! fn main() {
//!     Gate::new(|| async {
//!         // Start your server on a loopback port; scimcheck only talks to it.
//!         let listener = std::net::TcpListener::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
//!         let url = format!("http://{}/scim/v2", listener.local_addr().map_err(|e| e.to_string())?);
//!         let server = std::thread::spawn(move || drop(listener)); // your server here
//!         Ok::<_, String>(ServerUnderTest::new(url).token("test-token").keep_alive(server))
//!     })
//!     .profiles(&["rfc", "entra"])
//!     .main()
//! }
//! ```
//!
//! Each trial builds its own tokio runtime (current-thread) and calls the
//! start function inside it, so a server spawned there with `tokio::spawn`
//! lives exactly as long as its trial, and trials share nothing: nextest's
//! process per test works as it is.
//!
//! A scenario whose `requires` the server does not meet (a feature its
//! ServiceProviderConfig does not claim, or no token for the authentication
//! scenarios) is an *ignored* trial, never a passed one; to find which, the
//! gate starts the server once while it lists the trials. With
//! [`Gate::require_all`], such a scenario fails instead.
//!
//! Advice (a SHOULD that did not hold) is printed with its trial, which
//! passes; with [`Gate::strict`] it fails. A failed read is shown with the
//! write before it, where the fix usually is.

use std::future::Future;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::Arc;

use libtest_mimic::{Arguments, Failed, Trial};

use crate::check::snapshot::SnapshotStore;
use crate::exec::Outcome;
use crate::plan::Plan;
use crate::report::{terminal, verdict};
use crate::runner::{self, LoadError, RunSettings, SuiteSources};
use crate::target::{Auth, Target};

/// A running server for one trial: where it answers, its token, and what
/// keeps it running (dropped when the trial ends).
pub struct ServerUnderTest {
    base_url: String,
    token: Option<String>,
    keep_alive: Option<Box<dyn std::any::Any + Send>>,
}

impl ServerUnderTest {
    /// The SCIM base URL, such as `http://127.0.0.1:41234/scim/v2`.
    pub fn new(base_url: impl Into<String>) -> ServerUnderTest {
        ServerUnderTest {
            base_url: base_url.into().trim_end_matches('/').to_string(),
            token: None,
            keep_alive: None,
        }
    }

    /// The bearer token the server requires; with one, authentication is tested too.
    pub fn token(mut self, token: impl Into<String>) -> ServerUnderTest {
        self.token = Some(token.into());
        self
    }

    /// Anything that must live while the trial runs (a server handle, a
    /// temporary database); dropped after the trial's cleanups.
    pub fn keep_alive(mut self, guard: impl std::any::Any + Send) -> ServerUnderTest {
        self.keep_alive = Some(Box::new(guard));
        self
    }

    fn target(&self) -> Target {
        let mut target = Target::new(&self.base_url);
        if let Some(token) = &self.token {
            target.auth = Auth::Bearer(token.clone());
        }
        target
    }
}

/// A scenario's full name and why the server cannot run it.
type Unmet = Vec<(String, String)>;

type StartFuture = Pin<Box<dyn Future<Output = Result<ServerUnderTest, String>> + Send>>;
type Start = Arc<dyn Fn() -> StartFuture + Send + Sync>;

#[derive(Debug, thiserror::Error)]
pub enum GateError {
    #[error("{0}")]
    Load(#[from] LoadError),
    #[error("unknown profile `{0}`; the profiles are: entra, entra-legacy, okta, rfc")]
    Profile(String),
    #[error("no scenario is left once the profiles and exclusions are applied")]
    Empty,
    #[error("the server under test did not start: {0}")]
    Start(String),
    #[error("{0}")]
    Probe(String),
}

/// The exploration a gate adds to the scenarios: a budget of generated
/// cases and a tenant of run-prefixed users, each a trial of its own.
#[derive(Debug, Clone, Copy)]
struct Exploration {
    budget: usize,
    tenant_size: usize,
}

/// The scenarios to run and how to start the server for each.
pub struct Gate {
    exploration: Option<Exploration>,
    start: Start,
    profiles: Vec<String>,
    builtin: bool,
    dirs: Vec<PathBuf>,
    excluded: Vec<String>,
    snapshots: PathBuf,
    require_all: bool,
    strict: bool,
    snapshot_all: bool,
}

impl Gate {
    /// A gate that calls `start` for each trial (and once more to list them).
    pub fn new<F, Fut, E>(start: F) -> Gate
    where
        F: Fn() -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<ServerUnderTest, E>> + Send + 'static,
        E: std::fmt::Display,
    {
        let start: Start = Arc::new(move || {
            let fut = start();
            Box::pin(async move { fut.await.map_err(|e| e.to_string()) })
        });
        Gate {
            exploration: Some(Exploration {
                budget: 500,
                tenant_size: 120,
            }),
            start,
            profiles: Vec::new(),
            builtin: true,
            dirs: Vec::new(),
            excluded: Vec::new(),
            snapshots: PathBuf::from("snapshots"),
            require_all: false,
            strict: false,
            snapshot_all: false,
        }
    }

    /// Only these profiles' scenarios: `entra`, `entra-legacy`, `okta`, `rfc` (default all).
    pub fn profiles(mut self, ids: &[&str]) -> Gate {
        self.profiles = ids.iter().map(|p| p.to_string()).collect();
        self
    }

    /// Adds the suites of a folder (your own scenarios) to the built-in ones.
    pub fn suites(mut self, dir: impl Into<PathBuf>) -> Gate {
        self.dirs.push(dir.into());
        self
    }

    /// Runs only the suites added with [`Gate::suites`].
    pub fn without_builtin_suites(mut self) -> Gate {
        self.builtin = false;
        self
    }

    /// Leaves out the scenarios whose name contains `name`: a known
    /// deviation you have decided to live with. They are listed as ignored.
    pub fn exclude(mut self, name: &str) -> Gate {
        self.excluded.push(name.to_string());
        self
    }

    /// Where snapshots live (default `snapshots/` of the crate under test).
    pub fn snapshots(mut self, dir: impl Into<PathBuf>) -> Gate {
        self.snapshots = dir.into();
        self
    }

    /// A scenario the server cannot run (an unclaimed feature) fails
    /// instead of being ignored.
    pub fn require_all(mut self) -> Gate {
        self.require_all = true;
        self
    }

    /// A trial with advice (a SHOULD that did not hold) fails, as the CLI's
    /// `--strict` does; without it the advice is printed and the trial passes.
    pub fn strict(mut self) -> Gate {
        self.strict = true;
        self
    }

    /// Snapshots every step's answer (status and normalized body) under the
    /// snapshot folder, as `run --snapshot-all` does: a release that changes
    /// what the server answers fails its trial with the diff, even where
    /// every check holds; `cargo insta review` accepts the change.
    pub fn snapshot_all(mut self) -> Gate {
        self.snapshot_all = true;
        self
    }

    /// The exploration's size: `budget` requests of generated cases (the
    /// trial `explore::cases`) and a tenant of `tenant_size` users (the
    /// trial `explore::scale`); 0 leaves either out. By default 500 and 120.
    /// Seeded and one case at a time, so a trial sends the same requests on
    /// every run (bursts of concurrent writes are `scimcheck explore`'s).
    pub fn explore(mut self, budget: usize, tenant_size: usize) -> Gate {
        self.exploration = Some(Exploration {
            budget,
            tenant_size,
        });
        self
    }

    /// No exploration trials.
    pub fn without_exploration(mut self) -> Gate {
        self.exploration = None;
        self
    }

    /// One trial per scenario.
    pub fn trials(&self) -> Result<Vec<Trial>, GateError> {
        self.build().map(|(trials, _)| trials)
    }

    /// Parses the test binary's arguments, runs the trials and exits: the
    /// whole `main` of a `harness = false` test.
    pub fn main(self) -> ! {
        let args = Arguments::from_args();
        match self.build() {
            Ok((trials, unmet)) => {
                // Why a trial is ignored is worth a line: it is not a pass.
                if !args.list {
                    for (name, why) in unmet {
                        eprintln!("scimcheck: {name} is ignored: {why}");
                    }
                }
                libtest_mimic::run(&args, trials).exit()
            }
            Err(e) => {
                eprintln!("scimcheck: {e}");
                std::process::exit(2)
            }
        }
    }

    /// The trials, and the scenarios the server cannot run with the reason.
    fn build(&self) -> Result<(Vec<Trial>, Unmet), GateError> {
        let plan = self.plan()?;
        let (plan, unmet) = self.probe(plan)?;
        let mut trials: Vec<Trial> = plan
            .scenarios()
            .map(|(_, scenario)| {
                let name = scenario.full_name.clone();
                let single = runner::only(&plan, &name);
                let start = self.start.clone();
                let snapshots = self.snapshots.clone();
                let excluded = self.excluded.iter().any(|e| name.contains(e.as_str()));
                let cannot_run = unmet.iter().any(|(n, _)| *n == name);
                let (strict, all) = (self.strict, self.snapshot_all);
                Trial::test(name, move || {
                    run_trial(&single, start, snapshots, strict, all)
                })
                .with_ignored_flag(excluded || cannot_run)
            })
            .collect();
        if let Some(exploration) = self.exploration {
            for (name, budget, tenant_size) in [
                ("explore::cases", exploration.budget, 0),
                ("explore::scale", 0, exploration.tenant_size),
            ] {
                if budget == 0 && tenant_size == 0 {
                    continue;
                }
                let start = self.start.clone();
                let excluded = self.excluded.iter().any(|e| name.contains(e.as_str()));
                let strict = self.strict;
                trials.push(
                    Trial::test(name, move || {
                        explore_trial(start, budget, tenant_size, strict)
                    })
                    .with_ignored_flag(excluded),
                );
            }
        }
        Ok((trials, unmet))
    }

    fn plan(&self) -> Result<Plan, GateError> {
        let sources = SuiteSources {
            builtin: self.builtin,
            dirs: self.dirs.clone(),
        };
        let plan = runner::load_plan(&sources)?;
        let mut profiles = Vec::new();
        for id in &self.profiles {
            profiles.push(verdict::profile(id).ok_or_else(|| GateError::Profile(id.clone()))?);
        }
        let plan = runner::select_profiles(plan, &profiles);
        if plan.scenarios().next().is_none() {
            return Err(GateError::Empty);
        }
        Ok(plan)
    }

    /// Starts the server once, if need be, to add the scenarios its own
    /// /Schemas call for and to find which scenarios it cannot run.
    fn probe(&self, plan: Plan) -> Result<(Plan, Unmet), GateError> {
        let schema_driven = runner::schema_driven_applies(self.builtin, &self.profiles);
        let needs_features =
            !self.require_all && plan.scenarios().any(|(_, s)| !s.requires.is_empty());
        if !schema_driven && !needs_features {
            return Ok((plan, Vec::new()));
        }
        let runtime = runtime().map_err(GateError::Start)?;
        runtime.block_on(async {
            let server = (self.start)().await.map_err(GateError::Start)?;
            let target = server.target();
            let (plan, missing) =
                runner::with_schema_driven(plan, &target, self.builtin, &self.profiles, &[]).await;
            if let Some(why) = missing {
                eprintln!("scimcheck: no schema-driven checks: {why}");
            }
            let unmet = match self.require_all {
                true => Vec::new(),
                false => runner::unmet_requirements(&plan, &target)
                    .await
                    .map_err(|e| GateError::Probe(e.to_string()))?,
            };
            Ok((plan, unmet))
        })
    }
}

fn runtime() -> Result<tokio::runtime::Runtime, String> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start a runtime: {e}"))
}

/// One exploration trial: the server started, explored with a fixed seed,
/// one case at a time; a deviation fails it with its reproducer.
fn explore_trial(
    start: Start,
    budget: usize,
    tenant_size: usize,
    strict: bool,
) -> Result<(), Failed> {
    // The explorer runs its workers on threads of their own.
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start a runtime: {e}"))?;
    runtime.block_on(async {
        let server = start()
            .await
            .map_err(|e| format!("the server under test did not start: {e}"))?;
        let target = server.target();
        let secrets = target.secrets();
        let client = crate::http::Client::new(&target).map_err(|e| e.to_string())?;
        let mut settings = crate::explore::Settings::new(&crate::exec::new_run_id(), budget, 1);
        settings.tenant_size = tenant_size;
        settings.parallel = 1;
        let outcome = crate::explore::explore(
            &client,
            &target,
            &settings,
            &Default::default(),
            &|_, _| {},
        )
        .await;
        drop(server);
        let shown = |text: &str| crate::target::redact(text, &secrets);
        let mut problems = String::new();
        for d in &outcome.divergences {
            let level = d.finding.level;
            let line = format!(
                "{} ({}): {}
  {} -> {}
",
                d.finding.key,
                d.finding.cite,
                d.finding.what,
                d.finding.call,
                d.finding.answer
            );
            if level == crate::explore::compare::Level::Must || strict {
                problems.push_str(&shown(&line));
                problems.push_str(&format!(
                    "  shrunk to {} requests; its reproducer, for `scimcheck run --no-builtin --suites DIR`:\n{}\n",
                    d.requests,
                    shown(&d.suite)
                ));
            } else {
                eprint!("advice: {}", shown(&line));
            }
        }
        if let Some(scaled) = &outcome.scaled
            && let Some(f) = &scaled.finding
        {
            problems.push_str(&shown(&format!(
                "{} ({}) in a tenant of {} users: {}\n  {} -> {}\n",
                f.key, f.cite, scaled.size, f.what, f.call, f.answer
            )));
        }
        if outcome.nothing_explored() {
            problems.push_str(&format!(
                "nothing was explored: {}\n",
                outcome.lost_workers.join("; ")
            ));
        }
        for left in &outcome.left {
            problems.push_str(&format!("left behind: {}\n", shown(left)));
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(problems.into())
        }
    })
}

fn run_trial(
    plan: &Plan,
    start: Start,
    snapshots: PathBuf,
    strict: bool,
    snapshot_all: bool,
) -> Result<(), Failed> {
    runtime()?.block_on(async {
        let server = start()
            .await
            .map_err(|e| format!("the server under test did not start: {e}"))?;
        let target = server.target();
        let secrets = target.secrets();
        let settings = RunSettings {
            target,
            concurrency: 1,
            snapshots: SnapshotStore {
                dir: snapshots,
                accept: false,
                all: snapshot_all,
            },
            run_id: None,
            interrupt: Default::default(),
            observer: None,
            probed: None,
        };
        let report = runner::run(plan, settings)
            .await
            .map_err(|e| crate::target::redact(&e.to_string(), &secrets))?;
        let mut problems = String::new();
        for result in &report.results {
            let advised = result.steps.iter().any(|s| !s.advice.is_empty());
            match &result.outcome {
                Outcome::Passed if advised && strict => {
                    problems.push_str(&terminal::scenario(result, &secrets));
                    problems.push_str("failed on advice (Gate::strict)\n");
                }
                // Not a failure, but not hidden either: a SHOULD that did not hold.
                Outcome::Passed if advised => eprint!("{}", terminal::scenario(result, &secrets)),
                Outcome::Passed => {}
                // Only reached with require_all, or when the server changed its mind.
                Outcome::Skipped(reason) => problems.push_str(&format!("skipped: {reason}\n")),
                Outcome::Failed => problems.push_str(&terminal::scenario(result, &secrets)),
            }
        }
        drop(server);
        if problems.is_empty() {
            Ok(())
        } else {
            Err(problems.into())
        }
    })
}
