//! `scimcheck cleanup --run-id ID`: removes what a run left behind.
//!
//! Every name scimcheck creates starts with `scimcheck-<run id>`. The users
//! and groups are found by a `sw` filter on that prefix, and each one is
//! checked again here before it is deleted: a server that ignores filters
//! and answers with everyone must not cost anyone their account.

use serde_json::Value;

use crate::http::{Client, SentRequest};
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
    /// Resources the server returned that do not carry the prefix: left alone.
    pub ignored: usize,
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
) -> Result<CleanupReport, String> {
    validate_run_id(run_id)?;
    let prefix = format!("scimcheck-{run_id}");
    let mut report = CleanupReport::default();
    // Groups first: deleting a user must not leave it listed as a member meanwhile.
    for (endpoint, attribute) in [("Groups", "displayName"), ("Users", "userName")] {
        let found = list(client, target, endpoint, attribute, &prefix).await?;
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
            let path = format!("/{endpoint}/{id}");
            let exchange = client
                .send(SentRequest::to(target, http::Method::DELETE, &path))
                .await;
            match exchange.response {
                Ok(r) if (200..300).contains(&r.status) || r.status == 404 => {
                    report.deleted.push(format!("{path} ({name})"));
                }
                Ok(r) => report
                    .failed
                    .push(format!("{path} ({name}): answered {}", r.status)),
                Err(e) => report.failed.push(format!("{path} ({name}): {e}")),
            }
        }
    }
    Ok(report)
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
            crate::exec::encode(&filter)
        );
        let exchange = client
            .send(SentRequest {
                method: http::Method::GET,
                url,
                headers: target.request_headers(),
                body: None,
            })
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
