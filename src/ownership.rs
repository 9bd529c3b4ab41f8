//! Is the resource at a URL still the one this run created?
//!
//! A cleanup deletes by id. On a server that hands a deleted id to the next
//! new resource (RFC 7643 3.1 forbids it: an id is "non-reassignable"), a
//! DELETE by id could remove a real person's account. So before deleting,
//! the run reads the resource and deletes it only when it carries the run's
//! name prefix, or is the very resource the run saw created (same
//! `meta.created`, or the same name).
//!
//! The same rule guards every write of a run, not only its cleanups: a
//! [`Ledger`] remembers what the run created (the names it *sent*, never what
//! the server answered, which may be anyone's) and which ids it has since
//! confirmed by reading them back. No PUT, PATCH or DELETE, and no bulk
//! operation, reaches an id the ledger has not confirmed. Ids go into paths
//! through [`path_segment`] only, so an id can never name another resource.

use std::collections::{HashMap, HashSet};

use percent_encoding::{AsciiSet, CONTROLS, percent_decode_str, utf8_percent_encode};
use serde_json::Value;

/// The attributes that name a resource.
const NAME_ATTRIBUTES: [&str; 3] = ["userName", "displayName", "externalId"];

/// Whether `name` is one of run `run_id`'s: `scimcheck-<run id>-...`, in any
/// letter case (the duplicate checks send names in upper case too). A longer
/// run id sharing the prefix is another run's.
pub fn carries_run_prefix(name: &str, run_id: &str) -> bool {
    let prefix = format!("scimcheck-{run_id}");
    name.get(..prefix.len())
        .is_some_and(|head| head.eq_ignore_ascii_case(&prefix))
        && name[prefix.len()..].starts_with('-')
}

/// What the run saw of a resource when it was created.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Identity {
    pub names: Vec<String>,
    pub created: Option<String>,
}

impl Identity {
    /// The identity in a resource body; None when it names nothing (a
    /// ListResponse, an empty body).
    pub fn of(body: &Value) -> Option<Identity> {
        let identity = Identity {
            names: names(body),
            created: created(body),
        };
        (!identity.names.is_empty() || identity.created.is_some()).then_some(identity)
    }
}

fn names(body: &Value) -> Vec<String> {
    NAME_ATTRIBUTES
        .iter()
        .filter_map(|a| body.get(a).and_then(Value::as_str))
        .map(str::to_string)
        .collect()
}

fn created(body: &Value) -> Option<String> {
    body.pointer("/meta/created")
        .and_then(Value::as_str)
        .map(str::to_string)
}

/// Ok when `current` (the resource as the server answers it now) is the
/// run's to delete; otherwise why it is not, naming what is there now.
pub fn confirm(current: &Value, created: Option<&Identity>, run_id: &str) -> Result<(), String> {
    let now = names(current);
    if now.iter().any(|n| carries_run_prefix(n, run_id)) {
        return Ok(());
    }
    // A resource without any name is nobody's account (userName and a
    // group's displayName are required): when the run's was nameless too,
    // and no creation time tells them apart, it is the run's.
    let nameless_then = created.is_none_or(|c| c.names.is_empty());
    let times = (
        created.and_then(|c| c.created.clone()),
        self::created(current),
    );
    if now.is_empty() && nameless_then && !matches!(times, (Some(_), Some(_))) {
        return Ok(());
    }
    if let Some(seen) = created {
        match (&seen.created, self::created(current)) {
            // Creation time never changes: the strongest evidence either way.
            (Some(then), Some(now_created)) => {
                if *then == now_created {
                    return Ok(());
                }
            }
            _ => {
                // userName and displayName compare case-insensitively
                // (RFC 7643 4.1.1): a server may return them re-cased.
                if now
                    .iter()
                    .any(|n| seen.names.iter().any(|s| s.eq_ignore_ascii_case(n)))
                {
                    return Ok(());
                }
            }
        }
    }
    let what = now
        .first()
        .map(|n| format!("`{n}`"))
        .unwrap_or_else(|| "a resource without a name".into());
    let then = created
        .and_then(|c| c.names.first())
        .map(|n| format!(" (`{n}`)"))
        .unwrap_or_default();
    Err(format!(
        "holds {what} now, not the resource this run created{then}: left alone; an id must never be given to another resource (RFC 7643 3.1)"
    ))
}

/// What RFC 3986 lets stand in a path segment unencoded (`pchar`, less `%`,
/// so that an id holding `%2F` stays that id); everything else is encoded.
const SEGMENT: &AsciiSet = &CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'#')
    .add(b'%')
    .add(b'/')
    .add(b'<')
    .add(b'>')
    .add(b'?')
    .add(b'[')
    .add(b'\\')
    .add(b']')
    .add(b'^')
    .add(b'`')
    .add(b'{')
    .add(b'|')
    .add(b'}');

/// `id` as one path segment: percent-encoded so that it cannot climb out of
/// its collection or add a query; `.`, `..` and the empty id are refused,
/// since URL parsers resolve them (encoded or not) into another path.
pub fn path_segment(id: &str) -> Result<String, String> {
    if matches!(id, "" | "." | "..") {
        return Err(format!(
            "the id `{id}` cannot be one path segment: it would name another path"
        ));
    }
    Ok(utf8_percent_encode(id, SEGMENT).to_string())
}

/// The path of resource `id` under `endpoint` (`Users`, `Groups`, ...): the
/// one way the run builds a resource URL from an id.
pub fn resource_path(endpoint: &str, id: &str) -> Result<String, String> {
    Ok(format!("/{endpoint}/{}", path_segment(id)?))
}

/// A resource a request would change: its endpoint and its (decoded) id.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Resource {
    pub endpoint: String,
    pub id: String,
}

impl Resource {
    /// Its path under the base URL.
    pub fn path(&self) -> Result<String, String> {
        resource_path(&self.endpoint, &self.id)
    }

    /// How a report names it.
    pub fn describe(&self) -> String {
        format!("/{}/{}", self.endpoint, self.id)
    }
}

/// The segments of `path` (relative to the base URL, query left out),
/// decoded; None when one of them cannot be decoded to text.
fn segments(path: &str) -> Option<Vec<String>> {
    let path = path.split(['?', '#']).next().unwrap_or_default();
    path.split('/')
        .filter(|s| !s.is_empty())
        .map(|s| {
            percent_decode_str(s)
                .decode_utf8()
                .ok()
                .map(|c| c.into_owned())
        })
        .collect()
}

/// Whether a request with this method only reads.
fn reads(method: &http::Method) -> bool {
    matches!(
        *method,
        http::Method::GET | http::Method::HEAD | http::Method::OPTIONS
    )
}

/// The endpoint a POST to `path` creates a resource in (`/Users` gives
/// `Users`); None when the request creates nothing (another method, a
/// search, a bulk request, a resource's path).
pub fn created_in(method: &http::Method, path: &str) -> Option<String> {
    if *method != http::Method::POST {
        return None;
    }
    match segments(path)?.as_slice() {
        [endpoint] if !endpoint.starts_with('.') && endpoint != "Bulk" => Some(endpoint.clone()),
        _ => None,
    }
}

/// The resources a request would change: the one its path names (any method
/// but a read, and a POST that is neither a create nor a search), and for a
/// bulk request each operation's but a create's. `Err` says why the request
/// may not be sent at all (a path that cannot name one resource).
pub fn written_by(
    method: &http::Method,
    path: &str,
    body: Option<&[u8]>,
) -> Result<Vec<Resource>, String> {
    if reads(method) {
        return Ok(Vec::new());
    }
    let Some(segments) = segments(path) else {
        return Err(format!("`{path}` is not a path of UTF-8 segments"));
    };
    if segments.iter().any(|s| s == "." || s == "..") {
        return Err(format!("`{path}` climbs out of its collection"));
    }
    match segments.as_slice() {
        [] => Err("a write to the base URL itself names no resource".into()),
        [bulk] if bulk == "Bulk" && *method == http::Method::POST => bulk_writes(body),
        [_] if *method == http::Method::POST => Ok(Vec::new()),
        [_, search] if search == ".search" && *method == http::Method::POST => Ok(Vec::new()),
        [endpoint, id, ..] => Ok(vec![Resource {
            endpoint: endpoint.clone(),
            id: id.clone(),
        }]),
        // PUT, PATCH or DELETE of a whole collection, or of /Me (the
        // credential's own account): nothing the run created.
        [endpoint] => Ok(vec![Resource {
            endpoint: endpoint.clone(),
            id: String::new(),
        }]),
    }
}

/// The resources a BulkRequest's operations would change (RFC 7644 3.7).
fn bulk_writes(body: Option<&[u8]>) -> Result<Vec<Resource>, String> {
    let body: Value = body
        .and_then(|b| serde_json::from_slice(b).ok())
        .unwrap_or(Value::Null);
    let mut out = Vec::new();
    for op in body
        .get("Operations")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let method = op
            .get("method")
            .and_then(Value::as_str)
            .and_then(|m| http::Method::from_bytes(m.to_ascii_uppercase().as_bytes()).ok())
            .unwrap_or(http::Method::DELETE);
        let path = op.get("path").and_then(Value::as_str).unwrap_or_default();
        if path.contains("bulkId:") {
            continue; // A resource created by this very request.
        }
        out.extend(written_by(&method, path, None)?);
    }
    Ok(out)
}

/// The names a create request sent, as the identity the run will look for
/// when it reads the resource back.
pub fn sent_identity(body: Option<&[u8]>) -> Identity {
    let body = body
        .and_then(|b| serde_json::from_slice::<Value>(b).ok())
        .unwrap_or(Value::Null);
    Identity {
        names: names(&body),
        created: None,
    }
}

/// What one run (one scenario's run id) created and has confirmed as its own.
#[derive(Debug, Default)]
pub struct Ledger {
    run_id: String,
    created: HashMap<Resource, Identity>,
    confirmed: HashSet<Resource>,
}

impl Ledger {
    pub fn new(run_id: &str) -> Ledger {
        Ledger {
            run_id: run_id.to_string(),
            ..Ledger::default()
        }
    }

    /// A create answered with this id: what the run sent names it.
    pub fn created(&mut self, resource: Resource, sent: Identity) {
        self.confirmed.remove(&resource);
        self.created.insert(resource, sent);
    }

    pub fn is_confirmed(&self, resource: &Resource) -> bool {
        self.confirmed.contains(resource)
    }

    /// Decides from the resource as read back now (`current`) whether it is
    /// the run's; remembers it when it is.
    pub fn confirm(&mut self, resource: &Resource, current: &Value) -> Result<(), String> {
        let seen = self.created.get(resource);
        confirm(current, seen, &self.run_id)?;
        self.confirmed.insert(resource.clone());
        Ok(())
    }

    /// The run deleted it: the id may name someone else's resource later.
    pub fn deleted(&mut self, resource: &Resource) {
        self.confirmed.remove(resource);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn ids_are_encoded_as_one_segment_and_climbing_ids_refused() {
        assert_eq!(
            resource_path("Users", "x/../../Groups/7").unwrap(),
            "/Users/x%2F..%2F..%2FGroups%2F7"
        );
        assert_eq!(resource_path("Users", "a@b:c+d").unwrap(), "/Users/a@b:c+d");
        assert_eq!(resource_path("Users", "50%").unwrap(), "/Users/50%25");
        assert!(resource_path("Users", "..").is_err());
        assert!(resource_path("Users", "").is_err());
    }

    #[test]
    fn writes_are_found_in_paths_and_bulk_operations() {
        let patch = http::Method::PATCH;
        assert_eq!(
            written_by(&patch, "/Users/a%2Fb?x=1", None).unwrap(),
            vec![Resource {
                endpoint: "Users".into(),
                id: "a/b".into()
            }]
        );
        assert!(
            written_by(&http::Method::GET, "/Users/1", None)
                .unwrap()
                .is_empty()
        );
        assert!(
            written_by(&http::Method::POST, "/Users", None)
                .unwrap()
                .is_empty()
        );
        assert!(
            written_by(&http::Method::POST, "/Users/.search", None)
                .unwrap()
                .is_empty()
        );
        assert!(written_by(&patch, "/Users/../Groups/1", None).is_err());
        // PATCH /Me changes the credential's own account: never the run's.
        assert_eq!(written_by(&patch, "/Me", None).unwrap()[0].id, "");
        let bulk = json!({"Operations": [
            {"method": "POST", "path": "/Users", "bulkId": "u"},
            {"method": "PATCH", "path": "/Users/7"},
            {"method": "delete", "path": "/Groups/9"},
            {"method": "PATCH", "path": "/Groups/bulkId:g"}
        ]})
        .to_string();
        let found = written_by(&http::Method::POST, "/Bulk", Some(bulk.as_bytes())).unwrap();
        assert_eq!(
            found.iter().map(Resource::describe).collect::<Vec<_>>(),
            ["/Users/7", "/Groups/9"]
        );
        assert_eq!(
            created_in(&http::Method::POST, "/Users").as_deref(),
            Some("Users")
        );
        assert_eq!(created_in(&http::Method::POST, "/Bulk"), None);
        assert_eq!(created_in(&http::Method::POST, "/Users/.search"), None);
    }

    #[test]
    fn the_ledger_trusts_what_the_run_sent_not_what_the_server_answered() {
        let mut ledger = Ledger::new("r1-0");
        let user = Resource {
            endpoint: "Users".into(),
            id: "42".into(),
        };
        // The run created `ada@example.com`; the server answered id 42, which
        // holds someone else.
        ledger.created(
            user.clone(),
            sent_identity(Some(br#"{"userName":"ada@example.com"}"#)),
        );
        let why = ledger
            .confirm(
                &user,
                &json!({"id": "42", "userName": "jane@customer.example"}),
            )
            .unwrap_err();
        assert!(why.contains("jane@customer.example"), "{why}");
        assert!(!ledger.is_confirmed(&user));
        // Read back as the run's (re-cased, as caseExact false allows).
        ledger
            .confirm(&user, &json!({"id": "42", "userName": "ADA@example.com"}))
            .unwrap();
        assert!(ledger.is_confirmed(&user));
        ledger.deleted(&user);
        assert!(!ledger.is_confirmed(&user));
    }

    #[test]
    fn the_run_prefix_is_matched_whole_and_in_any_case() {
        assert!(carries_run_prefix(
            "scimcheck-abc123-0-ada@example.com",
            "abc123-0"
        ));
        assert!(carries_run_prefix(
            "SCIMCHECK-ABC123-0-ADA@EXAMPLE.COM",
            "abc123-0"
        ));
        assert!(!carries_run_prefix("scimcheck-abc123-01-x", "abc123-0"));
        assert!(!carries_run_prefix("scimcheck-abc123-0", "abc123-0"));
        assert!(!carries_run_prefix("ada@example.com", "abc123-0"));
    }

    #[test]
    fn a_resource_carrying_the_run_prefix_is_the_runs() {
        let now = json!({"userName": "scimcheck-r1-0-x@example.com"});
        assert_eq!(confirm(&now, None, "r1-0"), Ok(()));
    }

    #[test]
    fn a_reassigned_id_is_left_alone() {
        let seen = Identity::of(&json!({
            "userName": "scimcheck-r1-0-x@example.com",
            "meta": {"created": "2026-12-02T10:00:00Z"}
        }));
        let now = json!({
            "userName": "jane@customer.example",
            "meta": {"created": "2026-12-02T10:00:05Z"}
        });
        let why = confirm(&now, seen.as_ref(), "r1-0").unwrap_err();
        assert!(why.contains("`jane@customer.example`"), "{why}");
        assert!(why.contains("RFC 7643 3.1"), "{why}");
    }

    #[test]
    fn a_custom_suites_resource_is_known_by_its_creation_time_or_name() {
        let seen = Identity::of(&json!({
            "userName": "ada@example.com",
            "meta": {"created": "2026-12-02T10:00:00Z"}
        }));
        // Renamed by the suite, still created at the same time: the run's.
        let renamed = json!({
            "userName": "augusta@example.com",
            "meta": {"created": "2026-12-02T10:00:00Z"}
        });
        assert_eq!(confirm(&renamed, seen.as_ref(), "r1-0"), Ok(()));
        // Without meta.created, the name decides.
        let seen = Identity::of(&json!({"userName": "ada@example.com"}));
        assert_eq!(
            confirm(
                &json!({"userName": "ada@example.com"}),
                seen.as_ref(),
                "r1-0"
            ),
            Ok(())
        );
        assert!(
            confirm(
                &json!({"userName": "bob@example.com"}),
                seen.as_ref(),
                "r1-0"
            )
            .is_err()
        );
    }

    #[test]
    fn a_nameless_resource_the_run_made_nameless_is_the_runs() {
        let seen = Identity::of(&json!({"id": "7", "meta": {"created": "2026-12-02T10:00:00Z"}}));
        let now = json!({"id": "7", "meta": {"created": "2026-12-02T10:00:00Z"}});
        assert_eq!(confirm(&now, seen.as_ref(), "r1-0"), Ok(()));
        assert_eq!(confirm(&json!({"id": "7"}), None, "r1-0"), Ok(()));
        // Created at another time: another resource, nameless or not.
        let later = json!({"id": "7", "meta": {"created": "2026-12-02T11:00:00Z"}});
        assert!(confirm(&later, seen.as_ref(), "r1-0").is_err());
        // A named resource where the run's was nameless: someone else's.
        assert!(confirm(&json!({"userName": "jane@customer.example"}), None, "r1-0").is_err());
    }

    #[test]
    fn a_body_without_names_has_no_identity() {
        assert_eq!(Identity::of(&json!({"Resources": []})), None);
    }
}
