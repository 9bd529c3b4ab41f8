//! Raw suites -> a checked [`Plan`].
//!
//! Every mistake a suite can hold is found here, before anything is sent:
//! templates that do not parse or use undefined variables, unset environment
//! variables, unknown schemas, bad regular expressions, duplicate ids,
//! malformed statuses, methods, paths and captures. All of them are collected,
//! not just the first, each pointing at its line.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;
use serde_saphyr::Spanned;

use crate::check::predicate::{Predicate, parse_predicates, predicate_vars};
use crate::diagnostic::{Diagnostic, Diagnostics, Pos, Source, Span, did_you_mean};
use crate::suite::{LoadedSuite, RawExpect, RawRequest, RawScenario, RawStep};
use crate::template::{Template, TemplateError, ValueTemplate, VarRef};

/// ServiceProviderConfig features a suite may require, and `auth`: the run
/// has credentials, so requests without them can be tried.
pub const FEATURES: [&str; 7] = [
    "filter",
    "patch",
    "sort",
    "etag",
    "bulk",
    "changePassword",
    "auth",
];

#[derive(Debug, Clone)]
pub struct Plan {
    pub suites: Vec<SuitePlan>,
    /// The environment variables the suites use, read once at planning.
    pub env: BTreeMap<String, String>,
}

impl Plan {
    pub fn scenarios(&self) -> impl Iterator<Item = (&SuitePlan, &ScenarioPlan)> {
        self.suites
            .iter()
            .flat_map(|s| s.scenarios.iter().map(move |sc| (s, sc)))
    }
}

#[derive(Debug, Clone)]
pub struct SuitePlan {
    /// `rfc7644::users`: from the file's path under its suites folder.
    pub slug: String,
    pub name: String,
    pub source: Source,
    pub tags: Vec<String>,
    /// The client profile it belongs to (its `profile:`, else its folder's), if any.
    pub profile: Option<&'static str>,
    pub vars: Vec<(String, ValueTemplate)>,
    pub scenarios: Vec<ScenarioPlan>,
}

#[derive(Debug, Clone)]
pub struct ScenarioPlan {
    /// `rfc7644::users::create_user`.
    pub full_name: String,
    /// Where its id is written.
    pub span: Span,
    pub id: String,
    pub description: Option<String>,
    pub tags: Vec<String>,
    pub requires: Vec<String>,
    pub steps: Vec<StepPlan>,
}

#[derive(Debug, Clone)]
pub struct StepPlan {
    pub id: String,
    pub span: Span,
    /// What the step's checks cite: its own references, else its scenario's, else its suite's.
    pub spec: Vec<String>,
    pub request: RequestPlan,
    pub expectations: Vec<Expectation>,
    /// SHOULD-level checks (`advise:`).
    pub advisories: Vec<Expectation>,
    /// INFO-level observations (`inform:`).
    pub observations: Vec<Expectation>,
    pub impact: Option<String>,
    pub fix: Option<String>,
    /// Texts for a status other than the one asked, where they differ.
    pub status_impact: Option<String>,
    pub status_fix: Option<String>,
    pub advice: Option<String>,
    pub note: Option<String>,
    pub captures: Vec<Capture>,
    pub cleanup: Option<RequestPlan>,
    /// Registered when the answer is 201 whatever the checks said, with `created_id`.
    pub cleanup_if_created: Option<RequestPlan>,
    /// The ids of the earlier steps this one builds on: it runs only when
    /// every one of them passed, and is reported as not run otherwise.
    pub needs: Vec<String>,
    /// A step that only prepares: its failure is "could not set up", not a finding.
    pub setup: bool,
    /// Statuses meaning the optional feature it tries is not offered.
    pub not_offered: Vec<u16>,
    /// The earlier step this one stands in for, when that step failed.
    pub fallback_for: Option<String>,
    /// Optional User attributes it relies on, lower-case (`emails.type`).
    pub attributes: Vec<String>,
    /// Optional features it relies on (`filter`).
    pub requires: Vec<String>,
    /// The variables its request and checks use: one an earlier step could
    /// not capture keeps it from running.
    pub uses: Vec<String>,
    /// How long to wait before sending.
    pub wait: Option<std::time::Duration>,
    /// The catalogue requirements its checks verify.
    pub verifies: Vec<String>,
}

impl StepPlan {
    /// The statuses its MUST checks accept (none when it checks no status).
    pub fn asked_statuses(&self) -> &[u16] {
        self.expectations
            .iter()
            .find_map(|e| match &e.kind {
                ExpectationKind::Status(codes) => Some(codes.as_slice()),
                _ => None,
            })
            .unwrap_or(&[])
    }
}

/// The longest `wait_ms` a step may ask for: a suite waits to cross a
/// clock's granularity, never to slow a run down.
pub const MAX_WAIT_MS: u64 = 5000;

#[derive(Debug, Clone)]
pub enum Body {
    None,
    Json(ValueTemplate),
    Raw(Template),
}

#[derive(Debug, Clone)]
pub struct RequestPlan {
    pub span: Span,
    pub method: http::Method,
    pub path: Template,
    pub query: Vec<(String, Template)>,
    pub headers: Vec<(String, Template)>,
    pub body: Body,
    /// Whether the target's credentials go with it.
    pub auth: bool,
}

pub use crate::check::expectation::{Expectation, ExpectationKind};

/// The variable `cleanup_if_created` finds the new resource's id in.
pub const CREATED_ID: &str = "created_id";

#[derive(Debug, Clone)]
pub struct Capture {
    pub name: String,
    pub span: Span,
    pub from: CaptureFrom,
}

#[derive(Debug, Clone)]
pub enum CaptureFrom {
    Pointer(String),
    Header(String),
}

/// A suite file with the name it is known by.
pub struct SuiteInput {
    pub slug: String,
    pub suite: LoadedSuite,
}

/// Plans every suite, reporting all mistakes at once.
pub fn plan(inputs: Vec<SuiteInput>, known_schemas: &[&str]) -> Result<Plan, Diagnostics> {
    let mut planner = Planner {
        known_schemas,
        diagnostics: Vec::new(),
        env: BTreeMap::new(),
        used: BTreeSet::new(),
    };
    let mut suites = Vec::new();
    // Two files with the same slug would give two scenarios one name; a
    // duplicate within a file was reported already, as a duplicate id.
    let mut owners: std::collections::BTreeMap<String, String> = Default::default();
    for input in inputs {
        let suite = planner.suite(input);
        for scenario in &suite.scenarios {
            match owners.get(&scenario.full_name) {
                Some(owner) if *owner != suite.source.name => planner.error(
                    Diagnostic::new(
                        scenario.span.clone(),
                        format!(
                            "scenario `{}` is also defined in {owner}",
                            scenario.full_name
                        ),
                    )
                    .with_hint(
                        "two suite files have the same path under their folders; rename one",
                    ),
                ),
                Some(_) => {}
                None => {
                    owners.insert(scenario.full_name.clone(), suite.source.name.clone());
                }
            }
        }
        suites.push(suite);
    }
    if planner.diagnostics.is_empty() {
        Ok(Plan {
            suites,
            env: planner.env,
        })
    } else {
        Err(Diagnostics(planner.diagnostics))
    }
}

struct Planner<'a> {
    known_schemas: &'a [&'a str],
    diagnostics: Vec<Diagnostic>,
    env: BTreeMap<String, String>,
    /// The named variables the step being planned uses.
    used: BTreeSet<String>,
}

/// The names a template may use at one point of a scenario.
#[derive(Clone, Default)]
struct Known {
    names: BTreeSet<String>,
    /// The step that captured each captured name.
    providers: BTreeMap<String, String>,
}

impl<'a> Planner<'a> {
    fn error(&mut self, diagnostic: Diagnostic) {
        self.diagnostics.push(diagnostic);
    }

    fn span<T>(source: &Source, spanned: &Spanned<T>) -> Span {
        Span {
            source: source.clone(),
            pos: Pos::from(spanned.referenced),
        }
    }

    fn suite(&mut self, input: SuiteInput) -> SuitePlan {
        let LoadedSuite { source, raw } = input.suite;
        let suite_spec = strings(&raw.spec);
        let mut known = Known::default();
        let mut vars = Vec::new();
        for (name, value) in &raw.vars {
            let span = Self::span(&source, value);
            if matches!(name.as_str(), "run_id" | "uuid" | "env") {
                self.error(
                    Diagnostic::new(span.clone(), format!("`{name}` is a built-in name"))
                        .with_hint("choose another variable name"),
                );
            }
            if let Some(t) = self.value_template(&span, &value.value, &known) {
                vars.push((name.clone(), t));
            }
            known.names.insert(name.clone());
        }
        for feature in &raw.requires {
            self.feature(&source, feature);
        }
        let mut scenario_ids = BTreeSet::new();
        let mut snapshots = BTreeSet::new();
        let scenarios = raw
            .scenarios
            .iter()
            .map(|scenario| {
                if !scenario_ids.insert(scenario.id.value.clone()) {
                    self.error(
                        Diagnostic::new(
                            Self::span(&source, &scenario.id),
                            format!("duplicate scenario id `{}`", scenario.id.value),
                        )
                        .with_hint("scenario ids must be unique within a suite"),
                    );
                }
                let mut plan = self.scenario(&source, &input.slug, scenario, &suite_spec, &known);
                plan.requires.extend(strings(&raw.requires));
                for step in &plan.steps {
                    for e in &step.expectations {
                        if let ExpectationKind::Snapshot(name) = &e.kind
                            && !snapshots.insert(name.clone())
                        {
                            self.error(
                                Diagnostic::new(
                                    e.span.clone(),
                                    format!("snapshot `{name}` is used twice in this suite"),
                                )
                                .with_hint("each snapshot name stands for one response"),
                            );
                        }
                    }
                }
                plan
            })
            .collect();
        let folder = input.slug.split("::").next().unwrap_or_default();
        let profile = match &raw.profile {
            Some(named) => match crate::profile::profile(&named.value) {
                Some(p) => Some(p.id),
                None => {
                    let ids = crate::profile::PROFILES.map(|p| p.id);
                    let mut d = Diagnostic::new(
                        Self::span(&source, named),
                        format!("unknown profile `{}`", named.value),
                    );
                    d = match did_you_mean(&named.value, ids) {
                        Some(best) => d.with_hint(format!("did you mean `{best}`?")),
                        None => d.with_hint(format!("profiles are {}", ids.join(", "))),
                    };
                    self.error(d);
                    None
                }
            },
            None => crate::profile::PROFILES
                .iter()
                .find(|p| p.folder == folder)
                .map(|p| p.id),
        };
        SuitePlan {
            profile,
            slug: input.slug,
            name: raw.name.value.clone(),
            source: source.clone(),
            tags: strings(&raw.tags),
            vars,
            scenarios,
        }
    }

    fn feature(&mut self, source: &Source, feature: &Spanned<String>) {
        if !FEATURES.contains(&feature.value.as_str()) {
            let mut d = Diagnostic::new(
                Self::span(source, feature),
                format!("unknown feature `{}`", feature.value),
            );
            d = match did_you_mean(&feature.value, FEATURES) {
                Some(best) => d.with_hint(format!("did you mean `{best}`?")),
                None => d.with_hint(format!("features are {}", FEATURES.join(", "))),
            };
            self.error(d);
        }
    }

    fn scenario(
        &mut self,
        source: &Source,
        slug: &str,
        raw: &RawScenario,
        suite_spec: &[String],
        suite_known: &Known,
    ) -> ScenarioPlan {
        let mut known = suite_known.clone();
        let scenario_spec = or_else(strings(&raw.spec), suite_spec);
        for feature in &raw.requires {
            self.feature(source, feature);
        }
        if raw.steps.is_empty() {
            self.error(Diagnostic::new(
                Self::span(source, &raw.id),
                format!("scenario `{}` has no steps", raw.id.value),
            ));
        }
        let mut step_ids: Vec<String> = Vec::new();
        let mut step_needs: BTreeMap<String, Vec<String>> = BTreeMap::new();
        let steps = raw
            .steps
            .iter()
            .filter_map(|step| {
                if step_ids.contains(&step.id.value) {
                    self.error(
                        Diagnostic::new(
                            Self::span(source, &step.id),
                            format!("duplicate step id `{}`", step.id.value),
                        )
                        .with_hint("step ids must be unique within a scenario"),
                    );
                }
                let planned = self.step(
                    source,
                    step,
                    &scenario_spec,
                    &mut known,
                    &step_ids,
                    &mut step_needs,
                );
                step_ids.push(step.id.value.clone());
                planned
            })
            .collect();
        ScenarioPlan {
            full_name: format!("{slug}::{}", raw.id.value),
            span: Self::span(source, &raw.id),
            id: raw.id.value.clone(),
            description: raw.description.clone(),
            tags: strings(&raw.tags),
            requires: strings(&raw.requires),
            steps,
        }
    }

    fn step(
        &mut self,
        source: &Source,
        raw: &RawStep,
        scenario_spec: &[String],
        known: &mut Known,
        earlier: &[String],
        step_needs: &mut BTreeMap<String, Vec<String>>,
    ) -> Option<StepPlan> {
        let span = Self::span(source, &raw.id);
        self.used.clear();
        for feature in &raw.requires {
            self.feature(source, feature);
        }
        let request = self.request(source, &raw.request, known);
        let expectations = self.expect(source, &raw.expect, known);
        let advisories = self.expect(source, &raw.advise, known);
        let observations = self.expect(source, &raw.inform, known);
        let mut captures = Vec::new();
        for (name, from) in &raw.capture {
            let cspan = Self::span(source, from);
            let parsed = if from.value.is_empty() || from.value.starts_with('/') {
                Some(CaptureFrom::Pointer(from.value.clone()))
            } else if let Some(header) = from.value.strip_prefix("header:") {
                Some(CaptureFrom::Header(header.trim().to_string()))
            } else {
                self.error(
                    Diagnostic::new(cspan.clone(), format!("cannot capture from `{}`", from.value))
                        .with_hint("capture a body member by JSON Pointer (`/id`) or a header (`header:Location`)"),
                );
                None
            };
            if let Some(from) = parsed {
                captures.push(Capture {
                    name: name.clone(),
                    span: cspan,
                    from,
                });
            }
        }
        let fallback_for = self.fallback_for(source, raw, earlier);
        let needs = match (&fallback_for, &raw.needs) {
            // A stand-in builds on what the step it replaces built on.
            (Some(replaced), None) => step_needs.get(replaced).cloned().unwrap_or_default(),
            _ => self.needs(source, raw, known, earlier),
        };
        let uses: Vec<String> = self.used.iter().cloned().collect();
        // The cleanup may use what this step captured; later steps may too.
        // A stand-in's captures take the place of its step's: later steps
        // keep needing that step, which the stand-in satisfies.
        for capture in &captures {
            known.names.insert(capture.name.clone());
            if fallback_for.is_none() {
                known
                    .providers
                    .insert(capture.name.clone(), raw.id.value.clone());
            }
        }
        step_needs.insert(raw.id.value.clone(), needs.clone());
        let cleanup = raw
            .cleanup
            .as_ref()
            .and_then(|c| self.request(source, c, known));
        let cleanup_if_created = raw.cleanup_if_created.as_ref().and_then(|c| {
            let mut with_created = known.clone();
            with_created.names.insert(CREATED_ID.to_string());
            self.request(source, c, &with_created)
        });
        let wait = match &raw.wait_ms {
            Some(ms) if ms.value > MAX_WAIT_MS => {
                self.error(
                    Diagnostic::new(
                        Self::span(source, ms),
                        format!("`wait_ms: {}` is too long", ms.value),
                    )
                    .with_hint(format!(
                        "wait at most {MAX_WAIT_MS} ms: enough to cross a clock's granularity"
                    )),
                );
                None
            }
            Some(ms) => Some(std::time::Duration::from_millis(ms.value)),
            None => None,
        };
        let verifies = self.verifies(source, &raw.verifies);
        Some(StepPlan {
            id: raw.id.value.clone(),
            wait,
            verifies,
            span,
            spec: or_else(strings(&raw.spec), scenario_spec),
            request: request?,
            expectations,
            advisories,
            observations,
            impact: raw.impact.clone(),
            status_impact: raw.on_wrong_status.as_ref().and_then(|t| t.impact.clone()),
            status_fix: raw.on_wrong_status.as_ref().and_then(|t| t.fix.clone()),
            fix: raw.fix.clone(),
            advice: raw.advice.clone(),
            note: raw.note.clone(),
            captures,
            cleanup,
            cleanup_if_created,
            needs,
            setup: raw.setup.as_ref().is_some_and(|s| s.value),
            not_offered: raw
                .not_offered
                .as_ref()
                .and_then(|n| self.statuses(source, n))
                .unwrap_or_default(),
            fallback_for,
            attributes: raw
                .attributes
                .iter()
                .map(|a| a.value.to_ascii_lowercase())
                .collect(),
            requires: strings(&raw.requires),
            uses,
        })
    }

    /// The requirement ids a step cites, each of which must be in the catalogue.
    fn verifies(&mut self, source: &Source, ids: &[Spanned<String>]) -> Vec<String> {
        let mut out = Vec::new();
        for id in ids {
            if crate::requirements::find(&id.value).is_some() {
                out.push(id.value.clone());
                continue;
            }
            let known = crate::requirements::catalogue()
                .iter()
                .map(|r| r.id.as_str());
            let d = Diagnostic::new(
                Self::span(source, id),
                format!("unknown requirement `{}`", id.value),
            );
            self.error(match did_you_mean(&id.value, known) {
                Some(best) => d.with_hint(format!("did you mean `{best}`?")),
                None => d.with_hint("`scimcheck requirements` lists the catalogue's ids"),
            });
        }
        out
    }

    /// The earlier step a stand-in replaces, which must exist.
    fn fallback_for(
        &mut self,
        source: &Source,
        raw: &RawStep,
        earlier: &[String],
    ) -> Option<String> {
        let replaced = raw.fallback_for.as_ref()?;
        if earlier.contains(&replaced.value) {
            return Some(replaced.value.clone());
        }
        self.not_an_earlier_step(
            source,
            "fallback_for",
            replaced,
            earlier,
            "a stand-in follows the step it stands in for",
        );
        None
    }

    /// `key` names a step that is not before this one: say so, with the
    /// closest earlier step as a hint.
    fn not_an_earlier_step(
        &mut self,
        source: &Source,
        key: &str,
        named: &Spanned<String>,
        earlier: &[String],
        otherwise: &str,
    ) {
        let d = Diagnostic::new(
            Self::span(source, named),
            format!(
                "`{key}` names `{}`, which is not an earlier step",
                named.value
            ),
        );
        let d = match did_you_mean(&named.value, earlier.iter().map(String::as_str)) {
            Some(best) => d.with_hint(format!("did you mean `{best}`?")),
            None => d.with_hint(otherwise),
        };
        self.error(d);
    }

    /// The steps a step builds on: those it names (every earlier one when it
    /// names none), and always those whose captures it uses.
    fn needs(
        &mut self,
        source: &Source,
        raw: &RawStep,
        known: &Known,
        earlier: &[String],
    ) -> Vec<String> {
        let mut needs: Vec<String> = match &raw.needs {
            None => earlier.to_vec(),
            Some(named) => {
                let mut out = Vec::new();
                for need in named {
                    if earlier.contains(&need.value) {
                        out.push(need.value.clone());
                        continue;
                    }
                    self.not_an_earlier_step(
                        source,
                        "needs",
                        need,
                        earlier,
                        "a step may only build on steps before it in its scenario",
                    );
                }
                out
            }
        };
        for name in &self.used {
            if let Some(provider) = known.providers.get(name)
                && !needs.contains(provider)
            {
                needs.push(provider.clone());
            }
        }
        needs
    }

    fn request(
        &mut self,
        source: &Source,
        raw: &Spanned<RawRequest>,
        known: &Known,
    ) -> Option<RequestPlan> {
        let span = Self::span(source, raw);
        let raw = &raw.value;
        let method_span = Self::span(source, &raw.method);
        let method = match raw.method.value.to_ascii_uppercase().as_str() {
            m @ ("GET" | "POST" | "PUT" | "PATCH" | "DELETE" | "HEAD" | "OPTIONS") => {
                http::Method::from_bytes(m.as_bytes()).ok()
            }
            _ => {
                self.error(
                    Diagnostic::new(
                        method_span,
                        format!("unknown HTTP method `{}`", raw.method.value),
                    )
                    .with_hint("use GET, POST, PUT, PATCH, DELETE, HEAD or OPTIONS"),
                );
                None
            }
        };
        let path_span = Self::span(source, &raw.path);
        if !raw.path.value.starts_with('/') {
            self.error(
                Diagnostic::new(
                    path_span.clone(),
                    format!("path `{}` does not start with `/`", raw.path.value),
                )
                .with_hint("paths are relative to the target's base URL, as in `/Users`"),
            );
        }
        let path = self.template(&path_span, &raw.path.value, known);
        let query = self.pairs(source, &raw.query, known);
        let headers = self.pairs(source, &raw.headers, known);
        let body = match (&raw.json, &raw.body) {
            (Some(_), Some(body)) => {
                self.error(
                    Diagnostic::new(
                        Self::span(source, body),
                        "a request has either `json` or `body`, not both",
                    )
                    .with_hint("keep `json` for a JSON body, `body` for raw text"),
                );
                None
            }
            (Some(json), None) => self
                .value_template(&Self::span(source, json), &json.value, known)
                .map(Body::Json),
            (None, Some(body)) => self
                .template(&Self::span(source, body), &body.value, known)
                .map(Body::Raw),
            (None, None) => Some(Body::None),
        };
        Some(RequestPlan {
            span,
            method: method?,
            path: path?,
            query: query?,
            headers: headers?,
            body: body?,
            auth: raw.auth.as_ref().is_none_or(|a| a.value),
        })
    }

    fn pairs(
        &mut self,
        source: &Source,
        raw: &indexmap::IndexMap<String, Spanned<String>>,
        known: &Known,
    ) -> Option<Vec<(String, Template)>> {
        let mut out = Vec::new();
        let mut ok = true;
        for (name, value) in raw {
            match self.template(&Self::span(source, value), &value.value, known) {
                Some(t) => out.push((name.clone(), t)),
                None => ok = false,
            }
        }
        ok.then_some(out)
    }

    /// A status (`201`) or a list of them (`[200, 204]`).
    fn statuses(&mut self, source: &Source, status: &Spanned<Value>) -> Option<Vec<u16>> {
        let codes: Option<Vec<u16>> = match &status.value {
            Value::Array(items) if !items.is_empty() => items.iter().map(status_code).collect(),
            single => status_code(single).map(|c| vec![c]),
        };
        if codes.is_none() {
            self.error(
                Diagnostic::new(
                    Self::span(source, status),
                    format!("invalid status {}", status.value),
                )
                .with_hint("write a status code (`201`) or a list of accepted ones (`[200, 204]`)"),
            );
        }
        codes
    }

    fn expect(&mut self, source: &Source, raw: &RawExpect, known: &Known) -> Vec<Expectation> {
        let mut out = Vec::new();
        if let Some(status) = &raw.status
            && let Some(codes) = self.statuses(source, status)
        {
            out.push(Expectation {
                span: Self::span(source, status),
                kind: ExpectationKind::Status(codes),
            });
        }
        for (name, written) in &raw.headers {
            let span = Self::span(source, written);
            if let Some(predicates) = self.predicates(&span, &written.value, known) {
                out.push(Expectation {
                    span,
                    kind: ExpectationKind::Header {
                        name: name.to_ascii_lowercase(),
                        predicates,
                    },
                });
            }
        }
        if let Some(schema) = &raw.schema {
            let span = Self::span(source, schema);
            if self.known_schemas.contains(&schema.value.as_str()) {
                out.push(Expectation {
                    span,
                    kind: ExpectationKind::Schema(schema.value.clone()),
                });
            } else {
                let mut d = Diagnostic::new(span, format!("unknown schema `{}`", schema.value));
                d = match did_you_mean(&schema.value, self.known_schemas.iter().copied()) {
                    Some(best) => d.with_hint(format!("did you mean `{best}`?")),
                    None => d.with_hint(format!("schemas are {}", self.known_schemas.join(", "))),
                };
                self.error(d);
            }
        }
        let json = raw.json.iter().map(|j| (j, false));
        for ((pointer, written), returned) in json.chain(raw.returned.iter().map(|j| (j, true))) {
            let span = Self::span(source, written);
            if pointer.contains("{{") {
                // A pointer is looked up as written: a placeholder in it would
                // be searched for literally and reported "absent".
                self.error(
                    Diagnostic::new(span.clone(), format!("`{pointer}` holds a template"))
                        .with_hint("JSON Pointers are taken literally: write the attribute's name, or check the parent object with `contains`"),
                );
                continue;
            }
            if !(pointer.is_empty() || pointer.starts_with('/')) {
                self.error(
                    Diagnostic::new(span.clone(), format!("`{pointer}` is not a JSON Pointer"))
                        .with_hint(format!("JSON Pointers start with `/`, as in `/{pointer}`")),
                );
                continue;
            }
            // `label` sits beside the predicates and is none of them.
            let mut value = written.value.clone();
            let label = match value.as_object_mut().map(|o| o.remove("label")) {
                Some(Some(Value::String(label))) => Some(label),
                Some(Some(other)) => {
                    self.error(
                        Diagnostic::new(span.clone(), format!("`label` takes a string, not {other}"))
                            .with_hint("write what the value stands for, as in `label: \"department ← [department]\"`"),
                    );
                    continue;
                }
                _ => None,
            };
            if let Some(predicates) = self.predicates(&span, &value, known) {
                out.push(Expectation {
                    span,
                    kind: ExpectationKind::Json {
                        pointer: pointer.clone(),
                        predicates,
                        label,
                        returned,
                    },
                });
            }
        }
        if let Some(snapshot) = &raw.snapshot {
            let span = Self::span(source, snapshot);
            let valid = !snapshot.value.is_empty()
                && snapshot
                    .value
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
            if valid {
                out.push(Expectation {
                    span,
                    kind: ExpectationKind::Snapshot(snapshot.value.clone()),
                });
            } else {
                self.error(
                    Diagnostic::new(span, format!("invalid snapshot name `{}`", snapshot.value))
                        .with_hint("use letters, digits, `_` and `-`"),
                );
            }
        }
        if let Some(empty) = &raw.empty_body
            && empty.value
        {
            out.push(Expectation {
                span: Self::span(source, empty),
                kind: ExpectationKind::EmptyBody,
            });
        }
        out
    }

    fn predicates(
        &mut self,
        span: &Span,
        written: &Value,
        known: &Known,
    ) -> Option<Vec<Predicate>> {
        match parse_predicates(written) {
            Ok(predicates) => {
                let vars: Vec<VarRef> = predicates
                    .iter()
                    .flat_map(predicate_vars)
                    .cloned()
                    .collect();
                self.check_vars(span, vars.iter(), known)
                    .then_some(predicates)
            }
            Err(e) => {
                let mut d = Diagnostic::new(span.clone(), e.message);
                if let Some(hint) = e.hint {
                    d = d.with_hint(hint);
                }
                self.error(d);
                None
            }
        }
    }

    fn template(&mut self, span: &Span, text: &str, known: &Known) -> Option<Template> {
        match Template::parse(text) {
            Ok(t) => self.check_vars(span, t.vars(), known).then_some(t),
            Err(e) => {
                self.template_error(span, e);
                None
            }
        }
    }

    fn value_template(
        &mut self,
        span: &Span,
        value: &Value,
        known: &Known,
    ) -> Option<ValueTemplate> {
        match ValueTemplate::parse(value) {
            Ok(t) => self
                .check_vars(span, t.vars().into_iter(), known)
                .then_some(t),
            Err(e) => {
                self.template_error(span, e);
                None
            }
        }
    }

    fn template_error(&mut self, span: &Span, e: TemplateError) {
        self.error(Diagnostic::new(span.clone(), e.message).with_hint(e.hint));
    }

    /// Every variable must be defined before use; env variables must be set.
    fn check_vars<'v>(
        &mut self,
        span: &Span,
        vars: impl Iterator<Item = &'v VarRef>,
        known: &Known,
    ) -> bool {
        let mut ok = true;
        for var in vars {
            match var {
                VarRef::RunId | VarRef::Uuid | VarRef::BasePath => {}
                VarRef::Env(name) => {
                    if let Ok(value) = std::env::var(name) {
                        self.env.insert(name.clone(), value);
                    } else {
                        ok = false;
                        self.error(
                            Diagnostic::new(
                                span.clone(),
                                format!("environment variable `{name}` is not set"),
                            )
                            .with_hint(format!("set it before running: `export {name}=...`")),
                        );
                    }
                }
                VarRef::Named(name) => {
                    self.used.insert(name.clone());
                    if !known.names.contains(name) {
                        ok = false;
                        let mut d =
                            Diagnostic::new(span.clone(), format!("undefined variable `{name}`"));
                        let candidates = known
                            .names
                            .iter()
                            .map(String::as_str)
                            .chain(["run_id", "uuid"]);
                        d = match did_you_mean(name, candidates) {
                            Some(best) => d.with_hint(format!("did you mean `{best}`?")),
                            None => d.with_hint(
                                "define it under `vars:`, or capture it in an earlier step",
                            ),
                        };
                        self.error(d);
                    }
                }
            }
        }
        ok
    }
}

fn status_code(value: &Value) -> Option<u16> {
    value
        .as_u64()
        .filter(|c| (100..=599).contains(c))
        .and_then(|c| u16::try_from(c).ok())
}

fn strings(items: &[Spanned<String>]) -> Vec<String> {
    items.iter().map(|s| s.value.clone()).collect()
}

fn or_else(own: Vec<String>, inherited: &[String]) -> Vec<String> {
    if own.is_empty() {
        inherited.to_vec()
    } else {
        own
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::suite::parse;

    fn plan_text(text: &str) -> Result<Plan, Diagnostics> {
        let suite = parse(Source::new("t.yaml", text)).map_err(|d| Diagnostics(vec![d]))?;
        plan(
            vec![SuiteInput {
                slug: "t".into(),
                suite,
            }],
            &["user", "group"],
        )
    }

    const HEAD: &str = "name: t\nscenarios:\n  - id: a\n    steps:\n";

    #[test]
    fn a_good_suite_plans() {
        let plan = plan_text(&format!(
            "{HEAD}      - id: create\n        request: {{ method: post, path: /Users, json: {{ userName: \"u-{{{{ run_id }}}}\" }} }}\n        expect: {{ status: 201, schema: user, json: {{ /id: {{ type: string }} }} }}\n        capture: {{ id: /id, loc: 'header:Location' }}\n        cleanup: {{ method: DELETE, path: \"/Users/{{{{ id }}}}\" }}\n      - id: get\n        request: {{ method: GET, path: \"/Users/{{{{ id }}}}\" }}\n        expect: {{ status: [200, 304] }}\n"
        ))
        .unwrap();
        let (_, scenario) = plan.scenarios().next().unwrap();
        assert_eq!(scenario.full_name, "t::a");
        assert_eq!(scenario.steps.len(), 2);
        assert_eq!(scenario.steps[0].request.method, http::Method::POST);
    }

    #[test]
    fn every_mistake_is_reported_with_its_position() {
        let err = plan_text(&format!(
            "{HEAD}      - id: s\n        request: {{ method: FETCH, path: Users }}\n        expect: {{ status: 999, schema: usr, json: {{ /a: {{ matches: '(' }}, /b: \"{{{{ nope }}}}\" }} }}\n      - id: s\n        request: {{ method: GET, path: /x }}\n"
        ))
        .unwrap_err();
        let messages: Vec<String> = err
            .0
            .iter()
            .map(|d| format!("{}:{} {}", d.span.pos.line, d.span.pos.column, d.message))
            .collect();
        assert_eq!(
            messages,
            [
                "6:28 unknown HTTP method `FETCH`",
                "6:41 path `Users` does not start with `/`",
                "7:27 invalid status 999",
                "7:40 unknown schema `usr`",
                "7:57 invalid regular expression: regex parse error:\n    (\n    ^\nerror: unclosed group",
                "7:79 undefined variable `nope`",
                "8:13 duplicate step id `s`",
            ]
        );
        assert_eq!(err.0[3].hint.as_deref(), Some("did you mean `user`?"));
    }

    #[test]
    fn unset_env_and_later_captures_are_undefined() {
        let err = plan_text(&format!(
            "{HEAD}      - id: s\n        request: {{ method: GET, path: \"/{{{{ env.SCIMCHECK_TEST_UNSET_VAR }}}}/{{{{ later }}}}\" }}\n      - id: t\n        request: {{ method: GET, path: /x }}\n        capture: {{ later: /id }}\n"
        ))
        .unwrap_err();
        assert_eq!(err.0.len(), 2, "{err}");
        assert!(err.0[0].message.contains("SCIMCHECK_TEST_UNSET_VAR"));
        assert_eq!(err.0[1].message, "undefined variable `later`");
    }

    #[test]
    fn a_wait_is_planned_and_a_long_one_refused_where_it_is_written() {
        let plan = plan_text(&format!(
            "{HEAD}      - id: s\n        wait_ms: 1100\n        request: {{ method: GET, path: /x }}\n"
        ))
        .unwrap();
        let (_, scenario) = plan.scenarios().next().unwrap();
        assert_eq!(
            scenario.steps[0].wait,
            Some(std::time::Duration::from_millis(1100))
        );
        let err = plan_text(&format!(
            "{HEAD}      - id: s\n        wait_ms: 60000\n        request: {{ method: GET, path: /x }}\n"
        ))
        .unwrap_err();
        assert_eq!(err.0[0].message, "`wait_ms: 60000` is too long");
        assert_eq!(err.0[0].span.pos.line, 6, "{err}");
    }

    #[test]
    fn returned_checks_are_named_apart_from_json_ones() {
        let plan = plan_text(&format!(
            "{HEAD}      - id: s\n        request: {{ method: PATCH, path: /x }}\n        expect: {{ status: [200, 204], json: {{ /a: 1 }}, returned: {{ /b: 2 }} }}\n"
        ))
        .unwrap();
        let (_, scenario) = plan.scenarios().next().unwrap();
        let labels: Vec<String> = scenario.steps[0]
            .expectations
            .iter()
            .map(|e| e.kind.label())
            .collect();
        assert_eq!(labels, ["status", "json /a", "returned /b"]);
        assert!(scenario.steps[0].expectations[2].kind.is_returned());
    }
}
