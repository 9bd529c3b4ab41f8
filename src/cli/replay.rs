//! `scimcheck replay`: a customer's Entra export or provisioning log, or
//! an Okta mapping, derived into suites, written, and run as `run` would.

use super::run::{RunArgs, run};
use super::*;

#[derive(Args)]
pub struct ReplayArgs {
    /// The provisioning configuration: the schema editor's Download, or Graph's
    /// GET /servicePrincipals/{id}/synchronization/jobs/{jobId}/schema.
    #[arg(long, value_name = "FILE", required_unless_present_any = ["entra_log", "okta_mapping"])]
    pub entra_schema: Option<PathBuf>,
    /// Okta's profile mapping (GET /api/v1/mappings/{id}): Okta's traffic for
    /// the users instead of Entra's.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["entra_schema", "entra_log"])]
    pub okta_mapping: Option<PathBuf>,
    /// The Okta app's username format, for a mapping without a userName
    /// property (Okta's default: the Okta username).
    #[arg(long, value_name = "FORMAT", default_value = "okta-username", value_parser = crate::generate::okta::UsernameFormat::NAMES, requires = "okta_mapping")]
    pub okta_username_format: String,
    /// The provisioning logs' JSON download (or Graph's provisioningObjectSummary
    /// list), or the first file of the CSV download (the other two are read
    /// from beside it): the chosen changes are replayed, beside what the app
    /// answered then.
    #[arg(long, value_name = "FILE")]
    pub entra_log: Option<PathBuf>,
    /// With --entra-log: the change to replay, by its changeId.
    #[arg(
        long,
        value_name = "ID",
        requires = "entra_log",
        conflicts_with = "user"
    )]
    pub change_id: Option<String>,
    /// With --entra-log: every change of this user (user principal name or display name).
    #[arg(long, value_name = "UPN", requires = "entra_log")]
    pub user: Option<String>,
    /// With --entra-log: the changes of this app (its service principal's
    /// display name or id), where the log holds several apps' changes.
    #[arg(long, value_name = "NAME", requires = "entra_log")]
    pub app: Option<String>,
    /// The users to provision: a JSON list of user objects as Graph returns them
    /// (default: a built-in set).
    #[arg(long, value_name = "FILE")]
    pub users: Option<PathBuf>,
    /// Where the derived suites are written, to run again with
    /// `scimcheck run --no-builtin --suites DIR` (an edited file is never overwritten).
    #[arg(long, value_name = "DIR", default_value = "scimcheck-replay")]
    pub emit_suite: PathBuf,
    /// Seeds Guid(), RandomString() and Test Connection's random id (default: from the export).
    #[arg(long)]
    pub seed: Option<u64>,
    /// What DefaultDomain() returns: the tenant's default verified domain
    /// (default: the domain most sample users' principal names share).
    #[arg(long, value_name = "DOMAIN", requires = "entra_schema")]
    pub default_domain: Option<String>,
    #[command(flatten)]
    pub run: RunArgs,
}

/// Derives the suites of an Entra export, writes them, and runs them as
/// `run --no-builtin --suites DIR` would. Bad input stops before anything is sent.
pub fn replay(args: ReplayArgs) -> Exit {
    use crate::generate::entra::{export, traffic, users};
    let read = |path: &std::path::Path| {
        std::fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))
    };
    if let Some(mapping) = args.okta_mapping.clone() {
        let files = match okta_suite(&mapping, &args.okta_username_format) {
            Ok(files) => files,
            Err(e) => {
                eprintln!("scimcheck: {}: {e}\nnothing was sent", mapping.display());
                return Exit::Usage;
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
                    return Exit::Usage;
                }
            }
        }
    };
    if let Some(log) = args.entra_log.clone() {
        let files = match log_suite(&log, config.as_ref().map(|(c, _)| &c.0), &args) {
            Ok(files) => files,
            Err(e) => {
                eprintln!("scimcheck: {}: {e}\nnothing was sent", log.display());
                return Exit::Usage;
            }
        };
        return write_and_run(args, files);
    }
    let Some(((config, text), file)) = config else {
        unreachable!("clap requires --entra-schema without --entra-log")
    };
    let sample_users = match &args.users {
        None => users::builtin_users(),
        Some(path) => match read(path).and_then(|t| users::read_users(&t)) {
            Ok(u) => u,
            Err(e) => {
                eprintln!("scimcheck: {}: {e}\nnothing was sent", path.display());
                return Exit::Usage;
            }
        },
    };
    let seed = args
        .seed
        .unwrap_or_else(|| crate::generate::write::seed_of(&text));
    let options = traffic::Options {
        seed,
        now: time::OffsetDateTime::now_utc(),
        export_name: file_name(&file),
        default_domain: args.default_domain.clone(),
    };
    let derivation =
        match traffic::derive(&config, &sample_users, &users::builtin_groups(), &options) {
            Ok(d) => d,
            Err(e) => {
                eprintln!("scimcheck: {file}: {e}\nnothing was sent");
                return Exit::Usage;
            }
        };
    for note in &derivation.notes {
        outln!("scimcheck: {note}");
    }
    if derivation.suites.is_empty() {
        eprintln!(
            "scimcheck: {file}: no enabled object mapping provisions anything: nothing to replay"
        );
        return Exit::Usage;
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

pub fn file_name(path: &str) -> String {
    std::path::Path::new(path)
        .file_name()
        .map_or_else(|| path.to_string(), |n| n.to_string_lossy().into_owned())
}

/// The suite of the logged changes chosen, as (file name, text, summary).
pub fn log_suite(
    log: &std::path::Path,
    config: Option<&crate::generate::entra::export::Export>,
    args: &ReplayArgs,
) -> Result<Vec<(String, String, String)>, String> {
    use crate::generate::entra::{logs, users};
    let csv = log
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("csv"));
    let mut changes = if csv {
        crate::generate::entra::logs_csv::read(log)?
    } else {
        let text = std::fs::read_to_string(log).map_err(|e| format!("cannot read it: {e}"))?;
        logs::read(&text)?
    };
    for note in logs::map_targets(&mut changes, config) {
        outln!("scimcheck: {note}");
    }
    let chosen = logs::select(&changes, args.change_id.as_deref(), args.user.as_deref())?;
    let chosen = logs::of_app(chosen, args.app.as_deref())?;
    let mut replayed = Vec::new();
    for change in chosen {
        let who = change
            .user_principal_name
            .as_deref()
            .unwrap_or(&change.display_name);
        if let Some(directory) = change.inbound() {
            outln!(
                "scimcheck: change {} ({} of {who}): an inbound change, made in {directory}, not a request to an app: not replayed",
                change.change_id,
                change.action.name()
            );
            continue;
        }
        replayed.push(change);
        if let Some(why) = &change.skipped {
            outln!(
                "scimcheck: change {} ({} of {who} at {}): Entra skipped it ({why}) and sent the app nothing: not replayed",
                change.change_id,
                change.action.name(),
                change.when
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
    let suite = users::with_run_id(logs::suite(&replayed, &logs::Matching::of(config), &name));
    let scenarios = suite["scenarios"].as_array().map_or(0, Vec::len);
    if scenarios == 0 {
        return Err(
            "none of the chosen changes is a request Entra sent to an app: nothing to replay"
                .into(),
        );
    }
    let origin =
        format!("Derived by `scimcheck replay --entra-log {name}` from the logged changes.");
    let body = crate::generate::write::to_yaml(&suite);
    Ok(vec![(
        "entra-log-replay.yaml".into(),
        crate::generate::write::with_header(&origin, &body),
        format!("{scenarios} logged changes"),
    )])
}

/// The suite of Okta's traffic for a profile mapping, as (file name, text, summary).
pub fn okta_suite(
    mapping: &std::path::Path,
    username_format: &str,
) -> Result<Vec<(String, String, String)>, String> {
    use crate::generate::{entra::users, okta};
    let text = std::fs::read_to_string(mapping).map_err(|e| format!("cannot read it: {e}"))?;
    let format = okta::UsernameFormat::parse(username_format)
        .ok_or_else(|| format!("unknown username format `{username_format}`"))?;
    let (properties, notes) = okta::read(&text, format)?;
    for note in notes {
        outln!("scimcheck: {note}");
    }
    let name = file_name(&mapping.display().to_string());
    let suite = users::with_run_id(okta::suite(&properties, &users::builtin_users(), &name));
    let scenarios = suite["scenarios"].as_array().map_or(0, Vec::len);
    let origin = format!("Derived by `scimcheck replay --okta-mapping {name}`.");
    let body = crate::generate::write::to_yaml(&suite);
    Ok(vec![(
        "okta-replay-users.yaml".into(),
        crate::generate::write::with_header(&origin, &body),
        format!("{scenarios} scenarios"),
    )])
}

/// Writes the derived suites and runs them as `run --no-builtin --suites DIR`.
pub fn write_and_run(mut args: ReplayArgs, files: Vec<(String, String, String)>) -> Exit {
    let texts: Vec<(String, String)> = files
        .iter()
        .map(|(n, t, _)| (n.clone(), t.clone()))
        .collect();
    let written = match crate::generate::write::write_all(&args.emit_suite, &texts) {
        Ok(paths) => {
            for (path, (_, _, summary)) in paths.iter().zip(&files) {
                outln!(
                    "scimcheck: wrote {} ({summary}); run it again with `scimcheck run --no-builtin --suites {}`",
                    path.display(),
                    path.display()
                );
            }
            paths
        }
        Err(e) => {
            eprintln!("scimcheck: {e}; nothing was sent");
            return Exit::Usage;
        }
    };
    // What this replay wrote, and nothing else the folder holds (an earlier
    // replay's suites stay there, not run).
    args.run.suites.suites = written;
    args.run.suites.no_builtin = true;
    run(args.run)
}
