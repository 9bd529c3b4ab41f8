//! From options to results: load and plan suites, pick a target (or start
//! the built-in double), probe it, run, and decide the exit code.

use std::path::PathBuf;
use std::sync::Arc;

use serde_json::Value;

use crate::check::schema::{self, SchemaSet};
use crate::check::snapshot::SnapshotStore;
use crate::diagnostic::{Diagnostic, Diagnostics, Source};
use crate::exec::{RunContext, ScenarioResult, new_run_id, run_plan};
use crate::http::{Client, SentRequest, TransportError};
use crate::plan::{Plan, SuiteInput, plan};
use crate::scim::schema::Published;
use crate::suite;
use crate::target::Target;

/// Where suites come from.
#[derive(Debug, Clone, Default)]
pub struct SuiteSources {
    pub builtin: bool,
    pub dirs: Vec<PathBuf>,
}

#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("{0}")]
    Suites(Diagnostics),
    #[error(
        "cannot read suites from {dir}: {source} (give a folder of suite files or one .yaml file)"
    )]
    Io { dir: String, source: std::io::Error },
}

/// Every suite file, each with its slug (`rfc7644::users`).
fn inputs(sources: &SuiteSources) -> Result<Vec<(String, Source)>, LoadError> {
    let mut files = Vec::new();
    if sources.builtin {
        for source in suite::builtin_sources() {
            let slug = slug(source.name.trim_start_matches("suites/"));
            files.push((slug, source));
        }
    }
    for dir in &sources.dirs {
        let found = suite::sources_in(dir).map_err(|source| LoadError::Io {
            dir: dir.display().to_string(),
            source,
        })?;
        for source in found {
            // A single file is known by its name; a folder's files by their path in it.
            let relative = match dir.is_file() {
                true => dir.file_name().map(|n| n.to_string_lossy().into_owned()),
                false => std::path::Path::new(&source.name)
                    .strip_prefix(dir)
                    .ok()
                    .map(|p| p.display().to_string()),
            }
            .unwrap_or_else(|| source.name.clone());
            files.push((slug(&relative), source));
        }
    }
    Ok(files)
}

/// `rfc7644/users.yaml` -> `rfc7644::users`.
fn slug(relative: &str) -> String {
    let without_extension = relative
        .strip_suffix(".yaml")
        .or_else(|| relative.strip_suffix(".yml"))
        .unwrap_or(relative);
    without_extension.replace(['/', '\\'], "::")
}

/// Loads and plans every suite; all mistakes are reported together.
pub fn load_plan(sources: &SuiteSources) -> Result<Plan, LoadError> {
    let mut loaded = Vec::new();
    let mut diagnostics: Vec<Diagnostic> = Vec::new();
    for (slug, source) in inputs(sources)? {
        match suite::parse(source) {
            Ok(suite) => loaded.push(SuiteInput { slug, suite }),
            Err(d) => diagnostics.push(d),
        }
    }
    let planned = plan(loaded, &schema::names());
    match planned {
        Err(Diagnostics(more)) => {
            diagnostics.extend(more);
            Err(LoadError::Suites(Diagnostics(diagnostics)))
        }
        Ok(_) if !diagnostics.is_empty() => Err(LoadError::Suites(Diagnostics(diagnostics))),
        Ok(plan) => Ok(plan),
    }
}

/// Keeps the scenarios a filter names: `tag:NAME` for a tag (of the scenario
/// or its suite), anything else a part of the full name. No filter keeps all.
pub fn select(mut plan: Plan, filters: &[String]) -> Plan {
    if filters.is_empty() {
        return plan;
    }
    for suite in &mut plan.suites {
        let suite_tags = suite.tags.clone();
        suite.scenarios.retain(|scenario| {
            filters.iter().any(|f| match f.strip_prefix("tag:") {
                Some(tag) => scenario.tags.iter().chain(&suite_tags).any(|t| t == tag),
                None => scenario.full_name.contains(f.as_str()),
            })
        });
    }
    plan.suites.retain(|s| !s.scenarios.is_empty());
    plan
}

/// Keeps the suites of the given profiles, and those of no profile; none keeps all.
pub fn select_profiles(mut plan: Plan, profiles: &[&crate::report::verdict::Profile]) -> Plan {
    if profiles.is_empty() {
        return plan;
    }
    // A suite of no profile (the user's own, say) always runs.
    plan.suites.retain(|suite| match suite.profile {
        Some(id) => profiles.iter().any(|p| p.id == id),
        None => true,
    });
    plan
}

/// The plan with just one scenario, by its full name.
pub fn only(plan: &Plan, full_name: &str) -> Plan {
    let mut single = plan.clone();
    for suite in &mut single.suites {
        suite.scenarios.retain(|s| s.full_name == full_name);
    }
    single.suites.retain(|s| !s.scenarios.is_empty());
    single
}

#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error("the target {url} is unreachable: {reason}")]
    Unreachable { url: String, reason: String },
    #[error(
        "the target {url} {} ({status}): {} --token / SCIM_TOKEN (or --basic, --header); no scenario was run",
        if *given { "refused the credentials" } else { "requires credentials" },
        if *given { "check" } else { "give them with" }
    )]
    Credentials {
        status: u16,
        url: String,
        /// Whether the run had any to give.
        given: bool,
    },
    #[error("no SCIM endpoint at {url} ({seen}): check the base path; no scenario was run")]
    NoScim { url: String, seen: String },
    #[error("{0}")]
    Setup(String),
}

/// What a run needs besides the plan.
pub struct RunSettings {
    pub target: Target,
    pub concurrency: usize,
    pub snapshots: SnapshotStore,
    pub run_id: Option<String>,
    pub interrupt: crate::exec::Interrupt,
    /// Told each exchange and each scenario's result as they finish.
    pub observer: Option<Arc<dyn crate::exec::Observer>>,
    /// The ServiceProviderConfig a [`preflight`] already read, so the run
    /// does not probe the target a second time (None: the run probes).
    pub probed: Option<Result<Value, String>>,
}

/// The outcome of a run.
pub struct RunReport {
    pub run_id: String,
    pub results: Vec<ScenarioResult>,
    /// When a create's outcome was unknown (a 5xx, no answer, no id), the
    /// run's resources looked for by name afterwards and deleted: what that
    /// found, or why it could not look.
    pub swept: Option<Result<crate::cleanup::CleanupReport, String>>,
}

/// Checks that the target answers as a SCIM endpoint with these credentials
/// (see [`probe`]), without running anything; gives the ServiceProviderConfig
/// read (or why it could not be), for [`RunSettings::probed`].
pub async fn preflight(target: &Target) -> Result<Result<Value, String>, RunError> {
    let client = Client::new(target).map_err(|e| RunError::Setup(e.to_string()))?;
    probe(&client, target).await
}

/// Probes the target, then runs the plan.
pub async fn run(plan: &Plan, settings: RunSettings) -> Result<RunReport, RunError> {
    let client = Client::new(&settings.target).map_err(|e| RunError::Setup(e.to_string()))?;
    let schemas: Arc<SchemaSet> = SchemaSet::load().map_err(RunError::Setup)?;
    let features = match settings.probed {
        Some(probed) => probed,
        None => probe(&client, &settings.target).await?,
    };
    let needs_features = plan
        .scenarios()
        .any(|(_, s)| !s.requires.is_empty() || s.steps.iter().any(|st| !st.requires.is_empty()));
    // /Schemas, read once: the optional attributes steps rely on, and what
    // a strict server requires in every create.
    let published = get_json(&client, &settings.target, "/Schemas")
        .await
        .ok()
        .and_then(Result::ok)
        .map(|answer| Published::from_json(&answer));
    let declared = published.as_ref().and_then(declared_attributes);
    let required = published
        .as_ref()
        .map(crate::required::Required::from_published)
        .filter(|r| !r.is_empty());
    let run_id = settings.run_id.unwrap_or_else(new_run_id);
    let secrets = settings.target.secrets();
    let ctx = RunContext {
        client,
        target: settings.target,
        run_id: run_id.clone(),
        schemas,
        snapshots: settings.snapshots,
        features: needs_features.then_some(features),
        interrupt: settings.interrupt,
        secrets,
        observer: settings.observer,
        declared,
        required,
        deleted: Default::default(),
    };
    let first = run_plan(&ctx, plan, settings.concurrency).await;
    let (results, replaced) = match settings.concurrency > 1 {
        true => again_alone(&ctx, plan, first).await,
        false => (first, Vec::new()),
    };
    // The runs replaced by a run alone created things too.
    let in_doubt =
        |r: &[ScenarioResult]| creates_with_unknown_outcome(r, &ctx.target) + ids_not_the_runs(r);
    let swept = match in_doubt(&results) + in_doubt(&replaced) {
        0 => None,
        _ => Some(sweep(&ctx, &run_id).await),
    };
    Ok(RunReport {
        run_id,
        results,
        swept,
    })
}

/// Scenarios that failed on a 5xx while others ran beside them, run again
/// alone, one after another. Servers on a single-writer store (SQLite)
/// answer some concurrent writes with 500; such an answer that does not
/// recur alone is told as "under concurrency", apart from conformance, and
/// the result alone stands. One that recurs is a finding as it was. Gives
/// the results, and the first runs that were replaced.
async fn again_alone(
    ctx: &RunContext,
    plan: &Plan,
    mut results: Vec<ScenarioResult>,
) -> (Vec<ScenarioResult>, Vec<ScenarioResult>) {
    let scenarios: Vec<_> = plan.scenarios().collect();
    let mut replaced = Vec::new();
    for (i, (suite, scenario)) in scenarios.iter().enumerate() {
        let errors = results[i].server_errors();
        if errors.is_empty() || ctx.interrupt.is_set() {
            continue;
        }
        // An index of its own: the run alone creates under names of its own.
        let alone =
            crate::exec::run_scenario(ctx, plan, suite, scenario, scenarios.len() + i).await;
        if alone.server_errors().is_empty() {
            let mut alone = alone;
            alone.under_concurrency = errors;
            if let Some(observer) = &ctx.observer {
                observer.scenario_finished(&alone);
            }
            replaced.push(std::mem::replace(&mut results[i], alone));
        } else {
            replaced.push(alone);
        }
    }
    (results, replaced)
}

/// How many creates may have made something the run holds no id of: a
/// POST to a collection answered 5xx, not answered, or answered 2xx
/// without an id.
fn creates_with_unknown_outcome(results: &[ScenarioResult], target: &Target) -> usize {
    results
        .iter()
        .flat_map(|r| r.exchanges())
        .filter(|(_, e)| {
            let path = crate::exec::relative_path(target, &e.request.url);
            crate::ownership::created_in(&e.request.method, path).is_some()
        })
        .filter(|(_, e)| match &e.response {
            Ok(r) if r.status >= 500 => true,
            Ok(r) if (200..300).contains(&r.status) => {
                r.json().ok().and_then(|v| v.get("id").cloned()).is_none()
            }
            Ok(_) => false,
            Err(_) => true,
        })
        .count()
}

/// How many ids a create answered turned out to hold another resource
/// (a write refused, a cleanup left alone): the run's own resource behind
/// each is still on the server, under an id the run never learned.
fn ids_not_the_runs(results: &[ScenarioResult]) -> usize {
    let refused = results
        .iter()
        .flat_map(|r| &r.steps)
        .filter(|s| {
            s.failures
                .iter()
                .any(|f| f.check == crate::exec::OWNERSHIP_CHECK)
        })
        .count();
    let left_alone = results
        .iter()
        .flat_map(|r| &r.cleanups)
        .filter(|c| c.left_alone)
        .count();
    refused + left_alone
}

/// Looks for the run's users and groups by name and deletes each whose id
/// holds it (as `cleanup --run-id` does), within the cleanup budget.
async fn sweep(ctx: &RunContext, run_id: &str) -> Result<crate::cleanup::CleanupReport, String> {
    let sweep = crate::cleanup::cleanup_run(&ctx.client, &ctx.target, run_id);
    match tokio::time::timeout(crate::exec::CLEANUP_BUDGET, sweep).await {
        Ok(outcome) => outcome.map_err(|e| e.to_string()),
        Err(_) => Err(format!(
            "not done within {} s",
            crate::exec::CLEANUP_BUDGET.as_secs()
        )),
    }
}

/// The scenarios of `plan` that cannot run against `target`, each with the
/// reason (a feature its ServiceProviderConfig does not claim, no
/// credentials to withhold), without running any.
pub async fn unmet_requirements(
    plan: &Plan,
    target: &Target,
) -> Result<Vec<(String, String)>, RunError> {
    let client = Client::new(target).map_err(|e| RunError::Setup(e.to_string()))?;
    let features = probe(&client, target).await?;
    Ok(plan
        .scenarios()
        .filter_map(|(_, s)| {
            crate::exec::unmet(&s.requires, target, Some(&features))
                .map(|why| (s.full_name.clone(), why))
        })
        .collect())
}

/// Whether a run has the schema-driven suite: it belongs to the built-in
/// RFC suites, so only with them and with the `rfc` profile (or all).
pub fn schema_driven_applies(builtin: bool, profiles: &[String]) -> bool {
    builtin && (profiles.is_empty() || profiles.iter().any(|p| p == "rfc"))
}

/// `plan` with the schema-driven scenarios matching `filters` when they
/// apply ([`schema_driven_applies`]), and why they could not be had, if so
/// (the caller tells the user; the discovery suite fails on it anyway).
pub async fn with_schema_driven(
    plan: Plan,
    target: &Target,
    builtin: bool,
    profiles: &[String],
    filters: &[String],
) -> (Plan, Option<String>) {
    if !schema_driven_applies(builtin, profiles) {
        return (plan, None);
    }
    match schema_driven(target, filters).await {
        Ok(Some(more)) => (merge(plan, more), None),
        Ok(None) => (plan, None),
        Err(why) => (plan, Some(why)),
    }
}

/// The suite derived from the target's own `/Schemas`
/// ([`crate::generate::schema`]), planned and filtered like the others; None
/// when those schemas give nothing to check. An error says why the schemas
/// could not be read (the discovery suite reports that as a failure).
pub async fn schema_driven(target: &Target, filters: &[String]) -> Result<Option<Plan>, String> {
    let client = Client::new(target).map_err(|e| e.to_string())?;
    let get = |path: &'static str| {
        let client = &client;
        async move {
            get_json(client, target, path)
                .await
                .map_err(|e| e.to_string())?
        }
    };
    let schemas = get("/Schemas").await?;
    let resource_types = get("/ResourceTypes").await.ok();
    let config = get("/ServiceProviderConfig").await.ok();
    let planned = plan_schema_driven(
        &schemas,
        resource_types.as_ref(),
        config.as_ref(),
        &target.base_url,
    )?;
    Ok(planned
        .map(|p| select(p, filters))
        .filter(|p| !p.suites.is_empty()))
}

/// The schema-driven suite for these discovery documents, planned; None
/// when they give nothing to check. Pure: `requirements` plans it for the
/// double's own documents to count what cites each requirement.
pub fn plan_schema_driven(
    schemas: &Value,
    resource_types: Option<&Value>,
    config: Option<&Value>,
    base_url: &str,
) -> Result<Option<Plan>, String> {
    let Some(text) = crate::generate::schema::generate(schemas, resource_types, config, base_url)
    else {
        return Ok(None);
    };
    // Written out as YAML, so that a finding's file:line:col can be opened.
    let yaml = serde_json::from_str(&text)
        .map(|suite| {
            crate::generate::write::with_header(
                "Generated by scimcheck from the target's GET /Schemas and /ResourceTypes.",
                &crate::generate::write::to_yaml(&suite),
            )
        })
        .unwrap_or(text);
    let source = match crate::generate::write::write_generated("schema-driven", &yaml) {
        Some(path) => Source::new(path.display().to_string(), yaml),
        None => Source::new(crate::generate::schema::SOURCE_NAME, yaml),
    };
    let suite = suite::parse(source).map_err(|d| format!("scimcheck bug: {d}"))?;
    let planned = plan(
        vec![SuiteInput {
            slug: crate::generate::schema::SLUG.to_string(),
            suite,
        }],
        &schema::names(),
    )
    .map_err(|d| format!("scimcheck bug: {d}"))?;
    Ok(Some(planned))
}

/// Every built-in check: the built-in suites, and the schema-driven suite
/// as the double's own discovery documents give it (what a run against a
/// server declaring the same would generate).
pub fn builtin_checks() -> Result<Plan, String> {
    let plan = load_plan(&SuiteSources {
        builtin: true,
        dirs: Vec::new(),
    })
    .map_err(|e| e.to_string())?;
    #[cfg(feature = "double")]
    {
        use crate::double::discovery;
        let base = "http://127.0.0.1/scim/v2";
        let list = |resources: Vec<Value>| serde_json::json!({ "Resources": resources });
        let config = discovery::service_provider_config(base, &Default::default());
        let generated = plan_schema_driven(
            &list(discovery::schemas(base, &Default::default())),
            Some(&list(discovery::resource_types(base))),
            Some(&config),
            base,
        )?;
        if let Some(generated) = generated {
            return Ok(merge(plan, generated));
        }
    }
    Ok(plan)
}

/// Adds the scenarios of `more` to `plan`.
pub fn merge(mut plan: Plan, more: Plan) -> Plan {
    plan.suites.extend(more.suites);
    plan.env.extend(more.env);
    plan
}

/// Reads the ServiceProviderConfig, before any scenario: a target that
/// cannot be reached, refuses the credentials, or has no SCIM endpoint at the
/// base URL is an error, told once, instead of a failure in every scenario.
async fn probe(client: &Client, target: &Target) -> Result<Result<Value, String>, RunError> {
    let secrets = target.secrets();
    let config = match get_json(client, target, "/ServiceProviderConfig").await {
        Err(e @ (TransportError::Connect(_) | TransportError::Timeout(_))) => {
            return Err(RunError::Unreachable {
                url: target.base_url.clone(),
                reason: crate::target::redact(&e.to_string(), &secrets),
            });
        }
        Err(e) => Err(e.to_string()),
        Ok(answer) => answer,
    };
    // Discovery may be open to anyone (RFC 7644 4), so the credentials are
    // tried where they are needed: one harmless read of the Users endpoint.
    let users = answer_of(client, target, "/Users?count=1").await;
    if matches!(users.status, Some(401 | 403)) {
        return Err(RunError::Credentials {
            status: users.status.unwrap_or_default(),
            url: target.base_url.clone(),
            given: target.authorization().is_some() || !target.headers.is_empty(),
        });
    }
    // Both a 404 (or no JSON at all) where the two must-have endpoints should
    // be: the base path is wrong, whatever the server's error bodies look like.
    let missing = |scim: bool, status: Option<u16>| !scim || status == Some(404);
    if let Err(why) = &config
        && missing(users.scim, users.status)
    {
        return Err(RunError::NoScim {
            url: target.base_url.clone(),
            seen: crate::target::redact(&format!("{why}; {}", users.said), &secrets),
        });
    }
    Ok(config)
}

/// What a GET answered, for the preflight's messages.
struct Answer {
    status: Option<u16>,
    /// Whether the body is JSON, as a SCIM endpoint's always is (RFC 7644 3.12).
    scim: bool,
    said: String,
}

async fn answer_of(client: &Client, target: &Target, path: &str) -> Answer {
    let request = SentRequest::to(target, http::Method::GET, path);
    let exchange = crate::exec::send_with_retries(client, request).await;
    match exchange.response {
        Ok(r) => Answer {
            status: Some(r.status),
            scim: r.json().is_ok(),
            said: format!(
                "GET {path} answered {} ({})",
                r.status,
                r.header("content-type").unwrap_or("no content-type")
            ),
        },
        Err(e) => Answer {
            status: None,
            scim: false,
            said: format!("GET {path}: {e}"),
        },
    }
}

/// The User attributes the target's /Schemas declares: each attribute and
/// each `parent.sub`, lower-case, from the core User schema and its
/// extensions. None when /Schemas cannot be read or lists no User schema:
/// then RFC 7643's core is assumed and nothing is left out for it.
pub fn declared_attributes(published: &Published) -> Option<std::collections::BTreeSet<String>> {
    use crate::scim::schema::{ENTERPRISE_USER, USER};
    let mut out = std::collections::BTreeSet::new();
    for attribute in [USER, ENTERPRISE_USER]
        .into_iter()
        .filter_map(|urn| published.attrs(urn))
        .flatten()
    {
        let name = attribute.name.to_ascii_lowercase();
        for sub in &attribute.sub {
            out.insert(format!("{name}.{}", sub.name.to_ascii_lowercase()));
        }
        out.insert(name);
    }
    (!out.is_empty()).then_some(out)
}

/// Checks a base URL before anything is sent: an absolute http(s) URL with
/// a host, no query or fragment (paths are appended to it).
pub fn check_base_url(base_url: &str) -> Result<(), String> {
    let hint = "write it as an absolute URL, such as https://app.example.com/scim/v2";
    let url = reqwest::Url::parse(base_url)
        .map_err(|e| format!("--base-url `{base_url}` is not a URL ({e}): {hint}"))?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return Err(format!(
            "--base-url `{base_url}` is not an http(s) URL with a host: {hint}"
        ));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(format!(
            "--base-url `{base_url}` has a query or fragment: give the base path only, paths such as /Users are appended to it"
        ));
    }
    Ok(())
}

/// GETs `path` below the base URL and reads its JSON: Err when no answer
/// came (for the caller to judge), Ok(Err) when the answer was not a 200 JSON.
async fn get_json(
    client: &Client,
    target: &Target,
    path: &str,
) -> Result<Result<Value, String>, TransportError> {
    let request = SentRequest::to(target, http::Method::GET, path);
    let url = request.url.clone();
    // Discovery is read once for the whole run: a transient 5xx must not
    // skip every scenario that needs it.
    let exchange = crate::exec::send_with_retries(client, request).await;
    let response = exchange.response?;
    Ok(match response.status {
        200 => response
            .json()
            .map_err(|e| format!("GET {url} did not answer JSON: {e}")),
        status => Err(format!("GET {url} answered {status}")),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_follow_the_path() {
        assert_eq!(slug("rfc7644/users.yaml"), "rfc7644::users");
        assert_eq!(slug("mine.yml"), "mine");
    }
}
