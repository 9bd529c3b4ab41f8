//! `scimcheck cleanup`: removes what a run left behind, by its run id.

use super::*;

#[derive(Args)]
pub struct CleanupArgs {
    /// The run whose leftovers to delete, as printed at the end of a run.
    #[arg(long, value_name = "ID")]
    pub run_id: String,
    #[command(flatten)]
    pub target: TargetArgs,
}

pub fn cleanup(args: CleanupArgs) -> Exit {
    let Some(base_url) = args.target.base_url.clone() else {
        eprintln!(
            "scimcheck cleanup: --base-url is required (the built-in double keeps nothing between runs)"
        );
        return Exit::Usage;
    };
    let mut target = match target(&args.target, &base_url) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("scimcheck cleanup: {e}");
            return Exit::Usage;
        }
    };
    if let Err(e) = runner::check_base_url(&target.base_url) {
        eprintln!("scimcheck cleanup: {e}; nothing was sent");
        return Exit::Usage;
    }
    target.rate = args.target.rate.or(Some(DEFAULT_RATE));
    let secrets = target.secrets();
    let client = match crate::http::Client::new(&target) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("scimcheck cleanup: {e}");
            return Exit::Usage;
        }
    };
    let outcome = runtime().block_on(crate::cleanup::cleanup_run(&client, &target, &args.run_id));
    match outcome {
        Err(e @ crate::cleanup::CleanupError::RunId(_)) => {
            eprintln!("scimcheck cleanup: {}", shown(&e.to_string(), &secrets));
            Exit::Usage
        }
        Err(e) => {
            eprintln!("scimcheck cleanup: {}", shown(&e.to_string(), &secrets));
            Exit::Unreachable
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
                Exit::Passed
            } else {
                Exit::Failed
            }
        }
    }
}
