//! A scale finding as an ordinary suite file: the tenant's users created
//! one step each (each cleaned up), then the request that failed, with
//! what the model answered it as checks, or, for a walk that repeated users
//! across pages, its pages, none holding an id read on an earlier one. `scimcheck run --no-builtin
//! --suites DIR` replays it, its failing check pointing at `file:line:col`.

use serde_json::{Map, Value, json};

use super::call::Call;
use super::scale::{Reproduction, Scaled, Shown};
use super::state::Finding;

/// The most ids a walk's reproducer lists as already read, over all its
/// pages: past it, the file would be too large to read.
const MOST_LISTED: usize = 20_000;

/// The suite text, or None where the finding has no reproduction (a repeat
/// within one page, or a walk too long to write out).
pub fn suite(scaled: &Scaled, seed: u64) -> Option<String> {
    let finding = scaled.finding.as_ref()?;
    let reproduction = scaled.reproduction.as_ref()?;
    let template = |value: &Value| templated(value, reproduction);
    let mut steps: Vec<Value> = Vec::with_capacity(reproduction.users.len() + 1);
    let mut creates = Vec::with_capacity(reproduction.users.len());
    for (i, body) in reproduction.users.iter().enumerate() {
        let id = format!("user_{i:05}");
        let var = format!("u{i:05}_id");
        steps.push(json!({
            "id": id,
            "needs": [],
            "setup": true,
            "request": { "method": "POST", "path": "/Users", "json": template(body) },
            "expect": { "status": 201 },
            "capture": { var.clone(): "/id" },
            "cleanup": { "method": "DELETE", "path": format!("/Users/{{{{ {var} }}}}") },
        }));
        creates.push(json!(id));
    }
    match &reproduction.shown {
        Shown::Request { call, expect } => {
            steps.push(reproduce_step(reproduction, call, expect, finding, creates))
        }
        Shown::Pages(pages) => steps.extend(walk_steps(reproduction, pages, finding, creates)?),
    }
    let suite = json!({
        "name": format!("Explorer reproducer: {} in a tenant of {} users", finding.key, scaled.size),
        "description": format!(
            "{}. Found by scimcheck explore's scale phase (seed {seed}){}.",
            finding.what,
            match scaled.shrunk_from {
                Some(from) => format!(" with {from} users, shrunk to {}", scaled.size),
                None => String::new(),
            }
        ),
        "tags": ["explore", "scale"],
        "scenarios": [{ "id": "reproduce", "steps": steps }],
    });
    Some(crate::generate::write::to_yaml(&suite))
}

/// The request that failed, with the model's answer as its checks.
fn reproduce_step(
    reproduction: &Reproduction,
    call: &Call,
    expect: &Map<String, Value>,
    finding: &Finding,
    creates: Vec<Value>,
) -> Value {
    let json = templated(&Value::Object(expect.clone()), reproduction);
    json!({
        "id": "reproduce",
        "needs": creates,
        "spec": [finding.cite],
        "description": finding.what,
        "request": request(call, reproduction),
        "expect": { "status": 200, "json": json },
        "impact": IMPACT,
        "fix": format!("Answer this request over {} users as RFC 7644 3.4.2 asks.", reproduction.users.len()),
    })
}

const IMPACT: &str = "A read over a tenant of this size does not return what the tenant holds: an initial sync or a lookup goes wrong past it.";

/// A walk's pages at the startIndex the client read them: each holds as
/// many resources as the model's page, and none already read on an
/// earlier page (its ids are captured page by page).
fn walk_steps(
    reproduction: &Reproduction,
    pages: &[(Call, usize)],
    finding: &Finding,
    creates: Vec<Value>,
) -> Option<Vec<Value>> {
    let listed: usize = pages
        .iter()
        .scan(0, |read, (_, held)| {
            let before = *read;
            *read += held;
            Some(before)
        })
        .sum();
    if listed > MOST_LISTED {
        return None;
    }
    let mut steps = Vec::new();
    let mut read: Vec<Value> = Vec::new();
    let mut needs = creates;
    for (page, (call, held)) in pages.iter().enumerate() {
        let id = format!("page_{}", page + 1);
        let mut resources = json!({ "count": held });
        if !read.is_empty() {
            resources["none_of"] = Value::Array(read.clone());
        }
        let capture: Map<String, Value> = (0..*held)
            .map(|i| {
                let var = format!("p{}_{i}", page + 1);
                read.push(json!({ "id": format!("{{{{ {var} }}}}") }));
                (var, json!(format!("/Resources/{i}/id")))
            })
            .collect();
        steps.push(json!({
            "id": id,
            "needs": needs,
            "spec": [finding.cite],
            "description": format!("page {} of the walk: {}", page + 1, finding.what),
            "request": request(call, reproduction),
            "expect": { "status": 200, "json": { "/Resources": resources } },
            "capture": capture,
            "impact": IMPACT,
            "fix": "Page by startIndex over one stable order (RFC 7644 3.4.2.4): each resource once, on one page.",
        }));
        needs = vec![json!(id)];
    }
    Some(steps)
}

/// A call as a suite's request, the prefix templated.
fn request(call: &Call, reproduction: &Reproduction) -> Value {
    let query: Map<String, Value> = call
        .query
        .iter()
        .map(|(k, v)| (k.clone(), templated(&json!(v), reproduction)))
        .collect();
    json!({ "method": call.method.as_str(), "path": call.path, "query": query })
}

/// The phase's prefix as the run's placeholder, in whatever letter case a
/// value carries it (a lookup in other case keeps its other case around
/// the run id).
fn templated(value: &Value, reproduction: &Reproduction) -> Value {
    match value {
        Value::String(s) => json!(replace_prefix(s, &reproduction.prefix)),
        Value::Array(items) => {
            Value::Array(items.iter().map(|v| templated(v, reproduction)).collect())
        }
        Value::Object(o) => Value::Object(
            o.iter()
                .map(|(k, v)| {
                    (
                        replace_prefix(k, &reproduction.prefix),
                        templated(v, reproduction),
                    )
                })
                .collect(),
        ),
        other => other.clone(),
    }
}

/// `scimcheck-<run id>-s-` → `scimcheck-{{ run_id }}-s-`, and the same in
/// upper case (`SCIMCHECK-<RUN ID>-S-` → `SCIMCHECK-{{ run_id }}-S-`).
fn replace_prefix(text: &str, prefix: &str) -> String {
    let Some((head, rest)) = prefix.split_once('-') else {
        return text.to_string();
    };
    let Some((run_id, tail)) = rest.split_once('-') else {
        return text.to_string();
    };
    let lower = format!("{head}-{{{{ run_id }}}}-{tail}");
    let upper = format!(
        "{}-{{{{ run_id }}}}-{}",
        head.to_uppercase(),
        tail.to_uppercase()
    );
    text.replace(prefix, &lower)
        .replace(&prefix.to_uppercase(), &upper)
        .replace(
            &format!("{}-{run_id}-", head),
            &format!("{head}-{{{{ run_id }}}}-"),
        )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_prefix_becomes_the_run_placeholder_in_either_case() {
        let prefix = "scimcheck-ab12cd-s-";
        assert_eq!(
            replace_prefix("userName sw \"scimcheck-ab12cd-s-\"", prefix),
            "userName sw \"scimcheck-{{ run_id }}-s-\""
        );
        assert_eq!(
            replace_prefix("userName eq \"SCIMCHECK-AB12CD-S-00019\"", prefix),
            "userName eq \"SCIMCHECK-{{ run_id }}-S-00019\""
        );
        assert_eq!(replace_prefix("Zoë", prefix), "Zoë");
    }
}
