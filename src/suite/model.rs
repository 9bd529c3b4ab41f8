//! The suite file as written: plain keyed YAML, unknown keys rejected, every
//! value that planning may complain about carrying its source location.
//!
//! Nothing here interprets anything; [`crate::plan`] does.

use indexmap::IndexMap;
use serde::Deserialize;
use serde_json::Value;
use serde_saphyr::Spanned;

/// One suite file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSuite {
    pub name: Spanned<String>,
    #[serde(default)]
    pub description: Option<String>,
    /// RFC sections or client requirements every check of the suite cites.
    #[serde(default)]
    pub spec: Vec<Spanned<String>>,
    #[serde(default)]
    pub tags: Vec<Spanned<String>>,
    /// The client profile whose traffic it replays (`entra`, `okta`, `rfc`, ...):
    /// it runs with `--profile` of that client and counts in its verdict. A
    /// suite that names none, outside a profile's folder, always runs.
    #[serde(default)]
    pub profile: Option<Spanned<String>>,
    /// ServiceProviderConfig features the suite needs (`filter`, `patch`, ...).
    #[serde(default)]
    pub requires: Vec<Spanned<String>>,
    /// Variables, in order; each may use the ones before it.
    #[serde(default)]
    pub vars: IndexMap<String, Spanned<Value>>,
    pub scenarios: Vec<RawScenario>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawScenario {
    pub id: Spanned<String>,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub spec: Vec<Spanned<String>>,
    #[serde(default)]
    pub tags: Vec<Spanned<String>>,
    #[serde(default)]
    pub requires: Vec<Spanned<String>>,
    pub steps: Vec<RawStep>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawStep {
    pub id: Spanned<String>,
    /// What the step does, for the reader of the suite.
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub spec: Vec<Spanned<String>>,
    /// The earlier steps this one builds on: it runs only if they passed.
    /// Without it, a step builds on every step before it. The steps whose
    /// captures it uses are always among them.
    #[serde(default)]
    pub needs: Option<Vec<Spanned<String>>>,
    /// The step only prepares (a fixture user or group): its failure is told
    /// as "could not set up", never as a finding of the requirement it serves.
    #[serde(default)]
    pub setup: Option<Spanned<bool>>,
    /// Statuses that say an optional feature is not offered (`[404, 501]`):
    /// such an answer is INFO, no deviation; the step's checks are not
    /// evaluated, and the steps that need it are not applicable.
    #[serde(default)]
    pub not_offered: Option<Spanned<Value>>,
    /// An earlier step this one stands in for when it fails: typically the
    /// minimal RFC body after a client's full create body was refused, so
    /// that one refused attribute does not hide a whole lifecycle. It runs
    /// only then; its captures take the place of that step's.
    #[serde(default)]
    pub fallback_for: Option<Spanned<String>>,
    /// Optional User attributes the step relies on (`title`, `emails.type`):
    /// when the server's /Schemas does not declare one, the step is not
    /// applicable (a server need not have every optional attribute).
    #[serde(default)]
    pub attributes: Vec<Spanned<String>>,
    /// Optional features the step relies on (`filter`), as a scenario's
    /// `requires`: when the ServiceProviderConfig does not claim one, the
    /// step alone is not applicable and the rest of its scenario runs.
    #[serde(default)]
    pub requires: Vec<Spanned<String>>,
    /// Milliseconds to wait before sending (at most 5000): a server may
    /// record times to the second, so a change made within the second of a
    /// create could not show in `meta.lastModified`.
    #[serde(default)]
    pub wait_ms: Option<Spanned<u64>>,
    /// The ids of the catalogue's requirements (`requirements/*.yaml`) the
    /// step's checks verify, such as `RFC7644-3.3/create-answers-201`.
    #[serde(default)]
    pub verifies: Vec<Spanned<String>>,
    pub request: Spanned<RawRequest>,
    #[serde(default)]
    pub expect: RawExpect,
    /// SHOULD-level checks: a failure is advice; it neither fails the run nor stops the scenario.
    #[serde(default)]
    pub advise: RawExpect,
    /// INFO-level observations: reported for the record, never failing a run,
    /// not even with `--strict` (a feature not offered, an optional attribute).
    #[serde(default)]
    pub inform: RawExpect,
    /// What the client does when `expect` fails here (for the readiness verdict).
    #[serde(default)]
    pub impact: Option<String>,
    /// How to fix the endpoint when `expect` fails here.
    #[serde(default)]
    pub fix: Option<String>,
    /// `impact` and `fix` for when the answer's status is not the one asked
    /// (a refusal), where they differ from those of the step's other checks:
    /// a create refused discloses no password.
    #[serde(default)]
    pub on_wrong_status: Option<RawTexts>,
    /// Why the `advise` checks matter, and what to change.
    #[serde(default)]
    pub advice: Option<String>,
    /// What an `inform` observation means.
    #[serde(default)]
    pub note: Option<String>,
    /// `name: /json/pointer` or `name: header:Location`.
    #[serde(default)]
    pub capture: IndexMap<String, Spanned<String>>,
    /// Registered once the step passed; run LIFO when the scenario ends.
    #[serde(default)]
    pub cleanup: Option<Spanned<RawRequest>>,
    /// For a step that must not create anything (a duplicate, a missing
    /// required attribute): registered whenever the answer is 201 anyway,
    /// with the new resource's `/id` as `{{ created_id }}`, so a lax server
    /// is not left with what it wrongly created.
    #[serde(default)]
    pub cleanup_if_created: Option<Spanned<RawRequest>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawTexts {
    #[serde(default)]
    pub impact: Option<String>,
    #[serde(default)]
    pub fix: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRequest {
    pub method: Spanned<String>,
    pub path: Spanned<String>,
    #[serde(default)]
    pub query: IndexMap<String, Spanned<String>>,
    #[serde(default)]
    pub headers: IndexMap<String, Spanned<String>>,
    /// A JSON body, sent as `application/scim+json` unless a header says otherwise.
    #[serde(default)]
    pub json: Option<Spanned<Value>>,
    /// A raw body, sent as written (for malformed-input tests).
    #[serde(default)]
    pub body: Option<Spanned<String>>,
    /// `false` sends the request without the target's credentials.
    #[serde(default)]
    pub auth: Option<Spanned<bool>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawExpect {
    /// A status (`201`) or a set of accepted ones (`[200, 204]`).
    #[serde(default)]
    pub status: Option<Spanned<Value>>,
    /// Header name to a value (exact) or a predicate mapping.
    #[serde(default)]
    pub headers: IndexMap<String, Spanned<Value>>,
    /// A schema from `schemas/`, by name (`user`, `list-response`, ...).
    #[serde(default)]
    pub schema: Option<Spanned<String>>,
    /// JSON Pointer to a value (equality) or a predicate mapping.
    #[serde(default)]
    pub json: IndexMap<String, Spanned<Value>>,
    /// Like `json`, for the resource a write answers with when it answers
    /// with one: checked on every accepted status but 204 (which carries
    /// no body, RFC 7644 3.5.2), where it is told as not evaluated.
    #[serde(default)]
    pub returned: IndexMap<String, Spanned<Value>>,
    /// A named snapshot of the normalized response body.
    #[serde(default)]
    pub snapshot: Option<Spanned<String>>,
    /// The body must be empty (a 204, say).
    #[serde(default)]
    pub empty_body: Option<Spanned<bool>>,
}
