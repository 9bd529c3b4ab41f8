//! `scimcheck cleanup --run-id ID`: removes what a run left behind.
//!
//! Every name scimcheck creates starts with `scimcheck-<run id>`. The users
//! and groups are found by a `sw` filter on that prefix, and each one is
//! checked again here before it is deleted: a server that ignores filters
//! and answers with everyone must not cost anyone their account, and a
//! listing that pairs a run's name with another resource's id must not
//! either (each id is read back before its DELETE).

use serde_json::Value;

use crate::exec::send_with_retries;
use crate::http::{Client, Exchange, SentRequest};
use crate::ownership::Identity;
use crate::target::Target;

/// Pages of this size are read until the listing is exhausted.
const PAGE: usize = 100;
/// More than this many pages is not a run's leftovers: something is wrong.
const MAX_PAGES: usize = 100;

#[derive(Debug, Default, PartialEq, Eq)]
pub struct CleanupReport {
    /// `/Users/<id> (userName)` of each resource deleted.
    pub deleted: Vec<String>,
    /// What could not be deleted, and why.
    pub failed: Vec<String>,
    /// Resources the server returned that do not carry the prefix, or whose
    /// id holds another resource: left alone.
    pub ignored: usize,
    /// Listed, but not found at its id: nothing deleted.
    pub gone: Vec<String>,
    /// Listed with the run's name, but the id holds someone else's resource.
    pub left_alone: Vec<String>,
}

/// Run ids are scimcheck's own: letters, digits and dashes, long enough that
/// the prefix cannot match another run's names by accident.
pub fn validate_run_id(run_id: &str) -> Result<(), String> {
    let valid = run_id.len() >= 6
        && run_id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-');
    if valid {
        Ok(())
    } else {
        Err(format!(
            "`{run_id}` is not a scimcheck run id (at least 6 letters, digits or dashes, as printed after a run)"
        ))
    }
}

pub async fn cleanup_run(
    client: &Client,
    target: &Target,
    run_id: &str,
) -> Result<CleanupReport, CleanupError> {
    validate_run_id(run_id).map_err(CleanupError::RunId)?;
    let prefix = format!("scimcheck-{run_id}");
    let mut report = CleanupReport::default();
    // Groups first: deleting a user must not leave it listed as a member meanwhile.
    for (endpoint, attribute) in [("Groups", "displayName"), ("Users", "userName")] {
        let found = list(client, target, endpoint, attribute, &prefix)
            .await
            .map_err(CleanupError::Listing)?;
        for resource in found {
            let name = resource
                .get(attribute)
                .and_then(Value::as_str)
                .unwrap_or_default();
            let id = resource
                .get("id")
                .and_then(Value::as_str)
                .unwrap_or_default();
            let ours = crate::ownership::carries_run_prefix(name, run_id);
            if !ours || id.is_empty() {
                report.ignored += 1;
                continue;
            }
            // The listing is only a lead: the id itself must hold the name.
            let what = format!("/{endpoint}/{id} ({name})");
            match delete_if_ours(client, target, endpoint, id, None, run_id)
                .await
                .deletion
            {
                Deletion::Deleted => report.deleted.push(what),
                Deletion::Gone => report.gone.push(what),
                Deletion::SomeoneElses(why) => {
                    report.ignored += 1;
                    report.left_alone.push(format!("{what}: {why}"));
                }
                Deletion::Failed(why) => report.failed.push(format!("{what}: {why}")),
            }
        }
    }
    Ok(report)
}

/// Why `cleanup --run-id` could not go through the run's leftovers.
#[derive(Debug, thiserror::Error)]
pub enum CleanupError {
    /// Not a run id: a usage error, nothing sent.
    #[error("{0}")]
    RunId(String),
    /// The server would not list the leftovers (after retries).
    #[error("{0}")]
    Listing(String),
}

/// How a delete of one resource went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Deletion {
    Deleted,
    /// Not there any more: nothing left.
    Gone,
    /// The id holds a resource the run did not create: left alone.
    SomeoneElses(String),
    /// Not deleted (the read back or the DELETE failed): may be left behind.
    Failed(String),
}

/// A delete's outcome, with the requests it took.
#[derive(Debug)]
pub struct DeleteAttempt {
    pub deletion: Deletion,
    /// The read that decided (None when the id could not be put in a path).
    pub read: Option<Exchange>,
    /// The DELETE, when the read found the resource the run's.
    pub delete: Option<Exchange>,
}

/// Deletes `/<endpoint>/<id>` only once a read-back shows it is the run's:
/// it carries the run's prefix, or holds what the run sent (`sent`). Both
/// requests are tried again on a 5xx or a broken connection.
pub async fn delete_if_ours(
    client: &Client,
    target: &Target,
    endpoint: &str,
    id: &str,
    sent: Option<&Identity>,
    run_id: &str,
) -> DeleteAttempt {
    let decided = |deletion, read| DeleteAttempt {
        deletion,
        read,
        delete: None,
    };
    let path = match crate::ownership::resource_path(endpoint, id) {
        Ok(path) => path,
        Err(why) => return decided(Deletion::SomeoneElses(why), None),
    };
    let read = send_with_retries(client, SentRequest::to(target, http::Method::GET, &path)).await;
    let unreadable = |why: String| {
        Deletion::Failed(format!(
            "could not be read back to confirm it is the run's ({why})"
        ))
    };
    let verdict = match &read.response {
        Ok(r) if r.status == 404 => Some(Deletion::Gone),
        Ok(r) if r.status == 200 => match r.json() {
            Ok(current) => crate::ownership::confirm(&current, sent, run_id)
                .err()
                .map(Deletion::SomeoneElses),
            Err(e) => Some(unreadable(format!("not JSON: {e}"))),
        },
        Ok(r) => Some(unreadable(format!("answered {}", r.status))),
        Err(e) => Some(unreadable(e.to_string())),
    };
    if let Some(deletion) = verdict {
        return decided(deletion, Some(read));
    }
    let exchange =
        send_with_retries(client, SentRequest::to(target, http::Method::DELETE, &path)).await;
    let deletion = match &exchange.response {
        Ok(r) if (200..300).contains(&r.status) => Deletion::Deleted,
        Ok(r) if r.status == 404 => Deletion::Gone,
        Ok(r) => Deletion::Failed(format!("DELETE answered {}", r.status)),
        Err(e) => Deletion::Failed(format!("DELETE: {e}")),
    };
    DeleteAttempt {
        deletion,
        read: Some(read),
        delete: Some(exchange),
    }
}

/// Every resource the server lists for `attribute sw prefix`.
async fn list(
    client: &Client,
    target: &Target,
    endpoint: &str,
    attribute: &str,
    prefix: &str,
) -> Result<Vec<Value>, String> {
    let filter = format!("{attribute} sw \"{prefix}\"");
    let mut found = Vec::new();
    let mut start = 1;
    for _ in 0..MAX_PAGES {
        let url = format!(
            "{}/{endpoint}?filter={}&startIndex={start}&count={PAGE}",
            target.base_url,
            crate::target::encode(&filter)
        );
        let exchange = send_with_retries(
            client,
            SentRequest {
                method: http::Method::GET,
                url,
                headers: target.request_headers(),
                body: None,
            },
        )
        .await;
        let response = exchange
            .response
            .map_err(|e| format!("GET /{endpoint}: {e}"))?;
        if response.status != 200 {
            return Err(format!(
                "GET /{endpoint}?filter={filter} answered {}",
                response.status
            ));
        }
        let body = response
            .json()
            .map_err(|e| format!("GET /{endpoint}: not JSON: {e}"))?;
        let page: Vec<Value> = body
            .get("Resources")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        let total = body
            .get("totalResults")
            .and_then(Value::as_u64)
            .unwrap_or(0) as usize;
        let got = page.len();
        found.extend(page);
        // Stop on an empty page too: a server that ignores startIndex must not loop us forever.
        if got == 0 || found.len() >= total {
            return Ok(found);
        }
        start += got;
    }
    Err(format!(
        "GET /{endpoint} listed more than {} resources for `{filter}`; stopping rather than guessing",
        PAGE * MAX_PAGES
    ))
}
