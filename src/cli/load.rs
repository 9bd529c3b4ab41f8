//! `scimcheck load`: the initial-sync load verdict, its reports, and the
//! Locust export.

use super::*;

#[derive(Args)]
pub struct LoadArgs {
    /// How many users the initial cycle provisions (each: a match, then a create).
    #[arg(long, required_unless_present = "raw", default_value_t = 0, value_parser = count::<10_000_000>)]
    pub users: usize,
    /// Groups created after the users (per tenant), matched by displayName
    /// and created empty, as Entra does.
    #[arg(long, default_value_t = 0, value_parser = count::<1_000_000>)]
    pub groups: usize,
    /// Members of each group, added by PATCH once the group exists.
    #[arg(long, requires = "groups", default_value_t = 0, value_parser = count::<10_000_000>)]
    pub members: usize,
    /// Members in each PATCH that adds them (Entra's SCIM guide shows one;
    /// several go in one Add operation).
    #[arg(long, value_name = "B", default_value_t = 1, value_parser = count::<10_000>)]
    pub member_batch: usize,
    /// At most this many requests under way at once (per tenant).
    #[arg(long, default_value_t = 16, value_parser = count::<10_000>)]
    pub concurrency: usize,
    /// Run this many tenants' jobs at once, each with --users at --rate (a
    /// multi-tenant app sees tenants x the rate).
    #[arg(long, default_value_t = 1, value_parser = count::<1_000>)]
    pub tenants: usize,
    /// Never more requests than this, cleanup aside [default: twice those planned].
    #[arg(long, value_name = "K", value_parser = at_most::<1_000_000_000>)]
    pub max_requests: Option<u64>,
    /// Never longer than this many seconds, cleanup aside (at most a week).
    #[arg(long, value_name = "SECONDS", default_value_t = 600, value_parser = at_most::<604_800>)]
    pub duration: u64,
    /// The p99 latency each operation must stay under, in milliseconds.
    #[arg(long, value_name = "MS", default_value_t = 1000)]
    p99: u64,
    /// Also say how long an initial cycle of this many users would take.
    #[arg(long, value_name = "USERS")]
    pub project: Option<u64>,
    /// Load a target that is not on loopback without asking.
    #[arg(long)]
    pub yes: bool,
    /// Only match GETs (--max-requests of them, default 10,000), nothing
    /// created: the client's own throughput, to compare with other tools.
    #[arg(long)]
    pub raw: bool,
    /// Also write the report as json=PATH (percentiles, per-second series,
    /// verdict) or html=PATH (the verdict, latency over time as a plot, the
    /// percentile table); repeat for both.
    #[arg(long = "report", value_name = "FORMAT=PATH")]
    pub report: Vec<String>,
    /// Write the same load as a Locust locustfile (locust=FILE), for a load
    /// that needs several machines, and send nothing.
    #[arg(long, value_name = "locust=FILE", conflicts_with = "raw")]
    pub export: Option<String>,
    /// Overwrite report and export files that already exist.
    #[arg(long)]
    pub force: bool,
    #[command(flatten)]
    pub target: TargetArgs,
}

pub fn load_test(args: LoadArgs) -> Exit {
    use crate::load::{self, verdict};
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
                return Exit::Usage;
            }
        }
    }
    if args.tenants == 0 {
        eprintln!("scimcheck: --tenants must be at least 1; nothing was sent");
        return Exit::Usage;
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
        run_id: crate::exec::new_run_id(),
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
        return Exit::Usage;
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
                return Exit::Usage;
            }
            eprint!("{ask}. Go on? [y/N] ");
            let mut answer = String::new();
            let _ = std::io::stdin().read_line(&mut answer);
            if !answer.trim().eq_ignore_ascii_case("y") {
                eprintln!("scimcheck: not started; nothing was sent");
                return Exit::Usage;
            }
        }
        if let Err(code) = preflight(&target, &secrets).await {
            return code;
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
        crate::signals::watch(
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
                return Exit::Usage;
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
                return Exit::Usage;
            }
        }
        if interrupt.is_set() {
            Exit::Interrupted
        } else if lines.iter().any(|l| l.level == verdict::Level::Fail) || !report.left.is_empty() {
            Exit::Failed
        } else {
            Exit::Passed
        }
    })
}

/// `--export locust=FILE`: writes the locustfile and says how to run it.
pub fn export_load(spec: &str, options: &crate::load::LoadOptions, target: &TargetArgs) -> Exit {
    let Some(path) = spec.strip_prefix("locust=").filter(|p| !p.is_empty()) else {
        eprintln!("scimcheck: --export takes locust=FILE, not {spec:?}; nothing was written");
        return Exit::Usage;
    };
    // `scimcheck serve`'s address when no target is given.
    let host = target
        .base_url
        .clone()
        .unwrap_or_else(|| "http://127.0.0.1:8080".to_string());
    let file = match crate::load::locust::render(options, &host, path, &asked(options)) {
        Ok(file) => file,
        Err(e) => {
            eprintln!("scimcheck: {e}");
            return Exit::Usage;
        }
    };
    if let Err(e) = std::fs::write(path, file) {
        eprintln!("scimcheck: cannot write {path}: {e}");
        return Exit::Usage;
    }
    outln!(
        "scimcheck: wrote {path} (run {}); nothing was sent. Run it with:\n  SCIM_TOKEN=... locust -f {path} --headless --host {host} -u {c} -r {c}\nand remove what a crash leaves with: scimcheck cleanup --run-id {} --base-url {host}",
        options.run_id,
        options.run_id,
        c = options.concurrency,
    );
    Exit::Passed
}

/// What a load asked, in words, for its report.
pub fn asked(options: &crate::load::LoadOptions) -> String {
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
pub(crate) static LOAD_BAR: std::sync::OnceLock<indicatif::ProgressBar> =
    std::sync::OnceLock::new();

/// Shows a load's progress: a bar on a terminal, else a line every 5 s.
pub async fn show_progress(progress: &crate::load::Progress, total: u64, interrupt: &Interrupt) {
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
