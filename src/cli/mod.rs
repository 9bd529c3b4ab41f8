//! The `scimcheck` command line: its arguments, parsed by clap, and one
//! module per mode. Each mode is a function of its typed arguments that
//! returns an [`Exit`]; `main.rs` only parses and dispatches, so a test can
//! call a mode as the binary would.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};

use crate::check::snapshot::SnapshotStore;
use crate::double::plain::PlainDouble;
use crate::double::variant::{Variant, Variants};
use crate::exec::Interrupt;
use crate::live::{Display, Live};
use crate::report::{RunInfo, Tally, har, html, json, junit, verdict};
use crate::runner::{self, LoadError, RunError, RunSettings, SuiteSources};
use crate::target::{Auth, Target, redact};

/// Prints to stdout, ignoring a closed pipe (`scimcheck run | head`): the
/// run and its cleanups go on whatever happens to the reader.
macro_rules! out {
    ($($arg:tt)*) => {{
        use std::io::Write;
        // Server text reaches the terminal escaped: no control sequence of
        // a server's runs on the user's terminal.
        let text = format!($($arg)*);
        let _ = write!(std::io::stdout(), "{}", crate::target::printable(&text));
    }};
}

/// [`out!`] with a newline.
macro_rules! outln {
    ($($arg:tt)*) => {{
        use std::io::Write;
        let text = format!($($arg)*);
        let _ = writeln!(std::io::stdout(), "{}", crate::target::printable(&text));
    }};
}

pub mod catalogue;
pub mod cleanup;
pub mod explore;
pub mod load;
pub mod replay;
pub mod run;
pub mod serve;

use cleanup::CleanupArgs;
use explore::ExploreArgs;
use load::LoadArgs;
use replay::ReplayArgs;
use run::RunArgs;
use serve::ServeArgs;

/// How a mode ended: the process's exit status, as the README documents it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// Every MUST check held (and with --strict every SHOULD).
    Passed,
    /// A check did not hold.
    Failed,
    /// A mistake in the arguments or the suites: nothing was sent.
    Usage,
    /// The target could not be reached, refused the credentials, or has no
    /// SCIM endpoint at that path.
    Unreachable,
    /// Stopped by a signal, after the pending cleanups.
    Interrupted,
}

impl Exit {
    pub fn code(self) -> u8 {
        match self {
            Exit::Passed => 0,
            Exit::Failed => 1,
            Exit::Usage => 2,
            Exit::Unreachable => 3,
            // 128 + SIGINT, as shells report an interrupted command.
            Exit::Interrupted => 130,
        }
    }
}

impl From<Exit> for std::process::ExitCode {
    fn from(exit: Exit) -> Self {
        std::process::ExitCode::from(exit.code())
    }
}

#[derive(Parser)]
#[command(
    name = "scimcheck",
    version,
    about = "SCIM 2.0 conformance tests: replays what Entra ID and Okta send and checks the answers"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand)]
pub enum Command {
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
    /// Test the endpoint against the built-in double as a reference model:
    /// generated client operations, compared after each; a deviation is
    /// shrunk and can be written as a suite that reproduces it.
    Explore(Box<ExploreArgs>),
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
pub enum SuitesCommand {
    /// Write every built-in suite into DIR, ready to edit and run with
    /// `scimcheck run --no-builtin --suites DIR`.
    Export {
        /// A folder that does not hold them yet.
        dir: PathBuf,
    },
}

#[derive(Args)]
pub struct SuiteArgs {
    /// A folder of suite files, added to the built-in ones (repeatable).
    #[arg(long = "suites", value_name = "DIR")]
    pub suites: Vec<PathBuf>,
    /// Run only the suites given with --suites.
    #[arg(long)]
    pub no_builtin: bool,
    /// Keep scenarios whose name contains this, or with `tag:NAME` a tag (repeatable).
    #[arg(long = "filter", value_name = "TEXT")]
    pub filters: Vec<String>,
    /// Replay these clients only: entra, entra-legacy, okta, rfc (comma-separated or repeated; default all).
    #[arg(long = "profile", value_name = "PROFILE", value_delimiter = ',', value_parser = ["entra", "entra-legacy", "okta", "rfc"])]
    pub profiles: Vec<String>,
}

#[derive(Args)]
pub struct TargetArgs {
    /// The SCIM base URL, such as https://example.com/scim/v2.
    #[arg(long, value_name = "URL")]
    pub base_url: Option<String>,
    /// A bearer token.
    #[arg(
        long,
        env = "SCIM_TOKEN",
        hide_env_values = true,
        conflicts_with = "basic"
    )]
    pub token: Option<String>,
    /// Basic credentials, as USER:PASSWORD.
    #[arg(
        long,
        value_name = "USER:PASSWORD",
        env = "SCIM_BASIC",
        hide_env_values = true
    )]
    pub basic: Option<String>,
    /// An extra header for every request, as `Name: value` (repeatable; values are secrets).
    #[arg(long = "header", value_name = "NAME: VALUE")]
    pub headers: Vec<String>,
    /// Seconds a request may take, all told.
    #[arg(long, default_value_t = 30, value_parser = at_most::<3600>)]
    pub timeout: u64,
    /// Seconds a connection may take to open.
    #[arg(long, default_value_t = 10, value_parser = at_most::<3600>)]
    pub connect_timeout: u64,
    /// The most bytes of a response body read.
    #[arg(long, default_value_t = 10 * 1024 * 1024)]
    pub max_body: usize,
    /// At most this many requests a second; 0 for no limit [default: 25 against
    /// --base-url, the rate Entra asks gallery apps to sustain; no limit against
    /// the built-in double].
    #[arg(long, value_name = "N", value_parser = parse_rate)]
    pub rate: Option<f64>,
    /// How often a request answered 429 is sent again.
    #[arg(long, default_value_t = 3, value_parser = at_most_u32::<100>)]
    pub max_retries: u32,
    /// The longest wait in seconds before a retry, whatever Retry-After asks.
    #[arg(long, default_value_t = 30, value_parser = at_most::<3600>)]
    pub max_retry_wait: u64,
    /// Do not verify TLS certificates (never against a production tenant).
    #[arg(long)]
    pub insecure: bool,
    /// A PEM CA certificate to trust in addition to the system's.
    #[arg(long, value_name = "PATH")]
    pub ca_cert: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy)]
pub enum ReportKind {
    Junit,
    Json,
    Har,
    Html,
}

/// `--rate`: requests a second, finite, 0 (no limit) or from 0.001 to 100,000.
pub fn parse_rate(text: &str) -> Result<f64, String> {
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
pub fn at_most<const MAX: u64>(text: &str) -> Result<u64, String> {
    let n: u64 = text
        .parse()
        .map_err(|_| format!("`{text}` is not a whole number"))?;
    if n > MAX {
        return Err(format!("{n} is more than the most allowed, {MAX}"));
    }
    Ok(n)
}

/// [`at_most`] for a u32 option.
pub fn at_most_u32<const MAX: u64>(text: &str) -> Result<u32, String> {
    at_most::<MAX>(text).map(|n| n as u32)
}

/// [`at_most`] for a count of things.
pub fn count<const MAX: u64>(text: &str) -> Result<usize, String> {
    at_most::<MAX>(text).map(|n| n as usize)
}

/// Refuses to write over a file that exists unless `--force` says so: a
/// report path mistyped as a suite's would destroy it.
pub fn refuse_overwrite<'a>(
    paths: impl IntoIterator<Item = &'a std::path::Path>,
    force: bool,
) -> Result<(), Exit> {
    if force {
        return Ok(());
    }
    for path in paths {
        if path.exists() {
            eprintln!(
                "scimcheck: {} exists: --force overwrites it; nothing was sent",
                path.display()
            );
            return Err(Exit::Usage);
        }
    }
    Ok(())
}

pub fn parse_report(text: &str) -> Result<(ReportKind, PathBuf), String> {
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

/// Requests a second against a real target unless --rate says otherwise.
pub(crate) const DEFAULT_RATE: f64 = 25.0;

impl Cli {
    /// Runs the mode the arguments name.
    pub fn dispatch(self) -> Exit {
        match self.command {
            Command::Run(args) => run::run(*args),
            Command::List(args) => catalogue::list(&args),
            Command::Serve(args) => serve::serve(args),
            Command::Cleanup(args) => cleanup::cleanup(args),
            Command::Show { name } => catalogue::show(&name),
            Command::Replay(args) => replay::replay(*args),
            Command::Load(args) => load::load_test(*args),
            Command::Explore(args) => explore::explore(*args),
            Command::Requirements { format } => catalogue::requirements(&format),
            Command::Suites {
                command: SuitesCommand::Export { dir },
            } => catalogue::export(&dir),
        }
    }
}

/// Text for the terminal: secrets redacted, control characters escaped.
pub fn shown(text: &str, secrets: &[String]) -> String {
    crate::target::printable(&redact(text, secrets)).into_owned()
}

pub fn sources(args: &SuiteArgs) -> SuiteSources {
    SuiteSources {
        builtin: !args.no_builtin,
        dirs: args.suites.clone(),
    }
}

pub fn load(args: &SuiteArgs) -> Result<crate::plan::Plan, Exit> {
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
                "\nscimcheck: {} in the suites; nothing was sent",
                verdict::plural(diagnostics.0.len(), "mistake")
            );
            Err(Exit::Usage)
        }
        Err(e @ LoadError::Io { .. }) => {
            eprintln!("scimcheck: {e}");
            Err(Exit::Usage)
        }
    }
}

pub fn target(args: &TargetArgs, base_url: &str) -> Result<Target, String> {
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

pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime starts")
}

/// The target the arguments name, or, without --base-url, the built-in
/// double (requiring `token`, or a fresh one), which lives as long as the
/// returned handle. A bad base URL is a usage error with nothing sent.
pub async fn target_or_double(
    args: &TargetArgs,
    token: Option<String>,
) -> Result<(Target, Option<PlainDouble>), Exit> {
    let double = match &args.base_url {
        Some(_) => None,
        None => {
            let token = token.unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
            match PlainDouble::start(None, Some(token), Default::default()).await {
                Ok(double) => Some(double),
                Err(e) => {
                    eprintln!("scimcheck: cannot start the built-in double on loopback: {e}");
                    return Err(Exit::Usage);
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
        Exit::Usage
    })?;
    if let Some(double) = &double {
        target.auth = Auth::Bearer(double.token().unwrap_or_default());
    }
    if let Err(e) = runner::check_base_url(&target.base_url) {
        eprintln!("scimcheck: {e}; nothing was sent");
        return Err(Exit::Usage);
    }
    Ok((target, double))
}

/// Whether a base URL's host is this machine.
/// The one message, before anything else, for a target that is not there,
/// refuses the credentials or has no SCIM endpoint at that path; the
/// ServiceProviderConfig probe's answer otherwise.
pub async fn preflight(
    target: &Target,
    secrets: &[String],
) -> Result<Result<serde_json::Value, String>, Exit> {
    runner::preflight(target).await.map_err(|e| {
        eprintln!("scimcheck: {}", shown(&e.to_string(), secrets));
        match e {
            RunError::Setup(_) => Exit::Usage,
            _ => Exit::Unreachable,
        }
    })
}

pub use crate::target::is_loopback;

/// Waits for SIGINT or SIGTERM, then asks the run to wind down; the
/// progress bar goes first, so that nothing is drawn over the message.
pub fn on_interrupt(interrupt: Interrupt, live: std::sync::Arc<Live>, run_id: String) {
    crate::signals::watch(
        interrupt,
        move || {
            live.interrupt();
            eprintln!(
                "scimcheck: interrupted; no new request starts, the pending cleanups run (at most {} s; a second signal stops at once)",
                crate::exec::CLEANUP_BUDGET.as_secs()
            );
        },
        move || eprintln!("{}", killed(&run_id)),
    );
}

/// What a second signal leaves to the user.
pub fn killed(run_id: &str) -> String {
    format!(
        "scimcheck: stopped at once by a second signal: cleanups not finished; `scimcheck cleanup --run-id {run_id} --base-url ...` removes what run {run_id} left"
    )
}
