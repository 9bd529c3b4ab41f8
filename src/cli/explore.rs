//! `scimcheck explore`: model-based testing of the target against the
//! built-in double; see [`crate::explore`].

use super::*;
use crate::explore::{self, Outcome, Settings};

#[derive(Args)]
pub struct ExploreArgs {
    /// The most requests sent, cleanup aside.
    #[arg(long, value_name = "N", default_value_t = 2000, value_parser = count::<10_000_000>)]
    pub budget: usize,
    /// The seed of the generated cases: the same seed sends the same requests [default: random, printed].
    #[arg(long, value_name = "S")]
    pub seed: Option<u64>,
    /// The most operations in one case.
    #[arg(long, value_name = "N", default_value_t = 24, value_parser = count::<1_000>)]
    pub case_length: usize,
    /// Never longer than this many seconds, shrinking included.
    #[arg(long, value_name = "SECONDS", default_value_t = 600, value_parser = at_most::<604_800>)]
    pub duration: u64,
    /// Cases run at once, each by a runner of its own; with 1 (the
    /// default) a seed sends the same requests in the same order.
    #[arg(long, value_name = "K", default_value_t = 1, value_parser = count::<64>)]
    pub workers: usize,
    /// Users the scale phase creates before the cases, and checks filters,
    /// pages and totals over (about 2N+40 requests on top of the budget;
    /// 0 turns it off) [default: 1050 on loopback, 50 elsewhere].
    #[arg(long, value_name = "N", value_parser = count::<100_000>)]
    pub tenant_size: Option<usize>,
    /// The most writes sent at once: member adds to one group, PATCHes of
    /// one user, creates of one userName, the scale phase's requests.
    #[arg(long, value_name = "K", default_value_t = 6, value_parser = count::<64>)]
    pub parallel: usize,
    /// Create a tenant larger than 50 users on a target that is not on
    /// loopback (a production tenant sees every one of them).
    #[arg(long)]
    pub yes: bool,
    /// Write each deviation's reproducer into DIR, as a suite file that
    /// `scimcheck run --no-builtin --suites DIR` replays.
    #[arg(long, value_name = "DIR")]
    pub emit_suite: Option<PathBuf>,
    /// Overwrite reproducers that already exist.
    #[arg(long)]
    pub force: bool,
    #[command(flatten)]
    pub target: TargetArgs,
}

pub fn explore(args: ExploreArgs) -> Exit {
    let seed = args.seed.unwrap_or_else(rand_seed);
    runtime().block_on(async move {
        let (mut target, double) = match target_or_double(&args.target, args.target.token.clone()).await {
            Ok(t) => t,
            Err(code) => return code,
        };
        target.rate = match (args.target.rate, &double) {
            (Some(rate), _) => Some(rate),
            (None, Some(_)) => None,
            (None, None) => Some(DEFAULT_RATE),
        };
        let secrets = target.secrets();
        let tenant_size = match tenant_size(&args, double.is_some() || is_loopback(&target.base_url)) {
            Ok(size) => size,
            Err(why) => {
                eprintln!("scimcheck: {why}");
                return Exit::Usage;
            }
        };
        if let Err(code) = preflight(&target, &secrets).await {
            return code;
        }
        let client = match crate::http::Client::new(&target) {
            Ok(client) => client,
            Err(e) => {
                eprintln!("scimcheck: {e}; nothing was sent");
                return Exit::Usage;
            }
        };
        let run_id = crate::exec::new_run_id();
        let mut settings = Settings::new(&run_id, args.budget, seed);
        settings.tenant_size = tenant_size;
        settings.parallel = args.parallel.max(2);
        settings.case_length = args.case_length.max(1);
        settings.workers = args.workers.max(1);
        settings.duration = Some(Duration::from_secs(args.duration.max(1)));
        let against = match &double {
            Some(_) => "the built-in SCIM double".to_string(),
            None => redact(&target.base_url, &secrets),
        };
        outln!(
            "scimcheck: exploring {against} with up to {} requests (seed {seed}, run {run_id}){}",
            args.budget,
            match tenant_size {
                0 => String::new(),
                n => format!(", after a tenant of {n} users"),
            }
        );
        let interrupt = Interrupt::default();
        {
            let run_id = run_id.clone();
            crate::signals::watch(
                interrupt.clone(),
                || eprintln!("scimcheck: interrupted; the case under way stops, then what it created is deleted (a second signal stops at once)"),
                move || eprintln!("{}", killed(&run_id)),
            );
        }
        let bar = progress_bar(args.budget);
        let tick = |sent: usize, _budget: usize| bar.set_position(sent as u64);
        let outcome = explore::explore(&client, &target, &settings, &interrupt, &tick).await;
        bar.finish_and_clear();
        print_outcome(&outcome, &secrets);
        if let Some(dir) = &args.emit_suite
            && let Err(e) =
                emit(dir, &outcome, args.force).and_then(|()| emit_scale(dir, &outcome, args.force))
        {
            eprintln!("scimcheck: {e}");
            return Exit::Usage;
        }
        if outcome.interrupted {
            Exit::Interrupted
        } else if outcome.failed() {
            Exit::Failed
        } else if outcome.nothing_explored() {
            // No divergence, but none looked for: not a pass.
            Exit::Usage
        } else {
            Exit::Passed
        }
    })
}

/// The scale phase's size: the default for where the target is, or the
/// one asked; more than a few users on a remote tenant only with `--yes`.
fn tenant_size(args: &ExploreArgs, loopback: bool) -> Result<usize, String> {
    use crate::explore::scale::{LOOPBACK_SIZE, REMOTE_SIZE};
    match args.tenant_size {
        None if loopback => Ok(LOOPBACK_SIZE),
        None => Ok(REMOTE_SIZE),
        Some(n) if n <= REMOTE_SIZE || loopback || args.yes => Ok(n),
        Some(n) => Err(format!(
            "--tenant-size {n} creates {n} users on a target that is not on loopback ({n} POST /Users, one POST /Groups with {} PATCHes adding them, about 40 reads, then a read and a DELETE of each); nothing was sent. Add --yes to go ahead, or keep to {REMOTE_SIZE} or fewer",
            n.div_ceil(50)
        )),
    }
}

fn rand_seed() -> u64 {
    let bytes = uuid::Uuid::new_v4();
    u64::from_le_bytes(bytes.as_bytes()[..8].try_into().expect("eight bytes"))
}

fn progress_bar(budget: usize) -> indicatif::ProgressBar {
    use std::io::IsTerminal;
    if !std::io::stderr().is_terminal() {
        return indicatif::ProgressBar::hidden();
    }
    let bar = indicatif::ProgressBar::new(budget as u64);
    bar.set_style(
        indicatif::ProgressStyle::with_template("{bar:30} {pos}/{len} requests {elapsed}")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    bar
}

fn print_scaled(scaled: &crate::explore::scale::Scaled, secrets: &[String]) {
    outln!(
        "\nscale phase: {} of {} users created; {} requests in {:.1} s",
        scaled.created,
        scaled.size,
        scaled.requests,
        scaled.elapsed.as_secs_f64()
    );
    for held in &scaled.checked {
        outln!("  held: {held}");
    }
    for why in &scaled.not_checked {
        outln!("  not checked: {}", shown(why, secrets));
    }
    if let Some(f) = &scaled.finding {
        outln!("FAIL explore scale {}   ({})", f.key, f.cite);
        outln!("  {}", shown(&f.what, secrets));
        outln!(
            "  {} -> {}",
            shown(&f.call, secrets),
            shown(&f.answer, secrets)
        );
        match (scaled.shrunk_from, &scaled.not_shrunk) {
            (Some(from), _) => outln!(
                "  found with {from} users and shrunk to {}, the smallest tenant tried that shows it; `scimcheck explore --tenant-size {} --budget 10` shows it again",
                scaled.size,
                scaled.size
            ),
            (None, Some(why)) => outln!(
                "  {why}; `scimcheck explore --tenant-size {} --budget 10` shows it again",
                scaled.size
            ),
            (None, None) => outln!(
                "  no smaller tenant tried shows it; `scimcheck explore --tenant-size {} --budget 10` shows it again",
                scaled.size
            ),
        }
    }
}

/// The file a divergence's reproducer is written to: named by its check,
/// not by the order it was found in, so that a run's scenario names stay
/// the same when a race shows up before it or not; a second finding of
/// one check (about other attributes) adds what it is about.
fn file_name(
    finding: &crate::explore::state::Finding,
    taken: &mut std::collections::BTreeSet<String>,
) -> String {
    let slug = |text: &str| -> String {
        text.chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() {
                    c.to_ascii_lowercase()
                } else {
                    '-'
                }
            })
            .collect()
    };
    let mut name = format!("explore-{}", slug(&finding.key));
    if !taken.insert(name.clone()) {
        name = format!("explore-{}", slug(&finding.cause));
        let mut n = 1;
        while !taken.insert(name.clone()) {
            n += 1;
            name = format!("explore-{}-{n}", slug(&finding.cause));
        }
    }
    format!("{name}.yaml")
}

pub(super) fn emit(dir: &std::path::Path, outcome: &Outcome, force: bool) -> Result<(), String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let mut taken = std::collections::BTreeSet::new();
    for divergence in &outcome.divergences {
        let path = dir.join(file_name(&divergence.finding, &mut taken));
        if path.exists() && !force {
            return Err(format!("{} exists: --force overwrites it", path.display()));
        }
        std::fs::write(&path, &divergence.suite)
            .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
        outln!("scimcheck: reproducer written to {}", path.display());
    }
    Ok(())
}

/// The scale finding's reproducer, where it has one (`run` reports the
/// scale phase as a result of its own, so only `explore` writes it).
fn emit_scale(dir: &std::path::Path, outcome: &Outcome, force: bool) -> Result<(), String> {
    if let Some(scaled) = &outcome.scaled
        && let Some(finding) = &scaled.finding
    {
        let Some(text) = crate::explore::scale_reproduce::suite(scaled, outcome.seed) else {
            outln!(
                "scimcheck: no reproducer file for the scale phase's {}: a suite cannot state it (a repeat within one page, pages shorter than asked, or a walk too long to write out); `scimcheck explore --tenant-size {}` shows it again",
                finding.key,
                scaled.size
            );
            return Ok(());
        };
        let path = dir.join(format!(
            "explore-scale-{}.yaml",
            finding.key.trim_start_matches("scale-")
        ));
        if path.exists() && !force {
            return Err(format!("{} exists: --force overwrites it", path.display()));
        }
        std::fs::write(&path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
        outln!(
            "scimcheck: reproducer of the scale finding written to {}",
            path.display()
        );
    }
    Ok(())
}

pub(super) fn print_outcome(outcome: &Outcome, secrets: &[String]) {
    if let Some(scaled) = &outcome.scaled {
        print_scaled(scaled, secrets);
    }
    for (i, d) in outcome.divergences.iter().enumerate() {
        let level = match d.finding.level {
            crate::explore::compare::Level::Must => "FAIL",
            crate::explore::compare::Level::Should => "ADVICE",
        };
        outln!(
            "\n{level} explore #{} {}   ({})",
            i + 1,
            d.finding.key,
            d.finding.cite
        );
        outln!("  {}", shown(&d.finding.what, secrets));
        outln!(
            "  {} -> {}",
            shown(&d.finding.call, secrets),
            shown(&d.finding.answer, secrets)
        );
        outln!(
            "  shrunk to {} requests in {:.1} s; replay: scimcheck run --no-builtin --suites DIR (with --emit-suite DIR)",
            d.requests,
            d.shrink_time.as_secs_f64()
        );
    }
    for a in &outcome.advice {
        outln!("\nadvice: {}   ({})", shown(&a.what, secrets), a.cite);
        outln!(
            "  {} -> {}",
            shown(&a.call, secrets),
            shown(&a.answer, secrets)
        );
    }
    if !outcome.not_offered.is_empty() {
        outln!(
            "\nnot offered (refused with invalidFilter, the server's choice under RFC 7644 3.4.2.2): {}",
            outcome.not_offered.join(", ")
        );
    }
    for left in &outcome.left {
        outln!("left behind: {}", shown(left, secrets));
    }
    for lost in &outcome.lost_workers {
        outln!("not run: {lost}: its share of the budget was not explored");
    }
    let rate = outcome.requests as f64 / outcome.elapsed.as_secs_f64().max(0.001);
    outln!(
        "\nscimcheck: explore: {} cases, {} requests in {:.1} s ({rate:.0}/s), seed {}: {}{}",
        outcome.cases,
        outcome.requests,
        outcome.elapsed.as_secs_f64(),
        outcome.seed,
        match outcome.divergences.len()
            + usize::from(outcome.scaled.as_ref().is_some_and(|s| s.finding.is_some()))
        {
            0 => "no divergence".to_string(),
            n => verdict::plural(n, "divergence"),
        },
        if outcome.interrupted {
            " (interrupted)".to_string()
        } else if outcome.nothing_explored() {
            " (no worker ran: nothing was explored)".to_string()
        } else if !outcome.lost_workers.is_empty() {
            format!(
                " ({} of {} workers did not run)",
                outcome.lost_workers.len(),
                outcome.workers
            )
        } else {
            String::new()
        }
    );
}
