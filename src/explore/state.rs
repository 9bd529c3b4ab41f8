//! What the explorer knows during a run: the target's choices, learned
//! before the first case, and what every case shares (the request budget,
//! the filter features the target has accepted or refused, every id it has
//! handed out, the advice gathered).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use serde_json::Value;

use super::compare::{ENTERPRISE, Field, Level};
use crate::double::service::Service;
use crate::double::variant::{Variant, Variants};
use crate::http::Client;
use crate::interrupt::Interrupt;
use crate::scim::schema::{Published, Returned};
use crate::target::Target;

/// The RFC-legal choices of the target that change what the explorer may
/// send or expect, from its ServiceProviderConfig and /Schemas.
#[derive(Debug, Clone)]
pub struct Choices {
    /// User attributes the target declares, among those the explorer writes.
    pub declared: BTreeSet<Field>,
    /// Whether it declares `password` (then creates may send one).
    pub password: bool,
    /// Whether it declares `emails.type` (otherwise emails go without one).
    pub email_type: bool,
    /// What its /Schemas makes required: added to every create and PUT
    /// (canaille requires `name.formatted`).
    pub required: crate::required::Required,
    /// The User attributes and sub-attributes it declares (lower-case,
    /// `parent.sub`); what it does not declare is left out of bodies.
    pub declared_names: Option<BTreeSet<String>>,
    /// User attributes declared `returned: always`, lower-cased.
    pub always: BTreeSet<String>,
    pub etag: bool,
    pub sort: bool,
    /// Whether the tenant held no users and no groups when the run began:
    /// only then are totals compared exactly.
    pub empty_tenant: bool,
}

impl Choices {
    /// From the discovery answers; without /Schemas, the core attributes
    /// every SCIM server has.
    pub fn learn(
        config: Option<&Value>,
        schemas: Option<&Published>,
        empty_tenant: bool,
    ) -> Choices {
        let claims = |feature: &str| {
            config
                .and_then(|c| c.get(feature))
                .and_then(|f| f.get("supported"))
                .and_then(Value::as_bool)
                .unwrap_or(false)
        };
        let user = "urn:ietf:params:scim:schemas:core:2.0:User";
        let core = schemas.and_then(|s| s.attrs(user));
        let enterprise = schemas.and_then(|s| s.attrs(ENTERPRISE));
        let has = |name: &str| {
            core.is_none_or(|attrs| attrs.iter().any(|a| a.name.eq_ignore_ascii_case(name)))
        };
        let mut declared: BTreeSet<Field> = [
            Field::UserName,
            Field::ExternalId,
            Field::Active,
            Field::Given,
            Field::Family,
        ]
        .into();
        for (field, name) in [
            (Field::DisplayName, "displayName"),
            (Field::Emails, "emails"),
            (Field::Title, "title"),
        ] {
            if has(name) {
                declared.insert(field);
            }
        }
        if enterprise.is_some_and(|attrs| {
            attrs
                .iter()
                .any(|a| a.name.eq_ignore_ascii_case("employeeNumber"))
        }) {
            declared.insert(Field::EmployeeNumber);
        }
        if enterprise
            .is_some_and(|attrs| attrs.iter().any(|a| a.name.eq_ignore_ascii_case("manager")))
        {
            declared.insert(Field::Manager);
        }
        let always = core
            .into_iter()
            .flatten()
            .filter(|a| a.returned == Returned::Always)
            .map(|a| a.name.to_ascii_lowercase())
            .collect();
        Choices {
            declared,
            password: core.is_some_and(|attrs| attrs.iter().any(|a| a.name == "password")),
            required: schemas
                .map(crate::required::Required::from_published)
                .unwrap_or_default(),
            declared_names: schemas.and_then(crate::runner::declared_attributes),
            email_type: core.is_none_or(|attrs| {
                attrs
                    .iter()
                    .any(|a| a.name.eq_ignore_ascii_case("emails") && a.sub_attr("type").is_some())
            }),
            always,
            etag: claims("etag"),
            sort: claims("sort"),
            empty_tenant,
        }
    }
}

impl Choices {
    /// A fresh model: the double, with the choices of the target's that
    /// change what a correct server answers.
    pub fn model(&self) -> Service {
        let mut variants = Vec::new();
        if !self.etag {
            variants.push(Variant::NoEtag);
        }
        if !self.sort {
            variants.push(Variant::NoSort);
        }
        Service::new("http://model.invalid/scim/v2", None).with_variants(Variants::of(variants))
    }

    /// A create or replace body fitted to what the target declares: its
    /// required attributes added, what it does not declare left out (the
    /// rule the suites follow, `crate::required`).
    pub fn fit(&self, path: &str, body: &mut Value) {
        self.required.complete(path, body);
        if let Some(declared) = &self.declared_names {
            crate::required::leave_out_undeclared(path, body, declared);
        }
    }
}

/// A deviation found, with what a report needs.
#[derive(Debug, Clone)]
pub struct Finding {
    pub level: Level,
    /// The requirement: an RFC section or a client's documentation.
    pub cite: &'static str,
    pub what: String,
    /// The request that showed it, and what came back.
    pub call: String,
    pub answer: String,
    /// Names the check, so that shrinking keeps to the same deviation.
    pub key: String,
    /// The check and what it was about (`write-status:manager`): two
    /// findings of one check about different attributes are two causes.
    pub cause: String,
}

/// What all cases of a run share.
pub struct Shared<'a> {
    pub client: &'a Client,
    pub target: &'a Target,
    pub choices: Choices,
    pub run_id: String,
    pub stop: &'a Interrupt,
    pub budget: usize,
    pub sent: AtomicUsize,
    /// Set once the budget is spent: no case starts a request after it.
    pub spent: AtomicBool,
    /// Whether the tenant holds nothing but the case's own: empty at the
    /// start, and one case at a time. Only then are unscoped totals exact.
    pub exact_tenant: bool,
    /// One case at a time: no other case writes while one reads pages.
    pub one_at_a_time: bool,
    /// The deviations found so far, by every worker.
    pub found: Mutex<Vec<Finding>>,
    /// The number of the last case started.
    pub cases: AtomicUsize,
    /// Filter features (as [`crate::scim::filter::Filter::beyond_eq_and`]
    /// names them): true once accepted, false once refused.
    pub offered: Mutex<BTreeMap<String, bool>>,
    pub advice: Mutex<Vec<Finding>>,
    /// Resources a case could not clean up.
    pub left: Mutex<Vec<String>>,
    /// The path of the base URL (`/scim/v2`), without a trailing slash.
    pub base_path: String,
    /// `SCIMCHECK_TRACE` is set: every exchange is printed to stderr.
    pub trace: bool,
}

impl<'a> Shared<'a> {
    pub fn new(
        client: &'a Client,
        target: &'a Target,
        choices: Choices,
        run_id: &str,
        stop: &'a Interrupt,
        budget: usize,
        workers: usize,
    ) -> Shared<'a> {
        let one_at_a_time = workers <= 1;
        Shared {
            exact_tenant: choices.empty_tenant && one_at_a_time,
            one_at_a_time,
            client,
            target,
            choices,
            run_id: run_id.to_string(),
            stop,
            budget,
            sent: AtomicUsize::new(0),
            spent: AtomicBool::new(false),
            found: Mutex::new(Vec::new()),
            cases: AtomicUsize::new(0),
            offered: Mutex::new(BTreeMap::new()),
            advice: Mutex::new(Vec::new()),
            left: Mutex::new(Vec::new()),
            base_path: reqwest::Url::parse(&target.base_url)
                .map(|u| u.path().trim_end_matches('/').to_string())
                .unwrap_or_default(),
            trace: std::env::var_os("SCIMCHECK_TRACE").is_some(),
        }
    }

    /// Takes one request from the budget; false when none is left. While
    /// a deviation is shrunk, requests are counted but not refused:
    /// shrinking is bounded by its own time and steps, and a budget spent
    /// halfway would leave a deviation without its reproducer.
    pub fn take(&self, shrinking: bool) -> bool {
        let n = self.sent.fetch_add(1, Ordering::Relaxed);
        if shrinking {
            return true;
        }
        if n >= self.budget {
            self.sent.fetch_sub(1, Ordering::Relaxed);
            self.spent.store(true, Ordering::Relaxed);
            return false;
        }
        true
    }

    /// A new case's number.
    pub fn next_case(&self) -> usize {
        self.cases.fetch_add(1, Ordering::Relaxed) + 1
    }

    pub fn sent(&self) -> usize {
        self.sent.load(Ordering::Relaxed)
    }

    pub fn advise(&self, finding: Finding) {
        let mut advice = self.advice.lock().expect("advice lock");
        if !advice.iter().any(|a| a.cause == finding.cause) {
            advice.push(finding);
        }
    }
}

impl Finding {
    /// Whether this finding, of a shrunk case, already explains `other`:
    /// the same check, about no attribute `other` was not about too.
    pub fn explains(&self, other: &Finding) -> bool {
        let parts = |cause: &str| -> (String, Vec<String>) {
            match cause.split_once(':') {
                Some((key, what)) => (
                    key.to_string(),
                    what.split('+').map(str::to_string).collect(),
                ),
                None => (cause.to_string(), Vec::new()),
            }
        };
        let (mine, my_fields) = parts(&self.cause);
        let (theirs, their_fields) = parts(&other.cause);
        mine == theirs && my_fields.iter().all(|f| their_fields.contains(f))
    }
}
