//! The scale phase: a tenant of many run-prefixed users, as an initial
//! sync leaves it, then the reads whose bugs only show past a server's
//! internal batch sizes, page sizes and caps (paged walks, totals, `eq` on
//! the far side of each common boundary, a filtered subset, a sorted walk,
//! one group holding every user). Every expectation is the model's answer
//! to the same request, compared modulo the server's page sizes.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use futures::StreamExt;
use serde_json::{Value, json};

use super::call::{self, Answer, Call};
use super::compare::{self, Level};
use super::state::{Finding, Shared};
use crate::cleanup::{Deletion, delete_if_ours};
use crate::double::service::Service;
use crate::ownership::carries_run_prefix;

const USER: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
const GROUP: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";
const PATCH: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

/// The tenant size used on a loopback target unless told otherwise: past
/// 1,000 and 1,024, the largest of the batch sizes, page sizes and count
/// caps that databases, ORMs and frameworks commonly use (20, 25, 50, 100,
/// 200, 500, 999, 1,000, 1,024).
pub const LOOPBACK_SIZE: usize = 1_050;
/// The most users created on any other target without `--yes`.
pub const REMOTE_SIZE: usize = 50;

/// The indices looked up by `eq`: both sides of each common boundary.
const BOUNDARIES: [usize; 12] = [0, 19, 20, 99, 100, 499, 500, 998, 999, 1000, 1023, 1024];

/// Given names that real directories hold and servers mishandle: letter
/// case outside ASCII, a decomposed accent, a character outside the BMP.
const GIVEN: [&str; 6] = ["Zoë", "ŁUKASZ", "Jose\u{301}", "𝒜da", "Ǆemal", "O'Brien"];

/// The sizes a finding is shrunk through, smallest first: each common
/// batch, page or cap size and the one past it.
const LADDER: [usize; 18] = [
    1, 2, 20, 21, 25, 26, 50, 51, 100, 101, 200, 201, 500, 501, 1000, 1001, 1024, 1025,
];

/// What a suite needs to show a finding again: the users created, then
/// what shows the finding.
#[derive(Debug, Clone)]
pub struct Reproduction {
    /// The create bodies, in order, under the phase's prefix.
    pub users: Vec<Value>,
    pub shown: Shown,
    /// The phase's prefix (`scimcheck-<run id>-s-`), to be templated.
    pub prefix: String,
}

/// What shows a scale finding again.
#[derive(Debug, Clone)]
pub enum Shown {
    /// The request that failed, and the model's answer to it as checks
    /// (pointer → predicate, as a suite's `expect.json` writes them).
    Request {
        call: Box<Call>,
        expect: serde_json::Map<String, Value>,
    },
    /// A walk that repeated users across pages: each page's request and how
    /// many resources it holds, in order. Kept only where the target's pages
    /// were full, so that pages at fixed `startIndex` are the pages its
    /// client read.
    Pages(Vec<(Call, usize)>),
}

/// What the phase found.
#[derive(Debug, Clone, Default)]
pub struct Scaled {
    /// What a reproducer suite is written from, where the check that failed
    /// is one request whose expectation a suite can state.
    pub reproduction: Option<Reproduction>,
    pub size: usize,
    /// The size the finding was first seen at, when a smaller tenant
    /// shows it again (`size` is then that smaller one).
    pub shrunk_from: Option<usize>,
    /// Why the finding was not shrunk, when it was not tried.
    pub not_shrunk: Option<String>,
    /// The users the target created (fewer than `size` where it refused).
    pub created: usize,
    /// What was compared, as a reader would name it.
    pub checked: Vec<String>,
    /// What could not be compared, and why.
    pub not_checked: Vec<String>,
    pub finding: Option<Finding>,
    pub requests: usize,
    pub elapsed: Duration,
    pub left: Vec<String>,
}

/// A user the phase created, on both sides.
struct Member {
    user_name: String,
    target_id: String,
    model_id: String,
}

struct Phase<'s, 'a> {
    shared: &'s Shared<'a>,
    model: Service,
    prefix: String,
    parallel: usize,
    deadline: Option<Instant>,
    requests: usize,
    checked: Vec<String>,
    not_checked: Vec<String>,
    /// Ids a list gave with the run's userName: a create may have made one
    /// whose answer named another id (a buggy or hostile server), and the
    /// cleanup removes it too.
    listed: BTreeSet<String>,
    /// What shows the finding again, where a suite can state it.
    reproducible: Option<Shown>,
}

/// Why the phase ended early: a deviation, or a stop that is not one.
enum Halt {
    Diverged(Box<Finding>),
    /// A filter the target declines with invalidFilter: its choice (RFC
    /// 7644 3.4.2.2), so the check it serves is named as not made.
    Refused(String),
    Stopped,
}

type Step<T = ()> = Result<T, Halt>;

/// A finding of a tenant of `found.size` users shrunk to the smallest size
/// of the ladder that shows the same check failing again, each tried in a
/// tenant of its own (created, read, cleaned up). Only on loopback: each
/// try is more users created, which a production tenant would see.
pub async fn shrink(
    shared: &Shared<'_>,
    found: Scaled,
    parallel: usize,
    deadline: Option<Instant>,
    loopback: bool,
) -> Scaled {
    let Some(key) = found.finding.as_ref().map(|f| f.key.clone()) else {
        return found;
    };
    if !loopback {
        return Scaled {
            not_shrunk: Some("not shrunk: each smaller tenant tried is more users created on a target that is not on loopback".into()),
            ..found
        };
    }
    let mut requests = found.requests;
    let mut left = found.left.clone();
    let started = Instant::now();
    for &size in LADDER.iter().filter(|&&s| s < found.size) {
        if shared.stop.is_set() || deadline.is_some_and(|d| Instant::now() >= d) {
            break;
        }
        let tried = scale(shared, size, parallel, deadline).await;
        requests += tried.requests;
        left.extend(tried.left.iter().cloned());
        if tried.finding.as_ref().is_some_and(|f| f.key == key) {
            return Scaled {
                shrunk_from: Some(found.size),
                requests,
                left,
                elapsed: found.elapsed + started.elapsed(),
                ..tried
            };
        }
    }
    Scaled {
        requests,
        left,
        elapsed: found.elapsed + started.elapsed(),
        ..found
    }
}

/// Creates `size` users `parallel` at a time, checks the reads over them,
/// then deletes everything it created, newest first, each only once a
/// read-back shows it is the run's.
pub async fn scale(
    shared: &Shared<'_>,
    size: usize,
    parallel: usize,
    deadline: Option<Instant>,
) -> Scaled {
    let started = Instant::now();
    let mut phase = Phase {
        shared,
        model: shared.choices.model(),
        prefix: format!("scimcheck-{}-s-", shared.run_id),
        parallel: parallel.max(1),
        deadline,
        requests: 0,
        checked: Vec::new(),
        not_checked: Vec::new(),
        listed: BTreeSet::new(),
        reproducible: None,
    };
    let mut users = Vec::new();
    let mut group = None;
    let result = phase.run(size, &mut users, &mut group).await;
    let left = phase.clean_up(&users, group.as_deref()).await;
    let reproduction = phase.reproducible.take().map(|shown| Reproduction {
        users: (0..size).map(|i| phase.user_body(i)).collect(),
        shown,
        prefix: phase.prefix.clone(),
    });
    Scaled {
        reproduction,
        size,
        shrunk_from: None,
        not_shrunk: None,
        created: users.len(),
        checked: phase.checked,
        not_checked: phase.not_checked,
        finding: match result {
            Err(Halt::Diverged(finding)) => Some(*finding),
            _ => None,
        },
        requests: phase.requests,
        elapsed: started.elapsed(),
        left,
    }
}

impl Phase<'_, '_> {
    fn over(&self) -> bool {
        self.shared.stop.is_set() || self.deadline.is_some_and(|d| Instant::now() >= d)
    }

    async fn send(&mut self, call: &Call) -> Step<Answer> {
        if self.over() {
            return Err(Halt::Stopped);
        }
        self.requests += 1;
        let shared = self.shared;
        Ok(Answer::of_result(
            &call::target(shared.client, shared.target, call, shared.stop).await,
        ))
    }

    /// Sends the calls `parallel` at a time, answers in the calls' order.
    async fn send_all(&mut self, calls: &[Call]) -> Step<Vec<Answer>> {
        if self.over() {
            return Err(Halt::Stopped);
        }
        self.requests += calls.len();
        let shared = self.shared;
        Ok(futures::stream::iter(calls)
            .map(|c| call::target(shared.client, shared.target, c, shared.stop))
            .buffered(self.parallel)
            .collect::<Vec<_>>()
            .await
            .into_iter()
            .map(|r| Answer::of_result(&r))
            .collect())
    }

    /// Keeps what a suite needs to show the finding about `call` again.
    fn reproducible(&mut self, call: &Call, expect: Value) {
        let Value::Object(expect) = expect else {
            return;
        };
        self.reproducible = Some(Shown::Request {
            call: Box::new(call.clone()),
            expect,
        });
    }

    fn diverged(
        &self,
        cite: &'static str,
        key: &str,
        what: String,
        call: &Call,
        answer: &Answer,
    ) -> Halt {
        Halt::Diverged(Box::new(Finding {
            level: Level::Must,
            cite,
            what: format!("in a tenant of the run's users: {what}"),
            call: call.line(),
            answer: format!("{} {}", answer.status, answer.text()),
            key: key.to_string(),
            cause: key.to_string(),
        }))
    }

    async fn run(
        &mut self,
        size: usize,
        users: &mut Vec<Member>,
        group: &mut Option<String>,
    ) -> Step {
        self.create_users(size, users).await?;
        let mut all = Some(self.by_prefix());
        let confirmed = match self.walk("every user", all.as_deref(), 100, users).await {
            Err(Halt::Refused(why)) if self.shared.exact_tenant => {
                self.not_checked.push(format!(
                    "{why}; the tenant held nothing else, so the walks are unfiltered"
                ));
                all = None;
                self.walk("every user", None, 100, users).await?
            }
            Err(Halt::Refused(why)) => {
                self.not_checked.push(format!("{why}: without it the run's users cannot be told from the tenant's, so walks, totals, sorting and the group were not checked"));
                let looked = self.lookups(users).await;
                return self.optional(looked);
            }
            walked => walked?,
        };
        let walked = self
            .walk("every user", all.as_deref(), size.max(1), users)
            .await
            .map(|_| ());
        self.optional(walked)?;
        let counted = self.count_only(all.as_deref(), users.len()).await;
        self.optional(counted)?;
        let looked = self.lookups(users).await;
        self.optional(looked)?;
        let inactive = match &all {
            Some(all) => format!("{all} and active eq false"),
            None => "active eq false".to_string(),
        };
        let walked = self
            .walk("the inactive users", Some(&inactive), 100, users)
            .await
            .map(|_| ());
        self.optional(walked)?;
        if self.shared.choices.sort {
            let sorted = self.sorted(all.as_deref(), users).await;
            self.optional(sorted)?;
        }
        self.group_of_all(users, &confirmed, group).await
    }

    /// A check the target's filter choices leave out is named, not failed.
    fn optional(&mut self, step: Step) -> Step {
        match step {
            Err(Halt::Refused(why)) => {
                self.not_checked.push(why);
                Ok(())
            }
            other => other,
        }
    }

    fn by_prefix(&self) -> String {
        format!("userName sw \"{}\"", self.prefix)
    }

    async fn create_users(&mut self, size: usize, users: &mut Vec<Member>) -> Step {
        let calls: Vec<Call> = (0..size)
            .map(|i| Call::with(http::Method::POST, "/Users", self.user_body(i)))
            .collect();
        // In batches, so that an interruption or a refusal stops it early.
        for (batch, calls) in calls.chunks(self.parallel * 8).enumerate() {
            let answers = self.send_all(calls).await?;
            for (i, (call, answer)) in calls.iter().zip(&answers).enumerate() {
                let index = batch * self.parallel * 8 + i;
                let model = call::model(&mut self.model, call);
                let target_id = call::id_of(answer.body.as_ref()).map(str::to_string);
                // Tracked whatever the verdict, so that the cleanup finds it.
                if let (Some(id), 200 | 201) = (&target_id, answer.status) {
                    users.push(Member {
                        user_name: self.user_name(index),
                        target_id: id.clone(),
                        model_id: call::id_of(model.body.as_ref())
                            .unwrap_or_default()
                            .to_string(),
                    });
                }
                if answer.status != model.status || target_id.is_none() {
                    return Err(self.diverged(
                        "RFC 7644 3.3 (201 Created, with the id)",
                        "scale-create",
                        format!(
                            "the create of user {} of {size} answered {}, where the model answered {}",
                            index + 1,
                            answer.status,
                            model.status
                        ),
                        call,
                        answer,
                    ));
                }
            }
        }
        self.checked
            .push(format!("{size} creates, {} at a time", self.parallel));
        Ok(())
    }

    fn user_name(&self, index: usize) -> String {
        format!("{}{index:05}", self.prefix)
    }

    fn user_body(&self, index: usize) -> Value {
        let mut body = json!({
            "schemas": [USER],
            "userName": self.user_name(index),
            "externalId": format!("{}x{index:05}", self.prefix),
            "active": !index.is_multiple_of(3),
            "name": {"givenName": GIVEN[index % GIVEN.len()], "familyName": format!("Tenant{index}")},
        });
        self.shared.choices.fit("/Users", &mut body);
        body
    }

    /// Reads every page of `filter`, `count` at a time, as a client walks
    /// them (from after the last resource it was given), and compares the
    /// totals and the resources with the model's. Returns the ids listed
    /// with a userName of the run's: the users a write may name.
    async fn walk(
        &mut self,
        what: &str,
        filter: Option<&str>,
        count: usize,
        users: &[Member],
    ) -> Step<BTreeSet<String>> {
        let want = self.model_ids(filter, None, users);
        let cite = "RFC 7644 3.4.2.4 (pagination)";
        let mut seen: BTreeMap<String, usize> = BTreeMap::new();
        // What a write may go to: ids listed with the run's userName.
        let mut ours = BTreeSet::new();
        let mut start = 1;
        let mut pages = 0;
        // Each page's request, what it held, and which page each id came on.
        let mut read_pages: Vec<(Call, usize)> = Vec::new();
        let mut full = true;
        let mut page_of: BTreeMap<String, usize> = BTreeMap::new();
        let mut across = false;
        loop {
            let call = filtered(filter)
                .query("startIndex", start.to_string())
                .query("count", count.to_string());
            let answer = self.send(&call).await?;
            pages += 1;
            let (total, resources) = self.list(&call, &answer)?;
            full &= resources.len() == count.min(want.len().saturating_sub(start - 1));
            read_pages.push((call.clone(), resources.len()));
            for r in &resources {
                let id = r.get("id").and_then(Value::as_str).unwrap_or_default();
                *seen.entry(id.to_string()).or_insert(0) += 1;
                across |= page_of
                    .insert(id.to_string(), pages)
                    .is_some_and(|p| p != pages);
                let name = r
                    .get("userName")
                    .and_then(Value::as_str)
                    .unwrap_or_default();
                if carries_run_prefix(name, &self.shared.run_id) {
                    ours.insert(id.to_string());
                    self.listed.insert(id.to_string());
                }
            }
            if total as usize != want.len() {
                self.reproducible(&call, json!({ "/totalResults": want.len() }));
                return Err(self.diverged(
                    "RFC 7644 3.4.2 (totalResults)",
                    "scale-total",
                    format!(
                        "`totalResults` is {total} on the page from {start}; {what} number {}",
                        want.len()
                    ),
                    &call,
                    &answer,
                ));
            }
            if resources.len() > count {
                self.reproducible(
                    &call,
                    json!({ format!("/Resources/{count}"): { "absent": true, "label": format!("at most {count} resources") } }),
                );
                return Err(self.diverged(
                    cite,
                    "scale-page-size",
                    format!(
                        "a page asked for {count} resources holds {}",
                        resources.len()
                    ),
                    &call,
                    &answer,
                ));
            }
            let read = start - 1 + resources.len();
            if read >= want.len() {
                break;
            }
            if resources.is_empty() || pages > want.len() + 1 {
                self.reproducible(
                    &call,
                    json!({ "/Resources/0": { "exists": true, "label": format!("{} of {} remain", want.len() - read, want.len()) } }),
                );
                return Err(self.diverged(
                    cite,
                    "scale-walk",
                    format!(
                        "{what} number {}; the page from {start} holds none, after {} were read",
                        want.len(),
                        read
                    ),
                    &call,
                    &answer,
                ));
            }
            start += resources.len();
        }
        let compare::Walked {
            twice,
            missing,
            foreign,
        } = compare::walked(&seen, &want);
        if !twice.is_empty() || !missing.is_empty() || !foreign.is_empty() {
            // Pages at fixed startIndex are the pages read only where each
            // was full; a repeat within one page cannot be told by a suite.
            if full && across {
                self.reproducible = Some(Shown::Pages(read_pages));
            }
            let call = filtered(filter).query("count", count.to_string());
            let answer = Answer::of_result(&Err(String::new()));
            return Err(self.diverged(cite, "scale-walk", format!(
                "walking {what} {count} at a time ({pages} pages, nothing changing in between): {} never came, {} came more than once, {} came that do not match (first of each: {:?}, {:?}, {:?})",
                missing.len(), twice.len(), foreign.len(), missing.first(), twice.first(), foreign.first()), &call, &answer));
        }
        self.checked.push(format!(
            "{what} ({}) walked {count} at a time in {pages} page{}: totals, none twice, none missed",
            want.len(),
            if pages == 1 { "" } else { "s" }
        ));
        Ok(ours)
    }

    /// The target ids of the users the model returns for `filter`, in the
    /// model's order (`sort_by` sorts it).
    fn model_ids(
        &mut self,
        filter: Option<&str>,
        sort_by: Option<&str>,
        users: &[Member],
    ) -> BTreeSet<String> {
        self.model_order(filter, sort_by, users)
            .into_iter()
            .collect()
    }

    fn model_order(
        &mut self,
        filter: Option<&str>,
        sort_by: Option<&str>,
        users: &[Member],
    ) -> Vec<String> {
        let to_target: BTreeMap<&str, &str> = users
            .iter()
            .map(|u| (u.model_id.as_str(), u.target_id.as_str()))
            .collect();
        let mut order = Vec::new();
        let mut start = 1;
        loop {
            let mut call = filtered(filter)
                .query("startIndex", start.to_string())
                .query("count", "1000");
            if let Some(by) = sort_by {
                call = call.query("sortBy", by);
            }
            let answer = call::model(&mut self.model, &call);
            let resources = answer
                .body
                .as_ref()
                .and_then(|b| b.get("Resources"))
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            if resources.is_empty() {
                break;
            }
            start += resources.len();
            order.extend(resources.iter().filter_map(|r| {
                let id = r.get("id").and_then(Value::as_str)?;
                to_target.get(id).map(|t| t.to_string())
            }));
        }
        order
    }

    /// A ListResponse's total and resources, or the deviation.
    fn list(&self, call: &Call, answer: &Answer) -> Step<(u64, Vec<Value>)> {
        let declined = answer.status == 400
            && answer
                .body
                .as_ref()
                .and_then(|b| b.get("scimType"))
                .and_then(Value::as_str)
                == Some("invalidFilter");
        if let (true, Some((_, filter))) =
            (declined, call.query.iter().find(|(k, _)| k == "filter"))
        {
            return Err(Halt::Refused(format!(
                "the filter `{filter}` was declined with invalidFilter (the server's choice, RFC 7644 3.4.2.2)"
            )));
        }
        if answer.status != 200 {
            return Err(self.diverged(
                "RFC 7644 3.4.2 (query)",
                "scale-query-status",
                format!("a query answered {}", answer.status),
                call,
                answer,
            ));
        }
        compare::list(answer.body.as_ref()).map_err(|why| {
            self.diverged(
                "RFC 7644 3.4.2 (ListResponse)",
                "scale-list-shape",
                why,
                call,
                answer,
            )
        })
    }

    /// `count=0`: the total alone (RFC 7644 3.4.2.4).
    async fn count_only(&mut self, filter: Option<&str>, total: usize) -> Step {
        let call = filtered(filter).query("count", "0");
        let answer = self.send(&call).await?;
        let (got, resources) = self.list(&call, &answer)?;
        if got as usize != total || !resources.is_empty() {
            self.reproducible(
                &call,
                json!({ "/totalResults": total, "/Resources/0": { "absent": true } }),
            );
            return Err(self.diverged("RFC 7644 3.4.2.4 (count 0: no resources, only totalResults)", "scale-count-zero",
                format!("`count=0` answered totalResults {got} with {} resources; the tenant holds {total} of the run's users", resources.len()), &call, &answer));
        }
        self.checked
            .push(format!("count=0 over {total} users: the total alone"));
        Ok(())
    }

    /// `userName eq` on both sides of each common boundary, one of them in
    /// other letter case (userName is caseExact false, RFC 7643 4.1.1).
    async fn lookups(&mut self, users: &[Member]) -> Step {
        let mut looked = 0;
        for (n, &index) in BOUNDARIES
            .iter()
            .chain(std::iter::once(&(users.len().saturating_sub(1))))
            .filter(|&&i| i < users.len())
            .collect::<BTreeSet<_>>()
            .iter()
            .enumerate()
        {
            let user = &users[*index];
            let name = if n % 2 == 1 {
                user.user_name.to_uppercase()
            } else {
                user.user_name.clone()
            };
            let call = Call::get("/Users").query("filter", format!("userName eq \"{name}\""));
            let answer = self.send(&call).await?;
            let (total, resources) = self.list(&call, &answer)?;
            let ids: Vec<&str> = resources
                .iter()
                .filter_map(|r| r.get("id").and_then(Value::as_str))
                .collect();
            if total != 1 || ids != [user.target_id.as_str()] {
                self.reproducible(
                    &call,
                    json!({ "/totalResults": 1, "/Resources/0/userName": { "eq_ignore_case": user.user_name } }),
                );
                return Err(self.diverged("RFC 7644 3.4.2.2 (eq; userName caseExact false, RFC 7643 4.1.1)", "scale-eq",
                    format!("`userName eq` for user {} of {} found {total} ({ids:?}), not that user ({})", index + 1, users.len(), user.target_id), &call, &answer));
            }
            looked += 1;
        }
        self.checked.push(format!(
            "userName eq at {looked} positions, both sides of each common batch size below {}, half in other letter case",
            users.len()
        ));
        Ok(())
    }

    /// A walk sorted by userName: the model's order across every page.
    async fn sorted(&mut self, filter: Option<&str>, users: &[Member]) -> Step {
        let want = self.model_order(filter, Some("userName"), users);
        let mut got = Vec::new();
        let mut start = 1;
        while got.len() < want.len() {
            let call = filtered(filter)
                .query("sortBy", "userName")
                .query("startIndex", start.to_string())
                .query("count", "100");
            let answer = self.send(&call).await?;
            let (_, resources) = self.list(&call, &answer)?;
            if resources.is_empty() {
                break;
            }
            start += resources.len();
            got.extend(
                resources
                    .iter()
                    .filter_map(|r| r.get("id").and_then(Value::as_str).map(str::to_string)),
            );
        }
        let name_of = |id: Option<&String>| {
            id.and_then(|id| users.iter().find(|u| &u.target_id == id))
                .map_or_else(|| "nothing".to_string(), |u| format!("`{}`", u.user_name))
        };
        if let Some(at) = (0..want.len()).find(|&i| got.get(i) != want.get(i)) {
            let call = filtered(filter)
                .query("sortBy", "userName")
                .query("startIndex", (at / 100 * 100 + 1).to_string())
                .query("count", "100");
            let answer = Answer::of_result(&Err(String::new()));
            return Err(self.diverged(
                "RFC 7644 3.4.2.3 (sortBy; sort.supported true)",
                "scale-sort",
                format!(
                    "sorted by userName 100 at a time, position {} holds {} where {} belongs",
                    at + 1,
                    name_of(got.get(at)),
                    name_of(want.get(at))
                ),
                &call,
                &answer,
            ));
        }
        self.checked.push(format!(
            "{} users sorted by userName across pages of 100",
            want.len()
        ));
        Ok(())
    }

    /// One group, created empty as Entra does, then given every confirmed
    /// user in PATCHes of 50 members, `parallel` at once; the group read
    /// back must hold each of them.
    async fn group_of_all(
        &mut self,
        users: &[Member],
        confirmed: &BTreeSet<String>,
        group: &mut Option<String>,
    ) -> Step {
        let mut body = json!({"schemas": [GROUP], "displayName": format!("{}group", self.prefix)});
        self.shared.choices.fit("/Groups", &mut body);
        let call = Call::with(http::Method::POST, "/Groups", body);
        let model = call::model(&mut self.model, &call);
        let answer = self.send(&call).await?;
        let id = call::id_of(answer.body.as_ref()).map(str::to_string);
        let Some(id) = id.filter(|_| answer.status == 201) else {
            return Err(self.diverged(
                "RFC 7644 3.3 (201 Created, with the id)",
                "scale-create",
                format!(
                    "the group's create answered {}, where the model answered {}",
                    answer.status, model.status
                ),
                &call,
                &answer,
            ));
        };
        *group = Some(id.clone());
        let path = format!("/Groups/{}", crate::target::encode(&id));
        // Written to only once a read-back shows it is the run's.
        let read = self.send(&Call::get(path.clone())).await?;
        let ours = read
            .body
            .as_ref()
            .and_then(|b| b.get("displayName"))
            .and_then(Value::as_str)
            .is_some_and(|n| carries_run_prefix(n, &self.shared.run_id));
        if read.status != 200 || !ours {
            self.not_checked.push(format!(
                "the group of every user: its read-back ({}) does not show it as the run's, so nothing was written to it",
                read.status
            ));
            return Ok(());
        }
        let members: Vec<&Member> = users
            .iter()
            .filter(|u| confirmed.contains(&u.target_id))
            .collect();
        let calls: Vec<Call> = members
            .chunks(50)
            .map(|chunk| {
                let value: Vec<Value> = chunk.iter().map(|u| json!({"value": u.target_id})).collect();
                Call::with(http::Method::PATCH, path.clone(), json!({"schemas": [PATCH], "Operations": [{"op": "add", "path": "members", "value": value}]}))
            })
            .collect();
        let answers = self.send_all(&calls).await?;
        for (call, answer) in calls.iter().zip(&answers) {
            if !matches!(answer.status, 200 | 204) {
                return Err(self.diverged(
                    "RFC 7644 3.5.2.1 (add members)",
                    "scale-members",
                    format!(
                        "of {} PATCHes adding 50 members each, {} at once, one answered {}",
                        calls.len(),
                        self.parallel,
                        answer.status
                    ),
                    call,
                    answer,
                ));
            }
        }
        let call = Call::get(path.clone());
        let answer = self.send(&call).await?;
        let Some(listed) = answer
            .body
            .as_ref()
            .and_then(|b| b.get("members"))
            .and_then(Value::as_array)
        else {
            self.not_checked.push(format!(
                "the group of {} members: its read-back ({}) shows no `members`, so they were not compared",
                members.len(),
                answer.status
            ));
            return Ok(());
        };
        let got: BTreeSet<&str> = listed
            .iter()
            .filter_map(|m| m.get("value").and_then(Value::as_str))
            .collect();
        let missing = members
            .iter()
            .filter(|u| !got.contains(u.target_id.as_str()))
            .count();
        if missing > 0 || listed.len() != members.len() {
            return Err(self.diverged("RFC 7644 3.5.2.1 (add members: each accepted add is applied)", "scale-members",
                format!("after {} accepted adds of {} members (50 a PATCH, {} at once), the group lists {} members and misses {missing}", calls.len(), members.len(), self.parallel, listed.len()), &call, &answer));
        }
        self.checked.push(format!(
            "one group given {} members in PATCHes of 50, {} at once: every one held",
            members.len(),
            self.parallel
        ));
        Ok(())
    }

    /// Deletes the group, then the users newest first (`parallel` at a
    /// time), then any other a list gave with the run's userName, each only
    /// once a read-back shows it is the run's. Goes on
    /// after an interruption: it is what the interruption waits for.
    async fn clean_up(&mut self, users: &[Member], group: Option<&str>) -> Vec<String> {
        let shared = self.shared;
        let created: BTreeSet<&str> = users.iter().map(|u| u.target_id.as_str()).collect();
        let listed: Vec<String> = self
            .listed
            .iter()
            .filter(|id| !created.contains(id.as_str()))
            .cloned()
            .collect();
        let targets: Vec<(&str, &str)> = group
            .map(|g| ("Groups", g))
            .into_iter()
            .chain(users.iter().rev().map(|u| ("Users", u.target_id.as_str())))
            .chain(listed.iter().map(|id| ("Users", id.as_str())))
            .collect();
        self.requests += 2 * targets.len();
        futures::stream::iter(targets)
            .map(|(endpoint, id)| async move {
                let attempt = delete_if_ours(
                    shared.client,
                    shared.target,
                    endpoint,
                    id,
                    None,
                    &shared.run_id,
                )
                .await;
                match attempt.deletion {
                    Deletion::Deleted | Deletion::Gone => None,
                    Deletion::SomeoneElses(why) | Deletion::Failed(why) => {
                        Some(format!("/{endpoint}/{id}: {why}"))
                    }
                }
            })
            .buffered(self.parallel)
            .filter_map(|left| async move { left })
            .collect()
            .await
    }
}

/// A query of the users, filtered where a filter is given.
fn filtered(filter: Option<&str>) -> Call {
    let call = Call::get("/Users");
    match filter {
        Some(filter) => call.query("filter", filter),
        None => call,
    }
}
