//! The `scimcheck` command: a thin layer over the library.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};
use scimcheck::check::snapshot::SnapshotStore;
use scimcheck::double::plain::PlainDouble;
use scimcheck::double::variant::{Variant, Variants};
use scimcheck::exec::Interrupt;
use scimcheck::live::{Display, Live};
use scimcheck::report::{RunInfo, Tally, har, html, json, junit, verdict};
use scimcheck::runner::{self, LoadError, RunError, RunSettings, SuiteSources, exit};
use scimcheck::target::{Auth, Target, redact};

#[derive(Parser)]
#[command(
    name = "scimcheck",
    version,
    about = "SCIM 2.0 conformance tests: replays what Entra ID and Okta send and checks the answers"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the suites against a SCIM endpoint (or, with no --base-url, the built-in double).
    Run(Box<RunArgs>),
    /// List the scenarios the suites hold.
    List(SuiteArgs),
    /// Serve the built-in SCIM double on 127.0.0.1, in memory, until interrupted.
    Serve(ServeArgs),
    /// Delete what a run left behind: users and groups named `scimcheck-<run id>...`.
    Cleanup(CleanupArgs),
    /// Print a built-in suite's YAML, by suite (`entra::users`) or scenario name.
    Show {
        /// A suite or scenario name, as `list` prints it.
        name: String,
    },
    /// Replay what a customer's Entra tenant sends: derive the traffic of an
    /// exported provisioning configuration as suites, write them, and run them.
    Replay(Box<ReplayArgs>),
    /// Load an endpoint as an Entra initial cycle would (match and create
    /// each user, then update and disable some), and judge whether it takes it.
    Load(Box<LoadArgs>),
    /// List the requirements of RFC 7643, RFC 7644 and the clients that the
    /// checks verify, with how many built-in checks cite each.
    Requirements {
        /// `text` (a table) or `json` (an array of objects).
        #[arg(long, default_value = "text", value_parser = ["text", "json"])]
        format: String,
    },
    /// Work with the built-in suites.
    Suites {
        #[command(subcommand)]
        command: SuitesCommand,
    },
}

#[derive(Subcommand)]
enum SuitesCommand {
    /// Write every built-in suite into DIR, ready to edit and run with
    /// `scimcheck run --no-builtin --suites DIR`.
    Export {
        /// A folder that does not hold them yet.
        dir: PathBuf,
    },
}

#[derive(Args)]
struct SuiteArgs {
    /// A folder of suite files, added to the built-in ones (repeatable).
    #[arg(long = "suites", value_name = "DIR")]
    suites: Vec<PathBuf>,
    /// Run only the suites given with --suites.
    #[arg(long)]
    no_builtin: bool,
    /// Keep scenarios whose name contains this, or with `tag:NAME` a tag (repeatable).
    #[arg(long = "filter", value_name = "TEXT")]
    filters: Vec<String>,
    /// Replay these clients only: entra, entra-legacy, okta, rfc (comma-separated or repeated; default all).
    #[arg(long = "profile", value_name = "PROFILE", value_delimiter = ',', value_parser = ["entra", "entra-legacy", "okta", "rfc"])]
    profiles: Vec<String>,
}

#[derive(Args)]
struct TargetArgs {
    /// The SCIM base URL, such as https://example.com/scim/v2.
    #[arg(long, value_name = "URL")]
    base_url: Option<String>,
    /// A bearer token.
    #[arg(
        long,
        env = "SCIM_TOKEN",
        hide_env_values = true,
        conflicts_with = "basic"
    )]
    token: Option<String>,
    /// Basic credentials, as USER:PASSWORD.
    #[arg(
        long,
        value_name = "USER:PASSWORD",
        env = "SCIM_BASIC",
        hide_env_values = true
    )]
    basic: Option<String>,
    /// An extra header for every request, as `Name: value` (repeatable; values are secrets).
    #[arg(long = "header", value_name = "NAME: VALUE")]
    headers: Vec<String>,
    /// Seconds a request may take, all told.
    #[arg(long, default_value_t = 30, value_parser = at_most::<3600>)]
    timeout: u64,
    /// Seconds a connection may take to open.
    #[arg(long, default_value_t = 10, value_parser = at_most::<3600>)]
    connect_timeout: u64,
    /// The most bytes of a response body read.
    #[arg(long, default_value_t = 10 * 1024 * 1024)]
    max_body: usize,
    /// At most this many requests a second; 0 for no limit [default: 25 against
    /// --base-url, the rate Entra asks gallery apps to sustain; no limit against
    /// the built-in double].
    #[arg(long, value_name = "N", value_parser = parse_rate)]
    rate: Option<f64>,
    /// How often a request answered 429 is sent again.
    #[arg(long, default_value_t = 3, value_parser = at_most_u32::<100>)]
    max_retries: u32,
    /// The longest wait in seconds before a retry, whatever Retry-After asks.
    #[arg(long, default_value_t = 30, value_parser = at_most::<3600>)]
    max_retry_wait: u64,
    /// Do not verify TLS certificates (never against a production tenant).
    #[arg(long)]
    insecure: bool,
    /// A PEM CA certificate to trust in addition to the system's.
    #[arg(long, value_name = "PATH")]
    ca_cert: Option<PathBuf>,
}

#[derive(Args)]
struct RunArgs {
    #[command(flatten)]
    suites: SuiteArgs,
    #[command(flatten)]
    target: TargetArgs,
    /// How many scenarios run at once.
    #[arg(long, default_value_t = 4)]
    concurrency: usize,
    /// Where snapshots live.
    #[arg(long, default_value = "snapshots", value_name = "DIR")]
    snapshots: PathBuf,
    /// Write new or changed snapshots instead of failing on them.
    #[arg(long)]
    accept_snapshots: bool,
    /// Fail the run on advice (SHOULD-level findings) too.
    #[arg(long)]
    strict: bool,
    /// Also write a report, as KIND=PATH with KIND junit, json, har or html (repeatable).
    #[arg(long = "report", value_name = "KIND=PATH", value_parser = parse_report)]
    reports: Vec<(ReportKind, PathBuf)>,
    /// Overwrite report files that already exist.
    #[arg(long)]
    force: bool,
    /// Print every exchange as it finishes: request and answer, bodies excerpted.
    #[arg(long, short)]
    verbose: bool,
}

#[derive(Args)]
struct ReplayArgs {
    /// The provisioning configuration: the schema editor's Download, or Graph's
    /// GET /servicePrincipals/{id}/synchronization/jobs/{jobId}/schema.
    #[arg(long, value_name = "FILE", required_unless_present_any = ["entra_log", "okta_mapping"])]
    entra_schema: Option<PathBuf>,
    /// Okta's profile mapping (GET /api/v1/mappings/{id}): Okta's traffic for
    /// the users instead of Entra's.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["entra_schema", "entra_log"])]
    okta_mapping: Option<PathBuf>,
    /// The provisioning logs' JSON download (or Graph's provisioningObjectSummary
    /// list), or the first file of the CSV download (the other two are read
    /// from beside it): the chosen changes are replayed, beside what the app
    /// answered then.
    #[arg(long, value_name = "FILE")]
    entra_log: Option<PathBuf>,
    /// With --entra-log: the change to replay, by its changeId.
    #[arg(
        long,
        value_name = "ID",
        requires = "entra_log",
        conflicts_with = "user"
    )]
    change_id: Option<String>,
    /// With --entra-log: every change of this user (user principal name or display name).
    #[arg(long, value_name = "UPN", requires = "entra_log")]
    user: Option<String>,
    /// The users to provision: a JSON list of user objects as Graph returns them
    /// (default: a built-in set).
    #[arg(long, value_name = "FILE")]
    users: Option<PathBuf>,
    /// Where the derived suites are written, to run again with
    /// `scimcheck run --no-builtin --suites DIR` (an edited file is never overwritten).
    #[arg(long, value_name = "DIR", default_value = "scimcheck-replay")]
    emit_suite: PathBuf,
    /// Seeds Guid(), RandomString() and Test Connection's random id (default: from the export).
    #[arg(long)]
    seed: Option<u64>,
    #[command(flatten)]
    run: RunArgs,
}

#[derive(Args)]
struct LoadArgs {
    /// How many users the initial cycle provisions (each: a match, then a create).
    #[arg(long, required_unless_present = "raw", default_value_t = 0, value_parser = count::<10_000_000>)]
    users: usize,
    /// Groups created after the users (per tenant), matched by displayName
    /// and created empty, as Entra does.
    #[arg(long, default_value_t = 0, value_parser = count::<1_000_000>)]
    groups: usize,
    /// Members of each group, added by PATCH once the group exists.
    #[arg(long, requires = "groups", default_value_t = 0, value_parser = count::<10_000_000>)]
    members: usize,
    /// Members in each PATCH that adds them (Entra's SCIM guide shows one;
    /// several go in one Add operation).
    #[arg(long, value_name = "B", default_value_t = 1, value_parser = count::<10_000>)]
    member_batch: usize,
    /// At most this many requests under way at once (per tenant).
    #[arg(long, default_value_t = 16, value_parser = count::<10_000>)]
    concurrency: usize,
    /// Run this many tenants' jobs at once, each with --users at --rate (a
    /// multi-tenant app sees tenants x the rate).
    #[arg(long, default_value_t = 1, value_parser = count::<1_000>)]
    tenants: usize,
    /// Never more requests than this, cleanup aside [default: twice those planned].
    #[arg(long, value_name = "K", value_parser = at_most::<1_000_000_000>)]
    max_requests: Option<u64>,
    /// Never longer than this many seconds, cleanup aside (at most a week).
    #[arg(long, value_name = "SECONDS", default_value_t = 600, value_parser = at_most::<604_800>)]
    duration: u64,
    /// The p99 latency each operation must stay under, in milliseconds.
    #[arg(long, value_name = "MS", default_value_t = 1000)]
    p99: u64,
    /// Also say how long an initial cycle of this many users would take.
    #[arg(long, value_name = "USERS")]
    project: Option<u64>,
    /// Load a target that is not on loopback without asking.
    #[arg(long)]
    yes: bool,
    /// Only match GETs (--max-requests of them, default 10,000), nothing
    /// created: the client's own throughput, to compare with other tools.
    #[arg(long)]
    raw: bool,
    /// Also write the report as json=PATH (percentiles, per-second series,
    /// verdict) or html=PATH (the verdict, latency over time as a plot, the
    /// percentile table); repeat for both.
    #[arg(long = "report", value_name = "FORMAT=PATH")]
    report: Vec<String>,
    /// Write the same load as a Locust locustfile (locust=FILE), for a load
    /// that needs several machines, and send nothing.
    #[arg(long, value_name = "locust=FILE", conflicts_with = "raw")]
    export: Option<String>,
    /// Overwrite report and export files that already exist.
    #[arg(long)]
    force: bool,
    #[command(flatten)]
    target: TargetArgs,
}

#[derive(Args)]
struct CleanupArgs {
    /// The run whose leftovers to delete, as printed at the end of a run.
    #[arg(long, value_name = "ID")]
    run_id: String,
    #[command(flatten)]
    target: TargetArgs,
}

#[derive(Debug, Clone, Copy)]
enum ReportKind {
    Junit,
    Json,
    Har,
    Html,
}

/// `--rate`: requests a second, finite, 0 (no limit) or from 0.001 to 100,000.
fn parse_rate(text: &str) -> Result<f64, String> {
    let rate: f64 = text
        .parse()
        .map_err(|_| format!("`{text}` is not a number"))?;
    if rate == 0.0 || (rate.is_finite() && (0.001..=100_000.0).contains(&rate)) {
        Ok(rate)
    } else {
        Err(format!(
            "`{text}` is not a rate: give requests a second from 0.001 to 100000, or 0 for no limit"
        ))
    }
}

/// A whole number from 0 to `MAX`.
fn at_most<const MAX: u64>(text: &str) -> Result<u64, String> {
    let n: u64 = text
        .parse()
        .map_err(|_| format!("`{text}` is not a whole number"))?;
    if n > MAX {
        return Err(format!("{n} is more than the most allowed, {MAX}"));
    }
    Ok(n)
}

/// [`at_most`] for a u32 option.
fn at_most_u32<const MAX: u64>(text: &str) -> Result<u32, String> {
    at_most::<MAX>(text).map(|n| n as u32)
}

/// [`at_most`] for a count of things.
fn count<const MAX: u64>(text: &str) -> Result<usize, String> {
    at_most::<MAX>(text).map(|n| n as usize)
}

/// Refuses to write over a file that exists unless `--force` says so: a
/// report path mistyped as a suite's would destroy it.
fn refuse_overwrite<'a>(
    paths: impl IntoIterator<Item = &'a std::path::Path>,
    force: bool,
) -> Result<(), u8> {
    if force {
        return Ok(());
    }
    for path in paths {
        if path.exists() {
            eprintln!(
                "scimcheck: {} exists: --force overwrites it; nothing was sent",
                path.display()
            );
            return Err(exit::USAGE);
        }
    }
    Ok(())
}

fn parse_report(text: &str) -> Result<(ReportKind, PathBuf), String> {
    let (kind, path) = text
        .split_once('=')
        .ok_or_else(|| format!("`{text}` is not KIND=PATH, as in junit=report.xml"))?;
    let kind = match kind {
        "junit" => ReportKind::Junit,
        "json" => ReportKind::Json,
        "har" => ReportKind::Har,
        "html" => ReportKind::Html,
        other => {
            return Err(format!(
                "unknown report kind `{other}`; the kinds are: junit, json, har, html"
            ));
        }
    };
    if path.is_empty() {
        return Err("the report needs a path after `=`".into());
    }
    Ok((kind, PathBuf::from(path)))
}

#[derive(Args)]
struct ServeArgs {
    /// The port on 127.0.0.1 (0 picks a free one).
    #[arg(long, default_value_t = 8080)]
    port: u16,
    /// Require this bearer token. SCIM_TOKEN is not read unless --token-env names it:
    /// a production token exported for `run` must not become the sandbox's.
    #[arg(long, conflicts_with = "token_env")]
    token: Option<String>,
    /// Require the bearer token held by this environment variable (such as SCIM_TOKEN).
    #[arg(long, value_name = "NAME")]
    token_env: Option<String>,
    /// Require no token at all (any process on this machine may then read
    /// and write the sandbox). Without any of these, a token is generated and printed.
    #[arg(long, conflicts_with_all = ["token", "token_env"])]
    no_auth: bool,
    /// The most users and groups held at once; a create beyond them is answered 507.
    #[arg(long, value_name = "N", default_value_t = scimcheck::double::service::MAX_RESOURCES, value_parser = count::<100_000_000>)]
    max_resources: usize,
    /// RFC-legal choices to make differently, comma-separated (see `--variant help`):
    /// patch-204, short-ids, no-etag, no-sort, no-bulk, no-change-password,
    /// no-root-search, no-me, no-user-groups, empty-list-without-resources, eq-and-only, no-search,
    /// strict-user.
    #[arg(long = "variant", value_name = "NAME,...")]
    variants: Option<String>,
}

/// Requests a second against a real target unless --rate says otherwise.
const DEFAULT_RATE: f64 = 25.0;

// mimalloc: the load's client and the replay's derivation allocate and free
// small objects by the million; glibc's free-list upkeep was their largest
// single cost under perf.
#[cfg(feature = "mimalloc")]
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let code = match cli.command {
        Command::Run(args) => run(*args),
        Command::List(args) => list(&args),
        Command::Serve(args) => serve(args),
        Command::Cleanup(args) => cleanup(args),
        Command::Show { name } => show(&name),
        Command::Replay(args) => replay(*args),
        Command::Load(args) => load_test(*args),
        Command::Requirements { format } => requirements(&format),
        Command::Suites {
            command: SuitesCommand::Export { dir },
        } => export(&dir),
    };
    ExitCode::from(code)
}

/// Prints to stdout, ignoring a closed pipe (`scimcheck run | head`): the
/// run and its cleanups go on whatever happens to the reader.
macro_rules! out {
    ($($arg:tt)*) => {{
        use std::io::Write;
        // Server text reaches the terminal escaped: no control sequence of
        // a server's runs on the user's terminal.
        let text = format!($($arg)*);
        let _ = write!(std::io::stdout(), "{}", scimcheck::target::printable(&text));
    }};
}

/// Text for the terminal: secrets redacted, control characters escaped.
fn shown(text: &str, secrets: &[String]) -> String {
    scimcheck::target::printable(&redact(text, secrets)).into_owned()
}

/// [`out!`] with a newline.
macro_rules! outln {
    ($($arg:tt)*) => {{
        use std::io::Write;
        let text = format!($($arg)*);
        let _ = writeln!(std::io::stdout(), "{}", scimcheck::target::printable(&text));
    }};
}

fn sources(args: &SuiteArgs) -> SuiteSources {
    SuiteSources {
        builtin: !args.no_builtin,
        dirs: args.suites.clone(),
    }
}

fn load(args: &SuiteArgs) -> Result<scimcheck::plan::Plan, u8> {
    match runner::load_plan(&sources(args)) {
        Ok(plan) => {
            let profiles: Vec<_> = args
                .profiles
                .iter()
                .filter_map(|p| verdict::profile(p))
                .collect();
            Ok(runner::select(
                runner::select_profiles(plan, &profiles),
                &args.filters,
            ))
        }
        Err(LoadError::Suites(diagnostics)) => {
            eprint!("{diagnostics}");
            eprintln!(
                "\nscimcheck: {} mistake(s) in the suites; nothing was sent",
                diagnostics.0.len()
            );
            Err(exit::USAGE)
        }
        Err(e @ LoadError::Io { .. }) => {
            eprintln!("scimcheck: {e}");
            Err(exit::USAGE)
        }
    }
}

fn requirements(format: &str) -> u8 {
    let plan = match scimcheck::runner::builtin_checks() {
        Ok(plan) => plan,
        Err(why) => {
            eprintln!("scimcheck: {why}");
            return exit::USAGE;
        }
    };
    let listed = scimcheck::requirements::listing(&plan);
    if format == "json" {
        println!(
            "{}",
            serde_json::to_string_pretty(&listed).unwrap_or_default()
        );
        return exit::PASSED;
    }
    for r in &listed {
        let checks = match (r.testable, r.checks) {
            (false, _) => "not testable".to_string(),
            (true, 1) => "1 check".to_string(),
            (true, n) => format!("{n} checks"),
        };
        outln!(
            "{:<52} {:<6} {:<13} {}",
            r.id,
            r.level.name(),
            checks,
            r.says
        );
    }
    let must: Vec<_> = listed
        .iter()
        .filter(|r| r.level == scimcheck::requirements::Level::Must)
        .collect();
    let testable = must.iter().filter(|r| r.testable).count();
    let covered = must.iter().filter(|r| r.testable && r.checks > 0).count();
    outln!(
        "\n{} requirements ({} MUST, {} SHOULD, {} MAY); {covered} of {testable} testable MUSTs have a check",
        listed.len(),
        must.len(),
        listed
            .iter()
            .filter(|r| r.level == scimcheck::requirements::Level::Should)
            .count(),
        listed
            .iter()
            .filter(|r| r.level == scimcheck::requirements::Level::May)
            .count(),
    );
    exit::PASSED
}

fn list(args: &SuiteArgs) -> u8 {
    let plan = match load(args) {
        Ok(plan) => plan,
        Err(code) => return code,
    };
    for (suite, scenario) in plan.scenarios() {
        let tags: Vec<&String> = suite.tags.iter().chain(&scenario.tags).collect();
        let tags = if tags.is_empty() {
            String::new()
        } else {
            format!(
                "  [{}]",
                tags.iter()
                    .map(|t| t.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        };
        println!("{}{tags}", scenario.full_name);
    }
    exit::PASSED
}

fn target(args: &TargetArgs, base_url: &str) -> Result<Target, String> {
    let mut target = Target::new(base_url);
    if let Some(token) = &args.token {
        target.auth = Auth::Bearer(token.clone());
    }
    if let Some(basic) = &args.basic {
        let (user, password) = basic.split_once(':').ok_or("--basic takes USER:PASSWORD")?;
        target.auth = Auth::Basic {
            user: user.to_string(),
            password: password.to_string(),
        };
    }
    for header in &args.headers {
        let (name, value) = header.split_once(':').ok_or_else(|| {
            format!(
                "--header takes `Name: value`, got `{}`",
                header.split(':').next().unwrap_or("")
            )
        })?;
        target
            .headers
            .push((name.trim().to_string(), value.trim().to_string()));
    }
    target.insecure = args.insecure;
    target.ca_cert = args.ca_cert.clone();
    target.timeout = Duration::from_secs(args.timeout.max(1));
    target.connect_timeout = Duration::from_secs(args.connect_timeout.max(1));
    target.max_body = args.max_body;
    target.max_retries = args.max_retries;
    target.max_retry_wait = Duration::from_secs(args.max_retry_wait);
    Ok(target)
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime starts")
}

fn run(args: RunArgs) -> u8 {
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
        // A real tenant gets Entra's own pace (gallery apps are asked to
        // sustain 25 requests a second per tenant), so a run is never harsher
        // than Entra itself; the built-in double none.
        target.rate = match (args.target.rate, &double) {
            (Some(rate), _) => Some(rate),
            (None, Some(_)) => None,
            (None, None) => Some(DEFAULT_RATE),
        };
        let secrets = target.secrets();
        if secrets.iter().any(|s| s.chars().count() < scimcheck::target::SHORT_SECRET) {
            eprintln!(
                "scimcheck: a credential is shorter than {} characters: it is redacted where it stands alone, not inside other words, so it may show within them",
                scimcheck::target::SHORT_SECRET
            );
        }
        // One message, before anything else, for a target that is not there,
        // refuses the credentials or has no SCIM endpoint at that path.
        let probed = match runner::preflight(&target).await {
            Ok(probed) => probed,
            Err(e) => {
                eprintln!("scimcheck: {}", shown(&e.to_string(), &secrets));
                return match e {
                    RunError::Setup(_) => exit::USAGE,
                    _ => exit::UNREACHABLE,
                };
            }
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
            eprintln!("scimcheck: no scenario matches the filters");
            return exit::USAGE;
        }
        let scenarios = plan.scenarios().count();
        // Named before the first write, so that a killed run can be cleaned up.
        let run_id = scimcheck::exec::new_run_id();
        match &double {
            Some(_) => outln!("scimcheck: no --base-url given, running {scenarios} scenarios against the built-in SCIM double at {base_url} (run {run_id})"
            ),
            None => outln!("scimcheck: running {scenarios} scenarios against {} (run {run_id})", redact(&base_url, &secrets)),
        }
        let interrupt = Interrupt::default();
        let live = std::sync::Arc::new(Live::new(scenarios, Display::detect(), secrets.clone(), args.verbose));
        on_interrupt(interrupt.clone(), live.clone(), run_id.clone());
        let settings = RunSettings {
            target,
            concurrency: args.concurrency,
            snapshots: SnapshotStore {
                dir: args.snapshots.clone(),
                accept: args.accept_snapshots,
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
                return exit::UNREACHABLE;
            }
            Err(e) => {
                eprintln!("scimcheck: {}", shown(&e.to_string(), &secrets));
                return exit::USAGE;
            }
        };
        let verdicts = verdict::verdicts(&report.results);
        out!("{}", verdict::render(&verdicts, &secrets));
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
                return exit::USAGE;
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
            exit::INTERRUPTED
        } else if tally.failed > 0 || (args.strict && tally.advice > 0) {
            exit::FAILED
        } else {
            exit::PASSED
        }
    })
}

/// The target the arguments name, or, without --base-url, the built-in
/// double (requiring `token`, or a fresh one), which lives as long as the
/// returned handle. A bad base URL is a usage error with nothing sent.
async fn target_or_double(
    args: &TargetArgs,
    token: Option<String>,
) -> Result<(Target, Option<PlainDouble>), u8> {
    let double = match &args.base_url {
        Some(_) => None,
        None => {
            let token = token.unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
            match PlainDouble::start(None, Some(token), Default::default()).await {
                Ok(double) => Some(double),
                Err(e) => {
                    eprintln!("scimcheck: cannot start the built-in double on loopback: {e}");
                    return Err(exit::USAGE);
                }
            }
        }
    };
    let base_url = match (&args.base_url, &double) {
        (Some(url), _) => url.clone(),
        (_, Some(d)) => d.base_url(),
        (None, None) => unreachable!("a double is started when no URL is given"),
    };
    let mut target = target(args, &base_url).map_err(|e| {
        eprintln!("scimcheck: {e}");
        exit::USAGE
    })?;
    if let Some(double) = &double {
        target.auth = Auth::Bearer(double.token().unwrap_or_default());
    }
    if let Err(e) = runner::check_base_url(&target.base_url) {
        eprintln!("scimcheck: {e}; nothing was sent");
        return Err(exit::USAGE);
    }
    Ok((target, double))
}

/// Whether a base URL's host is this machine.
fn is_loopback(base_url: &str) -> bool {
    let host = base_url
        .split_once("://")
        .map_or(base_url, |(_, rest)| rest)
        .split(['/', '?'])
        .next()
        .unwrap_or_default();
    let host = host.rsplit_once('@').map_or(host, |(_, h)| h);
    let host = match host.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or_default(),
        None => host.split(':').next().unwrap_or_default(),
    };
    host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

fn load_test(args: LoadArgs) -> u8 {
    use scimcheck::load::{self, verdict};
    let mut reports = Vec::new();
    for spec in &args.report {
        match spec.split_once('=') {
            Some((kind @ ("json" | "html"), path)) if !path.is_empty() => {
                reports.push((kind, PathBuf::from(path)));
            }
            _ => {
                eprintln!(
                    "scimcheck: --report takes json=PATH or html=PATH, not {spec:?}; nothing was sent"
                );
                return exit::USAGE;
            }
        }
    }
    if args.tenants == 0 {
        eprintln!("scimcheck: --tenants must be at least 1; nothing was sent");
        return exit::USAGE;
    }
    let exported = args
        .export
        .as_deref()
        .and_then(|spec| spec.strip_prefix("locust="))
        .map(std::path::Path::new);
    if let Err(code) = refuse_overwrite(
        reports.iter().map(|(_, p)| p.as_path()).chain(exported),
        args.force,
    ) {
        return code;
    }
    // T jobs at once: the sum of their users, rates and connections.
    let rate = args.target.rate.unwrap_or(DEFAULT_RATE) * args.tenants as f64;
    let mut options = load::LoadOptions {
        users: args.users * args.tenants,
        tenants: args.tenants,
        rate,
        concurrency: args.concurrency * args.tenants,
        max_requests: 0,
        duration: Duration::from_secs(args.duration.max(1)),
        stop_above_failure_ratio: 0.4,
        run_id: scimcheck::exec::new_run_id(),
        raw: args.raw,
        groups: args.groups * args.tenants,
        members: args.members,
        member_batch: args.member_batch,
    };
    if args.tenants > 1 {
        outln!(
            "scimcheck: load: {} tenants, each {} users at {} requests a second",
            args.tenants,
            args.users,
            args.target.rate.unwrap_or(DEFAULT_RATE)
        );
    }
    options.max_requests = match (args.max_requests, args.raw) {
        (Some(k), _) => k,
        (None, true) => 10_000,
        (None, false) => 2 * options.planned_requests(),
    };
    if let Err(e) = options.check() {
        eprintln!("scimcheck: {e}; nothing was sent");
        return exit::USAGE;
    }
    if let Some(spec) = &args.export {
        return export_load(spec, &options, &args.target);
    }
    runtime().block_on(async move {
        let (target, _double) = match target_or_double(&args.target, None).await {
            Ok(t) => t,
            Err(code) => return code,
        };
        let secrets = target.secrets();
        let planned = options.planned_requests().min(options.max_requests);
        let seconds = (planned as f64 / rate).ceil() as u64;
        if !is_loopback(&target.base_url) && !args.yes {
            // A raw run has no pace: its bound is the number of GETs.
            let ask = if options.raw {
                format!(
                    "scimcheck: load sends up to {} GETs to {} as fast as it answers (at most {} s), and creates nothing",
                    options.max_requests,
                    redact(&target.base_url, &secrets),
                    options.duration.as_secs()
                )
            } else {
                format!(
                    "scimcheck: load sends about {planned} requests over about {} to {} (at most {} requests, at most {} s), and deletes the {} users and {} groups it creates",
                    verdict::human(Duration::from_secs(seconds)),
                    redact(&target.base_url, &secrets),
                    options.max_requests,
                    options.duration.as_secs(),
                    options.users,
                    options.groups
                )
            };
            use std::io::IsTerminal;
            if !std::io::stdin().is_terminal() {
                eprintln!("{ask}: not on loopback, so it needs --yes; nothing was sent");
                return exit::USAGE;
            }
            eprint!("{ask}. Go on? [y/N] ");
            let mut answer = String::new();
            let _ = std::io::stdin().read_line(&mut answer);
            if !answer.trim().eq_ignore_ascii_case("y") {
                eprintln!("scimcheck: not started; nothing was sent");
                return exit::USAGE;
            }
        }
        if let Err(e) = runner::preflight(&target).await {
            eprintln!("scimcheck: {}", shown(&e.to_string(), &secrets));
            return match e {
                RunError::Setup(_) => exit::USAGE,
                _ => exit::UNREACHABLE,
            };
        }
        let pace = if options.raw {
            format!(
                "raw, match GETs as fast as the server answers, at most {}",
                options.max_requests
            )
        } else {
            format!("{} users at {rate} requests a second", options.users)
        };
        outln!(
            "scimcheck: load: {pace}, {} at most under way, against {} (run {})",
            options.concurrency,
            redact(&target.base_url, &secrets),
            options.run_id
        );
        let interrupt = Interrupt::default();
        let run_id = options.run_id.clone();
        scimcheck::signals::watch(
            interrupt.clone(),
            || eprintln!("scimcheck: interrupted; no new user starts, the requests under way finish, then everything created is deleted (a second signal stops at once)"),
            move || eprintln!("{}", killed(&run_id)),
        );
        // A live line on a terminal; a plain line every 5 s when piped.
        let progress = std::sync::Arc::new(load::Progress::default());
        let total = planned;
        let view = {
            let progress = progress.clone();
            let interrupt = interrupt.clone();
            tokio::spawn(async move { show_progress(&progress, total, &interrupt).await })
        };
        let result = load::run_with_progress(&target, &options, &interrupt, &progress).await;
        view.abort();
        if let Some(bar) = LOAD_BAR.get() {
            bar.finish_and_clear();
        }
        let report = match result {
            Ok(r) => r,
            Err(e) => {
                eprintln!("scimcheck: {}", shown(&e, &secrets));
                return exit::USAGE;
            }
        };
        let lines = verdict::judge(&report, &verdict::Expectations {
            rate,
            p99: Duration::from_millis(args.p99),
            project: args.project,
        });
        out!("{}", redact(&verdict::render(&report, &lines), &secrets));
        for (kind, path) in &reports {
            let text = match *kind {
                "html" => load::html::render(&report, &lines, &load::html::PageInfo {
                    target: redact(&target.base_url, &secrets),
                    run_id: options.run_id.clone(),
                    asked: asked(&options),
                    p99_threshold_ms: args.p99 as f64,
                }),
                _ => serde_json::to_string_pretty(&verdict::json(&report, &lines)).unwrap_or_default(),
            };
            if let Err(e) = std::fs::write(path, redact(&text, &secrets)) {
                eprintln!("scimcheck: cannot write the report {}: {e}", path.display());
                return exit::USAGE;
            }
        }
        if interrupt.is_set() {
            exit::INTERRUPTED
        } else if lines.iter().any(|l| l.level == verdict::Level::Fail) || !report.left.is_empty() {
            exit::FAILED
        } else {
            exit::PASSED
        }
    })
}

/// `--export locust=FILE`: writes the locustfile and says how to run it.
fn export_load(spec: &str, options: &scimcheck::load::LoadOptions, target: &TargetArgs) -> u8 {
    let Some(path) = spec.strip_prefix("locust=").filter(|p| !p.is_empty()) else {
        eprintln!("scimcheck: --export takes locust=FILE, not {spec:?}; nothing was written");
        return exit::USAGE;
    };
    // `scimcheck serve`'s address when no target is given.
    let host = target
        .base_url
        .clone()
        .unwrap_or_else(|| "http://127.0.0.1:8080".to_string());
    let file = match scimcheck::load::locust::render(options, &host, path, &asked(options)) {
        Ok(file) => file,
        Err(e) => {
            eprintln!("scimcheck: {e}");
            return exit::USAGE;
        }
    };
    if let Err(e) = std::fs::write(path, file) {
        eprintln!("scimcheck: cannot write {path}: {e}");
        return exit::USAGE;
    }
    outln!(
        "scimcheck: wrote {path} (run {}); nothing was sent. Run it with:\n  SCIM_TOKEN=... locust -f {path} --headless --host {host} -u {c} -r {c}\nand remove what a crash leaves with: scimcheck cleanup --run-id {} --base-url {host}",
        options.run_id,
        options.run_id,
        c = options.concurrency,
    );
    exit::PASSED
}

/// What a load asked, in words, for its report.
fn asked(options: &scimcheck::load::LoadOptions) -> String {
    let mut words = format!("{} users", options.users);
    if options.groups > 0 {
        words.push_str(&format!(
            ", {} groups of {} members ({} a PATCH)",
            options.groups, options.members, options.member_batch
        ));
    }
    words.push_str(&format!(
        ", {} requests a second asked, at most {} under way",
        options.rate, options.concurrency
    ));
    if options.tenants > 1 {
        words.push_str(&format!(", {} tenants", options.tenants));
    }
    words
}

/// The live bar of a load run on a terminal, cleared before the report.
static LOAD_BAR: std::sync::OnceLock<indicatif::ProgressBar> = std::sync::OnceLock::new();

/// Shows a load's progress: a bar on a terminal, else a line every 5 s.
async fn show_progress(progress: &scimcheck::load::Progress, total: u64, interrupt: &Interrupt) {
    use std::io::IsTerminal;
    use std::sync::atomic::Ordering;
    let started = std::time::Instant::now();
    let line = || {
        let done = progress.done.load(Ordering::Relaxed);
        let failed = progress.failed.load(Ordering::Relaxed);
        let rate = done as f64 / started.elapsed().as_secs_f64().max(1e-3);
        (
            done,
            format!("{done}/{total} requests, {failed} failed, {rate:.1}/s"),
        )
    };
    if std::io::stdout().is_terminal() {
        let bar = LOAD_BAR.get_or_init(|| {
            let bar = indicatif::ProgressBar::new(total);
            if let Ok(style) =
                indicatif::ProgressStyle::with_template("{spinner} [{elapsed}] {bar:30} {wide_msg}")
            {
                bar.set_style(style);
            }
            bar
        });
        while !interrupt.is_set() {
            let (done, text) = line();
            bar.set_position(done);
            bar.set_message(text);
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        bar.finish_and_clear();
    } else {
        loop {
            tokio::time::sleep(Duration::from_secs(5)).await;
            if interrupt.is_set() {
                break;
            }
            outln!("scimcheck: load: {}", line().1);
        }
    }
}

/// Derives the suites of an Entra export, writes them, and runs them as
/// `run --no-builtin --suites DIR` would. Bad input stops before anything is sent.
fn replay(args: ReplayArgs) -> u8 {
    use scimcheck::generate::entra::{export, traffic, users};
    let read = |path: &std::path::Path| {
        std::fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))
    };
    if let Some(mapping) = args.okta_mapping.clone() {
        let files = match okta_suite(&mapping) {
            Ok(files) => files,
            Err(e) => {
                eprintln!("scimcheck: {}: {e}\nnothing was sent", mapping.display());
                return exit::USAGE;
            }
        };
        return write_and_run(args, files);
    }
    let config = match &args.entra_schema {
        None => None,
        Some(path) => {
            let file = path.display().to_string();
            match read(path).and_then(|text| {
                export::read(&text)
                    .map(|c| (c, text))
                    .map_err(|e| e.to_string())
            }) {
                Ok(c) => Some((c, file)),
                Err(e) => {
                    eprintln!("scimcheck: {file}: {e}\nnothing was sent");
                    return exit::USAGE;
                }
            }
        }
    };
    if let Some(log) = args.entra_log.clone() {
        let files = match log_suite(&log, config.as_ref().map(|(c, _)| &c.0), &args) {
            Ok(files) => files,
            Err(e) => {
                eprintln!("scimcheck: {}: {e}\nnothing was sent", log.display());
                return exit::USAGE;
            }
        };
        return write_and_run(args, files);
    }
    let Some(((config, text), file)) = config else {
        unreachable!("clap requires --entra-schema without --entra-log")
    };
    let matching: Vec<String> = config
        .object_mappings
        .iter()
        .flat_map(|m| m.attributes.iter().filter(|a| a.matching_priority > 0))
        .flat_map(|a| a.tree_attributes())
        .collect();
    let sample_users = match &args.users {
        None => users::builtin_users(&matching),
        Some(path) => match read(path).and_then(|t| users::read_users(&t, &matching)) {
            Ok(u) => u,
            Err(e) => {
                eprintln!("scimcheck: {}: {e}\nnothing was sent", path.display());
                return exit::USAGE;
            }
        },
    };
    let seed = args
        .seed
        .unwrap_or_else(|| scimcheck::generate::write::seed_of(&text));
    let options = traffic::Options {
        seed,
        now: time::OffsetDateTime::now_utc(),
        export_name: file_name(&file),
    };
    let derivation =
        match traffic::derive(&config, &sample_users, &users::builtin_groups(), &options) {
            Ok(d) => d,
            Err(e) => {
                eprintln!("scimcheck: {file}: {e}\nnothing was sent");
                return exit::USAGE;
            }
        };
    for note in &derivation.notes {
        outln!("scimcheck: {note}");
    }
    if derivation.suites.is_empty() {
        eprintln!(
            "scimcheck: {file}: no enabled object mapping provisions anything: nothing to replay"
        );
        return exit::USAGE;
    }
    let files: Vec<(String, String, String)> = derivation
        .suites
        .iter()
        .map(|s| {
            (
                s.file_name.clone(),
                s.text(),
                format!("{} scenarios, {} steps", s.scenarios, s.steps),
            )
        })
        .collect();
    write_and_run(args, files)
}

fn file_name(path: &str) -> String {
    std::path::Path::new(path)
        .file_name()
        .map_or_else(|| path.to_string(), |n| n.to_string_lossy().into_owned())
}

/// The suite of the logged changes chosen, as (file name, text, summary).
fn log_suite(
    log: &std::path::Path,
    config: Option<&scimcheck::generate::entra::export::Export>,
    args: &ReplayArgs,
) -> Result<Vec<(String, String, String)>, String> {
    use scimcheck::generate::entra::{logs, users};
    let csv = log
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("csv"));
    let mut changes = if csv {
        scimcheck::generate::entra::logs_csv::read(log)?
    } else {
        let text = std::fs::read_to_string(log).map_err(|e| format!("cannot read it: {e}"))?;
        logs::read(&text)?
    };
    for note in logs::map_targets(&mut changes, config) {
        outln!("scimcheck: {note}");
    }
    let chosen = logs::select(&changes, args.change_id.as_deref(), args.user.as_deref())?;
    for change in &chosen {
        let who = change
            .user_principal_name
            .as_deref()
            .unwrap_or(&change.display_name);
        if change.group {
            outln!(
                "scimcheck: change {} ({} of group {who}): group changes are not replayed from logs",
                change.change_id,
                change.action.name()
            );
            continue;
        }
        outln!(
            "scimcheck: change {} ({} of {who} at {}): {}",
            change.change_id,
            change.action.name(),
            change.when,
            logs::logged_answer(change)
        );
    }
    let name = file_name(&log.display().to_string());
    let suite = users::with_run_id(logs::suite(&chosen, &logs::Matching::of(config), &name));
    let scenarios = suite["scenarios"].as_array().map_or(0, Vec::len);
    if scenarios == 0 {
        return Err("none of the chosen changes is a user's: nothing to replay".into());
    }
    let origin =
        format!("Derived by `scimcheck replay --entra-log {name}` from the logged changes.");
    let body = scimcheck::generate::write::to_yaml(&suite);
    Ok(vec![(
        "entra-log-replay.yaml".into(),
        scimcheck::generate::write::with_header(&origin, &body),
        format!("{scenarios} logged changes"),
    )])
}

/// The suite of Okta's traffic for a profile mapping, as (file name, text, summary).
fn okta_suite(mapping: &std::path::Path) -> Result<Vec<(String, String, String)>, String> {
    use scimcheck::generate::{entra::users, okta};
    let text = std::fs::read_to_string(mapping).map_err(|e| format!("cannot read it: {e}"))?;
    let (properties, notes) = okta::read(&text)?;
    for note in notes {
        outln!("scimcheck: {note}");
    }
    let name = file_name(&mapping.display().to_string());
    let suite = users::with_run_id(okta::suite(&properties, &users::builtin_users(&[]), &name));
    let scenarios = suite["scenarios"].as_array().map_or(0, Vec::len);
    let origin = format!("Derived by `scimcheck replay --okta-mapping {name}`.");
    let body = scimcheck::generate::write::to_yaml(&suite);
    Ok(vec![(
        "okta-replay-users.yaml".into(),
        scimcheck::generate::write::with_header(&origin, &body),
        format!("{scenarios} scenarios"),
    )])
}

/// Writes the derived suites and runs them as `run --no-builtin --suites DIR`.
fn write_and_run(mut args: ReplayArgs, files: Vec<(String, String, String)>) -> u8 {
    let texts: Vec<(String, String)> = files
        .iter()
        .map(|(n, t, _)| (n.clone(), t.clone()))
        .collect();
    match scimcheck::generate::write::write_all(&args.emit_suite, &texts) {
        Ok(paths) => {
            for (path, (_, _, summary)) in paths.iter().zip(&files) {
                outln!(
                    "scimcheck: wrote {} ({summary}); run it again with `scimcheck run --no-builtin --suites {}`",
                    path.display(),
                    args.emit_suite.display()
                );
            }
        }
        Err(e) => {
            eprintln!("scimcheck: {e}; nothing was sent");
            return exit::USAGE;
        }
    }
    args.run.suites.suites = vec![args.emit_suite.clone()];
    args.run.suites.no_builtin = true;
    run(args.run)
}

/// Waits for SIGINT or SIGTERM, then asks the run to wind down; the
/// progress bar goes first, so that nothing is drawn over the message.
fn on_interrupt(interrupt: Interrupt, live: std::sync::Arc<Live>, run_id: String) {
    scimcheck::signals::watch(
        interrupt,
        move || {
            live.interrupt();
            eprintln!(
                "scimcheck: interrupted; no new request starts, the pending cleanups run (at most {} s; a second signal stops at once)",
                scimcheck::exec::CLEANUP_BUDGET.as_secs()
            );
        },
        move || eprintln!("{}", killed(&run_id)),
    );
}

/// What a second signal leaves to the user.
fn killed(run_id: &str) -> String {
    format!(
        "scimcheck: stopped at once by a second signal: cleanups not finished; `scimcheck cleanup --run-id {run_id} --base-url ...` removes what run {run_id} left"
    )
}

/// What the sweep after creates of unknown outcome found and removed.
fn swept(
    swept: Option<&Result<scimcheck::cleanup::CleanupReport, String>>,
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
fn leftovers(results: &[scimcheck::exec::ScenarioResult], secrets: &[String]) -> String {
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

fn cleanup(args: CleanupArgs) -> u8 {
    let Some(base_url) = args.target.base_url.clone() else {
        eprintln!(
            "scimcheck cleanup: --base-url is required (the built-in double keeps nothing between runs)"
        );
        return exit::USAGE;
    };
    let mut target = match target(&args.target, &base_url) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("scimcheck cleanup: {e}");
            return exit::USAGE;
        }
    };
    if let Err(e) = runner::check_base_url(&target.base_url) {
        eprintln!("scimcheck cleanup: {e}; nothing was sent");
        return exit::USAGE;
    }
    target.rate = args.target.rate.or(Some(DEFAULT_RATE));
    let secrets = target.secrets();
    let client = match scimcheck::http::Client::new(&target) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("scimcheck cleanup: {e}");
            return exit::USAGE;
        }
    };
    let outcome = runtime().block_on(scimcheck::cleanup::cleanup_run(
        &client,
        &target,
        &args.run_id,
    ));
    match outcome {
        Err(e @ scimcheck::cleanup::CleanupError::RunId(_)) => {
            eprintln!("scimcheck cleanup: {}", shown(&e.to_string(), &secrets));
            exit::USAGE
        }
        Err(e) => {
            eprintln!("scimcheck cleanup: {}", shown(&e.to_string(), &secrets));
            exit::UNREACHABLE
        }
        Ok(report) => {
            for deleted in &report.deleted {
                println!("deleted {}", redact(deleted, &secrets));
            }
            for failed in &report.failed {
                println!("NOT deleted {}", redact(failed, &secrets));
            }
            for gone in &report.gone {
                println!(
                    "not found at its id (nothing deleted) {}",
                    redact(gone, &secrets)
                );
            }
            for alone in &report.left_alone {
                println!("left alone {}", redact(alone, &secrets));
            }
            if report.ignored > 0 {
                println!(
                    "left alone {} resource(s) the server listed without the run's prefix",
                    report.ignored
                );
            }
            println!(
                "{} deleted, {} not deleted",
                report.deleted.len(),
                report.failed.len()
            );
            if report.failed.is_empty() {
                exit::PASSED
            } else {
                exit::FAILED
            }
        }
    }
}

/// The built-in suite files, each with its slug (`entra::users`) and its
/// path below `suites/` (`entra/users.yaml`).
fn builtin_files() -> Vec<(String, String, String)> {
    scimcheck::suite::builtin_sources()
        .into_iter()
        .map(|source| {
            let relative = source.name.trim_start_matches("suites/").to_string();
            let slug = relative
                .trim_end_matches(".yaml")
                .trim_end_matches(".yml")
                .replace('/', "::");
            (slug, relative, source.text.to_string())
        })
        .collect()
}

fn show(name: &str) -> u8 {
    let files = builtin_files();
    // A suite by its name or file, or the suite that holds a scenario.
    let found = files.iter().find(|(slug, relative, _)| {
        name == slug
            || name == relative
            || name.trim_start_matches("suites/") == relative
            || name
                .rsplit_once("::")
                .is_some_and(|(suite, _)| suite == slug)
    });
    match found {
        Some((slug, relative, text)) => {
            outln!("# suites/{relative} ({slug})");
            out!("{text}");
            exit::PASSED
        }
        None => {
            let slugs: Vec<&str> = files.iter().map(|(s, _, _)| s.as_str()).collect();
            eprintln!(
                "scimcheck show: no built-in suite or scenario `{name}`; the suites are: {}",
                slugs.join(", ")
            );
            exit::USAGE
        }
    }
}

fn export(dir: &std::path::Path) -> u8 {
    let files = builtin_files();
    // Never overwrite: the user's edits may be there.
    if let Some((_, relative, _)) = files.iter().find(|(_, r, _)| dir.join(r).exists()) {
        eprintln!(
            "scimcheck suites export: {} exists; nothing was written (choose a new folder)",
            dir.join(relative).display()
        );
        return exit::USAGE;
    }
    for (_, relative, text) in &files {
        let path = dir.join(relative);
        let written = path
            .parent()
            .map_or(Ok(()), std::fs::create_dir_all)
            .and_then(|()| std::fs::write(&path, text));
        if let Err(e) = written {
            eprintln!(
                "scimcheck suites export: cannot write {}: {e}",
                path.display()
            );
            return exit::USAGE;
        }
    }
    println!(
        "wrote {} suites to {}; run them with `scimcheck run --no-builtin --suites {}`",
        files.len(),
        dir.display(),
        dir.display()
    );
    exit::PASSED
}

fn serve(args: ServeArgs) -> u8 {
    if args.variants.as_deref() == Some("help") {
        for v in Variant::ALL {
            println!("{:<30} {}", v.name(), v.about());
        }
        return exit::PASSED;
    }
    let variants = match Variants::parse(args.variants.as_deref().unwrap_or_default()) {
        Ok(v) => v,
        Err(e) => {
            eprintln!("scimcheck serve: {e}");
            return exit::USAGE;
        }
    };
    // Which token, and where it came from, so the startup line can say so.
    let (token, source) = match (&args.token, &args.token_env) {
        (Some(token), _) => (Some(token.clone()), "from --token".to_string()),
        (None, Some(name)) => match std::env::var(name) {
            Ok(token) if !token.is_empty() => (Some(token), format!("from ${name}")),
            _ => {
                eprintln!("scimcheck serve: --token-env {name}: the variable is not set");
                return exit::USAGE;
            }
        },
        (None, None) if args.no_auth => (None, String::new()),
        (None, None) => (
            Some(uuid::Uuid::new_v4().simple().to_string()),
            "generated".to_string(),
        ),
    };
    let generated = (source == "generated").then(|| token.clone()).flatten();
    runtime().block_on(async move {
        let listener = match std::net::TcpListener::bind(("127.0.0.1", args.port)) {
            Ok(l) => l,
            Err(e) => {
                eprintln!(
                    "scimcheck serve: cannot listen on 127.0.0.1:{}: {e}",
                    args.port
                );
                return exit::USAGE;
            }
        };
        let auth = match &token {
            Some(_) => format!("bearer token required, {source}"),
            None => "no authentication (--no-auth)".to_string(),
        };
        let limits = scimcheck::double::plain::Limits {
            max_resources: args.max_resources,
            ..Default::default()
        };
        let double = match PlainDouble::start_limited(Some(listener), token, variants.clone(), limits).await {
            Ok(double) => double,
            Err(e) => {
                eprintln!("scimcheck serve: cannot serve on 127.0.0.1:{}: {e}", args.port);
                return exit::USAGE;
            }
        };
        let chosen: Vec<&str> = variants.iter().map(Variant::name).collect();
        let chosen = if chosen.is_empty() {
            String::new()
        } else {
            format!(", variants: {}", chosen.join(", "))
        };
        println!(
            "scimcheck serve: SCIM 2.0 service provider at {} (in memory, {auth}{chosen}); Ctrl-C stops it",
            double.base_url()
        );
        // The sandbox's own token, made for it: printed so the user can use it.
        if let Some(token) = &generated {
            println!("scimcheck serve: token {token} (send `Authorization: Bearer {token}`)");
        }
        let _ = tokio::signal::ctrl_c().await;
        exit::PASSED
    })
}
