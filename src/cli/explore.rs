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
        if let Err(e) = runner::preflight(&target).await {
            eprintln!("scimcheck: {}", shown(&e.to_string(), &secrets));
            return match e {
                RunError::Setup(_) => Exit::Usage,
                _ => Exit::Unreachable,
            };
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
        settings.case_length = args.case_length.max(1);
        settings.workers = args.workers.max(1);
        settings.duration = Some(Duration::from_secs(args.duration.max(1)));
        let against = match &double {
            Some(_) => "the built-in SCIM double".to_string(),
            None => redact(&target.base_url, &secrets),
        };
        outln!(
            "scimcheck: exploring {against} with up to {} requests (seed {seed}, run {run_id})",
            args.budget
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
            && let Err(e) = emit(dir, &outcome, args.force)
        {
            eprintln!("scimcheck: {e}");
            return Exit::Usage;
        }
        if outcome.interrupted {
            Exit::Interrupted
        } else if outcome.failed() {
            Exit::Failed
        } else {
            Exit::Passed
        }
    })
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

/// The file a divergence's reproducer is written to.
fn file_name(index: usize, key: &str) -> String {
    format!("explore-{:02}-{key}.yaml", index + 1)
}

pub(super) fn emit(dir: &std::path::Path, outcome: &Outcome, force: bool) -> Result<(), String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    for (i, divergence) in outcome.divergences.iter().enumerate() {
        let path = dir.join(file_name(i, &divergence.finding.key));
        if path.exists() && !force {
            return Err(format!("{} exists: --force overwrites it", path.display()));
        }
        std::fs::write(&path, &divergence.suite)
            .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
        outln!("scimcheck: reproducer written to {}", path.display());
    }
    Ok(())
}

pub(super) fn print_outcome(outcome: &Outcome, secrets: &[String]) {
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
    let rate = outcome.requests as f64 / outcome.elapsed.as_secs_f64().max(0.001);
    outln!(
        "\nscimcheck: explore: {} cases, {} requests in {:.1} s ({rate:.0}/s), seed {}: {}{}",
        outcome.cases,
        outcome.requests,
        outcome.elapsed.as_secs_f64(),
        outcome.seed,
        match outcome.divergences.len() {
            0 => "no divergence".to_string(),
            n => verdict::plural(n, "divergence"),
        },
        if outcome.interrupted {
            " (interrupted)"
        } else {
            ""
        }
    );
}
