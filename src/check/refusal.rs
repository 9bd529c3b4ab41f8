//! What to fix when the server refused a request: read from its answer,
//! not guessed by the step's author. A SCIM error names its cause
//! (`scimType`, RFC 7644 3.12) and the request names what it sent, so a
//! refusal of Entra's `emails[type eq "work"].value` with noTarget is told
//! to create the element the filter describes, not to "accept capitalized
//! ops". Answers without a scimType this knows keep the step's own fix.

use serde_json::Value;

use crate::http::Exchange;

/// The fix for the cause a refusal names, and whether it pins the cause to
/// a part of the request (a path, a filter) and so outranks the step's own
/// fix; a broader cause (a value refused) only stands in where the step has
/// none, since its author knows better which value matters.
pub struct CauseFix {
    pub text: String,
    pub pinned: bool,
}

/// The fix for the cause the refusal names, if it names one.
pub fn fix_for(exchange: &Exchange) -> Option<CauseFix> {
    let response = exchange.response.as_ref().ok()?;
    if response.status < 400 {
        return None;
    }
    let answer: Value = serde_json::from_slice(&response.body).ok()?;
    let scim_type = answer.get("scimType").and_then(Value::as_str)?;
    let detail = answer
        .get("detail")
        .and_then(Value::as_str)
        .map(|d| format!(" (\"{}\")", crate::check::shorten(d, 160)))
        .unwrap_or_default();
    let request: Option<Value> = exchange
        .request
        .body
        .as_deref()
        .and_then(|b| serde_json::from_slice(b).ok());
    let paths = patch_paths(request.as_ref());
    let listed = |paths: &[String]| {
        paths
            .iter()
            .map(|p| format!("`{p}`"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let text = match scim_type {
        "noTarget" => {
            let filtered: Vec<String> = paths.iter().filter(|p| p.contains('[')).cloned().collect();
            if filtered.is_empty() {
                format!(
                    "The app found nothing at the path it was sent{detail}: an `add` or `replace` of an attribute the resource lacks sets it (RFC 7644 3.5.2.1, 3.5.2.3); only a `remove` or a value filter that matches nothing is noTarget."
                )
            } else {
                format!(
                    "The app found no value matching {}{detail}. Entra sends `Add` through such a path to create the value when the user has none, and `Replace` once it has sent one: on Add, create the element the filter describes (RFC 7644 3.5.2.1); keep the `type` of the values you store, so that a later Replace still matches (RFC 7644 3.5.2.3 makes a Replace that matches nothing 400 noTarget).",
                    listed(&filtered)
                )
            }
        }
        "invalidPath" => format!(
            "The app does not take the path{} {}{detail}: accept attribute paths as RFC 7644 3.10 writes them: sub-attributes (`name.givenName`), value filters (`emails[type eq \"work\"].value`) and attributes qualified by their schema URN.",
            if paths.len() == 1 { "" } else { "s" },
            listed(&paths)
        ),
        "invalidValue" => format!(
            "The app refused a value{detail}: accept each value as this request sends it (Entra, without the aadOptscim062020 flag, sends booleans as the strings \"True\"/\"False\"), and refuse only values the schema rules out."
        ),
        "mutability" => format!(
            "The app refused to change an attribute it holds read-only or immutable{detail}: if the attribute is writable, accept the change; if it is not, say so in /Schemas and accept a write of its current value (RFC 7644 3.5.2)."
        ),
        "uniqueness" => format!(
            "The app says a value is already taken{detail}. The values this run sends are its own: check whether the app compares them in another letter case, or still holds a resource the run deleted."
        ),
        "invalidSyntax" => format!(
            "The app could not read the request{detail}: accept the JSON as sent, with its content type, in the shape RFC 7644 3.3 and 3.5.2 give."
        ),
        "invalidFilter" => format!(
            "The app refused the filter{detail}: support the comparisons this client sends (`eq` on the attributes it matches on, `and`), in any letter case of the operator (RFC 7644 3.4.2.2)."
        ),
        "tooMany" => format!(
            "The app refuses the query as too broad{detail}: answer it in pages (RFC 7644 3.4.2.4) rather than refuse it."
        ),
        _ => return None,
    };
    Some(CauseFix {
        text,
        // A path or a filter of the request: the cause is pinned to it.
        pinned: matches!(scim_type, "noTarget" | "invalidPath" | "invalidFilter"),
    })
}

/// The `path` of each PATCH operation, in order.
fn patch_paths(request: Option<&Value>) -> Vec<String> {
    request
        .and_then(|r| r.get("Operations"))
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|op| op.get("path").and_then(Value::as_str).map(str::to_string))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::{ReceivedResponse, SentRequest};

    fn exchange(sent: Value, status: u16, answer: Value) -> Exchange {
        Exchange {
            request: SentRequest {
                method: http::Method::PATCH,
                url: "http://127.0.0.1:1/Users/1".into(),
                headers: Vec::new(),
                body: Some(sent.to_string().into_bytes()),
            },
            response: Ok(ReceivedResponse {
                status,
                headers: Vec::new(),
                body: answer.to_string().into_bytes(),
                dropped: 0,
            }),
            elapsed: std::time::Duration::ZERO,
            started_at: std::time::SystemTime::UNIX_EPOCH,
            retries: Vec::new(),
        }
    }

    fn patch(path: &str) -> Value {
        serde_json::json!({"Operations": [{"op": "Replace", "path": path, "value": "x"}]})
    }

    fn error(scim_type: &str, detail: &str) -> Value {
        serde_json::json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:Error"], "status": "400", "scimType": scim_type, "detail": detail})
    }

    #[test]
    fn a_refusal_is_told_by_the_cause_it_names() {
        let fix = fix_for(&exchange(
            patch("emails[type eq \"work\"].value"),
            400,
            error("noTarget", "no value of 'emails' matches the path filter"),
        ))
        .unwrap();
        assert!(fix.pinned);
        let fix = fix.text;
        assert!(fix.starts_with("The app found no value matching `emails[type eq \"work\"].value` (\"no value of 'emails' matches the path filter\")"), "{fix}");
        assert!(
            fix.contains("on Add, create the element the filter describes"),
            "{fix}"
        );
        assert!(!fix.contains("capitalized"), "{fix}");
        let fix = fix_for(&exchange(
            patch("name.givenName"),
            400,
            error("invalidPath", "unknown path"),
        ))
        .unwrap()
        .text;
        let value = fix_for(&exchange(patch("a"), 400, error("invalidValue", "no"))).unwrap();
        assert!(!value.pinned && value.text.starts_with("The app refused a value (\"no\")"));
        assert!(
            fix.starts_with("The app does not take the path `name.givenName` (\"unknown path\")"),
            "{fix}"
        );
    }

    #[test]
    fn an_answer_that_names_no_known_cause_keeps_the_steps_fix() {
        assert!(
            fix_for(&exchange(
                patch("a"),
                400,
                serde_json::json!({"detail": "no"})
            ))
            .is_none()
        );
        assert!(fix_for(&exchange(patch("a"), 400, error("somethingElse", "x"))).is_none());
        assert!(fix_for(&exchange(patch("a"), 200, error("noTarget", "x"))).is_none());
    }
}
