//! `scimcheck run`: the built-in and the user's suites against a target
//! (or the built-in double), with the verdict, the reports and the exit status.

use super::*;

#[derive(Args)]
pub struct RunArgs {
    #[command(flatten)]
    pub suites: SuiteArgs,
    #[command(flatten)]
    pub target: TargetArgs,
    /// How many scenarios run at once.
    #[arg(long, default_value_t = 4)]
    pub concurrency: usize,
    /// Where snapshots live.
    #[arg(long, default_value = "snapshots", value_name = "DIR")]
    pub snapshots: PathBuf,
    /// Write new or changed snapshots instead of failing on them.
    #[arg(long)]
    pub accept_snapshots: bool,
    /// Snapshot every step's answer (status and normalized body) too, so a
    /// changed answer fails even where every check holds (drift).
    #[arg(long)]
    pub snapshot_all: bool,
    /// Fail the run on advice (SHOULD-level findings) too.
    #[arg(long)]
    pub strict: bool,
    /// Also write a report, as KIND=PATH with KIND junit, json, har or html (repeatable).
    #[arg(long = "report", value_name = "KIND=PATH", value_parser = parse_report)]
    pub reports: Vec<(ReportKind, PathBuf)>,
    /// Overwrite report files that already exist.
    #[arg(long)]
    pub force: bool,
    /// Print every exchange as it finishes: request and answer, bodies excerpted.
    #[arg(long, short)]
    pub verbose: bool,
    /// After the suites, explore the target against the built-in double for
    /// at most this many requests (see `scimcheck explore`); 0 turns it off.
    #[arg(long, value_name = "N", default_value_t = 1000, value_parser = count::<10_000_000>)]
    pub explore_budget: usize,
    /// The exploration's seed: the same seed sends the same requests.
    #[arg(long, value_name = "S", default_value_t = 1)]
    pub explore_seed: u64,
    /// Users the exploration's scale phase creates and checks filters,
    /// pages and totals over (0 turns it off; more than 50 only on
    /// loopback: `scimcheck explore --tenant-size N --yes` goes further)
    /// [default: 250 on loopback, 50 elsewhere].
    #[arg(long, value_name = "N", value_parser = count::<100_000>)]
    pub explore_tenant_size: Option<usize>,
    /// Where the exploration writes the reproducers of what it finds
    /// [default: a folder scimcheck-explore-<run id> in the temporary directory].
    #[arg(long, value_name = "DIR")]
    pub explore_dir: Option<PathBuf>,
}

pub fn run(args: RunArgs) -> Exit {
    if let Err(code) = refuse_overwrite(args.reports.iter().map(|(_, p)| p.as_path()), args.force) {
        return code;
    }
    let plan = match load(&args.suites) {
        Ok(plan) => plan,
        Err(code) => return code,
    };
    runtime().block_on(async move {
        // With no target, the built-in double; it lives as long as the run.
        // Protected by a token (the user's, or a fresh one), so authentication is tested too.
        let (mut target, double) = match target_or_double(&args.target, args.target.token.clone()).await {
            Ok(t) => t,
            Err(code) => return code,
        };
        let base_url = target.base_url.clone();
        // Settled before anything is sent: a size the run refuses sends nothing.
        let tenant_size = if args.explore_budget > 0 {
            match explore_tenant_size(&args, &target) {
                Ok(size) => size,
                Err(code) => return code,
            }
        } else {
            0
        };
        // A real tenant gets Entra's own pace (gallery apps are asked to
        // sustain 25 requests a second per tenant), so a run is never harsher
        // than Entra itself; the built-in double none.
        target.rate = match (args.target.rate, &double) {
            (Some(rate), _) => Some(rate),
            (None, Some(_)) => None,
            (None, None) => Some(DEFAULT_RATE),
        };
        let secrets = target.secrets();
        if secrets.iter().any(|s| s.chars().count() < crate::target::SHORT_SECRET) {
            eprintln!(
                "scimcheck: a credential is shorter than {} characters: it is redacted where it stands alone, not inside other words, so it may show within them",
                crate::target::SHORT_SECRET
            );
        }
        // One message, before anything else, for a target that is not there,
        // refuses the credentials or has no SCIM endpoint at that path.
        let probed = match preflight(&target, &secrets).await {
            Ok(probed) => probed,
            Err(code) => return code,
        };
        let suites = &args.suites;
        let (plan, missing) = runner::with_schema_driven(plan, &target, !suites.no_builtin, &suites.profiles, &suites.filters).await;
        if let Some(why) = missing {
            eprintln!(
                "scimcheck: no schema-driven checks, and RFC 7643's core schema is assumed for optional attributes: {}",
                redact(&why, &secrets)
            );
        }
        if plan.suites.is_empty() {
            eprintln!("scimcheck: no scenario matches the filters; `scimcheck list` with the same --filter and --profile shows what each selects");
            return Exit::Usage;
        }
        let scenarios = plan.scenarios().count();
        // Named before the first write, so that a killed run can be cleaned up.
        let run_id = crate::exec::new_run_id();
        match &double {
            Some(_) => outln!("scimcheck: no --base-url given, running {} against the built-in SCIM double at {base_url} (run {run_id})", verdict::plural(scenarios, "scenario")
            ),
            None => outln!("scimcheck: running {} against {} (run {run_id})", verdict::plural(scenarios, "scenario"), redact(&base_url, &secrets)),
        }
        let interrupt = Interrupt::default();
        let live = std::sync::Arc::new(Live::new(scenarios, Display::detect(), secrets.clone(), args.verbose));
        on_interrupt(interrupt.clone(), live.clone(), run_id.clone());
        let explored_target = target.clone();
        let settings = RunSettings {
            target,
            concurrency: args.concurrency,
            snapshots: SnapshotStore {
                dir: args.snapshots.clone(),
                accept: args.accept_snapshots,
                all: args.snapshot_all,
            },
            run_id: Some(run_id),
            interrupt: interrupt.clone(),
            observer: Some(live.clone()),
            probed: Some(probed),
        };
        let report = runner::run(&plan, settings).await;
        live.done();
        let report = match report {
            Ok(report) => report,
            Err(e @ (RunError::Unreachable { .. } | RunError::Credentials { .. } | RunError::NoScim { .. })) => {
                eprintln!("scimcheck: {}", shown(&e.to_string(), &secrets));
                return Exit::Unreachable;
            }
            Err(e) => {
                eprintln!("scimcheck: {}", shown(&e.to_string(), &secrets));
                return Exit::Usage;
            }
        };
        let mut report = report;
        if args.explore_budget > 0 && !interrupt.is_set() {
            match explored(&args, &explored_target, tenant_size, &report.run_id, &interrupt, &secrets).await {
                Ok(results) => report.results.extend(results),
                Err(code) => return code,
            }
        }
        let verdicts = verdict::verdicts(&report.results);
        let partial = suites.no_builtin || !suites.filters.is_empty();
        out!("{}", verdict::render(&verdicts, &secrets, partial));
        out!("{}", leftovers(&report.results, &secrets));
        out!("{}", swept(report.swept.as_ref(), &secrets));
        let run_info = RunInfo::new(&report.run_id, &base_url);
        for (kind, path) in &args.reports {
            let text = match kind {
                ReportKind::Junit => junit::render(&report.run_id, &report.results, &secrets),
                ReportKind::Json => json::render(&run_info, &report.results, &secrets),
                ReportKind::Html => html::render(&run_info, &report.results, &secrets),
                ReportKind::Har => har::render(&report.results, &secrets),
            };
            if let Err(e) = std::fs::write(path, text) {
                eprintln!("scimcheck: cannot write the report {}: {e}", path.display());
                return Exit::Usage;
            }
        }
        let tally = Tally::of(&report.results);
        outln!(
            "\nrun {} (its id names everything it created; `scimcheck cleanup --run-id {}` removes what a run left behind)",
            report.run_id, report.run_id
        );
        if tally.must + tally.advice + tally.info > 0 {
            let should = if args.strict { "failing the run (--strict)" } else { "not blocking; --strict makes them fail the run" };
            let causes = verdict::distinct_causes(&report.results);
            outln!("checks that did not hold: {} MUST in {causes} distinct cause{} (failing the run), {} SHOULD ({should}), {} INFO (for the record)", tally.must, if causes == 1 { "" } else { "s" }, tally.advice, tally.info);
        }
        if tally.not_run + tally.setup > 0 {
            outln!("not assessed: {} step{} not run, {} fixture{} that could not be set up (the verdict above names them)", tally.not_run, if tally.not_run == 1 { "" } else { "s" }, tally.setup, if tally.setup == 1 { "" } else { "s" });
        }
        outln!("{tally}");
        if interrupt.is_set() {
            Exit::Interrupted
        } else if tally.failed > 0 || (args.strict && tally.advice > 0) {
            Exit::Failed
        } else {
            Exit::Passed
        }
    })
}

/// The bounded exploration after the suites: what it finds is shrunk,
/// written as reproducers, and run as ordinary scenarios, so that it joins
/// the verdict and the reports like any other finding. A deviation its
/// reproducer does not show again (a race, an intermittent failure) is told,
/// not counted.
async fn explored(
    args: &RunArgs,
    target: &Target,
    tenant_size: usize,
    run_id: &str,
    interrupt: &Interrupt,
    secrets: &[String],
) -> Result<Vec<crate::exec::ScenarioResult>, Exit> {
    let client = crate::http::Client::new(target).map_err(|e| {
        eprintln!("scimcheck: {e}");
        Exit::Usage
    })?;
    let mut settings =
        crate::explore::Settings::new(run_id, args.explore_budget, args.explore_seed);
    settings.tenant_size = tenant_size;
    outln!(
        "\nscimcheck: exploring with up to {} requests (seed {}; --explore-budget 0 turns it off){}",
        args.explore_budget,
        args.explore_seed,
        match settings.tenant_size {
            0 => String::new(),
            n => format!(", after a tenant of {n} users (--explore-tenant-size)"),
        }
    );
    let outcome = crate::explore::explore(&client, target, &settings, interrupt, &|_, _| {}).await;
    super::explore::print_outcome(&outcome, secrets);
    // Like the cases' deviations, the scale phase joins the results when it
    // found one; what held is printed above.
    let scaled: Vec<_> = outcome
        .scaled
        .iter()
        .filter(|s| s.finding.is_some())
        .map(scaled_result)
        .collect();
    if outcome.divergences.is_empty() {
        return Ok(scaled);
    }
    let dir = args
        .explore_dir
        .clone()
        .unwrap_or_else(|| std::env::temp_dir().join(format!("scimcheck-explore-{run_id}")));
    if let Err(e) = super::explore::emit(&dir, &outcome, true) {
        eprintln!("scimcheck: {e}");
        return Err(Exit::Usage);
    }
    let plan = match runner::load_plan(&SuiteSources {
        builtin: false,
        dirs: vec![dir.clone()],
    }) {
        Ok(plan) => plan,
        Err(e) => {
            eprintln!(
                "scimcheck: the reproducers in {} do not load: {e}",
                dir.display()
            );
            return Err(Exit::Usage);
        }
    };
    // One at a time: some reproducers compare totals over the tenant.
    let settings = RunSettings {
        target: target.clone(),
        concurrency: 1,
        snapshots: SnapshotStore {
            dir: args.snapshots.clone(),
            accept: false,
            all: false,
        },
        run_id: Some(format!("{run_id}-x")),
        interrupt: interrupt.clone(),
        observer: None,
        probed: None,
    };
    let replayed = match runner::run(&plan, settings).await {
        Ok(report) => report.results,
        Err(e) => {
            eprintln!("scimcheck: {}", shown(&e.to_string(), secrets));
            return Err(Exit::Unreachable);
        }
    };
    let shown_again = replayed
        .iter()
        .flat_map(|r| &r.steps)
        .filter(|s| s.failed())
        .count();
    outln!(
        "scimcheck: {} from exploration replayed from {}: {} shown again",
        verdict::plural(outcome.divergences.len(), "reproducer"),
        dir.display(),
        shown_again
    );
    Ok(scaled.into_iter().chain(replayed).collect())
}

/// The scale phase's size in a run: small anywhere but on loopback.
fn explore_tenant_size(args: &RunArgs, target: &Target) -> Result<usize, Exit> {
    use crate::explore::scale::REMOTE_SIZE;
    // The built-in double is on loopback.
    let loopback = is_loopback(&target.base_url);
    match args.explore_tenant_size {
        None if loopback => Ok(250),
        None => Ok(REMOTE_SIZE),
        Some(n) if n <= REMOTE_SIZE || loopback => Ok(n),
        Some(n) => {
            eprintln!(
                "scimcheck: --explore-tenant-size {n} would create {n} users on a target that is not on loopback; a run keeps to {REMOTE_SIZE}: `scimcheck explore --tenant-size {n} --yes` goes further; nothing was sent"
            );
            Err(Exit::Usage)
        }
    }
}

/// The scale phase's finding as a scenario of the run: no reproducer file (it holds
/// hundreds of creates), its checks and its finding told as one step's.
fn scaled_result(scaled: &crate::explore::scale::Scaled) -> crate::exec::ScenarioResult {
    use crate::exec::{Outcome, ScenarioResult, StepResult};
    let span = crate::diagnostic::Span {
        source: crate::diagnostic::Source::new("(exploration: scale phase)", ""),
        pos: Default::default(),
    };
    let mut step = StepResult::new(
        "tenant",
        span,
        vec![format!("a tenant of {} of the run's users", scaled.size)],
    );
    step.checks = scaled.checked.clone();
    if let Some(f) = &scaled.finding {
        step.checks.push(f.key.clone());
        step.failures.push(crate::check::Failure {
            check: f.key.clone(),
            message: format!("{} ({}): {} -> {}", f.what, f.cite, f.call, f.answer),
            span: None,
        });
        step.fix = Some(format!(
            "`scimcheck explore --tenant-size {} --budget 10` shows it again",
            scaled.size
        ));
    }
    let outcome = match scaled.finding {
        Some(_) => Outcome::Failed,
        None => Outcome::Passed,
    };
    ScenarioResult {
        full_name: "explore::scale::tenant".into(),
        profile: Some("rfc"),
        unclaimed_feature: false,
        interrupted: false,
        suite_source: "(exploration: scale phase)".into(),
        outcome,
        steps: vec![step],
        cleanups: Vec::new(),
        elapsed: scaled.elapsed,
        verifies: Vec::new(),
        under_concurrency: Vec::new(),
    }
}

/// What the sweep after creates of unknown outcome found and removed.
pub fn swept(
    swept: Option<&Result<crate::cleanup::CleanupReport, String>>,
    secrets: &[String],
) -> String {
    let text = match swept {
        None => return String::new(),
        Some(Err(why)) => format!(
            "\nSome creates answered an error or no id; the run's resources could not be looked for by name ({why}): `scimcheck cleanup --run-id <the run id below>` tries again\n"
        ),
        Some(Ok(report)) => {
            let mut text = format!(
                "\nSome creates answered an error or no id; looked for the run's resources by name: {} deleted\n",
                report.deleted.len()
            );
            for failed in &report.failed {
                text.push_str(&format!("  NOT deleted {failed}\n"));
            }
            text
        }
    };
    shown(&text, secrets)
}

/// What could not be cleaned up, so a person can remove it.
pub fn leftovers(results: &[crate::exec::ScenarioResult], secrets: &[String]) -> String {
    let mut out = String::new();
    for result in results {
        // A resource left alone is someone else's now: not to be removed.
        for cleanup in result.cleanups.iter().filter(|c| !c.left_alone) {
            match (&cleanup.problem, &cleanup.exchange) {
                (Some(problem), Some(exchange)) => out.push_str(&format!(
                    "  {} {} ({problem})\n",
                    exchange.request.method, exchange.request.url
                )),
                // No request could be built: the problem names the create.
                (Some(problem), None) => out.push_str(&format!("  {problem}\n")),
                _ => {}
            }
        }
    }
    if out.is_empty() {
        return out;
    }
    redact(
        &format!(
            "\nNot cleaned up (retry with `scimcheck cleanup --run-id <the run id below>`, or remove by hand):\n{out}"
        ),
        secrets,
    )
}
