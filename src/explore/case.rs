//! One case: a sequence of operations applied to the target and to a fresh
//! model, compared after each, and everything the case created deleted
//! afterwards (LIFO, each only once a read-back shows it is the run's).

use std::collections::{BTreeMap, BTreeSet};
use std::time::Instant;

use serde_json::{Map, Value, json};

use super::call::{self, Answer, Call};
use super::compare::{self, ENTERPRISE, Field, Level};
use super::op::{Leaf, MemberChange, Op, OpCase, PatchOp, Pick, Tree, UserSpec};
use super::state::{Finding, Shared};
use super::values::{other_case, piece};
use crate::double::service::{Response, Service};
use crate::ownership::{carries_run_prefix, resource_path};
use crate::scim::filter::{AttrPath, CompareOp, Filter};
use crate::scim::schema::Kind;

const USER: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
const GROUP: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";
const PATCH: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

/// Why a case ended early.
#[derive(Debug)]
pub enum Halt {
    Diverged(Box<Finding>),
    /// The budget is spent or the run was interrupted: not a finding.
    Stopped,
}

type Step<T = ()> = Result<T, Halt>;

/// A resource the case created.
#[derive(Debug, Clone)]
pub struct Slot {
    pub kind: Kind,
    /// How the reproducer names its id (`u0`, `g1`).
    pub var: String,
    pub target_id: String,
    pub model_id: String,
    pub alive: bool,
    /// A read-back showed it carries the run's prefix: writes may go to it.
    pub confirmed: bool,
    /// What the client has asserted: only these are compared.
    pub fields: BTreeSet<Field>,
    created: Option<String>,
    modified: Option<String>,
    version: Option<String>,
    /// A version the resource had before its last change.
    stale: Option<(String, String)>,
    /// When the last change that showed in the model was sent.
    changed_at: Option<Instant>,
    /// When the previous read-back was answered.
    read_at: Option<Instant>,
    born: Instant,
}

/// One request of the case as sent to the target, for the reproducer.
#[derive(Debug, Clone)]
pub struct Record {
    pub call: Call,
    /// The statuses a correct server and this target may answer: what the
    /// target answered (the explorer accepted it) and what the model did.
    pub statuses: Vec<u16>,
    /// The slot a create made, to capture.
    pub creates: Option<usize>,
    /// Milliseconds waited before it was sent.
    pub wait_ms: u64,
}

pub struct Case<'s, 'a> {
    shared: &'s Shared<'a>,
    /// The worker's client, on the worker's runtime.
    client: &'s crate::http::Client,
    model: Service,
    pub slots: Vec<Slot>,
    pub prefix: String,
    pub records: Vec<Record>,
    /// The failing step's expectation, for the reproducer: JSON pointer
    /// checks in the suite language.
    pub failed_expect: Vec<(String, Value)>,
    pub failed_statuses: Vec<u16>,
    /// Milliseconds waited since the last request.
    pause: u64,
    /// The case is a step of shrinking: the budget does not stop it.
    shrinking: bool,
}

impl<'s, 'a> Case<'s, 'a> {
    pub fn new(
        shared: &'s Shared<'a>,
        client: &'s crate::http::Client,
        number: usize,
        shrinking: bool,
    ) -> Case<'s, 'a> {
        Case {
            client,
            model: shared.choices.model(),
            prefix: format!("scimcheck-{}-c{number}-", shared.run_id),
            shared,
            slots: Vec::new(),
            records: Vec::new(),
            failed_expect: Vec::new(),
            failed_statuses: Vec::new(),
            pause: 0,
            shrinking,
        }
    }

    /// Runs the operations; the first deviation ends the case.
    pub async fn run(&mut self, ops: &[Op]) -> Step {
        for op in ops {
            let spent =
                self.shared.spent.load(std::sync::atomic::Ordering::Relaxed) && !self.shrinking;
            if self.shared.stop.is_set() || spent {
                return Err(Halt::Stopped);
            }
            self.apply(op).await?;
        }
        Ok(())
    }

    fn diverged(
        &mut self,
        level: Level,
        cite: &'static str,
        key: &str,
        what: String,
        call: &Call,
        answer: &Answer,
    ) -> Halt {
        let finding = Finding {
            level,
            cite,
            what,
            call: call.line(),
            answer: format!("{} {}", answer.status, answer.text()),
            key: key.split(':').next().unwrap_or(key).to_string(),
            cause: key.to_string(),
        };
        if level == Level::Should {
            self.shared.advise(finding);
            // Advice does not end the case; the caller goes on.
            return Halt::Stopped;
        }
        Halt::Diverged(Box::new(finding))
    }

    fn record(&mut self, call: &Call, statuses: Vec<u16>) {
        let wait_ms = std::mem::take(&mut self.pause);
        self.records.push(Record {
            call: call.clone(),
            statuses,
            creates: None,
            wait_ms,
        });
    }

    /// Reports `what` at `level`: a MUST ends the case, a SHOULD is
    /// gathered as advice and the case goes on.
    #[expect(
        clippy::too_many_arguments,
        reason = "a check is its outcome, its level, citation and key, its text, and the exchange it is about"
    )]
    fn check(
        &mut self,
        ok: bool,
        level: Level,
        cite: &'static str,
        key: &str,
        what: impl FnOnce() -> String,
        call: &Call,
        answer: &Answer,
    ) -> Step {
        if ok {
            return Ok(());
        }
        let halt = self.diverged(level, cite, key, what(), call, answer);
        match level {
            Level::Should => Ok(()),
            Level::Must => Err(halt),
        }
    }

    /// Sends `target_call` to the target and `model_call` to the model.
    async fn send(&mut self, target_call: &Call, model_call: &Call) -> Step<(Answer, Response)> {
        if !self.shared.take(self.shrinking) {
            return Err(Halt::Stopped);
        }
        // What a reproducer's last step checks is set by the check that fails.
        self.failed_expect.clear();
        self.failed_statuses.clear();
        let model = call::model(&mut self.model, model_call);
        let answer = match call::target(
            self.client,
            self.shared.target,
            target_call,
            self.shared.stop,
        )
        .await
        {
            Ok(response) => Answer::of(&response),
            Err(why) => {
                if self.shared.stop.is_set() {
                    return Err(Halt::Stopped);
                }
                let answer = Answer::none(0, &why);
                return Err(self.diverged(
                    Level::Must,
                    "RFC 7644 3",
                    "no-answer",
                    format!("no answer: {why}"),
                    target_call,
                    &answer,
                ));
            }
        };
        if self.shared.trace {
            eprintln!(
                "{} {} -> {} (model {}) {}",
                target_call.line(),
                target_call
                    .body
                    .as_ref()
                    .map(|b| b.to_string())
                    .unwrap_or_default(),
                answer.status,
                model.status,
                answer.text().chars().take(300).collect::<String>()
            );
        }
        let mut statuses = vec![answer.status, model.status];
        statuses.dedup();
        self.record(target_call, statuses);
        if answer.status >= 500 && model.status < 500 {
            let expected = model.status;
            self.failed_statuses = vec![expected];
            return Err(self.diverged(
                Level::Must,
                "RFC 7644 3.12",
                "server-error",
                format!(
                    "answered {} where an RFC-correct server answers {expected}",
                    answer.status
                ),
                target_call,
                &answer,
            ));
        }
        if (400..500).contains(&answer.status) && answer.status != 401 && answer.status != 403 {
            let why = compare::not_a_scim_error(answer.status, answer.body.as_ref());
            if let Some(why) = why {
                self.failed_statuses = vec![answer.status];
                self.failed_expect = vec![
                    ("/schemas".into(), json!({"contains": compare::ERROR})),
                    ("/status".into(), json!(answer.status.to_string())),
                ];
                return Err(self.diverged(
                    Level::Must,
                    "RFC 7644 3.12",
                    "error-body",
                    format!("the {} answer is not a SCIM Error: {why}", answer.status),
                    target_call,
                    &answer,
                ));
            }
        }
        if let Some(body) = &answer.body {
            self.never_returned(body, target_call, &answer)?;
        }
        Ok((answer, model))
    }

    /// `password` is `returned: never` (RFC 7643 4.1.1, 7).
    fn never_returned(&mut self, body: &Value, call: &Call, answer: &Answer) -> Step {
        let resources: Vec<&Value> = match body.get("Resources").and_then(Value::as_array) {
            Some(list) => list.iter().collect(),
            None => vec![body],
        };
        let shows = resources
            .iter()
            .any(|r| crate::scim::filter::get_ci(r, "password").is_some());
        if shows {
            let pointer = if body.get("Resources").is_some() {
                "/Resources/0/password"
            } else {
                "/password"
            };
            self.failed_expect = vec![(pointer.into(), json!({"absent": true}))];
        }
        self.check(
            !shows,
            Level::Must,
            "RFC 7643 7 (returned: never)",
            "password-returned",
            || "the answer shows `password`, which is `returned: never`".into(),
            call,
            answer,
        )
    }

    /// The name in the other letter case after the case's prefix, which
    /// stays as it is so that reproducers can spell it with `{{ run_id }}`.
    fn flip_tail(&self, name: &str) -> String {
        match name.strip_prefix(&self.prefix) {
            Some(tail) => format!("{}{}", self.prefix, other_case(tail)),
            None => other_case(name),
        }
    }

    fn live(&self, kind: Kind) -> Vec<usize> {
        (0..self.slots.len())
            .filter(|&i| self.slots[i].kind == kind && self.slots[i].alive)
            .collect()
    }

    fn pick(&self, kind: Kind, pick: Pick) -> Option<usize> {
        let live = self.live(kind);
        (!live.is_empty()).then(|| live[pick as usize % live.len()])
    }

    fn path(&self, slot: usize, model: bool) -> String {
        let s = &self.slots[slot];
        let id = if model { &s.model_id } else { &s.target_id };
        resource_path(s.kind.endpoint(), id).unwrap_or_else(|_| format!("/{}/-", s.kind.endpoint()))
    }

    /// The model's current resource.
    fn model_resource(&mut self, slot: usize) -> Value {
        let path = self.path(slot, true);
        call::model(&mut self.model, &Call::get(path))
            .body
            .unwrap_or(Value::Null)
    }

    fn user_body(&self, spec: &UserSpec, user_name: &str) -> Value {
        let d = &self.shared.choices.declared;
        let mut body = Map::new();
        let mut schemas = vec![json!(USER)];
        body.insert("userName".into(), json!(user_name));
        body.insert("active".into(), json!(spec.active));
        body.insert(
            "name".into(),
            json!({"givenName": spec.given, "familyName": spec.family}),
        );
        if spec.external_id {
            body.insert("externalId".into(), json!(format!("{}x", user_name.len())));
        }
        if let (true, Some(display)) = (d.contains(&Field::DisplayName), &spec.display) {
            body.insert("displayName".into(), json!(display));
        }
        if d.contains(&Field::Emails) {
            let mut emails = Vec::new();
            let typed = self.shared.choices.email_type;
            if let Some(email) = &spec.email {
                emails.push(match typed {
                    true => json!({"value": email, "type": "work", "primary": true}),
                    false => json!({"value": email, "primary": true}),
                });
            }
            if let (true, Some(email)) = (typed, &spec.home_email) {
                emails.push(json!({"value": email, "type": "home"}));
            }
            if !emails.is_empty() {
                body.insert("emails".into(), Value::Array(emails));
            }
        }
        if let (true, Some(title)) = (d.contains(&Field::Title), &spec.title) {
            body.insert("title".into(), json!(title));
        }
        if let (true, Some(number)) = (d.contains(&Field::EmployeeNumber), &spec.employee_number) {
            schemas.push(json!(ENTERPRISE));
            body.insert(ENTERPRISE.into(), json!({"employeeNumber": number}));
        }
        if spec.password && self.shared.choices.password {
            body.insert("password".into(), json!("Pa55-w0rd!x"));
        }
        body.insert("schemas".into(), Value::Array(schemas));
        Value::Object(body)
    }

    /// The fields a body asserts.
    fn asserted(body: &Value) -> BTreeSet<Field> {
        let mut fields =
            BTreeSet::from([Field::UserName, Field::Active, Field::Given, Field::Family]);
        for (field, key) in [
            (Field::DisplayName, "displayName"),
            (Field::Emails, "emails"),
            (Field::Title, "title"),
            (Field::ExternalId, "externalId"),
            (Field::EmployeeNumber, ENTERPRISE),
        ] {
            if body.get(key).is_some() {
                fields.insert(field);
            }
        }
        fields
    }

    async fn apply(&mut self, op: &Op) -> Step {
        match op {
            Op::CreateUser(spec) => {
                let name = format!("{}{}", self.prefix, spec.tail);
                let body = self.user_body(spec, &name);
                self.create(Kind::User, body).await
            }
            Op::CreateDuplicate {
                of,
                other_case: flip,
            } => {
                let Some(slot) = self.pick(Kind::User, *of) else {
                    return Ok(());
                };
                let resource = self.model_resource(slot);
                let Some(name) = resource.get("userName").and_then(Value::as_str) else {
                    return Ok(());
                };
                let name = if *flip {
                    self.flip_tail(name)
                } else {
                    name.to_string()
                };
                let body = json!({"schemas": [USER], "userName": name, "active": true,
                    "name": {"givenName": "g", "familyName": "f"}});
                self.create(Kind::User, body).await
            }
            Op::CreateGroup { name, members } => {
                let members = self.member_values(members);
                let body = json!({"schemas": [GROUP], "displayName": format!("{}{name}", self.prefix), "members": members});
                self.create(Kind::Group, body).await
            }
            Op::Get(p) => match self.pick(Kind::User, *p) {
                Some(slot) => self.read_back(slot).await,
                None => Ok(()),
            },
            Op::GetGroup(p) => match self.pick(Kind::Group, *p) {
                Some(slot) => self.read_back(slot).await,
                None => Ok(()),
            },
            Op::GetGone(p) => self.get_gone(*p).await,
            Op::Filter(tree) => self.filter(tree).await,
            Op::GroupByName {
                pick,
                other_case: flip,
                exclude_members,
            } => self.group_by_name(*pick, *flip, *exclude_members).await,
            Op::BadFilter(n) => self.bad_filter(*n).await,
            Op::Walk { count } => self.walk(*count as usize).await,
            Op::PastEnd => self.past_end().await,
            Op::Project {
                pick,
                exclude,
                list,
                which,
            } => self.project(*pick, *exclude, *list, *which).await,
            Op::Sort { descending } => self.sort(*descending).await,
            Op::Patch { pick, ops, case } => self.patch(*pick, ops, *case).await,
            Op::Members { pick, change, case } => self.members(*pick, change, *case).await,
            Op::Put { pick, with } => self.put(*pick, with).await,
            Op::Delete(p) => match self.pick(Kind::User, *p) {
                Some(slot) => self.delete(slot).await,
                None => Ok(()),
            },
            Op::DeleteGroup(p) => match self.pick(Kind::Group, *p) {
                Some(slot) => self.delete(slot).await,
                None => Ok(()),
            },
            Op::Burst { pick, members } => self.burst(*pick, members).await,
            Op::CreateRace { tail, copies } => self.race(tail, *copies).await,
            Op::PatchBurst { pick, ops, case } => self.patch_burst(*pick, ops, *case).await,
            Op::StalePatch(p) => self.stale_patch(*p).await,
            Op::Pause => {
                self.pause += 10;
                tokio::time::sleep(std::time::Duration::from_millis(10)).await;
                Ok(())
            }
        }
    }

    fn member_values(&self, picks: &[Pick]) -> Vec<Value> {
        let mut chosen: Vec<usize> = picks
            .iter()
            .filter_map(|p| self.pick(Kind::User, *p))
            .collect();
        chosen.sort_unstable();
        chosen.dedup();
        chosen
            .into_iter()
            .map(|s| json!({"value": self.slots[s].target_id}))
            .collect()
    }

    /// The same body with the target's ids replaced by the model's.
    fn for_model(&self, value: &Value) -> Value {
        self.refs_for_model(value, false)
    }

    /// The target's ids where a body refers to a resource (members, a
    /// manager, a PATCH of either, an id in a path) as the model's; any
    /// other value is left as it is, even one that reads like an id (an
    /// employeeNumber "31" where ids are short numbers).
    fn refs_for_model(&self, value: &Value, is_ref: bool) -> Value {
        match value {
            Value::String(s) if is_ref => Value::String(
                self.slots
                    .iter()
                    .find(|slot| &slot.target_id == s)
                    .map_or_else(|| s.clone(), |slot| slot.model_id.clone()),
            ),
            Value::Array(a) => {
                Value::Array(a.iter().map(|v| self.refs_for_model(v, is_ref)).collect())
            }
            Value::Object(o) => {
                let path = o
                    .get("path")
                    .and_then(Value::as_str)
                    .map(str::to_ascii_lowercase);
                let op_refers = path.is_some_and(|p| {
                    p.starts_with("members")
                        || p.ends_with("manager")
                        || p.ends_with("manager.value")
                });
                Value::Object(
                    o.iter()
                        .map(|(k, v)| {
                            let key = k.to_ascii_lowercase();
                            let v = match v {
                                Value::String(text) if key == "path" => {
                                    Value::String(self.ids_in_text(text))
                                }
                                _ if key == "members" || key.ends_with("manager") => {
                                    self.refs_for_model(v, true)
                                }
                                _ if key == "value" => self.refs_for_model(v, is_ref || op_refers),
                                _ => self.refs_for_model(v, false),
                            };
                            (k.clone(), v)
                        })
                        .collect(),
                )
            }
            v => v.clone(),
        }
    }

    /// Ids quoted in a filter or a PATCH path (`members[value eq "id"]`).
    fn ids_in_text(&self, text: &str) -> String {
        let mut out = text.to_string();
        for slot in &self.slots {
            let quoted = format!("\"{}\"", slot.target_id);
            if out.contains(&quoted) {
                out = out.replace(&quoted, &format!("\"{}\"", slot.model_id));
            }
        }
        out
    }

    fn model_call(&self, call: &Call, path: String) -> Call {
        Call {
            method: call.method.clone(),
            path,
            query: call
                .query
                .iter()
                .map(|(k, v)| (k.clone(), self.ids_in_text(v)))
                .collect(),
            body: call.body.as_ref().map(|b| self.for_model(b)),
            headers: call.headers.clone(),
        }
    }

    fn name_of_target(&self) -> impl Fn(&str) -> String + '_ {
        move |id: &str| {
            self.slots
                .iter()
                .find(|s| s.target_id == id)
                .map_or_else(|| format!("unknown id {id}"), |s| s.var.clone())
        }
    }

    fn name_of_model(&self) -> impl Fn(&str) -> String + '_ {
        move |id: &str| {
            self.slots
                .iter()
                .find(|s| s.model_id == id)
                .map_or_else(|| format!("unknown id {id}"), |s| s.var.clone())
        }
    }

    fn fit(&self, path: &str, body: &mut Value) {
        self.shared.choices.fit(path, body);
    }

    async fn create(&mut self, kind: Kind, mut body: Value) -> Step {
        let endpoint = format!("/{}", kind.endpoint());
        self.fit(&endpoint, &mut body);
        let call = Call::with(http::Method::POST, &endpoint, body.clone());
        let model_call = self.model_call(&call, endpoint.clone());
        let (answer, model) = self.send(&call, &model_call).await?;
        let created_ok = answer.status == 201 || answer.status == 200;
        let target_id = call::id_of(answer.body.as_ref()).map(str::to_string);
        // Whatever the verdict, a resource the target made is tracked, so
        // that the cleanup finds it.
        let model_id = call::id_of(model.body.as_ref()).map(str::to_string);
        let slot = match (&target_id, created_ok) {
            (Some(id), true) => {
                // Within the case, so that a shrunk case still shows it.
                let fresh = !self.slots.iter().any(|s| &s.target_id == id);
                let var = format!(
                    "{}{}",
                    if kind == Kind::User { "u" } else { "g" },
                    self.slots.len()
                );
                self.slots.push(Slot {
                    kind,
                    var,
                    target_id: id.clone(),
                    model_id: model_id.clone().unwrap_or_default(),
                    alive: model_id.is_some(),
                    confirmed: false,
                    fields: if kind == Kind::User {
                        Self::asserted(&body)
                    } else {
                        [Field::DisplayName, Field::Members].into()
                    },
                    created: None,
                    modified: None,
                    version: None,
                    stale: None,
                    changed_at: None,
                    read_at: None,
                    born: Instant::now(),
                });
                let slot = self.slots.len() - 1;
                if let Some(record) = self.records.last_mut() {
                    record.creates = Some(slot);
                }
                if let Some(earlier) = self.slots[..slot].iter().find(|s| &s.target_id == id) {
                    self.failed_expect = vec![("/id".into(), json!({"ne": earlier.target_id}))];
                }
                self.check(fresh, Level::Must, "RFC 7643 3.1 (id is never reassigned)", "id-reused", || format!("the create was given the id `{id}`, which a resource deleted earlier had"), &call, &answer)?;
                Some(slot)
            }
            _ => None,
        };
        let what = if kind == Kind::User { "user" } else { "group" };
        if model.status == 409 {
            self.failed_statuses = vec![409];
            return self.check(answer.status == 409, Level::Must, "RFC 7644 3.3 (409 on a uniqueness conflict)", "uniqueness",
                || format!("a create of a {what} whose name the tenant holds already (compared without letter case, RFC 7643 2.1) answered {}, not 409", answer.status), &call, &answer);
        }
        self.failed_statuses = vec![201];
        self.check(
            answer.status == 201,
            Level::Must,
            "RFC 7644 3.3 (201 Created)",
            "create-status",
            || format!("the create of a {what} answered {}, not 201", answer.status),
            &call,
            &answer,
        )?;
        let Some(slot) = slot else {
            return Err(self.diverged(
                Level::Must,
                "RFC 7643 3.1 (id)",
                "create-id",
                "the create answered 201 without an `id`".into(),
                &call,
                &answer,
            ));
        };
        let body = answer.body.clone().unwrap_or(Value::Null);
        let core = if kind == Kind::User { USER } else { GROUP };
        let has_schema = body
            .get("schemas")
            .and_then(Value::as_array)
            .is_some_and(|s| {
                s.iter()
                    .any(|u| u.as_str().is_some_and(|u| u.eq_ignore_ascii_case(core)))
            });
        self.failed_expect = vec![("/schemas".into(), json!({"contains": core}))];
        self.check(
            has_schema,
            Level::Must,
            "RFC 7643 3 (schemas)",
            "create-schemas",
            || format!("the created {what} does not list `{core}` in `schemas`"),
            &call,
            &answer,
        )?;
        self.compare_body(
            slot,
            &body,
            model.body.as_ref(),
            &call,
            &answer,
            "create-body",
        )?;
        self.read_back(slot).await
    }

    /// Compares a resource the target answered with the model's.
    fn compare_body(
        &mut self,
        slot: usize,
        target: &Value,
        model: Option<&Value>,
        call: &Call,
        answer: &Answer,
        key: &str,
    ) -> Step {
        let Some(model) = model else { return Ok(()) };
        let fields = self.slots[slot].fields.clone();
        let target = self.without_deleted_members(target, call, answer)?;
        let target = target.as_ref();
        let diff = compare::differ(
            &fields,
            model,
            target,
            &self.name_of_model(),
            &self.name_of_target(),
        );
        if let Some((level, field, why)) = diff {
            let var = self.slots[slot].var.clone();
            self.failed_expect = self.expectations(&[field], model, target);
            return self.check(
                false,
                level,
                "RFC 7644 3.3, 3.5 (the resource as changed)",
                key,
                || format!("{var}: {why}"),
                call,
                answer,
            );
        }
        Ok(())
    }

    /// A group's members without the users the case deleted: a deleted user
    /// should leave its groups (RFC 7644 3.6), which the built-in suites tell
    /// as advice, not a failure; told once here too, then not compared.
    fn without_deleted_members<'v>(
        &mut self,
        resource: &'v Value,
        call: &Call,
        answer: &Answer,
    ) -> Step<std::borrow::Cow<'v, Value>> {
        let deleted = |m: &Value| {
            m.get("value").and_then(Value::as_str).is_some_and(|id| {
                self.slots
                    .iter()
                    .any(|s| !s.alive && s.kind == Kind::User && s.target_id == id)
            })
        };
        let members = resource.get("members").and_then(Value::as_array);
        if !members.is_some_and(|m| m.iter().any(deleted)) {
            return Ok(std::borrow::Cow::Borrowed(resource));
        }
        let mut resource = resource.clone();
        if let Some(members) = resource.get_mut("members").and_then(Value::as_array_mut) {
            members.retain(|m| !deleted(m));
        }
        self.check(
            false,
            Level::Should,
            "RFC 7644 3.6 (a deleted resource is gone from every operation)",
            "dangling-member",
            || "a deleted user is still listed among a group's members".into(),
            call,
            answer,
        )?;
        Ok(std::borrow::Cow::Owned(resource))
    }

    /// Suite-language checks of a model resource's `fields`; for a
    /// multi-valued one its count, and one value the target lacks or has
    /// beyond the model's.
    fn expectations(
        &self,
        fields: &[Field],
        model: &Value,
        target: &Value,
    ) -> Vec<(String, Value)> {
        let mut out = Vec::new();
        for field in fields {
            let pointer = match field {
                Field::UserName => "/userName",
                Field::DisplayName => "/displayName",
                Field::Given => "/name/givenName",
                Field::Family => "/name/familyName",
                Field::Title => "/title",
                Field::ExternalId => "/externalId",
                Field::Active => "/active",
                Field::EmployeeNumber => {
                    "/urn:ietf:params:scim:schemas:extension:enterprise:2.0:User/employeeNumber"
                }
                Field::Emails => "/emails",
                Field::Members => "/members",
                Field::Manager => {
                    let manager = crate::scim::filter::get_ci(model, ENTERPRISE)
                        .and_then(|e| crate::scim::filter::get_ci(e, "manager"))
                        .and_then(|m| crate::scim::filter::get_ci(m, "value"))
                        .cloned()
                        .unwrap_or(Value::Null);
                    let pointer = format!("/{ENTERPRISE}/manager/value");
                    let check = match manager {
                        Value::Null => json!({"unassigned": true}),
                        id => self.as_target_ids(Field::Members, vec![id]).remove(0),
                    };
                    out.push((pointer, check));
                    continue;
                }
            };
            if matches!(field, Field::Emails | Field::Members) {
                // Each element by the sub-attributes the explorer writes: an
                // email's value and type, a member's value (as the target's id).
                let subs: &[&str] = if *field == Field::Members {
                    &["value"]
                } else {
                    &["value", "type"]
                };
                let element = |e: &Value| -> Value {
                    let mut picked = Map::new();
                    for sub in subs {
                        if let Some(v) =
                            crate::scim::filter::get_ci(e, sub).filter(|v| !v.is_null())
                        {
                            let v = match (field, v.as_str()) {
                                (Field::Members, Some(id)) => self
                                    .as_target_ids(Field::Members, vec![json!(id)])
                                    .remove(0),
                                _ => v.clone(),
                            };
                            picked.insert(sub.to_string(), v);
                        }
                    }
                    Value::Object(picked)
                };
                let elements = |r: &Value, of_model: bool| -> Vec<Value> {
                    crate::scim::filter::get_ci(r, pointer.trim_start_matches('/'))
                        .and_then(Value::as_array)
                        .into_iter()
                        .flatten()
                        .map(|e| {
                            if of_model {
                                element(e)
                            } else {
                                element_as_is(e, subs)
                            }
                        })
                        .collect()
                };
                let (want, got) = (elements(model, true), elements(target, false));
                let mut predicate = Map::new();
                if want.is_empty() {
                    out.push((pointer.to_string(), json!({"unassigned": true})));
                    continue;
                }
                predicate.insert("count".into(), json!(want.len()));
                if let Some(missing) = want.iter().find(|w| !got.contains(w)) {
                    predicate.insert("contains".into(), missing.clone());
                } else if let Some(extra) = got.iter().find(|g| !want.contains(g)) {
                    predicate.insert("not_contains".into(), extra.clone());
                }
                out.push((pointer.to_string(), Value::Object(predicate)));
                continue;
            }
            let value = field.read(model, &|id| id.to_string());
            out.push((
                pointer.to_string(),
                if value.is_null() {
                    json!({"unassigned": true})
                } else {
                    value
                },
            ));
        }
        out
    }

    /// Member values of the model as the target's ids.
    fn as_target_ids(&self, field: Field, values: Vec<Value>) -> Vec<Value> {
        if field != Field::Members {
            return values;
        }
        values
            .into_iter()
            .map(|v| {
                let id = v.as_str().unwrap_or_default();
                json!(
                    self.slots
                        .iter()
                        .find(|s| s.model_id == id)
                        .map_or(id, |s| s.target_id.as_str())
                )
            })
            .collect()
    }

    /// GET by id on both sides: the same resource, its `meta` consistent.
    async fn read_back(&mut self, slot: usize) -> Step {
        let call = Call::get(self.path(slot, false));
        let model_call = Call::get(self.path(slot, true));
        let (answer, model) = self.send(&call, &model_call).await?;
        let now = Instant::now();
        self.failed_statuses = vec![model.status];
        if model.status == 404 {
            return self.check(
                answer.status == 404,
                Level::Must,
                "RFC 7644 3.6 (404 after DELETE)",
                "gone-read",
                || {
                    format!(
                        "a read of a deleted resource answered {}, not 404",
                        answer.status
                    )
                },
                &call,
                &answer,
            );
        }
        self.check(
            answer.status == 200,
            Level::Must,
            "RFC 7644 3.4.1",
            "read-status",
            || {
                format!(
                    "a read of a resource of this case answered {}, not 200",
                    answer.status
                )
            },
            &call,
            &answer,
        )?;
        let body = answer.body.clone().unwrap_or(Value::Null);
        // The ownership rule: only a resource that carries the run's prefix
        // takes writes.
        let named = ["userName", "displayName"].iter().any(|a| {
            body.get(a)
                .and_then(Value::as_str)
                .is_some_and(|n| carries_run_prefix(n, &self.shared.run_id))
        });
        let id_same =
            body.get("id").and_then(Value::as_str) == Some(self.slots[slot].target_id.as_str());
        self.failed_expect = vec![("/id".into(), json!(self.slots[slot].target_id))];
        self.check(
            id_same,
            Level::Must,
            "RFC 7643 3.1 (id)",
            "read-id",
            || "the resource read back does not carry the id it was read by".into(),
            &call,
            &answer,
        )?;
        self.slots[slot].confirmed = named;
        self.compare_body(
            slot,
            &body,
            model.body.as_ref(),
            &call,
            &answer,
            "read-body",
        )?;
        self.meta(slot, &body, now, &call, &answer)
    }

    /// `meta` over a resource's life (RFC 7643 3.1): `created` never moves,
    /// `lastModified` never goes back and moves with a change, `version`
    /// changes with the resource (RFC 7644 3.14).
    fn meta(
        &mut self,
        slot: usize,
        body: &Value,
        now: Instant,
        call: &Call,
        answer: &Answer,
    ) -> Step {
        let meta = body.get("meta");
        let text = |name: &str| {
            meta.and_then(|m| m.get(name))
                .and_then(Value::as_str)
                .map(str::to_string)
        };
        let kind = self.slots[slot].kind;
        self.failed_expect = vec![("/meta/resourceType".into(), json!(kind.name()))];
        self.check(
            meta.is_some_and(Value::is_object) && text("resourceType").is_some(),
            Level::Must,
            "RFC 7643 3.1 (meta)",
            "meta",
            || "the resource has no `meta` with its `resourceType`".into(),
            call,
            answer,
        )?;
        if let Some(location) = text("location") {
            let own = self.resource_suffix(slot);
            let decoded = percent_encoding::percent_decode_str(&location)
                .decode_utf8_lossy()
                .into_owned();
            let raw_id = format!(
                "/{}/{}",
                self.slots[slot].kind.endpoint(),
                self.slots[slot].target_id
            );
            let suffix = format!("{}{raw_id}", self.shared.base_path);
            self.failed_expect = vec![("/meta/location".into(), json!({"contains": suffix}))];
            self.check(
                location.ends_with(&own) || decoded.ends_with(&suffix),
                Level::Must,
                "RFC 7643 3.1 (meta.location)",
                "location",
                || format!("`meta.location` is {location}, not the resource's URI (…{suffix})"),
                call,
                answer,
            )?;
        }
        let (created, modified, version) = (text("created"), text("lastModified"), text("version"));
        let s = self.slots[slot].clone();
        if let (Some(before), Some(now_created)) = (&s.created, &created) {
            self.failed_expect = vec![(
                "/meta/created".into(),
                json!(format!("{{{{ {}_created }}}}", s.var)),
            )];
            self.check(
                before == now_created,
                Level::Must,
                "RFC 7643 3.1 (meta.created)",
                "created-moved",
                || format!("`meta.created` moved from {before} to {now_created}"),
                call,
                answer,
            )?;
        }
        if let (Some(changed), Some(created_at), Some(modified_now)) =
            (s.changed_at, &created, &modified)
        {
            // Only when the change came well after the creation, by more
            // than the precision the server writes its times with.
            let precision = precision(created_at);
            if changed.duration_since(s.born) > precision * 2 + std::time::Duration::from_millis(2)
            {
                let later = later_than(modified_now, created_at);
                self.failed_expect = vec![(
                    "/meta/lastModified".into(),
                    json!({"ne": format!("{{{{ {}_created }}}}", s.var)}),
                )];
                self.check(later != Some(false), Level::Must, "RFC 7643 3.1 (meta.lastModified)", "lastmodified-stuck",
                    || format!("`meta.lastModified` is {modified_now}, no later than `meta.created` ({created_at}), after a change made {} ms after the creation", changed.duration_since(s.born).as_millis()), call, answer)?;
            }
        }
        if let (Some(before), Some(modified_now)) = (&s.modified, &modified) {
            let earlier = later_than(before, modified_now);
            self.check(
                earlier != Some(true),
                Level::Must,
                "RFC 7643 3.1 (meta.lastModified)",
                "lastmodified-back",
                || format!("`meta.lastModified` went back from {before} to {modified_now}"),
                call,
                answer,
            )?;
        }
        if let (Some(before), Some(now_version), Some(_)) = (
            &s.version,
            &version,
            s.changed_at.filter(|c| s.read_at.is_some_and(|r| *c > r)),
        ) {
            self.failed_expect = vec![("/meta/version".into(), json!({"ne": before}))];
            self.check(
                before != now_version,
                Level::Must,
                "RFC 7644 3.14 (version)",
                "version-stuck",
                || format!("`meta.version` stayed {now_version} although the resource changed"),
                call,
                answer,
            )?;
        }
        let slot = &mut self.slots[slot];
        if slot.version.is_some() && slot.version != version {
            slot.stale = slot.version.clone().map(|v| (v, String::new()));
        }
        slot.created = slot.created.take().or(created);
        slot.modified = modified;
        slot.version = version;
        slot.read_at = Some(now);
        Ok(())
    }

    /// The resource's URL path below the host: base path and resource path.
    fn resource_suffix(&self, slot: usize) -> String {
        format!("{}{}", self.shared.base_path, self.path(slot, false))
    }

    async fn get_gone(&mut self, pick: Pick) -> Step {
        let gone: Vec<usize> = (0..self.slots.len())
            .filter(|&i| !self.slots[i].alive)
            .collect();
        let (path, model_path) = match gone.is_empty() {
            true => {
                let id = format!("{}", uuid::Uuid::new_v4());
                (format!("/Users/{id}"), format!("/Users/{id}"))
            }
            false => {
                let slot = gone[pick as usize % gone.len()];
                (self.path(slot, false), self.path(slot, true))
            }
        };
        let call = Call::get(path);
        let (answer, _model) = self.send(&call, &Call::get(model_path)).await?;
        self.failed_statuses = vec![404];
        self.check(
            answer.status == 404,
            Level::Must,
            "RFC 7644 3.6, 3.12 (404)",
            "gone-read",
            || {
                format!(
                    "a read of an id that names no resource answered {}, not 404",
                    answer.status
                )
            },
            &call,
            &answer,
        )
    }

    /// The filter a tree stands for, from the model's current values; None
    /// when a leaf has nothing to stand on.
    fn build(&mut self, tree: &Tree) -> Option<Filter> {
        Some(match tree {
            Tree::And(a, b) => Filter::And(Box::new(self.build(a)?), Box::new(self.build(b)?)),
            Tree::Or(a, b) => Filter::Or(Box::new(self.build(a)?), Box::new(self.build(b)?)),
            Tree::Not(t) => Filter::Not(Box::new(self.build(t)?)),
            Tree::Leaf(leaf) => self.leaf(leaf)?,
        })
    }

    fn leaf(&mut self, leaf: &Leaf) -> Option<Filter> {
        let path = |name: &str, sub: Option<&str>| AttrPath {
            uri: None,
            name: name.into(),
            sub: sub.map(str::to_string),
        };
        let d = self.shared.choices.declared.clone();
        let user = |this: &mut Self, pick: Pick| {
            let slot = this.pick(Kind::User, pick)?;
            Some(this.model_resource(slot))
        };
        let string = |v: &Value, pointer: &str| {
            v.pointer(pointer)
                .and_then(Value::as_str)
                .filter(|s| !s.is_empty())
                .map(str::to_string)
        };
        Some(match *leaf {
            Leaf::UserName {
                pick,
                other_case: flip,
            } => {
                let name = string(&user(self, pick)?, "/userName")?;
                Filter::Compare(
                    path("userName", None),
                    CompareOp::Eq,
                    json!(if flip { self.flip_tail(&name) } else { name }),
                )
            }
            Leaf::ExternalId(pick) => Filter::Compare(
                path("externalId", None),
                CompareOp::Eq,
                json!(string(&user(self, pick)?, "/externalId")?),
            ),
            Leaf::EmailValue { pick, start, len } if d.contains(&Field::Emails) => {
                let email = string(&user(self, pick)?, "/emails/0/value")?;
                match start % 2 {
                    0 => {
                        Filter::Compare(path("emails", Some("value")), CompareOp::Eq, json!(email))
                    }
                    _ => Filter::Compare(
                        path("emails", Some("value")),
                        CompareOp::Co,
                        json!(piece(&email, start as usize, len as usize)),
                    ),
                }
            }
            Leaf::WorkEmail { pick, start, len }
                if d.contains(&Field::Emails) && self.shared.choices.email_type =>
            {
                let email = string(&user(self, pick)?, "/emails/0/value")?;
                Filter::ValuePath(
                    path("emails", None),
                    Box::new(Filter::And(
                        Box::new(Filter::Compare(
                            path("type", None),
                            CompareOp::Eq,
                            json!("work"),
                        )),
                        Box::new(Filter::Compare(
                            path("value", None),
                            CompareOp::Co,
                            json!(piece(&email, start as usize, len as usize)),
                        )),
                    )),
                )
            }
            Leaf::FamilySw { pick, len } => {
                let family = string(&user(self, pick)?, "/name/familyName")?;
                Filter::Compare(
                    path("name", Some("familyName")),
                    CompareOp::Sw,
                    json!(piece(&family, 0, len as usize)),
                )
            }
            Leaf::UserNameEw { pick, len } => {
                let name = string(&user(self, pick)?, "/userName")?;
                let n = name.chars().count();
                let keep = 1 + len as usize % n;
                Filter::Compare(
                    path("userName", None),
                    CompareOp::Ew,
                    json!(name.chars().skip(n - keep).collect::<String>()),
                )
            }
            Leaf::DisplayNameCo { pick, start, len } if d.contains(&Field::DisplayName) => {
                let display = string(&user(self, pick)?, "/displayName")?;
                Filter::Compare(
                    path("displayName", None),
                    CompareOp::Co,
                    json!(piece(&display, start as usize, len as usize)),
                )
            }
            Leaf::Wildcard { pick, start, len } => {
                let family = string(&user(self, pick)?, "/name/familyName")?;
                let mut chars: Vec<char> = piece(&family, start as usize, 2 + len as usize % 4)
                    .chars()
                    .collect();
                if chars.len() < 2 {
                    return None;
                }
                let middle = chars.len() / 2;
                chars[middle] = '.';
                let op = [CompareOp::Co, CompareOp::Sw, CompareOp::Ew][start as usize % 3];
                Filter::Compare(
                    path("name", Some("familyName")),
                    op,
                    json!(chars.into_iter().collect::<String>()),
                )
            }
            Leaf::Active(value) => {
                Filter::Compare(path("active", None), CompareOp::Eq, json!(value))
            }
            Leaf::TitlePresent if d.contains(&Field::Title) => Filter::Present(path("title", None)),
            _ => return None,
        })
    }

    /// The case's users (by name) among a list's resources, and the ids
    /// the list holds that the case never created.
    fn known(&self, resources: &[Value], target: bool) -> (BTreeMap<String, usize>, usize) {
        let mut known = BTreeMap::new();
        let mut foreign = 0;
        for (id, n) in compare::ids(resources) {
            let slot = self.slots.iter().find(|s| {
                if target {
                    s.target_id == id
                } else {
                    s.model_id == id
                }
            });
            match slot {
                Some(s) => *known.entry(s.var.clone()).or_insert(0) += n,
                None => foreign += n,
            }
        }
        (known, foreign)
    }

    /// A query on both sides; the results compared as sets, the totals
    /// exactly when the tenant held nothing else.
    async fn query(
        &mut self,
        call: Call,
        filter: Option<&Filter>,
        key: &str,
        cite: &'static str,
    ) -> Step<Option<(Answer, Vec<Value>)>> {
        let model_call = self.model_call(&call, call.path.clone());
        let (answer, model) = self.send(&call, &model_call).await?;
        let used = filter.map(|f| f.beyond_eq_and()).unwrap_or_default();
        if answer.status == 400 && !used.is_empty() && scim_type(&answer) == Some("invalidFilter") {
            // An optional part of the grammar, not offered (RFC 7644 Table 9).
            {
                let mut offered = self.shared.offered.lock().expect("offered lock");
                for feature in used {
                    offered.entry(feature.to_string()).or_insert(false);
                }
            }
            if let Some(filter) = filter {
                self.same_filter_as_value_paths(&call, filter).await?;
            }
            return Ok(None);
        }
        self.failed_statuses = vec![model.status];
        if model.status == 400 {
            return self.check(answer.status == 400, Level::Must, "RFC 7644 3.4.2.2 (invalidFilter)", "bad-filter",
                || format!("a filter an RFC-correct server refuses with 400 invalidFilter answered {}", answer.status), &call, &answer).map(|_| None);
        }
        self.check(
            answer.status == 200,
            Level::Must,
            cite,
            key,
            || format!("the query answered {}, not 200", answer.status),
            &call,
            &answer,
        )?;
        {
            let mut offered = self.shared.offered.lock().expect("offered lock");
            for feature in used {
                offered.insert(feature.to_string(), true);
            }
        }
        let (total, mut resources) = self.list_of(&call, &answer)?;
        // A server may answer fewer than all (RFC 7644 3.4.2.4, up to its
        // maxResults): the rest is read as a client would, page by page.
        let first_page = resources.len();
        if !has_paging(&call) {
            while (resources.len() as u64) < total && resources.len() < 10_000 {
                let next = call
                    .clone()
                    .query("startIndex", (resources.len() + 1).to_string());
                let model_next = self.model_call(&next, next.path.clone());
                let (page_answer, _) = self.send(&next, &model_next).await?;
                match compare::list(page_answer.body.as_ref()) {
                    Ok((_, page)) if page_answer.status == 200 && !page.is_empty() => {
                        resources.extend(page)
                    }
                    _ => break,
                }
            }
        }
        for resource in &resources {
            self.never_returned(resource, &call, &answer)?;
        }
        let (model_total, model_resources) = compare::list(model.body.as_ref()).unwrap_or_default();
        let (want, _) = self.known(&model_resources, false);
        let (got, foreign) = self.known(&resources, true);
        // Pages read while other cases write may legally skip or repeat a
        // resource (the tenant moved between them): then only what came and
        // should not have is judged.
        let moving = resources.len() > first_page && !self.shared.one_at_a_time;
        let extra: Vec<&String> = got.keys().filter(|k| !want.contains_key(*k)).collect();
        if want != got && (!moving || !extra.is_empty()) {
            let missing: Vec<&String> = want
                .keys()
                .filter(|k| !moving && !got.contains_key(*k))
                .collect();
            let twice: Vec<&String> = got
                .iter()
                .filter(|(_, n)| !moving && **n > 1)
                .map(|(k, _)| k)
                .collect();
            self.failed_expect = self.list_expect(&want, &got);
            return Err(self.diverged(Level::Must, cite, key,
                format!("the results differ from an RFC-correct server's: missing {missing:?}, not matching but returned {extra:?}, returned twice {twice:?}"), &call, &answer));
        }
        if self.shared.exact_tenant && foreign == 0 && !has_paging(&call) {
            self.failed_expect = vec![("/totalResults".into(), json!(model_total))];
            self.check(
                total == model_total,
                Level::Must,
                "RFC 7644 3.4.2 (totalResults)",
                "total",
                || format!("`totalResults` is {total}; the query matches {model_total}"),
                &call,
                &answer,
            )?;
        }
        Ok(Some((answer, resources)))
    }

    /// A refused filter with a sub-attribute of a multi-valued attribute
    /// (`emails.value co "x"`): the refusal may be of the operator on that
    /// attribute (RFC 7644 Table 9), so the plainest such filter,
    /// `emails.value eq "<an address>"`, is tried after its value-path form
    /// `emails[value eq "<an address>"]`. A server that takes the second has
    /// no ground to refuse the first (Figure 1: an attrPath may name a
    /// sub-attribute; a multi-valued attribute matches when any value does).
    async fn same_filter_as_value_paths(&mut self, call: &Call, filter: &Filter) -> Step {
        let schema = crate::scim::schema::ResourceSchema::for_kind(Kind::User);
        let Some(path) = sub_attribute_of_multi_valued(filter, &schema) else {
            return Ok(());
        };
        let Some(value) = self.some_value_of(&path) else {
            return Ok(());
        };
        let plain = Filter::Compare(path, CompareOp::Eq, json!(value));
        let as_value_path = plain.with_value_paths(&schema);
        let with = |f: &Filter| {
            let mut c = call.clone();
            c.query = vec![("filter".into(), f.to_string())];
            c
        };
        let (first, second) = (with(&as_value_path), with(&plain));
        let (accepted, _) = self
            .send(&first, &self.model_call(&first, first.path.clone()))
            .await?;
        if accepted.status != 200 {
            return Ok(());
        }
        let (answer, _) = self
            .send(&second, &self.model_call(&second, second.path.clone()))
            .await?;
        self.failed_statuses = vec![200];
        let text = as_value_path.to_string();
        self.check(answer.status == 200, Level::Must, "RFC 7644 3.4.2.2 (Figure 1: attrPath with a sub-attribute)", "filter-sub-attribute",
            || format!("refused, although the same filter written as a value path, `{text}`, was accepted"), &second, &answer)
    }

    /// A value some live user of the case has at `path` (such as one of
    /// their email addresses).
    fn some_value_of(&mut self, path: &AttrPath) -> Option<String> {
        for slot in self.live(Kind::User) {
            let resource = self.model_resource(slot);
            let values = resource
                .get(&path.name)
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            let sub = path.sub.as_deref().unwrap_or("value");
            if let Some(v) = values
                .iter()
                .find_map(|e| e.get(sub).and_then(Value::as_str))
            {
                return Some(v.to_string());
            }
        }
        None
    }

    /// The suite check that fails where the explorer saw the results
    /// differ: one user that should be there, one that should not.
    fn list_expect(
        &self,
        want: &BTreeMap<String, usize>,
        got: &BTreeMap<String, usize>,
    ) -> Vec<(String, Value)> {
        let id = |var: &String| {
            self.slots
                .iter()
                .find(|s| &s.var == var)
                .map(|s| s.target_id.clone())
                .unwrap_or_default()
        };
        let mut predicate = Map::new();
        if let Some(missing) = want.keys().find(|k| !got.contains_key(*k)) {
            predicate.insert("contains".into(), json!({"id": id(missing)}));
        }
        if let Some(extra) = got.keys().find(|k| !want.contains_key(*k)) {
            predicate.insert("not_contains".into(), json!({"id": id(extra)}));
        }
        if predicate.is_empty() {
            return Vec::new();
        }
        vec![("/Resources".to_string(), Value::Object(predicate))]
    }

    async fn filter(&mut self, tree: &Tree) -> Step {
        let Some(filter) = self.build(tree) else {
            return Ok(());
        };
        let call = Call::get("/Users").query("filter", filter.to_string());
        self.query(
            call,
            Some(&filter),
            "filter",
            "RFC 7644 3.4.2.2 (filtering)",
        )
        .await
        .map(|_| ())
    }

    async fn group_by_name(&mut self, pick: Pick, flip: bool, exclude: bool) -> Step {
        let Some(slot) = self.pick(Kind::Group, pick) else {
            return Ok(());
        };
        let resource = self.model_resource(slot);
        let Some(name) = resource.get("displayName").and_then(Value::as_str) else {
            return Ok(());
        };
        let name = if flip {
            self.flip_tail(name)
        } else {
            name.to_string()
        };
        let filter = Filter::Compare(
            AttrPath {
                uri: None,
                name: "displayName".into(),
                sub: None,
            },
            CompareOp::Eq,
            json!(name),
        );
        let mut call = Call::get("/Groups").query("filter", filter.to_string());
        if exclude {
            call = call.query("excludedAttributes", "members");
        }
        let Some((answer, resources)) = self
            .query(
                call.clone(),
                Some(&filter),
                "group-filter",
                "RFC 7644 3.4.2.2; Entra matches groups by displayName eq",
            )
            .await?
        else {
            return Ok(());
        };
        if exclude {
            let shows = resources
                .iter()
                .any(|r| crate::scim::filter::get_ci(r, "members").is_some());
            self.check(!shows, Level::Should, "RFC 7644 3.4.2.5 (excludedAttributes); Entra reads groups without members", "group-excluded",
                || "`excludedAttributes=members` was not honoured: the groups came with their members".into(), &call, &answer)?;
        }
        Ok(())
    }

    async fn bad_filter(&mut self, n: u8) -> Step {
        const BAD: [&str; 6] = [
            "userName eq",
            "userName eq \"x\" and",
            "(userName eq \"x\"",
            "userName zz \"x\"",
            "userName eq \"x",
            "and",
        ];
        let text = BAD[n as usize % BAD.len()];
        let call = Call::get("/Users").query("filter", text);
        self.query(call, None, "bad-filter", "RFC 7644 3.4.2.2 (invalidFilter)")
            .await
            .map(|_| ())
    }

    /// Every page of the users: each no longer than asked, one total
    /// throughout, every user once (RFC 7644 3.4.2.4). Only on a tenant that
    /// held nothing else: elsewhere the walk would read other people's.
    /// How a tenant-wide query keeps to the case's users: `userName sw`
    /// the case's prefix where the target takes `sw`, nothing where the
    /// tenant holds nothing else (one worker, empty at the start); None
    /// when neither holds, and the query is not sent.
    fn scope(&self) -> Option<Vec<(String, String)>> {
        let sw = self
            .shared
            .offered
            .lock()
            .expect("offered lock")
            .get("sw")
            .copied();
        if sw != Some(false) {
            let filter = Filter::Compare(
                AttrPath {
                    uri: None,
                    name: "userName".into(),
                    sub: None,
                },
                CompareOp::Sw,
                json!(self.prefix),
            );
            return Some(vec![("filter".into(), filter.to_string())]);
        }
        self.shared.exact_tenant.then(Vec::new)
    }

    /// A ListResponse's total and resources, or the deviation.
    fn list_of(&mut self, call: &Call, answer: &Answer) -> Step<(u64, Vec<Value>)> {
        compare::list(answer.body.as_ref()).map_err(|why| {
            self.failed_expect = vec![
                ("/schemas".into(), json!({"contains": compare::LIST})),
                ("/totalResults".into(), json!({"type": "integer"})),
            ];
            self.diverged(
                Level::Must,
                "RFC 7644 3.4.2 (ListResponse)",
                "list-shape",
                why,
                call,
                answer,
            )
        })
    }

    /// A scoped query refused with invalidFilter: `sw` is not offered.
    fn scope_refused(&self, call: &Call, answer: &Answer) -> bool {
        let refused = answer.status == 400
            && scim_type(answer) == Some("invalidFilter")
            && call.query.iter().any(|(k, _)| k == "filter");
        if refused {
            self.shared
                .offered
                .lock()
                .expect("offered lock")
                .insert("sw".into(), false);
        }
        refused
    }

    async fn walk(&mut self, count: usize) -> Step {
        let Some(scope) = self.scope() else {
            return Ok(());
        };
        let want: BTreeSet<String> = self
            .live(Kind::User)
            .iter()
            .map(|&s| self.slots[s].var.clone())
            .collect();
        let mut seen: BTreeMap<String, usize> = BTreeMap::new();
        let mut start = 1;
        let cite = "RFC 7644 3.4.2.4 (pagination)";
        for _ in 0..want.len() + 2 {
            let mut call = Call::get("/Users");
            call.query = scope.clone();
            let call = call
                .query("startIndex", start.to_string())
                .query("count", count.to_string());
            let (answer, _) = self.send(&call, &call.clone()).await?;
            if self.scope_refused(&call, &answer) {
                return Ok(());
            }
            self.failed_statuses = vec![200];
            self.check(
                answer.status == 200,
                Level::Must,
                cite,
                "walk",
                || format!("a page answered {}", answer.status),
                &call,
                &answer,
            )?;
            let (total, resources) = self.list_of(&call, &answer)?;
            self.failed_expect = vec![(
                "/Resources".into(),
                json!({"count": count.min(resources.len())}),
            )];
            self.check(
                resources.len() <= count,
                Level::Must,
                cite,
                "page-size",
                || {
                    format!(
                        "a page asked for {count} resources holds {}",
                        resources.len()
                    )
                },
                &call,
                &answer,
            )?;
            self.failed_expect = vec![("/totalResults".into(), json!(want.len()))];
            self.check(
                total as usize == want.len(),
                Level::Must,
                "RFC 7644 3.4.2 (totalResults)",
                "walk-total",
                || {
                    format!(
                        "`totalResults` is {total}; the tenant holds {} users",
                        want.len()
                    )
                },
                &call,
                &answer,
            )?;
            let (page, _) = self.known(&resources, true);
            for (var, n) in page {
                *seen.entry(var).or_insert(0) += n;
            }
            if resources.is_empty() || start + resources.len() > want.len() {
                break;
            }
            start += resources.len();
        }
        let compare::Walked { twice, missing, .. } = compare::walked(&seen, &want);
        if !twice.is_empty() || !missing.is_empty() {
            let call = Call::get("/Users").query("count", count.to_string());
            let answer = Answer::none(200, "");
            self.failed_expect.clear();
            return Err(self.diverged(Level::Must, cite, "walk",
                format!("walking the pages {count} at a time (startIndex 1, then after each page) with nothing changing in between, {missing:?} never came and {twice:?} came twice"), &call, &answer));
        }
        Ok(())
    }

    async fn past_end(&mut self) -> Step {
        let Some(scope) = self.scope() else {
            return Ok(());
        };
        let total = self.live(Kind::User).len();
        let mut call = Call::get("/Users");
        call.query = scope;
        let call = call
            .query("startIndex", (total + 1).to_string())
            .query("count", "10");
        let (answer, _) = self.send(&call, &call.clone()).await?;
        if self.scope_refused(&call, &answer) {
            return Ok(());
        }
        let resources = compare::list(answer.body.as_ref())
            .map(|(_, r)| r.len())
            .unwrap_or(0);
        self.failed_statuses = vec![200];
        self.failed_expect = vec![("/Resources".into(), json!({"unassigned": true}))];
        self.check(answer.status == 200 && resources == 0, Level::Must, "RFC 7644 3.4.2.4 (startIndex)", "past-end",
            || format!("a page starting after the last of {total} users answered {} with {resources} resources", answer.status), &call, &answer)
    }

    async fn project(&mut self, pick: Pick, exclude: bool, list: bool, which: u8) -> Step {
        let Some(slot) = self.pick(Kind::User, pick) else {
            return Ok(());
        };
        let choices: Vec<&str> = [
            "name",
            "active",
            "emails",
            "externalId",
            "title",
            "displayName",
        ]
        .into_iter()
        .filter(|a| match *a {
            "emails" => self.shared.choices.declared.contains(&Field::Emails),
            "title" => self.shared.choices.declared.contains(&Field::Title),
            "displayName" => self.shared.choices.declared.contains(&Field::DisplayName),
            _ => true,
        })
        .collect();
        let attribute = choices[which as usize % choices.len()];
        let param = if exclude {
            "excludedAttributes"
        } else {
            "attributes"
        };
        let call = if list {
            let name = self
                .model_resource(slot)
                .get("userName")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string();
            let filter = Filter::Compare(
                AttrPath {
                    uri: None,
                    name: "userName".into(),
                    sub: None,
                },
                CompareOp::Eq,
                json!(name),
            );
            Call::get("/Users")
                .query("filter", filter.to_string())
                .query(param, attribute)
        } else {
            Call::get(self.path(slot, false)).query(param, attribute)
        };
        let model_call = self.model_call(
            &call,
            if list {
                call.path.clone()
            } else {
                self.path(slot, true)
            },
        );
        let (answer, _) = self.send(&call, &model_call).await?;
        self.failed_statuses = vec![200];
        self.check(
            answer.status == 200,
            Level::Must,
            "RFC 7644 3.4.2.5",
            "projection",
            || format!("answered {}", answer.status),
            &call,
            &answer,
        )?;
        let resources: Vec<Value> = match (list, &answer.body) {
            (true, body) => compare::list(body.as_ref())
                .map(|(_, r)| r)
                .unwrap_or_default(),
            (false, Some(body)) => vec![body.clone()],
            (false, None) => Vec::new(),
        };
        let always = &self.shared.choices.always;
        let lower = attribute.to_ascii_lowercase();
        for resource in resources {
            let top = compare::top_level(&resource);
            let wrong: Vec<&String> = if exclude {
                top.iter()
                    .filter(|a| **a == lower && !always.contains(*a))
                    .collect()
            } else {
                top.iter()
                    .filter(|a| **a != lower && !always.contains(*a) && *a != "username")
                    .collect()
            };
            if !wrong.is_empty() {
                let base = if list { "/Resources/0" } else { "" };
                self.failed_expect = wrong
                    .iter()
                    .map(|a| (format!("{base}/{a}"), json!({"absent": true})))
                    .collect();
                let what = if exclude {
                    format!(
                        "`excludedAttributes={attribute}` was not honoured: {wrong:?} came back"
                    )
                } else {
                    format!("`attributes={attribute}` was not honoured: {wrong:?} came back too")
                };
                return Err(self.diverged(
                    Level::Must,
                    "RFC 7644 3.4.2.5 (attributes, excludedAttributes)",
                    "projection",
                    what,
                    &call,
                    &answer,
                ));
            }
        }
        Ok(())
    }

    async fn sort(&mut self, descending: bool) -> Step {
        if !self.shared.choices.sort {
            return Ok(());
        }
        let Some(scope) = self.scope() else {
            return Ok(());
        };
        let mut call = Call::get("/Users");
        call.query = scope;
        let mut call = call.query("sortBy", "userName");
        if descending {
            call = call.query("sortOrder", "descending");
        }
        let (answer, _) = self.send(&call, &call.clone()).await?;
        if self.scope_refused(&call, &answer) {
            return Ok(());
        }
        let as_sent: Vec<String> = compare::list(answer.body.as_ref())
            .map(|(_, r)| {
                r.iter()
                    .filter_map(|u| {
                        u.get("userName")
                            .and_then(Value::as_str)
                            .map(str::to_string)
                    })
                    .collect()
            })
            .unwrap_or_default();
        let names: Vec<String> = as_sent.iter().map(|n| n.to_lowercase()).collect();
        // Only pairs whose first difference is between ASCII letters or
        // digits: how other characters collate is the server's choice.
        let at = names.windows(2).position(|w| {
            let (a, b) = if descending { (&w[1], &w[0]) } else { (&w[0], &w[1]) };
            let first = a.chars().zip(b.chars()).find(|(x, y)| x != y);
            matches!(first, Some((x, y)) if x.is_ascii_alphanumeric() && y.is_ascii_alphanumeric() && x > y)
        });
        let out_of_order = at.map(|i| &names[i..i + 2]);
        // The reproducer: the name that came too early is not where it came.
        self.failed_expect = at
            .map(|i| {
                vec![(
                    format!("/Resources/{i}/userName"),
                    json!({"ne": as_sent[i]}),
                )]
            })
            .unwrap_or_default();
        self.failed_statuses = vec![200];
        self.check(
            out_of_order.is_none(),
            Level::Must,
            "RFC 7644 3.4.2.3 (sorting)",
            "sort",
            || {
                format!(
                    "sorted by userName{}, {:?} came in the wrong order",
                    if descending { " descending" } else { "" },
                    out_of_order.unwrap_or_default()
                )
            },
            &call,
            &answer,
        )
    }

    fn op_name(case: OpCase, op: &str) -> String {
        match case {
            OpCase::Lower => op.to_string(),
            OpCase::Entra => format!("{}{}", op[..1].to_uppercase(), &op[1..]),
        }
    }

    /// One PATCH operation as a client sends it, with the attribute it
    /// writes; None where the target does not declare the attribute or the
    /// user has nothing the operation could act on.
    fn patch_operation(
        &mut self,
        slot: usize,
        op: &PatchOp,
        case: OpCase,
    ) -> Option<(Value, Field)> {
        let d = self.shared.choices.declared.clone();
        let (name, path, value, field) = match op {
            PatchOp::Active {
                value,
                as_string: false,
            } => ("replace", Some("active"), json!(value), Field::Active),
            PatchOp::Active {
                value,
                as_string: true,
            } => (
                "replace",
                Some("active"),
                json!(if *value { "True" } else { "False" }),
                Field::Active,
            ),
            PatchOp::ActiveNoPath(v) => ("replace", None, json!({"active": v}), Field::Active),
            PatchOp::DisplayName(t) if d.contains(&Field::DisplayName) => {
                ("replace", Some("displayName"), json!(t), Field::DisplayName)
            }
            PatchOp::GivenName(t) => ("replace", Some("name.givenName"), json!(t), Field::Given),
            PatchOp::Title(t) if d.contains(&Field::Title) => {
                ("replace", Some("title"), json!(t), Field::Title)
            }
            PatchOp::RemoveTitle if d.contains(&Field::Title) => {
                ("remove", Some("title"), Value::Null, Field::Title)
            }
            PatchOp::EmployeeNumber(n) if d.contains(&Field::EmployeeNumber) => (
                "replace",
                Some("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber"),
                json!(n),
                Field::EmployeeNumber,
            ),
            PatchOp::WorkEmail(e) if d.contains(&Field::Emails) && self.has_work_email(slot) => (
                "replace",
                Some("emails[type eq \"work\"].value"),
                json!(e),
                Field::Emails,
            ),
            // An address the user has already: whether it is added again
            // with another type or merged is not settled by the RFC.
            PatchOp::AddEmail(e) if d.contains(&Field::Emails) && !self.has_email(slot, e) => (
                "add",
                Some("emails"),
                if self.shared.choices.email_type {
                    json!([{"value": e, "type": "other"}])
                } else {
                    json!([{"value": e}])
                },
                Field::Emails,
            ),
            PatchOp::RemoveWorkEmail if d.contains(&Field::Emails) && self.has_work_email(slot) => {
                (
                    "remove",
                    Some("emails[type eq \"work\"]"),
                    Value::Null,
                    Field::Emails,
                )
            }
            PatchOp::Manager(p) if d.contains(&Field::Manager) => match self.pick(Kind::User, *p) {
                Some(manager) => (
                    "replace",
                    Some("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager"),
                    json!(self.slots[manager].target_id),
                    Field::Manager,
                ),
                None => return None,
            },
            PatchOp::Invalid => ("replace", Some("id"), json!("not-the-id"), Field::UserName),
            _ => return None,
        };
        let mut operation = Map::new();
        operation.insert("op".into(), json!(Self::op_name(case, name)));
        if let Some(path) = path {
            operation.insert("path".into(), json!(path));
        }
        if !value.is_null() {
            operation.insert("value".into(), value);
        }
        Some((Value::Object(operation), field))
    }

    /// Entra's forms: a capitalised operation, a boolean as a string, a
    /// manager as a bare id.
    fn entra_form(ops: &[PatchOp], case: OpCase) -> bool {
        case == OpCase::Entra
            || ops.iter().any(|op| {
                matches!(
                    op,
                    PatchOp::Active {
                        as_string: true,
                        ..
                    } | PatchOp::Manager(_)
                )
            })
    }

    async fn patch(&mut self, pick: Pick, ops: &[PatchOp], case: OpCase) -> Step {
        let Some(slot) = self.pick(Kind::User, pick) else {
            return Ok(());
        };
        let mut operations = Vec::new();
        let mut touched = BTreeSet::new();
        let mut removed_work_email = false;
        for op in ops {
            // A second remove of `emails[type eq "work"]` matches nothing:
            // RFC 7644 3.5.2.2 does not say whether that fails (the model
            // says noTarget, a server may ignore it), so it is not sent.
            if matches!(op, PatchOp::RemoveWorkEmail)
                && std::mem::replace(&mut removed_work_email, true)
            {
                continue;
            }
            if let Some((operation, field)) = self.patch_operation(slot, op, case) {
                touched.insert(field);
                operations.push(operation);
            }
        }
        if operations.is_empty() {
            return Ok(());
        }
        let body = json!({"schemas": [PATCH], "Operations": operations});
        let entra = Self::entra_form(ops, case);
        self.write(slot, http::Method::PATCH, body, touched, entra)
            .await
    }

    fn has_email(&mut self, slot: usize, address: &str) -> bool {
        let resource = self.model_resource(slot);
        resource
            .get("emails")
            .and_then(Value::as_array)
            .is_some_and(|e| {
                e.iter().any(|e| {
                    e.get("value")
                        .and_then(Value::as_str)
                        .is_some_and(|v| v.to_lowercase() == address.to_lowercase())
                })
            })
    }

    fn has_work_email(&mut self, slot: usize) -> bool {
        if !self.shared.choices.email_type {
            return false;
        }
        let resource = self.model_resource(slot);
        resource
            .get("emails")
            .and_then(Value::as_array)
            .is_some_and(|e| {
                e.iter()
                    .any(|e| e.get("type").and_then(Value::as_str) == Some("work"))
            })
    }

    /// A PATCH or PUT of a resource the case confirmed as its own, then a
    /// read-back of it.
    async fn write(
        &mut self,
        slot: usize,
        method: http::Method,
        body: Value,
        touched: BTreeSet<Field>,
        entra: bool,
    ) -> Step {
        if !self.slots[slot].confirmed {
            return Ok(());
        }
        // One key per attribute written, so that one refused attribute does
        // not hide another.
        let what: Vec<&str> = touched.iter().map(|f| f.name()).collect();
        let what = if what.is_empty() {
            "members".to_string()
        } else {
            what.join("+")
        };
        let (status_key, refused_key) = (
            format!("write-status:{what}"),
            format!("write-refused:{what}"),
        );
        let before = self.model_resource(slot);
        let call = Call::with(method.clone(), self.path(slot, false), body);
        let model_call = self.model_call(&call, self.path(slot, true));
        let sent_at = Instant::now();
        let (answer, model) = self.send(&call, &model_call).await?;
        if let Some(record) = self.records.last_mut()
            && matches!(model.status, 200 | 204)
        {
            record.statuses = vec![200, 204];
        }
        self.slots[slot].fields.extend(touched);
        let cite = if method == http::Method::PATCH {
            "RFC 7644 3.5.2"
        } else {
            "RFC 7644 3.5.1"
        };
        let cite = if entra {
            "RFC 7644 3.5.2 as Entra sends it (capitalised operation names, \"True\"/\"False\", a manager as a bare id; Microsoft's SCIM guide)"
        } else {
            cite
        };
        self.failed_statuses = vec![model.status];
        match model.status {
            200 | 204 => {
                let ok =
                    answer.status == 200 || (answer.status == 204 && method == http::Method::PATCH);
                self.check(
                    ok,
                    Level::Must,
                    cite,
                    &status_key,
                    || {
                        format!(
                            "the {method} answered {}; an RFC-correct server applies it",
                            answer.status
                        )
                    },
                    &call,
                    &answer,
                )?;
                if answer.status == 200
                    && let Some(body) = answer.body.clone()
                {
                    self.compare_body(
                        slot,
                        &body,
                        model.body.as_ref(),
                        &call,
                        &answer,
                        "write-answer",
                    )?;
                }
            }
            status => {
                self.check(answer.status == status || (status == 400 && (400..500).contains(&answer.status)), Level::Must, cite, &refused_key,
                    || format!("the {method} answered {}; an RFC-correct server answers {status} and changes nothing", answer.status), &call, &answer)?;
            }
        }
        let after = self.model_resource(slot);
        if after != before {
            self.slots[slot].changed_at = Some(sent_at);
        }
        self.read_back(slot).await
    }

    /// The group's members in the model, by the target's ids.
    fn member_target_ids(&mut self, slot: usize) -> Vec<String> {
        let group = self.model_resource(slot);
        group
            .get("members")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|m| m.get("value").and_then(Value::as_str))
            .filter_map(|mid| {
                self.slots
                    .iter()
                    .find(|s| s.model_id == mid)
                    .map(|s| s.target_id.clone())
            })
            .collect()
    }

    async fn members(&mut self, pick: Pick, change: &MemberChange, case: OpCase) -> Step {
        let Some(slot) = self.pick(Kind::Group, pick) else {
            return Ok(());
        };
        let current = self.member_target_ids(slot);
        let op = |name: &str| json!(Self::op_name(case, name));
        let operation = match change {
            MemberChange::Add(picks) => {
                let values: Vec<Value> = self
                    .member_values(picks)
                    .into_iter()
                    .filter(|v| {
                        !current
                            .iter()
                            .any(|c| Some(c.as_str()) == v["value"].as_str())
                    })
                    .collect();
                if values.is_empty() {
                    return Ok(());
                }
                json!({"op": op("add"), "path": "members", "value": values})
            }
            MemberChange::RemoveOne(p) => {
                if current.is_empty() {
                    return Ok(());
                }
                let id = &current[*p as usize % current.len()];
                json!({"op": op("remove"), "path": format!("members[value eq {}]", json!(id))})
            }
            MemberChange::RemoveListed(picks) => {
                if current.is_empty() {
                    return Ok(());
                }
                let mut ids: Vec<&String> = picks
                    .iter()
                    .map(|p| &current[*p as usize % current.len()])
                    .collect();
                ids.sort();
                ids.dedup();
                let values: Vec<Value> = ids.into_iter().map(|id| json!({"value": id})).collect();
                json!({"op": op("remove"), "path": "members", "value": values})
            }
            MemberChange::Rename(name) => {
                json!({"op": op("replace"), "path": "displayName", "value": format!("{}{name}", self.prefix)})
            }
        };
        let body = json!({"schemas": [PATCH], "Operations": [operation]});
        let entra = case == OpCase::Entra || matches!(change, MemberChange::RemoveListed(_));
        self.write(slot, http::Method::PATCH, body, BTreeSet::new(), entra)
            .await?;
        Ok(())
    }

    async fn put(&mut self, pick: Pick, with: &UserSpec) -> Step {
        let Some(slot) = self.pick(Kind::User, pick) else {
            return Ok(());
        };
        let current = self.model_resource(slot);
        let name = current
            .get("userName")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        let mut body = self.user_body(with, &name);
        body["id"] = json!(self.slots[slot].target_id);
        if let Some(body) = body.as_object_mut() {
            body.remove("password");
        }
        let path = self.path(slot, false);
        self.fit(&path, &mut body);
        let fields = Self::asserted(&body);
        // Attributes the PUT leaves out: the server may clear them or keep
        // a default (RFC 7644 3.5.1), so they are no longer compared.
        self.slots[slot].fields = BTreeSet::new();
        self.write(slot, http::Method::PUT, body, fields, false)
            .await
    }

    async fn delete(&mut self, slot: usize) -> Step {
        if !self.slots[slot].confirmed {
            return Ok(());
        }
        // The groups the user is a member of, before it goes.
        let model_id = self.slots[slot].model_id.clone();
        let member_of: Vec<bool> = (0..self.slots.len())
            .map(|g| {
                self.slots[g].kind == Kind::Group
                    && self.slots[g].alive
                    && self
                        .model_resource(g)
                        .get("members")
                        .and_then(Value::as_array)
                        .is_some_and(|m| {
                            m.iter().any(|m| {
                                m.get("value").and_then(Value::as_str) == Some(model_id.as_str())
                            })
                        })
            })
            .collect();
        let call = Call {
            method: http::Method::DELETE,
            ..Call::get(self.path(slot, false))
        };
        let model_call = Call {
            method: http::Method::DELETE,
            ..Call::get(self.path(slot, true))
        };
        let (answer, _) = self.send(&call, &model_call).await?;
        self.slots[slot].alive = false;
        self.slots[slot].confirmed = false;
        self.failed_statuses = vec![204];
        self.check(
            answer.status == 204,
            Level::Must,
            "RFC 7644 3.6 (204 No Content)",
            "delete-status",
            || format!("the DELETE answered {}, not 204", answer.status),
            &call,
            &answer,
        )?;
        self.read_back(slot).await?;
        // What the user was a member of no longer lists it, and still takes
        // a change: Okta's Push Groups renames a group with every update.
        if self.slots[slot].kind == Kind::User {
            for group in self.live(Kind::Group) {
                self.read_back(group).await?;
                if member_of[group] {
                    let name = self
                        .model_resource(group)
                        .get("displayName")
                        .cloned()
                        .unwrap_or(Value::Null);
                    let body = json!({"schemas": [PATCH], "Operations": [{"op": "replace", "path": "displayName", "value": name}]});
                    self.write(group, http::Method::PATCH, body, BTreeSet::new(), false)
                        .await?;
                }
            }
        }
        Ok(())
    }

    /// Member adds to one group sent at once: every accepted add is there
    /// after (the final state is some serial order of them).
    async fn burst(&mut self, pick: Pick, members: &[Pick]) -> Step {
        let Some(slot) = self.pick(Kind::Group, pick) else {
            return Ok(());
        };
        if !self.slots[slot].confirmed {
            return Ok(());
        }
        let current: BTreeSet<String> = self.member_target_ids(slot).into_iter().collect();
        let values: Vec<Value> = self
            .member_values(members)
            .into_iter()
            .filter(|v| v["value"].as_str().is_some_and(|id| !current.contains(id)))
            .collect();
        if values.len() < 2 {
            return Ok(());
        }
        let path = self.path(slot, false);
        let calls: Vec<Call> = values.iter().map(|v| Call::with(http::Method::PATCH, &path, json!({"schemas": [PATCH], "Operations": [{"op": "add", "path": "members", "value": [v]}]}))).collect();
        let before = self.model_resource(slot);
        let sent_at = Instant::now();
        let answers = self.at_once(&calls).await?;
        let model_path = self.path(slot, true);
        for (c, answer) in calls.iter().zip(&answers) {
            self.record(c, vec![200, 204]);
            if answer.status == 200 || answer.status == 204 {
                let model_call = self.model_call(c, model_path.clone());
                call::model(&mut self.model, &model_call);
            } else {
                return Err(self.diverged(
                    Level::Must,
                    "RFC 7644 3.5.2.1 (add members)",
                    "burst-status",
                    format!(
                        "of {} member adds sent at once, one answered {}",
                        calls.len(),
                        answer.status
                    ),
                    c,
                    answer,
                ));
            }
        }
        if self.model_resource(slot) != before {
            self.slots[slot].changed_at = Some(sent_at);
        }
        self.read_back(slot).await
    }

    /// PATCHes of different attributes of one user sent at once, as two
    /// sync jobs or a client's parallel connections do. The attributes are
    /// disjoint, so every serial order of the accepted writes ends in the
    /// same state: the model's, with all of them applied.
    async fn patch_burst(&mut self, pick: Pick, ops: &[PatchOp], case: OpCase) -> Step {
        let Some(slot) = self.pick(Kind::User, pick) else {
            return Ok(());
        };
        if !self.slots[slot].confirmed {
            return Ok(());
        }
        let path = self.path(slot, false);
        let mut fields = BTreeSet::new();
        let mut calls = Vec::new();
        let mut about = Vec::new();
        for op in ops.iter().filter(|op| !matches!(op, PatchOp::Invalid)) {
            let Some((operation, field)) = self.patch_operation(slot, op, case) else {
                continue;
            };
            if fields.insert(field) {
                calls.push(Call::with(
                    http::Method::PATCH,
                    &path,
                    json!({"schemas": [PATCH], "Operations": [operation]}),
                ));
                about.push((field, Self::entra_form(std::slice::from_ref(op), case)));
            }
        }
        if calls.len() < 2 {
            return Ok(());
        }
        let before = self.model_resource(slot);
        let sent_at = Instant::now();
        let answers = self.at_once(&calls).await?;
        let model_path = self.path(slot, true);
        for ((c, answer), (field, entra)) in calls.iter().zip(&answers).zip(about) {
            let model_call = self.model_call(c, model_path.clone());
            let model = call::model(&mut self.model, &model_call);
            let accepted = matches!(model.status, 200 | 204);
            self.record(
                c,
                if accepted {
                    vec![200, 204]
                } else {
                    vec![model.status]
                },
            );
            let same = if accepted {
                matches!(answer.status, 200 | 204)
            } else {
                answer.status == model.status
            };
            // The same cause as the PATCH of this attribute alone: a refusal
            // does not depend on the others in flight.
            let cite = if entra {
                "RFC 7644 3.5.2 as Entra sends it (capitalised operation names, \"True\"/\"False\", a manager as a bare id; Microsoft's SCIM guide)"
            } else {
                "RFC 7644 3.5.2 (an accepted PATCH is applied; PATCHes of disjoint attributes sent at once)"
            };
            let key = format!("write-status:{}", field.name());
            self.failed_statuses = vec![model.status];
            self.check(same, Level::Must, cite, &key,
                || format!("of {} PATCHes of different attributes sent at once, the one of `{}` answered {} where an RFC-correct server answers {}", calls.len(), field.name(), answer.status, model.status), c, answer)?;
        }
        self.slots[slot].fields.extend(fields);
        if self.model_resource(slot) != before {
            self.slots[slot].changed_at = Some(sent_at);
        }
        self.read_back(slot).await
    }

    /// Sends the calls at once, each taken from the budget; a call that got
    /// no answer is shown as status 0 with the reason.
    async fn at_once(&mut self, calls: &[Call]) -> Step<Vec<Answer>> {
        for _ in calls {
            if !self.shared.take(self.shrinking) {
                return Err(Halt::Stopped);
            }
        }
        let answers = futures::future::join_all(
            calls
                .iter()
                .map(|c| call::target(self.client, self.shared.target, c, self.shared.stop)),
        )
        .await;
        Ok(answers.iter().map(Answer::of_result).collect())
    }

    /// Creates of one userName sent at once: exactly one is created.
    async fn race(&mut self, tail: &str, copies: u8) -> Step {
        let name = format!("{}{tail}", self.prefix);
        let body = json!({"schemas": [USER], "userName": name, "active": true, "name": {"givenName": "g", "familyName": "f"}});
        let call = Call::with(http::Method::POST, "/Users", body.clone());
        for _ in 0..copies {
            if !self.shared.take(self.shrinking) {
                return Err(Halt::Stopped);
            }
        }
        self.failed_expect.clear();
        let answers = futures::future::join_all(
            (0..copies)
                .map(|_| call::target(self.client, self.shared.target, &call, self.shared.stop)),
        )
        .await;
        let model = call::model(&mut self.model, &call);
        let model_id = call::id_of(model.body.as_ref())
            .unwrap_or_default()
            .to_string();
        let mut created = 0;
        let mut last = None;
        // Sent one after another, the first copy is created and the others
        // conflict: that is what the reproducer expects.
        for copy in 0..copies {
            self.record(&call, vec![if copy == 0 { model.status } else { 409 }]);
        }
        let first_record = self.records.len() - copies as usize;
        for answer in answers.iter().flatten() {
            let answer = Answer::of(answer);
            if answer.status == 201 {
                created += 1;
                if let Some(id) = call::id_of(answer.body.as_ref()) {
                    let var = format!("u{}", self.slots.len());
                    self.slots.push(Slot {
                        kind: Kind::User,
                        var,
                        target_id: id.to_string(),
                        // The first is the model's; any other is a duplicate.
                        model_id: if created == 1 && model.status == 201 {
                            model_id.clone()
                        } else {
                            String::new()
                        },
                        alive: created == 1 && model.status == 201,
                        confirmed: false,
                        fields: Self::asserted(&body),
                        created: None,
                        modified: None,
                        version: None,
                        stale: None,
                        changed_at: None,
                        read_at: None,
                        born: Instant::now(),
                    });
                    if created == 1 {
                        self.records[first_record].creates = Some(self.slots.len() - 1);
                    }
                }
            }
            last = Some(answer);
        }
        self.failed_statuses = vec![409];
        let answer = last.unwrap_or(Answer::none(0, "no answer"));
        let expected = usize::from(model.status == 201);
        self.check(created == expected, Level::Must, "RFC 7643 4.1.1 (userName unique); RFC 7644 3.3 (409)", "race",
            || format!("{copies} creates of one userName sent at once made {created} users, not {expected}"), &call, &answer)
    }

    async fn stale_patch(&mut self, pick: Pick) -> Step {
        if !self.shared.choices.etag {
            return Ok(());
        }
        let Some(slot) = self.pick(Kind::User, pick) else {
            return Ok(());
        };
        let Some((stale, _)) = self.slots[slot].stale.clone() else {
            return Ok(());
        };
        if !self.slots[slot].confirmed {
            return Ok(());
        }
        let mut call = Call::with(
            http::Method::PATCH,
            self.path(slot, false),
            json!({"schemas": [PATCH], "Operations": [{"op": "replace", "path": "active", "value": false}]}),
        );
        call.headers.push(("If-Match".into(), stale));
        if !self.shared.take(self.shrinking) {
            return Err(Halt::Stopped);
        }
        let answer =
            match call::target(self.client, self.shared.target, &call, self.shared.stop).await {
                Ok(a) => Answer::of(&a),
                Err(_) => return Ok(()),
            };
        self.record(&call, vec![412]);
        self.failed_statuses = vec![412];
        self.check(
            answer.status == 412,
            Level::Must,
            "RFC 7644 3.14 (If-Match)",
            "if-match",
            || {
                format!(
                    "a PATCH with an If-Match naming an older version answered {}, not 412",
                    answer.status
                )
            },
            &call,
            &answer,
        )?;
        self.slots[slot].fields.insert(Field::Active);
        self.read_back(slot).await
    }
}

/// The first path in `filter` that names a sub-attribute of a
/// multi-valued attribute.
fn sub_attribute_of_multi_valued(
    filter: &Filter,
    schema: &crate::scim::schema::ResourceSchema,
) -> Option<AttrPath> {
    match filter {
        Filter::Compare(path, ..) | Filter::Present(path) => (path.sub.is_some()
            && schema
                .attr(path.uri.as_deref(), &path.name)
                .is_some_and(|a| a.multi))
        .then(|| path.clone()),
        Filter::And(a, b) | Filter::Or(a, b) => sub_attribute_of_multi_valued(a, schema)
            .or_else(|| sub_attribute_of_multi_valued(b, schema)),
        Filter::Not(inner) => sub_attribute_of_multi_valued(inner, schema),
        Filter::ValuePath(..) => None,
    }
}

/// An element of a target's multi-valued attribute, by the sub-attributes
/// the explorer writes.
fn element_as_is(e: &Value, subs: &[&str]) -> Value {
    let mut picked = Map::new();
    for sub in subs {
        if let Some(v) = crate::scim::filter::get_ci(e, sub).filter(|v| !v.is_null()) {
            picked.insert(sub.to_string(), v.clone());
        }
    }
    Value::Object(picked)
}

fn scim_type(answer: &Answer) -> Option<&str> {
    answer.body.as_ref()?.get("scimType")?.as_str()
}

fn has_paging(call: &Call) -> bool {
    call.query
        .iter()
        .any(|(k, _)| k == "count" || k == "startIndex")
}

/// The precision a server writes a time with: 1 s without fractions.
fn precision(time: &str) -> std::time::Duration {
    let fraction = time
        .split_once('.')
        .map(|(_, f)| f.chars().take_while(char::is_ascii_digit).count())
        .unwrap_or(0);
    match fraction {
        0 => std::time::Duration::from_secs(1),
        n => std::time::Duration::from_nanos(10u64.pow(9 - n.min(9) as u32)),
    }
}

/// Whether time `a` is later than `b`; None when either is not RFC 3339.
fn later_than(a: &str, b: &str) -> Option<bool> {
    let parse = |t: &str| {
        time::OffsetDateTime::parse(t, &time::format_description::well_known::Rfc3339).ok()
    };
    Some(parse(a)? > parse(b)?)
}
